"""Site selection on a candidate x cell coverage matrix: greedy, ILP and brute force.

Pure algorithms on arrays and sparse matrices (no I/O, no printing). The question they answer
is the planner's "with this budget, which sites should be built?": given

- ``A``: a boolean sparse matrix (``scipy.sparse``, candidates x cells), ``A[i, j]`` true when
  candidate site ``i`` covers cell ``j``;
- ``weights``: people (or expected connected people) per cell [people];
- ``costs``: cost per candidate [USD];
- ``already_covered``: cells covered by existing sites (no credit for new sites),

choose a set of candidates that maximises the people newly covered, counting each cell once
however many chosen sites cover it, subject to a cost budget (``budget_usd``) and/or a number
of sites (``max_sites``). This is the maximum coverage problem [1]_, known in location science
as the maximal covering location problem (MCLP) [2]_; with a cost budget it is the budgeted
maximum coverage problem [3]_. All three are NP-hard.

Three solvers share one result type, :class:`PlacementResult`:

- :func:`greedy_max_coverage`: lazy (accelerated) greedy [4]_, fast on region-sized problems
  and with a worst-case guarantee (see its docstring for which guarantee applies);
- :func:`ilp_max_coverage`: the MCLP as a mixed-integer programme solved by HiGHS through
  :func:`scipy.optimize.milp`, proven optimal or with a reported optimality gap;
- :func:`brute_force_max_coverage`: exhaustive enumeration, for tests on tiny instances.

References
----------
.. [1] Nemhauser, G. L., Wolsey, L. A. and Fisher, M. L. (1978). An analysis of approximations
   for maximizing submodular set functions - I. Mathematical Programming 14, 265-294.
.. [2] Church, R. and ReVelle, C. (1974). The maximal covering location problem. Papers of the
   Regional Science Association 32, 101-118.
.. [3] Khuller, S., Moss, A. and Naor, J. (1999). The budgeted maximum coverage problem.
   Information Processing Letters 70(1), 39-45.
.. [4] Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set
   functions. In Optimization Techniques, LNCIS 7, 234-243. Springer.
.. [5] Krause, A. and Guestrin, C. (2005). A note on the budgeted maximization of submodular
   functions. Technical report CMU-CALD-05-103, Carnegie Mellon University.
.. [6] Leskovec, J., Krause, A., Guestrin, C., Faloutsos, C., VanBriesen, J. and Glance, N.
   (2007). Cost-effective outbreak detection in networks. KDD '07, 420-429.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = [
    "PlacementResult",
    "greedy_max_coverage",
    "ilp_max_coverage",
    "brute_force_max_coverage",
    "aggregate_cells",
]

#: Approximation factor of the greedy algorithm under a cardinality budget [1].
GREEDY_CARDINALITY_FACTOR = 1.0 - 1.0 / math.e
#: Approximation factor of cost-benefit greedy + best single set under a cost budget [5].
GREEDY_BUDGET_FACTOR = 0.5 * (1.0 - 1.0 / math.e)

_BRUTE_FORCE_MAX_CANDIDATES = 20
#: A MIP is reported ``optimal`` when HiGHS proves a relative gap at most this.
_PROVEN_GAP = 1e-6


@dataclass(frozen=True)
class PlacementResult:
    """The sites chosen by a placement algorithm and the marginal curve.

    Attributes
    ----------
    chosen : ndarray of int64, shape (k,)
        Indices of the chosen candidates (rows of ``A``), in selection order. For the ILP and
        brute force, which return a set, the order is the greedy order within that set (each
        next site is the one adding most people), so the marginal curve is meaningful.
    people_covered : float
        People newly covered by the chosen sites: weights of cells covered by at least one
        chosen site and not ``already_covered``, each cell counted once [people].
    cost_usd : float
        Total cost of the chosen sites; NaN when no costs were given [USD].
    marginal_people : ndarray of float64, shape (k,)
        People added by each chosen site, given the sites before it [people].
    cumulative_people : ndarray of float64, shape (k,)
        Running sum of ``marginal_people``; its last value is ``people_covered`` [people].
    cumulative_cost_usd : ndarray of float64, shape (k,)
        Running sum of the chosen sites' costs; NaN when no costs were given [USD].
    method : str
        ``"greedy"`` (cardinality greedy), ``"greedy_ratio"`` (cost-benefit greedy),
        ``"greedy_ratio+best_single"`` (the best single site, filled up with cost-benefit
        greedy, won), ``"ilp"`` or ``"brute_force"``.
    optimal : bool
        True only when the selection is proven optimal (brute force; ILP with a proven gap of
        at most 1e-6). Greedy results are never marked optimal.
    gap : float
        Relative optimality gap ``(bound - people) / people`` reported by the MIP solver; 0.0
        for brute force; NaN for greedy (no bound is computed).
    status : str
        Human-readable status: the solver's message, why greedy stopped, the guarantee.
    guarantee : float
        Worst-case approximation factor that applies to this run (``people_covered >=
        guarantee * optimum``): 1 - 1/e for cardinality greedy, (1 - 1/e)/2 for budgeted
        greedy, 1.0 for proven optima, 0.0 when none is claimed.
    objective_bound : float
        Upper bound on the optimum people covered (MIP dual bound); equal to
        ``people_covered`` for brute force, NaN for greedy [people].
    time_limit_reached : bool
        True when the MIP solver stopped on its time limit.
    solve_time_s : float
        Wall-clock time spent in the algorithm [s].
    """

    chosen: np.ndarray
    people_covered: float
    cost_usd: float
    marginal_people: np.ndarray
    cumulative_people: np.ndarray
    cumulative_cost_usd: np.ndarray
    method: str
    optimal: bool
    gap: float
    status: str
    guarantee: float = 0.0
    objective_bound: float = float("nan")
    time_limit_reached: bool = False
    solve_time_s: float = float("nan")
    extra: dict = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        """Number of chosen sites."""
        return int(self.chosen.size)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    A: sp.csr_array  # bool, canonical (sorted, no duplicates, no explicit zeros)
    w_eff: np.ndarray  # weights with already-covered cells set to 0, float64
    costs: np.ndarray | None  # float64 (n_candidates,) or None
    budget_usd: float | None
    max_sites: int | None


def _as_coverage_matrix(A) -> sp.csr_array:
    if sp.issparse(A):
        M = sp.csr_array(A)
    else:
        arr = np.asarray(A)
        if arr.ndim != 2:
            raise ValueError(f"A must be 2-D (candidates x cells), got ndim={arr.ndim}")
        M = sp.csr_array(arr)
    if M.ndim != 2:
        raise ValueError(f"A must be 2-D (candidates x cells), got ndim={M.ndim}")
    if M.shape[0] == 0:
        raise ValueError("A has no candidates (0 rows); allowed: at least 1 candidate")
    if M.shape[1] == 0:
        raise ValueError("A has no cells (0 columns); allowed: at least 1 cell")
    M = M.copy()
    M.sum_duplicates()
    if M.dtype != np.bool_:
        data = M.data
        bad = ~((data == 0) | (data == 1))
        if np.any(bad):
            raise ValueError(
                f"A must be boolean (0/1 entries), found value {data[bad][0]!r}; "
                "allowed: True/False or 0/1 (after summing duplicate entries)"
            )
        M = M.astype(np.bool_)
    M.eliminate_zeros()
    M.sort_indices()
    return M


def _check_vector(name: str, values, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},) to match {what}")
    return arr


def _validate(A, weights, costs, budget_usd, max_sites, already_covered) -> _Problem:
    M = _as_coverage_matrix(A)
    n_cand, n_cells = M.shape

    w = _check_vector("weights", weights, n_cells, f"A's {n_cells} cells (columns)")
    if not np.issubdtype(w.dtype, np.number) or np.issubdtype(w.dtype, np.complexfloating):
        raise ValueError(f"weights must be real numbers, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ValueError(f"weights[{i}]={w[i]} is not finite; allowed: finite values >= 0")
    if np.any(w < 0):
        i = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"weights[{i}]={w[i]} is negative; allowed: >= 0 people")

    if already_covered is not None:
        cov = _check_vector("already_covered", already_covered, n_cells,
                            f"A's {n_cells} cells (columns)")
        if cov.dtype != np.bool_:
            raise ValueError(f"already_covered must be a boolean mask, got dtype {cov.dtype}")
        w = np.where(cov, 0.0, w)

    c = None
    if costs is not None:
        c = _check_vector("costs", costs, n_cand, f"A's {n_cand} candidates (rows)")
        if not np.issubdtype(c.dtype, np.number) or np.issubdtype(c.dtype, np.complexfloating):
            raise ValueError(f"costs must be real numbers, got dtype {c.dtype}")
        c = c.astype(np.float64)
        bad = ~np.isfinite(c) | (c <= 0)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"costs[{i}]={c[i]} is invalid; allowed: finite and > 0 USD")

    if budget_usd is not None:
        if c is None:
            raise ValueError("budget_usd is given but costs is None; pass costs [USD]")
        b = float(budget_usd)
        if not math.isfinite(b) or b <= 0:
            raise ValueError(f"budget_usd={budget_usd} is invalid; allowed: finite and > 0 USD")
        cheapest = float(c.min())
        if b < cheapest:
            raise ValueError(
                f"budget_usd={b} is below the cheapest candidate cost {cheapest}; "
                f"allowed: >= {cheapest} USD"
            )
        budget_usd = b

    if max_sites is not None:
        if isinstance(max_sites, (bool, np.bool_)) or not isinstance(
            max_sites, (int, np.integer)
        ):
            raise ValueError(f"max_sites={max_sites!r} must be an integer >= 1")
        if max_sites < 1:
            raise ValueError(f"max_sites={max_sites} is invalid; allowed: integer >= 1")
        max_sites = int(max_sites)

    return _Problem(A=M, w_eff=w, costs=c, budget_usd=budget_usd, max_sites=max_sites)


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _row_cells(A: sp.csr_array, i: int) -> np.ndarray:
    return A.indices[A.indptr[i]:A.indptr[i + 1]]


def _marginal_curve(prob: _Problem, chosen) -> tuple[np.ndarray, np.ndarray]:
    """Marginal people of each site of ``chosen`` in the given order, and the residual weights."""
    w = prob.w_eff.copy()
    gains = np.empty(len(chosen), dtype=np.float64)
    for k, i in enumerate(chosen):
        cells = _row_cells(prob.A, int(i))
        gains[k] = w[cells].sum()
        w[cells] = 0.0
    return gains, w


def _greedy_order(prob: _Problem, chosen_set) -> np.ndarray:
    """Order a set of sites greedily (largest marginal gain first, lowest index on ties)."""
    remaining = sorted(int(i) for i in chosen_set)
    w = prob.w_eff.copy()
    order = []
    while remaining:
        gains = [w[_row_cells(prob.A, i)].sum() for i in remaining]
        k = int(np.argmax(gains))
        i = remaining.pop(k)
        w[_row_cells(prob.A, i)] = 0.0
        order.append(i)
    return np.asarray(order, dtype=np.int64)


def _make_result(prob: _Problem, chosen, *, method: str, optimal: bool, gap: float,
                 status: str, guarantee: float, objective_bound: float = float("nan"),
                 time_limit_reached: bool = False, solve_time_s: float = float("nan"),
                 extra: dict | None = None) -> PlacementResult:
    chosen = np.asarray(chosen, dtype=np.int64)
    marginal, _ = _marginal_curve(prob, chosen)
    cumulative = np.cumsum(marginal)
    if prob.costs is None:
        cum_cost = np.full(chosen.size, np.nan)
        cost = float("nan")
    else:
        cum_cost = np.cumsum(prob.costs[chosen])
        cost = float(cum_cost[-1]) if chosen.size else 0.0
    people = float(cumulative[-1]) if chosen.size else 0.0
    return PlacementResult(
        chosen=chosen, people_covered=people, cost_usd=cost, marginal_people=marginal,
        cumulative_people=cumulative, cumulative_cost_usd=cum_cost, method=method,
        optimal=optimal, gap=gap, status=status, guarantee=guarantee,
        objective_bound=objective_bound, time_limit_reached=time_limit_reached,
        solve_time_s=solve_time_s, extra=extra or {},
    )


# --------------------------------------------------------------------------------------------
# Greedy
# --------------------------------------------------------------------------------------------


def _lazy_greedy(prob: _Problem, *, use_ratio: bool, min_people: float,
                 seed: int | None = None) -> tuple[list[int], str]:
    """Lazy greedy (Minoux 1978) on the residual weights.

    Keys are marginal gains (``use_ratio=False``) or gain / cost. A heap holds upper bounds
    (gains computed in an earlier round; by submodularity gains only shrink). The top entry is
    re-evaluated; if it was computed in the current round it is the true maximum and is taken.
    Ties go to the lowest candidate index, as in plain greedy. Candidates that no longer fit
    the remaining budget, or whose gain fell below ``min_people`` (or to 0), are dropped for
    good: the remaining budget and the gains only decrease.
    """
    A, costs = prob.A, prob.costs
    w = prob.w_eff.copy()
    spent = 0.0
    chosen: list[int] = []

    def take(i: int) -> None:
        nonlocal spent
        w[_row_cells(A, i)] = 0.0
        chosen.append(i)
        if costs is not None:
            spent += costs[i]

    if seed is not None:
        take(seed)

    gains = np.asarray(A @ w, dtype=np.float64)  # all initial marginal gains, one mat-vec
    keys = gains / costs if use_ratio else gains
    heap = [(-float(keys[i]), i, len(chosen), float(gains[i]))
            for i in range(A.shape[0]) if i not in chosen]
    heapq.heapify(heap)
    reason = "no affordable candidate adds people" if prob.budget_usd else \
        "no candidate adds people"
    while heap:
        if prob.max_sites is not None and len(chosen) >= prob.max_sites:
            reason = f"max_sites={prob.max_sites} reached"
            break
        _, i, stamp, g = heapq.heappop(heap)
        if prob.budget_usd is not None and spent + costs[i] > prob.budget_usd * (1 + 1e-12):
            continue  # never affordable again: the remaining budget only shrinks
        if stamp != len(chosen):  # stale upper bound: re-evaluate
            g = float(w[_row_cells(A, i)].sum())
        if g <= 0.0 or g < min_people:
            continue  # gains never grow again (submodularity)
        if stamp == len(chosen):  # fresh: the true maximum of this round
            take(i)
        else:
            heapq.heappush(heap, (-(g / costs[i] if use_ratio else g), i, len(chosen), g))
    if min_people > 0 and reason.startswith("no"):
        reason += f" >= min_people_per_site={min_people}"
    return chosen, reason


def greedy_max_coverage(A, weights, costs=None, *, budget_usd=None, max_sites=None,
                        already_covered=None, min_people_per_site=0.0) -> PlacementResult:
    r"""Choose sites greedily to maximise people newly covered (lazy greedy).

    Each step takes the candidate with the largest marginal gain (people covered that no
    chosen site and no existing site covers yet), or with a cost budget the largest gain per
    dollar. Marginal gains are kept in a priority queue as upper bounds and re-evaluated only
    at the top (Minoux's accelerated greedy [4]): the selection is identical to plain greedy
    (ties to the lowest index), usually with a few re-evaluations per step instead of one per
    candidate.

    Guarantees (coverage is monotone submodular, so they apply with ``min_people_per_site=0``):

    - ``max_sites`` only (no ``budget_usd``): plain gain greedy, at least
      :math:`(1 - 1/e) \approx 0.632` of the optimum [1] (Nemhauser-Wolsey-Fisher).
    - ``budget_usd`` only: cost-benefit greedy (largest gain / cost among the candidates that
      still fit; candidates that do not fit are skipped, not stopped at), compared with the
      best single affordable site; the better is kept (Khuller-Moss-Naor [3]). Ratio greedy
      alone can be arbitrarily bad (a cheap small site blocks a big one). The combination
      achieves at least :math:`\frac{1}{2}(1 - 1/e) \approx 0.316` of the optimum [5], [6]
      (KMN state :math:`1 - 1/\sqrt{e}`; the (1 - 1/e) factor needs their partial
      enumeration of all triples, O(n^3) evaluations, not done here). When the best single
      site wins, it is filled up with cost-benefit greedy from the remaining budget, which
      only adds people (``method="greedy_ratio+best_single"``).
    - both: cost-benefit greedy + best single under both limits; feasible, but no guarantee is
      claimed (``guarantee=0``).
    - neither: greedy until no candidate adds people (or ``min_people_per_site``); the whole
      marginal curve. No guarantee is needed (every coverable person is covered when
      ``min_people_per_site=0``); ``guarantee=1`` then.

    Parameters
    ----------
    A : scipy.sparse matrix or array, or 2-D ndarray, shape (n_candidates, n_cells)
        Coverage: nonzero when candidate ``i`` covers cell ``j``. Boolean or 0/1 entries;
        duplicates are summed first. CSR is used as is; other formats are converted.
    weights : array_like, shape (n_cells,)
        People (or expected connected people) per cell, finite and >= 0 [people].
    costs : array_like, shape (n_candidates,), optional
        Cost per candidate, finite and > 0 [USD]. Required with ``budget_usd``; without it the
        cost fields of the result are NaN.
    budget_usd : float, optional
        Total cost limit, >= the cheapest candidate [USD].
    max_sites : int, optional
        Limit on the number of sites, >= 1.
    already_covered : array_like of bool, shape (n_cells,), optional
        Cells covered by existing sites: their people are not credited to new sites.
    min_people_per_site : float, optional
        Skip candidates whose marginal gain is below this (it can only shrink), so the curve
        stops at sites too small to be worth building. Default 0 [people]. A positive value
        voids the guarantee above.

    Returns
    -------
    PlacementResult
        ``chosen`` in selection order with its marginal curve. ``gap`` and
        ``objective_bound`` are NaN (greedy proves no bound); ``guarantee`` states the factor.

    Raises
    ------
    ValueError
        Shape mismatches, no candidates, negative or non-finite weights, costs <= 0, a budget
        below the cheapest candidate, ``max_sites`` < 1, ``min_people_per_site`` < 0.
    """
    t0 = time.perf_counter()
    prob = _validate(A, weights, costs, budget_usd, max_sites, already_covered)
    min_people = float(min_people_per_site)
    if not math.isfinite(min_people) or min_people < 0:
        raise ValueError(f"min_people_per_site={min_people_per_site} is invalid; "
                         "allowed: finite and >= 0 people")

    if prob.budget_usd is None:
        chosen, reason = _lazy_greedy(prob, use_ratio=False, min_people=min_people)
        method = "greedy"
        if prob.max_sites is not None:
            guarantee = GREEDY_CARDINALITY_FACTOR
            note = "cardinality greedy: >= (1-1/e) of optimum [Nemhauser et al. 1978]"
        else:
            guarantee = 1.0
            note = "no budget: greedy until no candidate adds people"
    else:
        chosen, reason = _lazy_greedy(prob, use_ratio=True, min_people=min_people)
        method = "greedy_ratio"
        value = _marginal_curve(prob, chosen)[0].sum()
        # best single affordable candidate (its gain against existing coverage only)
        single_gain = np.asarray(prob.A @ prob.w_eff, dtype=np.float64)
        single_gain[prob.costs > prob.budget_usd * (1 + 1e-12)] = -np.inf
        best = int(np.argmax(single_gain))
        if single_gain[best] > value and single_gain[best] >= min_people:
            chosen, reason = _lazy_greedy(prob, use_ratio=True, min_people=min_people,
                                          seed=best)
            method = "greedy_ratio+best_single"
        if prob.max_sites is None:
            guarantee = GREEDY_BUDGET_FACTOR
            note = ("budgeted greedy (cost-benefit + best single site): >= (1-1/e)/2 of optimum "
                    "[Khuller et al. 1999; Krause & Guestrin 2005]")
        else:
            guarantee = 0.0
            note = "cost and site budgets together: no approximation guarantee claimed"
    if min_people > 0:
        guarantee = 0.0
        note += "; min_people_per_site > 0 voids the guarantee"
    return _make_result(prob, chosen, method=method, optimal=False, gap=float("nan"),
                        status=f"stopped: {reason}; {note}", guarantee=guarantee,
                        solve_time_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# ILP
# --------------------------------------------------------------------------------------------


def aggregate_cells(A, weights) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Merge cells covered by exactly the same set of candidates.

    In the MCLP only the set of candidates covering a cell matters, so cells with identical
    columns of ``A`` can be one variable whose weight is the sum of theirs. Around a few
    hundred sites, the ~10^5-10^6 cells of a district collapse to the faces of the
    arrangement of coverage footprints, typically 10-100 times fewer. Cells with zero weight
    or covered by no candidate are dropped (they cannot change the objective).

    Parameters
    ----------
    A : scipy.sparse.csr_array of bool, shape (n_candidates, n_cells)
        Canonical coverage matrix (sorted indices, no duplicates, no explicit zeros).
    weights : ndarray of float64, shape (n_cells,)
        Weight per cell, >= 0 [people].

    Returns
    -------
    B : scipy.sparse.csr_array of bool, shape (n_candidates, n_groups)
        Coverage of each group of identical cells.
    group_weights : ndarray of float64, shape (n_groups,)
        Summed weight of each group [people].
    cell_group : ndarray of int64, shape (n_cells,)
        Group of each cell, -1 for dropped cells.

    Notes
    -----
    Exact: columns are bucketed by their number of covering candidates and each bucket's
    sorted index lists are deduplicated with ``numpy.unique(axis=0)``; no hashing.
    """
    n_cand, n_cells = A.shape
    C = sp.csc_array(A)
    C.sort_indices()
    degree = np.diff(C.indptr)
    keep = (degree > 0) & (weights > 0)
    cell_group = np.full(n_cells, -1, dtype=np.int64)
    rows_parts, cols_parts = [], []
    n_groups = 0
    for d in np.unique(degree[keep]):
        cols = np.flatnonzero(keep & (degree == d))
        pos = C.indptr[cols][:, None] + np.arange(d)[None, :]
        sigs = C.indices[pos]  # (n_cols, d) sorted candidate indices of each cell
        uniq, inverse = np.unique(sigs, axis=0, return_inverse=True)
        cell_group[cols] = n_groups + inverse.reshape(-1)
        rows_parts.append(uniq.reshape(-1))
        cols_parts.append(np.repeat(n_groups + np.arange(uniq.shape[0]), d))
        n_groups += uniq.shape[0]
    group_weights = np.bincount(cell_group[keep], weights=weights[keep], minlength=n_groups)
    rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_parts) if cols_parts else np.zeros(0, dtype=np.int64)
    B = sp.csr_array((np.ones(rows.size, dtype=np.bool_), (rows, cols)),
                     shape=(n_cand, n_groups))
    B.sort_indices()
    return B, group_weights, cell_group


def _dedupe_candidates(B: sp.csr_array, costs: np.ndarray) -> np.ndarray:
    """Indices of the candidates worth keeping: nonempty coverage, cheapest of identical rows.

    Replacing a candidate by the cheapest one with identical coverage keeps every solution
    feasible and its objective unchanged, so dropping the others is exact; it removes
    symmetric solutions that slow branch and bound.
    """
    deg = np.diff(B.indptr)
    keep = []
    for d in np.unique(deg[deg > 0]):
        rows = np.flatnonzero(deg == d)
        pos = B.indptr[rows][:, None] + np.arange(d)[None, :]
        _, inverse = np.unique(B.indices[pos], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.lexsort((rows, costs[rows], inverse))  # by group, then cost, then index
        first = np.ones(order.size, dtype=bool)
        first[1:] = inverse[order][1:] != inverse[order][:-1]
        keep.append(rows[order[first]])
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)


def ilp_max_coverage(A, weights, costs=None, *, budget_usd=None, max_sites=None,
                     already_covered=None, time_limit_s=60.0, mip_rel_gap=0.0,
                     greedy_fallback=True) -> PlacementResult:
    r"""Maximal covering location problem solved exactly by HiGHS (``scipy.optimize.milp``).

    Formulation (Church & ReVelle 1974 [2]), with binary :math:`x_i` (site ``i`` built) and
    :math:`y_g \in [0, 1]` (group of cells ``g`` covered):

    .. math::

        \max \sum_g W_g y_g \quad \text{s.t.} \quad
        y_g \le \sum_{i \,\text{covers}\, g} x_i, \quad
        \sum_i c_i x_i \le \text{budget}, \quad \sum_i x_i \le K, \quad x_i \in \{0, 1\}.

    :math:`y` is continuous: for integral :math:`x` the optimum has
    :math:`y_g = \min(1, \sum x_i) \in \{0, 1\}` since :math:`W_g \ge 0`. Constraints are
    built as sparse matrices.

    Problem reduction before solving (all exact):

    - cells already covered, of zero weight or covered by no candidate are dropped;
    - cells covered by the same set of candidates are merged into one variable with the summed
      weight (:func:`aggregate_cells`): a district's 10^5-10^6 cells become the faces of the
      arrangement of footprints, often 10-100x fewer variables and rows;
    - candidates that cover nothing, cost more than the budget, or duplicate a cheaper
      candidate's coverage exactly are fixed to 0 (removes symmetry).

    Warm start: scipy's ``milp`` accepts no initial solution, so the greedy solution cannot be
    passed to HiGHS as an incumbent; HiGHS finds its own by presolve and heuristics. On large
    instances stopped by the time limit that incumbent can be far worse than greedy (seen on
    2,000 candidates: HiGHS's incumbent at 53% of greedy's people after 60 s). Hence
    ``greedy_fallback``: when the solver stops without proving optimality, greedy is run too
    and the better of the two selections is returned, with the gap against the MIP bound.

    Parameters
    ----------
    A, weights, costs, budget_usd, max_sites, already_covered
        As for :func:`greedy_max_coverage`. At least one of ``budget_usd`` and ``max_sites``
        is required (without a limit the optimum is trivially "build everything").
    time_limit_s : float, optional
        Solver time limit, > 0. Default 60 [s]. When hit, the best solution found is returned
        with ``time_limit_reached=True`` and the gap reported by HiGHS.
    mip_rel_gap : float, optional
        Relative gap at which HiGHS stops, in [0, 1). Default 0 (prove optimality, up to
        HiGHS's absolute gap tolerance 1e-6).
    greedy_fallback : bool, optional
        When HiGHS stops without a proven optimum (time limit), also run
        :func:`greedy_max_coverage` and return its selection if it covers more people
        (``method="ilp+greedy_incumbent"``, ``gap`` recomputed from the MIP bound). Default
        True.

    Returns
    -------
    PlacementResult
        ``method="ilp"``; ``chosen`` ordered greedily within the optimal set; ``status`` holds
        the HiGHS message; ``gap`` is HiGHS's ``mip_gap``, ``(bound - people) / people`` with
        the bound from ``mip_dual_bound``; ``optimal`` when the proven gap is <= 1e-6.
        ``extra`` records the problem size before and after reduction. ``time_limit_s``
        limits the solver only, not the reduction before it.

    Raises
    ------
    ValueError
        As for :func:`greedy_max_coverage`; also neither budget given, ``time_limit_s`` <= 0,
        ``mip_rel_gap`` outside [0, 1).
    """
    t0 = time.perf_counter()
    prob = _validate(A, weights, costs, budget_usd, max_sites, already_covered)
    if prob.budget_usd is None and prob.max_sites is None:
        raise ValueError("ilp_max_coverage needs budget_usd or max_sites; got neither")
    tl = float(time_limit_s)
    if not (tl > 0 and math.isfinite(tl)):
        raise ValueError(f"time_limit_s={time_limit_s} is invalid; allowed: finite and > 0 s")
    gap_opt = float(mip_rel_gap)
    if not 0.0 <= gap_opt < 1.0:
        raise ValueError(f"mip_rel_gap={mip_rel_gap} is invalid; allowed: 0 <= gap < 1")

    n_cand, n_cells = prob.A.shape
    B, W, _ = aggregate_cells(prob.A, prob.w_eff)
    dedupe_costs = prob.costs if prob.costs is not None else np.ones(n_cand)
    cand = _dedupe_candidates(B, dedupe_costs)
    if prob.budget_usd is not None:
        cand = cand[prob.costs[cand] <= prob.budget_usd * (1 + 1e-12)]
    extra = {"n_candidates": n_cand, "n_cells": n_cells, "n_candidates_reduced": int(cand.size),
             "n_cell_groups": int(W.size)}

    if cand.size == 0 or W.size == 0:
        return _make_result(prob, [], method="ilp", optimal=True, gap=0.0,
                            status="trivial: no candidate can add people", guarantee=1.0,
                            objective_bound=0.0, solve_time_s=time.perf_counter() - t0,
                            extra=extra)

    Bc = B[cand]  # (n_x, n_y)
    n_x, n_y = Bc.shape
    # rows: y_g - sum_i B[i, g] x_i <= 0   ->   [-B^T | I] [x; y] <= 0
    cover = sp.hstack([-sp.csr_array(Bc.T.astype(np.float64)),
                       sp.identity(n_y, format="csr")], format="csr")
    constraints = [LinearConstraint(cover, -np.inf, 0.0)]
    if prob.budget_usd is not None:
        row = sp.csr_array(np.concatenate([prob.costs[cand], np.zeros(n_y)])[None, :])
        constraints.append(LinearConstraint(row, -np.inf, prob.budget_usd))
    if prob.max_sites is not None and prob.max_sites < n_x:
        row = sp.csr_array(np.concatenate([np.ones(n_x), np.zeros(n_y)])[None, :])
        constraints.append(LinearConstraint(row, -np.inf, prob.max_sites))
    c = np.concatenate([np.zeros(n_x), -W])
    integrality = np.concatenate([np.ones(n_x), np.zeros(n_y)])
    options = {"time_limit": tl, "mip_rel_gap": gap_opt, "disp": False}
    res = milp(c, integrality=integrality, bounds=Bounds(0.0, 1.0),
               constraints=constraints, options=options)

    time_hit = res.status == 1
    status = f"HiGHS status {res.status}: {res.message}"
    bound = -float(res.mip_dual_bound) if res.mip_dual_bound is not None else float("inf")
    extra["mip_node_count"] = res.get("mip_node_count")
    if res.x is not None:
        extra["objective_ilp"] = -float(res.fun)
        order = _greedy_order(prob, cand[res.x[:n_x] > 0.5])
        mip_gap = float(res.mip_gap) if res.mip_gap is not None else float("nan")
        optimal = res.status == 0 and mip_gap <= _PROVEN_GAP
    else:
        order, mip_gap, optimal = np.zeros(0, dtype=np.int64), float("inf"), False
        status += " (no solution)"
    method = "ilp"
    if greedy_fallback and not optimal:
        g = greedy_max_coverage(prob.A, prob.w_eff, prob.costs, budget_usd=prob.budget_usd,
                                max_sites=prob.max_sites)
        ilp_people = _marginal_curve(prob, order)[0].sum()
        extra["people_greedy"] = g.people_covered
        if g.people_covered > ilp_people:
            order, method = g.chosen, "ilp+greedy_incumbent"
            mip_gap = ((bound - g.people_covered) / g.people_covered
                       if g.people_covered > 0 else float("inf"))
            status += "; greedy selection better than the solver's incumbent, returned"
    return _make_result(prob, order, method=method, optimal=bool(optimal), gap=mip_gap,
                        status=status, guarantee=1.0 if optimal else 0.0,
                        objective_bound=bound, time_limit_reached=bool(time_hit),
                        solve_time_s=time.perf_counter() - t0, extra=extra)


# --------------------------------------------------------------------------------------------
# Brute force
# --------------------------------------------------------------------------------------------


def brute_force_max_coverage(A, weights, costs=None, *, budget_usd=None, max_sites=None,
                             already_covered=None) -> PlacementResult:
    """Exact optimum by enumerating every feasible subset (tiny instances, tests).

    Enumerates subsets of up to ``max_sites`` candidates (all sizes without it) and keeps
    those within ``budget_usd``. Ties in people go to the lower cost, then the
    lexicographically smallest index set. At most 20 candidates.

    Parameters
    ----------
    A, weights, costs, budget_usd, max_sites, already_covered
        As for :func:`ilp_max_coverage`.

    Returns
    -------
    PlacementResult
        ``method="brute_force"``, ``optimal=True``, ``gap=0``; ``chosen`` ordered greedily.

    Raises
    ------
    ValueError
        As for :func:`greedy_max_coverage`; also more than 20 candidates.
    """
    t0 = time.perf_counter()
    prob = _validate(A, weights, costs, budget_usd, max_sites, already_covered)
    n_cand = prob.A.shape[0]
    if n_cand > _BRUTE_FORCE_MAX_CANDIDATES:
        raise ValueError(f"A has {n_cand} candidates; brute force allows at most "
                         f"{_BRUTE_FORCE_MAX_CANDIDATES}")
    dense = prob.A.toarray()
    cost = prob.costs if prob.costs is not None else np.zeros(n_cand)
    k_max = n_cand if prob.max_sites is None else min(prob.max_sites, n_cand)
    best_key, best = (0.0, 0.0), ()
    for k in range(1, k_max + 1):
        for subset in itertools.combinations(range(n_cand), k):
            s_cost = float(cost[list(subset)].sum())
            if prob.budget_usd is not None and s_cost > prob.budget_usd * (1 + 1e-12):
                continue
            people = float(prob.w_eff[dense[list(subset)].any(axis=0)].sum())
            key = (people, -s_cost)
            if key > best_key:
                best_key, best = key, subset
    return _make_result(prob, _greedy_order(prob, best), method="brute_force", optimal=True,
                        gap=0.0, status="exhaustive enumeration", guarantee=1.0,
                        objective_bound=best_key[0], solve_time_s=time.perf_counter() - t0)
