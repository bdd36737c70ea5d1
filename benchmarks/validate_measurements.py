"""Validation against measured signal: every model, before and after calibration,
cross-validated by route (and transmitter), beside two baselines and a peer tool.

    python benchmarks/validate_measurements.py --data ../shared/realdata [--out DIR]

For each measurement set under ``DATA/measurements/`` (the Karst LoRa packet logs and the
Dortmund LTE drive tests, in their published layouts, or any folder holding
``measurements.csv`` + ``transmitters.csv`` in the generic format of docs/validation.md):

1. the set is converted to the generic format (``simulator.io.measurements`` adapters) and
   read by the same reader ``ruralsim calibrate`` uses;
2. a scenario is built around it (its extent plus 3 km, flat terrain unless ``--dem
   SET=FILE`` or a ``dem.tif`` in the set's folder gives one, every model with
   ``extrapolate_parameters: true`` because the sets' heights and frequencies leave the
   empirical models' ranges);
3. each model (free space, Hata open / suburban with both free-space-floor conventions,
   COST-231 urban with both a(h_m) conventions, RMa, ITM area mode; on a DEM also ITM
   point to point and delta-Bullington) is compared and calibrated
   (``simulator.calibration.calibrate``) with the set's design, fixed before looking at
   the figures: the LoRa set one offset and slope for all gateways (their link budgets are
   stated), the LTE set one EIRP offset per cell (power, height and azimuth unknown) and a
   common slope;
4. the figures: n, mean error, RMSE and std before, RMSE in sample after, and the k-fold
   cross-validated RMSE with folds of whole route pieces (1 km), and of whole transmitters
   (LoRa) or whole drives (LTE);
5. the baselines, cross-validated the same way: free space with one fitted offset per
   transmitter; on the Karst points the author's own SPLAT!/ITM prediction (no fit).

The primary model of each set, named before the run (``PRIMARY``), is the one checked
against the targets (cross-validated by route: <= 7 dB Dortmund, <= 10 dB Karst, and below
both baselines). Nothing here is tuned to these files: held-back sets of the same kinds go
through the same code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.calibration import calibrate  # noqa: E402
from simulator.io import measurements as mio  # noqa: E402

#: Models compared: (key, label, propagation section). 'dem' marks terrain methods.
MODELS = [
    ("free_space", "free space", {"model": "free_space"}),
    ("hata_open", "Hata open (floor: always)", {"model": "hata_1980", "environment": "open"}),
    ("hata_open_inside", "Hata open (floor: outside validity)",
     {"model": "hata_1980", "environment": "open", "free_space_floor": "outside_validity"}),
    ("hata_suburban", "Hata suburban (floor: always)",
     {"model": "hata_1980", "environment": "suburban"}),
    ("hata_suburban_inside", "Hata suburban (floor: outside validity)",
     {"model": "hata_1980", "environment": "suburban", "free_space_floor": "outside_validity"}),
    ("cost231", "COST-231 urban, medium city", {"model": "cost231_hata", "environment": "urban"}),
    ("cost231_large", "COST-231 urban, metropolitan (a(h_m) by city size)",
     {"model": "cost231_hata", "environment": "urban", "city_size": "large"}),
    ("cost231_large_quoted", "COST-231 urban, metropolitan (a(h_m) small/medium)",
     {"model": "cost231_hata", "environment": "urban", "city_size": "large",
      "cost231_mobile_correction": "small_medium"}),
    ("rma", "RMa (LOS-weighted)", {"model": "rma_38901"}),
    ("itm_area", "ITM area mode", {"model": "itm_area"}),
    ("itm", "ITM point to point (DEM)", {"model": "itm"}),
    ("delta_bullington", "delta-Bullington (DEM)", {"model": "delta_bullington"}),
]
TERRAIN_ONLY = {"itm", "delta_bullington"}
#: ITM's guide value of the terrain irregularity for hills (its default), used by the
#: area mode when a set has no DEM [m].
DELTA_H_NO_DEM_M = 90.0
#: The model each set is judged by, and its calibration design (named before any run).
PRIMARY = {"karst": "itm_area", "dortmund": "cost231"}
TARGET_DB = {"karst": 10.0, "dortmund": 7.0}


# ---------------------------------------------------------------------------------------
# sets
# ---------------------------------------------------------------------------------------
def find_sets(data: Path) -> list[dict]:
    """Measurement sets under ``data/measurements`` (by layout)."""
    out = []
    folder = data / "measurements"
    for d in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
        if (d / "sites_and_link_params.json").is_file():
            out.append({"name": "karst", "folder": d, "layout": "karst_lora"})
        elif any(d.glob("*_*.csv")) and _looks_dortmund(d):
            out.append({"name": "dortmund", "folder": d, "layout": "dortmund_lte"})
        elif (d / "measurements.csv").is_file():
            out.append({"name": d.name, "folder": d, "layout": "generic"})
    return out


def _looks_dortmund(d: Path) -> bool:
    for f in d.glob("*_*.csv"):
        head = f.open(encoding="utf-8").readline()
        return "cellLon" in head and "rsrp" in head
    return False


def convert(s: dict, tmp: Path) -> dict:
    """Generic files for a set: ``measurements``, ``transmitters`` paths (and extras)."""
    m, t = tmp / f"{s['name']}_measurements.csv", tmp / f"{s['name']}_transmitters.csv"
    extra = {}
    if s["layout"] == "karst_lora":
        tab = mio.karst_lora_tables(s["folder"])
        extra["fixed_link"] = tab["fixed_link"]
    elif s["layout"] == "dortmund_lte":
        tab = mio.dortmund_lte_tables(s["folder"])
    else:
        return {"measurements": s["folder"] / "measurements.csv",
                "transmitters": s["folder"] / "transmitters.csv", **extra}
    mio.write_table_csv(m, tab["measurements"])
    mio.write_table_csv(t, tab["transmitters"])
    return {"measurements": m, "transmitters": t, **extra}


def design(s: dict) -> dict:
    """The calibration design of a set (see the module docstring)."""
    if s["layout"] == "dortmund_lte":
        return {"per": "transmitter", "second_folds": ("route", 1e12, "whole drives")}
    return {"per": "transmitter", "second_folds": ("transmitter", None, "whole transmitters")}


def scenario_for(s: dict, files: dict, tmp: Path, prop: dict, dem: Path | None) -> Path:
    meas = mio.read_measurements(files["measurements"])
    tx = mio.read_transmitters(files["transmitters"])
    lon = np.r_[meas.lon, tx.lon]
    lat = np.r_[meas.lat, tx.lat]
    clon, clat = float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2)
    w = (lon.max() - lon.min()) * 111.32 * math.cos(math.radians(clat)) + 6.0
    h = (lat.max() - lat.min()) * 110.57 + 6.0
    freq = float(np.median(tx.frequency_mhz))
    tech = "lte_800" if freq < 1000 else "lte_1800"
    p = dict(prop, extrapolate_parameters=True)
    if p["model"] in ("itm_area",) and dem is None:
        p["itm"] = {"terrain_irregularity_m": DELTA_H_NO_DEM_M}
    data = {"name": f"validation-{s['name']}", "seed": 1,
            "region": {"centre_lon_lat": [clon, clat], "width_km": math.ceil(w),
                       "height_km": math.ceil(h), "resolution_m": 100.0 if dem else 200.0},
            "population": {"synthetic": {"total_people": 1000, "settlements": 2}},
            "terrain": {"raster": {"file": str(dem)}} if dem else "flat",
            "technology": tech, "propagation": p,
            "outputs": {"maps": False, "report": False}}
    path = tmp / f"{s['name']}_{p['model']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------
def _r(v, nd=2):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else round(v, nd)


def evaluate(s: dict, files: dict, tmp: Path, dem: Path | None, models: list, args) -> dict:
    des = design(s)
    rows = {}
    keep = {}
    for key, label, prop in MODELS:
        if key not in models or (key in TERRAIN_ONLY and dem is None):
            continue
        scen = scenario_for(s, files, tmp, prop, dem)
        t0 = time.perf_counter()
        cal = calibrate(scen, files["measurements"], transmitters=files["transmitters"],
                        per=des["per"], folds=args.folds, segment_m=args.segment_m)
        fb, seg, what = des["second_folds"]
        cal2 = calibrate(scen, files["measurements"], transmitters=files["transmitters"],
                         per=des["per"], folds=args.folds, folds_by=fb,
                         segment_m=seg or args.segment_m)
        b = cal.comparison.statistics["all"]
        cv = cal.cross_validation["stats"]
        rows[key] = {
            "label": label, "n": b["n"], "before_mean_db": _r(b["mean_error_db"]),
            "before_rmse_db": _r(b["rmse_db"]), "before_std_db": _r(b["std_db"]),
            "after_rmse_db": _r(cal.statistics_after["all"]["rmse_db"]),
            "cv_route_rmse_db": _r(cv["all"]["rmse_db"]),
            "cv_route_mean_db": _r(cv["all"]["mean_error_db"]),
            "cv_route_std_db": _r(cv["all"]["std_db"]),
            "cv_second_rmse_db": _r(cal2.cross_validation["stats"]["all"]["rmse_db"]),
            "cv_second": what,
            "offset_db": _r(cal.correction.offset_db), "slope_db_per_decade":
                _r(cal.correction.slope_db_per_decade), "sigma_db": _r(cal.correction.sigma_db),
            "correlation_distance_m": _r(cal.correlation["fit"].get("correlation_distance_m"), 0),
            "floor_decided_share": _r(cal.comparison.conventions["floor_decided_share"], 4),
            "cv_by_route_type": {k: _r(v["rmse_db"]) for k, v in
                                 cv.get("by_route_type", {}).items()},
            "seconds": _r(time.perf_counter() - t0, 1),
        }
        keep[key] = cal
        if s["name"] == "karst" and key == PRIMARY.get("karst"):
            cens = calibrate(scen, files["measurements"], transmitters=files["transmitters"],
                             per=des["per"], folds=args.folds, segment_m=args.segment_m,
                             censored_fit=True)
            rows[key]["censored_fit"] = {
                "cv_route_rmse_db": _r(cens.cross_validation["stats"]["all"]["rmse_db"]),
                "offset_db": _r(cens.correction.offset_db),
                "slope_db_per_decade": _r(cens.correction.slope_db_per_decade),
                "sigma_db": _r(cens.correction.sigma_db),
                "random_loss_share": _r(cens.correction.random_loss_share, 3),
                "censored": cens.correction.n_censored, "truncated": cens.correction.n_truncated}
    # baseline: free space with one offset per transmitter (no slope, no shrinkage)
    scen = scenario_for(s, files, tmp, {"model": "free_space"}, dem)
    base = calibrate(scen, files["measurements"], transmitters=files["transmitters"],
                     per="transmitter", fit_slope=False, shrink=False, folds=args.folds,
                     segment_m=args.segment_m)
    bcv = base.cross_validation["stats"]
    baselines = {"free_space_per_transmitter": {
        "cv_route_rmse_db": _r(bcv["all"]["rmse_db"]), "after_rmse_db":
            _r(base.statistics_after["all"]["rmse_db"]),
        "cv_by_route_type": {k: _r(v["rmse_db"]) for k, v in bcv.get("by_route_type", {}).items()}}}
    peer = base.comparison.peer_statistics
    if peer:
        baselines["peer"] = {"n": peer["all"]["n"], "mean_error_db": _r(peer["all"]["mean_error_db"]),
                             "rmse_db": _r(peer["all"]["rmse_db"]), "std_db": _r(peer["all"]["std_db"])}
        # the primary model's cross-validated error on exactly the peer's points
        prim = keep.get(PRIMARY.get(s["name"]))
        if prim is not None:
            on = np.isfinite(prim.points.peer) & ~prim.points.censored
            e = prim.cv_error_db[on]
            baselines["peer"]["primary_cv_rmse_on_peer_points_db"] = _r(float(np.sqrt(np.mean(e * e))))
    fixed = None
    if files.get("fixed_link") is not None:
        r = files["fixed_link"]["rssi_dbm"]
        fixed = {"samples": int(r.size), "mean_dbm": _r(float(r.mean())),
                 "std_db": _r(float(r.std())), "p10_dbm": _r(float(np.percentile(r, 10))),
                 "p90_dbm": _r(float(np.percentile(r, 90))),
                 "link": f"{files['fixed_link']['transmitter']} -> {files['fixed_link']['receiver']}"}
    prim_key = PRIMARY.get(s["name"])
    verdict = None
    if prim_key in rows:
        p = rows[prim_key]["cv_route_rmse_db"]
        checks = {"target_db": TARGET_DB.get(s["name"]),
                  "meets_target": TARGET_DB.get(s["name"]) is not None and p <= TARGET_DB[s["name"]],
                  "beats_free_space_per_transmitter":
                      p < baselines["free_space_per_transmitter"]["cv_route_rmse_db"]}
        if "peer" in baselines:
            checks["beats_peer"] = baselines["peer"]["primary_cv_rmse_on_peer_points_db"] < \
                baselines["peer"]["rmse_db"]
        verdict = dict(model=prim_key, cv_route_rmse_db=p, **checks)
    out = {"set": s["name"], "folder": str(s["folder"]), "layout": s["layout"],
           "dem": str(dem) if dem else None, "design": {"per": des["per"],
                                                        "segment_m": args.segment_m,
                                                        "folds": args.folds},
           "points": rows[next(iter(rows))]["n"] if rows else None, "models": rows,
           "baselines": baselines, "fixed_link": fixed, "primary": verdict,
           "warnings": keep[prim_key].warnings if prim_key in keep else []}
    if args.out and prim_key in keep:
        keep[prim_key].save(Path(args.out) / f"{s['name']}-{prim_key}", overwrite=True)
    return out


def print_set(res: dict) -> None:
    print(f"\n== {res['set']} ({res['layout']}, {res['points']} received samples, "
          f"{'DEM ' + res['dem'] if res['dem'] else 'no DEM'}) ==")
    print(f"design: {'one EIRP offset per cell + common slope' if res['design']['per'] else 'one offset + slope'}; "
          f"{res['design']['folds']}-fold CV, folds of {res['design']['segment_m']:g} m route pieces")
    first = next(iter(res["models"].values()), None)
    second = first["cv_second"] if first else ""
    head = (f"{'model':52s} {'n':>6s} {'mean':>6s} {'RMSE':>6s} {'std':>6s} | {'in-s.':>6s} "
            f"{'CV rt':>6s} {'CV ' + second[:10]:>14s} | {'K1':>6s} {'K2':>6s} {'sigma':>5s} "
            f"{'floor%':>6s}")
    print(head)
    print("-" * len(head))
    for key, r in res["models"].items():
        star = "*" if res["primary"] and key == res["primary"]["model"] else " "
        print(f"{star}{r['label']:51s} {r['n']:6d} {r['before_mean_db']:6.1f} "
              f"{r['before_rmse_db']:6.1f} {r['before_std_db']:6.1f} | {r['after_rmse_db']:6.2f} "
              f"{r['cv_route_rmse_db']:6.2f} {r['cv_second_rmse_db']:14.2f} | "
              f"{r['offset_db']:6.1f} {r['slope_db_per_decade']:6.1f} {r['sigma_db']:5.1f} "
              f"{100 * r['floor_decided_share']:6.1f}")
        if "censored_fit" in r:
            c = r["censored_fit"]
            print(f"  {'  same, censored fit':50s} {'':6s} {'':6s} {'':6s} {'':6s} | {'':6s} "
                  f"{c['cv_route_rmse_db']:6.2f} {'':14s} | {c['offset_db']:6.1f} "
                  f"{c['slope_db_per_decade']:6.1f} {c['sigma_db']:5.1f}  (random loss "
                  f"{100 * c['random_loss_share']:.0f} %, {c['censored']} censored)")
    b = res["baselines"]["free_space_per_transmitter"]
    print(f" {'baseline: free space, one offset per transmitter':51s} {'':6s} {'':6s} {'':6s} "
          f"{'':6s} | {b['after_rmse_db']:6.2f} {b['cv_route_rmse_db']:6.2f}")
    if "peer" in res["baselines"]:
        p = res["baselines"]["peer"]
        print(f" {'peer: author SPLAT!/ITM (no fit)':51s} {p['n']:6d} {p['mean_error_db']:6.1f} "
              f"{p['rmse_db']:6.1f} {p['std_db']:6.1f} | primary CV on the same points "
              f"{p['primary_cv_rmse_on_peer_points_db']:.2f}")
    rt = res["models"].get(res["primary"]["model"], {}).get("cv_by_route_type") if res["primary"] else None
    if rt:
        base_rt = res["baselines"]["free_space_per_transmitter"]["cv_by_route_type"]
        print("CV RMSE per route type (primary | free space per cell): " + ", ".join(
            f"{k} {v:.2f} | {base_rt.get(k, float('nan')):.2f}" for k, v in rt.items()))
    if res["fixed_link"]:
        f = res["fixed_link"]
        print(f"fixed link {f['link']} over six weeks: {f['samples']} packets, mean "
              f"{f['mean_dbm']} dBm, std {f['std_db']} dB, 10-90 % {f['p10_dbm']} to "
              f"{f['p90_dbm']} dBm (time variability of one path)")
    v = res["primary"]
    if v:
        ok = lambda b: "met" if b else "NOT met"  # noqa: E731
        line = (f"targets (primary {v['model']}, CV by route {v['cv_route_rmse_db']:.2f} dB): "
                f"<= {v['target_db']:g} dB {ok(v['meets_target'])}; beats free space per "
                f"transmitter {ok(v['beats_free_space_per_transmitter'])}")
        if "beats_peer" in v:
            line += f"; beats the peer {ok(v['beats_peer'])}"
        print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "realdata"),
                    help="folder with measurements/ (default ../shared/realdata)")
    ap.add_argument("--sets", help="comma-separated set names (default all found)")
    ap.add_argument("--models", help="comma-separated model keys (default all): "
                    + ", ".join(k for k, _, _ in MODELS))
    ap.add_argument("--dem", action="append", default=[], metavar="SET=FILE",
                    help="a DEM GeoTIFF for a set (enables ITM p2p and delta-Bullington)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--segment-m", type=float, default=1000.0)
    ap.add_argument("--out", help="write validation.json and the primary models' outputs here")
    args = ap.parse_args(argv)
    data = Path(args.data)
    sets = find_sets(data)
    if args.sets:
        want = set(args.sets.split(","))
        sets = [s for s in sets if s["name"] in want]
    if not sets:
        print(f"no measurement sets under {data / 'measurements'}", file=sys.stderr)
        return 2
    models = [k for k, _, _ in MODELS] if not args.models else args.models.split(",")
    dems = dict(d.split("=", 1) for d in args.dem)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"validate_measurements: {len(sets)} sets, load average {load:.2f} (2 cores shared)")
    results = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="validate-") as tmpd:
        tmp = Path(tmpd)
        for s in sets:
            dem = dems.get(s["name"]) or (s["folder"] / "dem.tif" if
                                          (s["folder"] / "dem.tif").is_file() else None)
            files = convert(s, tmp)
            res = evaluate(s, files, tmp, Path(dem) if dem else None, models, args)
            print_set(res)
            results.append(res)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "validation.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
