"""``report.html``: one self-contained page per run (numbers, maps, tables, parameters).

The page needs no server and no network: figures are PNGs embedded as base64 ``data:``
URIs, the style is inline, there is no script. It opens from disk in any browser.
"""

from __future__ import annotations

import base64
import html

import yaml

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
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
             f"{_e(result.technology.label)} · {_e(s['propagation_model'])} · "
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
    served = result.people_served_per_site
    rows = []
    for i in range(len(result.sites)):
        st = result.stations[result.sites.station[i]]
        rows.append([result.sites.names[i], result.sites.station[i],
                     "existing" if result.sites.existing[i] else "new", f"{st.height_m:g}",
                     f"{result.sites.x_m[i] / 1000:.2f}", f"{result.sites.y_m[i] / 1000:.2f}",
                     f"{int(served[i]):,}"])
    parts.append("<h2>People served per site</h2>")
    parts.append(f"<p>Covered people whose best server is the site; mean per new site "
                 f"{s['people_served_per_new_site_mean']:,.0f}.</p>")
    parts.append(_table(["site", "type", "status", "height [m]", "easting [km]",
                         "northing [km]", "people served"], rows, table_id="sites",
                        numeric=(3, 4, 5, 6)))

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

    parts.append("<h2>Scenario parameters</h2>")
    parts.append(f"<pre id=\"scenario\">{_e(yaml.safe_dump(sc.model_dump(mode='json'), sort_keys=False))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
