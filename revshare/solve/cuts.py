"""One LP over a PuLP model, solved for one objective after another while rows are added, held
and released and bounds move: the nash cutting planes (:mod:`revshare.solve.nash`), the fear
analyses' programs (:class:`revshare.solve.program.Program`) and the explanation of an
infeasible structure (:mod:`revshare.analyses.explain`).

Written once against :class:`Cuts` and carried out two ways: :class:`InPlaceCuts` in one HiGHS
instance (:class:`revshare.solve.instance.Instance`), where a new row keeps the last basis and
each solve is a warm start; and :class:`PulpCuts` through PuLP, a fresh solver run each solve,
which is what the CBC executor (the second opinion) uses. The rows are PuLP constraints either
way: PuLP stays the one source of rows and names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

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
        """``expr`` at the last solve."""

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """The last solve's values of ``variables``."""

    def hold(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        """Hold ``expr`` at or above ``low`` until :meth:`release`; returns what it takes."""

    def release(self, held: Any) -> None:
        """Drop a row that :meth:`hold` added."""


Solve = Callable[[pulp.LpProblem, pulp.LpAffineExpression, int, str], float]


class PulpCuts:
    """:class:`Cuts` on a copy of a PuLP problem (the copy shares the problem's rows and
    variables, so a solve leaves its values in them); ``solve(prob, expr, sense, stage)`` solves
    it once and returns the optimum (:func:`revshare.solve.pulp_executor.optimise`)."""

    def __init__(self, prob: pulp.LpProblem, solve: Solve) -> None:
        self.prob = prob.copy()
        self.solve = solve

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        self.prob.addConstraint(row, name)

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        return self.solve(self.prob, expr, sense, stage)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        return float(pulp.value(expr))

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        return np.array([v.varValue or 0.0 for v in variables], dtype=float)

    def hold(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        held = self.prob
        self.prob = held.copy()  # the copy shares every row but the held one
        self.prob.addConstraint(expr >= low, "keep_optimum_capture")
        return held

    def release(self, held: Any) -> None:
        self.prob = held


class Table(Protocol):
    """What :class:`InPlaceCuts` uses of :class:`revshare.solve.instance.Instance` (a sibling
    module of the same layer, so it is named by its shape)."""

    col: dict[str, int]
    h: Any  # the highspy.Highs object (a cold solve clears its basis)

    def add_col(self, lower: float, upper: float) -> int: ...

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, index: list[np.ndarray], value: list[np.ndarray]
    ) -> np.ndarray: ...

    def set_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None: ...

    def set_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None: ...

    def set_coefs(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None: ...

    def optimise(
        self, index: np.ndarray, value: np.ndarray, sense: int, time_limit: float | None
    ) -> Status: ...

    def x(self) -> np.ndarray: ...


class InPlaceCuts:
    """:class:`Cuts` in one HiGHS instance ``inst`` built from ``m.prob`` (or any PuLP problem
    over ``m``'s variables): a variable the loop creates becomes a column when a row or
    objective first names it; rows added by :meth:`add` wait until the next solve and go in as
    one block, which HiGHS adds to its basis as basic slacks (a warm start). Bounds and
    coefficients move in place (:meth:`bound_rows`, :meth:`bound_cols`, :meth:`bound`,
    :meth:`set_coefs`)."""

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

    def _flush(self) -> None:
        """Pass the rows :meth:`add` gathered to HiGHS, as one block."""
        if self._index:
            self.inst.add_rows(
                np.array(self._lower), np.array(self._upper), self._index, self._coef
            )
            self._lower, self._upper, self._index, self._coef = [], [], [], []

    def status(self, expr: pulp.LpAffineExpression, sense: int, cold: bool = False) -> Status:
        """Solve for ``expr`` and return the status as it is (the caller decides what a
        non-optimal one means); ``cold`` drops the last basis first."""
        self._flush()
        index, coef = self._terms(expr)
        if cold:
            self.inst.h.clearSolver()
        status = self.inst.optimise(index, coef, sense, self.config.time_limit)
        self.x = self.inst.x()
        return status

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        require_optimal(self.status(expr, sense), stage, self.m, self.config.name)
        return self.value(expr)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        index, coef = self._terms(expr)
        return float(coef @ self.x[index]) + float(expr.constant)

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        return self.x[np.array([self.inst.col[v.name] for v in variables], dtype=np.int64)]

    def hold(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        self._flush()
        index, coef = self._terms(expr)
        low -= float(expr.constant)
        return self.inst.add_rows(np.array([low]), np.array([INF]), [index], [coef])

    def release(self, held: Any) -> None:
        self.bound_rows(held, np.full(len(held), -INF), np.full(len(held), INF))

    def bound_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Move the bounds of the rows at positions ``rows`` (infinite ones switch a row off)."""
        self.inst.set_rows(rows, lower, upper)

    def bound_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Move the bounds of the columns at positions ``cols``."""
        self.inst.set_cols(cols, lower, upper)

    def bound(self, variables: Sequence[pulp.LpVariable], lower: float, upper: float) -> None:
        """Move the bounds of ``variables``' columns to ``lower`` and ``upper``."""
        cols = np.array([self.inst.col[v.name] for v in variables], dtype=np.int32)
        self.bound_cols(cols, np.full(len(cols), lower), np.full(len(cols), upper))

    def set_coefs(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Set the matrix entries (``rows[i]``, ``cols[i]``) to ``values[i]``."""
        self.inst.set_coefs(rows, cols, values)


__all__ = ["IN_PLACE", "Cuts", "InPlaceCuts", "PulpCuts"]
