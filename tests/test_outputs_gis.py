"""Files people open: GeoTIFF polish, coverage.kmz, coverage.gpkg, map.html, to_xarray.

Both kinds of run are checked: the in-memory run and the tiled run (which draws its map
files from the coarse reading of its rasters). The sample district has a region boundary,
a raster population and five existing towers (simulator.io.samples).
"""

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from pyproj import CRS

from simulator import load_scenario, run
from simulator.io.samples import make_samples
from simulator.pipeline.distributed import run_tiled


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gis")
    make_samples(folder)
    scenario = load_scenario(folder / "sample-district.yaml")
    r = run(scenario)
    mem = r.save(folder / "memory")
    tiled = run_tiled(scenario, out_dir=folder / "tiled", tile_size_cells=64)
    return r, mem, tiled, folder / "tiled"


@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_units_colour_tables_and_categories(runs, mode):
    r, mem, _, tiled = runs
    out = mem if mode == "memory" else tiled
    with rasterio.open(out / "rx_power_dbm.tif") as src:
        assert src.units == ("dBm",)            # GDAL's band unit type, not a tag
    with rasterio.open(out / "path_loss_db.tif") as src:
        assert src.units == ("dB",)
    with rasterio.open(out / "limitation.tif") as src:
        cmap = src.colormap(1)
        assert src.colorinterp[0].name == "palette"
        assert cmap[4] == (186, 186, 186, 255)   # "no site within reach": grey
        assert src.nodata == 255
    with rasterio.open(out / "covered.tif") as src:
        assert src.colormap(1)[1] == (26, 152, 80, 255)
    # best_server is int32 (-1 none): its colour table and names are in the PAM sidecar,
    # which GDAL reads with the file
    with rasterio.open(out / "best_server.tif") as src:
        assert src.dtypes[0] == "int32" and len(src.colormap(1)) >= len(r.sites)
    names = ET.parse(out / "best_server.tif.aux.xml").getroot().findall(".//Category")
    assert [c.text for c in names] == list(r.sites.names)
    lim = ET.parse(out / "limitation.tif.aux.xml").getroot().findall(".//Category")
    assert [c.text for c in lim] == ["covered", "downlink-limited", "uplink-limited",
                                     "interference-limited", "no site within reach",
                                     "terrain-limited"]


@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_cells_outside_the_boundary_are_nodata(runs, mode):
    r, mem, _, tiled = runs
    out = mem if mode == "memory" else tiled
    outside = ~r.region_mask
    assert outside.any() and not outside.all()
    with rasterio.open(out / "rx_power_dbm.tif") as src:
        rx = src.read(1)
    assert np.isnan(rx[outside]).all()
    with rasterio.open(out / "covered.tif") as src:
        cov = src.read(1)
        assert src.nodata == 255
    assert (cov[outside] == 255).all()
    assert np.array_equal(cov[~outside] == 1, r.covered[~outside])
    with rasterio.open(out / "population.tif") as src:
        pop = src.read(1, masked=True)
    assert pop.mask[outside].all() and int(pop.sum()) == r.summary["population_total"]


def test_to_xarray_round_trips_to_the_geotiffs(runs):
    r, mem, tiled_result, tiled = runs
    ds = r.to_xarray()
    # the CRS as a CF grid mapping (what rioxarray and GDAL's netCDF driver read)
    assert CRS.from_cf(ds.spatial_ref.attrs).to_epsg() == 32736
    assert ds.rx_power_dbm.attrs["grid_mapping"] == "spatial_ref"
    assert ds.sizes == {"y": r.grid.nrows, "x": r.grid.ncols}
    assert ds.x.values[0] == pytest.approx(r.grid.x_min_m + 50.0)
    assert ds.y.values[0] == pytest.approx(r.grid.y_max_m - 50.0)
    for name in ("population", "rx_power_dbm", "best_server", "covered", "limitation",
                 "sinr_db", "path_loss_db", "coverage_probability", "throughput_mbps"):
        with rasterio.open(mem / f"{name}.tif") as src:
            assert np.array_equal(src.read(1), ds[name].values, equal_nan=True), name
            assert ds[name].attrs.get("units", "") == (src.units[0] or "")
    # in-memory-only fields are there too
    assert {"covered_existing", "people_covered", "region_mask"} <= set(ds.data_vars)
    assert ds.attrs["people_covered"] == r.summary["people_covered"]
    # a tiled run's Dataset is its GeoTIFFs, read lazily
    dt = tiled_result.to_xarray()
    assert np.array_equal(dt["covered"].values, ds["covered"].values)
    assert CRS.from_cf(dt.spatial_ref.attrs).to_epsg() == 32736
    assert np.array_equal(dt["rx_power_dbm"].values, ds["rx_power_dbm"].values, equal_nan=True)


def test_sites_frame_and_repr(runs):
    r, _, tiled_result, _ = runs
    f = r.sites_frame()
    assert f.crs.to_epsg() == 4326 and len(f) == len(r.sites)
    lon = f.geometry.x.to_numpy()
    assert np.array_equal(lon, np.round(lon, 7))
    assert list(f["people_served"]) == list(r.people_served_per_site)
    text = repr(r)
    assert text.startswith("<ScenarioResult 'sample-district'")
    assert f"{r.summary['people_covered']:,} of" in text and len(text) < 600
    assert repr(tiled_result).startswith("<TiledResult 'sample-district'")


def test_sites_geojson_coordinates_rounded(runs):
    _, mem, _, _ = runs
    data = json.loads((mem / "sites.geojson").read_text())
    for feat in data["features"]:
        for v in feat["geometry"]["coordinates"]:
            assert v == round(v, 7)
            assert len(repr(v).split(".")[1]) <= 7


@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_kmz_opens_with_gdal(runs, mode):
    r, mem, _, tiled = runs
    kmz = (mem if mode == "memory" else tiled) / "coverage.kmz"
    layers = dict(pyogrio.list_layers(kmz))
    assert {"Coverage", "Sites", "Region boundary"} <= set(layers)
    sites = gpd.read_file(kmz, layer="Sites")
    assert sites.crs.to_epsg() == 4326 and len(sites) == len(r.sites)
    assert {"type", "status", "people_served", "capex_usd", "backhaul"} <= set(sites.columns)
    by_name = dict(zip(sites["Name"], sites["people_served"].astype(int)))
    assert by_name == {n: int(p) for n, p in zip(r.sites.names, r.people_served_per_site)}
    assert len(gpd.read_file(kmz, layer="Region boundary")) == 1
    # ground overlays of the signal and the people without coverage, the legend image
    with zipfile.ZipFile(kmz) as z:
        names = set(z.namelist())
        doc = z.read("doc.kml").decode()
    assert {"doc.kml", "files/signal.png", "files/uncovered.png", "files/legend.png"} <= names
    assert doc.count("<GroundOverlay") >= 2 and "<ScreenOverlay" in doc
    # the overlay box is the grid's extent in WGS 84: latitude ~ -8.9, longitude ~ 34.6
    north = float(doc.split("<north>")[1].split("<")[0])
    west = float(doc.split("<west>")[1].split("<")[0])
    assert -9.1 < north < -8.7 and 34.4 < west < 34.7


@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_gpkg_layers_and_counts(runs, mode):
    r, mem, _, tiled = runs
    gpkg = (mem if mode == "memory" else tiled) / "coverage.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"coverage_by_service", "settlements", "sites", "region_boundary"} <= set(layers)
    for name in layers:
        assert gpd.read_file(gpkg, layer=name).crs.to_epsg() == 4326
    svc = gpd.read_file(gpkg, layer="coverage_by_service")
    basic = svc[svc.service == "basic"].iloc[0]
    assert basic.area_km2 == pytest.approx(r.summary["area_covered_km2"], rel=1e-9)
    assert basic.people_in_covered_cells == int(r.population.people[r.covered].sum())
    sett = gpd.read_file(gpkg, layer="settlements")
    assert len(sett) == len(r.population.settlement_people)
    assert (sett.people_covered + sett.people_uncovered == sett.people_in_footprint).all()
    if mode == "memory":
        by_site = gpd.read_file(gpkg, layer="coverage_by_site")
        served = r.people_served_per_site
        assert len(by_site) == int((np.bincount(r.fields.best_server[r.covered],
                                                minlength=len(served)) > 0).sum())
        # the site polygons tile the covered area
        assert by_site.area_km2.sum() == pytest.approx(r.summary["area_covered_km2"])
        proj = by_site.to_crs(r.grid.crs)
        assert proj.area.sum() / 1e6 == pytest.approx(r.summary["area_covered_km2"],
                                                      rel=1e-6)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
@pytest.mark.parametrize("mode", ["memory", "tiled"])
def test_web_map_renders_in_chromium(runs, mode, tmp_path):
    from PIL import Image

    r, mem, _, tiled = runs
    page = (mem if mode == "memory" else tiled) / "map.html"
    text = page.read_text()
    # self-contained: no script or style fetched from the network
    assert "<script src=" not in text and "<link " not in text
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--virtual-time-budget=4000", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert 'data-ready="1"' in dom and "leaflet-container" in dom
    overlays = dom.split('data-overlays="')[1].split('"')[0].split("|")
    assert overlays[:2] == ["signal where covered (RSRP dBm)",
                            "people without outdoor coverage"]
    assert {"sites", "region boundary"} <= set(overlays)
    assert "rs-signal" in dom and "rs-uncovered" in dom      # the image layers on the map
    shot = tmp_path / "map.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1000,700", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (700, 1000)
    # non-blank: the viridis signal and the red people without coverage are drawn
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200
    red = (img[..., 0] > 190) & (img[..., 1] < 80) & (img[..., 2] < 60)
    assert red.sum() > 50


def test_in_memory_cog_has_overviews(tmp_path):
    import yaml

    from .conftest import ROOT

    data = yaml.safe_load((ROOT / "scenarios" / "rural-district.yaml").read_text())
    data["outputs"] = {"cloud_optimised": True, "maps": False, "report": False}
    p = tmp_path / "cog.yaml"
    p.write_text(yaml.safe_dump(data))
    out = run(load_scenario(p)).save(tmp_path / "out")
    with rasterio.open(out / "rx_power_dbm.tif") as src:
        assert src.overviews(1) and src.units == ("dBm",)
    with rasterio.open(out / "limitation.tif") as src:
        assert src.overviews(1) and src.colormap(1)[4] == (186, 186, 186, 255)
    assert not list(out.glob(".*"))            # no temporary file left


def test_grid_origin_is_snapped_to_the_resolution(runs):
    r, mem, _, _ = runs
    g = r.grid
    assert g.x_min_m % g.resolution_m == 0 and g.y_max_m % g.resolution_m == 0
    with rasterio.open(mem / "population.tif") as src:
        assert src.transform.c == g.x_min_m and src.transform.f == g.y_max_m
    # the snap moves the grid by at most half a cell from the scenario's centre
    from pyproj import Transformer

    lon, lat = r.scenario.region.centre_lon_lat
    cx, cy = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True).transform(lon, lat)
    x0, y0, x1, y1 = g.bounds
    assert abs((x0 + x1) / 2 - cx) <= g.resolution_m / 2
    assert abs((y0 + y1) / 2 - cy) <= g.resolution_m / 2
