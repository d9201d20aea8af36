"""Blind synthetic county generator for testing envtrace on worlds it never saw.

Independent of envtrace: its own geometry, wind climates, Gaussian-plume physics,
emission schedules, complaint behaviour, texts and decoys. Everything is drawn from
``numpy.random.default_rng(seed)``, so a seed fully determines a world.

Usage::

    python benchmarks/blind_world.py --seed 3 --out /tmp/w3          # truth -> /tmp/w3_truth

Dataset folder (DESIGN.md contract): complaints.csv, enterprises.csv, wind.csv, alarms.csv.
Truth folder (outside the dataset folder): complaints_truth.csv, sources.csv,
enterprises_truth.csv, world.json.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------
# Static vocabularies
# --------------------------------------------------------------------------------------

# kind -> (industry codes, name suffixes, smell words, category, alarm pollutants,
#          effective stack height range (m), initial spread (m), placement)
KINDS: dict[str, dict] = {
    "chem": dict(codes=["C2614 有机化学原料制造", "C2613 无机盐制造", "C2631 化学农药制造"],
                 suffix=["化工有限公司", "化学科技有限公司", "精细化工有限公司"],
                 smell=["刺鼻的化工味", "一股化学品的味道", "溶剂味", "像塑料烧焦的味道", "刺激性气味"],
                 cat="odour", pol=["VOCs"], h=(15, 45), s0=30, place="park"),
    "fert": dict(codes=["C2625 有机肥料及微生物肥料制造"],
                 suffix=["生物肥业有限公司", "有机肥厂", "生物科技有限公司"],
                 smell=["发酵的臭味", "粪便臭味", "一股酸臭味", "沤肥的味道"],
                 cat="odour", pol=["NH3", "H2S"], h=(0, 6), s0=80, place="rural"),
    "pig": dict(codes=["A0313 猪的饲养", "A0311 牛的饲养", "A0321 鸡的饲养"],
                suffix=["养殖场", "生猪养殖专业合作社", "畜牧有限公司"],
                smell=["猪粪味", "养殖场的臭味", "猪圈的臭味", "氨气味很冲"],
                cat="odour", pol=["NH3", "H2S"], h=(0, 4), s0=120, place="rural"),
    "slaughter": dict(codes=["C1351 牲畜屠宰", "C1352 禽类屠宰"],
                      suffix=["肉类加工有限公司", "屠宰场", "食品有限公司"],
                      smell=["腥臭味", "血腥味", "动物内脏的腥臭"],
                      cat="odour", pol=["H2S", "COD"], h=(2, 10), s0=40, place="edge"),
    "pulp": dict(codes=["C2211 木竹浆制造", "C2221 机制纸及纸板制造"],
                 suffix=["纸业有限公司", "浆纸有限公司"],
                 smell=["臭鸡蛋味", "硫磺味", "一股烂白菜味"],
                 cat="odour", pol=["H2S", "COD"], h=(20, 60), s0=40, place="rural"),
    "cement": dict(codes=["C3011 水泥制造", "C3021 水泥制品制造", "C3031 粘土砖瓦及建筑砌块制造"],
                   suffix=["水泥有限公司", "建材有限公司", "新型建材厂"],
                   smell=["粉尘", "灰尘很大", "窗台上落了一层灰", "空气里都是灰"],
                   cat="dust", pol=["颗粒物"], h=(5, 40), s0=60, place="rural"),
    "sewage": dict(codes=["D4620 污水处理及其再生利用"],
                   suffix=["污水处理厂", "水务有限公司", "水质净化厂"],
                   smell=["臭水沟的味道", "臭鸡蛋味", "污水的臭味"],
                   cat="odour", pol=["H2S", "NH3", "COD"], h=(0, 5), s0=100, place="edge"),
    "landfill": dict(codes=["N7820 环境卫生管理"],
                     suffix=["垃圾中转站", "环卫服务有限公司", "生活垃圾填埋场"],
                     smell=["垃圾臭味", "腐烂的臭味", "垃圾场的味道"],
                     cat="odour", pol=["H2S", "NH3"], h=(0, 4), s0=150, place="rural"),
    "restaurant": dict(codes=["H6210 正餐服务", "H6291 小吃服务"],
                       suffix=["酒楼", "饭店", "烧烤店", "餐饮有限公司"],
                       smell=["油烟味", "炒菜的油烟", "烧烤油烟"],
                       cat="odour", pol=["油烟"], h=(3, 10), s0=10, place="town"),
    "paint": dict(codes=["C2641 涂料制造", "C2110 木质家具制造"],
                  suffix=["涂料有限公司", "化工涂料有限公司", "家具有限公司"],
                  smell=["油漆味", "刺鼻的油漆味", "香蕉水味"],
                  cat="odour", pol=["VOCs"], h=(8, 25), s0=30, place="park"),
    "pharma": dict(codes=["C27 医药制造业", "C2710 化学药品原料药制造", "C2730 中药饮片加工"],
                   suffix=["制药有限公司", "药业有限公司", "生物制药有限公司"],
                   smell=["药味", "中药味", "发酵的药味", "刺鼻的药水味"],
                   cat="odour", pol=["VOCs"], h=(15, 40), s0=30, place="park"),
}
SOURCE_KINDS = list(KINDS)

# Innocent non-odour industries (never smell in this world).
PLAIN_INDUSTRIES = [
    ("C3311 金属结构制造", "金属结构有限公司"), ("C3982 电子电路制造", "电子科技有限公司"),
    ("C1810 机织服装制造", "服装厂"), ("C3484 机械零部件加工", "机械有限公司"),
    ("F5211 百货零售", "商贸有限公司"), ("G5430 道路货物运输", "物流有限公司"),
    ("C1431 速冻食品制造", "食品有限公司"), ("C3831 电线电缆制造", "电缆有限公司"),
    ("C3130 钢压延加工", "钢材加工有限公司"), ("C4417 生物质能发电", "热电有限公司"),
    ("C2438 珠宝首饰及有关物品制造", "工艺品有限公司"), ("C3360 金属表面处理及热处理加工", "五金有限公司"),
    ("E4710 住宅房屋建筑", "建设工程有限公司"), ("C2927 日用塑料制品制造", "塑业有限公司"),
]

# Odour-/dust-capable prefixes for the naive baseline (our own judgement, by category).
ODOUR_CAPABLE = ("A03", "C13", "C14", "C15", "C19", "C22", "C25", "C26", "C27", "C29",
                 "D46", "N78", "H62", "C2110")
DUST_CAPABLE = ("C30", "C31", "C32", "B", "E47", "C4417")

SYL = list("东西南北石马王李张柳桥河山集岭湾塘埠店黄白青龙凤泉清安丰兴华新平宁福寿康")
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = list("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰建国志红文斌梓轩子涵浩然雨欣")

EFFECTS = ["开窗都不敢", "熏得头疼", "孩子晚上睡不着觉", "已经持续好几天了", "多次反映了还没解决",
           "晾的衣服都有味", "喉咙不舒服", "老人咳嗽得厉害", "根本没法在外面待", "希望尽快处理"]
GENERIC_SMELL = ["异味", "难闻的气味", "臭味", "怪味", "一股说不清的味道"]

CHANNEL_NAMES = ["12369", "12345", "wechat", "web"]

CRS_SPELL = {"wgs84": ["wgs84", "WGS-84", "WGS84"], "gcj02": ["gcj02", "GCJ-02", "火星坐标"],
             "bd09": ["bd09", "BD-09", "百度坐标"]}

CN16 = ["北风", "东北偏北风", "东北风", "东北偏东风", "东风", "东南偏东风", "东南风", "东南偏南风",
        "南风", "西南偏南风", "西南风", "西南偏西风", "西风", "西北偏西风", "西北风", "西北偏北风"]

BEAUFORT = np.array([0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2, 20.8, 24.5, 28.5, 32.7])

# County centres (lon, lat): Shandong, Henan, Jiangsu, Hebei, Anhui, Hubei, Sichuan, Shaanxi.
CENTRES = [(117.0, 35.3), (113.6, 34.6), (119.8, 32.3), (115.5, 38.2), (117.3, 32.9),
           (113.2, 30.9), (104.5, 30.2), (108.7, 34.4)]

# Dispersion: own coefficients per stability class 1 (very unstable) .. 6 (very stable).
AY = np.array([0.45, 0.33, 0.24, 0.16, 0.12, 0.085])
AZ = np.array([0.35, 0.22, 0.15, 0.10, 0.07, 0.05])
BZ = np.array([1.05, 0.97, 0.90, 0.83, 0.76, 0.70])
ZMIX = np.array([1800.0, 1400.0, 1000.0, 700.0, 300.0, 150.0])


# --------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------

@dataclass
class Frame:
    lon0: float
    lat0: float

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon = self.lon0 + np.asarray(x) / (111_320.0 * math.cos(math.radians(self.lat0)))
        lat = self.lat0 + np.asarray(y) / 110_574.0
        return lon, lat


def _tlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, ee = 6378245.0, 0.00669342162296594323
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    rad = np.radians(lat)
    magic = 1 - ee * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((a * (1 - ee)) / (magic * sq) * np.pi)
    dlon = dlon * 180.0 / (a / sq * np.cos(rad) * np.pi)
    return lon + dlon, lat + dlat


def gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xpi = np.pi * 3000.0 / 180.0
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * xpi)
    th = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * xpi)
    return z * np.cos(th) + 0.0065, z * np.sin(th) + 0.006


# --------------------------------------------------------------------------------------
# World pieces
# --------------------------------------------------------------------------------------

@dataclass
class Settlement:
    name: str
    x: float
    y: float
    radius: float
    weight: float
    town: str
    is_town: bool


@dataclass
class Source:
    eid: str
    kind: str
    code: str
    name: str
    x: float
    y: float
    h: float
    s0: float
    behaviour: str
    r_eff: float
    q: float = 0.0
    closed_on: pd.Timestamp | None = None
    monitored: bool = False
    schedule: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _place_name(rng: np.random.Generator, n: int = 2) -> str:
    return "".join(rng.choice(SYL, size=n, replace=False))


def _person(rng: np.random.Generator) -> str:
    return str(rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN, size=int(rng.integers(1, 3))))


def _phone(rng: np.random.Generator) -> str:
    head = str(rng.choice(["13", "15", "17", "18", "19"]))
    return head + "".join(str(d) for d in rng.integers(0, 10, size=9))


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * math.sqrt(1 - phi * phi), size=n)
    out = np.empty(n)
    acc = rng.normal(0.0, sd)
    for i in range(n):
        acc = phi * acc + e[i]
        out[i] = acc
    return out


def make_wind(rng: np.random.Generator, climate: str, times: pd.DatetimeIndex
              ) -> tuple[np.ndarray, np.ndarray]:
    """True hourly wind (direction FROM, deg; speed m/s) at the main station."""
    n = len(times)
    hour = times.hour.to_numpy()
    doy = times.day_of_year.to_numpy()
    day_idx = ((times - times[0]).days).to_numpy()
    ndays = int(day_idx.max()) + 1
    diurnal = 1.0 + 0.35 * np.sin((hour - 9) / 24.0 * 2 * np.pi)
    if climate == "prevailing":
        th0 = rng.uniform(0, 360)
        daily_rev = rng.random(ndays) < rng.uniform(0.05, 0.2)
        base = np.where(daily_rev[day_idx], th0 + 180 + rng.normal(0, 30), th0)
        d = base + _ar1(rng, n, 0.97, rng.uniform(20, 40))
        s = rng.weibull(2.0, n) * rng.uniform(2.5, 4.5) * diurnal
    elif climate == "monsoon":
        thw = rng.uniform(0, 360)
        ths = thw + 180 + rng.normal(0, 25)
        summer = 0.5 * (1 - np.cos(2 * np.pi * (np.arange(ndays) + times[0].day_of_year - 20) / 365))
        w = np.clip((summer - 0.3) / 0.4, 0, 1)
        regime = np.zeros(ndays, dtype=bool)
        for i in range(1, ndays):  # persistent daily regime, prob drifts with season
            stay = rng.random() < 0.8
            regime[i] = regime[i - 1] if stay else rng.random() < w[i]
        d = np.where(regime[day_idx], ths, thw) + _ar1(rng, n, 0.95, rng.uniform(25, 45))
        s = rng.weibull(1.8, n) * rng.uniform(2.0, 3.5) * diurnal
    elif climate == "valley":
        axis = rng.uniform(0, 360)
        up_start, up_end = int(rng.integers(8, 11)), int(rng.integers(17, 20))
        day = (hour >= up_start) & (hour < up_end)
        night = (hour >= up_end + 2) | (hour < up_start - 2)
        d = np.where(day, axis, axis + 180.0)
        trans = ~(day | night)
        d = np.where(trans, rng.uniform(0, 360, n), d)
        synoptic_day = rng.random(ndays) < rng.uniform(0.1, 0.3)
        syn_dir = rng.uniform(0, 360, ndays)
        d = np.where(synoptic_day[day_idx], syn_dir[day_idx], d) + rng.normal(0, 18, n)
        s = np.where(day, rng.weibull(2.2, n) * 3.0, rng.weibull(1.6, n) * 1.3)
        s = np.where(synoptic_day[day_idx], rng.weibull(2.0, n) * 4.5, s)
    elif climate == "calm":
        d = np.cumsum(rng.normal(0, rng.uniform(20, 40), n)) + rng.uniform(0, 360)
        s = rng.weibull(1.3, n) * rng.uniform(0.9, 1.5) * diurnal
    else:  # synoptic: fronts rotate the wind every few days
        d = np.zeros(n)
        t = 0
        ang = rng.uniform(0, 360)
        while t < n:
            length = int(rng.integers(60, 150))
            rot = rng.choice([-1, 1]) * rng.uniform(180, 360)
            d[t:t + length] = ang + np.linspace(0, rot, length)[: n - t]
            ang += rot
            t += length
        d = d + _ar1(rng, n, 0.9, 15)
        s = (rng.weibull(2.0, n) * 3.0 + 1.5 * np.abs(np.sin(np.pi * d / 360))) * diurnal
    season = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 60) / 365)
    s = np.clip(s * season, 0.0, 18.0)
    return np.mod(d, 360.0), s


def stability(rng: np.random.Generator, times: pd.DatetimeIndex, speed: np.ndarray) -> np.ndarray:
    """Own scheme: class 0..5 (1..6) from insolation proxy, cloud and wind speed."""
    hour = times.hour.to_numpy() + 0.5
    doy = times.day_of_year.to_numpy()
    daylen = 12 + 2.5 * np.sin(2 * np.pi * (doy - 80) / 365)
    sr, ss = 12 - daylen / 2, 12 + daylen / 2
    days = (times - times[0]).days.to_numpy()
    cloud = rng.uniform(0.0, 1.0, days.max() + 1)[days]
    sun = np.clip(np.sin(np.pi * (hour - sr) / (ss - sr)), 0, None) * (0.7 + 0.3 * (daylen - 9.5) / 5)
    ins = sun * (1 - 0.7 * cloud)
    cls = np.full(len(hour), 3)
    dayt = sun > 0
    cls = np.where(dayt & (speed < 2) & (ins > 0.55), 0, cls)
    cls = np.where(dayt & (speed < 2) & (ins <= 0.55) & (ins > 0.25), 1, cls)
    cls = np.where(dayt & (speed >= 2) & (speed < 4) & (ins > 0.55), 1, cls)
    cls = np.where(dayt & (speed >= 2) & (speed < 4) & (ins <= 0.55) & (ins > 0.25), 2, cls)
    cls = np.where(dayt & (speed >= 4) & (speed < 6) & (ins > 0.5), 2, cls)
    night = ~dayt
    clear = cloud < 0.5
    cls = np.where(night & (speed < 1.5) & clear, 5, cls)
    cls = np.where(night & (speed < 1.5) & ~clear, 4, cls)
    cls = np.where(night & (speed >= 1.5) & (speed < 3) & clear, 4, cls)
    return cls


def plume(dx: np.ndarray, dy: np.ndarray, wdir: np.ndarray, u: np.ndarray, cls: np.ndarray,
          h: float, s0: float, dust: bool) -> np.ndarray:
    """Ground-level concentration per unit emission. dx, dy: (1, R) receptor offsets (m);
    wdir, u, cls: (T, 1). Returns (T, R)."""
    th = np.radians(wdir)
    ex, ey = -np.sin(th), -np.cos(th)  # unit vector the wind blows TOWARDS
    x = dx * ex + dy * ey
    y = dx * ey - dy * ex
    xp = np.maximum(x, 1.0)
    ue = np.maximum(u, 0.5)
    sig_th = 0.06 + 0.55 * np.exp(-ue / 0.7)  # meander (rad), large in light winds
    sy = np.sqrt((AY[cls] * xp ** 0.88 + s0) ** 2 + (xp * sig_th) ** 2)
    sz = np.minimum(AZ[cls] * xp ** BZ[cls] + 0.5 * s0 + 1.0, ZMIX[cls])
    c = 1.0 / (np.pi * ue * sy * sz) * np.exp(-0.5 * (y / sy) ** 2) * np.exp(-0.5 * (h / sz) ** 2)
    if dust:
        c = c * np.exp(-xp / 2500.0)
    # light-wind pooling: a weak isotropic term around the source
    r2 = dx ** 2 + dy ** 2
    pool = np.where(ue < 1.0, 1.0 / (np.pi * 0.6 * (r2 + 150.0 ** 2) * 15.0), 0.0)
    return np.where(x > 1.0, c, 0.0) + pool * np.exp(-0.5 * (h / 30.0) ** 2)


def schedule(rng: np.random.Generator, behaviour: str, times: pd.DatetimeIndex) -> np.ndarray:
    n = len(times)
    hour = times.hour.to_numpy()
    dow = times.day_of_week.to_numpy()
    doy = times.day_of_year.to_numpy()
    days = (times - times[0]).days.to_numpy()
    nd = days.max() + 1
    slow = np.exp(_ar1(rng, n, 0.98, 0.3))
    if behaviour == "continuous":
        q = slow
    elif behaviour == "night":
        start, end = int(rng.integers(20, 24)), int(rng.integers(3, 7))
        on_night = (rng.random(nd) < rng.uniform(0.5, 0.95))[days]
        q = (((hour >= start) | (hour < end)) & on_night) * slow * 1.5
    elif behaviour == "day_shift":
        sat = rng.random() < 0.5
        work = (dow < 5) | ((dow == 5) & sat)
        q = (work & (hour >= 8) & (hour < 18)) * slow + 0.03
    elif behaviour == "episodes":
        q = np.zeros(n)
        rate = rng.uniform(0.8, 4.0) / (7 * 24)
        t = 0
        while True:
            t += int(rng.exponential(1 / rate))
            if t >= n:
                break
            dur = int(rng.integers(2, 15))
            q[t:t + dur] = rng.uniform(1.0, 3.0)
    elif behaviour == "seasonal":
        phase = 200 if rng.random() < 0.75 else 20  # summer heat (or winter heating) peak
        q = (0.1 + 1.6 * np.clip(np.cos(2 * np.pi * (doy - phase) / 365), 0, None) ** 2) * slow
    elif behaviour == "weekly_batch":
        dd = rng.choice(7, size=2, replace=False)
        s = int(rng.integers(9, 16))
        q = (np.isin(dow, dd) & (hour >= s) & (hour < s + int(rng.integers(4, 9)))) * 2.0 * slow
    elif behaviour == "meals":
        q = (((hour >= 11) & (hour < 13)) | ((hour >= 17) & (hour < 21))) * slow
    else:  # campaign: a few production campaigns of weeks
        q = np.zeros(n)
        for _ in range(int(rng.integers(1, 4))):
            s = int(rng.integers(0, n))
            q[s:s + int(rng.integers(14, 45)) * 24] = 1.0
        q = q * slow
    return np.asarray(q, dtype=float)


BEHAVIOURS = ["continuous", "night", "day_shift", "episodes", "seasonal", "weekly_batch", "campaign"]


def _time_words(h: int) -> str:
    if h < 5:
        return "半夜"
    if h < 8:
        return "一大早"
    if h < 11:
        return "上午"
    if h < 14:
        return "中午"
    if h < 17:
        return "下午"
    if h < 19:
        return "傍晚"
    return "晚上"


def odour_text(rng: np.random.Generator, smell: str, place: str, hour: int, blame: str | None) -> str:
    tw = _time_words(hour)
    eff = str(rng.choice(EFFECTS))
    k = int(rng.integers(0, 6))
    if k == 0:
        t = f"{place}附近{tw}有{smell}，{eff}"
    elif k == 1:
        t = f"我是{place}的居民，{tw}空气里一股{smell}，{eff}。"
    elif k == 2:
        t = f"来电人反映，{place}{tw}总能闻到{smell}，{eff}。"
    elif k == 3:
        t = f"{tw}{smell}特别大，{eff}，请环保部门来查一下"
    elif k == 4:
        t = f"小区附近有{smell}，{tw}特别严重"
    else:
        t = f"{place}这边{smell}很重，{eff}"
    if blame:
        t += f"，怀疑是{blame}排放的"
    return t


BG_TEXTS = {
    "noise": ["楼下广场舞噪音太大，晚上十点还在跳", "工地夜间施工噪音扰民，睡不着觉",
              "附近KTV声音太吵", "大货车半夜鸣笛，噪音很大", "隔壁加工厂机器轰鸣声很响"],
    "dust": ["工地扬尘很大，没有洒水", "渣土车撒漏，路上全是灰", "附近工地灰尘很大，窗户都不敢开"],
    "smoke": ["有人在烧秸秆，烟味很呛", "地里烧麦茬，到处是烟", "田里焚烧秸秆，呛得喘不过气"],
    "water": ["河里的水发黑发臭", "小河沟里有死鱼，水是绿的", "有人往河里排污水"],
    "waste": ["路边有人倾倒建筑垃圾", "村口垃圾好几天没人清运了", "有人乱倒生活垃圾"],
    "odour": ["家里附近总有一股怪味，不知道从哪来的", "晚上出门闻到臭味", "空气里有异味",
              "最近总闻到难闻的气味", "小区里有臭味，下水道反味"],
}


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------

def generate(seed: int, out_dir: Path, truth_dir: Path | None = None) -> dict:
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir else out_dir.with_name(out_dir.name + "_truth")
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)

    # ---- settings varied by seed
    lon0, lat0 = CENTRES[int(rng.integers(len(CENTRES)))]
    frame = Frame(lon0 + rng.uniform(-0.3, 0.3), lat0 + rng.uniform(-0.3, 0.3))
    size = rng.uniform(30_000, 50_000)
    half = size / 2
    climate = str(rng.choice(["prevailing", "monsoon", "valley", "calm", "synoptic"]))
    months = int(rng.choice([6, 12]))
    start = pd.Timestamp(year=int(rng.choice([2024, 2025])), month=int(rng.integers(1, 13)), day=1)
    times = pd.date_range(start, start + pd.DateOffset(months=months), freq="h", inclusive="left")
    n_hours = len(times)
    n_src = int(rng.integers(3, 9))
    n_innocent = int(rng.integers(50, 301))
    target_src = int(rng.integers(400, 2200))
    bg_frac = rng.uniform(0.1, 0.6)
    smell_word_p = rng.uniform(0.3, 0.85)
    cat_fill_p = rng.uniform(0.0, 0.9)
    two_stations = bool(rng.random() < 0.5)
    flavour = {
        "crs_mix": bool(rng.random() < 0.5),
        "time_formats": bool(rng.random() < 0.4),
        "cn_wind": bool(rng.random() < 0.2),
        "gb18030": bool(rng.random() < 0.25),
    }
    chan_p = rng.dirichlet([4, 2.5, 2, 1.5])

    # ---- settlements: towns + villages
    n_towns = int(rng.integers(3, 9))
    n_vill = int(rng.integers(20, 61))
    setts: list[Settlement] = []
    pts: list[tuple[float, float]] = []

    def far_point(min_d: float) -> tuple[float, float]:
        for _ in range(200):
            p = (rng.uniform(-half * 0.9, half * 0.9), rng.uniform(-half * 0.9, half * 0.9))
            if all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 > min_d ** 2 for q in pts):
                return p
        return p

    town_names: list[str] = []
    for i in range(n_towns):
        x, y = far_point(5000)
        pts.append((x, y))
        tn = _place_name(rng) + ("街道" if i == 0 else "镇")
        town_names.append(tn)
        setts.append(Settlement(tn[:-2] + "社区" if i == 0 else tn[:-1] + "社区", x, y,
                                rng.uniform(700, 2000) * (1.5 if i == 0 else 1.0),
                                rng.lognormal(2.5 if i == 0 else 1.8, 0.3), tn, True))
    for _ in range(n_vill):
        x, y = far_point(1200)
        pts.append((x, y))
        near = int(np.argmin([(x - s.x) ** 2 + (y - s.y) ** 2 for s in setts[:n_towns]]))
        vn = _place_name(rng) + str(rng.choice(["村", "庄", "家村", "屯"]))
        setts.append(Settlement(vn, x, y, rng.uniform(150, 450), rng.lognormal(0, 0.5),
                                town_names[near], False))

    # ---- residents (receptor points)
    n_res = int(rng.integers(2000, 4500))
    w = np.array([s.weight for s in setts])
    home = rng.choice(len(setts), size=n_res, p=w / w.sum())
    rx = np.array([setts[k].x for k in home]) + rng.normal(0, 1, n_res) * np.array(
        [setts[k].radius for k in home]) * 0.6
    ry = np.array([setts[k].y for k in home]) + rng.normal(0, 1, n_res) * np.array(
        [setts[k].radius for k in home]) * 0.6
    thr = rng.lognormal(0.0, 0.6, n_res)  # odour threshold (OU-like)
    prop = rng.gamma(0.5, 2.0, n_res)  # propensity: a few very persistent callers
    pref_chan = rng.choice(4, size=n_res, p=chan_p)
    names = [_person(rng) for _ in range(n_res)]
    phones = [_phone(rng) for _ in range(n_res)]
    anonymous = rng.random(n_res) < 0.25

    # ---- wind
    d_true, s_true = make_wind(rng, climate, times)
    cls = stability(rng, times, s_true)
    st_a = setts[0]
    st_b = setts[int(rng.integers(1, n_towns))] if two_stations and n_towns > 1 else None
    off_b = _ar1(rng, n_hours, 0.99, 15) + (rng.normal(0, 25) if climate == "valley" else 0.0)
    d_b = np.mod(d_true + off_b, 360)
    s_b = s_true * rng.uniform(0.7, 1.3)

    def wind_at(x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        if st_b is None:
            return d_true, s_true
        wa = 1 / (math.hypot(x - st_a.x, y - st_a.y) + 500.0) ** 2
        wb = 1 / (math.hypot(x - st_b.x, y - st_b.y) + 500.0) ** 2
        fa = wa / (wa + wb)
        ux = fa * np.sin(np.radians(d_true)) + (1 - fa) * np.sin(np.radians(d_b))
        uy = fa * np.cos(np.radians(d_true)) + (1 - fa) * np.cos(np.radians(d_b))
        return np.mod(np.degrees(np.arctan2(ux, uy)), 360), fa * s_true + (1 - fa) * s_b

    # ---- enterprises
    used_ids: set[int] = set()

    def new_id() -> str:
        while True:
            k = int(rng.integers(10000, 99999))
            if k not in used_ids:
                used_ids.add(k)
                return f"QY{k}"

    ent_rows: list[dict] = []

    def add_ent(name: str, code: str, x: float, y: float, role: str, status: str = "operating",
                closed_on: str = "", eid: str | None = None) -> str:
        eid = eid or new_id()
        ent_rows.append(dict(enterprise_id=eid, name=name, industry=code, x=x, y=y,
                             status=status, closed_on=closed_on, role=role))
        return eid

    def ent_name(kind: str | None, plain_suffix: str = "") -> str:
        if kind is None:
            return _place_name(rng) + plain_suffix
        return _place_name(rng) + str(rng.choice(KINDS[kind]["suffix"]))

    # industrial parks near towns
    parks = []
    for _ in range(int(rng.integers(1, 4))):
        t = setts[int(rng.integers(0, n_towns))]
        a = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(1500, 3500)
        parks.append((t.x + dist * np.cos(a), t.y + dist * np.sin(a)))

    sources: list[Source] = []
    kinds = rng.choice(SOURCE_KINDS, size=n_src, replace=n_src > len(SOURCE_KINDS))
    closed_mid_idx = int(rng.integers(0, n_src)) if rng.random() < 0.35 else -1
    for i, kind in enumerate(kinds):
        spec = KINDS[str(kind)]
        place = spec["place"]
        if place == "park":
            px, py = parks[int(rng.integers(len(parks)))]
            x, y = px + rng.normal(0, 400), py + rng.normal(0, 400)
        elif place == "town":
            t = setts[int(rng.integers(0, n_towns))]
            x, y = t.x + rng.normal(0, 300), t.y + rng.normal(0, 300)
        elif place == "edge":
            t = setts[int(rng.integers(0, n_towns))]
            a = rng.uniform(0, 2 * np.pi)
            x, y = t.x + (t.radius + rng.uniform(300, 1500)) * np.cos(a), t.y + (
                t.radius + rng.uniform(300, 1500)) * np.sin(a)
        else:  # rural: 1-4 km from a random village
            v = setts[int(rng.integers(n_towns, len(setts)))]
            a = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(1000, 4000)
            x, y = v.x + dist * np.cos(a), v.y + dist * np.sin(a)
        x, y = float(np.clip(x, -half, half)), float(np.clip(y, -half, half))
        if kind == "restaurant":
            beh = "meals"
            r_eff = rng.uniform(300, 800)
        else:
            beh = str(rng.choice(BEHAVIOURS))
            d_near = np.sort(np.hypot(rx - x, ry - y))[min(20, n_res - 1)]
            r_eff = float(np.clip(d_near * rng.uniform(1.0, 2.2), 1200, 8000))
        code = str(rng.choice(spec["codes"]))
        eid = new_id()
        s = Source(eid, str(kind), code, ent_name(str(kind)), x, y,
                   float(rng.uniform(*spec["h"])), float(spec["s0"]), beh, float(r_eff))
        s.schedule = schedule(rng, beh, times)
        if i == closed_mid_idx:
            cut = times[int(rng.integers(n_hours // 3, 2 * n_hours // 3))].normalize()
            s.closed_on = cut
            s.schedule = np.where(times >= cut, 0.0, s.schedule)
        s.monitored = bool(rng.random() < 0.6) and kind != "restaurant"
        # Q so that the mean neutral concentration at r_eff in 3 m/s equals 1
        sy = AY[3] * r_eff ** 0.88 + s.s0
        sz = AZ[3] * r_eff ** BZ[3] + 0.5 * s.s0 + 1
        s.q = float(np.pi * 3.0 * sy * sz * np.exp(0.5 * (s.h / sz) ** 2) * rng.uniform(0.8, 1.6))
        if kind == "cement":
            s.q *= float(np.exp(r_eff / 2500.0))
        sources.append(s)
        add_ent(s.name, code, x, y, "source", eid=eid,
                status="closed" if s.closed_on is not None else "operating",
                closed_on=s.closed_on.strftime("%Y-%m-%d") if s.closed_on is not None else "")

    # decoys: neighbours of true sources (some same industry), a closed ex-plant next door
    for s in sources:
        for _ in range(int(rng.integers(1, 5))):
            a, dist = rng.uniform(0, 2 * np.pi), rng.uniform(100, 1000)
            same = rng.random() < 0.4
            kk = s.kind if same else str(rng.choice(SOURCE_KINDS))
            add_ent(ent_name(kk), str(rng.choice(KINDS[kk]["codes"])),
                    s.x + dist * np.cos(a), s.y + dist * np.sin(a), "neighbour")
        if rng.random() < 0.3:
            a, dist = rng.uniform(0, 2 * np.pi), rng.uniform(150, 600)
            add_ent(ent_name(s.kind), str(rng.choice(KINDS[s.kind]["codes"])),
                    s.x + dist * np.cos(a), s.y + dist * np.sin(a), "closed_neighbour",
                    status="closed", closed_on=(start - pd.Timedelta(days=int(rng.integers(30, 400)))
                                                ).strftime("%Y-%m-%d"))
    # decoys: odour industries right next to homes (well run, innocent)
    for _ in range(int(rng.integers(4, 13))):
        t = setts[int(rng.integers(0, len(setts)))]
        a, dist = rng.uniform(0, 2 * np.pi), t.radius + rng.uniform(100, 1000)
        kk = str(rng.choice(SOURCE_KINDS))
        add_ent(ent_name(kk), str(rng.choice(KINDS[kk]["codes"])),
                t.x + dist * np.cos(a), t.y + dist * np.sin(a), "near_home")
    for _ in range(int(rng.integers(2, 7))):  # closed odour firms in towns
        t = setts[int(rng.integers(0, n_towns))]
        kk = str(rng.choice(SOURCE_KINDS))
        add_ent(ent_name(kk), str(rng.choice(KINDS[kk]["codes"])), t.x + rng.normal(0, 800),
                t.y + rng.normal(0, 800), "closed", status="closed",
                closed_on=(start - pd.Timedelta(days=int(rng.integers(10, 300)))).strftime("%Y-%m-%d"))
    # the rest: park members, town firms, rural odour firms, plain industry
    while len(ent_rows) < n_src + n_innocent:
        u = rng.random()
        if u < 0.3:
            px, py = parks[int(rng.integers(len(parks)))]
            x, y, role = px + rng.normal(0, 700), py + rng.normal(0, 700), "park"
        elif u < 0.7:
            t = setts[int(rng.integers(0, n_towns))]
            x, y, role = t.x + rng.normal(0, t.radius * 1.5), t.y + rng.normal(0, t.radius * 1.5), "town"
        else:
            x, y, role = rng.uniform(-half, half), rng.uniform(-half, half), "rural"
        if rng.random() < 0.4:
            kk = str(rng.choice(SOURCE_KINDS))
            add_ent(ent_name(kk), str(rng.choice(KINDS[kk]["codes"])), x, y, role)
        else:
            code, suf = PLAIN_INDUSTRIES[int(rng.integers(len(PLAIN_INDUSTRIES)))]
            add_ent(ent_name(None, suf), code, x, y, role)
    ents = pd.DataFrame(ent_rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    ents["lon"], ents["lat"] = frame.to_lonlat(ents["x"].to_numpy(), ents["y"].to_numpy())

    # nearest odour-capable operating firm to each resident: what people blame in texts
    odour_ents = ents[ents["industry"].str.startswith(ODOUR_CAPABLE) & (ents["status"] == "operating")]
    oe_xy = odour_ents[["x", "y"]].to_numpy()
    near_blame = odour_ents["name"].to_numpy()[
        np.argmin((rx[:, None] - oe_xy[None, :, 0]) ** 2 + (ry[:, None] - oe_xy[None, :, 1]) ** 2, axis=1)]

    # ---- exposure: plume from each source to every resident, hour by hour
    keys_all, src_all, c_all = [], [], []
    for si, s in enumerate(sources):
        wd, ws = wind_at(s.x, s.y)
        dxa, dya = rx - s.x, ry - s.y
        near = np.hypot(dxa, dya) < max(3.0 * s.r_eff, 4000)
        ridx = np.nonzero(near)[0]
        act = np.nonzero(s.schedule > 0.02)[0]
        if len(ridx) == 0 or len(act) == 0:
            continue
        dx, dy = dxa[ridx][None, :], dya[ridx][None, :]
        for c0 in range(0, len(act), 800):
            hh = act[c0:c0 + 800]
            conc = plume(dx, dy, wd[hh][:, None], ws[hh][:, None], cls[hh][:, None], s.h, s.s0,
                         s.kind == "cement")
            conc *= s.q * s.schedule[hh][:, None]
            conc *= rng.lognormal(-0.3, 0.8, conc.shape)  # intermittency of what a nose gets
            ti, rj = np.nonzero(conc > 0.5 * thr[ridx][None, :])
            keys_all.append(hh[ti].astype(np.int64) * n_res + ridx[rj])
            src_all.append(np.full(len(ti), si))
            c_all.append(conc[ti, rj])
    if keys_all:
        keys = np.concatenate(keys_all)
        srcs = np.concatenate(src_all)
        cs = np.concatenate(c_all)
    else:
        keys, srcs, cs = np.zeros(0, np.int64), np.zeros(0, int), np.zeros(0)
    order = np.lexsort((-cs, keys))
    keys, srcs, cs = keys[order], srcs[order], cs[order]
    uk, first = np.unique(keys, return_index=True)
    tot = np.add.reduceat(cs, first) if len(cs) else np.zeros(0)
    dom = srcs[first]  # dominant source (largest share)
    eh, er = uk // n_res, uk % n_res
    ok = tot > thr[er]
    eh, er, tot, dom = eh[ok], er[ok], tot[ok], dom[ok]
    hr = times.hour.to_numpy()[eh]
    mon = times.month.to_numpy()[eh]
    dow = times.day_of_week.to_numpy()[eh]
    f_time = np.where(hr < 6, 0.35, np.where(hr >= 18, 1.3, np.where((dow < 5) & (hr >= 9) & (hr < 17), 0.8, 1.0)))
    f_seas = np.where((mon >= 5) & (mon <= 9), 1.3, np.where((mon <= 2) | (mon == 12), 0.75, 1.0))
    base = np.log(tot / thr[er]) * prop[er] * f_time * f_seas

    def simulate(beta: float, draws: np.ndarray) -> np.ndarray:
        p = 1 - np.exp(-beta * base)
        hit = draws < p
        idx = np.nonzero(hit)[0]
        idx = idx[np.lexsort((eh[idx], er[idx]))]
        keep = np.zeros(len(eh), dtype=bool)
        last = {}
        persist = prop > np.quantile(prop, 0.97)
        for i in idx:
            r = int(er[i])
            gap = 3 if persist[r] else 18
            if r in last and eh[i] - last[r] < gap:
                continue
            last[r] = int(eh[i])
            keep[i] = True
        return keep

    draws = rng.random(len(eh))
    lo, hi = 1e-5, 5.0
    beta = 0.05
    for _ in range(25):  # bisection on the refractory-aware count
        beta = math.sqrt(lo * hi)
        k = int(simulate(beta, draws).sum())
        if k > target_src:
            hi = beta
        else:
            lo = beta
        if abs(k - target_src) < 0.05 * target_src:
            break
    keep = simulate(beta, draws)
    ev_h, ev_r, ev_s = eh[keep], er[keep], dom[keep]

    # ---- complaint records
    recs: list[dict] = []
    t0 = times[0]

    def lag_minutes(ch: int) -> float:
        if ch == 0:
            return rng.exponential(15)
        if ch == 1:
            return rng.lognormal(math.log(300), 1.0)  # 12345 transfer delay
        if ch == 2:
            return rng.exponential(35)
        return rng.lognormal(math.log(120), 1.0)

    def smell_time_to_received(h_idx: int, ch: int) -> pd.Timestamp:
        t = t0 + pd.Timedelta(hours=int(h_idx)) + pd.Timedelta(minutes=float(rng.uniform(0, 60)))
        if t.hour < 6 and rng.random() < 0.65:  # noticed at night, reported next morning
            t = t.normalize() + pd.Timedelta(hours=float(rng.uniform(7, 9.5)))
        return t + pd.Timedelta(minutes=lag_minutes(ch))

    def place_of(r: int) -> str:
        s = setts[home[r]]
        return s.name if rng.random() < 0.7 else s.town + s.name

    def add_rec(t: pd.Timestamp, x: float, y: float, ch: int, r: int, text: str, cat: str,
                src: str, kind: str, smell_h: int) -> None:
        recs.append(dict(t=t, x=x, y=y, ch=ch, r=r, text=text, cat=cat, src=src, kind=kind,
                         smell_h=smell_h))

    for h_idx, r, si in zip(ev_h, ev_r, ev_s, strict=True):
        s = sources[int(si)]
        spec = KINDS[s.kind]
        ch = int(pref_chan[r]) if rng.random() < 0.7 else int(rng.choice(4, p=chan_p))
        t = smell_time_to_received(int(h_idx), ch)
        if rng.random() < smell_word_p:
            smell = str(rng.choice(spec["smell"]))
        else:
            smell = str(rng.choice(GENERIC_SMELL)) if spec["cat"] == "odour" else "灰尘"
        blame = str(near_blame[r]) if rng.random() < 0.1 else None
        hour = (t0 + pd.Timedelta(hours=int(h_idx))).hour
        x, y = rx[r] + rng.normal(0, 30), ry[r] + rng.normal(0, 30)
        if ch in (1, 3) and rng.random() < 0.15:  # geocoded to the village centre
            x, y = setts[home[r]].x + rng.normal(0, 20), setts[home[r]].y + rng.normal(0, 20)
        text = odour_text(rng, smell, place_of(r), hour, blame)
        add_rec(t, x, y, ch, int(r), text, spec["cat"], s.eid, "source", int(h_idx))
        if rng.random() < 0.03:  # same person again on another channel
            ch2 = (ch + int(rng.integers(1, 4))) % 4
            add_rec(t + pd.Timedelta(minutes=float(rng.uniform(10, 180))), x + rng.normal(0, 20),
                    y + rng.normal(0, 20), ch2, int(r), odour_text(rng, smell, place_of(r), hour, None),
                    spec["cat"], s.eid, "source", int(h_idx))
    n_from_src = len(recs)
    # passers-by downwind of an active source (commuters, drivers)
    for si, s in enumerate(sources):
        n_src_c = int((ev_s == si).sum())
        wd, _ = wind_at(s.x, s.y)
        hr_all = times.hour.to_numpy()
        act = np.nonzero((s.schedule > 0.3) & (hr_all >= 7) & (hr_all <= 20))[0]
        if len(act) == 0:
            continue
        for _ in range(int(rng.poisson(0.04 * n_src_c + 0.5))):
            h_idx = int(rng.choice(act))
            th = math.radians(wd[h_idx])
            dist = rng.uniform(200, 1500)
            x = s.x - math.sin(th) * dist + rng.normal(0, 150)
            y = s.y - math.cos(th) * dist + rng.normal(0, 150)
            r = int(rng.integers(n_res))
            ch = int(rng.choice([0, 2], p=[0.5, 0.5]))
            t = smell_time_to_received(h_idx, ch)
            text = f"路过{s.name[:2]}附近的路上，闻到{rng.choice(KINDS[s.kind]['smell'])}，车里都是味"
            add_rec(t, x, y, ch, r, text, KINDS[s.kind]["cat"], s.eid, "passer", h_idx)

    # ---- background complaints (no enterprise behind them)
    n_bg = int(bg_frac * max(n_from_src, 200))
    bg_mix = rng.dirichlet([3, 2, 1, 1, 1])  # odour, noise, water, waste, dust (scattered)
    bg_kind = rng.choice(["odour", "noise", "water", "waste", "dust"], size=n_bg, p=bg_mix)
    for kind in bg_kind:
        r = int(rng.integers(n_res))
        h_idx = int(rng.integers(n_hours))
        if kind == "noise":
            h_idx = int(h_idx // 24 * 24 + rng.choice([19, 20, 21, 22, 23, 6]))
        ch = int(pref_chan[r])
        t = smell_time_to_received(min(h_idx, n_hours - 1), ch)
        text = str(rng.choice(BG_TEXTS[kind]))
        add_rec(t, rx[r] + rng.normal(0, 30), ry[r] + rng.normal(0, 30), ch, r, text, kind,
                "", "background", h_idx)
    # construction sites: clustered dust complaints, nobody's enterprise
    for _ in range(int(rng.integers(0, 4))):
        t_ = setts[int(rng.integers(0, n_towns))]
        cx, cy = t_.x + rng.normal(0, t_.radius), t_.y + rng.normal(0, t_.radius)
        d0 = int(rng.integers(0, max(1, n_hours // 24 - 60)))
        near = np.nonzero(np.hypot(rx - cx, ry - cy) < 900)[0]
        if len(near) == 0:
            continue
        for _ in range(int(rng.integers(10, 60))):
            r = int(rng.choice(near))
            h_idx = min(n_hours - 1, (d0 + int(rng.integers(0, 60))) * 24 + int(rng.integers(8, 18)))
            ch = int(pref_chan[r])
            add_rec(smell_time_to_received(h_idx, ch), rx[r] + rng.normal(0, 30), ry[r] + rng.normal(0, 30),
                    ch, r, str(rng.choice(BG_TEXTS["dust"])), "dust", "", "construction", h_idx)
    # straw burning: harvest evenings (June, October), regional bursts of smoke complaints
    for m in (6, 10):
        if not (times.month == m).any():
            continue
        for _ in range(int(rng.integers(0, 3))):
            day0 = int(np.nonzero(times.month == m)[0][0] // 24 + rng.integers(0, 20))
            v = setts[int(rng.integers(0, len(setts)))]
            near = np.nonzero(np.hypot(rx - v.x, ry - v.y) < 3000)[0]
            if len(near) == 0:
                continue
            for _ in range(int(rng.integers(5, 40))):
                r = int(rng.choice(near))
                h_idx = min(n_hours - 1, (day0 + int(rng.integers(0, 3))) * 24 + int(rng.integers(17, 23)))
                ch = int(pref_chan[r])
                add_rec(smell_time_to_received(h_idx, ch), rx[r] + rng.normal(0, 30),
                        ry[r] + rng.normal(0, 30), ch, r, str(rng.choice(BG_TEXTS["smoke"])), "odour",
                        "", "burning", h_idx)
    # a crank: complains weekly about "odour" regardless of any source
    if rng.random() < 0.6:
        r = int(rng.integers(n_res))
        for d in range(0, n_hours // 24, int(rng.integers(4, 10))):
            h_idx = d * 24 + int(rng.integers(8, 22))
            add_rec(smell_time_to_received(h_idx, 0), rx[r] + rng.normal(0, 10), ry[r] + rng.normal(0, 10),
                    0, r, "又闻到那股味道了，" + str(rng.choice(GENERIC_SMELL)) + "，你们到底管不管", "odour",
                    "", "crank", h_idx)

    # ---- write complaints
    cdf = pd.DataFrame(recs)
    cdf["t"] = pd.to_datetime(cdf["t"]).dt.floor("min")
    cdf = cdf.sort_values("t", kind="stable").reset_index(drop=True)
    cdf = cdf[cdf["t"] < times[-1] + pd.Timedelta(hours=36)].reset_index(drop=True)
    day_str = cdf["t"].dt.strftime("%Y%m%d")
    seq = cdf.groupby(day_str).cumcount() + 1
    cdf["complaint_id"] = "TS" + day_str + seq.map(lambda k: f"{k:04d}")
    lon, lat = frame.to_lonlat(cdf["x"].to_numpy(), cdf["y"].to_numpy())
    crs = np.array(["wgs84"] * len(cdf), dtype=object)
    if flavour["crs_mix"]:
        is_gcj = (cdf["ch"] == 2).to_numpy() & (rng.random(len(cdf)) < 0.8)
        is_bd = (cdf["ch"] == 3).to_numpy() & (rng.random(len(cdf)) < 0.8)
        glon, glat = wgs_to_gcj(lon, lat)
        blon, blat = gcj_to_bd(glon, glat)
        lon = np.where(is_gcj, glon, np.where(is_bd, blon, lon))
        lat = np.where(is_gcj, glat, np.where(is_bd, blat, lat))
        crs = np.where(is_gcj, "gcj02", np.where(is_bd, "bd09", crs))
        crs = np.array([str(rng.choice(CRS_SPELL[c])) for c in crs], dtype=object)
    recv = cdf["t"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object)
    if flavour["time_formats"]:
        alt = rng.random(len(cdf))
        recv = np.where(alt < 0.15, cdf["t"].dt.strftime("%Y/%m/%d %H:%M").to_numpy(dtype=object), recv)
        recv = np.where((alt >= 0.15) & (alt < 0.3),
                        cdf["t"].dt.strftime("%Y年%m月%d日 %H:%M").to_numpy(dtype=object), recv)
        recv = np.where((alt >= 0.3) & (alt < 0.35),
                        cdf["t"].dt.strftime("%Y年%m月%d日 %H时%M分").to_numpy(dtype=object), recv)
        epoch_ms = (cdf["t"].dt.tz_localize("Asia/Shanghai").astype("int64") // 10**6).astype(str)
        recv = np.where((alt >= 0.35) & (alt < 0.4), epoch_ms.to_numpy(dtype=object), recv)
    cat_out = np.where(rng.random(len(cdf)) < cat_fill_p,
                       cdf["cat"].replace({"smoke": "odour"}).to_numpy(dtype=object), "")
    r_arr = cdf["r"].to_numpy()
    out_c = pd.DataFrame({
        "complaint_id": cdf["complaint_id"],
        "received_at": recv,
        "lon": np.round(lon, 6), "lat": np.round(lat, 6),
        "crs": crs,
        "channel": [CHANNEL_NAMES[c] for c in cdf["ch"]],
        "category": cat_out,
        "text": cdf["text"],
        "address": [setts[home[r]].town + setts[home[r]].name for r in r_arr],
        "complainant": ["" if anonymous[r] else names[r] for r in r_arr],
        "phone": ["" if (anonymous[r] and rng.random() < 0.5) else phones[r] for r in r_arr],
    })
    enc = "gb18030" if flavour["gb18030"] else "utf-8"
    out_c.to_csv(out_dir / "complaints.csv", index=False, encoding=enc)

    ents_out = ents[["enterprise_id", "name", "industry", "lon", "lat"]].copy()
    ents_out["lon"] = ents_out["lon"].round(6)
    ents_out["lat"] = ents_out["lat"].round(6)
    ents_out["crs"] = "wgs84"
    ents_out["status"] = ents["status"]
    ents_out["closed_on"] = ents["closed_on"]
    ents_out.to_csv(out_dir / "enterprises.csv", index=False, encoding=enc)

    # ---- wind file: measured = true + instrument noise, with gaps
    wrows = []
    stations = [("ST1", st_a, d_true, s_true)] + ([("ST2", st_b, d_b, s_b)] if st_b is not None else [])
    for sid, st, dd, ss in stations:
        slon, slat = frame.to_lonlat(np.array([st.x + 300]), np.array([st.y - 200]))
        meas_d = np.mod(np.round(dd + rng.normal(0, 8, n_hours)), 360).astype(int)
        meas_s = np.round(np.clip(ss + rng.normal(0, 0.3, n_hours), 0, None), 1)
        gap = np.zeros(n_hours, dtype=bool)
        for _ in range(int(rng.integers(2, 15))):
            g = int(rng.integers(n_hours))
            gap[g:g + int(rng.integers(1, 24))] = True
        wd_out: np.ndarray = meas_d.astype(object)
        ws_out: np.ndarray = meas_s.astype(object)
        if flavour["cn_wind"]:  # 16-point Chinese directions and Beaufort levels
            wd_out = np.array([CN16[int(((v + 11.25) % 360) // 22.5)] for v in meas_d], dtype=object)
            ws_out = np.array([f"{int(np.searchsorted(BEAUFORT, v, side='right'))}级" for v in meas_s],
                              dtype=object)
        wrows.append(pd.DataFrame({
            "time": times.strftime("%Y-%m-%d %H:%M"), "wind_dir_deg": wd_out,
            "wind_speed_ms": ws_out, "station_id": sid, "lon": round(float(slon[0]), 6),
            "lat": round(float(slat[0]), 6)})[~gap])
    pd.concat(wrows).to_csv(out_dir / "wind.csv", index=False)

    # ---- alarms
    arows = []
    limits = {"VOCs": 60.0, "H2S": 5.0, "NH3": 20.0, "COD": 50.0, "颗粒物": 20.0, "油烟": 2.0}
    p_alarm = rng.uniform(0.01, 0.15)
    for s in sources:
        if not s.monitored:
            continue
        hi_h = np.nonzero(s.schedule > np.quantile(s.schedule[s.schedule > 0], 0.5)
                          if (s.schedule > 0).any() else np.zeros(n_hours, bool))[0]
        for hh in hi_h[rng.random(len(hi_h)) < p_alarm]:
            pol = str(rng.choice(KINDS[s.kind]["pol"]))
            lim = limits[pol]
            arows.append((s.eid, times[hh] + pd.Timedelta(hours=int(rng.integers(-2, 2))), pol,
                          round(lim * rng.uniform(1.05, 2.8), 2), lim))
    inn = ents[(ents["role"] != "source") & ents["industry"].str.startswith(ODOUR_CAPABLE + DUST_CAPABLE)]
    mon_inn = inn[rng.random(len(inn)) < 0.3]
    for _, e in mon_inn.iterrows():
        kk = next((k for k, v in KINDS.items() if e["industry"] in v["codes"]), "chem")
        for _ in range(int(rng.poisson(rng.uniform(2, 20)))):
            hh = int(rng.integers(n_hours))
            for b in range(int(rng.integers(1, 4))):
                pol = str(rng.choice(KINDS[kk]["pol"]))
                lim = limits[pol]
                arows.append((e["enterprise_id"], times[min(n_hours - 1, hh + b)], pol,
                              round(lim * rng.uniform(1.02, 2.0), 2), lim))
    adf = pd.DataFrame(arows, columns=["enterprise_id", "time", "pollutant", "value", "limit"])
    adf = adf.sort_values("time").reset_index(drop=True)
    adf["time"] = pd.to_datetime(adf["time"]).dt.strftime("%Y-%m-%d %H:%M")
    adf.to_csv(out_dir / "alarms.csv", index=False)

    # ---- truth
    truth = pd.DataFrame({
        "complaint_id": cdf["complaint_id"], "source_id": cdf["src"], "kind": cdf["kind"],
        "resident": cdf["r"], "smell_time": [t0 + pd.Timedelta(hours=int(h)) for h in cdf["smell_h"]],
        "true_lon": np.round(frame.to_lonlat(cdf["x"].to_numpy(), cdf["y"].to_numpy())[0], 6),
        "true_lat": np.round(frame.to_lonlat(cdf["x"].to_numpy(), cdf["y"].to_numpy())[1], 6),
    })
    truth.to_csv(truth_dir / "complaints_truth.csv", index=False)
    src_df = pd.DataFrame([{
        "enterprise_id": s.eid, "name": s.name, "industry": s.code, "kind": s.kind,
        "behaviour": s.behaviour + ("+closed_mid" if s.closed_on is not None else ""),
        "lon": round(float(frame.to_lonlat(np.array([s.x]), np.array([s.y]))[0][0]), 6),
        "lat": round(float(frame.to_lonlat(np.array([s.x]), np.array([s.y]))[1][0]), 6),
        "stack_h_m": round(s.h, 1), "r_eff_m": round(s.r_eff), "q": round(s.q, 1),
        "monitored": s.monitored, "active_hours": int((s.schedule > 0.02).sum()),
        "n_complaints": int((cdf["src"] == s.eid).sum()),
    } for s in sources])
    src_df.to_csv(truth_dir / "sources.csv", index=False)
    ents[["enterprise_id", "name", "industry", "lon", "lat", "status", "role"]].to_csv(
        truth_dir / "enterprises_truth.csv", index=False)
    world = dict(seed=seed, lon0=frame.lon0, lat0=frame.lat0, size_m=round(size), climate=climate,
                 months=months, start=str(start.date()), n_sources=n_src, n_enterprises=len(ents),
                 n_residents=n_res, n_towns=n_towns, n_villages=n_vill, two_stations=two_stations,
                 n_complaints=len(cdf), n_source_complaints=int((cdf["src"] != "").sum()),
                 bg_frac=round(bg_frac, 3), beta=beta, flavour=flavour,
                 channel_p=[round(float(p), 3) for p in chan_p])
    (truth_dir / "world.json").write_text(json.dumps(world, ensure_ascii=False, indent=1))
    return world


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--truth", type=Path, default=None)
    a = ap.parse_args(argv)
    print(json.dumps(generate(a.seed, a.out, a.truth), ensure_ascii=False))


if __name__ == "__main__":
    main()
