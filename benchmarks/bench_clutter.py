"""Clutter benchmark: what the clutter layer costs a run, against the same run without it.

Run:  python benchmarks/bench_clutter.py                  (rural-district, 120,000 cells)
      python benchmarks/bench_clutter.py --size-km 80 --repeat 3
Prints figures; asserts nothing. Check ``uptime`` first: the ratios are measured in the
same process, one after the other, so a load that changes during the run shows in them.

Cases (in memory, rma_38901, LTE 900, flat terrain, the scenarios/rural-district.yaml
sites and people on a square region of ``--size-km``):
* baseline: no clutter;
* synthetic clutter: ``clutter: synthetic`` (building the layer, the loss in the fields, the
  second serving pass without it for the "decided by clutter" split);
* the same tiled (``run_tiled`` without an output folder), against the tiled baseline.
Also the time to build the synthetic layer alone (``make_clutter``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _scenario(size_km: float, clutter: bool, tmp: Path):
    from simulator.io.scenario_file import load_scenario

    data = yaml.safe_load((ROOT / "scenarios" / "rural-district.yaml").read_text())
    area = size_km * size_km
    data["region"].update(width_km=size_km, height_km=size_km)
    data["population"]["synthetic"].update(total_people=int(50 * area),
                                           settlements=max(3, int(area / 27)))
    data["sites"]["new"][0]["count"] = max(1, int(area / 60))
    data["outputs"] = {"maps": False, "report": False}
    if clutter:
        data["clutter"] = "synthetic"
    p = tmp / f"bench-{'c' if clutter else 'n'}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(p)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    import tempfile

    from simulator.pipeline.clutter import make_clutter
    from simulator.pipeline.distributed import run_tiled
    from simulator.pipeline.runner import prepare, run

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-km", type=float, default=34.64, help="region side [km]")
    ap.add_argument("--repeat", type=int, default=2, help="runs per case (best kept)")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        base, clut = _scenario(args.size_km, False, tmp), _scenario(args.size_km, True, tmp)
        pre = prepare(clut)
        cells = pre.grid.n_cells
        t_layer = _best(lambda: make_clutter(clut, pre.grid, pre.population, pre.region_mask,
                                             pre.technology), args.repeat)
        t0 = _best(lambda: run(base), args.repeat)
        t1 = _best(lambda: run(clut), args.repeat)
        t2 = _best(lambda: run_tiled(base), args.repeat)
        t3 = _best(lambda: run_tiled(clut), args.repeat)
        r0, r1 = run(base).summary, run(clut).summary
    print(f"{cells:,} cells, {r0['sites_total']} sites, best of {args.repeat}")
    print(f"synthetic clutter layer alone  {t_layer:7.2f} s")
    print(f"in memory   no clutter {t0:7.2f} s   clutter {t1:7.2f} s   ratio {t1 / t0:5.2f}")
    print(f"tiled       no clutter {t2:7.2f} s   clutter {t3:7.2f} s   ratio {t3 / t2:5.2f}")
    print(f"people covered: {r0['people_covered']:,} without, {r1['people_covered']:,} with "
          f"clutter ({r1['clutter']['people_not_covered_because_of_clutter']:,} decided by it)")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
