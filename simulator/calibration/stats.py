"""Error statistics a planner can quote: overall and split by distance, transmitter, line
of sight, route type and clutter class. Pure functions of arrays.

Errors are predicted minus measured [dB]; censored samples (below the receiver floor, value
unknown) are never in these statistics, they are counted apart.
"""

from __future__ import annotations

import numpy as np

#: Distance bands of the split [m].
DISTANCE_BANDS_M = (0.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, np.inf)


def error_stats(error_db, predicted=None, measured=None) -> dict:
    """Count, mean error, RMSE, standard deviation, MAE, median, 90th percentile
    and the Pearson correlation of predicted with measured (``p90_abs_error_db``:
    the 90th percentile of the absolute error).

    Parameters
    ----------
    error_db : array_like
        Predicted minus measured [dB]; NaN entries are ignored.
    predicted, measured : array_like, optional
        For the correlation (None when not given, fewer than 3 points or no spread).

    Returns
    -------
    dict
        ``n``, ``mean_error_db``, ``rmse_db``, ``std_db`` (population, about the mean),
        ``mae_db``, ``median_error_db``, ``p90_abs_error_db`` (of the absolute error),
        ``correlation``; the
        values are None for n = 0.
    """
    e = np.asarray(error_db, float)
    ok = np.isfinite(e)
    e = e[ok]
    n = int(e.size)
    if n == 0:
        return {"n": 0, "mean_error_db": None, "rmse_db": None, "std_db": None, "mae_db": None,
                "median_error_db": None, "p90_abs_error_db": None, "correlation": None}
    corr = None
    if predicted is not None and measured is not None and n >= 3:
        p = np.asarray(predicted, float)[ok]
        m = np.asarray(measured, float)[ok]
        if np.std(p) > 0 and np.std(m) > 0:
            corr = float(np.corrcoef(p, m)[0, 1])
    return {"n": n, "mean_error_db": float(e.mean()), "rmse_db": float(np.sqrt(np.mean(e * e))),
            "std_db": float(e.std()), "mae_db": float(np.abs(e).mean()),
            "median_error_db": float(np.median(e)),
            "p90_abs_error_db": float(np.percentile(np.abs(e), 90)), "correlation": corr}


def split_stats(error_db, labels, predicted=None, measured=None) -> dict:
    """:func:`error_stats` per distinct label (labels in first-seen order)."""
    labels = np.asarray(labels)
    out = {}
    for lab in dict.fromkeys(labels.tolist()):
        sel = labels == lab
        out[str(lab)] = error_stats(np.asarray(error_db)[sel],
                                    None if predicted is None else np.asarray(predicted)[sel],
                                    None if measured is None else np.asarray(measured)[sel])
    return out


def band_labels(distance_m, bands=DISTANCE_BANDS_M) -> np.ndarray:
    """'0-500 m', '1-2 km', ... for each distance."""
    def fmt(v):
        if not np.isfinite(v):
            return "inf"
        return f"{v / 1000:g} km" if v >= 1000 else f"{v:g} m"
    d = np.asarray(distance_m, float)
    idx = np.clip(np.searchsorted(bands, d, side="right") - 1, 0, len(bands) - 2)
    names = []
    for k in range(len(bands) - 1):
        lo, hi = bands[k], bands[k + 1]
        names.append(f">= {fmt(lo)}" if not np.isfinite(hi) else f"{fmt(lo)} - {fmt(hi)}")
    return np.asarray(names, dtype=object)[idx]


def summarise(points, error_db=None) -> dict:
    """All statistics of a :class:`~simulator.calibration.points.PointTable` (observed
    samples only), with the splits that apply.

    ``error_db`` replaces the table's own error (e.g. after a correction or out of fold).
    """
    e = points.error_db if error_db is None else np.asarray(error_db, float)
    obs = ~points.censored
    pred = points.predicted if error_db is None else points.measured + e
    ee, pp, mm = e[obs], pred[obs], points.measured[obs]
    out = {"all": error_stats(ee, pp, mm)}
    bands = band_labels(points.distance_m[obs])
    order = [b for b in band_labels(np.asarray(DISTANCE_BANDS_M[:-1]) + 1e-9)
             if b in set(bands.tolist())]
    by_band = split_stats(ee, bands, pp, mm)
    out["by_distance"] = {b: by_band[b] for b in order}
    out["by_transmitter"] = split_stats(ee, points.transmitter[obs], pp, mm)
    if points.line_of_sight is not None:
        los = np.where(points.line_of_sight[obs], "line_of_sight", "obstructed")
        out["by_line_of_sight"] = split_stats(ee, los, pp, mm)
    rt = points.route_type[obs]
    if (rt != "").any():
        out["by_route_type"] = split_stats(ee, np.where(rt == "", "(none)", rt), pp, mm)
    if points.clutter_class is not None:
        out["by_clutter_class"] = split_stats(ee, points.clutter_class[obs], pp, mm)
    return out
