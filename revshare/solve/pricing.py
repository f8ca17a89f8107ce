"""One price of the sweep engine solved by HiGHS: the plan's money stages and leximin rounds, run
by the one loop every executor runs (:func:`revshare.solve.stages.carry_out`), recording each
step's basis (:class:`Step`) for the replay (:mod:`revshare.solve.replay`). :class:`Pricing` is
that part of :class:`revshare.solve.engine.Engine`; its adapters (:class:`_PriceStages`,
:class:`_PriceRounds`) keep the trace, start each step from the same step's basis at another
price, stop where a step's allocation is the same in every optimum, and resume a price where it
left a replayed trace. Unlike ``optimize``, the engine reads no objective value or binding rule
(a sweep reports money), and its retry holds no tiny group's fix row looser
(:func:`revshare.solve.plan.tiny_group_slack`): the replay rebuilds each fix row's floor as the
round's level less the plan's tolerance only, so a trace with that slack would not replay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import highspy
import numpy as np
import pulp

from .highs_executor import pinned_columns, pinning
from .instance import MAX_EDGE_CHECKS, Instance, allocation_fixed
from .plan import later_status
from .replay import Bounds, Resume, Row, Step
from .solver import HIGHS_STATUS, SolverConfig, Status
from .stages import carry_out

INF = highspy.kHighsInf


class Pricing:
    """Solving one price in the engine's HiGHS instance; the engine supplies the model."""

    config: SolverConfig
    inst: Instance
    h: highspy.Highs
    n_cols: int
    base: Bounds
    cur: Bounds
    data_cols: np.ndarray
    revenue_col: int
    z_cols: np.ndarray
    watched: np.ndarray
    money: np.ndarray
    level_col: int
    level_rows: np.ndarray
    fix_rows: np.ndarray
    keep_rows: list[int]
    switched: np.ndarray
    offsets: np.ndarray
    stages: list[tuple[Row, int, str]]
    proves: bool
    known: dict[tuple[int, bytes], highspy.HighsBasis]
    _tol: Callable[[Any, Any], Any]  # the plan's tolerance at a price (revenue, optimum)

    def _set_cols(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.h.changeColsBounds(len(index), index, lo, hi)
        self.cur.col_lower[index], self.cur.col_upper[index] = lo, hi

    def _set_rows(self, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.h.changeRowsBounds(len(index), index, lo, hi)  # type: ignore[attr-defined]
        self.cur.row_lower[index], self.cur.row_upper[index] = lo, hi

    def _solve_one(
        self, q: np.ndarray, start: Resume | None = None
    ) -> tuple[Status, np.ndarray, int, list[Step] | None]:
        """The stages at one price, from the first or from where it left a replayed trace
        (``start``); returns the status, the solution, the number of LP solves and the trace
        of bases (None when a stage was not optimal)."""
        level = np.array([self.level_col], dtype=np.int32)
        if start is None:
            b = self.base
            self.cur = Bounds(
                *(a.copy() for a in (b.col_lower, b.col_upper, b.row_lower, b.row_upper))
            )
            self._set_cols(self.data_cols, q, q)
            self._set_cols(level, np.zeros(1), np.zeros(1))
            self._set_rows(self.switched, *_free(len(self.switched)))
            trace: list[Step] = []
        else:
            self.cur = start.bounds
            every = np.arange(self.n_cols, dtype=np.int32)
            self._set_cols(every, start.bounds.col_lower, start.bounds.col_upper)
            self._set_cols(self.data_cols, q, q)  # exactly, not as rebuilt from coordinates
            rows = np.arange(len(start.bounds.row_lower), dtype=np.int32)
            self._set_rows(rows, start.bounds.row_lower, start.bounds.row_upper)
            trace = start.trace[: start.at]
        skip = 0  # the stages held where the price left the trace are not solved again
        if trace:
            skip = trace[-1].stage + 1 if trace[-1].stage >= 0 else len(self.stages)
        lp = _PriceStages(self, trace, float(q[self.revenue_col]), start)
        ran = carry_out(lp, [(sense, name) for _, sense, name in self.stages], False, skip)
        if ran.status is not Status.OPTIMAL:
            return ran.status, lp.x, ran.solves, None
        x = lp.lex.x if ran.rounds and lp.lex is not None and lp.lex.steps else lp.x
        return Status.OPTIMAL, x, ran.solves, trace

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

    def _optimise(self, expr: Row, sense: int) -> tuple[Status, np.ndarray]:
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

    def _step(self, stage: int, blocked: np.ndarray, held: np.ndarray | None = None) -> Step:
        """Record the optimal basis, and whether the allocation (``z`` and ``g``) is the same in
        every optimum of this stage (:func:`revshare.solve.instance.allocation_fixed`)."""
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
        return Step(stage, col_status, row_status, unique, blocked, basis, held)


class _PriceStages:
    """:class:`revshare.solve.stages.StageLP` at one price in the engine's instance: each stage
    starts from the last optimal basis of the same stage at another price, is recorded in the
    price's ``trace`` (to replay at other prices), and ends the plan where its allocation is the
    same in every optimum; a kept optimum moves the bounds of the stage's row, built once.
    Where ``start`` resumes the price in the rounds, the groups the trace fixed stay fixed."""

    def __init__(self, engine: Pricing, trace: list[Step], v: float, start: Resume | None) -> None:
        self.e, self.trace, self.v, self.start = engine, trace, v, start
        self.proving = engine.proves and pinning()
        self.x = np.empty(0)
        self.unique = False
        self.lex: _PriceRounds | None = None

    def optimise(self, s: int) -> Status:
        e = self.e
        e._warm((s, b""))
        status, self.x = e._optimise(e.stages[s][0], e.stages[s][1])
        if status is not Status.OPTIMAL:
            return later_status(status, not self.trace)
        step = e._step(s, np.empty(0, dtype=np.int64))
        e.known[s, b""] = step.basis
        self.trace.append(step)
        self.unique = step.unique
        return status

    def value(self, s: int) -> float:
        return self.e.stages[s][0].of(self.x)

    def tolerance(self, value: Any) -> Any:
        return self.e._tol(self.v, value)

    def binding(self) -> list[dict[str, Any]]:
        return []  # a sweep reports money only

    def settled(self, s: int) -> bool:
        return self.unique

    def pinned(self, sense: int, tol: float) -> np.ndarray:
        if not self.proving:
            return np.zeros(len(self.e.watched), dtype=bool)
        return self.e._pinned(sense, tol, self.v)

    def keep(self, s: int, value: float, tol: float, room: float | None = None) -> None:
        e = self.e
        expr, sense, _ = e.stages[s]
        keep = np.array([e.keep_rows[s]], dtype=np.int32)
        e._set_rows(
            keep, *_keep_bounds(value - expr.constant, sense, tol if room is None else room)
        )

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return self.x[self.e.z_cols[groups]]

    def rounds(self) -> tuple[_PriceRounds, np.ndarray]:
        e, trace, start = self.e, self.trace, self.start
        self.lex = _PriceRounds(e, trace, self.v, self.proving)
        free = np.arange(len(e.z_cols))
        if any(step.stage < 0 for step in trace):  # resumed in the rounds
            done = [np.concatenate([step.blocked, step.held]) for step in trace]
            free = np.setdiff1d(free, np.concatenate(done))
        elif start is None or start.trace[start.at].stage >= 0:  # else resumed at the first
            level = np.array([e.level_col], dtype=np.int32)
            e._set_cols(level, np.full(1, -INF), np.full(1, INF))
            e._set_rows(e.level_rows, np.full(len(free), -INF), e.offsets)
        return self.lex, free


class _PriceRounds:
    """:class:`revshare.solve.rounds.Rounds` at one price in the engine's instance: each round
    starts from the last optimal basis of the same round (the same groups fixed) at another
    price, and is recorded in the price's ``trace`` to replay at other prices; the rounds stop
    early where a round's allocation is the same in every optimum."""

    def __init__(self, engine: Pricing, trace: list[Step], v: float, proving: bool) -> None:
        self.e, self.trace, self.v, self.proving = engine, trace, v, proving
        self.offsets = engine.offsets
        self.binding: list[dict[str, Any]] = []  # a sweep reports money only
        self.key = (-1, b"")
        self.x = np.empty(0)
        self.steps = 0  # rounds this price solved

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        e = self.e
        fixed = np.ones(len(e.z_cols), dtype=bool)
        fixed[free] = False
        self.key = (-1, fixed.tobytes())
        e._warm(self.key)
        status, self.x = e._optimise(
            Row(np.array([e.level_col], dtype=np.int32), np.ones(1), 0.0), pulp.LpMaximize
        )
        return later_status(status, not self.trace)

    def level(self) -> float:
        return float(self.x[self.e.level_col])

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        return np.asarray(self.e.h.getSolution().row_dual)[self.e.level_rows[free]]

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return self.x[self.e.z_cols[groups]]

    def pinned(self, tol: float) -> np.ndarray:
        if not self.proving:  # every later round is a point within tol of this one's optimum
            return np.zeros(len(self.e.z_cols), dtype=bool)
        return self.e._pinned(pulp.LpMaximize, tol, self.v)[:-1]

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        step = self.e._step(-1, blocked, held)
        self.e.known[self.key] = step.basis
        self.trace.append(step)
        self.steps += 1
        return step.unique  # this round's optimum is the only one: later rounds cannot move it

    def probe(self, free: np.ndarray, level: float, tol: float) -> None:
        return None  # every dual hidden by rounding: the scenario fails, and is retried

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        self.e._set_rows(self.e.level_rows[groups], *_free(len(groups)))
        self.e._set_rows(self.e.fix_rows[groups], floors, np.full(len(groups), INF))


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
