"""Invariants of the calibration pieces (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.calibration import error_stats, fit_correction
from simulator.calibration.fit import assign_folds, route_segments

finite = st.floats(-30, 30, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shift=finite, n_groups=st.integers(1, 5),
       per=st.booleans())
def test_a_constant_shift_moves_only_the_offsets(seed, shift, n_groups, per):
    rng = np.random.default_rng(seed)
    n = 200
    d = np.exp(rng.uniform(np.log(50), np.log(20000), n))
    g = rng.integers(0, n_groups, n).astype(str)
    r = rng.normal(0, 5, n) + 2 * np.log10(d / 1000)
    a = fit_correction(r, d, groups=g if per else None)
    b = fit_correction(r + shift, d, groups=g if per else None)
    assert np.isclose(b.offset_db - a.offset_db, shift, atol=1e-8)
    assert np.isclose(b.slope_db_per_decade, a.slope_db_per_decade, atol=1e-8)
    assert np.isclose(b.sigma_db, a.sigma_db, rtol=1e-9, atol=1e-9)
    for k in a.group_offsets_db:
        assert np.isclose(b.group_offsets_db[k] - a.group_offsets_db[k], shift, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_least_squares_never_raises_the_in_sample_rmse(seed):
    rng = np.random.default_rng(seed)
    d = np.exp(rng.uniform(np.log(20), np.log(30000), 150))
    r = rng.normal(rng.normal(0, 10), rng.uniform(1, 12), 150)
    c = fit_correction(r, d)
    after = r - c.correction_db(d)
    assert np.sqrt(np.mean(after ** 2)) <= np.sqrt(np.mean(r ** 2)) + 1e-9
    assert abs(after.mean()) < 1e-8                     # the offset takes out the mean


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=30), k=st.integers(1, 8))
def test_folds_keep_groups_whole_and_balanced(sizes, k):
    groups = np.concatenate([[f"g{i}"] * s for i, s in enumerate(sizes)])
    fold = assign_folds(groups, k)
    kk = min(k, len(sizes))
    assert set(fold.tolist()) == set(range(kk))
    for gname in set(groups.tolist()):
        assert len(set(fold[groups == gname].tolist())) == 1
    loads = np.bincount(fold, minlength=kk)
    assert loads.max() - loads.min() <= max(sizes)      # greedy: within one group's size


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), seg=st.floats(50, 5000))
def test_route_pieces_are_short_and_in_one_route(seed, seg):
    rng = np.random.default_rng(seed)
    n = 300
    step = rng.exponential(40.0, n)
    x = np.cumsum(step * np.cos(rng.uniform(0, 2 * np.pi, n)))
    y = np.cumsum(step * np.sin(rng.uniform(0, 2 * np.pi, n)))
    route = np.where(np.arange(n) < 150, "a", "b")
    lab = route_segments(route, x, y, seg)
    for p in set(lab.tolist()):
        idx = np.flatnonzero(lab == p)
        assert len(set(route[idx].tolist())) == 1
        assert np.all(np.diff(idx) == 1)                # contiguous in route order
        along = np.hypot(np.diff(x[idx]), np.diff(y[idx])).sum()
        assert along <= seg + 1e-9


@settings(max_examples=60, deadline=None)
@given(e=st.lists(finite, min_size=1, max_size=50))
def test_rmse_is_mean_and_spread(e):
    s = error_stats(e)
    assert np.isclose(s["rmse_db"] ** 2, s["mean_error_db"] ** 2 + s["std_db"] ** 2,
                      rtol=1e-9, atol=1e-9)
    assert s["mae_db"] <= s["rmse_db"] + 1e-12
