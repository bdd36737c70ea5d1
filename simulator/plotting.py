"""Plots of results. Every function takes ``ax=None`` and returns the Axes.

matplotlib is imported inside the functions, so the package imports without it being
configured; tests use the Agg backend.
"""

from __future__ import annotations

import numpy as np

_STATION_STYLE = {
    "macro": dict(marker="^", color="#111111", size=140),
    "ruralstar_pro": dict(marker="*", color="#e6550d", size=190),
    "small_cell": dict(marker="s", color="#3182bd", size=70),
}
_DEFAULT_STYLE = dict(marker="D", color="#756bb1", size=80)


def _extent_km(grid):
    x0, y0, x1, y1 = grid.bounds
    return [x0 / 1000.0, x1 / 1000.0, y0 / 1000.0, y1 / 1000.0]


def _scale_bar(ax, grid, length_km=None):
    x0, y0, x1, y1 = (v / 1000.0 for v in grid.bounds)
    width = x1 - x0
    if length_km is None:
        length_km = max(1, int(round(width / 5 / 5)) * 5) if width > 25 else max(1, round(width / 5))
    import matplotlib.patheffects as pe

    halo = [pe.withStroke(linewidth=3, foreground="white")]
    bx, by = x0 + 0.04 * width, y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length_km], [by, by], color="black", lw=3, solid_capstyle="butt",
            zorder=8, path_effects=[pe.withStroke(linewidth=5, foreground="white")],
            label="_scale_bar")
    ax.text(bx + length_km / 2, by + 0.02 * (y1 - y0), f"{length_km:g} km", ha="center",
            va="bottom", fontsize=9, zorder=8, path_effects=halo)
    nx = bx + length_km + 0.05 * width
    ax.annotate("N", xy=(nx, y0 + 0.15 * (y1 - y0)), xytext=(nx, y0 + 0.04 * (y1 - y0)),
                arrowprops=dict(arrowstyle="-|>", color="black"), ha="center", fontsize=11,
                fontweight="bold", zorder=8, path_effects=halo)


def _legend_below(ax, handles, labels):
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3,
              fontsize=8, frameon=False)


#: Muted map colours of the clutter types that add a loss (and water), drawn under the
#: people and the coverage; open classes are left blank.
_CLUTTER_MAP_COLOURS = {"trees_forest": "#5f9e5a", "suburban": "#a0825f", "urban": "#8c6d4f",
                        "dense_urban": "#6e5440", "water": "#7fb2d6"}
_CLUTTER_MAP_ALPHA = 0.38


def _draw_clutter(ax, layer, ext, zorder=0.7):
    """Muted clutter underlay (obstructing classes and water); legend handles and labels."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    codes = np.asarray(layer.classes)
    present = [int(c) for c in np.unique(codes)]
    shown = [c for c in present if layer.table[c].type in _CLUTTER_MAP_COLOURS]
    if not shown:
        return [], []
    index = np.full(codes.shape, -1, np.int16)
    for k, c in enumerate(shown):
        index[codes == c] = k
    colours = [_CLUTTER_MAP_COLOURS[layer.table[c].type] for c in shown]
    ax.imshow(np.ma.masked_less(index, 0), extent=ext, origin="upper",
              cmap=ListedColormap(colours), vmin=-0.5, vmax=len(shown) - 0.5,
              alpha=_CLUTTER_MAP_ALPHA, interpolation="nearest", zorder=zorder)
    handles, labels = [], []
    for c, colour in zip(shown, colours):
        cl = layer.table[c]
        loss = float(layer.loss_lut_db[c])
        handles.append(Patch(facecolor=colour, alpha=_CLUTTER_MAP_ALPHA, edgecolor="none"))
        labels.append(f"clutter: {cl.name.replace('_', ' ')} (+{loss:.1f} dB)" if loss > 0
                      else f"clutter: {cl.name.replace('_', ' ')} (no loss)")
    return handles, labels


def plot_coverage_map(result, ax=None, *, show_population=True, show_uncovered=True,
                      n_settlement_labels=0, dem_m=None, show_boundary=True,
                      show_clutter=True):
    """Coverage map: population underlay, received signal where covered, sites by type.

    North is up; a scale bar in km and the region boundary (when the scenario has one)
    are drawn. With a DEM (``dem_m``, or ``result.terrain_m`` when a run has terrain) a
    hillshade is drawn underneath.

    A :class:`simulator.io.coarse.CoarseMap` (a tiled run, read back from its rasters)
    draws the same layers on its coarse cells: people summed per coarse cell, the signal
    averaged [dBm] over the covered fine cells, red where most of the coarse cell's people
    have no outdoor coverage; the title's numbers are summary.json's and a third title line says
    how the map is coarsened.

    Parameters
    ----------
    result : ScenarioResult or CoarseMap
    ax : matplotlib Axes, optional
    show_population : bool
        Grey log-scaled people per cell underneath.
    show_uncovered : bool
        Populated cells left uncovered in red.
    n_settlement_labels : int
        Label the N largest settlements with their population.
    dem_m : numpy.ndarray, optional
        Elevation on the result's grid [m] (e.g. from
        :func:`simulator.io.rasters.read_dem_to_grid`) for a hillshade underlay.
    show_boundary : bool
        Outline the region boundary and grey out the cells outside it.
    show_clutter : bool
        With a clutter layer (``result.clutter``), a muted underlay of the classes that add
        a terminal loss (forest green, built-up brown) and water, with their loss in the
        legend; open classes are left blank.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.lines import Line2D

    from .io.coarse import CoarseMap, km_text

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8))
    coarse = isinstance(result, CoarseMap)
    g = result.grid
    ext = _extent_km(g)
    fine = result.fine_grid if coarse else g     # the region's grid (limits, scale bar)
    lim = _extent_km(fine)
    if coarse:
        people = result.people
        covered = result.covered_cells > 0       # some covered fine cell in the block
        rx_field = result.rx_dbm
        # red where most of the coarse cell's people have no outdoor coverage
        uncovered = (people > 0) & (2 * result.people_uncovered > people)
        cell = f"{km_text(result.cell_km)} cell"
        if dem_m is None:
            dem_m = result.terrain_m
    else:
        people = result.population.people
        covered = result.covered
        rx_field = result.fields.rx_dbm
        uncovered = (people > 0) & ~covered
        if dem_m is None:
            dem_m = getattr(result, "terrain", None)
    if dem_m is not None:
        from .region.terrain import hillshade

        dem = np.asarray(dem_m, dtype=float)
        if dem.shape != g.shape:
            raise ValueError(f"dem_m shape {dem.shape} does not match the grid {g.shape}")
        # relief exaggerated 3x so gentle rural relief shows at district scale
        shade = hillshade(3.0 * np.where(np.isfinite(dem), dem, np.nanmean(dem)),
                          g.resolution_m)
        ax.imshow(shade, extent=ext, origin="upper", cmap="gray", vmin=-0.3, vmax=1.15,
                  interpolation="bilinear", zorder=0.5)
    clutter_handles, clutter_labels = [], []
    if show_clutter and getattr(result, "clutter", None) is not None:
        clutter_handles, clutter_labels = _draw_clutter(ax, result.clutter, ext)
    if show_population and people.max() > 0:
        pop = np.ma.masked_less(people.astype(float), 1)
        ax.imshow(pop, extent=ext, origin="upper", cmap="Greys",
                  norm=LogNorm(vmin=1, vmax=max(people.max(), 2)), interpolation="nearest",
                  zorder=1)
    rx = np.ma.masked_where(~covered, rx_field)
    im = ax.imshow(rx, extent=ext, origin="upper", cmap="viridis", alpha=0.72,
                   interpolation="nearest", zorder=2)
    if show_uncovered:
        unc = np.ma.masked_where(~uncovered, np.ones(people.shape))
        ax.imshow(unc, extent=ext, origin="upper", cmap=ListedColormap(["#d7301f"]),
                  alpha=0.85, interpolation="nearest", zorder=3)
    if coarse:
        # beside the map as drawn (any width/height ratio): an inset in axes coordinates
        cb = ax.figure.colorbar(im, cax=ax.inset_axes([1.03, 0.1, 0.03, 0.8]))
    else:
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.8, pad=0.02)
    metric = result.technology.signal_metric.upper()
    if coarse and result.factor > 1:
        cb.set_label(f"best-server {metric} where covered [dBm]\n(mean over the covered "
                     f"{fine.resolution_m:g} m cells of each {cell})")
    else:
        cb.set_label(f"best-server {metric} where covered [dBm]")

    s = result.sites
    # markers sized for a district; on a wide coarse map they shrink (to 1/4 at 200 km)
    # so they do not hide the coverage around them
    msize = float(np.clip(50.0 / max((lim[1] - lim[0]), 1e-9), 0.25, 1.0)) if coarse else 1.0
    handles = []
    for name in dict.fromkeys(s.station):
        st = _STATION_STYLE.get(name, _DEFAULT_STYLE)
        label = result.stations[name].label
        for existing in (True, False):
            m = np.array([(t == name) and (e == existing) for t, e in zip(s.station, s.existing)])
            if not m.any():
                continue
            ax.scatter(s.x_m[m] / 1000.0, s.y_m[m] / 1000.0, marker=st["marker"],
                       s=st["size"] * msize if coarse else st["size"],
                       c=st["color"] if existing else "white", edgecolors=st["color"],
                       linewidths=1.8 if msize == 1.0 else 1.0, zorder=6,
                       label=f"{label} ({'existing' if existing else 'new'}, {int(m.sum())})")
    handles, labels = ax.get_legend_handles_labels()
    if show_uncovered:
        handles.append(Line2D([], [], marker="s", ls="", color="#d7301f", markersize=8))
        labels.append(f"most people of the {cell} without outdoor coverage" if coarse
                      else "people without outdoor coverage")
    if show_population:
        handles.append(Line2D([], [], marker="s", ls="", color="#888888", markersize=8))
        labels.append(f"people per {cell} (grey, log scale)" if coarse
                      else "people per cell (grey, log scale)")
    handles += clutter_handles
    labels += clutter_labels

    mask = getattr(result, "region_mask", None)
    boundary = getattr(result, "boundary", None)
    if show_boundary and mask is not None and not mask.all():
        outside = np.ma.masked_where(mask, np.ones(mask.shape))
        ax.imshow(outside, extent=ext, origin="upper", cmap=ListedColormap(["white"]),
                  alpha=0.55, interpolation="nearest", zorder=4)
    if show_boundary and boundary is not None:
        for poly in getattr(boundary, "geoms", [boundary]):
            for ring in [poly.exterior, *poly.interiors]:
                bx, by = np.asarray(ring.coords.xy)
                ax.plot(bx / 1000.0, by / 1000.0, color="#6a3d9a", lw=1.6, zorder=5.5)
        handles.append(Line2D([], [], color="#6a3d9a", lw=1.6))
        labels.append("region boundary")

    pop_obj = result.population
    if pop_obj is None:                          # a coarse map without settlements
        pass
    elif len(pop_obj.settlement_people) and pop_obj.settlement_kind == "synthetic":
        size = 12.0 + 160.0 * np.sqrt(pop_obj.settlement_people / max(
            pop_obj.settlement_people.max(), 1))
        if coarse:
            size = size * msize
        ax.scatter(pop_obj.settlement_x_m / 1000.0, pop_obj.settlement_y_m / 1000.0, s=size,
                   facecolors="none", edgecolors="#333333", linewidths=0.8, zorder=5,
                   label="settlement (size ~ people)")
        n_sites_entries = len(ax.get_legend_handles_labels()[0]) - 1
        handles.insert(n_sites_entries, Line2D([], [], marker="o", ls="", markerfacecolor="none",
                                               markeredgecolor="#333333", markersize=8))
        labels.insert(n_sites_entries, "settlement (circle size ~ people)")
    n_labels = 0 if pop_obj is None else min(n_settlement_labels,
                                             len(pop_obj.settlement_people))
    for k in range(n_labels):
        ax.annotate(f"{pop_obj.settlement_people[k]:,}", (pop_obj.settlement_x_m[k] / 1000,
                    pop_obj.settlement_y_m[k] / 1000), fontsize=7, zorder=7,
                    xytext=(3, 3), textcoords="offset points")
    _legend_below(ax, handles, labels)
    _scale_bar(ax, fine)
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_xlabel(f"easting [km] ({g.crs})")
    ax.set_ylabel("northing [km]")
    sm = result.summary
    ax.set_title(f"{result.scenario.name}: {sm['people_covered']:,} of "
                 f"{sm['population_total']:,} people covered "
                 f"({100 * sm['coverage_fraction']:.1f} %)\n"
                 f"{sm['sites_total']} sites ({sm['sites_existing']} existing, "
                 f"{sm['sites_new']} new) · {sm['people_newly_covered']:,} newly covered · "
                 f"{result.technology.label}, {sm['propagation_model']}"
                 + (f"\nmap {result.aggregation_text}; numbers exact"
                    if coarse else ""), fontsize=10 if coarse else 11)
    return ax


def plot_rx_cdf(result, ax=None, *, show_existing=True):
    """Distribution of the best-server downlink signal over people (CDF).

    Each curve gives, for a signal level x, the share of the region's people whose
    best-server signal is below x; people no site reaches count as below every level, so
    a curve starts at their share. The vertical line is the required signal (threshold +
    fade margin): the curve's height there is the share of people not covered.

    Parameters
    ----------
    result : ScenarioResult
    ax : matplotlib Axes, optional
    show_existing : bool
        Add the curve for the existing (baseline) sites alone, when there are any.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from .io.coarse import CoarseMap

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    metric = result.technology.signal_metric.upper()
    required = result.summary["required_signal_dbm"]
    if isinstance(result, CoarseMap):
        total, lo, hi, steps = _cdf_steps_binned(result, required)
    else:
        total, lo, hi, steps = _cdf_steps_cells(result, required, show_existing)
    lo, hi = 10 * np.floor(lo / 10) - 5, 10 * np.ceil(hi / 10) + 5
    for label, color, ls, xs, cum_w, none_w, below_w in steps:
        cum = (none_w + cum_w) / total if total else xs * 0
        x = np.r_[lo, xs, hi]
        y = np.r_[none_w / total if total else 0.0, cum, cum[-1] if cum.size else
                  (none_w / total if total else 0.0)]
        below = float(below_w / total) if total else 0.0
        ax.step(x, y, where="post", color=color, ls=ls, lw=2,
                label=f"{label}: {100 * (1 - below):.1f} % of people covered")
    ax.axvline(required, color="#d7301f", lw=1.5,
               label=f"required {metric} {required:.1f} dBm (threshold "
                     f"{result.summary['dl_threshold_dbm']:g} + margin "
                     f"{result.summary['fade_margin_db']:.1f} dB)")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"best-server downlink {metric} [dBm]")
    ax.set_ylabel("share of people with a weaker signal")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"{result.scenario.name}: signal received by the "
                 f"{int(total):,} people (CDF)", fontsize=11)
    return ax


def _cdf_steps_cells(result, required, show_existing):
    """(people, lowest, highest signal, curves) of an in-memory run, one step per cell;
    a curve is (label, colour, line style, sorted signals, cumulative people, people
    without a signal, people below ``required``)."""
    people = result.population.people.ravel().astype(float)
    total = people.sum()
    curves = [("all sites", result.fields.rx_dbm, "#238b45", "-")]
    if show_existing and result.sites.existing.any():
        curves.append(("existing sites only", result.fields_existing.rx_dbm, "#525252", "--"))
    finite = [np.asarray(f, float)[np.isfinite(f) & (result.population.people > 0)]
              for _, f, _, _ in curves]
    lo = min([v.min() for v in finite if v.size] + [required - 20.0])
    hi = max([v.max() for v in finite if v.size] + [required + 20.0])
    steps = []
    for label, field, color, ls in curves:
        rx = np.asarray(field, float).ravel()
        w = people > 0
        rx, wp = rx[w], people[w]
        none = ~np.isfinite(rx)
        order = np.argsort(rx[~none])
        steps.append((label, color, ls, rx[~none][order], np.cumsum(wp[~none][order]),
                      wp[none].sum(), wp[~(rx >= required)].sum()))
    return total, lo, hi, steps


def _cdf_steps_binned(cm, required):
    """The same for a :class:`simulator.io.coarse.CoarseMap`: one step per 0.1 dB bin
    (at its upper edge, so the curve is exact at every bin edge), all sites only (a tiled
    run writes no signal raster of the existing sites alone)."""
    total = float(cm.summary["population_total"])
    lo = min(([cm.rx_min_dbm] if np.isfinite(cm.rx_min_dbm) else []) + [required - 20.0])
    hi = max(([cm.rx_max_dbm] if np.isfinite(cm.rx_max_dbm) else []) + [required + 20.0])
    keep = cm.cdf_people > 0
    below = total - float(cm.people_at_required)
    return total, lo, hi, [("all sites", "#238b45", "-", cm.cdf_edges_dbm[keep],
                            np.cumsum(cm.cdf_people[keep].astype(float)),
                            float(cm.people_no_signal), below)]


def plot_terrain_profile(distance_m, elevation_m, *, tx_height_m, rx_height_m,
                         frequency_mhz, k_factor=4.0 / 3.0, max_edges=3, ax=None):
    """A path profile: terrain, line of sight, first Fresnel zone, diffraction edges.

    The terrain is raised by the effective-Earth bulge so the ray is straight (see
    :mod:`simulator.radio.propagation.profile`); the shaded band is the first Fresnel zone
    around the ray; Deygout edges are marked with their nu and J(nu) (ITU-R P.526-15).

    Parameters
    ----------
    distance_m, elevation_m : array_like, shape (n,)
        Profile from the site (distance 0) to the receiver [m].
    tx_height_m, rx_height_m : float
        Antenna heights above ground [m].
    frequency_mhz : float
        [MHz].
    k_factor : float
        Effective Earth-radius factor [-].
    max_edges : {1, 3}
        Deygout edges searched.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    from .radio.propagation.profile import profile_geometry

    geo = profile_geometry(distance_m, elevation_m, tx_height_m=tx_height_m,
                           rx_height_m=rx_height_m, frequency_mhz=frequency_mhz,
                           k_factor=k_factor, max_edges=max_edges)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    dk = geo.distance_m / 1000.0
    floor = float(np.min(geo.terrain_m)) - 0.1 * float(np.ptp(geo.terrain_m) + 10.0)
    ax.fill_between(dk, floor, geo.terrain_m, color="#c9a66b", lw=0, zorder=1,
                    label=f"terrain + Earth bulge (k = {k_factor:.3g})")
    ax.plot(dk, geo.terrain_m, color="#7f4f10", lw=1, zorder=2)
    ax.fill_between(dk, geo.ray_m - geo.fresnel_radius_m, geo.ray_m + geo.fresnel_radius_m,
                    color="#3182bd", alpha=0.22, lw=0, zorder=3,
                    label=f"first Fresnel zone ({frequency_mhz:g} MHz)")
    for sign in (-1, 1):
        ax.plot(dk, geo.ray_m + sign * geo.fresnel_radius_m, color="#3182bd", lw=0.8,
                ls="--", zorder=3)
    state = "line of sight" if geo.line_of_sight else "obstructed"
    ax.plot(dk, geo.ray_m, color="#08519c", lw=1.6, zorder=4,
            label=f"ray between antennas ({state})")
    ax.plot([dk[0], dk[0]], [geo.terrain_m[0], geo.ray_m[0]], color="black", lw=3, zorder=5)
    ax.plot([dk[-1], dk[-1]], [geo.terrain_m[-1], geo.ray_m[-1]], color="black", lw=2,
            zorder=5)
    ax.annotate(f"site ({tx_height_m:g} m)", (dk[0], geo.ray_m[0]), xytext=(5, 5),
                textcoords="offset points", fontsize=8)
    ax.annotate(f"receiver ({rx_height_m:g} m)", (dk[-1], geo.ray_m[-1]), xytext=(-5, 8),
                textcoords="offset points", fontsize=8, ha="right")
    if geo.edge_index.size:
        ei = geo.edge_index
        ax.scatter(dk[ei], geo.terrain_m[ei], marker="v", s=70, color="#d7301f", zorder=6,
                   label=f"Deygout edges: {geo.deygout_loss_db:.1f} dB in total")
        lines = []
        for n, (i, nu, j) in enumerate(zip(ei, geo.edge_nu, geo.edge_loss_db)):
            ax.annotate(str(n + 1), (dk[i], geo.terrain_m[i]), xytext=(0, 7),
                        textcoords="offset points", ha="center", fontsize=9,
                        fontweight="bold", color="#99000d", zorder=6)
            lines.append(f"{n + 1} {'main' if n == 0 else 'secondary'} edge at "
                         f"{dk[i]:.2f} km: \u03bd = {nu:.2f}, J = {j:.1f} dB")
        ax.text(0.99, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top",
                fontsize=8, zorder=7,
                bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, lw=0.5))
    pad = 0.02 * (dk[-1] - dk[0])
    ax.set_xlim(dk[0] - pad, dk[-1] + pad)
    top = max(float(np.max(geo.ray_m + geo.fresnel_radius_m)), float(np.max(geo.terrain_m)))
    ax.set_ylim(floor, top + 0.25 * (top - floor))
    ax.set_xlabel("distance from the site [km]")
    ax.set_ylabel("height [m]")
    ax.set_title(f"Path profile: {state}, first-Fresnel-zone clearance "
                 f"{geo.clearance_f1:.2f} (>= 0.6 is clear), diffraction "
                 f"{geo.deygout_loss_db:.1f} dB", fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(True, alpha=0.25)
    return ax


def _summary_of(r) -> dict:
    return r if isinstance(r, dict) else r.summary


def plot_scenario_comparison(results, ax=None, *, marginal=True):
    """People covered vs connected per scenario, beside the cost per person connected.

    Three bars per scenario. Left axis: people covered and people connected in the last
    year of the horizon, the part the new sites add drawn darker. Right axis (orange bar,
    labelled): cost per person connected, by default of the new sites (their TCO over the
    people they newly connect); ``marginal=False`` uses the whole network's TCO over all
    people connected.

    Parameters
    ----------
    results : sequence of ScenarioResult or of summary dicts (summary.json)
    ax : matplotlib Axes, optional
    marginal : bool, keyword-only

    Returns
    -------
    matplotlib.axes.Axes
        The people axis (the cost axis is its ``twinx``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    sums = [_summary_of(r) for r in results]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(7.0, 3.0 * len(sums) + 2), 6))
    x = np.arange(len(sums), dtype=float)
    w = 0.26
    cov = np.array([s["people_covered"] for s in sums], float)
    cov_base = np.array([s["people_covered_by_existing_sites"] for s in sums], float)
    con = np.array([s["people_connected"] for s in sums], float)
    con_base = np.array([s["people_connected_by_existing_sites"] for s in sums], float)
    blue_l, blue, green_l, green, orange = "#9ecae1", "#3182bd", "#a1d99b", "#31a354", "#e6550d"
    ax.bar(x - w, cov_base, w, color=blue_l, edgecolor=blue)
    ax.bar(x - w, cov - cov_base, w, bottom=cov_base, color=blue, edgecolor=blue)
    ax.bar(x, con_base, w, color=green_l, edgecolor=green)
    ax.bar(x, con - con_base, w, bottom=con_base, color=green, edgecolor=green)
    top = max(cov.max() if len(cov) else 1.0, 1.0)
    for xi, c, n in zip(x, cov, con):
        ax.text(xi - w, c + 0.01 * top, f"{c:,.0f}\ncovered", ha="center", va="bottom",
                fontsize=8, color="#08519c")
        pct = f"\n({100 * n / c:.1f} % of\ncovered)" if c else ""
        ax.text(xi, n + 0.01 * top, f"{n:,.0f}\nconnected{pct}", ha="center", va="bottom",
                fontsize=8, color="#006d2c")
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel("people")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xticks(x)
    ax.set_xticklabels([_scenario_label(s) for s in sums], fontsize=9)
    ax.set_xlim(-0.6, len(sums) - 0.4)

    key = "marginal_cost_per_person_connected_usd" if marginal else "cost_per_person_connected_usd"
    cost = np.array([np.nan if s.get(key) is None else s[key] for s in sums], float)
    ax2 = ax.twinx()
    ax2.bar(x + w, np.where(np.isfinite(cost), cost, 0.0), w, color="#fdae6b", edgecolor=orange,
            hatch="//")
    finite = cost[np.isfinite(cost)]
    ctop = finite.max() if finite.size else 1.0
    ax2.set_ylim(0, ctop * 1.2)
    for xi, c in zip(x, cost):
        label = "nobody newly\nconnected" if not np.isfinite(c) else f"USD {c:,.0f}\nper person"
        ax2.text(xi + w, (c if np.isfinite(c) else 0) + 0.01 * ctop, label, ha="center",
                 va="bottom", fontsize=8, color="#a63603", fontweight="bold")
    which = "new sites' TCO / people newly connected" if marginal else \
        "whole network's TCO / people connected"
    ax2.set_ylabel(f"cost per person connected [USD]\n({which})", color="#a63603")
    ax2.tick_params(axis="y", colors="#a63603")
    ax2.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))

    horizon = {s.get("horizon_years") for s in sums}
    h = f"year {horizon.pop()}" if len(horizon) == 1 else "last year of each horizon"
    handles = [Patch(color=blue_l, label="covered by the existing sites alone"),
               Patch(color=blue, label="newly covered by the new sites"),
               Patch(color=green_l, label=f"connected thanks to the existing sites ({h})"),
               Patch(color=green, label=f"newly connected ({h})"),
               Patch(facecolor="#fdae6b", edgecolor=orange, hatch="//",
                     label="cost per person connected (right axis)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2,
              fontsize=8, frameon=False)
    ax.set_title("People covered and connected, and what each connected person costs",
                 fontsize=11)
    return ax


def _scenario_label(s: dict) -> str:
    parts = [f"{d['new']} {name}" for name, d in s.get("sites_by_type", {}).items() if d["new"]]
    return f"{s['scenario']}\n(+{', '.join(parts) if parts else 'no new sites'})"


def plot_marginal_curve(plan_result, ax=None, *, x="sites", percent_axis=True):
    """Marginal curve of a plan: people newly covered against sites built or against cost.

    One line per method run (greedy dashed, ILP solid), with a marker per site so the
    diminishing returns are visible; the budget (``x="cost"``) or the site limit
    (``x="sites"``) as a dotted vertical line.

    Parameters
    ----------
    plan_result : simulator.planning.planner.PlanResult
    ax : matplotlib Axes, optional
    x : {"sites", "cost"}
        Horizontal axis: number of new sites, or cumulative cost [thousand USD].
    percent_axis : bool
        A right-hand axis in percent of the population.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if x not in ("sites", "cost"):
        raise ValueError(f"x={x!r} is invalid; allowed: 'sites' or 'cost'")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    styles = {"greedy": dict(color="#e6550d", ls="--", marker="o", ms=3.5, lw=1.4, zorder=3),
              "ilp": dict(color="#3182bd", ls="-", marker="s", ms=6, lw=3.0, alpha=0.75,
                          zorder=2)}
    # the ILP first (wide, underneath) so an identical greedy curve stays visible on top
    for name in sorted(plan_result.placements, key=lambda n: n != "ilp"):
        p = plan_result.placements[name]
        c = plan_result.curve(name)
        xs = c["sites"] if x == "sites" else c["cost_usd"] / 1000.0
        label = {"greedy": "greedy", "ilp": "ILP"}.get(name, name)
        label += f" ({p.n_sites} sites, {int(c['people'][-1]):,} people"
        label += ", optimal)" if p.optimal else (
            f", gap {100 * p.gap:.2f} %)" if np.isfinite(p.gap) else ")")
        ax.plot(xs, c["people"], label=label,
                **styles.get(name, dict(color="#756bb1", marker="o", ms=3.5)))
    spec = plan_result.spec
    if x == "cost" and spec.budget_usd is not None:
        ax.axvline(spec.budget_usd / 1000.0, color="0.3", ls=":", lw=1.2)
        ax.text(spec.budget_usd / 1000.0, 0.03, "budget ", transform=ax.get_xaxis_transform(),
                ha="right", va="bottom", fontsize=8, color="0.3")
    if x == "sites" and spec.max_sites is not None:
        ax.axvline(spec.max_sites, color="0.3", ls=":", lw=1.2)
        ax.text(spec.max_sites, 0.03, "site limit ", transform=ax.get_xaxis_transform(),
                ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("new sites built" if x == "sites" else "cumulative capex [thousand USD]")
    ax.set_ylabel("people newly covered (beyond the kept sites)")
    ax.set_xlim(left=0)
    ax.margins(x=0.04)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if x == "cost":
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("people newly covered vs " + ("sites" if x == "sites" else "cost"),
                 fontsize=10)
    total = plan_result.summary.get("population_total") or int(plan_result.population.people.sum())
    if percent_axis and total:
        sec = ax.secondary_yaxis("right", functions=(lambda v: 100.0 * v / total,
                                                     lambda v: v * total / 100.0))
        sec.set_ylabel("% of population")
    return ax
