"""Sentences from the findings: :mod:`~salesnb.render.narrative.revenue`,
:mod:`~salesnb.render.narrative.customers` and :mod:`~salesnb.render.narrative.forecast`."""
