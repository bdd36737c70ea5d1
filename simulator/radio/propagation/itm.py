"""NTIA Irregular Terrain Model (ITM, Longley-Rice), vectorised over paths.

Implements ITM version 1.2.2 as coded in the official NTIA/itm C++ library
(https://github.com/NTIA/itm): area-prediction mode and point-to-point mode with
time/location/situation (TLS) or confidence/reliability (CR) variability.  Everything is
evaluated with numpy array operations over many paths at once (no Python loop per path).

References
----------
.. [1] G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: The Algorithm",
   NTIA/ITS, 1995 (cited as [Algorithm]).
.. [2] G. A. Hufford, A. G. Longley, W. A. Kissick, "A guide to the use of the ITS Irregular
   Terrain Model in the area prediction mode", NTIA Report 82-100, 1982.
.. [3] A. G. Longley and P. L. Rice, "Prediction of tropospheric radio transmission loss over
   irregular terrain. A computer method - 1968", ESSA Tech. Rep. ERL 79-ITS 67, 1968.
.. [4] P. L. Rice, A. G. Longley, K. A. Norton, A. P. Barsis, "Transmission loss predictions
   for tropospheric communication circuits", NBS Technical Note 101, 1967 (cited as [TN101]).
.. [5] NTIA/itm C++ reference implementation, v1.3/v1.4 (ITM 1.2.2 algorithm).

Point-to-point mode processes many terrain profiles per call (2-D, NaN-padded) with a bounded
cost per path; see :func:`itm_p2p_loss_db`.  Helpers: ``_itm_core`` (element-wise Longley-Rice
reference attenuation and variability) and ``_itm_terrain`` (profile analysis).

Valid input ranges are those at which the NTIA library returns an error code; outside them
the functions here raise ``ValueError``.  Inside them, values the NTIA library only flags with a
warning (e.g. frequency outside 40-10000 MHz, heights outside 1-1000 m, distance outside
1-2000 km) are computed and the warning bits are reported with ``return_intermediate=True``.
"""

from __future__ import annotations

import numpy as np

from ..._checks import check_range
from . import _itm_core as core
from ._itm_rays import ray_prefix_parameters
from ._itm_terrain import Workspace, profile_parameters

__all__ = [
    "itm_area_loss_db",
    "itm_area_cr_loss_db",
    "itm_p2p_loss_db",
    "itm_p2p_cr_loss_db",
    "itm_p2p_rays_loss_db",
    "MODE_LINE_OF_SIGHT",
    "MODE_DIFFRACTION",
    "MODE_TROPOSCATTER",
]

MODE_LINE_OF_SIGHT = core.MODE_LINE_OF_SIGHT
MODE_DIFFRACTION = core.MODE_DIFFRACTION
MODE_TROPOSCATTER = core.MODE_TROPOSCATTER

_VALID_MDVAR = (0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33)

# Paths per block of the terrain stage (bounds memory: a few arrays of block x points) and
# of the element-wise stage.
_TERRAIN_BLOCK_POINTS = 128_000
_CORE_BLOCK = 16_384


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def _first_bad(value, bad):
    v = np.asarray(value)
    if v.ndim == 0:
        return v.item()
    return v[bad][0].item() if np.any(bad) else None


def _check_range(name, value, lo, hi, *, lo_open=False, hi_open=False, unit=""):
    """The package's one range check (:func:`simulator._checks.check_range`); NaN and
    infinities are refused (no ITM input is meaningful there)."""
    check_range(name, value, lo, None if hi == np.inf else hi, unit.strip(), lo_open=lo_open,
                hi_open=hi_open, finite=True)


def _check_choice(name, value, choices):
    v = np.asarray(value)
    bad = ~np.isin(v, np.asarray(choices))
    if np.any(bad):
        raise ValueError(f"{name}={_first_bad(v, bad)!r} not an allowed value {tuple(choices)}")
    return v.astype(np.int64)


def _check_common(h_tx_m, h_rx_m, frequency_mhz, climate, n0_n_units, polarization, epsilon_r,
                  sigma_s_per_m, mdvar, time_pct, location_pct, situation_pct,
                  pct_names=("time_pct", "location_pct", "situation_pct")):
    """ITM input validation (NTIA/itm ``ValidateInputs``)."""
    _check_range("h_tx_m", h_tx_m, 0.5, 3000.0, unit=" m")
    _check_range("h_rx_m", h_rx_m, 0.5, 3000.0, unit=" m")
    climate = _check_choice("climate", climate, (1, 2, 3, 4, 5, 6, 7))
    _check_range("n0_n_units", n0_n_units, 250.0, 400.0, unit=" N-units")
    _check_range("frequency_mhz", frequency_mhz, 20.0, 20000.0, unit=" MHz")
    polarization = _check_choice("polarization", polarization, (0, 1))
    _check_range("epsilon_r", epsilon_r, 1.0, np.inf)
    _check_range("sigma_s_per_m", sigma_s_per_m, 0.0, np.inf, lo_open=True, unit=" S/m")
    mdvar = _check_choice("mdvar", mdvar, _VALID_MDVAR)
    for name, val in zip(pct_names, (time_pct, location_pct, situation_pct)):
        if name is not None:
            _check_range(name, val, 0.0, 100.0, lo_open=True, hi_open=True, unit=" %")
    return climate, polarization, mdvar


def _input_warnings(h0, h1, f):
    return (
        core._flag((h0 < 1.0) | (h0 > 1000.0), core.WARN_TX_TERMINAL_HEIGHT)
        | core._flag((h1 < 1.0) | (h1 > 1000.0), core.WARN_RX_TERMINAL_HEIGHT)
        | core._flag((f < 40.0) | (f > 10000.0), core.WARN_FREQUENCY)
    )


def _raise_core_error(err):
    """Errors the NTIA code detects inside ``LongleyRice`` (derived quantities)."""
    if np.any(err == 3):
        raise ValueError(
            "epsilon_r/sigma_s_per_m give a ground impedance with Re(Z_g) <= |Im(Z_g)|, "
            "outside the ITM valid range (NTIA ERROR__GROUND_IMPEDANCE)"
        )
    if np.any(err == 1):
        raise ValueError("surface refractivity N_s outside allowed range [150, 400] N-units "
                         "(from n0_n_units and the profile's system elevation)")
    if np.any(err == 2):
        raise ValueError("effective earth radius outside allowed range [4000, 13333.333] km")


# ----------------------------------------------------------------------------------------------
# Element-wise stage shared by both modes
# ----------------------------------------------------------------------------------------------


def _reference_and_variability(p, f, pol, eps, sig, climate, mdvar, t, loc, sit, h0, h1, p2p):
    """Longley-Rice reference attenuation + variability for 1-D arrays (one block)."""
    z_g = core.ground_impedance(f, pol, eps, sig)
    a_ref, mode, warn, err = core.longley_rice(
        p["theta0"], p["theta1"], f, z_g, p["d_hzn0"], p["d_hzn1"], p["h_e0"], p["h_e1"],
        p["gamma_e"], p["n_s"], p["delta_h"], h0, h1, p["d"], p2p,
    )
    var_db, warn_v = core.variability(t, loc, sit, p["h_e0"], p["h_e1"], p["delta_h"], f,
                                      p["d"], a_ref, climate, mdvar)
    a_fs = core.free_space_loss_db(p["d"], f)
    return a_fs + var_db, a_ref, a_fs, mode, warn | warn_v, err


# ----------------------------------------------------------------------------------------------
# Area mode
# ----------------------------------------------------------------------------------------------


def itm_area_loss_db(distance_m, frequency_mhz, h_tx_m, h_rx_m, delta_h_m, *, climate=5,
                     n0_n_units=301.0, polarization=1, epsilon_r=15.0, sigma_s_per_m=0.005,
                     mdvar=1, tx_siting=0, rx_siting=0, time_pct=50.0, location_pct=50.0,
                     situation_pct=50.0, return_intermediate=False):
    """Basic transmission loss of the ITM in area-prediction mode.

    ITM 1.2.2 [Algorithm, sections 3-5]; [2]; as NTIA/itm ``ITM_AREA_TLS``.  The result is
    free-space loss (NTIA constant 32.45 dB) + Longley-Rice reference attenuation
    + variability at the requested time/location/situation quantiles.  All array arguments
    (including the keyword options) broadcast against each other.

    Parameters
    ----------
    distance_m : array_like
        Great-circle path distance, > 0.  The model is intended for 1-2000 km; outside that
        a warning bit is set but a value is returned. [m]
    frequency_mhz : array_like
        Carrier frequency, 20-20000 (warning outside 40-10000). [MHz]
    h_tx_m, h_rx_m : array_like
        Structural antenna heights above ground, 0.5-3000 (warning outside 1-1000). [m]
    delta_h_m : array_like
        Terrain irregularity parameter Delta_h, >= 0 [Algorithm, Eqn 3.1]. [m]
    climate : int or array_like of int, optional
        Radio climate 1 equatorial, 2 continental subtropical, 3 maritime subtropical,
        4 desert, 5 continental temperate, 6 maritime temperate over land, 7 maritime
        temperate over sea. [-]
    n0_n_units : array_like, optional
        Refractivity N_0, 250-400; in area mode N_s = N_0. [N-units]
    polarization : int, optional
        0 horizontal, 1 vertical. [-]
    epsilon_r : array_like, optional
        Relative permittivity of the ground, >= 1. [-]
    sigma_s_per_m : array_like, optional
        Ground conductivity, > 0. [S/m]
    mdvar : int, optional
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast;
        +10 eliminates location variability, +20 direct situation variability. [-]
    tx_siting, rx_siting : int, optional
        Siting criteria 0 random, 1 careful, 2 very careful [Algorithm, Eqn 3.2]. [-]
    time_pct, location_pct, situation_pct : array_like, optional
        Variability quantiles, each in the open interval (0, 100). [%]
    return_intermediate : bool, optional
        Also return a dict of intermediate arrays (as for :func:`itm_p2p_loss_db`).

    Returns
    -------
    A_db : ndarray or float
        Basic transmission loss, shape of the broadcast inputs. [dB]

    Raises
    ------
    ValueError
        If any input is outside its valid range (one-line message naming the parameter,
        the offending value and the allowed range).  Nothing is clamped.
    """
    climate, polarization, mdvar = _check_common(
        h_tx_m, h_rx_m, frequency_mhz, climate, n0_n_units, polarization, epsilon_r,
        sigma_s_per_m, mdvar, time_pct, location_pct, situation_pct)
    _check_range("distance_m", distance_m, 0.0, np.inf, lo_open=True, unit=" m")
    _check_range("delta_h_m", delta_h_m, 0.0, np.inf, unit=" m")
    tx_siting = _check_choice("tx_siting", tx_siting, (0, 1, 2))
    rx_siting = _check_choice("rx_siting", rx_siting, (0, 1, 2))

    arrs = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (
            distance_m, frequency_mhz, h_tx_m, h_rx_m, delta_h_m, n0_n_units, epsilon_r,
            sigma_s_per_m, time_pct, location_pct, situation_pct)),
        climate, polarization, mdvar, tx_siting, rx_siting)
    shape = arrs[0].shape
    (d, f, h0, h1, dh, n0, eps, sig, t, loc, sit,
     clim, pol, md, sit_tx, sit_rx) = (a.reshape(-1) for a in arrs)

    n = d.size
    a_db = np.empty(n)
    a_ref = np.empty(n)
    a_fs = np.empty(n)
    mode = np.empty(n, dtype=np.int64)
    warn = np.empty(n, dtype=np.int64)
    keys = ("d_hzn0", "d_hzn1", "h_e0", "h_e1", "theta0", "theta1")
    geo = {k: np.empty(n) for k in keys}
    with np.errstate(all="ignore"):
        for s in range(0, n, _CORE_BLOCK):  # blocks keep the temporaries small
            sl = slice(s, min(n, s + _CORE_BLOCK))
            n_s = n0[sl]  # system elevation 0 in area mode: N_s = N_0
            gamma_e = core.effective_curvature(n_s)
            h_e0, d_hzn0, theta0 = core.initialize_area(sit_tx[sl], gamma_e, dh[sl], h0[sl])
            h_e1, d_hzn1, theta1 = core.initialize_area(sit_rx[sl], gamma_e, dh[sl], h1[sl])
            p = dict(d=d[sl], n_s=n_s, gamma_e=gamma_e, theta0=theta0, theta1=theta1,
                     d_hzn0=d_hzn0, d_hzn1=d_hzn1, h_e0=h_e0, h_e1=h_e1, delta_h=dh[sl])
            for k in keys:
                geo[k][sl] = p[k]
            a_db[sl], a_ref[sl], a_fs[sl], mode[sl], warn[sl], err = _reference_and_variability(
                p, f[sl], pol[sl], eps[sl], sig[sl], clim[sl], md[sl], t[sl], loc[sl], sit[sl],
                h0[sl], h1[sl], p2p=False)
            _raise_core_error(err)
    a_db = a_db.reshape(shape)[()]
    if not return_intermediate:
        return a_db
    inter = _intermediate(dict(geo, delta_h=dh, n_s=n0, d=d), a_ref, a_fs, mode,
                          warn | _input_warnings(h0, h1, f))
    return a_db, {k: v.reshape(shape)[()] for k, v in inter.items()}


def itm_area_cr_loss_db(distance_m, frequency_mhz, h_tx_m, h_rx_m, delta_h_m, *,
                        confidence_pct=50.0, reliability_pct=50.0, **kwargs):
    """ITM area mode with confidence/reliability variability (NTIA ``ITM_AREA_CR``).

    Thin wrapper: ``itm_area_loss_db(..., time_pct=reliability_pct, location_pct=50,
    situation_pct=confidence_pct)``, the convention of NTIA/itm ``itm_area.cpp``.

    Parameters
    ----------
    confidence_pct, reliability_pct : array_like
        Confidence and reliability, each in (0, 100). [%]
    **kwargs
        Other keyword options of :func:`itm_area_loss_db`.
    """
    _check_range("confidence_pct", confidence_pct, 0.0, 100.0, lo_open=True, hi_open=True,
                 unit=" %")
    _check_range("reliability_pct", reliability_pct, 0.0, 100.0, lo_open=True, hi_open=True,
                 unit=" %")
    return itm_area_loss_db(distance_m, frequency_mhz, h_tx_m, h_rx_m, delta_h_m,
                            time_pct=reliability_pct, location_pct=50.0,
                            situation_pct=confidence_pct, **kwargs)


# ----------------------------------------------------------------------------------------------
# Point-to-point mode
# ----------------------------------------------------------------------------------------------


def _valid_points(z_all, n_points):
    """Number of valid points per row, checked block by block (bounded memory)."""
    n_paths, width = z_all.shape
    if n_points is not None:
        n_pts_f = np.broadcast_to(np.asarray(n_points), (n_paths,))
        _check_range("n_points", n_pts_f, 2, width, unit=f" (elevations_m has {width} columns)")
        n_pts = n_pts_f.astype(np.int64)
        if np.any(n_pts != n_pts_f):
            raise ValueError(f"n_points={_first_bad(n_pts_f, n_pts != n_pts_f)!r} must be an "
                             "integer in [2, n_max_points]")
    else:
        n_pts = np.empty(n_paths, dtype=np.int64)
    cols = np.arange(width)
    block = max(1, _TERRAIN_BLOCK_POINTS // max(width, 1))
    for s in range(0, n_paths, block):
        e = min(n_paths, s + block)
        finite = np.isfinite(z_all[s:e])
        if n_points is None:
            # valid points = the leading finite values of each row
            n_pts[s:e] = np.where(finite.all(axis=1), width, finite.argmin(axis=1))
        else:
            bad = ~finite & (cols[None, :] < n_pts[s:e, None])
            if np.any(bad):
                row = s + int(np.nonzero(bad.any(axis=1))[0][0])
                raise ValueError(f"elevations_m row {row} has NaN/inf among its "
                                 f"n_points={n_pts[row]} valid points (allowed: finite values)")
    if np.any(n_pts < 2):
        row = int(np.nonzero(n_pts < 2)[0][0])
        raise ValueError(f"elevations_m row {row} has {n_pts[row]} valid (leading finite) "
                         "points, allowed range [2, n_max_points]")
    return n_pts


def _intermediate(prof, a_ref, a_fs, mode, warnings):
    """The ``return_intermediate`` dict of the point-to-point functions."""
    return dict(
        d_hzn_tx_m=prof["d_hzn0"], d_hzn_rx_m=prof["d_hzn1"], h_e_tx_m=prof["h_e0"],
        h_e_rx_m=prof["h_e1"], theta_hzn_tx_rad=prof["theta0"], theta_hzn_rx_rad=prof["theta1"],
        delta_h_m=prof["delta_h"], n_s_n_units=prof["n_s"], distance_m=prof["d"],
        A_ref_db=a_ref, A_fs_db=a_fs, mode=mode, warnings=warnings)


def itm_p2p_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *, n_points=None,
                    climate=5, n0_n_units=301.0, polarization=1, epsilon_r=15.0,
                    sigma_s_per_m=0.005, mdvar=12, time_pct=50.0, location_pct=50.0,
                    situation_pct=50.0, return_intermediate=False):
    """Basic transmission loss of the ITM in point-to-point mode, for many profiles at once.

    ITM 1.2.2 [Algorithm]; profile analysis as Hufford's QKPFL / NTIA/itm ``QuickPfl``
    (horizons [TN101, Eq 6.15], effective heights, Delta_h [ERL 79-ITS 67, Eqn 3]);
    as NTIA/itm ``ITM_P2P_TLS``.  N_s = N_0 exp(-h_sys/9460) [TN101, Eq 4.3] with h_sys the
    mean elevation of the middle ~80 % of the profile.  Result = free-space loss (32.45 dB
    constant) + reference attenuation + variability.

    Parameters
    ----------
    elevations_m : array_like, shape (n_paths, n_max_points) or (n_points,)
        Terrain elevations above mean sea level from TX to RX, equally spaced.  Row ``i`` holds
        ``n_points[i]`` valid values; columns after them are ignored (NaN padding allowed).
        A 1-D array is one path. [m]
    spacing_m : float or array_like, shape (n_paths,)
        Distance between profile points, > 0.  Path length = (n_points - 1) * spacing. [m]
    h_tx_m, h_rx_m : float or array_like, shape (n_paths,)
        Structural antenna heights above ground, 0.5-3000 (warning outside 1-1000). [m]
    frequency_mhz : float or array_like, shape (n_paths,)
        Carrier frequency, 20-20000 (warning outside 40-10000). [MHz]
    n_points : int or array_like of int, shape (n_paths,), optional
        Valid points per row (>= 2); they must be finite.  None: the leading finite values
        of each row (NaN padding marks the end). [-]
    climate, n0_n_units, polarization, epsilon_r, sigma_s_per_m : optional
        As in :func:`itm_area_loss_db`; scalars or per-path arrays.
    mdvar : int, optional
        Mode of variability (default 12 = mobile with location variability eliminated, the
        usual point-to-point choice). [-]
    time_pct, location_pct, situation_pct : float or array_like, optional
        Variability quantiles in (0, 100). [%]
    return_intermediate : bool, optional
        If True, also return a dict of per-path arrays: ``d_hzn_tx_m``, ``d_hzn_rx_m``,
        ``h_e_tx_m``, ``h_e_rx_m``, ``theta_hzn_tx_rad``, ``theta_hzn_rx_rad``, ``delta_h_m``,
        ``n_s_n_units``, ``distance_m``, ``A_ref_db``, ``A_fs_db``, ``mode`` (1 line of sight,
        2 diffraction, 3 troposcatter) and ``warnings`` (NTIA warning bit flags).

    Returns
    -------
    A_db : ndarray, shape (n_paths,) (float for a 1-D profile)
        Basic transmission loss. [dB]

    Raises
    ------
    ValueError
        If an input is outside its valid range, or a profile has fewer than 2 valid points or
        NaN among its valid points.

    Notes
    -----
    Work is done in blocks of paths, so memory is bounded by a few arrays of
    ``block x n_max_points`` (plus ~30 float64 values per path); the cost per path is
    O(n_points) for the horizon search and O(245) for Delta_h (the profile is resampled to at
    most 245 points as in ITM).  Rows of different lengths are processed in blocks of similar
    length.  A path's result does not depend on the other paths of the call.

    The surface refractivity is always derived from ``n0_n_units`` and the profile.  To
    impose a known surface value N_s (as the FORTRAN QKPFL input deck does), pass
    ``n0_n_units = N_s * exp(h_sys / 9460)`` with h_sys the mean elevation of points
    int(0.1 np) .. np - int(0.1 np) (np = n_points - 1), as returned in ``n_s_n_units``.

    Against the official NTIA C++ code the results agree to the printed precision of the
    reference outputs (absolute difference <= 5e-7 dB on 554 point-to-point and 447 area cases).
    """
    z_all = np.asarray(elevations_m)
    if not np.issubdtype(z_all.dtype, np.number) or np.iscomplexobj(z_all):
        z_all = z_all.astype(np.float64)  # raises for non-numeric input
    single = z_all.ndim == 1
    if single:
        z_all = z_all[None, :]
    if z_all.ndim != 2:
        raise ValueError(f"elevations_m must be 1-D or 2-D, got ndim={z_all.ndim} "
                         "(allowed: (n_paths, n_max_points))")
    n_paths, width = z_all.shape
    climate, polarization, mdvar = _check_common(
        h_tx_m, h_rx_m, frequency_mhz, climate, n0_n_units, polarization, epsilon_r,
        sigma_s_per_m, mdvar, time_pct, location_pct, situation_pct)
    _check_range("spacing_m", spacing_m, 0.0, np.inf, lo_open=True, unit=" m")
    if n_paths == 0:
        raise ValueError("elevations_m has 0 paths (allowed: n_paths >= 1)")
    n_pts = _valid_points(z_all, n_points)

    def per_path(x, dtype=np.float64):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), (n_paths,)))

    try:
        xi = per_path(spacing_m)
        h0 = per_path(h_tx_m)
        h1 = per_path(h_rx_m)
        f = per_path(frequency_mhz)
        n0 = per_path(n0_n_units)
        eps = per_path(epsilon_r)
        sig = per_path(sigma_s_per_m)
        t = per_path(time_pct)
        loc = per_path(location_pct)
        sit = per_path(situation_pct)
        clim = per_path(climate, np.int64)
        pol = per_path(polarization, np.int64)
        md = per_path(mdvar, np.int64)
    except ValueError as exc:
        raise ValueError(
            f"per-path arguments must be scalars or shape ({n_paths},): {exc}") from exc
    np_int = n_pts - 1

    keys = ("d", "n_s", "gamma_e", "theta0", "theta1", "d_hzn0", "d_hzn1", "h_e0", "h_e1",
            "delta_h")
    prof = {k: np.empty(n_paths) for k in keys}
    ws = Workspace()
    same_length = bool(np.all(n_pts == n_pts[0]))
    # Rows of different lengths are processed in order of length, so that each block is only
    # as wide as its longest row (work per path ~ its own length, not the padded width).
    order = None if same_length else np.argsort(n_pts, kind="stable")
    sorted_pts = n_pts if same_length else n_pts[order]
    with np.errstate(all="ignore"):
        s = 0
        while s < n_paths:
            e = min(n_paths, s + max(1, _TERRAIN_BLOCK_POINTS // int(sorted_pts[s])))
            wmax = int(sorted_pts[e - 1])
            if (e - s) * wmax > 2 * _TERRAIN_BLOCK_POINTS:
                e = s + max(1, _TERRAIN_BLOCK_POINTS // wmax)
                wmax = int(sorted_pts[e - 1])
            sel = slice(s, e) if order is None else order[s:e]
            zb = np.ascontiguousarray(z_all[sel, :wmax], dtype=np.float64)
            res = profile_parameters(
                zb, np_int[sel], xi[sel], h0[sel], h1[sel], n0[sel],
                core.surface_refractivity, core.effective_curvature, ws)
            for k in keys:
                prof[k][sel] = res[k]
            s = e

        a_db = np.empty(n_paths)
        a_ref = np.empty(n_paths)
        a_fs = np.empty(n_paths)
        mode = np.empty(n_paths, dtype=np.int64)
        warn = np.empty(n_paths, dtype=np.int64)
        for s in range(0, n_paths, _CORE_BLOCK):
            sl = slice(s, min(n_paths, s + _CORE_BLOCK))
            p = {k: v[sl] for k, v in prof.items()}
            out = _reference_and_variability(p, f[sl], pol[sl], eps[sl], sig[sl], clim[sl],
                                             md[sl], t[sl], loc[sl], sit[sl], h0[sl], h1[sl],
                                             p2p=True)
            a_db[sl], a_ref[sl], a_fs[sl], mode[sl], warn[sl], err = out
            _raise_core_error(err)

    result = a_db[0] if single else a_db
    if not return_intermediate:
        return result
    inter = _intermediate(prof, a_ref, a_fs, mode, warn | _input_warnings(h0, h1, f))
    if single:
        inter = {k: v[0] for k, v in inter.items()}
    return result, inter


def itm_p2p_cr_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                       confidence_pct=50.0, reliability_pct=50.0, **kwargs):
    """ITM point-to-point mode with confidence/reliability variability (NTIA ``ITM_P2P_CR``).

    Thin wrapper: ``itm_p2p_loss_db(..., time_pct=reliability_pct, location_pct=50,
    situation_pct=confidence_pct)``, the convention of NTIA/itm ``itm_p2p.cpp``.

    Parameters
    ----------
    confidence_pct, reliability_pct : float or array_like, shape (n_paths,)
        Confidence and reliability, each in (0, 100). [%]
    **kwargs
        Other keyword options of :func:`itm_p2p_loss_db`.
    """
    _check_range("confidence_pct", confidence_pct, 0.0, 100.0, lo_open=True, hi_open=True,
                 unit=" %")
    _check_range("reliability_pct", reliability_pct, 0.0, 100.0, lo_open=True, hi_open=True,
                 unit=" %")
    return itm_p2p_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz,
                           time_pct=reliability_pct, location_pct=50.0,
                           situation_pct=confidence_pct, **kwargs)


def itm_p2p_rays_loss_db(elevations_m, spacing_m, h_tx_m, h_rx_m, frequency_mhz, *,
                         rays=None, steps=None, delta_h_knot_fraction=1.0 / 16.0, climate=5,
                         n0_n_units=301.0, polarization=1, epsilon_r=15.0,
                         sigma_s_per_m=0.005, mdvar=12, time_pct=50.0, location_pct=50.0,
                         situation_pct=50.0, return_intermediate=False):
    """ITM point to point from one transmitter to many samples of a fan of rays.

    Row ``r`` of ``elevations_m`` is a ray starting at the transmitter (column 0); the path to
    sample ``j`` of ray ``r`` is the prefix ``elevations_m[r, :j + 1]``.  The result for each
    requested ``(rays[i], steps[i])`` is that of :func:`itm_p2p_loss_db` on its prefix,
    computed with work shared along each ray (running maxima, prefix sums, convex-hull
    tangents; see :mod:`._itm_rays`), so the cost per path is O(log n) plus a bounded
    Delta_h share instead of O(n).

    The one difference from evaluating each prefix on its own: the terrain irregularity
    Delta_h is computed exactly (as ITM does) at knot steps about
    ``delta_h_knot_fraction`` of the path length apart and linearly interpolated in
    between.  ``delta_h_knot_fraction=0`` computes it at every step, which makes the
    result equal to :func:`itm_p2p_loss_db` on each prefix (to rounding).

    Parameters
    ----------
    elevations_m : array_like, shape (n_rays, n_steps)
        Finite terrain elevations along each ray, equally spaced, ``n_steps >= 2`` [m].
    spacing_m : float
        Distance between samples, > 0 [m].
    h_tx_m, h_rx_m : float
        Antenna heights above ground, 0.5-3000 [m].
    frequency_mhz : float
        Carrier frequency, 20-20000 [MHz].
    rays, steps : array_like of int, shape (m,), optional
        The paths wanted: ray index and sample index (1 .. n_steps - 1).  Default: every
        sample of every ray (ray-major).
    delta_h_knot_fraction : float, optional
        Spacing of the Delta_h knots as a fraction of the path length, in [0, 1] [-].
    climate, n0_n_units, polarization, epsilon_r, sigma_s_per_m, mdvar, time_pct,
    location_pct, situation_pct : optional
        As in :func:`itm_p2p_loss_db` (scalars).
    return_intermediate : bool, optional
        As in :func:`itm_p2p_loss_db`.

    Returns
    -------
    A_db : ndarray, shape (m,)
        Basic transmission loss of each requested path [dB].
    """
    z = np.asarray(elevations_m, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2 or z.shape[0] < 1:
        raise ValueError(f"elevations_m shape={z.shape} is invalid (allowed: (n_rays, n_steps) "
                         "with n_rays >= 1 and n_steps >= 2)")
    if not np.all(np.isfinite(z)):
        raise ValueError("elevations_m has NaN/inf values (allowed: finite elevations)")
    n_rays, n_steps = z.shape
    for name, v in (("h_tx_m", h_tx_m), ("h_rx_m", h_rx_m), ("frequency_mhz", frequency_mhz),
                    ("spacing_m", spacing_m)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar for a fan of rays from one transmitter")
    climate, polarization, mdvar = _check_common(
        h_tx_m, h_rx_m, frequency_mhz, climate, n0_n_units, polarization, epsilon_r,
        sigma_s_per_m, mdvar, time_pct, location_pct, situation_pct)
    _check_range("spacing_m", spacing_m, 0.0, np.inf, lo_open=True, unit=" m")
    _check_range("delta_h_knot_fraction", delta_h_knot_fraction, 0.0, 1.0)
    if rays is None and steps is None:
        rays = np.repeat(np.arange(n_rays), n_steps - 1)
        steps = np.tile(np.arange(1, n_steps), n_rays)
    elif rays is None or steps is None:
        raise ValueError("give both rays and steps, or neither")
    rays = np.asarray(rays)
    steps = np.asarray(steps)
    if rays.shape != steps.shape or rays.ndim != 1:
        raise ValueError(f"rays shape={rays.shape} and steps shape={steps.shape} must be equal "
                         "and 1-D")
    if rays.size == 0:
        raise ValueError("no paths requested (allowed: at least one (ray, step) pair)")
    _check_range("rays", rays, 0, n_rays - 1, unit=f" (elevations_m has {n_rays} rays)")
    _check_range("steps", steps, 1, n_steps - 1,
                 unit=f" (elevations_m has {n_steps} samples per ray)")
    m = rays.size
    h0, h1, f = float(h_tx_m), float(h_rx_m), float(frequency_mhz)
    scalars = {k: np.asarray(v, dtype=np.float64) for k, v in (
        ("f", f), ("eps", epsilon_r), ("sig", sigma_s_per_m), ("t", time_pct),
        ("loc", location_pct), ("sit", situation_pct), ("h0", h0), ("h1", h1))}
    scalars.update({k: np.asarray(v, dtype=np.int64) for k, v in (
        ("pol", polarization), ("climate", climate), ("mdvar", mdvar))})
    with np.errstate(all="ignore"):
        keys = ("d", "n_s", "gamma_e", "theta0", "theta1", "d_hzn0", "d_hzn1", "h_e0",
                "h_e1", "delta_h")
        prof = {k: np.empty(m) for k in keys} if return_intermediate else None
        a_db = np.empty(m)
        if return_intermediate:
            a_ref = np.empty(m)
            a_fs = np.empty(m)
            mode = np.empty(m, dtype=np.int64)
            warn = np.empty(m, dtype=np.int64)
        for idx, p in ray_prefix_parameters(
                z, float(spacing_m), h0, h1, float(n0_n_units), rays.astype(np.int64),
                steps.astype(np.int64), knot_fraction=float(delta_h_knot_fraction),
                surface_refractivity=core.surface_refractivity,
                effective_curvature=core.effective_curvature):
            # the inputs are the same for every path: 0-d arrays, so that the terms that
            # depend on them alone are computed once per block (same values as per path)
            out = _reference_and_variability(
                p, scalars["f"], scalars["pol"], scalars["eps"], scalars["sig"],
                scalars["climate"], scalars["mdvar"], scalars["t"], scalars["loc"],
                scalars["sit"], scalars["h0"], scalars["h1"], p2p=True)
            _raise_core_error(out[5])
            a_db[idx] = out[0]
            if prof is not None:
                a_ref[idx], a_fs[idx], mode[idx], warn[idx] = out[1:5]
                for key in keys:
                    prof[key][idx] = p[key]
    if not return_intermediate:
        return a_db
    inter = _intermediate(prof, a_ref, a_fs, mode,
                          warn | _input_warnings(np.full(m, h0), np.full(m, h1), np.full(m, f)))
    return a_db, inter
