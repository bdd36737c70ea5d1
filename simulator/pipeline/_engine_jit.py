"""Compiled (numba) loops of the coverage engine (:mod:`.engine`): the pairs of one site
window within the site's reach, the 3GPP antenna pattern and the running best server.

Private helper of :func:`simulator.pipeline.engine.compute_tile_fields`. The engine's numpy
form makes some 40 passes over window-sized temporaries per site; here the elementwise
arithmetic (+, -, *, /, sqrt, floor, min: IEEE operations, correctly rounded, so the same
bits in compiled code as in numpy, operation by operation and in the same precision) runs
in two loops, and only the transcendental functions (log10 in the path loss, the two
arctan2 of the antenna angles) stay numpy ufuncs, evaluated on the pairs within reach only
(numpy's own loops: the same values as over the whole window). No fastmath: no fused
multiply-add, no reassociation.

numba is an optional dependency: without it ``AVAILABLE`` is False and the engine keeps its
numpy form (the same results, bit for bit).
"""

from __future__ import annotations

import numpy as np

from .._jit import AVAILABLE, JIT_OPTIONS as _JIT, njit  # noqa: F401

#: numpy.degrees of float32: x * (float32(180) / float32(pi)), rounded once to float32.
RAD2DEG_F32 = np.float32(180.0) / np.float32(np.pi)


@njit(**_JIT)
def pairs_within_reach(dx, dy, reach, d_out, dd_out, dx_out, dy_out, lo, cnt):  # pragma: no cover
    """The window's pairs within ``reach`` (``d <= reach``), row by row, compressed.

    ``dx`` (w,), ``dy`` (h,) float32 offsets [m]; ``d = sqrt(dx^2 + dy^2)`` in float32 as
    the engine computes it. Along a row ``d`` falls then rises (every step is a monotone
    rounding), so the pairs within reach are the columns ``lo[i] .. lo[i] + cnt[i] - 1``.
    Writes the distance, ``max(d, 1)`` and the offsets of those pairs, row after row,
    into the first ``n`` entries of the outputs; returns ``n``.
    """
    w = dx.shape[0]
    n = 0
    one = np.float32(1.0)
    for i in range(dy.shape[0]):
        yy = dy[i] * dy[i]
        a = 0
        while a < w and np.sqrt(dx[a] * dx[a] + yy) > reach:
            a += 1
        b = w - 1
        while b >= a and np.sqrt(dx[b] * dx[b] + yy) > reach:
            b -= 1
        c = b - a + 1 if b >= a else 0
        lo[i] = a
        cnt[i] = c
        dyi = dy[i]
        # row views: the inner loop then has no possible aliasing to rule out and is
        # vectorised (the same operations, element by element)
        xs = dx[a:a + c]
        do = d_out[n:n + c]
        ddo = dd_out[n:n + c]
        xo = dx_out[n:n + c]
        yo = dy_out[n:n + c]
        for j in range(c):
            x = xs[j]
            d = np.sqrt(x * x + yy)
            do[j] = d
            ddo[j] = d
            if d < one:
                ddo[j] = one
            xo[j] = x
            yo[j] = dyi
        n += c
    return n


@njit(**_JIT)
def signal_3gpp(n, d, reach, lg, hata, a, b, fconst, floored, loss, elev_rad, bearing_rad,
                eirp, tilt, hpbw_v, azimuth, spacing, hpbw_h, omni, rx_out):  # pragma: no cover
    """Received signal of ``n`` pairs: ``eirp - loss`` plus the 3GPP relative gain of
    :func:`simulator.pipeline.engine._relative_gain_one` (float32 angles, the pattern in
    float64, rounded to float32), operation for operation; -inf beyond ``reach``.

    ``hata``: the loss is computed here from ``lg = log10(max(d, 1))``
    (:meth:`simulator.radio.propagation.models.PathLossModel.hata_float32_terms`: ``a``,
    ``b``, ``fconst``, ``floored``) and written into ``loss``; otherwise ``loss`` is given.
    ``elev_rad`` is ``arctan2(dz, d)``, ``bearing_rad`` ``arctan2(dx, dy)`` (float32,
    numpy's); ``eirp``, ``azimuth``, ``spacing`` float32; ``tilt``, ``hpbw_v``, ``hpbw_h``
    float64 (``hpbw_h`` already capped at 360 deg).
    """
    c = RAD2DEG_F32
    three = np.float32(3.0)
    twenty = np.float32(20.0)
    spacing64 = np.float64(spacing)
    inv_spacing = 1.0 / spacing64
    for m in range(n):
        if hata:
            x = a + b * (lg[m] - three)
            if floored:
                fs = twenty * lg[m] + fconst
                if fs > x:
                    x = fs
            loss[m] = x
        rx = eirp - loss[m]
        e = -(elev_rad[m] * c)
        av = (np.float64(e) + tilt) / hpbw_v
        av = av * av
        av = av * 12.0
        if av > 30.0:
            av = 30.0
        if not omni:
            off = bearing_rad[m] * c - azimuth
            x64 = np.float64(off)
            # q = floor(x64 / spacing64) (the true floor of the quotient, see
            # engine._mod_f32) without a division: from the reciprocal, then corrected by
            # one either way with exact products (q is a small integer, spacing a float32)
            q = np.floor(x64 * inv_spacing)
            q = q - 1.0 if x64 < q * spacing64 else q
            q = q + 1.0 if x64 >= (q + 1.0) * spacing64 else q
            off = np.float32(x64 - q * spacing64)
            other = spacing - off
            if other < off:
                off = other
            ah = np.float64(off) / hpbw_h
            ah = ah * ah
            ah = ah * 12.0
            if ah > 30.0:
                ah = 30.0
            av = av + ah
            if av > 30.0:
                av = 30.0
        rx = rx + (-np.float32(av))
        rx_out[m] = -np.inf if d[m] > reach else rx


@njit(**_JIT)
def best_add(rx, loss, lo, cnt, r0, c0, best_rx, best_server, best_loss, k):  # pragma: no cover
    """Running best server over the pairs of :func:`pairs_within_reach` (window at row
    ``r0``, column ``c0`` of the tile): a pair replaces the best of its cell only when
    strictly stronger (as ``argmax`` keeps the first of equal signals)."""
    m = 0
    for i in range(lo.shape[0]):
        c = cnt[i]
        j0 = c0 + lo[i]
        br = best_rx[r0 + i, j0:j0 + c]
        bs = best_server[r0 + i, j0:j0 + c]
        bl = best_loss[r0 + i, j0:j0 + c]
        rr = rx[m:m + c]
        ll = loss[m:m + c]
        for j in range(c):
            if rr[j] > br[j]:
                br[j] = rr[j]
                bs[j] = k
                bl[j] = ll[j]
        m += c


@njit(**_JIT)
def scatter(values, lo, cnt, out):  # pragma: no cover
    """The pairs of :func:`pairs_within_reach` back into their window ``out``."""
    m = 0
    for i in range(lo.shape[0]):
        for j in range(lo[i], lo[i] + cnt[i]):
            out[i, j] = values[m]
            m += 1
