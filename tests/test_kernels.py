"""Warm kernels (salesnb.kernels): a pooled kernel gives each notebook a fresh namespace, its own
working folder and execution counts from 1; a kernel whose notebook failed is replaced; reports
made on warm kernels are the same as on papermill's own."""
from __future__ import annotations

import nbformat
import pytest

from salesnb.kernels import KernelPool
from salesnb.report import NotebookFailed, execute_notebook
from test_report import _notebook, tiny_params  # tests/ is on sys.path


def _outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream") for c in code]
    return [c.execution_count for c in code], texts


def test_a_reused_kernel_starts_each_notebook_afresh(tmp_path):
    first = _notebook(tmp_path / "first.ipynb", "leaked = 41\nimport os\nos.chdir('/')\nimport matplotlib\nmatplotlib.rcParams['axes.grid'] = True")
    second = _notebook(tmp_path / "second.ipynb",
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


def test_a_failed_notebook_does_not_reuse_its_kernel(tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb", "raise ValueError('broken on purpose')")
    good = _notebook(tmp_path / "good.ipynb", "import os\nprint(os.getpid())")
    with KernelPool(1) as pool:
        _notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())")
        execute_notebook("pid", tmp_path / "pid.ipynb", tmp_path / "pid.out.ipynb", {}, 60, tmp_path, kernels=pool)
        with pytest.raises(NotebookFailed, match=r"bad\.ipynb failed \(cell \[\d+\]\): ValueError: broken on purpose"):
            execute_notebook("bad", bad, tmp_path / "bad.out.ipynb", {}, 60, tmp_path, kernels=pool)
        execute_notebook("good", good, tmp_path / "good.out.ipynb", {}, 60, tmp_path, kernels=pool)
    before = _outputs(tmp_path / "pid.out.ipynb")[1][1].strip()
    after = _outputs(tmp_path / "good.out.ipynb")[1][1].strip()
    assert before.isdigit() and after.isdigit() and before != after, "a new kernel took the failed one's place"


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
