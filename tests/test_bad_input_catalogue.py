"""A catalogue of bad inputs, each through the command line.

Every case must give: exit status 2, exactly one line on stderr naming the file and the key
(dotted path) or the line, a hint at the remedy or what is allowed, no traceback, and
nothing written (no results folder, no hidden partial folder).

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


@dataclass
class Case:
    yaml: str | bytes | None
    expect: list[str]
    cmd: str = "validate"
    files: dict[str, Callable[[Path], object]] = field(default_factory=dict)
    err_file: str = "bad.yaml"      # the file the message must name
    where: str | None = "key"       # "key": expect[0] is the key; a regex; None: file level
    argv: Callable[[Path], list[str]] | None = None


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
        ["region.resolution_m", "memory"]),
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
    "plan_cost_not_positive": Case(scen(planning={"max_sites": 1, "cost_usd": {"macro": 0}}),
                                   ["planning.cost_usd", "> 0"], cmd="plan"),
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

REMEDY = re.compile(r"allowed|should|must|give|use |set |pass |choose|check|needs|assign|"
                    r"greater than|less than|remove|run the scenario|expected|relative to|"
                    r"lower|change|pattern|valid ", re.I)


def _prepare(name: str, root: Path) -> tuple[Path, list[str]]:
    case = CASES[name]
    d = root / name
    d.mkdir()
    if case.yaml is not None:
        p = d / "bad.yaml"
        p.write_bytes(case.yaml if isinstance(case.yaml, bytes) else case.yaml.encode())
    for fname, make in case.files.items():
        make(d / fname)
    if case.argv is not None:
        argv = case.argv(d)
    elif case.cmd in ("run", "plan"):
        argv = [case.cmd, str(d / "bad.yaml"), "--out", str(d / "out")]
    else:
        argv = [case.cmd, str(d / "bad.yaml")]
    return d, argv


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
    logs = tmp_path_factory.mktemp("catalogue-logs")
    prepared, jobs = {}, []
    for name in CASES:
        d, argv = _prepare(name, root)
        before = sorted(str(p.relative_to(d)) for p in d.rglob("*"))
        prepared[name] = (d, argv, before)
        jobs.append({"argv": argv, "cwd": str(d), "stdout": str(logs / f"{name}.out"),
                     "stderr": str(logs / f"{name}.err")})
    (logs / "jobs.json").write_text(json.dumps(jobs))
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("cli_batch.py")),
                           str(logs / "jobs.json")], capture_output=True, text=True, env=ENV,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return {n: (prepared[n][0], prepared[n][2],
                Outcome(code, (logs / f"{n}.out").read_text(), (logs / f"{n}.err").read_text()))
            for n, code in zip(CASES, codes)}


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
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{err}"
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("ruralsim: error: "), line
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
    after = sorted(str(p.relative_to(d)) for p in d.rglob("*"))
    assert after == before, f"something was written: {set(after) - set(before)}"


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
