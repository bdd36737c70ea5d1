"""The land-cover reader (majority resampling from another CRS), clutter.tif, and the
coarse majority of the tiled map."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from simulator.errors import ScenarioError
from simulator.io.landcover import (NODATA_CODE, read_coarse_clutter, read_landcover_to_grid,
                                    write_clutter_geotiff)
from simulator.region.clutter import ClutterLayer, default_classes
from simulator.region.grid import Grid

CRS = "EPSG:32736"
LON, LAT = 35.0, -6.0
#: About 2.2 m: some 2,000 source pixels per 100 m cell. GDAL's mode counts every source
#: pixel that overlaps a cell, so a pixel cut by a cell edge counts in both cells; with
#: pixels much smaller than the cell (WorldCover's 10 m on a 100 m grid) that edge effect
#: is small, and this test keeps it small too.
PX_DEG = 0.00002


def _grid(nrows=6, ncols=8, res=100.0) -> Grid:
    cx, cy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(LON, LAT)
    return Grid.centred(CRS, cx, cy, ncols * res, nrows * res, res)


#: The class each cell's core holds (hand-chosen), 6 x 8.
CORE = np.array([[10, 10, 50, 50, 40, 40, 20, 20],
                 [10, 10, 50, 50, 40, 40, 20, 20],
                 [30, 30, 95, 95, 60, 60, 90, 90],
                 [30, 30, 95, 95, 60, 60, 90, 90],
                 [100, 10, 50, 40, 20, 30, 60, 70],
                 [10, 100, 40, 50, 30, 20, 70, 60]], np.uint8)
RING, CENTRE, OUTSIDE = 80, 70, 40


def _position(grid: Grid, lon, lat):
    """Row, column and position inside the cell (0-1 from the west / north edge) of
    points given in lon/lat."""
    x, y = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    fc = (x - grid.x_min_m) / grid.resolution_m
    fr = (grid.y_max_m - y) / grid.resolution_m
    col, row = np.floor(fc).astype(int), np.floor(fr).astype(int)
    return row, col, fc - col, fr - row


def _worldcover_lonlat(path, grid: Grid, *, core=CORE, margin_deg=0.001, nodata=None,
                       dtype="uint8", crs="EPSG:4326", shift_deg=(0.0, 0.0), blank=None):
    """A WorldCover-coded GeoTIFF in EPSG:4326 over ``grid`` (plus a margin).

    Each grid cell: a ring of width 0.1 cell of class RING (36 % of the cell), a central
    square of 0.24 x 0.24 cells of class CENTRE (5.8 %), and the rest (58 %) ``core``.
    Outside the grid: OUTSIDE. Majority: the core class; nearest neighbour: the centre
    class (the pixel at the cell centre).
    """
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon0, lat0 = tr.transform(grid.x_min_m, grid.y_max_m)
    lon1, lat1 = tr.transform(grid.x_max_m, grid.y_min_m)
    west, north = min(lon0, lon1) - margin_deg + shift_deg[0], max(lat0, lat1) + margin_deg + \
        shift_deg[1]
    east, south = max(lon0, lon1) + margin_deg + shift_deg[0], min(lat0, lat1) - margin_deg + \
        shift_deg[1]
    ncols = int(np.ceil((east - west) / PX_DEG))
    nrows = int(np.ceil((north - south) / PX_DEG))
    lon = west + (np.arange(ncols) + 0.5) * PX_DEG
    lat = north - (np.arange(nrows) + 0.5) * PX_DEG
    LONS, LATS = np.meshgrid(lon, lat)
    row, col, fx, fy = _position(grid, LONS, LATS)
    inside = (row >= 0) & (row < grid.nrows) & (col >= 0) & (col < grid.ncols)
    data = np.full(LONS.shape, OUTSIDE, np.int64)
    data[inside] = core[row[inside], col[inside]]
    ring = inside & ((fx < 0.1) | (fx > 0.9) | (fy < 0.1) | (fy > 0.9))
    centre = inside & (np.abs(fx - 0.5) < 0.12) & (np.abs(fy - 0.5) < 0.12)
    data[ring] = RING
    data[centre] = CENTRE
    if blank is not None:      # value 0 over the cells of rows blank[0], columns blank[1]
        data[inside & np.isin(row, blank[0]) & np.isin(col, blank[1])] = 0
    profile = dict(driver="GTiff", height=nrows, width=ncols, count=1, dtype=dtype,
                   transform=Affine(PX_DEG, 0, west, 0, -PX_DEG, north), nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype), 1)
    return data


KNOWN = sorted(default_classes())


def test_majority_resampling_from_lonlat_gives_the_hand_computed_classes(tmp_path):
    g = _grid()
    _worldcover_lonlat(tmp_path / "wc.tif", g)
    codes, info = read_landcover_to_grid(tmp_path / "wc.tif", g, known_codes=KNOWN)
    # the core (58 % of each cell) is the majority against the ring (36 %) and centre (6 %)
    assert codes.dtype == np.uint16 and codes.shape == g.shape
    np.testing.assert_array_equal(codes, CORE)
    assert info["resampling"] == "mode (majority)" and info["crs"] == "EPSG:4326"
    assert sum(info["cells_by_code"].values()) == g.n_cells


def test_nearest_neighbour_would_give_the_centre_class(tmp_path):
    """The oracle: GDAL nearest-neighbour on the same file picks the centre pixel's class
    (CENTRE) everywhere, so the reader is not using it."""
    from rasterio.warp import Resampling, reproject

    g = _grid()
    _worldcover_lonlat(tmp_path / "wc.tif", g)
    with rasterio.open(tmp_path / "wc.tif") as src:
        out = np.zeros(g.shape, np.uint8)
        reproject(src.read(1), out, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=g.transform, dst_crs=g.crs, resampling=Resampling.nearest)
    assert (out == CENTRE).all()


def test_three_way_split_takes_the_largest_share(tmp_path):
    """A cell split 45 / 30 / 25 % into classes 10, 50, 30 (columns of the cell) gets 10."""
    g = _grid(nrows=1, ncols=1)
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon0, lat0 = tr.transform(g.x_min_m - 50, g.y_max_m + 50)
    lon1, lat1 = tr.transform(g.x_max_m + 50, g.y_min_m - 50)
    ncols = int(np.ceil((lon1 - lon0) / PX_DEG))
    nrows = int(np.ceil((lat0 - lat1) / PX_DEG))
    lon = lon0 + (np.arange(ncols) + 0.5) * PX_DEG
    lat = lat0 - (np.arange(nrows) + 0.5) * PX_DEG
    LONS, LATS = np.meshgrid(lon, lat)
    _, _, fx, _ = _position(g, LONS, LATS)
    data = np.where(fx < 0.45, 10, np.where(fx < 0.75, 50, 30)).astype(np.uint8)
    with rasterio.open(tmp_path / "split.tif", "w", driver="GTiff", height=nrows, width=ncols,
                       count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine(PX_DEG, 0, lon0, 0, -PX_DEG, lat0)) as dst:
        dst.write(data, 1)
    codes, _ = read_landcover_to_grid(tmp_path / "split.tif", g, known_codes=KNOWN)
    assert codes.tolist() == [[10]]


def test_strips_give_the_same_classes_as_one_pass(tmp_path, monkeypatch):
    from simulator.io import landcover

    g = _grid()
    _worldcover_lonlat(tmp_path / "wc.tif", g)
    whole, _ = read_landcover_to_grid(tmp_path / "wc.tif", g, known_codes=KNOWN)
    monkeypatch.setattr(landcover, "STRIP_ROWS", 2)
    strips, _ = read_landcover_to_grid(tmp_path / "wc.tif", g, known_codes=KNOWN)
    np.testing.assert_array_equal(whole, strips)


@pytest.mark.parametrize("case, match", [
    ("no_crs", "no CRS"), ("float", "integer class codes"), ("elsewhere", "does not overlap"),
    ("partial", "does not fully cover"), ("unknown", "class codes 33 are not in"),
    ("nodata", "no land-cover data"), ("band", "band 2"), ("missing", "not found")])
def test_bad_rasters_are_one_line_errors_naming_the_file_and_key(tmp_path, case, match):
    g = _grid()
    p = tmp_path / "wc.tif"
    band = 1
    if case == "no_crs":
        _worldcover_lonlat(p, g, crs=None)
    elif case == "float":
        _worldcover_lonlat(p, g, dtype="float32")
    elif case == "elsewhere":
        _worldcover_lonlat(p, g, shift_deg=(1.0, 0.0))
    elif case == "partial":
        _worldcover_lonlat(p, g, shift_deg=(0.004, 0.0))
    elif case == "unknown":
        core = CORE.copy()
        core[3, 3] = 33
        _worldcover_lonlat(p, g, core=core)
    elif case == "nodata":
        # 3 x 3 cells of no-data: the middle one has no valid pixel at all (edge pixels of
        # the cells around it are no-data too)
        _worldcover_lonlat(p, g, nodata=0, blank=([1, 2, 3], [2, 3, 4]))
    elif case == "band":
        _worldcover_lonlat(p, g)
        band = 2
    with pytest.raises(ScenarioError, match=match) as exc:
        read_landcover_to_grid(p, g, known_codes=KNOWN, band=band, scenario_file="s.yaml")
    err = exc.value
    assert err.file == str(p) and err.key == "clutter.raster.file"
    assert "\n" not in err.one_line()


def test_unknown_codes_and_holes_outside_the_region_are_allowed(tmp_path):
    g = _grid()
    core = CORE.copy()
    core[0, 0] = 33
    _worldcover_lonlat(tmp_path / "wc.tif", g, core=core)
    mask = np.ones(g.shape, bool)
    mask[0, 0] = False
    codes, _ = read_landcover_to_grid(tmp_path / "wc.tif", g, known_codes=KNOWN,
                                      region_mask=mask)
    assert codes[0, 0] == NODATA_CODE
    np.testing.assert_array_equal(codes[mask], CORE[mask])


def _layer(grid, classes):
    return ClutterLayer.build(grid, classes, default_classes(), frequency_mhz=900.0,
                              terminal_height_m=1.5, source="raster")


def test_clutter_tif_keeps_codes_colours_and_names(tmp_path):
    g = _grid()
    layer = _layer(g, CORE)
    write_clutter_geotiff(tmp_path / "clutter.tif", layer)
    with rasterio.open(tmp_path / "clutter.tif") as src:
        np.testing.assert_array_equal(src.read(1), CORE)
        assert src.crs.to_string() == CRS and src.transform == g.transform
        assert src.colormap(1)[10] == (0, 100, 0, 255)     # WorldCover tree cover #006400
        tags = src.tags(1)
    assert tags["class_10"].startswith("tree_cover (trees_forest, R 15 m")
    assert tags["class_40"] == "cropland (open, 0.00 dB median terminal loss)"


def test_coarse_majority_for_the_map(tmp_path):
    """Blocks of 2 x 2 cells; a 2-2 tie takes the smaller code; blocks on the edge count
    only their cells inside the grid."""
    g = _grid(nrows=3, ncols=5)
    classes = np.array([[10, 10, 50, 40, 30],
                        [10, 50, 50, 10, 30],
                        [40, 40, 50, 50, 40]], np.uint8)
    layer = _layer(g, classes)
    write_clutter_geotiff(tmp_path / "clutter.tif", layer)
    coarse = Grid(crs=g.crs, x_min_m=g.x_min_m, y_max_m=g.y_max_m, resolution_m=200.0,
                  nrows=2, ncols=3)
    cl = read_coarse_clutter(tmp_path / "clutter.tif", layer, coarse, 2)
    # [10 10 / 10 50] -> 10; [50 40 / 50 10] -> 50; [30 / 30] -> 30
    # [40 40] -> 40; [50 50] -> 50; [40] -> 40
    assert cl.classes.tolist() == [[10, 50, 30], [40, 50, 40]]
    tie = np.array([[10, 50], [50, 10]], np.uint8)
    g2 = _grid(nrows=2, ncols=2)
    write_clutter_geotiff(tmp_path / "tie.tif", _layer(g2, tie))
    c2 = Grid(crs=g2.crs, x_min_m=g2.x_min_m, y_max_m=g2.y_max_m, resolution_m=200.0,
              nrows=1, ncols=1)
    assert read_coarse_clutter(tmp_path / "tie.tif", _layer(g2, tie), c2, 2).classes.tolist() \
        == [[10]]
