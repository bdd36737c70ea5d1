"""Optimised placement: which candidate sites to build, within a budget, for most people.

Flow (``plan(scenario)``)::

    scenario -> grid, people, stations, technology (runner.make_*)
             -> kept sites (every site the scenario places) -> engine -> cells already covered
             -> candidate positions (settlements / grid / hilltops / CSV file) x station types
             -> coverage_matrix (engine, per candidate over its reach; sparse CSR)
             -> optimise.greedy_max_coverage and/or optimise.ilp_max_coverage
             -> PlanResult (chosen sites, marginal curve, method, optimal flag, gap, time)

People covered by the kept sites are not credited to new ones, and a person covered by
several chosen sites counts once (both handled by :mod:`simulator.planning.optimise` on the matrix).
``PlanResult.planned_scenario()`` is the input scenario with the chosen sites added as
``placement: list`` groups; :func:`simulator.pipeline.runner.run` on it covers the kept sites' people
plus exactly the plan's newly covered people.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from pyproj import Transformer

from . import candidates as cand_mod
from ..radio.capacity import assign_channels
from .coverage_matrix import CoverageMatrix, coverage_matrix
from ..errors import ScenarioError
from ..region.grid import Grid
from .optimise import PlacementResult, greedy_max_coverage, ilp_max_coverage
from ..region.population import Population
from ..pipeline.runner import (_pass, check_applicability, make_boundary, make_grid, make_population,
                     make_sites, make_stations, make_technology, make_terrain, make_tower_sites,
                     path_loss_model, required_signal_dbm, serving_params, terrain_method,
                     validate)
from ..schema import PlanningSpec, Scenario, SiteGroupSpec, SitePosition, SitesSpec
from ..radio.serving import ul_sensitivity_dbm
from ..radio.stations import Sites, StationType, Technology

__all__ = ["PlanResult", "plan", "make_candidates", "candidate_costs_usd"]


def _src(scenario: Scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


@dataclass
class PlanResult:
    """What :func:`plan` chose and how.

    Attributes
    ----------
    scenario : Scenario
        The input scenario.
    spec : PlanningSpec
        The planning settings used (the scenario's, with ``plan()`` keyword overrides).
    grid, population, stations, technology
        As built by the runner.
    kept_sites : Sites
        The scenario's own sites (existing and new groups), kept as they are.
    candidates : Sites
        Every candidate site (positions x station types).
    candidate_cost_usd : ndarray of float64
        Cost of each candidate [USD].
    coverage : CoverageMatrix
        Candidates x populated cells.
    already_covered : ndarray of bool, shape (n_columns,)
        Populated cells covered by the kept sites.
    placements : dict of PlacementResult
        By method run (``"greedy"``, ``"ilp"``).
    placement : PlacementResult
        The selection returned: the ILP's when it ran (never below greedy's), else greedy's.
    chosen : Sites
        The chosen candidates, new, in selection order.
    chosen_people : ndarray of int64
        People newly covered by each chosen site given those before it (unweighted).
    summary : dict
    timings_s : dict
    """

    scenario: Scenario
    spec: PlanningSpec
    grid: Grid
    population: Population
    stations: dict[str, StationType]
    technology: Technology
    kept_sites: Sites
    candidates: Sites
    candidate_cost_usd: np.ndarray
    coverage: CoverageMatrix
    already_covered: np.ndarray
    placements: dict[str, PlacementResult]
    placement: PlacementResult
    chosen: Sites
    chosen_people: np.ndarray
    summary: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)

    def curve(self, method: str | None = None) -> dict[str, np.ndarray]:
        """The marginal curve of a method (default: the returned selection), from 0 sites.

        Returns arrays ``sites``, ``people`` (cumulative people newly covered, unweighted),
        ``objective`` (cumulative objective, people or connected people) and ``cost_usd``
        (cumulative), each starting with 0.
        """
        p = self.placement if method is None else self.placements[method]
        people = _marginal_people(self.coverage, self.already_covered, p.chosen)
        return {"sites": np.arange(p.n_sites + 1),
                "people": np.r_[0, np.cumsum(people)],
                "objective": np.r_[0.0, p.cumulative_people],
                "cost_usd": np.r_[0.0, np.cumsum(self.candidate_cost_usd[p.chosen])]}

    def planned_scenario(self) -> Scenario:
        """The input scenario with the chosen sites added as ``placement: list`` new groups.

        One group per station type (in order of first choice), positions as ``x_m``/``y_m``
        in the region's CRS, names as in :attr:`chosen`; ``planning`` and ``outputs.dir`` are
        dropped (the result would otherwise overwrite the input's results). Running it covers
        the kept sites' people plus the plan's newly covered people.
        """
        s = self.scenario
        groups: dict[str, list[SitePosition]] = {}
        for name, x, y, st in zip(self.chosen.names, self.chosen.x_m, self.chosen.y_m,
                                  self.chosen.station):
            groups.setdefault(st, []).append(SitePosition(name=name, x_m=float(x),
                                                          y_m=float(y)))
        new = list(s.sites.new) + [SiteGroupSpec(station=st, placement="list", positions=pos)
                                   for st, pos in groups.items()]
        data = s.model_dump(mode="json")
        data["name"] = f"{s.name}-planned"[:100]
        data["description"] = (f"{s.description} Planned by ruralsim plan "
                               f"({self.placement.method}, {self.chosen_people.sum():,} people "
                               f"newly covered by {len(self.chosen)} sites).").strip()
        data["sites"] = SitesSpec(existing=s.sites.existing, new=new).model_dump(mode="json")
        data.pop("planning", None)
        data["outputs"]["dir"] = None
        from ..io.scenario_file import parse_scenario

        return parse_scenario(data, _src(s) or "<planned scenario>")

    def save(self, out_dir, *, overwrite: bool = False) -> Path:
        """Write the plan's outputs into ``out_dir`` atomically (see :mod:`simulator.io.plan`)."""
        from ..io.plan import save_plan

        return save_plan(self, out_dir, overwrite=overwrite)


def _marginal_people(cm: CoverageMatrix, already: np.ndarray, chosen) -> np.ndarray:
    """Unweighted people each chosen site adds given the kept sites and those before it."""
    w = np.where(already, 0.0, cm.people)
    out = np.zeros(len(chosen), dtype=np.int64)
    A = cm.matrix
    for k, i in enumerate(chosen):
        cells = A.indices[A.indptr[i]:A.indptr[i + 1]]
        out[k] = int(round(w[cells].sum()))
        w[cells] = 0.0
    return out


# --------------------------------------------------------------------------------------------
# Candidates and costs
# --------------------------------------------------------------------------------------------


def _station_list(spec: PlanningSpec) -> list[str]:
    st = spec.candidates.station
    return [st] if isinstance(st, str) else list(st)


def make_candidates(scenario: Scenario, spec: PlanningSpec, grid: Grid, pop: Population,
                    stations: dict[str, StationType], *,
                    dem: np.ndarray | None = None) -> tuple[Sites, np.ndarray]:
    """Candidate sites and their per-row cost overrides (NaN: use the station's cost).

    Positions come from ``spec.candidates.source``; each position is a candidate for every
    station type of ``spec.candidates.station`` (file rows with a ``station`` column: that
    type only). ``dem`` (elevation per cell, the grid's shape) is needed for ``hilltops``.

    Raises
    ------
    ScenarioError
        No candidates, an unknown station type, a hilltop search without a DEM, candidate
        file rows outside the region.
    """
    c = spec.candidates
    src = _src(scenario)
    types = _station_list(spec)
    for st in types:
        if st not in stations:
            raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                file=src, key="planning.candidates.station", value=st)
    key = "planning.candidates.source"
    row_types: list[list[str]]
    cost_override: list[float]
    names: list[str | None]
    try:
        if c.source == "settlements":
            if pop.settlement_x_m.size == 0:
                raise ScenarioError("no candidates: the population has no settlements",
                                    file=src, key=key, value=c.source)
            xy = cand_mod.settlement_candidates(
                np.c_[pop.settlement_x_m, pop.settlement_y_m],
                min_spacing_m=c.spacing_km * 1000.0, people=pop.settlement_people,
                max_count=c.max_count)
        elif c.source == "grid":
            xy = cand_mod.grid_candidates(*grid.bounds, c.spacing_km * 1000.0)
            if c.max_count is not None:
                xy = xy[:c.max_count]
        elif c.source == "hilltops":
            if dem is None:
                raise ScenarioError("hilltop candidates need a DEM, and this scenario's terrain "
                                    f"is '{scenario.terrain}' (no elevation); use source: "
                                    "settlements, grid or file", file=src, key=key,
                                    value=c.source)
            dem = np.asarray(dem)
            if dem.shape != grid.shape:
                raise ValueError(f"dem has shape {dem.shape}, expected the grid's {grid.shape}")
            xy = cand_mod.hilltop_candidates(dem, grid.x_min_m, grid.y_max_m,
                                             grid.resolution_m, window_m=c.spacing_km * 1000.0,
                                             max_count=c.max_count)
        else:
            xy, row_types, cost_override, names = _file_candidates(scenario, spec, grid,
                                                                   stations, types)
    except ValueError as exc:
        raise ScenarioError(f"{exc}", file=src, key=key, value=c.source) from None
    if c.source != "file":
        row_types = [types] * len(xy)
        cost_override = [np.nan] * len(xy)
        names = [None] * len(xy)
    out_x, out_y, out_st, out_names, out_cost = [], [], [], [], []
    for (x, y), sts, cost, name in zip(xy, row_types, cost_override, names):
        for st in sts:
            k = len(out_x) + 1
            out_x.append(x)
            out_y.append(y)
            out_st.append(st)
            base = name or f"cand-{k}"
            out_names.append(base if len(sts) == 1 else f"{base}-{st}")
            out_cost.append(cost)
    if not out_x:
        raise ScenarioError("no candidates", file=src, key=key, value=c.source)
    n = len(out_x)
    return (Sites(out_names, np.array(out_x), np.array(out_y), out_st, np.zeros(n, bool)),
            np.array(out_cost, dtype=float))


def _file_candidates(scenario, spec, grid, stations, types):
    from ..io.candidates_file import read_candidates_csv

    path = Path(spec.candidates.file)
    if not path.is_absolute() and scenario.source_path is not None:
        path = Path(scenario.source_path).parent / path
    rows = read_candidates_csv(path)
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    xy, row_types, costs, names = [], [], [], []
    for r in rows:
        x, y = (r["x"], r["y"]) if r["crs"] == "xy" else to_grid.transform(r["x"], r["y"])
        if not grid.contains(x, y):
            raise ScenarioError(
                f"candidate at ({x:.0f}, {y:.0f}) m is outside the region "
                f"x {grid.x_min_m:.0f}..{grid.x_max_m:.0f}, y {grid.y_min_m:.0f}..{grid.y_max_m:.0f} "
                f"({grid.crs}); check the CRS (x_m,y_m are in the region's CRS, lon,lat in "
                "WGS 84)", file=str(path), key=f"line {r['line']}")
        if r["station"] is not None and r["station"] not in stations:
            raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                file=str(path), key=f"line {r['line']}", value=r["station"])
        xy.append((x, y))
        row_types.append([r["station"]] if r["station"] else types)
        costs.append(np.nan if r["cost_usd"] is None else r["cost_usd"])
        names.append(r["name"])
    return np.array(xy, dtype=float), row_types, costs, names


def candidate_costs_usd(scenario: Scenario, spec: PlanningSpec, station_names,
                        overrides: np.ndarray | None = None) -> np.ndarray:
    """Cost of each candidate [USD]: file override, else ``spec.cost_usd``, else catalogue.

    The catalogue cost is :func:`simulator.business.economics.station_capex_usd` of the station type
    (or of its ``base`` for a scenario-defined type): equipment, pole or tower, civil works and
    installation, without power system or backhaul.
    """
    from ..business.economics import load_cost_catalogue, station_capex_usd

    cat = load_cost_catalogue()
    known = cat.get("station_types", {})
    per_type: dict[str, float] = {}
    for st in dict.fromkeys(station_names):
        if st in spec.cost_usd:
            per_type[st] = float(spec.cost_usd[st])
            continue
        name = st
        while name not in known and name in scenario.stations and scenario.stations[name].base:
            name = scenario.stations[name].base
        if name not in known:
            per_type[st] = np.nan
            continue
        per_type[st] = float(station_capex_usd(cat, name))
    costs = np.array([per_type[st] for st in station_names], dtype=float)
    if overrides is not None:
        costs = np.where(np.isnan(overrides), costs, overrides)
    if np.isnan(costs).any():
        st = station_names[int(np.flatnonzero(np.isnan(costs))[0])]
        raise ScenarioError(f"no cost for station type '{st}' in the cost catalogue; give "
                            f"planning.cost_usd: {{{st}: ...}}", file=_src(scenario),
                            key="planning.cost_usd", value=st)
    return costs


# --------------------------------------------------------------------------------------------
# plan()
# --------------------------------------------------------------------------------------------


def _spec_with(scenario: Scenario, overrides: dict) -> PlanningSpec:
    base = scenario.planning.model_dump() if scenario.planning is not None else {}
    base.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return PlanningSpec.model_validate(base)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if scenario.planning is None:
            msg += " (the scenario has no 'planning:' section; see docs/scenario.md)"
        raise ScenarioError(msg, file=_src(scenario),
                            key="planning" + (f".{loc}" if loc else ""),
                            value=e.get("input") if not isinstance(e.get("input"), dict)
                            else None) from None


def plan(scenario: Scenario, *, method: str | None = None, budget_usd: float | None = None,
         max_sites: int | None = None, objective: str | None = None,
         time_limit_s: float | None = None, min_people_per_site: float | None = None,
         dem: np.ndarray | None = None, progress=None) -> PlanResult:
    """Choose where to put new sites: the scenario's ``planning`` section, run.

    Parameters
    ----------
    scenario : Scenario
        With a ``planning:`` section, or the keyword arguments give at least a budget.
    method : {"greedy", "ilp", "both"}, optional
        Overrides ``planning.method``. ``both`` runs greedy and the ILP and returns the ILP's
        selection (with its greedy fallback, never below greedy).
    budget_usd, max_sites, objective, time_limit_s, min_people_per_site : optional
        Override the ``planning`` keys of the same names (see docs/scenario.md).
    dem : ndarray, optional
        Elevation per cell (grid shape) for ``candidates.source: hilltops`` [m].
    progress : callable, optional
        ``progress(done, total)`` while the coverage matrix is built.

    Returns
    -------
    PlanResult

    Raises
    ------
    ScenarioError
        Any scenario error a run raises; no budget; a budget below the cheapest candidate; no
        candidates; candidate file rows outside the region; unknown station types.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    spec = _spec_with(scenario, {"method": method, "budget_usd": budget_usd,
                                 "max_sites": max_sites, "objective": objective,
                                 "time_limit_s": time_limit_s,
                                 "min_people_per_site": min_people_per_site})
    src = _src(scenario)
    validate(scenario)
    grid = make_grid(scenario)
    tech = make_technology(scenario)
    stations = make_stations(scenario)
    model = path_loss_model(scenario)
    types = _station_list(spec)
    for st in types:
        if st not in stations:
            raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                file=src, key="planning.candidates.station", value=st)
    boundary, region_mask = make_boundary(scenario, grid)
    pop, _info = make_population(scenario, grid, boundary, region_mask)
    scenario_dem, _terrain_warnings = make_terrain(scenario, grid)
    method_t = None
    if scenario_dem is not None:
        from ..region.terrain import terrain_irregularity_m

        model = path_loss_model(scenario, delta_h_m=terrain_irregularity_m(
            scenario_dem, grid.resolution_m))
        method_t = terrain_method(scenario, model)
        if dem is None:
            dem = scenario_dem
    from ..pipeline.clutter import make_clutter

    clutter, _clutter_warnings = make_clutter(scenario, grid, pop, region_mask, tech)
    towers, _counts = make_tower_sites(scenario, grid, stations)
    kept, _warnings = make_sites(scenario, grid, pop, stations, placed=towers)
    kept = towers.concat(kept)
    cands, cost_override = make_candidates(scenario, spec, grid, pop, stations, dem=dem)
    used = sorted(set(cands.station))
    try:
        check_applicability(scenario.model_copy(update={"sites": SitesSpec(
            new=[SiteGroupSpec(station=s) for s in used])}), model, tech, stations)
    except ScenarioError as exc:
        raise ScenarioError(exc.message, file=src, key="planning.candidates.station",
                            value=used) from None
    costs = candidate_costs_usd(scenario, spec, cands.station, cost_override)
    if spec.budget_usd is not None and spec.budget_usd < costs.min():
        raise ScenarioError(f"budget {spec.budget_usd:,.0f} USD is below the cheapest candidate "
                            f"({costs.min():,.0f} USD); allowed: >= {costs.min():,.0f}",
                            file=src, key="planning.budget_usd", value=spec.budget_usd)
    timings["setup"] = time.perf_counter() - t0

    required, margin = required_signal_dbm(scenario, tech)
    p = scenario.propagation
    floor = tech.dl_threshold_dbm - p.floor_below_threshold_db
    t1 = time.perf_counter()
    params = serving_params(scenario, tech, margin)
    channel = (assign_channels(np.c_[kept.x_m, kept.y_m], scenario.radio.reuse_factor)
               if len(kept) else np.zeros(0, np.int64))
    _, base_sv, *_ = _pass(grid, kept, stations, tech, model, scenario, pop.people, params,
                           channel, scenario.region.tile_size_cells, None, scenario_dem,
                           method_t, clutter)
    base_covered = base_sv.covered_outdoor
    timings["kept_sites_coverage"] = time.perf_counter() - t1
    # Each candidate alone: the downlink needs `required`; the uplink needs the handset's
    # signal at the site (same coupling loss) above its sensitivity plus the fade margin,
    # i.e. rx >= tx_metric - ue_tx + ul_sensitivity + margin. Interference between new
    # sites is not modelled here (coverage must stay a union over sites for the optimiser).
    req = np.full(len(cands), required)
    if scenario.radio.uplink and len(cands):
        tx_metric = cands.attribute(stations, "tx_power_dbm") - tech.metric_offset_db
        ul_req = (tx_metric - tech.ue_tx_power_dbm
                  + ul_sensitivity_dbm(tech, scenario.radio.ul_interference_margin_db) + margin)
        req = np.maximum(req, ul_req)

    t2 = time.perf_counter()
    cm = coverage_matrix(grid, pop.people, cands, stations, tech, model,
                         ue_height_m=p.ue_height_m, floor_dbm=floor,
                         max_range_m=p.max_range_km * 1000.0, required_dbm=req,
                         workers=spec.workers, progress=progress,
                         terrain=None if method_t is None else (scenario_dem, method_t),
                         extra_loss_db=None if clutter is None else clutter.loss_db())
    timings["coverage_matrix"] = time.perf_counter() - t2
    already = base_covered.ravel()[cm.cell_index]
    share = spec.adoption_share if spec.objective == "people_connected" else 1.0
    weights = cm.people * share

    placements: dict[str, PlacementResult] = {}
    args = dict(budget_usd=spec.budget_usd, max_sites=spec.max_sites, already_covered=already)
    try:
        if spec.method in ("greedy", "both"):
            t3 = time.perf_counter()
            placements["greedy"] = greedy_max_coverage(
                cm.matrix, weights, costs, min_people_per_site=spec.min_people_per_site, **args)
            timings["greedy"] = time.perf_counter() - t3
        if spec.method in ("ilp", "both"):
            t3 = time.perf_counter()
            placements["ilp"] = ilp_max_coverage(cm.matrix, weights, costs,
                                                 time_limit_s=spec.time_limit_s, **args)
            timings["ilp"] = time.perf_counter() - t3
    except ValueError as exc:  # remaining model-level checks, named by the planning key
        raise ScenarioError(str(exc), file=src, key="planning") from None
    best = placements["ilp"] if "ilp" in placements else placements["greedy"]

    chosen = cands.subset(best.chosen)
    chosen = Sites([f"planned-{k + 1}-{n}" for k, n in enumerate(chosen.names)], chosen.x_m,
                   chosen.y_m, chosen.station, np.zeros(len(chosen), bool))
    chosen_people = _marginal_people(cm, already, best.chosen)
    timings["total"] = time.perf_counter() - t0
    result = PlanResult(scenario=scenario, spec=spec, grid=grid, population=pop,
                        stations=stations, technology=tech, kept_sites=kept, candidates=cands,
                        candidate_cost_usd=costs, coverage=cm, already_covered=already,
                        placements=placements, placement=best, chosen=chosen,
                        chosen_people=chosen_people, timings_s=timings)
    result.summary = _summary(result, int(pop.people[base_covered].sum()))
    return result


def _summary(r: PlanResult, kept_people: int) -> dict:
    s = r.spec
    total = int(r.population.people.sum())
    new_people = int(r.chosen_people.sum())
    methods = {}
    for name, p in r.placements.items():
        methods[name] = {
            "method": p.method, "sites": p.n_sites,
            "objective": round(float(p.people_covered), 3),
            "people_newly_covered": int(_marginal_people(r.coverage, r.already_covered,
                                                         p.chosen).sum()),
            "cost_usd": round(float(p.cost_usd), 2), "optimal": bool(p.optimal),
            "gap": None if not np.isfinite(p.gap) else round(float(p.gap), 8),
            "objective_bound": None if not np.isfinite(p.objective_bound)
            else round(float(p.objective_bound), 3),
            "guarantee": round(float(p.guarantee), 6),
            "time_limit_reached": bool(p.time_limit_reached),
            "solve_time_s": round(float(p.solve_time_s), 4), "status": p.status,
        }
    b = r.placement
    return {
        "scenario": r.scenario.name,
        "objective": s.objective,
        "adoption_share": s.adoption_share,
        "budget_usd": s.budget_usd,
        "max_sites": s.max_sites,
        "min_people_per_site": s.min_people_per_site,
        "candidate_source": s.candidates.source,
        "candidates": len(r.candidates),
        "coverage_matrix_shape": list(r.coverage.matrix.shape),
        "coverage_matrix_nnz": r.coverage.nnz,
        "population_total": total,
        "people_covered_by_kept_sites": kept_people,
        "kept_sites": len(r.kept_sites),
        "sites_chosen": len(r.chosen),
        "sites_chosen_by_type": {st: r.chosen.station.count(st)
                                 for st in dict.fromkeys(r.chosen.station)},
        "people_newly_covered": new_people,
        "objective_value": round(float(b.people_covered), 3),
        "people_covered_after_plan": kept_people + new_people,
        "cost_usd": round(float(b.cost_usd), 2),
        "method": b.method,
        "optimal": bool(b.optimal),
        "gap": None if not np.isfinite(b.gap) else round(float(b.gap), 8),
        "guarantee": round(float(b.guarantee), 6),
        "methods": methods,
        "timings_s": {k: round(v, 4) for k, v in r.timings_s.items()},
    }
