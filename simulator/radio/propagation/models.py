"""Path-loss models by name, with one calling convention for the engine.

Every model here is terrain-free ("area") and takes the horizontal distance from a site to a
cell; the terrain methods (ITM, diffraction) work on profiles and are driven by the
engine's radial path instead.

A fitted measurement correction (``propagation.calibration``, :mod:`simulator.calibration`)
is part of the model: :meth:`PathLossModel.loss_db` adds
:func:`calibration_correction_db` to the model's own loss, so the engine, the terrain
methods built on a base model and the planner all apply it without knowing of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fspl import _FSPL_CONST_DB, free_space_loss_db
from ._common import check_range
from .hata import (COST231_MOBILE_CORRECTIONS, COST231_RANGE, FREE_SPACE_FLOORS, HATA_RANGE,
                   apply_free_space_floor, hata_coefficients)
from .rma import RMA_RANGE, rma_38901_loss_db

#: Names accepted in ``propagation.model`` and the valid ranges the scenario checks.
AREA_MODELS = {
    "free_space": {"frequency_mhz": (1.0, 1.0e5), "h_tx_m": (0.0, 1.0e4), "h_rx_m": (0.0, 1.0e4)},
    "hata_1980": {"frequency_mhz": HATA_RANGE["frequency_mhz"], "h_tx_m": HATA_RANGE["h_base_m"],
                  "h_rx_m": HATA_RANGE["h_mobile_m"]},
    "cost231_hata": {"frequency_mhz": COST231_RANGE["frequency_mhz"],
                     "h_tx_m": COST231_RANGE["h_base_m"], "h_rx_m": COST231_RANGE["h_mobile_m"]},
    "rma_38901": {"frequency_mhz": RMA_RANGE["frequency_mhz"], "h_tx_m": RMA_RANGE["h_bs_m"],
                  "h_rx_m": RMA_RANGE["h_ut_m"]},
    "itm_area": {"frequency_mhz": (20.0, 20000.0), "h_tx_m": (0.5, 3000.0),
                 "h_rx_m": (0.5, 3000.0)},
}


def calibration_correction_db(distance_m, offset_db=0.0, slope_db_per_decade=0.0,
                              reference_distance_m=1000.0):
    r"""The measured correction added to a model's path loss [dB].

    .. math:: \Delta L = K_1 + K_2 \log_{10}(d / d_0)

    the offset and distance-slope terms of the standard propagation model calibration
    (the K1/K2 of commercial planning tools' "Standard Propagation Model"; e.g. Mentor /
    Forsk Atoll SPM, and the tuning procedure of COST 231 final report §4.7): a positive
    ``offset_db`` means the model predicted too little loss at ``reference_distance_m``,
    a positive slope that its loss grew too slowly with distance.

    Parameters
    ----------
    distance_m : array_like
        Horizontal distance [m]; distances below 1 m are taken as 1 m (as
        :meth:`PathLossModel.loss_db` does).
    offset_db : float
        K1, the correction at the reference distance [dB].
    slope_db_per_decade : float
        K2, the change of the correction per decade of distance [dB/decade].
    reference_distance_m : float
        d0, > 0 [m].

    Returns
    -------
    numpy.ndarray
        The correction, broadcast over ``distance_m``; float32 when ``distance_m`` is
        float32 (engine use), float64 otherwise.
    """
    if not reference_distance_m > 0:
        raise ValueError(f"reference_distance_m={reference_distance_m} must be > 0 m")
    d = np.asarray(distance_m)
    dtype = np.float32 if d.dtype == np.float32 else np.float64
    d = np.maximum(d.astype(dtype, copy=False), dtype(1.0))
    if slope_db_per_decade == 0.0:
        return np.full(d.shape, offset_db, dtype=dtype)[()] if d.ndim else dtype(offset_db)
    out = dtype(offset_db) + dtype(slope_db_per_decade) * (
        np.log10(d) - dtype(np.log10(reference_distance_m)))
    return out.astype(dtype, copy=False)


@dataclass(frozen=True)
class PathLossModel:
    """A configured area path-loss model.

    Parameters
    ----------
    name : str
        One of :data:`AREA_MODELS`.
    environment : {"urban", "suburban", "open"}
        Hata / COST-231 clutter class.
    city_size : {"small_medium", "large"}
        Hata a(h_m) variant.
    rma_condition : {"los", "nlos", "weighted"}
        RMa propagation condition.
    check_parameters : bool
        False evaluates Hata, COST-231 and RMa outside their frequency/height ranges
        (documented extrapolation).
    delta_h_m : float
        ITM area mode: terrain irregularity of the region [m].
    itm : dict
        ITM area mode: keyword options of :func:`simulator.radio.propagation.itm.itm_area_loss_db`
        (climate, refractivity, ground, polarization, time/situation percentages).
    free_space_floor : {"always", "outside_validity", "never"}
        Hata, COST-231, RMa: where the loss is bounded below by free space
        (:func:`simulator.radio.propagation.hata.apply_free_space_floor`; docs/validation.md).
    cost231_mobile_correction : {"city_size", "small_medium"}
        COST-231's a(h_m): by ``city_size`` (Hata eq. 4/5) or always small/medium-city, as
        COST 231 quotes it (:func:`simulator.radio.propagation.hata.hata_coefficients`).
    calibration_offset_db, calibration_slope_db_per_decade, calibration_reference_m : float
        The measured correction (:func:`calibration_correction_db`) added to every loss;
        0 dB by default (no calibration) [dB, dB/decade, m].
    """

    name: str = "rma_38901"
    environment: str = "open"
    city_size: str = "small_medium"
    rma_condition: str = "weighted"
    check_parameters: bool = True
    delta_h_m: float = 90.0
    itm: tuple = ()
    free_space_floor: str = "always"
    cost231_mobile_correction: str = "city_size"
    calibration_offset_db: float = 0.0
    calibration_slope_db_per_decade: float = 0.0
    calibration_reference_m: float = 1000.0

    def __post_init__(self):
        if self.free_space_floor not in FREE_SPACE_FLOORS:
            raise ValueError(f"free_space_floor={self.free_space_floor!r} is not one of "
                             f"{FREE_SPACE_FLOORS}")
        if self.cost231_mobile_correction not in COST231_MOBILE_CORRECTIONS:
            raise ValueError(f"cost231_mobile_correction={self.cost231_mobile_correction!r} "
                             f"is not one of {COST231_MOBILE_CORRECTIONS}")

    @property
    def calibrated(self) -> bool:
        """True when a measured correction is applied."""
        return self.calibration_offset_db != 0.0 or self.calibration_slope_db_per_decade != 0.0

    def calibration_db(self, distance_2d_m):
        """The measured correction at horizontal distances [dB] (0 without calibration);
        float32 for float32 distances."""
        return calibration_correction_db(distance_2d_m, self.calibration_offset_db,
                                         self.calibration_slope_db_per_decade,
                                         self.calibration_reference_m)

    def applicability_errors(self, frequency_mhz: float, h_tx_m, h_rx_m) -> list[tuple[str, str]]:
        """Problems with the inputs as ``(parameter, message)``; empty when all are valid."""
        if self.name not in AREA_MODELS:
            return [("model", f"{self.name!r} is not one of {sorted(AREA_MODELS)}")]
        rng = AREA_MODELS[self.name]
        if self.name in ("hata_1980", "cost231_hata", "rma_38901") and not self.check_parameters:
            return []
        out = []
        for key, values, unit in [("frequency_mhz", frequency_mhz, "MHz"), ("h_tx_m", h_tx_m, "m"),
                                  ("h_rx_m", h_rx_m, "m")]:
            values = np.atleast_1d(np.asarray(values, dtype=float))
            lo, hi = rng[key]
            bad = values[(values < lo) | (values > hi)]
            if bad.size:
                out.append((key, f"{bad[0]:g} {unit} is outside {self.name}'s valid range "
                                 f"{lo:g}-{hi:g} {unit}"))
        return out

    def loss_db(self, distance_2d_m: np.ndarray, frequency_mhz: float, h_tx_m, h_rx_m):
        """Path loss [dB] for horizontal distances (any shape), broadcast with the heights.

        For Hata-type models the result keeps the dtype of ``distance_2d_m`` (float32 in the
        engine); distances below 1 m are treated as 1 m. The calibration correction, when
        set, is included (:meth:`calibration_db`).
        """
        loss = self.uncalibrated_loss_db(distance_2d_m, frequency_mhz, h_tx_m, h_rx_m)
        if not self.calibrated:
            return loss
        return (loss + self.calibration_db(distance_2d_m)).astype(loss.dtype, copy=False)

    def hata_float32_terms(self, frequency_mhz: float, h_tx_m: float, h_rx_m: float):
        """``(A, B, F, floored)`` of float32 Hata / COST-231 losses at one antenna height,
        for compiled loops (the engine's): :meth:`loss_db` of float32 distances ``d`` is
        ``A + B (lg - 3)``, bounded below by ``20 lg + F`` when ``floored``, with
        ``lg = log10(max(d, 1))``, every operation in float32 (numpy.float32 scalars).
        None for other models, a calibrated model or the ``outside_validity`` floor."""
        if self.name not in ("hata_1980", "cost231_hata") or self.calibrated or \
                self.free_space_floor not in ("always", "never"):
            return None
        f32 = np.float32
        a, b = hata_coefficients(frequency_mhz, np.asarray([[h_tx_m]], dtype=np.float64),
                                 h_rx_m, environment=self.environment,
                                 city_size=self.city_size, model=self.name,
                                 check_parameters=self.check_parameters,
                                 cost231_mobile_correction=self.cost231_mobile_correction)
        a = np.asarray(a, dtype=f32).reshape(-1)[0]
        b = np.asarray(b, dtype=f32).reshape(-1)[0]
        fconst = f32(20.0 * np.log10(frequency_mhz) + _FSPL_CONST_DB)
        return a, b, fconst, self.free_space_floor == "always"

    def uncalibrated_loss_db(self, distance_2d_m, frequency_mhz: float, h_tx_m, h_rx_m, *,
                             free_space_floor: str | None = None):
        """The model's own loss [dB], without the calibration correction.

        ``free_space_floor`` overrides the model's convention (e.g. ``"never"`` to see the
        formula alone).
        """
        distance_2d_m = np.asarray(distance_2d_m)
        if distance_2d_m.dtype.kind != "f":
            distance_2d_m = distance_2d_m.astype(np.float64)
        d = np.maximum(distance_2d_m, np.asarray(1.0, dtype=distance_2d_m.dtype))
        floor = self.free_space_floor if free_space_floor is None else free_space_floor
        if self.name == "free_space":
            dz = np.asarray(h_tx_m) - np.asarray(h_rx_m)
            return free_space_loss_db(np.sqrt(d * d + (dz * dz).astype(d.dtype)), frequency_mhz)
        if self.name in ("hata_1980", "cost231_hata"):
            a, b = hata_coefficients(frequency_mhz, h_tx_m, h_rx_m, environment=self.environment,
                                     city_size=self.city_size, model=self.name,
                                     check_parameters=self.check_parameters,
                                     cost231_mobile_correction=self.cost231_mobile_correction)
            log_d = np.log10(d)
            a = np.asarray(a, dtype=d.dtype)
            b = np.asarray(b, dtype=d.dtype)
            loss = a + b * (log_d - d.dtype.type(3.0))
            if floor == "never":
                return loss
            fspl = d.dtype.type(20.0) * log_d + d.dtype.type(
                20.0 * np.log10(frequency_mhz) + _FSPL_CONST_DB)
            return apply_free_space_floor(loss, fspl, d, *HATA_RANGE["distance_m"], floor)
        if self.name == "rma_38901":
            if d.dtype == np.float32:
                return _rma_float32(d, frequency_mhz, h_tx_m, h_rx_m, self.rma_condition,
                                    floor, self.check_parameters)
            out = rma_38901_loss_db(d, frequency_mhz, h_tx_m, h_rx_m, condition=self.rma_condition,
                                    fspl_floor=floor, check_parameters=self.check_parameters)
            return out.astype(d.dtype, copy=False)
        if self.name == "itm_area":
            from .itm import itm_area_loss_db

            out = itm_area_loss_db(d.astype(np.float64), frequency_mhz, h_tx_m, h_rx_m,
                                   self.delta_h_m, mdvar=12, **dict(self.itm))
            return np.asarray(out).astype(d.dtype, copy=False)
        raise ValueError(f"unknown path-loss model {self.name!r}")

    def floor_decided(self, distance_2d_m, frequency_mhz: float, h_tx_m, h_rx_m):
        """bool: where the free-space floor, not the model's formula, gives the loss.

        Always False for models without a floor (free space, ITM area mode) and with
        ``free_space_floor="never"``.
        """
        d = np.asarray(distance_2d_m)
        if self.name not in ("hata_1980", "cost231_hata", "rma_38901") or \
                self.free_space_floor == "never":
            return np.zeros(np.broadcast(d, np.asarray(h_tx_m), np.asarray(h_rx_m)).shape, bool)
        raw = self.uncalibrated_loss_db(d, frequency_mhz, h_tx_m, h_rx_m,
                                        free_space_floor="never")
        floored = self.uncalibrated_loss_db(d, frequency_mhz, h_tx_m, h_rx_m)
        return floored > raw


def _rma_float32(d2d, frequency_mhz, h_bs_m, h_ut_m, condition, floor="always",
                 check_parameters=True):
    """TR 38.901 RMa for the engine: float32 pairs, per-site constants in float64.

    The same formulas as :func:`simulator.radio.propagation.rma.rma_38901_loss_db` (default
    building height 5 m, street width 20 m, free-space floor policy ``floor``), rearranged so each pair
    costs one square root, one log10 and (for ``weighted``) one exp:
    ``PL1 = K1 + (20 + c1) log10 d3D + c3 d3D`` and
    ``PL'_NLOS = A + B (log10 d3D - 3)``. Agrees with the reference to float32 precision
    (tested).
    """
    from .rma import RMA_RANGE, rma_breakpoint_m

    if check_parameters:
        check_range("rma_38901 frequency_mhz", frequency_mhz, *RMA_RANGE["frequency_mhz"],
                    "MHz")
        check_range("rma_38901 h_bs_m", h_bs_m, *RMA_RANGE["h_bs_m"], "m")
        check_range("rma_38901 h_ut_m", h_ut_m, *RMA_RANGE["h_ut_m"], "m")
    f32 = np.float32
    h, w = 5.0, 20.0
    fc = float(frequency_mhz) / 1000.0
    hbs = np.asarray(h_bs_m, dtype=np.float64)
    hut = np.asarray(h_ut_m, dtype=np.float64)
    c1 = min(0.03 * h**1.72, 10.0)
    c2 = min(0.044 * h**1.72, 14.77)
    c3 = 0.002 * np.log10(h)
    k1 = 20.0 * np.log10(40.0 * np.pi * fc / 3.0) - c2
    d_bp = rma_breakpoint_m(frequency_mhz, hbs, hut)
    pl1_bp = k1 + (20.0 + c1) * np.log10(d_bp) + c3 * d_bp
    dz = (hbs - hut).astype(np.float32)
    d3d = np.sqrt(d2d * d2d + dz * dz)
    lg = np.log10(d3d)
    pl1 = f32(k1) + f32(20.0 + c1) * lg + f32(c3) * d3d
    pl2 = f32(pl1_bp) + f32(40.0) * (lg - np.log10(d_bp).astype(np.float32))
    los = np.where(d2d <= d_bp.astype(np.float32), pl1, pl2)
    if condition == "los":
        loss = los
    else:
        a_n = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
               - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs) + 20.0 * np.log10(fc)
               - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97))
        b_n = 43.42 - 3.1 * np.log10(hbs)
        nlos = np.maximum(los, a_n.astype(np.float32) + b_n.astype(np.float32) * (lg - f32(3.0)))
        if condition == "nlos":
            loss = nlos
        else:
            p = np.where(d2d <= 10.0, f32(1.0), np.exp((f32(10.0) - d2d) / f32(1000.0)))
            loss = nlos + p * (los - nlos)
    if floor == "never":
        return loss
    fspl = f32(20.0) * lg + f32(20.0 * np.log10(float(frequency_mhz)) + _FSPL_CONST_DB)
    high = RMA_RANGE["distance_nlos_m" if condition == "nlos" else "distance_los_m"][1]
    return apply_free_space_floor(loss, fspl, d2d, 10.0, high, floor)


def free_space_floor_reach_m(model: PathLossModel, frequency_mhz: float, h_tx_m: float,
                             h_rx_m: float, max_distance_m: float) -> float:
    """The farthest distance (up to ``max_distance_m``) at which the free-space floor, not
    the model's formula, gives the loss [m]; 0 where it never does.

    Found on a 4000-point logarithmic grid from 1 m (so the result is accurate to 0.2 %).
    """
    d = np.geomspace(1.0, max(float(max_distance_m), 1.0), 4000)
    decided = model.floor_decided(d, frequency_mhz, h_tx_m, h_rx_m)
    return float(d[decided].max()) if np.any(decided) else 0.0


def free_space_floor_warnings(model: PathLossModel, frequency_mhz: float,
                              heights_by_type: dict, sites_by_type: dict, h_rx_m: float,
                              region_area_km2: float, max_distance_m: float) -> list[str]:
    """One line per station type whose losses the free-space floor decides on at least
    0.1 % of the region (beyond 10 m from the sites).

    Parameters
    ----------
    heights_by_type, sites_by_type : dict
        Antenna height [m] and number of sites per station type.
    region_area_km2 : float
        For the share of the region within the floor's reach (an upper bound: discs may
        overlap or leave the region) [km2].
    """
    out = []
    for st, h in heights_by_type.items():
        reach = free_space_floor_reach_m(model, frequency_mhz, h, h_rx_m, max_distance_m)
        if reach <= 10.0:
            continue
        area = sites_by_type.get(st, 0) * np.pi * (reach / 1000.0) ** 2
        share = min(100.0, 100.0 * area / region_area_km2) if region_area_km2 > 0 else 0.0
        if share < 0.1:
            continue
        out.append(f"the free-space floor (propagation.free_space_floor: "
                   f"{model.free_space_floor}) gives the loss instead of {model.name}'s "
                   f"formula within {reach:,.0f} m of {st} sites ({h:g} m): up to "
                   f"{share:.1f} % of the region")
    return out
