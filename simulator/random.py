"""Reproducible random streams: one scenario seed, one independent stream per component.

Streams are derived with :class:`numpy.random.SeedSequence` and a fixed spawn key per
component name, so adding a component, changing the tile size or the number of workers
never changes another component's numbers.
"""

from __future__ import annotations

import numpy as np

#: Fixed spawn keys. Append new components; never renumber existing ones.
COMPONENTS = {"population": 0, "terrain": 1, "sites": 2, "shadowing": 3, "adoption": 4,
              "candidates": 5, "clutter": 6}


def component_rng(seed: int, component: str, *extra_key: int) -> np.random.Generator:
    """The random generator of one component (and optionally one tile or realisation)."""
    if component not in COMPONENTS:
        raise KeyError(f"unknown random component {component!r}")
    ss = np.random.SeedSequence(entropy=int(seed),
                                spawn_key=(COMPONENTS[component], *map(int, extra_key)))
    return np.random.default_rng(ss)
