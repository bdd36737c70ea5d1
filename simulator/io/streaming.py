"""Rasters written tile by tile: the region is never assembled in memory.

:class:`TiledRasterWriter` opens one tiled, deflate-compressed GeoTIFF per output and
writes each tile's window as it arrives (in any order). With ``cloud_optimised=True`` each
file is then converted to a Cloud Optimized GeoTIFF (:func:`to_cog`: GDAL's COG driver
through rasterio's ``copy``), which streams block by block with overviews; GDAL's block
cache bounds the memory of both steps. An in-memory run's GeoTIFFs use the same
:func:`to_cog` (:mod:`simulator.io.results`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..region.grid import Grid, Tile


#: Rasters left as they are outside the region boundary (input data, not results).
UNMASKED = frozenset({"terrain.tif", "clutter.tif"})


def _overview_resampling(categories) -> str:
    """COG overview resampling: the most common value for categories, else the average."""
    return "MODE" if categories else "AVERAGE"


@dataclass(frozen=True)
class RasterSpec:
    """One output raster: file name, dtype, no-data value, band description and units."""

    name: str
    dtype: str
    nodata: float | int | None = None
    description: str = ""
    units: str = ""
    colormap: dict | None = None  # {value: (r, g, b, a)}: GeoTIFF colour table
    tags: dict | None = None      # band metadata (e.g. class names)


def block_size_for(tile_size_cells: int) -> int:
    """GeoTIFF block side [cells]: the tile size when it is a multiple of 16 below 256
    (each tile then fills whole blocks), else 256 (GeoTIFF blocks are multiples of 16)."""
    if tile_size_cells < 256 and tile_size_cells % 16 == 0:
        return tile_size_cells
    return 256


def to_cog(path, *, categories=None) -> Path:
    """Convert a GeoTIFF to a Cloud Optimized GeoTIFF in place (GDAL's COG driver through
    rasterio's ``copy``: block by block, deflate, overviews averaged, or the most common
    value for a categorical raster (``categories``)). Used by every run, in memory and
    tiled."""
    import rasterio.shutil

    path = Path(path)
    tmp = path.with_name(f".{path.name}.cog")
    rasterio.shutil.copy(path, tmp, driver="COG", compress="DEFLATE", BIGTIFF="IF_SAFER",
                         OVERVIEWS="AUTO", BLOCKSIZE=256,
                         RESAMPLING=_overview_resampling(categories))
    os.replace(tmp, path)
    return path


class TiledRasterWriter:
    """Write several single-band GeoTIFFs on ``grid`` window by window.

    Parameters
    ----------
    folder : path-like
        Where the files go (``<spec.name>``).
    grid : Grid
        CRS, transform and shape of every file.
    specs : list of RasterSpec
    block_size : int
        Internal tile (block) side of the GeoTIFFs, a multiple of 16 [cells].
    cloud_optimised : bool
        Convert each file to a Cloud Optimized GeoTIFF on :meth:`close` (with overviews,
        GDAL's COG driver).
    boundary : shapely geometry, optional
        The region boundary in the grid CRS: cells whose centre is outside it are written
        as no-data in every raster but ``terrain.tif`` (as the in-memory run's
        :func:`simulator.io.rasters.write_geotiff` does).
    site_names : sequence of str, optional
        Category names of ``best_server.tif``.

    Categorical rasters get a colour table and category names
    (:func:`simulator.io.rasters.raster_categories`); units are GDAL's band unit type.
    """

    def __init__(self, folder, grid: Grid, specs, *, block_size: int = 256,
                 cloud_optimised: bool = False, boundary=None, site_names=None):
        import rasterio

        from .rasters import apply_categories, outside_nodata, raster_categories

        self.folder = Path(folder)
        self.grid = grid
        self.specs = {s.name: s for s in specs}
        self.cloud_optimised = cloud_optimised
        self.boundary = boundary
        self._dst = {}
        self._categories = {}
        self._nodata = {}
        tiled = grid.nrows >= block_size and grid.ncols >= block_size
        try:
            for s in specs:
                nodata = s.nodata
                if boundary is not None and s.name not in UNMASKED and nodata is None:
                    nodata = outside_nodata(s.dtype)
                self._nodata[s.name] = nodata
                profile = dict(driver="GTiff", height=grid.nrows, width=grid.ncols, count=1,
                               dtype=s.dtype, crs=grid.crs, transform=grid.transform,
                               compress="deflate", nodata=nodata, BIGTIFF="IF_SAFER")
                if tiled:
                    profile.update(tiled=True, blockxsize=block_size, blockysize=block_size)
                dst = rasterio.open(self.folder / s.name, "w", **profile)
                self._dst[s.name] = dst
                if s.description:
                    dst.set_band_description(1, s.description)
                if s.units:
                    dst.units = (s.units,)
                if s.tags:
                    dst.update_tags(1, **s.tags)
                if s.colormap:
                    dst.write_colormap(1, s.colormap)
                cats = raster_categories(s.name, site_names=site_names)
                self._categories[s.name] = cats
                apply_categories(dst, self.folder / s.name, cats)
        except BaseException:
            self.abort()
            raise

    def _outside(self, tile: Tile) -> np.ndarray | None:
        """bool mask of the tile's cells outside the boundary (None: all inside)."""
        if self.boundary is None:
            return None
        from affine import Affine
        from rasterio.features import geometry_mask
        from shapely.geometry import mapping

        g = self.grid
        t = Affine(g.resolution_m, 0.0, g.x_min_m + tile.col0 * g.resolution_m, 0.0,
                   -g.resolution_m, g.y_max_m - tile.row0 * g.resolution_m)
        out = geometry_mask([mapping(self.boundary)], out_shape=tile.shape, transform=t,
                            all_touched=False)
        return out if out.any() else None

    def write(self, name: str, tile: Tile, array: np.ndarray, *, outside=None) -> None:
        """Write one tile's window of raster ``name`` (array of the tile's shape);
        ``outside``: the tile's mask outside the boundary (None: computed, False: none)."""
        from rasterio.windows import Window

        spec = self.specs[name]
        if array.shape != tile.shape:
            raise ValueError(f"{name}: array shape {array.shape} does not match the tile "
                             f"{tile.shape}")
        win = Window(tile.col0, tile.row0, tile.col1 - tile.col0, tile.row1 - tile.row0)
        data = np.asarray(array, dtype=spec.dtype)
        if outside is None:
            outside = self._outside(tile)
        elif outside is False:
            outside = None
        if outside is not None and name not in UNMASKED:
            data = np.where(outside, np.array(self._nodata[name]).astype(spec.dtype), data)
        self._dst[name].write(data, 1, window=win)

    def write_tile(self, tile: Tile, arrays: dict) -> None:
        """Write the windows of every raster present in ``arrays`` (name -> array)."""
        outside = self._outside(tile)
        for name, arr in arrays.items():
            self.write(name, tile, arr, outside=outside if outside is not None else False)

    def abort(self) -> None:
        """Close every file without converting (the caller discards the folder)."""
        for dst in self._dst.values():
            try:
                dst.close()
            except Exception:  # pragma: no cover - best effort on the error path
                pass
        self._dst = {}

    def close(self) -> list[Path]:
        """Close every file (and convert to COG when asked); returns the paths."""
        from .rasters import write_category_sidecar

        paths = []
        for name, dst in list(self._dst.items()):
            dst.close()
            path = self.folder / name
            if self.cloud_optimised:
                to_cog(path, categories=self._categories.get(name))
            write_category_sidecar(path, self._categories.get(name))
            paths.append(path)
        self._dst = {}
        return paths

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
