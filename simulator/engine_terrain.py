"""The terrain engine: radial profiles from each site, a loss per profile, mapped to cells.

For each site, rays are swept from the antenna out to the site's reach at about the grid
resolution (:func:`simulator.terrain.radial_profiles`); every sample along a ray is a
receiver whose terrain profile is the ray's prefix. A terrain method (NTIA ITM point to
point, P.526 Deygout / Bullington diffraction added to a base model, or P.526's complete
delta-Bullington method added to free space) gives the loss of every prefix, vectorised
over batches of rays; :func:`simulator.terrain.rays_to_grid` maps the samples back onto
every cell of the site's disc. Sites are then reduced into the
region's best server in index order, exactly as the flat engine does, so results do not
depend on any tiling.

ITM runs on the full-resolution prefix of every ray sample, with the work shared along each
ray (:func:`simulator.propagation.itm.itm_p2p_rays_loss_db`: running maxima, prefix sums and
convex-hull tangents, O(log n) per path).  For the diffraction methods, profiles longer than
``max_profile_points`` are resampled (linear interpolation) to that many points, which bounds
the cost per path; shorter profiles are used as sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .engine import CoverageFields, SiteArrays, antenna_relative_gain_db
from .grid import Grid
from .propagation.fspl import free_space_loss_db
from .propagation.models import PathLossModel
from .stations import Technology
from .terrain import line_of_sight, radial_profiles, rays_to_grid

TERRAIN_METHODS = ("itm", "deygout", "bullington", "delta_bullington")

#: ITM climate names -> NTIA codes 1..7.
ITM_CLIMATES = {"equatorial": 1, "continental_subtropical": 2, "maritime_subtropical": 3,
                "desert": 4, "continental_temperate": 5, "maritime_temperate_land": 6,
                "maritime_temperate_sea": 7}


@dataclass(frozen=True)
class TerrainMethod:
    """A terrain-aware loss: ``itm``, ``deygout``/``bullington`` on top of ``base``, or
    ``delta_bullington`` (P.526-15 §4.5, :mod:`simulator.propagation.delta_bullington`)
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
        (:func:`~simulator.propagation.itm.itm_p2p_rays_loss_db`).

        ``deygout``/``bullington``: the method on the profile minus the method on the
        straight chord between its end points (>= 0), plus ``base``.
        ``delta_bullington``: the complete delta-Bullington loss (vertical polarisation,
        P.1812's average land ground), plus ``base``; no chord is subtracted, its
        spherical-Earth term already stands for smooth ground."""
        from .propagation import diffraction

        base = self.base.loss_db(distance_m, frequency_mhz, h_tx_m, h_rx_m)
        if self.name == "delta_bullington":
            from .propagation.delta_bullington import delta_bullington_loss_db

            return delta_bullington_loss_db(elev, spacing_m, h_tx_m, h_rx_m, frequency_mhz,
                                            k_factor=self.k_factor, n_points=n_points) + base
        fn = diffraction.deygout_loss_db if self.name == "deygout" else \
            diffraction.bullington_loss_db
        kw = dict(k_factor=self.k_factor, n_points=n_points)
        terrain = fn(elev, spacing_m, h_tx_m, h_rx_m, frequency_mhz, **kw)
        smooth = fn(_chord_profiles(elev, n_points), spacing_m, h_tx_m, h_rx_m, frequency_mhz,
                    **kw)
        excess = np.maximum(terrain - smooth, 0.0)
        return excess + base


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
        from .propagation.itm import itm_p2p_rays_loss_db

        rays, steps, counts = _thinned_samples(n_rays, n_steps)
        vals = itm_p2p_rays_loss_db(elev, geom.step_m, h_tx_m, ue_height_m,
                                    tech.frequency_mhz, rays=rays, steps=steps, mdvar=12,
                                    **method.itm)
        _fill_from_evaluated(vals, counts, loss)
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
    a = np.arange(n_rays)[:, None]
    for s in range(0, counts.size, block_steps):
        nj = counts[None, s:s + block_steps]
        k0 = a * nj // n_rays                            # evaluated ray at or below a
        k1 = (k0 + 1) % nj
        closer = (k1 * n_rays // nj - a) % n_rays < a - k0 * n_rays // nj
        out[:, 1 + s:1 + s + nj.size] = values[offset[None, s:s + block_steps]
                                               + np.where(closer, k1, k0)]


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
    """What the terrain engine adds to :class:`~simulator.engine.CoverageFields`."""

    line_of_sight: np.ndarray   # bool: in line of sight of at least one site within reach


def compute_fields_terrain(grid: Grid, dem: np.ndarray, sa: SiteArrays, technology: Technology,
                           method: TerrainMethod, *, ue_height_m: float, channel=None,
                           progress=None) -> tuple[CoverageFields, TerrainFields]:
    """Best server, signal, path loss (and co-channel interference) with terrain.

    Sites are evaluated one at a time over their disc and reduced in index order: a site
    replaces the current best only when strictly stronger, as ``argmax`` does in the flat
    engine.
    """
    out = CoverageFields.empty(grid.shape, with_interference=channel is not None)
    los_any = np.zeros(grid.shape, bool)
    best_val = np.full(grid.shape, -np.inf, np.float32)
    n_ch = int(channel.max()) + 1 if channel is not None and len(channel) else 0
    lin_sum = np.zeros((n_ch,) + grid.shape, np.float64) if n_ch else None
    res = grid.resolution_m
    for k in range(len(sa)):
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
            continue
        sub_shape = (r1 - r0, c1 - c0)
        x0 = grid.x_min_m + c0 * res
        y0 = grid.y_max_m - r0 * res
        # map the loss in excess of free space along the rays, then add free space at each
        # cell's own distance: the rays are sampled every grid step, so this removes the
        # distance quantisation of the mapping (exact for a smooth, unobstructed path)
        d_sample = np.maximum(geom.distance_m, geom.step_m)
        excess = loss - free_space_loss_db(np.hypot(d_sample, h - ue_height_m),
                                           technology.frequency_mhz)[None, :]
        excess_g = rays_to_grid(excess.astype(np.float32), geom, x0, y0, res, sub_shape,
                                fill_value=np.nan)
        los_g = rays_to_grid(los, geom, x0, y0, res, sub_shape, fill_value=False)
        dx = (grid.x_centres(c0, c1)[None, :] - x).astype(np.float32)
        dy = (grid.y_centres(r0, r1)[:, None] - y).astype(np.float32)
        dx, dy = np.broadcast_arrays(dx, dy)
        d = np.sqrt(dx * dx + dy * dy)
        loss_g = excess_g + free_space_loss_db(
            np.sqrt(np.maximum(d, np.float32(1.0)) ** 2 + np.float32(h - ue_height_m) ** 2),
            technology.frequency_mhz)
        inside = np.isfinite(loss_g)
        site_ground = _ground_at(dem, grid, x, y)
        dz = (site_ground + h) - (dem[r0:r1, c0:c1] + ue_height_m)
        gain = antenna_relative_gain_db(
            dx[None], dy[None], d[None], dz.astype(np.float32)[None], sa.azimuth_deg[k:k + 1],
            sa.sectors[k:k + 1], sa.hpbw_h_deg[k:k + 1], sa.hpbw_v_deg[k:k + 1],
            sa.tilt_deg[k:k + 1], sa.patterns[k:k + 1] if sa.patterns else None)[0]
        rx = (np.float32(sa.eirp_metric_dbm[k]) - loss_g + gain).astype(np.float32)
        rx[~inside] = -np.inf
        sl = (slice(r0, r1), slice(c0, c1))
        better = rx > best_val[sl]
        best_val[sl] = np.where(better, rx, best_val[sl])
        out.best_server[sl] = np.where(better, np.int32(k), out.best_server[sl])
        out.path_loss_db[sl] = np.where(better, loss_g, out.path_loss_db[sl])
        los_any[sl] |= los_g & inside
        if lin_sum is not None:
            lin_sum[(int(channel[k]),) + sl] += np.where(inside, np.power(
                10.0, rx.astype(np.float64) / 10.0), 0.0)
        if progress is not None:
            progress(k + 1, len(sa))
    has = out.best_server >= 0
    out.rx_dbm = np.where(has, best_val, np.float32(np.nan)).astype(np.float32)
    out.path_loss_db = np.where(has, out.path_loss_db, np.float32(np.nan)).astype(np.float32)
    if lin_sum is not None:
        ch_best = np.where(has, channel[np.maximum(out.best_server, 0)], 0)
        total = np.take_along_axis(lin_sum, ch_best[None], axis=0)[0]
        own = np.where(has, np.power(10.0, best_val.astype(np.float64) / 10.0), 0.0)
        interf = np.maximum(total - own, 0.0)
        with np.errstate(divide="ignore"):
            out.interference_dbm = np.where(has & (interf > 0.0), 10.0 * np.log10(interf),
                                            -np.inf).astype(np.float32)
    return out, TerrainFields(line_of_sight=los_any)


def _ground_at(dem: np.ndarray, grid: Grid, x: float, y: float) -> float:
    row, col = grid.cell_of(x, y)
    row = int(np.clip(row, 0, grid.nrows - 1))
    col = int(np.clip(col, 0, grid.ncols - 1))
    return float(dem[row, col])
