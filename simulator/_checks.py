"""Argument checks shared by the model modules: :func:`check_range` (economics, adoption,
power, the propagation models through :mod:`simulator.radio.propagation._common`, antenna
patterns, building entry loss), whole-year horizons.

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


def check_range(name: str, value, lo: float | None = None, hi: float | None = None,
                unit: str = "", *, lo_open: bool = False, hi_open: bool = False,
                finite: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 array; raise ValueError if any value is outside.

    The one range check of the package (economics, propagation models, antenna patterns,
    building entry loss). Bounds are closed unless ``lo_open`` / ``hi_open``; None is
    unbounded. NaN elements pass (they propagate) unless ``finite``, which also refuses
    infinities; otherwise infinities are compared with the bounds like any value.

    The message names the parameter, the first bad value and the allowed range, e.g.
    ``frequency_mhz=20 MHz is outside the allowed range [80, 100000] MHz``.
    """
    arr = as_float(name, value)
    nan = np.isnan(arr)
    bad = nan.copy() if finite else np.zeros(arr.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        if finite:
            bad |= np.isinf(arr)
        if lo is not None:
            bad |= (arr <= lo) if lo_open else (arr < lo)
        if hi is not None:
            bad |= (arr >= hi) if hi_open else (arr > hi)
    bad &= ~nan | finite
    if bad.any():
        first = float(arr[bad].flat[0])
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        u = f" {unit}" if unit else ""
        raise ValueError(f"{name}={first:g}{u} is outside the allowed range "
                         f"{left}{lo_s}, {hi_s}{right}{u}")
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
