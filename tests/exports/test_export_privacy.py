"""Scope, masking and audit on exports, tried as a curious user would: a grid worker, an
analyst and a leader; a street's analyst who asks for the whole district or another street;
personal fields as filters; a failure half-way through a file."""

from __future__ import annotations

import json

import pyogrio
import pytest
from sqlalchemy import text

from exports import formats
from exports.run import ExportRefused, ExportRequest
from layers.rows import BadFilter, Filters


def _audit(owner, username: str, action: str) -> list[dict]:
    with owner.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(
            "SELECT action, object_kind, object_id, details FROM onemap.audit_log"
            " WHERE username = :u AND action = :a ORDER BY id"), {"u": username, "a": action})]


def test_a_grid_worker_may_not_export_and_the_refusal_is_audited(exporter, owner, tmp_path):
    before = len(_audit(owner, "gridworker", "refused"))
    with pytest.raises(ExportRefused):
        exporter.export("gridworker", ExportRequest("events", "csv"), tmp_path)
    assert not list(tmp_path.iterdir())
    refusals = _audit(owner, "gridworker", "refused")
    assert len(refusals) == before + 1 and refusals[-1]["object_id"] == "events"


def test_a_leader_gets_no_personal_fields_and_no_people(exporter, tmp_path):
    result = exporter.export("leader", ExportRequest("events", "gpkg"), tmp_path)
    columns = pyogrio.read_info(result.path)["fields"]
    assert "上报人" not in columns and "上报人电话" not in columns and "标题" in columns
    assert result.personal == "omitted"
    with pytest.raises(ExportRefused):  # people are for roles that may look them up
        exporter.export("leader", ExportRequest("persons", "csv"), tmp_path)


def test_an_analyst_gets_people_masked_as_the_person_api_masks_them(exporter, owner,
                                                                    tmp_path):
    result = exporter.export("analyst", ExportRequest("persons", "csv", "wgs84",
                                                      headers="en"), tmp_path)
    import pandas as pd

    table = pd.read_csv(result.path, encoding="utf-8-sig", dtype=str)
    with owner.connect() as conn:
        residents = conn.execute(text(
            "SELECT count(*) FROM onemap.person_household WHERE kind = 'residence'")).scalar()
        sample = conn.execute(text(
            "SELECT p.id, p.name, p.id_number, p.phone, p.birth_date FROM onemap.person p"
            " WHERE p.id = :id"), {"id": int(table["id"].iloc[0])}).one()
    assert len(table) == residents
    row = table.iloc[0]
    assert row["name"] != sample.name and row["name"][0] == sample.name[0] and "*" in row["name"]
    assert row["id_number"] == sample.id_number[:6] + "********" + sample.id_number[-4:]
    if sample.phone:
        assert row["phone"] != sample.phone and "****" in row["phone"]
    # the ID's hidden digits are the birth date: an age band only, never the date
    assert "birth_date" not in table.columns and "-" in row["age_band"]
    assert not table["id_number"].str.contains(sample.birth_date.strftime("%Y%m%d")).any()


def test_a_street_analyst_gets_their_street_whatever_they_ask(exporter, owner, street,
                                                             tmp_path):
    name = exporter.add_user("analyst", street)
    with owner.connect() as conn:
        theirs = conn.execute(text(
            "SELECT count(*) FROM onemap.event WHERE starts_with(grid_code, :s)"),
            {"s": street}).scalar()
        other = conn.execute(text(
            "SELECT left(grid_code, 9) FROM onemap.event WHERE NOT starts_with(grid_code, :s)"
            " LIMIT 1"), {"s": street}).scalar()
        district_total = conn.execute(text("SELECT count(*) FROM onemap.event")).scalar()
    everything = exporter.export(name, ExportRequest("events", "fgb"), tmp_path / "a.fgb")
    assert everything.rows == theirs < district_total
    elsewhere = exporter.export(name, ExportRequest("events", "fgb", filters=Filters(
        unit=other)), tmp_path / "b.fgb")
    assert elsewhere.rows == 0
    # boundaries: their street and what lies above it, never a neighbour
    streets = exporter.export(name, ExportRequest("street", "geojson"), tmp_path / "s.json")
    codes = set(pyogrio.read_dataframe(streets.path)["编码"])
    assert codes == {street}


def test_filters_narrow_to_what_the_sql_counts(exporter, owner, street, tmp_path):
    with owner.connect() as conn:
        since, until = conn.execute(text(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY reported_at),"
            " max(reported_at) FROM onemap.event")).one()
        box = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
            " ST_Expand(ST_Centroid(geom), 0.005) AS e FROM onemap.street WHERE code = :s) t"),
            {"s": street}).one()
        expected = conn.execute(text(
            "SELECT count(*) FROM onemap.event WHERE starts_with(grid_code, :s)"
            " AND reported_at >= :since AND reported_at < :until AND state = 'closed'"
            " AND geom && ST_MakeEnvelope(:w, :so, :e, :n, 4326)"),
            {"s": street, "since": since, "until": until, "w": box[0], "so": box[1],
             "e": box[2], "n": box[3]}).scalar()
        polygon = conn.execute(text(
            "SELECT ST_AsText(ST_Envelope(ST_MakeEnvelope(:w, :so, :e, :n, 4326)))"),
            {"w": box[0], "so": box[1], "e": box[2], "n": box[3]}).scalar()
    filters = Filters(unit=street, bbox=tuple(box), since=since, until=until,
                      equals={"state": "closed"})
    result = exporter.export("analyst", ExportRequest("events", "csv", filters=filters),
                             tmp_path / "f.csv")
    assert result.rows == expected > 0
    by_polygon = exporter.export("analyst", ExportRequest("events", "csv", filters=Filters(
        unit=street, polygon=polygon, since=since, until=until, equals={"state": "closed"})),
        tmp_path / "p.csv")
    assert by_polygon.rows == expected
    audit = _audit(owner, "analyst", "export")[-2]
    details = audit["details"] if isinstance(audit["details"], dict) else json.loads(
        audit["details"])
    assert audit["object_id"] == "events" and details["rows"] == expected
    assert details["format"] == "csv" and details["filters"]["equals"] == {"state": "closed"}
    assert details["filters"]["unit"] == street and details["via"] == "test"


def test_personal_fields_cannot_be_filters(exporter, tmp_path):
    # a filter on a masked field would confirm a guessed name or phone, row by row
    with pytest.raises(BadFilter, match="personal"):
        exporter.export("analyst", ExportRequest("events", "csv", filters=Filters(
            equals={"reporter_phone": "13800000000"})), tmp_path)
    with pytest.raises(BadFilter, match="no field"):
        exporter.export("analyst", ExportRequest("events", "csv", filters=Filters(
            equals={"1=1; DROP TABLE onemap.event; --": "x"})), tmp_path)


def test_a_failure_half_way_leaves_no_file_and_no_export_in_the_audit(exporter, owner,
                                                                      tmp_path, monkeypatch):
    def breaks_half_way(frame, source, crs, path, columns):
        path.write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setitem(formats.FORMATS, "csv", formats.Format(
        "csv", "CSV", "csv", "text/csv", breaks_half_way))
    before = len(_audit(owner, "analyst", "export"))
    with pytest.raises(OSError, match="No space"):
        exporter.export("analyst", ExportRequest("events", "csv"), tmp_path / "e.csv")
    assert list(tmp_path.iterdir()) == []
    assert len(_audit(owner, "analyst", "export")) == before
