"""Engine benchmark: path-loss kernels, the engine against the bare Hata kernel, and the
default scenario end to end, with ratios against baselines measured in the same run.

Run:  python benchmarks/bench_engine.py [--before PATH]
Prints figures; asserts nothing. Numbers are per process (numpy ufuncs run on one core).

* path-loss kernels: evaluations per second of each area model on 4 M float32 distances;
* the engine (:func:`simulator.pipeline.engine.compute_fields`: distance, path loss,
  3GPP antenna pattern, reach, best server) on 360,000 cells and 60 sites, in cell-site
  pairs per second, and its **ratio to the bare Hata kernel of the same run**. Pairs are
  counted two ways: those of the tiling (nearby sites x tile cells, what earlier versions
  evaluated) and those within each site's reach (the work that decides the result);
* the default scenario (rural-district) end to end, and ``--before PATH``: the same in a
  child process on an older checkout (``git worktree add PATH <commit>``, or
  ``git archive <commit> | tar -x -C PATH``), for the ratio before / after measured in
  the same run (the in-memory run used to make a second engine pass for the existing
  sites alone; the baseline now comes out of the main pass).

Times are the best of several repeats; the ratios use CPU time of this process
(``time.process_time``), which other users' load on a shared machine disturbs much less
than wall time (both are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def best_of(fn, repeat=3):
    """(best wall [s], best CPU [s]) over ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def bench_models(n_pairs=4_000_000) -> dict:
    from simulator.radio.propagation.models import PathLossModel

    rng = np.random.default_rng(0)
    d = rng.uniform(50.0, 15_000.0, n_pairs).astype(np.float32).reshape(40, -1)
    h = np.full((40, 1), 30.0)
    print(f"path-loss model throughput, float32 distances, {n_pairs:,} cell-site pairs "
          "(wall; CPU):")
    rates = {}
    for name in ("free_space", "hata_1980", "cost231_hata", "rma_38901"):
        model = PathLossModel(name, check_parameters=(name != "hata_1980"))
        f = 1842.5 if name == "cost231_hata" else 942.5
        wall, cpu = best_of(lambda: model.loss_db(d, f, h, 1.5), repeat=5)
        rates[name] = n_pairs / cpu
        print(f"  {name:<13} {n_pairs / wall / 1e6:8.1f} million evaluations/s "
              f"({n_pairs / cpu / 1e6:.1f} M/s CPU)")
    return rates


def bench_engine_tile_sizes(kernel: dict) -> None:
    from scipy.spatial import cKDTree

    from simulator.pipeline.engine import compute_fields, site_arrays, sites_near_tile
    from simulator.radio.propagation.models import PathLossModel
    from simulator.radio.stations import Sites, station_catalogue, technology_catalogue
    from simulator.region.grid import Grid

    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 60_000.0, 60_000.0, 100.0)
    tech = technology_catalogue()["lte_900"]
    stations = station_catalogue()
    rng = np.random.default_rng(1)
    n = 60
    sites = Sites([str(i) for i in range(n)], rng.uniform(470_000, 530_000, n),
                  rng.uniform(9_270_000, 9_330_000, n), ["ruralstar_pro"] * n,
                  np.zeros(n, bool), rng.uniform(0, 120, n))
    xc, yc = np.meshgrid(grid.x_centres(0, grid.ncols), grid.y_centres(0, grid.nrows))
    for name in ("hata_1980", "rma_38901"):
        model = PathLossModel(name, check_parameters=(name != "hata_1980"))
        sa = site_arrays(sites, stations, tech, model, ue_height_m=1.5, floor_dbm=-135.0,
                         max_range_m=40_000.0)
        tree = cKDTree(np.c_[sa.x_m, sa.y_m])
        in_reach = sum(int((np.hypot(xc - sa.x_m[k], yc - sa.y_m[k]) <= sa.reach_m[k]).sum())
                       for k in range(n))
        print(f"engine, {grid.n_cells:,} cells, {n} sites, {name} (mean reach "
              f"{sa.reach_m.mean() / 1000:.1f} km; {in_reach:,} cell-site pairs within "
              "reach); ratio to the bare Hata kernel above, CPU time:")
        for tile in (128, 256, 512):
            wall, cpu = best_of(lambda: compute_fields(grid, sa, tech, model, ue_height_m=1.5,
                                                       tile_size_cells=tile), repeat=2)
            tiling = sum(len(sites_near_tile(grid, tl, sa, tree)) * tl.shape[0] * tl.shape[1]
                         for tl in grid.tiles(tile))
            print(f"  tile {tile:>4}: {wall:6.2f} s ({cpu:.2f} s CPU); pairs of the tiling "
                  f"{tiling / cpu / 1e6:6.1f} M/s = {tiling / cpu / kernel['hata_1980']:.2f}x "
                  f"Hata; pairs within reach {in_reach / cpu / 1e6:6.1f} M/s = "
                  f"{in_reach / cpu / kernel['hata_1980']:.2f}x Hata "
                  "(antenna pattern and best server included)")


def default_scenario_figures(repeat: int = 5) -> dict:
    from simulator import load_scenario, run

    scenario = load_scenario(ROOT / "scenarios" / "rural-district.yaml")
    out = {}
    for label, s in (("full", scenario), ("dl_only", scenario.model_copy(update={
            "radio": scenario.radio.model_copy(update={"uplink": False,
                                                        "interference": False})}))):
        times = []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            r = run(s)
            times.append((time.perf_counter() - t0, time.process_time() - c0,
                          r.timings_s.get("engine", 0.0) + r.timings_s.get("baseline", 0.0),
                          r.timings_s.get("baseline", 0.0)))
        wall, cpu, engine, base = min(times, key=lambda t: t[1])
        out[label] = {"wall": wall, "cpu": cpu, "engine": engine, "baseline": base,
                      "people_covered": r.summary["people_covered"]}
    return out


def bench_default_scenario(before: str | None) -> None:
    now = default_scenario_figures()
    old = None
    if before:
        env = dict(os.environ, PYTHONPATH=str(Path(before).resolve()))
        proc = subprocess.run([sys.executable, __file__, "--child-default"], env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"--before {before} failed:\n{proc.stderr[-2000:]}")
        old = json.loads(proc.stdout.strip().splitlines()[-1])
    f = now["full"]
    print(f"default scenario (rural-district) run(): {f['wall']:.3f} s ({f['cpu']:.3f} s CPU; "
          f"engine incl. baseline {f['engine']:.3f} s, of which a separate baseline pass "
          f"{f['baseline']:.3f} s); target < 10 s end to end")
    d = now["dl_only"]
    print(f"  downlink only (radio.uplink and radio.interference off): {d['cpu']:.3f} s CPU; "
          f"with uplink, SINR and capacity: {f['cpu']:.3f} s; ratio "
          f"{f['cpu'] / d['cpu']:.2f} (target <= 2)")
    if old is not None:
        o = old["full"]
        same = "same" if o["people_covered"] == f["people_covered"] else "DIFFERENT"
        print(f"  before ({before}): {o['wall']:.3f} s ({o['cpu']:.3f} s CPU; engine "
              f"{o['engine'] - o['baseline']:.3f} s + baseline pass {o['baseline']:.3f} s); "
              f"now / before: {f['cpu'] / o['cpu']:.2f} (CPU), engine incl. baseline "
              f"{f['engine'] / o['engine']:.2f}; people covered {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", metavar="PATH",
                    help="an older checkout: its default scenario run, in the same run")
    ap.add_argument("--child-default", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_default:
        print(json.dumps(default_scenario_figures()))
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    kernel = bench_models()
    bench_engine_tile_sizes(kernel)
    bench_default_scenario(a.before)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
