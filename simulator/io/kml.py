"""``coverage.kmz``: the run for Google Earth (and QGIS), written with simplekml.

The KMZ holds one KML document and its images:

* folder **Coverage**: ground overlays (images reprojected to WGS 84, nearest cell) of
  the best-server signal where covered, the people without outdoor coverage (red) and,
  hidden at first, why cells are not covered (limitation); a screen overlay with the
  legend;
* folder **Sites**: one placemark per site (icon by station type, white when new) with its
  attributes as KML ``ExtendedData`` (type, status, people served and connected, load,
  backhaul, power, costs) and a description table for the balloon;
* folder **Settlements**: one placemark per settlement with its people, people covered and
  people without coverage;
* folder **Region boundary**: the boundary as an outlined polygon (when the scenario has
  one).

GDAL's LIBKML driver (QGIS, geopandas/pyogrio) reads the placemark folders as layers in
WGS 84; Google Earth shows everything.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .maplayers import (LIMITATION_COLOURS, UNCOVERED_COLOUR, MapLayers, boundary_lonlat,
                        legend_png, map_layers, model_label, png_bytes, reproject_rgba,
                        rgba_categories, rgba_mask, rgba_signal, settlement_stats, settlement_word,
                        signal_range_dbm, site_records)

#: Marker colour of each station type in Google Earth (others: purple).
_ICON_COLOURS = {"macro": "#111111", "ruralstar_pro": "#e6550d", "small_cell": "#3182bd"}
_ICON_MARKERS = {"macro": "^", "ruralstar_pro": "*", "small_cell": "s"}

#: Attributes of a site placemark, with the labels shown in Google Earth.
SITE_FIELDS = [("type", "station type"), ("status", "status"), ("height_m", "height [m]"),
               ("people_served", "people served (covered, best server)"),
               ("people_connected", "people connected (last year)"),
               ("load", "busy-hour load (demand / capacity)"), ("backhaul", "backhaul"),
               ("power", "power"), ("capex_usd", "capex [USD]"),
               ("opex_usd_per_year", "opex [USD/year]"), ("tco_usd", "TCO [USD]")]


def _icon_png(station: str, new: bool) -> bytes:
    """A 32 x 32 px marker for a station type (filled for existing, white for new)."""
    import io

    from matplotlib.figure import Figure

    colour = _ICON_COLOURS.get(station, "#756bb1")
    fig = Figure(figsize=(0.4, 0.4), dpi=80)
    fig.patch.set_alpha(0)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.scatter([0], [0], s=300, marker=_ICON_MARKERS.get(station, "D"),
               c="white" if new else colour, edgecolors="black" if new else colour,
               linewidths=1.5)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    return buf.getvalue()


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return str(v)


def _balloon(rows: list[tuple[str, object]]) -> str:
    import html

    cells = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_fmt(v))}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>"


def write_kmz(result, path, *, vmin: float | None = None, vmax: float | None = None,
              max_pixels: int = 2000) -> Path:
    """Write ``coverage.kmz`` for Google Earth and QGIS.

    Parameters
    ----------
    result : ScenarioResult, CoarseMap or MapLayers
        An in-memory run, or a tiled run's coarse reading (:mod:`simulator.io.coarse`).
    path : path-like
    vmin, vmax : float, optional
        Colour range of the signal [dBm] (default: :func:`signal_range_dbm`).
    max_pixels : int
        Longest side of the overlay images [pixels].

    Returns
    -------
    pathlib.Path
    """
    import simplekml

    lay = result if isinstance(result, MapLayers) else map_layers(result)
    if vmin is None or vmax is None:
        lo, hi = signal_range_dbm(lay)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    path = Path(path)
    sm = lay.summary
    kml = simplekml.Kml(name=f"ruralsim: {lay.scenario.name}", open=1)
    kml.document.description = (
        f"{sm['people_covered']:,} of {sm['population_total']:,} people covered "
        f"({100 * sm['coverage_fraction']:.1f} %); {sm['sites_total']} sites "
        f"({sm['sites_existing']} existing, {sm['sites_new']} new); "
        f"{lay.technology.label}, {model_label(sm['propagation_model'])}"
        + (f"; {lay.note}" if lay.note else ""))
    with tempfile.TemporaryDirectory(prefix="ruralsim-kmz-") as tmp:
        tmp = Path(tmp)

        def add_image(name: str, data: bytes) -> str:
            f = tmp / name
            f.write_bytes(data)
            return kml.addfile(str(f))

        cov = kml.newfolder(name="Coverage", open=1)
        overlays = [("signal.png", f"Signal where covered ({lay.technology.signal_metric.upper()}, "
                     "dBm)", rgba_signal(lay.rx_dbm, vmin, vmax), 1, 1),
                    ("uncovered.png", "People without outdoor coverage",
                     rgba_mask(lay.uncovered, UNCOVERED_COLOUR), 2, 1)]
        if lay.limitation is not None:
            codes = np.where(lay.region_mask if lay.region_mask is not None else True,
                             lay.limitation, 255)
            overlays.append(("limitation.png", "Why not covered (limitation)",
                             rgba_categories(codes, LIMITATION_COLOURS, skip=(0,)), 3, 0))
        for fname, title, rgba, order, visible in overlays:
            img, (west, south, east, north) = reproject_rgba(rgba, lay.grid, "EPSG:4326",
                                                             max_pixels=max_pixels)
            go = cov.newgroundoverlay(name=title)
            go.icon.href = add_image(fname, png_bytes(img))
            go.latlonbox.north, go.latlonbox.south = north, south
            go.latlonbox.east, go.latlonbox.west = east, west
            go.draworder = order
            go.visibility = visible
        so = kml.newscreenoverlay(name="Legend")
        so.icon.href = add_image("legend.png", legend_png(lay, vmin, vmax,
                                                          limitation=lay.limitation is not None))
        so.overlayxy = simplekml.OverlayXY(x=0, y=0, xunits=simplekml.Units.fraction,
                                           yunits=simplekml.Units.fraction)
        so.screenxy = simplekml.ScreenXY(x=0.01, y=0.04, xunits=simplekml.Units.fraction,
                                         yunits=simplekml.Units.fraction)
        so.size = simplekml.Size(x=0, y=0, xunits=simplekml.Units.pixels,
                                 yunits=simplekml.Units.pixels)

        sites = kml.newfolder(name="Sites")
        styles = {}
        for rec in site_records(lay):
            key = (rec["station_type"], rec["status"])
            if key not in styles:
                st = simplekml.Style()
                st.iconstyle.icon.href = add_image(f"site-{key[0]}-{key[1]}.png",
                                                   _icon_png(key[0], key[1] == "new"))
                st.iconstyle.scale = 1.0
                st.labelstyle.scale = 0.0
                styles[key] = st
            p = sites.newpoint(name=rec["name"], coords=[(rec["lon"], rec["lat"])])
            p.style = styles[key]
            rows = []
            for k, label in SITE_FIELDS:
                if k in rec:
                    p.extendeddata.newdata(name=k, value=_fmt(rec[k]) if rec[k] is None
                                           else rec[k], displayname=label)
                    rows.append((label, rec[k]))
            p.description = _balloon(rows)

        stats = settlement_stats(lay)
        if stats is not None:
            from pyproj import Transformer

            tr = Transformer.from_crs(lay.grid.crs, "EPSG:4326", always_xy=True)
            lon, lat = tr.transform(stats["x_m"], stats["y_m"])
            word = settlement_word(lay)
            fold = kml.newfolder(name="Settlements" if word == "settlement" else
                                 "Population blocks (1 km)")
            fold.visibility = 1
            st = simplekml.Style()
            st.iconstyle.icon.href = add_image("settlement.png", _settlement_icon())
            st.iconstyle.scale = 0.6
            st.labelstyle.scale = 0.0
            for i in range(len(lon)):
                p = fold.newpoint(name=f"{word} {i + 1}",
                                  coords=[(round(float(lon[i]), 7), round(float(lat[i]), 7))])
                p.style = st
                rows = [("people", int(stats["people"][i])),
                        ("people_covered", int(stats["people_covered"][i])),
                        ("people_uncovered", int(stats["people_uncovered"][i]))]
                for k, v in rows:
                    p.extendeddata.newdata(name=k, value=v, displayname=k.replace("_", " "))
                p.description = _balloon([(k.replace("_", " "), v) for k, v in rows])

        b = boundary_lonlat(lay.boundary, lay.grid.crs)
        if b is not None:
            fold = kml.newfolder(name="Region boundary")
            for poly in getattr(b, "geoms", [b]):
                pg = fold.newpolygon(
                    name="region boundary",
                    outerboundaryis=[tuple(np.round(c, 7)) for c in poly.exterior.coords],
                    innerboundaryis=[[tuple(np.round(c, 7)) for c in ring.coords]
                                     for ring in poly.interiors])
                pg.style.linestyle.color = simplekml.Color.hex("6a3d9a")
                pg.style.linestyle.width = 2.5
                pg.style.polystyle.fill = 0
        kml.savekmz(str(path))
    return path


def _settlement_icon() -> bytes:
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.4, 0.4), dpi=80)
    fig.patch.set_alpha(0)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.scatter([0], [0], s=260, facecolors="none", edgecolors="#3b2a1a", linewidths=2)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    return buf.getvalue()
