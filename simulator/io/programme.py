"""Writing a ProgrammeResult to a folder, atomically (the rules of :mod:`simulator.io.outputs`).

Files:

* ``programme_summary.json``: goal, people covered, technology mix, capex / opex / TCO, NPV,
  viability gap (subsidy), relay chains, the solver's method / optimality / gap / time, the
  rollout by year, warnings;
* ``villages.csv`` and ``villages.geojson``: one row per location: people, what it gets
  (an option, ``covered_by_neighbour``, ``existing`` or ``none``), which site serves it, its
  build year and the reason;
* ``programme_sites.geojson``: the chosen sites and hotspots (build order) with their costs,
  build year, NPV, viability gap and backhaul (parent, hops, over capacity, upgrade);
  ``backhaul_links.geojson``: the relay tree as lines from donor to site;
* ``rollout.csv``: per year: sites built, capex, opex, revenue, cash flow, people covered
  and connected;
* ``cost_curve.csv``: people against cost for the mix and each technology alone;
* ``technology_map.png``, ``viability_map.png``, ``cost_curve.png``, ``rollout.png``;
* ``report.html`` (unless ``outputs.report`` is false): headline numbers, mix, figures,
  rollout, sites, locations and their reasons, solver, settings;
* ``programme_scenario.yaml``: the input scenario with the chosen cell sites added (one
  ``placement: list`` group per station type and build year) for ``ruralsim run``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from .outputs import atomic_folder, protected_paths, results_dir

__all__ = ["default_programme_dir", "save_programme", "sites_frame", "villages_frame"]


def default_programme_dir(scenario, *, allow_outputs_dir: bool = True) -> Path:
    """``<outputs.dir>-programme`` or ``results/<name>-programme``."""
    return results_dir(scenario, allow_outputs_dir=allow_outputs_dir, suffix="-programme")


def save_programme(result, out_dir=None, *, overwrite: bool = False) -> Path:
    """Write the programme's outputs into ``out_dir`` (default :func:`default_programme_dir`)
    under the rules of :func:`simulator.io.outputs.atomic_folder`."""
    out = Path(out_dir) if out_dir is not None else default_programme_dir(result.scenario)
    with atomic_folder(out, overwrite=overwrite, protect=protected_paths(result.scenario),
                       kind="programme", what="programme folder") as tmp:
        _write_all(result, tmp)
    return out


def _lonlat(grid, x, y):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(
        np.asarray(x, float), np.asarray(y, float))
    return np.round(np.atleast_1d(lon), 7), np.round(np.atleast_1d(lat), 7)


def sites_frame(result):
    """GeoDataFrame (WGS 84) of the chosen sites and hotspots, in build order."""
    import geopandas as gpd

    s = result.sites
    lon, lat = _lonlat(result.grid, s["x_m"], s["y_m"])
    cols = {"rank": np.arange(1, len(s["name"]) + 1), "name": s["name"],
            "option": s["option"], "kind": s["kind"], "station_type": s["station"],
            "lon": lon, "lat": lat}
    for k in ("people_added", "people_served", "build_year", "terminals", "hops"):
        cols[k] = np.asarray(s[k], dtype=np.int64)
    for k in ("capex_usd", "opex_usd_per_year", "tco_usd", "npv_usd", "viability_gap_usd"):
        cols[k] = np.round(np.asarray(s[k], dtype=np.float64), 2)
    cols["backhaul"] = [str(v) for v in s["backhaul"]]
    cols["power"] = [str(v) for v in s["power"]]
    cols["backhaul_parent"] = list(s["backhaul_parent"])
    cols["backhaul_capacity_exceeded"] = np.asarray(s["capacity_exceeded"], dtype=bool)
    cols["backhaul_upgrade"] = list(s["upgrade"])
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def villages_frame(result):
    """GeoDataFrame (WGS 84) of the locations: people, choice, serving site, reason."""
    import geopandas as gpd

    rows = result.villages
    lon, lat = _lonlat(result.grid, [r["x_m"] for r in rows], [r["y_m"] for r in rows])
    return gpd.GeoDataFrame(
        {"location": [r["location"] for r in rows], "people": [r["people"] for r in rows],
         "choice": [r["choice"] for r in rows], "served_by": [r["served_by"] for r in rows],
         "build_year": [r["build_year"] for r in rows], "reason": [r["reason"] for r in rows],
         "lon": lon, "lat": lat},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _links_geojson(result) -> dict:
    s = result.sites
    kept = result.kept_sites
    xy = {n: (x, y) for n, x, y in zip(kept.names, kept.x_m, kept.y_m)}
    xy.update({n: (x, y) for n, x, y in zip(s["name"], s["x_m"], s["y_m"])})
    feats = []
    for k, parent in enumerate(s["backhaul_parent"]):
        if not parent or parent not in xy:
            continue
        p = xy[parent]
        lon, lat = _lonlat(result.grid, [p[0], s["x_m"][k]], [p[1], s["y_m"][k]])
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString",
                                   "coordinates": [[float(lon[0]), float(lat[0])],
                                                   [float(lon[1]), float(lat[1])]]},
                      "properties": {"from": parent, "to": s["name"][k],
                                     "link": str(s["backhaul"][k]), "hops": int(s["hops"][k]),
                                     "capacity_exceeded": bool(s["capacity_exceeded"][k]),
                                     "upgrade": str(s["upgrade"][k])}})
    return {"type": "FeatureCollection", "features": feats}


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            fh.write("")
            return
        names = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(fh, fieldnames=names, restval="")
        w.writeheader()
        w.writerows(rows)


def _write_all(result, folder: Path) -> None:
    from matplotlib.figure import Figure

    from ..plotting import (plot_programme_cost_curve, plot_programme_rollout,
                            plot_technology_map, plot_viability_map)

    s = result.summary
    (folder / "programme_summary.json").write_text(json.dumps(s, indent=2) + "\n",
                                                   encoding="utf-8")
    vf = villages_frame(result)
    _write_csv(folder / "villages.csv", [
        {k: r[k] for k in ("location", "people", "choice", "served_by", "build_year",
                           "reason")} | {"lon": float(lo), "lat": float(la)}
        for r, lo, la in zip(result.villages, vf["lon"], vf["lat"])])
    (folder / "villages.geojson").write_text(vf.to_json(drop_id=True, indent=1),
                                             encoding="utf-8")
    (folder / "programme_sites.geojson").write_text(
        sites_frame(result).to_json(drop_id=True, indent=1), encoding="utf-8")
    (folder / "backhaul_links.geojson").write_text(json.dumps(_links_geojson(result), indent=1),
                                                   encoding="utf-8")
    _write_csv(folder / "rollout.csv", result.rollout.table())
    _write_csv(folder / "cost_curve.csv", [
        {k: v for k, v in r.items() if k not in ("chosen", "by_technology")}
        | {f"{t}_{k}": v for t, d in r.get("by_technology", {}).items()
           for k, v in d.items()} for r in result.curve])

    fig = Figure(figsize=(13, 7.5), dpi=110)
    plot_technology_map(result, ax=fig.subplots())
    fig.tight_layout()
    fig.savefig(folder / "technology_map.png", bbox_inches="tight")
    fig = Figure(figsize=(12, 7.5), dpi=110)
    plot_viability_map(result, ax=fig.subplots())
    fig.tight_layout()
    fig.savefig(folder / "viability_map.png", bbox_inches="tight")
    fig = Figure(figsize=(7.5, 4.8), dpi=110)
    plot_programme_cost_curve(result, ax=fig.subplots())
    fig.suptitle(f"{s['scenario']}: people against cost", fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "cost_curve.png")
    fig = Figure(figsize=(7.5, 4.8), dpi=110)
    plot_programme_rollout(result, ax=fig.subplots())
    fig.suptitle(f"{s['scenario']}: rollout by year (NPV USD {s['npv_usd']:,.0f}, viability "
                 f"gap USD {s['viability_gap_usd']:,.0f})", fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "rollout.png")

    if result.scenario.outputs.report:
        from ..report import build_programme_report_html

        caps = {"technology_map": "Technology per location: the people each technology "
                                  "covers (shaded), villages by what they get, sites and "
                                  "the backhaul tree.",
                "viability_map": "Viability gap per site: sites that pay for themselves and "
                                 "those needing a subsidy (area: the gap).",
                "cost_curve": "People newly covered against cost: the mix and each "
                              "technology alone.",
                "rollout": "People covered and connected by year; capex per year."}
        figs = {k: ((folder / f"{k}.png").read_bytes(), c) for k, c in caps.items()}
        (folder / "report.html").write_text(build_programme_report_html(result, figs),
                                            encoding="utf-8")
    planned = result.programme_scenario()
    header = (f"# {planned.name}: written by 'ruralsim programme' from {result.scenario.name}.\n"
              "# The chosen cell sites are the 'placement: list' groups at the end of "
              "sites.new\n# (one per station type and build year); satellite hotspots are "
              "not radio sites and are not in it.\n")
    (folder / "programme_scenario.yaml").write_text(
        header + yaml.safe_dump(planned.model_dump(mode="json", exclude={"programme",
                                                                          "planning"}),
                                sort_keys=False), encoding="utf-8")
