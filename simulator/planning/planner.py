"""Optimised placement: which candidate sites to build, within a budget, for most people.

Flow (``plan(scenario)``)::

    scenario -> grid, people, stations, technology (runner.make_*)
             -> kept sites (every site the scenario places) -> engine -> cells already covered
             -> candidate positions (settlements / grid / hilltops / CSV file) x station types
             -> coverage_matrix (engine, per candidate over its reach; sparse CSR)
             -> each candidate costed with run's cost function (business.costing: station,
                power and backhaul from its position; backhaul demand: every person it can
                cover, an upper bound)
             -> optimise.greedy_max_coverage and/or optimise.ilp_max_coverage
             -> the chosen sites with the kept ones through the engine, as run will compute
                them: people each serves -> their exact costs (the same function, the same
                demand as run); chosen costs updated and the selection redone until it holds
                (at most a few rounds), so the plan's capex is run's capex
             -> PlanResult (chosen sites, per-site capex/opex/TCO, why it stopped, marginal
                curve, method, optimal flag, gap, time)

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
import scipy.sparse as sp
from pydantic import ValidationError
from pyproj import Transformer

import logging

from . import candidates as cand_mod
from ..business.assessment import resolve_parameters, scenario_cost_basis
from ..business.costing import CostBasis, SiteCosts
from ..radio.capacity import assign_channels
from .coverage_matrix import CoverageMatrix, coverage_matrix
from ..errors import ScenarioError, emit_warnings
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

__all__ = ["PlanResult", "plan", "make_candidates", "candidate_costs"]

_log = logging.getLogger("simulator.planning")


def _src(scenario: Scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


@dataclass
class PlanResult:
    """What :func:`plan` chose, what it costs and why it stopped.

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
        Every candidate site (positions x station types) with a feasible backhaul.
    candidate_costs : SiteCosts
        Each candidate costed by run's cost function, its backhaul sized for every person it
        could cover (an upper bound on what it will serve).
    candidate_cost_usd : ndarray of float64
        The cost the selection used per candidate [USD]: ``candidate_costs`` on the cost
        basis (capex or TCO), with the exact cost of the sites chosen in a round.
    coverage : CoverageMatrix
        Candidates x populated cells.
    already_covered : ndarray of bool, shape (n_columns,)
        Populated cells covered by the kept sites.
    placements : dict of PlacementResult
        By method run (``"greedy"``, ``"ilp"``); their ``cost_usd`` is the optimiser's (on
        ``candidate_cost_usd``), the plan's own is in ``summary``.
    placement : PlacementResult
        The selection returned: the ILP's when it ran (never below greedy's), else greedy's.
    chosen : Sites
        The chosen candidates, new, in selection order.
    chosen_people : ndarray of int64
        People newly covered by each chosen site given those before it (unweighted).
    chosen_costs : SiteCosts
        The chosen sites' costs, exactly as ``run`` of the planned scenario costs them (their
        backhaul sized for the people each serves in the planned network).
    chosen_served : ndarray of int64
        People each chosen site serves in the planned network (best server, as run counts).
    people_covered_when_run : int
        People covered by the planned network, with interference, as ``run`` reports.
    stop_reason : str
        Why no further site was added ("budget left USD 58,000: no affordable candidate adds
        people", "max_sites=20 reached", ...).
    warnings : list of str
        Also sent through :func:`simulator.errors.emit_warnings`.
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
    candidate_costs: SiteCosts | None = None
    chosen_costs: SiteCosts | None = None
    chosen_served: np.ndarray | None = None
    people_covered_when_run: int | None = None
    stop_reason: str = ""
    warnings: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)

    def curve(self, method: str | None = None) -> dict[str, np.ndarray]:
        """The marginal curve of a method (default: the returned selection), from 0 sites.

        Returns arrays ``sites``, ``people`` (cumulative people newly covered, unweighted),
        ``objective`` (cumulative objective, people or connected people) and ``cost_usd``
        (cumulative, on the plan's cost basis), each starting with 0.
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
        :attr:`people_covered_when_run` people and costs the chosen sites
        :attr:`chosen_costs`.
        """
        s = self.scenario
        groups: dict[str, list[SitePosition]] = {}
        for k in run_order(self.chosen.station):
            groups.setdefault(self.chosen.station[k], []).append(SitePosition(
                name=self.chosen.names[k], x_m=float(self.chosen.x_m[k]),
                y_m=float(self.chosen.y_m[k])))
        new = list(s.sites.new) + [SiteGroupSpec(station=st, placement="list", positions=pos)
                                   for st, pos in groups.items()]
        data = s.model_dump(mode="json")
        data["name"] = f"{s.name}-planned"[:100]
        data["description"] = (f"{s.description} Planned by ruralsim plan "
                               f"({self.placement.method}, {self.chosen_people.sum():,} people "
                               f"newly covered by {len(self.chosen)} sites).").strip()
        data["sites"] = SitesSpec(existing=s.sites.existing,
                                  existing_towers=s.sites.existing_towers,
                                  new=new).model_dump(mode="json")
        data.pop("planning", None)
        data["outputs"]["dir"] = None
        if s.source_path is not None:   # the planned file is written elsewhere
            _absolute_paths(data, Path(s.source_path).parent)
        from ..io.scenario_file import parse_scenario

        return parse_scenario(data, _src(s) or "<planned scenario>")

    def save(self, out_dir, *, overwrite: bool = False) -> Path:
        """Write the plan's outputs into ``out_dir`` atomically (see :mod:`simulator.io.plan`)."""
        from ..io.plan import save_plan

        return save_plan(self, out_dir, overwrite=overwrite)


def _absolute_paths(data: dict, base: Path) -> None:
    """Input file paths of a dumped scenario made absolute against ``base`` (in place)."""
    def fix(node: dict, key: str) -> None:
        v = node.get(key) if isinstance(node, dict) else None
        if isinstance(v, str) and v and not Path(v).expanduser().is_absolute():
            node[key] = str((base / Path(v).expanduser()).resolve())

    fix(data.get("region", {}), "boundary")
    fix((data.get("population") or {}).get("raster") or {}, "file")
    if isinstance(data.get("terrain"), dict):
        fix(data["terrain"].get("raster") or {}, "file")
    for t in (data.get("sites") or {}).get("existing_towers") or []:
        fix(t, "file")
    for st in (data.get("stations") or {}).values():
        fix(st, "pattern_file")
    fix((data.get("adoption") or {}).get("income_raster") or {}, "file")


def run_order(station) -> np.ndarray:
    """Indices of chosen sites in the order the planned scenario lists them: grouped by
    station type in order of first choice, selection order within a type."""
    station = list(station)
    order: dict[str, list[int]] = {}
    for k, st in enumerate(station):
        order.setdefault(st, []).append(k)
    return np.asarray([k for ks in order.values() for k in ks], dtype=np.int64)


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
                    dem: np.ndarray | None = None, section: str = "planning") -> Sites:
    """Candidate sites (new, not yet costed: see :func:`candidate_costs`).

    Positions come from ``spec.candidates.source``; each position is a candidate for every
    station type of ``spec.candidates.station`` (file rows with a ``station`` column: that
    type only). ``dem`` (elevation per cell, the grid's shape) is needed for ``hilltops``.
    ``section`` names the scenario section in errors (``planning`` or ``programme``).

    Raises
    ------
    ScenarioError
        No candidates, an unknown station type, a hilltop search without a DEM, candidate
        file rows outside the region, a ``cost_usd`` column (costs come from the business
        model, as in run).
    """
    c = spec.candidates
    src = _src(scenario)
    types = _station_list(spec)
    for st in types:
        if st not in stations:
            raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                file=src, key=f"{section}.candidates.station", value=st)
    key = f"{section}.candidates.source"
    row_types: list[list[str]]
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
            xy, row_types, names = _file_candidates(scenario, spec, grid, stations, types)
    except ValueError as exc:
        raise ScenarioError(f"{exc}", file=src, key=key, value=c.source) from None
    if c.source != "file":
        row_types = [types] * len(xy)
        names = [None] * len(xy)
    out_x, out_y, out_st, out_names = [], [], [], []
    for (x, y), sts, name in zip(xy, row_types, names):
        for st in sts:
            k = len(out_x) + 1
            out_x.append(x)
            out_y.append(y)
            out_st.append(st)
            base = name or f"cand-{k}"
            out_names.append(base if len(sts) == 1 else f"{base}-{st}")
    if not out_x:
        raise ScenarioError("no candidates", file=src, key=key, value=c.source)
    n = len(out_x)
    return Sites(out_names, np.array(out_x), np.array(out_y), out_st, np.zeros(n, bool))


def _file_candidates(scenario, spec, grid, stations, types):
    from ..io.candidates_file import read_candidates_csv

    path = Path(spec.candidates.file)
    if not path.is_absolute() and scenario.source_path is not None:
        path = Path(scenario.source_path).parent / path
    rows = read_candidates_csv(path)
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    xy, row_types, names = [], [], []
    for r in rows:
        if r["cost_usd"] is not None:
            raise ScenarioError(
                "a cost_usd column is not used any more: candidates are costed as run costs "
                "sites (station, power and backhaul from the position); remove the column and "
                "set station costs with economics.station_costs.<type>", file=str(path),
                key=f"line {r['line']}")
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
        names.append(r["name"])
    return np.array(xy, dtype=float), row_types, names


def candidate_costs(basis: CostBasis, candidates: Sites, people_served=None) -> SiteCosts:
    """Each candidate costed as ``run`` costs a new site there (one cost basis).

    :meth:`simulator.business.costing.CostBasis.site_costs` of the candidates' positions and
    station types; ``people_served`` (per candidate) sizes the backhaul for the busy-hour
    demand [people]. The planner passes every person a candidate could cover (an upper bound
    of what it serves once built) to choose, then the people it does serve to report.
    """
    xy = np.c_[candidates.x_m, candidates.y_m]
    return basis.site_costs(xy, candidates.station, people_served=people_served)


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
        if scenario.planning is None and "give a budget" in msg:
            msg += (" (the scenario has no 'planning:' section: pass --max-sites N and/or "
                    "--budget-usd X, or see docs/scenario.md)")
        raise ScenarioError(msg, file=_src(scenario),
                            key="planning" + (f".{loc}" if loc else ""),
                            value=e.get("input") if not isinstance(e.get("input"), dict)
                            else None) from None


@dataclass
class PlanningContext:
    """What planning and the programme need before any candidate: the scenario prepared as
    ``run`` prepares it, the kept sites' coverage and the one cost basis.

    Built by :func:`planning_context`. ``network_pass(sites)`` runs the engine and serving
    over ``sites`` exactly as ``run`` does (clutter included) and returns ``(fields,
    serving)``; ``required_dbm(cands)`` is the signal each candidate must deliver alone
    (downlink threshold + fade margin, and the uplink's bound for its station type).
    """

    scenario: Scenario
    grid: Grid
    technology: Technology
    stations: dict
    model: object
    population: Population
    dem: np.ndarray | None
    method_t: object
    clutter: object
    kept: Sites
    params: dict
    basis: CostBasis
    base_serving: object
    base_covered: np.ndarray
    required: float
    margin: float
    floor_dbm: float
    network_pass: object
    warnings: list
    timings: dict

    def check_types(self, used, *, key: str) -> None:
        """The station types ``used`` apply to the technology and frequency (as run checks)."""
        try:
            check_applicability(self.scenario.model_copy(update={"sites": SitesSpec(
                new=[SiteGroupSpec(station=s) for s in used])}), self.model, self.technology,
                self.stations)
        except ScenarioError as exc:
            raise ScenarioError(exc.message, file=_src(self.scenario), key=key,
                                value=list(used)) from None

    def with_types(self, types, *, key: str) -> "PlanningContext":
        """The context with parameters and cost basis for the station types ``types`` too."""
        import dataclasses

        params = resolve_parameters(self.scenario, self.stations, extra_types=list(types),
                                    extra_key=key)
        try:
            basis = scenario_cost_basis(self.scenario, self.grid, self.kept, self.stations,
                                        params=params, dem=self.dem)
        except ValueError as exc:
            raise ScenarioError(str(exc), file=_src(self.scenario), key="backhaul") from None
        return dataclasses.replace(self, params=params, basis=basis)

    def required_dbm(self, cands: Sites) -> np.ndarray:
        """Signal each candidate must deliver on its own [dBm]: the downlink's ``required``;
        with the uplink on, the handset's signal at the site (same coupling loss) above its
        sensitivity plus the fade margin, i.e. rx >= tx_metric - ue_tx + ul_sensitivity +
        margin. Interference between new sites is not modelled here (coverage must stay a
        union over sites for the optimiser)."""
        tech, scenario = self.technology, self.scenario
        req = np.full(len(cands), self.required)
        if scenario.radio.uplink and len(cands):
            tx_metric = cands.attribute(self.stations, "tx_power_dbm") - tech.metric_offset_db
            ul_req = (tx_metric - tech.ue_tx_power_dbm
                      + ul_sensitivity_dbm(tech, scenario.radio.ul_interference_margin_db)
                      + self.margin)
            req = np.maximum(req, ul_req)
        return req

    def coverage(self, cands: Sites, *, workers: int = 1, progress=None) -> CoverageMatrix:
        """The candidates' coverage matrix (:func:`coverage_matrix`, the run's engine)."""
        p = self.scenario.propagation
        return coverage_matrix(
            self.grid, self.population.people, cands, self.stations, self.technology,
            self.model, ue_height_m=p.ue_height_m, floor_dbm=self.floor_dbm,
            max_range_m=p.max_range_km * 1000.0, required_dbm=self.required_dbm(cands),
            workers=workers, progress=progress,
            terrain=None if self.method_t is None else (self.dem, self.method_t),
            extra_loss_db=None if self.clutter is None else self.clutter.loss_db())


def planning_context(scenario: Scenario, types, *, key: str) -> PlanningContext:
    """Prepare ``scenario`` for planning: every check ``run`` makes, grid, people, terrain,
    clutter, kept sites (towers and every group the scenario places) and their coverage, the
    resolved parameters and the cost basis. ``types`` are the station types candidates may
    have (named by ``key`` in an error)."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    src = _src(scenario)
    validate(scenario)
    grid = make_grid(scenario)
    tech = make_technology(scenario)
    stations = make_stations(scenario)
    model = path_loss_model(scenario)
    for st in types:
        if st not in stations:
            raise ScenarioError(f"unknown station type; allowed: {', '.join(stations)}",
                                file=src, key=key, value=st)
    boundary, region_mask = make_boundary(scenario, grid)
    pop, _info = make_population(scenario, grid, boundary, region_mask)
    scenario_dem, terrain_warnings = make_terrain(scenario, grid)
    method_t = None
    if scenario_dem is not None:
        from ..region.terrain import terrain_irregularity_m

        model = path_loss_model(scenario, delta_h_m=max(terrain_irregularity_m(
            scenario_dem, grid.resolution_m), 0.0))
        method_t = terrain_method(scenario, model)
    from ..pipeline.clutter import make_clutter

    clutter, clutter_warnings = make_clutter(scenario, grid, pop, region_mask, tech)
    towers, _counts = make_tower_sites(scenario, grid, stations)
    kept, site_warnings = make_sites(scenario, grid, pop, stations, placed=towers)
    kept = towers.concat(kept)
    params = resolve_parameters(scenario, stations, extra_types=list(types), extra_key=key)
    try:
        basis = scenario_cost_basis(scenario, grid, kept, stations, params=params,
                                    dem=scenario_dem)
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="backhaul") from None
    timings["setup"] = time.perf_counter() - t0

    required, margin = required_signal_dbm(scenario, tech)
    floor = tech.dl_threshold_dbm - scenario.propagation.floor_below_threshold_db
    t1 = time.perf_counter()
    sparams = serving_params(scenario, tech, margin)

    def network_pass(sites: Sites):
        """The engine and serving over ``sites``, as run computes them (clutter included)."""
        channel = (assign_channels(np.c_[sites.x_m, sites.y_m], scenario.radio.reuse_factor)
                   if len(sites) else np.zeros(0, np.int64))
        fields, sv, *_ = _pass(grid, sites, stations, tech, model, scenario, pop.people,
                               sparams, channel, scenario.region.tile_size_cells, None,
                               scenario_dem, method_t, clutter)
        return fields, sv

    _, base_sv = network_pass(kept)
    timings["kept_sites_coverage"] = time.perf_counter() - t1
    return PlanningContext(
        scenario=scenario, grid=grid, technology=tech, stations=stations, model=model,
        population=pop, dem=scenario_dem, method_t=method_t, clutter=clutter, kept=kept,
        params=params, basis=basis, base_serving=base_sv, base_covered=base_sv.covered_outdoor,
        required=required, margin=margin, floor_dbm=floor, network_pass=network_pass,
        warnings=list(terrain_warnings) + list(clutter_warnings) + list(site_warnings),
        timings=timings)


def plan(scenario: Scenario, *, method: str | None = None, budget_usd: float | None = None,
         max_sites: int | None = None, objective: str | None = None,
         time_limit_s: float | None = None, min_people_per_site: float | None = None,
         cost_basis: str | None = None, dem: np.ndarray | None = None,
         progress=None) -> PlanResult:
    """Choose where to put new sites: the scenario's ``planning`` section, run.

    Candidates are costed with the function ``run`` costs sites with
    (:meth:`simulator.business.costing.CostBasis.site_costs`: station, power and backhaul from
    the position), so the chosen sites cost, when the planned scenario is run, what the plan
    says (``summary["capex_usd"]``, ``tco_usd``), and a plan within budget stays within it.

    Parameters
    ----------
    scenario : Scenario
        With a ``planning:`` section, or the keyword arguments give at least a budget
        (candidates default to the settlements, station type ``ruralstar_pro``).
    method : {"greedy", "ilp", "both"}, optional
        Overrides ``planning.method``. ``both`` runs greedy and the ILP and returns the ILP's
        selection (with its greedy fallback, never below greedy).
    budget_usd, max_sites, objective, time_limit_s, min_people_per_site, cost_basis : optional
        Override the ``planning`` keys of the same names (see docs/scenario.md).
    dem : ndarray, optional
        Elevation per cell (grid shape) for ``candidates.source: hilltops`` [m]. The costs
        (line of sight of backhaul links) use the scenario's own terrain, as run does.
    progress : callable, optional
        ``progress(done, total)`` while the coverage matrix is built.

    Returns
    -------
    PlanResult

    Raises
    ------
    ScenarioError
        Any scenario error a run raises; no budget; ``max_sites`` < 1; a budget <= 0 or
        below the cheapest candidate; no candidates; candidate file rows outside the region;
        unknown station types.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    spec = _spec_with(scenario, {"method": method, "budget_usd": budget_usd,
                                 "max_sites": max_sites, "objective": objective,
                                 "time_limit_s": time_limit_s,
                                 "min_people_per_site": min_people_per_site,
                                 "cost_basis": cost_basis})
    src = _src(scenario)
    types = _station_list(spec)
    ctx = planning_context(scenario, types, key="planning.candidates.station")
    timings.update(ctx.timings)
    grid, tech, stations = ctx.grid, ctx.technology, ctx.stations
    pop, scenario_dem = ctx.population, ctx.dem
    kept, params, basis = ctx.kept, ctx.params, ctx.basis
    network_pass = ctx.network_pass
    base_sv, base_covered = ctx.base_serving, ctx.base_covered
    if dem is None:
        dem = scenario_dem
    cands = make_candidates(scenario, spec, grid, pop, stations, dem=dem)
    used = sorted(set(cands.station))
    ctx.check_types(used, key="planning.candidates.station")
    if set(used) - set(types):  # file rows naming other station types
        ctx = ctx.with_types(used, key="planning.candidates.station")
        params, basis = ctx.params, ctx.basis

    t2 = time.perf_counter()
    cm = ctx.coverage(cands, workers=spec.workers, progress=progress)
    timings["coverage_matrix"] = time.perf_counter() - t2
    _log.info("coverage matrix: %d candidates x %d cells, %.2f s", cm.matrix.shape[0],
              cm.matrix.shape[1], timings["coverage_matrix"])

    # ---- costs: run's cost function, backhaul sized for everyone a candidate could cover
    t3 = time.perf_counter()
    reach_people = np.asarray(cm.matrix @ cm.people, dtype=np.float64)
    try:
        cand_costs = candidate_costs(basis, cands, people_served=reach_people)
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="backhaul") from None
    warnings: list[str] = list(ctx.warnings)
    feasible = cand_costs.backhaul != "none"
    if not feasible.all():
        if not feasible.any():
            raise ScenarioError(f"no candidate has a feasible backhaul option (enabled: "
                                f"{', '.join(params['backhaul'])}); allowed: keep satellite "
                                "enabled or put a fibre node or donor within reach",
                                file=src, key="backhaul.options")
        warnings.append(f"{int((~feasible).sum())} of {len(cands)} candidates have no "
                        "feasible backhaul option and were left out")
        keep = np.flatnonzero(feasible)
        cands = cands.subset(keep)
        cand_costs = _subset_costs(cand_costs, keep)
        cm = _subset_matrix(cm, keep)
        reach_people = reach_people[keep]
    basis_name = spec.cost_basis
    costs = np.asarray(cand_costs.cost(basis_name), dtype=np.float64).copy()
    if spec.budget_usd is not None and spec.budget_usd < costs.min():
        raise ScenarioError(
            f"budget {spec.budget_usd:,.0f} USD is below the cheapest candidate "
            f"({costs.min():,.0f} USD {basis_name}: station, power and backhaul, as run costs "
            f"it); allowed: >= {costs.min():,.0f}", file=src, key="planning.budget_usd",
            value=spec.budget_usd)
    already = base_covered.ravel()[cm.cell_index]
    share = spec.adoption_share if spec.objective == "people_connected" else 1.0
    weights = cm.people * share
    timings["costs"] = time.perf_counter() - t3

    # ---- select; then cost the chosen exactly (the planned network through the engine) and
    # select again with those costs until the selection holds
    exact_cache: dict[tuple, tuple] = {}

    def exact(chosen_idx: np.ndarray):
        key = tuple(int(i) for i in chosen_idx)
        if key not in exact_cache:
            te = time.perf_counter()
            ch = cands.subset(np.asarray(chosen_idx, dtype=np.int64))
            order = run_order(ch.station)
            net = kept.concat(ch.subset(order))
            fields, sv = network_pass(net)
            covered = sv.people_covered > 0
            served_all = np.bincount(fields.best_server[covered],
                                     weights=sv.people_covered[covered],
                                     minlength=len(net)).astype(np.int64)
            served = np.zeros(len(ch), np.int64)
            served[order] = served_all[len(kept):]
            try:
                c = candidate_costs(basis, ch, people_served=served)
            except ValueError as exc:
                raise ScenarioError(str(exc), file=src, key="backhaul") from None
            exact_cache[key] = (c, served, int(sv.people_covered.sum()))
            timings["exact_costing"] = (timings.get("exact_costing", 0.0)
                                        + time.perf_counter() - te)
        return exact_cache[key]

    def solve(cost_vec):
        out: dict[str, PlacementResult] = {}
        args = dict(budget_usd=spec.budget_usd, max_sites=spec.max_sites,
                    already_covered=already)
        try:
            if spec.method in ("greedy", "both"):
                tg = time.perf_counter()
                out["greedy"] = greedy_max_coverage(
                    cm.matrix, weights, cost_vec, min_people_per_site=spec.min_people_per_site,
                    **args)
                timings["greedy"] = timings.get("greedy", 0.0) + time.perf_counter() - tg
            if spec.method in ("ilp", "both"):
                ti = time.perf_counter()
                out["ilp"] = ilp_max_coverage(cm.matrix, weights, cost_vec,
                                              time_limit_s=spec.time_limit_s, **args)
                timings["ilp"] = timings.get("ilp", 0.0) + time.perf_counter() - ti
        except ValueError as exc:  # remaining model-level checks, named by the planning key
            raise ScenarioError(str(exc), file=src, key="planning") from None
        return out

    limit = None if spec.budget_usd is None else spec.budget_usd * (1 + 1e-9)
    best_round = None
    last_round = None
    rounds = 0
    for rounds in range(1, _MAX_ROUNDS + 1):
        placements = solve(costs)
        pick = placements["ilp"] if "ilp" in placements else placements["greedy"]
        new_costs = costs.copy()
        for pl in placements.values():
            if pl.n_sites:
                new_costs[pl.chosen] = exact(pl.chosen)[0].cost(basis_name)
        total = float(exact(pick.chosen)[0].cost(basis_name).sum()) if pick.n_sites else 0.0
        last_round = (placements, pick, costs.copy())
        if (limit is None or total <= limit) and (
                best_round is None or pick.people_covered > best_round[1].people_covered + 1e-9):
            best_round = last_round
        if np.array_equal(new_costs, costs):
            break
        costs = new_costs
    if best_round is None:
        best_round = last_round
        over = float(exact(best_round[1].chosen)[0].cost(basis_name).sum()) - spec.budget_usd
        warnings.append(f"the chosen sites cost USD {over:,.0f} more than the budget once "
                        f"costed for the people they serve ({basis_name}); lower "
                        "planning.budget_usd or check backhaul.require_capacity")
    placements, best, costs = best_round
    timings["selection_rounds"] = float(rounds)
    chosen_costs, chosen_served, covered_run = exact(best.chosen) if best.n_sites else (
        candidate_costs(basis, cands.subset(np.zeros(0, np.int64))), np.zeros(0, np.int64),
        int(base_sv.people_covered.sum()))
    if best.n_sites:
        costs = costs.copy()
        costs[best.chosen] = chosen_costs.cost(basis_name)

    chosen = cands.subset(best.chosen)
    chosen = Sites([f"planned-{k + 1}-{n}" for k, n in enumerate(chosen.names)], chosen.x_m,
                   chosen.y_m, chosen.station, np.zeros(len(chosen), bool))
    chosen_people = _marginal_people(cm, already, best.chosen)
    spent = float(chosen_costs.cost(basis_name).sum()) if best.n_sites else 0.0
    reason = _stop_reason(spec, cm, weights, already, best.chosen, costs, spent)
    timings["total"] = time.perf_counter() - t0
    warnings = emit_warnings(warnings)
    result = PlanResult(scenario=scenario, spec=spec, grid=grid, population=pop,
                        stations=stations, technology=tech, kept_sites=kept, candidates=cands,
                        candidate_cost_usd=costs, coverage=cm, already_covered=already,
                        placements=placements, placement=best, chosen=chosen,
                        chosen_people=chosen_people, candidate_costs=cand_costs,
                        chosen_costs=chosen_costs, chosen_served=chosen_served,
                        people_covered_when_run=covered_run, stop_reason=reason,
                        warnings=warnings, timings_s=timings)
    result.summary = _summary(result, int(pop.people[base_covered].sum()))
    _log.info("plan: %d sites, %s", len(chosen), reason)
    return result


#: Rounds of "select, cost the chosen exactly, select again" at most.
_MAX_ROUNDS = 4


def _subset_costs(c: SiteCosts, idx: np.ndarray) -> SiteCosts:
    import dataclasses

    return SiteCosts(**{f.name: getattr(c, f.name)[idx] for f in dataclasses.fields(c)})


def _subset_matrix(cm: CoverageMatrix, idx: np.ndarray) -> CoverageMatrix:
    import dataclasses

    return dataclasses.replace(cm, matrix=sp.csr_array(cm.matrix[idx]), reach_m=cm.reach_m[idx])


def _stop_reason(spec: PlanningSpec, cm: CoverageMatrix, weights, already, chosen, costs,
                 spent: float) -> str:
    """Why the selection holds no further site, in words a planner can check."""
    n = len(chosen)
    if spec.max_sites is not None and n >= spec.max_sites:
        return f"max_sites={spec.max_sites} reached"
    w = np.where(already, 0.0, np.asarray(weights, dtype=np.float64))
    A = cm.matrix
    for i in chosen:
        w[A.indices[A.indptr[i]:A.indptr[i + 1]]] = 0.0
    gains = np.asarray(A @ w, dtype=np.float64)
    gains[np.asarray(chosen, dtype=np.int64)] = 0.0
    floor = max(spec.min_people_per_site, 0.0)
    adds = (gains > 0) & (gains >= floor)
    what = "people" if floor == 0 else f">= {floor:g} people (min_people_per_site)"
    if not adds.any():
        return f"no candidate adds {what}"
    if spec.budget_usd is None:
        return f"no candidate adds {what}"
    left = spec.budget_usd - spent
    fits = adds & (costs <= left * (1 + 1e-9))
    if not fits.any():
        cheapest = float(costs[adds].min())
        return (f"budget left USD {left:,.0f}: no affordable candidate adds {what} "
                f"(the cheapest that would costs USD {cheapest:,.0f})")
    return (f"budget left USD {left:,.0f}: the {spec.method} selection takes no further site "
            f"({int(fits.sum())} candidates that fit would add people; the optimiser judged "
            "them on their cost sized for everyone they could cover)")


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
    c = r.chosen_costs
    capex = float(c.capex_usd.sum()) if len(c) else 0.0
    opex = float(c.opex_usd_per_year.sum()) if len(c) else 0.0
    tco = float(c.tco_usd.sum()) if len(c) else 0.0
    spent = capex if s.cost_basis == "capex" else tco
    sites = []
    for k in range(len(r.chosen)):
        sites.append({
            "rank": k + 1, "name": r.chosen.names[k], "station_type": r.chosen.station[k],
            "people_added": int(r.chosen_people[k]), "people_served": int(r.chosen_served[k]),
            "capex_usd": round(float(c.capex_usd[k]), 2),
            "opex_usd_per_year": round(float(c.opex_usd_per_year[k]), 2),
            "tco_usd": round(float(c.tco_usd[k]), 2),
            "backhaul": str(c.backhaul[k]), "power": str(c.power[k]),
        })
    econ = r.candidate_costs
    return {
        "scenario": r.scenario.name,
        "objective": s.objective,
        "adoption_share": s.adoption_share,
        "budget_usd": s.budget_usd,
        "cost_basis": s.cost_basis,
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
        "people_covered_when_run": r.people_covered_when_run,
        "cost_usd": round(spent, 2),
        "capex_usd": round(capex, 2),
        "opex_usd_per_year": round(opex, 2),
        "tco_usd": round(tco, 2),
        "horizon_years": _horizon(r),
        "budget_left_usd": None if s.budget_usd is None else round(s.budget_usd - spent, 2),
        "stop_reason": r.stop_reason,
        "cheapest_candidate_usd": round(float(econ.cost(s.cost_basis).min()), 2)
        if len(econ) else None,
        "method": b.method,
        "optimal": bool(b.optimal),
        "gap": None if not np.isfinite(b.gap) else round(float(b.gap), 8),
        "guarantee": round(float(b.guarantee), 6),
        "methods": methods,
        "sites": sites,
        "timings_s": {k: round(v, 4) for k, v in r.timings_s.items()},
        "warnings": list(r.warnings),
    }


def _horizon(r: PlanResult) -> int:
    """The horizon of the TCO figures: the scenario's, else the catalogue's [years]."""
    if r.scenario.economics.horizon_years is not None:
        return int(r.scenario.economics.horizon_years)
    from ..business.economics import load_cost_catalogue

    return int(load_cost_catalogue()["economics"]["horizon_years"])
