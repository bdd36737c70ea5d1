"""Tests for simulator.radio.antenna and simulator.io.antenna_files.

Expected values are hand-worked from 3GPP TR 38.901 Table 7.3-1 (arithmetic in the
comments) or follow from the definition of the half-power beamwidth; the .msi file in
tests/data is hand-made (see SOURCES.md) with values following the rule in its COMMENT.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.radio import antenna as ant
from simulator.io.antenna_files import parse_msi, read_msi

MSI = Path(__file__).parent / "data" / "antenna_test_pattern.msi"


# --------------------------------------------------------------------------- 3GPP sector
def test_sector_peak_at_boresight():
    assert ant.sector_3gpp_gain_dbi(0.0, 0.0) == pytest.approx(8.0, abs=1e-12)
    assert ant.sector_3gpp_gain_dbi(0.0, 0.0, max_gain_dbi=17.0) == pytest.approx(17.0)
    az = np.linspace(-180, 180, 721)
    el = np.linspace(-90, 90, 361)
    g = ant.sector_3gpp_gain_dbi(az[None, :], el[:, None])
    assert g.max() == pytest.approx(8.0) and g[180, 360] == g.max()  # (el 0, az 0)


@pytest.mark.parametrize("hh,hv", [(65.0, 65.0), (90.0, 10.0), (120.0, 7.0)])
def test_sector_minus_3db_at_half_beamwidth(hh, hv):
    # half-power beamwidth: 12 * (1/2)^2 = 3 dB down at +-HPBW/2
    kw = dict(max_gain_dbi=15.0, hpbw_h_deg=hh, hpbw_v_deg=hv)
    assert ant.sector_3gpp_gain_dbi(hh / 2, 0.0, **kw) == pytest.approx(12.0, abs=1e-12)
    assert ant.sector_3gpp_gain_dbi(-hh / 2, 0.0, **kw) == pytest.approx(12.0, abs=1e-12)
    assert ant.sector_3gpp_gain_dbi(0.0, hv / 2, **kw) == pytest.approx(12.0, abs=1e-12)
    assert ant.sector_3gpp_gain_dbi(0.0, -hv / 2, **kw) == pytest.approx(12.0, abs=1e-12)


def test_sector_hand_worked_values():
    # az 30, el -10: A_H = 12 (30/65)^2 = 2.55621; A_V = 12 (10/65)^2 = 0.28402 -> 8 - 2.84024
    assert ant.sector_3gpp_gain_dbi(30.0, -10.0) == pytest.approx(5.15976, abs=1e-5)
    # az 90, el 0: 12 (90/65)^2 = 23.0059 -> 8 - 23.0059 = -15.0059
    assert ant.sector_3gpp_gain_dbi(90.0, 0.0) == pytest.approx(-15.0059, abs=1e-4)
    # back: A_H capped at A_max = 30 -> 8 - 30 = -22
    assert ant.sector_3gpp_gain_dbi(180.0, 0.0) == pytest.approx(-22.0, abs=1e-12)
    # az 90, el 60: 23.0059 + 12 (60/65)^2 = 23.0059 + 10.2249 = 33.23 -> floor 30 -> -22
    assert ant.sector_3gpp_gain_dbi(90.0, 60.0) == pytest.approx(-22.0, abs=1e-12)
    # SLA_V: el -90 -> 12 (90/65)^2 = 23.0 < 30, so not capped: 8 - 23.0059
    assert ant.sector_3gpp_gain_dbi(0.0, -90.0) == pytest.approx(-15.0059, abs=1e-4)
    assert ant.sector_3gpp_gain_dbi(0.0, -90.0, sla_v_db=20.0) == pytest.approx(-12.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(-720, 720), st.floats(-90, 90), st.floats(1, 360), st.floats(1, 180),
       st.floats(0, 40), st.floats(0, 40))
def test_sector_bounds_and_symmetry(az, el, hh, hv, amax, sla):
    kw = dict(max_gain_dbi=10.0, hpbw_h_deg=hh, hpbw_v_deg=hv, a_max_db=amax, sla_v_db=sla)
    g = ant.sector_3gpp_gain_dbi(az, el, **kw)
    assert 10.0 - amax - 1e-9 <= g <= 10.0 + 1e-12
    assert g == pytest.approx(ant.sector_3gpp_gain_dbi(-az, el, **kw), abs=1e-9)
    assert g == pytest.approx(ant.sector_3gpp_gain_dbi(az, -el, **kw), abs=1e-9)
    assert g == pytest.approx(ant.sector_3gpp_gain_dbi(az + 360.0, el, **kw), abs=1e-9)


def test_electrical_downtilt_moves_vertical_peak():
    el = np.linspace(-30, 30, 601)  # 0.1 deg steps
    for tilt in (0.0, 3.0, 8.0, -2.0):
        g = ant.sector_3gpp_gain_dbi(0.0, el, hpbw_v_deg=10.0, tilt_deg=tilt)
        assert el[np.argmax(g)] == pytest.approx(-tilt, abs=1e-9)
        assert g.max() == pytest.approx(8.0)
    # a cell on the horizon loses 12 (6/10)^2 = 4.32 dB with a 6 deg tilt
    assert ant.sector_3gpp_gain_dbi(0.0, 0.0, hpbw_v_deg=10.0, tilt_deg=6.0) == \
        pytest.approx(8.0 - 4.32, abs=1e-12)


# --------------------------------------------------------------------------- omni
def test_omni():
    assert ant.omni_gain_dbi(0.0) == 0.0
    np.testing.assert_array_equal(ant.omni_gain_dbi(np.array([-90, 0, 45]), max_gain_dbi=2.0),
                                  2.0)
    # collinear omni, 10 deg vertical beam, 4 deg tilt: peak at -4 deg; at 0 deg
    # 12 (4/10)^2 = 1.92 dB down
    g = ant.omni_gain_dbi(np.array([-4.0, 0.0]), max_gain_dbi=9.0, hpbw_v_deg=10.0, tilt_deg=4.0)
    np.testing.assert_allclose(g, [9.0, 9.0 - 1.92], atol=1e-12)


def test_invalid_parameters():
    with pytest.raises(ValueError):
        ant.sector_3gpp_gain_dbi(0.0, 95.0)
    with pytest.raises(ValueError):
        ant.sector_3gpp_gain_dbi(0.0, 0.0, hpbw_h_deg=0.0)
    with pytest.raises(ValueError):
        ant.sector_3gpp_gain_dbi(0.0, 0.0, a_max_db=-1.0)
    with pytest.raises(ValueError):
        ant.sector_3gpp_gain_dbi(0.0, 0.0, tilt_deg=100.0)
    with pytest.raises(ValueError):
        ant.omni_gain_dbi(0.0, hpbw_v_deg=200.0)


# --------------------------------------------------------------------------- rotation
def test_frame_angles_identity_without_tilt():
    az, el = ant.antenna_frame_angles(np.array([10.0, 200.0, -30.0]), np.array([5.0, -20.0, 0.0]),
                                      azimuth_deg=0.0)
    np.testing.assert_allclose(az, [10.0, -160.0, -30.0], atol=1e-9)
    np.testing.assert_allclose(el, [5.0, -20.0, 0.0], atol=1e-9)


def test_mechanical_tilt_rotation_hand_worked():
    # beta = 10 deg down. Boresight direction 10 deg below the horizon -> antenna frame 0, 0.
    az, el = ant.antenna_frame_angles(45.0, -10.0, azimuth_deg=45.0, mechanical_tilt_deg=10.0)
    assert az == pytest.approx(0.0, abs=1e-9) and el == pytest.approx(0.0, abs=1e-9)
    # Horizon at 90 deg to the side: theta = 90, Delta = 90: cos theta' = 0 -> el' = 0 and
    # phi' = arg(0 - 0 + j) = 90: a mechanical tilt does not lower the beam sideways.
    az, el = ant.antenna_frame_angles(135.0, 0.0, azimuth_deg=45.0, mechanical_tilt_deg=10.0)
    assert az == pytest.approx(90.0, abs=1e-9) and el == pytest.approx(0.0, abs=1e-9)
    # Horizon behind: theta = 90, Delta = 180: cos theta' = -sin(10) -> theta' = 100 deg,
    # el' = -10 deg (the back of a down-tilted antenna points up)
    az, el = ant.antenna_frame_angles(225.0, 0.0, azimuth_deg=45.0, mechanical_tilt_deg=10.0)
    assert abs(az) == pytest.approx(180.0, abs=1e-9) and el == pytest.approx(-10.0, abs=1e-9)


# --------------------------------------------------------------------------- gain_toward
def test_gain_toward_directions():
    site = (1000.0, 2000.0)
    cells_x = np.array([6000.0, -4000.0, 1000.0])   # east, west, north
    cells_y = np.array([2000.0, 2000.0, 7000.0])
    g = ant.gain_toward(site, 30.0, 90.0, (cells_x, cells_y), 30.0)
    # east = boresight: 8; west = back: 8 - 30; north = 90 deg off: 8 - 23.0059
    np.testing.assert_allclose(g, [8.0, -22.0, 8.0 - 23.0059], atol=1e-4)


def test_gain_toward_downtilt_peak_distance():
    # Antenna 100 m above flat ground, boresight north. The peak is where the
    # depression angle equals the total tilt: d = 100 / tan(6 deg) = 951.4 m.
    d = np.arange(100.0, 5000.0, 1.0)
    x = np.zeros_like(d)
    expected = 100.0 / math.tan(math.radians(6.0))
    assert expected == pytest.approx(951.4, abs=0.1)
    for mech, elec in ((6.0, 0.0), (0.0, 6.0), (3.0, 3.0)):
        g = ant.gain_toward((0.0, 0.0), 100.0, 0.0, (x, d), 0.0, hpbw_v_deg=10.0,
                            mechanical_tilt_deg=mech, electrical_tilt_deg=elec)
        assert d[np.argmax(g)] == pytest.approx(expected, abs=1.0)
        assert g.max() == pytest.approx(8.0, abs=1e-6)


def test_gain_toward_mechanical_vs_electrical_sideways():
    # Cell on the horizon 90 deg off boresight: mechanical tilt leaves it unchanged,
    # electrical tilt lowers it by 12 (6/10)^2 = 4.32 dB in the vertical cut.
    kw = dict(hpbw_v_deg=10.0)
    g0 = ant.gain_toward((0, 0), 50.0, 0.0, (1000.0, 0.0), 50.0, **kw)
    gm = ant.gain_toward((0, 0), 50.0, 0.0, (1000.0, 0.0), 50.0, mechanical_tilt_deg=6.0, **kw)
    ge = ant.gain_toward((0, 0), 50.0, 0.0, (1000.0, 0.0), 50.0, electrical_tilt_deg=6.0, **kw)
    assert gm == pytest.approx(g0, abs=1e-9)
    # horizontal part 23.0059 and vertical 4.32 add (33.33 > 30 -> capped at 30)
    assert g0 == pytest.approx(8.0 - 23.0059, abs=1e-4)
    assert ge == pytest.approx(8.0 - 27.3259, abs=1e-4)


def test_gain_toward_broadcast_sites_by_cells():
    sx = np.array([[0.0], [500.0]])
    sy = np.array([[0.0], [0.0]])
    cx = np.array([[100.0, 200.0, 300.0]])
    cy = np.array([[1000.0, 1000.0, 1000.0]])
    g = ant.gain_toward((sx, sy), 30.0, np.array([[0.0], [90.0]]), (cx, cy), 1.5)
    assert g.shape == (2, 3)
    single = ant.gain_toward((500.0, 0.0), 30.0, 90.0, (200.0, 1000.0), 1.5)
    assert g[1, 1] == pytest.approx(single)


def test_gain_toward_omni():
    g = ant.gain_toward((0, 0), 30.0, 0.0, (np.array([100.0, -100.0]), np.array([0.0, 0.0])),
                        30.0, pattern="omni", max_gain_dbi=2.0, hpbw_v_deg=None)
    np.testing.assert_array_equal(g, 2.0)
    with pytest.raises(ValueError):
        ant.gain_toward((0, 0), 30.0, 0.0, (1.0, 1.0), 0.0, pattern="bogus")


# --------------------------------------------------------------------------- MSI files
def test_read_msi_parsed_values():
    p = read_msi(MSI)
    assert p.name == "TestSector65 hand-made"
    assert p.frequency_mhz == 900.0
    assert p.peak_gain_dbi == pytest.approx(15.85 + 2.15)  # dBd -> dBi
    assert p.horizontal_angle_deg.size == 360 and p.vertical_angle_deg.size == 360
    # rule in the file: H = min(0.2 min(a, 360 - a), 25); V = min(0.5 min(a, 360 - a), 30)
    assert p.horizontal_attenuation_db[10] == pytest.approx(2.0)
    assert p.horizontal_attenuation_db[180] == pytest.approx(25.0)
    assert p.vertical_attenuation_db[100] == pytest.approx(30.0)
    assert p.vertical_attenuation_db[350] == pytest.approx(5.0)
    assert p.metadata["H_WIDTH"] == "65"
    assert p.metadata["POLARIZATION"] == "+45"


def test_msi_interpolation_and_gain():
    p = read_msi(MSI)
    # linear in angle between tabulated integer degrees, periodic
    assert p.horizontal_db(10.5) == pytest.approx(2.1)
    assert p.horizontal_db(-10.5) == pytest.approx(2.1)
    assert p.horizontal_db(359.5) == pytest.approx(0.1)
    assert p.vertical_db(3.25) == pytest.approx(1.625)
    # 3-D reconstruction (class docstring), peak 18 dBi:
    assert p.gain_dbi(0.0, 0.0) == pytest.approx(18.0)
    # horizon plane: A = A_H = 2.1 -> 15.9
    assert p.gain_dbi(10.5, 0.0) == pytest.approx(15.9)
    # boresight vertical plane, 3.25 deg below the horizon: A = A_V(3.25) = 1.625 -> 16.375
    assert p.gain_dbi(0.0, -3.25) == pytest.approx(16.375)
    # back: A_H(180) = 25 -> -7
    assert p.gain_dbi(180.0, 0.0) == pytest.approx(-7.0)
    # 90 deg off, 4 deg down: w = 0.5, A = 18 + 0.5 * 2 + 0.5 * (A_V(176) - A_V(180))
    # = 18 + 1 + 0.5 * (30 - 30) = 19 -> -1
    assert p.gain_dbi(90.0, -4.0) == pytest.approx(-1.0)
    # through gain_toward: site 100 m up, cell due north on the ground at 100/tan(3.25 deg)
    d = 100.0 / math.tan(math.radians(3.25))
    assert ant.gain_toward((0, 0), 100.0, 0.0, (0.0, d), 0.0, pattern=p) == \
        pytest.approx(16.375)
    with pytest.raises(ValueError):
        ant.gain_toward((0, 0), 100.0, 0.0, (0.0, d), 0.0, pattern=p, electrical_tilt_deg=2.0)


def _msi_text(**replace):
    text = MSI.read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def test_msi_header_variants():
    # vendor files without the NAME token, dBi gain, GHz frequency, a band
    text = MSI.read_text().replace("NAME TestSector65 hand-made", "Vendor X 65deg")
    text = text.replace("GAIN 15.85 dBd", "GAIN 17.5 dBi").replace("FREQUENCY 900",
                                                                    "FREQUENCY 2.4 GHz")
    p = parse_msi(text)
    assert p.name == "Vendor X 65deg" and p.peak_gain_dbi == 17.5
    assert p.frequency_mhz == pytest.approx(2400.0)
    p = parse_msi(MSI.read_text().replace("FREQUENCY 900", "FREQUENCY 806-960")
                  .replace("GAIN 15.85 dBd", "gain 10"))
    assert p.frequency_mhz == pytest.approx(883.0) and p.peak_gain_dbi == pytest.approx(12.15)


def test_msi_unreadable(tmp_path):
    text = MSI.read_text()
    head, _, _ = text.partition("VERTICAL 360")
    bad = {
        "no_vertical.msi": head,
        "short.msi": "\n".join(text.splitlines()[:-5]) + "\n",
        "bad_number.msi": text.replace("\n10 2.0\n", "\n10 two\n"),
        "no_gain.msi": text.replace("GAIN 15.85 dBd\n", ""),
        "bad_gain_unit.msi": text.replace("GAIN 15.85 dBd", "GAIN 15.85 dBw"),
        "bad_freq.msi": text.replace("FREQUENCY 900", "FREQUENCY nine hundred"),
        "unsorted.msi": text.replace("\n10 2.0\n", "\n5 2.0\n"),
        "empty.msi": "",
    }
    for name, content in bad.items():
        f = tmp_path / name
        f.write_text(content)
        with pytest.raises(ValueError, match="unreadable MSI antenna file"):
            read_msi(f)
    f = tmp_path / "binary.msi"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ValueError, match="binary"):
        read_msi(f)
    with pytest.raises(FileNotFoundError):
        read_msi(tmp_path / "missing.msi")
