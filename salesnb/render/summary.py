"""Executive summary (SPEC 4 item 1): headline KPIs, the five most important findings, the top actions.

Everything here renders findings; nothing is computed that the findings do not hold. Sentences
come from :mod:`salesnb.render.narrative` where it has them; the few it lacks are written here with the
same discipline -- every number is a findings value formatted by :mod:`salesnb.fmt`, and words
(up/down, best/worst) are chosen by comparing findings values.

Ranking of the findings (``top_findings``): each candidate sentence gets a score = size of the
change × the revenue at stake, which for every candidate is a money amount:

==========================  ===============================================================
sentence                    score
==========================  ===============================================================
revenue (headline)          |revenue change| vs the previous period or a year ago (the larger)
target attainment           |revenue − target|
orders and AOV              |AOV change %| / 100 × revenue
best and worst month        best month revenue − worst month revenue
monthly growth              |average monthly growth %| / 100 × revenue / complete months
growth by dimension         the larger |revenue change| of the fastest and slowest grower named
largest value of a dim.     (share − 50) / 100 × revenue, only when one value holds > 50%
top sales rep               rep revenue × rep share / 100
returns                     returns value × returns / gross revenue
anomalous months            the largest |residual| of an anomalous month (STL, SPEC 9.4)
churn exposure              at-risk share / 100 × at-risk customers' 12-month revenue
customer concentration      (top-20% share − 50) / 100 × customers' revenue, when above 50%
revenue without customer id unidentified share / 100 × unidentified revenue
profit and margin           the larger |margin change| (points) / 100 × revenue
==========================  ===============================================================

The five highest scores are kept (ties broken by the sentence text), in score order. When profit
is mapped its sentence always has a place: ranked below the five, it takes the fifth one's.
"""
from __future__ import annotations


from .. import fmt
from ..fmt import esc_html, fmt_count, fmt_delta, fmt_money, fmt_pct
from .labels import KPI_ROWS, OPTIONAL_KPIS, delta_class, dimension_noun, format_kpi
from .narrative import bridge as bridge_narrative
from .narrative import customers as customer_narrative
from .narrative import forecast as forecast_narrative
from .narrative import profit as profit_narrative
from .narrative import revenue as narrative
from .recommendations import format_value, recommendations_of, shown

FINDING_DIMENSIONS = ("region", "segment", "category", "channel", "sales_rep")
TOP_FINDINGS = 5
TOP_ACTIONS = 3


def _data(findings) -> dict:
    return getattr(findings, "data", findings) or {}


def _num(v):
    from ..recommend.evidence import _num as number
    return number(v)


# --------------------------------------------------------------------------- value formatting


# --------------------------------------------------------------------------- KPIs

def kpis(findings) -> list[dict]:
    """Headline KPI rows: value, change vs previous (abs, pct) and vs a year ago, target attainment."""
    f = _data(findings)
    rev, cur = f.get("revenue") or {}, f.get("currency", "USD")
    cmp = f.get("comparison") or {}
    prev_label = (cmp.get("previous") or {}).get("label") if (cmp.get("previous") or {}).get("available") else None
    yago_label = (cmp.get("year_ago") or {}).get("label") if (cmp.get("year_ago") or {}).get("available") else None
    if narrative.same_comparison(f):      # a year report: the previous period is the year-ago period
        yago_label = None
    rows = []
    for label, key, kind in KPI_ROWS:
        value = rev.get(key)
        if value is None and key in OPTIONAL_KPIS:
            continue
        ch = (rev.get("change") or {}).get(key) or {}
        row = {"label": label, "key": f"revenue.{key}", "kind": kind, "value": value,
               "formatted": format_kpi(key, value, cur),
               "previous_label": prev_label, "year_ago_label": yago_label}
        for which in ("previous", "year_ago"):
            a, p = ch.get(f"vs_{which}_abs"), ch.get(f"vs_{which}_pct")
            row[f"vs_{which}_abs"], row[f"vs_{which}_pct"] = a, p
            row[f"formatted_vs_{which}"] = (
                f"{fmt_delta(p)} ({fmt_delta(a, 'money' if kind == 'money' else 'count', cur)})"
                if p is not None else fmt.MISSING)
        rows.append(row)
        if key == "total":   # profit and margin beside revenue, when profit or cost is mapped
            rows += [profit_kpi(k, prev_label, yago_label) for k in profit_narrative.kpi_rows(f)]
    t = rev.get("targets") or {}
    if t.get("attainment_pct") is not None:
        rows.append({"label": "Target attainment", "key": "revenue.targets.attainment_pct", "kind": "pct",
                     "value": t["attainment_pct"], "formatted": fmt_pct(t["attainment_pct"]),
                     "target": t.get("revenue"), "formatted_target": fmt_money(t.get("revenue"), cur),
                     "gap": t.get("gap"), "formatted_gap": fmt_delta(t.get("gap"), "money", cur),
                     "previous_label": prev_label, "year_ago_label": yago_label,
                     "vs_previous_abs": None, "vs_previous_pct": None, "vs_year_ago_abs": None,
                     "vs_year_ago_pct": None, "formatted_vs_previous": fmt.MISSING,
                     "formatted_vs_year_ago": fmt.MISSING})
    card = forecast_kpi(f)
    if card is not None:
        rows.append({**card, "previous_label": prev_label, "year_ago_label": yago_label})
    return rows


def profit_kpi(k: dict, prev_label, yago_label) -> dict:
    """A :func:`salesnb.render.narrative.profit.kpi_rows` row as a KPI row: the margin's changes are
    in points (``vs_<which>_points``, no %)."""
    row = {key: k[key] for key in ("label", "key", "kind", "value", "formatted")}
    row.update({"previous_label": prev_label, "year_ago_label": yago_label})
    for which in ("previous", "year_ago"):
        ch = k[which]
        row.update({f"vs_{which}_abs": ch["abs"], f"vs_{which}_pct": ch["pct"], f"vs_{which}_points": ch["points"],
                    f"formatted_vs_{which}": ch["formatted"]})
    return row


def forecast_kpi(findings) -> dict | None:
    """The next quarter's forecast as a KPI row: the forecast and its 80% interval, or the
    run-rate labelled as such (no interval); None without a forecast."""
    f = _data(findings)
    fc = f.get("forecast") or {}
    nq = fc.get("next_quarter") or {}
    if nq.get("revenue") is None:
        return None
    cur, run_rate = f.get("currency", "USD"), forecast_narrative.is_run_rate(f)
    return {"label": f"Forecast {nq['label']}" + (" (run-rate)" if run_rate else ""),
            "key": "forecast.next_quarter.revenue", "kind": "money", "value": nq["revenue"],
            "formatted": fmt_money(nq["revenue"], cur), "method": fc.get("method"),
            "formatted_interval": ("run-rate: no interval" if run_rate else
                                   f"80% interval {forecast_narrative.interval_text(nq.get('lo80'), nq.get('hi80'), cur)}"),
            "vs_previous_abs": None, "vs_previous_pct": None, "vs_year_ago_abs": None, "vs_year_ago_pct": None,
            "formatted_vs_previous": fmt.MISSING, "formatted_vs_year_ago": fmt.MISSING}


# --------------------------------------------------------------------------- sentences written here

def missing_customer_sentence(f: dict) -> str | None:
    c = f.get("customers") or {}
    share = c.get("unidentified_revenue_share_pct")
    if c.get("available") is False or not share:
        return None
    return (f"{fmt_pct(share)} of {f['period']['label']} revenue "
            f"({fmt_money(c.get('unidentified_revenue'), f.get('currency', 'USD'))}) has no customer id and is left "
            "out of the customer analyses.")


def _abs(v) -> float:
    v = _num(v)
    return abs(v) if v is not None else 0.0


def _candidates(f: dict) -> list[tuple[float, str, str]]:
    # long: one flat list of (score, sentence, source), one add() per kind of finding, in the page's order
    rev = f.get("revenue") or {}
    cust = f.get("customers") or {}
    total = _num(rev.get("total")) or 0.0
    change = rev.get("change") or {}
    out = []

    def add(source, sentence, score):
        if sentence:
            out.append((round(float(score), 6), sentence, source))

    ct = change.get("total") or {}
    add("revenue", narrative.revenue_sentence(f), max(_abs(ct.get("vs_previous_abs")), _abs(ct.get("vs_year_ago_abs"))))
    t = rev.get("targets") or {}
    add("target", narrative.target_sentence(f), _abs(t.get("gap")))
    add("orders", narrative.orders_sentence(f), _abs((change.get("aov") or {}).get("vs_previous_pct")) / 100 * total)
    best, worst = rev.get("best_month") or {}, rev.get("worst_month") or {}
    add("best_worst", narrative.best_worst_sentence(f), _abs(best.get("revenue")) - _abs(worst.get("revenue")))
    months = _num(rev.get("complete_months")) or 0
    if months:
        add("growth", narrative.growth_sentence(f), _abs(rev.get("avg_monthly_growth_pct")) / 100 * total / months)
    dims = rev.get("by_dimension") or {}
    present = rev.get("dimensions") or list(dims)
    for dim in FINDING_DIMENSIONS:
        if dim not in present or dim not in dims:
            continue
        rows = [r for r in dims[dim][:10] if r.get("growth_pct") is not None and (r.get("share_pct") or 0) >= 1.0]
        if len(rows) >= 2:
            # the values the sentence names: the fastest and the slowest grower
            ranked = sorted(rows, key=lambda r: (-r["growth_pct"], r["value"]))
            add(f"growth:{dim}", narrative.dimension_growth_sentence(f, dim),
                max(_abs(ranked[0].get("change")), _abs(ranked[-1].get("change"))))
        top = dims[dim][0] if dims[dim] else {}
        share = _num(top.get("share_pct"))
        if share is not None and share > 50 and len(dims[dim]) > 1:
            add(f"share:{dim}", narrative.dimension_share_sentence(f, dim), (share - 50) / 100 * total)
    reps = rev.get("top_performers") or []
    if reps:
        add("top_rep", narrative.top_rep_sentence(f), _abs(reps[0].get("revenue")) * _abs(reps[0].get("share_pct")) / 100)
    ret = rev.get("returns") or {}
    gross = total + _abs(ret.get("value"))
    if gross > 0:
        add("returns", narrative.returns_sentence(f), _abs(ret.get("value")) ** 2 / gross)
    vol = rev.get("volatility") or {}
    if vol.get("anomalies"):
        med = _abs(vol.get("median"))
        add("anomalies", narrative.anomaly_sentence(f),
            max(_abs(a.get("residual")) if a.get("residual") is not None else abs(_abs(a.get("revenue")) - med)
                for a in vol["anomalies"]))
    if cust and cust.get("available") is not False:
        add("churn", customer_narrative.churn_risk_sentence(f),
            _abs(cust.get("at_risk_share_pct")) / 100 * _abs(cust.get("at_risk_revenue")))
        share = _num(cust.get("top20_revenue_share_pct"))
        if share is not None and share > 50:
            base = _num(cust.get("period_customers_revenue")) or _num(cust.get("identified_revenue")) or 0.0
            add("concentration", customer_narrative.concentration_sentence(f), (share - 50) / 100 * base)
        add("missing_customer", missing_customer_sentence(f),
            _abs(cust.get("unidentified_revenue_share_pct")) / 100 * _abs(cust.get("unidentified_revenue")))
    profit = rev.get("profit")
    if isinstance(profit, dict):
        moves = [_abs((ch or {}).get("margin_pct_points")) for ch in (profit.get("change") or {}).values()]
        add("profit", profit_narrative.finding_sentence(f), max(moves, default=0.0) / 100 * total)
    return out


def top_findings(findings, n: int = TOP_FINDINGS) -> list[dict]:
    """The ``n`` most important findings as sentences, ranked by size of change × revenue at stake."""
    f = _data(findings)
    ranked = sorted(_candidates(f), key=lambda c: (-c[0], c[1]))
    seen, out = set(), []
    for score, sentence, source in ranked:
        if sentence in seen:
            continue
        seen.add(sentence)
        out.append({"sentence": sentence, "score": score, "source": source})
        if len(out) == n:
            break
    profit = next(({"sentence": t, "score": sc, "source": src} for sc, t, src in ranked if src == "profit"), None)
    if profit is not None and n > 0 and profit not in out:   # the profit sentence always has a place
        out[-1:] = [profit] if len(out) == n else out[-1:] + [profit]
    return out


# --------------------------------------------------------------------------- actions

def top_actions(findings, n: int = TOP_ACTIONS) -> list[dict]:
    f = _data(findings)
    cur = f.get("currency", "USD")
    out = []
    for a in shown(recommendations_of(f).get("actions"))[:n]:
        out.append({**a, "formatted_impact": fmt_money(a.get("impact"), cur) if a.get("impact") is not None else fmt.MISSING,
                    "formatted_target": format_value(a["metric"], a.get("target"), cur),
                    "formatted_current": format_value(a["metric"], a.get("current"), cur)})
    return out


def notes(findings) -> list[str]:
    """Caveats the KPI grid needs: no target, a partial period, a missing comparison."""
    f = _data(findings)
    rev, comp = f.get("revenue") or {}, f.get("comparison") or {}
    out = []
    if not (rev.get("targets") or {}).get("revenue"):
        out.append("Target attainment: no revenue target is set for this period (targets: in the params file).")
    if comp.get("like_for_like"):
        out.append("The period is partial: the changes compare the same span of days (like for like).")
    for which in ("previous", "year_ago"):
        info = comp.get(which) or {}
        if info.get("available") is False:
            out.append(f"{info.get('label') or which.replace('_', ' ')} is not in the data: no change against it.")
    if narrative.same_comparison(f):
        out.append(f"{comp['previous'].get('label')} is both the previous period and the year-ago period: "
                   "the changes are stated once.")
    return out


DRIVER_SHARE = 0.5  # a value "drives" the change when its own change is at least half of it, same sign


def _headline_change(f: dict):
    """(which, abs change, pct change, label) of the larger revenue change among the comparisons."""
    keys = narrative.comparisons(f)
    ct = ((f.get("revenue") or {}).get("change") or {}).get("total") or {}
    best = None
    for k in keys:
        a, p = _num(ct.get(f"vs_{k}_abs")), _num(ct.get(f"vs_{k}_pct"))
        if a is None or p is None:
            continue
        if best is None or abs(a) > abs(best[1]):
            best = (k, a, p, (f["comparison"][k] or {}).get("label"))
    return best


def _driver(f: dict, change: float):
    """The dimension value whose change vs the previous period is at least half the revenue
    change, with the same sign (the largest such), or None."""
    dims = (f.get("revenue") or {}).get("by_dimension") or {}
    present = (f.get("revenue") or {}).get("dimensions") or list(dims)
    found = None
    for dim in FINDING_DIMENSIONS:
        if dim not in present:
            continue
        for r in dims.get(dim) or []:
            c = _num(r.get("change"))
            if c is None or r.get("value") == "(missing)" or c * change <= 0 or abs(c) < DRIVER_SHARE * abs(change):
                continue
            if found is None or abs(c) > abs(found[2]):
                found = (dim, r, c)
    return found


def opening(findings) -> list[str]:
    """Two or three sentences that say what matters most (SPEC 9.4): the biggest revenue change
    with the bridge part that moved most against the same comparison, its main driver where the
    breakdown (or the no-acquisition rule) shows one, the first action.
    Every number is a findings value formatted by :mod:`salesnb.fmt`."""
    f = _data(findings)
    rev = f.get("revenue") or {}
    cur, period = f.get("currency", "USD"), (f.get("period") or {}).get("label")
    if rev.get("total") is None:
        return []
    out = []
    head = _headline_change(f)
    if head is None:
        out.append(f"Revenue was {fmt_money(rev['total'], cur)} in {period}.")
    else:
        which, change, pct, label = head
        word = fmt.direction(pct)
        if word == "flat":
            out.append(f"Revenue held flat on {label} ({fmt_pct(pct, signed=True)}) at {fmt_money(rev['total'], cur)} "
                       f"in {period}.")
        else:
            # the bridge part that moved most vs the same comparison (SPEC 9.1) names the driver
            why = bridge_narrative.driver_phrase(f, which)
            out.append(f"Revenue {'rose' if word == 'up' else 'fell'} {fmt_pct(abs(pct))} on {label} "
                       f"({fmt_delta(change, 'money', cur)}), to {fmt_money(rev['total'], cur)} in {period}"
                       + (f"; {why}." if why else "."))
            driver = _driver(f, change) if which == "previous" else None
            if driver is not None:
                dim, r, c = driver
                text = (f"Most of the change came from the {r['value']} {dimension_noun(dim)}: "
                        f"{fmt_delta(c, 'money', cur)}")
                if r.get("growth_pct") is not None:
                    text += f" ({fmt_pct(r['growth_pct'], signed=True)})"
                out.append(text + ".")
    recs = recommendations_of(f)
    if len(out) < 2:
        risk = next((r for r in shown(recs.get("risks")) if r.get("rule") == "no_acquisition"), None)
        if risk is not None:
            out.append(risk["title"] + ".")
    first = shown(recs.get("actions"))[:1]
    if first:
        a = first[0]
        text = f"First action: {a['title']}"
        if a.get("impact") is not None:
            text += f" ({fmt_money(a['impact'], cur)} at stake)"
        out.append(text + ".")
    return out[:3]


def executive_summary(findings) -> dict:
    """``{kpis, notes, top_findings, top_actions}`` for the report's first section."""
    f = _data(findings)
    return {"period": (f.get("period") or {}).get("label"), "currency": f.get("currency", "USD"),
            "opening": opening(f), "kpis": kpis(f), "notes": notes(f), "top_findings": top_findings(f),
            "top_actions": top_actions(f)}


# --------------------------------------------------------------------------- renderers

_CSS = """<style>
.salesnb-summary .snb-kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem;margin:.4rem 0 1rem}
.salesnb-summary .snb-kpi{border:1px solid #d9dee5;border-radius:6px;padding:.55rem .7rem;background:#fafbfc;break-inside:avoid}
.salesnb-summary .snb-kpi-label{font-size:.8rem;color:#555}
.salesnb-summary .snb-kpi-value{font-size:1.25rem;font-weight:600;margin:.15rem 0}
.salesnb-summary .snb-kpi-delta{font-size:.78rem;color:#555}
.salesnb-summary .snb-up{color:#2e7d32}.salesnb-summary .snb-down{color:#c62828}
.salesnb-summary .snb-meta{font-size:.85rem;color:#555}
</style>"""


def _delta_css(pct) -> str:
    cls = delta_class(pct)
    return f" snb-{cls}" if cls else ""


def executive_summary_html(findings) -> str:
    """An HTML fragment: KPI cards, the top findings, the top actions (every data string escaped)."""
    s = executive_summary(findings)
    cur = s["currency"]
    parts = [_CSS, f'<section class="salesnb-summary {fmt.NO_MATH_CLASSES}">']
    if s["opening"]:
        parts.append(f'<p class="snb-opening">{esc_html(" ".join(s["opening"]))}</p>')
    parts.append('<div class="snb-kpis">')
    for k in s["kpis"]:
        lines = [f'<div class="snb-kpi"><div class="snb-kpi-label">{esc_html(k["label"])}</div>',
                 f'<div class="snb-kpi-value">{esc_html(k["formatted"])}</div>']
        if k["key"] == "revenue.targets.attainment_pct":
            lines.append(f'<div class="snb-kpi-delta">target {esc_html(k["formatted_target"])}, '
                         f'gap {esc_html(k["formatted_gap"])}</div>')
        if k["key"] == "forecast.next_quarter.revenue":
            lines.append(f'<div class="snb-kpi-delta">{esc_html(k["formatted_interval"])}</div>')
        for which in ("previous", "year_ago"):
            label = k.get(f"{which}_label")
            if label and k.get(f"formatted_vs_{which}", fmt.MISSING) != fmt.MISSING:
                move = k.get(f"vs_{which}_pct") if k.get(f"vs_{which}_pct") is not None else k.get(f"vs_{which}_points")
                lines.append(f'<div class="snb-kpi-delta{_delta_css(move)}">'
                             f'{esc_html(k[f"formatted_vs_{which}"])} vs {esc_html(label)}</div>')
        lines.append("</div>")
        parts.append("".join(lines))
    parts.append("</div>")
    parts += [f'<p class="snb-meta">{esc_html(n)}</p>' for n in s["notes"]]
    if s["top_findings"]:
        parts.append("<h3>Key findings</h3><ol>")
        parts += [f"<li>{esc_html(t['sentence'])}</li>" for t in s["top_findings"]]
        parts.append("</ol>")
    if s["top_actions"]:
        parts.append("<h3>Top actions</h3><ol>")
        for a in s["top_actions"]:
            meta = (f"metric <code>{esc_html(a['metric'])}</code>: {esc_html(a['formatted_current'])} → "
                    f"target {esc_html(a['formatted_target'])} within {esc_html(fmt_count(a['deadline_days']))} days")
            if a.get("owner"):
                meta += f"; owner: {esc_html(dimension_noun(a.get('owner_dimension')))} " \
                        f"{esc_html(a['owner'])}"
            if a.get("impact") is not None:
                meta += f"; impact {esc_html(fmt_money(a['impact'], cur))}"
            meta += f"; confidence {esc_html(a['confidence'])}"
            parts.append(f'<li><strong>{esc_html(a["title"])}</strong><br><span class="snb-meta">{meta}</span></li>')
        parts.append("</ol>")
    parts.append("</section>")
    return "\n".join(parts)


def md(text) -> str:
    """Escape a string for Markdown: :func:`salesnb.fmt.esc` (plain text in every renderer)."""
    return fmt.esc(text)


def executive_summary_markdown(findings) -> str:
    """The executive summary as Markdown for the notebook (every data string escaped)."""
    s = executive_summary(findings)
    cur = s["currency"]
    k0 = s["kpis"][0] if s["kpis"] else {}
    prev, yago = k0.get("previous_label"), k0.get("year_ago_label")
    head = ["KPI", s["period"] or ""] + ([f"vs {prev}"] if prev else []) + ([f"vs {yago}"] if yago else [])
    lines = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    for k in s["kpis"]:
        cells = [k["label"], k["formatted"]]
        if k["key"] == "revenue.targets.attainment_pct":
            extra = [f"target {k['formatted_target']}", f"gap {k['formatted_gap']}"]
            cells += extra[: len(head) - 2]
        elif k["key"] == "forecast.next_quarter.revenue":
            cells += [k["formatted_interval"]][: len(head) - 2]
        else:
            if prev:
                cells.append(k["formatted_vs_previous"])
            if yago:
                cells.append(k["formatted_vs_year_ago"])
        cells += [""] * (len(head) - len(cells))
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    out = ([md(" ".join(s["opening"]))] if s["opening"] else []) + ["\n".join(lines)]
    if s["notes"]:
        out.append("\n".join(f"*{md(n)}*  " for n in s["notes"]))
    if s["top_findings"]:
        out.append("**Key findings**\n\n" + "\n".join(f"{i}. {md(t['sentence'])}" for i, t in enumerate(s["top_findings"], 1)))
    if s["top_actions"]:
        items = []
        for i, a in enumerate(s["top_actions"], 1):
            text = (f"{i}. **{md(a['title'])}** — {md(a['metric'])}: {md(a['formatted_current'])} → target "
                    f"{md(a['formatted_target'])} within {fmt_count(a['deadline_days'])} days")
            if a.get("owner"):
                text += f"; owner: {md(dimension_noun(a.get('owner_dimension')))} {md(a['owner'])}"
            if a.get("impact") is not None:
                text += f"; impact {md(fmt_money(a['impact'], cur))}"
            items.append(text)
        out.append("**Top actions**\n\n" + "\n".join(items))
    return "\n\n".join(out) + "\n"


# --------------------------------------------------------------------------- tables for the notebook


