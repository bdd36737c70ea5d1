"""Where people earn more: the median income of the people each site serves.

The affordability barrier (:func:`simulator.business.adoption.affordability_share`) needs a
median income. One number for a whole region makes every scenario print the same share of
covered people connected, wherever its sites stand. ``adoption.income_model`` says how the
income varies in space:

``uniform``
    ``adoption.median_income_usd_per_month`` everywhere.
``density`` (catalogue default)
    Incomes follow the size of the place: the median income at a site is the scenario's
    median times :func:`simulator.business.adoption.income_density_factor` of the population
    density within ``income_density_radius_km`` of the site, relative to the density around
    the typical person of the region (the people-weighted geometric mean over the
    population's settlements, so the scenario's median stays the median of the region's
    people). Elasticity: ``income_density_elasticity`` (0.17, the World Bank's figure for six
    African countries, see that function).
``raster``
    A GeoTIFF of median income per person [USD/month] (``adoption.income_raster``), read at
    each site's position (:func:`simulator.io.income.sample_income_raster`).

Every site's users share the income of the place the site stands in (one value per site:
what the per-site totals of both the in-memory and the tiled run can carry).

Densities are computed on blocks of about half the radius (people summed per block, a disc of
blocks around each block), so the cost follows the number of blocks, not the grid cells.
"""

from __future__ import annotations

import numpy as np

from . import adoption as ad

__all__ = ["block_people", "disc_density_per_km2", "site_incomes_usd_per_month"]


def block_people(people: np.ndarray, factor: int) -> np.ndarray:
    """People summed over blocks of ``factor`` x ``factor`` cells (edges: partial blocks).

    Summed strip by strip, so no copy of the whole grid is made.
    """
    people = np.asarray(people)
    rows, cols = people.shape
    f = max(int(factor), 1)
    nb_r, nb_c = -(-rows // f), -(-cols // f)
    out = np.zeros((nb_r, nb_c), dtype=np.float64)
    col_starts = np.arange(0, cols, f)
    for br in range(nb_r):
        strip = people[br * f:(br + 1) * f].sum(axis=0, dtype=np.float64)
        out[br] = np.add.reduceat(strip, col_starts)
    return out


def _disc_kernel(radius_blocks: float) -> np.ndarray:
    r = int(np.ceil(radius_blocks))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (xx * xx + yy * yy <= radius_blocks * radius_blocks + 1e-9).astype(np.float64)


def disc_density_per_km2(blocks: np.ndarray, block_m: float, radius_m: float) -> np.ndarray:
    """People per km2 within ``radius_m`` of every block centre (a disc of whole blocks)."""
    from scipy import ndimage

    k = _disc_kernel(radius_m / block_m)
    area_km2 = k.sum() * (block_m / 1000.0) ** 2
    total = ndimage.convolve(blocks, k, mode="constant", cval=0.0)
    return np.maximum(total, 0.0) / area_km2


def _block_index(grid, block_m: float, x_m, y_m, shape) -> tuple[np.ndarray, np.ndarray]:
    col = np.floor((np.asarray(x_m, float) - grid.x_min_m) / block_m).astype(np.int64)
    row = np.floor((grid.y_max_m - np.asarray(y_m, float)) / block_m).astype(np.int64)
    return np.clip(row, 0, shape[0] - 1), np.clip(col, 0, shape[1] - 1)


def site_incomes_usd_per_month(median_income_usd_per_month: float, *, model: str, grid=None,
                               population=None, site_xy_m=None, elasticity: float = 0.17,
                               radius_km: float = 2.0, raster_values=None) -> dict:
    """Median income per site and how it was found.

    Parameters
    ----------
    median_income_usd_per_month : float
        The scenario's median income [USD/month].
    model : {"uniform", "density", "raster"}
    grid, population : Grid, Population
        For ``density`` (people per cell and the settlements).
    site_xy_m : ndarray, shape (n, 2)
        Site positions [m].
    elasticity, radius_km : float
        ``density``: income elasticity with respect to density [-], disc radius [km].
    raster_values : ndarray, shape (n,)
        ``raster``: the raster's value at each site (NaN: no data there) [USD/month].

    Returns
    -------
    dict
        ``income_usd_per_month`` (ndarray, shape (n,)), ``model``, and for ``density``
        ``density_per_km2`` (per site) and ``reference_density_per_km2``; for ``raster``
        ``sites_without_data`` (sites given the scenario median).
    """
    xy = np.empty((0, 2)) if site_xy_m is None else np.asarray(site_xy_m, float).reshape(-1, 2)
    n = xy.shape[0]
    m = float(median_income_usd_per_month)
    if model == "uniform" or n == 0:
        return {"model": model, "income_usd_per_month": np.full(n, m)}
    if model == "raster":
        vals = np.asarray(raster_values, dtype=np.float64).reshape(n)
        missing = ~np.isfinite(vals)
        return {"model": model, "income_usd_per_month": np.where(missing, m, vals),
                "sites_without_data": int(missing.sum())}
    if model != "density":
        raise ValueError(f"income_model={model!r} is not allowed; use 'uniform', 'density' "
                         "or 'raster'")
    radius_m = float(radius_km) * 1000.0
    factor = max(int(round(radius_m / 2.0 / grid.resolution_m)), 1)
    block_m = factor * grid.resolution_m
    blocks = block_people(population.people, factor)
    dens = disc_density_per_km2(blocks, block_m, radius_m)
    # the typical person: people-weighted geometric mean over the settlements (their
    # blocks); without settlements, over the populated blocks
    sx, sy = population.settlement_x_m, population.settlement_y_m
    if len(sx):
        r, c = _block_index(grid, block_m, sx, sy, dens.shape)
        w, d_ref = np.asarray(population.settlement_people, float), dens[r, c]
    else:
        w, d_ref = blocks.ravel(), dens.ravel()
    ok = (w > 0) & (d_ref > 0)
    ref = float(np.exp(np.sum(w[ok] * np.log(d_ref[ok])) / w[ok].sum())) if ok.any() else 1.0
    r, c = _block_index(grid, block_m, xy[:, 0], xy[:, 1], dens.shape)
    d_site = dens[r, c]
    f = np.asarray(ad.income_density_factor(np.r_[d_site, ref], ref, elasticity=elasticity))
    return {"model": model, "income_usd_per_month": m * f[:n], "density_per_km2": d_site,
            "reference_density_per_km2": ref}
