"""Interrupts (Ctrl-C, SIGTERM, SIGHUP) that end a command cleanly and are never lost.

:func:`install` makes SIGINT raise :class:`KeyboardInterrupt` and SIGTERM / SIGHUP raise
:class:`Terminated` (a KeyboardInterrupt carrying the signal number), so every ``finally``
and ``except BaseException`` on the way out runs (the results writer removes its
temporary folder). The first signal is also *recorded*: a library that catches
KeyboardInterrupt and carries on (matplotlib can, while drawing) does not make it
disappear, because :func:`check` raises it again; the results writer calls it just before
its final rename and the command line once more before it exits with status 0.

Inside :func:`deferred` (a results folder being renamed into place, a temporary folder
being removed, a Dask cluster starting or closing) a signal is recorded but not raised until
the block ends, so the rename of an old folder aside and of the new one into place is never
cut in two, and a cluster is never left half started.

Python drops an exception raised where it cannot propagate (a garbage-collector callback, a
``__del__``, a weakref callback) with an "Exception ignored in ..." message; a signal that
lands there would be lost. The handler's ``sys.unraisablehook`` keeps such a KeyboardInterrupt
silent and sends the signal to the main thread again 50 ms later.

Exit status after a signal: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), as a
shell reports a process killed by it.

No heavy imports here: ``simulator_entry`` installs the same handlers before numpy and the
rest are imported.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

#: Signals turned into exceptions.
SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                            getattr(signal, "SIGHUP", None)) if s is not None)

NAMES = {getattr(signal, n): n for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"{NAMES.get(signum, signum)} received")


_state = {"pending": None, "defer": 0, "installed": False, "previous": None}


def _handler(signum, frame):  # noqa: ARG001 - signal handler signature
    if _state["pending"] is None:
        _state["pending"] = signum
    if _state["defer"] == 0:
        _raise(signum)


def _raise(signum: int):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _unraisable(args) -> None:
    """``sys.unraisablehook``: a signal's exception that Python would drop is sent again."""
    if isinstance(args.exc_value, KeyboardInterrupt) and _state["pending"] is not None:
        _redeliver(_state["pending"])
        return
    prev = (_state["previous"] or {}).get("hook") or sys.__unraisablehook__
    prev(args)


def _redeliver(signum: int, delay_s: float = 0.05) -> None:
    main = threading.main_thread().ident

    def send():
        try:
            signal.pthread_kill(main, signum)
        except (OSError, ValueError, AttributeError):  # pragma: no cover
            pass

    t = threading.Timer(delay_s, send)
    t.daemon = True
    t.start()


def install() -> None:
    """Install the handlers and the unraisable hook (main thread only; elsewhere a no-op).

    :func:`uninstall` puts back what was there."""
    if threading.current_thread() is not threading.main_thread():
        return
    if not _state["installed"]:
        _state["previous"] = {"hook": sys.unraisablehook,
                              "handlers": {s: signal.getsignal(s) for s in SIGNALS}}
    for s in SIGNALS:
        try:
            if signal.getsignal(s) is signal.SIG_IGN:
                continue  # started with the signal ignored (nohup, a background job): keep
            signal.signal(s, _handler)
        except (ValueError, OSError):  # pragma: no cover - not the main interpreter
            pass
    sys.unraisablehook = _unraisable
    _state["installed"] = True


def uninstall() -> None:
    """Put back the handlers and hook :func:`install` replaced; forget a recorded signal."""
    prev = _state["previous"]
    if _state["installed"] and prev is not None and \
            threading.current_thread() is threading.main_thread():
        for s, h in prev["handlers"].items():
            try:
                signal.signal(s, h if h is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError):  # pragma: no cover
                pass
        sys.unraisablehook = prev["hook"]
    _state["installed"] = False
    _state["previous"] = None
    reset()


def pending() -> int | None:
    """The first signal received since :func:`reset`, or None."""
    return _state["pending"]


def reset() -> None:
    """Forget a recorded signal (tests; a new command in the same process)."""
    _state["pending"] = None
    _state["defer"] = 0


def record(signum: int) -> None:
    """Record a signal received before :func:`install` (the entry point's own handler)."""
    if _state["pending"] is None:
        _state["pending"] = signum


def check() -> None:
    """Raise the recorded signal again (KeyboardInterrupt / Terminated), if any."""
    if _state["pending"] is not None:
        _raise(_state["pending"])


@contextlib.contextmanager
def deferred(*, raise_after: bool = True):
    """A block that a signal does not cut: it is recorded and raised when the block ends
    (``raise_after=False``: only recorded; for cleanup already on the way out)."""
    _state["defer"] += 1
    try:
        yield
    finally:
        _state["defer"] -= 1
    if raise_after and _state["defer"] == 0:
        check()


def exit_status(exc: BaseException | None = None) -> int:
    """128 + the signal number of ``exc`` (or of the recorded signal); 130 by default."""
    signum = getattr(exc, "signum", None) or _state["pending"] or signal.SIGINT
    return 128 + int(signum)


def describe(exc: BaseException | None = None) -> str:
    """'interrupted (Ctrl-C)', 'terminated (SIGTERM)', 'hung up (SIGHUP)'."""
    signum = getattr(exc, "signum", None) or _state["pending"] or signal.SIGINT
    if signum == signal.SIGINT:
        return "interrupted (Ctrl-C, SIGINT)"
    if signum == getattr(signal, "SIGHUP", None):
        return "stopped: the terminal hung up (SIGHUP)"
    return f"stopped by {NAMES.get(signum, f'signal {signum}')}"
