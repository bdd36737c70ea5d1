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
LIMITATION_COLOURS = {0: "#1a9850", 1: "#fdae61", 2: "#d73027", 3: "#7b3294",
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
    reprojected to ``dst_crs``, at most ``max_pixels`` a side."""
    from rasterio.warp import calculate_default_transform
    from rasterio.transform import array_bounds

    t, w, h = calculate_default_transform(grid.crs, dst_crs, grid.ncols, grid.nrows,
                                          *grid.bounds)
    scale = max(w, h) / max_pixels
    if scale > 1:
        t, w, h = calculate_default_transform(grid.crs, dst_crs, grid.ncols, grid.nrows,
                                              *grid.bounds, dst_width=max(1, int(w / scale)),
                                              dst_height=max(1, int(h / scale)))
    south, west, north, east = array_bounds(h, w, t)
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
