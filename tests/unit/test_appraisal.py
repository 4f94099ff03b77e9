"""The appraisal's formula (onemap/domain/appraisal.py): weights checked, components, the
composite score by DOMAIN.md's example scheme, ranks with ties, no score without a case due."""

import pytest

from onemap.domain import appraisal, kpi

SCHEME = appraisal.Scheme(1, appraisal.DEFAULT_WEIGHTS)


def test_weights_must_be_known_positive_and_add_up_to_one():
    assert appraisal.checked_weights(appraisal.DEFAULT_WEIGHTS) == appraisal.DEFAULT_WEIGHTS
    for bad, says in (({}, "at least one"), ({"closure_rate": 1.2}, "add up to 1"),
                      ({"closure_rate": 0.5, "speed": 0.5}, "unknown component"),
                      ({"closure_rate": 1.5, "rework_rate": -0.5}, "above 0"),
                      ({"closure_rate": True}, "above 0")):
        with pytest.raises(appraisal.BadWeights, match=says):
            appraisal.checked_weights(bad)


def test_the_score_by_domain_s_example_scheme():
    counts = {"received": 100, "registered": 90, "closed": 80, "closed_on_time": 72,
              "returned": 9, "overdue_open": 10}
    values = kpi.values(counts)  # due 90: closure 88.9 %, on time 80 %, rework 10 %
    score = appraisal.score(SCHEME, values, supervised=9, due=90)
    expected = 0.5 * 80 + 0.3 * (80 / 90 * 100) + 0.1 * (100 - 10) + 0.1 * (100 - 10)
    assert score == pytest.approx(expected)


def test_no_case_due_no_score_and_no_rank():
    assert appraisal.score(SCHEME, kpi.values({"received": 3}), due=0) is None
    ranks = appraisal.ranked([("a", 90.0), ("b", None), ("c", 95.0), ("d", 90.004)])
    assert ranks == {"c": 1, "a": 2, "d": 2}  # equal to two places share a rank; b unranked
    assert appraisal.ranked([("a", 1.0), ("b", 1.0), ("c", 0.5)]) == {"a": 1, "b": 1, "c": 3}


def test_components_run_the_way_more_is_better():
    values = {"rework_rate": 4.0, "closure_rate": 97.0}
    assert appraisal.component("rework_rate", values) == 96.0
    assert appraisal.component("closure_rate", values) == 97.0
    assert appraisal.component("supervision", values, supervised=5, due=50) == 90.0
    assert appraisal.component("supervision", values, supervised=0, due=0) is None
    assert appraisal.COMPONENT_NAMES["rework_rate"].startswith("100−")
