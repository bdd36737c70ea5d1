"""The map files of a run beside its rasters: coverage.kmz, map.html, coverage.gpkg.

One call from each writer of a results folder (:func:`simulator.io.results.save_result`
for an in-memory run, the tiled writer with the coarse reading of its rasters), so both
kinds of run write the same files from the same layers (:mod:`simulator.io.maplayers`).
"""

from __future__ import annotations

from pathlib import Path


def write_map_files(result, folder, *, maps: bool = True) -> list[Path]:
    """Write the map files the scenario asks for (``outputs.google_earth``, ``web_map``,
    ``vectors``; none when ``maps`` is false) into ``folder``.

    Parameters
    ----------
    result : ScenarioResult or CoarseMap
    folder : path-like
    maps : bool
        The run draws maps (``outputs.maps`` / --no-maps).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    if not maps:
        return []
    from .maplayers import map_layers, signal_range_dbm

    out = result.scenario.outputs
    folder = Path(folder)
    lay = map_layers(result)
    vmin, vmax = signal_range_dbm(lay)
    written = []
    if out.google_earth:
        from .kml import write_kmz

        written.append(write_kmz(lay, folder / "coverage.kmz", vmin=vmin, vmax=vmax))
    if out.web_map:
        from .webmap import write_map_html

        written.append(write_map_html(lay, folder / "map.html", vmin=vmin, vmax=vmax))
    if out.vectors:
        from .gpkg import write_gpkg

        written.append(write_gpkg(lay, folder / "coverage.gpkg"))
    return written
