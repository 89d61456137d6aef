"""HTML assembly helpers for ``report.html`` and the batch ``index.html``.

Everything here renders from findings (the numbers) and from executed notebooks (their
Markdown cells and display outputs). Pages are Jinja2 templates with autoescaping on, so every
data string is escaped unless it arrives as a :class:`markupsafe.Markup` fragment: the
notebook bodies (already escaped by the notebooks with ``salesnb.fmt.esc``; this module never
unescapes them) and the fragments this module renders itself from autoescaped templates.

Self-contained by construction: one inline stylesheet, no scripts, images as ``data:`` URIs,
and a Content-Security-Policy that forbids every request to anywhere (so even a stray
``<img src=http…>`` or an injected event handler does nothing when the page is opened).
"""
from __future__ import annotations

import html as _html
import re
from pathlib import Path

from markupsafe import Markup

from ..fmt import MISSING, esc_html, fmt_count, fmt_delta, fmt_money, fmt_pct
from .labels import METRIC_DEFINITIONS, delta_class, format_kpi
from .quality import filter_lines

TEMPLATES = Path(__file__).resolve().parent / "templates"
NBCONVERT_TEMPLATES = TEMPLATES / "nbconvert"
NBCONVERT_TEMPLATE = "salesnb_report"

#: no network, no scripts: images and fonts only from data: URIs, styles only inline
CSP = "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

SECTIONS = (
    ("executive-summary", "Executive summary"),
    ("revenue", "Revenue"),
    ("customers", "Customers"),
    ("recommendations", "Recommendations"),
    ("data-quality-and-method", "Data quality and method"),
)
SECTION_TITLES = tuple(title for _, title in SECTIONS)


# --------------------------------------------------------------------------- templates

_ENV = None


def environment():
    """The Jinja2 environment of the page templates (autoescape on)."""
    global _ENV
    if _ENV is None:
        import jinja2
        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                  trim_blocks=False, lstrip_blocks=False, undefined=jinja2.StrictUndefined)
    return _ENV


def render(template: str, **context) -> Markup:
    return Markup(environment().get_template(template).render(**context))


def css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def generator() -> str:
    from ..version import __version__
    return f"salesnb {__version__}"


# --------------------------------------------------------------------------- notebooks → HTML

def skip_slow_imports() -> None:
    """Import time: ``jsonschema`` (through nbformat) imports ``rfc3987_syntax`` when installed,
    which compiles ~40 Lark grammars at import only to check the "iri" string format, which no
    notebook schema uses. Skip it in this process when nothing imported it yet.

    Kept (issue 23) for its measured cost: ``import rfc3987_syntax`` takes 0.86 s, median of 3
    (benchmarks/results.md, "Fixed costs"), in every process that validates a notebook; no public
    jsonschema setting leaves it out."""
    import sys
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment] - makes its import fail fast


def _exporter():
    """nbconvert's HTMLExporter on the salesnb template: outputs only, no prompts, no math."""
    from jinja2 import pass_context
    from nbconvert.exporters import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class _ReportExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            # As nbconvert's, but without the $…$ math parser: amounts such as "$1,200/$1,500"
            # must stay text (its math renderer would also escape already-escaped data twice).
            # nbconvert has no public switch for that parser, hence its renderer classes here
            # (kept for correctness, not speed: tests/render/test_escaping.py shows the amounts).
            import mistune
            cell = context.get("cell", {})
            renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}),
                                       embed_images=self.embed_images,
                                       path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                                       anchor_link_text=self.anchor_link_text,
                                       exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
            md = MarkdownWithMath(renderer=renderer, block=mistune.BlockParser(),
                                  inline=mistune.InlineParser(hard_wrap=False))
            return md.render(source)

    return _ReportExporter(
        template_name=NBCONVERT_TEMPLATE, extra_template_basedirs=[str(NBCONVERT_TEMPLATES)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        exclude_anchor_links=True, embed_images=True, require_js_url="", mathjax_url="",
    )


#: cells with these tags never reach the report
REMOVE_TAGS = {"remove", "remove_cell", "remove-cell", "hide", "parameters", "injected-parameters"}
_RICH = ("text/html", "text/markdown", "image/png", "image/jpeg", "image/svg+xml")


def clean_notebook(nb):
    """Keep what a reader should see: Markdown cells and rich display outputs.

    Drops stream outputs (print, warnings, logging), errors, plain-text-only execute results
    (``<Axes …>``, ``Text(…)``), widget/JavaScript outputs, raw cells, cells tagged
    ``remove``/``parameters``, and code cells left without outputs.
    """
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_TAGS or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            if cell.source.strip():
                cells.append(cell)
            continue
        if cell.cell_type != "code":
            continue
        if tags & {"remove-output", "remove_output"}:
            continue
        outputs = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind not in ("display_data", "execute_result"):
                continue
            data = out.get("data", {})
            if not any(m in data for m in _RICH):
                if kind == "execute_result" or "text/plain" not in data:
                    continue
            outputs.append(out)
        if outputs:
            cell.outputs = outputs
            cell.source = ""
            cells.append(cell)
    nb.cells = cells
    return nb


def notebook_body(path_or_nb) -> str:
    """The HTML body of one executed notebook (a fragment, no ``<head>``)."""
    import copy

    skip_slow_imports()
    import nbformat
    if isinstance(path_or_nb, (str, Path)):
        nb = nbformat.read(str(path_or_nb), as_version=4)
    else:
        nb = copy.deepcopy(path_or_nb)
    nb = clean_notebook(nb)
    body, _ = _exporter().from_notebook_node(nb)
    return body.strip()


# --------------------------------------------------------------------------- headings and the TOC

_HEADING = re.compile(r"<h([1-6])(\s[^>]*)?>(.*?)</h\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def slug(text: str) -> str:
    text = _html.unescape(_TAG.sub("", text)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "section"


def rework_headings(fragment: str, section_id: str, *, drop_title: bool = True, top_level: int = 3):
    """Fit a notebook body under its report section.

    The notebook's own title (a single top-level heading that comes first) is dropped — the
    section heading replaces it; the remaining headings move down so the highest becomes
    ``<h{top_level}>``; every heading gets a unique id prefixed by the section's. Returns the
    fragment and the TOC entries ``[{"id", "text"(Markup), "level"}]`` of the top-level headings.
    """
    found = list(_HEADING.finditer(fragment))
    if not found:
        return fragment, []
    levels = [int(m.group(1)) for m in found]
    base = min(levels)
    drop = None
    if drop_title and levels[0] == base and levels.count(base) == 1:
        drop = found[0]
        rest = levels[1:]
        base = min(rest) if rest else base
    used: dict[str, int] = {}
    toc = []
    out, pos = [], 0
    for m in found:
        out.append(fragment[pos:m.start()])
        pos = m.end()
        if m is drop:
            continue
        level = min(6, int(m.group(1)) - base + top_level)
        inner = m.group(3)
        hid = f"{section_id}-{slug(inner)}"
        if hid in used:
            used[hid] += 1
            hid = f"{hid}-{used[hid]}"
        else:
            used[hid] = 1
        attrs = re.sub(r"\sid\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", "", m.group(2) or "")
        out.append(f'<h{level} id="{hid}"{attrs}>{inner}</h{level}>')
        if level == top_level:
            toc.append({"id": hid, "text": Markup(_TAG.sub("", inner).strip()), "level": level})
    out.append(fragment[pos:])
    return "".join(out), toc


# --------------------------------------------------------------------------- formatting helpers

def _period_text(info: dict | None) -> str:
    if not info:
        return MISSING
    label = info.get("label") or MISSING
    if info.get("available") is False:
        return f"{label}: not in the data"
    if info.get("start") and info.get("end"):
        return f"{label} ({info['start']} – {info['end']})"
    return label


# --------------------------------------------------------------------------- report sections

def title_context(findings: dict, generated: str, by: dict | None = None) -> dict:
    period = dict(findings.get("period", {}))
    period.setdefault("data_start", period.get("start"))
    period.setdefault("data_end", period.get("end"))
    comparison = findings.get("comparison") or {}
    data = findings.get("data") or {}
    sha = data.get("sha256") or ""
    return {
        "title": findings.get("title") or findings.get("name") or "Sales",
        "period": period,
        "comparisons": [{"name": "Compared with", "text": _period_text(comparison.get("previous"))},
                        {"name": "and a year before", "text": _period_text(comparison.get("year_ago"))}],
        "like_for_like": bool(comparison.get("like_for_like")),
        "generated": generated,
        "data_range": f"{data.get('first_date') or MISSING} – {data.get('last_date') or MISSING}",
        "sha256": sha,
        "sha256_short": sha[:12] or MISSING,
        "by": by,
    }


def executive_summary(findings: dict) -> Markup:
    """The report's executive summary: :func:`salesnb.render.summary.executive_summary_html`."""
    if findings.get("kind") == "pipeline":   # SPEC 10
        from .narrative.pipeline import executive_summary_html as pipeline_summary
        return Markup(pipeline_summary(findings))
    from .summary import executive_summary_html
    return Markup(executive_summary_html(findings))


def _param_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "; ".join(f"{k}: {_param_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_param_value(v) for v in value) + "]"
    return str(value)


def data_quality(findings: dict) -> Markup:
    """The "Data quality and method" section from findings["data"] and findings["method"]."""
    cur = findings.get("currency", "USD")
    d = findings.get("data") or {}
    method = findings.get("method") or {}
    source_rows = [
        ("Source", d.get("source") or MISSING),
        ("Fingerprint (SHA-256)", d.get("sha256") or MISSING),
        ("Date range of the data", f"{d.get('first_date') or MISSING} – {d.get('last_date') or MISSING}"),
        ("Date format", d.get("date_format") or MISSING),
        ("Text encoding", d.get("encoding") or "not a text file"),
        ("Dimensions", ", ".join(d.get("dimensions") or []) or "none"),
    ]
    dropped_total = sum((d.get("rows_dropped") or {}).values())
    row_rows = [("Rows read", fmt_count(d.get("rows_read"))), ("Rows used", fmt_count(d.get("rows_used"))),
                ("Rows dropped", fmt_count(dropped_total))]
    examples = d.get("dropped_examples") or {}
    dropped = [{"reason": reason, "count": fmt_count(n), "examples": list(examples.get(reason, []))[:5]}
               for reason, n in (d.get("rows_dropped") or {}).items()]
    checks = []
    ret = d.get("returns") or {}
    checks.append(f"Returns (negative lines): {fmt_count(ret.get('lines', 0))} lines worth "
                  f"{fmt_money(ret.get('value', 0), cur)} over the whole data; they are kept, so every figure is net.")
    if d.get("zero_revenue_lines"):
        checks.append(f"Lines with zero revenue: {fmt_count(d['zero_revenue_lines'])}.")
    mc = d.get("missing_customer") or {}
    if d.get("has_customers", True) and mc:
        checks.append(f"Rows without a customer id: {fmt_count(mc.get('rows', 0))} "
                      f"({fmt_money(mc.get('revenue', 0), cur)}, {fmt_pct(mc.get('revenue_share_pct'))} of revenue); "
                      "they count toward revenue, customer analyses leave them out.")
    else:
        checks.append("No customer id is mapped: customer analyses are left out.")
    dup = d.get("duplicates") or {}
    checks.append(f"Exact duplicate rows: {fmt_count(dup.get('rows', 0))}"
                  + (f", {fmt_count(dup.get('dropped'))} dropped (dedupe: true)." if dup.get("dropped")
                     else " (kept; set dedupe: true to drop them)."))
    partial = d.get("partial_months") or []
    checks.append("Partial months (left out of best/worst and growth statistics): "
                  + (", ".join(partial) if partial else "none") + ".")
    gaps = d.get("gap_months") or []
    checks.append("Months without any row inside the data's range (gaps): " + (", ".join(gaps) if gaps else "none") + ".")
    for note in d.get("notes") or []:
        checks.append(str(note))
    checks += filter_lines(d.get("filters"))
    definitions = METRIC_DEFINITIONS
    if findings.get("kind") == "pipeline":   # deals, not order lines (SPEC 10)
        from .labels import PIPELINE_DEFINITIONS
        from .narrative.pipeline import quality_checks
        checks, definitions = quality_checks(findings), PIPELINE_DEFINITIONS
    params = [(k, _param_value(v)) for k, v in (method.get("params") or {}).items()]
    versions = [(k, v or MISSING) for k, v in (method.get("versions") or {}).items()]
    if method.get("python"):
        versions.append(("python", method["python"]))
    return render("quality.html.j2", source_rows=source_rows, row_rows=row_rows, dropped=dropped, checks=checks,
                  params=params, definitions=definitions, versions=versions)


def report_page(findings: dict, sections: list[dict], *, generated: str, by: dict | None = None) -> str:
    """The whole report.html. ``sections``: [{"id", "title", "body" (Markup), "toc", "note"}]."""
    ctx = title_context(findings, generated, by)
    return str(render("report.html.j2", css=Markup(css()), csp=CSP, generator=generator(),
                      sections=sections, **ctx))


# --------------------------------------------------------------------------- the batch index

PALETTE = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#3d5a80", "#8ab17d", "#b56576", "#6c757d",
           "#264653")


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    import math
    if hi <= lo:
        hi = lo + 1.0
    span = hi - lo
    raw = span / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.floor(lo / step) * step
    ticks, t = [start], start
    while ticks[-1] < hi:          # the last tick at or above the highest value: every point inside
        t += step
        ticks.append(t)
    return ticks


def revenue_chart_svg(labels: list[str], series: list[tuple[str, list]], currency: str = "USD",
                      width: int = 900, height: int = 320) -> Markup:
    """An inline SVG line chart: x = period labels, one line per series (None = no point)."""
    values = [v for _, vals in series for v in vals if v is not None]
    if not labels or not values:
        return Markup("")
    left, right, top, bottom = 90, 20, 20, 60
    legend_h = 22 * ((len(series) + 3) // 4) if len(series) > 1 else 0
    h_plot = height - top - bottom
    w_plot = width - left - right
    lo = min(0.0, min(values))
    ticks = _nice_ticks(lo, max(values))
    y_lo, y_hi = ticks[0], ticks[-1]

    def x(i):
        return left + (w_plot * (i + 0.5) / len(labels))

    def y(v):
        return top + h_plot - (v - y_lo) / ((y_hi - y_lo) or 1) * h_plot

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height + legend_h}" '
             f'width="{width}" height="{height + legend_h}" aria-label="Revenue by period">',
             '<title>Revenue by period</title>']
    for t in ticks:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#d8dee4" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end">'
                     f'{esc_html(fmt_money(t, currency, compact=True))}</text>')
    step = max(1, len(labels) // 16)
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{top + h_plot + 18}" text-anchor="middle">{esc_html(label)}</text>')
    for s, (name, vals) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        pts = [(x(i), y(v), labels[i], v) for i, v in enumerate(vals) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{path}"/>')
        for px, py, label, v in pts:
            tip = f"{name + ' · ' if name else ''}{label}: {fmt_money(v, currency)}"
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}"><title>{esc_html(tip)}</title></circle>')
    if len(series) > 1:
        for s, (name, _) in enumerate(series):
            lx = left + (s % 4) * (w_plot / 4)
            ly = height + 22 * (s // 4) - 10
            color = PALETTE[s % len(PALETTE)]
            parts.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
            parts.append(f'<text x="{lx + 18:.1f}" y="{ly}">{esc_html(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def index_page(*, title: str, periods: str, by: str | None, rows: list[dict], chart: Markup, generated: str,
               any_like_for_like: bool = False, track_record: dict | None = None, kind: str = "sales") -> str:
    """The batch index; ``track_record``: {rows, summary} of formatted forecasts and actuals."""
    ok = sum(1 for r in rows if r.get("ok"))
    return str(render("index.html.j2", css=Markup(css()), csp=CSP, generator=generator(), title=title,
                      headers=INDEX_HEADERS.get(kind, INDEX_HEADERS["sales"]),
                      periods=periods, by=by, rows=rows, chart=chart, generated=generated, ok_count=ok,
                      failed_count=len(rows) - ok, any_like_for_like=any_like_for_like, track_record=track_record))


def index_revenue(findings: dict):
    """The revenue the index chart shows: revenue, or a pipeline's won revenue."""
    if findings.get("kind") == "pipeline":
        return ((findings.get("pipeline") or {}).get("won") or {}).get("revenue")
    return (findings.get("revenue") or {}).get("total")


#: the index table's KPI columns per kind of params (each followed by "vs previous")
INDEX_HEADERS = {"sales": ("Revenue", "Orders", "Average order value", "Customers"),
                 "pipeline": ("Won revenue", "Deals won", "Average deal size", "Win rate")}


def index_kpis(findings: dict) -> list[dict]:
    """The index row's KPIs (revenue, orders, AOV, customers; a pipeline's :data:`INDEX_HEADERS`)
    with their change vs previous."""
    cur = findings.get("currency", "USD")
    if findings.get("kind") == "pipeline":
        from .narrative.pipeline import kpis
        rows = {k["key"]: k for k in kpis(findings)}
        keys = ("pipeline.won.revenue", "pipeline.won.deals", "pipeline.avg_deal_size", "pipeline.win_rate_pct")
        return [{"value": rows[k]["formatted"], "delta": rows[k]["vs_previous"], "cls": ""} for k in keys]
    rev = findings.get("revenue") or {}
    change = rev.get("change") or {}
    out = []
    for key in ("total", "orders", "aov", "customers"):
        pct = (change.get(key) or {}).get("vs_previous_pct")
        out.append({"value": format_kpi(key, rev.get(key), cur), "delta": fmt_delta(pct), "cls": delta_class(pct)})
    return out


__all__ = ["CSP", "SECTIONS", "SECTION_TITLES", "notebook_body", "clean_notebook",
           "rework_headings", "executive_summary", "data_quality", "report_page", "revenue_chart_svg",
           "index_page", "index_kpis", "index_revenue", "skip_slow_imports"]
