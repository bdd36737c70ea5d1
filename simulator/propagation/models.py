"""Path-loss models by name, with one calling convention for the engine.

Every model here is terrain-free ("area") and takes the horizontal distance from a site to a
cell; the terrain methods (ITM, diffraction) work on profiles and are driven by the
engine's radial path instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fspl import _FSPL_CONST_DB, free_space_loss_db
from .hata import COST231_RANGE, HATA_RANGE, hata_coefficients
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
        False evaluates Hata outside its frequency/height range (documented extrapolation).
    delta_h_m : float
        ITM area mode: terrain irregularity of the region [m].
    itm : dict
        ITM area mode: keyword options of :func:`simulator.propagation.itm.itm_area_loss_db`
        (climate, refractivity, ground, polarization, time/situation percentages).
    """

    name: str = "rma_38901"
    environment: str = "open"
    city_size: str = "small_medium"
    rma_condition: str = "weighted"
    check_parameters: bool = True
    delta_h_m: float = 90.0
    itm: tuple = ()

    def applicability_errors(self, frequency_mhz: float, h_tx_m, h_rx_m) -> list[tuple[str, str]]:
        """Problems with the inputs as ``(parameter, message)``; empty when all are valid."""
        if self.name not in AREA_MODELS:
            return [("model", f"{self.name!r} is not one of {sorted(AREA_MODELS)}")]
        rng = AREA_MODELS[self.name]
        if self.name in ("hata_1980", "cost231_hata") and not self.check_parameters:
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
        engine); distances below 1 m are treated as 1 m.
        """
        d = np.maximum(distance_2d_m, np.asarray(1.0, dtype=distance_2d_m.dtype))
        if self.name == "free_space":
            dz = np.asarray(h_tx_m) - np.asarray(h_rx_m)
            return free_space_loss_db(np.sqrt(d * d + (dz * dz).astype(d.dtype)), frequency_mhz)
        if self.name in ("hata_1980", "cost231_hata"):
            a, b = hata_coefficients(frequency_mhz, h_tx_m, h_rx_m, environment=self.environment,
                                     city_size=self.city_size, model=self.name,
                                     check_parameters=self.check_parameters)
            log_d = np.log10(d)
            a = np.asarray(a, dtype=d.dtype)
            b = np.asarray(b, dtype=d.dtype)
            loss = a + b * (log_d - d.dtype.type(3.0))
            fspl = d.dtype.type(20.0) * log_d + d.dtype.type(
                20.0 * np.log10(frequency_mhz) + _FSPL_CONST_DB)
            return np.maximum(loss, fspl)
        if self.name == "rma_38901":
            out = rma_38901_loss_db(d, frequency_mhz, h_tx_m, h_rx_m, condition=self.rma_condition)
            return out.astype(d.dtype, copy=False)
        if self.name == "itm_area":
            from .itm import itm_area_loss_db

            out = itm_area_loss_db(d.astype(np.float64), frequency_mhz, h_tx_m, h_rx_m,
                                   self.delta_h_m, mdvar=12, **dict(self.itm))
            return np.asarray(out).astype(d.dtype, copy=False)
        raise ValueError(f"unknown path-loss model {self.name!r}")
