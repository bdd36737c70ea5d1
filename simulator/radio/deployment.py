"""Turning a scenario's site groups into site positions (existing first, then new)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..region.grid import Grid
from ..region.population import Population
from .stations import Sites


def _far_enough(x, y, placed_x, placed_y, spacing_m) -> bool:
    if not placed_x or spacing_m <= 0:
        return True
    d2 = (np.asarray(placed_x) - x) ** 2 + (np.asarray(placed_y) - y) ** 2
    return bool(d2.min() >= spacing_m**2)


def largest_settlements(pop: Population, count: int, spacing_m: float,
                        placed_x: list, placed_y: list) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the largest settlements at least ``spacing_m`` from every placed site.

    Settlements are taken in decreasing size; each accepted one is added to ``placed_x``/
    ``placed_y`` so later groups keep their distance from it too.
    """
    xs, ys = [], []
    for x, y in zip(pop.settlement_x_m, pop.settlement_y_m):
        if len(xs) >= count:
            break
        if _far_enough(x, y, placed_x, placed_y, spacing_m):
            xs.append(x)
            ys.append(y)
            placed_x.append(x)
            placed_y.append(y)
    return np.array(xs), np.array(ys)


def grid_positions(grid: Grid, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sites on a regular lattice covering the region (row-major from north-west)."""
    if count == 0:
        return np.zeros(0), np.zeros(0)
    w, h = grid.x_max_m - grid.x_min_m, grid.y_max_m - grid.y_min_m
    ncols = max(1, int(np.ceil(np.sqrt(count * w / h))))
    nrows = int(np.ceil(count / ncols))
    xs = grid.x_min_m + (np.arange(ncols) + 0.5) * w / ncols
    ys = grid.y_max_m - (np.arange(nrows) + 0.5) * h / nrows
    gx, gy = np.meshgrid(xs, ys)
    return gx.ravel()[:count], gy.ravel()[:count]


def nearest_site_distance_m(sites: Sites, x_m, y_m) -> np.ndarray:
    """Distance from points to the nearest site [m] (inf when there are no sites)."""
    if len(sites) == 0:
        return np.full(np.shape(x_m), np.inf)
    d, _ = cKDTree(np.c_[sites.x_m, sites.y_m]).query(np.c_[np.ravel(x_m), np.ravel(y_m)])
    return d.reshape(np.shape(x_m))
