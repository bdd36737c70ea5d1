"""GeoTIFF writing and reading (rasterio), georeferenced on the scenario grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..region.grid import Grid


#: No-data value of the uint8 categorical rasters outside the region boundary.
NODATA_UINT8 = 255


def raster_categories(name: str, *, site_names=None) -> dict | None:
    """Category names and colours of a categorical output raster, by file name.

    ``limitation.tif`` (:data:`simulator.radio.serving.LIMITATION_CODES`), ``covered.tif``
    and ``line_of_sight.tif`` (0/1), ``best_server.tif`` (the site names, given as
    ``site_names``, in sites.geojson order). Returns ``{code: (name, "#rrggbb")}`` or None
    for a continuous raster.
    """
    from .maplayers import LIMITATION_COLOURS, LIMITATION_NAMES

    if name == "limitation.tif":
        return {k: (LIMITATION_NAMES[k], LIMITATION_COLOURS[k]) for k in LIMITATION_NAMES}
    if name == "covered.tif":
        return {0: ("not covered", "#d7301f"), 1: ("covered", "#1a9850")}
    if name == "line_of_sight.tif":
        return {0: ("no line of sight", "#bababa"), 1: ("line of sight", "#2c7bb6")}
    if name == "best_server.tif" and site_names is not None:
        import matplotlib

        cmap = matplotlib.colormaps["tab20"]
        return {k: (str(n), matplotlib.colors.to_hex(cmap(k % 20)))
                for k, n in enumerate(site_names)}
    return None


def outside_nodata(dtype) -> float | int:
    """The no-data value written outside the region boundary for a raster of ``dtype``."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return float("nan")
    if dt == np.uint8:
        return NODATA_UINT8
    if dt.kind == "i":
        return -1
    raise ValueError(f"no outside-the-region no-data value for {dt}")


def apply_categories(dst, path: Path, categories: dict | None) -> None:
    """Colour table (in the file for 8/16-bit bands) and category names of band 1.

    GeoTIFF keeps a colour table only for Byte and UInt16 bands and never category names,
    so both also go to GDAL's auxiliary file ``<name>.aux.xml`` (PAM), which GDAL, QGIS
    and rasterio read with the raster (written after the file is closed: see
    :func:`write_category_sidecar`).
    """
    if not categories:
        return
    from matplotlib.colors import to_rgba

    if dst.dtypes[0] in ("uint8", "uint16"):
        dst.write_colormap(1, {k: tuple(int(round(255 * v)) for v in to_rgba(c))
                               for k, (_, c) in categories.items()})


def write_category_sidecar(path: Path, categories: dict | None) -> Path | None:
    """``<raster>.aux.xml``: category names (and, for bands GeoTIFF cannot hold a colour
    table for, the colour table) in GDAL's PAM format, for an existing single-band file."""
    if not categories:
        return None
    import xml.etree.ElementTree as ET

    import rasterio
    from matplotlib.colors import to_rgba

    path = Path(path)
    with rasterio.open(path) as src:
        dtype = src.dtypes[0]
    codes = sorted(k for k in categories if k >= 0)
    n = codes[-1] + 1 if codes else 0
    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    names = ET.SubElement(band, "CategoryNames")
    for k in range(n):
        ET.SubElement(names, "Category").text = categories.get(k, ("", None))[0]
    if dtype not in ("uint8", "uint16"):
        ET.SubElement(band, "ColorInterp").text = "Palette"
        table = ET.SubElement(band, "ColorTable")
        for k in range(n):
            c = categories.get(k, ("", "#00000000"))[1]
            r, g, b, a = (int(round(255 * v)) for v in to_rgba(c))
            ET.SubElement(table, "Entry", c1=str(r), c2=str(g), c3=str(b), c4=str(a))
    out = path.with_name(path.name + ".aux.xml")
    ET.ElementTree(root).write(out, encoding="UTF-8", xml_declaration=False)
    return out


def write_geotiff(path: Path | str, array: np.ndarray, grid: Grid, *, nodata=None,
                  description: str = "", units: str = "", outside=None,
                  categories=None, cloud_optimised: bool = False) -> Path:
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
        Band description and unit (GDAL's band unit type, shown by QGIS / gdalinfo and
        read back as rasterio's ``units``).
    outside : numpy.ndarray of bool, optional
        Cells outside the region boundary: written as no-data (NaN for floats, 255 for
        uint8, -1 for signed integers; see :func:`outside_nodata`), which becomes the
        file's no-data value when ``nodata`` is not given.
    categories : dict or "auto", optional
        ``{code: (name, colour)}`` of a categorical raster (colour table and category
        names, :func:`apply_categories`); "auto" (the default when None) looks the
        file name up in :func:`raster_categories`.
    cloud_optimised : bool
        Write a Cloud Optimized GeoTIFF with overviews (GDAL's COG driver; overviews by
        the most common value for categorical rasters, the average otherwise).
    """
    import os

    import rasterio
    import rasterio.shutil

    if array.shape != grid.shape:
        raise ValueError(f"array shape {array.shape} does not match the grid {grid.shape}")
    path = Path(path)
    dtype = array.dtype
    if dtype == bool:
        array = array.astype(np.uint8)
    if outside is not None and np.any(outside):
        fill = outside_nodata(array.dtype)
        if nodata is not None and not (isinstance(fill, float) and np.isnan(fill)) \
                and nodata != fill:
            fill = nodata
        array = np.where(outside, np.array(fill).astype(array.dtype), array)
        if nodata is None:
            nodata = fill
    if categories is None:
        categories = raster_categories(path.name)
    profile = dict(driver="GTiff", height=grid.nrows, width=grid.ncols, count=1,
                   dtype=array.dtype.name, crs=grid.crs, transform=grid.transform,
                   compress="deflate", nodata=nodata)
    if grid.nrows >= 256 and grid.ncols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    target = path.with_name(f".{path.name}.gtiff") if cloud_optimised else path
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(array, 1)
        if description:
            dst.set_band_description(1, description)
        if units:
            dst.units = (units,)
        apply_categories(dst, path, categories)
    if cloud_optimised:
        try:
            rasterio.shutil.copy(target, path, driver="COG", compress="DEFLATE",
                                 OVERVIEWS="AUTO", BLOCKSIZE=256,
                                 RESAMPLING="MODE" if categories else "AVERAGE")
        finally:
            os.remove(target)
    write_category_sidecar(path, categories)
    return path


def region_writer(result):
    """:func:`write_geotiff` with ``outside`` set to the cells outside ``result``'s region
    boundary (none when the run has no boundary) and ``cloud_optimised`` from
    ``outputs.cloud_optimised``."""
    import functools

    mask = getattr(result, "region_mask", None)
    cog = bool(result.scenario.outputs.cloud_optimised)
    if mask is None or mask.all():
        return functools.partial(write_geotiff, cloud_optimised=cog)
    return functools.partial(write_geotiff, outside=~mask, cloud_optimised=cog)


def read_geotiff(path: Path | str) -> tuple[np.ndarray, dict]:
    """Read band 1 and the metadata (crs, transform, nodata, description, units)."""
    import rasterio

    with rasterio.open(path) as src:
        data = src.read(1)
        meta = {"crs": src.crs.to_string() if src.crs else None, "transform": src.transform,
                "nodata": src.nodata, "description": src.descriptions[0],
                "units": src.units[0] or src.tags(1).get("units", "")}
    return data, meta


def _source_cell_area_m2(crs, t, nrows: int) -> np.ndarray:
    """True area of each cell of a north-up raster [m2], shape (nrows, 1) or (1, 1).

    Projected CRSs: the constant ``|a * e|`` of the affine transform (metres, or the CRS's
    linear unit converted to metres). Geographic CRSs: the area of the cell on the WGS 84
    authalic sphere, ``R^2 * dlon * (sin(lat_top) - sin(lat_bottom))`` (exact for a
    sphere; it varies by row only).
    """
    if crs.is_geographic:
        r = 6_371_007.2  # authalic radius of the WGS 84 ellipsoid [m]
        rows = np.arange(int(nrows))
        lat_top = np.deg2rad(t.f + rows * t.e)
        lat_bot = np.deg2rad(t.f + (rows + 1) * t.e)
        dlon = np.deg2rad(abs(t.a))
        return (r * r * dlon * np.abs(np.sin(lat_top) - np.sin(lat_bot)))[:, None]
    factor = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    return np.full((1, 1), abs(t.a * t.e) * factor * factor)


def _fraction_inside(region, t, data) -> np.ndarray:
    """Share of each cell's area (in the raster's own coordinates) inside ``region``.

    Only cells with people are clipped; the others get 0. North-up transform ``t``.
    """
    import shapely

    frac = np.zeros(data.shape)
    rows, cols = np.nonzero(data > 0)
    if rows.size == 0:
        return frac
    x0 = t.c + cols * t.a
    y0 = t.f + rows * t.e
    cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    inter = shapely.intersection(cells, region)
    frac[rows, cols] = shapely.area(inter) / abs(t.a * t.e)
    return frac


def read_population_to_grid(path, grid: Grid, *, inside_polygon=None, band: int = 1,
                            key: str = "population.raster.file"):
    """People per cell from a GeoTIFF in any CRS, resampled onto ``grid``, total kept.

    Method (sum-preserving):

    1. read the window of the source that covers the grid (plus one cell);
    2. check the values: every cell must be >= 0 and finite, except the declared nodata
       value (treated as 0 people);
    3. the people the source holds inside the region: each source cell's people times the
       fraction of its area inside ``inside_polygon`` (the grid rectangle intersected with
       the boundary, reprojected to the source CRS; exact polygon clipping with shapely,
       people taken as spread evenly within a source cell);
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
    from rasterio.errors import RasterioError
    from rasterio.features import geometry_mask
    from rasterio.warp import reproject, transform_geom
    from affine import Affine
    from rasterio.windows import Window
    from shapely.geometry import box, mapping

    from ..errors import ScenarioError

    path = Path(path)
    if not path.is_file():
        raise ScenarioError("population raster not found (paths are relative to the scenario "
                            "file's folder)", file=str(path), key=key)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError with GDAL's text
        raise ScenarioError(f"not a readable raster ({str(exc).splitlines()[0]}); allowed: "
                            "a GeoTIFF of people per cell", file=str(path), key=key) from None
    with src:
        if src.crs is None:
            raise ScenarioError("the raster has no CRS; allowed: a georeferenced GeoTIFF",
                                file=str(path), key=key)
        if src.transform.b != 0 or src.transform.d != 0:
            raise ScenarioError("the raster is rotated; allowed: a north-up GeoTIFF",
                                file=str(path), key=key)
        if not 1 <= band <= src.count:
            raise ScenarioError(f"band {band} does not exist; allowed: band 1 to {src.count} "
                                "(population.raster.band)", file=str(path), key=key)
        region = inside_polygon if inside_polygon is not None else box(*grid.bounds)
        region_src = transform_geom(grid.crs, src.crs, mapping(region.segmentize(
            grid.resolution_m)))
        from shapely.geometry import shape as to_shape

        left, bottom, right, top = to_shape(region_src).bounds
        t = src.transform  # north-up (no rotation), as GeoTIFFs of population are
        cols = sorted(((left - t.c) / t.a, (right - t.c) / t.a))
        rows = sorted(((top - t.f) / t.e, (bottom - t.f) / t.e))
        c0 = max(int(np.floor(cols[0])) - 1, 0)
        r0 = max(int(np.floor(rows[0])) - 1, 0)
        c1 = min(int(np.ceil(cols[1])) + 1, src.width)
        r1 = min(int(np.ceil(rows[1])) + 1, src.height)
        if c1 <= c0 or r1 <= r0:
            raise ScenarioError("the raster does not overlap the region "
                                f"({grid.crs} bounds {tuple(round(v) for v in grid.bounds)}); "
                                "check region.centre_lon_lat and the raster's extent",
                                file=str(path), key=key)
        win = Window(c0, r0, c1 - c0, r1 - r0)
        # the window's transform, written out (rasterio's helpers multiply Affines with the
        # deprecated '*')
        wt = Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e)
        try:
            data = src.read(band, window=win).astype(np.float64)
        except RasterioError as exc:
            raise ScenarioError(f"the raster is truncated or corrupt ({str(exc).splitlines()[0]}); "
                                "allowed: a complete, readable GeoTIFF (download or export it "
                                "again)", file=str(path), key=key) from None
        nodata = src.nodata
        valid = np.ones(data.shape, bool)
        if nodata is not None:
            valid = ~(np.isnan(data) if np.isnan(nodata) else data == nodata)
        bad = valid & ~(np.isfinite(data) & (data >= 0))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            lon_x, lat_y = wt.c + (c + 0.5) * wt.a, wt.f + (r + 0.5) * wt.e
            raise ScenarioError(
                f"{int(bad.sum())} cell(s) with negative or NaN people, e.g. {data[r, c]!r} at "
                f"({lon_x:.5f}, {lat_y:.5f}) {src.crs.to_string()}; allowed: people per cell "
                f">= 0, or the raster's nodata value ({nodata!r}) for no data",
                file=str(path), key=key, value=float(data[r, c]))
        data = np.where(valid, data, 0.0)
        source_total = float((data * _fraction_inside(to_shape(region_src), wt,
                                                      data)).sum())
        density = data / _source_cell_area_m2(src.crs, wt, data.shape[0])
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
