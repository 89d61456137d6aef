"""Where the test inputs are: the repository, tests/params, the vendored extracts in
tests/fixtures and the full real data sets in ../shared/data (beside the checkout, not in it)."""
from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
#: params of the full real data sets (their sources point into ../shared/data)
PARAMS = TESTS / "params"
#: small licensed extracts of the real data sets, in every clone (see tests/fixtures/README.md)
FIXTURES = TESTS / "fixtures"
#: the full real data sets, beside the repository (see shared/data/README.md)
SHARED_DATA = ROOT.parent / "shared" / "data"

_ABSENT = f"the full real data sets are not at {SHARED_DATA} (they are kept beside the checkout, not in it)"

#: skip a test or module when ../shared/data is absent
needs_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=_ABSENT)


def shared_file(*parts: str) -> Path:
    """The path of a file under ../shared/data; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is missing: {_ABSENT}" if not SHARED_DATA.is_dir() else f"{path} is missing")
    return path


def require_shared_data() -> Path:
    """Skips the calling test when ../shared/data is absent; returns its path."""
    if not SHARED_DATA.is_dir():
        pytest.skip(_ABSENT)
    return SHARED_DATA
