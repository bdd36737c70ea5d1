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


def _source_cell_area_m2(src, window) -> np.ndarray:
    """True area of each source cell in ``window`` [m2], shape (rows, 1) or (rows, cols).

    Projected CRSs: the constant ``|a * e|`` of the affine transform (metres, or the CRS's
    linear unit converted to metres). Geographic CRSs: the area of the cell on the WGS 84
    authalic sphere, ``R^2 * dlon * (sin(lat_top) - sin(lat_bottom))`` (exact for a
    sphere; it varies by row only).
    """
    t = src.window_transform(window)
    crs = src.crs
    if crs.is_geographic:
        r = 6_371_007.2  # authalic radius of the WGS 84 ellipsoid [m]
        rows = np.arange(int(window.height))
        lat_top = np.deg2rad(t.f + rows * t.e)
        lat_bot = np.deg2rad(t.f + (rows + 1) * t.e)
        dlon = np.deg2rad(abs(t.a))
        return (r * r * dlon * np.abs(np.sin(lat_top) - np.sin(lat_bot)))[:, None]
    factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return np.full((1, 1), abs(t.a * t.e) * factor * factor)


def read_population_to_grid(path, grid: Grid, *, inside_polygon=None, band: int = 1,
                            key: str = "population.raster.file"):
    """People per cell from a GeoTIFF in any CRS, resampled onto ``grid``, total kept.

    Method (sum-preserving):

    1. read the window of the source that covers the grid (plus one cell);
    2. check the values: every cell must be >= 0 and finite, except the declared nodata
       value (treated as 0 people);
    3. the people the source holds inside the region: the sum over source cells whose
       centre lies inside ``inside_polygon`` (the grid rectangle intersected with the
       boundary, reprojected to the source CRS; ``rasterio.features.geometry_mask``);
    4. people per cell -> density (people per m2 of each source cell's true area, see
       :func:`_source_cell_area_m2`), reprojected with ``Resampling.average`` (GDAL's
       area-weighted average of the source cells overlapping each grid cell), times the
       grid cell area: an estimate of people per grid cell;
    5. the estimate is kept only in grid cells whose centre is inside the region and
       scaled so its sum equals the total of step 3 (this removes the edge error of
       step 4: partial cells along the boundary and the grid edge).

    Parameters
    ----------
    path : path-like
    grid : Grid
    inside_polygon : shapely geometry, optional
        The region in the **grid's** CRS (default: the grid rectangle).
    band : int
    key : str
        Scenario key named in error messages.

    Returns
    -------
    people_estimate : numpy.ndarray
        float64 (nrows, ncols), zero outside the region; sums to ``source_total``.
    source_total : float
        People the raster holds inside the region [people].
    info : dict
        crs, resolution and nodata of the source (for the summary).

    Raises
    ------
    ScenarioError
        Unreadable file, no overlap with the region, negative or NaN values.
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.features import geometry_mask
    from rasterio.warp import reproject, transform_geom
    from rasterio.windows import Window, from_bounds
    from shapely.geometry import box, mapping

    from ..errors import ScenarioError

    path = Path(path)
    if not path.is_file():
        raise ScenarioError("population raster not found", file=str(path), key=key)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError with GDAL's text
        raise ScenarioError(f"not a readable raster ({str(exc).splitlines()[0]}); allowed: "
                            "a GeoTIFF of people per cell", file=str(path), key=key) from None
    with src:
        if src.crs is None:
            raise ScenarioError("the raster has no CRS; allowed: a georeferenced GeoTIFF",
                                file=str(path), key=key)
        if not 1 <= band <= src.count:
            raise ScenarioError(f"band {band} does not exist; the raster has {src.count}",
                                file=str(path), key=key)
        region = inside_polygon if inside_polygon is not None else box(*grid.bounds)
        region_src = transform_geom(grid.crs, src.crs, mapping(region.segmentize(
            grid.resolution_m)))
        from shapely.geometry import shape as to_shape

        rb = to_shape(region_src).bounds
        win = from_bounds(*rb, transform=src.transform)
        win = Window(int(np.floor(win.col_off)) - 1, int(np.floor(win.row_off)) - 1,
                     int(np.ceil(win.width)) + 3, int(np.ceil(win.height)) + 3)
        win = win.intersection(Window(0, 0, src.width, src.height)) if _overlaps(
            win, src) else None
        if win is None:
            raise ScenarioError("the raster does not overlap the region "
                                f"({grid.crs} bounds {tuple(round(v) for v in grid.bounds)})",
                                file=str(path), key=key)
        data = src.read(band, window=win).astype(np.float64)
        nodata = src.nodata
        valid = np.ones(data.shape, bool)
        if nodata is not None:
            valid = ~(np.isnan(data) if np.isnan(nodata) else data == nodata)
        bad = valid & ~(np.isfinite(data) & (data >= 0))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            lon_x, lat_y = src.window_transform(win) * (c + 0.5, r + 0.5)
            raise ScenarioError(
                f"{int(bad.sum())} cell(s) with negative or NaN people, e.g. {data[r, c]!r} at "
                f"({lon_x:.5f}, {lat_y:.5f}) {src.crs.to_string()}; allowed: people per cell "
                f">= 0, or the raster's nodata value ({nodata!r}) for no data",
                file=str(path), key=key, value=float(data[r, c]))
        data = np.where(valid, data, 0.0)
        wt = src.window_transform(win)
        inside_src = ~geometry_mask([region_src], out_shape=data.shape, transform=wt,
                                    all_touched=False)
        source_total = float(data[inside_src].sum())
        density = data / _source_cell_area_m2(src, win)
        est = np.zeros(grid.shape, np.float64)
        reproject(density, est, src_transform=wt, src_crs=src.crs, dst_transform=grid.transform,
                  dst_crs=grid.crs, resampling=Resampling.average, src_nodata=None,
                  dst_nodata=None)
        info = {"file": str(path), "crs": src.crs.to_string(),
                "resolution": [abs(src.transform.a), abs(src.transform.e)], "nodata": nodata}
    est *= grid.resolution_m ** 2
    inside_grid = ~geometry_mask([mapping(region)], out_shape=grid.shape,
                                 transform=grid.transform, all_touched=False)
    est = np.where(inside_grid & np.isfinite(est) & (est > 0), est, 0.0)
    s = est.sum()
    if source_total > 0:
        if s > 0:
            est *= source_total / s
        elif inside_grid.any():
            est = np.where(inside_grid, source_total / inside_grid.sum(), 0.0)
    else:
        est[:] = 0.0
    return est, source_total, info


def _overlaps(win, src) -> bool:
    return (win.col_off < src.width and win.row_off < src.height
            and win.col_off + win.width > 0 and win.row_off + win.height > 0)


def read_dem_to_grid(path, grid: Grid, *, key: str = "terrain") -> np.ndarray:
    """Elevation [m] on ``grid`` from a DEM GeoTIFF in any CRS (bilinear resampling).

    Cells the DEM does not cover are NaN.
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    from ..errors import ScenarioError

    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise ScenarioError(f"not a readable raster ({str(exc).splitlines()[0]})",
                            file=str(path), key=key) from None
    with src:
        out = np.full(grid.shape, np.nan, np.float64)
        reproject(rasterio.band(src, 1), out, dst_transform=grid.transform, dst_crs=grid.crs,
                  resampling=Resampling.bilinear, dst_nodata=np.nan)
    return out
