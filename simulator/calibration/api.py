"""``compare`` and ``calibrate``: a scenario's predictions against measurements.

>>> from simulator.calibration import calibrate                 # doctest: +SKIP
>>> cal = calibrate("district.yaml", "drive_test.csv")            # doctest: +SKIP
>>> cal.cross_validation["stats"]["all"]["rmse_db"]               # doctest: +SKIP
>>> cal.save("results/district-calibration")                     # doctest: +SKIP

The orchestration of :mod:`simulator.calibration`: read the files (:mod:`simulator.io.measurements`),
build the scenario up to its sites (:func:`simulator.pipeline.runner.prepare`), predict at
the points (:func:`~simulator.calibration.points.predict_points`), fit
(:func:`~simulator.calibration.fit.fit_correction`), cross-validate, and hand the
correction back as a scenario section (``propagation.calibration``).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..io.measurements import (UNIT, Measurements, TransmitterTable, read_measurements,
                               read_transmitters)
from .fit import Correction, assign_folds, fit_correction, route_segments
from .points import PointTable, predict_points
from .spatial import fit_exponential_correlation, residual_correlogram
from .stats import summarise

#: A warning is given when more than this share of received samples lies within
#: :data:`NEAR_FLOOR_DB` of the receiver floor (or of the lowest value, floor unknown).
NEAR_FLOOR_SHARE = 0.10
NEAR_FLOOR_DB = 3.0
#: Distance range of each model's published fit [m] (outside: extrapolation).
MODEL_DISTANCE_RANGE_M = {"hata_1980": (1000.0, 20000.0), "cost231_hata": (1000.0, 20000.0),
                          "rma_38901": (10.0, 10000.0), "itm_area": (1000.0, 2_000_000.0)}
FOLDS_BY = ("route", "transmitter")
PER = (None, "transmitter", "clutter_class")


def _load(scenario):
    from ..io.scenario_file import load_scenario
    from ..schema import Scenario

    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def _src(scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


@dataclass
class Comparison:
    """A scenario's predictions at measurement points, and how far they fall.

    Attributes
    ----------
    scenario : Scenario
    points : PointTable
        One row per sample used.
    measurements : Measurements
        What the file held (before region checks).
    transmitters_file : TransmitterTable or None
    statistics : dict
        :func:`~simulator.calibration.stats.summarise` of the scenario's own predictions.
    peer_statistics : dict or None
        The same for the file's ``peer_prediction`` column (on its rows).
    skipped : dict
        Rows left out by reason.
    censoring : dict
        What is known of the samples below the receiver floor.
    conventions : dict
        The model conventions used and how often they decided a point.
    warnings : list of str
    """

    scenario: object
    points: PointTable
    measurements: Measurements
    transmitters_file: TransmitterTable | None
    statistics: dict
    peer_statistics: dict | None
    skipped: dict
    censoring: dict
    conventions: dict
    warnings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        m, pts = self.measurements, self.points
        tx_points = {n: int((pts.transmitter == n).sum()) for n in pts.transmitters}
        return {
            "scenario": self.scenario.name,
            "scenario_file": _src(self.scenario),
            "model": pts.model,
            "value_kind": pts.kind,
            "unit": UNIT[pts.kind],
            "error_convention": "predicted minus measured",
            "measurements": {"file": m.file, "sha256": m.sha256, "value_column": m.value_column,
                             "rows": m.rows_read, "used": len(pts),
                             "received": int((~pts.censored).sum()),
                             "censored": int(pts.censored.sum()),
                             "skipped": dict(self.skipped),
                             "routes": sorted(set(pts.route.tolist()))},
            "transmitters_file": None if self.transmitters_file is None else {
                "file": self.transmitters_file.file, "sha256": self.transmitters_file.sha256},
            "transmitters": {n: dict(v, points=tx_points[n])
                             for n, v in pts.transmitters.items()},
            "conventions": self.conventions,
            "censoring": self.censoring,
            "statistics": self.statistics,
            "peer_statistics": self.peer_statistics,
            "warnings": list(self.warnings),
        }

    def save(self, out_dir, *, overwrite: bool = False) -> Path:
        """calibration.json, points.csv and the figures, written atomically."""
        from ..io.measurements import save_calibration_outputs

        return save_calibration_outputs(self, out_dir, overwrite=overwrite)


@dataclass
class Calibration:
    """A fitted correction with its in-sample and cross-validated statistics.

    Attributes
    ----------
    comparison : Comparison
        The scenario as given, against the measurements.
    correction : Correction
        Fitted to the residuals of ``comparison.points``.
    statistics_after : dict
        In-sample statistics with the correction applied.
    cross_validation : dict
        ``folds_by``, ``folds``, ``groups``, ``segment_m``, ``stats`` (summarise of the
        out-of-fold errors), ``per_fold``.
    correlation : dict
        The residual correlogram and its exponential fit.
    calibrated_scenario : Scenario
        The input scenario with ``propagation.calibration`` (what ``run`` then applies).
    calibrated_scenario_data : dict
        The same as plain data (what calibrated_scenario.yaml holds).
    """

    comparison: Comparison
    correction: Correction
    statistics_after: dict
    cross_validation: dict
    correlation: dict
    calibrated_scenario: object
    calibrated_scenario_data: dict
    options: dict = field(default_factory=dict)
    cv_error_db: np.ndarray | None = None

    @property
    def points(self) -> PointTable:
        return self.comparison.points

    @property
    def calibrated_points(self) -> PointTable:
        """The points with the fitted correction applied (in sample)."""
        return self.points.corrected(self.correction_at_points())

    def correction_at_points(self) -> np.ndarray:
        pts = self.points
        return self.correction.correction_db(pts.distance_m, _groups(pts, self.correction.per))

    @property
    def warnings(self) -> list:
        return self.comparison.warnings

    def to_dict(self) -> dict:
        out = self.comparison.to_dict()
        out["statistics_before"] = out.pop("statistics")
        cv = {k: v for k, v in self.cross_validation.items()}
        out.update({
            "calibration": dict(self.correction.to_dict(), options=self.options),
            "statistics_after": self.statistics_after,
            "cross_validation": cv,
            "correlation": self.correlation,
            "calibrated_scenario": self.calibrated_scenario_data.get("propagation", {}).get(
                "calibration"),
        })
        out["warnings"] = out.pop("warnings")
        return out

    def save(self, out_dir, *, overwrite: bool = False) -> Path:
        """calibration.json, points.csv, calibrated_scenario.yaml and the figures,
        written atomically."""
        from ..io.measurements import save_calibration_outputs

        return save_calibration_outputs(self, out_dir, overwrite=overwrite)


def _groups(points: PointTable, per):
    if per is None:
        return None
    if per == "transmitter":
        return points.transmitter
    if points.clutter_class is None:
        raise ScenarioError("per clutter class needs a scenario with clutter (none here); "
                            "use per transmitter or a global fit", key="--per")
    return points.clutter_class


def _read_inputs(scenario, measurements, transmitters, value_column, kind):
    meas = measurements if isinstance(measurements, Measurements) else read_measurements(
        measurements, value_column=value_column, kind=kind)
    table = transmitters
    if transmitters is not None and not isinstance(transmitters, TransmitterTable):
        table = read_transmitters(transmitters)
    return meas, table


def compare(scenario, measurements, *, transmitters=None, value_column: str | None = None,
            kind: str | None = None, floor_dbm: float | None = None) -> Comparison:
    """Predict every measurement point with the scenario's model chain and compare.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (its model, terrain, sites and stations).
    measurements : path or Measurements
        CSV or GeoJSON (:mod:`simulator.io.measurements`).
    transmitters : path or TransmitterTable, optional
        Transmitters that are not sites of the scenario.
    value_column, kind : str, optional
        The value column and what it is, when not a recognised column name.
    floor_dbm : float, optional
        Receiver floor for censored samples without one of their own [dBm].

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        Any problem with the scenario, the files or their rows (one line, file and row).
    """
    from ..pipeline.runner import prepare

    scenario = _load(scenario)
    meas, table = _read_inputs(scenario, measurements, transmitters, value_column, kind)
    pre = prepare(scenario, mode="tiled")
    points, skipped, warnings = predict_points(pre, meas, table, floor_dbm=floor_dbm,
                                               scenario_file=_src(scenario))
    skipped = {"missing_value": int(meas.skipped.get("missing_value", 0)), **skipped}
    if skipped["missing_value"]:
        warnings.insert(0, f"{skipped['missing_value']} rows with an empty value were "
                           "skipped")
    stats = summarise(points)
    peer = None
    has_peer = np.isfinite(points.peer) & ~points.censored
    if has_peer.any():
        sub = points.subset(np.flatnonzero(has_peer))
        peer = summarise(sub, error_db=sub.peer - sub.measured)
        peer["on_the_same_points"] = summarise(sub)["all"]
    conventions = _conventions(pre, points, warnings)
    censoring = _censoring(points, warnings)
    return Comparison(scenario=scenario, points=points, measurements=meas,
                      transmitters_file=table, statistics=stats, peer_statistics=peer,
                      skipped=skipped, censoring=censoring, conventions=conventions,
                      warnings=warnings)


def _conventions(pre, points: PointTable, warnings: list) -> dict:
    p = pre.scenario.propagation
    n = max(len(points), 1)
    share = float(points.floor_decided.mean()) if len(points) else 0.0
    out = {"free_space_floor": p.free_space_floor,
           "cost231_mobile_correction": p.cost231_mobile_correction,
           "extrapolate_parameters": p.extrapolate_parameters,
           "floor_decided_points": int(points.floor_decided.sum()),
           "floor_decided_share": share}
    base = pre.method.base.name if pre.method is not None else pre.model.name
    if share > 0:
        warnings.append(f"the free-space floor ({p.free_space_floor}) gave the loss at "
                        f"{100 * share:.1f} % of the points, not {base}'s formula "
                        "(propagation.free_space_floor)")
    rng = MODEL_DISTANCE_RANGE_M.get(pre.model.name if pre.method is None else "")
    if rng is not None:
        outside = (points.distance_m < rng[0]) | (points.distance_m > rng[1])
        out["outside_distance_range_share"] = float(outside.mean())
        if outside.any():
            warnings.append(f"{100 * outside.mean():.1f} % of the points are outside "
                            f"{pre.model.name}'s distance range {rng[0]:g}-{rng[1]:g} m "
                            "(the formula is extrapolated there)")
    from ..radio.propagation.models import AREA_MODELS

    frange = AREA_MODELS.get(pre.model.name, {}).get("frequency_mhz")
    if frange is not None:
        f = np.array([points.transmitters[t]["frequency_mhz"] for t in points.transmitter])
        bad = (f < frange[0]) | (f > frange[1])
        out["outside_frequency_range_share"] = float(bad.sum() / n)
        if bad.any():
            warnings.append(f"{100 * bad.mean():.1f} % of the points are at frequencies "
                            f"outside {pre.model.name}'s {frange[0]:g}-{frange[1]:g} MHz "
                            "(extrapolated: propagation.extrapolate_parameters)")
    return out


def _censoring(points: PointTable, warnings: list) -> dict:
    rec = ~points.censored
    out = {"censored": int(points.censored.sum()), "received": int(rec.sum())}
    if points.kind == "path_loss":
        return out
    floor = points.floor_dbm
    known = rec & np.isfinite(floor)
    if known.any():
        near = points.measured[known] <= floor[known] + NEAR_FLOOR_DB
        share = float(near.mean())
        out.update(floor_known_points=int(known.sum()), near_floor_share=share,
                   near_floor_db=NEAR_FLOOR_DB)
        if share > NEAR_FLOOR_SHARE:
            warnings.append(f"{100 * share:.0f} % of the received samples are within "
                            f"{NEAR_FLOOR_DB:g} dB of the receiver floor: samples below it "
                            "are missing, so a least-squares fit is biased toward too little "
                            "loss; prefer the censored fit (--censored-fit)")
    elif rec.any():
        low = float(points.measured[rec].min())
        share = float((points.measured[rec] <= low + NEAR_FLOOR_DB).mean())
        out.update(lowest_received=low, near_lowest_share=share)
        if share > NEAR_FLOOR_SHARE:
            warnings.append(f"{100 * share:.0f} % of the samples are within {NEAR_FLOOR_DB:g}"
                            f" dB of the lowest value ({low:g}): if that is the receiver's "
                            "floor, weak samples are missing; give floor_dbm (or "
                            "--floor-dbm) and use the censored fit")
    if points.censored.any():
        warnings.append(f"{int(points.censored.sum())} samples are censored (below the "
                        "receiver floor): a least-squares fit leaves them out; the censored "
                        "fit uses them")
    return out


def fit_points(points: PointTable, *, per=None, method: str = "least_squares",
               fit_slope: bool = True, shrink: bool = True,
               reference_distance_m: float = 1000.0) -> Correction:
    """:func:`~simulator.calibration.fit.fit_correction` on a point table."""
    floor_res = points.sign * (points.predicted - points.floor_dbm)
    # received samples whose misses are not in the file were drawn from above the floor
    truncated = ~points.censored & np.isfinite(points.floor_dbm) & ~points.misses_recorded
    return fit_correction(points.loss_residual_db, points.distance_m,
                          groups=_groups(points, per), per=per, censored=points.censored,
                          floor_residual_db=floor_res, truncated=truncated, method=method,
                          reference_distance_m=reference_distance_m, fit_slope=fit_slope,
                          shrink=shrink)


def cross_validate(points: PointTable, *, folds_by: str = "route", folds: int = 5,
                   segment_m: float = 1000.0, **fit_options) -> tuple[dict, np.ndarray]:
    """k-fold cross-validation with whole groups held out: route pieces or transmitters.

    Returns
    -------
    (dict, numpy.ndarray)
        ``folds_by``, ``folds``, ``groups``, ``segment_m``, ``stats`` (of the out-of-fold
        errors), ``per_fold`` (n and RMSE); and the out-of-fold error per point
        (predicted minus measured, NaN for censored samples).
    """
    if folds_by not in FOLDS_BY:
        raise ScenarioError(f"folds by {folds_by!r}; allowed: {', '.join(FOLDS_BY)}",
                            key="--folds-by")
    groups = (route_segments(points.route, points.x_m, points.y_m, segment_m)
              if folds_by == "route" else points.transmitter)
    fold = assign_folds(groups, folds)
    k = int(fold.max()) + 1
    r = points.loss_residual_db
    oof = np.full(len(points), np.nan)
    per_fold = []
    per = fit_options.get("per")
    for f in range(k):
        test = fold == f
        train = np.flatnonzero(~test)
        if not (~points.censored[train]).any():
            continue
        corr = fit_points(points.subset(train), **fit_options)
        g = _groups(points, per)
        c = corr.correction_db(points.distance_m[test], None if g is None else g[test])
        oof[test] = r[test] - c
        e = oof[test & ~points.censored]
        per_fold.append({"fold": f, "n": int(e.size),
                         "rmse_db": float(np.sqrt(np.mean(e * e))) if e.size else None})
    oof[points.censored] = np.nan
    err = points.sign * oof
    info = {"folds_by": folds_by, "folds": k, "groups": int(len(set(np.asarray(groups).tolist()))),
            "segment_m": float(segment_m) if folds_by == "route" else None,
            "stats": summarise(points, error_db=err), "per_fold": per_fold}
    if k < 2:
        info["note"] = "one group only: no held-out fold (the figures are in sample)"
    return info, err


def calibrate(scenario, measurements, *, transmitters=None, value_column: str | None = None,
              kind: str | None = None, floor_dbm: float | None = None, per: str | None = None,
              censored_fit: bool = False, fit_slope: bool = True, shrink: bool = True,
              folds_by: str = "route", folds: int = 5, segment_m: float = 1000.0,
              max_lag_m: float = 1000.0, reference_distance_m: float = 1000.0) -> Calibration:
    """Compare, fit a correction, cross-validate it and build the calibrated scenario.

    Parameters
    ----------
    scenario, measurements, transmitters, value_column, kind, floor_dbm
        As :func:`compare`.
    per : {None, "transmitter", "clutter_class"}
        One offset per transmitter (e.g. unknown EIRP) or per clutter class, shrunk toward
        their pooled mean, or one for all (None).
    censored_fit : bool
        Fit by censored / truncated maximum likelihood (module :mod:`.fit`) instead of
        least squares.
    fit_slope : bool
        Fit the distance slope K2 (False: offsets only).
    shrink : bool
        Shrink per-group offsets toward their pooled mean (False: plain per-group means).
    folds_by : {"route", "transmitter"}
        What a fold holds out: pieces of routes ``segment_m`` long, or whole transmitters.
    folds : int
        k of the k-fold cross-validation (at most the number of groups).
    segment_m : float
        Length of the route pieces [m].
    max_lag_m : float
        Longest pair distance of the correlogram [m].
    reference_distance_m : float
        d0 of the slope [m].

    Returns
    -------
    Calibration
    """
    if per not in PER:
        raise ScenarioError(f"per {per!r}; allowed: transmitter, clutter_class or none",
                            key="--per")
    for name, v, lo in (("folds", folds, 2), ("segment_m", segment_m, 1e-9),
                        ("max_lag_m", max_lag_m, 1e-9)):
        if not v >= lo:
            raise ScenarioError(f"{name}={v} must be >= {lo:g}", key=f"--{name}")
    comp = compare(scenario, measurements, transmitters=transmitters,
                   value_column=value_column, kind=kind, floor_dbm=floor_dbm)
    pts = comp.points
    method = "censored" if censored_fit else "least_squares"
    opts = dict(per=per, method=method, fit_slope=fit_slope, shrink=shrink,
                reference_distance_m=reference_distance_m)
    try:
        corr = fit_points(pts, **opts)
    except ValueError as exc:
        raise ScenarioError(f"cannot fit a correction: {exc}; give received samples",
                            file=comp.measurements.file) from None
    if not corr.converged:
        comp.warnings.append("the censored fit did not converge: its figures are uncertain")
    g = _groups(pts, per)
    after_pts = pts.corrected(corr.correction_db(pts.distance_m, g))
    after = summarise(after_pts)
    cv, cv_err = cross_validate(pts, folds_by=folds_by, folds=folds, segment_m=segment_m,
                                **opts)
    resid = after_pts.loss_residual_db
    resid[after_pts.censored] = np.nan
    cgram = residual_correlogram(pts.x_m, pts.y_m, resid, pts.transmitter, max_lag_m=max_lag_m)
    cfit = fit_exponential_correlation(cgram)
    correlation = {"correlogram": cgram, "fit": cfit}
    dcorr = cfit.get("correlation_distance_m")
    if folds_by == "route" and dcorr is not None and dcorr > segment_m / 5:
        comp.warnings.append(f"the residuals stay correlated over {dcorr:.0f} m, more than a "
                             f"fifth of the {segment_m:g} m route pieces the folds hold out: "
                             "the cross-validated figures may be optimistic; use a longer "
                             "--segment-m")
    if cv["folds"] < 2:
        comp.warnings.append(f"only one {folds_by} group: nothing can be held out, so there "
                             "are no cross-validated figures; use --folds-by route or more "
                             "measurements")
    elif cv["folds"] < folds:
        comp.warnings.append(f"only {cv['groups']} {folds_by} groups: {cv['folds']} folds "
                             f"instead of {folds}")
    scen_data, scen = _calibrated_scenario(comp, corr, cv, dcorr, opts, folds_by, comp.warnings)
    options = dict(opts, folds_by=folds_by, folds=folds, segment_m=segment_m,
                   max_lag_m=max_lag_m, floor_dbm=floor_dbm)
    return Calibration(comparison=comp, correction=corr, statistics_after=after,
                       cross_validation=cv, correlation=correlation,
                       calibrated_scenario=scen, calibrated_scenario_data=scen_data,
                       options=options, cv_error_db=cv_err)


#: Scenario keys that hold file paths (relative to the scenario file's folder).
def _path_keys(data: dict) -> list[tuple]:
    keys = [("region", "boundary"), ("population", "raster", "file"),
            ("terrain", "raster", "file"), ("planning", "candidates", "file")]
    for i, _ in enumerate((data.get("sites") or {}).get("existing_towers") or []):
        keys.append(("sites", "existing_towers", i, "file"))
    for name in (data.get("stations") or {}):
        keys.append(("stations", name, "pattern_file"))
    return keys


def _absolute_paths(scenario, data: dict) -> None:
    """Rewrite the file paths of a scenario's data to absolute ones (in place)."""
    from ..pipeline.runner import resolve_path

    for key in _path_keys(data):
        node = data
        for part in key[:-1]:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                node = None
            if node is None:
                break
        if isinstance(node, dict) and isinstance(node.get(key[-1]), str):
            node[key[-1]] = str(resolve_path(scenario, node[key[-1]]).resolve())


def _calibrated_scenario(comp: Comparison, corr: Correction, cv: dict, dcorr, opts, folds_by,
                         warnings) -> tuple[dict, object]:
    from .. import __version__
    from ..schema import Scenario

    scen = comp.scenario
    data = scen.model_dump(mode="json", exclude_unset=True)
    _absolute_paths(scen, data)
    prop = dict(data.get("propagation") or {})
    old = scen.propagation.calibration
    offset = corr.offset_db + (old.offset_db if old else 0.0)
    slope = corr.slope_db_per_decade + (old.slope_db_per_decade if old else 0.0)
    if old is not None and old.reference_distance_m != corr.reference_distance_m:
        # re-express the old correction at the new reference distance
        offset += old.slope_db_per_decade * (np.log10(corr.reference_distance_m)
                                             - np.log10(old.reference_distance_m))
    cal = {"model": scen.propagation.model, "offset_db": float(offset),
           "slope_db_per_decade": float(slope),
           "reference_distance_m": corr.reference_distance_m}
    for key, val, hi, skey in (("sigma_db", corr.sigma_db, 20.0, "shadowing_sigma_db"),
                               ("correlation_distance_m", dcorr, 10000.0,
                                "decorrelation_distance_m")):
        if val is not None and np.isfinite(val) and 0 < val <= hi:
            cal[key] = round(float(val), 3)
            prop.pop(skey, None)
        elif val is not None:
            warnings.append(f"fitted {key} {val:.3g} is outside 0-{hi:g}: not written to "
                            f"the calibrated scenario (propagation.{skey} kept)")
    for lim, key in ((60.0, "offset_db"), (60.0, "slope_db_per_decade")):
        if abs(cal[key]) > lim:
            raise ScenarioError(f"the fitted {key} {cal[key]:g} is beyond +-{lim:g}: the model "
                                "and the measurements disagree too much to calibrate (check "
                                "the transmitters' power, heights and the value kind)",
                                file=comp.measurements.file)
    m = comp.measurements
    t = comp.transmitters_file
    stats_all = cv["stats"]["all"]
    cal["provenance"] = {
        "scenario": scen.name,
        "measurements_file": str(Path(m.file).resolve()), "measurements_sha256": m.sha256,
        "transmitters_file": None if t is None else str(Path(t.file).resolve()),
        "transmitters_sha256": None if t is None else t.sha256,
        "value_kind": comp.points.kind, "points_used": int((~comp.points.censored).sum()),
        "transmitters_used": len(comp.points.transmitters),
        "fit": opts["method"], "per_transmitter": opts["per"] == "transmitter",
        "folds_by": folds_by, "folds": int(cv["folds"]),
        "in_sample_rmse_db": _round(_in_sample_rmse(comp, corr)),
        "cv_rmse_db": _round(stats_all["rmse_db"]),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "software_version": __version__}
    prop["calibration"] = cal
    data["propagation"] = prop
    try:
        calibrated = Scenario.model_validate(data)
    except Exception as exc:  # pydantic ValidationError: a bug, not the user's input
        raise RuntimeError(f"the calibrated scenario does not validate: {exc}") from exc
    return data, calibrated


def _in_sample_rmse(comp: Comparison, corr: Correction):
    pts = comp.points
    c = corr.correction_db(pts.distance_m, _groups(pts, corr.per))
    e = pts.corrected(c).error_db[~pts.censored]
    return float(np.sqrt(np.mean(e * e))) if e.size else None


def _round(v, nd=4):
    return None if v is None or not math.isfinite(v) else round(float(v), nd)
