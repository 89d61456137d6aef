"""The loaded data: :class:`Dataset` (an Ibis table on the engine and what loading found)."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from ..config import Config
from ..errors import DataError
from .quality import DataQuality


def forget_cached_tables(con) -> None:
    """Before a connection closes: its temporary tables go with it, so the cached tables Ibis
    still tracks need no drop. One still referenced when the connection closes (by the frames of
    an interrupted query's traceback) would otherwise try to drop its table on the closed
    connection when collected, and print an ignored exception after "salesnb: interrupted"."""
    entries = getattr(con, "_cache_name_to_entry", None)
    if not entries:
        return
    for entry in list(entries.values()):
        entry.finalizer.detach()
    entries.clear()
    getattr(con, "_cache_op_to_entry", {}).clear()


@dataclass
class Dataset:
    """The loaded data: an Ibis table on the engine, and what loading found."""

    config: Config
    con: object  # ibis backend
    table: object  # ibis Table over the canonical "sales" table
    quality: DataQuality
    _tmpdir: str | None = None
    # the source files' (path, size, mtime) as they were read: see source_changes()
    source_state: tuple = ()
    # aggregates shared by the metrics and the reports of one load (salesnb.metrics.orders.shared)
    _shared: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def dimensions(self) -> list[str]:
        return list(self.quality.dimensions)

    @property
    def has_customers(self) -> bool:
        return "customer_id" in self.config.columns

    @property
    def has_quantity(self) -> bool:
        return "quantity" in self.config.columns

    def sql(self, query: str, params=None):
        """Run SQL on the engine and return a small pandas frame."""
        return self.con.con.execute(query, params or []).df()

    def close(self) -> None:
        _release_shared(self)
        forget_cached_tables(self.con)
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001 - closing twice is harmless
            pass
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def _release_shared(dataset) -> None:
    """Drop the engine tables cached for the dataset's metrics (before the connection closes)."""
    shared, dataset._shared = dataset._shared, {}
    for value in shared.values():
        try:
            value.release()
        except Exception:  # noqa: BLE001 - not an engine table, or already gone
            pass


@dataclass
class EngineDataset(Dataset):
    """A :class:`Dataset` on Spark or PostgreSQL: ``table_name`` names the canonical table there."""

    kind: str = ""
    table_name: str = ""
    _release: object = None

    def sql(self, query: str, params=None):
        """Run SQL on the engine (its dialect; the canonical table is ``table_name``)."""
        if params:
            raise DataError("Parameters are not supported by Dataset.sql on this engine.",
                            hint="use an Ibis expression on dataset.table instead")
        return self.con.sql(query).to_pandas()

    def close(self) -> None:
        _release_shared(self)
        release, self._release = self._release, None
        if release is not None:
            try:
                release()
            except Exception:  # noqa: BLE001 - closing twice, a stopped session
                pass
        if self.kind == "postgres":
            forget_cached_tables(self.con)
            try:
                self.con.disconnect()
            except Exception:  # noqa: BLE001
                pass
        # Spark: the session is shared by the process (see backends.spark); not stopped here.

    def __del__(self):
        pass
