"""The ``ruralsim`` command line: run, validate, make-samples.

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


def _cmd_make_samples(args) -> int:
    from .samples import SAMPLE_FILES, make_samples

    folder = Path(args.dir)
    clash = [folder / n for n in SAMPLE_FILES if (folder / n).exists()]
    if clash and not args.overwrite:
        raise ScenarioError("sample file already exists; pass --overwrite to replace the "
                            "sample files, or choose another folder", file=str(clash[0]))
    paths = make_samples(folder, seed=args.seed, overwrite=args.overwrite)
    if not args.quiet:
        for name, p in paths.items():
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
    r.add_argument("--no-maps", action="store_true", help="skip coverage_map.png")
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario without running it")
    v.add_argument("scenario", help="scenario YAML file")
    v.set_defaults(func=_cmd_validate)
    m = sub.add_parser("make-samples", help="write small sample real-data files (population "
                       "GeoTIFF, DEM, boundary GeoJSON, OpenCelliD CSV) and a scenario")
    m.add_argument("dir", help="folder to write into (created if missing)")
    m.add_argument("--seed", type=int, default=2024, help="seed of the made-up data")
    m.add_argument("--overwrite", action="store_true", help="replace existing sample files")
    m.add_argument("--quiet", action="store_true", help="print nothing on success")
    m.set_defaults(func=_cmd_make_samples)
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
