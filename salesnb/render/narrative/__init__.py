"""Sentences from the findings: :mod:`~salesnb.render.narrative.revenue` and
:mod:`~salesnb.render.narrative.customers`."""
