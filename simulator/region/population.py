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


def integer_people(people_estimate, *, total_people: int | None = None,
                   method: str = "cumulative") -> np.ndarray:
    """Whole people per cell from a non-negative estimate, the total exact.

    The estimate is first scaled to sum to ``total_people`` (default
    ``round(estimate.sum())``). Then, with ``method``:

    ``"cumulative"`` (default)
        cells are visited along a Hilbert curve (a 2-D array; a 1-D one in order); cell
        ``i`` gets ``R(i) - R(i-1)`` with ``R(i) = floor(C(i) + 1/2)`` and ``C(i)`` the
        running sum of the estimate along the curve (error diffusion along a
        space-filling curve, as in Riemersma's dithering). Every cell differs from its
        estimate by less than one person, and every run of consecutive cells along the
        curve holds its estimated people to within one person; the curve visits every
        aligned square block of ``2^k x 2^k`` cells in one run, so each such block does
        too. Where the estimate is 0.2 a cell, one cell in five has a person, scattered
        evenly: sparse people keep their place.
    ``"largest_remainder"``
        Hamilton's apportionment: each cell gets ``floor(estimate)``, the people still
        missing go one each to the cells with the largest fractional parts (ties: the
        first cells in row-major order). Also within one person per cell, but where most
        cells hold less than one person it moves all of them to the cells with the
        largest fractions, which can be kilometres away (a 1 km raster on a 100 m grid).

    Parameters
    ----------
    people_estimate : array_like
        Non-negative, finite people per cell [people], 1-D or 2-D.
    total_people : int, optional
        The exact total wanted [people].
    method : {"cumulative", "largest_remainder"}

    Returns
    -------
    numpy.ndarray
        int64, the shape of ``people_estimate``; sums to ``total_people``.
    """
    est = np.asarray(people_estimate, dtype=np.float64)
    if est.size and (not np.all(np.isfinite(est)) or est.min() < 0):
        raise ValueError("people_estimate must be finite and >= 0")
    if method not in ("cumulative", "largest_remainder"):
        raise ValueError(f"method={method!r}; allowed: cumulative, largest_remainder")
    total = int(round(float(est.sum()))) if total_people is None else int(total_people)
    if total < 0:
        raise ValueError(f"total_people={total} must be >= 0")
    if total == 0 or est.size == 0:
        return np.zeros(est.shape, np.int64)
    s = est.sum()
    if s <= 0:
        est = np.full(est.shape, total / est.size)
        s = float(total)
    if method == "cumulative":
        flat_est = est.ravel()
        cells = np.flatnonzero(flat_est > 0)  # cells at 0 get 0 whatever the path
        if est.ndim == 2:
            ncols = est.shape[1]
            key = hilbert_index((cells // ncols).astype(np.int32),
                                (cells % ncols).astype(np.int32), max(est.shape))
            cells = cells[np.argsort(key)]  # Hilbert positions are distinct
            del key
        run = np.cumsum(flat_est[cells])
        run *= total / s
        run += 0.5
        run = np.floor(run, out=run).astype(np.int64)
        np.minimum(run, total, out=run)
        run[-1] = total
        out = np.zeros(est.size, np.int64)
        out[cells] = np.diff(run, prepend=0)
        return out.reshape(est.shape)
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


def hilbert_index(rows, cols, size: int) -> np.ndarray:
    """Position of cells along the Hilbert curve that fills a square of side
    ``2^ceil(log2(size))`` (int64, same shape as ``rows``).

    The classic ``xy2d`` conversion (J. Skilling, "Programming the Hilbert curve", AIP
    Conference Proceedings 707, 381, 2004; in the loop form of H. S. Warren, "Hacker's
    Delight", 2nd ed., section 16-2), vectorised over the cells.
    """
    n = 1
    while n < size:
        n *= 2
    kind = np.int32 if n <= 2**30 else np.int64
    x = np.array(cols, dtype=kind)
    y = np.array(rows, dtype=kind)
    d = np.zeros(x.shape, np.int64)
    s = n // 2
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += (s * s) * ((3 * rx.astype(np.int64)) ^ ry)
        flip = ~ry & rx
        np.subtract(n - 1, x, out=x, where=flip)
        np.subtract(n - 1, y, out=y, where=flip)
        swap = ~ry
        tmp = x[swap]
        x[swap] = y[swap]
        y[swap] = tmp
        s //= 2
    return d


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
    tot, wx, wy = _block_sums(grid, people, n)
    tot, wx, wy = tot.ravel(), wx.ravel(), wy.ravel()
    has = tot > 0
    bx = wx[has] / tot[has]
    by = wy[has] / tot[has]
    bp = np.rint(tot[has]).astype(np.int64)
    order = np.argsort(-bp, kind="stable")
    return bx[order], by[order], bp[order]


def _block_sums(grid: Grid, people: np.ndarray, n: int):
    """People, people x easting and people x northing summed on blocks of ``n x n`` cells
    (the last ones cut by the grid's edge), each ``(ceil(nrows / n), ceil(ncols / n))``.

    A strip of ``n`` rows at a time: memory of one strip, not of the grid.
    """
    nbr, nbc = -(-grid.nrows // n), -(-grid.ncols // n)
    starts = np.arange(0, grid.ncols, n)
    xc, yc = grid.x_centres(), grid.y_centres()
    tot, wx, wy = np.empty((nbr, nbc)), np.empty((nbr, nbc)), np.empty((nbr, nbc))
    for i in range(nbr):
        strip = np.asarray(people[i * n:(i + 1) * n], dtype=np.float64)
        col = strip.sum(axis=0)
        tot[i] = np.add.reduceat(col, starts)
        wx[i] = np.add.reduceat(col * xc, starts)
        wy[i] = np.add.reduceat(yc[i * n:(i + 1) * n] @ strip, starts)
    return tot, wx, wy


def population_from_array(grid: Grid, people_estimate, *, total_people: int | None = None,
                          block_m: float = 1000.0) -> Population:
    """A :class:`Population` from people per grid cell (e.g. a resampled raster).

    ``people_estimate`` (float, >= 0, the grid's shape) is rounded to whole people with
    :func:`integer_people` (``"cumulative"``: sparse people keep their place). Its
    "settlements" are 1 km blocks (:func:`block_settlements`),
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


# --------------------------------------------------------------------------- disaggregation
def pycnophylactic(initial, zones, zone_totals, *, mask=None, n_iter: int = 10,
                   tol: float = 1e-4, overwrite_initial: bool = False
                   ) -> tuple[np.ndarray, int, float]:
    """Smooth people per cell that keep each source zone's total: Tobler's pycnophylactic
    (mass-preserving) interpolation.

    A coarse population raster (1 km WorldPop) on a finer grid (100 m) gives, if each
    coarse cell is spread evenly, a surface of flat squares with cliffs at their edges.
    Tobler's method [3]_ instead seeks the smoothest surface whose sum over each source
    cell (zone) equals that cell's people. It iterates, starting from ``initial``:

    1. smooth: each cell becomes the mean of itself and the mean of its in-mask
       4-neighbours (a damped Jacobi step of Laplace's equation; cells outside ``mask``
       are not neighbours, so nothing flows out of the region: Neumann boundary);
    2. scale each zone so its sum is its total again (zones of total 0 become 0).

    Step 2 is the multiplicative form of Tobler's volume-preserving correction: the
    smoothed values are averages of non-negative ones, so no cell can go negative and the
    additive form's clamp to zero is not needed. It stops after ``n_iter`` steps or when
    step 2 changed no zone by more than ``tol`` (relative): the smoothing then moves almost
    no people across zone edges.

    Parameters
    ----------
    initial : numpy.ndarray
        Non-negative people per cell to start from [people], float, 2-D.
    zones : numpy.ndarray
        Integer zone (source cell) of each cell, ``>= 0``, shape of ``initial``; a cell of
        zone ``len(zone_totals)`` is outside (as if masked).
    zone_totals : numpy.ndarray
        People of each zone [people], indexed by zone, ``>= 0``.
    mask : numpy.ndarray of bool, optional
        Cells that may hold people (the region); the rest are 0. Default: all.
    n_iter : int
        Most smoothing steps.
    tol : float
        Stop when the largest correction of a zone with people, ``abs(total / sum - 1)``
        (the sum after smoothing), is below it.
    overwrite_initial : bool
        Work in ``initial`` itself (a float64 C-ordered array; it holds the result) instead
        of a copy: less memory for region-sized grids.

    Returns
    -------
    people : numpy.ndarray
        float64, the shape of ``initial``, ``>= 0``; each zone sums to its total (to
        float rounding) when the zone has at least one cell in ``mask`` with a positive
        start or a positive neighbour.
    iterations : int
        Steps made.
    last_change : float
        Largest zone correction of the last step (relative).

    References
    ----------
    .. [3] W. R. Tobler, "Smooth pycnophylactic interpolation for geographical regions",
       Journal of the American Statistical Association 74 (367), 519-530, 1979.
    """
    if overwrite_initial and not (isinstance(initial, np.ndarray) and
                                  initial.dtype == np.float64 and initial.flags.c_contiguous):
        raise ValueError("overwrite_initial needs a C-ordered float64 array")
    f = initial if overwrite_initial else np.array(initial, dtype=np.float64)
    zones = np.asarray(zones)
    totals = np.asarray(zone_totals, dtype=np.float64)
    if f.ndim != 2 or zones.shape != f.shape:
        raise ValueError("initial and zones must be 2-D arrays of one shape")
    if not (np.all(np.isfinite(f)) and f.min(initial=0.0) >= 0):
        raise ValueError("initial must be finite and >= 0")
    if not (np.all(np.isfinite(totals)) and totals.min(initial=0.0) >= 0):
        raise ValueError("zone_totals must be finite and >= 0")
    nz = totals.size
    if zones.size and (zones.min() < 0 or zones.max() > nz):
        raise ValueError("zones must be in [0, len(zone_totals)]")
    m = zones < nz
    if mask is not None:
        m &= np.asarray(mask, bool)
    # cells outside go to a dummy zone of total 0 (no copy when zones already say so)
    if mask is None and zones.dtype == np.intp and zones.flags.c_contiguous:
        z = zones.ravel()
    else:
        z = np.where(m, zones, nz).astype(np.intp, copy=False).ravel()
    t = np.append(totals, 0.0)
    # half the reciprocal of the in-mask neighbours (0 outside the mask or alone), float32
    # (values 1/8, 1/6, 1/4, 1/2: exact)
    half_inv = _neighbour_sum(m.astype(np.float32))
    np.divide(np.float32(0.5), half_inv, out=half_inv, where=half_inv > 0)
    half_inv[~m] = 0.0
    f *= m
    work = np.empty_like(f)           # one buffer reused by every step (no allocation)
    flat_work = work.ravel()
    scale = np.empty(nz + 1)
    has = np.zeros(nz + 1, bool)
    iterations, change = 0, 0.0
    for iterations in range(1, int(n_iter) + 1):
        _neighbour_sum(f, out=work)
        work *= half_inv
        f *= 0.5
        f += work                     # 0.5 f + 0.5 mean of the neighbours (0 outside)
        flat = f.ravel()
        got = np.bincount(z, weights=flat, minlength=nz + 1)
        scale.fill(0.0)
        np.greater(got, 0, out=has)
        np.divide(t, got, out=scale, where=has)
        # how far the smoothing moved people across the edges of peopled zones this step
        # (zones of 0 people are reset to 0 every step, |scale - 1| = 1 there)
        change = float(np.abs(scale[has & (t > 0)] - 1.0).max(initial=0.0))
        np.take(scale, z, out=flat_work)
        flat *= flat_work
        if change < tol:
            break
    return f, iterations, change


def _neighbour_sum(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of the 4 neighbours of each cell (cells beyond the edge count as 0)."""
    s = np.zeros_like(a) if out is None else out
    if out is not None:
        s.fill(0.0)
    s[1:] += a[:-1]
    s[:-1] += a[1:]
    s[:, 1:] += a[:, :-1]
    s[:, :-1] += a[:, 1:]
    return s


# --------------------------------------------------------------------------- settlement clusters
@dataclass
class SettlementClusters:
    """Settlement clusters found in people per cell, and one site position for each.

    Attributes
    ----------
    x_m, y_m : numpy.ndarray
        Site position of each cluster [m]: the populated grid cell nearest the cluster's
        people-weighted centre (so it is in the cluster and in the region).
    people : numpy.ndarray
        People in each cluster (int64), in decreasing order.
    area_km2 : numpy.ndarray
        Area of each cluster's dense cells [km2].
    parent : numpy.ndarray
        Index of the connected dense area each cluster belongs to (clusters split from
        one wide area share it).
    n_connected : int
        Connected dense areas of at least ``min_people`` (before splitting).
    cell_m : float
        Side of the cells the density was measured on [m].
    """

    x_m: np.ndarray
    y_m: np.ndarray
    people: np.ndarray
    area_km2: np.ndarray
    parent: np.ndarray
    n_connected: int
    cell_m: float

    def __len__(self) -> int:
        return int(self.people.size)


def settlement_clusters(grid: Grid, people: np.ndarray, *, cell_m: float = 1000.0,
                        min_density_per_km2: float = 300.0, min_people: int = 500,
                        max_radius_m: float = 2000.0, rng=None) -> SettlementClusters:
    """Settlement clusters of a population grid (raster or synthetic), largest first.

    Method (the cluster rule of the Degree of Urbanisation [4]_, then a split by reach):

    1. people are summed on square cells of ``n = max(1, round(cell_m / resolution_m))``
       grid cells a side (1 km2 by default, the manual's grid);
    2. a cell is dense when its people per km2 (of the whole cell) reach
       ``min_density_per_km2`` (300 by default: the manual's threshold for villages,
       towns and suburbs);
    3. dense cells touching by a side or a corner form one connected area (8-connectivity,
       as the manual's clusters); areas with fewer than ``min_people`` are dropped (500 by
       default: the manual's smallest village);
    4. an area larger than one site's disc, ``pi * max_radius_m**2``, is split into
       ``k = ceil(area / (pi * max_radius_m**2))`` clusters by people-weighted k-means on
       its cells (k-means++ seeding from ``rng``, then Lloyd iterations until no cell
       changes cluster, at most 100): in dense countries (Burundi) most people live in a
       few very large connected areas, and one site for each would be meaningless;
    5. each cluster's site goes to the populated grid cell nearest its people-weighted
       centre.

    Parameters
    ----------
    grid : Grid
    people : numpy.ndarray
        People per cell (the grid's shape), >= 0.
    cell_m : float
        Side of the density cells [m].
    min_density_per_km2 : float
        Density of a dense cell [people/km2].
    min_people : int
        Fewest people of a connected area [people].
    max_radius_m : float
        Radius of the disc that bounds a cluster's area [m].
    rng : numpy.random.Generator or int, optional
        For the k-means++ seeding (SPEC 7).

    Returns
    -------
    SettlementClusters

    References
    ----------
    .. [4] European Commission, FAO, UN-Habitat, ILO, OECD and World Bank, "Applying the
       Degree of Urbanisation: a methodological manual to define cities, towns and rural
       areas for international comparisons", 2021 edition, chapter 2 (urban clusters:
       contiguous 1 km2 cells including diagonals of >= 300 inhabitants per km2; villages:
       500 to 5,000 inhabitants). Endorsed by the UN Statistical Commission in March 2020.
    """
    from scipy import ndimage

    p = np.asarray(people)
    if p.shape != grid.shape:
        raise ValueError(f"people shape {p.shape} does not match the grid {grid.shape}")
    if not (cell_m > 0 and max_radius_m > 0 and min_density_per_km2 >= 0 and min_people >= 0):
        raise ValueError("cell_m and max_radius_m must be > 0, min_density_per_km2 and "
                         "min_people >= 0")
    rng = np.random.default_rng(rng)
    res = grid.resolution_m
    n = max(1, int(round(cell_m / res)))
    side_m = n * res
    nbc = -(-grid.ncols // n)
    block_people, wx, wy = _block_sums(grid, p, n)
    wx, wy = wx.ravel(), wy.ravel()
    dense = block_people / (side_m / 1000.0) ** 2 >= min_density_per_km2
    dense &= block_people > 0
    labels, n_areas = ndimage.label(dense, structure=np.ones((3, 3), bool))
    empty = SettlementClusters(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0),
                               np.zeros(0, np.int64), 0, side_m)
    if n_areas == 0:
        return empty
    area_people = np.bincount(labels.ravel(), weights=block_people.ravel(),
                              minlength=n_areas + 1)
    keep = area_people >= max(min_people, 1e-9)
    keep[0] = False
    if not keep.any():
        return empty
    # block centres (people-weighted) and people of every dense block of a kept area
    rr, cc = np.nonzero(keep[labels])
    area_of = labels[rr, cc]
    bidx = rr * nbc + cc
    bw = block_people.ravel()[bidx]
    bx, by = wx[bidx] / bw, wy[bidx] / bw
    disc_km2 = np.pi * (max_radius_m / 1000.0) ** 2
    cell_km2 = (side_m / 1000.0) ** 2
    part = np.empty(bidx.size, np.int64)
    parent = []
    order_areas = np.flatnonzero(keep)
    n_parts = 0
    for a in order_areas:
        sel = np.flatnonzero(area_of == a)
        k = int(np.ceil(sel.size * cell_km2 / disc_km2 - 1e-9))
        k = max(1, min(k, sel.size))
        lab = _weighted_kmeans(np.c_[bx[sel], by[sel]], bw[sel], k, rng) if k > 1 else \
            np.zeros(sel.size, np.int64)
        _, lab = np.unique(lab, return_inverse=True)
        part[sel] = n_parts + lab
        used = int(lab.max()) + 1
        parent.extend([int(np.searchsorted(order_areas, a))] * used)
        n_parts += used
    parent = np.asarray(parent, np.int64)
    pp = np.bincount(part, weights=bw, minlength=n_parts)
    cx = np.bincount(part, weights=bw * bx, minlength=n_parts) / pp
    cy = np.bincount(part, weights=bw * by, minlength=n_parts) / pp
    area = np.bincount(part, minlength=n_parts) * cell_km2
    # the populated grid cell nearest each part's centre, searched in the part's block
    # nearest that centre
    sx, sy = np.empty(n_parts), np.empty(n_parts)
    d2 = (bx - cx[part]) ** 2 + (by - cy[part]) ** 2
    best = np.full(n_parts, -1, np.int64)
    order = np.lexsort((d2, part))
    first = np.r_[True, part[order][1:] != part[order][:-1]]
    best[part[order][first]] = order[first]
    xc, yc = grid.x_centres(), grid.y_centres()
    for j in range(n_parts):
        b = bidx[best[j]]
        r0, c0 = (b // nbc) * n, (b % nbc) * n
        win = p[r0:r0 + n, c0:c0 + n]
        rs, cs = np.nonzero(win > 0)
        dd = (xc[c0 + cs] - cx[j]) ** 2 + (yc[r0 + rs] - cy[j]) ** 2
        i = int(np.argmin(dd))
        sx[j], sy[j] = xc[c0 + cs[i]], yc[r0 + rs[i]]
    people_out = np.rint(pp).astype(np.int64)
    o = np.lexsort((np.arange(n_parts), -people_out))
    return SettlementClusters(sx[o], sy[o], people_out[o], area[o], parent[o],
                              int(order_areas.size), side_m)


def _weighted_kmeans(xy: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator,
                     n_iter: int = 100) -> np.ndarray:
    """Labels of people-weighted k-means: k-means++ seeding [5]_ (weights times squared
    distance), then Lloyd iterations until no point changes cluster (at most ``n_iter``).

    .. [5] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful seeding",
       Proc. 18th ACM-SIAM Symposium on Discrete Algorithms, 1027-1035, 2007.
    """
    from scipy.spatial import cKDTree

    n = w.size
    centres = np.empty((k, 2))
    i = int(rng.choice(n, p=w / w.sum()))
    centres[0] = xy[i]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        q = w * d2
        s = q.sum()
        i = int(rng.choice(n, p=q / s)) if s > 0 else int(np.argmax(d2))
        centres[j] = xy[i]
        d2 = np.minimum(d2, ((xy - centres[j]) ** 2).sum(axis=1))
    lab = np.full(n, -1, np.int64)
    for _ in range(n_iter):
        _, new = cKDTree(centres).query(xy)
        if np.array_equal(new, lab):
            break
        lab = new
        tot = np.bincount(lab, weights=w, minlength=k)
        has = tot > 0
        centres[has, 0] = np.bincount(lab, weights=w * xy[:, 0], minlength=k)[has] / tot[has]
        centres[has, 1] = np.bincount(lab, weights=w * xy[:, 1], minlength=k)[has] / tot[has]
    return lab
