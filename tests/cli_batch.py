"""Run many ``ruralsim`` command lines from one interpreter, each in a forked child.

Usage: ``python tests/cli_batch.py jobs.json`` where jobs.json is a list of
``{"argv": [...], "cwd": "...", "stdout": "file", "stderr": "file", "env": {...}}`` (``env``
optional: variables set in the child); prints a JSON list of
exit statuses. Each child behaves like ``python -m simulator.cli ARGV``: its own process
(fresh state after the fork), stdout and stderr to the files, an uncaught exception prints
its traceback and exits with status 1, as the interpreter does. Importing numpy, scipy,
rasterio and geopandas once instead of once per case is what makes the bad-input catalogue
fast; ``tests/test_bad_input.py`` runs real ``python -m simulator.cli`` processes.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

MAX_CHILDREN = 2


def _child(job) -> None:
    os.chdir(job["cwd"])
    os.environ.update(job.get("env") or {})
    for fd, name in ((1, job["stdout"]), (2, job["stderr"])):
        f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)
    sys.argv = ["ruralsim", *job["argv"]]
    code = 1
    try:
        from simulator.cli import main

        code = main(job["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def run_jobs(jobs) -> list[int]:
    # the heavy imports happen once, here, before forking
    import simulator.cli  # noqa: F401
    import simulator.pipeline.runner  # noqa: F401
    import simulator.planning.planner  # noqa: F401
    import simulator.io.results  # noqa: F401
    import geopandas  # noqa: F401
    import rasterio  # noqa: F401

    codes: list[int | None] = [None] * len(jobs)
    running: dict[int, int] = {}
    todo = list(range(len(jobs)))
    while todo or running:
        while todo and len(running) < MAX_CHILDREN:
            i = todo.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(jobs[i])
            running[pid] = i
        pid, status = os.wait()
        codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
    return codes


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        print(json.dumps(run_jobs(json.load(fh))))
