"""The terrain engine: radial profiles from each site, a loss per profile, mapped to cells.

For each site, rays are swept from the antenna out to the site's reach at about the grid
resolution (:func:`simulator.region.terrain.radial_profiles`); every sample along a ray is a
receiver whose terrain profile is the ray's prefix. A terrain method (NTIA ITM point to
point, P.526 Deygout / Bullington diffraction added to a base model, or P.526's complete
delta-Bullington method added to free space) gives the loss of every prefix, vectorised
over batches of rays; :func:`simulator.region.terrain.rays_to_grid` maps the samples back onto
every cell of the site's disc. Sites are then reduced into the
region's best server in index order, exactly as the flat engine does, so results do not
depend on any tiling.

ITM runs on the full-resolution prefix of every ray sample, with the work shared along each
ray (:func:`simulator.radio.propagation.itm.itm_p2p_rays_loss_db`: running maxima, prefix sums and
convex-hull tangents, O(log n) per path).  For the diffraction methods, profiles longer than
``max_profile_points`` are resampled (linear interpolation) to that many points, which bounds
the cost per path; shorter profiles are used as sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._jit import AVAILABLE as _JIT_AVAILABLE, JIT_OPTIONS as _JIT_OPTIONS, njit
from .engine import CoverageFields, SiteArrays, antenna_relative_gain_db
from ..region.grid import Grid
from ..radio.propagation.fspl import free_space_loss_db
from ..radio.propagation.models import PathLossModel
from ..radio.stations import Technology
from ..region.terrain import line_of_sight, radial_profiles, ray_grid_index, rays_to_grid

TERRAIN_METHODS = ("itm", "deygout", "bullington", "delta_bullington")

#: ITM climate names -> NTIA codes 1..7.
ITM_CLIMATES = {"equatorial": 1, "continental_subtropical": 2, "maritime_subtropical": 3,
                "desert": 4, "continental_temperate": 5, "maritime_temperate_land": 6,
                "maritime_temperate_sea": 7}


@dataclass(frozen=True)
class TerrainMethod:
    """A terrain-aware loss: ``itm``, ``deygout``/``bullington`` on top of ``base``, or
    ``delta_bullington`` (P.526-15 §4.5, :mod:`simulator.radio.propagation.delta_bullington`)
    on top of ``base``, which should then be free space."""

    name: str
    base: PathLossModel = field(default_factory=lambda: PathLossModel("free_space"))
    k_factor: float = 4.0 / 3.0
    max_profile_points: int = 128
    itm: dict = field(default_factory=dict)

    def profile_loss_db(self, elev, spacing_m, n_points, distance_m, h_tx_m, h_rx_m,
                        frequency_mhz):
        """Loss [dB] of each path by a diffraction method (rows of ``elev``, NaN-padded,
        ``n_points`` valid).  ITM is evaluated along whole rays instead
        (:func:`~simulator.radio.propagation.itm.itm_p2p_rays_loss_db`).

        ``deygout``/``bullington``: the method on the profile over the effective Earth minus
        the method on the straight chord between its end points over a flat Earth (>= 0:
        :func:`~simulator.radio.propagation.diffraction.terrain_excess_loss_db`), plus
        ``base``.
        ``delta_bullington``: the complete delta-Bullington loss (vertical polarisation,
        P.1812's average land ground), plus ``base``; no chord is subtracted, its
        spherical-Earth term already stands for smooth ground."""
        from ..radio.propagation import diffraction

        base = self.base.loss_db(distance_m, frequency_mhz, h_tx_m, h_rx_m)
        if self.name == "delta_bullington":
            from ..radio.propagation.delta_bullington import delta_bullington_loss_db

            return delta_bullington_loss_db(elev, spacing_m, h_tx_m, h_rx_m, frequency_mhz,
                                            k_factor=self.k_factor, n_points=n_points) + base
        # the terrain and the Earth's bulge beyond a flat smooth path (the bulge is in no
        # base model): diffraction.terrain_excess_loss_db
        excess = diffraction.terrain_excess_loss_db(self.name, elev, spacing_m, h_tx_m, h_rx_m,
                                                    frequency_mhz, k_factor=self.k_factor,
                                                    n_points=n_points)
        return excess + base

    def point_loss_db(self, elev, spacing_m, n_points, distance_m, h_tx_m, h_rx_m,
                      frequency_mhz):
        """Loss [dB] of each whole path (rows of ``elev``, NaN-padded, ``n_points`` valid),
        as this method gives it at the path's end: ITM point to point on the profile
        (:func:`~simulator.radio.propagation.itm.itm_p2p_loss_db`, location variability
        removed) plus the base model's calibration correction, or
        :meth:`profile_loss_db`. Used by :mod:`simulator.calibration` at measurement points.
        """
        if self.name != "itm":
            return self.profile_loss_db(elev, spacing_m, n_points, distance_m, h_tx_m,
                                        h_rx_m, frequency_mhz)
        from ..radio.propagation.itm import itm_p2p_loss_db

        kw = {k: v for k, v in self.itm.items() if k != "delta_h_knot_fraction"}
        loss = itm_p2p_loss_db(elev, spacing_m, h_tx_m, h_rx_m, frequency_mhz,
                               n_points=n_points, mdvar=12, **kw)
        return loss + self.base.calibration_db(np.asarray(distance_m, dtype=np.float64))


def _chord_profiles(elev: np.ndarray, n_points: np.ndarray) -> np.ndarray:
    """The straight line between each profile's end points (same shape, NaN-padded).

    The diffraction methods add to the base model only the loss the terrain causes beyond
    that of this smooth reference (the idea of P.526's delta-Bullington method): on flat
    or uniformly sloping ground the excess is 0 and the base model stands alone, and the
    grazing of the Fresnel zone by the ground next to a low handset, which the base model
    already contains, is not counted twice.
    """
    n = np.asarray(n_points)
    rows = np.arange(elev.shape[0])
    z0 = elev[:, 0]
    z1 = elev[rows, n - 1]
    t = np.arange(elev.shape[1])[None, :] / np.maximum(n - 1, 1)[:, None]
    out = z0[:, None] + (z1 - z0)[:, None] * t
    out[np.arange(elev.shape[1])[None, :] >= n[:, None]] = np.nan
    return out


def _prefix_positions(n_steps: int, max_points: int):
    """Sample positions (in steps) of every prefix profile, resampled to <= max_points.

    Returns ``pos`` (n_steps - 1, max_points) float positions (NaN beyond a path's points)
    and ``n`` (n_steps - 1,) points per path; row ``j - 1`` is the path to sample ``j``.
    """
    j = np.arange(1, n_steps)
    n = np.minimum(j + 1, max_points)
    i = np.arange(max_points)[None, :]
    step = (j / (n - 1))[:, None]
    pos = i * step
    pos[i >= n[:, None]] = np.nan
    return pos, n


def site_profile_losses(dem: np.ndarray, grid: Grid, x_m: float, y_m: float, h_tx_m: float,
                        radius_m: float, tech: Technology, ue_height_m: float,
                        method: TerrainMethod, *, batch_points: int = 4_000_000):
    """Loss and line of sight along every ray sample of one site.

    Returns
    -------
    (RayGeometry, numpy.ndarray, numpy.ndarray)
        The ray geometry, the loss per sample (n_rays, n_steps) [dB] (sample 0 copies
        sample 1), and line of sight per sample (bool).
    """
    res = grid.resolution_m
    # no cell lies farther than the grid's farthest corner: do not sweep beyond it
    x0, y0, x1, y1 = grid.bounds
    corner = max(np.hypot(cx - x_m, cy - y_m) for cx in (x0, x1) for cy in (y0, y1))
    radius_m = min(radius_m, corner + res)
    elev, geom = radial_profiles(dem, (x_m, y_m), grid.x_min_m, grid.y_max_m, res,
                                 radius_m=max(radius_m, 2 * res), step_m=res)
    n_rays, n_steps = elev.shape
    # outside the DEM the rays carry NaN: treat them as flat continuations of the last sample
    if np.isnan(elev).any():
        idx = np.where(np.isfinite(elev), np.arange(n_steps)[None, :], 0)
        np.maximum.accumulate(idx, axis=1, out=idx)
        elev = np.take_along_axis(elev, idx, axis=1)
    los = line_of_sight(elev, geom.distance_m, tx_height_m=h_tx_m, rx_height_m=ue_height_m,
                        k_factor=method.k_factor)
    loss = np.empty((n_rays, n_steps), np.float64)
    if method.name == "itm":
        from ..radio.propagation.itm import itm_p2p_rays_loss_db

        rays, steps, counts = _thinned_samples(n_rays, n_steps)
        vals = itm_p2p_rays_loss_db(elev, geom.step_m, h_tx_m, ue_height_m,
                                    tech.frequency_mhz, rays=rays, steps=steps, mdvar=12,
                                    **method.itm)
        _fill_from_evaluated(vals, counts, loss)
        if method.base.calibrated:  # the measured correction (propagation.calibration)
            loss += method.base.calibration_db(geom.distance_m)[None, :]
    else:
        _diffraction_losses(elev, geom, h_tx_m, ue_height_m, tech, method, batch_points, loss)
    loss[:, 0] = loss[:, 1]
    return geom, loss, los


def _thinned_samples(n_rays: int, n_steps: int, min_rays: int = 8):
    """The ray samples to evaluate.

    Rays are one cell apart at the outer radius and crowd together nearer the site; at step
    ``j`` only ``ceil(n_rays * j / (n_steps - 1))`` rays (at least ``min_rays``), evenly
    spread, keep neighbouring evaluated rays within about one cell of each other.  The other
    rays take the value of the nearest evaluated ray at the same step
    (:func:`_fill_from_evaluated`).

    Returns
    -------
    rays, steps : ndarray of int, shape (m,)
        Evaluated samples, sorted by step (steps 1 .. n_steps - 1).
    counts : ndarray of int, shape (n_steps - 1,)
        Evaluated rays per step.
    """
    j = np.arange(1, n_steps)
    counts = np.minimum(n_rays, np.maximum(min(min_rays, n_rays),
                                           -(-n_rays * j // (n_steps - 1))))
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
    steps = np.repeat(j, counts)
    k = np.arange(steps.size) - np.repeat(offset, counts)
    rays = k * n_rays // np.repeat(counts, counts)
    return rays, steps, counts


def _fill_from_evaluated(values, counts, out, block_steps: int = 64):
    """``out[:, 1:]`` (n_rays, n_steps): every sample takes the value of the nearest
    evaluated ray (circular) at its step; ``values`` as ordered by :func:`_thinned_samples`."""
    n_rays = out.shape[0]
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if _JIT_AVAILABLE and out.dtype == np.float64:
        _fill_compiled(np.ascontiguousarray(values, dtype=np.float64),
                       np.ascontiguousarray(counts, dtype=np.int64),
                       offset.astype(np.int64), out)
        return
    a = np.arange(n_rays)[:, None]
    for s in range(0, counts.size, block_steps):
        nj = counts[None, s:s + block_steps]
        k0 = a * nj // n_rays                            # evaluated ray at or below a
        k1 = (k0 + 1) % nj
        closer = (k1 * n_rays // nj - a) % n_rays < a - k0 * n_rays // nj
        out[:, 1 + s:1 + s + nj.size] = values[offset[None, s:s + block_steps]
                                               + np.where(closer, k1, k0)]


@njit(**_JIT_OPTIONS)
def _fill_compiled(values, counts, offset, out):  # pragma: no cover - compiled
    """:func:`_fill_from_evaluated` as one loop (the same integer arithmetic)."""
    n_rays = out.shape[0]
    for s in range(counts.size):
        nj = counts[s]
        off = offset[s]
        for a in range(n_rays):
            k0 = a * nj // n_rays
            k1 = (k0 + 1) % nj
            if (k1 * n_rays // nj - a) % n_rays < a - k0 * n_rays // nj:
                out[a, 1 + s] = values[off + k1]
            else:
                out[a, 1 + s] = values[off + k0]


def _diffraction_losses(elev, geom, h_tx_m, ue_height_m, tech, method, batch_points, loss):
    """Loss of every ray sample by a diffraction method, on resampled prefix profiles."""
    n_rays, n_steps = elev.shape
    pos, npts = _prefix_positions(n_steps, method.max_profile_points)
    lo = np.nan_to_num(np.floor(pos)).astype(np.intp)
    frac = np.nan_to_num(pos - lo)
    hi = np.minimum(lo + 1, n_steps - 1)
    spacing = (np.arange(1, n_steps) * geom.step_m / (npts - 1)).astype(np.float64)
    invalid = np.isnan(pos)
    rays, steps, counts = _thinned_samples(n_rays, n_steps)
    vals = np.empty(rays.size)
    chunk = max(1, batch_points // method.max_profile_points)
    flat = np.ascontiguousarray(elev, dtype=np.float64).ravel()
    for c0 in range(0, rays.size, chunk):
        a, j = rays[c0:c0 + chunk], steps[c0:c0 + chunk]
        row = j - 1
        base = (a * n_steps)[:, None]
        f = frac[row]
        prof = flat[base + lo[row]] * (1.0 - f) + flat[base + hi[row]] * f
        prof[invalid[row]] = np.nan
        vals[c0:c0 + chunk] = method.profile_loss_db(
            prof, spacing[row], npts[row], geom.distance_m[j], h_tx_m, ue_height_m,
            tech.frequency_mhz)
    _fill_from_evaluated(vals, counts, loss)


@dataclass
class TerrainFields:
    """What the terrain engine adds to :class:`~simulator.pipeline.engine.CoverageFields`."""

    line_of_sight: np.ndarray   # bool: in line of sight of at least one site within reach


@dataclass
class SiteDisc:
    """One site's fields over the bounding box of its disc (the cells its rays reach).

    Made by :func:`site_disc`, added to the region by :meth:`FieldReduction.add`. The
    window is ``rows row0:row1, columns col0:col1`` of the grid.

    Attributes
    ----------
    index : int
        The site's index in the :class:`~simulator.pipeline.engine.SiteArrays` it came from.
    row0, row1, col0, col1 : int
        The window [cells].
    rx_dbm : numpy.ndarray
        float32, the window's shape: signal in the technology's metric (RSRP or RxLev)
        [dBm]; -inf outside the disc.
    path_loss_db : numpy.ndarray
        float32: path loss [dB]; NaN outside the disc (so ``inside`` is where it is finite).
    line_of_sight : numpy.ndarray
        bool: in line of sight of the antenna (False outside the disc).
    """

    index: int
    row0: int
    row1: int
    col0: int
    col1: int
    rx_dbm: np.ndarray
    path_loss_db: np.ndarray
    line_of_sight: np.ndarray

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.row0, self.row1), slice(self.col0, self.col1)

    @property
    def inside(self) -> np.ndarray:
        """bool: cells of the disc (the rays reach them)."""
        return np.isfinite(self.path_loss_db)

    @property
    def nbytes(self) -> int:
        return self.rx_dbm.nbytes + self.path_loss_db.nbytes + self.line_of_sight.nbytes


def site_disc(grid: Grid, dem: np.ndarray, sa: SiteArrays, k: int, technology: Technology,
              method: TerrainMethod, *, ue_height_m: float) -> SiteDisc | None:
    """Signal, path loss and line of sight of site ``k`` over its disc (pure: no I/O).

    The per-site work of the terrain engine, shared by the in-memory run
    (:func:`compute_fields_terrain`) and the tiled run's site pass
    (:mod:`simulator.pipeline.distributed`): the loss along the site's fan of rays
    (:func:`site_profile_losses`), mapped to the cells of the disc
    (:func:`simulator.region.terrain.rays_to_grid`), with the antenna gain toward each cell.

    Parameters
    ----------
    grid : Grid
    dem : numpy.ndarray
        Ground elevation per cell [m], the grid's shape: float32, or a float64 copy of the
        same float32 values (identical results; the float64 copy spares the conversion
        :func:`simulator.region.terrain.radial_profiles` otherwise makes for every site).
    sa : SiteArrays
    k : int
        Site index in ``sa``.
    ue_height_m : float
        Receiver height above ground [m].

    Returns
    -------
    SiteDisc or None
        None when the disc's bounding box misses the grid.
    """
    res = grid.resolution_m
    x, y, h = float(sa.x_m[k]), float(sa.y_m[k]), float(sa.height_m[k])
    geom, loss, los = site_profile_losses(dem, grid, x, y, h, float(sa.reach_m[k]),
                                          technology, ue_height_m, method)
    # cells of the site's disc, as a bounding box
    r = geom.radius_m
    c0 = max(0, int(np.floor((x - r - grid.x_min_m) / res)))
    c1 = min(grid.ncols, int(np.ceil((x + r - grid.x_min_m) / res)) + 1)
    r0 = max(0, int(np.floor((grid.y_max_m - (y + r)) / res)))
    r1 = min(grid.nrows, int(np.ceil((grid.y_max_m - (y - r)) / res)) + 1)
    if c0 >= c1 or r0 >= r1:
        return None
    sub_shape = (r1 - r0, c1 - c0)
    x0 = grid.x_min_m + c0 * res
    y0 = grid.y_max_m - r0 * res
    # map the loss in excess of free space along the rays, then add free space at each
    # cell's own distance: the rays are sampled every grid step, so this removes the
    # distance quantisation of the mapping (exact for a smooth, unobstructed path)
    d_sample = np.maximum(geom.distance_m, geom.step_m)
    excess = loss - free_space_loss_db(np.hypot(d_sample, h - ue_height_m),
                                       technology.frequency_mhz)[None, :]
    index = ray_grid_index(geom, x0, y0, res, sub_shape)  # one mapping for both arrays
    excess_g = rays_to_grid(excess.astype(np.float32), geom, x0, y0, res, sub_shape,
                            fill_value=np.nan, index=index)
    los_g = rays_to_grid(los, geom, x0, y0, res, sub_shape, fill_value=False, index=index)
    dx = (grid.x_centres(c0, c1)[None, :] - x).astype(np.float32)
    dy = (grid.y_centres(r0, r1)[:, None] - y).astype(np.float32)
    dx, dy = np.broadcast_arrays(dx, dy)
    d = np.sqrt(dx * dx + dy * dy)
    loss_g = excess_g + free_space_loss_db(
        np.sqrt(np.maximum(d, np.float32(1.0)) ** 2 + np.float32(h - ue_height_m) ** 2),
        technology.frequency_mhz)
    inside = np.isfinite(loss_g)
    site_ground = _ground_at(dem, grid, x, y)
    # float32 ground (a float64 DEM holds float32 values: the cast is exact)
    ground = np.asarray(dem[r0:r1, c0:c1], dtype=np.float32)
    dz = (site_ground + h) - (ground + ue_height_m)
    gain = antenna_relative_gain_db(
        dx[None], dy[None], d[None], dz.astype(np.float32)[None], sa.azimuth_deg[k:k + 1],
        sa.sectors[k:k + 1], sa.hpbw_h_deg[k:k + 1], sa.hpbw_v_deg[k:k + 1],
        sa.tilt_deg[k:k + 1], sa.patterns[k:k + 1] if sa.patterns else None)[0]
    rx = (np.float32(sa.eirp_metric_dbm[k]) - loss_g + gain).astype(np.float32)
    rx[~inside] = -np.inf
    return SiteDisc(index=int(k), row0=r0, row1=r1, col0=c0, col1=c1, rx_dbm=rx,
                    path_loss_db=loss_g.astype(np.float32, copy=False),
                    line_of_sight=los_g & inside)


def _allocate_in_memory(name: str, shape: tuple, dtype, fill) -> np.ndarray:
    return np.full(shape, fill, dtype)


class FieldReduction:
    """Sites reduced into region-sized fields, one :class:`SiteDisc` at a time.

    A site replaces the current best server of a cell only when strictly stronger, as
    ``argmax`` does in the flat engine, so sites must be added in index order. The
    co-channel sums are kept per channel in float64 [mW] and added in the same order;
    :meth:`fields` turns them into the interference from every other site on the best
    server's channel. Each cell is finished on its own, so :meth:`fields` of a window is
    that window of the whole region's fields.

    Parameters
    ----------
    shape : tuple of int
        The grid's (rows, columns).
    channel : numpy.ndarray, optional
        Channel per site (co-channel interference asked for) or None.
    line_of_sight : bool
        Keep the line-of-sight field.
    allocate : callable, optional
        ``allocate(name, shape, dtype, fill)`` -> array; default ``numpy.full``. The tiled
        run passes one that returns ``numpy.memmap`` files.

    Attributes
    ----------
    best_value_dbm : float32, best signal so far [dBm] (-inf: none)
    best_server : int32, its site index (-1: none)
    path_loss_db : float32, its path loss [dB]
    line_of_sight : bool or None, in line of sight of at least one site
    co_channel_mw : float64 (channels, rows, columns) or None, signal sum per channel [mW]
    """

    #: bytes per cell of the fields: best value, best server, path loss (+ 1 line of
    #: sight, + 8 per channel)
    BYTES_PER_CELL = 12

    def __init__(self, shape, channel: np.ndarray | None = None, *, line_of_sight: bool = True,
                 allocate=None):
        alloc = allocate or _allocate_in_memory
        shape = tuple(int(s) for s in shape)
        self.shape = shape
        self.channel = None if channel is None else np.asarray(channel)
        n_ch = int(self.channel.max()) + 1 if self.channel is not None and len(
            self.channel) else 0
        self.best_value_dbm = alloc("best_value_dbm", shape, np.float32, -np.inf)
        self.best_server = alloc("best_server", shape, np.int32, -1)
        self.path_loss_db = alloc("path_loss_db", shape, np.float32, np.nan)
        self.line_of_sight = alloc("line_of_sight", shape, np.bool_, False) \
            if line_of_sight else None
        self.co_channel_mw = alloc("co_channel_mw", (n_ch,) + shape, np.float64, 0.0) \
            if n_ch else None

    @staticmethod
    def bytes_per_cell(n_channels: int, line_of_sight: bool = True) -> int:
        """Bytes per grid cell of the fields [bytes]."""
        return FieldReduction.BYTES_PER_CELL + int(line_of_sight) + 8 * int(n_channels)

    def add(self, disc: SiteDisc, k: int) -> None:
        """Reduce site ``k``'s disc (``k``: the site's index in this reduction's sites)."""
        sl = disc.slices
        rx = disc.rx_dbm
        best = self.best_value_dbm[sl]
        better = rx > best
        self.best_value_dbm[sl] = np.where(better, rx, best)
        self.best_server[sl] = np.where(better, np.int32(k), self.best_server[sl])
        self.path_loss_db[sl] = np.where(better, disc.path_loss_db, self.path_loss_db[sl])
        if self.line_of_sight is not None:
            self.line_of_sight[sl] |= disc.line_of_sight
        if self.co_channel_mw is not None:
            self.co_channel_mw[(int(self.channel[k]),) + sl] += np.where(
                disc.inside, np.power(10.0, rx.astype(np.float64) / 10.0), 0.0)

    def fields(self, window: tuple[slice, slice] | None = None
               ) -> tuple[CoverageFields, np.ndarray | None]:
        """The engine's fields (and line of sight, or None) of ``window`` (default: all).

        Returns plain arrays (copies), never views of the reduction's arrays.
        """
        sl = window if window is not None else (slice(None), slice(None))
        server = np.array(self.best_server[sl])
        best_val = np.array(self.best_value_dbm[sl])
        has = server >= 0
        interference = None
        if self.channel is not None:
            interference = np.full(server.shape, -np.inf, np.float32)
        if self.co_channel_mw is not None:
            ch_best = np.where(has, self.channel[np.maximum(server, 0)], 0)
            total = np.take_along_axis(np.asarray(self.co_channel_mw[(slice(None),) + sl]),
                                       ch_best[None], axis=0)[0]
            own = np.where(has, np.power(10.0, best_val.astype(np.float64) / 10.0), 0.0)
            interf = np.maximum(total - own, 0.0)
            with np.errstate(divide="ignore"):
                interference = np.where(has & (interf > 0.0), 10.0 * np.log10(interf),
                                        -np.inf).astype(np.float32)
        fields = CoverageFields(
            rx_dbm=np.where(has, best_val, np.float32(np.nan)).astype(np.float32),
            best_server=server,
            path_loss_db=np.where(has, self.path_loss_db[sl], np.float32(np.nan)).astype(
                np.float32),
            interference_dbm=interference)
        los = None if self.line_of_sight is None else np.array(self.line_of_sight[sl])
        return fields, los


def compute_fields_terrain(grid: Grid, dem: np.ndarray, sa: SiteArrays, technology: Technology,
                           method: TerrainMethod, *, ue_height_m: float, channel=None,
                           progress=None) -> tuple[CoverageFields, TerrainFields]:
    """Best server, signal, path loss (and co-channel interference) with terrain.

    Sites are evaluated one at a time over their disc (:func:`site_disc`) and reduced in
    index order (:class:`FieldReduction`): a site replaces the current best only when
    strictly stronger, as ``argmax`` does in the flat engine.
    """
    red = FieldReduction(grid.shape, channel)
    # the rays sample the DEM in float64: convert it once, not once per site (the values,
    # hence the results, are the same)
    dem = np.asarray(dem, dtype=np.float64)
    for k in range(len(sa)):
        disc = site_disc(grid, dem, sa, k, technology, method, ue_height_m=ue_height_m)
        if disc is not None:
            red.add(disc, k)
        if progress is not None:
            progress(k + 1, len(sa))
    fields, los = red.fields()
    return fields, TerrainFields(line_of_sight=los)


def _ground_at(dem: np.ndarray, grid: Grid, x: float, y: float) -> float:
    row, col = grid.cell_of(x, y)
    row = int(np.clip(row, 0, grid.nrows - 1))
    col = int(np.clip(col, 0, grid.ncols - 1))
    return float(dem[row, col])
