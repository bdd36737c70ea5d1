"""The candidate x cell coverage matrix agrees with the engine's coverage decision."""

import numpy as np
import pytest
import scipy.sparse as sp

from simulator import parse_scenario, run
from simulator.planning.coverage_matrix import coverage_matrix
from simulator.pipeline.engine import window_tile
from simulator.region.grid import Grid
from simulator.pipeline.runner import path_loss_model, required_signal_dbm


def test_window_tile_hand_worked():
    # 10 x 10 cells of 100 m, north-west corner (0, 1000): column j centre = 50 + 100 j,
    # row i centre = 950 - 100 i. Around (500, 500) with r = 120: x centres within 120 m are
    # 450, 550 (350 and 650 are 150 m away) -> columns 4, 5; y centres 550, 450 -> rows 4, 5.
    g = Grid("EPSG:32736", 0.0, 1000.0, 100.0, 10, 10)
    t = window_tile(g, 500.0, 500.0, 120.0)
    assert (t.row0, t.row1, t.col0, t.col1) == (4, 6, 4, 6)
    # r = 150 reaches the centres 350 and 650 exactly (boundary included): columns 3..6
    t = window_tile(g, 500.0, 500.0, 150.0)
    assert (t.row0, t.row1, t.col0, t.col1) == (3, 7, 3, 7)
    # clipped at the edge: (20, 980) with r = 150 -> x centres 50, 150 (cols 0, 1), y 950, 850
    t = window_tile(g, 20.0, 980.0, 150.0)
    assert (t.row0, t.row1, t.col0, t.col1) == (0, 2, 0, 2)
    assert window_tile(g, -500.0, 500.0, 100.0) is None
    with pytest.raises(ValueError, match="radius_m"):
        window_tile(g, 0.0, 0.0, -1.0)


def _scenario():
    return parse_scenario({
        "name": "cm", "seed": 5,
        "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 14, "height_km": 10,
                   "resolution_m": 200},
        "population": {"synthetic": {"total_people": 9000, "settlements": 12}},
        "sites": {"existing": [{"station": "macro", "count": 1}],
                  "new": [{"station": "ruralstar_pro", "count": 5, "min_spacing_km": 2},
                          {"station": "small_cell", "placement": "random", "count": 3}]},
    })


def test_union_of_rows_is_what_a_run_covers():
    s = _scenario()
    r = run(s)
    p = s.propagation
    req, _ = required_signal_dbm(s, r.technology)
    kw = dict(ue_height_m=p.ue_height_m, floor_dbm=r.technology.dl_threshold_dbm
              - p.floor_below_threshold_db, max_range_m=p.max_range_km * 1000.0,
              required_dbm=req)
    cm = coverage_matrix(r.grid, r.population.people, r.sites, r.stations, r.technology,
                         path_loss_model(s), **kw)
    assert isinstance(cm.matrix, sp.csr_array) and cm.matrix.dtype == np.bool_
    assert cm.matrix.shape == (len(r.sites), int((r.population.people > 0).sum()))
    union = np.asarray(cm.matrix.sum(axis=0)).ravel() > 0
    np.testing.assert_array_equal(union, r.covered.ravel()[cm.cell_index])
    assert cm.people[union].sum() == r.summary["people_covered"]
    # each site's row is the engine's own test for that site alone: the existing macro's row
    # is exactly what the run calls covered by the existing sites
    macro = np.zeros(cm.matrix.shape[1], bool)
    macro[cm.matrix[[0]].indices] = True
    np.testing.assert_array_equal(macro, r.covered_existing.ravel()[cm.cell_index])
    # threads do not change the matrix
    cm2 = coverage_matrix(r.grid, r.population.people, r.sites, r.stations, r.technology,
                          path_loss_model(s), workers=3, **kw)
    assert (cm2.matrix != cm.matrix).nnz == 0
