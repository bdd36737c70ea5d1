"""Clutter: a land-cover class per cell, its class table and the terminal loss it adds.

A per-cell input layer like the terrain. Each cell holds a land-cover class code (ESA
WorldCover codes by default: ``simulator/data/clutter.yaml``); the class table gives each
code a clutter type and a representative height, and
:func:`simulator.radio.propagation.clutter.terminal_clutter_loss_db` turns them into the
median ITU-R P.2108-1 §3.1 loss at the terminal. The loss is looked up per cell
(:class:`ClutterLayer`) and added inside the link budget: :func:`apply_terminal_loss`
lowers the signal the engine found at each cell (and the interference, which arrives
through the same clutter) before the serving stage decides downlink, uplink and SINR.

:func:`synthetic_clutter` makes a seeded land cover for synthetic regions: forest patches
on open farmland and built-up areas around the settlements.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import resources

import numpy as np
import yaml

from ..radio.propagation.clutter import (DEFAULT_STREET_WIDTH_M, ENGINE_CLUTTER_TYPES,
                                         P2108_DEFAULT_HEIGHT_M, terminal_clutter_loss_db)
from .grid import Grid, Tile

#: WorldCover codes used by :func:`synthetic_clutter`.
TREE_COVER, CROPLAND, BUILT_UP = 10, 40, 50
#: Types that add a loss (need a representative height).
OBSTRUCTING_TYPES = tuple(t for t in ENGINE_CLUTTER_TYPES if t not in ("open", "water"))


@dataclass(frozen=True)
class ClutterClass:
    """One row of the class table.

    Attributes
    ----------
    code : int
        Land-cover class code (0-65535).
    name : str
    type : str
        One of :data:`simulator.radio.propagation.clutter.ENGINE_CLUTTER_TYPES`.
    height_m : float or None
        Representative clutter height R [m] (None for ``open``/``water``).
    street_width_m : float
        Distance to the clutter edge w_s [m].
    colour : str or None
        Display colour ``#rrggbb``.
    """

    code: int
    name: str
    type: str
    height_m: float | None = None
    street_width_m: float = DEFAULT_STREET_WIDTH_M
    colour: str | None = None

    @property
    def adds_loss(self) -> bool:
        return self.type in OBSTRUCTING_TYPES


def make_class(code: int, *, type: str, name: str | None = None, height_m: float | None = None,
               street_width_m: float = DEFAULT_STREET_WIDTH_M,
               colour: str | None = None) -> ClutterClass:
    """A :class:`ClutterClass`, with the P.2108-1 Table 3 default height of its type when
    ``height_m`` is None (``suburban`` 10 m, ``urban``/``trees_forest`` 15 m,
    ``dense_urban`` 20 m)."""
    if type not in ENGINE_CLUTTER_TYPES:
        raise ValueError(f"type={type!r} is not allowed; allowed: "
                         f"{', '.join(ENGINE_CLUTTER_TYPES)}")
    if type in OBSTRUCTING_TYPES:
        height_m = P2108_DEFAULT_HEIGHT_M[type] if height_m is None else float(height_m)
        if not height_m > 0:
            raise ValueError(f"height_m={height_m:g} is outside the allowed range (0, inf)")
    else:
        height_m = None
    if not street_width_m > 0:
        raise ValueError(f"street_width_m={street_width_m:g} is outside the allowed range (0, inf)")
    return ClutterClass(code=int(code), name=name or f"class_{int(code)}", type=type,
                        height_m=height_m, street_width_m=float(street_width_m), colour=colour)


def default_classes() -> dict[int, ClutterClass]:
    """The packaged class table (``simulator/data/clutter.yaml``: ESA WorldCover codes).

    The ``*_source`` entries of the file document each value; they are not kept here.
    """
    raw = yaml.safe_load(resources.files("simulator.data").joinpath("clutter.yaml").read_text())
    out = {}
    for code, entry in raw["classes"].items():
        kw = {k: v for k, v in entry.items() if not k.endswith("_source")}
        out[int(code)] = make_class(int(code), **kw)
    return out


def loss_table_db(classes: dict[int, ClutterClass], frequency_mhz: float,
                  terminal_height_m: float) -> np.ndarray:
    """Loss per class code as a lookup array: ``lut[code]`` [dB] (float32), NaN for codes
    that are not in ``classes``. Length ``max(code) + 1``.

    Uses :func:`simulator.radio.propagation.clutter.terminal_clutter_loss_db` (median,
    receiver end).
    """
    n = max(classes) + 1 if classes else 1
    lut = np.full(n, np.nan, np.float32)
    for code, c in classes.items():
        lut[code] = np.float32(terminal_clutter_loss_db(
            frequency_mhz, terminal_height_m, np.nan if c.height_m is None else c.height_m,
            c.type, street_width_m=c.street_width_m))
    return lut


def class_dtype(classes: dict[int, ClutterClass]) -> np.dtype:
    """uint8 when every code fits (WorldCover), else uint16."""
    return np.dtype(np.uint8) if (not classes or max(classes) <= 255) else np.dtype(np.uint16)


@dataclass
class ClutterLayer:
    """Land-cover class per cell of a grid and the terminal loss of each class.

    Attributes
    ----------
    grid : Grid
    classes : numpy.ndarray
        uint8 or uint16 class code per cell (``grid.shape``); every code is in ``table``.
    table : dict of int -> ClutterClass
    frequency_mhz : float
        Frequency the losses are for [MHz].
    terminal_height_m : float
        Terminal (handset) height the losses are for [m].
    loss_lut_db : numpy.ndarray
        float32 loss per code [dB] (:func:`loss_table_db`).
    source : str
        ``"raster"`` or ``"synthetic"``.
    info : dict
        What the reader or generator reported (JSON-ready).
    """

    grid: Grid
    classes: np.ndarray
    table: dict
    frequency_mhz: float
    terminal_height_m: float
    loss_lut_db: np.ndarray
    source: str = "synthetic"
    info: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def build(cls, grid: Grid, classes: np.ndarray, table: dict, *, frequency_mhz: float,
              terminal_height_m: float, source: str, info: dict | None = None) -> "ClutterLayer":
        """Check ``classes`` against the table and compute the loss per class."""
        classes = np.asarray(classes)
        if classes.shape != grid.shape:
            raise ValueError(f"classes shape {classes.shape} does not match the grid {grid.shape}")
        lut = loss_table_db(table, frequency_mhz, terminal_height_m)
        present = np.unique(classes)
        unknown = [int(c) for c in present if c >= len(lut) or np.isnan(lut[c])]
        if unknown:
            raise ValueError(f"class codes {unknown} are not in the class table "
                             f"(codes {sorted(table)})")
        return cls(grid=grid, classes=classes.astype(class_dtype(table), copy=False),
                   table=dict(table), frequency_mhz=float(frequency_mhz),
                   terminal_height_m=float(terminal_height_m), loss_lut_db=lut, source=source,
                   info=dict(info or {}))

    def window(self, tile: Tile | None = None) -> np.ndarray:
        """The class codes of a tile (all cells when None)."""
        return self.classes if tile is None else self.classes[tile.slices]

    def loss_db(self, tile: Tile | None = None) -> np.ndarray:
        """float32 terminal clutter loss per cell of ``tile`` (the grid when None) [dB]."""
        return self.loss_lut_db[self.window(tile)]

    def class_at_xy(self, x_m, y_m) -> np.ndarray:
        """Class code of the cell holding each point (grid CRS, metres); -1 outside the grid."""
        x = np.asarray(x_m, dtype=np.float64)
        y = np.asarray(y_m, dtype=np.float64)
        g = self.grid
        col = np.floor((x - g.x_min_m) / g.resolution_m)
        row = np.floor((g.y_max_m - y) / g.resolution_m)
        inside = (col >= 0) & (col < g.ncols) & (row >= 0) & (row < g.nrows)
        r = np.where(inside, row, 0).astype(np.int64)
        c = np.where(inside, col, 0).astype(np.int64)
        return np.where(inside, self.classes[r, c].astype(np.int64), -1)

    def loss_at_xy(self, x_m, y_m, *, frequency_mhz: float | None = None,
                   terminal_height_m: float | None = None) -> np.ndarray:
        """Terminal clutter loss at points (the class of the cell holding each point) [dB].

        For calibration and point-to-point predictions: ``frequency_mhz`` and
        ``terminal_height_m`` default to the layer's (the scenario's technology and
        ``propagation.ue_height_m``); give others for a different transmitter or handset.
        NaN outside the grid.

        Parameters
        ----------
        x_m, y_m : array_like
            Points in the grid's CRS [m] (broadcast together).
        frequency_mhz : float, optional
            [MHz], 30-3000.
        terminal_height_m : float, optional
            Height of the terminal in the clutter [m], > 0.
        """
        codes = self.class_at_xy(x_m, y_m)
        lut = self.loss_lut_db
        if frequency_mhz is not None or terminal_height_m is not None:
            lut = loss_table_db(self.table,
                                self.frequency_mhz if frequency_mhz is None else frequency_mhz,
                                self.terminal_height_m if terminal_height_m is None
                                else terminal_height_m)
        return np.where(codes >= 0, lut[np.maximum(codes, 0)].astype(np.float64), np.nan)


def apply_terminal_loss(fields, loss_db: np.ndarray):
    """The engine's fields with a per-cell terminal loss added (a new object).

    The best-server signal and the co-channel interference both arrive through the
    terminal's clutter, so both drop by ``loss_db``; the path loss grows by it (so signal =
    EIRP + antenna gain - path loss still holds). The best server does not change (the
    loss is the same from every site). The uplink, whose coupling loss
    :func:`simulator.radio.serving.serve` takes from this signal, loses the same.

    Parameters
    ----------
    fields : simulator.pipeline.engine.CoverageFields
    loss_db : numpy.ndarray
        float32 loss per cell [dB], the fields' shape.
    """
    loss = np.asarray(loss_db, dtype=np.float32)
    if loss.shape != fields.rx_dbm.shape:
        raise ValueError(f"loss_db shape {loss.shape} does not match the fields "
                         f"{fields.rx_dbm.shape}")
    interf = fields.interference_dbm
    return dataclasses.replace(
        fields, rx_dbm=(fields.rx_dbm - loss).astype(np.float32),
        path_loss_db=(fields.path_loss_db + loss).astype(np.float32),
        interference_dbm=None if interf is None else (interf - loss).astype(np.float32))


def clutter_sums(classes: np.ndarray, people: np.ndarray, people_covered: np.ndarray,
                 people_covered_without: np.ndarray, inside: np.ndarray | None = None) -> dict:
    """Integer sums per class code (exact; a tiled run adds them tile by tile).

    Keys ``clutter_cells_<code>`` (cells inside the region), ``clutter_people_<code>``,
    ``clutter_covered_<code>`` (people covered, with the clutter loss) and
    ``clutter_decided_<code>`` (people covered without the clutter loss and not with it),
    for the codes present.
    """
    codes = np.asarray(classes).ravel().astype(np.int64)
    people = np.asarray(people).ravel().astype(np.int64)
    cov = np.asarray(people_covered).ravel().astype(np.int64)
    cov0 = np.asarray(people_covered_without).ravel().astype(np.int64)
    # with a loss >= 0 coverage can only shrink, cell by cell; max(.., 0) guards rounding
    decided = np.maximum(cov0 - cov, 0)
    inside = np.ones(codes.shape, bool) if inside is None else np.asarray(inside).ravel()
    out = {}
    for code in np.unique(codes):
        m = codes == code
        out[f"clutter_cells_{code}"] = int((m & inside).sum())
        out[f"clutter_people_{code}"] = int(people[m].sum())
        out[f"clutter_covered_{code}"] = int(cov[m].sum())
        out[f"clutter_decided_{code}"] = int(decided[m].sum())
    return out


# --------------------------------------------------------------------------- synthetic
def _smooth_field(grid: Grid, patch_m: float, rng: np.random.Generator):
    """Zero-mean, unit-variance Gaussian random field with correlation length ``patch_m``,
    made on a coarse lattice (cell = max(resolution, patch / 4)) and interpolated
    bilinearly onto the cell centres. Returns a callable giving row strips."""
    from scipy import ndimage

    res = grid.resolution_m
    step = max(res, patch_m / 4.0)
    sigma = patch_m / step
    pad = int(np.ceil(3 * sigma)) + 2
    ny = int(np.ceil(grid.nrows * res / step)) + 2 * pad + 2
    nx = int(np.ceil(grid.ncols * res / step)) + 2 * pad + 2
    noise = rng.standard_normal((ny, nx))
    field = ndimage.gaussian_filter(noise, sigma=sigma, mode="wrap")
    field = (field - field.mean()) / field.std()
    # fine cell centre -> coarse lattice coordinate (lattice point i at (i - pad) * step)
    fx = (np.arange(grid.ncols) + 0.5) * res / step + pad
    fy = (np.arange(grid.nrows) + 0.5) * res / step + pad
    ix = np.floor(fx).astype(np.int64)
    wx = (fx - ix).astype(np.float32)
    iy = np.floor(fy).astype(np.int64)
    wy = (fy - iy).astype(np.float32)
    f32 = field.astype(np.float32)
    along_x = f32[:, ix] * (1 - wx) + f32[:, ix + 1] * wx      # (ny, ncols)

    def strip(r0: int, r1: int) -> np.ndarray:
        a = along_x[iy[r0:r1]]
        b = along_x[iy[r0:r1] + 1]
        w = wy[r0:r1, None]
        return a * (1 - w) + b * w

    return strip


def synthetic_clutter(grid: Grid, settlement_x_m, settlement_y_m, settlement_people, *,
                      forest_share: float = 0.3, forest_patch_m: float = 1000.0,
                      built_up_radius_1000_m: float = 250.0, min_settlement_people: int = 100,
                      rng=None) -> np.ndarray:
    """Seeded land cover in ESA WorldCover codes: farmland, forest patches, built-up areas.

    * Background: cropland (40, open).
    * Forest (10): where a smooth Gaussian random field (correlation length
      ``forest_patch_m``) exceeds its ``1 - forest_share`` quantile of the standard normal,
      so about ``forest_share`` of the cells are forest, in patches.
    * Built-up (50): every cell whose centre is within
      ``built_up_radius_1000_m * sqrt(people / 1000)`` of a settlement of at least
      ``min_settlement_people``, and the cell holding that settlement's centre; built-up
      wins over forest.

    Parameters
    ----------
    grid : Grid
    settlement_x_m, settlement_y_m : array_like
        Settlement centres in the grid's CRS [m].
    settlement_people : array_like
        People of each settlement.
    forest_share : float
        Target share of forest cells, in [0, 1].
    forest_patch_m : float
        Correlation length of the forest field [m], > 0.
    built_up_radius_1000_m : float
        Built-up radius of a 1,000-person settlement [m], > 0.
    min_settlement_people : int
        Smaller settlements get no built-up area, >= 0.
    rng : numpy.random.Generator or int, optional
        SPEC 7 random source (the runner passes ``component_rng(seed, "clutter")``).

    Returns
    -------
    numpy.ndarray
        uint8 class codes, ``grid.shape``.
    """
    from scipy.special import ndtri

    if not 0.0 <= forest_share <= 1.0:
        raise ValueError(f"forest_share={forest_share:g} is outside the allowed range [0, 1]")
    if not forest_patch_m > 0:
        raise ValueError(f"forest_patch_m={forest_patch_m:g} is outside the allowed range (0, inf)")
    if not built_up_radius_1000_m > 0:
        raise ValueError(f"built_up_radius_1000_m={built_up_radius_1000_m:g} is outside the "
                         "allowed range (0, inf)")
    if min_settlement_people < 0:
        raise ValueError(f"min_settlement_people={min_settlement_people} is outside the allowed "
                         "range [0, inf)")
    rng = np.random.default_rng(rng)
    out = np.full(grid.shape, CROPLAND, np.uint8)
    strip = _smooth_field(grid, forest_patch_m, rng)
    if forest_share > 0:
        threshold = float(ndtri(1.0 - forest_share))
        step = max(1, 4_000_000 // max(grid.ncols, 1))
        for r0 in range(0, grid.nrows, step):
            r1 = min(r0 + step, grid.nrows)
            out[r0:r1][strip(r0, r1) > threshold] = TREE_COVER
    sx = np.asarray(settlement_x_m, dtype=np.float64)
    sy = np.asarray(settlement_y_m, dtype=np.float64)
    sp = np.asarray(settlement_people, dtype=np.float64)
    res = grid.resolution_m
    rows, cols = grid.cell_of(sx, sy) if len(sx) else (np.zeros(0, int), np.zeros(0, int))
    for k in np.flatnonzero(sp >= max(min_settlement_people, 1)):
        radius = built_up_radius_1000_m * np.sqrt(sp[k] / 1000.0)
        reach = int(np.ceil(radius / res)) + 1
        r0, r1 = max(rows[k] - reach, 0), min(rows[k] + reach + 1, grid.nrows)
        c0, c1 = max(cols[k] - reach, 0), min(cols[k] + reach + 1, grid.ncols)
        if r1 <= r0 or c1 <= c0:
            continue
        xc = grid.x_centres(c0, c1)
        yc = grid.y_centres(r0, r1)
        d2 = (xc[None, :] - sx[k]) ** 2 + (yc[:, None] - sy[k]) ** 2
        out[r0:r1, c0:c1][d2 <= radius * radius] = BUILT_UP
        if 0 <= rows[k] < grid.nrows and 0 <= cols[k] < grid.ncols:
            out[rows[k], cols[k]] = BUILT_UP
    return out
