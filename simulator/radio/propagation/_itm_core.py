"""Element-wise core of the NTIA Irregular Terrain Model (ITM, Longley-Rice v1.2.2).

Private helper of :mod:`simulator.radio.propagation.itm`.  Every function takes 1-D float64
arrays of equal length (one element per path / evaluation) and returns arrays of the same
length; branches of the reference algorithm are evaluated for all elements and selected with
``numpy.where``.  Invalid intermediate values in unselected branches are expected, so callers
run these functions under ``numpy.errstate(all="ignore")``.

References (cited as in the NTIA/itm C++ sources):

* [Algorithm] G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: The Algorithm",
  NTIA/ITS, 1995.
* [ERL 79-ITS 67] A. G. Longley and P. L. Rice, "Prediction of tropospheric radio transmission
  loss over irregular terrain. A computer method", ESSA Tech. Rep. ERL 79-ITS 67, 1968.
* [TN101] P. L. Rice et al., "Transmission loss predictions for tropospheric communication
  circuits", NBS Technical Note 101, 1967.
* [Vogler 1964] L. E. Vogler, "Calculation of groundwave attenuation in the far diffraction
  region", Radio Science 68D(7), 1964.
"""

from __future__ import annotations

import numpy as np

# Constants of the reference implementation (NTIA/itm ``itm.h``).
A_0_M = 6370e3  # actual earth radius [m]
A_9000_M = 9000e3  # reference radius for the variability effective distance [m]
GAMMA_A_PER_M = 157e-9  # curvature of the actual earth [1/m]
THIRD = 1.0 / 3.0
SQRT2 = np.sqrt(2.0)

MODE_LINE_OF_SIGHT = 1
MODE_DIFFRACTION = 2
MODE_TROPOSCATTER = 3

# Warning flags (NTIA/itm ``Warnings.h``).
WARN_TX_TERMINAL_HEIGHT = 0x0001
WARN_RX_TERMINAL_HEIGHT = 0x0002
WARN_FREQUENCY = 0x0004
WARN_PATH_DISTANCE_TOO_BIG_1 = 0x0008
WARN_PATH_DISTANCE_TOO_BIG_2 = 0x0010
WARN_PATH_DISTANCE_TOO_SMALL_1 = 0x0020
WARN_PATH_DISTANCE_TOO_SMALL_2 = 0x0040
WARN_TX_HORIZON_ANGLE = 0x0080
WARN_RX_HORIZON_ANGLE = 0x0100
WARN_TX_HORIZON_DISTANCE_1 = 0x0200
WARN_RX_HORIZON_DISTANCE_1 = 0x0400
WARN_TX_HORIZON_DISTANCE_2 = 0x0800
WARN_RX_HORIZON_DISTANCE_2 = 0x1000
WARN_EXTREME_VARIABILITIES = 0x2000
WARN_SURFACE_REFRACTIVITY = 0x4000


def _flag(cond, bit):
    return np.where(cond, bit, 0).astype(np.int64)


def _dim(x, y):
    """Positive difference, C ``fdim`` / ITM ``DIM`` macro."""
    return np.where(x > y, x - y, 0.0)


# ----------------------------------------------------------------------------------------------
# Initialisation
# ----------------------------------------------------------------------------------------------


def surface_refractivity(n0_n_units, h_sys_m):
    """N_s = N_0 exp(-h_sys / 9460) [TN101, Eq 4.3]; N_s = N_0 when h_sys == 0."""
    return np.where(h_sys_m == 0.0, n0_n_units, n0_n_units * np.exp(-h_sys_m / 9460.0))


def effective_curvature(n_s):
    """Curvature of the effective earth gamma_e [1/m] [TN101, Eq 4.4], reworked."""
    return GAMMA_A_PER_M * (1.0 - 0.04665 * np.exp(n_s / 179.3))


def ground_impedance(frequency_mhz, polarization, epsilon_r, sigma_s_per_m):
    """Complex surface transfer impedance Z_g [Algorithm, Eqn 2.5 / 2.6]."""
    ep_r = epsilon_r + 1j * (18000.0 * sigma_s_per_m / frequency_mhz)
    z_g = np.sqrt(ep_r - 1.0)
    return np.where(polarization == 1, z_g / ep_r, z_g)


def initialize_area(siting, gamma_e, delta_h_m, h_m):
    """Effective height, horizon distance and angle of one terminal in area mode.

    [Algorithm, Eqns 3.2-3.4].
    """
    b = np.where(siting == 1, 4.0, 9.0)
    b = np.where(h_m < 5.0, b * np.sin(0.1 * np.pi * h_m), b)
    h_e = np.where(
        siting == 0,
        h_m,
        h_m + (1.0 + b) * np.exp(-np.minimum(20.0, 2.0 * h_m / np.maximum(1e-3, delta_h_m))),
    )
    d_ls = np.sqrt(2.0 * h_e / gamma_e)
    d_hzn = d_ls * np.exp(-0.07 * np.sqrt(delta_h_m / np.maximum(h_e, 5.0)))
    theta_hzn = (0.65 * delta_h_m * (d_ls / d_hzn - 1.0) - 2.0 * h_e) / d_ls
    return h_e, d_hzn, theta_hzn


def free_space_loss_db(distance_m, frequency_mhz):
    """Free-space basic transmission loss as in NTIA ITM (constant 32.45 dB, MHz and km)."""
    return 32.45 + 20.0 * np.log10(frequency_mhz) + 20.0 * np.log10(distance_m / 1000.0)


# ----------------------------------------------------------------------------------------------
# Reference attenuation helpers
# ----------------------------------------------------------------------------------------------


def terrain_roughness(d_m, delta_h_m):
    """Delta_h(d) [ERL 79-ITS 67, Eqn 3], distance in metres."""
    return delta_h_m * (1.0 - 0.8 * np.exp(-d_m / 50e3))


def sigma_h(delta_h_m):
    """RMS terrain deviation within the first Fresnel zone [ERL 79-ITS 67, Eqn 3.6a]."""
    return 0.78 * delta_h_m * np.exp(-0.5 * delta_h_m**0.25)


def fresnel_integral(v2):
    """Knife-edge loss A(v, 0) from v^2 [TN101v2, Eqn III.24b/c]."""
    return np.where(
        v2 < 5.76, 6.02 + 9.11 * np.sqrt(v2) - 1.27 * v2, 12.953 + 10.0 * np.log10(v2)
    )


def knife_edge(d_m, f_mhz, a_e, theta_los, d_hzn0, d_hzn1):
    """Double knife-edge diffraction loss [TN101, Eqn I.1, I.7]."""
    theta_nlos = d_m / a_e - theta_los  # [Algorithm, Eqn 4.12]
    d_nlos = d_m - (d_hzn0 + d_hzn1)
    c = 0.0795775 * (f_mhz / 47.7) * theta_nlos**2
    v1 = c * d_hzn0 * d_nlos / (d_nlos + d_hzn0)
    v2 = c * d_hzn1 * d_nlos / (d_nlos + d_hzn1)
    return fresnel_integral(v1) + fresnel_integral(v2)


def height_function(x_km, k):
    """Height-gain function F(x, K) of the Vogler smooth-earth method [Algorithm, 4.17]."""
    w = -np.log(k)
    low = np.where(
        (k < 1e-5) | (x_km * w**3 > 5495.0),
        np.where(x_km > 1.0, 17.372 * np.log(x_km) - 117.0, -117.0),
        2.5e-5 * x_km**2 / k - 8.686 * w - 15.0,
    )
    high = 0.05751 * x_km - 4.343 * np.log(x_km)
    w2 = 0.0134 * x_km * np.exp(-0.005 * x_km)
    high = np.where(x_km < 2000.0, (1.0 - w2) * high + w2 * (17.372 * np.log(x_km) - 117.0), high)
    return np.where(x_km < 200.0, low, high)


def smooth_earth(d_m, f_mhz, a_e, theta_los, d_hzn0, d_hzn1, h_e0, h_e1, abs_z_g):
    """Smooth-earth diffraction loss, Vogler three-radii method [Algorithm, Eqn 4.20]."""
    theta_nlos = d_m / a_e - theta_los
    d_ml = d_hzn0 + d_hzn1
    a0 = (d_m - d_ml) / (d_m / a_e - theta_los)
    a1 = 0.5 * d_hzn0**2 / h_e0
    a2 = 0.5 * d_hzn1**2 / h_e1
    f_third = f_mhz**THIRD
    f_mthird = f_mhz ** (-THIRD)

    def radius_terms(a):
        c0 = ((4.0 / 3.0) * A_0_M / a) ** THIRD  # [Vogler 1964, Eqn 2]
        k = 0.017778 * c0 * f_mthird / abs_z_g  # [Vogler 1964, Eqn 6a/7a]
        b0 = 1.607 - k  # [Vogler 1964, Fig 4]
        return c0, k, b0

    c0_0, _, b0_0 = radius_terms(a0)
    c0_1, k1, b0_1 = radius_terms(a1)
    c0_2, k2, b0_2 = radius_terms(a2)
    x1 = b0_1 * c0_1**2 * f_third * (d_hzn0 / 1000.0)
    x2 = b0_2 * c0_2**2 * f_third * (d_hzn1 / 1000.0)
    x0 = b0_0 * c0_0**2 * f_third * ((a0 * theta_nlos) / 1000.0) + x1 + x2
    g_x = 0.05751 * x0 - 10.0 * np.log10(x0)  # [TN101, Eqn 8.4]
    return g_x - height_function(x1, k1) - height_function(x2, k2) - 20.0


def diffraction_loss(d_m, d_hzn0, d_hzn1, h_e0, h_e1, abs_z_g, a_e, delta_h_m, h0, h1,
                     p2p, theta_los, d_sml, f_mhz):
    """Diffraction loss: weighted knife-edge / smooth-earth plus clutter [ERL 79-ITS 67, 3.23]."""
    a_k = knife_edge(d_m, f_mhz, a_e, theta_los, d_hzn0, d_hzn1)
    a_se = smooth_earth(d_m, f_mhz, a_e, theta_los, d_hzn0, d_hzn1, h_e0, h_e1, abs_z_g)
    sig = sigma_h(terrain_roughness(d_sml, delta_h_m))
    a_fo = np.minimum(15.0, 5.0 * np.log10(1.0 + 1e-5 * h0 * h1 * f_mhz * sig))  # [3.38c]
    dh_d = terrain_roughness(d_m, delta_h_m)
    q = h0 * h1
    qk = h_e0 * h_e1 - q
    if p2p:
        q = q + 10.0  # C ~= 10 for low antennas with known path [ERL 79-ITS 67, p 3-8]
    term1 = np.sqrt(1.0 + qk / q)
    d_ml = d_hzn0 + d_hzn1
    q = (term1 + (-theta_los * a_e + d_ml) / d_m) * np.minimum(dh_d * f_mhz / 47.7, 6283.2)
    w = 25.1 / (25.1 + np.sqrt(q))
    return w * a_se + (1.0 - w) * a_k + a_fo


def line_of_sight_loss(d_m, h_e0, h_e1, z_g, delta_h_m, m_d, a_d0, d_sml, f_mhz):
    """Two-ray / extended-diffraction loss in the LOS region [Algorithm, Eqns 4.46-4.50]."""
    sig = sigma_h(terrain_roughness(d_m, delta_h_m))
    wn = f_mhz / 47.7
    hh = h_e0 + h_e1
    sin_psi = hh / np.sqrt(d_m**2 + hh**2)
    r_e = (sin_psi - z_g) / (sin_psi + z_g) * np.exp(-np.minimum(10.0, wn * sig * sin_psi))
    q = r_e.real**2 + r_e.imag**2
    r_e = np.where((q < 0.25) | (q < sin_psi), r_e * np.sqrt(sin_psi / q), r_e)
    delta_phi = wn * 2.0 * h_e0 * h_e1 / d_m
    delta_phi = np.where(delta_phi > np.pi / 2.0, np.pi - (np.pi / 2.0) ** 2 / delta_phi, delta_phi)
    rr_re = np.cos(delta_phi) + r_e.real
    rr_im = -np.sin(delta_phi) + r_e.imag
    a_t = -10.0 * np.log10(rr_re**2 + rr_im**2)
    a_d = m_d * d_m + a_d0
    w = 1.0 / (1.0 + f_mhz * delta_h_m / np.maximum(10e3, d_sml))
    return w * a_t + (1.0 - w) * a_d


_H0_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0, 705.0])
_H0_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0, 105.0])


def _h0_curve(j, r):
    return 10.0 * np.log10(1.0 + _H0_A[j] * (1.0 / r) ** 4 + _H0_B[j] * (1.0 / r) ** 2)


def h0_function(r, eta_s):
    """Troposcatter frequency-gain function H_0 [TN101v1 Ch 9.2; Algorithm 6.13]."""
    # MIN(MAX(eta_s, 1), 5) with the C macro semantics (a NaN maps to 1, never to an index)
    eta_s = np.where(eta_s > 1.0, eta_s, 1.0)
    eta_s = np.where(eta_s < 5.0, eta_s, 5.0)
    i = eta_s.astype(np.int64)
    q = eta_s - i
    res = _h0_curve(i - 1, r)
    return np.where(q != 0.0, (1.0 - q) * res + q * _h0_curve(i, r), res)


def _f_function(td):
    """Attenuation function F(theta d) [Algorithm, 6.9]."""
    i = np.where(td <= 10e3, 0, np.where(td <= 70e3, 1, 2))
    a = np.array([133.4, 104.6, 71.8])[i]
    b = np.array([0.332e-3, 0.212e-3, 0.157e-3])[i]
    c = np.array([-10.0, -2.5, 5.0])[i]
    return a + b * td + c * np.log10(td)


def tropo_h0(d_m, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, a_e, n_s, f_mhz):
    """H_0 of the troposcatter loss at distance d [TN101 Eqn 9.5]; also the r < 0.2 flag."""
    wn = f_mhz / 47.7
    ad = d_hzn0 - d_hzn1
    rr = h_e1 / h_e0
    neg = ad < 0.0
    ad = np.where(neg, -ad, ad)
    rr = np.where(neg, 1.0 / rr, rr)
    theta = theta0 + theta1 + d_m / a_e
    r1 = 2.0 * wn * theta * h_e0  # [TN101, Eqn 9.4a]
    r2 = 2.0 * wn * theta * h_e1
    undefined = (r1 < 0.2) & (r2 < 0.2)
    s = (d_m - ad) / (d_m + ad)
    q = np.minimum(np.maximum(0.1, rr / s), 10.0)
    s = np.maximum(0.1, s)
    h_0 = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m  # [Algorithm, 4.66]
    eta_s = (h_0 / 1.7556e3) * (
        1.0
        + (0.031 - n_s * 2.32e-3 + n_s**2 * 5.67e-6)
        * np.exp(-(np.minimum(1.7, h_0 / 8.0e3) ** 6))
    )  # [TN101 Eqn 9.3a]
    h_00 = (h0_function(r1, eta_s) + h0_function(r2, eta_s)) / 2.0
    delta_h0 = np.minimum(
        h_00, 6.0 * (0.6 - np.log10(np.maximum(eta_s, 1.0))) * np.log10(s) * np.log10(q)
    )
    h0v = np.maximum(h_00 + delta_h0, 0.0)
    special = 10.0 * np.log10(
        ((1.0 + SQRT2 / r1) * (1.0 + SQRT2 / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2.0 * SQRT2)
    )
    h0v = np.where(eta_s < 1.0, eta_s * h0v + (1.0 - eta_s) * special, h0v)
    return h0v, undefined


def tropo_loss(d_m, h0v, a_e, theta_los, n_s, f_mhz):
    """Troposcatter loss given H_0 [Algorithm, 4.63]."""
    wn = f_mhz / 47.7
    th = d_m / a_e - theta_los
    return (
        _f_function(th * d_m)
        + 10.0 * np.log10(wn * 47.7 * th**4)
        - 0.1 * (n_s - 301.0) * np.exp(-th * d_m / 40e3)
        + h0v
    )


# ----------------------------------------------------------------------------------------------
# Longley-Rice reference attenuation
# ----------------------------------------------------------------------------------------------


def longley_rice(theta0, theta1, f_mhz, z_g, d_hzn0, d_hzn1, h_e0, h_e1, gamma_e, n_s,
                 delta_h_m, h0, h1, d_m, p2p):
    """Reference attenuation A_ref [dB], propagation mode and warning flags.

    Follows [Algorithm, sections 4.1-4.4] and [ERL 79-ITS 67, Eqns 3.16-3.21] as arranged in
    NTIA/itm ``LongleyRice.cpp``.  Returns ``(a_ref_db, mode, warnings, error_code)`` where
    ``error_code`` is 0, or 1 (N_s out of [150, 400]), 2 (effective earth radius out of
    range), 3 (ground impedance invalid).
    """
    a_e = 1.0 / gamma_e
    d_hzn_s0 = np.sqrt(2.0 * h_e0 * a_e)
    d_hzn_s1 = np.sqrt(2.0 * h_e1 * a_e)
    d_sml = d_hzn_s0 + d_hzn_s1
    d_ml = d_hzn0 + d_hzn1
    theta_los = -np.maximum(theta0 + theta1, -d_ml / a_e)

    warn = (
        _flag(np.abs(theta0) > 200e-3, WARN_TX_HORIZON_ANGLE)
        | _flag(np.abs(theta1) > 200e-3, WARN_RX_HORIZON_ANGLE)
        | _flag(d_hzn0 < 0.1 * d_hzn_s0, WARN_TX_HORIZON_DISTANCE_1)
        | _flag(d_hzn1 < 0.1 * d_hzn_s1, WARN_RX_HORIZON_DISTANCE_1)
        | _flag(d_hzn0 > 3.0 * d_hzn_s0, WARN_TX_HORIZON_DISTANCE_2)
        | _flag(d_hzn1 > 3.0 * d_hzn_s1, WARN_RX_HORIZON_DISTANCE_2)
        | _flag(n_s < 250.0, WARN_SURFACE_REFRACTIVITY)
    )
    err = np.where(
        (n_s < 150.0) | (n_s > 400.0),
        1,
        np.where(
            (a_e < 4000000.0) | (a_e > 13333333.0),
            2,
            np.where(z_g.real <= np.abs(z_g.imag), 3, 0),
        ),
    )

    abs_z_g = np.abs(z_g)
    c = (a_e**2 / f_mhz) ** THIRD
    d3 = np.maximum(d_sml, d_ml + 5.0 * c)
    d4 = d3 + 10.0 * c
    # both distances in one call: the terms that do not depend on the distance (the
    # terminal radii and height-gain functions, sigma_h, A_fo) broadcast, computed once
    a3, a4 = diffraction_loss(np.stack(np.broadcast_arrays(d3, d4)), d_hzn0, d_hzn1, h_e0,
                              h_e1, abs_z_g, a_e, delta_h_m, h0, h1, p2p, theta_los, d_sml,
                              f_mhz)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3

    d_min = np.abs(h_e0 - h_e1) / 200e-3
    warn = (
        warn
        | _flag(d_m < d_min, WARN_PATH_DISTANCE_TOO_SMALL_1)
        | _flag(d_m < 1e3, WARN_PATH_DISTANCE_TOO_SMALL_2)
        | _flag(d_m > 1000e3, WARN_PATH_DISTANCE_TOO_BIG_1)
        | _flag(d_m > 2000e3, WARN_PATH_DISTANCE_TOO_BIG_2)
    )

    # Each path needs only its own region's terms (as NTIA/itm ``LongleyRice`` evaluates
    # them under ``if``): they are computed on the rows of that region.
    region_args = dict(d_m=d_m, theta0=theta0, theta1=theta1, d_hzn0=d_hzn0, d_hzn1=d_hzn1,
                       h_e0=h_e0, h_e1=h_e1, a_e=a_e, n_s=n_s, f_mhz=f_mhz, z_g=z_g,
                       delta_h_m=delta_h_m, theta_los=theta_los, c=c, m_d=m_d, a_d0=a_d0,
                       d_sml=d_sml, d_ml=d_ml)
    shape = np.broadcast_shapes(*(np.shape(v) for v in region_args.values()))
    flat = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in region_args.items()}
    a_ref = np.empty(flat["d_m"].size)
    mode = np.empty(a_ref.size, np.int64)
    los = flat["d_m"] < flat["d_sml"]
    for in_region, fn in ((los, _line_of_sight_region), (~los, _trans_horizon_region)):
        rows = np.nonzero(in_region)[0]
        if rows.size:
            a_ref[rows], mode[rows] = fn(**{k: v[rows] for k, v in flat.items()})
    a_ref = a_ref.reshape(shape)
    mode = mode.reshape(shape)
    a_ref = np.maximum(a_ref, 0.0)
    return a_ref, mode, warn, err


def _line_of_sight_region(*, d_m, h_e0, h_e1, z_g, delta_h_m, m_d, a_d0, d_sml, d_ml, f_mhz,
                          **_):
    """A_ref and mode of paths shorter than the smooth-earth horizon distance d_sML
    [ERL 79-ITS 67, Eqns 3.16-3.21]."""
    a_sml = d_sml * m_d + a_d0
    d_0 = 0.04 * f_mhz * h_e0 * h_e1  # [ERL 79-ITS 67, Eqn 3.16a]
    pos = a_d0 >= 0.0
    d_0 = np.where(pos, np.minimum(d_0, 0.5 * d_ml), d_0)
    d_1 = np.where(pos, d_0 + 0.25 * (d_ml - d_0), np.maximum(-a_d0 / m_d, 0.25 * d_ml))
    # both distances in one broadcast call (same values as two calls)
    a_1, a_0 = line_of_sight_loss(np.stack(np.broadcast_arrays(d_1, d_0)), h_e0, h_e1, z_g,
                                  delta_h_m, m_d, a_d0, d_sml, f_mhz)
    has0 = d_0 < d_1
    q = np.log(d_sml / d_0)
    k2 = np.maximum(
        0.0,
        ((d_sml - d_0) * (a_1 - a_0) - (d_1 - d_0) * (a_sml - a_0))
        / ((d_sml - d_0) * np.log(d_1 / d_0) - (d_1 - d_0) * q),
    )  # [ERL 79-ITS 67, Eqn 3.20]
    flag = has0 & ((a_d0 > 0.0) | (k2 > 0.0))
    k1 = (a_sml - a_0 - k2 * q) / (d_sml - d_0)  # [ERL 79-ITS 67, Eqn 3.21]
    neg_k1 = k1 < 0.0
    k2_alt = _dim(a_sml, a_0) / q
    k1_f = np.where(neg_k1, np.where(k2_alt == 0.0, m_d, 0.0), k1)
    k2_f = np.where(neg_k1, k2_alt, k2)
    k1_nf = _dim(a_sml, a_1) / (d_sml - d_1)
    k1_nf = np.where(k1_nf == 0.0, m_d, k1_nf)
    k1 = np.where(flag, k1_f, k1_nf)
    k2 = np.where(flag, k2_f, 0.0)
    a_o = a_sml - k1 * d_sml - k2 * np.log(d_sml)
    a_los = a_o + k1 * d_m + k2 * np.log(d_m)  # [ERL 79-ITS 67, Eqn 3.19]
    return a_los, MODE_LINE_OF_SIGHT


def _trans_horizon_region(*, d_m, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1, a_e, n_s, f_mhz,
                          theta_los, c, m_d, a_d0, d_sml, d_ml, **_):
    """A_ref and mode of paths beyond d_sML: diffraction, or troposcatter beyond d_x
    [Algorithm, section 4.3]."""
    d5 = d_ml + 200e3
    d6 = d_ml + 400e3
    # d6 and d5 in one broadcast call each (same values as separate calls)
    d65 = np.stack(np.broadcast_arrays(d6, d5))
    (h6, h5), (undef6, undef5) = tropo_h0(d65, theta0, theta1, d_hzn0, d_hzn1, h_e0, h_e1,
                                          a_e, n_s, f_mhz)
    # "If, at d_5, H_0 exceeds 15 dB, it is replaced by its value at d_6" [Algorithm, p 12]
    valid6 = ~undef6
    short = valid6 & (h6 > 15.0)
    h5 = np.where(short | (valid6 & (h5 > 15.0)), h6, h5)
    t6, t5 = tropo_loss(d65, np.stack([h6, h5]), a_e, theta_los, n_s, f_mhz)
    a6 = np.where(undef6, 1001.0, t6)
    a5 = np.where(~short & undef5, 1001.0, t5)
    ok = a5 < 1000.0
    m_s = np.where(ok, (a6 - a5) / 200e3, m_d)
    d_x = np.maximum(
        np.maximum(d_sml, d_ml + 1.088 * c * np.log(f_mhz)),
        (a5 - a_d0 - m_s * d5) / (m_d - m_s),
    )
    d_x = np.where(ok, d_x, 10e6)
    a_s0 = np.where(ok, (m_d - m_s) * d_x + a_d0, a_d0)
    tropo = d_m > d_x
    a_th = np.where(tropo, m_s * d_m + a_s0, m_d * d_m + a_d0)
    return a_th, np.where(tropo, MODE_TROPOSCATTER, MODE_DIFFRACTION)


# ----------------------------------------------------------------------------------------------
# Variability
# ----------------------------------------------------------------------------------------------

_ALL_YEAR = np.array([
    [-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15],
    [12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9],
    [144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3],
    [190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3],
    [133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3],
])
_BSM = np.array([
    [2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51],
    [159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8],
    [762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3],
    [123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3],
    [94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3],
])
_BSP = np.array([
    [2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43],
    [102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19],
    [636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3],
    [134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3],
    [95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3],
])
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])  # [Algorithm, Table 5.1]
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
_BFM = np.array([[1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0],
                 [0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0],
                 [0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0]])
_BFP = np.array([[1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0],
                 [0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0],
                 [0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0]])


def inverse_ccdf(q):
    """Inverse complementary normal CDF, Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4)."""
    x = np.where(q > 0.5, 1.0 - q, q)
    t = np.sqrt(-2.0 * np.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    z = t - zeta
    return np.where(q > 0.5, -z, z)


def _curve(c, d_e):
    """TN101v2 Eqn III.69 & III.70 curve fit; ``c`` is a (5, n) array of coefficients."""
    c1, c2, x1, x2, x3 = c
    return (c1 + c2 / (1.0 + ((d_e - x2) / x3) ** 2)) * (d_e / x1) ** 2 / (1.0 + (d_e / x1) ** 2)


def variability(time_pct, location_pct, situation_pct, h_e0, h_e1, delta_h_m, f_mhz, d_m,
                a_ref_db, climate, mdvar):
    """Reference attenuation plus variability [Algorithm, section 5, Eqns 5.1-5.11, 52].

    Returns ``(loss_db, warnings)``; ``loss_db`` excludes free space.
    """
    z_t = inverse_ccdf(time_pct / 100.0)
    z_l = inverse_ccdf(location_pct / 100.0)
    z_s = inverse_ccdf(situation_pct / 100.0)
    ci = climate - 1
    wn = f_mhz / 47.7
    d_ex = (np.sqrt(2 * A_9000_M * h_e0) + np.sqrt(2 * A_9000_M * h_e1)
            + (575.7e12 / wn) ** THIRD)  # [Algorithm, Eqn 5.3]
    d_e = np.where(d_m < d_ex, 130e3 * d_m / d_ex, 130e3 + d_m - d_ex)

    plus20 = mdvar >= 20
    md = np.where(plus20, mdvar - 20, mdvar)
    sigma_s = np.where(plus20, 0.0, 5.0 + 3.0 * np.exp(-d_e / 100e3))  # [Algorithm, Eqn 5.10]
    plus10 = md >= 10
    md = np.where(plus10, md - 10, md)

    v_med = _curve(_ALL_YEAR[:, ci], d_e)

    z_t = np.where(md == 0, z_s, z_t)
    z_l = np.where((md == 0) | (md == 1), z_s, np.where(md == 2, z_t, z_l))
    warn = _flag((np.abs(z_t) > 3.10) | (np.abs(z_l) > 3.10) | (np.abs(z_s) > 3.10),
                 WARN_EXTREME_VARIABILITIES)

    dh_d = terrain_roughness(d_m, delta_h_m)
    sigma_l = np.where(plus10, 0.0, 10.0 * wn * dh_d / (wn * dh_d + 13.0))
    y_l = sigma_l * z_l

    q = np.log(0.133 * wn)
    g_minus = _BFM[0, ci] + _BFM[1, ci] / ((_BFM[2, ci] * q) ** 2 + 1.0)
    g_plus = _BFP[0, ci] + _BFP[1, ci] / ((_BFP[2, ci] * q) ** 2 + 1.0)
    sigma_t_minus = _curve(_BSM[:, ci], d_e) * g_minus
    sigma_t_plus = _curve(_BSP[:, ci], d_e) * g_plus
    sigma_td = _C_D[ci] * sigma_t_plus
    z_d = _Z_D[ci]
    tgtd = (sigma_t_plus - sigma_td) * z_d
    sigma_t = np.where(z_t < 0.0, sigma_t_minus,
                       np.where(z_t <= z_d, sigma_t_plus, sigma_td + tgtd / z_t))
    y_t = sigma_t * z_t

    y_s_temp = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)  # [Eqn 5.11]
    y_r = np.select(
        [md == 0, md == 1, md == 2],
        [0.0, y_t, np.sqrt(sigma_t**2 + sigma_l**2) * z_t],
        y_t + y_l,
    )
    y_s = np.select(
        [md == 0, md == 1],
        [np.sqrt(sigma_t**2 + sigma_l**2 + y_s_temp) * z_s, np.sqrt(sigma_l**2 + y_s_temp) * z_s],
        np.sqrt(y_s_temp) * z_s,
    )
    result = a_ref_db - v_med - y_r - y_s
    result = np.where(result < 0.0, result * (29.0 - result) / (29.0 - 10.0 * result), result)
    return result, warn
