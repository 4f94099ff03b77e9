"""Tests for onemap.domain.uscc (GB 32100-2015 unified social credit codes)."""

import random

import pytest

from onemap.domain import uscc

# The example code used in GB 32100 explanations, and one published company
# code (Huawei Technologies Co., Ltd., Shenzhen). Both checks were recomputed
# independently below rather than trusted from memory.
EXAMPLE = "91350100M000100Y43"
HUAWEI = "914403001922038216"


def _independent_check(first17: str) -> str:
    """Re-derive the GB 32100 check char in a deliberately different style."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [pow(3, i, 31) for i in range(17)]  # the GB 32100 weights are 3^i mod 31
    total = sum(charset.index(c) * w for c, w in zip(first17, weights, strict=True))
    return charset[-total % 31]


def test_weights_are_powers_of_three():
    assert list(uscc._WEIGHTS) == [pow(3, i, 31) for i in range(17)]


@pytest.mark.parametrize("code", [EXAMPLE, HUAWEI])
def test_known_real_codes(code):
    assert _independent_check(code[:17]) == code[17]
    assert uscc.checksum_char(code[:17]) == code[17]
    assert uscc.validate(code) is None
    assert uscc.validate(code, strict_org_code=True) is None


def test_example_org_code_check():
    # M=22, Y=34 in GB 11714: 3*22 + 5*1 + 2*34 = 139; 139 % 11 = 7; 11 - 7 = 4.
    assert uscc.org_code_check("M000100Y") == "4"


def test_org_code_check_special_values():
    assert uscc.org_code_check("00000001") == "9"  # 2 % 11 = 2 -> 11 - 2
    assert uscc.org_code_check("00000006") == "X"  # 12 % 11 = 1 -> 10 -> 'X'
    assert uscc.org_code_check("00000000") == "0"  # 0 -> 11 -> '0'
    assert uscc.org_code_check("A0000000") == "3"  # A=10: 30 % 11 = 8 -> 11 - 8
    # J is 19 in GB 11714 (full alphabet), not its USCC charset index 18:
    # 57 % 11 = 2 -> '9', whereas 18 would give 54 % 11 = 10 -> '1'.
    assert uscc.org_code_check("J0000000") == "9"


def test_org_code_check_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc.org_code_check("1234567")
    with pytest.raises(ValueError):
        uscc.org_code_check("1234567-")


def test_make_reproduces_known_codes():
    assert uscc.make("9", "1", "350100", "M000100Y") == EXAMPLE
    assert uscc.make("9", "1", "440300", "19220382") == HUAWEI


@pytest.mark.parametrize("code", [EXAMPLE, HUAWEI])
def test_any_single_substitution_is_detected(code):
    # Weights are non-zero mod the prime 31, so every single change is caught.
    for pos in range(18):
        for c in uscc.CHARSET:
            if c != code[pos]:
                changed = code[:pos] + c + code[pos + 1 :]
                assert uscc.validate(changed) is not None, changed


@pytest.mark.parametrize(
    ("code", "reason_start"),
    [
        ("", "wrong length"),
        (EXAMPLE[:17], "wrong length"),
        (EXAMPLE + "0", "wrong length"),
        ("91350100M000100Y4I", "invalid character"),
        ("91350100MO00100Y43", "invalid character"),
        ("91350100m000100y43", "invalid character"),  # validate does not upper-case
        ("91350100M000100Y4-", "invalid character"),
        ("9135010AM000100Y43", "area code"),
        ("91350100M000100Y44", "bad checksum"),
    ],
)
def test_failure_reasons(code, reason_start):
    reason = uscc.validate(code)
    assert reason is not None and reason.startswith(reason_start), reason


def test_strict_org_code_flag():
    # Build a code whose GB 32100 check holds but whose org code check char is wrong,
    # as seen on some individual-business codes.
    first17 = "92350100M000100Y" + "5"
    code = first17 + uscc.checksum_char(first17)
    assert uscc.validate(code) is None
    assert uscc.validate(code, strict_org_code=True) == "bad organisation code check character"


def test_normalize():
    assert uscc.normalize(" 91350100m000100y43 \t") == EXAMPLE


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("I", "1", "350100", "M000100Y"), "registration department"),
        (("91", "1", "350100", "M000100Y"), "registration department"),
        (("9", "", "350100", "M000100Y"), "organisation type"),
        (("9", "1", "35010A", "M000100Y"), "area code"),
        (("9", "1", "35010", "M000100Y"), "area code"),
        (("9", "1", "350100", "M000100"), "organisation code body"),
        (("9", "1", "350100", "M00010OY"), "organisation code body"),
    ],
)
def test_make_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        uscc.make(*args)


def test_make_round_trip_random():
    rng = random.Random(32100)
    for _ in range(2000):
        dept, kind = rng.choice(uscc.CHARSET), rng.choice(uscc.CHARSET)
        area = f"{rng.randint(0, 999999):06d}"
        body = "".join(rng.choice(uscc.CHARSET) for _ in range(8))
        code = uscc.make(dept, kind, area, body)
        assert len(code) == 18
        assert code[:16] == dept + kind + area + body
        assert code[17] == _independent_check(code[:17])
        assert uscc.validate(code, strict_org_code=True) is None
