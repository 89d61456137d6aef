"""Strip outputs and execution counts from notebooks/*.ipynb (kept under version control clean)."""
import sys
from pathlib import Path

import nbformat


def strip(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.outputs or cell.execution_count is not None:
                changed = True
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "papermill"):
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    for key in ("papermill", "widgets"):
        if key in nb.metadata:
            del nb.metadata[key]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1] / "notebooks"
    paths = [Path(p) for p in sys.argv[1:]] or sorted(root.glob("*.ipynb"))
    for p in paths:
        if strip(p):
            print(f"stripped {p}")
