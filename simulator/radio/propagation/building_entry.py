"""Building entry loss, Recommendation ITU-R P.2109-1 (08/2019), Annex 1, Section 3.

Pure, vectorised numpy model (layer 1 of docs/CONVENTIONS.md).

The loss into a building not exceeded with probability P is the power sum of two
log-normal terms and a constant (equation numbers of P.2109-1 Section 3):

.. math::

    L_{BEL}(P) = 10 \\log_{10}\\left(10^{0.1 A(P)} + 10^{0.1 B(P)} + 10^{0.1 C}\\right) \\quad (1)

    A(P) = F^{-1}(P)\\,\\sigma_1 + \\mu_1 \\quad (2) \\qquad
    B(P) = F^{-1}(P)\\,\\sigma_2 + \\mu_2 \\quad (3) \\qquad C = -3.0 \\quad (4)

    \\mu_1 = L_h + L_e \\quad (5) \\qquad \\mu_2 = w + x \\log_{10} f \\quad (6)

    \\sigma_1 = u + v \\log_{10} f \\quad (7) \\qquad \\sigma_2 = y + z \\log_{10} f \\quad (8)

    L_h = r + s \\log_{10} f + t (\\log_{10} f)^2 \\quad (9) \\qquad
    L_e = 0.212\\,|\\theta| \\quad (10)

with f in GHz, theta the elevation angle of the path at the facade, F^{-1} the
inverse standard normal CDF, and the coefficients r ... z of Table 1. P.2109-2 keeps
the same method and Table 1 coefficients (as implemented by CRC's crc-covlib
``itur_p2109`` helper, which cites P.2109-2).

Sources used to write this module (see tests/data/SOURCES.md): the ITU-R SG3
reference MATLAB implementation by I. Stevanovic (github.com/eeveetza/p2109,
``matlab/bel_p2109.m``, which carries the equation numbers) and the Table 1
coefficients as repeated identically in pycraf (``pycraf/pathprof/bel.py``) and
crc-covlib (``ITURP_2109.cpp``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..._checks import check_range

__all__ = ["BUILDING_TYPES", "building_entry_loss_db"]

#: ITU-R P.2109-1 Table 1: coefficients (r, s, t, u, v, w, x, y, z) per building type.
_TABLE_1 = {
    "traditional": (12.64, 3.72, 0.96, 9.6, 2.0, 9.1, -3.0, 4.5, -2.0),
    "thermally_efficient": (28.19, -3.00, 8.48, 13.5, 3.8, 27.8, -2.9, 9.4, -2.1),
}
BUILDING_TYPES = tuple(_TABLE_1)

_F_MIN_MHZ, _F_MAX_MHZ = 80.0, 100_000.0
_C_DB = -3.0  # eq. (4)


def building_entry_loss_db(frequency_mhz, probability_percent, *,
                           building_type="traditional", elevation_deg=0.0):
    """Building entry loss not exceeded for ``probability_percent`` of buildings/locations.

    ITU-R P.2109-1 Annex 1 Section 3, eqs. (1)-(10) with Table 1 (see module docstring).
    The median (50 %) loss for a traditional building at 900 MHz and horizontal
    incidence is about 14 dB; thermally efficient buildings (metallised glass, foil
    insulation) lose much more (about 31 dB at 900 MHz).

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency, in [80, 100000] [MHz] (P.2109: about 80 MHz to 100 GHz).
    probability_percent : array_like
        Probability with which the loss is not exceeded, in (0, 100) [%].
    building_type : {"traditional", "thermally_efficient"}, optional
        Building class of P.2109 Table 1.
    elevation_deg : array_like, optional
        Elevation angle of the path at the building facade, in [-90, 90] [deg]
        (0 for a terrestrial path; only ``|theta|`` matters, eq. (10)).

    Returns
    -------
    numpy.ndarray
        Building entry loss [dB], broadcast shape of the array inputs. At very small
        probabilities the loss can be slightly negative, as in the Recommendation.

    Raises
    ------
    ValueError
        If an input is outside its range or ``building_type`` is unknown. Nothing is
        clamped.
    """
    if building_type not in _TABLE_1:
        raise ValueError(f"building_type={building_type!r} is not allowed; allowed: "
                         f"{', '.join(BUILDING_TYPES)}")
    f_mhz = check_range("frequency_mhz", frequency_mhz, _F_MIN_MHZ, _F_MAX_MHZ, "MHz",
                        finite=True)
    p = check_range("probability_percent", probability_percent, 0.0, 100.0, "%",
                    lo_open=True, hi_open=True, finite=True)
    th = check_range("elevation_deg", elevation_deg, -90.0, 90.0, "deg", finite=True)
    r, s, t, u, v, w, x, y, z = _TABLE_1[building_type]
    lf = np.log10(f_mhz / 1000.0)
    l_h = r + s * lf + t * lf ** 2            # (9)
    l_e = 0.212 * np.abs(th)                  # (10)
    mu1 = l_h + l_e                           # (5)
    mu2 = w + x * lf                          # (6)
    sigma1 = u + v * lf                       # (7)
    sigma2 = y + z * lf                       # (8)
    finv = special.ndtri(p / 100.0)
    a = finv * sigma1 + mu1                   # (2)
    b = finv * sigma2 + mu2                   # (3)
    # (1): power sum; logaddexp keeps it finite for any magnitude of A and B
    k = 0.1 * np.log(10.0)
    total = np.logaddexp(np.logaddexp(k * a, k * b), k * _C_DB)
    out = total / k
    return out[()] if np.ndim(out) == 0 else out
