"""The one result type of a run, in memory or tiled."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ScenarioResult:
    """Everything a run produced: numbers, per-site results, and the region fields (in
    memory, or backed by the rasters the run wrote).

    An in-memory run (:func:`simulator.pipeline.runner.run`, the memory sink) holds the
    region-sized arrays below; a run written tile by tile
    (:func:`simulator.pipeline.distributed.run_tiled`, the GeoTIFF sink) holds none of
    them (None): its fields are the GeoTIFFs in ``out_dir`` (:meth:`read`). The numbers
    (``summary``, ``people_served_per_site``, ``business``) are the same arithmetic in both.

    Attributes
    ----------
    scenario : Scenario
    grid : Grid
    population : Population
        People per cell (in memory; a run written to disk keeps the settlements only, its
        ``people`` empty).
    sites : Sites
    stations : dict of StationType
    technology : Technology
    fields : CoverageFields or None
        Per-cell best-server signal, server index, path loss, co-channel interference.
    covered : numpy.ndarray or None
        bool grid: an outdoor person there is covered (downlink, uplink and SINR close).
    covered_existing : numpy.ndarray or None
        bool grid: the same, with the existing (baseline) sites alone.
    people_served_per_site : numpy.ndarray
        People covered whose best server is each site (int64, per site).
    serving : ServingFields or None
        Uplink, SINR, throughput, coverage probability, limitation and capacity per cell.
    channel : numpy.ndarray
        Channel of each site (frequency reuse).
    terrain : numpy.ndarray or None
        Ground elevation per cell [m] (None for flat terrain, and on disk).
    terrain_delta_h_m : float
        Terrain irregularity of the region (ITM's Delta h) [m].
    fields_existing : CoverageFields or None
        The engine's fields with the existing (baseline) sites alone.
    business : BusinessResult or None
        People connected, backhaul, power and costs per site (:mod:`simulator.business.assessment`).
    summary : dict
        The headline numbers (what summary.json holds).
    region_mask : numpy.ndarray or None
        bool grid: True where the cell centre is inside the region (the boundary when
        ``region.boundary`` is given, else everywhere); None on disk.
    boundary : shapely geometry or None
        The boundary polygon in the grid's CRS.
    inputs : dict
        What the real-data readers found (population raster, tower files).
    input_files : dict
        Every input file the scenario references, by scenario key: ``{"path", "bytes",
        "sha256"}``, taken when the run started (written to manifest.json).
    site_load : numpy.ndarray or None
        Busy-hour load of each site (demand / capacity).
    signal_cdf : dict
        People per 0.1 dB bin of the best-server signal (``"all"``, ``"existing"``), the
        people without a signal (``"no_signal"``, ``"no_signal_existing"``): what the
        signal CDF of a run on disk is drawn from (exact).
    mode : str
        "memory" (region arrays held) or "tiled" (written tile by tile to ``out_dir``).
    out_dir : Path or None
        Where a tiled run wrote its results.
    tiles, tile_size_cells, workers : int
        How the tile pass ran.
    site_pass : dict
        The terrain site pass (empty without a terrain method).
    clutter : simulator.region.clutter.ClutterLayer or None
        Land-cover class per cell and its terminal loss (``clutter:``); the fields and the
        serving results above include that loss.
    """

    scenario: object
    grid: object
    population: object
    sites: object
    stations: dict
    technology: object
    fields: object = None
    covered: np.ndarray | None = None
    covered_existing: np.ndarray | None = None
    people_served_per_site: np.ndarray | None = None
    serving: object = None
    channel: np.ndarray | None = None
    terrain: np.ndarray | None = None
    terrain_delta_h_m: float = 0.0
    fields_existing: object = None
    business: object = None
    summary: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    region_mask: np.ndarray | None = None
    boundary: object = None
    inputs: dict = field(default_factory=dict)
    input_files: dict = field(default_factory=dict)
    site_load: np.ndarray | None = None
    signal_cdf: dict = field(default_factory=dict)
    mode: str = "memory"
    out_dir: Path | None = None
    tiles: int = 0
    tile_size_cells: int = 0
    workers: int = 1
    site_pass: dict = field(default_factory=dict)
    clutter: object = None  # region.clutter.ClutterLayer (clutter: section) or None

    @property
    def settlements(self):
        """The population's settlements (for the maps of a run on disk)."""
        return self.population

    def read(self, name: str) -> np.ndarray:
        """A region field by raster name (``"rx_power_dbm"``, ``"covered"``, ...): from
        the written GeoTIFF of a run on disk, or from the arrays of an in-memory run."""
        if self.mode == "tiled":
            if self.out_dir is None:
                raise ValueError("this tiled run wrote no rasters (no out_dir)")
            from ..io.rasters import read_geotiff

            return read_geotiff(Path(self.out_dir) / f"{name}.tif")[0]
        from ..io.results import memory_rasters

        arrays = memory_rasters(self)
        if name not in arrays:
            raise ValueError(f"no field {name!r}; allowed: {', '.join(arrays)}")
        return arrays[name][0]

    # thin methods over simulator.io.interop (Python users: xarray, geopandas, repr)
    def to_xarray(self):
        """Every per-cell field as an xarray Dataset (:func:`simulator.io.interop.to_xarray`;
        a tiled run's is read lazily from the GeoTIFFs of ``out_dir``)."""
        from ..io.interop import to_xarray

        return to_xarray(self)

    def sites_frame(self, crs: str | None = "EPSG:4326"):
        """The sites as a GeoDataFrame, WGS 84 (:func:`simulator.io.interop.sites_frame`)."""
        from ..io.interop import sites_frame

        return sites_frame(self, crs)

    def __repr__(self) -> str:
        from ..io.interop import result_repr

        return result_repr(self)

    def save(self, out_dir=None, *, overwrite: bool = False, maps: bool | None = None):
        """Write every output to ``out_dir`` (atomically; see :mod:`simulator.io.results`).

        A tiled run has written its folder already; saving it elsewhere is refused."""
        if self.mode == "tiled":
            if out_dir is not None and self.out_dir is not None and \
                    Path(out_dir) == Path(self.out_dir):
                return Path(out_dir)
            raise ValueError("a tiled run writes its results while it runs "
                             "(run_tiled(out_dir=...)); it holds no region arrays to save")
        from ..io.results import save_result

        return save_result(self, out_dir, overwrite=overwrite, maps=maps)


#: The tiled run's result is the same type (kept as a name for older code).
TiledResult = ScenarioResult
