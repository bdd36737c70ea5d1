"""The engine's compiled site windows (simulator.pipeline._engine_jit) against its numpy
form: the same bits for every field, with every area model and station kind."""

import numpy as np
import pytest

from simulator.pipeline import _engine_jit as jit
from simulator.pipeline import engine
from simulator.radio.propagation.models import PathLossModel
from simulator.radio.stations import Sites, station_catalogue, technology_catalogue
from simulator.region.grid import Grid

pytestmark = pytest.mark.skipif(not jit.AVAILABLE, reason="numba not installed")

GRID = Grid.centred("EPSG:32736", 500_000.0, 9_300_000.0, 16_000.0, 12_000.0, 70.0)
TECH = technology_catalogue()["lte_900"]


def _sites(n=14, seed=3):
    rng = np.random.default_rng(seed)
    kinds = ["macro", "ruralstar_pro", "small_cell"]
    return Sites([str(i) for i in range(n)], rng.uniform(490_000, 510_000, n),
                 rng.uniform(9_292_000, 9_308_000, n), [kinds[i % 3] for i in range(n)],
                 np.arange(n) % 3 == 0, rng.uniform(0, 360, n))


def _all_fields(model, tile_size, monkeypatch, compiled):
    monkeypatch.setattr(jit, "AVAILABLE", compiled)
    sites = _sites()
    sa = engine.site_arrays(sites, station_catalogue(), TECH, model, ue_height_m=1.5,
                            floor_dbm=-115.0, max_range_m=9_000.0)
    from scipy.spatial import cKDTree

    tree = cKDTree(np.c_[sa.x_m, sa.y_m])
    ch = np.arange(len(sa)) % 2
    existing = np.flatnonzero(sites.existing)
    out = []
    for tile in GRID.tiles(tile_size):
        idx = engine.sites_near_tile(GRID, tile, sa, tree)
        f, b = engine.compute_tile_fields(GRID, tile, sa, idx, TECH, model, 1.5, ch,
                                          existing=existing)
        for fld in (f, b):
            out += [fld.rx_dbm, fld.best_server, fld.path_loss_db, fld.interference_dbm]
    return out


@pytest.mark.parametrize("model", [
    PathLossModel("hata_1980", check_parameters=False),
    PathLossModel("hata_1980", check_parameters=False, free_space_floor="never"),
    PathLossModel("cost231_hata", check_parameters=False, free_space_floor="outside_validity"),
    PathLossModel("hata_1980", check_parameters=False, calibration_offset_db=2.0,
                  calibration_slope_db_per_decade=3.0),
    PathLossModel("rma_38901"),
    PathLossModel("free_space"),
], ids=lambda m: m.name + "-" + m.free_space_floor + ("-cal" if m.calibrated else ""))
@pytest.mark.parametrize("tile_size", [57, 256])
def test_compiled_site_windows_equal_the_numpy_engine_bit_for_bit(model, tile_size,
                                                                  monkeypatch):
    numpy_form = _all_fields(model, tile_size, monkeypatch, compiled=False)
    compiled = _all_fields(model, tile_size, monkeypatch, compiled=True)
    assert any(np.isfinite(a).any() for a in numpy_form[::4])
    for a, b in zip(numpy_form, compiled):
        assert a.dtype == b.dtype
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


def test_pairs_within_reach_are_the_cells_of_the_reach_mask():
    rng = np.random.default_rng(0)
    for _ in range(50):
        dx = np.sort(rng.uniform(-3000, 3000, rng.integers(1, 40))).astype(np.float32)
        dy = np.sort(rng.uniform(-3000, 3000, rng.integers(1, 40))).astype(np.float32)
        reach = np.float32(rng.uniform(0, 4000))
        size = dx.size * dy.size
        bufs = [np.empty(size, np.float32) for _ in range(4)]
        lo, cnt = np.empty(dy.size, np.int64), np.empty(dy.size, np.int64)
        n = jit.pairs_within_reach(dx, dy, reach, *bufs, lo, cnt)
        d = np.sqrt(dx[None, :] * dx[None, :] + dy[:, None] * dy[:, None])
        mask = d <= reach
        assert n == mask.sum()
        got = np.zeros_like(mask)
        for i in range(dy.size):
            got[i, lo[i]:lo[i] + cnt[i]] = True
        assert np.array_equal(got, mask)
        assert np.array_equal(bufs[0][:n].view(np.int32), d[mask].view(np.int32))
        assert np.array_equal(bufs[1][:n], np.maximum(d[mask], np.float32(1.0)))
        assert np.array_equal(bufs[2][:n], np.broadcast_to(dx[None, :], d.shape)[mask])
        assert np.array_equal(bufs[3][:n], np.broadcast_to(dy[:, None], d.shape)[mask])
