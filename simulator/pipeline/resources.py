"""Resource guard: estimate a run's peak memory and time before computing, and refuse a run
that would not fit in memory (rather than be killed by the out-of-memory killer).

The estimate is deliberately simple and on the generous side of what a run needs; it was
calibrated on this code (peak RSS of ``runner.run`` on flat and terrain scenarios, measured
with ``resource.getrusage``):

* every grid cell holds about 210 bytes of region-sized arrays (population, best-server
  fields of the main and the baseline pass, serving fields, masks) -> ``BYTES_PER_CELL``
  rounds this up to 256 (the results writer adds a band at a time);
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

The check compares the memory estimate with the memory available now (the smallest of
``MemAvailable``, the process's ``ulimit -v`` / ``-d`` room and its memory cgroup's room:
:func:`available_memory_bytes`); the caller can inject the
available memory, so the check is testable. The country-scale tiled mode can use
:func:`estimate_resources` to decide to switch to tiles instead of refusing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def available_memory_bytes() -> int | None:
    """Memory a new allocation can get now [bytes], or None when it cannot be told.

    The smallest of ``MemAvailable``, ``RLIMIT_AS`` / ``RLIMIT_DATA`` minus what the process
    already uses, and the room under the process's own memory cgroup (v1 or v2, found from
    ``/proc/self/cgroup``, ancestors included): :mod:`simulator.pipeline.memory_limits`.
    """
    from .memory_limits import available_memory_bytes as _available_now

    return _available_now()


def scenario_sites(scenario) -> int:
    """Sites the scenario's groups place (tower files are not read here)."""
    n = 0
    for group in (*scenario.sites.existing, *scenario.sites.new):
        n += len(group.positions) if group.placement == "list" else group.count
    return n


def estimate_for_scenario(scenario, n_cells: int | None = None) -> ResourceEstimate:
    """:func:`estimate_resources` for a :class:`~simulator.schema.Scenario`."""
    r, p = scenario.region, scenario.propagation
    if n_cells is None:
        n_cells = (max(1, round(r.width_km * 1000.0 / r.resolution_m))
                   * max(1, round(r.height_km * 1000.0 / r.resolution_m)))
    return estimate_resources(n_cells, scenario_sites(scenario), model=p.model,
                              resolution_m=r.resolution_m, tile_size_cells=r.tile_size_cells,
                              max_range_km=p.max_range_km,
                              max_profile_points=p.max_profile_points,
                              monte_carlo=p.monte_carlo_realisations > 0)


def gb_text(n: float) -> str:
    """A byte count as text in GB (GiB), one decimal."""
    return f"{n / 2**30:,.1f} GB"


def check_resources(scenario, *, n_cells: int | None = None,
                    available_bytes: int | None = None) -> ResourceEstimate:
    """Refuse a run whose estimated peak memory exceeds the memory available.

    Parameters
    ----------
    scenario : Scenario
    n_cells : int, optional
        Grid cells (default: from the region's size and resolution).
    available_bytes : int, optional
        Memory available [bytes]; default :func:`available_memory_bytes` (no check when it
        cannot be told).

    Returns
    -------
    ResourceEstimate

    Raises
    ------
    ScenarioError
        Naming ``region.resolution_m`` (and width_km / height_km), with the resolution that
        would fit.
    """
    est = estimate_for_scenario(scenario, n_cells)
    avail = available_memory_bytes() if available_bytes is None else int(available_bytes)
    if avail is None or est.peak_memory_bytes <= avail:
        return est
    r = scenario.region
    cell_part = est.peak_memory_bytes - BASE_BYTES
    room = avail - BASE_BYTES
    tiled = scenario.propagation.monte_carlo_realisations == 0
    tiled_hint = "run it tiled (ruralsim run --tiled, or simulator.pipeline.distributed.run_tiled), " \
        "or " if tiled else ""
    if room > 0 and cell_part > 0:
        fits_m = r.resolution_m * math.sqrt(cell_part / room) * 1.05
        hint = (f"{tiled_hint}use a coarser region.resolution_m (about {math.ceil(fits_m):,} "
                "m or more fits) or a smaller region.width_km / region.height_km")
    else:
        hint = f"{tiled_hint}free some memory or run on a machine with more memory"
    src = str(scenario.source_path) if scenario.source_path else None
    raise ScenarioError(
        f"this run would need about {gb_text(est.peak_memory_bytes)} of memory "
        f"({est.cells:,} cells of {r.resolution_m:g} m, {est.sites} sites, model {est.model}; about "
        f"{est.time_s / 3600:,.1f} h of compute) but {gb_text(avail)} is available; {hint}",
        file=src, key="region.resolution_m", value=r.resolution_m)
