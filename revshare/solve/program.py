"""One PuLP model optimised for one objective after another, by the solver the user chose: the
LPs of the fear-of-domination analyses (guarantees, capture, the least core) beside the staged
plan. With HiGHS the rows go once into one in-place instance (:class:`Instance`), warm-started
from one objective to the next; with CBC each solve is :func:`revshare.solve.solver.run` of the
PuLP problem. The PuLP model is the one source of rows either way. Also the config every LP of
an analysis is solved with, and the cross-check's other solver and its disagreement error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pulp

from ..errors import NotOptimalError
from ..model.lp import Model
from .instance import Instance, highs_options
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
    it is (the caller decides what a non-optimal status means). With HiGHS the rows go once into
    one instance, warm-started from one objective to the next; with any other solver each solve
    is :func:`revshare.solve.solver.run` of the PuLP problem. Rows held for a while
    (:meth:`keep`) are released by :meth:`release`."""

    def __init__(self, m: Model, config: SolverConfig) -> None:
        self.m, self.config = m, config
        self.inst = Instance(m.prob, highs_options(config)) if config.name == "highs" else None
        self.prob = m.prob
        self._x = np.empty(0)

    def optimise(self, expr: pulp.LpAffineExpression, sense: int) -> Status:
        if self.inst is None:
            self.prob.setObjective(expr)
            self.prob.sense = sense
            return run(self.prob, self.config)
        index, coef = self._terms(expr)
        status = self.inst.optimise(index, coef, sense, self.config.time_limit)
        self._x = self.inst.x()
        return status

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """The last solve's values of ``variables`` (model units)."""
        if self.inst is None:
            return np.array([v.varValue or 0.0 for v in variables], dtype=float)
        return self._x[np.array([self.inst.col[v.name] for v in variables], dtype=np.int64)]

    def value(self, expr: pulp.LpAffineExpression) -> float:
        items = list(expr.items())
        coef = np.array([c for _, c in items], dtype=float)
        return float(coef @ self.values([v for v, _ in items])) + float(expr.constant)

    def keep(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        """Hold ``expr`` (model units) at or above ``low`` until :meth:`release`; returns what
        :meth:`release` takes."""
        if self.inst is None:
            held = self.prob
            self.prob = held.copy()  # the copy shares every row but the kept one
            self.prob.addConstraint(expr >= low, "keep_optimum_capture")
            return held
        index, coef = self._terms(expr)
        low -= float(expr.constant)
        return self.inst.add_rows(np.array([low]), np.array([np.inf]), [index], [coef])

    def release(self, held: Any) -> None:
        if self.inst is None:
            self.prob = held
        else:
            self.inst.set_rows(held, np.array([-np.inf]), np.array([np.inf]))

    def _terms(self, expr: pulp.LpAffineExpression) -> tuple[np.ndarray, np.ndarray]:
        assert self.inst is not None
        items = list(expr.items())
        index = np.array([self.inst.col[v.name] for v, _ in items], dtype=np.int32)
        return index, np.array([c for _, c in items], dtype=float)


def solving_arguments(config: SolverConfig, cross_check: bool) -> dict[str, Any]:
    """The keyword arguments of :func:`revshare.optimize` that solve as ``config`` says, for an
    analysis that optimizes each structure before its own LPs."""
    return {
        "solver": config.name,
        "time_limit": config.time_limit,
        "solver_options": dict(config.options),
        "cross_check": cross_check,
    }
