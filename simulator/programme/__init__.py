"""The programme view: technology per settlement, relay chains, rollout by year.

``programme(scenario)`` (``ruralsim programme``): see :mod:`simulator.programme.api`.
"""

from .api import ProgrammeResult, programme

__all__ = ["ProgrammeResult", "programme"]
