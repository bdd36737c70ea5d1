"""Tests of simulator.planning.candidates. Expected positions are worked by hand from the raster
convention x = x0 + (j + 0.5) * res, y = y0 - (i + 0.5) * res; invariants are checked with
naive loops written here (window maxima, pairwise distances)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.planning.candidates import (
    filter_inside,
    grid_candidates,
    hilltop_candidates,
    settlement_candidates,
)

# ------------------------------------------------------------------------------------------
# grid_candidates
# ------------------------------------------------------------------------------------------


def test_grid_exact_multiple():
    # 10 m x 6 m, spacing 2: floor(10/2) = 5 columns, floor(6/2) = 3 rows; span 4*2 = 8,
    # margins (10 - 8)/2 = 1 -> x = 1, 3, 5, 7, 9; y = 1, 3, 5.
    xy = grid_candidates(0, 0, 10, 6, 2)
    assert xy.shape == (15, 2)
    np.testing.assert_allclose(np.unique(xy[:, 0]), [1, 3, 5, 7, 9])
    np.testing.assert_allclose(np.unique(xy[:, 1]), [1, 3, 5])
    np.testing.assert_allclose(xy[:2], [[1, 1], [3, 1]])  # x fastest


def test_grid_not_a_multiple_and_offset():
    # 10 m wide, spacing 3: floor(10/3) = 3 columns, span 6, margins 2 -> x = 2, 5, 8.
    # Height 1 m < spacing: one row at the middle, y = 100.5.
    xy = grid_candidates(0, 100, 10, 101, 3)
    np.testing.assert_allclose(xy, [[2, 100.5], [5, 100.5], [8, 100.5]])


@settings(max_examples=50, deadline=None)
@given(x0=st.floats(-1e6, 1e6), y0=st.floats(-1e6, 1e6), w=st.floats(1.0, 5e4),
       h=st.floats(1.0, 5e4), s=st.floats(200.0, 1e4))
def test_grid_inside_and_spaced(x0, y0, w, h, s):
    xy = grid_candidates(x0, y0, x0 + w, y0 + h, s)
    assert np.all((xy[:, 0] > x0) & (xy[:, 0] < x0 + w))
    assert np.all((xy[:, 1] > y0) & (xy[:, 1] < y0 + h))
    xs, ys = np.unique(xy[:, 0]), np.unique(xy[:, 1])
    # the function sees the bounds, so count from the spans it can compute from them
    # ((y0 + h) - y0 may differ from h in the last bit)
    span_x, span_y = (x0 + w) - x0, (y0 + h) - y0
    assert xs.size == max(1, math.floor(span_x / s)) and ys.size == max(1, math.floor(span_y / s))
    np.testing.assert_allclose(np.diff(xs), s, rtol=1e-6)
    # centred: equal margins
    assert xs[0] - x0 == pytest.approx(x0 + w - xs[-1], abs=1e-6 * max(1, abs(x0) + w))


@pytest.mark.parametrize("args, match", [
    ((0, 0, 10, 10, 0), "spacing_m=0 is invalid"),
    ((0, 0, -1, 10, 1), "x_max=-1.0 must be > x_min=0.0"),
    ((0, 5, 10, 5, 1), "y_max=5.0 must be > y_min=5.0"),
    ((0, 0, np.nan, 10, 1), "x_max=nan is not finite"),
    ((0, 0, 1e6, 1e6, 1), "gives 1000000000000 candidates"),
])
def test_grid_errors(args, match):
    with pytest.raises(ValueError, match=match):
        grid_candidates(*args)


# ------------------------------------------------------------------------------------------
# hilltop_candidates
# ------------------------------------------------------------------------------------------

X0, Y0, RES = 500_000.0, 4_000_000.0, 100.0


def two_hills():
    """20 x 30 DEM at 100 m: base 200 m, a 300 m-high peak at cell (5, 7) and a 120 m peak at
    (14, 22), both Gaussian with sigma 2 cells; a 3 m bump at (17, 3)."""
    i, j = np.mgrid[0:20, 0:30]
    dem = (200.0 + 300 * np.exp(-((i - 5) ** 2 + (j - 7) ** 2) / 8.0)
           + 120 * np.exp(-((i - 14) ** 2 + (j - 22) ** 2) / 8.0))
    dem[17, 3] += 3.0
    return dem


def test_hilltops_positions_by_hand():
    # Peak (5, 7): x = 500000 + 7.5 * 100 = 500750, y = 4000000 - 5.5 * 100 = 3999450.
    # Peak (14, 22): x = 500000 + 22.5 * 100 = 502250, y = 4000000 - 14.5 * 100 = 3998550.
    # The 3 m bump at (17, 3) has relief ~3 m < 10 m: dropped.
    xy = hilltop_candidates(two_hills(), X0, Y0, RES, window_m=900, min_prominence_m=10)
    np.testing.assert_allclose(xy, [[500_750, 3_999_450], [502_250, 3_998_550]])
    # the highest first; max_count=1 keeps the 500 m peak only
    xy1 = hilltop_candidates(two_hills(), X0, Y0, RES, window_m=900, min_prominence_m=10,
                             max_count=1)
    np.testing.assert_allclose(xy1, [[500_750, 3_999_450]])
    # with no prominence threshold the bump counts: x = 500350, y = 3998250
    xy0 = hilltop_candidates(two_hills(), X0, Y0, RES, window_m=900)
    assert [500_350, 3_998_250] in xy0.tolist()


def test_flat_top_gives_one_candidate_and_nan_ignored():
    # A 3 x 2 plateau at 50 m (rows 2-4, cols 4-5) on a 0 m plain; centroid (3, 4.5): nearest
    # member cells (3, 4) and (3, 5) tie at 0.5, row-major order picks (3, 4):
    # x = 0 + 4.5 * 10 = 45, y = 1000 - 3.5 * 10 = 965. A NaN cell is never a candidate.
    dem = np.zeros((8, 10))
    dem[2:5, 4:6] = 50.0
    dem[7, 9] = np.nan
    xy = hilltop_candidates(dem, 0.0, 1000.0, 10.0, window_m=50, min_prominence_m=1)
    np.testing.assert_allclose(xy, [[45.0, 965.0]])


def naive_tops(dem, half, prom):
    out = set()
    n, m = dem.shape
    for i, j in itertools.product(range(n), range(m)):
        if not np.isfinite(dem[i, j]):
            continue
        win = dem[max(0, i - half):i + half + 1, max(0, j - half):j + half + 1]
        if dem[i, j] >= np.nanmax(win) and dem[i, j] - np.nanmin(win) >= prom:
            out.add((i, j))
    return out


def n_components(cells):
    todo, count = set(cells), 0
    while todo:
        count += 1
        stack = [todo.pop()]
        while stack:
            i, j = stack.pop()
            for di, dj in itertools.product((-1, 0, 1), repeat=2):
                if (i + di, j + dj) in todo:
                    todo.remove((i + di, j + dj))
                    stack.append((i + di, j + dj))
    return count


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), half=st.integers(1, 3),
       prom=st.sampled_from([0.0, 2.0, 5.0]))
def test_hilltops_are_window_maxima(seed, half, prom):
    rng = np.random.default_rng(seed)
    dem = np.round(rng.normal(0, 5, (12, 15)))  # rounding makes flat tops likely
    res = 10.0
    tops = naive_tops(dem, half, prom)
    if not tops:
        with pytest.raises(ValueError, match="no hilltop candidates"):
            hilltop_candidates(dem, 0.0, 0.0, res, window_m=(2 * half + 1) * res,
                               min_prominence_m=prom)
        return
    xy = hilltop_candidates(dem, 0.0, 0.0, res, window_m=(2 * half + 1) * res,
                            min_prominence_m=prom)
    cells = {(int(round(-y / res - 0.5)), int(round(x / res - 0.5))) for x, y in xy}
    assert len(cells) == xy.shape[0]
    assert cells <= tops
    # one candidate per 8-connected group of qualifying cells (counted by BFS here)
    assert len(cells) == n_components(tops)
    elev = [dem[int(round(-y / res - 0.5)), int(round(x / res - 0.5))] for x, y in xy]
    assert np.all(np.diff(elev) <= 0)  # highest first


@pytest.mark.parametrize("kwargs, match", [
    ({"dem": np.full((3, 3), np.nan)}, "all NaN"),
    ({"dem": np.zeros(5)}, "expected a non-empty 2-D array"),
    ({"resolution_m": 0.0}, "resolution_m=0.0 is invalid"),
    ({"window_m": 100.0}, "window_m=100.0 is below 3 cells"),
    ({"min_prominence_m": -1.0}, "min_prominence_m=-1.0 is invalid"),
    ({"max_count": 0}, "max_count=0 is invalid"),
    ({"dem": np.zeros((5, 5)), "min_prominence_m": 1.0}, "no hilltop candidates"),
])
def test_hilltop_errors(kwargs, match):
    args = {"dem": two_hills(), "x0": X0, "y0": Y0, "resolution_m": RES, "window_m": 900.0,
            **kwargs}
    dem = args.pop("dem")
    with pytest.raises(ValueError, match=match):
        hilltop_candidates(dem, args.pop("x0"), args.pop("y0"), args.pop("resolution_m"),
                           **args)


# ------------------------------------------------------------------------------------------
# settlement_candidates, filter_inside
# ------------------------------------------------------------------------------------------


def test_settlements_thinned_by_hand():
    # (0,0), (100,0), (1000,0), spacing 500: (0,0) kept, removes (100,0) at 100 m <= 500;
    # (1000,0) is 1000 m away: kept.
    pts = np.array([[0.0, 0.0], [100.0, 0.0], [1000.0, 0.0]])
    np.testing.assert_allclose(settlement_candidates(pts, min_spacing_m=500),
                               [[0, 0], [1000, 0]])
    # (100,0) most populous goes first and removes (0,0); order follows people
    xy, idx = settlement_candidates(pts, min_spacing_m=500, people=[10, 300, 50],
                                    return_index=True)
    assert idx.tolist() == [1, 2]
    np.testing.assert_allclose(xy, [[100, 0], [1000, 0]])
    # exactly at the spacing counts as within: (0,0)-(100,0) with spacing 100 -> one kept
    assert settlement_candidates(pts, min_spacing_m=100).shape == (2, 2)
    assert settlement_candidates(pts, min_spacing_m=0, max_count=2).shape == (2, 2)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), r=st.floats(0.0, 3000.0))
def test_settlements_spacing_invariants(seed, n, r):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 10_000, (n, 2))
    people = rng.integers(0, 1000, n)
    xy, idx = settlement_candidates(pts, min_spacing_m=r, people=people, return_index=True)
    np.testing.assert_array_equal(xy, pts[idx])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert np.all(d[~np.eye(len(xy), dtype=bool)] > r)
    # every settlement is within r of a kept one at least as populous
    for k in range(n):
        dk = np.hypot(*(pts[idx] - pts[k]).T)
        assert np.any((dk <= r * (1 + 1e-12)) & (people[idx] >= people[k]))


def test_settlements_outside_region_raise():
    pts = np.array([[10.0, 10.0], [500.0, 20.0]])
    with pytest.raises(ValueError, match=r"1 of 2 candidates lie outside the region, "
                                         r"first xy\[1\]"):
        settlement_candidates(pts, min_spacing_m=1, region=(0, 0, 100, 100))
    assert settlement_candidates(pts, min_spacing_m=1, region=(0, 0, 1000, 100)).shape == (2, 2)
    with pytest.raises(ValueError, match="no candidates"):
        settlement_candidates(np.zeros((0, 2)), min_spacing_m=1)
    with pytest.raises(ValueError, match=r"people\[0\]=-1.0 is invalid"):
        settlement_candidates(pts, min_spacing_m=1, people=[-1, 2])
    with pytest.raises(ValueError, match="min_spacing_m=-5 is invalid"):
        settlement_candidates(pts, min_spacing_m=-5)


def test_filter_inside_bounds_polygon_shapely():
    # Triangle (0,0), (10,0), (0,10): (1,1) inside, (5,5) on the hypotenuse (kept, boundary
    # included), (6,6) outside (6 + 6 > 10), (0,0) a vertex (kept).
    pts = np.array([[1.0, 1.0], [5.0, 5.0], [6.0, 6.0], [0.0, 0.0]])
    tri = [(0, 0), (10, 0), (0, 10)]
    for region in (tri, shapely.Polygon(tri)):
        xy, idx = filter_inside(pts, region, return_index=True)
        assert idx.tolist() == [0, 1, 3]
    # bounds (0, 0, 5.5, 5.5): all but (6, 6)
    assert filter_inside(pts, (0, 0, 5.5, 5.5)).tolist() == [[1, 1], [5, 5], [0, 0]]
    with pytest.raises(ValueError, match="lie outside the region"):
        filter_inside(pts, tri, on_outside="raise")
    with pytest.raises(ValueError, match="all 4 candidates lie outside the region"):
        filter_inside(pts, (100, 100, 200, 200))
    with pytest.raises(ValueError, match="region bounds"):
        filter_inside(pts, (5, 0, 1, 1))
    with pytest.raises(ValueError, match="on_outside='keep' is invalid"):
        filter_inside(pts, tri, on_outside="keep")
    with pytest.raises(ValueError, match=r"xy has shape \(4,\)"):
        filter_inside(np.ones(4), tri)
