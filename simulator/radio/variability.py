"""Location variability: log-normal shadowing, coverage probability, area coverage,
spatially correlated shadowing fields and a Monte Carlo coverage helper.

Pure, vectorised numpy models (layer 1 of docs/CONVENTIONS.md). Randomness only through
an ``rng`` argument (SPEC 7: a ``numpy.random.Generator``, a seed, or a ``SeedSequence``;
``None`` gives fresh, non-reproducible entropy, never the global RNG).

Sign convention: the received power at a location is ``mean_dbm + X`` with
``X ~ N(0, sigma_db**2)`` (shadowing in dB). The *margin* is ``mean_dbm - threshold_dbm``;
a location is covered when ``margin_db + X >= 0``.

References
----------
.. [1] W. C. Jakes (ed.), *Microwave Mobile Communications*, Wiley 1974, ch. 2
       (fraction of a circular area above a threshold under log-normal shadowing).
.. [2] T. S. Rappaport, *Wireless Communications: Principles and Practice*, 2nd ed.,
       Prentice Hall 2002, Sec. 4.10.2, eqs. (4.79)-(4.81) (the same result, with
       Fig. 4.18 for the 50 %-at-the-edge family of curves). The equation numbers are
       those quoted in the project brief; they were not checked against the book here.
.. [3] M. Gudmundson, "Correlation model for shadow fading in mobile radio systems",
       Electronics Letters 27(23), 2145-2146, 1991: exponential autocorrelation
       R(d) = sigma**2 exp(-d / d_corr).
.. [4] C. R. Dietrich and G. N. Newsam, "Fast and exact simulation of stationary
       Gaussian processes through circulant embedding of the covariance matrix",
       SIAM J. Sci. Comput. 18(4), 1088-1107, 1997.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import special
from scipy.fft import fft2, next_fast_len

__all__ = [
    "location_coverage_probability",
    "fade_margin_db",
    "area_coverage_fraction",
    "edge_margin_for_area_coverage_db",
    "correlated_shadowing_field",
    "shadowing_fields",
    "expected_covered_people",
    "CoverageMonteCarlo",
    "monte_carlo_covered_people",
]

_LOG10_E = np.log10(np.e)
#: largest padded grid (cells) tried by the circulant embedding (~134 MB complex128)
_MAX_EMBEDDING_CELLS = 2 ** 23


def _fail(name: str, value, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is outside the allowed range {allowed}")


def _check_positive(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        raise _fail(name, float(arr[bad].ravel()[0]) if arr.ndim else float(arr), "(0, inf)")
    return arr


# --------------------------------------------------------------------------- point statistics
def location_coverage_probability(margin_db, sigma_db):
    """Probability that a location is covered under log-normal shadowing.

    .. math:: P = Q(-M / \\sigma) = \\Phi(M / \\sigma)

    with M the margin (mean received power minus threshold) and Q the Gaussian
    tail function [2].

    Parameters
    ----------
    margin_db : array_like
        Mean received power minus the required power [dB]; ``+-inf`` allowed.
    sigma_db : array_like
        Shadowing standard deviation, > 0 [dB].

    Returns
    -------
    numpy.ndarray
        Coverage probability in [0, 1] [-], broadcast shape.

    Raises
    ------
    ValueError
        If ``sigma_db`` <= 0 or not finite (use a step function for sigma = 0).
    """
    s = _check_positive("sigma_db", sigma_db)
    return special.ndtr(np.asarray(margin_db, dtype=np.float64) / s)


def fade_margin_db(sigma_db, reliability):
    """Shadowing margin needed for a location reliability: inverse of the above.

    .. math:: M = \\sigma\\, \\Phi^{-1}(p)

    (1.2816 sigma for 90 %, 1.6449 sigma for 95 %).

    Parameters
    ----------
    sigma_db : array_like
        Shadowing standard deviation, > 0 [dB].
    reliability : array_like
        Target location coverage probability, in the open interval (0, 1) [-].

    Returns
    -------
    numpy.ndarray
        Margin [dB] (negative for reliability < 0.5).

    Raises
    ------
    ValueError
        If ``sigma_db`` <= 0 or ``reliability`` is outside (0, 1).
    """
    s = _check_positive("sigma_db", sigma_db)
    p = np.asarray(reliability, dtype=np.float64)
    bad = ~((p > 0) & (p < 1))
    if np.any(bad):
        raise _fail("reliability", float(p[bad].ravel()[0]) if p.ndim else float(p), "(0, 1)")
    return s * special.ndtri(p)


def area_coverage_fraction(edge_margin_db, sigma_db, path_loss_exponent):
    """Fraction of a circular cell's area covered (Jakes / Reudink).

    With the mean received power falling as 10 n log10(r) and log-normal shadowing
    of standard deviation sigma, the fraction of the disc of radius R where the
    received power exceeds the threshold x0 is [1], [2]:

    .. math::

        F_u = \\tfrac12\\left[1 - \\mathrm{erf}(a) + \\exp\\!\\left(\\frac{1 - 2ab}{b^2}\\right)
              \\left(1 - \\mathrm{erf}\\!\\left(\\frac{1 - ab}{b}\\right)\\right)\\right],
        \\quad a = \\frac{x_0 - \\bar P(R)}{\\sigma\\sqrt2},\\quad
        b = \\frac{10\\, n \\log_{10} e}{\\sigma\\sqrt2}

    Here ``edge_margin_db`` = P(R) - x0, so a = -edge_margin / (sigma sqrt 2). The
    product exp(.) erfc(z) is evaluated as exp(-a**2) erfcx(z) for z >= 0, which is
    algebraically identical and does not overflow for large margins.

    Parameters
    ----------
    edge_margin_db : array_like
        Mean received power at the cell edge minus the threshold [dB]. 0 dB means
        50 % location probability at the edge.
    sigma_db : array_like
        Shadowing standard deviation, > 0 [dB].
    path_loss_exponent : array_like
        Distance exponent n of the mean path loss, > 0 [-].

    Returns
    -------
    numpy.ndarray
        Covered fraction of the disc area, in [0, 1] [-], broadcast shape.

    Raises
    ------
    ValueError
        If ``sigma_db`` or ``path_loss_exponent`` is not positive and finite.
    """
    s = _check_positive("sigma_db", sigma_db)
    n = _check_positive("path_loss_exponent", path_loss_exponent)
    m = np.asarray(edge_margin_db, dtype=np.float64)
    m, s, n = np.broadcast_arrays(m, s, n)
    a = -m / (s * np.sqrt(2.0))
    b = 10.0 * n * _LOG10_E / (s * np.sqrt(2.0))
    z = (1.0 - a * b) / b
    pos = z >= 0
    # z >= 0: exp((1-2ab)/b^2) erfc(z) = exp(-a^2) erfcx(z)  (no overflow)
    term_pos = np.exp(-a * a) * special.erfcx(np.where(pos, z, 0.0))
    # z < 0 means ab > 1, so (1 - 2ab)/b^2 < 0: the plain form is safe there
    expo = np.where(pos, 0.0, (1.0 - 2.0 * a * b) / (b * b))
    term_neg = np.exp(expo) * special.erfc(np.where(pos, 0.0, z))
    out = 0.5 * (special.erfc(a) + np.where(pos, term_pos, term_neg))
    return out[()] if out.ndim == 0 else out


def edge_margin_for_area_coverage_db(area_fraction, sigma_db, path_loss_exponent):
    """Cell-edge margin giving a wanted covered fraction of the disc area.

    Inverse of :func:`area_coverage_fraction` in its first argument, found by a
    vectorised bisection on [-100, 100] dB (the fraction is strictly increasing in the
    margin) to 1e-9 dB.

    Parameters
    ----------
    area_fraction : array_like
        Wanted covered fraction of the cell area, in the open interval (0, 1) [-].
    sigma_db : array_like
        Shadowing standard deviation, > 0 [dB].
    path_loss_exponent : array_like
        Distance exponent n, > 0 [-].

    Returns
    -------
    numpy.ndarray
        Edge margin [dB] (mean power at the edge minus threshold).

    Raises
    ------
    ValueError
        If ``area_fraction`` is outside (0, 1) or the other parameters are not positive,
        or the fraction is not reachable within +-100 dB of margin.
    """
    f = np.asarray(area_fraction, dtype=np.float64)
    bad = ~((f > 0) & (f < 1))
    if np.any(bad):
        raise _fail("area_fraction", float(f[bad].ravel()[0]) if f.ndim else float(f), "(0, 1)")
    s = _check_positive("sigma_db", sigma_db)
    n = _check_positive("path_loss_exponent", path_loss_exponent)
    f, s, n = np.broadcast_arrays(f, s, n)
    lo = np.full(f.shape, -100.0)
    hi = np.full(f.shape, 100.0)
    if np.any(area_coverage_fraction(lo, s, n) > f) or np.any(area_coverage_fraction(hi, s, n) < f):
        raise _fail("area_fraction", float(f.ravel()[0]), "reachable with |margin| <= 100 dB")
    for _ in range(80):  # 200 dB / 2**80 is far below 1e-9 dB
        mid = 0.5 * (lo + hi)
        above = area_coverage_fraction(mid, s, n) >= f
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    out = 0.5 * (lo + hi)
    return out[()] if out.ndim == 0 else out


# --------------------------------------------------------------------------- correlated fields
def _embedding_eigenvalues(shape, resolution_m, decorrelation_m):
    """Eigenvalues of the circulant embedding of exp(-d/d_corr) on a padded torus.

    Starts at twice the grid size per axis (the smallest embedding for which torus
    and Euclidean distances agree inside the grid) and doubles the padding while any
    eigenvalue is negative (the padded extent must reach several d_corr), up to
    ``_MAX_EMBEDDING_CELLS`` cells.
    """
    k = 0
    while True:
        ms = tuple(next_fast_len(2 * n * 2 ** k) for n in shape)
        if k > 0 and ms[0] * ms[1] > _MAX_EMBEDDING_CELLS:
            break
        axes = []
        for mm in ms:
            i = np.arange(mm)
            axes.append(np.minimum(i, mm - i) * resolution_m)
        d = np.hypot(axes[0][:, None], axes[1][None, :])
        lam = fft2(np.exp(-d / decorrelation_m)).real
        if lam.min() >= -1e-10 * lam.max():
            return ms, np.clip(lam, 0.0, None)
        k += 1
    raise ValueError(f"decorrelation_m={decorrelation_m!r} is too large for a grid of shape "
                     f"{tuple(shape)} at resolution_m={resolution_m!r}: the circulant embedding "
                     f"needs more than {_MAX_EMBEDDING_CELLS} cells; allowed range: "
                     "decorrelation_m below about 1/8 of the largest embedding extent "
                     "(use a coarser resolution_m)")


def _standard_fields(n_fields, shape, resolution_m, decorrelation_m, rng):
    """``n_fields`` independent zero-mean, unit-variance fields with exp(-d/d_corr)."""
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape={shape!r} is not allowed; allowed: (rows >= 1, cols >= 1)")
    res = float(_check_positive("resolution_m", resolution_m))
    dc = float(_check_positive("decorrelation_m", decorrelation_m))
    gen = np.random.default_rng(rng)
    ms, lam = _embedding_eigenvalues(shape, res, dc)
    scale = np.sqrt(lam / (ms[0] * ms[1]))
    out = np.empty((n_fields,) + shape)
    # one complex FFT gives two independent fields (real and imaginary parts) [4]
    for k in range(0, n_fields, 2):
        z = gen.standard_normal(ms) + 1j * gen.standard_normal(ms)
        f = fft2(scale * z)[: shape[0], : shape[1]]
        out[k] = f.real
        if k + 1 < n_fields:
            out[k + 1] = f.imag
    return out


def correlated_shadowing_field(shape, resolution_m, *, sigma_db, decorrelation_m, rng):
    """One zero-mean Gaussian shadowing field with exponential spatial correlation.

    The field X (dB) on a regular grid has E[X] = 0, Var[X] = sigma**2 and
    correlation exp(-d / d_corr) between cells a distance d apart (Gudmundson [3],
    isotropic in 2-D). It is generated exactly (up to floating point) by circulant
    embedding [4] on a periodic grid padded to at least twice the size per axis,
    with ``scipy.fft``. The same ``rng`` state gives the same field.

    Parameters
    ----------
    shape : tuple of int
        Grid shape (rows, cols).
    resolution_m : float
        Cell size, > 0 [m] (square cells).
    sigma_db : float
        Shadowing standard deviation, > 0 [dB].
    decorrelation_m : float
        Distance at which the correlation falls to 1/e, > 0 [m].
    rng : numpy.random.Generator, int, SeedSequence or None
        Random source (SPEC 7).

    Returns
    -------
    numpy.ndarray, shape ``shape``, float64
        Shadowing [dB].

    Raises
    ------
    ValueError
        If a parameter is not positive, or ``decorrelation_m`` is so large relative to
        the grid that no embedding of up to 2**23 cells is positive definite.

    Notes
    -----
    Memory is that of the padded grid (4x to 16x the cells, complex128); tile very
    large regions and accept independence between tiles, or use a coarser grid and
    interpolate.
    """
    s = float(_check_positive("sigma_db", sigma_db))
    return s * _standard_fields(1, shape, resolution_m, decorrelation_m, rng)[0]


def shadowing_fields(n_sites, shape, resolution_m, *, sigma_db, decorrelation_m, rng):
    """Independent correlated shadowing fields, one per site.

    Each site's field is as :func:`correlated_shadowing_field`; fields of different
    sites are independent (no inter-site correlation is modelled). Fields are drawn
    two per FFT.

    Parameters
    ----------
    n_sites : int
        Number of fields, >= 0.
    shape, resolution_m, sigma_db, decorrelation_m, rng
        As :func:`correlated_shadowing_field`.

    Returns
    -------
    numpy.ndarray, shape (n_sites, rows, cols)
        Shadowing [dB].
    """
    n = int(n_sites)
    if n < 0 or n != n_sites:
        raise _fail("n_sites", n_sites, "integers [0, inf)")
    s = float(_check_positive("sigma_db", sigma_db))
    return s * _standard_fields(n, shape, resolution_m, decorrelation_m, rng)


# --------------------------------------------------------------------------- coverage counts
def expected_covered_people(people, margin_db, sigma_db):
    """Expected number of covered people, sum(people x P(cover)).

    Parameters
    ----------
    people : array_like
        People per cell, >= 0 [people].
    margin_db : array_like
        Margin per cell (broadcastable to ``people``) [dB].
    sigma_db : array_like
        Shadowing standard deviation, > 0 [dB].

    Returns
    -------
    float
        Expected covered people [people].
    """
    ppl = np.asarray(people, dtype=np.float64)
    if np.any(~np.isfinite(ppl) | (ppl < 0)):
        raise _fail("people", float(ppl[~np.isfinite(ppl) | (ppl < 0)].ravel()[0]), "[0, inf)")
    return float(np.sum(ppl * location_coverage_probability(margin_db, sigma_db)))


class CoverageMonteCarlo(NamedTuple):
    """Result of :func:`monte_carlo_covered_people`."""

    #: mean covered people over realisations [people]
    mean: float
    #: 5 % quantile (or the lower requested quantile) [people]
    low: float
    #: 95 % quantile (or the upper requested quantile) [people]
    high: float
    #: covered people in each realisation, shape (n_realisations,) [people]
    samples: np.ndarray


def monte_carlo_covered_people(people, margin_db, sampler: Callable, *, n_realisations,
                               rng, quantiles=(0.05, 0.95)):
    """Distribution of the number of covered people over shadowing realisations.

    In realisation k the shadowing field X_k = ``sampler(rng)`` is added to the
    per-cell margin and the people of cells with ``margin_db + X_k >= 0`` are counted.
    With spatially correlated fields the count varies much more between realisations
    than with independent cells; its mean converges to :func:`expected_covered_people`.

    Parameters
    ----------
    people : array_like
        People per cell, >= 0 [people].
    margin_db : array_like
        Mean received power minus threshold per cell, same shape as ``people`` [dB].
    sampler : callable
        ``sampler(rng) -> ndarray`` of shadowing [dB] broadcastable to ``people``, e.g.
        ``lambda g: correlated_shadowing_field(shape, 100, sigma_db=8,
        decorrelation_m=300, rng=g)``.
    n_realisations : int
        Number of realisations K, >= 1.
    rng : numpy.random.Generator, int, SeedSequence or None
        Random source passed to ``sampler`` (SPEC 7).
    quantiles : tuple of two float, optional
        Lower and upper quantiles reported, in [0, 1].

    Returns
    -------
    CoverageMonteCarlo
        Mean, low and high quantiles and all samples.
    """
    ppl = np.asarray(people, dtype=np.float64)
    if np.any(~np.isfinite(ppl) | (ppl < 0)):
        raise _fail("people", float(ppl[~np.isfinite(ppl) | (ppl < 0)].ravel()[0]), "[0, inf)")
    m = np.broadcast_to(np.asarray(margin_db, dtype=np.float64), ppl.shape)
    k = int(n_realisations)
    if k < 1 or k != n_realisations:
        raise _fail("n_realisations", n_realisations, "integers [1, inf)")
    q = np.asarray(quantiles, dtype=np.float64)
    if q.shape != (2,) or np.any((q < 0) | (q > 1)) or q[0] > q[1]:
        raise _fail("quantiles", tuple(np.atleast_1d(q).tolist()), "two values 0 <= lo <= hi <= 1")
    gen = np.random.default_rng(rng)
    samples = np.empty(k)
    for i in range(k):  # loop over realisations; each is a vectorised field operation
        x = np.asarray(sampler(gen), dtype=np.float64)
        samples[i] = np.sum(ppl, where=np.broadcast_to(m + x >= 0.0, ppl.shape))
    lo, hi = np.quantile(samples, q)
    return CoverageMonteCarlo(float(samples.mean()), float(lo), float(hi), samples)
