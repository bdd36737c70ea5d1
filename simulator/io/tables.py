"""Comparison tables: one row per scenario, from the run summaries."""

from __future__ import annotations

import csv
from pathlib import Path

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
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k, _ in COMPARISON_COLUMNS])
        w.writeheader()
        for s in summaries:
            w.writerow(comparison_row(s))
    return path
