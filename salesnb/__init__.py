"""salesnb: sales-performance reports from sales transactions.

Public API (what analysts use in a notebook)::

    import salesnb
    config = salesnb.load_config("params/acme.yaml")
    dataset = salesnb.load_data(config)
    findings = salesnb.build_findings(config, "2024Q3")
    path = salesnb.run_report("params/acme.yaml", period="2024Q3")
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
from .data import Dataset, DataQuality, load_data
from .errors import SalesnbError

__version__ = "0.1.0"


def build_findings(config, period=None, **kwargs):
    from .findings import build_findings as _build
    return _build(config, period, **kwargs)


def run_report(params, period=None, **kwargs):
    from .report import run_report as _run
    return _run(params, period=period, **kwargs)


def run_batch(params, periods, **kwargs):
    from .report import run_batch as _batch
    return _batch(params, periods=periods, **kwargs)


__all__ = ["Config", "load_config", "Dataset", "DataQuality", "load_data", "build_findings",
           "run_report", "run_batch", "SalesnbError", "__version__"]
