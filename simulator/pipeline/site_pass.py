"""The terrain site pass: every site's disc, reduced in site order, before the tiles.

On a terrain, the engine works per site over the site's disc (:mod:`simulator.pipeline.engine_terrain`),
not per tile. A run with a terrain method therefore first evaluates every site's disc once,
in site index order, and reduces it into region-sized fields: best signal, server, path
loss, line of sight and the co-channel sums, for all sites and for the existing sites alone
(each existing site's disc computed once for both). An in-memory run keeps them in memory
(:class:`MemoryReductions`); a run written to disk keeps them as ``numpy.memmap`` files in
a temporary folder (:class:`TerrainScratch`; :func:`scratch_bytes` of disk). The tiles then
take their window of those fields. Sites run on the run's executor (this process or Dask
tasks, :func:`site_task`); the driver reduces the discs strictly in site order
(:func:`run_site_pass`), so the fields are bit-identical whatever the mode or the number
of workers.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..region.grid import Grid
from .resources import gb_text


@dataclass(frozen=True)
class SiteJob:
    """What every site task of the terrain site pass shares (sent once to each worker)."""

    grid: Grid
    dem: np.ndarray               # float64 copy of the float32 DEM [m], the grid's shape
    sa: object                    # engine.SiteArrays of all sites
    sa_base: object               # engine.SiteArrays of the existing sites
    technology: object
    method: object                # engine_terrain.TerrainMethod
    ue_height_m: float


def site_task(job: SiteJob, which: str, k: int):
    """One site's disc (:func:`simulator.pipeline.engine_terrain.site_disc`; pure: no I/O).

    ``which`` is "all" (``k`` indexes all sites) or "base" (``k`` indexes the existing
    sites). Returns a :class:`~simulator.pipeline.engine_terrain.SiteDisc` or None.
    """
    from .engine_terrain import site_disc

    sa = job.sa if which == "all" else job.sa_base
    return site_disc(job.grid, job.dem, sa, k, job.technology, job.method,
                     ue_height_m=job.ue_height_m)


@dataclass(frozen=True)
class _SiteItem:
    """One disc of the site pass and the reductions it goes into: ((name, index), ...)."""

    which: str
    k: int
    targets: tuple


_SITE_FIELDS = ("x_m", "y_m", "height_m", "eirp_metric_dbm", "sectors", "hpbw_h_deg",
                "hpbw_v_deg", "tilt_deg", "azimuth_deg", "reach_m")


def _same_site(sa, k: int, sb, j: int) -> bool:
    """Site ``k`` of ``sa`` and site ``j`` of ``sb`` have bit-identical engine inputs."""
    for name in _SITE_FIELDS:
        if np.asarray(getattr(sa, name)[k]).tobytes() != np.asarray(
                getattr(sb, name)[j]).tobytes():
            return False
    pa = sa.patterns[k] if sa.patterns else None
    pb = sb.patterns[j] if sb.patterns else None
    return pa is pb


def site_items(sa, sa_base, existing: np.ndarray) -> list:
    """The site pass: every site in index order, each existing site's disc reduced into
    the baseline too when its inputs are the same in both site lists (always, as both
    come from :func:`simulator.pipeline.engine.site_arrays`; otherwise the existing sites are
    evaluated again, after the others, so each reduction still sees its sites in order)."""
    shared = len(existing) == len(sa_base) and all(
        _same_site(sa, int(k), sa_base, j) for j, k in enumerate(existing))
    base_of = {int(k): j for j, k in enumerate(existing)} if shared else {}
    items = [_SiteItem("all", k, (("all", k),) + ((("base", base_of[k]),)
                                                  if k in base_of else ()))
             for k in range(len(sa))]
    if not shared:
        items += [_SiteItem("base", j, (("base", j),)) for j in range(len(sa_base))]
    return items


_SCRATCH_PREFIX = ".ruralsim-terrain-"


def _scratch_prefix(pid: int | None = None) -> str:
    """``.ruralsim-terrain-<host>-<pid>-``: the host keeps runs on other machines sharing the
    folder out of :func:`remove_stale_scratch`."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"
    return f"{_SCRATCH_PREFIX}{host}-{os.getpid() if pid is None else pid}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # someone else's process: alive
        return True
    return True


def remove_stale_scratch(parent: Path) -> list[Path]:
    """Delete scratch folders left in ``parent`` by runs of this host that were killed
    (SIGKILL, power loss: their process no longer exists). Returns what was removed."""
    import shutil

    mine = _scratch_prefix(0)[:-len("0-")]       # the prefix up to the pid
    removed = []
    for path in Path(parent).glob(f"{mine}*"):
        pid_text = path.name[len(mine):].split("-", 1)[0]
        if path.is_dir() and pid_text.isdigit() and not _alive(int(pid_text)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class TerrainScratch:
    """The site pass's region-sized fields, as ``numpy.memmap`` files in a temporary folder.

    ``all``: every site (with line of sight); ``base``: the existing sites alone (None
    without any). :meth:`close` deletes the folder (the run calls it on success and on
    failure); folders of killed runs are removed by the next run in the same place
    (:func:`remove_stale_scratch`).
    """

    def __init__(self, parent: Path, shape, channel, channel_base, n_base: int):
        import tempfile

        remove_stale_scratch(parent)
        self.folder = Path(tempfile.mkdtemp(prefix=_scratch_prefix(), dir=parent))
        self.all = self.base = None
        try:
            self.all = _memmap_reduction(self.folder, "all", shape, channel, True)
            if n_base:
                self.base = _memmap_reduction(self.folder, "base", shape, channel_base, False)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        import shutil

        self.all = self.base = None       # unmap before deleting
        shutil.rmtree(self.folder, ignore_errors=True)


def _memmap_reduction(folder: Path, prefix: str, shape, channel, line_of_sight: bool):
    from .engine_terrain import FieldReduction

    def allocate(name, arr_shape, dtype, fill):
        mm = np.memmap(folder / f"{prefix}-{name}.bin", dtype=dtype, mode="w+",
                       shape=arr_shape)
        if np.asarray(fill, dtype) != 0:      # new files read as zeros (NaN != 0)
            rows = max(1, (1 << 24) // max(1, arr_shape[-1] * mm.itemsize))
            for r0 in range(0, arr_shape[-2], rows):
                mm[..., r0:r0 + rows, :] = fill
        return mm

    return FieldReduction(shape, channel, line_of_sight=line_of_sight, allocate=allocate)


def scratch_bytes(n_cells: int, n_channels: int, n_channels_base: int, has_base: bool) -> int:
    """Disk space of the site pass's memmap files [bytes]: per cell 12 bytes (best signal,
    server, path loss) + 1 (line of sight) + 8 per channel (co-channel sums), and the
    same for the existing sites without line of sight."""
    from .engine_terrain import FieldReduction

    per_cell = FieldReduction.bytes_per_cell(n_channels, True)
    if has_base:
        per_cell += FieldReduction.bytes_per_cell(n_channels_base, False)
    return int(n_cells) * per_cell


def check_scratch_space(scenario, folder: Path, need: int) -> None:
    import shutil

    free = shutil.disk_usage(folder).free
    if need > 0.9 * free:
        src = str(scenario.source_path) if scenario.source_path else None
        raise ScenarioError(
            f"the terrain site pass needs about {gb_text(need)} of scratch disk in {folder} and "
            f"{gb_text(free)} is free; free some space, pass scratch_dir, or use a coarser "
            "region.resolution_m", file=src, key="region.resolution_m",
            value=scenario.region.resolution_m)


class MemoryReductions:
    """The site pass's region-sized fields in memory (an in-memory run): the same
    :class:`~simulator.pipeline.engine_terrain.FieldReduction` as :class:`TerrainScratch`,
    on numpy arrays."""

    def __init__(self, shape, channel, channel_base, n_base: int):
        from .engine_terrain import FieldReduction

        self.all = FieldReduction(shape, channel, line_of_sight=True)
        self.base = FieldReduction(shape, channel_base, line_of_sight=False) if n_base else None

    def close(self) -> None:
        self.all = self.base = None


def run_site_pass(job: SiteJob, items: list, reduce, *, client=None, retries: int = 2,
                  max_in_flight: int | None = None, progress=None, executor=None) -> None:
    """Evaluate every item's disc and reduce it, strictly in item order.

    On ``executor`` (:mod:`simulator.pipeline.executors`; default: Dask on ``client``, or
    this process): results that arrive early are held until their predecessors are
    reduced; at most ``max_in_flight`` items are submitted or held at any time, which
    bounds the driver's memory to that many discs.
    """
    from .executors import executor_for

    if executor is None:
        executor = executor_for(client, retries=retries, max_in_flight=max_in_flight)
    n = len(items)
    if progress is not None:
        progress(0, n)

    def collect(i: int, disc) -> None:
        reduce(items[i], disc)
        if progress is not None:
            progress(i + 1, n)

    def describe(i: int) -> str:
        it = items[i]
        total = len(job.sa) if it.which == "all" else len(job.sa_base)
        return (f"site pass: site {it.k + 1} of {total} "
                f"({'all sites' if it.which == 'all' else 'existing sites'})")

    executor.map(site_task, job, n, lambda i: (items[i].which, items[i].k), collect,
                 ordered=True, describe=describe, name="site")
