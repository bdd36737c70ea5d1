"""Backhaul for new sites: fibre, microwave, LTE relay (LOS / non-LOS) or satellite.

Pure, vectorised models (no I/O). For each site the cheapest *feasible* option is chosen
by lifetime cost

.. math:: L = C_0 + c_{km}\\,d/1000 + O \\cdot a(r, n)

(capex, distance-dependent capex for fibre only, present value of opex with the annuity
factor of :func:`simulator.business.economics.annuity_factor`). Feasibility:

==============  ===============================================================
option          feasible when
==============  ===============================================================
``fibre``       nearest fibre node within ``max_distance_m``
``microwave``   nearest donor within ``max_distance_m`` and line of sight
``relay_los``   nearest donor within ``max_distance_m`` and line of sight
``relay_nlos``  nearest donor within its (shorter) ``max_distance_m``, LOS or not
``satellite``   always (``max_distance_m`` is ``inf``)
==============  ===============================================================

An option whose ``requires_los`` is true needs the caller's line-of-sight flag; without
terrain the caller passes nothing and every donor link counts as line of sight. Options
missing from ``params`` are not considered. Sites whose traffic demand exceeds the chosen
option's capacity are flagged (``capacity_exceeded``); with ``require_capacity=True`` an
option that cannot carry the demand is infeasible, and a site where no option can carry it
falls back to the cheapest option that is feasible by distance (still flagged).

Not modelled here: multi-hop relay chains (a new site acting as donor for another), donor
capacity sharing, and a LOS check to donors other than the nearest one. Those are in
:func:`simulator.programme.relay.backhaul_tree` (relay forest with a hop limit, LOS with
Fresnel clearance or the ITM against a relay link budget, shared donor capacity, upgrades of
overloaded chains), which the programme planner applies after this per-site choice.

Coordinates are metres in a projected (metric) CRS; nearest neighbours come from
``scipy.spatial.cKDTree``.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from simulator.business.economics import annuity_factor

__all__ = ["BACKHAUL_OPTIONS", "BackhaulChoice", "choose_backhaul", "nearest_node"]

#: All options, in the order used for ``option_costs_usd`` columns and for breaking ties.
BACKHAUL_OPTIONS = ("fibre", "microwave", "relay_los", "relay_nlos", "satellite")
_TARGET = {"fibre": "fibre", "microwave": "donor", "relay_los": "donor",
           "relay_nlos": "donor", "satellite": None}
_DEFAULT_LOS = {"fibre": False, "microwave": True, "relay_los": True,
                "relay_nlos": False, "satellite": False}


def _xy(name: str, value, *, allow_none: bool = False) -> np.ndarray:
    if value is None and allow_none:
        return np.empty((0, 2))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not an array of numbers") from exc
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2) of x, y in metres, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite coordinates; allowed: finite metres")
    return arr


def _nonneg(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if np.any(arr[~np.isnan(arr)] < 0):
        first = float(arr[~np.isnan(arr)][arr[~np.isnan(arr)] < 0][0])
        raise ValueError(f"{name}={first:g} is outside the allowed range [0, inf]")
    return arr


def nearest_node(site_xy_m, node_xy_m):
    """Distance to, and index of, the nearest node for every site.

    Parameters
    ----------
    site_xy_m : array_like, shape (n, 2)
        Site coordinates. [m]
    node_xy_m : array_like, shape (m, 2)
        Node coordinates (may be empty). [m]

    Returns
    -------
    distance_m : ndarray, shape (n,)
        Euclidean distance to the nearest node; ``inf`` when there are no nodes. [m]
    index : ndarray of int, shape (n,)
        Index into ``node_xy_m``; -1 when there are no nodes.
    """
    sites = _xy("site_xy_m", site_xy_m)
    nodes = _xy("node_xy_m", node_xy_m, allow_none=True)
    if nodes.shape[0] == 0 or sites.shape[0] == 0:
        return np.full(sites.shape[0], np.inf), np.full(sites.shape[0], -1, dtype=int)
    dist, idx = cKDTree(nodes).query(sites, k=1)
    return np.asarray(dist, dtype=np.float64), np.asarray(idx, dtype=int)


class BackhaulChoice(NamedTuple):
    """Backhaul per site (arrays of shape ``(n,)`` unless stated)."""

    option: np.ndarray              #: option name, or "none" if nothing is feasible
    capex_usd: np.ndarray           #: [USD] (fibre includes the per-km part); NaN if none
    opex_usd_per_year: np.ndarray   #: [USD/year]; NaN if none
    capacity_mbps: np.ndarray       #: [Mbit/s]; 0 if none
    lifetime_cost_usd: np.ndarray   #: [USD] capex + PV(opex); NaN if none
    distance_m: np.ndarray          #: [m] to the fibre node or donor used; NaN for satellite/none
    node_index: np.ndarray          #: index of that fibre node or donor; -1 otherwise
    capacity_exceeded: np.ndarray   #: bool, demand > capacity of the chosen option
    option_costs_usd: np.ndarray    #: [USD], shape (n, 5) in BACKHAUL_OPTIONS order; inf = infeasible
    feasible: np.ndarray            #: bool, shape (n, 5), feasible by distance/LOS (and capacity if required)


def choose_backhaul(site_xy_m, params: Mapping, *, fibre_node_xy_m=None, donor_xy_m=None,
                    los_to_donor=None, demand_mbps=None, require_capacity=False,
                    discount_rate=0.10, horizon_years=10) -> BackhaulChoice:
    """Cheapest feasible backhaul for every new site.

    Parameters
    ----------
    site_xy_m : array_like, shape (n, 2)
        New sites. [m]
    params : mapping
        The ``backhaul`` section of :func:`simulator.business.economics.load_cost_catalogue`: per
        option ``max_distance_m`` [m], ``capex_usd`` [USD], optional ``capex_usd_per_km``
        [USD/km], ``opex_usd_per_year`` [USD/year], ``capacity_mbps`` [Mbit/s], optional
        ``requires_los`` (bool).
    fibre_node_xy_m : array_like, shape (m, 2), optional, keyword-only
        Fibre points of presence. [m]
    donor_xy_m : array_like, shape (k, 2), optional, keyword-only
        Existing sites that can serve as relay/microwave donors. [m]
    los_to_donor : array_like of bool, shape (n,), optional, keyword-only
        Line of sight from each site to its NEAREST donor (from the terrain model). None:
        all links have line of sight (flat terrain).
    demand_mbps : array_like, shape (n,) or scalar, optional, keyword-only
        Busy-hour traffic per site, >= 0. None: no capacity check. [Mbit/s]
    require_capacity : bool, keyword-only
        Treat options that cannot carry the demand as infeasible.
    discount_rate : float, keyword-only
        For lifetime cost, in [0, 1]. [-]
    horizon_years : int, keyword-only
        For lifetime cost, >= 1. [years]

    Returns
    -------
    BackhaulChoice
        The chosen option's lifetime cost is never above any feasible option's.
    """
    sites = _xy("site_xy_m", site_xy_m)
    n = sites.shape[0]
    af = annuity_factor(discount_rate, horizon_years)
    d_fibre, i_fibre = nearest_node(sites, fibre_node_xy_m)
    d_donor, i_donor = nearest_node(sites, donor_xy_m)

    if los_to_donor is None:
        los = np.ones(n, dtype=bool)
    else:
        los = np.asarray(los_to_donor)
        if los.dtype != bool:
            raise ValueError("los_to_donor must be an array of bool (True = line of sight)")
        los = np.broadcast_to(los, (n,)) if los.ndim == 0 else los
        if los.shape != (n,):
            raise ValueError(f"los_to_donor must have shape ({n},), got {los.shape}")

    if demand_mbps is None:
        demand = np.zeros(n)
    else:
        demand = np.broadcast_to(_nonneg("demand_mbps", demand_mbps), (n,)).astype(np.float64)

    k = len(BACKHAUL_OPTIONS)
    costs = np.full((n, k), np.inf)
    feasible_dist = np.zeros((n, k), dtype=bool)
    capex = np.full((n, k), np.nan)
    opex = np.full(k, np.nan)
    capacity = np.zeros(k)
    dist_used = np.full((n, k), np.nan)
    idx_used = np.full((n, k), -1, dtype=int)

    for j, name in enumerate(BACKHAUL_OPTIONS):
        if name not in params:
            continue
        o = params[name]
        max_d = float(_nonneg(f"{name}.max_distance_m", o["max_distance_m"]))
        c0 = float(_nonneg(f"{name}.capex_usd", o["capex_usd"]))
        c_km = float(_nonneg(f"{name}.capex_usd_per_km", o.get("capex_usd_per_km", 0.0)))
        opex[j] = float(_nonneg(f"{name}.opex_usd_per_year", o["opex_usd_per_year"]))
        capacity[j] = float(_nonneg(f"{name}.capacity_mbps", o["capacity_mbps"]))
        needs_los = bool(o.get("requires_los", _DEFAULT_LOS[name]))
        target = _TARGET[name]
        if target is None:
            d = np.zeros(n)
            ok = np.ones(n, dtype=bool)  # satellite: available everywhere
        else:
            d = d_fibre if target == "fibre" else d_donor
            ok = d <= max_d
            dist_used[:, j] = np.where(np.isfinite(d), d, np.nan)
            idx_used[:, j] = i_fibre if target == "fibre" else i_donor
            if needs_los:
                ok &= los
        feasible_dist[:, j] = ok
        capex[:, j] = c0 + c_km * np.where(np.isfinite(d), d, 0.0) / 1000.0
        costs[:, j] = np.where(ok, capex[:, j] + opex[j] * af, np.inf)

    feasible = feasible_dist.copy()
    if require_capacity:
        enough = capacity[None, :] >= demand[:, None]
        with_cap = feasible_dist & enough
        has_any = with_cap.any(axis=1)
        feasible = np.where(has_any[:, None], with_cap, feasible_dist)
    option_costs = np.where(feasible, costs, np.inf)

    none = ~feasible.any(axis=1)
    best = np.argmin(option_costs, axis=1)  # ties -> first in BACKHAUL_OPTIONS order
    rows = np.arange(n)
    names = np.asarray(BACKHAUL_OPTIONS, dtype=object)[best]
    names = np.where(none, "none", names).astype(object)
    chosen_capex = np.where(none, np.nan, capex[rows, best])
    chosen_opex = np.where(none, np.nan, opex[best])
    chosen_cap = np.where(none, 0.0, capacity[best])
    life = np.where(none, np.nan, option_costs[rows, best])
    dist = np.where(none, np.nan, dist_used[rows, best])
    node = np.where(none, -1, idx_used[rows, best])
    exceeded = demand > chosen_cap if demand_mbps is not None else np.zeros(n, dtype=bool)
    return BackhaulChoice(names, chosen_capex, chosen_opex, chosen_cap, life, dist, node,
                          exceeded, option_costs, feasible)
