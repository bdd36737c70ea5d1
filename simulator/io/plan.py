"""Writing a PlanResult to a folder, atomically (as :mod:`simulator.io.results` does).

Files: ``chosen_sites.geojson`` (WGS 84 points), ``planned_scenario.yaml`` (the input scenario
with the chosen sites added; ``ruralsim run`` reproduces the plan), ``marginal_curve.csv`` and
``marginal_curve.png`` (people newly covered against sites and against cost),
``plan_summary.json`` and ``report.html`` (unless ``outputs.report`` is false). Everything is written into a hidden temporary folder beside the
target and renamed into place when complete.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from ..errors import ScenarioError
from .results import atomic_folder


def default_plan_dir(scenario) -> Path:
    """``<outputs.dir>-plan`` or ``results/<name>-plan``."""
    if scenario.outputs.dir:
        return Path(f"{scenario.outputs.dir.rstrip('/')}-plan")
    return Path("results") / f"{scenario.name}-plan"


def save_plan(result, out_dir=None, *, overwrite: bool = False) -> Path:
    """Write the plan's outputs into ``out_dir`` (default :func:`default_plan_dir`)."""
    out = Path(out_dir) if out_dir is not None else default_plan_dir(result.scenario)
    if out.exists() and not overwrite:
        raise ScenarioError("plan folder already exists; pass --overwrite (overwrite=True) "
                            "to replace it, or choose another --out", file=str(out))
    with atomic_folder(out, overwrite=overwrite) as tmp:
        _write_all(result, tmp)
    return out


def chosen_sites_frame(result):
    """GeoDataFrame of the chosen sites (selection order) in the region's CRS."""
    import geopandas as gpd

    ch, p = result.chosen, result.placement
    cost = result.candidate_cost_usd[p.chosen]
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(ch) + 1),
            "name": ch.names,
            "station_type": ch.station,
            "height_m": ch.attribute(result.stations, "height_m") if len(ch) else [],
            "cost_usd": cost,
            "people_added": result.chosen_people.astype(int),
            "objective_added": np.round(p.marginal_people, 3),
            "cumulative_people": np.cumsum(result.chosen_people).astype(int),
            "cumulative_cost_usd": np.cumsum(cost),
            "method": [p.method] * len(ch),
            "x_m": ch.x_m,
            "y_m": ch.y_m,
        },
        geometry=gpd.points_from_xy(ch.x_m, ch.y_m), crs=result.grid.crs)


def write_marginal_curve_csv(result, path: Path) -> None:
    """One row per method and number of sites (from 0): people, objective and cost."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["method", "sites", "site_name", "station_type", "people_added",
                    "cumulative_people", "cumulative_objective", "cumulative_cost_usd"])
        for name, p in result.placements.items():
            c = result.curve(name)
            names = [""] + [result.candidates.names[i] for i in p.chosen]
            types = [""] + [result.candidates.station[i] for i in p.chosen]
            added = np.r_[0, np.diff(c["people"])]
            for k in range(len(c["sites"])):
                w.writerow([p.method, int(c["sites"][k]), names[k], types[k], int(added[k]),
                            int(c["people"][k]), round(float(c["objective"][k]), 3),
                            round(float(c["cost_usd"][k]), 2)])


def _write_all(result, folder: Path) -> None:
    frame = chosen_sites_frame(result).to_crs("EPSG:4326")
    (folder / "chosen_sites.geojson").write_text(frame.to_json(drop_id=True, indent=1))
    planned = result.planned_scenario()
    header = (f"# {planned.name}: written by 'ruralsim plan' from {result.scenario.name}.\n"
              f"# The chosen sites are the 'placement: list' groups at the end of sites.new;\n"
              f"# 'ruralsim run' on this file covers "
              f"{result.summary['people_covered_after_plan']:,} people.\n")
    (folder / "planned_scenario.yaml").write_text(
        header + yaml.safe_dump(planned.model_dump(mode="json", exclude={"planning"}),
                                sort_keys=False))
    write_marginal_curve_csv(result, folder / "marginal_curve.csv")
    (folder / "plan_summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")

    # a Figure without pyplot: no global backend switch, nothing left open
    from matplotlib.figure import Figure

    from ..plotting import plot_marginal_curve

    fig = Figure(figsize=(12, 4.8), dpi=110)
    axes = fig.subplots(1, 2)
    plot_marginal_curve(result, ax=axes[0], x="sites")
    plot_marginal_curve(result, ax=axes[1], x="cost")
    s = result.summary
    fig.suptitle(f"{s['scenario']}: {s['sites_chosen']} sites chosen ({s['method']}), "
                 f"{s['people_newly_covered']:,} people newly covered for "
                 f"{s['cost_usd']:,.0f} USD", fontsize=11)
    fig.tight_layout()
    fig.savefig(folder / "marginal_curve.png")
    if result.scenario.outputs.report:
        from ..report import build_plan_report_html

        png = (folder / "marginal_curve.png").read_bytes()
        (folder / "report.html").write_text(build_plan_report_html(
            result, {"marginal_curve": (png, "People newly covered against sites built and "
                                               "against cost.")}), encoding="utf-8")
