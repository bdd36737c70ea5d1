"""Candidate site positions for placement, as plain arrays (metric CRS, metres).

Each helper returns an ``(n, 2)`` float64 array of ``(x, y)`` positions [m] in the region's
projected CRS (e.g. UTM): a regular lattice (:func:`grid_candidates`), local high points of a
DEM (:func:`hilltop_candidates`), settlements thinned to a minimum spacing
(:func:`settlement_candidates`), and a clip to the region (:func:`filter_inside`). The
coverage matrix for :mod:`simulator.planning.optimise` is built from these positions by the engine.

Raster convention (as the rest of the project): a north-up grid whose top-left corner is
``(x0, y0)``; cell ``(i, j)`` (row ``i`` from the top, column ``j``) has its centre at
``x = x0 + (j + 0.5) * resolution_m`` and ``y = y0 - (i + 0.5) * resolution_m``.

Every helper raises ``ValueError`` when it would return no candidate, rather than an empty
array a placement would fail on later.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = ["grid_candidates", "hilltop_candidates", "settlement_candidates", "filter_inside"]

#: Largest lattice :func:`grid_candidates` builds (guards against a spacing in km, not m).
MAX_GRID_CANDIDATES = 10_000_000


def _finite(name: str, value) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}={value} is not finite; allowed: a finite number")
    return v


def _positive_int(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{name}={value!r} is invalid; allowed: an integer >= 1")
    return int(value)


def _as_xy(name: str, xy) -> np.ndarray:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} has shape {arr.shape}; expected (n, 2) x, y positions [m]")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: no candidates; allowed: at least 1 position")
    if not np.all(np.isfinite(arr)):
        k = int(np.flatnonzero(~np.all(np.isfinite(arr), axis=1))[0])
        raise ValueError(f"{name}[{k}]={arr[k].tolist()} is not finite; allowed: finite x, y")
    return arr


def grid_candidates(x_min, y_min, x_max, y_max, spacing_m) -> np.ndarray:
    """Candidates on a square lattice centred in a rectangle.

    ``n_x = max(1, floor((x_max - x_min) / spacing_m))`` columns spaced ``spacing_m`` apart,
    centred so the margins on both sides are equal (each point is the centre of a
    ``spacing_m`` square of a tiling centred in the rectangle); likewise rows. All points lie
    strictly inside the rectangle.

    Parameters
    ----------
    x_min, y_min, x_max, y_max : float
        Rectangle bounds, ``x_max > x_min`` and ``y_max > y_min`` [m].
    spacing_m : float
        Distance between neighbouring candidates, > 0 [m].

    Returns
    -------
    ndarray of float64, shape (n_x * n_y, 2)
        ``(x, y)`` positions [m], x varying fastest, y increasing.

    Raises
    ------
    ValueError
        Non-finite or inverted bounds, ``spacing_m`` <= 0, or more than 10^7 candidates.
    """
    x_min, y_min = _finite("x_min", x_min), _finite("y_min", y_min)
    x_max, y_max = _finite("x_max", x_max), _finite("y_max", y_max)
    s = _finite("spacing_m", spacing_m)
    if x_max <= x_min:
        raise ValueError(f"x_max={x_max} must be > x_min={x_min}")
    if y_max <= y_min:
        raise ValueError(f"y_max={y_max} must be > y_min={y_min}")
    if s <= 0:
        raise ValueError(f"spacing_m={spacing_m} is invalid; allowed: > 0 m")
    width, height = x_max - x_min, y_max - y_min
    n_x, n_y = max(1, math.floor(width / s)), max(1, math.floor(height / s))
    if n_x * n_y > MAX_GRID_CANDIDATES:
        raise ValueError(f"spacing_m={spacing_m} gives {n_x * n_y} candidates; allowed: at most "
                         f"{MAX_GRID_CANDIDATES} (spacing_m >= "
                         f"{math.sqrt(width * height / MAX_GRID_CANDIDATES):.1f} m here)")
    xs = x_min + (width - (n_x - 1) * s) / 2 + s * np.arange(n_x)
    ys = y_min + (height - (n_y - 1) * s) / 2 + s * np.arange(n_y)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def hilltop_candidates(dem, x0, y0, resolution_m, *, window_m, min_prominence_m=0.0,
                       max_count=None) -> np.ndarray:
    """Candidates on local high points of a DEM (hilltops give the longest line of sight).

    A cell is a hilltop when it is the highest cell of the square window centred on it
    (``scipy.ndimage.maximum_filter``) and its local relief, its elevation minus the lowest
    cell of the same window, is at least ``min_prominence_m``. Local relief is a cheap proxy
    for topographic prominence (which needs the key col, not computed here). A flat top of
    several equal highest cells (8-connected) gives one candidate: its cell nearest the top's
    centroid. Candidates are ordered by elevation, highest first (ties: larger relief, then
    row-major cell order), and the first ``max_count`` kept.

    Parameters
    ----------
    dem : array_like, shape (n_rows, n_cols)
        Elevation per cell, north-up, row 0 at the top; NaN marks no data (never a hilltop,
        and ignored by the window maximum and minimum) [m].
    x0, y0 : float
        Coordinates of the top-left corner of the grid; for a :class:`simulator.region.grid.Grid`
        (same convention) pass ``grid.x_min_m, grid.y_max_m, grid.resolution_m`` [m].
    resolution_m : float
        Cell size, > 0 [m].
    window_m : float
        Side of the search window, >= 3 cells. The window is the largest odd number of
        cells not exceeding it, ``2 * floor(window_m / (2 * resolution_m)) + 1``, truncated
        at the DEM edge (so a slope rising out of the DEM gives a candidate on its edge) [m].
    min_prominence_m : float, optional
        Minimum local relief within the window, >= 0. Default 0 (then a flat DEM is one big
        flat top and gives one candidate) [m].
    max_count : int, optional
        Keep at most this many candidates (the highest), >= 1. Default: all.

    Returns
    -------
    ndarray of float64, shape (n, 2)
        ``(x, y)`` cell centres of the hilltops [m], highest first.

    Raises
    ------
    ValueError
        ``dem`` not 2-D or all NaN, bad ``resolution_m``, ``window_m`` below 3 cells,
        ``min_prominence_m`` < 0, ``max_count`` < 1, or no cell qualifies.
    """
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"dem has shape {z.shape}; expected a non-empty 2-D array [m]")
    finite = np.isfinite(z)
    if not finite.any():
        raise ValueError("dem has no finite elevation (all NaN): no candidates")
    x0, y0 = _finite("x0", x0), _finite("y0", y0)
    res = _finite("resolution_m", resolution_m)
    if res <= 0:
        raise ValueError(f"resolution_m={resolution_m} is invalid; allowed: > 0 m")
    win = _finite("window_m", window_m)
    half = math.floor(win / (2 * res) + 1e-9)  # largest odd cell count <= window_m / res
    if half < 1:
        raise ValueError(f"window_m={window_m} is below 3 cells; allowed: >= {3 * res} m "
                         f"at resolution_m={res}")
    prom = _finite("min_prominence_m", min_prominence_m)
    if prom < 0:
        raise ValueError(f"min_prominence_m={min_prominence_m} is invalid; allowed: >= 0 m")
    if max_count is not None:
        max_count = _positive_int("max_count", max_count)

    size = 2 * half + 1
    high = ndimage.maximum_filter(np.where(finite, z, -np.inf), size=size, mode="constant",
                                  cval=-np.inf)
    low = ndimage.minimum_filter(np.where(finite, z, np.inf), size=size, mode="constant",
                                 cval=np.inf)
    relief = z - low
    is_top = finite & (z == high) & (relief >= prom)
    if not is_top.any():
        raise ValueError(f"no hilltop candidates: no cell is the highest of its {size}x{size} "
                         f"window with local relief >= min_prominence_m={prom}; lower "
                         "min_prominence_m or window_m")

    labels, n_tops = ndimage.label(is_top, structure=np.ones((3, 3), dtype=bool))
    ii, jj = np.nonzero(is_top)
    lab = labels[ii, jj]
    centroids = np.asarray(ndimage.center_of_mass(is_top, labels, np.arange(1, n_tops + 1)))
    d2 = (ii - centroids[lab - 1, 0]) ** 2 + (jj - centroids[lab - 1, 1]) ** 2
    order = np.lexsort((jj, ii, d2, lab))  # per label: nearest the centroid first
    first = np.ones(order.size, dtype=bool)
    first[1:] = lab[order][1:] != lab[order][:-1]
    ti, tj = ii[order[first]], jj[order[first]]
    rank = np.lexsort((tj, ti, -relief[ti, tj], -z[ti, tj]))
    ti, tj = ti[rank], tj[rank]
    if max_count is not None:
        ti, tj = ti[:max_count], tj[:max_count]
    return np.column_stack([x0 + (tj + 0.5) * res, y0 - (ti + 0.5) * res])


def _region_mask(xy: np.ndarray, region) -> np.ndarray:
    if hasattr(region, "geom_type"):  # a shapely geometry
        import shapely

        geom = region
    else:
        arr = np.asarray(region, dtype=np.float64)
        if arr.shape == (4,):
            x_min, y_min, x_max, y_max = arr
            if not (np.all(np.isfinite(arr)) and x_max > x_min and y_max > y_min):
                raise ValueError(f"region bounds {arr.tolist()} are invalid; allowed: finite "
                                 "(x_min, y_min, x_max, y_max) with x_max > x_min, y_max > y_min")
            return ((xy[:, 0] >= x_min) & (xy[:, 0] <= x_max)
                    & (xy[:, 1] >= y_min) & (xy[:, 1] <= y_max))
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3:
            raise ValueError(f"region has shape {arr.shape}; allowed: bounds (4,), polygon "
                             "vertices (n >= 3, 2), or a shapely geometry")
        import shapely

        geom = shapely.Polygon(arr)
        if not geom.is_valid:
            raise ValueError("region polygon vertices form an invalid polygon "
                             f"({shapely.is_valid_reason(geom)})")
    shapely.prepare(geom)
    return np.asarray(shapely.intersects_xy(geom, xy[:, 0], xy[:, 1]), dtype=bool)


def filter_inside(xy, region, *, on_outside="drop", return_index=False):
    """Keep the candidates inside a region (boundary included).

    Parameters
    ----------
    xy : array_like, shape (n, 2)
        Candidate positions [m].
    region : tuple of 4 floats, array_like of shape (m, 2), or shapely geometry
        ``(x_min, y_min, x_max, y_max)`` bounds, polygon vertices (m >= 3), or any shapely
        geometry (e.g. the district boundary), in the same CRS as ``xy`` [m].
    on_outside : {"drop", "raise"}, optional
        ``"drop"`` (default) removes candidates outside; ``"raise"`` raises ValueError if any
        is outside (catches positions in the wrong CRS, e.g. degrees instead of metres).
    return_index : bool, optional
        Also return the indices of the kept rows of ``xy``.

    Returns
    -------
    xy_inside : ndarray of float64, shape (k, 2)
        Candidates inside the region, in input order [m].
    index : ndarray of int64, shape (k,)
        Only with ``return_index``.

    Raises
    ------
    ValueError
        No candidates, none inside the region, any outside with ``on_outside="raise"``,
        or a malformed region.
    """
    pts = _as_xy("xy", xy)
    if on_outside not in ("drop", "raise"):
        raise ValueError(f"on_outside={on_outside!r} is invalid; allowed: 'drop' or 'raise'")
    inside = _region_mask(pts, region)
    if not inside.any():
        raise ValueError(f"all {pts.shape[0]} candidates lie outside the region (first at "
                         f"{pts[0].tolist()}); check the CRS and the region")
    if on_outside == "raise" and not inside.all():
        k = int(np.flatnonzero(~inside)[0])
        raise ValueError(f"{int((~inside).sum())} of {pts.shape[0]} candidates lie outside the "
                         f"region, first xy[{k}]={pts[k].tolist()}; allowed: inside the region")
    index = np.flatnonzero(inside)
    return (pts[index], index) if return_index else pts[index]


def settlement_candidates(settlement_xy, *, min_spacing_m, people=None, region=None,
                          max_count=None, return_index=False):
    """One candidate per settlement, thinned so no two are within ``min_spacing_m``.

    Settlements are visited from the most populous (input order without ``people``; ties keep
    input order); each one kept removes every later settlement within ``min_spacing_m`` of it
    (distance <= ``min_spacing_m``). So the kept candidates are pairwise more than
    ``min_spacing_m`` apart, and every dropped settlement lies within ``min_spacing_m`` of a
    kept one that is at least as populous.

    Parameters
    ----------
    settlement_xy : array_like, shape (n, 2)
        Settlement positions [m].
    min_spacing_m : float
        Thinning distance, >= 0; 0 removes exact duplicates only [m].
    people : array_like, shape (n,), optional
        People per settlement, finite and >= 0, sets the priority [people].
    region : optional
        As in :func:`filter_inside`; if given, every settlement must lie inside it, else
        ValueError (a settlement outside the district usually means a CRS mistake).
    max_count : int, optional
        Keep at most this many (the first in priority order), >= 1.
    return_index : bool, optional
        Also return the indices of the kept settlements.

    Returns
    -------
    xy : ndarray of float64, shape (k, 2)
        Kept settlement positions, in priority order [m].
    index : ndarray of int64, shape (k,)
        Only with ``return_index``: rows of ``settlement_xy`` kept.

    Raises
    ------
    ValueError
        No settlements, bad shapes or values, settlements outside ``region``.
    """
    pts = _as_xy("settlement_xy", settlement_xy)
    r = _finite("min_spacing_m", min_spacing_m)
    if r < 0:
        raise ValueError(f"min_spacing_m={min_spacing_m} is invalid; allowed: >= 0 m")
    if max_count is not None:
        max_count = _positive_int("max_count", max_count)
    n = pts.shape[0]
    if people is None:
        order = np.arange(n)
    else:
        p = np.asarray(people, dtype=np.float64)
        if p.shape != (n,):
            raise ValueError(f"people has shape {p.shape}, expected ({n},) to match "
                             "settlement_xy")
        bad = ~np.isfinite(p) | (p < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"people[{k}]={p[k]} is invalid; allowed: finite and >= 0")
        order = np.argsort(-p, kind="stable")
    if region is not None:
        filter_inside(pts, region, on_outside="raise")

    neighbours = cKDTree(pts).query_ball_point(pts, r)
    removed = np.zeros(n, dtype=bool)
    kept = []
    for k in order:
        if removed[k]:
            continue
        kept.append(k)
        if max_count is not None and len(kept) == max_count:
            break
        removed[neighbours[k]] = True
    index = np.asarray(kept, dtype=np.int64)
    return (pts[index], index) if return_index else pts[index]
