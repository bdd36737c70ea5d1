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


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        Missing or unreadable file, YAML syntax error, or a schema violation.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("file not found; check the path of the scenario YAML file"
                            if not path.exists() else
                            "not a file; give the path of a scenario YAML file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); allowed: a "
                            "scenario YAML file saved as UTF-8", file=str(path)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror or exc}); check its "
                            "permissions", file=str(path)) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ScenarioError(f"YAML syntax error: {exc.problem or exc}; check the indentation "
                            "(spaces, not tabs), colons, brackets and quotes there",
                            file=str(path), key=where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}; allowed: a YAML mapping of scenario keys",
                            file=str(path)) from None
    except RecursionError:
        raise ScenarioError("YAML nested too deeply; allowed: a YAML mapping of scenario keys",
                            file=str(path)) from None
    _refuse_duplicate_keys(root, path)
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
