"""Delta-Bullington terrain diffraction and spherical-Earth diffraction (ITU-R P.526-15).

Pure, vectorised numpy functions (models layer). References:

* ITU-R P.526-15 (10/2019) §4.5, the "delta-Bullington" method for a general terrain path:
  the Bullington loss of the actual profile, corrected by the difference between the
  spherical-Earth loss and the Bullington loss of a smooth profile fitted to the path,

  .. math:: L_d = L_{bulla} + \\max(L_{dsph} - L_{bulls}, 0).

  The text followed here, step by step, is the same method as written in
  ITU-R P.1812-6 §4.3 (§4.3.1 Bullington with its empirical correction, §4.3.2-4.3.3
  spherical-Earth loss and its first-term part, §4.3.4 the combination) and
  ITU-R P.452-17 §4.2.1-4.2.3; the least-squares smooth surface is that of P.1812-6
  Attachment 1 §5.6.1-5.6.2 (P.452-17 Attachment 2 §5.1.6). Equation numbers are not
  quoted because they differ between the editions.
* ITU-R P.526-15 §3.2, "diffraction loss for any distance at 10 MHz and above" over a
  smooth spherical Earth, with the first-term residue formulas of §3.1.1 (normalised
  distance X, heights Y, surface admittance K and the functions F(X), G(Y)), in the
  practical units P.1812-6 §4.3.3 gives them (f in GHz, distances in km, heights in m).

The Recommendation texts themselves could not be opened while this module was written: the
formulas below are the methods as the author knows them from those texts, and the section
numbers are not re-checked. Every step is confirmed numerically against the intermediate
values ``Lbulla``, ``Lbulls``, ``Ldsph``, ``Ld50``, ``hst``, ``hsr``, ``hstd``, ``hsrd`` of
the ITU-R P.1812 validation set published in github.com/eeveetza/p1812 (agreement to
1e-8 dB; see ``tests/test_delta_bullington.py`` and ``tests/data/SOURCES.md``). That
implementation uses the wavelength ``0.3 / f_GHz`` (c = 3e8 m/s); this module uses
c = 299 792 458 m/s (:data:`~simulator.radio.propagation.diffraction.SPEED_OF_LIGHT_M_PER_S`),
which changes nu by 3.5e-4 relative and the losses of the validation cases by up to
0.0031 dB.

Conventions as in :mod:`simulator.radio.propagation.diffraction`: equally spaced profiles, rows
of a NaN-padded 2-D array (or ``n_points``), the Earth's curvature through
``z_i = h_i - d_i**2 / (2 k R_e)`` with R_e = 6371 km (P.1812 writes the same geometry as
``h_i + d_i (d - d_i) / (2 a_e)``; the two differ by a rotation of the frame, which leaves
every nu unchanged).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import diffraction as _dif

__all__ = [
    "DeltaBullingtonParts",
    "SmoothEarthHeights",
    "delta_bullington_loss_db",
    "smooth_earth_heights_m",
    "spherical_earth_diffraction_db",
]

#: Average land ground of P.1812-6 §4.3.3 / P.452-17 §4.2.2.1 (relative permittivity,
#: conductivity [S/m]); sea is 80 and 5.
LAND_EPSILON_R = 22.0
LAND_SIGMA_S_PER_M = 0.003
_POLARIZATIONS = ("horizontal", "vertical")


class SmoothEarthHeights(NamedTuple):
    """Heights of the least-squares smooth surface of a profile [m] (above sea level)."""

    h_st_m: np.ndarray | float    #: at the transmitter, least-squares fit
    h_sr_m: np.ndarray | float    #: at the receiver, least-squares fit
    h_std_m: np.ndarray | float   #: at the transmitter, for the diffraction model
    h_srd_m: np.ndarray | float   #: at the receiver, for the diffraction model


class DeltaBullingtonParts(NamedTuple):
    """The terms of the delta-Bullington loss (arrays of shape (n_paths,) or floats)."""

    loss_db: np.ndarray | float               #: L_d [dB]
    bullington_profile_db: np.ndarray | float  #: L_bulla, actual profile [dB]
    bullington_smooth_db: np.ndarray | float   #: L_bulls, smooth profile [dB]
    spherical_earth_db: np.ndarray | float     #: L_dsph [dB]
    h_std_m: np.ndarray | float               #: smooth surface at the transmitter [m]
    h_srd_m: np.ndarray | float               #: smooth surface at the receiver [m]
    h_te_m: np.ndarray | float                #: transmitter above the smooth surface [m]
    h_re_m: np.ndarray | float                #: receiver above the smooth surface [m]


def _out(x, one_d):
    return float(x[0]) if one_d else x


def _check_k_finite(k_factor):
    k = float(k_factor)
    if not (np.isfinite(k) and k > 0):
        raise ValueError(f"k_factor={k_factor!r} is out of range; allowed: finite > 0 "
                         "(the spherical-Earth loss needs a finite Earth radius)")
    return k


def _check_ground(polarization, epsilon_r, sigma_s_per_m):
    if polarization not in _POLARIZATIONS:
        raise ValueError(f"polarization={polarization!r} is invalid; allowed: "
                         "'horizontal', 'vertical'")
    eps = float(epsilon_r)
    if not (np.isfinite(eps) and eps > 1.0):
        raise ValueError(f"epsilon_r={epsilon_r!r} is out of range; allowed: finite > 1")
    sigma = float(sigma_s_per_m)
    if not (np.isfinite(sigma) and sigma >= 0.0):
        raise ValueError(f"sigma_s_per_m={sigma_s_per_m!r} is out of range; allowed: "
                         "finite >= 0 S/m")
    return eps, sigma


# ---------------------------------------------------------------------------
# spherical Earth
# ---------------------------------------------------------------------------
def _first_term_db(a_km, d_km, h_te, h_re, f_ghz, eps, sigma, vertical):
    """First-term spherical-Earth loss L_dft [dB] (P.526-15 §3.1.1; P.1812-6 §4.3.3).

    a_km: effective radius [km]; d_km [km]; heights [m]; f_ghz [GHz]. Arrays broadcast.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k = 0.036 * (a_km * f_ghz) ** (-1.0 / 3.0) * (
            (eps - 1.0) ** 2 + (18.0 * sigma / f_ghz) ** 2) ** -0.25
        if vertical:
            k = k * np.sqrt(eps ** 2 + (18.0 * sigma / f_ghz) ** 2)
        k2 = k * k
        beta = (1.0 + 1.6 * k2 + 0.67 * k2 * k2) / (1.0 + 4.5 * k2 + 1.53 * k2 * k2)
        x = 21.88 * beta * (f_ghz / a_km ** 2) ** (1.0 / 3.0) * d_km
        y_scale = 0.9575 * beta * (f_ghz ** 2 / a_km) ** (1.0 / 3.0)
        f_x = np.where(x >= 1.6, 11.0 + 10.0 * np.log10(x) - 17.6 * x,
                       -20.0 * np.log10(x) - 5.6488 * x ** 1.425)
        g_min = 2.0 + 20.0 * np.log10(k)

        def height_gain(h):
            b = beta * y_scale * h
            g = np.where(b > 2.0, 17.6 * np.sqrt(b - 1.1) - 5.0 * np.log10(b - 1.1) - 8.0,
                         20.0 * np.log10(b + 0.1 * b ** 3))
            return np.maximum(g, g_min)

        return -f_x - height_gain(h_te) - height_gain(h_re)


def spherical_earth_diffraction_db(distance_m, h_te_m, h_re_m, frequency_mhz, *,
                                   k_factor=4.0 / 3.0, polarization="vertical",
                                   epsilon_r=LAND_EPSILON_R,
                                   sigma_s_per_m=LAND_SIGMA_S_PER_M):
    r"""Diffraction loss over a smooth spherical Earth, ITU-R P.526-15 §3.2.

    The method for any distance at 10 MHz and above, as written in P.1812-6 §4.3.2-4.3.3
    (P.452-17 §4.2.2), with :math:`a = k R_e` (km), d (km), heights (m), f (GHz),
    :math:`\lambda = c/f` (m):

    * marginal line-of-sight distance
      :math:`d_{los} = \sqrt{2a}\,(\sqrt{0.001 h_{te}} + \sqrt{0.001 h_{re}})`;
    * if :math:`d \ge d_{los}`: :math:`L = L_{dft}(a)` (not limited below);
    * otherwise :math:`c = (h_{te} - h_{re})/(h_{te} + h_{re})`,
      :math:`m = 250 d^2 / (a (h_{te} + h_{re}))`,
      :math:`b = 2\sqrt{\frac{m+1}{3m}} \cos\left(\frac{\pi}{3} + \frac{1}{3}
      \arccos\left(\frac{3c}{2}\sqrt{\frac{3m}{(m+1)^3}}\right)\right)`,
      :math:`d_{se1} = d(1+b)/2`, :math:`d_{se2} = d - d_{se1}`, the clearance
      :math:`h_{se} = [(h_{te} - 500 d_{se1}^2/a) d_{se2} + (h_{re} - 500 d_{se2}^2/a)
      d_{se1}]/d` and the required clearance
      :math:`h_{req} = 17.456\sqrt{d_{se1} d_{se2} \lambda / d}`; if
      :math:`h_{se} > h_{req}` the loss is 0, else with
      :math:`a_{em} = 500 (d / (\sqrt{h_{te}} + \sqrt{h_{re}}))^2`,
      :math:`L = \max(0, (1 - h_{se}/h_{req}) L_{dft}(a_{em}))`.

    First-term loss :math:`L_{dft}(a) = -F(X) - G(Y_t) - G(Y_r)`: surface admittance
    :math:`K_H = 0.036 (a f)^{-1/3} [(\varepsilon_r - 1)^2 + (18\sigma/f)^2]^{-1/4}`,
    :math:`K_V = K_H [\varepsilon_r^2 + (18\sigma/f)^2]^{1/2}`,
    :math:`\beta = (1 + 1.6K^2 + 0.67K^4)/(1 + 4.5K^2 + 1.53K^4)`,
    :math:`X = 21.88 \beta (f/a^2)^{1/3} d`, :math:`Y = 0.9575 \beta (f^2/a)^{1/3} h`;
    :math:`F(X) = 11 + 10\log X - 17.6X` for :math:`X \ge 1.6`, else
    :math:`-20\log X - 5.6488 X^{1.425}`; with :math:`B = \beta Y`,
    :math:`G = 17.6\sqrt{B - 1.1} - 5\log(B - 1.1) - 8` for :math:`B > 2`, else
    :math:`20\log(B + 0.1B^3)`, and :math:`G \ge 2 + 20\log K`.

    Parameters
    ----------
    distance_m : array_like
        Path length, > 0 [m].
    h_te_m, h_re_m : array_like
        Antenna heights above the smooth Earth, >= 0 [m].
    frequency_mhz : array_like
        30..100 000 MHz (P.526 §3.2 holds from 10 MHz; 30 MHz is this package's floor)
        [MHz].
    k_factor : float, optional
        Effective Earth-radius factor, finite > 0 (P.1812: 157 / (157 - Delta N)) [-].
    polarization : {"vertical", "horizontal"}, optional
        Polarisation, chooses the surface admittance K [-].
    epsilon_r, sigma_s_per_m : float, optional
        Ground relative permittivity (> 1) [-] and conductivity (>= 0) [S/m]; default
        P.1812's average land (22, 0.003); its sea is (80, 5).

    Returns
    -------
    numpy.ndarray or float
        Loss in excess of free space [dB], broadcast shape of the array inputs.

    Raises
    ------
    ValueError
        If an input is outside the ranges above.
    """
    f = _dif._check_frequency(frequency_mhz)
    k = _check_k_finite(k_factor)
    eps, sigma = _check_ground(polarization, epsilon_r, sigma_s_per_m)
    d = np.asarray(distance_m, dtype=np.float64)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("distance_m must be finite and > 0 [m]")
    h_te = np.asarray(h_te_m, dtype=np.float64)
    h_re = np.asarray(h_re_m, dtype=np.float64)
    for name, h in (("h_te_m", h_te), ("h_re_m", h_re)):
        if np.any(~np.isfinite(h)) or np.any(h < 0):
            bad = h[~np.isfinite(h) | (h < 0)].ravel()[0]
            raise ValueError(f"{name}={bad!r} is out of range; allowed: finite >= 0 m "
                             "(height above the smooth Earth)")
    vertical = polarization == "vertical"
    a = k * _dif._EARTH_RADIUS_M / 1000.0
    d_km = d / 1000.0
    f_ghz = f / 1000.0
    lam = _dif.SPEED_OF_LIGHT_M_PER_S / (f * 1e6)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_los = np.sqrt(2.0 * a) * (np.sqrt(0.001 * h_te) + np.sqrt(0.001 * h_re))
        beyond = _first_term_db(a, d_km, h_te, h_re, f_ghz, eps, sigma, vertical)
        hsum = h_te + h_re
        c = (h_te - h_re) / hsum
        m = 250.0 * d_km ** 2 / (a * hsum)
        arg = np.clip(1.5 * c * np.sqrt(3.0 * m / (m + 1.0) ** 3), -1.0, 1.0)
        b = 2.0 * np.sqrt((m + 1.0) / (3.0 * m)) * np.cos(np.pi / 3.0 + np.arccos(arg) / 3.0)
        d1 = 0.5 * d_km * (1.0 + b)
        d2 = d_km - d1
        h_se = ((h_te - 500.0 * d1 ** 2 / a) * d2 + (h_re - 500.0 * d2 ** 2 / a) * d1) / d_km
        h_req = 17.456 * np.sqrt(d1 * d2 * lam / d_km)
        a_em = 500.0 * (d_km / (np.sqrt(h_te) + np.sqrt(h_re))) ** 2
        l_em = _first_term_db(a_em, d_km, h_te, h_re, f_ghz, eps, sigma, vertical)
        within = np.where(h_se > h_req, 0.0, np.maximum(0.0, (1.0 - h_se / h_req) * l_em))
    out = np.where(d_km >= d_los, beyond, within)
    return _dif._scalar_or_array(out)


# ---------------------------------------------------------------------------
# smooth-Earth surface of a profile
# ---------------------------------------------------------------------------
def _smooth_heights(h, d, d_total, h_ts, h_rs, last, interior):
    """Smooth-surface heights of prepared profiles (heights without curvature)."""
    n_paths, n_max = h.shape
    rows = np.arange(n_paths)
    seg = np.arange(1, n_max)[None, :] <= last[:, None]       # segments (i-1, i), i <= last
    h0, h1 = h[:, :-1], h[:, 1:]
    d0, d1 = d[:, :-1], d[:, 1:]
    dd = d1 - d0
    v1 = np.sum(np.where(seg, dd * (h1 + h0), 0.0), axis=1)
    v2 = np.sum(np.where(seg, dd * (h1 * (2.0 * d1 + d0) + h0 * (d1 + 2.0 * d0)), 0.0), axis=1)
    h_st = (2.0 * v1 * d_total - v2) / d_total ** 2
    h_sr = (v2 - v1 * d_total) / d_total ** 2
    D = d_total[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = h - (h_ts[:, None] * (D - d) + h_rs[:, None] * d) / D
        h_obs = np.max(np.where(interior, hh, -np.inf), axis=1)
        a_t = np.max(np.where(interior, hh / d, -np.inf), axis=1)
        a_r = np.max(np.where(interior, hh / (D - d), -np.inf), axis=1)
        g_t = a_t / (a_t + a_r)
        g_r = a_r / (a_t + a_r)
    obstructed = h_obs > 0.0      # then a_t, a_r > 0 too (the same point gives both)
    lowering = np.where(obstructed, h_obs, 0.0)
    h_stp = h_st - lowering * np.where(obstructed, g_t, 0.0)
    h_srp = h_sr - lowering * np.where(obstructed, g_r, 0.0)
    h_std = np.minimum(h_stp, h[:, 0])
    h_srd = np.minimum(h_srp, h[rows, last])
    return h_st, h_sr, h_std, h_srd


def smooth_earth_heights_m(elevations_m, spacing_m, h_tx_m, h_rx_m, *, n_points=None):
    r"""Smooth-Earth surface heights of terrain profiles, vectorised over paths.

    P.1812-6 Attachment 1 §5.6.1-5.6.2 (P.452-17 Attachment 2 §5.1.6), distances in any
    consistent unit (metres here), heights above sea level:

    * least-squares straight line through the profile (trapezoidal sums over the
      segments): :math:`v_1 = \sum (d_i - d_{i-1})(h_i + h_{i-1})`,
      :math:`v_2 = \sum (d_i - d_{i-1})[h_i(2d_i + d_{i-1}) + h_{i-1}(d_i + 2d_{i-1})]`,
      :math:`h_{st} = (2 v_1 d - v_2)/d^2`, :math:`h_{sr} = (v_2 - v_1 d)/d^2`;
    * highest obstruction above the straight line between the antennas
      (:math:`h_{ts} = h_1 + h_{tx}`, :math:`h_{rs} = h_n + h_{rx}`), over the interior
      points: :math:`H_i = h_i - [h_{ts}(d - d_i) + h_{rs} d_i]/d`,
      :math:`h_{obs} = \max H_i`, :math:`\alpha_{obt} = \max H_i/d_i`,
      :math:`\alpha_{obr} = \max H_i/(d - d_i)`;
    * if :math:`h_{obs} > 0` the line is lowered:
      :math:`h_{stp} = h_{st} - h_{obs} g_t`, :math:`h_{srp} = h_{sr} - h_{obs} g_r`,
      :math:`g_t = \alpha_{obt}/(\alpha_{obt} + \alpha_{obr})`,
      :math:`g_r = \alpha_{obr}/(\alpha_{obt} + \alpha_{obr})`; else unchanged;
    * :math:`h_{std} = \min(h_{stp}, h_1)`, :math:`h_{srd} = \min(h_{srp}, h_n)`.

    The heights are the terrain's (no Earth curvature, no clutter: P.1812 fits the
    terrain heights ``h``, not the clutter-raised ``g``).

    Parameters
    ----------
    elevations_m, spacing_m, n_points
        As for :func:`~simulator.radio.propagation.diffraction.bullington_loss_db` [m].
    h_tx_m, h_rx_m : float or array_like, shape (n_paths,)
        Antenna heights above the first / last profile point [m].

    Returns
    -------
    SmoothEarthHeights
        ``h_st_m, h_sr_m, h_std_m, h_srd_m``: arrays of shape (n_paths,), or floats for a
        1-D profile [m].
    """
    one_d, h, d, d_total, h_ts, h_rs, _, interior, last = _dif._prepare(
        elevations_m, spacing_m, h_tx_m, h_rx_m, 1000.0, np.inf, n_points)
    parts = _smooth_heights(h, d, d_total, h_ts, h_rs, last, interior)
    return SmoothEarthHeights(*(_out(p, one_d) for p in parts))


# ---------------------------------------------------------------------------
# delta-Bullington
# ---------------------------------------------------------------------------
def delta_bullington_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                             k_factor=4.0 / 3.0, polarization="vertical",
                             epsilon_r=LAND_EPSILON_R, sigma_s_per_m=LAND_SIGMA_S_PER_M,
                             clutter_m=None, n_points=None, method="approx",
                             return_parts=False):
    r"""Delta-Bullington diffraction loss over terrain profiles, ITU-R P.526-15 §4.5.

    As written in P.1812-6 §4.3.4 (P.452-17 §4.2.3):

    1. :math:`L_{bulla}`: Bullington on the actual profile, with the empirical correction
       (:func:`~simulator.radio.propagation.diffraction.bullington_loss_db` with
       ``empirical_correction=True``); representative clutter heights ``clutter_m``, if
       given, are added to the interior points (P.1812-6 §3.2: :math:`g_i = h_i + R_i`,
       the terminals' own points are not raised);
    2. the smooth surface (:func:`smooth_earth_heights_m`, on the terrain without
       clutter) gives the effective heights :math:`h'_{tc} = h_1 + h_{tx} - h_{std}` and
       :math:`h'_{rc} = h_n + h_{rx} - h_{srd}`;
    3. :math:`L_{bulls}`: Bullington (with the correction) on a profile of zero heights
       with the antennas at :math:`h'_{tc}, h'_{rc}`;
    4. :math:`L_{dsph}`: :func:`spherical_earth_diffraction_db` for the path length and
       :math:`h'_{tc}, h'_{rc}`;
    5. :math:`L_d = L_{bulla} + \max(L_{dsph} - L_{bulls}, 0)`.

    On smooth ground (a constant-height or uniformly sloping profile)
    :math:`L_{bulla} = L_{bulls}` and the loss is :math:`\max(L_{dsph}, L_{bulls})`, which
    is :math:`L_{dsph}` wherever the spherical-Earth loss is the larger (in the cases
    tested, from where either loss exceeds a few dB).

    Parameters
    ----------
    elevations_m, spacing_m, n_points, method
        As for :func:`~simulator.radio.propagation.diffraction.bullington_loss_db`.
    h_tx_m, h_rx_m : float or array_like, shape (n_paths,)
        Antenna heights above the first / last profile point, >= 0 [m]. (P.1812 raises a
        terminal inside clutter to the clutter top, its Table 5; pass that height here.)
    frequency_mhz : float or array_like, shape (n_paths,)
        30..100 000 MHz [MHz].
    k_factor : float, optional
        Effective Earth-radius factor, finite > 0 [-].
    polarization, epsilon_r, sigma_s_per_m
        Ground and polarisation of the spherical-Earth term, see
        :func:`spherical_earth_diffraction_db`.
    clutter_m : array_like, same shape as ``elevations_m``, optional
        Representative clutter heights, finite >= 0 on the valid points [m].
    return_parts : bool, optional
        Return a :class:`DeltaBullingtonParts` with every term instead of the loss.

    Returns
    -------
    numpy.ndarray, shape (n_paths,), or float for a 1-D profile; or DeltaBullingtonParts
        Diffraction loss in excess of free space [dB], >= 0.

    Raises
    ------
    ValueError
        If an input is outside the ranges above or those of ``bullington_loss_db``.
    """
    k = _check_k_finite(k_factor)
    _check_ground(polarization, epsilon_r, sigma_s_per_m)
    one_d, h, d, d_total, h_ts, h_rs, _, interior, last = _dif._prepare(
        elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, np.inf, n_points)
    n_paths = h.shape[0]
    n = last + 1
    htx = np.broadcast_to(np.asarray(h_tx_m, dtype=np.float64), (n_paths,))
    hrx = np.broadcast_to(np.asarray(h_rx_m, dtype=np.float64), (n_paths,))
    for name, v in (("h_tx_m", htx), ("h_rx_m", hrx)):
        if np.any(v < 0):
            raise ValueError(f"{name}={float(v[v < 0][0])!r} is out of range; allowed: >= 0 m")
    g = h
    if clutter_m is not None:
        r = np.broadcast_to(np.asarray(clutter_m, dtype=np.float64), np.shape(elevations_m))
        r = np.atleast_2d(r)
        valid = np.arange(h.shape[1])[None, :] <= last[:, None]
        if np.any(~np.isfinite(r[valid])) or np.any(r[valid] < 0):
            raise ValueError("clutter_m must be finite and >= 0 on the profile points [m]")
        g = np.where(interior, h + np.where(valid, r, 0.0), h)
    f = np.broadcast_to(np.asarray(frequency_mhz, dtype=np.float64), (n_paths,))
    kw = dict(k_factor=k, n_points=n, method=method, empirical_correction=True)
    l_bulla = np.atleast_1d(_dif.bullington_loss_db(g, spacing_m, htx, hrx, f, **kw))
    _, _, h_std, h_srd = _smooth_heights(h, d, d_total, h_ts, h_rs, last, interior)
    h_te = h_ts - h_std
    h_re = h_rs - h_srd
    l_bulls = np.atleast_1d(_dif.bullington_loss_db(np.zeros_like(h), spacing_m, h_te, h_re,
                                                    f, **kw))
    l_dsph = np.atleast_1d(spherical_earth_diffraction_db(
        d_total, h_te, h_re, f, k_factor=k, polarization=polarization,
        epsilon_r=epsilon_r, sigma_s_per_m=sigma_s_per_m))
    loss = l_bulla + np.maximum(l_dsph - l_bulls, 0.0)
    if not return_parts:
        return _out(loss, one_d)
    return DeltaBullingtonParts(*(_out(p, one_d) for p in (
        loss, l_bulla, l_bulls, l_dsph, h_std, h_srd, h_te, h_re)))
