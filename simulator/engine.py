"""The coverage engine: best server and received signal over the grid, tile by tile.

For each tile only the sites whose reach (the distance at which their best-case received
signal falls to the engine's floor) touches the tile are evaluated, found with a k-d tree;
the arrays are ``n_nearby_sites x tile_cells``, never ``all_sites x region_cells``.
Peak memory follows the tile size, not the region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .grid import Grid, Tile
from .propagation.models import PathLossModel
from .stations import Sites, StationType, Technology

#: Horizontal front-to-back limit of a sector pattern, TR 38.901 Table 7.3-1 [dB].
_A_MAX_DB = 30.0


@dataclass(frozen=True)
class SiteArrays:
    """Per-site numbers the engine needs, as float arrays (one entry per site)."""

    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    eirp_metric_dbm: np.ndarray  # peak EIRP in the technology's metric (e.g. per RE for RSRP)
    sectors: np.ndarray
    hpbw_h_deg: np.ndarray
    azimuth_deg: np.ndarray
    existing: np.ndarray
    reach_m: np.ndarray

    def __len__(self):
        return len(self.x_m)


@dataclass
class CoverageFields:
    """Per-cell results of the engine (arrays of the grid's shape).

    Attributes
    ----------
    rx_dbm : float32
        Best-server downlink signal in the technology's metric (RSRP or RxLev) [dBm]; NaN
        where no site reaches (beyond every site's reach).
    best_server : int32
        Index of the best server in the scenario's site list, -1 where none reaches.
    path_loss_db : float32
        Path loss from the best server [dB]; NaN where none reaches.
    rx_existing_dbm : float32
        Best signal from the existing (baseline) sites only [dBm]; NaN where none reaches.
    """

    rx_dbm: np.ndarray
    best_server: np.ndarray
    path_loss_db: np.ndarray
    rx_existing_dbm: np.ndarray

    @classmethod
    def empty(cls, shape) -> "CoverageFields":
        return cls(np.full(shape, np.nan, np.float32), np.full(shape, -1, np.int32),
                   np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32))


def sector_relative_gain_db(dx_m, dy_m, azimuth_deg, sectors, hpbw_h_deg):
    """Horizontal antenna gain relative to the peak, best sector of each site [dB].

    3GPP TR 38.901 Table 7.3-1 horizontal cut, ``-min(12 (phi/phi_3dB)^2, A_max)``, taken
    for each of ``sectors`` evenly spread sectors (the first at ``azimuth_deg``, clockwise
    from north) and maximised over them: a person is served by the sector that hears them
    best. Omni sites (one sector with ``hpbw_h_deg >= 360``) return 0.

    Parameters
    ----------
    dx_m, dy_m : numpy.ndarray
        East and north offsets from the site, shape ``(n_sites, ...)``.
    azimuth_deg, sectors, hpbw_h_deg : numpy.ndarray
        Per site, shape ``(n_sites,)``.
    """
    n = dx_m.shape[0]
    out = np.zeros(dx_m.shape, dtype=np.float32)
    bearing = None
    for k in range(n):
        s = int(sectors[k])
        if s <= 1 and hpbw_h_deg[k] >= 360.0:
            continue
        if bearing is None:
            bearing = np.degrees(np.arctan2(dx_m, dy_m)).astype(np.float32)
        best = np.full(dx_m.shape[1:], -_A_MAX_DB, dtype=np.float32)
        for j in range(max(s, 1)):
            boresight = azimuth_deg[k] + j * 360.0 / max(s, 1)
            phi = (bearing[k] - np.float32(boresight) + 180.0) % 360.0 - 180.0
            g = -np.minimum(12.0 * (phi / np.float32(hpbw_h_deg[k])) ** 2, _A_MAX_DB)
            np.maximum(best, g, out=best)
        out[k] = best
    return out


def site_arrays(sites: Sites, stations: dict[str, StationType], technology: Technology,
                model: PathLossModel, *, ue_height_m: float, floor_dbm: float,
                max_range_m: float) -> SiteArrays:
    """Per-site engine inputs, including each site's reach.

    The reach is the largest distance (up to ``max_range_m``) at which the site's best-case
    signal (peak antenna gain) is still at or above ``floor_dbm``; it is found on a fine
    logarithmic distance grid, so it does not assume the loss grows monotonically.
    """
    n = len(sites)
    height = sites.attribute(stations, "height_m")
    eirp = (sites.attribute(stations, "tx_power_dbm") + sites.attribute(stations, "antenna_gain_dbi")
            - sites.attribute(stations, "feeder_loss_db") - technology.metric_offset_db
            + technology.ue_antenna_gain_dbi - technology.body_loss_db)
    reach = np.zeros(n)
    if n:
        d = np.geomspace(1.0, max_range_m, 2000)
        loss = model.loss_db(d[None, :], technology.frequency_mhz, height[:, None], ue_height_m)
        ok = (eirp[:, None] - loss) >= floor_dbm
        last = np.where(ok.any(axis=1), ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
        nxt = np.minimum(last + 1, len(d) - 1)
        reach = np.where(last >= 0, d[nxt], 0.0)
    return SiteArrays(x_m=sites.x_m.copy(), y_m=sites.y_m.copy(), height_m=height,
                      eirp_metric_dbm=eirp, sectors=sites.attribute(stations, "sectors"),
                      hpbw_h_deg=sites.attribute(stations, "hpbw_h_deg"),
                      azimuth_deg=sites.azimuth_deg.copy(), existing=sites.existing.copy(),
                      reach_m=reach)


def sites_near_tile(grid: Grid, tile: Tile, sa: SiteArrays, tree: cKDTree | None) -> np.ndarray:
    """Indices of the sites whose reach touches the tile (sorted, so results are stable)."""
    if tree is None or len(sa) == 0:
        return np.zeros(0, dtype=np.int64)
    xc, yc, radius = grid.tile_centre_and_radius(tile)
    cand = np.asarray(tree.query_ball_point([xc, yc], r=radius + float(sa.reach_m.max())),
                      dtype=np.int64)
    if cand.size == 0:
        return cand
    dist = np.hypot(sa.x_m[cand] - xc, sa.y_m[cand] - yc)
    return np.sort(cand[dist <= radius + sa.reach_m[cand]])


def compute_tile(grid: Grid, tile: Tile, sa: SiteArrays, idx: np.ndarray,
                 technology: Technology, model: PathLossModel, ue_height_m: float):
    """The engine's fields for one tile from the sites ``idx``.

    Returns ``(rx_dbm, best_server, path_loss_db, rx_existing_dbm)`` arrays of the tile's
    shape (float32, int32, float32, float32).
    """
    h, w = tile.shape
    if idx.size == 0:
        nan = np.full((h, w), np.nan, np.float32)
        return nan, np.full((h, w), -1, np.int32), nan.copy(), nan.copy()
    xc = grid.x_centres(tile.col0, tile.col1)
    yc = grid.y_centres(tile.row0, tile.row1)
    dx = (xc[None, None, :] - sa.x_m[idx, None, None]).astype(np.float32)
    dy = (yc[None, :, None] - sa.y_m[idx, None, None]).astype(np.float32)
    dx, dy = np.broadcast_arrays(dx, dy)
    d = np.sqrt(dx * dx + dy * dy)
    loss = model.loss_db(d, technology.frequency_mhz, sa.height_m[idx, None, None], ue_height_m)
    rx = sa.eirp_metric_dbm[idx, None, None].astype(np.float32) - loss
    rx += sector_relative_gain_db(dx, dy, sa.azimuth_deg[idx], sa.sectors[idx],
                                  sa.hpbw_h_deg[idx])
    rx[d > sa.reach_m[idx, None, None].astype(np.float32)] = -np.inf
    best_local = np.argmax(rx, axis=0)
    rx_best = np.take_along_axis(rx, best_local[None], axis=0)[0]
    loss_best = np.take_along_axis(loss, best_local[None], axis=0)[0]
    none = ~np.isfinite(rx_best)
    best = idx[best_local].astype(np.int32)
    best[none] = -1
    rx_best[none] = np.nan
    loss_best = np.where(none, np.float32(np.nan), loss_best)
    ex = sa.existing[idx]
    if ex.any():
        rx_ex = rx[ex].max(axis=0)
        rx_ex[~np.isfinite(rx_ex)] = np.nan
    else:
        rx_ex = np.full((h, w), np.nan, np.float32)
    return rx_best, best, loss_best.astype(np.float32), rx_ex.astype(np.float32)


def compute_fields(grid: Grid, sa: SiteArrays, technology: Technology, model: PathLossModel, *,
                   ue_height_m: float, tile_size_cells: int = 256,
                   progress=None) -> CoverageFields:
    """Run the engine over every tile of the grid and assemble the region's fields.

    The result does not depend on ``tile_size_cells``: each cell's value is computed from
    the same sites with the same arithmetic whichever tile it falls in.
    """
    out = CoverageFields.empty(grid.shape)
    tree = cKDTree(np.c_[sa.x_m, sa.y_m]) if len(sa) else None
    tiles = list(grid.tiles(tile_size_cells))
    for k, tile in enumerate(tiles):
        idx = sites_near_tile(grid, tile, sa, tree)
        rx, best, loss, rx_ex = compute_tile(grid, tile, sa, idx, technology, model, ue_height_m)
        sl = tile.slices
        out.rx_dbm[sl] = rx
        out.best_server[sl] = best
        out.path_loss_db[sl] = loss
        out.rx_existing_dbm[sl] = rx_ex
        if progress is not None:
            progress(k + 1, len(tiles))
    return out


def window_tile(grid: Grid, x_m: float, y_m: float, radius_m: float) -> Tile | None:
    """The block of cells whose centres may lie within ``radius_m`` of a point.

    A square of cells around ``(x_m, y_m)`` clipped to the grid: every cell whose centre is
    within ``radius_m`` of the point is inside it (plus a few corner cells). ``None`` when the
    square misses the grid. Used to evaluate one site only over the cells within its reach
    (:mod:`simulator.coverage_matrix`), with :func:`compute_tile` so the arithmetic is the
    engine's.

    Parameters
    ----------
    grid : Grid
    x_m, y_m : float
        The point (a site) in the grid's CRS [m].
    radius_m : float
        Reach, >= 0 [m].
    """
    if not radius_m >= 0:
        raise ValueError(f"radius_m={radius_m} is invalid; allowed: >= 0 m")
    res = grid.resolution_m
    # centre of column j is x_min + (j + 0.5) res: |centre - x| <= r  <=>  j in [lo, hi]
    col0 = max(0, int(np.ceil((x_m - radius_m - grid.x_min_m) / res - 0.5)))
    col1 = min(grid.ncols, int(np.floor((x_m + radius_m - grid.x_min_m) / res - 0.5)) + 1)
    row0 = max(0, int(np.ceil((grid.y_max_m - y_m - radius_m) / res - 0.5)))
    row1 = min(grid.nrows, int(np.floor((grid.y_max_m - y_m + radius_m) / res - 0.5)) + 1)
    if col1 <= col0 or row1 <= row0:
        return None
    return Tile(row0, row1, col0, col1)
