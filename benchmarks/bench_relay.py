"""Relay-chain benchmark: time of ``simulator.programme.relay.backhaul_tree`` over a DEM.

Run:  python benchmarks/bench_relay.py                       (2,000 sites, 50 donors, LOS)
      python benchmarks/bench_relay.py --method itm
      python benchmarks/bench_relay.py --sites 5000 --donors 100 --size-km 150
Prints figures; asserts nothing.

Case: a square synthetic DEM (``synthetic_dem``, 300 m of relief, 2 ridges) of ``--size-km``
at ``--res-m``; new 15 m poles and existing 40 m macros at uniform random positions (seed
1); busy-hour demand 2-15 Mbit/s per pole; the catalogue's ``backhaul`` and
``relay_chain`` sections; no fibre nodes. The DEM and positions are built before the clock
starts; the time is the best of ``--repeat`` calls.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--donors", type=int, default=50)
    ap.add_argument("--size-km", type=float, default=100.0)
    ap.add_argument("--res-m", type=float, default=50.0)
    ap.add_argument("--method", choices=("los_fresnel", "itm"), default="los_fresnel")
    ap.add_argument("--max-neighbours", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()

    from simulator.business.economics import load_cost_catalogue
    from simulator.programme.relay import backhaul_tree
    from simulator.region.terrain import synthetic_dem

    rng = np.random.default_rng(1)
    side = a.size_km * 1000.0
    cells = round(side / a.res_m)
    t0 = time.perf_counter()
    dem = synthetic_dem((cells, cells), a.res_m, relief_m=300.0, ridges=2, rng=rng)
    t_dem = time.perf_counter() - t0
    sites = rng.uniform(0.0, side, size=(a.sites, 2))
    donors = rng.uniform(0.0, side, size=(a.donors, 2))
    demand = rng.uniform(2.0, 15.0, size=a.sites)
    cat = load_cost_catalogue()
    rc = cat["relay_chain"]
    params = {**cat["backhaul"], **rc}
    best = np.inf
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        tree = backhaul_tree(
            sites, 15.0, demand, can_donate=True,
            site_capacity_mbps=rc["donor_capacity_mbps"]["ruralstar_pro"],
            donor_xy_m=donors, donor_height_m=40.0,
            donor_capacity_mbps=rc["donor_capacity_mbps"]["macro"], params=params,
            dem=dem, dem_origin_m=(0.0, side), dem_resolution_m=a.res_m,
            method=a.method, max_neighbours=a.max_neighbours)
        best = min(best, time.perf_counter() - t0)
    links, counts = np.unique(tree.link, return_counts=True)
    hops, hcounts = np.unique(tree.hops, return_counts=True)
    print(f"DEM {cells} x {cells} at {a.res_m:g} m ({a.size_km:g} km), built in {t_dem:.1f} s")
    print(f"backhaul_tree: {a.sites} sites, {a.donors} donors, method={a.method}, "
          f"max_neighbours={a.max_neighbours}: {best:.2f} s (best of {a.repeat})")
    print("links:", dict(zip(links.tolist(), counts.tolist())))
    print("hops:", dict(zip(hops.tolist(), hcounts.tolist())))
    print(f"overloaded as built: {int(tree.overload_found.sum())}, upgraded: "
          f"{int((tree.upgrade != '').sum())}, still exceeded: "
          f"{int(tree.capacity_exceeded.sum())}")


if __name__ == "__main__":
    main()
