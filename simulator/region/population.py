"""Population: people per cell, synthetic (clustered settlements) or from a raster.

The synthetic model follows how rural population is laid out in Sub-Saharan Africa: villages
cluster around market towns and along valleys (a Thomas cluster process: Poisson parents,
Gaussian-displaced offspring), village sizes are log-normal with a heavy upper tail, and a
share of households lives dispersed between villages.

References
----------
.. [1] M. Thomas, "A generalization of Poisson's binomial limit for use in ecology",
   Biometrika 36, 1949 (the Thomas cluster process).
.. [2] J. Illian et al., "Statistical Analysis and Modelling of Spatial Point Patterns",
   Wiley 2008, section 6.3 (Neyman-Scott / Thomas processes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import Grid


@dataclass
class Population:
    """People per cell on a grid, with the settlements that produced them (if synthetic).

    Attributes
    ----------
    people : numpy.ndarray
        int64 (nrows, ncols): people per cell. ``people.sum()`` is exact.
    settlement_x_m, settlement_y_m : numpy.ndarray
        Settlement centres [m] (empty for raster population).
    settlement_people : numpy.ndarray
        People in each settlement (int64).
    dispersed_people : int
        People living outside settlements.
    settlement_kind : str
        ``"synthetic"`` (settlements of the generator) or ``"block"`` (people-weighted
        centres of square blocks of cells, for a population from a raster), largest first.
    """

    people: np.ndarray
    settlement_x_m: np.ndarray
    settlement_y_m: np.ndarray
    settlement_people: np.ndarray
    dispersed_people: int = 0
    settlement_kind: str = "synthetic"

    @property
    def total(self) -> int:
        return int(self.people.sum())


def _thomas_points(n_points: int, n_parents: int, bounds, cluster_sigma_m: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Thomas-process offspring: Poisson parents, Gaussian offspring, kept inside ``bounds``.

    Offspring that fall outside the region are redrawn around their parent (at most 20
    rounds), then any left are placed uniformly, so exactly ``n_points`` points result.
    """
    x0, y0, x1, y1 = bounds
    px = rng.uniform(x0, x1, n_parents)
    py = rng.uniform(y0, y1, n_parents)
    parent = rng.integers(0, n_parents, n_points)
    x = np.empty(n_points)
    y = np.empty(n_points)
    todo = np.arange(n_points)
    for _ in range(20):
        if todo.size == 0:
            break
        x[todo] = px[parent[todo]] + rng.normal(0.0, cluster_sigma_m, todo.size)
        y[todo] = py[parent[todo]] + rng.normal(0.0, cluster_sigma_m, todo.size)
        inside = (x[todo] > x0) & (x[todo] < x1) & (y[todo] > y0) & (y[todo] < y1)
        todo = todo[~inside]
    if todo.size:
        x[todo] = rng.uniform(x0, x1, todo.size)
        y[todo] = rng.uniform(y0, y1, todo.size)
    return x, y


def _rasterise_settlements(grid: Grid, x, y, people, radius_m, rng) -> np.ndarray:
    """Spread each settlement's integer people over cells with a Gaussian footprint.

    The footprint's standard deviation is ``radius_m``; cells within 3 sigma of the centre
    (inside the grid) take people by a multinomial draw, so every person is placed.
    """
    out = np.zeros(grid.shape, dtype=np.int64)
    res = grid.resolution_m
    rows, cols = grid.cell_of(x, y)
    for k in range(len(people)):
        n = int(people[k])
        if n == 0:
            continue
        reach = max(1, int(np.ceil(3.0 * radius_m[k] / res)))
        r0, r1 = max(rows[k] - reach, 0), min(rows[k] + reach + 1, grid.nrows)
        c0, c1 = max(cols[k] - reach, 0), min(cols[k] + reach + 1, grid.ncols)
        xc = grid.x_centres(c0, c1)
        yc = grid.y_centres(r0, r1)
        d2 = (xc[None, :] - x[k]) ** 2 + (yc[:, None] - y[k]) ** 2
        w = np.exp(-0.5 * d2 / radius_m[k] ** 2)
        total = w.sum()
        if not np.isfinite(total) or total <= 0:
            out[min(max(rows[k], 0), grid.nrows - 1), min(max(cols[k], 0), grid.ncols - 1)] += n
            continue
        out[r0:r1, c0:c1] += rng.multinomial(n, (w / total).ravel()).reshape(w.shape)
    return out


def synthetic_population(grid: Grid, *, total_people: int, n_settlements: int,
                         n_clusters: int | None = None, cluster_radius_m: float = 4000.0,
                         dispersed_share: float = 0.15, size_sigma: float = 1.0,
                         radius_1000_m: float = 250.0, household_size: float = 5.0,
                         rng=None) -> Population:
    """Synthetic rural population on a grid, with an exact integer total.

    Parameters
    ----------
    grid : Grid
    total_people : int
        People in the region (exact: ``people.sum() == total_people``).
    n_settlements : int
        Number of villages/towns (>= 1 unless ``dispersed_share`` is 1).
    n_clusters : int, optional
        Number of Thomas-process parents; default ``max(1, n_settlements // 6)``.
    cluster_radius_m : float
        Standard deviation of settlement positions around their parent [m].
    dispersed_share : float
        Share of people in dispersed households between settlements, in [0, 1].
    size_sigma : float
        Log-normal sigma of settlement sizes (1.0-1.3 gives the heavy upper tail seen in
        census village sizes: a few towns of several thousand among villages of hundreds).
    radius_1000_m : float
        Footprint (Gaussian sigma) of a 1,000-person settlement [m]; scales with the
        square root of its size (constant built-up density).
    household_size : float
        Mean people per dispersed household.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    Population
    """
    if total_people < 0:
        raise ValueError(f"total_people={total_people} must be >= 0")
    if not 0.0 <= dispersed_share <= 1.0:
        raise ValueError(f"dispersed_share={dispersed_share} must be in [0, 1]")
    if n_settlements < 0:
        raise ValueError(f"n_settlements={n_settlements} must be >= 0")
    rng = np.random.default_rng(rng)
    if n_settlements == 0:
        dispersed_share = 1.0
    dispersed = int(round(total_people * dispersed_share))
    in_settlements = total_people - dispersed
    n_clusters = max(1, n_settlements // 6) if n_clusters is None else max(1, n_clusters)

    sx, sy = _thomas_points(n_settlements, n_clusters, grid.bounds, cluster_radius_m, rng)
    weights = rng.lognormal(mean=0.0, sigma=size_sigma, size=n_settlements)
    if n_settlements:
        sizes = rng.multinomial(in_settlements, weights / weights.sum())
    else:
        sizes = np.zeros(0, dtype=np.int64)
    radius = radius_1000_m * np.sqrt(np.maximum(sizes, 1) / 1000.0)
    radius = np.maximum(radius, grid.resolution_m / 4.0)
    people = _rasterise_settlements(grid, sx, sy, sizes, radius, rng)

    if dispersed:
        n_households = max(1, int(np.ceil(dispersed / household_size)))
        hx = rng.uniform(grid.x_min_m, grid.x_max_m, n_households)
        hy = rng.uniform(grid.y_min_m, grid.y_max_m, n_households)
        per_household = rng.multinomial(dispersed, np.full(n_households, 1.0 / n_households))
        rows, cols = grid.cell_of(hx, hy)
        rows = np.clip(rows, 0, grid.nrows - 1)
        cols = np.clip(cols, 0, grid.ncols - 1)
        people += np.bincount(rows * grid.ncols + cols, weights=per_household,
                              minlength=grid.n_cells).astype(np.int64).reshape(grid.shape)

    order = np.argsort(-sizes, kind="stable")
    return Population(people=people, settlement_x_m=sx[order], settlement_y_m=sy[order],
                      settlement_people=sizes[order].astype(np.int64),
                      dispersed_people=dispersed)


def integer_people(people_estimate, *, total_people: int | None = None) -> np.ndarray:
    """Whole people per cell from a non-negative estimate, by largest remainders.

    Each cell gets ``floor(estimate)``; the people still missing to reach ``total_people``
    (default ``round(estimate.sum())``) go one each to the cells with the largest
    fractional parts (ties: the first cells in row-major order). The result sums exactly
    to ``total_people`` and differs from the estimate by less than one person per cell
    when ``total_people`` is the rounded sum (Hamilton's apportionment method).

    Parameters
    ----------
    people_estimate : array_like
        Non-negative, finite people per cell [people].
    total_people : int, optional
        The exact total wanted [people].

    Returns
    -------
    numpy.ndarray
        int64, the shape of ``people_estimate``.
    """
    est = np.asarray(people_estimate, dtype=np.float64)
    if est.size and (not np.all(np.isfinite(est)) or est.min() < 0):
        raise ValueError("people_estimate must be finite and >= 0")
    total = int(round(float(est.sum()))) if total_people is None else int(total_people)
    if total < 0:
        raise ValueError(f"total_people={total} must be >= 0")
    s = est.sum()
    if total and s > 0:
        est = est * (total / s)
    base = np.floor(est).astype(np.int64)
    missing = total - int(base.sum())
    flat = base.ravel()
    if missing > 0:
        frac = (est - base).ravel()
        order = np.argsort(-frac, kind="stable")[:missing]
        flat[order] += 1
    elif missing < 0:  # only from float rounding of est * total / s
        frac = (est - base).ravel()
        order = np.argsort(frac, kind="stable")
        order = order[flat[order] > 0][:-missing]
        flat[order] -= 1
    return flat.reshape(est.shape)


def block_settlements(grid: Grid, people: np.ndarray, *, block_m: float = 1000.0):
    """People-weighted centres of square blocks of cells, largest first.

    Stand-ins for settlements when the population comes from a raster: the grid is cut
    into blocks of ``max(1, round(block_m / resolution_m))`` cells a side; each block with
    people gives one point at its people-weighted mean cell centre.

    Returns
    -------
    x_m, y_m : numpy.ndarray
        Block centres [m], in decreasing order of people.
    people : numpy.ndarray
        People per block (int64).
    """
    n = max(1, int(round(block_m / grid.resolution_m)))
    rows = np.arange(grid.nrows) // n
    cols = np.arange(grid.ncols) // n
    nbc = cols[-1] + 1
    block = (rows[:, None] * nbc + cols[None, :]).ravel()
    w = people.ravel().astype(np.float64)
    xc = np.broadcast_to(grid.x_centres()[None, :], grid.shape).ravel()
    yc = np.broadcast_to(grid.y_centres()[:, None], grid.shape).ravel()
    nb = int(block.max()) + 1
    tot = np.bincount(block, weights=w, minlength=nb)
    has = tot > 0
    bx = np.bincount(block, weights=w * xc, minlength=nb)[has] / tot[has]
    by = np.bincount(block, weights=w * yc, minlength=nb)[has] / tot[has]
    bp = np.rint(tot[has]).astype(np.int64)
    order = np.argsort(-bp, kind="stable")
    return bx[order], by[order], bp[order]


def population_from_array(grid: Grid, people_estimate, *, total_people: int | None = None,
                          block_m: float = 1000.0) -> Population:
    """A :class:`Population` from people per grid cell (e.g. a resampled raster).

    ``people_estimate`` (float, >= 0, the grid's shape) is rounded to whole people with
    :func:`integer_people`. Its "settlements" are 1 km blocks (:func:`block_settlements`),
    so ``largest_settlements`` site placement puts sites in the most populated blocks.
    """
    est = np.asarray(people_estimate)
    if est.shape != grid.shape:
        raise ValueError(f"people_estimate shape {est.shape} does not match the grid "
                         f"{grid.shape}")
    people = integer_people(est, total_people=total_people)
    bx, by, bp = block_settlements(grid, people, block_m=block_m)
    return Population(people=people, settlement_x_m=bx, settlement_y_m=by,
                      settlement_people=bp, dispersed_people=0, settlement_kind="block")
