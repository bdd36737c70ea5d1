"""GeoTIFF writing and reading (rasterio), georeferenced on the scenario grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..grid import Grid


def write_geotiff(path: Path | str, array: np.ndarray, grid: Grid, *, nodata=None,
                  description: str = "", units: str = "") -> Path:
    """Write one band on ``grid`` (tiled, deflate-compressed GeoTIFF).

    Parameters
    ----------
    path : path-like
    array : numpy.ndarray
        Shape ``grid.shape``; its dtype is kept (float32, int32, uint8 ...).
    grid : Grid
        Gives the CRS and the affine transform.
    nodata : number, optional
        The no-data value written in the header (NaN for float rasters with gaps).
    description, units : str
        Band description and units (shown by QGIS / gdalinfo).
    """
    import rasterio

    if array.shape != grid.shape:
        raise ValueError(f"array shape {array.shape} does not match the grid {grid.shape}")
    path = Path(path)
    dtype = array.dtype
    if dtype == bool:
        array = array.astype(np.uint8)
    profile = dict(driver="GTiff", height=grid.nrows, width=grid.ncols, count=1,
                   dtype=array.dtype.name, crs=grid.crs, transform=grid.transform,
                   compress="deflate", nodata=nodata)
    if grid.nrows >= 256 and grid.ncols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
        if description:
            dst.set_band_description(1, description)
        if units:
            dst.update_tags(1, units=units)
    return path


def read_geotiff(path: Path | str) -> tuple[np.ndarray, dict]:
    """Read band 1 and the metadata (crs, transform, nodata, description, units)."""
    import rasterio

    with rasterio.open(path) as src:
        data = src.read(1)
        meta = {"crs": src.crs.to_string() if src.crs else None, "transform": src.transform,
                "nodata": src.nodata, "description": src.descriptions[0],
                "units": src.tags(1).get("units", "")}
    return data, meta
