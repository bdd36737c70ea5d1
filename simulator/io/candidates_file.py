"""Reading candidate sites from a CSV file (``planning.candidates.file``)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..errors import ScenarioError


def read_candidates_csv(path: Path | str) -> list[dict]:
    """Rows of a candidate CSV as dicts, numbers parsed, with their line numbers.

    Columns: ``x_m,y_m`` (region CRS) or ``lon,lat`` (WGS 84) [m or deg]; optional
    ``station`` (station type name), ``cost_usd`` [USD, > 0] and ``name``. Other columns are
    ignored. Each row dict has ``line`` (1-based line in the file), ``x``/``y`` and ``crs``
    (``"xy"`` or ``"lonlat"``), ``station``, ``cost_usd`` and ``name`` (None when absent).

    Raises
    ------
    ScenarioError
        Missing or unreadable file, no coordinate columns, a non-numeric or non-finite
        coordinate or cost, a cost <= 0, or no rows (file = the CSV, key = ``line N``).
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("candidate file not found (paths are relative to the scenario "
                            "file's folder)", file=str(path),
                            key="planning.candidates.file")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            raw = [({(k or "").strip(): (v or "").strip() for k, v in row.items()},
                    reader.line_num) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(f"cannot read the candidate file ({exc}); allowed: a UTF-8 CSV "
                            "text file", file=str(path), key="planning.candidates.file") from None
    if {"x_m", "y_m"} <= set(header):
        cx, cy, kind = "x_m", "y_m", "xy"
    elif {"lon", "lat"} <= set(header):
        cx, cy, kind = "lon", "lat", "lonlat"
    else:
        raise ScenarioError(f"no coordinate columns; allowed: x_m,y_m (region CRS) or lon,lat "
                            f"(WGS 84); found: {', '.join(header) or 'nothing'}",
                            file=str(path), key="line 1")
    rows = []
    for row, line in raw:
        if not any(row.values()):
            continue
        out = {"line": line, "crs": kind, "station": row.get("station") or None,
               "name": row.get("name") or None, "cost_usd": None}
        for col, key in ((cx, "x"), (cy, "y"), ("cost_usd", "cost_usd")):
            text = row.get(col, "")
            if col == "cost_usd" and not text:
                continue
            try:
                value = float(text)
            except ValueError:
                raise ScenarioError(f"column {col}: {text!r} is not a number; allowed: a "
                                    "decimal number", file=str(path), key=f"line {line}",
                                    value=text) from None
            if not math.isfinite(value):
                raise ScenarioError(f"column {col}: {text!r} is not finite", file=str(path),
                                    key=f"line {line}", value=text)
            if col == "cost_usd" and value <= 0:
                raise ScenarioError(f"column cost_usd: {value:g} must be > 0 USD",
                                    file=str(path), key=f"line {line}", value=value)
            out[key] = value
        if kind == "lonlat" and not (-180 <= out["x"] <= 180 and -90 <= out["y"] <= 90):
            raise ScenarioError(f"lon, lat ({out['x']:g}, {out['y']:g}) is not a WGS 84 "
                                "position", file=str(path), key=f"line {line}")
        rows.append(out)
    if not rows:
        raise ScenarioError("the candidate file has no rows: no candidates", file=str(path))
    return rows
