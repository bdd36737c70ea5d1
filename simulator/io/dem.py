"""Reading a DEM GeoTIFF onto the scenario grid (rasterio.warp), with checked no-data.

Real DEMs come with quirks the reader absorbs before the engine sees an elevation:

* only the window of the file that covers the region (plus two source cells) is read, so
  a national mosaic costs what the region costs;
* the declared no-data value is a hole;
* so is every value outside the plausible range of elevations on Earth,
  :data:`ELEVATION_RANGE_M` (-500 to 9,000 m: the Dead Sea shore is about -430 m, Everest
  8,849 m): undeclared no-data sentinels (-32768 of SRTM voids, -9999, float32 max,
  1e30 ...) are such values. A warning in summary.json counts them and names the values;
  when they are most of the file's window the file is refused (it is not elevations in
  metres);
* holes are filled from the nearest valid cell (``terrain.raster.nodata: fill``, with a
  warning) or refused (``nodata: refuse``); they never become sea level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..region.grid import Grid

#: Plausible elevations [m]: lowest dry land (Dead Sea shore, about -430 m) and highest
#: summit (Everest, 8,849 m) with a margin. Values outside are no-data.
ELEVATION_RANGE_M = (-500.0, 9000.0)
#: Values rasters use for no-data without always declaring it.
NODATA_SENTINELS = (-32768.0, -32767.0, -9999.0, -99999.0, 32767.0, 65535.0,
                    float(np.finfo(np.float32).max), -float(np.finfo(np.float32).max),
                    float(np.float32(3.4e38)), -float(np.float32(3.4e38)),
                    float(np.finfo(np.float64).max), -float(np.finfo(np.float64).max),
                    1e30, -1e30, float(np.float32(1e30)), -float(np.float32(1e30)))
#: Share of a DEM window's cells (those not declared no-data) that may be implausible
#: before the file is refused rather than masked.
MAX_IMPLAUSIBLE_SHARE = 0.5


def describe_values(values: np.ndarray, *, limit: int = 3) -> str:
    """The most frequent values of an array as text: ``-32768 (1,204 cells, a common
    no-data value), 12000 (3 cells)``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    parts = []
    nan = int(np.isnan(v).sum())
    u, n = np.unique(v[~np.isnan(v)], return_counts=True)
    order = np.argsort(-n, kind="stable")[:limit]
    for i in order:
        tag = ", a common no-data value" if float(u[i]) in NODATA_SENTINELS else ""
        parts.append(f"{u[i]:.6g} ({int(n[i]):,} cell{'s' if n[i] > 1 else ''}{tag})")
    if nan:
        parts.append(f"NaN ({nan:,} cells)")
    more = len(u) - len(order)
    return ", ".join(parts) + (f" and {more:,} other values" if more > 0 else "")


def read_dem_to_grid(path: Path | str, grid: Grid, *, resampling: str = "bilinear",
                     nodata: str = "fill", key: str = "terrain.raster.file",
                     scenario_file: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Elevation per grid cell from a DEM file in any CRS.

    The window of the DEM that covers the grid is reprojected and resampled onto the grid
    with ``rasterio.warp.reproject``. Declared no-data and implausible values (outside
    :data:`ELEVATION_RANGE_M`) are holes; holes never become sea level: they are filled
    from the nearest cell with data (``nodata="fill"``, and a warning says how many) or
    refused (``nodata="refuse"``).

    Returns
    -------
    (numpy.ndarray, list of str)
        float32 elevations of the grid's shape [m], and warnings for the summary.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, no CRS, no overlap with the region, all no-data, mostly
        implausible values.
    """
    import rasterio
    from affine import Affine
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, reproject, transform_bounds
    from rasterio.windows import Window
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
    warnings: list[str] = []
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
        t = src.transform
        win, wt = None, t
        if t.b == 0 and t.d == 0:
            # the window of the file under the region, two source cells of margin
            gl, gb, gr, gt_ = transform_bounds(grid.crs, src.crs, *grid.bounds, densify_pts=21)
            cols = sorted(((gl - t.c) / t.a, (gr - t.c) / t.a))
            rows = sorted(((gt_ - t.f) / t.e, (gb - t.f) / t.e))
            c0 = max(int(np.floor(cols[0])) - 2, 0)
            r0 = max(int(np.floor(rows[0])) - 2, 0)
            c1 = min(int(np.ceil(cols[1])) + 2, src.width)
            r1 = min(int(np.ceil(rows[1])) + 2, src.height)
            if c1 > c0 and r1 > r0:
                win = Window(c0, r0, c1 - c0, r1 - r0)
                wt = Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e)
        out = np.full(grid.shape, np.nan, np.float32)
        src_nodata = src.nodata
        try:
            native = src.read(1, window=win, masked=False)
        except RasterioIOError as exc:
            raise ScenarioError(f"DEM {path} is truncated or corrupt "
                                f"({str(exc).splitlines()[0]}); allowed: a complete, readable "
                                "GeoTIFF (download or export it again)", value=str(path),
                                **where) from None
        data = native.astype(np.float64)
        declared = np.zeros(data.shape, bool)
        if src_nodata is not None:
            # compared in the file's own type (a float32 no-data value is not its float64)
            declared = np.isnan(data) if np.isnan(src_nodata) else \
                (native == np.array(src_nodata).astype(native.dtype))
        del native
        lo, hi = ELEVATION_RANGE_M
        declared |= np.isnan(data)  # NaN is a hole whether declared or not
        implausible = ~declared & ~((data >= lo) & (data <= hi))
        n_bad = int(implausible.sum())
        if n_bad:
            n_data = int((~declared).sum())
            what = describe_values(data[implausible])
            if n_bad > MAX_IMPLAUSIBLE_SHARE * n_data:
                raise ScenarioError(
                    f"DEM {path}: {n_bad:,} of {n_data:,} cells under the region are outside "
                    f"{lo:g}..{hi:g} m ({what}); allowed: elevations in metres (a DEM in other "
                    "units must be converted; declare the no-data value with gdal_edit.py "
                    "-a_nodata)", value=str(path), **where)
            warnings.append(
                f"terrain: {n_bad:,} DEM cells under the region hold values outside "
                f"{lo:g}..{hi:g} m and are treated as no data: {what} (the file declares "
                f"{'no no-data value' if src_nodata is None else f'no-data {src_nodata:g}'})")
        data[declared | implausible] = np.nan
        reproject(data.astype(np.float32), out, src_transform=wt, src_crs=src.crs,
                  src_nodata=np.nan, dst_transform=grid.transform, dst_crs=grid.crs,
                  dst_nodata=np.nan, resampling=getattr(Resampling, resampling))
    holes = ~np.isfinite(out)
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
