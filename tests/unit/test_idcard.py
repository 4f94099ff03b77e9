"""Tests for onemap.domain.idcard (GB 11643-1999 resident identity numbers)."""

import random
from datetime import date, timedelta

import pytest

from onemap.domain import idcard

VALID = "11010519491231002X"  # published example: Beijing Chaoyang, 1949-12-31, female
TODAY = date(2024, 6, 1)


def _with_check(first17: str) -> str:
    """Append the correct check character so only the targeted defect remains."""
    return first17 + idcard.checksum_char(first17)


def test_checksum_of_known_example():
    assert idcard.checksum_char(VALID[:17]) == "X"


@pytest.mark.parametrize("bad", ["1234", "1101051949123100221", "11010519491231002a"])
def test_checksum_char_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        idcard.checksum_char(bad)


def test_known_valid_number():
    assert idcard.validate(VALID) is None
    assert idcard.validate(VALID.lower()) is None  # lowercase x is accepted


def test_parse_known_number():
    cid = idcard.parse(VALID)
    assert cid == idcard.CitizenId("110105", date(1949, 12, 31), "002", "F")


def test_parse_male():
    number = _with_check("44030419800101001")
    assert idcard.parse(number).sex == "M"


def test_citizen_id_is_frozen():
    cid = idcard.parse(VALID)
    with pytest.raises(AttributeError):
        cid.sex = "M"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("number", "reason_start"),
    [
        ("110105194912310021", "bad checksum"),
        ("", "wrong length"),
        ("11010519491231002", "wrong length"),
        ("11010519491231002X0", "wrong length"),
        (" 11010519491231002X", "wrong length"),  # no implicit strip
        ("1101051949123100A1", "non-digit"),
        ("11010519491231002Y", "non-digit"),
        ("11010519491231002\uff18", "non-digit"),  # full-width digit
        ("110105194912310\uff1121", "non-digit"),
        (_with_check("01010519491231002"), "area code"),
        (_with_check("91010519491231002"), "area code"),
        (_with_check("11010519490230002"), "impossible birth date"),
        (_with_check("11010519491301002"), "impossible birth date"),
        (_with_check("11010519490000002"), "impossible birth date"),
        (_with_check("11010500001231002"), "impossible birth date"),
        (_with_check("11010520240602002"), "birth date 2024-06-02 is in the future"),
    ],
)
def test_failure_reasons(number, reason_start):
    reason = idcard.validate(number, today=TODAY)
    assert reason is not None and reason.startswith(reason_start), reason
    with pytest.raises(ValueError, match=reason_start):
        idcard.parse(number, today=TODAY)


def test_birth_today_is_not_future():
    number = _with_check("110105" + TODAY.strftime("%Y%m%d") + "002")
    assert idcard.validate(number, today=TODAY) is None


def test_leap_day():
    assert idcard.validate(_with_check("11010520000229002")) is None
    assert idcard.validate(_with_check("11010519000229002")).startswith("impossible")


def test_every_wrong_check_char_is_rejected():
    for c in "0123456789X":
        if c != "X":
            assert idcard.validate(VALID[:17] + c) == "bad checksum"


def test_normalize():
    assert idcard.normalize("  11010519491231002x\n") == VALID


def test_make_known_number():
    # Sequence code 002 = 2*1 + 0 (female), see idcard._sequence_code.
    assert idcard.make("110105", date(1949, 12, 31), "F", 1) == VALID


def test_make_sequence_mapping_ends():
    assert idcard.make("110105", date(1990, 1, 1), "F", 0)[14:17] == "000"
    assert idcard.make("110105", date(1990, 1, 1), "M", 0)[14:17] == "001"
    assert idcard.make("110105", date(1990, 1, 1), "F", 499)[14:17] == "998"
    assert idcard.make("110105", date(1990, 1, 1), "m", 499)[14:17] == "999"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("110105", date(1990, 1, 1), "X", 1), "sex"),
        (("110105", date(1990, 1, 1), "F", 500), "sequence"),
        (("110105", date(1990, 1, 1), "F", -1), "sequence"),
        (("010105", date(1990, 1, 1), "F", 1), "area code"),
        (("11010", date(1990, 1, 1), "F", 1), "area code"),
    ],
)
def test_make_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        idcard.make(*args)


def test_make_rejects_a_birth_date_after_today_in_china():
    # "Tomorrow" is taken when the test runs, not when pytest collects it: a suite that
    # crosses midnight in China would otherwise make the date today's.
    tomorrow = idcard.china_today() + timedelta(days=1)
    with pytest.raises(ValueError, match="future"):
        idcard.make("110105", tomorrow, "F", 1)


def test_make_parse_round_trip_random():
    rng = random.Random(11643)
    start, span = date(1900, 1, 1).toordinal(), (date(2020, 12, 31) - date(1900, 1, 1)).days
    for _ in range(2000):
        area = str(rng.randint(1, 8)) + f"{rng.randint(0, 99999):05d}"
        born = date.fromordinal(start + rng.randint(0, span))
        sex = rng.choice("MF")
        seq = rng.randint(0, idcard.MAX_SEQUENCE)
        number = idcard.make(area, born, sex, seq)
        assert len(number) == 18
        assert idcard.validate(number) is None
        cid = idcard.parse(number)
        assert (cid.area_code, cid.birth_date, cid.sex) == (area, born, sex)
        assert int(cid.sequence) == 2 * seq + (sex == "M")
        # Any single-digit change in the first 17 digits breaks the checksum
        # (weights are all non-zero mod 11), unless it trips an earlier check.
        pos = rng.randrange(17)
        new = str((int(number[pos]) + rng.randint(1, 9)) % 10)
        assert idcard.validate(number[:pos] + new + number[pos + 1 :]) is not None
