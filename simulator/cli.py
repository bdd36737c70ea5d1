"""The ``ruralsim`` command line: run, validate, compare, plan, make-samples.

A user's mistake (bad YAML, unknown key, missing file, impossible parameter) prints one
line naming the file, the key and what is allowed, and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .errors import ScenarioError

EXIT_USER_ERROR = 2


def _usd(v) -> str:
    return "n/a" if v is None else f"USD {v:,.0f}"


def _business_rows(summary: dict) -> list[tuple[str, str]]:
    """Connected and cost lines of the run table (absent for old summaries)."""
    if "people_connected" not in summary:
        return []
    n = summary["horizon_years"]
    by_year = summary["people_connected_by_year"]
    covered = summary["people_covered"]
    pct = f" ({100 * summary['people_connected'] / covered:.1f} % of covered)" if covered else ""
    mid = f"year 1: {by_year[0]:,}" + (f", year {(n + 1) // 2}: {by_year[(n + 1) // 2 - 1]:,}"
                                        if n > 2 else "")
    pb = summary["payback_years"]
    bh = ", ".join(f"{k} {v}" for k, v in summary["backhaul_new_sites"].items()) or "-"
    pw = ", ".join(f"{k} {v}" for k, v in summary["power_new_sites"].items()) or "-"
    rows = [
        (f"people connected (year {n})", f"{summary['people_connected']:,}{pct}"),
        ("  by year", mid),
        ("  newly connected", f"{summary['people_newly_connected']:,}"),
        ("new sites capex", _usd(summary["capex_usd"])),
        ("new sites opex", _usd(summary["opex_usd_per_year"]) + " a year"),
        ("new sites TCO / NPV", f"{_usd(summary['tco_usd'])} / {_usd(summary['npv_usd'])} "
                                 f"({n} years at {100 * summary['discount_rate']:g} %)"),
        ("payback", "not within the horizon" if pb is None else f"year {pb:g}"),
        ("cost per person covered", f"{_usd(summary['marginal_cost_per_person_covered_usd'])} "
                                    f"new sites, {_usd(summary['cost_per_person_covered_usd'])}"
                                    " whole network"),
        ("cost per person connected",
         f"{_usd(summary['marginal_cost_per_person_connected_usd'])} new sites, "
         f"{_usd(summary['cost_per_person_connected_usd'])} whole network"),
        ("new sites backhaul", bh + (f" ({summary['backhaul_capacity_exceeded_sites']} over "
                                     "capacity)" if summary["backhaul_capacity_exceeded_sites"]
                                     else "")),
        ("new sites power", pw + f" ({summary['co2_t_per_year_new_sites']:g} t CO2 a year)"),
    ]
    return rows


def _print_table(summary: dict, out_dir: Path | None, seconds: float) -> None:
    rows = [
        ("scenario", summary["scenario"]),
        ("population", f"{summary['population_total']:,}"),
        ("people covered", f"{summary['people_covered']:,} "
                           f"({100 * summary['coverage_fraction']:.1f} %)"),
        ("  expected (shadowing)", f"{summary['people_covered_expected']:,.0f}"),
        ("  by existing sites", f"{summary['people_covered_by_existing_sites']:,}"),
        ("  newly covered", f"{summary['people_newly_covered']:,}"),
    ]
    for name, n in summary["people_covered_by_service"].items():
        rows.append((f"  service '{name}'", f"{n:,}"))
    rows += [("people not covered", f"{summary['population_total'] - summary['people_covered']:,}")]
    for cause, n in summary["people_not_covered_by_cause"].items():
        if n:
            rows.append((f"  {cause.replace('_', ' ')}", f"{n:,}"))
    if "clutter" in summary:
        rows.append(("  of whom clutter decided",
                     f"{summary['clutter']['people_not_covered_because_of_clutter']:,} "
                     "(covered without the clutter loss)"))
    rows += [
        ("people served at busy hour", f"{summary['people_served_busy_hour']:,.0f} "
                                       f"({summary['sites_over_capacity']} sites over capacity)"),
        ("area covered", f"{summary['area_covered_km2']:,.1f} of {summary['area_km2']:,.0f} km2"),
        ("sites", f"{summary['sites_total']} ({summary['sites_existing']} existing, "
                  f"{summary['sites_new']} new)"),
    ]
    for name, d in summary["sites_by_type"].items():
        rows.append((f"  {name}", f"{d['existing']} existing, {d['new']} new"))
    rows += _business_rows(summary)
    rows += [
        ("people served per new site", f"{summary['people_served_per_new_site_mean']:,.0f}"),
        ("required signal", f"{summary['required_signal_dbm']:.1f} dBm "
                            f"{summary['signal_metric'].upper()} (threshold "
                            f"{summary['dl_threshold_dbm']:g} + fade margin "
                            f"{summary['fade_margin_db']:.1f} dB)"),
        ("run time", f"{seconds:.2f} s"),
    ]
    for t in summary.get("existing_towers", []):
        unm = sum(t["skipped_unmapped_radio"].values())
        rows.append(("existing towers", f"{t['sites']} sites from {t['cells_used']} of "
                                        f"{t['rows']} cells ({t['skipped_outside_region']} "
                                        f"outside the region, {unm} unmapped radio, "
                                        f"{t['skipped_filtered']} filtered)"))
    if out_dir is not None:
        rows.append(("results", str(out_dir)))
        rows.append(("report", str(Path(out_dir) / "report.html")))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for w in summary.get("warnings", []):
        print(f"warning: {w}")


class ProgressBar:
    """A one-line progress bar with an ETA on stderr: ``progress(done, total)``; a call
    with ``done == 0`` (re)starts the clock."""

    def __init__(self, label: str, unit: str = "tiles", stream=None, width: int = 28,
                 min_interval_s: float = 0.25):
        self.label, self.unit, self.width = label, unit, width
        self.stream = sys.stderr if stream is None else stream
        self.min_interval_s = min_interval_s
        self.t0 = time.perf_counter()
        self._last = -1.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0:
            self.t0 = now
        if done < total and now - self._last < self.min_interval_s:
            return
        self._last = now
        elapsed = now - self.t0
        frac = done / total if total else 1.0
        eta = elapsed * (total - done) / done if done else float("nan")
        bar = "#" * int(round(frac * self.width))
        eta_s = "--" if eta != eta else _duration(eta)
        self.stream.write(f"\r{self.label} [{bar:<{self.width}}] {100 * frac:5.1f} % "
                          f"{done}/{total} {self.unit}, {_duration(elapsed)} elapsed, "
                          f"ETA {eta_s}   ")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def _progress(args, label: str, unit: str = "tiles"):
    show = getattr(args, "progress", None)
    if show is None:
        show = sys.stderr.isatty() and not args.quiet
    return ProgressBar(label, unit) if show else None


def _closed_when_done(bar):
    """``bar`` as a progress callback that ends its line when done (None stays None)."""
    if bar is None:
        return None

    def call(done: int, total: int) -> None:
        bar(done, total)
        if done == total:
            bar.close()

    return call


def _backend(args):
    """A context manager giving a Dask client (--workers/--scheduler) or None."""
    import contextlib

    if args.scheduler and args.workers:
        raise ScenarioError("give either --workers (a local cluster) or --scheduler (an "
                            "existing cluster), not both")
    if args.scheduler or args.workers:
        from .pipeline.distributed import connect

        return connect(workers=args.workers, scheduler=args.scheduler,
                       timeout_s=args.scheduler_timeout)
    return contextlib.nullcontext(None)


def _cmd_run(args) -> int:
    from .pipeline.distributed import choose_mode, run_tiled
    from .pipeline.engine_terrain import TERRAIN_METHODS
    from .io.scenario_file import load_scenario
    from .pipeline.runner import run

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    out_dir = Path(args.out) if args.out else None
    # Refuse an existing folder before computing anything.
    target = out_dir
    if target is None:
        target = Path(scenario.outputs.dir) if scenario.outputs.dir else Path("results") / scenario.name
    if target.exists() and not args.overwrite:
        raise ScenarioError("results folder already exists; pass --overwrite to replace it, "
                            "or choose another --out", file=str(target))
    if args.tile_size is not None and args.tile_size < 16:
        raise ScenarioError(f"--tile-size must be >= 16 cells (got {args.tile_size})",
                            value=args.tile_size)
    if scenario.sweep is not None:
        return _run_sweep(args, scenario, target, t0)
    requested = args.mode
    # Dask: tiled unless --in-memory (the pipeline runs either sink on either executor)
    dask = bool(args.workers or args.scheduler)
    mode = "tiled" if dask and requested != "memory" else choose_mode(scenario, requested)
    bar = _progress(args, "engine")
    site_bar = None
    if scenario.propagation.model in TERRAIN_METHODS:
        site_bar = _progress(args, "site pass", "sites")     # the terrain site pass
    with _backend(args) as client:
        try:
            if mode == "memory":
                result = run(scenario, progress=bar, tile_size_cells=args.tile_size,
                             client=client, retries=args.retries,
                             site_progress=_closed_when_done(site_bar))
                if bar is not None:
                    bar.close()
                saved = result.save(target, overwrite=args.overwrite,
                                    maps=False if args.no_maps else None)
            else:
                result = run_tiled(scenario, out_dir=target, overwrite=args.overwrite,
                                   client=client, tile_size_cells=args.tile_size,
                                   progress=bar, retries=args.retries,
                                   site_progress=_closed_when_done(site_bar),
                                   maps=False if args.no_maps else None,
                                   scratch_dir=args.scratch_dir)
                saved = target
        finally:
            for b in (site_bar, bar):
                if b is not None:
                    b.close()
    if not args.quiet:
        _print_table(result.summary, saved if mode == "memory" else None,
                     time.perf_counter() - t0)
        if mode == "tiled":
            where = (f"{result.workers} Dask worker(s)" if client is not None
                     else "this process")
            print(f"tiled run: {result.tiles} tiles of {result.tile_size_cells} cells on "
                  f"{where}; rasters written tile by tile, maps drawn from them coarsened "
                  "(run_info.json)")
            print(f"results: {saved}")
    return 0


def _run_sweep(args, scenario, target: Path, t0: float) -> int:
    import json

    from .pipeline.sweeps import run_sweep, sweep_scenarios
    from .io.results import atomic_folder
    from .io.tables import write_comparison_csv

    runs = sweep_scenarios(scenario)      # every mistake before any work
    bar = _progress(args, "sweep", "runs")
    with _backend(args) as client:
        try:
            summaries = run_sweep(scenario, client=client, mode=args.mode,
                                  retries=args.retries, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plotting import plot_scenario_comparison

    with atomic_folder(target, overwrite=args.overwrite) as folder:
        write_comparison_csv(summaries, folder / "comparison.csv")
        ax = plot_scenario_comparison(summaries, x_values=scenario.sweep.values,
                                      x_label=scenario.sweep.parameter)
        ax.figure.savefig(folder / "comparison.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        (folder / "sweep.json").write_text(json.dumps(
            {"scenario": scenario.name, "sweep": scenario.sweep.model_dump(mode="json"),
             "runs": [{"name": s.name, "summary": sm} for s, sm in zip(runs, summaries)]},
            indent=2) + "\n")
    if not args.quiet:
        _print_comparison(summaries)
        print(f"sweep of {len(summaries)} runs in {time.perf_counter() - t0:.1f} s; wrote "
              f"{target / 'comparison.csv'}, comparison.png and sweep.json")
    return 0


def _cmd_validate(args) -> int:
    from .io.scenario_file import load_scenario
    from .pipeline.runner import validate

    scenario = load_scenario(args.scenario)
    validate(scenario, mode="auto")   # the checks of ruralsim run, in its mode
    print(f"{args.scenario}: valid scenario '{scenario.name}'")
    return 0


def _compare_inputs(paths: list[str]):
    """Load every input first (scenario YAML or results folder), so a mistake stops early."""
    from .io.scenario_file import load_scenario
    from .pipeline.runner import validate

    items = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            sj = path / "summary.json"
            if not sj.is_file():
                raise ScenarioError("a results folder for compare must hold summary.json "
                                    "(from 'ruralsim run'); allowed: a scenario YAML file or "
                                    "a results folder", file=str(path))
            import json

            try:
                summary = json.loads(sj.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else None
                raise ScenarioError(f"not valid JSON ({getattr(exc, 'msg', exc)}); run the "
                                    "scenario again to rewrite the results folder",
                                    file=str(sj), key=where) from None
            if not isinstance(summary, dict):
                raise ScenarioError("not a summary (a JSON object expected); run the scenario "
                                    "again to rewrite the results folder", file=str(sj))
            if "people_connected" not in summary:
                raise ScenarioError("summary.json has no people_connected (written by an "
                                    "older version); run the scenario again", file=str(sj))
            items.append(("results", summary))
        else:
            scenario = load_scenario(path)
            validate(scenario)
            items.append(("scenario", scenario))
    return items


def _print_comparison(summaries: list[dict]) -> None:
    from .io.tables import COMPARISON_COLUMNS, comparison_row

    rows = [comparison_row(s) for s in summaries]

    def fmt(key, v):
        if v is None:
            return "n/a" if key != "payback_years" else "none"
        if isinstance(v, float) and key == "discount_rate":
            return f"{100 * v:g} %"
        if isinstance(v, float) and abs(v) < 100 and key != "payback_years":
            return f"{v:,.1f}"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f"{v:,.0f}"
        return str(v)

    table = [[label] + [fmt(key, r[key]) for r in rows] for key, label in COMPARISON_COLUMNS]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(f"{c:<{widths[0]}}" if i == 0 else f"{c:>{widths[i]}}"
                        for i, c in enumerate(line)))


def _cmd_compare(args) -> int:
    import os
    import tempfile

    from .io.tables import write_comparison_csv
    from .pipeline.runner import run

    out = Path(args.out)
    targets = [out / "comparison.csv", out / "comparison.png"]
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise ScenarioError("comparison outputs already exist; pass --overwrite to replace "
                            "them, or choose another --out", file=str(existing[0]))
    items = _compare_inputs(args.inputs)
    summaries = []
    for kind, item in items:
        summaries.append(item if kind == "results" else run(item).summary)

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plotting import plot_scenario_comparison

    out.mkdir(parents=True, exist_ok=True)
    fd, tmp_csv = tempfile.mkstemp(prefix=".comparison-", suffix=".csv", dir=out)
    os.close(fd)
    fd, tmp_png = tempfile.mkstemp(prefix=".comparison-", suffix=".png", dir=out)
    os.close(fd)
    try:
        write_comparison_csv(summaries, tmp_csv)
        ax = plot_scenario_comparison(summaries)
        ax.figure.savefig(tmp_png, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        os.replace(tmp_csv, targets[0])
        os.replace(tmp_png, targets[1])
    finally:
        for t in (tmp_csv, tmp_png):
            if os.path.exists(t):
                os.remove(t)
    if not args.quiet:
        _print_comparison(summaries)
        print(f"wrote {targets[0]} and {targets[1]}")
def _print_plan_table(summary: dict, out_dir: Path, seconds: float) -> None:
    budget = []
    if summary["budget_usd"] is not None:
        budget.append(f"{summary['budget_usd']:,.0f} USD")
    if summary["max_sites"] is not None:
        budget.append(f"{summary['max_sites']} sites")
    rows = [
        ("scenario", summary["scenario"]),
        ("candidates", f"{summary['candidates']:,} ({summary['candidate_source']})"),
        ("budget", " and ".join(budget)),
        ("objective", summary["objective"] + (f" (adoption share {summary['adoption_share']:g})"
                                              if summary["objective"] == "people_connected"
                                              else "")),
        ("population", f"{summary['population_total']:,}"),
        ("covered by kept sites", f"{summary['people_covered_by_kept_sites']:,} "
                                  f"({summary['kept_sites']} sites)"),
    ]
    for name, m in summary["methods"].items():
        opt = "optimal" if m["optimal"] else (f"gap {100 * m['gap']:.3f} %" if m["gap"] is not
                                              None else f"guarantee >= {m['guarantee']:.3f}")
        rows.append((f"{name}", f"{m['sites']} sites, {m['people_newly_covered']:,} people "
                                f"newly covered, {m['cost_usd']:,.0f} USD, {opt}, "
                                f"{m['solve_time_s']:.2f} s"))
    gap = summary["gap"]
    rows += [
        ("sites chosen", f"{summary['sites_chosen']} " + ", ".join(
            f"{k}: {v}" for k, v in summary["sites_chosen_by_type"].items())),
        ("people newly covered", f"{summary['people_newly_covered']:,}"),
        ("people covered after", f"{summary['people_covered_after_plan']:,} "
                                 f"({100 * summary['people_covered_after_plan'] / max(summary['population_total'], 1):.1f} %)"),
        ("cost", f"{summary['cost_usd']:,.0f} USD"),
        ("method", summary["method"]),
        ("optimal / gap", ("proven optimal" if summary["optimal"] else
                           (f"not proven, gap {100 * gap:.3f} %" if gap is not None else
                            f"not proven (greedy, guarantee >= {summary['guarantee']:.3f} of "
                            "optimum)"))),
        ("coverage matrix", f"{summary['coverage_matrix_shape'][0]:,} x "
                            f"{summary['coverage_matrix_shape'][1]:,} cells, "
                            f"{summary['coverage_matrix_nnz']:,} nonzeros, "
                            f"{summary['timings_s']['coverage_matrix']:.2f} s"),
        ("run time", f"{seconds:.2f} s"),
        ("results", str(out_dir)),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _cmd_plan(args) -> int:
    from .io.plan import default_plan_dir
    from .io.scenario_file import load_scenario
    from .planning.planner import plan

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    target = Path(args.out) if args.out else default_plan_dir(scenario)
    if target.exists() and not args.overwrite:
        raise ScenarioError("plan folder already exists; pass --overwrite to replace it, "
                            "or choose another --out", file=str(target))
    result = plan(scenario, method=args.method)
    saved = result.save(target, overwrite=args.overwrite)
    if not args.quiet:
        _print_plan_table(result.summary, saved, time.perf_counter() - t0)
    return 0


def _cmd_make_samples(args) -> int:
    from .io.samples import SAMPLE_FILES, make_samples

    folder = Path(args.dir)
    clash = [folder / n for n in SAMPLE_FILES if (folder / n).exists()]
    if clash and not args.overwrite:
        raise ScenarioError("sample file already exists; pass --overwrite to replace the "
                            "sample files, or choose another folder", file=str(clash[0]))
    paths = make_samples(folder, seed=args.seed, overwrite=args.overwrite)
    if not args.quiet:
        for p in paths.values():
            print(f"wrote {p}")
        print(f"run it: ruralsim run {paths['sample-district.yaml']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ruralsim", description="Rural connectivity coverage "
                                "simulator: who is covered, where, and at what cost.")
    p.add_argument("--version", action="version", version=f"ruralsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results")
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument("--out", help="results folder (default: outputs.dir or results/<name>)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing results folder")
    r.add_argument("--no-maps", action="store_true",
                   help="skip coverage_map.png and rx_cdf.png (also on tiled runs)")
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--tiled", dest="mode", action="store_const", const="tiled",
                   help="run tile by tile in bounded memory, writing rasters tile by tile "
                        "(default: automatic above 20 million cells or when memory is short)")
    g.add_argument("--in-memory", dest="mode", action="store_const", const="memory",
                   help="hold the region in memory (full-resolution maps); refused when it "
                        "does not fit")
    r.set_defaults(mode="auto")
    r.add_argument("--workers", type=int, metavar="N",
                   help="run tiles (or sweep runs) on a local Dask cluster of N processes")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing dask.distributed cluster, e.g. tcp://host:8786")
    r.add_argument("--scheduler-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up reaching --scheduler after this long (default 10)")
    r.add_argument("--retries", type=int, default=2,
                   help="Dask retries of a failed tile or run (a worker that died; default 2)")
    r.add_argument("--tile-size", type=int, metavar="CELLS",
                   help="override region.tile_size_cells (results do not depend on it)")
    r.add_argument("--scratch-dir", metavar="DIR",
                   help="tiled run on a terrain: folder for the site pass's temporary "
                        "memmapped fields (default: beside the results folder)")
    pg = r.add_mutually_exclusive_group()
    pg.add_argument("--progress", dest="progress", action="store_true", default=None,
                    help="show the progress bar (default: when stderr is a terminal)")
    pg.add_argument("--no-progress", dest="progress", action="store_false",
                    help="hide the progress bar")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario without running it")
    v.add_argument("scenario", help="scenario YAML file")
    v.set_defaults(func=_cmd_validate)
    c = sub.add_parser("compare", help="run scenarios and set them side by side")
    c.add_argument("inputs", nargs="+", help="scenario YAML files, or results folders of "
                                             "earlier runs (their summary.json is read)")
    c.add_argument("--out", default="results/comparison",
                   help="folder for comparison.csv and comparison.png "
                        "(default: results/comparison)")
    c.add_argument("--overwrite", action="store_true", help="replace existing comparison files")
    c.add_argument("--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(func=_cmd_compare)
    pl = sub.add_parser("plan", help="choose where to put new sites (the scenario's "
                                     "'planning:' section) and write them")
    pl.add_argument("scenario", help="scenario YAML file with a 'planning:' section")
    pl.add_argument("--out", help="plan folder (default: <outputs.dir>-plan or "
                                  "results/<name>-plan)")
    pl.add_argument("--overwrite", action="store_true", help="replace an existing plan folder")
    pl.add_argument("--method", choices=["greedy", "ilp", "both"],
                    help="override planning.method")
    pl.add_argument("--quiet", action="store_true", help="print nothing on success")
    pl.set_defaults(func=_cmd_plan)
    m = sub.add_parser("make-samples", help="write small sample real-data files (population "
                       "GeoTIFF, DEM, boundary GeoJSON, OpenCelliD CSV) and a scenario")
    m.add_argument("dir", help="folder to write into (created if missing)")
    m.add_argument("--seed", type=int, default=2024, help="seed of the made-up data")
    m.add_argument("--overwrite", action="store_true", help="replace existing sample files")
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.set_defaults(func=_cmd_make_samples)
    _add_schema_parser(sub)
    return p


def _add_schema_parser(sub) -> None:
    sc = sub.add_parser("schema", help="print the JSON Schema of scenario files, for editors "
                        "(ruralsim schema > scenario.schema.json)")
    sc.add_argument("--out", help="write it to this file instead of standard output")
    sc.set_defaults(func=_cmd_schema)


def _cmd_schema(args) -> int:
    import json

    from .schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(f"ruralsim: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("ruralsim: interrupted; no results were written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
