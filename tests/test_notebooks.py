"""Notebooks: stored without outputs, and they execute under papermill with no error or warning."""
from __future__ import annotations

import nbformat
import pytest
from support.paths import PARAMS, ROOT, require_shared_data

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: run `make strip`"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    for name in ("params_file", "period", "run_dir"):
        assert f"{name} = None" in tagged[0].source
    assert nb.metadata["kernelspec"]["name"] == "python3"


def _outputs_problems(nb) -> list[str]:
    problems = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"error: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"stderr: {out.text[:300]}")
            elif out.output_type == "stream" and "Warning" in out.text:
                problems.append(f"warning: {out.text[:300]}")
    return problems


CASES = [("superstore.yaml", "2017Q4"), ("online_retail.yaml", "2011Q4"), ("sample", None)]


# the sales notebooks (pipeline.ipynb reads kind: pipeline params: tests/report/test_pipeline_report.py)
SALES_NOTEBOOKS = [p for p in NOTEBOOKS if p.stem != "pipeline"]


@pytest.mark.slow
@pytest.mark.parametrize("path", SALES_NOTEBOOKS, ids=lambda p: p.name)
@pytest.mark.parametrize("params,period", CASES, ids=[c[0] for c in CASES])
def test_executes_without_errors_or_warnings(path, params, period, tmp_path):
    import papermill as pm
    if params == "sample":
        params_file = None
    else:
        require_shared_data()
        params_file = str(PARAMS / params)
    out = tmp_path / path.name
    pm.execute_notebook(str(path), str(out), parameters={"params_file": params_file, "period": period},
                        kernel_name="python3", progress_bar=False, cwd=str(ROOT / "notebooks"))
    nb = nbformat.read(out, as_version=4)
    assert _outputs_problems(nb) == []
    html_or_images = sum(1 for c in nb.cells for o in c.get("outputs", [])
                         if "image/png" in o.get("data", {}) or "text/html" in o.get("data", {}))
    assert html_or_images >= 2
