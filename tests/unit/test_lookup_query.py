"""Reading a search box query into its kinds, and what a role without unmask may ask."""

from __future__ import annotations

import pytest

from geodata.pinyin import name_pinyin
from onemap.domain.lookup_query import (
    EmptyQuery, Kind, QueryTooLong, RoadAddress, RoomAddress, UnsearchableNumber, after,
    parse_query, room_label,
)
from onemap.domain.masking import SearchRefused


def kinds(q: str, may_unmask: bool = True) -> set[Kind]:
    return set(parse_query(q, may_unmask=may_unmask).kinds)


@pytest.mark.parametrize("q", ["21010319900101123x", "210103 19900101 123X",
                               " 21010319900101123x "])
def test_a_whole_id_with_spaces_and_a_lower_case_x(q):
    query = parse_query(q, may_unmask=True)
    assert query.kinds == (Kind.ID_NUMBER,) and query.id_number == "21010319900101123X"


@pytest.mark.parametrize("q", ["13812345678", "138 1234 5678", "138-1234-5678",
                               "+86 138 1234 5678", "+8613812345678", "0086-138-1234-5678"])
def test_phones_lose_spaces_dashes_and_the_country_code(q):
    query = parse_query(q, may_unmask=True)
    assert query.kinds == (Kind.PHONE,) and query.phone == "13812345678"


@pytest.mark.parametrize("q", ["1234", "12345", "123456"])
def test_four_to_six_digits_are_the_end_of_an_id(q):
    assert parse_query(q, may_unmask=True).id_suffix == q


@pytest.mark.parametrize("q", ["123", "1234567", "1381234567", "23812345678"])
def test_other_numbers_are_refused_with_a_clear_message(q):
    with pytest.raises(UnsearchableNumber, match="11 digits"):
        parse_query(q, may_unmask=True)


@pytest.mark.parametrize("q,room", [("3-2-501", RoomAddress("3", 2, "501")),
                                    ("2-501", RoomAddress(None, 2, "501")),
                                    ("3栋2单元501室", RoomAddress("3", 2, "501"))])
def test_rooms(q, room):
    query = parse_query(q, may_unmask=False)
    assert query.kinds == (Kind.ROOM,) and query.room == room


def test_a_road_and_number_is_an_address_and_words_of_a_name():
    query = parse_query("青年大街100号3栋", may_unmask=False)
    assert query.road == RoadAddress("青年大街", "100", "3")
    assert set(query.kinds) == {Kind.ADDRESS, Kind.ENTERPRISE, Kind.PLACE}
    assert parse_query("青年大街", may_unmask=False).road == RoadAddress("青年大街")


def test_a_chinese_string_is_a_name_an_enterprise_a_place():
    assert kinds("张三") == {Kind.NAME, Kind.NAME_PREFIX, Kind.NAME_FUZZY, Kind.ENTERPRISE,
                            Kind.PLACE}
    assert kinds("张三", may_unmask=False) == {Kind.NAME, Kind.ENTERPRISE, Kind.PLACE}


def test_pinyin_full_and_initials_case_insensitive():
    query = parse_query("Zhang San", may_unmask=True)
    assert query.pinyin == "zhangsan" and Kind.PINYIN_FUZZY in query.kinds
    assert kinds("ZS") == {Kind.NAME, Kind.PINYIN, Kind.PINYIN_PREFIX, Kind.INITIALS,
                           Kind.ENTERPRISE, Kind.PLACE}
    # whole pinyin only without the unmask right: no prefix, initials or near misses
    assert kinds("zs", may_unmask=False) == {Kind.NAME, Kind.PINYIN, Kind.ENTERPRISE,
                                             Kind.PLACE}


def test_a_credit_code_is_validated():
    assert parse_query("92210103MAA9TJH1XH", may_unmask=False).credit_code == \
        "92210103MAA9TJH1XH"
    assert Kind.CREDIT_CODE not in kinds("92210103MAA9TJH1XA")


@pytest.mark.parametrize("q", ["21010319900101123X", "13812345678", "123456"])
def test_without_unmask_ids_phones_and_suffixes_are_refused(q):
    with pytest.raises(SearchRefused, match="unmask"):
        parse_query(q, may_unmask=False)


@pytest.mark.parametrize("q,error", [("", EmptyQuery), ("   ", EmptyQuery),
                                     ("张" * 65, QueryTooLong)])
def test_empty_and_over_long(q, error):
    with pytest.raises(error) as raised:
        parse_query(q, may_unmask=True)
    assert isinstance(raised.value, ValueError) and "/" in str(raised.value)


@pytest.mark.parametrize("q", ["%", "_", "\\", "' OR 1=1 --"])
def test_wildcards_are_words_of_a_name_only(q):
    assert kinds(q) == {Kind.ENTERPRISE, Kind.PLACE}


def test_pinyin_of_names_with_surname_readings():
    assert name_pinyin("张三") == ("zhangsan", "zs")
    assert name_pinyin("单雄信") == ("shanxiongxin", "sxx")
    assert name_pinyin("曾国藩") == ("zengguofan", "zgf")
    assert name_pinyin("欧阳娜娜") == ("ouyangnana", "oynn")
    assert name_pinyin("John Smith") == ("johnsmith", "js")


def test_room_labels_and_prefix_bounds():
    assert room_label("3 栋", 2, "501") == "3-2-501"
    assert room_label("东楼", 1, "101") == "1-101"
    assert after("zs") == "zt" and after("张") > "张" and "张三" < after("张")
