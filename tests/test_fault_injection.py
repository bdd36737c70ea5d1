"""The edge where ruralsim meets the operating system: full and read-only disks, memory
limits, signals at random moments, two runs at once, a non-UTF-8 locale.

Every failure must be one line ``ruralsim: error: ...`` with its documented exit status
(3: the machine cannot do it; 2: the input; 128 + the signal), no traceback, nothing
half-written: earlier results byte for byte, or the new ones complete (every file listed in
manifest.json with its SHA-256, nothing else but the manifest), never a success exit after
an interrupt.

The full disk is a 1 MB tmpfs and the read-only folder a tmpfs remounted read-only where this
process may mount (root with CAP_SYS_ADMIN, as on the project's machines and CI); else those
tests are skipped, and the injected-error tests (ENOSPC raised by the raster writer, a
MemoryError, a swallowed Ctrl-C) still run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.cli import main

ENV = dict(os.environ, PYTHONWARNINGS="error", MPLBACKEND="Agg")
# A signal that lands while the interpreter reads a module's .pyc unwinds past the open
# file: with ResourceWarning made an error Python prints "Exception ignored in: <_io.FileIO
# ...>" beside our line. Users run with Python's default filters (ResourceWarning ignored),
# so the signal tests do too, every other warning still an error.
SIGNAL_ENV = dict(ENV, PYTHONWARNINGS="error,ignore::ResourceWarning")
BIN = Path(sys.executable).parent

SMALL = """\
name: small
seed: 3
region: {centre_lon_lat: [35.0, -6.0], width_km: 6, height_km: 6, resolution_m: 200}
population: {synthetic: {total_people: 2000, settlements: 5}}
sites:
  existing: [{station: macro, count: 1}]
  new: [{station: ruralstar_pro, count: 2}]
outputs: {maps: false, report: false}
"""

# Writing takes long enough (rasters, map, report) for signals to land everywhere.
MEDIUM = """\
name: medium
seed: 5
region: {centre_lon_lat: [35.0, -6.0], width_km: 16, height_km: 16, resolution_m: 100}
population: {synthetic: {total_people: 20000, settlements: 20}}
sites:
  existing: [{station: macro, count: 1}]
  new: [{station: ruralstar_pro, count: 6}]
"""


def _cli():
    """The ``ruralsim`` console script of this environment (signal handlers before the
    heavy imports), else ``python -m simulator.cli``."""
    exe = BIN / "ruralsim"
    if exe.exists() and "simulator_entry" in exe.read_text(errors="replace"):
        return [str(exe)]
    return [sys.executable, "-m", "simulator.cli"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _complete(folder: Path) -> bool:
    """Every file of the folder is in its manifest with the right SHA-256, and the other
    way round (the manifest itself aside)."""
    m = json.loads((folder / "manifest.json").read_text())
    files = _digest(folder)
    files.pop("manifest.json")
    return files == m["outputs"]


def _one_line(err: str) -> str:
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("ruralsim: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _leftovers(parent: Path, name: str) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


@contextlib.contextmanager
def _captured():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


# --------------------------------------------------------------------------- tmpfs
def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path("/tmp") / f"ruralsim-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        probe.rmdir()


MOUNT = _can_mount()
needs_mount = pytest.mark.skipif(not MOUNT, reason="needs root with mount (tmpfs)")


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True, capture_output=True)
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True,
                           capture_output=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _run(args, cwd, *, preexec=None, env=None, timeout=300):
    return subprocess.run(_cli() + list(args), capture_output=True, text=True, cwd=cwd,
                          env=env or ENV, timeout=timeout, preexec_fn=preexec)


@needs_mount
def test_full_disk_keeps_earlier_results_and_says_so(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    (tmp_path / "medium.yaml").write_text(MEDIUM.replace("name: medium", "name: small"))
    # the small results folder is about 70 kB, the medium one about 900 kB
    with tmpfs(tmp_path / "disk", "512k") as disk:
        first = _run(["run", str(tmp_path / "small.yaml"), "--out", str(disk / "res"),
                      "--quiet"], tmp_path)
        assert first.returncode == 0, first.stderr
        earlier = _digest(disk / "res")
        proc = _run(["run", str(tmp_path / "medium.yaml"), "--out", str(disk / "res"),
                     "--overwrite", "--quiet"], tmp_path)
        assert proc.returncode == 3, proc.stderr
        line = _one_line(proc.stderr)
        assert "no space left on device" in line and str(disk) in line
        assert _digest(disk / "res") == earlier
        assert sorted(p.name for p in disk.iterdir()) == ["res"]
    # make-samples (about 300 kB): no truncated population.tif, nothing at all
    with tmpfs(tmp_path / "tiny", "128k") as tiny:
        proc = _run(["make-samples", str(tiny / "samples")], tmp_path)
        assert proc.returncode == 3 and "no space left on device" in _one_line(proc.stderr)
        assert list(tiny.iterdir()) == []


@needs_mount
def test_read_only_folder_refused_before_computing(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        for argv in (["run", str(tmp_path / "small.yaml"), "--out", str(ro / "res")],
                     ["run", str(tmp_path / "small.yaml"), "--out", str(ro / "a" / "b")],
                     ["make-samples", str(ro / "s")],
                     ["compare", str(tmp_path / "small.yaml"), "--out", str(ro / "c")]):
            proc = _run(argv, tmp_path)
            assert proc.returncode == 3, (argv, proc.stderr)
            line = _one_line(proc.stderr)
            assert "read-only file system" in line and str(ro) in line
            assert "writable" in line
            assert list(ro.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro", "small.yaml"]


def test_unwritable_folder_as_another_user(tmp_path):
    """A folder without write permission (checked as an unprivileged user when run as root,
    for whom permission bits do not apply)."""
    if os.geteuid() == 0:
        try:
            import pwd

            nobody = pwd.getpwnam("nobody")
        except (ImportError, KeyError):
            pytest.skip("no 'nobody' user to drop to")
        base = Path("/tmp") / f"ruralsim-perm-{os.getpid()}"
        base.mkdir(mode=0o755)
        try:
            locked = base / "locked"
            locked.mkdir(mode=0o555)
            (base / "small.yaml").write_text(SMALL)
            os.chmod(base / "small.yaml", 0o644)

            def drop():
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)

            env = dict(ENV, HOME=str(base))
            try:
                proc = _run(["run", str(base / "small.yaml"), "--out", str(locked / "res")],
                            base, preexec=drop, env=env)
            except PermissionError:
                pytest.skip("this environment cannot be run by 'nobody'")
            if "Permission denied" in proc.stderr and "Traceback" in proc.stderr:
                pytest.skip("the environment is not readable by 'nobody'")
            assert proc.returncode == 3, proc.stderr
            assert "permission denied" in _one_line(proc.stderr)
            assert list(locked.iterdir()) == []
        finally:
            shutil.rmtree(base, ignore_errors=True)
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        (tmp_path / "small.yaml").write_text(SMALL)
        proc = _run(["run", str(tmp_path / "small.yaml"), "--out", str(locked / "res")],
                    tmp_path)
        assert proc.returncode == 3 and "permission denied" in _one_line(proc.stderr)


# --------------------------------------------------------------------------- injected errors
def test_injected_enospc_in_the_writer_leaves_nothing(tmp_path, monkeypatch):
    from simulator.io import results

    (tmp_path / "small.yaml").write_text(SMALL)
    out = tmp_path / "res"
    with _captured():
        assert main(["run", str(tmp_path / "small.yaml"), "--out", str(out), "--quiet"]) == 0
    earlier = _digest(out)
    real_writer = results.region_writer
    calls = []

    def failing_writer(result):
        real = real_writer(result)

        def write(path, *a, **kw):
            calls.append(path)
            if len(calls) == 3:      # a few files in: the disk fills up
                Path(path).write_bytes(b"II*\x00partial")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real(path, *a, **kw)

        return write

    monkeypatch.setattr(results, "region_writer", failing_writer)
    with _captured() as (_, err):
        code = main(["run", str(tmp_path / "small.yaml"), "--out", str(out), "--overwrite",
                     "--quiet"])
    assert code == 3
    line = _one_line(err.getvalue())
    assert "no space left on device" in line and str(out) in line
    assert f"writing {Path(calls[-1]).name}" in line and ".partial-" not in line
    assert "earlier results" in line
    assert _digest(out) == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "small.yaml"]


def test_memory_error_is_one_line(tmp_path, monkeypatch):
    from simulator.pipeline import runner

    (tmp_path / "small.yaml").write_text(SMALL)

    def boom(*a, **kw):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape "
                          "(1000000000000,) and data type float64")

    monkeypatch.setattr(runner, "run", boom)
    with _captured() as (_, err):
        code = main(["run", str(tmp_path / "small.yaml"), "--out", str(tmp_path / "res")])
    assert code == 3
    line = _one_line(err.getvalue())
    assert "out of memory" in line and "--tiled" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_interrupt_swallowed_by_a_library_is_not_a_success(tmp_path, monkeypatch):
    """A Ctrl-C that a library catches and carries on from (matplotlib can, while drawing)
    still ends the run with 130 and replaces nothing."""
    from simulator.io import results

    (tmp_path / "small.yaml").write_text(SMALL)
    out = tmp_path / "res"
    with _captured():
        assert main(["run", str(tmp_path / "small.yaml"), "--out", str(out), "--quiet"]) == 0
    earlier = _digest(out)
    real = results.write_sites_geojson

    def swallowing(*a, **kw):
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.01)
        except KeyboardInterrupt:
            pass                       # what a careless library does
        return real(*a, **kw)

    monkeypatch.setattr(results, "write_sites_geojson", swallowing)
    with _captured() as (_, err):
        code = main(["run", str(tmp_path / "small.yaml"), "--out", str(out), "--overwrite",
                     "--quiet"])
    assert code == 130
    assert "interrupted" in _one_line(err.getvalue())
    assert _digest(out) == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "small.yaml"]
    # the handlers are back as they were (pytest's own Ctrl-C still works)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --------------------------------------------------------------------------- memory limits
def _limit_as(n_bytes: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (n_bytes, n_bytes))
    return set_limit


def test_ulimit_v_is_seen_by_validate_and_run(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    # a region whose in-memory estimate (about 3.4 GB) is above a 2.5 GB address-space limit
    (tmp_path / "wide.yaml").write_text(SMALL.replace("width_km: 6, height_km: 6, "
                                                      "resolution_m: 200",
                                                      "width_km: 33, height_km: 33, "
                                                      "resolution_m: 10"))
    limit = _limit_as(int(2.5 * 2**30))
    proc = _run(["validate", str(tmp_path / "small.yaml")], tmp_path, preexec=limit)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"memory available .*bound by RLIMIT_AS \(ulimit -v\)", proc.stdout), \
        proc.stdout
    for cmd in ("validate", "run"):
        argv = [cmd, str(tmp_path / "wide.yaml"), "--in-memory"]
        if cmd == "run":
            argv += ["--out", str(tmp_path / "res")]
        proc = _run(argv, tmp_path, preexec=limit)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        line = _one_line(proc.stderr)
        assert "region.resolution_m" in line and "memory" in line and "available" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml", "wide.yaml"]


# --------------------------------------------------------------------------- signals
def _handlers_installed(pid: int) -> bool:
    """Our entry point catches SIGHUP (Python alone catches only SIGINT)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
    except (OSError, ValueError):
        return False
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_signals_at_random_moments(tmp_path):
    (tmp_path / "medium.yaml").write_text(MEDIUM)
    out = tmp_path / "res"
    t0 = time.perf_counter()
    first = _run(["run", str(tmp_path / "medium.yaml"), "--out", str(out), "--quiet"], tmp_path)
    duration = time.perf_counter() - t0
    assert first.returncode == 0, first.stderr
    earlier = _digest(out)
    rng = random.Random(16)
    outcomes = []
    for trial in range(10):
        sig = (signal.SIGINT, signal.SIGTERM)[trial % 2]
        proc = subprocess.Popen(_cli() + ["run", str(tmp_path / "medium.yaml"), "--out",
                                          str(out), "--overwrite", "--quiet"],
                                cwd=tmp_path, env=SIGNAL_ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not _handlers_installed(proc.pid) and proc.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 1.1 * duration))
        sent = proc.poll() is None
        if sent:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        code = proc.returncode
        now = _digest(out)
        if code == 0:
            assert err == "", err
        elif code == -sig and err == "":
            # the signal came after the command had returned, while the interpreter shut
            # down (it puts the default handlers back): killed by the signal, as a shell
            # reports 128 + its number, and the results complete
            assert _complete(out) and set(now) == set(earlier)
        else:
            assert sent and code == 128 + sig, (code, err)
            line = _one_line(err)
            assert ("interrupted" if sig == signal.SIGINT else "SIGTERM") in line
        if code > 0 and "results were written" not in err:
            assert now == earlier, "an interrupted run changed the earlier results"
        else:
            assert _complete(out) and set(now) == set(earlier)
        assert _leftovers(tmp_path, "res") == []
        outcomes.append(code)
    # the delays cover the run: some signals landed before the end
    assert any(c != 0 for c in outcomes), outcomes


def test_two_runs_on_one_new_folder(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    for attempt in range(2):
        out = tmp_path / f"res{attempt}"
        procs = [subprocess.Popen(_cli() + ["run", str(tmp_path / "small.yaml"), "--out",
                                            str(out), "--quiet"], cwd=tmp_path, env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        results = []
        for p in procs:
            _, err = p.communicate(timeout=300)
            results.append((p.returncode, err))
        codes = sorted(c for c, _ in results)
        assert codes == [0, 2], results
        err = next(e for c, e in results if c == 2)
        line = _one_line(err)
        assert "already exists" in line or "created by another process" in line
        assert _complete(out)
        assert _leftovers(tmp_path, out.name) == []


# --------------------------------------------------------------------------- locale
def test_outputs_are_utf8_under_an_ascii_locale(tmp_path):
    text = SMALL.replace(
        "  new: [{station: ruralstar_pro, count: 2}]",
        "  new: [{station: ruralstar_pro, placement: list, positions: "
        "[{name: 'Ngorongoro – Šóñá', lon: 35.0, lat: -6.0}]}]")
    (tmp_path / "u.yaml").write_text(text, encoding="utf-8")
    env = dict(ENV, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0",
               PYTHONIOENCODING="")
    check = subprocess.run([sys.executable, "-c", "import locale; "
                            "print(locale.getpreferredencoding(False))"], env=env,
                           capture_output=True, text=True)
    assert check.stdout.strip().lower() in ("ansi_x3.4-1968", "ascii", "us-ascii"), check.stdout
    proc = _run(["run", str(tmp_path / "u.yaml"), "--out", str(tmp_path / "res")], tmp_path,
                env=env)
    assert proc.returncode == 0, proc.stderr
    gj = json.loads((tmp_path / "res" / "sites.geojson").read_text(encoding="utf-8"))
    assert "Ngorongoro – Šóñá" in [f["properties"]["name"] for f in gj["features"]]
    (tmp_path / "res" / "summary.csv").read_bytes().decode("utf-8")
    assert _complete(tmp_path / "res")
