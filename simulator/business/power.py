"""Power for a site: grid connection, solar PV + battery, or a diesel generator.

Pure, vectorised models (no I/O). Sizing follows the usual stand-alone PV method
(daily energy balance + days of autonomy), e.g. IEEE Std 1562-2007 (array sizing) and
IEEE Std 1013-2019 (battery sizing for stand-alone PV), in their simplest form:

.. math::

    E_{day} = P \\cdot 24\\,\\text{h} / 1000

    P_{PV} = \\frac{E_{day}}{Y \\cdot \\eta_{sys}} \\quad [\\text{kWp}]

    C_{bat} = \\frac{E_{day} \\cdot D_{aut}}{DoD} \\quad [\\text{kWh}]

with the site's constant draw P (W), the PV yield Y (kWh per kWp per day, e.g. Global Solar
Atlas PVOUT), the DC-side system efficiency (battery round trip, controller, wiring) and the
battery's usable depth of discharge. The load is treated as constant around the clock (a
radio site's draw varies little); no seasonal worst-month sizing is done — pass the yield of
the worst month to size for it.

Diesel: fuel = energy x specific consumption; CO2 = fuel x 2.68 kg/l (IPCC 2006 default
for gas/diesel oil, 74.1 t CO2/TJ x 43.0 MJ/kg x ~0.84 kg/l).

Broadcasting: per-site arrays of shape ``S`` broadcast together. Values outside the valid
ranges raise ``ValueError`` naming the parameter, value and allowed range.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np

from .._checks import check_range as _check
from .._checks import scalar_or_array as _ret

from simulator.business.economics import annuity_factor

__all__ = [
    "DIESEL_CO2_KG_PER_L",
    "POWER_OPTIONS",
    "PowerChoice",
    "choose_power",
    "co2_kg_per_year",
    "daily_energy_kwh",
    "diesel_capex_usd",
    "diesel_cost_usd_per_year",
    "diesel_fuel_l_per_year",
    "grid_capex_usd",
    "grid_cost_usd_per_year",
    "grid_feasible",
    "solar_array_kwp",
    "solar_battery_kwh",
    "solar_capex_usd",
    "solar_opex_usd_per_year",
]

#: CO2 from burning one litre of diesel (IPCC 2006 default, see module docstring). [kg/l]
DIESEL_CO2_KG_PER_L = 2.68
#: Order of the options in :class:`PowerChoice` cost columns.
POWER_OPTIONS = ("grid", "solar", "diesel")

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0


def daily_energy_kwh(power_w):
    """Energy drawn in a day by a constant load: ``power_w * 24 / 1000``. [kWh/day]

    Parameters
    ----------
    power_w : float or array_like
        Average site draw, >= 0. [W]
    """
    p = _check("power_w", power_w, 0.0)
    return _ret(p * HOURS_PER_DAY / 1000.0)


# --------------------------------------------------------------------------------------
# grid
# --------------------------------------------------------------------------------------

def grid_feasible(distance_to_grid_m, max_distance_m):
    """True where the grid is within reach (``distance <= max``); NaN distance -> False."""
    d = _check("distance_to_grid_m", distance_to_grid_m, 0.0)
    m = _check("max_distance_m", max_distance_m, 0.0)
    return d <= m


def grid_capex_usd(distance_to_grid_m, *, connection_capex_usd, connection_capex_usd_per_km):
    """Grid connection cost: fixed part + line cost per km. [USD]"""
    d = _check("distance_to_grid_m", distance_to_grid_m, 0.0)
    fixed = _check("connection_capex_usd", connection_capex_usd, 0.0)
    per_km = _check("connection_capex_usd_per_km", connection_capex_usd_per_km, 0.0)
    return _ret(fixed + per_km * d / 1000.0)


def grid_cost_usd_per_year(power_w, *, tariff_usd_per_kwh, maintenance_usd_per_year=0.0):
    """Yearly grid energy bill plus upkeep: ``E_day * 365 * tariff + maintenance``. [USD/year]"""
    e = np.asarray(daily_energy_kwh(power_w))
    tariff = _check("tariff_usd_per_kwh", tariff_usd_per_kwh, 0.0)
    maint = _check("maintenance_usd_per_year", maintenance_usd_per_year, 0.0)
    return _ret(e * DAYS_PER_YEAR * tariff + maint)


# --------------------------------------------------------------------------------------
# solar
# --------------------------------------------------------------------------------------

def solar_array_kwp(power_w, yield_kwh_per_kwp_per_day, *, system_efficiency):
    """PV array size for a constant load.

    .. math:: P_{PV} = \\frac{P \\cdot 24 / 1000}{Y \\cdot \\eta_{sys}}

    Parameters
    ----------
    power_w : float or array_like
        Average site draw, >= 0. [W]
    yield_kwh_per_kwp_per_day : float or array_like
        Specific PV yield (Global Solar Atlas PVOUT), > 0. [kWh/kWp/day]
    system_efficiency : float or array_like, keyword-only
        Battery round trip x controller x wiring, in (0, 1]. [-]

    Returns
    -------
    float or ndarray
        Array peak power. [kWp]
    """
    e = np.asarray(daily_energy_kwh(power_w))
    y = _check("yield_kwh_per_kwp_per_day", yield_kwh_per_kwp_per_day, 0.0, 24.0, lo_open=True)
    eta = _check("system_efficiency", system_efficiency, 0.0, 1.0, lo_open=True)
    return _ret(e / (y * eta))


def solar_battery_kwh(power_w, *, days_of_autonomy, depth_of_discharge):
    """Nominal battery capacity to ride through ``days_of_autonomy`` without sun.

    .. math:: C = \\frac{P \\cdot 24/1000 \\cdot D_{aut}}{DoD}

    Parameters
    ----------
    power_w : float or array_like
        Average site draw, >= 0. [W]
    days_of_autonomy : float or array_like, keyword-only
        Days the battery alone must carry the load, >= 0. [days]
    depth_of_discharge : float or array_like, keyword-only
        Usable share of nominal capacity, in (0, 1]. [-]

    Returns
    -------
    float or ndarray
        Nominal capacity. [kWh]
    """
    e = np.asarray(daily_energy_kwh(power_w))
    days = _check("days_of_autonomy", days_of_autonomy, 0.0)
    dod = _check("depth_of_discharge", depth_of_discharge, 0.0, 1.0, lo_open=True)
    return _ret(e * days / dod)


def solar_capex_usd(array_kwp, battery_kwh, *, capex_usd_per_kwp, capex_usd_per_kwh_battery,
                    balance_of_system_usd=0.0):
    """Solar system cost: ``kWp * USD/kWp + kWh * USD/kWh + balance of system``. [USD]"""
    kwp = _check("array_kwp", array_kwp, 0.0)
    kwh = _check("battery_kwh", battery_kwh, 0.0)
    c_pv = _check("capex_usd_per_kwp", capex_usd_per_kwp, 0.0)
    c_bat = _check("capex_usd_per_kwh_battery", capex_usd_per_kwh_battery, 0.0)
    bos = _check("balance_of_system_usd", balance_of_system_usd, 0.0)
    return _ret(kwp * c_pv + kwh * c_bat + bos)


def solar_opex_usd_per_year(battery_kwh, *, capex_usd_per_kwh_battery, battery_life_years,
                            maintenance_usd_per_year=0.0):
    """Solar running cost: upkeep + battery replacement spread over its life. [USD/year]

    .. math:: O = M + \\frac{C_{bat} \\cdot c_{bat}}{L_{bat}}
    """
    kwh = _check("battery_kwh", battery_kwh, 0.0)
    c_bat = _check("capex_usd_per_kwh_battery", capex_usd_per_kwh_battery, 0.0)
    life = _check("battery_life_years", battery_life_years, 0.0, lo_open=True)
    maint = _check("maintenance_usd_per_year", maintenance_usd_per_year, 0.0)
    return _ret(maint + kwh * c_bat / life)


# --------------------------------------------------------------------------------------
# diesel
# --------------------------------------------------------------------------------------

def diesel_fuel_l_per_year(power_w, *, fuel_l_per_kwh):
    """Fuel burnt in a year by a generator carrying the load around the clock. [l/year]"""
    e = np.asarray(daily_energy_kwh(power_w))
    f = _check("fuel_l_per_kwh", fuel_l_per_kwh, 0.0)
    return _ret(e * DAYS_PER_YEAR * f)


def diesel_capex_usd(power_w, *, generator_capex_usd, generator_capex_usd_per_kw=0.0):
    """Generator cost: fixed part + part per kW of load. [USD]"""
    p = _check("power_w", power_w, 0.0)
    fixed = _check("generator_capex_usd", generator_capex_usd, 0.0)
    per_kw = _check("generator_capex_usd_per_kw", generator_capex_usd_per_kw, 0.0)
    return _ret(fixed + per_kw * p / 1000.0)


def diesel_cost_usd_per_year(fuel_l_per_year, *, fuel_price_usd_per_l,
                             maintenance_usd_per_year=0.0):
    """Fuel bill plus generator upkeep. [USD/year]"""
    fuel = _check("fuel_l_per_year", fuel_l_per_year, 0.0)
    price = _check("fuel_price_usd_per_l", fuel_price_usd_per_l, 0.0)
    maint = _check("maintenance_usd_per_year", maintenance_usd_per_year, 0.0)
    return _ret(fuel * price + maint)


def co2_kg_per_year(fuel_l_per_year, *, co2_kg_per_l=DIESEL_CO2_KG_PER_L):
    """CO2 from diesel: ``litres * 2.68 kg/l`` (IPCC 2006 default). [kg/year]"""
    fuel = _check("fuel_l_per_year", fuel_l_per_year, 0.0)
    k = _check("co2_kg_per_l", co2_kg_per_l, 0.0)
    return _ret(fuel * k)


# --------------------------------------------------------------------------------------
# choice per site
# --------------------------------------------------------------------------------------

class PowerChoice(NamedTuple):
    """Power system per site (arrays of shape ``S``)."""

    option: np.ndarray              #: "grid", "solar" or "diesel"
    capex_usd: np.ndarray           #: [USD]
    opex_usd_per_year: np.ndarray   #: [USD/year], energy and upkeep
    co2_kg_per_year: np.ndarray     #: [kg/year]
    energy_kwh_per_year: np.ndarray  #: [kWh/year] drawn by the site
    array_kwp: np.ndarray           #: [kWp], 0 unless solar
    battery_kwh: np.ndarray         #: [kWh], 0 unless solar
    fuel_l_per_year: np.ndarray     #: [l/year], 0 unless diesel
    lifetime_cost_usd: np.ndarray   #: [USD], capex + PV(opex) of the chosen option
    option_costs_usd: np.ndarray    #: [USD], shape S + (3,), POWER_OPTIONS order; inf = infeasible


def choose_power(power_w, distance_to_grid_m, params: Mapping, *, off_grid="solar",
                 discount_rate=0.10, horizon_years=10):
    """Power system for each site: the grid when in reach, otherwise solar or diesel.

    Parameters
    ----------
    power_w : float or array_like
        Average site draw, >= 0, shape ``S``. [W]
    distance_to_grid_m : float or array_like
        Distance to the nearest grid line, >= 0; ``inf`` (or NaN) for no grid. [m]
    params : mapping
        The ``power`` section of :func:`simulator.business.economics.load_cost_catalogue`:
        ``grid``, ``solar`` and ``diesel`` sub-mappings with the keys used there.
    off_grid : {"solar", "diesel", "cheapest"}, keyword-only
        What a site out of grid reach gets. ``"cheapest"`` compares solar and diesel
        lifetime cost (capex + present value of opex).
    discount_rate : float, keyword-only
        For lifetime costs, in [0, 1]. [-]
    horizon_years : int, keyword-only
        For lifetime costs, >= 1. [years]

    Returns
    -------
    PowerChoice
        Sizes, costs and CO2 per site. A site in grid reach always takes the grid (rule of
        the brief: grid if within reach), whatever ``off_grid`` says.
    """
    if off_grid not in ("solar", "diesel", "cheapest"):
        raise ValueError(f"off_grid={off_grid!r} is not allowed; use 'solar', 'diesel' or 'cheapest'")
    p = _check("power_w", power_w, 0.0)
    d = np.asarray(distance_to_grid_m, dtype=np.float64)
    d = np.where(np.isnan(d), np.inf, d)
    d = _check("distance_to_grid_m", d, 0.0)
    p, d = np.broadcast_arrays(p, d)
    af = annuity_factor(discount_rate, horizon_years)
    g, s, dz = params["grid"], params["solar"], params["diesel"]

    # grid
    on_grid = np.asarray(grid_feasible(d, g["max_distance_m"]))
    d_fin = np.where(on_grid, d, 0.0)
    grid_capex = np.asarray(grid_capex_usd(
        d_fin, connection_capex_usd=g["connection_capex_usd"],
        connection_capex_usd_per_km=g["connection_capex_usd_per_km"]))
    grid_opex = np.asarray(grid_cost_usd_per_year(
        p, tariff_usd_per_kwh=g["tariff_usd_per_kwh"],
        maintenance_usd_per_year=g.get("maintenance_usd_per_year", 0.0)))

    # solar
    kwp = np.asarray(solar_array_kwp(p, s["yield_kwh_per_kwp_per_day"],
                                     system_efficiency=s["system_efficiency"]))
    kwh = np.asarray(solar_battery_kwh(p, days_of_autonomy=s["days_of_autonomy"],
                                       depth_of_discharge=s["depth_of_discharge"]))
    solar_capex = np.asarray(solar_capex_usd(
        kwp, kwh, capex_usd_per_kwp=s["capex_usd_per_kwp"],
        capex_usd_per_kwh_battery=s["capex_usd_per_kwh_battery"],
        balance_of_system_usd=s.get("balance_of_system_usd", 0.0)))
    solar_opex = np.asarray(solar_opex_usd_per_year(
        kwh, capex_usd_per_kwh_battery=s["capex_usd_per_kwh_battery"],
        battery_life_years=s["battery_life_years"],
        maintenance_usd_per_year=s.get("maintenance_usd_per_year", 0.0)))

    # diesel
    fuel = np.asarray(diesel_fuel_l_per_year(p, fuel_l_per_kwh=dz["fuel_l_per_kwh"]))
    diesel_capex = np.asarray(diesel_capex_usd(
        p, generator_capex_usd=dz["generator_capex_usd"],
        generator_capex_usd_per_kw=dz.get("generator_capex_usd_per_kw", 0.0)))
    diesel_opex = np.asarray(diesel_cost_usd_per_year(
        fuel, fuel_price_usd_per_l=dz["fuel_price_usd_per_l"],
        maintenance_usd_per_year=dz.get("maintenance_usd_per_year", 0.0)))
    diesel_co2 = np.asarray(co2_kg_per_year(fuel, co2_kg_per_l=dz.get("co2_kg_per_l",
                                                                          DIESEL_CO2_KG_PER_L)))

    life = np.stack([np.where(on_grid, grid_capex + af * grid_opex, np.inf),
                     solar_capex + af * solar_opex,
                     diesel_capex + af * diesel_opex], axis=-1)

    if off_grid == "solar":
        off_idx = np.ones(p.shape, dtype=int)
    elif off_grid == "diesel":
        off_idx = np.full(p.shape, 2, dtype=int)
    else:
        off_idx = np.where(life[..., 2] < life[..., 1], 2, 1)
    idx = np.where(on_grid, 0, off_idx)

    def pick(a0, a1, a2):
        return np.choose(idx, [np.broadcast_to(a, p.shape) for a in (a0, a1, a2)])

    energy = np.asarray(daily_energy_kwh(p)) * DAYS_PER_YEAR
    grid_co2 = energy * float(g.get("co2_kg_per_kwh", 0.0))
    zero = np.zeros(p.shape)
    option = np.asarray(POWER_OPTIONS, dtype=object)[idx]
    return PowerChoice(
        option=option,
        capex_usd=pick(grid_capex, solar_capex, diesel_capex),
        opex_usd_per_year=pick(grid_opex, solar_opex, diesel_opex),
        co2_kg_per_year=pick(grid_co2, zero, diesel_co2),
        energy_kwh_per_year=energy,
        array_kwp=pick(zero, kwp, zero),
        battery_kwh=pick(zero, kwh, zero),
        fuel_l_per_year=pick(zero, zero, fuel),
        lifetime_cost_usd=np.take_along_axis(life, idx[..., None], axis=-1)[..., 0],
        option_costs_usd=life,
    )
