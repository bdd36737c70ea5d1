"""Shared helpers for the propagation models: the range check (:func:`simulator._checks.
check_range`, as ``check_range(name, value, low, high, unit)``) and out-of-range policy."""

from __future__ import annotations

import numpy as np

from ..._checks import check_range  # the package's one range check (NaN propagates)

#: Speed of light in vacuum [m/s] (exact, SI).
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0

OUT_OF_RANGE_POLICIES = ("extrapolate", "nan", "raise")

__all__ = ["SPEED_OF_LIGHT_M_PER_S", "OUT_OF_RANGE_POLICIES", "apply_distance_policy",
           "check_range"]


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
