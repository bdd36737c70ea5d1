"""One cost basis: what a site costs where it stands, for ``run``, ``plan`` and what follows.

``ruralsim run`` (:func:`simulator.business.assessment.assess`) and ``ruralsim plan``
(:func:`simulator.planning.planner.plan`) cost a site with the same function,
:meth:`CostBasis.site_costs`, so a plan's capex is the capex the run of the planned scenario
reports (a test checks it). A later programme planner (technology per village, rollout by
year) is meant to call it too.

What a site costs depends on

* its **station type**: equipment, pole or tower, civil works, installation (capex) and site
  rent and maintenance (opex), from ``economics.station_costs`` over the cost catalogue
  (``simulator/data/costs.yaml``);
* its **position**: the cheapest feasible backhaul (:func:`simulator.business.backhaul.
  choose_backhaul`: fibre if a fibre node is within reach, microwave or LTE relay to the
  nearest *existing* site, line of sight over the DEM when the scenario has terrain,
  satellite otherwise) and power (:func:`simulator.business.power.choose_power`: the grid
  when within reach of the electrified discs around the grid points, else the type's
  off-grid choice, sized from its draw);
* its **busy-hour demand** (``capacity.busy_hour_active_share`` x
  ``capacity.mbps_per_active_user`` x the people it serves) when
  ``backhaul.require_capacity`` is true: a link that cannot carry it is not chosen;
* whether it is **existing**: existing sites are costed at replacement cost with fibre (a node
  within reach) or satellite, never as each other's donors.

Nothing here depends on the other new sites: donors, fibre nodes and grid points come from
the existing sites and the scenario's explicit points, so the cost of a set of new sites is
the sum of their costs (what the planner's budget constraint needs).

Layer: orchestration of the pure models (no I/O). Build a :class:`CostBasis` once per
scenario with :func:`cost_basis`, then call :meth:`CostBasis.site_costs` for any positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import economics as ec
from .backhaul import choose_backhaul, nearest_node
from .power import choose_power

__all__ = ["CostBasis", "SiteCosts", "cost_basis"]


@dataclass(frozen=True)
class SiteCosts:
    """Costs of a set of sites (arrays of shape ``(n,)``, in the order asked for).

    Attributes
    ----------
    station_capex_usd, power_capex_usd, backhaul_capex_usd, capex_usd : ndarray
        Equipment + pole/tower + civil works + installation; power system; backhaul; their
        sum [USD].
    station_opex_usd_per_year, power_opex_usd_per_year, backhaul_opex_usd_per_year,
    opex_usd_per_year : ndarray
        Site rent + maintenance; energy and upkeep of the power system; backhaul fees; their
        sum [USD/year].
    tco_usd : ndarray
        ``capex + opex x annuity factor`` over the horizon at the discount rate [USD].
    backhaul, power : ndarray of str
        Chosen option per site (``"none"``: no backhaul option is feasible).
    backhaul_capacity_mbps, demand_mbps : ndarray
        Capacity of the chosen link; the busy-hour demand it was chosen for [Mbit/s].
    backhaul_capacity_exceeded : ndarray of bool
    backhaul_distance_m : ndarray
        To the fibre node or donor used; NaN for satellite [m].
    co2_kg_per_year : ndarray
        From the power system [kg/year].
    """

    station_capex_usd: np.ndarray
    power_capex_usd: np.ndarray
    backhaul_capex_usd: np.ndarray
    capex_usd: np.ndarray
    station_opex_usd_per_year: np.ndarray
    power_opex_usd_per_year: np.ndarray
    backhaul_opex_usd_per_year: np.ndarray
    opex_usd_per_year: np.ndarray
    tco_usd: np.ndarray
    backhaul: np.ndarray
    power: np.ndarray
    backhaul_capacity_mbps: np.ndarray
    backhaul_capacity_exceeded: np.ndarray
    backhaul_distance_m: np.ndarray
    demand_mbps: np.ndarray
    co2_kg_per_year: np.ndarray

    def __len__(self) -> int:
        return int(self.capex_usd.size)

    def cost(self, basis: str = "capex") -> np.ndarray:
        """``capex_usd`` (``basis="capex"``) or ``tco_usd`` (``"tco"``) [USD]."""
        if basis == "capex":
            return self.capex_usd
        if basis == "tco":
            return self.tco_usd
        raise ValueError(f"basis={basis!r} is not allowed; use 'capex' or 'tco'")


@dataclass(frozen=True)
class CostBasis:
    """Everything a site's cost depends on, except the site itself.

    Built by :func:`cost_basis`. Attributes are plain arrays and the resolved parameters
    (:func:`simulator.business.assessment.resolve_parameters`).

    Attributes
    ----------
    params : dict
        ``backhaul``, ``power``, ``station_costs``, ``economics``, ``traffic``, ...
    station_height_m, station_power_w : dict of float
        Antenna height [m] and power draw [W] per station type.
    donor_xy_m, donor_height_m : ndarray, shapes (k, 2), (k,)
        Existing sites: microwave / relay donors [m].
    fibre_node_xy_m, grid_point_xy_m : ndarray, shape (m, 2)
        Fibre points of presence; centres of the electrified discs [m].
    grid_radius_m : float
        Radius of each electrified disc [m].
    require_capacity : bool
        ``backhaul.require_capacity``.
    k_factor : float
        Effective Earth radius factor for the line-of-sight check.
    dem, dem_origin_m, dem_resolution_m
        Elevation per cell (None: no terrain, every donor link has line of sight), the
        grid's north-west corner (x, y) and cell size [m].
    """

    params: dict
    station_height_m: dict
    station_power_w: dict
    donor_xy_m: np.ndarray
    donor_height_m: np.ndarray
    fibre_node_xy_m: np.ndarray
    grid_point_xy_m: np.ndarray
    grid_radius_m: float
    require_capacity: bool
    k_factor: float
    dem: np.ndarray | None = field(default=None, repr=False)
    dem_origin_m: tuple[float, float] = (0.0, 0.0)
    dem_resolution_m: float = 1.0

    @property
    def horizon_years(self) -> int:
        return int(self.params["economics"]["horizon_years"])

    @property
    def discount_rate(self) -> float:
        return float(self.params["economics"]["discount_rate"])

    def demand_mbps(self, people_served) -> np.ndarray:
        """Busy-hour demand of sites serving these people [Mbit/s]."""
        tr = self.params["traffic"]
        return (np.asarray(people_served, dtype=np.float64)
                * tr["busy_hour_active_share"] * tr["mbps_per_active_user"])

    def site_costs(self, xy_m, station, *, existing=None, people_served=None) -> SiteCosts:
        """Capex, opex, TCO, backhaul and power of sites at ``xy_m`` of types ``station``.

        Parameters
        ----------
        xy_m : array_like, shape (n, 2)
            Positions in the region's CRS [m].
        station : sequence of str, length n
            Station type of each site (with an entry in ``params["station_costs"]``).
        existing : array_like of bool, shape (n,), optional
            Existing sites (costed at replacement cost: fibre or satellite backhaul, no
            donor). Default: all new.
        people_served : array_like, shape (n,), optional
            People each site serves, for the busy-hour demand its backhaul must carry
            [people]. Default 0 (no capacity constraint binds).

        Returns
        -------
        SiteCosts

        Raises
        ------
        ValueError
            A model parameter outside its range (the caller names the scenario key).
        """
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        n = xy.shape[0]
        station = list(station)
        if len(station) != n:
            raise ValueError(f"station has {len(station)} entries for {n} positions")
        ex = np.zeros(n, bool) if existing is None else np.asarray(existing, dtype=bool)
        served = np.zeros(n) if people_served is None else np.asarray(people_served, float)
        demand = self.demand_mbps(served).reshape(n)
        p = self.params
        rate, n_years = self.discount_rate, self.horizon_years

        # ---- backhaul: new sites to the nearest existing donor; existing: fibre/satellite
        bh_option = np.empty(n, dtype=object)
        bh_capex, bh_opex, bh_cap = np.zeros(n), np.zeros(n), np.zeros(n)
        bh_dist = np.full(n, np.nan)
        bh_exceeded = np.zeros(n, dtype=bool)
        donors = self.donor_xy_m
        for mask, dn in ((~ex, donors), (ex, None)):
            if not mask.any():
                continue
            los = None
            if self.dem is not None and dn is not None and len(dn):
                from ..region.terrain import link_line_of_sight

                _, near = nearest_node(xy[mask], dn)
                heights = np.array([self.station_height_m[t] for t in station])
                los = link_line_of_sight(self.dem, self.dem_origin_m[0], self.dem_origin_m[1],
                                         self.dem_resolution_m, xy[mask], heights[mask],
                                         dn[near], self.donor_height_m[near],
                                         k_factor=self.k_factor)
            ch = choose_backhaul(xy[mask], p["backhaul"], fibre_node_xy_m=self.fibre_node_xy_m,
                                 donor_xy_m=dn, los_to_donor=los, demand_mbps=demand[mask],
                                 require_capacity=self.require_capacity, discount_rate=rate,
                                 horizon_years=n_years)
            bh_option[mask] = ch.option
            bh_capex[mask], bh_opex[mask] = ch.capex_usd, ch.opex_usd_per_year
            bh_cap[mask], bh_exceeded[mask] = ch.capacity_mbps, ch.capacity_exceeded
            bh_dist[mask] = ch.distance_m

        # ---- power: the grid within reach of the electrified discs, else off-grid
        d_grid, _ = nearest_node(xy, self.grid_point_xy_m) if n else (np.zeros(0), None)
        d_grid = np.maximum(d_grid - self.grid_radius_m, 0.0)
        power_w = np.array([self.station_power_w[t] for t in station], dtype=np.float64)
        costs = p["station_costs"]
        off_grid = np.array([costs[t]["default_power"] for t in station], dtype=object)
        pw_option = np.empty(n, dtype=object)
        pw_capex, pw_opex, co2 = np.zeros(n), np.zeros(n), np.zeros(n)
        for mode in dict.fromkeys(off_grid):
            m = off_grid == mode
            ch = choose_power(power_w[m], d_grid[m], p["power"], off_grid=mode,
                              discount_rate=rate, horizon_years=n_years)
            pw_option[m] = ch.option
            pw_capex[m], pw_opex[m], co2[m] = (ch.capex_usd, ch.opex_usd_per_year,
                                               ch.co2_kg_per_year)

        # ---- station, and the sums
        def part(section, leaf):
            return np.array([costs[t][section][leaf] for t in station], dtype=np.float64)

        st_capex = np.asarray(ec.capex_usd(
            equipment_usd=part("capex_usd", "equipment"),
            pole_or_tower_usd=part("capex_usd", "pole_or_tower"),
            civil_works_usd=part("capex_usd", "civil_works"),
            installation_usd=part("capex_usd", "installation")), dtype=np.float64).reshape(n)
        st_opex = np.asarray(ec.opex_usd_per_year(
            site_rent_usd=part("opex_usd_per_year", "site_rent"),
            maintenance_usd=part("opex_usd_per_year", "maintenance")),
            dtype=np.float64).reshape(n)
        capex = np.asarray(ec.capex_usd(
            equipment_usd=part("capex_usd", "equipment"),
            pole_or_tower_usd=part("capex_usd", "pole_or_tower"),
            civil_works_usd=part("capex_usd", "civil_works"),
            installation_usd=part("capex_usd", "installation"),
            power_system_usd=pw_capex, backhaul_usd=bh_capex), dtype=np.float64).reshape(n)
        opex = np.asarray(ec.opex_usd_per_year(
            site_rent_usd=part("opex_usd_per_year", "site_rent"),
            maintenance_usd=part("opex_usd_per_year", "maintenance"),
            energy_usd=pw_opex, backhaul_fees_usd=bh_opex), dtype=np.float64).reshape(n)
        tco = np.asarray(ec.tco_usd(capex, opex, rate, n_years), dtype=np.float64).reshape(n)
        return SiteCosts(
            station_capex_usd=st_capex, power_capex_usd=pw_capex, backhaul_capex_usd=bh_capex,
            capex_usd=capex, station_opex_usd_per_year=st_opex,
            power_opex_usd_per_year=pw_opex, backhaul_opex_usd_per_year=bh_opex,
            opex_usd_per_year=opex, tco_usd=tco, backhaul=bh_option, power=pw_option,
            backhaul_capacity_mbps=bh_cap, backhaul_capacity_exceeded=bh_exceeded,
            backhaul_distance_m=bh_dist, demand_mbps=demand, co2_kg_per_year=co2)


def _points_xy(points, crs: str) -> np.ndarray:
    """Scenario points (x_m/y_m in the region CRS or lon/lat) as an (n, 2) array [m]."""
    if not points:
        return np.empty((0, 2))
    from pyproj import Transformer

    to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = []
    for pt in points:
        out.append((pt.x_m, pt.y_m) if pt.x_m is not None else to_grid.transform(pt.lon, pt.lat))
    return np.asarray(out, dtype=np.float64)


def cost_basis(scenario, grid, stations, existing_xy_m, existing_station, *, params,
               dem=None) -> CostBasis:
    """The :class:`CostBasis` of a scenario.

    Parameters
    ----------
    scenario : Scenario
        Its ``backhaul:``, ``power:`` and ``propagation.k_factor``.
    grid : Grid
        CRS of the explicit points; origin and cell size of the DEM.
    stations : dict of StationType
        Height [m] and power draw [W] per type.
    existing_xy_m : array_like, shape (k, 2)
        The existing sites (donors; fibre nodes and grid points when the scenario puts them
        there) [m].
    existing_station : sequence of str
        Their station types.
    params : dict
        From :func:`simulator.business.assessment.resolve_parameters`.
    dem : ndarray, optional
        Elevation per cell (the grid's shape) for the line of sight to donors [m].

    Returns
    -------
    CostBasis
    """
    ex_xy = np.asarray(existing_xy_m, dtype=np.float64).reshape(-1, 2)
    b, pw = scenario.backhaul, scenario.power
    fibre = _points_xy(b.fibre_node_positions, grid.crs)
    if b.fibre_nodes == "existing_sites":
        fibre = np.vstack([ex_xy, fibre])
    grid_pts = _points_xy(pw.grid_point_positions, grid.crs)
    if pw.grid_points == "existing_sites":
        grid_pts = np.vstack([ex_xy, grid_pts])
    return CostBasis(
        params=params,
        station_height_m={k: float(v.height_m) for k, v in stations.items()},
        station_power_w={k: float(v.power_draw_w) for k, v in stations.items()},
        donor_xy_m=ex_xy,
        donor_height_m=np.array([stations[t].height_m for t in existing_station], float),
        fibre_node_xy_m=fibre, grid_point_xy_m=grid_pts,
        grid_radius_m=float(pw.grid_radius_m), require_capacity=bool(b.require_capacity),
        k_factor=float(scenario.propagation.k_factor), dem=dem,
        dem_origin_m=(float(grid.x_min_m), float(grid.y_max_m)),
        dem_resolution_m=float(grid.resolution_m))
