"""The pipeline: one flow for every run, in memory or tiled, serial or on Dask.

::

    prepare            runner.prepare: grid, people, terrain, sites, radio parameters
                       (checks first: runner.validate, resources.check_resources)
      -> site pass     terrain methods only (site_pass.run_site_pass): every site's disc
                       reduced in site order into region fields (in memory, or memmaps)
      -> tile pass     tiles.tile_task per tile: engine (all and existing sites from the
                       same pairs), serving, exact sums, windows for the sink
      -> reduction     reduction.Totals -> RunTotals -> summary (+ Monte Carlo on the
                       driver), site loads
      -> business      business.assessment.assess
      -> outputs       ScenarioResult; a run on disk writes its folder (io.results)

Two choices, and only two: the **executor** (:mod:`simulator.pipeline.executors`: this
process, or Dask workers) and the **sink** (:mod:`simulator.pipeline.sinks`: region arrays
in memory, or GeoTIFF windows on disk). :func:`simulator.pipeline.runner.run` is this flow
with the serial executor and the memory sink; :func:`simulator.pipeline.distributed.
run_tiled` with the GeoTIFF sink and either executor. summary.json is the same bytes
whichever is chosen, whatever the tile size or the number of workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ScenarioError
from . import resources, tiles as tiles_mod
from .executors import SerialExecutor
from .reduction import Totals, merge_business, monte_carlo_coverage, run_totals, \
    summary_from_totals
from .result import ScenarioResult
from .sinks import MemorySink, RasterSink
from .site_pass import (MemoryReductions, SiteJob, TerrainScratch, check_scratch_space,
                        run_site_pass, scratch_bytes, site_items)

#: ITM's terrain-aware loss can fall below its area-mode median (a site on a ridge): the
#: reach of each site is found with this much slack below the engine's floor [dB].
ITM_REACH_SLACK_DB = 10.0


def n_channels(channel) -> int:
    return int(channel.max()) + 1 if channel is not None and len(channel) else 0


def execute(scenario, *, executor=None, sink: str = "memory", out_dir=None,
            overwrite: bool = False, tile_size_cells: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            site_progress: Callable[[int, int], None] | None = None,
            scratch_dir=None, maps: bool | None = None,
            write_rasters: bool = True) -> ScenarioResult:
    """Run ``scenario`` through the pipeline (see the module text).

    Parameters
    ----------
    scenario : Scenario
    executor : SerialExecutor or DaskExecutor, optional
        Default: this process.
    sink : {"memory", "raster"}
        "memory": the result holds the region's arrays (nothing written; save it with
        :meth:`ScenarioResult.save`). "raster": the results folder ``out_dir`` is written
        while the tiles arrive (GeoTIFF windows), atomically; without ``out_dir`` only the
        numbers are computed.
    out_dir, overwrite, tile_size_cells, progress, site_progress, scratch_dir, maps,
    write_rasters
        As :func:`simulator.pipeline.distributed.run_tiled`.
    """
    from ..business.assessment import assess
    from .runner import prepare

    t0 = time.perf_counter()
    executor = executor or SerialExecutor()
    memory = sink == "memory"
    mode = "memory" if memory else "tiled"
    if out_dir is not None:
        out_dir = Path(out_dir)
        if not memory and out_dir.exists() and not overwrite:
            raise ScenarioError("results folder already exists; pass --overwrite "
                                "(overwrite=True) to replace it, or choose another --out",
                                file=str(out_dir))
    pre = prepare(scenario, mode=mode)
    timings = dict(pre.timings_s)
    grid, tech, sites, p = pre.grid, pre.technology, pre.sites, scenario.propagation
    maps = scenario.outputs.maps if maps is None else bool(maps)
    method, dem = pre.method, pre.dem
    relief_m = 0.0 if dem is None else float(dem.max() - dem.min())
    people_region = pre.population.people
    if not memory:
        people_region = people_region.astype(np.int32)     # 4 bytes a cell on the driver
        pre.population.people = people_region
    region_mask = pre.region_mask if scenario.region.boundary is not None else None
    dem_engine = dem
    if method is not None:
        # float64 once: radial_profiles would otherwise convert the DEM for every site
        dem_engine = dem.astype(np.float64)
    slack = ITM_REACH_SLACK_DB if (method is not None and method.name == "itm") else 0.0
    from .engine import site_arrays, sites_near_tile, subset_site_arrays

    sa = site_arrays(sites, pre.stations, tech, pre.model, ue_height_m=p.ue_height_m,
                     floor_dbm=tech.dl_threshold_dbm - p.floor_below_threshold_db - slack,
                     max_range_m=p.max_range_km * 1000.0)
    existing = np.flatnonzero(sites.existing).astype(np.int64)
    interference = scenario.radio.interference
    channel = pre.channel if interference else None
    rasters = (not memory) and write_rasters and out_dir is not None
    clutter = pre.clutter                    # class per cell (1-2 bytes), kept like the people
    specs = tiles_mod.raster_specs(tech, terrain=dem is not None,
                                   line_of_sight=method is not None,
                                   clutter=clutter) if rasters else []
    if memory:
        windows = MemorySink.default_names(base=len(existing) > 0,
                                           interference=channel is not None,
                                           line_of_sight=method is not None)
    else:
        windows = tuple(s.name for s in specs)
    mc = p.monte_carlo_realisations > 0
    job = tiles_mod.TileJob(grid=grid, sa=sa, existing=existing, technology=tech,
                            model=pre.model, ue_height_m=p.ue_height_m, params=pre.params,
                            channel=channel, services=tuple(pre.services.items()),
                            windows=windows, histograms=rasters and maps, monte_carlo=mc,
                            required_dbm=round(pre.required_dbm, 4),
                            clutter_lut_db=None if clutter is None else clutter.loss_lut_db)
    tile = tile_size_cells or scenario.region.tile_size_cells
    tiles = list(grid.tiles(tile))
    workers = executor.workers
    in_flight = getattr(executor, "max_in_flight", 1)
    if method is None:
        from scipy.spatial import cKDTree

        tree = cKDTree(np.c_[sa.x_m, sa.y_m]) if len(sa) else None
        idx = [sites_near_tile(grid, t, sa, tree) for t in tiles]
    else:                                    # the tiles take the site pass's fields
        idx = [np.zeros(0, np.int64)] * len(tiles)
        if executor.client is not None:
            resources.check_site_workers(scenario, grid.n_cells, workers, in_flight)
    if not memory:
        resources.check_tiles(scenario, tiles, idx, workers)
    timings["prepare"] = time.perf_counter() - t0
    totals = Totals(len(sites), job.services, histograms=job.histograms)
    mc_margin = np.full(grid.shape, -np.inf, np.float32) if mc else None
    site_info: dict = {}

    with contextlib.ExitStack() as stack:
        # ------------------------------------------------------------ terrain site pass
        reductions = None
        t_engine = time.perf_counter()
        if method is not None:
            sa_base = subset_site_arrays(sa, existing)
            ch_b = None if channel is None else channel[existing]
            if memory:
                reductions = MemoryReductions(grid.shape, channel, ch_b, len(existing))
                need = 0
            else:
                parent = _scratch_parent(scratch_dir, out_dir)
                need = scratch_bytes(grid.n_cells, n_channels(channel), n_channels(ch_b),
                                     len(existing) > 0)
                check_scratch_space(scenario, parent, need)
                reductions = TerrainScratch(parent, grid.shape, channel, ch_b, len(existing))
            stack.callback(reductions.close)
            items = site_items(sa, sa_base, existing)
            site_job = SiteJob(grid=grid, dem=dem_engine, sa=sa, sa_base=sa_base,
                               technology=tech, method=method, ue_height_m=p.ue_height_m)
            targets = {"all": reductions.all, "base": reductions.base}

            def reduce(item, disc) -> None:
                if disc is None:
                    return
                for name, j in item.targets:
                    targets[name].add(disc, j)

            t_site = time.perf_counter()
            run_site_pass(site_job, items, reduce, executor=executor, progress=site_progress)
            del site_job
            timings["site_pass"] = time.perf_counter() - t_site
            site_info = {"model": method.name, "sites": len(sa),
                         "discs_evaluated": len(items),
                         "where": "dask workers (reduced on the driver in site order)"
                         if executor.client is not None else "driver",
                         "scratch_bytes": need,
                         "seconds_per_site": round(timings["site_pass"] / max(len(items), 1),
                                                   4)}
        elevation = dem if (dem is not None and "terrain.tif" in windows) else None

        def terrain_for(k: int):
            if reductions is None and elevation is None:
                return None
            sl = tiles[k].slices
            f = fb = los = None
            if reductions is not None:
                f, los = reductions.all.fields(sl)
                if reductions.base is not None:
                    fb, _ = reductions.base.fields(sl)
            elev = None if elevation is None else elevation[sl].astype(np.float32)
            return tiles_mod.TileTerrain(fields=f, line_of_sight=los, fields_base=fb,
                                         elevation_m=elev)

        # ------------------------------------------------------------ sink
        folder = None
        out_sink = None
        if memory:
            out_sink = MemorySink(grid.shape, windows)
        elif out_dir is not None:
            from ..io.results import atomic_folder

            folder = stack.enter_context(atomic_folder(out_dir, overwrite=overwrite))
            if rasters:
                from ..io.streaming import block_size_for

                out_sink = RasterSink(folder, grid, specs, block_size=block_size_for(tile),
                                      cloud_optimised=scenario.outputs.cloud_optimised,
                                      boundary=pre.boundary, site_names=sites.names)
                stack.callback(lambda: out_sink.abort() if not closed else None)
        closed = False

        # ------------------------------------------------------------ tile pass
        def args_of(k: int) -> tuple:
            t = tiles[k]
            inside = None if region_mask is None else region_mask[t.slices]
            classes = None if clutter is None else clutter.window(t)
            return (k, t, people_region[t.slices], idx[k], inside, terrain_for(k), classes)

        def collect(k: int, out) -> None:
            totals.add(out)
            if out_sink is not None:
                out_sink.write(tiles[k], out.windows)
            if mc_margin is not None:
                mc_margin[tiles[k].slices] = out.windows["mc_margin"]
            out.windows = {}
            if progress is not None:
                progress(totals.tiles, len(tiles))

        def describe(k: int) -> str:
            t = tiles[k]
            return (f"tile {k + 1} of {len(tiles)} (rows {t.row0}:{t.row1}, cols "
                    f"{t.col0}:{t.col1})")

        t1 = time.perf_counter()
        if progress is not None:
            progress(0, len(tiles))
        executor.map(tiles_mod.tile_task, job, len(tiles), args_of, collect, ordered=False,
                     describe=describe, name="tile")
        timings["tiles"] = time.perf_counter() - t1
        timings["engine"] = time.perf_counter() - t_engine
        if totals.tiles != len(tiles):  # never a silent partial total
            raise ScenarioError(f"only {totals.tiles} of {len(tiles)} tiles came back; no "
                                "results were written")
        arrays = {}
        if out_sink is not None:
            t2 = time.perf_counter()
            arrays = out_sink.close() if memory else {}
            if not memory:
                out_sink.close()
            closed = True
            timings["raster_close"] = time.perf_counter() - t2

        # ------------------------------------------------------------ reduction
        t3 = time.perf_counter()
        rt = run_totals(totals, tech, pre.params, len(sites),
                        line_of_sight=method is not None, terrain_relief_m=relief_m)
        summary = summary_from_totals(
            rt, scenario, grid, sites, tech, pre.required_dbm, pre.margin_db, pre.params,
            pre.warnings, terrain=dem is not None,
            inputs={"population": pre.population_info, "towers": pre.tower_counts},
            delta_h_m=pre.delta_h_m)
        if clutter is not None:
            from .clutter import clutter_summary

            summary["clutter"] = clutter_summary(totals.ints, clutter)
        if mc:
            summary["people_covered_monte_carlo"] = monte_carlo_coverage(
                scenario, grid, people_region, mc_margin)
            del mc_margin
        timings["reduction"] = time.perf_counter() - t3
        # ------------------------------------------------------------ business
        t4 = time.perf_counter()
        business = assess(scenario, grid, sites, pre.stations, rt.people_served_per_site,
                          population_total=summary["population_total"],
                          people_covered=summary["people_covered"],
                          people_covered_existing=summary["people_covered_by_existing_sites"],
                          dem=dem)
        merge_business(summary, business)
        timings["business"] = time.perf_counter() - t4
        timings["total"] = time.perf_counter() - t0

        # ------------------------------------------------------------ result
        cdf = {}
        if job.histograms:
            cdf = {"all": totals.histograms["all"],
                   "no_signal": totals.ints.get("no_signal", 0),
                   "at_required": totals.ints.get("at_required", 0)}
            if len(existing):
                cdf.update(existing=totals.histograms["existing"],
                           no_signal_existing=totals.ints.get("no_signal_existing", 0),
                           at_required_existing=totals.ints.get("at_required_existing", 0))
        result = ScenarioResult(
            scenario=scenario, grid=grid, population=pre.population, sites=sites,
            stations=pre.stations, technology=tech,
            people_served_per_site=rt.people_served_per_site, channel=pre.channel,
            terrain_delta_h_m=pre.delta_h_m, business=business, summary=summary,
            timings_s=timings, boundary=pre.boundary,
            inputs={"population": pre.population_info, "towers": pre.tower_counts},
            input_files=pre.input_files, site_load=rt.site_load, signal_cdf=cdf,
            mode=mode, out_dir=out_dir if not memory else None, tiles=len(tiles),
            tile_size_cells=tile, workers=workers, site_pass=site_info, clutter=clutter)
        if memory:
            _fill_memory_result(result, arrays, pre, rt, dem)
        else:
            result.population = dataclasses.replace(pre.population,
                                                     people=np.zeros((0, 0), np.int32))
            if folder is not None:
                write_tiled_outputs(result, folder, maps=maps and rasters)
    return result


def _scratch_parent(scratch_dir, out_dir) -> Path:
    """The folder of the site pass's memmaps, checked writable (one ScenarioError line)."""
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
    return parent


def _fill_memory_result(result: ScenarioResult, arrays: dict, pre, rt, dem) -> None:
    """Region arrays of an in-memory result from the memory sink, and the per-cell
    people served at busy hour (the site loads need every tile)."""
    from ..radio.capacity import SiteLoad, shannon_throughput_bps_per_hz
    from ..radio.serving import ServingFields
    from .engine import CoverageFields

    tech, n = result.technology, len(result.sites)

    def fields(prefix):
        if f"{prefix}.rx_dbm" not in arrays:
            return None
        return CoverageFields(arrays[f"{prefix}.rx_dbm"], arrays[f"{prefix}.best_server"],
                              arrays[f"{prefix}.path_loss_db"],
                              arrays.get(f"{prefix}.interference_dbm"))

    f = fields("fields")
    base = fields("base")
    if base is None:
        shape = result.grid.shape
        base = CoverageFields.empty(shape, with_interference=f.interference_dbm is not None)
    sv = {name: arrays.get(f"serving.{name}") for name in tiles_mod.SERVING_ARRAYS}
    people_cov = sv["people_covered"]
    served = people_cov.astype(np.float64)
    load = None
    if tech.carries_data and n:
        # capacity.site_load's per-cell people served, from the region's site loads
        se = shannon_throughput_bps_per_hz(np.nan_to_num(sv["sinr_db"], nan=-np.inf),
                                           alpha=tech.shannon_alpha,
                                           sinr_min_db=tech.shannon_sinr_min_db,
                                           max_bps_per_hz=tech.shannon_max_bps_per_hz)
        se = np.where(f.best_server >= 0, se, 0.0)
        attached = (people_cov > 0) & (f.best_server >= 0) & (se > 0)
        frac = rt.served_fraction
        served = np.where(attached, people_cov * frac[np.where(attached, f.best_server, 0)],
                          0.0)
        a, rate = pre.params.busy_hour_active_share, pre.params.mbps_per_active_user
        people_attached = rt.people_attached_per_site.astype(np.float64)
        demand = people_attached * a * rate
        with np.errstate(divide="ignore", invalid="ignore"):
            capacity = np.where(rt.site_load > 0, demand / rt.site_load, 0.0)
        load = SiteLoad(demand, capacity, rt.site_load, frac, people_attached,
                        people_attached * frac, served)
    serving = ServingFields(
        dl_margin_db=sv["dl_margin_db"], ul_rx_dbm=sv["ul_rx_dbm"],
        ul_margin_db=sv["ul_margin_db"], sinr_db=sv["sinr_db"],
        throughput_mbps=sv["throughput_mbps"], covered_outdoor=sv["covered_outdoor"],
        covered_indoor=sv["covered_indoor"], covered_dl_outdoor=sv["covered_dl_outdoor"],
        people_covered=people_cov, coverage_probability=sv["coverage_probability"],
        people_covered_expected=sv["people_covered_expected"], limitation=sv["limitation"],
        uncovered_by_cause=dict(rt.uncovered_by_cause), people_served_per_cell=served,
        site_load=load, line_of_sight=sv["line_of_sight"],
        spectral_efficiency=se if tech.carries_data and n else None)
    result.fields, result.fields_existing, result.serving = f, base, serving
    result.covered = arrays["covered"]
    result.covered_existing = arrays["covered_existing"]
    result.terrain = dem
    result.region_mask = pre.region_mask


# --------------------------------------------------------------------------- outputs on disk
def write_tiled_outputs(result: ScenarioResult, folder: Path, *, maps: bool) -> None:
    """Summary, sites, scenario, maps and report, run_info and manifest of a run written
    tile by tile (its GeoTIFFs are in ``folder`` already).

    The maps (``maps``: the rasters are in ``folder``) are drawn from a coarse reading of
    the rasters (:func:`simulator.io.coarse.read_coarse_map`, bounded memory) and the
    exact people-by-signal histograms of the tile pass; their numbers and the report's
    come from the summary.
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
    step = f"{tiles_mod.CDF_STEP_DB:g} dB"
    curves = "all sites and existing sites only" if "existing" in result.signal_cdf \
        else "all sites"
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
                f"outdoor coverage; the signal curve is over people in {step} steps, "
                f"{curves}). Every number on this page is exact, from summary.json.")
        maps_info = {"coverage_map.png": cm.aggregation_text,
                     "coarse_cells": list(cm.grid.shape), "factor": cm.factor,
                     "coarse_people_total": int(cm.people.sum()),
                     "rx_cdf.png": f"people per {step} bin of the best-server signal, "
                                   f"{curves}"}
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


def tiled_figures(result: ScenarioResult, folder: Path):
    """coverage_map and rx_cdf PNGs (with captions) of a run on disk from the rasters in
    ``folder``, and the :class:`simulator.io.coarse.CoarseMap` they were drawn from."""
    from ..io.coarse import read_coarse_map
    from ..io.results import draw_figures

    cm = read_coarse_map(folder, result, boundary=result.boundary,
                         population=result.settlements)
    if getattr(result, "clutter", None) is not None and (folder / "clutter.tif").exists():
        from ..io.landcover import read_coarse_clutter

        cm.clutter = read_coarse_clutter(folder / "clutter.tif", result.clutter, cm.grid,
                                         cm.factor)
    step = f"{tiles_mod.CDF_STEP_DB:g} dB"
    which = "with and without the new sites" if cm.cdf_people_existing is not None \
        else "all sites"
    captions = {
        "coverage_map": f"Coverage map, {cm.aggregation_text}: mean received signal over "
                        "the covered cells of each coarse cell, red where most of its "
                        "people have no outdoor coverage, sites by type, region boundary; "
                        "north up.",
        "rx_cdf": f"Best-server downlink signal over people (CDF, {which}; counted in "
                  f"{step} steps over every cell); the red line is the required signal."}
    return draw_figures(cm, captions), cm
