"""Turning a scenario's site groups into site positions (existing first, then new)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..region.grid import Grid
from ..region.population import Population, settlement_clusters
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


def cluster_positions(grid: Grid, pop: Population, *, count: int = 0, spacing_m: float = 0.0,
                      placed_x: list, placed_y: list, cell_m: float = 1000.0,
                      min_density_per_km2: float = 300.0, min_people: int = 500,
                      max_radius_m: float = 2000.0, rng=None):
    """One site per settlement cluster (:func:`simulator.region.population.settlement_clusters`).

    Clusters are taken largest first; a cluster whose site would be closer than
    ``spacing_m`` to a site placed by an earlier group (existing towers, say) is taken as
    served and gets none; ``count > 0`` caps the number of sites (0: every cluster).
    Accepted sites are appended to ``placed_x``/``placed_y``.

    Returns
    -------
    x_m, y_m : numpy.ndarray
        Site positions [m].
    clusters : SettlementClusters
        Every cluster found (for the warnings and the summary).
    """
    cl = settlement_clusters(grid, pop.people, cell_m=cell_m,
                             min_density_per_km2=min_density_per_km2, min_people=min_people,
                             max_radius_m=max_radius_m, rng=rng)
    before_x, before_y = list(placed_x), list(placed_y)
    xs, ys = [], []
    for x, y in zip(cl.x_m, cl.y_m):
        if count and len(xs) >= count:
            break
        if _far_enough(x, y, before_x, before_y, spacing_m):
            xs.append(float(x))
            ys.append(float(y))
    placed_x.extend(xs)
    placed_y.extend(ys)
    return np.array(xs), np.array(ys), cl


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


def place_on_clusters(grid: Grid, pop: Population, group, key: str, rng, placed_x: list,
                      placed_y: list, warnings: list) -> tuple[np.ndarray, np.ndarray]:
    """Sites of a ``placement: settlement_clusters`` group (a :class:`~simulator.schema.
    SiteGroupSpec`), with a warning in ``warnings`` when clusters are left without one.

    ``key`` is the group's scenario key (``sites.new.0``), named in the warnings.
    """
    from ..schema import ClusterSpec

    c = group.clusters or ClusterSpec()
    xs, ys, cl = cluster_positions(
        grid, pop, count=group.count, spacing_m=group.min_spacing_km * 1000.0,
        placed_x=placed_x, placed_y=placed_y, cell_m=c.cell_km * 1000.0,
        min_density_per_km2=c.min_density_per_km2, min_people=c.min_people,
        max_radius_m=c.max_radius_km * 1000.0, rng=rng)
    if len(cl) == 0:
        warnings.append(f"{key}: no settlement cluster (cells of {cl.cell_m / 1000:g} km with "
                        f">= {c.min_density_per_km2:g} people per km2 adding up to >= "
                        f"{c.min_people:,} people); no sites placed: lower "
                        f"{key}.clusters.min_density_per_km2 or min_people")
    elif len(xs) < len(cl):
        why = (f"count: {group.count}" if group.count and len(xs) == group.count else
               f"the rest within {group.min_spacing_km:g} km of earlier sites")
        warnings.append(f"{key}: {len(cl):,} settlement clusters, {len(xs):,} sites placed "
                        f"({why})")
    return xs, ys


def group_build_years(group, n: int) -> np.ndarray:
    """Build year of each of the ``n`` sites a group (a :class:`~simulator.schema.
    SiteGroupSpec`) placed: a position's own ``build_year`` (``placement: list``) or the
    group's. [years, int64]"""
    years = np.full(n, int(group.build_year), dtype=np.int64)
    if group.placement == "list" and group.positions:
        for p, pos in enumerate(group.positions[:n]):
            if pos.build_year is not None:
                years[p] = int(pos.build_year)
    return years
