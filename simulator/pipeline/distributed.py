"""Country scale: runs written tile by tile in bounded memory, on one process or on Dask.

:func:`run_tiled` is the pipeline (:func:`simulator.pipeline.flow.execute`) with the GeoTIFF
sink: each tile's windows are written as they arrive (:class:`simulator.io.streaming.
TiledRasterWriter`), into a temporary folder renamed at the end
(:func:`simulator.io.results.atomic_folder`), and the driver keeps only the inputs (people
as int32, 4 bytes a cell; the DEM on a terrain) and the exact sums of
:mod:`simulator.pipeline.reduction`. The executor is this process, or Dask workers
(:func:`connect`: a ``LocalCluster``, or any scheduler). summary.json is byte-identical to
the in-memory run's (:func:`simulator.pipeline.runner.run`, the same flow with the memory
sink), whatever the tile size or the number of workers.

With a terrain method (``itm``, ``deygout``, ``bullington``, ``delta_bullington``) the site
pass (:mod:`simulator.pipeline.site_pass`) reduces every site's disc into ``numpy.memmap``
files in a temporary folder (deleted at the end, also on failure) before the tiles take
their windows of them.

Memory: :mod:`simulator.pipeline.resources` (``estimate_for_scenario(mode="tiled")``, the one
estimator), checked before any work.
"""

from __future__ import annotations

from typing import Callable

from . import resources
from .executors import connect, executor_for, n_workers  # noqa: F401  (public here)
from .result import ScenarioResult, TiledResult  # noqa: F401  (TiledResult: an alias)
from .tiles import FIXED_POINT_BITS, raster_specs, tile_task  # noqa: F401

#: Kept for older code: :func:`simulator.pipeline.resources.choose_mode`.
choose_mode = resources.choose_mode
TILED_AUTO_CELLS = resources.TILED_AUTO_CELLS
site_bytes = resources.site_bytes


def estimate_memory_bytes(scenario, mode: str) -> int:
    """Planned memory of a run [bytes] for ``mode`` "memory" or "tiled":
    :func:`simulator.pipeline.resources.estimate_for_scenario` (the one estimator)."""
    return resources.estimate_for_scenario(scenario, mode=mode).peak_memory_bytes


def check_memory(scenario, mode: str = "memory") -> None:
    """Refuse a run whose planned memory exceeds what is left (ScenarioError, one line):
    :func:`simulator.pipeline.resources.check_resources`."""
    resources.check_resources(scenario, mode=mode)


def run_tiled(scenario, *, out_dir=None, overwrite: bool = False, client=None,
              tile_size_cells: int | None = None, progress: Callable[[int, int], None] | None
              = None, write_rasters: bool = True, retries: int = 2,
              max_in_flight: int | None = None,
              site_progress: Callable[[int, int], None] | None = None,
              scratch_dir=None, maps: bool | None = None) -> ScenarioResult:
    """Run a scenario tile by tile in bounded memory, serially or on a Dask client.

    Parameters
    ----------
    scenario : Scenario
    out_dir : path-like, optional
        Write the results folder here (atomically): summary.json/.csv, the rasters (tile by
        tile), sites.geojson, scenario.yaml, coverage_map.png, rx_cdf.png and report.html
        (drawn from the rasters just written, coarsened: :mod:`simulator.io.coarse`),
        manifest.json and run_info.json. None: compute the numbers only.
    overwrite : bool
        Replace an existing ``out_dir``.
    client : distributed.Client, optional
        Run the sites of the site pass and the tiles as Dask tasks on this client (see
        :func:`connect`); None runs them in this process. Results do not depend on it.
    tile_size_cells : int, optional
        Override ``region.tile_size_cells`` (results do not depend on it).
    progress : callable, optional
        ``progress(done_tiles, total_tiles)``.
    write_rasters : bool
        Write the GeoTIFFs (only with ``out_dir``).
    retries : int
        Dask retries of a failed tile or site (a worker that died) before the run fails.
    max_in_flight : int, optional
        Tiles (or sites) submitted but not yet collected (bounds the driver's memory);
        default ``2 x workers + 2``.
    site_progress : callable, optional
        ``site_progress(done_sites, total_sites)`` during the site pass.
    scratch_dir : path-like, optional
        Where the site pass's temporary folder goes
        (:func:`simulator.pipeline.site_pass.scratch_bytes` of disk); default beside
        ``out_dir``, else the system's temporary folder.
    maps : bool, optional
        Draw coverage_map.png and rx_cdf.png (also embedded in report.html); default
        ``outputs.maps`` of the scenario, as :meth:`ScenarioResult.save`. They need the
        rasters (``write_rasters``). report.html is written unless ``outputs.report`` is
        false.

    Returns
    -------
    ScenarioResult
        ``mode == "tiled"``: numbers and per-site results, no region arrays (the rasters
        are in ``out_dir``).

    Raises
    ------
    ScenarioError
        Bad scenario, not enough memory or scratch disk, or a tile or site that failed
        after its retries.
    """
    from .flow import execute

    return execute(scenario, executor=executor_for(client, retries=retries,
                                                   max_in_flight=max_in_flight),
                   sink="raster", out_dir=out_dir, overwrite=overwrite,
                   tile_size_cells=tile_size_cells, progress=progress,
                   site_progress=site_progress, scratch_dir=scratch_dir, maps=maps,
                   write_rasters=write_rasters)
