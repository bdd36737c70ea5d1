"""Head to head with SPLAT!: one site, 20 km radius, SRTM terrain, ITM.

Run:  python benchmarks/bench_splat.py [--radius-km 20] [--keep DIR] [--no-itwom]
                                        [--sample-paths 20000] [--tile FILE]
                                        [--resolution-m M]

Needs SPLAT! 1.4.2 (``apt-get install splat``: ``splat-hd`` and ``srtm2sdf-hd`` for the
1 arc-second synthetic tile, ``splat`` and ``srtm2sdf`` for a 3 arc-second ``--tile``).
Prints figures; asserts nothing. ``--tile FILE`` runs the same comparison on a real
one-degree SRTM tile given as a GeoTIFF in EPSG:4326 (1 or 3 arc-second samples on whole
degrees, as USGS distributes them, e.g. ``n07_w006_3arc_v2.tif``): the site at the tile
centre, SPLAT! on the tile converted to its HGT / SDF form (declared nodata written as the
SRTM void value -32768, which ``srtm2sdf`` fills), ruralsim reading the GeoTIFF itself through
the scenario (at ``--resolution-m``, by default about one tile sample: 30 m at 1", 90 m at
3"). Steps, for the synthetic tile:

1. a synthetic SRTM-1 tile N00E036.hgt (3601 x 3601 big-endian int16, 1 arc-second,
   rows north to south) from :func:`simulator.region.terrain.synthetic_dem` (400 m relief,
   roughness 0.3, seed 1, + 1000 m) on ~30.9 m cells, rounded to whole metres, converted
   with ``srtm2sdf-hd``; the site is at the tile centre (0.5 N, 36.5 E), 15 m antenna;
2. SPLAT! HD Longley-Rice path loss (``-L 1.5 -R 20 -metric``) with ITM 1.2.2
   (``-olditm``) and with its default ITWOM 3.0, with and without the alphanumeric
   output (``-ano``), each timed twice (wall clock, and user + system CPU of the child);
3. ruralsim on the same tile, written as a GeoTIFF in EPSG:4326 and read through a
   scenario (``terrain: {raster: ...}``, ``propagation: {model: itm}``, the site placed by
   longitude/latitude, a 40 x 40 km region at 30 m in its UTM zone) with the same ITM
   parameters (continental temperate, N0 301, eps 15, sigma 0.005 S/m, vertical, 900 MHz,
   50 % time, 50 % situations, 15 m / 1.5 m): the whole :func:`simulator.run` and the
   terrain engine alone (:func:`simulator.pipeline.engine_terrain.compute_fields_terrain`), twice;
4. path loss compared at every location SPLAT! wrote: its latitude/longitude projected to
   the grid's CRS (pyproj) and our ``path_loss_db`` read at that cell;
5. a diagnostic that separates the ITM code from the terrain profiles: for a random sample
   of SPLAT!'s locations, our ITM (:func:`simulator.radio.propagation.itm.itm_p2p_loss_db`) on
   profiles built the way SPLAT! 1.4.2 builds them (great-circle samples one arc-second of
   latitude/longitude apart, nearest pixel of the tile), ending at the location and ending
   one sample before it.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# SPLAT! runs on one core, and so does this comparison: without these, numpy's OpenBLAS
# starts a thread per core for the matrix products of ITM's Delta_h, which on a machine
# whose other cores are busy makes the engine slower, not faster. Set the variables
# yourself to compare with more threads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

#: SRTM-1 tile: samples per side, and pixels per degree.
TILE_N = 3601
PPD = 3600
#: Tile south-west corner (N00E036) and the site at its centre [deg].
TILE_LAT0, TILE_LON0 = 0, 36
SITE_LAT, SITE_LON = 0.5, 36.5


@dataclass(frozen=True)
class Tile:
    """A one-degree SRTM tile and the site at its centre.

    ``n`` samples per side, ``ppd`` samples per degree (3600 at 1", 1200 at 3"), south-west
    corner ``lat0`` N / ``lon0`` E (whole degrees; samples on whole arc-seconds, row 0 at the
    north edge), the site at ``site_lat`` / ``site_lon`` [deg]; ``splat`` and ``srtm2sdf`` the
    SPLAT! programs for that resolution.
    """

    n: int = TILE_N
    ppd: int = PPD
    lat0: int = TILE_LAT0
    lon0: int = TILE_LON0
    site_lat: float = SITE_LAT
    site_lon: float = SITE_LON
    splat: str = "splat-hd"
    srtm2sdf: str = "srtm2sdf-hd"

    @property
    def hgt_name(self) -> str:
        """SRTM file name of the tile, e.g. ``N00E036.hgt`` or ``N07W006.hgt``."""
        ns = "N" if self.lat0 >= 0 else "S"
        ew = "E" if self.lon0 >= 0 else "W"
        return f"{ns}{abs(self.lat0):02d}{ew}{abs(self.lon0):03d}.hgt"

    @property
    def arcsec(self) -> int:
        """Sample spacing [arc-seconds]."""
        return 3600 // self.ppd


SYNTHETIC = Tile()
#: Mean Earth radius used to size the synthetic DEM's cells [m].
EARTH_RADIUS_M = 6_371_008.8
#: SPLAT!'s spherical Earth: 3959 miles [m] (its Distance(); path sampling).
SPLAT_EARTH_RADIUS_M = 3959.0 * 1609.344

TX_HEIGHT_M = 15.0
RX_HEIGHT_M = 1.5
FREQUENCY_MHZ = 900.0
ITM = {"climate": 5, "n0_n_units": 301.0, "polarization": 1, "epsilon_r": 15.0,
       "sigma_s_per_m": 0.005, "time_pct": 50.0, "situation_pct": 50.0}

LRP = """15.000  ; Earth Dielectric Constant (Relative permittivity)
0.005   ; Earth Conductivity (Siemens per meter)
301.000 ; Atmospheric Bending Constant (N-units)
900.000 ; Frequency in MHz (20 MHz to 20 GHz)
5       ; Radio Climate (5 = Continental Temperate)
1       ; Polarization (0 = Horizontal, 1 = Vertical)
0.50    ; Fraction of situations (50% of locations)
0.50    ; Fraction of time (50% of the time)
"""


def check_tools(tools=("splat-hd", "srtm2sdf-hd")) -> None:
    """Exit with one line when SPLAT! (the programs ``tools``) is not installed."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(f"bench_splat: {' and '.join(missing)} not found; install SPLAT! with "
                 "`apt-get install splat` (Debian/Ubuntu) and run again")


def make_tile(folder: Path) -> np.ndarray:
    """Write the synthetic SRTM-1 tile ``N00E036.hgt``; return its elevations.

    Returns
    -------
    numpy.ndarray, shape (3601, 3601)
        int16 elevations, row 0 = north edge (lat 1), column 0 = west edge (lon 36) [m].
    """
    from simulator.region.terrain import synthetic_dem

    # 1 arc-second of latitude; of longitude too within 0.004 % at 0-1 deg N
    res_m = EARTH_RADIUS_M * np.pi / 180.0 / PPD
    dem = synthetic_dem((TILE_N, TILE_N), res_m, relief_m=400.0, roughness=0.3, rng=1) + 1000
    z = np.rint(dem).astype(np.int16)
    z.astype(">i2").tofile(folder / f"N{TILE_LAT0:02d}E{TILE_LON0:03d}.hgt")
    return z


def write_geotiff(z: np.ndarray, path: Path) -> None:
    """The tile as an EPSG:4326 GeoTIFF (int16; SRTM samples are pixel centres)."""
    import rasterio
    from rasterio.transform import from_origin

    half = 0.5 / PPD
    transform = from_origin(TILE_LON0 - half, TILE_LAT0 + 1 + half, 1.0 / PPD, 1.0 / PPD)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0],
                       count=1, dtype="int16", crs="EPSG:4326", transform=transform) as dst:
        dst.write(z, 1)


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run a command; return (wall clock, user + system CPU of the child) [s]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench_splat: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def read_ano(path: Path):
    """SPLAT!'s alphanumeric output.

    Returns
    -------
    lat_deg, lon_east_deg, loss_db : numpy.ndarray
        Location of each computed point (longitude converted from SPLAT!'s degrees West)
        [deg] and its path loss [dB].
    obstructed : numpy.ndarray of bool
        SPLAT!'s ``*``: terrain blocks the line of sight (4/3 Earth).
    """
    text = path.read_text()
    body = text.split("\n", 2)[2]      # two header lines (map bounds)
    obstructed = np.array([line.endswith("*") for line in body.splitlines()])
    a = np.loadtxt(io.StringIO(body.replace("*", "")), delimiter=",", ndmin=2)
    lon_west = a[:, 1]
    lon_east = np.where(lon_west > 180.0, 360.0 - lon_west, -lon_west)
    return a[:, 0], lon_east, a[:, 4], obstructed


def splat_runs(folder: Path, radius_km: float, itwom: bool, tile: Tile = SYNTHETIC):
    """Run SPLAT! (each variant twice); return timings and the parsed outputs."""
    base = [tile.splat, "-t", "site.qth", "-L", f"{RX_HEIGHT_M:g}", "-R", f"{radius_km:g}",
            "-metric", "-d", str(folder)]
    variants = [("ITM 1.2.2 (-olditm), -ano", ["-olditm", "-ano", "itm.ano"]),
                ("ITM 1.2.2 (-olditm), no -ano", ["-olditm"])]
    if itwom:
        variants += [("ITWOM 3.0 (default), -ano", ["-ano", "itwom.ano"]),
                     ("ITWOM 3.0 (default), no -ano", [])]
    times = {}
    for label, extra in variants:
        times[label] = [timed(base + extra, folder) for _ in range(2)]
        print(f"  {label:30s} wall {times[label][0][0]:6.2f} s, {times[label][1][0]:6.2f} s"
              f"  (CPU user+sys {times[label][0][1]:6.2f} s, {times[label][1][1]:6.2f} s)")
    # loading the 65 MB SDF alone: a point-to-point run (no coverage)
    load = [timed([tile.splat, "-t", "site.qth", "-r", "rx.qth", "-metric", "-olditm", "-d",
                   str(folder)], folder)[0] for _ in range(2)]
    print(f"  (a point-to-point run, mostly reading the SDF: {load[0]:.2f} s, {load[1]:.2f} s)")
    out = {"itm": read_ano(folder / "itm.ano")}
    if itwom:
        out["itwom"] = read_ano(folder / "itwom.ano")
    return times, out


def scenario_dict(dem_path: Path, radius_km: float, tile: Tile = SYNTHETIC,
                  resolution_m: float = 30.0) -> dict:
    """The ruralsim scenario: one 15 m site at the tile centre, ITM as in the .lrp file."""
    side_km = 2.0 * radius_km
    return {
        "name": "splat-comparison",
        "seed": 0,
        "region": {"centre_lon_lat": [tile.site_lon, tile.site_lat], "width_km": side_km,
                   "height_km": side_km, "resolution_m": resolution_m},
        "population": {"synthetic": {"total_people": 20000, "settlements": 20}},
        "terrain": {"raster": {"file": str(dem_path)}},
        "technology": {"base": "lte_900", "frequency_mhz": FREQUENCY_MHZ},
        "propagation": {
            "model": "itm", "ue_height_m": RX_HEIGHT_M,
            # evaluate the whole disc like SPLAT!'s -R: reach capped at the radius and a
            # floor far below any signal there
            "max_range_km": radius_km, "floor_below_threshold_db": 60.0,
            "itm": {"climate": "continental_temperate", "surface_refractivity_n_units": 301.0,
                    "polarization": "vertical", "ground_permittivity": 15.0,
                    "ground_conductivity_s_per_m": 0.005, "time_pct": 50.0,
                    "situation_pct": 50.0}},
        "stations": {"ruralstar_pro": {"height_m": TX_HEIGHT_M}},
        "sites": {"new": [{"station": "ruralstar_pro", "placement": "list",
                           "positions": [{"name": "site", "lon": tile.site_lon,
                                          "lat": tile.site_lat}]}]},
    }


def cpu_s() -> float:
    """User + system CPU time of this process [s]."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def ours(dem_path: Path, radius_km: float, tile: Tile = SYNTHETIC, resolution_m: float = 30.0):
    """ruralsim: the whole run twice, then the terrain engine alone twice with the default
    Delta_h knots and twice with Delta_h on every path (exactly ITM on every profile).

    Returns
    -------
    (ScenarioResult, dict, dict)
        The last whole run; path loss grids of the engine-alone runs by knot fraction
        [dB]; timings: ``run``, ``engine`` (inside the run), ``alone_<knots>`` (lists of two
        wall-clock times [s]; the same keys + ``_cpu``: user + system CPU [s]), ``n_itm``
        (ITM paths evaluated), ``n_cells`` (cells with a loss).
    """
    from dataclasses import replace

    from simulator import parse_scenario, run
    from simulator.pipeline.engine import site_arrays
    from simulator.pipeline.engine_terrain import _thinned_samples, compute_fields_terrain
    from simulator.pipeline.runner import ITM_REACH_SLACK_DB, prepare

    scenario = parse_scenario(scenario_dict(dem_path, radius_km, tile, resolution_m))
    times = {"run": [], "run_cpu": [], "engine": []}
    for i in range(2):
        t0, c0 = time.perf_counter(), cpu_s()
        result = run(scenario)
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        t = result.timings_s
        times["run"].append(wall)
        times["run_cpu"].append(cpu)
        times["engine"].append(t["engine"])
        print(f"  whole run {i + 1}: {wall:.2f} s wall (CPU {cpu:.2f} s): terrain read + "
              f"reprojection {t['terrain']:.2f} s, engine {t['engine']:.2f} s, population "
              f"{t['population']:.2f} s, business {t['business']:.2f} s")
    pre = prepare(scenario)
    p = scenario.propagation
    sa = site_arrays(pre.sites, pre.stations, pre.technology, pre.model,
                     ue_height_m=p.ue_height_m,
                     floor_dbm=pre.technology.dl_threshold_dbm - p.floor_below_threshold_db
                     - ITM_REACH_SLACK_DB, max_range_m=p.max_range_km * 1000.0)
    fields = {}
    for knots in (p.itm.delta_h_knot_fraction, 0.0):
        method = replace(pre.method, itm=dict(pre.method.itm, delta_h_knot_fraction=knots))
        key = f"alone_{knots:g}"
        times[key], times[key + "_cpu"] = [], []
        for i in range(2):
            t0, c0 = time.perf_counter(), cpu_s()
            f, _ = compute_fields_terrain(pre.grid, pre.dem, sa, pre.technology, method,
                                          ue_height_m=p.ue_height_m)
            wall, cpu = time.perf_counter() - t0, cpu_s() - c0
            times[key].append(wall)
            times[key + "_cpu"].append(cpu)
            print(f"  terrain engine alone (Delta_h knots {knots:g}) {i + 1}: {wall:.2f} s "
                  f"wall (CPU {cpu:.2f} s)")
        fields[knots] = f.path_loss_db
    res = pre.grid.resolution_m
    n_steps = int(np.ceil(float(sa.reach_m[0]) / res - 1e-9)) + 1
    n_rays = max(4, int(np.ceil(2.0 * np.pi * float(sa.reach_m[0]) / res)))
    rays, _, _ = _thinned_samples(n_rays, n_steps)
    times["n_itm"] = int(rays.size)
    times["n_cells"] = int(np.isfinite(result.fields.path_loss_db).sum())
    print(f"  reach {sa.reach_m[0] / 1000:.2f} km; {n_rays} rays x {n_steps} steps; ITM "
          f"evaluated on {rays.size:,} ray samples, mapped to {times['n_cells']:,} cells")
    return result, fields, times


def great_circle(lat0_deg, lon0_deg, azimuth_rad, distance_m):
    """Points at ``distance_m`` along great circles on SPLAT!'s sphere [deg] (broadcast)."""
    lat0 = np.radians(lat0_deg)
    beta = np.asarray(distance_m) / SPLAT_EARTH_RADIUS_M
    lat = np.arcsin(np.sin(lat0) * np.cos(beta) + np.cos(lat0) * np.sin(beta)
                    * np.cos(azimuth_rad))
    dlon = np.arctan2(np.sin(azimuth_rad) * np.sin(beta) * np.cos(lat0),
                      np.cos(beta) - np.sin(lat0) * np.sin(lat))
    return np.degrees(lat), lon0_deg + np.degrees(dlon)


def splat_like_profiles(z, lat_deg, lon_deg, *, bilinear=False, tile: Tile = SYNTHETIC):
    """Terrain profiles from the site to points, sampled the way SPLAT! 1.4.2 does.

    SPLAT! (ReadPath in splat.cpp, as its source reads) walks the great circle from the
    site towards the map edge in steps of ``distance / sqrt(dlat^2 + dlon^2)`` with the
    angles in pixels (one sample per pixel of latitude/longitude change: one arc-second,
    ~30.9 m, for SPLAT! HD; three for SPLAT!) on a 3959-mile sphere, and takes the nearest
    pixel's elevation.  A location in the ``-ano`` file is one of those samples, sample
    ``y`` of its ray.

    Parameters
    ----------
    z : numpy.ndarray, shape (tile.n, tile.n)
        The tile [m].
    lat_deg, lon_deg : numpy.ndarray, shape (n,)
        SPLAT!'s locations (longitude east) [deg].
    bilinear : bool, optional
        Interpolate the tile bilinearly at the same samples instead of taking the nearest
        pixel (as our rays do on our grid).

    Returns
    -------
    elev_m : numpy.ndarray, shape (n, max_y + 1)
        Elevations of samples 0 .. y of each path (NaN after) [m].
    y : numpy.ndarray of int
        Sample index of each location [-].
    spacing_m : numpy.ndarray
        Sample spacing of each path [m].
    """
    from scipy import ndimage

    lat0, lon0 = np.radians(tile.site_lat), np.radians(tile.site_lon)
    lat1, lon1 = np.radians(lat_deg), np.radians(lon_deg)
    cosc = (np.sin(lat0) * np.sin(lat1) + np.cos(lat0) * np.cos(lat1)
            * np.cos(lon1 - lon0))
    d = SPLAT_EARTH_RADIUS_M * np.arccos(np.clip(cosc, -1.0, 1.0))
    az = np.arctan2(np.sin(lon1 - lon0) * np.cos(lat1),
                    np.cos(lat0) * np.sin(lat1) - np.sin(lat0) * np.cos(lat1)
                    * np.cos(lon1 - lon0))
    # one sample per pixel of (lat, lon) change along the ray
    per_pixel_m = SPLAT_EARTH_RADIUS_M * np.pi / 180.0 / tile.ppd
    nominal = per_pixel_m / np.sqrt(np.cos(az) ** 2 + (np.sin(az) / np.cos(lat0)) ** 2)
    y = np.maximum(np.rint(d / nominal).astype(np.int64), 2)
    spacing = d / y
    k = np.arange(int(y.max()) + 1)
    plat, plon = great_circle(tile.site_lat, tile.site_lon, az[:, None],
                              spacing[:, None] * k[None, :])
    row = tile.n - 1 - (plat - tile.lat0) * tile.ppd     # fractional pixel indices
    col = (plon - tile.lon0) * tile.ppd
    if bilinear:
        elev = ndimage.map_coordinates(z.astype(np.float64), [row.ravel(), col.ravel()],
                                       order=1, mode="nearest").reshape(row.shape)
    else:
        r = np.clip(np.rint(row).astype(np.int64), 0, tile.n - 1)
        c = np.clip(np.rint(col).astype(np.int64), 0, tile.n - 1)
        elev = z[r, c].astype(np.float64)
    elev[k[None, :] > y[:, None]] = np.nan
    return elev, y, spacing


def stats(diff: np.ndarray) -> str:
    """Median, 10th/90th percentiles and the share within 3 and 6 dB of a difference [dB]."""
    d = diff[np.isfinite(diff)]
    if d.size == 0:
        return "no values"
    p10, p50, p90 = np.percentile(d, [10, 50, 90])
    return (f"median {p50:+6.2f}, p10 {p10:+6.2f}, p90 {p90:+6.2f} dB; |diff| <= 3 dB "
            f"{np.mean(np.abs(d) <= 3):5.1%}, <= 6 dB {np.mean(np.abs(d) <= 6):5.1%} "
            f"(n={d.size:,})")


def ours_at(grid, loss_grid, lat, lon):
    """Our loss [dB] in the grid cell containing each (lat, lon) (NaN outside the grid)."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    row, col = grid.cell_of(x, y)
    ok = (row >= 0) & (row < grid.nrows) & (col >= 0) & (col < grid.ncols)
    out = np.full(np.shape(lat), np.nan)
    out[ok] = loss_grid[row[ok], col[ok]]
    return out


def compare(label, ours_db, loss_splat, obstructed, dist_m, radius_km):
    """Print ours - SPLAT! at SPLAT!'s locations: overall, by distance band (the last band
    open-ended: SPLAT!'s sphere puts a few locations a few metres beyond the radius), by
    SPLAT!'s line-of-sight flag, and the share of locations below a few loss thresholds."""
    diff = ours_db - loss_splat
    print(f"  {label}")
    print(f"    all locations          {stats(diff)}")
    edges = [e for e in (0, 1, 5, 10, 15, 20, 30, 40) if e < radius_km] + [radius_km]
    for lo, hi in zip(edges[:-1], edges[1:]):
        band = (dist_m >= lo * 1000) & ((dist_m < hi * 1000) | (hi == radius_km))
        name = f"{lo:g}-{hi:g} km"
        print(f"    {name:22s} {stats(diff[band])}")
    print(f"    SPLAT! line of sight   {stats(diff[~obstructed])}")
    print(f"    SPLAT! obstructed (*)  {stats(diff[obstructed])}")
    ok = np.isfinite(ours_db)
    shares = ", ".join(f"<= {t} dB {np.mean(loss_splat[ok] <= t):5.1%} / "
                       f"{np.mean(ours_db[ok] <= t):5.1%}" for t in (130, 140, 150, 160))
    print(f"    share of locations (SPLAT! / ours): {shares}")


def itm_on_splat_profiles(z, lat, lon, loss_splat, ours_db, n_sample, rng,
                          tile: Tile = SYNTHETIC):
    """Our ITM on SPLAT!-style profiles to a random sample of SPLAT!'s locations: separates
    the ITM code, SPLAT!'s choice of profile end, the terrain interpolation, and our grid,
    rays and mapping."""
    from simulator.radio.propagation.itm import itm_p2p_loss_db

    idx = np.sort(rng.choice(lat.size, size=min(n_sample, lat.size), replace=False))
    elev, y, spacing = splat_like_profiles(z, lat[idx], lon[idx], tile=tile)
    elev_b, _, _ = splat_like_profiles(z, lat[idx], lon[idx], bilinear=True, tile=tile)
    kw = dict(mdvar=12, location_pct=50.0, **ITM)
    short = itm_p2p_loss_db(elev, spacing, TX_HEIGHT_M, RX_HEIGHT_M, FREQUENCY_MHZ,
                            n_points=y, **kw)
    to_loc = itm_p2p_loss_db(elev, spacing, TX_HEIGHT_M, RX_HEIGHT_M, FREQUENCY_MHZ,
                             n_points=y + 1, **kw)
    to_loc_b = itm_p2p_loss_db(elev_b, spacing, TX_HEIGHT_M, RX_HEIGHT_M, FREQUENCY_MHZ,
                               n_points=y + 1, **kw)
    print(f"  our ITM (mdvar 12) on SPLAT!-style profiles (great circle, one sample per "
          f"{tile.arcsec} arc-second(s)), {idx.size:,} random SPLAT! locations:")
    d = np.abs(short - loss_splat[idx])
    p50, p95, p99 = np.percentile(d, [50, 95, 99])
    print(f"    (a) nearest pixel, ending one sample BEFORE the location, minus SPLAT!: |diff| "
          f"median {p50:.3f}, 95 % {p95:.3f}, 99 % {p99:.3f}, max {d.max():.2f} dB")
    print(f"    (b) nearest pixel, ending AT the location, minus SPLAT!     "
          f"{stats(to_loc - loss_splat[idx])}")
    print(f"    (c) bilinear minus nearest pixel, both ending at the location "
          f"{stats(to_loc_b - to_loc)}")
    print(f"    (d) ours (the run's cell) minus (bilinear, at the location)  "
          f"{stats(ours_db[idx] - to_loc_b)}")


def load_tile(path: Path):
    """A real one-degree SRTM GeoTIFF: its :class:`Tile` geometry and elevations.

    The file must be EPSG:4326 with square pixels of 1 or 3 arc-seconds whose centres lie
    on whole arc-seconds, 3601 or 1201 samples a side from a whole-degree south-west corner
    (the USGS distribution of SRTM, e.g. ``n07_w006_3arc_v2.tif``), which is also the
    layout of SPLAT!'s HGT input.  Exits with one line naming what does not fit.

    Returns
    -------
    (Tile, numpy.ndarray, int)
        The geometry (site at the tile centre), the int16 elevations (row 0 north; declared
        nodata set to the SRTM void value -32768 [m]), and the number of nodata samples.
    """
    import rasterio

    with rasterio.open(path) as src:
        z = src.read(1)
        crs, t, nodata = src.crs, src.transform, src.nodata
    n = z.shape[0]
    fail = None
    if crs is None or crs.to_epsg() != 4326:
        fail = f"CRS {crs} (allowed: EPSG:4326)"
    elif z.shape[0] != z.shape[1] or n not in (1201, 3601):
        fail = f"shape {z.shape} (allowed: 1201 x 1201 or 3601 x 3601)"
    else:
        ppd = n - 1
        half = 0.5 / ppd
        lon0 = round(t.c + half)
        lat0 = round(t.f - half) - 1
        if (abs(t.a - 1.0 / ppd) > 1e-9 or abs(t.e + 1.0 / ppd) > 1e-9 or t.b or t.d
                or abs(t.c + half - lon0) > 1e-6 or abs(t.f - half - (lat0 + 1)) > 1e-6):
            fail = (f"transform {tuple(t)[:6]} (allowed: {3600 // ppd} arc-second pixels "
                    "centred on whole arc-seconds from a whole-degree corner)")
    if fail:
        sys.exit(f"bench_splat: --tile {path}: {fail}")
    n_void = 0
    if nodata is not None:
        void = z == np.int16(nodata) if np.isfinite(nodata) else np.zeros(z.shape, bool)
        n_void = int(void.sum())
        z = np.where(void, np.int16(-32768), z).astype(np.int16)
    hd = ppd == 3600
    tile = Tile(n=n, ppd=ppd, lat0=lat0, lon0=lon0, site_lat=lat0 + 0.5, site_lon=lon0 + 0.5,
                splat="splat-hd" if hd else "splat", srtm2sdf="srtm2sdf-hd" if hd else "srtm2sdf")
    return tile, z, n_void


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius-km", type=float, default=20.0)
    ap.add_argument("--keep", type=Path, default=None,
                    help="work in this folder and keep the files (default: a temporary one)")
    ap.add_argument("--no-itwom", action="store_true", help="skip the ITWOM runs")
    ap.add_argument("--sample-paths", type=int, default=20000,
                    help="locations for the ITM-on-SPLAT!-profiles diagnostic")
    ap.add_argument("--tile", type=Path, default=None,
                    help="a real one-degree SRTM GeoTIFF (EPSG:4326, 1 or 3 arc-second) "
                         "instead of the synthetic tile; the site is at its centre")
    ap.add_argument("--resolution-m", type=float, default=None,
                    help="ruralsim grid resolution (default: 30 m for a 1\" tile, 90 m for 3\")")
    args = ap.parse_args(argv)
    if args.tile is not None and not args.tile.is_file():
        sys.exit(f"bench_splat: --tile {args.tile}: no such file")
    tile = load_tile(args.tile)[0] if args.tile is not None else SYNTHETIC
    check_tools((tile.splat, tile.srtm2sdf))
    if args.radius_km <= 0 or args.radius_km > 50:
        sys.exit("bench_splat: --radius-km must be in (0, 50] (the site is 55 km from the "
                 "tile edges)")
    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_splat_")
        folder = Path(tmp.name)
    else:
        folder = args.keep.resolve()
        folder.mkdir(parents=True, exist_ok=True)
    try:
        run_all(folder, args)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run_all(folder: Path, args) -> None:
    """Everything, in ``folder``."""
    t0 = time.perf_counter()
    if args.tile is None:
        tile = SYNTHETIC
        z = make_tile(folder)
        dem_path = folder / "N00E036.tif"
        write_geotiff(z, dem_path)
        what = "synthetic tile"
    else:
        tile, z, n_void = load_tile(args.tile)
        z.astype(">i2").tofile(folder / tile.hgt_name)
        dem_path = args.tile.resolve()      # ruralsim reads the real file itself
        what = f"{args.tile.name} ({n_void} nodata samples written as SRTM voids)"
    res_m = args.resolution_m or (30.0 if tile.ppd == 3600 else 90.0)
    print(f"bench_splat: one site at {tile.site_lat} N {tile.site_lon} E, {args.radius_km:g} "
          f"km radius, {tile.arcsec} arc-second terrain ({what}), ruralsim grid {res_m:g} m, "
          f"{FREQUENCY_MHZ:g} MHz, {TX_HEIGHT_M:g} m / {RX_HEIGHT_M:g} m; {os.cpu_count()} "
          f"CPUs, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; working in "
          f"{folder}")
    subprocess.run([tile.srtm2sdf, "-d", "/dev/null", tile.hgt_name], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    west = (-tile.site_lon) % 360.0                          # SPLAT!: degrees West
    (folder / "site.qth").write_text(
        f"site\n{tile.site_lat}\n{west}\n{TX_HEIGHT_M:g} meters\n")
    (folder / "rx.qth").write_text(
        f"rx\n{tile.site_lat + 0.05}\n{west - 0.05}\n{RX_HEIGHT_M:g} meters\n")
    (folder / "site.lrp").write_text(LRP)
    valid = z[z != -32768]
    print(f"terrain: {valid.min()}..{valid.max()} m, HGT, SDF (and GeoTIFF) written in "
          f"{time.perf_counter() - t0:.1f} s\n")

    print(f"SPLAT! 1.4.2 `{tile.splat}` (single-threaded), two runs each:")
    times, splat = splat_runs(folder, args.radius_km, not args.no_itwom, tile)
    lat, lon, loss_itm, obstructed = splat["itm"]
    print(f"  locations computed: {lat.size:,} (each pixel once: the first ray to reach it)\n")

    print("ruralsim:")
    result, fields, ours_t = ours(dem_path, args.radius_km, tile, res_m)
    grid = result.grid
    knots = result.scenario.propagation.itm.delta_h_knot_fraction

    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    site_lon, site_lat = np.full(lat.size, tile.site_lon), np.full(lat.size, tile.site_lat)
    _, _, dist_m = geod.inv(site_lon, site_lat, lon, lat)
    print("\nPath loss, ours minus SPLAT! at SPLAT!'s locations (our cell containing each):")
    ours_run = ours_at(grid, result.fields.path_loss_db, lat, lon)
    compare(f"vs SPLAT! ITM 1.2.2 (-olditm); ours: the whole run (Delta_h knots {knots:g})",
            ours_run, loss_itm, obstructed, dist_m, args.radius_km)
    compare("vs SPLAT! ITM 1.2.2 (-olditm); ours: Delta_h on every path (knots 0)",
            ours_at(grid, fields[0.0], lat, lon), loss_itm, obstructed, dist_m,
            args.radius_km)
    if "itwom" in splat:
        la, lo, loss_w, obs_w = splat["itwom"]
        _, _, dist_w = geod.inv(np.full(la.size, tile.site_lon), np.full(la.size, tile.site_lat),
                                lo, la)
        compare("vs SPLAT! ITWOM 3.0 (its default model, not ITM 1.2.2); ours: the whole run",
                ours_at(grid, result.fields.path_loss_db, la, lo), loss_w, obs_w, dist_w,
                args.radius_km)
    print()
    itm_on_splat_profiles(z, lat, lon, loss_itm, ours_run, args.sample_paths,
                          np.random.default_rng(0), tile)

    def row(label, wall, cpu, note=""):
        print(f"  {label:40s} {wall[0]:6.2f} s, {wall[1]:6.2f} s   {cpu[0]:6.2f} s, "
              f"{cpu[1]:6.2f} s  {note}")

    print(f"\nSummary (one site, {args.radius_km:g} km radius, {tile.arcsec} arc-second / "
          f"{res_m:g} m, two runs each):")
    print(f"  {'':40s} {'wall clock':>18s}   {'CPU user+sys':>18s}")
    s_ano, s_plain = times["ITM 1.2.2 (-olditm), -ano"], times["ITM 1.2.2 (-olditm), no -ano"]
    row(f"{tile.splat} ITM (-olditm), no -ano", *zip(*s_plain),
        f"{lat.size:,} locations, one ITM path each")
    row(f"{tile.splat} ITM (-olditm), with -ano", *zip(*s_ano))
    if "ITWOM 3.0 (default), no -ano" in times:
        row(f"{tile.splat} ITWOM 3.0, no -ano", *zip(*times["ITWOM 3.0 (default), no -ano"]))
    key = f"alone_{knots:g}"
    row(f"ruralsim terrain engine (knots {knots:g})", ours_t[key], ours_t[key + "_cpu"],
        f"{ours_t['n_itm']:,} ITM paths, {ours_t['n_cells']:,} cells")
    row("ruralsim terrain engine (knots 0)", ours_t["alone_0"], ours_t["alone_0_cpu"])
    row("ruralsim whole run", ours_t["run"], ours_t["run_cpu"])
    sw, sc = min(w for w, _ in s_plain), min(c for _, c in s_plain)
    print(f"  SPLAT! (-olditm, no -ano) / ruralsim engine, best of two: wall "
          f"{sw / min(ours_t[key]):.1f}x, CPU {sc / min(ours_t[key + '_cpu']):.1f}x; knots 0: "
          f"wall {sw / min(ours_t['alone_0']):.1f}x, CPU "
          f"{sc / min(ours_t['alone_0_cpu']):.1f}x; whole run: wall "
          f"{sw / min(ours_t['run']):.1f}x, CPU {sc / min(ours_t['run_cpu']):.1f}x")


if __name__ == "__main__":
    main()
