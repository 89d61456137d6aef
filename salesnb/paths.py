"""Paths and locations in one place (cookiecutter-data-science style).

The kit's own sample lives at ``data/sample.parquet`` (generated, never committed) and its
params file at ``params/sample.yaml``; reports go to ``reports/<name>/<period>/``.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout's root: ``$SALESNB_HOME``, else the folder above the package that holds
    ``params/``, else the current directory."""
    env = os.environ.get("SALESNB_HOME")
    if env:
        return Path(env).resolve()
    candidate = PACKAGE_DIR.parent
    if (candidate / "params").is_dir():
        return candidate
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return here


def sample_params() -> Path:
    return project_root() / "params" / "sample.yaml"


def sample_data() -> Path:
    return project_root() / "data" / "sample.parquet"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def reports_dir() -> Path:
    return project_root() / "reports"


def ensure_sample(rows: int = 200_000, seed: int = 7) -> Path:
    """Generate the sample data set when it is missing (the kit's demo and notebook defaults)."""
    path = sample_data()
    if not path.exists():
        from .data.sample import write_sample
        path.parent.mkdir(parents=True, exist_ok=True)
        write_sample(path, rows=rows, seed=seed)
    return path


def params_candidates(path) -> list[Path]:
    """Where a params path is looked for, in order: as given when absolute; else relative to the
    working folder, then to the project root (a kernel runs in ``notebooks/``, a shell in the root)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return [p]
    out = [Path.cwd() / p, project_root() / p]
    return [c for i, c in enumerate(out) if os.path.normpath(c) not in map(os.path.normpath, out[:i])]


def find_params(path) -> Path:
    """The params file ``path`` names (see :func:`params_candidates`): the first place it exists,
    or — when none — a :class:`~salesnb.errors.ConfigError` that lists every place looked."""
    from .errors import ConfigError
    candidates = params_candidates(path)
    for c in candidates:
        if c.exists():
            return c
    where = " and ".join(str(c) for c in candidates)
    raise ConfigError(f"Params file {str(path)!r} does not exist (looked for {where}).",
                      hint="check the path, or create one with: salesnb init DATAFILE")


def default_params_file(params_file=None) -> Path:
    """The params file a notebook runs on: the given one (found as :func:`find_params` does), else
    the sample's (its data generated if needed)."""
    if params_file:
        return find_params(params_file)
    ensure_sample()
    return sample_params()
