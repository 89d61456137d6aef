"""What the CLV models see: the per-customer-day net revenue of a dataset, the purchases left after
returns are matched (SPEC 9.3), and the per-customer ``frequency, recency, T, monetary_value``
summary both models take (:func:`rfm_summary`, defined as in
``lifetimes.utils.summary_data_from_transaction_data``)."""
from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd

from ..metrics.ids import id_order
from ..metrics.literals import date_literal
from ..metrics.money import money_sum
from ..metrics.orders import atomic_orders, shared
from .clv import CLVError

TIME_UNIT = "W"
CLV_VALUE_SCALE = 10_000  # CLV inputs in 1/10,000 of the currency unit (exact float sums)
RETURN_MATCH_DAYS = 30     # a later return reverses a purchase made at most this many days before


_DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}


def _finish_summary(per_customer: pd.DataFrame, observation_end: pd.Timestamp, days: float,
                    customer_col: str, sorted_by_engine: bool = False) -> pd.DataFrame:
    """Shared tail of both paths: per-customer day aggregates -> frequency/recency/T/monetary,
    in customer id order (``sorted_by_engine``: the rows already are, by the ids' text)."""
    first = pd.to_datetime(per_customer["first_day"]).dt.normalize()
    last = pd.to_datetime(per_customer["last_day"]).dt.normalize()
    frequency = per_customer["n_days"].astype("int64") - 1
    repeat_value = per_customer["total_value"].astype(float) - per_customer["first_value"].astype(float)
    out = pd.DataFrame({
        "frequency": frequency.to_numpy(),
        "recency": ((last - first).dt.days / days).to_numpy(dtype=float),
        "T": ((observation_end - first).dt.days / days).to_numpy(dtype=float),
        "monetary_value": np.where(frequency > 0, repeat_value / frequency.clip(lower=1), 0.0),
    }, index=pd.Index(per_customer[customer_col].to_numpy(), name=customer_col))
    return out if sorted_by_engine else out.sort_index()


def _ibis_summary(table, customer_col, date_col, value_col, start, end, complete=False, text_order=False):
    import ibis.expr.datatypes as dt

    col = table[date_col]
    if col.type().is_timestamp():
        day = col.date()
    elif col.type().is_date():
        day = col
    elif col.type().is_string():
        # via timestamp so that "2024-01-10 08:00" works as in pandas
        day = col.cast(dt.timestamp).date()
    else:
        raise CLVError(f"Column {date_col!r} has type {col.type()}; it must be a date, timestamp or ISO date string.")
    t = table.select(cust=table[customer_col], day=day, value=table[value_col].cast(dt.float64))
    n_missing = 0
    if not complete:
        missing = t.aggregate(n=(t.cust.isnull() | t.day.isnull() | t.value.isnull()).sum()).to_pandas()
        n_missing = int(missing["n"].fillna(0).iloc[0])
    if n_missing:
        raise CLVError(f"{n_missing} transaction(s) have a missing customer, date or value; drop or fill them first.")
    t = t.filter(t.day <= ibis.literal(end.date()))
    if start is not None:
        t = t.filter(t.day >= ibis.literal(start.date()))
    # complete: already one row per customer and day
    daily = t if complete else t.group_by(["cust", "day"]).aggregate(value=t.value.sum())
    per_customer = daily.group_by("cust").aggregate(
        first_day=daily.day.min(),
        last_day=daily.day.max(),
        n_days=daily.day.count(),
        total_value=daily.value.sum(),
        # days are unique per customer here, so the value at the first day is well defined
        first_value=daily.value.argmin(daily.day),
    )
    # sorted by the engine (much faster than pandas on millions of text ids); pandas' sort_index
    # in _finish_summary then finds the index already in order
    key = id_order(per_customer.cust) if text_order else per_customer.cust
    return per_customer.order_by(key).to_pandas().rename(columns={"cust": customer_col})


def rfm_summary(transactions, customer_col: str, date_col: str, value_col: str,
                observation_end, time_unit: str = "W", calibration_start=None,
                complete: bool = False, text_order: bool = False) -> pd.DataFrame:
    """Per-customer ``frequency, recency, T, monetary_value`` from a transaction log.

    Definitions are those of ``lifetimes.utils.summary_data_from_transaction_data``:
    transactions are first summed per customer per calendar day (several purchases on one day
    count as one purchase), then

    * ``frequency`` -- number of purchase days minus one (repeat purchases);
    * ``recency`` -- last purchase day minus first purchase day, in ``time_unit``;
    * ``T`` -- ``observation_end`` minus first purchase day, in ``time_unit``;
    * ``monetary_value`` -- mean value of the repeat purchase days (the first day excluded),
      0 when ``frequency`` is 0.

    Only transactions on or before ``observation_end`` (a day, inclusive) and, when
    ``calibration_start`` is given, on or after it are used. ``time_unit`` is ``"D"`` or
    ``"W"`` (7 days).

    ``transactions`` is a pandas DataFrame or an Ibis table; with Ibis both grouping steps run
    in the engine and only the one-row-per-customer result is fetched. ``complete=True`` (Ibis
    only) says the caller guarantees one row per customer and day and no missing customer, date
    or value (skips the scan that checks it and the daily sum). The rows are in customer id
    order; ``text_order=True`` (Ibis only) orders them by the ids' text also where the ids are
    integers, as the report's models sample them (whatever the type of the source's ids).
    """
    if time_unit not in _DAYS_PER_UNIT:
        raise CLVError(f"time_unit must be 'D' or 'W', not {time_unit!r}.")
    days = _DAYS_PER_UNIT[time_unit]
    try:
        end = pd.Timestamp(observation_end).normalize()
        start = None if calibration_start is None else pd.Timestamp(calibration_start).normalize()
    except (TypeError, ValueError) as exc:
        raise CLVError(f"observation_end / calibration_start must be dates ({exc}).")
    if start is not None and start > end:
        raise CLVError("calibration_start is after observation_end.")

    is_ibis = isinstance(transactions, ibis.expr.types.Table)
    columns = list(transactions.columns)
    absent = [c for c in (customer_col, date_col, value_col) if c not in columns]
    if absent:
        raise CLVError(f"Column(s) {absent} not in the transactions; available: {columns}.")

    if is_ibis:
        per_customer = _ibis_summary(transactions, customer_col, date_col, value_col, start, end, complete,
                                     text_order)
    elif isinstance(transactions, pd.DataFrame):
        df = transactions[[customer_col, date_col, value_col]]
        n_missing = int(df.isna().any(axis=1).sum())
        if n_missing:
            raise CLVError(f"{n_missing} transaction(s) have a missing customer, date or value; drop or fill them first.")
        try:
            day = pd.to_datetime(df[date_col]).dt.normalize()
        except (TypeError, ValueError) as exc:
            raise CLVError(f"Column {date_col!r} cannot be read as dates ({exc}).")
        value = pd.to_numeric(df[value_col], errors="coerce").astype(float)
        if value.isna().any():
            raise CLVError(f"Column {value_col!r} has values that are not numbers.")
        keep = (day <= end) if start is None else (day <= end) & (day >= start)
        daily = (pd.DataFrame({"cust": df[customer_col], "day": day, "value": value})[keep]
                 .groupby(["cust", "day"], as_index=False)["value"].sum()
                 .sort_values(["cust", "day"]))
        grouped = daily.groupby("cust")
        per_customer = pd.DataFrame({
            "first_day": grouped["day"].min(),
            "last_day": grouped["day"].max(),
            "n_days": grouped.size(),
            "total_value": grouped["value"].sum(),
            "first_value": grouped["value"].first(),
        }).rename_axis(customer_col).reset_index()
    else:
        raise CLVError(f"transactions must be a pandas DataFrame or an Ibis table, not {type(transactions).__name__}.")

    if per_customer.empty:
        raise CLVError(f"No transactions on or before {end.date()} (and after calibration_start, if given).")
    return _finish_summary(per_customer, end, days, customer_col, sorted_by_engine=is_ibis and text_order)


def _net_days(source, day):
    """Per identified customer and day: the net revenue of all their rows that day (returns
    included), in whole units of 1/CLV_VALUE_SCALE: the float sums of whole numbers the models
    see are then exact in any order, so every run gets the same inputs."""
    return source.group_by([source.customer_id, day.name("order_date")]).aggregate(
        revenue=(money_sum(source.revenue) * CLV_VALUE_SCALE).round(0).cast("float64"))


def _clv_days(dataset):
    """:func:`_net_days` of the dataset, built once per load and shared by its periods (from the
    order rows when each order is one row, else from the lines)."""
    orders = atomic_orders(dataset)

    def build():
        if orders is not None:
            o = orders.filter(orders.customer_id.notnull())
            return _net_days(o, o.day)
        t = dataset.table.filter(dataset.table.customer_id.notnull())
        return _net_days(t, t.order_date.date())
    return shared(dataset, "clv_days", build)


def clv_purchases(days, end: dt.date, *, positive_net: bool = True):
    """The purchases the CLV models see (SPEC 9.3), from the days before ``end`` only.

    ``days``: one row per customer and day with the day's net revenue (``customer_id``,
    ``order_date`` a date, ``revenue``; :func:`_net_days`). A purchase is a day with positive net
    revenue (that day's returns are already netted). A day with negative net revenue is a return;
    it reverses one purchase of the same customer made 1-30 days earlier whose value it covers
    (return value ≥ purchase value): the largest such purchase, the latest of equals. A reversed
    purchase is removed; a partial return (smaller than every earlier purchase) removes nothing.
    ``positive_net``: keep only the customers whose net revenue before ``end`` (all their days) is
    positive -- the others get no prediction. One Ibis expression on the per-day table (a join of
    the few return days with the purchases they may reverse), never per line.
    """
    d = days.filter(days.order_date < date_literal(end))
    buys = d.filter(d.revenue > 0)
    rets = d.filter(d.revenue < 0)
    rets = rets.select(r_customer=rets.customer_id, r_day=rets.order_date, r_value=-rets.revenue)
    gap = rets.r_day.delta(buys.order_date, unit="day")
    pairs = buys.inner_join(rets, [buys.customer_id == rets.r_customer, gap >= 1, gap <= RETURN_MATCH_DAYS,
                                   rets.r_value >= buys.revenue])
    pick = ibis.row_number().over(group_by=[pairs.r_customer, pairs.r_day],
                                  order_by=[pairs.revenue.desc(), pairs.order_date.desc()])
    chosen = pairs.mutate(_pick=pick)
    reversed_days = chosen.filter(chosen._pick == 0).select("customer_id", "order_date").distinct()
    kept = buys.anti_join(reversed_days, ["customer_id", "order_date"])
    if positive_net:
        net = d.group_by("customer_id").aggregate(_net=d.revenue.sum())
        kept = kept.semi_join(net.filter(net._net > 0).select("customer_id"), "customer_id")
    return kept.select("customer_id", "order_date", "revenue")


def purchase_summary(purchases, observation_end: dt.date):
    # one row per identified customer and day, exact non-null sums: complete=True
    frame = rfm_summary(purchases, "customer_id", "order_date", "revenue", observation_end=observation_end,
                        time_unit=TIME_UNIT, complete=True, text_order=True)
    frame["monetary_value"] = frame["monetary_value"] / CLV_VALUE_SCALE
    return frame
