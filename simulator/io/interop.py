"""Results for Python users: an xarray Dataset, a GeoDataFrame of sites, a short repr.

The result classes call these through thin methods (``result.to_xarray()``,
``result.sites_frame()``, ``repr(result)``):

* :func:`to_xarray`: every per-cell field on ``x``/``y`` cell-centre coordinates [m], the
  CRS as a CF grid mapping (the ``spatial_ref`` coordinate that rioxarray and GDAL read,
  from :meth:`pyproj.CRS.to_cf`), units and descriptions as attributes, cells outside the
  region boundary as no-data exactly as the GeoTIFFs hold them. A tiled run's Dataset is
  opened lazily from the GeoTIFFs of its results folder (dask chunks, one window read
  per chunk).
* :func:`sites_frame`: the sites with their attributes, in WGS 84 by default.
* :func:`result_repr`: a few lines of headline numbers instead of the whole scenario.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _coords(grid) -> dict:
    """Cell-centre coordinates [m] of a north-up grid (y decreasing, as in the files)."""
    r = grid.resolution_m
    x = grid.x_min_m + (np.arange(grid.ncols) + 0.5) * r
    y = grid.y_max_m - (np.arange(grid.nrows) + 0.5) * r
    return {"x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate",
                           "axis": "X"}),
            "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate",
                           "axis": "Y"})}


def _spatial_ref(grid):
    """The CF grid-mapping variable of ``grid`` (pyproj), with GDAL's GeoTransform."""
    import xarray as xr
    from pyproj import CRS

    attrs = CRS.from_user_input(grid.crs).to_cf()
    t = grid.transform
    attrs["GeoTransform"] = " ".join(str(v) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
    attrs["spatial_ref"] = attrs.get("crs_wkt", "")
    return xr.DataArray(np.int32(0), attrs=attrs)


def result_fields(result) -> list[tuple[str, np.ndarray, str, str]]:
    """(name, array, description, units) of every per-cell field of an in-memory result.

    The names of the fields written as GeoTIFFs are the files' stems, with the same
    values (cells outside the boundary as no-data, see :func:`simulator.io.rasters.
    outside_nodata`); the rest (the existing sites alone, interference, people covered
    per cell, the region mask) exist only in memory.
    """
    f, sv = result.fields, result.serving
    metric = result.technology.signal_metric.upper()
    out = [("population", result.population.people.astype(np.int32), "people per cell",
            "people"),
           ("rx_power_dbm", f.rx_dbm, f"best-server downlink {metric}", "dBm"),
           ("best_server", f.best_server.astype(np.int32),
            "best-server site index (sites.geojson order), -1 none", ""),
           ("covered", result.covered.astype(np.uint8),
            "1 where an outdoor person is covered (downlink, uplink and SINR)", ""),
           ("path_loss_db", f.path_loss_db, "path loss from the best server", "dB")]
    if sv is not None:
        out += [("sinr_db", np.where(f.best_server >= 0, sv.sinr_db,
                                     np.float32(np.nan)).astype(np.float32),
                 "downlink SINR at the best server", "dB")]
        if result.technology.carries_data:
            out.append(("throughput_mbps", sv.throughput_mbps,
                        "single-user downlink throughput, TR 36.942 truncated Shannon",
                        "Mbit/s"))
        out += [("coverage_probability", sv.coverage_probability,
                 "probability that an outdoor location is covered (downlink and uplink)", ""),
                ("limitation", sv.limitation, "0 covered, 1 downlink-limited, 2 uplink-limited, "
                 "3 interference-limited, 4 no site within reach, 5 terrain-limited", "")]
    if result.terrain is not None:
        out.append(("terrain", result.terrain.astype(np.float32), "ground elevation", "m"))
        if sv is not None and sv.line_of_sight is not None:
            out.append(("line_of_sight", sv.line_of_sight.astype(np.uint8),
                        "1 where a site within reach is in line of sight", ""))
    # in memory only
    if f.interference_dbm is not None:
        out.append(("interference_dbm", f.interference_dbm,
                    "co-channel interference at the best server's channel", "dBm"))
    if sv is not None:
        out += [("people_covered", sv.people_covered.astype(np.int64),
                 "people covered per cell (outdoor and indoor parts)", "people"),
                ("people_covered_expected", sv.people_covered_expected,
                 "expected people covered per cell (shadowing)", "people"),
                ("people_served", sv.people_served_per_cell,
                 "people served at the busy hour per cell (after capacity)", "people")]
    if result.covered_existing is not None:
        out.append(("covered_existing", result.covered_existing.astype(np.uint8),
                    "1 where covered by the existing sites alone", ""))
    fe = result.fields_existing
    if fe is not None:
        out.append(("rx_power_existing_dbm", fe.rx_dbm,
                    f"best-server downlink {metric}, existing sites alone", "dBm"))
    if result.region_mask is not None:
        out.append(("region_mask", result.region_mask.astype(np.uint8),
                    "1 where the cell centre is inside the region", ""))
    return out


#: Fields that keep their values outside the region boundary (inputs, or the mask).
_UNMASKED = {"terrain", "region_mask"}


def to_xarray(result):
    """The per-cell fields of a run as an :class:`xarray.Dataset`.

    Parameters
    ----------
    result : ScenarioResult or TiledResult
        A tiled run is read lazily from the GeoTIFFs in ``result.out_dir`` (it keeps no
        region-sized arrays; dask needed).

    Returns
    -------
    xarray.Dataset
        Dimensions ``y``, ``x`` (cell centres [m] in the grid CRS); the CRS in the
        ``spatial_ref`` coordinate (CF grid mapping, ``crs_wkt``), each variable with
        ``units``, ``description``, ``grid_mapping`` and ``_FillValue`` where it has a
        no-data value; ``attrs`` hold the headline numbers (summary.json's scalars).
    """
    import xarray as xr

    from .rasters import outside_nodata

    if getattr(result, "fields", None) is None:     # a tiled run: its GeoTIFFs
        return _tiled_to_xarray(result)
    g = result.grid
    mask = result.region_mask
    outside = None if mask is None or mask.all() else ~mask
    data_vars = {}
    for name, arr, desc, units in result_fields(result):
        a = np.asarray(arr)
        attrs = {"description": desc, "grid_mapping": "spatial_ref"}
        if units:
            attrs["units"] = units
        fill = None
        if a.dtype.kind == "f":
            fill = np.nan
        elif name == "best_server":
            fill = -1
        if outside is not None and name not in _UNMASKED:
            fill = outside_nodata(a.dtype) if fill is None else fill
            a = np.where(outside, np.array(fill).astype(a.dtype), a)
        if fill is not None and a.dtype.kind != "f":
            attrs["_FillValue"] = fill
        data_vars[name] = (("y", "x"), a, attrs)
    ds = xr.Dataset(data_vars, coords=_coords(g))
    ds = ds.assign_coords(spatial_ref=_spatial_ref(g))
    ds.attrs.update(_summary_attrs(result))
    return ds


def _summary_attrs(result) -> dict:
    s = result.summary
    out = {"title": f"ruralsim results: {result.scenario.name}", "crs": result.grid.crs,
           "resolution_m": float(result.grid.resolution_m), "Conventions": "CF-1.8"}
    for k, v in s.items():
        if isinstance(v, (int, float, str)) and not isinstance(v, bool):
            out[k] = v
    return out


class _WindowReader:
    """A GeoTIFF band as a lazily indexed array: each slice reads only its window."""

    def __init__(self, path: Path):
        import rasterio

        self.path = Path(path)
        with rasterio.open(self.path) as src:
            self.shape = (src.height, src.width)
            self.dtype = np.dtype(src.dtypes[0])
            self.nodata = src.nodata
            self.units = src.units[0] or ""
            self.description = src.descriptions[0] or ""
        self.ndim = 2

    def __getitem__(self, key):
        import rasterio
        from rasterio.windows import Window

        rows, cols = key
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        with rasterio.open(self.path) as src:
            return src.read(1, window=Window(c0, r0, max(c1 - c0, 0), max(r1 - r0, 0)))


def _tiled_to_xarray(result, chunk_cells: int = 1024):
    """The GeoTIFFs of a tiled run's folder as a Dataset of dask arrays (one window read
    per chunk of ``chunk_cells`` a side), with the in-memory run's coordinates and CRS."""
    import xarray as xr

    try:
        import dask.array as darr
    except ImportError:  # pragma: no cover - the [dask] extra
        raise ImportError("a tiled run's Dataset is read lazily with dask "
                          "(pip install 'ruralsim[dask]')") from None
    folder = getattr(result, "out_dir", None)
    if folder is None or not Path(folder).is_dir():
        raise ValueError("this tiled run wrote no results folder (out_dir); run it with "
                         "out_dir= to get its Dataset")
    g = result.grid
    data_vars = {}
    for path in sorted(Path(folder).glob("*.tif")):
        src = _WindowReader(path)
        if src.shape != g.shape:
            continue
        arr = darr.from_array(src, chunks=(chunk_cells, chunk_cells), asarray=True,
                              fancy=False, name=f"ruralsim-{path.stem}-{id(result)}")
        attrs = {"description": src.description, "grid_mapping": "spatial_ref"}
        if src.units:
            attrs["units"] = src.units
        if src.nodata is not None and src.dtype.kind != "f":
            attrs["_FillValue"] = src.dtype.type(src.nodata)
        data_vars[path.stem] = (("y", "x"), arr, attrs)
    ds = xr.Dataset(data_vars, coords=_coords(g))
    ds = ds.assign_coords(spatial_ref=_spatial_ref(g))
    ds.attrs.update(_summary_attrs(result))
    return ds


def sites_frame(result, crs: str | None = "EPSG:4326"):
    """The sites as a :class:`geopandas.GeoDataFrame` (what sites.geojson holds).

    Parameters
    ----------
    result : ScenarioResult or TiledResult
    crs : str or None
        Target CRS (default WGS 84, coordinates rounded to 1e-7 deg); None keeps the
        grid's projected CRS.
    """
    from .vectors import round_lonlat, sites_frame as _frame

    frame = _frame(result)
    if crs is None:
        return frame
    frame = frame.to_crs(crs)
    return round_lonlat(frame) if frame.crs.is_geographic else frame


def result_repr(result) -> str:
    """A few lines: scenario, people covered and connected, sites, grid, model, cost."""
    from .maplayers import model_label

    s = result.summary
    g = result.grid
    kind = "TiledResult" if getattr(result, "mode", None) == "tiled" else \
        type(result).__name__
    if not s:
        return f"<{kind} {result.scenario.name!r} (no summary)>"
    lines = [f"<{kind} {result.scenario.name!r}: {s['people_covered']:,} of "
             f"{s['population_total']:,} people covered "
             f"({100 * s['coverage_fraction']:.1f} %)"]
    if "people_connected" in s:
        lines.append(f"  connected {s['people_connected']:,} in year {s.get('horizon_years')}")
    lines.append(f"  {s['sites_total']} sites ({s['sites_existing']} existing, "
                 f"{s['sites_new']} new) · {result.technology.label} · "
                 f"{model_label(s['propagation_model'])}")
    lines.append(f"  grid {g.ncols} x {g.nrows} cells of {g.resolution_m:g} m ({g.crs})")
    if s.get("marginal_cost_per_person_connected_usd") is not None:
        lines.append(f"  USD {s['marginal_cost_per_person_connected_usd']:,.0f} per person "
                     "newly connected (new sites)")
    return "\n".join(lines) + ">"
