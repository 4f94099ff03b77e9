"""Chinese personal names, mobile numbers and business names for the demo district, vectorised.

Faker is far too slow for 800 k people (a Python call per row), so everything here is a few
numpy draws over small constant tables followed by vectorised string concatenation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "BRAND_CHARS",
    "INDUSTRY_WORDS",
    "SURNAMES",
    "MALE_CHARS",
    "FEMALE_CHARS",
    "NEUTRAL_CHARS",
    "SHENYANG_DISTRICTS",
    "company_names",
    "foreign_names",
    "given_names",
    "mobile_numbers",
    "person_names",
    "surnames",
]

# The ~100 commonest surnames with their approximate share in per cent (7th census order,
# nudged towards Liaoning, where 于, 孙, 姜, 曲 and the Manchu 关, 佟, 那 are more frequent).
# Compound surnames are real but rare.
SURNAMES: list[tuple[str, float]] = [
    ("王", 7.9), ("李", 7.2), ("张", 7.0), ("刘", 5.8), ("陈", 3.6), ("杨", 3.0), ("赵", 2.6),
    ("孙", 2.0), ("于", 1.5), ("周", 1.5), ("吴", 1.4), ("徐", 1.4), ("马", 1.3), ("高", 1.3),
    ("朱", 1.1), ("郭", 1.1), ("胡", 0.9), ("姜", 0.9), ("林", 0.6), ("何", 0.7), ("黄", 1.0),
    ("宋", 0.8), ("韩", 0.8), ("郑", 0.6), ("梁", 0.6), ("谢", 0.5), ("唐", 0.5), ("许", 0.5),
    ("冯", 0.6), ("曹", 0.5), ("董", 0.6), ("田", 0.5), ("崔", 0.6), ("曲", 0.3), ("邓", 0.3),
    ("彭", 0.3), ("曾", 0.2), ("肖", 0.4), ("袁", 0.4), ("潘", 0.3), ("蒋", 0.3), ("蔡", 0.3),
    ("余", 0.2), ("杜", 0.4), ("叶", 0.3), ("程", 0.4), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4),
    ("丁", 0.4), ("任", 0.4), ("沈", 0.3), ("姚", 0.3), ("卢", 0.3), ("钟", 0.2), ("谭", 0.2),
    ("陆", 0.2), ("汪", 0.2), ("范", 0.3), ("金", 0.4), ("石", 0.3), ("廖", 0.1), ("贾", 0.3),
    ("夏", 0.2), ("付", 0.3), ("方", 0.2), ("白", 0.3), ("邹", 0.2), ("孟", 0.3), ("熊", 0.1),
    ("秦", 0.2), ("邱", 0.2), ("江", 0.2), ("尹", 0.2), ("薛", 0.2), ("闫", 0.3), ("段", 0.2),
    ("雷", 0.1), ("侯", 0.2), ("史", 0.2), ("陶", 0.1), ("贺", 0.1), ("顾", 0.1), ("毛", 0.1),
    ("郝", 0.2), ("邵", 0.1), ("钱", 0.1), ("武", 0.2), ("戴", 0.1), ("孔", 0.1), ("常", 0.2),
    ("关", 0.3), ("佟", 0.15), ("那", 0.05), ("隋", 0.1), ("鞠", 0.08), ("葛", 0.1), ("齐", 0.15),
    ("庞", 0.1), ("宁", 0.1), ("欧阳", 0.03), ("司马", 0.005), ("上官", 0.005), ("诸葛", 0.004),
    ("东方", 0.003), ("皇甫", 0.003), ("慕容", 0.002), ("令狐", 0.002),
]

# Given-name characters; which pool a person draws from leans on sex and on birth cohort,
# because 淑芬 and 梓涵 are names of different generations.
MALE_CHARS: list[str] = list(
    "伟强军磊勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳亮成峰建国东海志文博")
FEMALE_CHARS: list[str] = list(
    "丽敏静婷娜丹艳秀玉英芳霞燕红梅兰娟琳雪倩颖慧洁晶欣怡悦琪萍薇佳璐蕾莉瑶涵萱")
NEUTRAL_CHARS: list[str] = list("文明子一晓思嘉雨天春秋新永安乐晨然辰可心立金")
_OLD_MALE = list("国建德福永宝山忠义贵喜荣庆长振玉连有发生树林清春海")
_OLD_FEMALE = list("淑秀桂凤玉兰英珍芬华琴荣芝云霞素翠莲香美丽桂春")
_NEW_MALE = list("子梓浩宇轩睿泽铭博俊航皓辰奕宸逸晨然骏煜烁嘉一锦")
_NEW_FEMALE = list("梓涵萱欣怡可馨雨诗语一思佳悦彤若芯琪沐汐依梦朵艺")

# Shenyang's districts (GB/T 2260), for shop names and registered addresses.
SHENYANG_DISTRICTS: dict[str, str] = {
    "210102": "和平区", "210103": "沈河区", "210104": "大东区", "210105": "皇姑区",
    "210106": "铁西区", "210111": "苏家屯区", "210112": "浑南区", "210113": "沈北新区",
    "210114": "于洪区",
}

_SURNAME_CHARS = np.array([s for s, _ in SURNAMES])
_SURNAME_P = np.array([w for _, w in SURNAMES]) / sum(w for _, w in SURNAMES)


def _pick(rng: np.random.Generator, pool: list[str] | np.ndarray, n: int) -> np.ndarray:
    """n uniform draws from a small pool, as a fixed-width unicode array."""
    return np.asarray(pool)[rng.integers(0, len(pool), n)]


def _join(*parts: np.ndarray | str) -> np.ndarray:
    """Vectorised concatenation of string arrays and scalars."""
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw n surnames from the frequency table."""
    return _SURNAME_CHARS[rng.choice(len(_SURNAME_CHARS), size=n, p=_SURNAME_P)]


def _cohort(rng: np.random.Generator, n: int, birth_years: np.ndarray | None) -> np.ndarray:
    """0 = old-fashioned, 1 = mid-century, 2 = modern naming fashion, per person."""
    if birth_years is None:
        return rng.choice(3, size=n, p=[0.25, 0.5, 0.25])
    years = np.asarray(birth_years)
    # fashions blur: a 1958 child may still get a mid-century name and vice versa
    shifted = years + rng.normal(0, 6, n)
    return np.select([shifted < 1962, shifted < 1995], [0, 1], default=2)


def given_names(rng: np.random.Generator, genders: np.ndarray,
                birth_years: np.ndarray | None = None) -> np.ndarray:
    """One- or two-character given names leaning on sex (and birth cohort when given)."""
    genders = np.asarray(genders)
    n = len(genders)
    male = genders == "M"
    cohort = _cohort(rng, n, birth_years)
    first = np.empty(n, dtype="<U1")
    second = np.empty(n, dtype="<U1")
    pools = {
        (True, 0): _OLD_MALE, (True, 1): MALE_CHARS, (True, 2): _NEW_MALE,
        (False, 0): _OLD_FEMALE, (False, 1): FEMALE_CHARS, (False, 2): _NEW_FEMALE,
    }
    for (is_male, c), pool in pools.items():
        idx = np.flatnonzero((male == is_male) & (cohort == c))
        if not len(idx):
            continue
        # about a fifth of characters come from the sex-neutral pool
        for target in (first, second):
            neutral = rng.random(len(idx)) < 0.2
            target[idx] = np.where(neutral, _pick(rng, NEUTRAL_CHARS, len(idx)),
                                   _pick(rng, pool, len(idx)))
    single = rng.random(n) < 0.25
    return np.where(single, second, np.strings.add(first, second))


def person_names(rng: np.random.Generator, genders: np.ndarray,
                 birth_years: np.ndarray | None = None) -> np.ndarray:
    """Full Chinese names (surname + given name) for an array of 'M'/'F'."""
    genders = np.asarray(genders)
    return np.strings.add(surnames(rng, len(genders)), given_names(rng, genders, birth_years))


# (family names, male given names, female given names) per origin; Shenyang's foreign residents
# are mostly Korean, Russian and Japanese, so those groups come first and weigh most.
_FOREIGN: list[tuple[float, list[str], list[str], list[str]]] = [
    (0.40, ["KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG"], ["MINJUN", "JIHOON", "SEUNGHO"],
     ["SEOYEON", "JIWOO", "MINJI"]),
    (0.20, ["IVANOV", "PETROV", "SMIRNOV", "POPOV"], ["SERGEI", "DMITRY", "ALEXEI"],
     ["OLGA", "NATALIA", "ANNA"]),
    (0.12, ["TANAKA", "SATO", "SUZUKI", "WATANABE"], ["HIROSHI", "KENJI", "TAKUYA"],
     ["YUKI", "SAKURA", "AYAKA"]),
    (0.12, ["SMITH", "JOHNSON", "BROWN", "MILLER"], ["JOHN", "MICHAEL", "DAVID"],
     ["MARY", "SARAH", "EMMA"]),
    (0.06, ["MULLER", "SCHMIDT", "WAGNER"], ["LUKAS", "THOMAS", "JONAS"],
     ["SOPHIE", "MARIE", "LEA"]),
    (0.05, ["NGUYEN", "TRAN", "LE"], ["MINH", "TUAN", "DUC"], ["LINH", "HOA", "MAI"]),
    (0.05, ["BATBAYAR", "GANBOLD", "ENKHBAYAR"], ["BOLD", "TEMUULEN", "GANZORIG"],
     ["SARANGEREL", "ODGEREL", "NOMIN"]),
]


def foreign_names(rng: np.random.Generator, genders: np.ndarray) -> np.ndarray:
    """Passport-style Latin names, FAMILY GIVEN, consistent with one origin per person."""
    genders = np.asarray(genders)
    n = len(genders)
    weights = np.array([w for w, *_ in _FOREIGN])
    origin = rng.choice(len(_FOREIGN), size=n, p=weights / weights.sum())
    out = np.empty(n, dtype="<U40")
    for k, (_, family, male, female) in enumerate(_FOREIGN):
        idx = np.flatnonzero(origin == k)
        given = np.where(genders[idx] == "M", _pick(rng, male, len(idx)),
                         _pick(rng, female, len(idx)))
        out[idx] = _join(_pick(rng, family, len(idx)), " ", given)
    return out


# Real mainland mobile prefixes (virtual-operator 170/171 and the rare 17x left out); the big
# three's old 13x/15x/18x ranges dominate what a district's residents carry.
_MOBILE_PREFIXES = np.array(
    list(range(130, 140)) + [150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 173, 175, 176,
                             177, 178] + list(range(180, 190)) + [191, 198, 199])
_MOBILE_WEIGHT = np.where(_MOBILE_PREFIXES < 140, 1.5,
                          np.where(_MOBILE_PREFIXES < 160, 1.2,
                                   np.where((_MOBILE_PREFIXES >= 180) & (_MOBILE_PREFIXES < 190),
                                            1.3, 0.5)))


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 11-digit mobile numbers with real prefixes."""
    p = _MOBILE_WEIGHT / _MOBILE_WEIGHT.sum()
    numbers = (rng.choice(_MOBILE_PREFIXES, size=n, p=p).astype(np.int64) * 100_000_000
               + rng.integers(0, 100_000_000, n))
    # redraw only the duplicates, in place, so the result stays deterministic and unsorted
    while True:
        dup = np.flatnonzero(pd.Series(numbers).duplicated().to_numpy())
        if not len(dup):
            break
        numbers[dup] = (rng.choice(_MOBILE_PREFIXES, size=len(dup), p=p).astype(np.int64)
                        * 100_000_000 + rng.integers(0, 100_000_000, len(dup)))
    return numbers.astype("<U11")


# Auspicious characters brands are made of (鑫盛, 恒泰, 嘉禾 ...).
BRAND_CHARS: list[str] = list(
    "鑫盛华恒泰嘉宏瑞丰源达隆兴汇金宝诚信德博通天宇航佳和顺福润祥安康辉耀明阳晨星海峰凯瀚鼎聚"
    "众远中东北新尚美优智创科云益正大万利永昌富贵荣弘伟卓越联合今朝鸿运腾龙锦程君豪")

# Per industry: words for a company (…有限公司) and for an individual business's shop sign.
INDUSTRY_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "批发和零售业": (["商贸", "贸易", "食品", "建材", "服饰", "医药连锁", "百货", "汽车销售服务",
                "电子产品", "酒业"],
               ["便利店", "超市", "商店", "烟酒店", "水果店", "蔬菜店", "服装店", "五金店", "药店",
                "食杂店", "粮油店", "眼镜店", "手机店"]),
    "住宿和餐饮业": (["餐饮管理", "酒店管理", "饮品", "餐饮服务", "宾馆"],
               ["饭店", "烧烤店", "面馆", "饺子馆", "火锅店", "麻辣烫", "快餐店", "包子铺", "小吃部",
                "奶茶店", "鸡架店", "烤肉店", "旅店"]),
    "租赁和商务服务业": (["商务咨询", "企业管理咨询", "广告", "人力资源", "会展服务", "劳务派遣",
                  "汽车租赁", "旅行社", "商务服务"],
                 ["图文快印部", "广告部", "信息咨询部", "家政中介"]),
    "信息传输软件和信息技术服务业": (["网络科技", "信息技术", "软件", "科技", "数据服务", "通信技术"],
                        ["电脑维修部", "网络工作室", "手机维修部"]),
    "居民服务修理和其他服务业": (["家政服务", "美容美发", "洗浴", "保洁服务", "汽车服务", "婚庆服务"],
                      ["理发店", "美容院", "洗衣店", "修鞋店", "家电维修部", "开锁店", "汽车修理部",
                       "足疗店", "洗浴中心", "照相馆"]),
    "建筑业": (["建筑工程", "装饰工程", "建设工程", "安装工程", "市政工程", "园林绿化工程"],
            ["装饰部", "水电安装部"]),
    "制造业": (["食品", "服装", "印刷", "机械制造", "电气设备", "家具"],
            ["加工部", "豆腐坊", "裁缝店", "门窗加工部"]),
    "房地产业": (["房地产开发", "物业管理", "房屋经纪", "置业"], ["房屋中介"]),
    "金融业": (["投资", "融资担保", "小额贷款", "典当", "保险代理"], ["典当行"]),
    "科学研究和技术服务业": (["技术开发", "工程设计", "检测", "科技发展"], ["技术服务部"]),
    "教育": (["教育科技", "教育咨询", "文化培训"], ["托管班", "书法培训部"]),
    "卫生和社会工作": (["医疗管理", "健康管理", "养老服务", "口腔门诊"],
                ["诊所", "中医诊所", "口腔诊所"]),
    "文化体育和娱乐业": (["文化传媒", "文化艺术", "体育健身", "影视", "娱乐"],
                  ["棋牌室", "台球厅", "健身房", "KTV"]),
    "交通运输仓储和邮政业": (["物流", "运输", "快递", "货运代理"], ["搬家服务部", "货运部", "快递驿站"]),
    "农、林、牧、渔业": (["蔬菜种植专业合作社", "养殖专业合作社", "农机专业合作社"],
                   ["蔬菜种植专业合作社"]),
}

_CN_NUMBERS = list("一二三四五六七八九十")


def _draft_names(rng: np.random.Generator, industries: np.ndarray, org_types: np.ndarray,
                 district_name: str) -> np.ndarray:
    """One candidate name per row (may repeat)."""
    n = len(industries)
    out = np.empty(n, dtype=object)
    brand = _join(_pick(rng, BRAND_CHARS, n), _pick(rng, BRAND_CHARS, n))
    for industry in pd.unique(industries):
        company_words, shop_words = INDUSTRY_WORDS.get(industry, INDUSTRY_WORDS["批发和零售业"])
        for org_type in ("1", "2", "3"):
            idx = np.flatnonzero((industries == industry) & (org_types == org_type))
            m = len(idx)
            if not m:
                continue
            b = brand[idx]
            if org_type == "1":
                prefix = np.asarray(["沈阳市", "沈阳", "辽宁", ""])[
                    rng.choice(4, size=m, p=[0.45, 0.35, 0.15, 0.05])]
                suffix = np.where(rng.random(m) < 0.1, "有限责任公司", "有限公司")
                names = _join(prefix, b, _pick(rng, company_words, m), suffix)
            elif org_type == "2":
                # shop signs: 鑫盛便利店, 王记烧烤店, 老李家饺子馆, under the formal district prefix
                sur = surnames(rng, m)
                head = np.select(
                    [rng.random(m) < 0.5, rng.random(m) < 0.6],
                    [b, _join(sur, "记")], default=_join("老", sur, "家"))
                prefix = np.where(rng.random(m) < 0.6, district_name, "")
                names = _join(prefix, head, _pick(rng, shop_words, m))
            else:
                coop_words = INDUSTRY_WORDS["农、林、牧、渔业"][0]
                names = _join("沈阳市", district_name, b, _pick(rng, coop_words, m))
            out[idx] = names
    return out


def company_names(rng: np.random.Generator, n: int, industries: np.ndarray, *,
                  org_types: np.ndarray | None = None, district_name: str = "沈河区") -> np.ndarray:
    """n distinct business names; org_types: GB 32100 '1' company, '2' individual, '3' coop."""
    industries = np.asarray(industries, dtype=object)
    if len(industries) != n:
        raise ValueError(f"need {n} industries, got {len(industries)}")
    org_types = np.full(n, "1", dtype=object) if org_types is None else np.asarray(org_types)
    names = _draft_names(rng, industries, org_types, district_name)
    # a few rounds of fresh brands for the duplicates, then a branch suffix for what is left
    for _ in range(3):
        dup = np.flatnonzero(pd.Series(names).duplicated().to_numpy())
        if not len(dup):
            break
        names[dup] = _draft_names(rng, industries[dup], org_types[dup], district_name)
    rank = pd.Series(names).groupby(names).cumcount().to_numpy()
    for i in np.flatnonzero(rank):  # rare after the redraws: a loop is fine here
        k = _CN_NUMBERS[rank[i] - 1] if rank[i] <= 10 else str(rank[i] + 1)
        names[i] = f"{names[i]}第{k}分公司" if org_types[i] == "1" else f"{names[i]}({k}分店)"
    return names.astype(str)
