"""Findings computed two ways (two engines, two source shapes) compared key for key."""
from __future__ import annotations

import math


def assert_same(a, b, path="findings"):
    """Equal findings: money and every other float to the cent (0.005, or 1e-9 relative), all else
    exactly; ``path`` names the first key that differs."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{path}: keys differ: {sorted(set(a) ^ set(b))}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif (isinstance(a, float) or isinstance(b, float)) and not isinstance(a, str) and not isinstance(b, str):
        assert a is not None and b is not None, f"{path}: {a!r} vs {b!r}"
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=0.005), f"{path}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"
