"""One LP over a PuLP model, solved for one objective after another while rows are added, held
and released and bounds move: the nash cutting planes (:mod:`revshare.solve.nash`), the fear
analyses' LPs (guarantees, capture, the least core) and the explanation of an infeasible
structure (:mod:`revshare.analyses.explain`, :mod:`revshare.analyses.concession`).

Written once against :class:`Lp` and carried out two ways: :class:`InPlaceLp` in one HiGHS
instance (:class:`revshare.solve.instance.Instance`), where a new row keeps the last basis and
each solve is a warm start; and :class:`PulpLp` through PuLP, a fresh solver run of the problem
each solve (:func:`revshare.solve.solver.run`), which is what CBC (the second opinion) uses.
:func:`open_lp` picks one for a solver. The rows are PuLP constraints either way: PuLP stays the
one source of rows and names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pulp

from ..model.lp import Model
from .instance import Instance, highs_options
from .plan import require_optimal
from .solver import SolverConfig, Status, run

INF = float("inf")
# benchmarks/nash.py turns this off to time the path it replaced: the HiGHS LPs (the nash cuts,
# explain's elastic LP, the fear analyses') solved through PuLP, a fresh HiGHS model each solve
IN_PLACE = True


class Lp(Protocol):
    """An LP over a model's rows that a loop adds rows to and solves for changing objectives."""

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        """Add ``row`` (named ``name`` where the rows have names) before the next solve."""

    def optimise(self, expr: pulp.LpAffineExpression, sense: int, cold: bool = False) -> Status:
        """Solve for ``expr`` and return the status as it is (the caller decides what a
        non-optimal one means); ``cold`` starts without the last solve's basis."""

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

    def bound(self, variables: Sequence[pulp.LpVariable], lower: float, upper: float) -> None:
        """Move the bounds of ``variables`` to ``lower`` and ``upper`` (infinite: none)."""


def open_lp(m: Model, config: SolverConfig, prob: pulp.LpProblem | None = None) -> Lp:
    """The :class:`Lp` of ``prob`` (``m.prob`` unless given; a problem over ``m``'s variables)
    that ``config``'s solver runs: in place for HiGHS (unless :data:`IN_PLACE` is off), else
    through PuLP."""
    prob = m.prob if prob is None else prob
    if config.name == "highs" and IN_PLACE:
        return InPlaceLp(Instance(prob, highs_options(config)), m, config)
    return PulpLp(prob, m, config)


class PulpLp:
    """:class:`Lp` on a copy of a PuLP problem (the copy shares the problem's rows and
    variables, so a solve leaves its values in them); each solve is a fresh run of the copy by
    ``config``'s solver, so every solve is cold."""

    def __init__(self, prob: pulp.LpProblem, m: Model, config: SolverConfig) -> None:
        self.prob = prob.copy()
        self.m = m
        self.config = config

    def add(self, row: pulp.LpConstraint, name: str) -> None:
        self.prob.addConstraint(row, name)

    def optimise(self, expr: pulp.LpAffineExpression, sense: int, cold: bool = False) -> Status:
        self.prob.setObjective(expr)
        self.prob.sense = sense
        return run(self.prob, self.config)

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        require_optimal(self.optimise(expr, sense), stage, self.m, self.config.name)
        return self.value(expr)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        # pulp.value's sum, in its order, with a variable the solver never saw at 0 as in values
        total = expr.constant
        for v, c in expr.items():
            total += (v.varValue or 0.0) * c
        return float(total)

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        return np.array([v.varValue or 0.0 for v in variables], dtype=float)

    def hold(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        held = self.prob
        self.prob = held.copy()  # the copy shares every row but the held one
        self.prob.addConstraint(expr >= low, "keep_optimum_capture")
        return held

    def release(self, held: Any) -> None:
        self.prob = held

    def bound(self, variables: Sequence[pulp.LpVariable], lower: float, upper: float) -> None:
        for v in variables:
            v.lowBound = None if lower == -INF else lower
            v.upBound = None if upper == INF else upper


class InPlaceLp:
    """:class:`Lp` in one HiGHS instance ``inst`` built from ``m.prob`` (or any PuLP problem
    over ``m``'s variables): a variable the loop creates becomes a column when a row or
    objective first names it; rows added by :meth:`add` wait until the next solve and go in as
    one block, which HiGHS adds to its basis as basic slacks (a warm start). Bounds and
    coefficients also move in place by position, which only this LP has (:meth:`bound_rows`,
    :meth:`bound_cols`, :meth:`set_coefs`)."""

    def __init__(self, inst: Instance, m: Model, config: SolverConfig) -> None:
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

    def optimise(self, expr: pulp.LpAffineExpression, sense: int, cold: bool = False) -> Status:
        self._flush()
        index, coef = self._terms(expr)
        if cold:
            self.inst.h.clearSolver()
        status = self.inst.optimise(index, coef, sense, self.config.time_limit)
        self.x = self.inst.x()
        return status

    def optimum(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        require_optimal(self.optimise(expr, sense), stage, self.m, self.config.name)
        return self.value(expr)

    def value(self, expr: pulp.LpAffineExpression) -> float:
        index, coef = self._terms(expr)
        return float(coef @ self.x[index]) + float(expr.constant)

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        return self.x[self._cols(variables)]

    def hold(self, expr: pulp.LpAffineExpression, low: float) -> Any:
        self._flush()
        index, coef = self._terms(expr)
        low -= float(expr.constant)
        return self.inst.add_rows(np.array([low]), np.array([INF]), [index], [coef])

    def release(self, held: Any) -> None:
        self.bound_rows(held, np.full(len(held), -INF), np.full(len(held), INF))

    def bound(self, variables: Sequence[pulp.LpVariable], lower: float, upper: float) -> None:
        cols = self._cols(variables).astype(np.int32)
        self.bound_cols(cols, np.full(len(cols), lower), np.full(len(cols), upper))

    def _cols(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        return np.array([self.inst.col[v.name] for v in variables], dtype=np.int64)

    def bound_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Move the bounds of the rows at positions ``rows`` (infinite ones switch a row off)."""
        self.inst.set_rows(rows, lower, upper)

    def bound_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Move the bounds of the columns at positions ``cols``."""
        self.inst.set_cols(cols, lower, upper)

    def set_coefs(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Set the matrix entries (``rows[i]``, ``cols[i]``) to ``values[i]``."""
        self.inst.set_coefs(rows, cols, values)


__all__ = ["IN_PLACE", "InPlaceLp", "Lp", "PulpLp", "open_lp"]
