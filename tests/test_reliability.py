"""Reliability (SPEC 6, 7): a killed run leaves the previous report intact, a dying kernel is
reported rather than hung on, and a run never writes outside its output folder."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from salesnb.errors import ReportError
from test_report import _notebook, _tree, tiny_params  # tests/ is on sys.path


def _quick_notebooks(folder: Path) -> Path:
    _notebook(folder / "revenue.ipynb", "from IPython.display import Markdown, display\ndisplay(Markdown('good body'))")
    return folder


def test_sigkill_midway_leaves_the_previous_report_intact(tmp_path):
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    out = tmp_path / "out"
    good = run_report(params, out=out, notebooks=_quick_notebooks(tmp_path / "quick"))
    folder = good.parent
    before = _tree(folder)

    slow = tmp_path / "slow"
    _notebook(slow / "revenue.ipynb", "import time\ntime.sleep(120)")
    script = (f"from salesnb.report import run_report\n"
              f"run_report({str(params)!r}, out={str(out)!r}, notebooks={str(slow)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # wait until the run is executing its notebook inside its temporary folder
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            tmp = [p for p in (out / "tiny").iterdir() if p.name.startswith(".tmp-")]
            if tmp and (tmp[0] / "findings.json").exists() and (tmp[0] / "notebooks").exists():
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run never reached its notebooks")
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its kernel, with no chance to clean up
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert _tree(folder) == before, "the previous report is byte-identical after the kill"
    sockets = _socket_folders_of(proc.pid)
    assert sockets, "the killed run's kernels leave their socket folders behind"
    # the next run takes over the dead run's lock and temporary folder and succeeds
    again = run_report(params, out=out, notebooks=_quick_notebooks(tmp_path / "quick"))
    assert again == good and b"good body" in again.read_bytes()
    leftovers = sorted(p.name for p in (out / "tiny").iterdir())
    assert leftovers == ["2023Q4"], leftovers
    assert not any(f.exists() for f in sockets), "the next run sweeps the dead run's socket folders"


def _socket_folders_of(pid: int) -> list[Path]:
    import tempfile
    from salesnb import kernels
    found = []
    for f in Path(tempfile.gettempdir()).glob(kernels.SOCKET_PREFIX + "*"):
        try:
            if kernels.folder_owner(f) == pid:
                found.append(f)
        except (OSError, ValueError):
            pass
    return found


def test_a_kernel_that_dies_is_reported_not_hung_on(tmp_path):
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    nbs = tmp_path / "nbs"
    _notebook(nbs / "revenue.ipynb", "import os\nos._exit(1)")
    start = time.monotonic()
    with pytest.raises(ReportError) as info:
        run_report(params, out=tmp_path / "out", notebooks=nbs, timeout=120)
    assert time.monotonic() - start < 100
    message = str(info.value)
    assert "revenue.ipynb" in message and "kernel died" in message
    assert not (tmp_path / "out" / "tiny" / "2023Q4").exists()


def test_nothing_is_written_outside_the_output_folder(tmp_path):
    from salesnb.report import run_report
    params = tiny_params(tmp_path)
    notebooks = _quick_notebooks(tmp_path / "quick")
    before = sorted(p.name for p in tmp_path.iterdir())
    run_report(params, out=tmp_path / "out", notebooks=notebooks)
    after = sorted(p.name for p in tmp_path.iterdir())
    assert set(after) - set(before) == {"out"}
