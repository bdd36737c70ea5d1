"""Property-based fuzzing of the scenario loader and runner.validate.

The strategies are generated from the pydantic schema (``Scenario.model_fields``, walked
recursively): each field gets values of its own type near and beyond its bounds, values of
other types, and the mappings get unknown keys. Whatever comes in, the only exception that
may come out is :class:`simulator.errors.ScenarioError`.
"""

from __future__ import annotations

import math
import tempfile
import typing
from pathlib import Path

import annotated_types
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from simulator.errors import ScenarioError
from simulator.io.scenario_file import load_scenario, parse_scenario
from simulator.pipeline.runner import validate
from simulator.schema import Scenario

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large],
                derandomize=True)

NAMES = ["ruralstar_pro", "macro", "small_cell", "lte_900", "lte_800", "gsm_900", "x",
         "EPSG:32736", "EPSG:4326", "towers.csv", "pop.tif", "", "flat", "fibre", "solar"]

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                 st.sampled_from(NAMES), st.lists(st.integers(-5, 5), max_size=3),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def _bounds(field) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in getattr(field, "metadata", []):
        if isinstance(m, (annotated_types.Ge, annotated_types.Gt)):
            lo = float(getattr(m, "ge", getattr(m, "gt", None)))
        if isinstance(m, (annotated_types.Le, annotated_types.Lt)):
            hi = float(getattr(m, "le", getattr(m, "lt", None)))
    return lo, hi


def _number(kind, lo, hi, wild=True):
    """Numbers in range, on and just beyond the bounds, and extreme ones (``wild``)."""
    edges = [v for b in (lo, hi) if b is not None for v in (b, b - 1, b + 1, b * 1.0001)]
    if kind is int:
        near = [int(v) for v in edges if math.isfinite(v) and abs(v) < 2**63]
        inside = st.integers(int(lo) if lo is not None else -10**6,
                             int(min(hi, 10**6)) if hi is not None else 10**6) \
            if (lo is None or hi is None or lo <= min(hi, 10**6)) else st.integers(0, 10)
        return st.one_of(inside, st.sampled_from(near or [0]), st.integers()) if wild else inside
    inside = st.floats(lo if lo is not None else -1e6, min(hi, 1e6) if hi is not None else 1e6,
                       allow_nan=False) if (lo is None or hi is None or lo <= min(hi, 1e6)) \
        else st.floats(0, 10)
    if not wild:
        return inside
    return st.one_of(inside, st.sampled_from(edges or [0.0]),
                     st.floats(allow_nan=True, allow_infinity=True))


def value_for(annotation, field=None, depth=0, wild=True):
    """A strategy for one annotation: mostly well-typed values, sometimes junk (``wild``);
    without ``wild``: values of the right type inside the bounds (valid-ish)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        good = model_strategy(annotation, depth + 1, wild)
    elif origin is typing.Literal:
        good = st.sampled_from(args)
    elif origin is typing.Union:
        good = st.one_of([value_for(a, field, depth, wild) for a in args])
    elif origin is list:
        good = st.lists(value_for(args[0], None, depth + 1, wild), max_size=2 if depth < 3 else 0)
    elif origin is dict:
        keys = st.one_of(st.sampled_from(NAMES), st.text(max_size=6))
        good = st.dictionaries(keys, value_for(args[1], None, depth + 1, wild),
                               max_size=2 if depth < 3 else 0)
    elif origin is tuple:
        good = st.one_of(st.tuples(*[value_for(a, None, depth, wild) for a in args]).map(list),
                         st.lists(st.floats(-200, 200), max_size=3))
    elif annotation is bool:
        good = st.booleans()
    elif annotation in (int, float):
        good = _number(annotation, *_bounds(field), wild=wild)
    elif annotation is str:
        good = st.one_of(st.sampled_from(NAMES), st.text(max_size=12))
    elif annotation is type(None):
        good = st.none()
    elif annotation is typing.Any:  # e.g. sweep values: any YAML scalar
        good = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
                         st.booleans(), st.none())
    else:  # pragma: no cover - a new annotation kind in the schema
        raise AssertionError(f"no strategy for {annotation!r}")
    if not wild:
        return good
    return st.one_of(good, good, good, junk) if depth < 4 else st.one_of(good, junk)


def model_strategy(model: type[BaseModel], depth: int = 0, wild: bool = True):
    """A mapping for ``model``: a random subset of its fields, sometimes an unknown key."""
    fields = model.model_fields

    @st.composite
    def build(draw):
        out = {}
        for name, f in fields.items():
            if depth > 3 and not f.is_required():
                continue
            if f.is_required() or draw(st.integers(0, 3)) == 0:
                out[name] = draw(value_for(f.annotation, f, depth, wild))
        if wild and draw(st.integers(0, 9)) == 0:
            out[draw(st.text(min_size=1, max_size=8))] = draw(junk)
        return out

    return build()


def _named(d):
    return {**d, "name": d["name"] if isinstance(d.get("name"), str) and d["name"] else "f"}


scenario_data = model_strategy(Scenario).map(_named)
#: Values of the right types inside their bounds: most of these parse, so validate() runs.
validish_data = model_strategy(Scenario, wild=False).map(
    lambda d: {**_named(d), "name": "f"})


@settings(FUZZ, max_examples=400)
@given(scenario_data)
def test_parse_scenario_raises_only_scenario_error(data):
    try:
        parse_scenario(data, "fuzz.yaml")
    except ScenarioError as exc:
        assert exc.one_line() and "\n" not in exc.one_line()


@settings(FUZZ, max_examples=250)
@given(validish_data)
def test_validate_raises_only_scenario_error(data):
    try:
        scenario = parse_scenario(data, "/nonexistent/fuzz.yaml")
    except ScenarioError:
        return
    PARSED.append(1)
    try:
        validate(scenario, available_memory_bytes=2**40)
    except ScenarioError as exc:
        assert "\n" not in exc.one_line()


PARSED: list[int] = []


def test_validate_fuzz_reached_validate():
    """The valid-ish strategy must get past the schema often enough to exercise validate()."""
    if not PARSED:
        pytest.skip("runs after test_validate_raises_only_scenario_error")
    assert len(PARSED) >= 25, len(PARSED)


VALID = """\
name: fuzz
seed: 3
region: {centre_lon_lat: [35.0, -6.0], width_km: 4, height_km: 4, resolution_m: 200}
population:
  synthetic: {total_people: 800, settlements: 3}
terrain: {synthetic: {relief_m: 100}}
technology: {base: lte_900, frequency_mhz: 900}
propagation: {model: deygout, shadowing_sigma_db: 8}
stations:
  tall: {base: ruralstar_pro, height_m: 25}
sites:
  existing: [{station: macro, placement: list, positions: [{lon: 35.0, lat: -6.0}]}]
  new:
    - station: tall
      count: 2
economics: {discount_rate: 0.1, station_costs: {tall: {base: ruralstar_pro}}}
outputs: {maps: false}
"""


def test_the_mutation_seed_scenario_is_valid():
    validate(parse_scenario(yaml.safe_load(VALID)))


@st.composite
def mutated_text(draw):
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "dup_line", "swap_lines",
                                     "indent"]))
        i = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 12)):]
        elif kind == "insert":
            text = text[:i] + draw(st.one_of(
                st.sampled_from([":", "-", "[", "]", "{", "}", "'", '"', "\t", "\n", " ", "#",
                                 "&a", "*a", "!!python/object:os.system", "~", "1e999",
                                 ".nan", "- x\n", "\n  extra: 1\n"]),
                st.text(max_size=5))) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(st.text(min_size=1, max_size=3)) + text[i + 1:]
        else:
            lines = text.split("\n")
            j = draw(st.integers(0, len(lines) - 1))
            k = draw(st.integers(0, len(lines) - 1))
            if kind == "dup_line":
                lines.insert(k, lines[j])
            elif kind == "swap_lines":
                lines[j], lines[k] = lines[k], lines[j]
            else:
                lines[j] = " " * draw(st.integers(1, 4)) + lines[j]
            text = "\n".join(lines)
    return text


@settings(FUZZ, max_examples=300)
@given(mutated_text())
def test_load_scenario_on_mutated_yaml_raises_only_scenario_error(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.yaml"
        path.write_bytes(text.encode("utf-8", errors="replace"))
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            line = exc.one_line()
            assert "\n" not in line and str(path) in line
            return
        try:
            validate(scenario, available_memory_bytes=2**40)
        except ScenarioError:
            pass


LAUGHS = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "[" * 200 + "]" * 200, LAUGHS,
                                  "name: !!python/object/apply:os.system ['true']\n",
                                  "name: t\nregion: {width_km: .inf}\n",
                                  "name: t\nregion: {width_km: .nan}\n",
                                  "name: t\nseed: 99999999999999999999999\n"])
def test_hostile_yaml(text, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError):
        load_scenario(path)
