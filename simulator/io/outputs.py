"""Results folders: where they go, what may be replaced, and writing them atomically.

Every command that writes (``run``, ``plan``, ``compare``, a sweep, ``make-samples``) writes
one folder through :func:`atomic_folder`, under these rules (docs/CONVENTIONS.md):

* **Where.** ``--out`` if given; else the scenario's ``outputs.dir``; else
  ``results/<name>``. Relative paths are relative to the working folder and ``~`` is
  expanded (:func:`results_dir`). An ``outputs.dir`` that is absolute, starts with ``~`` or
  contains ``..`` is honoured only with ``--out`` or ``--allow-outputs-dir`` on the command
  line: a scenario file someone else wrote cannot send results anywhere on its own.
* **What may be replaced.** A missing folder or an empty one is written; an existing one only
  with ``overwrite`` (``--overwrite``) *and* only if it is a results folder this tool wrote
  (its ``manifest.json`` present, :func:`is_results_folder`). Never a file, never a symbolic
  link (nor what it points to), never a mount point, never the working folder or a folder
  holding it, never a folder holding the scenario file or any of its inputs
  (:func:`check_target`).
* **Checked before computing.** :func:`check_target` also refuses a path under a file, a name
  too long for the file system (with the temporary folder's suffix) and a folder that cannot
  be written (probed by creating and removing a hidden folder).
* **Atomic.** Everything is written into a hidden temporary folder beside the target
  (``.NAME.partial-PID-XXXX``) and renamed into place when complete. The final step rechecks
  the rules under an exclusive lock on the parent folder, and renames with
  ``renameat2(RENAME_NOREPLACE)`` where the system has it: of two runs started on one new
  folder, one writes it and the other is refused (a ScenarioError), never silently replaced.
  An existing folder is replaced by moving it aside (``.NAME.old-PID-XXXX``), renaming the new
  one in and deleting the old one; a signal cannot cut this in two
  (:func:`simulator.interrupts.deferred`). On any failure or interrupt the temporary folder
  and the parent folders this call created are removed.
* A process killed with SIGKILL cannot clean up: the next write to the same target deletes the
  ``.partial``/``.old`` folders of processes no longer running and, if the target is missing
  while such an ``.old`` folder holds it, moves the earlier results back (:func:`clean_stale`).
* The folder gets the permissions the umask gives a new folder (not ``mkdtemp``'s 0700).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import interrupts
from ..errors import EnvironmentProblem, ScenarioError

MANIFEST = "manifest.json"
#: Bytes the temporary folder's name adds to the target's (``.`` + ``.partial-PID-`` + 8).
PARTIAL_SUFFIX_BYTES = 40
#: Longest file name written inside a results folder, with a margin [bytes].
INNER_NAME_BYTES = 64
#: A manifest larger than this is not read [bytes].
MANIFEST_MAX_BYTES = 64 * 2**20

#: Folders renamed into place by this process (for the command line's messages).
committed: list[Path] = []


# --------------------------------------------------------------------------- where
def results_dir(scenario, out=None, *, allow_outputs_dir: bool = False,
                suffix: str = "") -> Path:
    """The folder a command writes: ``out``, else ``outputs.dir`` (+ ``suffix``), else
    ``results/<name>`` (+ ``suffix``); relative to the working folder, ``~`` expanded.

    Raises
    ------
    ScenarioError
        ``outputs.dir`` from a scenario file is absolute, starts with ``~`` or contains
        ``..``, and neither ``out`` nor ``allow_outputs_dir`` was given.
    """
    if out is not None:
        return Path(os.path.expanduser(os.fspath(out)))
    d = scenario.outputs.dir
    if not d:
        return Path("results") / f"{scenario.name}{suffix}"
    given = d.rstrip("/") or d
    p = Path(os.path.expanduser(given + suffix))
    outside = p.is_absolute() or ".." in Path(given).parts
    if outside and scenario.source_path is not None and not allow_outputs_dir:
        raise ScenarioError(
            f"outputs.dir {d!r} is outside the working folder; a scenario file may only name "
            "a results folder inside it (a relative path without '..'); to write there, pass "
            f"--out {p} or --allow-outputs-dir", file=str(scenario.source_path),
            key="outputs.dir", value=d)
    return p


def protected_paths(scenario) -> list[Path]:
    """The scenario file and every input file it names (never inside a replaced folder)."""
    paths = []
    if scenario is None:
        return paths
    if scenario.source_path is not None:
        paths.append(Path(scenario.source_path))
    try:
        from ..pipeline.runner import input_files, resolve_path

        paths += list(input_files(scenario).values())
        for st in scenario.stations.values():
            if st.pattern_file:
                paths.append(resolve_path(scenario, st.pattern_file))
    except Exception:  # noqa: BLE001 - a scenario the checks will refuse anyway
        pass
    return paths


# --------------------------------------------------------------------------- rules
def _absolute(path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(inner: Path, outer: Path) -> bool:
    """``inner`` is ``outer`` or inside it (symbolic links resolved)."""
    a, b = _real(inner), _real(outer)
    return a == b or b in a.parents


def is_results_folder(path) -> bool:
    """A folder this tool wrote: a regular ``manifest.json`` holding a JSON object that
    names the tool (``"tool": "ruralsim"``) or has a run manifest's keys."""
    m = Path(path) / MANIFEST
    try:
        if m.is_symlink() or not m.is_file() or m.stat().st_size > MANIFEST_MAX_BYTES:
            return False
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    return data.get("tool") == "ruralsim" or {"software_version", "outputs"} <= set(data)


def _is_empty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False


def _refuse(path, message: str) -> ScenarioError:
    return ScenarioError(message, file=str(path))


def check_target(out, *, overwrite: bool = False, protect=(), what: str = "results folder",
                 option: str = "--out", probe: bool = True) -> Path:
    """Check that ``out`` may be written (the rules of this module), before any work.

    Parameters
    ----------
    out : path-like
        The folder to write.
    overwrite : bool
        An existing results folder of this tool may be replaced.
    protect : iterable of path-like
        Files that must not be inside the folder (the scenario and its inputs).
    what, option : str
        Words for the messages ("plan folder", "--out").
    probe : bool
        Create and remove a hidden folder to prove the parent is writable.

    Returns
    -------
    pathlib.Path
        ``out`` made absolute (``~`` expanded, symbolic links kept).

    Raises
    ------
    ScenarioError
        The path is not one this tool may write (exit status 2).
    EnvironmentProblem
        The parent folder cannot be written: permissions, a read-only file system (3).
    """
    given = os.fspath(out)
    if not str(given).strip():
        raise ScenarioError(f"the {what} path is empty; give a folder with {option}")
    out = _absolute(given)
    if out.name in ("", ".", ".."):
        raise _refuse(out, f"is not a folder name this tool can write; choose another {option}")
    if os.path.islink(out):
        target = os.readlink(out)
        state = "" if os.path.exists(out) else ", which does not exist"
        raise _refuse(out, f"is a symbolic link (to {target}{state}); this tool never writes "
                           f"through one: give the folder itself or another {option}")
    if os.path.lexists(out) and not os.path.isdir(out):
        raise _refuse(out, f"is a file, not a folder; it is never replaced: choose another "
                           f"{option}")
    if _within(Path.cwd(), out):
        raise _refuse(out, f"is the working folder or holds it; it is never replaced: choose "
                           f"a new folder with {option}")
    for p in protect:
        if p is not None and _within(_absolute(p), out):
            raise _refuse(out, f"holds {_absolute(p)}, the scenario or one of its input files, "
                               f"so it is never replaced: choose another {option}")
    if os.path.lexists(out):
        if os.path.ismount(out):
            raise _refuse(out, f"is a mount point; write the {what} inside it: choose another "
                               f"{option}")
        if not _is_empty_dir(out):
            if not overwrite:
                raise _refuse(out, f"{what} already exists; pass --overwrite to replace it, "
                                   f"or choose another {option}")
            if not is_results_folder(out):
                raise _refuse(out, f"exists and is not a {what} written by ruralsim (no "
                                   f"{MANIFEST}); --overwrite replaces only those: choose "
                                   f"another {option}")
    # the nearest existing ancestor must be a folder we can write into
    anc = out.parent
    missing = [out]
    while not os.path.lexists(anc):
        missing.append(anc)
        anc = anc.parent
    if not os.path.isdir(anc):
        raise _refuse(out, f"cannot be created: {anc} is a file, not a folder; choose another "
                           f"{option}")
    name_max = _pathconf(anc, "PC_NAME_MAX", 255)
    path_max = _pathconf(anc, "PC_PATH_MAX", 4096)
    for comp in missing:
        n = len(os.fsencode(comp.name))
        if n > name_max:
            raise _refuse(out, f"the name {comp.name[:40]!r}... is {n} bytes, longer than this "
                               f"file system allows ({name_max}); choose a shorter {option}")
    n = len(os.fsencode(out.name))
    if n + PARTIAL_SUFFIX_BYTES > name_max:
        raise _refuse(out, f"the folder name is {n} bytes; at most "
                           f"{name_max - PARTIAL_SUFFIX_BYTES} fit here (its temporary folder "
                           f"adds {PARTIAL_SUFFIX_BYTES}); choose a shorter {option}")
    n = len(os.fsencode(str(out)))
    if n + PARTIAL_SUFFIX_BYTES + INNER_NAME_BYTES > path_max:
        raise _refuse(out, f"the path is {n} bytes, too long for this system (at most "
                           f"{path_max - PARTIAL_SUFFIX_BYTES - INNER_NAME_BYTES}); choose a "
                           f"shorter {option}")
    if probe:
        try:
            tmp = tempfile.mkdtemp(prefix=f".ruralsim-probe-{os.getpid()}-", dir=anc)
            os.rmdir(tmp)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot write the {what} here ({_cause(exc)}); choose a "
                                     f"writable {option}", path=str(anc)) from None
    return out


def _pathconf(path, name: str, default: int) -> int:
    try:
        v = os.pathconf(path, name)
    except (OSError, ValueError, AttributeError):
        return default
    return int(v) if v and v > 0 else default


def _cause(exc: OSError) -> str:
    s = exc.strerror or str(exc)
    return s[:1].lower() + s[1:]


# --------------------------------------------------------------------------- atomic write
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``, failing with FileExistsError if ``dst`` exists (atomic
    where the kernel has renameat2; else an existence check under the caller's lock)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                       ctypes.c_uint]
        rc = fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(err, os.strerror(err), str(dst))
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock on a folder (flock on its descriptor) against other ruralsim
    processes committing into it; nothing is created."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - not Linux
    os.umask(mask)
    return mask


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created (deepest last)."""
    missing = []
    p = folder
    while not os.path.lexists(p):
        missing.append(p)
        p = p.parent
    created = []
    for p in reversed(missing):
        try:
            os.mkdir(p)
        except FileExistsError:
            continue
        except OSError:
            _remove_created(created)
            raise
        created.append(p)
    return created


def _remove_created(created: list[Path]) -> None:
    for p in reversed(created):
        try:
            os.rmdir(p)
        except OSError:
            break


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_folder_manifest(folder: Path, kind: str) -> None:
    """A minimal ``manifest.json`` (tool, kind, version, SHA-256 of every file) for folders
    whose writer made none (plans, sweeps, comparisons, samples)."""
    from .. import __version__

    manifest = {"tool": "ruralsim", "kind": kind, "software_version": __version__,
                "outputs": {p.name: _sha256(p) for p in sorted(folder.iterdir())
                            if p.is_file() and p.name != MANIFEST}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _exists_refusal(out: Path, what: str) -> ScenarioError:
    return _refuse(out, f"{what} was created by another process while this one was computing "
                        "(two runs on one folder?); nothing was replaced and this run's results "
                        "were discarded: choose another --out, or pass --overwrite")


def _commit(tmp: Path, out: Path, *, overwrite: bool, protect, what: str) -> None:
    """Rename ``tmp`` to ``out`` under the rules (rechecked now); the caller holds the lock."""
    if os.path.lexists(out):
        if os.path.islink(out) or not os.path.isdir(out):
            raise _refuse(out, "became a file or a symbolic link while this run was computing; "
                               "nothing was replaced: choose another --out")
        if _is_empty_dir(out):
            os.rmdir(out)
        elif not overwrite:
            raise _exists_refusal(out, what)
        else:
            check_target(out, overwrite=True, protect=protect, what=what, probe=False)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-",
                                        dir=out.parent))
            with interrupts.deferred(raise_after=False):
                os.replace(out, old / out.name)
                os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
            return
    try:
        with interrupts.deferred(raise_after=False):
            _rename_noreplace(tmp, out)
    except FileExistsError:
        raise _exists_refusal(out, what) from None
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise _exists_refusal(out, what) from None
        raise


@contextlib.contextmanager
def held_c_stderr():
    """Hold back what C libraries print on file descriptor 2 while a folder is written.

    GDAL's bundled libtiff prints "_tiffWriteProc: No space left on device." for every block
    it fails to write, straight to the descriptor, before the exception that says the same.
    Inside this block descriptor 2 goes to an anonymous temporary file while Python's
    ``sys.stderr`` (progress bars, warnings, the command's own messages) keeps going to the
    terminal through a duplicate. On success what the libraries printed is passed on; on a
    failure it is dropped (the command's one line says what went wrong). Does nothing when
    ``sys.stderr`` has no descriptor (inside pytest's capture, a notebook).
    """
    import sys

    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd != 2:
        yield
        return
    try:
        hold = tempfile.TemporaryFile()
        saved = os.dup(2)
    except OSError:
        yield
        return
    old = sys.stderr
    old.flush()
    mine = os.fdopen(os.dup(saved), "w", buffering=1, encoding=old.encoding,
                     errors="backslashreplace")
    sys.stderr = mine
    os.dup2(hold.fileno(), 2)
    ok = False
    try:
        yield
        ok = True
    finally:
        try:
            mine.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = old
        mine.close()
        try:
            if ok:
                hold.seek(0)
                text = hold.read(1 << 20).decode("utf-8", "replace")
                if text:
                    old.write(text)
                    old.flush()
        except (OSError, ValueError):
            pass
        hold.close()


@contextlib.contextmanager
def atomic_folder(out, *, overwrite: bool = False, protect=(), kind: str = "results",
                  what: str = "results folder"):
    """Yield a hidden temporary folder beside ``out``; rename it to ``out`` when complete.

    The rules of this module apply (:func:`check_target` on entry, rechecked at the final
    rename). A folder without ``manifest.json`` when the block ends gets a minimal one
    (:func:`write_folder_manifest`). On any exception (KeyboardInterrupt and
    :class:`simulator.interrupts.Terminated` included) the temporary folder and the parents
    this call created are removed and ``out`` is left as it was. A signal that a library
    swallowed is raised again before the final rename (:func:`simulator.interrupts.check`).

    Parameters
    ----------
    out : path-like
    overwrite : bool
        Replace an existing results folder of this tool.
    protect : iterable of path-like
        Files that must not be inside a replaced folder (:func:`protected_paths`).
    kind : str
        Written into a minimal manifest ("results", "plan", "sweep", "comparison", "samples").
    what : str
        The folder in messages.

    Raises
    ------
    ScenarioError
        The rules refuse ``out`` (before the block, or at the final rename).
    EnvironmentProblem
        The parent cannot be written.
    """
    protect = list(protect)
    out = check_target(out, overwrite=overwrite, protect=protect, what=what)
    created = _make_parents(out.parent)
    try:
        clean_stale(out)
        if os.path.lexists(out) and not overwrite and not _is_empty_dir(out):
            raise _refuse(out, f"{what} already exists (restored from an interrupted "
                               "overwrite); pass --overwrite to replace it, or choose another "
                               "--out")
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-",
                                    dir=out.parent))
    except BaseException:
        _remove_created(created)
        raise
    try:
        with held_c_stderr():
            yield tmp
            if not (tmp / MANIFEST).exists():
                write_folder_manifest(tmp, kind)
        os.chmod(tmp, 0o777 & ~_umask())
        interrupts.check()   # a Ctrl-C that a library caught and carried on from
        # from here a signal waits until the folder is in place, the old one deleted and the
        # commit recorded (so the command's message says which happened)
        with interrupts.deferred(raise_after=False):
            with _locked(out.parent):
                _commit(tmp, out, overwrite=overwrite, protect=protect, what=what)
            committed.append(out)
    except BaseException as exc:
        with interrupts.deferred(raise_after=False):
            shutil.rmtree(tmp, ignore_errors=True)
            _remove_created(created)
        if isinstance(exc, OSError):
            raise EnvironmentProblem(_write_failure(exc, tmp, out, what),
                                     path=str(out)) from exc
        raise
    interrupts.check()


def _write_failure(exc: OSError, tmp: Path, out: Path, what: str) -> str:
    """'cannot write the results folder (no space left on device, writing sinr_db.tif)'."""
    cause = exc.strerror or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    cause = cause.replace("See previous exception for details.", "").strip(" .")
    cause = cause[:1].lower() + cause[1:]
    if exc.errno is None:
        # GDAL's "Write failed" says no more: a full disk is the usual reason, say so
        try:
            full = shutil.disk_usage(out.parent).free < 2**20
        except OSError:
            full = False
        if full:
            cause = f"no space left on device: {cause}"
    name = None
    for f in (exc.filename, exc.filename2):
        if f:
            p = Path(os.fsdecode(f))
            name = p.name if tmp in p.parents or p.parent == tmp else str(p)
            break
    where = f", writing {name}" if name else ""
    return (f"cannot write the {what} ({cause}{where}); nothing was written and earlier "
            f"results, if any, are unchanged: free some space or choose another --out")


# --------------------------------------------------------------------------- leftovers
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
            if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink():
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
        if ".old-" in p.name and not os.path.lexists(out) and (p / out.name).is_dir():
            os.replace(p / out.name, out)
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return stale
