"""The tile pass: engine, serving and the tile's sums for one tile (a pure task).

Every run, in memory or tiled, serial or on Dask, sends each tile of the grid through
:func:`tile_task`: the engine's fields for the tile (the flat engine,
:func:`simulator.pipeline.engine.compute_tile_fields`, for all sites and the existing
sites alone from the same pairs; or with a terrain method the tile's window of the site
pass's fields), then :func:`simulator.radio.serving.serve`. It sends back

* exact sums (:class:`TileOutput`): integers, per-site sums, people per 0.1 dB of signal
  (for the signal CDF, all sites and existing sites), float sums as fixed point
  (:func:`fixed`), so tiles add up in any order to the same bytes;
* the windows the run's sink asks for (``TileJob.windows``): region arrays for an
  in-memory result, or GeoTIFF windows (:func:`raster_specs`) for a run written to disk;
* with Monte Carlo shadowing, the window of the best server's worst-link margin, from
  which the driver counts the people covered per realisation
  (:func:`simulator.pipeline.reduction.monte_carlo_coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..region.grid import Grid, Tile

#: Cell terms of float sums are rounded to multiples of 2**-FIXED_POINT_BITS and summed as
#: int64 (exact and order-free). 2**-24 is 6e-8 person; int64 holds 5e11 at this scale.
FIXED_POINT_BITS = 24
SCALE = float(2 ** FIXED_POINT_BITS)
_MAX_TERM = 2.0 ** 62 / SCALE / 65536.0

from ..io.coarse import CDF_BINS, CDF_STEP_DB, signal_histogram  # noqa: F401

#: The serving arrays an in-memory result keeps (``serving.<name>`` windows).
SERVING_ARRAYS = ("dl_margin_db", "ul_rx_dbm", "ul_margin_db", "sinr_db", "throughput_mbps",
                  "covered_outdoor", "covered_indoor", "covered_dl_outdoor", "people_covered",
                  "coverage_probability", "people_covered_expected", "limitation",
                  "line_of_sight")
#: The engine arrays (``fields.<name>``, and ``base.<name>`` for the existing sites).
FIELD_ARRAYS = ("rx_dbm", "best_server", "path_loss_db", "interference_dbm")


@dataclass(frozen=True)
class TileJob:
    """What every tile task shares (sent once to each worker)."""

    grid: Grid
    sa: object                    # engine.SiteArrays of all sites
    existing: np.ndarray          # indices of the existing sites in ``sa`` (int64)
    technology: object
    model: object
    ue_height_m: float
    params: object                # serving.ServingParams
    channel: np.ndarray | None    # channel per site (None: no interference)
    services: tuple               # ((name, min Mbit/s or None), ...)
    windows: tuple = ()           # names of the windows to send back
    histograms: bool = False      # people-by-signal histograms (the signal CDF)
    required_dbm: float = 0.0     # the required signal, as summary.json rounds it [dBm]
    monte_carlo: bool = False     # send the worst-link margin window back
    clutter_lut_db: np.ndarray | None = None  # terminal clutter loss per class code [dB]

    @property
    def sa_base(self):
        from .engine import subset_site_arrays

        return subset_site_arrays(self.sa, self.existing)


@dataclass
class TileTerrain:
    """The terrain part of one tile task (the driver's window of the site pass's fields).

    Attributes
    ----------
    fields : CoverageFields or None
        The tile's window of the terrain engine's fields (all sites); None for an area
        model on a terrain (the tile task then runs the flat engine).
    line_of_sight : numpy.ndarray or None
        bool, the tile's window: in line of sight of at least one site within reach.
    fields_base : CoverageFields or None
        The same with the existing sites alone (None: there are none).
    elevation_m : numpy.ndarray or None
        float32 ground elevation of the tile [m], for terrain.tif (None: not asked).
    """

    fields: object = None
    line_of_sight: np.ndarray | None = None
    fields_base: object = None
    elevation_m: np.ndarray | None = None


@dataclass
class TileOutput:
    """What one tile sends back: exact sums, per-site sums and its windows."""

    index: int
    ints: dict                    # name -> int (exact)
    causes: dict                  # limitation code -> people
    services: dict                # service name -> people
    site_ids: np.ndarray          # sites that serve someone in the tile (int64)
    site_people: np.ndarray       # people covered per such site (int64)
    site_attached: np.ndarray     # people attached (SE > 0) per such site (int64)
    site_over_se_q: np.ndarray    # people / SE per such site, fixed point (int64)
    histograms: dict = field(default_factory=dict)   # "all"/"existing" -> int64 per bin
    windows: dict = field(default_factory=dict)


def fixed(values: np.ndarray) -> np.ndarray:
    """Float terms -> int64 multiples of 2**-FIXED_POINT_BITS (exactly summable)."""
    v = np.asarray(values, np.float64)
    if v.size and not float(np.abs(v).max()) < _MAX_TERM:
        raise ValueError(f"a per-cell term {float(np.abs(v).max()):.3g} is too large for "
                         f"the fixed-point sums (limit {_MAX_TERM:.3g})")
    return np.rint(v * SCALE).astype(np.int64)


def _per_site_int_sums(ids: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of ``values`` grouped by ``ids`` (0 <= ids < n)."""
    out = np.zeros(n, np.int64)
    np.add.at(out, ids, values.astype(np.int64))
    return out


def tile_task(job: TileJob, index: int, tile: Tile, people: np.ndarray, idx: np.ndarray,
              inside: np.ndarray | None = None, terrain: TileTerrain | None = None,
              clutter_classes: np.ndarray | None = None) -> TileOutput:
    """Engine, serving, sums and windows of one tile (pure: no I/O).

    Parameters
    ----------
    job : TileJob
    index : int
        The tile's number in the run (echoed back).
    tile : Tile
    people : numpy.ndarray
        People per cell of the tile (int).
    idx : numpy.ndarray
        Sites whose reach touches the tile (:func:`simulator.pipeline.engine.sites_near_tile`);
        unused with a terrain method (the fields come in ``terrain``).
    inside : numpy.ndarray, optional
        bool: cells inside the region boundary (None: all).
    terrain : TileTerrain, optional
    clutter_classes : numpy.ndarray, optional
        The tile's window of the clutter layer's class codes (with ``job.clutter_lut_db``):
        the terminal clutter loss is added to the fields before serving (all sites and the
        existing sites), and the people covered without it are counted too.
    """
    from ..radio.serving import serve
    from .engine import compute_tile_fields

    tech, params, sa = job.technology, job.params, job.sa
    people = np.asarray(people).astype(np.int64)
    if inside is None:
        inside = np.ones(tile.shape, bool)
    profiles = terrain is not None and terrain.fields is not None
    n_base = len(job.existing)
    if profiles:
        fields, los, bf = terrain.fields, terrain.line_of_sight, terrain.fields_base
    else:
        fields, bf = compute_tile_fields(job.grid, tile, sa, idx, tech, job.model,
                                         job.ue_height_m, job.channel,
                                         existing=job.existing if n_base else None)
        los = None
    clutter_loss = covered_without = None
    if clutter_classes is not None:
        from ..region.clutter import apply_terminal_loss
        from .clutter import people_covered_per_cell

        clutter_loss = job.clutter_lut_db[clutter_classes]
        covered_without = people_covered_per_cell(fields, sa.tx_metric_dbm, people, tech,
                                                  params, line_of_sight=los)
        fields = apply_terminal_loss(fields, clutter_loss)
        if bf is not None:
            bf = apply_terminal_loss(bf, clutter_loss)
    # n_sites=0: no per-tile capacity (the loads need the whole region; done at the end)
    sv = serve(fields, sa.tx_metric_dbm, people, tech, params, 0, line_of_sight=los)
    ints = {
        "population": int(people.sum()),
        "covered": int(sv.people_covered.sum()),
        "expected_q": int(fixed(sv.people_covered_expected).sum()),
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
        se = sv.spectral_efficiency[cov]
        attached = se > 0
        inv_se = np.zeros_like(se)
        np.divide(1.0, se, out=inv_se, where=attached)
        w = np.where(attached, ppl, 0).astype(np.float64)
        over_se_q = fixed(w * inv_se)
        att = np.where(attached, ppl, 0)
    else:
        over_se_q = np.zeros(ppl.shape, np.int64)
        att = np.zeros(ppl.shape, np.int64)
    uniq, inv = np.unique(ids, return_inverse=True)
    n = len(uniq)
    out = TileOutput(index=index, ints=ints, causes=dict(sv.uncovered_by_cause),
                     services=services, site_ids=uniq,
                     site_people=_per_site_int_sums(inv, ppl, n),
                     site_attached=_per_site_int_sums(inv, att, n),
                     site_over_se_q=_per_site_int_sums(inv, over_se_q, n))
    # baseline: the existing sites alone (people covered do not depend on line of sight)
    bsv = None
    if n_base:
        bsv = serve(bf, sa.tx_metric_dbm[job.existing], people, tech, params, 0)
        ints["existing"] = int(bsv.people_covered.sum())
    else:
        ints["existing"] = 0
    if job.histograms:
        h, none, at = signal_histogram(fields.rx_dbm, people, job.required_dbm)
        out.histograms["all"] = h
        ints.update(no_signal=none, at_required=at)
        if n_base:
            h, none, at = signal_histogram(bf.rx_dbm, people, job.required_dbm)
            out.histograms["existing"] = h
            ints.update(no_signal_existing=none, at_required_existing=at)
    if job.monte_carlo:
        ok = (best >= 0) & (sv.sinr_db >= tech.dl_required_sinr_db)
        out.windows["mc_margin"] = np.where(ok, np.minimum(sv.dl_margin_db, sv.ul_margin_db),
                                            np.float32(-np.inf)).astype(np.float32)
    if job.windows:
        avail = _window_makers(fields, bf, sv, bsv, people, inside, terrain, los,
                               clutter_classes)
        for name in job.windows:
            if name in avail:
                arr = avail[name]()
                if arr is not None:
                    out.windows[name] = arr
    return out


def _window_makers(fields, bf, sv, bsv, people, inside, terrain, los, clutter_classes=None
                   ) -> dict:
    """Name -> function making that window (only the asked ones are made)."""
    best = fields.best_server
    makers = {
        # GeoTIFFs (:func:`raster_specs`)
        "population.tif": lambda: people.astype(np.int32),
        "rx_power_dbm.tif": lambda: fields.rx_dbm,
        "best_server.tif": lambda: best,
        "covered.tif": lambda: (sv.covered_outdoor & inside).astype(np.uint8),
        "path_loss_db.tif": lambda: fields.path_loss_db,
        "sinr_db.tif": lambda: np.where(best >= 0, sv.sinr_db, np.float32(np.nan)).astype(
            np.float32),
        "coverage_probability.tif": lambda: sv.coverage_probability,
        "limitation.tif": lambda: sv.limitation,
        "throughput_mbps.tif": lambda: sv.throughput_mbps,
        "terrain.tif": lambda: None if terrain is None else terrain.elevation_m,
        "line_of_sight.tif": lambda: None if los is None else los.astype(np.uint8),
        "clutter.tif": lambda: clutter_classes,
        # region arrays of an in-memory result
        "covered": lambda: sv.covered_outdoor & inside,
        "covered_existing": lambda: (np.zeros(best.shape, bool) if bsv is None
                                     else bsv.covered_outdoor & inside),
    }
    for name in FIELD_ARRAYS:
        makers[f"fields.{name}"] = (lambda n=name: getattr(fields, n))
        makers[f"base.{name}"] = (lambda n=name: None if bf is None else getattr(bf, n))
    for name in SERVING_ARRAYS:
        makers[f"serving.{name}"] = (lambda n=name: getattr(sv, n))
    return makers


def raster_specs(technology, *, terrain: bool = False, line_of_sight: bool = False,
                 clutter=None) -> list:
    """The GeoTIFFs of a run (``terrain``: terrain.tif, ``line_of_sight``:
    line_of_sight.tif, which only the terrain methods make; ``clutter``, a ClutterLayer:
    clutter.tif)."""
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
