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

Two conventions change results and are options here (docs/validation.md, "Conventions"):

* **Free-space floor** (``fspl_floor``): Hata's formulas are fits to Okumura's curves for
  1-20 km and say nothing about free space. With tall masts at short range the open-area and
  suburban formulas fall *below* free-space loss inside that range (at 1 km, open area,
  1500 MHz, 200 m mast: 6 dB for a 1.5 m receiver, 30 dB for a 10 m receiver).
  ``"always"`` (default, as before) bounds the result by free space everywhere;
  ``"outside_validity"`` only where the formula is extrapolated (distance outside
  1-20 km), so inside the range the formula stands as Hata published it; ``"never"``
  nowhere (ns-3's ``OkumuraHataPropagationLossModel`` has no floor).
* **COST-231 a(h_m)** (``cost231_mobile_correction``): COST 231 [2] quotes the
  small/medium-city correction of Hata eq. (4) for every case and marks metropolitan
  centres with C_m = 3 dB (``"small_medium"``). The default ``"city_size"`` (as before)
  also takes Hata's large-city a(h_m) eq. (5) with ``city_size="large"``, as ns-3 and many
  textbook transcriptions do; the two differ by 0.05 dB at 1.5 m and by up to 16 dB for a
  10 m receiver.
"""

from __future__ import annotations

import numpy as np

from ._common import apply_distance_policy, check_range
from .fspl import free_space_loss_db

ENVIRONMENTS = ("urban", "suburban", "open")
CITY_SIZES = ("small_medium", "large")
#: Where the free-space floor applies: everywhere, only where the formula is extrapolated
#: (outside its distance range), or nowhere.
FREE_SPACE_FLOORS = ("always", "outside_validity", "never")
#: COST-231 mobile-height correction: Hata's a(h_m) chosen by city size, or always the
#: small/medium-city a(h_m) as COST 231 quotes it.
COST231_MOBILE_CORRECTIONS = ("city_size", "small_medium")

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


def floor_policy(fspl_floor) -> str:
    """``fspl_floor`` as one of :data:`FREE_SPACE_FLOORS` (True -> "always", False -> "never")."""
    if fspl_floor is True:
        return "always"
    if fspl_floor is False:
        return "never"
    if fspl_floor not in FREE_SPACE_FLOORS:
        raise ValueError(f"fspl_floor={fspl_floor!r} is not one of {FREE_SPACE_FLOORS} "
                         "(or True/False)")
    return fspl_floor


def apply_free_space_floor(loss_db, free_space_db, distance_m, low_m, high_m, policy):
    """``loss_db`` bounded below by ``free_space_db`` where ``policy`` says so.

    ``"always"``: everywhere; ``"outside_validity"``: where ``distance_m`` is outside
    [``low_m``, ``high_m``] (the formula is extrapolated there); ``"never"``: nowhere.
    Pure; broadcasts; keeps the dtype of ``loss_db``.
    """
    policy = floor_policy(policy)
    if policy == "never":
        return loss_db
    floored = np.maximum(loss_db, free_space_db)
    if policy == "always":
        return floored
    d = np.asarray(distance_m)
    outside = (d < low_m) | (d > high_m)
    return np.where(outside, floored, loss_db).astype(np.result_type(loss_db), copy=False)


def hata_coefficients(frequency_mhz, h_base_m, h_mobile_m, *, environment="open",
                      city_size="small_medium", model="hata_1980", check_parameters=True,
                      cost231_mobile_correction="city_size"):
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
    corrections (an extension, documented in docs/models.md). Its a(h_m) follows
    ``cost231_mobile_correction``: ``"city_size"`` (default) Hata's eq. (4) or (5) by
    ``city_size``; ``"small_medium"`` eq. (4) always, as COST 231 [2] quotes it.

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
    cost231_mobile_correction : {"city_size", "small_medium"}
        COST-231 only: which a(h_m) (see above). Ignored for ``hata_1980``.

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
    if cost231_mobile_correction not in COST231_MOBILE_CORRECTIONS:
        raise ValueError(f"cost231_mobile_correction={cost231_mobile_correction!r} is not one "
                         f"of {COST231_MOBILE_CORRECTIONS}")
    f = np.asarray(frequency_mhz, dtype=float)
    hb = np.asarray(h_base_m, dtype=float)
    logf = np.log10(f)
    loghb = np.log10(hb)
    a_city = city_size
    if model == "cost231_hata" and cost231_mobile_correction == "small_medium":
        if city_size not in CITY_SIZES:
            raise ValueError(f"city_size={city_size!r} is not one of {CITY_SIZES}")
        a_city = "small_medium"
    a_hm = mobile_height_correction_db(f, h_mobile_m, a_city)
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
                 out_of_range, fspl_floor, model, check_parameters,
                 cost231_mobile_correction="city_size"):
    policy = floor_policy(fspl_floor)
    a, b = hata_coefficients(frequency_mhz, h_base_m, h_mobile_m, environment=environment,
                             city_size=city_size, model=model,
                             check_parameters=check_parameters,
                             cost231_mobile_correction=cost231_mobile_correction)
    d = np.asarray(distance_m, dtype=float)
    loss = a + b * np.log10(d / 1000.0)
    rng = HATA_RANGE if model == "hata_1980" else COST231_RANGE
    if policy != "never":
        loss = apply_free_space_floor(loss, free_space_loss_db(d, frequency_mhz), d,
                                      *rng["distance_m"], policy)
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
    fspl_floor : {"always", "outside_validity", "never"} or bool
        Where the result is bounded below by free-space loss at the horizontal distance:
        everywhere (``"always"`` or True, the default), only outside 1-20 km, where the
        formula is extrapolated (``"outside_validity"``), or nowhere (``"never"`` or False).
        See the module docstring for why this matters inside the valid range.
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
                         check_parameters=True, cost231_mobile_correction="city_size"):
    """COST-231 Hata median basic transmission loss [dB], ref. [2], 1500-2000 MHz.

    Parameters and policies as :func:`hata_1980_loss_db`;
    ``cost231_mobile_correction`` as :func:`hata_coefficients`.
    """
    return _hata_family(distance_m, frequency_mhz, h_base_m, h_mobile_m, environment,
                        city_size, out_of_range, fspl_floor, "cost231_hata", check_parameters,
                        cost231_mobile_correction)
