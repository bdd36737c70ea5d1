"""Writing a PlanResult to a folder, atomically (as :mod:`simulator.io.results` does).

Files: ``chosen_sites.geojson`` (WGS 84 points, with each site's capex, opex, TCO, backhaul and
power as ``run`` costs them), ``planned_scenario.yaml`` (the input scenario with the chosen
sites added; ``ruralsim run`` reproduces the plan's people and costs), ``marginal_curve.csv``
and ``marginal_curve.png`` (people newly covered against sites and against cost),
``plan_summary.json`` (totals, why the plan stopped, warnings) and ``report.html`` (unless
``outputs.report`` is false). Everything is written into a hidden temporary folder beside the
target and renamed into place when complete.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from .outputs import atomic_folder, protected_paths, results_dir


def default_plan_dir(scenario, *, allow_outputs_dir: bool = True) -> Path:
    """``<outputs.dir>-plan`` or ``results/<name>-plan`` (the rule of
    :func:`simulator.io.outputs.results_dir`)."""
    return results_dir(scenario, allow_outputs_dir=allow_outputs_dir, suffix="-plan")


def save_plan(result, out_dir=None, *, overwrite: bool = False) -> Path:
    """Write the plan's outputs into ``out_dir`` (default :func:`default_plan_dir`), under
    the rules of :func:`simulator.io.outputs.atomic_folder`."""
    out = Path(out_dir) if out_dir is not None else default_plan_dir(result.scenario)
    with atomic_folder(out, overwrite=overwrite, protect=protected_paths(result.scenario),
                       kind="plan", what="plan folder") as tmp:
        _write_all(result, tmp)
    return out


def chosen_sites_frame(result):
    """GeoDataFrame of the chosen sites (selection order) in the region's CRS.

    Costs are those ``run`` of the planned scenario gives each site (capex [USD], opex
    [USD/year], TCO over the horizon [USD], backhaul and power choice).
    """
    import geopandas as gpd
    from pyproj import Transformer

    ch, p, c = result.chosen, result.placement, result.chosen_costs
    lon, lat = Transformer.from_crs(result.grid.crs, "EPSG:4326", always_xy=True).transform(
        np.asarray(ch.x_m, float), np.asarray(ch.y_m, float))
    basis = result.spec.cost_basis
    cost = c.cost(basis) if len(ch) else np.zeros(0)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(ch) + 1),
            "name": ch.names,
            "station_type": ch.station,
            "height_m": ch.attribute(result.stations, "height_m") if len(ch) else [],
            "lon": np.round(np.atleast_1d(lon), 7),
            "lat": np.round(np.atleast_1d(lat), 7),
            "people_added": result.chosen_people.astype(int),
            "people_served": np.asarray(result.chosen_served, dtype=int),
            "objective_added": np.round(p.marginal_people, 3),
            "cumulative_people": np.cumsum(result.chosen_people).astype(int),
            "capex_usd": np.round(c.capex_usd, 2),
            "opex_usd_per_year": np.round(c.opex_usd_per_year, 2),
            "tco_usd": np.round(c.tco_usd, 2),
            "backhaul": [str(o) for o in c.backhaul],
            "power": [str(o) for o in c.power],
            "cost_usd": np.round(cost, 2),
            "cumulative_cost_usd": np.round(np.cumsum(cost), 2),
            "method": [p.method] * len(ch),
            "x_m": ch.x_m,
            "y_m": ch.y_m,
        },
        geometry=gpd.points_from_xy(ch.x_m, ch.y_m), crs=result.grid.crs)


def write_marginal_curve_csv(result, path: Path) -> None:
    """One row per method and number of sites (from 0): people, objective and cost."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
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
    (folder / "chosen_sites.geojson").write_text(frame.to_json(drop_id=True, indent=1),
                                                 encoding="utf-8")
    planned = result.planned_scenario()
    header = (f"# {planned.name}: written by 'ruralsim plan' from {result.scenario.name}.\n"
              f"# The chosen sites are the 'placement: list' groups at the end of sites.new;\n"
              f"# 'ruralsim run' on this file covers "
              f"{result.summary['people_covered_when_run']:,} people; the chosen sites' "
              f"capex is USD {result.summary['capex_usd']:,.0f}.\n")
    (folder / "planned_scenario.yaml").write_text(
        header + yaml.safe_dump(planned.model_dump(mode="json", exclude={"planning"}),
                                sort_keys=False), encoding="utf-8")
    write_marginal_curve_csv(result, folder / "marginal_curve.csv")
    (folder / "plan_summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                              encoding="utf-8")

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
                 f"USD {s['cost_usd']:,.0f} {s['cost_basis']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(folder / "marginal_curve.png")
    if result.scenario.outputs.report:
        from ..report import build_plan_report_html

        png = (folder / "marginal_curve.png").read_bytes()
        (folder / "report.html").write_text(build_plan_report_html(
            result, {"marginal_curve": (png, "People newly covered against sites built and "
                                               "against cost.")}), encoding="utf-8")
