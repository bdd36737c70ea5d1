r"""Shadowing correlation distance from residual pairs.

The empirical correlogram of the residuals (per transmitter, their mean removed) in
distance bins,

.. math:: \hat\rho(h_k) = \frac{\sum_{(i,j):\,|x_i - x_j| \in k} r_i r_j}{N_k \hat\sigma^2},

is fitted by weighted least squares (weights :math:`N_k`) with Gudmundson's exponential
:math:`\rho(h) = a\,e^{-h/D}` (M. Gudmundson, "Correlation model for shadow fading in mobile
radio systems", Electronics Letters 27 (1991) 2145-2146); :math:`1 - a` is the nugget
(measurement noise and fast fading left in the samples, uncorrelated at any distance), D
the correlation distance (correlation 1/e at D, as ``propagation.decorrelation_distance_m``).
"""

from __future__ import annotations

import numpy as np

#: Pairs needed in a bin for it to enter the fit.
MIN_PAIRS_PER_BIN = 30


def residual_correlogram(x_m, y_m, residual_db, groups, *, max_lag_m: float = 1000.0,
                         n_bins: int = 20, max_pairs: int = 4_000_000) -> dict:
    """Empirical correlation of residual pairs by distance.

    Pairs are taken within each group (transmitter) only, up to ``max_lag_m`` apart
    (``scipy.spatial.cKDTree.query_pairs``); a group with more pairs than its share of
    ``max_pairs`` is thinned to every k-th sample first (deterministic).

    Returns
    -------
    dict
        ``lag_m`` (bin centres), ``correlation``, ``pairs`` (per bin, lists), ``sigma_db``.
    """
    from scipy.spatial import cKDTree

    x, y = np.asarray(x_m, float), np.asarray(y_m, float)
    r = np.asarray(residual_db, float)
    g = np.asarray(groups).astype(str)
    ok = np.isfinite(r)
    edges = np.linspace(0.0, max_lag_m, n_bins + 1)
    sums = np.zeros(n_bins)
    counts = np.zeros(n_bins, np.int64)
    centred = np.full(r.shape, np.nan)
    labels = list(dict.fromkeys(g[ok].tolist()))
    for lab in labels:
        idx = np.flatnonzero(ok & (g == lab))
        centred[idx] = r[idx] - r[idx].mean()
    var = float(np.nanmean(centred[ok] ** 2)) if ok.any() else float("nan")
    budget = max_pairs / max(len(labels), 1)
    for lab in labels:
        idx = np.flatnonzero(ok & (g == lab))
        if idx.size < 2:
            continue
        pts = np.c_[x[idx], y[idx]]
        tree = cKDTree(pts)
        pairs = tree.query_pairs(max_lag_m, output_type="ndarray")
        if len(pairs) > budget:
            step = int(np.ceil(np.sqrt(len(pairs) / budget)))
            idx = idx[::step]
            pts = pts[::step]
            pairs = cKDTree(pts).query_pairs(max_lag_m, output_type="ndarray")
        if not len(pairs):
            continue
        a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
        h = np.hypot(x[a] - x[b], y[a] - y[b])
        k = np.minimum((h / max_lag_m * n_bins).astype(np.int64), n_bins - 1)
        sums += np.bincount(k, centred[a] * centred[b], n_bins)
        counts += np.bincount(k, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(counts > 0, sums / (counts * var), np.nan)
    return {"lag_m": ((edges[:-1] + edges[1:]) / 2).tolist(), "correlation": rho.tolist(),
            "pairs": counts.tolist(), "sigma_db": float(np.sqrt(var)) if np.isfinite(var)
            else None, "max_lag_m": float(max_lag_m)}


def fit_exponential_correlation(correlogram: dict, *, max_distance_m: float = 10000.0) -> dict:
    """Fit :math:`a e^{-h/D}` to a correlogram (``scipy.optimize.curve_fit``).

    Returns
    -------
    dict
        ``correlation_distance_m`` (D), ``sill`` (a), ``nugget`` (1 - a), ``bins_used``,
        ``status`` ("fitted", "too few pairs", "no decay within the lags", "failed").
        D is None unless fitted; a D beyond ``max_distance_m`` is reported as not fitted.
    """
    from scipy.optimize import curve_fit

    h = np.asarray(correlogram["lag_m"], float)
    rho = np.asarray(correlogram["correlation"], float)
    n = np.asarray(correlogram["pairs"], float)
    use = (n >= MIN_PAIRS_PER_BIN) & np.isfinite(rho)
    out = {"correlation_distance_m": None, "sill": None, "nugget": None,
           "bins_used": int(use.sum()), "status": "too few pairs"}
    if use.sum() < 3:
        return out

    def model(hh, a, d):
        return a * np.exp(-hh / d)

    a0 = float(np.clip(rho[use][0], 0.05, 1.0))
    below = h[use][rho[use] < a0 / np.e]
    d0 = float(below[0]) if below.size else float(h[use][-1])
    try:
        (a, d), _ = curve_fit(model, h[use], rho[use], p0=(a0, max(d0, 1.0)),
                              sigma=1.0 / np.sqrt(n[use]),
                              bounds=([0.0, 1.0], [1.0, 10.0 * max_distance_m]), maxfev=10000)
    except (RuntimeError, ValueError):
        out["status"] = "failed"
        return out
    out.update(sill=float(a), nugget=float(1.0 - a))
    if d > max_distance_m:
        out["status"] = "no decay within the lags"
        return out
    out.update(correlation_distance_m=float(d), status="fitted")
    return out
