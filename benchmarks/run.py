#!/usr/bin/env python
"""salesnb benchmarks (SPEC 8): ``make bench`` (1M and 10M order lines), ``make bench-big`` (+100M).

For each data shape (``--shapes``; ``salesnb sample --shape``: the kit's own sample; ``typed``,
integer ids, date-typed dates, ~25 orders per customer, 2 lines per order; ``typed-nonatomic``, the
same with 0.1 % of orders over two days and 0.1 % naming two customers) and size it generates the
data (seed 7) into ``benchmarks/data/`` (git-ignored; reused when present), writes a params file
for it from ``benchmarks/params.yaml`` into ``benchmarks/work/``, then measures — each over ``--runs`` runs
(3; ``--big-runs`` at 100M, also 3), reporting the median and the spread (min–max):

* ``salesnb findings PARAMS --period 2024Q3 -o FILE`` and ``salesnb run PARAMS --period 2024Q3
  --out DIR``, end to end, as subprocesses of the CLI;
* the stages of a report: load and validate, the findings (per section), each notebook (from
  the progress lines of ``salesnb run`` and the executed notebooks' ``papermill.duration``),
  assembly, and the PDF (one ``--pdf`` run, when Chromium is there);
* ``salesnb batch PARAMS --periods 2024Q1..2024Q4`` (10M, the sample shape; the target is ≤ 2× one report);
* the hand-written alternative, ``benchmarks/handwritten.ipynb`` (pandas, ``pd.read_parquet``
  of the whole file) run with the papermill CLI and exported with ``jupyter nbconvert --to html``;
* ``salesnb validate`` on a CSV copy of the sample with text dates (``%d/%m/%Y %H:%M``): what
  reading text instead of Parquet costs (1M and 10M, the sample shape);
* fixed start-up costs: Python + imports, a Jupyter kernel, papermill and nbconvert on an empty
  notebook, and a cProfile of the findings build (the salesnb functions that take the time).

Peak memory is the larger of two lower bounds of the tree's true peak: the highest sum of RSS
over the process and all its children, polled every 0.1 s with psutil, and the peak RSS of the
process or its largest descendant as the kernel counted it (``wait4``; polling misses the short
peaks of a query). Results go to ``benchmarks/results.json`` and ``benchmarks/results.md`` (also
printed). The machine is described in both, with its load average: figures measured while other
work runs on the machine are slower than it can do, and the table says so.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
WORK = BENCH / "work"
BIN = Path(sys.executable).parent
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
SHAPES = ("sample", "typed", "typed-nonatomic")
SHAPE_NOTES = {
    "sample": "the kit's own: text ids, timestamps, ~6 orders per customer",
    "typed": "int64 order ids, int32 customer ids, date32 dates, ~25 orders per customer, 2 lines per order, "
             "four dimensions",
    "typed-nonatomic": "typed, with 0.1 % of orders over two days and 0.1 % naming two customers",
}
#: the columns of the typed shapes (salesnb.data.sample_shapes): no product, no channel
TYPED_COLUMNS = ("order_id", "order_date", "customer_id", "revenue", "quantity", "unit_price", "region", "segment",
                 "category", "sales_rep")
PERIOD = "2024Q3"
BATCH_PERIODS = "2024Q1..2024Q4"
SEED = 7
TARGETS = {
    "10M_time_ratio": 0.5,    # full report ≤ half the hand-written notebook's time …
    "10M_memory_ratio": 0.5,  # … and half its peak memory
    "100M_seconds": 180.0,
    "100M_peak_mb": 4096.0,
    "batch_ratio": 2.0,       # 4-quarter batch on 10M ≤ 2× one report
    "shape_time_ratio": 1.0,  # every shape at 10M: ≤ 1× the hand-written notebook's time …
    "nonatomic_ratio": 1.2,   # the non-atomic shape within 1.2× of the atomic one (time and memory)
}


# --------------------------------------------------------------------------- measuring

class PeakMemory:
    """Polls the RSS of a process and all its children every ``interval`` s; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1):
        import psutil
        self._proc = psutil.Process(pid)
        self._psutil = psutil
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except self._psutil.Error:
            pass
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except self._psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _wait_usage(proc: subprocess.Popen, timeout: float):
    """Wait for ``proc`` (killed after ``timeout`` s); the kernel's accounting of it and the
    descendants it waited for (``wait4``): CPU seconds, and the peak RSS (KB) of the process or
    of its largest descendant. Polling alone misses the short peaks of a query: at 100M lines it
    saw 3.14 GB where the process had reached 3.6 GB."""
    deadline = time.monotonic() + timeout
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if not killed and time.monotonic() > deadline:
            proc.kill()
            killed = True
        time.sleep(0.05)


def measure(cmd: list[str], *, cwd: Path = ROOT, env: dict | None = None, timeout: float = 3600) -> dict:
    """Run ``cmd``; wall seconds, peak RSS of its process tree (MB), exit code, timestamped stderr."""
    lines: list[tuple[float, str]] = []
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace")

    chunks: list[str] = []

    def read_err():
        for line in proc.stderr:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))

    def read_out():
        chunks.append(proc.stdout.read())

    # one reader per pipe (communicate() would read stderr too, and split its lines)
    readers = [threading.Thread(target=read_err, daemon=True), threading.Thread(target=read_out, daemon=True)]
    for t in readers:
        t.start()
    with PeakMemory(proc.pid) as mem:
        usage = _wait_usage(proc, timeout)
    seconds = time.perf_counter() - start
    for t in readers:
        t.join(timeout=10)
    out = "".join(chunks)
    cpu = usage.ru_utime + usage.ru_stime
    polled_mb, maxrss_mb = mem.peak / 2**20, usage.ru_maxrss / 1024
    return {"cmd": " ".join(map(str, cmd)), "seconds": seconds, "cpu_s": cpu,
            "peak_mb": max(polled_mb, maxrss_mb), "polled_peak_mb": polled_mb, "maxrss_mb": maxrss_mb,
            "rc": proc.returncode,
            "stderr": lines, "stdout": out[-2000:] if out else "", "load_before": load_before,
            "load_after": os.getloadavg()[0]}


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["rc"] == 0]
    out = {"runs": len(runs), "ok": len(ok)}
    if not ok:
        err = [ln for _, ln in runs[-1]["stderr"]][-5:] if runs else []
        out["error"] = " | ".join(err)[-800:]
        return out
    secs = [r["seconds"] for r in ok]
    mems = [r["peak_mb"] for r in ok]
    cpus = [r.get("cpu_s", 0.0) for r in ok]
    out.update(seconds=statistics.median(secs), seconds_min=min(secs), seconds_max=max(secs),
               cpu_s=statistics.median(cpus),
               peak_mb=statistics.median(mems), peak_mb_min=min(mems), peak_mb_max=max(mems),
               all_seconds=[round(s, 2) for s in secs], all_peak_mb=[round(m, 1) for m in mems],
               load=[round(r["load_before"], 2) for r in ok])
    return out


def repeat(label: str, n: int, make_cmd, **kw) -> tuple[dict, list[dict]]:
    runs = []
    for i in range(n):
        cmd = make_cmd(i)
        r = measure(cmd, **kw)
        status = "ok" if r["rc"] == 0 else f"FAILED (exit {r['rc']})"
        print(f"  {label} run {i + 1}/{n}: {r['seconds']:.1f} s (CPU {r['cpu_s']:.1f} s), peak {r['peak_mb']:.0f} MB, "
              f"load {r['load_before']:.1f} — {status}", flush=True)
        if r["rc"] != 0:
            for _, ln in r["stderr"][-6:]:
                print(f"    | {ln}", flush=True)
        runs.append(r)
    return summarise(runs), runs


# --------------------------------------------------------------------------- data and params

def ensure_data(size: str, shape: str = "sample") -> tuple[Path, float | None]:
    from salesnb.data.sample import write_sample
    from salesnb.data.sample_shapes import write_shape
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{shape}_{size}.parquet"
    if path.exists():
        return path, None
    print(f"generating {SIZES[size]:,} order lines of shape {shape} into {path} …", flush=True)
    t0 = time.perf_counter()
    if shape == "sample":
        write_sample(path, rows=SIZES[size], seed=SEED)
    else:
        write_shape(path, shape, rows=SIZES[size], seed=SEED)
    return path, time.perf_counter() - t0


def _suffix(shape: str) -> str:
    return "" if shape == "sample" else "_" + shape.replace("-", "_")


def params_for(size: str, data_path: Path, memory_limit: str | None, suffix: str = "", shape: str = "sample") -> Path:
    """``benchmarks/work/params_<size><suffix>.yaml``: the benchmark params with ``source:`` set."""
    import yaml
    base = yaml.safe_load((BENCH / "params.yaml").read_text(encoding="utf-8"))
    base["source"] = str(data_path)
    base["name"] = f"bench_{size}{suffix}"
    if shape != "sample":
        base["columns"] = {c: c for c in TYPED_COLUMNS}
    if memory_limit:
        base["memory_limit"] = memory_limit
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"params_{size}{suffix}.yaml"
    out.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- in-process probe

def probe(params: str, period: str) -> dict:
    """Run in a subprocess: time the imports, load_data, and each section of build_findings."""
    import cProfile
    import pstats
    t0 = time.perf_counter()
    import salesnb  # noqa: F401
    from salesnb.config import load_config
    from salesnb.data import load_data
    from salesnb.findings import build_findings
    import salesnb.metrics.customers  # noqa: F401
    import salesnb.metrics.revenue  # noqa: F401
    out = {"import_s": time.perf_counter() - t0}
    config = load_config(params)
    prof = cProfile.Profile()
    prof.enable()
    t0 = time.perf_counter()
    dataset = load_data(config)
    out["load_s"] = time.perf_counter() - t0
    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    try:
        build_findings(config, period, dataset=dataset, progress=lambda m: marks.append((time.perf_counter(), m)))
        out["findings_s"] = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - report what failed, benchmark what works
        out["findings_error"] = f"{type(exc).__name__}: {exc}"[:500]
        t1 = time.perf_counter()
        try:
            build_findings(config, period, dataset=dataset, sections=("revenue",))
            out["revenue_only_s"] = time.perf_counter() - t1
        except Exception as exc2:  # noqa: BLE001
            out["revenue_error"] = f"{type(exc2).__name__}: {exc2}"[:300]
    end = time.perf_counter()
    prof.disable()
    sections = {}
    names = {"revenue findings": "revenue", "customer findings": "customers", "recommendations": "recommendations"}
    for i, (ts, msg) in enumerate(marks):
        key = next((v for k, v in names.items() if msg.startswith(k)), None)
        if key:
            nxt = marks[i + 1][0] if i + 1 < len(marks) else end
            sections[key] = nxt - ts
    out["sections_s"] = sections
    dataset.close()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        if "/salesnb/" in file and "/benchmarks/" not in file:
            rows.append({"function": f"{Path(file).parent.name}/{Path(file).name}:{func}", "cumulative_s": round(ct, 3),
                         "calls": nc})
    rows.sort(key=lambda r: -r["cumulative_s"])
    out["profile_top"] = rows[:18]
    # time spent executing queries in the engine vs in Python around them
    engine_s = 0.0
    for (file, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        if func in ("execute",) and "duckdb" in file and "ibis" in file:
            engine_s = max(engine_s, ct)
    out["ibis_duckdb_execute_s"] = round(engine_s, 3)
    return out


# --------------------------------------------------------------------------- parsing runs

_DONE = re.compile(r"done in ([\d.]+) s \((.*)\)\s*$")


_LINE_STAGES = (("loading", "load_data"), ("revenue findings", "findings_revenue"),
                ("customer findings", "findings_customers"), ("recommendations", "findings_recommendations"),
                ("running notebook", "notebooks"), ("assembling", "assemble"), ("printing report.pdf", "pdf"))


def _stages_from_lines(lines: list[tuple[float, str]], total: float) -> dict:
    """Seconds per stage from the timestamps of the progress lines (a line that names no stage,
    such as "notebook x done in", belongs to the stage before it)."""
    out: dict[str, float] = {}
    key = None
    ends = [t for t, _ in lines[1:]] + [total]
    for (t, line), end in zip(lines, ends):
        text = re.sub(r"^\[[^\]]*\]\s*", "", line)
        for prefix, name in _LINE_STAGES:
            if text.startswith(prefix):
                key = name
                break
        if key:
            out[key] = out.get(key, 0.0) + (end - t)
    if any(k.startswith("findings_") for k in out):
        out["findings"] = sum(v for k, v in out.items() if k.startswith("findings_"))
    out["source"] = "progress-line timestamps (the assemble figure includes publishing and process exit)"
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def report_stages(run: dict, out_dir: Path, name: str) -> dict:
    """Stage seconds of one ``salesnb run``: its final progress line, else the line timestamps."""
    stages: dict = {}
    for _, line in run["stderr"]:
        m = _DONE.search(line)
        if m:
            stages["total_reported"] = float(m.group(1))
            for part in m.group(2).split(", "):
                k, _, v = part.rpartition(" ")
                mm = re.match(r"(\S+) ([\d.]+)", part)
                if mm:
                    stages[mm.group(1)] = float(mm.group(2))
    if run["stderr"]:
        from_lines = _stages_from_lines(run["stderr"], run["seconds"])
        if not stages:
            stages = dict(from_lines)
        stages["from_lines"] = from_lines
        stages["progress_lines"] = [[round(t, 2), line] for t, line in run["stderr"]][-40:]
    notebooks = {}
    folder = out_dir / name / PERIOD / "notebooks"
    if folder.is_dir():
        import nbformat
        for nb_path in sorted(folder.glob("*.ipynb")):
            try:
                nb = nbformat.read(nb_path, as_version=4)
            except Exception:  # noqa: BLE001
                continue
            pm = nb.metadata.get("papermill", {})
            cells = [c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells]
            top = sorted(((c.metadata.get("papermill", {}).get("duration") or 0.0,
                           (c.source.splitlines() or [""])[0][:60]) for c in nb.cells if c.cell_type == "code"),
                         reverse=True)[:3]
            notebooks[nb_path.stem] = {"papermill_duration_s": pm.get("duration"), "cells_s": round(sum(cells), 3),
                                       "overhead_s": round((pm.get("duration") or 0) - sum(cells), 3),
                                       "slowest_cells": [{"s": round(s, 3), "cell": src} for s, src in top]}
    stages["notebooks_papermill"] = notebooks
    return stages


# --------------------------------------------------------------------------- overheads

def overheads(env: dict) -> dict:
    """Fixed start-up costs, each the median of 3."""
    out = {}
    py = str(BIN / "python")

    def med(cmd, **kw):
        runs = [measure(cmd, env=env, **kw) for _ in range(3)]
        return summarise(runs)

    out["python_import_salesnb_cli"] = med([py, "-c", "import salesnb.cli"])
    out["python_import_findings_metrics"] = med([py, "-c", "import salesnb.findings, salesnb.metrics.revenue, "
                                                 "salesnb.metrics.customers, salesnb.models.clv_findings, ibis, duckdb"])
    out["python_import_rfc3987_syntax"] = med([py, "-c", "import rfc3987_syntax"])
    out["python_import_nbformat_validator"] = med([py, "-c", "import nbformat, jsonschema; "
                                                   "nbformat.validator.get_validator()"])
    kernel = ("import time; t=time.perf_counter()\n"
              "from jupyter_client.manager import start_new_kernel\n"
              "km, kc = start_new_kernel(kernel_name='python3')\n"
              "t1=time.perf_counter()\n"
              "kc.execute_interactive('import salesnb.render.charts.revenue, salesnb.findings, matplotlib.pyplot', timeout=120)\n"
              "t2=time.perf_counter()\n"
              "kc.stop_channels(); km.shutdown_kernel(now=True)\n"
              "print(f'{t1-t:.3f} {t2-t1:.3f}')")
    starts, imports = [], []
    for _ in range(3):
        r = measure([py, "-c", kernel], env=env)
        if r["rc"] == 0 and r["stdout"].strip():
            a, b = r["stdout"].split()[-2:]
            starts.append(float(a))
            imports.append(float(b))
    if starts:
        out["kernel_start_s"] = statistics.median(starts)
        out["kernel_import_notebook_libs_s"] = statistics.median(imports)
    with tempfile.TemporaryDirectory() as tmp:
        import nbformat
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
        src = Path(tmp) / "empty.ipynb"
        nbformat.write(nb, src)
        out["papermill_cli_empty_notebook"] = med([str(BIN / "papermill"), str(src), str(Path(tmp) / "o.ipynb"),
                                                    "-k", "python3", "--no-progress-bar"])
        out["nbconvert_cli_html_empty_notebook"] = med([str(BIN / "jupyter"), "nbconvert", "--to", "html",
                                                         str(src), "--output-dir", tmp])
    return out


# --------------------------------------------------------------------------- text (CSV) sources

CSV_DATE_FORMAT = "%d/%m/%Y %H:%M"   # a common spreadsheet export: day first, no seconds


def ensure_csv(size: str) -> Path:
    """The Parquet sample of ``size`` as a CSV with text dates (CSV_DATE_FORMAT)."""
    import duckdb
    parquet, _ = ensure_data(size)
    path = DATA / f"sample_{size}_dmy.csv"
    if not path.exists():
        print(f"writing {path} …", flush=True)
        tmp = path.with_suffix(".tmp")
        db = duckdb.connect()
        try:
            db.execute(f"COPY (SELECT * REPLACE (strftime(order_date, '{CSV_DATE_FORMAT}') AS order_date) "
                       f"FROM read_parquet('{parquet}')) TO '{tmp}' (FORMAT csv, HEADER)")
        finally:
            db.close()
        tmp.rename(path)
    return path


def bench_csv(size: str, runs: int, env: dict) -> dict:
    """``salesnb validate`` (load and check, no findings) on the CSV copy: what parsing text costs."""
    path = ensure_csv(size)
    # its own params file: params_<size>.yaml stays on the Parquet sample for the other parts
    out = params_for(size, path, None, suffix="_csv")
    res, _ = repeat(f"salesnb validate on the CSV ({CSV_DATE_FORMAT!r} dates)", runs,
                    lambda i: [str(BIN / "salesnb"), "validate", str(out)], env=env)
    res["bytes"] = path.stat().st_size
    res["date_format"] = CSV_DATE_FORMAT
    return res


# --------------------------------------------------------------------------- machine

def machine() -> dict:
    import importlib.metadata as md

    import psutil
    versions = {}
    for pkg in ("salesnb", "duckdb", "ibis-framework", "pandas", "pyarrow", "numpy", "papermill", "nbconvert",
                "matplotlib"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu_count": os.cpu_count(), "cpu": cpu, "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "date": dt.datetime.now().isoformat(timespec="seconds"), "load_average_at_start": os.getloadavg()}


# --------------------------------------------------------------------------- one size

def bench_size(size: str, runs: int, args, env: dict, previous: dict | None = None, shape: str = "sample") -> dict:
    data_path, gen_s = ensure_data(size, shape)
    limit = args.memory_limit if args.memory_limit else ("2500MB" if size == "100M" else None)
    suffix = _suffix(shape)
    params = params_for(size, data_path, limit, suffix=suffix, shape=shape)
    res: dict = dict(previous or {})  # --merge: keep what this run does not measure again
    res.update({"rows": SIZES[size], "file_mb": round(data_path.stat().st_size / 2**20, 1),
                "params": str(params.relative_to(ROOT)), "memory_limit": limit})
    if gen_s is not None or "generate_s" not in res:
        res["generate_s"] = gen_s
    cli = str(BIN / "salesnb")
    out_root = WORK / f"out_{size}{suffix}"
    shutil.rmtree(out_root, ignore_errors=True)
    out_root.mkdir(parents=True)
    name = f"bench_{size}{suffix}"
    print(f"\n== {shape}: {size} order lines ({res['file_mb']} MB Parquet) ==", flush=True)

    if "probe" in args.parts:
        r = measure([str(BIN / "python"), str(Path(__file__).resolve()), "--probe", str(params), PERIOD], env=env)
        try:
            res["stages_in_process"] = json.loads(r["stdout"].strip().splitlines()[-1])
            res["stages_in_process"]["peak_mb"] = r["peak_mb"]
            p = res["stages_in_process"]
            print(f"  in-process: import {p['import_s']:.1f} s, load {p['load_s']:.1f} s, findings "
                  f"{p.get('findings_s', float('nan')):.1f} s {p.get('sections_s')}, peak {r['peak_mb']:.0f} MB",
                  flush=True)
        except Exception:  # noqa: BLE001
            res["stages_in_process"] = {"error": " | ".join(ln for _, ln in r["stderr"][-5:])[-800:]}
            print(f"  in-process probe failed: {res['stages_in_process']['error']}", flush=True)

    if "findings" in args.parts:
        res["findings"], _ = repeat("salesnb findings", runs, lambda i: [
            cli, "findings", str(params), "--period", PERIOD, "-o", str(out_root / f"findings_{i}.json")], env=env)

    if "run" in args.parts:
        summary, raw = repeat("salesnb run", runs, lambda i: [
            cli, "run", str(params), "--period", PERIOD, "--out", str(out_root / "reports")], env=env)
        res["run"] = summary
        ok = [r for r in raw if r["rc"] == 0]
        if ok:
            res["run_stages"] = report_stages(ok[-1], out_root / "reports", name)
            res["run_stages_all"] = [report_stages(r, out_root / "reports", name) for r in ok]
        if args.pdf:
            if True:
                r = measure([cli, "run", str(params), "--period", PERIOD, "--out", str(out_root / "pdf"), "--pdf"],
                            env=env)
                res["run_pdf"] = summarise([r])
                if r["rc"] == 0:
                    res["run_pdf_stages"] = report_stages(r, out_root / "pdf", name)
                print(f"  salesnb run --pdf: {r['seconds']:.1f} s (rc {r['rc']})", flush=True)

    if "batch" in args.parts and size in args.batch_sizes and shape == "sample":
        # as many runs as the rest at 10M: one batch run is within this machine's noise of the target
        n_batch = args.batch_runs if args.batch_runs else (runs if SIZES[size] <= 10_000_000 else 1)
        res["batch"], _ = repeat(f"salesnb batch {BATCH_PERIODS}", n_batch, lambda i: [
            cli, "batch", str(params), "--periods", BATCH_PERIODS, "--out", str(out_root / "batch")], env=env)

    if "hand" in args.parts:
        if SIZES[size] > args.hand_max_rows:
            res["handwritten"] = {"skipped": f"pandas needs ~{SIZES[size] / 1e7 * 3.3:.0f} GB for {size} lines "
                                             f"(3.3 GB per 10M); this machine has {machine()['ram_gb']} GB"}
            print(f"  hand-written: skipped ({res['handwritten']['skipped']})", flush=True)
        else:
            hw_dir = out_root / "handwritten"
            hw_dir.mkdir(exist_ok=True)
            script = (f"set -e; {BIN}/papermill {BENCH / 'handwritten.ipynb'} {hw_dir / 'hw.ipynb'} "
                      f"-p data_path {data_path} -p period {PERIOD} -k python3 --no-progress-bar; "
                      f"{BIN}/jupyter nbconvert --to html {hw_dir / 'hw.ipynb'} --output-dir {hw_dir}")
            res["handwritten"], hw_runs = repeat("hand-written (papermill + nbconvert)", runs,
                                                 lambda i: ["bash", "-c", script], env=env)
            ok = [r for r in hw_runs if r["rc"] == 0]
            if ok and (hw_dir / "hw.ipynb").exists():
                import nbformat
                nb = nbformat.read(hw_dir / "hw.ipynb", as_version=4)
                cells = [c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells]
                res["handwritten"]["papermill_duration_s"] = nb.metadata.get("papermill", {}).get("duration")
                res["handwritten"]["cells_s"] = [round(c, 2) for c in cells]
    return res


# --------------------------------------------------------------------------- report

def _t(m: dict | None) -> str:
    if not m or "seconds" not in m:
        return "—" if not m else ("skipped" if "skipped" in m else "failed")
    spread = f" ({m['seconds_min']:.1f}–{m['seconds_max']:.1f})" if m.get("ok", 1) > 1 else " (1 run)"
    return f"{m['seconds']:.1f} s{spread}, CPU {m.get('cpu_s', 0):.0f} s"


def _m(m: dict | None) -> str:
    if not m or "peak_mb" not in m:
        return "—"
    return f"{m['peak_mb'] / 1024:.2f} GB" if m["peak_mb"] >= 1024 else f"{m['peak_mb']:.0f} MB"


def _ratio(a: dict | None, b: dict | None, key: str) -> str:
    if not a or not b or key not in a or key not in b or not b[key]:
        return "—"
    return f"{a[key] / b[key]:.2f}"


def targets(results: dict) -> list[dict]:
    out = []
    s10 = results["sizes"].get("10M", {})
    run, hw = s10.get("run"), s10.get("handwritten")
    if run and hw and "seconds" in run and "seconds" in hw:
        r = run["seconds"] / hw["seconds"]
        out.append({"target": "10M: full report ≤ 0.5 × the hand-written notebook's time", "value": round(r, 2),
                    "met": r <= TARGETS["10M_time_ratio"]})
        r = run["peak_mb"] / hw["peak_mb"]
        out.append({"target": "10M: full report ≤ 0.5 × the hand-written notebook's peak memory",
                    "value": round(r, 2), "met": r <= TARGETS["10M_memory_ratio"]})
    s100 = results["sizes"].get("100M", {})
    run = s100.get("run")
    if run and "seconds" in run:
        out.append({"target": "100M: full report ≤ 180 s", "value": round(run["seconds"], 1),
                    "met": run["seconds"] <= TARGETS["100M_seconds"]})
        out.append({"target": "100M: peak memory ≤ 4 GB", "value": round(run["peak_mb"] / 1024, 2),
                    "met": run["peak_mb"] <= TARGETS["100M_peak_mb"]})
    batch, run = s10.get("batch"), s10.get("run")
    if batch and run and "seconds" in batch and "seconds" in run:
        r = batch["seconds"] / run["seconds"]
        out.append({"target": "10M: 4-quarter batch ≤ 2 × one report", "value": round(r, 2),
                    "met": r <= TARGETS["batch_ratio"]})
    shapes = _shapes(results)
    for shape, sizes in shapes.items():
        run, hw = (sizes.get("10M") or {}).get("run"), (sizes.get("10M") or {}).get("handwritten")
        if run and hw and "seconds" in run and "seconds" in hw:
            for key, what, limit in (("seconds", "time", TARGETS["shape_time_ratio"]),
                                     ("peak_mb", "peak memory", TARGETS["10M_memory_ratio"])):
                r = run[key] / hw[key]
                out.append({"target": f"{shape}, 10M: full report ≤ {limit} × the hand-written notebook's {what}",
                            "value": round(r, 2), "met": r <= limit})
    atomic, split = (shapes.get("typed") or {}).get("10M"), (shapes.get("typed-nonatomic") or {}).get("10M")
    for key, what in (("seconds", "time"), ("peak_mb", "peak memory")):
        a, b = (atomic or {}).get("run") or {}, (split or {}).get("run") or {}
        if key in a and key in b:
            r = b[key] / a[key]
            out.append({"target": f"typed-nonatomic, 10M: {what} ≤ 1.2 × the typed shape's", "value": round(r, 2),
                        "met": r <= TARGETS["nonatomic_ratio"]})
    return out


def _shapes(results: dict) -> dict:
    """{shape: {size: figures}}: the sample's under ``sizes``, the others' under ``shapes``."""
    return {"sample": results.get("sizes") or {}, **(results.get("shapes") or {})}


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "### Benchmark figures",
        "",
        f"Machine: {m['cpu_count']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"DuckDB {m['versions']['duckdb']}, Ibis {m['versions']['ibis-framework']}, pandas {m['versions']['pandas']}; "
        f"{m['date'][:10]}. Synthetic sample (`salesnb sample`, seed {SEED}), period {PERIOD}. "
        "Time: median of the runs (min–max); memory: peak RSS of the whole process tree (kernels included): "
        "the larger of the sum polled every 0.1 s and the largest single process's peak (wait4).",
        "",
    ]
    for shape, sizes in _shapes(results).items():
        if not sizes:
            continue
        lines += [f"Shape `{shape}` ({SHAPE_NOTES[shape]}):", "",
                  "| order lines | `salesnb findings` | `salesnb run` (HTML report) | hand-written pandas notebook "
                  "(papermill + nbconvert) | run / hand-written: time, memory |",
                  "|---|---|---|---|---|"]
        for size, s in sizes.items():
            f, r, h = s.get("findings"), s.get("run"), s.get("handwritten")
            hw = ("skipped: " + h["skipped"].split(";")[0]) if h and "skipped" in h else f"{_t(h)}, {_m(h)}"
            lines.append(f"| {size} | {_t(f)}, {_m(f)} | {_t(r)}, {_m(r)} | {hw} | "
                         f"{_ratio(r, h, 'seconds')}, {_ratio(r, h, 'peak_mb')} |")
        lines.append("")
    lines += ["Where the time of one report goes (`salesnb run`, last run; seconds):", "",
              "| shape, order lines | load + validate | findings (revenue / customers / recommendations) | notebooks "
              "(wall, each converted to HTML as it ends; each: papermill duration) | assemble | PDF |", "|---|---|---|---|---|---|"]
    for shape, size, s in [(sh, size, s) for sh, sizes in _shapes(results).items() for size, s in sizes.items()]:
        st = s.get("run_stages") or {}
        fl = st.get("from_lines") or {}
        sec = {k: fl[f"findings_{k}"] for k in ("revenue", "customers", "recommendations") if f"findings_{k}" in fl}
        if not sec:
            sec = (s.get("stages_in_process") or {}).get("sections_s") or {}
        nbs = st.get("notebooks_papermill") or {}
        each = ", ".join(f"{k} {v['papermill_duration_s']:.1f}" for k, v in nbs.items()
                         if v.get("papermill_duration_s") is not None)
        sections = " / ".join(f"{sec[k]:.1f}" for k in ("revenue", "customers", "recommendations") if k in sec)
        pdf = (s.get("run_pdf_stages") or {}).get("pdf")
        lines.append(f"| {shape}, {size} | {st.get('load_data', float('nan')):.1f} | {st.get('findings', float('nan')):.1f}"
                     f" ({sections}) | {st.get('notebooks', float('nan')):.1f} ({each}) | "
                     f"{st.get('assemble', float('nan')):.2f} | {'—' if pdf is None else f'{pdf:.1f}'} |")
    batch_rows = [(size, s["batch"], s.get("run")) for size, s in results["sizes"].items() if s.get("batch")]
    if batch_rows:
        lines += ["", f"Batch of four quarters (`salesnb batch --periods {BATCH_PERIODS}`):", "",
                  "| order lines | batch | one report | batch / one report |", "|---|---|---|---|"]
        for size, b, r in batch_rows:
            lines.append(f"| {size} | {_t(b)}, {_m(b)} | {_t(r)} | {_ratio(b, r, 'seconds')} |")
    csv_rows = [(size, c) for size, c in (results.get("csv_load") or {}).items() if c]
    if csv_rows:
        lines += ["", "Text sources: `salesnb validate` (load and check) on a CSV copy of the sample, dates as text "
                      f"({CSV_DATE_FORMAT!r}), against the Parquet load of one report:", "",
                  "| order lines | CSV size | `salesnb validate` on the CSV | Parquet load + validate (in `salesnb run`) |",
                  "|---|---|---|---|"]
        for size, c in csv_rows:
            pq = ((results["sizes"].get(size) or {}).get("run_stages") or {}).get("load_data")
            lines.append(f"| {size} | {c.get('bytes', 0) / 1e6:,.0f} MB | {_t(c)}, {_m(c)} | "
                         f"{'—' if pq is None else f'{pq:.1f} s'} |")
    o = results.get("overheads") or {}
    if o:
        def s_(k):
            v = o.get(k)
            return "—" if v is None else (f"{v:.2f} s" if isinstance(v, float) else
                                          (f"{v['seconds']:.2f} s" if "seconds" in v else "failed"))
        lines += ["", "Fixed costs (median of 3): "
                  f"Python + `import salesnb.cli` {s_('python_import_salesnb_cli')}; findings/metrics/Ibis/DuckDB "
                  f"imports {s_('python_import_findings_metrics')}; `import rfc3987_syntax` (pulled in by "
                  f"jsonschema when jupyterlab's deps are installed) {s_('python_import_rfc3987_syntax')}; a Jupyter "
                  f"kernel start {s_('kernel_start_s')} + notebook imports {s_('kernel_import_notebook_libs_s')}; "
                  f"papermill CLI on a one-cell notebook {s_('papermill_cli_empty_notebook')}; nbconvert CLI to "
                  f"HTML {s_('nbconvert_cli_html_empty_notebook')}."]
    t = results.get("targets") or []
    if t:
        lines += ["", "Targets:", ""]
        for item in t:
            lines.append(f"- {'met' if item['met'] else 'NOT met'}: {item['target']} (measured {item['value']})")
    loads = [x for sizes in _shapes(results).values() for s in sizes.values() for part in ("findings", "run", "handwritten", "batch")
             for x in (s.get(part) or {}).get("load", [])]
    if loads:
        # the load at a run's start still counts the benchmark's own previous run (runs follow
        # each other), so only a quietest start that was busy says other work ran
        lines += ["", f"1-minute load average at the start of the runs: {min(loads):.1f}–{max(loads):.1f} on "
                      f"{m['cpu_count']} cores (it counts the benchmark's own previous run)."]
        if min(loads) > (m["cpu_count"] or 1) * 0.5:
            lines += ["", "Note: other work ran on the machine during these measurements (even the quietest "
                          "start was busy); the times are slower than an idle machine gives, for salesnb and "
                          "the hand-written notebook alike."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also 100M order lines")
    ap.add_argument("--big-runs", type=int, default=3, help="runs at 100M order lines (default 3: the median of 3)")
    ap.add_argument("--sizes", help="comma-separated subset of 1M,10M,100M")
    ap.add_argument("--shapes", default=",".join(SHAPES),
                    help=f"comma-separated data shapes (default: all; 100M only for sample): {','.join(SHAPES)}")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parts", default="probe,findings,run,batch,hand,csv,overheads",
                    help="what to measure (default: all): probe,findings,run,batch,hand,csv,overheads")
    ap.add_argument("--csv-sizes", default="1M,10M", help="sizes whose CSV copy is loaded (part csv)")
    ap.add_argument("--batch-sizes", default="10M")
    ap.add_argument("--batch-runs", type=int, default=0,
                    help="runs of the batch (default: as --runs up to 10M lines, 1 above: it takes minutes)")
    ap.add_argument("--hand-max-rows", type=int, default=30_000_000,
                    help="skip the hand-written pandas notebook above this many rows (it needs ~3.3 GB per 10M)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit for the params (default: 2500MB at 100M only)")
    ap.add_argument("--pdf", action="store_true", help="one extra `salesnb run --pdf` per size")
    ap.add_argument("--merge", action="store_true", help="update results.json instead of replacing it")
    ap.add_argument("--pythonpath", help="measure the salesnb package in this folder (a working copy with changes) "
                                         "instead of the installed one")
    ap.add_argument("--results", default="results", help="base name of the results files (default: results)")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the Markdown from the results JSON")
    ap.add_argument("--probe", nargs=2, metavar=("PARAMS", "PERIOD"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(*args.probe), default=str))
        return 0
    if args.report_only:
        results = json.loads((BENCH / f"{args.results}.json").read_text())
        results["targets"] = targets(results)
        text = markdown(results)
        (BENCH / f"{args.results}.md").write_text(text, encoding="utf-8")
        print(text)
        return 0
    args.parts = set(args.parts.split(","))
    args.batch_sizes = set(args.batch_sizes.split(","))
    args.csv_sizes = set(args.csv_sizes.split(","))
    sizes = args.sizes.split(",") if args.sizes else (["1M", "10M"] + (["100M"] if args.big else []))
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONWARNINGS", "ignore")
    code = "installed salesnb"
    if args.pythonpath:
        env["PYTHONPATH"] = str(Path(args.pythonpath).resolve())
        code = f"salesnb from {env['PYTHONPATH']}"
    results_path = BENCH / f"{args.results}.json"
    results = {"machine": machine(), "period": PERIOD, "code": code, "sizes": {}, "shapes": {}}
    if args.merge and results_path.exists():
        old = json.loads(results_path.read_text())
        results["sizes"] = old.get("sizes", {})
        results["shapes"] = old.get("shapes", {})
        results["overheads"] = old.get("overheads", {})
        results["csv_load"] = old.get("csv_load", {})
    for shape in args.shapes.split(","):
        where = results["sizes"] if shape == "sample" else results["shapes"].setdefault(shape, {})
        for size in sizes:
            if size == "100M" and shape != "sample":
                continue
            runs = args.big_runs if size == "100M" else args.runs
            where[size] = bench_size(size, runs, args, env, where.get(size) if args.merge else None, shape)
            results["targets"] = targets(results)
            results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if "csv" in args.parts:
        results.setdefault("csv_load", {})
        for size in sizes:
            if size in args.csv_sizes:
                print(f"\n== {size} CSV load ==", flush=True)
                results["csv_load"][size] = bench_csv(size, args.runs, env)
    if "overheads" in args.parts or not results.get("overheads"):
        print("\n== fixed costs ==", flush=True)
        results["overheads"] = overheads(env)
    results["sizes"] = {k: results["sizes"][k] for k in SIZES if k in results["sizes"]}
    results["shapes"] = {sh: {k: v[k] for k in SIZES if k in v} for sh, v in results["shapes"].items()}
    results["targets"] = targets(results)
    results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    text = markdown(results)
    (BENCH / f"{args.results}.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
