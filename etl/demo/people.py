"""The demo district's residents: households filled with families, citizen IDs, tags and links.

Pure and vectorised (numpy + pandas, no database): 800 k people take seconds, not minutes.
Households are filled from templates (people living alone, couples, families, three
generations ...) whose mix is tilted just enough to reach the requested head count; ages
come from an ageing north-east city's pyramid, and everything random flows from one
np.random.Generator so a seed gives identical tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from onemap.domain.vocab import PERSON_TAGS, RELATIONS

from .names import SHENYANG_DISTRICTS, foreign_names, given_names, mobile_numbers, surnames

__all__ = [
    "FOREIGN_SHARE",
    "HOME_PLACES",
    "KEY_HEALTH_TAGS",
    "PeopleTables",
    "citizen_ids",
    "generate_people",
    "unique_sequences",
]

# Tags the health-record seed counts as key people under follow-up ("近9.1万慢性病患者和60岁以上
# 老年人等重点人群" of 811 k, about 11 %).
KEY_HEALTH_TAGS = ("elderly_alone", "disabled", "chronic_disease")
KEY_HEALTH_SHARE = 91 / 811
SEPARATED_SHARE = 1 / 6  # 人户分离 among citizens in Chinese cities
FOREIGN_SHARE = 0.003
SENSITIVE_TAGS = tuple(code for code, (*_, sensitive) in PERSON_TAGS.items() if sensitive)

# Share in per cent of each 5-year age group (0-4 ... 95-99) of a Shenyang-like district today:
# low fertility since the 1990s, big cohorts born 1962-1975 and in the late 1980s.
_PYRAMID_5Y = np.array([3.0, 3.6, 4.2, 3.6, 3.6, 4.8, 6.8, 8.2, 7.2, 6.6, 8.6, 9.4,
                        8.0, 6.2, 4.6, 3.0, 2.0, 1.0, 0.4, 0.1])
_PYRAMID_1Y = np.repeat(_PYRAMID_5Y / 5, 5)  # ages 0..99
_MAX_AGE = 100.0

# Other Shenyang districts: where a registered resident's ID was first issued, if not here.
_SHENYANG_CODES = list(SHENYANG_DISTRICTS)

# Where the floating population comes from: (GB/T 2260 code, place, weight). Mostly the rest of
# Liaoning and the other two north-eastern provinces, then Inner Mongolia, Shandong and Hebei.
HOME_PLACES: list[tuple[str, str, float]] = [
    ("210302", "辽宁省鞍山市铁东区", 3), ("210381", "辽宁省海城市", 3),
    ("210402", "辽宁省抚顺市新抚区", 3), ("210421", "辽宁省抚顺县", 2),
    ("210502", "辽宁省本溪市平山区", 2), ("210602", "辽宁省丹东市元宝区", 2),
    ("210681", "辽宁省东港市", 1.5), ("210702", "辽宁省锦州市古塔区", 2),
    ("210781", "辽宁省凌海市", 1.5), ("210802", "辽宁省营口市站前区", 2),
    ("210881", "辽宁省盖州市", 1.5), ("210902", "辽宁省阜新市海州区", 2.5),
    ("210921", "辽宁省阜新蒙古族自治县", 2), ("211002", "辽宁省辽阳市白塔区", 2),
    ("211021", "辽宁省辽阳县", 1.5), ("211102", "辽宁省盘锦市双台子区", 1.5),
    ("211202", "辽宁省铁岭市银州区", 3), ("211221", "辽宁省铁岭县", 2.5),
    ("211281", "辽宁省调兵山市", 1.5), ("211282", "辽宁省开原市", 2.5),
    ("211302", "辽宁省朝阳市双塔区", 2), ("211321", "辽宁省朝阳县", 2),
    ("211381", "辽宁省北票市", 1.5), ("211402", "辽宁省葫芦岛市连山区", 1.5),
    ("211481", "辽宁省兴城市", 1), ("220102", "吉林省长春市南关区", 1.5),
    ("220182", "吉林省榆树市", 1.5), ("220202", "吉林省吉林市昌邑区", 1.5),
    ("220302", "吉林省四平市铁西区", 2), ("220322", "吉林省梨树县", 1.5),
    ("220381", "吉林省公主岭市", 1), ("220402", "吉林省辽源市龙山区", 1),
    ("220502", "吉林省通化市东昌区", 1), ("220581", "吉林省梅河口市", 1.5),
    ("220702", "吉林省松原市宁江区", 1), ("220802", "吉林省白城市洮北区", 1),
    ("222401", "吉林省延吉市", 1), ("230102", "黑龙江省哈尔滨市道里区", 1.5),
    ("230103", "黑龙江省哈尔滨市南岗区", 1), ("230202", "黑龙江省齐齐哈尔市龙沙区", 1.5),
    ("230302", "黑龙江省鸡西市鸡冠区", 1), ("230402", "黑龙江省鹤岗市向阳区", 1),
    ("230502", "黑龙江省双鸭山市尖山区", 1), ("230602", "黑龙江省大庆市萨尔图区", 1),
    ("230803", "黑龙江省佳木斯市向阳区", 1), ("230902", "黑龙江省七台河市新兴区", 0.5),
    ("231002", "黑龙江省牡丹江市东安区", 1), ("231102", "黑龙江省黑河市爱辉区", 0.5),
    ("231202", "黑龙江省绥化市北林区", 1), ("150102", "内蒙古自治区呼和浩特市新城区", 0.5),
    ("150202", "内蒙古自治区包头市东河区", 0.5), ("150402", "内蒙古自治区赤峰市红山区", 1.5),
    ("150502", "内蒙古自治区通辽市科尔沁区", 2), ("150702", "内蒙古自治区呼伦贝尔市海拉尔区", 0.5),
    ("152201", "内蒙古自治区乌兰浩特市", 0.5), ("370102", "山东省济南市历下区", 0.5),
    ("370202", "山东省青岛市市南区", 0.5), ("370602", "山东省烟台市芝罘区", 1),
    ("370702", "山东省潍坊市潍城区", 0.5), ("371002", "山东省威海市环翠区", 0.5),
    ("371302", "山东省临沂市兰山区", 1), ("130102", "河北省石家庄市长安区", 0.5),
    ("130202", "河北省唐山市路南区", 0.5), ("130302", "河北省秦皇岛市海港区", 0.5),
    ("130802", "河北省承德市双桥区", 0.5),
]
_HOME_CODE = np.array([c for c, _, _ in HOME_PLACES])
_HOME_NAME = np.array([p for _, p, _ in HOME_PLACES])
_HOME_P = np.array([w for *_, w in HOME_PLACES]) / sum(w for *_, w in HOME_PLACES)
_ROADS = ["人民路", "解放路", "中山路", "胜利街", "建设街", "新华路", "光明街", "友谊路", "和平街",
          "民主路", "站前街", "工人街", "团结路", "青年街"]
_TOWNS = ["城关镇", "兴隆镇", "太平镇", "新立屯镇", "大榆树乡", "红旗镇", "东风乡", "长发镇",
          "前进乡", "永安镇", "双河镇", "黄花甸镇", "三家子乡", "朝阳镇"]
_HAMLET = ["屯", "村", "窝堡", "沟", "堡"]

# Shenyang's census: Han ~91 %, Manchu ~6 %, then Korean, Hui, Mongol and Xibe.
_ETHNICITIES = np.array(["汉族", "满族", "朝鲜族", "回族", "蒙古族", "锡伯族", "壮族", "土家族"])
_ETHNICITY_P = np.array([91.2, 5.9, 1.1, 1.0, 0.5, 0.2, 0.05, 0.05])
_ETHNICITY_P = _ETHNICITY_P / _ETHNICITY_P.sum()

_RELATION_CODES = np.array(list(RELATIONS))
_REL = {code: i for i, code in enumerate(_RELATION_CODES)}
# How members of a family registered at another household relate to that household's head.
# (typically an adult child's family still registered at the parents' flat)
_AT_OTHER = {"householder": "child", "child": "grandchild", "tenant": "other", "other": "other"}
_REL_AT_OTHER = np.array([_REL[_AT_OTHER.get(c, "other_relative")] for c in _RELATION_CODES])

_DAYS_PER_YEAR = 365.2425


@dataclass
class PeopleTables:
    """The four people tables, ready to load (ids are 1..N, dates as datetime64).

    persons: id, id_number, passport_number, name, gender, birth_date, phone, population_type,
    ethnicity, registered_address (missing values are None/NaN, i.e. NULL).
    person_household: person_id, household_id, kind ('registered'|'residence'), relation, since.
    person_tag / person_sensitive_tag: person_id, tag, since.
    """

    persons: pd.DataFrame
    person_household: pd.DataFrame
    person_tag: pd.DataFrame  # non-sensitive tags only
    person_sensitive_tag: pd.DataFrame  # sensitive tags only


@dataclass(frozen=True)
class Template:
    """A household structure: who lives together and how old they are."""

    name: str
    adults: int                    # householder generation: 0, 1 or 2 (a married couple)
    adult_age: tuple[int, int] = (20, 60)  # used when no child anchors the ages
    children: int = 0
    child_age: tuple[int, int] = (0, 0)    # of the eldest child
    elders: int = 0                # parents of an adult (grandparents when adults == 0)
    roommates: int = 0             # unrelated co-tenants
    male_share: float = 0.5        # of a lone adult or roommate

    @property
    def size(self) -> int:
        """Number of people in such a household."""
        return self.adults + self.children + self.elders + self.roommates


# (template, weight) for owner-occupied flats; weights are shares of households.
SELF_OCCUPIED: list[tuple[Template, float]] = [
    (Template("alone_young", 1, (22, 45), male_share=0.55), 0.03),
    (Template("alone_middle", 1, (45, 60), male_share=0.5), 0.05),
    (Template("alone_elderly", 1, (60, 100), male_share=0.33), 0.13),
    (Template("couple_young", 2, (22, 40)), 0.03),
    (Template("couple_middle", 2, (40, 60)), 0.10),
    (Template("couple_elderly", 2, (60, 96)), 0.22),
    (Template("couple_child", 2, children=1, child_age=(0, 33)), 0.23),
    (Template("couple_two_children", 2, children=2, child_age=(3, 30)), 0.05),
    (Template("single_parent", 1, children=1, child_age=(0, 30), male_share=0.3), 0.05),
    (Template("three_generations", 2, children=1, child_age=(0, 18), elders=1), 0.04),
    (Template("three_generations_full", 2, children=1, child_age=(0, 18), elders=2), 0.03),
    (Template("couple_with_parent", 2, (40, 60), elders=1), 0.03),
    (Template("skipped_generation", 0, children=1, child_age=(3, 16), elders=2), 0.01),
]
# Rented flats: young singles and couples, shared flats, young families.
RENTED: list[tuple[Template, float]] = [
    (Template("alone_young", 1, (18, 36), male_share=0.58), 0.30),
    (Template("alone_middle", 1, (36, 60), male_share=0.55), 0.10),
    (Template("alone_elderly", 1, (60, 90), male_share=0.4), 0.03),
    (Template("couple_young", 2, (20, 36)), 0.18),
    (Template("couple_middle", 2, (36, 60)), 0.05),
    (Template("couple_child", 2, children=1, child_age=(0, 13)), 0.17),
    (Template("single_parent", 1, children=1, child_age=(0, 16), male_share=0.25), 0.02),
    (Template("shared_two", 0, roommates=2, adult_age=(18, 36), male_share=0.55), 0.10),
    (Template("shared_three", 0, roommates=3, adult_age=(18, 36), male_share=0.6), 0.05),
]


# --------------------------------------------------------------------------- citizen IDs

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))
_AREA_RE = re.compile(r"[1-8]\d{5}")


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of datetime64[D] values, as int64 arrays."""
    d = dates.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def citizen_ids(area_codes: np.ndarray, birth_dates: np.ndarray, genders: np.ndarray,
                sequences: np.ndarray) -> np.ndarray:
    """Vectorised onemap.domain.idcard.make: GB 11643 numbers for (area, birth date, sex, 0..499).

    Sex is 'M' or 'F'.
    """
    area = np.asarray(area_codes).astype(np.int64)
    seq = np.asarray(sequences, dtype=np.int64)
    if len(seq) and (seq.min() < 0 or seq.max() > 499):
        raise ValueError("sequence must be in 0..499")
    year, month, day = _ymd(np.asarray(birth_dates))
    # same mapping as idcard._sequence_code: females even, males odd
    code = 2 * seq + (np.asarray(genders) == "M")
    first17 = area * 10**11 + (year * 10_000 + month * 100 + day) * 1_000 + code
    total = np.zeros(len(first17), dtype=np.int64)
    for i, weight in enumerate(_ID_WEIGHTS):
        total += (first17 // 10 ** (16 - i)) % 10 * weight
    check = _ID_CHECK[total % 11]
    return np.strings.add(first17.astype("<U17"), check)


def unique_sequences(rng: np.random.Generator, area_codes: np.ndarray, birth_dates: np.ndarray,
                     genders: np.ndarray) -> np.ndarray:
    """Random 0..499 sequences, bumped where needed so that no two IDs coincide."""
    n = len(area_codes)
    seq = rng.integers(0, 500, n)
    # one int per (area, day, sex); the sequence is added on top to test for collisions
    base = (np.asarray(area_codes).astype(np.int64) * 200_000
            + (np.asarray(birth_dates).astype("datetime64[D]").astype(np.int64) + 60_000) * 2
            + (np.asarray(genders) == "M")) * 500
    crowd = pd.Series(base).value_counts()
    if len(crowd) and crowd.iloc[0] > 500:
        raise ValueError("more than 500 people share an area, birth date and sex")
    while True:
        dup = np.flatnonzero(pd.Series(base + seq).duplicated().to_numpy())
        if not len(dup):
            return seq
        seq[dup] = (seq[dup] + 1) % 500


# --------------------------------------------------------------------------- households


def _ages(rng: np.random.Generator, lo: float, hi: float, m: int) -> np.ndarray:
    """m ages in years drawn from the pyramid between lo and hi."""
    lo_i, hi_i = int(lo), min(int(np.ceil(hi)), len(_PYRAMID_1Y))
    w = _PYRAMID_1Y[lo_i:hi_i]
    whole = lo_i + rng.choice(len(w), size=m, p=w / w.sum())
    return np.clip(whole + rng.random(m), lo, hi)


def _spouse_gap(rng: np.random.Generator, m: int) -> np.ndarray:
    """Husband's age minus wife's: two years on average, rarely more than a few either way."""
    return np.clip(rng.normal(2.0, 2.5, m), -3, 6)


def _build(t: Template, m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Members of m households of one template, as (m, size) arrays."""
    size, a, c, e = t.size, t.adults, t.children, t.elders
    age = np.zeros((m, size))
    male = np.zeros((m, size), dtype=bool)
    rel = np.full((m, size), _REL["other"])
    sur = surnames(rng, m * size).reshape(m, size)
    kids = list(range(a, a + c))
    olds = list(range(a + c, a + c + e))
    mates = list(range(a + c + e, size))

    # the householder generation's ages, anchored on the eldest child when there is one
    if c:
        eldest = _ages(rng, *t.child_age, m)
        age[:, kids[0]] = eldest
        if c == 2:
            younger = eldest - rng.uniform(1.2, 6.0, m)
            age[:, kids[1]] = np.where(younger > 0.2, younger, eldest * rng.uniform(0.2, 0.7, m))
        mother = eldest + rng.uniform(21, 33, m)  # children 20-40 years younger than parents
        male[:, kids] = rng.random((m, c)) < 0.515
    else:
        mother = _ages(rng, *t.adult_age, m)
    if a == 2:
        male[:, 0] = True
        age[:, 1] = mother
        age[:, 0] = mother + _spouse_gap(rng, m)
    elif a == 1:
        male[:, 0] = rng.random(m) < t.male_share
        age[:, 0] = mother + np.where(male[:, 0], 2.0, 0.0)
    for j in mates:
        age[:, j] = _ages(rng, *t.adult_age, m)
        male[:, j] = rng.random(m) < t.male_share

    # children take the father's surname, now and then the mother's
    if c and a == 2:
        from_father = rng.random((m, c)) < 0.92
        sur[:, kids] = np.where(from_father, sur[:, [0]], sur[:, [1]])
    elif c and a == 1:
        keeps = rng.random((m, c)) < np.where(male[:, [0]], 0.95, 0.2)
        sur[:, kids] = np.where(keeps, sur[:, [0]], sur[:, kids])

    # the elders are the parents of one adult (of the virtual parent when adults == 0)
    linked = np.zeros(m, dtype=int) if a != 2 else np.where(rng.random(m) < 0.7, 0, 1)
    linked_age = age[np.arange(m), linked] if a else mother
    if e:
        base = linked_age + rng.uniform(22, 34, m)
        if e == 2:
            grandpa, grandma = olds
            male[:, grandpa] = True
            age[:, grandma] = base
            age[:, grandpa] = base + _spouse_gap(rng, m)
        else:
            (grandpa,) = olds  # the lone elder
            male[:, grandpa] = rng.random(m) < 0.35  # mostly widowed mothers
            age[:, grandpa] = base + np.where(male[:, grandpa], 2.0, 0.0)
        if a:
            lineage = sur[np.arange(m), linked]
            sur[:, grandpa] = np.where(male[:, grandpa], lineage, sur[:, grandpa])
        else:  # skipped generation: the grandchild mostly carries the grandfather's surname
            sur[:, kids] = np.where(rng.random((m, c)) < 0.7, sur[:, [grandpa]], sur[:, kids])

    # who is the householder: an elder when the flat is theirs, else the husband mostly
    if a:
        head = np.where(rng.random(m) < 0.7, 0, 1) if a == 2 else np.zeros(m, dtype=int)
        elder_head = rng.random(m) < 0.35 if e else np.zeros(m, dtype=bool)
        for j in range(a):
            own = np.where(head == j, _REL["householder"], _REL["spouse"])
            # under an elder the linked adult is their child and the in-law other_relative
            under = np.where(linked == j, _REL["child"], _REL["other_relative"])
            rel[:, j] = np.where(elder_head, under, own)
        rel[:, kids] = np.where(elder_head[:, None], _REL["grandchild"], _REL["child"])
        for j in olds:
            rel[:, j] = np.where(head == linked, _REL["parent"], _REL["other_relative"])
    else:
        elder_head = np.full(m, e > 0)
        rel[:, kids] = _REL["grandchild"]
    if e:
        rel[:, olds[0]] = np.where(elder_head, _REL["householder"], rel[:, olds[0]])
        if e == 2:
            rel[:, olds[1]] = np.where(elder_head, _REL["spouse"], rel[:, olds[1]])
    if mates:
        rel[:, mates] = _REL["tenant"]
        rel[:, mates[0]] = _REL["householder"]

    age = np.minimum(age, _MAX_AGE - rng.uniform(0, 2, (m, size)))
    left_behind = np.zeros((m, size), dtype=bool)
    if a == 0 and c:
        left_behind[:, kids] = age[:, kids] < 16
    return {"age": age, "male": male, "rel": rel, "surname": sur, "left_behind": left_behind}


def _apportion(total: int, p: np.ndarray) -> np.ndarray:
    """Integer counts summing to total, proportional to p (largest remainder)."""
    exact = total * p / p.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


def _tilted(weights: np.ndarray, sizes: np.ndarray, theta: float) -> np.ndarray:
    """Template shares tilted towards bigger (theta > 0) or smaller households."""
    w = weights * np.exp(theta * (sizes - sizes.mean()))
    return w / w.sum()


def _template_counts(n_self: int, n_rented: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """How many households of each template, so that the head count is close to target."""
    w_s = np.array([w for _, w in SELF_OCCUPIED])
    s_s = np.array([t.size for t, _ in SELF_OCCUPIED], dtype=float)
    w_r = np.array([w for _, w in RENTED])
    s_r = np.array([t.size for t, _ in RENTED], dtype=float)

    def people(theta: float) -> float:
        return (n_self * _tilted(w_s, s_s, theta) @ s_s + n_rented * _tilted(w_r, s_r, theta) @ s_r)

    lo, hi = -8.0, 8.0  # a bisection on the tilt; people() increases with theta
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if people(mid) < target else (lo, mid)
    theta = (lo + hi) / 2
    return (_apportion(n_self, _tilted(w_s, s_s, theta)),
            _apportion(n_rented, _tilted(w_r, s_r, theta)))


# --------------------------------------------------------------------------- helpers


def _days(years: np.ndarray) -> np.ndarray:
    """Years as whole days (timedelta64[D])."""
    return np.floor(np.asarray(years) * _DAYS_PER_YEAR).astype("timedelta64[D]")


def _weighted_pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weights (Efraimidis-Spirakis)."""
    w = np.asarray(weights, dtype=float)
    eligible = np.flatnonzero(w > 0)
    k = min(k, len(eligible))
    if k <= 0:
        return np.array([], dtype=np.int64)
    keys = rng.exponential(size=len(eligible)) / w[eligible]
    return np.sort(eligible[np.argpartition(keys, k - 1)[:k]])


def _since(rng: np.random.Generator, birth: np.ndarray, today: np.datetime64, span_years: float,
           min_age: float = 0.0) -> np.ndarray:
    """A date within span_years before today, not before the person was min_age."""
    draw = today - _days(rng.uniform(0, span_years, len(birth)))
    earliest = np.minimum(birth + _days(np.full(len(birth), min_age)), today)
    return np.maximum(draw, earliest)


def _home_addresses(rng: np.random.Generator, place_idx: np.ndarray) -> np.ndarray:
    """Plausible registered addresses in the home prefectures (street or village)."""
    m = len(place_idx)
    names = _HOME_NAME[place_idx]
    urban = np.strings.endswith(names, "区")
    num = rng.integers(1, 300, m).astype(str)
    street = np.strings.add(np.strings.add(np.asarray(_ROADS)[rng.integers(0, len(_ROADS), m)],
                                           num), "号")
    village = np.strings.add(np.asarray(_TOWNS)[rng.integers(0, len(_TOWNS), m)],
                             np.strings.add(surnames(rng, m), "家"))
    village = np.strings.add(village, np.asarray(_HAMLET)[rng.integers(0, len(_HAMLET), m)])
    village = np.strings.add(np.strings.add(village, rng.integers(1, 9, m).astype(str)), "组")
    village = np.strings.add(np.strings.add(village, num), "号")
    return np.strings.add(names, np.where(urban, street, village))


def _tags_frame(person_ids: np.ndarray, tag: str, since: np.ndarray) -> pd.DataFrame:
    """One tag's rows."""
    return pd.DataFrame({"person_id": person_ids, "tag": tag, "since": since})


# --------------------------------------------------------------------------- the generator


def generate_people(households: pd.DataFrame, *, rng: np.random.Generator, target_people: int,
                    district_code: str, today: date) -> PeopleTables:
    """Fill the occupied households with about target_people residents and their links and tags."""
    if not _AREA_RE.fullmatch(district_code):
        raise ValueError(f"district code must be 6 digits starting with 1-8, got {district_code!r}")
    today64 = np.datetime64(today, "D")
    occupancy = households["occupancy"].to_numpy()
    hh_ids = households["household_id"].to_numpy(dtype=np.int64)
    self_idx = np.flatnonzero(occupancy == "self_occupied")
    rent_idx = np.flatnonzero(occupancy == "rented")
    n_occ = len(self_idx) + len(rent_idx)
    if not n_occ:
        raise ValueError("no self-occupied or rented households to fill")

    # ---- households -> templates -> members
    n_self, n_rent = _template_counts(len(self_idx), len(rent_idx), target_people)
    reachable = (n_self @ [t.size for t, _ in SELF_OCCUPIED]
                 + n_rent @ [t.size for t, _ in RENTED])
    if abs(reachable - target_people) > 0.03 * target_people:
        raise ValueError(f"{target_people} people cannot fill {n_occ} occupied households "
                         f"(at most {reachable} with these household structures)"
                         if reachable < target_people else
                         f"{target_people} people are too few for {n_occ} occupied households")
    parts = []
    for idx, templates, counts in ((self_idx, SELF_OCCUPIED, n_self),
                                   (rent_idx, RENTED, n_rent)):
        order = idx[rng.permutation(len(idx))]
        start = 0
        for (t, _), k in zip(templates, counts):
            rows = np.sort(order[start:start + k])
            start += k
            if not k:
                continue
            built = _build(t, k, rng)
            built["row"] = np.repeat(rows[:, None], t.size, axis=1)
            built["slot"] = np.broadcast_to(np.arange(t.size), (k, t.size))
            built["alone"] = np.full((k, t.size), t.size == 1)
            parts.append({key: v.ravel() for key, v in built.items()})
    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    # persons ordered by household, householder first: ids 1..N follow that order
    order = np.lexsort((cols["slot"], cols["rel"] != _REL["householder"], cols["row"]))
    cols = {key: v[order] for key, v in cols.items()}
    n = len(order)
    row = cols["row"]
    age = cols["age"]
    male = cols["male"]
    rel = cols["rel"]
    gender = np.where(male, "M", "F")
    birth = today64 - _days(age)
    age_years = (today64 - birth).astype(np.int64) / _DAYS_PER_YEAR
    person_id = np.arange(1, n + 1, dtype=np.int64)

    # ---- household status: 0 together, 1 registered elsewhere in the district, 2 floating,
    # 3 foreign. Rented flats hold most of the people living apart from their registration.
    size_of_row = np.bincount(row, minlength=len(households))
    status = np.zeros(len(households), dtype=np.int8)
    is_rented = occupancy == "rented"
    small_rented = np.flatnonzero(is_rented & (size_of_row >= 1) & (size_of_row <= 2))
    small_rented = small_rented[rng.permutation(len(small_rented))]
    foreign_target = FOREIGN_SHARE * n
    take = np.searchsorted(np.cumsum(size_of_row[small_rented]), foreign_target, side="right")
    status[small_rented[:take]] = 3
    free_rented = np.flatnonzero(is_rented & (status == 0))
    draw = rng.random(len(free_rented))
    status[free_rented] = np.select([draw < 0.6, draw < 0.85], [2, 1], default=0)
    citizens = n - size_of_row[status == 3].sum()
    need = round(SEPARATED_SHARE * citizens) - size_of_row[np.isin(status, (1, 2))].sum()
    if need > 0:
        pool = self_idx[rng.permutation(len(self_idx))]
        take = np.searchsorted(np.cumsum(size_of_row[pool]), need, side="right")
        chosen = pool[:take]
        status[chosen] = np.where(rng.random(len(chosen)) < 0.35, 2, 1)
    p_status = status[row]
    foreign = p_status == 3
    floating = p_status == 2

    # ---- identity: names, IDs, passports
    birth_year = _ymd(birth)[0]
    name = np.strings.add(cols["surname"].astype("<U2"), given_names(rng, gender, birth_year))
    name = name.astype(object)
    name[foreign] = foreign_names(rng, gender[foreign])

    home = rng.choice(len(HOME_PLACES), size=len(households), p=_HOME_P)
    p_home = home[row]
    strays = rng.random(n) < 0.15  # a floating family member born somewhere else
    p_home = np.where(strays, rng.choice(len(HOME_PLACES), size=n, p=_HOME_P), p_home)
    others = [c for c in _SHENYANG_CODES if c != district_code] or [district_code]
    draw = rng.random(n)
    area = np.select(
        [floating, draw < 0.65, draw < 0.87],
        [_HOME_CODE[p_home], district_code, np.asarray(others)[rng.integers(0, len(others), n)]],
        default=_HOME_CODE[rng.choice(len(HOME_PLACES), size=n, p=_HOME_P)],
    )
    citizen = np.flatnonzero(~foreign)
    seq = unique_sequences(rng, area[citizen], birth[citizen], gender[citizen])
    id_number = np.full(n, None, dtype=object)
    id_number[citizen] = citizen_ids(area[citizen], birth[citizen], gender[citizen], seq)
    passport = np.full(n, None, dtype=object)
    passport[foreign] = _passports(rng, int(foreign.sum()))

    # one home address per floating household, shared by its members
    floating_rows, member_of = np.unique(row[floating], return_inverse=True)
    registered_address = np.full(n, None, dtype=object)
    registered_address[floating] = _home_addresses(rng, home[floating_rows])[member_of]

    phone = np.full(n, None, dtype=object)
    adult_phone = age_years >= 12
    phone[adult_phone] = mobile_numbers(rng, int(adult_phone.sum()))

    hh_eth = rng.choice(len(_ETHNICITIES), size=len(households), p=_ETHNICITY_P)
    own = rng.random(n) < 0.12  # mixed marriages: a member's ethnicity differs from the family's
    eth_idx = np.where(own, rng.choice(len(_ETHNICITIES), size=n, p=_ETHNICITY_P), hh_eth[row])
    ethnicity = _ETHNICITIES[eth_idx].astype(object)
    ethnicity[foreign] = None

    population_type = np.select([foreign, floating], ["foreign", "floating"], default="registered")
    persons = pd.DataFrame({
        "id": person_id,
        "id_number": id_number,
        "passport_number": passport,
        "name": name,
        "gender": gender,
        "birth_date": birth,
        "phone": phone,
        "population_type": population_type,
        "ethnicity": ethnicity,
        "registered_address": registered_address,
    })

    # ---- links: everyone lives somewhere; citizens of the district are registered somewhere
    oldest = np.zeros(len(households))
    np.maximum.at(oldest, row, age)
    settled = np.where(is_rented, rng.uniform(0, 6, len(households)),
                       rng.uniform(0, 1, len(households)) * np.clip(oldest - 20, 0.5, 35))
    hh_since = today64 - _days(settled)
    res_since = np.maximum(hh_since[row], birth)
    residence = pd.DataFrame({"person_id": person_id, "household_id": hh_ids[row],
                              "kind": "residence", "relation": _RELATION_CODES[rel],
                              "since": res_since})
    other_hh = np.arange(len(households))
    occupied = np.sort(np.concatenate([self_idx, rent_idx]))
    elsewhere = np.flatnonzero(status == 1)
    if len(occupied) > 1:
        pick = occupied[rng.integers(0, len(occupied), len(elsewhere))]
        # never the household they live in: step to the next occupied one instead
        clash = pick == elsewhere
        pick[clash] = occupied[(np.searchsorted(occupied, pick[clash]) + 1) % len(occupied)]
        other_hh[elsewhere] = pick
    apart = p_status == 1
    registered = ~(foreign | floating)
    reg_row = np.where(apart, other_hh[row], row)
    reg_rel = np.where(apart, _REL_AT_OTHER[rel], rel)
    reg_since = np.where(apart, np.maximum(res_since - _days(rng.uniform(1, 15, n)), birth),
                         res_since)
    registration = pd.DataFrame({"person_id": person_id[registered],
                                 "household_id": hh_ids[reg_row[registered]],
                                 "kind": "registered",
                                 "relation": _RELATION_CODES[reg_rel[registered]],
                                 "since": reg_since[registered]})
    person_household = (pd.concat([registration, residence], ignore_index=True)
                        .sort_values(["person_id", "kind"], kind="stable", ignore_index=True))

    open_tags, sensitive_tags = _tags(rng, today64, birth, age_years, male, cols["alone"],
                                      cols["left_behind"], foreign, person_id)
    return PeopleTables(persons, person_household, open_tags, sensitive_tags)


def _passports(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct passport numbers: a letter and eight digits."""
    letters = np.array(list("EGMPSKTR"))
    numbers = rng.integers(10_000_000, 100_000_000, n)
    lead = rng.integers(0, len(letters), n)
    while True:
        key = lead * 100_000_000 + numbers
        dup = np.flatnonzero(pd.Series(key).duplicated().to_numpy())
        if not len(dup):
            break
        numbers[dup] = rng.integers(10_000_000, 100_000_000, len(dup))
    return np.strings.add(letters[lead], numbers.astype("<U8")).astype(object)


def _tags(rng: np.random.Generator, today: np.datetime64, birth: np.ndarray, age: np.ndarray,
          male: np.ndarray, alone: np.ndarray, left_behind: np.ndarray, foreign: np.ndarray,
          person_id: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Key-group tags at realistic rates; sensitive ones go to their own table."""
    n = len(age)
    frames: dict[str, pd.DataFrame] = {}

    def add(tag: str, idx: np.ndarray, span: float, min_age: float = 0.0) -> None:
        frames[tag] = _tags_frame(person_id[idx], tag,
                                  _since(rng, birth[idx], today, span, min_age))

    elderly = age >= 60
    add("elderly_alone", np.flatnonzero(elderly & alone), 15, min_age=60)
    # disability rises steeply with age
    w_dis = np.select([age < 18, age < 45, age < 60, age < 80], [0.3, 0.6, 1.0, 2.0], default=4.0)
    disabled = _weighted_pick(rng, w_dis, round(0.06 * n))
    add("disabled", disabled, 40)
    is_disabled = np.zeros(n, dtype=bool)
    is_disabled[disabled] = True
    # 低保 is for citizens; the elderly and the disabled are over-represented
    w_low = np.where(foreign, 0.0, 1.0 + 1.5 * elderly + 3.0 * is_disabled + 1.0 * alone)
    add("low_income", _weighted_pick(rng, w_low, round(0.02 * n)), 10)
    add("left_behind_child", np.flatnonzero(left_behind), 5)
    # chronic disease fills the key health groups up to the seed's ~11 %
    in_group = is_disabled | (elderly & alone)
    w_chronic = np.select([age < 18, age < 35, age < 50, age < 60, age < 70],
                          [0.05, 0.3, 1.0, 2.0, 3.5], default=4.5)
    fresh = _weighted_pick(rng, np.where(in_group, 0.0, w_chronic),
                           max(round(KEY_HEALTH_SHARE * n) - int(in_group.sum()), 0))
    overlap = _weighted_pick(rng, np.where(in_group, w_chronic, 0.0), round(0.3 * in_group.sum()))
    add("chronic_disease", np.sort(np.concatenate([fresh, overlap])), 15)
    # veterans: 1.5 % of adult men, mostly today's 35-75-year-olds
    adult_men = male & (age >= 18) & ~foreign
    w_vet = np.where(adult_men, np.select([age < 25, age < 35, age < 75], [0.3, 0.8, 1.2],
                                          default=0.7), 0.0)
    vets = _weighted_pick(rng, w_vet, round(0.015 * adult_men.sum()))
    vet_since = np.minimum(birth[vets] + _days(rng.uniform(20, 26, len(vets))), today)
    frames["veteran"] = _tags_frame(person_id[vets], "veteran", vet_since)
    # sensitive: community correction (mostly men, 18-65) and severe mental disorder (15+)
    w_cc = np.where((age >= 18) & (age < 65) & ~foreign, np.where(male, 6.0, 1.0), 0.0)
    add("community_correction", _weighted_pick(rng, w_cc, round(0.0004 * n)), 3, min_age=18)
    w_smd = np.where(age >= 15, 1.0, 0.0)
    add("severe_mental_disorder", _weighted_pick(rng, w_smd, round(0.004 * n)), 20, min_age=15)

    def stack(codes: list[str]) -> pd.DataFrame:
        return (pd.concat([frames[c] for c in codes], ignore_index=True)
                .sort_values(["person_id", "tag"], kind="stable", ignore_index=True))

    open_codes = [c for c in frames if c not in SENSITIVE_TAGS]
    return stack(open_codes), stack([c for c in frames if c in SENSITIVE_TAGS])
