"""The one exception type for a user's mistake."""

from __future__ import annotations


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
