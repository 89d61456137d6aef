"""A batch's ``index.html``: every report with its KPIs, failures marked, and the revenue chart."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .messages import now_text, say
from .publish import write_atomic
from .run import Job


@dataclass
class BatchResult:
    index_path: Path
    reports: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def index_rows(jobs: list[Job], name_dir: Path, by: str | None) -> tuple[list, list, list, bool]:
    from urllib.parse import quote

    from ..render import html as H
    rows, labels, series_map = [], [], {}
    any_lfl = False
    for job in jobs:
        value = job.by["value"] if job.by else None
        if job.label not in labels:
            labels.append(job.label)
        if job.path is not None:
            f = job.findings.data
            rel = job.final.relative_to(name_dir).as_posix()
            any_lfl = any_lfl or bool((f.get("comparison") or {}).get("like_for_like"))
            pdf_rel = rel + "/report.pdf" if (job.final / "report.pdf").exists() else None
            rows.append({"ok": True, "value": value, "period": job.label,
                         "partial": bool((f.get("period") or {}).get("partial")),
                         "kpis": H.index_kpis(f), "href": quote(rel + "/report.html"),
                         "pdf_href": quote(pdf_rel) if pdf_rel else None})
            series_map.setdefault(value, {})[job.label] = H.index_revenue(f)
        else:
            failed_href = None
            if job.failed_dir is not None and job.failed_dir.exists():
                failed_href = quote(job.failed_dir.relative_to(name_dir).as_posix() + "/notebooks/")
            rows.append({"ok": False, "value": value, "period": job.label, "reason": job.error or "failed",
                         "failed_href": failed_href})
            series_map.setdefault(value, {})
    series = [(v if v is not None else "", [series_map[v].get(lb) for lb in labels]) for v in series_map]
    if by:
        series = [(name if name else "(missing)", vals) for name, vals in series]
    # many values: chart the ten largest
    if len(series) > 10:
        series = sorted(series, key=lambda s: -sum(x for x in s[1] if x is not None))[:10]
    return rows, labels, series, any_lfl


def write_index(config, period_list, by, name_dir, all_jobs, timings, t_start, progress) -> BatchResult:
    """Write ``index.html`` over the batch's reports; the batch's result."""
    from ..render import html as H
    rows, labels, series, any_lfl = index_rows(all_jobs, name_dir, by)
    currency = config.currency
    chart = H.revenue_chart_svg(labels, series, currency)
    title = config.title or config.name
    page = H.index_page(title=title, periods=f"{period_list[0].label} … {period_list[-1].label}"
                        if len(period_list) > 1 else period_list[0].label, by=by, rows=rows, chart=chart,
                        generated=now_text(), any_like_for_like=any_lfl, kind=config.kind)
    index_path = write_atomic(name_dir / "index.html", page)
    failures = []
    for job in all_jobs:
        if job.error:
            failures.append(f"{job.tag.strip()[1:-1]}: {job.error}")
    timings["total"] = time.perf_counter() - t_start
    say(progress, f"batch done in {timings['total']:.1f} s: {len(all_jobs) - len(failures)} reports, "
                  f"{len(failures)} failed; index: {index_path}")
    return BatchResult(index_path=index_path, reports=[j.path for j in all_jobs if j.path is not None],
                       failures=failures, timings=timings)
