"""Comparison tables: one row per scenario, from the run summaries; reading a results
folder's summary.json for ``ruralsim compare``, checked against what a summary holds."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ..errors import ScenarioError

#: (summary key, column label for people) in the order of the comparison table and CSV.
COMPARISON_COLUMNS = (
    ("scenario", "scenario"),
    ("population_total", "population"),
    ("sites_existing", "existing sites"),
    ("sites_new", "new sites"),
    ("sites_new_requested", "  new sites asked for"),
    ("new_sites_by_type", "new sites by type"),
    ("people_covered", "people covered"),
    ("people_newly_covered", "  newly covered"),
    ("people_connected", "people connected (last year)"),
    ("people_newly_connected", "  newly connected"),
    ("capex_usd", "new sites capex [USD]"),
    ("opex_usd_per_year", "new sites opex [USD/yr]"),
    ("tco_usd", "new sites TCO [USD]"),
    ("npv_usd", "new sites NPV [USD]"),
    ("payback_years", "payback [years]"),
    ("marginal_cost_per_person_covered_usd", "new sites: USD per person newly covered"),
    ("marginal_cost_per_person_connected_usd", "new sites: USD per person newly connected"),
    ("cost_per_person_covered_usd", "whole network: USD per person covered"),
    ("cost_per_person_connected_usd", "whole network: USD per person connected"),
    ("co2_t_per_year_new_sites", "new sites CO2 [t/yr]"),
    ("horizon_years", "horizon [years]"),
    ("discount_rate", "discount rate"),
    ("warnings", "warnings"),
)


def fewer_sites_than_asked(summary: dict) -> bool:
    """True when a run placed fewer new sites than its scenario asks for."""
    asked = summary.get("sites_new_requested")
    return asked is not None and summary.get("sites_new", 0) < asked


def comparison_row(summary: dict) -> dict:
    """The comparison columns of one run summary (missing keys give None)."""
    row = {}
    for key, _ in COMPARISON_COLUMNS:
        if key == "new_sites_by_type":
            row[key] = " + ".join(f"{d['new']} {name}" for name, d in
                                  summary.get("sites_by_type", {}).items() if d["new"]) or "0"
        elif key == "warnings":
            row[key] = len(summary.get("warnings", []))
        else:
            row[key] = summary.get(key)
    return row


def write_comparison_csv(summaries: list[dict], path: Path | str) -> Path:
    """Write one row per scenario; empty cells where a number is undefined (no payback)."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k, _ in COMPARISON_COLUMNS])
        w.writeheader()
        for s in summaries:
            w.writerow(comparison_row(s))
    return path


#: What ``compare`` reads from a summary.json, and its kind: "count" (an integer >= 0),
#: "number" (finite), "number?" (finite or null: undefined, e.g. no payback), "text",
#: "share" (0..1), "years" (an integer >= 1), "sites_by_type" ({type: {existing, new}}).
SUMMARY_FIELDS = {
    "scenario": "text",
    "population_total": "count",
    "sites_existing": "count",
    "sites_new": "count",
    "sites_by_type": "sites_by_type",
    "people_covered": "count",
    "people_newly_covered": "count",
    "people_covered_by_existing_sites": "count",
    "people_connected": "count",
    "people_newly_connected": "count",
    "people_connected_by_existing_sites": "count",
    "capex_usd": "number?",
    "opex_usd_per_year": "number?",
    "tco_usd": "number?",
    "npv_usd": "number?",
    "payback_years": "number?",
    "marginal_cost_per_person_covered_usd": "number?",
    "marginal_cost_per_person_connected_usd": "number?",
    "cost_per_person_covered_usd": "number?",
    "cost_per_person_connected_usd": "number?",
    "co2_t_per_year_new_sites": "number?",
    "horizon_years": "years",
    "discount_rate": "share",
}

#: A summary.json larger than this is not a summary [bytes].
SUMMARY_MAX_BYTES = 64 * 2**20

_KIND_TEXT = {"count": "a whole number >= 0", "number": "a finite number",
              "number?": "a finite number or null", "text": "a text",
              "share": "a number in 0..1", "years": "a whole number >= 1",
              "sites_by_type": "a mapping {station type: {existing: n, new: n}}"}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(float(v)))


def _fits(kind: str, v) -> bool:
    if kind == "count":
        return _is_int(v) and v >= 0
    if kind == "years":
        return _is_int(v) and v >= 1
    if kind == "number":
        return _is_num(v)
    if kind == "number?":
        return v is None or _is_num(v)
    if kind == "share":
        return _is_num(v) and 0 <= v <= 1
    if kind == "text":
        return isinstance(v, str)
    if kind == "sites_by_type":
        return isinstance(v, dict) and all(
            isinstance(k, str) and isinstance(d, dict) and {"existing", "new"} <= set(d)
            and _is_int(d["existing"]) and _is_int(d["new"]) and d["existing"] >= 0
            and d["new"] >= 0 for k, d in v.items())
    raise ValueError(kind)  # pragma: no cover


def check_summary(summary, file) -> dict:
    """Refuse a summary that ``compare`` cannot use: not a mapping, a key missing, a value of
    the wrong kind (a string, NaN, a negative count); see :data:`SUMMARY_FIELDS`.

    Raises
    ------
    ScenarioError
        Naming the file and the key, with what is allowed.
    """
    again = "run the scenario again to rewrite the results folder"
    if not isinstance(summary, dict):
        raise ScenarioError(f"not a summary (a JSON object expected); {again}", file=str(file))
    if "people_connected" not in summary:
        raise ScenarioError("summary.json has no people_connected (written by an older "
                            "version); run the scenario again", file=str(file),
                            key="people_connected")
    for key, kind in SUMMARY_FIELDS.items():
        if key not in summary:
            raise ScenarioError(f"required but missing (allowed: {_KIND_TEXT[kind]}); {again}",
                                file=str(file), key=key)
        v = summary[key]
        if not _fits(kind, v):
            shown = repr(v)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ScenarioError(f"{shown} is not {_KIND_TEXT[kind]}; {again}",
                                file=str(file), key=key, value=v)
    return summary


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def read_summary(folder) -> dict:
    """The checked summary.json of a results folder (:func:`check_summary`).

    Raises
    ------
    ScenarioError
        No summary.json (not a results folder), not a regular file, too large, not UTF-8 JSON,
        NaN or Infinity in it, or a summary ``compare`` cannot use.
    """
    folder = Path(folder)
    sj = folder / "summary.json"
    if not sj.is_file():
        raise ScenarioError("a results folder for compare must hold summary.json (from "
                            "'ruralsim run'); allowed: a scenario YAML file or a results "
                            "folder", file=str(folder))
    size = sj.stat().st_size
    if size > SUMMARY_MAX_BYTES:
        raise ScenarioError(f"{size:,} bytes is not a summary (at most "
                            f"{SUMMARY_MAX_BYTES:,}); run the scenario again to rewrite the "
                            "results folder", file=str(sj))
    try:
        with open(sj, "rb") as fh:
            text = fh.read(SUMMARY_MAX_BYTES + 1).decode("utf-8")
        summary = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else None
        raise ScenarioError(f"not valid JSON ({getattr(exc, 'msg', exc)}); run the scenario "
                            "again to rewrite the results folder", file=str(sj),
                            key=where) from None
    return check_summary(summary, sj)
