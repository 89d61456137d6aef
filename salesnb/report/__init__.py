"""Reports: findings once → notebooks (papermill) → one self-contained ``report.html``.

``run_report(params, period=…)`` builds the findings once, saves them into a temporary run
folder, executes the notebooks there (in parallel; they load the saved findings through their
``run_dir`` parameter, ``".."`` from their own folder, so a published or kept notebook still finds
them), assembles ``report.html`` (and ``report.pdf`` with Chromium), and only
then moves the finished folder into place. ``run_batch`` does that for many periods (and
``--by`` dimension values) from one loaded dataset and writes an ``index.html``.

Layout under ``OUT/<name>/`` (``OUT`` defaults to ``reports/``)::

    <period>/                     a finished report (replaced as a whole, atomically)
        report.html               the report: self-contained, no code, no external requests
        report.pdf                with --pdf
        findings.json, tables/    the findings the report was rendered from
        notebooks/*.ipynb         the executed notebooks
    <period>.failed/              the last failed run of that period: findings.json, tables/,
        notebooks/*.ipynb         the executed notebooks (the failing one shows its error),
        error.txt                 and the one-line reason; removed by the next good run
    <period>.lock                 while a run writes that period (holds the pid)
    .tmp-<period>-<hex>/          while a run works (never left behind)
    <dim>=<value>/<period>/…      batch --by: the same layout one level down
    index.html                    batch: every report of the batch, with its KPIs

A failed run never touches ``<period>/``: the old report stays byte-identical.
"""
from __future__ import annotations

from .batch import BatchResult, run_batch
from .run import run_report

__all__ = ["run_report", "run_batch", "BatchResult"]
