"""The staged plan (:mod:`revshare.solve.plan`) carried out through PuLP: the second opinion (CBC).

Each stage is a PuLP solve of the model; kept optima and fixed groups are added to the model as
named rows, so an LP file written afterwards shows every stage.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pulp

from ..errors import NotOptimalError
from ..model.lp import Model
from ..model.objectives import OBJECTIVES, level_offsets
from .cuts import PulpCuts
from .nash import keep_bloc_money, solve_nash
from .plan import Solution, binding_label, money_stages, require_optimal, stage_tolerance
from .solver import DUAL_EPSILON, SolverConfig, run


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


def _keep(
    m: Model,
    expr: pulp.LpAffineExpression,
    sense: int,
    value: float,
    stage: str,
    config: SolverConfig,
) -> None:
    tol = stage_tolerance(m, value, config)
    if sense == pulp.LpMinimize:
        m.add(expr <= value + tol, "keep_optimum", stage)
    else:
        m.add(expr >= value - tol, "keep_optimum", stage)


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
    started = time.perf_counter()
    objective = OBJECTIVES[m.structure.objective](m)
    solves = 0
    value: float | None = None
    binding: list[dict[str, Any]] = []
    gap: float | None = None
    if m.structure.objective == "nash":
        result = solve_nash(
            m,
            lambda: PulpCuts(
                m.prob,
                lambda prob, expr, sense, stage: optimise(m, prob, expr, sense, config, stage),
            ),
            precision=5 * config.precision,  # the gap a solver can close: 1e-7 with CBC
        )
        keep_bloc_money(m, result, stage_tolerance(m, m.v, config))
        value, gap, solves = result.value, result.gap, result.rounds
    for stage in money_stages(m, objective.expression, objective.sense):
        got = optimise(m, m.prob, stage.expression, stage.sense, config, stage.name)
        if stage.name == "objective":
            value, binding = got, _binding(m, m.prob)
        _keep(m, stage.expression, stage.sense, got, stage.name.split()[0], config)
        solves += 1
    first = objective.expression is None and gap is None
    levels, lex_binding, rounds = _leximin(m, config, first_stage=first)
    if first:
        binding = lex_binding
        value = float(np.min(levels))
    return Solution(
        z=np.array([z.value() or 0.0 for z in m.z]),
        g=float(m.g.value() or 0.0),
        extra=np.array([v.value() or 0.0 for v in m.extra]),
        objective_value=value,
        binding=binding,
        solver=config.name,
        stages=solves + rounds,
        seconds=time.perf_counter() - started,
        nash_gap=gap,
    )


def _leximin(
    m: Model, config: SolverConfig, first_stage: bool
) -> tuple[np.ndarray, list[dict[str, Any]], int]:
    """Lexicographic max-min of the groups' per-head levels ``z_k + baseline_k``.

    Each round maximises the lowest level ``t`` among the groups not yet fixed. A group whose
    level row has a non-zero dual cannot rise above ``t`` in any optimum (complementary
    slackness), so it is fixed at ``t``; the duals of the level rows sum to one, so every round
    fixes at least one group. If rounding hides every dual, each group at ``t`` is probed.
    """
    offsets = level_offsets(m)
    free = list(range(len(m.z)))
    levels = np.zeros(len(m.z))
    binding: list[dict[str, Any]] = []
    t = m.prob.add_variable("tiebreak_level")
    rounds = 0
    while free:
        prob = m.prob.copy()
        rows = {}
        for k in free:
            name = f"tiebreak_level_{k}"
            prob.addConstraint(t <= m.z[k] + offsets[k], name)
            rows[k] = name
        stage = "objective" if first_stage and rounds == 0 else "leximin tie-break"
        level = optimise(m, prob, pulp.lpSum([t]), pulp.LpMaximize, config, stage)
        if rounds == 0 and first_stage:
            binding = _binding(m, prob)
        rounds += 1
        blocked = [
            k for k in free if abs(prob.get_constraint_by_name(rows[k]).pi or 0.0) > DUAL_EPSILON
        ]
        if not blocked:
            blocked = _probe_blocked(m, prob, t, level, free, offsets, config)
        tol = stage_tolerance(m, level, config)
        for k in blocked:
            m.add(m.z[k] + offsets[k] >= level - tol, "tiebreak_fix", m.groups["label"][k])
            levels[k] = level
        free = [k for k in free if k not in blocked]
    return levels, binding, rounds


def _probe_blocked(
    m: Model,
    prob: pulp.LpProblem,
    t: pulp.LpVariable,
    level: float,
    free: list[int],
    offsets: np.ndarray,
    config: SolverConfig,
) -> list[int]:
    tol = stage_tolerance(m, level, config)
    probe = prob.copy()
    probe.addConstraint(t >= level - tol, "tiebreak_probe_floor")
    blocked = []
    for k in free:
        best = optimise(m, probe, m.z[k] + offsets[k], pulp.LpMaximize, config, "leximin probe")
        if best <= level + 2 * tol:
            blocked.append(k)
    if not blocked:
        raise NotOptimalError(
            "the leximin tie-break could not find a group to fix; the model is "
            "numerically unstable at this scale"
        )
    return blocked
