"""Charts from the findings: :mod:`~salesnb.render.charts.theme` (the one theme and shared
helpers), :mod:`~salesnb.render.charts.revenue`, :mod:`~salesnb.render.charts.customers`,
:mod:`~salesnb.render.charts.forecast`."""
