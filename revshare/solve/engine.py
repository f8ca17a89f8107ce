"""The sweep engine: each structure's model is built once and re-solved in place for every price.

:func:`revshare.analyses.optimize` builds a PuLP model per call, which costs more than solving it. A sweep
instead builds the *parametric* model (:func:`revshare.model.lp.build_model` with
``parametric=True``: every price-dependent quantity is a column fixed by its bounds) once, at the
sweep's highest price, hands it to one in-process HiGHS instance, and for each price changes only
those bounds and re-solves from the previous basis (a warm start).

The stages are those of the plan (:mod:`revshare.solve.plan`), on the same rows: the objective, a
row that keeps its optimum (to the plan's tolerance), the proportional step where the objective
leaves ties, then the leximin rounds over per-head levels, each fixing the groups whose level row
has a non-zero dual. The model lives in a :class:`revshare.solve.highs_executor.Instance`, as in
``optimize``; the rows the stages need are built once with the model and switched on and off by
their bounds. The plan's early stop keeps a sweep fast without changing any answer: when a
stage's allocation is the same in every optimum
(:func:`revshare.solve.highs_executor.allocation_fixed`), the later stages are skipped.

Every stage's status is read from HiGHS through :data:`revshare.solve.solver.HIGHS_STATUS`; a stage that
is not proven optimal is retried once from a cold start with the plan's retry options
(:func:`revshare.solve.plan.retry_config`), and a scenario that still fails is reported as such, never
as money. The caller verifies every allocation independently
(:func:`revshare.solve.verify.verify_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from ..data.dataset import Money, Territory
from ..data.structures import Structure
from ..model.lp import build_model
from ..model.objectives import (
    OBJECTIVES,
    level_offsets,
)
from .highs_executor import Instance, allocation_fixed, basis_status
from .plan import later_status, money_stages, retry_config, tolerance
from .solver import DUAL_EPSILON, HIGHS_DEFAULTS, HIGHS_STATUS, SolverConfig, Status

INF = highspy.kHighsInf


@dataclass(frozen=True)
class Solved:
    """The engine's answers for n prices: ``cells_usd`` (n, cells) and ``centre_usd`` (n,) are
    NaN where ``status`` is not optimal."""

    status: list[Status]
    cells_usd: np.ndarray
    centre_usd: np.ndarray
    stages: np.ndarray  # LP solves per scenario


@dataclass
class _Bounds:
    """Column and row bounds: 1-D for one price, or one row per price when replaying."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


@dataclass(frozen=True)
class _Step:
    """One solved stage of a scenario: the optimal basis and the decision taken from its duals.
    ``stage`` indexes Engine.stages, or is -1 for a leximin round; ``blocked`` are the groups the
    round fixed; ``unique`` ends the scenario."""

    stage: int
    col_status: np.ndarray
    row_status: np.ndarray
    unique: bool
    blocked: np.ndarray


@dataclass(frozen=True)
class _Row:
    """A sparse linear expression over the model's columns, with its constant."""

    index: np.ndarray
    value: np.ndarray
    constant: float

    def of(self, x: np.ndarray) -> float:
        return float(self.value @ x[self.index]) + self.constant


class Engine:
    """One structure's parametric model in a HiGHS instance, re-solved in place per price."""

    def __init__(
        self,
        territory: Territory,
        structure: Structure,
        support_price: float,
        config: SolverConfig | None = None,
    ) -> None:
        self.config = config or SolverConfig()
        if self.config.name != "highs":
            raise ValueError("the sweep engine re-solves in place with HiGHS only")
        if structure.objective == "nash":
            raise ValueError("nash is solved by tangent cuts per scenario; sweep it with optimize")
        self.territory = territory
        self.structure = structure
        m = build_model(territory, structure, support_price, parametric=True)
        self.model = m
        objective = OBJECTIVES[structure.objective](m)
        money = money_stages(m, objective.expression, objective.sense)
        level = m.prob.add_variable("tiebreak_level")
        self.offsets = level_offsets(m)
        for k, z in enumerate(m.z):
            m.prob.addConstraint(level - z <= 0, f"engine_level_{k}")
            m.prob.addConstraint(z >= 0, f"engine_fix_{k}")
        options = {**HIGHS_DEFAULTS, "presolve": "off", **self.config.options}
        self.inst = Instance(m.prob, options)  # presolve off: tiny models re-solved from a basis
        self.h, self.col, self.row = self.inst.h, self.inst.col, self.inst.row
        self.n_cols = self.inst.n_cols
        col = self.col
        used = {key: v for key, v in m.data.items() if v.name in col}  # quantities rules read
        self.data_cols = np.array([col[v.name] for v in used.values()], dtype=np.int32)
        self.data_keys = list(used)
        self.z_cols = np.array([col[z.name] for z in m.z], dtype=np.int32)
        self.g_col = col[m.g.name]
        self.watched = np.append(self.z_cols, self.g_col)  # the allocation
        self.level_col = col[level.name]
        self.level_rows = np.array(
            [self.row[f"engine_level_{k}"] for k in range(len(m.z))], dtype=np.int32
        )
        self.fix_rows = np.array(
            [self.row[f"engine_fix_{k}"] for k in range(len(m.z))], dtype=np.int32
        )
        self.stages: list[tuple[_Row, int, str]] = [
            (self._expr(st.expression), st.sense, st.name) for st in money
        ]
        self.keep_rows = [
            int(self.inst.add_rows(np.full(1, -INF), np.full(1, INF), [e.index], [e.value])[0])
            for e, _, _ in self.stages
        ]
        self.switched = np.concatenate(
            [self.level_rows, self.fix_rows, np.array(self.keep_rows, dtype=np.int32)]
        ).astype(np.int32)
        self.precision = self.config.precision
        self.revenue_col = self.data_keys.index(("revenue", ""))
        # The matrix never changes: a dense copy replays a basis at many prices at once, where
        # the model is small enough for that to pay.
        self.replays = self.n_cols <= REPLAY_MAX_COLUMNS
        self.A = self.inst.matrix().toarray() if self.replays else np.empty((0, 0))
        lp = self.h.getLp()
        self.base = _Bounds(
            *(np.array(a) for a in (lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_))
        )
        self.base.col_lower[self.level_col] = self.base.col_upper[self.level_col] = 0.0
        self.base.row_lower[self.switched] = -INF
        self.base.row_upper[self.switched] = INF

    # -- building -------------------------------------------------------------------------------

    def _expr(self, expr: pulp.LpAffineExpression) -> _Row:
        terms = list(expr.items())
        index = np.array([self.col[v.name] for v, _ in terms], dtype=np.int32)
        value = np.array([coef for _, coef in terms], dtype=float)
        return _Row(index, value, float(expr.constant))

    # -- solving --------------------------------------------------------------------------------

    def quantities(self, money: Money) -> np.ndarray:
        """The data columns' values (model units) at each price of ``money``: (n, data)."""
        t = self.territory
        regions = {str(r): i for i, r in enumerate(t.regions.index)}
        blocs = {b: i for i, b in enumerate(t.blocs)}
        source = {"region": (money.region, regions), "bloc": (money.bloc, blocs)}
        source["outside"] = (money.outside, blocs)
        out = np.empty((len(money.prices), len(self.data_keys)))
        for j, (kind, name) in enumerate(self.data_keys):
            if kind == "revenue":
                out[:, j] = money.revenue
            else:
                table, pos = source[kind]
                out[:, j] = table[:, pos[name]]
        return out / self.model.scale

    def solve(self, money: Money) -> Solved:
        """Solve at every price of ``money``; the answers depend only on the prices and their
        order (the instance starts cold), so a sweep split into fixed chunks gives the same
        numbers on any number of workers.

        The first unsolved price is solved by HiGHS, stage by stage, from the last basis. Its
        bases are then replayed at every other unsolved price at once: where each stage's basis
        is still primal feasible it is still optimal (its reduced costs do not depend on the
        prices), so the stage's optimum, its duals and the decisions read from them are the same
        as HiGHS would reach from that basis without a pivot. The rest go round again.
        """
        self.h.clearSolver()
        q = self.quantities(money)
        n = len(q)
        x = np.full((n, self.n_cols), np.nan)
        statuses = [Status.ERROR] * n
        solves = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        while len(todo):
            i, rest = todo[0], todo[1:]
            status, x_i, solves[i], trace = self._solve_one(q[i])
            if status is not Status.OPTIMAL:
                status, x_i, more, trace = self._retry(q[i])
                solves[i] += more
            statuses[i] = status
            if status is Status.OPTIMAL:
                x[i] = x_i
            if trace is not None and len(rest) and self.replays:
                ok, x_rest = self._replay(trace, q[rest])
                x[rest[ok]] = x_rest[ok]
                for j in rest[ok]:
                    statuses[j] = Status.OPTIMAL
                rest = rest[~ok]
            todo = rest
        optimal = np.array([s is Status.OPTIMAL for s in statuses])
        x[~optimal] = np.nan
        scale = self.model.scale
        return Solved(
            statuses,
            self._cells(x[:, self.z_cols]) * scale,
            x[:, self.g_col] * scale,
            solves,
        )

    def _cells(self, z: np.ndarray) -> np.ndarray:
        """Money per cell (model units) from the groups' levels, as ``optimize`` does."""
        t, m = self.territory, self.model
        cells = t.cells
        share = cells["population"].to_numpy(dtype=float) / t.population
        if self.structure.within_region == "equal":
            pos = {r: k for k, r in enumerate(m.groups["region"])}
            group_of_cell = cells["region"].map(pos).to_numpy()
        else:
            group_of_cell = np.arange(len(cells))
        return z[:, group_of_cell] * share

    # -- one price, with HiGHS ------------------------------------------------------------------

    def _set_cols(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.h.changeColsBounds(len(index), index, lo, hi)
        self.cur.col_lower[index], self.cur.col_upper[index] = lo, hi

    def _set_rows(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.h.changeRowsBounds(len(index), index, lo, hi)  # type: ignore[attr-defined]
        self.cur.row_lower[index], self.cur.row_upper[index] = lo, hi

    def _solve_one(self, q: np.ndarray) -> tuple[Status, np.ndarray, int, list[_Step] | None]:
        """The stages at one price; returns the status, the solution, the number of LP solves
        and the trace of bases (None when a stage was not optimal)."""
        b = self.base
        self.cur = _Bounds(
            *(a.copy() for a in (b.col_lower, b.col_upper, b.row_lower, b.row_upper))
        )
        self._set_cols(self.data_cols, q, q)
        level = np.array([self.level_col], dtype=np.int32)
        self._set_cols(level, np.zeros(1), np.zeros(1))
        self._set_rows(self.switched, *_free(len(self.switched)))
        v = float(q[self.revenue_col])
        trace: list[_Step] = []
        x = np.empty(0)
        for s, (expr, sense, _name) in enumerate(self.stages):
            status, x = self._optimise(expr, sense)
            if status is not Status.OPTIMAL:
                return later_status(status, not trace), x, len(trace) + 1, None
            step = self._step(s, np.empty(0, dtype=np.int64))
            trace.append(step)
            if step.unique:
                return Status.OPTIMAL, x, len(trace), trace
            keep = np.array([self.keep_rows[s]], dtype=np.int32)
            value = expr.of(x)
            self._set_rows(keep, *_keep_bounds(value - expr.constant, sense, self._tol(v, value)))
        self._set_cols(level, np.full(1, -INF), np.full(1, INF))
        free = np.arange(len(self.z_cols))
        self._set_rows(self.level_rows, np.full(len(free), -INF), self.offsets)
        level_expr = _Row(level, np.ones(1), 0.0)
        while len(free):
            status, x = self._optimise(level_expr, pulp.LpMaximize)
            if status is not Status.OPTIMAL:
                return later_status(status, not trace), x, len(trace) + 1, None
            dual = np.abs(np.asarray(self.h.getSolution().row_dual)[self.level_rows[free]])
            step = self._step(-1, free[dual > DUAL_EPSILON])
            trace.append(step)
            if step.unique:
                break  # this round's optimum is the only one: later rounds cannot move it
            if not len(step.blocked):
                return Status.ERROR, x, len(trace), None  # every dual hidden by rounding
            self._fix(step.blocked, x[self.level_col], v)
            free = np.setdiff1d(free, step.blocked)
        return Status.OPTIMAL, x, len(trace), trace

    def _retry(self, q: np.ndarray) -> tuple[Status, np.ndarray, int, list[_Step] | None]:
        """Solve once more from a cold start with presolve on: dual simplex without presolve
        can declare a tightly fixed leximin round infeasible when it is not (seen on data/iraq
        at one price in 10,000). Only the objective stage can prove a structure infeasible."""
        retry = retry_config(self.config)
        self.h.clearSolver()
        self.h.setOptionValue("presolve", retry.options["presolve"])
        try:
            return self._solve_one(q)
        finally:
            self.h.setOptionValue("presolve", self.inst.presolve)
            self.h.clearSolver()

    def _tol(self, v: float | np.ndarray, value: float | np.ndarray) -> float | np.ndarray:
        """The plan's stage tolerance (:func:`revshare.solve.plan.tolerance`)."""
        return tolerance(self.precision, v, value)

    def _fix(self, blocked: np.ndarray, level: float, v: float) -> None:
        """Hold the blocked groups at the round's level, and drop their level rows."""
        self._set_rows(self.level_rows[blocked], *_free(len(blocked)))
        fix = level - self.offsets[blocked] - self._tol(v, level)
        self._set_rows(self.fix_rows[blocked], fix, np.full(len(fix), INF))

    def _optimise(self, expr: _Row, sense: int) -> tuple[Status, np.ndarray]:
        h = self.h
        cost = np.zeros(self.n_cols)
        cost[expr.index] = expr.value
        h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), cost)
        h.changeObjectiveSense(
            highspy.ObjSense.kMinimize if sense == pulp.LpMinimize else highspy.ObjSense.kMaximize
        )
        if self.config.time_limit is not None:  # HiGHS counts the instance's whole run time
            h.setOptionValue("time_limit", h.getRunTime() + self.config.time_limit)
        h.run()
        status = HIGHS_STATUS.get(h.getModelStatus(), Status.ERROR)
        if status is not Status.OPTIMAL:
            return status, np.empty(0)
        return status, np.array(h.getSolution().col_value)

    def _step(self, stage: int, blocked: np.ndarray) -> _Step:
        """Record the optimal basis, and whether the allocation (``z`` and ``g``) is the same in
        every optimum of this stage (:func:`revshare.solve.highs_executor.allocation_fixed`)."""
        col_status, row_status = basis_status(self.inst)
        c = self.cur
        unique = allocation_fixed(
            self.inst,
            self.watched,
            col_status,
            row_status,
            (c.col_lower, c.col_upper, c.row_lower, c.row_upper),
            MAX_EDGE_CHECKS,
        )
        return _Step(stage, col_status, row_status, unique, blocked)

    # -- many prices, by replaying bases --------------------------------------------------------

    def _replay(self, trace: list[_Step], q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Follow ``trace`` at every price of ``q`` at once; returns where every stage's basis
        stayed primal feasible, and the solutions. A price is dropped at the first stage whose
        basis it leaves, so the replay costs little where it does not pay."""
        n = len(q)
        b = self.base
        c = _Bounds(
            *(np.tile(a, (n, 1)) for a in (b.col_lower, b.col_upper, b.row_lower, b.row_upper))
        )
        c.col_lower[:, self.data_cols] = c.col_upper[:, self.data_cols] = q
        v = q[:, self.revenue_col]
        live = np.arange(n)
        x = np.full((n, self.n_cols), np.nan)
        leximin = False
        for step in trace:
            if step.stage < 0 and not leximin:
                leximin = True
                c.col_lower[:, self.level_col], c.col_upper[:, self.level_col] = -INF, INF
                c.row_upper[:, self.level_rows] = self.offsets
            x, feasible = self._basic_solution(step, c)
            feasible &= np.isfinite(x).all(axis=1)
            if not feasible.all():
                live, x, v = live[feasible], x[feasible], v[feasible]
                c = _Bounds(
                    *(a[feasible] for a in (c.col_lower, c.col_upper, c.row_lower, c.row_upper))
                )
            if step.unique or not len(live):
                break
            if step.stage >= 0:
                expr, sense, _ = self.stages[step.stage]
                value = x[:, expr.index] @ expr.value + expr.constant
                keep = self.keep_rows[step.stage]
                c.row_lower[:, keep], c.row_upper[:, keep] = _keep_bounds(
                    value - expr.constant, sense, self._tol(v, value)
                )
            else:
                level = x[:, self.level_col]
                rows = self.level_rows[step.blocked]
                c.row_lower[:, rows], c.row_upper[:, rows] = -INF, INF
                tol = np.asarray(self._tol(v, level))
                fix = level[:, None] - self.offsets[step.blocked] - tol[:, None]
                c.row_lower[:, self.fix_rows[step.blocked]] = fix
        ok = np.zeros(n, dtype=bool)
        ok[live] = True
        out = np.full((n, self.n_cols), np.nan)
        out[live] = x
        return ok, out

    def _basic_solution(self, step: _Step, c: _Bounds) -> tuple[np.ndarray, np.ndarray]:
        """The basic solution of ``step``'s basis under bounds ``c`` (one row per price), and
        whether it is primal feasible to HiGHS's tolerance at each price."""
        cs, rs = step.col_status, step.row_status
        n = len(c.col_lower)
        at_col, at_row = cs != BASIC, rs != BASIC
        if (
            at_col.sum() + at_row.sum() != self.n_cols
            or np.any(cs == NONBASIC)
            or np.any(rs == NONBASIC)
        ):
            return np.full((n, self.n_cols), np.nan), np.zeros(n, dtype=bool)
        matrix = np.vstack([np.eye(self.n_cols)[at_col], self.A[at_row]])
        rhs = np.hstack(
            [
                _at_bound(cs[at_col], c.col_lower[:, at_col], c.col_upper[:, at_col]),
                _at_bound(rs[at_row], c.row_lower[:, at_row], c.row_upper[:, at_row]),
            ]
        )
        try:
            x = np.linalg.solve(matrix, rhs.T).T
        except np.linalg.LinAlgError:
            return np.full((n, self.n_cols), np.nan), np.zeros(n, dtype=bool)
        basic_col, basic_row = ~at_col, ~at_row  # the rest sit on their bounds by construction
        act = x @ self.A[basic_row].T
        feasible = np.ones(n, dtype=bool)
        for value, lo, hi in (
            (x[:, basic_col], c.col_lower[:, basic_col], c.col_upper[:, basic_col]),
            (act, c.row_lower[:, basic_row], c.row_upper[:, basic_row]),
        ):
            slack = FEASIBILITY + 1e-12 * np.abs(value)
            feasible &= np.all((value >= lo - slack) & (value <= hi + slack), axis=1)
        return x, feasible


BASIC = int(highspy.HighsBasisStatus.kBasic)
NONBASIC = int(highspy.HighsBasisStatus.kNonbasic)
LOWER = int(highspy.HighsBasisStatus.kLower)
UPPER = int(highspy.HighsBasisStatus.kUpper)
FEASIBILITY = 1e-9  # HiGHS's primal feasibility tolerance (revshare.solve.solver.HIGHS_DEFAULTS)
REPLAY_MAX_COLUMNS = 400  # beyond, a dense basis solve costs more than HiGHS's warm start
MAX_EDGE_CHECKS = 64  # one basis solve each; past this many, a stage is simply not proven unique


def _at_bound(status: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The value a non-basic column or row takes: its lower or upper bound, or 0 if free."""
    return np.where(status == LOWER, lower, np.where(status == UPPER, upper, 0.0))


def _keep_bounds(
    value: float | np.ndarray, sense: int, tol: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds that keep a stage's optimum ``value`` (net of its expression's constant, which
    the row does not carry) to within ``tol``."""
    value = np.atleast_1d(np.asarray(value, dtype=float))
    tol = np.broadcast_to(tol, value.shape)
    if sense == pulp.LpMinimize:
        return np.full(value.shape, -INF), value + tol
    return value - tol, np.full(value.shape, INF)


def _free(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, -INF), np.full(n, INF)
