"""Country scale: tiled runs in bounded memory, on one process or on a Dask cluster.

The in-memory :func:`simulator.pipeline.runner.run` keeps region-sized arrays (about 280 bytes a
cell). :func:`run_tiled` instead sends each tile through the engine and the serving stage
on its own (:func:`tile_task`) and keeps only what must be added up over the region:

* integer sums (people, people covered, per cause, per service, covered cells ...),
* per-site sums: people covered per best server, and the two terms of the capacity load
  (:func:`simulator.radio.capacity.site_load`): people attached and people / spectral efficiency,
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

Terrain. The DEM is built once on the driver (:func:`simulator.pipeline.runner.prepare`: the
synthetic generator peaks at about 80 bytes a cell, a DEM raster is read whole), like the
people. An area model on a terrain (``rma_38901``, ``itm_area`` ...) then runs the flat
engine per tile exactly as above; the tiles also write their window of terrain.tif. The
terrain methods (``itm``, ``deygout``, ``bullington``, ``delta_bullington``) sweep each
site's rays over its whole disc, which crosses tiles, so they add a **site pass**
(:mod:`simulator.pipeline.site_pass`) before the tiles:

* every site's disc (:func:`simulator.pipeline.engine_terrain.site_disc`, the in-memory engine's
  own per-site function) is reduced, strictly in site index order, into region-sized
  fields (:class:`simulator.pipeline.engine_terrain.FieldReduction`: best signal, server, path loss,
  line of sight, per-channel co-channel sums in float64) held in ``numpy.memmap`` files in
  a temporary folder (:func:`simulator.pipeline.site_pass.scratch_bytes`: 13 + 8 x channels bytes a cell, and 12 + 8 x
  channels for the existing sites alone; deleted at the end of the run, also on failure).
  Each existing site's disc is computed once and reduced into both. The driver's memory
  then follows one site's fan of rays, not the region (the memmaps' resident pages are
  the kernel's file cache);
* serially on the driver, or as Dask tasks (:func:`simulator.pipeline.site_pass.site_task`; the DEM travels once to
  each worker, as float64, 8 bytes a cell): results arriving early are held and reduced in
  site order, at most ``max_in_flight`` at a time, so 1 and N workers give the same bytes;
* each tile task then receives its window of those fields with its people (so any Dask
  cluster works: nothing is read from the driver's disk), serves exactly as above, adds
  the people in line of sight to the integer sums and writes terrain.tif and
  line_of_sight.tif. The reduction and the per-cell finish are the in-memory engine's,
  so the fields, and every integer of summary.json, are identical to the in-memory run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import resources
from ..errors import ScenarioError
from ..region.grid import Grid, Tile
from .site_pass import (SiteJob, TerrainScratch, check_scratch_space, run_site_pass,
                        scratch_bytes, site_items)

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
#: Driver memory per cell of a tiled run on a terrain: the synthetic DEM generator's
#: transients (79 bytes a cell, measured with tracemalloc at 4 M cells) on top of the
#: people (int64) and the region mask they overlap with. Afterwards the driver keeps the
#: people (int32) and the DEM (float32; float64 with a terrain method: 8 bytes a cell).
BYTES_PER_CELL_TILED_TERRAIN_DRIVER = 90
#: A site-pass worker holds the DEM as float64 [bytes per cell].
BYTES_PER_CELL_SITE_WORKER = 8
#: Working memory of :func:`simulator.pipeline.engine_terrain.site_disc` per cell of the disc's
#: bounding box (mapped loss, offsets, distance, antenna gain and their temporaries), on
#: top of the fan of rays (:func:`simulator.pipeline.resources.terrain_site_bytes`). A margin:
#: measured with tracemalloc for one site of 20 km at 90 m (200,000 cells in the box), the
#: whole of site_disc peaks at 52 MB with ITM (fan estimate 71 MB) and 548 MB with Deygout
#: (616 MB).
BYTES_PER_DISC_CELL_WORK = 64
#: A disc sent back by a site task: signal, path loss (float32), line of sight [bytes/cell].
BYTES_PER_DISC_CELL = 9
#: ``mode="auto"`` runs tiled above this many cells even when memory would allow.
TILED_AUTO_CELLS = 20_000_000
#: Share of the available memory a run may plan to use.
MEMORY_SHARE = 0.8


# --------------------------------------------------------------------------- memory guard
def _available() -> float:
    """Memory this process may still use [bytes] (:mod:`simulator.pipeline.resources`), inf if the
    system cannot tell."""
    avail = resources.available_memory_bytes()
    return float("inf") if avail is None else float(avail)


def _grid_cells(scenario) -> int:
    r = scenario.region
    return int(round(r.width_km * 1000.0 / r.resolution_m)) * int(
        round(r.height_km * 1000.0 / r.resolution_m))


def _terrain_method(scenario) -> bool:
    from .engine_terrain import TERRAIN_METHODS

    return scenario.propagation.model in TERRAIN_METHODS


def _disc_cells(scenario) -> float:
    """Cells of the bounding box of one site's disc (the range, or the whole grid)."""
    r, p = scenario.region, scenario.propagation
    side = 2.0 * p.max_range_km * 1000.0 / r.resolution_m + 2.0
    return min(side * side, float(_grid_cells(scenario)))


def site_bytes(scenario) -> int:
    """Working memory of one site of the terrain site pass [bytes]: its fan of rays
    (:func:`simulator.pipeline.resources.terrain_site_bytes`) and the work on its disc; 0 without
    a terrain method."""
    if not _terrain_method(scenario):
        return 0
    r, p = scenario.region, scenario.propagation
    fan = resources.terrain_site_bytes(_grid_cells(scenario), model=p.model,
                                       resolution_m=r.resolution_m,
                                       max_range_km=p.max_range_km,
                                       max_profile_points=p.max_profile_points)
    return int(fan + _disc_cells(scenario) * BYTES_PER_DISC_CELL_WORK)


def estimate_memory_bytes(scenario, mode: str) -> int:
    """Planned peak memory of a run [bytes]: ``mode`` "memory" (the whole region's arrays:
    :func:`simulator.pipeline.resources.estimate_for_scenario`, the one estimator of in-memory runs)
    or "tiled" (the driver: people per cell and the region mask; on a terrain the DEM's
    generation or reading, and with a terrain method one site of the site pass, which
    runs on the driver without Dask; tile tasks come on top; the site pass's memmap files
    are disk, :func:`scratch_bytes`, their resident pages the operating system's cache)."""
    if mode == "memory":
        return resources.estimate_for_scenario(scenario).peak_memory_bytes
    cells = _grid_cells(scenario)
    if scenario.terrain == "flat":
        return cells * BYTES_PER_CELL_TILED_DRIVER
    return cells * BYTES_PER_CELL_TILED_TERRAIN_DRIVER + site_bytes(scenario)


_gb = resources.gb_text


def _refuse_over_share(scenario, need: float, avail: float, message: str, key: str,
                       value=None) -> None:
    """ScenarioError(message) when ``need`` exceeds :data:`MEMORY_SHARE` of ``avail``."""
    if need <= MEMORY_SHARE * avail:
        return
    src = str(scenario.source_path) if scenario.source_path else None
    raise ScenarioError(message, file=src, key=key, value=value)


def check_memory(scenario, mode: str = "memory") -> None:
    """Refuse a run whose planned memory exceeds what is left (ScenarioError, one line).

    Called before any work, so the operating system never has to kill the run. The
    in-memory check is :func:`simulator.pipeline.resources.check_resources`.
    """
    if mode == "memory":
        resources.check_resources(scenario)
        return
    need = estimate_memory_bytes(scenario, mode)
    avail = _available()
    what = "people per cell on the driver" if scenario.terrain == "flat" else \
        "people and terrain per cell on the driver"
    _refuse_over_share(
        scenario, need, avail,
        f"{_grid_cells(scenario):,} cells need about {_gb(need)} of memory even tiled "
        f"({what}) and {_gb(avail)} is available; use a coarser region.resolution_m",
        key="region.resolution_m")


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
    clutter_lut_db: np.ndarray | None = None  # terminal clutter loss per class code [dB]


@dataclass
class TileTerrain:
    """The terrain part of one tile task (the driver's window of the site pass's fields).

    Attributes
    ----------
    fields : CoverageFields or None
        The tile's window of the terrain engine's fields (all sites); None for an area
        model on a terrain (the tile task then runs the flat engine, as the in-memory run).
    line_of_sight : numpy.ndarray or None
        bool, the tile's window: in line of sight of at least one site within reach.
    fields_base : CoverageFields or None
        The same with the existing sites alone (None: there are none).
    elevation_m : numpy.ndarray or None
        float32 ground elevation of the tile [m], for terrain.tif (None: no rasters).
    """

    fields: object = None
    line_of_sight: np.ndarray | None = None
    fields_base: object = None
    elevation_m: np.ndarray | None = None


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
    the same rasterisation as the whole-region mask of :func:`simulator.pipeline.runner.make_boundary`."""
    if boundary is None:
        return np.ones(tile.shape, bool)
    from affine import Affine
    from rasterio.features import geometry_mask
    from shapely.geometry import mapping

    transform = grid.transform @ Affine.translation(tile.col0, tile.row0)
    return ~geometry_mask([mapping(boundary)], out_shape=tile.shape, transform=transform,
                          all_touched=False)


def tile_task(job: TileJob, index: int, tile: Tile, people: np.ndarray, idx: np.ndarray,
              idx_base: np.ndarray, terrain: TileTerrain | None = None,
              clutter_classes: np.ndarray | None = None) -> TileOutput:
    """Engine, serving and the tile's sums for one tile (pure: no I/O).

    Each cell gets the arithmetic of the in-memory run (:func:`simulator.pipeline.engine.
    compute_tile`, or with a terrain method the tile's window of the site pass's fields
    in ``terrain``, then :func:`simulator.radio.serving.serve`), so integer results are
    identical. ``clutter_classes`` (the tile's window of the clutter layer's class codes,
    with ``job.clutter_lut_db``) adds the terminal clutter loss before serving, as the
    in-memory run does.
    """
    from ..radio.capacity import shannon_throughput_bps_per_hz
    from .engine import CoverageFields, compute_tile
    from ..radio.serving import serve

    tech, params = job.technology, job.params
    people = np.asarray(people).astype(np.int64)
    profiles = terrain is not None and terrain.fields is not None
    if profiles:
        fields, los = terrain.fields, terrain.line_of_sight
    else:
        fields = CoverageFields(*compute_tile(job.grid, tile, job.sa, idx, tech, job.model,
                                              job.ue_height_m, job.channel))
        los = None
    clutter_loss = None
    if clutter_classes is not None:
        from ..region.clutter import apply_terminal_loss
        from .clutter import people_covered_per_cell

        clutter_loss = job.clutter_lut_db[clutter_classes]
        covered_without = people_covered_per_cell(fields, job.sa.tx_metric_dbm, people, tech,
                                                  params, line_of_sight=los)
        fields = apply_terminal_loss(fields, clutter_loss)
    # n_sites=0: no per-tile capacity (the loads need the whole region; done at the end)
    sv = serve(fields, job.sa.tx_metric_dbm, people, tech, params, 0, line_of_sight=los)
    inside = tile_region_mask(job.grid, tile, job.boundary)
    ints = {
        "population": int(people.sum()),
        "covered": int(sv.people_covered.sum()),
        "expected_q": int(_fixed(sv.people_covered_expected).sum()),
        "downlink_only": int(people[sv.covered_dl_outdoor].sum()),
        "covered_cells": int((sv.covered_outdoor & inside).sum()),
        "region_cells": int(inside.sum()),
    }
    if los is not None:
        ints["line_of_sight"] = int(people[los].sum())
    if clutter_classes is not None:
        from ..region.clutter import clutter_sums

        ints.update(clutter_sums(clutter_classes, people, sv.people_covered, covered_without,
                                 inside))
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
    # baseline: the existing sites alone (people covered do not depend on line of sight)
    if len(job.sa_base):
        if profiles:
            bf = terrain.fields_base
        else:
            bf = CoverageFields(*compute_tile(job.grid, tile, job.sa_base, idx_base, tech,
                                              job.model, job.ue_height_m, job.channel_base))
        if clutter_loss is not None:
            bf = apply_terminal_loss(bf, clutter_loss)
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
        if terrain is not None and terrain.elevation_m is not None:
            rasters["terrain.tif"] = terrain.elevation_m
        if los is not None:
            rasters["line_of_sight.tif"] = los.astype(np.uint8)
        if clutter_classes is not None:
            rasters["clutter.tif"] = clutter_classes
    return TileOutput(index=index, ints=ints, causes=dict(sv.uncovered_by_cause),
                      services=services, site_ids=uniq, site_people=site_people,
                      site_attached=site_attached, site_over_se_q=site_over, rasters=rasters)


def raster_specs(technology, *, terrain: bool = False, line_of_sight: bool = False,
                 clutter=None) -> list:
    """The rasters a tiled run writes: the in-memory run's set (``terrain``: terrain.tif,
    ``line_of_sight``: line_of_sight.tif, which only the terrain methods make; ``clutter``,
    a ClutterLayer: clutter.tif)."""
    from ..io.streaming import RasterSpec

    metric = technology.signal_metric.upper()
    specs = [
        RasterSpec("population.tif", "int32", None, "people per cell", "people"),
        RasterSpec("rx_power_dbm.tif", "float32", float("nan"),
                   f"best-server downlink {metric} [dBm]", "dBm"),
        RasterSpec("best_server.tif", "int32", -1,
                   "best-server site index (sites.geojson order), -1 none"),
        RasterSpec("covered.tif", "uint8", None,
                   "1 where an outdoor person is covered: downlink and uplink close with the "
                   "fade margin and the SINR is decodable"),
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
    if terrain:
        specs.append(RasterSpec("terrain.tif", "float32", None, "ground elevation [m]", "m"))
    if line_of_sight:
        specs.append(RasterSpec("line_of_sight.tif", "uint8", None,
                                "1 where at least one site within reach is in line of sight "
                                "(effective Earth, k-factor)"))
    if clutter is not None:
        from ..io.landcover import CLUTTER_DESCRIPTION, class_tags, colour_map

        specs.append(RasterSpec("clutter.tif", clutter.classes.dtype.name, None,
                                CLUTTER_DESCRIPTION, colormap=colour_map(clutter.table),
                                tags=class_tags(clutter.table, clutter.loss_lut_db)))
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


def _run_totals(t: _Totals, tech, params, n_sites: int, *, line_of_sight: bool = False,
                terrain_relief_m: float = 0.0):
    """:class:`simulator.pipeline.runner.RunTotals` from the added-up tiles (site loads here).

    ``line_of_sight``: the tiles served with a line-of-sight field (terrain methods), which
    adds the terrain-limited cause (in :func:`simulator.radio.serving.serve`'s order) and the
    people in line of sight.
    """
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
        uncovered_by_cause={k: t.causes.get(k, 0) for k in ((1, 2, 3, 5, 4) if line_of_sight
                                                            else (1, 2, 3, 4))},
        people_by_service=dict(t.services), people_served_busy_hour=served,
        site_load=load, covered_cells=t.ints.get("covered_cells", 0),
        region_cells=t.ints.get("region_cells", 0),
        people_served_per_site=t.site_people.copy(),
        people_in_line_of_sight=t.ints.get("line_of_sight", 0) if line_of_sight else None,
        terrain_relief_m=terrain_relief_m)


# --------------------------------------------------------------------------- results
@dataclass
class TiledResult:
    """What a tiled run keeps: numbers and per-site results, no region-sized arrays.

    The rasters are in ``out_dir`` (when written). ``sites.geojson`` and summary.json are
    the same as the in-memory run's (:class:`simulator.pipeline.runner.ScenarioResult`).
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
    site_pass: dict = field(default_factory=dict)
    boundary: object = None       # region boundary in the grid CRS (shapely), or None
    settlements: object = None    # Population with the settlements only (people empty)
    clutter: object = None        # region.clutter.ClutterLayer (clutter: section) or None

    # thin methods over simulator.io.interop (the Dataset is read from out_dir's GeoTIFFs)
    def to_xarray(self):
        """The GeoTIFFs of ``out_dir`` as a lazy xarray Dataset
        (:func:`simulator.io.interop.to_xarray`)."""
        from ..io.interop import to_xarray

        return to_xarray(self)

    def sites_frame(self, crs: str | None = "EPSG:4326"):
        """The sites as a GeoDataFrame, WGS 84 (:func:`simulator.io.interop.sites_frame`)."""
        from ..io.interop import sites_frame

        return sites_frame(self, crs)

    def __repr__(self) -> str:
        from ..io.interop import result_repr

        return result_repr(self)


def _tiled_restrictions(scenario) -> None:
    src = str(scenario.source_path) if scenario.source_path else None
    if scenario.propagation.monte_carlo_realisations:
        raise ScenarioError("Monte Carlo shadowing needs the whole region in memory; set it "
                            "to 0 for a tiled run", file=src,
                            key="propagation.monte_carlo_realisations",
                            value=scenario.propagation.monte_carlo_realisations)

def _site_memory_check(scenario, grid, workers: int, in_flight: int, dask: bool) -> None:
    """Refuse a Dask site pass whose workers (each: the DEM as float64 and one site) and
    held discs on the driver would not fit (the serial site pass is in
    :func:`estimate_memory_bytes`). Like the tile check, workers are counted as local."""
    if not dask:
        return
    worker = grid.n_cells * BYTES_PER_CELL_SITE_WORKER + site_bytes(scenario)
    need = workers * worker + in_flight * _disc_cells(scenario) * BYTES_PER_DISC_CELL
    avail = _available()
    _refuse_over_share(
        scenario, need, avail,
        f"the terrain site pass needs about {_gb(need)} over {workers} worker(s) (each "
        f"holds the DEM and one site's rays) and {_gb(avail)} is available; use fewer "
        "workers or a coarser region.resolution_m", key="region.resolution_m",
        value=scenario.region.resolution_m)


def _tile_memory_check(scenario, tiles, idx, workers: int) -> None:
    """Refuse tiles whose engine arrays (sites near a tile x its cells) would not fit."""
    worst = max((len(i) * t.shape[0] * t.shape[1] for t, i in zip(tiles, idx)), default=0)
    need = worst * BYTES_PER_PAIR * max(workers, 1)
    avail = _available()
    _refuse_over_share(
        scenario, need, avail,
        f"the busiest tile evaluates {worst:,} site-cell pairs: about {_gb(need)} over "
        f"{workers} worker(s), {_gb(avail)} is available; use a smaller "
        "region.tile_size_cells", key="region.tile_size_cells",
        value=scenario.region.tile_size_cells)


def run_tiled(scenario, *, out_dir=None, overwrite: bool = False, client=None,
              tile_size_cells: int | None = None, progress: Callable[[int, int], None] | None
              = None, write_rasters: bool = True, retries: int = 2,
              max_in_flight: int | None = None,
              site_progress: Callable[[int, int], None] | None = None,
              scratch_dir=None, maps: bool | None = None) -> TiledResult:
    """Run a scenario tile by tile in bounded memory, serially or on a Dask client.

    With a terrain method (``propagation.model`` itm, deygout or bullington) a site pass
    comes first: each site's disc (:func:`simulator.pipeline.engine_terrain.site_disc`) is reduced,
    in site index order, into region-sized fields held in ``numpy.memmap`` files in a
    temporary folder (deleted at the end, also on failure); the tiles then take their
    window of those fields. An area model on a terrain runs the flat engine per tile, as
    the in-memory run does.

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
        Where the site pass's temporary folder goes (:func:`scratch_bytes` of disk);
        default beside ``out_dir``, else the system's temporary folder.
    maps : bool, optional
        Draw coverage_map.png and rx_cdf.png (also embedded in report.html); default
        ``outputs.maps`` of the scenario, as :meth:`simulator.pipeline.runner.ScenarioResult.save`.
        They need the rasters (``write_rasters``). report.html is written unless
        ``outputs.report`` is false.

    Raises
    ------
    ScenarioError
        Bad scenario, not enough memory or scratch disk, or a tile or site that failed
        after its retries.
    """
    import tempfile

    from scipy.spatial import cKDTree

    from ..business.assessment import assess
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
    maps = scenario.outputs.maps if maps is None else bool(maps)
    settlements = dataclasses.replace(pre.population, people=np.zeros((0, 0), np.int32))
    grid, tech, sites = pre.grid, pre.technology, pre.sites
    people = pre.population.people.astype(np.int32)
    pre.population.people = people           # drop the int64 grid
    pre.region_mask = None                   # tiles rasterise their own window of it
    method = pre.method
    dem = pre.dem
    clutter = pre.clutter                    # class per cell (1-2 bytes), kept like the people
    relief_m = 0.0 if dem is None else float(dem.max() - dem.min())  # as the in-memory run
    if method is not None:
        # float64 once: radial_profiles would otherwise convert the DEM for every site
        dem = dem.astype(np.float64)
    pre.dem = None
    p = scenario.propagation
    slack = ITM_REACH_SLACK_DB if (method is not None and method.name == "itm") else 0.0
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
                  rasters=write_rasters and out_dir is not None,
                  clutter_lut_db=None if clutter is None else clutter.loss_lut_db)
    tile = tile_size_cells or scenario.region.tile_size_cells
    tiles = list(grid.tiles(tile))
    workers = _n_workers(client)
    in_flight = max_in_flight or 2 * workers + 2
    if method is None:
        tree = cKDTree(np.c_[sa.x_m, sa.y_m]) if len(sa) else None
        tree_b = cKDTree(np.c_[sa_base.x_m, sa_base.y_m]) if len(sa_base) else None
        idx = [sites_near_tile(grid, t, sa, tree) for t in tiles]
        idx_b = [sites_near_tile(grid, t, sa_base, tree_b) for t in tiles]
    else:                                    # the tiles take the site pass's fields
        idx = idx_b = [np.zeros(0, np.int64)] * len(tiles)
        _site_memory_check(scenario, grid, workers, in_flight, client is not None)
    _tile_memory_check(scenario, tiles, idx, workers)
    timings["prepare"] = time.perf_counter() - t0
    totals = _Totals(len(sites), job.services)
    site_info: dict = {}

    with contextlib.ExitStack() as stack:
        scratch = None
        if method is not None:
            parent = Path(scratch_dir) if scratch_dir is not None else (
                out_dir.parent if out_dir is not None else Path(tempfile.gettempdir()))
            try:
                parent.mkdir(parents=True, exist_ok=True)
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise PermissionError("not writable")
            except OSError as exc:
                raise ScenarioError(
                    f"the terrain site pass cannot use {parent} for its scratch files "
                    f"({exc.strerror or exc}); give a writable folder (--scratch-dir, "
                    "scratch_dir=)", value=str(parent)) from None
            ch, ch_b = job.channel, job.channel_base
            need = scratch_bytes(grid.n_cells, _n_channels(ch), _n_channels(ch_b),
                                 len(sa_base) > 0)
            check_scratch_space(scenario, parent, need)
            scratch = TerrainScratch(parent, grid.shape, ch, ch_b, len(sa_base))
            stack.callback(scratch.close)
            items = site_items(sa, sa_base, existing)
            site_job = SiteJob(grid=grid, dem=dem, sa=sa, sa_base=sa_base, technology=tech,
                               method=method, ue_height_m=p.ue_height_m)
            reductions = {"all": scratch.all, "base": scratch.base}

            def reduce(item, disc) -> None:
                if disc is None:
                    return
                for name, j in item.targets:
                    reductions[name].add(disc, j)

            t_site = time.perf_counter()
            run_site_pass(site_job, items, reduce, client=client, retries=retries,
                           max_in_flight=in_flight, progress=site_progress)
            del site_job
            timings["site_pass"] = time.perf_counter() - t_site
            site_info = {"model": method.name, "sites": len(sa),
                         "discs_evaluated": len(items),
                         "where": "dask workers (reduced on the driver in site order)"
                         if client is not None else "driver",
                         "scratch_bytes": need,
                         "seconds_per_site": round(timings["site_pass"] / max(len(items), 1),
                                                   4)}
        elevation = dem if (dem is not None and job.rasters) else None

        def terrain_for(k: int) -> TileTerrain | None:
            if scratch is None and elevation is None:
                return None
            sl = tiles[k].slices
            f = fb = los = None
            if scratch is not None:
                f, los = scratch.all.fields(sl)
                if scratch.base is not None:
                    fb, _ = scratch.base.fields(sl)
            elev = None if elevation is None else elevation[sl].astype(np.float32)
            return TileTerrain(fields=f, line_of_sight=los, fields_base=fb, elevation_m=elev)

        folder = None
        writer = None
        if out_dir is not None:
            from ..io.results import atomic_folder

            folder = stack.enter_context(atomic_folder(out_dir, overwrite=overwrite))
            if job.rasters:
                from ..io.streaming import TiledRasterWriter, block_size_for

                writer = stack.enter_context(TiledRasterWriter(
                    folder, grid, raster_specs(tech, terrain=dem is not None,
                                               line_of_sight=method is not None,
                                               clutter=clutter),
                    block_size=block_size_for(tile),
                    cloud_optimised=scenario.outputs.cloud_optimised,
                    boundary=pre.boundary, site_names=sites.names))

        def collect(out: TileOutput) -> None:
            totals.add(out)
            if writer is not None:
                writer.write_tile(tiles[out.index], out.rasters)
            out.rasters = {}
            if progress is not None:
                progress(totals.tiles, len(tiles))

        t1 = time.perf_counter()
        if progress is not None:
            progress(0, len(tiles))
        def clutter_for(k: int):
            return None if clutter is None else clutter.window(tiles[k])

        if client is None:
            for k, t in enumerate(tiles):
                collect(tile_task(job, k, t, people[t.slices], idx[k], idx_b[k],
                                  terrain_for(k), clutter_for(k)))
        else:
            _run_on_dask(client, job, tiles, people, idx, idx_b, collect, retries,
                         in_flight, terrain_for, clutter_for)
        timings["tiles"] = time.perf_counter() - t1
        if totals.tiles != len(tiles):  # never a silent partial total
            raise ScenarioError(f"only {totals.tiles} of {len(tiles)} tiles came back; no "
                                "results were written")
        if writer is not None:
            t2 = time.perf_counter()
            writer.close()
            timings["raster_close"] = time.perf_counter() - t2

        run_totals = _run_totals(totals, tech, pre.params, len(sites),
                                 line_of_sight=method is not None, terrain_relief_m=relief_m)
        summary = summary_from_totals(
            run_totals, scenario, grid, sites, tech, pre.required_dbm, pre.margin_db,
            pre.params, pre.warnings, terrain=dem is not None,
            inputs={"population": pre.population_info, "towers": pre.tower_counts},
            delta_h_m=pre.delta_h_m)
        if clutter is not None:
            from .clutter import clutter_summary

            summary["clutter"] = clutter_summary(totals.ints, clutter)
        business = assess(scenario, grid, sites, pre.stations, run_totals.people_served_per_site,
                          population_total=summary["population_total"],
                          people_covered=summary["people_covered"],
                          people_covered_existing=summary["people_covered_by_existing_sites"],
                          dem=dem)
        merge_business(summary, business)
        timings["total"] = time.perf_counter() - t0
        result = TiledResult(scenario=scenario, grid=grid, sites=sites, stations=pre.stations,
                             input_files=pre.input_files,
                             technology=tech,
                             people_served_per_site=run_totals.people_served_per_site,
                             site_load=run_totals.site_load, business=business,
                             summary=summary, out_dir=out_dir, tiles=len(tiles),
                             tile_size_cells=tile, workers=workers, timings_s=timings,
                             site_pass=site_info, boundary=pre.boundary,
                             settlements=settlements, clutter=clutter)
        if folder is not None:
            _write_tiled_outputs(result, folder, maps=maps and writer is not None)
    return result


def _n_channels(channel) -> int:
    return int(channel.max()) + 1 if channel is not None and len(channel) else 0


def _write_tiled_outputs(result: TiledResult, folder: Path, *, maps: bool) -> None:
    """Summary, sites, scenario, maps and report, run_info and manifest of a tiled run.

    The maps (``maps``: the rasters are in ``folder``) are drawn from a coarse reading of
    the rasters (:func:`simulator.io.coarse.read_coarse_map`, bounded memory); their
    numbers and the report's come from the summary.
    """
    import yaml

    from ..io.results import write_manifest, write_summary
    from ..io.vectors import write_sites_geojson

    write_summary(result.summary, folder)
    write_sites_geojson(result, folder / "sites.geojson")
    s = result.scenario
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False))
    maps_info = None
    figures = {}
    note = None
    if maps:
        t = time.perf_counter()
        figures, cm = tiled_figures(result, folder)
        for name, (png, _) in figures.items():
            (folder / f"{name}.png").write_bytes(png)
        from ..io.exports import write_map_files

        write_map_files(cm, folder)     # coverage.kmz, map.html, coverage.gpkg (coarse)
        result.timings_s["maps"] = time.perf_counter() - t
        note = (f"Tiled run: the maps are {cm.aggregation_text}, read back from the "
                "GeoTIFFs of this folder (people summed per coarse cell, the signal "
                "averaged over its covered cells, red where most of its people have no "
                f"outdoor coverage; the signal curve is over people in {_cdf_step_text()} steps, all "
                "sites only). Every number on this page is exact, from summary.json.")
        maps_info = {"coverage_map.png": cm.aggregation_text,
                     "coarse_cells": list(cm.grid.shape), "factor": cm.factor,
                     "coarse_people_total": int(cm.people.sum()),
                     "rx_cdf.png": f"people per {_cdf_step_text()} bin of the best-server "
                                   "signal, all sites (no existing-sites-only curve)"}
    elif s.outputs.report:
        note = ("Maps were not drawn for this tiled run (--no-maps / outputs.maps: false, "
                "or no rasters written).")
    if s.outputs.report:
        from ..report import build_report_html

        (folder / "report.html").write_text(
            build_report_html(result, figures, maps_note=note), encoding="utf-8")
    info = {"mode": "tiled", "tiles": result.tiles, "tile_size_cells": result.tile_size_cells,
            "workers": result.workers, "cells": result.grid.n_cells,
            "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
            "terrain_site_pass": result.site_pass or None,
            "maps": maps_info,
            "report": bool(s.outputs.report),
            "note": ("maps drawn from the rasters, coarsened for display; numbers exact "
                     "(summary.json)" if maps_info else "no maps drawn (--no-maps, "
                     "outputs.maps: false or no rasters)")}
    (folder / "run_info.json").write_text(json.dumps(info, indent=2) + "\n")
    write_manifest(s, result.summary, folder, input_files=result.input_files)



def _cdf_step_text() -> str:
    from ..io.coarse import CDF_STEP_DB

    return f"{CDF_STEP_DB:g} dB"


def tiled_figures(result: TiledResult, folder: Path):
    """coverage_map and rx_cdf PNGs (with captions) of a tiled run from the rasters in
    ``folder``, and the :class:`simulator.io.coarse.CoarseMap` they were drawn from."""
    from ..io.coarse import read_coarse_map
    from ..io.results import draw_figures

    cm = read_coarse_map(folder, result, boundary=result.boundary,
                         population=result.settlements)
    if getattr(result, "clutter", None) is not None and (folder / "clutter.tif").exists():
        from ..io.landcover import read_coarse_clutter

        cm.clutter = read_coarse_clutter(folder / "clutter.tif", result.clutter, cm.grid,
                                         cm.factor)
    captions = {
        "coverage_map": f"Coverage map, {cm.aggregation_text}: mean received signal over "
                        "the covered cells of each coarse cell, red where most of its "
                        "people have no outdoor coverage, sites by type, region boundary; "
                        "north up.",
        "rx_cdf": "Best-server downlink signal over people (CDF, all sites; counted in "
                  f"{_cdf_step_text()} steps over every cell); the red line is the required "
                  "signal."}
    return draw_figures(cm, captions), cm


# --------------------------------------------------------------------------- Dask
def _n_workers(client) -> int:
    if client is None:
        return 1
    try:
        return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    except TypeError:  # older distributed: no n_workers argument
        return max(1, len(client.scheduler_info()["workers"]))


def _run_on_dask(client, job, tiles, people, idx, idx_b, collect, retries: int,
                 max_in_flight: int, terrain_for=None, clutter_for=None) -> None:
    """Submit the tiles (at most ``max_in_flight`` pending), collect them as they finish.

    ``terrain_for(k)`` gives tile ``k``'s :class:`TileTerrain` (or None), made when the
    tile is submitted, so at most ``max_in_flight`` windows exist at once."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    [job_future] = client.scatter([job], broadcast=True, hash=False)
    pending = iter(range(len(tiles)))
    where = {}

    def submit(k):
        t = tiles[k]
        terrain = terrain_for(k) if terrain_for is not None else None
        classes = clutter_for(k) if clutter_for is not None else None
        fut = client.submit(tile_task, job_future, k, t, people[t.slices], idx[k], idx_b[k],
                            terrain, classes, key=f"ruralsim-tile-{token}-{k}",
                            retries=retries, pure=False)
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

    The local workers are started without Dask's default ``MALLOC_TRIM_THRESHOLD_``
    (see the comment in the code: it makes the terrain engine several times slower);
    workers of an existing cluster should be started likewise (Dask configuration
    ``distributed.nanny.pre-spawn-environ``).

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
    import dask

    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes
    # glibc's mmap threshold: every large numpy temporary is then a fresh mmap, faulted in
    # page by page. The terrain engine allocates many per site: measured 4.7 x slower per
    # site on 1 worker (93 s against 20 s for 82 ITM sites); without it, 1.15 x (transfer)
    spawn_env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                  {}).items()
                 if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_env}):
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
