"""The staged plan (:mod:`revshare.solve.plan`) carried out in one in-place HiGHS instance.

The PuLP model is the one source of rows and names: it is passed to HiGHS once
(:class:`Instance`), and every stage then changes only the costs, adds a few rows or moves row
bounds, and re-solves from the previous basis (a warm start). The sweep engine
(:mod:`revshare.solve.engine`) uses the same :class:`Instance` and :func:`allocation_fixed`.

The executor stops early only where a stage's duals pin every group's money over all the points
within the stage's tolerance of its optimum (:func:`revshare.solve.plan.stage_ranges`), not just
over its optimal face: stopping where :func:`allocation_fixed` proves one basis's allocation
unique (as the sweep engine does) made answers depend on row order by up to the stages'
tolerance, which the relabelling property tests catch. Groups pinned that way skip the leximin
rounds; the others go through them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pulp

if TYPE_CHECKING:
    import scipy.sparse as sp

from ..errors import SolverUnavailableError
from ..model.lp import Model
from ..model.objectives import OBJECTIVES, level_offsets
from .plan import (
    PIN_SHARE,
    Coo,
    Solution,
    allocation_money,
    binding_label,
    money_stages,
    require_optimal,
    stage_ranges,
    stage_tolerance,
    tiny_group_slack,
    tolerance,
)
from .rounds import hold, leximin, pin_allowed, unstable
from .rounds import without_pinning as without_pinning  # the retry's switch, used from here
from .solver import (
    DUAL_EPSILON,
    FEASIBILITY,
    HIGHS_DEFAULTS,
    HIGHS_STATUS,
    SolverConfig,
    Status,
    stdout_to_stderr,
)

INF = highspy.kHighsInf
BASIC = int(highspy.HighsBasisStatus.kBasic)
EDGE_EPSILON = 1e-9  # an edge that moves z or g by less per unit is taken as not moving them
MAX_EDGE_CHECKS = 64  # one basis solve each; past this many a stage is not proven unique
PROVE_PINNED = True  # benchmarks/scale.py turns it off to measure the rounds alone


class Instance:
    """A PuLP problem's rows and columns in one HiGHS instance, with the current bounds."""

    def __init__(self, prob: pulp.LpProblem, options: Mapping[str, Any]) -> None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for key, value in options.items():
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise SolverUnavailableError(f"HiGHS refused the option {key}={value!r}")
        self.h = h
        self.presolve = str(options.get("presolve", "choose"))
        # what a re-run with another setting restores afterwards
        self.options = {
            "presolve": self.presolve,
            "simplex_strategy": options.get("simplex_strategy", 1),
        }
        variables = prob.variables()
        self.col = {v.name: i for i, v in enumerate(variables)}
        self.col_lower = np.array(
            [-INF if v.lowBound is None else v.lowBound for v in variables], float
        )
        self.col_upper = np.array(
            [INF if v.upBound is None else v.upBound for v in variables], float
        )
        h.addVars(len(variables), self.col_lower, self.col_upper)
        self.row: dict[str, int] = {}
        starts: list[int] = []
        index: list[int] = []
        coefs: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        for c in prob.constraints():
            starts.append(len(index))
            for v, coef in c.items():
                index.append(self.col[v.name])
                coefs.append(coef)
            rhs = -float(c.constant)
            lower.append(rhs if c.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF)
            upper.append(rhs if c.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF)
            self.row[c.name] = len(self.row)
        self.row_lower = np.empty(0)
        self.row_upper = np.empty(0)
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._matrix: sp.csc_matrix | None = None
        self._cost: np.ndarray | None = None
        self._push_rows(
            np.array(lower, float), np.array(upper, float), np.array(starts, np.int32), index, coefs
        )

    @property
    def n_cols(self) -> int:
        return len(self.col_lower)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def _push_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        starts: np.ndarray,
        index: list[int] | np.ndarray,
        value: list[float] | np.ndarray,
    ) -> None:
        idx = np.asarray(index, dtype=np.int32)
        val = np.asarray(value, dtype=float)
        if len(starts):
            self.h.addRows(len(starts), lower, upper, len(idx), starts, idx, val)
        self.row_lower = np.append(self.row_lower, lower)
        self.row_upper = np.append(self.row_upper, upper)
        self._blocks.append((starts, idx, val))
        self._matrix = None

    def add_col(self, lower: float, upper: float) -> int:
        self.h.addVar(lower, upper)
        self.col_lower = np.append(self.col_lower, lower)
        self.col_upper = np.append(self.col_upper, upper)
        self._matrix = self._cost = None
        return self.n_cols - 1

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, index: list[np.ndarray], value: list[np.ndarray]
    ) -> np.ndarray:
        """Add one row per entry of ``index``/``value``; returns their positions."""
        first = self.n_rows
        starts = np.cumsum([0] + [len(i) for i in index[:-1]]).astype(np.int32)
        self._push_rows(
            np.asarray(lower, float),
            np.asarray(upper, float),
            starts,
            np.concatenate(index),
            np.concatenate(value),
        )
        return np.arange(first, self.n_rows, dtype=np.int32)

    def set_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]
        self.row_lower[rows], self.row_upper[rows] = lower, upper

    def set_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeColsBounds(len(cols), cols, lower, upper)
        self.col_lower[cols], self.col_upper[cols] = lower, upper

    def coo(self) -> Coo:
        """The constraint matrix's entries (row, column, value), from numpy alone: what bound
        propagation reads (:func:`revshare.solve.plan.stage_ranges`), without importing scipy,
        which would cost a command a third of its start-up."""
        rows, cols, vals = [], [], []
        offset = 0
        for starts, idx, val in self._blocks:
            counts = np.diff(np.append(starts, len(idx)))
            rows.append(np.repeat(np.arange(offset, offset + len(starts)), counts))
            cols.append(idx)
            vals.append(val)
            offset += len(starts)
        return Coo(
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            (self.n_rows, self.n_cols),
        )

    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix (rows x columns), built when first asked for after a change."""
        import scipy.sparse as sp  # on first use only (see :meth:`coo`)

        if self._matrix is None:
            c = self.coo()
            self._matrix = sp.csc_matrix((c.data, (c.row, c.col)), shape=c.shape)
        return self._matrix

    def optimise(
        self, index: np.ndarray, value: np.ndarray, sense: int, time_limit: float | None
    ) -> Status:
        """Minimise or maximise ``value @ x[index]`` from the current basis."""
        h = self.h
        cost = np.zeros(self.n_cols)
        cost[index] = value
        if self._cost is None or not np.array_equal(cost, self._cost):  # keeps HiGHS's factor
            h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), cost)
            self._cost = cost
        h.changeObjectiveSense(
            highspy.ObjSense.kMinimize if sense == pulp.LpMinimize else highspy.ObjSense.kMaximize
        )
        status = self._run(time_limit)
        if status not in (Status.OPTIMAL, Status.LIMIT):
            # a warm start can end in trouble a cold one does not (tiny groups beside large
            # ones); presolve cannot tell infeasible from unbounded, the simplex can
            off = status is Status.INFEASIBLE_OR_UNBOUNDED
            status = self._rerun(time_limit, "presolve", "off" if off else self.presolve)
        if h.getModelStatus() == highspy.HighsModelStatus.kUnknown or (
            status is Status.OPTIMAL and h.getInfo().max_primal_infeasibility > FEASIBILITY
        ):
            # the dual simplex could not clean up its unscaled solution (tiny groups beside
            # large ones); the primal simplex settles it, proving infeasibility where there is
            # one (a case that ended "solver error", exit 4, is infeasible, exit 3)
            status = self._rerun(time_limit, "simplex_strategy", 4)
        return status

    def _run(self, time_limit: float | None) -> Status:
        h = self.h
        if time_limit is not None:  # HiGHS counts the instance's whole run time
            h.setOptionValue("time_limit", h.getRunTime() + time_limit)
        h.run()
        return HIGHS_STATUS.get(h.getModelStatus(), Status.ERROR)

    def _rerun(self, time_limit: float | None, option: str, value: Any) -> Status:
        """Solve again from scratch with ``option`` set to ``value`` for this run only."""
        self.h.clearSolver()
        kept = self.options[option]
        self.h.setOptionValue(option, value)
        try:
            return self._run(time_limit)
        finally:
            self.h.setOptionValue(option, kept)

    def x(self) -> np.ndarray:
        return np.array(self.h.getSolution().col_value)


def allocation_fixed(
    inst: Instance,
    watched: np.ndarray,
    col_status: np.ndarray,
    row_status: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_edges: int = MAX_EDGE_CHECKS,
) -> bool:
    """Whether the ``watched`` columns (the allocation) are the same in every optimum.

    Every optimum lies in the cone of the edges along which a non-basic column or row can leave
    its bound at zero reduced cost (the *movable* ones); any other edge worsens the objective. So
    if no movable edge changes a watched column (its direction, ``B^-1`` times the column, is zero
    there), the allocation is unique, even where auxiliary columns are not. ``bounds`` (column
    lower, upper, row lower, upper) default to the instance's own."""
    h = inst.h
    sol = h.getSolution()
    c_lo, c_hi, r_lo, r_hi = bounds or (
        inst.col_lower,
        inst.col_upper,
        inst.row_lower,
        inst.row_upper,
    )
    movable = []
    for status, dual, lo, hi in (
        (col_status, sol.col_dual, c_lo, c_hi),
        (row_status, sol.row_dual, r_lo, r_hi),
    ):
        can_move = (status != BASIC) & (lo < hi)  # a free non-basic one moves both ways
        movable.append(np.flatnonzero(can_move & (np.abs(np.asarray(dual)) <= DUAL_EPSILON)))
    cols, rows = movable
    if not len(cols) and not len(rows):
        return True
    if np.isin(cols, watched).any() or len(cols) + len(rows) > max_edges:
        return False  # not proven unique: the leximin rounds decide
    found, basic = h.getBasicVariables()  # type: ignore[attr-defined]
    if found != highspy.HighsStatus.kOk:
        return False
    watched_basic = np.isin(np.asarray(basic), watched)
    if not watched_basic.any():
        return True
    a = inst.matrix()
    for j in [*cols, *(-1 - rows)]:
        rhs = np.zeros(inst.n_rows)
        if j >= 0:
            rhs[a.indices[a.indptr[j] : a.indptr[j + 1]]] = a.data[a.indptr[j] : a.indptr[j + 1]]
        else:
            rhs[-1 - j] = 1.0
        solved, direction = h.getBasisSolve(rhs)  # type: ignore[attr-defined]
        if solved != highspy.HighsStatus.kOk or (
            np.max(np.abs(np.asarray(direction)[watched_basic])) > EDGE_EPSILON
        ):
            return False
    return True


def column_ranges(
    inst: Instance,
    sense: int,
    slack: float,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`revshare.solve.plan.stage_ranges` for the stage just solved in ``inst``: bounds
    on every column over the points within ``slack`` of its optimum. No LP solve. ``bounds``
    (column lower, upper, row lower, upper) default to the instance's own."""
    sol = inst.h.getSolution()
    sign = 1.0 if sense == pulp.LpMinimize else -1.0
    c_lo, c_hi, r_lo, r_hi = bounds or (
        inst.col_lower,
        inst.col_upper,
        inst.row_lower,
        inst.row_upper,
    )
    return stage_ranges(
        inst.coo(),
        np.concatenate([c_lo, r_lo]),
        np.concatenate([c_hi, r_hi]),
        np.concatenate([np.asarray(sol.col_value), np.asarray(sol.row_value)]),
        sign * np.concatenate([np.asarray(sol.col_dual), np.asarray(sol.row_dual)]),
        slack,
    )


def basis_status(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    basis = inst.h.getBasis()
    return (
        np.array([int(s) for s in basis.col_status]),
        np.array([int(s) for s in basis.row_status]),
    )


def highs_options(config: SolverConfig) -> dict[str, Any]:
    """The HiGHS options of every in-place solve (those :meth:`SolverConfig.make` sets too)."""
    return {**HIGHS_DEFAULTS, **config.options}


def _terms(expr: pulp.LpAffineExpression, col: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    items = list(expr.items())
    return (
        np.array([col[v.name] for v, _ in items], dtype=np.int32),
        np.array([c for _, c in items], dtype=float),
    )


def solve(m: Model, config: SolverConfig) -> Solution:
    """Carry out the plan on ``m`` in one HiGHS instance and return the tie-broken optimum.
    What HiGHS prints when user options ask it to goes to standard error."""
    routed = stdout_to_stderr() if config.logs else contextlib.nullcontext()
    with routed:
        return _solve(m, config)


def _solve(m: Model, config: SolverConfig) -> Solution:
    started = time.perf_counter()
    objective = OBJECTIVES[m.structure.objective](m)
    solves = 0
    value: float | None = None
    gap: float | None = None
    if m.structure.objective == "nash":
        from . import cuts  # only the nash objective needs these
        from .cuts import InPlaceCuts, PulpCuts
        from .nash import keep_bloc_money, solve_nash
        from .pulp_executor import optimise

        result = solve_nash(
            m,
            lambda: (
                InPlaceCuts(Instance(m.prob, highs_options(config)), m, config)
                if cuts.IN_PLACE
                else PulpCuts(  # the path it replaced, which benchmarks/nash.py times
                    m.prob,
                    lambda prob, expr, sense, stage: optimise(m, prob, expr, sense, config, stage),
                )
            ),
            precision=5 * config.precision,
        )  # the gap a solver can close: 1e-7 with CBC
        keep_bloc_money(m, result, stage_tolerance(m, m.v, config))
        value, gap, solves = result.value, result.gap, result.rounds
    stages = money_stages(m, objective.expression, objective.sense)
    inst = Instance(m.prob, highs_options(config))
    watched = np.array([inst.col[z.name] for z in m.z] + [inst.col[m.g.name]], dtype=np.int32)
    binding: list[dict[str, Any]] = []
    first = gap is None
    pinned = np.zeros(len(watched), dtype=bool)
    x = np.zeros(0)
    for stage in stages:
        index, coef = _terms(stage.expression, inst.col)
        status = inst.optimise(index, coef, stage.sense, config.time_limit)
        solves += 1
        require_optimal(status, stage.name, m, config.name)
        x = inst.x()
        stage_value = float(coef @ x[index]) + float(stage.expression.constant)
        if first:
            value, binding = stage_value, _binding(m, inst)
        first = False
        tol = stage_tolerance(m, stage_value, config)
        pinned |= _pinned(m, inst, watched, stage.sense, tol)
        if pinned.all():  # no later stage or round can move anyone's money further
            return _solution(m, inst, x, watched, value, binding, config, solves, started, gap)
        bound = stage_value - float(stage.expression.constant)
        lower, upper = (-INF, bound + tol) if stage.sense == pulp.LpMinimize else (bound - tol, INF)
        inst.add_rows(np.array([lower]), np.array([upper]), [index], [coef])
    x, lex_value, lex_binding, more = _leximin(m, inst, watched, config, first, pinned[:-1], x)
    if first:
        value, binding = lex_value, lex_binding
    return _solution(m, inst, x, watched, value, binding, config, solves + more, started, gap)


def _pinned(m: Model, inst: Instance, watched: np.ndarray, sense: int, tol: float) -> np.ndarray:
    """:func:`pinned_columns` for the model ``m``, or none where pinning is off."""
    if not pinning():
        return np.zeros(len(watched), dtype=bool)
    return pinned_columns(inst, watched, allocation_money(m), m.v, sense, tol)


def pinning() -> bool:
    """Whether the plan proves groups pinned (off in :func:`without_pinning` and when a
    benchmark measures the rounds alone)."""
    return PROVE_PINNED and pin_allowed()


def pinned_columns(
    inst: Instance,
    watched: np.ndarray,
    money: np.ndarray,
    revenue: float,
    sense: int,
    tol: float,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Which of the allocation's columns ``watched`` (each group's level, then the centre) the
    stage just solved pins: over every point within ``tol`` of its optimum their money (``money``
    per unit) moves by at most ``PIN_SHARE`` of the ``revenue`` (:func:`column_ranges`; a tenth
    of what verification allows), so no later stage or round could move them further, whatever
    the names or the order of the rows: they keep the stage's values."""
    lower, upper = column_ranges(inst, sense, tol, bounds)
    return money * (upper[watched] - lower[watched]) <= PIN_SHARE * revenue


def _solution(
    m: Model,
    inst: Instance,
    x: np.ndarray,
    watched: np.ndarray,
    value: float | None,
    binding: list[dict[str, Any]],
    config: SolverConfig,
    solves: int,
    started: float,
    gap: float | None,
) -> Solution:
    return Solution(
        z=x[watched[:-1]],
        g=float(x[watched[-1]]),
        extra=x[np.array([inst.col[v.name] for v in m.extra], dtype=np.int64)],
        objective_value=value,
        binding=binding,
        solver=config.name,
        stages=solves,
        seconds=time.perf_counter() - started,
        nash_gap=gap,
    )


def _leximin(
    m: Model,
    inst: Instance,
    watched: np.ndarray,
    config: SolverConfig,
    first: bool,
    pinned: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, float, list[dict[str, Any]], int]:
    """The leximin rounds (:func:`revshare.solve.rounds.leximin`) in place. The ``pinned``
    groups, pinned by the stages, are fixed from the start at their money in ``start``, the last
    stage's optimum."""
    rounds = _InstanceRounds(m, inst, watched, config, start)
    tol = lambda value: tolerance(config.precision, m.v, value)  # noqa: E731
    groups = np.flatnonzero(pinned)
    least = tiny_group_slack(m, config)
    hold(rounds, groups, start[watched[groups]], tol, least)
    outcome = leximin(rounds, np.flatnonzero(~pinned), rounds.offsets, tol, first, least)
    return rounds.x, outcome.first_level, rounds.binding, outcome.solves


class _InstanceRounds:
    """:class:`revshare.solve.rounds.Rounds` on an :class:`Instance`: a level column ``t``, a
    level row and a fix row per group, all added once; a round switches rows by their bounds
    (adding rows would make HiGHS factor its basis again every round)."""

    def __init__(
        self, m: Model, inst: Instance, watched: np.ndarray, config: SolverConfig, start: np.ndarray
    ) -> None:
        self.m, self.inst, self.watched, self.config = m, inst, watched, config
        self.offsets = level_offsets(m)
        n = len(m.z)
        self.z_cols = watched[:-1]
        self.t = inst.add_col(-INF, INF)
        self.level_rows = inst.add_rows(
            np.full(n, -INF),
            self.offsets,
            [np.array([self.t, z], dtype=np.int32) for z in self.z_cols],
            [np.array([1.0, -1.0])] * n,
        )
        self.fix_rows = inst.add_rows(  # z_k >= floor_k, off until a group is fixed
            np.full(n, -INF),
            np.full(n, INF),
            [np.array([z], dtype=np.int32) for z in self.z_cols],
            [np.ones(1)] * n,
        )
        self.x = start  # the answer where the stages pinned every group
        self.binding: list[dict[str, Any]] = []

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        status = self.inst.optimise(
            np.array([self.t], dtype=np.int32), np.ones(1), pulp.LpMaximize, self.config.time_limit
        )
        require_optimal(status, stage, self.m, self.config.name)
        self.x = self.inst.x()
        if stage == "objective":
            self.binding = _binding(self.m, self.inst)
        return status

    def level(self) -> float:
        return float(self.x[self.t])

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        return np.asarray(self.inst.h.getSolution().row_dual)[self.level_rows[free]]

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return self.x[self.z_cols[groups]]

    def pinned(self, tol: float) -> np.ndarray:
        return _pinned(self.m, self.inst, self.watched, pulp.LpMaximize, tol)[:-1]

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        return False

    def probe(self, free: np.ndarray, level: float, tol: float) -> tuple[np.ndarray, int]:
        """Each free group's highest level with ``t`` held at ``level - tol``."""
        inst, m, config = self.inst, self.m, self.config
        t_index = np.array([self.t], dtype=np.int32)
        inst.set_cols(t_index, np.array([level - tol]), np.array([INF]))
        blocked = []
        for k in free:
            status = inst.optimise(self.z_cols[[k]], np.ones(1), pulp.LpMaximize, config.time_limit)
            require_optimal(status, "leximin probe", m, config.name)
            if float(inst.x()[self.z_cols[k]]) + self.offsets[k] <= level + 2 * tol:
                blocked.append(k)
        inst.set_cols(t_index, np.array([-INF]), np.array([INF]))
        return unstable(blocked), len(free)

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        k = len(groups)
        self.inst.set_rows(self.level_rows[groups], np.full(k, -INF), np.full(k, INF))
        self.inst.set_rows(self.fix_rows[groups], floors, np.full(k, INF))


def _binding(m: Model, inst: Instance) -> list[dict[str, Any]]:
    """Rules with a non-zero dual: what holds the objective back, per USD of the rule's bound."""
    sol = inst.h.getSolution()
    dual, activity = np.asarray(sol.row_dual), np.asarray(sol.row_value)
    rows = []
    for name, i in inst.row.items():
        label = binding_label(m.labels, name)
        if label is None or abs(dual[i]) <= DUAL_EPSILON:
            continue
        if inst.row_upper[i] < INF and inst.row_lower[i] == -INF:  # a <= row, as PuLP signs it
            slack = inst.row_upper[i] - activity[i]
        else:
            slack = activity[i] - inst.row_lower[i]
        rows.append({"constraint": label, "dual": float(dual[i]), "slack": float(slack)})
    return rows
