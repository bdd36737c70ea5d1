"""The scenario schema: one pydantic model per YAML section, units in every key.

Unknown keys are errors (``extra="forbid"``), every number has bounds, and every default is
documented in docs/scenario.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


def _numeric(annotation) -> bool:
    """int or float, alone or in Optional/Union (a union holding bool is not numeric)."""
    import typing

    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and bool not in args and all(a in (int, float) for a in args)
    return False


def _bool_where_number(annotation, value) -> bool:
    """A YAML boolean (yes/no/on/off/true/false) given where the schema wants a number,
    also inside a tuple, list or mapping of numbers."""
    import typing

    if isinstance(value, bool):
        return _numeric(annotation)
    origin = typing.get_origin(annotation)
    if origin is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _bool_where_number(args[0], value)
    args = typing.get_args(annotation)
    if origin in (tuple, list) and isinstance(value, (list, tuple)) and args:
        kinds = args if origin is tuple and len(args) == len(value) else [args[0]] * len(value)
        return any(_bool_where_number(a, v) for a, v in zip(kinds, value))
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return any(_bool_where_number(args[1], v) for v in value.values())
    return False


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value, info):
        # pydantic turns true into 1 for a number; a YAML 'yes' for width_km is a mistake
        field = cls.model_fields.get(info.field_name)
        if field is not None and _bool_where_number(field.annotation, value):
            raise ValueError("a number is expected here, not a boolean (YAML reads yes, no, "
                             "on, off, true and false as booleans)")
        return value


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
    tile_size_cells: int = Field(128, ge=16, le=8192,
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
    clusters: Optional[int] = Field(None, ge=1, le=5_000_000,
                                    description="Cluster parents (market towns); "
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
    holds inside the region (source cells clipped exactly by the grid rectangle and the
    boundary). Source cells at least twice as wide as the grid's (1 km WorldPop on a 100 m
    grid) are spread smoothly instead of evenly: Tobler's pycnophylactic interpolation,
    which keeps each source cell's people. People are rounded to whole people by 1-D error
    diffusion along the rows, so sparse people keep their place. Undeclared no-data values
    (-9999, -3.4e38 ...) count as no people with a warning; more than 1.5 million people per
    km2 (denser than any place on record) is refused (docs/real_places.md).
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


class SyntheticTerrainSpec(_Section):
    """Seeded fractal relief (spectral fBm), see simulator.region.terrain.synthetic_dem."""

    relief_m: float = Field(250.0, ge=0, le=8000, description="Lowest to highest point [m].")
    roughness: float = Field(0.2, ge=0, le=1, description="0 smooth rolling hills ... 1 rugged "
                                                           "(fractal dimension 2 + roughness).")
    ridges: int = Field(0, ge=0, le=50, description="Straight ridges added to the relief.")
    valleys: int = Field(0, ge=0, le=50, description="Straight valleys cut into the relief.")
    base_elevation_m: float = Field(1000.0, ge=-500, le=6000, description="Lowest elevation [m].")


class RasterTerrainSpec(_Section):
    """A DEM GeoTIFF (SRTM, Copernicus ...), reprojected and resampled onto the grid."""

    file: str = Field(description="DEM file, relative to the scenario file's folder.")
    nodata: Literal["fill", "refuse"] = Field(
        "fill", description="'fill': holes are filled from the nearest valid cells (a warning "
                            "in the summary says how many); 'refuse': any hole is an error.")
    resampling: Literal["bilinear", "nearest", "cubic", "average"] = "bilinear"


class TerrainSpec(_Section):
    synthetic: Optional[SyntheticTerrainSpec] = None
    raster: Optional[RasterTerrainSpec] = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.synthetic is None) == (self.raster is None):
            raise ValueError("give exactly one of 'synthetic: {...}' or 'raster: {file: ...}' "
                             "(or write terrain: flat)")
        return self


class RasterClutterSpec(_Section):
    """A land-cover raster (ESA WorldCover class codes by default), in any CRS.

    Reprojected onto the grid by majority: each cell takes the most frequent class of the
    raster's pixels overlapping it (GDAL ``mode`` resampling). It must cover the whole region;
    every class code found inside the region must be in the class table.
    """

    file: str = Field(description="Land-cover GeoTIFF of integer class codes; path relative "
                                  "to the scenario file's folder.")
    band: int = Field(1, ge=1, description="Band to read.")


class SyntheticClutterSpec(_Section):
    """Seeded land cover: forest patches on open farmland, built-up areas around the
    settlements (simulator.region.clutter.synthetic_clutter, WorldCover class codes)."""

    forest_share: float = Field(
        0.3, ge=0, le=1, description="Share of the region under forest [0-1] (default: "
        "FAO Global Forest Resources Assessment 2020, forests cover 31 % of the world's "
        "land).")
    forest_patch_km: float = Field(
        1.0, gt=0, le=100, description="Correlation length of the forest patches [km] "
                                       "(assumption: woodlots and forest blocks of ~1 km).")
    built_up_radius_1000_m: Optional[float] = Field(
        None, gt=0, le=20000, description="Radius of the built-up disc of a 1,000-person "
        "settlement [m]; it grows with the square root of the people. Default: "
        "population.synthetic.settlement_radius_m (the settlements' own footprint), 250 m "
        "with a population raster.")
    min_settlement_people: int = Field(
        100, ge=0, description="Settlements with fewer people get no built-up area.")


class ClutterClassSpec(_Section):
    """One class of the clutter table: what stands around a terminal in cells of this code."""

    name: Optional[str] = Field(None, max_length=60, description="Class name (for the "
                                "summary, clutter.tif and the map); default 'class_<code>'.")
    type: Literal["open", "water", "suburban", "urban", "trees_forest", "dense_urban"] = Field(
        description="Clutter type: 'open'/'water' add no loss; the others add the ITU-R "
                    "P.2108-1 §3.1 eq. (2a) median loss at the terminal.")
    height_m: Optional[float] = Field(
        None, gt=0, le=200, description="Representative clutter height R [m]; default the "
        "P.2108 Table 3 value of the type (suburban 10, urban and trees_forest 15, "
        "dense_urban 20). Unused for open/water.")
    street_width_m: float = Field(27.0, gt=0, le=1000, description="Distance to the clutter "
                                  "edge w_s [m] (P.2108 §3.1.1 default 27 m).")
    colour: Optional[str] = Field(None, pattern=r"^#[0-9a-fA-F]{6}$",
                                  description="Display colour '#rrggbb'.")


class ClutterSpec(_Section):
    """Clutter around the terminal: a land-cover class per cell and a class table.

    Each cell's class adds the median terminal clutter loss of ITU-R P.2108-1 §3.1 at the
    receiver end, inside the link budget (downlink, uplink, SINR); the scenario's location
    variability applies on top (docs/models.md). ``clutter: synthetic`` is short for
    ``clutter: {synthetic: {}}``. Give exactly one of ``raster`` or ``synthetic``.
    """

    raster: Optional[RasterClutterSpec] = None
    synthetic: Optional[SyntheticClutterSpec] = None
    classes: dict[int, ClutterClassSpec] = Field(
        default_factory=dict, description="Class code -> class, merged over the packaged "
        "ESA WorldCover table (simulator/data/clutter.yaml; a key given replaces that "
        "class).")
    replace_default_classes: bool = Field(
        False, description="Use only 'classes' (for a land-cover product other than "
                           "WorldCover).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        if v == "synthetic":
            return {"synthetic": {}}
        if isinstance(v, str):
            raise ValueError(f"'{v}' is not a clutter source; allowed: clutter: synthetic, "
                             "or clutter: {raster: {file: landcover.tif}}")
        return v

    @field_validator("classes")
    @classmethod
    def _codes(cls, v):
        for code in v:
            if not 0 <= code <= 65534:
                raise ValueError(f"class code {code} must be in 0-65534")
        return v

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.synthetic is None) == (self.raster is None):
            raise ValueError("give exactly one of 'synthetic: {...}' or 'raster: {file: ...}' "
                             "(or write clutter: synthetic)")
        if self.replace_default_classes and not self.classes:
            raise ValueError("replace_default_classes needs a 'classes' table")
        return self


class ItmSpec(_Section):
    """Longley-Rice (NTIA ITM 1.2.2) parameters, in plain words.

    ITM's third percentage, locations, is not a key here: point to point runs with
    location variability removed (ITM's mode of variability 12) because the simulator
    applies its own, ``propagation.shadowing_sigma_db`` and
    ``propagation.location_reliability``, to every model alike.
    """

    climate: Literal["equatorial", "continental_subtropical", "maritime_subtropical", "desert",
                     "continental_temperate", "maritime_temperate_land",
                     "maritime_temperate_sea"] = Field(
        "continental_subtropical", description="Radio climate (ITM's 7 classes).")
    surface_refractivity_n_units: float = Field(
        301.0, ge=250, le=400, description="Sea-level surface refractivity N0 [N-units].")
    polarization: Literal["horizontal", "vertical"] = "vertical"
    ground_permittivity: float = Field(15.0, ge=1, le=100, description="Relative permittivity "
                                       "of the ground (15 average ground).")
    ground_conductivity_s_per_m: float = Field(0.005, gt=0, le=10)
    time_pct: float = Field(50.0, gt=0, lt=100, description="Percentage of time the loss is "
                            "not exceeded (50 = median hour).")
    situation_pct: float = Field(50.0, gt=0, lt=100, description="Confidence across similar "
                                 "situations (50 = median).")
    delta_h_knot_fraction: float = Field(
        0.0625, ge=0, le=0.5, description="Point to point: the terrain irregularity "
        "Delta_h of each path is computed as ITM does at paths this fraction of the length "
        "apart along each ray and interpolated between them; 0 = for every path (exactly "
        "ITM on every profile, slower). See docs/models.md for the accuracy.")
    terrain_irregularity_m: Optional[float] = Field(
        None, ge=0, le=3000, description="Area mode ('itm_area', and the reach of 'itm'): "
        "the terrain irregularity Delta_h [m] in place of the one computed from the DEM; "
        "with it 'itm_area' also runs on terrain: flat (no DEM). ITM's own guide values: "
        "0 flat or water, 30 plains, 90 hills (its default), 200 mountains, 500 rugged "
        "mountains (Longley-Rice 1968, NTIA ITM documentation).")


PROPAGATION_MODELS = ("rma_38901", "hata_1980", "cost231_hata", "free_space", "itm", "itm_area",
                      "deygout", "bullington", "delta_bullington")


class CalibrationProvenanceSpec(_Section):
    """Where a calibration came from (written by ``ruralsim calibrate``; informative)."""

    scenario: Optional[str] = Field(None, description="Name of the scenario calibrated.")
    measurements_file: Optional[str] = Field(None, description="Measurement file (absolute "
                                             "path when written).")
    measurements_sha256: Optional[str] = Field(None, description="SHA-256 of the measurement "
                                               "file.")
    transmitters_file: Optional[str] = Field(None, description="Transmitter table, if any.")
    transmitters_sha256: Optional[str] = Field(None, description="SHA-256 of the transmitter "
                                               "table.")
    value_kind: Optional[Literal["rsrp", "rssi", "rx_power", "path_loss"]] = Field(
        None, description="What the measured values were.")
    points_used: Optional[int] = Field(None, ge=0, description="Received samples fitted.")
    transmitters_used: Optional[int] = Field(None, ge=0, description="Transmitters with "
                                             "samples.")
    fit: Optional[Literal["least_squares", "censored"]] = Field(
        None, description="least_squares, or censored (Tobit / truncated-normal maximum "
                          "likelihood for samples below the receiver sensitivity).")
    per_transmitter: Optional[bool] = Field(None, description="Offsets were fitted per "
                                            "transmitter (offset_db is then their pooled "
                                            "mean and sigma_db includes their spread).")
    folds_by: Optional[Literal["route", "transmitter"]] = Field(
        None, description="What the cross-validation held out: route pieces or transmitters.")
    folds: Optional[int] = Field(None, ge=0, description="k of the k-fold cross-validation.")
    in_sample_rmse_db: Optional[float] = Field(None, ge=0, description="RMSE of the "
                                               "calibrated prediction on the samples fitted "
                                               "[dB].")
    cv_rmse_db: Optional[float] = Field(None, ge=0, description="k-fold cross-validated RMSE "
                                        "(folds by route or transmitter) [dB].")
    created_utc: Optional[str] = Field(None, description="When it was fitted (ISO 8601, UTC).")
    software_version: Optional[str] = Field(None, description="ruralsim version that fitted "
                                            "it.")


class CalibrationSpec(_Section):
    """A measured correction of the path loss: ``offset_db + slope_db_per_decade *
    log10(d / reference_distance_m)`` added to the model's loss at horizontal distance d.

    The K1/K2 of the standard propagation-model calibration (fitted by ``ruralsim
    calibrate``, docs/validation.md). It applies inside the path-loss model (area models,
    and the base of the diffraction methods) and to ITM point to point, so ``run`` and
    ``plan`` use it wherever they compute a loss. ``sigma_db`` and
    ``correlation_distance_m``, when given, are the defaults of
    ``propagation.shadowing_sigma_db`` and ``propagation.decorrelation_distance_m``.
    """

    model: Literal[PROPAGATION_MODELS] = Field(
        description="The propagation.model the correction was fitted for; a calibration "
                    "does not carry over to another model.")
    offset_db: float = Field(0.0, ge=-60, le=60, description="K1: correction at the "
                             "reference distance [dB] (positive: more loss).")
    slope_db_per_decade: float = Field(0.0, ge=-60, le=60, description="K2: change of the "
                                       "correction per decade of distance [dB/decade].")
    reference_distance_m: float = Field(1000.0, gt=0, le=1_000_000,
                                        description="d0 of the slope term [m].")
    sigma_db: Optional[float] = Field(None, ge=0, le=20, description="Location variability "
                                      "(standard deviation of the residuals) [dB].")
    correlation_distance_m: Optional[float] = Field(
        None, gt=0, le=10000, description="Shadowing correlation distance fitted to the "
                                          "residuals (exponential correlogram) [m].")
    provenance: Optional[CalibrationProvenanceSpec] = Field(
        None, description="Where the calibration came from (informative).")


class PropagationSpec(_Section):
    """Path-loss model and location variability."""

    model: Literal[PROPAGATION_MODELS] = Field(
        "rma_38901", description="Area models ignore terrain; 'itm' (Longley-Rice point to "
        "point on each terrain profile), 'itm_area' (area mode from the terrain "
        "irregularity), 'deygout'/'bullington' (ITU-R P.526 diffraction added to "
        "'diffraction_base'), 'delta_bullington' (ITU-R P.526-15 §4.5 / P.1812 "
        "delta-Bullington terrain and spherical-Earth diffraction added to free space; "
        "vertical polarisation, average land ground) need a terrain.")
    diffraction_base: Literal["free_space", "rma_38901", "hata_1980", "cost231_hata"] = Field(
        "free_space", description="Model the knife-edge diffraction loss of "
        "'deygout'/'bullington' is added to ('delta_bullington' always uses free space).")
    k_factor: float = Field(
        4.0 / 3.0, ge=0.5, le=100, description="Effective Earth radius factor for terrain "
        "profiles (4/3: the standard atmosphere). k = 157 / (157 + dN/dh) with dN/dh the "
        "refractivity gradient in N-units/km (ITU-R P.453, P.452): 0.5 is a gradient of "
        "+157 N/km, strong sub-refraction beyond what radio planning assumes; 100 is almost "
        "-157 N/km, an Earth that is flat for these distances.")
    max_profile_points: int = Field(128, ge=16, le=4096, description="Diffraction models: "
                                    "terrain profiles longer than this are resampled to this "
                                    "many points (cost per path bounded; see docs/models.md "
                                    "for the accuracy). ITM always uses every cell.")
    itm: ItmSpec = Field(default_factory=ItmSpec)
    environment: Literal["open", "suburban", "urban"] = Field(
        "open", description="Hata/COST-231 clutter class.")
    city_size: Literal["small_medium", "large"] = "small_medium"
    rma_condition: Literal["weighted", "los", "nlos"] = Field(
        "weighted", description="RMa: LOS, NLOS, or LOS-probability weighted.")
    extrapolate_parameters: bool = Field(
        False, description="Allow Hata/COST-231 and RMa outside their frequency and "
                           "antenna-height ranges (e.g. a 15 m pole with Hata's 30-200 m).")
    free_space_floor: Literal["always", "outside_validity", "never"] = Field(
        "always", description="Hata, COST-231, RMa: where the loss is bounded below by "
        "free space. 'always' (everywhere; inside Hata's 1-20 km this overrides the "
        "open/suburban formulas for tall masts at short range), 'outside_validity' (only "
        "where the formula is extrapolated: Hata outside 1-20 km, RMa below 10 m), "
        "'never'. See docs/validation.md, Conventions.")
    cost231_mobile_correction: Literal["city_size", "small_medium"] = Field(
        "city_size", description="COST-231 a(h_m): 'city_size' takes Hata's large-city "
        "a(h_m) with city_size: large; 'small_medium' the small/medium-city a(h_m) always, "
        "as COST 231 (final report §4.4.1) quotes it (C_m = 3 dB marks metropolitan "
        "centres either way). They differ by 0.05 dB at 1.5 m, up to 16 dB at 10 m.")
    calibration: Optional[CalibrationSpec] = Field(
        None, description="Correction fitted to measurements (ruralsim calibrate); see "
                          "propagation.calibration.")
    shadowing_sigma_db: float = Field(8.0, ge=0, le=20, description="Log-normal shadowing "
                                                                    "standard deviation [dB].")
    location_reliability: float = Field(0.75, gt=0, lt=1, description="Probability that the "
                                        "signal at a location exceeds the threshold [0-1].")
    monte_carlo_realisations: int = Field(
        0, ge=0, le=10000, description="Shadowing realisations for a 5-95 % interval of people "
                                       "covered (0 = off).")
    decorrelation_distance_m: float = Field(
        100.0, gt=0, le=10000, description="Gudmundson decorrelation distance of the "
                                           "shadowing field [m].")
    ue_height_m: float = Field(1.5, gt=0, le=30, description="Handset height above ground [m].")
    max_range_km: float = Field(40.0, gt=0, le=300, description="No site is evaluated beyond "
                                                                "this distance [km].")
    floor_below_threshold_db: float = Field(
        20.0, ge=0, le=60, description="The engine evaluates each site out to where its "
                                       "signal is this far below the threshold [dB].")

    @model_validator(mode="before")
    @classmethod
    def _calibration_defaults(cls, data):
        """A calibration's sigma and correlation distance are the defaults of the shadowing
        keys; both given and different is an error (which one should apply?)."""
        if not isinstance(data, dict) or data.get("calibration") is None:
            return data
        cal = data["calibration"]
        if isinstance(cal, BaseModel):
            cal = cal.model_dump()
        if not isinstance(cal, dict):
            return data
        out = dict(data)
        for key, ckey in (("shadowing_sigma_db", "sigma_db"),
                          ("decorrelation_distance_m", "correlation_distance_m")):
            value = cal.get(ckey)
            if value is None:
                continue
            if key in data and data[key] is not None and data[key] != value:
                raise ValueError(f"{key} ({data[key]}) differs from calibration.{ckey} "
                                 f"({value}); remove one of them (the calibration's is the "
                                 "one measured)")
            out[key] = value
        return out

    @model_validator(mode="after")
    def _calibration_model(self):
        if self.calibration is not None and self.calibration.model != self.model:
            raise ValueError(f"calibration was fitted for model '{self.calibration.model}', "
                             f"not '{self.model}'; remove propagation.calibration or "
                             "calibrate this model again (ruralsim calibrate)")
        return self


class TechnologySpec(_Section):
    """A technology from the catalogue, with optional changes."""

    base: str = "lte_900"
    frequency_mhz: Optional[float] = Field(None, gt=0, le=100_000)
    bandwidth_mhz: Optional[float] = Field(None, gt=0, le=100)
    dl_threshold_dbm: Optional[float] = Field(None, ge=-160, le=0)
    ue_tx_power_dbm: Optional[float] = Field(None, ge=-10, le=40)
    ue_antenna_gain_dbi: Optional[float] = Field(None, ge=-20, le=20)
    body_loss_db: Optional[float] = Field(None, ge=0, le=30)
    ue_noise_figure_db: Optional[float] = Field(None, ge=0, le=20)
    bs_noise_figure_db: Optional[float] = Field(None, ge=0, le=20)
    ul_bandwidth_khz: Optional[float] = Field(None, ge=1, le=100000)
    ul_required_sinr_db: Optional[float] = Field(None, ge=-20, le=40)
    dl_required_sinr_db: Optional[float] = Field(None, ge=-20, le=40)


class RadioSpec(_Section):
    """Uplink, interference and frequency reuse."""

    uplink: bool = Field(True, description="Require the uplink to close as well (handset "
                                           "heard by the base station).")
    interference: bool = Field(True, description="Compute co-channel interference and SINR.")
    reuse_factor: int = Field(1, ge=1, le=64, description="Frequency reuse: number of "
                              "channels shared among the sites (1 = every site on one channel).")
    interference_load: float = Field(0.5, ge=0, le=1, description="Share of the time an "
                                     "interfering site transmits on a resource (its load) [0-1].")
    ul_interference_margin_db: float = Field(2.0, ge=0, le=20, description="Uplink noise "
                                             "rise allowed for other users' interference [dB].")


class CapacitySpec(_Section):
    """Busy-hour demand: against cell capacity (data technologies) and backhaul capacity."""

    busy_hour_active_share: float = Field(
        0.05, ge=0, le=1, description="Share of the people a site serves that move data in the "
                                      "busy hour [0-1] (assumption: 1 in 20 in a market where "
                                      "most people are not yet online).")
    mbps_per_active_user: float = Field(0.25, ge=0, le=1000, description="Rate each active "
                                        "user asks for [Mbit/s] (assumption: messaging, social "
                                        "media, low-resolution video). The same demand sizes "
                                        "the radio capacity and the backhaul.")


class IndoorSpec(_Section):
    """People indoors: building entry loss on both links."""

    share: float = Field(0.0, ge=0, le=1, description="Share of people indoors [0-1].")
    building_entry_loss_db: Optional[float] = Field(
        None, ge=0, le=60, description="Fixed building entry loss [dB]; default ITU-R P.2109 "
                                       "at the technology's frequency.")
    building_type: Literal["traditional", "thermally_efficient"] = "traditional"
    probability_pct: float = Field(50.0, gt=0, lt=100, description="P.2109 probability that "
                                   "the loss is not exceeded [%].")


class ServiceSpec(_Section):
    """A named service level: coverage plus an optional single-user downlink rate."""

    min_dl_throughput_mbps: Optional[float] = Field(None, gt=0, le=10000)


class StationSpec(_Section):
    """Changes to a catalogue station type, or a new type built on ``base``."""

    base: Optional[str] = None
    label: Optional[str] = None
    description: Optional[str] = None
    height_m: Optional[float] = Field(None, gt=0, le=3000)
    tx_power_dbm: Optional[float] = Field(None, ge=-10, le=70)
    antenna_gain_dbi: Optional[float] = Field(None, ge=-10, le=30)
    sectors: Optional[int] = Field(None, ge=1, le=12)
    hpbw_h_deg: Optional[float] = Field(None, ge=1, le=360)
    hpbw_v_deg: Optional[float] = Field(None, ge=1, le=180)
    downtilt_deg: Optional[float] = Field(None, ge=-20, le=30)
    feeder_loss_db: Optional[float] = Field(None, ge=0, le=20)
    power_draw_w: Optional[float] = Field(None, ge=0, le=100000)
    pattern_file: Optional[str] = Field(
        None, description="Vendor antenna pattern (MSI/Planet .msi), relative to the scenario "
                          "file; its peak gain replaces antenna_gain_dbi and its cuts replace "
                          "the 3GPP pattern (one pattern per sector).")


class SitePosition(_Section):
    """One explicitly placed site: projected ``x_m``/``y_m`` or ``lon``/``lat``."""

    name: Optional[str] = None
    x_m: Optional[float] = None
    y_m: Optional[float] = None
    lon: Optional[float] = Field(None, ge=-180, le=180)
    lat: Optional[float] = Field(None, ge=-90, le=90)
    azimuth_deg: float = Field(0.0, ge=0, lt=360)
    build_year: Optional[int] = Field(
        None, ge=0, le=100, description="Programme year this site is built in (new sites); "
                                        "default: the group's build_year.")

    @model_validator(mode="after")
    def _xy_or_lonlat(self):
        has_xy = self.x_m is not None and self.y_m is not None
        has_ll = self.lon is not None and self.lat is not None
        if has_xy == has_ll:
            raise ValueError("give either x_m and y_m, or lon and lat")
        return self


class ClusterSpec(_Section):
    """How ``placement: settlement_clusters`` finds settlement clusters in people per cell.

    The rule of the Degree of Urbanisation (European Commission et al., "Applying the
    Degree of Urbanisation", 2021 edition, endorsed by the UN Statistical Commission in
    2020): people summed on square cells of ``cell_km``; cells of at least
    ``min_density_per_km2`` touching by a side or a corner form a connected area; areas of
    at least ``min_people`` are settlements. An area larger than one site's disc (pi times
    ``max_radius_km`` squared) is split into as many clusters as it has discs' worth of
    area (people-weighted k-means, seeded by the scenario seed). Each cluster gets one site,
    on its populated cell nearest its people-weighted centre (docs/real_places.md).
    """

    cell_km: float = Field(1.0, gt=0, le=50, description="Side of the cells density is "
                           "measured on [km]; 1 km as the Degree of Urbanisation's grid (a "
                           "coarser region grid uses its own cells).")
    min_density_per_km2: float = Field(300.0, ge=0, le=1_500_000, description="People per "
                                       "km2 of a dense cell (300: the Degree of "
                                       "Urbanisation's threshold for villages, towns and "
                                       "suburbs).")
    min_people: int = Field(500, ge=1, le=2_000_000_000, description="Fewest people of a "
                            "settlement (500: the Degree of Urbanisation's smallest village).")
    max_radius_km: float = Field(2.0, gt=0, le=100, description="Radius of the disc that "
                                 "bounds one cluster's area [km] (2 km: one ruralstar_pro "
                                 "site on flat ground covers about 10.5 km2 with lte_800 and "
                                 "the default link budget, a 1.8 km disc).")


class SiteGroupSpec(_Section):
    """A group of sites of one station type.

    ``placement``: ``largest_settlements`` puts sites on the largest settlements that are at
    least ``min_spacing_km`` from every site placed before; ``settlement_clusters`` puts one
    site on each settlement cluster found in the people per cell (raster or synthetic;
    ``clusters:`` says how), largest first, skipping clusters within ``min_spacing_km`` of
    a site of an earlier group, at most ``count`` sites when ``count`` > 0 (0: one per
    cluster); ``grid`` on a regular grid; ``random`` uniformly (seeded); ``list`` at
    ``positions``.
    """

    station: str
    placement: Literal["largest_settlements", "settlement_clusters", "grid", "random",
                       "list"] = "largest_settlements"
    count: int = Field(0, ge=0, le=1_000_000)
    min_spacing_km: float = Field(3.0, ge=0, le=500)
    positions: Optional[list[SitePosition]] = None
    clusters: Optional[ClusterSpec] = Field(
        None, description="With placement: settlement_clusters, how clusters are found "
                          "(default: the Degree of Urbanisation's rule, see ClusterSpec).")
    build_year: int = Field(
        0, ge=0, le=100, description="Programme year the group's sites are built in (new "
                                     "groups only; before economics.horizon_years): their "
                                     "capex falls in that year, their users, opex and revenue "
                                     "start then; 0: at the start, as before.")

    @model_validator(mode="after")
    def _positions(self):
        if self.placement == "list" and not self.positions:
            raise ValueError("placement 'list' needs 'positions'")
        if self.placement != "list" and self.positions:
            raise ValueError("'positions' goes with placement: list")
        if self.clusters is not None and self.placement != "settlement_clusters":
            raise ValueError("'clusters' goes with placement: settlement_clusters")
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


class PointSpec(_Section):
    """A point (fibre node, grid point): projected ``x_m``/``y_m`` or ``lon``/``lat``."""

    name: Optional[str] = None
    x_m: Optional[float] = Field(None, description="Easting in the region CRS [m].")
    y_m: Optional[float] = Field(None, description="Northing in the region CRS [m].")
    lon: Optional[float] = Field(None, ge=-180, le=180, description="Longitude [deg, WGS 84].")
    lat: Optional[float] = Field(None, ge=-90, le=90, description="Latitude [deg, WGS 84].")

    @model_validator(mode="after")
    def _xy_or_lonlat(self):
        has_xy = self.x_m is not None and self.y_m is not None
        has_ll = self.lon is not None and self.lat is not None
        if has_xy == has_ll:
            raise ValueError("give either x_m and y_m, or lon and lat")
        return self


_CAT = "; default (empty): the catalogue value, simulator/data/costs.yaml, docs/economics.md"


class IncomeRasterSpec(_Section):
    """A raster of median income per person [USD/month], any CRS (e.g. converted from a
    subnational GDP or consumption grid)."""

    file: str = Field(description="GeoTIFF; path relative to the scenario file's folder.")
    band: int = Field(1, ge=1, description="Band to read.")


class AdoptionSpec(_Section):
    """Covered -> connected: handset, affordability, skills and an adoption curve.

    Every key left empty takes its sourced default from the cost catalogue
    (``simulator/data/costs.yaml``, explained in docs/economics.md).
    """

    smartphone_share: Optional[float] = Field(
        None, ge=0, le=1, description="Share of people owning a smartphone [0-1]" + _CAT)
    basic_phone_share: Optional[float] = Field(
        None, ge=0, le=1, description="Share owning only a basic/feature phone [0-1]; with "
                                      "smartphone_share at most 1" + _CAT)
    basic_phone_weight: Optional[float] = Field(
        None, ge=0, le=1, description="How much a basic phone counts as connected [0-1] "
                                      "(0: mobile internet users only)" + _CAT)
    price_usd_per_gb: Optional[float] = Field(
        None, ge=0, le=1000, description="Retail mobile data price [USD/GB]" + _CAT)
    bundle_gb: Optional[float] = Field(
        None, gt=0, le=1000, description="Entry data bundle per month [GB]" + _CAT)
    threshold_share: Optional[float] = Field(
        None, gt=0, le=1, description="Largest share of monthly income spent on the bundle "
                                      "[0-1] (Broadband Commission: 0.02)" + _CAT)
    median_income_usd_per_month: Optional[float] = Field(
        None, gt=0, le=1_000_000, description="Median per-person income, log-normal "
                                              "[USD/month]" + _CAT)
    income_sigma: Optional[float] = Field(
        None, gt=0, le=5, description="Log-normal sigma of income [-]" + _CAT)
    skills_baseline_share: Optional[float] = Field(
        None, ge=0, le=1, description="Share of people with basic digital skills before "
                                      "training [0-1]" + _CAT)
    skills_max_share: Optional[float] = Field(
        None, ge=0, le=1, description="Cap on the skills share training can reach [0-1]" + _CAT)
    training_effectiveness: Optional[float] = Field(
        None, ge=0, le=1, description="Share of trainees who gain usable skills [0-1]" + _CAT)
    training_places: int = Field(
        0, ge=0, le=10_000_000_000, description="Digital-skills training places the scenario "
        "funds [people]; spread over the region's whole population (raises the skills share "
        "by effectiveness x places / population). Default 0: no programme.")
    combine: Optional[Literal["independent", "nested"]] = Field(
        None, description="How the three barriers combine: product (independent, lower "
                          "bound) or minimum (nested, upper bound)" + _CAT)
    curve: Literal["bass", "logistic"] = Field(
        "bass", description="Adoption curve over the years (Bass 1969 or logistic).")
    bass_p: Optional[float] = Field(None, gt=0, le=1, description="Bass innovation "
                                    "coefficient [1/year]" + _CAT)
    bass_q: Optional[float] = Field(None, ge=0, le=5, description="Bass imitation "
                                    "coefficient [1/year]" + _CAT)
    logistic_growth_rate_per_year: Optional[float] = Field(
        None, gt=0, le=10, description="Logistic steepness [1/year]" + _CAT)
    logistic_midpoint_year: Optional[float] = Field(
        None, ge=0, le=100, description="Logistic midpoint [years]" + _CAT)
    relevance_share: Optional[float] = Field(
        None, ge=0, le=1, description="Share of people who see a reason to use mobile internet "
                                      "(content, services in their language) [0-1]" + _CAT)
    income_model: Optional[Literal["uniform", "density", "raster"]] = Field(
        None, description="How the median income varies between sites: 'uniform' (the "
                          "median everywhere), 'density' (it follows the population density "
                          "around each site, docs/economics.md) or 'raster' (income_raster)"
                          + _CAT)
    income_density_elasticity: Optional[float] = Field(
        None, ge=0, le=1, description="income_model 'density': elasticity of income with "
                                      "respect to population density [-]" + _CAT)
    income_density_radius_km: Optional[float] = Field(
        None, gt=0, le=50, description="income_model 'density': radius of the disc whose "
                                       "people make a site's density [km]" + _CAT)
    income_raster: Optional[IncomeRasterSpec] = Field(
        None, description="income_model 'raster': median income per person [USD/month] per "
                          "pixel; each site takes its pixel's value (no data: the median).")

    @model_validator(mode="after")
    def _income(self):
        if self.income_model == "raster" and self.income_raster is None:
            raise ValueError("income_model 'raster' needs income_raster: {file: income.tif}")
        if self.income_raster is not None and self.income_model not in (None, "raster"):
            raise ValueError(f"income_raster goes with income_model 'raster', not "
                             f"'{self.income_model}'; remove one of them")
        return self


class StationCostSpec(_Section):
    """Costs of one station type: changes to a catalogue entry, or a new entry on ``base``."""

    base: Optional[str] = Field(None, description="Cost-catalogue station type to start from "
                                                  "(ruralstar_pro, macro, small_cell).")
    equipment_usd: Optional[float] = Field(None, ge=0, le=1e9, description="Radio equipment "
                                           "capex [USD].")
    pole_or_tower_usd: Optional[float] = Field(None, ge=0, le=1e9, description="Pole or tower "
                                               "capex [USD].")
    civil_works_usd: Optional[float] = Field(None, ge=0, le=1e9, description="Civil works "
                                             "capex [USD].")
    installation_usd: Optional[float] = Field(None, ge=0, le=1e9, description="Installation "
                                              "capex [USD].")
    site_rent_usd_per_year: Optional[float] = Field(None, ge=0, le=1e9, description="Site "
                                                    "rent [USD/year].")
    maintenance_usd_per_year: Optional[float] = Field(None, ge=0, le=1e9, description="Site "
                                                      "maintenance [USD/year].")
    off_grid_power: Optional[Literal["solar", "diesel", "cheapest"]] = Field(
        None, description="Power off the grid for this type; default the catalogue's "
                          "default_power (solar for poles, diesel for macros).")


class EconomicsSpec(_Section):
    """Horizon, discount rate, revenue and station costs (TCO, NPV, payback)."""

    horizon_years: Optional[int] = Field(None, ge=1, le=100, description="Years simulated "
                                         "for adoption and costs" + _CAT)
    discount_rate: Optional[float] = Field(None, ge=0, le=1, description="Yearly discount "
                                           "rate [-]" + _CAT)
    arpu_usd_per_month: Optional[float] = Field(None, ge=0, le=10000, description="Revenue "
                                                "per connected user [USD/month]" + _CAT)
    discounted_payback: bool = Field(False, description="Payback year from discounted cash "
                                                        "flows (default: simple payback).")
    station_costs: dict[str, StationCostSpec] = Field(
        default_factory=dict, description="Cost changes per station type; a type not in the "
        "cost catalogue (e.g. one made with stations.<name>.base) needs an entry here.")


class BackhaulOptionSpec(_Section):
    """Changes to one backhaul option of the catalogue."""

    enabled: bool = Field(True, description="False removes the option from the choice.")
    max_distance_m: Optional[float] = Field(None, ge=0, description="Reach to the fibre node "
                                            "or donor [m].")
    capex_usd: Optional[float] = Field(None, ge=0, le=1e9, description="Up-front cost [USD].")
    capex_usd_per_km: Optional[float] = Field(None, ge=0, le=1e9, description="Extra capex "
                                              "per km (fibre) [USD/km].")
    opex_usd_per_year: Optional[float] = Field(None, ge=0, le=1e9, description="Fees and "
                                               "upkeep [USD/year].")
    capacity_mbps: Optional[float] = Field(None, ge=0, le=1e6, description="Link capacity "
                                           "[Mbit/s].")


class BackhaulSpec(_Section):
    """Backhaul per site: the cheapest feasible of fibre, microwave, LTE relay, satellite.

    Donors for microwave and relay links are the existing sites. Fibre nodes default to the
    existing sites too: in a synthetic district they stand in the largest towns, where a
    fibre point of presence is most likely.
    """

    fibre_nodes: Literal["existing_sites", "none"] = Field(
        "existing_sites", description="Where fibre points of presence are: at every existing "
                                      "site, or none (add points with fibre_node_positions).")
    fibre_node_positions: list[PointSpec] = Field(default_factory=list,
                                                  description="Extra fibre nodes.")
    require_capacity: bool = Field(
        True, description="Only pick links that carry the site's busy-hour demand when one is "
                          "feasible; a site no link can carry is flagged either way.")
    options: dict[Literal["fibre", "microwave", "relay_los", "relay_nlos", "satellite"],
                  BackhaulOptionSpec] = Field(default_factory=dict,
                                              description="Changes per backhaul option.")


class PowerSpec(_Section):
    """Power per site: the grid within reach, otherwise solar + battery (or diesel).

    Grid points default to the existing sites (market towns); the grid is taken to cover a
    disc of ``grid_radius_m`` around each (the town and its feeders), and a site within the
    catalogue's grid reach of that disc is connected.
    """

    grid_points: Literal["existing_sites", "none"] = Field(
        "existing_sites", description="Where the electricity grid is: around every existing "
                                      "site, or nowhere (add grid_point_positions).")
    grid_point_positions: list[PointSpec] = Field(default_factory=list,
                                                  description="Extra grid points.")
    grid_radius_m: float = Field(
        3000.0, ge=0, le=100_000, description="Radius of the electrified area around each grid "
        "point [m] (assumption: a market town and its nearby feeders).")
    grid_max_distance_m: Optional[float] = Field(
        None, ge=0, le=100_000, description="Longest line extension to a site [m]" + _CAT)
    grid_tariff_usd_per_kwh: Optional[float] = Field(
        None, ge=0, le=10, description="Grid electricity price [USD/kWh]" + _CAT)
    off_grid: Optional[Literal["solar", "diesel", "cheapest"]] = Field(
        None, description="Power for sites off the grid, all types; default each type's "
                          "catalogue default_power (or economics.station_costs.<type>.off_grid_power).")
    solar_yield_kwh_per_kwp_per_day: Optional[float] = Field(
        None, ge=1.0, le=7.5, description="PV yield, long-term daily average [kWh/kWp/day]; "
        "the Global Solar Atlas's PV output ranges from about 2 (cloudy high latitudes) to "
        "about 6 (deserts), so 1-7.5 is accepted" + _CAT)
    solar_days_of_autonomy: Optional[float] = Field(
        None, ge=0.25, le=30, description="Battery autonomy [days] (at least a night: 0.25)"
        + _CAT)
    diesel_fuel_price_usd_per_l: Optional[float] = Field(
        None, ge=0, le=100, description="Delivered diesel price [USD/l]" + _CAT)


class OutputsSpec(_Section):
    dir: Optional[str] = Field(None, description="Results folder; default results/<name>.")
    maps: bool = Field(True, description="Draw the maps: coverage_map.png and rx_cdf.png, "
                       "and (with the keys below) coverage.kmz, map.html and coverage.gpkg; "
                       "false (or --no-maps) writes none of them.")
    google_earth: bool = Field(True, description="With maps: write coverage.kmz (ground "
                               "overlays, sites, settlements, boundary; Google Earth, QGIS).")
    web_map: bool = Field(True, description="With maps: write map.html, an interactive "
                          "Leaflet map that opens from disk without a network.")
    vectors: bool = Field(True, description="With maps: write coverage.gpkg (coverage "
                          "polygons per site and per service level, settlements, sites; "
                          "WGS 84).")
    report: bool = Field(True, description="Write report.html (headline numbers, maps, tables, "
                                           "parameters; opens from disk, no server).")
    cloud_optimised: bool = Field(False, description="Write the GeoTIFFs as Cloud Optimized "
                                                     "GeoTIFFs with overviews (GDAL COG "
                                                     "driver), in memory and tiled runs.")


class SweepRunSpec(_Section):
    """One named run of a sweep: dotted keys of the scenario and their values."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                      description="Run name (letters, digits, '_', '-', '.').")
    set: dict[str, Any] = Field(description="Dotted scenario key -> value, e.g. "
                                            "{'adoption.price_usd_per_gb': 1.5}.")


class SweepSpec(_Section):
    """A parameter sweep: one run per value (or named run), compared in a table.

    The runs use the same backend (in parallel with --workers/--scheduler). Either ``parameter`` with ``values``, or ``runs``.
    """

    parameter: Optional[str] = Field(None, description="Dotted scenario key, list items by "
                                                       "index, e.g. 'sites.new.0.count'.")
    values: Optional[list[Any]] = Field(None, description="Values of ``parameter``, one run "
                                                          "each.")
    runs: Optional[list[SweepRunSpec]] = Field(None, description="Named runs, each a set of "
                                                                 "key changes.")

    @model_validator(mode="after")
    def _one_form(self):
        if self.runs is not None:
            if self.parameter is not None or self.values is not None:
                raise ValueError("give either 'parameter' with 'values' or 'runs', not both")
            if not self.runs:
                raise ValueError("'runs' needs at least one run")
            names = [r.name for r in self.runs]
            if len(set(names)) != len(names):
                raise ValueError("run names must be unique")
        else:
            if self.parameter is None or not self.values:
                raise ValueError("a sweep needs 'parameter' with a non-empty 'values' list, "
                                 "or 'runs'")
            if self.parameter.split(".")[0] in ("sweep", "name"):
                raise ValueError(f"'{self.parameter}' cannot be swept")
        return self


class CandidatesSpec(_Section):
    """Where planning may put sites.

    ``settlements``: one candidate per settlement centre, thinned so none is within
    ``spacing_km`` of another (largest first); ``grid``: a square lattice ``spacing_km``
    apart; ``hilltops``: local high points of the DEM (needs a terrain raster, not available
    with ``terrain: flat``); ``file``: a CSV with columns ``x_m,y_m`` (region CRS) or
    ``lon,lat`` (WGS 84), optional ``station``, ``cost_usd`` and ``name``.
    """

    source: Literal["settlements", "grid", "hilltops", "file"] = Field(
        "settlements", description="Candidate generator.")
    spacing_km: float = Field(
        2.0, ge=0, le=500, description="settlements: thinning distance; grid: lattice "
                                       "spacing (> 0); hilltops: search window side [km].")
    file: Optional[str] = Field(
        None, description="CSV of candidates (source: file), relative to the scenario file.")
    station: Union[str, list[str]] = Field(
        "ruralstar_pro", description="Station type(s) of the candidates; with a list, each "
                                     "position is a candidate for every type.")
    max_count: Optional[int] = Field(
        None, ge=1, le=1_000_000, description="Keep at most this many positions "
                                              "(settlements: largest first; hilltops: highest).")

    @model_validator(mode="after")
    def _file(self):
        if self.source == "file" and not self.file:
            raise ValueError("source 'file' needs 'file: path/to/candidates.csv'")
        if self.source != "file" and self.file:
            raise ValueError("'file' goes with source: file")
        if self.source == "grid" and self.spacing_km <= 0:
            raise ValueError("source 'grid' needs spacing_km > 0")
        if isinstance(self.station, list) and not self.station:
            raise ValueError("give at least one station type")
        return self


class PlanningSpec(_Section):
    """Optimised placement (``ruralsim plan``): which candidates to build within a budget.

    The scenario's own sites (existing and new groups) are kept; people they cover are not
    credited to planned sites. Each candidate is costed as ``run`` costs a new site there
    (one cost basis: station costs of ``economics.station_costs`` / the cost catalogue, its
    cheapest feasible backhaul and its power from its position, docs/economics.md), so the
    plan's capex is the capex ``run`` reports for the planned scenario. ``budget_usd`` limits
    that capex, or the sites' total cost of ownership over the horizon
    (``cost_basis: tco``). Without a ``planning:`` section, ``ruralsim plan --max-sites N``
    and/or ``--budget-usd X`` plan with these defaults.
    """

    candidates: CandidatesSpec = Field(default_factory=CandidatesSpec)
    budget_usd: Optional[float] = Field(None, gt=0, description="Total cost limit of the new "
                                        "sites, on cost_basis [USD].")
    cost_basis: Literal["capex", "tco"] = Field(
        "capex", description="What budget_usd limits: capex, or TCO (capex + opex over "
                             "economics.horizon_years at economics.discount_rate).")
    max_sites: Optional[int] = Field(None, ge=1, le=1_000_000,
                                     description="Limit on the number of new sites.")
    objective: Literal["people_covered", "people_connected"] = Field(
        "people_covered", description="people_connected weights people by adoption_share.")
    adoption_share: Optional[float] = Field(
        None, gt=0, le=1, description="Share of covered people who connect (objective "
                                      "people_connected) [0-1].")
    min_people_per_site: float = Field(
        0.0, ge=0, description="Do not build a site adding fewer people than this (greedy "
                               "only) [people].")
    method: Literal["greedy", "ilp", "both"] = Field(
        "greedy", description="Lazy greedy, the exact MCLP ILP (HiGHS), or both.")
    time_limit_s: float = Field(60.0, gt=0, le=86400, description="ILP solver time limit [s].")
    workers: int = Field(1, ge=1, le=256, description="Threads building the coverage "
                                                      "matrix (results do not depend on it).")

    @model_validator(mode="before")
    @classmethod
    def _no_cost_override(cls, data):
        if isinstance(data, dict) and "cost_usd" in data:
            raise ValueError("cost_usd is not used any more: candidates are costed as run "
                             "costs sites (station, power and backhaul from the position); "
                             "remove it and set station costs with "
                             "economics.station_costs.<type>")
        return data

    @model_validator(mode="after")
    def _budget(self):
        if self.budget_usd is None and self.max_sites is None:
            raise ValueError("give a budget: budget_usd and/or max_sites")
        if self.objective == "people_connected" and self.adoption_share is None:
            raise ValueError("objective 'people_connected' needs adoption_share (0-1)")
        if self.method != "greedy" and self.min_people_per_site > 0:
            raise ValueError("min_people_per_site is supported by method 'greedy' only; use "
                             "method greedy or drop min_people_per_site")
        if self.cost_basis == "tco" and self.budget_usd is None:
            raise ValueError("cost_basis 'tco' says what budget_usd limits; give budget_usd "
                             "too, or drop cost_basis")
        return self


class ProgrammeOptionSpec(_Section):
    """One technology a location may get (``programme.options.<name>``).

    ``kind: cell``: a site of ``station`` type at the location, covered as the engine covers
    it (it may cover neighbouring villages too) and costed as ``run`` costs a new site there
    (station, power, cheapest backhaul; relay chains after the choice). ``kind:
    satellite_hotspot``: a LEO terminal with a Wi-Fi access point serving the location's own
    people within ``wifi_radius_m``; unset values come from ``satellite_hotspot`` in the cost
    catalogue (docs/economics.md names each source).
    """

    kind: Literal["cell", "satellite_hotspot"] = Field("cell", description="Cell site or "
                                                       "satellite community hotspot.")
    station: Optional[str] = Field(None, description="kind cell: the station type "
                                                     "(e.g. ruralstar_pro, macro, small_cell).")
    label: Optional[str] = Field(None, max_length=60, description="Name on maps and tables.")
    terminal_capex_usd: Optional[float] = Field(
        None, ge=0, le=1e7, description="Hotspot: one satellite terminal (kit) [USD].")
    subscription_usd_per_month: Optional[float] = Field(
        None, ge=0, le=1e6, description="Hotspot: one terminal's subscription [USD/month].")
    capacity_mbps: Optional[float] = Field(
        None, gt=0, le=1e5, description="Hotspot: busy-hour capacity per terminal [Mbit/s].")
    site_capex_usd: Optional[float] = Field(
        None, ge=0, le=1e7, description="Hotspot: access point, mount, solar, installation "
                                        "[USD].")
    maintenance_usd_per_year: Optional[float] = Field(
        None, ge=0, le=1e7, description="Hotspot: upkeep [USD/year].")
    wifi_radius_m: Optional[float] = Field(
        None, gt=0, le=5000, description="Hotspot: people within this distance of the "
                                         "location are served [m].")

    @model_validator(mode="after")
    def _kind(self):
        hotspot_keys = ("terminal_capex_usd", "subscription_usd_per_month", "capacity_mbps",
                        "site_capex_usd", "maintenance_usd_per_year", "wifi_radius_m")
        if self.kind == "cell":
            if not self.station:
                raise ValueError("a cell option needs 'station' (a station type)")
            given = [k for k in hotspot_keys if getattr(self, k) is not None]
            if given:
                raise ValueError(f"{', '.join(given)} goes with kind: satellite_hotspot")
        elif self.station:
            raise ValueError("'station' goes with kind: cell")
        return self


def _default_programme_options():
    return {"pole": ProgrammeOptionSpec(station="ruralstar_pro", label="RuralStar-class pole"),
            "macro": ProgrammeOptionSpec(station="macro", label="Macro tower"),
            "hotspot": ProgrammeOptionSpec(kind="satellite_hotspot",
                                           label="Satellite community hotspot")}


class ProgrammeTargetSpec(_Section):
    """What the programme must reach (``programme.target``)."""

    share: float = Field(gt=0, le=1, description="Share of the region's people [0-1].")
    measure: Literal["covered", "connected"] = Field(
        "covered", description="People covered, or people connected (covered x the adoption "
                               "potential of their place).")
    year: Optional[int] = Field(
        None, ge=0, le=100, description="Reached by this rollout year (needs "
                                        "annual_capex_usd); default: when all is built.")


class ProgrammeRelaySpec(_Section):
    """Relay chains (``programme.relay``): poles and small cells taking their backhaul from a
    donor (an existing site, a chosen macro or another pole) within link range."""

    enabled: bool = Field(True, description="Build relay chains among the chosen sites "
                                            "(false: each site's own cheapest backhaul).")
    hop_limit: int = Field(3, ge=0, le=20, description="Relay hops from a donor at most.")
    required: bool = Field(False, description="Poles and small cells must take relay "
                                              "backhaul (no satellite or microwave fallback).")
    method: Literal["los_fresnel", "itm"] = Field(
        "los_fresnel", description="Link test on the terrain: line of sight with Fresnel "
                                   "clearance between masts, or the ITM point-to-point loss "
                                   "against the relay link budget.")

    @model_validator(mode="after")
    def _hops(self):
        if self.required and self.hop_limit == 0:
            raise ValueError("relay backhaul is required but hop_limit is 0: no relay can "
                             "reach a donor; allowed: hop_limit >= 1, or required: false")
        return self


class ProgrammeSpec(_Section):
    """A rollout programme (``ruralsim programme``): technology per settlement, relay chains,
    build year per site, viability gap.

    Every location (``candidates``: settlements by default) may get one of ``options`` or
    nothing. The least-cost mix reaching ``target`` (or the most people for ``budget_usd``) is
    found with HiGHS, with a greedy fallback; ``annual_capex_usd`` spreads the build over
    years. Costs come from the business model ``run`` uses (docs/programme.md).
    """

    candidates: CandidatesSpec = Field(default_factory=CandidatesSpec,
                                       description="Locations (station is ignored: the "
                                                   "options give the technologies).")
    options: dict[str, ProgrammeOptionSpec] = Field(
        default_factory=_default_programme_options, min_length=1,
        description="Technologies to consider per location (default: pole, macro, "
                    "satellite hotspot).")
    target: Optional[ProgrammeTargetSpec] = Field(
        None, description="Least-cost mix reaching this share of people.")
    budget_usd: Optional[float] = Field(
        None, gt=0, le=1e13, description="Most people for this total cost, on cost_basis "
                                         "[USD].")
    cost_basis: Literal["capex", "tco"] = Field(
        "tco", description="What is minimised / limited: capex, or TCO over "
                           "economics.horizon_years (default: satellite's high opex counts).")
    annual_capex_usd: Optional[float] = Field(
        None, gt=0, le=1e13, description="Capex budget per rollout year [USD/year]; default: "
                                         "everything built in year 0.")
    annual_opex_usd: Optional[float] = Field(
        None, gt=0, le=1e13, description="Limit on the running opex of the sites built so "
                                         "far, per year [USD/year].")
    years: Optional[int] = Field(
        None, ge=1, le=100, description="Rollout and cash-flow years (default "
                                        "economics.horizon_years).")
    relay: ProgrammeRelaySpec = Field(default_factory=ProgrammeRelaySpec,
                                      description="Relay chains among the chosen sites.")
    method: Literal["ilp", "greedy"] = Field("ilp", description="HiGHS MILP (with the greedy "
                                                                "answer as a floor) or greedy.")
    time_limit_s: float = Field(60.0, gt=0, le=86400, description="Solver time limit [s].")
    mip_rel_gap: float = Field(1e-3, ge=0, lt=1, description="Relative MIP gap at which "
                                                             "HiGHS stops [-].")
    workers: int = Field(1, ge=1, le=256, description="Threads building the coverage matrix.")

    @model_validator(mode="after")
    def _goal(self):
        if (self.target is None) == (self.budget_usd is None):
            raise ValueError("give one goal: target (share of people) or budget_usd")
        if self.target is not None and self.target.year is not None and \
                self.annual_capex_usd is None:
            raise ValueError("target.year needs annual_capex_usd (without it everything is "
                             "built in year 0)")
        return self


class Scenario(_Section):
    """A whole scenario: the root of the YAML file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                      description="Scenario name (letters, digits, '_', '-', '.').")
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
    region: RegionSpec = Field(default_factory=RegionSpec)
    population: PopulationSpec = Field(
        default_factory=lambda: PopulationSpec(synthetic=SyntheticPopulationSpec()))
    terrain: Union[Literal["flat"], TerrainSpec] = "flat"
    clutter: Optional[ClutterSpec] = Field(
        None, description="Land cover around the terminal (ITU-R P.2108 §3.1 clutter loss "
                          "per cell); default none. 'synthetic' or {raster: {file: ...}}.")
    technology: Union[str, TechnologySpec] = "lte_900"
    propagation: PropagationSpec = Field(default_factory=PropagationSpec)
    radio: RadioSpec = Field(default_factory=RadioSpec)
    capacity: CapacitySpec = Field(default_factory=CapacitySpec)
    indoor: IndoorSpec = Field(default_factory=IndoorSpec)
    services: Optional[dict[str, ServiceSpec]] = Field(
        None, description="Service levels; default 'basic' (coverage), plus 'broadband' "
                          "(2 Mbit/s single-user downlink) for data technologies.")
    stations: dict[str, StationSpec] = Field(default_factory=dict)
    sites: SitesSpec = Field(default_factory=SitesSpec)
    adoption: AdoptionSpec = Field(default_factory=AdoptionSpec)
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)
    backhaul: BackhaulSpec = Field(default_factory=BackhaulSpec)
    power: PowerSpec = Field(default_factory=PowerSpec)
    outputs: OutputsSpec = Field(default_factory=OutputsSpec)
    planning: Optional[PlanningSpec] = Field(
        None, description="Optimised site placement, used by 'ruralsim plan' only.")
    programme: Optional[ProgrammeSpec] = Field(
        None, description="Technology per settlement, relay chains and rollout by year, used "
                          "by 'ruralsim programme' only.")
    sweep: Optional[SweepSpec] = Field(
        None, description="Run the scenario for several values of a key and compare "
                          "(ruralsim run writes comparison.csv/.png).")

    #: The file the scenario came from (set by the loader; not a YAML key).
    _source_path: Optional[Path] = PrivateAttr(None)

    @property
    def source_path(self) -> Optional[Path]:
        return self._source_path



#: Meanings of the keys declared above without a ``description=`` (units in brackets).
#: Applied once at import (:func:`_describe_fields`), so docs/scenario.md, the JSON schema
#: (``ruralsim schema``) and editors' hover text all carry them.
_FIELD_MEANINGS = {
    "Scenario": {
        "description": "Free text shown in the report and the web map.",
        "seed": "Seed of every random draw (settlements, shadowing, random placement); "
                "the same seed gives the same numbers in every mode.",
        "region": "The area modelled: centre, size, grid resolution, CRS, boundary.",
        "population": "Where people live: a synthetic population or a population raster.",
        "terrain": "'flat', or a synthetic or DEM terrain for the terrain-aware models.",
        "technology": "Radio technology from the catalogue (e.g. 'lte_900', 'gsm_900'), "
                      "or a mapping with 'base' and changes.",
        "propagation": "Path-loss model and location variability (shadowing).",
        "radio": "Uplink, interference and frequency reuse.",
        "capacity": "Busy-hour demand per user (who is served, not only covered).",
        "indoor": "Share of people indoors and their building entry loss.",
        "stations": "Changes to catalogue station types, or new types, by name.",
        "sites": "The sites: existing groups and towers, and new groups to build.",
        "adoption": "Who of the people covered becomes connected (handsets, prices, skills).",
        "economics": "Costs, revenue and discounting over the horizon.",
        "backhaul": "How each site is linked to the network (fibre, microwave, relay, "
                    "satellite).",
        "power": "How each site is powered (grid, solar, diesel).",
        "outputs": "Where and what to write (maps, report, GeoTIFF format).",
    },
    "PopulationSpec": {
        "synthetic": "Generated settlements and dispersed people (seeded).",
        "raster": "People per cell from a GeoTIFF (WorldPop, HRSL ...).",
    },
    "ClutterSpec": {
        "raster": "A land-cover GeoTIFF (ESA WorldCover codes or a class table's).",
        "synthetic": "Generated land cover around the settlements (seeded).",
    },
    "TerrainSpec": {
        "synthetic": "Seeded fractal relief.",
        "raster": "A DEM GeoTIFF.",
    },
    "RasterTerrainSpec": {
        "resampling": "How the DEM is resampled onto the grid (GDAL resampling method).",
    },
    "ItmSpec": {
        "polarization": "Antenna polarisation of the links.",
        "ground_conductivity_s_per_m": "Ground conductivity [S/m] (0.005 average ground).",
    },
    "PropagationSpec": {
        "itm": "Longley-Rice (ITM) parameters, for 'itm' and 'itm_area'.",
        "city_size": "Hata urban correction for the mobile antenna height (small/medium or "
                     "large city); used only with environment 'urban'.",
    },
    "TechnologySpec": {
        "base": "Catalogue technology the changes apply to (simulator/data/"
                "technologies.yaml).",
        "frequency_mhz": "Carrier frequency [MHz]; each propagation model checks its own "
                         "range.",
        "bandwidth_mhz": "Channel bandwidth [MHz]; LTE: 1.4, 3, 5, 10, 15 or 20 (3GPP TS "
                         "36.101).",
        "dl_threshold_dbm": "Downlink signal a handset needs, before the fade margin [dBm] "
                            "(RSRP for LTE, RxLev for GSM).",
        "ue_tx_power_dbm": "Handset transmit power [dBm].",
        "ue_antenna_gain_dbi": "Handset antenna gain [dBi].",
        "body_loss_db": "Loss of the user's body and hand, both links [dB].",
        "ue_noise_figure_db": "Handset receiver noise figure [dB].",
        "bs_noise_figure_db": "Base-station receiver noise figure [dB].",
        "ul_bandwidth_khz": "Uplink bandwidth a cell-edge user transmits in [kHz].",
        "ul_required_sinr_db": "Uplink SINR the base station needs at the cell edge [dB].",
        "dl_required_sinr_db": "Downlink SINR a handset needs to decode [dB].",
    },
    "IndoorSpec": {
        "building_type": "ITU-R P.2109 building class of the default building entry loss.",
    },
    "ServiceSpec": {
        "min_dl_throughput_mbps": "Single-user downlink rate the service needs [Mbit/s]; "
                                  "none: coverage alone.",
    },
    "StationSpec": {
        "base": "Catalogue station type this one starts from (simulator/data/stations.yaml); "
                "none: the type of the same name.",
        "label": "Name shown on maps and in reports.",
        "description": "Free text about the station type.",
        "height_m": "Antenna height above ground [m].",
        "tx_power_dbm": "Transmit power per sector at the antenna port [dBm].",
        "antenna_gain_dbi": "Antenna peak gain [dBi].",
        "sectors": "Sectors per site (1 = omni).",
        "hpbw_h_deg": "Horizontal half-power beamwidth of a sector [deg].",
        "hpbw_v_deg": "Vertical half-power beamwidth [deg].",
        "downtilt_deg": "Electrical downtilt [deg].",
        "feeder_loss_db": "Cable and connector loss between radio and antenna [dB].",
        "power_draw_w": "Electrical power the site draws on average [W] (power sizing).",
    },
    "SitePosition": {
        "name": "Site name (default: the group's station type and a number).",
        "x_m": "Easting in the region CRS [m] (with y_m).",
        "y_m": "Northing in the region CRS [m] (with x_m).",
        "lon": "Longitude [deg, WGS 84] (with lat).",
        "lat": "Latitude [deg, WGS 84] (with lon).",
        "azimuth_deg": "Azimuth of the first sector, clockwise from north [deg].",
    },
    "SiteGroupSpec": {
        "station": "Station type of the group (a catalogue name or one under 'stations').",
        "placement": "Where the sites go: 'largest_settlements', 'grid', 'random' (seeded) "
                     "or 'list' (at 'positions').",
        "count": "Number of sites (placements other than 'list').",
        "min_spacing_km": "'largest_settlements': least distance from every site placed "
                          "before [km].",
        "positions": "'list' placement: the sites, each by x_m/y_m or lon/lat.",
    },
    "SitesSpec": {
        "existing": "Groups of existing sites (the baseline network).",
        "new": "Groups of new sites to build (what the scenario evaluates).",
    },
    "PointSpec": {
        "name": "Name of the point.",
    },
    "PlanningSpec": {
        "candidates": "Where candidate sites may go (settlements, a grid, hilltops or a "
                      "file).",
    },
}


def _describe_fields() -> None:
    """Give the fields listed in :data:`_FIELD_MEANINGS` their descriptions (once)."""
    for cls_name, meanings in _FIELD_MEANINGS.items():
        cls = globals()[cls_name]
        for key, text in meanings.items():
            f = cls.model_fields[key]
            if f.description:
                raise RuntimeError(f"{cls_name}.{key} already has a description")
            f.description = text
    # rebuild every model, sections before the models that contain them (module order),
    # so the nested JSON schemas carry the new descriptions too
    for obj in list(globals().values()):
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == __name__:
            obj.model_rebuild(force=True)


_describe_fields()


def json_schema() -> dict:
    """The JSON Schema of a scenario file (draft 2020-12), from the pydantic model, for
    editors (``ruralsim schema > scenario.schema.json``; YAML files point at it with a
    ``# yaml-language-server: $schema=...`` first line)."""
    out = Scenario.model_json_schema(mode="validation")
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": "ruralsim scenario", **{k: v for k, v in out.items() if k != "title"}}
    return out

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
                ("terrain (mapping form)", TerrainSpec), ("terrain.synthetic", SyntheticTerrainSpec),
                ("terrain.raster", RasterTerrainSpec),
                ("clutter (mapping form)", ClutterSpec), ("clutter.raster", RasterClutterSpec),
                ("clutter.synthetic", SyntheticClutterSpec),
                ("clutter.classes.<code>", ClutterClassSpec),
                ("propagation", PropagationSpec), ("propagation.itm", ItmSpec),
                ("propagation.calibration", CalibrationSpec),
                ("propagation.calibration.provenance", CalibrationProvenanceSpec),
                ("radio", RadioSpec),
                ("capacity", CapacitySpec), ("indoor", IndoorSpec),
                ("services.<name>", ServiceSpec), ("stations.<name>", StationSpec),
                ("sites", SitesSpec), ("sites.existing[] / sites.new[]", SiteGroupSpec),
                ("sites.*[].positions[]", SitePosition), ("sites.*[].clusters", ClusterSpec),
                ("sites.existing_towers[]", TowersFileSpec), ("adoption", AdoptionSpec),
                ("economics", EconomicsSpec), ("economics.station_costs.<type>", StationCostSpec),
                ("backhaul", BackhaulSpec), ("backhaul.options.<option>", BackhaulOptionSpec),
                ("power", PowerSpec), ("backhaul.fibre_node_positions[] / "
                                      "power.grid_point_positions[]", PointSpec),
                ("planning", PlanningSpec), ("planning.candidates", CandidatesSpec),
                ("programme", ProgrammeSpec), ("programme.options.<name>", ProgrammeOptionSpec),
                ("programme.target", ProgrammeTargetSpec), ("programme.relay", ProgrammeRelaySpec),
                ("outputs", OutputsSpec), ("sweep", SweepSpec), ("sweep.runs[]", SweepRunSpec)]
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
