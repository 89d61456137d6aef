"""Explore a data set from Python: ``sb = salesnb.open("params/acme.yaml")``.

An :class:`Explorer` loads the params' data once and answers with pandas DataFrames, computed by
the same metric functions as the report (nothing here does arithmetic of its own)::

    sb = salesnb.open()                       # the kit's sample; or salesnb.open("params/acme.yaml")
    sb.kpis("2024Q3")                         # headline KPIs vs the previous period and a year ago
    sb.breakdown("region", "2024Q3")          # revenue, share, growth and contribution per region
    sb.monthly()                              # one row per month
    sb.customers("2024Q3")                    # the RFM table: one row per customer
    west = sb.filter(region="West")           # a new Explorer on the West's rows only
    west.breakdown("category", "2024Q3")
    sb.sql("SELECT region, sum(revenue) AS revenue FROM sales GROUP BY region")
    sb.findings("2024Q3")                     # every section's findings, as the report has them

The table behind :meth:`Explorer.sql` is called ``sales``: one row per order line with the
canonical columns (``order_id``, ``order_date``, ``customer_id``, ``revenue``, ``quantity``,
``unit_price``, the dimensions and the ``profit`` / ``cost`` / ``discount`` the params map), after the
params' filters and the checks.
"""
from __future__ import annotations

from .config import CANONICAL_COLUMNS, DIMENSIONS, FILTER_ROLES, Config, load_config
from .errors import ConfigError, SalesnbError

_KPI_ROWS = ("total", "orders", "units", "aov", "revenue_per_unit", "customers", "revenue_per_customer")


def open(params=None, **overrides) -> "Explorer":  # noqa: A001 - salesnb.open, as in the issue
    """Open a data set for exploration.

    Parameters
    ----------
    params : str, Path or Config, optional
        A params file (found as :func:`salesnb.load_config` finds it: the working folder, then the
        project root) or a loaded :class:`~salesnb.config.Config`. Default: the kit's sample
        (``params/sample.yaml``; its data is generated when missing).
    **overrides
        Params keys to replace, e.g. ``period="2024Q3"``.

    Returns
    -------
    Explorer
        Loads the data on first use; close it with :meth:`Explorer.close` or a ``with`` block.

    Examples
    --------
    >>> sb = salesnb.open("params/sample.yaml")                       # doctest: +SKIP
    >>> sb.filter(region="West").breakdown("category", "2024Q3")    # doctest: +SKIP
    """
    from .findings import default_params_file
    if isinstance(params, Config):
        config = params
        if overrides:
            config = _replace(config, **overrides)
    else:
        config = load_config(default_params_file(params), **overrides)
    if config.kind == "pipeline":   # deals, not order lines: no sales table to explore
        raise ConfigError(f"{config.params_path or config.name} has kind: pipeline; salesnb.open explores "
                          "sales params.", hint="use salesnb.build_findings(params)['pipeline'], or open "
                                                "notebooks/pipeline.ipynb")
    return Explorer(config)


def _replace(config: Config, **keys) -> Config:
    """``config`` with some params keys replaced, validated again like a params file."""
    from .config import config_from_dict
    data = {k: v for k, v in config.to_dict().items() if k not in ("params_path", "order_id_parts")}
    if config.order_id_parts:
        data["columns"] = dict(data["columns"], order_id=list(config.order_id_parts))
    data.update({k: v for k, v in keys.items() if v is not None})
    return config_from_dict(data, base_dir=config.base_dir, params_path=config.params_path)


class Explorer:
    """One data set, loaded once, explored with DataFrames out (see :func:`salesnb.open`).

    Parameters
    ----------
    config : Config
        The validated params (:func:`salesnb.load_config`).

    Attributes
    ----------
    config : Config
        The params this explorer reads, filters included.
    """

    def __init__(self, config: Config):
        self.config = config
        self._dataset = None

    # ------------------------------------------------------------------ data
    @property
    def dataset(self):
        """The loaded :class:`~salesnb.data.Dataset` (loaded on first use)."""
        if self._dataset is None:
            from .data import load_data
            self._dataset = load_data(self.config)
        return self._dataset

    @property
    def quality(self):
        """What loading found (:class:`~salesnb.data.DataQuality`): rows read, used, dropped and why."""
        return self.dataset.quality

    @property
    def dimensions(self) -> list[str]:
        """The dimensions the params map (``region``, ``segment``, ``category``, …)."""
        return list(self.config.dimensions)

    def close(self) -> None:
        """Release the engine and its temporary files (a later call loads the data again)."""
        if self._dataset is not None:
            self._dataset.close()
            self._dataset = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        filters = {k: v for k, v in self.config.filters.items() if v}
        return (f"<salesnb Explorer {self.config.name}: {self.config.source or 'query'}"
                + (f", filters {filters}" if filters else "") + ">")

    def period(self, period=None):
        """The :class:`~salesnb.periods.Period` that ``period`` names (default: the params'
        ``period``, else the quarter of the data's last date)."""
        from .findings import resolve_period
        return resolve_period(self.config, period, self.dataset)

    # ------------------------------------------------------------------ views
    def kpis(self, period=None):
        """Headline KPIs of ``period`` beside the previous period and the same period a year ago.

        Parameters
        ----------
        period : str, optional
            ``2024Q3``, ``2024-07``, ``2024``, ``2023Q3..2024Q3`` or ``all``.

        Returns
        -------
        pandas.DataFrame
            Index: ``total`` (net revenue), ``orders``, ``units``, ``aov`` (revenue per order),
            ``revenue_per_unit``, ``customers``, ``revenue_per_customer``. Columns: the period's
            label, then the comparison periods' labels where the data covers them (like for like
            when the period is partial), then ``vs_previous_pct`` and ``vs_year_ago_pct``.
        """
        import pandas as pd
        from .metrics.kpis import kpi_changes, kpis_for
        from .metrics.orders import atomic_orders
        from .metrics.windows import period_windows
        ds = self.dataset
        p = self.period(period)
        wins = period_windows(p, ds.quality)
        windows = [wins["current"]] + [wins[k]["window"] for k in ("previous", "year_ago") if wins[k]["window"]]
        found = kpis_for(ds.table, windows, ds.has_customers, ds.has_quantity, atomic_orders(ds))
        by = dict(zip(("current",) + tuple(k for k in ("previous", "year_ago") if wins[k]["window"]), found))
        frame = pd.DataFrame({w.label: [k.get(key) for key in _KPI_ROWS] for w, k in zip(windows, found)},
                             index=list(_KPI_ROWS), dtype="float64")
        changes = kpi_changes(by["current"], by.get("previous"), by.get("year_ago"))
        frame["vs_previous_pct"] = [changes[k]["vs_previous_pct"] for k in _KPI_ROWS]
        frame["vs_year_ago_pct"] = [changes[k]["vs_year_ago_pct"] for k in _KPI_ROWS]
        frame.index.name = "kpi"
        return frame.astype("float64")

    def breakdown(self, dimension: str, period=None):
        """Revenue of ``period`` by each value of ``dimension``, largest first.

        Parameters
        ----------
        dimension : str
            A mapped dimension: ``region``, ``segment``, ``category``, ``product``, ``sales_rep``
            or ``channel`` (see :attr:`dimensions`).
        period : str, optional
            As in :meth:`kpis`.

        Returns
        -------
        pandas.DataFrame
            One row per value: the value (column named after the dimension), ``revenue``,
            ``orders``, ``share_pct``, ``previous_revenue``, ``growth_pct`` vs the previous period,
            ``change``, ``contribution_pct_points`` (to the total's change), ``avg_order_value``.
        """
        from .metrics import breakdowns
        from .metrics.windows import period_windows
        if dimension not in DIMENSIONS:
            raise ConfigError(f"{dimension!r} is not a dimension.", hint="dimensions are: " + ", ".join(DIMENSIONS))
        if dimension not in self.config.columns:
            raise ConfigError(f"The params map no {dimension!r} column.",
                              hint="mapped dimensions: " + (", ".join(self.dimensions) or "none"))
        ds = self.dataset
        wins = period_windows(self.period(period), ds.quality)
        frame = breakdowns.breakdown(ds.table, dimension, wins["current"], wins["previous"]["window"])
        return frame.rename(columns={"value": dimension})

    def monthly(self):
        """Every calendar month of the data: ``month`` (``YYYY-MM``), ``revenue``, ``orders``,
        ``lines``, ``units``, ``return_value``; a DataFrame in month order."""
        from .metrics.orders import atomic_orders, shared
        from .metrics.trend import monthly_series
        ds = self.dataset
        monthly = shared(ds, "monthly_series", lambda: monthly_series(ds.table, atomic_orders(ds)),
                         materialise=False)
        return monthly.copy()

    def customers(self, period=None):
        """The RFM table of ``period``: one row per customer with an order in the RFM window.

        Returns
        -------
        pandas.DataFrame
            ``customer_id``, ``recency_days``, ``frequency`` (orders), ``monetary`` (net revenue),
            ``r_score``, ``f_score``, ``m_score`` (quintiles 1-5), ``fm_score`` and ``segment``,
            sorted by customer id. The window ends at the period's end and reaches back
            ``rfm_lookback_months`` (all history by default).
        """
        from .metrics.rfm import rfm_scores
        if not self.dataset.has_customers:
            raise ConfigError("No customer id is mapped: the RFM table needs columns.customer_id.",
                              hint="map customer_id under columns: in the params file")
        scored = rfm_scores(self.dataset.table, self.period(period), self.config.rfm_lookback_months)
        return scored.to_pandas().sort_values("customer_id").reset_index(drop=True)

    def sql(self, query: str, params=None):
        """Run SQL on the engine and return a DataFrame.

        The table is ``sales``: one row per order line with the canonical columns
        (``order_id``, ``order_date``, ``customer_id``, ``revenue``, ``quantity``, ``unit_price``,
        the mapped dimensions and ``profit`` / ``cost`` / ``discount``), after the params' filters. ``params``: values for ``?``
        placeholders (bound, never pasted into the SQL).

        Examples
        --------
        >>> sb.sql("SELECT region, sum(revenue) AS revenue FROM sales WHERE order_date >= ? "
        ...        "GROUP BY region ORDER BY revenue DESC", ["2024-07-01"])  # doctest: +SKIP
        """
        return self.dataset.sql(query, params)

    def findings(self, period=None, sections=None):
        """Every section's findings of ``period``, as the report computes them
        (:func:`salesnb.build_findings` on the loaded data). ``sections``: a subset of
        ``revenue``, ``customers``, ``recommendations``."""
        from .findings import SECTIONS, build_findings
        return build_findings(self.config, period, dataset=self.dataset, sections=sections or SECTIONS)

    def filter(self, *, exclude: dict | None = None, **include) -> "Explorer":
        """A new Explorer on some of the rows (the params' ``filters``, SPEC 2.1).

        Parameters
        ----------
        exclude : dict, optional
            Role (or source column) → value or list of values to drop, e.g. ``{"product": ["POSTAGE"]}``.
        **include
            Role or source column → value or list of values to keep, e.g. ``region="West"``,
            ``segment=["Consumer", "Corporate"]`` or ``**{"Ship Mode": "Same Day"}``. Filters already in the params stay: an
            include on a role they also include keeps only the values in both.

        Returns
        -------
        Explorer
            Loads its data on first use (this one stays open).
        """
        filters = {k: {r: list(v) for r, v in spec.items()} for k, spec in self.config.filters.items()}
        for kind, spec in (("include", include), ("exclude", exclude or {})):
            for role, values in spec.items():
                if role in CANONICAL_COLUMNS and role not in FILTER_ROLES:   # any source column is checked on load
                    raise ConfigError(f"Cannot filter on {role!r}.", hint="filter on one of: " + ", ".join(FILTER_ROLES)
                                      + ", or a column of the source")
                values = [values] if isinstance(values, (str, int, float)) else list(values)
                values = [str(v).strip() for v in values]
                have = filters.setdefault(kind, {})
                if kind == "include" and role in have:
                    values = [v for v in have[role] if v in values]
                    if not values:
                        raise SalesnbError(f"The include filter on {role!r} would keep no value: the params "
                                           f"already keep only {have[role]}.")
                elif kind == "exclude" and role in have:
                    values = have[role] + [v for v in values if v not in have[role]]
                have[role] = values
        return Explorer(_replace(self.config, filters=filters))

