"""The masking rules that hold against combination (issue: the masked ID was the full ID)."""

from __future__ import annotations

from datetime import date

import pytest

from onemap.domain.masking import (
    SearchMode,
    SearchRefused,
    age_band,
    mask_audit_details,
    mask_person,
    search_mode,
)

PERSON = {"id": 531, "name": "孟庆华", "gender": "M", "birth_date": "1968-06-02",
          "id_number": "210103196806020416", "phone": "13812345678",
          "population_type": "registered"}


def test_a_masked_person_has_an_age_band_and_no_birth_date():
    masked = mask_person(PERSON, date(2026, 11, 30))
    assert "birth_date" not in masked
    assert masked["age_band"] == "50-59"
    assert masked["id_number"] == "210103********0416"
    text = repr(masked)
    for hidden in ("19680602", "1968-06-02", "孟庆华", "13812345678"):
        assert hidden not in text


@pytest.mark.parametrize("born, today, band", [
    ("2020-12-01", date(2026, 11, 30), "0-9"),
    ("1966-11-30", date(2026, 11, 30), "60-69"),   # the birthday itself
    ("1966-12-01", date(2026, 11, 30), "50-59"),   # the day before it
    ("1926-01-01", date(2026, 11, 30), "100-109"),
])
def test_age_bands_follow_birthdays(born, today, band):
    assert age_band(born, today) == band


@pytest.mark.parametrize("query", ["210103196806020416", "21010319680602041X",
                                   "210103680602041", "E12345678"])
def test_only_roles_that_may_unmask_search_by_id_number(query):
    assert search_mode(query, may_unmask=True) is SearchMode.ID_NUMBER
    with pytest.raises(SearchRefused):
        search_mode(query, may_unmask=False)


def test_roles_that_may_not_unmask_match_whole_names_only():
    assert search_mode("孟", may_unmask=False) is SearchMode.WHOLE_NAME
    assert search_mode("孟庆", may_unmask=True) is SearchMode.NAME_PREFIX
    assert search_mode("Alexander", may_unmask=False) is SearchMode.WHOLE_NAME


def test_audit_details_show_searched_people_masked():
    assert mask_audit_details({"query": "210103196806020416", "results": 1}) == {
        "query": "210103********0416", "results": 1}
    assert mask_audit_details({"query": "孟庆华"})["query"] == "孟**"
    assert mask_audit_details({"found": True}) == {"found": True}
    assert mask_audit_details(None) is None
