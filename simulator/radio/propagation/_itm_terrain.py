"""Terrain-profile processing of the NTIA ITM point-to-point mode, vectorised over paths.

Private helper of :mod:`simulator.radio.propagation.itm`.  It reproduces NTIA/itm ``FindHorizons``,
``LinearLeastSquaresFit``, ``ComputeDeltaH`` and ``QuickPfl`` (ITM 1.2.2 [Algorithm, section 3];
Hufford 1982 "QKPFL") for a block of profiles stored as a 2-D array ``z`` of shape
``(m, width)`` (row ``i`` holds ``np_int[i] + 1`` valid elevations, TX first).

Cost per path is bounded: the horizon search is a handful of vector passes over the profile,
least-squares fits use prefix sums (O(1) per fit), and the terrain irregularity Delta_h is
computed on the ITM resampling of the profile to at most 245 points.
"""

from __future__ import annotations

import math

import numpy as np

from . import _itm_jit as _jit


def _trunc(x):
    """C ``int()`` conversion of non-negative doubles."""
    return x.astype(np.int64)


def tx_distances(xi, n):
    """Distances of profile points 0..n from the TX as NTIA/itm ``FindHorizons`` builds them.

    The spacing ``xi`` [m] is added once per point (``d_k = d_(k-1) + xi``), in float64;
    ``numpy.cumsum`` is a sequential accumulation, so the rounding is the same as the C loop.
    Returns an array of shape (n + 1,) [m].
    """
    out = np.full(n + 1, float(xi))
    out[0] = 0.0
    return np.cumsum(out, out=out)


def rx_distances(d, xi, n):
    """Distances to the RX of points 0..n, as NTIA/itm ``FindHorizons`` builds them.

    Starting at the path length ``d`` [m] (``np * xi``, one product), the spacing ``xi`` [m]
    is subtracted once per point (``d_k = d_(k-1) - xi``).  ``d`` has shape (m,); returns an
    array of shape (m, n + 1) [m].
    """
    d = np.asarray(d, dtype=np.float64)
    out = np.empty((d.size, n + 1))
    out[:, 0] = d
    out[:, 1:] = xi
    return np.subtract.accumulate(out, axis=1, out=out)


class Workspace:
    """Reusable flat buffers for the large 2-D temporaries of one call.

    Allocating fresh multi-100-kB temporaries for every block makes the allocator map and
    fault in new pages each time, which dominated the run time; buffers are therefore
    allocated once per call and reused (views of the first ``size`` elements).
    """

    def __init__(self):
        self._buf = {}

    def get(self, name, shape, dtype=np.float64):
        size = math.prod(shape)
        buf = self._buf.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = np.empty(max(size, 1), dtype=dtype)
            self._buf[name] = buf
        return buf[:size].reshape(shape)


class _RangeSums:
    """Range sums of z_k and k z_k along each row (k = point index) without full cumsums.

    Rows are cut into blocks of ``B`` points; block sums and their running totals give the
    prefix sum at any index up to one block, and the remaining (< B) points are gathered.
    Cost: one pass over the profile plus O(B) per query; used for the trapezoid least-squares
    fits of ``LinearLeastSquaresFit`` and for the system elevation.
    """

    B = 16

    def __init__(self, z):
        m, w = z.shape
        b = self.B
        nb = w // b
        self.z = z
        self.w = w
        self.rows = np.arange(m)
        self.flat = z.reshape(-1)
        blocks = z[:, : nb * b].reshape(m, nb, b)
        weights = np.stack([np.ones(b), np.arange(b, dtype=np.float64)], axis=1)
        self._loc_weights = weights
        # (m, nb, 2): block sums of z and of local-index * z (einsum: numpy's own loop, not
        # a multi-threaded BLAS call, so the engine stays on one core)
        sums = np.einsum("mnb,bk->mnk", blocks, weights)
        s0 = sums[:, :, 0]
        s1 = sums[:, :, 1] + (np.arange(nb) * float(b))[None, :] * s0
        # running totals before each block (sequential cumsum: the result of a row does not
        # depend on the other rows of the block, unlike a BLAS triangular product)
        self.c0 = np.zeros((m, nb + 1))
        self.c1 = np.zeros((m, nb + 1))
        np.cumsum(s0, axis=1, out=self.c0[:, 1:])
        np.cumsum(s1, axis=1, out=self.c1[:, 1:])

    def prefix(self, j):
        """sum_{k < j} z_k and sum_{k < j} k z_k for integer j of shape (m, q), 0 <= j <= w."""
        b = self.B
        q = j // b
        base = q * b
        r = j - base
        rows = self.rows[:, None]
        p0 = self.c0[rows, q]
        p1 = self.c1[rows, q]
        loc = np.arange(b)
        k = (base + (self.rows * self.w)[:, None])[:, :, None] + loc  # flat indices
        np.minimum(k, self.flat.size - 1, out=k)  # clipped ones are masked out below
        vals = np.take(self.flat, k)
        vals *= loc < r[:, :, None]
        part = np.einsum("mqb,bk->mqk", vals, self._loc_weights)  # sum z, sum loc * z
        p0 = p0 + part[:, :, 0]
        p1 = p1 + base * part[:, :, 0] + part[:, :, 1]
        return p0, p1

    def fits(self, np_int, xi, ranges):
        """Least-squares lines through the profile between pairs of distances.

        Reproduces NTIA/itm ``LinearLeastSquaresFit`` (trapezoid-weighted fit between whole
        profile indices; [Algorithm, section 3]) for each ``(d_start, d_end)`` pair in
        ``ranges``.  Returns a list of ``(fit at x = 0, fit at x = np)`` [m].
        """
        pairs = [fit_range(np_int, xi, d_start, d_end) for d_start, d_end in ranges]
        a = np.stack([p[0] for p in pairs], axis=1)
        b = np.stack([p[1] for p in pairs], axis=1)
        p0, p1 = self.prefix(np.concatenate([a, b + 1], axis=1))
        nq = a.shape[1]
        rows = self.rows[:, None]
        y1, y2 = fit_line(p0[:, nq:] - p0[:, :nq], p1[:, nq:] - p1[:, :nq], a, b,
                          self.z[rows, a], self.z[rows, b], np_int[:, None])
        return [(y1[:, i], y2[:, i]) for i in range(nq)]


def fit_range(np_int, xi, d_start, d_end):
    """Whole profile indices ``(i_start, i_end)`` of NTIA/itm ``LinearLeastSquaresFit``."""
    i_start = _trunc(np.maximum(d_start / xi, 0.0))
    i_end = np_int - _trunc(np.maximum(np_int - d_end / xi, 0.0))
    bad = i_end <= i_start
    i_start2 = _trunc(np.maximum(i_start - 1.0, 0.0))
    i_end2 = np_int - _trunc(np.maximum(np_int - (i_end + 1.0), 0.0))
    return np.where(bad, i_start2, i_start), np.where(bad, i_end2, i_end)


def fit_line(s0, s1, a, b, za, zb, np_int):
    """Trapezoid-weighted least-squares line over profile indices a..b, at x = 0 and x = np.

    ``s0`` and ``s1`` are the sums of z_k and of k z_k over k = a..b (end points included
    with full weight; the trapezoid halves are removed here).
    """
    t0 = s0 - 0.5 * (za + zb)
    t1 = s1 - 0.5 * (a * za + b * zb)
    length = (b - a).astype(np.float64)
    mid = b - 0.5 * length
    sum_y = t0 / length
    scaled = (t1 - mid * t0) * 12.0 / ((length * length + 2.0) * length)
    return sum_y - scaled * mid, sum_y + scaled * (np_int - mid)


def terrain_delta_h(zflat, offsets, np_int, xi, d_start, d_end, ws, ray=None, last=None):
    """Terrain irregularity parameter Delta_h [m] (NTIA/itm ``ComputeDeltaH``).

    The profile between ``d_start`` and ``d_end`` is linearly resampled to
    n = 10 p10 - 5 points (p10 in [4, 25]), a least-squares line is removed and the
    interdecile range of the residuals is inverted through [ERL 79-ITS 67, Eqn 3].
    Profile ``i`` starts at ``zflat[offsets[i]]`` (points one spacing apart, TX first).

    With numba (:mod:`._itm_jit`) each path is one compiled loop; ``ray`` (int array, the
    ray of each path) and ``last`` (a pair of float arrays per ray, NaN at first) let the
    deciles of a ray's previous path shortlist the candidates of the selection (the result
    does not depend on them).  Without numba, the numpy version below.
    """
    if _jit.AVAILABLE:
        m = np_int.size
        out = np.empty(m)
        if ray is None:
            ray = np.full(m, -1, np.int64)
            last = (np.empty(1), np.empty(1))
        _jit.delta_h(np.ascontiguousarray(zflat, dtype=np.float64),
                     np.ascontiguousarray(offsets, dtype=np.int64),
                     np.ascontiguousarray(np_int, dtype=np.int64),
                     np.ascontiguousarray(xi, dtype=np.float64),
                     np.ascontiguousarray(d_start, dtype=np.float64),
                     np.ascontiguousarray(d_end, dtype=np.float64),
                     np.ascontiguousarray(ray, dtype=np.int64), last[0], last[1], out)
        return out
    return terrain_delta_h_numpy(zflat, offsets, np_int, xi, d_start, d_end, ws)


def terrain_delta_h_numpy(zflat, offsets, np_int, xi, d_start, d_end, ws):
    """:func:`terrain_delta_h` in numpy: rows are grouped by p10 so that each group is one
    2-D array operation.  The interdecile range does not depend on the intercept of the
    fitted line, so only its slope is removed."""
    m = np_int.size
    out = np.zeros(m)
    x_start = d_start / xi
    x_end = d_end / xi
    span = x_end - x_start
    ok = span >= 2.0
    p10 = np.clip(_trunc(np.where(ok, 0.1 * (span + 8.0), 0.0)), 4, 25)
    groups = np.unique(p10[ok])
    for g in groups:
        idx = np.nonzero(ok & (p10 == g))[0] if groups.size > 1 or not ok.all() else None
        sel = slice(None) if idx is None else idx
        n = 10 * int(g) - 5
        np_s = float(n - 1)
        j = np.arange(n, dtype=np.float64)
        step = span[sel] / np_s
        mg = step.size
        t = ws.get("dh_t", (mg, n))
        i = ws.get("dh_i", (mg, n), np.int64)
        s = ws.get("dh_s", (mg, n))
        z0 = ws.get("dh_z0", (mg, n))
        off = offsets[sel]
        # position in the flattened array: row offset + fractional point index
        np.multiply.outer(step, j, out=t)
        t += (x_start[sel] + off)[:, None]
        np.copyto(i, t, casting="unsafe")  # t >= 0: truncation == floor
        # only the last sample can reach the end point: keep i + 1 inside the row
        np.minimum(i[:, -1], off + np_int[sel] - 1, out=i[:, -1])
        t -= i  # fractional part
        np.take(zflat, i, out=z0)
        np.take(zflat[1:], i, out=s)  # next point
        s -= z0
        s *= t
        s += z0  # linear interpolation
        # residuals about the first resampled point: the interdecile range does not change,
        # and the rounding noise of the fit scales with the values' magnitude (on flat
        # ground NTIA's fit leaves noise far below what elevations of ~1000 m would give)
        s -= s[:, :1]
        # trapezoid-weighted least-squares slope over [0, np_s] (LinearLeastSquaresFit)
        wts = j - 0.5 * np_s
        wts[0] *= 0.5
        wts[-1] *= 0.5
        # einsum rather than a BLAS product: single-threaded, and faster for these shapes
        slope = np.einsum("ij,j->i", s, wts) * 12.0 / ((np_s * np_s + 2.0) * np_s)
        np.multiply.outer(slope, j, out=t)
        s -= t
        # a full SIMD sort of <= 245 values is faster in numpy than a two-kth partition
        s.sort(axis=1)
        # q10 = p10-th largest (ascending index n - p10); q90 = ascending index p10 - 1
        dh_d = s[:, n - int(g)] - s[:, int(g) - 1]
        out[sel] = dh_d / (1.0 - 0.8 * np.exp(-(d_end[sel] - d_start[sel]) / 50e3))
    return out


def profile_parameters(z, np_int, xi, h0, h1, n0, surface_refractivity, effective_curvature,
                       ws=None):
    """Terrain-derived ITM parameters for a block of profiles.

    Parameters
    ----------
    z : ndarray, shape (m, width)
        Elevations [m]; row i valid for columns 0..np_int[i]; other columns are ignored
        (they may hold anything, including NaN).
    np_int : ndarray of int, shape (m,)
        Number of intervals (points - 1) per profile.
    xi : ndarray, shape (m,)
        Point spacing [m].
    h0, h1 : ndarray, shape (m,)
        Structural antenna heights of TX and RX [m].
    n0 : ndarray, shape (m,)
        Sea-level refractivity N_0 [N-units].
    surface_refractivity, effective_curvature : callables
        From :mod:`._itm_core`.
    ws : Workspace, optional
        Reusable buffers (pass the same one for every block of a call).

    Returns
    -------
    dict of ndarray, shape (m,)
        ``d`` path length, ``n_s``, ``gamma_e``, ``theta0``, ``theta1``, ``d_hzn0``,
        ``d_hzn1``, ``h_e0``, ``h_e1``, ``delta_h``.
    """
    if ws is None:
        ws = Workspace()
    m, w = z.shape
    rows = np.arange(m)
    full = bool(np.all(np_int == w - 1))
    if full:
        zf = z  # all points valid
        zh = z
    else:
        beyond = np.arange(w)[None, :] > np_int[:, None]
        zf = ws.get("zf", (m, w))
        np.copyto(zf, z)
        zf[beyond] = 0.0  # finite copy for range sums and resampling
        zh = ws.get("zh", (m, w))
        np.copyto(zh, z)
        zh[beyond] = -np.inf  # never a horizon candidate
    pre = _RangeSums(zf)

    d = np_int * xi
    # system elevation: mean of points int(0.1 np) .. np - int(0.1 np)  (itm_p2p.cpp)
    p10 = _trunc(0.1 * np_int)
    p0, _ = pre.prefix(np.stack([p10, np_int - p10 + 1], axis=1))
    h_sys = (p0[:, 1] - p0[:, 0]) / (np_int - 2 * p10 + 1)
    n_s = surface_refractivity(n0, h_sys)
    gamma_e = effective_curvature(n_s)
    a_e = 1.0 / gamma_e

    # ---- horizons (FindHorizons, [TN101, Eq 6.15]) ------------------------------------------
    z_first = zf[:, 0]
    z_last = zf[rows, np_int]
    z_tx = z_first + h0
    z_rx = z_last + h1
    theta0 = (z_rx - z_tx) / d - d / (2 * a_e)
    theta1 = -(z_rx - z_tx) / d - d / (2 * a_e)
    d_hzn0 = d.copy()
    d_hzn1 = d.copy()
    if w > 2:
        zi = zh[:, 1:]
        th = ws.get("hz_th", (m, w - 1))
        cu = ws.get("hz_cu", (m, w - 1))
        two_a = (2.0 * a_e)[:, None]
        uniform = bool(np.all(xi == xi[0]))
        # distances as NTIA/itm FindHorizons builds them: the spacing added once per point
        # from the TX, and subtracted once per point from the path length for the RX (not
        # index * spacing, which rounds differently when the spacing is not a whole number
        # and can move a truncated fit index of QuickPfl by one point)
        if uniform:
            d_tx = tx_distances(xi[0], w - 1)[None, 1:]  # same for every row of the block
        else:
            d_tx = ws.get("hz_dtx", (m, w - 1))
            np.copyto(d_tx, xi[:, None])
            np.cumsum(d_tx, axis=1, out=d_tx)
        if uniform and full:
            d_rx = rx_distances(d[:1], xi[0], w - 1)[:, 1:]
        else:
            d_rx = ws.get("hz_drx", (m, w))
            d_rx[:, 0] = d
            d_rx[:, 1:] = xi[:, None]
            np.subtract.accumulate(d_rx, axis=1, out=d_rx)
            d_rx = d_rx[:, 1:]
        # TX: theta_i = (z_i - z_tx) / d_i - d_i / (2 a_e), i = 1 .. np-1
        np.subtract(zi, z_tx[:, None], out=th)
        th /= d_tx
        np.divide(d_tx, two_a, out=cu)
        th -= cu
        j0 = np.argmax(th, axis=1)
        t0 = th[rows, j0]
        better = t0 > theta0
        theta0 = np.where(better, t0, theta0)
        d_hzn0 = np.where(better, d_tx[rows % d_tx.shape[0], j0], d_hzn0)  # (1 or m rows)

        # RX: theta_i = -(z_rx - z_i) / (d - d_i) - (d - d_i) / (2 a_e)
        np.subtract(zi, z_rx[:, None], out=th)
        th /= d_rx
        np.divide(d_rx, two_a, out=cu)
        th -= cu
        if full:
            th[:, -1] = -np.inf  # k == np (RX point itself) is not a candidate
        else:
            th[np.arange(1, w)[None, :] >= np_int[:, None]] = -np.inf
        j1 = np.argmax(th, axis=1)
        t1 = th[rows, j1]
        better = t1 > theta1
        theta1 = np.where(better, t1, theta1)
        d_hzn1 = np.where(better, d_rx[rows % d_rx.shape[0], j1], d_hzn1)

    # ---- QuickPfl ---------------------------------------------------------------------------
    d_start = np.minimum(15.0 * h0, 0.1 * d_hzn0)
    d_end = d - np.minimum(15.0 * h1, 0.1 * d_hzn1)
    delta_h = terrain_delta_h(zf.reshape(-1), rows * w, np_int, xi, d_start, d_end, ws)

    los = d_hzn0 + d_hzn1 > 1.5 * d
    # line-of-sight branch: one fit over [d_start, d_end];
    # trans-horizon branch: fits over the foreground of each terminal
    # (rows of the LOS branch repeat their single fit in the second slot)
    (fit_tx, fit_rx_a), (_, fit_rx_b) = pre.fits(np_int, xi, [
        (d_start, np.where(los, d_end, 0.9 * d_hzn0)),
        (np.where(los, d_start, d - 0.9 * d_hzn1), d_end)])
    fit_rx = np.where(los, fit_rx_a, fit_rx_b)
    h_e0 = h0 + np.maximum(z_first - fit_tx, 0.0)
    h_e1 = h1 + np.maximum(z_last - fit_rx, 0.0)

    theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1 = line_of_sight_terms(
        los, d, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, delta_h, a_e)

    return dict(d=d, n_s=n_s, gamma_e=gamma_e, theta0=theta0, theta1=theta1, d_hzn0=d_hzn0,
                d_hzn1=d_hzn1, h_e0=h_e0, h_e1=h_e1, delta_h=delta_h)



def line_of_sight_terms(los, d, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, delta_h, a_e):
    """Horizons and angles of paths well within line of sight (NTIA/itm ``QuickPfl``).

    For rows where ``los`` is True they come from the effective heights as in area mode
    [Algorithm, Eqns 3.3, 3.4]; other rows are passed through.  Returns the updated
    ``theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1``.
    """
    if not np.any(los):
        return theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1

    def hzn(h_e):
        d_ls = np.sqrt(2.0 * h_e * a_e)
        return d_ls * np.exp(-0.07 * np.sqrt(delta_h / np.maximum(h_e, 5.0)))

    l_h_e0, l_h_e1 = h_e0, h_e1
    l_d0, l_d1 = hzn(l_h_e0), hzn(l_h_e1)
    comb = l_d0 + l_d1
    scale = comb <= d
    q = (d / comb) ** 2
    l_h_e0 = np.where(scale, l_h_e0 * q, l_h_e0)
    l_h_e1 = np.where(scale, l_h_e1 * q, l_h_e1)
    l_d0 = np.where(scale, hzn(l_h_e0), l_d0)
    l_d1 = np.where(scale, hzn(l_h_e1), l_d1)
    q0 = np.sqrt(2.0 * l_h_e0 * a_e)
    q1 = np.sqrt(2.0 * l_h_e1 * a_e)
    l_t0 = (0.65 * delta_h * (q0 / l_d0 - 1.0) - 2.0 * l_h_e0) / q0
    l_t1 = (0.65 * delta_h * (q1 / l_d1 - 1.0) - 2.0 * l_h_e1) / q1
    return (np.where(los, l_t0, theta0), np.where(los, l_t1, theta1),
            np.where(los, l_d0, d_hzn0), np.where(los, l_d1, d_hzn1),
            np.where(los, l_h_e0, h_e0), np.where(los, l_h_e1, h_e1))
