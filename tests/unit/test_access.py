"""Roles, masking and passwords: plain rules, tested directly."""

from __future__ import annotations

import pytest

from onemap.domain.masking import mask_id, mask_name, mask_passport, mask_phone, mask_record
from onemap.access.passwords import WeakPassword, hash_password, verify_password
from onemap.domain.roles import ROLE_CAPABILITIES, Capability, can


def test_masks_look_as_the_domain_says():
    assert mask_id("21010319800517123X") == "210103********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("KIM MINJUN") == "K** M*****"
    assert mask_passport("E12345678") == "E******78"
    assert mask_id(None) is None and mask_phone("") == ""


def test_mask_record_masks_personal_fields_only():
    record = {"id": 7, "name": "李四", "id_number": "110105194912310021", "phone": "13900001111",
              "room_number": "501"}
    assert mask_record(record) == {"id": 7, "name": "李*", "id_number": "110105********0021",
                                   "phone": "139****1111", "room_number": "501"}


def test_every_role_is_in_the_table_and_unknown_roles_get_nothing():
    assert set(ROLE_CAPABILITIES) == {"duty_officer", "leader", "analyst", "grid_worker", "admin"}
    assert can("admin", Capability.MANAGE_USERS)
    assert not can("duty_officer", Capability.MANAGE_USERS)
    assert not can("nobody", Capability.VIEW_MAP)
    # sensitive tags: only the grid worker who looks after those people
    assert [r for r in ROLE_CAPABILITIES if can(r, Capability.VIEW_SENSITIVE_TAGS)] == ["grid_worker"]
    assert not can("analyst", Capability.UNMASK_PERSON) and not can("leader", Capability.UNMASK_PERSON)


def test_passwords_hash_with_argon2id_and_verify():
    stored = hash_password("值班-2026-secure")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "值班-2026-secure")
    assert not verify_password(stored, "值班-2026-secur")
    assert not verify_password("not a hash", "whatever")


@pytest.mark.parametrize("weak", ["short1", "onlyletters", "12345678901"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(WeakPassword):
        hash_password(weak)
