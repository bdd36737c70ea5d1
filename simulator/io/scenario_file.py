"""Reading a scenario YAML file into a validated :class:`~simulator.schema.Scenario`.

Every problem becomes a :class:`~simulator.errors.ScenarioError` naming the file, the line,
the key path, the bad value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from .. import schema as _schema
from ..schema import Scenario


def _line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at a key path (the deepest one that exists)."""
    node, line = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation):
    """The BaseModel inside Optional[...], list[...], dict[str, ...], Union[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is None:
        return annotation
    for arg in get_args(annotation):
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


#: Names pydantic puts into an error's location for union members and dict keys; they are
#: not YAML keys.
_MODEL_NAMES = {"str", "int", "float", "bool", "[key]"} | {
    n for n, c in vars(_schema).items() if isinstance(c, type) and issubclass(c, BaseModel)}
_SCALAR_BRANCHES = ("str", "int", "float", "bool", "literal[")


def _is_tag(part) -> bool:
    if not isinstance(part, str):
        return False
    return (part.startswith(("function-", "union[", "literal[")) or part in _MODEL_NAMES
            or part.startswith(("dict[", "list[", "tuple[")))


def _pick_error(errors: list[dict]) -> dict:
    """The error to report: for a union such as ``terrain: 'flat' | {synthetic: ...}`` given a
    mapping, the mapping branch's error (not "Input should be 'flat'")."""
    def scalar_branch(e):
        return any(isinstance(p, str) and p.startswith(_SCALAR_BRANCHES) for p in e["loc"])

    for e in errors:
        if not scalar_branch(e) or not isinstance(e.get("input"), (dict, list)):
            return e
    return errors[0]


def _did_you_mean(key, model) -> str:
    """" (did you mean 'width_km'?)" for a misspelt key close to one of ``model``'s."""
    import difflib

    if model is None:
        return ""
    close = difflib.get_close_matches(str(key), list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _format_validation_error(err: ValidationError, root, path: Path) -> ScenarioError:
    e = _pick_error(err.errors(include_url=False))
    # pydantic names union members ('str', 'TechnologySpec', "literal['flat']") and dict keys
    # ('[key]') in the location: drop them, keep the YAML key path.
    loc = tuple(p for p in e["loc"] if not _is_tag(p))
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"line {line}: {key}" if line else key
    if e["type"] == "extra_forbidden":
        parent = _model_at(Scenario, loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see docs/scenario.md"
        return ScenarioError(f"unknown key '{loc[-1]}'{_did_you_mean(loc[-1], parent)}; "
                             f"allowed keys here: {allowed}",
                             file=str(path), key=where, value=loc[-1])
    msg = e["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if e["type"] == "missing":
        msg = "required but missing; give it (see docs/scenario.md)"
    value = e.get("input")
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ScenarioError(f"{msg} (got {shown})", file=str(path), key=where, value=value)


def parse_scenario(data: Any, path: Path | str = "<scenario>", root_node=None) -> Scenario:
    """Validate already-parsed YAML data into a Scenario (errors as ScenarioError)."""
    path = Path(path)
    if not isinstance(data, dict):
        line = root_node.start_mark.line + 1 if root_node is not None else 1
        raise ScenarioError("the top level of a scenario must be a mapping of keys "
                            "(name:, region:, population:, ...)"
                            + (" but the file is empty" if data is None else ""),
                            file=str(path), key=f"line {line}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise _format_validation_error(err, root_node, path) from None
    scenario._source_path = path
    return scenario


#: Largest scenario file read [bytes]: a scenario is a few kB; a planned scenario with
#: thousands of listed sites a few hundred kB.
MAX_BYTES = 4 * 2**20
#: Deepest nesting of YAML collections accepted (a scenario nests about 6 deep).
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's C parser where built


def _count_events(text: str, path: Path) -> None:
    """Refuse, before any node is built, a document that would expand to more than
    :data:`MAX_NODES` values (aliases counted at every use) or nest deeper than
    :data:`MAX_DEPTH`: one pass over the parser's events (the C parser where available)."""
    anchors: dict[str, int] = {}
    open_: list[list] = []        # [anchor or None, nodes so far] per open collection
    total = 0

    def add(n: int, mark) -> None:
        nonlocal total
        total += n
        for frame in open_:
            frame[1] += n
        if total > MAX_NODES:
            raise ScenarioError(f"the YAML expands to more than {MAX_NODES:,} values "
                                "(aliases counted at every use); allowed: a plain scenario "
                                "mapping", file=str(path),
                                key=f"line {mark.line + 1}" if mark else None)

    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            add(1, ev.start_mark)
            open_.append([ev.anchor, 0])
            if len(open_) > MAX_DEPTH:
                raise ScenarioError(f"YAML nested more than {MAX_DEPTH} levels deep; allowed: "
                                    "a plain scenario mapping", file=str(path),
                                    key=f"line {ev.start_mark.line + 1}")
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, n = open_.pop()
            if anchor is not None:
                anchors[anchor] = n + 1
        elif isinstance(ev, yaml.ScalarEvent):
            add(1, ev.start_mark)
            if ev.anchor is not None:
                anchors[ev.anchor] = 1
        elif isinstance(ev, yaml.AliasEvent):
            # an alias to an anchor still open is recursive: the composer refuses it
            add(anchors.get(ev.anchor, 1), ev.start_mark)


def read_scenario_text(path: Path) -> str:
    """The text of a scenario file: a regular file of at most :data:`MAX_BYTES`, UTF-8.

    Raises
    ------
    ScenarioError
        Missing, not a regular file (a folder, a device such as /dev/zero, a pipe), too
        large, unreadable or not UTF-8.
    """
    import stat

    try:
        st = path.stat()
    except FileNotFoundError:
        raise ScenarioError("file not found; check the path of the scenario YAML file",
                            file=str(path)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror or exc}); check the path "
                            "and its permissions", file=str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError("not a file; give the path of a scenario YAML file (a regular "
                            "file, not a folder, device or pipe)", file=str(path))
    if st.st_size > MAX_BYTES:
        raise ScenarioError(f"the file is {st.st_size / 2**20:,.1f} MB; a scenario is at most "
                            f"{MAX_BYTES // 2**20} MB of YAML (give large lists of sites as a "
                            "CSV file: sites.existing_towers, planning.candidates.file)",
                            file=str(path))
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror or exc}); check its "
                            "permissions", file=str(path)) from None
    if len(data) > MAX_BYTES:   # grew while being read
        raise ScenarioError(f"the file is larger than {MAX_BYTES // 2**20} MB; a scenario is "
                            "at most that", file=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); allowed: a "
                            "scenario YAML file saved as UTF-8", file=str(path)) from None


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file.

    Bounded before anything is built: a regular file of at most :data:`MAX_BYTES`, whose
    parser events (libyaml's C parser where available) expand to at most :data:`MAX_NODES`
    values nested at most :data:`MAX_DEPTH` deep; then composed and constructed once.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, too large, YAML syntax error, or a schema violation.
    """
    path = Path(path).expanduser()
    text = read_scenario_text(path)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        _count_events(text, path)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            _refuse_duplicate_keys(root, path)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ScenarioError(f"YAML syntax error: {exc.problem or exc}; check the indentation "
                            "(spaces, not tabs), colons, brackets and quotes there",
                            file=str(path), key=where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {str(exc).splitlines()[0] if str(exc) else exc}; "
                            "allowed: a YAML mapping of scenario keys", file=str(path)) from None
    except RecursionError:
        raise ScenarioError("YAML nested too deeply; allowed: a YAML mapping of scenario keys",
                            file=str(path)) from None
    return parse_scenario(data, path, root)


#: Most YAML nodes a scenario may expand to (aliases counted at every use): far above any
#: real scenario, far below what would hang the validation ("billion laughs").
MAX_NODES = 200_000


def _refuse_duplicate_keys(root, path: Path) -> None:
    """Refuse a key given twice in one mapping (YAML loaders keep the last silently), a
    recursive alias, and alias expansions beyond :data:`MAX_NODES` nodes."""
    visits = 0

    def walk(node, loc, on_path):
        nonlocal visits
        visits += 1
        if visits > MAX_NODES:
            raise ScenarioError(f"the YAML expands to more than {MAX_NODES:,} values "
                                "(aliases); allowed: a plain scenario mapping",
                                file=str(path), key=f"line {node.start_mark.line + 1}")
        if id(node) in on_path:
            raise ScenarioError("recursive YAML alias (a value that contains itself); "
                                "remove the alias", file=str(path),
                                key=f"line {node.start_mark.line + 1}")
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else None
                if name is not None and name in seen:
                    key = ".".join(map(str, loc + (name,)))
                    raise ScenarioError(f"key '{key}' is given twice (first on line "
                                        f"{seen[name]}); remove one of them", file=str(path),
                                        key=f"line {k.start_mark.line + 1}", value=name)
                if name is not None:
                    seen[name] = k.start_mark.line + 1
                walk(v, loc + (name,), on_path | {id(node)})
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, loc + (i,), on_path | {id(node)})

    if root is not None:
        try:
            walk(root, (), frozenset())
        except RecursionError:
            raise ScenarioError("YAML nested too deeply; allowed: a plain scenario mapping",
                                file=str(path)) from None
