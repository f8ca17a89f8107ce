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
(:func:`revshare.solve.highs_executor.allocation_fixed`), the later stages are skipped. Where the
engine does not replay bases (models past ``REPLAY_MAX_COLUMNS``: districts, periods), it also
runs the plan's pinned-group proof as ``optimize`` does
(:func:`revshare.solve.highs_executor.pinned_columns`): groups a stage's duals pin keep their
money and skip the leximin rounds, so 774 regions take about three LPs a price, not one round per
distinct level (about a hundred).

Most prices are never given to HiGHS (:meth:`Engine.solve`): the bases one price's stages end
on are *replayed* at every other price at once. Along a trace of bases every bound is affine in
a price's few coordinates (the data is a constant plus the price times fixed quantities; each
stage's optimum and tolerance are affine in the data), so a step solves its basis matrix once
for coefficients and only the feasibility test is worked out price by price, mostly cleared for
all prices at once by a box test. A price that leaves a trace at some step starts HiGHS at that
step, with the bounds the earlier steps give it; every step HiGHS runs starts from the last
optimal basis of the same step (same stage, same groups fixed) at another price, which is still
dual feasible there, so takes a few pivots.

Every stage's status is read from HiGHS through :data:`revshare.solve.solver.HIGHS_STATUS`; a stage that
is not proven optimal is retried once from a cold start with the plan's retry options
(:func:`revshare.solve.plan.retry_config`), and a scenario that still fails is reported as such, never
as money. The caller verifies every allocation independently
(:func:`revshare.solve.verify.verify_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
from .highs_executor import (
    Instance,
    allocation_fixed,
    allocation_money,
    pinned_columns,
    pinning,
    without_pinning,
)
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
    """Column and row bounds at the price HiGHS is solving."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


@dataclass(frozen=True)
class _Step:
    """One solved stage of a scenario: the optimal basis and the decision taken from its duals.
    ``stage`` indexes Engine.stages, or is -1 for a leximin round; ``blocked`` are the groups the
    round fixed at its level; ``unique`` ends the scenario. ``held`` are the groups the step's
    duals pinned (fixed at their own money; only where the engine does not replay)."""

    stage: int
    col_status: np.ndarray
    row_status: np.ndarray
    unique: bool
    blocked: np.ndarray
    basis: highspy.HighsBasis  # to start a price that leaves the trace here
    held: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class _Resume:
    """Where a price left a replayed trace: the steps before ``at`` hold at that price, so
    HiGHS starts at step ``at`` with the bounds they leave (``bounds``) from that step's basis,
    which is still dual feasible there (the costs are the same), so takes a few pivots."""

    trace: list[_Step]
    at: int
    bounds: _Bounds


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
        # the last optimal basis of each step (stage, groups fixed), to start the same step at
        # another price from: a stage index and b"", or -1 and the fixed groups' mask
        self.known: dict[tuple[int, bytes], highspy.HighsBasis] = {}
        self.revenue_col = self.data_keys.index(("revenue", ""))
        # The matrix never changes: a dense copy replays a basis at many prices at once, where
        # the model is small enough for that to pay.
        # The plan's tolerance is affine in the revenue and the size of the optimum it keeps:
        # a replay carries it as coefficients, read here from the rule itself.
        self.tol_affine = tuple(
            float(self._tol(v, s)) - (float(self._tol(0.0, 0.0)) if v or s else 0.0)
            for v, s in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))
        )
        base, per_revenue, per_size = self.tol_affine
        affine = abs(float(self._tol(3.0, 5.0)) - (base + 3 * per_revenue + 5 * per_size))
        self.replays = self.n_cols <= REPLAY_MAX_COLUMNS and affine <= 1e-12
        # The plan's pinned-group proof (revshare.solve.plan.stage_ranges) decides from one
        # price's values as well as its duals, so a replayed basis could not carry its decisions
        # to other prices: it runs where the engine does not replay, on models large enough
        # for the leximin rounds (about one per distinct level) to cost more than replays save.
        self.proves = not self.replays
        self.money = allocation_money(m)
        self.A = self.inst.matrix().toarray() if self.replays else np.empty((0, 0))
        self.entries = np.vstack([np.eye(self.n_cols), self.A]) if self.replays else self.A
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

        The first unsolved price is solved by HiGHS, stage by stage (from the step where it
        left an earlier trace, if it did). Its bases are then replayed at every other unsolved
        price at once: where each stage's basis is still primal feasible it is still optimal
        (its reduced costs do not depend on the prices), so the stage's optimum, its duals and
        the decisions read from them are the same as HiGHS would reach from that basis without
        a pivot. The rest go round again. The bases kept for warm starts are this call's own,
        so the answers do not depend on earlier calls.
        """
        self.h.clearSolver()
        self.known = {}  # this call's own: see above
        q = self.quantities(money)
        n = len(q)
        x = np.full((n, self.n_cols), np.nan)
        statuses = [Status.ERROR] * n
        solves = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        at = _Coordinates.of(q) if self.replays else None
        # where each unsolved price left a replayed trace, the deepest step: (event, step)
        left = np.full(n, -1)
        depth = np.full(n, -1)
        slot = np.full(n, -1)  # the price's row among the event's coordinates
        events: list[tuple[list[_Step], _Affine, np.ndarray]] = []
        while len(todo):
            i, rest = todo[0], todo[1:]
            start = None
            if left[i] >= 0:
                trace, bounds, c = events[left[i]]
                start = _Resume(trace, int(depth[i]), bounds.at(c[slot[i]], self.n_cols))
            status, x_i, solves[i], trace = self._solve_one(q[i], start)
            if status is not Status.OPTIMAL and start is not None:
                status, x_i, more, trace = self._solve_one(q[i])
                solves[i] += more
            if status is not Status.OPTIMAL:
                status, x_i, more, trace = self._retry(q[i])
                solves[i] += more
            statuses[i] = status
            if status is Status.OPTIMAL:
                x[i] = x_i
            if trace is not None and len(rest) and at is not None:
                ok, x_rest, drops = self._replay(trace, at[rest])
                x[rest[ok]] = x_rest[ok]
                for j in rest[ok]:
                    statuses[j] = Status.OPTIMAL
                for rows, step, bounds, c in drops:
                    better = np.flatnonzero(step > depth[rest[rows]])
                    deeper = rest[rows[better]]
                    left[deeper], depth[deeper], slot[deeper] = len(events), step, better
                    events.append((trace, bounds, c))
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

    def _solve_one(
        self, q: np.ndarray, start: _Resume | None = None
    ) -> tuple[Status, np.ndarray, int, list[_Step] | None]:
        """The stages at one price, from the first or from where it left a replayed trace
        (``start``); returns the status, the solution, the number of LP solves and the trace
        of bases (None when a stage was not optimal)."""
        level = np.array([self.level_col], dtype=np.int32)
        if start is None:
            b = self.base
            self.cur = _Bounds(
                *(a.copy() for a in (b.col_lower, b.col_upper, b.row_lower, b.row_upper))
            )
            self._set_cols(self.data_cols, q, q)
            self._set_cols(level, np.zeros(1), np.zeros(1))
            self._set_rows(self.switched, *_free(len(self.switched)))
            trace: list[_Step] = []
        else:
            self.cur = start.bounds
            every = np.arange(self.n_cols, dtype=np.int32)
            self._set_cols(every, start.bounds.col_lower, start.bounds.col_upper)
            self._set_cols(self.data_cols, q, q)  # exactly, not as rebuilt from coordinates
            rows = np.arange(len(start.bounds.row_lower), dtype=np.int32)
            self._set_rows(rows, start.bounds.row_lower, start.bounds.row_upper)
            trace = start.trace[: start.at]
        done = len(trace)
        v = float(q[self.revenue_col])
        proving = self.proves and pinning()
        pinned = np.zeros(len(self.watched), dtype=bool)
        x = np.empty(0)
        first = trace[-1].stage + 1 if trace and trace[-1].stage >= 0 else 0
        for s, (expr, sense, _name) in enumerate(self.stages):
            if s < first or (trace and trace[-1].stage < 0):
                continue  # held where the price left the trace
            self._warm((s, b""))
            status, x = self._optimise(expr, sense)
            if status is not Status.OPTIMAL:
                return later_status(status, not trace), x, len(trace) + 1 - done, None
            step = self._step(s, np.empty(0, dtype=np.int64))
            self.known[s, b""] = step.basis
            trace.append(step)
            if step.unique:
                return Status.OPTIMAL, x, len(trace) - done, trace
            keep = np.array([self.keep_rows[s]], dtype=np.int32)
            value = expr.of(x)
            tol = self._tol(v, value)
            if proving:
                pinned |= self._pinned(sense, float(tol), v)
                if pinned.all():  # no later stage or round can move anyone's money further
                    return Status.OPTIMAL, x, len(trace) - done, trace
            self._set_rows(keep, *_keep_bounds(value - expr.constant, sense, tol))
        free = np.arange(len(self.z_cols))
        if any(step.stage < 0 for step in trace):
            done_groups = [np.concatenate([step.blocked, step.held]) for step in trace]
            free = np.setdiff1d(free, np.concatenate(done_groups))
        elif start is None or start.trace[start.at].stage >= 0:
            self._set_cols(level, np.full(1, -INF), np.full(1, INF))
            self._set_rows(self.level_rows, np.full(len(free), -INF), self.offsets)
            groups = np.flatnonzero(pinned[:-1])  # pinned by the stages: at their money there
            if len(groups):
                z = x[self.z_cols[groups]]
                self._hold(groups, z, self._tol(v, z))
                free = np.setdiff1d(free, groups)
        level_expr = _Row(level, np.ones(1), 0.0)
        while len(free):
            fixed = np.ones(len(self.z_cols), dtype=bool)
            fixed[free] = False
            key = (-1, fixed.tobytes())
            self._warm(key)
            status, x = self._optimise(level_expr, pulp.LpMaximize)
            if status is not Status.OPTIMAL:
                return later_status(status, not trace), x, len(trace) + 1 - done, None
            dual = np.abs(np.asarray(self.h.getSolution().row_dual)[self.level_rows[free]])
            blocked = free[dual > DUAL_EPSILON]
            held = np.zeros(0, dtype=np.int64)
            tol = self._tol(v, x[self.level_col])
            if proving:  # every later round is a point within tol of this one's optimum
                held = free[self._pinned(pulp.LpMaximize, float(tol), v)[:-1][free]]
                held = np.setdiff1d(held, blocked)
            step = self._step(-1, blocked, held)
            self.known[key] = step.basis
            trace.append(step)
            if step.unique:
                break  # this round's optimum is the only one: later rounds cannot move it
            if not len(blocked) and not len(held):
                return Status.ERROR, x, len(trace) - done, None  # every dual hidden by rounding
            self._fix(blocked, x[self.level_col], v)
            if len(held):
                self._hold(held, x[self.z_cols[held]], tol)
            free = np.setdiff1d(free, np.union1d(blocked, held))
        return Status.OPTIMAL, x, len(trace) - done, trace

    def _pinned(self, sense: int, tol: float, v: float) -> np.ndarray:
        """The allocation's columns the stage just solved pins, at this price's bounds
        (:func:`revshare.solve.highs_executor.pinned_columns`)."""
        c = self.cur
        bounds = (c.col_lower, c.col_upper, c.row_lower, c.row_upper)
        return pinned_columns(self.inst, self.watched, self.money, v, sense, tol, bounds)

    def _warm(self, key: tuple[int, bytes]) -> None:
        """Start a step from the last optimal basis of the same step (the same stage, with the
        same groups fixed) at another price: that LP differs only in bounds, so the basis is
        still dual feasible and HiGHS needs a few pivots, not a climb from the previous
        step's optimum."""
        basis = self.known.get(key)
        if basis is not None:
            self.h.setBasis(basis)

    def _retry(self, q: np.ndarray) -> tuple[Status, np.ndarray, int, list[_Step] | None]:
        """Solve once more from a cleared solver with presolve on: dual simplex without
        presolve can declare a tightly fixed leximin round infeasible when it is not (seen on
        data/iraq at one price in 10,000). Only the objective stage can prove a structure
        infeasible. Each step still starts from the same step's basis at another price where
        there is one: without it, iraq-2005 at 124.89 USD fails even the retry."""
        retry = retry_config(self.config)
        self.h.clearSolver()
        self.h.setOptionValue("presolve", retry.options["presolve"])
        try:
            with without_pinning():  # the plan's retry: every group through the rounds
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

    def _hold(self, groups: np.ndarray, z: np.ndarray, tol: float | np.ndarray) -> None:
        """Hold pinned groups at their own levels ``z`` (less ``tol``), and drop their level
        rows, as :mod:`revshare.solve.highs_executor` does."""
        self._set_rows(self.level_rows[groups], *_free(len(groups)))
        self._set_rows(self.fix_rows[groups], z - tol, np.full(len(groups), INF))

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

    def _step(self, stage: int, blocked: np.ndarray, held: np.ndarray | None = None) -> _Step:
        """Record the optimal basis, and whether the allocation (``z`` and ``g``) is the same in
        every optimum of this stage (:func:`revshare.solve.highs_executor.allocation_fixed`)."""
        basis = self.h.getBasis()
        col_status = np.fromiter(map(int, basis.col_status), np.int64, self.n_cols)
        row_status = np.fromiter(map(int, basis.row_status), np.int64, len(self.cur.row_lower))
        c = self.cur
        unique = allocation_fixed(
            self.inst,
            self.watched,
            col_status,
            row_status,
            (c.col_lower, c.col_upper, c.row_lower, c.row_upper),
            MAX_EDGE_CHECKS,
        )
        if held is None:
            held = np.zeros(0, dtype=np.int64)
        return _Step(stage, col_status, row_status, unique, blocked, basis, held)

    # -- many prices, by replaying bases --------------------------------------------------------

    def _replay(
        self, trace: list[_Step], at: _Coordinates
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, int, _Affine, np.ndarray]]]:
        """Follow ``trace`` at every price of ``at`` at once; returns where every stage's basis
        stayed primal feasible, the solutions, and for the prices dropped at each step (a
        price is dropped at the first step whose basis it leaves), which they are, the step,
        the bounds before it and their coordinates (with any the replay added).

        Every quantity that differs between prices (the data, each stage's optimum and its
        tolerance) is carried as coefficients on the prices' few coordinates, so a stage solves
        its basis matrix once for those coefficients, whatever the number of prices; only the
        feasibility test and the final solution are worked out price by price."""
        n_cols = self.n_cols
        b = self.base
        state = _Replay(
            at.c,
            _Affine.of(
                np.concatenate([b.col_lower, b.row_lower]),
                np.concatenate([b.col_upper, b.row_upper]),
                at.rank,
            ),
            at.data[:, self.revenue_col].copy(),
        )
        bounds = state.bounds
        bounds.lo[self.data_cols] = bounds.hi[self.data_cols] = at.data.T  # fixed at the data
        live = np.arange(at.n)
        coef = np.empty((n_cols, at.rank))
        level_entries = n_cols + self.level_rows
        fix_entries = n_cols + self.fix_rows
        drops: list[tuple[np.ndarray, int, _Affine, np.ndarray]] = []
        for k, step in enumerate(trace):
            if step.stage < 0 and (k == 0 or trace[k - 1].stage >= 0):  # leximin starts
                bounds.fix(np.array([self.level_col]), -INF, INF)
                bounds.fix(level_entries, -INF, self.offsets)
            coef, feasible = self._basic_solution(step, bounds, state.c)
            if not feasible.all():
                drops.append((live[~feasible], k, bounds.copy(), state.c[~feasible]))
                live, state.c = live[feasible], state.c[feasible]
            if step.unique or not len(live):
                break
            if step.stage >= 0:
                expr, sense, _ = self.stages[step.stage]
                value = expr.value @ coef[expr.index]  # net of the constant, as the row is
                tol = self._replay_tol(state, value + _unit(expr.constant, len(value)))
                entry = np.array([n_cols + self.keep_rows[step.stage]])
                bounds.fix(entry, -INF, INF)
                if sense == pulp.LpMinimize:
                    bounds.vary(entry, state.pad(value) + tol, upper=True)
                else:
                    bounds.vary(entry, state.pad(value) - tol, upper=False)
            else:
                blocked = step.blocked
                level = coef[self.level_col]
                tol = self._replay_tol(state, level)  # first: it may add a coordinate
                fixed = state.pad(level) - tol
                bounds.fix(level_entries[blocked], -INF, INF)
                bounds.fix(fix_entries[blocked], -self.offsets[blocked], INF)
                bounds.lo[fix_entries[blocked]] += fixed
        ok = np.zeros(at.n, dtype=bool)
        ok[live] = True
        out = np.full((at.n, n_cols), np.nan)
        out[live] = _per_price(state.c, state.pad(coef))
        return ok, out, drops

    def _replay_tol(self, state: _Replay, value: np.ndarray) -> np.ndarray:
        """The plan's stage tolerance for a stage optimum ``value``, as coefficients (the rule
        is affine in the revenue and ``abs(value)``, see :meth:`__init__`): ``abs(value)`` is
        ``value`` or ``-value`` where its sign is the same at every price, else a new
        coordinate."""
        at = _per_price(state.c, value[None, :])[:, 0]
        if (at >= 0).all():
            size = value
        elif (at <= 0).all():
            size = -value
        else:
            size = state.add(np.abs(at))
        base, per_revenue, per_size = self.tol_affine
        return _unit(base, state.rank) + per_revenue * state.revenue + per_size * state.pad(size)

    def _basic_solution(
        self, step: _Step, bounds: _Affine, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The basic solution of ``step``'s basis as coefficients on the coordinates (one row
        per column), and whether it is primal feasible, to HiGHS's tolerance, at each price (a
        row of ``c``)."""
        n = len(c)
        status = np.concatenate([step.col_status, step.row_status])
        at = status != BASIC
        none = np.full((self.n_cols, bounds.rank), np.nan), np.zeros(n, dtype=bool)
        if at.sum() != self.n_cols or np.any(status == NONBASIC):
            return none
        # a non-basic column or row sits at the bound its status names (0 if free)
        upper, zero = status[at] == UPPER, status[at] == ZERO
        rhs = np.where(upper[:, None], bounds.hi[at], bounds.lo[at])
        infinite = np.where(upper, bounds.hi_inf[at], bounds.lo_inf[at]) & ~zero
        rhs[zero] = 0.0
        if infinite.any():
            return none
        try:
            coef = np.linalg.solve(self.entries[at], rhs)
        except np.linalg.LinAlgError:
            return none
        if not np.isfinite(coef).all():
            return none
        basic = np.flatnonzero(~at)  # the rest sit on their bounds by construction
        value = self.entries[basic] @ coef
        # A bound's gap, as coefficients; where it is at least -FEASIBILITY over the box the
        # live prices' coordinates span, it holds at every price and is not checked one by one.
        low, high = c.min(axis=0), c.max(axis=0)
        feasible = np.ones(n, dtype=bool)
        for side, infinite, sign in (
            (bounds.lo, bounds.lo_inf, 1.0),
            (bounds.hi, bounds.hi_inf, -1.0),
        ):
            checked = np.flatnonzero(~infinite[basic])
            gap = sign * (value[checked] - side[basic[checked]])
            least = np.where(gap >= 0, gap * low, gap * high).sum(axis=1)
            unsure = checked[least < -FEASIBILITY]
            if len(unsure):
                gap = _per_price(c, sign * (value[unsure] - side[basic[unsure]]))
                slack = FEASIBILITY + 1e-12 * np.abs(_per_price(c, value[unsure]))
                feasible &= np.all(gap >= -slack, axis=1)
        return coef, feasible


@dataclass
class _Coordinates:
    """Prices as a few coordinates: the data at every price is ``c @ data`` to rounding.

    ``c``'s first column is 1, so constants stay exact; the others span how the data varies
    (prices times fixed quantities vary along one direction), so what a replay works out per
    price is a product with ``rank`` numbers rather than with every data column."""

    c: np.ndarray  # (prices, rank)
    data: np.ndarray  # (rank, data columns)

    @property
    def rank(self) -> int:
        return int(self.c.shape[1])

    @property
    def n(self) -> int:
        return len(self.c)

    def __getitem__(self, rows: np.ndarray) -> _Coordinates:
        return _Coordinates(self.c[rows], self.data)

    @classmethod
    def of(cls, q: np.ndarray) -> _Coordinates:
        """Coordinates that give ``q`` back to ``COORDINATE_RTOL`` of its largest entry:
        directions are added one at a time (the price the current ones miss most, made
        orthogonal to them) until none is missed."""
        origin = q[0]
        offset = q - origin
        limit = COORDINATE_RTOL * float(np.abs(q).max(initial=0.0))
        basis = np.empty((0, q.shape[1]))
        residual = offset
        while len(basis) < q.shape[1]:
            missed = np.abs(residual).max(axis=1)
            worst = int(np.argmax(missed))
            if missed[worst] <= limit:
                break
            v = residual[worst] - basis.T @ (basis @ residual[worst])  # once more, for rounding
            basis = np.vstack([basis, v / np.linalg.norm(v)])
            residual = offset - _per_price(_per_price(offset, basis), basis.T)
        return cls(
            np.column_stack([np.ones(len(q)), _per_price(offset, basis)]),
            np.vstack([origin, basis]),
        )


@dataclass
class _Affine:
    """The bounds of every column, then every row, along a replayed trace: at each price, its
    coordinates times a row of ``lo``/``hi``, or infinite where flagged."""

    lo: np.ndarray  # (entries, rank)
    hi: np.ndarray
    lo_inf: np.ndarray
    hi_inf: np.ndarray

    @property
    def rank(self) -> int:
        return int(self.lo.shape[1])

    @classmethod
    def of(cls, lo: np.ndarray, hi: np.ndarray, rank: int) -> _Affine:
        n = len(lo)
        out = cls(np.zeros((n, rank)), np.zeros((n, rank)), np.zeros(n, bool), np.zeros(n, bool))
        out.fix(np.arange(n), lo, hi)
        return out

    def fix(self, entries: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray) -> None:
        """Bounds that are the same at every price (on the first coordinate, which is 1)."""
        for coef, flag, bound in ((self.lo, self.lo_inf, lo), (self.hi, self.hi_inf, hi)):
            infinite = np.isinf(bound)
            coef[entries] = 0.0
            coef[entries, 0] = np.where(infinite, 0.0, bound)
            flag[entries] = infinite

    def vary(self, entries: np.ndarray, coef: np.ndarray, upper: bool) -> None:
        """One side of ``entries`` given by its coefficients."""
        if upper:
            self.hi[entries], self.hi_inf[entries] = coef, False
        else:
            self.lo[entries], self.lo_inf[entries] = coef, False

    def copy(self) -> _Affine:
        return _Affine(self.lo.copy(), self.hi.copy(), self.lo_inf.copy(), self.hi_inf.copy())

    def at(self, c: np.ndarray, n_cols: int) -> _Bounds:
        """The bounds at one price (its coordinates ``c``)."""
        lo = np.where(self.lo_inf, -INF, self.lo @ c)
        hi = np.where(self.hi_inf, INF, self.hi @ c)
        return _Bounds(lo[:n_cols], hi[:n_cols], lo[n_cols:], hi[n_cols:])

    def widen(self) -> None:
        """One more coordinate, on which no bound depends yet."""
        self.lo, self.hi = (np.pad(a, ((0, 0), (0, 1))) for a in (self.lo, self.hi))


@dataclass
class _Replay:
    """What a replay carries from stage to stage: the live prices' coordinates, the bounds,
    and the revenue's coefficients (the tolerances depend on it)."""

    c: np.ndarray
    bounds: _Affine
    revenue: np.ndarray

    @property
    def rank(self) -> int:
        return int(self.c.shape[1])

    def add(self, column: np.ndarray) -> np.ndarray:
        """Append a coordinate (a quantity not spanned by the others); returns its
        coefficients."""
        self.c = np.column_stack([self.c, column])
        self.bounds.widen()
        self.revenue = self.pad(self.revenue)
        return _unit(1.0, self.rank, at=self.rank - 1)

    def pad(self, coef: np.ndarray) -> np.ndarray:
        """Coefficients from before a coordinate was added, on every coordinate."""
        return np.pad(coef, [(0, 0)] * (coef.ndim - 1) + [(0, self.rank - coef.shape[-1])])


def _per_price(c: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Quantities at each price (a row of ``c``) from their coefficients (a row of ``coef``
    each). By einsum, not BLAS: these products are thin, and a threaded BLAS on cores that
    other processes (a sweep's own workers) keep busy takes ten to a hundred times longer."""
    return np.einsum("nr,mr->nm", c, coef)


def _unit(value: float | np.ndarray, rank: int, at: int = 0) -> np.ndarray:
    """Coefficients of a constant (on the first coordinate, which is 1), or of coordinate
    ``at``: shape (rank,), or (len(value), rank) for an array of constants."""
    value = np.asarray(value, dtype=float)
    out = np.zeros((*value.shape, rank))
    out[..., at] = value
    return out


BASIC = int(highspy.HighsBasisStatus.kBasic)
NONBASIC = int(highspy.HighsBasisStatus.kNonbasic)
UPPER = int(highspy.HighsBasisStatus.kUpper)
ZERO = int(highspy.HighsBasisStatus.kZero)
COORDINATE_RTOL = 1e-13  # the data rebuilt from a price's coordinates, to its largest entry
FEASIBILITY = 1e-9  # HiGHS's primal feasibility tolerance (revshare.solve.solver.HIGHS_DEFAULTS)
REPLAY_MAX_COLUMNS = 400  # beyond, a dense basis solve costs more than HiGHS's warm start
MAX_EDGE_CHECKS = 64  # one basis solve each; past this many, a stage is simply not proven unique


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
