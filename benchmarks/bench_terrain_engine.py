"""Terrain engine benchmark: ITM point to point on radial profiles, mapped to the grid.

Run:  python benchmarks/bench_terrain_engine.py [--quick] [--knots 0.0625]
Prints figures; asserts nothing. Cases (issue 3):
  1. one site, 20 km radius, 30 m DEM (~1.4 million cells in the disc), ITM p2p: the
     whole site (rays, ITM on every ray sample, mapping to the cells) timed twice in the
     same process: the first run pays for fresh memory pages, the second reuses them;
  2. one site, 50 km radius, 90 m DEM, ITM p2p;
  3. 100 sites over 60 x 60 km at 90 m, ITM p2p (serial; the time for 2 cores is projected
     as half, since sites are independent tasks).
--knots is propagation.itm.delta_h_knot_fraction (0 = Delta_h for every path: exactly ITM on
every profile).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulator.pipeline.engine import site_arrays
from simulator.pipeline.engine_terrain import TerrainMethod, compute_fields_terrain, site_profile_losses
from simulator.region.grid import Grid
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue
from simulator.region.terrain import synthetic_dem

TECH = technology_catalogue()["lte_900"]
STATIONS = station_catalogue()


def one_site(radius_km: float, res_m: float, knots: float):
    half = radius_km * 1000.0
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 2 * half, 2 * half, res_m)
    dem = synthetic_dem(grid.shape, res_m, relief_m=400.0, roughness=0.3, rng=1) + 1000.0
    method = TerrainMethod("itm", itm={"delta_h_knot_fraction": knots})
    sites = Sites(["s"], [500_000.0], [9_300_000.0], ["ruralstar_pro"], [False])
    model = PathLossModel("itm_area", delta_h_m=90.0)
    sa = site_arrays(sites, STATIONS, TECH, model, ue_height_m=1.5, floor_dbm=-1e9,
                     max_range_m=half)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        fields, _ = compute_fields_terrain(grid, dem, sa, TECH, method, ue_height_m=1.5)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    geom, _, _ = site_profile_losses(dem, grid, 500_000.0, 9_300_000.0, 15.0, half, TECH,
                                     1.5, method)
    t_prof = time.perf_counter() - t0
    cells = int(np.isfinite(fields.rx_dbm).sum())
    samples = geom.n_rays * geom.n_steps
    print(f"  {radius_km:g} km at {res_m:g} m (Delta_h knots {knots:g}): {geom.n_rays} rays x "
          f"{geom.n_steps} steps = {samples:,} ray samples; ITM on all samples {t_prof:.2f} s "
          f"({samples / t_prof / 1e6:.2f} M samples/s); whole site incl. mapping to "
          f"{cells:,} cells: first {times[0]:.2f} s, again {times[1]:.2f} s "
          f"({cells / times[1] / 1e6:.2f} M cells/s)")
    return times


def many_sites(n_sites: int, size_km: float, res_m: float, knots: float):
    grid = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, size_km * 1000, size_km * 1000,
                        res_m)
    dem = synthetic_dem(grid.shape, res_m, relief_m=400.0, roughness=0.3, rng=2) + 1000.0
    rng = np.random.default_rng(3)
    h = size_km * 500.0
    sites = Sites([str(i) for i in range(n_sites)], 500_000 + rng.uniform(-h, h, n_sites),
                  9_300_000 + rng.uniform(-h, h, n_sites), ["ruralstar_pro"] * n_sites,
                  np.zeros(n_sites, bool), rng.uniform(0, 120, n_sites))
    model = PathLossModel("itm_area", delta_h_m=90.0)
    # the run's floor (threshold -115 dBm - 20 dB - 10 dB ITM slack) with a 20 km range cap
    # (propagation.max_range_km): beyond it a pole site's RSRP is far below the noise
    sa = site_arrays(sites, STATIONS, TECH, model, ue_height_m=1.5, floor_dbm=-145.0,
                     max_range_m=20_000.0)
    method = TerrainMethod("itm", itm={"delta_h_knot_fraction": knots})
    t0 = time.perf_counter()
    compute_fields_terrain(grid, dem, sa, TECH, method, ue_height_m=1.5,
                           channel=np.zeros(n_sites, np.int64))
    t = time.perf_counter() - t0
    print(f"  {n_sites} sites over {size_km:g} x {size_km:g} km at {res_m:g} m "
          f"(mean reach {sa.reach_m.mean() / 1000:.1f} km), ITM, interference on: {t:.1f} s "
          f"serial ({t / n_sites:.2f} s per site); projected on 2 cores ~{t / 2:.0f} s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller cases")
    ap.add_argument("--knots", type=float, default=0.0625,
                    help="propagation.itm.delta_h_knot_fraction")
    a = ap.parse_args()
    print("terrain engine (ITM point to point per ray sample):")
    if a.quick:
        one_site(5.0, 30.0, a.knots)
        many_sites(10, 20.0, 90.0, a.knots)
    else:
        one_site(20.0, 30.0, a.knots)
        one_site(50.0, 90.0, a.knots)
        many_sites(100, 60.0, 90.0, a.knots)
