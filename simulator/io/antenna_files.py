"""Reader for vendor antenna pattern files in the MSI / Planet text format (``.msi``, ``.pln``).

Format (as described by the Radio Mobile and CPAN ``RF::Antenna::Planet::MSI::Format``
documentation): header lines ``KEY value`` (``NAME``, ``MAKE``, ``FREQUENCY``, ``H_WIDTH``,
``V_WIDTH``, ``FRONT_TO_BACK``, ``GAIN``, ``TILT``, ``ELECTRICAL_TILT``, ``POLARIZATION``,
``COMMENT``, vendor keys), then ``HORIZONTAL n`` followed by ``n`` lines ``angle attenuation``
and ``VERTICAL n`` likewise (usually n = 360, 0..359 deg). Attenuations are positive dB
below the peak. ``GAIN`` is in dBd unless followed by ``dBi`` (``dBd`` may be written). Some
vendors omit the ``NAME`` token: a first line that is not a known key is taken as the name.
Keys are case-insensitive.

Conventions assumed (the format does not state them; see
:class:`simulator.radio.antenna.TabulatedPattern`): horizontal angles increase clockwise seen
from above, vertical angles increase downwards from the front horizon.
"""

from __future__ import annotations

import os
import re

import numpy as np

from simulator.radio.antenna import DBD_TO_DBI, TabulatedPattern

__all__ = ["MAX_PATTERN_BYTES", "parse_msi", "read_msi"]

#: Largest pattern file read [bytes]. An MSI file with 1-degree cuts is about 10 kB, with
#: 0.1-degree cuts about 120 kB.
MAX_PATTERN_BYTES = 1 * 2**20

_KNOWN = {"NAME", "MAKE", "FREQUENCY", "H_WIDTH", "V_WIDTH", "FRONT_TO_BACK", "GAIN", "TILT",
          "ELECTRICAL_TILT", "POLARIZATION", "COMMENT", "HORIZONTAL", "VERTICAL"}
_FREQ_UNITS = {"": 1.0, "MHZ": 1.0, "GHZ": 1000.0, "KHZ": 1e-3, "HZ": 1e-6}


def _fail(source, lineno, msg):
    where = f"{source}:{lineno}" if lineno else str(source)
    raise ValueError(f"{where}: unreadable MSI antenna file: {msg}")


def _parse_frequency(text, source, lineno):
    num = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"
    m = re.fullmatch(rf"\s*{num}(?:\s*-\s*{num})?\s*([A-Za-z]*)\s*", text)
    try:
        lo = float(m.group(1))
        hi = float(m.group(2)) if m.group(2) else lo
        unit = _FREQ_UNITS[m.group(3).upper()]
    except (AttributeError, ValueError, KeyError):
        _fail(source, lineno, f"FREQUENCY {text.strip()!r} is not a number with an optional "
                              "unit (MHz, GHz) or a range 'a-b'")
    return 0.5 * (lo + hi) * unit  # a band 'a-b' is represented by its centre


def _parse_gain(text, source, lineno):
    parts = text.split()
    try:
        value = float(parts[0])
    except (IndexError, ValueError):
        _fail(source, lineno, f"GAIN {text.strip()!r} is not a number")
    unit = parts[1].upper() if len(parts) > 1 else "DBD"
    if unit == "DBI":
        return value
    if unit == "DBD":
        return value + DBD_TO_DBI
    _fail(source, lineno, f"GAIN unit {parts[1]!r} is not dBd or dBi")


def parse_msi(text, *, source="<string>"):
    """Parse the text of an MSI/Planet antenna file.

    Parameters
    ----------
    text : str
        File contents.
    source : str, optional
        Name used in error messages.

    Returns
    -------
    simulator.radio.antenna.TabulatedPattern
        With ``peak_gain_dbi`` converted to dBi and ``frequency_mhz`` in MHz (NaN if the
        file has none); all header fields are also kept as strings in ``metadata``.

    Raises
    ------
    ValueError
        Naming the source and line, if a block is missing or short, a value is not a
        number, angles do not increase within [0, 360), or a key is malformed.
    """
    lines = text.splitlines()
    meta: dict[str, str] = {}
    cuts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    name = None
    gain_dbi = None
    freq_mhz = float("nan")
    i = 0
    first_content = True
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        stripped = raw.strip()
        if not stripped:
            continue
        parts = stripped.split(None, 1)
        ukey = parts[0].upper()
        rest = parts[1].strip() if len(parts) > 1 else ""
        if first_content and ukey not in _KNOWN:
            name = stripped  # vendor files that omit the NAME token
            first_content = False
            continue
        first_content = False
        if ukey in ("HORIZONTAL", "VERTICAL"):
            try:
                n = int(rest.split()[0])
            except (IndexError, ValueError):
                _fail(source, lineno, f"{ukey} must be followed by the number of points")
            if n < 2:
                _fail(source, lineno, f"{ukey} {n}: need at least 2 points")
            if ukey in cuts:
                _fail(source, lineno, f"second {ukey} block")
            ang = np.empty(n)
            att = np.empty(n)
            for k in range(n):
                if i >= len(lines):
                    _fail(source, i, f"{ukey} block ends after {k} of {n} points")
                fields = lines[i].replace(",", " ").split()
                i += 1
                try:
                    if len(fields) != 2:
                        raise ValueError
                    ang[k], att[k] = float(fields[0]), float(fields[1])
                except ValueError:
                    _fail(source, i, f"{ukey} point {k + 1}: expected 'angle attenuation', got "
                                     f"{lines[i - 1].strip()!r}")
            if not (np.all(np.isfinite(ang)) and np.all(np.isfinite(att))):
                _fail(source, lineno, f"{ukey} block has non-finite values")
            if ang[0] < 0 or ang[-1] >= 360 or np.any(np.diff(ang) <= 0):
                _fail(source, lineno, f"{ukey} angles must increase strictly within [0, 360)")
            cuts[ukey] = (ang, att)
            continue
        meta[ukey] = rest
        if ukey == "NAME":
            name = rest
        elif ukey == "GAIN":
            gain_dbi = _parse_gain(rest, source, lineno)
        elif ukey == "FREQUENCY":
            freq_mhz = _parse_frequency(rest, source, lineno)
    for block in ("HORIZONTAL", "VERTICAL"):
        if block not in cuts:
            _fail(source, 0, f"no {block} block")
    if gain_dbi is None:
        _fail(source, 0, "no GAIN line")
    return TabulatedPattern(
        name=name or "",
        frequency_mhz=freq_mhz,
        peak_gain_dbi=gain_dbi,
        horizontal_angle_deg=cuts["HORIZONTAL"][0],
        horizontal_attenuation_db=cuts["HORIZONTAL"][1],
        vertical_angle_deg=cuts["VERTICAL"][0],
        vertical_attenuation_db=cuts["VERTICAL"][1],
        metadata=meta,
    )


def read_msi(path):
    """Read an MSI/Planet antenna pattern file.

    Parameters
    ----------
    path : str or os.PathLike
        File to read (text, UTF-8 or Latin-1).

    Returns
    -------
    simulator.radio.antenna.TabulatedPattern

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a regular file (a folder, a device such as /dev/zero, a pipe), is
        larger than :data:`MAX_PATTERN_BYTES`, or is not a readable MSI file (binary content,
        missing blocks, bad numbers), naming the file and line.
    """
    import stat

    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        _fail(os.fspath(path), 0, "not a regular file (a folder, device or pipe)")
    if st.st_size > MAX_PATTERN_BYTES:
        _fail(os.fspath(path), 0, f"{st.st_size:,} bytes; a pattern file is at most "
                                  f"{MAX_PATTERN_BYTES:,}")
    with open(path, "rb") as fh:
        data = fh.read(MAX_PATTERN_BYTES + 1)
    if len(data) > MAX_PATTERN_BYTES:
        _fail(os.fspath(path), 0, f"larger than {MAX_PATTERN_BYTES:,} bytes")
    if b"\x00" in data:
        _fail(os.fspath(path), 0, "binary content (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_msi(text, source=os.fspath(path))
