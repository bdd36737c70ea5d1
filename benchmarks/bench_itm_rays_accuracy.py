"""Accuracy and cost of the Delta_h knots of ITM along rays (docs/models.md table).

Run:  python benchmarks/bench_itm_rays_accuracy.py [--paths 4000]
Prints, for several ``propagation.itm.delta_h_knot_fraction`` values, the difference from
ITM evaluated on each full-resolution profile on its own (``itm_p2p_loss_db``, which
reproduces NTIA's reference outputs), and the time of ITM on every sample of the fan.
Case: one 15 m site, 20 km of rays at 30 m on a synthetic 400 m-relief DEM, handset 1.5 m,
900 MHz. Asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulator.pipeline.engine_terrain import _thinned_samples
from simulator.region.grid import Grid
from simulator.radio.propagation.itm import itm_p2p_loss_db, itm_p2p_rays_loss_db
from simulator.region.terrain import radial_profiles, synthetic_dem


def main(n_paths: int):
    half, res = 20_000.0, 30.0
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 2 * half, 2 * half, res)
    dem = synthetic_dem(grid.shape, res, relief_m=400.0, roughness=0.3, rng=1) + 1000.0
    elev, _ = radial_profiles(dem, (500_000.0, 9_300_000.0), grid.x_min_m, grid.y_max_m, res,
                              radius_m=half * 0.99, step_m=res)
    n_rays, n_steps = elev.shape
    rng = np.random.default_rng(0)
    # paths drawn like cells: uniform over the disc (step probability ~ distance)
    steps = np.minimum((np.sqrt(rng.random(n_paths)) * (n_steps - 1)).astype(int) + 1,
                       n_steps - 1)
    rays = rng.integers(0, n_rays, n_paths)
    prof = np.full((n_paths, n_steps), np.nan)
    for i, (r, j) in enumerate(zip(rays, steps)):
        prof[i, :j + 1] = elev[r, :j + 1]
    t0 = time.perf_counter()
    ref = itm_p2p_loss_db(prof, res, 15.0, 1.5, 900.0)
    t_ref = time.perf_counter() - t0
    all_rays, all_steps, _ = _thinned_samples(n_rays, n_steps)
    print(f"{n_rays} rays x {n_steps} steps at {res:g} m; {n_paths} paths compared with ITM on "
          f"each profile ({t_ref / n_paths * 1e6:.0f} us per path alone)")
    print("knot fraction | median / 95th / 99th pct / max abs. difference [dB] | "
          f"ITM on the fan's {all_rays.size:,} evaluated samples, wall (CPU) [s]")
    for knots in (0.0, 1 / 32, 1 / 16, 1 / 8, 1 / 4):
        got = itm_p2p_rays_loss_db(elev, res, 15.0, 1.5, 900.0, rays=rays, steps=steps,
                                   delta_h_knot_fraction=knots)
        err = np.abs(got - ref)
        t0, c0 = time.perf_counter(), time.process_time()
        itm_p2p_rays_loss_db(elev, res, 15.0, 1.5, 900.0, rays=all_rays, steps=all_steps,
                             delta_h_knot_fraction=knots)
        t, c = time.perf_counter() - t0, time.process_time() - c0
        print(f"  {knots:8.4f}   | {np.median(err):.3f} / {np.percentile(err, 95):.3f} / "
              f"{np.percentile(err, 99):.3f} / {err.max():.2f} | {t:.2f} (CPU {c:.2f})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=4000)
    main(ap.parse_args().paths)
