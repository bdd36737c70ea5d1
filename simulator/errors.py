"""The one exception type for a user's mistake."""

from __future__ import annotations

import logging as _logging


class ScenarioError(Exception):
    """A user's input is wrong: a bad key, value, file or parameter.

    Carries where the problem is (file, key path) and what is allowed, so the
    command line can print it on a single line and exit with status 2.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    file : str, optional
        The file the bad input came from.
    key : str, optional
        Dotted key path inside that file (``population.synthetic.total_people``),
        or ``line N`` for a syntax error.
    value : object, optional
        The offending value.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 value: object = None):
        self.message = message
        self.file = file
        self.key = key
        self.value = value
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.key:
            where.append(str(self.key))
        prefix = ": ".join(where)
        msg = self.message.replace("\n", " ")
        return f"{prefix}: {msg}" if prefix else msg


class EnvironmentProblem(Exception):
    """The machine cannot do what was asked: a folder that cannot be written (permissions,
    read-only file system), a full disk, not enough memory.

    Not the user's scenario: the command line prints it on one line and exits with status 3
    (docs/CONVENTIONS.md, "Exit codes").

    Parameters
    ----------
    message : str
        What went wrong and what to do.
    path : str, optional
        The file or folder concerned.
    """

    def __init__(self, message: str, *, path: str | None = None):
        self.message = message
        self.path = path
        super().__init__(self.one_line())

    def one_line(self) -> str:
        msg = self.message.replace("\n", " ")
        return f"{self.path}: {msg}" if self.path else msg


def os_error_text(exc: OSError) -> str:
    """``PATH: cause`` of an OSError in plain words ("no space left on device")."""
    cause = exc.strerror or (str(exc.args[0]) if exc.args else type(exc).__name__)
    cause = str(cause).splitlines()[0] if str(cause) else type(exc).__name__
    cause = cause[:1].lower() + cause[1:] if cause[:2] != cause[:2].upper() else cause
    names = [str(n) for n in (exc.filename, exc.filename2) if n]
    where = " -> ".join(names)
    if not where and not exc.strerror:
        # e.g. rasterio's RasterioIOError: the message is all there is
        return str(exc).replace("\n", " ") or type(exc).__name__
    return f"{where}: {cause}" if where else cause


# ---- warnings (issue 15: one path for every warning) -------------------------------------


# A library adds only a NullHandler (Python logging HOWTO, "Configuring Logging for a
# Library"): the application decides where records go (``ruralsim -v`` sends them to stderr);
# without it Python's last-resort handler would print every warning a second time.
_logging.getLogger("simulator").addHandler(_logging.NullHandler())

class RuralsimWarning(UserWarning):
    """A result the user should know about, not a mistake: the run went ahead.

    Examples: fewer sites placed than asked (no more settlements far enough from the
    others), DEM holes filled, a plan that stopped before its site limit. Every such
    message goes through :func:`emit_warnings`: Python's :mod:`warnings` (this category, so
    ``warnings.simplefilter("error", RuralsimWarning)`` turns them into errors), the
    ``simulator`` logger at WARNING level (``ruralsim -v`` shows it), and the summary's
    ``warnings`` list, which every command prints.
    """


def emit_warnings(messages, *, stacklevel: int = 3) -> list[str]:
    """Send each message through :mod:`warnings` (:class:`RuralsimWarning`) and :mod:`logging`.

    Parameters
    ----------
    messages : iterable of str
        The warnings, one line each.
    stacklevel : int, keyword-only
        Passed to :func:`warnings.warn` (default: the caller's caller).

    Returns
    -------
    list of str
        The messages, for the summary's ``warnings`` list.
    """
    import warnings

    out = [str(m) for m in messages]
    log = _logging.getLogger("simulator")
    for m in out:
        log.warning(m)
        warnings.warn(m, RuralsimWarning, stacklevel=stacklevel)
    return out
