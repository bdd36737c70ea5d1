"""Small sample real-data files the project makes itself (no downloads).

:func:`make_samples` writes, for a fictitious 20 x 16 km rural district in southern
Tanzania (centre 34.6 E, 8.9 S; UTM zone 36S):

``population.tif``
    People per cell like a WorldPop / HRSL layer: WGS 84 (EPSG:4326), 0.001 deg cells
    (about 110 m), float32, fractional people, nodata -99999 over a lake.
``dem.tif``
    Elevation like an SRTM / Copernicus tile: WGS 84, 0.001 deg, float32 metres.
``boundary.geojson``
    The district boundary, one polygon in WGS 84 (RFC 7946).
``towers.csv``
    Existing towers in the OpenCelliD column layout: several cells (GSM, UMTS, LTE) per
    tower scattered by a few tens of metres, plus a tower outside the region and CDMA cells
    (an unmapped radio), so the reader's skipping and counting shows.
``sample-district.yaml``
    A scenario using them (paths relative to its folder).

The people are made up (seeded Gaussian settlements); only the formats are real.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: Centre of the sample district (lon, lat) [deg].
SAMPLE_CENTRE = (34.6, -8.9)
SAMPLE_FILES = ("population.tif", "dem.tif", "boundary.geojson", "towers.csv",
                "sample-district.yaml")
_RES_DEG = 0.001
_NODATA = -99999.0

SCENARIO_TEXT = """\
# Real-data workflow on the sample files made by `ruralsim make-samples`.
name: sample-district
description: >-
  Sample district (made-up people in real file formats): population raster in WGS 84,
  district boundary, existing towers from an OpenCelliD-format CSV, 8 new RuralStar-class
  pole sites in the most populated 1 km blocks.
seed: 11
region:
  centre_lon_lat: [34.6, -8.9]
  width_km: 20
  height_km: 16
  resolution_m: 100
  boundary: boundary.geojson
population:
  raster: {file: population.tif}
technology: lte_900
sites:
  existing_towers:
    - file: towers.csv
      radio_map: {GSM: macro, UMTS: macro, LTE: macro, NR: macro}
      cluster_m: 100
  new:
    - station: ruralstar_pro
      placement: largest_settlements
      count: 8
      min_spacing_km: 2.5
"""


def _m_per_deg(lat_deg: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near ``lat_deg`` (spherical)."""
    m = 6_371_007.2 * np.pi / 180.0
    return m * np.cos(np.deg2rad(lat_deg)), m


def _raster_frame():
    """Top-left corner and shape of the sample rasters (larger than the region)."""
    lon0, lat0 = SAMPLE_CENTRE
    half_w, half_h = 0.13, 0.11  # deg, covers the 20 x 16 km region with a margin
    west, north = lon0 - half_w, lat0 + half_h
    ncols = int(round(2 * half_w / _RES_DEG))
    nrows = int(round(2 * half_h / _RES_DEG))
    return west, north, nrows, ncols


def sample_population(rng) -> tuple[np.ndarray, tuple]:
    """People per 0.001 deg cell (float32) with settlements, dispersed people and a lake."""
    west, north, nrows, ncols = _raster_frame()
    lon = west + (np.arange(ncols) + 0.5) * _RES_DEG
    lat = north - (np.arange(nrows) + 0.5) * _RES_DEG
    mx, my = _m_per_deg(SAMPLE_CENTRE[1])
    gx = (lon[None, :] - SAMPLE_CENTRE[0]) * mx
    gy = (lat[:, None] - SAMPLE_CENTRE[1]) * my
    people = np.full((nrows, ncols), 0.02, np.float64)  # dispersed households
    n = 40
    cx = rng.uniform(-12_000, 12_000, n)
    cy = rng.uniform(-10_000, 10_000, n)
    size = rng.lognormal(np.log(600), 0.9, n)
    sigma = 250.0 * np.sqrt(size / 1000.0) + 80.0
    cell_m2 = _RES_DEG * mx * _RES_DEG * my
    for x, y, p, s in zip(cx, cy, size, sigma):
        people += p * np.exp(-0.5 * ((gx - x) ** 2 + (gy - y) ** 2) / s**2) * cell_m2 / (
            2 * np.pi * s * s)
    lake = ((gx + 4_000) / 2_500) ** 2 + ((gy - 3_000) / 1_500) ** 2 < 1.0
    people = people.astype(np.float32)
    people[lake] = _NODATA
    return people, (west, north, nrows, ncols)


def sample_dem(rng) -> np.ndarray:
    """Elevation [m] on the same 0.001 deg frame (synthetic fBm relief, 1100-1450 m)."""
    from ..region.terrain import synthetic_dem

    _, _, nrows, ncols = _raster_frame()
    return synthetic_dem((nrows, ncols), 110.0, relief_m=350.0, roughness=0.25, ridges=1,
                         base_elevation_m=1100.0, rng=rng).astype(np.float32)


def sample_boundary_lonlat(rng) -> np.ndarray:
    """Vertices (lon, lat) of an irregular district polygon, about 8 km across the middle."""
    k = 28
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
    radius = 8_000 * (1 + 0.12 * np.sin(3 * ang + 0.5) + 0.08 * rng.standard_normal(k))
    rx, ry = 1.15 * radius * np.cos(ang), 0.9 * radius * np.sin(ang)
    mx, my = _m_per_deg(SAMPLE_CENTRE[1])
    ring = np.c_[SAMPLE_CENTRE[0] + rx / mx, SAMPLE_CENTRE[1] + ry / my]
    return np.vstack([ring, ring[:1]])


def sample_towers(rng) -> list[dict]:
    """OpenCelliD-format rows: 5 towers in the region (1-6 cells each), 1 outside, CDMA."""
    mx, my = _m_per_deg(SAMPLE_CENTRE[1])
    towers = [(-6500, 4500), (3000, 2500), (7200, -3800), (-8000, -5000), (9300, 1000)]
    radios_options = [["GSM"], ["GSM", "UMTS"], ["GSM", "UMTS", "LTE"], ["LTE"], ["GSM", "LTE"]]
    rows = []
    cell_id = 10_000
    t0 = 1_420_070_400  # 2015-01-01

    def add(x, y, radio, net):
        nonlocal cell_id
        cell_id += 1
        jx, jy = rng.normal(0, 25, 2)  # OpenCelliD positions scatter by tens of metres
        rows.append({
            "radio": radio, "mcc": 640, "net": net, "area": 2100 + net, "cell": cell_id,
            "unit": "" if radio == "GSM" else 0,
            "lon": round(SAMPLE_CENTRE[0] + (x + jx) / mx, 6),
            "lat": round(SAMPLE_CENTRE[1] + (y + jy) / my, 6),
            "range": int(rng.integers(500, 8000)), "samples": int(rng.integers(1, 400)),
            "changeable": 1, "created": t0 + int(rng.integers(0, 10**8)),
            "updated": t0 + 10**8 + int(rng.integers(0, 10**7)),
            "averageSignal": 0})

    for k, (x, y) in enumerate(towers):
        radios = radios_options[k % len(radios_options)]
        for radio in radios:
            for _sector in range(1 + int(rng.integers(0, 3))):
                add(x, y, radio, net=2 + (k % 2))
    add(16_000, 0, "GSM", 2)  # outside the 20 x 16 km region
    add(16_050, 20, "LTE", 2)
    add(-1000, -6500, "CDMA", 4)  # a radio the default map does not know
    add(-1010, -6490, "CDMA", 4)
    return rows


def make_samples(folder, *, seed: int = 2024, overwrite: bool = False) -> dict[str, Path]:
    """Write the sample files (see the module docstring) into ``folder``, atomically.

    The files are written into a hidden temporary folder beside ``folder`` and renamed into
    place when all are complete (:func:`simulator.io.outputs.atomic_folder`), so a failure
    (a full disk) or an interrupt never leaves a truncated ``population.tif``.

    Parameters
    ----------
    folder : path-like
        A new or empty folder (created with its parents if missing).
    seed : int
        Seed for the made-up people, relief, boundary and towers.
    overwrite : bool
        Replace an existing samples folder written by this tool (its ``manifest.json``);
        otherwise an existing non-empty folder is an error.

    Returns
    -------
    dict
        File name -> path.

    Raises
    ------
    ScenarioError
        ``folder`` exists and is not empty (without ``overwrite``), or is not a folder this
        tool may replace (nothing is written).
    """
    import rasterio
    from affine import Affine

    from .outputs import atomic_folder

    folder = Path(folder)
    paths = {name: folder / name for name in SAMPLE_FILES}
    with atomic_folder(folder, overwrite=overwrite, kind="samples", what="samples folder",
                       ) as tmp:
        _write_samples(tmp, seed, rasterio, Affine)
    return paths


def _write_samples(folder: Path, seed: int, rasterio, Affine) -> None:
    paths = {name: folder / name for name in SAMPLE_FILES}
    rng = np.random.default_rng(seed)
    people, (west, north, nrows, ncols) = sample_population(rng)
    transform = Affine(_RES_DEG, 0.0, west, 0.0, -_RES_DEG, north)
    profile = dict(driver="GTiff", height=nrows, width=ncols, count=1, dtype="float32",
                   crs="EPSG:4326", transform=transform, compress="deflate")
    with rasterio.open(paths["population.tif"], "w", nodata=_NODATA, **profile) as dst:
        dst.write(people, 1)
        dst.set_band_description(1, "people per cell (sample, made up)")
    with rasterio.open(paths["dem.tif"], "w", nodata=None, **profile) as dst:
        dst.write(sample_dem(rng), 1)
        dst.set_band_description(1, "elevation [m] (sample, synthetic)")
    ring = sample_boundary_lonlat(rng)
    import json

    paths["boundary.geojson"].write_text(json.dumps({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "Sample district"},
                      "geometry": {"type": "Polygon",
                                   "coordinates": [[[round(float(a), 6), round(float(b), 6)]
                                                    for a, b in ring]]}}]}, indent=1) + "\n",
        encoding="utf-8")
    from .towers import OPENCELLID_COLUMNS

    with open(paths["towers.csv"], "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=OPENCELLID_COLUMNS)
        w.writeheader()
        w.writerows(sample_towers(rng))
    paths["sample-district.yaml"].write_text(SCENARIO_TEXT, encoding="utf-8")
