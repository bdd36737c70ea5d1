"""Reading an income raster at site positions (``adoption.income_raster``).

The raster holds the median income per person [USD per month] of each pixel, in any CRS
(e.g. a subnational GDP per capita or consumption grid converted to a monthly median; see
docs/economics.md). Each site takes the value of the pixel it stands in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ScenarioError

__all__ = ["sample_income_raster"]


def sample_income_raster(path: Path | str, site_xy_m, crs: str, *, band: int = 1,
                         key: str = "adoption.income_raster.file",
                         scenario_file: str | None = None) -> np.ndarray:
    """The raster's value at each site [USD/month]; NaN where it has no data.

    Parameters
    ----------
    path : path-like
        GeoTIFF (or another raster GDAL reads) with a CRS.
    site_xy_m : array_like, shape (n, 2)
        Sites in ``crs`` [m].
    crs : str
        The region's CRS.
    band : int, keyword-only
        Band to read (1-based).

    Raises
    ------
    ScenarioError
        Missing or unreadable file, no CRS, a band that does not exist, a negative income.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.warp import transform

    path = Path(path)
    where = dict(file=scenario_file, key=key)
    if not path.is_file():
        raise ScenarioError(f"income raster {path} not found (paths are relative to the "
                            "scenario file's folder)", value=str(path), **where)
    xy = np.asarray(site_xy_m, dtype=np.float64).reshape(-1, 2)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise ScenarioError(f"cannot read income raster {path} ({str(exc).splitlines()[0]}); "
                            "allowed: a GeoTIFF of median income per person [USD/month]",
                            value=str(path), **where) from None
    with src:
        if src.crs is None:
            raise ScenarioError(f"income raster {path} has no CRS; assign one (e.g. "
                                "gdal_edit.py -a_srs EPSG:4326)", value=str(path), **where)
        if not 1 <= band <= src.count:
            raise ScenarioError(f"band {band} does not exist in {path} ({src.count} bands); "
                                f"allowed: 1..{src.count}", file=scenario_file,
                                key="adoption.income_raster.band", value=band)
        if not len(xy):
            return np.zeros(0)
        xs, ys = transform(crs, src.crs, xy[:, 0].tolist(), xy[:, 1].tolist())
        # pixel of each site from the affine coefficients (x = a col + b row + c,
        # y = d col + e row + f), solved with numpy
        t = src.transform
        m = np.array([[t.a, t.b], [t.d, t.e]], dtype=np.float64)
        colrow = np.linalg.solve(m, np.vstack([np.asarray(xs) - t.c, np.asarray(ys) - t.f]))
        cols = np.floor(colrow[0]).astype(np.int64)
        rows = np.floor(colrow[1]).astype(np.int64)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        vals = np.full(len(xy), np.nan)
        if inside.any():
            from rasterio.windows import Window

            r0, r1 = int(rows[inside].min()), int(rows[inside].max())
            c0, c1 = int(cols[inside].min()), int(cols[inside].max())
            try:
                block = src.read(band, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1),
                                 masked=False).astype(np.float64)
            except RasterioIOError as exc:
                raise ScenarioError(f"income raster {path} is truncated or corrupt "
                                    f"({str(exc).splitlines()[0]}); allowed: a complete, "
                                    "readable GeoTIFF", value=str(path), **where) from None
            vals[inside] = block[rows[inside] - r0, cols[inside] - c0]
        nodata = src.nodata
    vals = np.where(inside, vals, np.nan)
    if nodata is not None:
        vals = np.where(vals == nodata, np.nan, vals)
    bad = np.isfinite(vals) & (vals <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ScenarioError(f"income raster {path} has {vals[i]:g} at a site ({xy[i, 0]:.0f}, "
                            f"{xy[i, 1]:.0f} m in {crs}); allowed: a median income > 0 USD a "
                            "month, or the raster's nodata value", value=str(path), **where)
    return vals
