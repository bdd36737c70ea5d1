"""``coverage.gpkg``: coverage polygons and settlements as GIS vectors (WGS 84).

Layers (GeoPackage through geopandas/pyogrio, EPSG:4326, coordinates rounded to 1e-7 deg):

``coverage_by_site``
    One (multi)polygon per site that serves someone: the covered cells whose best server
    it is (cell outlines dissolved, :func:`rasterio.features.shapes`), with the site's
    name, station type, status, people served and covered area [km2] (counted on the
    grid, not measured on the sphere). In-memory runs only (a tiled run writes no
    best-server array to its coarse reading).
``coverage_by_service``
    One (multi)polygon per service level (:func:`simulator.pipeline.runner.services_for`):
    the covered cells where the single-user downlink throughput meets the level, with the
    people in them and the area [km2]. A tiled run has one level, all coverage, on its
    coarse cells.
``settlements``
    One point per settlement: its people, people covered and people without outdoor
    coverage (:func:`simulator.io.maplayers.settlement_stats`).
``sites``
    The sites with their attributes (as sites.geojson).
``region_boundary``
    The boundary, when the scenario has one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .maplayers import MapLayers, map_layers, settlement_stats, settlement_word


def _polygons(mask: np.ndarray, values: np.ndarray, grid) -> dict:
    """{value: dissolved (multi)polygon in the grid CRS} of the cells where ``mask``."""
    from rasterio.features import shapes
    from shapely.geometry import shape
    from shapely.ops import unary_union

    parts: dict[int, list] = {}
    for geom, v in shapes(values.astype(np.int32), mask=mask, transform=grid.transform,
                          connectivity=4):
        parts.setdefault(int(v), []).append(shape(geom))
    return {k: unary_union(v) for k, v in parts.items()}


def coverage_layers(lay: MapLayers) -> dict:
    """The GeoDataFrames of the GeoPackage (in WGS 84), by layer name."""
    import geopandas as gpd

    from .vectors import round_lonlat, sites_frame

    g = lay.grid
    cell_km2 = g.resolution_m ** 2 / 1e6
    layers = {}
    if lay.best_server is not None:
        served = lay.people_served_per_site
        polys = _polygons(lay.covered & (lay.best_server >= 0), lay.best_server, g)
        counts = np.bincount(lay.best_server[lay.covered & (lay.best_server >= 0)],
                             minlength=len(lay.sites))
        rows = []
        for k in sorted(polys):
            rows.append({"site_index": k, "name": str(lay.sites.names[k]),
                         "station_type": str(lay.sites.station[k]),
                         "status": "existing" if lay.sites.existing[k] else "new",
                         "people_served": None if served is None else int(served[k]),
                         "area_km2": round(float(counts[k]) * cell_km2, 4),
                         "geometry": polys[k]})
        layers["coverage_by_site"] = gpd.GeoDataFrame(rows, geometry="geometry", crs=g.crs) \
            if rows else gpd.GeoDataFrame(
                {"site_index": [], "name": [], "station_type": [], "status": [],
                 "people_served": [], "area_km2": []}, geometry=[], crs=g.crs)
    services = _services(lay)
    rows = []
    for name, need in services.items():
        ok = lay.covered.copy()
        if need is not None and lay.throughput_mbps is not None:
            ok &= lay.throughput_mbps >= need
        elif need is not None:
            continue
        polys = _polygons(ok, ok.astype(np.int32), g)
        if 1 not in polys:
            continue
        rows.append({"service": name, "min_dl_throughput_mbps": need,
                     "people_in_covered_cells": int(lay.people[ok].sum()),
                     "area_km2": round(float(ok.sum()) * cell_km2, 4), "geometry": polys[1]})
    layers["coverage_by_service"] = gpd.GeoDataFrame(rows, geometry="geometry", crs=g.crs)
    stats = settlement_stats(lay)
    if stats is not None:
        layers["settlements"] = gpd.GeoDataFrame(
            {"kind": settlement_word(lay), "people": stats["people"],
             "people_in_footprint": stats["people_in_footprint"],
             "people_covered": stats["people_covered"],
             "people_uncovered": stats["people_uncovered"],
             "footprint_radius_m": np.round(stats["footprint_radius_m"], 1)},
            geometry=gpd.points_from_xy(stats["x_m"], stats["y_m"]), crs=g.crs)
    frame = sites_frame(_SitesView(lay))
    layers["sites"] = frame.drop(columns=["x_m", "y_m"])
    if lay.boundary is not None:
        layers["region_boundary"] = gpd.GeoDataFrame({"name": ["region boundary"]},
                                                     geometry=[lay.boundary], crs=g.crs)
    return {k: round_lonlat(v.to_crs("EPSG:4326")) for k, v in layers.items()}


class _SitesView:
    """What :func:`simulator.io.vectors.sites_frame` reads, from map layers."""

    def __init__(self, lay: MapLayers):
        self.sites, self.stations, self.technology = lay.sites, lay.stations, lay.technology
        self.business = lay.business
        self.grid = lay.extent_grid
        served = lay.people_served_per_site
        self.people_served_per_site = (np.zeros(len(lay.sites), np.int64) if served is None
                                       else served)


def _services(lay: MapLayers) -> dict:
    """Service levels of the run; a coarse map (no throughput) keeps the levels without
    a rate."""
    from ..pipeline.runner import services_for

    levels = services_for(lay.scenario, lay.technology)
    if lay.coarse:
        levels = {k: v for k, v in levels.items() if v is None} or {"covered": None}
    return levels


def write_gpkg(result, path) -> Path:
    """Write ``coverage.gpkg`` (layers in the module docstring).

    Parameters
    ----------
    result : ScenarioResult, CoarseMap or MapLayers
    path : path-like

    Returns
    -------
    pathlib.Path
    """
    lay = result if isinstance(result, MapLayers) else map_layers(result)
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in coverage_layers(lay).items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path
