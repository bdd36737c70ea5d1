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


def _nice_length(x: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``x`` (x > 0)."""
    k = np.floor(np.log10(x))
    for m in (5.0, 2.0, 1.0):
        if m * 10 ** k <= x:
            return float(m * 10 ** k)
    return float(10 ** k)


def _north_angle_deg(grid) -> float:
    """Angle of true north from grid north at the grid centre, clockwise [deg]
    (the meridian convergence of the projection)."""
    from pyproj import Transformer

    x0, y0, x1, y1 = grid.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    to_xy = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    lon, lat = to_ll.transform(cx, cy)
    nx, ny = to_xy.transform(lon, min(lat + 0.01, 89.99))
    return float(np.degrees(np.arctan2(nx - cx, ny - cy)))


def _scale_and_north(ax, grid):
    """A framed box in the lower-left corner: a two-tone scale bar in km and a north
    arrow pointing to true north (rotated by the meridian convergence)."""
    from matplotlib.offsetbox import (AnchoredOffsetbox, AuxTransformBox, DrawingArea,
                                      HPacker, TextArea, VPacker)
    from matplotlib.patches import Polygon, Rectangle

    x0, y0, x1, y1 = (v / 1000.0 for v in grid.bounds)
    length = _nice_length((x1 - x0) / 5.0)
    h = 0.012 * (y1 - y0)
    bar = AuxTransformBox(ax.transData)
    bar.add_artist(Rectangle((0, 0), length / 2, h, fc="black", ec="black", lw=0.8))
    bar.add_artist(Rectangle((length / 2, 0), length / 2, h, fc="white", ec="black", lw=0.8))
    label = f"{length:g} km" if length >= 1 else f"{1000 * length:g} m"
    scale = VPacker(children=[bar, TextArea(label, textprops=dict(fontsize=8))],
                    align="center", pad=0, sep=2)
    angle = np.radians(_north_angle_deg(grid))
    da = DrawingArea(16, 22, 0, 0)
    pts = np.array([[0.0, 10.0], [-5.0, -8.0], [0.0, -4.0], [5.0, -8.0]])
    rot = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    da.add_artist(Polygon(pts @ rot.T + [8.0, 11.0], closed=True, fc="black", ec="black"))
    north = VPacker(children=[TextArea("N", textprops=dict(fontsize=9, fontweight="bold")),
                              da], align="center", pad=0, sep=1)
    box = AnchoredOffsetbox(loc="lower left", child=HPacker(children=[scale, north],
                                                            align="bottom", pad=0, sep=10),
                            pad=0.35, borderpad=0.6, frameon=True)
    box.patch.set_boxstyle("round,pad=0.2")
    box.patch.set_facecolor("white")
    box.patch.set_alpha(0.9)
    box.set_zorder(9)
    box.set_gid("scale_and_north")
    box.scale_label = label
    ax.add_artist(box)
    return box


def _lonlat_ticks(ax, grid):
    """Longitude/latitude graticule (thin grey lines) with its labels on the axes' bottom
    and left edges, for a map drawn in the grid's projected km."""
    from pyproj import Transformer

    x0, y0, x1, y1 = grid.bounds
    to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    to_xy = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    ex = np.linspace(x0, x1, 21)
    ey = np.linspace(y0, y1, 21)
    bx = np.r_[ex, np.full(21, x1), ex[::-1], np.full(21, x0)]
    by = np.r_[np.full(21, y0), ey, np.full(21, y1), ey[::-1]]
    lon, lat = to_ll.transform(bx, by)
    lon0, lon1, lat0, lat1 = np.min(lon), np.max(lon), np.min(lat), np.max(lat)

    def step_for(span):
        for st in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30):
            if span / st <= 5:
                return st
        return 30.0

    step = step_for(max(lon1 - lon0, lat1 - lat0))
    dec = max(0, int(np.ceil(-np.log10(step) - 1e-9))) if step < 1 else 0
    if step == 0.25:
        dec += 1

    def fmt(v, pos, neg):
        return f"{abs(v):.{dec}f}°{pos if v >= 0 else neg}"

    xt, xl, yt, yl = [], [], [], []
    for v in np.arange(np.ceil(lon0 / step) * step, lon1 + 1e-9, step):
        la = np.linspace(lat0, lat1, 60)
        px, py = to_xy.transform(np.full(60, v), la)
        ax.plot(px / 1000.0, py / 1000.0, color="0.45", lw=0.5, ls=(0, (2, 3)), zorder=4.5,
                gid="graticule")
        if np.all(np.diff(py) > 0) and py[0] <= y0 <= py[-1]:
            xb = float(np.interp(y0, py, px))
            if x0 <= xb <= x1:
                xt.append(xb / 1000.0)
                xl.append(fmt(v, "E", "W"))
    for v in np.arange(np.ceil(lat0 / step) * step, lat1 + 1e-9, step):
        lo = np.linspace(lon0, lon1, 60)
        px, py = to_xy.transform(lo, np.full(60, v))
        ax.plot(px / 1000.0, py / 1000.0, color="0.45", lw=0.5, ls=(0, (2, 3)), zorder=4.5,
                gid="graticule")
        if np.all(np.diff(px) > 0) and px[0] <= x0 <= px[-1]:
            yb = float(np.interp(x0, px, py))
            if y0 <= yb <= y1:
                yt.append(yb / 1000.0)
                yl.append(fmt(v, "N", "S"))
    ax.set_xticks(xt, xl, fontsize=8)
    ax.set_yticks(yt, yl, fontsize=8)
    ax.set_xlabel("longitude (WGS 84)", fontsize=8)
    ax.set_ylabel("latitude", fontsize=8)


def _settlement_key(people: np.ndarray) -> list[int]:
    """Two or three round settlement sizes for the legend's size key [people]."""
    top = float(people.max())
    vals = []
    for frac in (1.0, 0.3, 0.05):
        v = _nice_length(max(top * frac, 1.0))
        if v not in vals and v >= 1:
            vals.append(v)
    return [int(v) for v in sorted(vals)]


def _settlement_size(people, top, scale):
    return scale * (12.0 + 160.0 * np.sqrt(np.asarray(people, float) / max(top, 1.0)))


def _density_contours(ax, people, grid, ext):
    """Population density contours [people per km2], smoothed over about 1 km; returns the
    levels drawn."""
    from scipy.ndimage import gaussian_filter

    res_km = grid.resolution_m / 1000.0
    dens = people.astype(float) / (res_km * res_km)
    sigma = max(0.5, 0.5 / res_km)  # cells: a ~1 km wide kernel
    if sigma < max(dens.shape) / 2:
        dens = gaussian_filter(dens, sigma, mode="constant")
    top = float(np.nanmax(dens)) if dens.size else 0.0
    levels = [v for v in (10, 30, 100, 300, 1000, 3000, 10000, 30000) if v < top]
    levels = levels[-3:] if len(levels) > 3 else levels
    if not levels:
        return []
    x = np.linspace(ext[0], ext[1], dens.shape[1] + 1)
    y = np.linspace(ext[3], ext[2], dens.shape[0] + 1)
    xc, yc = (x[:-1] + x[1:]) / 2, (y[:-1] + y[1:]) / 2
    cs = ax.contour(xc, yc, dens, levels=levels, colors="#3b2a1a", linewidths=0.7,
                    zorder=5.2)
    cs.set_gid("population_contours")
    ax.clabel(cs, fmt=lambda v: f"{v:,.0f}", fontsize=6, inline=True, inline_spacing=2)
    return levels


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
              alpha=_CLUTTER_MAP_ALPHA, interpolation="nearest", zorder=zorder, gid="clutter")
    handles, labels = [], []
    for c, colour in zip(shown, colours):
        cl = layer.table[c]
        loss = float(layer.loss_lut_db[c])
        handles.append(Patch(facecolor=colour, alpha=_CLUTTER_MAP_ALPHA, edgecolor="none"))
        labels.append(f"clutter: {cl.name.replace('_', ' ')} (+{loss:.1f} dB)" if loss > 0
                      else f"clutter: {cl.name.replace('_', ' ')} (no loss)")
    return handles, labels


def plot_coverage_map(result, ax=None, *, vmin=None, vmax=None, legend=True, colorbar=True,
                      title=True, show_population=True, show_uncovered=True,
                      n_settlement_labels=0, dem_m=None, show_boundary=True,
                      graticule=True, show_clutter=True):
    """Coverage map: signal where covered, people without coverage in red, sites by type.

    Layers, bottom to top: a hillshade (with a DEM), the best-server signal at full
    opacity where an outdoor person is covered (colour scale ``vmin``..``vmax``), cells
    whose people have no outdoor coverage in solid red, population density as labelled
    contours (people per km2, smoothed over about 1 km; its own scale, never a colour
    that could be read as signal), settlements as open circles sized by people (with a
    size key), the region boundary with everything outside it greyed out, and the sites
    by type. Longitude and latitude label the axes (a dotted graticule); a framed box in
    the lower-left corner holds the scale bar and a north arrow pointing to true north.

    A :class:`simulator.io.coarse.CoarseMap` (a tiled run, read back from its rasters)
    draws the same layers on its coarse cells: people summed per coarse cell, the signal
    averaged [dBm] over the covered fine cells, red where most of the coarse cell's people
    have no outdoor coverage; the title's numbers are summary.json's and a third title
    line says how the map is coarsened.

    Parameters
    ----------
    result : ScenarioResult or CoarseMap
    ax : matplotlib Axes, optional
        Drawn into (a new figure when None); several maps compose into subplots.
    vmin, vmax : float, optional
        Colour range of the signal [dBm]; give the same values to maps side by side
        (:func:`simulator.io.maplayers.signal_range_dbm` finds a range for several runs).
        Default: that range for this run alone.
    legend : bool
        One legend below the axes (sites, settlement sizes, layers).
    colorbar : bool
        A colour bar of the signal beside the axes (an inset, so the map keeps its size).
    title : bool
        The headline numbers as the title.
    show_population : bool
        Population density contours.
    show_uncovered : bool
        Populated cells without outdoor coverage in red.
    n_settlement_labels : int
        Label the N largest settlements with their population.
    dem_m : numpy.ndarray, optional
        Elevation on the result's grid [m] (e.g. from
        :func:`simulator.io.rasters.read_dem_to_grid`) for a hillshade underlay.
    show_boundary : bool
        Outline the region boundary and grey out the cells outside it.
    graticule : bool
        Longitude/latitude lines and tick labels (else easting/northing in km).
    show_clutter : bool
        With a clutter layer (``result.clutter``), a muted underlay of the classes that add
        a terminal loss (forest green, built-up brown) and water, with their loss in the
        legend; open classes are left blank (under the opaque signal it shows where people
        are not covered).

    Returns
    -------
    matplotlib.axes.Axes
        The signal image has gid ``"signal"``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .io.coarse import CoarseMap, km_text
    from .io.maplayers import SIGNAL_CMAP, UNCOVERED_COLOUR, map_layers, model_label, \
        signal_range_dbm

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 8.5))
    coarse = isinstance(result, CoarseMap)
    lay = map_layers(result)
    g = lay.grid
    ext = _extent_km(g)
    fine = lay.extent_grid                 # the region's grid (limits, scale bar)
    lim = _extent_km(fine)
    cell = f"{km_text(result.cell_km)} cell" if coarse else "cell"
    if dem_m is None:
        dem_m = result.terrain_m if coarse else getattr(result, "terrain", None)
    if vmin is None or vmax is None:
        lo, hi = signal_range_dbm(lay)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    ax.set_facecolor("#f7f5f0")
    if dem_m is not None:
        from .region.terrain import hillshade

        dem = np.asarray(dem_m, dtype=float)
        if dem.shape != g.shape:
            raise ValueError(f"dem_m shape {dem.shape} does not match the grid {g.shape}")
        # relief exaggerated 3x so gentle rural relief shows at district scale
        shade = hillshade(3.0 * np.where(np.isfinite(dem), dem, np.nanmean(dem)),
                          g.resolution_m)
        ax.imshow(shade, extent=ext, origin="upper", cmap="gray", vmin=-0.3, vmax=1.15,
                  interpolation="bilinear", zorder=0.5, gid="hillshade")
    clutter_handles, clutter_labels = [], []
    if show_clutter and getattr(result, "clutter", None) is not None:
        clutter_handles, clutter_labels = _draw_clutter(ax, result.clutter, ext)
    rx = np.ma.masked_invalid(lay.rx_dbm)
    im = ax.imshow(rx, extent=ext, origin="upper", cmap=SIGNAL_CMAP, vmin=vmin, vmax=vmax,
                   interpolation="nearest", zorder=2, gid="signal")
    if show_uncovered:
        unc = np.ma.masked_where(~lay.uncovered, np.ones(lay.people.shape))
        ax.imshow(unc, extent=ext, origin="upper", cmap=ListedColormap([UNCOVERED_COLOUR]),
                  interpolation="nearest", zorder=3, gid="uncovered")
    if colorbar:
        finite = rx.compressed()
        extend = "max" if finite.size and finite.max() > vmax else "neither"
        cb = ax.figure.colorbar(im, cax=ax.inset_axes([1.02, 0.1, 0.03, 0.8]), extend=extend)
        metric = lay.technology.signal_metric.upper()
        if coarse and result.factor > 1:
            cb.set_label(f"best-server {metric} where covered [dBm]\n(mean over the covered "
                         f"{fine.resolution_m:g} m cells of each {cell})", fontsize=9)
        else:
            cb.set_label(f"best-server {metric} where covered [dBm]", fontsize=9)

    handles, labels = [], []
    if show_uncovered:
        handles.append(Patch(color=UNCOVERED_COLOUR))
        labels.append(f"most people of the {cell} without outdoor coverage" if coarse
                      else "people without outdoor coverage")
    if show_population and lay.people.max() > 0:
        if _density_contours(ax, lay.people, g, ext):
            handles.append(Line2D([], [], color="#3b2a1a", lw=0.7))
            labels.append("population density, people per km² (contours)")

    handles += clutter_handles
    labels += clutter_labels
    mask = lay.region_mask
    if show_boundary and mask is not None and not mask.all():
        import matplotlib

        outside = np.ma.masked_where(mask, np.ones(mask.shape))
        ax.imshow(outside, extent=ext, origin="upper", cmap=ListedColormap(["white"]),
                  alpha=0.72, interpolation="nearest", zorder=4, gid="outside")
        xc = np.linspace(ext[0], ext[1], 2 * mask.shape[1] + 1)[1::2]
        yc = np.linspace(ext[3], ext[2], 2 * mask.shape[0] + 1)[1::2]
        with matplotlib.rc_context({"hatch.color": "#8c8c8c", "hatch.linewidth": 0.6}):
            ax.contourf(xc, yc, (~mask).astype(float), levels=[0.5, 1.5], colors="none",
                        hatches=["////"], zorder=4.1)
            handles.append(Patch(facecolor="white", edgecolor="#8c8c8c", hatch="////",
                                 lw=0))
        labels.append("outside the region (not modelled)")
    boundary = lay.boundary
    if show_boundary and boundary is not None:
        for poly in getattr(boundary, "geoms", [boundary]):
            for ring in [poly.exterior, *poly.interiors]:
                bx, by = np.asarray(ring.coords.xy)
                ax.plot(bx / 1000.0, by / 1000.0, color="#6a3d9a", lw=1.6, zorder=5.5,
                        gid="boundary")
        handles.append(Line2D([], [], color="#6a3d9a", lw=1.6))
        labels.append("region boundary")

    # markers sized for a district; on a wide coarse map they shrink (to 1/4 at 200 km)
    # so they do not hide the coverage around them
    msize = float(np.clip(50.0 / max((lim[1] - lim[0]), 1e-9), 0.25, 1.0)) if coarse else 1.0
    s = lay.sites
    site_handles, site_labels = [], []
    for name in dict.fromkeys(s.station):
        st = _STATION_STYLE.get(name, _DEFAULT_STYLE)
        label = lay.stations[name].label
        for existing in (True, False):
            m = np.array([(t == name) and (e == existing) for t, e in zip(s.station, s.existing)])
            if not m.any():
                continue
            lab = f"{label} ({'existing' if existing else 'new'}, {int(m.sum())})"
            sc = ax.scatter(s.x_m[m] / 1000.0, s.y_m[m] / 1000.0, marker=st["marker"],
                            s=st["size"] * msize, c=st["color"] if existing else "white",
                            edgecolors=st["color"] if existing else "black",
                            linewidths=1.4 if msize == 1.0 else 0.9, zorder=6, label=lab)
            site_handles.append(sc)
            site_labels.append(lab)

    pop_obj = lay.settlements
    key_handles, key_labels = [], []
    if (pop_obj is not None and len(pop_obj.settlement_people)
            and pop_obj.settlement_kind == "synthetic"):
        top = float(pop_obj.settlement_people.max())
        ax.scatter(pop_obj.settlement_x_m / 1000.0, pop_obj.settlement_y_m / 1000.0,
                   s=_settlement_size(pop_obj.settlement_people, top, msize),
                   facecolors="none", edgecolors="#3b2a1a", linewidths=0.8, zorder=5.3,
                   gid="settlements")
        for v in _settlement_key(pop_obj.settlement_people):
            key_handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="none",
                                      markeredgecolor="#3b2a1a",
                                      markersize=float(np.sqrt(_settlement_size(v, top, msize)))))
            key_labels.append(f"settlement of {v:,} people")
    n_labels = 0 if pop_obj is None else min(n_settlement_labels,
                                             len(pop_obj.settlement_people))
    for k in range(n_labels):
        ax.annotate(f"{pop_obj.settlement_people[k]:,}", (pop_obj.settlement_x_m[k] / 1000,
                    pop_obj.settlement_y_m[k] / 1000), fontsize=7, zorder=7,
                    xytext=(3, 3), textcoords="offset points")
    if legend:
        # below the tick labels and the axis label, whatever the figure size (the pad is in
        # font sizes); as many columns as the axes' width holds
        width_in = ax.get_position().width * ax.figure.get_figwidth()
        ax.legend(site_handles + key_handles + handles, site_labels + key_labels + labels,
                  loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=4.2,
                  ncol=3 if width_in >= 7.5 else (2 if width_in >= 4.5 else 1),
                  fontsize=7.5, frameon=False, handletextpad=0.5, columnspacing=1.2)
    _scale_and_north(ax, fine)
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    if graticule:
        _lonlat_ticks(ax, fine)
    else:
        ax.set_xlabel(f"easting [km] ({g.crs})")
        ax.set_ylabel("northing [km]")
    if title:
        sm = lay.summary
        ax.set_title(f"{lay.scenario.name}: {sm['people_covered']:,} of "
                     f"{sm['population_total']:,} people covered "
                     f"({100 * sm['coverage_fraction']:.1f} %)\n"
                     f"{sm['sites_total']} sites ({sm['sites_existing']} existing, "
                     f"{sm['sites_new']} new) · {sm['people_newly_covered']:,} newly covered · "
                     f"{lay.technology.label}, {model_label(sm['propagation_model'])}"
                     + (f"\nmap {result.aggregation_text}; numbers exact"
                        if coarse else ""), fontsize=10 if coarse else 10.5)
    return ax


def plot_rx_cdf(result, ax=None, *, show_existing=True, complementary=False):
    """Distribution of the best-server downlink signal over people.

    By default the cumulative distribution: for a signal level x, the share of the
    region's people whose best-server signal is below x; people no site reaches count as
    below every level, so a curve starts at their share, and its height at the required
    signal (the vertical line: threshold + fade margin) is the share of people not covered.
    ``complementary=True`` draws one minus it, "the share of people with at least x dBm":
    its height at the required signal is the share covered by the signal alone.

    Parameters
    ----------
    result : ScenarioResult or CoarseMap
    ax : matplotlib Axes, optional
    show_existing : bool
        Add the curve for the existing (baseline) sites alone, when there are any.
    complementary : bool
        Share of people with at least each signal level.

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
        total, lo, hi, steps = _cdf_steps_binned(result, required, show_existing)
    else:
        total, lo, hi, steps = _cdf_steps_cells(result, required, show_existing)
    lo, hi = 10 * np.floor(lo / 10) - 5, 10 * np.ceil(hi / 10) + 5
    for label, color, ls, xs, cum_w, none_w, below_w in steps:
        cum = (none_w + cum_w) / total if total else xs * 0
        x = np.r_[lo, xs, hi]
        y = np.r_[none_w / total if total else 0.0, cum, cum[-1] if cum.size else
                  (none_w / total if total else 0.0)]
        below = float(below_w / total) if total else 0.0
        if complementary:
            y = 1.0 - y
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
    ax.set_ylabel("share of people with at least this signal" if complementary
                  else "share of people with a weaker signal")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left" if complementary else "upper left", fontsize=8)
    kind = "share with at least each level" if complementary else "CDF"
    ax.set_title(f"{result.scenario.name}: signal received by the "
                 f"{int(total):,} people ({kind})", fontsize=11)
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


def _cdf_steps_binned(cm, required, show_existing=True):
    """The same for a :class:`simulator.io.coarse.CoarseMap`: one step per 0.1 dB bin
    (at its upper edge, so the curve is exact at every bin edge); the existing sites'
    curve from the run's tile pass when it has one."""
    total = float(cm.summary["population_total"])
    lo = min(([cm.rx_min_dbm] if np.isfinite(cm.rx_min_dbm) else []) + [required - 20.0])
    hi = max(([cm.rx_max_dbm] if np.isfinite(cm.rx_max_dbm) else []) + [required + 20.0])
    curves = [("all sites", "#238b45", "-", cm.cdf_people, cm.people_no_signal,
               cm.people_at_required)]
    if show_existing and cm.cdf_people_existing is not None:
        curves.append(("existing sites only", "#525252", "--", cm.cdf_people_existing,
                       cm.people_no_signal_existing, cm.people_at_required_existing))
        nz = np.flatnonzero(cm.cdf_people_existing)
        if nz.size:                     # the bins' lower and upper edges
            step = cm.cdf_edges_dbm[1] - cm.cdf_edges_dbm[0]
            lo = min(lo, cm.cdf_edges_dbm[nz[0]] - step)
            hi = max(hi, cm.cdf_edges_dbm[nz[-1]])
    steps = []
    for label, color, ls, hist, none, at_required in curves:
        keep = hist > 0
        steps.append((label, color, ls, cm.cdf_edges_dbm[keep],
                      np.cumsum(hist[keep].astype(float)), float(none),
                      total - float(at_required)))
    return total, lo, hi, steps


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


def _numeric_values(values) -> np.ndarray | None:
    """The swept values as floats when they are all numbers (not booleans), else None."""
    if values is None:
        return None
    try:
        if any(isinstance(v, bool) or not isinstance(v, (int, float, np.number))
               for v in values):
            return None
    except TypeError:
        return None
    return np.asarray(values, float)


def _two_panels(ax, n: int):
    """(people axes, cost axes): a new figure, a given pair, or one Axes split in two."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, (a, b) = plt.subplots(1, 2, figsize=(max(10.0, 2.6 * n + 6), 5.2),
                                 gridspec_kw=dict(width_ratios=[1.35, 1], wspace=0.32))
        return a, b
    if isinstance(ax, (list, tuple, np.ndarray)):
        a, b = ax
        return a, b
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    b = make_axes_locatable(ax).append_axes("right", size="75%", pad=0.9)
    return ax, b


def plot_scenario_comparison(results, ax=None, *, marginal=True, x_values=None,
                             x_label=None):
    """Scenarios side by side: people covered and connected; cost per person connected.

    Two panels. Left: people covered and people connected in the last year of the
    horizon, the part the existing sites alone reach drawn light and what the new sites add
    dark. Right: cost per person connected, by default of the new sites (their TCO over
    the people they newly connect); ``marginal=False`` uses the whole network's TCO over
    all people connected. People and money never share an axis.

    For a numeric sweep (``x_values``: one number per result, e.g. a sweep's values) both
    panels are lines against the swept value instead of bars.

    Parameters
    ----------
    results : sequence of ScenarioResult or of summary dicts (summary.json)
    ax : matplotlib Axes or a pair of Axes, optional
        None: a new figure with two panels; one Axes: split in two (people left, cost
        right); a pair: (people, cost).
    marginal : bool, keyword-only
    x_values : sequence of numbers, optional
        The swept value of each result (lines); non-numeric values draw bars.
    x_label : str, optional
        Name of the swept value (the horizontal axis), e.g. ``"sites.new.0.count"``.

    Returns
    -------
    matplotlib.axes.Axes
        The people panel (the cost panel is ``ax.figure.axes[-1]`` when split, or the
        second of the pair).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    sums = [_summary_of(r) for r in results]
    xs = _numeric_values(x_values)
    if xs is not None and len(xs) != len(sums):
        raise ValueError(f"x_values has {len(xs)} values for {len(sums)} results")
    ax, ax2 = _two_panels(ax, len(sums))
    cov = np.array([s["people_covered"] for s in sums], float)
    cov_base = np.array([s["people_covered_by_existing_sites"] for s in sums], float)
    con = np.array([s["people_connected"] for s in sums], float)
    con_base = np.array([s["people_connected_by_existing_sites"] for s in sums], float)
    key = "marginal_cost_per_person_connected_usd" if marginal else "cost_per_person_connected_usd"
    cost = np.array([np.nan if s.get(key) is None else s[key] for s in sums], float)
    ckey = "marginal_cost_per_person_covered_usd" if marginal else "cost_per_person_covered_usd"
    cost_cov = np.array([np.nan if s.get(ckey) is None else s[ckey] for s in sums], float)
    blue_l, blue, green_l, green, orange = "#9ecae1", "#3182bd", "#a1d99b", "#31a354", "#e6550d"
    horizon = {s.get("horizon_years") for s in sums}
    h = f"year {horizon.pop()}" if len(horizon) == 1 else "last year of each horizon"
    which = "new sites' TCO / people newly reached" if marginal else \
        "whole network's TCO / people reached"
    money = plt.FuncFormatter(lambda v, _: f"{v:,.0f}")
    top = max(cov.max() if len(cov) else 1.0, 1.0)

    if xs is not None:
        order = np.argsort(xs, kind="stable")
        x = xs[order]
        ax.plot(x, cov[order], "-o", color=blue, lw=2, label="people covered")
        ax.plot(x, cov_base[order], "--", color=blue_l, lw=1.6,
                label="covered by the existing sites alone")
        ax.plot(x, con[order], "-s", color=green, lw=2, label=f"people connected ({h})")
        ax.plot(x, con_base[order], "--", color=green_l, lw=1.6,
                label=f"connected thanks to the existing sites ({h})")
        ax.set_ylim(0, top * 1.1)
        ax2.plot(x, cost[order], "-o", color=orange, lw=2, label="per person connected")
        ax2.plot(x, cost_cov[order], "-^", color="#fd8d3c", lw=1.4, alpha=0.8,
                 label="per person covered")
        for a in (ax, ax2):
            a.set_xlabel(x_label or "swept value")
            a.grid(True, alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
                  frameon=False)
        ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
                   frameon=False)
        finite = np.r_[cost[np.isfinite(cost)], cost_cov[np.isfinite(cost_cov)]]
        ax2.set_ylim(0, (finite.max() if finite.size else 1.0) * 1.15)
    else:
        x = np.arange(len(sums), dtype=float)
        w = 0.38
        ax.bar(x - w / 2, cov_base, w, color=blue_l, edgecolor=blue)
        ax.bar(x - w / 2, cov - cov_base, w, bottom=cov_base, color=blue, edgecolor=blue)
        ax.bar(x + w / 2, con_base, w, color=green_l, edgecolor=green)
        ax.bar(x + w / 2, con - con_base, w, bottom=con_base, color=green, edgecolor=green)
        for xi, c, n in zip(x, cov, con):
            ax.text(xi - w / 2, c + 0.01 * top, f"{c:,.0f}\ncovered", ha="center",
                    va="bottom", fontsize=7.5, color="#08519c")
            pct = f"\n({100 * n / c:.0f} %)" if c else ""
            ax.text(xi + w / 2, n + 0.01 * top, f"{n:,.0f}\nconnected{pct}", ha="center",
                    va="bottom", fontsize=7.5, color="#006d2c")
        ax.set_ylim(0, top * 1.22)
        labels = [_scenario_label(s) for s in sums]
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlim(-0.6, len(sums) - 0.4)
        ax.legend(handles=[Patch(color=blue_l, label="covered by the existing sites alone"),
                           Patch(color=blue, label="newly covered by the new sites"),
                           Patch(color=green_l, label=f"connected thanks to the existing "
                                                      f"sites ({h})"),
                           Patch(color=green, label=f"newly connected ({h})")],
                  loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8,
                  frameon=False)
        ax2.bar(x, np.where(np.isfinite(cost), cost, 0.0), 0.55, color="#fdae6b",
                edgecolor=orange)
        finite = cost[np.isfinite(cost)]
        ctop = finite.max() if finite.size else 1.0
        ax2.set_ylim(0, ctop * 1.2)
        for xi, c in zip(x, cost):
            text = "nobody newly\nconnected" if not np.isfinite(c) else f"USD {c:,.0f}"
            ax2.text(xi, (c if np.isfinite(c) else 0) + 0.01 * ctop, text, ha="center",
                     va="bottom", fontsize=8, color="#a63603", fontweight="bold")
        ax2.set_xticks(x, labels, fontsize=8)
        ax2.set_xlim(-0.6, len(sums) - 0.4)
        ax.grid(True, axis="y", alpha=0.3)
        ax2.grid(True, axis="y", alpha=0.3)
    ax.set_ylabel("people")
    ax.yaxis.set_major_formatter(money)
    ax2.set_ylabel(f"cost per person {'' if xs is not None else 'connected '}[USD]\n"
                   f"({which})", fontsize=9)
    ax2.yaxis.set_major_formatter(money)
    ax.set_title("People covered and connected", fontsize=11)
    ax2.set_title("What each person costs" if xs is not None else
                  "What each person connected costs", fontsize=11)
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
    basis = getattr(getattr(plan_result, "spec", None), "cost_basis", "capex")
    ax.set_xlabel("new sites built" if x == "sites" else
                  f"cumulative {'TCO' if basis == 'tco' else 'capex'} [thousand USD]")
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


def plot_connected_by_year(result, ax=None):
    """People connected at the end of each year of the horizon, with and without the new
    sites (the adoption curve of :mod:`simulator.business.adoption` over the people
    covered).

    Parameters
    ----------
    result : ScenarioResult, TiledResult or summary dict
        Reads ``people_connected_by_year`` and ``people_connected_by_existing_sites`` of
        the summary (and, when the result has one, the baseline curve of its business
        result).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    s = _summary_of(result)
    by_year = np.asarray(s.get("people_connected_by_year") or [], float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    years = np.arange(1, len(by_year) + 1)
    ax.plot(years, by_year, "-o", color="#31a354", lw=2, ms=4, label="all sites")
    b = None if isinstance(result, dict) else getattr(result, "business", None)
    if b is not None and len(b.connected_baseline_by_year) == len(by_year):
        ax.plot(years, b.connected_baseline_by_year, "--", color="#a1d99b", lw=1.8,
                label="existing sites alone")
    ax.set_xlabel("year")
    ax.set_ylabel("people connected")
    ax.set_xticks(years)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("People connected by year", fontsize=10)
    return ax


#: Colours of the programme's technologies (by option kind / station), and of the
#: locations that get nothing.
_TECH_COLOURS = {"ruralstar_pro": "#1b9e77", "macro": "#7570b3", "small_cell": "#66a61e",
                 "satellite_hotspot": "#d95f02"}
_TECH_FALLBACK = ["#e7298a", "#e6ab02", "#a6761d", "#1f78b4"]


def _option_colours(result) -> dict:
    out, k = {}, 0
    for name, o in result.spec.options.items():
        key = o.station if o.kind == "cell" else "satellite_hotspot"
        if key in _TECH_COLOURS and _TECH_COLOURS[key] not in out.values():
            out[name] = _TECH_COLOURS[key]
        else:
            out[name] = _TECH_FALLBACK[k % len(_TECH_FALLBACK)]
            k += 1
    return out


def _density_shading(ax, result):
    """Population density as grey shading (log scale) under a programme map; returns the
    extent [km]."""
    grid = result.grid
    ext = _extent_km(grid)
    res_km2 = (grid.resolution_m / 1000.0) ** 2
    dens = np.where(result.population.people > 0, result.population.people / res_km2, np.nan)
    with np.errstate(divide="ignore"):
        ax.imshow(np.log10(dens), extent=ext, origin="upper", cmap="Greys", alpha=0.45,
                  interpolation="nearest", zorder=0.5)
    return ext


def plot_technology_map(result, ax=None, *, legend=True, show_links=True):
    """Technology per location of a programme (:func:`simulator.programme`).

    Population density as grey shading; each location as a dot sized by its people and
    coloured by the technology that serves it (filled: built there; ring: covered from a
    neighbouring site; red cross: left out); chosen sites as markers by technology; the
    backhaul tree (relay links from donors) as lines; existing sites as black triangles;
    lon/lat graticule, scale bar and north arrow.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 8))
    grid = result.grid
    ext = _density_shading(ax, result)
    colours = _option_colours(result)
    s = result.sites
    if result.cell_index is not None:
        # the cells each technology covers (first built site), and the existing network's
        from matplotlib.colors import to_rgba

        rgba = np.zeros(grid.shape + (4,), np.float32)
        flat = rgba.reshape(-1, 4)
        site_opt = np.asarray(s["option"], dtype=object)
        for opt, col in colours.items():
            js = np.flatnonzero(site_opt == opt)
            m = np.isin(result.cell_site, js)
            flat[result.cell_index[m]] = to_rgba(col, 0.55)
        flat[result.cell_index[np.asarray(result.cell_existing, bool)]] = to_rgba("0.35", 0.4)
        ax.imshow(rgba, extent=ext, origin="upper", interpolation="nearest", zorder=0.6)
    rows = result.villages
    top = max([r["people"] for r in rows] + [1])
    name_to_opt = dict(zip(s["name"], s["option"]))
    for r in rows:
        x, y = r["x_m"] / 1000.0, r["y_m"] / 1000.0
        size = _settlement_size(r["people"], top, 0.35)
        if r["choice"] == "none":
            ax.scatter([x], [y], s=max(size * 0.5, 10), marker="x", c="#d7301f", lw=1.2,
                       zorder=5)
        elif r["choice"] == "existing":
            ax.scatter([x], [y], s=size, facecolors="none", edgecolors="0.2", lw=1.0,
                       zorder=5)
        else:
            opt = r["choice"] if r["choice"] in colours else name_to_opt.get(r["served_by"])
            col = colours.get(opt, "0.5")
            if r["choice"] == "covered_by_neighbour":
                ax.scatter([x], [y], s=size, facecolors="white", edgecolors=col, lw=1.4,
                           zorder=5)
            else:
                ax.scatter([x], [y], s=size, c=col, edgecolors="black", lw=0.4, zorder=5)
    if show_links and result.tree is not None:
        kept = result.kept_sites
        xy = {n: (x, y) for n, x, y in zip(kept.names, kept.x_m, kept.y_m)}
        xy.update({n: (x, y) for n, x, y in zip(s["name"], s["x_m"], s["y_m"])})
        for k, parent in enumerate(s["backhaul_parent"]):
            if not parent:
                continue
            p = xy.get(parent)
            if p is None:
                continue
            col = "#d7301f" if s["capacity_exceeded"][k] else "0.15"
            ax.plot([p[0] / 1000.0, s["x_m"][k] / 1000.0], [p[1] / 1000.0, s["y_m"][k] / 1000.0],
                    color=col, lw=0.9, zorder=6, gid="backhaul_link")
    for opt, col in colours.items():
        m = [i for i, o in enumerate(s["option"]) if o == opt and s["build_year"][i] >= 0]
        if m:
            kind = result.spec.options[opt].kind
            ax.scatter(np.asarray(s["x_m"])[m] / 1000.0, np.asarray(s["y_m"])[m] / 1000.0,
                       marker="s" if kind == "satellite_hotspot" else "^", s=30, c=col,
                       edgecolors="black", lw=0.6, zorder=7)
    kept = result.kept_sites
    if len(kept):
        ax.scatter(np.asarray(kept.x_m) / 1000.0, np.asarray(kept.y_m) / 1000.0, marker="^",
                   s=40, c="black", zorder=7)
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal")
    _lonlat_ticks(ax, grid)
    _scale_and_north(ax, grid)
    if legend:
        handles = []
        for opt, col in colours.items():
            label = result.spec.options[opt].label or opt
            mx = result.summary.get("technology_mix", {}).get(opt, {})
            handles.append(Line2D([], [], marker="o", ls="", mfc=col, mec="black",
                                  label=f"{label}: {mx.get('sites', 0)} sites, "
                                        f"{mx.get('people_added', 0):,} people"))
        handles += [
            Line2D([], [], marker="o", ls="", mfc="white", mec="0.3",
                   label="covered from a neighbouring site (ring, its colour)"),
            Line2D([], [], marker="o", ls="", mfc="none", mec="0.2",
                   label="covered by existing sites"),
            Line2D([], [], marker="x", ls="", color="#d7301f", label="left out"),
            Line2D([], [], marker="^", ls="", color="black", label="existing site"),
            Line2D([], [], marker="s", ls="", mfc="0.35", mec="none", alpha=0.5,
                   label="people covered by existing sites (shaded cells)")]
        if result.tree is not None:
            handles += [Line2D([], [], color="0.15", label="backhaul link (relay tree)"),
                        Line2D([], [], color="#d7301f", label="link over capacity")]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
                  framealpha=0.95, title="technology (shaded: people it covers)",
                  title_fontsize=8)
    sm = result.summary
    ax.set_title(f"{sm.get('scenario', '')}: {sm.get('sites', 0)} sites, "
                 f"{sm.get('share_covered', 0):.1%} of people covered", fontsize=10)
    return ax


def plot_programme_cost_curve(result, ax=None):
    """People covered against cost: the least-cost mix and each technology alone."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    colours = _option_colours(result)
    series: dict[str, list] = {}
    for row in result.curve:
        series.setdefault(row["plan"], []).append(row)
    for name, rows in series.items():
        rows = [r for r in rows if r.get("feasible", True)]
        if not rows:
            continue
        x = [r["cost_usd"] / 1e6 for r in rows]
        y = [r["people"] for r in rows]
        if name == "mix":
            ax.plot(x, y, "-o", color="black", lw=2, ms=4, label="mix (greedy, each share)", zorder=5)
        else:
            lab = result.spec.options[name].label if name in result.spec.options else name
            ax.plot(x, y, "--", marker=".", color=colours.get(name, "0.5"), lw=1.2,
                    label=f"{lab} only")
    s = result.summary
    ax.plot([s["capex_usd" if s["cost_basis"] == "capex" else "tco_usd"] / 1e6],
            [s["people_added"]], marker="*", ms=14, color="#e7298a", mec="black", ls="",
            zorder=6, label=f"this programme ({s['solver']['method']})")
    ax.set_xlabel(f"cost, {s['cost_basis'].upper()} [million USD]")
    ax.set_ylabel("people newly covered")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_programme_rollout(result, ax=None):
    """People covered and connected by year, with the year's capex as bars."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ro = result.rollout
    years = np.asarray(ro.years)
    base = result.summary["people_covered_existing"]
    ax.plot(years, base + np.asarray(ro.covered_by_year), "-o", color="#1b9e77", ms=4,
            label="people covered")
    ax.plot(years, np.asarray(ro.connected_by_year), "-o", color="#7570b3", ms=4,
            label="people connected (new sites)")
    ax.set_xlabel("year")
    ax.set_ylabel("people")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    ax2.bar(years, np.asarray(ro.capex_by_year) / 1e6, color="0.6", alpha=0.35, width=0.6,
            label="capex")
    ax2.set_ylabel("capex [million USD]")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="center right")
    ax.set_ylim(bottom=0)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    return ax


def plot_viability_map(result, ax=None):
    """Viability gap per site of a programme: sites that pay for themselves (NPV >= 0, green)
    and those needing a subsidy (red, area proportional to the gap), over the population."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 8))
    grid = result.grid
    ext = _density_shading(ax, result)
    s = result.sites
    built = np.asarray(s["build_year"]) >= 0
    x = np.asarray(s["x_m"])[built] / 1000.0
    y = np.asarray(s["y_m"])[built] / 1000.0
    gap = np.asarray(s["viability_gap_usd"])[built]
    npv = np.asarray(s["npv_usd"])[built]
    top = max(float(gap.max()) if gap.size else 0.0, 1.0)
    ok = npv >= 0
    ax.scatter(x[ok], y[ok], s=18, c="#1a9850", edgecolors="black", lw=0.4, zorder=6)
    sizes = 12.0 + 300.0 * gap[~ok] / top
    ax.scatter(x[~ok], y[~ok], s=sizes, c="#d73027", alpha=0.7, edgecolors="black", lw=0.4,
               zorder=6)
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal")
    _lonlat_ticks(ax, grid)
    _scale_and_north(ax, grid)
    sm = result.summary
    key = _nice_length(top)
    handles = [Line2D([], [], marker="o", ls="", mfc="#1a9850", mec="black",
                      label=f"pays for itself (NPV >= 0): {int(ok.sum())} sites"),
               Line2D([], [], marker="o", ls="", mfc="#d73027", mec="black", alpha=0.7,
                      ms=np.sqrt(12.0 + 300.0 * key / top),
                      label=f"needs a subsidy: {int((~ok).sum())} sites "
                            f"(marker for USD {key:,.0f})")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
              framealpha=0.95, title="viability gap = max(-NPV, 0)", title_fontsize=8)
    ax.set_title(f"{sm.get('scenario', '')}: viability gap USD {sm.get('viability_gap_usd', 0):,.0f}"
                 f" (NPV USD {sm.get('npv_usd', 0):,.0f} at "
                 f"{100 * float(result.rollout.discount_rate):g} %)",
                 fontsize=10)
    return ax
