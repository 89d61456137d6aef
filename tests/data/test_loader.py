"""The loader as a whole: a property test on generated CSVs, and the Dataset's life cycle."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from salesnb.config import config_from_dict
from salesnb.data import load_data
from salesnb.data.parsing import YEAR_RANGE, parse_money
from salesnb.errors import SalesnbError

HEADER = ["order", "date", "cust", "amount"]
COLUMNS = {"order_id": "order", "order_date": "date", "customer_id": "cust", "revenue": "amount"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y%m%d"]


def _money(cents: int, style: str) -> str:
    neg, whole, frac = cents < 0, abs(cents) // 100, abs(cents) % 100
    if style == "plain":
        return f"{cents / 100:.2f}"
    if style == "en":
        return f"{'-' if neg else ''}${whole:,}.{frac:02d}"
    if style == "de":
        return f"{'-' if neg else ''}{whole:,}".replace(",", ".") + f",{frac:02d} €"
    if style == "accounting":
        return f"({whole:,}.{frac:02d})" if neg else f"{whole:,}.{frac:02d}"
    return str(cents)  # "int": whole currency units as digits


cell_text = st.text(alphabet="abcXYZ 0123456789-/.,;|'\"€éÜ", max_size=8)


@st.composite
def csv_files(draw):
    date_fmt = draw(st.sampled_from(DATE_FORMATS))
    style = draw(st.sampled_from(["plain", "en", "de", "accounting", "int"]))
    natural = "," if style == "de" else "."
    decimal = natural if draw(st.integers(0, 4)) else draw(st.sampled_from([".", ","]))
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        # mostly well-formed cells, sometimes an empty, odd or random one
        def cell(good, odd):
            kind = draw(st.integers(0, 9))
            return good if kind < 7 else draw(st.sampled_from(odd)) if kind < 9 else draw(cell_text)
        order = cell(str(draw(st.integers(0, 10**6))), ["C536379", "A-1", "", " 7 "])
        day = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)))
        date = cell(day.strftime(date_fmt), ["", "n/a", "31/02/2024", "2024-13-01"])
        cust = cell(draw(st.sampled_from(["a", "Zoë", "Müller", "O'Brien", "a,b", "17850.0"])), ["", " "])
        amount = cell(_money(draw(st.integers(-10**9, 10**9)), style), ["", "abc", "1e300", "inf", "(5)", "--1"])
        rows.append([order, date, cust, amount])
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]))
    give_delimiter = draw(st.booleans())
    return rows, delimiter, encoding, give_delimiter, decimal


from salesnb.data.rules import MAX_LINE_REVENUE  # noqa: E402


def _expected(rows, date_format: str, decimal: str):
    """The rows salesnb must keep, worked out in Python: an order id, a date that reads with
    the format it reports, and readable money."""
    kept = []
    for order, date, _cust, amount in rows:
        try:
            day = dt.datetime.strptime(date.strip(), date_format)
        except ValueError:
            continue
        if not YEAR_RANGE[0] <= day.year <= YEAR_RANGE[1] or not order.strip():
            continue
        value = parse_money(amount, decimal)
        if value is not None and abs(value) < MAX_LINE_REVENUE:
            kept.append(value)
    return kept


@settings(max_examples=int(os.environ.get("SALESNB_HYP_EXAMPLES", 50)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=csv_files())
def test_generated_csvs_load_or_fail_cleanly(tmp_path_factory, spec):
    rows, delimiter, encoding, give_delimiter, decimal = spec
    folder = tmp_path_factory.mktemp("gen")
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows([HEADER, *rows])
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    (folder / "s.csv").write_bytes(data)
    params = {"name": "gen", "source": "s.csv", "columns": COLUMNS, "decimal": decimal}
    if give_delimiter:
        params["delimiter"] = delimiter
    config = config_from_dict(params, base_dir=folder)
    try:
        dataset = load_data(config)
    except SalesnbError as exc:
        assert exc.message and "Traceback" not in str(exc)
        event(f"error: {type(exc).__name__}: {exc.message[:25]}")
        return
    with dataset:
        q = dataset.quality
        event("loaded")
        assert q.rows_read == len(rows)
        assert q.rows_used + sum(q.rows_dropped.values()) == q.rows_read
        assert q.rows_used == dataset.sql("SELECT count(*) AS n FROM sales").n[0]
        frame = dataset.sql("SELECT revenue FROM sales")
        assert q.revenue_total == pytest.approx(float(frame.revenue.sum()), rel=1e-9, abs=1e-6)
        assert math.isfinite(q.revenue_total)
        if q.date_format.startswith("%") and (give_delimiter or delimiter == ","):
            event("checked against the Python oracle")
            expected = _expected(rows, q.date_format, decimal)
            assert q.rows_used == len(expected)
            assert q.revenue_total == pytest.approx(math.fsum(expected), rel=1e-9, abs=1e-6)
        json.dumps(q.to_dict())  # the quality record is JSON-ready


# --------------------------------------------------------------------------- the Dataset

def _dataset(tmp_path, text="order,date,cust,amount\n1,2024-01-05,a,10\n2,2024-01-06,b,-4\n", **keys):
    (tmp_path / "s.csv").write_text(text, encoding=keys.pop("encoding_", "utf-8"))
    return load_data(config_from_dict({"name": "t", "source": "s.csv", "columns": COLUMNS, **keys},
                                      base_dir=tmp_path))


def test_close_removes_the_temp_folder(tmp_path):
    ds = _dataset(tmp_path, "order,date,cust,amount\n1,2024-01-05,Zoë,10\n".encode("cp1252").decode("latin-1"),
                  encoding_="latin-1")
    assert ds.quality.encoding == "cp1252"
    tmp = Path(ds._tmpdir)
    assert tmp.is_dir() and any(tmp.iterdir())  # the UTF-8 copy lives there
    ds.close()
    assert not tmp.exists()
    ds.close()  # twice is harmless


def test_context_manager_and_sql_params(tmp_path):
    with _dataset(tmp_path) as ds:
        frame = ds.sql("SELECT sum(revenue) AS r FROM sales WHERE customer_id = ?", ["a"])
        assert frame.r[0] == 10
        assert ds.has_customers and not ds.has_quantity and ds.dimensions == []


def test_quality_record_is_json_ready(tmp_path):
    with _dataset(tmp_path) as ds:
        data = json.loads(json.dumps(ds.quality.to_dict()))
    assert data["rows_read"] == 2 and data["returns"] == {"lines": 1, "value": 4.0}
    assert data["first_date"] == "2024-01-05" and len(data["sha256"]) == 64


def test_date_format_is_ignored_for_native_dates_with_a_note(tmp_path):
    import pandas as pd
    pd.DataFrame({"order": ["1"], "date": pd.to_datetime(["2024-01-05"]), "cust": ["a"], "amount": [1.0]}) \
        .to_parquet(tmp_path / "s.parquet")
    config = config_from_dict({"name": "t", "source": "s.parquet", "columns": COLUMNS, "date_format": "%d/%m/%Y"},
                              base_dir=tmp_path)
    with load_data(config) as ds:
        assert ds.quality.rows_used == 1
        assert any("is not used" in n for n in ds.quality.notes)


def test_timezone_offsets_become_utc(tmp_path):
    text = "order,date,cust,amount\n1,2024-01-05T23:30:00-02:00,a,1\n2,2024-01-06T10:00:00+01:00,a,1\n"
    with _dataset(tmp_path, text) as ds:
        assert ds.quality.first_date == "2024-01-06"  # 23:30 at -02:00 is 01:30 UTC the next day
        assert ds.quality.rows_used == 2


def test_decimal_hint_when_most_values_need_the_other_decimal(tmp_path):
    text = "order;date;cust;amount\n1;2024-01-05;a;1.234,50\n2;2024-01-06;a;10,25\n3;2024-01-07;a;7\n"
    with _dataset(tmp_path, text) as ds:
        assert ds.quality.rows_dropped == {"unparseable revenue": 2}
        assert any("decimal: ','" in n for n in ds.quality.notes)


def test_memory_limit_is_applied(tmp_path):
    with _dataset(tmp_path, memory_limit="512MB") as ds:
        assert ds.sql("SELECT current_setting('memory_limit') AS m").m[0].startswith("488")


def test_excel_sep_line_names_the_delimiter(tmp_path):
    text = "sep=;\norder;date;cust;amount\n1;2024-01-05;a;10,5\n2;2024-01-06;b;1.000\n"
    with _dataset(tmp_path, text, decimal=",") as ds:
        assert ds.quality.rows_read == 2
        assert ds.quality.revenue_total == pytest.approx(1010.5)


def test_a_file_name_with_brackets_is_not_a_glob(tmp_path):
    (tmp_path / "sales [2024].csv").write_text("order,date,cust,amount\n1,2024-01-05,a,10\n")
    config = config_from_dict({"name": "t", "source": "sales [2024].csv", "columns": COLUMNS}, base_dir=tmp_path)
    with load_data(config) as ds:
        assert ds.quality.rows_used == 1


def test_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    def denied(files):
        raise PermissionError(13, "Permission denied", str(files[0]))
    monkeypatch.setattr("salesnb.data.sources.fingerprint", denied)
    with pytest.raises(SalesnbError, match="Permission denied") as err:
        _dataset(tmp_path)
    assert "s.csv" in err.value.message


def test_bad_memory_limit_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESNB_MEMORY_LIMIT", "lots")
    with pytest.raises(SalesnbError, match="memory_limit"):
        _dataset(tmp_path)


def test_utf8_declared_latin1_gets_a_note(tmp_path):
    with _dataset(tmp_path, "order,date,cust,amount\n1,2024-01-05,Müller,10\n", encoding="latin-1") as ds:
        assert ds.quality.encoding == "latin-1"
        assert any("also reads as UTF-8" in n for n in ds.quality.notes)


def test_check_data_returns_the_same_quality_and_releases_everything(tmp_path, monkeypatch):
    from salesnb.data import check_data
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    text = "order,date,cust,amount\n1,2024-01-05,Zoë,10\n2,bad,b,-4\n".encode("cp1252")
    (tmp_path / "s.csv").write_bytes(text)
    config = config_from_dict({"name": "t", "source": "s.csv", "columns": COLUMNS}, base_dir=tmp_path)
    quality = check_data(config)
    with load_data(config) as ds:
        assert quality.to_dict() == ds.quality.to_dict()
    assert quality.rows_dropped == {"unparseable date": 1} and quality.encoding == "cp1252"
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("data, expected", [
    ("a,b\n1,2\n".encode(), "utf-8"),
    ("a,b\nZoë,2\n".encode("utf-8-sig"), "utf-8"),
    ("a,b\nZoë,2\n".encode("utf-16"), "utf-16"),
    ("a,b\nZoë,“2”\n".encode("cp1252"), "cp1252"),
    (b"a,b\n\x81\xe9,2\n", "latin-1"),  # 0x81 is not cp1252
    ("a,b\nZoë,Jürgen,Åsa\n".encode() + b"\xe9\n", "utf-8 (invalid bytes replaced)"),
])
def test_detect_encoding(tmp_path, data, expected):
    from salesnb.data.sources import detect_encoding
    (tmp_path / "x.csv").write_bytes(data)
    assert detect_encoding(tmp_path / "x.csv") == expected


# The prescan of columnar sources copies text columns as they are when no value needs cleaning;
# a Parquet file must then load to exactly what the same rows give as CSV (parsed and cleaned).
_PRESCAN_CASES = {
    "clean": {"order": ["A1", "A1", "B2", "C3"], "cust": ["x", "x", "y", "z"], "region": ["N", "N", "S", "S"]},
    "spaces and empties": {"order": [" A1", "A1", "B2 ", "C3"], "cust": ["x", "x ", "", "z"],
                           "region": ["N", " N", "", "S"]},
    "float-export ids and missing words": {"order": ["17850.0", "17850", "2.5", "C3"],
                                           "cust": ["N/A", "x", "null", "12.0"], "region": ["N", "N", "S", "S"]},
    "unicode spaces": {"order": ["A1", "\u00a0A1", "Bé", "C3\u3000"], "cust": ["x", "x", "ÿ", "z"],
                       "region": ["N\u2003", "Nord", "Süd", "S"]},
    "unicode text, nothing to trim": {"order": ["A1", "A1", "Bé", "C3"], "cust": ["x", "x", "ÿ", "z"],
                                      "region": ["Nord", "Nord", "Süd", "S"]},
    "exact duplicates": {"order": ["A1", "A1", "A1", "C3"], "cust": ["x", "x", "x", "z"],
                         "region": ["N", "N", "N", "S"]},
}


@pytest.mark.parametrize("case", sorted(_PRESCAN_CASES))
@pytest.mark.parametrize("dedupe", [False, True])
def test_parquet_loads_like_the_same_rows_as_csv(tmp_path, case, dedupe):
    import pandas as pd
    cols = dict(_PRESCAN_CASES[case])
    cols["date"] = ["2024-01-05", "2024-01-05", "2024-02-01", "2024-03-09"]
    cols["amount"] = [10.0, 10.0, -2.5, 7.25]
    if case != "exact duplicates":
        cols["amount"][1] = 11.0
    frame = pd.DataFrame(cols)
    frame.to_csv(tmp_path / "s.csv", index=False)
    frame.assign(date=pd.to_datetime(frame["date"])).to_parquet(tmp_path / "s.parquet")
    mapping = dict(COLUMNS, region="region")
    loaded = {}
    for name in ("s.csv", "s.parquet"):
        config = config_from_dict({"name": "t", "source": name, "columns": mapping, "dedupe": dedupe},
                                  base_dir=tmp_path)
        with load_data(config) as ds:
            got = ds.sql("SELECT order_id, order_date, customer_id, revenue, region FROM sales ORDER BY ALL")
            rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in got.to_dict("records")]
            q = ds.quality
            loaded[name] = (rows, q.rows_used, dict(q.rows_dropped), dict(q.duplicates), dict(q.missing_customer))
    assert loaded["s.parquet"] == loaded["s.csv"]
    rows = loaded["s.parquet"][0]
    if case == "float-export ids and missing words":
        assert sorted(r["order_id"] for r in rows) == ["17850", "17850", "2.5", "C3"]
        assert sorted(str(r["customer_id"]) for r in rows) == ["12", "None", "None", "x"]
    if case == "spaces and empties":
        assert {r["region"] for r in rows} == {"N", None, "S"}
    if case == "exact duplicates":
        assert len(rows) == (3 if dedupe else 4)      # the first two rows are the same row


@pytest.mark.parametrize("case", sorted(_PRESCAN_CASES))
def test_big_parquet_read_in_place_loads_the_same(tmp_path, case, monkeypatch):
    """Above VIEW_MIN_ROWS a columnar source is read in place (views, no copy): same rows, same
    quality record as the copied table."""
    import pandas as pd
    from salesnb.data.backends import duckdb_run as data_module
    cols = dict(_PRESCAN_CASES[case])
    cols["date"] = pd.to_datetime(["2024-01-05", "2024-01-05", "bad", "2024-03-09"], errors="coerce")
    cols["amount"] = [10.0, 11.0, -2.5, float("inf")]
    pd.DataFrame(cols).to_parquet(tmp_path / "s.parquet")
    config = config_from_dict({"name": "t", "source": "s.parquet", "columns": dict(COLUMNS, region="region")},
                              base_dir=tmp_path)
    loaded = {}
    for threshold in (10**12, 0):
        monkeypatch.setattr(data_module, "VIEW_MIN_ROWS", threshold)
        with load_data(config) as ds:
            kind = ds.sql("SELECT table_type FROM information_schema.tables WHERE table_name = 'sales'")
            got = ds.sql("SELECT * FROM sales ORDER BY ALL")
            rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in got.to_dict("records")]
            loaded[threshold] = (rows, ds.quality.to_dict(), kind.iloc[0, 0])
    (copied, q1, k1), (in_place, q2, k2) = loaded[10**12], loaded[0]
    assert (k1, k2) == ("BASE TABLE", "VIEW")
    assert in_place == copied and q2 == q1
    assert q1["rows_dropped"] == {"unparseable date": 1, "unparseable revenue": 1}


def test_load_data_imports_the_metric_code_meanwhile_and_leaves_no_thread(tmp_path):
    """The metric code's imports run on a thread during the load; load_data waits for it, on
    success and on a failed load alike."""
    import sys
    import threading
    from salesnb.data import WARM_MODULES
    (tmp_path / "s.csv").write_text("order,date,cust,amount\nA1,2024-01-05,x,10\nA2,2024-02-01,y,5\n",
                                    encoding="utf-8")
    config = config_from_dict({"name": "t", "source": "s.csv", "columns": COLUMNS}, base_dir=tmp_path)
    with load_data(config) as ds:
        assert ds.quality.rows_used == 2
    assert not [t for t in threading.enumerate() if t.name == "salesnb-imports"]
    assert all(name in sys.modules for name in WARM_MODULES)
    bad = config_from_dict({"name": "t", "source": "missing.csv", "columns": COLUMNS}, base_dir=tmp_path)
    with pytest.raises(SalesnbError):
        load_data(bad)
    assert not [t for t in threading.enumerate() if t.name == "salesnb-imports"]


def test_the_import_thread_starts_after_the_sql_compiler_is_imported(tmp_path):
    """sqlglot loads its dialects lazily under a lock Python's import-deadlock detection cannot
    see: a dialect loaded by the import thread and the loading thread at once hung both. In a fresh
    interpreter, the thread starts only once every sqlglot dialect Ibis' compilers need is loaded,
    and no sqlglot module is imported while it runs; the model libraries are imported by the end."""
    import subprocess
    import sys
    (tmp_path / "s.csv").write_text("order,date,cust,amount\nA1,2024-01-05,x,10\nA2,2024-02-01,y,5\n",
                                    encoding="utf-8")
    code = f"""
import sys, threading
import salesnb.data as data
from salesnb.config import config_from_dict
seen = {{}}
start = threading.Thread.start
def spy(self):
    if self.name == "salesnb-imports":
        seen["at_start"] = {{m for m in sys.modules if m.startswith("sqlglot")}}
    return start(self)
threading.Thread.start = spy
config = config_from_dict({{"name": "t", "source": "s.csv", "columns": {COLUMNS!r}}}, base_dir={str(tmp_path)!r})
with data.load_data(config) as ds:
    assert ds.quality.rows_used == 2
after = {{m for m in sys.modules if m.startswith("sqlglot")}}
assert "sqlglot.dialects.duckdb" in seen["at_start"], sorted(seen["at_start"])
assert after == seen["at_start"], sorted(after - seen["at_start"])
assert all(m in sys.modules for m in data.MODEL_MODULES)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
