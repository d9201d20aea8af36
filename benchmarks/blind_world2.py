"""Blind world #2: an independent, seeded county generator for black-box tests of envtrace.

Written only from the data contract (shared DESIGN.md); it shares no code or assumption
with envtrace or with benchmarks/blind_world.py.

Physics, deliberately unlike a steady Gaussian plume driven by the station's wind:

* Lagrangian puffs released every 30 min and advected (RK2) through a wind field that
  changes hour to hour and varies in space: synoptic regimes with a cross-domain
  rotation, plus one or more local circulations -- a sea breeze / land breeze on a
  coast, a river valley that channels the flow and drains down-valley on clear nights,
  a hill that splits stable flow (potential flow around a cylinder).  Plumes curve, and
  odour arrives hours after release far away.
* Each puff is a slug (segment-averaged Gaussian) with stability-dependent growth.
  Under night inversions elevated releases and the previous day's residual layer are
  decoupled from the ground; as the morning mixed layer grows through them they are
  fumigated to the ground.  Ground releases accumulate under the shallow night layer.
* Wind is reported by an airport-style station 10-25 km from town that sees none of the
  valley drainage, is rotated 20-40 degrees, under-reads speed and misses whole days.
* People: dense town blocks, a second town, sparse villages.  Complaint hazard follows a
  Stevens power law of concentration above a block's threshold, with habituation
  (months of exposure lower it), WeChat-group contagion (bursts after a first
  complaint, including weak-smell bandwagon complaints), time-of-day presence, repeat
  complainers, reporting delays from minutes to the next morning, geocoding to block or
  village centroids, GPS for WeChat, some rows with an address but no coordinates.
* Enterprises: far large plants, many small near ones, decoys (same-industry park
  neighbours, innocent odour firms near homes and next to true sources, firms closed
  before or during the period), online-monitoring alarms (true and false).
* Formats vary by seed inside the contract: Chinese/English headers, UTF-8/GB18030,
  WGS84/GCJ-02/BD-09 (per row, per file, or the folder's envtrace.toml default),
  several time notations, 16-point Chinese wind directions with Beaufort levels.

Usage:  python benchmarks/blind_world2.py --seed 3 --out /tmp/w3
writes /tmp/w3/ (the dataset folder) and /tmp/w3_truth/ (ground truth).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import erf

DT_S = 1800.0  # puff release / advection step
SUBSTEPS = 2  # per hour
KM_PER_DEG_LAT = 110.574

# --------------------------------------------------------------------------- catalogues

SOURCE_TYPES: dict[str, dict[str, Any]] = {
    "pulp": {
        "codes": [("C2211", "木竹浆制造")],
        "suffix": ["纸业有限公司", "浆纸有限公司", "纸业集团有限公司"],
        "short": "纸业",
        "H": (90.0, 150.0), "sigma0": 40.0, "hedonic": 1.3, "big": True,
        "smell": ["臭鸡蛋味", "烂白菜味", "硫化氢的味道", "一股酸臭味", "像煮烂菜叶的臭味"],
        "pollutant": "H2S", "behaviours": ["episodic"],
    },
    "coking": {
        "codes": [("C2521", "炼焦")],
        "suffix": ["焦化有限公司", "煤化工有限公司", "焦化厂"],
        "short": "焦化",
        "H": (35.0, 60.0), "sigma0": 60.0, "hedonic": 1.1, "big": True,
        "smell": ["焦油味", "煤焦味", "沥青味", "煤烟味", "刺鼻的焦糊味"],
        "pollutant": "VOCs", "behaviours": ["batch", "episodic"],
    },
    "pharma": {
        "codes": [("C2710", "化学药品原料药制造"), ("C2761", "生物药品制造")],
        "suffix": ["制药有限公司", "药业有限公司", "生物制药有限公司"],
        "short": "药业",
        "H": (20.0, 40.0), "sigma0": 40.0, "hedonic": 1.2, "big": True,
        "smell": ["发酵的酸臭味", "药味", "中药渣的味道", "霉味", "酸馊味"],
        "pollutant": "臭气浓度", "behaviours": ["batch", "night_covert"],
    },
    "landfill": {
        "codes": [("N7723", "固体废物治理"), ("N7820", "环境卫生管理")],
        "suffix": ["生活垃圾填埋场", "垃圾填埋场"],
        "short": "填埋场",
        "H": (2.0, 4.0), "sigma0": 250.0, "hedonic": 1.25, "big": True,
        "smell": ["垃圾臭味", "腐臭味", "馊臭味", "垃圾腐烂的味道", "沼气味"],
        "pollutant": "NH3", "behaviours": ["continuous"],
    },
    "restaurant": {
        "codes": [("H6210", "正餐服务"), ("H62", "餐饮业")],
        "suffix": ["酒楼", "烧烤", "饭店", "火锅店", "大排档"],
        "short": "",
        "H": (8.0, 14.0), "sigma0": 10.0, "hedonic": 0.8, "big": False,
        "smell": ["油烟味", "烧烤的烟味", "炒菜的油烟", "呛人的油烟", "烤串的烟"],
        "pollutant": "油烟", "behaviours": ["meal_hours"],
    },
    "paint": {
        "codes": [("O8111", "汽车修理与维护"), ("C2641", "涂料制造")],
        "suffix": ["汽车修理厂", "汽修中心", "汽车维修服务部"],
        "short": "汽修",
        "H": (4.0, 8.0), "sigma0": 10.0, "hedonic": 1.1, "big": False,
        "smell": ["油漆味", "刺鼻的化学味", "香蕉水味", "天那水味", "喷漆的味道"],
        "pollutant": "VOCs", "behaviours": ["workday", "night_covert"],
    },
    "transfer": {
        "codes": [("N7820", "环境卫生管理")],
        "suffix": ["垃圾中转站", "生活垃圾转运站"],
        "short": "中转站",
        "H": (2.0, 4.0), "sigma0": 30.0, "hedonic": 1.15, "big": False,
        "smell": ["垃圾臭味", "馊味", "腐臭味", "垃圾车的臭水味"],
        "pollutant": "NH3", "behaviours": ["daily_cycle"],
    },
    "food": {
        "codes": [("C1353", "肉制品及副产品加工"), ("C1361", "水产品冷冻加工"),
                  ("C1320", "饲料加工"), ("C1391", "淀粉及淀粉制品制造")],
        "suffix": ["食品有限公司", "水产有限公司", "饲料有限公司", "淀粉厂"],
        "short": "食品",
        "H": (10.0, 18.0), "sigma0": 20.0, "hedonic": 1.0, "big": False,
        "smell": ["腥臭味", "鱼腥味", "烂肉味", "酸臭味", "一股腥味"],
        "pollutant": "臭气浓度", "behaviours": ["batch", "seasonal"],
    },
    "manure": {
        "codes": [("A0313", "猪的饲养"), ("A0321", "鸡的饲养")],
        "suffix": ["养殖场", "养猪场", "养殖专业合作社"],
        "short": "养殖场",
        "H": (1.0, 2.0), "sigma0": 300.0, "hedonic": 1.3, "big": False,
        "smell": ["猪粪味", "粪臭味", "鸡粪味", "农家肥的臭味", "一股粪便的臭气"],
        "pollutant": "NH3", "behaviours": ["seasonal"],
    },
}

INNOCENT_ODOUR = [
    ("D4620", "污水处理及其再生利用", "污水处理有限公司"),
    ("C2625", "有机肥料及微生物肥料制造", "有机肥有限公司"),
    ("C1513", "啤酒制造", "啤酒有限公司"),
    ("C2614", "有机化学原料制造", "化工有限公司"),
    ("C1921", "皮革鞣制加工", "皮革有限公司"),
    ("C2631", "化学农药制造", "农药化工有限公司"),
    ("C3011", "水泥制造", "水泥有限公司"),
    ("C2929", "塑料零件及其他塑料制品制造", "塑胶制品有限公司"),
]

FILLERS = [
    ("C3911", "计算机整机制造", "电子科技有限公司"),
    ("C1810", "机织服装制造", "服饰有限公司"),
    ("C3484", "机械零部件加工", "机械有限公司"),
    ("G5920", "通用仓储", "仓储物流有限公司"),
    ("F5211", "百货零售", "商贸有限公司"),
    ("C3311", "金属结构制造", "钢结构有限公司"),
    ("C2438", "珠宝首饰及有关物品制造", "珠宝有限公司"),
    ("C3052", "技术玻璃制品制造", "玻璃制品有限公司"),
    ("C3831", "电线电缆制造", "电缆有限公司"),
    ("E4710", "房屋建筑业", "建筑工程有限公司"),
]

# my own notion of "could cause an odour/dust complaint" (for the naive baseline)
ODOUR_PREFIXES = ("C13", "C14", "C15", "C19", "C22", "C25", "C26", "C27", "C29", "C30",
                  "D462", "H62", "N772", "N782", "O811", "A03")

ZI1 = "华鲁金宏鑫恒瑞天海远新国泰盛永利福昌兴汇嘉博中万大广康旭正东润晨丰源达通和安隆成"
ZI2 = "泰丰源达盛通发成和兴隆昌福康华鑫瑞宏远宇晟辉鼎创基业捷凯信诚邦豪祥润峰"
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍建国海燕志强红梅"
COMMUNITY = ["幸福", "阳光", "和谐", "锦绣", "翠湖", "滨河", "文化", "南苑", "北苑", "康乐",
             "金桂", "龙湖", "书香", "春晖", "世纪", "盛世", "丽景", "凤凰", "明珠", "花园",
             "东城", "西城", "新华", "建设", "团结", "胜利", "育才", "荷塘", "桃源", "御景"]
ESTATE = ["小区", "花园", "家园", "新村", "苑", "公寓", "雅居"]
VILLAGE1 = "东西南北前后上下大小王李张刘陈杨黄赵周吴徐孙马高"
VILLAGE2 = ["家庄", "庄", "营", "屯", "集", "家洼", "官庄", "楼", "家村", "店", "桥", "寨"]
TOWNSHIP = ["城关街道", "城南街道", "城北街道", "开发区街道", "临河镇", "新店镇", "马集镇",
            "石桥镇", "官庄镇", "白沙乡", "柳林镇", "双河镇"]

GENERIC_ODOUR = ["有异味", "空气很差", "味道很难闻", "一股怪味", "呛得受不了", "臭得没法开窗",
                 "空气中有刺鼻气味", "闻着头晕恶心"]
BG_TEXT = {
    "odour": ["有人烧垃圾，烟味很大", "附近有人烧秸秆，满屋子烟味", "下水道反味，很臭", "有异味，不知道哪来的",
              "空气很差，闻着难受", "楼下烧烤摊油烟大", "路边垃圾桶太臭了"],
    "noise": ["晚上施工噪音扰民", "广场舞音响太吵", "楼下商铺喇叭噪音大", "夜间货车鸣笛吵得睡不着",
              "工地打桩声音太大"],
    "dust": ["工地扬尘严重，没有洒水", "路面渣土车掉土，灰很大", "搅拌站粉尘飘到小区", "窗台上一层灰"],
    "water": ["河道发黑发臭", "有企业往沟里排污水", "池塘死鱼，水变色"],
    "waste": ["垃圾堆放很久没人清运", "有人乱倒建筑垃圾", "村头堆满了生活垃圾"],
}
CN16 = ["北", "北东北", "东北", "东东北", "东", "东东南", "东南", "南东南",
        "南", "南西南", "西南", "西西南", "西", "西西北", "西北", "北西北"]
CN8_DIR = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"]

COMPLAINT_HEADERS_ZH = {
    "complaint_id": "投诉编号", "received_at": "受理时间", "lon": "经度", "lat": "纬度",
    "crs": "坐标系", "channel": "渠道", "category": "类别", "text": "投诉内容",
    "address": "地址", "complainant": "投诉人", "phone": "联系电话",
}
ENTERPRISE_HEADERS_ZH = {
    "enterprise_id": "企业编号", "name": "企业名称", "industry": "行业类别", "lon": "经度",
    "lat": "纬度", "crs": "坐标系", "permit_id": "排污许可证编号", "status": "状态",
    "closed_on": "关停日期",
}
WIND_HEADERS_ZH = {"time": "时间", "wind_dir_deg": "风向", "wind_speed_ms": "风速",
                   "station_id": "站点编号", "lon": "经度", "lat": "纬度"}
ALARM_HEADERS_ZH = {"enterprise_id": "企业编号", "time": "报警时间", "pollutant": "污染物",
                    "value": "监测值", "limit": "标准限值"}

CRS_SPELLINGS = {
    "wgs84": ["wgs84", "WGS84", "WGS-84", "CGCS2000"],
    "gcj02": ["gcj02", "GCJ-02", "火星坐标"],
    "bd09": ["bd09", "BD-09", "百度坐标"],
}

# --------------------------------------------------------------------------- coordinates

_A = 6378245.0
_EE = 0.00669342162296594323


def _tlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sq = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * np.pi)
    dlon = (dlon * 180.0) / (_A / sq * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xpi = np.pi * 3000.0 / 180.0
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * xpi)
    th = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * xpi)
    return z * np.cos(th) + 0.0065, z * np.sin(th) + 0.006


def to_crs(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    if crs == "gcj02":
        return wgs_to_gcj(lon, lat)
    if crs == "bd09":
        return gcj_to_bd(*wgs_to_gcj(lon, lat))
    return np.asarray(lon, float), np.asarray(lat, float)


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


# --------------------------------------------------------------------------- world objects


@dataclass
class Geo:
    lon0: float
    lat0: float

    def lonlat(self, x_m: Any, y_m: Any) -> tuple[np.ndarray, np.ndarray]:
        lat = self.lat0 + np.asarray(y_m) / 1000.0 / KM_PER_DEG_LAT
        lon = self.lon0 + np.asarray(x_m) / 1000.0 / (111.320 * math.cos(math.radians(self.lat0)))
        return lon, lat


@dataclass
class Terrain:
    coast: bool = False
    sea_n: tuple[float, float] = (1.0, 0.0)  # unit normal pointing to the sea
    coast_d: float = 1e9  # distance of the coastline from the town along sea_n (m)
    sb_amp: float = 0.0
    valley: bool = False
    v_axis: tuple[float, float] = (1.0, 0.0)  # unit vector pointing up-valley
    v_half: float = 4000.0
    drain_amp: float = 0.0
    hill: bool = False
    hill_c: tuple[float, float] = (0.0, 0.0)
    hill_r: float = 0.0
    rot_grad: float = 0.0  # radians of synoptic rotation per 20 km eastwards
    rot_axis: tuple[float, float] = (1.0, 0.0)

    def in_sea(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if not self.coast:
            return np.zeros(np.shape(x), bool)
        return x * self.sea_n[0] + y * self.sea_n[1] > self.coast_d - 300.0

    def in_valley(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if not self.valley:
            return np.ones(np.shape(x), bool)
        c = -x * self.v_axis[1] + y * self.v_axis[0]
        return np.abs(c) < self.v_half


@dataclass
class Receptor:
    name: str
    x: float
    y: float
    households: int
    kind: str  # block | village
    group: int
    area: str
    spread: float


@dataclass
class Firm:
    eid: str
    name: str
    short: str
    code: str
    cname: str
    x: float
    y: float
    kind: str  # source type key, innocent, filler
    role: str
    status: str = "operating"
    closed_on: datetime | None = None
    monitor: bool = False
    stype: str = ""
    behaviour: str = ""
    H: float = 5.0
    sigma0: float = 10.0
    hedonic: float = 1.0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- meteorology


@dataclass
class Met:
    times: pd.DatetimeIndex
    su: np.ndarray
    sv: np.ndarray
    stab: np.ndarray
    mh: np.ndarray
    sb: np.ndarray
    drain: np.ndarray
    hill_k: np.ndarray
    night: np.ndarray


def make_met(rng: np.random.Generator, times: pd.DatetimeIndex, terr: Terrain) -> Met:
    n = len(times)
    hod = times.hour.to_numpy() + 0.5
    doy = times.day_of_year.to_numpy()
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)  # +1 mid-July, -1 mid-January
    sunrise = 6.0 - 0.9 * season
    sunset = 18.3 + 1.1 * season
    day = (hod > sunrise) & (hod < sunset)
    sol = np.where(day, np.sin(np.pi * np.clip((hod - sunrise) / (sunset - sunrise), 0, 1)), 0.0)
    sol *= 0.65 + 0.35 * season
    nday = n // 24 + 2
    cl = np.empty(nday)
    cl[0] = rng.uniform()
    for i in range(1, nday):
        cl[i] = np.clip(0.6 * cl[i - 1] + 0.4 * rng.uniform() + rng.normal(0, 0.1), 0, 1)
    cloud = cl[np.arange(n) // 24]
    # synoptic regimes
    winter_dir = rng.uniform(290, 360)
    summer_dir = (winter_dir + rng.uniform(150, 200)) % 360
    d_from = np.empty(n)
    spd = np.empty(n)
    i = 0
    while i < n:
        length = int(rng.integers(36, 130))
        s = season[i]
        p_summer = (s + 1) / 2
        if rng.uniform() < 0.75:
            base = summer_dir if rng.uniform() < p_summer else winter_dir
        else:
            base = rng.uniform(0, 360)
        base = base + rng.normal(0, 25)
        mean_sp = rng.uniform(1.5, 5.5) * (1.15 - 0.25 * s)
        ang = 0.0
        sp = mean_sp
        for j in range(i, min(n, i + length)):
            ang = 0.93 * ang + rng.normal(0, 9)
            sp = max(0.3, 0.9 * sp + 0.1 * mean_sp + rng.normal(0, 0.35))
            d_from[j] = base + ang
            spd[j] = sp
        i += length
    diurnal = np.where(day, 1.0 + 0.35 * sol, 0.6)
    spd = np.maximum(0.25, spd * diurnal)
    to = np.radians(d_from + 180.0)
    su = spd * np.sin(to)
    sv = spd * np.cos(to)
    # stability (Pasquill A..F = 0..5)
    rad = sol * (1 - 0.7 * cloud)
    stab = np.full(n, 3)
    strong, mod = rad > 0.55, (rad > 0.3) & (rad <= 0.55)
    slight = day & (rad <= 0.3)
    u = spd
    stab[strong & (u < 3)] = 0
    stab[strong & (u >= 3) & (u < 5)] = 1
    stab[strong & (u >= 5)] = 2
    stab[mod & (u < 2)] = 0
    stab[mod & (u >= 2) & (u < 5)] = 1
    stab[mod & (u >= 5)] = 3
    stab[slight & (u < 2)] = 1
    stab[slight & (u >= 2) & (u < 5)] = 2
    stab[slight & (u >= 5)] = 3
    nt = ~day
    clear = cloud < 0.5
    stab[nt & clear & (u < 3)] = 5
    stab[nt & clear & (u >= 3) & (u < 5)] = 4
    stab[nt & ~clear & (u < 3)] = 4
    stab[nt & (u >= 5)] = 3
    # mixing height: grows through the morning, collapses at dusk
    day_max = np.array([1600, 1300, 1000, 750, 400, 400])[stab] * (0.8 + 0.4 * rng.uniform(size=n))
    grow = 100 + (hod - sunrise) * rng.uniform(220, 380)
    night_mh = np.array([400, 400, 400, 450, 200, 110])[stab] * (0.8 + 0.4 * rng.uniform(size=n))
    mh = np.where(day, np.minimum(day_max, np.maximum(grow, 120)), night_mh)
    # sea breeze: onshore by day in the warm half, weak land breeze at night
    sb = np.zeros(n)
    if terr.coast:
        warm = np.clip(0.3 + 0.7 * (season + 0.3), 0, 1)
        day_sb = terr.sb_amp * warm * np.clip(np.sin(np.pi * (hod - 9.5) / 9.0), 0, None)
        day_sb *= np.clip(1 - spd / 7.0, 0, 1) * (1 - 0.6 * cloud)
        sb = np.where((hod > 9.5) & (hod < 18.5), day_sb, 0.0)
        sb = np.where(nt & (spd < 3), -0.9 * warm, sb)
    drain = np.zeros(n)
    if terr.valley:
        drain = np.where(nt & (stab >= 4), -terr.drain_amp * (1 - 0.5 * cloud), 0.0)
        drain = np.where(day & (sol > 0.4), 0.4 * terr.drain_amp * sol, drain)
    hill_k = np.where(stab >= 4, 1.0, np.where(stab == 3, 0.6, 0.25))
    return Met(times, su, sv, stab, mh, sb, drain, hill_k, nt)


def wind_at(terr: Terrain, met: Met, h: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    U, V = met.su[h], met.sv[h]
    along = (x * terr.rot_axis[0] + y * terr.rot_axis[1]) / 20000.0
    ang = terr.rot_grad * np.clip(along, -3, 3)
    ca, sa = np.cos(ang), np.sin(ang)
    u = U * ca - V * sa
    v = U * sa + V * ca
    if terr.coast:
        d = terr.coast_d - (x * terr.sea_n[0] + y * terr.sea_n[1])  # >0 inland
        f = np.where(d > 0, np.exp(-d / 18000.0), np.exp(d / 8000.0))
        # onshore = towards -sea_n
        u = u - met.sb[h] * f * terr.sea_n[0]
        v = v - met.sb[h] * f * terr.sea_n[1]
        over_sea = d < 0
        u = np.where(over_sea, u * 1.3, u)
        v = np.where(over_sea, v * 1.3, v)
    if terr.valley:
        ax, ay = terr.v_axis
        c = -x * ay + y * ax
        w = 1.0 / (1.0 + np.exp((np.abs(c) - terr.v_half) / 600.0))
        al = u * ax + v * ay
        cr = -u * ay + v * ax
        damp = 0.55 if met.night[h] else 0.8
        al_in = al * damp + met.drain[h]
        cr_in = cr * 0.25
        ui = al_in * ax - cr_in * ay
        vi = al_in * ay + cr_in * ax
        u = w * ui + (1 - w) * u
        v = w * vi + (1 - w) * v
    if terr.hill:
        k = met.hill_k[h]
        zx = x - terr.hill_c[0]
        zy = y - terr.hill_c[1]
        r2 = zx * zx + zy * zy
        R2 = terr.hill_r ** 2
        r2c = np.maximum(r2, 1.1 * R2)
        # velocity = q - conj(q) R^2 / conj(z)^2 ;   conj(z)^2 = (zx^2 - zy^2) - 2 i zx zy
        q = u + 1j * v
        cz2 = (zx * zx - zy * zy) - 2j * zx * zy
        cz2 = cz2 * (r2c / np.maximum(r2, 1.0))
        pert = -np.conj(q) * R2 / cz2
        pert = np.where(r2 < 25 * R2, pert, 0)
        u = u + k * pert.real
        v = v + k * pert.imag
        inside = r2 < R2
        if np.any(inside):
            rr = np.sqrt(np.maximum(r2, 1.0))
            u = np.where(inside, u + 1.5 * zx / rr, u)
            v = np.where(inside, v + 1.5 * zy / rr, v)
    return u, v


# --------------------------------------------------------------------------- emissions


def seasonal_windows(rng: np.random.Generator, times: pd.DatetimeIndex, months: tuple[int, ...],
                     days: int) -> np.ndarray:
    on = np.zeros(len(times), bool)
    dates = times.normalize()
    for m in months:
        sel = np.unique(dates[times.month == m])
        if len(sel) == 0:
            continue
        pick = rng.choice(sel, size=min(days, len(sel)), replace=False)
        on |= dates.isin(pick)
    return on


def emission_series(rng: np.random.Generator, f: Firm, times: pd.DatetimeIndex) -> np.ndarray:
    n = len(times)
    hod = times.hour.to_numpy()
    dow = times.day_of_week.to_numpy()
    month = times.month.to_numpy()
    doy = times.day_of_year.to_numpy()
    warm = 0.5 + 0.5 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    e = np.zeros(n)
    b = f.behaviour
    if f.stype == "pulp":
        base = rng.uniform(2e4, 6e4)
        e[:] = base
        t = 0
        while t < n:
            t += int(rng.exponential(24 * rng.uniform(8, 18)))
            dur = int(rng.uniform(6, 48))
            e[t:t + dur] += rng.uniform(8e5, 3e6)
    elif f.stype == "coking":
        e[:] = rng.uniform(4e4, 1e5)
        if b == "batch":
            period = int(rng.integers(3, 6))
            ph = int(rng.integers(0, period))
            push = ((np.arange(n) + ph) % period) == 0
            e[push] += rng.uniform(8e5, 2e6)
        else:
            t = 0
            while t < n:
                t += int(rng.exponential(24 * 10))
                dur = int(rng.uniform(4, 30))
                e[t:t + dur] += rng.uniform(6e5, 1.5e6)
    elif f.stype == "pharma":
        if b == "batch":
            t = int(rng.integers(0, 72))
            while t < n:
                dur = int(rng.uniform(5, 10))
                e[t:t + dur] += rng.uniform(5e5, 2e6)
                t += int(rng.uniform(60, 120))
        else:  # night_covert: bypassing the scrubber on some nights
            nights = rng.uniform(size=n // 24 + 2) < rng.uniform(0.2, 0.45)
            dayidx = np.arange(n) // 24
            night = (hod >= 22) | (hod <= 3)
            e[night & nights[dayidx]] = rng.uniform(6e5, 2e6)
            e += 1e4
    elif f.stype == "landfill":
        e[:] = rng.uniform(1.2e5, 3.5e5) * (0.4 + 1.6 * warm)
        e[(hod >= 8) & (hod <= 17)] *= 1.5  # open working face
        t = 0
        while t < n:
            t += int(rng.exponential(24 * 20))
            e[t:t + int(rng.uniform(24, 96))] *= 2.5
    elif f.stype == "restaurant":
        q = rng.uniform(4e3, 2.5e4)
        lunch = (hod >= 11) & (hod <= 13)
        dinner = (hod >= 17) & (hod <= 21)
        e[lunch] = q * 0.7
        e[dinner] = q * np.where(dow[dinner] >= 4, 1.4, 1.0)
        late = (hod >= 22) | (hod <= 1)
        if rng.uniform() < 0.5:  # late-night barbecue in summer
            e[late] = q * 0.8 * (warm[late] > 0.6)
    elif f.stype == "paint":
        q = rng.uniform(1.5e4, 6e4)
        if b == "workday":
            work = (dow < 6) & (hod >= 8) & (hod <= 17) & (hod != 12)
            spray = rng.uniform(size=n) < 0.45
            e[work & spray] = q
        else:
            nights = rng.uniform(size=n // 24 + 2) < rng.uniform(0.25, 0.5)
            dayidx = np.arange(n) // 24
            night = (hod >= 21) | (hod <= 2)
            e[night & nights[dayidx]] = q * 2.0
    elif f.stype == "transfer":
        q = rng.uniform(2e4, 8e4) * (0.5 + 1.5 * warm)
        e[:] = q * 0.15
        e[(hod >= 5) & (hod <= 9)] = q[(hod >= 5) & (hod <= 9)]
        e[(hod >= 16) & (hod <= 18)] = 0.7 * q[(hod >= 16) & (hod <= 18)]
    elif f.stype == "food":
        q = rng.uniform(6e4, 2.5e5)
        dayidx = np.arange(n) // 24
        if b == "batch":
            prod = rng.uniform(size=n // 24 + 2) < 0.45
            e[prod[dayidx] & (hod >= 7) & (hod <= 20)] = q
        else:
            start_m = int(rng.choice(np.unique(month)))
            season_m = {start_m, start_m % 12 + 1, (start_m + 1) % 12 + 1}
            on = np.isin(month, list(season_m))
            e[on] = q * np.where((hod >= 6) & (hod <= 22), 1.0, 0.5)[on]
    elif f.stype == "manure":
        on = seasonal_windows(rng, times, (3, 4, 9, 10), int(rng.integers(5, 11)))
        q = rng.uniform(2e5, 8e5)
        spread = on & (hod >= 7) & (hod <= 17)
        e[spread] = q
        # fields keep smelling for ~2 days after spreading
        k = np.exp(-np.arange(48) / 18.0)
        tail = np.convolve(spread.astype(float), k)[:n] * q * 0.12
        e = np.maximum(e, tail)
        e += 3e3
    if f.closed_on is not None:
        e[times >= pd.Timestamp(f.closed_on)] = 0.0
    return e


# --------------------------------------------------------------------------- puffs


SIG_H_RATE = np.array([0.22, 0.16, 0.11, 0.08, 0.06, 0.04])
SIG_Z_RATE = np.array([0.20, 0.12, 0.08, 0.06, 0.03, 0.016])
SIG_Z_DAMP = np.array([0.0, 0.0, 0.0002, 0.0015, 0.0003, 0.0003])


def simulate(terr: Terrain, met: Met, firms: list[Firm], emis: np.ndarray, rec: list[Receptor],
             store_min: float = 0.15) -> dict[str, np.ndarray]:
    """Hourly block-average concentration (OU/m3) per receptor and source, sparse."""
    n_src, n = emis.shape
    rx = np.array([r.x for r in rec])
    ry = np.array([r.y for r in rec])
    rs2 = np.array([r.spread for r in rec]) ** 2
    sx = np.array([f.x for f in firms])
    sy = np.array([f.y for f in firms])
    sH = np.array([f.H for f in firms])
    s0 = np.array([f.sigma0 for f in firms])
    # puff state
    px = np.zeros(0)
    py = np.zeros(0)
    pm = np.zeros(0)
    ph = np.zeros(0)
    psh = np.zeros(0)
    psz = np.zeros(0)
    pd_ = np.zeros(0)  # travelled distance
    pal = np.zeros(0, bool)  # aloft / decoupled
    pls = np.zeros(0, int)
    page = np.zeros(0)
    out_h: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    out_c: list[np.ndarray] = []
    n_rec = len(rec)
    for h in range(n):
        stab = int(met.stab[h])
        mh = float(met.mh[h])
        stable_night = bool(met.night[h]) and stab >= 4
        acc = np.zeros((n_rec, n_src))
        for _ in range(SUBSTEPS):
            # release
            on = emis[:, h] > 0
            if np.any(on):
                k = np.nonzero(on)[0]
                jit = 15.0
                px = np.concatenate([px, sx[k] + np.random.default_rng(h).normal(0, jit, len(k))])
                py = np.concatenate([py, sy[k]])
                pm = np.concatenate([pm, emis[k, h] * DT_S])
                ph = np.concatenate([ph, sH[k]])
                psh = np.concatenate([psh, s0[k]])
                psz = np.concatenate([psz, np.maximum(5.0, 0.3 * s0[k].clip(max=60))])
                pd_ = np.concatenate([pd_, np.zeros(len(k))])
                pal = np.concatenate([pal, stable_night & (sH[k] > mh)])
                pls = np.concatenate([pls, k])
                page = np.concatenate([page, np.zeros(len(k))])
            if len(px) == 0:
                continue
            # advect (RK2)
            u1, v1 = wind_at(terr, met, h, px, py)
            mx = px + 0.5 * DT_S * u1
            my = py + 0.5 * DT_S * v1
            u2, v2 = wind_at(terr, met, h, mx, my)
            # decoupled puffs aloft move with the stronger wind above the inversion
            boost = np.where(pal, 1.6, 1.0)
            nx = px + DT_S * u2 * boost
            ny = py + DT_S * v2 * boost
            ds = np.hypot(nx - px, ny - py)
            # growth
            psh = psh + SIG_H_RATE[stab] * ds / np.sqrt(1 + 0.0001 * pd_) + 0.05 * DT_S
            psz = psz + SIG_Z_RATE[stab] * ds / np.sqrt(1 + SIG_Z_DAMP[stab] * pd_)
            pd_ = pd_ + ds
            page = page + DT_S
            # vertical coupling
            if stable_night:
                pal = pal | (ph > mh) | (psz > 1.5 * mh)
            else:
                fum = pal & (mh >= ph)
                psz = np.where(fum, mh, psz)
                ph = np.where(fum, 0.0, ph)
                pal = pal & ~fum
                psz = np.minimum(psz, np.where(pal, psz, 1.2 * mh))
            if stable_night:
                psz = np.where(~pal, np.minimum(psz, mh), psz)
            well = psz >= 0.8 * mh
            g = np.where(well, 1.0 / mh,
                         2.0 / (math.sqrt(2 * math.pi) * psz) * np.exp(-ph ** 2 / (2 * psz ** 2)))
            g = np.where(pal, 0.0, g)
            peak = pm * g / (2 * math.pi * (psh ** 2 + 200.0 ** 2)) * 4
            act = np.nonzero(peak > 0.05)[0]
            if len(act):
                x0 = px[act]
                y0 = py[act]
                dx = nx[act] - x0
                dy = ny[act] - y0
                L = np.maximum(np.hypot(dx, dy), 1e-3)
                ex, ey = dx / L, dy / L
                Rx = rx[None, :] - x0[:, None]
                Ry = ry[None, :] - y0[:, None]
                t = Rx * ex[:, None] + Ry * ey[:, None]
                cr2 = np.maximum(Rx * Rx + Ry * Ry - t * t, 0.0)
                s2 = psh[act, None] ** 2 + rs2[None, :]
                near = (cr2 < 16 * s2) & (t > -4 * np.sqrt(s2)) & (t < L[:, None] + 4 * np.sqrt(s2))
                ii, jj = np.nonzero(near)
                if len(ii):
                    s2v = s2[ii, jj]
                    sq = np.sqrt(2 * s2v)
                    tv = t[ii, jj]
                    Lv = L[ii]
                    along = np.sqrt(math.pi * 2 * s2v) / np.maximum(Lv, 1e-3) * 0.5 * (
                        erf((Lv - tv) / sq) + erf(tv / sq))
                    small = Lv < 1.0
                    along = np.where(small, np.exp(-tv ** 2 / (2 * s2v)), along)
                    c = (pm[act][ii] * g[act][ii] / (2 * math.pi * s2v) * along
                         * np.exp(-cr2[ii, jj] / (2 * s2v)))
                    src = pls[act][ii]
                    np.add.at(acc, (jj, src), c)
            px, py = nx, ny
            # retire
            potential = pm / (2 * math.pi * psh ** 2) / np.maximum(np.where(pal, 300.0, psz * 2.5), 30.0)
            keep = (page < 30 * 3600) & (np.abs(px) < 70000) & (np.abs(py) < 70000) & (potential > 0.05)
            if not np.all(keep):
                px, py, pm, ph, psh, psz = px[keep], py[keep], pm[keep], ph[keep], psh[keep], psz[keep]
                pd_, pal, pls, page = pd_[keep], pal[keep], pls[keep], page[keep]
        acc /= SUBSTEPS
        tot = acc.sum(axis=1)
        r = np.nonzero(tot > store_min)[0]
        if len(r):
            out_h.append(np.full(len(r), h))
            out_r.append(r)
            out_c.append(acc[r].astype(np.float32))
    if not out_h:
        return {"h": np.zeros(0, int), "r": np.zeros(0, int), "c": np.zeros((0, n_src), np.float32)}
    return {"h": np.concatenate(out_h), "r": np.concatenate(out_r), "c": np.concatenate(out_c)}


# --------------------------------------------------------------------------- the world


class World:
    def __init__(self, seed: int, overrides: dict[str, Any] | None = None) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        # format-only randomness has its own stream, so that overriding a format keeps the world
        self.frng = np.random.default_rng([seed, 99])
        rng = self.rng
        self.geo = Geo(float(rng.uniform(114.0, 121.5)), float(rng.uniform(30.0, 37.5)))
        year = int(rng.integers(2023, 2027))
        month = int(rng.integers(1, 13))
        self.n_months = int(rng.integers(6, 13))
        self.start = datetime(year, month, 1)
        end = pd.Timestamp(self.start) + pd.DateOffset(months=self.n_months)
        self.times = pd.date_range(self.start, end, freq="h", inclusive="left")
        self.formats = self._formats()
        self.formats.update(overrides or {})
        self.terr = self._terrain()
        self.rec = self._people()
        self.firms: list[Firm] = []
        self._enterprises()

    # ---------------------------------------------------------------- formats
    def _formats(self) -> dict[str, Any]:
        rng = self.rng
        f: dict[str, Any] = {}
        f["headers"] = str(rng.choice(["en", "zh"], p=[0.5, 0.5]))
        f["encoding"] = str(rng.choice(["utf-8", "gb18030"], p=[0.6, 0.4]))
        f["crs_mode"] = str(rng.choice(["row_mixed", "file_const", "toml_default", "wgs84"],
                                       p=[0.35, 0.25, 0.2, 0.2]))
        f["file_crs"] = str(rng.choice(["gcj02", "bd09", "wgs84"]))
        f["ent_crs"] = str(rng.choice(["wgs84", "gcj02", "bd09"]))
        f["time_style"] = str(rng.choice(
            ["iso", "iso_t", "cn", "cn_shifen", "slash", "excel", "epoch_s", "epoch_ms", "mixed"]))
        f["wind_style"] = str(rng.choice(["deg", "cn16"], p=[0.5, 0.5]))
        f["wind_headers"] = str(rng.choice(["en", "zh"]))
        f["wind_station_coords"] = bool(rng.uniform() < 0.6)
        f["category_share"] = float(rng.choice([0.0, 0.5, 1.0]))
        f["no_coord_share"] = float(rng.choice([0.0, 0.02, 0.05]))
        f["alarms"] = bool(rng.uniform() < 0.8)
        f["ent_time_style"] = str(rng.choice(["iso_date", "cn_date", "slash_date"]))
        # later additions draw from the format stream, so earlier worlds stay the same
        f["file_type"] = str(self.frng.choice(["csv", "xlsx"], p=[0.75, 0.25]))
        f["empty_text_share"] = float(self.frng.choice([0.0, 0.01, 0.03]))
        return f

    # ---------------------------------------------------------------- terrain
    def _terrain(self) -> Terrain:
        rng = self.rng
        kind = str(rng.choice(["coast", "valley", "coast_hill", "valley_hill", "hill"]))
        self.terrain_kind = kind
        t = Terrain()
        t.rot_grad = math.radians(rng.uniform(-15, 15))
        a = rng.uniform(0, 2 * math.pi)
        t.rot_axis = (math.cos(a), math.sin(a))
        if "coast" in kind:
            t.coast = True
            a = rng.uniform(0, 2 * math.pi)
            t.sea_n = (math.cos(a), math.sin(a))
            t.coast_d = rng.uniform(4000, 12000)
            t.sb_amp = rng.uniform(2.5, 5.0)
        if "valley" in kind:
            t.valley = True
            a = rng.uniform(0, 2 * math.pi)
            t.v_axis = (math.cos(a), math.sin(a))
            t.v_half = rng.uniform(2500, 5000)
            t.drain_amp = rng.uniform(1.2, 2.8)
        return t

    # ---------------------------------------------------------------- people
    def _people(self) -> list[Receptor]:
        rng = self.rng
        t = self.terr
        rec: list[Receptor] = []
        names_used: set[str] = set()

        def estate_name() -> str:
            for _ in range(100):
                nm = str(rng.choice(COMMUNITY)) + str(rng.choice(ESTATE))
                if nm not in names_used:
                    names_used.add(nm)
                    return nm
            nm = f"{rng.choice(COMMUNITY)}{len(names_used)}号{rng.choice(ESTATE)}"
            names_used.add(nm)
            return nm

        def add_town(cx: float, cy: float, radius: float, spacing: float, dens: float,
                     area: str, group0: int) -> int:
            lobes = rng.uniform(0.7, 1.3, size=6)
            g = group0
            gmap: dict[tuple[int, int], int] = {}
            n = int(radius / spacing) + 1
            for i in range(-n, n + 1):
                for j in range(-n, n + 1):
                    x = cx + i * spacing + rng.normal(0, spacing * 0.1)
                    y = cy + j * spacing + rng.normal(0, spacing * 0.1)
                    ang = math.atan2(y - cy, x - cx)
                    rr = radius * np.interp(ang % (2 * math.pi), np.linspace(0, 2 * math.pi, 7),
                                            np.append(lobes, lobes[0]))
                    dist = math.hypot(x - cx, y - cy)
                    if dist > rr or rng.uniform() < 0.08:
                        continue
                    if t.in_sea(np.array(x), np.array(y)) or not t.in_valley(np.array(x), np.array(y)):
                        continue
                    hh = int(dens * rng.uniform(0.4, 1.6) * (1.3 - 0.8 * dist / rr))
                    key = (i // 3, j // 3)
                    if key not in gmap:
                        gmap[key] = g
                        g += 1
                    rec.append(Receptor(estate_name(), x, y, max(hh, 30), "block", gmap[key], area,
                                        spacing * 0.45))
            return g

        g = add_town(0.0, 0.0, rng.uniform(1800, 3300), rng.uniform(300, 400), rng.uniform(300, 900),
                     "城关街道", 0)
        # a second, smaller town
        for _ in range(50):
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(6000, 14000)
            cx, cy = d * math.cos(a), d * math.sin(a)
            if not t.in_sea(np.array(cx), np.array(cy)) and t.in_valley(np.array(cx), np.array(cy)):
                break
        self.town2 = (cx, cy)
        g = add_town(cx, cy, rng.uniform(700, 1400), 350, rng.uniform(150, 400), str(rng.choice(TOWNSHIP[3:])), g)
        nv = int(rng.integers(20, 60))
        vnames: set[str] = set()
        k = 0
        while k < nv:
            a = rng.uniform(0, 2 * math.pi)
            d = math.sqrt(rng.uniform(2500 ** 2, 22000 ** 2))
            x, y = d * math.cos(a), d * math.sin(a)
            if t.in_sea(np.array(x), np.array(y)):
                continue
            if t.valley and not t.in_valley(np.array(x), np.array(y)) and rng.uniform() < 0.7:
                continue
            nm = str(rng.choice(list(VILLAGE1))) + str(rng.choice(VILLAGE2))
            if nm in vnames:
                nm = nm[:-1] + str(rng.choice(list(VILLAGE1))) + nm[-1]
            if nm in vnames:
                continue
            vnames.add(nm)
            town = TOWNSHIP[3 + int((math.degrees(a) % 360) // 45)]
            rec.append(Receptor(nm, x, y, int(rng.uniform(60, 450)), "village", g, town, 280.0))
            g += 1
            k += 1
        return rec

    # ---------------------------------------------------------------- enterprises
    def _place(self, cx: float, cy: float, r_min: float, r_max: float) -> tuple[float, float]:
        rng = self.rng
        for _ in range(200):
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(r_min, r_max)
            x, y = cx + d * math.cos(a), cy + d * math.sin(a)
            if self.terr.in_sea(np.array(x), np.array(y)):
                continue
            if self.terr.hill and math.hypot(x - self.terr.hill_c[0], y - self.terr.hill_c[1]) < 1.2 * self.terr.hill_r:
                continue
            return x, y
        return cx, cy

    def _name(self, suffix: str, used: set[str]) -> tuple[str, str]:
        rng = self.rng
        for _ in range(500):
            zh = str(rng.choice(list(ZI1))) + str(rng.choice(list(ZI2)))
            if zh not in used:
                used.add(zh)
                county = str(rng.choice(["", "", "临港", "平川", "县", "市"]))
                return f"{county}{zh}{suffix}", zh
        zh = f"第{len(used)}"
        used.add(zh)
        return f"{zh}{suffix}", zh

    def _firm(self, kind: str, role: str, x: float, y: float, stype: str = "",
              code: tuple[str, str, str] | None = None) -> Firm:
        rng = self.rng
        eid = f"QY{len(self.firms) + 1:04d}"
        if stype:
            spec = SOURCE_TYPES[stype]
            c, cn = spec["codes"][int(rng.integers(0, len(spec["codes"])))]
            suffix = str(rng.choice(spec["suffix"]))
            if stype == "landfill":
                place = str(rng.choice(["城东", "城西", "北山", "南岭", "县"])) + str(rng.choice(["", "第二", "静脉产业园"]))
                name = f"{place}{suffix}"
                short = f"{place}填埋场" if place else "填埋场"
                if name in {f.name for f in self.firms}:
                    name = f"{place}{len(self.firms)}号{suffix}"
                zi = place
            elif stype == "transfer":
                zi = str(rng.choice(COMMUNITY)) + "路"
                name = f"{zi}{suffix}"
                short = f"{zi}中转站"
            else:
                name, zi = self._name(suffix, self._used)
                short = zi + spec["short"] if spec["short"] else name.replace("有限公司", "")
            H = float(rng.uniform(*spec["H"]))
            f = Firm(eid, name, short, c, cn, x, y, kind, role, stype=stype, H=H,
                     sigma0=float(spec["sigma0"]), hedonic=float(spec["hedonic"]))
            f.monitor = bool(spec["big"] and rng.uniform() < 0.8)
        else:
            assert code is not None
            name, zi = self._name(code[2], self._used)
            f = Firm(eid, name, zi, code[0], code[1], x, y, kind, role)
            f.monitor = kind == "innocent" and rng.uniform() < 0.5
        self.firms.append(f)
        return f

    def _enterprises(self) -> None:
        rng = self.rng
        t = self.terr
        self._used: set[str] = set()
        town_r = max(math.hypot(r.x, r.y) for r in self.rec if r.kind == "block" and abs(r.x) < 5000 and abs(r.y) < 5000)
        # chemical park
        park_d = rng.uniform(5000, 13000)
        if t.valley:
            sgn = 1 if rng.uniform() < 0.65 else -1  # up-valley: night drainage carries odour to town
            park = (sgn * park_d * t.v_axis[0], sgn * park_d * t.v_axis[1])
        elif t.coast:
            park = (t.sea_n[0] * (t.coast_d - 1500) - t.sea_n[1] * rng.uniform(-6000, 6000),
                    t.sea_n[1] * (t.coast_d - 1500) + t.sea_n[0] * rng.uniform(-6000, 6000))
        else:
            a = rng.uniform(0, 2 * math.pi)
            park = (park_d * math.cos(a), park_d * math.sin(a))
        self.park = park
        if "hill" in self.terrain_kind:
            t.hill = True
            dn = math.hypot(*park)
            t.hill_r = rng.uniform(900, 2200)
            lo_d = town_r + t.hill_r + 600
            hi_d = dn - t.hill_r - 1200
            if hi_d < lo_d:
                t.hill_r = max(500.0, (dn - town_r - 1800) / 2)
                lo_d = hi_d = town_r + t.hill_r + 600
            hd = rng.uniform(lo_d, max(lo_d, hi_d))
            off = rng.uniform(-700, 700)
            t.hill_c = (park[0] / dn * hd - park[1] / dn * off, park[1] / dn * hd + park[0] / dn * off)
            self.rec = [r for r in self.rec
                        if math.hypot(r.x - t.hill_c[0], r.y - t.hill_c[1]) > 1.1 * t.hill_r]
        # how many true sources and of which kinds
        n_big = int(rng.integers(1, 4))
        n_small = int(rng.integers(1, 6))
        n_manure = int(rng.integers(0, 2))
        n_big = max(n_big, 3 - n_small - n_manure)
        bigs = list(rng.choice(["pulp", "coking", "pharma", "landfill"], size=n_big, replace=False))
        smalls = list(rng.choice(["restaurant", "paint", "transfer", "food", "restaurant", "paint"],
                                 size=n_small, replace=True))
        src_types = bigs + smalls + ["manure"] * n_manure
        # park: same-industry neighbours first
        park_members = 0
        for st in ["coking", "pharma"]:
            n_same = int(rng.integers(1, 3)) if st in bigs else int(rng.integers(0, 2))
            for _ in range(n_same):
                x, y = self._place(*park, 200, 1500)
                self._firm(st, "decoy_park_same_industry", x, y, stype=st)
                park_members += 1
        for _ in range(int(rng.integers(2, 6))):
            x, y = self._place(*park, 200, 1800)
            code = INNOCENT_ODOUR[int(rng.integers(0, len(INNOCENT_ODOUR)))]
            self._firm("innocent", "decoy_park", x, y, code=code)
        # the true sources
        villages = [r for r in self.rec if r.kind == "village"]
        for st in src_types:
            if st in ("coking", "pharma"):
                x, y = self._place(*park, 100, 1500)
            elif st == "pulp":
                if t.coast:
                    x, y = self._place(t.sea_n[0] * (t.coast_d - 800), t.sea_n[1] * (t.coast_d - 800), 2000, 9000)
                elif t.valley:
                    sgn = -1 if rng.uniform() < 0.5 else 1
                    d = rng.uniform(6000, 14000)
                    x, y = sgn * d * t.v_axis[0], sgn * d * t.v_axis[1]
                else:
                    x, y = self._place(0, 0, 6000, 14000)
            elif st == "landfill":
                x, y = self._place(0, 0, 4000, 10000)
            elif st in ("restaurant", "paint"):
                x, y = self._place(0, 0, 100, town_r * 0.9)
            elif st == "transfer":
                x, y = self._place(0, 0, town_r * 0.7, town_r + 1500)
            elif st == "food":
                x, y = self._place(0, 0, town_r, town_r + 3500)
            else:  # manure near a village
                v = villages[int(rng.integers(0, len(villages)))]
                x, y = self._place(v.x, v.y, 500, 1500)
            f = self._firm(st, "source", x, y, stype=st)
            f.behaviour = str(rng.choice(SOURCE_TYPES[st]["behaviours"]))
            if rng.uniform() < 0.12 and len(self.times) > 24 * 90:
                f.status = "closed"
                f.closed_on = (self.start + timedelta(days=int(rng.integers(60, len(self.times) // 24 - 20)))).replace(hour=0)
                f.notes.append("closed during period: no emission after closed_on")
        sources = [f for f in self.firms if f.role == "source"]
        # innocent odour firms right next to true sources
        for s in sources:
            if rng.uniform() < 0.75:
                for _ in range(int(rng.integers(1, 3))):
                    x, y = self._place(s.x, s.y, 150, 800)
                    if rng.uniform() < 0.5 and s.stype in ("restaurant", "paint", "food", "transfer"):
                        self._firm(s.stype, "decoy_next_to_source", x, y, stype=s.stype)
                    else:
                        code = INNOCENT_ODOUR[int(rng.integers(0, len(INNOCENT_ODOUR)))]
                        self._firm("innocent", "decoy_next_to_source", x, y, code=code)
        # many small odour firms among homes
        for st, nmin, nmax in [("restaurant", 8, 35), ("paint", 4, 14), ("transfer", 1, 4), ("food", 2, 7)]:
            for _ in range(int(rng.integers(nmin, nmax))):
                if st == "food":
                    x, y = self._place(0, 0, town_r * 0.8, town_r + 4000)
                elif st == "transfer":
                    x, y = self._place(0, 0, town_r * 0.5, town_r + 1500)
                else:
                    x, y = self._place(0, 0, 50, town_r)
                self._firm(st, "decoy_near_home", x, y, stype=st)
        # innocent odour firms near homes (sewage works, brewery...)
        for _ in range(int(rng.integers(2, 6))):
            x, y = self._place(0, 0, town_r * 0.6, town_r + 2000)
            code = INNOCENT_ODOUR[int(rng.integers(0, len(INNOCENT_ODOUR)))]
            self._firm("innocent", "decoy_near_home", x, y, code=code)
        # farms near villages
        for _ in range(int(rng.integers(3, 12))):
            v = villages[int(rng.integers(0, len(villages)))]
            x, y = self._place(v.x, v.y, 300, 1500)
            self._firm("manure", "decoy_farm", x, y, stype="manure")
        # a big same-type innocent plant somewhere else (another landfill/pulp/...)
        for st in ["pulp", "landfill", "coking"]:
            if rng.uniform() < 0.35:
                x, y = self._place(0, 0, 5000, 16000)
                self._firm(st, "decoy_far_same_type", x, y, stype=st)
        # closed firms: before the period (near town) and during it
        for _ in range(int(rng.integers(1, 4))):
            if rng.uniform() < 0.5 and sources:
                s = sources[int(rng.integers(0, len(sources)))]
                x, y = self._place(s.x, s.y, 300, 2500)
            else:
                x, y = self._place(0, 0, 500, town_r + 3000)
            st = str(rng.choice(["pulp", "coking", "pharma", "food", "landfill", "paint"]))
            f = self._firm(st, "decoy_closed_before", x, y, stype=st)
            f.status = "closed"
            f.closed_on = self.start - timedelta(days=int(rng.integers(30, 700)))
        for _ in range(int(rng.integers(0, 3))):
            x, y = self._place(0, 0, 500, 12000)
            st = str(rng.choice(["coking", "pharma", "food", "paint"]))
            f = self._firm(st, "decoy_closed_during", x, y, stype=st)
            f.status = "closed"
            f.closed_on = self.start + timedelta(days=int(rng.integers(20, len(self.times) // 24 - 10)))
        # fillers
        n_target = int(rng.integers(max(50, len(self.firms) + 10), 400))
        while len(self.firms) < n_target:
            code = FILLERS[int(rng.integers(0, len(FILLERS)))]
            if rng.uniform() < 0.5:
                x, y = self._place(*park, 100, 3000)
            else:
                x, y = self._place(0, 0, 300, 18000)
            self._firm("filler", "filler", x, y, code=code)
        order = rng.permutation(len(self.firms))
        firms = [self.firms[i] for i in order]
        for i, f in enumerate(firms):
            f.eid = f"QY{i + 1:04d}"
        self.firms = firms

    # ---------------------------------------------------------------- the physics run
    def run(self) -> None:
        rng = self.rng
        self.met = make_met(rng, self.times, self.terr)
        self.sources = [f for f in self.firms if f.role == "source"]
        emis = np.array([emission_series(rng, f, self.times) for f in self.sources])
        self.emis = emis
        sim = simulate(self.terr, self.met, self.sources, emis, self.rec)
        self.sim = sim
        self._complaints()
        self._station_series()

    # ---------------------------------------------------------------- people's response
    def _annoyance(self, c: np.ndarray, thr: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hed = np.array([f.hedonic for f in self.sources])
        cs = c * scale[None, :]
        tot = cs.sum(axis=1)
        S = np.power(np.maximum(tot, 0) / thr, 0.45)
        w = (cs * hed[None, :]).sum(axis=1) / np.maximum(tot, 1e-12)
        return S * w, cs

    def _complaints(self) -> None:
        rng = self.rng
        sim = self.sim
        hh = np.array([r.households for r in self.rec], float)
        # complaint-prone households (about 1 %); each complains at most once a day
        active = np.maximum(1.0, np.round(hh * np.exp(rng.normal(np.log(0.008), 0.5, len(self.rec)))))
        thr = np.exp(rng.normal(np.log(1.2), 0.4, len(self.rec)))
        self.thr = thr
        n_src = len(self.sources)
        h_arr, r_arr, c_arr = sim["h"], sim["r"], sim["c"].astype(float)
        hod = self.times.hour.to_numpy()
        dow = self.times.day_of_week.to_numpy()
        presence = np.select([hod < 6, hod < 9, hod < 17, hod < 22], [0.3, 1.3, 0.8, 1.4], 0.7)
        presence = presence * np.where(dow >= 5, 1.2, 1.0)
        # habituation: exposure memory per receptor (tau ~ 60 days), computed in time order
        order = np.argsort(h_arr, kind="stable")
        h_arr, r_arr, c_arr = h_arr[order], r_arr[order], c_arr[order]

        def response(A: np.ndarray) -> np.ndarray:
            # Stevens-law annoyance above the block's threshold, saturating
            return np.minimum(np.maximum(A - 1.0, 0), 3.0) ** 1.5

        def expected(scale: np.ndarray, habituate: bool = True
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            A, cs = self._annoyance(c_arr, thr[r_arr], scale)
            if not habituate:
                hab0 = np.ones(len(h_arr))
                return A, cs, hab0, active[r_arr] * response(A) * presence[h_arr]
            mem = np.zeros(len(self.rec))
            last = np.zeros(len(self.rec))
            hab = np.ones(len(h_arr))
            tau = 60 * 24.0
            perceived = A > 1.0
            for i in range(len(h_arr)):
                r = r_arr[i]
                mem[r] *= math.exp(-(h_arr[i] - last[r]) / tau)
                last[r] = h_arr[i]
                hab[i] = 1.0 / (1.0 + mem[r] / 120.0)
                if perceived[i]:
                    mem[r] += 1.0
            base = active[r_arr] * response(A) * presence[h_arr] * hab
            return A, cs, hab, base

        scale = np.ones(n_src)
        if len(h_arr) == 0:
            raise SystemExit("world produced no exposure")
        # balance sources: nobody above 55 % of the expected complaints, nobody below 4 %
        for _ in range(6):
            A, cs, hab, base = expected(scale, habituate=False)
            dom = np.argmax(cs, axis=1)
            per = np.bincount(dom, weights=base, minlength=n_src)
            share = per / max(per.sum(), 1e-12)
            lo = share < 0.04
            hi = share > 0.55
            if not lo.any() and not hi.any():
                break
            scale = np.where(lo, np.minimum(scale * 2.0, 10.0), scale)
            scale = np.where(hi, scale * 0.6, scale)
        self.scale = scale
        A, cs, hab, base = expected(scale)
        target_src = float(rng.uniform(300, 1800))
        k0 = target_src / max(base.sum(), 1e-12) / 1.5
        group = np.array([r.group for r in self.rec])
        n_groups = group.max() + 1
        beta = float(rng.uniform(3, 8))
        recs: list[dict[str, Any]] = []
        for attempt in range(4):
            k = k0
            last_g = np.full(n_groups, -1e9)
            last_src = np.full(n_groups, -1)
            recs = []
            used = np.zeros(len(self.rec))
            used_day = np.full(len(self.rec), -1)
            sub = np.random.default_rng(self.seed * 7919 + attempt)
            bounds = np.flatnonzero(np.diff(h_arr)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(h_arr)]])
            for s0, e0 in zip(starts, ends, strict=True):
                h = int(h_arr[s0])
                rr = r_arr[s0:e0]
                g = group[rr]
                since = h - last_g[g]
                day = h // 24
                newday = used_day[rr] != day
                used[rr[newday]] = 0
                used_day[rr] = day
                remaining = np.maximum(active[rr] - used[rr], 0)
                cont = np.where(since <= 12, 1 + beta * np.exp(-since / 3.0), 1.0)
                lam = k * base[s0:e0] * cont * remaining / active[rr]
                # bandwagon: the WeChat group lit up recently, a faint smell is enough
                band = (since <= 3) & (A[s0:e0] > 0.5) & (A[s0:e0] <= 1.0)
                lam = lam + np.where(band, 0.03 * np.sqrt(remaining) * presence[h], 0.0)
                nc = np.minimum(sub.poisson(np.minimum(lam, 50)), remaining).astype(int)
                used[rr] += nc
                for j in np.nonzero(nc)[0]:
                    i = s0 + j
                    src = int(np.argmax(cs[i]))
                    share = float(cs[i, src] / max(cs[i].sum(), 1e-12))
                    for _ in range(int(nc[j])):
                        recs.append({"h": h, "r": int(rr[j]), "src": src, "share": share,
                                     "conc": float(cs[i].sum()), "A": float(A[i]),
                                     "cause": "bandwagon" if band[j] else "source"})
                    last_g[g[j]] = h
                    last_src[g[j]] = src
            ratio = len(recs) / target_src
            if 0.6 < ratio < 1.6:
                break
            k0 = k0 / max(ratio, 0.05) ** (1.0 if ratio > 1 else 1.5)
        self.k = k0
        cap = 2200
        if len(recs) > cap:  # keep the county inside 300-3000 complaints: thin at random
            keep = np.sort(rng.choice(len(recs), size=cap, replace=False))
            recs = [recs[int(i)] for i in keep]
        self.raw_src_complaints = recs
        # background complaints
        bg_share = float(rng.uniform(0.12, 0.35))
        n_bg = int(len(recs) * bg_share / (1 - bg_share)) + int(rng.integers(20, 80))
        w = hh / hh.sum()
        bg: list[dict[str, Any]] = []
        n_h = len(self.times)
        # straw-burning bursts in villages (clustered background odour)
        vill = [i for i, r in enumerate(self.rec) if r.kind == "village"]
        for _ in range(int(rng.integers(1, 4))):
            v = vill[int(rng.integers(0, len(vill)))]
            h0 = int(rng.integers(0, n_h - 48))
            near = [i for i in vill if math.hypot(self.rec[i].x - self.rec[v].x, self.rec[i].y - self.rec[v].y) < 3000]
            for _ in range(int(rng.integers(5, 20))):
                bg.append({"h": h0 + int(rng.integers(0, 30)), "r": int(rng.choice(near)), "src": -1,
                           "share": 0.0, "conc": 0.0, "A": 0.0, "cause": "background_burning"})
        while len(bg) < n_bg:
            h = int(rng.integers(0, n_h))
            if rng.uniform() > presence[h] / 1.7:
                continue
            bg.append({"h": h, "r": int(rng.choice(len(self.rec), p=w)), "src": -1, "share": 0.0,
                       "conc": 0.0, "A": 0.0, "cause": "background"})
        self.raw_bg = bg

    # ---------------------------------------------------------------- writing
    def _household(self, r: int, hh_cache: dict[tuple[int, int], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        rng = self.rng
        rc = self.rec[r]
        slots = min(rc.households, 120)
        wts = 1.0 / np.arange(1, slots + 1) ** 0.9
        idx = int(rng.choice(slots, p=wts / wts.sum()))
        key = (r, idx)
        if key not in hh_cache:
            name = str(rng.choice(list(SURNAMES))) + "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
            phone = "1" + str(rng.choice(["3", "5", "8", "9"])) + "".join(str(d) for d in rng.integers(0, 10, 9))
            unit = f"{int(rng.integers(1, 30))}号楼{int(rng.integers(1, 6))}单元" if rc.kind == "block" else f"{int(rng.integers(1, 200))}号"
            hh_cache[key] = {
                "name": name, "phone": phone,
                "x": rc.x + rng.normal(0, rc.spread * 0.6), "y": rc.y + rng.normal(0, rc.spread * 0.6),
                "unit": unit,
            }
        return idx, hh_cache[key]

    def _text(self, rec: dict[str, Any], rc: Receptor, hour: int) -> tuple[str, str, str]:
        """Return (text, category, named_enterprise_id)."""
        rng = self.rng
        named = ""
        if rec["src"] < 0:
            cat = str(rng.choice(["odour", "noise", "dust", "water", "waste"], p=[0.4, 0.3, 0.15, 0.05, 0.1]))
            if rec["cause"] == "background_burning":
                cat = "odour"
                return str(rng.choice(["村外有人烧秸秆，烟味呛人", "田里烧秸秆，满村都是烟味", "附近焚烧垃圾和秸秆，味道很大"])), cat, ""
            return str(rng.choice(BG_TEXT[cat])), cat, ""
        f = self.sources[rec["src"]]
        spec = SOURCE_TYPES[f.stype]
        if hour < 5:
            when = str(rng.choice(["半夜", "凌晨", "夜里"]))
        elif hour < 9:
            when = str(rng.choice(["早上", "一早", "清晨"]))
        elif hour < 17:
            when = str(rng.choice(["白天", "中午", "下午", ""]))
        else:
            when = str(rng.choice(["傍晚", "晚上", "晚饭后"]))
        generic = rng.uniform() < 0.3
        smell = str(rng.choice(GENERIC_ODOUR)) if generic else str(rng.choice(spec["smell"]))
        cat = "odour"
        if f.stype == "coking" and rng.uniform() < 0.2:
            smell = str(rng.choice(["落了一层黑灰", "粉尘很大，窗台都是黑灰"]))
            cat = "dust"
        parts = []
        opener = rng.uniform()
        if opener < 0.3:
            parts.append(f"我是{rc.name}的居民，")
        elif opener < 0.5:
            parts.append("来电人反映，")
        elif opener < 0.6:
            parts.append("群众反映：")
        if generic:
            parts.append(f"{when}{smell}")
        else:
            parts.append(f"{when}空气里有{smell}" if rng.uniform() < 0.5 else f"{when}一直能闻到{smell}")
        if rng.uniform() < 0.2:
            # where the smell seems to come from: the local (true) wind at the complainant
            u, v = wind_at(self.terr, self.met, rec["h"], np.array([rc.x]), np.array([rc.y]))
            frm = (math.degrees(math.atan2(-float(u[0]), -float(v[0]))) + 360) % 360
            parts.append(f"，好像是从{CN8_DIR[int(((frm + 22.5) % 360) // 45)]}边飘过来的")
        if rng.uniform() < self.p_name:
            if rng.uniform() < self.p_name_right:
                named_f = f
            else:
                named_f = self._wrong_name(rc)
            named = named_f.eid
            parts.append(str(rng.choice([f"，怀疑是{named_f.short}排的", f"，应该是{named_f.short}又在偷排",
                                         f"，{named_f.short}那边的味道", f"，肯定是{named_f.short}"])))
        parts.append(str(rng.choice(["。", "，开窗都不敢！", "，孩子咳嗽，请尽快处理。", "，已经好几天了。",
                                     "，希望管一管。", "!!"])))
        return "".join(parts), cat, named

    def _wrong_name(self, rc: Receptor) -> Firm:
        rng = self.rng
        cands = [f for f in self.firms if f.role != "source" and f.kind != "filler" and f.status != "closed"]
        if rng.uniform() < 0.5:
            big = [f for f in cands if f.stype in ("pulp", "coking", "pharma", "landfill")] or cands
            return big[int(rng.integers(0, len(big)))]
        d = [math.hypot(f.x - rc.x, f.y - rc.y) for f in cands]
        return cands[int(np.argmin(d))]

    def write(self, out: Path) -> Path:
        rng = self.rng
        out = Path(out)
        truth = out.parent / (out.name + "_truth")
        out.mkdir(parents=True, exist_ok=True)
        truth.mkdir(parents=True, exist_ok=True)
        fmt = self.formats
        self.p_name = float(rng.uniform(0.1, 0.3))
        self.p_name_right = float(rng.uniform(0.45, 0.8))
        hh_cache: dict[tuple[int, int], dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []
        allraw = self.raw_src_complaints + self.raw_bg
        for rec in allraw:
            rc = self.rec[rec["r"]]
            idx, house = self._household(rec["r"], hh_cache)
            exp_t = self.times[rec["h"]] + pd.Timedelta(minutes=float(rng.uniform(0, 60)))
            u = rng.uniform()
            if u < 0.55:
                delay = float(rng.lognormal(math.log(15), 0.8))
            elif u < 0.85:
                delay = float(rng.uniform(60, 480))
            else:
                nxt = (exp_t + pd.Timedelta(hours=2 if exp_t.hour < 6 else 24)).normalize()
                if exp_t.hour < 6:
                    nxt = exp_t.normalize()
                tgt = nxt + pd.Timedelta(minutes=float(rng.uniform(8 * 60, 10.5 * 60)))
                delay = max((tgt - exp_t).total_seconds() / 60, 5.0)
            rep_t = (exp_t + pd.Timedelta(minutes=delay)).floor("min")
            ch = str(rng.choice(["12369", "12345", "web", "wechat"], p=[0.3, 0.25, 0.15, 0.3]))
            text, cat, named = self._text(rec, rc, int(self.times[rec["h"]].hour))
            if ch == "wechat":
                gx = house["x"] + rng.normal(0, 15)
                gy = house["y"] + rng.normal(0, 15)
                geocode = "gps"
            else:
                gx, gy = rc.x, rc.y
                geocode = "block_centroid" if rc.kind == "block" else "village_centre"
            no_coord = bool(self.frng.uniform() < fmt["no_coord_share"]) and ch != "wechat"
            addr = (f"{rc.area}{rc.name}{house['unit']}" if rc.kind == "block"
                    else f"{rc.area}{rc.name}{house['unit']}")
            src = self.sources[rec["src"]] if rec["src"] >= 0 else None
            rows.append({
                "rep_t": rep_t, "exp_t": exp_t, "gx": gx, "gy": gy, "no_coord": no_coord, "channel": ch,
                "category": cat, "text": text, "address": addr, "name": house["name"],
                "phone": house["phone"], "src": src.eid if src else "", "stype": src.stype if src else "",
                "behaviour": src.behaviour if src else "", "cause": rec["cause"], "share": rec["share"],
                "conc": rec["conc"], "A": rec["A"], "tx": house["x"], "ty": house["y"], "rec": rc.name,
                "household": f"{rec['r']}-{idx}", "named": named, "geocode": geocode, "dup_of": "",
                "uid": len(rows),
            })
        # duplicates: 12345 transfers of an earlier hotline complaint
        n_dup = int(len(rows) * rng.uniform(0.02, 0.06))
        for i in rng.choice(len(rows), size=n_dup, replace=False):
            d = dict(rows[int(i)])
            d["rep_t"] = d["rep_t"] + pd.Timedelta(minutes=float(rng.uniform(30, 180)))
            d["channel"] = "12345"
            d["cause"] = (d["cause"] + "_duplicate")
            d["dup_of"] = int(i)
            d["uid"] = len(rows)
            rows.append(d)
        rows.sort(key=lambda d: d["rep_t"])
        df = pd.DataFrame(rows)
        n = len(df)
        prefix = "TS" if rng.uniform() < 0.5 else "12369-"
        df["complaint_id"] = [f"{prefix}{t:%Y%m%d}{i:05d}" for i, t in enumerate(df["rep_t"])]
        id_of_uid = dict(zip(df["uid"], df["complaint_id"], strict=True))
        df["dup_of"] = [id_of_uid[int(u)] if u != "" else "" for u in df["dup_of"]]
        lon, lat = self.geo.lonlat(df["gx"].to_numpy(), df["gy"].to_numpy())
        tlon, tlat = self.geo.lonlat(df["tx"].to_numpy(), df["ty"].to_numpy())
        # CRS
        mode = fmt["crs_mode"]
        if mode == "row_mixed":
            crs = self.frng.choice(["wgs84", "gcj02", "bd09"], size=n, p=[0.3, 0.4, 0.3])
        elif mode in ("file_const", "toml_default"):
            crs = np.full(n, fmt["file_crs"])
        else:
            crs = np.full(n, "wgs84")
        olon = lon.copy()
        olat = lat.copy()
        for c in ("gcj02", "bd09"):
            m = crs == c
            if m.any():
                olon[m], olat[m] = to_crs(lon[m], lat[m], c)
        spell = [str(self.frng.choice(CRS_SPELLINGS[c])) for c in crs]
        lon_s = [f"{v:.6f}" for v in olon]
        lat_s = [f"{v:.6f}" for v in olat]
        for i in np.nonzero(df["no_coord"].to_numpy())[0]:
            lon_s[i] = ""
            lat_s[i] = ""
        cat_given = self.frng.uniform(size=n) < fmt["category_share"]
        comp = pd.DataFrame({
            "complaint_id": df["complaint_id"],
            "received_at": [fmt_time(t, fmt["time_style"], self.frng) for t in df["rep_t"]],
            "lon": lon_s, "lat": lat_s, "crs": spell, "channel": df["channel"],
            "category": np.where(cat_given, df["category"], ""),
            "text": np.where(self.frng.uniform(size=n) < fmt["empty_text_share"], "", df["text"]),
            "address": df["address"], "complainant": df["name"], "phone": df["phone"],
        })
        if mode == "toml_default":
            comp = comp.drop(columns=["crs"])
            (out / "envtrace.toml").write_text(
                f'tz = "Asia/Shanghai"\ndefault_crs = "{fmt["file_crs"]}"\n', encoding="utf-8")
        if fmt["headers"] == "zh":
            comp = comp.rename(columns=COMPLAINT_HEADERS_ZH)
        write_table(comp, out / "complaints", fmt)
        # enterprises
        elon, elat = self.geo.lonlat(np.array([f.x for f in self.firms]), np.array([f.y for f in self.firms]))
        ec = fmt["ent_crs"]
        wlon, wlat = to_crs(elon, elat, ec)
        ent = pd.DataFrame({
            "enterprise_id": [f.eid for f in self.firms],
            "name": [f.name for f in self.firms],
            "industry": [f"{f.code} {f.cname}" for f in self.firms],
            "lon": [f"{v:.6f}" for v in wlon], "lat": [f"{v:.6f}" for v in wlat],
            "crs": str(self.frng.choice(CRS_SPELLINGS[ec])),
            "permit_id": [f"91{int(rng.integers(100000, 999999))}MA{int(rng.integers(10000, 99999))}P001"
                          if f.kind != "filler" else "" for f in self.firms],
            "status": [f.status for f in self.firms],
            "closed_on": [fmt_date(f.closed_on, fmt["ent_time_style"]) if f.closed_on else "" for f in self.firms],
        })
        if fmt["headers"] == "zh":
            ent = ent.rename(columns=ENTERPRISE_HEADERS_ZH)
        write_table(ent, out / "enterprises", fmt)
        self._write_wind(out)
        alarms_n = self._write_alarms(out) if fmt["alarms"] else 0
        # ------------------------------------------------------------ truth
        tr = pd.DataFrame({
            "complaint_id": df["complaint_id"],
            "source_enterprise_id": df["src"], "source_type": df["stype"], "behaviour": df["behaviour"],
            "cause": df["cause"], "dominant_share": df["share"].round(3), "conc_ou": df["conc"].round(2),
            "annoyance": df["A"].round(2),
            "exposure_at": [f"{t:%Y-%m-%d %H:%M}" for t in df["exp_t"]],
            "reported_at": [f"{t:%Y-%m-%d %H:%M}" for t in df["rep_t"]],
            "channel": df["channel"], "geocode": df["geocode"], "coords_given": ~df["no_coord"],
            "geo_lon": np.round(lon, 6), "geo_lat": np.round(lat, 6),
            "true_lon": np.round(tlon, 6), "true_lat": np.round(tlat, 6),
            "receptor": df["rec"], "household": df["household"], "named_enterprise_id": df["named"],
            "duplicate_of": df["dup_of"],
        })
        tr.to_csv(truth / "complaints.csv", index=False)
        n_by_src = tr[tr["source_enterprise_id"] != ""]["source_enterprise_id"].value_counts()
        srows = []
        for i, f in enumerate(self.sources):
            near = [g.eid for g in self.firms if g is not f and g.kind != "filler" and math.hypot(g.x - f.x, g.y - f.y) < 1000]
            srows.append({
                "enterprise_id": f.eid, "name": f.name, "type": f.stype, "behaviour": f.behaviour,
                "industry": f.code, "dist_town_km": round(math.hypot(f.x, f.y) / 1000, 2),
                "stack_m": round(f.H, 1), "mean_emission_ou_s": round(float(self.emis[i].mean() * self.scale[i]), 0),
                "emission_scale": round(float(self.scale[i]), 2), "hours_emitting": int((self.emis[i] > 0).sum()),
                "status": f.status, "closed_on": f.closed_on.isoformat() if f.closed_on else "",
                "n_complaints": int(n_by_src.get(f.eid, 0)), "odour_firms_within_1km": " ".join(near),
            })
        pd.DataFrame(srows).to_csv(truth / "sources.csv", index=False)
        pd.DataFrame([{
            "enterprise_id": f.eid, "name": f.name, "industry": f.code, "kind": f.kind, "type": f.stype,
            "role": f.role, "behaviour": f.behaviour, "status": f.status,
            "closed_on": f.closed_on.isoformat() if f.closed_on else "",
            "lon": round(float(elon[i]), 6), "lat": round(float(elat[i]), 6),
            "x_m": round(f.x), "y_m": round(f.y), "monitor": f.monitor,
        } for i, f in enumerate(self.firms)]).to_csv(truth / "enterprises.csv", index=False)
        pd.DataFrame([{"name": r.name, "kind": r.kind, "x_m": round(r.x), "y_m": round(r.y),
                       "households": r.households, "group": r.group} for r in self.rec]).to_csv(
            truth / "receptors.csv", index=False)
        slon, slat = self.geo.lonlat(np.array([self.station[0]]), np.array([self.station[1]]))
        meta = {
            "seed": self.seed, "terrain": self.terrain_kind, "start": self.start.isoformat(),
            "months": self.n_months, "formats": fmt, "origin": [self.geo.lon0, self.geo.lat0],
            "park_xy_m": [round(self.park[0]), round(self.park[1])],
            "station": {"xy_m": [round(self.station[0]), round(self.station[1])],
                        "lon": float(slon[0]), "lat": float(slat[0]), **self.station_bias},
            "n_complaints": n, "n_source_complaints": int((tr["source_enterprise_id"] != "").sum()),
            "n_enterprises": len(self.firms), "n_sources": len(self.sources), "n_alarms": alarms_n,
            "n_receptors": len(self.rec), "k": self.k, "p_name": self.p_name, "p_name_right": self.p_name_right,
            "terrain_params": {k: v for k, v in self.terr.__dict__.items()},
        }
        (truth / "world.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        (truth / "README.md").write_text(
            "# Truth of a blind_world2 county (never read by analysis code)\n\n"
            "- complaints.csv: per complaint_id the true source enterprise ('' = background), its type and\n"
            "  behaviour, the exposure hour, true household position, geocoded WGS84 position.\n"
            "- sources.csv: per true source the facts; enterprises.csv: role of every firm (decoys...).\n"
            "- world.json: terrain, station bias, formats.\n", encoding="utf-8")
        return truth

    def _station_series(self) -> None:
        rng = self.rng
        # airport 10-25 km away, outside the valley, inland of the coast
        for _ in range(400):
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(10000, 25000)
            x, y = d * math.cos(a), d * math.sin(a)
            if self.terr.in_sea(np.array(x), np.array(y)):
                continue
            if self.terr.coast and (self.terr.coast_d - (x * self.terr.sea_n[0] + y * self.terr.sea_n[1])) < 8000:
                continue
            if self.terr.valley and bool(self.terr.in_valley(np.array(x), np.array(y))):
                continue
            break
        self.station = (x, y)
        rot = float(rng.uniform(20, 40) * rng.choice([-1, 1]))
        fac = float(rng.uniform(0.55, 0.85))
        self.station_bias = {"rotation_deg": round(rot, 1), "speed_factor": round(fac, 2)}
        n = len(self.times)
        u = np.empty(n)
        v = np.empty(n)
        for h in range(n):
            uu, vv = wind_at(self.terr, self.met, h, np.array([x]), np.array([y]))
            u[h], v[h] = uu[0], vv[0]
        sp = np.hypot(u, v) * fac * rng.lognormal(0, 0.12, n)
        frm = (np.degrees(np.arctan2(-u, -v)) + rot + rng.normal(0, 8, n)) % 360
        sp = np.where(sp < 0.5, 0.0, sp)
        days = np.unique(self.times.normalize())
        miss_days = rng.choice(days, size=int(rng.integers(3, 14)), replace=False)
        keep = ~self.times.normalize().isin(miss_days) & (rng.uniform(size=n) > 0.01)
        self.station_bias["missing_days"] = len(miss_days)
        self.station_bias["rows"] = int(keep.sum())
        self.wind_obs = (self.times[keep], frm[keep], sp[keep])
        if self.formats.get("ideal_wind"):
            # diagnostic ablation: the true wind at the town centre, unbiased and complete
            for h in range(n):
                uu, vv = wind_at(self.terr, self.met, h, np.array([0.0]), np.array([0.0]))
                u[h], v[h] = uu[0], vv[0]
            self.station = (0.0, 0.0)
            self.station_bias = {"ideal_wind": True}
            self.wind_obs = (self.times, (np.degrees(np.arctan2(-u, -v)) + 360) % 360, np.hypot(u, v))

    def _write_wind(self, out: Path) -> None:
        fmt = self.formats
        x, y = self.station
        t, frm, sp = self.wind_obs
        if fmt["wind_style"] == "cn16":
            d = [CN16[int(((f + 11.25) % 360) // 22.5)] + "风" for f in frm]
            s: list[Any] = [f"{beaufort(x)}级" for x in sp]
        else:
            d = [str(int(round(f)) % 360) for f in frm]
            s = [f"{x:.1f}" for x in sp]
        w = pd.DataFrame({"time": [f"{x:%Y-%m-%d %H:%M}" for x in t], "wind_dir_deg": d, "wind_speed_ms": s,
                          "station_id": "ZSAP"})
        if fmt["wind_station_coords"]:
            slon, slat = self.geo.lonlat(np.array([x]), np.array([y]))
            w["lon"] = f"{slon[0]:.5f}"
            w["lat"] = f"{slat[0]:.5f}"
        if fmt["wind_headers"] == "zh":
            w = w.rename(columns=WIND_HEADERS_ZH)
        w.to_csv(out / "wind.csv", index=False, encoding=fmt["encoding"])

    def _write_alarms(self, out: Path) -> int:
        rng = self.rng
        rows = []
        for i, f in enumerate(self.sources):
            if not f.monitor:
                continue
            e = self.emis[i]
            base = np.median(e[e > 0]) if (e > 0).any() else 0
            hot = np.nonzero(e > 3 * max(base, 1))[0]
            lim = 60.0
            for h in hot[rng.uniform(size=len(hot)) < 0.2]:
                rows.append((f.eid, self.times[h], SOURCE_TYPES[f.stype]["pollutant"],
                             round(lim * rng.uniform(1.1, 4.0), 1), lim, "true"))
        n_months = self.n_months
        for f in self.firms:
            if f.role == "source" or not f.monitor or f.status == "closed":
                continue
            nfa = rng.poisson(rng.uniform(0.3, 3.0) * n_months)
            for _ in range(nfa):
                h = int(rng.integers(0, len(self.times)))
                pol = SOURCE_TYPES[f.stype]["pollutant"] if f.stype else str(rng.choice(["VOCs", "颗粒物", "SO2"]))
                rows.append((f.eid, self.times[h], pol, round(60 * rng.uniform(1.05, 2.5), 1), 60.0, "false"))
        df = pd.DataFrame(rows, columns=["enterprise_id", "time", "pollutant", "value", "limit", "truth"])
        df = df.sort_values("time")
        df["time"] = [f"{t:%Y-%m-%d %H:%M}" for t in df["time"]]
        df.drop(columns=["truth"]).rename(
            columns=ALARM_HEADERS_ZH if self.formats["headers"] == "zh" else {}).to_csv(
            out / "alarms.csv", index=False, encoding=self.formats["encoding"])
        df.to_csv(out.parent / (out.name + "_truth") / "alarms.csv", index=False)
        return len(df)


def write_table(df: pd.DataFrame, stem: Path, fmt: dict[str, Any]) -> None:
    """CSV in the world's encoding, or XLSX with numbers stored as numbers."""
    if fmt.get("file_type") != "xlsx":
        df.to_csv(stem.with_suffix(".csv"), index=False, encoding=fmt["encoding"])
        return
    x = df.copy()
    for c in x.columns:
        v = pd.to_numeric(x[c].replace("", np.nan), errors="coerce")
        if v.notna().sum() == (x[c] != "").sum() and c not in ("complaint_id", "投诉编号", "phone", "联系电话"):
            x[c] = v
    x.to_excel(stem.with_suffix(".xlsx"), index=False)


def beaufort(v: float) -> int:
    edges = [0.3, 1.6, 3.4, 5.5, 8.0, 10.8, 13.9, 17.2]
    return int(np.searchsorted(edges, v, side="right"))


def fmt_time(t: pd.Timestamp, style: str, rng: np.random.Generator) -> str:
    if style == "mixed":
        style = str(rng.choice(["iso", "cn", "slash", "cn_shifen"]))
    if style == "iso":
        return f"{t:%Y-%m-%d %H:%M}"
    if style == "iso_t":
        return f"{t:%Y-%m-%dT%H:%M:%S}+08:00"
    if style == "cn":
        return f"{t.year}年{t.month:02d}月{t.day:02d}日 {t:%H:%M}"
    if style == "cn_shifen":
        return f"{t.year}年{t.month}月{t.day}日 {t.hour}时{t.minute:02d}分"
    if style == "slash":
        return f"{t.year}/{t.month}/{t.day} {t:%H:%M}"
    if style == "excel":
        serial = (t - pd.Timestamp("1899-12-30")).total_seconds() / 86400.0
        return f"{serial:.6f}"
    utc = (t - pd.Timedelta(hours=8) - pd.Timestamp("1970-01-01")).total_seconds()
    if style == "epoch_ms":
        return str(int(round(utc * 1000)))
    return str(int(round(utc)))


def fmt_date(d: datetime, style: str) -> str:
    if style == "cn_date":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "slash_date":
        return f"{d.year}/{d.month}/{d.day}"
    return f"{d:%Y-%m-%d}"


PLAIN_FORMATS: dict[str, Any] = {
    "headers": "en", "encoding": "utf-8", "crs_mode": "wgs84", "ent_crs": "wgs84", "time_style": "iso",
    "wind_style": "deg", "wind_headers": "en", "wind_station_coords": True, "no_coord_share": 0.0,
    "ent_time_style": "iso_date", "file_type": "csv", "empty_text_share": 0.0,
}


def generate(seed: int, out: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Generate world `seed` into `out`; return the truth folder (out + '_truth').

    `overrides` replaces format choices (see PLAIN_FORMATS) without changing the world."""
    w = World(seed, overrides)
    w.run()
    return w.write(Path(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    truth = generate(a.seed, a.out)
    meta = json.loads((truth / "world.json").read_text(encoding="utf-8"))
    print(json.dumps({k: meta[k] for k in ("seed", "terrain", "months", "n_complaints", "n_source_complaints",
                                           "n_enterprises", "n_sources")}, ensure_ascii=False))


if __name__ == "__main__":
    main()
