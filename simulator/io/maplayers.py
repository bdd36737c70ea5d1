"""What every map output shows, taken once from a result: arrays, colours, names.

The PNG maps (:mod:`simulator.plotting`), the Google Earth file (:mod:`simulator.io.kml`),
the web map (:mod:`simulator.io.webmap`) and the vector file (:mod:`simulator.io.gpkg`)
draw the same layers. :func:`map_layers` reads them from an in-memory
:class:`~simulator.pipeline.runner.ScenarioResult` or from the coarse reading of a tiled
run's rasters (:class:`~simulator.io.coarse.CoarseMap`), so both kinds of run make the same
outputs. This module also holds the plain names shown to people (:data:`MODEL_NAMES`), the
signal colour scale (:func:`signal_range_dbm`) and the reprojection of a grid-shaped layer
to WGS 84 or Web Mercator for the overlays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Plain names of the propagation models, for titles, legends and reports.
MODEL_NAMES = {
    "rma_38901": "3GPP TR 38.901 rural macro (RMa)",
    "hata_1980": "Okumura-Hata",
    "cost231_hata": "COST 231-Hata",
    "free_space": "free space",
    "itm": "Longley-Rice ITM on terrain profiles",
    "itm_area": "Longley-Rice ITM, area mode",
    "deygout": "Deygout diffraction (ITU-R P.526)",
    "bullington": "Bullington diffraction (ITU-R P.526)",
    "delta_bullington": "delta-Bullington diffraction (ITU-R P.526 / P.1812)",
}

#: Colours of the limitation codes (:data:`simulator.radio.serving.LIMITATION_CODES`).
LIMITATION_COLOURS = {0: "#1a9850", 1: "#fdae61", 2: "#e7298a", 3: "#7b3294",
                      4: "#bababa", 5: "#8c510a"}
#: Short names of the limitation codes (category names of limitation.tif).
LIMITATION_NAMES = {0: "covered", 1: "downlink-limited", 2: "uplink-limited",
                    3: "interference-limited", 4: "no site within reach",
                    5: "terrain-limited"}
#: Colour of people without coverage on every map.
UNCOVERED_COLOUR = "#d7301f"
#: Colour map of the received signal on every map.
SIGNAL_CMAP = "viridis"


def model_label(name: str) -> str:
    """The plain name of a propagation model (its code name when unknown)."""
    return MODEL_NAMES.get(name, name)


@dataclass
class MapLayers:
    """The layers of a run's maps on one grid (the run's, or a coarse one).

    Attributes
    ----------
    grid : Grid
        The grid the arrays are on.
    extent_grid : Grid
        The run's grid (the map's extent; equal to ``grid`` for an in-memory run).
    people : numpy.ndarray
        People per cell (int64).
    covered : numpy.ndarray
        bool: the cell is covered (coarse: some covered fine cell in it).
    uncovered : numpy.ndarray
        bool: people live there without outdoor coverage (coarse: most of them).
    rx_dbm : numpy.ndarray
        Best-server signal where covered, NaN elsewhere [dBm].
    limitation : numpy.ndarray or None
        uint8 limitation code per cell (in-memory runs; None on coarse maps).
    best_server : numpy.ndarray or None
        int32 best-server index where covered, -1 elsewhere (in-memory runs).
    region_mask : numpy.ndarray or None
        bool: inside the region boundary (None: no boundary).
    people_uncovered : numpy.ndarray
        People without outdoor coverage per cell (int64).
    coarse : bool
        The layers were coarsened from a tiled run's rasters.
    note : str
        How the layers were made (empty for an in-memory run).
    """

    grid: object
    extent_grid: object
    people: np.ndarray
    covered: np.ndarray
    uncovered: np.ndarray
    rx_dbm: np.ndarray
    limitation: np.ndarray | None
    best_server: np.ndarray | None
    region_mask: np.ndarray | None
    boundary: object
    sites: object
    stations: dict
    technology: object
    summary: dict
    scenario: object
    settlements: object = None
    business: object = None
    people_served_per_site: np.ndarray | None = None
    throughput_mbps: np.ndarray | None = None
    people_uncovered: np.ndarray | None = None
    coarse: bool = False
    note: str = ""
    extra: dict = field(default_factory=dict)


def map_layers(result) -> MapLayers:
    """The map layers of a :class:`ScenarioResult` or a :class:`CoarseMap`."""
    from .coarse import CoarseMap

    if isinstance(result, CoarseMap):
        people = result.people
        return MapLayers(
            grid=result.grid, extent_grid=result.fine_grid, people=people,
            covered=result.covered_cells > 0,
            uncovered=(people > 0) & (2 * result.people_uncovered > people),
            rx_dbm=np.where(result.covered_cells > 0, result.rx_dbm, np.nan),
            limitation=None, best_server=None, region_mask=result.region_mask,
            boundary=result.boundary, sites=result.sites, stations=result.stations,
            technology=result.technology, summary=result.summary, scenario=result.scenario,
            settlements=result.population, business=result.business,
            people_served_per_site=result.people_served_per_site, coarse=True,
            people_uncovered=result.people_uncovered,
            note=f"map {result.aggregation_text}", extra={"site_load": result.site_load})
    people = result.population.people
    covered = np.asarray(result.covered, bool)
    f = result.fields
    sv = result.serving
    return MapLayers(
        grid=result.grid, extent_grid=result.grid, people=people, covered=covered,
        uncovered=(people > 0) & ~covered,
        rx_dbm=np.where(covered, f.rx_dbm, np.nan).astype(np.float32),
        limitation=None if sv is None else sv.limitation,
        best_server=np.where(covered, f.best_server, -1).astype(np.int32),
        region_mask=None if result.region_mask is None or result.region_mask.all()
        else result.region_mask,
        boundary=result.boundary, sites=result.sites, stations=result.stations,
        technology=result.technology, summary=result.summary, scenario=result.scenario,
        settlements=result.population, business=result.business,
        people_served_per_site=result.people_served_per_site,
        people_uncovered=np.where(covered, 0, people),
        throughput_mbps=None if sv is None or not result.technology.carries_data
        else sv.throughput_mbps,
        extra={"site_load": None if sv is None or sv.site_load is None
               else sv.site_load.load})


def signal_range_dbm(*results, step_db: float = 5.0) -> tuple[float, float]:
    """A colour range for the signal shared by several maps [dBm].

    From the lowest required signal (every covered cell is at or above it) to the 99.5th
    percentile of the covered cells' signal over all results, both rounded outwards to
    ``step_db``; pass it as ``vmin, vmax`` to :func:`simulator.plotting.plot_coverage_map`
    so panels side by side use one scale.
    """
    lows, highs = [], []
    for r in results:
        lay = r if isinstance(r, MapLayers) else map_layers(r)
        lows.append(float(lay.summary["required_signal_dbm"]))
        v = lay.rx_dbm[np.isfinite(lay.rx_dbm)]
        if v.size:
            highs.append(float(np.percentile(v, 99.5)))
    lo = step_db * np.floor(min(lows) / step_db)
    hi = step_db * np.ceil(max(highs + [lo + step_db]) / step_db)
    return float(lo), float(max(hi, lo + step_db))


def rgba_signal(rx_dbm: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """uint8 RGBA image of the signal (transparent where NaN), colour map :data:`SIGNAL_CMAP`."""
    import matplotlib

    cmap = matplotlib.colormaps[SIGNAL_CMAP]
    norm = np.clip((np.asarray(rx_dbm, float) - vmin) / max(vmax - vmin, 1e-9), 0.0, 1.0)
    rgba = (cmap(np.nan_to_num(norm)) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(np.isfinite(rx_dbm), 255, 0)
    return rgba


def rgba_mask(mask: np.ndarray, colour: str, alpha: float = 1.0) -> np.ndarray:
    """uint8 RGBA image: ``colour`` where ``mask``, transparent elsewhere."""
    from matplotlib.colors import to_rgba

    rgba = np.zeros(mask.shape + (4,), np.uint8)
    c = (np.array(to_rgba(colour, alpha)) * 255).astype(np.uint8)
    rgba[mask] = c
    return rgba


def rgba_categories(codes: np.ndarray, colours: dict, *, skip=()) -> np.ndarray:
    """uint8 RGBA image of integer categories (transparent for ``skip`` and unknown codes)."""
    from matplotlib.colors import to_rgba

    rgba = np.zeros(codes.shape + (4,), np.uint8)
    for k, colour in colours.items():
        if k in skip:
            continue
        rgba[codes == k] = (np.array(to_rgba(colour)) * 255).astype(np.uint8)
    return rgba


def overlay_grid(grid, dst_crs: str, *, max_pixels: int = 2000):
    """Destination transform, shape and (west, south, east, north) bounds of ``grid``
    reprojected to ``dst_crs``: the bounding box of the grid's densified outline, with as
    many pixels as the grid has cells (at most ``max_pixels`` a side)."""
    from affine import Affine
    from pyproj import Transformer

    x0, y0, x1, y1 = grid.bounds
    k = np.linspace(0.0, 1.0, 65)
    bx = np.r_[x0 + k * (x1 - x0), np.full(65, x1), x1 - k * (x1 - x0), np.full(65, x0)]
    by = np.r_[np.full(65, y0), y0 + k * (y1 - y0), np.full(65, y1), y1 - k * (y1 - y0)]
    X, Y = Transformer.from_crs(grid.crs, dst_crs, always_xy=True).transform(bx, by)
    west, east, south, north = float(np.min(X)), float(np.max(X)), float(np.min(Y)), \
        float(np.max(Y))
    scale = max(1.0, max(grid.ncols, grid.nrows) / max_pixels)
    w, h = max(1, int(round(grid.ncols / scale))), max(1, int(round(grid.nrows / scale)))
    t = Affine((east - west) / w, 0.0, west, 0.0, -(north - south) / h, north)
    return t, (h, w), (west, south, east, north)


def reproject_rgba(rgba: np.ndarray, grid, dst_crs: str, *, max_pixels: int = 2000):
    """An RGBA image on ``grid`` reprojected (nearest cell) to ``dst_crs``.

    Returns ``(rgba, (west, south, east, north))``; bounds in ``dst_crs`` units (degrees
    for EPSG:4326, metres for EPSG:3857).
    """
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    t, shape, bounds = overlay_grid(grid, dst_crs, max_pixels=max_pixels)
    out = np.zeros((4,) + shape, np.uint8)
    reproject(np.moveaxis(rgba, -1, 0), out, src_transform=grid.transform, src_crs=grid.crs,
              dst_transform=t, dst_crs=dst_crs, resampling=Resampling.nearest,
              src_nodata=None, dst_nodata=0)
    return np.moveaxis(out, 0, -1), bounds


def png_bytes(rgba: np.ndarray) -> bytes:
    """PNG file content of an RGBA uint8 image (matplotlib's writer, via Pillow)."""
    import io

    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, rgba, format="png")
    return buf.getvalue()


def lonlat_of_sites(sites, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Site positions in WGS 84 longitude and latitude [deg]."""
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(sites.x_m, float), np.asarray(sites.y_m, float))
    return np.asarray(lon), np.asarray(lat)


def boundary_lonlat(boundary, crs: str):
    """The region boundary in WGS 84 (shapely geometry), or None."""
    if boundary is None:
        return None
    import shapely
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(boundary, lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                               xy[:, 1])))


def site_records(lay: MapLayers) -> list[dict]:
    """One plain dict per site: name, type, status, people served and connected, load,
    backhaul, power and costs (what placemarks and popups show)."""
    s = lay.sites
    served = lay.people_served_per_site
    b = lay.business
    lon, lat = lonlat_of_sites(s, lay.grid.crs)
    out = []
    for i in range(len(s)):
        st = lay.stations[s.station[i]]
        rec = {"name": str(s.names[i]), "station_type": str(s.station[i]),
               "type": st.label, "status": "existing" if s.existing[i] else "new",
               "height_m": float(st.height_m), "lon": round(float(lon[i]), 7),
               "lat": round(float(lat[i]), 7),
               "people_served": None if served is None else int(served[i])}
        if b is not None:
            rec.update({
                "people_connected": int(round(float(b.connected_by_year[i, -1]))),
                "backhaul": str(b.backhaul[i]), "power": str(b.power[i]),
                "capex_usd": round(float(b.capex_usd[i]), 2),
                "opex_usd_per_year": round(float(b.opex_usd_per_year[i]), 2),
                "tco_usd": round(float(b.tco_usd[i]), 2)})
        load = lay.extra.get("site_load")
        if load is not None:
            rec["load"] = round(float(load[i]), 3)
        out.append(rec)
    return out


def _footprint_radius_m(lay: MapLayers) -> np.ndarray:
    """Radius within which a cell's people count as a settlement's [m]: twice the
    settlement's Gaussian footprint (``settlement_radius_m`` scaled by the square root of
    its people over 1,000, as the generator does) for synthetic settlements, half the
    diagonal of a 1 km block for a raster population's blocks; at least one cell."""
    pop = lay.settlements
    cell = lay.grid.resolution_m
    if pop.settlement_kind == "synthetic":
        syn = getattr(lay.scenario.population, "synthetic", None)
        r1000 = float(getattr(syn, "settlement_radius_m", 250.0) or 250.0)
        r = 2.0 * r1000 * np.sqrt(np.asarray(pop.settlement_people, float) / 1000.0)
    else:
        r = np.full(len(pop.settlement_people), 1000.0 / np.sqrt(2.0))
    return np.maximum(r, cell)


def settlement_word(lay: MapLayers) -> str:
    """What the settlements of the run are: "settlement" (generated) or "population
    block" (1 km blocks of a population raster, people-weighted centres)."""
    pop = lay.settlements
    return "settlement" if pop is None or pop.settlement_kind == "synthetic" else \
        "population block"


def settlement_stats(lay: MapLayers) -> dict | None:
    """People, people covered and people without coverage per settlement.

    Each populated cell counts for its nearest settlement when it lies within that
    settlement's footprint (:func:`_footprint_radius_m`); the rest is dispersed. On a
    coarse map the cells are the coarse cells. None without settlements.

    Returns
    -------
    dict of numpy.ndarray
        ``x_m``, ``y_m`` (grid CRS), ``people`` (the settlement's size when generated),
        ``people_in_footprint``, ``people_covered``, ``people_uncovered`` (int64),
        ``footprint_radius_m``.
    """
    from scipy.spatial import cKDTree

    pop = lay.settlements
    if pop is None or not len(pop.settlement_people):
        return None
    g = lay.grid
    sx = np.asarray(pop.settlement_x_m, float)
    sy = np.asarray(pop.settlement_y_m, float)
    radius = _footprint_radius_m(lay)
    rows, cols = np.nonzero(lay.people > 0)
    x = g.x_min_m + (cols + 0.5) * g.resolution_m
    y = g.y_max_m - (rows + 0.5) * g.resolution_m
    n = len(sx)
    people_in = np.zeros(n, np.int64)
    unc_in = np.zeros(n, np.int64)
    if rows.size:
        d, k = cKDTree(np.c_[sx, sy]).query(np.c_[x, y])
        inside = d <= radius[k]
        w = lay.people[rows, cols].astype(np.int64)
        u = lay.people_uncovered[rows, cols].astype(np.int64)
        people_in = np.bincount(k[inside], weights=w[inside], minlength=n).round().astype(
            np.int64)
        unc_in = np.bincount(k[inside], weights=u[inside], minlength=n).round().astype(np.int64)
    return {"x_m": sx, "y_m": sy, "people": np.asarray(pop.settlement_people, np.int64),
            "people_in_footprint": people_in, "people_covered": people_in - unc_in,
            "people_uncovered": unc_in, "footprint_radius_m": radius}


def legend_png(lay: MapLayers, vmin: float, vmax: float, *, limitation: bool = False,
               dpi: int = 110) -> bytes:
    """A legend image: the signal colour bar, people without coverage, the boundary
    and (``limitation``) the limitation categories; for the Google Earth screen overlay
    and the web map."""
    import io

    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    metric = lay.technology.signal_metric.upper()
    handles = [Patch(color=UNCOVERED_COLOUR, label="people without outdoor coverage")]
    if lay.boundary is not None:
        handles.append(Line2D([], [], color="#6a3d9a", lw=1.6, label="region boundary"))
    if limitation:
        handles += [Patch(color=LIMITATION_COLOURS[k], label=f"not covered: {v}")
                    for k, v in LIMITATION_NAMES.items() if k != 0]
    top_in, entry_in = 0.78, 0.17
    height = top_in + entry_in * len(handles) + 0.08
    fig = Figure(figsize=(2.9, height), dpi=dpi)
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(0.92)
    cax = fig.add_axes([0.06, 1 - 0.42 / height, 0.88, 0.13 / height])
    cb = fig.colorbar(matplotlib.cm.ScalarMappable(
        norm=matplotlib.colors.Normalize(vmin, vmax), cmap=SIGNAL_CMAP), cax=cax,
        orientation="horizontal")
    cb.ax.tick_params(labelsize=7)
    cb.ax.set_title(f"best-server {metric} where covered [dBm]", fontsize=7.5)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.02, 1 - top_in / height),
               fontsize=7, frameon=False, handlelength=1.2, borderaxespad=0, labelspacing=0.35)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    return buf.getvalue()
