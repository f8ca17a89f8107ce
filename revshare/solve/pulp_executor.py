"""The staged plan (:mod:`revshare.solve.plan`) carried out through PuLP: the second opinion (CBC).

Each stage is a PuLP solve of the model; kept optima and fixed groups are added to the model as
named rows, so an LP file written afterwards shows every stage. The plan's pinned-group proof
runs on each solve's printed values and duals (:func:`_pinned`), so groups the duals pin skip
the leximin rounds (:func:`revshare.solve.rounds.leximin`) here as in the HiGHS executor.
The stages and rounds are the one loop every executor runs (:func:`revshare.solve.stages.solve`);
this module supplies the LP (:class:`_PulpStages`, :class:`_PulpRounds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pulp

from ..model.lp import Model
from ..model.objectives import level_offsets
from . import stages
from .lp import PulpLp
from .plan import (
    Coo,
    Solution,
    Stage,
    allocation_money,
    binding_label,
    face_bounds,
    pin_share,
    require_optimal,
    stage_ranges,
    tolerance,
)
from .rounds import pin_allowed, unstable
from .solver import DUAL_EPSILON, SolverConfig, Status, run


def optimise(
    m: Model,
    prob: pulp.LpProblem,
    expr: pulp.LpAffineExpression,
    sense: int,
    config: SolverConfig,
    stage: str,
) -> float:
    """One PuLP solve of ``expr`` on ``prob``; its value once the status is proven optimal."""
    prob.setObjective(expr)
    prob.sense = sense
    require_optimal(run(prob, config), stage, m, config.name)
    return float(pulp.value(expr))


def _binding(m: Model, prob: pulp.LpProblem) -> list[dict[str, Any]]:
    """Rules with a non-zero dual: what holds the objective back, per USD of the rule's bound."""
    rows = []
    for c in prob.constraints():
        label = binding_label(m.labels, c.name)
        if label is not None and c.pi is not None and abs(c.pi) > DUAL_EPSILON:
            rows.append({"constraint": label, "dual": float(c.pi), "slack": float(c.slack or 0.0)})
    return rows


def solve(m: Model, config: SolverConfig) -> Solution:
    """Carry out the plan with PuLP solves and return the tie-broken optimum."""
    return stages.solve(
        m,
        config,
        lambda money: _PulpStages(m, config, money),
        lambda: PulpLp(m.prob, m, config),
    )


class _PulpStages:
    """:class:`revshare.solve.stages.Executor` through PuLP: each stage is a solve of the
    model, and a kept optimum is a named row of the model."""

    reopens = False  # kept optima and fixed groups are rows of the model

    def __init__(self, m: Model, config: SolverConfig, money: list[Stage]) -> None:
        self.m, self.config, self.money = m, config, money
        self.got = 0.0
        self.lex: _PulpRounds | None = None
        self.kept: list[str] = []  # each kept stage's row

    def optimise(self, s: int) -> Status:
        stage = self.money[s]
        self.got = optimise(
            self.m, self.m.prob, stage.expression, stage.sense, self.config, stage.name
        )
        return Status.OPTIMAL

    def value(self, s: int) -> float:
        return self.got

    def tolerance(self, value: Any) -> Any:
        return tolerance(self.config.precision, self.m.v, value)

    def binding(self) -> list[dict[str, Any]]:
        return _binding(self.m, self.m.prob)

    def settled(self, s: int) -> bool:
        return False

    def pinned(self, sense: int, tol: float) -> np.ndarray:
        return _pinned(self.m, self.m.prob, sense, tol, self.config)

    def keep(self, s: int, value: float, tol: float, room: float | None = None) -> None:
        room = tol if room is None else room
        stage, m = self.money[s], self.m
        if pin_allowed():  # the later stages keep this stage's optimal face, not just its value
            _hold_face(m, m.prob, stage.sense, tol, room)
        name = stage.name.split()[0]
        if stage.sense == pulp.LpMinimize:
            m.add(stage.expression <= value + room, "keep_optimum", name)
        else:
            m.add(stage.expression >= value - room, "keep_optimum", name)
        self.kept.append(next(reversed(m.labels)))

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return np.array([self.m.z[k].value() or 0.0 for k in groups])

    def rounds(self) -> tuple[_PulpRounds, np.ndarray]:
        self.lex = _PulpRounds(self.m, self.config, self.kept)
        return self.lex, np.arange(len(self.m.z))

    def steepest(self) -> float:
        return self.lex.steepest if self.lex is not None else 0.0

    def allocation(self, rounds: bool) -> tuple[np.ndarray, float, np.ndarray]:
        m = self.m  # the rounds' last solve left its values on the model's variables
        return (
            np.array([z.value() or 0.0 for z in m.z]),
            float(m.g.value() or 0.0),
            np.array([v.value() or 0.0 for v in m.extra]),
        )


class _PulpRounds:
    """:class:`revshare.solve.rounds.Rounds` through PuLP: each round is a copy of the model
    with the free groups' level rows; a fixed group's row is added to the model itself, named,
    so an LP file written afterwards shows it."""

    def __init__(self, m: Model, config: SolverConfig, kept: list[str]) -> None:
        self.m, self.config = m, config
        self.offsets = level_offsets(m)
        self.t = m.prob.add_variable("tiebreak_level")
        self.prob = m.prob
        self.rows: dict[int, str] = {}
        self.value = 0.0
        self.binding: list[dict[str, Any]] = []
        self.kept = kept  # the kept stages' rows
        self.steepest = 0.0  # the largest |dual| of a kept row at a round's optimum

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        m = self.m
        self.prob = m.prob.copy()
        self.rows = {}
        for k in free:
            name = f"tiebreak_level_{k}"
            self.prob.addConstraint(self.t <= m.z[k] + self.offsets[k], name)
            self.rows[k] = name
        self.value = optimise(
            m, self.prob, pulp.lpSum([self.t]), pulp.LpMaximize, self.config, stage
        )
        if stage == "objective":
            self.binding = _binding(m, self.prob)
        for name in self.kept:
            self.steepest = max(
                self.steepest, abs(self.prob.get_constraint_by_name(name).pi or 0.0)
            )
        return Status.OPTIMAL

    def level(self) -> float:
        return self.value

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        return np.array([self.prob.get_constraint_by_name(self.rows[k]).pi or 0.0 for k in free])

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return np.array([self.m.z[k].value() or 0.0 for k in groups])

    def pinned(self, tol: float) -> np.ndarray:
        return _pinned(self.m, self.prob, pulp.LpMaximize, tol, self.config)[:-1]

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        return False

    def probe(self, free: np.ndarray, level: float, tol: float) -> tuple[np.ndarray, int]:
        """Each free group's highest level with ``t`` held at ``level - tol``."""
        m = self.m
        probe = self.prob.copy()
        probe.addConstraint(self.t >= level - tol, "tiebreak_probe_floor")
        blocked = []
        for k in free:
            expr = m.z[k] + self.offsets[k]
            best = optimise(m, probe, expr, pulp.LpMaximize, self.config, "leximin probe")
            if best <= level + 2 * tol:
                blocked.append(k)
        return unstable(blocked), len(free)

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        for k, floor in zip(groups, floors, strict=True):
            self.m.add(self.m.z[k] >= floor, "tiebreak_fix", self.m.groups["label"][k])


def _hold_face(m: Model, prob: pulp.LpProblem, sense: int, tol: float, room: float) -> None:
    """Hold the stage's optimal face (:func:`revshare.solve.plan.face_bounds`): each locked
    column or row gets a named row on its other side (the model's own bounds stay as built)."""
    _, lower, upper, value, worsen, variables = _stage(prob, sense)
    lo, hi = face_bounds(lower, upper, value, worsen, tol, room)
    n = len(variables)
    constraints = list(prob.constraints())
    for j in np.flatnonzero((lo != lower) | (hi != upper)):
        entry = variables[j] if j < n else constraints[j - n]
        items = [(entry, 1.0)] if j < n else constraints[j - n].items()
        expr, name = pulp.LpAffineExpression(items), entry.name
        if hi[j] < upper[j]:
            m.add(expr <= float(hi[j]), "keep_optimum", name)
        if lo[j] > lower[j]:
            m.add(expr >= float(lo[j]), "keep_optimum", name)


def _stage(
    prob: pulp.LpProblem, sense: int
) -> tuple[Coo, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[pulp.LpVariable]]:
    """The solved ``prob`` as :func:`revshare.solve.plan.stage_ranges` reads it."""
    variables = prob.variables()
    col = {v.name: j for j, v in enumerate(variables)}
    rows, cols, coefs = [], [], []
    row_lo, row_hi, dual = [], [], []
    for i, c in enumerate(prob.constraints()):
        for v, a in c.items():
            rows.append(i)
            cols.append(col[v.name])
            coefs.append(a)
        rhs = -float(c.constant)
        row_lo.append(rhs if c.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -np.inf)
        row_hi.append(rhs if c.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else np.inf)
        dual.append(c.pi or 0.0)
    shape = (len(row_lo), len(variables))
    coo = Coo(
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(coefs, float),
        shape,
    )
    x = np.array([v.varValue or 0.0 for v in variables])
    y = np.array(dual, float)
    cost = np.zeros(len(variables))
    for v, a in prob.objective.items():
        cost[col[v.name]] += a
    activity = np.bincount(coo.row, coo.data * x[coo.col], shape[0])
    reduced = cost - np.bincount(coo.col, coo.data * y[coo.row], shape[1])
    sign = 1.0 if sense == pulp.LpMinimize else -1.0
    lower = [-np.inf if v.lowBound is None else v.lowBound for v in variables]
    upper = [np.inf if v.upBound is None else v.upBound for v in variables]
    return (
        coo,
        np.concatenate([np.array(lower, float), row_lo]),
        np.concatenate([np.array(upper, float), row_hi]),
        np.concatenate([x, activity]),
        sign * np.concatenate([reduced, y]),
        variables,
    )


def _pinned(
    m: Model, prob: pulp.LpProblem, sense: int, tol: float, config: SolverConfig
) -> np.ndarray:
    """Which of the allocation's columns (each group's level, then the centre) the stage just
    solved on ``prob`` pins (:func:`revshare.solve.plan.stage_ranges`), to the solver's pin
    share (:func:`revshare.solve.plan.pin_share`); none outside :func:`pin_allowed`.

    Why it is sound with CBC's 8-digit values. The proof rests on the identity
    ``c x - c x* = sum_j r_j (x_j - x*_j)`` over columns and rows, with ``r = c - A'y`` for the
    columns and ``y`` for the rows. It holds for *any* ``y`` and any ``x*``: so the columns'
    reduced costs are worked out here from the row duals CBC printed, in doubles, not read
    from its printed reduced costs, and ``x*`` is CBC's printed solution (each later stage keeps
    the optimum as ``c x*``, the value of that printed point). Rounding then only widens the
    ranges: the complementary slackness left at ``x*`` and the small reduced costs of the basic
    columns are counted in full, which is why CBC's pin share is wider than HiGHS's.
    """
    n_groups = len(m.z)
    if not pin_allowed():
        return np.zeros(n_groups + 1, dtype=bool)
    coo, lower, upper, value, worsen, variables = _stage(prob, sense)
    lo, hi = stage_ranges(coo, lower, upper, value, worsen, tol)
    col = {v.name: j for j, v in enumerate(variables)}
    watched = np.array([col[z.name] for z in m.z] + [col[m.g.name]], dtype=np.int64)
    return allocation_money(m) * (hi[watched] - lo[watched]) <= pin_share(config.precision) * m.v
