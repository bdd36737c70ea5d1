"""Engine benchmark: path-loss evaluations per second and the default scenario end to end.

Run:  python benchmarks/bench_engine.py
Prints figures; asserts nothing. Numbers are per process (numpy ufuncs run on one core).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from simulator import load_scenario, run
from simulator.pipeline.engine import compute_fields, site_arrays
from simulator.region.grid import Grid
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_models(n_pairs=4_000_000):
    rng = np.random.default_rng(0)
    d = rng.uniform(50.0, 15_000.0, n_pairs).astype(np.float32).reshape(40, -1)
    h = np.full((40, 1), 30.0)
    print(f"path-loss model throughput, float32 distances, {n_pairs:,} cell-site pairs:")
    for name in ("free_space", "hata_1980", "cost231_hata", "rma_38901"):
        model = PathLossModel(name)
        f = 1842.5 if name == "cost231_hata" else 942.5
        t = best_of(lambda: model.loss_db(d, f, h, 1.5))
        print(f"  {name:<13} {n_pairs / t / 1e6:8.1f} million evaluations/s")


def bench_engine_tile_sizes():
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 60_000.0, 60_000.0, 100.0)
    tech = technology_catalogue()["lte_900"]
    stations = station_catalogue()
    rng = np.random.default_rng(1)
    n = 60
    sites = Sites([str(i) for i in range(n)], rng.uniform(470_000, 530_000, n),
                  rng.uniform(9_270_000, 9_330_000, n), ["ruralstar_pro"] * n,
                  np.zeros(n, bool), rng.uniform(0, 120, n))
    for name in ("hata_1980", "rma_38901"):
        model = PathLossModel(name, check_parameters=(name != "hata_1980"))
        sa = site_arrays(sites, stations, tech, model, ue_height_m=1.5, floor_dbm=-135.0,
                         max_range_m=40_000.0)
        print(f"engine, {grid.n_cells:,} cells, {n} sites, {name} "
              f"(mean reach {sa.reach_m.mean() / 1000:.1f} km):")
        for tile in (128, 256, 512):
            pairs = [0]

            def go():
                compute_fields(grid, sa, tech, model, ue_height_m=1.5, tile_size_cells=tile,
                               progress=None)

            t = best_of(go, repeat=2)
            # count evaluated cell-site pairs for this tiling
            from scipy.spatial import cKDTree

            from simulator.pipeline.engine import sites_near_tile

            tree = cKDTree(np.c_[sa.x_m, sa.y_m])
            pairs[0] = sum(len(sites_near_tile(grid, tl, sa, tree)) * tl.shape[0] * tl.shape[1]
                           for tl in grid.tiles(tile))
            print(f"  tile {tile:>4}: {t:6.2f} s, {pairs[0] / t / 1e6:6.1f} million cell-site "
                  f"pairs/s (antenna pattern and best server included), "
                  f"{grid.n_cells / t / 1e6:5.2f} million cells/s")


def bench_default_scenario():
    scenario = load_scenario(ROOT / "scenarios" / "rural-district.yaml")
    t = best_of(lambda: run(scenario), repeat=5)
    print(f"default scenario (rural-district) run(): {t:.3f} s (target < 10 s end to end)")
    dl_only = scenario.model_copy(update={"radio": scenario.radio.model_copy(
        update={"uplink": False, "interference": False})})
    t_dl = best_of(lambda: run(dl_only), repeat=5)
    print(f"  downlink only (radio.uplink and radio.interference off): {t_dl:.3f} s; with "
          f"uplink, SINR and capacity: {t:.3f} s; ratio {t / t_dl:.2f} (target <= 2)")


if __name__ == "__main__":
    bench_models()
    bench_engine_tile_sizes()
    bench_default_scenario()
