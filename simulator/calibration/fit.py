r"""Fitting a correction to the residuals: offset and distance slope, by least squares or
by censored maximum likelihood, globally or per group (transmitter, clutter class), and
cross-validated with folds by route or transmitter.

The correction is the one of :func:`simulator.radio.propagation.models.calibration_correction_db`,

.. math:: c_i = K_{1,g(i)} + K_2 \log_{10}(d_i / d_0),

fitted to the loss residuals :math:`r_i` (how much loss the model is short of the
measurement, :attr:`~simulator.calibration.points.PointTable.loss_residual_db`):
:math:`r_i = c_i + \eta_i`, :math:`\eta_i \sim N(0, \sigma^2)`.

* Least squares: ordinary least squares of :math:`r` on :math:`[1, \log_{10}(d/d_0)]`;
  per group, the fixed-effects ("within") estimator (one offset per group, a common slope).
* Censored: samples below the receiver floor F were not received. Where the file records
  them (a ``censored`` row), the likelihood takes :math:`P(r > r_F)` for them and the
  normal density for the received ones (the Tobit model, Tobin 1958), with a share
  :math:`\pi` of samples missed whatever their level (a lost packet):
  :math:`\pi + (1 - \pi) P(r > r_F)` for a miss, :math:`(1 - \pi)` times the density for
  a sample received; without it, misses at strong predicted signal would be read as deep
  fades and inflate :math:`\sigma`. On a route that records no misses the received samples
  are a *truncated* sample and each density is divided by :math:`P(r \le r_F)`
  (truncated-normal regression). Maximised with ``scipy.optimize.minimize`` (L-BFGS-B,
  analytic gradient), from the least-squares start.
* Per-group offsets are shrunk toward their pooled mean by the random-effects weights
  :math:`\tau^2 / (\tau^2 + \sigma^2 / n_g)`, with the between-group variance
  :math:`\tau^2` of DerSimonian & Laird (1986): a transmitter seen at a handful of points
  gets nearly the pooled offset, one seen at thousands its own. The pooled mean is the
  offset of a group the fit has not seen (a new site, a held-out transmitter).
* :math:`\sigma` (location variability): the residual standard deviation about the fitted
  correction, :math:`\sqrt{RSS / (n - p)}` (least squares) or the maximum-likelihood value;
  per group, :math:`\sqrt{\sigma_w^2 + \tau^2}`, what a site without measurements sees.

References: J. Tobin, "Estimation of relationships for limited dependent variables",
Econometrica 26 (1958) 24-36; R. DerSimonian, N. Laird, "Meta-analysis in clinical trials",
Controlled Clinical Trials 7 (1986) 177-188; D. R. Roberts et al., "Cross-validation
strategies for data with temporal, spatial, hierarchical, or phylogenetic structure",
Ecography 40 (2017) 913-929 (blocked folds for correlated samples).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("least_squares", "censored")


@dataclass
class Correction:
    """A fitted correction (dB of loss to add to the model's prediction).

    Attributes
    ----------
    offset_db : float
        K1 at ``reference_distance_m``; with groups, their pooled (precision-weighted) mean,
        the offset of a group not fitted [dB].
    slope_db_per_decade : float
        K2 [dB/decade].
    reference_distance_m : float
    sigma_db : float
        Variability about the correction a new group sees [dB].
    sigma_within_db : float
        Residual standard deviation about the group offsets (= ``sigma_db`` globally) [dB].
    group_sd_db : float
        Spread of the group offsets, tau (0 globally) [dB].
    group_offsets_db : dict
        Group label -> (shrunk) offset; empty for a global fit.
    group_points : dict
        Group label -> points fitted.
    per : str or None
        What the groups are (``transmitter``, ``clutter_class``) or None.
    method : str
    n : int
        Samples fitted (received).
    n_censored, n_truncated : int
        Censored samples used, received samples treated as truncated.
    converged : bool
    random_loss_share : float
        Censored fit: the share of samples missed whatever their level (0 for least
        squares or without censored samples).
    """

    offset_db: float
    slope_db_per_decade: float
    reference_distance_m: float = 1000.0
    sigma_db: float = float("nan")
    sigma_within_db: float = float("nan")
    group_sd_db: float = 0.0
    group_offsets_db: dict = field(default_factory=dict)
    group_points: dict = field(default_factory=dict)
    per: str | None = None
    method: str = "least_squares"
    n: int = 0
    n_censored: int = 0
    n_truncated: int = 0
    converged: bool = True
    random_loss_share: float = 0.0

    def correction_db(self, distance_m, groups=None) -> np.ndarray:
        """The correction at each distance [dB]; a group's own offset where fitted, the
        pooled offset otherwise."""
        d = np.maximum(np.asarray(distance_m, float), 1.0)
        off = np.full(d.shape, self.offset_db)
        if groups is not None and self.group_offsets_db:
            g = np.asarray(groups)
            for lab, o in self.group_offsets_db.items():
                off[g == lab] = o
        return off + self.slope_db_per_decade * (np.log10(d) - np.log10(self.reference_distance_m))

    def to_dict(self) -> dict:
        return {"offset_db": self.offset_db, "slope_db_per_decade": self.slope_db_per_decade,
                "reference_distance_m": self.reference_distance_m, "sigma_db": self.sigma_db,
                "sigma_within_db": self.sigma_within_db, "group_sd_db": self.group_sd_db,
                "per": self.per, "method": self.method, "n": self.n,
                "n_censored": self.n_censored, "n_truncated": self.n_truncated,
                "converged": self.converged, "random_loss_share": self.random_loss_share,
                "group_offsets_db": {k: float(v) for k, v in self.group_offsets_db.items()},
                "group_points": {k: int(v) for k, v in self.group_points.items()}}


def _log_distance(distance_m, reference_distance_m):
    return np.log10(np.maximum(np.asarray(distance_m, float), 1.0)) - np.log10(
        reference_distance_m)


def _within_fit(r, x, gidx, n_groups, fit_slope):
    """Fixed-effects offsets per group and a common slope (least squares)."""
    cnt = np.bincount(gidx, minlength=n_groups).astype(float)
    rbar = np.bincount(gidx, r, n_groups) / cnt
    if fit_slope:
        xbar = np.bincount(gidx, x, n_groups) / cnt
        xc = x - xbar[gidx]
        sxx = float(xc @ xc)
        s = float(xc @ (r - rbar[gidx]) / sxx) if sxx > 0 else 0.0
        o = rbar - s * xbar
    else:
        s, o = 0.0, rbar
    return o, s, cnt


def _shrink(o, cnt, sigma_w):
    """DerSimonian-Laird tau^2, pooled mean and shrunk group offsets."""
    g = len(o)
    v = sigma_w ** 2 / cnt
    w0 = 1.0 / v
    if g < 2 or not np.isfinite(w0).all():
        return float(np.average(o, weights=cnt)), 0.0, o.copy()
    m0 = float(np.sum(w0 * o) / np.sum(w0))
    q = float(np.sum(w0 * (o - m0) ** 2))
    c = float(np.sum(w0) - np.sum(w0 ** 2) / np.sum(w0))
    tau2 = max(0.0, (q - (g - 1)) / c) if c > 0 else 0.0
    w = 1.0 / (tau2 + v)
    pooled = float(np.sum(w * o) / np.sum(w))
    shrunk = pooled + (tau2 / (tau2 + v)) * (o - pooled)
    return pooled, float(np.sqrt(tau2)), shrunk


def fit_correction(residual_db, distance_m, *, groups=None, per: str | None = None,
                   censored=None, floor_residual_db=None, truncated=None,
                   method: str = "least_squares", reference_distance_m: float = 1000.0,
                   fit_slope: bool = True, shrink: bool = True) -> Correction:
    """Fit the correction to loss residuals (see the module docstring).

    Parameters
    ----------
    residual_db : array_like
        Loss residual per sample [dB]; for censored samples, the residual at the floor.
    distance_m : array_like
        Horizontal distance [m].
    groups : array_like of str, optional
        Group label per sample: one offset per group (with ``per`` naming what they are).
    censored : array_like of bool, optional
        Samples below the receiver floor (used by ``method="censored"`` only; left out
        of a least-squares fit).
    floor_residual_db : array_like, optional
        Residual at the receiver floor per sample, NaN where unknown [dB].
    truncated : array_like of bool, optional
        Received samples whose misses were not recorded (their density is divided by the
        probability of being received); needs ``floor_residual_db``.
    method : {"least_squares", "censored"}
    fit_slope : bool
        False fits offsets only.
    shrink : bool
        Shrink group offsets toward their pooled mean (False: plain fixed effects).

    Returns
    -------
    Correction

    Raises
    ------
    ValueError
        No received sample, an unknown method, fewer than 3 samples for a slope.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    r_all = np.asarray(residual_db, float)
    x_all = _log_distance(distance_m, reference_distance_m)
    n_all = r_all.size
    cens = np.zeros(n_all, bool) if censored is None else np.asarray(censored, bool)
    obs = ~cens & np.isfinite(r_all)
    if not obs.any():
        raise ValueError("no received sample to fit")
    if groups is None:
        labels = np.array(["all"], dtype=object)
        gidx_all = np.zeros(n_all, np.int64)
    else:
        labels, gidx_all = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    n_groups = len(labels)
    use = obs if method == "least_squares" else (obs | (cens & np.isfinite(r_all)))
    # groups without a received sample cannot be fitted: they take the pooled offset
    has_obs = np.bincount(gidx_all[obs], minlength=n_groups) > 0
    use &= has_obs[gidx_all]
    keep_groups = np.flatnonzero(has_obs)
    remap = -np.ones(n_groups, np.int64)
    remap[keep_groups] = np.arange(keep_groups.size)
    labels = labels[keep_groups]
    gidx = remap[gidx_all[use]]
    g = len(labels)
    r, x, c_use = r_all[use], x_all[use], cens[use]
    fit_slope = fit_slope and np.ptp(x) > 0 and np.count_nonzero(~c_use) >= 3
    o, s, cnt = _within_fit(r[~c_use], x[~c_use], gidx[~c_use], g, fit_slope)
    n_obs = int(np.count_nonzero(~c_use))
    p = g + int(fit_slope)
    resid = r[~c_use] - (o[gidx[~c_use]] + s * x[~c_use])
    sigma_w = float(np.sqrt(resid @ resid / max(n_obs - p, 1)))
    converged, n_cens, n_trunc, random_loss = True, 0, 0, 0.0
    if method == "censored":
        rf = np.full(r.shape, np.nan) if floor_residual_db is None else \
            np.asarray(floor_residual_db, float)[use]
        tr = np.zeros(r.shape, bool) if truncated is None else np.asarray(truncated, bool)[use]
        tr &= ~c_use & np.isfinite(rf)
        n_cens, n_trunc = int(c_use.sum()), int(tr.sum())
        if n_cens or n_trunc:
            o, s, sigma_w, converged, random_loss = _censored_mle(
                r, x, gidx, g, c_use, tr, rf, o, s, max(sigma_w, 0.1), fit_slope)
    counts = np.bincount(gidx, minlength=g).astype(float)
    if groups is None:
        pooled, tau, shrunk = float(o[0]), 0.0, o
    elif shrink:
        pooled, tau, shrunk = _shrink(o, counts, sigma_w)
    else:
        pooled, tau, shrunk = float(np.average(o, weights=counts)), float(np.std(o)), o
    return Correction(
        offset_db=pooled, slope_db_per_decade=float(s),
        reference_distance_m=float(reference_distance_m),
        sigma_db=float(np.sqrt(sigma_w ** 2 + (tau ** 2 if groups is not None and shrink
                                                 else 0.0))),
        sigma_within_db=sigma_w, group_sd_db=tau,
        group_offsets_db={} if groups is None else dict(zip(labels.tolist(), shrunk.tolist())),
        group_points={} if groups is None else dict(zip(labels.tolist(), counts.tolist())),
        per=per if groups is not None else None, method=method, n=n_obs, n_censored=n_cens,
        n_truncated=n_trunc, converged=converged, random_loss_share=random_loss)


def _censored_mle(r, x, gidx, g, cens, trunc, rf, o0, s0, sigma0, fit_slope):
    """Maximum likelihood of offsets, slope, sigma (and the random-loss share) with
    censored and truncated samples.

    A censored sample's likelihood is ``pi + (1 - pi) Phi((c - r_F) / sigma)``: it was
    missed either at random (``pi``, e.g. a packet collision, whatever its level) or
    because it was below the floor; a received one's is ``(1 - pi)`` times the normal
    density. ``pi`` is fitted when there are censored samples (``pi = 0`` is the Tobit
    model). Truncated samples (misses not recorded) are divided by ``Phi((r_F - c) /
    sigma)``; random misses do not bias them.
    """
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    log_phi_c = -0.5 * np.log(2.0 * np.pi)
    obs = ~cens
    with_pi = bool(cens.any())
    rf_c = r[cens]  # censored rows carry the floor residual as their value
    n_obs = int(obs.sum())

    def unpack(theta):
        o = theta[:g]
        s = theta[g] if fit_slope else 0.0
        q = theta[-1] if with_pi else -np.inf
        ls = theta[-2] if with_pi else theta[-1]
        return o, s, ls, q

    def nll(theta):
        o, s, ls, q = unpack(theta)
        sig = np.exp(ls)
        c = o[gidx] + s * x
        dc = np.zeros_like(r)
        z = (r[obs] - c[obs]) / sig
        ll = np.sum(-0.5 * z * z - ls)
        dc[obs] = z / sig
        dls = np.sum(z * z - 1.0)
        dq = 0.0
        if with_pi:
            log_pi = -np.logaddexp(0.0, -q)          # log sigmoid(q)
            log_1mpi = -np.logaddexp(0.0, q)         # log (1 - sigmoid(q))
            ll += n_obs * log_1mpi
            dq -= n_obs * np.exp(log_pi)
            u = (c[cens] - rf_c) / sig
            log_below = log_1mpi + log_ndtr(u)
            log_p = np.logaddexp(log_pi, log_below)
            ll += np.sum(log_p)
            ratio = np.exp(log_1mpi + log_phi_c - 0.5 * u * u - log_p)  # (1-pi) phi(u) / P
            dc[cens] = ratio / sig
            dls += np.sum(-u * ratio)
            dq += np.sum(np.exp(log_pi + log_1mpi + log_ndtr(-u) - log_p))
        if trunc.any():
            v = (rf[trunc] - c[trunc]) / sig
            ll -= np.sum(log_ndtr(v))
            lv = np.exp(log_phi_c - 0.5 * v * v - log_ndtr(v))
            dc[trunc] += lv / sig
            dls += np.sum(v * lv)
        grad = np.concatenate([np.bincount(gidx, dc, g), [np.sum(dc * x)] if fit_slope else [],
                               [dls], [dq] if with_pi else []])
        return -ll, -grad

    theta0 = np.concatenate([o0, [s0] if fit_slope else [], [np.log(sigma0)],
                             [np.log(0.05 / 0.95)] if with_pi else []])
    bounds = [(None, None)] * (g + int(fit_slope)) + [(np.log(0.05), np.log(100.0))]
    if with_pi:
        bounds.append((-15.0, 0.0))  # pi in (3e-7, 0.5]
    res = minimize(nll, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 5000, "gtol": 1e-7})
    o, s, ls, q = unpack(res.x)
    pi = float(1.0 / (1.0 + np.exp(-q))) if with_pi else 0.0
    return np.asarray(o, float), float(s), float(np.exp(ls)), bool(res.success), pi


# ---------------------------------------------------------------------------------------
# cross-validation
# ---------------------------------------------------------------------------------------
def route_segments(route, x_m, y_m, segment_m: float) -> np.ndarray:
    """Label each sample with its route and a piece of that route at most ``segment_m``
    long along the track (samples in route order; a jump longer than ``segment_m``
    between consecutive samples starts a new piece)."""
    route = np.asarray(route).astype(str)
    x, y = np.asarray(x_m, float), np.asarray(y_m, float)
    out = np.empty(route.size, dtype=object)
    for rname in dict.fromkeys(route.tolist()):
        idx = np.flatnonzero(route == rname)
        step = np.hypot(np.diff(x[idx]), np.diff(y[idx]))
        seg = np.zeros(idx.size, np.int64)
        acc, k = 0.0, 0
        for i, st in enumerate(step, start=1):
            acc += st
            if st > segment_m or acc > segment_m:
                k += 1
                acc = 0.0 if st > segment_m else st
            seg[i] = k
        out[idx] = [f"{rname}#{s}" for s in seg]
    return out


def assign_folds(groups, k: int) -> np.ndarray:
    """Fold (0..k-1) of each sample: whole groups, largest first into the smallest fold,
    so folds are about equal in samples (deterministic)."""
    groups = np.asarray(groups).astype(str)
    labels, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    k = max(1, min(int(k), len(labels)))
    load = np.zeros(k)
    fold_of = np.empty(len(labels), np.int64)
    for gi in sorted(range(len(labels)), key=lambda i: (-counts[i], labels[i])):
        f = int(np.argmin(load))
        fold_of[gi] = f
        load[f] += counts[gi]
    return fold_of[inv]
