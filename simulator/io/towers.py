"""Existing towers from a CSV in the OpenCelliD column layout, deduplicated into sites.

OpenCelliD (https://opencellid.org, "cell_towers.csv") publishes one row per **cell**
with the columns ``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,
updated,averageSignal``. A tower carries many cells (sectors, bands, technologies), and
the positions are estimates, so cells of one tower scatter by tens of metres. Here the
cells of mapped radio types that lie within ``cluster_m`` of each other are joined
(single linkage over a k-d tree's pairs, connected components) and each group becomes
one site at the cells' mean position.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ScenarioError

#: Columns of the OpenCelliD export, in order.
OPENCELLID_COLUMNS = ["radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range",
                      "samples", "changeable", "created", "updated", "averageSignal"]
_REQUIRED = ("radio", "lon", "lat")


@dataclass
class TowerSites:
    """Sites built from a tower CSV, and what was skipped.

    Attributes
    ----------
    x_m, y_m : numpy.ndarray
        Site positions in the grid's CRS [m].
    station : list of str
        Station type per site.
    radios : list of str
        The radio types of each site's cells, joined with '+' (e.g. 'GSM+LTE').
    n_cells : numpy.ndarray
        Cells merged into each site.
    counts : dict
        ``rows``, ``cells_used``, ``skipped_unmapped_radio`` (by radio), ``skipped_filtered``
        (mcc/net filter), ``skipped_outside_region``, ``sites``.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    station: list
    radios: list
    n_cells: np.ndarray
    counts: dict = field(default_factory=dict)


def read_opencellid_csv(path, *, key: str = "sites.existing_towers.0.file"):
    """Read the rows of an OpenCelliD-format CSV: radio, mcc, net, lon, lat (arrays).

    Raises
    ------
    ScenarioError
        Missing file or columns, a lon/lat that is not a number or out of range (naming
        the line), naming ``key``.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("tower file not found (paths are relative to the scenario file's "
                            "folder)", file=str(path), key=key)
    try:
        return _read_rows(path, key)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(f"not a readable CSV text file ({exc}); allowed: a UTF-8 CSV with "
                            f"the OpenCelliD columns {','.join(OPENCELLID_COLUMNS)}",
                            file=str(path), key=key) from None


def _read_rows(path: Path, key: str):
    radio, mcc, net, lon, lat = [], [], [], [], []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise ScenarioError(f"missing column(s) {', '.join(missing)}; allowed: a header row "
                                f"with the OpenCelliD columns {','.join(OPENCELLID_COLUMNS)}",
                                file=str(path), key=key)
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            try:
                x, y = float(row["lon"]), float(row["lat"])
            except (TypeError, ValueError):
                raise ScenarioError(f"line {line}: lon/lat ({row.get('lon')!r}, "
                                    f"{row.get('lat')!r}) is not a number; allowed: decimal "
                                    "degrees (WGS 84)", file=str(path), key=key,
                                    value=row.get("lon")) from None
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                raise ScenarioError(f"line {line}: lon/lat ({x}, {y}) is out of range; "
                                    "allowed: lon -180..180, lat -90..90", file=str(path),
                                    key=key, value=(x, y))
            radio.append((row["radio"] or "").strip().upper())
            mcc.append(_int_or_minus1(row.get("mcc")))
            net.append(_int_or_minus1(row.get("net")))
            lon.append(x)
            lat.append(y)
    return (np.array(radio, dtype=object), np.array(mcc, np.int64), np.array(net, np.int64),
            np.array(lon, float), np.array(lat, float))


def _int_or_minus1(v) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return -1


def cluster_points(x_m, y_m, radius_m: float) -> np.ndarray:
    """Single-linkage cluster labels: points closer than ``radius_m`` share a label.

    Labels are 0..n_clusters-1 in order of each cluster's first point.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(x_m)
    if n == 0:
        return np.zeros(0, np.int64)
    if radius_m <= 0:
        pairs = np.zeros((0, 2), np.int64)
    else:
        pairs = cKDTree(np.c_[x_m, y_m]).query_pairs(radius_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    _, first = np.unique(labels, return_index=True)
    remap = np.empty(labels.max() + 1, np.int64)
    remap[labels[np.sort(first)]] = np.arange(len(first))
    return remap[labels]


def towers_to_sites(path, grid, *, radio_map: dict, default_station=None, cluster_m=100.0,
                    mcc=None, net=None, inside=None, key="sites.existing_towers.0") -> TowerSites:
    """Read a tower CSV and deduplicate its cells into sites inside the region.

    Parameters
    ----------
    path : path-like
    grid : Grid
        Target grid (its CRS and extent).
    radio_map : dict
        Radio type (upper case) -> station type.
    default_station : str, optional
        Station type for radios not in ``radio_map``; None skips them (counted).
    cluster_m : float
        Single-linkage distance joining cells into one site [m].
    mcc, net : list of int, optional
        Keep only these country / network codes.
    inside : callable, optional
        ``inside(x_m, y_m) -> bool array``; default ``grid.contains``. Cells outside are
        skipped (counted).
    """
    from pyproj import Transformer

    radio, mccs, nets, lon, lat = read_opencellid_csv(path, key=f"{key}.file")
    counts = {"file": str(path), "rows": int(len(radio))}
    keep = np.ones(len(radio), bool)
    if mcc is not None:
        keep &= np.isin(mccs, mcc)
    if net is not None:
        keep &= np.isin(nets, net)
    counts["skipped_filtered"] = int((~keep).sum())
    station = np.array([radio_map.get(r, default_station) for r in radio], dtype=object)
    unmapped = keep & np.array([s is None for s in station], bool)
    counts["skipped_unmapped_radio"] = dict(sorted(Counter(radio[unmapped]).items()))
    keep &= ~unmapped
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    ins = (inside or grid.contains)(x, y) if len(x) else np.zeros(0, bool)
    counts["skipped_outside_region"] = int((keep & ~ins).sum())
    keep &= ins
    counts["cells_used"] = int(keep.sum())
    x, y, station, radio = x[keep], y[keep], station[keep], radio[keep]
    labels = cluster_points(x, y, cluster_m)
    n_sites = int(labels.max()) + 1 if len(labels) else 0
    sx = np.bincount(labels, weights=x, minlength=n_sites)
    sy = np.bincount(labels, weights=y, minlength=n_sites)
    nc = np.bincount(labels, minlength=n_sites)
    sx, sy = sx / np.maximum(nc, 1), sy / np.maximum(nc, 1)
    order = list(radio_map.values())
    st_out, radios_out = [], []
    for k in range(n_sites):
        members = labels == k
        c = Counter(station[members])
        top = max(c.values())
        # majority; ties go to the type listed first in radio_map (then default_station)
        tied = [s for s in c if c[s] == top]
        tied.sort(key=lambda s: order.index(s) if s in order else len(order))
        st_out.append(tied[0])
        radios_out.append("+".join(sorted(set(radio[members]))))
    counts["sites"] = n_sites
    return TowerSites(sx, sy, st_out, radios_out, nc.astype(np.int64), counts)
