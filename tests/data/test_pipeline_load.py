"""Loading ``kind: pipeline`` params (salesnb.data.pipeline): open deals are a state, never a
dropped row; the rows that cannot be placed are counted with examples; filters name any source
column; PostgreSQL and Spark give the findings DuckDB gives."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from salesnb.config import config_from_dict, load_config
from salesnb.data import check_data, load_data
from salesnb.errors import ConfigError, DataError
from salesnb.findings import build_findings
from support.compare import assert_same
from support.paths import ROOT, shared_file
from support.spark import skip_without_spark

CRM_PARAMS = ROOT / "params" / "crm_pipeline.yaml"
STAGES = {"won": ["Won"], "lost": ["Lost"]}
CRM_COLUMNS = {"deal_id": "opportunity_id", "stage": "deal_stage", "created_date": "engage_date",
               "close_date": "close_date", "value": "close_value", "sales_rep": "sales_agent",
               "account": "account", "product": "product"}


def _pipeline(folder, csv_text: str, **keys):
    (folder / "deals.csv").write_text(csv_text)
    data = {"name": "t", "kind": "pipeline", "source": "deals.csv", "stages": STAGES,
            "columns": {"stage": "stage", "created_date": "created", "close_date": "closed", "value": "value"}}
    data.update(keys)
    return config_from_dict(data, base_dir=folder)


def test_crm_open_deals_are_kept_as_open():
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    q = check_data(load_config(CRM_PARAMS))
    # the data set's own profile (shared/data/README): Won 4,238, Lost 2,473, Engaging 1,589, Prospecting 500
    assert (q.rows_read, q.rows_used, q.rows_dropped) == (8800, 8800, {})
    assert (q.deals["won"], q.deals["lost"], q.deals["open"]) == (4238, 2473, 2089)
    assert [(s["stage"], s["deals"], s["without_created_date"]) for s in q.deals["open_by_stage"]] == [
        ("Engaging", 1589, 0), ("Prospecting", 500, 500)]
    assert q.deals["won_value"] == 10005534.0
    # the data's range is the close dates' (README: 2017-03-01 .. 2017-12-31); deals were created from 2016-10-20
    assert (q.first_date, q.last_date) == ("2017-03-01", "2017-12-31")
    assert any("created from 2016-10-20" in n for n in q.notes)


def test_validate_cli_reports_open_deals_as_open():
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    out = subprocess.run([sys.executable, "-m", "salesnb.cli", "validate", str(CRM_PARAMS)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "deals open              2,089" in out.stdout and "open: Prospecting" in out.stdout
    assert "dropped" not in out.stdout and "unparseable" not in out.stdout


def test_rows_that_cannot_be_placed_are_dropped_with_examples(tmp_path):
    config = _pipeline(tmp_path, "stage,created,closed,value\n"
                                 "Won,2024-01-02,2024-02-01,100\n"
                                 ",2024-01-02,2024-02-01,100\n"       # no stage
                                 "Lost,2024-01-05,,0\n"                # closed without a close date
                                 "Won,2024-01-05,someday,50\n"         # closed, close date unreadable
                                 "Open,soon,,12\n"                      # open: created date unreadable, kept
                                 "Open,2024-01-09,,abc\n")             # open: value unreadable, kept
    q = check_data(config)
    assert q.rows_read == 6 and q.rows_used == 3
    assert q.rows_dropped == {"missing stage": 1, "closed deal without close date": 2}
    assert q.examples["closed deal without close date"] == ["(empty)", "someday"]
    assert q.deals["unreadable_created_date"] == 1 and q.deals["unreadable_value"] == 1
    assert any("age band 'unknown'" in n for n in q.notes)


def test_filters_on_any_source_column(tmp_path):
    csv = ("stage,created,closed,value,office\nWon,2024-01-02,2024-02-01,100,North\n"
           "Lost,2024-01-02,2024-02-03,0,South\nOpen,2024-01-04,,5,North\n")
    config = _pipeline(tmp_path, csv, filters={"exclude": {"office": ["South"]}, "include": {"stage": ["Won", "Open"]}})
    q = check_data(config)
    assert q.rows_dropped == {"filtered": 1} and (q.deals["won"], q.deals["lost"], q.deals["open"]) == (1, 0, 1)


def test_a_filter_on_an_unknown_column_names_the_columns_and_query(tmp_path):
    csv = "stage,created,closed,value,office\nWon,2024-01-02,2024-02-01,100,North\n"
    config = _pipeline(tmp_path, csv, filters={"include": {"ofice": ["North"]}})
    with pytest.raises(DataError) as err:
        check_data(config)
    text = err.value.message + " " + err.value.hint
    assert "filters.include.ofice" in text and "'office'" in text and "'stage'" in text and "query:" in text
    assert "Did you mean 'office'?" in text


@pytest.mark.parametrize("keys, words", [
    ({"stages": None}, ["stages", "won", "lost"]),
    ({"stages": {"won": ["Won"], "lost": ["Won"]}}, ["'Won' is both won and lost"]),
    ({"kind": "crm"}, ["kind 'crm'", "sales, pipeline"]),
    ({"columns": {"stage": "s"}}, ["columns.close_date is missing"]),
    ({"columns": {"stage": "s", "close_date": "c", "order_id": "o"}}, ["Unknown column role 'order_id'"]),
])
def test_pipeline_params_errors(keys, words):
    data = {"name": "t", "kind": "pipeline", "source": "x.csv", "stages": STAGES,
            "columns": {"stage": "s", "close_date": "c"}}
    data.update(keys)
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    text = err.value.message + " " + (err.value.hint or "")
    for w in words:
        assert w in text


def test_sales_params_keep_their_method_keys():
    """kind and stages appear in the method section of pipeline params only: sales findings stay
    byte-identical."""
    cfg = config_from_dict({"name": "s", "source": "x.csv", "columns": {"order_id": "a", "order_date": "b",
                                                                        "revenue": "c"}})
    assert "kind" not in cfg.to_dict() and "stages" not in cfg.to_dict()


# --------------------------------------------------------------------------- other engines

@pytest.fixture(scope="module")
def duckdb_crm():
    shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    with load_data(load_config(CRM_PARAMS)) as ds:
        return {q: build_findings(ds.config, q, dataset=ds).data["pipeline"] for q in ("2017Q2", "2017Q4")}


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_gives_the_same_pipeline_findings(duckdb_crm, postgres):
    import psycopg
    folder = shared_file("crm-sales-opportunities", "sales_pipeline.csv").parent
    server = postgres   # tests/conftest.py's, shared by the run
    with psycopg.connect(server.conninfo("salesnb"), autocommit=True) as con:
        for name in ("sales_pipeline", "sales_teams", "products"):
            text = (folder / f"{name}.csv").read_text()
            cols = ", ".join(f'"{c}" text' for c in text.splitlines()[0].split(","))
            con.execute(f"CREATE TABLE {name} ({cols})")
            with con.cursor().copy(f"COPY {name} FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                cp.write(text.encode())
    data = dict(load_config(CRM_PARAMS).to_dict())
    query = ("SELECT p.*, t.regional_office, t.manager, COALESCE(p.close_value, pr.sales_price) AS deal_value "
             "FROM sales_pipeline p LEFT JOIN sales_teams t USING (sales_agent) LEFT JOIN products pr "
             "ON pr.product = CASE WHEN p.product = 'GTXPro' THEN 'GTX Pro' ELSE p.product END")
    config = config_from_dict({"name": "crm", "kind": "pipeline", "engine": server.url("salesnb"),
                               "query": query, "columns": data["columns"], "stages": STAGES})
    with load_data(config) as ds:
        assert ds.quality.deals["open"] == 2089 and ds.quality.rows_dropped == {}
        for q, expected in duckdb_crm.items():
            assert_same(expected, build_findings(config, q, dataset=ds).data["pipeline"])


@pytest.mark.slow
@pytest.mark.spark
def test_spark_gives_the_same_pipeline_findings(tmp_path):
    skip_without_spark()
    source = shared_file("crm-sales-opportunities", "sales_pipeline.csv")
    data = {"name": "crm", "kind": "pipeline", "source": str(source), "columns": CRM_COLUMNS, "stages": STAGES}
    duck = config_from_dict(data)
    spark = config_from_dict(dict(data, engine="local[2]"))
    from salesnb.data.backends import spark as engines
    try:
        with load_data(duck) as a, load_data(spark) as b:
            assert b.quality.deals == a.quality.deals
            for q in ("2017Q2", "2017Q4"):
                assert_same(build_findings(duck, q, dataset=a).data["pipeline"],
                            build_findings(spark, q, dataset=b).data["pipeline"])
    finally:
        engines.stop_spark()


def test_findings_json_of_a_pipeline_is_deterministic(tmp_path):
    config = _pipeline(tmp_path, "stage,created,closed,value\nWon,2024-01-02,2024-02-01,100\n"
                                 "Lost,2024-01-03,2024-02-11,0\nOpen,2024-01-09,,7\n")
    a = json.dumps(build_findings(config, "2024Q1").data, sort_keys=True)
    b = json.dumps(build_findings(config, "2024Q1").data, sort_keys=True)
    assert a == b and json.loads(a)["pipeline"]["open"]["deals"] == 1


def test_salesnb_open_refuses_pipeline_params_with_a_clear_message(tmp_path):
    import salesnb
    config = _pipeline(tmp_path, "stage,created,closed,value\nWon,2024-01-02,2024-02-01,100\n")
    with pytest.raises(ConfigError) as err:
        salesnb.open(config)
    assert "kind: pipeline" in err.value.message and "notebooks/pipeline.ipynb" in err.value.hint
