"""``report.html``: one self-contained page per run (numbers, maps, tables, parameters).

The page needs no server and no network: figures are PNGs embedded as base64 ``data:``
URIs, the style is inline, there is no script. It opens from disk in any browser.
"""

from __future__ import annotations

import base64
import html

import numpy as np

import yaml

from .io.maplayers import model_label

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1280px;
color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.headline{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:11em}
.card .v{font-size:1.6em;font-weight:600}.card .k{color:#666;font-size:.9em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}pre{background:#f7f7f7;padding:1em;overflow:auto;
font-size:.85em}.warn{color:#a50f15}
.wide{overflow-x:auto}#sites{font-size:.8em}#sites td{white-space:nowrap}
"""


def _e(x) -> str:
    return html.escape(str(x))


def _table(header: list[str], rows: list[list], *, table_id: str, numeric=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="{table_id}"><tr>{head}</tr>{"".join(body)}</table>'


def headline_numbers(summary: dict) -> list[tuple[str, str, str]]:
    """(element id, label, formatted value) of the numbers shown at the top."""
    return [
        ("people-covered", "people covered",
         f"{summary['people_covered']:,} ({100 * summary['coverage_fraction']:.1f} %)"),
        ("population-total", "population", f"{summary['population_total']:,}"),
        ("people-newly-covered", "newly covered", f"{summary['people_newly_covered']:,}"),
        ("people-covered-existing", "covered by existing sites",
         f"{summary['people_covered_by_existing_sites']:,}"),
        ("area-covered", "area covered",
         f"{summary['area_covered_km2']:,.1f} of {summary['area_km2']:,.0f} km²"),
        ("sites-total", "sites",
         f"{summary['sites_total']} ({summary['sites_existing']} existing, "
         f"{summary['sites_new']} new)"),
    ] + _more_numbers(summary)


def _money(x) -> str:
    return "n/a" if x is None else f"USD {x:,.0f}"


def _more_numbers(summary: dict) -> list[tuple[str, str, str]]:
    """Serving, adoption and cost numbers, when the run has them."""
    out = []
    if "people_served_busy_hour" in summary:
        out.append(("people-served", "served at busy hour",
                    f"{summary['people_served_busy_hour']:,.0f}"))
    if "people_connected" in summary:
        share = (summary["people_connected"] / summary["people_covered"]
                 if summary["people_covered"] else 0.0)
        out.append(("people-connected", "people connected (last year)",
                    f"{summary['people_connected']:,} ({100 * share:.1f} % of covered)"))
    if "capex_usd" in summary:
        out.append(("new-capex", "new sites capex", _money(summary["capex_usd"])))
    if "marginal_cost_per_person_connected_usd" in summary:
        out.append(("cost-per-connected", "USD per person newly connected",
                    _money(summary["marginal_cost_per_person_connected_usd"])))
    return out


def _adoption_section(s: dict) -> list[str]:
    """Covered -> connected: each barrier's share, which binds, what the levers would need."""
    ab = s.get("adoption_barriers")
    if not ab:
        return []
    from .business.explain import LEVERS

    out = ["<h2>Who connects, and what holds them back</h2>",
           f"<p>Of the people covered, {100 * s.get('people_connected_fraction_of_covered', 0):.1f} % "
           f"are connected after {s.get('horizon_years')} years. Four barriers stand between "
           f"covered and connected; with <code>combine: {_e(ab['combine'])}</code> "
           + ("the smallest share alone sets how many can connect, so a lever on any other "
              "barrier changes nothing until it rises above the binding one."
              if ab["combine"] == "nested" else
              "every share multiplies, so every lever counts.") + "</p>"]
    rows = []
    for b, v in ab["shares"].items():
        if v is None:
            continue
        binds = "binds" if b == ab["binding"] else ("no effect now" if b in ab["no_effect"]
                                                    else "")
        rows.append([b, f"{100 * v:.1f} %", binds, f"{ab['people_bound_by'].get(b, 0):,}",
                     f"adoption.{LEVERS[b][0]}"])
    out.append(_table(["barrier", "share of covered people clearing it", "now",
                       "people at sites where it binds", "lever"], rows,
                      table_id="adoption-barriers", numeric=(1, 3)))
    inc = ab.get("income") or {}
    if inc.get("min_usd_per_month") is not None:
        out.append(f'<p id="adoption-income">Median income of each site\'s users: '
                   f"USD {inc['min_usd_per_month']:,.0f} to {inc['max_usd_per_month']:,.0f} a "
                   f"month (income model <code>{_e(inc['model'])}</code>; scenario median USD "
                   f"{inc['median_usd_per_month']:,.0f}).</p>")
    out.append('<ul id="adoption-notes">' + "".join(f"<li>{_e(n)}</li>" for n in ab["notes"])
               + "</ul>")
    return out


def _site_table(result, s: dict) -> list[str]:
    """One row per site: position, people served, busy-hour load, unserved, backhaul, power,
    costs (the same columns as sites.geojson)."""
    from .business.site_table import site_columns

    c = site_columns(result)
    n = len(c["name"])
    has_b = "capex_usd" in c
    rows = []
    for i in range(n):
        load = c["busy_hour_load"][i]
        row = [c["name"][i], f"{c['station_type'][i]}, {c['status'][i]}",
               f"{c['lon'][i]:.5f}, {c['lat'][i]:.5f}", f"{int(c['people_served'][i]):,}",
               "n/a" if not np.isfinite(load) else
               f"{load:.2f}" + (" over" if c["over_capacity"][i] else ""),
               f"{int(c['people_unserved'][i]):,}"]
        if has_b:
            row += [f"{int(c['people_connected'][i]):,}", c["binding_barrier"][i],
                    c["backhaul"][i], c["power"][i], f"{c['capex_usd'][i]:,.0f}",
                    f"{c['opex_usd_per_year'][i]:,.0f}"]
        rows.append(row)
    header = ["site", "type", "lon, lat", "people served", "busy-hour load",
              "people unserved"]
    numeric = [3, 4, 5]
    if has_b:
        header += ["people connected", "binding barrier", "backhaul", "power", "capex [USD]",
                   "opex [USD/year]"]
        numeric += [6, 10, 11]
    over = s.get("sites_over_capacity_names") or []
    out = ["<h2>Sites</h2>",
           f"<p>Covered people whose best server is the site; mean per new site "
           f"{s['people_served_per_new_site_mean']:,.0f}. Busy-hour load is demand / capacity; "
           "above 1 the site cannot serve everyone at the busy hour (people unserved = people "
           "served x (1 - 1/load)).</p>"]
    if over:
        out.append(f'<p id="over-capacity" class="warn">{len(over)} sites over capacity: '
                   f"{_e(', '.join(over))}.</p>")
    out.append('<div class="wide">' + _table(header, rows, table_id="sites",
                                             numeric=tuple(numeric)) + "</div>")
    return out


def build_report_html(result, figures: dict[str, tuple[bytes, str]] | None = None, *,
                      maps_note: str | None = None) -> str:
    """The report page of a run, as a string.

    Every number comes from ``result.summary`` and the per-site arrays, so a tiled run's
    :class:`simulator.pipeline.distributed.TiledResult` makes the same page as an in-memory run.

    Parameters
    ----------
    result : ScenarioResult or TiledResult
    figures : dict, optional
        ``{name: (png_bytes, caption)}``, embedded in order as base64 data URIs.
    maps_note : str, optional
        A paragraph at the top of the Maps section (a tiled run: what the maps aggregate).
    """
    s = result.summary
    sc = result.scenario
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>ruralsim report: {_e(sc.name)}</title>",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_e(sc.name)}</h1>",
             f'<p class="sub">{_e(sc.description) if sc.description else ""} '
             f"ruralsim {_e(s.get('software_version'))} · seed {_e(s['seed'])} · "
             f"{_e(result.technology.label)} · {_e(model_label(s['propagation_model']))} · "
             f"{_e(s['crs'])}, {s['resolution_m']:g} m cells</p>",
             '<h2>Headline numbers</h2><div class="headline">']
    for key, label, value in headline_numbers(s):
        parts.append(f'<div class="card"><div class="v" id="{key}">{_e(value)}</div>'
                     f'<div class="k">{_e(label)}</div></div>')
    parts.append("</div>")
    parts.append(
        f"<p>A person is covered when, from their best server, the downlink "
        f"{_e(s['signal_metric'].upper())} is at least {s['required_signal_dbm']:.1f} dBm (the "
        f"threshold {s['dl_threshold_dbm']:g} dBm plus a fade margin of "
        f"{s['fade_margin_db']:.1f} dB: shadowing σ {sc.propagation.shadowing_sigma_db:g} dB, "
        f"location reliability {100 * sc.propagation.location_reliability:g} %), the SINR is "
        "decodable and the uplink closes (the handset is heard above "
        f"{s.get('ul_sensitivity_dbm', float('nan')):.1f} dBm plus the same margin). Covered "
        "is not connected: handsets, prices and skills decide who uses it.</p>")
    causes = s.get("people_not_covered_by_cause") or {}
    if causes:
        parts.append("<h2>Who is not covered, and why</h2>")
        parts.append(_table(["reason", "people"],
                            [[k.replace("_", " "), f"{v:,}"] for k, v in causes.items()],
                            table_id="not-covered", numeric=(1,)))
    clutter = s.get("clutter")
    if clutter:
        parts.append("<h2>Clutter around the terminal</h2>")
        parts.append(f"<p>{_e(clutter['model'])} ({clutter['source']} land cover). "
                     f"{clutter['people_not_covered_because_of_clutter']:,} people would be "
                     "covered without the clutter loss and are not with it.</p>")
        parts.append(_table(
            ["class", "type", "loss [dB]", "people", "covered", "not covered because of clutter"],
            [[k.replace("_", " "), v["type"], f"{v['loss_db']:.1f}", f"{v['people']:,}",
              f"{v['people_covered']:,}", f"{v['people_not_covered_because_of_clutter']:,}"]
             for k, v in clutter["classes"].items()], table_id="clutter", numeric=(2, 3, 4, 5)))
    for w in s.get("warnings", []):
        parts.append(f'<p class="warn">warning: {_e(w)}</p>')

    parts.append("<h2>Maps</h2>")
    if maps_note:
        parts.append(f'<p id="maps-note">{_e(maps_note)}</p>')
    if figures:
        for name, (png, caption) in figures.items():
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure id="fig-{_e(name)}"><img alt="{_e(caption)}" '
                         f'src="data:image/png;base64,{b64}"><figcaption>{_e(caption)}'
                         "</figcaption></figure>")
    else:
        parts.append("<p>Maps were not drawn for this run (--no-maps / outputs.maps: false).</p>")

    parts.append("<h2>Sites by type</h2>")
    by_type = [[name, result.stations[name].label, d["existing"], d["new"]]
               for name, d in s["sites_by_type"].items()]
    parts.append(_table(["station type", "label", "existing", "new"], by_type,
                        table_id="sites-by-type", numeric=(2, 3)))
    parts += _adoption_section(s)
    parts += _site_table(result, s)

    pin = s.get("population_input") or {}
    towers = s.get("existing_towers") or []
    if pin or towers or s.get("region_boundary"):
        parts.append("<h2>Input data</h2>")
        rows = []
        if s.get("region_boundary"):
            rows.append(["region boundary", s["region_boundary"],
                         f"{s['area_km2']:,.1f} km² inside"])
        if "people_in_region" in pin:
            rows.append(["population raster", pin.get("file"),
                         f"{pin['people_in_region']:,.1f} people inside the region "
                         f"({pin.get('crs')}); {s['population_total']:,} whole people on the "
                         "grid"])
        if "synthetic_people_outside_boundary_dropped" in pin:
            rows.append(["synthetic population", "",
                         f"{pin['synthetic_people_outside_boundary_dropped']:,} people "
                         "generated outside the boundary were dropped"])
        for t in towers:
            unm = ", ".join(f"{k} {v}" for k, v in t["skipped_unmapped_radio"].items()) or "none"
            rows.append(["existing towers", t["file"],
                         f"{t['rows']} cells read, {t['cells_used']} used -> {t['sites']} "
                         f"sites; skipped: {t['skipped_outside_region']} outside the region, "
                         f"unmapped radio: {unm}, {t['skipped_filtered']} by mcc/net filter"])
        parts.append(_table(["input", "file", "what was used"], rows, table_id="inputs"))

    # the economics chart is a figure too: none when the run draws no figures (--no-maps)
    parts += economics_section(result, chart=bool(figures))
    parts += effective_parameters_section(result)
    parts.append("<h2>Scenario as written</h2>")
    parts.append("<p>The scenario file's keys (empty keys take the catalogue values listed "
                 "under <a href=\"#effective-parameters\">Parameters used</a>).</p>")
    parts.append(f"<pre id=\"scenario\">{_e(yaml.safe_dump(sc.model_dump(mode='json'), sort_keys=False))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure_png(draw, *args, size=(6.0, 3.2), **kw) -> bytes:
    """PNG bytes of one ``plot_*`` function drawn on a Figure (no pyplot, nothing open)."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    draw(*args, ax=fig.subplots(), **kw)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _num(v) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _years(v) -> str:
    return "not within the horizon" if v is None else f"{v:g} years"


def economics_section(result, *, chart: bool = True) -> list[str]:
    """The Economics section: capex, opex, TCO, NPV and payback of the new sites and the
    whole network, cost per person, backhaul and power mix, CO2, people connected by
    year (a small chart when ``chart``, else one line of numbers). Empty when the run has
    no business assessment."""
    s = result.summary
    if "capex_usd" not in s:
        return []
    from .plotting import plot_connected_by_year

    h, rate = s.get("horizon_years"), s.get("discount_rate")
    out = ["<h2 id=\"economics\">Economics</h2>",
           f"<p>Over {h} years at a discount rate of {100 * rate:g} %. The new sites' "
           "figures are what the scenario adds; the network's include the existing sites. "
           "Cost per person: the TCO over the people covered or connected (for the new sites, "
           "over the people they newly reach).</p>"]
    rows = [["capex", _money(s["capex_usd"]), _money(s.get("network_capex_usd"))],
            ["opex a year", _money(s["opex_usd_per_year"]),
             _money(s.get("network_opex_usd_per_year"))],
            [f"TCO over {h} years", _money(s["tco_usd"]), _money(s.get("network_tco_usd"))],
            ["NPV", _money(s["npv_usd"]), _money(s.get("network_npv_usd"))],
            ["payback", _years(s.get("payback_years")), ""],
            ["cost per person covered",
             _money(s.get("marginal_cost_per_person_covered_usd")),
             _money(s.get("cost_per_person_covered_usd"))],
            ["cost per person connected",
             _money(s.get("marginal_cost_per_person_connected_usd")),
             _money(s.get("cost_per_person_connected_usd"))]]
    out.append(_table(["", "new sites", "whole network"], rows, table_id="economics-table",
                      numeric=(1, 2)))
    mix = []
    for k, v in (s.get("backhaul_new_sites") or {}).items():
        mix.append(["backhaul", k.replace("_", " "), v])
    for k, v in (s.get("power_new_sites") or {}).items():
        mix.append(["power", k.replace("_", " "), v])
    if mix:
        out.append("<h3>Backhaul and power of the new sites</h3>")
        out.append(_table(["", "option", "new sites"], mix, table_id="mix", numeric=(2,)))
        co2 = s.get("co2_t_per_year_new_sites")
        exceeded = s.get("backhaul_capacity_exceeded_sites", 0)
        out.append(f"<p id=\"co2\">CO<sub>2</sub> from the new sites' power: "
                   f"{co2:,.3f} t a year"
                   + (f"; {exceeded} site(s) need more backhaul capacity than their link "
                      "has" if exceeded else "") + ".</p>")
    by_type = s.get("by_station_type") or {}
    if by_type:
        rows = [[k, d["sites_existing"], d["sites_new"], f"{d['people_covered']:,}",
                 f"{d['people_connected']:,}", _num(d["capex_usd"]), _num(d["tco_usd"]),
                 _num(d.get("cost_per_person_connected_usd"))] for k, d in by_type.items()]
        out.append("<h3>By station type</h3>")
        out.append(_table(["station type", "existing", "new", "people covered",
                           "people connected", "capex [USD]", "TCO [USD]",
                           "per person connected [USD]"],
                          rows, table_id="by-station-type", numeric=(1, 2, 3, 4, 5, 6, 7)))
    years = s.get("people_connected_by_year") or []
    if years and not chart:
        out.append('<p id="connected-by-year">People connected at the end of each year: '
                   + ", ".join(f"{v:,}" for v in years) + ".</p>")
    elif years:
        png = _figure_png(plot_connected_by_year, result)
        out.append(f'<figure id="fig-connected-by-year"><img alt="people connected by year" '
                   f'src="{_png_uri(png)}" style="max-width:560px"><figcaption>People connected '
                   f"at the end of each year: {years[0]:,} in year 1, {years[-1]:,} in year "
                   f"{len(years)}.</figcaption></figure>")
    return out


def effective_parameters(result) -> dict:
    """The values the run used, catalogue defaults resolved (no nulls for "default"):
    technology, station types, link budget figures, propagation, and the adoption,
    economics, traffic, backhaul, power and station-cost parameters."""
    import dataclasses

    import numpy as np

    def plain(v):
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, (np.floating, float)):
            f = float(v)
            return f if np.isfinite(f) else ("unlimited" if f > 0 else str(f))
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, np.bool_):
            return bool(v)
        return v

    s, sc = result.summary, result.scenario
    tech = {k: v for k, v in dataclasses.asdict(result.technology).items()}
    used = dict.fromkeys(result.sites.station)
    stations = {}
    for name in used:
        st = result.stations[name]
        stations[name] = {f.name: getattr(st, f.name) for f in dataclasses.fields(st)
                          if f.name != "pattern"}
        stations[name]["eirp_dbm"] = round(st.eirp_dbm, 3)
    link = {k: s[k] for k in ("signal_metric", "dl_threshold_dbm", "fade_margin_db",
                              "required_signal_dbm", "ul_sensitivity_dbm", "indoor_share",
                              "building_entry_loss_db", "reuse_factor") if k in s}
    out = {"technology": tech, "stations": stations, "link_budget": link,
           "propagation": sc.propagation.model_dump(mode="json", exclude_none=True),
           "radio": sc.radio.model_dump(mode="json"),
           "capacity": sc.capacity.model_dump(mode="json")}
    b = getattr(result, "business", None)
    if b is not None:
        out.update(b.params)
    return plain(out)


def effective_parameters_section(result) -> list[str]:
    """The "Parameters used" section: :func:`effective_parameters` as YAML."""
    text = yaml.safe_dump(effective_parameters(result), sort_keys=False, width=100)
    return ["<h2>Parameters used</h2>",
            "<p>Every value the run used, with the catalogue defaults "
            "(<code>simulator/data/*.yaml</code>) and the scenario's changes applied.</p>",
            f'<pre id="effective-parameters">{_e(text)}</pre>']


def build_plan_report_html(result, figures: dict[str, tuple[bytes, str]] | None = None) -> str:
    """The report page of a plan (``ruralsim plan``), as a string: headline numbers, the
    marginal curve, the chosen sites in selection order, the method and its guarantee,
    and the planning settings used.

    Parameters
    ----------
    result : simulator.planning.planner.PlanResult
    figures : dict, optional
        ``{name: (png_bytes, caption)}``, embedded as base64 data URIs.
    """
    from .io.plan import chosen_sites_frame

    s = result.summary
    sc = result.scenario
    cards = [("sites-chosen", "sites chosen", f"{s['sites_chosen']}"),
             ("people-newly-covered", "people newly covered", f"{s['people_newly_covered']:,}"),
             ("people-covered-after", "people covered after the plan",
              f"{s['people_covered_after_plan']:,} of {s['population_total']:,}"),
             ("plan-cost", "cost of the chosen sites", _money(s["cost_usd"])),
             ("kept-sites", "sites kept from the scenario", f"{s['kept_sites']}")]
    if s["sites_chosen"]:
        cards.append(("cost-per-person", "USD per person newly covered",
                      _money(s["cost_usd"] / s["people_newly_covered"])
                      if s["people_newly_covered"] else "n/a"))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>ruralsim plan: {_e(sc.name)}</title>",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_e(sc.name)}: site plan</h1>",
             f'<p class="sub">ruralsim plan · objective {_e(s["objective"])} · '
             f"{s['candidates']} candidates ({_e(s['candidate_source'])}) · "
             f"{_e(result.technology.label)}</p>",
             '<h2>Headline numbers</h2><div class="headline">']
    for key, label, value in cards:
        parts.append(f'<div class="card"><div class="v" id="{key}">{_e(value)}</div>'
                     f'<div class="k">{_e(label)}</div></div>')
    parts.append("</div>")
    gap = s.get("gap")
    proof = ("optimal (ILP)" if s.get("optimal") else
             f"within {100 * gap:.2f} % of the optimum (ILP gap)" if gap is not None else
             f"at least {100 * s['guarantee']:.1f} % of the optimum"
             if s.get("guarantee") else "no optimality guarantee")
    parts.append(f"<p id=\"method\">Method {_e(s['method'])}: {_e(proof)}. People the "
                 "scenario's own sites already cover are not credited to planned sites. "
                 "<code>planned_scenario.yaml</code> holds the scenario with the chosen sites; "
                 "<code>ruralsim run</code> on it gives the full results.</p>")
    for name, (png, caption) in (figures or {}).items():
        parts.append(f'<figure id="fig-{_e(name)}"><img alt="{_e(caption)}" '
                     f'src="{_png_uri(png)}"><figcaption>{_e(caption)}</figcaption></figure>')
    frame = chosen_sites_frame(result)
    rows = [[int(r["rank"]), r["name"], r["station_type"], f"{int(r['people_added']):,}",
             f"{int(r['cumulative_people']):,}", _num(r["cost_usd"]),
             _num(r["cumulative_cost_usd"]), f"{r['x_m'] / 1000:.2f}",
             f"{r['y_m'] / 1000:.2f}"] for _, r in frame.iterrows()]
    parts.append("<h2>Chosen sites, in selection order</h2>")
    parts.append(_table(["rank", "site", "type", "people added", "cumulative people",
                         "cost [USD]", "cumulative cost [USD]", "easting [km]",
                         "northing [km]"], rows,
                        table_id="chosen-sites", numeric=(0, 3, 4, 5, 6, 7, 8)))
    parts.append("<h2>Planning settings used</h2>")
    spec = _none_as_text(result.spec.model_dump(mode="json"))
    parts.append("<p>Keys shown as <i>none</i> are not set (no budget, no limit, no file).</p>")
    parts.append(f'<pre id="planning">{_e(yaml.safe_dump(spec, sort_keys=False))}</pre>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _none_as_text(v):
    """A nested dict with None shown as "none" (what an unset key means)."""
    if isinstance(v, dict):
        return {k: _none_as_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_none_as_text(x) for x in v]
    return "none" if v is None else v


def build_programme_report_html(result, figures: dict[str, tuple[bytes, str]] | None = None
                                ) -> str:
    """The report page of a programme (``ruralsim programme``), as a string: headline numbers
    (people covered, sites, cost, NPV, viability gap), the technology mix, the figures, the
    rollout by year, the sites (build order) and the locations with their reasons, the solver
    and the settings used.

    Parameters
    ----------
    result : simulator.programme.ProgrammeResult
    figures : dict, optional
        ``{name: (png_bytes, caption)}``, embedded as base64 data URIs.
    """
    s = result.summary
    sc = result.scenario
    g = s["goal"]
    goal = (f"{100 * g['target_share']:.1f} % of people {g['measure']}"
            + (f" by year {g['year']}" if g.get("year") is not None else "")
            if "target_share" in g else f"most people for {_money(g['budget_usd'])}")
    cards = [("people-covered", "people covered", f"{s['people_covered']:,} of "
                                                  f"{s['population_total']:,}"),
             ("share-covered", "share covered", f"{100 * s['share_covered']:.1f} %"),
             ("n-sites", "sites and hotspots", f"{s['sites']:,}"),
             ("tco", f"TCO ({s['cost_basis']} basis)", _money(s["tco_usd"])),
             ("capex", "capex", _money(s["capex_usd"])),
             ("npv", "operator NPV", _money(s["npv_usd"])),
             ("viability-gap", "viability gap (subsidy)", _money(s["viability_gap_usd"])),
             ("sites-subsidy", "sites needing a subsidy", f"{s['sites_needing_subsidy']:,}")]
    sv = s["solver"]
    proof = ("proven optimal" if sv["optimal"] else
             f"gap {100 * sv['mip_gap']:.2f} %" if sv["mip_gap"] is not None
             else "no optimality proof")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>ruralsim programme: {_e(sc.name)}</title>",
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{_e(sc.name)}: programme</h1>",
             f'<p class="sub">ruralsim programme · goal {_e(goal)} · {s["locations"]:,} '
             f"locations, {s['options_considered']:,} options · "
             f"{_e(result.technology.label)}</p>",
             '<h2>Headline numbers</h2><div class="headline">']
    for key, label, value in cards:
        parts.append(f'<div class="card"><div class="v" id="{key}">{_e(value)}</div>'
                     f'<div class="k">{_e(label)}</div></div>')
    parts.append("</div>")
    parts.append(f'<p id="solver">Solver {_e(sv["method"])}: {_e(proof)}, '
                 f"{sv['time_s']:.1f} s (limit {sv['time_limit_s']:g} s)"
                 + (f"; {_e(sv['fallback'])}" if sv["fallback"] else "")
                 + f". Greedy's answer in the same run: {_e(_money(sv['greedy_cost_usd']))}. "
                 "A person covered by several options counts once; people the existing sites "
                 "cover are not credited. <code>programme_scenario.yaml</code> holds the "
                 "scenario with the chosen cell sites and their build years.</p>")
    mix_rows = [[(result.spec.options[k].label or k) if k in result.spec.options else k,
                 v["sites"], f"{v['people_added']:,}", _num(v["capex_usd"]), _num(v["tco_usd"])]
                for k, v in s["technology_mix"].items()]
    parts.append("<h2>Technology mix</h2>")
    parts.append(_table(["technology", "sites", "people added", "capex [USD]", "TCO [USD]"],
                        mix_rows, table_id="technology-mix", numeric=(1, 2, 3, 4)))
    for w in s.get("warnings", []):
        parts.append(f'<p class="warn">warning: {_e(w)}</p>')
    for name, (png, caption) in (figures or {}).items():
        parts.append(f'<figure id="fig-{_e(name)}"><img alt="{_e(caption)}" '
                     f'src="{_png_uri(png)}"><figcaption>{_e(caption)}</figcaption></figure>')
    parts.append("<h2>Rollout by year</h2>")
    parts.append(_table(["year", "sites built", "on air", "people covered", "people connected",
                         "capex [USD]", "opex [USD]", "revenue [USD]", "cash flow [USD]"],
                        [[r["year"], r["sites_built"], r["sites_on_air"],
                          f"{r['people_covered']:,}", f"{r['people_connected']:,}",
                          _num(r["capex_usd"]), _num(r["opex_usd"]), _num(r["revenue_usd"]),
                          _num(r["cash_flow_usd"])] for r in s["rollout"]],
                        table_id="rollout", numeric=tuple(range(9))))
    st = result.sites
    n_show = min(len(st["name"]), 500)
    parts.append(f"<h2>Sites in build order</h2><p>{n_show:,} of {len(st['name']):,} shown; "
                 "all are in <code>programme_sites.geojson</code>.</p>")
    rows = [[j + 1, st["name"][j], st["option"][j], int(st["build_year"][j]),
             f"{int(st['people_added'][j]):,}", _num(st["capex_usd"][j]), _num(st["tco_usd"][j]),
             str(st["backhaul"][j]), st["backhaul_parent"][j] or "",
             _num(st["npv_usd"][j]), _num(st["viability_gap_usd"][j])] for j in range(n_show)]
    parts.append('<div class="wide">' + _table(
        ["#", "site", "technology", "build year", "people added", "capex [USD]", "TCO [USD]",
         "backhaul", "fed by", "NPV [USD]", "viability gap [USD]"], rows, table_id="sites",
        numeric=(0, 3, 4, 5, 6, 9, 10)) + "</div>")
    v = result.villages
    n_show = min(len(v), 500)
    parts.append(f"<h2>Locations</h2><p>{n_show:,} of {len(v):,} shown; all are in "
                 "<code>villages.csv</code>.</p>")
    parts.append('<div class="wide">' + _table(
        ["location", "people", "gets", "served by", "build year", "why"],
        [[r["location"], f"{r['people']:,}", r["choice"], r["served_by"], r["build_year"],
          r["reason"]] for r in v[:n_show]], table_id="villages", numeric=(1, 4)) + "</div>")
    parts.append("<h2>Programme settings used</h2>")
    spec = _none_as_text(result.spec.model_dump(mode="json"))
    parts.append(f'<pre id="programme">{_e(yaml.safe_dump(spec, sort_keys=False))}</pre>')
    parts.append("</body></html>")
    return "\n".join(parts)
