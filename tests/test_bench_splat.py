"""benchmarks/bench_splat.py without SPLAT!: its reader of SPLAT!'s output, its geometry, and
its message when SPLAT! is not installed (the benchmark itself needs ``apt-get install
splat`` and is not run here)."""

import importlib.util
import sys

import numpy as np
import pytest
from pyproj import Geod

from .conftest import DATA, ROOT

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture
def bench(monkeypatch):
    """The benchmark as a fresh module; the thread variables it sets are restored after."""
    import os

    for var in _THREAD_VARS:
        monkeypatch.setenv(var, os.environ.get(var, "1"))
    spec = importlib.util.spec_from_file_location("bench_splat_under_test",
                                                  ROOT / "benchmarks" / "bench_splat.py")
    module = importlib.util.module_from_spec(spec)
    # registered while it runs: its dataclasses look their module up by name
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_missing_splat_exits_with_one_line(bench, monkeypatch):
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exc:
        bench.check_tools()
    msg = str(exc.value)
    assert "\n" not in msg
    assert "splat-hd" in msg and "srtm2sdf-hd" in msg and "apt-get install splat" in msg


def test_read_ano_on_the_man_page_example(bench):
    # The example rows of splat(1), SPLAT! 1.4.2, section "EXPORTING AND IMPORTING REGIONAL
    # CONTOUR DATA" (tests/data/SOURCES.md): latitude N, longitude W, azimuth, elevation,
    # path loss, '*' when the path is obstructed.
    lat, lon_east, loss, obstructed = bench.read_ano(DATA / "splat_ano_manpage.txt")
    assert lat.size == 17
    assert lat[0] == 34.2265424 and lon_east[0] == -118.0631096 and loss[0] == 67.70
    assert lat[-1] == 34.2364099 and lon_east[-1] == -118.0497592 and loss[-1] == 151.67
    # the first four rows are in line of sight, the other thirteen carry '*'
    assert obstructed.tolist() == [False] * 4 + [True] * 13


def test_great_circle_matches_proj_on_a_sphere(bench):
    # reference: PROJ's geodesic (Karney's algorithm) on a sphere of SPLAT!'s radius
    r = bench.SPLAT_EARTH_RADIUS_M
    geod = Geod(a=r, b=r)
    az_deg = np.array([0.0, 33.0, 90.0, 135.0, 181.0, 270.0, 359.0])
    dist_m = np.array([30.9, 500.0, 2_000.0, 10_000.0, 20_000.0, 45_000.0, 80_000.0])
    lat, lon = bench.great_circle(0.5, 36.5, np.radians(az_deg), dist_m)
    lon_ref, lat_ref, _ = geod.fwd(np.full(7, 36.5), np.full(7, 0.5), az_deg, dist_m)
    np.testing.assert_allclose(lat, lat_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(lon, lon_ref, rtol=0, atol=1e-10)


def test_splat_like_profile_due_east_takes_each_pixel(bench):
    # Hand-worked: due east of the site (lat 0.5, lon 36.5 = pixel row 1800, column 1800)
    # a point 100 arc-seconds of longitude away is 100 samples out (one sample per
    # arc-second of longitude change), and the nearest pixels are columns 1800 .. 1900 of
    # row 1800. A tile whose value is its column index shows which pixels were taken.
    n = bench.TILE_N
    z = np.tile(np.arange(n, dtype=np.int16), (n, 1))
    elev, y, spacing = bench.splat_like_profiles(z, np.array([0.5]),
                                                 np.array([36.5 + 100 / 3600]))
    assert y.tolist() == [100]
    np.testing.assert_array_equal(elev[0, :101], np.arange(1800, 1901))
    # 100 arc-seconds of longitude at 0.5 deg N on the 3959-mile sphere, over 100 samples
    arc_m = bench.SPLAT_EARTH_RADIUS_M * np.radians(100 / 3600) * np.cos(np.radians(0.5))
    assert spacing[0] == pytest.approx(arc_m / 100, rel=1e-6)


REALDATA = ROOT.parent / "shared" / "realdata"
KOSSOU = REALDATA / "inputs" / "kossou_civ_srtm3" / "n07_w006_3arc_v2.tif"


def _write_tile(path, z, *, lon0, lat0, ppd, nodata=None, shift=0.0):
    import rasterio
    from affine import Affine

    half = 0.5 / ppd
    transform = Affine(1.0 / ppd, 0.0, lon0 - half + shift, 0.0, -1.0 / ppd, lat0 + 1 + half)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0],
                       count=1, dtype="int16", crs="EPSG:4326", transform=transform,
                       nodata=nodata) as dst:
        dst.write(z, 1)


def test_load_tile_reads_geometry_and_marks_nodata_as_srtm_voids(bench, tmp_path):
    # a 3 arc-second tile S03 E035 (samples on whole arc-seconds), three nodata samples
    z = np.full((1201, 1201), 700, np.int16)
    z[5, 7] = z[600, 600] = z[1200, 0] = -9999
    path = tmp_path / "tile.tif"
    _write_tile(path, z, lon0=35, lat0=-3, ppd=1200, nodata=-9999)
    tile, got, n_void = bench.load_tile(path)
    assert (tile.n, tile.ppd, tile.lat0, tile.lon0) == (1201, 1200, -3, 35)
    assert (tile.site_lat, tile.site_lon) == (-2.5, 35.5)
    assert (tile.splat, tile.srtm2sdf, tile.hgt_name, tile.arcsec) == (
        "splat", "srtm2sdf", "S03E035.hgt", 3)
    assert n_void == 3 and got[5, 7] == -32768 and got[600, 600] == -32768
    assert got[0, 0] == 700


def test_load_tile_refuses_a_misaligned_tile_in_one_line(bench, tmp_path):
    # pixel edges (not centres) on whole degrees: SPLAT!'s HGT layout would shift it by half
    # a pixel, so the benchmark says so instead of comparing shifted terrain
    path = tmp_path / "shifted.tif"
    _write_tile(path, np.zeros((1201, 1201), np.int16), lon0=35, lat0=-3, ppd=1200,
                shift=0.5 / 1200)
    with pytest.raises(SystemExit) as exc:
        bench.load_tile(path)
    msg = str(exc.value)
    assert "\n" not in msg and "transform" in msg and "shifted.tif" in msg


@pytest.mark.skipif(not KOSSOU.is_file(), reason=f"real data not present: {KOSSOU}")
def test_load_tile_on_the_kossou_srtm_tile(bench):
    # the real tile of the --tile example (../shared/realdata, SOURCE.md there): N07 W006,
    # 3 arc-second, 145-546 m, no voids
    tile, z, n_void = bench.load_tile(KOSSOU)
    assert (tile.n, tile.ppd, tile.lat0, tile.lon0, tile.hgt_name) == (
        1201, 1200, 7, -6, "N07W006.hgt")
    assert n_void == 0 and z.min() == 145 and z.max() == 546
