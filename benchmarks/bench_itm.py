"""Benchmark of simulator.radio.propagation.itm (prints throughput; never asserts times).

Usage: /tmp/venv/bin/python benchmarks/bench_itm.py [--paths 100000] [--points 300] [--repeat 3]

Synthetic terrain: random-walk profiles (seeded); one run with all rows full length and one
with NaN-padded rows of random lengths (as produced by radial profile extraction).  Runs on
one core (numpy, no threads).  Prints best-of-N wall-clock and CPU (process) time; CPU time is
the more stable figure on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import time

# single core: keep BLAS (used for the small matrix products) to one thread
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from simulator.radio.propagation import itm  # noqa: E402


def synthetic_profiles(n_paths, n_points, rng, variable_length=False, dtype=np.float64):
    """Random-walk terrain [m], generated in chunks straight into an array of ``dtype``."""
    z = np.empty((n_paths, n_points), dtype=dtype)
    trend = 300.0 + 50.0 * np.sin(np.linspace(0, 6, n_points))
    for s in range(0, n_paths, 100_000):
        e = min(n_paths, s + 100_000)
        z[s:e] = np.cumsum(rng.normal(0.0, 4.0, size=(e - s, n_points)), axis=1) + trend
    n_valid = np.full(n_paths, n_points)
    if variable_length:
        n_valid = rng.integers(20, n_points + 1, size=n_paths)
        for s in range(0, n_paths, 100_000):
            e = min(n_paths, s + 100_000)
            z[s:e][np.arange(n_points)[None, :] >= n_valid[s:e, None]] = np.nan
    return z, n_valid


def best_of(fn, repeat):
    """Best wall-clock and best CPU (process) time over ``repeat`` runs [s]."""
    wall = cpu = np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--points", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                    help="dtype of the elevation array passed in (computation is float64)")
    ap.add_argument("--skip-variable", action="store_true")
    ap.add_argument("--skip-area", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(1)

    for variable in (False,) if args.skip_variable else (False, True):
        z, _ = synthetic_profiles(args.paths, args.points, rng, variable_length=variable,
                                  dtype=args.dtype)
        wall, cpu = best_of(lambda: itm.itm_p2p_loss_db(z, 30.0, 30.0, 2.0, 900.0), args.repeat)
        label = "NaN-padded, random lengths 20..N" if variable else "all full length"
        label += f", {args.dtype} input"
        print(f"p2p  {args.paths} paths x {args.points} points ({label}): "
              f"wall {wall:.3f} s -> {args.paths / wall:,.0f} paths/s; "
              f"CPU {cpu:.3f} s -> {args.paths / cpu:,.0f} paths/s")

    if args.skip_area:
        return
    n = 1_000_000
    d = rng.uniform(1e3, 200e3, n)
    dh = rng.uniform(0.0, 300.0, n)
    wall, cpu = best_of(lambda: itm.itm_area_loss_db(d, 900.0, 30.0, 2.0, dh), args.repeat)
    print(f"area {n} evaluations: wall {wall:.3f} s -> {n / wall:,.0f} evaluations/s; "
          f"CPU {cpu:.3f} s -> {n / cpu:,.0f} evaluations/s")


if __name__ == "__main__":
    main()
