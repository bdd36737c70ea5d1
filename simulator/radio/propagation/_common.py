"""Shared helpers for the propagation models: range checks and out-of-range policy."""

from __future__ import annotations

import numpy as np

#: Speed of light in vacuum [m/s] (exact, SI).
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

OUT_OF_RANGE_POLICIES = ("extrapolate", "nan", "raise")


def check_range(name: str, value, low: float, high: float, unit: str) -> None:
    """Raise ValueError when any finite element of ``value`` lies outside [low, high].

    NaN elements are left for the caller (they propagate as NaN).
    """
    arr = np.asarray(value, dtype=float)
    finite = arr[np.isfinite(arr)] if arr.ndim else (arr[None] if np.isfinite(arr) else arr[None][:0])
    if finite.size and (finite.min() < low or finite.max() > high):
        bad = finite.min() if finite.min() < low else finite.max()
        raise ValueError(
            f"{name}={bad:g} {unit} is outside the model's valid range {low:g}-{high:g} {unit}"
        )


def apply_distance_policy(loss_db, distance_m, low_m: float, high_m: float, policy: str,
                          model: str):
    """Apply the out-of-range policy for distance to a computed loss array.

    ``extrapolate`` returns the formula's value unchanged; ``nan`` puts NaN outside
    [low_m, high_m]; ``raise`` raises ValueError if any distance is outside.
    """
    if policy == "extrapolate":
        return loss_db
    if policy not in OUT_OF_RANGE_POLICIES:
        raise ValueError(f"out_of_range={policy!r} is not one of {OUT_OF_RANGE_POLICIES}")
    d = np.asarray(distance_m)
    outside = (d < low_m) | (d > high_m)
    if policy == "raise":
        if np.any(outside):
            check_range(f"{model} distance_m", d, low_m, high_m, "m")
        return loss_db
    return np.where(outside, np.nan, loss_db)
