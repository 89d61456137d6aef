"""Warm kernels (salesnb.report.kernels): a pooled kernel gives each notebook a fresh namespace, its own
working folder and execution counts from 1; a kernel whose notebook failed is replaced; reports
made on warm kernels are the same as on papermill's own."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from salesnb import paths
from salesnb.report.kernels import KernelPool
from salesnb.report.execute import NotebookFailed, execute_notebook
from support.notebooks import throwaway_notebook, tiny_params


def _outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream") for c in code]
    return [c.execution_count for c in code], texts


@pytest.mark.slow
def test_a_reused_kernel_starts_each_notebook_afresh(tmp_path):
    first = throwaway_notebook(tmp_path / "first.ipynb", "leaked = 41\nimport os\nos.chdir('/')\nimport matplotlib\nmatplotlib.rcParams['axes.grid'] = True")
    second = throwaway_notebook(tmp_path / "second.ipynb",
                       "import os\nprint(os.getcwd())",
                       "print('leaked' in globals(), 'plt' in globals())",
                       "import matplotlib\nprint(matplotlib.rcParams['axes.grid'])")
    where = [tmp_path / "a", tmp_path / "b"]
    for w in where:
        w.mkdir()
    with KernelPool(1) as pool:
        execute_notebook("first", first, tmp_path / "a" / "out.ipynb", {}, 60, where[0], kernels=pool)
        execute_notebook("second", second, tmp_path / "b" / "out.ipynb", {}, 60, where[1], kernels=pool)
        assert len(pool._all) == 1, "one kernel ran both notebooks"
    counts, texts = _outputs(tmp_path / "b" / "out.ipynb")
    assert counts == [1, 2, 3, 4], "execution counts start again at 1 (the parameters cell is 1)"
    assert texts[1].strip() == str(where[1]), "the notebook runs in its own folder, not where the last one left"
    assert texts[2].split() == ["False", "False"], "no variable of the previous notebook is left"
    assert texts[3].strip() == "False", "matplotlib settings are the kernel's own, not a notebook's"


@pytest.mark.slow
def test_a_failed_notebook_does_not_reuse_its_kernel(tmp_path):
    bad = throwaway_notebook(tmp_path / "bad.ipynb", "raise ValueError('broken on purpose')")
    good = throwaway_notebook(tmp_path / "good.ipynb", "import os\nprint(os.getpid())")
    with KernelPool(1) as pool:
        throwaway_notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())")
        execute_notebook("pid", tmp_path / "pid.ipynb", tmp_path / "pid.out.ipynb", {}, 60, tmp_path, kernels=pool)
        with pytest.raises(NotebookFailed, match=r"bad\.ipynb failed \(cell \[\d+\]\): ValueError: broken on purpose"):
            execute_notebook("bad", bad, tmp_path / "bad.out.ipynb", {}, 60, tmp_path, kernels=pool)
        execute_notebook("good", good, tmp_path / "good.out.ipynb", {}, 60, tmp_path, kernels=pool)
    before = _outputs(tmp_path / "pid.out.ipynb")[1][1].strip()
    after = _outputs(tmp_path / "good.out.ipynb")[1][1].strip()
    assert before.isdigit() and after.isdigit() and before != after, "a new kernel took the failed one's place"


@pytest.mark.slow
def test_batch_reports_on_warm_kernels_equal_those_on_fresh_ones(tmp_path):
    from salesnb.report import run_batch
    params = tiny_params(tmp_path)
    warm = run_batch(params, "2023Q3..2023Q4", out=tmp_path / "warm", warm_kernels=True)
    cold = run_batch(params, "2023Q3..2023Q4", out=tmp_path / "cold", warm_kernels=False)
    assert not warm.failures and not cold.failures
    assert len(warm.reports) == len(cold.reports) == 2

    def shape(nb_path):
        nb = nbformat.read(str(nb_path), as_version=4)
        return [(c.execution_count, [(o.output_type, sorted(o.get("data", {})), o.get("text", ""))
                                     for o in c.outputs]) for c in nb.cells if c.cell_type == "code"]

    for w, c in zip(warm.reports, cold.reports):
        for name in ("revenue", "customers", "recommendations"):
            assert shape(w.parent / "notebooks" / f"{name}.ipynb") == shape(c.parent / "notebooks" / f"{name}.ipynb")
        assert len(w.read_text()) == len(c.read_text())


@pytest.mark.slow
def test_pooled_kernels_talk_over_their_own_unix_sockets(tmp_path):
    # TCP ports are picked free, closed and bound by the kernel a moment later: a kernel started
    # meanwhile can take one and the other dies ("Kernel died before replying to kernel_info",
    # seen once in a 10M batch). Socket files in a folder of each kernel's own cannot clash.
    nb = throwaway_notebook(tmp_path / "n.ipynb", "print(6 * 7)")
    with KernelPool(2) as pool:
        for i in range(2):
            execute_notebook("n", nb, tmp_path / f"out{i}.ipynb", {}, 60, tmp_path, kernels=pool)
        kernels = list(pool._all)
        assert kernels and all(k.km.transport == "ipc" for k in kernels)
        folders = {k.socket_dir for k in kernels}
        assert len(folders) == len(kernels) and all(f.is_dir() for f in folders)
    assert not any(f.exists() for f in folders), "the socket folders go with their kernels"
    assert _outputs(tmp_path / "out1.ipynb")[1][1].strip() == "42"


def _dying_kernelspec(tmp_path, monkeypatch):
    import json
    import sys
    spec = tmp_path / "jupyter" / "kernels" / "dying"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; sys.stderr.write('boom on purpose\\n'); sys.exit(3)",
                 "{connection_file}"],
        "display_name": "dies at once", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))


@pytest.mark.slow
def test_a_kernel_that_dies_while_starting_is_tried_again_then_says_what_it_wrote(tmp_path, monkeypatch):
    from salesnb.report import kernels
    _dying_kernelspec(tmp_path, monkeypatch)
    calls = []
    real = kernels._start_kernel_once

    def counted(*a, **kw):
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(kernels, "_start_kernel_once", counted)
    with pytest.raises(kernels.KernelDied, match=r"dying kernel did not start.*kernel said: boom on purpose"):
        kernels.start_kernel("dying", warm_code="x = 1")
    assert len(calls) == kernels.START_ATTEMPTS == 3


def test_a_kernel_that_died_once_is_started_again(tmp_path, monkeypatch):
    from salesnb.report import kernels
    real = kernels._start_kernel_once
    calls = []

    def flaky(*a, **kw):
        calls.append(a)
        if len(calls) == 1:
            raise kernels.KernelDied("the python3 kernel did not start (RuntimeError: Kernel died before replying "
                                     "to kernel_info)")
        return real(*a, **kw)

    monkeypatch.setattr(kernels, "_start_kernel_once", flaky)
    kernel = kernels.start_kernel("python3", warm_code="x = 1")
    try:
        from jupyter_core.utils import run_sync
        assert len(calls) == 2 and run_sync(kernel.km.is_alive)()
    finally:
        kernel.shutdown()


def test_warm_up_code_that_fails_is_not_tried_again(monkeypatch):
    from salesnb.report import kernels
    real = kernels._start_kernel_once
    calls = []

    def counted(*a, **kw):
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(kernels, "_start_kernel_once", counted)
    with pytest.raises(kernels.KernelStartError, match="ModuleNotFoundError") as info:
        kernels.start_kernel("python3", warm_code="import no_such_module_salesnb")
    assert not isinstance(info.value, kernels.KernelDied) and len(calls) == 1


def _finished_pid() -> int:
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_socket_folders_of_a_killed_run_are_swept_and_live_ones_kept(tmp_path):
    # a run killed with SIGKILL cannot remove its kernels' socket folders; the next run does
    import os
    import time
    from salesnb.report import kernels

    def folder(name, owner=None, age=0.0):
        f = tmp_path / (kernels.SOCKET_PREFIX + name)
        f.mkdir()
        (f / "k-1").write_text("")
        if owner is not None:
            (f / paths.OWNER_FILE).write_text(str(owner))
        if age:
            past = time.time() - age
            os.utime(f, (past, past))
        return f

    dead = folder("dead", owner=_finished_pid())
    alive = folder("alive", owner=os.getpid())
    old_unowned = folder("old", age=paths.UNOWNED_AGE + 60)
    new_unowned = folder("new")          # made a moment ago, owner not written yet
    garbled = folder("garbled", owner="not a pid")
    other = tmp_path / "someone-else"
    other.mkdir()

    removed = paths.sweep_temp_folders(tmp_path)
    assert sorted(removed) == sorted([dead, old_unowned])
    assert not dead.exists() and not old_unowned.exists()
    assert alive.is_dir() and new_unowned.is_dir() and garbled.is_dir() and other.is_dir()


def test_a_started_kernel_names_its_owner_and_sweeps_stale_folders(tmp_path, monkeypatch):
    import os
    import tempfile
    from salesnb.report import kernels
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / (kernels.SOCKET_PREFIX + "stale")
    stale.mkdir()
    (stale / paths.OWNER_FILE).write_text(str(_finished_pid()))
    kernel = kernels.start_kernel("python3", warm_code="")
    try:
        assert not stale.exists()
        assert kernel.socket_dir.parent == tmp_path
        assert (kernel.socket_dir / paths.OWNER_FILE).read_text() == str(os.getpid())
    finally:
        kernel.shutdown()
    assert not kernel.socket_dir.exists()


def test_a_kernel_manager_that_cannot_be_made_leaves_no_folder_behind(tmp_path, monkeypatch):
    import tempfile
    from salesnb.report import kernels
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(log_path):
        def make(**kw):
            raise RuntimeError("no kernel manager on purpose")
        return make

    monkeypatch.setattr(kernels, "_manager_class", broken)
    with pytest.raises(RuntimeError, match="on purpose"):
        kernels.start_kernel("python3", warm_code="")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_kernel_papermill_starts_itself_talks_over_unix_sockets_too(tmp_path, monkeypatch):
    # without the pool (warm_kernels=False) nbclient makes the kernel manager: it gets a socket
    # folder of its own as well, removed when the notebook is done
    import tempfile
    from salesnb.report import kernels
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    nb = throwaway_notebook(tmp_path / "n.ipynb", "from ipykernel.kernelapp import IPKernelApp\n"
                                         "app = IPKernelApp.instance()\nprint(app.transport, app.ip)")
    execute_notebook("n", nb, tmp_path / "out.ipynb", {}, 60, tmp_path)
    transport, ip = _outputs(tmp_path / "out.ipynb")[1][1].split()
    assert transport == "ipc"
    assert Path(ip).parent.name.startswith(kernels.SOCKET_PREFIX) and Path(ip).parent.parent == tmp_path / "tmp"
    assert not Path(ip).parent.exists()
    assert list((tmp_path / "tmp").iterdir()) == []
