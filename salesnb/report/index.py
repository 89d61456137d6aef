"""A batch's ``index.html``: every report with its KPIs, failures marked, the revenue chart, and the
forecasts' track record (each quarter's forecast beside the actual that followed)."""
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


def track_record(entries) -> list[dict]:
    """Each quarter's forecast made at the previous report's end beside the actual that followed.

    ``entries``: ``(scope, findings dict)`` in the batch's order (``scope`` the ``--by`` value or
    None). A report's ``forecast.next_quarter`` is matched with the report of the same scope whose
    period is that quarter (its ``revenue.total`` is the actual); the last forecast, whose quarter
    has no report yet, is listed with no actual. ``error_pct`` = (actual − forecast) / actual ×
    100 and ``inside80`` (actual within the 80% interval) are only given for a complete actual
    quarter (a partial one is not comparable with a whole quarter's forecast)."""
    by_label = {(scope, (f.get("period") or {}).get("label")): f for scope, f in entries}
    rows = []
    for scope, made in entries:
        fc = made.get("forecast") or {}
        nq = fc.get("next_quarter") or {}
        if nq.get("revenue") is None:
            continue
        later = by_label.get((scope, nq.get("label")))
        actual = ((later or {}).get("revenue") or {}).get("total")
        partial = bool(((later or {}).get("period") or {}).get("partial"))
        comparable = actual is not None and not partial
        lo, hi = nq.get("lo80"), nq.get("hi80")
        rows.append({
            "scope": scope, "quarter": nq["label"], "made_after": made["period"]["label"],
            "method": fc.get("method"), "model": fc.get("model"), "forecast": nq["revenue"], "lo80": lo, "hi80": hi,
            "actual": actual, "partial": partial, "reported": later is not None,
            "error_pct": (actual - nq["revenue"]) / actual * 100.0 if comparable and actual > 0 else None,
            "inside80": bool(lo <= actual <= hi) if comparable and lo is not None and hi is not None else None,
        })
    return rows


def track_record_view(rows: list[dict], currency: str) -> dict:
    """The track record as the index shows it: every cell formatted by :mod:`salesnb.fmt`, and a
    summary line over the quarters with a complete actual."""
    from ..fmt import fmt_count, fmt_delta, fmt_money, fmt_pct
    from ..render.labels import forecast_method_name
    from ..render.narrative.forecast import interval_text
    shown = []
    for r in rows:
        if r["actual"] is None:
            actual = "not in this batch" if not r["reported"] else "—"
        else:
            actual = fmt_money(r["actual"], currency) + (" (partial)" if r["partial"] else "")
        name, model = forecast_method_name(r["method"]), r["model"] or ""
        if r["method"] == "run_rate" or model.split(" ")[0].lower() == name.split(" ")[0].lower():
            model = ""      # the model's label only repeats the method's name
        shown.append({"scope": r["scope"], "quarter": r["quarter"], "made_after": r["made_after"],
                      "method": name, "model": model,
                      "forecast": fmt_money(r["forecast"], currency),
                      "interval": interval_text(r["lo80"], r["hi80"], currency), "actual": actual,
                      "error": fmt_delta(r["error_pct"]),
                      "inside": {True: "yes", False: "no", None: "—"}[r["inside80"]]})
    scored = [r for r in rows if r["error_pct"] is not None]
    summary = None
    if scored:
        mape = sum(abs(r["error_pct"]) for r in scored) / len(scored)
        judged = [r for r in scored if r["inside80"] is not None]
        summary = (f"Over {fmt_count(len(scored))} quarter{'s' if len(scored) != 1 else ''} with a complete actual, "
                   f"the forecast was off by {fmt_pct(mape)} on average (absolute)")
        if judged:
            summary += (f"; the actual fell inside the 80% interval in {fmt_count(sum(r['inside80'] for r in judged))} "
                        f"of {fmt_count(len(judged))}")
        summary += "."
    return {"rows": shown, "summary": summary}


def write_index(config, period_list, by, name_dir, all_jobs, timings, t_start, progress) -> BatchResult:
    """Write ``index.html`` over the batch's reports; the batch's result."""
    from ..render import html as H
    rows, labels, series, any_lfl = index_rows(all_jobs, name_dir, by)
    currency = config.currency
    chart = H.revenue_chart_svg(labels, series, currency)
    title = config.title or config.name
    record = track_record([(job.by["value"] if job.by else None, job.findings.data)
                           for job in all_jobs if job.path is not None])
    page = H.index_page(title=title, periods=f"{period_list[0].label} … {period_list[-1].label}"
                        if len(period_list) > 1 else period_list[0].label, by=by, rows=rows, chart=chart,
                        generated=now_text(), any_like_for_like=any_lfl, kind=config.kind,
                        track_record=track_record_view(record, currency) if record else None)
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
