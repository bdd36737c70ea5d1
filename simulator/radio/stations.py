"""Station types, radio technologies and the sites of a deployment.

The catalogues live in ``simulator/data/stations.yaml`` and ``technologies.yaml``; every
value carries a ``*_source`` note there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from importlib import resources

import numpy as np
import yaml

#: LTE resource blocks per channel bandwidth (3GPP TS 36.104 Table 5.6-1).
LTE_RESOURCE_BLOCKS = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}


@dataclass(frozen=True)
class StationType:
    """A kind of base station (RuralStar-class pole, macro tower, small cell).

    Attributes are per sector: ``tx_power_dbm`` is the carrier power at the radio output,
    ``antenna_gain_dbi`` the peak gain, ``feeder_loss_db`` the loss between them.
    """

    name: str
    label: str
    height_m: float
    tx_power_dbm: float
    antenna_gain_dbi: float
    sectors: int
    hpbw_h_deg: float
    feeder_loss_db: float
    power_draw_w: float
    hpbw_v_deg: float = 65.0
    downtilt_deg: float = 0.0
    description: str = ""
    pattern_file: str = ""
    #: parsed vendor pattern (simulator.radio.antenna.TabulatedPattern) when pattern_file is set
    pattern: object = field(default=None, compare=False, repr=False)

    @property
    def eirp_dbm(self) -> float:
        """Peak EIRP per sector carrier [dBm]."""
        return self.tx_power_dbm + self.antenna_gain_dbi - self.feeder_loss_db


@dataclass(frozen=True)
class Technology:
    """A radio access technology on one band, with its downlink threshold."""

    name: str
    label: str
    frequency_mhz: float
    bandwidth_mhz: float
    signal_metric: str
    dl_threshold_dbm: float
    ue_tx_power_dbm: float
    ue_antenna_gain_dbi: float
    body_loss_db: float
    ue_noise_figure_db: float = 9.0
    bs_noise_figure_db: float = 5.0
    ul_bandwidth_khz: float = 360.0
    ul_required_sinr_db: float = -1.0
    dl_required_sinr_db: float = -6.0
    shannon_alpha: float | None = None
    shannon_sinr_min_db: float = -10.0
    shannon_max_bps_per_hz: float = 4.4
    overhead_fraction: float = 0.25

    @property
    def metric_bandwidth_hz(self) -> float:
        """Bandwidth of the signal metric: one 15 kHz subcarrier for RSRP, the carrier
        for RxLev (so noise and interference compare with the signal like for like)."""
        return 15e3 if self.signal_metric == "rsrp" else self.bandwidth_mhz * 1e6

    @property
    def carries_data(self) -> bool:
        return self.shannon_alpha is not None

    @property
    def metric_offset_db(self) -> float:
        """dB to subtract from the total carrier power to get the threshold's metric.

        RSRP is the power of one resource element (15 kHz subcarrier): total power minus
        ``10 log10(12 N_RB)`` (3GPP TS 36.214 section 5.1.1). RxLev is the carrier power (0 dB).
        """
        if self.signal_metric == "rxlev":
            return 0.0
        n_rb = LTE_RESOURCE_BLOCKS.get(float(self.bandwidth_mhz))
        if n_rb is None:
            raise ValueError(f"LTE bandwidth {self.bandwidth_mhz} MHz is not one of "
                             f"{sorted(LTE_RESOURCE_BLOCKS)}")
        return 10.0 * np.log10(12 * n_rb)


def _read_catalogue(filename: str) -> dict[str, dict]:
    text = resources.files("simulator.data").joinpath(filename).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _strip_sources(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.endswith("_source")}


def catalogue_sources(filename: str) -> dict[str, dict[str, str]]:
    """The ``*_source`` notes of a catalogue file, by entry and field."""
    return {name: {k[:-7]: v for k, v in e.items() if k.endswith("_source")}
            for name, e in _read_catalogue(filename).items()}


def _build(cls, name: str, values: dict):
    allowed = {f.name for f in fields(cls)} - {"name"}
    return cls(name=name, **{k: v for k, v in values.items() if k in allowed})


def station_catalogue(overrides: dict[str, dict] | None = None) -> dict[str, StationType]:
    """Station types from the packaged catalogue, with scenario overrides applied.

    ``overrides[name]`` updates fields of an existing type, or defines a new type from
    ``base:`` (another type's name) plus changed fields.
    """
    raw = {k: _strip_sources(v) for k, v in _read_catalogue("stations.yaml").items()}
    for name, change in (overrides or {}).items():
        change = dict(change)
        base = change.pop("base", None)
        start = dict(raw[base]) if base else dict(raw.get(name, {}))
        start.setdefault("label", name)
        start.update(change)
        raw[name] = start
    return {name: _build(StationType, name, v) for name, v in raw.items()}


def technology_catalogue() -> dict[str, Technology]:
    """Technologies from the packaged catalogue."""
    return {name: _build(Technology, name, _strip_sources(v))
            for name, v in _read_catalogue("technologies.yaml").items()}


def technology_with(base: Technology, **changes) -> Technology:
    return replace(base, **changes)


@dataclass
class Sites:
    """The sites of a deployment, as parallel arrays (one entry per site).

    Attributes
    ----------
    names : list of str
    x_m, y_m : numpy.ndarray
        Position in the grid's CRS [m].
    station : list of str
        Station type name per site.
    existing : numpy.ndarray
        bool: True for sites already on air (the baseline), False for new ones.
    azimuth_deg : numpy.ndarray
        Azimuth of the first sector [deg clockwise from north]; sectors are spread evenly.
    build_year : numpy.ndarray
        int: programme year in which each site is built (0, the default, for every site
        already there or built at the start); its capex falls in that year and its users,
        opex and revenue start then (:func:`simulator.business.assessment.assess`). [years]
    """

    names: list[str]
    x_m: np.ndarray
    y_m: np.ndarray
    station: list[str]
    existing: np.ndarray
    azimuth_deg: np.ndarray = field(default=None)
    build_year: np.ndarray = field(default=None)

    def __post_init__(self):
        self.x_m = np.asarray(self.x_m, dtype=float)
        self.y_m = np.asarray(self.y_m, dtype=float)
        self.existing = np.asarray(self.existing, dtype=bool)
        if self.azimuth_deg is None:
            self.azimuth_deg = np.zeros(len(self.x_m))
        self.azimuth_deg = np.asarray(self.azimuth_deg, dtype=float)
        if self.build_year is None:
            self.build_year = np.zeros(len(self.x_m), dtype=np.int64)
        self.build_year = np.asarray(self.build_year, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.x_m)

    @classmethod
    def empty(cls) -> "Sites":
        return cls([], np.zeros(0), np.zeros(0), [], np.zeros(0, bool), np.zeros(0),
                   np.zeros(0, np.int64))

    def concat(self, other: "Sites") -> "Sites":
        return Sites(self.names + other.names, np.r_[self.x_m, other.x_m],
                     np.r_[self.y_m, other.y_m], self.station + other.station,
                     np.r_[self.existing, other.existing],
                     np.r_[self.azimuth_deg, other.azimuth_deg],
                     np.r_[self.build_year, other.build_year])

    def subset(self, index) -> "Sites":
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return Sites([self.names[i] for i in index], self.x_m[index], self.y_m[index],
                     [self.station[i] for i in index], self.existing[index],
                     self.azimuth_deg[index], self.build_year[index])

    def attribute(self, catalogue: dict[str, StationType], name: str) -> np.ndarray:
        """An attribute of each site's station type, as an array."""
        return np.array([getattr(catalogue[s], name) for s in self.station], dtype=float)
