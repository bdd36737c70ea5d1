"""The scenario runner: schema -> grid, people, sites -> engine -> ScenarioResult."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from pyproj import CRS, Transformer

from . import __version__
from .deployment import grid_positions, largest_settlements
from .engine import CoverageFields, compute_fields, site_arrays
from .errors import ScenarioError
from .grid import Grid, utm_epsg_for
from .population import Population, population_from_array, synthetic_population
from .propagation.models import PathLossModel
from .random import component_rng
from .schema import Scenario, TechnologySpec
from .stations import Sites, StationType, Technology, station_catalogue, technology_catalogue
from .variability import fade_margin_db


@dataclass
class ScenarioResult:
    """Everything a run produced: numbers, arrays and what made them.

    Attributes
    ----------
    scenario : Scenario
    grid : Grid
    population : Population
    sites : Sites
    stations : dict of StationType
    technology : Technology
    fields : CoverageFields
        Per-cell best-server signal, server index, path loss, baseline signal.
    covered : numpy.ndarray
        bool grid: the downlink closes with the fade margin (any site).
    covered_existing : numpy.ndarray
        bool grid: covered by the existing (baseline) sites alone.
    people_served_per_site : numpy.ndarray
        People in covered cells whose best server is each site (int64, per site).
    summary : dict
        The headline numbers (what summary.json holds).
    region_mask : numpy.ndarray
        bool grid: True where the cell centre is inside the region (the boundary when
        ``region.boundary`` is given, else everywhere).
    boundary : shapely geometry or None
        The boundary polygon in the grid's CRS.
    inputs : dict
        What the real-data readers found (population raster, tower files).
    """

    scenario: Scenario
    grid: Grid
    population: Population
    sites: Sites
    stations: dict[str, StationType]
    technology: Technology
    fields: CoverageFields
    covered: np.ndarray
    covered_existing: np.ndarray
    people_served_per_site: np.ndarray
    summary: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    region_mask: np.ndarray | None = None
    boundary: object = None
    inputs: dict = field(default_factory=dict)

    def save(self, out_dir=None, *, overwrite: bool = False, maps: bool | None = None):
        """Write every output to ``out_dir`` (atomically; see :mod:`simulator.io.results`)."""
        from .io.results import save_result

        return save_result(self, out_dir, overwrite=overwrite, maps=maps)


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
    return Grid.centred(crs.to_string(), cx, cy, r.width_km * 1000.0, r.height_km * 1000.0,
                        r.resolution_m)


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

    from .io.vectors import read_boundary

    path = resolve_path(scenario, scenario.region.boundary)
    geom = read_boundary(path, grid.crs)
    if not geom.intersects(box(*grid.bounds)):
        raise ScenarioError(f"the boundary does not overlap the region ({grid.crs} bounds "
                            f"{tuple(round(v) for v in grid.bounds)}); check "
                            "region.centre_lon_lat, width_km and height_km",
                            file=str(path), key="region.boundary")
    mask = ~geometry_mask([mapping(geom)], out_shape=grid.shape, transform=grid.transform,
                          all_touched=False)
    return geom, mask


def make_population(scenario: Scenario, grid: Grid, boundary=None,
                    region_mask: np.ndarray | None = None) -> tuple[Population, dict]:
    """People per cell (synthetic or from a raster), zero outside the region.

    Returns the population and what the raster reader found (empty for synthetic).
    """
    raster = scenario.population.raster
    if raster is not None:
        from shapely.geometry import box

        from .io.rasters import read_population_to_grid

        region = box(*grid.bounds)
        if boundary is not None:
            region = region.intersection(boundary)
        est, total, info = read_population_to_grid(
            resolve_path(scenario, raster.file), grid, inside_polygon=region, band=raster.band)
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
    from dataclasses import replace

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
    return station_catalogue(overrides)


def make_tower_sites(scenario: Scenario, grid: Grid,
                     stations: dict[str, StationType]) -> tuple[Sites, list[dict]]:
    """Existing sites from the ``sites.existing_towers`` CSV files, and their counts."""
    from .io.towers import towers_to_sites

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
                    if not grid.contains(x, y):
                        raise ScenarioError(
                            f"site at ({x:.0f}, {y:.0f}) m is outside the region "
                            f"x {grid.x_min_m:.0f}..{grid.x_max_m:.0f}, "
                            f"y {grid.y_min_m:.0f}..{grid.y_max_m:.0f} ({grid.crs})",
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
                np.zeros(n) if az is None else np.array(az)))
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


def path_loss_model(scenario: Scenario) -> PathLossModel:
    p = scenario.propagation
    return PathLossModel(name=p.model, environment=p.environment, city_size=p.city_size,
                         rma_condition=p.rma_condition,
                         check_parameters=not p.extrapolate_parameters)


def validate(scenario: Scenario) -> None:
    """Every check a run makes before computing, without computing."""
    grid = make_grid(scenario)
    tech = make_technology(scenario)
    stations = make_stations(scenario)
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            if group.station not in stations:
                raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                    file=_src(scenario), key=f"sites.{status}.{g}.station",
                                    value=group.station)
    for t, spec in enumerate(scenario.sites.existing_towers):
        _check_radio_map(scenario, spec, f"sites.existing_towers.{t}", stations)
        _check_file(scenario, spec.file, f"sites.existing_towers.{t}.file", "tower file")
    if scenario.region.boundary is not None:
        _check_file(scenario, scenario.region.boundary, "region.boundary", "boundary file")
    if scenario.population.raster is not None:
        _check_file(scenario, scenario.population.raster.file, "population.raster.file",
                    "population raster")
    check_applicability(scenario, path_loss_model(scenario), tech, stations)
    if grid.n_cells > 400_000_000:
        raise ScenarioError(f"{grid.n_cells:,} cells is more than this version handles "
                            "(400 million); use a coarser region.resolution_m",
                            file=_src(scenario), key="region.resolution_m")


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


def run(scenario: Scenario, *, progress: Callable[[int, int], None] | None = None,
        tile_size_cells: int | None = None) -> ScenarioResult:
    """Run a scenario end to end and return its :class:`ScenarioResult`.

    Parameters
    ----------
    scenario : Scenario
        From :func:`simulator.load_scenario` or built in Python.
    progress : callable, optional
        Called as ``progress(done_tiles, total_tiles)``.
    tile_size_cells : int, optional
        Override ``region.tile_size_cells`` (results do not depend on it).
    """
    t0 = time.perf_counter()
    timings = {}
    validate(scenario)
    grid = make_grid(scenario)
    tech = make_technology(scenario)
    stations = make_stations(scenario)
    model = path_loss_model(scenario)
    boundary, region_mask = make_boundary(scenario, grid)
    pop, pop_info = make_population(scenario, grid, boundary, region_mask)
    timings["population"] = time.perf_counter() - t0
    tower_sites, tower_counts = make_tower_sites(scenario, grid, stations)
    sites, warnings = make_sites(scenario, grid, pop, stations, placed=tower_sites)
    sites = tower_sites.concat(sites)
    required, margin = required_signal_dbm(scenario, tech)
    p = scenario.propagation
    sa = site_arrays(sites, stations, tech, model, ue_height_m=p.ue_height_m,
                     floor_dbm=tech.dl_threshold_dbm - p.floor_below_threshold_db,
                     max_range_m=p.max_range_km * 1000.0)
    t1 = time.perf_counter()
    fields = compute_fields(grid, sa, tech, model, ue_height_m=p.ue_height_m,
                            tile_size_cells=tile_size_cells or scenario.region.tile_size_cells,
                            progress=progress)
    timings["engine"] = time.perf_counter() - t1
    with np.errstate(invalid="ignore"):
        covered = (fields.rx_dbm >= required) & region_mask
        covered_existing = (fields.rx_existing_dbm >= required) & region_mask
    people = pop.people
    served = np.bincount(fields.best_server[covered], weights=people[covered],
                         minlength=len(sites)).astype(np.int64)
    result = ScenarioResult(scenario=scenario, grid=grid, population=pop, sites=sites,
                            stations=stations, technology=tech, fields=fields, covered=covered,
                            covered_existing=covered_existing, people_served_per_site=served,
                            region_mask=region_mask, boundary=boundary,
                            inputs={"population": pop_info, "towers": tower_counts})
    result.summary = build_summary(result, required, margin, warnings)
    timings["total"] = time.perf_counter() - t0
    result.timings_s = timings
    return result


def build_summary(r: ScenarioResult, required_dbm: float, margin_db: float,
                  warnings: list[str]) -> dict:
    """The headline numbers, as plain JSON-ready Python types."""
    people = r.population.people
    total = int(people.sum())
    covered_people = int(people[r.covered].sum())
    existing_people = int(people[r.covered_existing].sum())
    by_type: dict[str, dict[str, int]] = {}
    for s, ex in zip(r.sites.station, r.sites.existing):
        d = by_type.setdefault(s, {"existing": 0, "new": 0})
        d["existing" if ex else "new"] += 1
    served = r.people_served_per_site
    new = ~r.sites.existing
    s = r.scenario
    return {
        "scenario": s.name,
        "seed": s.seed,
        "software_version": __version__,
        "technology": r.technology.name,
        "propagation_model": s.propagation.model,
        "crs": r.grid.crs,
        "resolution_m": r.grid.resolution_m,
        "area_km2": round(_region_area_km2(r), 6),
        "region_boundary": s.region.boundary,
        "population_source": "raster" if s.population.raster is not None else "synthetic",
        "population_total": total,
        "people_covered": covered_people,
        "coverage_fraction": round(covered_people / total, 6) if total else 0.0,
        "people_covered_by_existing_sites": existing_people,
        "people_newly_covered": covered_people - existing_people,
        "area_covered_km2": round(float(r.covered.sum()) * r.grid.cell_area_km2, 6),
        "sites_total": len(r.sites),
        "sites_existing": int(r.sites.existing.sum()),
        "sites_new": int(new.sum()),
        "sites_by_type": by_type,
        "people_served_per_site_mean": round(float(served.mean()), 3) if len(served) else 0.0,
        "people_served_per_new_site_mean": round(float(served[new].mean()), 3) if new.any() else 0.0,
        "signal_metric": r.technology.signal_metric,
        "dl_threshold_dbm": r.technology.dl_threshold_dbm,
        "fade_margin_db": round(margin_db, 4),
        "required_signal_dbm": round(required_dbm, 4),
        "warnings": warnings,
        "population_input": r.inputs.get("population", {}),
        "existing_towers": r.inputs.get("towers", []),
    }


def _region_area_km2(r: ScenarioResult) -> float:
    if r.region_mask is None:
        return r.grid.area_km2
    return float(r.region_mask.sum()) * r.grid.cell_area_km2
