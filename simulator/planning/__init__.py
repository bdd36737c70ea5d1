"""Choosing sites: candidate positions, the candidate x cell coverage matrix and the greedy
/ ILP selection. :func:`plan` runs it for a scenario (``ruralsim plan``)."""

from .planner import PlanResult, plan

__all__ = ["PlanResult", "plan"]
