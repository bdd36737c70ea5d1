"""A catalogue of bad inputs, each through the command line.

Every case must give: its exit status (2 for a user's mistake, 3 when the machine cannot do
it), exactly one line on stderr naming the file and the key (dotted path) or the line, a
hint at the remedy or what is allowed, no traceback, and nothing written or changed: every
file of the case's folder is the same, byte for byte, before and after (no results folder,
no hidden partial folder), and nothing appears outside it.

Every case of ``run`` or ``validate`` on a scenario is also run with the other command, which
must refuse it with the same line (``validate`` makes every check ``run`` makes before
computing: tests ``test_validate_and_run_agree``).

The cases run once per module, each command line in its own forked process of one
interpreter that imported the libraries once (tests/cli_batch.py), two at a time; each
parametrised test then checks its own case. A few cases are also run as real
``python -m simulator.cli`` processes and must give the same result.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from . import badinput_files as bf

BASE = {
    "name": "tiny",
    "seed": 1,
    "region": {"centre_lon_lat": [bf.CENTRE_LON, bf.CENTRE_LAT], "width_km": 4,
               "height_km": 4, "resolution_m": 200},
    "population": {"synthetic": {"total_people": 800, "settlements": 3}},
    "sites": {"new": [{"station": "ruralstar_pro", "count": 1}]},
    "outputs": {"maps": False, "report": False},
}

_DELETE = object()


def scen(patch: dict | None = None, **top) -> str:
    """BASE with ``patch`` merged in (nested dicts merge; ``_DELETE`` removes a key)."""
    data = copy.deepcopy(BASE)

    def merge(dst, src):
        for k, v in src.items():
            if v is _DELETE:
                dst.pop(k, None)
            elif isinstance(v, dict) and isinstance(dst.get(k), dict):
                merge(dst[k], v)
            else:
                dst[k] = v

    merge(data, dict(patch or {}, **top))
    return yaml.safe_dump(data, sort_keys=False)


def raw_population(name="pop.tif"):
    return {"population": {"synthetic": _DELETE, "raster": {"file": name}}}


def dem_terrain(name="dem.tif", **kw):
    return {"terrain": {"raster": {"file": name, **kw}},
            "propagation": {"model": "deygout"}}


def towers(name="towers.csv"):
    return {"sites": {"existing_towers": [{"file": name}]}}


PLAN = {"planning": {"max_sites": 2, "candidates": {"source": "grid", "spacing_km": 1}}}
PROG = {"programme": {"target": {"share": 0.5}}}


@dataclass
class Case:
    yaml: str | bytes | Callable[[Path], str] | None
    expect: list[str]
    cmd: str = "validate"
    files: dict[str, Callable[[Path], object]] = field(default_factory=dict)
    err_file: str | None = "bad.yaml"  # the file the message names ("" the folder, None none)
    where: str | None = "key"       # "key": expect[0] is the key; a regex; None: file level
    argv: Callable[[Path], list[str]] | None = None
    code: int = 2                   # exit status
    twin: bool | None = None        # run with the other of run/validate (None: when it can)
    env: dict[str, str] | Callable[[Path], dict] | None = None  # "_cwd": "parent" runs there
    escape: list[str] = field(default_factory=list)  # paths beside the folder: must not appear

    def has_twin(self) -> bool:
        if self.twin is not None:
            return self.twin
        return self.cmd in ("run", "validate") and self.argv is None and self.yaml is not None


def _tif(builder, *post, **kw):
    def make(p):
        builder(p, **kw)
        for f in post:
            f(p)
    return make


def _text(s: str | bytes):
    def make(p):
        p.write_bytes(s if isinstance(s, bytes) else s.encode())
    return make


LINE = r"line \d+"

CASES: dict[str, Case] = {
    # ---- YAML text and the file itself --------------------------------------------------
    "yaml_unclosed_bracket": Case(scen().replace("sites:\n", "sites: [\n"), ["YAML syntax"],
                                  where=LINE),
    "yaml_tab_indent": Case(scen().replace("  width_km", "\twidth_km"), ["YAML syntax"],
                            where=LINE),
    "yaml_bad_colon": Case("name: a: b\n", ["YAML syntax"], where=LINE),
    "yaml_unterminated_quote": Case("name: 'tiny\nseed: 1\n", ["YAML syntax"], where=LINE),
    "yaml_duplicate_key": Case(scen() + "seed: 2\n", ["seed", "twice", "remove"], where=LINE),
    "yaml_empty_file": Case("", ["mapping"], where=LINE),
    "yaml_top_level_list": Case("- a\n- b\n", ["mapping"], where=LINE),
    "yaml_top_level_scalar": Case("just text\n", ["mapping"], where=LINE),
    "yaml_not_utf8": Case(b"name: \xff\xfe tiny\n", ["UTF-8"], where=None),
    "scenario_missing": Case(None, ["file not found"], where=None,
                             argv=lambda d: ["validate", str(d / "bad.yaml")]),
    "scenario_is_folder": Case(None, ["not a file"], where=None, err_file="afolder",
                               argv=lambda d: (d.joinpath("afolder").mkdir(),
                                               ["validate", str(d / "afolder")])[1]),
    # ---- unknown keys -------------------------------------------------------------------
    "unknown_top_key": Case(scen(regoin={"width_km": 4}),
                            ["regoin", "unknown key", "allowed keys"]),
    "unknown_region_key": Case(scen({"region": {"widht_km": 4}}),
                               ["region.widht_km", "width_km"]),
    "unknown_itm_key": Case(scen({"propagation": {"itm": {"climat": "desert"}}}),
                            ["propagation.itm.climat", "climate"]),
    "unknown_site_key": Case(scen({"sites": {"new": [{"station": "ruralstar_pro",
                                                      "cuont": 2}]}}),
                             ["sites.new.0.cuont", "count"]),
    "unknown_economics_key": Case(scen(economics={"discount": 0.1}),
                                  ["economics.discount", "discount_rate"]),
    "unknown_outputs_key": Case(scen({"outputs": {"folder": "x"}}), ["outputs.folder", "dir"]),
    # ---- wrong types and units ----------------------------------------------------------
    "people_not_a_number": Case(scen({"population": {"synthetic": {"total_people": "many"}}}),
                                ["population.synthetic.total_people", "integer"]),
    "width_with_unit": Case(scen({"region": {"width_km": "4 km"}}),
                            ["region.width_km", "number"]),
    "region_is_a_string": Case(scen(region="big"), ["region", "dictionary"]),
    "seed_float": Case(scen(seed=1.5), ["seed", "integer"]),
    "seed_negative": Case(scen(seed=-1), ["seed", "greater than or equal to 0"]),
    "maps_not_bool": Case(scen({"outputs": {"maps": "sometimes"}}),
                          ["outputs.maps", "boolean"]),
    "resolution_in_km": Case(scen({"region": {"resolution_m": 0.2}}),
                             ["region.resolution_m", "greater than or equal to 5"]),
    "reliability_in_percent": Case(scen({"propagation": {"location_reliability": 75}}),
                                   ["propagation.location_reliability", "less than 1"]),
    "discount_rate_in_percent": Case(scen(economics={"discount_rate": 8}),
                                     ["economics.discount_rate", "less than or equal to 1"]),
    "frequency_in_ghz": Case(scen(technology={"base": "lte_900", "frequency_mhz": 0.9}),
                             ["propagation.model", "frequency_mhz", "choose"]),
    "share_above_one": Case(scen({"population": {"synthetic": {"dispersed_share": 1.5}}}),
                            ["population.synthetic.dispersed_share", "less than or equal to 1"]),
    "indoor_share_above_one": Case(scen(indoor={"share": 2}), ["indoor.share", "less than"]),
    "reuse_factor_zero": Case(scen(radio={"reuse_factor": 0}), ["radio.reuse_factor",
                                                                 "greater than"]),
    "station_height_negative": Case(scen(stations={"ruralstar_pro": {"height_m": -5}}),
                                    ["stations.ruralstar_pro.height_m", "greater than 0"]),
    # ---- region -------------------------------------------------------------------------
    "empty_region_width": Case(scen({"region": {"width_km": 0}}),
                               ["region.width_km", "greater than 0"]),
    "lon_out_of_range": Case(scen({"region": {"centre_lon_lat": [200, 0]}}),
                             ["region.centre_lon_lat", "longitude must be"]),
    "lat_out_of_utm": Case(scen({"region": {"centre_lon_lat": [35, 88]}}),
                           ["region.centre_lon_lat", "latitude"]),
    "centre_one_number": Case(scen({"region": {"centre_lon_lat": [35]}}),
                              ["region.centre_lon_lat.1", "required"]),
    "region_smaller_than_a_cell": Case(scen({"region": {"width_km": 0.01}}),
                                       ["region.width_km", "smaller than one"]),
    "crs_geographic": Case(scen({"region": {"crs": "EPSG:4326"}}), ["region.crs", "projected"]),
    "crs_garbage": Case(scen({"region": {"crs": "EPSG:99999999"}}), ["region.crs", "use e.g."]),
    "bad_name": Case(scen(name="a b/c"), ["name", "pattern"]),
    "region_too_big_for_memory": Case(
        scen({"region": {"width_km": 3000, "height_km": 3000, "resolution_m": 5}}),
        ["region.resolution_m", "of memory"]),
    # ---- population ---------------------------------------------------------------------
    "zero_population": Case(scen({"population": {"synthetic": {"total_people": 0}}}),
                            ["population.synthetic.total_people", "no people", "give"]),
    "two_population_sources": Case(scen({"population": {"raster": {"file": "p.tif"}}}),
                                   ["population", "exactly one"]),
    "no_population_source": Case(scen({"population": {"synthetic": _DELETE}}),
                                 ["population", "exactly one"]),
    # ---- sites and stations -------------------------------------------------------------
    "unknown_station": Case(scen({"sites": {"new": [{"station": "ruralstar_max"}]}}),
                            ["sites.new.0.station", "allowed", "ruralstar_pro"]),
    "unknown_placement": Case(scen({"sites": {"new": [{"station": "macro",
                                                       "placement": "everywhere"}]}}),
                              ["sites.new.0.placement", "largest_settlements"]),
    "list_without_positions": Case(scen({"sites": {"new": [{"station": "macro",
                                                            "placement": "list"}]}}),
                                   ["sites.new.0", "needs 'positions'"]),
    "position_xy_and_lonlat": Case(
        scen({"sites": {"new": [{"station": "macro", "placement": "list",
                                 "positions": [{"x_m": 1, "y_m": 2, "lon": 35, "lat": -6}]}]}}),
        ["sites.new.0.positions.0", "give either"]),
    "site_outside_region_xy": Case(
        scen({"sites": {"new": [{"station": "macro", "placement": "list",
                                 "positions": [{"x_m": 0, "y_m": 0}]}]}}),
        ["sites.new.0.positions.0", "outside the region"], cmd="run"),
    "site_outside_region_lonlat": Case(
        scen({"sites": {"existing": [{"station": "macro", "placement": "list",
                                      "positions": [{"lon": 36.0, "lat": -6.0}]}]}}),
        ["sites.existing.0.positions.0", "outside the region"], cmd="run"),
    "station_without_base": Case(scen(stations={"tallpole": {"height_m": 20}}),
                                 ["stations.tallpole", "needs 'base:'"]),
    "station_unknown_base": Case(scen(stations={"tallpole": {"base": "pole"}}),
                                 ["stations.tallpole.base", "allowed"]),
    "unknown_technology": Case(scen(technology="lte_700"), ["technology", "allowed", "lte_900"]),
    "unknown_technology_base": Case(scen(technology={"base": "5g"}),
                                    ["technology.base", "allowed"]),
    "tower_radio_map_unknown_station": Case(
        scen({"sites": {"existing_towers": [{"file": "towers.csv",
                                             "radio_map": {"GSM": "tower"}}]}}),
        ["sites.existing_towers.0.radio_map.GSM", "allowed"],
        files={"towers.csv": lambda p: bf.towers_csv(p, [("GSM", 35.0, -6.0)])}),
    # ---- propagation, services, economics ----------------------------------------------
    "unknown_model": Case(scen(propagation={"model": "okumura"}),
                          ["propagation.model", "rma_38901"]),
    "terrain_model_on_flat": Case(scen(propagation={"model": "itm"}),
                                  ["propagation.model", "terrain"]),
    "hata_with_pole_height": Case(scen(propagation={"model": "hata_1980"}),
                                  ["propagation.model", "extrapolate_parameters"]),
    "service_rate_impossible": Case(scen(technology="gsm_900",
                                         services={"video": {"min_dl_throughput_mbps": 5}}),
                                    ["services.video.min_dl_throughput_mbps", "LTE"], cmd="run"),
    "adoption_shares_over_one": Case(scen(adoption={"smartphone_share": 0.8,
                                                    "basic_phone_share": 0.5}),
                                     ["adoption.basic_phone_share", "at most 1"]),
    "unknown_backhaul_option": Case(scen(backhaul={"options": {"laser": {"enabled": False}}}),
                                    ["backhaul.options.laser", "fibre"]),
    "unknown_off_grid_power": Case(scen(power={"off_grid": "wind"}),
                                   ["power.off_grid", "solar"]),
    "terrain_word": Case(scen(terrain="hilly"), ["terrain", "flat"]),
    "terrain_two_sources": Case(scen(terrain={"synthetic": {}, "raster": {"file": "d.tif"}}),
                                ["terrain", "exactly one"]),
    "terrain_relief_negative": Case(scen(terrain={"synthetic": {"relief_m": -10}}),
                                    ["terrain.synthetic.relief_m", "greater than or equal"]),
    # ---- boundary file ------------------------------------------------------------------
    "boundary_missing": Case(scen({"region": {"boundary": "nope.geojson"}}),
                             ["region.boundary", "not found", "relative to"]),
    "boundary_points": Case(
        scen({"region": {"boundary": "b.geojson"}}), ["region.boundary", "Polygon"],
        cmd="run", err_file="b.geojson",
        files={"b.geojson": lambda p: bf.boundary_geojson(
            p, geometry={"type": "Point", "coordinates": [35.0, -6.0]})}),
    "boundary_garbage": Case(scen({"region": {"boundary": "b.geojson"}}),
                             ["region.boundary", "allowed"], cmd="run", err_file="b.geojson",
                             files={"b.geojson": bf.garbage}),
    "boundary_empty_file": Case(scen({"region": {"boundary": "b.geojson"}}),
                                ["region.boundary", "allowed"], cmd="run", err_file="b.geojson",
                                files={"b.geojson": _text("")}),
    "boundary_elsewhere": Case(
        scen({"region": {"boundary": "b.geojson"}}), ["region.boundary", "does not overlap"],
        cmd="run", err_file="b.geojson",
        files={"b.geojson": lambda p: bf.boundary_geojson(
            p, [[10, 10], [10.1, 10], [10.1, 10.1], [10, 10]])}),
    "boundary_empty_region": Case(
        scen({"region": {"boundary": "b.geojson"}}), ["region.boundary", "no cell"],
        cmd="run", err_file="b.geojson",
        files={"b.geojson": lambda p: bf.boundary_geojson(
            p, [[35.0001, -6.0001], [35.0002, -6.0001], [35.0002, -6.0002],
                [35.0001, -6.0001]])}),
    # ---- population raster --------------------------------------------------------------
    "pop_raster_missing": Case(scen(raw_population("nope.tif")),
                               ["population.raster.file", "not found"]),
    "pop_raster_truncated": Case(scen(raw_population()), ["population.raster.file", "allowed"],
                                 cmd="run", err_file="pop.tif",
                                 files={"pop.tif": _tif(bf.population, bf.truncate)}),
    "pop_raster_garbage": Case(scen(raw_population()), ["population.raster.file", "allowed"],
                               cmd="run", err_file="pop.tif", files={"pop.tif": bf.garbage}),
    "pop_raster_empty_file": Case(scen(raw_population()), ["population.raster.file", "allowed"],
                                  cmd="run", err_file="pop.tif", files={"pop.tif": _text("")}),
    "pop_raster_no_crs": Case(scen(raw_population()), ["population.raster.file", "no CRS"],
                              cmd="run", err_file="pop.tif",
                              files={"pop.tif": _tif(bf.population, crs=None)}),
    "pop_raster_negative": Case(scen(raw_population()), ["population.raster.file", ">= 0"],
                                cmd="run", err_file="pop.tif",
                                files={"pop.tif": lambda p: bf.write_lonlat_tif(
                                    p, np.full((20, 20), -3.0))}),
    "pop_raster_nan": Case(scen(raw_population()), ["population.raster.file", "nodata"],
                           cmd="run", err_file="pop.tif",
                           files={"pop.tif": lambda p: bf.write_lonlat_tif(
                               p, np.where(np.eye(20, dtype=bool), np.nan, 5.0))}),
    "pop_raster_elsewhere": Case(scen(raw_population()), ["population.raster.file", "overlap"],
                                 cmd="run", err_file="pop.tif",
                                 files={"pop.tif": _tif(bf.population, centre=(10.0, 10.0))}),
    "pop_raster_all_zero": Case(scen(raw_population()), ["population.raster.file", "no people"],
                                cmd="run", err_file="pop.tif",
                                files={"pop.tif": lambda p: bf.write_lonlat_tif(
                                    p, np.zeros((20, 20)))}),
    "pop_raster_band": Case(scen({"population": {"synthetic": _DELETE,
                                                 "raster": {"file": "pop.tif", "band": 3}}}),
                            ["population.raster.file", "band 3"], cmd="run", err_file="pop.tif",
                            files={"pop.tif": bf.population}),
    # ---- DEM ----------------------------------------------------------------------------
    "dem_missing": Case(scen(dem_terrain("nope.tif")), ["terrain.raster.file", "not found"],
                        cmd="run"),
    "dem_no_crs": Case(scen(dem_terrain()), ["terrain.raster.file", "no CRS", "assign"],
                       cmd="run", files={"dem.tif": _tif(bf.dem, crs=None)}),
    "dem_all_nan": Case(scen(dem_terrain()), ["terrain.raster.file", "no valid elevation"],
                        cmd="run", files={"dem.tif": lambda p: bf.write_lonlat_tif(
                            p, np.full((20, 20), np.nan))}),
    "dem_all_nodata_value": Case(scen(dem_terrain()), ["terrain.raster.file", "no valid"],
                                 cmd="run", files={"dem.tif": lambda p: bf.write_lonlat_tif(
                                     p, np.full((20, 20), -32768.0), nodata=-32768)}),
    "dem_not_covering": Case(scen(dem_terrain()), ["terrain.raster.file", "cover"], cmd="run",
                             files={"dem.tif": _tif(bf.dem, centre=(35.065, -6.0))}),
    "dem_truncated": Case(scen(dem_terrain()), ["terrain.raster.file", "corrupt"], cmd="run",
                          files={"dem.tif": _tif(bf.dem, bf.truncate)}),
    "dem_garbage": Case(scen(dem_terrain()), ["terrain.raster.file", "GeoTIFF"], cmd="run",
                        files={"dem.tif": bf.garbage}),
    "dem_holes_refused": Case(scen(dem_terrain(nodata="refuse")),
                              ["terrain.raster.file", "nodata: fill"], cmd="run",
                              files={"dem.tif": lambda p: bf.write_lonlat_tif(
                                  p, np.where(np.eye(20, dtype=bool), np.nan, 1000.0))}),
    "dem_bad_resampling": Case(scen(dem_terrain(resampling="spline")),
                               ["terrain.raster.resampling", "bilinear"]),
    # ---- implausible values (issue 16): refused --------------------------------------------
    # population rasters: at most 1.5 million people per km2 (simulator.io.rasters.
    # MAX_DENSITY_PER_KM2, above Kowloon Walled City) and 2e9 people in all
    "pop_raster_3e38_people": Case(
        scen(raw_population()), ["population.raster.file", "more people than any place",
                                 "1,500,000"],
        cmd="run", err_file="pop.tif", files={"pop.tif": lambda p: bf.write_lonlat_tif(
            p, np.where(np.eye(20, dtype=bool), 3e38, 10.0))}),
    "pop_raster_density_too_high": Case(
        scen(raw_population()), ["population.raster.file", "per km2", "units"],
        cmd="run", err_file="pop.tif", files={"pop.tif": lambda p: bf.write_lonlat_tif(
            p, np.where(np.eye(20, dtype=bool), 5e6, 10.0))}),
    "pop_raster_total_beyond_bound": Case(
        scen(raw_population(), region={"width_km": 40, "height_km": 40,
                                       "resolution_m": 1000}),
        ["population.raster.file", "2,000,000,000"], cmd="run", err_file="pop.tif",
        # 0.1 deg cells (about 122 km2) at 1.4 million per km2: every cell plausible, the
        # 1,600 km2 region holds about 2.2e9 people
        files={"pop.tif": lambda p: bf.write_lonlat_tif(p, np.full((8, 8), 1.4e6 * 122.0),
                                                        cell_deg=0.1)}),
    # DEMs: values outside -500..9000 m are no-data; mostly such values is not a DEM in m
    "dem_in_decimetres": Case(scen(dem_terrain()), ["terrain.raster.file", "-500..9000 m",
                                                    "metres"],
                              cmd="run", files={"dem.tif": lambda p: bf.write_lonlat_tif(
                                  p, np.full((20, 20), 12000.0))}),
    "dem_undeclared_sentinel_refused": Case(
        scen(dem_terrain(nodata="refuse")), ["terrain.raster.file", "nodata: fill"],
        cmd="run", files={"dem.tif": lambda p: bf.write_lonlat_tif(
            p, np.where(np.eye(20, dtype=bool), -32768.0, 1000.0))}),
    # region.crs: its area of use must meet the region and its scale error stay within 1 %
    "crs_british_grid_in_africa": Case(scen({"region": {"crs": "EPSG:27700"}}),
                                       ["region.crs", "scale factor of 1.25", "EPSG:32736"]),
    "crs_neighbouring_utm_zone": Case(scen({"region": {"crs": "EPSG:32735"}}),
                                      ["region.crs", "lon 24..30", "EPSG:32736"]),
    "crs_northern_utm_in_south": Case(scen({"region": {"crs": "EPSG:32636"}}),
                                      ["region.crs", "lat 0..84", "EPSG:32736"]),
    "crs_web_mercator_at_50n": Case(
        scen({"region": {"crs": "EPSG:3857", "centre_lon_lat": [10.0, 50.0]}}),
        ["region.crs", "55.", "EPSG:32632"]),
    "crs_default_utm_too_wide": Case(
        scen({"region": {"width_km": 2500, "height_km": 100, "resolution_m": 5000}}),
        ["region.crs", "too wide for one UTM zone", "+proj=aeqd"]),
    # ---- tower CSV ----------------------------------------------------------------------
    "towers_missing": Case(scen(towers("nope.csv")),
                           ["sites.existing_towers.0.file", "not found"]),
    "towers_missing_columns": Case(scen(towers()), ["sites.existing_towers.0.file", "lat",
                                                    "allowed"],
                                   cmd="run", err_file="towers.csv",
                                   files={"towers.csv": _text("radio,lon\nGSM,35.0\n")}),
    "towers_empty_file": Case(scen(towers()), ["sites.existing_towers.0.file", "allowed"],
                              cmd="run", err_file="towers.csv",
                              files={"towers.csv": _text("")}),
    "towers_bad_lat": Case(scen(towers()), ["line 3", "not a number", "decimal degrees"],
                           cmd="run", err_file="towers.csv", where=None,
                           files={"towers.csv": lambda p: bf.towers_csv(
                               p, [("GSM", 35.0, -6.0), ("LTE", 35.0, "six south")])}),
    "towers_lat_out_of_range": Case(scen(towers()), ["line 2", "out of range", "allowed"],
                                    cmd="run", err_file="towers.csv", where=None,
                                    files={"towers.csv": lambda p: bf.towers_csv(
                                        p, [("GSM", 35.0, -96.0)])}),
    "towers_binary": Case(scen(towers()), ["sites.existing_towers.0.file", "allowed"],
                          cmd="run", err_file="towers.csv", files={"towers.csv": bf.garbage}),
    # ---- issue 19: programme (ruralsim programme) ----------------------------------------
    "programme_without_section": Case(scen(), ["programme", "--target-share"], cmd="programme"),
    "programme_two_goals": Case(scen(programme={**PROG["programme"], "budget_usd": 50000}),
                                ["programme", "one goal"], cmd="programme"),
    "programme_negative_budget": Case(scen(programme={"budget_usd": -100}),
                                      ["programme.budget_usd", "greater than 0"],
                                      cmd="programme"),
    "programme_negative_budget_flag": Case(
        scen(), ["programme.budget_usd", "> 0"], cmd="programme",
        argv=lambda d: ["programme", str(d / "bad.yaml"), "--budget-usd", "-5",
                        "--out", str(d / "out")]),
    "programme_negative_annual_budget": Case(
        scen(programme={**PROG["programme"], "annual_capex_usd": -1}),
        ["programme.annual_capex_usd", "greater than 0"], cmd="programme"),
    "programme_target_above_100": Case(scen(programme={"target": {"share": 1.2}}),
                                       ["programme.target.share", "less than or equal to 1"],
                                       cmd="programme"),
    "programme_target_flag_above_100": Case(
        scen(), ["programme.target.share", "(0, 1]"], cmd="programme",
        argv=lambda d: ["programme", str(d / "bad.yaml"), "--target-share", "1.5",
                        "--out", str(d / "out")]),
    "programme_negative_price": Case(
        scen(programme={**PROG["programme"], "options": {"hotspot": {"kind": "satellite_hotspot",
                                                      "subscription_usd_per_month": -3}}}),
        ["programme.options.hotspot.subscription_usd_per_month", "greater than or equal"],
        cmd="programme"),
    "programme_satellite_capacity_zero": Case(
        scen(programme={**PROG["programme"], "options": {"hotspot": {"kind": "satellite_hotspot",
                                                      "capacity_mbps": 0}}}),
        ["programme.options.hotspot.capacity_mbps", "greater than 0"], cmd="programme"),
    "programme_option_without_cost": Case(
        scen(programme={**PROG["programme"], "options": {"hotspot": {
            "kind": "satellite_hotspot", "terminal_capex_usd": 0,
            "subscription_usd_per_month": 0, "site_capex_usd": 0,
            "maintenance_usd_per_year": 0}}}),
        ["programme.options.hotspot", "no cost"], cmd="programme"),
    "programme_cell_option_without_station": Case(
        scen(programme={**PROG["programme"], "options": {"pole": {"kind": "cell"}}}),
        ["programme.options.pole", "station"], cmd="programme"),
    "programme_unknown_station": Case(
        scen(programme={**PROG["programme"], "options": {"pole": {"station": "balloon"}}}),
        ["programme.options", "unknown station type"], cmd="programme"),
    "programme_hop_limit_zero_relay_required": Case(
        scen(programme={**PROG["programme"], "relay": {"hop_limit": 0, "required": True}}),
        ["programme.relay", "hop_limit"], cmd="programme"),
    "programme_year_without_annual_budget": Case(
        scen(programme={"target": {"share": 0.5, "year": 3}}),
        ["programme", "annual_capex_usd"], cmd="programme"),
    "programme_target_out_of_reach": Case(
        scen(programme={"target": {"share": 1.0},
                        "options": {"pole": {"station": "small_cell"}}}),
        ["programme.target.share", "out of reach", "allowed"], cmd="programme"),
    # ---- planning (ruralsim plan) -------------------------------------------------------
    "plan_without_section": Case(scen(), ["planning", "give"], cmd="plan"),
    "plan_without_budget": Case(scen(planning={"candidates": {"source": "grid"}}),
                                ["planning", "budget"], cmd="plan"),
    "plan_candidates_file_missing": Case(
        scen(planning={"max_sites": 1, "candidates": {"source": "file", "file": "c.csv"}}),
        ["planning.candidates.file", "not found"], cmd="plan", err_file="c.csv"),
    "plan_candidates_bad_number": Case(
        scen(planning={"max_sites": 1, "candidates": {"source": "file", "file": "c.csv"}}),
        ["line 3", "not a number"], cmd="plan", err_file="c.csv", where=None,
        files={"c.csv": _text("lon,lat\n35.0,-6.0\n35.01,south\n")}),
    "plan_candidates_no_coordinates": Case(
        scen(planning={"max_sites": 1, "candidates": {"source": "file", "file": "c.csv"}}),
        ["line 1", "allowed"], cmd="plan", err_file="c.csv", where=None,
        files={"c.csv": _text("east,north\n1,2\n")}),
    "plan_hilltops_on_flat": Case(
        scen(planning={"max_sites": 1, "candidates": {"source": "hilltops"}}),
        ["planning.candidates.source", "terrain"], cmd="plan"),
    # ---- issue 15: one cost basis, plan flags, income (the consistency engineer's block) ---
    "plan_max_sites_zero": Case(scen(), ["planning.max_sites", "--max-sites 0", ">= 1"],
                                cmd="plan", argv=lambda d: ["plan", str(d / "bad.yaml"),
                                                            "--max-sites", "0", "--out",
                                                            str(d / "out")]),
    "plan_negative_budget": Case(scen(), ["planning.budget_usd", "> 0"], cmd="plan",
                                 argv=lambda d: ["plan", str(d / "bad.yaml"), "--budget-usd",
                                                 "-5000", "--out", str(d / "out")]),
    "plan_budget_below_cheapest": Case(
        scen(PLAN), ["planning.budget_usd", "below the cheapest candidate", "allowed"],
        cmd="plan", argv=lambda d: ["plan", str(d / "bad.yaml"), "--budget-usd", "500",
                                    "--out", str(d / "out")]),
    "plan_flags_contradict_min_people_ilp": Case(
        scen(), ["planning", "'greedy' only", "use method greedy"], cmd="plan",
        argv=lambda d: ["plan", str(d / "bad.yaml"), "--max-sites", "2", "--method", "ilp",
                        "--min-people-per-site", "50", "--out", str(d / "out")]),
    "plan_flags_contradict_tco_without_budget": Case(
        scen(), ["planning", "cost_basis", "give budget_usd"], cmd="plan",
        argv=lambda d: ["plan", str(d / "bad.yaml"), "--max-sites", "2", "--cost-basis",
                        "tco", "--out", str(d / "out")]),
    "plan_without_budget_flags": Case(scen(), ["planning", "--max-sites"], cmd="plan"),
    "plan_cost_usd_key_removed": Case(
        scen(planning={"max_sites": 1, "cost_usd": {"macro": 5000}}),
        ["planning", "cost_usd", "economics.station_costs"], cmd="plan"),
    "plan_candidates_cost_column_removed": Case(
        scen(planning={"max_sites": 1, "candidates": {"source": "file", "file": "c.csv"}}),
        ["line 2", "cost_usd", "economics.station_costs"], cmd="plan", err_file="c.csv",
        where=None, files={"c.csv": _text("lon,lat,cost_usd\n35.0,-6.0,9000\n")}),
    "income_raster_missing": Case(
        scen(adoption={"income_model": "raster", "income_raster": {"file": "income.tif"}}),
        ["adoption.income_raster.file", "not found"], cmd="run"),
    "income_model_raster_without_raster": Case(
        scen(adoption={"income_model": "raster"}), ["adoption", "income_raster"]),
    "income_raster_with_density_model": Case(
        scen(adoption={"income_model": "density", "income_raster": {"file": "income.tif"}}),
        ["adoption", "income_raster", "remove one"]),
    # ---- clutter (land-cover raster, class table) ---------------------------------------
    "clutter_word": Case(scen(clutter="forest"), ["clutter", "synthetic"]),
    "clutter_two_sources": Case(scen(clutter={"synthetic": {}, "raster": {"file": "wc.tif"}}),
                                ["clutter", "exactly one"]),
    "clutter_class_negative_height": Case(
        scen(clutter={"synthetic": {}, "classes": {10: {"type": "trees_forest",
                                                        "height_m": -3}}}),
        ["clutter.classes.10.height_m", "greater than 0"]),
    "clutter_class_unknown_type": Case(
        scen(clutter={"synthetic": {}, "classes": {10: {"type": "jungle"}}}),
        ["clutter.classes.10.type", "'open'", "'trees_forest'"]),
    "clutter_class_unknown_key": Case(
        scen(clutter={"synthetic": {}, "classes": {10: {"type": "urban", "heigth_m": 9}}}),
        ["clutter.classes.10.heigth_m", "height_m"]),
    "clutter_frequency_out_of_range": Case(
        scen(clutter="synthetic", technology={"base": "lte_900", "frequency_mhz": 3500}),
        ["clutter", "30-3000 MHz", "choose"]),
    "clutter_raster_missing": Case(scen(clutter={"raster": {"file": "nope.tif"}}),
                                   ["clutter.raster.file", "not found", "relative to"]),
    "clutter_raster_no_crs": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}), ["clutter.raster.file", "no CRS", "assign"],
        cmd="run", err_file="wc.tif",
        files={"wc.tif": lambda p: bf.write_lonlat_tif(p, np.full((20, 20), 40), crs=None,
                                                       dtype="uint8")}),
    "clutter_raster_unknown_codes": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}),
        ["clutter.raster.file", "class codes 33", "clutter.classes"], cmd="run", err_file="wc.tif",
        files={"wc.tif": lambda p: bf.write_lonlat_tif(
            p, np.where(np.eye(20, dtype=bool), 33, 40), dtype="uint8")}),
    "clutter_raster_not_covering": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}), ["clutter.raster.file", "cover"],
        cmd="run", err_file="wc.tif",
        files={"wc.tif": lambda p: bf.write_lonlat_tif(p, np.full((20, 20), 40),
                                                       centre=(35.065, -6.0), dtype="uint8")}),
    "clutter_raster_all_nodata": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}), ["clutter.raster.file", "no land-cover"],
        cmd="run", err_file="wc.tif",
        files={"wc.tif": lambda p: bf.write_lonlat_tif(p, np.zeros((20, 20)), nodata=0,
                                                       dtype="uint8")}),
    "clutter_raster_float": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}), ["clutter.raster.file", "integer"],
        cmd="run", err_file="wc.tif",
        files={"wc.tif": lambda p: bf.write_lonlat_tif(p, np.full((20, 20), 40.0))}),
    "clutter_raster_garbage": Case(
        scen(clutter={"raster": {"file": "wc.tif"}}), ["clutter.raster.file", "allowed"],
        cmd="run", err_file="wc.tif", files={"wc.tif": bf.garbage}),
    # ---- compare ------------------------------------------------------------------------
    "compare_missing_file": Case(
        scen(), ["file not found"], cmd="compare", err_file="nope.yaml", where=None,
        argv=lambda d: ["compare", str(d / "bad.yaml"), str(d / "nope.yaml"),
                        "--out", str(d / "cmp")]),
    "compare_folder_without_summary": Case(
        scen(), ["summary.json", "allowed"], cmd="compare", err_file="res", where=None,
        argv=lambda d: (d.joinpath("res").mkdir(),
                        ["compare", str(d / "bad.yaml"), str(d / "res"), "--out",
                         str(d / "cmp")])[1]),
    "compare_corrupt_summary": Case(
        scen(), ["summary.json", "line 1", "run the scenario again"], cmd="compare",
        err_file="res/summary.json", where=None,
        argv=lambda d: (d.joinpath("res").mkdir(),
                        d.joinpath("res", "summary.json").write_text('{"scenario": "x", '),
                        ["compare", str(d / "bad.yaml"), str(d / "res"), "--out",
                         str(d / "cmp")])[2]),
}


# ---- safety (issue 16): results folders, bounded inputs, plausible numbers ----------------
# (block owned by the 'safety' work; other blocks add their own cases the same way)


def _results_folder(p: Path) -> None:
    """An earlier results folder of this tool (its manifest.json)."""
    p.mkdir()
    (p / "summary.json").write_text("{}")
    (p / "manifest.json").write_text(json.dumps({"tool": "ruralsim", "kind": "results",
                                                 "software_version": "0", "outputs": {}}))


def _docs_folder(p: Path) -> None:
    """Someone's folder of documents (no manifest)."""
    p.mkdir()
    (p / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    (p / "letter.txt").write_text("dear ...")


def _inputs_in(sub: str):
    def make(d: Path) -> str:
        return scen(raw_population(f"{sub}/pop.tif"))
    return make


def _pop_in_sub(p: Path) -> None:
    p.mkdir()
    (p / "manifest.json").write_text(json.dumps({"tool": "ruralsim", "outputs": {}}))
    bf.population(p / "pop.tif")


def _flow_list(n: int) -> str:
    return "name: tiny\ndescription: x\nextra: [" + ",".join("0" * 1 for _ in range(n)) + "]\n"


def _summary(change: dict):
    def make(d: Path):
        base = {"scenario": "r", "population_total": 10, "sites_existing": 0, "sites_new": 1,
                "sites_by_type": {"macro": {"existing": 0, "new": 1}}, "people_covered": 5,
                "people_newly_covered": 5, "people_covered_by_existing_sites": 0,
                "people_connected": 1, "people_newly_connected": 1,
                "people_connected_by_existing_sites": 0, "capex_usd": 1.0,
                "opex_usd_per_year": 1.0, "tco_usd": 2.0, "npv_usd": -1.0,
                "payback_years": None, "marginal_cost_per_person_covered_usd": 0.4,
                "marginal_cost_per_person_connected_usd": 2.0,
                "cost_per_person_covered_usd": 0.4, "cost_per_person_connected_usd": 2.0,
                "co2_t_per_year_new_sites": 0.1, "horizon_years": 10, "discount_rate": 0.08}
        for k, v in change.items():
            if v is _DELETE:
                base.pop(k)
            else:
                base[k] = v
        (d / "res").mkdir()
        text = json.dumps(base) if "nan" not in change else \
            json.dumps(base).replace('"people_covered": 5', '"people_covered": NaN')
        (d / "res" / "summary.json").write_text(text)
    return make


def _compare(d: Path) -> list[str]:
    return ["compare", str(d / "res"), "--out", str(d / "cmp")]


SAFETY_CASES: dict[str, Case] = {
    # --overwrite replaces only a results folder of this tool, never what holds the inputs
    "overwrite_the_scenario_folder": Case(
        scen(), ["working folder", "never replaced"], cmd="run", err_file="", where=None,
        twin=False, argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d),
                                    "--overwrite"]),
    "overwrite_the_scenario_folder_from_elsewhere": Case(
        scen(), ["holds", "bad.yaml", "never replaced"], cmd="run", err_file="", where=None,
        twin=False, argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d),
                                    "--overwrite"], env={"_cwd": "parent"}),
    "overwrite_the_inputs_folder": Case(
        _inputs_in("data"), ["holds", "pop.tif", "never replaced"], cmd="run",
        err_file="data", where=None, twin=False, files={"data": _pop_in_sub},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "data"), "--overwrite"]),
    "overwrite_the_scenario_file": Case(
        scen(), ["is a file", "never replaced"], cmd="run", where=None, twin=False,
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "bad.yaml"),
                        "--overwrite"]),
    "overwrite_a_plain_file": Case(
        scen(), ["is a file"], cmd="run", err_file="notes.txt", where=None, twin=False,
        files={"notes.txt": _text("my notes")},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "notes.txt"),
                        "--overwrite"]),
    "overwrite_a_folder_of_documents": Case(
        scen(), ["not a results folder written by ruralsim", "manifest.json"], cmd="run",
        err_file="docs", where=None, twin=False, files={"docs": _docs_folder},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "docs"), "--overwrite"]),
    "existing_results_without_overwrite": Case(
        scen(), ["already exists", "--overwrite"], cmd="run", err_file="res", where=None,
        twin=False, files={"res": _results_folder},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "res")]),
    "out_is_a_symlink_to_documents": Case(
        scen(), ["symbolic link", "docs"], cmd="run", err_file="link", where=None, twin=False,
        files={"docs": _docs_folder, "link": lambda p: p.symlink_to("docs")},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "link"), "--overwrite"]),
    "out_is_a_symlink_to_results": Case(
        scen(), ["symbolic link"], cmd="run", err_file="link", where=None, twin=False,
        files={"res": _results_folder, "link": lambda p: p.symlink_to("res")},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "link"), "--overwrite"]),
    "out_is_a_dangling_symlink": Case(
        scen(), ["symbolic link", "does not exist"], cmd="run", err_file="link", where=None,
        twin=False, files={"link": lambda p: p.symlink_to("nowhere")},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "link")]),
    "out_under_a_file": Case(
        scen(), ["notes.txt is a file", "choose another --out"], cmd="run",
        err_file="notes.txt/res", where=None, twin=False, files={"notes.txt": _text("x")},
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "notes.txt" / "res")]),
    "out_name_too_long": Case(
        scen(), ["bytes", "choose a shorter --out"], cmd="run", err_file="r" * 240,
        where=None, twin=False,
        argv=lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / ("r" * 240))]),
    "out_dot": Case(scen(), ["working folder"], cmd="run", err_file="", where=None, twin=False,
                    argv=lambda d: ["run", str(d / "bad.yaml"), "--out", ".", "--overwrite"]),
    "plan_over_the_scenario_folder": Case(
        scen(PLAN), ["working folder"], cmd="plan", err_file="", where=None, twin=False,
        argv=lambda d: ["plan", str(d / "bad.yaml"), "--out", str(d), "--overwrite"]),
    "plan_over_documents": Case(
        scen(PLAN), ["not a plan folder written by ruralsim"], cmd="plan", err_file="docs",
        where=None, twin=False, files={"docs": _docs_folder},
        argv=lambda d: ["plan", str(d / "bad.yaml"), "--out", str(d / "docs"),
                        "--overwrite"]),
    "compare_over_a_file": Case(
        scen(), ["is a file"], cmd="compare", err_file="notes.txt", where=None, twin=False,
        files={"notes.txt": _text("x")},
        argv=lambda d: ["compare", str(d / "bad.yaml"), "--out", str(d / "notes.txt"),
                        "--overwrite"]),
    "compare_over_its_input": Case(
        scen(), ["holds", "bad.yaml"], cmd="compare", err_file="", where=None, twin=False,
        env={"_cwd": "parent"},
        argv=lambda d: ["compare", str(d / "bad.yaml"), "--out", str(d), "--overwrite"]),
    "make_samples_into_documents": Case(
        None, ["not a samples folder written by ruralsim"], cmd="make-samples",
        err_file="docs", where=None, files={"docs": _docs_folder},
        argv=lambda d: ["make-samples", str(d / "docs"), "--overwrite"]),
    "make_samples_into_a_nonempty_folder": Case(
        None, ["already exists", "--overwrite"], cmd="make-samples", err_file="docs",
        where=None, files={"docs": _docs_folder},
        argv=lambda d: ["make-samples", str(d / "docs")]),
    "make_samples_under_a_file": Case(
        None, ["is a file"], cmd="make-samples", err_file="notes.txt/s", where=None,
        files={"notes.txt": _text("x")},
        argv=lambda d: ["make-samples", str(d / "notes.txt" / "s")]),
    # outputs.dir from a scenario file may not leave the working folder on its own
    "outputs_dir_absolute": Case(
        lambda d: scen({"outputs": {"dir": str(d / "abs-out")}}),
        ["outputs.dir", "outside the working folder", "--allow-outputs-dir"], cmd="run",
        twin=True, argv=lambda d: ["run", str(d / "bad.yaml")]),
    "outputs_dir_dotdot": Case(
        lambda d: scen({"outputs": {"dir": f"../{d.name}-escaped"}}),
        ["outputs.dir", "outside the working folder"], cmd="run", twin=True,
        escape=["outputs_dir_dotdot-escaped"], argv=lambda d: ["run", str(d / "bad.yaml")]),
    "outputs_dir_tilde": Case(
        scen({"outputs": {"dir": "~/ruralsim-results"}}), ["outputs.dir", "--out"],
        cmd="run", twin=True, env=lambda d: {"HOME": str(d / "home")},
        argv=lambda d: ["run", str(d / "bad.yaml")]),
    "plan_outputs_dir_absolute": Case(
        lambda d: scen({"outputs": {"dir": str(d / "abs-out")}, **PLAN}), ["outputs.dir"],
        cmd="plan", argv=lambda d: ["plan", str(d / "bad.yaml")]),
    # numbers: booleans, physically sensible ranges, what run would refuse
    "width_is_yes": Case(scen({"region": {"width_km": True}}).replace("true", "yes"),
                         ["region.width_km", "not a boolean"]),
    "centre_with_a_boolean": Case(scen({"region": {"centre_lon_lat": [True, -6.0]}}),
                                  ["region.centre_lon_lat", "not a boolean"]),
    "count_is_on": Case(scen().replace("count: 1", "count: on"),
                        ["sites.new.0.count", "not a boolean"]),
    "k_factor_tiny": Case(scen(propagation={"k_factor": 1e-9}),
                          ["propagation.k_factor", "greater than or equal to 0.5"]),
    "solar_yield_tiny": Case(scen(power={"solar_yield_kwh_per_kwp_per_day": 1e-300}),
                             ["power.solar_yield_kwh_per_kwp_per_day", "greater than"]),
    "beamwidth_tiny": Case(scen(stations={"ruralstar_pro": {"hpbw_h_deg": 1e-300}}),
                           ["stations.ruralstar_pro.hpbw_h_deg", "greater than"]),
    "clusters_absurd": Case(scen({"population": {"synthetic": {"clusters": 10**12}}}),
                            ["population.synthetic.clusters", "less than"]),
    "bandwidth_not_in_the_lte_table": Case(
        scen(technology={"base": "lte_900", "bandwidth_mhz": 7}),
        ["technology.bandwidth_mhz", "not one of", "allowed"]),
    # input files are bounded: regular files only, sizes
    "pattern_file_dev_zero": Case(
        scen(stations={"ruralstar_pro": {"pattern_file": "/dev/zero"}}),
        ["stations.ruralstar_pro.pattern_file", "not a regular file"]),
    "pattern_file_too_large": Case(
        scen(stations={"ruralstar_pro": {"pattern_file": "big.msi"}}),
        ["stations.ruralstar_pro.pattern_file", "at most"],
        files={"big.msi": _text("NAME x\n" + "COMMENT " + "x" * 2_000_000 + "\n")}),
    "boundary_is_a_device": Case(scen({"region": {"boundary": "/dev/zero"}}),
                                 ["region.boundary", "not a regular file"]),
    "pattern_file_is_a_folder": Case(
        scen(stations={"ruralstar_pro": {"pattern_file": "pat"}}),
        ["stations.ruralstar_pro.pattern_file", "give"],
        files={"pat": lambda p: p.mkdir()}),
    "scenario_dev_zero": Case(None, ["not a file"], err_file="/dev/zero", where=None,
                              argv=lambda d: ["validate", "/dev/zero"]),
    "scenario_too_large": Case("name: tiny\ndescription: " + "x" * (5 * 2**20) + "\n",
                               ["MB", "at most 4 MB"], where=None),
    "scenario_too_many_values": Case(_flow_list(250_000), ["more than 200,000 values"],
                                     where=LINE),
    "scenario_nested_too_deep": Case("name: tiny\nx: " + "[" * 100 + "]" * 100 + "\n",
                                     ["nested"], where=LINE),
    # compare checks every summary.json it reads
    "compare_summary_missing_key": Case(
        None, ["people_covered", "required but missing"], cmd="compare",
        err_file="res/summary.json", files={"": _summary({"people_covered": _DELETE})},
        argv=_compare),
    "compare_summary_string": Case(
        None, ["people_covered", "not a whole number"], cmd="compare",
        err_file="res/summary.json", files={"": _summary({"people_covered": "many"})},
        argv=_compare),
    "compare_summary_nan": Case(
        None, ["NaN", "run the scenario again"], cmd="compare",
        err_file="res/summary.json", where=None, files={"": _summary({"nan": 1})},
        argv=_compare),
    "compare_summary_negative_count": Case(
        None, ["people_connected", "whole number >= 0"], cmd="compare",
        err_file="res/summary.json", files={"": _summary({"people_connected": -3})},
        argv=_compare),
    "compare_summary_share_out_of_range": Case(
        None, ["discount_rate", "0..1"], cmd="compare",
        err_file="res/summary.json", files={"": _summary({"discount_rate": 8})},
        argv=_compare),
    # the command line itself
    "unknown_option": Case(scen(), ["unrecognized arguments", "--help"], cmd="run",
                           err_file=None, where=None, twin=False,
                           argv=lambda d: ["run", str(d / "bad.yaml"), "--no-such-option"]),
}
CASES.update(SAFETY_CASES)


# ---- calibrate: measurement files and transmitter tables (ruralsim calibrate) ----------
CAL_TX = "name,lon,lat,height_m,frequency_mhz,tx_power_dbm\ngw,35.0,-6.0,30,900,30\n"
CAL_ROW = "35.003,-6.002"


def _calibrate_case(measurements: str | bytes | None, expect, *, tx: str | None = CAL_TX,
                    m_name: str = "m.csv", err_file: str | None = None, where=LINE,
                    scenario: str | None = None, extra=()):
    """A ``ruralsim calibrate`` case: the measurement file (None: absent), a transmitter
    table (None: none), the file the message must name (default the measurement file)."""
    files = {} if measurements is None else {m_name: _text(measurements)}
    if tx is not None:
        files["tx.csv"] = _text(tx)

    def argv(d):
        return (["calibrate", str(d / "bad.yaml"), str(d / m_name)]
                + (["--transmitters", str(d / "tx.csv")] if tx is not None else [])
                + list(extra) + ["--out", str(d / "out")])
    return Case(scenario or scen(), expect, cmd="calibrate", files=files,
                err_file=err_file or m_name, where=where, argv=argv)


CASES.update({
    "calibrate_no_rows": _calibrate_case("lon,lat,rssi_dbm,transmitter\n", ["no rows"]),
    "calibrate_no_value_column": _calibrate_case(
        f"lon,lat,signal,transmitter\n{CAL_ROW},-80,gw\n", ["no recognised value column",
                                                          "rssi_dbm"]),
    "calibrate_all_outside_region": _calibrate_case(
        "lon,lat,rssi_dbm,transmitter\n36.5,-6.0,-80,gw\n20.0,10.0,-81,gw\n",
        ["outside", "region"]),
    "calibrate_unknown_transmitter": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-80,gw\n{CAL_ROW},-81,tower-9\n",
        ["tower-9", "neither a site", "transmitter table"]),
    "calibrate_nan_value": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},NaN,gw\n", ["rssi_dbm", "not a number"]),
    "calibrate_rssi_above_30_dbm": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-80,gw\n{CAL_ROW},45,gw\n",
        ["line 3", "plausible range", "30"]),
    "calibrate_rssi_below_minus_200_dbm": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-250,gw\n", ["plausible range", "-200"]),
    "calibrate_duplicate_columns": _calibrate_case(
        f"lon,lat,rssi_dbm,rssi_dbm,transmitter\n{CAL_ROW},-80,-81,gw\n",
        ["rssi_dbm", "appears twice"]),
    "calibrate_geojson_duplicate_property": _calibrate_case(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [35.003, -6.002]}, "properties": '
        '{"rssi_dbm": -80, "rssi_dbm": -81, "transmitter": "gw"}}]}',
        ["rssi_dbm", "appears twice"], m_name="m.geojson", where=None),
    "calibrate_file_missing": _calibrate_case(None, ["not found"], where=None),
    "calibrate_not_text": _calibrate_case(bytes(range(256)) * 8, ["not a readable CSV"],
                                          where=None),
    "calibrate_censored_without_floor": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter,censored\n{CAL_ROW},-80,gw,false\n{CAL_ROW},,gw,true\n",
        ["censored", "floor"]),
    "calibrate_table_missing_column": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-80,gw\n", ["frequency_mhz", "missing"],
        tx="name,lon,lat,height_m\ngw,35.0,-6.0,30\n", err_file="tx.csv"),
    "calibrate_table_bad_number": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-80,gw\n", ["height_m", "not a number"],
        tx="name,lon,lat,height_m,frequency_mhz,tx_power_dbm\ngw,35.0,-6.0,tall,900,30\n",
        err_file="tx.csv"),
    "calibrate_model_out_of_range_for_transmitter": _calibrate_case(
        f"lon,lat,rssi_dbm,transmitter\n{CAL_ROW},-80,gw\n", ["gw", "h_tx_m", "valid range"],
        tx="name,lon,lat,height_m,frequency_mhz,tx_power_dbm\ngw,35.0,-6.0,3,900,30\n",
        err_file="tx.csv"),
    "calibrate_rsrp_without_bandwidth": _calibrate_case(
        f"lon,lat,rsrp_dbm,transmitter\n{CAL_ROW},-95,gw\n", ["bandwidth_mhz", "RSRP"],
        err_file="tx.csv"),
})

REMEDY = re.compile(r"allowed|should|must|give|use |set |pass |choose|check|needs|assign|"
                    r"greater than|less than|remove|run the scenario|expected|relative to|"
                    r"lower|change|pattern|valid ", re.I)


def _prepare(name: str, root: Path, cmd: str | None = None) -> tuple[Path, list[str]]:
    """The case's folder and command line (``cmd``: another command, for the twin)."""
    case = CASES[name]
    d = root / name
    d.mkdir()
    if case.yaml is not None:
        text = case.yaml(d) if callable(case.yaml) else case.yaml
        p = d / "bad.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
    for fname, make in case.files.items():
        make(d / fname)
    cmd = cmd or case.cmd
    if case.argv is not None and cmd == case.cmd:
        argv = case.argv(d)
    elif cmd in ("run", "plan", "programme"):
        argv = [cmd, str(d / "bad.yaml"), "--out", str(d / "out")]
    else:
        argv = [cmd, str(d / "bad.yaml")]
    return d, argv


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a file's SHA-256, a link's target, 'dir' for a folder
    (symbolic links are not followed)."""
    import hashlib

    out = {}
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            p = Path(top) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _env(case: Case, d: Path) -> dict:
    env = case.env(d) if callable(case.env) else case.env
    return dict(env or {})


ENV = dict(os.environ, PYTHONWARNINGS="error", MPLBACKEND="Agg")


def _call(argv, cwd):
    """A real ``python -m simulator.cli`` process."""
    return subprocess.run([sys.executable, "-m", "simulator.cli", *argv], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=120)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case prepared, then run (tests/cli_batch.py); {name: (folder, before, outcome)}."""
    root = tmp_path_factory.mktemp("catalogue")
    twins = tmp_path_factory.mktemp("catalogue-twins")
    logs = tmp_path_factory.mktemp("catalogue-logs")
    prepared, jobs, keys = {}, [], []
    for name, case in CASES.items():
        runs = [(name, root, None)]
        if case.has_twin():
            runs.append((name + "@twin", twins, "validate" if case.cmd == "run" else "run"))
        for key, where, cmd in runs:
            d, argv = _prepare(name, where, cmd)
            prepared[key] = (d, argv, snapshot(d))
            env = _env(case, d)
            cwd = d.parent if env.pop("_cwd", None) == "parent" else d
            jobs.append({"argv": argv, "cwd": str(cwd), "stdout": str(logs / f"{key}.out"),
                         "stderr": str(logs / f"{key}.err"), "env": env})
            keys.append(key)
    (logs / "jobs.json").write_text(json.dumps(jobs))
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("cli_batch.py")),
                           str(logs / "jobs.json")], capture_output=True, text=True, env=ENV,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k: (prepared[k][0], prepared[k][2],
                Outcome(code, (logs / f"{k}.out").read_text(), (logs / f"{k}.err").read_text()))
            for k, code in zip(keys, codes)}


@pytest.mark.parametrize("name", ["yaml_duplicate_key", "pop_raster_truncated",
                                  "compare_corrupt_summary"])
def test_batch_runner_matches_a_real_process(name, outcomes, tmp_path):
    """The forked runner gives what ``python -m simulator.cli`` gives (same case, new folder)."""
    d, argv = _prepare(name, tmp_path)
    proc = _call(argv, d)
    ref = outcomes[name][2]
    assert proc.returncode == ref.returncode
    assert proc.stderr.replace(str(tmp_path), "<root>") == \
        ref.stderr.replace(str(outcomes[name][0].parent), "<root>")


def test_catalogue_has_at_least_50_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, outcomes):
    case = CASES[name]
    d, before, proc = outcomes[name]
    err = proc.stderr
    assert proc.returncode == case.code, f"exit {proc.returncode}\n{proc.stdout}\n{err}"
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("ruralsim: error: "), line
    if case.err_file is not None:
        assert str(d / case.err_file) in line, line
    if case.where == "key":
        key = case.expect[0]
        assert re.search(r"(^|: |line \d+: )" + re.escape(key) + r"(:| \(|$)", line) or \
            f" {key}: " in line, f"key {key!r} not named as a key: {line}"
    elif case.where is not None:
        assert re.search(case.where, line), line
    for fragment in case.expect:
        assert fragment in line, f"{fragment!r} missing from: {line}"
    assert REMEDY.search(line), f"no remedy / allowed hint: {line}"
    after = snapshot(d)
    assert after == before, f"something was written or changed: " \
        f"{sorted(set(after.items()) ^ set(before.items()))}"
    for rel in case.escape:
        assert not (d.parent / rel).exists(), f"written outside the case folder: {rel}"
    assert not [p for p in d.parent.iterdir() if p.name.startswith(f".{d.name}.")]


TWINS = [n for n, c in CASES.items() if c.has_twin()]


@pytest.mark.parametrize("name", TWINS)
def test_validate_and_run_agree(name, outcomes):
    """validate refuses whatever run refuses before computing, with the same line, and run
    refuses whatever validate refuses (issue 15: validate = run's checks)."""
    d, _, one = outcomes[name]
    d2, before, other = outcomes[name + "@twin"]
    assert one.returncode == 2 and other.returncode == 2, \
        f"{CASES[name].cmd}: exit {one.returncode}; the other: exit {other.returncode}\n" \
        f"{other.stdout}\n{other.stderr}"
    # the memory available is read live by each process: compare the rest
    line = re.sub(r"[\d,.]+ GB", "N GB", one.stderr.strip().replace(str(d.parent), "<root>"))
    line2 = re.sub(r"[\d,.]+ GB", "N GB",
                   other.stderr.strip().replace(str(d2.parent), "<root>"))
    assert line2 == line
    assert snapshot(d2) == before


def test_twins_cover_the_scenario_cases():
    assert len(TWINS) >= 60


def test_tower_rows_outside_the_region_are_skipped_and_counted(tmp_path):
    """Rows that can be skipped (outside the region, unmapped radio) are, and are counted."""
    bf.towers_csv(tmp_path / "towers.csv", [
        ("GSM", 35.0, -6.0), ("LTE", 35.0003, -6.0002),     # one site (cells 40 m apart)
        ("GSM", 36.5, -6.0), ("UMTS", 20.0, 10.0),          # outside the region
        ("CDMA", 35.01, -6.01)])                            # radio not mapped
    (tmp_path / "s.yaml").write_text(scen(towers()))
    proc = _call(["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"), "--quiet"],
                 tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    t = s["existing_towers"][0]
    assert t["rows"] == 5 and t["skipped_outside_region"] == 2
    assert t["skipped_unmapped_radio"] == {"CDMA": 1}
    assert t["cells_used"] == 2 and t["sites"] == 1
    assert s["sites_existing"] == 1


# ---- implausible values (issue 16): masked with a warning in summary.json ----------------
def _holes(value, *, base=None, where=(slice(9, 11), slice(9, 11))):
    def make(p):
        n = int(round(2 * bf.HALF_DEG / bf.CELL_DEG))
        data = np.full((n, n), 10.0) if base is None else base(n)
        if where:
            data[where] = value
        bf.write_lonlat_tif(p, data)
    return make


def _plane(n):
    return 1000.0 + 200.0 * np.add.outer(np.arange(n), np.arange(n)) / (2 * n)


F32_MAX = float(np.finfo(np.float32).max)

MASKED = {
    # name: (scenario patch, files, fragments of the warning)
    "dem_undeclared_minus_32768": (dem_terrain(), {"dem.tif": _holes(-32768.0, base=_plane)},
                                   ["-32768 (4 cells, a common no-data value)",
                                    "no no-data value"]),
    "dem_undeclared_minus_9999": (dem_terrain(), {"dem.tif": _holes(-9999.0, base=_plane)},
                                  ["-9999 (4 cells, a common no-data value)"]),
    "dem_float32_max": (dem_terrain(), {"dem.tif": _holes(F32_MAX, base=_plane)},
                        ["3.40282e+38 (4 cells, a common no-data value)"]),
    "dem_1e30": (dem_terrain(), {"dem.tif": _holes(1e30, base=_plane)},
                 ["1e+30 (4 cells, a common no-data value)"]),
    "dem_spikes_above_everest": (dem_terrain(), {"dem.tif": _holes(12000.0, base=_plane)},
                                 ["12000 (4 cells)", "outside -500..9000 m"]),
    "dem_below_dead_sea": (dem_terrain(), {"dem.tif": _holes(-2000.0, base=_plane)},
                           ["-2000 (4 cells)"]),
    "pop_float32_max_holes": (raw_population(), {"pop.tif": _holes(F32_MAX)},
                              ["population:", "4 raster cells", "does not declare",
                               "3.40282e+38"]),
    "pop_minus_9999_holes": (raw_population(), {"pop.tif": _holes(-9999.0)},
                             ["population:", "-9999 (4 cells, a common no-data value)"]),
    "pop_worldpop_nodata_undeclared": (raw_population(),
                                       {"pop.tif": _holes(float(np.float32(-3.4e38)))},
                                       ["population:", "-3.4e+38"]),
}


@pytest.fixture(scope="module")
def masked_runs(tmp_path_factory):
    """Every MASKED case run (tests/cli_batch.py), and its twin with the bad cells at 0
    people / the plane's own elevation; {name: (outcome, summary, twin summary)}."""
    root = tmp_path_factory.mktemp("masked")
    logs = tmp_path_factory.mktemp("masked-logs")
    jobs, folders = [], {}
    for name, (patch, files, _) in MASKED.items():
        for twin in (False, True):
            d = root / (name + ("-twin" if twin else ""))
            d.mkdir()
            (d / "s.yaml").write_text(scen(patch))
            for fname, make in files.items():
                if twin:  # people: 0 in the bad cells; DEM: the plane without them
                    make = _holes(0.0) if fname == "pop.tif" else _holes(None, base=_plane,
                                                                         where=())
                make(d / fname)
            folders[(name, twin)] = d
            jobs.append({"argv": ["run", str(d / "s.yaml"), "--out", str(d / "out"),
                                  "--quiet"], "cwd": str(d),
                         "stdout": str(logs / f"{d.name}.out"),
                         "stderr": str(logs / f"{d.name}.err")})
    (logs / "jobs.json").write_text(json.dumps(jobs))
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("cli_batch.py")),
                           str(logs / "jobs.json")], capture_output=True, text=True, env=ENV,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {}
    for (key, d), code in zip(folders.items(), codes):
        summary = None
        if (d / "out" / "summary.json").is_file():
            summary = json.loads((d / "out" / "summary.json").read_text())
        out[key] = (code, (logs / f"{d.name}.err").read_text(), summary)
    return out


@pytest.mark.parametrize("name", list(MASKED))
def test_implausible_value_is_masked_with_a_warning(name, masked_runs):
    code, err, summary = masked_runs[(name, False)]
    assert code == 0, err
    assert "Traceback" not in err
    text = " | ".join(summary["warnings"])
    for fragment in MASKED[name][2]:
        assert fragment in text, f"{fragment!r} missing from: {text}"
    twin_code, twin_err, twin = masked_runs[(name, True)]
    assert twin_code == 0, twin_err
    if name.startswith("pop_"):
        # the masked cells hold no people: the same total as the raster with 0 there
        assert summary["population_total"] == twin["population_total"] > 0
    else:
        # four cells of the DEM were holes, filled from their neighbours: a warning says
        # so, and the terrain stays within the plane's 1000..1200 m
        assert "filled from the nearest valid cell" in text
        assert 0 < summary["terrain_relief_m"] <= twin["terrain_relief_m"] + 1e-6
        assert np.isfinite(summary["people_covered"])
