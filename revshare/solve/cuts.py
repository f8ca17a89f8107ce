"""One LP that a loop grows row by row: the nash cutting planes (:mod:`revshare.solve.nash`).

The loop is written once against :class:`Cuts` (add a row, solve for an objective, read a value)
and carried out two ways: :class:`InPlaceCuts` in one HiGHS instance
(:class:`revshare.solve.instance.Instance`), where each new row keeps the last basis and each
round is a warm start; and :class:`PulpCuts` through PuLP, a fresh solver run each round, which is
what the CBC executor (the second opinion) uses. The rows are PuLP constraints either way: PuLP
stays the one source of rows and names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pulp

from ..model.lp import Model
from .plan import require_optimal
from .solver import SolverConfig, Status

INF = float("inf")
# benchmarks/nash.py turns this off to time the path it replaced: the HiGHS executor's nash cuts
# and explain's elastic LP solved through PuLP, a fresh HiGHS model each solve
IN_PLACE = True


class Cuts(Protocol):
    """An LP over a model's rows that a loop adds rows to and solves for changing objectives."""

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        """Add ``row`` (named ``name`` where the rows have names) before the next solve."""

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        """The optimum of ``expr``; raises unless the solver proves it (``stage`` names it)."""

    def value(self, expr: pulp.LpAffineExpression) -> float:
        """``expr`` at the last optimum."""


Solve = Callable[[pulp.LpProblem, pulp.LpAffineExpression, int, str], float]


class PulpCuts:
    """:class:`Cuts` on a copy of a PuLP problem; ``solve(prob, expr, sense, stage)`` solves it
    once and returns the optimum (:func:`revshare.solve.pulp_executor.optimise`)."""

    def __init__(self, prob: pulp.LpProblem, solve: Solve) -> None:
        self.prob = prob.copy()
        self.solve = solve

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        self.prob.addConstraint(row, name)

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        return self.solve(self.prob, expr, sense, stage)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        return float(pulp.value(expr))


class Table(Protocol):
    """What :class:`InPlaceCuts` uses of :class:`revshare.solve.instance.Instance` (which
    imports this module, so it is named by its shape)."""

    col: dict[str, int]

    def add_col(self, lower: float, upper: float) -> int: ...

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, index: list[np.ndarray], value: list[np.ndarray]
    ) -> np.ndarray: ...

    def optimise(
        self, index: np.ndarray, value: np.ndarray, sense: int, time_limit: float | None
    ) -> Status: ...

    def x(self) -> np.ndarray: ...


class InPlaceCuts:
    """:class:`Cuts` in one HiGHS instance ``inst`` built from ``m.prob``: a variable the loop
    creates becomes a column when a row or objective first names it; rows wait until the next
    solve and go in as one block, which HiGHS adds to its basis as basic slacks (a warm start)."""

    def __init__(self, inst: Table, m: Model, config: SolverConfig) -> None:
        self.inst = inst
        self.m = m
        self.config = config
        self.x = np.zeros(0)
        self._lower: list[float] = []
        self._upper: list[float] = []
        self._index: list[np.ndarray] = []
        self._coef: list[np.ndarray] = []

    def _terms(self, expr: pulp.LpAffineExpression) -> tuple[np.ndarray, np.ndarray]:
        col = self.inst.col
        items = list(expr.items())
        for v, _ in items:
            if v.name not in col:
                lower = -INF if v.lowBound is None else float(v.lowBound)
                upper = INF if v.upBound is None else float(v.upBound)
                col[v.name] = self.inst.add_col(lower, upper)
        return (
            np.array([col[v.name] for v, _ in items], dtype=np.int32),
            np.array([c for _, c in items], dtype=float),
        )

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        index, coef = self._terms(row)
        rhs = -float(row.constant)
        self._lower.append(rhs if row.sense != pulp.LpConstraintLE else -INF)
        self._upper.append(rhs if row.sense != pulp.LpConstraintGE else INF)
        self._index.append(index)
        self._coef.append(coef)

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        if self._index:
            self.inst.add_rows(
                np.array(self._lower), np.array(self._upper), self._index, self._coef
            )
            self._lower, self._upper, self._index, self._coef = [], [], [], []
        index, coef = self._terms(expr)
        status = self.inst.optimise(index, coef, sense, self.config.time_limit)
        require_optimal(status, stage, self.m, self.config.name)
        self.x = self.inst.x()
        return self.value(expr)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        index, coef = self._terms(expr)
        return float(coef @ self.x[index]) + float(expr.constant)


__all__ = ["IN_PLACE", "Cuts", "InPlaceCuts", "PulpCuts"]
