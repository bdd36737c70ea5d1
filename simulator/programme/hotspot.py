"""Satellite community hotspots: a LEO terminal and a Wi-Fi access point in one village.

Pure models (numpy, scipy's k-d tree; no I/O). A hotspot at a location serves the people in
the populated cells whose centre lies within ``wifi_radius_m`` of it; it covers no other
village. Terminals are added until the busy-hour demand of those people fits:

.. math:: n = \\max\\left(1, \\left\\lceil D / C \\right\\rceil\\right), \\qquad
          D = P \\, s_{busy} \\, r_{user}

(``P`` people served, ``s_busy`` busy-hour active share, ``r_user`` Mbit/s per active user:
the demand ``CostBasis.demand_mbps`` sizes cell-site backhaul with; ``C`` capacity per
terminal). Capex is ``site_capex + n x terminal_capex``; opex is ``maintenance + n x 12 x
subscription``; the TCO adds the opex over the horizon with the annuity factor of
:func:`simulator.business.economics.annuity_factor`, as for cell sites. Default values and
their sources: ``satellite_hotspot`` in ``simulator/data/costs.yaml``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .._checks import check_range
from ..business import economics as ec

__all__ = ["HOTSPOT_KEYS", "hotspot_params", "hotspot_coverage", "hotspot_costs"]

#: Keys of a hotspot option (``programme.options.<name>``) and of the catalogue section.
HOTSPOT_KEYS = ("terminal_capex_usd", "subscription_usd_per_month", "capacity_mbps",
                "site_capex_usd", "maintenance_usd_per_year", "wifi_radius_m")


def hotspot_params(catalogue: dict, option) -> dict:
    """The option's values, the catalogue's ``satellite_hotspot`` where the option is silent.

    Parameters
    ----------
    catalogue : dict
        :func:`simulator.business.economics.load_cost_catalogue` (values only).
    option : ProgrammeOptionSpec or mapping

    Returns
    -------
    dict
        The :data:`HOTSPOT_KEYS`, as floats.
    """
    base = catalogue["satellite_hotspot"]
    out = {}
    for k in HOTSPOT_KEYS:
        v = option.get(k) if isinstance(option, dict) else getattr(option, k, None)
        out[k] = float(base[k] if v is None else v)
    return out


def hotspot_coverage(cell_xy_m, location_xy_m, radius_m) -> sp.csr_array:
    """Which cells each hotspot serves: the cells within ``radius_m`` of its location.

    Parameters
    ----------
    cell_xy_m : array_like, shape (m, 2)
        Cell centres (the coverage matrix's columns) [m].
    location_xy_m : array_like, shape (n, 2)
        Hotspot positions [m].
    radius_m : float
        Wi-Fi radius, > 0 [m].

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (n, m)
        Row ``i``: the cells whose centre is within ``radius_m`` of location ``i`` (the cell
        holding the location always counts, even when the radius is below half a cell).
    """
    check_range("radius_m", radius_m, 0.0, np.inf, lo_open=True)
    cells = np.asarray(cell_xy_m, dtype=np.float64).reshape(-1, 2)
    locs = np.asarray(location_xy_m, dtype=np.float64).reshape(-1, 2)
    n, m = locs.shape[0], cells.shape[0]
    if n == 0 or m == 0:
        return sp.csr_array((n, m), dtype=np.bool_)
    tree = cKDTree(cells)
    hits = tree.query_ball_point(locs, r=float(radius_m))
    _, nearest = tree.query(locs, k=1)
    rows = []
    for i, h in enumerate(hits):
        h = np.asarray(h, dtype=np.int64)
        if h.size == 0:
            h = np.array([nearest[i]], dtype=np.int64)
        rows.append(np.sort(h))
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([r.size for r in rows])
    indices = np.concatenate(rows).astype(np.int32)
    a = sp.csr_array((np.ones(indices.size, dtype=np.bool_), indices, indptr), shape=(n, m))
    a.has_sorted_indices = True
    return a


def hotspot_costs(people_served, params: dict, *, demand_mbps_per_person: float,
                  discount_rate: float, horizon_years: int) -> dict:
    """Terminals, capex, opex and TCO of hotspots serving ``people_served``.

    Parameters
    ----------
    people_served : array_like, shape (n,)
        People each hotspot serves, >= 0 [people].
    params : dict
        :func:`hotspot_params`.
    demand_mbps_per_person : float
        Busy-hour demand per person served, >= 0 (busy-hour active share x Mbit/s per
        active user) [Mbit/s].
    discount_rate : float
        In [0, 1] [-].
    horizon_years : int
        >= 1 [years].

    Returns
    -------
    dict of ndarray, shape (n,)
        ``terminals``, ``demand_mbps``, ``capacity_mbps``, ``capex_usd``,
        ``opex_usd_per_year``, ``tco_usd``.

    Raises
    ------
    ValueError
        A negative price or head count, a capacity <= 0, a hotspot that costs nothing.
    """
    people = np.asarray(people_served, dtype=np.float64)
    check_range("people_served", people, 0.0, np.inf)
    for k in ("terminal_capex_usd", "subscription_usd_per_month", "site_capex_usd",
              "maintenance_usd_per_year"):
        check_range(k, params[k], 0.0, np.inf)
    check_range("capacity_mbps", params["capacity_mbps"], 0.0, np.inf, lo_open=True)
    check_range("demand_mbps_per_person", demand_mbps_per_person, 0.0, np.inf)
    if (params["terminal_capex_usd"] + params["subscription_usd_per_month"]
            + params["site_capex_usd"] + params["maintenance_usd_per_year"]) <= 0:
        raise ValueError("a satellite hotspot with no cost (terminal, subscription, site and "
                         "maintenance all 0); allowed: at least one of them > 0")
    demand = people * float(demand_mbps_per_person)
    terminals = np.maximum(1.0, np.ceil(demand / params["capacity_mbps"] - 1e-9))
    capex = params["site_capex_usd"] + terminals * params["terminal_capex_usd"]
    opex = params["maintenance_usd_per_year"] + terminals * 12.0 * params[
        "subscription_usd_per_month"]
    tco = np.asarray(ec.tco_usd(capex, opex, discount_rate, horizon_years), dtype=np.float64)
    return {"terminals": terminals.astype(np.int64), "demand_mbps": demand,
            "capacity_mbps": terminals * params["capacity_mbps"], "capex_usd": capex,
            "opex_usd_per_year": opex, "tco_usd": tco.reshape(people.shape)}
