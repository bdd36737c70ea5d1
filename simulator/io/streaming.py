"""Rasters written tile by tile: the region is never assembled in memory.

:class:`TiledRasterWriter` opens one tiled, deflate-compressed GeoTIFF per output and
writes each tile's window as it arrives (in any order). With ``cloud_optimised=True`` each
file is then converted to a Cloud Optimized GeoTIFF with GDAL's COG driver (rasterio's
``copy``), which streams block by block with overviews; GDAL's block cache bounds the
memory of both steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..region.grid import Grid, Tile


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
        Convert each file to a Cloud Optimized GeoTIFF on :meth:`close`.
    """

    def __init__(self, folder, grid: Grid, specs, *, block_size: int = 256,
                 cloud_optimised: bool = False):
        import rasterio

        self.folder = Path(folder)
        self.grid = grid
        self.specs = {s.name: s for s in specs}
        self.cloud_optimised = cloud_optimised
        self._dst = {}
        tiled = grid.nrows >= block_size and grid.ncols >= block_size
        try:
            for s in specs:
                profile = dict(driver="GTiff", height=grid.nrows, width=grid.ncols, count=1,
                               dtype=s.dtype, crs=grid.crs, transform=grid.transform,
                               compress="deflate", nodata=s.nodata, BIGTIFF="IF_SAFER")
                if tiled:
                    profile.update(tiled=True, blockxsize=block_size, blockysize=block_size)
                dst = rasterio.open(self.folder / s.name, "w", **profile)
                self._dst[s.name] = dst
                if s.description:
                    dst.set_band_description(1, s.description)
                if s.units:
                    dst.update_tags(1, units=s.units)
                if s.tags:
                    dst.update_tags(1, **s.tags)
                if s.colormap:
                    dst.write_colormap(1, s.colormap)
        except BaseException:
            self.abort()
            raise

    def write(self, name: str, tile: Tile, array: np.ndarray) -> None:
        """Write one tile's window of raster ``name`` (array of the tile's shape)."""
        from rasterio.windows import Window

        spec = self.specs[name]
        if array.shape != tile.shape:
            raise ValueError(f"{name}: array shape {array.shape} does not match the tile "
                             f"{tile.shape}")
        win = Window(tile.col0, tile.row0, tile.col1 - tile.col0, tile.row1 - tile.row0)
        self._dst[name].write(np.asarray(array, dtype=spec.dtype), 1, window=win)

    def write_tile(self, tile: Tile, arrays: dict) -> None:
        """Write the windows of every raster present in ``arrays`` (name -> array)."""
        for name, arr in arrays.items():
            self.write(name, tile, arr)

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
        import rasterio.shutil

        paths = []
        for name, dst in list(self._dst.items()):
            dst.close()
            path = self.folder / name
            if self.cloud_optimised:
                tmp = path.with_name(f".{name}.cog")
                rasterio.shutil.copy(path, tmp, driver="COG", compress="DEFLATE",
                                     BIGTIFF="IF_SAFER")
                os.replace(tmp, path)
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
