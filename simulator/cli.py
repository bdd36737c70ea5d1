"""The ``ruralsim`` command line: run, validate, plan.

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


def _print_table(summary: dict, out_dir: Path | None, seconds: float) -> None:
    rows = [
        ("scenario", summary["scenario"]),
        ("population", f"{summary['population_total']:,}"),
        ("people covered", f"{summary['people_covered']:,} "
                           f"({100 * summary['coverage_fraction']:.1f} %)"),
        ("  by existing sites", f"{summary['people_covered_by_existing_sites']:,}"),
        ("  newly covered", f"{summary['people_newly_covered']:,}"),
        ("area covered", f"{summary['area_covered_km2']:,.1f} of {summary['area_km2']:,.0f} km2"),
        ("sites", f"{summary['sites_total']} ({summary['sites_existing']} existing, "
                  f"{summary['sites_new']} new)"),
    ]
    for name, d in summary["sites_by_type"].items():
        rows.append((f"  {name}", f"{d['existing']} existing, {d['new']} new"))
    rows += [
        ("people served per new site", f"{summary['people_served_per_new_site_mean']:,.0f}"),
        ("required signal", f"{summary['required_signal_dbm']:.1f} dBm "
                            f"{summary['signal_metric'].upper()} (threshold "
                            f"{summary['dl_threshold_dbm']:g} + fade margin "
                            f"{summary['fade_margin_db']:.1f} dB)"),
        ("run time", f"{seconds:.2f} s"),
    ]
    if out_dir is not None:
        rows.append(("results", str(out_dir)))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for w in summary.get("warnings", []):
        print(f"warning: {w}")


def _cmd_run(args) -> int:
    from .io.scenario_file import load_scenario
    from .runner import run

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
    result = run(scenario)
    saved = result.save(target, overwrite=args.overwrite, maps=False if args.no_maps else None)
    if not args.quiet:
        _print_table(result.summary, saved, time.perf_counter() - t0)
    return 0


def _cmd_validate(args) -> int:
    from .io.scenario_file import load_scenario
    from .runner import validate

    scenario = load_scenario(args.scenario)
    validate(scenario)
    print(f"{args.scenario}: valid scenario '{scenario.name}'")
    return 0


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
    from .planning import plan

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ruralsim", description="Rural connectivity coverage "
                                "simulator: who is covered, where, and at what cost.")
    p.add_argument("--version", action="version", version=f"ruralsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results")
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument("--out", help="results folder (default: outputs.dir or results/<name>)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing results folder")
    r.add_argument("--no-maps", action="store_true", help="skip coverage_map.png")
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario without running it")
    v.add_argument("scenario", help="scenario YAML file")
    v.set_defaults(func=_cmd_validate)
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
    return p


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
