"""Benchmark of the programme (technology per settlement) through the real engine.

Prints figures, asserts nothing. A synthetic district of 100 km x 80 km at 100 m cells
(800,000 cells), 500,000 people in 2,000 villages plus 15 % dispersed, 4 existing macro
sites, LTE 900, RMa; every village is a location with 3 technologies (RuralStar-class pole,
macro tower, satellite community hotspot): 2,000 candidate sites x 3 = 6,000 options. The
least-cost mix covering ``--share`` of the people (10-year TCO) is found

1. with the HiGHS MILP (``method: ilp``, 60 s limit, greedy answer as its floor), and
2. with the greedy alone (``method: greedy``), the baseline, in the same run,

each as the whole ``programme()`` call (setup, coverage of the 4,000 cell options by the
engine, costs, solve, exact costs of the chosen sites, relay chains, rollout, cost curve).
The ratio lines compare the two in this run.

Run::

    python benchmarks/bench_programme.py [--share 0.8] [--settlements 2000]
"""

from __future__ import annotations

import argparse
import time

from simulator import parse_scenario
from simulator.programme import programme


def district(share: float, settlements: int, method: str) -> dict:
    return {
        "name": "bench-programme", "seed": 7,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 100, "height_km": 80,
                   "resolution_m": 100},
        "population": {"synthetic": {"total_people": 500_000, "settlements": settlements,
                                     "dispersed_share": 0.15}},
        "technology": "lte_900",
        "propagation": {"model": "rma_38901"},
        "sites": {"existing": [{"station": "macro", "count": 4, "min_spacing_km": 20}]},
        "programme": {"candidates": {"source": "settlements", "spacing_km": 0},
                      "target": {"share": share}, "annual_capex_usd": 2_000_000,
                      "method": method, "time_limit_s": 35},
    }


def one(share, settlements, method):
    sc = parse_scenario(district(share, settlements, method))
    t0 = time.perf_counter()
    r = programme(sc)
    wall = time.perf_counter() - t0
    s = r.summary
    t = s["timings_s"]
    sv = s["solver"]
    print(f"\nmethod {method}: {wall:.1f} s in all")
    print(f"  {s['locations']:,} locations, {s['options_considered']:,} options; setup "
          f"{t.get('setup', 0):.1f} s, coverage {t['coverage']:.1f} s, costs {t['costs']:.1f} s, "
          f"solve {t['solve']:.1f} s, exact costs + relays {t['exact_costs_and_relays']:.1f} s, "
          f"rollout {t['rollout']:.1f} s, cost curve {t['cost_curve']:.1f} s")
    print(f"  solver {sv['method']}: optimal {sv['optimal']}, gap {sv['mip_gap']}, status "
          f"{sv['status']}, {sv['time_s']:.2f} s; greedy cost in the same solve USD "
          f"{sv['greedy_cost_usd']:,.0f}, chosen USD {sv['cost_usd']:,.0f}")
    print(f"  covered {s['people_covered']:,} of {s['population_total']:,} "
          f"({100 * s['share_covered']:.1f} %); sites {s['sites']:,}: " + ", ".join(
              f"{k} {v['sites']}" for k, v in s["technology_mix"].items()))
    print(f"  TCO USD {s['tco_usd']:,.0f}; capex USD {s['capex_usd']:,.0f}; NPV USD "
          f"{s['npv_usd']:,.0f}; viability gap USD {s['viability_gap_usd']:,.0f}")
    return wall, sv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--share", type=float, default=0.8)
    ap.add_argument("--settlements", type=int, default=2000)
    a = ap.parse_args()
    t_ilp, sv_ilp = one(a.share, a.settlements, "ilp")
    t_gr, sv_gr = one(a.share, a.settlements, "greedy")
    print(f"\nwhole programme: ILP {t_ilp:.1f} s, greedy {t_gr:.1f} s (ratio "
          f"{t_ilp / t_gr:.2f}); solver cost ILP / greedy = "
          f"{sv_ilp['cost_usd'] / max(sv_gr['cost_usd'], 1e-9):.4f}")


if __name__ == "__main__":
    main()
