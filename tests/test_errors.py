"""The one "Did you mean" of every message that names a key, role, column, table or file the user
misspelt (salesnb.errors.closest_name / did_you_mean): one cutoff, one wording."""
from __future__ import annotations

import difflib

from hypothesis import given, settings, strategies as st

from salesnb.errors import SUGGEST_CUTOFF, closest_name, did_you_mean

SETTINGS = settings(max_examples=200, deadline=None)
LOWER = st.text(alphabet="abcdefghijklm", min_size=4, max_size=12)
#: names without a repeated letter: difflib's blocks then see one typo as one gap
DISTINCT = st.lists(st.sampled_from("abcdefghijklm"), unique=True, min_size=4, max_size=12).map("".join)


def test_a_misspelt_name_gets_the_close_one():
    assert closest_name("colums", ["name", "source", "columns"]) == "columns"
    assert closest_name("amont", ["order", "date", "cust", "amount"]) == "amount"
    assert did_you_mean("ofice", ["stage", "created", "office"]) == " Did you mean 'office'?"
    assert did_you_mean("order", ["orders", "customers"]) == " Did you mean 'orders'?"


def test_case_and_spaces_do_not_hide_the_name():
    assert closest_name("Ship mode", ["Order ID", "Ship Mode"]) == "Ship Mode"
    assert closest_name("DATE", ["order", "date"]) == "date"
    assert closest_name(" amount ", ["Amount"]) == "Amount"
    # a misspelling in another case still matches
    assert closest_name("AMONT", ["order", "amount"]) == "amount"


def test_a_name_holding_the_word_is_suggested():
    assert closest_name("date", ["Row ID", "Order Date", "Ship Date"]) == "Order Date"
    # two letters are too few to mean a column
    assert closest_name("id", ["Row ID", "Order"]) is None


def test_an_unrelated_or_absurd_word_gets_nothing():
    assert closest_name("xyz", ["order", "date", "amount"]) is None
    assert did_you_mean("revenue", ["stage", "office"]) == ""
    assert did_you_mean("anything", []) == ""
    assert did_you_mean("", ["a"]) == ""
    assert did_you_mean("columns" * 20, ["columns"]) == ""   # a pasted paragraph


def test_show_renders_the_name():
    assert did_you_mean("sales.cvs", ["sales.csv"], show=lambda n: repr("/data/" + n)) == \
        " Did you mean '/data/sales.csv'?"
    assert did_you_mean(7, [7, "x"]) == " Did you mean '7'?"


@SETTINGS
@given(name=DISTINCT, data=st.data())
def test_one_letter_dropped_or_changed_is_suggested(name, data):
    i = data.draw(st.integers(0, len(name) - 1))
    typo = data.draw(st.sampled_from([name[:i] + name[i + 1:], name[:i] + "z" + name[i + 1:]]))
    assert closest_name(typo, [name, "0123456789"]) == name
    assert closest_name(typo.upper(), [name]) == name
    assert did_you_mean(typo, [name]) == f" Did you mean {name!r}?"


@SETTINGS
@given(word=st.text(alphabet="nopqrstuvwxyz", min_size=1, max_size=12), names=st.lists(LOWER, max_size=6))
def test_no_shared_letter_no_suggestion(word, names):
    assert closest_name(word, names) is None


@SETTINGS
@given(word=st.text(min_size=1, max_size=20), names=st.lists(st.text(max_size=20), max_size=8))
def test_a_suggestion_is_one_of_the_choices_and_alike_enough(word, names):
    name = closest_name(word, names)
    if name is None:
        return
    assert name in names
    w, n = word.strip().casefold(), name.strip().casefold()
    assert w == n or (len(w) >= 3 and w in name.casefold()) or \
        difflib.SequenceMatcher(None, w, n).ratio() >= SUGGEST_CUTOFF
