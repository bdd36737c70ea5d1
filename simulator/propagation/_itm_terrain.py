"""Terrain-profile processing of the NTIA ITM point-to-point mode, vectorised over paths.

Private helper of :mod:`simulator.propagation.itm`.  It reproduces NTIA/itm ``FindHorizons``,
``LinearLeastSquaresFit``, ``ComputeDeltaH`` and ``QuickPfl`` (ITM 1.2.2 [Algorithm, section 3];
Hufford 1982 "QKPFL") for a block of profiles stored as a 2-D array ``z`` of shape
``(m, width)`` (row ``i`` holds ``np_int[i] + 1`` valid elevations, TX first).

Cost per path is bounded: the horizon search is a handful of vector passes over the profile,
least-squares fits use prefix sums (O(1) per fit), and the terrain irregularity Delta_h is
computed on the ITM resampling of the profile to at most 245 points.
"""

from __future__ import annotations

import numpy as np


def _trunc(x):
    """C ``int()`` conversion of non-negative doubles."""
    return x.astype(np.int64)


class _Prefix:
    """Prefix sums of z and k*z along each row (k = point index), for O(1) trapezoid fits."""

    def __init__(self, z):
        m, w = z.shape
        self.z = z
        self.rows = np.arange(m)
        self.p0 = np.zeros((m, w + 1))
        self.p1 = np.zeros((m, w + 1))
        k = np.arange(w, dtype=np.float64)
        np.cumsum(z, axis=1, out=self.p0[:, 1:])
        np.cumsum(z * k, axis=1, out=self.p1[:, 1:])

    def sum0(self, a, b):
        """sum_{k=a}^{b} z_k per row."""
        return self.p0[self.rows, b + 1] - self.p0[self.rows, a]

    def fit(self, np_int, xi, d_start, d_end):
        """Least-squares line through the profile between two distances.

        Reproduces NTIA/itm ``LinearLeastSquaresFit`` (trapezoid-weighted fit between whole
        profile indices; [Algorithm, section 3]).  Returns the fitted heights at the TX end
        (x = 0) and at the RX end (x = np) [m].
        """
        i_start = _trunc(np.maximum(d_start / xi, 0.0))
        i_end = np_int - _trunc(np.maximum(np_int - d_end / xi, 0.0))
        bad = i_end <= i_start
        i_start2 = _trunc(np.maximum(i_start - 1.0, 0.0))
        i_end2 = np_int - _trunc(np.maximum(np_int - (i_end + 1.0), 0.0))
        i_start = np.where(bad, i_start2, i_start)
        i_end = np.where(bad, i_end2, i_end)
        length = (i_end - i_start).astype(np.float64)
        r = self.rows
        za = self.z[r, i_start]
        zb = self.z[r, i_end]
        t0 = self.p0[r, i_end + 1] - self.p0[r, i_start] - 0.5 * (za + zb)
        t1 = self.p1[r, i_end + 1] - self.p1[r, i_start] - 0.5 * (i_start * za + i_end * zb)
        mid = i_end - 0.5 * length
        sum_y = t0 / length
        scaled = (t1 - mid * t0) * 12.0 / ((length * length + 2.0) * length)
        return sum_y - scaled * mid, sum_y + scaled * (np_int - mid)


def _delta_h(z, np_int, xi, d_start, d_end):
    """Terrain irregularity parameter Delta_h [m] (NTIA/itm ``ComputeDeltaH``).

    The profile between ``d_start`` and ``d_end`` is linearly resampled to
    n = 10 p10 - 5 points (p10 in [4, 25]), a least-squares line is removed and the
    interdecile range of the residuals is inverted through [ERL 79-ITS 67, Eqn 3].
    Rows are grouped by p10 so that each group is one 2-D array operation.
    """
    m, w = z.shape
    out = np.zeros(m)
    x_start = d_start / xi
    x_end = d_end / xi
    span = x_end - x_start
    ok = span >= 2.0
    p10 = np.clip(_trunc(np.where(ok, 0.1 * (span + 8.0), 0.0)), 4, 25)
    zflat = z.reshape(-1)
    for g in np.unique(p10[ok]):
        idx = np.nonzero(ok & (p10 == g))[0]
        n = 10 * int(g) - 5
        np_s = float(n - 1)
        j = np.arange(n, dtype=np.float64)
        step = span[idx] / np_s
        t = x_start[idx, None] + j[None, :] * step[:, None]
        i = np.floor(t)
        np.clip(i, 0.0, (np_int[idx] - 1)[:, None].astype(np.float64), out=i)
        frac = t - i
        flat = i.astype(np.int64) + (idx * w)[:, None]
        z0 = np.take(zflat, flat)
        z1 = np.take(zflat, flat + 1)
        s = z0 + (z1 - z0) * frac
        # trapezoid-weighted least squares over the full resampled range [0, np_s]
        wts = np.ones(n)
        wts[0] = wts[-1] = 0.5
        mid = 0.5 * np_s
        sum_y = (s @ wts) / np_s
        scaled = (s @ (wts * (j - mid))) * 12.0 / ((np_s * np_s + 2.0) * np_s)
        y1 = sum_y - scaled * mid
        y2 = sum_y + scaled * (np_s - mid)
        slope = (y2 - y1) / np_s
        diffs = s - (y1[:, None] + j[None, :] * slope[:, None])
        k_lo = int(g) - 1  # q90: the (p90+1)-th largest = ascending index p10-1
        k_hi = n - int(g)  # q10: the p10-th largest = ascending index n-p10
        part = np.partition(diffs, (k_lo, k_hi), axis=1)
        dh_d = part[:, k_hi] - part[:, k_lo]
        out[idx] = dh_d / (1.0 - 0.8 * np.exp(-(d_end[idx] - d_start[idx]) / 50e3))
    return out


def profile_parameters(z, np_int, xi, h0, h1, n0, surface_refractivity, effective_curvature):
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

    Returns
    -------
    dict of ndarray, shape (m,)
        ``d`` path length, ``n_s``, ``gamma_e``, ``theta0``, ``theta1``, ``d_hzn0``,
        ``d_hzn1``, ``h_e0``, ``h_e1``, ``delta_h``.
    """
    m, w = z.shape
    rows = np.arange(m)
    full = bool(np.all(np_int == w - 1))
    if not full:
        z = z.copy()
        beyond = np.arange(w)[None, :] > np_int[:, None]
        z[beyond] = -np.inf
    pre = _Prefix(np.where(np.isfinite(z), z, 0.0) if not full else z)

    d = np_int * xi
    # system elevation: mean of points int(0.1 np) .. np - int(0.1 np)  (itm_p2p.cpp)
    p10 = _trunc(0.1 * np_int)
    h_sys = pre.sum0(p10, np_int - p10) / (np_int - 2 * p10 + 1)
    n_s = surface_refractivity(n0, h_sys)
    gamma_e = effective_curvature(n_s)
    a_e = 1.0 / gamma_e
    two_a = (2.0 * a_e)[:, None]

    # ---- horizons (FindHorizons, [TN101, Eq 6.15]) ------------------------------------------
    z_first = z[:, 0]
    z_last = z[rows, np_int]
    z_tx = z_first + h0
    z_rx = z_last + h1
    theta0 = (z_rx - z_tx) / d - d / (2 * a_e)
    theta1 = -(z_rx - z_tx) / d - d / (2 * a_e)
    d_hzn0 = d.copy()
    d_hzn1 = d.copy()
    if w > 2:
        k = np.arange(1, w, dtype=np.float64)
        zi = z[:, 1:]
        dk = k[None, :] * xi[:, None]
        th = zi - z_tx[:, None]
        th /= dk
        th -= dk / two_a
        j0 = np.argmax(th, axis=1)
        t0 = th[rows, j0]
        better = t0 > theta0
        theta0 = np.where(better, t0, theta0)
        d_hzn0 = np.where(better, (j0 + 1) * xi, d_hzn0)

        drx = d[:, None] - dk
        th = zi - z_rx[:, None]
        th /= drx
        th -= drx / two_a
        if full:
            th[:, -1] = -np.inf  # k == np (RX point itself) is not a candidate
        else:
            th[k[None, :] >= np_int[:, None]] = -np.inf
        j1 = np.argmax(th, axis=1)
        t1 = th[rows, j1]
        better = t1 > theta1
        theta1 = np.where(better, t1, theta1)
        d_hzn1 = np.where(better, d - (j1 + 1) * xi, d_hzn1)

    # ---- QuickPfl ---------------------------------------------------------------------------
    d_start = np.minimum(15.0 * h0, 0.1 * d_hzn0)
    d_end = d - np.minimum(15.0 * h1, 0.1 * d_hzn1)
    zz = pre.z
    delta_h = _delta_h(zz, np_int, xi, d_start, d_end)

    los = d_hzn0 + d_hzn1 > 1.5 * d
    # line-of-sight branch: one fit over [d_start, d_end]
    fit_tx_a, fit_rx_a = pre.fit(np_int, xi, d_start, d_end)
    # trans-horizon branch: fits over the foreground of each terminal
    fit_tx_b, _ = pre.fit(np_int, xi, d_start, 0.9 * d_hzn0)
    _, fit_rx_b = pre.fit(np_int, xi, d - 0.9 * d_hzn1, d_end)
    fit_tx = np.where(los, fit_tx_a, fit_tx_b)
    fit_rx = np.where(los, fit_rx_a, fit_rx_b)
    h_e0 = h0 + np.maximum(z_first - fit_tx, 0.0)
    h_e1 = h1 + np.maximum(z_last - fit_rx, 0.0)

    if np.any(los):
        def hzn(h_e):
            return np.sqrt(2.0 * h_e * a_e) * np.exp(-0.07 * np.sqrt(delta_h / np.maximum(h_e, 5.0)))

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
        h_e0 = np.where(los, l_h_e0, h_e0)
        h_e1 = np.where(los, l_h_e1, h_e1)
        d_hzn0 = np.where(los, l_d0, d_hzn0)
        d_hzn1 = np.where(los, l_d1, d_hzn1)
        theta0 = np.where(los, l_t0, theta0)
        theta1 = np.where(los, l_t1, theta1)

    return dict(d=d, n_s=n_s, gamma_e=gamma_e, theta0=theta0, theta1=theta1, d_hzn0=d_hzn0,
                d_hzn1=d_hzn1, h_e0=h_e0, h_e1=h_e1, delta_h=delta_h)
