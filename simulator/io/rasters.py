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

    Only cells with people are looked at; the others get 0. Cells wholly inside get 1
    without clipping (a prepared-geometry test); only those crossing the region's edge
    are clipped exactly (the region is a polygon of thousands of vertices once segmentized
    and reprojected). North-up transform ``t``.
    """
    import shapely

    frac = np.zeros(data.shape)
    rows, cols = np.nonzero(data > 0)
    if rows.size == 0:
        return frac
    x0 = t.c + cols * t.a
    y0 = t.f + rows * t.e
    cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    shapely.prepare(region)
    share = np.where(shapely.contains_properly(region, cells), 1.0, 0.0)
    edge = (share == 0.0) & shapely.intersects(region, cells)
    share[edge] = shapely.area(shapely.intersection(cells[edge], region)) / abs(t.a * t.e)
    frac[rows, cols] = share
    return frac


#: Most people per km2 a population raster cell may hold: above the densest place on
#: record, Kowloon Walled City (Hong Kong) in 1987, about 33,000 people on 2.6 ha, i.e.
#: 1.26 million per km2. A cell above it is not people (a sentinel, wrong units).
MAX_DENSITY_PER_KM2 = 1_500_000.0
#: Most people a region may hold: the schema's bound on ``population.synthetic.total_people``
#: (more than any country).
MAX_TOTAL_PEOPLE = 2_000_000_000
#: Source cells at least this many times wider than the grid's are spread smoothly
#: (:func:`simulator.region.population.pycnophylactic`) rather than evenly.
DISAGGREGATE_RATIO = 2.0
#: Smoothing steps of the pycnophylactic spread (from a mass-preserving bilinear start:
#: on a smooth test field 10 steps leave 0.04-0.05 of RMSE where flat squares leave 0.24,
#: 30 steps 0.03-0.05; docs/real_places.md).
PYCNO_ITERATIONS = 10
#: Smoothing steps on the intermediate grid of a far finer grid (about 4 cells per source
#: cell), see :func:`_spread_smoothly`.
PYCNO_COARSE_ITERATIONS = 40
#: Cells per source cell side of that intermediate grid.
INTERMEDIATE_CELLS_PER_SOURCE = 4


def _population_sentinel(data: np.ndarray) -> np.ndarray:
    """Cells holding a no-data value rasters often leave undeclared: -9999, -99999,
    -32768, -32767, values <= -1e30 (WorldPop's -3.4e38 ...), +-float32 max, float64 max
    and 1e30."""
    big = (float(np.finfo(np.float32).max), float(np.float32(3.4e38)),
           float(np.finfo(np.float64).max), 1e30, float(np.float32(1e30)))
    return (np.isin(data, (-9999.0, -99999.0, -32768.0, -32767.0, *big))
            | (data <= -1e30))


def read_population_to_grid(path, grid: Grid, *, inside_polygon=None, band: int = 1,
                            key: str = "population.raster.file"):
    """People per cell from a GeoTIFF in any CRS, resampled onto ``grid``, total kept.

    Method (sum-preserving):

    1. read the window of the source that covers the grid (plus one cell);
    2. check the values: the declared nodata value is 0 people; undeclared no-data
       sentinels (:func:`_population_sentinel`) are 0 people with a warning; any other
       value must be finite, >= 0 and at most :data:`MAX_DENSITY_PER_KM2` people per km2 of
       the cell's true area, and the region's total at most :data:`MAX_TOTAL_PEOPLE`;
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
       step 4: partial cells along the boundary and the grid edge);
    6. when the source cells are at least :data:`DISAGGREGATE_RATIO` times wider than the
       grid's (a 1 km raster on a 100 m grid), step 4 gives flat squares with cliffs at
       their edges. The people of each source cell (what step 5 put in the grid cells
       whose centre lies in it) are spread again, smoothly: a bilinear interpolation of
       the source densities (``Resampling.bilinear``) scaled per source cell to its people,
       then :data:`PYCNO_ITERATIONS` steps of Tobler's pycnophylactic smoothing
       (:func:`simulator.region.population.pycnophylactic`), which keep each source cell's
       people exactly. Empty source cells (lakes, no data) stay empty.

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
        crs, resolution and nodata of the source, the disaggregation made, and
        ``warnings`` (list of str, for summary.json).

    Raises
    ------
    ScenarioError
        Unreadable file, no overlap with the region, negative, NaN or implausible values.
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
    from ..io.dem import describe_values

    path = Path(path)
    if not path.is_file():
        raise ScenarioError("population raster not found (paths are relative to the scenario "
                            "file's folder)", file=str(path), key=key)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # rasterio raises RasterioIOError with GDAL's text
        raise ScenarioError(f"not a readable raster ({str(exc).splitlines()[0]}); allowed: "
                            "a GeoTIFF of people per cell", file=str(path), key=key) from None
    warnings: list[str] = []
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
            native = src.read(band, window=win)
        except RasterioError as exc:
            raise ScenarioError(f"the raster is truncated or corrupt ({str(exc).splitlines()[0]}); "
                                "allowed: a complete, readable GeoTIFF (download or export it "
                                "again)", file=str(path), key=key) from None
        data = native.astype(np.float64)
        nodata = src.nodata
        valid = np.ones(data.shape, bool)
        if nodata is not None:
            valid = ~(np.isnan(data) if np.isnan(nodata) else
                      native == np.array(nodata).astype(native.dtype))
        del native
        sentinel = valid & _population_sentinel(data)
        if sentinel.any():
            warnings.append(
                f"population: {int(sentinel.sum()):,} raster cells hold a no-data value the "
                f"file does not declare ({describe_values(data[sentinel])}); counted as no "
                f"people (declare it with gdal_edit.py -a_nodata to silence this)")
            valid &= ~sentinel

        def _where(mask):
            r, c = np.argwhere(mask)[0]
            return r, c, wt.c + (c + 0.5) * wt.a, wt.f + (r + 0.5) * wt.e

        bad = valid & ~(np.isfinite(data) & (data >= 0))
        if bad.any():
            r, c, lon_x, lat_y = _where(bad)
            raise ScenarioError(
                f"{int(bad.sum())} cell(s) with negative or NaN people, e.g. {data[r, c]!r} at "
                f"({lon_x:.5f}, {lat_y:.5f}) {src.crs.to_string()}; allowed: people per cell "
                f">= 0, or the raster's nodata value ({nodata!r}) for no data",
                file=str(path), key=key, value=float(data[r, c]))
        data = np.where(valid, data, 0.0)
        cell_m2 = _source_cell_area_m2(src.crs, wt, data.shape[0])
        dense = data / cell_m2 * 1e6 > MAX_DENSITY_PER_KM2
        if dense.any():
            r, c, lon_x, lat_y = _where(dense)
            area_km2 = float(np.broadcast_to(cell_m2, data.shape)[r, c]) / 1e6
            raise ScenarioError(
                f"{int(dense.sum()):,} cell(s) hold more people than any place on Earth, e.g. "
                f"{data[r, c]:.6g} people in a {area_km2:.3g} km2 cell at ({lon_x:.5f}, "
                f"{lat_y:.5f}) {src.crs.to_string()} ({data[r, c] / area_km2:.3g} per km2); "
                f"allowed: at most {MAX_DENSITY_PER_KM2:,.0f} people per km2 (Kowloon Walled "
                "City, the densest place on record, held about 1.26 million per km2): check "
                "the raster's units and its nodata value", file=str(path), key=key,
                value=float(data[r, c]))
        source_total = float((data * _fraction_inside(to_shape(region_src), wt,
                                                      data)).sum())
        if source_total > MAX_TOTAL_PEOPLE:
            raise ScenarioError(
                f"the raster holds {source_total:,.0f} people inside the region; allowed: at "
                f"most {MAX_TOTAL_PEOPLE:,} (more than any country): check the raster's units",
                file=str(path), key=key, value=source_total)
        density = data / cell_m2
        del data
        est = np.zeros(grid.shape, np.float64)
        reproject(density, est, src_transform=wt, src_crs=src.crs, dst_transform=grid.transform,
                  dst_crs=grid.crs, resampling=Resampling.average, src_nodata=None,
                  dst_nodata=None)
        source_cell_m = float(np.sqrt(np.mean(np.broadcast_to(cell_m2, density.shape))))
        info = {"file": str(path), "crs": src.crs.to_string(),
                "resolution": [abs(src.transform.a), abs(src.transform.e)], "nodata": nodata,
                "source_cell_m": round(source_cell_m, 1)}
        inside_grid = ~geometry_mask([mapping(region)], out_shape=grid.shape,
                                     transform=grid.transform, all_touched=False)
        est *= grid.resolution_m ** 2
        est = np.where(inside_grid & np.isfinite(est) & (est > 0), est, 0.0)
        s = est.sum()
        if source_total > 0:
            if s > 0:
                est *= source_total / s
            elif inside_grid.any():
                est = np.where(inside_grid, source_total / inside_grid.sum(), 0.0)
        else:
            est[:] = 0.0
        if source_total > 0 and source_cell_m >= DISAGGREGATE_RATIO * grid.resolution_m:
            est, info["disaggregation"] = _spread_smoothly(est, density, wt, src.crs, grid,
                                                           inside_grid, source_cell_m)
        else:
            info["disaggregation"] = {"method": "area-weighted average"}
    info["warnings"] = warnings
    return est, source_total, info


def _source_cell_of_centres(grid: Grid, src_crs, wt, shape, *, rows_per_strip: int = 256):
    """Index (row-major in the window ``wt``, ``shape``) of the source cell that holds
    each grid cell's centre, -1 outside the window; intp, the grid's shape.

    Exact (pyproj transforms every centre, a strip of rows at a time to bound memory),
    unlike GDAL's nearest-neighbour warp, whose approximate transformer may move a centre
    by up to 1/8 of a source cell.
    """
    from pyproj import Transformer

    tr = Transformer.from_crs(grid.crs, src_crs, always_xy=True)
    xc = grid.x_centres()
    nr, nc = shape
    zones = np.empty(grid.shape, np.intp)
    for r0 in range(0, grid.nrows, rows_per_strip):
        yc = grid.y_centres(r0, min(r0 + rows_per_strip, grid.nrows))
        gx, gy = np.meshgrid(xc, yc)
        sx, sy = tr.transform(gx, gy)
        col = np.floor((np.asarray(sx) - wt.c) / wt.a)
        row = np.floor((np.asarray(sy) - wt.f) / wt.e)
        ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < nc) & (row >= 0) & \
            (row < nr)
        z = np.where(ok, row * nc + col, -1.0)
        zones[r0:r0 + yc.size] = z
    return zones


def _spread_smoothly(est, density, wt, src_crs, grid: Grid, inside, source_cell_m: float,
                     *, n_iter: int = PYCNO_ITERATIONS):
    """Step 6 of :func:`read_population_to_grid`: each source cell's people spread
    smoothly over the grid cells whose centre it holds. ``est`` is overwritten.

    Far finer grids (source cells more than 8 grid cells wide: 1 km people on a 40 m
    grid) first make the smooth surface on an intermediate grid of about 4 cells per
    source cell, with :data:`PYCNO_COARSE_ITERATIONS` steps (smoothing spreads about one
    cell a step, so the fine grid alone would need hundreds), and start the fine grid
    from its bilinear interpolation.
    """
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    from ..region.population import pycnophylactic

    nz = density.size
    zones = _source_cell_of_centres(grid, src_crs, wt, density.shape)
    mask = inside & (zones >= 0)
    zones[~mask] = nz                 # a dummy zone for cells outside (dropped below)
    zflat = zones.ravel()
    totals = np.bincount(zflat, weights=est.ravel(), minlength=nz + 1)
    lost = float(totals[nz])          # inside the region but no source cell: kept as is
    totals = totals[:nz]
    keep = inside & ~mask if lost > 0 else None
    kept = est[keep] if lost > 0 else None
    factor = int(source_cell_m / grid.resolution_m // INTERMEDIATE_CELLS_PER_SOURCE)
    steps = {}
    if factor >= 2:
        coarse = Grid(grid.crs, grid.x_min_m, grid.y_max_m, grid.resolution_m * factor,
                      -(-grid.nrows // factor), -(-grid.ncols // factor))
        est_c = _block_sum(est, factor)
        inside_c = _block_sum(inside, factor) > 0
        out_c, steps = _spread_smoothly(est_c, density, wt, src_crs, coarse, inside_c,
                                        source_cell_m, n_iter=PYCNO_COARSE_ITERATIONS)
        source, s_transform, s_crs = out_c / coarse.resolution_m ** 2, coarse.transform, \
            grid.crs
        del est_c, out_c, inside_c
    else:
        source, s_transform, s_crs = density, wt, src_crs
    # start: the bilinear interpolation of the source (or intermediate) densities, scaled
    # per source cell, written over ``est`` (not needed any more: less memory)
    start = est
    start[:] = 0.0
    reproject(source, start, src_transform=s_transform, src_crs=s_crs,
              dst_transform=grid.transform, dst_crs=grid.crs, resampling=Resampling.bilinear,
              src_nodata=None, dst_nodata=None)
    np.nan_to_num(start, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    start[(start < 0) | ~mask] = 0.0
    got = np.bincount(zflat, weights=start.ravel(), minlength=nz + 1)[:nz]
    # a source cell with people but no bilinear mass (all its cells at 0): spread evenly
    even = (got <= 0) & (totals > 0)
    if even.any():
        fill = mask & np.append(even, False)[zones]
        start[fill] = 1.0
        got = np.bincount(zflat, weights=start.ravel(), minlength=nz + 1)[:nz]
    scale = np.zeros(nz + 1)
    np.divide(totals, got, out=scale[:nz], where=got > 0)
    start *= np.take(scale, zones)
    del mask
    out, iterations, change = pycnophylactic(start, zones, totals, n_iter=n_iter,
                                             overwrite_initial=True)
    if lost > 0:  # grid cells inside the region with no source cell (cannot happen on a
        out[keep] += kept  # raster covering it): kept as they were
    info = {"method": "pycnophylactic (Tobler 1979)", "iterations": iterations,
            "last_change": round(change, 6)}
    if steps:
        info["intermediate"] = {"resolution_m": round(grid.resolution_m * factor, 3),
                                "iterations": steps["iterations"]}
    return out, info


def _block_sum(a: np.ndarray, n: int) -> np.ndarray:
    """Sums of ``n x n`` blocks of a 2-D array (the last ones cut by its edge), float64,
    a strip of ``n`` rows at a time."""
    nbr, nbc = -(-a.shape[0] // n), -(-a.shape[1] // n)
    starts = np.arange(0, a.shape[1], n)
    out = np.empty((nbr, nbc))
    for i in range(nbr):
        out[i] = np.add.reduceat(np.asarray(a[i * n:(i + 1) * n], np.float64).sum(axis=0),
                                 starts)
    return out


def read_dem_to_grid(path, grid: Grid, *, key: str = "terrain") -> np.ndarray:
    """Elevation [m] on ``grid`` from a DEM GeoTIFF in any CRS (bilinear resampling), for
    display (a hillshade under a map).

    Cells the DEM does not cover, its declared no-data and values outside
    :data:`simulator.io.dem.ELEVATION_RANGE_M` (undeclared sentinels such as -32768) are
    NaN. The scenario's terrain is read by :func:`simulator.io.dem.read_dem_to_grid`.
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    from ..errors import ScenarioError
    from .dem import ELEVATION_RANGE_M

    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise ScenarioError(f"not a readable raster ({str(exc).splitlines()[0]})",
                            file=str(path), key=key) from None
    with src:
        data = src.read(1).astype(np.float64)
        if src.nodata is not None:
            data[data == src.nodata] = np.nan
        lo, hi = ELEVATION_RANGE_M
        data[~((data >= lo) & (data <= hi))] = np.nan
        out = np.full(grid.shape, np.nan, np.float64)
        reproject(data, out, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=grid.transform, dst_crs=grid.crs,
                  resampling=Resampling.bilinear, dst_nodata=np.nan)
    return out
