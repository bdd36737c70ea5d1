"""Bad input: one line naming the file, the key and what is allowed; exit 2; nothing written."""

import subprocess
import sys
import textwrap

import pytest

GOOD = """\
name: t
region: {width_km: 6, height_km: 5, resolution_m: 200}
population: {synthetic: {total_people: 1000, settlements: 4}}
sites:
  new: [{station: ruralstar_pro, count: 2}]
"""

CASES = {
    "unknown_key": (GOOD.replace("width_km: 6", "widht_km: 6"),
                    ["region.widht_km", "unknown key", "width_km"]),
    "wrong_type": (GOOD.replace("total_people: 1000", "total_people: many"),
                   ["population.synthetic.total_people", "integer"]),
    "negative_resolution": (GOOD.replace("resolution_m: 200", "resolution_m: -100"),
                            ["region.resolution_m", "greater than or equal to 5"]),
    "share_outside_0_1": (GOOD.replace("settlements: 4", "settlements: 4, dispersed_share: 1.5"),
                          ["population.synthetic.dispersed_share", "less than or equal to 1"]),
    "yaml_syntax": (GOOD.replace("sites:\n", "sites: [\n"), ["line", "YAML syntax error"]),
    "unknown_station": (GOOD.replace("station: ruralstar_pro", "station: ruralstar_max"),
                        ["sites.new.0.station", "unknown station type", "ruralstar_pro"]),
    "unknown_technology": (GOOD + "technology: lte_700\n",
                           ["technology", "unknown technology", "lte_900"]),
    "frequency_outside_every_model": (
        GOOD + "technology: {base: lte_900, frequency_mhz: 300}\n",
        ["propagation.model", "frequency_mhz", "500-30000 MHz"]),
    "hata_with_pole_height": (GOOD + "propagation: {model: hata_1980}\n",
                              ["propagation.model", "h_tx_m", "30-200 m",
                               "extrapolate_parameters"]),
    "site_outside_region": (GOOD.replace(
        "new: [{station: ruralstar_pro, count: 2}]",
        "new: [{station: ruralstar_pro, placement: list, positions: [{x_m: 0, y_m: 0}]}]"),
        ["sites.new.0.positions.0", "outside the region"]),
    "bad_crs": (GOOD.replace("resolution_m: 200}", "resolution_m: 200, crs: 'EPSG:4326'}"),
                ["region.crs", "projected"]),
    "top_level_list": ("- a\n- b\n", ["top level", "mapping"]),
    "bad_name": (GOOD.replace("name: t", "name: 'a b/c'"), ["name", "pattern"]),
}


def _run_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_gives_one_line_and_exit_2(case, tmp_path):
    text, must_contain = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    proc = _run_cli(["run", str(path), "--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert str(path) in err
    for fragment in must_contain:
        assert fragment in err, err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_missing_file(tmp_path):
    proc = _run_cli(["validate", str(tmp_path / "nope.yaml")], tmp_path)
    assert proc.returncode == 2
    assert "nope.yaml: file not found" in proc.stderr and "Traceback" not in proc.stderr


def test_good_scenario_passes_validate(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    proc = _run_cli(["validate", str(path)], tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_existing_folder_refused_before_work(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier results")
    proc = _run_cli(["run", str(path), "--out", str(out)], tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (out / "keep.txt").read_text() == "earlier results"
