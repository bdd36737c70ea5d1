"""Property: whatever a scenario file says, ``ruralsim run`` either writes a complete results
folder (exit 0) or prints one line and exits 2; never a traceback, never anything changed
outside the results folder.

Scenario files are made by mutating valid ones: a key set to a value of the wrong kind, out
of range, a boolean, a path; keys deleted or added; text cut, duplicated or garbled. The
values keep every grid small (at most a few thousand cells), so each example runs in about a
second; the example count is modest (the suite must stay well under 20 minutes) and, in CI,
derandomized (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main

VALID = {
    "name": "prop",
    "seed": 4,
    "region": {"centre_lon_lat": [35.0, -6.0], "width_km": 4, "height_km": 4,
               "resolution_m": 250},
    "population": {"synthetic": {"total_people": 900, "settlements": 4}},
    "technology": "lte_900",
    "propagation": {"model": "rma_38901"},
    "sites": {"existing": [{"station": "macro", "count": 1}],
              "new": [{"station": "ruralstar_pro", "count": 2}]},
    "outputs": {"maps": False, "report": False},
}

#: (dotted key, values to try): wrong kinds, bounds, booleans, names, paths.
MUTATIONS = [
    ("name", ["", "a b", 7, True, None, "ok-name", "x" * 150]),
    ("seed", [-1, 1.5, True, "1", 2**70, 0]),
    ("region.width_km", [0, -4, True, "4 km", 1e9, 0.01, 8, None, float("nan")]),
    ("region.height_km", [0, 3001, False, [4], 2.5]),
    ("region.resolution_m", [0, 4, 5000, "fine", True, 400]),
    ("region.centre_lon_lat", [[200, 0], [35], [True, -6], "35,-6", [35.0, 85.0],
                               [35.0, -6.0, 1]]),
    ("region.crs", ["EPSG:4326", "EPSG:99999999", "nonsense", "EPSG:32736", 32736]),
    ("region.boundary", ["missing.geojson", "/dev/zero", "/etc", ""]),
    ("region.tile_size_cells", [8, 16, 9000, True]),
    ("population.synthetic.total_people", [0, -5, "many", True, 10**12, 1]),
    ("population.synthetic.settlements", [0, -1, 10**7, "x"]),
    ("population.synthetic.clusters", [0, 10**12, 2]),
    ("population.synthetic.dispersed_share", [1.5, -0.1, 1, True]),
    ("population", [{}, {"raster": {"file": "nope.tif"}}, "synthetic", None]),
    ("technology", ["lte_700", {"base": "lte_900", "bandwidth_mhz": 7},
                    {"base": "lte_900", "bandwidth_mhz": 5}, {"base": "gsm_900"},
                    {"base": "lte_900", "frequency_mhz": 0.9}, {"base": "x"}, 5]),
    ("propagation.model", ["okumura", "itm", "deygout", "hata_1980", "free_space", 3]),
    ("propagation.k_factor", [1e-9, 0.5, 100, True, -1]),
    ("propagation.location_reliability", [75, 0, 1, 0.999, True]),
    ("propagation.shadowing_sigma_db", [-1, 25, 0]),
    ("terrain", ["hilly", {"synthetic": {"relief_m": 50}}, {"raster": {"file": "d.tif"}},
                 {"synthetic": {"relief_m": -1}}, "flat"]),
    ("stations", [{"ruralstar_pro": {"pattern_file": "/dev/zero"}},
                  {"ruralstar_pro": {"height_m": -5}}, {"tall": {"height_m": 20}},
                  {"ruralstar_pro": {"hpbw_h_deg": 1e-300}},
                  {"ruralstar_pro": {"label": "Pôle – Šóñá"}}]),
    ("sites.new", [[{"station": "ruralstar_max"}], [{"station": "macro", "placement": "list"}],
                   [{"station": "macro", "placement": "list",
                     "positions": [{"x_m": 0, "y_m": 0}]}],
                   [{"station": "macro", "placement": "list",
                     "positions": [{"lon": 35.0, "lat": -6.0, "name": "Ngorongoro"}]}],
                   [{"station": "ruralstar_pro", "count": "two"}],
                   [{"station": "ruralstar_pro", "count": True}], [], None]),
    ("sites.existing_towers", [[{"file": "towers.csv"}], {"file": "/dev/null"}]),
    ("economics.discount_rate", [8, -0.1, True, 0.05]),
    ("economics.horizon_years", [0, 101, 2.5, 5]),
    ("power.solar_yield_kwh_per_kwp_per_day", [1e-300, 0, 12, 4.0]),
    ("adoption.smartphone_share", [1.2, 0.9, True]),
    ("services", [{"video": {"min_dl_throughput_mbps": 500}}, {"b": {}}, "none"]),
    ("indoor.share", [2, 0.5, True]),
    ("outputs.dir", ["/tmp/ruralsim-property-elsewhere", "../escape", "~/x", "rel"]),
    ("outputs.maps", ["sometimes", 1, True]),
    ("sweep", [{"parameter": "seed", "values": [1, 2]}, {"parameter": "name",
                                                          "values": ["x"]}, {}]),
    ("planning", [{"max_sites": 1}, {}]),
]


def _set(data: dict, dotted: str, value) -> None:
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def _delete(data: dict, dotted: str) -> None:
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        node = node.get(p)
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)


@st.composite
def scenario_texts(draw):
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "set", "set", "delete", "unknown"]))
        key, values = draw(st.sampled_from(MUTATIONS))
        if kind == "set":
            _set(data, key, draw(st.sampled_from(values)))
        elif kind == "delete":
            _delete(data, key)
        else:
            _set(data, key.rsplit(".", 1)[0] + ".unknwon_key" if "." in key else "unknwon",
                 draw(st.sampled_from([1, "x", None])))
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if draw(st.integers(0, 4)) == 0:    # text-level damage
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["", ":", "\t", "- x\n", "'", "[", "&a *a",
                                                "\n  extra: 1\n", "yes"])) + \
            text[i + draw(st.integers(0, 6)):]
    return text


def _snapshot(folder: Path, skip: str) -> dict[str, str]:
    out = {}
    for top, dirs, files in os.walk(folder):
        rel_top = Path(top).relative_to(folder)
        if rel_top.parts and rel_top.parts[0] == skip:
            continue
        for name in dirs + files:
            p = Path(top) / name
            rel = str(p.relative_to(folder))
            if rel == skip or rel.startswith(skip + os.sep):
                continue
            out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _complete(folder: Path) -> bool:
    m = json.loads((folder / "manifest.json").read_text())
    files = {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
    return files == m["outputs"]


@settings(max_examples=int(os.environ.get("RURALSIM_PROPERTY_EXAMPLES", "30")),
          deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])
@given(scenario_texts())
def test_run_writes_a_complete_folder_or_says_one_line(text):
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        (work / "s.yaml").write_text(text, encoding="utf-8")
        (work / "towers.csv").write_text("radio,lon,lat\n")
        before = _snapshot(Path(tmp), "work/out")
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(work)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["run", "s.yaml", "--out", "out", "--quiet"])
        finally:
            os.chdir(cwd)
        stderr = err.getvalue()
        assert "Traceback" not in stderr
        if code == 0:
            folder = work / "out"
            assert _complete(folder), sorted(p.name for p in folder.iterdir())
            assert (folder / "comparison.csv").exists() or (folder / "summary.json").exists()
        else:
            assert code == 2, (code, stderr)
            lines = stderr.rstrip("\n").split("\n")
            assert len(lines) == 1 and lines[0].startswith("ruralsim: error: "), stderr
            assert not (work / "out").exists()
        assert _snapshot(Path(tmp), "work/out") == before
        assert not Path("/tmp/ruralsim-property-elsewhere").exists()
