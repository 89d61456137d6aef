"""Models fitted on small aggregates of the sales data; each one states how well it did on the
data's own past (SPEC 9): :mod:`salesnb.models.forecast` (next quarter's revenue, chosen by a
rolling-origin backtest)."""
