"""Benchmark of simulator.planning.optimise on a synthetic district (prints figures, asserts nothing).

Instance mimicking the target: a 100 km x 60 km district at 100 m cells (600,000 cells),
500,000 people (85% in ~400 villages, 15% dispersed), 2,000 candidate sites each covering a
disc of radius 3-6 km, costs 15,000-45,000 USD.

- greedy for 200 sites over the 2,000 candidates (cardinality), and a cost-budget run;
- ILP to proven optimality (``mip_rel_gap=0``) on 300 candidates, twice: 300 of the 2,000 at
  random (little overlap), and 300 clustered in 30 km x 30 km (heavy overlap, harder); for
  max_sites and for a cost budget; greedy on the same candidates for comparison.
- ``--ilp-all``: the ILP on all 2,000 candidates with the time limit (not solved in 60 s).

Run::

    /tmp/venv/bin/python benchmarks/bench_optimise.py [--seed 0] [--ilp-sites 30] [--ilp-all]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from simulator.planning.optimise import aggregate_cells, greedy_max_coverage, ilp_max_coverage

WIDTH_M, HEIGHT_M, RES_M = 100_000.0, 60_000.0, 100.0


def synthetic_population(rng, n_rows, n_cols, total_people=500_000, n_villages=400,
                         dispersed_share=0.15):
    """People per cell: Gaussian villages (sigma 150-500 m) plus uniform dispersed people."""
    sizes = rng.lognormal(mean=0.0, sigma=1.0, size=n_villages)
    village_people = np.round(sizes / sizes.sum() * total_people * (1 - dispersed_share))
    centres = rng.uniform([0, 0], [WIDTH_M, HEIGHT_M], size=(n_villages, 2))
    sigma = rng.uniform(150, 500, n_villages)
    counts = np.zeros(n_rows * n_cols)
    for (x, y), s, n in zip(centres, sigma, village_people.astype(int)):
        pts = rng.normal([x, y], s, size=(n, 2))
        j = np.clip((pts[:, 0] // RES_M).astype(int), 0, n_cols - 1)
        i = np.clip(((HEIGHT_M - pts[:, 1]) // RES_M).astype(int), 0, n_rows - 1)
        counts += np.bincount(i * n_cols + j, minlength=n_rows * n_cols)
    n_disp = int(total_people - village_people.sum())
    counts += np.bincount(rng.integers(0, n_rows * n_cols, n_disp), minlength=n_rows * n_cols)
    return counts, centres


def disc_coverage(xy, radius_m, n_rows, n_cols):
    """CSR coverage (candidates x cells) of discs, by per-candidate index arithmetic.

    Cell (i, j) has its centre at x = (j + 0.5) * res, y = H - (i + 0.5) * res (north-up).
    """
    indptr = np.zeros(len(xy) + 1, dtype=np.int64)
    parts = []
    for k, ((x, y), r) in enumerate(zip(xy, radius_m)):
        j0, j1 = max(0, int((x - r) // RES_M)), min(n_cols - 1, int((x + r) // RES_M))
        i0 = max(0, int((HEIGHT_M - y - r) // RES_M))
        i1 = min(n_rows - 1, int((HEIGHT_M - y + r) // RES_M))
        jj = np.arange(j0, j1 + 1)
        ii = np.arange(i0, i1 + 1)
        dx = (jj + 0.5) * RES_M - x
        dy = (HEIGHT_M - (ii + 0.5) * RES_M) - y
        inside = dx[None, :] ** 2 + dy[:, None] ** 2 <= r * r
        ri, rj = np.nonzero(inside)  # row-major: flat indices come out sorted
        parts.append(((ii[ri] * n_cols) + jj[rj]).astype(np.int32))
        indptr[k + 1] = indptr[k] + parts[-1].size
    indices = np.concatenate(parts)
    A = sp.csr_array((np.ones(indices.size, dtype=bool), indices, indptr),
                     shape=(len(xy), n_rows * n_cols))
    A.has_sorted_indices = True
    return A


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--greedy-sites", type=int, default=200)
    ap.add_argument("--ilp-candidates", type=int, default=300)
    ap.add_argument("--ilp-sites", type=int, default=30)
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--ilp-all", action="store_true",
                    help="also run the ILP on all 2000 candidates (hits the time limit)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n_rows, n_cols = int(HEIGHT_M / RES_M), int(WIDTH_M / RES_M)

    t = time.perf_counter()
    people, _ = synthetic_population(rng, n_rows, n_cols)
    existing = np.zeros(n_rows * n_cols, dtype=bool)  # no existing sites in this instance
    xy = rng.uniform([0, 0], [WIDTH_M, HEIGHT_M], size=(2000, 2))
    radius_m = rng.uniform(3000, 6000, 2000)
    costs = rng.uniform(15_000, 45_000, 2000)
    t_pop = time.perf_counter() - t
    t = time.perf_counter()
    A = disc_coverage(xy, radius_m, n_rows, n_cols)
    t_build = time.perf_counter() - t
    print(f"instance: {n_rows}x{n_cols} = {n_rows * n_cols:,} cells, {people.sum():,.0f} people, "
          f"{A.shape[0]} candidates, nnz={A.nnz:,} ({A.nnz / A.shape[0]:.0f} cells/candidate)")
    print(f"  population {t_pop:.2f} s, coverage matrix build {t_build:.2f} s")

    g = greedy_max_coverage(A, people, costs, max_sites=args.greedy_sites,
                            already_covered=existing)
    print(f"greedy {args.greedy_sites} sites (of 2000): {g.solve_time_s:.2f} s, "
          f"{g.people_covered:,.0f} people ({g.people_covered / people.sum():.1%}), "
          f"{g.cost_usd:,.0f} USD; first gains {g.marginal_people[:3].round()}, "
          f"last {g.marginal_people[-1]:.0f}")
    budget = 100 * 30_000.0
    gb = greedy_max_coverage(A, people, costs, budget_usd=budget)
    print(f"greedy budget {budget:,.0f} USD (of 2000): {gb.solve_time_s:.2f} s, "
          f"{gb.n_sites} sites, {gb.people_covered:,.0f} people, {gb.cost_usd:,.0f} USD, "
          f"method {gb.method}")

    sub = np.sort(rng.choice(2000, size=args.ilp_candidates, replace=False))
    xy_c = rng.uniform([35_000, 15_000], [65_000, 45_000], size=(args.ilp_candidates, 2))
    A_clustered = disc_coverage(xy_c, rng.uniform(3000, 6000, args.ilp_candidates),
                                n_rows, n_cols)
    cases = [(f"{args.ilp_candidates} of the 2000 at random", A[sub], costs[sub]),
             (f"{args.ilp_candidates} new ones clustered in 30 km x 30 km", A_clustered,
              rng.uniform(15_000, 45_000, args.ilp_candidates))]
    if args.ilp_all:
        cases.append(("all 2000 candidates", A, costs))
    for label, A_sub, sub_costs in cases:
        t = time.perf_counter()
        B, _, _ = aggregate_cells(A_sub, people)
        print(f"ILP on {label}: cells {A_sub.shape[1]:,} -> {B.shape[1]:,} groups after "
              f"aggregation ({time.perf_counter() - t:.2f} s)")
        budget = args.ilp_sites * 30_000.0
        for kw in ({"max_sites": args.ilp_sites}, {"budget_usd": budget}):
            c = sub_costs if "budget_usd" in kw else None
            g = greedy_max_coverage(A_sub, people, c, **kw)
            r = ilp_max_coverage(A_sub, people, c, time_limit_s=args.time_limit_s, **kw)
            what = (f"max_sites={args.ilp_sites}" if "max_sites" in kw
                    else f"budget {budget:,.0f} USD")
            print(f"  {what}: ILP {r.solve_time_s:.2f} s, optimal={r.optimal}, gap={r.gap:.2e},"
                  f" time limit hit={r.time_limit_reached}, nodes={r.extra.get('mip_node_count')},"
                  f" method={r.method}")
            print(f"    status: {r.status}")
            print(f"    ILP {r.people_covered:,.0f} people, {r.n_sites} sites (bound "
                  f"{r.objective_bound:,.0f}); greedy {g.people_covered:,.0f} people, "
                  f"{g.n_sites} sites ({g.solve_time_s:.3f} s); greedy/ILP = "
                  f"{g.people_covered / r.people_covered:.4f}")

if __name__ == "__main__":
    main()
