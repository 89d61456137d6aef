"""Integer ids stay integers in the canonical table (issue 24 item 2) and the findings do not
depend on it: ties are broken by the ids' text and ids are shown as text (salesnb.metrics.ids).
The same lines with the ids written as text must give the same findings, key for key."""
from __future__ import annotations

import ibis
import pandas as pd
import pytest

from salesnb import build_findings
from salesnb.config import load_config
from salesnb.data import load_data
from salesnb.metrics.ids import id_order, id_text
from support.shapes import typed_nonatomic, write_params



@pytest.fixture(scope="module")
def typed_and_text(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ids")
    typed = typed_nonatomic(folder, "typed", rows=30_000, seed=3)
    df = pd.read_parquet(folder / "typed.parquet")
    df.assign(order_id=df.order_id.astype(str),
              customer_id=df.customer_id.astype("Int64").astype("string")).to_parquet(folder / "text.parquet")
    return [typed, write_params(folder, "text")], df


def _findings(params, period):
    config = load_config(params)
    with load_data(config) as ds:
        types = ds.table.schema()
        found = build_findings(config, period, dataset=ds)
    data = dict(found.data)
    data["data"] = {k: v for k, v in data["data"].items() if k not in ("source", "sha256")}
    data.pop("method")   # names the source file and its date format
    return types, data, found.tables


@pytest.mark.parametrize("period", ["2024Q3", "2023"])
def test_typed_ids_give_the_findings_text_ids_give(typed_and_text, period):
    (typed, text), df = typed_and_text
    typed_types, typed_data, typed_tables = _findings(typed, period)
    text_types, text_data, text_tables = _findings(text, period)
    assert typed_types["order_id"].is_integer() and typed_types["customer_id"].is_integer()
    assert text_types["order_id"].is_string() and text_types["customer_id"].is_string()
    # the shape has what the rule is about: ids of several widths, ties in the RFM scores
    widths = df.customer_id.dropna().astype("int64").astype(str).str.len()
    assert widths.nunique() > 1
    assert typed_data == text_data
    top = typed_tables["customers_top_clv"]
    assert len(top) and all(isinstance(v, str) for v in top.customer_id)
    pd.testing.assert_frame_equal(top, text_tables["customers_top_clv"])


def test_ties_are_broken_by_the_ids_text():
    t = ibis.memtable({"id": [9, 10, 100, 2], "v": [1, 1, 1, 1]})
    got = t.order_by([t.v, id_order(t.id)]).id.to_pandas().tolist()
    assert got == [10, 100, 2, 9]
    s = ibis.memtable({"id": ["9", "10"]})
    assert id_order(s.id).equals(s.id)          # text ids: compared as they are, no cast


@pytest.mark.parametrize("value,text", [(17850, "17850"), ("C-1", "C-1"), (None, None)])
def test_ids_are_shown_as_text(value, text):
    import numpy as np
    assert id_text(value) == text
    if isinstance(value, int):
        assert id_text(np.int64(value)) == text
