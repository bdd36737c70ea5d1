"""The clutter layer of a run: built once in preparation, applied inside the link budget.

* :func:`make_clutter` (called by :func:`simulator.pipeline.runner.prepare`, like the DEM):
  the scenario's ``clutter:`` section -> class table (packaged ESA WorldCover table
  ``simulator/data/clutter.yaml`` merged with ``clutter.classes``) and class per cell
  (:func:`simulator.io.landcover.read_landcover_to_grid`, or
  :func:`simulator.region.clutter.synthetic_clutter` seeded with
  ``component_rng(seed, "clutter")``) -> :class:`simulator.region.clutter.ClutterLayer`.
* The serving step of either run (in memory: ``runner._pass``; tiled:
  ``distributed.tile_task`` with the tile's window of classes) adds the per-cell loss to
  the engine's fields (:func:`simulator.region.clutter.apply_terminal_loss`) before
  :func:`simulator.radio.serving.serve`, and serves the fields without it once more
  (:func:`people_covered_per_cell`) to count the people the clutter decided.
* :func:`clutter_summary` turns the integer sums of
  :func:`simulator.region.clutter.clutter_sums` (added tile by tile in a tiled run) into
  summary.json's ``clutter`` section, identical in both modes.

Calibration and point-to-point predictions use :meth:`ClutterLayer.loss_at_xy
<simulator.region.clutter.ClutterLayer.loss_at_xy>` on the layer :func:`make_clutter`
returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from ..random import component_rng
from ..region.clutter import (BUILT_UP, CROPLAND, TREE_COVER, ClutterLayer, default_classes,
                              make_class, synthetic_clutter)

#: How the clutter median meets the location variability (summary.json).
STATISTIC_TEXT = ("median loss (P.2108 §3.1 gives no location percentage); the scenario's "
                  "shadowing_sigma_db and location_reliability apply to path loss plus clutter")
#: What summary.json says the model is.
MODEL_TEXT = ("ITU-R P.2108-1 §3.1 height gain terminal correction model, eq. (2a), median, "
              "at the terminal (receiver end); open and water classes add nothing")


def _src(scenario) -> str | None:
    return str(scenario.source_path) if scenario.source_path else None


def _resolve(scenario, path: str) -> Path:
    p = Path(path).expanduser()
    if p.is_absolute() or scenario.source_path is None:
        return p
    return Path(scenario.source_path).parent / p


def class_table(scenario) -> dict:
    """The run's class table: the packaged one (unless ``replace_default_classes``) with
    ``clutter.classes`` merged over it (a code given replaces that class)."""
    spec = scenario.clutter
    table = {} if spec.replace_default_classes else default_classes()
    for code, c in spec.classes.items():
        try:
            table[int(code)] = make_class(int(code), **c.model_dump(exclude_none=True))
        except ValueError as exc:  # pragma: no cover - the schema checks the same bounds
            raise ScenarioError(f"{exc}", file=_src(scenario),
                                key=f"clutter.classes.{code}") from None
    return table


def check_clutter(scenario, technology) -> None:
    """The checks of ``clutter:`` a run makes before computing (for ``runner.validate``)."""
    spec = scenario.clutter
    if spec is None:
        return
    f = technology.frequency_mhz
    if not 30.0 <= f <= 3000.0:
        raise ScenarioError(f"ITU-R P.2108 §3.1 clutter loss is valid for 30-3000 MHz and "
                            f"{technology.name} is at {f:g} MHz; choose a technology in range "
                            "or remove the clutter section", file=_src(scenario), key="clutter",
                            value=f)
    table = class_table(scenario)
    if spec.synthetic is not None:
        missing = [c for c in (CROPLAND, TREE_COVER, BUILT_UP) if c not in table]
        if missing:
            raise ScenarioError(f"synthetic clutter uses WorldCover codes 40 (open), 10 "
                                f"(forest) and 50 (built-up); give {missing} under "
                                "clutter.classes or drop replace_default_classes",
                                file=_src(scenario), key="clutter.classes")
    if spec.raster is not None:
        path = _resolve(scenario, spec.raster.file)
        if not path.is_file():
            raise ScenarioError(f"land-cover raster not found at {path} (paths are relative "
                                "to the scenario file's folder)", file=_src(scenario),
                                key="clutter.raster.file", value=spec.raster.file)


def _warnings(scenario) -> list[str]:
    p = scenario.propagation
    hata = {"hata_1980", "cost231_hata"}
    used = p.model in hata or (p.model in ("deygout", "bullington") and
                               p.diffraction_base in hata)
    if used and p.environment != "open":
        return [f"clutter: propagation.environment is '{p.environment}', whose Hata correction "
                "already counts the surroundings of the terminal, and the clutter loss counts "
                "them again; use environment: open with clutter"]
    return []


def make_clutter(scenario, grid, population, region_mask, technology):
    """The run's :class:`~simulator.region.clutter.ClutterLayer` (None without
    ``clutter:``) and warnings for the summary.

    Parameters
    ----------
    scenario : Scenario
    grid : Grid
    population : Population
        Its settlements place the synthetic built-up areas.
    region_mask : numpy.ndarray
        bool: cells inside the region (they must all have a known class).
    technology : Technology
        Its frequency sets the loss (``propagation.ue_height_m`` the terminal height).
    """
    spec = scenario.clutter
    if spec is None:
        return None, []
    check_clutter(scenario, technology)
    table = class_table(scenario)
    if spec.raster is not None:
        from ..io.landcover import NODATA_CODE, read_landcover_to_grid

        path = _resolve(scenario, spec.raster.file)
        codes, info = read_landcover_to_grid(path, grid, known_codes=table,
                                             band=spec.raster.band, region_mask=region_mask,
                                             key="clutter.raster.file",
                                             scenario_file=_src(scenario))
        # cells outside the region (no people, not counted) without a known class take the
        # region's most frequent class, so every cell has a loss
        hole = codes == NODATA_CODE
        if hole.any():
            inside = codes[~hole]
            fill = np.bincount(inside).argmax() if inside.size else min(table)
            codes[hole] = fill
        source = "raster"
    else:
        s = spec.synthetic
        radius = s.built_up_radius_1000_m
        if radius is None:
            syn = scenario.population.synthetic
            radius = syn.settlement_radius_m if syn is not None else 250.0
        codes = synthetic_clutter(grid, population.settlement_x_m, population.settlement_y_m,
                                  population.settlement_people, forest_share=s.forest_share,
                                  forest_patch_m=s.forest_patch_km * 1000.0,
                                  built_up_radius_1000_m=radius,
                                  min_settlement_people=s.min_settlement_people,
                                  rng=component_rng(scenario.seed, "clutter"))
        info = {"forest_share": s.forest_share, "forest_patch_km": s.forest_patch_km,
                "built_up_radius_1000_m": radius,
                "min_settlement_people": s.min_settlement_people,
                "settlements": "generated" if population.settlement_kind == "synthetic"
                else "people-weighted 1 km blocks of the population raster"}
        source = "synthetic"
    try:
        layer = ClutterLayer.build(grid, codes, table, frequency_mhz=technology.frequency_mhz,
                                   terminal_height_m=scenario.propagation.ue_height_m,
                                   source=source, info=info)
    except ValueError as exc:
        raise ScenarioError(f"{exc}; check propagation.ue_height_m and the class "
                            "table", file=_src(scenario), key="clutter") from None
    return layer, _warnings(scenario)


def people_covered_per_cell(fields, tx_metric_dbm, people, technology, params, *,
                            line_of_sight=None, strip_rows: int = 256) -> np.ndarray:
    """People covered per cell as :func:`simulator.radio.serving.serve` decides it, strip
    by strip (no capacity: coverage is per cell), so the transient arrays stay small.

    Used for the counterfactual "without the clutter loss".
    """
    from ..radio.serving import serve
    from .engine import CoverageFields

    out = np.zeros(fields.rx_dbm.shape, np.int64)
    people = np.asarray(people)
    for r0 in range(0, out.shape[0], strip_rows):
        sl = (slice(r0, r0 + strip_rows), slice(None))
        sub = CoverageFields(fields.rx_dbm[sl], fields.best_server[sl], fields.path_loss_db[sl],
                             None if fields.interference_dbm is None
                             else fields.interference_dbm[sl])
        sv = serve(sub, tx_metric_dbm, people[sl], technology, params, 0,
                   line_of_sight=None if line_of_sight is None else line_of_sight[sl])
        out[sl] = sv.people_covered
    return out


def clutter_summary(sums: dict, layer: ClutterLayer) -> dict:
    """summary.json's ``clutter`` section from the integer sums of
    :func:`simulator.region.clutter.clutter_sums` (JSON-ready, fixed key order).

    ``people_not_covered_because_of_clutter``: people who would be covered without the
    clutter loss and are not with it (in total and per class).
    """
    present = [code for code in sorted(layer.table)
               if sums.get(f"clutter_cells_{code}", 0) or sums.get(f"clutter_people_{code}", 0)]
    names = [layer.table[c].name for c in present]
    classes = {}
    for code, name in zip(present, names):
        c = layer.table[code]
        label = name if names.count(name) == 1 else f"{name}_{code}"
        classes[label] = {
            "code": int(code), "type": c.type,
            "height_m": None if c.height_m is None else round(float(c.height_m), 3),
            "loss_db": round(float(layer.loss_lut_db[code]), 4),
            "cells": int(sums.get(f"clutter_cells_{code}", 0)),
            "people": int(sums.get(f"clutter_people_{code}", 0)),
            "people_covered": int(sums.get(f"clutter_covered_{code}", 0)),
            "people_not_covered_because_of_clutter": int(sums.get(f"clutter_decided_{code}",
                                                                  0)),
        }
    decided = sum(v["people_not_covered_because_of_clutter"] for v in classes.values())
    return {"source": layer.source, "model": MODEL_TEXT, "statistic": STATISTIC_TEXT,
            "frequency_mhz": round(layer.frequency_mhz, 4),
            "terminal_height_m": round(layer.terminal_height_m, 4),
            "people_not_covered_because_of_clutter": int(decided),
            "classes": classes, "input": layer.info}
