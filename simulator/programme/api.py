"""``programme(scenario)``: technology per settlement, relay chains, rollout by year.

Flow::

    scenario -> planning_context (run's checks, grid, people, terrain, clutter, kept sites
                and their coverage, the one cost basis)
             -> locations (programme.candidates: settlements by default)
             -> options per location: each cell option (a station type) -> the engine's
                coverage matrix (it may cover other villages: a covering problem); each
                satellite hotspot -> the cells within its Wi-Fi radius (hotspot.py)
             -> costs: cell options as run costs a new site there (business.costing);
                hotspots: terminals for the busy-hour demand (hotspot.py)
             -> solve.least_cost_mix (HiGHS MILP, greedy floor/fallback): least cost
                reaching the target, or most people for the budget; one option per
                location; a person covered by several options counts once
             -> the chosen cell sites through the engine with the kept ones (people each
                serves) -> exact costs -> relay.backhaul_tree (donors, hop limit, donor
                capacity, upgrades) -> costs with the tree's backhaul
             -> build order (people per dollar) -> rollout.schedule_builds (annual budget)
                -> rollout.rollout (adoption from each site's build year, cash flow, NPV,
                viability gap)
             -> ProgrammeResult (per-location choice with the reason, per-site table,
                per-year table, cost curve, summary) -> io/programme.py

Layer: orchestration (no I/O; ``ProgrammeResult.save`` calls io/programme.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..business import economics as ec
from ..business.assessment import adoption_potential_at
from ..business.costing import SiteCosts
from ..errors import ScenarioError, emit_warnings
from ..planning.planner import (candidate_costs, make_candidates, planning_context,
                                run_order)
from ..radio.stations import Sites
from ..schema import ProgrammeSpec, Scenario
from .hotspot import hotspot_costs, hotspot_coverage, hotspot_params

__all__ = ["ProgrammeResult", "programme"]

_log = logging.getLogger("simulator.programme")


def _src(scenario) -> str | None:
    return None if scenario.source_path is None else str(scenario.source_path)


@dataclass
class ProgrammeResult:
    """What :func:`programme` found. Arrays over *options* follow ``option_*``; over the
    chosen *sites* (cell sites and hotspots, in build order) follow ``site_*``; over
    *locations* follow ``location_*``.

    Attributes
    ----------
    scenario, spec, grid, population, stations, technology, kept_sites
        The inputs as prepared.
    location_xy_m : ndarray, shape (n_loc, 2)
    location_names : list of str
    location_people : ndarray
        People in the cells holding each location's settlement (the settlement's people
        when the population is synthetic) [people].
    option_location, option_name, option_kind, option_station
        Per option (cell candidates first, then hotspots).
    option_cost_usd : ndarray
        On ``spec.cost_basis``, as the solver saw them [USD].
    mix : MixResult
        The solver's answer (method, optimal, gap, status, time).
    sites : dict of ndarray / list
        Per chosen option, in build order: ``name``, ``option``, ``kind``, ``station``,
        ``x_m``, ``y_m``, ``location``, ``people_added`` (marginal, counted once),
        ``people_served`` (cell sites: best-server people of the engine pass; hotspots:
        people within the Wi-Fi radius), ``capex_usd``, ``opex_usd_per_year``, ``tco_usd``,
        ``backhaul``, ``power``, ``build_year``, ``npv_usd``, ``viability_gap_usd``, relay
        columns ``backhaul_parent`` / ``hops`` / ``capacity_exceeded`` / ``upgrade``.
    tree : BackhaulTree or None
        The relay chains among the chosen cell sites.
    rollout : Rollout
    villages : list of dict
        One row per location: its choice and the reason.
    curve : list of dict
        People vs cost for the mix and each single technology.
    cell_index, cell_site, cell_existing : ndarray, shape (n_cells,)
        The populated cells (flat grid index), the chosen site (index into ``sites``, build
        order) that first covers each (-1: none), and whether the existing sites cover it.
    summary : dict
    warnings : list of str
    timings_s : dict
    """

    scenario: Scenario
    spec: ProgrammeSpec
    grid: object
    population: object
    stations: dict
    technology: object
    kept_sites: Sites
    location_xy_m: np.ndarray
    location_names: list
    location_people: np.ndarray
    option_location: np.ndarray
    option_name: np.ndarray
    option_kind: np.ndarray
    option_station: np.ndarray
    option_cost_usd: np.ndarray
    mix: object
    sites: dict
    tree: object
    rollout: object
    villages: list
    curve: list
    cell_index: np.ndarray = field(default=None, repr=False)
    cell_site: np.ndarray = field(default=None, repr=False)
    cell_existing: np.ndarray = field(default=None, repr=False)
    summary: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    timings_s: dict = field(default_factory=dict)

    def save(self, out_dir=None, *, overwrite: bool = False):
        """Write the programme folder (:func:`simulator.io.programme.save_programme`)."""
        from ..io.programme import save_programme

        return save_programme(self, out_dir, overwrite=overwrite)

    def programme_scenario(self) -> Scenario:
        """The input scenario with the chosen cell sites added as ``placement: list`` groups
        (one per station type and build year); ``ruralsim run`` on it covers the cell sites'
        people (hotspots are not sites of the radio engine and are not in it)."""
        from ..schema import SiteGroupSpec, SitePosition, SitesSpec
        from pyproj import Transformer

        s = self.sites
        cell = np.flatnonzero(np.asarray(s["kind"]) == "cell")
        built = cell[np.asarray(s["build_year"])[cell] >= 0]
        to_ll = Transformer.from_crs(self.grid.crs, "EPSG:4326", always_xy=True)
        groups = []
        keys = sorted({(s["station"][i], int(s["build_year"][i])) for i in built})
        for st, year in keys:
            idx = [i for i in built if s["station"][i] == st and int(s["build_year"][i]) == year]
            pos = []
            for i in idx:
                lon, lat = to_ll.transform(float(s["x_m"][i]), float(s["y_m"][i]))
                pos.append(SitePosition(lon=round(float(lon), 7), lat=round(float(lat), 7)))
            extra = {"build_year": year} if "build_year" in SiteGroupSpec.model_fields else {}
            groups.append(SiteGroupSpec(station=st, placement="list", positions=pos, **extra))
        sites = self.scenario.sites
        new = list(sites.new) + groups
        spec = SitesSpec(**{**{k: getattr(sites, k) for k in SitesSpec.model_fields},
                            "new": new})
        out = self.scenario.model_copy(update={"sites": spec, "programme": None})
        out._source_path = self.scenario.source_path
        return out


# --------------------------------------------------------------------------- helpers

def _spec_with(scenario: Scenario, overrides: dict) -> ProgrammeSpec:
    from pydantic import ValidationError

    base = scenario.programme.model_dump(exclude_unset=True) if scenario.programme else {}
    for k, v in overrides.items():
        if v is None:
            continue
        if k == "target_share":
            base["target"] = {**(base.get("target") or {}), "share": v}
            base.pop("budget_usd", None)
        elif k == "budget_usd":
            base["budget_usd"] = v
            base.pop("target", None)
        else:
            base[k] = v
    if scenario.programme is None and "target" not in base and "budget_usd" not in base:
        raise ScenarioError("the scenario has no 'programme:' section: add one (see "
                            "docs/programme.md) or pass --target-share S or --budget-usd X",
                            file=_src(scenario), key="programme")
    try:
        return ProgrammeSpec.model_validate(base)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"])
        raise ScenarioError(e["msg"].removeprefix("Value error, "), file=_src(scenario),
                            key="programme" + (f".{loc}" if loc else "")) from None


def _order_by_value(A: sp.csr_array, weights, cost, chosen, already) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Build order of the chosen options (most new weight per dollar first, recomputed as
    each is taken: a lazy greedy, gains only fall) and the weight each adds (cells counted
    once, in that order). Ties go to the lower option index."""
    import heapq

    w = np.where(already, 0.0, np.asarray(weights, dtype=np.float64))

    def gain(i):
        return float(w[A.indices[A.indptr[i]:A.indptr[i + 1]]].sum())

    def value(i, g):
        return g / max(float(cost[i]), 1e-9)

    heap = [(-value(int(i), gain(int(i))), int(i)) for i in chosen]
    heapq.heapify(heap)
    order, added = [], []
    while heap:
        _, i = heapq.heappop(heap)
        g = gain(i)
        v = value(i, g)
        if heap and v < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-v, i))
            continue
        order.append(i)
        added.append(g)
        w[A.indices[A.indptr[i]:A.indptr[i + 1]]] = 0.0
    return np.array(order, dtype=np.int64), np.array(added, dtype=np.float64)


def _location_cells(grid, cell_index, xy) -> np.ndarray:
    """Column of the cell holding each location (-1 when that cell has no people)."""
    r, c = grid.cell_of(xy[:, 0], xy[:, 1]) if hasattr(grid, "cell_of") else _cell_of(grid, xy)
    flat = np.asarray(r) * grid.ncols + np.asarray(c)
    pos = np.searchsorted(cell_index, flat)
    pos = np.minimum(pos, max(cell_index.size - 1, 0))
    ok = (cell_index.size > 0) & (cell_index[pos] == flat) if cell_index.size else \
        np.zeros(len(flat), bool)
    return np.where(ok, pos, -1)


def _cell_of(grid, xy):
    col = np.clip(((xy[:, 0] - grid.x_min_m) // grid.resolution_m).astype(np.int64), 0,
                  grid.ncols - 1)
    row = np.clip(((grid.y_max_m - xy[:, 1]) // grid.resolution_m).astype(np.int64), 0,
                  grid.nrows - 1)
    return row, col


def _money(x) -> str:
    return f"USD {x:,.0f}"


# --------------------------------------------------------------------------- programme

def programme(scenario: Scenario, *, target_share: float | None = None,
              budget_usd: float | None = None, annual_capex_usd: float | None = None,
              method: str | None = None, time_limit_s: float | None = None,
              progress=None) -> ProgrammeResult:
    """Technology per settlement, relay chains and rollout by year for ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        With a ``programme:`` section, or ``target_share`` / ``budget_usd`` given (the
        default options: RuralStar-class pole, macro, satellite hotspot at the settlements).
    target_share, budget_usd, annual_capex_usd, method, time_limit_s : optional
        Override ``programme.target.share``, ``budget_usd``, ``annual_capex_usd``,
        ``method``, ``time_limit_s``.
    progress : callable, optional
        ``progress(done, total)`` while the cell options' coverage is computed.

    Returns
    -------
    ProgrammeResult

    Raises
    ------
    ScenarioError
        Anything ``run`` refuses; a target above what the options can reach (the message
        says the reachable share); an option that costs nothing; a relay requirement that
        cannot hold.
    """
    from . import rollout as rollout_mod
    from . import solve as solve_mod

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    spec = _spec_with(scenario, {"target_share": target_share, "budget_usd": budget_usd,
                                 "annual_capex_usd": annual_capex_usd, "method": method,
                                 "time_limit_s": time_limit_s})
    src = _src(scenario)
    opts = spec.options
    cell_opts = [k for k, o in opts.items() if o.kind == "cell"]
    hot_opts = [k for k, o in opts.items() if o.kind == "satellite_hotspot"]
    cell_types = list(dict.fromkeys(opts[k].station for k in cell_opts))
    ctx = planning_context(scenario, cell_types, key="programme.options")
    timings.update(ctx.timings)
    grid, pop, stations, basis = ctx.grid, ctx.population, ctx.stations, ctx.basis
    params = ctx.params
    catalogue = ec.load_cost_catalogue()

    # ---- locations and the cell candidates at them
    pos_types = cell_types or [next(iter(stations))]
    cand_spec = spec.candidates.model_copy(update={"station": pos_types})
    holder = type("S", (), {"candidates": cand_spec})()
    all_cands = make_candidates(scenario, holder, grid, pop, stations, dem=ctx.dem,
                                section="programme")
    xy_all = np.c_[all_cands.x_m, all_cands.y_m]
    loc_xy, cand_loc = np.unique(xy_all, axis=0, return_inverse=True)
    # locations in order of first appearance (largest settlement first)
    first = np.full(len(loc_xy), len(xy_all))
    np.minimum.at(first, cand_loc.ravel(), np.arange(len(xy_all)))
    perm = np.argsort(first, kind="stable")
    rank = np.empty_like(perm)
    rank[perm] = np.arange(len(perm))
    loc_xy = loc_xy[perm]
    cand_loc = rank[cand_loc.ravel()]
    n_loc = len(loc_xy)
    loc_names = [f"loc-{i + 1}" for i in range(n_loc)]
    for k, nm in enumerate(all_cands.names):
        if not nm.startswith("cand-"):
            loc_names[cand_loc[k]] = nm.rsplit("-", 1)[0] if nm.endswith(
                tuple(f"-{t}" for t in pos_types)) else nm
    if cell_types:
        station_opt = {opts[k].station: k for k in cell_opts}
        keep = np.array([st in station_opt for st in all_cands.station])
        cands = all_cands.subset(np.flatnonzero(keep))
        c_loc = cand_loc[keep]
        ctx.check_types(sorted(set(cands.station)), key="programme.options")
    else:
        cands = all_cands.subset(np.zeros(0, np.int64))
        c_loc = np.zeros(0, np.int64)

    # ---- coverage of every option
    t1 = time.perf_counter()
    cm = ctx.coverage(cands, workers=spec.workers, progress=progress)
    cell_xy = np.c_[grid.x_min_m + (cm.cell_index % grid.ncols + 0.5) * grid.resolution_m,
                    grid.y_max_m - (cm.cell_index // grid.ncols + 0.5) * grid.resolution_m]
    hp = {k: hotspot_params(catalogue, opts[k]) for k in hot_opts}
    hot_rows = [hotspot_coverage(cell_xy, loc_xy, hp[k]["wifi_radius_m"]) for k in hot_opts]
    A = sp.csr_array(sp.vstack([cm.matrix] + hot_rows, format="csr")) if hot_rows else cm.matrix
    A.sort_indices()
    timings["coverage"] = time.perf_counter() - t1
    n_cell = len(cands)
    n_opt = A.shape[0]
    option_location = np.concatenate([c_loc] + [np.arange(n_loc)] * len(hot_opts)).astype(
        np.int64)
    st_to_opt = {opts[k].station: k for k in cell_opts}
    option_name = np.array([st_to_opt[s] for s in cands.station]
                           + [k for k in hot_opts for _ in range(n_loc)], dtype=object)
    option_kind = np.array(["cell"] * n_cell + ["satellite_hotspot"] * (n_opt - n_cell),
                           dtype=object)
    option_station = np.array(list(cands.station) + [""] * (n_opt - n_cell), dtype=object)

    # ---- costs
    t2 = time.perf_counter()
    people_cols = cm.people
    reach = np.asarray(A @ people_cols, dtype=np.float64)
    warnings = list(ctx.warnings)
    try:
        cell_costs = candidate_costs(basis, cands, people_served=reach[:n_cell])
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="backhaul") from None
    per_person = float(basis.demand_mbps(1.0))
    hot_costs = []
    for j, k in enumerate(hot_opts):
        rows = slice(n_cell + j * n_loc, n_cell + (j + 1) * n_loc)
        try:
            hot_costs.append(hotspot_costs(reach[rows], hp[k], demand_mbps_per_person=per_person,
                                           discount_rate=basis.discount_rate,
                                           horizon_years=basis.horizon_years))
        except ValueError as exc:
            raise ScenarioError(str(exc), file=src, key=f"programme.options.{k}") from None
    basis_name = spec.cost_basis
    cost = np.concatenate([np.asarray(cell_costs.cost(basis_name), float)]
                          + [h["tco_usd" if basis_name == "tco" else "capex_usd"]
                             for h in hot_costs])
    for k in cell_opts:
        m = option_name[:n_cell] == k
        if m.any() and not np.any(cost[:n_cell][m] > 0):
            raise ScenarioError(f"technology option '{k}' has no cost (station "
                                f"'{opts[k].station}' costs 0 everywhere); allowed: a station "
                                "type with station costs > 0", file=src,
                                key=f"programme.options.{k}")
    usable = np.ones(n_opt, bool)
    usable[:n_cell] = cell_costs.backhaul != "none"
    if spec.relay.required:
        # poles and small cells must relay: the cost basis' own choice is only a first guess,
        # the tree below decides; nothing to drop here
        pass
    if not usable.all():
        warnings.append(f"{int((~usable).sum())} cell options have no feasible backhaul and "
                        "were left out")
    timings["costs"] = time.perf_counter() - t2

    # ---- weights: people covered, or connected (x the potential at each cell)
    total_people = int(pop.people.sum())
    already = ctx.base_covered.ravel()[cm.cell_index]
    if spec.target is not None and spec.target.measure == "connected":
        pot_cells = adoption_potential_at(scenario, params, grid, pop, cell_xy,
                                          population_total=total_people)
        weights = people_cols * pot_cells
        measure = "connected"
    else:
        pot_cells = None
        weights = people_cols.astype(np.float64)
        measure = "covered"
    base_weight = float(weights[already].sum())
    total_weight = (float(weights.sum()) if measure == "connected"
                    else float(total_people))

    # ---- solve
    t3 = time.perf_counter()
    sel = np.flatnonzero(usable)
    A_use = sp.csr_array(A[sel])
    target_people = None
    if spec.target is not None:
        # the solver's target counts the existing network's people too
        target_people = min(spec.target.share * total_weight, reachable_total := float(
            weights[np.asarray((A_use.sum(axis=0) > 0)).ravel() | already].sum()))
        reachable = reachable_total
        if spec.target.share * total_weight > reachable + 1e-6:
            share = reachable / total_weight if total_weight else 0.0
            raise ScenarioError(
                f"target {spec.target.share:.1%} of people {measure} is out of reach: the "
                f"options reach at most {share:.1%} ({reachable:,.0f} of {total_weight:,.0f});"
                f" allowed: share <= {np.floor(share * 1000) / 1000:.3f}, or more options / "
                "candidates", file=src, key="programme.target.share", value=spec.target.share)
    try:
        mix = solve_mod.least_cost_mix(
            A_use, weights, cost[sel], option_location[sel], target_people=target_people,
            budget_usd=spec.budget_usd, already_covered=already, method=spec.method,
            time_limit_s=spec.time_limit_s, mip_rel_gap=spec.mip_rel_gap)
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="programme") from None
    chosen = sel[np.asarray(mix.chosen, dtype=np.int64)]
    timings["solve"] = time.perf_counter() - t3

    # ---- build order and marginal people (counted once)
    order, added_w = _order_by_value(A, weights, cost, chosen, already)
    _, added_people = _order_by_value_people(A, people_cols, order, already)
    is_cell = order < n_cell
    cell_idx = order[is_cell]
    cell_site = np.full(A.shape[1], -1, np.int64)
    for j, i in enumerate(order):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        cols = cols[cell_site[cols] < 0]
        cell_site[cols] = j
    cell_site[already] = -1

    # ---- the chosen cell sites through the engine: people served -> exact costs -> relays
    t4 = time.perf_counter()
    ch = cands.subset(cell_idx)
    served = np.zeros(len(ch), np.int64)
    if len(ch):
        ro = run_order(ch.station)
        net = ctx.kept.concat(ch.subset(ro))
        fields, sv = ctx.network_pass(net)
        cov = sv.people_covered > 0
        served_all = np.bincount(fields.best_server[cov], weights=sv.people_covered[cov],
                                 minlength=len(net)).astype(np.int64)
        served[ro] = served_all[len(ctx.kept):]
    try:
        site_costs = candidate_costs(basis, ch, people_served=served)
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="backhaul") from None
    tree = None
    if spec.relay.enabled and len(ch):
        site_costs, tree = _relay(spec, ctx, ch, site_costs, served, src)
    timings["exact_costs_and_relays"] = time.perf_counter() - t4

    # ---- per chosen option, in build order
    n_sel = len(order)
    s_capex = np.zeros(n_sel)
    s_opex = np.zeros(n_sel)
    s_tco = np.zeros(n_sel)
    s_served = np.zeros(n_sel, np.int64)
    s_backhaul = np.empty(n_sel, dtype=object)
    s_power = np.empty(n_sel, dtype=object)
    s_terminals = np.zeros(n_sel, np.int64)
    ci = np.flatnonzero(is_cell)
    s_capex[ci], s_opex[ci], s_tco[ci] = (site_costs.capex_usd, site_costs.opex_usd_per_year,
                                          site_costs.tco_usd)
    s_served[ci] = served
    s_backhaul[ci] = site_costs.backhaul
    s_power[ci] = site_costs.power
    for j, i in enumerate(order):
        if i >= n_cell:
            h = (i - n_cell) // n_loc
            loc = (i - n_cell) % n_loc
            hc = hot_costs[h]
            s_capex[j], s_opex[j], s_tco[j] = (hc["capex_usd"][loc], hc["opex_usd_per_year"][loc],
                                               hc["tco_usd"][loc])
            s_served[j] = int(round(reach[i]))
            s_backhaul[j] = "satellite_terminal"
            s_power[j] = "solar"
            s_terminals[j] = int(hc["terminals"][loc])

    # ---- rollout by year and viability
    t5 = time.perf_counter()
    econ = params["economics"]
    n_years = int(spec.years or econ["horizon_years"])
    if spec.annual_capex_usd is not None:
        try:
            build_year = rollout_mod.schedule_builds(
                np.arange(n_sel), s_capex, s_opex, annual_capex_usd=spec.annual_capex_usd,
                annual_opex_usd=spec.annual_opex_usd, n_years=n_years)
        except ValueError as exc:
            raise ScenarioError(str(exc), file=src, key="programme.annual_capex_usd") from None
        never = int(np.sum(build_year < 0))
        if never:
            warnings.append(f"{never} of {n_sel} chosen sites are not built within {n_years} "
                            f"years at {_money(spec.annual_capex_usd)} a year")
    else:
        build_year = np.zeros(n_sel, np.int64)
    pot_site = _site_potential(scenario, params, grid, pop, order, cell_xy, A, already,
                               people_cols, total_people)
    a = params["adoption"]
    try:
        ro_res = rollout_mod.rollout(
            build_year, added_people, pot_site, s_capex, s_opex,
            arpu_usd_per_month=econ["arpu_usd_per_month"], horizon_years=n_years,
            discount_rate=econ["discount_rate"], curve=a["curve"],
            curve_params={"p": a["bass_p"], "q": a["bass_q"],
                          "growth_rate_per_year": a["logistic_growth_rate_per_year"],
                          "midpoint_year": a["logistic_midpoint_year"]})
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="programme") from None
    timings["rollout"] = time.perf_counter() - t5

    sites = _site_table(order, n_cell, n_loc, cands, cell_idx, loc_xy, loc_names,
                        option_name, option_location, hot_opts, added_people, s_served,
                        s_capex, s_opex, s_tco, s_backhaul, s_power, s_terminals, build_year,
                        ro_res, tree, is_cell,
                        [n for n, e in zip(ctx.kept.names, ctx.kept.existing) if e])
    loc_people = _location_people(grid, pop, loc_xy, cm)
    villages = _villages(order, A, cm, already, loc_xy, loc_names, loc_people, option_name,
                         option_location, cost, sites, grid, n_opt)

    # ---- cost curve: the mix and each technology alone
    t6 = time.perf_counter()
    techs = option_name[sel]
    try:
        curve = solve_mod.cost_curve(A_use, weights, cost[sel], option_location[sel],
                                     technology=techs, already_covered=already,
                                     method="greedy")
    except ValueError as exc:
        warnings.append(f"cost curve not computed: {exc}")
        curve = []
    curve = _mix_no_worse_than_one_technology(curve)
    timings["cost_curve"] = time.perf_counter() - t6
    if spec.target is not None and spec.target.year is not None:
        by = ro_res.covered_by_year if measure == "covered" else ro_res.connected_by_year
        base = float(np.sum(people_cols[already])) if measure == "covered" else base_weight
        y = min(spec.target.year, len(by) - 1)
        if base + float(by[y]) + 1e-6 < spec.target.share * total_weight:
            warnings.append(f"target {spec.target.share:.0%} {measure} is not reached by year "
                            f"{spec.target.year} at {_money(spec.annual_capex_usd)} a year")
    timings["total"] = time.perf_counter() - t0
    warnings = emit_warnings(warnings)
    result = ProgrammeResult(
        scenario=scenario, spec=spec, grid=grid, population=pop, stations=stations,
        technology=ctx.technology, kept_sites=ctx.kept, location_xy_m=loc_xy,
        location_names=loc_names, location_people=loc_people, option_location=option_location,
        option_name=option_name, option_kind=option_kind, option_station=option_station,
        option_cost_usd=cost, mix=mix, sites=sites, tree=tree, rollout=ro_res,
        villages=villages, curve=curve, cell_index=cm.cell_index, cell_site=cell_site,
        cell_existing=already, warnings=warnings, timings_s=timings)
    result.summary = _summary(result, total_people=total_people,
                              base_people=int(people_cols[already].sum()), measure=measure,
                              total_weight=total_weight, base_weight=base_weight,
                              added_weight=float(added_w.sum()))
    _log.info("programme: %d sites, %s", n_sel, result.summary["technology_mix"])
    return result


def _mix_no_worse_than_one_technology(curve: list[dict]) -> list[dict]:
    """A single-technology plan is a mix too: where the (greedy) mix row of a share costs
    more than a single technology's plan for that share, the cheaper plan is the mix's
    answer there (``mix_from`` names it)."""
    best: dict = {}
    for r in curve:
        if r["plan"] != "mix" and r.get("feasible", True):
            b = best.get(r["share"])
            if b is None or r["cost_usd"] < b["cost_usd"]:
                best[r["share"]] = r
    out = []
    for r in curve:
        r = dict(r)
        if r["plan"] == "mix":
            r["mix_from"] = "mix"
            b = best.get(r["share"])
            if b is not None and (not r.get("feasible", True)
                                  or b["cost_usd"] < r["cost_usd"] - 1e-6):
                r.update({k: b[k] for k in ("feasible", "cost_usd", "people", "people_total",
                                            "n_options", "chosen", "method", "optimal",
                                            "mip_gap", "by_technology") if k in b})
                r["mix_from"] = b["plan"]
        out.append(r)
    return out


def _order_by_value_people(A, people, order, already):
    """People each option adds in ``order`` (cells counted once)."""
    w = np.where(already, 0.0, np.asarray(people, dtype=np.float64))
    out = np.zeros(len(order))
    for j, i in enumerate(order):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        out[j] = w[cols].sum()
        w[cols] = 0.0
    return None, out


def _site_potential(scenario, params, grid, pop, order, cell_xy, A, already, people,
                    total_people):
    """Adoption potential per chosen option: people-weighted over the cells it adds."""
    if len(order) == 0:
        return np.zeros(0)
    pot = adoption_potential_at(scenario, params, grid, pop, cell_xy,
                                population_total=total_people)
    w = np.where(already, 0.0, np.asarray(people, dtype=np.float64))
    out = np.zeros(len(order))
    for j, i in enumerate(order):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        ww = w[cols]
        out[j] = float(np.sum(pot[cols] * ww) / ww.sum()) if ww.sum() > 0 else float(
            pot[cols].mean()) if cols.size else 0.0
        w[cols] = 0.0
    return out


def _relay(spec, ctx, ch: Sites, site_costs: SiteCosts, served, src):
    """Relay chains among the chosen cell sites; costs with the tree's backhaul."""
    from . import relay as relay_mod

    cat = ec.load_cost_catalogue()
    rc = cat.get("relay_chain", {})
    basis = ctx.basis
    stations = ctx.stations
    heights = ch.attribute(stations, "height_m")
    cap_by_type = rc.get("donor_capacity_mbps", {})
    default_cap = float(cap_by_type.get("default", 30.0)) if isinstance(cap_by_type, dict) \
        else 30.0

    def cap(t):
        return float(cap_by_type.get(t, default_cap)) if isinstance(cap_by_type, dict) \
            else default_cap

    can_donate = np.ones(len(ch), bool)
    kept = ctx.kept
    donor_xy = basis.donor_xy_m
    ex = np.asarray(kept.existing, dtype=bool)
    donor_cap = np.array([cap(t) for t, e in zip(kept.station, ex) if e], float)
    try:
        tree = relay_mod.backhaul_tree(
            np.c_[ch.x_m, ch.y_m], heights, basis.demand_mbps(served),
            can_donate=can_donate, site_capacity_mbps=np.array([cap(t) for t in ch.station]),
            donor_xy_m=donor_xy, donor_height_m=basis.donor_height_m,
            donor_capacity_mbps=donor_cap, params={**basis.params["backhaul"], **rc},
            fibre_node_xy_m=basis.fibre_node_xy_m, dem=basis.dem,
            dem_origin_m=basis.dem_origin_m, dem_resolution_m=basis.dem_resolution_m,
            k_factor=basis.k_factor, hop_limit=spec.relay.hop_limit, method=spec.relay.method,
            require_relay=spec.relay.required & np.isin(np.asarray(ch.station, object),
                                                        _relay_types(cat, stations)),
            frequency_mhz=float(ctx.technology.frequency_mhz),
            discount_rate=basis.discount_rate, horizon_years=basis.horizon_years)
    except ValueError as exc:
        raise ScenarioError(str(exc), file=src, key="programme.relay") from None
    none = np.asarray(tree.link, dtype=object) == "none"
    if none.any():
        raise ScenarioError(f"relay backhaul is required but {int(none.sum())} of {len(ch)} "
                            f"chosen sites reach no donor within hop_limit "
                            f"{spec.relay.hop_limit}; allowed: a larger hop_limit, or "
                            "required: false (microwave or satellite where no relay reaches)",
                            file=src, key="programme.relay")
    costs = relay_mod.tree_costs_replace(site_costs, tree, basis.discount_rate,
                                         basis.horizon_years)
    return costs, tree


def _relay_types(catalogue, stations) -> list[str]:
    """Station types whose usual backhaul is a relay (RuralStar-class poles, small cells)."""
    st = catalogue.get("station_types", {})
    return [t for t in stations
            if str(st.get(getattr(stations[t], "base", None) or t, {}).get(
                "default_backhaul", "")).startswith("relay")]


def _site_table(order, n_cell, n_loc, cands, cell_idx, loc_xy, loc_names, option_name,
                option_location, hot_opts, added, served, capex, opex, tco, backhaul, power,
                terminals, build_year, ro, tree, is_cell, kept_names) -> dict:
    n = len(order)
    x = np.zeros(n)
    y = np.zeros(n)
    station = np.empty(n, dtype=object)
    names = []
    cpos = {int(c): k for k, c in enumerate(cell_idx)}
    for j, i in enumerate(order):
        loc = int(option_location[i])
        if i < n_cell:
            x[j], y[j] = cands.x_m[i], cands.y_m[i]
            station[j] = cands.station[i]
        else:
            x[j], y[j] = loc_xy[loc]
            station[j] = ""
        names.append(f"{option_name[i]}-{loc_names[loc]}")
    parent = np.full(n, "", dtype=object)
    hops = np.zeros(n, np.int64)
    exceeded = np.zeros(n, bool)
    upgrade = np.full(n, "", dtype=object)
    link = np.array([str(b) for b in backhaul], dtype=object)
    if tree is not None:
        cell_rows = np.flatnonzero(is_cell)
        for k, j in enumerate(cell_rows):
            p = int(tree.parent[k])
            if p >= 0:
                parent[j] = names[cell_rows[p]]
            elif int(tree.donor[k]) >= 0:
                parent[j] = kept_names[int(tree.donor[k])]
            hops[j] = int(tree.hops[k])
            exceeded[j] = bool(tree.capacity_exceeded[k])
            upgrade[j] = str(tree.upgrade[k])
    del cpos
    return {"name": names, "option": [str(option_name[i]) for i in order],
            "kind": ["cell" if i < n_cell else "satellite_hotspot" for i in order],
            "station": list(station), "x_m": x, "y_m": y,
            "location": [int(option_location[i]) for i in order],
            "people_added": np.round(added).astype(np.int64), "people_served": served,
            "capex_usd": capex, "opex_usd_per_year": opex, "tco_usd": tco,
            "backhaul": link, "power": power, "terminals": terminals,
            "build_year": np.asarray(build_year, dtype=np.int64),
            "npv_usd": np.asarray(ro.site_npv_usd, dtype=np.float64),
            "viability_gap_usd": np.asarray(ro.viability_gap_usd, dtype=np.float64),
            "backhaul_parent": list(parent), "hops": hops, "capacity_exceeded": exceeded,
            "upgrade": list(upgrade)}


def _location_people(grid, pop, loc_xy, cm) -> np.ndarray:
    """People of each location's settlement (nearest settlement centre within a cell), else
    the people of the cell holding it."""
    out = np.zeros(len(loc_xy))
    if pop.settlement_x_m.size:
        from scipy.spatial import cKDTree

        d, k = cKDTree(np.c_[pop.settlement_x_m, pop.settlement_y_m]).query(loc_xy, k=1)
        near = d <= grid.resolution_m
        out[near] = np.asarray(pop.settlement_people, float)[k[near]]
    else:
        near = np.zeros(len(loc_xy), bool)
    r, c = _cell_of(grid, loc_xy)
    out[~near] = pop.people[r[~near], c[~near]]
    return np.round(out).astype(np.int64)


def _villages(order, A, cm, already, loc_xy, loc_names, loc_people, option_name,
              option_location, cost, sites, grid, n_opt) -> list[dict]:
    """One row per location: what it gets and why."""
    n_loc = len(loc_xy)
    col = _location_cells(grid, cm.cell_index, loc_xy)
    # which built option first covers each location's cell
    covered_by = np.full(n_loc, -1)
    colmap = {}
    for j, i in enumerate(order):
        for cidx in A.indices[A.indptr[i]:A.indptr[i + 1]]:
            colmap.setdefault(int(cidx), j)
    own = {int(sites["location"][j]): j for j in range(len(order))}
    # cheapest option per location (for the reason of the left-out ones)
    cheapest = {}
    for i in range(n_opt):
        loc = int(option_location[i])
        if np.isfinite(cost[i]) and (loc not in cheapest or cost[i] < cost[cheapest[loc]]):
            cheapest[loc] = i
    rows = []
    for loc in range(n_loc):
        c = int(col[loc])
        if c >= 0 and c in colmap:
            covered_by[loc] = colmap[c]
        j_own = own.get(loc)
        if j_own is not None:
            opt = sites["option"][j_own]
            others = [f"{option_name[i]} {_money(cost[i])}" for i in range(n_opt)
                      if int(option_location[i]) == loc and option_name[i] != opt
                      and np.isfinite(cost[i])]
            reason = (f"{opt} here: {int(sites['people_added'][j_own]):,} people added "
                      f"for {_money(sites['tco_usd'][j_own])} TCO"
                      + (f" (alternatives here: {', '.join(others)})" if others else "")
                      + ("; the least-cost mix covers its neighbours from here"
                         if int(sites["people_added"][j_own]) > loc_people[loc] else ""))
            choice, by, year = opt, sites["name"][j_own], int(sites["build_year"][j_own])
        elif c >= 0 and already[c]:
            choice, by, year = "existing", "existing sites", 0
            reason = "already covered by the existing sites"
        elif covered_by[loc] >= 0:
            j = int(covered_by[loc])
            choice, by, year = "covered_by_neighbour", sites["name"][j], int(
                sites["build_year"][j])
            reason = f"covered by {sites['name'][j]} ({sites['option'][j]}) built for a " \
                     "neighbouring location"
        else:
            choice, by, year = "none", "", -1
            if loc in cheapest:
                i = cheapest[loc]
                reason = (f"left out: the goal is met without it (cheapest option here "
                          f"{option_name[i]} {_money(cost[i])})")
            else:
                reason = "left out: no option can serve it"
        rows.append({"location": loc_names[loc], "x_m": float(loc_xy[loc, 0]),
                     "y_m": float(loc_xy[loc, 1]), "people": int(loc_people[loc]),
                     "choice": choice, "served_by": by, "build_year": year, "reason": reason})
    return rows


def _summary(r: ProgrammeResult, *, total_people, base_people, measure, total_weight,
             base_weight, added_weight) -> dict:
    s = r.sites
    spec = r.spec
    ro = r.rollout
    built = np.asarray(s["build_year"]) >= 0
    mix = {}
    for opt in r.spec.options:
        m = (np.asarray(s["option"], dtype=object) == opt) & built
        mix[opt] = {"sites": int(m.sum()),
                    "people_added": int(np.asarray(s["people_added"])[m].sum()),
                    "capex_usd": round(float(np.asarray(s["capex_usd"])[m].sum()), 2),
                    "tco_usd": round(float(np.asarray(s["tco_usd"])[m].sum()), 2)}
    added = int(np.asarray(s["people_added"])[built].sum())
    mixr = r.mix
    out = {
        "scenario": r.scenario.name,
        "goal": ({"target_share": spec.target.share, "measure": measure,
                  "year": spec.target.year} if spec.target is not None
                 else {"budget_usd": spec.budget_usd}),
        "cost_basis": spec.cost_basis,
        "population_total": int(total_people),
        "people_covered_existing": int(base_people),
        "people_added": added,
        "people_covered": int(base_people + added),
        "share_covered": round((base_people + added) / total_people, 6) if total_people else 0.0,
        "locations": len(r.location_names),
        "options_considered": int(len(r.option_name)),
        "sites": int(built.sum()),
        "technology_mix": mix,
        "capex_usd": round(float(np.asarray(s["capex_usd"])[built].sum()), 2),
        "opex_usd_per_year": round(float(np.asarray(s["opex_usd_per_year"])[built].sum()), 2),
        "tco_usd": round(float(np.asarray(s["tco_usd"])[built].sum()), 2),
        "npv_usd": round(float(ro.npv_usd), 2),
        "viability_gap_usd": round(float(ro.subsidy_usd), 2),
        "sites_needing_subsidy": int(np.sum(np.asarray(s["viability_gap_usd"]) > 0)),
        "relay": ({"chains": int(np.sum((np.asarray(s["hops"]) > 1))),
                   "relay_sites": int(np.sum(np.isin(np.asarray(s["backhaul"], dtype=object),
                                                     ["relay_los", "relay_nlos"]))),
                   "capacity_exceeded": int(np.sum(s["capacity_exceeded"])),
                   "upgraded": int(np.sum(np.asarray(s["upgrade"], dtype=object) != "")),
                   "hop_limit": spec.relay.hop_limit} if r.tree is not None else None),
        "solver": {"method": mixr.method, "optimal": bool(mixr.optimal),
                   "mip_gap": (None if mixr.mip_gap is None or not np.isfinite(mixr.mip_gap)
                               else round(float(mixr.mip_gap), 6)),
                   "status": str(mixr.status), "fallback": str(mixr.fallback),
                   "time_s": round(float(mixr.time_s), 3),
                   "time_limit_s": spec.time_limit_s,
                   "greedy_cost_usd": round(float(mixr.greedy_cost_usd), 2),
                   "cost_usd": round(float(mixr.cost_usd), 2)},
        "rollout": ro.table(),
        "warnings": list(r.warnings),
        "timings_s": {k: round(v, 3) for k, v in r.timings_s.items()},
    }
    if measure == "connected":
        out["objective_connected_potential"] = round(base_weight + added_weight, 1)
    return out
