"""Country-scale benchmark: tiled runs in bounded memory, Dask speed-up, ITM per-site cost.

Run:  python benchmarks/bench_country.py                 (10 and 50 million cells)
      python benchmarks/bench_country.py --cells 10e6 --dask-cells 2e6 --itm-sites 4
Prints figures; asserts nothing. Each case runs in its own process, so its peak RSS
(``resource.getrusage``: the driver, and the largest Dask worker) is its own.

Cases (terrain-free, rma_38901, LTE 900, flat terrain):
* tiled serial: square region at 100 m, one RuralStar-class site per 100 km2 (1,000 sites
  for 10 million cells, 5,000 for 50 million) plus one existing macro per 5,000 km2, a
  synthetic population of 40 people per km2; the nine GeoTIFFs written tile by tile;
* Dask: the same model on a smaller region, 2 local workers against serial;
* ITM: the point-to-point terrain engine on a synthetic DEM, seconds per site, and the
  projection for the country case (5,000 sites on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def country_scenario(n_cells: float, *, sites_per_100km2: float = 1.0, tile: int = 256,
                     name: str = "country") -> dict:
    side_km = (n_cells ** 0.5) * 0.1
    area = side_km * side_km
    return {
        "name": name, "seed": 11,
        "region": {"centre_lon_lat": [-1.0, 8.0], "width_km": round(side_km, 3),
                   "height_km": round(side_km, 3), "resolution_m": 100,
                   "tile_size_cells": tile},
        "population": {"synthetic": {"total_people": int(40 * area),
                                     "settlements": int(area / 25),
                                     "cluster_radius_km": 8}},
        "technology": "lte_900",
        "propagation": {"model": "rma_38901", "shadowing_sigma_db": 8},
        "sites": {"existing": [{"station": "macro", "placement": "grid",
                                "count": max(1, int(area / 5000))}],
                  "new": [{"station": "ruralstar_pro", "placement": "grid",
                           "count": int(round(area / 100 * sites_per_100km2))}]},
        "outputs": {"maps": False, "report": False},
    }


def _rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def case_tiled(n_cells: float, workers: int, tile: int, rasters: bool) -> dict:
    """One run in this process; returns figures (called in a child process)."""
    from simulator.distributed import connect, run_tiled
    from simulator.io.scenario_file import parse_scenario

    scenario = parse_scenario(country_scenario(n_cells, tile=tile))
    tmp = Path(tempfile.mkdtemp(prefix="bench-country-"))
    try:
        t0 = time.perf_counter()
        if workers:
            with connect(workers=workers) as client:
                t1 = time.perf_counter()
                r = run_tiled(scenario, out_dir=tmp / "out" if rasters else None,
                              client=client)
                seconds = time.perf_counter() - t1
        else:
            t1 = t0
            r = run_tiled(scenario, out_dir=tmp / "out" if rasters else None)
            seconds = time.perf_counter() - t1
        size = sum(p.stat().st_size for p in (tmp / "out").glob("*")) if rasters else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    own, kids = _rss_mb()
    return {"cells": r.grid.n_cells, "sites": len(r.sites), "tiles": r.tiles,
            "seconds": seconds, "cluster_start_s": t1 - t0, "rss_mb": own,
            "worker_rss_mb": kids, "timings": r.timings_s, "output_mb": size / 2**20,
            "people_covered": r.summary["people_covered"],
            "population": r.summary["population_total"]}


def case_itm(n_sites: int) -> dict:
    """Seconds per site of the ITM terrain engine (in-memory run, synthetic DEM)."""
    from simulator.io.scenario_file import parse_scenario
    from simulator.runner import run

    data = country_scenario(16e6 / 100, name="itm")  # 40 x 40 km
    data["region"].update(width_km=40, height_km=40)
    data["terrain"] = {"synthetic": {"relief_m": 300}}
    data["propagation"]["model"] = "itm"
    data["sites"] = {"new": [{"station": "ruralstar_pro", "placement": "grid",
                              "count": n_sites}]}
    r = run(parse_scenario(data))
    own, _ = _rss_mb()
    return {"sites": n_sites, "engine_s": r.timings_s["engine"],
            "s_per_site": r.timings_s["engine"] / n_sites, "rss_mb": own}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=False)
    if out.returncode:
        raise SystemExit(f"case {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cells", default="10e6,50e6",
                    help="comma-separated cell counts of the serial tiled cases")
    ap.add_argument("--tile", type=int, default=256, help="tile side [cells]")
    ap.add_argument("--no-rasters", action="store_true", help="do not write the GeoTIFFs")
    ap.add_argument("--dask-cells", type=float, default=4e6,
                    help="cells of the Dask-vs-serial case (0 skips it)")
    ap.add_argument("--itm-sites", type=int, default=4, help="sites of the ITM case (0 skips)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind = a.child[0]
        if kind == "tiled":
            res = case_tiled(float(a.child[1]), int(a.child[2]), int(a.child[3]),
                             a.child[4] == "1")
        else:
            res = case_itm(int(a.child[1]))
        print(json.dumps(res))
        return
    rasters = "0" if a.no_rasters else "1"
    print(f"country-scale benchmark, terrain-free (rma_38901, LTE 900), tile {a.tile} cells, "
          f"rasters {'not ' if a.no_rasters else ''}written")
    for n in [float(x) for x in a.cells.split(",") if x]:
        r = _child(["tiled", str(n), "0", str(a.tile), rasters])
        print(f"  {r['cells']:>11,} cells, {r['sites']:>5,} sites, {r['tiles']:>5} tiles: "
              f"{r['seconds']:7.1f} s, {r['cells'] / r['seconds'] / 1e6:5.2f} million cells/s, "
              f"peak RSS {r['rss_mb']:,.0f} MB; setup {r['timings'].get('prepare', 0):.1f} s, "
              f"tiles {r['timings'].get('tiles', 0):.1f} s; {r['population']:,} people, "
              f"{r['people_covered']:,} covered; GeoTIFFs {r['output_mb']:,.0f} MB")
    if a.dask_cells:
        s = _child(["tiled", str(a.dask_cells), "0", str(a.tile), "0"])
        d = _child(["tiled", str(a.dask_cells), "2", str(a.tile), "0"])
        same = "equal" if s["people_covered"] == d["people_covered"] else "DIFFERENT"
        print(f"Dask LocalCluster, 2 workers vs serial, {s['cells']:,} cells, {s['sites']:,} "
              f"sites (no rasters):")
        print(f"  serial {s['seconds']:.1f} s, 2 workers {d['seconds']:.1f} s (+ "
              f"{d['cluster_start_s']:.1f} s cluster start): speed-up "
              f"{s['seconds'] / d['seconds']:.2f}x; driver RSS {d['rss_mb']:,.0f} MB, largest "
              f"worker RSS {d['worker_rss_mb']:,.0f} MB; people covered {same}")
    if a.itm_sites:
        r = _child(["itm", str(a.itm_sites)])
        proj = 5000 * r["s_per_site"] / 2
        print(f"ITM terrain engine (point to point, 40 x 40 km synthetic DEM at 100 m, "
              f"{r['sites']} sites): {r['s_per_site']:.2f} s per site; country case "
              f"(5,000 sites, 2 cores, perfect scaling): about {proj / 60:.0f} min "
              f"({proj / 3600:.1f} h)")


if __name__ == "__main__":
    main()
