"""The memory guard sees every limit: MemAvailable, ulimit -v / -d, the process's own
cgroup (v1 and v2, found through /proc/self/cgroup and /proc/self/mountinfo).

The cgroup cases use made-up /proc and /sys trees laid out as the kernel does (the
mountinfo lines are copied from real machines' formats: cgroup v1 mounted per controller
under /sys/fs/cgroup/<controller>, cgroup v2 unified at /sys/fs/cgroup).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.pipeline import memory_limits as ml
from simulator.pipeline import resources

GB = 2**30


def _proc(tmp: Path, *, meminfo_kb: int | None, cgroup: str, mountinfo: str) -> Path:
    proc = tmp / "proc"
    (proc / "self").mkdir(parents=True)
    if meminfo_kb is not None:
        (proc / "meminfo").write_text(f"MemTotal:       32000000 kB\nMemFree:  1000 kB\n"
                                      f"MemAvailable:   {meminfo_kb} kB\n")
    (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "self" / "mountinfo").write_text(mountinfo)
    (proc / "self" / "status").write_text("Name:\tpython\nVmSize:\t  400000 kB\n"
                                          "VmData:\t  300000 kB\n")
    return proc


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


V1_MOUNTS = ("25 23 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755\n"
             "31 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
             "35 25 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n")
V2_MOUNTS = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_cgroup_v1_own_group_and_its_parent(tmp_path):
    proc = _proc(tmp_path, meminfo_kb=20 * 1024 * 1024,
                 cgroup="5:cpu,cpuacct:/jobs/42\n4:memory:/jobs/42\n0::/\n",
                 mountinfo=V1_MOUNTS)
    mem = tmp_path / "sys" / "fs" / "cgroup" / "memory"
    _write(mem / "memory.limit_in_bytes", "9223372036854771712\n")   # root: no limit
    _write(mem / "jobs" / "memory.limit_in_bytes", str(8 * GB))
    _write(mem / "jobs" / "memory.usage_in_bytes", str(7 * GB))       # parent: 1 GB room
    _write(mem / "jobs" / "42" / "memory.limit_in_bytes", str(3 * GB))
    _write(mem / "jobs" / "42" / "memory.usage_in_bytes", str(GB))    # own: 2 GB room
    limits = ml.memory_limits(proc=proc, sys_root=tmp_path / "sys", rlimits=False)
    assert limits["MemAvailable"] == 20 * GB
    assert limits["cgroup v1 memory.limit_in_bytes (/jobs/42)"] == 1 * GB
    assert ml.available_memory_bytes(proc=proc, sys_root=tmp_path / "sys",
                                     rlimits=False) == 1 * GB


def test_cgroup_v1_hierarchical_limit_from_memory_stat(tmp_path):
    proc = _proc(tmp_path, meminfo_kb=20 * 1024 * 1024, cgroup="4:memory:/a\n",
                 mountinfo=V1_MOUNTS)
    mem = tmp_path / "sys" / "fs" / "cgroup" / "memory"
    _write(mem / "a" / "memory.limit_in_bytes", "9223372036854771712\n")
    _write(mem / "a" / "memory.usage_in_bytes", str(GB // 2))
    _write(mem / "a" / "memory.stat", f"cache 0\nhierarchical_memory_limit {2 * GB}\n")
    limits = ml.memory_limits(proc=proc, sys_root=tmp_path / "sys", rlimits=False)
    assert limits["cgroup v1 memory.limit_in_bytes (/a)"] == 2 * GB - GB // 2


def test_cgroup_v1_in_a_container_whose_mount_is_its_own_group(tmp_path):
    # the path in /proc/self/cgroup is the host's; the mount shows only the container's group
    proc = _proc(tmp_path, meminfo_kb=20 * 1024 * 1024,
                 cgroup="4:memory:/docker/abc123\n",
                 mountinfo="35 25 0:32 /docker/abc123 /sys/fs/cgroup/memory ro - cgroup "
                           "cgroup rw,memory\n")
    mem = tmp_path / "sys" / "fs" / "cgroup" / "memory"
    _write(mem / "memory.limit_in_bytes", str(4 * GB))
    _write(mem / "memory.usage_in_bytes", str(GB))
    limits = ml.memory_limits(proc=proc, sys_root=tmp_path / "sys", rlimits=False)
    assert limits["cgroup v1 memory.limit_in_bytes (/docker/abc123)"] == 3 * GB


def test_cgroup_v2_non_root_group_and_ancestors(tmp_path):
    proc = _proc(tmp_path, meminfo_kb=20 * 1024 * 1024,
                 cgroup="0::/user.slice/job.scope\n", mountinfo=V2_MOUNTS)
    cg = tmp_path / "sys" / "fs" / "cgroup"
    _write(cg / "user.slice" / "memory.max", "max\n")
    _write(cg / "user.slice" / "memory.current", str(5 * GB))
    _write(cg / "user.slice" / "job.scope" / "memory.max", str(int(1.5 * GB)))
    _write(cg / "user.slice" / "job.scope" / "memory.current", str(GB // 2))
    limits = ml.memory_limits(proc=proc, sys_root=tmp_path / "sys", rlimits=False)
    assert limits["cgroup v2 memory.max (/user.slice/job.scope)"] == GB
    assert min(limits.values()) == GB


def test_no_cgroup_limit_and_no_meminfo(tmp_path):
    proc = _proc(tmp_path, meminfo_kb=None, cgroup="0::/\n", mountinfo=V2_MOUNTS)
    _write(tmp_path / "sys" / "fs" / "cgroup" / "memory.max", "max\n")
    assert ml.memory_limits(proc=proc, sys_root=tmp_path / "sys", rlimits=False) == {}
    # without any, free physical pages (a positive number on any Linux)
    avail = ml.available_memory_bytes(proc=proc, sys_root=tmp_path / "sys", rlimits=False)
    assert avail is None or avail > 0


def _in_subprocess(code: str, limit_bytes: int) -> str:
    def set_limit():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          preexec_fn=set_limit, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_ulimit_v_is_a_limit_minus_what_the_process_uses():
    limit = 3 * GB
    out = _in_subprocess(
        "from simulator.pipeline import memory_limits as m, resources as r\n"
        "l = m.memory_limits()\n"
        "vm = [int(x.split()[1]) * 1024 for x in open('/proc/self/status') "
        "if x.startswith('VmSize:')][0]\n"
        "print(l['RLIMIT_AS (ulimit -v)'], vm, r.available_memory_bytes())", limit)
    room, vm, avail = map(int, out.split())
    # the room is the limit minus the size when it was read (a little before VmSize here)
    assert limit - vm - 64 * 2**20 <= room <= limit - vm + 64 * 2**20
    assert avail <= room


def test_resources_use_the_smallest(monkeypatch):
    monkeypatch.setattr(ml, "memory_limits", lambda **kw: {"MemAvailable": 9 * GB,
                                                          "RLIMIT_AS (ulimit -v)": 2 * GB})
    assert resources.available_memory_bytes() == 2 * GB


@pytest.mark.skipif(not Path("/proc/self/cgroup").exists(), reason="Linux only")
def test_this_machine_reads_without_error():
    limits = ml.memory_limits()
    assert "MemAvailable" in limits and all(v >= 0 for v in limits.values())
