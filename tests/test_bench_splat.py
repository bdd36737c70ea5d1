"""benchmarks/bench_splat.py without SPLAT!: its reader of SPLAT!'s output, its geometry, and
its message when SPLAT! is not installed (the benchmark itself needs ``apt-get install
splat`` and is not run here)."""

import importlib.util

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
