"""Reading a DEM GeoTIFF onto the scenario grid (rasterio.warp), with checked no-data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..region.grid import Grid


def read_dem_to_grid(path: Path | str, grid: Grid, *, resampling: str = "bilinear",
                     nodata: str = "fill", key: str = "terrain.raster.file",
                     scenario_file: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Elevation per grid cell from a DEM file in any CRS.

    The DEM is reprojected and resampled onto the grid with ``rasterio.warp.reproject``.
    No-data never becomes sea level: cells without data are filled from the nearest cell
    with data (``nodata="fill"``, and a warning says how many) or refused
    (``nodata="refuse"``).

    Returns
    -------
    (numpy.ndarray, list of str)
        float32 elevations of the grid's shape [m], and warnings for the summary.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, no CRS, no overlap with the region, all no-data.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, reproject, transform_bounds
    from scipy import ndimage

    path = Path(path)
    where = dict(file=scenario_file, key=key)
    if not path.is_file():
        raise ScenarioError(f"DEM file {path} not found (paths are relative to the scenario "
                            "file's folder)", value=str(path), **where)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise ScenarioError(f"cannot read DEM {path} as a raster "
                            f"({str(exc).splitlines()[0]}); allowed: a GeoTIFF (or another "
                            "raster GDAL reads) of elevations", value=str(path),
                            **where) from None
    with src:
        if src.crs is None:
            raise ScenarioError(f"DEM {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs "
                                "EPSG:4326) so it can be placed on the region", value=str(path),
                                **where)
        left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds,
                                                    densify_pts=21)
        x0, y0, x1, y1 = grid.bounds
        if left > x0 or right < x1 or bottom > y0 or top < y1:
            cover = "does not overlap" if (right < x0 or left > x1 or top < y0 or bottom > y1) \
                else "does not fully cover"
            raise ScenarioError(f"DEM {path} {cover} the region ({grid.crs} x {x0:.0f}..{x1:.0f}, "
                                f"y {y0:.0f}..{y1:.0f}; DEM spans x {left:.0f}..{right:.0f}, "
                                f"y {bottom:.0f}..{top:.0f}); allowed: a DEM covering the whole "
                                "region (check region.centre_lon_lat, width_km and height_km)",
                                value=str(path), **where)
        out = np.full(grid.shape, np.nan, np.float32)
        src_nodata = src.nodata
        try:
            data = src.read(1, masked=False).astype(np.float32)
        except RasterioIOError as exc:
            raise ScenarioError(f"DEM {path} is truncated or corrupt "
                                f"({str(exc).splitlines()[0]}); allowed: a complete, readable "
                                "GeoTIFF (download or export it again)", value=str(path),
                                **where) from None
        if src_nodata is not None:
            data[data == np.float32(src_nodata)] = np.nan
        reproject(data, out, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                  resampling=getattr(Resampling, resampling))
    holes = ~np.isfinite(out)
    warnings: list[str] = []
    if holes.all():
        raise ScenarioError(f"DEM {path} has no valid elevation inside the region (all no-data)",
                            value=str(path), **where)
    if holes.any():
        n = int(holes.sum())
        if nodata == "refuse":
            raise ScenarioError(f"DEM {path} has {n:,} cells without data inside the region; "
                                "set terrain.raster.nodata: fill to fill them from the nearest "
                                "valid cells", value=str(path), **where)
        idx = ndimage.distance_transform_edt(holes, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
        warnings.append(f"terrain: {n:,} of {out.size:,} cells had no DEM data and were filled "
                        "from the nearest valid cell")
    return out.astype(np.float32), warnings
