"""Knife-edge diffraction over terrain profiles (ITU-R P.526-15).

Pure, vectorised numpy functions (models layer). References:

* ITU-R P.526-15 (10/2019) "Propagation by diffraction", §4.1 single knife edge:
  the diffraction parameter nu (first of the equivalent forms given there; equation
  number not re-checked against the text here), the Fresnel-integral loss J(nu) and
  its approximation eq. (31).
* The Bullington construction as written in ITU-R P.1812-6 §4.3.1 / P.452-17 §4.2.1
  (slopes ``Stim``, ``Str``, ``Srim``, the bullington point ``d_b``), by default
  **without** the empirical correction ``(1 - exp(-Luc/6)) (10 + 0.02 d)`` those
  Recommendations add, so a single knife edge gives exactly J(nu);
  ``empirical_correction=True`` adds it (as the delta-Bullington method of
  :mod:`simulator.radio.propagation.delta_bullington` needs).
* Deygout's (1966) main-edge/secondary-edge construction as used in P.526 ("method for
  up to three edges"), in its classic form: losses of the selected edges are summed;
  P.526's empirical weighting ``T`` and correction ``C`` are **not** applied (see
  :func:`deygout_loss_db`).

Earth curvature: profile heights are referred to the plane tangent to the effective
Earth at the transmitter, ``z_i = h_i - d_i**2 / (2 k R_e)`` (R_e = 6371 km). This is the
parabolic effective-Earth model; relative to any chord it adds exactly the bulge
``d1 * d2 / (2 k R_e)`` (``simulator.region.terrain.earth_bulge_m``), so all geometry below is
flat-Earth geometry on ``z``.

:func:`terrain_excess_loss_db` is the loss these methods add to a base model (free space,
RMa, Hata) in the terrain engine: the method on the profile over the effective Earth, minus
the method on the straight chord between the profile's ends over a **flat** Earth. The
reference stands for what a base model already holds (ground between the antennas, grazed
near a low handset) and nothing else: the Earth's bulge is in none of the base models, so it
stays in the excess, growing as ``k`` falls (at ``k -> 0`` nothing beyond the horizon is
reached). A reference carrying the same bulge (as the engine used before) cancels the bulge
of a smooth Earth, so coverage did not depend on ``k``, and at a tiny ``k`` the common bulge
dominated both losses and hid the terrain's own obstacles: coverage went *up*.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..._checks import check_range

__all__ = [
    "SPEED_OF_LIGHT_M_PER_S",
    "bullington_loss_db",
    "chord_profiles",
    "deygout_loss_db",
    "fresnel_nu",
    "knife_edge_j_db",
    "terrain_excess_loss_db",
]

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
_EARTH_RADIUS_M = 6_371_000.0
_NU_MIN = -0.78  # P.526-15 eq. (31) lower validity limit
_F_MIN_MHZ, _F_MAX_MHZ = 30.0, 100_000.0


def _check_frequency(frequency_mhz):
    return check_range("frequency_mhz", frequency_mhz, _F_MIN_MHZ, _F_MAX_MHZ, "MHz",
                       finite=True)


def _scalar_or_array(x):
    return x[()] if np.ndim(x) == 0 else x


def knife_edge_j_db(nu, *, method="approx"):
    r"""Single knife-edge diffraction loss J(nu), ITU-R P.526-15 §4.1.

    ``method="approx"``, eq. (31):

    .. math:: J(\nu) = 6.9 + 20 \log_{10}\left(\sqrt{(\nu - 0.1)^2 + 1} + \nu - 0.1\right)

    for :math:`\nu > -0.78`, and 0 dB for :math:`\nu \le -0.78` (outside the validity of
    eq. (31); P.452/P.1812 use the same rule).

    ``method="exact"``, the Fresnel-integral form of §4.1:

    .. math:: J(\nu) = -20 \log_{10}\left(\frac{\sqrt{(1 - C(\nu) - S(\nu))^2
              + (C(\nu) - S(\nu))^2}}{2}\right)

    with :math:`C, S` the Fresnel cosine and sine integrals (``scipy.special.fresnel``).
    It is evaluated for every nu, including the small oscillating gains/losses for
    negative nu. J(0) = 20 log10(2) = 6.0206 dB.

    Parameters
    ----------
    nu : array_like
        Diffraction parameter, any real value; NaN propagates [-].
    method : {"approx", "exact"}
        Formula, see above.

    Returns
    -------
    numpy.ndarray or float
        Loss in excess of free space [dB], shape of ``nu``.
    """
    v = np.asarray(nu, dtype=np.float64)
    if method == "approx":
        with np.errstate(invalid="ignore"):
            x = v - 0.1
            j = 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x)
            out = np.where(v > _NU_MIN, j, 0.0)
        out = np.where(np.isnan(v), np.nan, out)
    elif method == "exact":
        s, c = special.fresnel(v)
        out = -20.0 * np.log10(np.sqrt((1.0 - c - s) ** 2 + (c - s) ** 2) / 2.0)
    else:
        raise ValueError(f"method={method!r} is invalid; allowed: 'approx', 'exact'")
    return _scalar_or_array(out)


def fresnel_nu(h_m, d1_m, d2_m, frequency_mhz):
    r"""Fresnel-Kirchhoff diffraction parameter, ITU-R P.526-15 §4.1.

    .. math:: \nu = h \sqrt{\frac{2}{\lambda}\left(\frac{1}{d_1} + \frac{1}{d_2}\right)},
              \qquad \lambda = c / f

    Parameters
    ----------
    h_m : array_like
        Height of the edge above the straight line joining the terminals (negative
        below it) [m].
    d1_m, d2_m : array_like
        Distances from the edge to each terminal, > 0 [m].
    frequency_mhz : array_like
        Frequency, 30..100 000 MHz [MHz].

    Returns
    -------
    numpy.ndarray or float
        nu [-], broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If a distance is <= 0 or the frequency is outside its range.
    """
    f = _check_frequency(frequency_mhz)
    d1 = np.asarray(d1_m, dtype=np.float64)
    d2 = np.asarray(d2_m, dtype=np.float64)
    if np.any(~(d1 > 0)) or np.any(~(d2 > 0)):
        raise ValueError("d1_m/d2_m must be > 0 (distances from the edge to the terminals)")
    lam = SPEED_OF_LIGHT_M_PER_S / (f * 1e6)
    out = np.asarray(h_m, dtype=np.float64) * np.sqrt(2.0 / lam * (1.0 / d1 + 1.0 / d2))
    return _scalar_or_array(out)


# ---------------------------------------------------------------------------
# profile preparation shared by Bullington and Deygout
# ---------------------------------------------------------------------------
def _prepare(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, k_factor, n_points):
    h = np.asarray(elevations_m, dtype=np.float64)
    one_d = h.ndim == 1
    if h.ndim not in (1, 2):
        raise ValueError(f"elevations_m ndim={h.ndim} is invalid; allowed: 1 or 2")
    h = np.atleast_2d(h)
    n_paths, n_max = h.shape
    j = np.arange(n_max)
    if n_points is None:
        valid = ~np.isnan(h)
        n = valid.sum(axis=1)
        if not np.array_equal(valid, j[None, :] < n[:, None]):
            raise ValueError("elevations_m has NaN before the end of a row; allowed: NaN only "
                             "as trailing padding (or pass n_points)")
    else:
        n = np.broadcast_to(np.asarray(n_points), (n_paths,))
        if not np.issubdtype(n.dtype, np.integer):
            raise ValueError("n_points must be integers")
        if np.any(n > n_max):
            raise ValueError(f"n_points larger than the row length {n_max}")
        if np.any(~np.isfinite(h[j[None, :] < n[:, None]])):
            raise ValueError("elevations_m has non-finite values within n_points")
    n = np.asarray(n, dtype=np.intp)
    if np.any(n < 2):
        raise ValueError(f"n_points={int(n.min())} is out of range; allowed: >= 2 per path")
    k = float(k_factor)
    if np.isnan(k) or k <= 0:
        raise ValueError(f"k_factor={k_factor!r} is out of range; allowed: > 0 (inf = flat)")
    spacing = np.broadcast_to(np.asarray(spacing_m, dtype=np.float64), (n_paths,))
    if np.any(~(spacing > 0)) or np.any(~np.isfinite(spacing)):
        raise ValueError("spacing_m must be finite and > 0")
    htx = np.broadcast_to(np.asarray(h_tx_m, dtype=np.float64), (n_paths,))
    hrx = np.broadcast_to(np.asarray(h_rx_m, dtype=np.float64), (n_paths,))
    if np.any(~np.isfinite(htx)) or np.any(~np.isfinite(hrx)):
        raise ValueError("h_tx_m/h_rx_m must be finite")
    f = np.broadcast_to(_check_frequency(frequency_mhz), (n_paths,))
    lam = SPEED_OF_LIGHT_M_PER_S / (f * 1e6)
    d = j[None, :] * spacing[:, None]
    z = h if np.isinf(k) else h - d * d / (2.0 * k * _EARTH_RADIUS_M)
    last = n - 1
    rows = np.arange(n_paths)
    d_total = last * spacing
    h_t = z[:, 0] + htx
    h_r = z[rows, last] + hrx
    interior = (j[None, :] >= 1) & (j[None, :] < last[:, None])
    return one_d, z, d, d_total, h_t, h_r, lam, interior, last


def _j_path(nu, method):
    """J for path methods: 0 dB at and below nu = -0.78 for both formulas."""
    j = np.asarray(knife_edge_j_db(np.where(np.isfinite(nu), nu, -np.inf), method=method))
    return np.where(nu > _NU_MIN, j, 0.0)


def bullington_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                       k_factor=4.0 / 3.0, n_points=None, method="approx",
                       empirical_correction=False):
    r"""Bullington diffraction loss over terrain profiles, vectorised over paths.

    Construction of ITU-R P.1812-6 §4.3.1 / P.452-17 §4.2.1 (distances here in metres,
    heights ``z`` already include Earth curvature, see the module docstring):

    * :math:`S_{tim} = \max_i (z_i - H_t)/d_i`, :math:`S_{tr} = (H_r - H_t)/d`;
    * if :math:`S_{tim} \le S_{tr}` (line of sight; P.1812 writes ``<``, the grazing
      case ``=`` is taken here so that it gives nu = 0 instead of 0/0):
      :math:`\nu = \max_i \left[z_i - \frac{H_t (d-d_i) + H_r d_i}{d}\right]
      \sqrt{\frac{2 d}{\lambda d_i (d - d_i)}}`;
    * otherwise :math:`S_{rim} = \max_i (z_i - H_r)/(d - d_i)`, the Bullington point
      :math:`d_b = (H_r - H_t + S_{rim} d)/(S_{tim} + S_{rim})` and
      :math:`\nu_b = \left[H_t + S_{tim} d_b - \frac{H_t (d-d_b) + H_r d_b}{d}\right]
      \sqrt{\frac{2 d}{\lambda d_b (d - d_b)}}`;
    * loss :math:`L_{uc}` = J(nu) (0 dB for nu <= -0.78); with
      ``empirical_correction=True`` the loss is that of P.1812-6 §4.3.1 / P.452-17
      §4.2.1, :math:`L_{uc} + (1 - e^{-L_{uc}/6})(10 + 0.02\,d)` with :math:`d` in km
      (0 dB stays 0 dB).

    :math:`H_t, H_r` are the antenna heights above the profile ends. Maxima run over
    the interior points :math:`1 \le i \le n-2`.

    Parameters
    ----------
    elevations_m : array_like, shape (n_points,) or (n_paths, n_points)
        Terrain heights from transmitter (column 0) to receiver, equally spaced. Rows may
        be NaN-padded at the end; each row's length is its count of leading finite values
        unless ``n_points`` is given [m].
    spacing_m : float or array_like, shape (n_paths,)
        Distance between profile points, > 0 [m].
    h_tx_m, h_rx_m : float or array_like, shape (n_paths,)
        Antenna heights above the first / last profile point [m].
    frequency_mhz : float or array_like, shape (n_paths,)
        30..100 000 MHz [MHz].
    k_factor : float, optional
        Effective Earth-radius factor, > 0; ``numpy.inf`` = flat Earth [-].
    n_points : int or array_like of int, shape (n_paths,), optional
        Points per path (>= 2), overriding the NaN-padding rule [-].
    method : {"approx", "exact"}, optional
        J(nu) formula, see :func:`knife_edge_j_db`.
    empirical_correction : bool, optional
        Add the P.1812/P.452 correction term (see above) [-].

    Returns
    -------
    numpy.ndarray, shape (n_paths,), or float for a 1-D profile
        Diffraction loss [dB] (>= 0). Paths with only 2 points have 0 dB.
    """
    one_d, z, d, d_total, h_t, h_r, lam, interior, _ = _prepare(
        elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, k_factor, n_points)
    D = d_total[:, None]
    Ht, Hr = h_t[:, None], h_r[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        stim = np.max(np.where(interior, (z - Ht) / d, -np.inf), axis=1)
        s_tr = (h_r - h_t) / d_total
        geom = np.sqrt(2.0 * D / (lam[:, None] * d * (D - d)))
        nu_i = (z - (Ht * (D - d) + Hr * d) / D) * geom
        nu_los = np.max(np.where(interior, nu_i, -np.inf), axis=1)
        srim = np.max(np.where(interior, (z - Hr) / (D - d), -np.inf), axis=1)
        d_b = (h_r - h_t + srim * d_total) / (stim + srim)
        nu_b = ((h_t + stim * d_b - (h_t * (d_total - d_b) + h_r * d_b) / d_total)
                * np.sqrt(2.0 * d_total / (lam * d_b * (d_total - d_b))))
    los = stim <= s_tr  # equality (grazing) is handled by the LOS formula: nu = 0
    nu = np.where(los, nu_los, nu_b)
    nu = np.where(np.isfinite(stim), nu, -np.inf)  # no interior point: no obstacle
    loss = _j_path(nu, method)
    if empirical_correction:
        loss = loss + (1.0 - np.exp(-loss / 6.0)) * (10.0 + 0.02 * (d_total / 1000.0))
    return float(loss[0]) if one_d else loss


def _segment_max_nu(z, d, lam, a, b, h_a, h_b, active):
    """Max nu (and its index) of interior points of segments (a, b) per path.

    Shapes: z, d (P, N); lam (P,); a, b, h_a, h_b, active (P, S). Returns (P, S) arrays.
    """
    j = np.arange(z.shape[1])[None, None, :]
    d_a = np.take_along_axis(d, a, axis=1)[..., None]
    d_b = np.take_along_axis(d, b, axis=1)[..., None]
    dd = d[:, None, :]
    mask = (j > a[..., None]) & (j < b[..., None]) & active[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = dd - d_a
        d2 = d_b - dd
        span = d_b - d_a
        line = h_a[..., None] + (h_b - h_a)[..., None] * d1 / span
        nu = (z[:, None, :] - line) * np.sqrt(2.0 * span / (lam[:, None, None] * d1 * d2))
    nu = np.where(mask, nu, -np.inf)
    idx = np.argmax(nu, axis=2)
    return np.take_along_axis(nu, idx[..., None], axis=2)[..., 0], idx


def deygout_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                    k_factor=4.0 / 3.0, n_points=None, max_edges=3, method="approx"):
    r"""Deygout multiple knife-edge diffraction loss over terrain profiles, vectorised.

    Classic Deygout construction (the main-edge method of ITU-R P.526 for up to three
    edges): the main edge is the profile point with the largest nu (:func:`fresnel_nu`)
    relative to the line between the antennas; the path is split at its top and the
    same search is repeated on each sub-path (secondary edges, relative to the line
    from the antenna to the main-edge top), level by level. At most ``max_edges`` edges
    are used, in at most ``floor(log2(max_edges)) + 1`` levels, so ``max_edges=3`` is
    exactly the main edge + at most one secondary edge on each side (never a third
    level, even if a secondary edge was not needed), and ``max_edges=7`` adds one more
    level. Only edges with nu > -0.78 count and are split further. When a level has
    more candidate edges than the remaining budget, those with the largest nu are
    kept. The loss is the sum of J(nu) of the selected edges.

    P.526's empirical form ``J(nu_p) + T [J(nu_t) + J(nu_r) + C]``
    (``T = 1 - exp(-J(nu_p)/6)``, ``C = 10 + 0.04 D_km``) is not applied; the classic sum
    keeps the single-knife-edge case exact and flat terrain at 0 dB.

    Parameters
    ----------
    elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, k_factor, n_points, method
        As for :func:`bullington_loss_db`.
    max_edges : int, optional
        Maximum number of edges, >= 1 [-].

    Returns
    -------
    numpy.ndarray, shape (n_paths,), or float for a 1-D profile
        Diffraction loss [dB] (>= 0).
    """
    if int(max_edges) != max_edges or max_edges < 1:
        raise ValueError(f"max_edges={max_edges!r} is out of range; allowed: integer >= 1")
    one_d, z, d, _, h_t, h_r, lam, _, last = _prepare(
        elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, k_factor, n_points)
    n_paths = z.shape[0]
    a = np.zeros((n_paths, 1), dtype=np.intp)
    b = last[:, None].copy()
    h_a, h_b = h_t[:, None].copy(), h_r[:, None].copy()
    active = np.ones((n_paths, 1), dtype=bool)
    remaining = np.full(n_paths, int(max_edges))
    loss = np.zeros(n_paths)
    n_levels = int(max_edges).bit_length()  # floor(log2(max_edges)) + 1
    for _level in range(n_levels):
        if not (active.any() and remaining.max() > 0):
            break
        nu, idx = _segment_max_nu(z, d, lam, a, b, h_a, h_b, active)
        cand = active & (nu > _NU_MIN)
        key = np.where(cand, nu, -np.inf)
        order = np.argsort(-key, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
        keep = cand & (rank < remaining[:, None])
        loss += np.sum(np.where(keep, _j_path(np.where(keep, nu, -np.inf), method), 0.0),
                       axis=1)
        remaining = remaining - keep.sum(axis=1)
        h_p = np.take_along_axis(z, idx, axis=1)
        # children: (a, p) and (p, b), interleaved so the order stays left to right
        a = np.stack([a, idx], axis=2).reshape(n_paths, -1)
        b = np.stack([idx, b], axis=2).reshape(n_paths, -1)
        h_a_new = np.stack([h_a, h_p], axis=2).reshape(n_paths, -1)
        h_b = np.stack([h_p, h_b], axis=2).reshape(n_paths, -1)
        h_a = h_a_new
        active = np.repeat(keep, 2, axis=1) & (remaining[:, None] > 0)
    return float(loss[0]) if one_d else loss


def chord_profiles(elevations_m, n_points):
    """The straight line between each profile's end points (same shape, NaN-padded).

    Parameters
    ----------
    elevations_m : ndarray, shape (n_paths, n_max)
        Profiles, valid in their first ``n_points`` values [m].
    n_points : array_like of int, shape (n_paths,)
        Points per path (>= 2).

    Returns
    -------
    ndarray, shape (n_paths, n_max)
        Heights on the chord [m], NaN beyond each path's points.
    """
    elev = np.atleast_2d(np.asarray(elevations_m, dtype=np.float64))
    n = np.broadcast_to(np.asarray(n_points, dtype=np.intp), (elev.shape[0],))
    rows = np.arange(elev.shape[0])
    z0 = elev[:, 0]
    z1 = elev[rows, n - 1]
    j = np.arange(elev.shape[1])[None, :]
    out = z0[:, None] + (z1 - z0)[:, None] * (j / np.maximum(n - 1, 1)[:, None])
    out[j >= n[:, None]] = np.nan
    return out


def terrain_excess_loss_db(method, elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                           k_factor=4.0 / 3.0, n_points):
    r"""Diffraction loss of the terrain and of the Earth's bulge beyond a flat, smooth path.

    .. math:: L_{excess} = \max\left(L(z^{(k)}) - L(c^{(\infty)}),\; 0\right)

    with :math:`L` Deygout's (:func:`deygout_loss_db`) or Bullington's
    (:func:`bullington_loss_db`) loss, :math:`z^{(k)}` the profile over the effective Earth of
    factor ``k`` and :math:`c^{(\infty)}` the straight chord between the profile's end
    points over a flat Earth (see the module text for why the reference is flat).

    Properties: 0 dB on flat or uniformly sloping ground with a flat Earth; never negative;
    non-increasing in ``k`` for Bullington (the bulge raises every interior point, so the
    Bullington point rises) and for a single Deygout edge; as ``k -> 0`` it grows without
    bound beyond the radio horizon.

    Parameters
    ----------
    method : {"deygout", "bullington"}
    elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz
        As for :func:`bullington_loss_db`; ``elevations_m`` 2-D (n_paths, n_max).
    k_factor : float
        Effective Earth-radius factor of the profile, > 0 (``numpy.inf``: flat) [-].
    n_points : array_like of int, shape (n_paths,)
        Points per path.

    Returns
    -------
    ndarray, shape (n_paths,)
        Excess loss [dB] (>= 0).
    """
    if method == "deygout":
        fn = deygout_loss_db
    elif method == "bullington":
        fn = bullington_loss_db
    else:
        raise ValueError(f"method={method!r} is invalid; allowed: 'deygout', 'bullington'")
    terrain = fn(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, k_factor=k_factor,
                 n_points=n_points)
    smooth = fn(chord_profiles(elevations_m, n_points), spacing_m, h_tx_m, h_rx_m,
                frequency_mhz, k_factor=np.inf, n_points=n_points)
    return np.maximum(np.asarray(terrain) - np.asarray(smooth), 0.0)
