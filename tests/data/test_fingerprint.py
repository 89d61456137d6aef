"""The engine fingerprint labels its source (issue 23). The data layer's imports (only the rows
above it, no cycle) are checked with the whole package's in tests/test_package_layout.py."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace


def test_an_engine_source_without_files_is_fingerprinted_by_its_own_label():
    """A Spark file source that is not local (hdfs://) has no files to hash: its label is
    ``source:<path>`` (it read ``table:None`` before issue 23), a table ``table:<name>``."""
    from salesnb.data.backends import _Source
    from salesnb.data.backends.engines import _fingerprint

    def expected(engine, what, rows, total):
        return hashlib.sha256("\n".join([engine, what, str(rows), f"{total:.2f}"]).encode("utf-8")).hexdigest()

    remote = _Source(table=None, description="hdfs://x/sales/*.csv (read by Spark local[2])", files=[], encoding=None)
    spark = SimpleNamespace(engine="local[2]", query=None, table=None, source="hdfs://x/sales/*.csv")
    assert _fingerprint(spark, remote, 10, 12.5) == expected("local[2]", "source:hdfs://x/sales/*.csv", 10, 12.5)
    pg = SimpleNamespace(engine="postgresql://ann:secret@h/db", query=None, table="sales", source=None)
    assert _fingerprint(pg, remote, 3, 1.0) == expected("postgresql://ann:***@h/db", "table:sales", 3, 1.0)
    query = SimpleNamespace(engine="local", query="SELECT 1", table="ignored", source=None)
    assert _fingerprint(query, remote, 1, 0.0) == expected("local", "SELECT 1", 1, 0.0)
