"""Small input files for the bad-input catalogue and the reliability tests.

Every file is made here with rasterio / plain text, so each test states exactly what is
wrong with it. The region the files are made for: centre (35.0, -6.0), a few km across.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CENTRE_LON, CENTRE_LAT = 35.0, -6.0
#: Half-width of the lon/lat rasters [deg] (about 5.5 km: covers a 4 x 4 km region).
HALF_DEG = 0.05
CELL_DEG = 0.005


def write_lonlat_tif(path: Path, data: np.ndarray, *, crs="EPSG:4326", nodata=None,
                     centre=(CENTRE_LON, CENTRE_LAT), cell_deg=CELL_DEG,
                     dtype="float32") -> Path:
    """A north-up GeoTIFF of ``data`` centred on ``centre`` (``crs=None``: no CRS)."""
    import rasterio
    from affine import Affine

    nrows, ncols = data.shape
    west = centre[0] - ncols * cell_deg / 2
    north = centre[1] + nrows * cell_deg / 2
    profile = dict(driver="GTiff", height=nrows, width=ncols, count=1, dtype=dtype,
                   transform=Affine(cell_deg, 0.0, west, 0.0, -cell_deg, north), nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype), 1)
    return path


def _n() -> int:
    return int(round(2 * HALF_DEG / CELL_DEG))


def population(path: Path, **kw) -> Path:
    """People per cell: 10 everywhere (20 x 20 cells of 0.005 deg)."""
    return write_lonlat_tif(path, np.full((_n(), _n()), 10.0), **kw)


def dem(path: Path, **kw) -> Path:
    """A tilted plane 1000..1200 m."""
    n = _n()
    z = 1000.0 + 200.0 * np.add.outer(np.arange(n), np.arange(n)) / (2 * n)
    return write_lonlat_tif(path, z, **kw)


def truncate(path: Path, keep_fraction: float = 0.5) -> Path:
    """Cut a file to its first ``keep_fraction`` of bytes (a broken download)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def garbage(path: Path, n: int = 4096, seed: int = 1) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def boundary_geojson(path: Path, ring_lonlat=None, geometry=None) -> Path:
    if geometry is None:
        d = 0.015
        ring = ring_lonlat or [[CENTRE_LON - d, CENTRE_LAT - d], [CENTRE_LON + d, CENTRE_LAT - d],
                               [CENTRE_LON + d, CENTRE_LAT + d], [CENTRE_LON - d, CENTRE_LAT + d],
                               [CENTRE_LON - d, CENTRE_LAT - d]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": geometry}]}))
    return path


TOWER_HEADER = ("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,"
                "averageSignal")


def towers_csv(path: Path, rows: list[tuple[str, float | str, float | str]],
               header: str = TOWER_HEADER) -> Path:
    """OpenCelliD-layout rows (radio, lon, lat)."""
    lines = [header] + [f"{r},640,2,1,{k + 1},,{lon},{lat},1000,10,1,0,0,0"
                        for k, (r, lon, lat) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path
