"""Rendering the findings: words chosen by the data, numbers by :mod:`salesnb.fmt`, never a query.

:mod:`~salesnb.render.labels` (every KPI row, dimension noun and shared threshold, once),
:mod:`~salesnb.render.narrative` (sentences), :mod:`~salesnb.render.charts`,
:mod:`~salesnb.render.tables`, :mod:`~salesnb.render.summary` (the executive summary),
:mod:`~salesnb.render.html` (the report and index pages) and :mod:`~salesnb.render.quality`
(``salesnb validate``'s text)."""
