"""Predictions at measurement points: the scenario's model chain, point to point.

Each sample is predicted from *its* transmitter (a site of the scenario, by name, or a row
of a transmitter table), not from the gridded best server: the scenario's area model
(:meth:`simulator.radio.propagation.models.PathLossModel.loss_db`) at the horizontal
distance, or its terrain method on the terrain profile from the antenna to the point
(:meth:`simulator.pipeline.engine_terrain.TerrainMethod.point_loss_db`, with the profile
sampled as the engine samples its rays), plus the antenna pattern toward the point
(:func:`simulator.pipeline.engine.antenna_relative_gain_db`) and the link budget. The
models, their conventions and any ``propagation.calibration`` already in the scenario are
the ones ``run`` uses, because they come from the same :func:`simulator.pipeline.runner.prepare`.

Clutter: :func:`clutter_at_points` adds the scenario's terminal clutter loss by land-cover
class (``clutter:``, ITU-R P.2108 §3.1) at each point, and the class labels split the
statistics and, with ``per="clutter_class"``, the fitted offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from pyproj import Transformer

from ..errors import ScenarioError
from ..io.measurements import Measurements, TransmitterTable
from ..radio.stations import LTE_RESOURCE_BLOCKS

#: Sign that turns an error (predicted - measured) into a loss residual: a positive loss
#: residual means the model predicted too little loss.
LOSS_SIGN = {"rsrp": 1.0, "rssi": 1.0, "rx_power": 1.0, "path_loss": -1.0}


@dataclass
class PointTable:
    """Predicted and measured value at every measurement point kept (parallel arrays).

    Attributes
    ----------
    kind : str
        ``rsrp``, ``rssi``, ``rx_power`` [dBm] or ``path_loss`` [dB].
    model : str
        The scenario's ``propagation.model``.
    measured : numpy.ndarray
        Measured value; for censored samples the receiver floor.
    predicted : numpy.ndarray
        The scenario's prediction of the same quantity.
    censored : numpy.ndarray of bool
        The signal was below ``floor_dbm`` (not received).
    floor_dbm : numpy.ndarray
        Receiver floor where known, else NaN [dBm].
    distance_m : numpy.ndarray
        Horizontal distance from the transmitter [m].
    x_m, y_m : numpy.ndarray
        Position in the scenario grid's CRS [m].
    transmitter : numpy.ndarray of str
    route, route_type : numpy.ndarray of str
    order : numpy.ndarray
        Sort key within a route.
    line_of_sight : numpy.ndarray of bool or None
        From the terrain (None without terrain).
    floor_decided : numpy.ndarray of bool
        The free-space floor, not the model's formula, gave the loss.
    peer : numpy.ndarray
        Another tool's prediction (NaN where none).
    clutter_class : numpy.ndarray of str or None
        Land-cover class at the point (None until the scenario has clutter).
    line : numpy.ndarray of int
        Line (or feature) of the measurement file.
    misses_recorded : numpy.ndarray of bool
        The file says whether this sample's route records misses (its ``censored`` field).
    transmitters : dict
        Per transmitter name: ``x_m``, ``y_m``, ``height_m``, ``frequency_mhz``, ``source``
        (``scenario`` or ``table``).
    crs : str
        The grid's CRS (of ``x_m``, ``y_m``).
    """

    kind: str
    model: str
    measured: np.ndarray
    predicted: np.ndarray
    censored: np.ndarray
    floor_dbm: np.ndarray
    distance_m: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    transmitter: np.ndarray
    route: np.ndarray
    route_type: np.ndarray
    order: np.ndarray
    line_of_sight: np.ndarray | None
    floor_decided: np.ndarray
    peer: np.ndarray
    line: np.ndarray
    clutter_class: np.ndarray | None = None
    transmitters: dict = field(default_factory=dict)
    crs: str = ""
    misses_recorded: np.ndarray | None = None

    _ARRAYS = ("measured", "predicted", "censored", "floor_dbm", "distance_m", "x_m", "y_m",
               "transmitter", "route", "route_type", "order", "floor_decided", "peer", "line",
               "misses_recorded")

    def __len__(self) -> int:
        return len(self.measured)

    @property
    def sign(self) -> float:
        return LOSS_SIGN[self.kind]

    @property
    def error_db(self) -> np.ndarray:
        """Predicted minus measured [dB] (censored samples: against the floor)."""
        return self.predicted - self.measured

    @property
    def loss_residual_db(self) -> np.ndarray:
        """How much loss the model is short of the measurement [dB]: positive when the
        model predicted too strong a signal (too little loss)."""
        return self.sign * (self.predicted - self.measured)

    def subset(self, index) -> "PointTable":
        index = np.asarray(index)
        kw = {a: getattr(self, a)[index] for a in self._ARRAYS}
        if self.line_of_sight is not None:
            kw["line_of_sight"] = self.line_of_sight[index]
        if self.clutter_class is not None:
            kw["clutter_class"] = self.clutter_class[index]
        return replace(self, **kw)

    def corrected(self, correction_db) -> "PointTable":
        """The same points with ``correction_db`` of loss added to the prediction."""
        return replace(self, predicted=self.predicted - self.sign * np.asarray(correction_db))


def clutter_at_points(prepared, x_m, y_m, frequency_mhz, h_rx_m=None):
    """Terminal clutter loss [dB] and land-cover class at points (the scenario's ``clutter:``).

    The loss of the class of the cell holding each point (ITU-R P.2108 §3.1 by class,
    :meth:`simulator.region.clutter.ClutterLayer.loss_at_xy`), at the transmitter's
    frequency and the receiver's height, exactly once per point, as the run adds it to
    every cell. Without a clutter layer: zero loss and no class.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray of str or None)
        Loss [dB] and the class label (``"<code> <name>"``) per point.
    """
    layer = getattr(prepared, "clutter", None)
    x = np.asarray(x_m, float)
    if layer is None:
        return np.zeros(x.shape), None
    codes = layer.class_at_xy(x, y_m)
    labels = np.array([f"{c} {layer.table[c].name}" if c in layer.table else "outside"
                       for c in codes.tolist()], dtype=object)
    if frequency_mhz is None:
        return np.zeros(x.shape), labels
    h = np.broadcast_to(np.asarray(layer.terminal_height_m if h_rx_m is None else h_rx_m,
                                   float), x.shape)
    loss = np.empty(x.shape)
    for hh in np.unique(h):
        sel = h == hh
        loss[sel] = layer.loss_at_xy(x[sel], np.asarray(y_m, float)[sel],
                                     frequency_mhz=float(frequency_mhz),
                                     terminal_height_m=float(hh))
    return np.nan_to_num(loss, nan=0.0), labels


@dataclass
class _Tx:
    name: str
    source: str           # "scenario" or "table"
    x_m: float
    y_m: float
    height_m: float
    frequency_mhz: float
    budget_db: float      # received value = budget - loss + relative antenna gain
    azimuth_deg: float = 0.0
    sectors: float = 1.0
    hpbw_h_deg: float = 360.0
    hpbw_v_deg: float = 180.0
    tilt_deg: float = 0.0
    pattern: object = None
    isotropic: bool = True
    sensitivity_dbm: float = np.nan
    where: str = ""


def _scenario_transmitters(pre, kind: str, ue_height_m: float, src: str | None) -> dict:
    from ..pipeline.engine import site_arrays

    sites, tech = pre.sites, pre.technology
    if not len(sites):
        return {}
    p = pre.scenario.propagation
    sa = site_arrays(sites, pre.stations, tech, pre.model, ue_height_m=ue_height_m,
                     floor_dbm=tech.dl_threshold_dbm - p.floor_below_threshold_db,
                     max_range_m=p.max_range_km * 1000.0)
    if kind == "rsrp" and tech.signal_metric != "rsrp":
        raise ScenarioError(f"the measurements are RSRP but technology {tech.name} measures "
                            f"{tech.signal_metric}; choose an LTE technology or give the "
                            "values as rx_power_dbm", file=src, key="technology")
    out = {}
    for k, name in enumerate(sites.names):
        if kind == "path_loss":
            budget = 0.0
        elif kind == "rsrp":
            budget = float(sa.eirp_metric_dbm[k])
        else:  # the whole carrier: undo the metric's per-resource-element offset
            budget = float(sa.eirp_metric_dbm[k] + tech.metric_offset_db)
        out[name] = _Tx(name=name, source="scenario", x_m=float(sa.x_m[k]), y_m=float(sa.y_m[k]),
                        height_m=float(sa.height_m[k]), frequency_mhz=float(tech.frequency_mhz),
                        budget_db=budget, azimuth_deg=float(sa.azimuth_deg[k]),
                        sectors=float(sa.sectors[k]), hpbw_h_deg=float(sa.hpbw_h_deg[k]),
                        hpbw_v_deg=float(sa.hpbw_v_deg[k]), tilt_deg=float(sa.tilt_deg[k]),
                        pattern=sa.patterns[k] if sa.patterns else None, isotropic=False,
                        where=f"site {name}")
    return out


def _table_transmitters(table: TransmitterTable, kind: str, grid) -> dict:
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    out = {}
    for j, name in enumerate(table.name):
        where = f"line {int(table.line[j])}"
        v = {c: float(table.values[c][j]) for c in table.values}
        if kind != "path_loss" and np.isnan(v["tx_power_dbm"]):
            raise ScenarioError(f"transmitter {name!r} has no tx_power_dbm; a {kind} "
                                "measurement needs the transmit power (or give path_loss_db)",
                                file=table.file, key=where)
        budget = 0.0
        if kind != "path_loss":
            budget = (v["tx_power_dbm"] + v["tx_gain_dbi"] - v["tx_loss_db"] + v["rx_gain_dbi"]
                      - v["rx_loss_db"])
        if kind == "rsrp":
            n_rb = LTE_RESOURCE_BLOCKS.get(v["bandwidth_mhz"])
            if n_rb is None:
                raise ScenarioError(
                    f"transmitter {name!r}: RSRP needs the LTE channel bandwidth_mhz "
                    f"(got {v['bandwidth_mhz']:g}); allowed: "
                    f"{', '.join(f'{b:g}' for b in LTE_RESOURCE_BLOCKS)} MHz",
                    file=table.file, key=where)
            budget -= 10.0 * np.log10(12 * n_rb)
        x, y = to_grid.transform(v["lon"], v["lat"])
        iso = np.isnan(v["hpbw_h_deg"]) or np.isnan(v["hpbw_v_deg"])
        out[name] = _Tx(name=name, source="table", x_m=float(x), y_m=float(y),
                        height_m=v["height_m"], frequency_mhz=v["frequency_mhz"],
                        budget_db=budget, azimuth_deg=v["azimuth_deg"],
                        hpbw_h_deg=360.0 if iso else v["hpbw_h_deg"],
                        hpbw_v_deg=180.0 if iso else v["hpbw_v_deg"],
                        tilt_deg=v["downtilt_deg"], isotropic=iso,
                        sensitivity_dbm=v["sensitivity_dbm"], where=where)
    return out


def _sample_dem(dem, grid, x, y):
    """Bilinear DEM values between cell centres, as :func:`radial_profiles` samples."""
    from scipy import ndimage

    res = grid.resolution_m
    x = np.asarray(x, float)
    shape = x.shape
    col = (np.atleast_1d(x) - grid.x_min_m) / res - 0.5
    row = (grid.y_max_m - np.atleast_1d(np.asarray(y, float))) / res - 0.5
    out = ndimage.map_coordinates(dem, [row, col], order=1, mode="nearest", output=np.float64,
                                  prefilter=False)
    return out.reshape(shape) if shape else out[0]


def _profiles(dem, grid, tx: _Tx, x, y, d, max_points: int | None):
    """Terrain profiles from the antenna to each point, NaN-padded.

    Sampled every grid step as the engine's rays are (``n = ceil(d / res) + 1`` points, the
    last at the point); longer than ``max_points`` they are resampled linearly to
    ``max_points`` (the diffraction methods' ``max_profile_points``), as the engine does.

    Returns (elevations (m, n_max), spacing (m,), n_points (m,)).
    """
    res = grid.resolution_m
    d_eff = np.maximum(d, 1.0)
    n = np.maximum(2, np.ceil(d_eff / res - 1e-9).astype(np.int64) + 1)
    n_used = n if max_points is None else np.minimum(n, max_points)
    width = int(n_used.max())
    elev = np.full((len(d), width), np.nan)
    t_idx = np.arange(width)[None, :]
    block = max(1, 1_000_000 // width)
    for lo in range(0, len(d), block):
        sl = slice(lo, lo + block)
        nn, nu = n[sl][:, None], n_used[sl][:, None]
        valid = t_idx < nu
        # position of each used point in full-resolution samples (integers when not
        # resampled), then linear interpolation between the samples either side
        pos = np.minimum(t_idx * ((nn - 1) / np.maximum(nu - 1, 1)), nn - 1)
        lo_i = np.floor(pos)
        hi_i = np.minimum(lo_i + 1, nn - 1)
        f = pos - lo_i
        ex, ey = (x[sl] - tx.x_m)[:, None], (y[sl] - tx.y_m)[:, None]
        zl = _sample_dem(dem, grid, tx.x_m + lo_i / (nn - 1) * ex, tx.y_m + lo_i / (nn - 1) * ey)
        z = zl
        if (f > 0).any():
            zh = _sample_dem(dem, grid, tx.x_m + hi_i / (nn - 1) * ex,
                             tx.y_m + hi_i / (nn - 1) * ey)
            z = zl * (1.0 - f) + zh * f
        z[~valid] = np.nan
        elev[sl] = z
    spacing = d_eff / (n_used - 1)
    return elev, spacing, n_used


def predict_points(prepared, meas: Measurements, table: TransmitterTable | None = None, *,
                   floor_dbm: float | None = None, scenario_file: str | None = None
                   ) -> tuple[PointTable, dict, list[str]]:
    """The scenario's prediction at every measurement point, from each point's transmitter.

    Parameters
    ----------
    prepared : simulator.pipeline.runner.Prepared
        From :func:`simulator.pipeline.runner.prepare` (grid, terrain, sites, model chain).
    meas : Measurements
    table : TransmitterTable, optional
        Transmitters that are not sites of the scenario.
    floor_dbm : float, optional
        Receiver floor for censored samples without their own ``floor_dbm`` (and no
        ``sensitivity_dbm`` in the table) [dBm].

    Returns
    -------
    (PointTable, dict, list of str)
        The points kept, the rows skipped by reason (``outside_region``, ``outside_dem``)
        and warnings.

    Raises
    ------
    ScenarioError
        A transmitter named in a row that is neither a site nor in the table, no usable
        point inside the region, a model outside its valid range for a transmitter, a
        censored sample without a floor.
    """
    from ..pipeline.engine import antenna_relative_gain_db

    grid, p = prepared.grid, prepared.scenario.propagation
    src = scenario_file
    kind = meas.kind
    txs = _scenario_transmitters(prepared, kind, p.ue_height_m, src)
    if table is not None:
        tab = _table_transmitters(table, kind, grid)
        both = sorted(set(tab) & set(txs))
        if both:
            raise ScenarioError(f"transmitter {both[0]!r} is both a site of the scenario and a "
                                "row of the transmitter table; rename one of them",
                                file=table.file, key=tab[both[0]].where)
        txs.update(tab)
    if not txs:
        raise ScenarioError("no transmitter: the scenario has no sites and no transmitter "
                            "table was given; give --transmitters FILE or sites in the "
                            "scenario", file=meas.file)
    names = np.array(meas.transmitter, dtype=object)
    empty = names == ""
    if empty.any():
        if len(txs) != 1:
            i = int(np.flatnonzero(empty)[0])
            raise ScenarioError(f"column transmitter is empty (or missing) but there are "
                                f"{len(txs)} transmitters; give each row a transmitter name; "
                                f"allowed: {_names(txs)}", file=meas.file, key=meas.row_label(i))
        names = np.where(empty, next(iter(txs)), names)
    unknown = ~np.isin(names, list(txs))
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise ScenarioError(f"transmitter {names[i]!r} is neither a site of the scenario nor a "
                            f"row of the transmitter table; allowed: {_names(txs)}",
                            file=meas.file, key=meas.row_label(i), value=names[i])
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    x, y = to_grid.transform(meas.lon, meas.lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    inside = np.isfinite(x) & np.isfinite(y) & grid.contains(x, y)
    if prepared.region_mask is not None and inside.any():
        r, c = grid.cell_of(x[inside], y[inside])
        ok = prepared.region_mask[r, c]
        inside[np.flatnonzero(inside)[~ok]] = False
    skipped = {"outside_region": int((~inside).sum()), "outside_dem": 0}
    if not inside.any():
        i = 0
        raise ScenarioError(f"no sample inside the region: all {len(meas)} positions are "
                            f"outside it (first: lon {meas.lon[i]:.5f}, lat {meas.lat[i]:.5f}, "
                            f"{meas.row_label(i)}); check region.centre_lon_lat, width_km, "
                            "height_km and boundary, or the positions (WGS 84 lon/lat)",
                            file=meas.file, key=meas.row_label(i))
    dem = prepared.dem
    if dem is not None:
        # the path from the antenna must lie on the DEM: a transmitter off the grid cannot
        tx_on = {n: bool(grid.contains(t.x_m, t.y_m)) for n, t in txs.items()}
        off = inside & ~np.array([tx_on[n] for n in names], bool)
        skipped["outside_dem"] = int(off.sum())
        inside &= ~off
        if not inside.any():
            n0 = next(n for n, on in tx_on.items() if not on)
            raise ScenarioError(f"no usable sample: the transmitters of every sample are "
                                f"outside the region's DEM (e.g. {n0!r}); the terrain "
                                "profile must lie on the DEM; enlarge the region or use a "
                                "transmitter inside it", file=meas.file)
        dem = np.asarray(dem, dtype=np.float64)
    keep = np.flatnonzero(inside)
    m = meas.subset(keep)
    names = names[keep]
    x, y = x[keep], y[keep]
    h_rx = np.where(np.isnan(m.rx_height_m), p.ue_height_m, m.rx_height_m)
    floor = np.array(m.floor_dbm, float)
    sens = np.array([txs[n].sensitivity_dbm for n in names], float)
    floor = np.where(np.isnan(floor), sens, floor)
    if floor_dbm is not None:
        floor = np.where(np.isnan(floor), float(floor_dbm), floor)
    measured = np.array(m.value, float)
    cens = m.censored
    if cens.any():
        bad = cens & np.isnan(floor)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ScenarioError("a censored sample needs the receiver floor: give column "
                                "floor_dbm, sensitivity_dbm in the transmitter table, or "
                                "--floor-dbm", file=meas.file, key=m.row_label(i))
        measured = np.where(cens & np.isnan(measured), floor, measured)
    n = len(m)
    predicted = np.empty(n)
    dist = np.empty(n)
    decided = np.zeros(n, bool)
    los = np.zeros(n, bool) if dem is not None else None
    model, method = prepared.model, prepared.method
    for name in dict.fromkeys(names):
        tx = txs[name]
        sel = np.flatnonzero(names == name)
        dx, dy = x[sel] - tx.x_m, y[sel] - tx.y_m
        d = np.hypot(dx, dy)
        hr = h_rx[sel]
        _check_model(model, method, tx, hr, table, meas, m, sel, src)
        if dem is not None:
            z_tx = float(_sample_dem(dem, grid, tx.x_m, tx.y_m))
            z_rx = _sample_dem(dem, grid, x[sel], y[sel])
            dz = (z_tx + tx.height_m) - (z_rx + hr)
        else:
            dz = tx.height_m - hr
        try:
            if method is not None:
                mp = None if method.name == "itm" else method.max_profile_points
                elev, spacing, npts = _profiles(dem, grid, tx, x[sel], y[sel], d, mp)
                loss = method.point_loss_db(elev, spacing, npts, np.maximum(d, 1.0),
                                            tx.height_m, hr, tx.frequency_mhz)
                if method.name in ("deygout", "bullington"):
                    decided[sel] = method.base.floor_decided(d, tx.frequency_mhz, tx.height_m, hr)
            else:
                loss = model.loss_db(d, tx.frequency_mhz, tx.height_m, hr)
                decided[sel] = model.floor_decided(d, tx.frequency_mhz, tx.height_m, hr)
        except ValueError as exc:
            raise ScenarioError(f"transmitter {name!r}: {exc}; choose another "
                                "propagation.model or set propagation.extrapolate_parameters: "
                                "true", file=table.file if tx.source == "table" and table
                                else src, key=tx.where if tx.source == "table"
                                else "propagation.model") from None
        try:
            loss = np.asarray(loss, float) + clutter_at_points(prepared, x[sel], y[sel],
                                                                tx.frequency_mhz, hr)[0]
        except ValueError as exc:
            raise ScenarioError(f"transmitter {name!r}: terminal clutter loss: {exc}; "
                                "ITU-R P.2108 covers 30-3000 MHz", file=table.file
                                if tx.source == "table" and table else src,
                                key=tx.where if tx.source == "table" else "clutter") from None
        if dem is not None:
            from ..region.terrain import link_line_of_sight

            los[sel] = link_line_of_sight(
                dem, grid.x_min_m, grid.y_max_m, grid.resolution_m,
                np.broadcast_to([tx.x_m, tx.y_m], (len(sel), 2)), tx.height_m,
                np.c_[x[sel], y[sel]], hr, k_factor=p.k_factor)
        if kind == "path_loss":
            gain = 0.0
        elif tx.isotropic:
            gain = 0.0
        else:
            gain = antenna_relative_gain_db(
                dx[None].astype(np.float32), dy[None].astype(np.float32),
                d[None].astype(np.float32), np.asarray(dz, np.float32)[None],
                np.array([tx.azimuth_deg]), np.array([tx.sectors]), np.array([tx.hpbw_h_deg]),
                np.array([tx.hpbw_v_deg]), np.array([tx.tilt_deg]),
                [tx.pattern] if tx.pattern is not None else None)[0].astype(float)
        predicted[sel] = loss if kind == "path_loss" else tx.budget_db - loss + gain
        dist[sel] = d
    _, clutter_class = clutter_at_points(prepared, x, y, None)
    info = {name: {"x_m": t.x_m, "y_m": t.y_m, "height_m": t.height_m,
                   "frequency_mhz": t.frequency_mhz, "source": t.source}
            for name, t in txs.items() if name in set(names)}
    pts = PointTable(kind=kind, model=p.model, measured=measured, predicted=predicted,
                     censored=cens.copy(), floor_dbm=floor, distance_m=dist, x_m=x, y_m=y,
                     transmitter=names.astype(str), route=m.route.astype(str),
                     route_type=m.route_type.astype(str), order=m.order, line_of_sight=los,
                     floor_decided=decided, peer=m.peer, line=m.line,
                     clutter_class=clutter_class, transmitters=info, crs=grid.crs,
                     misses_recorded=m.misses_recorded | cens)
    warnings = []
    if skipped["outside_region"]:
        warnings.append(f"{skipped['outside_region']} of {len(meas)} samples are outside the "
                        "region and were skipped")
    if skipped["outside_dem"]:
        warnings.append(f"{skipped['outside_dem']} samples belong to transmitters outside the "
                        "region's DEM and were skipped")
    return pts, skipped, warnings


def _names(txs: dict, k: int = 8) -> str:
    names = list(txs)
    more = f" ... ({len(names)} in all)" if len(names) > k else ""
    return ", ".join(names[:k]) + more


def _check_model(model, method, tx: _Tx, h_rx, table, meas, m, sel, src):
    """Refuse a model outside its valid range for this transmitter (one ScenarioError)."""
    problems = model.applicability_errors(tx.frequency_mhz, tx.height_m, h_rx)
    if not problems:
        return
    param, msg = problems[0]
    if param == "h_rx_m" and meas.has_column.get("rx_height_m"):
        bad = sel[np.flatnonzero(np.isfinite(m.rx_height_m[sel]))]
        key = m.row_label(int(bad[0])) if bad.size else None
        raise ScenarioError(f"column rx_height_m: {msg}; change the receiver heights or "
                            "choose another propagation.model", file=meas.file, key=key)
    remedy = ("set propagation.extrapolate_parameters: true or choose another "
              "propagation.model")
    if tx.source == "table":
        raise ScenarioError(f"transmitter {tx.name!r}: {param} {msg}; {remedy}",
                            file=table.file, key=tx.where)
    raise ScenarioError(f"{tx.where}: {param} {msg}; {remedy}", file=src,
                        key="propagation.model")
