"""Benchmark of planning through the real engine (prints figures, asserts nothing).

A synthetic district of 100 km x 80 km at 100 m cells (800,000 cells), 500,000 people in
600 villages plus 15 % dispersed, 4 existing macro sites, LTE 900, RMa:

1. 2,000 candidates (RuralStar-class pole sites on a 2 km x 2 km lattice): the coverage
   matrix built by the engine (time printed separately), then lazy greedy for
   ``--max-sites`` sites (cardinality) and for a cost budget;
2. 300 candidates (the largest settlements, 1 km apart): the MCLP ILP (HiGHS) to proven
   optimality with a 60 s limit, time, status and gap, and greedy on the same matrix;
3. 300 mixed candidates (150 settlements x {RuralStar pole, macro tower}, whose costs and
   reaches differ) under a cost budget: the ILP and budgeted greedy.

Coverage radii come from the engine (RMa, 75 % location reliability): about 2 km for the
15 m pole and 3.9 km for the macro, so a candidate covers ~90 (pole) to ~310 (macro)
populated 100 m cells of this clustered population.

Run::

    python benchmarks/bench_planning.py [--workers 2] [--max-sites 100] [--ilp-sites 40]
"""

from __future__ import annotations

import argparse
import os
import time

from simulator import parse_scenario
from simulator.planning.planner import plan


def district(planning: dict, seed: int) -> dict:
    return {
        "name": "bench-district", "seed": seed,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 100, "height_km": 80,
                   "resolution_m": 100},
        "population": {"synthetic": {"total_people": 500_000, "settlements": 600,
                                     "dispersed_share": 0.15}},
        "technology": "lte_900",
        "propagation": {"model": "rma_38901"},
        "sites": {"existing": [{"station": "macro", "count": 4, "min_spacing_km": 20}]},
        "planning": planning,
    }


def show(title, r, keys=("greedy", "ilp")):
    s = r.summary
    print(f"\n{title}")
    print(f"  candidates {s['candidates']:,}; matrix {s['coverage_matrix_shape'][0]:,} x "
          f"{s['coverage_matrix_shape'][1]:,} populated cells, {s['coverage_matrix_nnz']:,} "
          f"nonzeros ({s['coverage_matrix_nnz'] * 5 / 1e6:.1f} MB CSR)")
    t = s["timings_s"]
    print(f"  setup (grid, people, candidates) {t['setup']:.2f} s; kept sites' coverage "
          f"{t['kept_sites_coverage']:.2f} s; coverage matrix {t['coverage_matrix']:.2f} s")
    print(f"  people {s['population_total']:,}; covered by the 4 existing macros "
          f"{s['people_covered_by_kept_sites']:,}")
    for k in keys:
        if k in s["methods"]:
            m = s["methods"][k]
            gap = "n/a" if m["gap"] is None else f"{100 * m['gap']:.4f} %"
            print(f"  {k:6s}: {m['sites']} sites, {m['people_newly_covered']:,} people newly "
                  f"covered, {m['cost_usd']:,.0f} USD, time {m['solve_time_s']:.2f} s, "
                  f"optimal {m['optimal']}, gap {gap}, status: {m['status'][:90]}")
    print(f"  costing: candidates {t.get('costs', 0):.2f} s; {int(t.get('selection_rounds', 1))} "
          f"selection round(s), the chosen network through the engine "
          f"{t.get('exact_costing', 0):.2f} s; plan capex USD {s['capex_usd']:,.0f}, "
          f"stopped: {s['stop_reason']}")
    print(f"  plan() total {t['total']:.2f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-sites", type=int, default=100)
    ap.add_argument("--budget-usd", type=float, default=1_200_000)
    ap.add_argument("--ilp-sites", type=int, default=40)
    ap.add_argument("--ilp-budget-usd", type=float, default=600_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(f"cores available: {os.cpu_count()}; matrix threads: {a.workers}")

    t0 = time.perf_counter()
    r = plan(parse_scenario(district({
        "candidates": {"source": "grid", "spacing_km": 2, "station": "ruralstar_pro"},
        "max_sites": a.max_sites, "method": "greedy", "workers": a.workers}, a.seed)))
    show(f"1a. 2,000 candidates, greedy, max_sites={a.max_sites} "
         f"(wall {time.perf_counter() - t0:.1f} s)", r)
    t0 = time.perf_counter()
    r = plan(parse_scenario(district({
        "candidates": {"source": "grid", "spacing_km": 2, "station": "ruralstar_pro"},
        "budget_usd": a.budget_usd, "method": "greedy", "workers": a.workers}, a.seed)))
    show(f"1b. 2,000 candidates, greedy, budget {a.budget_usd:,.0f} USD "
         f"(wall {time.perf_counter() - t0:.1f} s)", r)

    t0 = time.perf_counter()
    r = plan(parse_scenario(district({
        "candidates": {"source": "settlements", "spacing_km": 1, "max_count": 300,
                       "station": "ruralstar_pro"},
        "max_sites": a.ilp_sites, "method": "both", "time_limit_s": 60,
        "workers": a.workers}, a.seed)))
    show(f"2. 300 candidates, ILP (HiGHS, 60 s limit) and greedy, max_sites={a.ilp_sites} "
         f"(wall {time.perf_counter() - t0:.1f} s)", r)
    ex = r.placements["ilp"].extra
    print(f"  ILP reduced to {ex['n_candidates_reduced']} candidates x {ex['n_cell_groups']:,} "
          f"cell groups (from {ex['n_cells']:,} cells); B&B nodes {ex.get('mip_node_count')}")

    t0 = time.perf_counter()
    r = plan(parse_scenario(district({
        "candidates": {"source": "settlements", "spacing_km": 1, "max_count": 150,
                       "station": ["ruralstar_pro", "macro"]},
        "budget_usd": a.ilp_budget_usd, "method": "both", "time_limit_s": 60,
        "workers": a.workers}, a.seed)))
    show(f"3. 300 mixed candidates (150 positions x pole/macro), ILP and greedy, budget "
         f"{a.ilp_budget_usd:,.0f} USD (wall {time.perf_counter() - t0:.1f} s)", r)
    print("  chosen by type:", r.summary["sites_chosen_by_type"])
    ex = r.placements["ilp"].extra
    print(f"  ILP reduced to {ex['n_candidates_reduced']} candidates x {ex['n_cell_groups']:,} "
          f"cell groups (from {ex['n_cells']:,} cells); B&B nodes {ex.get('mip_node_count')}")


if __name__ == "__main__":
    main()
