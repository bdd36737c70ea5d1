"""The scenario schema: one pydantic model per YAML section, units in every key.

Unknown keys are errors (``extra="forbid"``), every number has bounds, and every default is
documented in docs/scenario.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionSpec(_Section):
    """Where and how fine: the scenario's grid."""

    centre_lon_lat: tuple[float, float] = Field(
        (35.0, -6.0), description="Centre of the region (longitude, latitude) [deg, WGS 84].")
    crs: Optional[str] = Field(
        None, description="Projected metric CRS (e.g. 'EPSG:32736'); default: the UTM zone "
                          "of the centre.")
    width_km: float = Field(40.0, gt=0, le=3000, description="East-west extent [km].")
    height_km: float = Field(30.0, gt=0, le=3000, description="North-south extent [km].")
    resolution_m: float = Field(100.0, ge=5, le=5000, description="Cell size [m].")
    tile_size_cells: int = Field(256, ge=16, le=8192,
                                 description="Tile side for the engine [cells]; results do "
                                             "not depend on it, memory does.")
    boundary: Optional[str] = Field(
        None, description="Region boundary polygon: a GeoJSON or any vector file geopandas "
                          "reads, in any CRS (reprojected to the grid's). Cells whose centre "
                          "is outside it are masked: no people counted, no area covered. "
                          "Path relative to the scenario file's folder.")

    @field_validator("centre_lon_lat")
    @classmethod
    def _lon_lat(cls, v):
        lon, lat = v
        if not (-180 <= lon <= 180 and -80 <= lat <= 84):
            raise ValueError("longitude must be in [-180, 180] and latitude in [-80, 84] "
                             "(UTM coverage)")
        return v


class SyntheticPopulationSpec(_Section):
    """Clustered synthetic settlements (Thomas process) plus dispersed households."""

    total_people: int = Field(60000, ge=0, le=2_000_000_000, description="People in the region (exact).")
    settlements: int = Field(45, ge=0, le=5_000_000, description="Number of villages and towns.")
    clusters: Optional[int] = Field(None, ge=1, description="Cluster parents (market towns); "
                                                            "default settlements // 6.")
    cluster_radius_km: float = Field(4.0, gt=0, le=500, description="Spread of villages "
                                                                    "around their cluster [km].")
    dispersed_share: float = Field(0.15, ge=0, le=1, description="Share of people in dispersed "
                                                                 "households [0-1].")
    settlement_size_sigma: float = Field(1.0, gt=0, le=3, description="Log-normal sigma of "
                                                                      "settlement sizes.")
    settlement_radius_m: float = Field(250.0, gt=0, le=20000,
                                       description="Footprint (Gaussian sigma) of a "
                                                   "1,000-person settlement [m].")
    household_size: float = Field(5.0, ge=1, le=30, description="People per dispersed household.")


class RasterPopulationSpec(_Section):
    """People per cell from a GeoTIFF (WorldPop, HRSL/Meta, GHS-POP ...), in any CRS.

    The raster is reprojected onto the scenario grid keeping the people total: people per
    source cell become a density (people per m2 of the source cell's true area), the density
    is resampled with area-weighted averaging (``rasterio.warp``, ``Resampling.average``),
    multiplied by the grid cell area, then scaled so the total equals the people the raster
    holds inside the region (source cells whose centre is inside the grid rectangle and the
    boundary), and rounded to whole people by largest remainders.
    """

    file: str = Field(description="GeoTIFF of people per cell; path relative to the "
                                  "scenario file's folder.")
    band: int = Field(1, ge=1, description="Band to read.")


class PopulationSpec(_Section):
    """Exactly one source: ``synthetic`` or ``raster``."""

    synthetic: Optional[SyntheticPopulationSpec] = None
    raster: Optional[RasterPopulationSpec] = None

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("synthetic", "raster") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one population source: 'synthetic: {...}' or "
                             f"'raster: {{file: ...}}' (got {', '.join(given) or 'none'})")
        return self


class PropagationSpec(_Section):
    """Path-loss model and location variability."""

    model: Literal["rma_38901", "hata_1980", "cost231_hata", "free_space"] = "rma_38901"
    environment: Literal["open", "suburban", "urban"] = Field(
        "open", description="Hata/COST-231 clutter class.")
    city_size: Literal["small_medium", "large"] = "small_medium"
    rma_condition: Literal["weighted", "los", "nlos"] = Field(
        "weighted", description="RMa: LOS, NLOS, or LOS-probability weighted.")
    extrapolate_parameters: bool = Field(
        False, description="Allow Hata/COST-231 outside their frequency and antenna-height "
                           "ranges (e.g. a 15 m pole with Hata's 30-200 m).")
    shadowing_sigma_db: float = Field(8.0, ge=0, le=20, description="Log-normal shadowing "
                                                                    "standard deviation [dB].")
    location_reliability: float = Field(0.75, gt=0, lt=1, description="Probability that the "
                                        "signal at a location exceeds the threshold [0-1].")
    ue_height_m: float = Field(1.5, gt=0, le=30, description="Handset height above ground [m].")
    max_range_km: float = Field(40.0, gt=0, le=300, description="No site is evaluated beyond "
                                                                "this distance [km].")
    floor_below_threshold_db: float = Field(
        20.0, ge=0, le=60, description="The engine evaluates each site out to where its "
                                       "signal is this far below the threshold [dB].")


class TechnologySpec(_Section):
    """A technology from the catalogue, with optional changes."""

    base: str = "lte_900"
    frequency_mhz: Optional[float] = Field(None, gt=0)
    bandwidth_mhz: Optional[float] = Field(None, gt=0)
    dl_threshold_dbm: Optional[float] = Field(None, ge=-160, le=0)
    ue_tx_power_dbm: Optional[float] = Field(None, ge=-10, le=40)
    ue_antenna_gain_dbi: Optional[float] = Field(None, ge=-20, le=20)
    body_loss_db: Optional[float] = Field(None, ge=0, le=30)


class StationSpec(_Section):
    """Changes to a catalogue station type, or a new type built on ``base``."""

    base: Optional[str] = None
    label: Optional[str] = None
    description: Optional[str] = None
    height_m: Optional[float] = Field(None, gt=0, le=3000)
    tx_power_dbm: Optional[float] = Field(None, ge=-10, le=70)
    antenna_gain_dbi: Optional[float] = Field(None, ge=-10, le=30)
    sectors: Optional[int] = Field(None, ge=1, le=12)
    hpbw_h_deg: Optional[float] = Field(None, gt=0, le=360)
    feeder_loss_db: Optional[float] = Field(None, ge=0, le=20)
    power_draw_w: Optional[float] = Field(None, ge=0, le=100000)


class SitePosition(_Section):
    """One explicitly placed site: projected ``x_m``/``y_m`` or ``lon``/``lat``."""

    name: Optional[str] = None
    x_m: Optional[float] = None
    y_m: Optional[float] = None
    lon: Optional[float] = Field(None, ge=-180, le=180)
    lat: Optional[float] = Field(None, ge=-90, le=90)
    azimuth_deg: float = Field(0.0, ge=0, lt=360)

    @model_validator(mode="after")
    def _xy_or_lonlat(self):
        has_xy = self.x_m is not None and self.y_m is not None
        has_ll = self.lon is not None and self.lat is not None
        if has_xy == has_ll:
            raise ValueError("give either x_m and y_m, or lon and lat")
        return self


class SiteGroupSpec(_Section):
    """A group of sites of one station type.

    ``placement``: ``largest_settlements`` puts sites on the largest settlements that are at
    least ``min_spacing_km`` from every site placed before; ``grid`` on a regular grid;
    ``random`` uniformly (seeded); ``list`` at ``positions``.
    """

    station: str
    placement: Literal["largest_settlements", "grid", "random", "list"] = "largest_settlements"
    count: int = Field(0, ge=0, le=1_000_000)
    min_spacing_km: float = Field(3.0, ge=0, le=500)
    positions: Optional[list[SitePosition]] = None

    @model_validator(mode="after")
    def _positions(self):
        if self.placement == "list" and not self.positions:
            raise ValueError("placement 'list' needs 'positions'")
        if self.placement != "list" and self.positions:
            raise ValueError("'positions' goes with placement: list")
        return self


#: Default OpenCelliD ``radio`` -> station type mapping (every on-air technology is a macro
#: tower unless the scenario says otherwise; CDMA and anything else is skipped).
DEFAULT_RADIO_MAP = {"GSM": "macro", "UMTS": "macro", "LTE": "macro", "NR": "macro"}


class TowersFileSpec(_Section):
    """Existing towers from a CSV in the OpenCelliD column layout.

    Columns ``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,
    averageSignal`` (a header row is required; extra columns are ignored). Each row is one
    cell; cells of a mapped radio type within ``cluster_m`` of each other (single linkage)
    become one site at their mean position, with the station type most of its cells map to.
    Rows outside the region or with an unmapped radio are skipped and counted in the summary.
    """

    file: str = Field(description="CSV file; path relative to the scenario file's folder.")
    radio_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_RADIO_MAP),
        description="OpenCelliD radio (GSM, UMTS, LTE, NR, CDMA) -> station type; default "
                    "GSM/UMTS/LTE/NR -> macro.")
    default_station: Optional[str] = Field(
        None, description="Station type for radios missing from radio_map; default none "
                          "(such rows are skipped and counted).")
    cluster_m: float = Field(100.0, ge=0, le=5000,
                             description="Cells closer than this join one site [m].")
    mcc: Optional[list[int]] = Field(None, description="Keep only these mobile country codes.")
    net: Optional[list[int]] = Field(None, description="Keep only these network codes "
                                                       "(one operator).")

    @field_validator("radio_map")
    @classmethod
    def _upper(cls, v):
        return {str(k).upper(): s for k, s in v.items()}


class SitesSpec(_Section):
    """Existing site groups, existing towers from CSV files, and new site groups."""

    existing: list[SiteGroupSpec] = Field(default_factory=list)
    existing_towers: list[TowersFileSpec] = Field(
        default_factory=list, description="Existing towers from OpenCelliD-format CSV files "
                                          "(one mapping or a list).")
    new: list[SiteGroupSpec] = Field(default_factory=list)

    @field_validator("existing", "existing_towers", "new", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, dict) else v


class OutputsSpec(_Section):
    dir: Optional[str] = Field(None, description="Results folder; default results/<name>.")
    maps: bool = True
    report: bool = Field(True, description="Write report.html (headline numbers, maps, tables, "
                                           "parameters; opens from disk, no server).")


class Scenario(_Section):
    """A whole scenario: the root of the YAML file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                      description="Scenario name (letters, digits, '_', '-', '.').")
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    region: RegionSpec = Field(default_factory=RegionSpec)
    population: PopulationSpec = Field(
        default_factory=lambda: PopulationSpec(synthetic=SyntheticPopulationSpec()))
    terrain: Literal["flat"] = "flat"
    technology: Union[str, TechnologySpec] = "lte_900"
    propagation: PropagationSpec = Field(default_factory=PropagationSpec)
    stations: dict[str, StationSpec] = Field(default_factory=dict)
    sites: SitesSpec = Field(default_factory=SitesSpec)
    outputs: OutputsSpec = Field(default_factory=OutputsSpec)

    #: The file the scenario came from (set by the loader; not a YAML key).
    _source_path: Optional[Path] = PrivateAttr(None)

    @property
    def source_path(self) -> Optional[Path]:
        return self._source_path


def _type_name(annotation) -> str:
    import typing

    origin = typing.get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation))
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin is Union:
        return " or ".join(_type_name(a) for a in args)
    return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"


def markdown_reference() -> str:
    """The scenario key reference (docs/scenario.md), generated from the schema."""
    sections = [("(top level)", Scenario), ("region", RegionSpec),
                ("population", PopulationSpec),
                ("population.synthetic", SyntheticPopulationSpec),
                ("population.raster", RasterPopulationSpec),
                ("technology (mapping form)", TechnologySpec),
                ("propagation", PropagationSpec), ("stations.<name>", StationSpec),
                ("sites", SitesSpec), ("sites.existing[] / sites.new[]", SiteGroupSpec),
                ("sites.*[].positions[]", SitePosition),
                ("sites.existing_towers[]", TowersFileSpec), ("outputs", OutputsSpec)]
    lines = ["# Scenario keys", "",
             "Generated from `simulator/schema.py` by `simulator.schema.markdown_reference()`;",
             "a test keeps this file in step with the code. Unknown keys are errors.", ""]
    for title, model in sections:
        lines += [f"## `{title}`", ""]
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        if doc:
            lines += [doc, ""]
        lines += ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
        for name, f in model.model_fields.items():
            bounds = []
            for m in f.metadata:
                for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
                    v = getattr(m, attr, None)
                    if v is not None:
                        bounds.append(f"{sym} {v}")
                if getattr(m, "pattern", None):
                    bounds.append(f"pattern `{m.pattern}`")
            if f.is_required():
                default = "required"
            elif f.default_factory is not None:
                default = "(section defaults)"
            else:
                default = f"`{f.default!r}`"
            desc = (f.description or "").replace("|", "/")
            lines.append(f"| `{name}` | {_type_name(f.annotation).replace('|', '/')} | "
                         f"{default} | {', '.join(bounds)} | {desc} |")
        lines.append("")
    return "\n".join(lines)
