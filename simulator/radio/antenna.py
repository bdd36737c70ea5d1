"""Antenna radiation patterns: omni, 3GPP sector, tabulated (vendor) patterns.

Pure, vectorised numpy functions (models layer). Angles:

* ``azimuth_rel_deg``: horizontal angle from the antenna boresight, positive clockwise
  seen from above; any finite value (periodic, wrapped to (-180, 180]) [deg];
* ``elevation_deg``: angle above the local horizontal plane of the antenna, -90..90
  (negative = below the horizon) [deg]. 3GPP's zenith angle is ``theta = 90 - elevation``.

Downtilt convention (positive = pointing below the horizon):

* **electrical tilt** shifts the vertical cut of the pattern in the antenna's own frame,
  ``A_V = -min(12 ((elevation + tilt_e) / theta_3dB)^2, SLA_V)`` (the form with
  ``theta_etilt`` of 3GPP TR 36.814 V9.0.0 Table A.2.1.1-2); it lowers the beam by the same
  angle at every azimuth;
* **mechanical tilt** rotates the whole antenna about its horizontal axis perpendicular to
  boresight: global directions are converted to antenna-frame angles with
  3GPP TR 38.901 V17.0.0 §7.1.3 eqs. (7.1-7), (7.1-8) (bearing alpha = azimuth, downtilt
  beta = mechanical tilt, slant gamma = 0), see :func:`antenna_frame_angles`. At boresight
  the two tilts add; towards the sides (+-90 deg) the mechanical tilt turns into a roll
  and no longer lowers the beam.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import check_range

__all__ = [
    "DBD_TO_DBI",
    "TabulatedPattern",
    "antenna_frame_angles",
    "gain_toward",
    "omni_gain_dbi",
    "sector_3gpp_gain_dbi",
]

#: Gain of a half-wave dipole over isotropic, dBi = dBd + 2.15.
DBD_TO_DBI = 2.15


def _wrap180(angle_deg):
    """Wrap to (-180, 180]."""
    a = np.mod(np.asarray(angle_deg, dtype=np.float64) + 180.0, 360.0) - 180.0
    return np.where(a == -180.0, 180.0, a)


def _check_range(name, value, lo, hi, *, lo_open=False):
    return check_range(name, value, lo, hi, lo_open=lo_open, finite=True)


def _check_elevation(elevation_deg):
    return check_range("elevation_deg", elevation_deg, -90.0, 90.0)   # NaN propagates


def _out(x):
    return x[()] if np.ndim(x) == 0 else x


def _vertical_cut_db(elevation_deg, hpbw_v_deg, sla_v_db, tilt_deg):
    """3GPP vertical cut (attenuation <= 0) with electrical downtilt."""
    return -np.minimum(12.0 * ((elevation_deg + tilt_deg) / hpbw_v_deg) ** 2, sla_v_db)


def omni_gain_dbi(elevation_deg, *, max_gain_dbi=0.0, hpbw_v_deg=None, sla_v_db=30.0,
                  tilt_deg=0.0):
    """Gain of an omnidirectional antenna (same gain at every azimuth).

    With ``hpbw_v_deg=None`` the pattern is isotropic in elevation too. Otherwise the
    vertical cut of 3GPP TR 38.901 V17.0.0 Table 7.3-1 is applied (a collinear omni with
    a vertical beam), with electrical downtilt as in the module docstring:
    ``G = max_gain_dbi - min(12 ((elevation + tilt) / hpbw_v)^2, sla_v_db)``.

    Parameters
    ----------
    elevation_deg : array_like
        Elevation angle, -90..90 [deg].
    max_gain_dbi : float, optional
        Peak gain [dBi].
    hpbw_v_deg : float or None, optional
        Vertical half-power beamwidth, (0, 180] [deg].
    sla_v_db : float, optional
        Side-lobe attenuation limit, >= 0 [dB].
    tilt_deg : float, optional
        Electrical downtilt, -90..90 [deg].

    Returns
    -------
    numpy.ndarray or float
        Gain [dBi], shape of ``elevation_deg``.
    """
    e = _check_elevation(elevation_deg)
    if hpbw_v_deg is None:
        return _out(np.full(e.shape, float(max_gain_dbi)) + 0.0 * e)
    hv = _check_range("hpbw_v_deg", hpbw_v_deg, 0.0, 180.0, lo_open=True)
    sla = _check_range("sla_v_db", sla_v_db, 0.0, np.inf)
    tilt = _check_range("tilt_deg", tilt_deg, -90.0, 90.0)
    return _out(float(max_gain_dbi) + _vertical_cut_db(e, hv, sla, tilt))


def sector_3gpp_gain_dbi(azimuth_rel_deg, elevation_deg, *, max_gain_dbi=8.0, hpbw_h_deg=65.0,
                         hpbw_v_deg=65.0, a_max_db=30.0, sla_v_db=30.0, tilt_deg=0.0):
    r"""Sector antenna element gain, 3GPP TR 38.901 V17.0.0 Table 7.3-1.

    .. math::

        A_V(\theta) &= -\min\left[12\left(\frac{\theta - 90^\circ - \theta_{etilt}}
                        {\theta_{3dB}}\right)^2, SLA_V\right] \\
        A_H(\varphi) &= -\min\left[12\left(\frac{\varphi}{\varphi_{3dB}}\right)^2,
                        A_{max}\right] \\
        G(\theta, \varphi) &= G_{E,max} - \min\left[-(A_V + A_H), A_{max}\right]

    with zenith angle :math:`\theta = 90^\circ - \text{elevation}`. Table 7.3-1 values
    (the defaults): :math:`\theta_{3dB} = \varphi_{3dB} = 65^\circ`,
    :math:`SLA_V = A_{max} = 30` dB, :math:`G_{E,max} = 8` dBi. The electrical tilt
    term is the TR 36.814 Table A.2.1.1-2 form (see the module docstring). The gain is
    ``max_gain_dbi`` at boresight, 3 dB lower at half the beamwidth (12 (1/2)^2 = 3) and
    never below ``max_gain_dbi - a_max_db``.

    Parameters
    ----------
    azimuth_rel_deg : array_like
        Azimuth from boresight, antenna frame, any finite value (wrapped) [deg].
    elevation_deg : array_like
        Elevation, antenna frame, -90..90 [deg].
    max_gain_dbi : float or array_like, optional
        Boresight gain G_E,max (per station type) [dBi].
    hpbw_h_deg : float, optional
        Horizontal half-power beamwidth, (0, 360] [deg].
    hpbw_v_deg : float, optional
        Vertical half-power beamwidth, (0, 180] [deg].
    a_max_db : float, optional
        Front-to-back ratio / maximum attenuation, >= 0 [dB].
    sla_v_db : float, optional
        Vertical side-lobe attenuation limit, >= 0 [dB].
    tilt_deg : float or array_like, optional
        Electrical downtilt, -90..90, positive down [deg].

    Returns
    -------
    numpy.ndarray or float
        Gain [dBi], broadcast shape of the angle arguments.
    """
    az = _wrap180(azimuth_rel_deg)
    e = _check_elevation(elevation_deg)
    hh = _check_range("hpbw_h_deg", hpbw_h_deg, 0.0, 360.0, lo_open=True)
    hv = _check_range("hpbw_v_deg", hpbw_v_deg, 0.0, 180.0, lo_open=True)
    a_max = _check_range("a_max_db", a_max_db, 0.0, np.inf)
    sla = _check_range("sla_v_db", sla_v_db, 0.0, np.inf)
    tilt = _check_range("tilt_deg", tilt_deg, -90.0, 90.0)
    a_v = _vertical_cut_db(e, hv, sla, tilt)
    a_h = -np.minimum(12.0 * (az / hh) ** 2, a_max)
    return _out(np.asarray(max_gain_dbi, dtype=np.float64) - np.minimum(-(a_v + a_h), a_max))


def antenna_frame_angles(bearing_deg, elevation_deg, *, azimuth_deg, mechanical_tilt_deg=0.0):
    r"""Convert a global direction to the antenna frame of a rotated antenna.

    3GPP TR 38.901 V17.0.0 §7.1.3, eqs. (7.1-7) and (7.1-8) with slant :math:`\gamma = 0`,
    bearing :math:`\alpha` = ``azimuth_deg`` and downtilt :math:`\beta` =
    ``mechanical_tilt_deg`` (:math:`\theta` zenith angle, :math:`\Delta = \varphi - \alpha`):

    .. math::

        \theta' &= \arccos(\cos\beta\cos\theta + \sin\beta\cos\Delta\sin\theta) \\
        \varphi' &= \arg(\cos\beta\sin\theta\cos\Delta - \sin\beta\cos\theta
                    + j \sin\Delta\sin\theta)

    (written with compass bearings, clockwise; the sign of :math:`\Delta` carries
    through to :math:`\varphi'` unchanged).

    Parameters
    ----------
    bearing_deg : array_like
        Compass bearing of the direction, any finite value [deg].
    elevation_deg : array_like
        Elevation of the direction above the horizontal, -90..90 [deg].
    azimuth_deg : float or array_like
        Antenna boresight bearing [deg].
    mechanical_tilt_deg : float or array_like, optional
        Mechanical downtilt, -90..90, positive down [deg].

    Returns
    -------
    azimuth_rel_deg, elevation_rel_deg : numpy.ndarray
        Direction in the antenna frame [deg].
    """
    e = _check_elevation(elevation_deg)
    beta = np.deg2rad(_check_range("mechanical_tilt_deg", mechanical_tilt_deg, -90.0, 90.0))
    theta = np.deg2rad(90.0 - e)
    delta = np.deg2rad(np.asarray(bearing_deg, dtype=np.float64)
                       - np.asarray(azimuth_deg, dtype=np.float64))
    cos_t = np.cos(beta) * np.cos(theta) + np.sin(beta) * np.cos(delta) * np.sin(theta)
    theta_p = np.arccos(np.clip(cos_t, -1.0, 1.0))  # clip only guards round-off
    phi_p = np.arctan2(np.sin(delta) * np.sin(theta),
                       np.cos(beta) * np.sin(theta) * np.cos(delta) - np.sin(beta) * np.cos(theta))
    return _out(np.rad2deg(phi_p)), _out(90.0 - np.rad2deg(theta_p))


def gain_toward(site_xy_m, site_height_m, azimuth_deg, cell_xy_m, cell_height_m, *,
                mechanical_tilt_deg=0.0, electrical_tilt_deg=0.0, pattern="sector_3gpp",
                max_gain_dbi=8.0, hpbw_h_deg=65.0, hpbw_v_deg=65.0, a_max_db=30.0,
                sla_v_db=30.0):
    """Antenna gain from a site toward grid cells (or any points).

    Computes the compass bearing and the elevation angle (``atan2(dz, horizontal
    distance)``, no Earth curvature: at 20 km it would change the angle by
    d / (2 k R_e) = 0.07 deg) of each cell seen from the antenna, converts them to the
    antenna frame (:func:`antenna_frame_angles`, mechanical tilt) and evaluates the
    pattern there: the vertical pattern is taken at each cell's own elevation angle.

    Parameters
    ----------
    site_xy_m : tuple of (float or array_like)
        Antenna ``(x, y)`` in a metric CRS [m].
    site_height_m : float or array_like
        Antenna height above sea level (ground + mast) [m].
    azimuth_deg : float or array_like
        Boresight compass bearing [deg]; ignored for ``pattern="omni"``.
    cell_xy_m : tuple of array_like
        Cell ``(x, y)``, broadcast against the site arrays [m].
    cell_height_m : float or array_like
        Receiver height above sea level (ground + receiver height) [m].
    mechanical_tilt_deg, electrical_tilt_deg : float or array_like, optional
        Downtilts, -90..90, positive down [deg]. For a :class:`TabulatedPattern` the
        electrical tilt is already in the file and this argument must be 0.
    pattern : {"sector_3gpp", "omni"} or TabulatedPattern, optional
        Pattern to use. ``"omni"`` uses :func:`omni_gain_dbi` with ``hpbw_v_deg`` as its
        vertical beamwidth (pass ``hpbw_v_deg=None`` for isotropic).
    max_gain_dbi, hpbw_h_deg, hpbw_v_deg, a_max_db, sla_v_db
        Parameters of the analytic patterns, see :func:`sector_3gpp_gain_dbi`.

    Returns
    -------
    numpy.ndarray or float
        Gain toward each cell [dBi], broadcast shape of the inputs.
    """
    sx, sy = (np.asarray(v, dtype=np.float64) for v in site_xy_m)
    cx, cy = (np.asarray(v, dtype=np.float64) for v in cell_xy_m)
    dx, dy = cx - sx, cy - sy
    dz = np.asarray(cell_height_m, dtype=np.float64) - np.asarray(site_height_m, dtype=np.float64)
    horiz = np.hypot(dx, dy)
    elevation = np.rad2deg(np.arctan2(dz, horiz))
    bearing = np.rad2deg(np.arctan2(dx, dy))
    if isinstance(pattern, str) and pattern == "omni":
        # an omni has no azimuth, so mechanical tilt is not defined for it; only the
        # electrical tilt (a conical beam) applies
        if np.any(np.asarray(mechanical_tilt_deg) != 0):
            raise ValueError("mechanical_tilt_deg must be 0 for pattern='omni'")
        return omni_gain_dbi(elevation, max_gain_dbi=max_gain_dbi, hpbw_v_deg=hpbw_v_deg,
                             sla_v_db=sla_v_db, tilt_deg=electrical_tilt_deg)
    az_rel, el_rel = antenna_frame_angles(bearing, elevation, azimuth_deg=azimuth_deg,
                                          mechanical_tilt_deg=mechanical_tilt_deg)
    if isinstance(pattern, str):
        if pattern != "sector_3gpp":
            raise ValueError(f"pattern={pattern!r} is invalid; allowed: 'sector_3gpp', 'omni' "
                             "or a TabulatedPattern")
        return sector_3gpp_gain_dbi(az_rel, el_rel, max_gain_dbi=max_gain_dbi,
                                    hpbw_h_deg=hpbw_h_deg, hpbw_v_deg=hpbw_v_deg,
                                    a_max_db=a_max_db, sla_v_db=sla_v_db,
                                    tilt_deg=electrical_tilt_deg)
    if np.any(np.asarray(electrical_tilt_deg) != 0):
        raise ValueError("electrical_tilt_deg must be 0 for a tabulated pattern "
                         "(its tilt is part of the file)")
    return pattern.gain_dbi(az_rel, el_rel)


@dataclass(frozen=True)
class TabulatedPattern:
    """Antenna pattern from horizontal and vertical attenuation cuts (e.g. an .msi file).

    Attenuations are >= 0 dB below the peak (MSI/Planet convention). Horizontal angles
    are azimuths from boresight increasing clockwise seen from above; vertical angles
    are measured in the vertical plane through boresight from the front horizon,
    increasing **downwards** (90 = nadir, 180 = back horizon, 270 = zenith). Both cuts are
    periodic and interpolated linearly in angle.

    The 3-D gain is reconstructed from the two cuts by this simulator's weighted
    summation (in the spirit of Gil, Claro & Ortega, IEEE Trans. Veh. Technol. 50(5),
    2001; not a standard): with ``phi`` the azimuth from boresight in (-180, 180],
    ``w = |phi| / 180`` and ``delta = -elevation`` (angle below the horizon),

    ``A = A_H(phi) + (1 - w) A_V(delta) + w [A_V(180 - delta) - A_V(180)]``,

    i.e. the front vertical cut toward boresight, the back vertical cut (relative to
    the back horizon, which ``A_H(180)`` already contains) toward the back. It reduces
    to ``A_H`` on the horizon plane and to ``A_V`` in the vertical plane through
    boresight. Gain = ``peak_gain_dbi - A``.

    Attributes
    ----------
    name : str
    frequency_mhz : float
        Nominal frequency (NaN if not given) [MHz].
    peak_gain_dbi : float
        Peak gain [dBi].
    horizontal_angle_deg, horizontal_attenuation_db : numpy.ndarray
        Horizontal cut, angles strictly increasing in [0, 360) [deg], [dB].
    vertical_angle_deg, vertical_attenuation_db : numpy.ndarray
        Vertical cut, same conventions [deg], [dB].
    metadata : dict
        Other header fields as read (str -> str).
    """

    name: str
    frequency_mhz: float
    peak_gain_dbi: float
    horizontal_angle_deg: np.ndarray
    horizontal_attenuation_db: np.ndarray
    vertical_angle_deg: np.ndarray
    vertical_attenuation_db: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        for label in ("horizontal", "vertical"):
            ang = np.asarray(getattr(self, f"{label}_angle_deg"), dtype=np.float64)
            att = np.asarray(getattr(self, f"{label}_attenuation_db"), dtype=np.float64)
            if ang.ndim != 1 or ang.shape != att.shape or ang.size < 2:
                raise ValueError(f"{label} cut: angles and attenuations must be 1-D of equal "
                                 "length >= 2")
            if np.any(~np.isfinite(ang)) or np.any(~np.isfinite(att)):
                raise ValueError(f"{label} cut: non-finite value")
            if ang[0] < 0 or ang[-1] >= 360 or np.any(np.diff(ang) <= 0):
                raise ValueError(f"{label} cut: angles must increase strictly within [0, 360)")
            object.__setattr__(self, f"{label}_angle_deg", ang)
            object.__setattr__(self, f"{label}_attenuation_db", att)

    @staticmethod
    def _interp(angle_deg, ang, att):
        return np.interp(np.mod(np.asarray(angle_deg, dtype=np.float64), 360.0), ang, att,
                         period=360.0)

    def horizontal_db(self, azimuth_rel_deg):
        """Horizontal-cut attenuation at azimuths from boresight [dB] (>= 0 below peak)."""
        return _out(self._interp(azimuth_rel_deg, self.horizontal_angle_deg,
                                 self.horizontal_attenuation_db))

    def vertical_db(self, angle_down_deg):
        """Vertical-cut attenuation at angles below the front horizon [dB]."""
        return _out(self._interp(angle_down_deg, self.vertical_angle_deg,
                                 self.vertical_attenuation_db))

    def gain_dbi(self, azimuth_rel_deg, elevation_deg):
        """Gain toward antenna-frame directions [dBi], see the class docstring.

        Parameters
        ----------
        azimuth_rel_deg : array_like
            Azimuth from boresight, any finite value [deg].
        elevation_deg : array_like
            Elevation, -90..90 [deg].
        """
        phi = _wrap180(azimuth_rel_deg)
        delta = -_check_elevation(elevation_deg)
        w = np.abs(phi) / 180.0
        a = (self.horizontal_db(phi) + (1.0 - w) * self.vertical_db(delta)
             + w * (self.vertical_db(180.0 - delta) - self.vertical_db(180.0)))
        return _out(self.peak_gain_dbi - np.asarray(a))
