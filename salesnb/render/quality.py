"""Render the data-quality report (``salesnb validate``) as a readable text table."""
from __future__ import annotations

from ..fmt import fmt_count, fmt_money, fmt_pct


def filter_lines(filters) -> list[str]:
    """One sentence per filter of the params (the quality record's / findings' ``filters``): what
    it matched and how many rows it kept and removed, in the order the filters apply."""
    lines = []
    for f in filters or []:
        what = (f"{f['role']} (column {f['column']!r})" if f.get("role")
                else f"the source column {f['column']!r}")
        values = ", ".join(repr(v) for v in f["values"])
        lines.append(f"Filter {f['kind']} {what} in [{values}]: kept {fmt_count(f['kept'])} of "
                     f"{fmt_count(f['rows'])} rows, removed {fmt_count(f['removed'])}.")
    return lines


def quality_rows(q, config) -> list[tuple[str, str]]:
    cur = config.currency
    rows = [
        ("source", str(q.source)),
        ("sha256", q.sha256 or "—"),
        ("encoding / date format", f"{q.encoding or 'n/a'} / {q.date_format}"),
        ("rows read", fmt_count(q.rows_read)),
        ("rows used", fmt_count(q.rows_used)),
    ]
    for reason, n in q.rows_dropped.items():
        ex = q.examples.get(reason)
        rows.append((f"dropped: {reason}", fmt_count(n) + (f"  e.g. {', '.join(map(repr, ex))}" if ex else "")))
    rows += [("filter", line) for line in filter_lines(getattr(q, "filters", None))]
    if getattr(q, "deals", None) is not None:   # kind: pipeline
        return rows + pipeline_quality_rows(q, config)
    rows += [
        ("date range", f"{q.first_date} .. {q.last_date}"),
        ("revenue (net)", fmt_money(q.revenue_total, cur)),
        ("returns", f"{fmt_count(q.returns['lines'])} lines, {fmt_money(q.returns['value'], cur)}"),
        ("zero-revenue lines", fmt_count(q.zero_revenue_lines)),
        ("exact duplicate rows", f"{fmt_count(q.duplicates['rows'])} ({'dropped' if q.duplicates['dropped'] else 'kept'})"),
    ]
    if "customer_id" in q.columns:
        mc = q.missing_customer
        rows.append(("rows without customer id",
                     f"{fmt_count(mc['rows'])} ({fmt_pct(mc['revenue_share_pct'])} of revenue, kept for revenue)"))
    rows.append(("partial edge months", ", ".join(q.partial_months) or "none"))
    rows.append(("months without rows", ", ".join(q.gap_months) or "none"))
    rows.append(("dimensions", ", ".join(q.dimensions) or "none"))
    for note in q.notes:
        rows.append(("note", note))
    return rows


def pipeline_quality_rows(q, config) -> list[tuple[str, str]]:
    """Deals won, lost and open (by stage): an open deal is a state, never a dropped row."""
    d = q.deals
    rows = [("date range", f"{q.first_date} .. {q.last_date}"),
            ("deals won", f"{fmt_count(d['won'])} ({fmt_money(d['won_value'], config.currency)})"),
            ("deals lost", fmt_count(d["lost"])),
            ("deals open", fmt_count(d["open"]) + " (kept: an open deal has no close date)")]
    for s in d["open_by_stage"]:
        extra = [f"{fmt_count(s[k])} without {k.split('_', 1)[1].replace('_', ' ')}"
                 for k in ("without_created_date", "without_value") if s[k]]
        rows.append((f"open: {s['stage']}", fmt_count(s["deals"]) + (f" ({', '.join(extra)})" if extra else "")))
    rows.append(("dimensions", ", ".join(q.dimensions) or "none"))
    rows += [("note", note) for note in q.notes]
    return rows


def render_quality(q, config) -> str:
    rows = quality_rows(q, config)
    width = max(len(k) for k, _ in rows)
    title = f"Data quality — {config.name}"
    lines = [title, "=" * len(title)]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines.append("")
    lines.append("OK: the data loads; no fatal problem.")
    return "\n".join(lines)
