"""Compiled (numba) loops of the ITM terrain analysis: Delta_h per path and the hull tangents.

Private helper of :mod:`._itm_terrain` and :mod:`._itm_rays`.  Both stages do a short,
data-dependent loop per path that numpy can only express as many passes over large
temporaries; compiled, they run in the cache of one path at a time:

* :func:`delta_h` -- NTIA/itm ``ComputeDeltaH`` [ERL 79-ITS 67, Eqn 3]: the profile between
  the foreground limits resampled (linear interpolation) to n = 10 p10 - 5 points, the
  least-squares line removed, and the interdecile range of the residuals.  The two order
  statistics (the p10-th largest and the p10-th smallest) are found by selection, not by a
  sort.  Along a ray the residuals of neighbouring prefixes have nearly the same deciles,
  so each ray keeps the deciles of its last prefix: the pass that computes the residuals
  also counts those above a narrow band around each guessed decile and keeps the few inside
  it, and the decile is picked among those (with a wider band, or among all values, when the
  band misses).  The band only shortlists; the result is the exact order statistic whatever
  the guess.
* :func:`prefix_horizons` -- the horizons and QuickPfl fits of each prefix (the compiled
  form of ``_RayBatch._horizons`` and ``parameters``).
* :func:`hull_tangents` -- the receiver horizon of every queried prefix as the tangent from
  the receiver to the upper convex hull of the curvature-folded ground (Andrew's monotone
  chain, kept per ray as the sweep moves out; bisection for the tangent), the same
  arithmetic as the numpy version in :mod:`._itm_rays`.

numba is an optional dependency: without it the numpy versions run (same results to
rounding; ``AVAILABLE`` says which).
"""

from __future__ import annotations

import numpy as np

from ..._jit import AVAILABLE, JIT_OPTIONS as _JIT, njit  # noqa: F401

#: Half width of the band around each guessed decile, as a fraction of the guessed
#: interdecile range.  Between neighbouring prefixes of a ray the deciles move by a median
#: 0.5 % of that range (90 % of moves under 1.7 %, on the 1.4 M paths of
#: ``benchmarks/bench_splat.py``): a band of 2 % holds the decile 92 % of the time with
#: about 6 values in it (5 %: 97.5 %, with 15, slower overall).  It only shortlists.
_BAND = 0.02


@njit(**_JIT)
def _select(v, n, k):
    """The (k+1)-th largest of ``v[:n]`` (Hoare quickselect; reorders ``v``)."""
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = v[(lo + hi) >> 1]
        i, j = lo, hi
        while i <= j:
            while v[i] > pivot:
                i += 1
            while v[j] < pivot:
                j -= 1
            if i <= j:
                t = v[i]
                v[i] = v[j]
                v[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return v[k]


@njit(cache=True, nogil=True, fastmath={"reassoc"}, error_model="numpy")
def _centred_sums(r, n):
    """``r[:n] -= r[0]``; return the sums of r_k and k r_k (reassociated: vectorised)."""
    ref = r[0]
    s0 = 0.0
    s1 = 0.0
    for k in range(n):
        v = r[k] - ref
        r[k] = v
        s0 += v
        s1 += v * k
    return s0, s1


@njit(**_JIT)
def _insertion_sort(v, n):
    """Sort ``v[:n]`` ascending in place (for the few values of a band)."""
    for i in range(1, n):
        x = v[i]
        j = i - 1
        while j >= 0 and v[j] > x:
            v[j + 1] = v[j]
            j -= 1
        v[j + 1] = x


@njit(**_JIT)
def _gather_at_least(r, n, sign, t, buf):
    """The values of ``sign * r[:n]`` that are >= ``t`` into ``buf`` (in order); their count."""
    c = 0
    for q in range(n):
        x = sign * r[q]
        buf[c] = x
        c += x >= t
    return c


@njit(**_JIT)
def _kth_largest(r, n, k, sign, guess, band, buf, above):
    """The (k+1)-th largest of ``sign * r[:n]`` when it is not inside the band
    ``guess +- band`` (NaN guess: no band), knowing that ``above`` values exceed
    ``guess + band``.

    If more than k values lie above the band, the answer is among them: they are gathered
    and the selection runs on them (one pass).  Otherwise it lies below the band, and values
    down to ``guess - 4 band``, ``- 16 band``, ``- 64 band`` are gathered until more than k
    and not too many are found.  At last (or with no guess) all values are used.  The
    selection always runs on every value at or above a threshold it has counted, so the
    result is the exact order statistic whatever the guess.
    """
    cap = 2 * (k + 1) + 24
    if guess == guess and band > 0.0:
        if k < above:
            if above <= cap:
                c = _gather_at_least(r, n, sign, guess + band, buf)
                if k < c <= cap:
                    return _select(buf, c, k)
        else:
            w = band
            for _ in range(3):
                w *= 4.0
                c = _gather_at_least(r, n, sign, guess - w, buf)
                if k < c <= cap:
                    return _select(buf, c, k)
                if c > cap:
                    break
    for q in range(n):
        buf[q] = sign * r[q]
    return _select(buf, n, k)


@njit(**_JIT)
def delta_h(zflat, offsets, np_int, xi, d_start, d_end, ray, last_hi, last_lo, out):
    """Terrain irregularity Delta_h [m] of each path (NTIA/itm ``ComputeDeltaH``).

    Parameters
    ----------
    zflat : float64 array
        Elevations; path ``m`` is ``zflat[offsets[m] : offsets[m] + np_int[m] + 1]`` [m].
    offsets, np_int : int64 arrays, shape (m,)
        Start of each profile in ``zflat``, and its number of intervals.
    xi, d_start, d_end : float64 arrays, shape (m,)
        Spacing, and the foreground limits of QuickPfl measured from the TX [m].
    ray : int64 array, shape (m,)
        Index into ``last_hi``/``last_lo`` of the ray each path belongs to, or -1.
    last_hi, last_lo : float64 arrays
        Per ray: the upper and lower decile of the residuals of its last path (NaN when
        none); read as the guesses and updated.
    out : float64 array, shape (m,)
        Delta_h of each path [m].
    """
    r = np.empty(247)
    b_hi = np.empty(248)
    b_lo = np.empty(248)
    for m in range(offsets.size):
        off = offsets[m]
        npi = np_int[m]
        x_start = d_start[m] / xi[m]
        x_end = d_end[m] / xi[m]
        span = x_end - x_start
        if span < 2.0:
            out[m] = 0.0
            continue
        p10 = int(0.1 * (span + 8.0))
        p10 = min(max(4, p10), 25)
        n = 10 * p10 - 5
        np_s = float(n - 1)
        step = span / np_s
        # linear interpolation at x_start + k * step (only the last point can reach the
        # end of the profile: its segment is the last one), about the first resampled
        # point (the deciles' difference does not change, and the rounding noise of the fit
        # scales with the values: on flat ground it stays 0); with the sums of the
        # trapezoid-weighted least-squares line over k = 0 .. np_s (LinearLeastSquaresFit)
        top = npi - 1
        for k in range(n):
            t = x_start + k * step
            i = min(int(t), top)
            z0 = zflat[off + i]
            r[k] = z0 + (zflat[off + i + 1] - z0) * (t - i)
        s0a, s1a = _centred_sums(r, n)
        s0b = s1b = 0.0
        half = 0.5 * np_s
        s0 = (s0a + s0b) - 0.5 * (r[0] + r[n - 1])
        s1 = (s1a + s1b) - 0.5 * r[n - 1] * np_s - half * s0
        mean = s0 / np_s
        slope = s1 * 12.0 / ((np_s * np_s + 2.0) * np_s)
        base = mean - slope * half
        # residuals; with the counts of values above / within a band around each guessed
        # decile (one vectorised pass)
        a = ray[m]
        g_hi = last_hi[a] if a >= 0 else np.nan
        g_lo = last_lo[a] if a >= 0 else np.nan
        band = _BAND * (g_hi - g_lo) + 1e-9
        hi_top, hi_bot = g_hi + band, g_hi - band
        lo_top, lo_bot = g_lo + band, g_lo - band
        # one pass: residuals, the counts above each band, and the few values inside each
        # band (residuals of terrain come in runs, so the rare branches predict well)
        u_hi = w_hi = u_lo = w_lo = 0
        for k in range(n):
            x = r[k] - (base + slope * k)
            r[k] = x
            if x > hi_top:
                u_hi += 1
            elif x >= hi_bot:
                if w_hi < 240:
                    b_hi[w_hi] = -x
                w_hi += 1
            if x < lo_bot:
                u_lo += 1
            elif x <= lo_top:
                if w_lo < 240:
                    b_lo[w_lo] = x
                w_lo += 1
        # q10 = p10-th largest, q90 = p10-th smallest (NTIA: index n - p10 of the descending
        # order).  Where the band holds it, it is the (k - u + 1)-th of the few values in
        # the band, ordered by insertion.
        k = p10 - 1
        in_hi = u_hi <= k < u_hi + w_hi and w_hi <= 64
        in_lo = u_lo <= k < u_lo + w_lo and w_lo <= 64
        if in_hi:
            _insertion_sort(b_hi, w_hi)
            q10 = -b_hi[k - u_hi]
        else:
            q10 = _kth_largest(r, n, k, 1.0, g_hi, band, b_hi, u_hi)
        if in_lo:
            _insertion_sort(b_lo, w_lo)
            q90 = b_lo[k - u_lo]
        else:
            q90 = -_kth_largest(r, n, k, -1.0, -g_lo, band, b_lo, u_lo)
        if a >= 0:
            last_hi[a] = q10
            last_lo[a] = q90
        out[m] = (q10 - q90) / (1.0 - 0.8 * np.exp(-(d_end[m] - d_start[m]) / 50e3))


@njit(**_JIT)
def hull_tangents(w, h1, wanted):
    """Receiver horizon sample of the prefixes ``wanted[j, r]`` (see ``_itm_rays``).

    ``w`` (n_rows, n): curvature-folded ground heights of each row (ray); the receiver
    antenna is ``h1`` above them.  Returns an (n, n_rows) int32 array: at each wanted
    (j >= 2, row), the sample in 1..j-1 with the largest elevation angle seen from the
    receiver (the first on ties); 0 elsewhere.  ``wanted`` may have fewer columns than
    ``w`` has rows (n_rows a multiple of them): row ``row`` then reads column
    ``row % wanted.shape[1]`` (the same prefixes for rays stacked at several curvatures).
    """
    n_rows, n = w.shape
    n_w = wanted.shape[1]
    out = np.zeros((n, n_rows), np.int32)
    hx = np.empty(n, np.int64)
    hw = np.empty(n)
    for row in range(n_rows):
        top = 0
        for j in range(2, n):
            # add sample p = j - 1 (ground) to the upper hull: pop b while it lies on or
            # below the segment a -> p
            p = j - 1
            wp = w[row, p]
            while top >= 2:
                xa = hx[top - 2]
                wa = hw[top - 2]
                if (hw[top - 1] - wa) * (p - xa) <= (wp - wa) * (hx[top - 1] - xa):
                    top -= 1
                else:
                    break
            hx[top] = p
            hw[top] = wp
            top += 1
            if not wanted[j, row % n_w]:
                continue
            wq = w[row, j] + h1
            lo = 0
            hi = top - 1
            # first vertex k where moving to k + 1 no longer lowers the slope to the
            # receiver (vertex k+1 not above the line from vertex k to it)
            while lo < hi:
                mid = (lo + hi) >> 1
                xk = hx[mid]
                wk = hw[mid]
                if (hw[mid + 1] - wk) * (j - xk) > (wq - wk) * (hx[mid + 1] - xk):
                    lo = mid + 1
                else:
                    hi = mid
            out[j, row] = hx[lo]
    return out


@njit(**_JIT)
def _fit(c0, c1, zc, a, j, xi, d_from, d_to):
    """NTIA/itm ``LinearLeastSquaresFit`` of prefix j of row a between two distances, from
    prefix sums (c0: of z, c1: of k z); returns the fitted line at x = 0 and x = j."""
    i_start = int(max(d_from / xi, 0.0))
    i_end = j - int(max(j - d_to / xi, 0.0))
    if i_end <= i_start:
        i_start = int(max(i_start - 1.0, 0.0))
        i_end = j - int(max(j - (i_end + 1.0), 0.0))
    za = zc[a, i_start]
    zb = zc[a, i_end]
    t0 = (c0[a, i_end + 1] - c0[a, i_start]) - 0.5 * (za + zb)
    t1 = (c1[a, i_end + 1] - c1[a, i_start]) - 0.5 * (i_start * za + i_end * zb)
    length = float(i_end - i_start)
    mid = i_end - 0.5 * length
    sum_y = t0 / length
    scaled = (t1 - mid * t0) * 12.0 / ((length * length + 2.0) * length)
    return sum_y - scaled * mid, sum_y + scaled * (j - mid)


@njit(**_JIT)
def prefix_horizons(zc, c0, c1, zref, tx_lo, tx_hi, rx_lo, rx_hi, d_tx, exact, xi, h0, h1,
                    n0, rays, steps, fits, out):
    """Horizons (and QuickPfl fits) of the prefixes (rays[m], steps[m]) of a ray batch.

    The compiled form of ``_RayBatch._horizons`` and of the fits in
    ``_RayBatch.parameters`` (same arithmetic): system elevation and curvature from the
    prefix sums, TX and RX horizons from the searches at the ray's two curvature bounds
    (``tx_lo``/``tx_hi``: first arg-maximum up to each column; ``rx_lo``/``rx_hi``: hull
    tangents; where the two differ the range between them is searched), distances as NTIA
    builds them (``d_tx``; to the RX, the spacing subtracted once per sample from ``j xi``
    unless ``exact``), then the effective heights when ``fits``.  Paths must come in
    non-decreasing step order.  ``out`` (12, m) receives d, N_s, gamma_e, theta0, theta1,
    d_hzn0, d_hzn1, h_e0, h_e1, d_start, d_end, line of sight (1.0 / 0.0).
    """
    n = zc.shape[1]
    row = np.empty(n)          # distances to the RX of prefix cur_j (inexact spacing)
    cur_j = -1
    for m in range(rays.size):
        a = rays[m]
        j = steps[m]
        p10 = int(0.1 * j)
        h_sys = (c0[a, j - p10 + 1] - c0[a, p10]) / (j - 2 * p10 + 1) + zref
        n_s = n0 if h_sys == 0.0 else n0 * np.exp(-h_sys / 9460.0)
        g = 157e-9 * (1.0 - 0.04665 * np.exp(n_s / 179.3))
        d = j * xi
        z_tx = zc[a, 0] + h0
        z_rx = zc[a, j] + h1
        theta0 = (z_rx - z_tx) / d - 0.5 * g * d
        theta1 = -(z_rx - z_tx) / d - 0.5 * g * d
        dh0 = d
        dh1 = d
        if j >= 2 and n > 2:
            # TX horizon
            lo = tx_lo[a, j - 2]
            hi = tx_hi[a, j - 2]
            i0 = lo
            if lo != hi:
                best = -np.inf
                for i in range(min(lo, hi), max(lo, hi) + 1):
                    t = (zc[a, i] - z_tx) / d_tx[i] - 0.5 * g * d_tx[i]
                    if t > best:
                        best = t
                        i0 = i
            i0 = max(i0, 1)
            t = (zc[a, i0] - z_tx) / d_tx[i0] - 0.5 * g * d_tx[i0]
            if t > theta0:
                theta0 = t
                dh0 = d_tx[i0]
            # RX horizon
            if not exact and j != cur_j:
                row[0] = d
                for k in range(1, j + 1):
                    row[k] = row[k - 1] - xi
                cur_j = j
            lo = rx_lo[j, a]
            hi = rx_hi[j, a]
            i1 = lo
            if lo != hi:
                best = -np.inf
                for i in range(min(lo, hi), max(lo, hi) + 1):
                    dd = (j - i) * xi if exact else row[i]
                    t = (zc[a, i] - z_rx) / dd - 0.5 * g * dd
                    if t > best:
                        best = t
                        i1 = i
            i1 = min(max(i1, 1), max(j - 1, 1))
            dd = (j - i1) * xi if exact else row[i1]
            t = (zc[a, i1] - z_rx) / dd - 0.5 * g * dd
            if t > theta1:
                theta1 = t
                dh1 = dd
        d_start = min(15.0 * h0, 0.1 * dh0)
        d_end = d - min(15.0 * h1, 0.1 * dh1)
        los = dh0 + dh1 > 1.5 * d
        h_e0 = h_e1 = np.nan
        if fits:
            if los:
                fit_tx, fit_rx = _fit(c0, c1, zc, a, j, xi, d_start, d_end)
            else:
                fit_tx, _ = _fit(c0, c1, zc, a, j, xi, d_start, 0.9 * dh0)
                _, fit_rx = _fit(c0, c1, zc, a, j, xi, d - 0.9 * dh1, d_end)
            h_e0 = h0 + max(zc[a, 0] - fit_tx, 0.0)
            h_e1 = h1 + max(zc[a, j] - fit_rx, 0.0)
        out[0, m] = d
        out[1, m] = n_s
        out[2, m] = g
        out[3, m] = theta0
        out[4, m] = theta1
        out[5, m] = dh0
        out[6, m] = dh1
        out[7, m] = h_e0
        out[8, m] = h_e1
        out[9, m] = d_start
        out[10, m] = d_end
        out[11, m] = 1.0 if los else 0.0


@njit(**_JIT)
def tx_first_argmax(zc, dist_tx, h0, g):
    """TX horizon candidates of every prefix: column ``c`` of row ``r`` is the sample number
    (1 .. c + 1) of the first maximum of the TX elevation angles of samples 1 .. c + 1
    (``_itm_rays._running_first_argmax`` of ``_itm_rays._tx_angles``, the same arithmetic).

    ``zc`` (n_rays, n) heights, ``dist_tx`` (n,) sample distances from the TX [m], ``h0``
    TX height above sample 0 [m], ``g`` (n_rays,) effective curvature [1/m].  Returns an
    (n_rays, n - 1) int32 array.
    """
    n_rays, n = zc.shape
    out = np.empty((n_rays, n - 1), np.int32)
    for r in range(n_rays):
        z_tx = zc[r, 0] + h0
        half_g = 0.5 * g[r]
        best = -np.inf
        bi = 0
        for c in range(n - 1):
            d = dist_tx[c + 1]
            th = (zc[r, c + 1] - z_tx) / d - half_g * d
            if c == 0 or th > best:
                best = th
                bi = c + 1
            out[r, c] = bi
    return out
