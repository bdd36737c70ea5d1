"""Display data of a tiled run, read back from its GeoTIFFs in bounded memory.

A tiled run never holds the region in memory, so its maps are drawn from the rasters it
has just written: :func:`read_coarse_map` reads them strip by strip (a strip is a band of
whole coarse rows, at most :data:`STRIP_CELLS` fine cells) and reduces each block of
``factor x factor`` fine cells into one coarse cell:

* people: **summed** (exact int64; the coarse total equals the fine total);
* covered cells, and people in uncovered cells: summed;
* signal: the **mean in dBm over the covered fine cells** of the block (NaN where none is
  covered), so the colour is the typical signal where there is coverage;
* terrain (terrain.tif, on terrain runs): the mean elevation, for the hillshade.

The signal CDF over people is exact without the fine cells in memory: the pass adds the
people of each fine cell to a histogram of 0.1 dB bins (:data:`CDF_STEP_DB`) of its
best-server signal, and counts exactly the people at or above the required signal.

Memory: a strip holds about 25 bytes a fine cell (the four rasters and their float64
sums), so at most about :data:`STRIP_CELLS` x 25 bytes = 100 MB, plus the coarse arrays
(about 40 bytes a coarse cell: 58 MB at 1,200 x 1,200) and GDAL's block cache (capped at
:data:`GDAL_CACHE_MB`). It does not grow with the region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..region.grid import Grid

#: Longest side of the coarse grid [coarse cells]: finer than the figure's pixels.
MAX_PIXELS = 1200
#: Fine cells per strip read from each raster (bounds the reading memory).
STRIP_CELLS = 4_000_000
#: GDAL block cache while reading [MB].
GDAL_CACHE_MB = 64
#: Bin width of the signal histogram behind the tiled CDF [dB].
CDF_STEP_DB = 0.1
#: Range of the signal histogram [dBm]; values outside fall into the end bins.
CDF_RANGE_DBM = (-250.0, 100.0)
#: Bins of the signal histogram.
CDF_BINS = int(round((CDF_RANGE_DBM[1] - CDF_RANGE_DBM[0]) / CDF_STEP_DB))


def signal_histogram(rx_dbm: np.ndarray, people: np.ndarray, required_dbm: float
                     ) -> tuple[np.ndarray, int, int]:
    """People per :data:`CDF_STEP_DB` bin of the signal (int64, exact), the people of
    cells without a signal (NaN), and the people at or above ``required_dbm`` (exact).
    Cells without people are left out. The tile pass of a run adds these up for all
    sites and for the existing sites alone (the tiled signal CDF's two curves)."""
    pop = people > 0
    rxp, wp = rx_dbm[pop], people[pop]
    fin = np.isfinite(rxp)
    hist = np.zeros(CDF_BINS, np.int64)
    if fin.any():
        rxf = rxp[fin].astype(np.float64)
        k = np.clip(np.floor((rxf - CDF_RANGE_DBM[0]) / CDF_STEP_DB).astype(np.int64), 0,
                    CDF_BINS - 1)
        hist = _weighted_counts(k, wp[fin], CDF_BINS)
    return hist, int(wp[~fin].sum()), int(wp[fin & (rxp >= required_dbm)].sum())


@dataclass
class CoarseMap:
    """Coarsened rasters of a run, for its maps and report (no region-sized arrays).

    Attributes
    ----------
    grid : Grid
        The coarse grid (``factor`` x the fine resolution, same north-west corner; it may
        reach up to ``factor - 1`` fine cells beyond the fine grid's south and east edges).
    fine_grid : Grid
        The run's grid (the map is clipped to its bounds).
    factor : int
        Fine cells per coarse cell side.
    people : numpy.ndarray
        int64 (coarse shape): people per coarse cell (sum of the fine cells).
    covered_cells, cells : numpy.ndarray
        int32: covered fine cells, and fine cells of the grid, per coarse cell.
    people_uncovered : numpy.ndarray
        int64: people in fine cells not covered, per coarse cell.
    rx_dbm : numpy.ndarray
        float32: mean best-server signal over the covered fine cells [dBm], NaN where none.
    terrain_m : numpy.ndarray or None
        float32 mean ground elevation [m] (terrain runs).
    region_mask : numpy.ndarray or None
        bool: coarse cells whose centre is inside the region boundary (None: no boundary).
    boundary : shapely geometry or None
        The region boundary in the grid CRS.
    cdf_edges_dbm : numpy.ndarray
        Upper edges of the signal histogram's bins [dBm].
    cdf_people : numpy.ndarray
        int64 people per bin (finite signal, people > 0).
    people_no_signal : int
        People in cells no site reaches (NaN signal).
    people_at_required : int
        People whose signal is at least ``required_dbm`` (exact).
    cdf_people_existing : numpy.ndarray or None
        The same histogram with the existing sites alone (from the run's tile pass,
        ``result.signal_cdf``); None without existing sites.
    people_no_signal_existing, people_at_required_existing : int
        The same counts with the existing sites alone.
    rx_min_dbm, rx_max_dbm : float
        Extreme signal over populated cells [dBm] (NaN when no one has a signal).
    required_dbm : float
        The required signal the exact count used [dBm].
    summary, scenario, technology, sites, stations, people_served_per_site, population, \
    business, site_load
        The run's (summary.json numbers; ``population`` keeps the settlements only).
    """

    grid: Grid
    fine_grid: Grid
    factor: int
    people: np.ndarray
    covered_cells: np.ndarray
    cells: np.ndarray
    people_uncovered: np.ndarray
    rx_dbm: np.ndarray
    terrain_m: np.ndarray | None
    cdf_edges_dbm: np.ndarray
    cdf_people: np.ndarray
    people_no_signal: int
    people_at_required: int
    rx_min_dbm: float
    rx_max_dbm: float
    required_dbm: float
    summary: dict
    scenario: object
    technology: object
    sites: object
    stations: dict
    people_served_per_site: np.ndarray | None = None
    population: object = None
    region_mask: np.ndarray | None = None
    boundary: object = None
    business: object = None
    site_load: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    cdf_people_existing: np.ndarray | None = None
    people_no_signal_existing: int = 0
    people_at_required_existing: int = 0
    clutter: object = None  # region.clutter.ClutterLayer on the coarse grid (majority class)

    @property
    def cell_km(self) -> float:
        """Side of a coarse cell [km]."""
        return self.grid.resolution_m / 1000.0

    @property
    def aggregation_text(self) -> str:
        """One phrase saying how the map is aggregated, e.g. "coarsened to 1.2 km cells
        (12 x 12 cells of 100 m) for display" ("drawn at the run's 100 m cells (not
        coarsened)" for a factor of 1)."""
        if self.factor == 1:
            return f"drawn at the run's {km_text(self.cell_km)} cells (not coarsened)"
        return (f"coarsened to {km_text(self.cell_km)} cells ({self.factor} x {self.factor} "
                f"cells of {self.fine_grid.resolution_m:g} m) for display")


def km_text(v: float) -> str:
    """A length given in km, for labels: in m below 1 km, 3 significant digits below
    10 km ("100 m", "1.2 km", "25 km")."""
    if v < 1:
        return f"{1000 * v:.3g} m"
    return f"{v:.3g} km" if v < 10 else f"{v:,.0f} km"


def coarse_factor(grid: Grid, max_pixels: int = MAX_PIXELS) -> int:
    """Fine cells per coarse cell side so the longer side has at most ``max_pixels``."""
    return max(1, math.ceil(max(grid.nrows, grid.ncols) / max(int(max_pixels), 1)))


def _block_sum(a: np.ndarray, f: int, out_cols: int, fill) -> np.ndarray:
    """Sum of ``f x f`` blocks of ``a`` (rows a multiple of f after padding with ``fill``)."""
    rows = -(-a.shape[0] // f) * f
    cols = out_cols * f
    if a.shape != (rows, cols):
        p = np.full((rows, cols), fill, dtype=a.dtype)
        p[:a.shape[0], :a.shape[1]] = a
        a = p
    return a.reshape(rows // f, f, out_cols, f).sum(axis=(1, 3))


def read_coarse_map(folder, result, *, max_pixels: int = MAX_PIXELS,
                    strip_cells: int = STRIP_CELLS, boundary=None,
                    population=None) -> CoarseMap:
    """Coarse display data from the rasters of a results folder.

    Parameters
    ----------
    folder : path-like
        Holds population.tif, covered.tif and rx_power_dbm.tif (terrain.tif optional), on
        ``result.grid``.
    result : TiledResult
        Supplies the grid, summary (required signal), scenario, sites and stations.
    max_pixels : int
        Longest side of the coarse grid [coarse cells].
    strip_cells : int
        Fine cells read per strip (memory bound, results do not depend on it).
    boundary : shapely geometry, optional
        Region boundary in the grid CRS (outline and veil outside it).
    population : Population, optional
        For the settlements drawn on the map (its people array is not used).

    Returns
    -------
    CoarseMap
    """
    import rasterio
    from rasterio.windows import Window

    folder = Path(folder)
    g = result.grid
    f = coarse_factor(g, max_pixels)
    crows, ccols = -(-g.nrows // f), -(-g.ncols // f)
    coarse = Grid(crs=g.crs, x_min_m=g.x_min_m, y_max_m=g.y_max_m,
                  resolution_m=g.resolution_m * f, nrows=crows, ncols=ccols)
    required = float(result.summary["required_signal_dbm"])
    lo_db, hi_db = CDF_RANGE_DBM
    nbins = int(round((hi_db - lo_db) / CDF_STEP_DB))
    hist = np.zeros(nbins, np.int64)
    people_c = np.zeros((crows, ccols), np.int64)
    unc_c = np.zeros((crows, ccols), np.int64)
    cov_c = np.zeros((crows, ccols), np.int32)
    cells_c = np.zeros((crows, ccols), np.int32)
    rx_sum = np.zeros((crows, ccols), np.float64)
    has_terrain = (folder / "terrain.tif").exists()
    z_sum = np.zeros((crows, ccols), np.float64) if has_terrain else None
    no_signal = at_required = 0
    rx_min, rx_max = math.inf, -math.inf
    strip_rows = max(1, int(strip_cells) // max(g.ncols * f, 1)) * f
    names = ["population", "covered", "rx_power_dbm"] + (["terrain"] if has_terrain else [])
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        src = {n: rasterio.open(folder / f"{n}.tif") for n in names}
        try:
            for s in src.values():
                if (s.height, s.width) != g.shape:
                    raise ValueError(f"{s.name}: shape {(s.height, s.width)} is not the "
                                     f"grid's {g.shape}")
            for r0 in range(0, g.nrows, strip_rows):
                h = min(strip_rows, g.nrows - r0)
                win = Window(0, r0, g.ncols, h)
                cr = slice(r0 // f, r0 // f + -(-h // f))
                # outside the boundary: population -1 and covered 255 (no-data)
                people = np.maximum(src["population"].read(1, window=win), 0).astype(np.int64)
                covered = src["covered"].read(1, window=win) == 1
                rx = src["rx_power_dbm"].read(1, window=win)
                people_c[cr] += _block_sum(people, f, ccols, 0)
                unc_c[cr] += _block_sum(np.where(covered, 0, people), f, ccols, 0)
                cov_c[cr] += _block_sum(covered.astype(np.int32), f, ccols, 0)
                cells_c[cr] += _block_sum(np.ones(covered.shape, np.int32), f, ccols, 0)
                rx_sum[cr] += _block_sum(np.where(covered, rx, 0.0).astype(np.float64), f,
                                         ccols, 0.0)
                if has_terrain:
                    z = src["terrain"].read(1, window=win).astype(np.float64)
                    z_sum[cr] += _block_sum(z, f, ccols, 0.0)
                    del z
                pop = people > 0
                rxp, wp = rx[pop], people[pop]
                fin = np.isfinite(rxp)
                no_signal += int(wp[~fin].sum())
                at_required += int(wp[fin & (rxp >= required)].sum())
                if fin.any():
                    rxf = rxp[fin].astype(np.float64)
                    rx_min, rx_max = min(rx_min, float(rxf.min())), max(rx_max, float(rxf.max()))
                    k = np.clip(np.floor((rxf - lo_db) / CDF_STEP_DB).astype(np.int64), 0,
                                nbins - 1)
                    hist += _weighted_counts(k, wp[fin], nbins)
                del people, covered, rx, rxp, wp, pop
        finally:
            for s in src.values():
                s.close()
    with np.errstate(invalid="ignore", divide="ignore"):
        rx_mean = np.where(cov_c > 0, rx_sum / np.maximum(cov_c, 1), np.nan).astype(np.float32)
        terrain = None if z_sum is None else (z_sum / np.maximum(cells_c, 1)).astype(np.float32)
    mask = None
    if boundary is not None:
        from rasterio.features import geometry_mask
        from shapely.geometry import mapping

        mask = ~geometry_mask([mapping(boundary)], out_shape=coarse.shape,
                              transform=coarse.transform, all_touched=False)
    edges = lo_db + CDF_STEP_DB * np.arange(1, nbins + 1)
    cdf = getattr(result, "signal_cdf", None) or {}
    existing = {}
    if cdf.get("existing") is not None:
        existing = dict(cdf_people_existing=np.asarray(cdf["existing"], np.int64),
                        people_no_signal_existing=int(cdf.get("no_signal_existing", 0)),
                        people_at_required_existing=int(cdf.get("at_required_existing", 0)))
    return CoarseMap(**existing,
        grid=coarse, fine_grid=g, factor=f, people=people_c, covered_cells=cov_c,
        cells=cells_c, people_uncovered=unc_c, rx_dbm=rx_mean, terrain_m=terrain,
        cdf_edges_dbm=edges, cdf_people=hist, people_no_signal=no_signal,
        people_at_required=at_required,
        rx_min_dbm=rx_min if math.isfinite(rx_min) else math.nan,
        rx_max_dbm=rx_max if math.isfinite(rx_max) else math.nan, required_dbm=required,
        summary=result.summary, scenario=result.scenario, technology=result.technology,
        sites=result.sites, stations=result.stations,
        people_served_per_site=getattr(result, "people_served_per_site", None),
        business=getattr(result, "business", None), site_load=getattr(result, "site_load", None),
        population=population, region_mask=mask, boundary=boundary)


def _weighted_counts(k: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Sums of the integer weights ``w`` per bin ``k`` (0 <= k < n), as int64: exact,
    since float64 adds integers exactly below 2**53."""
    return np.rint(np.bincount(k, weights=w.astype(np.float64), minlength=n)).astype(np.int64)
