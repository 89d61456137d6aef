"""The pipeline report's words (SPEC 10): the executive summary, the sections' sentences, the rep
leaderboard and the data-quality checks, each from the findings (numbers by :mod:`salesnb.fmt`)."""
from __future__ import annotations

from ...fmt import MISSING, esc, esc_html, fmt_count, fmt_delta, fmt_money, fmt_number, fmt_pct, fmt_points
from ..labels import PIPELINE_KPI_ROWS

TOP_ACTIONS = 3


def _get(d: dict | None, path: str):
    for part in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def format_kpi(kind: str, value, currency: str) -> str:
    if kind == "money":
        return fmt_money(value, currency)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "days":
        return MISSING if value is None else fmt_number(value, 1 if float(value) % 1 else 0)
    return fmt_count(value)


def _change(kind: str, now, then) -> str:
    if now is None or then is None:
        return MISSING
    if kind == "pct":   # a change of a rate: in percentage points
        return fmt_points(now - then)
    if not then:
        return MISSING
    return fmt_delta((now - then) / abs(then) * 100.0)


def kpis(f: dict) -> list[dict]:
    """The headline rows: label, value now, change vs the previous period and vs a year ago."""
    p, cur = f.get("pipeline") or {}, f.get("currency", "USD")
    rows = []
    for label, path, kind in PIPELINE_KPI_ROWS:
        now = _get(p, path)
        row = {"label": label, "key": f"pipeline.{path}", "value": now, "formatted": format_kpi(kind, now, cur)}
        for key in ("previous", "year_ago"):
            row[f"vs_{key}"] = _change(kind, now, _get(p.get(key), path)) if p.get(key) else MISSING
        rows.append(row)
    o, ev = p.get("open") or {}, p.get("expected_value") or {}
    rows.append({"label": "Open pipeline", "key": "pipeline.open.value", "value": o.get("value"),
                 "formatted": f"{fmt_money(o.get('value'), cur)} ({fmt_count(o.get('deals'))} deals)",
                 "vs_previous": MISSING, "vs_year_ago": MISSING})
    rows.append({"label": "Expected value of the open pipeline", "key": "pipeline.expected_value.value",
                 "value": ev.get("value"), "formatted": fmt_money(ev.get("value"), cur),
                 "vs_previous": MISSING, "vs_year_ago": MISSING})
    return rows


def opening(f: dict) -> list[str]:
    """Two or three sentences: the win rate and its change, the open pipeline, the first action."""
    p, cur = f.get("pipeline") or {}, f.get("currency", "USD")
    label = (f.get("period") or {}).get("label", "")
    won, lost = (p.get("won") or {}).get("deals") or 0, (p.get("lost") or {}).get("deals") or 0
    out = []
    if won + lost:
        text = (f"In {label}, {fmt_count(won)} of {fmt_count(won + lost)} closed deals were won "
                f"({fmt_pct(p.get('win_rate_pct'))}), worth {fmt_money(p['won']['revenue'], cur)}")
        prev = p.get("previous")
        if prev and prev.get("win_rate_pct") is not None:
            text += f", against {fmt_pct(prev['win_rate_pct'])} in {prev['window']['label']}"
        out.append(text + ".")
    else:
        out.append(f"No deal closed in {label}.")
    o, ev = p.get("open") or {}, p.get("expected_value") or {}
    if o.get("deals"):
        text = f"The open pipeline holds {fmt_count(o['deals'])} deals worth {fmt_money(o.get('value'), cur)}"
        if ev.get("value") is not None:
            text += (f"; at the last 12 months' win rate of {fmt_pct(ev.get('win_rate_pct'))} that is an expected "
                     f"{fmt_money(ev['value'], cur)}")
        out.append(text + ".")
    actions = [a for a in (f.get("recommendations") or {}).get("actions") or [] if a.get("shown", True)]
    if actions:
        out.append(f"First action: {actions[0]['title']}.")
    return out


def executive_summary_markdown(f: dict) -> str:
    prev = (f.get("pipeline") or {}).get("previous")
    yago = (f.get("pipeline") or {}).get("year_ago")
    head = ["KPI", (f.get("period") or {}).get("label", "")]
    head += [f"vs {prev['window']['label']}"] if prev else []
    head += [f"vs {yago['window']['label']}"] if yago else []
    lines = ["| " + " | ".join(esc(h) for h in head) + " |", "|" + "---|" * len(head)]
    for k in kpis(f):
        cells = [k["label"], k["formatted"]] + ([k["vs_previous"]] if prev else []) + ([k["vs_year_ago"]] if yago else [])
        lines.append("| " + " | ".join(esc(c) for c in cells) + " |")
    out = [esc(" ".join(opening(f))), "\n".join(lines)]
    actions = [a for a in (f.get("recommendations") or {}).get("actions") or [] if a.get("shown", True)]
    if actions:
        out.append("**Top actions**\n\n" + "\n".join(
            f"{i}. **{esc(a['title'])}** — {esc(a['metric'])} within {fmt_count(a['deadline_days'])} days"
            for i, a in enumerate(actions[:TOP_ACTIONS], 1)))
    return "\n\n".join(out) + "\n"


def executive_summary_html(f: dict) -> str:
    """The report's executive summary (HTML, every data string escaped)."""
    prev = (f.get("pipeline") or {}).get("previous")
    yago = (f.get("pipeline") or {}).get("year_ago")
    from ...fmt import NO_MATH_CLASSES
    parts = [f"<section class='salesnb-summary {NO_MATH_CLASSES}'>"]
    parts += [f"<p class='snb-opening'>{esc_html(s)}</p>" for s in opening(f)]
    head = ["KPI", (f.get("period") or {}).get("label", "")]
    head += [f"vs {prev['window']['label']}"] if prev else []
    head += [f"vs {yago['window']['label']}"] if yago else []
    rows = "".join("<tr>" + "".join(f"<td>{esc_html(c)}</td>" for c in
                                    [k["label"], k["formatted"]] + ([k["vs_previous"]] if prev else [])
                                    + ([k["vs_year_ago"]] if yago else [])) + "</tr>" for k in kpis(f))
    parts.append("<table class='kpis'><thead><tr>" + "".join(f"<th>{esc_html(h)}</th>" for h in head)
                 + f"</tr></thead><tbody>{rows}</tbody></table>")
    actions = [a for a in (f.get("recommendations") or {}).get("actions") or [] if a.get("shown", True)]
    if actions:
        items = "".join(f"<li><b>{esc_html(a['title'])}</b> — {esc_html(a['metric'])} within "
                        f"{fmt_count(a['deadline_days'])} days</li>" for a in actions[:TOP_ACTIONS])
        parts.append(f"<h3>Top actions</h3><ol>{items}</ol>")
    else:
        parts.append("<p>No action passes the evidence rules for this period.</p>")
    return "\n".join(parts + ["</section>"])


def leaderboard_frame(f: dict, key: str = "by_rep", dim: str = "sales_rep"):
    """The rep leaderboard (or a product / region table): won revenue, win rate, deals, cycle."""
    import pandas as pd
    cur = f.get("currency", "USD")
    rows = (f.get("pipeline") or {}).get(key) or []
    noun = {"sales_rep": "Sales rep"}.get(dim, dim.capitalize())
    return pd.DataFrame([{
        noun: r[dim], "Won revenue": fmt_money(r["won_revenue"], cur), "Win rate": fmt_pct(r["win_rate_pct"]),
        "Won": fmt_count(r["won"]), "Lost": fmt_count(r["lost"]),
        "Median cycle (days)": format_kpi("days", r["median_cycle_days"], cur),
        "Sample": "enough" if r["material"] else "too few closed deals",
    } for r in rows], columns=[noun, "Won revenue", "Win rate", "Won", "Lost", "Median cycle (days)", "Sample"])


def open_sentence(f: dict) -> str:
    p, cur = f.get("pipeline") or {}, f.get("currency", "USD")
    o, s = p.get("open") or {}, p.get("stalled") or {}
    end = (f.get("period") or {}).get("data_end", "")
    text = (f"At {end}, {fmt_count(o.get('deals'))} deals are open, worth {fmt_money(o.get('value'), cur)}.")
    if o.get("without_value"):
        text += f" {fmt_count(o['without_value'])} of them have no value and add nothing to it."
    unknown = next((b for b in o.get("by_age") or [] if b["band"] == "unknown"), None)
    if unknown and unknown["deals"]:
        text += f" {fmt_count(unknown['deals'])} have no created date, so their age is unknown."
    if s.get("threshold_days") is not None:
        text += (f" {fmt_count(s.get('deals'))} ({fmt_money(s.get('value'), cur)}) are older than "
                 f"{fmt_count(round(s['threshold_days']))} days, the 90th percentile of the sales cycle of the "
                 f"{fmt_count(s.get('won_in_window'))} deals won in the last 12 months: they have stalled.")
    return text


def expected_value_sentence(f: dict) -> str:
    ev, cur = (f.get("pipeline") or {}).get("expected_value") or {}, f.get("currency", "USD")
    if ev.get("value") is None:
        return "No deal closed in the 12 months up to the period's end, so the open pipeline has no expected value."
    return (f"Expected value {fmt_money(ev['value'], cur)} = open value × {fmt_pct(ev.get('win_rate_pct'))}, the win "
            f"rate of the {fmt_count((ev.get('won') or 0) + (ev.get('lost') or 0))} deals closed from "
            f"{ev['window']['start']} to {ev['window']['end']}. {ev.get('note', '')}")


def quality_checks(f: dict) -> list[str]:
    """The data-quality section's checks for pipeline findings."""
    d = f.get("data") or {}
    deals = d.get("deals") or {}
    cur = f.get("currency", "USD")
    checks = [f"Deals in the data: {fmt_count(deals.get('won'))} won ({fmt_money(deals.get('won_value'), cur)}), "
              f"{fmt_count(deals.get('lost'))} lost, {fmt_count(deals.get('open'))} open. An open deal has no close "
              "date: that is its state, not a data problem."]
    for s in deals.get("open_by_stage") or []:
        extra = [f"{fmt_count(s[k])} without {k.split('_', 1)[1].replace('_', ' ')}"
                 for k in ("without_created_date", "without_value") if s.get(k)]
        checks.append(f"Open, {s['stage']}: {fmt_count(s['deals'])} deals" + (f" ({', '.join(extra)})" if extra else "")
                      + ".")
    params = ((f.get("method") or {}).get("params") or {})
    if params.get("query"):
        checks.append("The source is a query (see the params below): values and dimensions may come from joined "
                      "tables, such as the list price of an open deal's product.")
    checks += [str(n) for n in d.get("notes") or [] if "open deals" not in str(n)]
    from ..quality import filter_lines
    return checks + filter_lines(d.get("filters"))
