"""Synthetic truth for the calibration tests: a scenario, routes, and measurements made from
the scenario's own prediction plus a known offset, slope and correlated log-normal noise."""

from __future__ import annotations

import numpy as np
import yaml
from pyproj import Transformer

CENTRE = (35.0, -6.0)
EPSG = "EPSG:32736"  # UTM 36 S, the zone of the centre

#: Nine named sites on a jittered 3 x 3 lattice 6.5 km apart (name, east, north of the
#: centre [m]): enough sites that the samples near them, which set the slope, are many.
SITES = [(f"site-{i}{j}", -6500.0 + 6500.0 * i + 300.0 * j, -6500.0 + 6500.0 * j - 200.0 * i)
         for i in range(3) for j in range(3)]


def scenario_dict(model="hata_1980", *, width_km=20.0, terrain="flat", resolution_m=100.0,
                  sites=True, **propagation):
    """A 20 x 20 km scenario with nine named macro sites (omni) at known positions."""
    to_ll = Transformer.from_crs(EPSG, "EPSG:4326", always_xy=True)
    cx, cy = Transformer.from_crs("EPSG:4326", EPSG, always_xy=True).transform(*CENTRE)
    positions = []
    for name, dx, dy in SITES:
        lon, lat = to_ll.transform(cx + dx, cy + dy)
        positions.append({"name": name, "lon": float(lon), "lat": float(lat)})
    out = {
        "name": "synthetic-truth", "seed": 3,
        "region": {"centre_lon_lat": list(CENTRE), "crs": EPSG, "width_km": width_km,
                   "height_km": width_km, "resolution_m": resolution_m},
        "population": {"synthetic": {"total_people": 2000, "settlements": 4}},
        "terrain": terrain,
        "technology": "lte_900",
        "stations": {"tower": {"base": "macro", "sectors": 1, "hpbw_h_deg": 360.0,
                               "downtilt_deg": 0.0, "height_m": 40.0}},
        "propagation": {"model": model, **propagation},
        "sites": {"existing": [{"station": "tower", "placement": "list",
                                "positions": positions}]},
        "economics": {"station_costs": {"tower": {"base": "macro"}}},
        "outputs": {"maps": False, "report": False},
    }
    if not sites:
        del out["sites"]
    return out


def write_scenario(path, data) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def routes(rng, *, n_routes=600, points=10, step_m=200.0, r_min=150.0, r_max=8000.0):
    """Random walks of ``points`` samples ``step_m`` apart, each starting at a log-uniform
    distance from a random site, redrawn until the whole walk lies inside the region."""
    cx, cy = Transformer.from_crs("EPSG:4326", EPSG, always_xy=True).transform(*CENTRE)
    xs, ys, tx, route = [], [], [], []
    k = 0
    while k < n_routes:
        name, sx, sy = SITES[rng.integers(len(SITES))]
        r = np.exp(rng.uniform(np.log(r_min), np.log(r_max)))
        a = rng.uniform(0, 2 * np.pi)
        x0, y0 = cx + sx + r * np.cos(a), cy + sy + r * np.sin(a)
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.3, points))
        x = x0 + np.cumsum(step_m * np.cos(heading))
        y = y0 + np.cumsum(step_m * np.sin(heading))
        if np.abs(x - cx).max() > 9900 or np.abs(y - cy).max() > 9900:
            continue
        xs.append(x)
        ys.append(y)
        tx += [name] * points
        route += [f"r{k}"] * points
        k += 1
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = Transformer.from_crs(EPSG, "EPSG:4326", always_xy=True).transform(x, y)
    return {"lon": np.asarray(lon), "lat": np.asarray(lat), "x_m": x, "y_m": y,
            "transmitter": tx, "route": route}


def correlated_noise(rng, x_m, y_m, *, sigma_db, decorrelation_m, resolution_m=25.0):
    """Gudmundson-correlated Gaussian noise [dB] at points (simulator.radio.variability),
    one independent field per transmitter is not needed: shadowing is one field here."""
    from simulator.radio.variability import correlated_shadowing_field

    cx, cy = Transformer.from_crs("EPSG:4326", EPSG, always_xy=True).transform(*CENTRE)
    n = int(20000 / resolution_m)
    field = correlated_shadowing_field((n, n), resolution_m, sigma_db=sigma_db,
                                       decorrelation_m=decorrelation_m, rng=rng)
    col = np.clip(((x_m - (cx - 10000)) / resolution_m).astype(int), 0, n - 1)
    row = np.clip((((cy + 10000) - y_m) / resolution_m).astype(int), 0, n - 1)
    return field[row, col]


def write_measurements(path, pts, value, *, column="rsrp_dbm", extra=None) -> str:
    from simulator.io.measurements import write_table_csv

    cols = {"lon": pts["lon"], "lat": pts["lat"], column: value,
            "transmitter": pts["transmitter"], "route": pts["route"]}
    cols.update(extra or {})
    write_table_csv(path, cols)
    return str(path)


def file_order(points, values):
    """Values of a PointTable (rows sorted by route) back in the file's row order (the
    table keeps every row here: CSV line 2 is row 0)."""
    out = np.empty(len(values))
    out[np.asarray(points.line) - 2] = values
    return out
