"""Okumura-Hata (Hata 1980) and COST-231 Hata empirical path-loss models.

Both models have the form ``L = A + B * log10(d_km)`` for fixed frequency and antenna
heights, so :func:`hata_coefficients` returns ``(A, B)`` and the engine evaluates
``log10(d)`` once per cell-site pair.

References
----------
.. [1] M. Hata, "Empirical formula for propagation loss in land mobile radio services",
   IEEE Trans. Veh. Technol., VT-29(3), 1980, pp. 317-325.
.. [2] COST Action 231, "Digital mobile radio towards future generation systems",
   final report, EUR 18957, 1999, section 4.4.1 (COST-231 Hata).
"""

from __future__ import annotations

import numpy as np

from ._common import apply_distance_policy, check_range
from .fspl import free_space_loss_db

ENVIRONMENTS = ("urban", "suburban", "open")
CITY_SIZES = ("small_medium", "large")

#: Validity of the Hata model [1]: frequency, base and mobile heights, distance.
HATA_RANGE = {"frequency_mhz": (150.0, 1500.0), "h_base_m": (30.0, 200.0),
              "h_mobile_m": (1.0, 10.0), "distance_m": (1000.0, 20000.0)}
#: Validity of COST-231 Hata [2].
COST231_RANGE = {"frequency_mhz": (1500.0, 2000.0), "h_base_m": (30.0, 200.0),
                 "h_mobile_m": (1.0, 10.0), "distance_m": (1000.0, 20000.0)}


def mobile_height_correction_db(frequency_mhz, h_mobile_m, city_size="small_medium"):
    r"""Hata's mobile antenna height correction :math:`a(h_m)` [dB], ref. [1] eqs. (4)-(5).

    ``small_medium``: :math:`(1.1\log f - 0.7)h_m - (1.56\log f - 0.8)`.
    ``large``: :math:`8.29(\log 1.54h_m)^2 - 1.1` for f < 300 MHz and
    :math:`3.2(\log 11.75h_m)^2 - 4.97` for f >= 300 MHz (Hata gives the first for
    f <= 200 MHz and the second for f >= 400 MHz; the split at 300 MHz is ours).
    """
    f = np.asarray(frequency_mhz, dtype=float)
    hm = np.asarray(h_mobile_m, dtype=float)
    logf = np.log10(f)
    if city_size == "small_medium":
        return (1.1 * logf - 0.7) * hm - (1.56 * logf - 0.8)
    if city_size == "large":
        return np.where(f < 300.0, 8.29 * np.log10(1.54 * hm) ** 2 - 1.1,
                        3.2 * np.log10(11.75 * hm) ** 2 - 4.97)
    raise ValueError(f"city_size={city_size!r} is not one of {CITY_SIZES}")


def hata_coefficients(frequency_mhz, h_base_m, h_mobile_m, *, environment="open",
                      city_size="small_medium", model="hata_1980", check_parameters=True):
    r"""Intercept ``A`` [dB] and slope ``B`` [dB/decade] of ``L = A + B log10(d_km)``.

    Hata [1] eq. (3) (urban), (6) (suburban), (7) (open area):

    .. math::
        L_u = 69.55 + 26.16\log f - 13.82\log h_b - a(h_m) + (44.9 - 6.55\log h_b)\log d

        L_{su} = L_u - 2[\log(f/28)]^2 - 5.4,\qquad
        L_o = L_u - 4.78(\log f)^2 + 18.33\log f - 40.94

    COST-231 Hata [2] (``model="cost231_hata"``): 46.3 + 33.9 log f in place of
    69.55 + 26.16 log f, plus :math:`C_m` = 3 dB for ``environment="urban"`` with
    ``city_size="large"`` (metropolitan centres) and 0 dB otherwise. COST-231 defines no
    suburban or open-area correction; here ``suburban``/``open`` apply Hata's
    corrections (an extension, documented in docs/models.md).

    Parameters
    ----------
    frequency_mhz, h_base_m, h_mobile_m : array_like
        Frequency [MHz], base-station and mobile antenna heights above ground [m].
    environment : {"urban", "suburban", "open"}
    city_size : {"small_medium", "large"}
        Selects the a(h_m) correction.
    model : {"hata_1980", "cost231_hata"}
    check_parameters : bool
        When False, frequency and heights outside the validity range are evaluated
        (extrapolation, e.g. COST-231 at 2.1 GHz as ns-3 does) instead of raising.

    Raises
    ------
    ValueError
        Frequency or heights outside the model's range (:data:`HATA_RANGE`,
        :data:`COST231_RANGE`), or an unknown option.
    """
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment={environment!r} is not one of {ENVIRONMENTS}")
    rng = {"hata_1980": HATA_RANGE, "cost231_hata": COST231_RANGE}.get(model)
    if rng is None:
        raise ValueError(f"model={model!r} is not one of ('hata_1980', 'cost231_hata')")
    if check_parameters:
        check_range(f"{model} frequency_mhz", frequency_mhz, *rng["frequency_mhz"], "MHz")
        check_range(f"{model} h_base_m", h_base_m, *rng["h_base_m"], "m")
        check_range(f"{model} h_mobile_m", h_mobile_m, *rng["h_mobile_m"], "m")
    f = np.asarray(frequency_mhz, dtype=float)
    hb = np.asarray(h_base_m, dtype=float)
    logf = np.log10(f)
    loghb = np.log10(hb)
    a_hm = mobile_height_correction_db(f, h_mobile_m, city_size)
    if model == "hata_1980":
        intercept = 69.55 + 26.16 * logf - 13.82 * loghb - a_hm
    else:
        c_m = 3.0 if (environment == "urban" and city_size == "large") else 0.0
        intercept = 46.3 + 33.9 * logf - 13.82 * loghb - a_hm + c_m
    if environment == "suburban":
        intercept = intercept - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif environment == "open":
        intercept = intercept - 4.78 * logf**2 + 18.33 * logf - 40.94
    slope = 44.9 - 6.55 * loghb
    return intercept, slope


def _hata_family(distance_m, frequency_mhz, h_base_m, h_mobile_m, environment, city_size,
                 out_of_range, fspl_floor, model, check_parameters):
    a, b = hata_coefficients(frequency_mhz, h_base_m, h_mobile_m, environment=environment,
                             city_size=city_size, model=model,
                             check_parameters=check_parameters)
    d = np.asarray(distance_m, dtype=float)
    loss = a + b * np.log10(d / 1000.0)
    if fspl_floor:
        loss = np.maximum(loss, free_space_loss_db(d, frequency_mhz))
    rng = HATA_RANGE if model == "hata_1980" else COST231_RANGE
    return apply_distance_policy(loss, d, *rng["distance_m"], out_of_range, model)


def hata_1980_loss_db(distance_m, frequency_mhz, h_base_m, h_mobile_m, *,
                      environment="open", city_size="small_medium",
                      out_of_range="extrapolate", fspl_floor=True, check_parameters=True):
    """Okumura-Hata median basic transmission loss [dB], ref. [1].

    Parameters
    ----------
    distance_m : array_like
        Horizontal distance base-mobile [m]. Valid 1-20 km.
    frequency_mhz : array_like
        150-1500 MHz.
    h_base_m, h_mobile_m : array_like
        Antenna heights above ground [m]: base 30-200 m, mobile 1-10 m.
    environment, city_size : str
        See :func:`hata_coefficients`.
    out_of_range : {"extrapolate", "nan", "raise"}
        Distances outside 1-20 km: evaluate the formula (default), return NaN, or raise.
        Frequency and heights outside range always raise ValueError.
    fspl_floor : bool
        Bound the result below by free-space loss (an extrapolated formula must not
        predict less loss than free space). Default True.
    check_parameters : bool
        See :func:`hata_coefficients`.

    Returns
    -------
    numpy.ndarray
        Loss [dB], broadcast over the inputs.
    """
    return _hata_family(distance_m, frequency_mhz, h_base_m, h_mobile_m, environment,
                        city_size, out_of_range, fspl_floor, "hata_1980", check_parameters)


def cost231_hata_loss_db(distance_m, frequency_mhz, h_base_m, h_mobile_m, *,
                         environment="urban", city_size="small_medium",
                         out_of_range="extrapolate", fspl_floor=True,
                         check_parameters=True):
    """COST-231 Hata median basic transmission loss [dB], ref. [2], 1500-2000 MHz.

    Parameters and policies as :func:`hata_1980_loss_db`.
    """
    return _hata_family(distance_m, frequency_mhz, h_base_m, h_mobile_m, environment,
                        city_size, out_of_range, fspl_floor, "cost231_hata", check_parameters)
