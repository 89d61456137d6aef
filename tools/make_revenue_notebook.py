"""Write notebooks/revenue.ipynb (outputs stripped). Edit the cells here, then run this script."""
from pathlib import Path

import nbformat as nbf

cells = []


def md(text):
    cells.append(nbf.v4.new_markdown_cell(text.strip()))


def code(text, tags=None):
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    cells.append(cell)


code('''
# Parameters: papermill injects values below this cell. None = the kit's sample data.
params_file = None
period = None
run_dir = None
''', tags=["parameters"])
code('''
from IPython.display import HTML, Markdown, display
import matplotlib.pyplot as plt

import salesnb
from salesnb.render import labels, tables
from salesnb.render.charts import revenue as charts, theme
from salesnb.render.narrative import revenue as narrative
from salesnb.findings import notebook_findings

# the report run's findings (run_dir), else only the revenue section, built once and cached
findings = notebook_findings(params_file, period, run_dir, sections=("revenue",))
f, T = findings.data, findings.tables
currency = f["currency"]
theme.apply_theme()


def show(fig):
    if fig is not None:
        display(fig)
        plt.close(fig)
''', tags=["setup"])
md("## Revenue")
code('''
display(HTML(salesnb.fmt.html_list(narrative.revenue_sentences(f))))
display(HTML(tables.to_html(tables.kpi_table(f))))
''')
md("### Monthly and quarterly trend")
code('''
show(charts.trend_chart(T["revenue_trend"], currency, f["period"]["label"]))
show(charts.quarter_chart(f["revenue"]["by_quarter"], currency))  # the quarters of the table below
display(HTML(tables.to_html(tables.quarter_table(f))))
''')
md("### Growth")
code('''
g = f["revenue"]["growth"]
lines = [s for s in (narrative.best_worst_sentence(f), narrative.growth_sentence(f)) if s]
display(HTML(salesnb.fmt.html_text(" ".join(lines) or "Growth needs at least two complete months.")))
display(HTML(tables.to_html(tables.month_table(f))))
''')
md("### Breakdown by dimension")
code('''
noun = labels.dimension_noun
prev_label = f["comparison"]["previous"]["label"] if f["comparison"]["previous"]["available"] else None
for dim in ("region", "segment", "category", "channel"):
    if dim not in f["revenue"]["dimensions"]:
        display(HTML(tables.note_html(f"The data has no {noun(dim)} column: this breakdown is left out.")))
        continue
    display(Markdown(f"#### Revenue by {noun(dim)}"))
    sentence = narrative.dimension_growth_sentence(f, dim) or narrative.dimension_share_sentence(f, dim)
    if sentence:
        display(HTML(salesnb.fmt.html_text(sentence)))
    show(charts.breakdown_chart(T[f"revenue_by_{dim}"], noun(dim), currency, f["period"]["label"]))
    if prev_label:
        show(charts.growth_chart(T[f"revenue_by_{dim}"], noun(dim), prev_label))
    display(HTML(tables.to_html(tables.breakdown_table(f, dim))))
''')
code('''
if "revenue_region_segment" in T:
    display(Markdown("### Region × segment"))
    show(charts.heatmap_chart(T["revenue_region_segment"], "region", "segment", currency,
                              f"Revenue by region and segment, {f['period']['label']}"))
else:
    display(HTML(tables.note_html("The region × segment heatmap needs both a region and a segment column.")))
''')
code('''
# Profit and margin: only when the params map profit or cost (nothing is shown otherwise)
if "profit" in f["revenue"]:
    from salesnb.render.charts import profit as profit_charts
    from salesnb.render.narrative import profit as profit_narrative
    p = f["revenue"]["profit"]
    display(Markdown("### Profit and margin"))
    display(HTML(salesnb.fmt.html_list(profit_narrative.profit_sentences(f))))
    display(HTML(tables.to_html(tables.profit_kpi_table(f))))
    for dim in p["by_dimension"]:
        if dim == "product":
            continue  # the loss-makers below; every product is in findings.tables["profit_by_product"]
        display(Markdown(f"#### Profit and margin by {labels.dimension_noun(dim)}"))
        sentence = profit_narrative.margin_range_sentence(f, dim)
        if sentence:
            display(HTML(salesnb.fmt.html_text(sentence)))
        show(profit_charts.margin_chart(p["by_dimension"][dim], labels.dimension_noun(dim), f["period"]["label"]))
        display(HTML(tables.to_html(tables.profit_breakdown_table(f, dim))))
    if p["loss_makers"] and p["loss_makers"]["count"]:
        display(Markdown(f"#### Loss-making {labels.dimension_noun(p['loss_makers']['dimension'])}s"))
        display(HTML(tables.to_html(tables.loss_table(f))))
    if p["discount"]:
        display(Markdown("#### Discounts"))
        show(profit_charts.discount_chart(p["discount"], currency, f["period"]["label"]))
        display(HTML(tables.to_html(tables.discount_table(f))))
''')
md("### Top products and sales reps")
code('''
if "product" in f["revenue"]["dimensions"]:
    display(Markdown("#### Top products"))
    display(HTML(tables.to_html(tables.breakdown_table(f, "product", limit=10))))
else:
    display(HTML(tables.note_html("The data has no product column: top products are left out.")))
if f["revenue"]["top_performers"]:
    display(Markdown("#### Top sales reps"))
    sentence = narrative.top_rep_sentence(f)
    if sentence:
        display(HTML(salesnb.fmt.html_text(sentence)))
    show(charts.breakdown_chart(T["revenue_by_sales_rep"], "sales rep", currency, f["period"]["label"]))
    display(HTML(tables.to_html(tables.reps_table(f))))
else:
    display(HTML(tables.note_html("The data has no sales rep column: top sales reps are left out.")))
''')
md("### Volatility and anomalous months")
code('''
sentence = narrative.anomaly_sentence(f)
display(HTML(salesnb.fmt.html_text(sentence or "Too few complete months to measure volatility.")))
''')

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
out = Path(__file__).resolve().parents[1] / "notebooks" / "revenue.ipynb"
# keep the cell ids of the notebook written before, cell by cell: a regenerated notebook differs
# only where its cells do
if out.exists():
    for cell, old in zip(nb.cells, nbf.read(out, as_version=4).cells):
        cell["id"] = old.get("id", cell["id"])
nbf.write(nb, out)
print(f"wrote {out}")
