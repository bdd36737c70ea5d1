"""Tests for simulator.radio.capacity.

Expected values come from physics constants (scipy.constants), from the parameters of
3GPP TR 36.942 Annex A as quoted by public sources (see tests/data/SOURCES.md), or are
worked by hand in the comments. None is taken from the code under test.
"""

import math

import numpy as np
import pytest
import scipy.constants
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.radio import capacity as cap


def test_thermal_noise_is_minus_174_dbm_per_hz_at_290k():
    # kTB with B = 1 Hz: 10 log10(1.380649e-23 * 290 * 1e3) = -173.977 dBm
    expected = 10 * math.log10(scipy.constants.k * 290.0 * 1e3)
    assert cap.thermal_noise_dbm(1.0) == pytest.approx(expected, abs=1e-9)
    assert cap.thermal_noise_dbm(1.0) == pytest.approx(-174.0, abs=0.03)


def test_thermal_noise_bandwidth_and_noise_figure():
    # 10 MHz, NF 7 dB: -174 + 70 + 7 = -97 dBm (to the 0.02 dB of the rounded -174)
    assert cap.thermal_noise_dbm(10e6, noise_figure_db=7.0) == pytest.approx(-97.0, abs=0.03)
    # doubling the temperature adds 10 log10(2) = 3.0103 dB
    d = cap.thermal_noise_dbm(1e6, temperature_k=580.0) - cap.thermal_noise_dbm(1e6)
    assert d == pytest.approx(3.0103, abs=1e-4)


@pytest.mark.parametrize("kw, name", [
    (dict(bandwidth_hz=0.0), "bandwidth_hz"),
    (dict(bandwidth_hz=-1.0), "bandwidth_hz"),
    (dict(bandwidth_hz=1.0, temperature_k=0.0), "temperature_k"),
    (dict(bandwidth_hz=1.0, noise_figure_db=-1.0), "noise_figure_db"),
])
def test_thermal_noise_rejects_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        cap.thermal_noise_dbm(**kw)


# --------------------------------------------------------------------------- power sums


def test_sum_of_two_equal_powers_is_plus_3_0103_db():
    assert cap.sum_dbm([-100.0, -100.0]) == pytest.approx(-100.0 + 3.0103, abs=1e-4)


def test_sum_dbm_minus_inf_is_no_power():
    assert cap.sum_dbm([-80.0, -np.inf]) == pytest.approx(-80.0)
    assert cap.sum_dbm([-np.inf, -np.inf]) == -np.inf


def test_sum_dbm_axis():
    p = np.array([[-100.0, -100.0, -np.inf], [-90.0, -np.inf, -np.inf]])
    np.testing.assert_allclose(cap.sum_dbm(p, axis=1), [-96.9897, -90.0], atol=1e-4)
    # 10 log10(1e-10 + 1e-9) = -89.586
    np.testing.assert_allclose(cap.sum_dbm(p, axis=0)[0], -89.5861, atol=1e-4)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-150, 50), min_size=1, max_size=10))
def test_sum_dbm_is_at_least_the_largest_term(ps):
    s = cap.sum_dbm(np.array(ps))
    assert s >= max(ps) - 1e-9
    assert s <= max(ps) + 10 * math.log10(len(ps)) + 1e-9


# --------------------------------------------------------------------------- SINR


def test_sinr_without_interferer_equals_snr():
    assert cap.sinr_db(-90.0, -np.inf, -100.0) == pytest.approx(10.0)


def test_sinr_with_interference_equal_to_noise():
    # I = N = -100 dBm: I + N = -96.9897 dBm -> SINR = -90 + 96.9897 = 6.9897 dB
    assert cap.sinr_db(-90.0, -100.0, -100.0) == pytest.approx(6.9897, abs=1e-4)


def test_sinr_broadcasts():
    s = cap.sinr_db(np.array([-90.0, -80.0]), np.array([[-np.inf], [-100.0]]), -100.0)
    assert s.shape == (2, 2)


def test_sinr_rejects_infinite_noise():
    with pytest.raises(ValueError, match="noise_dbm"):
        cap.sinr_db(-90.0, -100.0, -np.inf)


# --------------------------------------------------------------------------- Shannon mapping
# TR 36.942 A.1 DL baseline: alpha 0.6, SINR_MIN -10 dB, Thr_MAX 4.4 bps/Hz (see SOURCES.md).


def test_shannon_mapping_hand_points():
    # 10 dB: 0.6 * log2(1 + 10) = 0.6 * 3.459432 = 2.075659
    assert cap.shannon_throughput_bps_per_hz(10.0) == pytest.approx(2.075659, abs=1e-6)
    # 0 dB: 0.6 * log2(2) = 0.6
    assert cap.shannon_throughput_bps_per_hz(0.0) == pytest.approx(0.6, abs=1e-12)
    # at SINR_MIN = -10 dB: 0.6 * log2(1.1) = 0.6 * 0.137504 = 0.082502
    assert cap.shannon_throughput_bps_per_hz(-10.0) == pytest.approx(0.082502, abs=1e-6)
    # below SINR_MIN: 0
    assert cap.shannon_throughput_bps_per_hz(-10.01) == 0.0
    assert cap.shannon_throughput_bps_per_hz(-np.inf) == 0.0
    # far above: Thr_MAX
    assert cap.shannon_throughput_bps_per_hz(30.0) == pytest.approx(4.4)
    assert cap.shannon_throughput_bps_per_hz(np.inf) == pytest.approx(4.4)


def test_shannon_sinr_max_for_dl_baseline():
    # 0.6 log2(1+x) = 4.4 -> x = 2**(22/3) - 1 = 128 * 1.259921 - 1 = 160.27 -> 22.05 dB
    assert cap.shannon_sinr_max_db() == pytest.approx(22.0485, abs=1e-3)
    # just below it the curve is below 4.4, just above it is 4.4
    assert cap.shannon_throughput_bps_per_hz(22.0) < 4.4
    assert cap.shannon_throughput_bps_per_hz(22.1) == pytest.approx(4.4)


def test_shannon_explicit_sinr_max_caps_at_thr_max():
    thr = cap.shannon_throughput_bps_per_hz(np.array([5.0, 15.0, 16.0]), sinr_max_db=15.0)
    # 5 dB: 0.6 log2(1 + 3.162278) = 0.6 * 2.057373 = 1.234424
    np.testing.assert_allclose(thr, [1.234424, 4.4, 4.4], atol=1e-6)


def test_shannon_other_parameter_set():
    # alpha 0.4, Thr_MAX 2.0: at 10 dB 0.4*3.459432 = 1.383773, at 20 dB capped at 2.0
    thr = cap.shannon_throughput_bps_per_hz([10.0, 20.0], alpha=0.4, max_bps_per_hz=2.0)
    np.testing.assert_allclose(thr, [1.383773, 2.0], atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.floats(-40, 60), st.floats(0, 20))
def test_shannon_mapping_monotone_and_bounded(s, ds):
    a = cap.shannon_throughput_bps_per_hz(s)
    b = cap.shannon_throughput_bps_per_hz(s + ds)
    assert 0.0 <= a <= b <= 4.4 + 1e-12


@pytest.mark.parametrize("kw, name", [
    (dict(sinr_min_db=5.0, sinr_max_db=5.0), "sinr_min_db"),
    (dict(sinr_min_db=25.0), "sinr_min_db"),
    (dict(alpha=0.0), "alpha"),
    (dict(alpha=1.5), "alpha"),
    (dict(max_bps_per_hz=0.0), "max_bps_per_hz"),
])
def test_shannon_rejects_bad_parameters(kw, name):
    with pytest.raises(ValueError, match=name):
        cap.shannon_throughput_bps_per_hz(0.0, **kw)


# --------------------------------------------------------------------------- capacity / load


def test_cell_capacity_and_served_fraction():
    # 10 MHz x 1.5 bps/Hz = 15 Mbit/s; with 25 % overhead 11.25
    assert cap.cell_capacity_mbps(10e6, 1.5) == pytest.approx(15.0)
    assert cap.cell_capacity_mbps(10e6, 1.5, overhead_fraction=0.25) == pytest.approx(11.25)
    np.testing.assert_allclose(cap.served_fraction([20.0, 10.0, 0.0], 15.0), [0.75, 1.0, 1.0])
    with pytest.raises(ValueError, match="overhead_fraction"):
        cap.cell_capacity_mbps(10e6, 1.5, overhead_fraction=1.0)
    with pytest.raises(ValueError, match="demand_mbps"):
        cap.served_fraction(-1.0, 1.0)


def test_site_load_hand_example():
    # cells: people [100, 50, 30, 0, 40], server [0, 0, 1, -1, 1], SE [2, 1, 0.5, 3, 0]
    # B = 5 MHz, active 10 %, 1 Mbit/s per active user.
    # site 0: demand 150*0.1*1 = 15 Mbit/s; resources (100/2 + 50/1)*0.1*1e6/5e6 = 2.0
    #         -> served 1/2 -> 75 people; capacity = 5 MHz * 150/100 = 7.5 Mbit/s
    # site 1: only the 30 people cell (SE 0 cell is not attached): (30/0.5)*0.1/5 = 1.2
    #         -> served 1/1.2 -> 25 people; capacity = 5 MHz * 0.5 = 2.5 Mbit/s
    r = cap.site_load(np.array([100.0, 50, 30, 0, 40]), np.array([0, 0, 1, -1, 1]),
                      np.array([2.0, 1, 0.5, 3, 0]), n_sites=2, bandwidth_hz=5e6,
                      active_share=0.1, mbps_per_active_user=1.0)
    np.testing.assert_allclose(r.load, [2.0, 1.2])
    np.testing.assert_allclose(r.demand_mbps, [15.0, 3.0])
    np.testing.assert_allclose(r.capacity_mbps, [7.5, 2.5])
    np.testing.assert_allclose(r.served_fraction, [0.5, 1 / 1.2])
    np.testing.assert_allclose(r.people_attached, [150.0, 30.0])
    np.testing.assert_allclose(r.people_served, [75.0, 25.0])
    np.testing.assert_allclose(r.people_served_per_cell, [50.0, 25.0, 25.0, 0.0, 0.0])


def _site_load_loop(people, server, se, n_sites, bw, a, rate):
    """Independent oracle: plain Python loops over cells."""
    res = [0.0] * n_sites
    att = [0.0] * n_sites
    for p, s, e in zip(people, server, se):
        if s >= 0 and e > 0:
            res[s] += p * a * rate * 1e6 / (bw * e)
            att[s] += p
    served = [att[s] * (1.0 if res[s] <= 1 else 1.0 / res[s]) for s in range(n_sites)]
    return res, served


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 40), st.integers(0, 10_000))
def test_site_load_matches_loop_oracle(n_sites, n_cells, seed):
    rng = np.random.default_rng(seed)
    people = rng.integers(0, 500, n_cells).astype(float)
    server = rng.integers(-1, n_sites, n_cells)
    se = np.where(rng.random(n_cells) < 0.1, 0.0, rng.uniform(0.05, 4.4, n_cells))
    r = cap.site_load(people, server, se, n_sites=n_sites, bandwidth_hz=5e6,
                      active_share=0.05, mbps_per_active_user=2.0)
    load, served = _site_load_loop(people, server, se, n_sites, 5e6, 0.05, 2.0)
    np.testing.assert_allclose(r.load, load, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.people_served, served, rtol=1e-12, atol=1e-9)
    assert r.people_served_per_cell.sum() == pytest.approx(sum(served), abs=1e-6)
    assert np.all(r.people_served <= r.people_attached + 1e-9)


def test_site_load_rejects_bad_input():
    with pytest.raises(ValueError, match="active_share"):
        cap.site_load([1.0], [0], [1.0], n_sites=1, bandwidth_hz=1e6, active_share=1.5,
                      mbps_per_active_user=1.0)
    with pytest.raises(ValueError, match="best_server"):
        cap.site_load([1.0], [3], [1.0], n_sites=2, bandwidth_hz=1e6, active_share=0.1,
                      mbps_per_active_user=1.0)


# --------------------------------------------------------------------------- uplink


def test_uplink_budget_hand_example():
    # BS sensitivity for 2 RB (360 kHz), NF 2 dB, required SINR -7 dB:
    #   -173.977 + 10 log10(360e3) [55.563] + 2 - 7 = -123.414 dBm
    sens = cap.bs_sensitivity_dbm(2, noise_figure_db=2.0, required_sinr_db=-7.0)
    assert sens == pytest.approx(-123.414, abs=2e-3)
    # UE 24 dBm, BS gain 18 dBi, feeder 2 dB, PL 163 dB: rx = 24 - 163 + 18 - 2 = -123 dBm
    rx = cap.uplink_rx_dbm(24.0, 163.0, 18.0, bs_feeder_loss_db=2.0)
    assert rx == pytest.approx(-123.0)
    kw = dict(n_resource_blocks=2, noise_figure_db=2.0, required_sinr_db=-7.0,
              bs_feeder_loss_db=2.0)
    assert cap.uplink_margin_db(24.0, 163.0, 18.0, **kw) == pytest.approx(0.414, abs=2e-3)
    np.testing.assert_array_equal(cap.uplink_closes(24.0, np.array([163.0, 163.5]), 18.0, **kw),
                                  [True, False])


def test_narrower_uplink_allocation_reaches_further():
    # 1 RB vs 50 RB: the noise bandwidth shrinks 50x, 10 log10(50) = 16.99 dB more margin
    kw = dict(noise_figure_db=3.0, required_sinr_db=0.0)
    d = (cap.uplink_margin_db(23.0, 150.0, 15.0, n_resource_blocks=1, **kw)
         - cap.uplink_margin_db(23.0, 150.0, 15.0, n_resource_blocks=50, **kw))
    assert d == pytest.approx(16.9897, abs=1e-4)


def test_uplink_rejects_bad_input():
    with pytest.raises(ValueError, match="n_resource_blocks"):
        cap.bs_sensitivity_dbm(0, noise_figure_db=2.0, required_sinr_db=0.0)
    with pytest.raises(ValueError, match="body_loss_db"):
        cap.uplink_rx_dbm(23.0, 120.0, 15.0, body_loss_db=-3.0)


# --------------------------------------------------------------------------- frequency reuse


def test_reuse_factor_validation():
    xy = np.zeros((3, 2))
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="reuse_factor"):
            cap.assign_channels(xy, bad)
    with pytest.raises(ValueError, match="method"):
        cap.assign_channels(xy, 3, method="random")


def test_modulo_and_universal_reuse():
    xy = np.c_[np.arange(7) * 1000.0, np.zeros(7)]
    np.testing.assert_array_equal(cap.assign_channels(xy, 3, method="modulo"),
                                  [0, 1, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(cap.assign_channels(xy, 1), np.zeros(7))


def test_greedy_on_a_line_gives_the_cyclic_pattern():
    # sites 1 km apart on a line, N = 3, processed in order: each site takes the channel
    # whose nearest co-channel site is farthest -> 0,1,2,0,1,2 (worked through by hand:
    # site 3 sees channel 0 at 3 km, 1 at 2 km, 2 at 1 km -> 0, and so on)
    xy = np.c_[np.arange(6) * 1000.0, np.zeros(6)]
    np.testing.assert_array_equal(cap.assign_channels(xy, 3), [0, 1, 2, 0, 1, 2])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(0, 1000))
def test_greedy_uses_distinct_channels_when_enough(n_sites, seed):
    xy = np.random.default_rng(seed).uniform(0, 10_000, (n_sites, 2))
    ch = cap.assign_channels(xy, n_sites)
    assert len(set(ch.tolist())) == n_sites
    ch3 = cap.assign_channels(xy, 3)
    assert ch3.min() >= 0 and ch3.max() < 3


def test_co_channel_interference():
    rx = np.array([[-80.0, -85.0, -90.0, -95.0],
                   [-80.0, -85.0, -90.0, -95.0],
                   [-80.0, -85.0, -90.0, -95.0]])
    channels = np.array([0, 1, 0, 0])
    server = np.array([0, 1, -1])
    i = cap.co_channel_interference_dbm(rx, server, channels)
    # server 0 (channel 0): sites 2 and 3 -> 10 log10(1e-9 + 10**-9.5) = -88.8066 dBm
    assert i[0] == pytest.approx(-88.8066, abs=1e-4)
    assert i[1] == -np.inf  # channel 1 has no other site
    assert i[2] == -np.inf  # no server
