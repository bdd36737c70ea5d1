"""Synthetic clutter (seeded, reproducible, built-up around settlements), the packaged class
table, and the clutter layer's per-cell and per-point losses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.pipeline.engine import CoverageFields
from simulator.radio.propagation.clutter import terminal_clutter_loss_db
from simulator.random import component_rng
from simulator.region.clutter import (BUILT_UP, CROPLAND, TREE_COVER, ClutterLayer,
                                      apply_terminal_loss, clutter_sums, default_classes,
                                      loss_table_db, synthetic_clutter)
from simulator.region.grid import Grid
from simulator.schema import ClutterClassSpec

GRID = Grid(crs="EPSG:32736", x_min_m=700_000.0, y_max_m=9_330_000.0, resolution_m=100.0,
            nrows=120, ncols=160)
SX = np.array([705_000.0, 712_000.0, 708_500.0, 701_000.0])
SY = np.array([9_325_000.0, 9_321_000.0, 9_328_000.0, 9_319_000.0])
SP = np.array([4000, 1000, 250, 60])


def _make(seed=3, **kw):
    return synthetic_clutter(GRID, SX, SY, SP, rng=component_rng(seed, "clutter"), **kw)


def test_same_seed_same_clutter_other_seed_other_forest():
    a, b, c = _make(3), _make(3), _make(4)
    assert a.dtype == np.uint8 and a.shape == GRID.shape
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert set(np.unique(a)) <= {CROPLAND, TREE_COVER, BUILT_UP}


def test_built_up_around_the_settlements_and_nowhere_else():
    """Every cell within built_up_radius_1000_m * sqrt(people / 1000) of a settlement of at
    least min_settlement_people is built-up, and its centre cell too; no other cell is."""
    out = _make(built_up_radius_1000_m=250.0, min_settlement_people=100)
    x = GRID.x_centres()[None, :]
    y = GRID.y_centres()[:, None]
    expect = np.zeros(GRID.shape, bool)
    for sx, sy, sp in zip(SX, SY, SP):
        if sp < 100:
            continue
        r = 250.0 * np.sqrt(sp / 1000.0)        # 500 m, 250 m, 125 m
        expect |= (x - sx) ** 2 + (y - sy) ** 2 <= r * r
        row, col = GRID.cell_of(sx, sy)
        expect[row, col] = True
    np.testing.assert_array_equal(out == BUILT_UP, expect)
    # the 4,000-person town: a 500 m disc of 100 m cells holds about pi 5^2 = 79 cells
    row, col = GRID.cell_of(SX[0], SY[0])
    assert 70 <= (out[row - 6:row + 7, col - 6:col + 7] == BUILT_UP).sum() <= 85
    # the 60-person hamlet is below min_settlement_people: no built-up cell at its centre
    row, col = GRID.cell_of(SX[3], SY[3])
    assert out[row, col] != BUILT_UP


@pytest.mark.parametrize("share", [0.0, 0.15, 0.3, 0.6, 1.0])
def test_forest_share_is_about_the_asked_share(share):
    out = _make(forest_share=share, min_settlement_people=10**9)   # no built-up
    got = float((out == TREE_COVER).mean())
    if share in (0.0, 1.0):
        assert got == share
    else:
        # 16 x 12 km with 1 km patches: the share of one realisation varies by a few %
        assert abs(got - share) < 0.12


def test_forest_comes_in_patches_not_salt_and_pepper():
    """Neighbouring cells agree far more often than independent draws would (1 - 2p(1-p))."""
    out = _make(forest_share=0.3, min_settlement_people=10**9) == TREE_COVER
    same = float((out[:, 1:] == out[:, :-1]).mean())
    assert same > 0.95 > 1 - 2 * 0.3 * 0.7


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), share=st.floats(0.0, 1.0), radius=st.floats(50.0, 800.0))
def test_invariants(seed, share, radius):
    out = synthetic_clutter(GRID, SX, SY, SP, forest_share=share, forest_patch_m=800.0,
                            built_up_radius_1000_m=radius, rng=component_rng(seed, "clutter"))
    assert set(np.unique(out)) <= {CROPLAND, TREE_COVER, BUILT_UP}
    for sx, sy, sp in zip(SX, SY, SP):          # built-up wins over forest at every centre
        row, col = GRID.cell_of(sx, sy)
        assert (out[row, col] == BUILT_UP) == (sp >= 100)


def test_bad_arguments_name_the_parameter():
    for kw, name in [({"forest_share": 1.5}, "forest_share"),
                     ({"forest_patch_m": 0.0}, "forest_patch_m"),
                     ({"built_up_radius_1000_m": -1.0}, "built_up_radius_1000_m"),
                     ({"min_settlement_people": -1}, "min_settlement_people")]:
        with pytest.raises(ValueError, match=name):
            _make(**kw)


def test_packaged_table_is_valid_and_sourced():
    """Every class of simulator/data/clutter.yaml passes the scenario schema, every value
    that sets a loss carries a source, and the WorldCover codes are all there."""
    from importlib import resources

    raw = yaml.safe_load(resources.files("simulator.data").joinpath("clutter.yaml").read_text())
    assert sorted(raw["classes"]) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    for code, entry in raw["classes"].items():
        ClutterClassSpec(**{k: v for k, v in entry.items() if not k.endswith("_source")})
        if entry["type"] in ("open", "water"):
            assert "type_source" in entry, code
        else:
            assert "height_source" in entry, code
    table = default_classes()
    assert table[10].type == "trees_forest" and table[10].height_m == 15.0
    assert table[50].type == "suburban" and table[50].height_m == 10.0
    assert table[80].type == "water" and table[40].type == "open"


def test_loss_table_and_layer_lookups():
    table = default_classes()
    lut = loss_table_db(table, 900.0, 1.5)
    assert lut.dtype == np.float32 and len(lut) == 101
    assert lut[40] == 0.0 and lut[80] == 0.0 and np.isnan(lut[41])
    assert lut[10] == np.float32(terminal_clutter_loss_db(900.0, 1.5, 15.0, "trees_forest"))
    classes = _make()
    layer = ClutterLayer.build(GRID, classes, table, frequency_mhz=900.0, terminal_height_m=1.5,
                               source="synthetic")
    np.testing.assert_array_equal(layer.loss_db(), lut[classes])
    # points: the cell holding each point; outside the grid NaN
    x = np.array([GRID.x_centres()[3], GRID.x_min_m - 1.0])
    y = np.array([GRID.y_centres()[7], GRID.y_centres()[7]])
    got = layer.loss_at_xy(x, y)
    assert got[0] == lut[classes[7, 3]] and np.isnan(got[1])
    assert layer.class_at_xy(x, y).tolist() == [int(classes[7, 3]), -1]
    # another frequency and handset height (a calibration transmitter)
    hi = layer.loss_at_xy(x[:1], y[:1], frequency_mhz=1800.0, terminal_height_m=2.0)
    code = int(classes[7, 3])
    c = table[code]
    assert hi[0] == pytest.approx(float(terminal_clutter_loss_db(
        1800.0, 2.0, np.nan if c.height_m is None else c.height_m, c.type)), abs=1e-5)
    with pytest.raises(ValueError, match=r"class codes \[33\]"):
        ClutterLayer.build(GRID, np.full(GRID.shape, 33, np.uint8), table,
                           frequency_mhz=900.0, terminal_height_m=1.5, source="raster")


def test_apply_terminal_loss_lowers_signal_and_interference_alike():
    rx = np.array([[-80.0, np.nan]], np.float32)
    f = CoverageFields(rx, np.array([[0, -1]], np.int32), np.array([[120.0, np.nan]], np.float32),
                       np.array([[-95.0, -np.inf]], np.float32))
    loss = np.array([[18.5, 22.0]], np.float32)
    g = apply_terminal_loss(f, loss)
    assert g.rx_dbm[0, 0] == np.float32(-98.5) and np.isnan(g.rx_dbm[0, 1])
    assert g.path_loss_db[0, 0] == np.float32(138.5)
    assert g.interference_dbm[0, 0] == np.float32(-113.5) and g.interference_dbm[0, 1] == -np.inf
    np.testing.assert_array_equal(g.best_server, f.best_server)
    assert f.rx_dbm[0, 0] == np.float32(-80.0)            # the input is not changed
    zero = apply_terminal_loss(replace(f, interference_dbm=None), np.zeros((1, 2), np.float32))
    np.testing.assert_array_equal(zero.rx_dbm, f.rx_dbm)
    assert zero.interference_dbm is None


def test_clutter_sums_count_people_and_the_people_clutter_decided():
    classes = np.array([[10, 10, 40], [50, 40, 40]], np.uint8)
    people = np.array([[5, 7, 3], [20, 1, 0]])
    covered = np.array([[0, 7, 3], [12, 1, 0]])
    without = np.array([[5, 7, 3], [20, 1, 0]])
    inside = np.array([[True, True, True], [True, True, False]])
    s = clutter_sums(classes, people, covered, without, inside)
    assert s == {"clutter_cells_10": 2, "clutter_people_10": 12, "clutter_covered_10": 7,
                 "clutter_decided_10": 5, "clutter_cells_40": 2, "clutter_people_40": 4,
                 "clutter_covered_40": 4, "clutter_decided_40": 0, "clutter_cells_50": 1,
                 "clutter_people_50": 20, "clutter_covered_50": 12, "clutter_decided_50": 8}
