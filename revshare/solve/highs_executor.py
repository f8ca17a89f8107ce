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

The stages and rounds are the one loop every executor runs (:func:`revshare.solve.stages.solve`);
this module supplies the LP (:class:`_InstanceStages`, :class:`_InstanceRounds`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pulp

from ..model.lp import Model
from ..model.objectives import level_offsets
from . import stages
from .instance import INF, Instance, column_ranges, highs_options
from .lp import open_lp
from .plan import (
    PIN_SHARE,
    Solution,
    Stage,
    allocation_money,
    binding_label,
    face_bounds,
    require_optimal,
    tolerance,
)
from .rounds import pin_allowed, unstable
from .rounds import without_pinning as without_pinning  # the retry's switch, used from here
from .solver import DUAL_EPSILON, SolverConfig, Status, stdout_to_stderr

PROVE_PINNED = True  # benchmarks/scale.py turns it off to measure the rounds alone


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
        return stages.solve(
            m, config, lambda money: _InstanceStages(m, config, money), lambda: open_lp(m, config)
        )


class _InstanceStages:
    """:class:`revshare.solve.stages.Executor` on one :class:`Instance`: each stage changes the
    costs and re-solves from the last basis; a kept optimum is one added row."""

    reopens = True  # the instance is a copy of the model

    def __init__(self, m: Model, config: SolverConfig, money: list[Stage]) -> None:
        self.m, self.config, self.money = m, config, money
        self.inst = Instance(m.prob, highs_options(config))
        self.watched = np.array(
            [self.inst.col[z.name] for z in m.z] + [self.inst.col[m.g.name]], dtype=np.int32
        )
        self.terms = [_terms(stage.expression, self.inst.col) for stage in money]
        self.x = np.zeros(0)
        self.lex: _InstanceRounds | None = None
        self.kept: list[int] = []  # each kept stage's row

    def optimise(self, s: int) -> Status:
        stage = self.money[s]
        index, coef = self.terms[s]
        status = self.inst.optimise(index, coef, stage.sense, self.config.time_limit)
        require_optimal(status, stage.name, self.m, self.config.name)
        self.x = self.inst.x()
        return status

    def value(self, s: int) -> float:
        index, coef = self.terms[s]
        return float(coef @ self.x[index]) + float(self.money[s].expression.constant)

    def tolerance(self, value: Any) -> Any:
        return tolerance(self.config.precision, self.m.v, value)

    def binding(self) -> list[dict[str, Any]]:
        return _binding(self.m, self.inst)

    def settled(self, s: int) -> bool:
        return False  # stopping on one basis's unique allocation made answers depend on row order

    def pinned(self, sense: int, tol: float) -> np.ndarray:
        return _pinned(self.m, self.inst, self.watched, sense, tol)

    def keep(self, s: int, value: float, tol: float, room: float | None = None) -> None:
        room = tol if room is None else room
        stage = self.money[s]
        if pinning():  # the later stages keep this stage's optimal face, not just its value
            _hold_face(self.inst, stage.sense, tol, room)
        index, coef = self.terms[s]
        bound = value - float(stage.expression.constant)
        lower, upper = (
            (-INF, bound + room) if stage.sense == pulp.LpMinimize else (bound - room, INF)
        )
        row = self.inst.add_rows(np.array([lower]), np.array([upper]), [index], [coef])
        self.kept.append(int(row[0]))

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return self.x[self.watched[groups]]

    def rounds(self) -> tuple[_InstanceRounds, np.ndarray]:
        self.lex = _InstanceRounds(self.m, self.inst, self.watched, self.config, self.x, self.kept)
        return self.lex, np.arange(len(self.m.z))

    def steepest(self) -> float:
        return self.lex.steepest if self.lex is not None else 0.0

    def allocation(self, rounds: bool) -> tuple[np.ndarray, float, np.ndarray]:
        x = self.lex.x if rounds and self.lex is not None else self.x
        extra = np.array([self.inst.col[v.name] for v in self.m.extra], dtype=np.int64)
        return x[self.watched[:-1]], float(x[self.watched[-1]]), x[extra]


def _pinned(m: Model, inst: Instance, watched: np.ndarray, sense: int, tol: float) -> np.ndarray:
    """:func:`pinned_columns` for the model ``m``, or none where pinning is off."""
    if not pinning():
        return np.zeros(len(watched), dtype=bool)
    return pinned_columns(inst, watched, allocation_money(m), m.v, sense, tol)


def _hold_face(inst: Instance, sense: int, tol: float, room: float) -> None:
    """Hold the stage's optimal face (:func:`revshare.solve.plan.face_bounds`) by moving the
    locked columns' and rows' bounds in place."""
    sol = inst.h.getSolution()
    sign = 1.0 if sense == pulp.LpMinimize else -1.0
    lower = np.concatenate([inst.col_lower, inst.row_lower])
    upper = np.concatenate([inst.col_upper, inst.row_upper])
    value = np.concatenate([np.asarray(sol.col_value), np.asarray(sol.row_value)])
    worsen = sign * np.concatenate([np.asarray(sol.col_dual), np.asarray(sol.row_dual)])
    lo, hi = face_bounds(lower, upper, value, worsen, tol, room)
    n = len(inst.col_lower)
    moved = np.flatnonzero((lo != lower) | (hi != upper))
    cols, rows = moved[moved < n].astype(np.int32), (moved[moved >= n] - n).astype(np.int32)
    if len(cols):
        inst.set_cols(cols, lo[cols], hi[cols])
    if len(rows):
        inst.set_rows(rows, lo[n + rows], hi[n + rows])


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


class _InstanceRounds:
    """:class:`revshare.solve.rounds.Rounds` on an :class:`Instance`: a level column ``t``, a
    level row and a fix row per group, all added once; a round switches rows by their bounds
    (adding rows would make HiGHS factor its basis again every round)."""

    def __init__(
        self,
        m: Model,
        inst: Instance,
        watched: np.ndarray,
        config: SolverConfig,
        start: np.ndarray,
        kept: list[int],
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
        self.kept = kept  # the kept stages' rows
        self.steepest = 0.0  # the largest |dual| of a kept row at a round's optimum

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        status = self.inst.optimise(
            np.array([self.t], dtype=np.int32), np.ones(1), pulp.LpMaximize, self.config.time_limit
        )
        require_optimal(status, stage, self.m, self.config.name)
        self.x = self.inst.x()
        if stage == "objective":
            self.binding = _binding(self.m, self.inst)
        if self.kept:
            dual = np.asarray(self.inst.h.getSolution().row_dual)[self.kept]
            self.steepest = max(self.steepest, float(np.max(np.abs(dual))))
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
