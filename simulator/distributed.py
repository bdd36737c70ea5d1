"""Country scale: tiled runs in bounded memory, on one process or on a Dask cluster.

The in-memory :func:`simulator.runner.run` keeps region-sized arrays (about 280 bytes a
cell). :func:`run_tiled` instead sends each tile through the engine and the serving stage
on its own (:func:`tile_task`) and keeps only what must be added up over the region:

* integer sums (people, people covered, per cause, per service, covered cells ...),
* per-site sums: people covered per best server, and the two terms of the capacity load
  (:func:`simulator.capacity.site_load`): people attached and people / spectral efficiency,
* the expected people covered (a float sum).

Float sums are made exact and order-free: each cell's term is rounded to a multiple of
2**-24 (:data:`FIXED_POINT_BITS`) and added as int64. Integer addition is associative, so
tiles can be summed in any order, on any number of workers, with any tile size, and
summary.json is byte-identical. (The in-memory run adds the same terms in float64; the
two agree to about 1e-9 relative, which only a rounding to 0.1 person can show.)

The site loads need every tile, so they are computed at the end from the per-site sums;
the people served at busy hour are ``sum_s attached_s x min(1, 1/load_s)``, which is what
the per-cell sum adds up to. No second pass over the cells is needed.

Each tile's raster windows are written as it arrives (:class:`simulator.io.streaming.
TiledRasterWriter`), into a temporary folder renamed at the end
(:func:`simulator.io.results.atomic_folder`): a failed run leaves no results folder.

Population: the synthetic generator (or the raster reader) runs once on the driver, as in
the in-memory run, so the people per cell are the same whatever the tiling; the driver
keeps them as int32 (4 bytes a cell: 200 MB for 50 million cells) and sends each task its
tile's window. Generation itself peaks at about 30 bytes a cell.

Dask: :func:`connect` opens a ``LocalCluster`` (``workers`` processes, one thread each) or a
``Client`` on a scheduler address; tasks are submitted with ``retries`` so a worker that dies
is replaced and its tile recomputed; a tile that still fails stops the run with one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import resources
from .errors import ScenarioError
from .grid import Grid, Tile

#: Cell terms of float sums are rounded to multiples of 2**-FIXED_POINT_BITS and summed as
#: int64 (exact and order-free). 2**-24 is 6e-8 person; int64 holds 5e11 at this scale.
FIXED_POINT_BITS = 24
_SCALE = float(2 ** FIXED_POINT_BITS)
_MAX_TERM = 2.0 ** 62 / _SCALE / 65536.0

#: Driver memory of a tiled run: population generation transients (int64 grid, a float64
#: bincount and its int64 copy) and the int32 people kept, plus the region mask.
BYTES_PER_CELL_TILED_DRIVER = 30
#: Engine working set per site-cell pair of a tile (float32 offsets, distance, loss, signal,
#: antenna gain and their temporaries).
BYTES_PER_PAIR = 64
#: ``mode="auto"`` runs tiled above this many cells even when memory would allow.
TILED_AUTO_CELLS = 20_000_000
#: Share of the available memory a run may plan to use.
MEMORY_SHARE = 0.8


# --------------------------------------------------------------------------- memory guard
def _available() -> float:
    """Memory this process may still use [bytes] (:mod:`simulator.resources`), inf if the
    system cannot tell."""
    avail = resources.available_memory_bytes()
    return float("inf") if avail is None else float(avail)


def _grid_cells(scenario) -> int:
    r = scenario.region
    return int(round(r.width_km * 1000.0 / r.resolution_m)) * int(
        round(r.height_km * 1000.0 / r.resolution_m))


def estimate_memory_bytes(scenario, mode: str) -> int:
    """Planned peak memory of a run [bytes]: ``mode`` "memory" (the whole region's arrays:
    :func:`simulator.resources.estimate_for_scenario`, the one estimator of in-memory runs)
    or "tiled" (the driver: people per cell and the region mask; tile tasks come on top)."""
    if mode == "memory":
        return resources.estimate_for_scenario(scenario).peak_memory_bytes
    return _grid_cells(scenario) * BYTES_PER_CELL_TILED_DRIVER


def _gb(b: float) -> str:
    return f"{b / 2**30:.1f} GB"


def check_memory(scenario, mode: str = "memory") -> None:
    """Refuse a run whose planned memory exceeds what is left (ScenarioError, one line).

    Called before any work, so the operating system never has to kill the run. The
    in-memory check is :func:`simulator.resources.check_resources`.
    """
    if mode == "memory":
        resources.check_resources(scenario)
        return
    need = estimate_memory_bytes(scenario, mode)
    avail = _available()
    if need <= MEMORY_SHARE * avail:
        return
    src = str(scenario.source_path) if scenario.source_path else None
    raise ScenarioError(
        f"{_grid_cells(scenario):,} cells need about {_gb(need)} of memory even tiled "
        f"(people per cell on the driver) and {_gb(avail)} is available; use a coarser "
        "region.resolution_m", file=src, key="region.resolution_m")


def choose_mode(scenario, requested: str = "auto") -> str:
    """"memory" or "tiled": "auto" goes tiled above :data:`TILED_AUTO_CELLS` cells or when
    the in-memory run would not fit in the memory left."""
    if requested in ("memory", "tiled"):
        return requested
    if requested != "auto":
        raise ValueError(f"mode={requested!r} is not allowed; allowed: auto, memory, tiled")
    if _grid_cells(scenario) > TILED_AUTO_CELLS:
        return "tiled"
    if estimate_memory_bytes(scenario, "memory") > MEMORY_SHARE * _available():
        return "tiled"
    return "memory"


# --------------------------------------------------------------------------- tile task
@dataclass(frozen=True)
class TileJob:
    """What every tile task shares (sent once to each worker)."""

    grid: Grid
    sa: object                    # engine.SiteArrays of all sites
    sa_base: object               # engine.SiteArrays of the existing sites
    technology: object
    model: object
    ue_height_m: float
    params: object                # serving.ServingParams
    channel: np.ndarray | None
    channel_base: np.ndarray | None
    services: tuple               # ((name, min Mbit/s or None), ...)
    boundary: object = None       # shapely geometry in the grid CRS, or None
    rasters: bool = True


@dataclass
class TileOutput:
    """What one tile sends back: integer sums, per-site sums and its raster windows."""

    index: int
    ints: dict                    # name -> int (exact)
    causes: dict                  # limitation code -> people
    services: dict                # service name -> people
    site_ids: np.ndarray          # sites that serve someone in the tile (int64)
    site_people: np.ndarray       # people covered per such site (int64)
    site_attached: np.ndarray     # people attached (SE > 0) per such site (int64)
    site_over_se_q: np.ndarray    # people / SE per such site, fixed point (int64)
    rasters: dict = field(default_factory=dict)


def _fixed(values: np.ndarray) -> np.ndarray:
    """Float terms -> int64 multiples of 2**-FIXED_POINT_BITS (exactly summable)."""
    v = np.asarray(values, np.float64)
    if v.size and not float(np.abs(v).max()) < _MAX_TERM:
        raise ValueError(f"a per-cell term {float(np.abs(v).max()):.3g} is too large for "
                         f"the fixed-point sums (limit {_MAX_TERM:.3g})")
    return np.rint(v * _SCALE).astype(np.int64)


def _per_site_int_sums(ids: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of ``values`` grouped by ``ids`` (0 <= ids < n)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, ids, values.astype(np.int64))
    return out


def tile_region_mask(grid: Grid, tile: Tile, boundary) -> np.ndarray:
    """bool mask of the tile's cells whose centre is inside ``boundary`` (all if None);
    the same rasterisation as the whole-region mask of :func:`simulator.runner.make_boundary`."""
    if boundary is None:
        return np.ones(tile.shape, bool)
    from affine import Affine
    from rasterio.features import geometry_mask
    from shapely.geometry import mapping

    transform = grid.transform * Affine.translation(tile.col0, tile.row0)
    return ~geometry_mask([mapping(boundary)], out_shape=tile.shape, transform=transform,
                          all_touched=False)


def tile_task(job: TileJob, index: int, tile: Tile, people: np.ndarray, idx: np.ndarray,
              idx_base: np.ndarray) -> TileOutput:
    """Engine, serving and the tile's sums for one tile (pure: no I/O).

    Each cell gets the arithmetic of the in-memory run (:func:`simulator.engine.
    compute_tile` then :func:`simulator.serving.serve`), so integer results are identical.
    """
    from .capacity import shannon_throughput_bps_per_hz
    from .engine import CoverageFields, compute_tile
    from .serving import serve

    tech, params = job.technology, job.params
    people = np.asarray(people).astype(np.int64)
    fields = CoverageFields(*compute_tile(job.grid, tile, job.sa, idx, tech, job.model,
                                          job.ue_height_m, job.channel))
    # n_sites=0: no per-tile capacity (the loads need the whole region; done at the end)
    sv = serve(fields, job.sa.tx_metric_dbm, people, tech, params, 0)
    inside = tile_region_mask(job.grid, tile, job.boundary)
    ints = {
        "population": int(people.sum()),
        "covered": int(sv.people_covered.sum()),
        "expected_q": int(_fixed(sv.people_covered_expected).sum()),
        "downlink_only": int(people[sv.covered_dl_outdoor].sum()),
        "covered_cells": int((sv.covered_outdoor & inside).sum()),
        "region_cells": int(inside.sum()),
    }
    services = {}
    for name, need in job.services:
        ok = sv.people_covered if need is None else np.where(
            sv.throughput_mbps >= need, sv.people_covered, 0)
        services[name] = int(ok.sum())
    # per-site sums: people covered per best server, and site_load's two sums
    best = fields.best_server
    cov = sv.people_covered > 0
    ids = best[cov].astype(np.int64)
    ppl = sv.people_covered[cov]
    if tech.carries_data:
        reach = best >= 0
        se = shannon_throughput_bps_per_hz(np.nan_to_num(sv.sinr_db, nan=-np.inf),
                                           alpha=tech.shannon_alpha,
                                           sinr_min_db=tech.shannon_sinr_min_db,
                                           max_bps_per_hz=tech.shannon_max_bps_per_hz)
        se = np.where(reach, se, 0.0)[cov]
        attached = se > 0
        inv_se = np.zeros_like(se)
        np.divide(1.0, se, out=inv_se, where=attached)
        w = np.where(attached, ppl, 0).astype(np.float64)
        over_se_q = _fixed(w * inv_se)
        att = np.where(attached, ppl, 0)
    else:
        over_se_q = np.zeros(ppl.shape, np.int64)
        att = np.zeros(ppl.shape, np.int64)
    uniq, inv = np.unique(ids, return_inverse=True)
    n = len(uniq)
    site_people = _per_site_int_sums(inv, ppl, n)
    site_attached = _per_site_int_sums(inv, att, n)
    site_over = _per_site_int_sums(inv, over_se_q, n)
    # baseline: the existing sites alone
    if len(job.sa_base):
        bf = CoverageFields(*compute_tile(job.grid, tile, job.sa_base, idx_base, tech,
                                          job.model, job.ue_height_m, job.channel_base))
        bsv = serve(bf, job.sa_base.tx_metric_dbm, people, tech, params, 0)
        ints["existing"] = int(bsv.people_covered.sum())
    else:
        ints["existing"] = 0
    rasters = {}
    if job.rasters:
        rasters = {
            "population.tif": people.astype(np.int32),
            "rx_power_dbm.tif": fields.rx_dbm,
            "best_server.tif": best,
            "covered.tif": (sv.covered_outdoor & inside).astype(np.uint8),
            "path_loss_db.tif": fields.path_loss_db,
            "sinr_db.tif": np.where(best >= 0, sv.sinr_db, np.float32(np.nan)).astype(
                np.float32),
            "coverage_probability.tif": sv.coverage_probability,
            "limitation.tif": sv.limitation,
        }
        if tech.carries_data:
            rasters["throughput_mbps.tif"] = sv.throughput_mbps
    return TileOutput(index=index, ints=ints, causes=dict(sv.uncovered_by_cause),
                      services=services, site_ids=uniq, site_people=site_people,
                      site_attached=site_attached, site_over_se_q=site_over, rasters=rasters)


def raster_specs(technology) -> list:
    """The rasters a tiled run writes (the in-memory run's set without terrain)."""
    from .io.streaming import RasterSpec

    metric = technology.signal_metric.upper()
    specs = [
        RasterSpec("population.tif", "int32", None, "people per cell", "people"),
        RasterSpec("rx_power_dbm.tif", "float32", float("nan"),
                   f"best-server downlink {metric} [dBm]", "dBm"),
        RasterSpec("best_server.tif", "int32", -1,
                   "best-server site index (sites.geojson order), -1 none"),
        RasterSpec("covered.tif", "uint8", None,
                   "1 where the downlink closes with the fade margin"),
        RasterSpec("path_loss_db.tif", "float32", float("nan"),
                   "path loss from the best server [dB]", "dB"),
        RasterSpec("sinr_db.tif", "float32", float("nan"),
                   "downlink SINR at the best server [dB]", "dB"),
        RasterSpec("coverage_probability.tif", "float32", None,
                   "probability that an outdoor location is covered (downlink and uplink, "
                   "log-normal shadowing)"),
        RasterSpec("limitation.tif", "uint8", None,
                   "0 covered, 1 downlink-limited, 2 uplink-limited, 3 interference-limited, "
                   "4 no site within reach, 5 terrain-limited (no line of sight)"),
    ]
    if technology.carries_data:
        specs.append(RasterSpec("throughput_mbps.tif", "float32", float("nan"),
                                "single-user downlink throughput, TR 36.942 truncated Shannon "
                                "[Mbit/s]", "Mbit/s"))
    return specs


# --------------------------------------------------------------------------- reduction
class _Totals:
    """Adds tile outputs up (exact integers, so the order of arrival does not matter)."""

    def __init__(self, n_sites: int, services):
        self.ints: dict[str, int] = {}
        self.causes: dict[int, int] = {}
        self.services = {name: 0 for name, _ in services}
        self.site_people = np.zeros(n_sites, np.int64)
        self.site_attached = np.zeros(n_sites, np.int64)
        self.site_over_q = np.zeros(n_sites, np.int64)
        self.tiles = 0

    def add(self, out: TileOutput) -> None:
        for k, v in out.ints.items():
            self.ints[k] = self.ints.get(k, 0) + v
        for k, v in out.causes.items():
            self.causes[k] = self.causes.get(k, 0) + v
        for k, v in out.services.items():
            self.services[k] += v
        np.add.at(self.site_people, out.site_ids, out.site_people)
        np.add.at(self.site_attached, out.site_ids, out.site_attached)
        np.add.at(self.site_over_q, out.site_ids, out.site_over_se_q)
        self.tiles += 1


def _run_totals(t: _Totals, tech, params, n_sites: int):
    """:class:`simulator.runner.RunTotals` from the added-up tiles (site loads here)."""
    from .runner import RunTotals

    covered = t.ints.get("covered", 0)
    load = None
    served = float(covered)
    if tech.carries_data and n_sites:
        attached = t.site_attached.astype(np.float64)
        over_se = t.site_over_q.astype(np.float64) / _SCALE
        bw = tech.bandwidth_mhz * 1e6
        oh = tech.overhead_fraction
        a, rate = params.busy_hour_active_share, params.mbps_per_active_user
        load = over_se * a * rate * 1e6 / (bw * (1.0 - oh))
        frac = np.ones(n_sites)
        over = load > 1.0
        frac[over] = 1.0 / load[over]
        served = float(np.sum(attached * frac))
    return RunTotals(
        population_total=t.ints.get("population", 0), people_covered=covered,
        people_covered_expected=float(t.ints.get("expected_q", 0)) / _SCALE,
        people_covered_downlink_only=t.ints.get("downlink_only", 0),
        people_covered_existing=t.ints.get("existing", 0),
        uncovered_by_cause={k: t.causes.get(k, 0) for k in (1, 2, 3, 4)},
        people_by_service=dict(t.services), people_served_busy_hour=served,
        site_load=load, covered_cells=t.ints.get("covered_cells", 0),
        region_cells=t.ints.get("region_cells", 0),
        people_served_per_site=t.site_people.copy(), people_in_line_of_sight=None,
        terrain_relief_m=0.0)


# --------------------------------------------------------------------------- results
@dataclass
class TiledResult:
    """What a tiled run keeps: numbers and per-site results, no region-sized arrays.

    The rasters are in ``out_dir`` (when written). ``sites.geojson`` and summary.json are
    the same as the in-memory run's (:class:`simulator.runner.ScenarioResult`).
    """

    scenario: object
    grid: Grid
    sites: object
    stations: dict
    technology: object
    people_served_per_site: np.ndarray
    site_load: np.ndarray | None
    business: object
    summary: dict
    out_dir: Path | None = None
    tiles: int = 0
    tile_size_cells: int = 0
    workers: int = 1
    timings_s: dict = field(default_factory=dict)
    input_files: dict = field(default_factory=dict)


def _tiled_restrictions(scenario) -> None:
    src = str(scenario.source_path) if scenario.source_path else None
    if scenario.terrain != "flat":
        raise ScenarioError("tiled runs (large regions, --tiled, --workers, --scheduler) "
                            "support terrain: flat only in this version; use the in-memory "
                            "run for terrain", file=src, key="terrain")
    if scenario.propagation.monte_carlo_realisations:
        raise ScenarioError("Monte Carlo shadowing needs the whole region in memory; set it "
                            "to 0 for a tiled run", file=src,
                            key="propagation.monte_carlo_realisations",
                            value=scenario.propagation.monte_carlo_realisations)


def _tile_memory_check(scenario, tiles, idx, workers: int) -> None:
    """Refuse tiles whose engine arrays (sites near a tile x its cells) would not fit."""
    worst = max((len(i) * t.shape[0] * t.shape[1] for t, i in zip(tiles, idx)), default=0)
    need = worst * BYTES_PER_PAIR * max(workers, 1)
    avail = _available()
    if need > MEMORY_SHARE * avail:
        src = str(scenario.source_path) if scenario.source_path else None
        raise ScenarioError(
            f"the busiest tile evaluates {worst:,} site-cell pairs: about {_gb(need)} over "
            f"{workers} worker(s), {_gb(avail)} is available; use a smaller "
            "region.tile_size_cells", file=src, key="region.tile_size_cells",
            value=scenario.region.tile_size_cells)


def run_tiled(scenario, *, out_dir=None, overwrite: bool = False, client=None,
              tile_size_cells: int | None = None, progress: Callable[[int, int], None] | None
              = None, write_rasters: bool = True, retries: int = 2,
              max_in_flight: int | None = None) -> TiledResult:
    """Run a scenario tile by tile in bounded memory, serially or on a Dask client.

    Parameters
    ----------
    scenario : Scenario
    out_dir : path-like, optional
        Write the results folder here (atomically): summary.json/.csv, the rasters (tile by
        tile), sites.geojson, scenario.yaml, manifest.json and run_info.json. None: compute
        the numbers only.
    overwrite : bool
        Replace an existing ``out_dir``.
    client : distributed.Client, optional
        Run the tiles as Dask tasks on this client (see :func:`connect`); None runs them in
        this process. Results do not depend on it.
    tile_size_cells : int, optional
        Override ``region.tile_size_cells`` (results do not depend on it).
    progress : callable, optional
        ``progress(done_tiles, total_tiles)``.
    write_rasters : bool
        Write the GeoTIFFs (only with ``out_dir``).
    retries : int
        Dask retries of a failed tile (a worker that died) before the run fails.
    max_in_flight : int, optional
        Tiles submitted but not yet collected (bounds the driver's memory); default
        ``2 x workers + 2``.

    Raises
    ------
    ScenarioError
        Bad scenario, not enough memory, or a tile that failed after its retries.
    """
    from scipy.spatial import cKDTree

    from .business import assess
    from .engine import site_arrays, sites_near_tile
    from .runner import ITM_REACH_SLACK_DB, merge_business, prepare, summary_from_totals

    t0 = time.perf_counter()
    _tiled_restrictions(scenario)
    check_memory(scenario, mode="tiled")
    if out_dir is not None:
        out_dir = Path(out_dir)
        if out_dir.exists() and not overwrite:
            raise ScenarioError("results folder already exists; pass --overwrite "
                                "(overwrite=True) to replace it, or choose another --out",
                                file=str(out_dir))
    pre = prepare(scenario, mode="tiled")
    timings = dict(pre.timings_s)
    grid, tech, sites = pre.grid, pre.technology, pre.sites
    people = pre.population.people.astype(np.int32)
    pre.population.people = people           # drop the int64 grid
    pre.region_mask = None                   # tiles rasterise their own window of it
    p = scenario.propagation
    slack = ITM_REACH_SLACK_DB if (pre.method is not None and pre.method.name == "itm") else 0.0
    kw = dict(ue_height_m=p.ue_height_m,
              floor_dbm=tech.dl_threshold_dbm - p.floor_below_threshold_db - slack,
              max_range_m=p.max_range_km * 1000.0)
    existing = np.flatnonzero(sites.existing)
    sa = site_arrays(sites, pre.stations, tech, pre.model, **kw)
    sa_base = site_arrays(sites.subset(existing), pre.stations, tech, pre.model, **kw)
    interference = scenario.radio.interference
    job = TileJob(grid=grid, sa=sa, sa_base=sa_base, technology=tech, model=pre.model,
                  ue_height_m=p.ue_height_m, params=pre.params,
                  channel=pre.channel if interference else None,
                  channel_base=pre.channel[existing] if interference else None,
                  services=tuple(pre.services.items()), boundary=pre.boundary,
                  rasters=write_rasters and out_dir is not None)
    tile = tile_size_cells or scenario.region.tile_size_cells
    tiles = list(grid.tiles(tile))
    tree = cKDTree(np.c_[sa.x_m, sa.y_m]) if len(sa) else None
    tree_b = cKDTree(np.c_[sa_base.x_m, sa_base.y_m]) if len(sa_base) else None
    idx = [sites_near_tile(grid, t, sa, tree) for t in tiles]
    idx_b = [sites_near_tile(grid, t, sa_base, tree_b) for t in tiles]
    workers = _n_workers(client)
    _tile_memory_check(scenario, tiles, idx, workers)
    timings["prepare"] = time.perf_counter() - t0
    totals = _Totals(len(sites), job.services)

    with contextlib.ExitStack() as stack:
        folder = None
        writer = None
        if out_dir is not None:
            from .io.results import atomic_folder

            folder = stack.enter_context(atomic_folder(out_dir, overwrite=overwrite))
            if job.rasters:
                from .io.streaming import TiledRasterWriter, block_size_for

                writer = stack.enter_context(TiledRasterWriter(
                    folder, grid, raster_specs(tech), block_size=block_size_for(tile),
                    cloud_optimised=scenario.outputs.cloud_optimised))

        def collect(out: TileOutput) -> None:
            totals.add(out)
            if writer is not None:
                writer.write_tile(tiles[out.index], out.rasters)
            out.rasters = {}
            if progress is not None:
                progress(totals.tiles, len(tiles))

        t1 = time.perf_counter()
        if client is None:
            for k, t in enumerate(tiles):
                collect(tile_task(job, k, t, people[t.slices], idx[k], idx_b[k]))
        else:
            _run_on_dask(client, job, tiles, people, idx, idx_b, collect, retries,
                         max_in_flight or 2 * workers + 2)
        timings["tiles"] = time.perf_counter() - t1
        if totals.tiles != len(tiles):  # never a silent partial total
            raise ScenarioError(f"only {totals.tiles} of {len(tiles)} tiles came back; no "
                                "results were written")
        if writer is not None:
            t2 = time.perf_counter()
            writer.close()
            timings["raster_close"] = time.perf_counter() - t2

        run_totals = _run_totals(totals, tech, pre.params, len(sites))
        summary = summary_from_totals(
            run_totals, scenario, grid, sites, tech, pre.required_dbm, pre.margin_db,
            pre.params, pre.warnings, terrain=False,
            inputs={"population": pre.population_info, "towers": pre.tower_counts},
            delta_h_m=pre.delta_h_m)
        business = assess(scenario, grid, sites, pre.stations, run_totals.people_served_per_site,
                          population_total=summary["population_total"],
                          people_covered=summary["people_covered"],
                          people_covered_existing=summary["people_covered_by_existing_sites"])
        merge_business(summary, business)
        timings["total"] = time.perf_counter() - t0
        result = TiledResult(scenario=scenario, grid=grid, sites=sites, stations=pre.stations,
                             input_files=pre.input_files,
                             technology=tech,
                             people_served_per_site=run_totals.people_served_per_site,
                             site_load=run_totals.site_load, business=business,
                             summary=summary, out_dir=out_dir, tiles=len(tiles),
                             tile_size_cells=tile, workers=workers, timings_s=timings)
        if folder is not None:
            _write_tiled_outputs(result, folder)
    return result


def _write_tiled_outputs(result: TiledResult, folder: Path) -> None:
    import yaml

    from .io.results import write_manifest, write_summary
    from .io.vectors import write_sites_geojson

    write_summary(result.summary, folder)
    write_sites_geojson(result, folder / "sites.geojson")
    s = result.scenario
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False))
    info = {"mode": "tiled", "tiles": result.tiles, "tile_size_cells": result.tile_size_cells,
            "workers": result.workers, "cells": result.grid.n_cells,
            "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
            "note": "maps and report.html need the region in memory; not written by a "
                    "tiled run"}
    (folder / "run_info.json").write_text(json.dumps(info, indent=2) + "\n")
    write_manifest(s, result.summary, folder, input_files=result.input_files)


# --------------------------------------------------------------------------- Dask
def _n_workers(client) -> int:
    if client is None:
        return 1
    try:
        return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    except TypeError:  # older distributed: no n_workers argument
        return max(1, len(client.scheduler_info()["workers"]))


def _run_on_dask(client, job, tiles, people, idx, idx_b, collect, retries: int,
                 max_in_flight: int) -> None:
    """Submit the tiles (at most ``max_in_flight`` pending), collect them as they finish."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    [job_future] = client.scatter([job], broadcast=True, hash=False)
    pending = iter(range(len(tiles)))
    where = {}

    def submit(k):
        t = tiles[k]
        fut = client.submit(tile_task, job_future, k, t, people[t.slices], idx[k], idx_b[k],
                            key=f"ruralsim-tile-{token}-{k}", retries=retries, pure=False)
        where[fut.key] = k
        return fut

    ac = as_completed([submit(k) for _, k in zip(range(max_in_flight), pending)])
    try:
        for fut in ac:
            try:
                out = fut.result()
            except Exception as exc:
                k = where.get(fut.key, -1)
                t = tiles[k]
                raise ScenarioError(
                    f"tile {k + 1} of {len(tiles)} (rows {t.row0}:{t.row1}, cols "
                    f"{t.col0}:{t.col1}) failed after {retries} retries: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    "; no results were written") from None
            fut.release()
            collect(out)
            nxt = next(pending, None)
            if nxt is not None:
                ac.add(submit(nxt))
    except BaseException:
        for f in list(ac.futures):
            f.cancel()
        raise
    finally:
        job_future.release()


@contextlib.contextmanager
def connect(*, workers: int | None = None, scheduler: str | None = None,
            timeout_s: float = 10.0, processes: bool = True):
    """A Dask client: a LocalCluster of ``workers`` processes (one thread each), or the
    scheduler at ``scheduler`` (``tcp://host:8786``). Closed on exit.

    Raises ScenarioError "cannot reach scheduler at ..." when the address does not answer
    within ``timeout_s``.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise ScenarioError("--workers/--scheduler need dask.distributed: "
                            "pip install 'ruralsim[dask]'") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(f"cannot reach scheduler at {scheduler} within "
                                f"{timeout_s:g} s ({type(exc).__name__}); check the address "
                                "and that 'dask scheduler' is running") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = int(workers or 1)
    if n < 1:
        raise ScenarioError(f"--workers must be >= 1 (got {n})", value=n)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                           dashboard_address=None)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


# --------------------------------------------------------------------------- sweeps
def _label(value) -> str:
    import re

    text = json.dumps(value) if not isinstance(value, str) else value
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _set_path(data: dict, path: str, value, *, scenario, key: str) -> None:
    src = str(scenario.source_path) if scenario.source_path else None
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[:i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"'{where}' is not an item of the scenario (the list has "
                                    f"{len(node)} items, counted from 0)", file=src, key=key,
                                    value=path)
            part = int(part)
        elif isinstance(node, dict):
            if part not in node:
                raise ScenarioError(f"'{where}' is not a key of the scenario; see "
                                    "docs/scenario.md", file=src, key=key, value=path)
        else:
            raise ScenarioError(f"'{'.'.join(parts[:i])}' is not set in the scenario, so "
                                f"'{path}' cannot be swept", file=src, key=key, value=path)
        if last:
            node[part] = value
        else:
            node = node[part]


def sweep_scenarios(scenario) -> list:
    """The scenarios of a sweep (``scenario.sweep``), each validated, named
    ``<name>-<key>-<value>`` (or ``<name>-<run name>``). ScenarioError on a bad key/value."""
    from pydantic import ValidationError

    from .schema import Scenario

    sw = scenario.sweep
    if sw is None:
        raise ValueError("the scenario has no sweep section")
    base = scenario.model_dump(mode="json", exclude={"sweep"})
    if sw.runs is not None:
        changes = [(r.name, [(k, v) for k, v in r.set.items()], f"sweep.runs.{i}.set")
                   for i, r in enumerate(sw.runs)]
    else:
        leaf = sw.parameter.split(".")[-1]
        changes = [(f"{leaf}-{_label(v)}", [(sw.parameter, v)], f"sweep.values.{i}")
                   for i, v in enumerate(sw.values)]
    out = []
    src = str(scenario.source_path) if scenario.source_path else None
    for label, sets, key in changes:
        import copy

        data = copy.deepcopy(base)
        for path, value in sets:
            _set_path(data, path, value, scenario=scenario,
                      key="sweep.parameter" if sw.runs is None else key)
        data["name"] = f"{scenario.name}-{label}"[:100]
        try:
            s = Scenario.model_validate(data)
        except ValidationError as err:
            e = err.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in e["loc"])
            raise ScenarioError(f"{label}: {loc}: {e['msg']}", file=src, key=key) from None
        s._source_path = scenario.source_path
        out.append(s)
    return out


def _sweep_member(scenario, mode: str) -> dict:
    """One run of a sweep (a Dask task or a loop step): its summary."""
    if mode == "tiled":
        return run_tiled(scenario).summary
    from .runner import run

    return run(scenario).summary


def run_sweep(scenario, *, client=None, mode: str = "auto", retries: int = 2,
              progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run every scenario of ``scenario.sweep`` and return their summaries (sweep order).

    With a Dask ``client`` the runs are tasks and execute in parallel (each run is serial
    inside its task); without one they run one after the other. ``mode`` is "auto",
    "memory" or "tiled" (:func:`choose_mode`, decided per run).
    """
    scenarios = sweep_scenarios(scenario)
    modes = [choose_mode(s, mode) for s in scenarios]
    if client is None:
        out = []
        for k, (s, m) in enumerate(zip(scenarios, modes)):
            out.append(_sweep_member(s, m))
            if progress is not None:
                progress(k + 1, len(scenarios))
        return out
    token = uuid.uuid4().hex[:8]
    futures = [client.submit(_sweep_member, s, m, key=f"ruralsim-sweep-{token}-{k}",
                             retries=retries, pure=False)
               for k, (s, m) in enumerate(zip(scenarios, modes))]
    from distributed import as_completed

    results: dict[int, dict] = {}
    try:
        for fut in as_completed(futures):
            k = futures.index(fut)
            try:
                results[k] = fut.result()
            except ScenarioError:
                raise
            except Exception as exc:
                raise ScenarioError(f"sweep run '{scenarios[k].name}' failed after {retries} "
                                    f"retries: {type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else ''}; no "
                                    "results were written") from None
            if progress is not None:
                progress(len(results), len(scenarios))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return [results[k] for k in range(len(scenarios))]
