"""Relay chains: backhaul trees of new sites fed by donors, with hop limit and shared capacity.

Pure, vectorised models (no I/O). A new site whose backhaul is an LTE relay (the RuralStar
RRN) takes it from a *donor*: an existing site, or another new site that itself has fibre or
microwave (a *root*) or a relay (a chain). :func:`backhaul_tree` builds the forest of these
links for all new sites at once, then checks that every link and every donor can carry the
busy-hour demand that flows through it, repairs what cannot, and costs each site's backhaul
from the ``backhaul`` section of the cost catalogue (``simulator/data/costs.yaml``; the
``relay_chain`` section holds the hop limit, donor capacities and the relay link budget).

Algorithm
---------
1. **Direct option** of every site, as :func:`simulator.business.backhaul.choose_backhaul`
   would choose among ``fibre`` (nearest fibre node within reach, capex per km), ``microwave``
   (the nearest existing site within reach that passes the Fresnel test below at
   ``microwave_frequency_mhz``; up to ``max_neighbours`` are tried, nearest first) and
   ``satellite``: the cheapest by lifetime cost :math:`C_0 + c_{km} d/1000 + O\\,a(r, n)`.
2. **Candidate relay links**: for every site its ``max_neighbours`` nearest existing sites
   and nearest new sites within the longest relay range (``scipy.spatial.cKDTree``). A link
   is ``relay_los`` when it is within ``relay_los.max_distance_m`` and passes the link test,
   else ``relay_nlos`` when within ``relay_nlos.max_distance_m`` (no test: the option works
   without line of sight), else not a candidate. Link tests, ``method``:

   * ``"los_fresnel"``: the terrain between the antennas, sampled as
     :func:`simulator.region.terrain.link_line_of_sight` samples it (every half cell,
     bilinear, lowered by the effective-Earth bulge :math:`d_1 d_2 / (2 k R_e)`), stays at
     least ``fresnel_clearance`` first-Fresnel-zone radii
     :math:`r_1 = \\sqrt{\\lambda d_1 d_2 / d}` below the straight line between the
     antennas (:func:`fresnel_clearance`; 0.6 is the usual microwave rule);
   * ``"itm"``: the ITM point-to-point loss (:func:`simulator.radio.propagation.itm.
     itm_p2p_loss_db`, profile every grid step, :func:`relay_profiles`) leaves a margin
     :math:`M = P_{tx} + G_{tx} + G_{rx} - S_{rx} - F - L_{ITM} \\ge 0` (relay link budget
     of ``relay_chain``); the link is ``relay_los`` when it also passes the Fresnel test
     above, ``relay_nlos`` otherwise (each within its option's range). (The ITM's own
     ``mode`` is not used for this: it says "line of sight" whenever the path is shorter
     than the smooth-Earth horizon distance, even across a ridge.)

   Without a DEM every link within range is feasible (``relay_los`` first).
3. **Forest**: breadth first from the roots, level by level up to ``hop_limit`` relay hops,
   so every site gets the fewest hops it can have; among feeders at the same level the
   ``relay_los`` link wins over ``relay_nlos``, then the shortest, then an existing site
   over a new one. Roots are the existing
   sites and the new sites that can donate (``can_donate``) whose direct option is fibre or
   microwave and cheaper than a relay. A site takes a relay only when the relay is cheaper
   than its direct option (or it must relay, ``require_relay``). New fibre/microwave sites
   that no relay reached become roots too and the search runs once more from all roots.
   Sites no relay reaches within the hop limit get their direct option. Only sites with
   ``can_donate`` feed other sites.
4. **Capacity**: demand is summed up each tree (``carried`` = own + subtree). Three limits:
   a site's own link (``capacity_mbps`` of its option), a new site as a donor (the demand of
   its subtree must fit ``site_capacity_mbps``), an existing donor (the relay demand it feeds
   must fit ``donor_capacity_mbps``; microwave links have their own radios and do not load
   it). A site whose chain passes an overloaded link or donor is flagged.
5. **Repair**: while a limit is exceeded, top of the chains first, one subtree root per
   chain and round gets its own backhaul from ``upgrade_options`` (microwave to an existing
   site with a Fresnel-clear path, else satellite), the cheapest option that can carry its
   subtree. The subtree root chosen is the site whose link is overloaded, or, for an
   overloaded donor, the child it feeds that sheds the excess at the lowest cost (then the
   largest). A site is upgraded at most once; sites that must relay are never upgraded; an
   overload no upgrade can fix stays flagged.

Coordinates are metres in a projected CRS; the DEM follows the grid convention of
:mod:`simulator.region.terrain` (north-west corner, rows southwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from ..business import economics as ec
from ..region.terrain import EARTH_RADIUS_M

__all__ = ["BackhaulTree", "backhaul_tree", "fresnel_clearance", "relay_link_budget_db",
           "relay_profiles", "tree_costs_replace"]

RELAY_LINKS = ("relay_los", "relay_nlos")
DIRECT_LINKS = ("fibre", "microwave", "satellite")
_C = 299_792_458.0
_METHODS = ("los_fresnel", "itm")
_SAMPLES_PER_BLOCK = 1_000_000
_EPS = 1e-9


# ----------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackhaulTree:
    """The backhaul of every new site after the relay chains (arrays of shape ``(n,)``).

    Attributes
    ----------
    parent : ndarray of int
        Index of the new site feeding this one; -1 when fed by an existing site or when the
        site has its own (fibre, microwave, satellite) backhaul.
    donor : ndarray of int
        Relay sites: index (into the donor arrays) of the existing site at the root of the
        chain; -1 when the chain is rooted at a new site with fibre / microwave / satellite,
        and for those sites themselves.
    hops : ndarray of int
        Relay hops from the chain's root (1 = fed directly by the root); 0 for fibre,
        microwave and satellite sites.
    link : ndarray of str
        ``relay_los``, ``relay_nlos``, ``microwave``, ``fibre``, ``satellite`` or ``none``
        (no option feasible).
    link_distance_m : ndarray
        Length of the site's own link (to its feeder, the microwave far end or the fibre
        node); NaN for satellite and none [m].
    link_margin_db : ndarray
        ``method="itm"``, relay links: link budget minus the ITM loss [dB]; NaN otherwise.
    link_clearance : ndarray
        Relay and microwave links over a DEM (both methods): smallest terrain clearance
        below the line between the antennas, in first-Fresnel-zone radii at the link's
        frequency; NaN without a DEM and for fibre, satellite, none [-].
    carried_mbps : ndarray
        Busy-hour demand through the site's own link: its own plus its subtree's [Mbit/s].
    capacity_mbps : ndarray
        Capacity of that link (0 for none) [Mbit/s].
    capacity_exceeded : ndarray of bool
        After the repair: the chain through this site's link, a donor new site or the
        existing donor cannot carry the demand.
    overload_found : ndarray of bool
        The same flag on the tree as first built, before any upgrade.
    upgrade : ndarray of str
        ``""``, or the option (``microwave``, ``satellite``) that replaced this site's relay
        to fix an overload.
    microwave_donor : ndarray of int
        Microwave sites: the existing site at the far end; -1 otherwise.
    capex_usd, opex_usd_per_year : ndarray
        Backhaul cost of each site (capex incl. the fibre per-km part; NaN for none)
        [USD], [USD/year].
    donor_load_mbps, donor_capacity_mbps : ndarray, shape (n_donors,)
        Relay demand each existing site feeds, and what it can feed, after the repair
        [Mbit/s].
    """

    parent: np.ndarray
    donor: np.ndarray
    hops: np.ndarray
    link: np.ndarray
    link_distance_m: np.ndarray
    link_margin_db: np.ndarray
    link_clearance: np.ndarray
    carried_mbps: np.ndarray
    capacity_mbps: np.ndarray
    capacity_exceeded: np.ndarray
    overload_found: np.ndarray
    upgrade: np.ndarray
    microwave_donor: np.ndarray
    capex_usd: np.ndarray
    opex_usd_per_year: np.ndarray
    donor_load_mbps: np.ndarray
    donor_capacity_mbps: np.ndarray

    def __len__(self) -> int:
        return int(self.parent.size)

    def links(self, site_xy_m, donor_xy_m) -> list[tuple[tuple[float, float],
                                                          tuple[float, float], int]]:
        """Relay and microwave links as line segments (for GeoJSON or map lines).

        Parameters
        ----------
        site_xy_m : array_like, shape (n, 2)
            The new sites, as given to :func:`backhaul_tree` [m].
        donor_xy_m : array_like, shape (k, 2)
            The existing sites, as given to :func:`backhaul_tree` [m].

        Returns
        -------
        list of ((x0, y0), (x1, y1), i)
            From the feeder (new site, existing site or microwave far end) to site ``i``
            [m]. Fibre, satellite and none sites have no segment.
        """
        sites = np.asarray(site_xy_m, dtype=np.float64).reshape(-1, 2)
        donors = np.asarray(donor_xy_m, dtype=np.float64).reshape(-1, 2)
        if sites.shape[0] != len(self):
            raise ValueError(f"site_xy_m has {sites.shape[0]} rows for a tree of {len(self)} "
                             "sites; allowed: the sites the tree was built for")
        out = []
        for i in range(len(self)):
            name = self.link[i]
            if name in RELAY_LINKS:
                p = int(self.parent[i])
                start = sites[p] if p >= 0 else donors[int(self.donor[i])]
            elif name == "microwave" and self.microwave_donor[i] >= 0:
                start = donors[int(self.microwave_donor[i])]
            else:
                continue
            out.append(((float(start[0]), float(start[1])),
                        (float(sites[i, 0]), float(sites[i, 1])), i))
        return out


# ----------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------
def _xy(name, value) -> np.ndarray:
    if value is None:
        return np.empty((0, 2))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not an array of numbers; allowed: shape (n, 2) in "
                         "metres") from exc
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} has shape {arr.shape}; allowed: (n, 2) of x, y in metres")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has NaN or infinite coordinates; allowed: finite metres")
    return arr


def _per_site(name, value, n, *, lo=0.0, dtype=np.float64) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not numeric; allowed: numbers >= {lo:g}") from exc
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}; allowed: a scalar or shape ({n},)")
    if dtype is not bool:
        bad = ~np.isfinite(arr) | (arr < lo)
        if bad.any():
            raise ValueError(f"{name}={float(arr[bad][0]):g} is outside the allowed range "
                             f"[{lo:g}, inf)")
    return arr.copy()


def _number(name, value, lo=None, hi=None, *, lo_open=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a number") from exc
    if np.isnan(v) or (lo is not None and (v <= lo if lo_open else v < lo)) or \
            (hi is not None and v > hi):
        left = "(" if lo_open else "["
        raise ValueError(f"{name}={v:g} is outside the allowed range {left}"
                         f"{'-inf' if lo is None else f'{lo:g}'}, "
                         f"{'inf' if hi is None else f'{hi:g}'}]")
    return v


def _option(params: Mapping, name: str) -> dict | None:
    o = params.get(name)
    if o is None:
        return None
    return {"max_distance_m": _number(f"{name}.max_distance_m", o["max_distance_m"], 0.0),
            "capex_usd": _number(f"{name}.capex_usd", o["capex_usd"], 0.0),
            "capex_usd_per_km": _number(f"{name}.capex_usd_per_km",
                                        o.get("capex_usd_per_km", 0.0), 0.0),
            "opex_usd_per_year": _number(f"{name}.opex_usd_per_year",
                                         o["opex_usd_per_year"], 0.0),
            "capacity_mbps": _number(f"{name}.capacity_mbps", o["capacity_mbps"], 0.0)}


def relay_link_budget_db(params: Mapping) -> float:
    """Loss a relay link may have: :math:`P_{tx} + G_{tx} + G_{rx} - S_{rx} - F` [dB].

    Parameters
    ----------
    params : mapping
        ``relay_tx_power_dbm`` [dBm], ``relay_tx_antenna_gain_dbi``,
        ``relay_rx_antenna_gain_dbi`` [dBi], ``relay_rx_sensitivity_dbm`` [dBm],
        ``relay_fade_margin_db`` [dB] (the ``relay_chain`` catalogue section).
    """
    keys = ("relay_tx_power_dbm", "relay_tx_antenna_gain_dbi", "relay_rx_antenna_gain_dbi",
            "relay_rx_sensitivity_dbm", "relay_fade_margin_db")
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"params has no {', '.join(missing)}; allowed: the relay_chain "
                         "section of the cost catalogue")
    v = {k: _number(k, params[k]) for k in keys}
    _number("relay_fade_margin_db", v["relay_fade_margin_db"], 0.0)
    return (v["relay_tx_power_dbm"] + v["relay_tx_antenna_gain_dbi"]
            + v["relay_rx_antenna_gain_dbi"] - v["relay_rx_sensitivity_dbm"]
            - v["relay_fade_margin_db"])


# ----------------------------------------------------------------------------------------
# link tests on the terrain
# ----------------------------------------------------------------------------------------
def _dem(dem) -> np.ndarray:
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"dem has shape {z.shape}; allowed: 2-D with both sides >= 2")
    if not np.all(np.isfinite(z)):
        raise ValueError("dem has NaN or infinite elevations; allowed: finite metres")
    return z


def _reach(max_distance_m: float) -> float:
    """cKDTree's ``distance_upper_bound`` is exclusive: include a site exactly at the limit."""
    return float(np.nextafter(max_distance_m, np.inf)) * (1.0 + 1e-12)


def _blocks(counts: np.ndarray, limit: int):
    """Consecutive index ranges whose counts add up to about ``limit`` (at least one each)."""
    n = counts.size
    s = 0
    csum = np.cumsum(counts)
    while s < n:
        base = csum[s - 1] if s else 0
        e = int(np.searchsorted(csum, base + limit, side="right"))
        e = min(n, max(e, s + 1))
        yield s, e
        s = e


def fresnel_clearance(dem, x0_m, y0_m, resolution_m, a_xy_m, a_height_m, b_xy_m, b_height_m,
                      *, frequency_mhz, k_factor=4.0 / 3.0) -> np.ndarray:
    r"""Smallest terrain clearance below each link, in first-Fresnel-zone radii.

    Sampling as :func:`simulator.region.terrain.link_line_of_sight`: ``m = max(2,
    ceil(d / (res/2)) + 1)`` points from A to B, ground interpolated bilinearly between cell
    centres (``scipy.ndimage.map_coordinates``, order 1, edge values outside), raised by the
    effective-Earth bulge :math:`b = d_1 d_2 / (2 k R_e)`. At every interior sample the
    clearance is

    .. math:: c = \frac{z_{ray} - (z_{ground} + b)}{r_1}, \qquad
              r_1 = \sqrt{\frac{\lambda d_1 d_2}{d}},

    with the ray the straight line from ``ground(A) + h_A`` to ``ground(B) + h_B``. The
    link has line of sight when ``min c >= 0`` and ``q`` Fresnel clearance when
    ``min c >= q`` (the conditions of ``link_line_of_sight`` with ``clearance_fresnel=q``).
    Vectorised over links in blocks of about a million samples.

    Parameters
    ----------
    dem : array_like, shape (rows, cols)
        Ground elevation [m].
    x0_m, y0_m, resolution_m : float
        North-west corner and cell size of the DEM [m].
    a_xy_m, b_xy_m : array_like, shape (n, 2)
        Link end points [m].
    a_height_m, b_height_m : array_like, shape (n,) or scalar
        Antenna heights above ground [m].
    frequency_mhz : float, keyword-only
        Link frequency, > 0 [MHz].
    k_factor : float, keyword-only
        Effective Earth-radius factor, > 0 (``numpy.inf``: flat Earth) [-].

    Returns
    -------
    ndarray, shape (n,)
        Minimum clearance [first-Fresnel-zone radii]; ``inf`` for links with no interior
        sample (shorter than a cell).
    """
    z = _dem(dem)
    res = _number("dem_resolution_m", resolution_m, 0.0, lo_open=True)
    k = _number("k_factor", k_factor, 0.0, lo_open=True)
    f = _number("frequency_mhz", frequency_mhz, 0.0, lo_open=True)
    a, b = _xy("a_xy_m", a_xy_m), _xy("b_xy_m", b_xy_m)
    n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError(f"b_xy_m has {b.shape[0]} rows for {n} links in a_xy_m")
    ha = np.broadcast_to(np.asarray(a_height_m, dtype=np.float64), (n,))
    hb = np.broadcast_to(np.asarray(b_height_m, dtype=np.float64), (n,))
    out = np.full(n, np.inf)
    if n == 0:
        return out
    lam = _C / (f * 1e6)
    d_all = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    m_all = np.maximum(2, np.ceil(d_all / (res / 2.0)).astype(np.int64) + 1)
    for s, e in _blocks(m_all, _SAMPLES_PER_BLOCK):
        m = m_all[s:e]
        d = d_all[s:e]
        starts = np.concatenate(([0], np.cumsum(m)[:-1]))
        seg = np.repeat(np.arange(e - s), m)
        j = np.arange(int(m.sum())) - starts[seg]
        t = j / (m[seg] - 1.0)
        x = a[s:e, 0][seg] + t * (b[s:e, 0] - a[s:e, 0])[seg]
        y = a[s:e, 1][seg] + t * (b[s:e, 1] - a[s:e, 1])[seg]
        col = (x - x0_m) / res - 0.5
        row = (y0_m - y) / res - 0.5
        ground = ndimage.map_coordinates(z, [row, col], order=1, mode="nearest")
        g0 = ground[starts] + ha[s:e]
        g1 = ground[starts + m - 1] + hb[s:e]
        di = t * d[seg]
        rest = d[seg] - di
        bulge = di * rest / (2.0 * k * EARTH_RADIUS_M) if np.isfinite(k) else 0.0
        ray = g0[seg] + t * (g1 - g0)[seg]
        interior = (j > 0) & (j < m[seg] - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r1 = np.sqrt(lam * di * rest / d[seg])
            ratio = np.where(interior, (ray - (ground + bulge)) / r1, np.inf)
        out[s:e] = np.minimum.reduceat(ratio, starts)
    return out


def relay_profiles(dem, x0_m, y0_m, resolution_m, a_xy_m, b_xy_m):
    """Terrain profiles from A to B for the ITM, one sample every grid step.

    ``n = max(2, ceil(d / res) + 1)`` equally spaced points from A to B inclusive (spacing
    ``d / (n - 1)``, at least 1 m of path), ground interpolated bilinearly between cell
    centres as :func:`fresnel_clearance` does; rows are NaN-padded to the longest.

    Returns
    -------
    elevation_m : ndarray, shape (n_links, n_max) [m]
    spacing_m : ndarray, shape (n_links,) [m]
    n_points : ndarray of int, shape (n_links,)
    """
    z = _dem(dem)
    res = _number("dem_resolution_m", resolution_m, 0.0, lo_open=True)
    a, b = _xy("a_xy_m", a_xy_m), _xy("b_xy_m", b_xy_m)
    d = np.maximum(np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]), 1.0)
    n_pts = np.maximum(2, np.ceil(d / res - 1e-9).astype(np.int64) + 1)
    width = int(n_pts.max()) if n_pts.size else 2
    idx = np.arange(width)[None, :]
    t = idx / (n_pts[:, None] - 1.0)
    x = a[:, :1] + t * (b[:, :1] - a[:, :1])
    y = a[:, 1:] + t * (b[:, 1:] - a[:, 1:])
    elev = ndimage.map_coordinates(z, [(y0_m - y) / res - 0.5, (x - x0_m) / res - 0.5],
                                   order=1, mode="nearest")
    elev[idx >= n_pts[:, None]] = np.nan
    return elev, d / (n_pts - 1), n_pts


def _itm_margin(dem, x0, y0, res, a, ha, b, hb, frequency_mhz, budget_db):
    """ITM margin of each link [dB], profiles in blocks of similar length."""
    from ..radio.propagation.itm import itm_p2p_loss_db

    n = a.shape[0]
    margin = np.full(n, np.nan)
    if n == 0:
        return margin
    d = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    order = np.argsort(d, kind="stable")
    n_pts = np.maximum(2, np.ceil(np.maximum(d[order], 1.0) / res - 1e-9).astype(np.int64) + 1)
    s = 0
    while s < n:
        # rows x width of the block (sorted by length: the last row is the widest)
        size = (np.arange(1, n - s + 1)) * n_pts[s:]
        e = s + max(1, int(np.searchsorted(size, _SAMPLES_PER_BLOCK, side="right")))
        sel = order[s:e]
        elev, spacing, npts = relay_profiles(dem, x0, y0, res, a[sel], b[sel])
        loss = itm_p2p_loss_db(elev, spacing, ha[sel], hb[sel], frequency_mhz, n_points=npts)
        margin[sel] = budget_db - np.asarray(loss, dtype=np.float64)
        s = e
    return margin


# ----------------------------------------------------------------------------------------
# tree helpers
# ----------------------------------------------------------------------------------------
def _bfs(n, k, src, dst, dist, kind, usable, sources, can_feed, hop_limit):
    """Fewest-hop forest: level and chosen edge of every site (-1 when not reached)."""
    level = np.full(n + k, -1, dtype=np.int64)
    level[n:] = 0
    level[:n][sources] = 0
    feeds = np.concatenate([can_feed, np.ones(k, dtype=bool)])
    edge = np.full(n, -1, dtype=np.int64)
    for h in range(1, hop_limit + 1):
        front = (level == h - 1) & feeds
        m = usable & front[src] & (level[dst] < 0)
        if not m.any():
            break
        e = np.flatnonzero(m)
        e = e[np.lexsort((src[e] < n, dist[e], kind[e], dst[e]))]  # ties: existing first
        first = np.concatenate(([True], dst[e][1:] != dst[e][:-1]))
        e = e[first]
        level[dst[e]] = h
        edge[dst[e]] = e
    return level[:n], edge


def _hops_and_roots(parent, is_relay, feed_donor, n):
    """Relay hops and chain root (site index, or n + donor index) of every site."""
    hops = np.where(is_relay, 1, 0).astype(np.int64)
    root = np.where(is_relay & (parent < 0), n + feed_donor, np.arange(n))
    done = ~is_relay | (parent < 0)
    root = np.where(done, root, -1)
    for _ in range(n + 1):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        p = parent[todo]
        ready = done[p]
        c, p = todo[ready], p[ready]
        hops[c] = hops[p] + 1
        root[c] = root[p]
        done[c] = True
    return hops, root


def _evaluate(parent, is_relay, feed_donor, hops, demand, link_cap, site_cap, donor_cap):
    """Carried demand, donor loads and overloads of a tree."""
    n = parent.size
    carried = demand.astype(np.float64).copy()
    if n:
        for h in range(int(hops.max()), 0, -1):
            c = np.flatnonzero((hops == h) & (parent >= 0))
            if c.size:
                np.add.at(carried, parent[c], carried[c])
    child_load = carried - demand
    direct = is_relay & (parent < 0) & (feed_donor >= 0)
    donor_load = np.bincount(feed_donor[direct], weights=carried[direct],
                             minlength=donor_cap.size).astype(np.float64)
    link_over = carried > link_cap + _EPS
    node_over = child_load > site_cap + _EPS
    donor_over = donor_load > donor_cap + _EPS
    flag = link_over.copy()
    if n:
        d_flag = direct.copy()
        d_flag[direct] = donor_over[feed_donor[direct]]
        flag |= d_flag
        for h in range(1, int(hops.max()) + 1):   # top down: a parent is done first
            c = np.flatnonzero((hops == h) & (parent >= 0))
            p = parent[c]
            flag[c] |= flag[p] | node_over[p]
    return carried, child_load, donor_load, link_over, node_over, donor_over, flag


# ----------------------------------------------------------------------------------------
# the tree
# ----------------------------------------------------------------------------------------
def backhaul_tree(site_xy_m, site_height_m, demand_mbps, *, can_donate, site_capacity_mbps,
                  donor_xy_m, donor_height_m, donor_capacity_mbps, params,
                  fibre_node_xy_m=None, dem=None, dem_origin_m=(0.0, 0.0),
                  dem_resolution_m=1.0, k_factor=4.0 / 3.0, hop_limit=None,
                  method="los_fresnel", frequency_mhz=None, require_relay=False,
                  max_neighbours=16, discount_rate=0.10, horizon_years=10) -> BackhaulTree:
    """Relay chains and backhaul of new sites: forest, capacity check, repair, costs.

    See the module docstring for the algorithm.

    Parameters
    ----------
    site_xy_m : array_like, shape (n, 2)
        New sites [m].
    site_height_m : array_like, shape (n,) or scalar
        Their antenna heights above ground, >= 0 (ITM: >= 0.5) [m].
    demand_mbps : array_like, shape (n,) or scalar
        Busy-hour backhaul demand of each site's own users, >= 0 [Mbit/s].
    can_donate : array_like of bool, shape (n,) or scalar, keyword-only
        Which new sites may feed others.
    site_capacity_mbps : array_like, shape (n,) or scalar, keyword-only
        What each new site can pass on to the sites it feeds, >= 0 [Mbit/s].
    donor_xy_m : array_like, shape (k, 2), keyword-only
        Existing sites (relay and microwave donors) [m].
    donor_height_m, donor_capacity_mbps : array_like, shape (k,) or scalar, keyword-only
        Their antenna heights [m]; the relay demand each can feed, >= 0 [Mbit/s].
    params : mapping, keyword-only
        The ``backhaul`` section of the cost catalogue (options ``fibre``, ``microwave``,
        ``relay_los``, ``relay_nlos``, ``satellite``; a missing option is not used) merged
        with the ``relay_chain`` section (``hop_limit``, ``fresnel_clearance``,
        ``microwave_frequency_mhz``, ``relay_frequency_mhz``, the ``relay_*`` link budget
        for ``method="itm"``, ``upgrade_options``); a nested ``relay_chain`` key works too.
    fibre_node_xy_m : array_like, shape (m, 2), optional, keyword-only
        Fibre points of presence [m].
    dem : array_like, shape (rows, cols), optional, keyword-only
        Ground elevation [m]. None: every link within range is feasible.
    dem_origin_m : (float, float), keyword-only
        North-west corner (x, y) of the DEM [m].
    dem_resolution_m : float, keyword-only
        DEM cell size, > 0 [m].
    k_factor : float, keyword-only
        Effective Earth-radius factor, > 0 [-].
    hop_limit : int, optional, keyword-only
        Relay hops from a root at most, >= 0 (0: no relays). Default ``params["hop_limit"]``
        (3 in the catalogue).
    method : {"los_fresnel", "itm"}, keyword-only
        Relay link test on the DEM.
    frequency_mhz : float, optional, keyword-only
        Relay link frequency, > 0 [MHz]. Default ``params["relay_frequency_mhz"]``.
    require_relay : bool or array_like of bool, shape (n,), keyword-only
        Sites that must take relay backhaul: no microwave or satellite for them (fibre when
        no relay reaches them, else ``none``), never upgraded.
    max_neighbours : int, keyword-only
        Candidate feeders tried per site (nearest first, among new sites and among existing
        sites each), >= 1.
    discount_rate : float, keyword-only
        For lifetime costs, in [0, 1] [-].
    horizon_years : int, keyword-only
        For lifetime costs, >= 1 [years].

    Returns
    -------
    BackhaulTree

    Raises
    ------
    ValueError
        An input outside its range, a relay required with ``hop_limit`` 0 or with no relay
        option in ``params``.
    """
    p = dict(params)
    if isinstance(p.get("relay_chain"), Mapping):
        p = {**p, **p.pop("relay_chain")}
    sites = _xy("site_xy_m", site_xy_m)
    donors = _xy("donor_xy_m", donor_xy_m)
    fibre = _xy("fibre_node_xy_m", fibre_node_xy_m)
    n, k = sites.shape[0], donors.shape[0]
    h_site = _per_site("site_height_m", site_height_m, n)
    demand = _per_site("demand_mbps", demand_mbps, n)
    can_feed = _per_site("can_donate", can_donate, n, dtype=bool)
    site_cap = _per_site("site_capacity_mbps", site_capacity_mbps, n)
    h_donor = _per_site("donor_height_m", donor_height_m, k)
    donor_cap = _per_site("donor_capacity_mbps", donor_capacity_mbps, k)
    required = _per_site("require_relay", require_relay, n, dtype=bool)
    if hop_limit is None:
        hop_limit = p.get("hop_limit", 3)
    hl = _number("hop_limit", hop_limit, 0.0)
    if hl != int(hl):
        raise ValueError(f"hop_limit={hop_limit!r} is not a whole number; allowed: 0, 1, 2, ...")
    hop_limit = int(hl)
    if method not in _METHODS:
        raise ValueError(f"method={method!r} is not allowed; use 'los_fresnel' or 'itm'")
    mn = _number("max_neighbours", max_neighbours, 1.0)
    if mn != int(mn):
        raise ValueError(f"max_neighbours={max_neighbours!r} is not a whole number >= 1")
    max_nb = int(mn)
    af = float(ec.annuity_factor(discount_rate, horizon_years))
    k_factor = _number("k_factor", k_factor, 0.0, lo_open=True)
    if frequency_mhz is None:
        frequency_mhz = p.get("relay_frequency_mhz", 806.0)
    f_relay = _number("frequency_mhz", frequency_mhz, 0.0, lo_open=True)
    f_mw = _number("microwave_frequency_mhz", p.get("microwave_frequency_mhz", 8000.0), 0.0,
                   lo_open=True)
    q = _number("fresnel_clearance", p.get("fresnel_clearance", 0.6), 0.0)
    opts = {name: _option(p, name) for name in RELAY_LINKS + DIRECT_LINKS}
    upgrade_names = [u for u in p.get("upgrade_options", ("microwave", "satellite"))]
    for u in upgrade_names:
        if u not in DIRECT_LINKS or u == "fibre":
            raise ValueError(f"upgrade_options has {u!r}; allowed: 'microwave', 'satellite'")
    relay_names = [r for r in RELAY_LINKS if opts[r] is not None]
    if required.any():
        if hop_limit == 0:
            raise ValueError("hop_limit=0 allows no relay hop but require_relay asks for relay "
                             "backhaul; allowed: hop_limit >= 1, or require_relay=False")
        if not relay_names:
            raise ValueError("require_relay asks for relay backhaul but params has no "
                             "relay_los or relay_nlos option; allowed: keep one of them")
    z = None
    x0, y0 = (float(v) for v in dem_origin_m)
    res = _number("dem_resolution_m", dem_resolution_m, 0.0, lo_open=True)
    if dem is not None:
        z = _dem(dem)
    budget = relay_link_budget_db(p) if (method == "itm" and z is not None and relay_names) \
        else np.nan

    def life(name, d=0.0):
        o = opts[name]
        return o["capex_usd"] + o["capex_usd_per_km"] * d / 1000.0 + o["opex_usd_per_year"] * af

    # ---- 1. direct options: fibre, microwave (nearest Fresnel-clear existing site), satellite
    d_fibre = np.full(n, np.inf)
    if n and fibre.shape[0]:
        d_fibre = np.asarray(cKDTree(fibre).query(sites, k=1)[0], dtype=np.float64)
    mw_donor = np.full(n, -1, dtype=np.int64)
    mw_dist = np.full(n, np.nan)
    mw_clear = np.full(n, np.nan)
    if n and k and opts["microwave"] is not None:
        kk = min(max_nb, k)
        dd, ii = cKDTree(donors).query(
            sites, k=kk, distance_upper_bound=_reach(opts["microwave"]["max_distance_m"]))
        dd, ii = dd.reshape(n, kk), ii.reshape(n, kk)
        for r in range(kk):
            todo = np.flatnonzero((mw_donor < 0) & np.isfinite(dd[:, r]))
            if todo.size == 0:
                continue
            cand = ii[todo, r]
            if z is None:
                ok = np.ones(todo.size, dtype=bool)
                clear = np.full(todo.size, np.nan)
            else:
                clear = fresnel_clearance(z, x0, y0, res, donors[cand], h_donor[cand],
                                          sites[todo], h_site[todo], frequency_mhz=f_mw,
                                          k_factor=k_factor)
                ok = clear >= q
            mw_donor[todo[ok]] = cand[ok]
            mw_dist[todo[ok]] = dd[todo[ok], r]
            mw_clear[todo[ok]] = clear[ok]
    direct_cost = np.full((n, 3), np.inf)
    if opts["fibre"] is not None:
        okf = d_fibre <= opts["fibre"]["max_distance_m"]
        direct_cost[okf, 0] = life("fibre", d_fibre[okf])
    if opts["microwave"] is not None:
        okm = mw_donor >= 0
        direct_cost[okm, 1] = life("microwave", mw_dist[okm])
    if opts["satellite"] is not None:
        direct_cost[:, 2] = life("satellite")
    direct_cost[required, 1:] = np.inf   # must relay: no microwave or satellite fallback
    direct_best = np.argmin(direct_cost, axis=1) if n else np.zeros(0, dtype=np.int64)
    direct_life = direct_cost[np.arange(n), direct_best] if n else np.zeros(0)
    direct_name = np.where(np.isfinite(direct_life),
                           np.asarray(DIRECT_LINKS, dtype=object)[direct_best], "none")

    # ---- 2. candidate relay links (site -> site both ways, existing -> site)
    src = np.zeros(0, dtype=np.int64)
    dst = np.zeros(0, dtype=np.int64)
    dist = np.zeros(0)
    kind = np.zeros(0, dtype=np.int64)
    e_margin = np.zeros(0)
    e_clear = np.zeros(0)
    if n and relay_names and hop_limit > 0:
        r_max = max(opts[r]["max_distance_m"] for r in relay_names)
        a_idx, b_idx, ld = [], [], []          # feeder node (site or n + donor), site
        if n > 1:
            kk = min(max_nb + 1, n)
            dd, ii = cKDTree(sites).query(sites, k=kk, distance_upper_bound=_reach(r_max))
            dd, ii = dd.reshape(n, kk), ii.reshape(n, kk)
            rows = np.repeat(np.arange(n), kk)
            ok = np.isfinite(dd.ravel()) & (ii.ravel() != rows)
            lo = np.minimum(rows[ok], ii.ravel()[ok])
            hi = np.maximum(rows[ok], ii.ravel()[ok])
            pairs = np.unique(np.c_[lo, hi], axis=0)
            if pairs.size:
                a_idx.append(pairs[:, 0])
                b_idx.append(pairs[:, 1])
                ld.append(np.hypot(*(sites[pairs[:, 1]] - sites[pairs[:, 0]]).T))
        if k:
            kk = min(max_nb, k)
            dd, ii = cKDTree(donors).query(sites, k=kk, distance_upper_bound=_reach(r_max))
            dd, ii = dd.reshape(n, kk), ii.reshape(n, kk)
            rows = np.repeat(np.arange(n), kk)
            ok = np.isfinite(dd.ravel())
            a_idx.append(n + ii.ravel()[ok])
            b_idx.append(rows[ok])
            ld.append(dd.ravel()[ok])
        if a_idx:
            la = np.concatenate(a_idx).astype(np.int64)
            lb = np.concatenate(b_idx).astype(np.int64)
            ldist = np.concatenate(ld)
            xy_all = np.vstack([sites, donors])
            h_all = np.concatenate([h_site, h_donor])
            m = la.size
            lmargin = np.full(m, np.nan)
            lclear = np.full(m, np.nan)
            if z is None:
                los = np.ones(m, dtype=bool)
                nlos_ok = np.ones(m, dtype=bool)
            elif method == "los_fresnel":
                lclear = fresnel_clearance(z, x0, y0, res, xy_all[la], h_all[la], xy_all[lb],
                                           h_all[lb], frequency_mhz=f_relay,
                                           k_factor=k_factor)
                los = lclear >= q
                nlos_ok = np.ones(m, dtype=bool)
            else:
                lclear = fresnel_clearance(z, x0, y0, res, xy_all[la], h_all[la], xy_all[lb],
                                           h_all[lb], frequency_mhz=f_relay,
                                           k_factor=k_factor)
                lmargin = _itm_margin(z, x0, y0, res, xy_all[la], h_all[la], xy_all[lb],
                                      h_all[lb], f_relay, budget)
                nlos_ok = lmargin >= 0
                los = (lclear >= q) & nlos_ok
            lkind = np.full(m, -1, dtype=np.int64)
            if opts["relay_nlos"] is not None:
                lkind[nlos_ok & (ldist <= opts["relay_nlos"]["max_distance_m"])] = 1
            if opts["relay_los"] is not None:
                lkind[los & (ldist <= opts["relay_los"]["max_distance_m"])] = 0
            keep = lkind >= 0
            la, lb, ldist, lkind = la[keep], lb[keep], ldist[keep], lkind[keep]
            lmargin, lclear = lmargin[keep], lclear[keep]
            # directed edges: donor -> site, and both ways between two new sites
            both = la < n
            src = np.concatenate([la, lb[both]])
            dst = np.concatenate([lb, la[both]])
            dist = np.concatenate([ldist, ldist[both]])
            kind = np.concatenate([lkind, lkind[both]])
            e_margin = np.concatenate([lmargin, lmargin[both]])
            e_clear = np.concatenate([lclear, lclear[both]])

    # ---- 3. forest: fewest hops from the roots, relays only where cheaper (or required)
    relay_life = np.array([life(r) if opts[r] is not None else np.inf for r in RELAY_LINKS])
    wired_root = np.isin(direct_name, ["fibre", "microwave"]) & can_feed
    sure_root = wired_root & ~required & (direct_life <= relay_life.min())
    edge = np.full(n, -1, dtype=np.int64)
    level = np.full(n, -1, dtype=np.int64)
    if src.size:
        usable = required[dst] | (relay_life[kind] < direct_life[dst])
        level, edge = _bfs(n, k, src, dst, dist, kind, usable & ~sure_root[dst], sure_root,
                           can_feed, hop_limit)
        roots = sure_root | (wired_root & (level < 0))
        if (roots != sure_root).any():
            level, edge = _bfs(n, k, src, dst, dist, kind, usable & ~roots[dst], roots,
                               can_feed, hop_limit)
    is_relay = edge >= 0
    link = np.where(is_relay, np.asarray(RELAY_LINKS, dtype=object)[
        np.where(is_relay, kind[edge] if src.size else 0, 0)], direct_name).astype(object)
    feeder = np.where(is_relay, src[edge] if src.size else -1, -1)
    parent = np.where(is_relay & (feeder < n), feeder, -1).astype(np.int64)
    feed_donor = np.where(is_relay & (feeder >= n), feeder - n, -1).astype(np.int64)
    link_dist = np.full(n, np.nan)
    link_margin = np.full(n, np.nan)
    link_clear = np.full(n, np.nan)
    if src.size:
        link_dist[is_relay] = dist[edge[is_relay]]
        link_margin[is_relay] = e_margin[edge[is_relay]]
        link_clear[is_relay] = e_clear[edge[is_relay]]
    is_fibre = link == "fibre"
    is_mw = link == "microwave"
    link_dist[is_fibre] = d_fibre[is_fibre]
    link_dist[is_mw] = mw_dist[is_mw]
    link_clear[is_mw] = mw_clear[is_mw]
    microwave_donor = np.where(is_mw, mw_donor, -1).astype(np.int64)
    cap_of = {name: (o["capacity_mbps"] if o is not None else 0.0) for name, o in opts.items()}
    cap_of["none"] = 0.0
    link_cap = np.array([cap_of[x] for x in link], dtype=np.float64)

    # ---- 4. capacity
    hops, root = _hops_and_roots(parent, is_relay, feed_donor, n)
    ev = _evaluate(parent, is_relay, feed_donor, hops, demand, link_cap, site_cap, donor_cap)
    overload_found = ev[-1].copy()

    # ---- 5. repair: upgrade subtree roots to microwave / satellite
    upgrade = np.full(n, "", dtype=object)
    up_opts = [u for u in upgrade_names if opts[u] is not None]
    up_cost = np.full((n, len(up_opts)), np.inf)
    up_cap = np.zeros(len(up_opts))
    for c, u in enumerate(up_opts):
        up_cap[c] = opts[u]["capacity_mbps"]
        if u == "microwave":
            okm = mw_donor >= 0
            up_cost[okm, c] = life("microwave", mw_dist[okm])
        else:
            up_cost[:, c] = life(u)
    up_cost[required] = np.inf
    unfixable: set = set()
    for _ in range(2 * n + k + 1):
        carried, child_load, donor_load, link_over, node_over, donor_over, _flag = ev
        elements = ([(0, 0, j) for j in np.flatnonzero(donor_over)]
                    + [(int(hops[i]), 1, i) for i in np.flatnonzero(link_over)]
                    + [(int(hops[i]) + 1, 2, i) for i in np.flatnonzero(node_over)])
        elements = [e for e in sorted(elements) if (e[1], e[2]) not in unfixable]
        if not elements:
            break
        touched: set = set()
        changed = False
        for _lvl, typ, idx in elements:
            chain = (n + idx) if typ == 0 else int(root[idx])
            if chain in touched:
                continue
            if typ == 0:
                cands = np.flatnonzero(is_relay & (parent < 0) & (feed_donor == idx))
                excess = donor_load[idx] - donor_cap[idx]
            elif typ == 1:
                cands = np.concatenate(([idx], np.flatnonzero(parent == idx)))
                excess = carried[idx] - link_cap[idx]
            else:
                cands = np.flatnonzero(parent == idx)
                excess = child_load[idx] - site_cap[idx]
            cands = cands[is_relay[cands] & (upgrade[cands] == "")]
            best = None
            for c in cands:
                fits = up_cap + _EPS >= carried[c]
                costs = np.where(fits, up_cost[c], np.inf)
                if not np.isfinite(costs).any():
                    continue
                o = int(np.argmin(costs))
                covers = (typ == 1 and c == idx) or carried[c] + _EPS >= excess
                key = (not covers, costs[o], -carried[c], int(c))
                if best is None or key < best[0]:
                    best = (key, int(c), o)
            if best is None:
                unfixable.add((typ, idx))
                continue
            _, c, o = best
            name = up_opts[o]
            upgrade[c] = name
            link[c] = name
            is_relay[c] = False
            parent[c] = -1
            feed_donor[c] = -1
            link_cap[c] = up_cap[o]
            link_margin[c] = np.nan
            if name == "microwave":
                microwave_donor[c] = mw_donor[c]
                link_dist[c] = mw_dist[c]
                link_clear[c] = mw_clear[c]
            else:
                link_dist[c] = np.nan
                link_clear[c] = np.nan
            touched.add(chain)
            changed = True
        if not changed:
            continue
        hops, root = _hops_and_roots(parent, is_relay, feed_donor, n)
        ev = _evaluate(parent, is_relay, feed_donor, hops, demand, link_cap, site_cap,
                       donor_cap)
    carried, _, donor_load, _, _, _, flag = ev

    # ---- costs of each site's own link
    capex = np.full(n, np.nan)
    opex = np.full(n, np.nan)
    for name, o in opts.items():
        if o is None:
            continue
        m = link == name
        if not m.any():
            continue
        d = np.where(np.isfinite(link_dist[m]), link_dist[m], 0.0)
        capex[m] = o["capex_usd"] + o["capex_usd_per_km"] * d / 1000.0
        opex[m] = o["opex_usd_per_year"]
    donor_root = np.where(is_relay & (root >= n), root - n, -1).astype(np.int64)
    return BackhaulTree(
        parent=parent, donor=donor_root, hops=hops, link=link.astype(str),
        link_distance_m=link_dist, link_margin_db=link_margin, link_clearance=link_clear,
        carried_mbps=carried, capacity_mbps=link_cap, capacity_exceeded=flag,
        overload_found=overload_found, upgrade=upgrade.astype(str),
        microwave_donor=microwave_donor, capex_usd=capex, opex_usd_per_year=opex,
        donor_load_mbps=donor_load, donor_capacity_mbps=donor_cap)


def tree_costs_replace(site_costs, tree: BackhaulTree, discount_rate, horizon_years):
    """``site_costs`` with its backhaul columns, and the sums, taken from ``tree``.

    Replaces ``backhaul_capex_usd``, ``backhaul_opex_usd_per_year``, ``backhaul``,
    ``backhaul_capacity_mbps``, ``backhaul_capacity_exceeded``, ``backhaul_distance_m`` and
    recomputes ``capex_usd = station + power + backhaul``, ``opex_usd_per_year`` likewise and
    ``tco_usd`` (:func:`simulator.business.economics.tco_usd`). ``demand_mbps`` stays each
    site's own demand (the tree's ``carried_mbps`` adds the sites it feeds).

    Parameters
    ----------
    site_costs : simulator.business.costing.SiteCosts
        Costs of the same sites, in the same order, as the tree.
    tree : BackhaulTree
    discount_rate : float
        In [0, 1] [-].
    horizon_years : int
        >= 1 [years].

    Returns
    -------
    simulator.business.costing.SiteCosts
    """
    n = len(site_costs)
    if len(tree) != n:
        raise ValueError(f"tree has {len(tree)} sites for {n} site costs; allowed: the same "
                         "sites in the same order")
    bh_capex = np.asarray(tree.capex_usd, dtype=np.float64)
    bh_opex = np.asarray(tree.opex_usd_per_year, dtype=np.float64)
    capex = site_costs.station_capex_usd + site_costs.power_capex_usd + bh_capex
    opex = (site_costs.station_opex_usd_per_year + site_costs.power_opex_usd_per_year
            + bh_opex)
    tco = np.asarray(ec.tco_usd(capex, opex, discount_rate, horizon_years),
                     dtype=np.float64).reshape(n)
    return replace(site_costs, backhaul_capex_usd=bh_capex, backhaul_opex_usd_per_year=bh_opex,
                   capex_usd=capex, opex_usd_per_year=opex, tco_usd=tco,
                   backhaul=np.asarray(tree.link, dtype=object),
                   backhaul_capacity_mbps=np.asarray(tree.capacity_mbps, dtype=np.float64),
                   backhaul_capacity_exceeded=np.asarray(tree.capacity_exceeded, dtype=bool),
                   backhaul_distance_m=np.asarray(tree.link_distance_m, dtype=np.float64))
