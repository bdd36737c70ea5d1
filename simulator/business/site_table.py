"""Per-site truth: one row per site with where it is, its load, who it leaves out, its costs.

``sites.geojson`` (:func:`simulator.io.vectors.write_sites_geojson`) and the report's
per-site table (:mod:`simulator.report`) are built from :func:`site_columns`, so they say
the same; the summary's ``sites_over_capacity`` names its sites with
:func:`over_capacity_names`. Works on an in-memory :class:`~simulator.pipeline.runner.
ScenarioResult` and on a tiled :class:`~simulator.pipeline.distributed.TiledResult` alike
(both carry the sites, the people each serves and the busy-hour load per site).

Busy-hour load = offered demand / capacity (:func:`simulator.radio.capacity.site_load`);
above 1 the site is over capacity and serves each user ``1 / load`` of what they ask, so
``people_unserved = people served x (1 - 1 / load)`` (rounded to whole people).
"""

from __future__ import annotations

import numpy as np

__all__ = ["over_capacity_names", "people_unserved", "requested_new_sites", "site_columns",
           "site_load_of"]


def site_load_of(result) -> np.ndarray | None:
    """Busy-hour load per site (demand / capacity) of a result, None without capacity data."""
    load = getattr(result, "site_load", None)           # TiledResult: an array
    if load is None:
        sv = getattr(result, "serving", None)
        sl = getattr(sv, "site_load", None) if sv is not None else None
        load = None if sl is None else sl.load
    return None if load is None else np.asarray(load, dtype=np.float64)


def people_unserved(people_served, load) -> np.ndarray:
    """People each site cannot serve at the busy hour: ``served x (1 - 1/load)`` for load > 1.

    Parameters
    ----------
    people_served : array_like, shape (n,)
        People covered whose best server is each site [people].
    load : array_like, shape (n,) or None
        Busy-hour load [-]; None gives zeros.

    Returns
    -------
    ndarray of int64
    """
    served = np.asarray(people_served, dtype=np.float64)
    if load is None:
        return np.zeros(served.shape, np.int64)
    ld = np.asarray(load, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(ld > 1.0, 1.0 - 1.0 / ld, 0.0)
    return np.rint(served * share).astype(np.int64)


def over_capacity_names(names, load) -> list[str]:
    """Names of the sites whose busy-hour load exceeds 1, most loaded first."""
    if load is None:
        return []
    ld = np.asarray(load, dtype=np.float64)
    idx = np.flatnonzero(ld > 1.0)
    idx = idx[np.argsort(-ld[idx], kind="stable")]
    return [str(names[i]) for i in idx]


def site_columns(result) -> dict[str, list | np.ndarray]:
    """Per-site columns of a run, in site order (JSON-ready numbers).

    Keys: ``name``, ``station_type``, ``status``, ``lon``, ``lat`` (WGS 84 degrees),
    ``people_served``, ``busy_hour_load`` (NaN without capacity data), ``over_capacity``,
    ``people_unserved``; with the business result also ``people_connected``,
    ``income_usd_per_month``, ``affordability_share``, ``binding_barrier``, ``backhaul``,
    ``power``, ``capex_usd``, ``opex_usd_per_year``.
    """
    from pyproj import Transformer

    sites = result.sites
    n = len(sites)
    x = np.asarray(sites.x_m, dtype=np.float64)
    y = np.asarray(sites.y_m, dtype=np.float64)
    if n:
        lon, lat = Transformer.from_crs(result.grid.crs, "EPSG:4326",
                                        always_xy=True).transform(x, y)
    else:
        lon, lat = np.zeros(0), np.zeros(0)
    served = np.asarray(result.people_served_per_site, dtype=np.int64)
    load = site_load_of(result)
    cols: dict = {
        "name": list(sites.names),
        "station_type": list(sites.station),
        "status": ["existing" if e else "new" for e in sites.existing],
        "build_year": np.asarray(sites.build_year, dtype=np.int64),
        "lon": np.round(np.atleast_1d(lon), 7),
        "lat": np.round(np.atleast_1d(lat), 7),
        "people_served": served,
        "busy_hour_load": (np.round(load, 4) if load is not None else np.full(n, np.nan)),
        "over_capacity": (load > 1.0) if load is not None else np.zeros(n, bool),
        "people_unserved": people_unserved(served, load),
    }
    b = getattr(result, "business", None)
    if b is not None:
        cols.update({
            "people_connected": np.rint(b.connected_by_year[:, -1]).astype(np.int64),
            "income_usd_per_month": (np.round(b.income_usd_per_month, 2)
                                     if b.income_usd_per_month is not None else np.full(n, np.nan)),
            "affordability_share": (np.round(b.affordability_by_site, 4)
                                    if b.affordability_by_site is not None else np.full(n, np.nan)),
            "binding_barrier": ([str(v) for v in b.binding_by_site]
                                if b.binding_by_site is not None else [""] * n),
            "backhaul": [str(o) for o in b.backhaul],
            "power": [str(o) for o in b.power],
            "capex_usd": np.round(b.capex_usd, 2),
            "opex_usd_per_year": np.round(b.opex_usd_per_year, 2),
        })
    return cols


def requested_new_sites(scenario) -> int:
    """New sites the scenario asks for: each group's ``count`` (its positions for
    ``placement: list``). A run can place fewer (``largest_settlements`` runs out of
    settlements far enough from the others); the summary's ``sites_new`` says how many."""
    n = 0
    for g in scenario.sites.new:
        n += len(g.positions or []) if g.placement == "list" else int(g.count)
    return n
