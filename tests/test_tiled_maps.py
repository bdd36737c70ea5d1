"""Tiled runs draw coverage_map.png, rx_cdf.png and report.html from their GeoTIFFs,
coarsened in bounded memory (:mod:`simulator.io.coarse`)."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

from simulator.cli import main
from simulator.pipeline.distributed import run_tiled
from simulator.io.coarse import read_coarse_map
from simulator.io.scenario_file import load_scenario
from simulator.plotting import plot_coverage_map, plot_rx_cdf
from simulator.pipeline.runner import run

from .test_distributed import SMALL

matplotlib.use("Agg")


def _scenario(tmp_path, maps=True, report=True, name="s.yaml"):
    data = dict(SMALL, outputs={"maps": maps, "report": report})
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(p)


@pytest.fixture(scope="module")
def tiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("maps")
    scenario = _scenario(tmp)
    out = tmp / "res"
    result = run_tiled(scenario, out_dir=out, tile_size_cells=32)
    return scenario, result, out


def test_tiled_run_writes_maps_and_report(tiled):
    _, r, out = tiled
    names = {p.name for p in out.iterdir()}
    assert {"coverage_map.png", "rx_cdf.png", "report.html", "coverage.kmz", "map.html",
            "coverage.gpkg"} <= names
    assert not [n for n in names if n.startswith(".")]
    page = (out / "report.html").read_text()
    # the two maps and the economics section's people connected by year
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert f'id="people-covered">{r.summary["people_covered"]:,}' in page
    assert 'id="not-covered"' in page and 'id="sites"' in page
    assert 'id="maps-note">Tiled run: the maps are drawn at the run' in page
    info = json.loads((out / "run_info.json").read_text())
    assert info["maps"]["coarse_people_total"] == r.summary["population_total"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"coverage_map.png", "rx_cdf.png", "report.html"} <= set(manifest["outputs"])


@pytest.mark.parametrize("max_pixels,strip", [(37, 5_000), (37, 10**7), (1200, 3_000)])
def test_coarse_people_sum_is_the_population(tiled, max_pixels, strip):
    _, r, out = tiled
    cm = read_coarse_map(out, r, max_pixels=max_pixels, strip_cells=strip)
    f = cm.factor
    assert max(cm.grid.shape) <= max_pixels
    assert cm.grid.shape == (-(-110 // f), -(-140 // f))
    assert int(cm.people.sum()) == r.summary["population_total"]
    assert int(cm.cells.sum()) == r.grid.n_cells
    assert cm.cdf_people.sum() + cm.people_no_signal == r.summary["population_total"]
    ref = read_coarse_map(out, r, max_pixels=max_pixels)   # the strip size changes nothing
    for a, b in [(cm.people, ref.people), (cm.covered_cells, ref.covered_cells),
                 (cm.rx_dbm, ref.rx_dbm), (cm.cdf_people, ref.cdf_people)]:
        np.testing.assert_array_equal(a, b)


def test_coarse_signal_is_the_mean_over_covered_cells(tiled):
    scenario, r, out = tiled
    mem = run(scenario)
    cm = read_coarse_map(out, r, max_pixels=28)             # factor 5: 22 x 28 blocks
    f = cm.factor
    assert f == 5
    rx, cov, people = mem.fields.rx_dbm, mem.covered, mem.population.people
    for i, j in [(3, 4), (10, 10), (20, 27)]:
        blk = (slice(i * f, (i + 1) * f), slice(j * f, (j + 1) * f))
        c = cov[blk]
        assert cm.covered_cells[i, j] == c.sum()
        assert cm.people[i, j] == people[blk].sum()
        if c.any():
            assert cm.rx_dbm[i, j] == pytest.approx(rx[blk][c].astype(float).mean(), abs=1e-4)
        else:
            assert np.isnan(cm.rx_dbm[i, j])
    # the CDF's exact count: people at or above the required signal, as in memory
    req = r.summary["required_signal_dbm"]
    assert cm.people_at_required == people[(people > 0) & (rx >= req)].sum()


def test_coarse_map_figure_content(tiled):
    _, r, out = tiled
    cm = read_coarse_map(out, r, max_pixels=40, boundary=r.boundary,
                         population=r.settlements)
    fig, ax = plt.subplots()
    assert plot_coverage_map(cm, ax=ax) is ax
    title = ax.get_title()
    s = r.summary
    assert f"{s['people_covered']:,} of {s['population_total']:,} people covered" in title
    assert "map coarsened to 400 m cells (4 x 4 cells of 100 m) for display; numbers exact" in title
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "RuralStar-class pole site (new, 5)" in labels
    assert "most people of the 400 m cell without outdoor coverage" in labels
    assert "population density, people per km² (contours)" in labels
    cb = ax.child_axes[0].get_ylabel()           # the colour bar, an inset
    assert cb.startswith("best-server RSRP where covered [dBm]") and "mean over the covered" in cb
    x0, y0, x1, y1 = (v / 1000 for v in r.grid.bounds)       # clipped to the fine grid
    assert ax.get_xlim() == pytest.approx((x0, x1)) and ax.get_ylim() == pytest.approx((y0, y1))
    assert [im.get_gid() for im in ax.images] == ["signal", "uncovered"]  # flat, no boundary
    plt.close(fig)
    ax = plot_rx_cdf(cm)
    assert len(ax.lines) == 3           # all sites, existing sites only, required signal
    for line in ax.lines[:2]:
        y = line.get_ydata()
        assert np.all(np.diff(y) >= 0) and y[-1] == pytest.approx(1.0)
    share = 100 * cm.people_at_required / s["population_total"]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == f"all sites: {share:.1f} % of people covered"
    assert f"{s['population_total']:,} people" in ax.get_title()
    plt.close(ax.figure)
    # the existing sites' curve of a tiled run is the in-memory run's: the same share at
    # the required signal (exact counts), the same people per 0.1 dB bin
    ref = run(r.scenario)
    ax_mem = plot_rx_cdf(ref)
    mem_texts = [t.get_text() for t in ax_mem.get_legend().get_texts()]
    assert texts[1].startswith("existing sites only: ") and texts[1] == mem_texts[1]
    assert texts[0] == mem_texts[0]
    plt.close(ax_mem.figure)
    from simulator.io.coarse import signal_histogram

    hist, none, at = signal_histogram(ref.fields_existing.rx_dbm, ref.population.people,
                                      s["required_signal_dbm"])
    assert np.array_equal(cm.cdf_people_existing, hist)
    assert (cm.people_no_signal_existing, cm.people_at_required_existing) == (none, at)
    assert 0 < at < cm.people_at_required


def test_maps_off_writes_nothing_extra(tmp_path):
    out = tmp_path / "off"
    run_tiled(_scenario(tmp_path, maps=False, report=False), out_dir=out)
    names = {p.name for p in out.iterdir()}
    assert not names & {"coverage_map.png", "rx_cdf.png", "report.html"}
    info = json.loads((out / "run_info.json").read_text())
    assert info["maps"] is None and info["report"] is False
    # report without maps: the page, no figure
    out2 = tmp_path / "report-only"
    run_tiled(_scenario(tmp_path, maps=False, report=True, name="r.yaml"), out_dir=out2)
    page = (out2 / "report.html").read_text()
    assert not (out2 / "coverage_map.png").exists() and "data:image/png" not in page
    assert "Maps were not drawn for this tiled run" in page


def test_cli_no_maps_on_a_tiled_run(tmp_path):
    scenario = _scenario(tmp_path)
    out = tmp_path / "cli"
    assert main(["run", str(scenario.source_path), "--out", str(out), "--tiled",
                 "--no-maps", "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "report.html" in names and "coverage_map.png" not in names


def test_tiled_terrain_map_has_a_hillshade(tmp_path):
    from .test_tiled_terrain import BASE

    data = dict(BASE, outputs={"maps": True, "report": True})
    data["propagation"] = dict(BASE["propagation"], model="rma_38901")  # area model: fast
    p = tmp_path / "t.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "res"
    r = run_tiled(load_scenario(p), out_dir=out)
    cm = read_coarse_map(out, r, max_pixels=30)
    assert cm.terrain_m is not None and np.isfinite(cm.terrain_m).all()
    fig, ax = plt.subplots()
    plot_coverage_map(cm, ax=ax)
    assert [im.get_gid() for im in ax.images] == ["hillshade", "signal", "uncovered"]
    plt.close(fig)
    assert (out / "coverage_map.png").exists() and (out / "report.html").exists()
