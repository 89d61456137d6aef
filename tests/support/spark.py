"""Whether the Spark tests can run here: PySpark installed and a Java it can start."""
from __future__ import annotations

import os
import shutil

import pytest


def spark_missing() -> str | None:
    """Why PySpark cannot run on this machine, or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'salesnb[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed (PySpark needs Java 17)"
    return None


def skip_without_spark() -> None:
    """Skip the calling test (or fixture), with the reason, when PySpark cannot run."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
