"""Plots (content, not only files) and report.html (rendered in headless Chromium)."""

import json
import shutil
import subprocess
import tempfile

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.io.rasters import read_dem_to_grid
from simulator.plotting import plot_coverage_map, plot_rx_cdf, plot_terrain_profile
from simulator.radio.propagation.diffraction import deygout_loss_db, knife_edge_j_db
from simulator.radio.propagation.profile import profile_geometry
from simulator.io.samples import make_samples

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    make_samples(folder)
    return folder, run(load_scenario(folder / "sample-district.yaml"))


def test_coverage_map_content(sample):
    folder, r = sample
    dem = read_dem_to_grid(folder / "dem.tif", r.grid)
    fig, ax = plt.subplots()
    assert plot_coverage_map(r, ax=ax, dem_m=dem) is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Conventional macro tower (existing, 5)" in labels
    assert "RuralStar-class pole site (new, 8)" in labels
    assert "region boundary" in labels and "people without outdoor coverage" in labels
    # hillshade + population + coverage + uncovered + outside-boundary veil
    assert len(ax.images) == 5
    x0, y0, x1, y1 = (v / 1000 for v in r.grid.bounds)
    assert ax.get_xlim() == pytest.approx((x0, x1)) and ax.get_ylim() == pytest.approx((y0, y1))
    assert ax.get_aspect() == 1.0
    texts = [t.get_text() for t in ax.texts]
    assert any(t.endswith(" km") for t in texts) and "N" in texts
    assert f"of {r.summary['population_total']:,} people covered" in ax.get_title()
    # the boundary line follows the boundary polygon
    bx = np.concatenate([ln.get_xdata() for ln in ax.lines if ln.get_color() == "#6a3d9a"])
    assert bx.min() == pytest.approx(r.boundary.bounds[0] / 1000, abs=1e-6)
    assert ax.figure.axes[1].get_ylabel().startswith("best-server RSRP")
    plt.close(fig)


def test_rx_cdf_content(sample):
    _, r = sample
    ax = plot_rx_cdf(r)
    assert len(ax.lines) == 3  # all sites, existing only, required-signal line
    all_sites = ax.lines[0]
    y = all_sites.get_ydata()
    assert np.all(np.diff(y) >= 0) and y[-1] == pytest.approx(1.0)
    # the curve's height at the required signal is the share of people not covered
    req = r.summary["required_signal_dbm"]
    x = all_sites.get_xdata()
    below = y[np.searchsorted(x, req, side="left") - 1]
    assert below == pytest.approx(1 - r.summary["coverage_fraction"], abs=2e-3)
    assert ax.lines[2].get_xdata()[0] == pytest.approx(req)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith(f"all sites: {100 * r.summary['coverage_fraction']:.1f} %")
    assert "RSRP" in ax.get_xlabel()
    plt.close(ax.figure)


def test_single_knife_edge_profile():
    # a 100 m wall midway on a flat 10 km path, antennas 30 m and 1.5 m, flat Earth:
    # ray height at 5 km = (30 + 1.5) / 2 = 15.75 m, h = 84.25 m above it,
    # nu = 84.25 * sqrt(2 / lambda * (1/5000 + 1/5000)), lambda = 299792458 / 900e6
    d = np.arange(101) * 100.0
    z = np.zeros(101)
    z[50] = 100.0
    g = profile_geometry(d, z, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900,
                         k_factor=np.inf)
    lam = 299792458 / 900e6
    nu = 84.25 * np.sqrt(2 / lam * (2 / 5000))
    assert not g.line_of_sight and list(g.edge_index) == [50]
    assert g.edge_nu[0] == pytest.approx(nu)
    assert g.deygout_loss_db == pytest.approx(float(knife_edge_j_db(nu)))
    # first Fresnel zone radius at mid-path sqrt(lambda * 5000 * 5000 / 10000)
    assert g.fresnel_radius_m[50] == pytest.approx(np.sqrt(lam * 2500))
    ax = plot_terrain_profile(d, z, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900,
                              k_factor=np.inf)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lb.startswith("first Fresnel zone") for lb in labels)
    assert "ray between antennas (obstructed)" in labels
    assert any(lb.startswith("Deygout edges") for lb in labels)
    assert ax.get_xlabel() == "distance from the site [km]"
    plt.close(ax.figure)


def test_profile_edges_agree_with_the_deygout_model():
    rng = np.random.default_rng(4)
    for _ in range(5):
        z = 1000 + np.cumsum(rng.normal(0, 6, 161))
        g = profile_geometry(np.arange(161) * 50.0, z, tx_height_m=30, rx_height_m=1.5,
                             frequency_mhz=900)
        assert g.deygout_loss_db == pytest.approx(deygout_loss_db(z, 50.0, 30, 1.5, 900))


def test_report_html_is_self_contained(sample, tmp_path):
    _, r = sample
    out = r.save(tmp_path / "res")
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert f"{r.summary['people_covered']:,}" in html
    assert "towers.csv" in html and "unmapped radio: CDMA 2" in html
    assert "raster:" in html and "file: population.tif" in html  # the parameters, as YAML
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "coverage_map.png", "rx_cdf.png"} <= names


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CHECK = """<script>window.addEventListener("load", function () {
  var r = []; document.querySelectorAll("img").forEach(function (i) {
    r.push([i.naturalWidth, i.naturalHeight, i.complete]); });
  var d = document.createElement("pre"); d.id = "img-check";
  d.textContent = JSON.stringify(r); document.body.appendChild(d); });</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get "
                                             "install chromium; .ci/run installs it)")
def test_report_renders_in_headless_chromium(sample, tmp_path):
    _, r = sample
    out = r.save(tmp_path / "res")
    page = (out / "report.html").read_text()
    probe = tmp_path / "probe.html"  # the report itself has no script; the probe adds one
    probe.write_text(page.replace("</body>", _CHECK))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--virtual-time-budget=5000"]
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", "--dump-dom",
                               probe.as_uri()], capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert 'id="img-check"' in dom, proc.stderr[-2000:]
    sizes = json.loads(dom.split('id="img-check">')[1].split("</pre>")[0])
    assert len(sizes) == 2
    assert all(w > 0 and h > 0 and ok for w, h, ok in sizes)
    assert f'id="people-covered">{r.summary["people_covered"]:,}' in dom
    assert f'id="population-total">{r.summary["population_total"]:,}' in dom
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", "--window-size=1200,1600",
                        f"--screenshot={shot}", (out / "report.html").as_uri()],
                       capture_output=True, timeout=120)
    img = plt.imread(shot)
    assert img.shape[:2] == (1600, 1200)
    assert img[..., :3].std() > 0.05  # not a blank page
