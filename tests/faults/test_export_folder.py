"""The export folder (ONEMAP_EXPORT_DIR) full, then read-only: a small tmpfs of its own
(`mount -t tmpfs`, as root; unmounted afterwards) under a real `onemap worker --once`.

Full (a file takes all but 64 KiB of it): the page's jobs in CSV (Python's writes), GeoPackage
(SQLite's) and KML (GDAL's, which does not report a failed write) each fail with a message
naming the folder and saying it is full; no file, whole or partial, is left; the worker goes
on. Space freed, the same jobs queued again are done, each file whole (every row read back).
Read-only (`mount -o remount,ro`: chmod does not stop root): the job fails saying so; made
writable again, the next job is done. `onemap export` into the full or read-only folder fails
the same way, in a line, with no traceback and no file.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import text

from tests.faults.conftest import buildings_csv, fill, mount, small_disk
from tests.fixtures.hierarchy import DISTRICT

FREE = 64 * 1024  # what the filler leaves of the folder's disk
FORMATS = ("csv", "gpkg", "kml")


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def analyst(site, tmp_path_factory):
    """An analyst of the district, with buildings (4,000 or more) to export; (id, name)."""
    path = buildings_csv(tmp_path_factory.mktemp("export") / "楼栋.csv", "FULL", 80, 50)
    site.onemap("import", "buildings", path, "--crs", "wgs84", timeout=600)
    site.onemap("user", "add", "analyst-fault", "--role", "analyst", "--scope", DISTRICT,
                "--password", "analyst-fault-2026")
    user_id = site.scalar("SELECT id FROM onemap.app_user WHERE username = 'analyst-fault'")
    return user_id, "analyst-fault"


def queue(site, user_id: int, format: str) -> int:
    """A job as the export page queues it (as the owner, naming the user)."""
    with site.owner.begin() as conn:
        return conn.execute(text(
            "INSERT INTO onemap.export_job (user_id, layer, format, crs, filters, headers)"
            " VALUES (:u, 'buildings', :f, 'wgs84', '{}'::jsonb, 'en') RETURNING id"),
            {"u": user_id, "f": format}).scalar_one()


def job(site, job_id: int) -> dict:
    with site.owner.connect() as conn:
        return dict(conn.execute(text(
            "SELECT state, error, rows, bytes, file_name FROM onemap.export_job WHERE id = :i"),
            {"i": job_id}).mappings().one())


def worker_once(site, folder: Path) -> str:
    """`onemap worker --once` exporting into `folder`: it ends well, whatever its jobs did,
    and logs no traceback; its output."""
    done = site.onemap("worker", "--once", env=dict(site.env, ONEMAP_EXPORT_DIR=str(folder)))
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    return output


def check_whole(path: Path, format: str, rows: int) -> None:
    """The file holds every row."""
    if format == "csv":
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert len(lines) == rows + 1, (path, len(lines))
    else:
        info = pyogrio.read_info(path, force_feature_count=True)
        assert info["features"] == rows, (path, info["features"])


def test_a_full_export_folder_fails_the_job_clearly_and_leaves_no_file(site, analyst):
    user_id, name = analyst
    buildings = site.scalar("SELECT count(*) FROM onemap.building")
    with small_disk() as folder:
        filler = fill(folder, FREE)
        jobs = {format: queue(site, user_id, format) for format in FORMATS}
        output = worker_once(site, folder)
        for format, job_id in jobs.items():
            failed = job(site, job_id)
            assert failed["state"] == "failed", (format, failed)
            assert str(folder) in failed["error"] and "full" in failed["error"], (format, failed)
            assert "已满" in failed["error"], failed
        assert str(folder) in output and "full" in output, output[-3000:]
        assert files_under(folder) == ["filler"]  # no file, whole or partial

        # `onemap export` into it: a line saying so, no traceback, no file
        out = folder / "cli"
        out.mkdir()
        done = site.onemap("export", "buildings", "--format", "csv", "--out", out, "--as", name,
                           check=False)
        assert done.returncode != 0
        assert str(out) in done.stderr and "full" in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stdout + done.stderr
        assert files_under(folder) == ["filler"]

        filler.unlink()
        again = {format: queue(site, user_id, format) for format in FORMATS}
        worker_once(site, folder)
        for format, job_id in again.items():
            done = job(site, job_id)
            assert done["state"] == "done" and done["rows"] == buildings, (format, done)
            path = next(folder.rglob(done["file_name"]))
            assert path.stat().st_size == done["bytes"]
            check_whole(path, format, buildings)


def test_a_read_only_export_folder_fails_the_job_clearly(site, analyst):
    user_id, name = analyst
    buildings = site.scalar("SELECT count(*) FROM onemap.building")
    with small_disk() as folder:
        (folder / "cli").mkdir()
        mount("-o", "remount,ro", str(folder))
        try:
            with pytest.raises(OSError):
                (folder / "probe").write_text("root writes here unless the disk refuses")
            job_id = queue(site, user_id, "csv")
            output = worker_once(site, folder)
            failed = job(site, job_id)
            assert failed["state"] == "failed", failed
            assert str(folder) in failed["error"] and "read-only" in failed["error"], failed
            assert "只读" in failed["error"], failed
            assert str(folder) in output and "read-only" in output, output[-3000:]
            done = site.onemap("export", "buildings", "--format", "csv", "--out",
                               folder / "cli", "--as", name, check=False)
            assert done.returncode != 0
            assert str(folder / "cli") in done.stderr and "read-only" in done.stderr, done.stderr
            assert "Traceback" not in done.stdout + done.stderr
        finally:
            mount("-o", "remount,rw", str(folder))
        assert files_under(folder) == []

        job_id = queue(site, user_id, "csv")
        worker_once(site, folder)
        done = job(site, job_id)
        assert done["state"] == "done" and done["rows"] == buildings, done
        check_whole(next(folder.rglob(done["file_name"])), "csv", buildings)
