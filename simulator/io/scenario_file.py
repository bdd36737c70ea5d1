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


def _format_validation_error(err: ValidationError, root, path: Path) -> ScenarioError:
    e = err.errors(include_url=False)[0]
    loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-",
                                                                              "union["))))
    # pydantic reports union members by type name (e.g. 'str', 'TechnologySpec'): drop them.
    loc = tuple(p for p in loc if p not in ("str", "TechnologySpec"))
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"line {line}: {key}" if line else key
    if e["type"] == "extra_forbidden":
        parent = _model_at(Scenario, loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see docs/scenario.md"
        return ScenarioError(f"unknown key '{loc[-1]}'; allowed keys here: {allowed}",
                             file=str(path), key=where, value=loc[-1])
    msg = e["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = e.get("input")
    shown = repr(value) if not isinstance(value, dict) else "{...}"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ScenarioError(f"{msg} (got {shown})", file=str(path), key=where, value=value)


def parse_scenario(data: Any, path: Path | str = "<scenario>", root_node=None) -> Scenario:
    """Validate already-parsed YAML data into a Scenario (errors as ScenarioError)."""
    path = Path(path)
    if not isinstance(data, dict):
        raise ScenarioError("the top level of a scenario must be a mapping of keys "
                            "(name:, region:, population:, ...)", file=str(path))
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
        raise ScenarioError("file not found" if not path.exists() else "not a file",
                            file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file: {exc}", file=str(path)) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ScenarioError(f"YAML syntax error: {exc.problem or exc}", file=str(path),
                            key=where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", file=str(path)) from None
    return parse_scenario(data, path, root)
