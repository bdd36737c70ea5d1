"""ITU-R P.2108-1 §3.1 terminal clutter loss against published reference values.

References (tests/data/SOURCES.md, section "p2108/"):
* ``p2108/ntia_hgtcm_test_data.csv``: the NTIA/ITS U.S. reference implementation's test
  table (github.com/NTIA/p2108), values to 0.1 dB, with its error cases;
* ``p2108/sg3_workbook_section3_1.csv``: the ITU-R SG3 "Clutter and BEL workbook" values
  that the SG3 reference MATLAB implementation (github.com/eeveetza/p2108,
  ``validate_p2108.m``) checks itself against, at its tolerance of 0.01 dB.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.radio.propagation.clutter import (ENGINE_CLUTTER_TYPES, P2108_CLUTTER_TYPES,
                                                 P2108_DEFAULT_HEIGHT_M,
                                                 height_gain_terminal_correction_db,
                                                 terminal_clutter_loss_db)

from .conftest import DATA

#: NTIA's ClutterType enum (include/ITS.ITU.PSeries.P2108/Enums.h).
NTIA_TYPES = {1: "water_sea", 2: "open_rural", 3: "suburban", 4: "urban", 5: "trees_forest",
              6: "dense_urban"}


def _rows(name):
    with open(DATA / "p2108" / name, newline="") as fh:
        return list(csv.DictReader(fh))


NTIA = _rows("ntia_hgtcm_test_data.csv")
SG3 = _rows("sg3_workbook_section3_1.csv")


@pytest.mark.parametrize("row", [r for r in NTIA if r["rtn"] == "0"],
                         ids=lambda r: "-".join(r[k] for k in ("f__ghz", "h__meter", "R__meter",
                                                                "clutter_type")))
def test_ntia_reference_values(row):
    got = height_gain_terminal_correction_db(
        float(row["f__ghz"]), float(row["h__meter"]), float(row["R__meter"]),
        NTIA_TYPES[int(row["clutter_type"])], street_width_m=float(row["w_s__meter"]))
    # published to 0.1 dB: half a unit of the last digit (NTIA's own tolerance is 0.1 dB)
    assert got == pytest.approx(float(row["A_h__db"]), abs=0.05 + 1e-9)


@pytest.mark.parametrize("row", [r for r in NTIA if r["rtn"] != "0"],
                         ids=lambda r: f"rtn{r['rtn']}")
def test_ntia_error_cases_are_refused(row):
    """NTIA's invalid inputs (frequency outside 0.03-3 GHz, height, street width or clutter
    height not > 0) raise ValueError naming the parameter."""
    names = {"3100": "frequency_ghz", "3101": "antenna_height_m", "3102": "street_width_m",
             "3103": "clutter_height_m"}
    with pytest.raises(ValueError, match=names[row["rtn"]]):
        height_gain_terminal_correction_db(
            float(row["f__ghz"]), float(row["h__meter"]), float(row["R__meter"]),
            NTIA_TYPES[int(row["clutter_type"])], street_width_m=float(row["w_s__meter"]))


@pytest.mark.parametrize("row", SG3, ids=lambda r: f"test{r['test']}")
def test_sg3_workbook_values(row):
    got = height_gain_terminal_correction_db(
        float(row["frequency_ghz"]), float(row["antenna_height_m"]),
        float(row["clutter_height_m"]), row["clutter_type"],
        street_width_m=float(row["street_width_m"]))
    assert got == pytest.approx(float(row["loss_db"]), abs=0.01)


def test_hand_worked_suburban_at_900_mhz():
    """Eqs. (2a)-(2g) by hand, f = 0.9 GHz, h = 1.5 m, R = 10 m, w_s = 27 m:
    h_dif = 8.5 m; theta = atan(8.5/27) = 17.47477 deg; K_nu = 0.342 sqrt(0.9) = 0.324450;
    nu = 0.324450 sqrt(8.5 x 17.47477) = 3.954236; J = 6.9 + 20 log10(sqrt(3.854236^2 + 1)
    + 3.854236) = 24.78199 dB; A_h = J - 6.03 = 18.75199 dB."""
    assert height_gain_terminal_correction_db(0.9, 1.5, 10.0, "suburban") == \
        pytest.approx(18.75199, abs=2e-5)


def test_broadcasting_scalars_arrays_and_nan():
    f = np.array([0.9, 1.5, np.nan])
    out = height_gain_terminal_correction_db(f, 2.0, 15.0, "urban")
    assert out.shape == (3,)
    assert np.isnan(out[2]) and np.all(np.isfinite(out[:2]))
    assert isinstance(height_gain_terminal_correction_db(1.5, 2.0, 15.0, "urban"), float)
    types = np.array([["urban"], ["open_rural"]])
    grid = height_gain_terminal_correction_db(1.5, np.array([1.0, 2.0, 3.0]), 10.0, types)
    assert grid.shape == (2, 3)
    for i, t in enumerate(("urban", "open_rural")):
        for j, h in enumerate((1.0, 2.0, 3.0)):
            assert grid[i, j] == height_gain_terminal_correction_db(1.5, h, 10.0, t)


def test_validity_limits_are_inclusive_and_checked():
    assert np.isfinite(height_gain_terminal_correction_db(0.03, 2.0, 10.0, "suburban"))
    assert np.isfinite(height_gain_terminal_correction_db(3.0, 2.0, 10.0, "suburban"))
    with pytest.raises(ValueError, match="0.03, 3"):
        height_gain_terminal_correction_db(3.01, 2.0, 10.0, "suburban")
    with pytest.raises(ValueError, match="clutter_type='forest'"):
        height_gain_terminal_correction_db(1.0, 2.0, 10.0, "forest")
    with pytest.raises(ValueError, match="frequency_ghz"):
        terminal_clutter_loss_db(3500.0, 1.5, 10.0, "suburban")   # MHz: 3.5 GHz
    with pytest.raises(ValueError, match="allowed: open, water"):
        terminal_clutter_loss_db(900.0, 1.5, 10.0, "open_rural")


def test_engine_loss_open_and_water_add_nothing_others_are_eq_2a():
    for t in ("open", "water"):
        assert terminal_clutter_loss_db(900.0, 1.5, np.nan, t) == 0.0
        assert terminal_clutter_loss_db(900.0, 1.5, 10.0, t) == 0.0
    for t in ("suburban", "urban", "trees_forest", "dense_urban"):
        r = P2108_DEFAULT_HEIGHT_M[t]
        assert terminal_clutter_loss_db(900.0, 1.5, r, t) == \
            height_gain_terminal_correction_db(0.9, 1.5, r, t)
    # the terminal above its clutter: nothing
    assert terminal_clutter_loss_db(900.0, 12.0, 10.0, "suburban") == 0.0


@given(f=st.floats(0.03, 3.0), h=st.floats(0.1, 50.0), r=st.floats(0.1, 60.0),
       ws=st.floats(1.0, 200.0), t=st.sampled_from(P2108_CLUTTER_TYPES))
def test_loss_is_non_negative_zero_above_the_clutter_and_falls_with_height(f, h, r, ws, t):
    a = height_gain_terminal_correction_db(f, h, r, t, street_width_m=ws)
    assert a >= -1e-9
    if h >= r:
        assert a == 0.0
    higher = height_gain_terminal_correction_db(f, h * 1.2, r, t, street_width_m=ws)
    assert higher <= a + 1e-9
    taller = height_gain_terminal_correction_db(f, h, r * 1.2, t, street_width_m=ws)
    assert taller >= a - 1e-9


@given(f_mhz=st.floats(30.0, 3000.0), h=st.floats(0.5, 10.0),
       t=st.sampled_from(ENGINE_CLUTTER_TYPES))
def test_engine_loss_grows_with_frequency_for_obstructing_types(f_mhz, h, t):
    r = P2108_DEFAULT_HEIGHT_M.get(t, 10.0)
    a = terminal_clutter_loss_db(f_mhz, h, r, t)
    b = terminal_clutter_loss_db(min(f_mhz * 1.1, 3000.0), h, r, t)
    assert b >= a - 1e-9
    assert (a == 0.0) == (t in ("open", "water") or h >= r)
