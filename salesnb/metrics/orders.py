"""Order-level rows, built once per dataset and shared by the metrics that count orders.

Most metrics need each order's *net* revenue before they can count it (an order counts when its
net revenue within the window is positive, SPEC 2.4), so on the line table every one of them
would group millions of lines by ``order_id`` again. :func:`order_days` does that grouping once:
one row per ``order_id`` × ``customer_id`` × calendar day with the exact net (DECIMAL(38, 6)) of
those lines and their first and last timestamp. Windows start and end at midnight, so a window
holds either all or none of such a row's lines.

When every order id has exactly one such row (one customer, one day: what order systems write,
and true of every shared data set but CDNOW, whose "order id" is the customer), the row *is* the
order: its net within any window is its revenue when its day is in the window. The metrics then
read it directly (one grouping by customer instead of two by order and join) and give the same
numbers as from the lines, exactly (the sums are exact). Otherwise they fall back to the lines.
"""
from __future__ import annotations

from dataclasses import dataclass

from .money import MONEY

# Tests switch this off to check that the order rows give the same findings as the lines.
USE_ORDER_ROWS = True


def order_days(table):
    """One row per order id × customer id × calendar day (an Ibis expression).

    Columns: ``order_id``, ``customer_id`` (when the table has it), ``day`` (date),
    ``order_date`` (first timestamp of those lines), ``last_date`` (last timestamp), ``revenue``
    (exact net, DECIMAL(38, 6)) and ``lines``.
    """
    keys = [table.order_id]
    if "customer_id" in table.columns:
        keys.append(table.customer_id)
    keys.append(table.order_date.date().name("day"))
    return table.group_by(keys).aggregate(
        order_date=table.order_date.min(), last_date=table.order_date.max(),
        revenue=table.revenue.cast(MONEY).sum(), lines=table.count())


@dataclass
class Orders:
    """The order-day rows of a dataset and whether each order is a single row."""

    table: object          # Ibis table (materialised on the engine when it can cache)
    atomic: bool           # every order id has one customer and one day
    rows: int
    cached: object = None  # the engine table behind ``table``, to release

    def release(self) -> None:
        """Drop the materialised rows (before the connection closes)."""
        release_table(self.cached if self.cached is not None else self.table)

    def __repr__(self) -> str:
        return f"Orders(rows={self.rows:,}, atomic={self.atomic})"


def release_table(expr) -> None:
    try:
        expr.release()
    except Exception:  # noqa: BLE001 - not cached, or already gone
        pass


def cache_table(expr):
    """``expr`` materialised as a temporary engine table, or ``expr`` itself where the backend
    cannot cache."""
    try:
        cached = expr.cache()
    except Exception:  # noqa: BLE001 - a backend that cannot cache recomputes instead
        from ..errors import check_interrupted
        check_interrupted()   # Ctrl-C (DuckDB's "Query interrupted") is no reason to recompute
        return expr
    _collate_text_by_code_point(cached)
    return cached


def _collate_text_by_code_point(table) -> None:
    """Ibis creates a cached PostgreSQL table from its schema, so its text columns lose the
    canonical table's ``COLLATE "C"`` and ties broken by a text column (the RFM quintiles order by
    the metric, then the customer id) would sort by the database's locale ('Co-1' before 'CV-1')
    instead of by code point as on DuckDB. Set them back."""
    import ibis
    backend = ibis.get_backend(table)
    if backend.name != "postgres":
        return
    text = [name for name, dtype in table.schema().items() if dtype.is_string()]
    if not text:
        return
    quote = (lambda name: '"' + name.replace('"', '""') + '"')
    alters = ", ".join(f'ALTER COLUMN {quote(c)} TYPE text COLLATE "C"' for c in text)
    backend.raw_sql(f"ALTER TABLE {quote(table.op().name)} {alters}").close()


def _whole_orders(table):
    """One row per order id, with what shows whether the order is one customer on one day."""
    day = table.order_date.date()
    aggs = {"day": day.min(), "_last_day": day.max(), "order_date": table.order_date.min(),
            "last_date": table.order_date.max(), "revenue": table.revenue.cast(MONEY).sum(), "lines": table.count()}
    if "customer_id" in table.columns:
        aggs["customer_id"] = table.customer_id.min()
        aggs["_last_customer"] = table.customer_id.max()
        aggs["_identified"] = table.customer_id.count()
    return table.group_by(table.order_id).aggregate(**aggs)


def build_orders(table) -> Orders:
    """The order rows of ``table``, materialised (``Table.cache()`` where the backend can).

    One grouping by order id first: when every order is one customer on one day (the usual
    case) those rows are :func:`order_days` already. Otherwise :func:`order_days` is built.
    """
    whole = cache_table(_whole_orders(table))
    single = whole._last_day == whole.day
    if "customer_id" in whole.columns:
        single = single & (whole._last_customer == whole.customer_id).fill_null(True) & \
            ((whole._identified == 0) | (whole._identified == whole.lines))
    row = whole.aggregate(rows=whole.count(), split=(~single).sum()).to_pandas().iloc[0]
    rows, split = int(row["rows"]), int(row["split"] or 0)
    if split == 0:
        keep = list(order_days(table).columns)
        return Orders(table=whole.select(*keep), atomic=True, rows=rows, cached=whole)
    release_table(whole)
    expr = cache_table(order_days(table))
    return Orders(table=expr, atomic=False, rows=int(expr.count().to_pandas()))


def atomic_orders(dataset):
    """The dataset's order rows when each order is one row (built on first use), else None."""
    if not USE_ORDER_ROWS:
        return None
    orders = shared(dataset, "orders", lambda: build_orders(dataset.table), materialise=False)
    return orders.table if orders.atomic else None


def shared(dataset, key: str, build, materialise: bool = True):
    """``build()`` once per dataset under ``key``: what every report of one load needs (each
    period of a batch). ``materialise``: ``build`` gives an Ibis expression, cached as an engine
    table where the backend can; otherwise the value is kept as it is. ``Dataset.close`` releases
    whatever has a ``release()``."""
    cache = getattr(dataset, "_shared", None)
    if cache is None:
        return build()
    if key not in cache:
        value = build()
        cache[key] = cache_table(value) if materialise else value
    return cache[key]
