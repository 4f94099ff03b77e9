"""The set-based loader: when the database refuses a batch, the refused rows become row errors
and the others still go in (triggers and constraints never crash an import)."""

from __future__ import annotations

from sqlalchemy import text

from etl.importers.load import STAGE, create_stage, on_conflict, upsert
from etl.importers.report import mask
from etl.importers.templates import TEMPLATES
from etl.importers.validate import ErrorLog
from tests.fixtures.hierarchy import DISTRICT, _mp


def test_trigger_and_constraint_exceptions_become_row_errors(conn, hierarchy):
    create_stage(conn, [("code", "text"), ("name", "text"), ("geom", "geometry")])
    rows = [
        (2, f"{DISTRICT}003", "ok", _mp(123.40, 41.78, 123.41, 41.79)),
        (3, f"{DISTRICT}004", "outside", _mp(124.0, 42.0, 124.1, 42.1)),  # the trigger refuses
        (4, f"{DISTRICT}005", "ok", _mp(123.41, 41.78, 123.42, 41.79)),
        (5, "21010300X", "bad code", _mp(123.40, 41.78, 123.41, 41.79)),  # CHECK refuses
        (6, f"{DISTRICT}006", "ok", _mp(123.42, 41.78, 123.43, 41.79)),
    ]
    for row in rows:
        conn.execute(text(f"INSERT INTO {STAGE} (row, code, name, geom)"
                          " VALUES (:r, :c, :n, ST_GeomFromText(:g, 4326))"),
                     dict(zip("rcng", row, strict=True)))
    log = ErrorLog(TEMPLATES["boundaries"])
    sql = (f"INSERT INTO onemap.street AS t (code, district_code, name, geom)"
           f" SELECT s.code, '{DISTRICT}', s.name, s.geom FROM {STAGE} s"
           f" WHERE s.row BETWEEN :lo AND :hi {on_conflict('code', ['name', 'geom'])}")
    counts = upsert(conn, log, sql, "geometry")
    assert counts.inserted == 3
    assert [(e.row, e.field) for e in log.errors] == [(3, "geometry"), (5, "geometry")]
    assert log.errors[0].reason.startswith(
        f"refused by the database: street {DISTRICT}004 lies outside district {DISTRICT} by")
    assert "violates check constraint" in log.errors[1].reason
    assert conn.execute(text(f"SELECT count(*) FROM {STAGE}")).scalar_one() == 3


def test_masks():
    assert mask("210103199001011234", "id") == "210103********1234"
    assert mask("13812345678", "phone") == "138****5678"
    assert mask("张三", "name") == "张*"
    assert mask("E12345678", "other") == "E1*****78"
    assert mask("B-1", None) == "B-1"
