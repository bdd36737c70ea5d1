"""Sinks: where the tile pass's windows go (region arrays in memory, or GeoTIFFs on disk).

* :class:`MemorySink` assembles the windows into region-sized arrays (the in-memory
  :class:`~simulator.pipeline.result.ScenarioResult`: fields, serving arrays, the
  baseline; about 280 bytes a cell);
* :class:`RasterSink` writes each window into its GeoTIFF as it arrives
  (:class:`simulator.io.streaming.TiledRasterWriter`), so the region is never assembled:
  memory follows the tile, not the region.

Both take the same :meth:`write` calls in any tile order.
"""

from __future__ import annotations

import numpy as np

from .tiles import FIELD_ARRAYS, SERVING_ARRAYS

#: dtype and fill of each region array of an in-memory result (fill: cells no tile wrote,
#: which cannot happen: every cell is in one tile).
_MEMORY_ARRAYS = {
    "fields.rx_dbm": (np.float32, np.nan), "fields.best_server": (np.int32, -1),
    "fields.path_loss_db": (np.float32, np.nan),
    "fields.interference_dbm": (np.float32, -np.inf),
    "base.rx_dbm": (np.float32, np.nan), "base.best_server": (np.int32, -1),
    "base.path_loss_db": (np.float32, np.nan), "base.interference_dbm": (np.float32, -np.inf),
    "covered": (bool, False), "covered_existing": (bool, False),
    "serving.dl_margin_db": (np.float32, np.nan), "serving.ul_rx_dbm": (np.float32, np.nan),
    "serving.ul_margin_db": (np.float32, np.nan), "serving.sinr_db": (np.float32, np.nan),
    "serving.throughput_mbps": (np.float32, 0.0), "serving.covered_outdoor": (bool, False),
    "serving.covered_indoor": (bool, False), "serving.covered_dl_outdoor": (bool, False),
    "serving.people_covered": (np.int64, 0), "serving.coverage_probability": (np.float32, 0.0),
    "serving.people_covered_expected": (np.float64, 0.0), "serving.limitation": (np.uint8, 4),
    "serving.line_of_sight": (bool, False),
}


class MemorySink:
    """Region arrays assembled from the tiles' windows.

    Parameters
    ----------
    shape : tuple
        The grid's shape.
    names : iterable of str, optional
        The arrays to keep (default every array of an in-memory result).
    """

    def __init__(self, shape, names=None):
        self.shape = tuple(shape)
        self.names = tuple(_MEMORY_ARRAYS) if names is None else tuple(names)
        self.arrays: dict[str, np.ndarray] = {}

    @staticmethod
    def default_names(*, base: bool, interference: bool, line_of_sight: bool) -> tuple:
        """The windows an in-memory result needs."""
        names = [f"fields.{n}" for n in FIELD_ARRAYS if interference or n != "interference_dbm"]
        if base:
            names += [f"base.{n}" for n in FIELD_ARRAYS
                      if interference or n != "interference_dbm"]
        names += ["covered", "covered_existing"]
        names += [f"serving.{n}" for n in SERVING_ARRAYS
                  if line_of_sight or n != "line_of_sight"]
        return tuple(names)

    def write(self, tile, windows: dict) -> None:
        sl = tile.slices
        for name, arr in windows.items():
            if name not in self.names:
                continue
            dst = self.arrays.get(name)
            if dst is None:
                dtype, fill = _MEMORY_ARRAYS.get(name, (arr.dtype, 0))
                dst = self.arrays[name] = np.full(self.shape, fill, dtype)
            dst[sl] = arr

    def close(self) -> dict:
        return self.arrays

    def abort(self) -> None:
        self.arrays = {}


class RasterSink:
    """GeoTIFF windows written as tiles arrive (see :class:`simulator.io.streaming.
    TiledRasterWriter`); ``cloud_optimised`` converts each file to a COG on close.

    The windows are written by one background thread, at most ``queue_tiles`` tiles
    behind the tile pass: GDAL compresses (deflate) without holding the interpreter, so
    writing overlaps with the next tiles' computation. Only that thread touches the
    files; an error in it is raised by the next :meth:`write` or by :meth:`close`.
    """

    def __init__(self, folder, grid, specs, *, block_size: int, cloud_optimised: bool,
                 boundary=None, site_names=None, queue_tiles: int = 4):
        import queue
        import threading

        from ..io.streaming import TiledRasterWriter

        self.names = tuple(s.name for s in specs)
        self.writer = TiledRasterWriter(folder, grid, specs, block_size=block_size,
                                        cloud_optimised=cloud_optimised, boundary=boundary,
                                        site_names=site_names)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(queue_tiles)))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="ruralsim-raster-writer",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self.writer.write_tile(*item)
                except BaseException as exc:   # handed to the tile pass's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def write(self, tile, windows: dict) -> None:
        self._raise()
        self._queue.put((tile, {k: v for k, v in windows.items() if k in self.names}))

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def close(self):
        self._stop()
        self._raise()
        return self.writer.close()

    def abort(self) -> None:
        self._stop()
        self.writer.abort()
