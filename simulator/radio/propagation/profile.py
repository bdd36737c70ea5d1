"""Geometry of one terrain profile: line of sight, first Fresnel zone, Deygout edges.

Pure numpy (models layer); used to draw and explain a path (see
:func:`simulator.plotting.plot_terrain_profile`), not by the engine.

Heights are drawn the way a path profile is usually drawn: the terrain is raised by the
effective-Earth bulge ``d1 d2 / (2 k R_e)`` (:func:`simulator.region.terrain.earth_bulge_m`) so the
ray between the antennas is a straight line. Heights relative to that line are the same
as in :mod:`simulator.radio.propagation.diffraction` (which refers heights to the tangent plane
at the transmitter instead; the two differ by a shear that leaves every height above the
chord unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...region.terrain import earth_bulge_m
from .diffraction import SPEED_OF_LIGHT_M_PER_S, fresnel_nu, knife_edge_j_db

__all__ = ["ProfileGeometry", "profile_geometry"]

_NU_MIN = -0.78  # ITU-R P.526-15 eq. (31): J = 0 dB at and below


@dataclass(frozen=True)
class ProfileGeometry:
    """One path from a transmitter (distance 0) to a receiver (last sample).

    Attributes
    ----------
    distance_m : numpy.ndarray
        Sample distances from the transmitter [m].
    terrain_m : numpy.ndarray
        Terrain raised by the Earth bulge [m].
    ray_m : numpy.ndarray
        Height of the straight line between the antennas at each sample [m].
    fresnel_radius_m : numpy.ndarray
        First Fresnel zone radius ``sqrt(lambda d1 d2 / d)`` (ITU-R P.530-18 eq. 2 in
        metres) [m].
    clearance_f1 : float
        Smallest ``(ray - terrain) / fresnel_radius`` over interior samples: >= 0.6 is the
        usual "clear path" rule; < 0 means the terrain cuts the line of sight [-].
    line_of_sight : bool
        No interior sample reaches the line between the antennas.
    edge_index : numpy.ndarray
        Indices of the Deygout edges (main first, then secondary ones left to right).
    edge_nu : numpy.ndarray
        Their diffraction parameter nu (ITU-R P.526-15 §4.1) [-].
    edge_loss_db : numpy.ndarray
        J(nu) of each edge (eq. 31) [dB].
    edge_base_m : numpy.ndarray
        Height of the line each edge was measured from, at the edge [m].
    """

    distance_m: np.ndarray
    terrain_m: np.ndarray
    ray_m: np.ndarray
    fresnel_radius_m: np.ndarray
    clearance_f1: float
    line_of_sight: bool
    edge_index: np.ndarray
    edge_nu: np.ndarray
    edge_loss_db: np.ndarray
    edge_base_m: np.ndarray

    @property
    def deygout_loss_db(self) -> float:
        """Sum of the edges' J(nu) [dB] (classic Deygout, no empirical correction)."""
        return float(self.edge_loss_db.sum())


def _main_edge(y, d, a, b, frequency_mhz):
    """(index, nu, base height) of the interior sample of (a, b) with the largest nu."""
    if b - a < 2:
        return None
    idx = np.arange(a + 1, b)
    line = y[a] + (y[b] - y[a]) * (d[idx] - d[a]) / (d[b] - d[a])
    nu = fresnel_nu(y[idx] - line, d[idx] - d[a], d[b] - d[idx], frequency_mhz)
    k = int(np.argmax(nu))
    return int(idx[k]), float(nu[k]), float(line[k])


def profile_geometry(distance_m, elevation_m, *, tx_height_m, rx_height_m, frequency_mhz,
                     k_factor=4.0 / 3.0, max_edges=3) -> ProfileGeometry:
    """Line of sight, first Fresnel zone and Deygout edges along one profile.

    Deygout (1966), classic form as in :func:`simulator.radio.propagation.diffraction.
    deygout_loss_db` with ``max_edges`` 1 or 3: the main edge is the interior sample with
    the largest nu relative to the line between the antennas; with ``max_edges=3`` the
    same search runs on each side (relative to the line from the antenna to the main
    edge's top). Edges with nu <= -0.78 do not count.

    Parameters
    ----------
    distance_m : array_like, shape (n,)
        Distances from the transmitter, starting at 0 and increasing, n >= 3 [m].
    elevation_m : array_like, shape (n,)
        Terrain heights, finite [m].
    tx_height_m, rx_height_m : float
        Antenna heights above the terrain at each end [m].
    frequency_mhz : float
        30..100 000 MHz [MHz].
    k_factor : float
        Effective Earth-radius factor (numpy.inf: flat Earth) [-].
    max_edges : {1, 3}
        Edges searched [-].

    Returns
    -------
    ProfileGeometry
    """
    d = np.asarray(distance_m, dtype=np.float64)
    h = np.asarray(elevation_m, dtype=np.float64)
    if d.ndim != 1 or d.shape != h.shape or d.size < 3:
        raise ValueError(f"distance_m and elevation_m must be 1-D of the same length >= 3; "
                         f"got {d.shape} and {h.shape}")
    if d[0] != 0 or np.any(np.diff(d) <= 0) or not np.all(np.isfinite(h)):
        raise ValueError("distance_m must start at 0 and increase; elevation_m must be finite")
    if max_edges not in (1, 3):
        raise ValueError(f"max_edges={max_edges!r} is out of range; allowed: 1 or 3")
    total = d[-1]
    y = h + earth_bulge_m(d, total - d, k_factor=k_factor)
    y_tx, y_rx = y[0] + tx_height_m, y[-1] + rx_height_m
    ray = y_tx + (y_rx - y_tx) * d / total
    lam = SPEED_OF_LIGHT_M_PER_S / (float(frequency_mhz) * 1e6)
    r1 = np.sqrt(lam * d * (total - d) / total)
    inner = slice(1, -1)
    clearance = float(np.min((ray[inner] - y[inner]) / r1[inner]))
    los = bool(np.all(y[inner] < ray[inner]))
    # Deygout edges on the ray-end heights (antenna tops)
    ya = y.copy()
    ya[0], ya[-1] = y_tx, y_rx
    edges = []
    main = _main_edge(ya, d, 0, d.size - 1, frequency_mhz)
    if main is not None and main[1] > _NU_MIN:
        edges.append(main)
        if max_edges == 3:
            p = main[0]
            for a, b in ((0, p), (p, d.size - 1)):
                sec = _main_edge(ya, d, a, b, frequency_mhz)
                if sec is not None and sec[1] > _NU_MIN:
                    edges.append(sec)
    idx = np.array([e[0] for e in edges], dtype=np.intp)
    nu = np.array([e[1] for e in edges])
    base = np.array([e[2] for e in edges])
    loss = np.asarray(knife_edge_j_db(nu)) if nu.size else np.zeros(0)
    return ProfileGeometry(d, y, ray, r1, clearance, los, idx, nu, np.atleast_1d(loss), base)
