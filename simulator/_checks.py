"""Argument checks shared by the economic model modules (adoption, economics, power).

Each raises ``ValueError`` with one line naming the parameter, the value and the allowed
range, as docs/CONVENTIONS.md asks; the scenario layer turns it into a ScenarioError.
"""

from __future__ import annotations

import numpy as np


def as_float(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a number or array of numbers") from exc
    return arr


def check_range(name: str, value, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False) -> np.ndarray:
    """Return ``value`` as float64 array; raise ValueError if any non-NaN value is outside."""
    arr = as_float(name, value)
    finite = arr[~np.isnan(arr)]
    bad = np.zeros(finite.shape, dtype=bool)
    if lo is not None:
        bad |= (finite <= lo) if lo_open else (finite < lo)
    if hi is not None:
        bad |= (finite >= hi) if hi_open else (finite > hi)
    if bad.any():
        first = finite[bad].flat[0]
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ValueError(f"{name}={first:g} is outside the allowed range {left}{lo_s}, {hi_s}{right}")
    return arr


def check_horizon(horizon_years) -> int:
    if isinstance(horizon_years, bool) or not float(horizon_years).is_integer():
        raise ValueError(f"horizon_years={horizon_years!r} must be a whole number of years >= 1")
    n = int(horizon_years)
    if n < 1:
        raise ValueError(f"horizon_years={n} is outside the allowed range [1, inf)")
    return n


def scalar_or_array(arr: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    return float(arr) if np.ndim(arr) == 0 else arr


# --------------------------------------------------------------------------------------
# barriers
# --------------------------------------------------------------------------------------
