"""The staged plan, defined once; :mod:`revshare.solve.highs_executor` and :mod:`revshare.solve.pulp_executor`
carry it out, and the sweep engine (:mod:`revshare.solve.engine`) follows it at many prices.

Ties. A linear program can have many optimal allocations and a solver picks one by the order of
its columns, which would make the answer depend on names (docs/design.md#ties-must-not-depend-on-names). revshare
therefore solves in stages, each keeping the previous optimum to :func:`tolerance`:

1. the structure's objective (or, for ``nash``, its tangent cuts; then each bloc's money is kept);
2. for the objectives in ``NEEDS_PROPORTIONAL_TIE_BREAK``, the closest allocation to
   population-proportional shares (L1);
3. leximin over per-head levels: raise the poorest groups as far as possible, fix those that
   cannot rise further (a non-zero dual of their level row proves it), repeat. The leximin vector
   is unique, so the final allocation is the same whatever the names or the order of the rows.

A stage keeps its optimal face, not just its value: the columns and rows its duals lock at a
bound stay within the stage's tolerance of it (:func:`face_bounds`), so a later stage cannot
spend the tolerance as money where the objective barely depends on it (it moved the centre by
up to 0.4 of the revenue, differently with each solver).

Before a later stage, the executor asks whether it could still move anyone's money: a stage's
duals bound every column over all the points within the stage's tolerance of its optimum
(:func:`stage_ranges`), and a group whose money those bounds hold within the solver's pin share
of the revenue (:func:`pin_share`: ``PIN_SHARE`` for HiGHS) keeps the stage's value (it is
fixed, not re-ranked). When every group and the centre
are pinned, the plan stops there. With the default structure every group is pinned by the
first stage, and the ~one round per distinct level (288 LPs at 2,000 regions) is not needed.
Both executors run the proof (CBC too: :func:`revshare.solve.pulp_executor._pinned` says
why its 8-digit values keep it sound), and the leximin rounds are one loop for every executor
(:func:`revshare.solve.rounds.leximin`). The sweep engine may stop early when it proves that the allocation is the same in every optimum
of the stage it has just solved: the later stages then cannot move it. It runs the pinned-group
proof too, where it does not replay bases across prices (a replayed basis carries the duals to
another price, but not the values the proof also reads).

Only the first stage can prove the rules infeasible: every later stage keeps a feasible optimum,
so "infeasible" there is numerical trouble (:func:`require_optimal`). Numerical trouble is retried
once, with presolve the other way and ``RETRY_SLACK`` times the tolerance (:func:`retry_config`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pulp

if TYPE_CHECKING:  # the matrices come from the executor, which imports scipy when it needs it
    import scipy.sparse as sp

from ..errors import InfeasibleError, NotOptimalError, NumericalTroubleError
from ..model.lp import Model
from ..model.objectives import NEEDS_PROPORTIONAL_TIE_BREAK, l1_to_targets, population_shares
from .solver import DUAL_EPSILON, FEASIBILITY, SolverConfig, Status

RETRY_SLACK = 5.0
PIN_SHARE = 4e-11  # of revenue: how far a pinned group's money may move; two runs that pin it
# differently stay within the 1e-10 of revenue that names and row order may change (HiGHS)
PIN_PRECISION = (
    1e-11  # the precision PIN_SHARE is set for: HiGHS's (revshare.solve.solver.PRECISION)
)
PROPAGATION_PASSES = 20  # bound propagation stops earlier when nothing tightens
ROUNDING = 1e-12  # relative: what a double sum of one row may be off by, with a wide margin


class Coo(NamedTuple):
    """A sparse matrix's entries, as ``scipy.sparse``'s COO format holds them (``tocoo`` gives
    itself, so that either kind of matrix can be passed to the functions below)."""

    row: np.ndarray
    col: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    def tocoo(self) -> Coo:
        return self


class Solution(NamedTuple):
    """The solved model: levels ``z``, centre ``g`` and a deal's accounts and payments
    ``extra`` (in the order of ``Model.extra``) in model units, and what the solve found.
    ``stages`` counts the LP solves."""

    z: np.ndarray
    g: float
    objective_value: float | None
    binding: list[dict[str, Any]]
    solver: str
    stages: int
    seconds: float
    nash_gap: float | None = None
    extra: np.ndarray = np.zeros(0)  # empty: nothing in it to change


class Stage(NamedTuple):
    """A money stage before the leximin rounds: optimise ``expression`` in ``sense``, then keep it."""

    expression: pulp.LpAffineExpression
    sense: int
    name: str


def money_stages(m: Model, objective: pulp.LpAffineExpression | None, sense: int) -> list[Stage]:
    """The stages before leximin: the objective (when it has an expression) and the proportional
    step for objectives that leave ties. Builds the proportional step's rows into ``m``."""
    stages = []
    if objective is not None:
        stages.append(Stage(objective, sense, "objective"))
    if m.structure.objective in NEEDS_PROPORTIONAL_TIE_BREAK:
        expr = l1_to_targets(m, population_shares(m), tag="tie")
        stages.append(Stage(expr, pulp.LpMinimize, "proportional tie-break"))
    return stages


def pin_share(precision: float) -> float:
    """How far a pinned group's money may move, as a share of the revenue, for a solver whose
    values are good to ``precision`` (:attr:`revshare.solve.solver.SolverConfig.precision`):
    ``PIN_SHARE`` for HiGHS's doubles, and as many times more as the solver's precision is
    coarser (8e-8 for CBC's 8 significant digits, whose ranges come out about 500 times wider
    than HiGHS's; still within the 1e-7 of revenue CBC's answers are verified to)."""
    return PIN_SHARE * max(1.0, precision / PIN_PRECISION)


def allocation_money(m: Model) -> np.ndarray:
    """Money (share of the revenue) per unit of each allocation column: each group's level,
    then the centre."""
    return np.append(m.groups["pi"].to_numpy(), 1.0)


def tolerance(precision: float, v: Any, value: Any) -> Any:
    """How far a later stage may move a previous stage's optimum ``value``, in model units, when
    the revenue is ``v`` (scalars or arrays)."""
    return precision * (v + np.abs(value)) + 1e-9


TINY_SHARE = 1e-4  # of the population: a group whose level HiGHS resolves less well than its money


def tiny_group_slack(m: Model, config: SolverConfig) -> np.ndarray:
    """The least slack of each group's leximin fix row, in level units, in the plan's retry
    after numerical trouble (zero on the first attempt, whose answers it therefore leaves as
    they are). A tiny group's level is known only as well as its money: the budget row meets
    ``FEASIBILITY`` in money, which is ``FEASIBILITY / pi_k`` in the level of a group with
    population share ``pi_k`` (0.1 for one person in 1e8); a fix row tighter than that cut off
    the points the next round needed ("infeasible", then "solver error"). The slack moves no
    tiny group's own money by more than ``3 * FEASIBILITY`` (3e-11 of revenue at most)."""
    pi = m.groups["pi"].to_numpy(dtype=float)
    if config.slack <= 1.0:
        return np.zeros(len(pi))
    return np.where(pi < TINY_SHARE, 3 * FEASIBILITY / pi, 0.0)


def stage_tolerance(m: Model, value: float, config: SolverConfig) -> float:
    """:func:`tolerance` for one model solved with ``config``."""
    return float(tolerance(config.precision, m.v, value))


def face_bounds(
    lower: np.ndarray,
    upper: np.ndarray,
    value: np.ndarray,
    worsen: np.ndarray,
    slack: float,
    room: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds that hold a stage's optimal face: every column and row (``a x``) its duals lock
    at a bound, and that the keep-optimum row would let move further than ``slack``, is kept
    within ``slack`` of that bound, in its own units.

    The arguments are those of :func:`stage_ranges`; ``slack`` is the stage's tolerance
    (:func:`stage_tolerance`), ``room`` its keep row's (``slack`` unless
    :func:`revshare.solve.stages.keep_room`). A locked entry (``worsen`` beyond
    the dual tolerance, pointing at a finite bound) is at that bound in every optimum
    (complementary slackness), whichever optimal dual the solver returned: the points of the
    stage's LP that meet these bounds are its optimal face. The keep row alone would let a
    later stage move the entry ``slack / |worsen|`` away, which, where the objective barely
    depends on it (a slope of 1e-8 in the centre's money), is a large share of the revenue
    spent as the solver's tolerance, differently by each solver (CBC's tolerance is 2,000
    times HiGHS's; tests/test_solver_agreement.py). An entry with ``|worsen| >= 1`` is held
    within ``slack`` by the keep row already, and gets no bound (``|worsen| >= room / slack``
    with a wider keep row). The stage's own point ``value`` stays inside the new bounds.

    A slope within the dual tolerance is no lock: the solvers see that direction as flat,
    and the keep row still stops it at ``slack / slope``, differently by each solver."""
    loose = np.abs(worsen) < (1.0 if room is None else room / slack)
    up = (worsen > DUAL_EPSILON) & np.isfinite(lower) & loose
    down = (worsen < -DUAL_EPSILON) & np.isfinite(upper) & loose
    lo, hi = lower.copy(), upper.copy()
    hi[up] = np.minimum(upper[up], np.maximum(value[up], lower[up]) + slack)
    lo[down] = np.maximum(lower[down], np.minimum(value[down], upper[down]) - slack)
    return lo, hi


def retry_config(config: SolverConfig) -> SolverConfig:
    """The one retry after numerical trouble: presolve the other way, a wider tolerance."""
    other = "on" if config.options.get("presolve") == "off" else "off"
    return replace(config, options={**config.options, "presolve": other}, slack=RETRY_SLACK)


def stage_ranges(
    a: sp.spmatrix | Coo,
    lower: np.ndarray,
    upper: np.ndarray,
    value: np.ndarray,
    worsen: np.ndarray,
    slack: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on every column over the points within ``slack`` of a stage's optimum.

    The stage's LP has columns then rows (activities ``a x``) with bounds ``lower``/``upper``,
    optimum ``value``, and ``worsen``: each one's reduced cost or dual, signed so that a positive
    one means raising it worsens the objective (``r = c - a'y``, negated for a maximisation).

    Why they hold. Any point ``x`` of the LP has ``c x - c x* = sum_j r_j (x_j - x*_j)`` (columns
    and rows alike). A *locked* ``j`` (``r_j`` beyond the dual tolerance, pointing at a finite
    bound) worsens the objective by ``|r_j|`` times its distance from that bound, less the
    complementary slackness ``left`` the solver left at ``x*``. So within ``slack`` of the
    optimum, each locked ``j`` stays within ``budget / |r_j|`` of its bound, for any ``budget``
    at least ``slack + left`` plus what the other non-zero ``r_j`` (within the dual tolerance)
    can give back, ``drift = sum |r_j| width_j``. These bounds, with the columns' and rows' own,
    are carried through every row by interval arithmetic (:func:`propagate`). The budget is set
    to twice ``slack + left`` and the ranges are kept only if ``drift`` over them is below the
    other half (strictly: a point leaving the ranges would first cross their edge, where the
    drift is still small enough to keep it inside). Otherwise every column is left unbounded.
    """
    n = a.shape[1]
    up = (worsen > DUAL_EPSILON) & np.isfinite(lower)
    down = (worsen < -DUAL_EPSILON) & np.isfinite(upper)
    left = float(np.sum(worsen[up] * (value[up] - lower[up])))
    left += float(np.sum(-worsen[down] * (upper[down] - value[down])))
    need = slack + max(left, 0.0)
    budget = 2 * need
    lo, hi = lower.copy(), upper.copy()
    hi[up] = np.minimum(hi[up], lo[up] + budget / worsen[up])
    lo[down] = np.maximum(lo[down], hi[down] + budget / worsen[down])
    col_lo, col_hi = propagate(a, lo[:n], hi[:n], lo[n:], hi[n:])
    act_lo, act_hi = activity_range(a, col_lo, col_hi)
    width = np.concatenate(
        [col_hi - col_lo, np.minimum(act_hi, hi[n:]) - np.maximum(act_lo, lo[n:])]
    )
    other = (worsen != 0) & ~up & ~down
    with np.errstate(all="ignore"):
        drift = float(np.sum(np.abs(worsen[other]) * width[other]))
    if not drift < need or np.any(col_lo > col_hi):  # nan or inf included; crossed: rounding
        return np.full(n, -np.inf), np.full(n, np.inf)
    return col_lo, col_hi


def activity_range(
    a: sp.spmatrix | Coo, col_lower: np.ndarray, col_upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The least and most each row of ``a x`` can be with ``x`` within its bounds."""
    coo = a.tocoo()
    least, most = _extremes(coo.data, col_lower[coo.col], col_upper[coo.col])
    return (
        np.bincount(coo.row, least, a.shape[0]),
        np.bincount(coo.row, most, a.shape[0]),
    )


def propagate(
    a: sp.spmatrix | Coo,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    passes: int = PROPAGATION_PASSES,
) -> tuple[np.ndarray, np.ndarray]:
    """Tighten column bounds through the rows ``row_lower <= a x <= row_upper`` (bound
    propagation, as in presolve): each entry ``a_ik x_k`` lies between the row's bounds less the
    most and the least the rest of row ``i`` can add. Repeated until nothing tightens.

    Each new bound is widened by the rounding its sum can carry (``ROUNDING`` of the row's
    magnitude, over the entry), and an entry far smaller than its row's largest gives none (it
    still counts in the rest of the row): dividing by it would turn rounding into bounds."""
    coo = a.tocoo()
    row, col, coef = coo.row, coo.col, coo.data
    n_rows = a.shape[0]
    size = np.abs(coef)
    largest = np.zeros(n_rows)
    np.maximum.at(largest, row, size)
    gives = size >= ROUNDING * largest[row]
    lo, hi = col_lower.copy(), col_upper.copy()
    with np.errstate(all="ignore"):  # inf - inf: that side of the row says nothing
        for _ in range(passes):
            least, most = _extremes(coef, lo[col], hi[col])
            finite = np.where(np.isfinite(least), np.abs(least), 0.0)
            finite += np.where(np.isfinite(most), np.abs(most), 0.0)
            bound = np.where(np.isfinite(row_lower), np.abs(row_lower), 0.0)
            bound += np.where(np.isfinite(row_upper), np.abs(row_upper), 0.0)
            pad = ROUNDING * (np.bincount(row, finite, n_rows) + bound)[row] / size
            top = (row_upper[row] - _rest(row, least, n_rows)) / coef
            bottom = (row_lower[row] + _rest(row, -most, n_rows)) / coef
            top[np.isnan(top)] = np.inf * np.sign(coef[np.isnan(top)])
            bottom[np.isnan(bottom)] = -np.inf * np.sign(coef[np.isnan(bottom)])
            floor = np.where(coef > 0, bottom, top) - pad
            ceiling = np.where(coef > 0, top, bottom) + pad
            new_lo, new_hi = lo.copy(), hi.copy()
            np.maximum.at(new_lo, col[gives], floor[gives])
            np.minimum.at(new_hi, col[gives], ceiling[gives])
            if np.array_equal(new_lo, lo) and np.array_equal(new_hi, hi):
                break
            lo, hi = new_lo, new_hi
    return lo, hi


def _extremes(
    coef: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The least and most ``coef * x`` for ``x`` between ``lower`` and ``upper``."""
    return (
        np.where(coef > 0, coef * lower, coef * upper),
        np.where(coef > 0, coef * upper, coef * lower),
    )


def _rest(row: np.ndarray, term: np.ndarray, n_rows: int) -> np.ndarray:
    """For each entry, the sum of the other entries' ``term`` in its row (-inf where any is)."""
    infinite = np.isneginf(term)
    total = np.bincount(row, np.where(infinite, 0.0, term), n_rows)
    others = np.bincount(row, infinite, n_rows)[row] - infinite
    return np.where(others > 0, -np.inf, total[row] - np.where(infinite, 0.0, term))


def _other(solver: str) -> str:
    return "highs" if solver == "cbc" else "cbc"


def require_optimal(status: Status, stage: str, m: Model, solver: str = "highs") -> None:
    """Raise unless ``status`` is optimal. Only the ``objective`` stage can prove infeasibility;
    a later stage's "infeasible" or "solver error" is numerical trouble, which the plan retries
    once (:func:`retry_config`)."""
    if status is Status.OPTIMAL:
        return
    if status is Status.INFEASIBLE and stage == "objective":
        raise InfeasibleError(
            f"structure {m.structure.name!r} is infeasible on this dataset at "
            f"{m.price:g} USD a barrel: its rules cannot all hold together"
        )
    if status is Status.LIMIT:
        raise NotOptimalError(
            f"{solver} stopped at a time or iteration limit during the {stage} stage before "
            "proving optimality; the result would be unreliable. Re-run with a larger time limit "
            f"(time_limit), or try solver {_other(solver)!r}"
        )
    if status in (Status.INFEASIBLE, Status.DIFFICULTIES) or (
        status is Status.ERROR and stage != "objective"
    ):  # a later stage starts from a feasible optimum: its failure is numerical trouble
        raise NumericalTroubleError(
            f"{solver} ended the {stage} stage with status '{status.value}'"
        )
    raise NotOptimalError(
        f"{solver} ended the {stage} stage with status '{status.value}'; try solver "
        f"{_other(solver)!r}"
    )


def later_status(status: Status, first: bool) -> Status:
    """A stage after the first keeps a feasible optimum, so "infeasible" there is numerical."""
    return Status.DIFFICULTIES if not first and status is Status.INFEASIBLE else status


BINDING_SKIP = ("objective_", "keep_optimum", "tiebreak")  # the plan's own rows, not rules


def binding_label(labels: dict[str, str], name: str) -> str | None:
    """The rule's label for a row named ``name``, or None for the plan's own rows."""
    label = labels.get(name)
    if label is None or label.startswith(BINDING_SKIP):
        return None
    return label
