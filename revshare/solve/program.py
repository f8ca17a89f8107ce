"""One PuLP model optimised for one objective after another, by the solver the user chose: the
LPs of the fear-of-domination analyses (guarantees, capture, the least core) beside the staged
plan, on the one LP of :mod:`revshare.solve.cuts`. With HiGHS the rows go once into one
in-place instance, warm-started from one objective to the next; with CBC each solve is
:func:`revshare.solve.solver.run` of the PuLP problem. The PuLP model is the one source of rows
either way. Also the config every LP of
an analysis is solved with, and the cross-check's other solver and its disagreement error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pulp

from ..errors import NotOptimalError
from ..model.lp import Model
from .cuts import InPlaceCuts, PulpCuts
from .instance import Instance, highs_options
from .plan import require_optimal
from .solver import SolverConfig, Status, run


def solver_config(
    solver: str, time_limit: float | None, solver_options: Mapping[str, Any] | None
) -> SolverConfig:
    """The one config every LP of an analysis is solved with; a bad solver option fails here,
    before anything is solved, naming the option (as in :func:`revshare.compare`)."""
    return SolverConfig(solver, time_limit, dict(solver_options or {}))


def other_solver(config: SolverConfig) -> SolverConfig:
    """The cross-check's config: the other solver, the same time limit, its own defaults (the
    user's options are the first solver's words), as :func:`revshare.optimize` does."""
    return SolverConfig("cbc" if config.name == "highs" else "highs", config.time_limit, {})


def disagree(what: str, first: SolverConfig, a: float, b: float, tol: float, unit: str) -> None:
    """Raise the cross-check's NotOptimalError when ``a`` and ``b`` differ by more than ``tol``."""
    if abs(a - b) > tol:
        raise NotOptimalError(
            f"solvers disagree on {what}: {first.name} {a:,.6g}, {other_solver(first).name} "
            f"{b:,.6g} {unit} (tolerance {tol:.3g})"
        )


class Program:
    """A PuLP model optimised for one objective after another, each solve's status returned as
    it is (the caller decides what a non-optimal status means), on the one LP of
    :mod:`revshare.solve.cuts`: with HiGHS the rows go once into one instance
    (:class:`InPlaceCuts`), warm-started from one objective to the next; with any other solver
    each solve is :func:`revshare.solve.solver.run` of the PuLP problem (:class:`PulpCuts`).
    Rows held for a while (:meth:`keep`) are released by :meth:`release`."""

    def __init__(self, m: Model, config: SolverConfig) -> None:
        self.m, self.config = m, config
        self.lp: InPlaceCuts | PulpCuts = (
            InPlaceCuts(Instance(m.prob, highs_options(config)), m, config)
            if config.name == "highs"
            else PulpCuts(m.prob, self._solve)
        )

    def _solve(
        self, prob: pulp.LpProblem, expr: pulp.LpAffineExpression, sense: int, stage: str
    ) -> float:
        require_optimal(self._run(prob, expr, sense), stage, self.m, self.config.name)
        return float(pulp.value(expr))

    def _run(self, prob: pulp.LpProblem, expr: pulp.LpAffineExpression, sense: int) -> Status:
        prob.setObjective(expr)
        prob.sense = sense
        return run(prob, self.config)

    def optimise(self, expr: pulp.LpAffineExpression, sense: int) -> Status:
        if isinstance(self.lp, InPlaceCuts):
            return self.lp.status(expr, sense)
        return self._run(self.lp.prob, expr, sense)

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """The last solve's values of ``variables`` (model units)."""
        return self.lp.values(variables)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        items = list(expr.items())
        coef = np.array([c for _, c in items], dtype=float)
        return float(coef @ self.values([v for v, _ in items])) + float(expr.constant)

    def keep(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        """Hold ``expr`` (model units) at or above ``low`` until :meth:`release`; returns what
        :meth:`release` takes."""
        return self.lp.hold(expr, low)

    def release(self, held: Any) -> None:
        self.lp.release(held)


def solving_arguments(config: SolverConfig, cross_check: bool) -> dict[str, Any]:
    """The keyword arguments of :func:`revshare.optimize` that solve as ``config`` says, for an
    analysis that optimizes each structure before its own LPs."""
    return {
        "solver": config.name,
        "time_limit": config.time_limit,
        "solver_options": dict(config.options),
        "cross_check": cross_check,
    }
