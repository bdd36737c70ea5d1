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

from .conftest import ROOT

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    make_samples(folder)
    return folder, run(load_scenario(folder / "sample-district.yaml"))


def _scale_box(ax):
    return next(a for a in ax.artists if a.get_gid() == "scale_and_north")


def test_coverage_map_content(sample):
    folder, r = sample
    dem = read_dem_to_grid(folder / "dem.tif", r.grid)
    fig, ax = plt.subplots()
    assert plot_coverage_map(r, ax=ax, dem_m=dem) is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Conventional macro tower (existing, 5)" in labels
    assert "RuralStar-class pole site (new, 8)" in labels
    assert "region boundary" in labels and "people without outdoor coverage" in labels
    assert "outside the region (not modelled)" in labels
    # hillshade, signal, uncovered people, outside-boundary veil: no population image
    # that could be read as signal (population is drawn as contours)
    assert [im.get_gid() for im in ax.images] == ["hillshade", "signal", "uncovered", "outside"]
    signal = ax.images[1]
    # the signal is opaque where covered and masked elsewhere
    assert signal.get_alpha() is None
    assert np.array_equal(~np.ma.getmaskarray(signal.get_array()), r.covered)
    x0, y0, x1, y1 = (v / 1000 for v in r.grid.bounds)
    assert ax.get_xlim() == pytest.approx((x0, x1)) and ax.get_ylim() == pytest.approx((y0, y1))
    assert ax.get_aspect() == 1.0
    # longitude/latitude tick labels (the sample is at about 34.6 E, 8.9 S)
    xt = [t.get_text() for t in ax.get_xticklabels()]
    yt = [t.get_text() for t in ax.get_yticklabels()]
    assert xt and all(t.endswith("°E") for t in xt) and yt and all(t.endswith("°S") for t in yt)
    # scale bar and north arrow in one framed box in a corner
    box = _scale_box(ax)
    assert box.loc == 3 and box.patch.get_visible() and box.scale_label.endswith(" km")
    # plain model names, not code names
    assert "3GPP TR 38.901 rural macro (RMa)" in ax.get_title()
    assert "rma_38901" not in ax.get_title()
    assert f"of {r.summary['population_total']:,} people covered" in ax.get_title()
    # the boundary line follows the boundary polygon
    bx = np.concatenate([ln.get_xdata() for ln in ax.lines if ln.get_gid() == "boundary"])
    assert bx.min() == pytest.approx(r.boundary.bounds[0] / 1000, abs=1e-6)
    assert ax.child_axes[0].get_ylabel().startswith("best-server RSRP")
    plt.close(fig)


def test_coverage_map_ax_none_and_settlement_key():
    r = run(load_scenario(ROOT / "scenarios" / "rural-district.yaml"))
    ax = plot_coverage_map(r)                  # ax=None: a new figure, its Axes returned
    assert ax.figure is not None and len(ax.figure.axes) == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    sizes = [lab for lab in labels if lab.startswith("settlement of ")]
    # a size key of two or three round sizes, the largest not above the largest settlement
    assert 2 <= len(sizes) <= 3
    largest = int(sizes[-1].split()[2].replace(",", ""))
    assert largest <= r.population.settlement_people.max()
    assert "population density, people per km² (contours)" in labels
    assert any(c.get_gid() == "population_contours" for c in ax.collections)
    plt.close(ax.figure)


def test_three_panel_composition_shares_one_scale(sample):
    from simulator.io.maplayers import signal_range_dbm

    _, r = sample
    r2 = run(load_scenario(ROOT / "scenarios" / "rural-district.yaml"))
    vmin, vmax = signal_range_dbm(r, r2)
    assert vmin <= min(r.summary["required_signal_dbm"], r2.summary["required_signal_dbm"])
    fig, axes = plt.subplots(1, 3, figsize=(18, 6))
    for k, (a, res) in enumerate(zip(axes, [r, r2, r])):
        assert plot_coverage_map(res, ax=a, vmin=vmin, vmax=vmax, colorbar=(k == 2)) is a
    for a in axes:
        # one legend per axes, none on the figure
        assert a.get_legend() is not None
        assert sum(isinstance(c, matplotlib.legend.Legend) for c in a.get_children()) == 1
        signal = next(im for im in a.images if im.get_gid() == "signal")
        assert signal.get_clim() == (vmin, vmax)
    assert not fig.legends
    assert [len(a.child_axes) for a in axes] == [0, 0, 1]     # one colour bar
    plt.close(fig)


def test_rx_ccdf_is_one_minus_the_cdf(sample):
    _, r = sample
    cdf = plot_rx_cdf(r)
    ccdf = plot_rx_cdf(r, complementary=True)
    y0 = cdf.lines[0].get_ydata()
    y1 = ccdf.lines[0].get_ydata()
    assert np.allclose(y0 + y1, 1.0)
    assert np.all(np.diff(y1) <= 0)
    assert ccdf.get_ylabel() == "share of people with at least this signal"
    # just above the required signal, the share with at least that much is the share covered
    # by the signal (the summary counts people at or above the required signal)
    req = r.summary["required_signal_dbm"]
    x = ccdf.lines[0].get_xdata()
    at = y1[np.searchsorted(x, req, side="left") - 1]
    assert at == pytest.approx(r.summary["coverage_fraction"], abs=2e-3)
    plt.close(cdf.figure)
    plt.close(ccdf.figure)


def test_comparison_two_panels_and_sweep_lines(sample):
    from simulator.plotting import plot_scenario_comparison

    _, r = sample
    s = dict(r.summary)
    s2 = dict(s, people_covered=s["people_covered"] - 1000, scenario="other")
    ax = plot_scenario_comparison([s, s2])
    fig = ax.figure
    assert len(fig.axes) == 2
    people, cost = fig.axes
    assert people.get_ylabel() == "people" and "USD" in cost.get_ylabel()
    # bars: people never share an axis with money
    assert all(p.get_height() <= s["people_covered"] + 1 for p in people.patches)
    plt.close(fig)
    # a numeric sweep: lines against the swept value, in the order of the values
    sums = [dict(s, people_covered=c, scenario=f"x-{n}") for n, c in
            [(10, 9000), (5, 6000), (20, 12000)]]
    ax = plot_scenario_comparison(sums, x_values=[10, 5, 20], x_label="sites.new.0.count")
    line = ax.lines[0]
    assert list(line.get_xdata()) == [5, 10, 20]
    assert list(line.get_ydata()) == [6000, 9000, 12000]
    assert ax.get_xlabel() == "sites.new.0.count" and not ax.patches
    plt.close(ax.figure)


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
    # coverage map, signal CDF, people connected by year
    assert html.count('src="data:image/png;base64,') == 3
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert f"{r.summary['people_covered']:,}" in html
    assert "towers.csv" in html and "unmapped radio: CDMA 2" in html
    assert "raster:" in html and "file: population.tif" in html  # the parameters, as YAML
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "coverage_map.png", "rx_cdf.png"} <= names


def test_report_economics_and_parameters_used(sample, tmp_path):
    import yaml

    from simulator.report import effective_parameters

    _, r = sample
    s = r.summary
    html = r.save(tmp_path / "res").joinpath("report.html").read_text()
    econ = html.split('id="economics"')[1].split("<h2")[0]
    for key in ("capex_usd", "opex_usd_per_year", "tco_usd", "npv_usd", "network_tco_usd"):
        assert f"USD {s[key]:,.0f}" in econ, key
    assert f"{s['co2_t_per_year_new_sites']:,.3f} t a year" in econ
    for option, n in s["backhaul_new_sites"].items():
        assert f"<td>{option.replace('_', ' ')}</td><td class=\"num\">{n}</td>" in econ
    assert 'id="fig-connected-by-year"' in econ
    assert f"{s['people_connected_by_year'][-1]:,} in year {s['horizon_years']}" in econ
    # the parameters used: catalogue values resolved, no "null" for a default
    eff = effective_parameters(r)
    text = yaml.safe_dump(eff)
    assert "null" not in text
    assert eff["technology"]["dl_threshold_dbm"] == s["dl_threshold_dbm"]
    assert eff["economics"]["horizon_years"] == s["horizon_years"]
    st = r.stations["ruralstar_pro"]
    assert eff["stations"]["ruralstar_pro"]["height_m"] == st.height_m
    assert 'id="effective-parameters"' in html
    # plain model names in the page
    assert "3GPP TR 38.901 rural macro (RMa)" in html


def test_plan_writes_a_report(tmp_path):
    import yaml

    from simulator import plan

    data = yaml.safe_load((ROOT / "scenarios" / "rural-district.yaml").read_text())
    data.update(name="plan-report", planning={"max_sites": 3, "method": "greedy"})
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(data))
    result = plan(load_scenario(p))
    out = result.save(tmp_path / "plan")
    html = (out / "report.html").read_text()
    s = result.summary
    assert f'id="people-newly-covered">{s["people_newly_covered"]:,}' in html
    table = html.split('id="chosen-sites"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + s["sites_chosen"]      # header + one row per site
    assert 'src="data:image/png;base64,' in html and "<script" not in html


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
    assert len(sizes) == 3
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
