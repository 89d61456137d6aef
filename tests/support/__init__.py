"""Helpers shared by several test modules. Not a test module: pytest collects only ``test_*.py``.

Test modules import from here (``from support.paths import SHARED_DATA``), never from each other
nor from ``conftest``; fixtures live in ``tests/conftest.py``. ``tests/`` is on ``sys.path``
through ``pythonpath`` in pyproject.toml.
"""
