"""Writing a ScenarioResult to a results folder, atomically.

Everything is written into a hidden temporary folder beside the target
(``.NAME.partial-PID-XXXX``) and renamed into place only when complete, so a failed or
killed run never leaves a half-written folder that looks like a result; an existing folder
is replaced only with ``overwrite=True`` (moved aside to ``.NAME.old-PID-XXXX``, the new one
renamed in, the old one deleted).

A process killed with SIGKILL cannot clean up. The next save to the same target does: it
deletes ``.NAME.partial-PID-*`` and ``.NAME.old-PID-*`` folders whose process PID is no longer
running, and if the target is missing while such an ``.old`` folder holds it (killed between
the two renames of an overwrite), it first moves the earlier results back. Folders of a live
process (another run writing the same target) are left alone.

``manifest.json`` records what produced the numbers: scenario hash and file checksum, seed,
software and library versions, the size and SHA-256 of every input file the scenario
references (taken when the run started), and the SHA-256 of every output file.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import yaml

from ..errors import ScenarioError
from .exports import write_map_files
from .rasters import raster_categories, region_writer, write_geotiff
from .vectors import write_sites_geojson


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _flatten(v, key + ".")
        elif isinstance(v, list):
            rows.append((key, " | ".join(map(str, v))))
        else:
            rows.append((key, v))
    return rows


def write_summary(summary: dict, folder: Path) -> None:
    # allow_nan=False: a NaN or infinity in a headline number is a bug, never written
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False,
                                                    allow_nan=False) + "\n")
    with open(folder / "summary.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "value"])
        w.writerows(_flatten(summary))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_out_dir(result) -> Path:
    s = result.scenario
    return Path(s.outputs.dir) if s.outputs.dir else Path("results") / s.name


def save_result(result, out_dir=None, *, overwrite: bool = False, maps: bool | None = None) -> Path:
    """Write summary, rasters, sites and map of ``result`` into ``out_dir``.

    Parameters
    ----------
    result : ScenarioResult
    out_dir : path-like, optional
        Default ``outputs.dir`` of the scenario, else ``results/<scenario name>``.
    overwrite : bool
        Replace an existing folder (otherwise a ScenarioError is raised before any work).
    maps : bool, optional
        Draw ``coverage_map.png`` and ``rx_cdf.png`` (also embedded in ``report.html``);
        default ``outputs.maps`` of the scenario. ``report.html`` is written unless
        ``outputs.report`` is false.

    Returns
    -------
    pathlib.Path
        The results folder.
    """
    out = Path(out_dir) if out_dir is not None else default_out_dir(result)
    maps = result.scenario.outputs.maps if maps is None else maps
    with atomic_folder(out, overwrite=overwrite) as tmp:
        _write_all(result, tmp, maps)
    return out


@contextlib.contextmanager
def atomic_folder(out: Path | str, *, overwrite: bool = False):
    """Yield a hidden temporary folder beside ``out``; rename it to ``out`` on success.

    On any exception (including KeyboardInterrupt) the temporary folder is removed and
    ``out`` is left as it was, so a failed run never leaves a half-written results folder.
    An existing ``out`` is refused (ScenarioError) unless ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise ScenarioError("results folder already exists; pass --overwrite (overwrite=True) "
                            "to replace it, or choose another --out", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    if out.exists() and not overwrite:  # restored from an interrupted overwrite
        raise ScenarioError("results folder already exists; pass --overwrite (overwrite=True) "
                            "to replace it, or choose another --out", file=str(out))
    pid = os.getpid()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{pid}-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{pid}-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def stale_folders(out: Path) -> list[Path]:
    """Hidden ``.NAME.partial-PID-*`` / ``.NAME.old-PID-*`` folders of dead processes."""
    out = Path(out)
    if not out.parent.is_dir():
        return []
    found = []
    for p in sorted(out.parent.iterdir()):
        for kind in ("partial", "old"):
            prefix = f".{out.name}.{kind}-"
            if p.name.startswith(prefix) and p.is_dir():
                pid = p.name[len(prefix):].split("-", 1)[0]
                if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    found.append(p)
    return found


def clean_stale(out: Path) -> list[Path]:
    """Remove what killed saves to ``out`` left behind; restore an interrupted overwrite.

    Returns the folders removed.
    """
    out = Path(out)
    stale = stale_folders(out)
    for p in stale:
        if ".old-" in p.name and not out.exists() and (p / out.name).is_dir():
            os.replace(p / out.name, out)
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return stale


def _versions() -> dict:
    import sys

    out = {"python": sys.version.split()[0]}
    for name in ("numpy", "scipy", "rasterio", "pyproj", "shapely", "geopandas", "pydantic"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", None)
        except ImportError:  # pragma: no cover - all are dependencies
            out[name] = None
    try:
        import rasterio

        out["gdal"] = rasterio.__gdal_version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return out


_CAPTIONS = {
    "coverage_map": "Coverage map: received signal where covered, people without outdoor "
                    "coverage in red, sites by type, region boundary; north up.",
    "rx_cdf": "Best-server downlink signal over people (CDF), with and without the new "
              "sites; the red line is the required signal."}


def draw_figures(result, captions: dict[str, str] | None = None) -> dict[str, tuple[bytes, str]]:
    """The run's figures as PNG bytes with captions: coverage map and signal CDF.

    Parameters
    ----------
    result : ScenarioResult or simulator.io.coarse.CoarseMap
    captions : dict, optional
        ``{"coverage_map": ..., "rx_cdf": ...}``; default the in-memory run's captions.
        A figure whose caption is None is not drawn.
    """
    import io

    # Figure objects without pyplot: no global backend switch (a notebook's inline
    # backend stays as it is) and nothing left open
    from matplotlib.figure import Figure

    from ..plotting import plot_coverage_map, plot_rx_cdf

    captions = _CAPTIONS if captions is None else captions
    out = {}
    for name, size, draw in [("coverage_map", (10, 8), plot_coverage_map),
                             ("rx_cdf", (8, 5), plot_rx_cdf)]:
        caption = captions.get(name)
        if caption is None:
            continue
        fig = Figure(figsize=size, dpi=120)
        draw(result, ax=fig.subplots())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        out[name] = (buf.getvalue(), caption)
    return out


def memory_rasters(result) -> dict:
    """``{name: (array, RasterSpec)}`` of an in-memory result: the GeoTIFFs a run writes
    (:func:`simulator.pipeline.tiles.raster_specs`, the same set and metadata as a run
    written tile by tile), keyed by name without ``.tif``."""
    from ..pipeline.tiles import raster_specs

    f, sv, tech = result.fields, result.serving, result.technology
    arrays = {
        "population.tif": lambda: result.population.people.astype(np.int32),
        "rx_power_dbm.tif": lambda: f.rx_dbm,
        "best_server.tif": lambda: f.best_server,
        "covered.tif": lambda: result.covered.astype(np.uint8),
        "path_loss_db.tif": lambda: f.path_loss_db,
        "sinr_db.tif": lambda: np.where(f.best_server >= 0, sv.sinr_db,
                                        np.float32(np.nan)).astype(np.float32),
        "throughput_mbps.tif": lambda: sv.throughput_mbps,
        "coverage_probability.tif": lambda: sv.coverage_probability,
        "limitation.tif": lambda: sv.limitation,
        "terrain.tif": lambda: result.terrain.astype(np.float32),
        "line_of_sight.tif": lambda: sv.line_of_sight.astype(np.uint8),
    }
    specs = raster_specs(tech, terrain=result.terrain is not None,
                         line_of_sight=sv is not None and sv.line_of_sight is not None)
    out = {}
    for spec in specs:
        if sv is None and spec.name not in ("population.tif", "rx_power_dbm.tif",
                                            "best_server.tif", "covered.tif",
                                            "path_loss_db.tif", "terrain.tif"):
            continue
        out[spec.name[:-4]] = (arrays[spec.name](), spec)
    return out


def _write_all(result, folder: Path, maps: bool) -> None:
    # cells outside the region boundary are no-data in every result raster
    write_geotiff = region_writer(result)
    g = result.grid
    write_summary(result.summary, folder)
    for name, (arr, spec) in memory_rasters(result).items():
        kw = {}
        if spec.name == "best_server.tif":
            kw["categories"] = raster_categories("best_server.tif",
                                                 site_names=result.sites.names)
        if spec.name == "terrain.tif":
            kw["outside"] = None              # input data: left as it is outside
        write_geotiff(folder / spec.name, arr, g, nodata=spec.nodata,
                      description=spec.description, units=spec.units, **kw)
    if getattr(result, "clutter", None) is not None:
        from .landcover import write_clutter_geotiff

        write_clutter_geotiff(folder / "clutter.tif", result.clutter)
        if result.scenario.outputs.cloud_optimised:
            from .streaming import to_cog

            to_cog(folder / "clutter.tif", categories=True)
    write_sites_geojson(result, folder / "sites.geojson")
    s = result.scenario
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False))
    figures = {}
    if maps:
        figures = draw_figures(result)
        for name, (png, _) in figures.items():
            (folder / f"{name}.png").write_bytes(png)
    write_map_files(result, folder, maps=maps)   # coverage.kmz, map.html, coverage.gpkg
    if s.outputs.report:
        from ..report import build_report_html

        (folder / "report.html").write_text(build_report_html(result, figures),
                                            encoding="utf-8")
    write_manifest(s, result.summary, folder, input_files=result.input_files)


def write_manifest(scenario, summary: dict, folder: Path, *, input_files=None) -> None:
    """manifest.json: scenario hashes, the input files' and every output's SHA-256."""
    s = scenario
    manifest = {
        "scenario": s.name,
        "seed": s.seed,
        "software_version": summary.get("software_version"),
        "scenario_sha256": hashlib.sha256(
            json.dumps(s.model_dump(mode="json"), sort_keys=True).encode()).hexdigest(),
        "scenario_file": str(s.source_path) if s.source_path else None,
        "scenario_file_sha256": _sha256(s.source_path) if s.source_path and
        Path(s.source_path).is_file() else None,
        "inputs": input_files or {},
        "libraries": _versions(),
        "outputs": {p.name: _sha256(p) for p in sorted(folder.iterdir()) if p.is_file()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
