"""A PuLP problem in one HiGHS instance (:class:`Instance`), and what can be read off a solved
basis without another solve: whether the allocation is the same in every optimum
(:func:`allocation_fixed`) and how far each column can move near the optimum
(:func:`column_ranges`).

The executor (:mod:`revshare.solve.highs_executor`), the sweep engine
(:mod:`revshare.solve.engine`) and the LP a loop re-solves (:class:`revshare.solve.lp.InPlaceLp`:
the nash cuts, the fear analyses' LPs, explain) all solve in an :class:`Instance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pulp

if TYPE_CHECKING:
    import scipy.sparse as sp

from ..errors import SolverUnavailableError
from .plan import Coo, stage_ranges
from .solver import (
    DUAL_EPSILON,
    FEASIBILITY,
    HIGHS_DEFAULTS,
    HIGHS_STATUS,
    SolverConfig,
    Status,
)

INF = highspy.kHighsInf
BASIC = int(highspy.HighsBasisStatus.kBasic)
EDGE_EPSILON = 1e-9  # an edge that moves z or g by less per unit is taken as not moving them
MAX_EDGE_CHECKS = 64  # one basis solve each; past this many a stage is not proven unique


class Instance:
    """A PuLP problem's rows and columns in one HiGHS instance, with the current bounds."""

    def __init__(self, prob: pulp.LpProblem, options: Mapping[str, Any]) -> None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for key, value in options.items():
            if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
                raise SolverUnavailableError(f"HiGHS refused the option {key}={value!r}")
        self.h = h
        self.presolve = str(options.get("presolve", "choose"))
        # what a re-run with another setting restores afterwards
        self.options = {
            "presolve": self.presolve,
            "simplex_strategy": options.get("simplex_strategy", 1),
        }
        variables = prob.variables()
        self.col = {v.name: i for i, v in enumerate(variables)}
        self.col_lower = np.array(
            [-INF if v.lowBound is None else v.lowBound for v in variables], float
        )
        self.col_upper = np.array(
            [INF if v.upBound is None else v.upBound for v in variables], float
        )
        h.addVars(len(variables), self.col_lower, self.col_upper)
        self.row: dict[str, int] = {}
        starts: list[int] = []
        index: list[int] = []
        coefs: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        for c in prob.constraints():
            starts.append(len(index))
            for v, coef in c.items():
                index.append(self.col[v.name])
                coefs.append(coef)
            rhs = -float(c.constant)
            lower.append(rhs if c.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF)
            upper.append(rhs if c.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF)
            self.row[c.name] = len(self.row)
        self.row_lower = np.empty(0)
        self.row_upper = np.empty(0)
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._changed: dict[tuple[int, int], float] = {}  # entries moved by set_coefs
        self._matrix: sp.csc_matrix | None = None
        self._cost: np.ndarray | None = None
        self._push_rows(
            np.array(lower, float), np.array(upper, float), np.array(starts, np.int32), index, coefs
        )

    @property
    def n_cols(self) -> int:
        return len(self.col_lower)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def _push_rows(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        starts: np.ndarray,
        index: list[int] | np.ndarray,
        value: list[float] | np.ndarray,
    ) -> None:
        idx = np.asarray(index, dtype=np.int32)
        val = np.asarray(value, dtype=float)
        if len(starts):
            self.h.addRows(len(starts), lower, upper, len(idx), starts, idx, val)
        self.row_lower = np.append(self.row_lower, lower)
        self.row_upper = np.append(self.row_upper, upper)
        self._blocks.append((starts, idx, val))
        self._matrix = None

    def add_col(self, lower: float, upper: float) -> int:
        self.h.addVar(lower, upper)
        self.col_lower = np.append(self.col_lower, lower)
        self.col_upper = np.append(self.col_upper, upper)
        self._matrix = self._cost = None
        return self.n_cols - 1

    def add_rows(
        self, lower: np.ndarray, upper: np.ndarray, index: list[np.ndarray], value: list[np.ndarray]
    ) -> np.ndarray:
        """Add one row per entry of ``index``/``value``; returns their positions."""
        first = self.n_rows
        starts = np.cumsum([0] + [len(i) for i in index[:-1]]).astype(np.int32)
        self._push_rows(
            np.asarray(lower, float),
            np.asarray(upper, float),
            starts,
            np.concatenate(index),
            np.concatenate(value),
        )
        return np.arange(first, self.n_rows, dtype=np.int32)

    def set_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]
        self.row_lower[rows], self.row_upper[rows] = lower, upper

    def set_cols(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeColsBounds(len(cols), cols, lower, upper)
        self.col_lower[cols], self.col_upper[cols] = lower, upper

    def set_coefs(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Set the matrix entries (``rows[i]``, ``cols[i]``) to ``values[i]`` (zero removes one)."""
        for r, c, v in zip(rows.tolist(), cols.tolist(), values.tolist(), strict=True):
            self.h.changeCoeff(r, c, v)
            self._changed[(r, c)] = v
        self._matrix = None

    def coo(self) -> Coo:
        """The constraint matrix's entries (row, column, value), from numpy alone: what bound
        propagation reads (:func:`revshare.solve.plan.stage_ranges`), without importing scipy,
        which would cost a command a third of its start-up."""
        rows, cols, vals = [], [], []
        offset = 0
        for starts, idx, val in self._blocks:
            counts = np.diff(np.append(starts, len(idx)))
            rows.append(np.repeat(np.arange(offset, offset + len(starts)), counts))
            cols.append(idx)
            vals.append(val)
            offset += len(starts)
        row, col, val = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        if self._changed:  # the entries set_coefs moved replace (or join) the blocks' own
            moved = np.array(list(self._changed), dtype=np.int64).reshape(-1, 2)
            keys = row.astype(np.int64) * self.n_cols + col
            kept = ~np.isin(keys, moved[:, 0] * self.n_cols + moved[:, 1])
            new = np.array(list(self._changed.values()), dtype=float)
            row = np.concatenate([row[kept], moved[:, 0][new != 0]])
            col = np.concatenate([col[kept], moved[:, 1][new != 0]])
            val = np.concatenate([val[kept], new[new != 0]])
        return Coo(row, col, val, (self.n_rows, self.n_cols))

    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix (rows x columns), built when first asked for after a change."""
        import scipy.sparse as sp  # on first use only (see :meth:`coo`)

        if self._matrix is None:
            c = self.coo()
            self._matrix = sp.csc_matrix((c.data, (c.row, c.col)), shape=c.shape)
        return self._matrix

    def optimise(
        self, index: np.ndarray, value: np.ndarray, sense: int, time_limit: float | None
    ) -> Status:
        """Minimise or maximise ``value @ x[index]`` from the current basis."""
        h = self.h
        cost = np.zeros(self.n_cols)
        cost[index] = value
        if self._cost is None or not np.array_equal(cost, self._cost):  # keeps HiGHS's factor
            h.changeColsCost(self.n_cols, np.arange(self.n_cols, dtype=np.int32), cost)
            self._cost = cost
        h.changeObjectiveSense(
            highspy.ObjSense.kMinimize if sense == pulp.LpMinimize else highspy.ObjSense.kMaximize
        )
        status = self._run(time_limit)
        if status not in (Status.OPTIMAL, Status.LIMIT):
            # a warm start can end in trouble a cold one does not (tiny groups beside large
            # ones); presolve cannot tell infeasible from unbounded, the simplex can
            off = status is Status.INFEASIBLE_OR_UNBOUNDED
            status = self._rerun(time_limit, "presolve", "off" if off else self.presolve)
        if h.getModelStatus() == highspy.HighsModelStatus.kUnknown or (
            status is Status.OPTIMAL and h.getInfo().max_primal_infeasibility > FEASIBILITY
        ):
            # the dual simplex could not clean up its unscaled solution (tiny groups beside
            # large ones); the primal simplex settles it, proving infeasibility where there is
            # one (a case that ended "solver error", exit 4, is infeasible, exit 3)
            status = self._rerun(time_limit, "simplex_strategy", 4)
        return status

    def _run(self, time_limit: float | None) -> Status:
        h = self.h
        if time_limit is not None:  # HiGHS counts the instance's whole run time
            h.setOptionValue("time_limit", h.getRunTime() + time_limit)
        h.run()
        return HIGHS_STATUS.get(h.getModelStatus(), Status.ERROR)

    def _rerun(self, time_limit: float | None, option: str, value: Any) -> Status:
        """Solve again from scratch with ``option`` set to ``value`` for this run only."""
        self.h.clearSolver()
        kept = self.options[option]
        self.h.setOptionValue(option, value)
        try:
            return self._run(time_limit)
        finally:
            self.h.setOptionValue(option, kept)

    def x(self) -> np.ndarray:
        return np.array(self.h.getSolution().col_value)


def allocation_fixed(
    inst: Instance,
    watched: np.ndarray,
    col_status: np.ndarray,
    row_status: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_edges: int = MAX_EDGE_CHECKS,
) -> bool:
    """Whether the ``watched`` columns (the allocation) are the same in every optimum.

    Every optimum lies in the cone of the edges along which a non-basic column or row can leave
    its bound at zero reduced cost (the *movable* ones); any other edge worsens the objective. So
    if no movable edge changes a watched column (its direction, ``B^-1`` times the column, is zero
    there), the allocation is unique, even where auxiliary columns are not. ``bounds`` (column
    lower, upper, row lower, upper) default to the instance's own."""
    h = inst.h
    sol = h.getSolution()
    c_lo, c_hi, r_lo, r_hi = bounds or (
        inst.col_lower,
        inst.col_upper,
        inst.row_lower,
        inst.row_upper,
    )
    movable = []
    for status, dual, lo, hi in (
        (col_status, sol.col_dual, c_lo, c_hi),
        (row_status, sol.row_dual, r_lo, r_hi),
    ):
        can_move = (status != BASIC) & (lo < hi)  # a free non-basic one moves both ways
        movable.append(np.flatnonzero(can_move & (np.abs(np.asarray(dual)) <= DUAL_EPSILON)))
    cols, rows = movable
    if not len(cols) and not len(rows):
        return True
    if np.isin(cols, watched).any() or len(cols) + len(rows) > max_edges:
        return False  # not proven unique: the leximin rounds decide
    found, basic = h.getBasicVariables()  # type: ignore[attr-defined]
    if found != highspy.HighsStatus.kOk:
        return False
    watched_basic = np.isin(np.asarray(basic), watched)
    if not watched_basic.any():
        return True
    a = inst.matrix()
    for j in [*cols, *(-1 - rows)]:
        rhs = np.zeros(inst.n_rows)
        if j >= 0:
            rhs[a.indices[a.indptr[j] : a.indptr[j + 1]]] = a.data[a.indptr[j] : a.indptr[j + 1]]
        else:
            rhs[-1 - j] = 1.0
        solved, direction = h.getBasisSolve(rhs)  # type: ignore[attr-defined]
        if solved != highspy.HighsStatus.kOk or (
            np.max(np.abs(np.asarray(direction)[watched_basic])) > EDGE_EPSILON
        ):
            return False
    return True


def column_ranges(
    inst: Instance,
    sense: int,
    slack: float,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`revshare.solve.plan.stage_ranges` for the stage just solved in ``inst``: bounds
    on every column over the points within ``slack`` of its optimum. No LP solve. ``bounds``
    (column lower, upper, row lower, upper) default to the instance's own."""
    sol = inst.h.getSolution()
    sign = 1.0 if sense == pulp.LpMinimize else -1.0
    c_lo, c_hi, r_lo, r_hi = bounds or (
        inst.col_lower,
        inst.col_upper,
        inst.row_lower,
        inst.row_upper,
    )
    return stage_ranges(
        inst.coo(),
        np.concatenate([c_lo, r_lo]),
        np.concatenate([c_hi, r_hi]),
        np.concatenate([np.asarray(sol.col_value), np.asarray(sol.row_value)]),
        sign * np.concatenate([np.asarray(sol.col_dual), np.asarray(sol.row_dual)]),
        slack,
    )


def highs_options(config: SolverConfig) -> dict[str, Any]:
    """The HiGHS options of every in-place solve (those :meth:`SolverConfig.make` sets too)."""
    return {**HIGHS_DEFAULTS, **config.options}
