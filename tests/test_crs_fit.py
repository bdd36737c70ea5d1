"""region.crs must fit the region: its area of use meets it, its scale error is within 1 %.

The expected scale factors come from the Transverse Mercator series on a sphere,
k = k0 (1 + x^2 / (2 R^2)) for a point x metres east or west of the central meridian
(Snyder, "Map Projections: A Working Manual", USGS PP 1395, 1987, eq. 8-4 to first order),
and from the issue's own figure for the British National Grid at 35 E (1.25).
"""

import numpy as np
import pytest
from pyproj import Transformer

from simulator import parse_scenario
from simulator.errors import ScenarioError
from simulator.pipeline.runner import make_grid, validate
from simulator.region.grid import CRS_SCALE_TOLERANCE, Grid, crs_fit_problem


def _grid(crs, lon, lat, width_km, height_km=30.0):
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return Grid.centred(crs, x, y, width_km * 1e3, height_km * 1e3, 1000.0)


def test_utm_zone_of_the_region_fits():
    assert crs_fit_problem(_grid("EPSG:32736", 35.0, -6.0, 40)) is None
    assert crs_fit_problem(_grid("EPSG:32736", 35.0, -6.0, 40), default=True) is None


def test_burundi_straddles_two_utm_zones_and_either_fits():
    # Burundi (29.0-30.8 E) crosses 30 E, the boundary of zones 35 and 36; no point is more
    # than 4 deg (about 440 km) from either central meridian (27 E, 33 E):
    # k = 0.9996 (1 + 440^2 / (2 x 6371^2)) = 1.002, within the 1 % allowed
    for crs in ("EPSG:32735", "EPSG:32736"):
        assert crs_fit_problem(_grid(crs, 29.888, -3.424, 196, 242)) is None


def test_british_national_grid_at_35e_is_refused_with_its_scale_factor():
    msg = crs_fit_problem(_grid("EPSG:27700", 35.0, -6.0, 40))
    assert "lon -9.01..2.01" in msg and "scale factor of 1.25" in msg
    assert "25." in msg and "EPSG:32736" in msg


def test_wrong_zone_and_wrong_hemisphere_are_refused():
    assert "EPSG:32736" in crs_fit_problem(_grid("EPSG:32735", 35.0, -6.0, 40))
    assert "lat 0..84" in crs_fit_problem(_grid("EPSG:32636", 35.0, -6.0, 40))


@pytest.mark.parametrize("width_km", [1500, 2500])
def test_default_utm_scale_error_matches_the_transverse_mercator_series(width_km):
    # centre 35 E, 6 S; zone 36 S has its central meridian at 33 E, 221 km west of the
    # centre: the east edge is 221 km + width / 2 from it
    r = 6_371_000.0
    x = 2.0 * np.pi * r * np.cos(np.deg2rad(6.0)) / 360.0 * 2.0 + width_km * 1e3 / 2.0
    k = 0.9996 * (1.0 + x ** 2 / (2.0 * r ** 2))
    msg = crs_fit_problem(_grid("EPSG:32736", 35.0, -6.0, width_km), default=True)
    assert k - 1 > CRS_SCALE_TOLERANCE
    got = float(msg.split("scale factor of ")[1].split(" ")[0])
    assert got == pytest.approx(k, abs=0.004)
    assert "too wide for one UTM zone" in msg and "+proj=aeqd" in msg


def test_web_mercator_far_from_the_equator_is_refused():
    # Mercator scale is sec(latitude): 1.556 at 50 N
    msg = crs_fit_problem(_grid("EPSG:3857", 10.0, 50.0, 40))
    got = float(msg.split("scale factor of ")[1].split(" ")[0])
    assert got == pytest.approx(1.0 / np.cos(np.deg2rad(50.0)), rel=0.005)
    assert "EPSG:32632" in msg


def test_a_region_too_large_for_any_projection():
    msg = crs_fit_problem(_grid("+proj=aeqd +lat_0=-6 +lon_0=35 +datum=WGS84 +units=m",
                                35.0, -6.0, 3000, 3000))
    assert "split it" in msg


def test_validate_refuses_with_the_key_and_make_grid_still_builds():
    s = parse_scenario({"name": "x", "region": {"crs": "EPSG:27700"}})
    make_grid(s)  # the grid itself can be built; validate refuses it
    with pytest.raises(ScenarioError) as info:
        validate(s)
    assert info.value.key == "region.crs" and "EPSG:32736" in info.value.message
