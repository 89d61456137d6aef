"""A throw-away PostgreSQL server for the tests that compare PostgreSQL with DuckDB (the ``postgres``
fixture in tests/conftest.py starts one per test run). It skips the calling test, with the reason,
when the server binaries, psycopg or (as root) ``runuser`` are missing."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throw-away PostgreSQL cluster on a Unix socket in a temp folder (no TCP)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="salesnb-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o700)

    def _run(self, *args):
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self):
        # an ICU en-US default collation (punctuation sorts unlike DuckDB) when the server has ICU
        r = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
        if r.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            r = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr[-500:]}")
        r = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                      "-o", f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off", "start")
        if r.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-500:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr[-300:]} {log}")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str) -> str:
        return f"postgresql://postgres@/{db}?host={self.root}&port={self.port}"

    def conninfo(self, db: str) -> str:
        return f"host={self.root} port={self.port} user=postgres dbname={db}"


@contextmanager
def running_server():
    """A started server with an empty database ``salesnb``; stopped and removed on exit."""
    bindir = _pg_bin()
    if bindir is None:
        print("skipping the PostgreSQL tests: initdb / pg_ctl not found")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg (v3) is not installed (pip install 'salesnb[postgres]')")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
    server = Server(bindir)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - report why and skip, as without the binaries
        server.stop()
        pytest.skip(f"could not start PostgreSQL: {exc}")
    try:
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as con:
            con.execute("CREATE DATABASE salesnb")
        yield server
    finally:
        server.stop()
