"""Noise, interference, SINR, throughput, cell load, uplink closure and frequency reuse.

Pure, vectorised numpy models (layer 1 of docs/CONVENTIONS.md). No I/O, no globals.
Every function broadcasts its array arguments with numpy rules unless a shape is stated.

Powers are in dBm and are summed in linear milliwatts (``sum_dbm``), converted once.
``-inf`` dBm means "no power" (0 mW) everywhere in this module.

References
----------
.. [1] 3GPP TR 36.942, "E-UTRA; Radio Frequency (RF) system scenarios", Annex A
       (A.1 downlink, A.2 uplink): link-level throughput as an attenuated and truncated
       Shannon bound, Thr = alpha * log2(1 + SINR) between SINR_MIN and SINR_MAX, 0 below,
       Thr_MAX above. Downlink baseline: alpha = 0.6, SINR_MIN = -10 dB, Thr_MAX = 4.4 bps/Hz.
.. [2] Johnson-Nyquist thermal noise, N = k T B; 10 log10(k * 290 K * 1 Hz / 1 mW)
       = -173.98 dBm/Hz (the "-174 dBm/Hz" of link budgets).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_range

__all__ = [
    "BOLTZMANN_J_PER_K",
    "thermal_noise_dbm",
    "dbm_to_mw",
    "mw_to_dbm",
    "sum_dbm",
    "sinr_db",
    "shannon_sinr_max_db",
    "shannon_throughput_bps_per_hz",
    "cell_capacity_mbps",
    "served_fraction",
    "SiteLoad",
    "site_load",
    "uplink_rx_dbm",
    "bs_sensitivity_dbm",
    "uplink_margin_db",
    "uplink_closes",
    "assign_channels",
    "co_channel_interference_dbm",
]

#: Boltzmann constant (exact in the 2019 SI) [J/K].
BOLTZMANN_J_PER_K = 1.380649e-23

#: LTE / NR numerology 0: 12 subcarriers of 15 kHz per resource block.
_SUBCARRIERS_PER_RB = 12
_SUBCARRIER_SPACING_HZ = 15e3


# --------------------------------------------------------------------------- validation
def _fail(name: str, value, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is outside the allowed range {allowed}")


# the package's one range check (simulator._checks.check_range): NaN and inf refused
def _check_positive(name: str, value) -> np.ndarray:
    return check_range(name, value, 0.0, None, lo_open=True, finite=True)


def _check_nonnegative(name: str, value) -> np.ndarray:
    return check_range(name, value, 0.0, None, finite=True)


def _check_fraction(name: str, value, *, closed_low=True, closed_high=True) -> np.ndarray:
    return check_range(name, value, 0.0, 1.0, lo_open=not closed_low, hi_open=not closed_high,
                       finite=True)


# --------------------------------------------------------------------------- power algebra
def dbm_to_mw(power_dbm):
    """Convert dBm to milliwatts; ``-inf`` dBm gives 0 mW.

    Parameters
    ----------
    power_dbm : array_like
        Power [dBm].

    Returns
    -------
    numpy.ndarray
        Power [mW], same shape.
    """
    return np.power(10.0, np.asarray(power_dbm, dtype=np.float64) / 10.0)


def mw_to_dbm(power_mw):
    """Convert milliwatts to dBm; 0 mW gives ``-inf`` dBm (no warning).

    Parameters
    ----------
    power_mw : array_like
        Power, >= 0 [mW].

    Returns
    -------
    numpy.ndarray
        Power [dBm], same shape.
    """
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power_mw, dtype=np.float64))


def thermal_noise_dbm(bandwidth_hz, *, noise_figure_db=0.0, temperature_k=290.0):
    """Thermal noise power k T B plus the receiver noise figure.

    .. math:: N = 10 \\log_{10}(k T B / 1\\,\\mathrm{mW}) + NF

    At T = 290 K this is -173.98 dBm/Hz + 10 log10(B) + NF.

    Parameters
    ----------
    bandwidth_hz : array_like
        Noise bandwidth, > 0 [Hz].
    noise_figure_db : array_like, optional
        Receiver noise figure, >= 0 [dB].
    temperature_k : array_like, optional
        Noise temperature, > 0 [K].

    Returns
    -------
    numpy.ndarray
        Noise power [dBm], broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``bandwidth_hz`` or ``temperature_k`` is not positive and finite, or
        ``noise_figure_db`` is negative.
    """
    bw = _check_positive("bandwidth_hz", bandwidth_hz)
    t = _check_positive("temperature_k", temperature_k)
    nf = _check_nonnegative("noise_figure_db", noise_figure_db)
    return 10.0 * np.log10(BOLTZMANN_J_PER_K * t * bw * 1e3) + nf


def sum_dbm(powers_dbm, axis=-1):
    """Sum powers given in dBm, in linear units (mW), and return dBm.

    Parameters
    ----------
    powers_dbm : array_like
        Powers [dBm]; ``-inf`` means no power.
    axis : int or tuple of int or None, optional
        Axis (axes) to sum over; ``None`` sums everything.

    Returns
    -------
    numpy.ndarray
        Total power [dBm]; ``-inf`` where every term is ``-inf`` (or the axis is empty).

    Examples
    --------
    Two equal powers add 10 log10(2) = 3.0103 dB.
    """
    return mw_to_dbm(np.sum(dbm_to_mw(powers_dbm), axis=axis))


def sinr_db(signal_dbm, interference_dbm_sum, noise_dbm):
    """Signal to interference-plus-noise ratio.

    .. math:: \\mathrm{SINR} = S / (I + N)  \\quad \\text{(linear, mW)}

    Parameters
    ----------
    signal_dbm : array_like
        Wanted received power [dBm].
    interference_dbm_sum : array_like
        Total interference power [dBm] (already summed, e.g. with ``sum_dbm``);
        ``-inf`` for no interferer, then SINR equals SNR.
    noise_dbm : array_like
        Noise power [dBm], finite.

    Returns
    -------
    numpy.ndarray
        SINR [dB], broadcast shape; ``-inf`` where the signal is ``-inf``.

    Raises
    ------
    ValueError
        If ``noise_dbm`` is not finite (the ratio would be undefined).
    """
    noise = np.asarray(noise_dbm, dtype=np.float64)
    if not np.all(np.isfinite(noise)):
        raise _fail("noise_dbm", float(noise[~np.isfinite(noise)].ravel()[0]
                                       if noise.ndim else noise), "(-inf, inf), finite")
    denom_mw = dbm_to_mw(interference_dbm_sum) + dbm_to_mw(noise)
    return np.asarray(signal_dbm, dtype=np.float64) - mw_to_dbm(denom_mw)


# --------------------------------------------------------------------------- throughput
def shannon_sinr_max_db(*, alpha=0.6, max_bps_per_hz=4.4):
    """SINR at which the attenuated Shannon curve reaches ``max_bps_per_hz``.

    Solves alpha * log2(1 + SINR_MAX) = Thr_MAX, i.e. the SINR_MAX that makes the
    TR 36.942 Annex A curve continuous: 10 log10(2**(Thr_MAX/alpha) - 1).
    For the downlink baseline (0.6, 4.4 bps/Hz) this is 22.05 dB.

    Parameters
    ----------
    alpha : float, optional
        Attenuation factor, in (0, 1] [-].
    max_bps_per_hz : float, optional
        Maximum spectral efficiency Thr_MAX, > 0 [bit/s/Hz].

    Returns
    -------
    float
        SINR_MAX [dB].
    """
    a = float(_check_fraction("alpha", alpha, closed_low=False))
    t = float(_check_positive("max_bps_per_hz", max_bps_per_hz))
    return float(10.0 * np.log10(np.expm1(t / a * np.log(2.0))))


def shannon_throughput_bps_per_hz(sinr_db, *, alpha=0.6, sinr_min_db=-10.0,
                                  sinr_max_db=None, max_bps_per_hz=4.4):
    """Spectral efficiency from SINR: attenuated, truncated Shannon bound.

    3GPP TR 36.942 Annex A (A.1 DL, A.2 UL):

    .. math::

        Thr(\\mathrm{SINR}) = \\begin{cases}
            0 & \\mathrm{SINR} < \\mathrm{SINR_{MIN}} \\\\
            \\min(\\alpha \\log_2(1 + \\mathrm{SINR}),\\ Thr_{MAX})
                & \\mathrm{SINR_{MIN}} \\le \\mathrm{SINR} < \\mathrm{SINR_{MAX}} \\\\
            Thr_{MAX} & \\mathrm{SINR} \\ge \\mathrm{SINR_{MAX}}
        \\end{cases}

    The defaults are the TR 36.942 A.1 downlink baseline (alpha = 0.6,
    SINR_MIN = -10 dB, Thr_MAX = 4.4 bps/Hz). ``sinr_max_db=None`` takes the
    SINR_MAX at which the curve reaches Thr_MAX (22.05 dB for the defaults), so the
    curve is continuous. For the uplink pass the uplink parameters explicitly.

    Parameters
    ----------
    sinr_db : array_like
        SINR [dB]; ``-inf`` gives 0.
    alpha : float, optional
        Attenuation factor representing implementation losses, in (0, 1] [-].
    sinr_min_db : float, optional
        Minimum SINR of the code set; below it the throughput is 0 [dB].
    sinr_max_db : float or None, optional
        SINR above which the throughput is Thr_MAX [dB]; must exceed ``sinr_min_db``.
    max_bps_per_hz : float, optional
        Maximum throughput of the code set Thr_MAX, > 0 [bit/s/Hz].

    Returns
    -------
    numpy.ndarray
        Spectral efficiency [bit/s/Hz], same shape as ``sinr_db``.

    Raises
    ------
    ValueError
        If alpha is outside (0, 1], Thr_MAX <= 0, or SINR_MIN >= SINR_MAX.
    """
    a = float(_check_fraction("alpha", alpha, closed_low=False))
    tmax = float(_check_positive("max_bps_per_hz", max_bps_per_hz))
    smin = float(sinr_min_db)
    smax = (shannon_sinr_max_db(alpha=a, max_bps_per_hz=tmax)
            if sinr_max_db is None else float(sinr_max_db))
    if not np.isfinite(smin):
        raise _fail("sinr_min_db", smin, "finite")
    if not smin < smax:
        raise ValueError(f"sinr_min_db={smin!r} must be below sinr_max_db={smax!r} "
                         "(allowed range: sinr_min_db < sinr_max_db)")
    s = np.asarray(sinr_db, dtype=np.float64)
    # evaluate the log only where it is used; clip to avoid overflow for huge SINR
    s_eval = np.clip(s, smin, smax)
    thr = np.minimum(a * np.log2(1.0 + np.power(10.0, s_eval / 10.0)), tmax)
    thr = np.where(s >= smax, tmax, thr)
    return np.where(s < smin, 0.0, thr)


# --------------------------------------------------------------------------- capacity / load
def cell_capacity_mbps(bandwidth_hz, mean_spectral_efficiency_bps_per_hz, *,
                       overhead_fraction=0.0):
    """Cell throughput capacity from bandwidth and mean spectral efficiency.

    .. math:: C = B \\cdot \\overline{SE} \\cdot (1 - \\mathrm{overhead}) / 10^6

    For users that each need the same rate, the right mean is the (people
    weighted) harmonic mean of the users' spectral efficiencies, as used by
    ``site_load``.

    Parameters
    ----------
    bandwidth_hz : array_like
        Channel bandwidth, > 0 [Hz].
    mean_spectral_efficiency_bps_per_hz : array_like
        Mean spectral efficiency over served users, >= 0 [bit/s/Hz].
    overhead_fraction : array_like, optional
        Share of resources used by control and reference signals, in [0, 1) [-].

    Returns
    -------
    numpy.ndarray
        Capacity [Mbit/s].
    """
    bw = _check_positive("bandwidth_hz", bandwidth_hz)
    se = _check_nonnegative("mean_spectral_efficiency_bps_per_hz",
                            mean_spectral_efficiency_bps_per_hz)
    oh = _check_fraction("overhead_fraction", overhead_fraction, closed_high=False)
    return bw * se * (1.0 - oh) / 1e6


def served_fraction(demand_mbps, capacity_mbps):
    """Fraction of the demand a cell can serve: min(1, capacity / demand).

    Parameters
    ----------
    demand_mbps : array_like
        Offered traffic, >= 0 [Mbit/s]. Zero demand is fully served (1.0).
    capacity_mbps : array_like
        Cell capacity, >= 0 [Mbit/s].

    Returns
    -------
    numpy.ndarray
        Served fraction in [0, 1] [-].
    """
    d = _check_nonnegative("demand_mbps", demand_mbps)
    c = _check_nonnegative("capacity_mbps", capacity_mbps)
    d, c = np.broadcast_arrays(d, c)
    out = np.ones(d.shape)
    pos = d > 0
    out[pos] = np.minimum(1.0, c[pos] / d[pos])
    return out


class SiteLoad(NamedTuple):
    """Result of :func:`site_load` (per-site arrays have length ``n_sites``)."""

    #: offered busy-hour traffic per site [Mbit/s]
    demand_mbps: np.ndarray
    #: capacity per site, B x harmonic-mean SE of its users x (1 - overhead) [Mbit/s]
    capacity_mbps: np.ndarray
    #: resource utilisation demanded, demand / capacity (may exceed 1) [-]
    load: np.ndarray
    #: share of each site's demand that is served, min(1, 1/load) [-]
    served_fraction: np.ndarray
    #: people attached to each site (SE > 0) [people]
    people_attached: np.ndarray
    #: people served per site, people_attached x served_fraction [people]
    people_served: np.ndarray
    #: people served per cell, same shape as the ``people`` input [people]
    people_served_per_cell: np.ndarray


def site_load(people, best_server, spectral_efficiency_bps_per_hz, *, n_sites,
              bandwidth_hz, active_share, mbps_per_active_user, overhead_fraction=0.0):
    """Per-site busy-hour load and the number of people served.

    Each cell's people attach to its best server. A share ``active_share`` of them
    is active in the busy hour and each active user asks for ``mbps_per_active_user``.
    Serving a user in a cell with spectral efficiency SE takes a resource share
    rate / (B SE (1 - overhead)), so the site load is

    .. math:: \\rho_s = \\sum_{c \\in s} \\frac{P_c\\, a\\, R}{B\\, SE_c (1 - o)}

    which equals demand / capacity with capacity = B x (people-weighted harmonic
    mean SE) x (1 - o). When rho_s > 1 every user of that site is scaled down
    proportionally: served fraction = 1 / rho_s, and people served = people x
    served fraction. Cells without a server (index < 0) or with SE = 0 (below
    SINR_MIN) are not attached and count as not served. Sums use ``np.bincount``.

    Parameters
    ----------
    people : array_like
        People per cell, >= 0 [people]; any shape (flattened internally).
    best_server : array_like of int
        Serving site index per cell, same shape as ``people``; negative = none.
    spectral_efficiency_bps_per_hz : array_like
        Spectral efficiency per cell, >= 0 [bit/s/Hz], same shape as ``people``.
    n_sites : int
        Number of sites; indices must be < ``n_sites``.
    bandwidth_hz : float or array_like
        Channel bandwidth per site, > 0 [Hz] (scalar or shape (n_sites,)).
    active_share : float
        Busy-hour share of people that are active users, in [0, 1] [-].
    mbps_per_active_user : float
        Rate each active user asks for, >= 0 [Mbit/s].
    overhead_fraction : float, optional
        Control/reference-signal overhead, in [0, 1) [-].

    Returns
    -------
    SiteLoad
        Per-site demand, capacity, load, served fraction, people attached and
        served, and people served per cell.
    """
    ppl = _check_nonnegative("people", people)
    shape = ppl.shape
    ppl = ppl.ravel()
    srv = np.asarray(best_server).ravel()
    if not np.issubdtype(srv.dtype, np.integer):
        raise ValueError(f"best_server dtype={srv.dtype} is not allowed; "
                         "allowed: integer site indices")
    se = _check_nonnegative("spectral_efficiency_bps_per_hz",
                            spectral_efficiency_bps_per_hz).ravel()
    if srv.shape != ppl.shape or se.shape != ppl.shape:
        raise ValueError(f"best_server shape {np.shape(best_server)} and spectral efficiency "
                         f"shape {np.shape(spectral_efficiency_bps_per_hz)} must equal the "
                         f"people shape {shape}")
    n_sites = int(n_sites)
    if n_sites < 1:
        raise _fail("n_sites", n_sites, "[1, inf)")
    if srv.size and srv.max() >= n_sites:
        raise _fail("best_server", int(srv.max()), f"[-1, {n_sites - 1}]")
    bw = np.broadcast_to(_check_positive("bandwidth_hz", bandwidth_hz), (n_sites,))
    a = float(_check_fraction("active_share", active_share))
    rate = float(_check_nonnegative("mbps_per_active_user", mbps_per_active_user))
    oh = float(_check_fraction("overhead_fraction", overhead_fraction, closed_high=False))

    attached = (srv >= 0) & (se > 0)
    idx = np.where(attached, srv, 0)
    w_people = np.where(attached, ppl, 0.0)
    people_attached = np.bincount(idx, weights=w_people, minlength=n_sites)
    demand = people_attached * a * rate
    # resource-seconds per second needed: sum(people * a * rate / SE) / (B (1-o)) * 1e6
    inv_se = np.zeros_like(se)
    np.divide(1.0, se, out=inv_se, where=attached)
    people_over_se = np.bincount(idx, weights=w_people * inv_se, minlength=n_sites)
    load = people_over_se * a * rate * 1e6 / (bw * (1.0 - oh))
    with np.errstate(divide="ignore", invalid="ignore"):
        hmean_se = np.where(people_over_se > 0, people_attached / people_over_se, 0.0)
    capacity = bw * hmean_se * (1.0 - oh) / 1e6
    frac = np.ones(n_sites)
    over = load > 1.0
    frac[over] = 1.0 / load[over]
    people_served = people_attached * frac
    per_cell = np.where(attached, ppl * frac[idx], 0.0).reshape(shape)
    return SiteLoad(demand, capacity, load, frac, people_attached, people_served, per_cell)


# --------------------------------------------------------------------------- uplink
def uplink_rx_dbm(ue_power_dbm, path_loss_db, bs_gain_dbi, *, ue_gain_dbi=0.0,
                  bs_feeder_loss_db=0.0, body_loss_db=0.0, other_losses_db=0.0):
    """Uplink received power at the base-station receiver input.

    .. math:: P_{rx} = P_{UE} + G_{UE} - L_{body} - PL - L_{other} + G_{BS} - L_{feeder}

    Parameters
    ----------
    ue_power_dbm : array_like
        UE transmit power (23 dBm for an LTE power class 3 handset) [dBm].
    path_loss_db : array_like
        Path loss between the antennas [dB].
    bs_gain_dbi : array_like
        Base-station antenna gain towards the UE [dBi].
    ue_gain_dbi : array_like, optional
        UE antenna gain [dBi].
    bs_feeder_loss_db : array_like, optional
        Cable/feeder loss at the base station, >= 0 [dB].
    body_loss_db : array_like, optional
        Body loss at the UE, >= 0 [dB].
    other_losses_db : array_like, optional
        Any further loss (building entry, margins), >= 0 [dB].

    Returns
    -------
    numpy.ndarray
        Received power [dBm], broadcast shape.
    """
    for name, val in (("bs_feeder_loss_db", bs_feeder_loss_db),
                      ("body_loss_db", body_loss_db), ("other_losses_db", other_losses_db)):
        _check_nonnegative(name, val)
    return (np.asarray(ue_power_dbm, dtype=np.float64) + ue_gain_dbi - body_loss_db
            - np.asarray(path_loss_db, dtype=np.float64) - other_losses_db
            + bs_gain_dbi - bs_feeder_loss_db)


def bs_sensitivity_dbm(n_resource_blocks, *, noise_figure_db, required_sinr_db,
                       interference_margin_db=0.0,
                       subcarrier_spacing_hz=_SUBCARRIER_SPACING_HZ):
    """Base-station receiver sensitivity for an uplink allocation.

    .. math:: S = -174 + 10\\log_{10}(N_{RB} \\cdot 12 \\cdot \\Delta f) + NF
              + \\mathrm{SINR_{req}} + IM

    (the -174 is the exact k T at 290 K, -173.98 dBm/Hz).

    Parameters
    ----------
    n_resource_blocks : array_like
        Allocated resource blocks (12 subcarriers each), >= 1 [-].
    noise_figure_db : array_like
        Receiver noise figure, >= 0 [dB].
    required_sinr_db : array_like
        SINR needed for the service rate [dB].
    interference_margin_db : array_like, optional
        Uplink noise rise allowance, >= 0 [dB].
    subcarrier_spacing_hz : float, optional
        Subcarrier spacing, > 0 [Hz] (15 kHz for LTE).

    Returns
    -------
    numpy.ndarray
        Sensitivity [dBm].
    """
    nrb = np.asarray(n_resource_blocks, dtype=np.float64)
    if np.any(~np.isfinite(nrb) | (nrb < 1)):
        raise _fail("n_resource_blocks", float(nrb[~np.isfinite(nrb) | (nrb < 1)].ravel()[0]
                                               if nrb.ndim else nrb), "[1, inf)")
    _check_nonnegative("interference_margin_db", interference_margin_db)
    bw = nrb * _SUBCARRIERS_PER_RB * float(_check_positive("subcarrier_spacing_hz",
                                                           subcarrier_spacing_hz))
    return (thermal_noise_dbm(bw, noise_figure_db=noise_figure_db)
            + required_sinr_db + interference_margin_db)


def uplink_margin_db(ue_power_dbm, path_loss_db, bs_gain_dbi, *, n_resource_blocks,
                     noise_figure_db, required_sinr_db, interference_margin_db=0.0,
                     ue_gain_dbi=0.0, bs_feeder_loss_db=0.0, body_loss_db=0.0,
                     other_losses_db=0.0):
    """Uplink margin: received power minus base-station sensitivity.

    The UE transmits its full power over ``n_resource_blocks``; a narrower
    allocation lowers the noise bandwidth and so extends the uplink range at a
    lower rate. See :func:`uplink_rx_dbm` and :func:`bs_sensitivity_dbm` for the
    parameters.

    Returns
    -------
    numpy.ndarray
        Margin [dB]; >= 0 means the uplink closes.
    """
    rx = uplink_rx_dbm(ue_power_dbm, path_loss_db, bs_gain_dbi, ue_gain_dbi=ue_gain_dbi,
                       bs_feeder_loss_db=bs_feeder_loss_db, body_loss_db=body_loss_db,
                       other_losses_db=other_losses_db)
    sens = bs_sensitivity_dbm(n_resource_blocks, noise_figure_db=noise_figure_db,
                              required_sinr_db=required_sinr_db,
                              interference_margin_db=interference_margin_db)
    return rx - sens


def uplink_closes(ue_power_dbm, path_loss_db, bs_gain_dbi, **kwargs):
    """True where the uplink margin (:func:`uplink_margin_db`) is >= 0.

    Returns
    -------
    numpy.ndarray of bool
    """
    return uplink_margin_db(ue_power_dbm, path_loss_db, bs_gain_dbi, **kwargs) >= 0.0


# --------------------------------------------------------------------------- frequency reuse
def assign_channels(site_xy_m, reuse_factor, *, method="greedy", n_neighbours=32):
    """Assign one of ``reuse_factor`` channels to each site.

    Parameters
    ----------
    site_xy_m : array_like, shape (n_sites, 2)
        Site coordinates in a metric CRS [m].
    reuse_factor : int
        Number of channels N, >= 1. N = 1 is universal reuse (every site co-channel).
    method : {"greedy", "modulo"}, optional
        ``"modulo"``: site k gets channel k mod N (order-dependent, geometry-blind).
        ``"greedy"``: sites in input order each take the channel whose nearest
        already-assigned co-channel site (among the ``n_neighbours`` nearest, found
        with ``scipy.spatial.cKDTree``) is farthest away; ties go to the lowest channel.
        A greedy distance colouring, not an optimum.
    n_neighbours : int, optional
        Neighbours examined per site by the greedy method, >= 1.

    Returns
    -------
    numpy.ndarray of int, shape (n_sites,)
        Channel index in [0, N) per site.

    Raises
    ------
    ValueError
        If ``reuse_factor`` < 1 or not an integer, or ``method`` is unknown.
    """
    xy = np.asarray(site_xy_m, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"site_xy_m shape {xy.shape} is not allowed; allowed: (n_sites, 2)")
    if isinstance(reuse_factor, bool) or int(reuse_factor) != reuse_factor or reuse_factor < 1:
        raise _fail("reuse_factor", reuse_factor, "integers [1, inf)")
    n = int(reuse_factor)
    n_sites = xy.shape[0]
    if method == "modulo":
        return np.arange(n_sites) % n
    if method != "greedy":
        raise ValueError(f"method={method!r} is not allowed; allowed: 'greedy', 'modulo'")
    if n_sites == 0:
        return np.zeros(0, dtype=int)
    from scipy.spatial import cKDTree

    k = int(min(max(int(n_neighbours), 1) + 1, n_sites))
    dist, nbr = cKDTree(xy).query(xy, k=k)
    dist = np.asarray(dist).reshape(n_sites, k)
    nbr = np.asarray(nbr).reshape(n_sites, k)
    channels = np.full(n_sites, -1, dtype=int)
    chan_ids = np.arange(n)
    for i in range(n_sites):  # loop over sites (not cells); vectorised over neighbours
        d, j = dist[i], nbr[i]
        assigned = (j != i) & (channels[j] >= 0)
        same = assigned[None, :] & (channels[j][None, :] == chan_ids[:, None])
        nearest = np.where(same, d[None, :], np.inf).min(axis=1)
        channels[i] = int(np.argmax(nearest))  # argmax takes the first of ties
    return channels


def co_channel_interference_dbm(rx_power_dbm, best_server, channel_of_site, *, axis=-1):
    """Total interference from sites sharing the serving site's channel.

    Parameters
    ----------
    rx_power_dbm : array_like, shape (..., n_sites)
        Received power from every site (site axis last by default) [dBm];
        ``-inf`` for sites out of range.
    best_server : array_like of int, shape (...)
        Serving site index per cell; negative = no server (interference -inf).
    channel_of_site : array_like of int, shape (n_sites,)
        Channel of each site (e.g. from :func:`assign_channels`).
    axis : int, optional
        The site axis of ``rx_power_dbm``.

    Returns
    -------
    numpy.ndarray, shape (...)
        Sum over co-channel sites other than the server, in mW converted once [dBm].
    """
    rx = np.moveaxis(np.asarray(rx_power_dbm, dtype=np.float64), axis, -1)
    ch = np.asarray(channel_of_site)
    srv = np.asarray(best_server)
    if rx.shape[-1] != ch.shape[0] or srv.shape != rx.shape[:-1]:
        raise ValueError(f"shapes rx_power_dbm {np.shape(rx_power_dbm)}, best_server "
                         f"{srv.shape}, channel_of_site {ch.shape} do not match")
    has = srv >= 0
    srv0 = np.where(has, srv, 0)
    serving_channel = ch[srv0]
    mask = ch == serving_channel[..., None]
    np.put_along_axis(mask, srv0[..., None], False, axis=-1)
    mask &= has[..., None]
    return sum_dbm(np.where(mask, rx, -np.inf), axis=-1)
