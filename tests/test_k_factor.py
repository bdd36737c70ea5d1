"""The effective Earth radius factor k in the diffraction methods (deygout, bullington).

The terrain engine adds to a base model the method's loss on the profile over the effective
Earth minus its loss on the straight chord over a *flat* Earth
(simulator.radio.propagation.diffraction.terrain_excess_loss_db). The Earth's bulge is in no
base model, so a smaller k (a more curved Earth) must give a larger loss and a lower signal;
with the old reference (the chord carrying the same bulge) a smooth Earth's bulge cancelled
and k changed nothing, and a tiny k made coverage go up.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.radio.propagation import diffraction as dif


def test_smooth_earth_three_point_case_by_hand():
    # 20 km path over smooth ground (elevation 0), antennas 10 m high, 900 MHz, k = 4/3.
    # One interior point at the middle (d1 = d2 = 10 km): the bulge there relative to the
    # chord is d1 d2 / (2 k R) = 1e4 * 1e4 / (2 * 1.3333 * 6.371e6) = 5.886 m, so the ground
    # is 10 - 5.886 = 4.114 m below the antennas' line: h = -4.114 m.
    # lambda = 299792458 / 900e6 = 0.33310 m; nu = h sqrt(2/lambda (1/d1 + 1/d2))
    #   = -4.114 * sqrt(2 / 0.33310 * 2e-4) = -4.114 * 0.034653 = -0.14256
    # P.526-15 eq. (31): J = 6.9 + 20 log10(sqrt((nu-0.1)^2 + 1) + nu - 0.1)
    #   x = -0.24256: sqrt(1.058836) - 0.24256 = 0.78644 -> J = 6.9 - 2.0866 = 4.813 dB
    # Flat reference: h = -10 m, nu = -0.34653, x = -0.44653: 1.09517 - 0.44653 = 0.64864
    #   -> J = 6.9 - 3.7598 = 3.140 dB.  Excess 4.813 - 3.140 = 1.673 dB.
    z = np.zeros((1, 3))
    for method in ("deygout", "bullington"):
        got = dif.terrain_excess_loss_db(method, z, 10_000.0, 10.0, 10.0, 900.0,
                                         k_factor=4.0 / 3.0, n_points=np.array([3]))
        assert got[0] == pytest.approx(1.673, abs=0.002), method
    # with the reference carrying the same bulge (the old model) the bulge cancelled
    same = dif.bullington_loss_db(z, 10_000.0, 10.0, 10.0, 900.0, k_factor=4.0 / 3.0) - \
        dif.bullington_loss_db(dif.chord_profiles(z, [3]), 10_000.0, 10.0, 10.0, 900.0,
                               k_factor=4.0 / 3.0)
    assert same == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", ["deygout", "bullington"])
def test_flat_earth_flat_or_sloping_ground_adds_nothing(method):
    n = 101
    flat = np.zeros((1, n))
    slope = np.linspace(100.0, 300.0, n)[None, :]
    for z in (flat, slope):
        got = dif.terrain_excess_loss_db(method, z, 100.0, 30.0, 1.5, 900.0, k_factor=np.inf,
                                         n_points=np.array([n]))
        assert got[0] == 0.0


@pytest.mark.parametrize("method", ["deygout", "bullington"])
def test_smooth_earth_loss_grows_as_k_falls_and_with_distance(method):
    ks = [0.5, 1.0, 4.0 / 3.0, 3.0, 100.0]
    prev_row = None
    for d_km in (10, 20, 30, 40):
        n = d_km * 10 + 1
        z = np.zeros((1, n))
        row = [float(dif.terrain_excess_loss_db(method, z, 100.0, 30.0, 1.5, 900.0,
                                                k_factor=k, n_points=np.array([n]))[0])
               for k in ks]
        assert all(a > b for a, b in zip(row, row[1:-1])), row   # strictly, until flat
        assert row[-1] == pytest.approx(0.0, abs=0.05)            # k = 100: almost flat
        if prev_row is not None:
            assert row[0] > prev_row[0]
        prev_row = row
    # beyond the radio horizon of a strongly curved Earth the loss is large
    assert prev_row[0] > 10.0


profiles = st.integers(3, 40).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 300, allow_nan=False), min_size=n, max_size=n),
    st.floats(20, 500), st.floats(2, 60), st.floats(1, 10), st.floats(100, 3000)))


@settings(max_examples=150, deadline=None)
@given(profiles, st.floats(0.5, 50), st.floats(1.01, 4))
def test_bullington_excess_never_negative_and_non_increasing_in_k(case, k, ratio):
    heights, spacing, htx, hrx, f = case
    z = np.asarray(heights)[None, :]
    n = np.array([z.shape[1]])
    lo = dif.terrain_excess_loss_db("bullington", z, spacing, htx, hrx, f, k_factor=k,
                                    n_points=n)[0]
    hi = dif.terrain_excess_loss_db("bullington", z, spacing, htx, hrx, f, k_factor=k * ratio,
                                    n_points=n)[0]
    assert lo >= 0 and hi >= 0
    assert lo >= hi - 1e-9


@settings(max_examples=100, deadline=None)
@given(profiles, st.floats(0.5, 50))
def test_deygout_excess_never_negative(case, k):
    heights, spacing, htx, hrx, f = case
    z = np.asarray(heights)[None, :]
    got = dif.terrain_excess_loss_db("deygout", z, spacing, htx, hrx, f, k_factor=k,
                                     n_points=np.array([z.shape[1]]))
    assert got[0] >= 0


def test_method_name_checked():
    with pytest.raises(ValueError, match="allowed"):
        dif.terrain_excess_loss_db("itm", np.zeros((1, 3)), 10.0, 1, 1, 900, n_points=[3])


def _path_loss(k, model="deygout"):
    from simulator.io.scenario_file import parse_scenario
    from simulator.pipeline.runner import run

    data = {"name": "k", "seed": 2,
            "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 48, "height_km": 48,
                       "resolution_m": 1200},
            "population": {"synthetic": {"total_people": 5000, "settlements": 10}},
            "terrain": {"synthetic": {"relief_m": 2.0, "roughness": 0.0}},
            "propagation": {"model": model, "k_factor": k, "max_range_km": 40},
            "sites": {"new": [{"station": "macro", "placement": "list",
                               "positions": [{"lon": 35.0, "lat": -6.0}]}]},
            "outputs": {"maps": False, "report": False}}
    return run(parse_scenario(data, "k.yaml")).fields.path_loss_db


@pytest.mark.parametrize("model", ["deygout", "bullington"])
def test_run_signal_falls_with_k_on_almost_smooth_ground(model):
    """Over nearly smooth ground, far cells lose more with a more curved Earth (k 0.5 vs 4/3
    vs 100); before the fix the three maps were identical."""
    pl = {k: _path_loss(k, model) for k in (0.5, 4.0 / 3.0, 100.0)}
    both = np.isfinite(pl[0.5]) & np.isfinite(pl[4.0 / 3.0]) & np.isfinite(pl[100.0])
    assert both.sum() > 100
    a, b, c = pl[0.5][both], pl[4.0 / 3.0][both], pl[100.0][both]
    assert np.all(a >= b - 1e-3) and np.all(b >= c - 1e-3)
    assert (a - b).max() > 3.0 and (b - c).max() > 1.0
