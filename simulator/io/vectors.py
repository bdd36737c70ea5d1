"""Vector outputs: sites as GeoJSON (geopandas)."""

from __future__ import annotations

from pathlib import Path


def sites_frame(result):
    """A GeoDataFrame of the sites: type, radio, position (lon/lat and x_m/y_m), people
    served and connected, busy-hour load (demand / capacity), over-capacity flag, people
    unserved at the busy hour, income and binding adoption barrier, backhaul, power and
    costs (capex [USD], opex [USD/year], TCO and NPV over the horizon [USD]).

    The per-site numbers come from :func:`simulator.business.site_table.site_columns`, which
    the report's per-site table uses too.
    """
    import geopandas as gpd

    import numpy as np

    from ..business.site_table import site_columns

    sites, st = result.sites, result.stations
    cols = site_columns(result)
    extra = {}
    b = getattr(result, "business", None)
    if b is not None:
        extra = {
            "people_connected": cols["people_connected"],
            "income_usd_per_month": cols["income_usd_per_month"],
            "affordability_share": cols["affordability_share"],
            "binding_barrier": cols["binding_barrier"],
            "backhaul": cols["backhaul"],
            "backhaul_capacity_mbps": b.backhaul_capacity_mbps,
            "backhaul_demand_mbps": np.round(b.demand_mbps, 3),
            "backhaul_capacity_exceeded": b.backhaul_capacity_exceeded.astype(bool),
            "power": cols["power"],
            "capex_usd": cols["capex_usd"],
            "opex_usd_per_year": cols["opex_usd_per_year"],
            "tco_usd": np.round(b.tco_usd, 2),
            "npv_usd": np.round(b.npv_usd, 2),
            "co2_kg_per_year": np.round(b.co2_kg_per_year, 1),
        }
    return gpd.GeoDataFrame(
        {
            "name": sites.names,
            "station_type": sites.station,
            "status": ["existing" if e else "new" for e in sites.existing],
            "lon": cols["lon"],
            "lat": cols["lat"],
            "height_m": sites.attribute(st, "height_m"),
            "tx_power_dbm": sites.attribute(st, "tx_power_dbm"),
            "antenna_gain_dbi": sites.attribute(st, "antenna_gain_dbi"),
            "sectors": sites.attribute(st, "sectors").astype(int),
            "azimuth_deg": sites.azimuth_deg,
            "frequency_mhz": [result.technology.frequency_mhz] * len(sites),
            "technology": [result.technology.name] * len(sites),
            "people_served": result.people_served_per_site.astype(int),
            "busy_hour_load": cols["busy_hour_load"],
            "over_capacity": cols["over_capacity"],
            "people_unserved": cols["people_unserved"],
            **extra,
            "x_m": sites.x_m,
            "y_m": sites.y_m,
        },
        geometry=gpd.points_from_xy(sites.x_m, sites.y_m), crs=result.grid.crs)


def write_sites_geojson(result, path: Path | str) -> Path:
    """Write the sites as GeoJSON in WGS 84 (RFC 7946), with projected x_m/y_m kept."""
    path = Path(path)
    frame = round_lonlat(sites_frame(result).to_crs("EPSG:4326"))
    path.write_text(frame.to_json(drop_id=True, indent=1), encoding="utf-8")
    return path


#: Decimal places of WGS 84 coordinates written to vector files (1e-7 deg: about 1 cm).
LONLAT_DECIMALS = 7


def round_lonlat(frame, decimals: int = LONLAT_DECIMALS):
    """A copy of a WGS 84 GeoDataFrame with its coordinates rounded to ``decimals``
    (RFC 7946 §11.2: precision beyond what the data supports only adds bytes)."""
    import numpy as np
    import shapely

    out = frame.copy()
    out.geometry = shapely.transform(np.asarray(frame.geometry.values),
                                     lambda xy: np.round(xy, decimals))
    return out


def read_boundary(path, grid_crs: str, *, key: str = "region.boundary"):
    """The region boundary as one (multi)polygon in ``grid_crs``.

    Reads any vector file geopandas reads (GeoJSON, GeoPackage, Shapefile ...), in any
    CRS (a file without one is taken as WGS 84, as GeoJSON RFC 7946 says), reprojects it to
    the grid's CRS and dissolves all polygon features into one geometry.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, no polygon features, invalid geometry.
    """
    import geopandas as gpd
    import shapely
    from shapely import make_valid
    from shapely.ops import unary_union

    from ..errors import ScenarioError

    path = Path(path)
    if not path.is_file():
        raise ScenarioError("boundary file not found", file=str(path), key=key)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises DataSourceError with GDAL's text
        raise ScenarioError(f"not a readable vector file ({str(exc).splitlines()[0]}); "
                            "allowed: GeoJSON, GeoPackage, Shapefile or another format "
                            "geopandas reads", file=str(path), key=key) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise ScenarioError("the file has no geometries; allowed: a vector file with "
                            "Polygon or MultiPolygon features (GeoJSON, GeoPackage, Shapefile)",
                            file=str(path), key=key)
    frame = frame[frame.geometry.notna()]
    polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        kinds = ", ".join(sorted(set(frame.geom_type))) or "no features"
        raise ScenarioError(f"no polygon in the boundary file (found {kinds}); allowed: "
                            "Polygon or MultiPolygon features", file=str(path), key=key)
    if polys.crs is None:
        polys = polys.set_crs("EPSG:4326")
    # make_valid turns a self-touching ring (common in decoded TopoJSON, Natural Earth's
    # Germany, Belgium, USA) into polygons plus stray lines: keep the polygons, 2-D
    geom = unary_union([_polygonal(make_valid(shapely.force_2d(g)))
                        for g in polys.to_crs(grid_crs).geometry])
    if geom.is_empty or geom.area <= 0:
        raise ScenarioError("the boundary polygon has no area", file=str(path), key=key)
    return geom


def _polygonal(geom):
    """The polygon parts of a geometry (a GeometryCollection from make_valid may also hold
    lines and points), as one (multi)polygon."""
    import shapely

    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
