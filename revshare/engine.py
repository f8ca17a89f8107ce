"""The sweep engine: each structure's model is built once and re-solved in place for every price.

:func:`revshare.optimize` builds a PuLP model per call, which costs more than solving it. A sweep
instead builds the *parametric* model (:func:`revshare.model.build_model` with
``parametric=True``: every price-dependent quantity is a column fixed by its bounds) once, at the
sweep's highest price, hands it to one in-process HiGHS instance, and for each price changes only
those bounds and re-solves from the previous basis (a warm start).

The stages are those of :func:`revshare.solve.solve_model`, on the same rows: the objective, a
row that keeps its optimum (to the same tolerance), the proportional step where the objective
leaves ties, then the leximin rounds over per-head levels, each fixing the groups whose level row
has a non-zero dual. The rows the stages need are built once with the model and switched on and
off by their bounds. One shortcut keeps a sweep fast without changing any answer: when a stage's
optimal basis is dual non-degenerate (every non-basic column and row that could move has a
non-zero reduced cost), the optimum of that stage is unique, so the later stages cannot move it
and are skipped.

Every stage's status is read from HiGHS through :data:`revshare.solve.HIGHS_STATUS`; a stage that
is not proven optimal is retried once from a cold start, and a scenario that still fails is
reported as such, never as money. The caller verifies every allocation independently
(:func:`revshare.verify.verify_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pulp

from .dataset import Money, Territory
from .errors import SolverUnavailableError
from .model import build_model
from .objectives import (
    NEEDS_PROPORTIONAL_TIE_BREAK,
    OBJECTIVES,
    l1_to_targets,
    level_offsets,
    population_shares,
)
from .solve import DUAL_EPSILON, HIGHS_STATUS, SolverConfig, Status
from .structures import Structure

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
        tie = (
            l1_to_targets(m, population_shares(m), tag="tie")
            if structure.objective in NEEDS_PROPORTIONAL_TIE_BREAK
            else None
        )
        level = m.prob.add_variable("tiebreak_level")
        self.offsets = level_offsets(m)
        for k, z in enumerate(m.z):
            m.prob.addConstraint(level - z <= 0, f"engine_level_{k}")
            m.prob.addConstraint(z >= 0, f"engine_fix_{k}")
        self._load(m.prob)
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
        self.stages: list[tuple[_Row, int, str]] = []
        if objective.expression is not None:
            self.stages.append((self._expr(objective.expression), objective.sense, "objective"))
        if tie is not None:
            self.stages.append((self._expr(tie), pulp.LpMinimize, "proportional tie-break"))
        self.keep_rows = [
            self._add_row(-INF, INF, e.index, e.value, f"engine_keep_{i}")
            for i, (e, _, _) in enumerate(self.stages)
        ]
        self.switched = np.concatenate(
            [self.level_rows, self.fix_rows, np.array(self.keep_rows, dtype=np.int32)]
        ).astype(np.int32)
        self.precision = self.config.precision
        self.revenue_col = self.data_keys.index(("revenue", ""))
        # The matrix never changes: a dense copy replays a basis at many prices at once.
        self.A = np.zeros((len(self.row), self.n_cols))
        for r, index, value in self._triplets:
            self.A[r, index] = value
        lp = self.h.getLp()
        self.base = _Bounds(
            *(np.array(a) for a in (lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_))
        )
        self.base.col_lower[self.level_col] = self.base.col_upper[self.level_col] = 0.0
        self.base.row_lower[self.switched] = -INF
        self.base.row_upper[self.switched] = INF

    # -- building -------------------------------------------------------------------------------

    def _load(self, prob: pulp.LpProblem) -> None:
        """Pass the PuLP problem to a fresh HiGHS instance, row by row."""
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        options = {
            "primal_feasibility_tolerance": 1e-9,
            "dual_feasibility_tolerance": 1e-9,
            "small_matrix_value": 1e-12,
            "presolve": "off",  # tiny models re-solved from a basis; keeps duals and basis exact
            **self.config.options,
        }
        for key, value in options.items():
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise SolverUnavailableError(f"HiGHS refused the option {key}={value!r}")
        self.presolve = str(options["presolve"])
        variables = prob.variables()
        self.col = {v.name: i for i, v in enumerate(variables)}
        lower = np.array([-INF if v.lowBound is None else v.lowBound for v in variables], float)
        upper = np.array([INF if v.upBound is None else v.upBound for v in variables], float)
        h.addVars(len(variables), lower, upper)
        self.h = h
        self.row: dict[str, int] = {}
        self._triplets: list[tuple[int, np.ndarray, np.ndarray]] = []
        for c in prob.constraints():
            terms = list(c.items())
            index = np.array([self.col[v.name] for v, _ in terms], dtype=np.int32)
            value = np.array([coef for _, coef in terms], dtype=float)
            rhs = -float(c.constant)
            lo = rhs if c.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF
            hi = rhs if c.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF
            self._add_row(lo, hi, index, value, c.name)
        self.n_cols = len(variables)

    def _expr(self, expr: pulp.LpAffineExpression) -> _Row:
        terms = list(expr.items())
        index = np.array([self.col[v.name] for v, _ in terms], dtype=np.int32)
        value = np.array([coef for _, coef in terms], dtype=float)
        return _Row(index, value, float(expr.constant))

    def _add_row(
        self, lo: float, hi: float, index: np.ndarray, value: np.ndarray, name: str
    ) -> int:
        self.h.addRow(lo, hi, len(index), index, value)
        self.row[name] = len(self.row)
        self._triplets.append((self.row[name], index, value))
        return self.row[name]

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
            if trace is not None and len(rest) and self.n_cols <= REPLAY_MAX_COLUMNS:
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
                return _later(status, trace), x, len(trace) + 1, None
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
                return _later(status, trace), x, len(trace) + 1, None
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
        self.h.clearSolver()
        self.h.setOptionValue("presolve", "on")
        try:
            return self._solve_one(q)
        finally:
            self.h.setOptionValue("presolve", self.presolve)
            self.h.clearSolver()

    def _tol(self, v: float | np.ndarray, value: float | np.ndarray) -> float | np.ndarray:
        """The stage tolerance of :func:`revshare.solve.stage_tolerance`."""
        return self.precision * (v + np.abs(value)) + 1e-9

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
        every optimum of this stage.

        Every optimum lies in the cone of the edges along which a non-basic column or row can
        leave its bound at zero reduced cost (the *movable* ones); any other edge worsens the
        objective. So if no movable edge changes ``z`` or ``g`` (its direction, ``B^-1`` times
        the column, is zero on the basic ``z`` and ``g``), the allocation is unique, even where
        auxiliary columns are not (deviations within a kept optimum's tolerance)."""
        basis, sol = self.h.getBasis(), self.h.getSolution()
        col_status = np.array([int(s) for s in basis.col_status])
        row_status = np.array([int(s) for s in basis.row_status])
        unique = self._allocation_fixed(col_status, row_status, sol.col_dual, sol.row_dual)
        return _Step(stage, col_status, row_status, unique, blocked)

    def _allocation_fixed(
        self, col_status: np.ndarray, row_status: np.ndarray, col_dual: Any, row_dual: Any
    ) -> bool:
        c = self.cur
        movable = []
        for status, dual, lo, hi in (
            (col_status, col_dual, c.col_lower, c.col_upper),
            (row_status, row_dual, c.row_lower, c.row_upper),
        ):
            can_move = (status != BASIC) & (lo < hi)  # a free non-basic one moves both ways
            movable.append(np.flatnonzero(can_move & (np.abs(np.asarray(dual)) <= DUAL_EPSILON)))
        cols, rows = movable
        if not len(cols) and not len(rows):
            return True
        if np.isin(cols, self.watched).any() or len(cols) + len(rows) > MAX_EDGE_CHECKS:
            return False  # not proven unique: the leximin rounds decide
        found, basic = self.h.getBasicVariables()  # type: ignore[attr-defined]
        if found != highspy.HighsStatus.kOk:
            return False
        basic = np.asarray(basic)
        watched_basic = np.isin(basic, self.watched)
        if not watched_basic.any():
            return True
        edges = [np.ascontiguousarray(self.A[:, j]) for j in cols]
        for i in rows:
            edges.append(np.zeros(len(self.row)))
            edges[-1][i] = 1.0
        for rhs in edges:
            solved, direction = self.h.getBasisSolve(rhs)  # type: ignore[attr-defined]
            if (
                solved != highspy.HighsStatus.kOk
                or np.max(np.abs(direction[watched_basic])) > EDGE_EPSILON
            ):
                return False
        return True

    # -- many prices, by replaying bases --------------------------------------------------------

    def _replay(self, trace: list[_Step], q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Follow ``trace`` at every price of ``q`` at once; returns where every stage's basis
        stayed primal feasible, and the solutions."""
        n = len(q)
        b = self.base
        c = _Bounds(
            *(np.tile(a, (n, 1)) for a in (b.col_lower, b.col_upper, b.row_lower, b.row_upper))
        )
        c.col_lower[:, self.data_cols] = c.col_upper[:, self.data_cols] = q
        v = q[:, self.revenue_col]
        ok = np.ones(n, dtype=bool)
        x = np.full((n, self.n_cols), np.nan)
        leximin = False
        for step in trace:
            if step.stage < 0 and not leximin:
                leximin = True
                c.col_lower[:, self.level_col], c.col_upper[:, self.level_col] = -INF, INF
                c.row_upper[:, self.level_rows] = self.offsets
            x, feasible = self._basic_solution(step, c)
            ok &= feasible
            if step.unique:
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
        return ok & np.isfinite(x).all(axis=1), x

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
        act = x @ self.A.T
        feasible = np.ones(n, dtype=bool)
        for value, lo, hi in ((x, c.col_lower, c.col_upper), (act, c.row_lower, c.row_upper)):
            slack = FEASIBILITY + 1e-12 * np.abs(value)
            feasible &= np.all((value >= lo - slack) & (value <= hi + slack), axis=1)
        return x, feasible


BASIC = int(highspy.HighsBasisStatus.kBasic)
NONBASIC = int(highspy.HighsBasisStatus.kNonbasic)
LOWER = int(highspy.HighsBasisStatus.kLower)
UPPER = int(highspy.HighsBasisStatus.kUpper)
FEASIBILITY = 1e-9  # HiGHS's primal feasibility tolerance, as set in Engine._load
REPLAY_MAX_COLUMNS = 400  # beyond, a dense basis solve costs more than HiGHS's warm start
EDGE_EPSILON = 1e-9  # an edge that moves z or g by less per unit is taken as not moving them
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


def _later(status: Status, trace: list[_Step]) -> Status:
    """A stage after the first keeps a feasible optimum, so "infeasible" there is numerical."""
    return Status.ERROR if trace and status is Status.INFEASIBLE else status


def _free(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, -INF), np.full(n, INF)
