"""Terminal clutter loss, Recommendation ITU-R P.2108-1 (09/2021), Annex 1, Section 3.1.

Pure, vectorised numpy model (layer 1 of docs/CONVENTIONS.md).

Section 3.1, the *height gain terminal correction model*, gives the **median** additional
loss :math:`A_h` of a terminal of height :math:`h` standing among clutter of
representative height :math:`R`, relative to a path computed to (or from) a terminal at
height :math:`R` above the clutter. It applies at either end of a terrestrial path, for
frequencies 0.03-3 GHz. Equation numbers of P.2108-1 Section 3.1 (f in GHz):

.. math::

    A_h = J(\\nu) - 6.03 \\quad (2a) \\qquad A_h = -K_{h2} \\log_{10}(h / R) \\quad (2b)

    \\nu = K_{nu} \\sqrt{h_{dif}\\, \\theta_{clut}} \\quad (2c) \\qquad
    h_{dif} = R - h \\quad (2d) \\qquad
    \\theta_{clut} = \\tan^{-1}(h_{dif} / w_s) \\ \\text{[deg]} \\quad (2e)

    K_{h2} = 21.8 + 6.2 \\log_{10} f \\quad (2f) \\qquad
    K_{nu} = 0.342 \\sqrt{f} \\quad (2g)

with :math:`J(\\nu)` the knife-edge diffraction loss of Recommendation ITU-R P.526
(its eq. (31) approximation, 0 dB for :math:`\\nu \\le -0.78`:
:func:`simulator.radio.propagation.diffraction.knife_edge_j_db`) and :math:`w_s` the street
width (default 27 m, §3.1.1). Eq. (2b), a height gain, is the model of the *water/sea* and
*open/rural* clutter types; eq. (2a), diffraction over the clutter edge :math:`w_s` away,
that of *suburban*, *urban*, *trees/forest* and *dense urban* (§3.1.1, Table 3, which also
gives the default representative heights :data:`P2108_DEFAULT_HEIGHT_M`). A terminal at
or above the clutter (:math:`h \\ge R`) has :math:`A_h = 0`.

Location percentage. Section 3.1 gives a median only: it has no location percentage
(the location-percentage models of P.2108 are §3.2, terrestrial paths at 2-67 GHz, and
§3.3, Earth-space and aeronautical paths, neither of which applies to a 0.03-3 GHz
terrestrial terminal). How the engine combines this median with the scenario's location
variability is said in :func:`terminal_clutter_loss_db`.

Sources used to write this module (see tests/data/SOURCES.md): the ITU-R SG3 reference
MATLAB/Octave implementation by I. Stevanovic (github.com/eeveetza/p2108,
``matlab/cl_p2108_1.m``) and the NTIA/ITS U.S. reference C++ implementation
(github.com/NTIA/p2108, ``src/HeightGainTerminalCorrectionModel.cpp``), which carry the
equation numbers and the validity checks; their published test values are in
``tests/data/p2108/``.
"""

from __future__ import annotations

import numpy as np

from .diffraction import knife_edge_j_db

__all__ = ["P2108_CLUTTER_TYPES", "P2108_DEFAULT_HEIGHT_M", "DEFAULT_STREET_WIDTH_M",
           "ENGINE_CLUTTER_TYPES", "height_gain_terminal_correction_db",
           "terminal_clutter_loss_db"]

#: Clutter types of ITU-R P.2108-1 §3.1.1 Table 3.
P2108_CLUTTER_TYPES = ("water_sea", "open_rural", "suburban", "urban", "trees_forest",
                       "dense_urban")
#: Default representative clutter height R per clutter type, P.2108-1 §3.1.1 Table 3 [m].
P2108_DEFAULT_HEIGHT_M = {"water_sea": 10.0, "open_rural": 10.0, "suburban": 10.0,
                          "urban": 15.0, "trees_forest": 15.0, "dense_urban": 20.0}
#: Default street width w_s, P.2108-1 §3.1.1 [m].
DEFAULT_STREET_WIDTH_M = 27.0
#: Types modelled with the height gain of eq. (2b); the others with eq. (2a).
_HEIGHT_GAIN_TYPES = ("water_sea", "open_rural")

#: Clutter types of the engine's class table: ``open`` and ``water`` add nothing (see
#: :func:`terminal_clutter_loss_db`); the others are P.2108's eq. (2a) types.
ENGINE_CLUTTER_TYPES = ("open", "water", "suburban", "urban", "trees_forest", "dense_urban")
_NO_LOSS_TYPES = ("open", "water")

_F_MIN_GHZ, _F_MAX_GHZ = 0.03, 3.0


def _positive(name, value):
    arr = np.asarray(value, dtype=np.float64)
    bad = ~np.isnan(arr) & ~(arr > 0)
    if np.any(bad):
        v = float(arr[bad].ravel()[0])
        raise ValueError(f"{name}={v:g} is outside the allowed range (0, inf)")
    return arr


def _frequency_ghz(frequency_ghz):
    f = np.asarray(frequency_ghz, dtype=np.float64)
    bad = ~np.isnan(f) & ~((f >= _F_MIN_GHZ) & (f <= _F_MAX_GHZ))
    if np.any(bad):
        v = float(f[bad].ravel()[0])
        raise ValueError(f"frequency_ghz={v:g} is outside ITU-R P.2108 §3.1's valid range "
                         f"[{_F_MIN_GHZ:g}, {_F_MAX_GHZ:g}] GHz")
    return f


def _types(clutter_type, allowed):
    t = np.asarray(clutter_type)
    if t.dtype.kind not in "US":
        raise ValueError(f"clutter_type={clutter_type!r} must be a string (or strings); "
                         f"allowed: {', '.join(allowed)}")
    unknown = ~np.isin(t, allowed)
    if np.any(unknown):
        raise ValueError(f"clutter_type={str(t[unknown].ravel()[0])!r} is not allowed; "
                         f"allowed: {', '.join(allowed)}")
    return t


def _out(x):
    return x[()] if np.ndim(x) == 0 else x


def height_gain_terminal_correction_db(frequency_ghz, antenna_height_m, clutter_height_m,
                                       clutter_type, *, street_width_m=DEFAULT_STREET_WIDTH_M):
    """Median clutter loss A_h of ITU-R P.2108-1 §3.1, eqs. (2a)-(2g), as the Recommendation
    defines it.

    The loss is relative to a path computed to a terminal at the representative clutter
    height ``clutter_height_m`` (see the module docstring); it is a median (§3.1 has no
    location percentage). Eq. (2b) for ``water_sea`` and ``open_rural``, eq. (2a) for the
    other types; 0 dB where ``antenna_height_m >= clutter_height_m``.

    Parameters
    ----------
    frequency_ghz : array_like
        Frequency, in [0.03, 3] [GHz] (§3.1's range).
    antenna_height_m : array_like
        Terminal antenna height above ground, > 0 [m].
    clutter_height_m : array_like
        Representative clutter height R, > 0 [m] (defaults per type:
        :data:`P2108_DEFAULT_HEIGHT_M`).
    clutter_type : str or array_like of str
        One of :data:`P2108_CLUTTER_TYPES`.
    street_width_m : array_like, optional
        Street width w_s, > 0 [m] (default 27 m, §3.1.1).

    Returns
    -------
    numpy.ndarray or float
        A_h [dB], the broadcast shape of the inputs; NaN where a numeric input is NaN.

    Raises
    ------
    ValueError
        A frequency outside 0.03-3 GHz, a height or street width that is not > 0, or an
        unknown clutter type. Nothing is clamped.

    Examples
    --------
    NTIA/p2108 published test: 1.5 GHz, h = 2 m, R = 15 m, urban, w_s = 27 m: 24.5 dB.

    >>> round(float(height_gain_terminal_correction_db(1.5, 2.0, 15.0, "urban")), 1)
    24.5
    """
    f = _frequency_ghz(frequency_ghz)
    h = _positive("antenna_height_m", antenna_height_m)
    r = _positive("clutter_height_m", clutter_height_m)
    ws = _positive("street_width_m", street_width_m)
    t = _types(clutter_type, P2108_CLUTTER_TYPES)
    f, h, r, ws, t = np.broadcast_arrays(f, h, r, ws, t)
    with np.errstate(invalid="ignore", divide="ignore"):
        h_dif = r - h                                        # (2d)
        below = h_dif > 0
        h_dif = np.where(below, h_dif, 0.0)
        theta_deg = np.degrees(np.arctan(h_dif / ws))        # (2e)
        k_h2 = 21.8 + 6.2 * np.log10(f)                      # (2f)
        k_nu = 0.342 * np.sqrt(f)                            # (2g)
        nu = k_nu * np.sqrt(h_dif * theta_deg)               # (2c)
        a_diffraction = np.asarray(knife_edge_j_db(nu), dtype=np.float64) - 6.03  # (2a)
        a_height_gain = -k_h2 * np.log10(h / r)              # (2b)
    out = np.where(np.isin(t, _HEIGHT_GAIN_TYPES), a_height_gain, a_diffraction)
    out = np.where(below, out, 0.0)
    nan = np.isnan(f) | np.isnan(h) | np.isnan(r) | np.isnan(ws)
    return _out(np.where(nan, np.nan, out))


def terminal_clutter_loss_db(frequency_mhz, terminal_height_m, clutter_height_m, clutter_type,
                             *, street_width_m=DEFAULT_STREET_WIDTH_M):
    """Median clutter loss the engine adds at a terminal (receiver end), by clutter type.

    For the obstructing types (``suburban``, ``urban``, ``trees_forest``, ``dense_urban``)
    this is P.2108-1 §3.1 eq. (2a) (:func:`height_gain_terminal_correction_db`): the
    diffraction loss over clutter of height R at ``street_width_m``, 0 dB when the terminal
    is at or above the clutter. ``open`` and ``water`` add **nothing**.

    Why ``open``/``water`` add nothing, and the reference height. §3.1's A_h is relative
    to a path computed to a terminal at height R; for open/rural and water/sea it is the
    height gain of eq. (2b), from R down to the terminal. The engine's path-loss models
    (Hata, COST-231, RMa, ITM, free space plus diffraction) already predict for a terminal
    at its real height (``propagation.ue_height_m``) over open ground, so that height gain
    is in them; adding eq. (2b) would count the terminal's height twice. The obstructing
    types add eq. (2a) on top of that open-ground prediction. As a check of scale (not a
    reference): at 900 MHz, h = 1.5 m, R = 10 m, w_s = 27 m, suburban gives 18.8 dB, while
    Okumura-Hata's suburban and open-area corrections (Hata 1980 eqs. (6), (7)) differ by
    18.6 dB; the two stay within 1.5 dB of each other from 700 to 1500 MHz (1.9 dB apart
    at 450 MHz, 6 dB at 150 MHz, where eq. (2a) gives less than Hata).

    Location percentage. §3.1 gives a median only. The engine adds it to the median path
    loss of each cell, and the scenario's location variability
    (``propagation.shadowing_sigma_db``, log-normal, with the fade margin for
    ``propagation.location_reliability``) then applies to the total, clutter included: the
    clutter moves the median, the scenario's sigma spreads it. No extra clutter sigma is
    added (P.2108 §3.1 gives none); a planner who wants one raises ``shadowing_sigma_db``.

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency, in [30, 3000] [MHz] (§3.1's 0.03-3 GHz).
    terminal_height_m : array_like
        Terminal (handset) height above ground, > 0 [m].
    clutter_height_m : array_like
        Representative clutter height R, > 0 [m]; unused (may be NaN) for ``open`` and
        ``water``.
    clutter_type : str or array_like of str
        One of :data:`ENGINE_CLUTTER_TYPES`.
    street_width_m : array_like, optional
        Street width w_s, > 0 [m] (default 27 m, P.2108-1 §3.1.1).

    Returns
    -------
    numpy.ndarray or float
        Loss >= 0 [dB], the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        Out-of-range frequency, height or street width, or an unknown type.
    """
    t = _types(clutter_type, ENGINE_CLUTTER_TYPES)
    f_ghz = np.asarray(_frequency_ghz(np.asarray(frequency_mhz, dtype=np.float64) / 1000.0))
    no_loss = np.isin(t, _NO_LOSS_TYPES)
    r = np.asarray(clutter_height_m, dtype=np.float64)
    # open / water: R is not used; give the model a placeholder so it is not checked
    r = np.where(no_loss, np.where(np.isnan(r), 1.0, np.abs(r) + 1.0), r)
    p2108_type = np.where(no_loss, "suburban", t)
    a = height_gain_terminal_correction_db(f_ghz, terminal_height_m, r, p2108_type,
                                           street_width_m=street_width_m)
    return _out(np.where(no_loss, np.where(np.isnan(f_ghz), np.nan, 0.0), a))
