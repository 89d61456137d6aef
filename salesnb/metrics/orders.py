"""Order-level rows, built once per dataset and shared by the metrics that count orders.

Most metrics need each order's *net* revenue before they can count it (an order counts when its
net revenue within the window is positive, SPEC 2.4), so on the line table every one of them
would group millions of lines by ``order_id`` again. :func:`order_days` does that grouping once:
one row per ``order_id`` × ``customer_id`` × calendar day with the exact net (DECIMAL(38, 6)) of
those lines and their first and last timestamp. Windows start and end at midnight, so a window
holds either all or none of such a row's lines.

When every order id has exactly one such row (one customer, one day: what order systems write,
and true of every shared data set), the row *is* the order: its net within any window is its
revenue when its day is in the window. The metrics read it directly (one grouping by customer
instead of two by order and join) and give the same numbers as from the lines, exactly (the sums
are exact). An order whose lines have different days or customers (an invoice that straddles
midnight, one that names two customers) is resolved once by :func:`build_orders` -- one row, on
the day and for the customer of its first line -- so a few such orders do not send every metric
back to the lines; the data-quality notes say the rule, the count and examples
(:func:`order_notes`). Only with :data:`USE_ORDER_ROWS` off do the metrics read the lines.
"""
from __future__ import annotations

from dataclasses import dataclass

from .ids import id_order, id_text
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
    split: int = 0         # orders over several days or customers, resolved to their first line
    examples: list = None  # the first few of their ids

    def release(self) -> None:
        """Drop the materialised rows (before the connection closes)."""
        release_table(self.cached if self.cached is not None else self.table)

    def __repr__(self) -> str:
        return f"Orders(rows={self.rows:,}, atomic={self.atomic}, split={self.split:,})"


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
    """One row per order id, with two flags: ``_split`` (not one customer on one day) and
    ``_two_customers``. Flags, not the figures behind them (last day, lines with a customer):
    the rows stay in memory as long as the dataset, 5M of them at 10M lines."""
    first, last = table.order_date.min(), table.order_date.max()
    lines = table.count()
    # the day of the first / last timestamp is the first / last day: two aggregates, not four
    aggs = {"day": first.date(), "order_date": first, "last_date": last,
            "revenue": table.revenue.cast(MONEY).sum(), "lines": lines}
    split = last.date() != first.date()
    if "customer_id" in table.columns:
        aggs["customer_id"] = table.customer_id.min()
        # a flag, not the largest id: the customer may be resolved in place later (_set_first_customers)
        two = (table.customer_id.max() != table.customer_id.min()).fill_null(False)
        identified = table.customer_id.count()
        aggs["_two_customers"] = two
        split = split | two | ((identified != 0) & (identified != lines))
    aggs["_split"] = split
    return table.group_by(table.order_id).aggregate(**aggs)


#: how many non-atomic orders the data-quality note names
EXAMPLES = 5


def build_orders(table) -> Orders:
    """The order rows of ``table``: one per order id, materialised (``Table.cache()`` where the
    backend can).

    One grouping by order id. An order whose lines have different days or customers (or some
    lines without a customer id) is resolved once: its day is its first line's (the earliest
    date) and its customer the first line's that names one (earliest date, on a tie the smallest
    customer id). Only the orders that name two customers read their lines again (few: a
    semi-join of the lines with their ids); on DuckDB their customer is then set in the
    materialised rows in place, elsewhere the rows are written again with it.
    """
    whole = cache_table(_whole_orders(table))
    single = ~whole._split
    two_customers = whole._two_customers if "customer_id" in whole.columns else None
    aggs = {"rows": whole.count(), "split": (~single).sum()}
    if two_customers is not None:
        aggs["two_customers"] = two_customers.sum()
    row = whole.aggregate(**aggs).to_pandas().iloc[0]
    rows, split = int(row["rows"]), int(row["split"] or 0)
    keep = list(order_days(table).columns)
    if split == 0:
        return Orders(table=whole.select(*keep), atomic=True, rows=rows, cached=whole)
    split_rows = whole.filter(~single)
    examples = [id_text(v) for v in split_rows.order_by(id_order(split_rows.order_id)).limit(EXAMPLES).order_id.to_pandas()]
    # An order over two days already has its first line's day (the minimum): only the orders that
    # name two customers need another customer. Their rows are set in the materialised table in
    # place (a few rows) rather than every order row written again.
    if two_customers is None or not int(row["two_customers"] or 0) or _set_first_customers(table, whole, two_customers):
        return Orders(table=whole.select(*keep), atomic=False, rows=rows, cached=whole, split=split,
                      examples=examples)
    resolved = _first_customers(table, whole, two_customers, keep)
    expr = cache_table(resolved)
    if expr is not resolved:
        release_table(whole)
        whole = None
    return Orders(table=expr, atomic=False, rows=rows, cached=expr if whole is None else whole,
                  split=split, examples=examples)


def _duckdb_cached_name(expr) -> str | None:
    """The name of the DuckDB table ``expr`` was materialised as (``Table.cache()``), else None."""
    import ibis
    try:
        backend = ibis.get_backend(expr)
        name = expr.op().name
    except Exception:  # noqa: BLE001 - not a table of a backend
        return None
    return name if backend.name == "duckdb" and name.startswith("ibis_cache") else None


def _first_line_customers(table, whole, two_customers):
    """``_order``, ``_first_customer``: the customer of the first line with a customer id (earliest
    date, then the smallest customer id) of each order that names two customers."""
    import ibis
    ids = whole.filter(two_customers).select("order_id")
    lines = table.semi_join(ids, "order_id").select("order_id", "order_date", "customer_id")
    lines = lines.filter(lines.customer_id.notnull())
    rank = ibis.row_number().over(group_by=lines.order_id, order_by=[lines.order_date, id_order(lines.customer_id)])
    first = lines.mutate(_rank=rank)
    return first.filter(first._rank == 0).select(_order=first.order_id, _first_customer=first.customer_id)


def _set_first_customers(table, whole, two_customers) -> bool:
    """On DuckDB, where ``whole`` is a materialised table: update the customer of the orders that
    name two customers to their first line's, in place. False (nothing done) elsewhere."""
    import ibis
    name = _duckdb_cached_name(whole)
    if name is None:
        return False
    backend = ibis.get_backend(whole)
    first = cache_table(_first_line_customers(table, whole, two_customers))
    first_name = _duckdb_cached_name(first)
    if first_name is None:
        return False           # not materialised: the general path computes it
    quote = (lambda n: '"' + n.replace('"', '""') + '"')
    try:
        backend.raw_sql(f"UPDATE {quote(name)} SET customer_id = f._first_customer FROM {quote(first_name)} f "
                        f"WHERE {quote(name)}.order_id = f._order")  # DuckDB returns the connection: not closed
    finally:
        release_table(first)
    return True


def _first_customers(table, whole, two_customers, keep):
    """``whole`` with the customer of each order that names two customers set to that of its
    first line with a customer id (earliest date, then the smallest customer id)."""
    first = _first_line_customers(table, whole, two_customers)
    joined = whole.left_join(first, whole.order_id == first._order)
    return joined.select(*[joined._first_customer.fill_null(joined.customer_id).name("customer_id")
                           if c == "customer_id" else joined[c] for c in keep])


def atomic_orders(dataset):
    """The dataset's order rows, one per order id (built on first use; an order over several days
    or customers resolved to its first line's), or None when the metrics must read the lines
    (:data:`USE_ORDER_ROWS` off)."""
    if not USE_ORDER_ROWS:
        return None
    return dataset_orders(dataset).table


def dataset_orders(dataset) -> Orders:
    """The :class:`Orders` of a dataset, built once per load."""
    return shared(dataset, "orders", lambda: build_orders(dataset.table), materialise=False)


def order_notes(dataset) -> list[str]:
    """The data-quality note on orders resolved to their first line (none when every order is
    one customer on one day, or the metrics read the lines)."""
    if not USE_ORDER_ROWS:
        return []
    from ..data.quality import resolved_orders_note
    orders = dataset_orders(dataset)
    return [] if orders.atomic else [resolved_orders_note(orders.split, orders.examples)]


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
