"""What the analyses that solve their own LPs beside the staged plan share (their LPs are
:func:`revshare.solve.lp.open_lp`'s): the config every LP of an analysis is solved with, the
cross-check's other solver and its disagreement error, and how a model's LP moves with a number
it is built at (:class:`Affine`: explain's bisection moves one instance instead of building the
model again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import NotOptimalError
from .instance import Instance
from .solver import SolverConfig


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


def solving_arguments(config: SolverConfig, cross_check: bool) -> dict[str, Any]:
    """The keyword arguments of :func:`revshare.optimize` that solve as ``config`` says, for an
    analysis that optimizes each structure before its own LPs."""
    return {
        "solver": config.name,
        "time_limit": config.time_limit,
        "solver_options": dict(config.options),
        "cross_check": cross_check,
    }


@dataclass(frozen=True)
class Affine:
    """How one model's LP moves with a number it is built at, from two builds, ``a`` and ``b``,
    with the same rows and columns: the matrix entries (``rows``, ``cols``) and the row and
    column bounds that differ, each a pair of values (at ``a``, at ``b``). Between the two, the
    LP at weight ``w`` (0 at ``a``, 1 at ``b``) is ``a + w (b - a)`` where the model is affine
    in the number, which :meth:`follows` checks on a third build."""

    rows: np.ndarray
    cols: np.ndarray
    coef: tuple[np.ndarray, np.ndarray]
    row: np.ndarray
    row_bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # lower a, b; upper a, b
    col: np.ndarray
    col_bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    def at(self, w: float) -> tuple[np.ndarray, ...]:
        """Entries, row lower and upper, column lower and upper bounds at weight ``w``."""
        (ca, cb), (rla, rlb, rua, rub), (cla, clb, cua, cub) = (
            self.coef,
            self.row_bounds,
            self.col_bounds,
        )
        return tuple(
            _lerp(a, b, w) for a, b in ((ca, cb), (rla, rlb), (rua, rub), (cla, clb), (cua, cub))
        )

    def follows(self, c: Instance, w: float, base: Instance) -> bool:
        """Whether ``c``, a third build, is this LP at weight ``w`` (``base`` is the build at
        ``a``), to a relative ``AFFINE_TOLERANCE``."""
        if c.col != base.col or c.row != base.row:
            return False
        entries, moved = _entries(c), _entries(base)
        coef, rl, ru, cl, cu = self.at(w)
        moved.update(zip(_keys(self.rows, self.cols, base.n_cols), coef.tolist(), strict=True))
        if entries.keys() - moved.keys():
            return False
        got = np.array([entries.get(k, 0.0) for k in moved])
        want = np.array(list(moved.values()))
        lower, upper = base.row_lower.copy(), base.row_upper.copy()
        lower[self.row], upper[self.row] = rl, ru
        c_lower, c_upper = base.col_lower.copy(), base.col_upper.copy()
        c_lower[self.col], c_upper[self.col] = cl, cu
        return all(
            _close(x, y)
            for x, y in (
                (got, want),
                (c.row_lower, lower),
                (c.row_upper, upper),
                (c.col_lower, c_lower),
                (c.col_upper, c_upper),
            )
        )


AFFINE_TOLERANCE = 1e-12


def affine(a: Instance, b: Instance) -> Affine | None:
    """What differs between two builds of one model (:class:`Affine`); ``None`` when their rows
    or columns differ, or a bound is infinite in one and finite in the other."""
    if a.col != b.col or a.row != b.row:
        return None
    ea, eb = _entries(a), _entries(b)
    keys = np.array(sorted(k for k in ea.keys() | eb.keys() if ea.get(k, 0.0) != eb.get(k, 0.0)))
    keys = keys.astype(np.int64)
    bounds = []
    moved = []
    for pairs in (
        ((a.row_lower, b.row_lower), (a.row_upper, b.row_upper)),
        ((a.col_lower, b.col_lower), (a.col_upper, b.col_upper)),
    ):
        differ = np.zeros(len(pairs[0][0]), dtype=bool)
        for x, y in pairs:
            if not np.array_equal(np.isinf(x), np.isinf(y)) or not np.array_equal(
                x[np.isinf(x)], y[np.isinf(y)]
            ):
                return None
            differ |= x != y
        where = np.flatnonzero(differ)
        moved.append(where)
        bounds.append(tuple(side[where] for pair in pairs for side in pair))
    return Affine(
        rows=(keys // a.n_cols).astype(np.int32),
        cols=(keys % a.n_cols).astype(np.int32),
        coef=(
            np.array([ea.get(k, 0.0) for k in keys.tolist()]),
            np.array([eb.get(k, 0.0) for k in keys.tolist()]),
        ),
        row=moved[0].astype(np.int32),
        row_bounds=bounds[0],  # type: ignore[arg-type]
        col=moved[1].astype(np.int32),
        col_bounds=bounds[1],  # type: ignore[arg-type]
    )


def _lerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    if not w:
        return a.copy()
    with np.errstate(invalid="ignore"):  # an infinite bound the same at both ends stays
        return np.where(a == b, a, a + w * (b - a))


def _keys(rows: np.ndarray, cols: np.ndarray, n_cols: int) -> list[int]:
    return (rows.astype(np.int64) * n_cols + cols).tolist()


def _entries(inst: Instance) -> dict[int, float]:
    c = inst.coo()
    return dict(zip(_keys(c.row, c.col, inst.n_cols), c.data.tolist(), strict=True))


def _close(x: np.ndarray, y: np.ndarray) -> bool:
    finite = np.isfinite(y)
    if not np.array_equal(np.isfinite(x), finite) or not np.array_equal(x[~finite], y[~finite]):
        return False
    scale = np.maximum(np.abs(y[finite]), 1.0)
    return bool(np.all(np.abs(x[finite] - y[finite]) <= AFFINE_TOLERANCE * scale))
