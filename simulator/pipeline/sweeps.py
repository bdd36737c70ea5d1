"""Scenario sweeps: one scenario per value of a parameter, or per named run.

A scenario's ``sweep:`` section (:class:`simulator.schema.SweepSpec`) expands into validated
scenarios (:func:`sweep_scenarios`); :func:`run_sweep` runs them one after the other or as
Dask tasks in parallel, each in memory or tiled (:func:`simulator.pipeline.resources.choose_mode`).
"""

from __future__ import annotations

import json
import uuid
from typing import Callable

from .distributed import run_tiled
from .resources import choose_mode
from ..errors import ScenarioError


def _label(value) -> str:
    import re

    text = json.dumps(value) if not isinstance(value, str) else value
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _set_path(data: dict, path: str, value, *, scenario, key: str) -> None:
    src = str(scenario.source_path) if scenario.source_path else None
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[:i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"'{where}' is not an item of the scenario (the list has "
                                    f"{len(node)} items, counted from 0)", file=src, key=key,
                                    value=path)
            part = int(part)
        elif isinstance(node, dict):
            if part not in node:
                raise ScenarioError(f"'{where}' is not a key of the scenario; see "
                                    "docs/scenario.md", file=src, key=key, value=path)
        else:
            raise ScenarioError(f"'{'.'.join(parts[:i])}' is not set in the scenario, so "
                                f"'{path}' cannot be swept", file=src, key=key, value=path)
        if last:
            node[part] = value
        else:
            node = node[part]


def sweep_scenarios(scenario) -> list:
    """The scenarios of a sweep (``scenario.sweep``), each validated, named
    ``<name>-<key>-<value>`` (or ``<name>-<run name>``). ScenarioError on a bad key/value."""
    from pydantic import ValidationError

    from ..schema import Scenario

    sw = scenario.sweep
    if sw is None:
        raise ValueError("the scenario has no sweep section")
    base = scenario.model_dump(mode="json", exclude={"sweep"})
    if sw.runs is not None:
        changes = [(r.name, [(k, v) for k, v in r.set.items()], f"sweep.runs.{i}.set")
                   for i, r in enumerate(sw.runs)]
    else:
        leaf = sw.parameter.split(".")[-1]
        changes = [(f"{leaf}-{_label(v)}", [(sw.parameter, v)], f"sweep.values.{i}")
                   for i, v in enumerate(sw.values)]
    out = []
    src = str(scenario.source_path) if scenario.source_path else None
    for label, sets, key in changes:
        import copy

        data = copy.deepcopy(base)
        for path, value in sets:
            _set_path(data, path, value, scenario=scenario,
                      key="sweep.parameter" if sw.runs is None else key)
        data["name"] = f"{scenario.name}-{label}"[:100]
        try:
            s = Scenario.model_validate(data)
        except ValidationError as err:
            e = err.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in e["loc"])
            raise ScenarioError(f"{label}: {loc}: {e['msg']}", file=src, key=key) from None
        s._source_path = scenario.source_path
        out.append(s)
    return out


def _sweep_member(scenario, mode: str) -> dict:
    """One run of a sweep (a Dask task or a loop step): its summary."""
    if mode == "tiled":
        return run_tiled(scenario).summary
    from .runner import run

    return run(scenario).summary


def run_sweep(scenario, *, client=None, mode: str = "auto", retries: int = 2,
              progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run every scenario of ``scenario.sweep`` and return their summaries (sweep order).

    With a Dask ``client`` the runs are tasks and execute in parallel (each run is serial
    inside its task); without one they run one after the other. ``mode`` is "auto",
    "memory" or "tiled" (:func:`choose_mode`, decided per run).
    """
    scenarios = sweep_scenarios(scenario)
    modes = [choose_mode(s, mode) for s in scenarios]
    if client is None:
        out = []
        for k, (s, m) in enumerate(zip(scenarios, modes)):
            out.append(_sweep_member(s, m))
            if progress is not None:
                progress(k + 1, len(scenarios))
        return out
    token = uuid.uuid4().hex[:8]
    futures = [client.submit(_sweep_member, s, m, key=f"ruralsim-sweep-{token}-{k}",
                             retries=retries, pure=False)
               for k, (s, m) in enumerate(zip(scenarios, modes))]
    from distributed import as_completed

    results: dict[int, dict] = {}
    try:
        for fut in as_completed(futures):
            k = futures.index(fut)
            try:
                results[k] = fut.result()
            except ScenarioError:
                raise
            except Exception as exc:
                raise ScenarioError(f"sweep run '{scenarios[k].name}' failed after {retries} "
                                    f"retries: {type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else ''}; no "
                                    "results were written") from None
            if progress is not None:
                progress(len(results), len(scenarios))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return [results[k] for k in range(len(scenarios))]
