"""The scenario runner: the prepare stage (schema -> grid, people, terrain, sites, radio
parameters), the checks a run makes before any work (:func:`validate`), and :func:`run`,
the in-memory run: the pipeline (:mod:`simulator.pipeline.flow`) with the serial executor
and the memory sink."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
from pyproj import CRS, Transformer

from ..radio.capacity import assign_channels
from ..radio.deployment import (grid_positions, group_build_years, largest_settlements,
                               place_on_clusters)
from .engine import compute_fields, site_arrays
from .flow import ITM_REACH_SLACK_DB  # noqa: F401  (public here for older code)
from .result import ScenarioResult  # noqa: F401  (public here: simulator.ScenarioResult)
from ..errors import ScenarioError, emit_warnings
from ..region.grid import Grid, utm_epsg_for
from ..region.population import Population, population_from_array, synthetic_population
from ..radio.propagation.models import PathLossModel
from ..random import component_rng
from ..schema import Scenario, TechnologySpec
from ..radio.stations import Sites, StationType, Technology, station_catalogue, technology_catalogue
from ..radio.serving import ServingParams, serve
from ..radio.variability import fade_margin_db


def _src(scenario: Scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


def make_grid(scenario: Scenario) -> Grid:
    r = scenario.region
    lon, lat = r.centre_lon_lat
    try:
        crs = CRS.from_user_input(r.crs) if r.crs else CRS.from_epsg(utm_epsg_for(lon, lat))
    except Exception as exc:  # pyproj raises CRSError with a long message
        raise ScenarioError(f"not a valid CRS ({str(exc).splitlines()[0]}); use e.g. "
                            "'EPSG:32736'", file=_src(scenario), key="region.crs",
                            value=r.crs) from None
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        raise ScenarioError("the region CRS must be projected with metre units (e.g. a UTM "
                            "zone 'EPSG:326xx'/'EPSG:327xx')", file=_src(scenario),
                            key="region.crs", value=r.crs)
    cx, cy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    if not (np.isfinite(cx) and np.isfinite(cy)):
        raise ScenarioError(f"region.centre_lon_lat {lon}, {lat} cannot be placed in {crs.name}; "
                            "use a CRS covering the region (or leave region.crs empty for "
                            "the UTM zone)", file=_src(scenario), key="region.crs", value=r.crs)
    try:
        return Grid.centred(crs.to_string(), cx, cy, r.width_km * 1000.0,
                            r.height_km * 1000.0, r.resolution_m, snap=True)
    except ValueError as exc:
        key = "region.width_km" if r.width_km * 1000.0 < r.height_km * 1000.0 else \
            "region.height_km"
        raise ScenarioError(f"{exc}; use a larger region or a smaller region.resolution_m",
                            file=_src(scenario), key=key, value=getattr(r, key[7:])) from None


def resolve_path(scenario: Scenario, path: str) -> Path:
    """A path from the scenario, relative to the scenario file's folder (or the working
    folder for a scenario built in Python)."""
    p = Path(path).expanduser()
    if p.is_absolute() or scenario.source_path is None:
        return p
    return Path(scenario.source_path).parent / p


def make_boundary(scenario: Scenario, grid: Grid):
    """(boundary polygon in the grid CRS or None, bool mask of cells inside the region)."""
    if scenario.region.boundary is None:
        return None, np.ones(grid.shape, bool)
    from rasterio.features import geometry_mask
    from shapely.geometry import box, mapping

    from ..io.vectors import read_boundary

    path = resolve_path(scenario, scenario.region.boundary)
    geom = read_boundary(path, grid.crs)
    if not geom.intersects(box(*grid.bounds)):
        raise ScenarioError(f"the boundary does not overlap the region ({grid.crs} bounds "
                            f"{tuple(round(v) for v in grid.bounds)}); check "
                            "region.centre_lon_lat, width_km and height_km",
                            file=str(path), key="region.boundary")
    mask = ~geometry_mask([mapping(geom)], out_shape=grid.shape, transform=grid.transform,
                          all_touched=False)
    if not mask.any():
        raise ScenarioError(f"the boundary contains no cell centre of the grid (an empty "
                            f"region at {grid.resolution_m:g} m); check the boundary file or "
                            "use a finer region.resolution_m", file=str(path),
                            key="region.boundary")
    return geom, mask


def make_population(scenario: Scenario, grid: Grid, boundary=None,
                    region_mask: np.ndarray | None = None) -> tuple[Population, dict]:
    """People per cell (synthetic or from a raster), zero outside the region.

    Returns the population and what the raster reader found (empty for synthetic).
    """
    raster = scenario.population.raster
    if raster is not None:
        from shapely.geometry import box

        from ..io.rasters import read_population_to_grid

        region = box(*grid.bounds)
        if boundary is not None:
            region = region.intersection(boundary)
        path = resolve_path(scenario, raster.file)
        est, total, info = read_population_to_grid(path, grid, inside_polygon=region,
                                                   band=raster.band)
        if not total > 0:
            raise ScenarioError("the raster holds no people inside the region (all zero or "
                                "no data there); check the raster, region.centre_lon_lat, "
                                "width_km, height_km and region.boundary",
                                file=str(path), key="population.raster.file")
        info["people_in_region"] = total
        return population_from_array(grid, est, total_people=int(round(total))), info
    spec = scenario.population.synthetic
    pop = synthetic_population(
        grid, total_people=spec.total_people, n_settlements=spec.settlements,
        n_clusters=spec.clusters, cluster_radius_m=spec.cluster_radius_km * 1000.0,
        dispersed_share=spec.dispersed_share, size_sigma=spec.settlement_size_sigma,
        radius_1000_m=spec.settlement_radius_m, household_size=spec.household_size,
        rng=component_rng(scenario.seed, "population"))
    info = {}
    if region_mask is not None and not region_mask.all():
        outside = int(pop.people[~region_mask].sum())
        pop.people = np.where(region_mask, pop.people, 0)
        info = {"synthetic_people_outside_boundary_dropped": outside}
    return pop, info


def make_technology(scenario: Scenario) -> Technology:
    cat = technology_catalogue()
    spec = scenario.technology
    spec = TechnologySpec(base=spec) if isinstance(spec, str) else spec
    key = "technology" if isinstance(scenario.technology, str) else "technology.base"
    if spec.base not in cat:
        raise ScenarioError(f"unknown technology; allowed: {', '.join(cat)}",
                            file=_src(scenario), key=key, value=spec.base)
    changes = {k: v for k, v in spec.model_dump(exclude={"base"}).items() if v is not None}
    return replace(cat[spec.base], **changes)


def make_stations(scenario: Scenario) -> dict[str, StationType]:
    known = set(station_catalogue())
    for name, spec in scenario.stations.items():
        if spec.base is not None and spec.base not in known:
            raise ScenarioError(f"unknown base station type; allowed: {', '.join(sorted(known))}",
                                file=_src(scenario), key=f"stations.{name}.base", value=spec.base)
        if spec.base is None and name not in known:
            raise ScenarioError(f"a new station type needs 'base:' (one of "
                                f"{', '.join(sorted(known))})", file=_src(scenario),
                                key=f"stations.{name}")
        known.add(name)
    overrides = {n: s.model_dump(exclude_none=True) for n, s in scenario.stations.items()}
    cat = station_catalogue(overrides)
    from ..io.antenna_files import read_msi

    for name, st in cat.items():
        if not st.pattern_file:
            continue
        path = Path(st.pattern_file)
        if not path.is_absolute() and scenario.source_path is not None:
            path = Path(scenario.source_path).parent / path
        try:
            pattern = read_msi(path)
        except (OSError, ValueError) as exc:
            raise ScenarioError(f"cannot use antenna pattern {path}: {str(exc).splitlines()[0]}; "
                                "give an MSI/Planet .msi file", file=_src(scenario),
                                key=f"stations.{name}.pattern_file", value=str(path)) from None
        cat[name] = replace(st, pattern=pattern, antenna_gain_dbi=float(pattern.peak_gain_dbi))
    return cat


def make_tower_sites(scenario: Scenario, grid: Grid,
                     stations: dict[str, StationType]) -> tuple[Sites, list[dict]]:
    """Existing sites from the ``sites.existing_towers`` CSV files, and their counts."""
    from ..io.towers import towers_to_sites

    out = Sites.empty()
    counts = []
    for t, spec in enumerate(scenario.sites.existing_towers):
        key = f"sites.existing_towers.{t}"
        _check_radio_map(scenario, spec, key, stations)
        ts = towers_to_sites(resolve_path(scenario, spec.file), grid, radio_map=spec.radio_map,
                             default_station=spec.default_station, cluster_m=spec.cluster_m,
                             mcc=spec.mcc, net=spec.net, key=key)
        n = len(ts.x_m)
        names = [f"tower-{t + 1}-{k + 1}-{ts.radios[k]}" for k in range(n)]
        out = out.concat(Sites(names, ts.x_m, ts.y_m, ts.station, np.ones(n, bool),
                               np.zeros(n)))
        counts.append(ts.counts)
    return out, counts


def _check_radio_map(scenario, spec, key, stations) -> None:
    for radio, st in spec.radio_map.items():
        if st not in stations:
            raise ScenarioError(f"unknown station type for radio {radio}; allowed: "
                                f"{', '.join(stations)}", file=_src(scenario),
                                key=f"{key}.radio_map.{radio}", value=st)
    if spec.default_station is not None and spec.default_station not in stations:
        raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                            file=_src(scenario), key=f"{key}.default_station",
                            value=spec.default_station)


def make_sites(scenario: Scenario, grid: Grid, pop: Population,
               stations: dict[str, StationType], *,
               placed: Sites | None = None) -> tuple[Sites, list[str]]:
    """Place the existing groups, then the new ones. Returns the sites and any warnings.

    Existing towers from CSV files (:func:`make_tower_sites`) are not included; the runner
    puts them first and passes them as ``placed``, so settlement placement keeps
    ``min_spacing_km`` from them too.
    """
    rng = component_rng(scenario.seed, "sites")
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    placed_x: list[float] = [] if placed is None else list(placed.x_m)
    placed_y: list[float] = [] if placed is None else list(placed.y_m)
    all_sites = Sites.empty()
    warnings: list[str] = []
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            key = f"sites.{status}.{g}"
            if group.station not in stations:
                raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                    file=_src(scenario), key=f"{key}.station", value=group.station)
            names = None
            az = None
            if group.placement == "largest_settlements":
                xs, ys = largest_settlements(pop, group.count, group.min_spacing_km * 1000.0,
                                             placed_x, placed_y)
                if len(xs) < group.count:
                    warnings.append(f"{key}: asked for {group.count} sites on settlements, "
                                    f"placed {len(xs)} (no more settlements "
                                    f"{group.min_spacing_km:g} km from other sites)")
            elif group.placement == "settlement_clusters":
                xs, ys = place_on_clusters(grid, pop, group, key, rng, placed_x, placed_y, warnings)
            elif group.placement == "grid":
                xs, ys = grid_positions(grid, group.count)
            elif group.placement == "random":
                xs = rng.uniform(grid.x_min_m, grid.x_max_m, group.count)
                ys = rng.uniform(grid.y_min_m, grid.y_max_m, group.count)
            else:
                xs, ys, names, az = [], [], [], []
                for p, pos in enumerate(group.positions):
                    if pos.x_m is not None:
                        x, y = pos.x_m, pos.y_m
                    else:
                        x, y = to_grid.transform(pos.lon, pos.lat)
                    if not (np.isfinite(x) and np.isfinite(y) and grid.contains(x, y)):
                        raise ScenarioError(
                            f"site at ({x:.0f}, {y:.0f}) m is outside the region "
                            f"x {grid.x_min_m:.0f}..{grid.x_max_m:.0f}, "
                            f"y {grid.y_min_m:.0f}..{grid.y_max_m:.0f} ({grid.crs}); check "
                            "the position (lon/lat in WGS 84 degrees, x_m/y_m in the region "
                            "CRS) or region.centre_lon_lat, width_km and height_km",
                            file=_src(scenario), key=f"{key}.positions.{p}")
                    xs.append(x)
                    ys.append(y)
                    names.append(pos.name or f"{status}-{group.station}-{len(all_sites) + p + 1}")
                    az.append(pos.azimuth_deg)
                xs, ys = np.array(xs), np.array(ys)
            if group.placement in ("grid", "random"):
                placed_x.extend(xs)
                placed_y.extend(ys)
            n = len(xs)
            if names is None:
                names = [f"{status}-{group.station}-{len(all_sites) + i + 1}" for i in range(n)]
            all_sites = all_sites.concat(Sites(
                names, xs, ys, [group.station] * n, np.full(n, status == "existing"),
                np.zeros(n) if az is None else np.array(az), group_build_years(group, n)))
    return all_sites, warnings


def check_applicability(scenario: Scenario, model: PathLossModel, technology: Technology,
                        stations: dict[str, StationType]) -> None:
    """Refuse a model outside its valid range, naming the key and the remedy."""
    used = {g.station for grp in (scenario.sites.existing, scenario.sites.new) for g in grp}
    heights = [stations[s].height_m for s in sorted(used) if s in stations] or [30.0]
    problems = model.applicability_errors(technology.frequency_mhz, heights,
                                          scenario.propagation.ue_height_m)
    if problems:
        param, msg = problems[0]
        remedy = {"frequency_mhz": "choose a technology in range or another propagation.model",
                  "h_tx_m": "use rma_38901 (10-150 m) or set propagation.extrapolate_parameters: true",
                  "h_rx_m": "change propagation.ue_height_m"}[param]
        raise ScenarioError(f"{param} {msg}; {remedy}", file=_src(scenario),
                            key="propagation.model", value=model.name)


TERRAIN_MODELS = ("itm", "itm_area", "deygout", "bullington", "delta_bullington")
#: models evaluated on terrain profiles (the terrain engine)
PROFILE_MODELS = ("itm", "deygout", "bullington", "delta_bullington")


def _itm_kwargs(scenario: Scenario) -> dict:
    from .engine_terrain import ITM_CLIMATES

    i = scenario.propagation.itm
    return {"climate": ITM_CLIMATES[i.climate], "n0_n_units": i.surface_refractivity_n_units,
            "polarization": 1 if i.polarization == "vertical" else 0,
            "epsilon_r": i.ground_permittivity, "sigma_s_per_m": i.ground_conductivity_s_per_m,
            "time_pct": i.time_pct, "situation_pct": i.situation_pct}


def path_loss_model(scenario: Scenario, delta_h_m: float = 90.0) -> PathLossModel:
    """The area (terrain-free) model of a scenario.

    For ``itm`` it is ITM's area mode with the region's terrain irregularity (used to find
    each site's reach); for ``deygout``/``bullington`` it is ``diffraction_base``, for
    ``delta_bullington`` free space.
    """
    p = scenario.propagation
    name = p.model
    if name in ("deygout", "bullington"):
        name = p.diffraction_base
    elif name == "delta_bullington":
        name = "free_space"
    elif name == "itm":
        name = "itm_area"
    if p.itm.terrain_irregularity_m is not None:
        delta_h_m = p.itm.terrain_irregularity_m
    cal = p.calibration
    return PathLossModel(name=name, environment=p.environment, city_size=p.city_size,
                         rma_condition=p.rma_condition,
                         check_parameters=not p.extrapolate_parameters, delta_h_m=delta_h_m,
                         itm=tuple(_itm_kwargs(scenario).items()),
                         free_space_floor=p.free_space_floor,
                         cost231_mobile_correction=p.cost231_mobile_correction,
                         calibration_offset_db=cal.offset_db if cal else 0.0,
                         calibration_slope_db_per_decade=cal.slope_db_per_decade if cal else 0.0,
                         calibration_reference_m=cal.reference_distance_m if cal else 1000.0)


def terrain_method(scenario: Scenario, base: PathLossModel):
    """The terrain method (profiles) of a scenario, or None for area models."""
    from .engine_terrain import TerrainMethod

    p = scenario.propagation
    if p.model not in PROFILE_MODELS:
        return None
    return TerrainMethod(name=p.model, base=base, k_factor=p.k_factor,
                         max_profile_points=p.max_profile_points,
                         itm=dict(_itm_kwargs(scenario), delta_h_knot_fraction=(
                             p.itm.delta_h_knot_fraction)) if p.model == "itm" else {})


def make_terrain(scenario: Scenario, grid: Grid) -> tuple[np.ndarray | None, list[str]]:
    """Elevation per cell (float32) or None for flat terrain, and warnings."""
    t = scenario.terrain
    if t == "flat":
        return None, []
    if t.synthetic is not None:
        from ..region.terrain import synthetic_dem

        s = t.synthetic
        dem = synthetic_dem(grid.shape, grid.resolution_m, relief_m=s.relief_m,
                            roughness=s.roughness, ridges=s.ridges, valleys=s.valleys,
                            base_elevation_m=s.base_elevation_m,
                            rng=component_rng(scenario.seed, "terrain"))
        return dem.astype(np.float32), []
    from ..io.dem import read_dem_to_grid

    path = Path(t.raster.file)
    if not path.is_absolute() and scenario.source_path is not None:
        path = Path(scenario.source_path).parent / path
    return read_dem_to_grid(path, grid, resampling=t.raster.resampling, nodata=t.raster.nodata,
                            scenario_file=_src(scenario))


def validate(scenario: Scenario, *, available_memory_bytes: int | None = None,
             mode: str = "memory") -> None:
    """Every check a run makes before computing that needs no input file's content
    (:func:`simulator.pipeline.checks.check_scenario`; ``ruralsim validate`` also reads the
    inputs: :func:`simulator.pipeline.checks.check_run`).

    ``available_memory_bytes`` overrides the memory the resource guard compares its
    estimate with; ``mode`` is the run's: "memory", "tiled" or "auto" (what ``ruralsim run``
    would choose, :func:`simulator.pipeline.resources.choose_mode`).
    """
    from .checks import check_scenario

    check_scenario(scenario, available_memory_bytes=available_memory_bytes, mode=mode)


def input_files(scenario: Scenario) -> dict[str, Path]:
    """Every input file the scenario references, by its scenario key."""
    files = {}
    if scenario.region.boundary is not None:
        files["region.boundary"] = scenario.region.boundary
    if scenario.population.raster is not None:
        files["population.raster.file"] = scenario.population.raster.file
    if scenario.terrain != "flat" and scenario.terrain.raster is not None:
        files["terrain.raster.file"] = scenario.terrain.raster.file
    if scenario.clutter is not None and scenario.clutter.raster is not None:
        files["clutter.raster.file"] = scenario.clutter.raster.file
    for t, spec in enumerate(scenario.sites.existing_towers):
        files[f"sites.existing_towers.{t}.file"] = spec.file
    if scenario.planning is not None and scenario.planning.candidates.file:
        files["planning.candidates.file"] = scenario.planning.candidates.file
    if scenario.adoption.income_raster is not None:
        files["adoption.income_raster.file"] = scenario.adoption.income_raster.file
    return {k: resolve_path(scenario, v) for k, v in files.items()}


def input_checksums(scenario: Scenario) -> dict[str, dict]:
    """``{key: {"path", "bytes", "sha256"}}`` of :func:`input_files` (missing: sha256 None)."""
    import hashlib

    out = {}
    for key, path in input_files(scenario).items():
        entry = {"path": str(path), "bytes": None, "sha256": None}
        if path.is_file():
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            entry.update(bytes=path.stat().st_size, sha256=h.hexdigest())
        out[key] = entry
    return out


def _check_file(scenario: Scenario, path: str, key: str, what: str) -> None:
    p = resolve_path(scenario, path)
    if not p.is_file():
        raise ScenarioError(f"{what} not found at {p} (paths are relative to the scenario "
                            "file's folder)", file=_src(scenario), key=key, value=path)


def required_signal_dbm(scenario: Scenario, technology: Technology) -> tuple[float, float]:
    """(required signal, fade margin) [dBm, dB]: threshold + sigma * Phi^-1(reliability)."""
    p = scenario.propagation
    margin = 0.0 if p.shadowing_sigma_db == 0 else float(
        fade_margin_db(p.shadowing_sigma_db, p.location_reliability))
    return technology.dl_threshold_dbm + margin, margin


def services_for(scenario: Scenario, tech: Technology) -> dict[str, float | None]:
    """Service levels {name: minimum single-user downlink Mbit/s or None}, checked."""
    if scenario.services is None:
        out = {"basic": None}
        if tech.carries_data:
            out["broadband"] = 2.0
        return out
    peak = (tech.shannon_max_bps_per_hz * tech.bandwidth_mhz * (1 - tech.overhead_fraction)
            if tech.carries_data else 0.0)
    out = {}
    for name, spec in scenario.services.items():
        need = spec.min_dl_throughput_mbps
        if need is not None and need > peak:
            what = (f"{tech.label} carries no data" if not tech.carries_data else
                    f"{tech.label} peaks at {peak:.1f} Mbit/s")
            raise ScenarioError(f"no technology in the scenario can meet {need:g} Mbit/s: "
                                f"{what}; lower the rate or choose an LTE technology",
                                file=_src(scenario), key=f"services.{name}.min_dl_throughput_mbps",
                                value=need)
        out[name] = need
    return out


def serving_params(scenario: Scenario, tech: Technology, margin_db: float) -> ServingParams:
    from ..radio.propagation.building_entry import building_entry_loss_db

    ind = scenario.indoor
    bel = 0.0
    if ind.share > 0:
        bel = ind.building_entry_loss_db
        if bel is None:
            bel = float(building_entry_loss_db(tech.frequency_mhz, ind.probability_pct,
                                               building_type=ind.building_type))
    r, c = scenario.radio, scenario.capacity
    return ServingParams(fade_margin_db=margin_db, sigma_db=scenario.propagation.shadowing_sigma_db,
                         uplink=r.uplink, interference=r.interference,
                         interference_load=r.interference_load,
                         ul_interference_margin_db=r.ul_interference_margin_db,
                         busy_hour_active_share=c.busy_hour_active_share,
                         mbps_per_active_user=c.mbps_per_active_user,
                         indoor_share=ind.share, building_entry_loss_db=float(bel))


def _pass(grid, sites, stations, tech, model, scenario, people, params, channel, tile, progress,
          dem=None, method=None, clutter=None):
    """Engine and serving over the region: ``(fields, serving)``.

    With ``clutter`` (a :class:`simulator.region.clutter.ClutterLayer`) the per-cell
    terminal clutter loss is added to the engine's fields before serving, and the result
    is ``(fields, serving, people covered per cell without the clutter loss)``.
    """
    p = scenario.propagation
    slack = ITM_REACH_SLACK_DB if (method is not None and method.name == "itm") else 0.0
    sa = site_arrays(sites, stations, tech, model, ue_height_m=p.ue_height_m,
                     floor_dbm=tech.dl_threshold_dbm - p.floor_below_threshold_db - slack,
                     max_range_m=p.max_range_km * 1000.0)
    ch = channel if scenario.radio.interference else None
    los = None
    if method is None:
        fields = compute_fields(grid, sa, tech, model, ue_height_m=p.ue_height_m,
                                tile_size_cells=tile, channel=ch, progress=progress)
    else:
        from .engine_terrain import compute_fields_terrain

        fields, tf = compute_fields_terrain(grid, dem, sa, tech, method,
                                            ue_height_m=p.ue_height_m, channel=ch,
                                            progress=progress)
        los = tf.line_of_sight
    if clutter is not None:
        from ..region.clutter import apply_terminal_loss
        from .clutter import people_covered_per_cell

        covered_without = people_covered_per_cell(fields, sa.tx_metric_dbm, people, tech,
                                                  params, line_of_sight=los)
        fields = apply_terminal_loss(fields, clutter.loss_db())
    sv = serve(fields, sa.tx_metric_dbm, people, tech, params, len(sites), line_of_sight=los)
    if clutter is not None:
        return fields, sv, covered_without
    return fields, sv


@dataclass
class Prepared:
    """Everything a run builds before the engine: grid, people, sites, radio parameters."""

    scenario: Scenario
    grid: Grid
    technology: Technology
    stations: dict
    model: PathLossModel
    services: dict
    boundary: object
    region_mask: np.ndarray
    population: Population
    population_info: dict
    dem: np.ndarray | None
    delta_h_m: float
    method: object
    tower_counts: list
    sites: Sites
    warnings: list
    required_dbm: float
    margin_db: float
    params: ServingParams
    channel: np.ndarray
    timings_s: dict
    input_files: dict = field(default_factory=dict)
    clutter: object = None  # region.clutter.ClutterLayer or None


def prepare(scenario: Scenario, *, mode: str = "memory") -> Prepared:
    """Validate the scenario and build grid, population, terrain and sites (no engine).

    The pipeline's first stage (:func:`simulator.pipeline.flow.execute`); ``mode`` is the
    run's, for the memory check (:func:`validate`).
    """
    t0 = time.perf_counter()
    timings = {}
    validate(scenario, mode=mode)
    checksums = input_checksums(scenario)
    grid = make_grid(scenario)
    tech = make_technology(scenario)
    stations = make_stations(scenario)
    model = path_loss_model(scenario)
    services = services_for(scenario, tech)
    boundary, region_mask = make_boundary(scenario, grid)
    pop, pop_info = make_population(scenario, grid, boundary, region_mask)
    timings["population"] = time.perf_counter() - t0
    dem, terrain_warnings = make_terrain(scenario, grid)
    delta_h = 0.0
    if dem is not None:
        from ..region.terrain import terrain_irregularity_m

        delta_h = terrain_irregularity_m(dem, grid.resolution_m)
        model = path_loss_model(scenario, delta_h_m=max(delta_h, 0.0))
    method = terrain_method(scenario, model)
    timings["terrain"] = time.perf_counter() - t0 - timings["population"]
    from .clutter import make_clutter

    t_clutter = time.perf_counter()
    clutter, clutter_warnings = make_clutter(scenario, grid, pop, region_mask, tech)
    timings["clutter"] = time.perf_counter() - t_clutter
    tower_sites, tower_counts = make_tower_sites(scenario, grid, stations)
    sites, warnings = make_sites(scenario, grid, pop, stations, placed=tower_sites)
    sites = tower_sites.concat(sites)
    warnings = pop_info.pop("warnings", []) + terrain_warnings + clutter_warnings + warnings
    warnings += _floor_warnings(scenario, model, method, tech, stations, sites, grid)
    warnings = emit_warnings(warnings, stacklevel=4)  # warnings + logging (issue 15)
    required, margin = required_signal_dbm(scenario, tech)
    params = serving_params(scenario, tech, margin)
    channel = (assign_channels(np.c_[sites.x_m, sites.y_m], scenario.radio.reuse_factor)
               if len(sites) else np.zeros(0, np.int64))
    timings["sites"] = (time.perf_counter() - t0 - timings["population"] - timings["terrain"]
                        - timings["clutter"])
    return Prepared(scenario=scenario, grid=grid, technology=tech, stations=stations,
                    model=model, services=services, boundary=boundary,
                    region_mask=region_mask, population=pop, population_info=pop_info,
                    dem=dem, delta_h_m=delta_h, method=method, tower_counts=tower_counts,
                    sites=sites, warnings=warnings, required_dbm=required, margin_db=margin,
                    params=params, channel=channel, timings_s=timings,
                    input_files=checksums, clutter=clutter)


def _floor_warnings(scenario, model, method, tech, stations, sites, grid) -> list[str]:
    """Where the free-space floor decides the loss (propagation.free_space_floor)."""
    from ..radio.propagation.models import free_space_floor_warnings

    base = model if method is None else method.base
    if method is not None and method.name not in ("deygout", "bullington"):
        return []
    types = sorted(set(sites.station))
    return free_space_floor_warnings(
        base, tech.frequency_mhz, {t: stations[t].height_m for t in types},
        {t: sites.station.count(t) for t in types}, scenario.propagation.ue_height_m,
        grid.area_km2, scenario.propagation.max_range_km * 1000.0)


def run(scenario: Scenario, *, progress: Callable[[int, int], None] | None = None,
        tile_size_cells: int | None = None,
        site_progress: Callable[[int, int], None] | None = None, client=None,
        retries: int = 2) -> ScenarioResult:
    """Run a scenario end to end, in memory, and return its :class:`ScenarioResult`.

    The pipeline (:func:`simulator.pipeline.flow.execute`) with the serial executor and
    the memory sink: the result holds region-sized arrays (about 280 bytes a cell). A
    region that would not fit in the memory left is refused with a
    :class:`~simulator.errors.ScenarioError` before any work (:func:`validate`,
    :func:`simulator.pipeline.resources.check_resources`); run it tiled with
    :func:`simulator.pipeline.distributed.run_tiled` (``ruralsim run`` switches by itself).

    Parameters
    ----------
    scenario : Scenario
        From :func:`simulator.load_scenario` or built in Python.
    progress : callable, optional
        Called as ``progress(done_tiles, total_tiles)`` during the tile pass.
    tile_size_cells : int, optional
        Override ``region.tile_size_cells`` (results do not depend on it).
    site_progress : callable, optional
        ``site_progress(done_sites, total_sites)`` during the terrain site pass.
    client : distributed.Client, optional
        Run the site pass and the tiles as Dask tasks (their windows come back to this
        process); results do not depend on it.
    retries : int
        Dask retries of a failed task.
    """
    from .executors import executor_for
    from .flow import execute

    return execute(scenario, executor=executor_for(client, retries=retries), sink="memory",
                   progress=progress, tile_size_cells=tile_size_cells,
                   site_progress=site_progress)
