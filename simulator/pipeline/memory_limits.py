"""How much memory this process may still get: every limit the system puts on it.

A run refused before it starts is better than one killed by the out-of-memory killer or
ended by a ``MemoryError`` half way. The memory a new allocation can get is the smallest of:

* ``MemAvailable`` of ``/proc/meminfo``: what the machine can give without swapping
  (Linux >= 3.14; else free physical pages from ``os.sysconf``);
* ``RLIMIT_AS`` (``ulimit -v``) minus the process's current virtual size (``VmSize`` of
  ``/proc/self/status``): an allocation beyond it fails with ENOMEM even with free memory;
* ``RLIMIT_DATA`` (``ulimit -d``) minus the current data segment (``VmData``): Linux >= 4.7
  counts private writable mappings, which is where numpy's arrays live;
* the memory cgroup the process is in, **its own** (from ``/proc/self/cgroup``, located
  through ``/proc/self/mountinfo``, not assumed to be the root of ``/sys/fs/cgroup``), and
  every ancestor up to the mount's root: cgroup v2 ``memory.max - memory.current``, cgroup v1
  ``memory.limit_in_bytes - memory.usage_in_bytes`` (the v1 ``hierarchical_memory_limit`` of
  ``memory.stat`` too). "max" and v1's page-rounded 2**63 mean no limit.

:func:`memory_limits` returns each limit found, by name, so ``ruralsim validate`` can say which
one binds; :func:`available_memory_bytes` their minimum. The root folders are parameters so
tests can give a made-up ``/proc`` and ``/sys``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit number; anything
#: at or above this is taken as no limit [bytes].
NO_LIMIT_BYTES = 2**62


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def _status_kb(proc: Path, field: str) -> int | None:
    text = _read(proc / "self" / "status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None


def _meminfo_available(proc: Path) -> int | None:
    text = _read(proc / "meminfo")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None


def _mounts(proc: Path) -> list[tuple[str, str, str, str]]:
    """(root, mount point, fs type, super options) of every cgroup mount."""
    text = _read(proc / "self" / "mountinfo")
    out = []
    if text is None:
        return out
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a, b = left.split(), right.split()
        if len(a) < 5 or len(b) < 1:
            continue
        fstype = b[0]
        if fstype in ("cgroup", "cgroup2"):
            opts = b[2] if len(b) > 2 else ""
            out.append((_unescape(a[3]), _unescape(a[4]), fstype, opts))
    return out


def _unescape(s: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal \040 ...
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n") \
        .replace("\\134", "\\")


def _cgroup_dirs(mount_root: str, mount_point: str, cgroup_path: str, sys_root: Path,
                 ) -> list[Path]:
    """The process's cgroup folder and its ancestors up to the mount point (leaf first).

    In a container the path in /proc/self/cgroup may lie outside what the mount shows (the
    mount's root is the container's own cgroup): then the mount point itself is the leaf.
    """
    mp = sys_root / os.path.relpath(mount_point, "/sys") if sys_root != Path("/sys") and \
        mount_point.startswith("/sys") else Path(mount_point)
    rel = None
    if mount_root == "/":
        rel = cgroup_path.lstrip("/")
    elif cgroup_path == mount_root or cgroup_path.startswith(mount_root.rstrip("/") + "/"):
        rel = cgroup_path[len(mount_root):].lstrip("/")
    leaf = mp / rel if rel else mp
    if not leaf.is_dir():
        leaf = mp
    dirs = [leaf]
    p = leaf
    while p != mp and mp in p.parents:
        p = p.parent
        dirs.append(p)
    return dirs


def _cgroup_limits(proc: Path, sys_root: Path) -> dict[str, int]:
    text = _read(proc / "self" / "cgroup")
    if text is None:
        return {}
    mounts = _mounts(proc)
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":          # cgroup v2
            for root, point, fstype, _ in mounts:
                if fstype != "cgroup2":
                    continue
                rooms = []
                for d in _cgroup_dirs(root, point, path, sys_root):
                    limit = _read(d / "memory.max")
                    if limit is None or limit.strip() == "max":
                        continue
                    lim, cur = _to_int(limit), _read_int(d / "memory.current")
                    if lim is not None and lim < NO_LIMIT_BYTES:
                        rooms.append(max(lim - (cur or 0), 0))
                if rooms:
                    out[f"cgroup v2 memory.max ({path})"] = min(rooms)
                break
        elif "memory" in controllers.split(","):       # cgroup v1
            for root, point, fstype, opts in mounts:
                if fstype != "cgroup" or "memory" not in opts.split(","):
                    continue
                dirs = _cgroup_dirs(root, point, path, sys_root)
                rooms = []
                usage = _read_int(dirs[0] / "memory.usage_in_bytes")
                stat = _read(dirs[0] / "memory.stat") or ""
                for row in stat.splitlines():
                    if row.startswith("hierarchical_memory_limit "):
                        lim = _to_int(row.split()[1])
                        if lim is not None and lim < NO_LIMIT_BYTES:
                            rooms.append(max(lim - (usage or 0), 0))
                for d in dirs:
                    lim = _read_int(d / "memory.limit_in_bytes")
                    cur = _read_int(d / "memory.usage_in_bytes")
                    if lim is not None and lim < NO_LIMIT_BYTES:
                        rooms.append(max(lim - (cur or 0), 0))
                if rooms:
                    out[f"cgroup v1 memory.limit_in_bytes ({path})"] = min(rooms)
                break
    return out


def _to_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _rlimit_rooms(proc: Path) -> dict[str, int]:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return {}
    out = {}
    for name, label, field in (("RLIMIT_AS", "RLIMIT_AS (ulimit -v)", "VmSize"),
                               ("RLIMIT_DATA", "RLIMIT_DATA (ulimit -d)", "VmData")):
        lim = getattr(resource, name, None)
        if lim is None:
            continue
        try:
            soft, _ = resource.getrlimit(lim)
        except (OSError, ValueError):  # pragma: no cover
            continue
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        used = _status_kb(proc, field) or 0
        out[label] = max(int(soft) - used, 0)
    return out


def memory_limits(*, proc: str | Path = "/proc", sys_root: str | Path = "/sys",
                  rlimits: bool = True) -> dict[str, int]:
    """Every limit on the memory this process may still get [bytes], by name.

    Parameters
    ----------
    proc, sys_root : path-like
        Where ``/proc`` and ``/sys`` are (tests give made-up trees).
    rlimits : bool
        Include this process's ``RLIMIT_AS`` / ``RLIMIT_DATA`` (off for made-up trees).

    Returns
    -------
    dict
        ``{"MemAvailable": bytes, "RLIMIT_AS (ulimit -v)": bytes, "cgroup v1 ...": bytes}``,
        only the limits that are set; empty when none can be read.
    """
    proc, sys_root = Path(proc), Path(sys_root)
    out = {}
    avail = _meminfo_available(proc)
    if avail is not None:
        out["MemAvailable"] = avail
    if rlimits:
        out.update(_rlimit_rooms(proc))
    out.update(_cgroup_limits(proc, sys_root))
    return out


def available_memory_bytes(*, proc: str | Path = "/proc", sys_root: str | Path = "/sys",
                           rlimits: bool = True) -> int | None:
    """The smallest of :func:`memory_limits` [bytes]; without any, free physical pages
    (``os.sysconf``); None when nothing can be told."""
    limits = memory_limits(proc=proc, sys_root=sys_root, rlimits=rlimits)
    if "MemAvailable" not in limits:
        try:
            limits["free pages"] = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            pass
    return min(limits.values()) if limits else None


def binding_limit(*, proc: str | Path = "/proc", sys_root: str | Path = "/sys") -> tuple[
        str, int] | None:
    """(name, bytes) of the limit that binds now, or None."""
    limits = memory_limits(proc=proc, sys_root=sys_root)
    if not limits:
        return None
    name = min(limits, key=limits.get)
    return name, limits[name]
