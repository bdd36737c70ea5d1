"""Benchmark: radial terrain profiles, mapping back to the grid, LOS and knife-edge losses.

Prints figures only (never asserts a time). Run:

    /tmp/venv/bin/python benchmarks/bench_terrain.py

One site in the middle of a synthetic 30 m DEM, 20 km radius.
"""

from __future__ import annotations

import time

import numpy as np

from simulator.radio.propagation.diffraction import bullington_loss_db, deygout_loss_db
from simulator.region.terrain import line_of_sight, radial_profiles, rays_to_grid, synthetic_dem


def best_of(fn, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    res = 30.0
    radius = 20_000.0
    n = int(np.ceil(2 * radius / res)) + 2
    shape = (n, n)
    x0, y0 = 500_000.0, 4_000_000.0
    site = (x0 + n * res / 2, y0 - n * res / 2)

    t_dem, dem = best_of(lambda: synthetic_dem(shape, res, relief_m=400.0, ridges=2, valleys=1,
                                               rng=1), repeat=1)
    print(f"synthetic_dem {shape[0]}x{shape[1]} @ {res:g} m: {t_dem:.2f} s")

    t_rp, (elev, geom) = best_of(lambda: radial_profiles(dem, site, x0, y0, res,
                                                         radius_m=radius))
    n_samples = geom.n_rays * geom.n_steps
    print(f"radial_profiles: {geom.n_rays} rays x {geom.n_steps} steps = {n_samples:,} samples "
          f"in {t_rp:.3f} s -> {n_samples / t_rp:,.0f} samples/s")

    t_los, los = best_of(lambda: line_of_sight(elev, geom.distance_m, tx_height_m=30.0,
                                               rx_height_m=1.5))
    print(f"line_of_sight: {t_los:.3f} s -> {n_samples / t_los:,.0f} samples/s "
          f"({los.mean():.1%} of samples in LOS)")

    t_rg, grid = best_of(lambda: rays_to_grid(los.astype(np.float32), geom, x0, y0, res, shape))
    n_cells = int(np.isfinite(grid).sum())
    print(f"rays_to_grid: {n_cells:,} cells in {t_rg:.3f} s -> {n_cells / t_rg:,.0f} cells/s")
    total = t_rp + t_rg
    print(f"radial_profiles + rays_to_grid: {total:.3f} s -> {n_samples / total:,.0f} "
          "ray samples/s")

    # knife-edge losses on whole rays (site -> 20 km), 668-point profiles
    for func in (bullington_loss_db, deygout_loss_db):
        batch = elev[:1000]
        t, loss = best_of(lambda: func(batch, res, 30.0, 1.5, 900.0))
        print(f"{func.__name__}: {batch.shape[0]} paths x {batch.shape[1]} points in "
              f"{t:.3f} s -> {batch.shape[0] / t:,.0f} paths/s (median loss "
              f"{np.median(loss):.1f} dB)")
    short = elev[:2000, :101]  # 3 km paths, 101 points
    for func in (bullington_loss_db, deygout_loss_db):
        t, _ = best_of(lambda: func(short, res, 30.0, 1.5, 900.0))
        print(f"{func.__name__}: {short.shape[0]} paths x {short.shape[1]} points in "
              f"{t:.3f} s -> {short.shape[0] / t:,.0f} paths/s")


if __name__ == "__main__":
    main()
