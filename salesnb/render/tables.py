"""Display tables from findings: every cell formatted by :mod:`salesnb.fmt`, rendered escaped."""
from __future__ import annotations

import re

import pandas as pd

from ..fmt import MISSING, NO_MATH_CLASSES, esc_html, fmt_count, fmt_delta, fmt_money, fmt_pct
from .labels import DISCOUNT_BAND_LABELS, KPI_ROWS, OPTIONAL_KPIS, PROFIT_KPI_ROWS, dimension_noun, format_kpi
from .narrative import profit as profit_narrative


def kpi_table(f: dict) -> pd.DataFrame:
    """Headline KPIs with change vs the previous period and vs a year ago; profit and margin after
    revenue when profit or cost is mapped (the margin's change in points)."""
    rev, cur = f["revenue"], f.get("currency", "USD")
    cmp = f.get("comparison", {})
    prev_label = (cmp.get("previous") or {}).get("label") or "previous"
    yago_label = (cmp.get("year_ago") or {}).get("label") or "year ago"
    rows = []
    for label, key, _ in KPI_ROWS:
        value = rev.get(key)
        if value is None and key in OPTIONAL_KPIS:
            continue
        ch = rev.get("change", {}).get(key, {})
        rows.append({
            "KPI": label, f["period"]["label"]: format_kpi(key, value, cur),
            f"vs {prev_label}": fmt_delta(ch.get("vs_previous_pct")),
            f"vs {yago_label}": fmt_delta(ch.get("vs_year_ago_pct")),
        })
        if key == "total":
            rows += [{"KPI": k["label"], f["period"]["label"]: k["formatted"], f"vs {prev_label}": k["previous"]["short"],
                      f"vs {yago_label}": k["year_ago"]["short"]} for k in profit_narrative.kpi_rows(f)]
    t = rev.get("targets")
    if t:
        rows.append({"KPI": "Target attainment", f["period"]["label"]: fmt_pct(t.get("attainment_pct")),
                     f"vs {prev_label}": "", f"vs {yago_label}": f"target {fmt_money(t['revenue'], cur)}"})
    return pd.DataFrame(rows)


def _profit_cells(f: dict, dim: str):
    """value → {Profit, Margin} cells from ``revenue.profit.by_dimension.<dim>`` (matched by value),
    or None when profit is not mapped."""
    p = (f.get("revenue") or {}).get("profit")
    if not isinstance(p, dict):
        return None
    cur, (profit, margin) = f.get("currency", "USD"), [label for label, _, _ in PROFIT_KPI_ROWS]
    return {r["value"]: {profit: fmt_money(r["profit"], cur), margin: fmt_pct(r["margin_pct"])}
            for r in (p.get("by_dimension") or {}).get(dim, [])}


def breakdown_table(f: dict, dim: str, limit: int | None = 15) -> pd.DataFrame:
    """Revenue by the values of ``dim`` (largest first); Profit and Margin beside revenue when
    profit or cost is mapped. A value sold only in the previous period has no profit row (it has
    no line in the period): its profit is 0, its margin —."""
    rows = f["revenue"]["by_dimension"].get(dim, [])
    cur = f.get("currency", "USD")
    shown = rows if limit is None else rows[:limit]
    profit = _profit_cells(f, dim)
    none = dict(zip([label for label, _, _ in PROFIT_KPI_ROWS], (fmt_money(0.0, cur), MISSING)))
    return pd.DataFrame([{
        dim.replace("_", " ").capitalize(): r["value"], "Revenue": fmt_money(r["revenue"], cur),
        **({} if profit is None else profit.get(str(r["value"]), none)),
        "Share": fmt_pct(r["share_pct"]), "Growth": fmt_delta(r["growth_pct"]),
        "Change": fmt_delta(r.get("change"), "money", cur),
        "Contribution (pts)": fmt_delta(r.get("contribution_pct_points"), "count") if r.get("contribution_pct_points") is None
        else f"{r['contribution_pct_points']:+.1f}",
        "Orders": fmt_count(r["orders"]), "AOV": fmt_money(r.get("avg_order_value"), cur),
    } for r in shown])


def quarter_table(f: dict) -> pd.DataFrame:
    cur = f.get("currency", "USD")
    return pd.DataFrame([{
        "Quarter": q["quarter"] + (" (partial)" if q["partial"] else ""), "Revenue": fmt_money(q["revenue"], cur),
        "Orders": fmt_count(q["orders"]), "QoQ": fmt_delta(q["qoq_pct"]), "YoY": fmt_delta(q["yoy_pct"]),
    } for q in f["revenue"].get("by_quarter", [])])


def month_table(f: dict, key: str = "by_month") -> pd.DataFrame:
    cur = f.get("currency", "USD")
    return pd.DataFrame([{
        "Month": m["month"] + (" (partial)" if m["partial"] else ""), "Revenue": fmt_money(m["revenue"], cur),
        "Orders": fmt_count(m["orders"]), "Units": fmt_count(m.get("units")),
    } for m in f["revenue"].get(key, [])])


def reps_table(f: dict, limit: int = 10) -> pd.DataFrame:
    cur = f.get("currency", "USD")
    return pd.DataFrame([{
        "Sales rep": r["sales_rep"], "Revenue": fmt_money(r["revenue"], cur), "Share": fmt_pct(r["share_pct"]),
        "Growth": fmt_delta(r.get("growth_pct")), "Orders": fmt_count(r["orders"]),
        "Avg deal size": fmt_money(r.get("avg_deal_size"), cur),
    } for r in f["revenue"].get("top_performers", [])[:limit]])


def bridge_items_table(f: dict, which: str) -> pd.DataFrame:
    """The price-volume-mix bridge vs ``which``: one row per part that moved, its total and the
    items that drove it most (``revenue.bridge.<which>.pvm.top``, one per line)."""
    from .narrative.bridge import CENT, bridge_entry, bridge_parts
    entry = bridge_entry(f, which)
    cur = f.get("currency", "USD")
    top = ((entry or {}).get("pvm") or {}).get("top") or {}
    rows = []
    for p in bridge_parts(entry, "pvm"):
        if p["value"] is None or abs(p["value"]) < CENT:
            continue
        items = [f"{t['item']}: {fmt_delta(t['value'], 'money', cur)}" for t in top.get(p["part"], [])]
        rows.append({"Effect": p["label"], "Total": fmt_delta(p["value"], "money", cur),
                     "Items that drove it most": "\n".join(items)})
    return pd.DataFrame(rows, columns=["Effect", "Total", "Items that drove it most"])


#: the dimension whose leaders the per-region table shows, in order of preference
LEADER_REGION_DIMENSIONS = ("sales_rep", "product", "category", "segment", "channel")


def _leader_cell(top: dict | None, cur: str) -> str:
    if not top:
        return ""
    return f"{top['value']}\n{fmt_money(top['revenue'], cur)} · {fmt_pct(top.get('share_pct'))}"


def leaders_table(f: dict) -> pd.DataFrame:
    """Leaders over time (``revenue.leaders``): one row per quarter, the quarter's revenue and the
    overall leader of each dimension with its revenue and share."""
    lead = (f.get("revenue") or {}).get("leaders") or {}
    cur = f.get("currency", "USD")
    dims = lead.get("dimensions") or []
    rows = []
    for q in lead.get("quarters") or []:
        row = {"Quarter": q["quarter"] + (" (partial)" if q.get("partial") else ""),
               "Revenue": fmt_money(q.get("revenue"), cur)}
        for dim in dims:
            row[f"Top {dimension_noun(dim)}"] = _leader_cell(((q.get("top") or {}).get(dim) or {}).get("overall"), cur)
        rows.append(row)
    return pd.DataFrame(rows)


def leaders_region_dimension(f: dict) -> str | None:
    """The dimension the per-region leaders table shows (a sales rep where there is one), or None."""
    lead = (f.get("revenue") or {}).get("leaders") or {}
    quarters = lead.get("quarters") or []
    for dim in LEADER_REGION_DIMENSIONS:
        if dim in (lead.get("dimensions") or []) and any(((q.get("top") or {}).get(dim) or {}).get("by_region")
                                                         for q in quarters):
            return dim
    return None


def leaders_by_region_table(f: dict, dim: str) -> pd.DataFrame:
    """The leader of ``dim`` in each region, one row per quarter, one column per region."""
    lead = (f.get("revenue") or {}).get("leaders") or {}
    cur = f.get("currency", "USD")
    rows = []
    for q in lead.get("quarters") or []:
        row = {"Quarter": q["quarter"] + (" (partial)" if q.get("partial") else "")}
        for r in ((q.get("top") or {}).get(dim) or {}).get("by_region") or []:
            row[r["region"]] = _leader_cell(r, cur)
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


_BREAK, _WBR = "\x1e", "\x1f"
_LONG = re.compile(r"[^\s$]{15,}")


def _soft_breaks(m) -> str:
    return re.sub(r"([._\]/])(?=.)", lambda c: c.group(1) + _WBR, m.group(0))



def loss_table(f: dict) -> pd.DataFrame:
    lm, cur = f["revenue"]["profit"]["loss_makers"], f.get("currency", "USD")
    return pd.DataFrame([{
        lm["dimension"].replace("_", " ").capitalize(): r["value"], "Revenue": fmt_money(r["revenue"], cur),
        "Loss": fmt_money(-r["profit"], cur), "Margin": fmt_pct(r["margin_pct"]), "Orders": fmt_count(r["orders"]),
    } for r in lm["items"]])


def discount_table(f: dict) -> pd.DataFrame:
    d, cur = f["revenue"]["profit"]["discount"], f.get("currency", "USD")
    return pd.DataFrame([{
        "Discount": DISCOUNT_BAND_LABELS.get(b["band"], b["band"]), "Revenue": fmt_money(b["revenue"], cur),
        "Profit": fmt_money(b["profit"], cur), "Margin": fmt_pct(b["margin_pct"]), "Orders": fmt_count(b["orders"]),
    } for b in d["bands"]])



def to_html(frame: pd.DataFrame) -> str:
    """An escaped HTML table (data strings can hold markup) that MathJax leaves alone."""
    if frame is None or frame.empty:
        return "<p><em>No rows.</em></p>"
    # a cell's own line breaks (short evidence lines) survive the escaping as <br>; a long token
    # such as a findings key may wrap after its dots and underscores (<wbr>), never inside a number
    frame = frame.map(lambda v: _LONG.sub(_soft_breaks, v).replace("\n", _BREAK) if isinstance(v, str) else v)
    text = frame.to_html(index=False, escape=True, border=0, classes=f"salesnb-table {NO_MATH_CLASSES}")
    text = _mark_text_columns(text, _text_columns(frame))
    return text.replace(_BREAK, "<br>").replace(_WBR, "<wbr>")


# a formatted number: money, a count, a percentage or a change ("$1,234.56", "−3.2%", "+12", "-3.9 pts", "—")
_NUMBER_CELL = re.compile(r"^[+\-\u2212]?(?:[A-Z]{3}\s)?[^\d\s]{0,3}\d[\d,.]*(?:\s?[%KMB]|\s?pp|\spts)?$|^[\u2014\-]?$")


def _text_columns(frame: pd.DataFrame) -> set[int]:
    """Positions of the columns after the first that hold words, not formatted numbers: they read
    left-aligned (the stylesheet right-aligns numbers)."""
    text = set()
    for i, col in enumerate(frame.columns):
        if i == 0:
            continue
        values = [v for v in frame[col] if isinstance(v, str) and v.strip()]
        if values and not all(_NUMBER_CELL.match(v.strip()) for v in values):
            text.add(i)
    return text


# the class for the report's stylesheet; the inline alignment for JupyterLab, whose own table style
# right-aligns every cell and never sees report.css
_TEXT_CELL = '<td class="text" style="text-align: left">'


def _mark_text_columns(html: str, positions: set[int]) -> str:
    if not positions:
        return html

    def row(m: re.Match) -> str:
        cells = iter(range(10_000))
        return re.sub(r"<td>", lambda _: _TEXT_CELL if next(cells) in positions else "<td>", m.group(0))
    return re.sub(r"<tr>.*?</tr>", row, html, flags=re.S)


def note_html(text: str) -> str:
    return f'<p class="salesnb-note {NO_MATH_CLASSES}">{esc_html(text)}</p>'
