"""What one search box query can be (issue 12's "one search box"), and what a role may ask.

A query is read once, here, into every kind it could be: an 18-digit citizen ID, the end of
one, a mobile number, a room ("3-2-501"), a road and number, an enterprise's credit code or
name, a key place, a person's name or its pinyin. A Chinese string is several kinds at once
(a name, an enterprise, a place, a road); the search runs each and groups what it finds.

Who may search how follows the masking doctrine (masking.py `search_mode`). A role without
the unmask right sees names as 张* and IDs as 210103********1234, so it may search whole
names and whole pinyin only: a prefix, initials or a fuzzy match would answer "is there a 张三
here?" one more character at a time, and an ID suffix or a phone number is a guess at the
digits the mask hides; a yes/no on a guess gives the masked part back. Roles with the right
get every kind (each search is audited and misses are counted). Enterprises, key places,
roads and rooms are not personal data and are open to every role that may look up at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from . import uscc
from .masking import SearchRefused

MAX_LENGTH = 64


class Kind(str, Enum):
    """One thing a query may be; the search runs one query per kind."""

    ID_NUMBER = "id_number"          # the whole 18-character citizen ID
    ID_SUFFIX = "id_suffix"          # its last 4-6 digits
    PHONE = "phone"                  # an 11-digit mobile
    ROOM = "room"                    # building-unit-room inside the chosen building/community
    ADDRESS = "address"              # a road, with a house number (and building) if given
    CREDIT_CODE = "credit_code"      # an enterprise's unified social credit code
    ENTERPRISE = "enterprise"        # words of an enterprise's name
    PLACE = "place"                  # words of a key place's name
    NAME = "name"                    # a whole name
    NAME_PREFIX = "name_prefix"      # the start of a name
    NAME_FUZZY = "name_fuzzy"        # a name with a wrong character (by its pinyin)
    PINYIN = "pinyin"                # a whole name in pinyin, "zhangsan"
    PINYIN_PREFIX = "pinyin_prefix"  # its start, "zhangs"
    INITIALS = "initials"            # its initials, "zs"
    PINYIN_FUZZY = "pinyin_fuzzy"    # pinyin with a typo, "zhagnsan"


# what a role without the unmask right may not ask (see the module's docstring)
NEEDS_UNMASK = frozenset({Kind.ID_NUMBER, Kind.ID_SUFFIX, Kind.PHONE, Kind.NAME_PREFIX,
                          Kind.NAME_FUZZY, Kind.PINYIN_PREFIX, Kind.INITIALS,
                          Kind.PINYIN_FUZZY})
PERSON_KINDS = frozenset({Kind.ID_NUMBER, Kind.ID_SUFFIX, Kind.PHONE, Kind.NAME,
                          Kind.NAME_PREFIX, Kind.NAME_FUZZY, Kind.PINYIN, Kind.PINYIN_PREFIX,
                          Kind.INITIALS, Kind.PINYIN_FUZZY})


class InvalidQuery(ValueError):
    """A query that cannot be searched, with what to do about it in Chinese and English."""

    zh = "查询内容无效"
    en = "the query cannot be searched"

    def __init__(self, zh: str | None = None, en: str | None = None) -> None:
        self.zh, self.en = zh or type(self).zh, en or type(self).en
        super().__init__(f"{self.zh} / {self.en}")


class EmptyQuery(InvalidQuery):
    zh, en = "请输入查询内容", "type something to search for"


class QueryTooLong(InvalidQuery):
    zh = f"查询内容最多 {MAX_LENGTH} 个字符"
    en = f"a query has at most {MAX_LENGTH} characters"


class UnsearchableNumber(InvalidQuery):
    zh = "数字按手机号（11 位）、身份证号（18 位）或身份证号后 4-6 位查询"
    en = ("a number is searched as a mobile phone (11 digits), a citizen ID (18 characters)"
          " or the last 4-6 digits of one")


@dataclass(frozen=True)
class RoomAddress:
    """3-2-501: building number (None: the chosen building), unit, room number."""

    building: str | None
    unit: int
    room: str


@dataclass(frozen=True)
class RoadAddress:
    """青年大街100号3栋: a road, and a house number and building number when given."""

    road: str
    number: str | None = None
    building: str | None = None


@dataclass(frozen=True)
class LookupQuery:
    """A query read into every kind it may be for this role. `text` is the query trimmed;
    the other fields hold the normalised value each kind searches with."""

    text: str
    kinds: tuple[Kind, ...]
    id_number: str | None = None
    id_suffix: str | None = None
    phone: str | None = None
    room: RoomAddress | None = None
    road: RoadAddress | None = None
    credit_code: str | None = None
    pinyin: str | None = None  # lower case, no spaces or apostrophes
    refused: tuple[Kind, ...] = field(default=())  # kinds this role may not run

    @property
    def finds_people(self) -> bool:
        return any(k in PERSON_KINDS for k in self.kinds)


_SEPARATORS = re.compile(r"[\s\-()（）]")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_ID_SUFFIX = re.compile(r"[0-9]{4,6}")
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[0-9]{10})")
_DIGITS = re.compile(r"\+?[0-9][0-9\s\-()（）]*")
_ROOM = re.compile(r"(?:([0-9]{1,3})-)?([0-9]{1,2})-([0-9]{1,5})")
_ROOM_ZH = re.compile(r"(?:([0-9]{1,3})\s*(?:栋|幢|号楼)\s*)?([0-9]{1,2})\s*单元\s*([0-9]{1,5})"
                      r"\s*(?:室|号)?")
_ROAD = re.compile(r"(?P<road>[\u4e00-\u9fff]{1,20}?(?:大街|大道|路|街|道|巷|胡同|里))"
                   r"\s*(?:(?P<number>[0-9]{1,5})\s*号?"
                   r"(?:\s*(?P<building>[0-9]{1,3})\s*(?:栋|幢|号楼))?)?")
_HAN = re.compile(r"[\u3400-\u9fff]")
_NAME = re.compile(r"[\u3400-\u9fff]{1,20}(?:[·•][\u3400-\u9fff]{1,20})*")
_LATIN = re.compile(r"[A-Za-z][A-Za-z' ]*")
_CREDIT = re.compile(r"[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}")


def parse_query(text: str, *, may_unmask: bool) -> LookupQuery:
    """Every kind `text` can be, limited to what the role may ask (the module's docstring).

    Raises EmptyQuery, QueryTooLong or UnsearchableNumber (InvalidQuery, a ValueError) for a
    query nobody can run, and masking.SearchRefused when everything it could be needs the
    unmask right this role lacks (an ID, a phone, the end of an ID).
    """
    if not isinstance(text, str) or not text.strip():
        raise EmptyQuery()
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise QueryTooLong()
    found: dict = {"kinds": []}
    if _DIGITS.fullmatch(text) and not _ROOM.fullmatch(text):
        _read_number(text, found)
    else:
        _read_words(text, found)
    kinds = found.pop("kinds")
    allowed = tuple(k for k in kinds if may_unmask or k not in NEEDS_UNMASK)
    refused = tuple(k for k in kinds if k not in allowed)
    if not allowed and refused:
        raise SearchRefused("searching by ID number, phone or part of a name needs the unmask"
                            " right / 按证件号码、手机号或部分姓名查询需要查看明文权限")
    return LookupQuery(text=text, kinds=allowed, refused=refused, **found)


def _read_number(text: str, found: dict) -> None:
    """Digits (with spaces, dashes, a +86 prefix): a phone, an ID or the end of one."""
    compact = _SEPARATORS.sub("", text).upper()
    if _ID.fullmatch(compact):
        found["kinds"].append(Kind.ID_NUMBER)
        found["id_number"] = compact
        _read_credit_code(compact, found)
    elif (mobile := _MOBILE.fullmatch(compact)) is not None:
        found["kinds"].append(Kind.PHONE)
        found["phone"] = mobile.group(1)
    elif _ID_SUFFIX.fullmatch(compact):
        found["kinds"].append(Kind.ID_SUFFIX)
        found["id_suffix"] = compact
    else:
        raise UnsearchableNumber()


def _read_credit_code(text: str, found: dict) -> None:
    compact = text.replace(" ", "").upper()
    if _CREDIT.fullmatch(compact) and uscc.validate(compact) is None:
        found["kinds"].append(Kind.CREDIT_CODE)
        found["credit_code"] = compact


def _read_words(text: str, found: dict) -> None:
    kinds = found["kinds"]
    compact_id = _SEPARATORS.sub("", text).upper()
    if _ID.fullmatch(compact_id):  # "21010319900101123x" with a letter the digits test missed
        kinds.append(Kind.ID_NUMBER)
        found["id_number"] = compact_id
    _read_credit_code(text, found)
    room = _ROOM.fullmatch(text) or _ROOM_ZH.fullmatch(text)
    if room:
        kinds.append(Kind.ROOM)
        found["room"] = RoomAddress(room.group(1), int(room.group(2)), room.group(3))
        return
    if Kind.ID_NUMBER in kinds or Kind.CREDIT_CODE in kinds:
        return
    road = _ROAD.fullmatch(text)
    if road:
        kinds.append(Kind.ADDRESS)
        found["road"] = RoadAddress(road["road"], road["number"], road["building"])
    if _NAME.fullmatch(text):
        kinds.extend((Kind.NAME, Kind.NAME_PREFIX, Kind.NAME_FUZZY))
    elif _LATIN.fullmatch(text):
        pinyin = re.sub(r"[\s']", "", text).lower()
        found["pinyin"] = pinyin
        kinds.extend((Kind.NAME, Kind.PINYIN, Kind.PINYIN_PREFIX, Kind.INITIALS))
        if len(pinyin) >= 4:  # a typo in two or three letters is noise, not a near miss
            kinds.append(Kind.PINYIN_FUZZY)
    if _HAN.search(text) or _LATIN.fullmatch(text):
        kinds.extend((Kind.ENTERPRISE, Kind.PLACE))
    if not kinds:  # anything else may still be words of an enterprise's or a place's name
        kinds.extend((Kind.ENTERPRISE, Kind.PLACE))


def room_label(building_name: str | None, unit: int, room_number: str) -> str:
    """3-2-501 from building "3 栋", unit 2, room 501; "2-501" when the building has no number."""
    number = re.match(r"\s*([0-9]+)", building_name or "")
    return f"{number.group(1)}-{unit}-{room_number}" if number else f"{unit}-{room_number}"


def after(prefix: str) -> str:
    """The first string past every string that starts with `prefix` (in code-point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
