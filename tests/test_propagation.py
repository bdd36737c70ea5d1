"""Propagation models against external reference values (tests/data/propagation/)."""

import csv
import re

import numpy as np
import pytest

from simulator.radio.propagation.fspl import free_space_loss_db
from simulator.radio.propagation.hata import cost231_hata_loss_db, hata_1980_loss_db
from simulator.radio.propagation.rma import rma_38901_loss_db, rma_los_probability

from .conftest import DATA


def _rows(name):
    with open(DATA / "propagation" / name, newline="") as fh:
        return list(csv.DictReader(fh))


# --- free space: ITU-R P.525 ---------------------------------------------------------------

FSPL_ROWS = _rows("fspl_p525.csv")


@pytest.mark.parametrize("row", FSPL_ROWS, ids=[r["case_id"] for r in FSPL_ROWS])
def test_free_space_matches_references(row):
    # Sources use different constants (32.4478 exact, 32.45 NTIA C++, 32.4496 FORTRAN) and
    # print to different precision. We follow P.525 with the exact c = 299792458 m/s, so each
    # row must agree within its printed precision (the file's tolerance column) plus the
    # largest constant difference between the sources, 32.45 - 32.4478 = 0.0022 dB.
    got = free_space_loss_db(float(row["d_km"]) * 1000.0, float(row["f_mhz"]))
    expected = float(row["expected_fspl_db"])
    m = re.match(r"\s*(rtol\s*)?([0-9.eE+-]+)", row["expected_tolerance_db"])
    printed = float(m.group(2)) * (expected if m.group(1) else 1.0)
    tol = printed + 0.0025
    assert abs(got - expected) <= tol + 1e-6


@pytest.mark.parametrize("row", _rows("ns3_friis.csv"), ids=lambda r: r["case_id"])
def test_free_space_matches_ns3_friis_received_power(row):
    # ns-3 compares received power in watts with an absolute tolerance: do the same.
    loss = free_space_loss_db(float(row["d_m"]), float(row["f_hz"]) / 1e6)
    pr_w = float(row["tx_power_w"]) * 10 ** (-loss / 10)
    assert abs(pr_w - float(row["expected_rx_power_w"])) <= float(row["ns3_test_tolerance_w"])


def test_free_space_broadcasts_and_keeps_float32():
    d = np.array([[100.0, 1000.0]], dtype=np.float32)
    out = free_space_loss_db(d, np.array([[900.0], [1800.0]]))
    assert out.shape == (2, 2) and out.dtype == np.float32
    # doubling the frequency adds 20log10(2) = 6.0206 dB
    assert out[1, 0] - out[0, 0] == pytest.approx(6.0206, abs=1e-3)


def test_free_space_rejects_non_positive():
    with pytest.raises(ValueError):
        free_space_loss_db(0.0, 900.0)


# --- Okumura-Hata and COST-231: ns-3 test suite -----------------------------------------------

ENV = {"UrbanEnvironment": "urban", "SubUrbanEnvironment": "suburban",
       "OpenAreasEnvironment": "open"}
CITY = {"LargeCity": "large", "SmallCity": "small_medium"}


@pytest.mark.parametrize("row", _rows("ns3_okumura_hata.csv"), ids=lambda r: r["case_id"])
def test_hata_matches_ns3(row):
    # ns-3 uses the 3-D node distance and tolerance 0.1 dB. Known disagreements (reference
    # README section 14): ns3_oh_03 expects the small-city a(hm) although the test sets
    # LargeCity (0.05 dB apart), ns3_oh_04 (109.66) matches no formula (textbook 109.574 with
    # large-city a(hm), 0.086 dB away). Both stay within ns-3's own 0.1 dB tolerance with the
    # textbook formula, which is what we implement.
    got = hata_1980_loss_db(float(row["d_3d_m"]), float(row["f_mhz"]), float(row["h_b_m"]),
                            float(row["h_m_m"]), environment=ENV[row["environment"]],
                            city_size=CITY[row["city_size"]], out_of_range="raise")
    assert abs(got - float(row["expected_loss_db"])) <= float(row["ns3_test_tolerance_db"])


@pytest.mark.parametrize("row", _rows("ns3_cost231.csv"), ids=lambda r: r["case_id"])
def test_cost231_follows_the_standard_where_ns3_disagrees(row):
    got = cost231_hata_loss_db(float(row["d_3d_m"]), float(row["f_mhz"]), float(row["h_b_m"]),
                               float(row["h_m_m"]), environment="urban",
                               city_size=CITY[row["city_size"]], check_parameters=False)
    # 2114 MHz is above COST-231's 1500-2000 MHz: ns-3 extrapolates, so does this test.
    expected = float(row["expected_loss_db"])
    if row["case_id"] == "ns3_cost231_01":
        # ns-3 omits the -4.97 dB term of Hata's large-city a(hm) (reference README §14.1):
        # a(1 m) = 3.2(log10 11.75)^2 - 4.97 = -1.306 dB (standard) vs 3.664 dB (ns-3).
        # We follow COST-231 / Hata, so we are 4.97 dB above ns-3.
        expected += 4.97
    assert abs(got - expected) <= float(row["ns3_test_tolerance_db"])


def test_hata_slope_and_environment_ordering():
    d = np.array([2000.0, 20000.0])
    urban = hata_1980_loss_db(d, 900.0, 30.0, 1.5, environment="urban")
    sub = hata_1980_loss_db(d, 900.0, 30.0, 1.5, environment="suburban")
    opn = hata_1980_loss_db(d, 900.0, 30.0, 1.5, environment="open")
    assert np.all(urban > sub) and np.all(sub > opn)
    # slope per decade is 44.9 - 6.55 log10(30) = 35.225 dB (Hata eq. 3)
    assert urban[1] - urban[0] == pytest.approx(44.9 - 6.55 * np.log10(30.0), abs=1e-9)


@pytest.mark.parametrize("kwargs", [dict(frequency_mhz=2100.0), dict(h_base_m=15.0),
                                    dict(h_mobile_m=0.5)])
def test_hata_rejects_out_of_range_parameters(kwargs):
    args = dict(frequency_mhz=900.0, h_base_m=30.0, h_mobile_m=1.5) | kwargs
    with pytest.raises(ValueError, match="allowed range"):
        hata_1980_loss_db(5000.0, **args)


def test_hata_distance_policy():
    d = np.array([500.0, 5000.0, 40000.0])
    nan = hata_1980_loss_db(d, 900.0, 30.0, 1.5, out_of_range="nan")
    assert np.isnan(nan[0]) and np.isfinite(nan[1]) and np.isnan(nan[2])
    with pytest.raises(ValueError):
        hata_1980_loss_db(d, 900.0, 30.0, 1.5, out_of_range="raise")
    ext = hata_1980_loss_db(np.array([1.0, 10.0]), 900.0, 30.0, 1.5, environment="open")
    # extrapolated to 1-10 m, open-area Hata would predict less than free space: floored.
    np.testing.assert_allclose(ext, free_space_loss_db(np.array([1.0, 10.0]), 900.0))


# --- 3GPP TR 38.901 RMa ------------------------------------------------------------------------

@pytest.mark.parametrize("row", _rows("ns3_3gpp_rma.csv"), ids=lambda r: r["case_id"])
def test_rma_matches_ns3(row):
    got = rma_38901_loss_db(float(row["d_2d_m"]), float(row["f_hz"]) / 1e6, float(row["h_bs_m"]),
                            float(row["h_ut_m"]), condition=row["condition"].lower(),
                            out_of_range="raise")
    assert abs(got - float(row["expected_pathloss_db"])) <= float(row["ns3_test_tolerance_db"])


PYCRAF_RMA = [r for r in _rows("pycraf_3gpp_imt.csv") if r["scenario"] == "RMa"]


@pytest.mark.parametrize("row", PYCRAF_RMA, ids=[r["case_id"] for r in PYCRAF_RMA])
def test_rma_matches_pycraf(row):
    got = rma_38901_loss_db(float(row["d_2d_m"]), float(row["f_ghz"]) * 1000.0,
                            float(row["h_bs_m"]), float(row["h_ue_m"]),
                            condition=row["condition"].lower(),
                            street_width_m=float(row["W_m"]),
                            building_height_m=float(row["h_building_m"]), out_of_range="nan")
    expected = float(row["expected_pathloss_db"])
    if np.isnan(expected):
        assert np.isnan(got)  # pycraf returns NaN outside 10 m <= d_2D <= 10 km
        return
    tol = 1e-7 * expected
    if row["condition"] == "LOS" and float(row["h_bs_m"]) == 20.0 and float(row["d_2d_m"]) == 1000:
        # pycraf evaluates PL1 at the 3-D breakpoint distance; TR 38.901 (and ns-3) at d_BP
        # itself: 98.00008 vs 97.99585 dB (reference README §14.6). We follow the standard.
        tol = 0.005
    assert abs(got - expected) <= tol


def test_rma_nlos_never_below_los_and_weighted_between():
    d = np.linspace(20.0, 10000.0, 300)
    los = rma_38901_loss_db(d, 900.0, 35.0, 1.5, condition="los")
    nlos = rma_38901_loss_db(d, 900.0, 35.0, 1.5, condition="nlos")
    w = rma_38901_loss_db(d, 900.0, 35.0, 1.5, condition="weighted")
    assert np.all(nlos >= los - 1e-12)
    assert np.all((w >= los - 1e-9) & (w <= nlos + 1e-9))


def test_rma_los_probability_table_7_4_2_1():
    p = rma_los_probability(np.array([5.0, 10.0, 1010.0]))
    np.testing.assert_allclose(p, [1.0, 1.0, np.exp(-1.0)])


def test_rma_rejects_out_of_range_frequency():
    with pytest.raises(ValueError, match="frequency_mhz"):
        rma_38901_loss_db(1000.0, 450.0, 35.0, 1.5)


def test_cost231_rejects_frequency_outside_1500_2000_by_default():
    with pytest.raises(ValueError, match=r"\[1500, 2000\] MHz"):
        cost231_hata_loss_db(2000.0, 2114.0, 30.0, 1.0)


@pytest.mark.parametrize("condition", ["los", "nlos", "weighted"])
def test_engine_float32_rma_equals_the_reference(condition):
    from simulator.radio.propagation.models import PathLossModel

    rng = np.random.default_rng(0)
    d = rng.uniform(1.0, 30_000.0, (3, 5000)).astype(np.float32)
    h_bs = np.array([[12.0], [35.0], [60.0]])
    for f in (806.0, 942.5, 1842.5, 3500.0):
        fast = PathLossModel("rma_38901", rma_condition=condition).loss_db(d, f, h_bs, 1.5)
        ref = rma_38901_loss_db(np.maximum(d.astype(np.float64), 1.0), f, h_bs, 1.5,
                                condition=condition)
        assert fast.dtype == np.float32
        np.testing.assert_allclose(fast, ref, atol=2e-3)
