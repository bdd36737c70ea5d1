"""The ``ruralsim`` command line: run, validate, compare, plan, programme, make-samples,
calibrate.

Every failure is one line on stderr, ``ruralsim: error: ...``, and a documented exit status
(docs/CONVENTIONS.md, "Exit codes"): 2 for a user's mistake (bad YAML, unknown key, missing
file, impossible parameter, a results folder that must not be written: the line names the
file, the key and what is allowed), 3 when the machine cannot do it (an OSError naming the
path and its cause, a MemoryError), 128 + the signal for Ctrl-C (130), SIGTERM (143) and
SIGHUP (129), 1 for a bug. Nothing half-written is ever left (:mod:`simulator.io.outputs`),
and an interrupt is never turned into a success (:mod:`simulator.interrupts`).

This module imports nothing heavy at import time: the ``ruralsim`` console script
(``simulator_entry``) installs its signal handlers before importing it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__, interrupts
from .errors import EnvironmentProblem, ScenarioError, os_error_text

_mp = sys.modules.get("multiprocessing.process")
if _mp is not None and getattr(_mp.current_process(), "_inheriting", False):  # pragma: no cover
    # a Dask worker process spawned by 'python -m simulator.cli' (it imports the main
    # module): Ctrl-C reaches the whole process group, and the command stops its workers
    # itself (see simulator_entry)
    import signal as _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
del _mp

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER_ERROR = 2
EXIT_ENVIRONMENT = 3


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
        *_adoption_rows(summary),
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


def _adoption_rows(summary: dict) -> list[tuple[str, str]]:
    """The barriers, which binds and what the levers would need (summary adoption_barriers)."""
    ab = summary.get("adoption_barriers")
    if not ab:
        return []
    shares = ", ".join(f"{k} {100 * v:.1f} %" + (" (binds)" if k == ab["binding"] else "")
                       for k, v in ab["shares"].items() if v is not None)
    rows = [("  barriers", f"{shares}; combine {ab['combine']}")]
    inc = ab.get("income") or {}
    if inc.get("model") not in (None, "uniform") and inc.get("min_usd_per_month") is not None:
        rows.append(("  income", f"USD {inc['min_usd_per_month']:,.0f}-"
                                 f"{inc['max_usd_per_month']:,.0f} a month by site "
                                 f"({inc['model']})"))
    for note in ab.get("notes", [])[1:]:
        rows.append(("  adoption", note))
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
    ]
    names = summary.get("sites_over_capacity_names") or []
    if names:
        more = f" and {len(names) - 8} more" if len(names) > 8 else ""
        rows.append(("  over capacity", ", ".join(names[:8]) + more))
    rows += [
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
        self._stream = stream
        self.min_interval_s = min_interval_s
        self.t0 = time.perf_counter()
        self._last = -1.0
        self._shown = False

    @property
    def stream(self):
        """The given stream, else ``sys.stderr`` as it is now (the results writer points it
        elsewhere while it holds C libraries' messages back)."""
        return sys.stderr if self._stream is None else self._stream

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

        return _quiet_when_stopped(connect(workers=args.workers, scheduler=args.scheduler,
                                           timeout_s=args.scheduler_timeout))
    return contextlib.nullcontext(None)


def _quiet_dask_logs() -> None:
    """Dask's loggers say only what is critical: after an interrupt, the cluster's own
    warnings while it closes (workers killed, connections lost) are not the user's news."""
    import logging

    for name in ("distributed", "dask", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _quiet_when_stopped(cm):
    """``cm`` (a Dask client) that, when a signal or failure ends the block, closes quietly."""
    import contextlib

    import warnings

    @contextlib.contextmanager
    def wrapped():
        stack = contextlib.ExitStack()
        # a signal while the cluster starts is raised once it has started, so that it is
        # closed cleanly (interrupted half way, Dask's exit handler fails on it)
        try:
            with interrupts.deferred(raise_after=False), warnings.catch_warnings():
                # another cluster's dashboard on the default port is not the user's news
                warnings.filterwarnings("ignore", message=r"Port \d+ is already in use")
                client = stack.enter_context(cm)
        except BaseException:
            _quiet_dask_logs()
            raise
        try:
            interrupts.check()
            yield client
        except BaseException:
            _quiet_dask_logs()
            with interrupts.deferred(raise_after=False):
                stack.__exit__(*sys.exc_info())
            raise
        with interrupts.deferred():          # closing: a signal is raised once closed
            stack.close()

    return wrapped()


def _target(args, scenario, *, suffix: str = "", what: str = "results folder") -> Path:
    """The folder a command writes (``--out``, ``outputs.dir``, ``results/<name>``), checked
    before any work (:func:`simulator.io.outputs.check_target`)."""
    from .io.outputs import check_target, protected_paths, results_dir

    target = results_dir(scenario, args.out, suffix=suffix,
                         allow_outputs_dir=getattr(args, "allow_outputs_dir", False))
    check_target(target, overwrite=args.overwrite, protect=protected_paths(scenario), what=what)
    return target


def _cmd_run(args) -> int:
    from .io.scenario_file import load_scenario
    from .pipeline.distributed import choose_mode, run_tiled
    from .pipeline.engine_terrain import TERRAIN_METHODS
    from .pipeline.checks import check_mode
    from .pipeline.runner import run

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    if args.tile_size is not None and args.tile_size < 16:
        raise ScenarioError(f"--tile-size must be >= 16 cells (got {args.tile_size})",
                            value=args.tile_size)
    requested = args.mode
    dask = bool(args.workers or args.scheduler)
    if scenario.sweep is None:
        # Dask: tiled unless --in-memory (the pipeline runs either sink on either executor)
        mode = "tiled" if dask and requested != "memory" else choose_mode(scenario, requested)
        check_mode(scenario, mode)              # the scenario first, then where it goes
    # refuse a folder that cannot or must not be written before computing anything
    target = _target(args, scenario)
    if scenario.sweep is not None:
        return _run_sweep(args, scenario, target, t0)
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

    from .io.outputs import atomic_folder, protected_paths
    from .io.tables import write_comparison_csv
    from .pipeline.sweeps import run_sweep, sweep_scenarios

    runs = sweep_scenarios(scenario)      # every mistake before any work
    bar = _progress(args, "sweep", "runs")
    with _backend(args) as client:
        try:
            summaries = run_sweep(scenario, client=client, mode=args.mode,
                                  retries=args.retries, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    # a Figure without pyplot: no global backend switch, nothing left open
    from matplotlib.figure import Figure

    from .plotting import plot_scenario_comparison

    with atomic_folder(target, overwrite=args.overwrite, protect=protected_paths(scenario),
                       kind="sweep", what="sweep folder") as folder:
        write_comparison_csv(summaries, folder / "comparison.csv")
        fig = Figure(figsize=(max(7.0, 3.0 * len(summaries) + 2), 6))
        ax = plot_scenario_comparison(summaries, ax=fig.subplots(),
                                      x_values=scenario.sweep.values,
                                      x_label=scenario.sweep.parameter)
        fig.savefig(folder / "comparison.png", dpi=120, bbox_inches="tight")
        (folder / "sweep.json").write_text(json.dumps(
            {"scenario": scenario.name, "sweep": scenario.sweep.model_dump(mode="json"),
             "runs": [{"name": s.name, "summary": sm} for s, sm in zip(runs, summaries)]},
            indent=2, allow_nan=False) + "\n", encoding="utf-8")
        del ax
    if not args.quiet:
        _print_comparison(summaries)
        _print_run_warnings(summaries)
        print(f"sweep of {len(summaries)} runs in {time.perf_counter() - t0:.1f} s; wrote "
              f"{target / 'comparison.csv'}, comparison.png and sweep.json")
    return 0


def _gb(n) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 / 10 else f"{n / 2**20:,.0f} MB"


def _cmd_validate(args) -> int:
    from .io.outputs import check_target, protected_paths, results_dir
    from .io.scenario_file import load_scenario
    from .pipeline.checks import check_run

    scenario = load_scenario(args.scenario)
    target = results_dir(scenario, args.out, allow_outputs_dir=args.allow_outputs_dir)
    if scenario.sweep is not None:
        from .pipeline.sweeps import sweep_scenarios

        runs = sweep_scenarios(scenario)
        reports = [check_run(s, mode=args.mode) for s in runs]
        report = reports[0]
    else:
        runs, reports = [], []
        report = check_run(scenario, mode=args.mode)
    # where run would write, and whether it may (an existing results folder needs
    # --overwrite; anything else there is refused, as run refuses it)
    check_target(target, overwrite=True, protect=protected_paths(scenario))
    state = ("exists: 'run' needs --overwrite to replace it" if Path(target).exists() and
             any(Path(target).iterdir()) else "new")
    print(f"{args.scenario}: valid scenario '{scenario.name}'")
    if args.quiet:
        return 0
    rows = [("grid", f"{report.shape[1]:,} x {report.shape[0]:,} = {report.cells:,} cells of "
                     f"{report.resolution_m:g} m ({report.crs})"),
            ("people", f"{report.population_total:,}"),
            ("sites", f"{report.sites:,} (model {report.model})"),
            ("mode", f"{'in memory' if report.mode == 'memory' else 'tiled'} "
                     f"({report.mode_reason})")]
    if runs:
        rows.append(("sweep", f"{len(runs)} runs; figures below are for the first, "
                              f"'{runs[0].name}'"))
    rows.append(("peak memory", f"about {_gb(report.peak_memory_bytes)} (estimate"
                                + (", the tiled driver" if report.mode == "tiled" else "")
                                + ")"))
    if report.memory_limits:
        name = min(report.memory_limits, key=report.memory_limits.get)
        others = ", ".join(f"{k} {_gb(v)}" for k, v in report.memory_limits.items()
                           if k != name)
        rows.append(("memory available", f"{_gb(report.memory_limits[name])} (bound by {name}"
                                         + (f"; {others}" if others else "") + ")"))
    else:
        rows.append(("memory available", "unknown (no limit could be read)"))
    rows.append(("time", ("under a second" if report.time_s < 1 else
                          f"about {_duration(report.time_s)}") + " on one core (an order of "
                         "magnitude)"))
    rows.append(("results", f"{target} ({state})"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    for w in report.warnings:
        print(f"warning: {w}")
    return 0


def _compare_inputs(paths: list[str]):
    """Load every input first (scenario YAML or results folder), so a mistake stops early."""
    from .io.scenario_file import load_scenario
    from .io.tables import read_summary
    from .pipeline.runner import validate

    items = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            items.append(("results", read_summary(path)))
        else:
            scenario = load_scenario(path)
            validate(scenario)
            items.append(("scenario", scenario))
    return items


def _print_comparison(summaries: list[dict]) -> None:
    from .io.tables import COMPARISON_COLUMNS, comparison_row, fewer_sites_than_asked

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
    short = [fewer_sites_than_asked(sm) for sm in summaries]
    if any(short):
        i = [k for k, _ in COMPARISON_COLUMNS].index("sites_new")
        table[i] = [table[i][0]] + [c + (" *" if f else "") for c, f in zip(table[i][1:],
                                                                           short)]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(f"{c:<{widths[0]}}" if i == 0 else f"{c:>{widths[i]}}"
                        for i, c in enumerate(line)))
    if any(short):
        print("* placed fewer new sites than the scenario asks for (see the warnings)")


def _print_run_warnings(summaries: list[dict]) -> None:
    """Every run's warnings, each line naming its run."""
    for sm in summaries:
        for w in sm.get("warnings", []):
            print(f"warning: {sm.get('scenario')}: {w}")


def _cmd_compare(args) -> int:
    from .io.outputs import atomic_folder, check_target, protected_paths
    from .io.tables import write_comparison_csv
    from .pipeline.runner import run


    items = _compare_inputs(args.inputs)          # the inputs first, then the outputs
    protect = [Path(p) for p in args.inputs]
    for kind, item in items:
        if kind == "scenario":
            protect += protected_paths(item)
    out = Path(args.out).expanduser()
    check_target(out, overwrite=args.overwrite, protect=protect, what="comparison folder")
    summaries = []
    for kind, item in items:
        summaries.append(item if kind == "results" else run(item).summary)

    # a Figure without pyplot: no global backend switch, nothing left open
    from matplotlib.figure import Figure

    from .plotting import plot_scenario_comparison

    with atomic_folder(out, overwrite=args.overwrite, protect=protect, kind="comparison",
                       what="comparison folder") as folder:
        write_comparison_csv(summaries, folder / "comparison.csv")
        fig = Figure(figsize=(max(7.0, 3.0 * len(summaries) + 2), 6))
        plot_scenario_comparison(summaries, ax=fig.subplots())
        fig.savefig(folder / "comparison.png", dpi=120, bbox_inches="tight")
    if not args.quiet:
        _print_comparison(summaries)
        _print_run_warnings(summaries)
        print(f"wrote {out / 'comparison.csv'} and {out / 'comparison.png'}")
    return 0


def _print_columns(head, body, *, right) -> None:
    """A plain-text table: columns as wide as their widest cell, ``right`` ones right-aligned."""
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    for r in [head, *body]:
        print("  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                        for i, c in enumerate(r)).rstrip())


def _print_plan_table(summary: dict, out_dir: Path, seconds: float) -> None:
    budget = []
    if summary["budget_usd"] is not None:
        budget.append(f"USD {summary['budget_usd']:,.0f} {summary['cost_basis']}")
    if summary["max_sites"] is not None:
        budget.append(f"{summary['max_sites']} sites")
    n = summary["horizon_years"]
    rows = [
        ("scenario", summary["scenario"]),
        ("candidates", f"{summary['candidates']:,} ({summary['candidate_source']}; cheapest "
                       f"USD {summary['cheapest_candidate_usd']:,.0f} {summary['cost_basis']})"),
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
                                f"newly covered, {opt}, {m['solve_time_s']:.2f} s"))
    gap = summary["gap"]
    rows += [
        ("sites chosen", f"{summary['sites_chosen']} " + ", ".join(
            f"{k}: {v}" for k, v in summary["sites_chosen_by_type"].items())),
        ("people newly covered", f"{summary['people_newly_covered']:,}"),
        ("people covered when run", f"{summary['people_covered_when_run']:,} "
                                    f"({100 * summary['people_covered_when_run'] / max(summary['population_total'], 1):.1f} %, "
                                    "with interference)"),
        ("capex", f"USD {summary['capex_usd']:,.0f} (station, power and backhaul, as run "
                  "costs them)"),
        ("opex", f"USD {summary['opex_usd_per_year']:,.0f} a year"),
        (f"TCO ({n} years)", f"USD {summary['tco_usd']:,.0f}"),
        ("stopped", summary["stop_reason"]),
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
    sites = summary.get("sites", [])
    if sites:
        print()
        head = ("#", "site", "type", "people added", "capex USD", f"TCO USD ({n} y)",
                "backhaul", "power")
        body = [(str(x["rank"]), x["name"], x["station_type"], f"{x['people_added']:,}",
                 f"{x['capex_usd']:,.0f}", f"{x['tco_usd']:,.0f}", x["backhaul"], x["power"])
                for x in sites]
        body.append(("", "total", "", f"{summary['people_newly_covered']:,}",
                     f"{summary['capex_usd']:,.0f}", f"{summary['tco_usd']:,.0f}", "", ""))
        _print_columns(head, body, right={0, 3, 4, 5})
    for w in summary.get("warnings", []):
        print(f"warning: {w}")


def _cmd_plan(args) -> int:
    from .io.scenario_file import load_scenario
    from .planning.planner import plan

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    src = str(scenario.source_path) if scenario.source_path else args.scenario
    # the flags' own bounds, before anything else (one line, exit 2, nothing written)
    if args.max_sites is not None and args.max_sites < 1:
        raise ScenarioError(f"--max-sites {args.max_sites} is not allowed; allowed: an integer "
                            ">= 1", file=src, key="planning.max_sites", value=args.max_sites)
    if args.budget_usd is not None and not args.budget_usd > 0:
        raise ScenarioError(f"--budget-usd {args.budget_usd:g} is not allowed; allowed: a "
                            "budget > 0 USD", file=src, key="planning.budget_usd",
                            value=args.budget_usd)
    target = _target(args, scenario, suffix="-plan", what="plan folder")
    result = plan(scenario, method=args.method, max_sites=args.max_sites,
                  budget_usd=args.budget_usd, cost_basis=args.cost_basis,
                  min_people_per_site=args.min_people_per_site)
    saved = result.save(target, overwrite=args.overwrite)
    if not args.quiet:
        _print_plan_table(result.summary, saved, time.perf_counter() - t0)
    return 0


def _print_programme_table(s: dict, out_dir: Path, seconds: float) -> None:
    g = s["goal"]
    goal = (f"{100 * g['target_share']:.1f} % of people {g['measure']}"
            + (f" by year {g['year']}" if g.get("year") is not None else "")
            if "target_share" in g else f"most people for USD {g['budget_usd']:,.0f}")
    sv = s["solver"]
    opt = ("proven optimal" if sv["optimal"] else
           (f"gap {100 * sv['mip_gap']:.3f} %" if sv["mip_gap"] is not None else "not proven"))
    rows = [("scenario", s["scenario"]),
            ("goal", f"{goal} ({s['cost_basis']})"),
            ("population", f"{s['population_total']:,} ({s['locations']:,} locations, "
                           f"{s['options_considered']:,} options)"),
            ("covered by kept sites", f"{s['people_covered_existing']:,} (the scenario's "
                                      "own sites)"),
            ("people covered", f"{s['people_covered']:,} ({100 * s['share_covered']:.1f} %, "
                               f"+{s['people_added']:,})"),
            ("sites", f"{s['sites']:,}: " + ", ".join(
                f"{k} {v['sites']}" for k, v in s["technology_mix"].items()))]
    for k, v in s["technology_mix"].items():
        if v["sites"]:
            rows.append((f"  {k}", f"{v['people_added']:,} people, capex USD "
                                   f"{v['capex_usd']:,.0f}, TCO USD {v['tco_usd']:,.0f}"))
    rows += [("capex / opex", f"USD {s['capex_usd']:,.0f} / USD {s['opex_usd_per_year']:,.0f} "
                              "a year"),
             ("TCO", f"USD {s['tco_usd']:,.0f}"),
             ("NPV (operator)", f"USD {s['npv_usd']:,.0f}"),
             ("viability gap", f"USD {s['viability_gap_usd']:,.0f} of subsidy for "
                               f"{s['sites_needing_subsidy']:,} sites")]
    if s.get("relay"):
        r = s["relay"]
        rows.append(("relay chains", f"{r['relay_sites']} relay sites, {r['chains']} beyond "
                                     f"one hop (limit {r['hop_limit']}), "
                                     f"{r['capacity_exceeded']} over capacity, "
                                     f"{r['upgraded']} upgraded"))
    rows += [("solver", f"{sv['method']}, {opt}, {sv['time_s']:.2f} s (limit "
                        f"{sv['time_limit_s']:g} s)" + (f"; {sv['fallback']}" if sv["fallback"]
                                                        else "")),
             ("run time", f"{seconds:.2f} s"), ("results", str(out_dir))]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    ro = s["rollout"]
    if ro:
        print()
        head = ("year", "sites built", "capex USD", "cash flow USD", "covered", "connected")
        body = [(str(r["year"]), str(r["sites_built"]), f"{r['capex_usd']:,.0f}",
                 f"{r['cash_flow_usd']:,.0f}", f"{r['people_covered']:,}",
                 f"{r['people_connected']:,}") for r in ro]
        _print_columns(head, body, right=set(range(len(head))))
    for w in s.get("warnings", []):
        print(f"warning: {w}")


def _cmd_programme(args) -> int:
    from .io.scenario_file import load_scenario
    from .programme import programme

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    src = str(scenario.source_path) if scenario.source_path else args.scenario
    if args.target_share is not None and not 0 < args.target_share <= 1:
        raise ScenarioError(f"--target-share {args.target_share:g} is not allowed; allowed: a "
                            "share in (0, 1]", file=src, key="programme.target.share",
                            value=args.target_share)
    for flag, key, v in (("--budget-usd", "programme.budget_usd", args.budget_usd),
                         ("--annual-capex-usd", "programme.annual_capex_usd",
                          args.annual_capex_usd)):
        if v is not None and not v > 0:
            raise ScenarioError(f"{flag} {v:g} is not allowed; allowed: > 0 USD", file=src,
                                key=key, value=v)
    if args.target_share is not None and args.budget_usd is not None:
        raise ScenarioError("give --target-share or --budget-usd, not both", file=src,
                            key="programme")
    target = _target(args, scenario, suffix="-programme", what="programme folder")
    result = programme(scenario, target_share=args.target_share, budget_usd=args.budget_usd,
                       annual_capex_usd=args.annual_capex_usd, method=args.method,
                       time_limit_s=args.time_limit_s)
    saved = result.save(target, overwrite=args.overwrite)
    if not args.quiet:
        _print_programme_table(result.summary, saved, time.perf_counter() - t0)
    return 0


def _cmd_make_samples(args) -> int:
    from .io.outputs import check_target
    from .io.samples import make_samples

    folder = Path(args.dir).expanduser()
    check_target(folder, overwrite=args.overwrite, what="samples folder", option="DIR")
    paths = make_samples(folder, seed=args.seed, overwrite=args.overwrite)
    if not args.quiet:
        for p in paths.values():
            print(f"wrote {p}")
        print(f"run it: ruralsim run {paths['sample-district.yaml']}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line: ``ruralsim: error: ...`` (exit 2)."""

    def error(self, message):  # noqa: D401 - argparse's API
        cmd = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        self.exit(EXIT_USER_ERROR, f"ruralsim: error: {message}; check the command line "
                                   f"('ruralsim {cmd}--help' lists the options)\n")


EPILOG = """exit status: 0 done; 1 internal error (a bug: please report it; RURALSIM_DEBUG=1 shows
the traceback); 2 the input is wrong (scenario, files, command line, results folder);
3 the machine cannot do it (disk full, read-only or unwritable folder, out of memory);
130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (nothing half-written is left; docs/CONVENTIONS.md)"""


def _add_out_rules(p, what: str) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help=f"replace an existing {what} (only one written by ruralsim: its "
                        "manifest.json present)")
    p.add_argument("--allow-outputs-dir", action="store_true",
                   help="honour an outputs.dir from the scenario file that is absolute or "
                        "leaves the working folder ('..', '~')")


def _print_calibration(cal, out_dir: Path, seconds: float) -> None:
    d = cal.to_dict()
    m = d["measurements"]
    b, a = d["statistics_before"]["all"], d["statistics_after"]["all"]
    cv = d["cross_validation"]
    c = d["calibration"]
    unit = d["unit"]

    def f(v, fmt="{:.2f}"):
        return "n/a" if v is None else fmt.format(v)

    skipped = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m["skipped"].items() if v)
    corr = cal.correlation["fit"]
    rows = [
        ("scenario / model", f"{d['scenario']} / {d['model']}"),
        ("measurements", f"{m['file']} ({d['value_kind']}, {m['rows']:,} rows)"),
        ("samples used", f"{m['received']:,} received, {m['censored']:,} censored"
                         + (f"; skipped: {skipped}" if skipped else "")),
        ("transmitters", f"{len(d['transmitters'])}"),
        ("as given", f"mean error {f(b['mean_error_db'], '{:+.2f}')} dB, RMSE "
                     f"{f(b['rmse_db'])} dB, std {f(b['std_db'])} dB (predicted - measured, "
                     f"{unit})"),
        ("correction", f"offset {c['offset_db']:+.2f} dB at {c['reference_distance_m']:g} m, "
                       f"slope {c['slope_db_per_decade']:+.2f} dB/decade ({c['method']}"
                       + (f", per {c['per']}" if c["per"] else "") + ")"),
        ("calibrated, in sample", f"RMSE {f(a['rmse_db'])} dB, std {f(a['std_db'])} dB"),
        (f"calibrated, {cv['folds']}-fold CV", f"RMSE {f(cv['stats']['all']['rmse_db'])} dB, "
                                               f"mean {f(cv['stats']['all']['mean_error_db'], '{:+.2f}')}"
                                               f" dB (folds by {cv['folds_by']}, "
                                               f"{cv['groups']} groups)"),
        ("location variability", f"sigma {c['sigma_db']:.2f} dB; correlation distance "
                                 + (f"{corr['correlation_distance_m']:.0f} m (nugget "
                                    f"{corr['nugget']:.2f})" if corr.get("correlation_distance_m")
                                    else f"not fitted ({corr['status']})")),
        ("free-space floor", f"{d['conventions']['free_space_floor']}: decided "
                             f"{100 * d['conventions']['floor_decided_share']:.1f} % of the "
                             "points"),
        ("run time", f"{seconds:.2f} s"),
        ("results", str(out_dir)),
    ]
    if d.get("peer_statistics"):
        ps = d["peer_statistics"]["all"]
        rows.insert(5, ("peer prediction", f"mean error {f(ps['mean_error_db'], '{:+.2f}')} dB, "
                                           f"RMSE {f(ps['rmse_db'])} dB on {ps['n']:,} samples"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for w in d["warnings"]:
        print(f"warning: {w}")


def _cmd_calibrate(args) -> int:
    from .calibration import calibrate
    from .io.scenario_file import load_scenario

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario)
    # refuse a folder that cannot or must not be written before computing anything
    target = _target(args, scenario, suffix="-calibration", what="calibration folder")
    cal = calibrate(scenario, args.measurements, transmitters=args.transmitters,
                    value_column=args.value_column, kind=args.kind, floor_dbm=args.floor_dbm,
                    per=None if args.per == "none" else args.per,
                    censored_fit=args.censored_fit, fit_slope=not args.no_slope,
                    folds_by=args.folds_by, folds=args.folds, segment_m=args.segment_m,
                    max_lag_m=args.max_lag_m)
    saved = cal.save(target, overwrite=args.overwrite)
    if not args.quiet:
        _print_calibration(cal, saved, time.perf_counter() - t0)
    return 0


def _add_calibrate_parser(sub) -> None:
    ca = sub.add_parser("calibrate", help="compare a scenario's predictions with measured "
                        "signal and fit a correction (writes calibrated_scenario.yaml)")
    ca.add_argument("scenario", help="scenario YAML file (its model chain and sites)")
    ca.add_argument("measurements", help="measurement CSV or GeoJSON (docs/validation.md)")
    ca.add_argument("--transmitters", metavar="FILE",
                    help="CSV of transmitters that are not sites of the scenario")
    ca.add_argument("--value-column", metavar="COLUMN",
                    help="the value column (default: rsrp_dbm, rssi_dbm, rx_power_dbm or "
                         "path_loss_db, whichever the file has)")
    ca.add_argument("--kind", choices=["rsrp", "rssi", "rx_power", "path_loss"],
                    help="what --value-column holds")
    ca.add_argument("--per", choices=["none", "transmitter", "clutter_class"], default="none",
                    help="one offset for all (default), per transmitter (e.g. unknown EIRP) "
                         "or per clutter class")
    ca.add_argument("--censored-fit", action="store_true",
                    help="fit by censored / truncated maximum likelihood (samples below the "
                         "receiver floor) instead of least squares")
    ca.add_argument("--floor-dbm", type=float, metavar="DBM",
                    help="receiver floor for censored samples without their own")
    ca.add_argument("--no-slope", action="store_true", help="fit offsets only")
    ca.add_argument("--folds-by", choices=["route", "transmitter"], default="route",
                    help="cross-validation holds out route pieces (default) or transmitters")
    ca.add_argument("--folds", type=int, default=5, metavar="K", help="k of k-fold (default 5)")
    ca.add_argument("--segment-m", type=float, default=1000.0, metavar="M",
                    help="length of the route pieces the folds hold out (default 1000 m)")
    ca.add_argument("--max-lag-m", type=float, default=1000.0, metavar="M",
                    help="longest pair distance of the residual correlogram (default 1000 m)")
    ca.add_argument("--out", help="output folder (default results/<name>-calibration)")
    _add_out_rules(ca, "calibration folder")
    ca.add_argument("--quiet", action="store_true", help="print nothing on success")
    ca.set_defaults(func=_cmd_calibrate)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ruralsim", description="Rural connectivity coverage "
                "simulator: who is covered, where, and at what cost.", epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"ruralsim {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="log what happens (and every warning) on stderr; -vv for more")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument("--out", help="results folder (default: outputs.dir or results/<name>, "
                                 "relative to the working folder)")
    _add_out_rules(r, "results folder")
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
    v = sub.add_parser("validate", help="make every check 'run' makes, without computing; "
                                        "print the size, mode, memory and time")
    v.add_argument("scenario", help="scenario YAML file")
    v.add_argument("--out", help="results folder 'run --out' would write (checked, not "
                                 "written)")
    v.add_argument("--allow-outputs-dir", action="store_true",
                   help="as for run")
    vg = v.add_mutually_exclusive_group()
    vg.add_argument("--tiled", dest="mode", action="store_const", const="tiled",
                    help="check as 'run --tiled' would")
    vg.add_argument("--in-memory", dest="mode", action="store_const", const="memory",
                    help="check as 'run --in-memory' would")
    v.set_defaults(mode="auto")
    v.add_argument("--quiet", action="store_true", help="print only the first line")
    v.set_defaults(func=_cmd_validate)
    c = sub.add_parser("compare", help="run scenarios and set them side by side")
    c.add_argument("inputs", nargs="+", help="scenario YAML files, or results folders of "
                                             "earlier runs (their summary.json is read)")
    c.add_argument("--out", default="results/comparison",
                   help="folder for comparison.csv and comparison.png "
                        "(default: results/comparison)")
    c.add_argument("--overwrite", action="store_true",
                   help="replace an existing comparison folder (one written by ruralsim)")
    c.add_argument("--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(func=_cmd_compare)
    pl = sub.add_parser("plan", help="choose where to put new sites (the scenario's "
                                     "'planning:' section, or --max-sites / --budget-usd) "
                                     "and write them")
    pl.add_argument("scenario", help="scenario YAML file (a 'planning:' section, or give "
                                     "--max-sites and/or --budget-usd)")
    pl.add_argument("--out", help="plan folder (default: <outputs.dir>-plan or "
                                  "results/<name>-plan)")
    _add_out_rules(pl, "plan folder")
    pl.add_argument("--method", choices=["greedy", "ilp", "both"],
                    help="override planning.method")
    pl.add_argument("--max-sites", type=int, metavar="N",
                    help="at most N new sites (planning.max_sites; works without a "
                         "'planning:' section: settlement candidates)")
    pl.add_argument("--budget-usd", type=float, metavar="USD",
                    help="total cost limit of the new sites (planning.budget_usd)")
    pl.add_argument("--cost-basis", choices=["capex", "tco"],
                    help="what the budget limits: capex (default) or TCO over the horizon")
    pl.add_argument("--min-people-per-site", type=float, metavar="PEOPLE",
                    help="skip sites adding fewer people (greedy only)")
    pl.add_argument("--quiet", action="store_true", help="print nothing on success")
    pl.set_defaults(func=_cmd_plan)
    pg = sub.add_parser("programme", help="technology per settlement (pole, macro, satellite "
                                          "hotspot, ...), relay chains and rollout by year: "
                                          "the least-cost mix for a target or the most "
                                          "people for a budget")
    pg.add_argument("scenario", help="scenario YAML file (a 'programme:' section, or give "
                                     "--target-share or --budget-usd)")
    pg.add_argument("--out", help="programme folder (default: <outputs.dir>-programme or "
                                  "results/<name>-programme)")
    _add_out_rules(pg, "programme folder")
    pg.add_argument("--target-share", type=float, metavar="S",
                    help="least-cost mix covering this share of people (programme.target.share)")
    pg.add_argument("--budget-usd", type=float, metavar="USD",
                    help="most people for this total cost (programme.budget_usd)")
    pg.add_argument("--annual-capex-usd", type=float, metavar="USD",
                    help="capex budget per rollout year (programme.annual_capex_usd)")
    pg.add_argument("--method", choices=["ilp", "greedy"], help="override programme.method")
    pg.add_argument("--time-limit-s", type=float, metavar="S",
                    help="solver time limit (programme.time_limit_s)")
    pg.add_argument("--quiet", action="store_true", help="print nothing on success")
    pg.set_defaults(func=_cmd_programme)
    m = sub.add_parser("make-samples", help="write small sample real-data files (population "
                       "GeoTIFF, DEM, boundary GeoJSON, OpenCelliD CSV) and a scenario")
    m.add_argument("dir", help="a new (or empty) folder to write them into")
    m.add_argument("--seed", type=int, default=2024, help="seed of the made-up data")
    m.add_argument("--overwrite", action="store_true",
                   help="replace an existing samples folder (one written by ruralsim)")
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.set_defaults(func=_cmd_make_samples)
    _add_schema_parser(sub)
    _add_calibrate_parser(sub)
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
        _write_schema_file(Path(args.out).expanduser(), text)
    else:
        sys.stdout.write(text)
    return 0


def _logging_handler(verbosity: int):
    """Attach a handler to the ``simulator`` logger: stderr with ``-v`` (INFO; ``-vv``
    DEBUG), else a NullHandler, so a warning is not printed twice (the command prints the
    warnings of its runs itself)."""
    import logging

    log = logging.getLogger("simulator")
    if verbosity:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    else:
        handler = logging.NullHandler()
    log.addHandler(handler)
    return log, handler


def _write_schema_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; an existing file is replaced only if it is a
    JSON Schema this command wrote (a scenario file given by mistake is never clobbered)."""
    import json
    import tempfile

    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ScenarioError("is not a regular file; give a new file name with --out",
                            file=str(path))
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            ours = isinstance(old, dict) and old.get("title") == "ruralsim scenario"
        except (OSError, ValueError):
            ours = False
        if not ours:
            raise ScenarioError("exists and is not a scenario JSON Schema written by "
                                "'ruralsim schema'; it is never replaced: choose another --out",
                                file=str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask_now())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask_now() -> int:
    from .io.outputs import _umask

    return _umask()


def _fail(message: str) -> None:
    """The one line of a failure on stderr."""
    try:
        sys.stderr.write(f"ruralsim: error: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


def _interrupted_line(exc: BaseException) -> str:
    from .io import outputs

    what = interrupts.describe(exc)
    if outputs.committed:
        return f"{what} after the results were written; {outputs.committed[-1]} is complete"
    return f"{what}; nothing was written (earlier results, if any, are unchanged)"


def _streams() -> None:
    """Never fail on printing a name the terminal's encoding cannot show."""
    for s in (sys.stdout, sys.stderr):
        enc = (getattr(s, "encoding", None) or "").lower().replace("-", "")
        if enc != "utf8" and hasattr(s, "reconfigure"):
            try:
                s.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover
                pass


def main(argv: list[str] | None = None, *, _keep_handlers: bool = False) -> int:
    """The ``ruralsim`` command line; returns the exit status (see :data:`EPILOG`)."""
    import warnings

    from .errors import RuralsimWarning
    from .io import outputs

    interrupts.uninstall()
    outputs.committed.clear()
    interrupts.install()
    _streams()
    try:
        try:
            args = build_parser().parse_args(argv)
            log, handler = _logging_handler(getattr(args, "verbose", 0))
            try:
                # the command prints every run's warnings from its summary (per run for
                # sweeps and compare); Python's warning machinery would print them again
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuralsimWarning)
                    code = args.func(args)
            finally:
                log.removeHandler(handler)
            interrupts.check()       # a Ctrl-C a library caught and carried on from
            return code
        except ScenarioError as exc:
            with interrupts.deferred(raise_after=False):
                _fail(exc.one_line())
            return EXIT_USER_ERROR
        except EnvironmentProblem as exc:
            with interrupts.deferred(raise_after=False):
                _fail(exc.one_line())
            return EXIT_ENVIRONMENT
        except KeyboardInterrupt as exc:
            with interrupts.deferred(raise_after=False):
                _fail(_interrupted_line(exc))
            return interrupts.exit_status(exc)
        except Exception as exc:
            if interrupts.pending() is None:
                return _failure(exc)
            # a signal raised inside code that turned it into another exception (a C
            # extension's import says "initialization failed"): the signal is the cause
            with interrupts.deferred(raise_after=False):
                _fail(_interrupted_line(exc))
            return interrupts.exit_status(exc)
    finally:
        if not _keep_handlers:
            interrupts.uninstall()


def _failure(exc: Exception) -> int:
    """The line and exit status of an exception that is neither the input's nor a signal:
    3 for MemoryError and OSError (the machine), 1 for anything else (a bug)."""
    with interrupts.deferred(raise_after=False):
        if isinstance(exc, MemoryError):
            detail = str(exc).splitlines()[0] if str(exc) else "an allocation failed"
            _fail(f"out of memory ({detail}); nothing was written: run it tiled "
                  "(--tiled), use a coarser region.resolution_m, or free some memory "
                  "('ruralsim validate' shows the estimate and the limit)")
            return EXIT_ENVIRONMENT
        if isinstance(exc, OSError):
            _fail(f"{os_error_text(exc)}; nothing was written (earlier results, if any, "
                  "are unchanged)")
            return EXIT_ENVIRONMENT
        if os.environ.get("RURALSIM_DEBUG"):
            raise exc
        text = str(exc).replace("\n", " ")[:300]
        _fail(f"internal error ({type(exc).__name__}: {text}); this is a bug, please "
              "report it with the scenario (RURALSIM_DEBUG=1 shows the traceback)")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
