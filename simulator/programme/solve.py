"""Least-cost technology mix of a coverage programme: ILP (HiGHS) with a greedy fallback.

Pure algorithms on arrays and sparse matrices (no I/O, no printing). A national programme
considers per settlement several technology *options* (a RuralStar-class pole, a macro site, a
small cell, a satellite community hotspot, ...); option ``i`` covers the cells ``A[i]`` (a cell
site: the engine's candidate x cell matrix, :mod:`simulator.planning.coverage_matrix`; a
hotspot: its own village's cells) at a cost ``costs[i]``. Options sharing a ``groups`` value
are mutually exclusive (one technology per location). Two questions:

- **target**: the least-cost set of options covering at least ``target_people`` people;
- **budget**: the set of options covering the most people for at most ``budget_usd``.

People are counted once per cell however many chosen options cover it. Cells of the existing
network (``already_covered``) count towards the target but no option is credited for them.
The target problem is a partial set cover with partition (one-per-group) constraints, the
budget problem a budgeted maximum coverage problem [1]_ [2]_; both are NP-hard.

:func:`least_cost_mix` solves either by the mixed-integer programme below with HiGHS
(:func:`scipy.optimize.milp`), proven optimal or with the gap reported, and always runs the
greedy in the same call: the greedy answer is reported beside the ILP's, returned when HiGHS
finds no solution in the time, and returned when it is better than the solver's incumbent (so
the ILP answer is never worse than greedy's). :func:`cost_curve` traces people against cost
for a list of target shares, for the mix and for each single-technology plan.

References
----------
.. [1] Church, R. and ReVelle, C. (1974). The maximal covering location problem. Papers of the
   Regional Science Association 32, 101-118.
.. [2] Khuller, S., Moss, A. and Naor, J. (1999). The budgeted maximum coverage problem.
   Information Processing Letters 70(1), 39-45.
.. [3] Slavik, P. (1997). Improved performance of the greedy algorithm for partial cover.
   Information Processing Letters 64(5), 251-254.
.. [4] Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set
   functions. In Optimization Techniques, LNCIS 7, 234-243. Springer.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .._checks import check_range
from ..planning.optimise import _as_coverage_matrix, _check_vector, aggregate_cells

__all__ = ["DEFAULT_SHARES", "MixResult", "cost_curve", "least_cost_mix", "reachable_people"]

#: Target shares of the reachable people traced by :func:`cost_curve` by default.
DEFAULT_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Relative tolerance on people sums (a target is met when short by at most this share).
_REL_TOL = 1e-9
_METHODS = ("ilp", "greedy")


@dataclass(frozen=True)
class MixResult:
    """The options chosen by :func:`least_cost_mix`.

    Attributes
    ----------
    chosen : ndarray of int64, shape (k,)
        Indices of the chosen options (rows of ``A``), sorted.
    cost_usd : float
        Total cost of the chosen options [USD].
    people : float
        People newly covered by the chosen options: weights of the cells covered by at least
        one chosen option and not ``already_covered``, each cell once [people].
    people_total : float
        ``already_people + people``: everyone covered after the programme [people].
    already_people : float
        People in ``already_covered`` cells [people].
    reachable_people : float
        Most people the options can cover together with the existing network: the union of
        all options' cells when it is reachable with one option per group (always so without
        groups, or when each group has an option covering all its members' cells); otherwise
        an upper bound (``extra["reachable_exact"]`` False) [people].
    target_people, budget_usd : float or None
        The request: people to cover in total (existing network included) [people], or the
        spending limit [USD]; the other is None.
    method : str
        ``"ilp"`` when the returned options are the solver's, ``"greedy"`` otherwise.
    optimal : bool
        True when HiGHS proved the returned selection optimal within ``mip_rel_gap`` (status
        0), or the answer is trivial (target met by the existing network, nothing
        affordable). Greedy answers are never marked optimal.
    mip_gap : float
        Relative gap ``|objective - bound| / |objective|`` of the returned selection against
        the solver's dual bound (HiGHS's ``mip_gap`` when its own selection is returned);
        inf when the objective is 0 but the bound is not; NaN without a bound (greedy).
    objective_bound : float
        The solver's dual bound: a lower bound on the least cost [USD] (target) or an upper
        bound on the most new people [people] (budget); NaN without the ILP.
    status : str
        Human-readable account: the HiGHS message, greedy's stop reason, repairs made.
    time_s : float
        Wall-clock time of the whole call, reduction, greedy and solver included [s].
    fallback : str
        ``""`` when the ILP's selection is returned (or ``method="greedy"`` was asked);
        otherwise why greedy's was returned (no solution in the time limit, solver failure,
        greedy better than the solver's incumbent).
    greedy_cost_usd, greedy_people : float
        Cost [USD] and new people [people] of the greedy selection computed in the same call.
    extra : dict
        Problem sizes before and after reduction, solver node count, timings.
    """

    chosen: np.ndarray
    cost_usd: float
    people: float
    people_total: float
    already_people: float
    reachable_people: float
    target_people: float | None
    budget_usd: float | None
    method: str
    optimal: bool
    mip_gap: float
    objective_bound: float
    status: str
    time_s: float
    fallback: str
    greedy_cost_usd: float
    greedy_people: float
    extra: dict = field(default_factory=dict)

    @property
    def n_options(self) -> int:
        """Number of chosen options."""
        return int(self.chosen.size)


# --------------------------------------------------------------------------------------------
# Validation and exact reduction
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mix:
    """A validated problem and its exact reduction (local option indices 0..n_x-1)."""

    A: sp.csr_array  # canonical bool, all options x all cells
    w: np.ndarray  # weights, already-covered cells set to 0
    costs: np.ndarray  # all options
    already_people: float
    opt: np.ndarray  # original index of each kept option
    B: sp.csr_array  # kept options x aggregated cell groups (bool)
    W: np.ndarray  # weight of each cell group
    c: np.ndarray  # cost of each kept option
    grp: np.ndarray  # group code (0..n_groups-1) of each kept option
    n_groups: int
    upper_people: float  # new people of the union of all options
    nested: bool  # union reachable with one option per group
    extra: dict


def _validate(A, weights, costs, groups, already_covered):
    M = _as_coverage_matrix(A)
    n_opt, n_cells = M.shape
    w = _check_vector("weights", weights, n_cells, f"A's {n_cells} cells (columns)")
    w = check_range("weights", w, lo=0.0, unit="people", finite=True)
    c = _check_vector("costs", costs, n_opt, f"A's {n_opt} options (rows)")
    c = check_range("costs", c, lo=0.0, unit="USD", finite=True)
    if groups is None:
        g = np.arange(n_opt, dtype=np.int64)
    else:
        g = _check_vector("groups", groups, n_opt, f"A's {n_opt} options (rows)")
        if not np.issubdtype(g.dtype, np.integer):
            raise ValueError(f"groups must be integers (one per option), got dtype {g.dtype}")
        g = np.unique(g, return_inverse=True)[1].reshape(-1).astype(np.int64)
    already = 0.0
    if already_covered is not None:
        cov = _check_vector("already_covered", already_covered, n_cells,
                            f"A's {n_cells} cells (columns)")
        if cov.dtype != np.bool_:
            raise ValueError(f"already_covered must be a boolean mask, got dtype {cov.dtype}")
        already = float(w[cov].sum())
        w = np.where(cov, 0.0, w)
    return M, w, c, g, already


def _row_signatures(B: sp.csr_array, rows: np.ndarray) -> np.ndarray:
    """Class id per row of ``rows``; rows with equal ids have equal index sets.

    Rows are bucketed by (degree, two random-weight sums over their sorted indices: equal
    rows give bit-equal sums); rows sharing a bucket are compared index by index against the
    bucket's first row, and a row that differs (a hash collision) gets a class of its own, so
    unequal rows never share an id. (Two equal rows may in principle stay apart after a
    collision; that only forgoes a reduction.)
    """
    rng = np.random.default_rng(12345)
    deg_all = np.diff(B.indptr)
    nonempty = np.flatnonzero(deg_all > 0)
    h = np.zeros((2, B.shape[0]))
    for k in range(2):
        vals = rng.random(B.shape[1])[B.indices]
        if nonempty.size:  # consecutive nonempty starts: each segment is exactly one row
            h[k, nonempty] = np.add.reduceat(vals, B.indptr[nonempty])
    deg, h0, h1 = deg_all[rows], h[0, rows], h[1, rows]
    order = np.lexsort((h1, h0, deg))
    same = np.r_[False, (deg[order][1:] == deg[order][:-1]) & (h0[order][1:] == h0[order][:-1])
                 & (h1[order][1:] == h1[order][:-1])]
    cls_sorted = np.cumsum(~same) - 1
    n_cls = int(cls_sorted[-1]) + 1 if rows.size else 0
    head = 0
    for p in range(rows.size):
        if not same[p]:
            head = p
            continue
        a, b = rows[order[head]], rows[order[p]]
        if not np.array_equal(B.indices[B.indptr[a]:B.indptr[a + 1]],
                              B.indices[B.indptr[b]:B.indptr[b + 1]]):
            cls_sorted[p] = n_cls
            n_cls += 1
    cls = np.empty(rows.size, dtype=np.int64)
    cls[order] = cls_sorted
    return cls


def _dominated(B: sp.csr_array, c: np.ndarray, g: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Mask of live options that an exact argument lets us drop.

    Option ``j`` is dominated by ``i`` when ``cover(j)`` is a subset of ``cover(i)`` and
    ``c_i <= c_j`` (ties: strictly larger cover, then lower index), and either both are in
    the same group or ``i`` is alone in its group. Replacing ``j`` by ``i`` in any solution
    keeps it feasible (the group counts do not grow) and its people, at no higher cost, so
    some optimal solution avoids every dominated option. The relation is a strict partial
    order, so all dominated options can go at once. Subsets are tested within groups; across
    groups only identical covers (a singleton group's option against any other).
    """
    drop = np.zeros(B.shape[0], dtype=bool)
    deg = np.diff(B.indptr)
    idx = np.flatnonzero(live)
    # 1. within groups: all ordered pairs of live options of a group
    order = idx[np.argsort(g[idx], kind="stable")]
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    sizes = np.diff(np.r_[starts, gs.size])
    k = np.repeat(sizes, sizes)  # group size at each position of `order`
    if np.any(sizes > 1):
        first = np.repeat(starts, sizes)
        n_pairs = int(k.sum())  # sum over groups of size^2
        J = np.repeat(order, k)  # the candidate dominated option
        off = np.arange(n_pairs) - np.repeat(np.cumsum(k) - k, k)
        I = order[np.repeat(first, k) + off]  # every member of its group
        m = I != J
        I, J = I[m], J[m]
        inter = np.asarray(B[J].multiply(B[I]).sum(axis=1)).reshape(-1)
        subset = inter == deg[J]
        better = (c[I] < c[J]) | ((c[I] == c[J]) & ((deg[I] > deg[J]) | (I < J)))
        drop[J[subset & better]] = True
    # 2. identical covers across groups, kept option alone in its group
    idx = np.flatnonzero(live & ~drop)
    if idx.size > 1:
        cls = _row_signatures(B, idx)
        order = np.lexsort((idx, c[idx], cls))
        cl = cls[order]
        head = np.r_[True, cl[1:] != cl[:-1]]
        rep = idx[order][np.maximum.accumulate(np.where(head, np.arange(cl.size), 0))]
        group_size = np.bincount(g[idx], minlength=int(g.max()) + 1)
        members = idx[order]
        same = g[rep] == g[members]
        lone = group_size[g[rep]] == 1
        drop[members[~head & (same | lone)]] = True
    return drop


def _prepare(A, weights, costs, groups, already_covered) -> _Mix:
    t0 = time.perf_counter()
    M, w, c, g, already = _validate(A, weights, costs, groups, already_covered)
    n_opt, n_cells = M.shape
    B_all, W, _ = aggregate_cells(M, w)
    live = np.diff(B_all.indptr) > 0
    drop = _dominated(B_all, c, g, live)
    keep = np.flatnonzero(live & ~drop)
    B = B_all[keep]
    B.sort_indices()
    gk = g[keep]
    codes, gk = np.unique(gk, return_inverse=True)
    gk = gk.reshape(-1).astype(np.int64)
    n_groups = int(codes.size)
    # Nested: every group has an option covering its members' union, so choosing that option
    # everywhere covers the union of all options (weights: what matters is people).
    opt_w = np.asarray(B @ W, dtype=np.float64) if keep.size else np.zeros(0)
    nested = True
    if keep.size and n_groups < keep.size:
        G = sp.csr_array((np.ones(keep.size), (gk, np.arange(keep.size))),
                         shape=(n_groups, keep.size))
        union_w = ((G @ B.astype(np.float64)) > 0).astype(np.float64) @ W
        max_w = np.full(n_groups, -np.inf)
        np.maximum.at(max_w, gk, opt_w)
        nested = bool(np.all(union_w <= max_w * (1 + 1e-12) + 1e-9))
    extra = {"n_options": n_opt, "n_cells": n_cells, "n_options_reduced": int(keep.size),
             "n_options_empty": int((~live).sum()), "n_options_dominated": int(drop.sum()),
             "n_cell_groups": int(W.size), "nested_groups": nested,
             "reduction_s": time.perf_counter() - t0}
    return _Mix(A=M, w=w, costs=c, already_people=already, opt=keep, B=B, W=W, c=c[keep],
                grp=gk, n_groups=n_groups, upper_people=float(W.sum()), nested=nested,
                extra=extra)


def _subset(P: _Mix, mask: np.ndarray) -> _Mix:
    """The problem restricted to the kept options where ``mask`` (cell groups kept as are)."""
    loc = np.flatnonzero(mask)
    B = P.B[loc]
    B.sort_indices()
    codes, grp = np.unique(P.grp[loc], return_inverse=True)
    return replace(P, opt=P.opt[loc], B=B, c=P.c[loc], grp=grp.reshape(-1).astype(np.int64),
                   n_groups=int(codes.size))


def _people(P: _Mix, chosen: np.ndarray) -> float:
    """New people of the original options ``chosen``, on the original cells, each cell once."""
    if chosen.size == 0:
        return 0.0
    mask = np.zeros(P.A.shape[1], dtype=bool)
    for i in chosen:
        mask[P.A.indices[P.A.indptr[i]:P.A.indptr[i + 1]]] = True
    return float(P.w[mask].sum())


# --------------------------------------------------------------------------------------------
# Greedy
# --------------------------------------------------------------------------------------------


class _State:
    """A selection of kept options with per-cell-group cover counts."""

    def __init__(self, P: _Mix):
        self.P = P
        self.count = np.zeros(P.W.size, dtype=np.int32)
        self.resid = P.W.copy()  # weight of the cell groups nobody covers yet
        self.group_of = np.full(P.n_groups, -1, dtype=np.int64)  # chosen option per group
        self.chosen: list[int] = []
        self.got = 0.0
        self.spent = 0.0

    def copy(self) -> _State:
        new = _State.__new__(_State)
        new.P, new.count, new.resid = self.P, self.count.copy(), self.resid.copy()
        new.group_of, new.chosen = self.group_of.copy(), list(self.chosen)
        new.got, new.spent = self.got, self.spent
        return new

    def cells(self, i: int) -> np.ndarray:
        B = self.P.B
        return B.indices[B.indptr[i]:B.indptr[i + 1]]

    def gain(self, i: int) -> float:
        return float(self.resid[self.cells(i)].sum())

    def add(self, i: int) -> None:
        cells = self.cells(i)
        self.got += float(self.resid[cells].sum())
        self.resid[cells] = 0.0
        self.count[cells] += 1
        self.group_of[self.P.grp[i]] = i
        self.chosen.append(i)
        self.spent += float(self.P.c[i])

    def remove(self, i: int) -> None:
        cells = self.cells(i)
        self.count[cells] -= 1
        freed = cells[self.count[cells] == 0]
        self.resid[freed] = self.P.W[freed]
        self.got -= float(self.P.W[freed].sum())
        self.group_of[self.P.grp[i]] = -1
        self.chosen.remove(i)
        self.spent -= float(self.P.c[i])

    def open(self) -> np.ndarray:
        """Mask of options whose group has no chosen option."""
        return self.group_of[self.P.grp] < 0


def _ratio_key(gain: float, cost: float) -> float:
    """Heap key (smaller first): cost per person; free options with people first."""
    return cost / gain if cost > 0 else -gain


def _lazy_target(st: _State, need: float, banned: np.ndarray | None = None,
                 fast: tuple | None = None) -> None:
    """Add options by least cost per new person until ``need`` new people are covered.

    Lazy (Minoux [4]): keys are stale upper bounds on the gain per dollar (gains only shrink
    as cells get covered), so only the heap's top is re-evaluated. When the top would reach
    the target, the cheapest single open option that reaches it is taken instead if it costs
    less (the last step of a partial cover need not be the best ratio, Slavik [3]). Options
    where ``banned`` (a mask over the kept options) are never added.

    ``fast = (BT, gains)``: ``BT`` the transpose of ``P.B`` (CSR) and ``gains`` every option's
    gain on ``st.resid`` (``P.B @ st.resid``, as the call would compute it); the gains needed
    at the last step are then recomputed only for the options touching cells covered in this
    call (row by row as ``P.B @ resid`` does, so the numbers, and the answer, are the same).
    """
    P = st.P
    if st.got >= need:
        return
    if fast is None:
        gains = np.asarray(P.B @ st.resid, dtype=np.float64)
    else:
        BT, gains = fast
        added_from = len(st.chosen)
    ok = st.open() & (gains > 0)
    if banned is not None:
        ok &= ~banned
    heap = [(_ratio_key(gains[i], P.c[i]), int(i), len(st.chosen)) for i in np.flatnonzero(ok)]
    heapq.heapify(heap)
    while heap and st.got < need:
        _, i, stamp = heapq.heappop(heap)
        if st.group_of[P.grp[i]] >= 0:
            continue
        if stamp != len(st.chosen):
            g = st.gain(i)
            if g > 0:
                heapq.heappush(heap, (_ratio_key(g, P.c[i]), i, len(st.chosen)))
            continue
        g = st.gain(i)
        if st.got + g >= need:
            if fast is None:
                all_g = np.asarray(P.B @ st.resid, dtype=np.float64)
            else:
                all_g = _regain(P, BT, gains, st, st.chosen[added_from:])
            can = st.open() & (all_g >= need - st.got)
            done = np.flatnonzero(can if banned is None else can & ~banned)
            if done.size:
                j = int(done[np.argmin(P.c[done])])
                if P.c[j] < P.c[i]:
                    i = j
        st.add(i)


def _regain(P: _Mix, BT: sp.csr_array, gains: np.ndarray, st: _State, changed) -> np.ndarray:
    """``gains`` with the options touching the cells of options ``changed`` recomputed on
    ``st.resid`` (each row as ``P.B @ resid`` sums it)."""
    out = gains.copy()
    if len(changed):
        cells = np.concatenate([st.cells(int(i)) for i in changed])
        hit = np.zeros(gains.size, dtype=bool)
        hit[BT[cells].indices] = True
        aff = np.flatnonzero(hit)
        if aff.size:
            out[aff] = np.asarray(P.B[aff] @ st.resid, dtype=np.float64)
    return out


def _best_swap(st: _State, tol: float,
               banned: np.ndarray | None = None) -> tuple[int, int] | None:
    """The exchange (chosen o -> option n of its group) adding people at least cost per person.

    Needed because of the groups: greedy may have taken a location's small option (a pole)
    and later find its big one (a macro covering two villages) blocked. Evaluated exactly for
    all chosen options and their alternatives (few: a group holds a handful of options).
    """
    P = st.P
    if not st.chosen:
        return None
    chosen = np.asarray(st.chosen)
    members = np.flatnonzero(np.isin(P.grp, P.grp[chosen]))
    by_group = dict(zip(P.grp[chosen].tolist(), chosen.tolist()))
    O = np.asarray([by_group[int(P.grp[n])] for n in members], dtype=np.int64)
    N = members
    m = N != O
    if banned is not None:
        m &= ~banned[N]
    N, O = N[m], O[m]
    if N.size == 0:
        return None
    w0 = np.where(st.count == 0, P.W, 0.0)
    w1 = np.where(st.count == 1, P.W, 0.0)
    BN, BO = P.B[N], P.B[O]
    gain_n = BN @ w0 + BN.multiply(BO) @ w1  # people n covers once o is gone
    loss_o = BO @ w1  # people only o covers
    dgain = np.asarray(gain_n - loss_o, dtype=np.float64).reshape(-1)
    dcost = P.c[N] - P.c[O]
    ok = dgain > tol
    if not ok.any():
        return None
    key = np.where(ok, dcost / np.where(ok, dgain, 1.0), np.inf)
    k = int(np.argmin(key))
    return int(O[k]), int(N[k])


def _reverse_delete(st: _State, need: float) -> None:
    """Drop chosen options, most expensive first, while the target stays met."""
    P = st.P
    order = sorted(range(len(st.chosen)), key=lambda k: (-P.c[st.chosen[k]], -k))
    for i in [st.chosen[k] for k in order]:
        cells = st.cells(i)
        loss = float(P.W[cells][st.count[cells] == 1].sum())
        if st.got - loss >= need:
            st.remove(i)


def _fill(st: _State, need: float, tol: float, banned: np.ndarray | None = None,
          fast: tuple | None = None) -> int:
    """Lazy greedy and exchanges within groups until ``need`` is met or nothing adds people.

    ``fast`` (see :func:`_lazy_target`) serves the first round only. Returns the number of
    exchanges made; reverse delete is left to the caller.
    """
    n_swaps = 0
    while True:
        _lazy_target(st, need - tol, banned, fast)
        fast = None
        if st.got >= need - tol:
            return n_swaps
        swap = _best_swap(st, tol, banned)
        if swap is None:
            return n_swaps
        st.remove(swap[0])
        st.add(swap[1])
        n_swaps += 1


def _greedy_target(P: _Mix, need: float, start=()) -> tuple[list[int], str]:
    """Greedy for ``need`` new people: lazy ratio greedy, exchanges when stuck, reverse delete.

    Returns the local indices chosen and a status; the target may be unreached only when the
    groups are not nested (otherwise an exchange towards a group's largest option always adds
    people, so the loop reaches the union of all options).
    """
    st = _State(P)
    for i in start:
        st.add(int(i))
    tol = _REL_TOL * max(need, 1.0)
    n_swaps = _fill(st, need, tol)
    reached = st.got >= need - tol
    _reverse_delete(st, min(need, st.got) - tol)
    how = f"greedy: cost per new person, {n_swaps} exchange(s) within groups, reverse delete"
    if not reached:
        how += f"; stuck at {st.got:.6g} of {need:.6g} new people"
    return st.chosen, how


#: Passes and moves tried of the drop-and-refill local search (the deterministic bounds: the
#: answer depends on the input only; time is a safety cap that a slow machine may reach).
_LS_MAX_PASSES = 4
_LS_MAX_MOVES = 400
#: Share of the call's time limit the local search may use, and its absolute cap [s].
_LS_TIME_SHARE, _LS_TIME_CAP_S = 0.25, 10.0


def _local_search(P: _Mix, need: float, chosen, t_end: float,
                  max_passes: int | None = None) -> tuple[list[int], dict]:
    """Drop-and-refill local search on a feasible target selection (first improvement).

    A pass visits the chosen options, most expensive first (ties: lower index). For option
    ``i`` of group ``k`` the moves are: remove ``i`` and, in turn, nothing or each cheaper
    option of ``k`` in its place (cheapest first); then refill the deficit with the greedy
    (:func:`_fill`, ``i`` banned so it cannot come straight back) and reverse delete. The
    first move that lowers the total cost is kept and the pass goes on with the next chosen
    option of the new selection; a pass with no kept move ends the search. At most
    ``max_passes`` passes and ``_LS_MAX_MOVES`` moves tried: the result depends on the input
    only, unless ``t_end`` (:func:`time.perf_counter` seconds) cuts the search short first
    (``stopped`` says which: ``"max moves"``, ``"time"``).

    Returns the local indices chosen and a record: ``passes``, ``moves_tried``,
    ``moves_kept``, ``cost_before``, ``cost_after`` [USD] (reduced costs), ``stopped``
    (``"no improvement"``, ``"max passes"`` or ``"time"``) and ``time_s``.
    """
    t0 = time.perf_counter()
    max_passes = _LS_MAX_PASSES if max_passes is None else max_passes
    tol = _REL_TOL * max(need, 1.0)
    st = _State(P)
    for i in chosen:
        st.add(int(i))
    cost0 = float(P.c[np.asarray(chosen, dtype=np.int64)].sum()) if len(chosen) else 0.0
    rec = {"passes": 0, "moves_tried": 0, "moves_kept": 0, "cost_before": cost0,
           "cost_after": cost0, "stopped": "no improvement", "time_s": 0.0}
    if st.got < need - tol or not st.chosen:
        rec["stopped"] = "nothing to improve"
        return st.chosen, rec
    members: dict[int, np.ndarray] = {}
    order_all = np.lexsort((np.arange(P.c.size), P.c))  # by cost, then index
    for k, i in zip(P.grp[order_all].tolist(), order_all.tolist()):
        members.setdefault(k, []).append(i)
    banned = np.zeros(P.c.size, dtype=bool)
    cost = cost0
    BT = sp.csr_array(P.B.T)
    BT.sort_indices()
    gains = np.asarray(P.B @ st.resid, dtype=np.float64)

    def cost_of(s: _State) -> float:
        return float(P.c[np.asarray(s.chosen, dtype=np.int64)].sum())

    timed_out = False
    for _ in range(max_passes):
        rec["passes"] += 1
        improved = False
        done: set[int] = set()
        while not timed_out:
            todo = [i for i in st.chosen if i not in done]
            if not todo:
                break
            i = min(todo, key=lambda j: (-P.c[j], j))
            done.add(i)
            k = int(P.grp[i])
            alts = [None] + [j for j in members[k] if P.c[j] < P.c[i]]
            best = None
            for j in alts:
                if rec["moves_tried"] >= _LS_MAX_MOVES:
                    timed_out = True
                    rec["stopped"] = "max moves"
                    break
                if time.perf_counter() > t_end:
                    timed_out = True
                    rec["stopped"] = "time"
                    break
                rec["moves_tried"] += 1
                trial = st.copy()
                trial.remove(i)
                if j is not None:
                    trial.add(j)
                banned[i] = True
                fast = (BT, _regain(P, BT, gains, trial, [i] if j is None else [i, j]))
                _fill(trial, need, tol, banned, fast)
                banned[i] = False
                if trial.got < need - tol:
                    continue
                _reverse_delete(trial, need - tol)
                c_new = cost_of(trial)
                if c_new < (cost if best is None else best[0]) * (1 - 1e-12) - 1e-9:
                    best = (c_new, trial)
            if best is not None:
                cost, st = best
                gains = np.asarray(P.B @ st.resid, dtype=np.float64)
                rec["moves_kept"] += 1
                improved = True
                done.update(x for x in st.chosen if x != i and x not in todo)
        if timed_out:
            break
        if not improved:
            break
    else:
        rec["stopped"] = "max passes"
    rec["cost_after"] = cost
    rec["time_s"] = time.perf_counter() - t0
    return st.chosen, rec


def _greedy_budget(P: _Mix, budget: float) -> tuple[list[int], str]:
    """Lazy greedy on new people per dollar within ``budget``, guarded by the best single option.

    Cost-benefit greedy alone can be arbitrarily bad (a cheap small option blocks a big one);
    the better of it and the best affordable single option (then filled up greedily) is at
    least (1 - 1/e)/2 of the optimum without groups (Khuller et al. [2]).
    """

    def run(seed):
        st = _State(P)
        if seed is not None:
            st.add(seed)
        gains = np.asarray(P.B @ st.resid, dtype=np.float64)
        cand = np.flatnonzero(st.open() & (gains > 0))
        heap = [(_ratio_key(gains[i], P.c[i]), int(i), len(st.chosen)) for i in cand]
        heapq.heapify(heap)
        lim = budget * (1 + 1e-12)
        while heap:
            _, i, stamp = heapq.heappop(heap)
            if st.group_of[P.grp[i]] >= 0 or st.spent + P.c[i] > lim:
                continue  # never again: groups stay taken, the remaining budget shrinks
            g = st.gain(i)
            if g <= 0:
                continue
            if stamp != len(st.chosen):
                heapq.heappush(heap, (_ratio_key(g, P.c[i]), i, len(st.chosen)))
                continue
            st.add(i)
        return st

    st = run(None)
    how = "greedy: new people per dollar"
    single = np.asarray(P.B @ P.W, dtype=np.float64)
    single[P.c > budget * (1 + 1e-12)] = -np.inf
    if single.size:
        best = int(np.argmax(single))
        if single[best] > st.got:
            st2 = run(best)
            if st2.got > st.got:
                st, how = st2, how + " (best single option, filled up, won)"
    return st.chosen, how


# --------------------------------------------------------------------------------------------
# ILP
# --------------------------------------------------------------------------------------------


def _milp(P: _Mix, *, need: float | None, budget: float | None, time_limit_s: float,
          mip_rel_gap: float):
    r"""Solve the reduced model with HiGHS; returns (scipy result, model sizes).

    Binary :math:`x_i` (option built), continuous :math:`y_g \in [0, 1]` (cell group covered):
    :math:`y_g \le \sum_{i \ni g} x_i`; :math:`\sum_{i \in k} x_i \le 1` per group :math:`k`;
    target: :math:`\min c^T x` s.t. people :math:`\ge` need; budget: :math:`\max` people
    s.t. :math:`c^T x \le` budget. For integral :math:`x` an optimal :math:`y` is integral.

    Local cells are folded into the options (exact): a cell group covered only by options of
    one group (one location, or one option) is covered exactly when one of them is built, and
    at most one is, so :math:`y_g = \sum_{i \ni g} x_i` and its people become a coefficient
    :math:`L_i` of each covering option: people :math:`= L^T x + \sum_{g\,\text{shared}}
    W_g y_g`. Only cells covered from two or more groups keep a variable and a row.
    """
    n_x, n_cg = P.B.shape
    shared = _shared_cells(P)
    local_w = np.where(shared, 0.0, P.W)
    L = np.asarray(P.B @ local_w, dtype=np.float64)
    Bs = P.B[:, np.flatnonzero(shared)]
    Ws = P.W[shared]
    n_y = int(Ws.size)
    cons = []
    if n_y:
        cover = sp.hstack([-sp.csr_array(Bs.T.astype(np.float64)),
                           sp.identity(n_y, format="csr")], format="csr")
        cons.append(LinearConstraint(cover, -np.inf, 0.0))
    size = np.bincount(P.grp, minlength=P.n_groups)
    multi = np.flatnonzero(size[P.grp] > 1)
    if multi.size:
        _, row = np.unique(P.grp[multi], return_inverse=True)
        G = sp.csr_array((np.ones(multi.size), (row.reshape(-1), multi)),
                         shape=(int(row.max()) + 1, n_x + n_y))
        cons.append(LinearConstraint(G, -np.inf, 1.0))
    people_row = np.concatenate([L, Ws])
    if need is not None:
        obj = np.concatenate([P.c, np.zeros(n_y)])
        cons.append(LinearConstraint(sp.csr_array(people_row[None, :]), need, np.inf))
    else:
        obj = -people_row
        if budget is not None:
            cons.append(LinearConstraint(
                sp.csr_array(np.concatenate([P.c, np.zeros(n_y)])[None, :]), -np.inf, budget))
    integrality = np.concatenate([np.ones(n_x), np.zeros(n_y)])
    res = milp(obj, integrality=integrality, bounds=Bounds(0.0, 1.0), constraints=cons,
               options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "disp": False})
    return res, {"ilp_x": n_x, "ilp_y": n_y, "ilp_local_cell_groups": int(n_cg - n_y)}


# --------------------------------------------------------------------------------------------
# Large models: Lagrangian bound and core problem
# --------------------------------------------------------------------------------------------

#: Above this many nonzeros in the shared-cell rows the full model is not given to HiGHS
#: (its presolve alone took 38 s at 3.5 M on one core); the core problem is solved instead.
_FULL_MODEL_MAX_NNZ = 400_000
#: Options in the core problem besides the greedy selection's groups.
_CORE_OPTIONS = 600


def _shared_cells(P: _Mix) -> np.ndarray:
    """Mask of cell groups covered from two or more groups (the others fold into options)."""
    n_g = max(P.n_groups, 1)
    coo = P.B.tocoo()
    key = np.unique(coo.col.astype(np.int64) * n_g + P.grp[coo.row])
    return np.bincount(key // n_g, minlength=P.B.shape[1]) > 1


def _group_best(values: np.ndarray, grp: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the index of the smallest value if it is negative; -1 otherwise."""
    order = np.lexsort((values, grp))
    first = np.r_[True, grp[order][1:] != grp[order][:-1]]
    best = order[first]
    out = np.full(n_groups, -1, dtype=np.int64)
    neg = values[best] < 0
    out[grp[best][neg]] = best[neg]
    return out


def _lagrangian(P: _Mix, *, need: float | None, budget: float | None, incumbent: float,
                t_end: float, max_iter: int = 500) -> tuple[float, np.ndarray, int]:
    r"""Lagrangian bound of the whole reduced model by subgradient optimisation.

    The cover rows, written per person (:math:`W_g y_g \le W_g \sum_{i \ni g} x_i`), get
    prices :math:`v_g \ge 0`, and the target (or budget) row a multiplier; what remains
    separates into one choice per group and one per cell group, solved in closed form
    (Beasley 1990 for set covering). Target (a lower bound on the least cost [USD]):

    .. math::

        L(v, \lambda) = \lambda\,\text{need} + \sum_k \min\big(0, \min_{i \in k}
        (c_i - \textstyle\sum_{g \in i} W_g v_g)\big)
        + \sum_g W_g \min(0, v_g - \lambda).

    Budget (an upper bound on the most new people), costs scaled so the budget equals the
    people (comparable subgradient components):
    :math:`U = \mu \tilde B + \sum_g W_g \max(0, 1 - v_g) + \sum_k \max(0, \max_{i
    \in k} (\sum_{g \in i} W_g v_g - \mu \tilde c_i))`. Polyak steps towards the
    incumbent, halved after 20 iterations without progress. Every iterate is a valid bound;
    the best is returned with the reduced costs at it (small: worth building) and the
    number of iterations.
    """
    Bf = P.B.astype(np.float64)
    BT = sp.csr_array(Bf.T)
    W, n_g = P.W, P.n_groups
    target = need is not None
    if target:
        c = P.c
        lam = max(incumbent, 1e-9) / need
        v = np.full(W.size, lam)
    else:
        scale = W.sum() / budget if budget > 0 else 1.0
        c, cap = P.c * scale, W.sum()
        lam = max(incumbent, 1e-9) / cap
        v = np.ones(W.size)
    best, best_rc = -np.inf if target else np.inf, None
    alpha, stall, it = 1.0, 0, 0
    for it in range(1, max_iter + 1):
        rc = c - Bf @ (W * v) if target else lam * c - Bf @ (W * v)
        pick = _group_best(rc, P.grp, n_g)
        x_idx = pick[pick >= 0]
        if target:
            y = v < lam
            val = lam * need + rc[x_idx].sum() + (W * np.minimum(0.0, v - lam)).sum()
        else:
            y = v < 1.0
            val = lam * cap - rc[x_idx].sum() + (W * np.maximum(0.0, 1.0 - v)).sum()
        if best_rc is None or (val > best + 1e-12 * abs(best) if target
                               else val < best - 1e-12 * abs(best)):
            best, best_rc, stall = val, rc, 0
        else:
            stall += 1
            if stall >= 20:
                alpha, stall = alpha / 2, 0
        gap = incumbent - val if target else val - incumbent
        if gap <= 1e-9 * max(abs(incumbent), 1.0) or alpha < 1e-4 or time.perf_counter() > t_end:
            break
        x = np.zeros(P.B.shape[0])
        x[x_idx] = 1.0
        cov = BT @ x
        s_v = W * (y - cov)  # d/dv of the Lagrangian
        s_l = (need - W @ y) if target else (cap - c @ x)
        norm = float(s_v @ s_v + s_l * s_l)
        if norm <= 0:
            break
        t = alpha * gap / norm
        if target:  # ascent
            v = np.maximum(0.0, v + t * s_v)
            lam = max(0.0, lam + t * s_l)
        else:  # descent
            v = np.maximum(0.0, v + t * s_v)
            lam = max(0.0, lam - t * s_l)
    return float(best), best_rc, it


def _core(P: _Mix, greedy_local, rc: np.ndarray, n_core: int) -> _Mix:
    """The core problem: greedy's options and their groups, plus the smallest reduced costs.

    Cells are aggregated again over the core's options (many more merge), so the core model
    is far smaller than the whole; the greedy selection stays feasible in it.
    """
    mask = np.isin(P.grp, P.grp[np.asarray(greedy_local, dtype=np.int64)])
    order = np.argsort(rc, kind="stable")
    mask[order[:n_core]] = True
    C = _subset(P, mask)
    B2, W2, _ = aggregate_cells(C.B, C.W)
    return replace(C, B=B2, W=W2, upper_people=float(W2.sum()))


def _gap(obj: float, bound: float) -> float:
    if not math.isfinite(bound):
        return float("nan")
    if obj == 0:
        return 0.0 if abs(bound) <= 1e-9 else float("inf")
    return abs(obj - bound) / abs(obj)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def _check_options(method, time_limit_s, mip_rel_gap) -> tuple[float, float]:
    if method not in _METHODS:
        raise ValueError(f"method={method!r} is invalid; allowed: 'ilp' or 'greedy'")
    tl = float(check_range("time_limit_s", time_limit_s, lo=0.0, lo_open=True, unit="s",
                           finite=True))
    gap = float(check_range("mip_rel_gap", mip_rel_gap, lo=0.0, hi=1.0, hi_open=True,
                            finite=True))
    return tl, gap


def _max_new_people(P: _Mix, deadline: float, mip_rel_gap: float) -> tuple[float, float, list]:
    """Most new people with one option per group: (best found, upper bound, local selection)."""
    if P.nested or P.B.shape[0] == 0:
        return P.upper_people, P.upper_people, []
    chosen, _ = _greedy_budget(P, math.inf)
    best = _people(P, P.opt[np.asarray(chosen, dtype=np.int64)])
    bound = P.upper_people
    remaining = deadline - time.perf_counter()
    if remaining > 0:
        res, _ = _milp(P, need=None, budget=None, time_limit_s=remaining, mip_rel_gap=0.0)
        if res.mip_dual_bound is not None and math.isfinite(res.mip_dual_bound):
            bound = min(bound, -float(res.mip_dual_bound))
        if res.x is not None and -float(res.fun) > best:
            best, chosen = -float(res.fun), list(np.flatnonzero(res.x[:P.B.shape[0]] > 0.5))
        if res.status == 0:
            bound = max(best, min(bound, best * (1 + mip_rel_gap) + 1e-9))
    return best, bound, chosen


def reachable_people(A, weights, groups=None, *, already_covered=None,
                     time_limit_s: float = 60.0) -> tuple[float, bool]:
    """Most people the options can cover together with the existing network.

    Parameters
    ----------
    A, weights, groups, already_covered
        As for :func:`least_cost_mix`.
    time_limit_s : float, optional
        Solver time limit when the groups are not nested (see Returns), > 0. Default 60 [s].

    Returns
    -------
    people : float
        ``already_people`` plus the most new people with at most one option per group
        [people]. Without groups, or when every group has an option covering the cells of all
        its options, this is the union of all options (exact, no solver); otherwise the
        maximum found by greedy and HiGHS.
    exact : bool
        True when ``people`` is proven to be the maximum.
    """
    t0 = time.perf_counter()
    P = _prepare(A, weights, np.zeros(_as_coverage_matrix(A).shape[0]), groups,
                 already_covered)
    tl = float(check_range("time_limit_s", time_limit_s, lo=0.0, lo_open=True, unit="s",
                           finite=True))
    best, bound, _ = _max_new_people(P, t0 + tl, 0.0)
    return P.already_people + best, bool(bound <= best * (1 + 1e-9) + 1e-9)


def least_cost_mix(A, weights, costs, groups=None, *, target_people=None, budget_usd=None,
                   already_covered=None, method: str = "ilp", time_limit_s: float = 60.0,
                   mip_rel_gap: float = 1e-4) -> MixResult:
    r"""Least-cost options reaching a people target, or most people for a budget.

    Model (``method="ilp"``), solved by HiGHS through :func:`scipy.optimize.milp`, with binary
    :math:`x_i` (option ``i`` built) and continuous :math:`y_g \in [0, 1]` (cell group ``g``
    covered):

    .. math::

        y_g \le \sum_{i \,\text{covers}\, g} x_i, \qquad
        \sum_{i \in \text{group } k} x_i \le 1, \\
        \text{target:}\ \min \sum_i c_i x_i \ \text{s.t.}\ \sum_g W_g y_g \ge T - P_0;
        \qquad
        \text{budget:}\ \max \sum_g W_g y_g \ \text{s.t.}\ \sum_i c_i x_i \le B,

    where :math:`P_0` is the people already covered. Exact reductions first: cells already
    covered, of zero weight or covered by no option are dropped and cells covered by the same
    options merged (:func:`simulator.planning.optimise.aggregate_cells`); options covering
    nothing new are dropped, and so are dominated options (covering a subset of another
    option's cells at no lower cost, within a group, or identical to a lone option's cover);
    with a budget, options costing more than it.

    The greedy always runs first (so ``time_limit_s`` bounds the whole call, the solver gets
    what remains):

    - target: lazy greedy on cost per new person with the groups respected, the cheapest
      option completing the target at the last step, exchanges within a group when no open
      group adds people (a chosen pole replaced by its location's macro), then reverse delete
      (most expensive first) of options no longer needed; then a drop-and-refill local
      search (:func:`_local_search`: each chosen option, most expensive first, removed or
      downgraded to a cheaper option of its group, the deficit refilled greedily; kept when
      the cost drops), at most 4 passes, within min(25 % of ``time_limit_s``, 10 s);
      ``extra["local_search"]`` and ``status`` give its moves and the cost before/after;
    - budget: lazy greedy on new people per dollar within the budget, compared with the best
      single affordable option filled up the same way (the classic guard, (1 - 1/e)/2 of the
      optimum without groups).

    Large models: when the shared-cell rows hold more than 400,000 nonzeros (HiGHS's
    presolve alone took 38 s on 3.5 M, 2,000 locations x 3 options), the whole model is not
    given to HiGHS. A Lagrangian bound of the whole problem is computed by subgradient (15 %
    of the remaining time), and HiGHS solves the *core problem*: the options of greedy's
    groups plus the 600 options with the smallest Lagrangian reduced costs, cells aggregated
    again over them. ``mip_gap`` and ``objective_bound`` then refer to the Lagrangian bound
    (valid for the whole problem, often loose), ``optimal`` is True only when that gap is
    within ``mip_rel_gap``, and ``extra["ilp_scope"]`` is ``"core"``.

    The ILP's selection is returned unless HiGHS finds none (time limit, failure: greedy's is
    returned, ``fallback`` says why) or greedy's is better than the solver's incumbent
    (greedy's is returned, ``fallback`` says so); a solver selection short of the target by
    more than the tolerance (1e-9 relative) is completed greedily (``status`` says so).

    Parameters
    ----------
    A : scipy.sparse matrix or array, or 2-D ndarray, shape (n_options, n_cells)
        Coverage, nonzero when option ``i`` covers cell ``j`` (boolean or 0/1 entries).
    weights : array_like, shape (n_cells,)
        People per cell, finite and >= 0 [people].
    costs : array_like, shape (n_options,)
        Cost per option, finite and >= 0 (0 allowed) [USD].
    groups : array_like of int, shape (n_options,), optional
        Options with equal values are mutually exclusive (at most one built per group: one
        technology per location). None: no exclusivity.
    target_people : float, optional
        People to cover in total, the existing network's included, >= 0 and at most
        :attr:`MixResult.reachable_people` [people].
    budget_usd : float, optional
        Spending limit, finite and >= 0 [USD]. Exactly one of ``target_people`` and
        ``budget_usd`` is required.
    already_covered : array_like of bool, shape (n_cells,), optional
        Cells covered by the existing network: they count as covered, no option is credited.
    method : {"ilp", "greedy"}, optional
        ``"ilp"`` (default): HiGHS, with the greedy beside it; ``"greedy"``: greedy only.
    time_limit_s : float, optional
        Wall-clock limit of the call, > 0; reduction and greedy always run, HiGHS gets the rest
        (and at least 1 ms). Default 60 [s].
    mip_rel_gap : float, optional
        Relative gap at which HiGHS stops, in [0, 1). Default 1e-4.

    Returns
    -------
    MixResult

    Raises
    ------
    ValueError
        Shapes that do not match, negative or non-finite weights or costs, ``groups`` not
        integers, not exactly one of ``target_people`` / ``budget_usd``, a negative target or
        budget, a target above the reachable people (the message gives the maximum), a bad
        ``method``, ``time_limit_s`` or ``mip_rel_gap``.
    """
    t0 = time.perf_counter()
    tl, gap_opt = _check_options(method, time_limit_s, mip_rel_gap)
    if (target_people is None) == (budget_usd is None):
        raise ValueError("give exactly one of target_people [people] and budget_usd [USD]; "
                         f"got target_people={target_people!r}, budget_usd={budget_usd!r}")
    P = _prepare(A, weights, costs, groups, already_covered)
    return _solve(P, target_people, budget_usd, method, t0, t0 + tl, gap_opt)


def _solve(P: _Mix, target_people, budget_usd, method, t0, deadline, gap_opt,
           local_search: bool = True) -> MixResult:
    extra = dict(P.extra)
    reach_total = P.already_people + P.upper_people
    empty = np.zeros(0, dtype=np.int64)

    def result(local, *, how, method_, optimal, mip_gap, bound, status, fallback, g_cost,
               g_people, sub=P):
        chosen = np.sort(sub.opt[np.asarray(local, dtype=np.int64)]) if len(local) else empty
        people = _people(P, chosen)
        extra["time_s"] = time.perf_counter() - t0
        return MixResult(chosen=chosen, cost_usd=float(P.costs[chosen].sum()), people=people,
                         people_total=P.already_people + people,
                         already_people=P.already_people, reachable_people=reach_total,
                         target_people=target, budget_usd=budget, method=method_,
                         optimal=bool(optimal), mip_gap=mip_gap, objective_bound=bound,
                         status=status if not how else f"{how}; {status}" if status else how,
                         time_s=extra["time_s"], fallback=fallback, greedy_cost_usd=g_cost,
                         greedy_people=g_people, extra=extra)

    if target_people is not None:
        target = float(check_range("target_people", target_people, lo=0.0, unit="people",
                                   finite=True))
        budget = None
        need = target - P.already_people
        tol = _REL_TOL * max(target, 1.0)
        if need <= tol:
            return result([], how="", method_=method, optimal=True, mip_gap=0.0, bound=0.0,
                          status="target met by the existing network", fallback="",
                          g_cost=0.0, g_people=0.0)
        if need > P.upper_people + tol:
            raise ValueError(
                f"target_people={target:.10g} exceeds the reachable maximum "
                f"{reach_total:.10g} people (already covered {P.already_people:.10g} + "
                f"{P.upper_people:.10g} the options can add); allowed: <= {reach_total:.10g}")
        need = min(need, P.upper_people)
        sub = P
        g_local, g_how = _greedy_target(P, need)
        t_greedy = time.perf_counter()
        g_ok = _people(P, P.opt[np.asarray(g_local, dtype=np.int64)]) >= need - tol
        if not g_ok:  # groups not nested: is the target reachable at all?
            best, bound, sel = _max_new_people(P, deadline, 0.0)
            if best < need - tol:
                exact = bound <= best * (1 + 1e-9) + 1e-9
                raise ValueError(
                    f"target_people={target:.10g} exceeds the reachable maximum "
                    f"{P.already_people + best:.10g} people with one option per group"
                    + ("" if exact else f" found (bound {P.already_people + bound:.10g})")
                    + f"; allowed: <= {P.already_people + best:.10g}")
            g_local, how2 = _greedy_target(P, need, start=sel)
            g_how += "; restarted from the max-coverage selection: " + how2
        if local_search:
            t_ls = time.perf_counter()
            ls_end = t_ls + min(_LS_TIME_SHARE * (deadline - t0), _LS_TIME_CAP_S)
            g_local, ls = _local_search(P, need, g_local, min(ls_end, deadline))
            extra["local_search"] = ls
            g_how += (f"; local search (drop and refill): {ls['moves_kept']} of "
                      f"{ls['moves_tried']} move(s) kept in {ls['passes']} pass(es), cost "
                      f"{ls['cost_before']:.10g} -> {ls['cost_after']:.10g} USD, stopped: "
                      f"{ls['stopped']}")
        g_chosen = P.opt[np.asarray(g_local, dtype=np.int64)]
        g_cost, g_people = float(P.costs[g_chosen].sum()), _people(P, g_chosen)
        extra["greedy_s"] = t_greedy - t0 - extra["reduction_s"]
        if method == "greedy":
            return result(g_local, how=g_how, method_="greedy", optimal=False,
                          mip_gap=float("nan"), bound=float("nan"), status="", fallback="",
                          g_cost=g_cost, g_people=g_people)
    else:
        budget = float(check_range("budget_usd", budget_usd, lo=0.0, unit="USD", finite=True))
        target = None
        sub = _subset(P, P.c <= budget * (1 + 1e-12))
        extra["n_options_affordable"] = int(sub.opt.size)
        if sub.opt.size == 0:
            return result([], how="", method_=method, optimal=True, mip_gap=0.0, bound=0.0,
                          status="no option within the budget adds people", fallback="",
                          g_cost=0.0, g_people=0.0)
        g_local, g_how = _greedy_budget(sub, budget)
        g_chosen = sub.opt[np.asarray(g_local, dtype=np.int64)]
        g_cost, g_people = float(P.costs[g_chosen].sum()), _people(P, g_chosen)
        extra["greedy_s"] = time.perf_counter() - t0 - extra["reduction_s"]
        if method == "greedy":
            return result(g_local, how=g_how, method_="greedy", optimal=False,
                          mip_gap=float("nan"), bound=float("nan"), status="", fallback="",
                          g_cost=g_cost, g_people=g_people, sub=sub)

    # ---- ILP
    t_ilp = time.perf_counter()
    g_obj = g_cost if target is not None else g_people
    model, lag_bound = sub, None
    shared = _shared_cells(sub)
    extra["ilp_full_nnz"] = int(sub.B[:, np.flatnonzero(shared)].nnz)
    scope = "full model"
    if extra["ilp_full_nnz"] > _FULL_MODEL_MAX_NNZ:
        t_lag = time.perf_counter() + max(0.15 * (deadline - time.perf_counter()), 0.2)
        lag_bound, rc, n_it = _lagrangian(sub, need=need if target is not None else None,
                                          budget=budget, incumbent=g_obj, t_end=t_lag)
        if target is None:
            lag_bound = min(lag_bound, sub.upper_people)
        model = _core(sub, g_local, rc, _CORE_OPTIONS)
        extra.update(lagrangian_bound=lag_bound, lagrangian_iterations=n_it,
                     lagrangian_s=time.perf_counter() - t_ilp,
                     core_options=int(model.opt.size), core_cell_groups=int(model.W.size))
        scope = (f"core problem: {model.opt.size} of {sub.opt.size} options (greedy's groups "
                 f"+ smallest Lagrangian reduced costs); gap against the Lagrangian bound of "
                 f"the whole problem")
    remaining = max(deadline - time.perf_counter(), 1e-3)
    res, sizes = _milp(model, need=need if target is not None else None, budget=budget,
                       time_limit_s=remaining, mip_rel_gap=gap_opt)
    extra.update(sizes)
    extra["ilp_scope"] = "full" if lag_bound is None else "core"
    extra["ilp_s"] = time.perf_counter() - t_ilp
    extra["mip_node_count"] = res.get("mip_node_count")
    status = f"{scope}; HiGHS status {res.status}: {res.message}"
    raw_bound = res.get("mip_dual_bound")
    bound = float("nan") if raw_bound is None or not math.isfinite(raw_bound) else (
        float(raw_bound) if target is not None else -float(raw_bound))
    if lag_bound is not None:
        extra["core_bound"] = bound
        bound = lag_bound
    g_result = {"g_cost": g_cost, "g_people": g_people, "sub": sub}
    if res.x is None:
        why = ("time limit reached without a solution" if res.status == 1 else
               f"no ILP solution (HiGHS status {res.status}: {res.message})")
        return result(g_local, how=g_how, method_="greedy", optimal=False,
                      mip_gap=_gap(g_obj, bound), bound=bound, status=status,
                      fallback=f"{why}; greedy returned", **g_result)
    local = np.flatnonzero(res.x[:model.B.shape[0]] > 0.5)
    i_chosen = model.opt[local]
    if target is not None:
        if _people(P, i_chosen) < need - tol:  # solver tolerances: complete greedily
            local, how = _greedy_target(model, need, start=local)
            local = np.asarray(local, dtype=np.int64)
            status += f"; solver selection short of the target, completed ({how})"
            i_chosen = model.opt[local]
        i_obj = float(P.costs[i_chosen].sum())
        greedy_better = g_obj < i_obj * (1 - 1e-12) - 1e-9
    else:
        i_obj = _people(P, i_chosen)
        greedy_better = g_obj > i_obj * (1 + 1e-12) + 1e-9
    if lag_bound is None:
        mip_gap = float(res.mip_gap) if res.get("mip_gap") is not None else _gap(i_obj, bound)
        optimal = res.status == 0
    else:
        mip_gap = _gap(i_obj, bound)
        optimal = res.status == 0 and mip_gap <= gap_opt
    if greedy_better:
        return result(g_local, how=g_how, method_="greedy", optimal=False,
                      mip_gap=_gap(g_obj, bound), bound=bound, status=status,
                      fallback=f"greedy better than the solver's incumbent ({i_obj:.10g} vs "
                               f"{g_obj:.10g}); greedy returned", **g_result)
    return result(local, how="", method_="ilp", optimal=optimal, mip_gap=mip_gap,
                  bound=bound, status=status, fallback="", g_cost=g_cost, g_people=g_people,
                  sub=model)


def _by_technology(P: _Mix, chosen: np.ndarray, tech: np.ndarray, labels) -> dict:
    out = {}
    for t in labels:
        sel = chosen[tech[chosen] == t]
        out[t] = {"n_options": int(sel.size), "cost_usd": float(P.costs[sel].sum()),
                  "people": _people(P, sel)}
    return out


def cost_curve(A, weights, costs, groups=None, *, technology, shares=DEFAULT_SHARES,
               already_covered=None, method: str = "greedy", time_limit_s: float = 60.0,
               mip_rel_gap: float = 1e-4, local_search: bool = False) -> list[dict]:
    """People against cost: the least-cost mix, and each single-technology plan, per share.

    For each share ``s`` of the reachable people (``MixResult.reachable_people``, existing
    network included), the target ``s * reachable`` is solved by :func:`least_cost_mix` with
    all options (``plan="mix"``) and with the options of one technology only (``plan`` = the
    label), so the mix can be compared with every single-technology programme for the same
    target. A plan reaching a higher share also meets the lower ones: when it is cheaper than
    the lower share's own answer (greedy, or an ILP stopped with a gap) it is used there too
    (``from_share`` says so), so each plan's cost is non-decreasing in the share.

    Parameters
    ----------
    A, weights, costs, groups, already_covered, method, mip_rel_gap
        As for :func:`least_cost_mix`; ``method`` defaults to ``"greedy"`` here.
    technology : array_like of str, shape (n_options,)
        Technology label of each option (e.g. ``"pole"``, ``"macro"``, ``"hotspot"``).
    shares : sequence of float, optional
        Target shares of the reachable people, each in (0, 1]. Default 0.1, 0.2, ..., 1.0.
    time_limit_s : float, optional
        Time limit of each solve (one per share and plan), > 0. Default 60 [s].
    local_search : bool, optional
        Improve each greedy answer by the drop-and-refill local search (as
        :func:`least_cost_mix` does). Default False: the curve is many solves, and without it
        it depends on the input only, never on the time.

    Returns
    -------
    list of dict
        One row per plan and share, the mix first, shares ascending. Keys: ``plan``,
        ``share``, ``target_people`` [people], ``feasible`` (False when the plan's options
        cannot reach the target; then cost and people are NaN), ``cost_usd`` [USD],
        ``people`` (new) and ``people_total`` [people], ``n_options``, ``chosen`` (option
        indices), ``method``, ``optimal``, ``mip_gap``, ``from_share`` (the share whose plan
        is used, equal to ``share`` unless a higher share's plan was cheaper),
        ``by_technology`` ({label: {"n_options", "cost_usd", "people"}}; people of one
        technology count each of its cells once, and a cell covered by two technologies
        counts in both).

    Raises
    ------
    ValueError
        As for :func:`least_cost_mix`; ``technology`` not one label per option, a share
        outside (0, 1].
    """
    _check_options(method, time_limit_s, mip_rel_gap)
    M = _as_coverage_matrix(A)
    tech = _check_vector("technology", technology, M.shape[0], f"A's {M.shape[0]} options (rows)")
    tech = np.asarray([str(t) for t in tech], dtype=object)
    sh = check_range("shares", np.atleast_1d(np.asarray(shares, dtype=np.float64)), lo=0.0,
                     hi=1.0, lo_open=True, finite=True)
    if sh.ndim != 1 or sh.size == 0:
        raise ValueError("shares must be a non-empty sequence of numbers in (0, 1]")
    sh = np.sort(sh)
    labels = list(dict.fromkeys(tech.tolist()))
    full = _prepare(M, weights, costs, groups, already_covered)
    reach = full.already_people + _max_new_people(
        full, time.perf_counter() + float(time_limit_s), 0.0)[0]
    g_all = None if groups is None else np.asarray(groups)
    plans = [("mix", None)] + [(t, np.flatnonzero(tech == t)) for t in labels]
    rows = []
    for name, rows_idx in plans:
        if rows_idx is None:
            P, back = full, np.arange(M.shape[0])
        else:
            P = _prepare(M[rows_idx], weights, full.costs[rows_idx],
                         None if g_all is None else g_all[rows_idx], already_covered)
            back = rows_idx
        plan_rows = []
        for s in sh:
            target = float(s) * reach
            row = {"plan": name, "share": float(s), "target_people": target}
            need = target - P.already_people
            if need > P.upper_people + _REL_TOL * max(target, 1.0):
                r = None
            else:
                t0 = time.perf_counter()
                try:
                    r = _solve(P, target, None, method, t0, t0 + float(time_limit_s),
                               float(mip_rel_gap), local_search=local_search)
                except ValueError:  # groups not nested and the target out of reach
                    r = None
            if r is None:
                row.update(feasible=False, cost_usd=float("nan"), people=float("nan"),
                           people_total=float("nan"), n_options=0,
                           chosen=np.zeros(0, dtype=np.int64), method=method, optimal=False,
                           mip_gap=float("nan"), from_share=float(s),
                           by_technology={t: {"n_options": 0, "cost_usd": 0.0,
                                              "people": 0.0} for t in labels})
            else:
                chosen = back[r.chosen]
                row.update(feasible=True, cost_usd=r.cost_usd, people=r.people,
                           people_total=r.people_total, n_options=r.n_options, chosen=chosen,
                           method=r.method, optimal=r.optimal, mip_gap=r.mip_gap,
                           from_share=float(s),
                           by_technology=_by_technology(full, chosen, tech, labels))
            plan_rows.append(row)
        best = None  # cheapest feasible plan of a share >= the current one
        for row in reversed(plan_rows):
            if not row["feasible"]:
                continue
            if best is not None and best["cost_usd"] < row["cost_usd"]:
                keep = {k: row[k] for k in ("plan", "share", "target_people")}
                row.update({k: v for k, v in best.items() if k not in keep})
                row["optimal"] = False
            else:
                best = dict(row)
        rows.extend(plan_rows)
    return rows
