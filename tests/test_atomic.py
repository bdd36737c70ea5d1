"""Atomic results folders (SIGKILL mid-write), stale leftovers, and the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import load_scenario, run
from simulator.io.results import clean_stale, save_result

from . import badinput_files as bf

# Big enough that writing the folder (rasters, map, report) takes about a second.
BIG = """\
name: big
seed: 5
region: {centre_lon_lat: [35.0, -6.0], width_km: 30, height_km: 30, resolution_m: 100}
population: {synthetic: {total_people: 20000, settlements: 20}}
sites:
  existing: [{station: macro, count: 1}]
  new: [{station: ruralstar_pro, count: 8}]
"""

ENV = dict(os.environ, PYTHONWARNINGS="error", MPLBACKEND="Agg")


def _cli(*args, cwd):
    return [sys.executable, "-m", "simulator.cli", *args]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(args, cwd):
    return subprocess.run(_cli(*args, cwd=cwd), capture_output=True, text=True, cwd=cwd,
                          env=ENV, timeout=300)


def test_sigkill_mid_write_keeps_earlier_results_and_rerun_succeeds(tmp_path):
    scen = tmp_path / "big.yaml"
    scen.write_text(BIG)
    out = tmp_path / "res"
    first = _run(["run", str(scen), "--out", str(out), "--quiet"], tmp_path)
    assert first.returncode == 0, first.stderr
    earlier = _digest(out)
    assert "manifest.json" in earlier

    proc = subprocess.Popen(_cli("run", str(scen), "--out", str(out), "--overwrite", "--quiet",
                                 cwd=tmp_path), cwd=tmp_path, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for p in tmp_path.iterdir() if p.name.startswith(".res.partial-")]
        if found:
            partial = found[0]
            break
        time.sleep(0.005)
    assert partial is not None, "the run ended before its partial folder was seen"
    time.sleep(0.2)  # let it write a few files
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # the earlier results are intact, byte for byte
    assert _digest(out) == earlier
    # the only other things are hidden leftovers, named as such; nothing looks complete
    others = [p for p in tmp_path.iterdir() if p.name not in ("big.yaml", "res")]
    assert others, "the kill left no partial folder: it came too late to test anything"
    assert all(p.name.startswith((".res.partial-", ".res.old-")) for p in others), others

    # a rerun succeeds and removes the leftovers of the killed process
    again = _run(["run", str(scen), "--out", str(out), "--overwrite", "--quiet"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "res"]
    # same inputs, same numbers (the earlier and the new summary)
    assert _digest(out)["summary.json"] == earlier["summary.json"]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _small(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nregion: {width_km: 4, height_km: 4, resolution_m: 200}\n"
                    "population: {synthetic: {total_people: 500, settlements: 3}}\n"
                    "sites: {new: [{station: ruralstar_pro, count: 1}]}\n"
                    "outputs: {maps: false, report: false}\n")
    return path


def test_stale_partial_of_a_dead_process_is_removed_live_one_kept(tmp_path):
    r = run(load_scenario(_small(tmp_path)))
    dead = tmp_path / f".out.partial-{_dead_pid()}-abc"
    dead.mkdir()
    (dead / "summary.json").write_text("{}")
    live = tmp_path / f".out.partial-{os.getppid()}-xyz"   # our parent is alive
    live.mkdir()
    save_result(r, tmp_path / "out")
    assert not dead.exists() and live.exists()
    assert (tmp_path / "out" / "manifest.json").exists()


def test_interrupted_overwrite_is_restored(tmp_path):
    """Killed between the two renames of an overwrite: the earlier folder sits in .old-*."""
    r = run(load_scenario(_small(tmp_path)))
    out = save_result(r, tmp_path / "out")
    earlier = _digest(out)
    old = tmp_path / f".out.old-{_dead_pid()}-q1"
    old.mkdir()
    os.replace(out, old / "out")
    removed = clean_stale(out)
    assert removed == [old] and not old.exists()
    assert _digest(out) == earlier
    with pytest.raises(Exception, match="already exists"):
        save_result(r, out)


def test_existing_folder_not_overwritten_without_flag(tmp_path):
    scen = _small(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    proc = _run(["run", str(scen), "--out", str(out)], tmp_path)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (out / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_records_inputs_seed_version_and_outputs(tmp_path):
    bf.population(tmp_path / "pop.tif")
    bf.dem(tmp_path / "dem.tif")
    bf.boundary_geojson(tmp_path / "b.geojson")
    bf.towers_csv(tmp_path / "towers.csv", [("GSM", 35.0, -6.0)])
    (tmp_path / "cands.csv").write_text("lon,lat\n35.0,-6.0\n")
    scen = tmp_path / "s.yaml"
    scen.write_text(
        "name: m\nseed: 9\n"
        "region: {centre_lon_lat: [35.0, -6.0], width_km: 4, height_km: 4, resolution_m: 200,"
        " boundary: b.geojson}\n"
        "population: {raster: {file: pop.tif}}\n"
        "terrain: {raster: {file: dem.tif}}\n"
        "propagation: {model: deygout}\n"
        # min_spacing_km 1: in 4 x 4 km the default 3 km leaves no block for it (a warning)
        "sites: {existing_towers: [{file: towers.csv}], new: [{station: ruralstar_pro, "
        "count: 1, min_spacing_km: 1}]}\n"
        "planning: {max_sites: 1, candidates: {source: file, file: cands.csv}}\n"
        "outputs: {maps: false, report: false}\n")

    def manifest(name):
        r = run(load_scenario(scen))
        return json.loads((save_result(r, tmp_path / name) / "manifest.json").read_text())

    m = manifest("a")
    assert m["seed"] == 9 and m["software_version"]
    assert len(m["scenario_sha256"]) == 64 and m["scenario_file_sha256"] == _sha(scen)
    expected = {"region.boundary": "b.geojson", "population.raster.file": "pop.tif",
                "terrain.raster.file": "dem.tif", "sites.existing_towers.0.file": "towers.csv",
                "planning.candidates.file": "cands.csv"}
    assert set(m["inputs"]) == set(expected)
    for key, name in expected.items():
        entry = m["inputs"][key]
        assert Path(entry["path"]) == tmp_path / name
        assert entry["sha256"] == _sha(tmp_path / name)
        assert entry["bytes"] == (tmp_path / name).stat().st_size
    out = tmp_path / "a"
    for name, digest in m["outputs"].items():
        assert _sha(out / name) == digest
    assert "numpy" in m["libraries"] and "gdal" in m["libraries"]

    # one more (skipped: outside the region) tower row: that checksum changes, no other
    with open(tmp_path / "towers.csv", "a") as fh:
        fh.write("LTE,640,2,1,9,,20.0,10.0,1000,10,1,0,0,0\n")
    m2 = manifest("b")
    assert m2["inputs"]["sites.existing_towers.0.file"]["sha256"] != \
        m["inputs"]["sites.existing_towers.0.file"]["sha256"]
    for key in set(expected) - {"sites.existing_towers.0.file"}:
        assert m2["inputs"][key] == m["inputs"][key]
    assert m2["scenario_sha256"] == m["scenario_sha256"]


# ------------------------------------------------------------------ the overwrite rules
from simulator.errors import ScenarioError  # noqa: E402
from simulator.io.outputs import atomic_folder, check_target, is_results_folder  # noqa: E402


def _write_one(folder, name="a.txt", text="new"):
    (folder / name).write_text(text)


def test_atomic_folder_writes_a_manifest_and_follows_the_umask(tmp_path):
    old = os.umask(0o002)
    try:
        with atomic_folder(tmp_path / "out", kind="plan") as f:
            _write_one(f)
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert is_results_folder(out)
    m = json.loads((out / "manifest.json").read_text())
    assert m["tool"] == "ruralsim" and m["kind"] == "plan"
    assert m["outputs"] == {"a.txt": hashlib.sha256(b"new").hexdigest()}
    assert (out.stat().st_mode & 0o777) == 0o775       # not mkdtemp's 0700
    assert ((out / "a.txt").stat().st_mode & 0o777) == 0o664


def test_only_a_folder_of_this_tool_is_replaced(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ScenarioError, match="not a results folder written by ruralsim"):
        with atomic_folder(docs, overwrite=True) as f:
            _write_one(f)
    assert sorted(p.name for p in docs.iterdir()) == ["photo.jpg"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ScenarioError, match="is a file"):
        check_target(tmp_path / "file", overwrite=True)
    (tmp_path / "link").symlink_to(docs)
    with pytest.raises(ScenarioError, match="symbolic link"):
        check_target(tmp_path / "link", overwrite=True)
    # a results folder is replaced, an empty folder is used
    with atomic_folder(tmp_path / "res") as f:
        _write_one(f, text="one")
    with atomic_folder(tmp_path / "res", overwrite=True) as f:
        _write_one(f, text="two")
    assert (tmp_path / "res" / "a.txt").read_text() == "two"
    (tmp_path / "empty").mkdir()
    with atomic_folder(tmp_path / "empty") as f:
        _write_one(f)
    assert is_results_folder(tmp_path / "empty")


def test_a_folder_holding_the_inputs_is_never_replaced(tmp_path):
    res = tmp_path / "res"
    with atomic_folder(res) as f:
        _write_one(f)
    (res / "scenario-I-edit.yaml").write_text("name: x\n")
    with pytest.raises(ScenarioError, match="holds .*scenario-I-edit.yaml"):
        with atomic_folder(res, overwrite=True, protect=[res / "scenario-I-edit.yaml"]) as f:
            _write_one(f)
    assert (res / "scenario-I-edit.yaml").exists()


def test_final_rename_rechecks_the_rule(tmp_path):
    """Another run created the folder while this one computed: refused, nothing replaced."""
    out = tmp_path / "out"
    with pytest.raises(ScenarioError, match="created by another process"):
        with atomic_folder(out) as f:
            _write_one(f, text="mine")
            with atomic_folder(out) as g:         # the other run, finishing first
                _write_one(g, text="theirs")
    assert (out / "a.txt").read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_removes_the_parents_it_created(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "a" / "b" / "out") as f:
            _write_one(f)
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
