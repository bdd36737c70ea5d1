"""Grid: the scenario's raster in a metric CRS (north-up), its cells and its tiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np


def utm_epsg_for(lon_deg: float, lat_deg: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing a point (326xx north, 327xx south).

    Norway/Svalbard zone exceptions are ignored (they do not matter for rural Africa/Asia
    districts; a scenario can always name its CRS explicitly).
    """
    if not (-180.0 <= lon_deg <= 180.0 and -80.0 <= lat_deg <= 84.0):
        raise ValueError(f"centre lon/lat ({lon_deg}, {lat_deg}) is outside the UTM range "
                         "(lon -180..180, lat -80..84)")
    zone = min(int((lon_deg + 180.0) // 6.0) + 1, 60)
    return (32600 if lat_deg >= 0 else 32700) + zone


@dataclass(frozen=True)
class Tile:
    """A rectangular block of cells: rows ``row0:row1``, columns ``col0:col1``."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row1 - self.row0, self.col1 - self.col0)

    @property
    def slices(self) -> tuple[slice, slice]:
        return (slice(self.row0, self.row1), slice(self.col0, self.col1))


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid in a projected, metric CRS.

    Cell ``(i, j)`` (row ``i`` from the north edge, column ``j`` from the west edge) has
    its centre at ``x = x_min_m + (j + 0.5) * resolution_m`` and
    ``y = y_max_m - (i + 0.5) * resolution_m``.

    Parameters
    ----------
    crs : str
        Projected CRS with metre units, e.g. ``"EPSG:32736"``.
    x_min_m, y_max_m : float
        Coordinates of the north-west corner [m].
    resolution_m : float
        Cell size [m] (square cells).
    nrows, ncols : int
        Raster shape.
    """

    crs: str
    x_min_m: float
    y_max_m: float
    resolution_m: float
    nrows: int
    ncols: int

    @classmethod
    def centred(cls, crs: str, centre_x_m: float, centre_y_m: float, width_m: float,
                height_m: float, resolution_m: float, *, snap: bool = False) -> "Grid":
        """A grid of ``width_m x height_m`` centred on a point (rounded to whole cells).

        With ``snap`` the north-west corner is moved (by at most half a cell) to a whole
        multiple of the resolution in the CRS, so the grids of every run at that resolution
        share cell edges and their rasters overlay cell for cell.
        """
        ncols = int(round(width_m / resolution_m))
        nrows = int(round(height_m / resolution_m))
        if ncols < 1 or nrows < 1:
            raise ValueError(f"region {width_m} m x {height_m} m is smaller than one "
                             f"{resolution_m} m cell")
        x_min = centre_x_m - ncols * resolution_m / 2.0
        y_max = centre_y_m + nrows * resolution_m / 2.0
        if snap:
            x_min = round(x_min / resolution_m) * float(resolution_m)
            y_max = round(y_max / resolution_m) * float(resolution_m)
        return cls(crs=crs, x_min_m=x_min, y_max_m=y_max,
                   resolution_m=float(resolution_m), nrows=nrows, ncols=ncols)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def n_cells(self) -> int:
        return self.nrows * self.ncols

    @property
    def cell_area_km2(self) -> float:
        return (self.resolution_m / 1000.0) ** 2

    @property
    def x_max_m(self) -> float:
        return self.x_min_m + self.ncols * self.resolution_m

    @property
    def y_min_m(self) -> float:
        return self.y_max_m - self.nrows * self.resolution_m

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) [m]."""
        return (self.x_min_m, self.y_min_m, self.x_max_m, self.y_max_m)

    @property
    def area_km2(self) -> float:
        return self.n_cells * self.cell_area_km2

    @property
    def transform(self):
        """The rasterio/affine transform of the grid."""
        from affine import Affine

        return Affine(self.resolution_m, 0.0, self.x_min_m, 0.0, -self.resolution_m,
                      self.y_max_m)

    def x_centres(self, col0: int = 0, col1: int | None = None) -> np.ndarray:
        col1 = self.ncols if col1 is None else col1
        return self.x_min_m + (np.arange(col0, col1) + 0.5) * self.resolution_m

    def y_centres(self, row0: int = 0, row1: int | None = None) -> np.ndarray:
        row1 = self.nrows if row1 is None else row1
        return self.y_max_m - (np.arange(row0, row1) + 0.5) * self.resolution_m

    def cell_of(self, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of the cells containing points (may be outside the grid)."""
        col = np.floor((np.asarray(x_m) - self.x_min_m) / self.resolution_m).astype(np.int64)
        row = np.floor((self.y_max_m - np.asarray(y_m)) / self.resolution_m).astype(np.int64)
        return row, col

    def contains(self, x_m, y_m) -> np.ndarray:
        x = np.asarray(x_m)
        y = np.asarray(y_m)
        return (x >= self.x_min_m) & (x < self.x_max_m) & (y > self.y_min_m) & (y <= self.y_max_m)

    def tiles(self, tile_size_cells: int) -> Iterator[Tile]:
        """Square tiles of at most ``tile_size_cells`` a side, row-major order."""
        if tile_size_cells < 1:
            raise ValueError(f"tile_size_cells={tile_size_cells} must be >= 1")
        for r0 in range(0, self.nrows, tile_size_cells):
            for c0 in range(0, self.ncols, tile_size_cells):
                yield Tile(r0, min(r0 + tile_size_cells, self.nrows), c0,
                           min(c0 + tile_size_cells, self.ncols))

    def tile_centre_and_radius(self, tile: Tile) -> tuple[float, float, float]:
        """Centre (x, y) of a tile and the radius of its circumscribed circle [m]."""
        xc = self.x_min_m + (tile.col0 + tile.col1) / 2.0 * self.resolution_m
        yc = self.y_max_m - (tile.row0 + tile.row1) / 2.0 * self.resolution_m
        h, w = tile.shape
        return xc, yc, 0.5 * self.resolution_m * float(np.hypot(h, w))


#: Largest scale error a region's CRS may have anywhere in the region, abs(k - 1) (Tissot's
#: largest and smallest scale). 1 % of distance changes a path loss by 0.17 dB at 40 dB per
#: decade, far below the shadowing spread; a UTM zone stays within 0.1 % inside its zone
#: and within 0.5 % one zone beyond it, so regions that straddle a zone boundary pass.
CRS_SCALE_TOLERANCE = 0.01


def crs_fit_problem(grid: Grid, *, default: bool = False) -> str | None:
    """Why ``grid.crs`` does not fit the region, or None when it does.

    Two checks on a 5 x 5 lattice of points over the region (corners included), with
    pyproj: the CRS's area of use (EPSG's bounding box) must hold at least one of them
    (a region straddling a UTM zone boundary is fine; a CRS made for another continent
    is not), and its scale error (Tissot's semi-axes, :func:`pyproj.Proj.get_factors`)
    must be at most :data:`CRS_SCALE_TOLERANCE` at every point: distances on the grid are
    then within 1 % of distances on the ground.

    Parameters
    ----------
    grid : Grid
    default : bool
        The CRS was chosen by the program (the UTM zone of the centre), not by the user:
        only the wording of the message changes.

    Returns
    -------
    str or None
        A one-line message naming the CRS, the problem and a CRS that fits.
    """
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(grid.crs)
    xs = np.linspace(grid.x_min_m, grid.x_max_m, 5)
    ys = np.linspace(grid.y_min_m, grid.y_max_m, 5)
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(gx.ravel(),
                                                                                gy.ravel())
    lon, lat = np.asarray(lon), np.asarray(lat)
    clon, clat = lon[12], lat[12]
    name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    label = name if crs.name in ("unknown", "", None) else f"{name} ({crs.name})"
    try:
        utm = f"EPSG:{utm_epsg_for(float(clon), float(clat))}"
    except ValueError:
        utm = None
    aeqd = f"'+proj=aeqd +lat_0={clat:.3f} +lon_0={clon:.3f} +datum=WGS84 +units=m'"
    if utm and not default and _scale_error(utm, lon, lat).max() <= CRS_SCALE_TOLERANCE:
        fix = f"use the region's UTM zone {utm} (or leave region.crs empty)"
    elif _scale_error(aeqd.strip("'"), lon, lat).max() <= CRS_SCALE_TOLERANCE:
        fix = f"give region.crs an azimuthal equidistant CRS centred on the region, {aeqd}"
    else:
        fix = ("no map projection keeps distances within 1 % over a region this large: "
               "split it into regions of at most about 2,000 km (region.width_km, "
               "region.height_km)")
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        return f"{label} cannot place the whole region on the Earth; {fix}"
    err, a, b = _scale_error(crs, lon, lat, axes=True)
    if not np.all(np.isfinite(err)):
        return f"{label} has no defined scale somewhere in the region; {fix}"
    worst = int(np.argmax(err))
    k = a[worst] if abs(a[worst] - 1) >= abs(b[worst] - 1) else b[worst]
    off = (f"a scale factor of {k:.4g} at ({lon[worst]:.3f}, {lat[worst]:.3f}): distances "
           f"{abs(k - 1) * 100:.1f} % off")
    aou = crs.area_of_use
    if aou is not None and not default:
        w, s, e, n = aou.bounds
        in_lon = (lon >= w) & (lon <= e) if w <= e else (lon >= w) | (lon <= e)
        if not np.any(in_lon & (lat >= s) & (lat <= n)):
            place = aou.name.split(" - ")[0].split(";")[0].split(",")[0].strip()
            there = f", where it has {off}" if err[worst] > CRS_SCALE_TOLERANCE else ""
            return (f"{label} is made for lon {w:g}..{e:g}, lat {s:g}..{n:g} "
                    f"({place}), not for a region around ({clon:.3f}, {clat:.3f}){there}; "
                    f"{fix}")
    if err[worst] > CRS_SCALE_TOLERANCE:
        who = f"the default UTM zone {label}" if default else label
        why = " (the region is too wide for one UTM zone)" if default else ""
        return (f"{who} has {off} in the region, more than the "
                f"{CRS_SCALE_TOLERANCE * 100:g} % allowed{why}; {fix}")
    return None


def _scale_error(crs, lon, lat, *, axes: bool = False):
    """max(abs(a - 1), abs(b - 1)) of Tissot's semi-axes of ``crs`` at points (lon, lat) [deg]."""
    from pyproj import Proj

    f = Proj(crs).get_factors(lon, lat)
    a, b = np.asarray(f.tissot_semimajor), np.asarray(f.tissot_semiminor)
    err = np.maximum(np.abs(a - 1.0), np.abs(b - 1.0))
    return (err, a, b) if axes else err
