"""Chinese text material for :mod:`envtrace.sample`: names, places and complaint phrasing.

Everything here is invented. Names and phone numbers are fake (drawn from common surname
and given-name lists and random ``1xx`` numbers); they exist so that the privacy code has
something to protect. Complaint texts are built from fragments combined at random, with
occasional typos, phone numbers and ID numbers written into the text (to exercise masking).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "SURNAMES",
    "GIVEN",
    "TOWNSHIP_NAMES",
    "STREET_NAMES",
    "ESTATE_NAMES",
    "VILLAGE_SUFFIXES",
    "INDUSTRIES",
    "fake_names",
    "fake_phones",
    "fake_id_number",
    "enterprise_name",
    "render_text",
]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
SURNAME_WEIGHTS = np.array([7.2, 7.0, 6.8, 5.4, 4.5] + [1.0] * (len(SURNAMES) - 5))
GIVEN = [
    "秀英",
    "桂英",
    "秀兰",
    "玉兰",
    "桂兰",
    "秀珍",
    "凤英",
    "玉珍",
    "玉英",
    "兰英",
    "建国",
    "建华",
    "建军",
    "国强",
    "志强",
    "志刚",
    "永刚",
    "海燕",
    "红梅",
    "丽娟",
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂芳",
    "文静",
    "晓东",
    "立新",
    "春梅",
    "冬梅",
    "德胜",
    "宝山",
    "庆华",
    "继红",
    "振华",
    "凤兰",
    "玉梅",
    "淑华",
    "淑珍",
    "子涵",
    "浩然",
    "欣怡",
    "雨萱",
    "梓轩",
    "一诺",
    "思远",
    "佳怡",
    "俊杰",
    "春雷",
    "广田",
    "传福",
    "庆伟",
]
STREET_NAMES = ["龙湾街道", "城北街道", "城南街道", "汶阳街道", "泉河街道", "东城街道"]
TOWNSHIP_NAMES = [
    "王庄镇",
    "柳泉镇",
    "大汶口镇",
    "石门镇",
    "马家庄镇",
    "北关镇",
    "孙村镇",
    "望岳镇",
    "安驾庄镇",
    "刘杜镇",
    "高桥镇",
    "白马镇",
    "东平镇",
    "华丰镇",
    "宁阳镇",
    "桃园镇",
]
ESTATE_NAMES = [
    "幸福家园",
    "阳光花园",
    "锦绣华庭",
    "翡翠城",
    "龙湾一号",
    "泰和苑",
    "金色港湾",
    "书香门第",
    "御景湾",
    "东方名都",
    "怡康小区",
    "汶河人家",
    "盛世嘉园",
    "丽景花园",
    "文化苑",
    "春晖小区",
    "康乐小区",
    "明珠花园",
    "世纪华城",
    "滨河新城",
    "紫金城",
    "凤凰城",
    "新华小区",
    "建设小区",
    "桃李园",
    "清华园",
    "泰山花园",
    "学府名苑",
    "和谐家园",
    "福泽苑",
    "银座花园",
    "碧桂园",
    "万达华府",
    "恒大名都",
    "鑫源小区",
    "安居小区",
    "电力宿舍",
    "粮食局宿舍",
    "纺织厂宿舍",
    "新村",
    "铁路小区",
    "南苑小区",
    "北苑小区",
    "中央公园",
    "状元府",
    "西湖花园",
    "东湖小区",
    "翰林院",
]
VILLAGE_SUFFIXES = [
    "庄村",
    "家村",
    "家庄村",
    "楼村",
    "屯村",
    "官庄村",
    "店村",
    "洼村",
    "集村",
    "寨村",
]
VILLAGE_PREFIXES = ["前", "后", "东", "西", "南", "北", "小", "大", ""]

# GB/T 4754 code and name, pollution kind, the enterprise-name pattern suffix.
INDUSTRIES: dict[str, tuple[str, str, list[str]]] = {
    "C2614": (
        "C2614 有机化学原料制造",
        "odour",
        ["化工有限公司", "化学有限公司", "新材料有限公司"],
    ),
    "C2619": ("C2619 其他基础化学原料制造", "odour", ["化工有限公司", "精细化工有限公司"]),
    "C2625": ("C2625 有机肥料及微生物肥料制造", "odour", ["生物肥业有限公司", "有机肥厂"]),
    "C27": ("C27 医药制造业", "odour", ["制药有限公司", "药业有限公司", "生物科技有限公司"]),
    "C29": ("C29 橡胶和塑料制品业", "odour", ["橡胶有限公司", "塑料制品有限公司", "轮胎有限公司"]),
    "C2913": ("C2913 橡胶零件制造", "odour", ["橡胶制品厂", "密封件有限公司"]),
    "C13": ("C13 农副食品加工业", "odour", ["食品有限公司", "饲料有限公司", "油脂有限公司"]),
    "C1351": ("C1351 牲畜屠宰", "odour", ["肉类加工有限公司", "屠宰场"]),
    "C22": ("C22 造纸和纸制品业", "odour", ["纸业有限公司", "包装有限公司"]),
    "C23": ("C23 印刷和记录媒介复制业", "odour", ["印务有限公司", "彩印有限公司"]),
    "C2641": ("C2641 涂料制造", "odour", ["涂料有限公司", "油漆厂"]),
    "A03": ("A03 畜牧业", "odour", ["养殖场", "养猪场", "牧业有限公司", "养鸡场"]),
    "D4620": ("D4620 污水处理及其再生利用", "odour", ["污水处理厂", "水务有限公司"]),
    "N7723": ("N7723 固体废物治理", "odour", ["垃圾中转站", "环卫服务有限公司"]),
    "H62": ("H62 餐饮业", "odour", ["饭店", "烧烤店", "酒楼", "餐饮有限公司"]),
    "N7820": ("N7820 环境卫生管理", "odour", ["垃圾中转站", "环卫所"]),
    "E47": ("E47 房屋建筑业", "noise", ["建筑工程有限公司", "建设集团有限公司"]),
    "C33": ("C33 金属制品业", "noise", ["金属制品有限公司", "五金厂", "钢结构有限公司"]),
    "C30": ("C30 非金属矿物制品业", "dust", ["建材有限公司", "水泥有限公司", "新型墙材厂"]),
    "B10": ("B10 非金属矿采选业", "dust", ["石料厂", "矿业有限公司", "石子厂"]),
    "C3021": ("C3021 水泥制品制造", "dust", ["水泥制品有限公司", "混凝土有限公司"]),
    "C38": ("C38 电气机械和器材制造业", "other", ["电器有限公司", "电气设备有限公司"]),
    "C17": ("C17 纺织业", "other", ["纺织有限公司", "棉业有限公司"]),
}
NAME_ROOTS = _NAME_ROOTS = [
    "鲁泰",
    "华鲁",
    "泰山",
    "汶河",
    "岱岳",
    "恒通",
    "金诚",
    "宏达",
    "鑫源",
    "瑞丰",
    "东岳",
    "齐鲁",
    "海容",
    "立华",
    "康宁",
    "益民",
    "润泽",
    "博远",
    "鼎盛",
    "永信",
    "正大",
    "新星",
    "盛源",
    "天成",
    "宝丰",
    "众合",
    "嘉禾",
    "凯瑞",
    "利民",
    "长城",
    "远航",
    "聚福",
    "汇通",
    "明达",
    "光明",
    "天宇",
]

# --- complaint phrasing ---------------------------------------------------------------

_SMELLS = {
    "chemical": [
        "化工味",
        "刺鼻的化学气味",
        "一股酸味",
        "像油漆稀料的味道",
        "刺鼻气味",
        "化学品味道",
        "一股怪味",
    ],
    "egg": ["臭鸡蛋味", "臭鸡蛋一样的味道", "硫化氢那种臭味", "臭味"],
    "rubber": ["塑料烧焦味", "烧橡胶的味道", "焦糊味", "烧轮胎的味道"],
    "pig": ["猪粪味", "养殖场的臭味", "粪便臭味", "鸡粪味", "牲口粪的臭味"],
    "medicine": ["中药味", "发酵的酸臭味", "药味", "刺鼻的药水味"],
    "paper": ["纸浆的酸臭味", "造纸厂的酸臭味", "一股酸臭味"],
    # printing: the inks' and cleaning solvents' VOCs, not pulp
    "ink": ["油墨味", "刺鼻的油墨味", "一股溶剂味", "像天那水的味道"],
    "food": ["腥臭味", "发酵的臭味", "烂鱼味", "一股腥味"],
    # restaurants: kitchen exhaust, not the fishy or fermenting smell of a food plant
    "cooking": ["油烟味", "呛人的油烟味", "炒菜的油烟", "一股油烟味"],
    "sewage": ["下水道的臭味", "污水臭味", "臭鸡蛋味"],
    "garbage": ["垃圾臭味", "腐烂的臭味", "垃圾渗滤液的臭味"],
}
_WHEN = {
    "night": ["晚上", "半夜", "夜里", "每天晚上十点以后", "深夜", "晚上十一点多"],
    "early": ["凌晨", "凌晨两三点", "早上四点左右", "后半夜", "天快亮的时候"],
    "day": ["白天", "上午", "中午", "下午", "上班时间", "白天一直"],
    "evening": ["傍晚", "晚饭时候", "晚上七八点"],
}
_OPENERS = [
    "",
    "",
    "",
    "我是{place}的居民，",
    "反映：",
    "你好，",
    "投诉：",
    "{place}居民反映，",
    "再次反映！",
    "来电人反映，",
    "群众反映：",
    "市民来电：",
    "您好，我想反映一下，",
]
_ODOUR_BODY = [
    "{when}闻到很重的{smell}",
    "{when}有{smell}，味道很大",
    "{place}附近{when}总有{smell}飘过来",
    "{when}{smell}特别浓，熏得人睡不着",
    "最近{when}经常闻到{smell}",
    "{when}空气里一股{smell}",
    "{smell}太重了，{when}尤其明显",
    "不知道哪个厂子{when}排放，{smell}很冲",
]
_ODOUR_TAIL = [
    "开窗都不敢",
    "孩子咳嗽",
    "老人头晕恶心",
    "嗓子疼",
    "晚上没法睡觉",
    "眼睛辣",
    "衣服都不敢晾外面",
    "希望尽快处理",
    "请环保部门来查一查",
    "已经好几天了",
    "怀疑是附近工厂偷排",
    "不是第一次了",
    "严重影响生活",
    "请尽快查处",
    "",
]
_NOISE_BODY = [
    "{when}工地施工噪声很大，轰隆隆的",
    "{place}旁边工地{when}还在施工，打桩声吵得睡不着",
    "{when}有机器轰鸣声",
    "施工噪声扰民，{when}还在干活",
    "{when}渣土车来回跑，噪音太大",
    "附近{when}有敲打金属的声音，很吵",
    "{when}搅拌机一直响",
]
_NOISE_OTHER = [
    "楼下广场舞音响太吵，{when}还在跳",
    "{when}邻居装修电钻声不停",
    "{place}附近KTV{when}唱歌声音很大",
    "{when}空调外机噪声很大",
    "{when}大货车鸣笛，吵得不行",
    "饭店{when}排风机噪音大",
]
_DUST_OTHER = [
    "渣土车没有苫盖，路上都是土",
    "{place}门口道路扬尘严重，{when}车一过就是一片灰",
    "拆迁工地{when}尘土飞扬",
    "{when}有人焚烧垃圾，烟很大",
]
_NOISE_TAIL = [
    "孩子没法睡觉",
    "老人心脏不好受不了",
    "第二天还要上班",
    "希望管一管",
    "夜间施工有没有许可",
    "已经持续一个多月了",
    "",
]
_DUST_BODY = [
    "{when}扬尘很大，灰尘到处都是",
    "风一刮，{place}这边全是灰",
    "{when}石料厂粉尘飘过来",
    "窗台上一层灰尘，{when}更严重",
    "刮风天扬尘污染严重",
    "{when}空气里都是粉尘，车上落满了灰",
]
_DUST_TAIL = ["没法开窗", "衣服都晾不了", "孩子咳嗽", "希望洒水降尘", "请查一下是哪家", ""]
_WATER_BODY = [
    "河水发黑发臭",
    "{place}附近的沟里水发黑",
    "河里有死鱼",
    "有排污口往河里排水，水是黄色的",
    "水井里的水有异味",
    "排水沟冒泡，有臭味",
    "河面上漂着一层油",
]
_WASTE_BODY = [
    "路边倾倒建筑垃圾",
    "有人在{place}附近焚烧垃圾",
    "垃圾堆放很久没人清理",
    "有人偷倒废渣",
    "垃圾桶满了没人清运，很臭",
    "农田里被倒了很多废料",
]
_OTHER_BODY = [
    "{place}附近有人烧秸秆",
    "饭店油烟直排",
    "楼下烧烤摊油烟太大",
    "有辐射吗？基站离家太近",
    "锅炉冒黑烟",
    "附近有光污染，广告屏太亮",
    "想咨询一下环评公示的事",
]
_TYPOS = [
    ("气味", "气未"),
    ("严重", "严种"),
    ("工厂", "工场"),
    ("噪声", "燥声"),
    ("处理", "处里"),
    ("晚上", "晚尚"),
    ("味道", "味到"),
    ("排放", "排方"),
    ("希望", "希忘"),
]

SMELL_KINDS: tuple[str, ...] = tuple(sorted(_SMELLS))  # the kinds an odour text can name

SMELL_KIND_BY_INDUSTRY = {
    "C2614": "chemical",
    "C2619": "egg",
    "C2625": "pig",
    "C27": "medicine",
    "C29": "rubber",
    "C2913": "rubber",
    "C13": "food",
    "C1351": "food",
    "C22": "paper",
    "C23": "ink",
    "C2641": "chemical",
    "A03": "pig",
    "D4620": "sewage",
    "N7723": "garbage",
    "H62": "cooking",
    "N7820": "garbage",
    "E47": "construction",
    "C33": "construction",
    "B10": "quarry",
    "C30": "quarry",
    "C3021": "quarry",
}


def fake_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return ``n`` fake Chinese personal names (surname + given name)."""
    p = SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum()
    s = np.asarray(SURNAMES, dtype=object)[rng.choice(len(SURNAMES), size=n, p=p)]
    g = np.asarray(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), size=n)]
    return s + g


_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        158,
        159,
        176,
        177,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
        199,
    ]
)


def fake_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return ``n`` fake 11-digit mobile numbers as strings (``1xx`` + 8 digits)."""
    pre = _PREFIXES[rng.integers(0, len(_PREFIXES), size=n)].astype(np.int64)
    rest = rng.integers(0, 10**8, size=n, dtype=np.int64)
    return np.char.mod("%011d", pre * 10**8 + rest).astype(object)


def fake_id_number(rng: np.random.Generator) -> str:
    """Return a fake but well-formed 18-digit resident ID number (with its check digit)."""
    region = "3709" + f"{int(rng.integers(1, 99)):02d}"
    birth = f"{int(rng.integers(1945, 2000))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    body = region + birth + f"{int(rng.integers(0, 1000)):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def enterprise_name(rng: np.random.Generator, code: str, place: str) -> str:
    """Return a plausible Chinese enterprise name for an industry ``code`` near ``place``."""
    suffix = INDUSTRIES[code][2][int(rng.integers(0, len(INDUSTRIES[code][2])))]
    root = _NAME_ROOTS[int(rng.integers(0, len(_NAME_ROOTS)))]
    style = rng.random()
    if code == "H62":
        return (
            f"{place[:2]}{root}{suffix}"
            if style < 0.5
            else f"老{SURNAMES[int(rng.integers(0, 40))]}家{suffix}"
        )
    if code == "A03":
        return (
            f"{place}{SURNAMES[int(rng.integers(0, 40))]}氏{suffix}"
            if style < 0.6
            else f"{root}{suffix}"
        )
    if style < 0.35:
        return f"山东{root}{suffix}"
    if style < 0.7:
        return f"{place[:2]}{root}{suffix}"
    return f"{root}{suffix}"


def _when_key(hour: int) -> str:
    if 22 <= hour or hour < 1:
        return "night"
    if 1 <= hour < 6:
        return "early"
    if 17 <= hour < 22:
        return "evening"
    return "day"


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(0, len(items)))]


def render_text(
    rng: np.random.Generator,
    category: str,
    *,
    hour: int,
    place: str,
    smell: str | None = None,
    extras: bool = True,
    say_when: bool = True,
) -> str:
    """Render one complaint text.

    Parameters
    ----------
    rng : numpy Generator
    category : str
        ``odour``, ``noise``, ``dust``, ``water``, ``waste`` or ``other``.
    hour : int
        Local hour (0-23) when the nuisance was noticed; chooses 晚上/凌晨/白天 words.
    place : str
        Neighbourhood name, sometimes quoted in the text.
    smell : str, optional
        Smell family (``chemical``, ``egg``, ``rubber``, ``pig``…) for odour, ``construction``
        for noise, ``quarry`` for dust; random when None.
    extras : bool
        Allow typos, phone numbers and ID numbers inside the text.
    say_when : bool
        Name the time of day (晚上, 凌晨, 白天…); False leaves it out (the same draws are
        made, so the other texts of a seeded world do not change).
    """
    when = _pick(rng, _WHEN[_when_key(hour)])
    if not say_when:
        when = ""
    opener = _pick(rng, _OPENERS)
    if category == "odour":
        fam = smell or _pick(rng, SMELL_KINDS)
        body = _pick(rng, _ODOUR_BODY).format(
            when=when, smell=_pick(rng, _SMELLS[fam]), place=place
        )
        tail = _pick(rng, _ODOUR_TAIL)
        if rng.random() < 0.3:
            more = _pick(rng, _ODOUR_TAIL)
            if more != tail:
                tail = tail + ("，" if tail and more else "") + more
    elif category == "noise":
        pool = (
            _NOISE_BODY
            if smell == "construction" or (smell is None and rng.random() < 0.5)
            else _NOISE_OTHER
        )
        body = _pick(rng, pool).format(when=when, place=place)
        tail = _pick(rng, _NOISE_TAIL)
    elif category == "dust":
        pool = (
            _DUST_BODY
            if smell == "quarry" or (smell is None and rng.random() < 0.4)
            else _DUST_OTHER
        )
        body = _pick(rng, pool).format(when=when, place=place)
        tail = _pick(rng, _DUST_TAIL)
    elif category == "water":
        body = _pick(rng, _WATER_BODY).format(place=place)
        tail = _pick(rng, ["希望尽快治理", "鱼都死了", "", "味道很大"])
    elif category == "waste":
        body = _pick(rng, _WASTE_BODY).format(place=place)
        tail = _pick(rng, ["请尽快清理", "", "有人管吗"])
    else:
        body = _pick(rng, _OTHER_BODY).format(place=place)
        tail = ""
    text = opener.format(place=place) + body + ("，" + tail if tail else "")
    end = _pick(rng, ["。", "！", "", "！！", "。"])
    if extras:
        u = rng.random()
        if u < 0.06:
            phone = str(fake_phones(rng, 1)[0])
            text += _pick(
                rng,
                [f"，联系电话{phone}", f"，回电{phone}", f" 电话：{phone}", f"，我的手机{phone}",
                 f"（电话{phone}）", f" {phone}"],
            )  # fmt: skip
        elif u < 0.075:
            text += _pick(rng, ["，身份证号", " 身份证：", "。本人身份证号码"]) + fake_id_number(
                rng
            )
    text += end
    if extras:
        if rng.random() < 0.06:
            a, b = _TYPOS[int(rng.integers(0, len(_TYPOS)))]
            text = text.replace(a, b, 1)
    return text


def rephrase(rng: np.random.Generator, text: str) -> str:
    """A second report of the same happening: the same text, lightly changed."""
    u = rng.random()
    if u < 0.35:
        return _pick(rng, ["再次反映，", "之前反映过，", "还是这个问题，", "又来了，"]) + text
    if u < 0.6:
        return (
            text.rstrip("。！")
            + "，"
            + _pick(rng, ["到现在还有", "没人管", "请回复", "怎么还没处理"])
        )
    return text
