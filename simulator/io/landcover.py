"""Land-cover rasters: reading class codes onto the grid by majority, writing clutter.tif.

:func:`read_landcover_to_grid` reprojects a land-cover GeoTIFF in any CRS (ESA WorldCover
10 m tiles are EPSG:4326) onto the scenario grid with GDAL's ``mode`` resampling: each
cell takes the class held by most of the source pixels that overlap it (majority; GDAL
counts a pixel cut by the cell's edge in both cells, which matters little when the pixels
are much smaller than the cells, as WorldCover's 10 m on a 100 m grid), never an average
of codes. The grid is done in strips of rows, each reading only the window of
the source it needs, so memory follows the strip, not the raster (a WorldCover tile is
36,000 pixels a side). Checks, each a one-line :class:`~simulator.errors.ScenarioError`
naming the file and the key: missing or unreadable file, no CRS, not integer codes, not
covering the region, cells of the region without data, and class codes that are not in
the class table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..region.grid import Grid

#: Code of a grid cell without land-cover data (reserved: not a class code).
NODATA_CODE = 65535
#: Grid rows reprojected at once.
STRIP_ROWS = 256


def read_landcover_to_grid(path: Path | str, grid: Grid, *, known_codes, band: int = 1,
                           region_mask: np.ndarray | None = None,
                           key: str = "clutter.raster.file",
                           scenario_file: str | None = None) -> tuple[np.ndarray, dict]:
    """Class code per grid cell from a land-cover raster, by majority (mode) resampling.

    Parameters
    ----------
    path : path-like
        GeoTIFF (or any raster GDAL reads) of integer class codes, any CRS.
    grid : Grid
    known_codes : iterable of int
        Codes of the class table; any other code inside the region is an error.
    band : int
        Band to read (1-based).
    region_mask : numpy.ndarray, optional
        bool, ``grid.shape``: the cells that must have a known class (default all).
    key, scenario_file : str
        Where the error messages point.

    Returns
    -------
    (numpy.ndarray, dict)
        uint16 codes (``grid.shape``; :data:`NODATA_CODE` outside ``region_mask`` where the
        raster has no data or an unknown code) and what the reader found (JSON-ready).

    Raises
    ------
    ScenarioError
        See the module docstring.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from affine import Affine
    from rasterio.warp import Resampling, reproject, transform_bounds
    from rasterio.windows import Window, from_bounds

    path = Path(path)
    where = dict(file=str(path), key=key, value=str(path))
    if not path.is_file():
        raise ScenarioError(f"land-cover raster {path} not found (paths are relative to the "
                            "scenario file's folder)", **where)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise ScenarioError(f"cannot read {path} as a raster ({str(exc).splitlines()[0]}); "
                            "allowed: a GeoTIFF of integer land-cover class codes (ESA "
                            "WorldCover by default)", **where) from None
    known = {int(c) for c in known_codes}
    with src:
        if not 1 <= band <= src.count:
            raise ScenarioError(f"the raster has {src.count} band(s), band {band} was asked; "
                                "set clutter.raster.band to one of them", **where)
        if src.crs is None:
            raise ScenarioError("the land-cover raster has no CRS; assign one (e.g. "
                                "gdal_edit.py -a_srs EPSG:4326) so it can be placed on the "
                                "region", **where)
        dtype = np.dtype(src.dtypes[band - 1])
        if dtype.kind not in "iu":
            raise ScenarioError(f"the raster holds {dtype.name} values; allowed: integer "
                                "class codes (ESA WorldCover: 10, 20, ... 100)", **where)
        left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds,
                                                    densify_pts=21)
        x0, y0, x1, y1 = grid.bounds
        if left > x0 or right < x1 or bottom > y0 or top < y1:
            cover = "does not overlap" if (right < x0 or left > x1 or top < y0 or bottom > y1) \
                else "does not fully cover"
            raise ScenarioError(f"the land-cover raster {cover} the region ({grid.crs} x "
                                f"{x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f}; raster spans x "
                                f"{left:.0f}..{right:.0f}, y {bottom:.0f}..{top:.0f}); allowed: "
                                "a raster covering the whole region (check "
                                "region.centre_lon_lat, width_km and height_km)", **where)
        src_nodata = src.nodata
        out = np.full(grid.shape, NODATA_CODE, np.uint16)
        full = Window(0, 0, src.width, src.height)
        res = grid.resolution_m
        try:
            for r0 in range(0, grid.nrows, STRIP_ROWS):
                r1 = min(r0 + STRIP_ROWS, grid.nrows)
                sb = (x0, grid.y_max_m - r1 * res, x1, grid.y_max_m - r0 * res)
                win = from_bounds(*transform_bounds(grid.crs, src.crs, *sb, densify_pts=21),
                                  transform=src.transform)
                win = win.round_offsets(op="floor").round_lengths(op="ceil")
                win = Window(win.col_off - 2, win.row_off - 2, win.width + 4, win.height + 4)
                win = win.intersection(full)
                data = src.read(band, window=win).astype(np.uint16)
                if src_nodata is not None and 0 <= src_nodata <= 65535:
                    data[data == np.uint16(src_nodata)] = NODATA_CODE
                dst = out[r0:r1]
                reproject(data, dst, src_transform=_window_transform(src.transform, win),
                          src_crs=src.crs, src_nodata=NODATA_CODE,
                          dst_transform=Affine(res, 0.0, grid.x_min_m, 0.0, -res,
                                               grid.y_max_m - r0 * res),
                          dst_crs=grid.crs, dst_nodata=NODATA_CODE,
                          resampling=Resampling.mode)
                out[r0:r1] = dst
        except RasterioIOError as exc:
            raise ScenarioError(f"the land-cover raster is truncated or corrupt "
                                f"({str(exc).splitlines()[0]}); allowed: a complete, readable "
                                "GeoTIFF (download or export it again)", **where) from None
        info = {"file": str(path), "crs": src.crs.to_string(),
                "pixel_size": [abs(src.transform.a), abs(src.transform.e)],
                "resampling": "mode (majority)"}
    region = np.ones(grid.shape, bool) if region_mask is None else np.asarray(region_mask, bool)
    missing = region & (out == NODATA_CODE)
    if missing.any():
        raise ScenarioError(f"{int(missing.sum()):,} of {int(region.sum()):,} cells of the "
                            "region have no land-cover data (no-data pixels"
                            + (f" = {src_nodata:g}" if src_nodata is not None else "")
                            + "); allowed: a raster with a class on the whole region",
                            **where)
    codes, counts = np.unique(out[region], return_counts=True)
    unknown = [int(c) for c in codes if int(c) not in known]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
        raise ScenarioError(f"class codes {shown} are not in the clutter class table "
                            f"(known: {', '.join(map(str, sorted(known)))}"
                            + ("; 0 is WorldCover's no-data" if 0 in unknown else "")
                            + "); add them under clutter.classes (code: {type: ..., height_m: "
                            "...}) or check the raster", **where)
    out[~region & ~np.isin(out, list(known))] = NODATA_CODE
    info["cells_by_code"] = {str(int(c)): int(n) for c, n in zip(codes, counts)}
    return out, info


def _window_transform(transform, win):
    """The affine transform of a window (rasterio's ``window_transform`` without the
    matrix ``*`` that newer ``affine`` releases deprecate)."""
    from affine import Affine

    shift = Affine.translation(win.col_off, win.row_off)
    return transform @ shift if hasattr(Affine, "__matmul__") else transform * shift


def colour_map(table: dict) -> dict:
    """GeoTIFF colour table {code: (r, g, b, 255)} of the classes that have a colour."""
    out = {}
    for code, c in table.items():
        if getattr(c, "colour", None):
            h = c.colour.lstrip("#")
            out[int(code)] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255)
    return out


def class_tags(table: dict, loss_lut_db) -> dict:
    """GeoTIFF band tags naming each class: ``class_<code>`` -> "name (type, R m, loss dB)"."""
    tags = {}
    for code, c in sorted(table.items()):
        h = "" if c.height_m is None else f", R {c.height_m:g} m"
        tags[f"class_{code}"] = (f"{c.name} ({c.type}{h}, {float(loss_lut_db[code]):.2f} dB "
                                 "median terminal loss)")
    return tags


CLUTTER_DESCRIPTION = ("land-cover class code per cell (clutter); the band tags class_<code> "
                       "name each class, its clutter type and its ITU-R P.2108 §3.1 median "
                       "terminal loss")


def write_clutter_geotiff(path: Path | str, layer) -> Path:
    """Write ``clutter.tif``: the class code per cell of a
    :class:`simulator.region.clutter.ClutterLayer`, with a colour table and the class names
    (band tags)."""
    import rasterio

    g = layer.grid
    arr = layer.classes
    path = Path(path)
    profile = dict(driver="GTiff", height=g.nrows, width=g.ncols, count=1,
                   dtype=arr.dtype.name, crs=g.crs, transform=g.transform, compress="deflate")
    if g.nrows >= 256 and g.ncols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
        dst.set_band_description(1, CLUTTER_DESCRIPTION)
        dst.update_tags(1, **class_tags(layer.table, layer.loss_lut_db))
        cmap = colour_map(layer.table)
        if cmap:
            dst.write_colormap(1, cmap)
    return path


def read_coarse_clutter(path: Path | str, layer, coarse_grid: Grid, factor: int, *,
                        strip_cells: int = 4_000_000):
    """The clutter of ``clutter.tif`` on a coarse display grid: each coarse cell takes the
    most frequent class of its ``factor x factor`` fine cells (ties: the smaller code).

    Reads the file strip by strip (about ``strip_cells`` fine cells at a time), for the
    map of a tiled run (:func:`simulator.pipeline.distributed.tiled_figures`). Returns a
    :class:`simulator.region.clutter.ClutterLayer` on ``coarse_grid`` with ``layer``'s
    table and losses.
    """
    import dataclasses

    import rasterio
    from rasterio.windows import Window

    f = int(factor)
    crows, ccols = coarse_grid.shape
    codes = sorted(layer.table)
    best = np.zeros((crows, ccols), np.uint16)
    best_n = np.full((crows, ccols), -1, np.int32)
    with rasterio.open(path) as src:
        nrows, ncols = src.height, src.width
        strip_rows = max(1, int(strip_cells) // max(ncols * f, 1)) * f
        counts = {}
        for r0 in range(0, nrows, strip_rows):
            h = min(strip_rows, nrows - r0)
            a = src.read(1, window=Window(0, r0, ncols, h))
            rows = -(-h // f) * f
            p = np.full((rows, ccols * f), NODATA_CODE, np.uint16)
            p[:h, :ncols] = a
            blocks = p.reshape(rows // f, f, ccols, f)
            cr = slice(r0 // f, r0 // f + rows // f)
            for c in codes:
                n = (blocks == c).sum(axis=(1, 3)).astype(np.int32)
                counts.setdefault(c, np.zeros((crows, ccols), np.int32))[cr] += n
    for c in codes:       # ascending codes: a tie keeps the smaller code
        n = counts.get(c)
        if n is None:
            continue
        take = n > best_n
        best[take] = c
        best_n[take] = n[take]
    return dataclasses.replace(layer, grid=coarse_grid, classes=best.astype(layer.classes.dtype))
