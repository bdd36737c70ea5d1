"""ITM along fans of rays (shared work per ray) against ITM on each profile on its own.

The reference is :func:`itm_p2p_loss_db`, which reproduces the NTIA reference outputs to
5e-7 dB (tests/test_itm.py); here every prefix of a ray is cut out and evaluated with it.
"""

import numpy as np
import pytest

from simulator.pipeline.engine_terrain import _fill_from_evaluated, _thinned_samples
from simulator.radio.propagation.itm import itm_p2p_loss_db, itm_p2p_rays_loss_db
from simulator.region.terrain import synthetic_dem

INTER = ("distance_m", "n_s_n_units", "theta_hzn_tx_rad", "theta_hzn_rx_rad", "d_hzn_tx_m",
         "d_hzn_rx_m", "h_e_tx_m", "h_e_rx_m", "delta_h_m", "A_ref_db", "mode")


def _rays(n_rays=60, n_steps=260, relief=400.0, seed=1):
    """Rays cut from a rough synthetic DEM, all starting at the same (site) sample."""
    dem = synthetic_dem((n_rays * 2, n_steps), 30.0, relief_m=relief, roughness=0.3,
                        rng=seed) + 900.0
    z = dem[::2].astype(np.float64)
    z[:, 0] = z[0, 0]
    return z


def _per_profile(z, rays, steps, spacing, h_tx, h_rx, f, **kw):
    width = int(steps.max()) + 1
    prof = np.full((rays.size, width), np.nan)
    for i, (r, j) in enumerate(zip(rays, steps)):
        prof[i, :j + 1] = z[r, :j + 1]
    return itm_p2p_loss_db(prof, spacing, h_tx, h_rx, f, return_intermediate=True, **kw)


@pytest.mark.parametrize("h_tx, h_rx, f, kw", [
    (15.0, 1.5, 900.0, {}),
    (40.0, 10.0, 2100.0, dict(climate=1, n0_n_units=360.0, polarization=0)),
    (3.0, 1.0, 150.0, dict(time_pct=90.0, situation_pct=10.0, epsilon_r=4.0,
                           sigma_s_per_m=0.001)),
])
def test_every_prefix_equals_itm_on_its_own_profile(h_tx, h_rx, f, kw):
    z = _rays()
    rng = np.random.default_rng(7)
    rays = rng.integers(0, z.shape[0], 1500)
    steps = rng.integers(1, z.shape[1], 1500)
    got, gi = itm_p2p_rays_loss_db(z, 30.0, h_tx, h_rx, f, rays=rays, steps=steps,
                                   delta_h_knot_fraction=0.0, return_intermediate=True, **kw)
    ref, ri = _per_profile(z, rays, steps, 30.0, h_tx, h_rx, f, **kw)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    for key in INTER:
        np.testing.assert_allclose(gi[key], ri[key], rtol=1e-9, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("spacing", [30.887264, 92.6618, 7.3])
def test_every_prefix_equals_itm_on_its_own_profile_at_non_integer_spacing(spacing):
    # with a spacing that is not a whole number, NTIA's horizon distances (the spacing added
    # once per sample) differ in the last bits from index * spacing, and a truncated fit
    # index can move by one sample; every prefix must still equal ITM on its own profile
    z = _rays(n_rays=40, n_steps=300)
    rng = np.random.default_rng(5)
    rays = rng.integers(0, z.shape[0], 2500)
    steps = rng.integers(1, z.shape[1], 2500)
    got, gi = itm_p2p_rays_loss_db(z, spacing, 15.0, 1.5, 900.0, rays=rays, steps=steps,
                                   delta_h_knot_fraction=0.0, return_intermediate=True)
    ref, ri = _per_profile(z, rays, steps, spacing, 15.0, 1.5, 900.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    for key in INTER:
        np.testing.assert_allclose(gi[key], ri[key], rtol=1e-9, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("kind", ["flat", "staircase", "single_ridge", "valley"])
def test_special_profiles_equal_itm_on_its_own_profile(kind):
    # flat ground puts every sample on the curvature-folded hull; integer steps make many
    # equal heights (ties in the horizon search); a ridge and a valley make far horizons
    n_rays, n_steps = 8, 180
    x = np.arange(n_steps) * 50.0
    if kind == "flat":
        row = np.full(n_steps, 500.0)
    elif kind == "staircase":
        row = 500.0 + np.floor(x / 700.0) * 3.0
    elif kind == "single_ridge":
        row = 500.0 + 80.0 * np.exp(-((x - 3000.0) / 150.0) ** 2)
    else:
        row = 500.0 + 120.0 * np.abs(np.sin(x / 2500.0)) + 0.01 * x
    z = np.tile(row, (n_rays, 1)) + np.arange(n_rays)[:, None] * 0.5 * (x > 0)
    rays = np.repeat(np.arange(n_rays), n_steps - 1)
    steps = np.tile(np.arange(1, n_steps), n_rays)
    got = itm_p2p_rays_loss_db(z, 50.0, 12.0, 1.5, 900.0, delta_h_knot_fraction=0.0)
    ref, _ = _per_profile(z, rays, steps, 50.0, 12.0, 1.5, 900.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_default_knots_stay_close_to_itm_on_each_profile():
    # Delta_h interpolated between knots 1/16 of the path length apart: the documented
    # accuracy (docs/models.md) on a 400 m relief, 30 m samples, 12 km rays
    z = _rays(n_rays=40, n_steps=400)
    rng = np.random.default_rng(3)
    rays = rng.integers(0, z.shape[0], 2000)
    steps = rng.integers(1, z.shape[1], 2000)
    got = itm_p2p_rays_loss_db(z, 30.0, 15.0, 1.5, 900.0, rays=rays, steps=steps)
    ref, _ = _per_profile(z, rays, steps, 30.0, 15.0, 1.5, 900.0)
    err = np.abs(got - ref)
    assert np.median(err) < 0.05
    assert np.percentile(err, 95) < 0.3
    assert np.percentile(err, 99) < 0.6
    # paths up to 16 samples long are all knots: exact
    short = steps <= 16
    assert short.any() and err[short].max() < 1e-6


def test_default_request_is_every_sample_of_every_ray():
    z = _rays(n_rays=3, n_steps=40)
    all_ = itm_p2p_rays_loss_db(z, 30.0, 15.0, 1.5, 900.0)
    rays = np.repeat(np.arange(3), 39)
    steps = np.tile(np.arange(1, 40), 3)
    one_by_one = itm_p2p_rays_loss_db(z, 30.0, 15.0, 1.5, 900.0, rays=rays[::-1],
                                      steps=steps[::-1])
    np.testing.assert_array_equal(all_, one_by_one[::-1])


def test_result_does_not_depend_on_the_batching(monkeypatch):
    # (the batch layout is fixed by the ray length, so a run is reproducible bit for bit;
    # across layouts numpy's SIMD and scalar loops may differ in the last bit)
    import simulator.radio.propagation._itm_rays as mod

    z = _rays(n_rays=30, n_steps=200)
    whole = itm_p2p_rays_loss_db(z, 30.0, 15.0, 1.5, 900.0)
    monkeypatch.setattr(mod, "BATCH_SAMPLES", 7 * 200)   # 7 rays per batch
    monkeypatch.setattr(mod, "CHUNK", 333)
    np.testing.assert_allclose(itm_p2p_rays_loss_db(z, 30.0, 15.0, 1.5, 900.0), whole,
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(elevations_m=np.full((2, 5), np.nan)), "NaN"),
    (dict(elevations_m=np.zeros(5)), "shape"),
    (dict(steps=[0], rays=[0]), "steps=0"),
    (dict(steps=[5], rays=[0]), "steps=5"),
    (dict(steps=[1], rays=[2]), "rays=2"),
    (dict(steps=[1]), "both"),
    (dict(h_tx_m=np.array([10.0, 20.0])), "scalar"),
    (dict(h_rx_m=0.1), "h_rx_m=0.1"),
    (dict(frequency_mhz=30000.0), "frequency_mhz"),
    (dict(delta_h_knot_fraction=-0.1), "delta_h_knot_fraction"),
])
def test_bad_arguments_are_refused(kwargs, fragment):
    args = dict(elevations_m=np.zeros((2, 5)), spacing_m=30.0, h_tx_m=10.0, h_rx_m=1.5,
                frequency_mhz=900.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        itm_p2p_rays_loss_db(**args)


@pytest.mark.parametrize("n_rays, n_steps", [(4189, 668), (100, 7), (8, 50), (37, 400)])
def test_thinned_samples_cover_every_sample_from_a_ray_within_half_a_gap(n_rays, n_steps):
    rays, steps, counts = _thinned_samples(n_rays, n_steps)
    assert np.all(np.diff(steps) >= 0)
    # enough rays at each step: evaluated rays at most one cell apart at that distance
    j = np.arange(1, n_steps)
    assert np.all(counts >= np.minimum(n_rays, n_rays * j / (n_steps - 1)))
    # fill with the evaluated ray's own index: each sample's source ray is the nearest
    out = np.zeros((n_rays, n_steps))
    _fill_from_evaluated(rays.astype(float), counts, out)
    src = out[:, 1:].astype(int)
    a = np.arange(n_rays)[:, None]
    dist = np.minimum(np.abs(src - a), n_rays - np.abs(src - a))
    gap = -(-n_rays // counts)                  # largest gap between evaluated rays
    assert np.all(dist <= gap[None, :] / 2)
    # an evaluated ray takes its own value
    np.testing.assert_array_equal(src[rays, steps - 1], rays)


@pytest.mark.parametrize("n_rays, n_steps", [(4189, 668), (100, 7), (37, 400)])
def test_compiled_nearest_ray_fill_equals_the_numpy_fill(monkeypatch, n_rays, n_steps):
    import simulator.pipeline.engine_terrain as et

    rays, steps, counts = _thinned_samples(n_rays, n_steps)
    vals = np.random.default_rng(3).normal(size=rays.size)
    compiled = np.zeros((n_rays, n_steps))
    _fill_from_evaluated(vals, counts, compiled)
    monkeypatch.setattr(et, "_JIT_AVAILABLE", False)
    plain = np.zeros((n_rays, n_steps))
    _fill_from_evaluated(vals, counts, plain)
    np.testing.assert_array_equal(compiled, plain)


def test_horizons_stay_exact_where_the_curvature_changes_the_winner(monkeypatch):
    # Rays climbing 2.5 km: the system elevation (hence N_s and the effective curvature)
    # changes a lot between short and long prefixes, so the horizon searches at the ray's
    # lowest and highest curvature often disagree and the range between them is searched.
    import simulator.radio.propagation._itm_rays as mod

    searched = []
    original = mod._bracketed

    def spy(zc, a, inner, i_lo, i_hi, *args, **kw):
        searched.append(int(np.sum(inner & (i_lo != i_hi))))
        return original(zc, a, inner, i_lo, i_hi, *args, **kw)

    monkeypatch.setattr(mod, "_bracketed", spy)
    n_rays, n_steps = 40, 300
    x = np.arange(n_steps) * 100.0
    rng = np.random.default_rng(11)
    z = 10.0 + 2500.0 * (x / x[-1]) ** 2 + np.cumsum(rng.normal(0, 8.0, (n_rays, n_steps)),
                                                     axis=1)
    z[:, 0] = z[0, 0]
    rays = np.repeat(np.arange(n_rays), n_steps - 1)
    steps = np.tile(np.arange(1, n_steps), n_rays)
    ref, _ = _per_profile(z, rays, steps, 100.0, 30.0, 1.5, 900.0)
    # the numpy searches (the spy counts the paths whose two searches disagree) ...
    with monkeypatch.context() as m:
        m.setattr(mod._jit, "AVAILABLE", False)
        got = itm_p2p_rays_loss_db(z, 100.0, 30.0, 1.5, 900.0, delta_h_knot_fraction=0.0)
    assert sum(searched) >= 10
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    # ... and the compiled ones, where they are available
    got = itm_p2p_rays_loss_db(z, 100.0, 30.0, 1.5, 900.0, delta_h_knot_fraction=0.0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


@pytest.mark.skipif(not __import__("simulator.radio.propagation._itm_jit",
                                   fromlist=["AVAILABLE"]).AVAILABLE,
                    reason="numba is not installed: only the numpy version runs")
@pytest.mark.parametrize("spacing, knots", [(30.0, 0.0), (30.0, 1 / 16), (30.887264, 0.0),
                                            (30.887264, 1 / 8)])
def test_compiled_and_numpy_versions_agree(monkeypatch, spacing, knots):
    # the compiled loops (numba) and the numpy version compute the same parameters (one
    # module flag switches the Delta_h, hull and horizon loops of both modules)
    import simulator.radio.propagation._itm_rays as mod

    z = _rays(n_rays=30, n_steps=250, seed=4)
    rng = np.random.default_rng(2)
    rays = rng.integers(0, z.shape[0], 2000)
    steps = rng.integers(1, z.shape[1], 2000)
    args = (z, spacing, 15.0, 1.5, 900.0)
    kw = dict(rays=rays, steps=steps, delta_h_knot_fraction=knots, return_intermediate=True)
    got, gi = itm_p2p_rays_loss_db(*args, **kw)
    monkeypatch.setattr(mod._jit, "AVAILABLE", False)
    ref, ri = itm_p2p_rays_loss_db(*args, **kw)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
    for key in INTER:
        np.testing.assert_allclose(gi[key], ri[key], rtol=1e-10, atol=1e-9, err_msg=key)


def test_decile_fallback_is_the_exact_order_statistic_whatever_the_guess():
    """The selection behind Delta_h (``_itm_jit._kth_largest``) is exact for any guess: a
    band that missed above or below, a guess far outside the values, no guess (NaN), ties."""
    from simulator.radio.propagation import _itm_jit as jit

    rng = np.random.default_rng(11)
    buf = np.empty(300)
    for trial in range(400):
        n = int(rng.integers(35, 246))
        r = rng.normal(0.0, 10.0, n)
        if trial % 5 == 0:
            r = np.round(r)                      # many ties
        k = int(rng.integers(3, 25))
        for sign in (1.0, -1.0):
            v = np.sort(sign * r)[::-1]
            truth = v[k]
            for guess in (truth + 0.5, truth - 0.5, truth + 50.0, truth - 50.0, v[0] + 1.0,
                          np.nan, truth):
                band = 0.2
                above = int(np.sum(sign * r > guess + band))
                got = jit._kth_largest(r, n, k, sign, guess, band, buf, above)
                assert got == truth, (trial, sign, guess)
