"""The export page's list of the user's jobs: what, state, progress, rows, size, and the file
while it is kept (pages/export.py places it, callbacks/export.py refreshes it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dash import html

from exports.formats import FORMATS
from geodata.export_jobs import Job
from layers.registry import SOURCES

CHINA = ZoneInfo("Asia/Shanghai")
STATE_NAMES = {"queued": "排队中 queued", "running": "导出中 running", "done": "完成 done",
               "failed": "失败 failed", "expired": "已过期 expired"}
# a job queued this long has no worker taking it: say what to check
NO_WORKER_AFTER = timedelta(seconds=60)
HEADERS = (("编号", "No."), ("图层", "Layer"), ("筛选", "Filters"),
           ("格式 · 坐标系", "Format · CRS"), ("提交", "Submitted"), ("状态", "State"),
           ("进度", "Progress"), ("行数", "Rows"), ("大小", "Size"), ("文件", "File"))


def size_text(size: int | None) -> str:
    if size is None:
        return "—"
    for unit, step in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= step:
            return f"{size / step:.1f} {unit}"
    return f"{size} B"


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(CHINA).strftime("%m-%d %H:%M")


def _elapsed(job: Job, now: datetime) -> str:
    seconds = int(((job.finished_at or now) - (job.started_at or now)).total_seconds())
    return f"{seconds // 60}分{seconds % 60:02d}秒" if seconds >= 60 else f"{seconds}秒"


def _progress(job: Job, now: datetime) -> html.Div:
    # a running job's share is the stage it has reached: the bar moves while it writes
    width = 100 if job.state in ("done", "expired") else job.progress
    label = {"running": f"已用 {_elapsed(job, now)}",
             "done": f"用时 {_elapsed(job, now)}"}.get(job.state, "")
    return html.Div(className="export-progress", children=[
        html.Div(className=f"export-bar {job.state}", children=[
            html.Div(className="export-bar-fill", style={"width": f"{width}%"})]),
        html.Span(label, className="export-progress-text")])


def _file(job: Job, now: datetime) -> list:
    if job.state == "done" and job.file_name:
        return [html.A(["下载 ", job.file_name], href=f"/export/files/{job.id}",
                       className="export-download", download=job.file_name),
                html.Span(f"{_when(job.expires_at)} 过期 · expires", className="export-note")]
    if job.state == "failed":
        return [html.Span(job.error or "失败 failed", className="export-error")]
    if job.state == "expired":
        return [html.Span("文件已删除，请重新导出 · deleted: export again",
                          className="export-note")]
    if job.state == "queued" and now - job.created_at > NO_WORKER_AFTER:
        return [html.Span("久未开始：请确认后台进程 onemap worker 在运行 · not started: is "
                          "`onemap worker` running?", className="export-note")]
    return [html.Span("等待后台导出 · waiting for the worker" if job.state == "queued"
                      else "正在写入文件 · writing the file", className="export-note")]


def _day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(CHINA).date()


def filters_text(filters: dict, names: dict[str, str]) -> str:
    """What a job was narrowed to, in a line: unit by name, drawn area, days, conditions."""
    parts = []
    if filters.get("unit"):
        parts.append(names.get(filters["unit"], filters["unit"]))
    if filters.get("polygon"):
        parts.append("绘制区域 drawn area")
    if filters.get("bbox"):
        parts.append("范围框 box")
    since, until = filters.get("since"), filters.get("until")
    if since or until:
        first = f"{_day(since):%Y-%m-%d}" if since else "…"
        # `until` is the midnight after the last day the user chose
        last = f"{_day(until) - timedelta(days=1):%Y-%m-%d}" if until else "…"
        parts.append(f"{first} 至 {last}")
    parts += [f"{field}={value}" for field, value in (filters.get("equals") or {}).items()]
    return " · ".join(parts) or "全辖区 whole scope"


def units_named(jobs: list[Job]) -> list[str]:
    """The unit codes the jobs were narrowed to (their names are looked up for the list)."""
    return sorted({job.filters["unit"] for job in jobs if job.filters.get("unit")})


def _crs_name(key: str) -> str:
    return {"wgs84": "WGS84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09",
            "gk": "高斯-克吕格 GK"}.get(key, key)


def job_table(jobs: list[Job], names: dict[str, str] | None = None,
              now: datetime | None = None) -> html.Div | html.Table:
    """The user's jobs, newest first; `names`: unit names by code."""
    if not jobs:
        return html.Div("还没有导出任务：在左侧选择图层并提交 · no exports yet: choose layers "
                        "on the left and submit", className="export-empty")
    now = now or datetime.now(timezone.utc)
    rows = []
    for job in jobs:
        source = SOURCES.get(job.layer)
        rows.append(html.Tr(className=f"export-job {job.state}", children=[
            html.Td(str(job.id)),
            html.Td([source.title_zh if source else job.layer,
                     html.Span(source.title_en if source else "", className="en")],
                    className="export-layer-cell"),
            html.Td([html.Span(part, className="export-filter")
                     for part in filters_text(job.filters, names or {}).split(" · ")],
                    className="export-filters"),
            html.Td([FORMATS[job.format].title if job.format in FORMATS else job.format,
                     html.Span(_crs_name(job.crs), className="export-crs")]),
            html.Td(_when(job.created_at)),
            html.Td(html.Span(STATE_NAMES.get(job.state, job.state),
                              className=f"export-state {job.state}")),
            html.Td(_progress(job, now)),
            html.Td("—" if job.rows is None else f"{job.rows:,}", className="number"),
            html.Td(size_text(job.bytes), className="number"),
            html.Td(_file(job, now), className="export-file"),
        ]))
    return html.Table(className="export-table", children=[
        html.Thead(html.Tr([html.Th([zh, html.Span(en, className="en")])
                            for zh, en in HEADERS])), html.Tbody(rows)])
