"""Figures of a comparison or calibration: ``plot_*(result, ax=None, ...) -> Axes``.

matplotlib is imported lazily; without ``ax`` each function draws on a new
:class:`matplotlib.figure.Figure` (not pyplot, so a notebook's backend is left alone).
``result`` is a :class:`~simulator.calibration.api.Comparison` or
:class:`~simulator.calibration.api.Calibration`.
"""

from __future__ import annotations

import numpy as np

from ..io.measurements import UNIT


def _axes(ax, figsize=(6.0, 5.0)):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def _parts(result):
    """(comparison, points, calibrated points or None, cv error or None)."""
    comp = getattr(result, "comparison", result)
    cal = result if comp is not result else None
    pts = comp.points
    return comp, pts, (cal.calibrated_points if cal is not None else None), \
        (cal.cv_error_db if cal is not None else None)


def _label(pts) -> str:
    names = {"rsrp": "RSRP", "rssi": "RSSI", "rx_power": "received power",
             "path_loss": "path loss"}
    return f"{names[pts.kind]} [{UNIT[pts.kind]}]"


def _stat_text(e) -> str:
    e = e[np.isfinite(e)]
    if not e.size:
        return "n = 0"
    return (f"n = {e.size}, mean {e.mean():+.1f} dB, RMSE {np.sqrt(np.mean(e * e)):.1f} dB, "
            f"std {e.std():.1f} dB")


def plot_predicted_vs_measured(result, ax=None, *, calibrated: bool = True):
    """Scatter of predicted against measured, with the 1:1 line.

    Received samples as dots (the calibrated prediction when ``result`` is a calibration
    and ``calibrated``; the scenario's own in grey beneath); censored samples, plotted at
    the receiver floor, as open triangles.
    """
    ax = _axes(ax)
    comp, pts, cal, _ = _parts(result)
    rec = ~pts.censored
    lo = float(np.nanmin(np.r_[pts.measured, pts.predicted]))
    hi = float(np.nanmax(np.r_[pts.measured, pts.predicted]))
    show = cal if (cal is not None and calibrated) else pts
    if show is not pts:
        ax.scatter(pts.measured[rec], pts.predicted[rec], s=6, c="0.75",
                   label="scenario as given: " + _stat_text(pts.error_db[rec]), rasterized=True)
    ax.scatter(show.measured[rec], show.predicted[rec], s=8, c="C0", alpha=0.7,
               label=("calibrated (in sample): " if show is not pts else "") +
               _stat_text(show.error_db[rec]), rasterized=True)
    if pts.censored.any():
        ax.scatter(show.measured[~rec], show.predicted[~rec], s=14, marker="^",
                   facecolors="none", edgecolors="C3",
                   label=f"censored (below the floor): {int((~rec).sum())}")
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="predicted = measured")
    ax.set_xlabel(f"measured {_label(pts)}")
    ax.set_ylabel(f"predicted {_label(pts)}")
    ax.set_title(f"{comp.scenario.name}: {pts.model}, predicted vs measured", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, alpha=0.3)
    return ax


def plot_error_vs_distance(result, ax=None, *, n_bins: int = 12):
    """Error (predicted - measured) against distance (log axis), with the binned mean and
    standard deviation before calibration, in sample after it and cross-validated."""
    ax = _axes(ax, (7.0, 4.5))
    comp, pts, cal, cv = _parts(result)
    rec = ~pts.censored
    d = np.maximum(pts.distance_m[rec], 1.0)
    ax.scatter(d, pts.error_db[rec], s=5, c="0.7", label="scenario as given", rasterized=True)
    edges = np.geomspace(d.min(), d.max() * 1.0001, n_bins + 1) if d.size else np.array([1, 2])
    mid = np.sqrt(edges[:-1] * edges[1:])
    series = [(pts.error_db[rec], "C0", "as given: mean +- std")]
    if cal is not None:
        series.append((cal.error_db[rec], "C1", "calibrated, in sample"))
    if cv is not None:
        series.append((cv[rec], "C2", "calibrated, cross-validated"))
    for e, colour, lab in series:
        k = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, n_bins - 1)
        mean = np.array([np.nanmean(e[k == i]) if np.any(k == i) else np.nan
                         for i in range(n_bins)])
        std = np.array([np.nanstd(e[k == i]) if np.any(k == i) else np.nan
                        for i in range(n_bins)])
        ax.errorbar(mid, mean, yerr=std, color=colour, marker="o", ms=4, capsize=3, lw=1.2,
                    label=lab)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("distance from the transmitter [m]")
    ax.set_ylabel("error, predicted - measured [dB]")
    ax.set_title(f"{comp.scenario.name}: {pts.model}, error vs distance", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_error_map(result, ax=None, *, calibrated: bool = True, limit_db: float = 20.0):
    """Map of the errors at the measurement points (grid CRS, km), transmitters marked.

    Colours are clipped at +-``limit_db``: red, the prediction too strong; blue, too weak.
    """
    ax = _axes(ax, (7.0, 6.0))
    comp, pts, cal, _ = _parts(result)
    show = cal if (cal is not None and calibrated) else pts
    rec = ~pts.censored
    x0, y0 = float(np.mean(pts.x_m)), float(np.mean(pts.y_m))
    sc = ax.scatter((pts.x_m[rec] - x0) / 1000, (pts.y_m[rec] - y0) / 1000,
                    c=show.error_db[rec], cmap="RdBu_r", vmin=-limit_db, vmax=limit_db, s=9,
                    rasterized=True)
    if pts.censored.any():
        ax.scatter((pts.x_m[~rec] - x0) / 1000, (pts.y_m[~rec] - y0) / 1000, s=12,
                   marker="x", c="0.4", lw=0.8, label="censored (not received)")
    used = set(pts.transmitter.tolist())
    tx = [(n, v) for n, v in pts.transmitters.items() if n in used]
    ax.scatter([(v["x_m"] - x0) / 1000 for _, v in tx], [(v["y_m"] - y0) / 1000 for _, v in tx],
               marker="^", s=60, c="k", label="transmitters")
    if len(tx) <= 12:
        for n, v in tx:
            ax.annotate(n, ((v["x_m"] - x0) / 1000, (v["y_m"] - y0) / 1000), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.figure.colorbar(sc, ax=ax, label="error, predicted - measured [dB]", shrink=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("east [km]")
    ax.set_ylabel("north [km]")
    what = "calibrated (in sample)" if show is not pts else "as given"
    ax.set_title(f"{comp.scenario.name}: {pts.model} errors, {what}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_correlogram(result, ax=None):
    """The residuals' empirical correlation by distance and the fitted exponential."""
    ax = _axes(ax, (6.0, 4.0))
    cg = result.correlation["correlogram"]
    fit = result.correlation["fit"]
    h = np.asarray(cg["lag_m"])
    rho = np.asarray(cg["correlation"], float)
    n = np.asarray(cg["pairs"])
    ax.scatter(h, rho, s=np.clip(n / max(n.max(), 1) * 60, 6, 60), c="C0",
               label="empirical (dot size: pairs)")
    if fit.get("correlation_distance_m"):
        hh = np.linspace(0, h.max(), 200)
        ax.plot(hh, fit["sill"] * np.exp(-hh / fit["correlation_distance_m"]), "C1",
                label=f"a exp(-h/D): D = {fit['correlation_distance_m']:.0f} m, "
                      f"nugget {fit['nugget']:.2f}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("distance between samples [m]")
    ax.set_ylabel("residual correlation")
    ax.set_title(f"residual correlogram ({fit.get('status')})", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(True, alpha=0.3)
    return ax
