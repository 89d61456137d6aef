"""salesnb: sales-performance reports from sales transactions.

Public API (what analysts use in a notebook or a script)::

    import salesnb
    sb = salesnb.open("params/acme.yaml")           # explore: DataFrames out (see salesnb.explore)
    sb.filter(region="West").breakdown("category", "2024Q3")
    config = salesnb.load_config("params/acme.yaml")
    findings = salesnb.build_findings(config, "2024Q3")
    path = salesnb.run_report("params/acme.yaml", period="2024Q3")

``help(salesnb.open)``, ``help(salesnb.build_findings)`` and the others describe each argument.
"""
import typing as _typing  # noqa: F401 - imported before any of salesnb's threads, see below
import warnings as _warnings

# salesnb imports in background threads (the findings' modules while the data loads, jupyter_client
# while kernels start). dataclasses looks ``typing`` up in sys.modules without the import lock: a
# dataclass defined while another thread is still importing typing for the first time fails with
# "partially initialized module 'typing' has no attribute 'ClassVar'" (seen once in a batch run).
# Imported here, typing is complete before any thread starts.

# Ibis 12 on pandas 3 / duckdb 1.5 emits deprecation notices on every query; they are not the
# analyst's business and would show up as stderr in executed notebooks.
for _category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
    _warnings.filterwarnings("ignore", category=_category, module=r"ibis(\.|$)")

from .config import Config, load_config
from .data import Dataset, DataQuality
from .errors import SalesnbError
from .explore import Explorer, open  # noqa: A004 - salesnb.open(params) is the exploration entry point
from .findings import SECTIONS, Findings
from .version import __version__


def load_data(config) -> Dataset:
    """Load a params file's data into the canonical ``sales`` table and check it (SPEC 2.2, 2.3).

    Parameters
    ----------
    config : Config or str or Path
        A loaded :class:`Config`, or a params file (read with :func:`load_config`).

    Returns
    -------
    Dataset
        ``dataset.table`` (an Ibis table), ``dataset.quality`` (rows read, used and dropped, and
        why) and ``dataset.sql("SELECT … FROM sales")`` for a pandas frame. Close it when done
        (``dataset.close()`` or ``with load_data(config) as dataset:``).

    Raises
    ------
    SalesnbError
        Unreadable data or a column mapping that does not fit; the message says what to do.
    """
    from .data import load_data as _load
    if not isinstance(config, Config):
        config = load_config(config)
    return _load(config)


def build_findings(config, period=None, *, dataset=None, progress=None, sections=SECTIONS, cache=False):
    """Compute the findings of one period: every number the report shows (SPEC 5).

    Parameters
    ----------
    config : Config or str or Path
        A loaded :class:`Config`, or a params file.
    period : str, optional
        ``2024Q3``, ``2024-07``, ``2024``, ``2023Q3..2024Q3`` or ``all``. Default: the params'
        ``period``, else the quarter of the data's last date.
    dataset : Dataset, optional
        Data already loaded with :func:`load_data` (left open). Default: loaded and closed here.
    progress : callable, optional
        Called with a short message before each step.
    sections : sequence of str
        Which of ``revenue``, ``customers``, ``recommendations`` to compute (``revenue`` always is).
    cache : bool
        Use the on-disk findings cache (``.cache/salesnb/`` in the project, or ``$SALESNB_CACHE``),
        keyed by the source files' fingerprint, the params, the period and the salesnb version.

    Returns
    -------
    Findings
        ``findings.data``: the JSON-ready dict (``period``, ``revenue``, ``customers``,
        ``recommendations``, ``data``, ``method``); ``findings.tables``: small pandas frames.
        Typing ``findings`` shows a short KPI summary.

    Examples
    --------
    >>> f = salesnb.build_findings("params/sample.yaml", "2024Q3", sections=("revenue",))  # doctest: +SKIP
    >>> f["revenue"]["total"], f["revenue"]["change"]["total"]["vs_previous_pct"]          # doctest: +SKIP
    """
    from .findings import build_findings as _build
    return _build(config, period, dataset=dataset, progress=progress, sections=sections, cache=cache)


def run_report(params, period=None, *, out=None, pdf=False, timeout=1800, progress=None, notebooks=None,
               workers=2, warm_kernels=True):
    """Write one report: ``OUT/<name>/<period>/report.html`` (and ``report.pdf`` with ``pdf``).

    Parameters
    ----------
    params : str, Path or Config
        The params file (or a Config loaded from one).
    period : str, optional
        As in :func:`build_findings`.
    out : str or Path, optional
        The reports folder (default ``reports/`` in the project).
    pdf : bool
        Also write ``report.pdf`` (needs Chromium).
    timeout : int or None
        Seconds a notebook cell may run before the report fails.
    progress : callable, optional
        Called with a short message before each step.
    notebooks : str or Path, optional
        The folder of the notebooks (default: the kit's ``notebooks/``).
    workers : int
        Notebooks run at a time.
    warm_kernels : bool
        Start a pool of kernels once the findings are built (faster on small machines).

    Returns
    -------
    Path
        The written ``report.html``. The findings are built once and the notebooks read them.
    """
    from .report import run_report as _run
    return _run(params, period=period, out=out, pdf=pdf, timeout=timeout, progress=progress,
                notebooks=notebooks, workers=workers, warm_kernels=warm_kernels)


def run_batch(params, periods, *, by=None, jobs=2, out=None, pdf=False, timeout=1800, progress=None,
              notebooks=None, workers=None, warm_kernels=True):
    """Write one report per period of ``periods`` (and per value of ``by``) and an index page.

    Parameters
    ----------
    params : str, Path or Config
        The params file.
    periods : str
        A range such as ``2023Q3..2024Q3`` (or one period).
    by : str, optional
        A dimension (``region``, …): also one report per value.
    jobs : int
        Reports written at a time.
    out, pdf, timeout, progress, notebooks, workers, warm_kernels
        As in :func:`run_report`.

    Returns
    -------
    BatchResult
        ``index_path`` (``OUT/<name>/index.html``), ``reports``, ``failures`` and ``timings``.
    """
    from .report import run_batch as _batch
    return _batch(params, periods=periods, by=by, jobs=jobs, out=out, pdf=pdf, timeout=timeout,
                  progress=progress, notebooks=notebooks, workers=workers, warm_kernels=warm_kernels)


__all__ = ["Config", "load_config", "Dataset", "DataQuality", "load_data", "build_findings", "open", "Explorer",
           "run_report", "run_batch", "SalesnbError", "SECTIONS", "Findings", "__version__"]
