"""``map.html``: an interactive web map of a run, one self-contained file.

A Leaflet map (Leaflet |version| is inlined from ``simulator/data/leaflet/``, BSD 2-Clause,
so the page opens from disk with no network) with a layer control:

* overlays (images reprojected to Web Mercator, nearest cell, embedded as PNG data URIs):
  the best-server signal where covered, the people without outdoor coverage (red), the
  people with coverage (green) and, hidden at first, why cells are not covered
  (limitation, in-memory runs);
* the sites as circle markers (colour by station type, white when new) whose popups give
  the type, status, people served and connected, busy-hour load, backhaul, power and
  costs; the settlements with their people covered and not; the region boundary;
* base layers: a plain background (offline, the default) or OpenStreetMap tiles (online,
  when there is a network);
* a legend, a scale bar, the title numbers.

Why not folium: its maps load Leaflet, jQuery and Bootstrap from CDNs, so they need a
network; this page inlines the one library it uses.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from .maplayers import (LIMITATION_COLOURS, UNCOVERED_COLOUR, MapLayers, boundary_lonlat,
                        legend_png, map_layers, model_label, png_bytes, reproject_rgba,
                        rgba_categories, rgba_mask, rgba_signal, settlement_stats, settlement_word,
                        signal_range_dbm, site_records)

LEAFLET_VERSION = "1.9.4"
_ASSETS = Path(__file__).resolve().parents[1] / "data" / "leaflet"
_SITE_COLOURS = {"macro": "#111111", "ruralstar_pro": "#e6550d", "small_cell": "#3182bd"}
#: Covered people on the web map.
COVERED_COLOUR = "#1a9850"

_CSS = """
html,body{height:100%;margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}
#map{position:absolute;top:0;bottom:0;left:0;right:0;background:#f7f5f0}
.rs-title{background:rgba(255,255,255,.92);padding:6px 10px;border-radius:5px;
font-size:13px;line-height:1.35;max-width:34em;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.rs-title b{font-size:14px}.rs-legend img{display:block;max-width:260px}
.rs-popup td{padding:1px 6px 1px 0;font-size:12px}.rs-popup td.v{text-align:right}
.leaflet-control-layers{font-size:12px}
.leaflet-image-layer{image-rendering:pixelated;image-rendering:crisp-edges}
"""

_JS = """
(function () {
  const D = JSON.parse(document.getElementById("rs-data").textContent);
  const map = L.map("map", {preferCanvas: true, zoomSnap: 0.25});
  const plain = L.layerGroup();
  const osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"});
  const base = {"plain background (offline)": plain, "OpenStreetMap (online)": osm};
  plain.addTo(map);
  const overlays = {};
  for (const o of D.images) {
    const layer = L.imageOverlay(o.src, o.bounds, {opacity: o.opacity, interactive: false,
                                                   className: "rs-" + o.id});
    if (o.visible) layer.addTo(map);
    overlays[o.name] = layer;
  }
  if (D.boundary) {
    overlays["region boundary"] = L.geoJSON(D.boundary, {style: {color: "#6a3d9a",
      weight: 2.5, fill: false}}).addTo(map);
  }
  if (D.settlements.length) {
    const g = L.layerGroup();
    for (const s of D.settlements) {
      L.circleMarker([s.lat, s.lon], {radius: s.r, color: "#3b2a1a", weight: 1,
        fill: false}).bindPopup(s.popup).addTo(g);
    }
    overlays[D.settlement_layer] = g.addTo(map);
  }
  const sites = L.layerGroup();
  for (const s of D.sites) {
    L.circleMarker([s.lat, s.lon], {radius: s.existing ? 7 : 6, color: s.existing ?
      s.colour : "#000000", weight: 2, fillColor: s.existing ? s.colour : "#ffffff",
      fillOpacity: 1}).bindPopup(s.popup).addTo(sites);
  }
  overlays["sites"] = sites.addTo(map);
  L.control.layers(base, overlays, {collapsed: false}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  const title = L.control({position: "topleft"});
  title.onAdd = function () {
    const div = L.DomUtil.create("div", "rs-title");
    div.innerHTML = D.title;
    return div;
  };
  title.addTo(map);
  const legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    const div = L.DomUtil.create("div", "rs-legend");
    div.innerHTML = '<img alt="legend" src="' + D.legend + '">';
    return div;
  };
  legend.addTo(map);
  map.fitBounds(D.bounds);
  document.getElementById("map").dataset.overlays = Object.keys(overlays).join("|");
  document.getElementById("map").dataset.ready = "1";
})();
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _popup(title: str, rows: list[tuple[str, object]]) -> str:
    def fmt(v):
        if v is None:
            return "n/a"
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
        if isinstance(v, (int, np.integer)):
            return f"{int(v):,}"
        return str(v)

    body = "".join(f'<tr><td>{html.escape(k)}</td><td class="v">{html.escape(fmt(v))}</td></tr>'
                   for k, v in rows)
    return f'<div class="rs-popup"><b>{html.escape(title)}</b><table>{body}</table></div>'


def _bounds_latlon(bounds_3857) -> list[list[float]]:
    from pyproj import Transformer

    west, south, east, north = bounds_3857
    tr = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    lon0, lat0 = tr.transform(west, south)
    lon1, lat1 = tr.transform(east, north)
    return [[round(lat0, 7), round(lon0, 7)], [round(lat1, 7), round(lon1, 7)]]


def map_data(lay: MapLayers, *, vmin: float, vmax: float, max_pixels: int = 2000) -> dict:
    """The JSON the page draws: images (data URIs, lat/lon bounds), sites, settlements,
    boundary (GeoJSON), title and legend."""
    from shapely.geometry import mapping

    metric = lay.technology.signal_metric.upper()
    layers = [("signal", f"signal where covered ({metric} dBm)",
               rgba_signal(lay.rx_dbm, vmin, vmax), 0.9, True),
              ("uncovered", "people without outdoor coverage",
               rgba_mask(lay.uncovered, UNCOVERED_COLOUR), 1.0, True),
              ("covered-people", "people with outdoor coverage",
               rgba_mask((lay.people > 0) & lay.covered, COVERED_COLOUR), 1.0, False)]
    if lay.limitation is not None:
        codes = lay.limitation if lay.region_mask is None else np.where(
            lay.region_mask, lay.limitation, 255)
        layers.append(("limitation", "why not covered (limitation)",
                       rgba_categories(codes, LIMITATION_COLOURS, skip=(0,)), 0.85, False))
    images = []
    bounds = None
    for key, name, rgba, opacity, visible in layers:
        img, b = reproject_rgba(rgba, lay.grid, "EPSG:3857", max_pixels=max_pixels)
        bounds = _bounds_latlon(b)
        images.append({"id": key, "name": name, "src": _data_uri(png_bytes(img)),
                       "bounds": bounds, "opacity": opacity, "visible": visible})
    from .kml import SITE_FIELDS

    sites = []
    for rec in site_records(lay):
        rows = [(label, rec[k]) for k, label in SITE_FIELDS if k in rec]
        sites.append({"lat": rec["lat"], "lon": rec["lon"],
                      "existing": rec["status"] == "existing",
                      "colour": _SITE_COLOURS.get(rec["station_type"], "#756bb1"),
                      "popup": _popup(rec["name"], rows)})
    settlements = []
    word = settlement_word(lay)
    stats = settlement_stats(lay)
    if stats is not None:
        from pyproj import Transformer

        tr = Transformer.from_crs(lay.grid.crs, "EPSG:4326", always_xy=True)
        lon, lat = tr.transform(stats["x_m"], stats["y_m"])
        top = max(float(stats["people"].max()), 1.0)
        for i in range(len(lon)):
            settlements.append({
                "lat": round(float(lat[i]), 7), "lon": round(float(lon[i]), 7),
                "r": round(3.0 + 12.0 * float(np.sqrt(stats["people"][i] / top)), 1),
                "popup": _popup(f"{word} {i + 1}", [
                    ("people", int(stats["people"][i])),
                    ("people covered", int(stats["people_covered"][i])),
                    ("people without coverage", int(stats["people_uncovered"][i]))])})
    b = boundary_lonlat(lay.boundary, lay.grid.crs)
    boundary = None
    if b is not None:
        import shapely

        boundary = mapping(shapely.transform(b, lambda xy: np.round(xy, 7)))
    sm = lay.summary
    title = (f"<b>{html.escape(lay.scenario.name)}</b><br>{sm['people_covered']:,} of "
             f"{sm['population_total']:,} people covered "
             f"({100 * sm['coverage_fraction']:.1f} %) · {sm['sites_total']} sites "
             f"({sm['sites_existing']} existing, {sm['sites_new']} new)<br>"
             f"{html.escape(lay.technology.label)}, "
             f"{html.escape(model_label(sm['propagation_model']))}"
             + (f"<br><i>{html.escape(lay.note)}; numbers exact</i>" if lay.note else ""))
    return {"images": images, "bounds": bounds, "sites": sites, "settlements": settlements,
            "settlement_layer": "settlements" if word == "settlement" else
            "population blocks (1 km)",
            "boundary": boundary, "title": title,
            "legend": _data_uri(legend_png(lay, vmin, vmax,
                                           limitation=lay.limitation is not None))}


def build_map_html(result, *, vmin: float | None = None, vmax: float | None = None,
                   max_pixels: int = 2000) -> str:
    """The web map page of a run, as a string.

    Parameters
    ----------
    result : ScenarioResult, CoarseMap or MapLayers
    vmin, vmax : float, optional
        Colour range of the signal [dBm] (default :func:`signal_range_dbm`).
    max_pixels : int
        Longest side of the overlay images [pixels].
    """
    lay = result if isinstance(result, MapLayers) else map_layers(result)
    if vmin is None or vmax is None:
        lo, hi = signal_range_dbm(lay)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    data = json.dumps(map_data(lay, vmin=vmin, vmax=vmax, max_pixels=max_pixels),
                      allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    css = (_ASSETS / "leaflet.css").read_text(encoding="utf-8")
    js = (_ASSETS / "leaflet.js").read_text(encoding="utf-8")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ruralsim map: {html.escape(lay.scenario.name)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<!-- Leaflet {LEAFLET_VERSION} (BSD 2-Clause, https://leafletjs.com), inlined -->",
        f"<style>{css}</style>", f"<style>{_CSS}</style>", f"<script>{js}</script>",
        "</head><body>", '<div id="map"></div>',
        f'<script id="rs-data" type="application/json">{data}</script>',
        f"<script>{_JS}</script>", "</body></html>"])


def write_map_html(result, path, **kw) -> Path:
    """Write ``map.html`` (:func:`build_map_html`)."""
    path = Path(path)
    path.write_text(build_map_html(result, **kw), encoding="utf-8")
    return path
