"""Vector outputs: sites as GeoJSON (geopandas)."""

from __future__ import annotations

from pathlib import Path


def sites_frame(result):
    """A GeoDataFrame of the sites: type, radio, people served and connected, backhaul,
    power and costs (capex [USD], opex [USD/year], TCO and NPV over the horizon [USD])."""
    import geopandas as gpd

    import numpy as np

    sites, st = result.sites, result.stations
    extra = {}
    b = getattr(result, "business", None)
    if b is not None:
        extra = {
            "people_connected": np.round(b.connected_by_year[:, -1]).astype(int),
            "backhaul": [str(o) for o in b.backhaul],
            "backhaul_capacity_mbps": b.backhaul_capacity_mbps,
            "backhaul_demand_mbps": np.round(b.demand_mbps, 3),
            "backhaul_capacity_exceeded": b.backhaul_capacity_exceeded.astype(bool),
            "power": [str(o) for o in b.power],
            "capex_usd": np.round(b.capex_usd, 2),
            "opex_usd_per_year": np.round(b.opex_usd_per_year, 2),
            "tco_usd": np.round(b.tco_usd, 2),
            "npv_usd": np.round(b.npv_usd, 2),
            "co2_kg_per_year": np.round(b.co2_kg_per_year, 1),
        }
    return gpd.GeoDataFrame(
        {
            "name": sites.names,
            "station_type": sites.station,
            "status": ["existing" if e else "new" for e in sites.existing],
            "height_m": sites.attribute(st, "height_m"),
            "tx_power_dbm": sites.attribute(st, "tx_power_dbm"),
            "antenna_gain_dbi": sites.attribute(st, "antenna_gain_dbi"),
            "sectors": sites.attribute(st, "sectors").astype(int),
            "azimuth_deg": sites.azimuth_deg,
            "frequency_mhz": [result.technology.frequency_mhz] * len(sites),
            "technology": [result.technology.name] * len(sites),
            "people_served": result.people_served_per_site.astype(int),
            **extra,
            "x_m": sites.x_m,
            "y_m": sites.y_m,
        },
        geometry=gpd.points_from_xy(sites.x_m, sites.y_m), crs=result.grid.crs)


def write_sites_geojson(result, path: Path | str) -> Path:
    """Write the sites as GeoJSON in WGS 84 (RFC 7946), with projected x_m/y_m kept."""
    path = Path(path)
    frame = sites_frame(result).to_crs("EPSG:4326")
    path.write_text(frame.to_json(drop_id=True, indent=1))
    return path
