"""Free-space basic transmission loss, ITU-R P.525-4."""

from __future__ import annotations

import numpy as np

from ._common import SPEED_OF_LIGHT_M_PER_S

#: 20*log10(4*pi/c * 1e6): the constant for distance in m and frequency in MHz [dB].
_FSPL_CONST_DB = 20.0 * np.log10(4.0 * np.pi * 1e6 / SPEED_OF_LIGHT_M_PER_S)


def free_space_loss_db(distance_m, frequency_mhz):
    r"""Free-space basic transmission loss.

    ITU-R P.525-4 eq. (4): :math:`L_{bf} = 20\log_{10}(4\pi d / \lambda)`, evaluated with
    the exact speed of light, i.e. ``32.4478 + 20 log10(f_MHz) + 20 log10(d_km)`` dB
    (P.525 prints the rounded constant 32.4).

    Parameters
    ----------
    distance_m : array_like
        Path length (straight-line separation of the antennas) [m]. Must be > 0.
    frequency_mhz : array_like
        Frequency [MHz]. Must be > 0.

    Returns
    -------
    numpy.ndarray or float
        Basic transmission loss [dB], broadcast over the inputs. The dtype follows
        ``distance_m`` when it is float32 (engine use), float64 otherwise.

    Raises
    ------
    ValueError
        If any distance or frequency is not positive.
    """
    d = np.asarray(distance_m)
    f = np.asarray(frequency_mhz, dtype=float)
    if np.any(d <= 0) or np.any(f <= 0):
        raise ValueError("free_space_loss_db needs distance_m > 0 and frequency_mhz > 0")
    dtype = np.float32 if d.dtype == np.float32 else np.float64
    out = (20.0 * np.log10(d.astype(dtype, copy=False))
           + (20.0 * np.log10(f) + _FSPL_CONST_DB).astype(dtype))
    return out.astype(dtype, copy=False)
