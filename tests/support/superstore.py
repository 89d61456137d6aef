"""What loading the full Superstore CSV (../shared/data/superstore) must give on every backend:
the facts counted once from the file (9,994 lines, no duplicates, cp1252, US dates)."""
from __future__ import annotations

import pytest

#: SHA-256 of "Sample - Superstore.csv" (a local file is fingerprinted by its bytes on every backend)
SUPERSTORE_SHA256 = "58fb59c63089e564d835e4aabe19d371757de1137a5bf1888243ae386c4b7a97"


def assert_superstore_loaded(q) -> None:
    """The data-quality record ``q`` of the full Superstore CSV: every line used, its revenue
    total, date range, encoding, date format and fingerprint."""
    assert (q.rows_read, q.rows_used, q.rows_dropped) == (9994, 9994, {})
    assert q.revenue_total == pytest.approx(2_297_200.8603, abs=1e-3)
    assert (q.first_date, q.last_date) == ("2014-01-03", "2017-12-30")
    assert q.encoding == "cp1252" and q.date_format == "%m/%d/%Y"
    assert q.sha256 == SUPERSTORE_SHA256
