"""3GPP TR 38.901 (V17.0.0) rural macro (RMa) path loss, Table 7.4.1-1, and LOS probability,
Table 7.4.2-1.

Conventions follow the standard literally (as ns-3 does): the breakpoint distance uses the
actual antenna heights, ``PL2 = PL1(d_BP) + 40 log10(d_3D / d_BP)`` evaluates PL1 at the
2-D breakpoint distance, and c = 3.0e8 m/s (Table 7.4.1-1 note 5).

The free-space floor is not part of TR 38.901; it is an option here (``fspl_floor``, see
:func:`rma_38901_loss_db`). In LOS, PL1 exceeds free space by
``min(0.03 h^1.72, 10) log10(d) - min(0.044 h^1.72, 14.77) + 0.002 log10(h) d`` dB, which
is negative out to about 25 m for the default h = 5 m (by at most 0.22 dB), so
``"always"`` changes results a little inside the valid range (from 10 m), while
``"outside_validity"`` keeps the standard's formula there.
"""

from __future__ import annotations

import numpy as np

from ._common import apply_distance_policy, check_range
from .fspl import free_space_loss_db
from .hata import apply_free_space_floor, floor_policy

_C_3GPP_M_PER_S = 3.0e8

#: Validity of the RMa model (TR 38.901 Table 7.4.1-1 and section 7.4.1).
RMA_RANGE = {"frequency_mhz": (500.0, 30000.0), "h_bs_m": (10.0, 150.0), "h_ut_m": (1.0, 10.0),
             "building_height_m": (5.0, 50.0), "street_width_m": (5.0, 50.0),
             "distance_los_m": (10.0, 10000.0), "distance_nlos_m": (10.0, 5000.0)}

CONDITIONS = ("los", "nlos", "weighted")


def rma_breakpoint_m(frequency_mhz, h_bs_m, h_ut_m):
    """Breakpoint distance d_BP = 2 pi h_BS h_UT f_c / c [m], TR 38.901 Table 7.4.1-1 note 5."""
    return 2.0 * np.pi * np.asarray(h_bs_m) * np.asarray(h_ut_m) * (
        np.asarray(frequency_mhz) * 1e6) / _C_3GPP_M_PER_S


def _pl1(d3d_m, fc_ghz, h):
    return (20.0 * np.log10(40.0 * np.pi * d3d_m * fc_ghz / 3.0)
            + np.minimum(0.03 * h**1.72, 10.0) * np.log10(d3d_m)
            - np.minimum(0.044 * h**1.72, 14.77)
            + 0.002 * np.log10(h) * d3d_m)


def rma_los_probability(distance_2d_m):
    """RMa LOS probability, TR 38.901 Table 7.4.2-1: 1 for d_2D <= 10 m, else exp(-(d-10)/1000)."""
    d = np.asarray(distance_2d_m, dtype=float)
    return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))


def rma_38901_loss_db(distance_2d_m, frequency_mhz, h_bs_m, h_ut_m, *, condition="weighted",
                      building_height_m=5.0, street_width_m=20.0, out_of_range="extrapolate",
                      fspl_floor=True, check_parameters=True):
    r"""3GPP TR 38.901 RMa basic path loss (no shadowing) [dB].

    LOS (Table 7.4.1-1):

    .. math::
        PL_1 = 20\log_{10}(40\pi d_{3D} f_c/3) + \min(0.03h^{1.72},10)\log_{10}d_{3D}
               - \min(0.044h^{1.72},14.77) + 0.002\log_{10}(h)\,d_{3D}

        PL_2 = PL_1(d_{BP}) + 40\log_{10}(d_{3D}/d_{BP})

    with :math:`PL_{LOS} = PL_1` for :math:`d_{2D} \le d_{BP}` and :math:`PL_2` beyond.
    NLOS: :math:`PL_{NLOS} = \max(PL_{LOS}, PL'_{NLOS})` with

    .. math::
        PL'_{NLOS} = 161.04 - 7.1\log_{10}W + 7.5\log_{10}h
          - (24.37 - 3.7(h/h_{BS})^2)\log_{10}h_{BS}
          + (43.42 - 3.1\log_{10}h_{BS})(\log_{10}d_{3D} - 3)
          + 20\log_{10}f_c - (3.2(\log_{10}11.75h_{UT})^2 - 4.97)

    ``weighted`` returns :math:`P_{LOS} PL_{LOS} + (1-P_{LOS}) PL_{NLOS}` in dB with the
    LOS probability of Table 7.4.2-1 (an expected loss for planning without terrain).

    Parameters
    ----------
    distance_2d_m : array_like
        Horizontal BS-UT distance [m]. Valid 10 m - 10 km (LOS), 10 m - 5 km (NLOS).
    frequency_mhz : array_like
        Centre frequency [MHz], 500-30000 MHz.
    h_bs_m, h_ut_m : array_like
        BS (10-150 m) and UT (1-10 m) antenna heights [m].
    condition : {"los", "nlos", "weighted"}
    building_height_m, street_width_m : float
        Average building height h (5-50 m) and street width W (5-50 m); defaults 5 and 20 m.
    out_of_range : {"extrapolate", "nan", "raise"}
        Distances outside the valid range: evaluate the formula, NaN, or raise.
    fspl_floor : {"always", "outside_validity", "never"} or bool
        Where the result is bounded below by free-space loss at d_3D: everywhere
        (``"always"`` or True, the default), only where the distance is outside the valid
        range (``"outside_validity"``: below 10 m or beyond 10 km, 5 km NLOS), or nowhere
        (``"never"`` or False). With ``"always"`` the floor acts below 10 m and, in LOS, out
        to about 25 m by at most 0.22 dB (module docstring).
    check_parameters : bool
        When False, frequency and antenna heights outside the valid range are evaluated
        (documented extrapolation, e.g. a 3 m LoRa gateway) instead of raising.

    Returns
    -------
    numpy.ndarray
        Path loss [dB], broadcast over the inputs.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition={condition!r} is not one of {CONDITIONS}")
    policy = floor_policy(fspl_floor)
    if check_parameters:
        check_range("rma_38901 frequency_mhz", frequency_mhz, *RMA_RANGE["frequency_mhz"],
                    "MHz")
        check_range("rma_38901 h_bs_m", h_bs_m, *RMA_RANGE["h_bs_m"], "m")
        check_range("rma_38901 h_ut_m", h_ut_m, *RMA_RANGE["h_ut_m"], "m")
    check_range("rma_38901 building_height_m", building_height_m,
                *RMA_RANGE["building_height_m"], "m")
    check_range("rma_38901 street_width_m", street_width_m, *RMA_RANGE["street_width_m"], "m")
    d2d = np.asarray(distance_2d_m, dtype=float)
    f_mhz = np.asarray(frequency_mhz, dtype=float)
    fc = f_mhz / 1000.0
    hbs = np.asarray(h_bs_m, dtype=float)
    hut = np.asarray(h_ut_m, dtype=float)
    h = float(building_height_m)
    w = float(street_width_m)
    d3d = np.sqrt(d2d**2 + (hbs - hut) ** 2)
    d_bp = rma_breakpoint_m(f_mhz, hbs, hut)
    pl1 = _pl1(d3d, fc, h)
    pl2 = _pl1(d_bp, fc, h) + 40.0 * np.log10(d3d / d_bp)
    pl_los = np.where(d2d <= d_bp, pl1, pl2)
    if condition != "los":
        pl_nlos_prime = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
                         - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs)
                         + (43.42 - 3.1 * np.log10(hbs)) * (np.log10(d3d) - 3.0)
                         + 20.0 * np.log10(fc)
                         - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97))
        pl_nlos = np.maximum(pl_los, pl_nlos_prime)
    if condition == "los":
        loss, high = pl_los, RMA_RANGE["distance_los_m"][1]
    elif condition == "nlos":
        loss, high = pl_nlos, RMA_RANGE["distance_nlos_m"][1]
    else:
        p = rma_los_probability(d2d)
        loss, high = p * pl_los + (1.0 - p) * pl_nlos, RMA_RANGE["distance_los_m"][1]
    if policy != "never":
        loss = apply_free_space_floor(loss, free_space_loss_db(d3d, f_mhz), d2d, 10.0, high,
                                      policy)
    return apply_distance_policy(loss, d2d, 10.0, high, out_of_range, "rma_38901")
