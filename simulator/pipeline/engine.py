"""The coverage engine: best server and received signal over the grid, tile by tile.

For each tile only the sites whose reach (the distance at which their best-case received
signal falls to the engine's floor) touches the tile are evaluated, found with a k-d tree;
the arrays are ``n_nearby_sites x tile_cells``, never ``all_sites x region_cells``.
Peak memory follows the tile size, not the region.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..region.grid import Grid, Tile
from ..radio.propagation.models import PathLossModel
from ..radio.stations import Sites, StationType, Technology
from . import _engine_jit as _jit


@dataclass(frozen=True)
class SiteArrays:
    """Per-site numbers the engine needs, as float arrays (one entry per site)."""

    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    eirp_metric_dbm: np.ndarray  # peak EIRP in the technology's metric (e.g. per RE for RSRP)
    tx_metric_dbm: np.ndarray    # transmit power in that metric (tx power - metric offset)
    sectors: np.ndarray
    hpbw_h_deg: np.ndarray
    hpbw_v_deg: np.ndarray
    tilt_deg: np.ndarray
    azimuth_deg: np.ndarray
    reach_m: np.ndarray
    patterns: tuple = ()  # per site: a TabulatedPattern or None

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
    interference_dbm : float32 or None
        Sum, in linear units, of the signals of every other site on the best server's
        channel [dBm in the same metric]; -inf where there is none; None when not asked.
    """

    rx_dbm: np.ndarray
    best_server: np.ndarray
    path_loss_db: np.ndarray
    interference_dbm: np.ndarray | None = None

    @classmethod
    def empty(cls, shape, with_interference=False) -> "CoverageFields":
        return cls(np.full(shape, np.nan, np.float32), np.full(shape, -1, np.int32),
                   np.full(shape, np.nan, np.float32),
                   np.full(shape, -np.inf, np.float32) if with_interference else None)


def antenna_relative_gain_db(dx_m, dy_m, dist_m, dz_m, azimuth_deg, sectors, hpbw_h_deg,
                             hpbw_v_deg, tilt_deg, patterns=None):
    """Antenna gain toward each cell relative to the peak, best sector of each site [dB].

    Uses the 3GPP TR 38.901 Table 7.3-1 pattern (:func:`simulator.radio.antenna.sector_3gpp_gain_dbi`
    with ``max_gain_dbi=0``) for sectored sites and the vertical cut alone
    (:func:`simulator.radio.antenna.omni_gain_dbi`) for omni sites. A cell is served by the sector
    that hears it best; as the pattern falls with the angle from boresight, that is the
    sector whose boresight is nearest in azimuth, so one angle per pair suffices. The
    vertical pattern is taken at the elevation angle of the cell seen from the antenna
    (negative below the horizon), with the station's electrical downtilt.

    Parameters
    ----------
    dx_m, dy_m, dist_m : numpy.ndarray
        East, north offsets and horizontal distance from the site, ``(n_sites, ...)``.
    dz_m : numpy.ndarray
        Antenna height minus the receiver height [m]: per site ``(n_sites,)``, or per pair,
        broadcastable to ``dist_m`` (with terrain, ground elevations differ per cell).
    azimuth_deg, sectors, hpbw_h_deg, hpbw_v_deg, tilt_deg : numpy.ndarray
        Per site, ``(n_sites,)``; the first sector points at ``azimuth_deg`` (clockwise from
        north) and the others are spread evenly.
    patterns : sequence, optional
        Per site a vendor pattern (:class:`simulator.radio.antenna.TabulatedPattern`) or None;
        where given it replaces the 3GPP pattern: the cell takes the best sector's gain from
        the pattern's cuts, relative to its peak.
    """
    from ..radio.antenna import sector_3gpp_gain_dbi

    col = (slice(None),) + (None,) * (dx_m.ndim - 1)
    dz = np.asarray(dz_m, np.float32)
    if dz.ndim == 1:
        dz = dz[col]
    elevation = -np.degrees(np.arctan2(dz, dist_m))
    sectors = np.maximum(np.asarray(sectors), 1)
    spacing = (360.0 / sectors).astype(np.float32)[col]
    bearing = np.degrees(np.arctan2(dx_m, dy_m))
    off = (bearing - np.asarray(azimuth_deg, np.float32)[col]) % spacing
    off = np.minimum(off, spacing - off)
    # omni sites: no horizontal term; the vertical cut alone (SLA_V <= A_max) remains
    omni = ((sectors == 1) & (np.asarray(hpbw_h_deg) >= 360.0))[col]
    off = np.where(omni, np.float32(0.0), off)
    gain = sector_3gpp_gain_dbi(off, elevation, max_gain_dbi=0.0,
                                hpbw_h_deg=np.minimum(hpbw_h_deg, 360.0)[col],
                                hpbw_v_deg=np.asarray(hpbw_v_deg)[col],
                                tilt_deg=np.asarray(tilt_deg)[col])
    gain = np.array(gain, dtype=np.float32)
    for k, pattern in enumerate(patterns or ()):
        if pattern is None:
            continue
        spacing_k = 360.0 / max(int(sectors[k]), 1)
        rel = (bearing[k] - np.float32(azimuth_deg[k])) % np.float32(spacing_k)
        rel = np.where(rel > spacing_k / 2, rel - spacing_k, rel)
        elev_k = np.broadcast_to(elevation, dx_m.shape)[k]
        gain[k] = pattern.gain_dbi(rel, elev_k) - pattern.peak_gain_dbi
    return gain


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
                      eirp_metric_dbm=eirp,
                      tx_metric_dbm=sites.attribute(stations, "tx_power_dbm")
                      - technology.metric_offset_db,
                      sectors=sites.attribute(stations, "sectors"),
                      hpbw_h_deg=sites.attribute(stations, "hpbw_h_deg"),
                      hpbw_v_deg=sites.attribute(stations, "hpbw_v_deg"),
                      tilt_deg=sites.attribute(stations, "downtilt_deg"),
                      azimuth_deg=sites.azimuth_deg.copy(), reach_m=reach,
                      patterns=tuple(stations[s].pattern for s in sites.station))


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


def subset_site_arrays(sa: SiteArrays, idx: np.ndarray) -> SiteArrays:
    """The :class:`SiteArrays` of the sites ``idx`` (in that order)."""
    idx = np.asarray(idx, dtype=np.int64)
    kw = {name: getattr(sa, name)[idx] for name in
          ("x_m", "y_m", "height_m", "eirp_metric_dbm", "tx_metric_dbm", "sectors",
           "hpbw_h_deg", "hpbw_v_deg", "tilt_deg", "azimuth_deg", "reach_m")}
    patterns = tuple(sa.patterns[i] for i in idx) if sa.patterns else ()
    return SiteArrays(**kw, patterns=patterns)


def compute_tile(grid: Grid, tile: Tile, sa: SiteArrays, idx: np.ndarray,
                 technology: Technology, model: PathLossModel, ue_height_m: float,
                 channel: np.ndarray | None = None):
    """The engine's fields for one tile from the sites ``idx``.

    Parameters
    ----------
    channel : numpy.ndarray, optional
        Channel of every site (length ``len(sa)``): when given, the co-channel interference
        at each cell (every other site on the best server's channel) is summed in mW.

    Returns
    -------
    tuple
        ``(rx_dbm, best_server, path_loss_db, interference_dbm)`` arrays of the tile's
        shape (float32, int32, float32, float32 or None).
    """
    f, _ = compute_tile_fields(grid, tile, sa, idx, technology, model, ue_height_m, channel)
    return f.rx_dbm, f.best_server, f.path_loss_db, f.interference_dbm


def _site_window(grid: Grid, tile: Tile, x_m: float, y_m: float, radius_m: float):
    """Rows and columns of ``tile`` (relative to it) whose cell centres may lie within
    ``radius_m`` of a site, one cell of margin on each side; None when none does."""
    res = grid.resolution_m
    c0 = int(np.floor((x_m - radius_m - grid.x_min_m) / res - 0.5)) - 1
    c1 = int(np.ceil((x_m + radius_m - grid.x_min_m) / res - 0.5)) + 2
    r0 = int(np.floor((grid.y_max_m - y_m - radius_m) / res - 0.5)) - 1
    r1 = int(np.ceil((grid.y_max_m - y_m + radius_m) / res - 0.5)) + 2
    c0, c1 = max(c0, tile.col0), min(c1, tile.col1)
    r0, r1 = max(r0, tile.row0), min(r1, tile.row1)
    if c1 <= c0 or r1 <= r0:
        return None
    return r0 - tile.row0, r1 - tile.row0, c0 - tile.col0, c1 - tile.col0


def _site_signal(sa: SiteArrays, k: int, dx: np.ndarray, dy: np.ndarray,
                 technology: Technology, model: PathLossModel, ue_height_m: float):
    """Signal and path loss of site ``k`` over a window (``dx`` (1, w), ``dy`` (h, 1)
    float32 offsets) [dBm, dB], float32; -inf beyond the site's reach.

    The arithmetic, operation by operation and in the same precision, of the engine's
    vectorised form over all sites at once (path loss, EIRP, the antenna's relative gain
    :func:`antenna_relative_gain_db`), so results do not depend on how pairs are grouped.
    """
    f32 = np.float32
    d = dx * dx + dy * dy
    np.sqrt(d, out=d)
    h = sa.height_m[k:k + 1]
    loss = model.loss_db(d, technology.frequency_mhz, h[:, None], ue_height_m)
    rx = f32(sa.eirp_metric_dbm[k]) - loss
    rx += _relative_gain_one(sa, k, dx, dy, d, ue_height_m)
    reach = f32(sa.reach_m[k])
    if d.max() > reach:
        rx[d > reach] = -np.inf
    return rx, loss


def _mod_f32(x: np.ndarray, b: np.float32) -> np.ndarray:
    """``numpy.mod(x, b)`` of a float32 array and a float32 ``b > 0``, bit for bit, at a
    third of its cost.

    ``numpy.mod`` returns the exact remainder ``r = x - floor(x / b) b`` rounded to float32
    (C ``fmod``, plus ``b`` when negative). In float64, ``x - q b`` with the integer
    ``q = floor(x / b)`` is exact (``q b`` needs at most 24 + 10 bits, and the difference
    fits in 53); and ``floor`` of the float64 quotient is the true ``floor(x / b)``: it
    could only be one too high if ``x / b`` were within 1e-15 below an integer, i.e.
    ``0 < r < 1e-12``, and a nonzero ``r`` is a multiple of float32's ulp of ``x`` or
    ``b`` (>= 2**-30 here, as ``|x| < 2**11``)."""
    x64 = x.astype(np.float64)
    b64 = float(b)
    q = x64 / b64
    np.floor(q, out=q)
    q *= b64
    x64 -= q
    return x64.astype(np.float32)


def _relative_gain_one(sa: SiteArrays, k: int, dx, dy, d, ue_height_m: float) -> np.ndarray:
    """:func:`antenna_relative_gain_db` of one site (float32), with the same operations:
    the angles in float32, the 3GPP pattern (TR 38.901 Table 7.3-1, max gain 0, A_max =
    SLA_V = 30 dB) in float64, rounded to float32 at the end."""
    f32 = np.float32
    pattern = sa.patterns[k] if sa.patterns else None
    # a full array of dz: numpy's vectorised arctan2 loop (the broadcast scalar takes a
    # slower one; the values are the same, bit for bit)
    elevation = np.full(d.shape, f32(sa.height_m[k] - ue_height_m))
    np.arctan2(elevation, d, out=elevation)
    np.degrees(elevation, out=elevation)
    np.negative(elevation, out=elevation)
    sectors = max(int(sa.sectors[k]), 1)
    spacing = f32(360.0 / sectors)
    bearing = np.degrees(np.arctan2(dx, dy))
    if pattern is not None:
        rel = (bearing - f32(sa.azimuth_deg[k])) % f32(360.0 / sectors)
        rel = np.where(rel > 360.0 / sectors / 2, rel - 360.0 / sectors, rel)
        return (pattern.gain_dbi(rel, elevation)
                - pattern.peak_gain_dbi).astype(f32)
    omni = sectors == 1 and float(sa.hpbw_h_deg[k]) >= 360.0
    a_max = 30.0
    # vertical cut: min(12 ((elevation + tilt) / hpbw_v)^2, SLA_V), float64
    av = elevation.astype(np.float64)
    av += float(sa.tilt_deg[k])
    av /= float(sa.hpbw_v_deg[k])
    np.multiply(av, av, out=av)
    av *= 12.0
    np.minimum(av, a_max, out=av)
    if not omni:
        off = bearing
        off -= f32(sa.azimuth_deg[k])
        off = _mod_f32(off, spacing)
        np.minimum(off, spacing - off, out=off)
        ah = off.astype(np.float64)
        ah /= min(float(sa.hpbw_h_deg[k]), 360.0)
        np.multiply(ah, ah, out=ah)
        ah *= 12.0
        np.minimum(ah, a_max, out=ah)
        av += ah
    # G = 0 - min(-(A_V + A_H), A_max) with A_V, A_H <= 0
    np.minimum(av, a_max, out=av)
    gain = av.astype(f32)
    np.negative(gain, out=gain)
    return gain


def compute_tile_fields(grid: Grid, tile: Tile, sa: SiteArrays, idx: np.ndarray,
                        technology: Technology, model: PathLossModel, ue_height_m: float,
                        channel: np.ndarray | None = None, *,
                        existing: np.ndarray | None = None):
    """The engine's fields for one tile, and those of the existing sites alone.

    Each site ``idx[j]`` is evaluated over the window of the tile its reach can touch
    (:func:`_site_signal`), in index order, into a running best server: a site replaces
    the best only when strictly stronger, as ``argmax`` picks the first of equal signals.
    The existing sites (``existing``: their indices in ``sa``) are reduced into a second
    best server from the same pairs, so the baseline costs no second engine pass.

    Parameters
    ----------
    channel : numpy.ndarray, optional
        Channel of every site (length ``len(sa)``): when given, the co-channel interference
        at each cell (every other site on the best server's channel) is summed in mW, in
        site index order.
    existing : numpy.ndarray, optional
        Indices (into ``sa``) of the existing sites, sorted.

    Returns
    -------
    (CoverageFields, CoverageFields or None)
        All sites; the existing sites alone (``best_server`` indexes ``existing``), None
        without ``existing``.
    """
    h, w = tile.shape
    all_ = _Best((h, w))
    base = _Best((h, w)) if existing is not None else None
    base_pos = {}
    if existing is not None:
        base_pos = {int(k): j for j, k in enumerate(existing)}
    xc = grid.x_centres(tile.col0, tile.col1)
    yc = grid.y_centres(tile.row0, tile.row1)
    keep = channel is not None
    rows = []
    fast = _SiteWindows((h, w)) if _jit.AVAILABLE else None
    if fast is not None:
        fast.prepare(sa, idx, technology, model, ue_height_m)
    for k in np.asarray(idx, dtype=np.int64):
        k = int(k)
        win = _site_window(grid, tile, float(sa.x_m[k]), float(sa.y_m[k]), float(sa.reach_m[k]))
        if win is None:
            continue
        r0, r1, c0, c1 = win
        dx = (xc[None, c0:c1] - sa.x_m[k]).astype(np.float32)
        dy = (yc[r0:r1, None] - sa.y_m[k]).astype(np.float32)
        sl = (slice(r0, r1), slice(c0, c1))
        if fast is not None and not (sa.patterns and sa.patterns[k] is not None):
            rx_c, loss_c, lo, cnt = fast.signal(sa, k, dx, dy, technology, model,
                                                ue_height_m)
            all_.add_pairs(rx_c, loss_c, lo, cnt, r0, c0, k)
            if k in base_pos:
                base.add_pairs(rx_c, loss_c, lo, cnt, r0, c0, base_pos[k])
            if keep:
                rx = np.full((r1 - r0, c1 - c0), -np.inf, np.float32)
                _jit.scatter(rx_c, lo, cnt, rx)
                rows.append((k, sl, rx))
            continue
        rx, loss = _site_signal(sa, k, dx, dy, technology, model, ue_height_m)
        all_.add(sl, rx, loss, k)
        if k in base_pos:
            base.add(sl, rx, loss, base_pos[k])
        if keep:
            rows.append((k, sl, rx))
    fields = all_.fields(channel, rows, None)
    base_fields = None
    if base is not None:
        ch_b = None if channel is None else channel
        base_rows = [(k, sl, rx) for k, sl, rx in rows if k in base_pos]
        base_fields = base.fields(ch_b, base_rows, base_pos)
    return fields, base_fields


@functools.lru_cache(maxsize=4096)
def _hata_terms(model: PathLossModel, frequency_mhz: float, h_tx_m: float, h_rx_m: float):
    """:meth:`PathLossModel.hata_float32_terms`, once per model and antenna height."""
    return model.hata_float32_terms(frequency_mhz, h_tx_m, h_rx_m)


class _SiteWindows:
    """Buffers of a tile's site windows (reused from site to site) for the compiled form
    of :func:`_site_signal` (:mod:`._engine_jit`): only the pairs within the site's reach
    are evaluated, with the same arithmetic. The per-site scalars of the kernels are
    converted once per tile (:meth:`prepare`), not once per window."""

    def __init__(self, shape):
        size = shape[0] * shape[1]
        self.d = np.empty(size, np.float32)
        self.dd = np.empty(size, np.float32)
        self.dx = np.empty(size, np.float32)
        self.dy = np.empty(size, np.float32)
        self.elev = np.empty(size, np.float32)
        self.dz = np.empty(size, np.float32)
        self._dz_value = None  # the value of self.dz[:_dz_n]
        self._dz_n = 0
        self.loss = np.empty(size, np.float32)
        self.rx = np.empty(size, np.float32)
        self.lo = np.empty(shape[0], np.int64)
        self.cnt = np.empty(shape[0], np.int64)
        self.params = {}

    def prepare(self, sa: SiteArrays, idx: np.ndarray, technology: Technology,
                model: PathLossModel, ue_height_m: float) -> None:
        """The kernels' scalars of the sites ``idx``, in the types :meth:`signal` passes
        (float32 where the engine computes in float32), the same values as converting
        them site by site."""
        f32 = np.float32
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        sectors = np.maximum(np.array([int(v) for v in sa.sectors[idx]], dtype=np.int64), 1)
        hpbw_h = sa.hpbw_h_deg[idx].astype(np.float64)
        cols = zip(idx.tolist(), sa.reach_m[idx].astype(f32),
                   (sa.height_m[idx] - ue_height_m).astype(f32),
                   sa.eirp_metric_dbm[idx].astype(f32), sa.tilt_deg[idx].astype(np.float64).tolist(),
                   sa.hpbw_v_deg[idx].astype(np.float64).tolist(), sa.azimuth_deg[idx].astype(f32),
                   (360.0 / sectors).astype(f32), np.minimum(hpbw_h, 360.0).tolist(),
                   ((sectors == 1) & (hpbw_h >= 360.0)).tolist(), sa.height_m[idx].tolist())
        freq, ue = float(technology.frequency_mhz), float(ue_height_m)
        for k, reach, dz, eirp, tilt, hv, az, spacing, hh, omni, height in cols:
            self.params[k] = (reach, dz, _hata_terms(model, freq, float(height), ue),
                              eirp, tilt, hv, az, spacing, hh, omni)

    def signal(self, sa: SiteArrays, k: int, dx: np.ndarray, dy: np.ndarray,
               technology: Technology, model: PathLossModel, ue_height_m: float):
        """``(rx, loss, lo, cnt)``: signal [dBm] and path loss [dB] (float32) of the pairs
        of the window within reach, row by row (row ``i``: columns ``lo[i]`` to
        ``lo[i] + cnt[i] - 1``); the values of :func:`_site_signal` at those pairs (the
        others are beyond reach: -inf there)."""
        f32 = np.float32
        if k not in self.params:
            self.prepare(sa, np.array([k]), technology, model, ue_height_m)
        reach, dz, terms, eirp, tilt, hpbw_v, azimuth, spacing, hpbw_h, omni = self.params[k]
        h = dy.shape[0]
        lo, cnt = self.lo[:h], self.cnt[:h]
        n = _jit.pairs_within_reach(dx[0], dy[:, 0], reach, self.d, self.dd, self.dx,
                                    self.dy, lo, cnt)
        d = self.d[:n]
        if terms is None:
            loss = model.loss_db(d, technology.frequency_mhz, sa.height_m[k:k + 1][:, None],
                                 ue_height_m).reshape(-1)
            if loss.dtype != np.float32:  # pragma: no cover - area models keep float32
                raise TypeError(f"path loss of {model.name} is {loss.dtype}, not float32")
            terms, hata, lg = (f32(0.0), f32(0.0), f32(0.0), False), False, d
        else:
            loss, hata = self.loss[:n], True
            lg = np.log10(self.dd[:n], out=self.dd[:n])
        # a full array of dz (numpy's vectorised arctan2 loop), refilled only when the
        # height changes or the window is larger
        if dz != self._dz_value or n > self._dz_n:
            self.dz[:n].fill(dz)
            self._dz_value, self._dz_n = dz, n
        elev = np.arctan2(self.dz[:n], d, out=self.elev[:n])
        bearing = np.arctan2(self.dx[:n], self.dy[:n], out=self.dx[:n])
        rx = self.rx[:n]
        _jit.signal_3gpp(n, d, reach, lg, hata, *terms, loss, elev, bearing, eirp, tilt,
                         hpbw_v, azimuth, spacing, hpbw_h, omni, rx)
        return rx, loss, lo, cnt


class _Best:
    """A running best server over a tile (signal, server, path loss), in site order."""

    def __init__(self, shape):
        self.rx = np.full(shape, -np.inf, np.float32)
        self.server = np.full(shape, -1, np.int32)
        self.loss = np.full(shape, np.nan, np.float32)

    def add(self, sl, rx, loss, k: int) -> None:
        cur = self.rx[sl]
        better = rx > cur
        np.copyto(cur, rx, where=better)
        np.copyto(self.server[sl], np.int32(k), where=better)
        np.copyto(self.loss[sl], loss, where=better)

    def add_pairs(self, rx, loss, lo, cnt, r0, c0, k: int) -> None:
        """:meth:`add` of the pairs of :meth:`_SiteWindows.signal` (window at row ``r0``,
        column ``c0`` of the tile)."""
        _jit.best_add(rx, loss, lo, cnt, r0, c0, self.rx, self.server, self.loss,
                      np.int32(k))

    def fields(self, channel, rows, pos) -> CoverageFields:
        """The fields; ``rows`` (site, window, signal) in site order give the co-channel
        sums when ``channel`` is given; ``pos`` maps a site to its index in this
        reduction's server numbering (None: the same)."""
        none = self.server < 0
        interf = None
        if channel is not None:
            channel = np.asarray(channel)
            own = channel if pos is None else channel[
                np.array(sorted(pos, key=pos.get), dtype=np.int64)]
            serving_ch = np.full(self.server.shape, -1, np.int64)
            if len(own):
                serving_ch = np.where(none, -1, own[np.maximum(self.server, 0)])
            acc = np.zeros(self.rx.shape, np.float64)
            for k, sl, rx in rows:
                kk = k if pos is None else pos[k]
                use = (serving_ch[sl] == channel[k]) & (self.server[sl] != kk)
                lin = np.power(10.0, rx.astype(np.float64) / 10.0)
                acc[sl] += np.where(use, lin, 0.0)
            with np.errstate(divide="ignore"):
                interf = (10.0 * np.log10(acc)).astype(np.float32)
            interf[none] = -np.inf
        rx = self.rx
        rx[none] = np.nan
        return CoverageFields(rx, self.server, self.loss, interf)


def compute_fields(grid: Grid, sa: SiteArrays, technology: Technology, model: PathLossModel, *,
                   ue_height_m: float, tile_size_cells: int = 256, channel=None,
                   progress=None) -> CoverageFields:
    """Run the engine over every tile of the grid and assemble the region's fields.

    The result does not depend on ``tile_size_cells``: each cell's value is computed from
    the same sites with the same arithmetic whichever tile it falls in.

    Parameters
    ----------
    channel : numpy.ndarray, optional
        Channel per site; when given, ``interference_dbm`` is computed (co-channel sum).
    progress : callable, optional
        ``progress(done_tiles, total_tiles)``.
    """
    out = CoverageFields.empty(grid.shape, with_interference=channel is not None)
    tree = cKDTree(np.c_[sa.x_m, sa.y_m]) if len(sa) else None
    tiles = list(grid.tiles(tile_size_cells))
    for k, tile in enumerate(tiles):
        idx = sites_near_tile(grid, tile, sa, tree)
        rx, best, loss, interf = compute_tile(grid, tile, sa, idx, technology, model,
                                                     ue_height_m, channel)
        sl = tile.slices
        out.rx_dbm[sl] = rx
        out.best_server[sl] = best
        out.path_loss_db[sl] = loss
        if interf is not None:
            out.interference_dbm[sl] = interf
        if progress is not None:
            progress(k + 1, len(tiles))
    return out


def window_tile(grid: Grid, x_m: float, y_m: float, radius_m: float) -> Tile | None:
    """The block of cells whose centres may lie within ``radius_m`` of a point.

    A square of cells around ``(x_m, y_m)`` clipped to the grid: every cell whose centre is
    within ``radius_m`` of the point is inside it (plus a few corner cells). ``None`` when the
    square misses the grid. Used to evaluate one site only over the cells within its reach
    (:mod:`simulator.planning.coverage_matrix`), with :func:`compute_tile` so the arithmetic is the
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
