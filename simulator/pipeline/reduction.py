"""The reduction: tile outputs -> region totals -> summary.json (one arithmetic for every run).

Every run adds its tiles' :class:`~simulator.pipeline.tiles.TileOutput` up in
:class:`Totals`: integers (people, people covered, per cause, per service, covered cells,
people per 0.1 dB of signal ...), per-site integer sums, and float sums as fixed point
(each cell's term rounded to 2**-24, :data:`simulator.pipeline.tiles.FIXED_POINT_BITS`,
added as int64). Integer addition is associative, so tiles can be summed in any order, on
any number of workers, with any tile size: summary.json is byte-identical in memory and
tiled.

The site loads need every tile, so they are computed at the end from the per-site sums
(:func:`run_totals`); the people served at busy hour are ``sum_s attached_s x min(1,
1/load_s)``, which is what :func:`simulator.radio.capacity.site_load` adds up per cell.

Monte Carlo shadowing (:func:`monte_carlo_coverage`) draws each realisation's spatially
correlated field over the whole grid on the driver (like the people: the same field
whatever the tiling) and counts the people whose best server's worst-link margin, sent
back by the tiles, plus the field is >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import __version__
from ..errors import ScenarioError
from ..radio.serving import LIMITATION_CODES, ul_sensitivity_dbm
from .tiles import CDF_BINS, SCALE


class Totals:
    """Adds tile outputs up (exact integers, so the order of arrival does not matter)."""

    def __init__(self, n_sites: int, services, histograms: bool = False):
        self.ints: dict[str, int] = {}
        self.causes: dict[int, int] = {}
        self.services = {name: 0 for name, _ in services}
        self.site_people = np.zeros(n_sites, np.int64)
        self.site_attached = np.zeros(n_sites, np.int64)
        self.site_over_q = np.zeros(n_sites, np.int64)
        self.histograms = ({"all": np.zeros(CDF_BINS, np.int64),
                            "existing": np.zeros(CDF_BINS, np.int64)} if histograms else {})
        self.tiles = 0

    def add(self, out) -> None:
        for k, v in out.ints.items():
            self.ints[k] = self.ints.get(k, 0) + v
        for k, v in out.causes.items():
            self.causes[k] = self.causes.get(k, 0) + v
        for k, v in out.services.items():
            self.services[k] += v
        np.add.at(self.site_people, out.site_ids, out.site_people)
        np.add.at(self.site_attached, out.site_ids, out.site_attached)
        np.add.at(self.site_over_q, out.site_ids, out.site_over_se_q)
        for k, v in out.histograms.items():
            self.histograms[k] += v
        self.tiles += 1


@dataclass
class RunTotals:
    """The region-wide numbers a summary is made of (sums over cells, per-site totals)."""

    population_total: int
    people_covered: int
    people_covered_expected: float
    people_covered_downlink_only: int
    people_covered_existing: int
    uncovered_by_cause: dict          # limitation code -> people
    people_by_service: dict           # service name -> people
    people_served_busy_hour: float
    site_load: np.ndarray | None      # load per site (demand / capacity), None without data
    served_fraction: np.ndarray | None  # min(1, 1 / load) per site
    covered_cells: int
    region_cells: int
    people_served_per_site: np.ndarray
    people_attached_per_site: np.ndarray   # people with SE > 0 per best server (int64)
    people_in_line_of_sight: int | None
    terrain_relief_m: float


def run_totals(t: Totals, tech, params, n_sites: int, *, line_of_sight: bool = False,
               terrain_relief_m: float = 0.0) -> RunTotals:
    """:class:`RunTotals` from the added-up tiles (site loads here).

    ``line_of_sight``: the tiles served with a line-of-sight field (terrain methods), which
    adds the terrain-limited cause (in :func:`simulator.radio.serving.serve`'s order) and the
    people in line of sight.
    """
    covered = t.ints.get("covered", 0)
    load = frac = None
    served = float(covered)
    if tech.carries_data and n_sites:
        attached = t.site_attached.astype(np.float64)
        over_se = t.site_over_q.astype(np.float64) / SCALE
        bw = tech.bandwidth_mhz * 1e6
        oh = tech.overhead_fraction
        a, rate = params.busy_hour_active_share, params.mbps_per_active_user
        load = over_se * a * rate * 1e6 / (bw * (1.0 - oh))
        frac = np.ones(n_sites)
        over = load > 1.0
        frac[over] = 1.0 / load[over]
        served = float(np.sum(attached * frac))
    return RunTotals(
        population_total=t.ints.get("population", 0), people_covered=covered,
        people_covered_expected=float(t.ints.get("expected_q", 0)) / SCALE,
        people_covered_downlink_only=t.ints.get("downlink_only", 0),
        people_covered_existing=t.ints.get("existing", 0),
        uncovered_by_cause={k: t.causes.get(k, 0) for k in ((1, 2, 3, 5, 4) if line_of_sight
                                                            else (1, 2, 3, 4))},
        people_by_service=dict(t.services), people_served_busy_hour=served,
        site_load=load, served_fraction=frac, covered_cells=t.ints.get("covered_cells", 0),
        region_cells=t.ints.get("region_cells", 0),
        people_served_per_site=t.site_people.copy(),
        people_attached_per_site=t.site_attached.copy(),
        people_in_line_of_sight=t.ints.get("line_of_sight", 0) if line_of_sight else None,
        terrain_relief_m=terrain_relief_m)


def summary_from_totals(t: RunTotals, s, grid, sites, technology, required_dbm: float,
                        margin_db: float, params, warnings: list[str], *, terrain: bool,
                        inputs: dict, delta_h_m: float = 0.0) -> dict:
    """summary.json from :class:`RunTotals` (JSON-ready Python types, fixed key order)."""
    total = t.population_total
    covered_people = t.people_covered
    existing_people = t.people_covered_existing
    by_type: dict[str, dict[str, int]] = {}
    for st, ex in zip(sites.station, sites.existing):
        d = by_type.setdefault(st, {"existing": 0, "new": 0})
        d["existing" if ex else "new"] += 1
    served = t.people_served_per_site
    new = ~sites.existing
    load = t.site_load
    causes = {LIMITATION_CODES[c].split(" (")[0].replace("-", "_").replace(" ", "_"): n
              for c, n in t.uncovered_by_cause.items()}
    return {
        "scenario": s.name,
        "seed": s.seed,
        "software_version": __version__,
        "technology": technology.name,
        "propagation_model": s.propagation.model,
        "crs": grid.crs,
        "resolution_m": grid.resolution_m,
        "area_km2": round(t.region_cells * grid.cell_area_km2, 6),
        "region_boundary": s.region.boundary,
        "population_source": "raster" if s.population.raster is not None else "synthetic",
        "population_total": total,
        "people_covered": covered_people,
        "coverage_fraction": round(covered_people / total, 6) if total else 0.0,
        "people_covered_expected": round(t.people_covered_expected, 1),
        "people_covered_downlink_only": t.people_covered_downlink_only,
        "people_covered_by_existing_sites": existing_people,
        "people_newly_covered": covered_people - existing_people,
        "people_not_covered_by_cause": causes,
        "people_covered_by_service": dict(t.people_by_service),
        "people_served_busy_hour": round(t.people_served_busy_hour, 1),
        "people_capacity_limited": round(covered_people - t.people_served_busy_hour, 1),
        "sites_over_capacity": int((load > 1).sum()) if load is not None else 0,
        "max_site_load": round(float(load.max()), 4) if load is not None and len(load)
        else 0.0,
        "area_covered_km2": round(float(t.covered_cells) * grid.cell_area_km2, 6),
        "sites_total": len(sites),
        "sites_existing": int(sites.existing.sum()),
        "sites_new": int(new.sum()),
        "sites_by_type": by_type,
        "people_served_per_site_mean": round(float(served.mean()), 3) if len(served) else 0.0,
        "people_served_per_new_site_mean": round(float(served[new].mean()), 3) if new.any()
        else 0.0,
        "signal_metric": technology.signal_metric,
        "dl_threshold_dbm": technology.dl_threshold_dbm,
        "fade_margin_db": round(margin_db, 4),
        "required_signal_dbm": round(required_dbm, 4),
        "ul_sensitivity_dbm": round(ul_sensitivity_dbm(technology,
                                                       params.ul_interference_margin_db), 4),
        "indoor_share": params.indoor_share,
        "building_entry_loss_db": round(params.building_entry_loss_db, 4),
        "reuse_factor": s.radio.reuse_factor,
        "terrain": "flat" if not terrain else ("synthetic" if s.terrain.synthetic
                                               else "raster"),
        "terrain_relief_m": round(t.terrain_relief_m, 3),
        "terrain_delta_h_m": round(float(delta_h_m), 3),
        "people_in_line_of_sight": t.people_in_line_of_sight,
        "warnings": warnings,
        "population_input": inputs.get("population", {}),
        "existing_towers": inputs.get("towers", []),
    }


def merge_business(summary: dict, business) -> None:
    """Add the business summary keys, keeping ``warnings`` last (in place)."""
    warnings_ = summary.pop("warnings")
    summary.update(business.summary)
    summary["warnings"] = warnings_


def monte_carlo_coverage(scenario, grid, people: np.ndarray, margin_db: np.ndarray) -> dict:
    """Mean and 5-95 % interval of people covered under spatially correlated shadowing.

    Each realisation draws one zero-mean Gaussian field in dB with Gudmundson's
    exponential autocorrelation (variability.correlated_shadowing_field) over the whole
    grid and adds it to the best server's worst-link margin at the actual thresholds
    (``margin_db``: -inf where no server or the SINR fails); a cell is covered when the
    result is >= 0. One field is shared by all sites (no change of server within a
    realisation), so the mean converges to ``people_covered_expected`` and the interval
    shows how much a district's total can swing.
    """
    from ..radio.variability import correlated_shadowing_field, monte_carlo_covered_people
    from ..random import component_rng

    p = scenario.propagation
    sigma = p.shadowing_sigma_db
    if sigma == 0:
        n = float(people[margin_db >= 0].sum())
        return {"realisations": p.monte_carlo_realisations, "mean": n, "p05": n, "p95": n}
    try:
        mc = monte_carlo_covered_people(
            people, margin_db,
            lambda rng: correlated_shadowing_field(grid.shape, grid.resolution_m,
                                                   sigma_db=sigma,
                                                   decorrelation_m=p.decorrelation_distance_m,
                                                   rng=rng),
            n_realisations=p.monte_carlo_realisations,
            rng=component_rng(scenario.seed, "shadowing"))
    except ValueError as exc:
        src = str(scenario.source_path) if scenario.source_path else None
        raise ScenarioError(f"Monte Carlo shadowing not possible here: {exc}", file=src,
                            key="propagation.monte_carlo_realisations",
                            value=p.monte_carlo_realisations) from None
    return {"realisations": p.monte_carlo_realisations, "mean": round(float(mc.mean), 1),
            "p05": round(float(mc.low), 1), "p95": round(float(mc.high), 1)}
