"""Resource guard: the one estimator of a run's memory and time (in memory or tiled), used
by every caller (``validate``, the mode choice ``choose_mode``, the CLI, ``run`` and
``run_tiled``), and the refusal of a run that would not fit in memory (rather than be
killed by the out-of-memory killer).

The estimate is deliberately simple and on the generous side of what a run needs; it was
calibrated on this code (peak RSS of ``runner.run`` on flat and terrain scenarios, measured
with ``resource.getrusage``):

* every grid cell holds about 210 bytes of region-sized arrays (population, best-server
  fields of all sites and of the existing sites, serving fields, masks) ->
  ``BYTES_PER_CELL`` rounds this up to 256 (the results writer adds a band at a time);
* the engine works on tiles: ``tile_size_cells ** 2`` cells times the sites near the tile
  (at most ``NEARBY_SITES_CAP``) times ``BYTES_PER_TILE_PAIR``;
* the diffraction models (``deygout``, ``bullington``) evaluate profiles in batches of at
  most 4 million profile points per site, about 150 bytes per point; ``delta_bullington``
  about a third more (``tracemalloc`` peak 67 against 50 bytes per point for one Bullington
  call on 31 250 paths of 128 points), and about 1.4 times the time per sample;
* ITM point to point works on each site's fan of rays (about twice the disc's cells in
  samples): about 70 bytes per ray sample for the whole fan plus 170 per sample of the
  batch of rays analysed at once (at most 2 million samples; measured with
  ``tracemalloc``: 151 bytes per sample for a 20 km disc at 30 m, 82 for 50 km);
* Monte Carlo shadowing adds one correlated field per cell (``BYTES_PER_CELL_MONTE_CARLO``);
* the interpreter with numpy, scipy, rasterio, geopandas and matplotlib: ``BASE_BYTES``.

Time: about 1 microsecond per cell for the area models, plus, for terrain models, a cost
per profile sample of each site's disc (7 us for Deygout/Bullington, 10 us for
delta-Bullington, 2 us for ITM).

The check compares the memory estimate with the memory available now (``MemAvailable``
of /proc/meminfo, a cgroup limit if lower, else ``os.sysconf``); the caller can inject the
available memory, so the check is testable. A tiled run's estimate
(:func:`estimate_for_scenario` with ``mode="tiled"``) is the driver's region-sized part
(the people, the DEM, one site of the site pass); :func:`choose_mode` switches to tiles
when the in-memory estimate does not fit, instead of refusing.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScenarioError
from ..radio.propagation._itm_rays import BATCH_SAMPLES as ITM_BATCH_SAMPLES

BYTES_PER_CELL = 256
BYTES_PER_CELL_MONTE_CARLO = 64
BYTES_PER_TILE_PAIR = 32
NEARBY_SITES_CAP = 64
# The interpreter with the libraries: a small run peaks at 200-270 MB (VmHWM of a fresh
# process, tests/test_resources.py). An earlier reading of 605 MB was ru_maxrss, which Linux
# carries over from the parent process through fork + exec.
BASE_BYTES = 400 * 2**20
TERRAIN_BATCH_POINTS = 4_000_000
TERRAIN_BYTES_PER_POINT = {"deygout": 160, "bullington": 160, "delta_bullington": 220}
ITM_BYTES_PER_RAY_SAMPLE = 70
ITM_BYTES_PER_BATCH_SAMPLE = 170
SECONDS_PER_CELL = 1.0e-6
TERRAIN_SECONDS_PER_SAMPLE = {"deygout": 7.0e-6, "bullington": 7.0e-6,
                              "delta_bullington": 10.0e-6, "itm": 2.0e-6}

# Tiled runs (the driver keeps no region arrays but the inputs):
#: Driver memory of a tiled run: population generation transients (int64 grid, a float64
#: bincount and its int64 copy) and the int32 people kept, plus the region mask.
BYTES_PER_CELL_TILED_DRIVER = 30
#: Driver memory per cell of a tiled run on a terrain: the synthetic DEM generator's
#: transients (79 bytes a cell, measured with tracemalloc at 4 M cells) on top of the
#: people (int64) and the region mask they overlap with. Afterwards the driver keeps the
#: people (int32) and the DEM (float32; float64 with a terrain method: 8 bytes a cell).
BYTES_PER_CELL_TILED_TERRAIN_DRIVER = 90
#: Engine working set per site-cell pair of a tile (the windows of one site and the
#: tile's running best server; a margin).
BYTES_PER_PAIR = 64
#: A site-pass worker holds the DEM as float64 [bytes per cell].
BYTES_PER_CELL_SITE_WORKER = 8
#: Working memory of :func:`simulator.pipeline.engine_terrain.site_disc` per cell of the
#: disc's bounding box (mapped loss, offsets, distance, antenna gain and their
#: temporaries), on top of the fan of rays (:func:`terrain_site_bytes`). A margin:
#: measured with tracemalloc for one site of 20 km at 90 m (200,000 cells in the box), the
#: whole of site_disc peaks at 52 MB with ITM (fan estimate 71 MB) and 548 MB with Deygout
#: (616 MB).
BYTES_PER_DISC_CELL_WORK = 64
#: A disc sent back by a site task: signal, path loss (float32), line of sight [bytes/cell].
BYTES_PER_DISC_CELL = 9
#: ``mode="auto"`` runs tiled above this many cells even when memory would allow.
TILED_AUTO_CELLS = 20_000_000
#: Share of the available memory a tiled run's driver may plan to use.
MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class ResourceEstimate:
    """What a run is expected to need.

    Attributes
    ----------
    cells : int
        Grid cells.
    sites : int
        Sites placed by the scenario's groups (tower files not counted).
    model : str
        Propagation model.
    peak_memory_bytes : int
        Estimated peak resident memory of the run [bytes].
    time_s : float
        Estimated compute time on one core [s] (order of magnitude).
    """

    cells: int
    sites: int
    model: str
    peak_memory_bytes: int
    time_s: float
    mode: str = "memory"


def estimate_resources(n_cells: int, n_sites: int, *, model: str = "rma_38901",
                       resolution_m: float = 100.0, tile_size_cells: int = 256,
                       max_range_km: float = 40.0, max_profile_points: int = 64,
                       monte_carlo: bool = False) -> ResourceEstimate:
    """Peak memory [bytes] and time [s] of a run from its size (see the module text).

    Parameters
    ----------
    n_cells : int
        Grid cells (rows x columns).
    n_sites : int
        Sites to evaluate.
    model : str
        ``propagation.model``.
    resolution_m : float
        Cell size [m] (terrain models: profile samples per site).
    tile_size_cells : int
        Engine tile side [cells].
    max_range_km : float
        Longest path evaluated [km] (terrain models: each site's disc).
    max_profile_points : int
        Points per terrain profile.
    monte_carlo : bool
        Monte Carlo shadowing realisations asked for.
    """
    if n_cells < 0 or n_sites < 0:
        raise ValueError("n_cells and n_sites must be >= 0")
    per_cell = BYTES_PER_CELL + (BYTES_PER_CELL_MONTE_CARLO if monte_carlo else 0)
    tile_cells = min(int(tile_size_cells) ** 2, n_cells)
    mem = BASE_BYTES + n_cells * per_cell
    mem += tile_cells * min(n_sites, NEARBY_SITES_CAP) * BYTES_PER_TILE_PAIR
    time_s = n_cells * SECONDS_PER_CELL
    if model in TERRAIN_SECONDS_PER_SAMPLE and n_sites:
        mem += terrain_site_bytes(n_cells, model=model, resolution_m=resolution_m,
                                  max_range_km=max_range_km,
                                  max_profile_points=max_profile_points)
        time_s += n_sites * _disc_samples(n_cells, resolution_m, max_range_km) * \
            TERRAIN_SECONDS_PER_SAMPLE[model]
    return ResourceEstimate(cells=int(n_cells), sites=int(n_sites), model=model,
                            peak_memory_bytes=int(mem), time_s=float(time_s))


def _disc_samples(n_cells: int, resolution_m: float, max_range_km: float) -> float:
    """Cells of one site's disc: radius = the range, or the whole grid if smaller."""
    radius_cells = min(max_range_km * 1000.0 / resolution_m, 1.5 * math.sqrt(n_cells))
    return math.pi * radius_cells ** 2


def terrain_site_bytes(n_cells: int, *, model: str, resolution_m: float,
                       max_range_km: float, max_profile_points: int = 64) -> int:
    """Working memory of one site of the terrain engine (its fan of rays) [bytes].

    0 for a model without terrain profiles. ``n_cells`` bounds the disc (a site never
    sweeps beyond the grid).
    """
    if model not in TERRAIN_SECONDS_PER_SAMPLE:
        return 0
    samples = _disc_samples(n_cells, resolution_m, max_range_km)
    if model == "itm":
        rays = 2.0 * samples  # n_rays x n_steps = 2 pi R / res x R / res
        return int(min(ITM_BATCH_SAMPLES, rays) * ITM_BYTES_PER_BATCH_SAMPLE
                   + rays * ITM_BYTES_PER_RAY_SAMPLE)
    batch = min(TERRAIN_BATCH_POINTS, samples * max_profile_points)
    return int(batch * TERRAIN_BYTES_PER_POINT[model] + samples * 40)


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory_bytes() -> int | None:
    """Memory a new allocation can get now [bytes], or None when it cannot be told.

    ``MemAvailable`` of /proc/meminfo (Linux), lowered to the room left under a cgroup v2
    limit (``memory.max - memory.current``) when one is set; else free physical pages from
    ``os.sysconf``.
    """
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        avail = None
    limit, current = (_read_int("/sys/fs/cgroup/memory.max"),
                      _read_int("/sys/fs/cgroup/memory.current"))
    if limit is not None and current is not None:
        room = max(limit - current, 0)
        avail = room if avail is None else min(avail, room)
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return int(avail)


def scenario_sites(scenario) -> int:
    """Sites the scenario's groups place (tower files are not read here)."""
    n = 0
    for group in (*scenario.sites.existing, *scenario.sites.new):
        n += len(group.positions) if group.placement == "list" else group.count
    return n


def grid_cells(scenario) -> int:
    """Cells of the scenario's grid (rows x columns, as :func:`simulator.pipeline.runner.
    make_grid` makes it)."""
    r = scenario.region
    return (max(1, round(r.width_km * 1000.0 / r.resolution_m))
            * max(1, round(r.height_km * 1000.0 / r.resolution_m)))


def _terrain_method(scenario) -> bool:
    from .engine_terrain import TERRAIN_METHODS

    return scenario.propagation.model in TERRAIN_METHODS


def _disc_cells(scenario, n_cells: int) -> float:
    """Cells of the bounding box of one site's disc (the range, or the whole grid)."""
    r, p = scenario.region, scenario.propagation
    side = 2.0 * p.max_range_km * 1000.0 / r.resolution_m + 2.0
    return min(side * side, float(n_cells))


def site_bytes(scenario, n_cells: int | None = None) -> int:
    """Working memory of one site of the terrain site pass [bytes]: its fan of rays
    (:func:`terrain_site_bytes`) and the work on its disc; 0 without a terrain method."""
    if not _terrain_method(scenario):
        return 0
    r, p = scenario.region, scenario.propagation
    n_cells = grid_cells(scenario) if n_cells is None else n_cells
    fan = terrain_site_bytes(n_cells, model=p.model, resolution_m=r.resolution_m,
                             max_range_km=p.max_range_km,
                             max_profile_points=p.max_profile_points)
    return int(fan + _disc_cells(scenario, n_cells) * BYTES_PER_DISC_CELL_WORK)


def estimate_for_scenario(scenario, n_cells: int | None = None, *,
                          mode: str = "memory") -> ResourceEstimate:
    """The run's memory and time, for ``mode`` "memory" or "tiled": the one estimator of
    every caller (validate, the mode choice, the CLI, run and run_tiled).

    "memory": :func:`estimate_resources`, the whole process at its peak (the region's
    arrays, the interpreter and the engine's working set). "tiled": the driver's
    region-sized part: people per cell and the region mask (on a terrain the DEM's
    generation or reading, and with a terrain method one site of the site pass, which runs
    on the driver without Dask; with Monte Carlo shadowing the margin and one field per
    cell); the tile tasks come on top (:func:`check_tiles`); the site pass's memmap files
    are disk (:func:`simulator.pipeline.site_pass.scratch_bytes`).
    """
    r, p = scenario.region, scenario.propagation
    if n_cells is None:
        n_cells = grid_cells(scenario)
    est = estimate_resources(n_cells, scenario_sites(scenario), model=p.model,
                             resolution_m=r.resolution_m, tile_size_cells=r.tile_size_cells,
                             max_range_km=p.max_range_km,
                             max_profile_points=p.max_profile_points,
                             monte_carlo=p.monte_carlo_realisations > 0)
    if mode == "memory":
        return est
    if mode != "tiled":
        raise ValueError(f"mode={mode!r} is not allowed; allowed: memory, tiled")
    if scenario.terrain == "flat":
        need = n_cells * BYTES_PER_CELL_TILED_DRIVER
    else:
        need = n_cells * BYTES_PER_CELL_TILED_TERRAIN_DRIVER + site_bytes(scenario, n_cells)
    if p.monte_carlo_realisations:
        need += n_cells * BYTES_PER_CELL_MONTE_CARLO
    return ResourceEstimate(cells=est.cells, sites=est.sites, model=est.model,
                            peak_memory_bytes=int(need), time_s=est.time_s, mode="tiled")


def choose_mode(scenario, requested: str = "auto", *,
                available_bytes: int | None = None) -> str:
    """"memory" or "tiled": "auto" goes tiled above :data:`TILED_AUTO_CELLS` cells or when
    the in-memory run would not fit in the memory left (:func:`fits`)."""
    if requested in ("memory", "tiled"):
        return requested
    if requested != "auto":
        raise ValueError(f"mode={requested!r} is not allowed; allowed: auto, memory, tiled")
    if grid_cells(scenario) > TILED_AUTO_CELLS:
        return "tiled"
    if not fits(estimate_for_scenario(scenario), available_bytes):
        return "tiled"
    return "memory"


def _available(available_bytes: int | None = None) -> float:
    """Memory this process may still use [bytes] (:func:`available_memory_bytes`), inf
    when the system cannot tell."""
    avail = available_memory_bytes() if available_bytes is None else available_bytes
    return float("inf") if avail is None else float(avail)


def fits(est: ResourceEstimate, available_bytes: int | None = None) -> bool:
    """Whether an estimate fits the memory available: an in-memory estimate (the whole
    process) within all of it, a tiled one (the driver's region-sized part, beside the
    interpreter already loaded) within :data:`MEMORY_SHARE` of it."""
    avail = _available(available_bytes)
    if est.mode == "memory":
        return est.peak_memory_bytes <= avail
    return est.peak_memory_bytes <= MEMORY_SHARE * avail


def gb_text(n: float) -> str:
    """A byte count as text in GB (GiB), one decimal."""
    return f"{n / 2**30:,.1f} GB"


def check_resources(scenario, *, n_cells: int | None = None,
                    available_bytes: int | None = None,
                    mode: str = "memory") -> ResourceEstimate:
    """Refuse a run whose estimated memory exceeds the memory available (:func:`fits`).

    Parameters
    ----------
    scenario : Scenario
    n_cells : int, optional
        Grid cells (default: from the region's size and resolution).
    available_bytes : int, optional
        Memory available [bytes]; default :func:`available_memory_bytes` (no check when it
        cannot be told).
    mode : {"memory", "tiled"}
        The run's mode (:func:`estimate_for_scenario`).

    Returns
    -------
    ResourceEstimate

    Raises
    ------
    ScenarioError
        Naming ``region.resolution_m`` (and width_km / height_km), with the resolution that
        would fit.
    """
    est = estimate_for_scenario(scenario, n_cells, mode=mode)
    if fits(est, available_bytes):
        return est
    avail = _available(available_bytes)
    r = scenario.region
    src = str(scenario.source_path) if scenario.source_path else None
    if mode == "tiled":
        what = "people per cell on the driver" if scenario.terrain == "flat" else \
            "people and terrain per cell on the driver"
        raise ScenarioError(
            f"{est.cells:,} cells need about {gb_text(est.peak_memory_bytes)} of memory even "
            f"tiled ({what}) and {gb_text(avail)} is available; use a coarser "
            "region.resolution_m", file=src, key="region.resolution_m")
    cell_part = est.peak_memory_bytes - BASE_BYTES
    room = avail - BASE_BYTES
    tiled_hint = "run it tiled (ruralsim run --tiled, or simulator.pipeline.distributed.run_tiled), " \
        "or "
    if room > 0 and cell_part > 0:
        fits_m = r.resolution_m * math.sqrt(cell_part / room) * 1.05
        hint = (f"{tiled_hint}use a coarser region.resolution_m (about {math.ceil(fits_m):,} "
                "m or more fits) or a smaller region.width_km / region.height_km")
    else:
        hint = f"{tiled_hint}free some memory or run on a machine with more memory"
    raise ScenarioError(
        f"this run would need about {gb_text(est.peak_memory_bytes)} of memory "
        f"({est.cells:,} cells of {r.resolution_m:g} m, {est.sites} sites, model {est.model}; about "
        f"{est.time_s / 3600:,.1f} h of compute) but {gb_text(avail)} is available; {hint}",
        file=src, key="region.resolution_m", value=r.resolution_m)


def _refuse_over_share(scenario, need: float, avail: float, message: str, key: str,
                       value=None) -> None:
    """ScenarioError(message) when ``need`` exceeds :data:`MEMORY_SHARE` of ``avail``."""
    if need <= MEMORY_SHARE * avail:
        return
    src = str(scenario.source_path) if scenario.source_path else None
    raise ScenarioError(message, file=src, key=key, value=value)


def check_site_workers(scenario, n_cells: int, workers: int, in_flight: int) -> None:
    """Refuse a Dask site pass whose workers (each: the DEM as float64 and one site) and
    held discs on the driver would not fit (the serial site pass is in
    :func:`estimate_for_scenario`). Workers are counted as local."""
    worker = n_cells * BYTES_PER_CELL_SITE_WORKER + site_bytes(scenario, n_cells)
    need = workers * worker + in_flight * _disc_cells(scenario, n_cells) * BYTES_PER_DISC_CELL
    avail = _available()
    _refuse_over_share(
        scenario, need, avail,
        f"the terrain site pass needs about {gb_text(need)} over {workers} worker(s) (each "
        f"holds the DEM and one site's rays) and {gb_text(avail)} is available; use fewer "
        "workers or a coarser region.resolution_m", key="region.resolution_m",
        value=scenario.region.resolution_m)


def check_tiles(scenario, tiles, idx, workers: int) -> None:
    """Refuse tiles whose engine arrays (sites near a tile x its cells) would not fit."""
    worst = max((len(i) * t.shape[0] * t.shape[1] for t, i in zip(tiles, idx)), default=0)
    need = worst * BYTES_PER_PAIR * max(workers, 1)
    avail = _available()
    _refuse_over_share(
        scenario, need, avail,
        f"the busiest tile evaluates {worst:,} site-cell pairs: about {gb_text(need)} over "
        f"{workers} worker(s), {gb_text(avail)} is available; use a smaller "
        "region.tile_size_cells", key="region.tile_size_cells",
        value=scenario.region.tile_size_cells)
