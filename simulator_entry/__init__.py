"""The ``ruralsim`` console script: signal handlers first, then the heavy imports.

Importing the simulator (numpy, scipy, pyproj, rasterio, pydantic ...) takes about a second;
a Ctrl-C, SIGTERM or SIGHUP in that second would otherwise print a Python traceback. This
module imports nothing heavy: it installs handlers, imports :mod:`simulator.cli` under them,
and runs it. A signal during the import ends the command with one line and the signal's
exit status (128 + its number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).

Dask worker processes that a command starts ignore Ctrl-C (the command stops them).

After the command has returned, a late signal (during the interpreter's shutdown) ends the
process at once with that status, never with a traceback and never with status 0.
"""

from __future__ import annotations

import os
import signal
import sys

_SIGNALS = [getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]

def _spawned_child() -> bool:
    """True while multiprocessing's spawn prepares a child process (it imports the parent's
    main script, and so this module, with ``_inheriting`` set)."""
    mp = sys.modules.get("multiprocessing.process")
    return mp is not None and bool(getattr(mp.current_process(), "_inheriting", False))


if _spawned_child():
    # A worker process (Dask's LocalCluster) spawned by a ruralsim command imports the
    # command's main script, hence this module. The terminal sends Ctrl-C to the whole
    # process group: the command stops its workers itself, so a worker ignores it (instead
    # of printing a traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _EarlySignal(KeyboardInterrupt):
    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signum)


def _early(signum, frame):  # noqa: ARG001
    raise _EarlySignal(signum)


def _late(signum, frame):  # noqa: ARG001
    os._exit(128 + signum)


def _say_stopped(signum: int) -> int:
    what = ("interrupted (Ctrl-C, SIGINT)" if signum == signal.SIGINT else
            "stopped: the terminal hung up (SIGHUP)" if signum == getattr(signal, "SIGHUP", -1)
            else f"stopped by {signal.Signals(signum).name}")
    try:
        sys.stderr.write(f"ruralsim: error: {what} while starting; nothing was written\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass
    return 128 + signum


def _set(handler) -> None:
    for s in _SIGNALS:
        if signal.getsignal(s) is not signal.SIG_IGN:
            signal.signal(s, handler)


def main() -> int:
    """Entry point of the ``ruralsim`` command."""
    _set(_early)
    try:
        try:
            from simulator.cli import main as cli_main
        except KeyboardInterrupt as exc:
            _set(_late)
            return _say_stopped(getattr(exc, "signum", signal.SIGINT))
        try:
            return cli_main(_keep_handlers=True)
        except KeyboardInterrupt as exc:  # a signal in the instant before cli_main's own try
            _set(_late)
            return _say_stopped(getattr(exc, "signum", signal.SIGINT))
    finally:
        _set(_late)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # pragma: no cover - a closed pipe
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
