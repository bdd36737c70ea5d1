"""Serving: from the engine's per-cell fields to who is covered for real.

A person is covered when, from their best server, the downlink closes (signal above the
technology threshold plus the fade margin, and SINR above the decoding requirement) and
the uplink closes (the handset's signal at the base station above the receiver's
sensitivity plus the same fade margin). Indoor people suffer a building entry loss on
both links. Capacity then decides how many covered people are served at busy hour.

All inputs are grid-shaped arrays; nothing here loops over cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .capacity import shannon_throughput_bps_per_hz, site_load, thermal_noise_dbm
from ..pipeline.engine import CoverageFields
from .stations import Technology

#: Codes of the limitation raster: why the people of a cell are (not) covered.
LIMITATION_CODES = {0: "covered", 1: "downlink-limited (signal below threshold + margin)",
                    2: "uplink-limited (handset not heard)",
                    3: "interference-limited (SINR below requirement)",
                    4: "no site within reach",
                    5: "terrain-limited (no line of sight to any site within reach)"}


@dataclass(frozen=True)
class ServingParams:
    """Radio, capacity and indoor parameters of the serving stage."""

    fade_margin_db: float
    sigma_db: float
    uplink: bool = True
    interference: bool = True
    interference_load: float = 0.5
    ul_interference_margin_db: float = 2.0
    busy_hour_active_share: float = 0.05
    mbps_per_active_user: float = 0.25
    indoor_share: float = 0.0
    building_entry_loss_db: float = 0.0


@dataclass
class ServingFields:
    """Per-cell serving results (grid-shaped)."""

    dl_margin_db: np.ndarray      # signal minus threshold, outdoors [dB]
    ul_rx_dbm: np.ndarray         # handset signal at the best server [dBm]
    ul_margin_db: np.ndarray      # uplink signal minus BS sensitivity, outdoors [dB]
    sinr_db: np.ndarray           # downlink SINR at the best server [dB]
    throughput_mbps: np.ndarray   # single-user downlink throughput [Mbit/s]
    covered_outdoor: np.ndarray   # bool
    covered_indoor: np.ndarray    # bool
    covered_dl_outdoor: np.ndarray  # bool: downlink alone closes
    people_covered: np.ndarray    # int64 people covered per cell (outdoor + indoor parts)
    coverage_probability: np.ndarray  # float32, outdoor location probability of both links
    people_covered_expected: np.ndarray  # float64 expected people covered per cell
    limitation: np.ndarray        # uint8 codes, LIMITATION_CODES (outdoor users)
    uncovered_by_cause: dict      # code -> people not covered for that reason
    people_served_per_cell: np.ndarray  # float64 after capacity
    site_load: object             # capacity.SiteLoad or None
    line_of_sight: np.ndarray | None = None  # bool, terrain engine only
    spectral_efficiency: np.ndarray | None = None  # float64 [bit/s/Hz], 0 beyond reach


def ul_sensitivity_dbm(tech: Technology, ul_interference_margin_db: float) -> float:
    """Base-station sensitivity for the cell-edge allocation: kTB F + SINR_req + I margin."""
    return float(thermal_noise_dbm(tech.ul_bandwidth_khz * 1e3,
                                   noise_figure_db=tech.bs_noise_figure_db)
                 + tech.ul_required_sinr_db + ul_interference_margin_db)


def serve(fields: CoverageFields, tx_metric_dbm: np.ndarray, people: np.ndarray,
          tech: Technology, params: ServingParams, n_sites: int, *,
          line_of_sight: np.ndarray | None = None) -> ServingFields:
    """Decide coverage (downlink, uplink, SINR), coverage probability and capacity.

    Parameters
    ----------
    fields : CoverageFields
        From the engine (``interference_dbm`` used when present).
    tx_metric_dbm : numpy.ndarray
        Per site: transmit power in the signal metric (tx power minus the metric offset)
        [dBm]; with the received signal it gives the coupling loss, which the uplink
        shares (antenna gains, feeder, body loss and path loss are reciprocal).
    people : numpy.ndarray
        People per cell (int).
    line_of_sight : numpy.ndarray, optional
        bool per cell: in line of sight of a site (terrain engine). Uncovered people out of
        sight of every site are counted as terrain-limited rather than budget-limited.
    """
    rx = fields.rx_dbm
    reach = fields.best_server >= 0
    # index -1 (no server) picks the NaN appended at the end
    tx_padded = np.append(np.asarray(tx_metric_dbm, np.float32), np.float32(np.nan))
    coupling_db = tx_padded[fields.best_server] - rx
    with np.errstate(invalid="ignore"):
        dl_margin = (rx - np.float32(tech.dl_threshold_dbm)).astype(np.float32)
        ul_rx = (np.float32(tech.ue_tx_power_dbm) - coupling_db).astype(np.float32)
        ul_margin = (ul_rx - np.float32(ul_sensitivity_dbm(tech, params.ul_interference_margin_db))
                     ).astype(np.float32)
        if not params.uplink:
            ul_margin = np.where(reach, np.float32(np.inf), np.float32(np.nan))
        noise_dbm = float(thermal_noise_dbm(tech.metric_bandwidth_hz,
                                            noise_figure_db=tech.ue_noise_figure_db))
        n_mw = 10.0 ** (noise_dbm / 10.0)
        if params.interference and fields.interference_dbm is not None:
            i_mw = params.interference_load * np.power(
                10.0, fields.interference_dbm.astype(np.float64) / 10.0)
        else:
            i_mw = 0.0
        sinr = (rx - 10.0 * np.log10(i_mw + n_mw)).astype(np.float32)
    if tech.carries_data:
        se = shannon_throughput_bps_per_hz(np.nan_to_num(sinr, nan=-np.inf),
                                           alpha=tech.shannon_alpha,
                                           sinr_min_db=tech.shannon_sinr_min_db,
                                           max_bps_per_hz=tech.shannon_max_bps_per_hz)
        se = np.where(reach, se, 0.0)
        throughput = (se * tech.bandwidth_mhz * (1.0 - tech.overhead_fraction)).astype(np.float32)
    else:
        se = None
        throughput = np.zeros(rx.shape, np.float32)
    m = params.fade_margin_db
    bel = params.building_entry_loss_db
    people = np.asarray(people)
    indoor_people = np.rint(people * params.indoor_share).astype(np.int64)
    outdoor_people = people - indoor_people
    with np.errstate(invalid="ignore"):
        sinr_ok = reach & (sinr >= tech.dl_required_sinr_db)
        dl_out = reach & (dl_margin >= m)
        ul_out = reach & (ul_margin >= m)
        dl_in = reach & (dl_margin - bel >= m)
        ul_in = reach & (ul_margin - bel >= m)
    cov_out = dl_out & ul_out & sinr_ok
    cov_in = dl_in & ul_in & sinr_ok
    people_covered = np.where(cov_out, outdoor_people, 0) + np.where(cov_in, indoor_people, 0)
    lim_out = _limitation(reach, dl_out, ul_out, sinr_ok, line_of_sight)
    lim_in = _limitation(reach, dl_in, ul_in, sinr_ok, line_of_sight)
    uncovered_by_cause = {}
    codes = (1, 2, 3, 5, 4) if line_of_sight is not None else (1, 2, 3, 4)
    for code in codes:
        n = (outdoor_people[(lim_out == code)].sum() + indoor_people[(lim_in == code)].sum())
        uncovered_by_cause[code] = int(n)
    with np.errstate(invalid="ignore"):
        worst = np.minimum(dl_margin, ul_margin)
        if params.sigma_db > 0:
            p_out = np.where(sinr_ok, ndtr(worst / params.sigma_db), 0.0)
            p_in = np.where(sinr_ok, ndtr((worst - bel) / params.sigma_db), 0.0)
        else:
            p_out = np.where(cov_out, 1.0, 0.0)
            p_in = np.where(cov_in, 1.0, 0.0)
    expected = outdoor_people * p_out + indoor_people * p_in
    load = None
    served = people_covered.astype(np.float64)
    if tech.carries_data and n_sites:
        se_cov = np.where(people_covered > 0, se, 0.0)
        load = site_load(people_covered, fields.best_server, se_cov, n_sites=n_sites,
                         bandwidth_hz=tech.bandwidth_mhz * 1e6,
                         active_share=params.busy_hour_active_share,
                         mbps_per_active_user=params.mbps_per_active_user,
                         overhead_fraction=tech.overhead_fraction)
        served = load.people_served_per_cell.reshape(rx.shape)
    return ServingFields(dl_margin_db=dl_margin, ul_rx_dbm=ul_rx, ul_margin_db=ul_margin,
                         sinr_db=sinr, throughput_mbps=throughput, covered_outdoor=cov_out,
                         covered_indoor=cov_in, covered_dl_outdoor=dl_out,
                         people_covered=people_covered,
                         coverage_probability=p_out.astype(np.float32),
                         people_covered_expected=expected, limitation=lim_out,
                         uncovered_by_cause=uncovered_by_cause,
                         people_served_per_cell=served, site_load=load,
                         line_of_sight=line_of_sight, spectral_efficiency=se)


def _limitation(reach, dl_ok, ul_ok, sinr_ok, line_of_sight=None) -> np.ndarray:
    """Limitation code per cell (see LIMITATION_CODES); the first failing link wins, and
    with terrain an uncovered cell out of sight of every site is terrain-limited."""
    lim = np.full(reach.shape, 4, np.uint8)
    lim[reach] = 0
    lim[reach & ~sinr_ok] = 3
    lim[reach & ~ul_ok] = 2
    lim[reach & ~dl_ok] = 1
    if line_of_sight is not None:
        lim[(lim != 0) & reach & ~line_of_sight] = 5
    return lim
