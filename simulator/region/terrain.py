"""Terrain models: synthetic DEMs, hillshade, radial profiles and line of sight.

Pure, vectorised numpy functions (models layer, see ``docs/CONVENTIONS.md``). No I/O.

Grid description
----------------
Functions that relate array indices to map coordinates take the grid as plain
arguments, so they plug into a ``Grid`` class without importing it:

* ``x0_m, y0_m``: map coordinates of the **top-left corner** of the top-left cell
  (metric CRS, e.g. UTM) [m];
* ``resolution_m``: square cell size [m];
* ``shape = (rows, cols)``; north-up, row index grows **southwards**.

Cell ``(i, j)`` has its centre at ``x = x0 + (j + 0.5) * res`` and
``y = y0 - (i + 0.5) * res``.

Azimuths are compass bearings: degrees clockwise from grid north (``+y``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import ndimage

from .._checks import check_range

__all__ = [
    "EARTH_RADIUS_M",
    "RayGeometry",
    "earth_bulge_m",
    "hillshade",
    "line_of_sight",
    "radial_profiles",
    "rays_to_grid",
    "ray_grid_index",
    "RayGridIndex",
    "synthetic_dem",
]

#: Mean Earth radius used for the effective-Earth model [m] (ITU-R P.452 / P.1812 use 6371 km).
EARTH_RADIUS_M = 6_371_000.0


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _check_positive(name: str, value: float) -> float:
    """A finite value > 0 (the package's one range check), as a float."""
    return float(check_range(name, float(value), 0.0, None, lo_open=True, finite=True))


def _check_shape(shape) -> tuple[int, int]:
    try:
        rows, cols = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape={shape!r} is invalid; allowed: two integers (rows, cols)") from None
    if rows < 2 or cols < 2 or (rows, cols) != tuple(shape):
        raise ValueError(f"shape={shape!r} is out of range; allowed: two integers >= 2")
    return rows, cols


def _check_k_factor(k_factor: float) -> float:
    k = float(k_factor)
    if np.isnan(k) or k <= 0:
        raise ValueError(f"k_factor={k_factor!r} is out of range; allowed: > 0 (np.inf = no curvature)")
    return k


# ---------------------------------------------------------------------------
# synthetic DEM
# ---------------------------------------------------------------------------
def synthetic_dem(shape, resolution_m, *, relief_m, roughness=0.2, ridges=0, valleys=0,
                  base_elevation_m=0.0, rng=None):
    r"""Seeded synthetic digital elevation model (spectral fractional Brownian surface).

    A white Gaussian field is filtered in the Fourier domain (``scipy.fft``) with an
    isotropic power-law amplitude filter, which gives a fractional Brownian surface
    (spectral synthesis, Saupe 1988, in *The Science of Fractal Images*, §2.4):

    .. math::

        P(k) \propto k^{-\beta}, \qquad \beta = 2H + 2, \qquad H = 1 - \mathrm{roughness}

    where :math:`k` is the radial wavenumber [cycles/m] and :math:`H` the Hurst exponent.
    Equivalently the fractal dimension of the surface is :math:`D = 3 - H = 2 + \mathrm{roughness}`.

    Optional ridges and valleys are straight features across the whole map with a
    Gaussian cross-section, added (ridges) or subtracted (valleys) before the final
    rescaling. Finally the surface is rescaled linearly so that its minimum is
    ``base_elevation_m`` and its maximum ``base_elevation_m + relief_m``.

    Statistics (by construction, before ridges/valleys are added):

    * isotropic; power spectrum slope :math:`-\beta` on log-log axes;
    * semivariogram :math:`\gamma(r) = \tfrac12 E[(z(x+r)-z(x))^2] \approx c\, r^{2H}` for lags
      well below the map size. On a finite grid the fitted log-log slope over lags of
      1-16 cells is close to 2H for smooth surfaces and biased upwards for rough ones
      (measured on 512 x 512 maps, 5 seeds: 1.59 for 2H = 1.6, 1.12 for 2H = 1.0,
      0.68 for 2H = 0.4); ``tests/test_terrain.py`` checks this;
    * Gaussian one-point distribution before rescaling; after rescaling the range is
      exactly ``relief_m`` (up to float32 rounding), mean and standard deviation depend
      on the realisation;
    * not periodic: the field is synthesised on a grid 1.5 times larger in each direction
      and cropped, so opposite edges do not wrap around.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)``, each >= 2.
    resolution_m : float
        Cell size, > 0 [m].
    relief_m : float
        Maximum minus minimum elevation, >= 0 (0 gives a flat DEM) [m].
    roughness : float, optional
        In ``[0, 1]``; maps to the Hurst exponent ``H = 1 - roughness`` and spectral
        exponent ``beta = 4 - 2 * roughness``. 0 = smooth rolling hills, 1 = very rough.
        Default 0.2 (H = 0.8, within the 0.7-0.9 range often reported for natural
        topography) [-].
    ridges, valleys : int, optional
        Number of straight ridge / valley features, >= 0 [-].
    base_elevation_m : float, optional
        Minimum elevation of the DEM [m].
    rng : numpy.random.Generator or int or None, optional
        Random generator or seed (SPEC 7). The same seed or generator state gives the
        same DEM.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of shape ``(rows, cols)``, elevations [m], row 0 = north.

    Raises
    ------
    ValueError
        If an argument is outside the ranges above (nothing is clamped).
    """
    rows, cols = _check_shape(shape)
    res = _check_positive("resolution_m", resolution_m)
    relief = float(relief_m)
    if not np.isfinite(relief) or relief < 0:
        raise ValueError(f"relief_m={relief_m!r} is out of range; allowed: finite and >= 0")
    rough = float(roughness)
    if not (0.0 <= rough <= 1.0):
        raise ValueError(f"roughness={roughness!r} is out of range; allowed: 0 <= roughness <= 1")
    for name, n in (("ridges", ridges), ("valleys", valleys)):
        if int(n) != n or n < 0:
            raise ValueError(f"{name}={n!r} is out of range; allowed: integer >= 0")
    base = float(base_elevation_m)
    if not np.isfinite(base):
        raise ValueError(f"base_elevation_m={base_elevation_m!r} is out of range; allowed: finite")
    gen = np.random.default_rng(rng)

    hurst = 1.0 - rough
    beta = 2.0 * hurst + 2.0
    prow = sp_fft.next_fast_len(int(np.ceil(1.5 * rows)), real=True)
    pcol = sp_fft.next_fast_len(int(np.ceil(1.5 * cols)), real=True)
    white = gen.standard_normal((prow, pcol))
    spec = sp_fft.rfft2(white)
    ky = sp_fft.fftfreq(prow, d=res)[:, None]
    kx = sp_fft.rfftfreq(pcol, d=res)[None, :]
    k2 = kx * kx + ky * ky
    k2[0, 0] = 1.0  # avoid 0**negative; the mean is removed below
    spec *= k2 ** (-beta / 4.0)  # amplitude ~ k^(-beta/2)
    spec[0, 0] = 0.0
    field = sp_fft.irfft2(spec, s=(prow, pcol))
    r0 = int(gen.integers(0, prow - rows + 1))
    c0 = int(gen.integers(0, pcol - cols + 1))
    z = field[r0:r0 + rows, c0:c0 + cols]
    z = z - z.mean()
    std = z.std()
    if std > 0:
        z = z / std

    n_feat = int(ridges) + int(valleys)
    if n_feat:
        yy = (np.arange(rows)[:, None] + 0.5) * res
        xx = (np.arange(cols)[None, :] + 0.5) * res
        extent = min(rows, cols) * res
        for f in range(n_feat):
            sign = 1.0 if f < int(ridges) else -1.0
            theta = gen.uniform(0.0, np.pi)
            px = gen.uniform(0.2, 0.8) * cols * res
            py = gen.uniform(0.2, 0.8) * rows * res
            width = gen.uniform(0.03, 0.08) * extent
            amp = gen.uniform(2.0, 3.0)  # in units of the fBm standard deviation
            # signed distance from the line through (px, py) with direction theta
            dist = (xx - px) * np.sin(theta) - (yy - py) * np.cos(theta)
            z = z + sign * amp * np.exp(-0.5 * (dist / width) ** 2)

    zmin, zmax = z.min(), z.max()
    if relief == 0.0 or zmax == zmin:
        return np.full((rows, cols), base, dtype=np.float32)
    z = (z - zmin) * (relief / (zmax - zmin)) + base
    return z.astype(np.float32)


# ---------------------------------------------------------------------------
# hillshade
# ---------------------------------------------------------------------------
def hillshade(dem, resolution_m, *, azimuth_deg=315.0, altitude_deg=45.0):
    r"""Lambertian hillshade of a DEM, for maps.

    .. math::

        \mathrm{shade} = \max(0, \hat n \cdot \hat s), \quad
        \hat n \propto (-\partial z/\partial x_E, -\partial z/\partial y_N, 1), \quad
        \hat s = (\sin A \cos a, \cos A \cos a, \sin a)

    with the sun at compass azimuth :math:`A` and altitude :math:`a` (the usual GIS
    hillshade, e.g. Burrough & McDonnell 1998, *Principles of GIS*, §8). Gradients by
    central differences (``numpy.gradient``; one-sided at the edges).

    Parameters
    ----------
    dem : array_like, shape (rows, cols)
        Elevations, north-up [m].
    resolution_m : float
        Cell size, > 0 [m].
    azimuth_deg : float, optional
        Sun azimuth, clockwise from north, any finite value (taken modulo 360) [deg].
    altitude_deg : float, optional
        Sun altitude above the horizon, in ``[0, 90]`` [deg].

    Returns
    -------
    numpy.ndarray
        float64, same shape, in ``[0, 1]``; a flat DEM gives ``sin(altitude)`` [-].
    """
    z = np.asarray(dem, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"dem shape={z.shape} is invalid; allowed: 2-D with both sides >= 2")
    res = _check_positive("resolution_m", resolution_m)
    if not np.isfinite(azimuth_deg):
        raise ValueError(f"azimuth_deg={azimuth_deg!r} is out of range; allowed: finite")
    if not (0.0 <= altitude_deg <= 90.0):
        raise ValueError(f"altitude_deg={altitude_deg!r} is out of range; allowed: 0..90")
    dz_drow, dz_dcol = np.gradient(z, res)
    dz_dx = dz_dcol
    dz_dy = -dz_drow  # rows go south
    az = np.deg2rad(azimuth_deg)
    alt = np.deg2rad(altitude_deg)
    sx, sy, sz = np.sin(az) * np.cos(alt), np.cos(az) * np.cos(alt), np.sin(alt)
    norm = np.sqrt(dz_dx**2 + dz_dy**2 + 1.0)
    shade = (-dz_dx * sx - dz_dy * sy + sz) / norm
    return np.clip(shade, 0.0, 1.0)


# ---------------------------------------------------------------------------
# Earth curvature
# ---------------------------------------------------------------------------
def earth_bulge_m(d1_m, d2_m, *, k_factor=4.0 / 3.0):
    r"""Height of the effective-Earth bulge above the chord between two terminals.

    .. math:: b = \frac{d_1 d_2}{2 k R_e}

    (parabolic approximation of the effective-Earth model; the Bullington construction
    of ITU-R P.452-17 §4.2.1 and P.1812 uses the same term, written with
    :math:`C_e = 1/(k R_e)`), with
    :math:`R_e` = 6371 km.

    Parameters
    ----------
    d1_m, d2_m : array_like
        Distances from the point to each end of the path, >= 0; broadcast together [m].
    k_factor : float, optional
        Effective Earth-radius factor, > 0; ``numpy.inf`` gives a flat Earth (b = 0).
        Default 4/3 (median refractivity gradient) [-].

    Returns
    -------
    numpy.ndarray or float
        Bulge [m], broadcast shape of the inputs.
    """
    k = _check_k_factor(k_factor)
    d1 = np.asarray(d1_m, dtype=np.float64)
    d2 = np.asarray(d2_m, dtype=np.float64)
    if np.any(d1 < 0) or np.any(d2 < 0):
        raise ValueError("d1_m/d2_m negative; allowed: >= 0")
    out = d1 * d2 / (2.0 * k * EARTH_RADIUS_M)
    return out[()] if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# radial profiles
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RayGeometry:
    """Geometry of a fan of rays from one site (output of :func:`radial_profiles`).

    Attributes
    ----------
    origin_x_m, origin_y_m : float
        Site position [m].
    azimuth_deg : numpy.ndarray, shape (n_rays,)
        Ray bearings ``a * 360 / n_rays``, clockwise from north [deg].
    distance_m : numpy.ndarray, shape (n_steps,)
        Sample distances ``s * step_m`` from the site; sample 0 is the site itself [m].
    radius_m : float
        Requested radius; ``distance_m[-1] >= radius_m`` [m].
    step_m : float
        Sample spacing along each ray [m].
    """

    origin_x_m: float
    origin_y_m: float
    azimuth_deg: np.ndarray
    distance_m: np.ndarray
    radius_m: float
    step_m: float

    @property
    def n_rays(self) -> int:
        return int(self.azimuth_deg.size)

    @property
    def n_steps(self) -> int:
        return int(self.distance_m.size)

    def sample_xy_m(self):
        """Map coordinates of every sample, two arrays of shape (n_rays, n_steps) [m]."""
        az = np.deg2rad(self.azimuth_deg)[:, None]
        d = self.distance_m[None, :]
        return self.origin_x_m + d * np.sin(az), self.origin_y_m + d * np.cos(az)


def radial_profiles(dem, origin_xy_m, x0_m, y0_m, resolution_m, *, radius_m, step_m=None,
                    n_rays=None):
    """Terrain elevations along a fan of rays from a site.

    Rays start at the site (sample 0) and are sampled every ``step_m`` out to at
    least ``radius_m``; elevations are interpolated bilinearly between cell centres
    (``scipy.ndimage.map_coordinates``, order 1). The default ray count
    ``ceil(2 * pi * radius_m / resolution_m)`` keeps adjacent rays at most one cell
    apart at the outer radius, so :func:`rays_to_grid` leaves no gaps.

    Parameters
    ----------
    dem : array_like, shape (rows, cols)
        Elevations, north-up [m].
    origin_xy_m : tuple of float
        Site ``(x, y)`` in the DEM's CRS [m].
    x0_m, y0_m : float
        Top-left corner of the DEM [m] (see the module docstring).
    resolution_m : float
        Cell size, > 0 [m].
    radius_m : float
        Ray length, > 0 [m].
    step_m : float, optional
        Sample spacing along rays, > 0; default ``resolution_m`` [m].
    n_rays : int, optional
        Number of rays, >= 1; default as above [-].

    Returns
    -------
    elevation_m : numpy.ndarray, shape (n_rays, n_steps)
        float64 elevations [m]; NaN for samples outside the DEM extent
        (within the DEM's outer half-cell border the edge cell value is used).
    geometry : RayGeometry
        Ray bearings and sample distances, with ``n_steps = ceil(radius_m / step_m) + 1``.
    """
    z = np.asarray(dem)
    if z.ndim != 2 or min(z.shape) < 2:
        raise ValueError(f"dem shape={z.shape} is invalid; allowed: 2-D with both sides >= 2")
    res = _check_positive("resolution_m", resolution_m)
    radius = _check_positive("radius_m", radius_m)
    step = res if step_m is None else _check_positive("step_m", step_m)
    if n_rays is None:
        n_rays = max(4, int(np.ceil(2.0 * np.pi * radius / res)))
    elif int(n_rays) != n_rays or n_rays < 1:
        raise ValueError(f"n_rays={n_rays!r} is out of range; allowed: integer >= 1")
    n_rays = int(n_rays)
    ox, oy = (float(v) for v in origin_xy_m)
    n_steps = int(np.ceil(radius / step - 1e-9)) + 1
    geom = RayGeometry(
        origin_x_m=ox,
        origin_y_m=oy,
        azimuth_deg=np.arange(n_rays) * (360.0 / n_rays),
        distance_m=np.arange(n_steps) * step,
        radius_m=radius,
        step_m=step,
    )
    x, y = geom.sample_xy_m()
    rows, cols = z.shape
    col = (x - float(x0_m)) / res - 0.5
    row = (float(y0_m) - y) / res - 0.5
    inside = (col >= -0.5) & (col <= cols - 0.5) & (row >= -0.5) & (row <= rows - 0.5)
    elev = ndimage.map_coordinates(np.asarray(z, dtype=np.float64), [row, col], order=1,
                                   mode="nearest", output=np.float64, prefilter=False)
    elev[~inside] = np.nan
    return elev, geom


def rays_to_grid(values_per_ray_sample, geometry, x0_m, y0_m, resolution_m, shape, *,
                 fill_value=np.nan, index=None):
    """Map per-ray-sample values back onto the grid cells within the rays' radius.

    Each cell centre within ``geometry.radius_m`` of the site takes the value of the
    nearest ray sample in polar coordinates: ray ``round(azimuth / dAz) mod n_rays`` and
    step ``round(range / step_m)``. Every such cell gets a value (no holes near the site,
    no gaps far out); cells farther away get ``fill_value``.

    Parameters
    ----------
    values_per_ray_sample : array_like, shape (n_rays, n_steps)
        Values per sample, e.g. path loss [any unit].
    geometry : RayGeometry
        From :func:`radial_profiles`.
    x0_m, y0_m, resolution_m, shape
        Target grid (see the module docstring) [m].
    fill_value : scalar, optional
        Value for cells beyond the radius.
    index : RayGridIndex, optional
        The mapping from :func:`ray_grid_index` for this geometry and grid, to map several
        arrays of one site without computing it again.

    Returns
    -------
    numpy.ndarray, shape ``shape``
        Same dtype as the values (promoted if needed to hold ``fill_value``).
    """
    vals = np.asarray(values_per_ray_sample)
    if vals.shape != (geometry.n_rays, geometry.n_steps):
        raise ValueError(f"values shape={vals.shape} does not match the geometry; "
                         f"allowed: ({geometry.n_rays}, {geometry.n_steps})")
    if index is None:
        index = ray_grid_index(geometry, x0_m, y0_m, resolution_m, shape)
    elif index.shape != _check_shape(shape):
        raise ValueError(f"index shape={index.shape} does not match shape={tuple(shape)}")
    if vals.dtype.kind == "f":
        dtype = vals.dtype
    else:
        dtype = np.result_type(vals.dtype, np.asarray(fill_value).dtype)
    out = np.full(index.shape, fill_value, dtype=dtype)
    if index.flat.size:
        sub = out[index.i_lo:index.i_hi, index.j_lo:index.j_hi]
        sub[index.inside] = vals.reshape(-1)[index.flat]
    return out


@dataclass(frozen=True)
class RayGridIndex:
    """Where each grid cell of a disc reads its ray sample (:func:`ray_grid_index`).

    ``out[i_lo:i_hi, j_lo:j_hi][inside] = values.reshape(-1)[flat]``: ``flat`` is
    ``ray * n_steps + step`` of each cell inside the radius, in row-major order.
    """

    shape: tuple
    i_lo: int
    i_hi: int
    j_lo: int
    j_hi: int
    inside: np.ndarray
    flat: np.ndarray


def ray_grid_index(geometry, x0_m, y0_m, resolution_m, shape) -> RayGridIndex:
    """The cell-to-ray-sample mapping of :func:`rays_to_grid`, computed once so that several
    per-sample arrays of one site (loss, line of sight) map onto the grid with it."""
    rows, cols = _check_shape(shape)
    res = _check_positive("resolution_m", resolution_m)
    x0, y0 = float(x0_m), float(y0_m)
    ox, oy, radius = geometry.origin_x_m, geometry.origin_y_m, geometry.radius_m
    # bounding box of the disc in index space
    j_lo = max(0, int(np.floor((ox - radius - x0) / res - 0.5)))
    j_hi = min(cols, int(np.ceil((ox + radius - x0) / res + 0.5)) + 1)
    i_lo = max(0, int(np.floor((y0 - (oy + radius)) / res - 0.5)))
    i_hi = min(rows, int(np.ceil((y0 - (oy - radius)) / res + 0.5)) + 1)
    if j_lo >= j_hi or i_lo >= i_hi:
        return RayGridIndex((rows, cols), 0, 0, 0, 0, np.zeros((0, 0), bool),
                            np.zeros(0, np.intp))
    dx = (x0 + (np.arange(j_lo, j_hi) + 0.5) * res - ox)[None, :]
    dy = (y0 - (np.arange(i_lo, i_hi) + 0.5) * res - oy)[:, None]
    r = np.hypot(dx, dy)
    inside = r <= radius
    dxi, dyi = np.broadcast_arrays(dx, dy)
    dxi, dyi, r = dxi[inside], dyi[inside], r[inside]
    az = np.mod(np.arctan2(dxi, dyi), 2.0 * np.pi)
    n_rays = geometry.n_rays
    ray = np.rint(az * (n_rays / (2.0 * np.pi))).astype(np.intp) % n_rays
    step = np.rint(r / geometry.step_m).astype(np.intp)
    np.minimum(step, geometry.n_steps - 1, out=step)
    ray *= geometry.n_steps
    ray += step
    return RayGridIndex((rows, cols), i_lo, i_hi, j_lo, j_hi, inside, ray)


# ---------------------------------------------------------------------------
# line of sight
# ---------------------------------------------------------------------------
def line_of_sight(elevation_m, distance_m, *, tx_height_m, rx_height_m=0.0, k_factor=4.0 / 3.0):
    r"""Line of sight from a site to every sample of its radial profiles.

    Heights are first referred to the plane tangent to the effective Earth at the
    site, :math:`z_i = h_i - d_i^2 / (2 k R_e)` (parabolic effective-Earth model; the
    drop equals :func:`earth_bulge_m` up to a shear that leaves all LOS decisions
    unchanged). With the transmitter at :math:`H_t = z_0 + h_{tx}` the elevation slope
    to sample :math:`i` is :math:`t_i = (z_i - H_t) / d_i`. A receiver at sample
    :math:`j` (height :math:`h_{rx}` above ground) is in line of sight when

    .. math:: \frac{z_j + h_{rx} - H_t}{d_j} \ge \max_{1 \le i < j} t_i,

    i.e. its elevation angle is at least the running maximum of the terrain angles
    of all samples before it (the horizon so far). Vectorised over rays with
    ``numpy.fmax.accumulate``.

    Parameters
    ----------
    elevation_m : array_like, shape (n_rays, n_steps)
        Terrain along rays; column 0 is the site's ground elevation and must be
        finite. NaN samples (outside the DEM) do not obstruct and are never in LOS [m].
    distance_m : array_like, shape (n_steps,)
        Strictly increasing distances from the site, ``distance_m[0] == 0`` [m].
    tx_height_m : float or array_like broadcastable to (n_rays, 1)
        Site antenna height above ground [m].
    rx_height_m : float or array_like broadcastable to (n_rays, n_steps), optional
        Receiver height above ground at each sample [m].
    k_factor : float, optional
        Effective Earth-radius factor, > 0; ``numpy.inf`` = flat Earth [-].

    Returns
    -------
    numpy.ndarray of bool, shape (n_rays, n_steps)
        True where the sample is visible from the antenna; column 0 is True.
    """
    k = _check_k_factor(k_factor)
    h = np.asarray(elevation_m, dtype=np.float64)
    d = np.asarray(distance_m, dtype=np.float64)
    if h.ndim != 2 or d.ndim != 1 or h.shape[1] != d.size:
        raise ValueError(f"elevation_m shape={h.shape} and distance_m shape={d.shape} do not "
                         "match; allowed: (n_rays, n_steps) and (n_steps,)")
    if d.size < 1 or d[0] != 0 or np.any(np.diff(d) <= 0):
        raise ValueError("distance_m must start at 0 and increase strictly")
    if not np.all(np.isfinite(h[:, 0])):
        raise ValueError("elevation_m[:, 0] (site ground) must be finite")
    drop = 0.0 if np.isinf(k) else d * d / (2.0 * k * EARTH_RADIUS_M)
    z = h - drop
    h_t = z[:, :1] + np.asarray(tx_height_m, dtype=np.float64)
    rx = np.broadcast_to(np.asarray(rx_height_m, dtype=np.float64), h.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_terrain = (z[:, 1:] - h_t) / d[1:]
        slope_rx = (z[:, 1:] + rx[:, 1:] - h_t) / d[1:]
    horizon = np.fmax.accumulate(slope_terrain, axis=1)  # NaN samples ignored
    before = np.empty_like(horizon)
    before[:, 0] = -np.inf
    before[:, 1:] = horizon[:, :-1]
    before = np.where(np.isnan(before), -np.inf, before)
    los = np.ones(h.shape, dtype=bool)
    los[:, 1:] = slope_rx >= before  # False where slope_rx is NaN
    return los


def terrain_irregularity_m(dem, resolution_m, *, length_m=20_000.0):
    """Terrain irregularity Delta h of a DEM, as ITM's area mode expects it [m].

    Longley-Rice define Delta h as the interdecile range of terrain elevations about a
    straight-line fit along paths (NTIA Tech. Note 101; ITM ``dlthx``). Here every row and
    every column of the DEM is cut into pieces of ``length_m`` (or used whole when shorter),
    each piece is detrended by a least-squares line, the 90 % - 10 % range of its residuals
    is taken, and the median over pieces is returned.

    Parameters
    ----------
    dem : array_like, shape (rows, cols)
        Elevations [m] (finite).
    resolution_m : float
        Cell size [m].
    length_m : float
        Piece length [m].
    """
    z = np.asarray(dem, dtype=np.float64)
    n = max(8, min(int(round(length_m / _check_positive("resolution_m", resolution_m))),
                   max(z.shape)))
    ranges = []
    for lines in (z, z.T):
        m = min(n, lines.shape[1])
        if m < 8:
            continue
        k = lines.shape[1] // m
        pieces = lines[:, : k * m].reshape(-1, m)
        x = np.arange(m) - (m - 1) / 2.0
        slope = pieces @ x / (x @ x)
        resid = pieces - pieces.mean(axis=1, keepdims=True) - slope[:, None] * x
        q = np.percentile(resid, [10.0, 90.0], axis=1)
        ranges.append(q[1] - q[0])
    if not ranges:
        return 0.0
    return float(np.median(np.concatenate(ranges)))


def link_line_of_sight(dem, x0_m, y0_m, resolution_m, a_xy_m, a_height_m, b_xy_m, b_height_m,
                       *, k_factor=4.0 / 3.0, clearance_fresnel=0.0, frequency_mhz=None):
    """Line of sight between pairs of antennas over a DEM (point-to-point links).

    The terrain is sampled (bilinearly) every half cell along the straight line between the
    two antennas, lowered by the Earth bulge of an effective Earth (``k_factor``) relative
    to the chord, and every interior sample must lie below the line joining the antennas —
    by at least ``clearance_fresnel`` times the first Fresnel-zone radius when a frequency
    is given (0.6 is the usual microwave planning rule).

    Parameters
    ----------
    dem : array_like, shape (rows, cols)
        Ground elevation [m]; grid convention of the module docstring.
    x0_m, y0_m, resolution_m : float
        North-west corner and cell size of the DEM [m].
    a_xy_m, b_xy_m : array_like, shape (n, 2)
        End points of the n links [m].
    a_height_m, b_height_m : array_like, shape (n,) or scalar
        Antenna heights above ground at each end [m].

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    from scipy import ndimage

    a = np.atleast_2d(np.asarray(a_xy_m, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b_xy_m, dtype=np.float64))
    n = a.shape[0]
    res = _check_positive("resolution_m", resolution_m)
    k = _check_k_factor(k_factor)
    z = np.asarray(dem, dtype=np.float64)
    out = np.ones(n, dtype=bool)
    ha = np.broadcast_to(np.asarray(a_height_m, dtype=np.float64), (n,))
    hb = np.broadcast_to(np.asarray(b_height_m, dtype=np.float64), (n,))
    for i in range(n):
        d = float(np.hypot(*(b[i] - a[i])))
        m = max(2, int(np.ceil(d / (res / 2.0))) + 1)
        t = np.linspace(0.0, 1.0, m)
        x = a[i, 0] + t * (b[i, 0] - a[i, 0])
        y = a[i, 1] + t * (b[i, 1] - a[i, 1])
        col = (x - x0_m) / res - 0.5
        row = (y0_m - y) / res - 0.5
        ground = ndimage.map_coordinates(z, [row, col], order=1, mode="nearest")
        di = t * d
        bulge = di * (d - di) / (2.0 * k * EARTH_RADIUS_M) if np.isfinite(k) else 0.0 * di
        ray = (ground[0] + ha[i]) + t * ((ground[-1] + hb[i]) - (ground[0] + ha[i]))
        need = ground[1:-1] + bulge[1:-1]
        if frequency_mhz is not None and clearance_fresnel > 0:
            lam = 299_792_458.0 / (float(frequency_mhz) * 1e6)
            f1 = np.sqrt(lam * di[1:-1] * (d - di[1:-1]) / max(d, 1e-9))
            need = need + clearance_fresnel * f1
        out[i] = bool(np.all(need <= ray[1:-1]))
    return out
