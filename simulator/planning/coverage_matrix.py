"""The candidate x cell coverage matrix, computed by the coverage engine.

Row ``i`` of the matrix is the set of populated cells that candidate site ``i`` covers on its
own: its downlink signal at the cell is at least the scenario's required signal (threshold +
fade margin), exactly the test :func:`simulator.pipeline.runner.run` applies to the best server. Since
the best server's signal is the maximum over sites, a cell is covered by a set of sites if and
only if one of them covers it alone; so the union of rows is what a run of those sites covers.

Each candidate is evaluated with the engine's own tile function
(:func:`simulator.pipeline.engine.compute_tile`) over the block of cells within its reach
(:func:`simulator.pipeline.engine.window_tile`), never over the whole region; the matrix is built as
CSR from per-candidate index lists, never dense. Peak memory is the matrix (one int32 index
per covered populated cell per candidate) plus one candidate's window.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..pipeline.engine import SiteArrays, compute_tile, site_arrays, window_tile
from ..region.grid import Grid
from ..radio.propagation.models import PathLossModel
from ..radio.stations import Sites, StationType, Technology

__all__ = ["CoverageMatrix", "coverage_matrix", "covered_cells"]


@dataclass(frozen=True)
class CoverageMatrix:
    """Which populated cells each candidate covers.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array of bool, shape (n_candidates, n_columns)
        ``matrix[i, j]`` True when candidate ``i`` covers column ``j``'s cell.
    cell_index : ndarray of int64, shape (n_columns,)
        Flat (row-major) grid index of each column's cell; the columns are the populated
        cells (people > 0) in increasing flat index.
    people : ndarray of float64, shape (n_columns,)
        People in each column's cell [people].
    reach_m : ndarray of float64, shape (n_candidates,)
        Radius over which each candidate was evaluated [m].
    """

    matrix: sp.csr_array
    cell_index: np.ndarray
    people: np.ndarray
    reach_m: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)


def _evaluation_radius_m(sites: Sites, stations, technology, model, *, ue_height_m,
                         floor_dbm, max_range_m, required_dbm) -> tuple[SiteArrays, np.ndarray]:
    """Engine site arrays (with the run's floor) and the radius that can hold coverage.

    The engine masks each site beyond ``reach_m`` (signal below ``floor_dbm`` at peak gain);
    a cell can only be covered where the peak-gain signal reaches ``required_dbm``, found the
    same way (:func:`simulator.pipeline.engine.site_arrays` with ``floor_dbm=required_dbm``). The
    smaller of the two bounds the cells to evaluate; the engine's own reach mask still applies
    inside it, so a covered cell is exactly one a run would call covered.
    """
    sa = site_arrays(sites, stations, technology, model, ue_height_m=ue_height_m,
                     floor_dbm=floor_dbm, max_range_m=max_range_m)
    sa_req = site_arrays(sites, stations, technology, model, ue_height_m=ue_height_m,
                         floor_dbm=max(floor_dbm, required_dbm), max_range_m=max_range_m)
    return sa, np.minimum(sa.reach_m, sa_req.reach_m)


def covered_cells(grid: Grid, sa: SiteArrays, k: int, radius_m: float, technology: Technology,
                  model: PathLossModel, *, ue_height_m: float,
                  required_dbm: float, extra_loss_db: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the cells site ``k`` of ``sa`` covers on its own.

    Evaluates the site with :func:`simulator.pipeline.engine.compute_tile` over
    :func:`simulator.pipeline.engine.window_tile` of ``radius_m``; a cell is covered where the signal
    is at least ``required_dbm`` [dBm] (NaN, beyond the engine's reach, is not covered).
    ``extra_loss_db`` (grid-shaped, e.g. the terminal clutter loss) is taken off the signal
    first, as :func:`simulator.region.clutter.apply_terminal_loss` does in a run.
    """
    tile = window_tile(grid, float(sa.x_m[k]), float(sa.y_m[k]), float(radius_m))
    if tile is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rx = compute_tile(grid, tile, sa, np.array([k], dtype=np.int64), technology, model,
                      ue_height_m)[0]
    if extra_loss_db is not None:
        rx = (rx - extra_loss_db[tile.slices]).astype(np.float32)
    with np.errstate(invalid="ignore"):
        r, c = np.nonzero(rx >= required_dbm)
    return r + tile.row0, c + tile.col0


def coverage_matrix(grid: Grid, people: np.ndarray, candidates: Sites,
                    stations: dict[str, StationType], technology: Technology,
                    model: PathLossModel, *, ue_height_m: float, floor_dbm: float,
                    max_range_m: float, required_dbm, workers: int = 1,
                    progress=None, terrain=None,
                    extra_loss_db: np.ndarray | None = None) -> CoverageMatrix:
    """Sparse boolean coverage matrix of candidate sites over the populated cells.

    Parameters
    ----------
    grid : Grid
    people : ndarray, shape grid.shape
        People per cell (>= 0) [people].
    candidates : Sites
        Candidate sites (any mix of station types; ``existing`` is ignored).
    stations, technology, model
        As the runner builds them (:func:`simulator.pipeline.runner.make_stations`, ...).
    ue_height_m : float
        Handset height [m].
    floor_dbm : float
        The engine's floor (``dl_threshold_dbm - floor_below_threshold_db``) [dBm]; the
        same value :func:`simulator.pipeline.runner.run` passes to ``site_arrays``.
    max_range_m : float
        The engine's maximum range [m].
    required_dbm : float or ndarray, shape (n_candidates,)
        Required signal, threshold + fade margin
        (:func:`simulator.pipeline.runner.required_signal_dbm`) [dBm]; per candidate when the
        uplink sets a stricter bound for some station types (see
        :func:`simulator.planning.planner.plan`).
    terrain : tuple (dem, TerrainMethod), optional
        Evaluate each candidate with the terrain engine
        (:func:`simulator.pipeline.engine_terrain.compute_fields_terrain`) instead of the flat one.
    workers : int, optional
        Threads evaluating candidates (numpy releases the GIL in its loops). The matrix does
        not depend on it. Default 1.
    progress : callable, optional
        Called as ``progress(done, total)`` after each candidate (from the calling thread).
    extra_loss_db : ndarray, shape grid.shape, optional
        Per-cell loss taken off every candidate's signal (the terminal clutter loss,
        :meth:`simulator.region.clutter.ClutterLayer.loss_db`) [dB].

    Returns
    -------
    CoverageMatrix
    """
    people = np.asarray(people)
    if people.shape != grid.shape:
        raise ValueError(f"people has shape {people.shape}, expected the grid's {grid.shape}")
    if workers < 1:
        raise ValueError(f"workers={workers} is invalid; allowed: an integer >= 1")
    n = len(candidates)
    cell_index = np.flatnonzero(people.ravel() > 0)
    weights = people.ravel()[cell_index].astype(np.float64)
    if n == 0:
        return CoverageMatrix(sp.csr_array((0, cell_index.size), dtype=np.bool_), cell_index,
                              weights, np.zeros(0))
    req = np.broadcast_to(np.asarray(required_dbm, dtype=float), (n,))
    sa, radius = _evaluation_radius_m(candidates, stations, technology, model,
                                      ue_height_m=ue_height_m, floor_dbm=floor_dbm,
                                      max_range_m=max_range_m, required_dbm=float(req.min()))

    def one(k: int) -> np.ndarray:
        if terrain is None:
            r, c = covered_cells(grid, sa, k, radius[k], technology, model,
                                 ue_height_m=ue_height_m, required_dbm=float(req[k]),
                                 extra_loss_db=extra_loss_db)
        else:
            from ..pipeline.engine_terrain import compute_fields_terrain

            dem, method = terrain
            one_site = site_arrays(candidates.subset([k]), stations, technology, model,
                                   ue_height_m=ue_height_m, floor_dbm=floor_dbm,
                                   max_range_m=max_range_m)
            f, _ = compute_fields_terrain(grid, dem, one_site, technology, method,
                                          ue_height_m=ue_height_m)
            rx = f.rx_dbm if extra_loss_db is None else f.rx_dbm - extra_loss_db
            with np.errstate(invalid="ignore"):
                r, c = np.nonzero(rx >= req[k])
        if r.size == 0:
            return np.zeros(0, np.int32)
        keep = people[r, c] > 0
        flat = r[keep] * grid.ncols + c[keep]  # row-major, hence increasing
        return np.searchsorted(cell_index, flat).astype(np.int32)

    rows: list[np.ndarray] = [None] * n  # type: ignore[list-item]
    if workers == 1:
        for k in range(n):
            rows[k] = one(k)
            if progress is not None:
                progress(k + 1, n)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for k, cols in enumerate(pool.map(one, range(n), chunksize=8)):
                rows[k] = cols
                if progress is not None:
                    progress(k + 1, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([r.size for r in rows])
    indices = np.concatenate(rows) if indptr[-1] else np.zeros(0, np.int32)
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    matrix = sp.csr_array((np.ones(indices.size, dtype=np.bool_), indices, indptr),
                          shape=(n, cell_index.size))
    matrix.has_sorted_indices = True
    return CoverageMatrix(matrix, cell_index, weights, radius)
