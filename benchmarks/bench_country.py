"""Country-scale benchmark: tiled runs in bounded memory, Dask speed-up, ITM per-site cost.

Run:  python benchmarks/bench_country.py                 (10 and 50 million cells)
      python benchmarks/bench_country.py --cells 50e6 --dask-cells 0 --itm-sites 0 \
          --before PATH         (the 50 M case, and the same on an older checkout at PATH
                                 in the same run: ratio now / before)
      python benchmarks/bench_country.py --cells 10e6 --dask-cells 2e6 --itm-sites 4
      python benchmarks/bench_country.py --cells "" --dask-cells 0 --itm-sites 0 \
          --terrain-cells 4e6                            (tiled ITM on a terrain only)
Prints figures; asserts nothing. Each case runs in its own process, so its peak RSS
(``resource.getrusage``: the driver, and the largest Dask worker) is its own.

Cases (terrain-free, rma_38901, LTE 900, flat terrain):
* tiled serial: square region at 100 m, one RuralStar-class site per 100 km2 (1,000 sites
  for 10 million cells, 5,000 for 50 million) plus one existing macro per 5,000 km2, a
  synthetic population of 40 people per km2; the nine GeoTIFFs written tile by tile;
* Dask: the same model on a smaller region, 2 local workers against serial;
* ITM: the point-to-point terrain engine on a synthetic DEM, seconds per site, and the
  projection for the country case (5,000 sites on 2 cores);
* tiled terrain (``--terrain-cells``, off by default): a square region at 90 m on a
  synthetic DEM, ITM point to point, one RuralStar-class site per 100 km2 (range capped
  at ``--terrain-range-km``), reuse 3, the GeoTIFFs written: seconds of the site pass and
  of the tiles, seconds per site, peak RSS and peak anonymous RSS (sampled; RSS also
  counts the pages of the site pass's memmap files, which the kernel can drop), and the
  scratch disk the memmaps took.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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
    """Peak RSS of this process (VmHWM: its own address space; ru_maxrss would carry the
    parent's over fork + exec) and of its largest child [MB]."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        own = next(int(line.split()[1]) for line in open("/proc/self/status")
                   if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        pass
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def case_tiled(n_cells: float, workers: int, tile: int, rasters: bool) -> dict:
    """One run in this process; returns figures (called in a child process)."""
    from simulator.pipeline.distributed import connect, run_tiled
    from simulator.io.scenario_file import parse_scenario

    scenario = parse_scenario(country_scenario(n_cells, tile=tile))
    tmp = Path(tempfile.mkdtemp(prefix="bench-country-"))
    c0 = time.process_time()
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
            "seconds": seconds, "cpu_s": time.process_time() - c0,
            "load": os.getloadavg()[0], "cluster_start_s": t1 - t0, "rss_mb": own,
            "worker_rss_mb": kids, "timings": r.timings_s, "output_mb": size / 2**20,
            "people_covered": r.summary["people_covered"],
            "population": r.summary["population_total"]}


def case_itm(n_sites: int) -> dict:
    """Seconds per site of the ITM terrain engine (in-memory run, synthetic DEM)."""
    from simulator.io.scenario_file import parse_scenario
    from simulator.pipeline.runner import run

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


class _AnonPeak:
    """Peak ``RssAnon`` of this process (memory not backed by files) [MB], sampled."""

    def __init__(self, interval_s: float = 0.05):
        import threading

        self.peak_kb = 0
        self.since_mark_kb = None
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(interval_s,), daemon=True)

    def _read(self) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
        return 0

    def _sample(self) -> None:
        now = self._read()
        self.peak_kb = max(self.peak_kb, now)
        if self.since_mark_kb is not None:
            self.since_mark_kb = max(self.since_mark_kb, now)

    def mark(self) -> None:
        """Start a second peak from now (e.g. after the run's preparation)."""
        self.since_mark_kb = self._read()

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(interval_s)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._sample()
        return False

    @property
    def mb(self) -> float:
        return self.peak_kb / 1024


def terrain_scenario(n_cells: float, *, range_km: float, tile: int = 256) -> dict:
    """Square region of ``n_cells`` at 90 m on a synthetic DEM, ITM, 1 site per 100 km2."""
    side_km = (n_cells ** 0.5) * 0.09
    area = side_km * side_km
    data = country_scenario(1e6, tile=tile, name="country-terrain")
    data["region"].update(width_km=round(side_km, 3), height_km=round(side_km, 3),
                          resolution_m=90)
    data["population"]["synthetic"].update(total_people=int(40 * area),
                                           settlements=int(area / 25))
    data["terrain"] = {"synthetic": {"relief_m": 400, "ridges": 3}}
    data["propagation"].update(model="itm", max_range_km=range_km)
    data["radio"] = {"reuse_factor": 3}
    data["sites"] = {"existing": [{"station": "macro", "placement": "grid",
                                   "count": max(1, int(area / 5000))}],
                     "new": [{"station": "ruralstar_pro", "placement": "grid",
                              "count": int(round(area / 100))}]}
    return data


def case_tiled_terrain(n_cells: float, workers: int, range_km: float,
                       in_memory: bool = False) -> dict:
    """One tiled ITM run on a terrain in this process (called in a child process);
    ``in_memory``: the in-memory run of the same scenario instead."""
    from simulator.pipeline.distributed import connect, estimate_memory_bytes, run_tiled
    from simulator.io.scenario_file import parse_scenario
    from simulator.pipeline.runner import run

    scenario = parse_scenario(terrain_scenario(n_cells, range_km=range_km))
    tmp = Path(tempfile.mkdtemp(prefix="bench-country-terrain-"))
    try:
        with _AnonPeak() as anon:
            t0 = time.perf_counter()

            def started(done, total):
                if anon.since_mark_kb is None:     # the first site (tiled: before it)
                    anon.mark()

            if in_memory:
                r = run(scenario, progress=started)
                r.save(tmp / "out", maps=False)
                r.site_pass, r.tiles = {"where": "in-memory run"}, 0
                t = r.timings_s
                t["site_pass"] = t.get("site_pass", t["engine"] + t.get("baseline", 0.0))
                t["prepare"] = t["population"] + t["terrain"] + t["sites"]
            elif workers:
                with connect(workers=workers) as client:
                    r = run_tiled(scenario, out_dir=tmp / "out", client=client,
                                  site_progress=started)
            else:
                r = run_tiled(scenario, out_dir=tmp / "out", site_progress=started)
            seconds = time.perf_counter() - t0
        summary = (tmp / "out" / "summary.json").read_text()
        size = sum(p.stat().st_size for p in (tmp / "out").glob("*"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    own, kids = _rss_mb()
    sp = r.site_pass
    return {"cells": r.grid.n_cells, "sites": len(r.sites), "tiles": r.tiles,
            "seconds": seconds, "site_pass_s": r.timings_s.get("site_pass", 0.0),
            "tiles_s": r.timings_s.get("tiles", 0.0),
            "prepare_s": r.timings_s.get("prepare", 0.0),
            "s_per_site": sp.get("seconds_per_site",
                                 r.timings_s.get("site_pass", 0.0) / max(len(r.sites), 1)),
            "where": sp.get("where"),
            "scratch_mb": sp.get("scratch_bytes", 0) / 2**20, "rss_mb": own,
            "anon_mb": anon.mb, "anon_engine_mb": (anon.since_mark_kb or 0) / 1024,
            "worker_rss_mb": kids, "output_mb": size / 2**20, "summary": summary,
            "estimate_mb": estimate_memory_bytes(scenario, "memory" if in_memory
                                                 else "tiled") / 2**20,
            "people_covered": r.summary["people_covered"],
            "population": r.summary["population_total"],
            "line_of_sight": r.summary["people_in_line_of_sight"]}


def _child(args: list[str], pythonpath: str | None = None) -> dict:
    env = None
    if pythonpath:
        env = dict(os.environ, PYTHONPATH=str(Path(pythonpath).resolve()))
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=False, env=env)
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
    ap.add_argument("--terrain-cells", type=float, default=0.0,
                    help="cells of the tiled ITM-on-terrain case at 90 m (0 skips it)")
    ap.add_argument("--terrain-range-km", type=float, default=20.0,
                    help="propagation.max_range_km of the terrain case [km]")
    ap.add_argument("--terrain-workers", type=int, default=0,
                    help="Dask workers of the terrain case (0: serial)")
    ap.add_argument("--terrain-in-memory", action="store_true",
                    help="also run the terrain case in memory and compare summary.json")
    ap.add_argument("--workers", type=int, default=0,
                    help="local Dask workers of the --cells cases (0: serial)")
    ap.add_argument("--before", metavar="PATH",
                    help="also run the --cells cases on an older checkout at PATH (its "
                         "simulator package first on PYTHONPATH), in the same run")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind = a.child[0]
        if kind == "tiled":
            res = case_tiled(float(a.child[1]), int(a.child[2]), int(a.child[3]),
                             a.child[4] == "1")
        elif kind == "terrain":
            res = case_tiled_terrain(float(a.child[1]), int(a.child[2]), float(a.child[3]),
                                     a.child[4] == "1")
        else:
            res = case_itm(int(a.child[1]))
        print(json.dumps(res))
        return
    rasters = "0" if a.no_rasters else "1"
    if a.terrain_cells:
        print(f"ITM on a synthetic terrain, 90 m, {a.terrain_range_km:g} km range cap, "
              "reuse 3, GeoTIFFs written:")
        runs = [("tiled", "0")] + ([("in-memory", "1")] if a.terrain_in_memory else [])
        summaries = []
        for label, mem in runs:
            r = _child(["terrain", str(a.terrain_cells), str(a.terrain_workers),
                        str(a.terrain_range_km), mem])
            summaries.append(r["summary"])
            engine = "site pass" if label == "tiled" else "engine + baseline"
            print(f"  {label}, {r['where']}: {r['cells']:,} cells, {r['sites']:,} sites, "
                  f"{r['tiles']} tiles: {r['seconds']:.1f} s (prepare {r['prepare_s']:.1f} s, "
                  f"{engine} {r['site_pass_s']:.1f} s = {r['s_per_site']:.2f} s per site, "
                  f"tiles {r['tiles_s']:.1f} s)")
            print(f"    peak RSS {r['rss_mb']:,.0f} MB (counts memmap pages), peak anonymous "
                  f"RSS {r['anon_mb']:,.0f} MB, from the first site on "
                  f"{r['anon_engine_mb']:,.0f} MB; estimate {r['estimate_mb']:,.0f} MB; "
                  f"largest worker RSS {r['worker_rss_mb']:,.0f} MB; scratch memmaps "
                  f"{r['scratch_mb']:,.0f} MB; GeoTIFFs {r['output_mb']:,.0f} MB")
            digest = hashlib.sha256(r["summary"].encode()).hexdigest()[:16]
            print(f"    {r['population']:,} people, {r['people_covered']:,} covered, "
                  f"{r['line_of_sight']:,} in line of sight; summary.json sha256 {digest}")
        if len(summaries) == 2:
            same = "byte-identical" if summaries[0] == summaries[1] else "DIFFERENT"
            print(f"  summary.json tiled vs in-memory: {same}")
    cells = [float(x) for x in a.cells.split(",") if x]
    if cells:
        print(f"country-scale benchmark, terrain-free (rma_38901, LTE 900), tile {a.tile} "
              f"cells, rasters {'not ' if a.no_rasters else ''}written")
    for n in cells:
        runs = [("now", None)] + ([("before", a.before)] if a.before else [])
        figures = {}
        for label, path in runs:
            r = _child(["tiled", str(n), str(a.workers), str(a.tile), rasters], path)
            figures[label] = r
            where = f"{a.workers} Dask workers" if a.workers else "serial"
            print(f"  {label:>6}: {r['cells']:>11,} cells, {r['sites']:>5,} sites, "
                  f"{r['tiles']:>5} tiles, {where}: {r['seconds']:7.1f} s ({r['cpu_s']:.1f} s "
                  f"CPU of the driver), {r['cells'] / r['seconds'] / 1e6:5.2f} million "
                  f"cells/s, peak RSS {r['rss_mb']:,.0f} MB (largest worker "
                  f"{r['worker_rss_mb']:,.0f} MB); setup {r['timings'].get('prepare', 0):.1f} "
                  f"s, tiles {r['timings'].get('tiles', 0):.1f} s; {r['population']:,} "
                  f"people, {r['people_covered']:,} covered; GeoTIFFs "
                  f"{r['output_mb']:,.0f} MB; load average {r['load']:.1f}")
        if "before" in figures:
            o, r = figures["before"], figures["now"]
            same = "same" if (o["people_covered"], o["population"]) == (
                r["people_covered"], r["population"]) else "DIFFERENT"
            print(f"  now / before: time {r['seconds'] / o['seconds']:.2f}, driver CPU "
                  f"{r['cpu_s'] / o['cpu_s']:.2f}, peak RSS {r['rss_mb'] / o['rss_mb']:.2f}; "
                  f"people covered {same}")
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
