"""A throw-away PostgreSQL server for the engine tests: a cluster on a Unix socket in a temp
folder (no TCP), started from the server binaries when they are installed.

``yield from pg_server()`` in a fixture gives the running :class:`PgServer` (and stops it
afterwards), or skips with the reason (no binaries, no psycopg, cannot start). The same steps as
tests/test_engines.py's ``postgres`` fixture, kept here so that a test module never imports another.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def pg_bin() -> Path | None:
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


class PgServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="salesnb-pg-"))
        self.data = self.root / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
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
        r = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr[-500:]}")
        r = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                      "-o", f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off", "start")
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr[-300:]}")

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str) -> str:
        return f"postgresql://postgres@/{db}?host={self.root}&port={self.port}"

    def conninfo(self, db: str) -> str:
        return f"host={self.root} port={self.port} user=postgres dbname={db}"


def pg_server(database: str = "salesnb"):
    """Start a server with an empty ``database``; yield it; stop it (or skip with the reason)."""
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg (v3) is not installed (pip install 'salesnb[postgres]')")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
    server = PgServer(bindir)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - report why and skip, as without the binaries
        server.stop()
        pytest.skip(f"could not start PostgreSQL: {exc}")
    try:
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {database}")
        yield server
    finally:
        server.stop()
