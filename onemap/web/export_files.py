"""GET /export/files/<job id>: the file of one of the user's own export jobs (pages/export.py).

The job is read in the user's scope: row-level security shows a session only its user's own
jobs, so another user's job id is as unknown as one that never was (404, the same answer). A
job that is not done, has expired or whose file is gone is 404 too, with what to do. Each
download is one audit row: the export itself was audited when the worker wrote it, this says
who took the file away and when.
"""

from __future__ import annotations

from flask import Blueprint, send_file

from exports.formats import FORMATS
from geodata import export_jobs
from geodata.scope import scoped
from onemap.domain.roles import Capability
from onemap.settings import get_settings

from .auth import audit_request, current_scope, requires
from .errors import NotFound

files = Blueprint("export_files", __name__)


@files.get("/export/files/<int:job_id>")
@requires(Capability.EXPORT)
def export_file(job_id: int):
    """The job's file as an attachment under its own name (events_GCJ-02.gpkg)."""
    folder = get_settings().export_dir
    with scoped(current_scope()) as conn:
        job = export_jobs.get(conn, job_id)
        path = None if job is None else export_jobs.job_file(conn, folder, job)
        if path is None:
            raise NotFound("导出文件不存在或已过期，请重新导出",
                           "no such export file, or it has expired: export again")
        audit_request(conn, "download", object_kind="export_job", object_id=str(job.id),
                      details={"layer": job.layer, "file": job.file_name, "bytes": job.bytes})
    media_type = FORMATS[job.format].media_type if job.format in FORMATS else None
    response = send_file(path, mimetype=media_type, as_attachment=True,
                         download_name=job.file_name, conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"  # personal data, masked or not
    return response
