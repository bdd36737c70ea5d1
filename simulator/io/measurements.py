"""Measured signal (drive tests, LoRa packet logs) and their transmitters: read, check, write.

The measurement format (docs/validation.md, "Measurement files")
----------------------------------------------------------------
A **CSV** file with a header row, or a **GeoJSON** FeatureCollection of Point features whose
properties carry the same columns (any CRS: a legacy ``"crs"`` member is honoured; without
one the coordinates are WGS 84, RFC 7946). One row per measured sample:

``lon``, ``lat``
    Receiver position [deg, WGS 84] (CSV; GeoJSON takes the point geometry).
the value, one column of
    ``rsrp_dbm`` (LTE reference-signal received power per resource element),
    ``rssi_dbm`` (received signal strength of the transmitter's own signal, e.g. a LoRa
    packet's RSSI), ``rx_power_dbm`` (received carrier power) [dBm], or ``path_loss_db``
    (basic transmission loss between isotropic antennas) [dB]; any other column with
    ``value_column=`` and ``kind=`` (``--value-column``, ``--kind``).
``transmitter``
    Name of the transmitter the sample belongs to: a site of the scenario (by name) or a
    row ``name`` of the transmitter table. May be left out when there is one transmitter.
optional
    ``route`` (samples of one drive or walk; default: the file name), ``route_type``
    (e.g. urban, highway: statistics are split by it), ``time`` (orders the samples of a
    route; ISO 8601 or a number), ``rx_height_m`` (receiver height above ground [m];
    default ``propagation.ue_height_m``), ``censored`` (``true``: not received, the signal
    was below the receiver's floor and the value is that floor or empty; ``false``:
    received, on a route where misses are recorded; empty or no column: received, misses
    not recorded, so with a known floor the censored fit treats the sample as drawn from
    above the floor only, "truncated"), ``floor_dbm`` (the receiver's
    sensitivity floor for this sample [dBm]), ``peer_prediction`` (another tool's
    prediction of the same quantity, compared on the same points). Other columns are ignored.

An empty value is a missing sample: the row is skipped and counted. A value that is not a
number (``abc``, ``nan``, ``inf``), outside -200..+30 dBm (0..400 dB for path loss),
duplicate column names, no rows, or no recognised value column are errors
(:class:`~simulator.errors.ScenarioError` naming the file, the line or column, and what is
allowed).

The transmitter table (``--transmitters``, CSV)
-----------------------------------------------
For transmitters that are not sites of the scenario (a LoRa gateway, a TV mast, a measured
cell of unknown power). Columns: ``name`` (unique), ``lon``, ``lat`` [deg, WGS 84],
``height_m`` (antenna height above ground [m]), ``frequency_mhz`` [MHz],
``tx_power_dbm`` [dBm] (total carrier power; not needed for path loss), and optionally
``tx_gain_dbi``, ``tx_loss_db``, ``rx_gain_dbi``, ``rx_loss_db`` [dBi, dB] (default 0),
``bandwidth_mhz`` (LTE channel: RSRP is the power per resource element,
``tx_power - 10 log10(12 N_RB)``; needed for ``rsrp_dbm``), ``azimuth_deg``,
``hpbw_h_deg``, ``hpbw_v_deg``, ``downtilt_deg`` (with half-power beam widths the 3GPP
TR 38.901 pattern is applied, as for scenario sites; without, the antenna is isotropic
apart from ``tx_gain_dbi``), ``sensitivity_dbm`` (receiver floor for censoring [dBm]).

Adapters for two published layouts (:func:`karst_lora_tables`, :func:`dortmund_lte_tables`)
turn them into this format; ``benchmarks/convert_measurements.py`` writes the files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import ScenarioError

#: Recognised value columns -> value kind.
VALUE_COLUMNS = {"rsrp_dbm": "rsrp", "rssi_dbm": "rssi", "rx_power_dbm": "rx_power",
                 "path_loss_db": "path_loss"}
KINDS = ("rsrp", "rssi", "rx_power", "path_loss")
#: Plausible values per kind [dBm or dB]: outside is an error (a unit or sign mistake).
VALUE_RANGE = {"rsrp": (-200.0, 30.0), "rssi": (-200.0, 30.0), "rx_power": (-200.0, 30.0),
               "path_loss": (0.0, 400.0)}
UNIT = {"rsrp": "dBm", "rssi": "dBm", "rx_power": "dBm", "path_loss": "dB"}
OPTIONAL_COLUMNS = ("transmitter", "route", "route_type", "time", "rx_height_m", "censored",
                    "floor_dbm", "peer_prediction")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}

#: Transmitter-table columns: (default or None if required, low, high, unit).
TRANSMITTER_COLUMNS = {
    "lon": (None, -180.0, 180.0, "deg"), "lat": (None, -90.0, 90.0, "deg"),
    "height_m": (None, 0.0, 3000.0, "m"), "frequency_mhz": (None, 1.0, 100000.0, "MHz"),
    "tx_power_dbm": (math.nan, -50.0, 90.0, "dBm"), "tx_gain_dbi": (0.0, -30.0, 60.0, "dBi"),
    "tx_loss_db": (0.0, 0.0, 60.0, "dB"), "rx_gain_dbi": (0.0, -30.0, 60.0, "dBi"),
    "rx_loss_db": (0.0, 0.0, 60.0, "dB"), "bandwidth_mhz": (math.nan, 0.0, 1000.0, "MHz"),
    "azimuth_deg": (0.0, 0.0, 360.0, "deg"), "hpbw_h_deg": (math.nan, 0.0, 360.0, "deg"),
    "hpbw_v_deg": (math.nan, 0.0, 180.0, "deg"), "downtilt_deg": (0.0, -90.0, 90.0, "deg"),
    "sensitivity_dbm": (math.nan, -200.0, 0.0, "dBm"),
}


def sha256_of(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------
@dataclass
class Measurements:
    """Measured samples, one entry per row kept (parallel arrays).

    Attributes
    ----------
    file : str
        The file read.
    kind : {"rsrp", "rssi", "rx_power", "path_loss"}
    value_column : str
    lon, lat : numpy.ndarray
        Receiver position [deg, WGS 84].
    value : numpy.ndarray
        Measured value [dBm, or dB for path loss]; for censored rows the floor.
    transmitter, route, route_type : numpy.ndarray of str
        ``""`` where not given (route: the file's name).
    order : numpy.ndarray of float
        Sort key within a route (time, else the file order).
    rx_height_m : numpy.ndarray
        NaN where not given (the scenario's ``ue_height_m`` applies) [m].
    censored : numpy.ndarray of bool
    misses_recorded : numpy.ndarray of bool
        The ``censored`` field was given (true or false): misses on this sample's route
        are in the file.
    floor_dbm : numpy.ndarray
        NaN where not given [dBm].
    peer : numpy.ndarray
        Another tool's prediction, NaN where not given.
    line : numpy.ndarray of int
        Line of the CSV (1 = header) or feature number of the GeoJSON (1-based).
    where : {"line", "feature"}
    rows_read : int
        Data rows in the file.
    skipped : dict
        Rows left out and why (``missing_value``).
    sha256 : str
    """

    file: str
    kind: str
    value_column: str
    lon: np.ndarray
    lat: np.ndarray
    value: np.ndarray
    transmitter: np.ndarray
    route: np.ndarray
    route_type: np.ndarray
    order: np.ndarray
    rx_height_m: np.ndarray
    censored: np.ndarray
    floor_dbm: np.ndarray
    peer: np.ndarray
    line: np.ndarray
    misses_recorded: np.ndarray = None
    where: str = "line"
    rows_read: int = 0
    skipped: dict = field(default_factory=dict)
    sha256: str = ""
    has_column: dict = field(default_factory=dict)

    _ARRAYS = ("lon", "lat", "value", "transmitter", "route", "route_type", "order",
               "rx_height_m", "censored", "floor_dbm", "peer", "line", "misses_recorded")

    def __len__(self) -> int:
        return len(self.value)

    def subset(self, index) -> "Measurements":
        index = np.asarray(index)
        return replace(self, **{a: getattr(self, a)[index] for a in self._ARRAYS})

    def row_label(self, i: int) -> str:
        """``line N`` / ``feature N`` of entry ``i``."""
        return f"{self.where} {int(self.line[i])}"


def _err(path, msg, key=None, value=None):
    return ScenarioError(msg, file=str(path), key=key, value=value)


def _read_csv(path: Path, what: str, *, key: str | None = None):
    """(header, [(line, cells)]) of a CSV file; duplicate or empty column names refused."""
    if not path.is_file():
        raise _err(path, f"{what} not found" + ("" if path.parent.is_dir() else
                                                 " (its folder does not exist)")
                   + "; give the path of a CSV file", key)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = []
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    rows.append((reader.line_num, cells))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _err(path, f"not a readable CSV text file ({str(exc).splitlines()[0]}); "
                   f"allowed: a UTF-8 CSV {what} with a header row", key) from None
    if header is None or not any(h.strip() for h in header):
        raise _err(path, f"the {what} is empty; allowed: a CSV with a header row and one "
                   "row per sample", key or "line 1")
    header = [h.strip() for h in header]
    seen = set()
    for h in header:
        if not h:
            raise _err(path, "a column has no name; give every column of the header row a "
                       "name", "line 1")
        if h in seen:
            raise _err(path, f"column {h!r} appears twice in the header; remove or rename "
                       "one of them", "line 1", h)
        seen.add(h)
    return header, rows


def _read_geojson(path: Path):
    """(header, [(feature number, cells)], lon, lat) of a GeoJSON FeatureCollection of points."""
    from pyproj import CRS, Transformer

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        for k in keys:
            if keys.count(k) > 1:
                raise _err(path, f"property {k!r} appears twice in a feature; remove or "
                           "rename one of them", f"property {k}", k)
        return dict(pairs)

    if not path.is_file():
        raise _err(path, "measurement file not found; give the path of a CSV or GeoJSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _err(path, f"not a readable GeoJSON file ({str(exc).splitlines()[0]}); "
                   "allowed: a UTF-8 GeoJSON FeatureCollection of Point features") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _err(path, "not a GeoJSON FeatureCollection; allowed: a FeatureCollection of "
                   "Point features")
    feats = data.get("features") or []
    crs = CRS.from_epsg(4326)
    if isinstance(data.get("crs"), dict):
        name = (data["crs"].get("properties") or {}).get("name")
        try:
            crs = CRS.from_user_input(name)
        except Exception:  # pyproj CRSError
            raise _err(path, f"unknown CRS {name!r} in the 'crs' member; use an EPSG code "
                       "(e.g. 'EPSG:32633') or leave it out for WGS 84", "crs", name) from None
    header: list[str] = []
    rows, xs, ys = [], [], []
    for n, f in enumerate(feats, start=1):
        geom = (f or {}).get("geometry") or {}
        if geom.get("type") != "Point":
            raise _err(path, f"geometry {geom.get('type')!r} is not a Point; allowed: one "
                       "Point per sample", f"feature {n}")
        try:
            x, y = (float(v) for v in geom["coordinates"][:2])
        except (KeyError, TypeError, ValueError):
            raise _err(path, "point coordinates are not two numbers; allowed: "
                       "[x, y] in the file's CRS", f"feature {n}") from None
        props = f.get("properties") or {}
        for k in props:
            if k not in header:
                header.append(str(k))
        rows.append((n, props))
        xs.append(x)
        ys.append(y)
    lon, lat = np.asarray(xs, float), np.asarray(ys, float)
    if not crs.equals(CRS.from_epsg(4326)) and len(xs):
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(lon, lat)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    cells = [(n, ["" if props.get(h) is None else str(props.get(h)) for h in header])
             for n, props in rows]
    return header, cells, lon, lat


def _parse_float(path, text, column, where, *, lo=None, hi=None, unit="", allow_empty=True):
    t = text.strip()
    if t == "":
        if allow_empty:
            return math.nan
        raise _err(path, f"column {column} is empty; allowed: a number", where)
    try:
        v = float(t)
    except ValueError:
        v = None
    if v is None or not math.isfinite(v):
        raise _err(path, f"column {column}: {t!r} is not a number; allowed: a decimal "
                   "number" + (", or an empty field for a missing sample" if allow_empty
                               else ""), where, t)
    if lo is not None and not (lo <= v <= hi):
        raise _err(path, f"column {column}: {v:g} {unit} is outside the plausible range; "
                   f"allowed: {lo:g} to {hi:g} {unit}", where, v)
    return v


def _order_key(times: list[str]) -> np.ndarray | None:
    """A numeric sort key from time stamps (numbers or ISO 8601), or None."""
    if not times or all(t == "" for t in times):
        return None
    try:
        return np.array([float(t) for t in times])
    except ValueError:
        pass
    try:
        stamps = np.array([np.datetime64(t.replace(" ", "T")) if t else np.datetime64("NaT")
                           for t in times], dtype="datetime64[us]")
    except ValueError:
        return None
    return stamps.astype(np.int64).astype(float)


def read_measurements(path, *, value_column: str | None = None, kind: str | None = None
                      ) -> Measurements:
    """Read a measurement file (CSV or GeoJSON, format in the module docstring).

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.geojson`` / ``.json``.
    value_column : str, optional
        The value column; default the one recognised column of :data:`VALUE_COLUMNS`.
    kind : {"rsrp", "rssi", "rx_power", "path_loss"}, optional
        What the value is; default from the column name (needed for another column).

    Returns
    -------
    Measurements
        Rows with a value (or censored), in the file's order within each route, sorted by
        ``time`` where given; rows with an empty value are left out and counted in
        ``skipped["missing_value"]``.

    Raises
    ------
    ScenarioError
        Missing, unreadable or empty file, duplicate columns, no recognised value column,
        a value that is not a number or is implausible, a bad optional column, no usable row.
    """
    path = Path(path)
    if kind is not None and kind not in KINDS:
        raise _err(path, f"value kind {kind!r} is not one of {', '.join(KINDS)}", "--kind", kind)
    geo = path.suffix.lower() in (".geojson", ".json")
    if geo:
        header, rows, glon, glat = _read_geojson(path)
        where = "feature"
    else:
        header, rows = _read_csv(path, "measurement file")
        where = "line"
    if not rows:
        raise _err(path, "the measurement file has no rows; allowed: one row per sample "
                   "below the header", None if geo else "line 2")
    col = {h: i for i, h in enumerate(header)}
    if value_column is None:
        found = [c for c in VALUE_COLUMNS if c in col]
        if not found:
            raise _err(path, "no recognised value column; allowed: one of "
                       f"{', '.join(VALUE_COLUMNS)}, or name it with --value-column and "
                       f"--kind (found: {', '.join(header)})", "line 1")
        if len(found) > 1:
            raise _err(path, f"several value columns ({', '.join(found)}); choose one with "
                       "--value-column", "line 1")
        value_column = found[0]
    elif value_column not in col:
        raise _err(path, f"value column {value_column!r} is not in the header; allowed: one of "
                   f"{', '.join(header)}", "line 1", value_column)
    if kind is None:
        kind = VALUE_COLUMNS.get(value_column)
        if kind is None:
            raise _err(path, f"the kind of value column {value_column!r} is unknown; give "
                       f"--kind ({', '.join(KINDS)})", "--kind")
    if not geo:
        missing = [c for c in ("lon", "lat") if c not in col]
        if missing:
            raise _err(path, f"missing column(s) {', '.join(missing)}; allowed: receiver "
                       "positions in columns lon, lat (WGS 84 degrees)", "line 1")
    lo, hi = VALUE_RANGE[kind]
    unit = UNIT[kind]
    n_cols = len(header)
    out = {k: [] for k in ("lon", "lat", "value", "transmitter", "route", "route_type", "time",
                           "rx_height_m", "censored", "floor_dbm", "peer", "line", "recorded")}
    skipped_missing = 0
    route_default = path.stem
    for r, (line, cells) in enumerate(rows):
        lab = f"{where} {line}"
        if not geo and len(cells) > n_cols:
            raise _err(path, f"{len(cells)} fields but the header has {n_cols}; check the "
                       "separators (commas) and quotes of this row", lab)
        cells = list(cells) + [""] * (n_cols - len(cells))

        def cell(name):
            return cells[col[name]].strip() if name in col else ""

        cens_text = cell("censored").lower()
        if cens_text not in _TRUE | _FALSE:
            raise _err(path, f"column censored: {cell('censored')!r} is not true/false; "
                       "allowed: true, false, 1, 0, yes, no or empty", lab)
        censored = cens_text in _TRUE
        value = _parse_float(path, cell(value_column), value_column, lab, lo=lo, hi=hi,
                             unit=unit)
        floor = _parse_float(path, cell("floor_dbm"), "floor_dbm", lab, lo=-200.0, hi=30.0,
                             unit="dBm")
        if censored and kind == "path_loss":
            raise _err(path, "censored rows need a signal value (dBm); path_loss_db cannot "
                       "be censored here; remove the censored column", lab)
        if math.isnan(value) and not censored:
            skipped_missing += 1
            continue
        if geo:
            x, y = float(glon[r]), float(glat[r])
        else:
            x = _parse_float(path, cell("lon"), "lon", lab, lo=-180.0, hi=180.0, unit="deg",
                             allow_empty=False)
            y = _parse_float(path, cell("lat"), "lat", lab, lo=-90.0, hi=90.0, unit="deg",
                             allow_empty=False)
        if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            raise _err(path, f"position ({x:g}, {y:g}) is not a WGS 84 lon/lat; check the "
                       "file's CRS", lab)
        out["lon"].append(x)
        out["lat"].append(y)
        out["value"].append(value)
        out["transmitter"].append(cell("transmitter"))
        out["route"].append(cell("route") or route_default)
        out["route_type"].append(cell("route_type"))
        out["time"].append(cell("time"))
        out["rx_height_m"].append(_parse_float(path, cell("rx_height_m"), "rx_height_m", lab,
                                               lo=0.0, hi=3000.0, unit="m"))
        out["censored"].append(censored)
        out["recorded"].append(cens_text != "")
        out["floor_dbm"].append(floor)
        out["peer"].append(_parse_float(path, cell("peer_prediction"), "peer_prediction", lab))
        out["line"].append(line)
    if not out["value"]:
        raise _err(path, f"no usable row: all {len(rows)} rows have an empty "
                   f"{value_column}; give at least one measured value", value_column)
    order = _order_key(out["time"])
    m = Measurements(
        file=str(path), kind=kind, value_column=value_column,
        lon=np.asarray(out["lon"], float), lat=np.asarray(out["lat"], float),
        value=np.asarray(out["value"], float),
        transmitter=np.asarray(out["transmitter"], dtype=object),
        route=np.asarray(out["route"], dtype=object),
        route_type=np.asarray(out["route_type"], dtype=object),
        order=order if order is not None else np.arange(len(out["value"]), dtype=float),
        rx_height_m=np.asarray(out["rx_height_m"], float),
        censored=np.asarray(out["censored"], bool),
        floor_dbm=np.asarray(out["floor_dbm"], float), peer=np.asarray(out["peer"], float),
        line=np.asarray(out["line"], np.int64),
        misses_recorded=np.asarray(out["recorded"], bool), where=where, rows_read=len(rows),
        skipped={"missing_value": skipped_missing}, sha256=sha256_of(path),
        has_column={c: c in col for c in OPTIONAL_COLUMNS})
    # rows of a route in time order (stable: equal times keep the file order)
    idx = np.lexsort((np.arange(len(m)), m.order, m.route.astype(str)))
    return m.subset(idx)


# ---------------------------------------------------------------------------------------
# transmitter table
# ---------------------------------------------------------------------------------------
@dataclass
class TransmitterTable:
    """Transmitters that are not sites of the scenario (parallel arrays, one per row).

    Columns as in the module docstring; ``line`` is the CSV line of each row.
    """

    file: str
    name: list
    line: np.ndarray
    values: dict
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.name)

    def __getattr__(self, item):
        values = self.__dict__.get("values", {})
        if item in values:
            return values[item]
        raise AttributeError(item)

    def index(self, name: str) -> int:
        return self.name.index(name)


def read_transmitters(path) -> TransmitterTable:
    """Read a transmitter table (CSV, columns in the module docstring).

    Raises
    ------
    ScenarioError
        Missing or unreadable file, duplicate columns or names, a missing required column
        or value, a value that is not a number or outside its range (naming the line).
    """
    path = Path(path)
    header, rows = _read_csv(path, "transmitter table", key="--transmitters")
    if not rows:
        raise _err(path, "the transmitter table has no rows; allowed: one row per "
                   "transmitter below the header", "line 2")
    col = {h: i for i, h in enumerate(header)}
    need = ["name"] + [c for c, (d, *_ ) in TRANSMITTER_COLUMNS.items() if d is None]
    missing = [c for c in need if c not in col]
    if missing:
        raise _err(path, f"missing column(s) {', '.join(missing)}; allowed: name, lon, lat, "
                   "height_m, frequency_mhz, tx_power_dbm and the optional columns of "
                   "docs/validation.md", "line 1")
    names, lines = [], []
    values = {c: [] for c in TRANSMITTER_COLUMNS}
    for line, cells in rows:
        lab = f"line {line}"
        cells = list(cells) + [""] * (len(header) - len(cells))
        name = cells[col["name"]].strip()
        if not name:
            raise _err(path, "column name is empty; give every transmitter a name", lab)
        if name in names:
            raise _err(path, f"transmitter name {name!r} appears twice; names must be unique",
                       lab, name)
        names.append(name)
        lines.append(line)
        for c, (default, lo, hi, unit) in TRANSMITTER_COLUMNS.items():
            text = cells[col[c]] if c in col else ""
            v = _parse_float(path, text, c, lab, lo=lo, hi=hi, unit=unit,
                             allow_empty=default is not None)
            if c in ("height_m", "frequency_mhz") and not v > 0:
                raise _err(path, f"column {c}: {v:g} {unit} must be > 0", lab, v)
            if c in ("hpbw_h_deg", "hpbw_v_deg", "bandwidth_mhz") and v == 0:
                raise _err(path, f"column {c}: 0 {unit} must be > 0 (or empty)", lab, v)
            values[c].append(default if math.isnan(v) and default is not None else v)
    return TransmitterTable(file=str(path), name=names, line=np.asarray(lines, np.int64),
                            values={c: np.asarray(v, float) for c, v in values.items()},
                            sha256=sha256_of(path))


# ---------------------------------------------------------------------------------------
# writing the format
# ---------------------------------------------------------------------------------------
MEASUREMENT_COLUMN_ORDER = ("lon", "lat", "rsrp_dbm", "rssi_dbm", "rx_power_dbm",
                            "path_loss_db", "transmitter", "route", "route_type", "time",
                            "rx_height_m", "censored", "floor_dbm", "peer_prediction")


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(float(v)) else repr(round(float(v), 9))
    return str(v)


def write_table_csv(path, columns: dict) -> Path:
    """Write parallel columns (``{name: sequence}``) as a CSV; NaN and None as empty."""
    path = Path(path)
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for i in range(n):
            w.writerow([_fmt(columns[c][i]) for c in names])
    return path


# ---------------------------------------------------------------------------------------
# adapters for two published layouts
# ---------------------------------------------------------------------------------------
#: LoRa sensitivity assumed for the Karst packets that a gateway did not log (Meshtastic
#: LongFast, SF11 / 250 kHz): Meshtastic's published link budget of 153 dB at the SX1262's
#: 22 dBm gives -131 dBm (meshtastic.org blog, "Is LongFast holding your mesh back?").
KARST_FLOOR_DBM = -131.0


def omni_vertical_hpbw_deg(gain_dbi: float) -> float:
    """Vertical half-power beam width of an omnidirectional antenna of a given gain [deg].

    McDonald's approximation of the directivity of an omnidirectional antenna,
    ``D = 101 / (HPBW - 0.0027 HPBW^2)`` (HPBW in degrees; D. M. Pozar, "Directivity of
    omnidirectional antennas", IEEE Antennas and Propagation Magazine 35(5), 1993,
    pp. 50-51), solved for HPBW. It gives 78 deg for a half-wave dipole (2.15 dBi, as
    measured), 35 deg at 5 dBi, 24 deg at 6.5 dBi. Gains at or below 2.15 dBi return the
    dipole's 78 deg.
    """
    d = 10.0 ** (max(float(gain_dbi), 2.15) / 10.0)
    return float((1.0 - math.sqrt(1.0 - 4.0 * 0.0027 * 101.0 / d)) / (2.0 * 0.0027))


def karst_lora_tables(folder) -> dict:
    """The Karst LoRa set (KomelT/rf-site-planner ``analyze/``) in the generic format.

    The mobile node transmitted and the fixed gateways received; path loss is reciprocal,
    so each gateway is a transmitter of the table (at its position and height, with the
    mobile's power and the gateway's gain and loss) and each packet a sample at the mobile's
    position (2 m), with the mobile's gain and feeder loss on the receiving side: the link
    budget is the author's, only the roles are swapped. A gateway's stated gain (5 or
    6.5 dBi, an omnidirectional antenna) implies a vertical beam
    (:func:`omni_vertical_hpbw_deg`), given to the table as ``hpbw_v_deg`` with an omni
    horizontal pattern; the mobile's own pattern is not modelled. In a file logging several gateways,
    a gateway column left empty (``NULL``) in a row of the mobile's positions is a packet
    this gateway did not log: a censored sample below :data:`KARST_FLOOR_DBM` (the README:
    only packets above the receiver's sensitivity were logged); a file with one gateway's
    column holds only the packets it heard (misses not recorded: ``censored`` left empty). Rows of ``analyze.csv`` give the author's
    SPLAT!/ITM prediction of the same sample (``peer_prediction``). The six-week fixed link
    (no positions in its file) is returned apart, as a time series.

    Returns
    -------
    dict
        ``measurements`` (columns for :func:`write_table_csv`), ``transmitters`` (columns),
        ``fixed_link`` (``{"rssi_dbm": array, "receiver": name, "transmitter": name}``).
    """
    folder = Path(folder)
    params = json.loads((folder / "sites_and_link_params.json").read_text())
    tx = params["tx_defaults"]
    gws = {g["node_id"]: g for g in params["rx_sites"]}
    trans = {"name": [], "lon": [], "lat": [], "height_m": [], "frequency_mhz": [],
             "tx_power_dbm": [], "tx_gain_dbi": [], "tx_loss_db": [], "rx_gain_dbi": [],
             "rx_loss_db": [], "hpbw_h_deg": [], "hpbw_v_deg": [], "sensitivity_dbm": []}
    for g in params["rx_sites"]:
        trans["name"].append(g["name"])
        trans["lon"].append(g["lon"])
        trans["lat"].append(g["lat"])
        trans["height_m"].append(g["rx_height_m_agl"])
        trans["frequency_mhz"].append(tx["frequency_mhz"])
        trans["tx_power_dbm"].append(tx["tx_power_dbm"])
        trans["tx_gain_dbi"].append(g["rx_gain_dbi"])
        trans["tx_loss_db"].append(g["rx_loss_db"])
        trans["rx_gain_dbi"].append(tx["tx_gain_dbi"])
        trans["rx_loss_db"].append(tx["tx_loss_db"])
        trans["hpbw_h_deg"].append(360.0)
        trans["hpbw_v_deg"].append(round(omni_vertical_hpbw_deg(g["rx_gain_dbi"]), 2))
        trans["sensitivity_dbm"].append(KARST_FLOOR_DBM)
    meas = {k: [] for k in ("lon", "lat", "rssi_dbm", "transmitter", "route", "time",
                            "rx_height_m", "censored", "floor_dbm", "peer_prediction")}
    fixed = None
    for data in sorted(folder.glob("*/data-*.csv")):
        with open(data, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        node_cols = [c for c in (rows[0].keys() if rows else []) if c.startswith("!")]
        if "latitudeI" not in (rows[0] if rows else {}):
            # the fixed link: one gateway's RSSI of another gateway's packets over weeks
            rx_id = node_cols[0]
            fixed = {"rssi_dbm": np.array([float(r[rx_id]) for r in rows if r[rx_id]]),
                     "receiver": gws[rx_id]["name"], "route": data.parent.name,
                     "transmitter": "Sv. Katarina"}
            continue
        peer = _karst_peer(data.parent / "analyze.csv")
        # a file of positions with several gateways' columns records which did not hear
        # a packet; a file with one gateway's column holds only packets it heard
        recorded = len(node_cols) > 1
        for r in rows:
            lat, lon = int(r["latitudeI"]) / 1e7, int(r["longitudeI"]) / 1e7
            for c in node_cols:
                g = gws[c]
                text = r[c].strip()
                text = "" if text.upper() == "NULL" else text
                meas["lon"].append(lon)
                meas["lat"].append(lat)
                meas["transmitter"].append(g["name"])
                meas["route"].append(data.parent.name)
                meas["time"].append(r.get("createdAt", ""))
                meas["rx_height_m"].append(tx["tx_height_m_agl"])
                meas["peer_prediction"].append(peer.get((round(lat, 7), round(lon, 7), c),
                                                        math.nan))
                if text:
                    meas["rssi_dbm"].append(float(text))
                    # misses are recorded where the file logs several gateways' columns
                    meas["censored"].append(False if recorded else None)
                    meas["floor_dbm"].append(KARST_FLOOR_DBM)
                elif recorded:  # a position sent that this gateway did not log
                    meas["rssi_dbm"].append(math.nan)
                    meas["censored"].append(True)
                    meas["floor_dbm"].append(KARST_FLOOR_DBM)
                else:
                    meas["rssi_dbm"].append(math.nan)
                    meas["censored"].append(None)
                    meas["floor_dbm"].append(KARST_FLOOR_DBM)
    return {"measurements": meas, "transmitters": trans, "fixed_link": fixed}


def _karst_peer(analyze: Path) -> dict:
    """{(lat, lon, node id): the author's predicted RSSI} from an ``analyze.csv``."""
    if not analyze.is_file():
        return {}
    out = {}
    with open(analyze, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for k, v in r.items():
                if k.endswith("_predicted_rssi") and v.strip():
                    node = k[: -len("_predicted_rssi")]
                    out[(round(float(r["lat"]), 7), round(float(r["lon"]), 7), node)] = float(v)
    return out


#: Nominal transmitter assumptions for the Dortmund drive tests, which give no power,
#: height or azimuth: a 46 dBm (40 W) carrier over 20 MHz (100 resource blocks), a 15 dBi
#: panel with 3 dB feeder loss, 30 m above ground (Hata's lowest base height). They only
#: set the level of the uncalibrated predictions; a per-cell EIRP offset is fitted.
DORTMUND_ASSUMED = {"height_m": 30.0, "tx_power_dbm": 46.0, "tx_gain_dbi": 15.0,
                    "tx_loss_db": 3.0, "bandwidth_mhz": 20.0, "rx_height_m": 1.5}


def dortmund_lte_tables(folder) -> dict:
    """The Dortmund LTE drive tests (jakthra/PseudoRayTracingOSM) in the generic format.

    Each file ``<operator>_<route type>.csv`` is one route; each serving cell (operator,
    position, frequency) a transmitter with :data:`DORTMUND_ASSUMED` (unknown in the data:
    the comparison must fit a per-cell offset). Samples are RSRP at a car's antenna (1.5 m).

    Returns
    -------
    dict
        ``measurements`` and ``transmitters`` (columns for :func:`write_table_csv`).
    """
    folder = Path(folder)
    meas = {k: [] for k in ("lon", "lat", "rsrp_dbm", "transmitter", "route", "route_type",
                            "time", "rx_height_m")}
    cells: dict[str, tuple] = {}
    for f in sorted(folder.glob("*_*.csv")):
        operator, route_type = f.stem.split("_", 1)
        with open(f, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                clon, clat, freq = float(r["cellLon"]), float(r["cellLat"]), float(r["cellFreq"])
                name = f"{operator}-{freq:g}MHz-{clat:.6f}N-{clon:.6f}E"
                cells.setdefault(name, (clon, clat, freq))
                meas["lon"].append(float(r["lon"]))
                meas["lat"].append(float(r["lat"]))
                meas["rsrp_dbm"].append(float(r["rsrp"]))
                meas["transmitter"].append(name)
                meas["route"].append(f.stem)
                meas["route_type"].append(route_type)
                meas["time"].append(r.get("index", ""))
                meas["rx_height_m"].append(DORTMUND_ASSUMED["rx_height_m"])
    a = DORTMUND_ASSUMED
    names = sorted(cells)
    trans = {"name": names, "lon": [cells[n][0] for n in names],
             "lat": [cells[n][1] for n in names], "height_m": [a["height_m"]] * len(names),
             "frequency_mhz": [cells[n][2] for n in names],
             "tx_power_dbm": [a["tx_power_dbm"]] * len(names),
             "tx_gain_dbi": [a["tx_gain_dbi"]] * len(names),
             "tx_loss_db": [a["tx_loss_db"]] * len(names),
             "bandwidth_mhz": [a["bandwidth_mhz"]] * len(names)}
    return {"measurements": meas, "transmitters": trans}


# ---------------------------------------------------------------------------------------
# outputs of ruralsim calibrate
# ---------------------------------------------------------------------------------------
def _json_ready(obj):
    """Plain JSON types; NaN and inf become None."""
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_json_ready(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def points_columns(result) -> dict:
    """Per-point table of a comparison or calibration (what points.csv holds)."""
    from pyproj import Transformer

    comp = getattr(result, "comparison", result)
    pts = comp.points
    lon, lat = Transformer.from_crs(pts.crs, "EPSG:4326",
                                    always_xy=True).transform(pts.x_m, pts.y_m)
    cols = {"line": pts.line, "transmitter": pts.transmitter, "route": pts.route,
            "route_type": pts.route_type, "lon": np.round(lon, 7), "lat": np.round(lat, 7),
            "x_m": np.round(pts.x_m, 2), "y_m": np.round(pts.y_m, 2),
            "distance_m": np.round(pts.distance_m, 2), "censored": pts.censored,
            "floor_dbm": pts.floor_dbm, "measured": pts.measured,
            "predicted": np.round(pts.predicted, 4), "error_db": np.round(pts.error_db, 4)}
    if pts.line_of_sight is not None:
        cols["line_of_sight"] = pts.line_of_sight
    cols["floor_decided"] = pts.floor_decided
    if np.isfinite(pts.peer).any():
        cols["peer_prediction"] = pts.peer
    if comp is not result:
        cal = result.calibrated_points
        cols["calibrated_predicted"] = np.round(cal.predicted, 4)
        cols["calibrated_error_db"] = np.round(cal.error_db, 4)
        cols["cv_error_db"] = np.round(result.cv_error_db, 4)
    for k in ("error_db", "calibrated_error_db", "cv_error_db"):
        if k in cols:
            cols[k] = np.where(pts.censored, np.nan, cols[k])
    return cols


def save_calibration_outputs(result, out_dir, *, overwrite: bool = False) -> Path:
    """Write calibration.json, points.csv, the figures and (for a calibration)
    calibrated_scenario.yaml into ``out_dir``, atomically
    (:func:`simulator.io.results.atomic_folder`)."""
    import yaml

    from ..calibration import plotting
    from .outputs import atomic_folder, protected_paths

    comp = getattr(result, "comparison", result)
    out = Path(out_dir)
    data = _json_ready(result.to_dict())
    figures = [("predicted_vs_measured.png", plotting.plot_predicted_vs_measured),
               ("error_vs_distance.png", plotting.plot_error_vs_distance),
               ("error_map.png", plotting.plot_error_map)]
    if comp is not result:
        figures.append(("correlogram.png", plotting.plot_correlogram))
    with atomic_folder(out, overwrite=overwrite,
                       protect=protected_paths(comp.scenario), kind="calibration",
                       what="calibration folder") as tmp:
        (tmp / "calibration.json").write_text(json.dumps(data, indent=1) + "\n",
                                               encoding="utf-8")
        write_table_csv(tmp / "points.csv", points_columns(result))
        if comp is not result:
            head = ("# The input scenario with the correction fitted by ruralsim calibrate\n"
                    f"# (propagation.calibration) from {comp.measurements.file}.\n"
                    "# File paths are absolute; run it with: ruralsim run <this file>\n")
            text = yaml.safe_dump(_json_ready(result.calibrated_scenario_data),
                                  sort_keys=False, allow_unicode=True)
            (tmp / "calibrated_scenario.yaml").write_text(head + text, encoding="utf-8")
        for name, fn in figures:
            ax = fn(result)
            ax.figure.savefig(tmp / name, dpi=120)
    return out
