"""Every check a run makes before it computes, in one place, so ``validate`` and ``run``
cannot disagree.

Two levels:

* :func:`check_scenario`: the checks that need no input file's content: the grid and its
  CRS, people, technology (its bandwidth against the LTE table), station types and antenna
  pattern files, site positions of ``placement: list`` groups, tower radio maps, that every
  input file exists and is a regular file, the propagation model's valid ranges, service
  levels, economic parameters, and the in-memory resource guard. ``runner.validate`` is this
  function; ``runner.prepare`` (the start of every run) calls it first.
* :func:`check_run`: what ``ruralsim run`` does before the engine: the mode (in memory or
  tiled, as ``run`` picks it), the tiled path's own memory check, then ``runner.prepare``
  itself, which reads every input file (boundary, population raster, DEM, tower CSVs) and
  places the sites. ``ruralsim validate`` calls it, so a scenario that ``validate`` accepts
  is one that ``run`` starts computing, and a scenario ``run`` refuses ``validate`` refuses
  with the same message (tests/test_bad_input_catalogue.py checks every case).

Both raise :class:`~simulator.errors.ScenarioError` (file, key, what is allowed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ScenarioError


def _src(scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


def check_scenario(scenario, *, available_memory_bytes: int | None = None,
                   mode: str = "memory") -> None:
    """The checks of a run that need no input file's content (see the module text).

    ``available_memory_bytes`` overrides the memory the resource guard compares its
    estimate with (default: what the system reports; see :mod:`simulator.pipeline.resources`).
    ``mode="tiled"`` skips the in-memory resource guard (the tiled path bounds memory by
    the tile size and checks its driver with :func:`simulator.pipeline.distributed.check_memory`;
    the in-memory check is :func:`simulator.pipeline.resources.check_resources`).
    """
    from . import runner as rn
    from .resources import check_resources, choose_mode

    grid = rn.make_grid(scenario)
    syn = scenario.population.synthetic
    if syn is not None and syn.total_people == 0:
        raise ScenarioError("the region has no people, so there is nothing to cover; give "
                            "total_people > 0", file=_src(scenario),
                            key="population.synthetic.total_people", value=0)
    tech = rn.make_technology(scenario)
    _check_technology(scenario, tech)
    stations = rn.make_stations(scenario)
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            if group.station not in stations:
                raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                    file=_src(scenario), key=f"sites.{status}.{g}.station",
                                    value=group.station)
    _check_positions(scenario, grid)
    for t, spec in enumerate(scenario.sites.existing_towers):
        rn._check_radio_map(scenario, spec, f"sites.existing_towers.{t}", stations)
        _check_input(scenario, spec.file, f"sites.existing_towers.{t}.file", "tower file")
    if scenario.region.boundary is not None:
        _check_input(scenario, scenario.region.boundary, "region.boundary", "boundary file")
    if scenario.population.raster is not None:
        _check_input(scenario, scenario.population.raster.file, "population.raster.file",
                     "population raster")
    if scenario.terrain != "flat" and scenario.terrain.raster is not None:
        _check_input(scenario, scenario.terrain.raster.file, "terrain.raster.file",
                     "DEM file")
    rn.check_applicability(scenario, rn.path_loss_model(scenario), tech, stations)
    p = scenario.propagation
    if p.model in rn.TERRAIN_MODELS and scenario.terrain == "flat" and not (
            p.model == "itm_area" and p.itm.terrain_irregularity_m is not None):
        raise ScenarioError(f"propagation model '{p.model}' works on terrain profiles; give "
                            "terrain: {synthetic: {...}} or terrain: {raster: {file: dem.tif}}",
                            file=_src(scenario), key="propagation.model", value=p.model)
    if p.model in rn.PROFILE_MODELS:
        used = {g.station for grp in (scenario.sites.existing, scenario.sites.new) for g in grp}
        heights = [stations[s].height_m for s in used if s in stations]
        lo_f, hi_f = (20.0, 20000.0) if p.model == "itm" else (30.0, 100000.0)
        if not lo_f <= tech.frequency_mhz <= hi_f:
            raise ScenarioError(f"frequency_mhz {tech.frequency_mhz:g} MHz is outside "
                                f"{p.model}'s valid range {lo_f:g}-{hi_f:g} MHz",
                                file=_src(scenario), key="propagation.model", value=p.model)
        for h in heights + [p.ue_height_m]:
            if p.model == "itm" and not 0.5 <= h <= 3000.0:
                raise ScenarioError(f"antenna height {h:g} m is outside ITM's valid range "
                                    "0.5-3000 m", file=_src(scenario), key="propagation.model",
                                    value=p.model)
    from .clutter import check_clutter

    check_clutter(scenario, tech)
    rn.services_for(scenario, tech)
    from ..business.assessment import resolve_parameters

    resolve_parameters(scenario, stations)
    if mode == "auto":
        mode = choose_mode(scenario, "auto", available_bytes=available_memory_bytes)
    check_resources(scenario, n_cells=grid.n_cells, available_bytes=available_memory_bytes,
                    mode=mode)
    if grid.n_cells > 400_000_000:
        raise ScenarioError(f"{grid.n_cells:,} cells is more than this version handles "
                            "(400 million); use a coarser region.resolution_m",
                            file=_src(scenario), key="region.resolution_m")
    from ..region.grid import crs_fit_problem

    if (crs_problem := crs_fit_problem(grid, default=scenario.region.crs is None)):
        raise ScenarioError(crs_problem, file=_src(scenario), key="region.crs",
                            value=scenario.region.crs)


def _check_input(scenario, path: str, key: str, what: str) -> None:
    """An input file exists and is a regular file (not a folder, a device such as
    /dev/zero, or a pipe)."""
    from .runner import resolve_path

    p = resolve_path(scenario, path)
    if not p.exists():
        raise ScenarioError(f"{what} not found at {p} (paths are relative to the scenario "
                            "file's folder)", file=_src(scenario), key=key, value=path)
    if not p.is_file():
        raise ScenarioError(f"{what} at {p} is not a regular file (a folder, device or pipe); "
                            "give the path of a file", file=_src(scenario), key=key,
                            value=path)


def _check_technology(scenario, tech) -> None:
    """The technology's own consistency checks (an LTE bandwidth must be in the table)."""
    key = "technology" if isinstance(scenario.technology, str) else "technology.bandwidth_mhz"
    try:
        tech.metric_offset_db
    except ValueError as exc:
        raise ScenarioError(f"{exc}; allowed: one of those (3GPP TS 36.101 channel "
                            "bandwidths)", file=_src(scenario), key=key,
                            value=tech.bandwidth_mhz) from None


def _check_positions(scenario, grid) -> None:
    """Sites of ``placement: list`` groups inside the region (as ``make_sites`` places them)."""
    from pyproj import Transformer

    to_grid = None
    for status in ("existing", "new"):
        for g, group in enumerate(getattr(scenario.sites, status)):
            if group.placement != "list":
                continue
            for k, pos in enumerate(group.positions):
                if pos.x_m is not None:
                    x, y = pos.x_m, pos.y_m
                else:
                    if to_grid is None:
                        to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
                    x, y = to_grid.transform(pos.lon, pos.lat)
                if not (np.isfinite(x) and np.isfinite(y) and grid.contains(x, y)):
                    raise ScenarioError(
                        f"site at ({x:.0f}, {y:.0f}) m is outside the region "
                        f"x {grid.x_min_m:.0f}..{grid.x_max_m:.0f}, "
                        f"y {grid.y_min_m:.0f}..{grid.y_max_m:.0f} ({grid.crs}); check "
                        "the position (lon/lat in WGS 84 degrees, x_m/y_m in the region "
                        "CRS) or region.centre_lon_lat, width_km and height_km",
                        file=_src(scenario), key=f"sites.{status}.{g}.positions.{k}")


def check_mode(scenario, mode: str, *, available_memory_bytes: int | None = None) -> None:
    """The checks of a run in ``mode`` ("memory" or "tiled") before it reads any input:
    :func:`check_scenario` with that mode's memory estimate (the one estimator)."""
    check_scenario(scenario, available_memory_bytes=available_memory_bytes, mode=mode)


@dataclass
class RunCheck:
    """What ``ruralsim validate`` reports: the size of the run and what it needs."""

    cells: int
    shape: tuple[int, int]
    resolution_m: float
    crs: str
    mode: str                     # "memory" or "tiled"
    mode_reason: str
    sites: int
    model: str
    peak_memory_bytes: int        # the in-memory estimate, or the tiled driver's
    time_s: float
    memory_limits: dict           # name -> bytes (simulator.pipeline.memory_limits)
    warnings: list = field(default_factory=list)
    population_total: int = 0


def check_run(scenario, *, mode: str = "auto",
              available_memory_bytes: int | None = None) -> RunCheck:
    """Every check ``ruralsim run`` makes before computing (see the module text).

    Parameters
    ----------
    scenario : Scenario
    mode : {"auto", "memory", "tiled"}
        As ``ruralsim run`` (``--in-memory``, ``--tiled``; default automatic).
    available_memory_bytes : int, optional
        Memory to compare the in-memory estimate with (default: what the system reports).

    Returns
    -------
    RunCheck
    """
    from . import resources
    from .memory_limits import memory_limits
    from .runner import prepare

    requested = mode
    mode = resources.choose_mode(scenario, requested,
                                  available_bytes=available_memory_bytes)
    cells = resources.grid_cells(scenario)
    if requested != "auto":
        reason = "asked for (--in-memory)" if mode == "memory" else "asked for (--tiled)"
    elif cells > resources.TILED_AUTO_CELLS:
        reason = f"automatic: more than {resources.TILED_AUTO_CELLS:,} cells"
    elif mode == "tiled":
        reason = "automatic: the region would not fit in the memory left"
    else:
        reason = "automatic: it fits in the memory left"
    check_mode(scenario, mode, available_memory_bytes=available_memory_bytes)
    pre = prepare(scenario, mode=mode)
    est = resources.estimate_for_scenario(scenario, pre.grid.n_cells, mode=mode)
    peak = est.peak_memory_bytes
    return RunCheck(cells=pre.grid.n_cells, shape=tuple(pre.grid.shape),
                    resolution_m=pre.grid.resolution_m, crs=str(pre.grid.crs), mode=mode,
                    mode_reason=reason, sites=len(pre.sites), model=est.model,
                    peak_memory_bytes=int(peak), time_s=est.time_s,
                    memory_limits=memory_limits(), warnings=list(pre.warnings),
                    population_total=int(pre.population.people.sum()))
