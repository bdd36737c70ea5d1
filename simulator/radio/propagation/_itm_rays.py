"""ITM point-to-point terrain analysis for every prefix of a fan of rays, sharing work.

Private helper of :mod:`simulator.radio.propagation.itm`.  In a radial sweep each sample ``j`` of a
ray is a receiver whose terrain profile is the ray's prefix (samples ``0..j``, TX at sample 0,
uniform spacing).  This module computes the terrain-derived ITM parameters of NTIA/itm
``QuickPfl`` (see :mod:`._itm_terrain`, which does it one profile at a time) for selected
prefixes of many rays, reusing what neighbouring prefixes share:

* System elevation and the least-squares fits of the effective heights: prefix sums of z and
  k z along each ray, so each is O(1) per prefix.
* TX horizon: the first maximum of the elevation angle seen from the TX over samples
  ``1..j-1``, a running arg-maximum along the ray.
* RX horizon: the largest elevation angle seen from the receiver back over samples
  ``1..j-1``.  With the earth curvature folded into the heights (w_i = z_i - gamma d_i^2 / 2),
  it is the tangent from the receiver to the upper convex hull of those samples; the hull is
  maintained per ray as the sweep moves out (Andrew's monotone chain) and searched by
  bisection, both vectorised over rays.  O(log n) per prefix instead of O(n).
* Delta_h (terrain irregularity): exactly as ITM computes it (resampling between the
  foreground limits to at most 245 points, interdecile range of the residuals about a line)
  at *knot* steps spaced about ``knot_fraction`` of the path length apart, linearly
  interpolated in between.  This is the one approximation; Delta_h varies slowly with the
  path length (one more sample out of hundreds), see docs/models.md for its measured effect.
  ``knot_fraction=0`` makes every step a knot: the parameters are then those of ITM on each
  prefix profile on its own, to rounding.

With numba installed the per-path loops (Delta_h, hull tangents, horizon searches and fits)
run compiled (:mod:`._itm_jit`, same arithmetic); otherwise the numpy versions here.

The curvature gamma_e of a prefix depends on its mean elevation (N_s = N_0 exp(-h_sys/9460)).
The horizon searches rank candidates with per-ray bounds of gamma_e and take the angle with
the prefix's own value: the arg-maximum of lines ``a_i - b_i gamma`` moves monotonically with
gamma, so where the searches at the lowest and the highest gamma_e of the ray agree the
result is exact, and where they differ the (short) range between them is searched directly.
"""

from __future__ import annotations

import numpy as np

from . import _itm_jit as _jit
from ._itm_terrain import (Workspace, fit_line, fit_range, line_of_sight_terms, rx_distances,
                           terrain_delta_h, tx_distances)

#: Samples (rays x steps) per batch of rays: bounds the memory of the per-sample arrays.
BATCH_SAMPLES = 2_000_000


def knot_steps(n_steps: int, knot_fraction: float) -> np.ndarray:
    """Steps where Delta_h is computed: every step up to 1/knot_fraction, then steps about
    ``knot_fraction`` of the path length apart, and always the last step."""
    knots = [1]
    while knots[-1] < n_steps - 1:
        k = knots[-1]
        knots.append(min(n_steps - 1, k + max(1, int(knot_fraction * k))))
    return np.asarray(knots, dtype=np.int64)


def _running_first_argmax(th: np.ndarray) -> np.ndarray:
    """Column c: sample number (c + 1 for column c) of the first maximum of th[:, :c + 1]."""
    run = np.maximum.accumulate(th, axis=1)
    new = np.empty(th.shape, bool)
    new[:, 0] = True
    np.greater(th[:, 1:], run[:, :-1], out=new[:, 1:])
    idx = np.where(new, np.arange(1, th.shape[1] + 1, dtype=np.int32), np.int32(0))
    np.maximum.accumulate(idx, axis=1, out=idx)
    return idx


def _tx_angles(z, d_i, z_tx, g):
    """Elevation angle [rad] of a sample (height z) at distance d_i [m] from the TX, seen from
    the TX antenna (height z_tx), on an Earth of curvature g [1/m]."""
    return (z - z_tx) / d_i - 0.5 * g * d_i


def _rx_angles(z, dd, z_rx, g):
    """Elevation angle [rad] of a sample (height z) at distance dd [m] from the receiver,
    seen from the receiver antenna (height z_rx), on an Earth of curvature g [1/m]."""
    return (z - z_rx) / dd - 0.5 * g * dd


#: Largest table (elements) of receiver distances built at once (bounds its memory).
_RX_TABLE_ELEMENTS = 2_000_000


class _Distances:
    """Sample distances of the prefixes of a ray, rounded as NTIA/itm ``FindHorizons``.

    NTIA adds the spacing once per sample from the TX (``d_k = d_(k-1) + xi``) and
    subtracts it once per sample from the path length ``np * xi`` for the RX; with a spacing
    that is not a whole number this differs in the last bits from ``k * xi`` and
    ``(np - k) * xi``, which can move a truncated fit index of QuickPfl by one sample.
    When the spacing times ``2**20`` is a whole number and the ray is short enough, every
    such sum is exact and the products are used.
    """

    def __init__(self, xi, n):
        self.xi = xi
        q = xi * 2.0 ** 20
        self.exact = q == np.floor(q) and q * n < 2.0 ** 52
        self.tx = np.arange(n) * xi if self.exact else tx_distances(xi, n - 1)

    def rx(self, j, k):
        """Distance to the RX of sample ``k`` of prefix ``j`` (broadcast arrays of int)."""
        if self.exact:
            return (j - k) * self.xi
        jb, kb = np.broadcast_arrays(np.asarray(j, np.int64), np.asarray(k, np.int64))
        shape = jb.shape
        jb, kb = jb.reshape(-1), kb.reshape(-1)
        out = np.empty(jb.size)
        if jb.size == 0:
            return out.reshape(shape)
        u, inv = np.unique(jb, return_inverse=True)
        width = int(kb.max()) + 1
        per = max(1, _RX_TABLE_ELEMENTS // width)
        for s in range(0, u.size, per):
            tab = rx_distances(u[s:s + per] * self.xi, self.xi, width - 1)
            if per >= u.size:
                out[:] = tab[inv, kb]
            else:
                sel = np.nonzero((inv >= s) & (inv < s + per))[0]
                out[sel] = tab[inv[sel] - s, kb[sel]]
        return out.reshape(shape)


def _bracketed(zc, a, inner, i_lo, i_hi, angle, max_elements=1_000_000):
    """Horizon sample of each path from the searches at the ray's two curvature bounds.

    Where they agree (``i_lo == i_hi``) that is the answer; elsewhere (inner paths only) the
    first arg-maximum of ``angle(z, i, rows)`` over samples i in [min, max] of the two is
    searched directly (``rows`` indexes the per-path arguments of ``angle``).
    """
    out = i_lo.astype(np.int64)
    odd = np.nonzero(inner & (i_lo != i_hi))[0]
    if odd.size == 0:
        return out
    lo = np.minimum(i_lo[odd], i_hi[odd]).astype(np.int64)
    hi = np.maximum(i_lo[odd], i_hi[odd]).astype(np.int64)
    width = int((hi - lo).max()) + 1
    step = max(1, max_elements // width)
    for s in range(0, odd.size, step):
        sl = slice(s, s + step)
        i = lo[sl, None] + np.arange(width)[None, :]
        valid = i <= hi[sl, None]
        i = np.where(valid, i, lo[sl, None])
        th = np.where(valid, angle(zc[a[odd[sl], None], i], i, odd[sl]), -np.inf)
        out[odd[sl]] = i[np.arange(i.shape[0]), np.argmax(th, axis=1)]
    return out


def _hull_tangents(w, h1, q_rays, q_bounds):
    """RX horizon sample of every queried prefix, by tangents to the upper convex hull.

    ``w`` (n_rays, n): curvature-folded ground heights; the receiver antenna is ``h1`` above
    them.  The queries of step j are the rays ``q_rays[q_bounds[j]:q_bounds[j + 1]]``.
    Returns an (n, n_rays) int32 array: at each queried (j >= 2, ray), the sample in
    1..j-1 with the largest elevation angle seen from the receiver (the first on ties);
    0 elsewhere.

    Arrays are step-major, and the hulls level-major (vertex k of ray r at ``[k, r]``), so
    that the per-step accesses of all rays touch few cache lines.
    """
    n_rays, n = w.shape
    w_t = np.ascontiguousarray(w.T)
    hx = np.zeros((n, n_rays), np.int32)   # hull vertices (sample index), left to right
    hw = np.zeros((n, n_rays))             # their folded heights
    hxf, hwf = hx.reshape(-1), hw.reshape(-1)
    top = np.zeros(n_rays, np.int64)       # hull size per ray
    every = np.arange(n_rays)
    out = np.zeros((n, n_rays), np.int32)
    for j in range(2, n):
        # add sample p = j - 1 (ground) to every ray's upper hull
        p = j - 1
        wp = w_t[p]
        act = np.nonzero(top >= 2)[0] if j > 3 else every[:0]
        while act.size:
            t = top[act] * n_rays + act
            xa, wa = hxf[t - 2 * n_rays], hwf[t - 2 * n_rays]
            t -= n_rays
            # pop b while it lies on or below the segment a -> p
            pop = (hwf[t] - wa) * (p - xa) <= (wp[act] - wa) * (hxf[t] - xa)
            act = act[pop]
            top[act] -= 1
            act = act[top[act] >= 2]
        t = top * n_rays + every
        hxf[t] = p
        hwf[t] = wp
        top += 1
        a = q_rays[q_bounds[j]:q_bounds[j + 1]]
        if a.size == 0:
            continue
        wqj = w_t[j, a] + h1
        lo = np.zeros(a.size, np.int64)
        hi = top[a] - 1
        act = np.nonzero(lo < hi)[0]
        # bisection for the first vertex k where moving to k + 1 no longer lowers the
        # slope to the receiver (vertex k+1 not above the line from vertex k to it)
        while act.size:
            mid = (lo[act] + hi[act]) >> 1
            t = mid * n_rays + a[act]
            xk, wk = hxf[t], hwf[t]
            t += n_rays
            right = (hwf[t] - wk) * (j - xk) > (wqj[act] - wk) * (hxf[t] - xk)
            lo[act] = np.where(right, mid + 1, lo[act])
            hi[act] = np.where(right, hi[act], mid)
            act = act[lo[act] < hi[act]]
        out[j, a] = hxf[lo * n_rays + a]
    return out


#: Prefixes per block of the per-path stages (keeps their temporaries in cache).
CHUNK = 16_384


class _RayBatch:
    """Everything shared along the rays of one batch; per-path parameters on demand."""

    def __init__(self, z, xi, h0, h1, n0, rays, steps, knot_fraction, surface_refractivity,
                 effective_curvature, ws):
        n_rays, n = z.shape
        self.n, self.xi, self.h0, self.h1, self.n0 = n, xi, h0, h1, n0
        self.surface_refractivity = surface_refractivity
        self.effective_curvature = effective_curvature
        self.zref = float(z[0, 0])
        self.dist = _Distances(xi, n)
        zc = z - self.zref
        self.zc = zc
        cols = np.arange(n)
        self.c0 = np.zeros((n_rays, n + 1))
        np.cumsum(zc, axis=1, out=self.c0[:, 1:])
        self.c1 = np.zeros((n_rays, n + 1))
        np.cumsum(zc * cols, axis=1, out=self.c1[:, 1:])
        # gamma_e grows with the system elevation: its bounds along each ray come from the
        # lowest and highest system elevation of the ray's prefixes
        h_sys = self._h_sys(slice(None), cols[1:])  # whole columns: every ray at once
        g_lo, g_hi = (self._gamma(v) for v in (h_sys.min(axis=1), h_sys.max(axis=1)))
        del h_sys

        # Delta_h is computed at the knots on either side of every requested step
        knots = knot_steps(n, knot_fraction)
        self.knots = knots
        is_knot = np.zeros(n, bool)
        is_knot[knots] = True
        k_lo = np.searchsorted(knots, steps, side="right") - 1      # knot index at or below
        k_hi = np.where(is_knot[steps], k_lo, np.minimum(k_lo + 1, knots.size - 1))
        mark = np.zeros((knots.size, n_rays), bool)
        mark[k_lo, rays] = True
        mark[k_hi, rays] = True
        kk, ka = np.nonzero(mark)                                    # knot-major
        del mark

        if n > 2:
            # TX: first maximum over samples 1..j-1 at the ray's lowest and highest gamma_e
            if _jit.AVAILABLE:
                self.tx = [_jit.tx_first_argmax(zc, self.dist.tx, float(h0), g)
                           for g in (g_lo, g_hi)]
            else:
                z_tx_all = zc[:, :1] + h0
                self.tx = [_running_first_argmax(_tx_angles(zc[:, 1:], self.dist.tx[1:],
                                                            z_tx_all, g[:, None]))
                           for g in (g_lo, g_hi)]
            # RX: hull tangents at both gamma_e, one pass over the two sets of rays stacked
            w = np.empty((2 * n_rays, n))
            dist2 = 0.5 * (cols * xi) ** 2
            for half, g in enumerate((g_lo, g_hi)):
                rows = slice(half * n_rays, (half + 1) * n_rays)
                np.multiply(g[:, None], dist2[None, :], out=w[rows])
                np.subtract(zc, w[rows], out=w[rows])
            # the prefixes whose RX horizon is wanted: the requested ones, and the knots
            # (at a knot step the requested rays are among the knot's)
            if _jit.AVAILABLE:
                wanted = np.zeros((n, n_rays), bool)  # the same for both halves
                wanted[steps, rays] = True
                wanted[knots[kk], ka] = True
                rx = _jit.hull_tangents(w, float(h1), wanted)
            else:
                k_bounds = np.searchsorted(kk, np.arange(knots.size + 1))
                r_bounds = np.searchsorted(steps, np.arange(n + 1))
                parts = []
                for j in range(n):
                    if is_knot[j]:
                        kj = np.searchsorted(knots, j)
                        parts.append(ka[k_bounds[kj]:k_bounds[kj + 1]])
                    else:
                        parts.append(rays[r_bounds[j]:r_bounds[j + 1]])
                n_q = np.array([p.size for p in parts])
                q2 = np.concatenate([np.concatenate([p, p + n_rays]) for p in parts])
                q_bounds = np.concatenate([[0], np.cumsum(2 * n_q)])
                rx = _hull_tangents(w, h1, q2, q_bounds)
            del w
            self.rx = (rx[:, :n_rays], rx[:, n_rays:])

        self.compiled = _jit.AVAILABLE and n > 2
        self.ray_major = self.compiled and bool(self.dist.exact)
        if self.ray_major and knot_fraction != 0.0:
            order = np.lexsort((kk, ka))            # the knots too, ray by ray
            kk, ka = kk[order], ka[order]
        # Delta_h at the knot prefixes; with knots at every step, each requested prefix is
        # its own knot and Delta_h is computed with its other parameters (parameters())
        self.flat = zc.reshape(-1)
        self.ws = ws
        self.last = (np.full(n_rays, np.nan), np.full(n_rays, np.nan))  # deciles per ray
        self.every_step = knot_fraction == 0.0
        if self.every_step:
            return
        self.dh = np.zeros((knots.size, n_rays))
        flat, last = self.flat, self.last
        for s in range(0, kk.size, CHUNK):
            a, kidx = ka[s:s + CHUNK], kk[s:s + CHUNK]
            j = knots[kidx]
            if self.compiled:
                out = self._compiled(a, j, fits=False)
                d_start, d_end = out[9], out[10]
            else:
                _, _, d, _, _, hz0, hz1 = self._horizons(a, j)
                d_start = np.minimum(15.0 * h0, 0.1 * hz0)
                d_end = d - np.minimum(15.0 * h1, 0.1 * hz1)
            for t in range(0, a.size, _DELTA_H_CHUNK):
                sl = slice(t, t + _DELTA_H_CHUNK)
                self.dh[kidx[sl], a[sl]] = terrain_delta_h(
                    flat, a[sl] * n, j[sl], np.full(j[sl].size, xi), d_start[sl], d_end[sl],
                    ws, ray=a[sl], last=last)

    def _compiled(self, a, j, fits):
        """:func:`._itm_jit.prefix_horizons` on prefixes (a, j): a (12, m) array."""
        out = np.empty((12, a.size))
        _jit.prefix_horizons(self.zc, self.c0, self.c1, self.zref, self.tx[0], self.tx[1],
                             self.rx[0], self.rx[1], self.dist.tx, bool(self.dist.exact),
                             self.xi, self.h0, self.h1, self.n0,
                             np.ascontiguousarray(a, dtype=np.int64),
                             np.ascontiguousarray(j, dtype=np.int64), fits, out)
        return out

    def _h_sys(self, a, j):
        """System elevation of prefix j: mean of samples int(0.1 j) .. j - int(0.1 j)."""
        p10 = (0.1 * j).astype(np.int64)
        return (self.c0[a, j - p10 + 1] - self.c0[a, p10]) / (j - 2 * p10 + 1) + self.zref

    def _gamma(self, h_sys):
        return self.effective_curvature(self.surface_refractivity(self.n0, h_sys))

    def _horizons(self, a, j):
        """N_s, curvature, length, horizon angles and distances of prefixes (a, j)."""
        zc, xi, n = self.zc, self.xi, self.n
        n_s = self.surface_refractivity(self.n0, self._h_sys(a, j))
        g = self.effective_curvature(n_s)
        d = j * xi
        z_tx = zc[a, 0] + self.h0
        z_rx = zc[a, j] + self.h1
        theta0 = (z_rx - z_tx) / d - 0.5 * g * d
        theta1 = -(z_rx - z_tx) / d - 0.5 * g * d
        d_hzn0 = d.copy()
        d_hzn1 = d.copy()
        if n <= 2:
            return n_s, g, d, theta0, theta1, d_hzn0, d_hzn1
        inner = j >= 2
        col = np.maximum(j - 2, 0)
        dist = self.dist
        i0 = _bracketed(zc, a, inner, self.tx[0][a, col], self.tx[1][a, col],
                        lambda zz, ii, r: _tx_angles(zz, dist.tx[ii], z_tx[r, None],
                                                     g[r, None]))
        i0 = np.maximum(i0, 1)
        d0 = dist.tx[i0]
        t0 = _tx_angles(zc[a, i0], d0, z_tx, g)
        better = inner & (t0 > theta0)
        theta0 = np.where(better, t0, theta0)
        d_hzn0 = np.where(better, d0, d_hzn0)

        i1 = _bracketed(zc, a, inner, self.rx[0][j, a], self.rx[1][j, a],
                        lambda zz, ii, r: _rx_angles(zz, dist.rx(j[r, None], ii),
                                                     z_rx[r, None], g[r, None]))
        i1 = np.minimum(np.maximum(i1, 1), np.maximum(j - 1, 1))
        d1 = dist.rx(j, i1)
        t1 = _rx_angles(zc[a, i1], d1, z_rx, g)
        better = inner & (t1 > theta1)
        theta1 = np.where(better, t1, theta1)
        d_hzn1 = np.where(better, d1, d_hzn1)
        return n_s, g, d, theta0, theta1, d_hzn0, d_hzn1

    def parameters(self, rays, steps):
        """ITM terrain parameters of the prefixes (rays, steps), as profile_parameters."""
        zc, xi, h0, h1 = self.zc, self.xi, self.h0, self.h1
        if self.compiled:
            (d, n_s, g, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, d_start, d_end,
             los) = self._compiled(rays, steps, fits=True)
            los = los > 0.0
        else:
            n_s, g, d, theta0, theta1, d_hzn0, d_hzn1 = self._horizons(rays, steps)
            d_start = np.minimum(15.0 * h0, 0.1 * d_hzn0)
            d_end = d - np.minimum(15.0 * h1, 0.1 * d_hzn1)
        xi_arr = np.full(steps.size, xi)
        if self.every_step:
            # Delta_h of each prefix itself (paths come in step order: each ray's deciles
            # from its previous prefix shortlist the selection)
            delta_h = np.empty(steps.size)
            for t in range(0, steps.size, _DELTA_H_CHUNK):
                sl = slice(t, t + _DELTA_H_CHUNK)
                delta_h[sl] = terrain_delta_h(self.flat, rays[sl] * self.n, steps[sl],
                                              xi_arr[sl], d_start[sl], d_end[sl], self.ws,
                                              ray=rays[sl], last=self.last)
        else:
            # Delta_h: linear between the knots around the step
            knots = self.knots
            k_lo = np.searchsorted(knots, steps, side="right") - 1
            k_hi = np.minimum(k_lo + 1, knots.size - 1)
            j_lo, j_hi = knots[k_lo], knots[k_hi]
            k_hi = np.where(j_lo == steps, k_lo, k_hi)
            dh_lo = self.dh[k_lo, rays]
            frac = (steps - j_lo) / np.maximum(j_hi - j_lo, 1)
            delta_h = dh_lo + (self.dh[k_hi, rays] - dh_lo) * frac

        if not self.compiled:
            # effective heights (QuickPfl fits)
            los = d_hzn0 + d_hzn1 > 1.5 * d
            c0, c1 = self.c0, self.c1

            def fit(d_from, d_to):
                ia, ib = fit_range(steps, xi_arr, d_from, d_to)
                return fit_line(c0[rays, ib + 1] - c0[rays, ia],
                                c1[rays, ib + 1] - c1[rays, ia], ia, ib, zc[rays, ia],
                                zc[rays, ib], steps)

            fit_tx, fit_rx_los = fit(d_start, np.where(los, d_end, 0.9 * d_hzn0))
            _, fit_rx_far = fit(np.where(los, d_start, d - 0.9 * d_hzn1), d_end)
            fit_rx = np.where(los, fit_rx_los, fit_rx_far)
            h_e0 = h0 + np.maximum(zc[rays, 0] - fit_tx, 0.0)
            h_e1 = h1 + np.maximum(zc[rays, steps] - fit_rx, 0.0)
        theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1 = line_of_sight_terms(
            los, d, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, delta_h, 1.0 / g)
        return dict(d=d, n_s=n_s, gamma_e=g, theta0=theta0, theta1=theta1, d_hzn0=d_hzn0,
                    d_hzn1=d_hzn1, h_e0=h_e0, h_e1=h_e1, delta_h=delta_h)


#: Knot prefixes per call of the Delta_h routine (keeps its temporaries in cache).
_DELTA_H_CHUNK = 4096


def ray_prefix_parameters(z, xi, h0, h1, n0, rays, steps, *, knot_fraction,
                          surface_refractivity, effective_curvature):
    """Terrain-derived ITM parameters of the prefixes ``z[rays[i], :steps[i] + 1]``.

    A generator: yields ``(index, params)`` blocks, ``index`` the positions of the block's
    prefixes in ``rays``/``steps`` and ``params`` a dict of arrays as
    :func:`._itm_terrain.profile_parameters` returns.

    Parameters
    ----------
    z : ndarray, shape (n_rays, n_steps)
        Finite elevations along each ray [m]; column 0 is the TX ground.
    xi : float
        Sample spacing [m].
    h0, h1, n0 : float
        TX and RX structural heights [m]; sea-level refractivity [N-units].
    rays, steps : ndarray of int, shape (m,)
        The prefixes wanted (steps >= 1).
    knot_fraction : float
        Spacing of the Delta_h knots as a fraction of the path length (>= 0).
    surface_refractivity, effective_curvature : callables
        From :mod:`._itm_core`.
    """
    n_rays, n = z.shape
    rays = np.asarray(rays, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    order = None if np.all(steps[1:] >= steps[:-1]) else np.argsort(steps, kind="stable")
    if order is not None:
        rays, steps = rays[order], steps[order]
    per_batch = max(1, BATCH_SAMPLES // n)
    ws = Workspace()
    for r0 in range(0, n_rays, per_batch):
        r1 = min(n_rays, r0 + per_batch)
        idx = np.nonzero((rays >= r0) & (rays < r1))[0] if r1 - r0 < n_rays else None
        b_rays = rays - r0 if idx is None else rays[idx] - r0
        b_steps = steps if idx is None else steps[idx]
        if b_rays.size == 0:
            continue
        batch = _RayBatch(np.ascontiguousarray(z[r0:r1], dtype=np.float64), float(xi),
                          float(h0), float(h1), float(n0), b_rays, b_steps, knot_fraction,
                          surface_refractivity, effective_curvature, ws)
        # the compiled loops read each path's ray row: ray by ray (then step by step) they
        # stay in cache; the numpy version, and the distances of an inexact spacing, want
        # the paths step by step
        walk = np.lexsort((b_steps, b_rays)) if batch.ray_major else None
        for s in range(0, b_rays.size, CHUNK):
            sl = slice(s, s + CHUNK)
            local = np.arange(s, min(s + CHUNK, b_rays.size)) if walk is None else walk[sl]
            pos = local if idx is None else idx[local]
            yield (pos if order is None else order[pos]), batch.parameters(b_rays[local],
                                                                           b_steps[local])
