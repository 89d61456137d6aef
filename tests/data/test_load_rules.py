"""The SPEC 2.3 rules written once as Ibis expressions (salesnb.data.canonical, salesnb.data.load)
and run by DuckDB through its dialect: the money grammar equals its Python twin, every role of
the config is read without naming it, and typed columns are read in place (issue 24 item 2)."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from salesnb.config import CANONICAL_COLUMNS, DIMENSIONS, config_from_dict
from salesnb.data import canonical, load_data
from salesnb.data.parsing import parse_money

MONEY_TEXT = st.one_of(
    st.text(alphabet="0123456789.,-+() $€£'eEUSDkr\u2212\u00a0", max_size=14),
    st.builds(lambda n, style: {"plain": f"{n / 100:.2f}", "en": f"${n / 100:,.2f}", "paren": f"({abs(n) / 100:,.2f})",
                                "trail": f"{abs(n)}-", "de": f"{n / 100:,.2f}".replace(",", "_").replace(".", ",")
                                .replace("_", ".") + " €"}[style],
              st.integers(-10**12, 10**12), st.sampled_from(["plain", "en", "paren", "trail", "de"])),
)


def _duckdb_values(values):
    import duckdb
    import ibis

    from salesnb.data.backends.duckdb_run import DuckDBDialect
    db = duckdb.connect()
    db.execute("CREATE TABLE raw AS SELECT unnest(?::VARCHAR[]) AS v", [values])
    return db, DuckDBDialect(db, {"v": "VARCHAR"}), ibis.table({"v": "string"}, name="raw")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MONEY_TEXT, min_size=1, max_size=25), st.sampled_from([".", ","]))
def test_money_expression_on_duckdb_reads_as_parse_money(values, decimal):
    """The one money expression, compiled for DuckDB, gives parse_money's value for every text."""
    import ibis
    db, dialect, raw = _duckdb_values(values)
    try:
        expr = raw.select(v=raw.v, x=canonical.money_expr(dialect, raw.v, decimal))
        got = db.execute(ibis.to_sql(expr, dialect="duckdb")).fetchall()
    finally:
        db.close()
    for text, value in got:
        expected = parse_money(text, decimal)
        assert (value is None) == (expected is None), (text, value, expected)
        if expected is not None:
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-9), text


def test_every_canonical_role_has_one_reading():
    """Ids, the date, dimensions, numbers: each canonical role of salesnb.config is read by exactly
    one rule, so a role added to CANONICAL_COLUMNS (profit, cost, discount) is read as a number
    without a change to the rules."""
    groups = [set(canonical.ID_ROLES), {"order_date"}, set(DIMENSIONS), set(canonical.NUMBER_ROLES)]
    for role in CANONICAL_COLUMNS:
        assert sum(role in g for g in groups) == 1, role
    assert {"revenue", "quantity", "unit_price"} <= set(canonical.NUMBER_ROLES)


def test_a_new_number_role_is_read_from_the_config_alone(monkeypatch):
    """A number role the rules never name (here "profit") is parsed by the money grammar and placed
    before revenue in the canonical table."""
    import ibis
    monkeypatch.setattr(canonical, "NUMBER_ROLES", canonical.NUMBER_ROLES + ("profit",))
    db, dialect, _ = _duckdb_values(["x"])
    db.execute("CREATE OR REPLACE TABLE raw AS SELECT * FROM (VALUES ('A1', '2024-01-05', '10.50', '($2.25)'), "
               "('A2', '2024-01-06', '3', 'n/a')) t(o, d, amount, margin)")
    raw = ibis.table({"o": "string", "d": "string", "amount": "string", "margin": "string"}, name="raw")
    config = SimpleNamespace(columns={"order_id": "o", "order_date": "d", "revenue": "amount", "profit": "margin"},
                             order_id_parts=(), date_format="%Y-%m-%d", decimal=".", params_path=None)
    cols, raw_text, fmt, note = canonical.parsed_columns(dialect, raw, config, set(), infer=None)
    assert list(cols) == ["order_id", "order_date", "profit", "revenue"]
    rows = db.execute(ibis.to_sql(raw.select(**cols).order_by("order_id"), dialect="duckdb")).fetchall()
    db.close()
    assert [(r[0], r[2], r[3]) for r in rows] == [("A1", -2.25, 10.5), ("A2", None, 3.0)]
    assert rows[0][1] == dt.datetime(2024, 1, 5) and fmt == "%Y-%m-%d" and note is None


def _typed_and_text(tmp_path):
    """The same rows twice: integer ids and a DATE column, and the same as text."""
    import pandas as pd
    typed = pd.DataFrame({"order": pd.array([101, 101, 102, 103, 104], dtype="int64"),
                          "date": [dt.date(2024, 1, 5), dt.date(2024, 1, 5), dt.date(2024, 2, 1), None,
                                   dt.date(2024, 3, 9)],
                          "cust": pd.array([7, 7, 8, None, 9], dtype="Int32"),
                          "amount": [10.0, 11.0, -2.5, 4.0, 5.25]})
    text = typed.assign(order=typed["order"].astype(str), cust=typed["cust"].astype("string"),
                        date=[None if d is None else d.isoformat() for d in typed["date"]])
    typed.to_parquet(tmp_path / "typed.parquet")
    text.to_parquet(tmp_path / "text.parquet")
    cols = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount"}
    return [config_from_dict({"name": "t", "source": f"{name}.parquet", "columns": cols}, base_dir=tmp_path)
            for name in ("typed", "text")]


def test_integer_ids_and_date_columns_load_as_their_text_does(tmp_path):
    """Issue 24 item 2: an integer id stays an integer (no cast, none of the cleaning text needs),
    a DATE column is read as a date (no text parsing): the canonical rows, ids written as text,
    and the quality record equal those of the same data written as text, but for the date
    format's label."""
    loaded = []
    for config in _typed_and_text(tmp_path):
        with load_data(config) as ds:
            rows = ds.sql("SELECT * FROM sales").astype(object)
            rows = rows.where(rows.notna(), None).values.tolist()
            loaded.append((rows, ds.quality.to_dict(), ds.table.schema()))
    (typed_rows, typed_q, typed_schema), (text_rows, text_q, text_schema) = loaded
    assert typed_schema["order_id"].is_integer() and typed_schema["customer_id"].is_integer()
    assert text_schema["order_id"].is_string() and text_schema["customer_id"].is_string()
    as_text = [[None if v is None else str(v) for v in (r[0], r[2])] + [r[1], r[3]] for r in typed_rows]
    assert sorted(as_text, key=repr) == sorted(([r[0], r[2], r[1], r[3]] for r in text_rows), key=repr)
    assert sorted(typed_rows, key=repr)[0][:3] == [101, dt.datetime(2024, 1, 5), 7]
    assert typed_q.pop("date_format") == "native date" and text_q.pop("date_format") == "%Y-%m-%d"
    typed_q.pop("sha256"), text_q.pop("sha256"), typed_q.pop("source"), text_q.pop("source")
    assert typed_q == text_q
    assert typed_q["rows_dropped"] == {"unparseable date": 1} and typed_q["rows_used"] == 4


def test_an_integer_id_is_read_as_it_is():
    """An integer id is the source's column: no cast, no trim, no NULLIF, no regular expression."""
    import ibis

    from salesnb.data.backends.duckdb_run import DuckDBDialect
    raw = ibis.table({"o": "int64", "s": "string"}, name="raw")
    d = DuckDBDialect(None, {"o": "BIGINT", "s": "VARCHAR"})
    sql = ibis.to_sql(raw.select(x=canonical.id_expr(d, raw.o, raw.o.type())), dialect="duckdb")
    assert "TRIM" not in sql.upper() and "NULLIF" not in sql.upper() and "REGEXP" not in sql.upper()
    assert "CAST" not in sql.upper()
    text_sql = ibis.to_sql(raw.select(x=canonical.id_expr(d, raw.s, raw.s.type())), dialect="duckdb")
    assert "TRIM" in text_sql.upper() and "NULLIF" in text_sql.upper()
