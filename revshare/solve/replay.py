"""The sweep engine's replay of a price's bases at many other prices at once.

Along a trace of bases (:class:`Step`, one per stage or leximin round a price went through)
every bound is affine in a price's few coordinates (:class:`Coordinates`: the data is a constant
plus the price times fixed quantities; each stage's optimum and tolerance are affine in the
data), so a step solves its basis matrix once for coefficients (:class:`Affine`) and only the
feasibility test is worked out price by price, mostly cleared for all prices at once by a box
test. :class:`Replaying` is the part of :class:`revshare.solve.engine.Engine` that does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

INF = highspy.kHighsInf
BASIC = int(highspy.HighsBasisStatus.kBasic)
NONBASIC = int(highspy.HighsBasisStatus.kNonbasic)
UPPER = int(highspy.HighsBasisStatus.kUpper)
ZERO = int(highspy.HighsBasisStatus.kZero)
COORDINATE_RTOL = 1e-13  # the data rebuilt from a price's coordinates, to its largest entry
FEASIBILITY = 1e-9  # HiGHS's primal feasibility tolerance (revshare.solve.solver.HIGHS_DEFAULTS)


@dataclass
class Bounds:
    """Column and row bounds at the price HiGHS is solving."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


@dataclass(frozen=True)
class Step:
    """One solved stage of a scenario: the optimal basis and the decision taken from its duals.
    ``stage`` indexes Engine.stages, or is -1 for a leximin round; ``blocked`` are the groups the
    round fixed at its level; ``unique`` ends the scenario. ``held`` are the groups the step's
    duals pinned (fixed at their own money; only where the engine does not replay)."""

    stage: int
    col_status: np.ndarray
    row_status: np.ndarray
    unique: bool
    blocked: np.ndarray
    basis: highspy.HighsBasis  # to start a price that leaves the trace here
    held: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class Resume:
    """Where a price left a replayed trace: the steps before ``at`` hold at that price, so
    HiGHS starts at step ``at`` with the bounds they leave (``bounds``) from that step's basis,
    which is still dual feasible there (the costs are the same), so takes a few pivots."""

    trace: list[Step]
    at: int
    bounds: Bounds


@dataclass(frozen=True)
class Row:
    """A sparse linear expression over the model's columns, with its constant."""

    index: np.ndarray
    value: np.ndarray
    constant: float

    def of(self, x: np.ndarray) -> float:
        return float(self.value @ x[self.index]) + self.constant


class Replaying:
    """Replaying a trace of bases at many prices; the engine supplies the model's layout."""

    n_cols: int
    base: Bounds
    data_cols: np.ndarray
    revenue_col: int
    level_col: int
    level_rows: np.ndarray
    fix_rows: np.ndarray
    keep_rows: list[int]
    offsets: np.ndarray
    stages: list[tuple[Row, int, str]]
    tol_affine: tuple[float, ...]
    entries: np.ndarray

    def _replay(
        self, trace: list[Step], at: Coordinates
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, int, Affine, np.ndarray]]]:
        """Follow ``trace`` at every price of ``at`` at once; returns where every stage's basis
        stayed primal feasible, the solutions, and for the prices dropped at each step (a
        price is dropped at the first step whose basis it leaves), which they are, the step,
        the bounds before it and their coordinates (with any the replay added).

        Every quantity that differs between prices (the data, each stage's optimum and its
        tolerance) is carried as coefficients on the prices' few coordinates, so a stage solves
        its basis matrix once for those coefficients, whatever the number of prices; only the
        feasibility test and the final solution are worked out price by price."""
        n_cols = self.n_cols
        b = self.base
        state = ReplayState(
            at.c,
            Affine.of(
                np.concatenate([b.col_lower, b.row_lower]),
                np.concatenate([b.col_upper, b.row_upper]),
                at.rank,
            ),
            at.data[:, self.revenue_col].copy(),
        )
        bounds = state.bounds
        bounds.lo[self.data_cols] = bounds.hi[self.data_cols] = at.data.T  # fixed at the data
        live = np.arange(at.n)
        coef = np.empty((n_cols, at.rank))
        level_entries = n_cols + self.level_rows
        fix_entries = n_cols + self.fix_rows
        drops: list[tuple[np.ndarray, int, Affine, np.ndarray]] = []
        for k, step in enumerate(trace):
            if step.stage < 0 and (k == 0 or trace[k - 1].stage >= 0):  # leximin starts
                bounds.fix(np.array([self.level_col]), -INF, INF)
                bounds.fix(level_entries, -INF, self.offsets)
            coef, feasible = self._basic_solution(step, bounds, state.c)
            if not feasible.all():
                drops.append((live[~feasible], k, bounds.copy(), state.c[~feasible]))
                live, state.c = live[feasible], state.c[feasible]
            if step.unique or not len(live):
                break
            if step.stage >= 0:
                expr, sense, _ = self.stages[step.stage]
                value = expr.value @ coef[expr.index]  # net of the constant, as the row is
                tol = self._replay_tol(state, value + unit(expr.constant, len(value)))
                entry = np.array([n_cols + self.keep_rows[step.stage]])
                bounds.fix(entry, -INF, INF)
                if sense == pulp.LpMinimize:
                    bounds.vary(entry, state.pad(value) + tol, upper=True)
                else:
                    bounds.vary(entry, state.pad(value) - tol, upper=False)
            else:
                blocked = step.blocked
                level = coef[self.level_col]
                tol = self._replay_tol(state, level)  # first: it may add a coordinate
                fixed = state.pad(level) - tol
                bounds.fix(level_entries[blocked], -INF, INF)
                bounds.fix(fix_entries[blocked], -self.offsets[blocked], INF)
                bounds.lo[fix_entries[blocked]] += fixed
        ok = np.zeros(at.n, dtype=bool)
        ok[live] = True
        out = np.full((at.n, n_cols), np.nan)
        out[live] = per_price(state.c, state.pad(coef))
        return ok, out, drops

    def _replay_tol(self, state: ReplayState, value: np.ndarray) -> np.ndarray:
        """The plan's stage tolerance for a stage optimum ``value``, as coefficients (the rule
        is affine in the revenue and ``abs(value)``, see :meth:`__init__`): ``abs(value)`` is
        ``value`` or ``-value`` where its sign is the same at every price, else a new
        coordinate."""
        at = per_price(state.c, value[None, :])[:, 0]
        if (at >= 0).all():
            size = value
        elif (at <= 0).all():
            size = -value
        else:
            size = state.add(np.abs(at))
        base, per_revenue, per_size = self.tol_affine
        return unit(base, state.rank) + per_revenue * state.revenue + per_size * state.pad(size)

    def _basic_solution(
        self, step: Step, bounds: Affine, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The basic solution of ``step``'s basis as coefficients on the coordinates (one row
        per column), and whether it is primal feasible, to HiGHS's tolerance, at each price (a
        row of ``c``)."""
        n = len(c)
        status = np.concatenate([step.col_status, step.row_status])
        at = status != BASIC
        none = np.full((self.n_cols, bounds.rank), np.nan), np.zeros(n, dtype=bool)
        if at.sum() != self.n_cols or np.any(status == NONBASIC):
            return none
        # a non-basic column or row sits at the bound its status names (0 if free)
        upper, zero = status[at] == UPPER, status[at] == ZERO
        rhs = np.where(upper[:, None], bounds.hi[at], bounds.lo[at])
        infinite = np.where(upper, bounds.hi_inf[at], bounds.lo_inf[at]) & ~zero
        rhs[zero] = 0.0
        if infinite.any():
            return none
        try:
            coef = np.linalg.solve(self.entries[at], rhs)
        except np.linalg.LinAlgError:
            return none
        if not np.isfinite(coef).all():
            return none
        basic = np.flatnonzero(~at)  # the rest sit on their bounds by construction
        value = self.entries[basic] @ coef
        # A bound's gap, as coefficients; where it is at least -FEASIBILITY over the box the
        # live prices' coordinates span, it holds at every price and is not checked one by one.
        low, high = c.min(axis=0), c.max(axis=0)
        feasible = np.ones(n, dtype=bool)
        for side, infinite, sign in (
            (bounds.lo, bounds.lo_inf, 1.0),
            (bounds.hi, bounds.hi_inf, -1.0),
        ):
            checked = np.flatnonzero(~infinite[basic])
            gap = sign * (value[checked] - side[basic[checked]])
            least = np.where(gap >= 0, gap * low, gap * high).sum(axis=1)
            unsure = checked[least < -FEASIBILITY]
            if len(unsure):
                gap = per_price(c, sign * (value[unsure] - side[basic[unsure]]))
                slack = FEASIBILITY + 1e-12 * np.abs(per_price(c, value[unsure]))
                feasible &= np.all(gap >= -slack, axis=1)
        return coef, feasible


@dataclass
class Coordinates:
    """Prices as a few coordinates: the data at every price is ``c @ data`` to rounding.

    ``c``'s first column is 1, so constants stay exact; the others span how the data varies
    (prices times fixed quantities vary along one direction), so what a replay works out per
    price is a product with ``rank`` numbers rather than with every data column."""

    c: np.ndarray  # (prices, rank)
    data: np.ndarray  # (rank, data columns)

    @property
    def rank(self) -> int:
        return int(self.c.shape[1])

    @property
    def n(self) -> int:
        return len(self.c)

    def __getitem__(self, rows: np.ndarray) -> Coordinates:
        return Coordinates(self.c[rows], self.data)

    @classmethod
    def of(cls, q: np.ndarray) -> Coordinates:
        """Coordinates that give ``q`` back to ``COORDINATE_RTOL`` of its largest entry:
        directions are added one at a time (the price the current ones miss most, made
        orthogonal to them) until none is missed."""
        origin = q[0]
        offset = q - origin
        limit = COORDINATE_RTOL * float(np.abs(q).max(initial=0.0))
        basis = np.empty((0, q.shape[1]))
        residual = offset
        while len(basis) < q.shape[1]:
            missed = np.abs(residual).max(axis=1)
            worst = int(np.argmax(missed))
            if missed[worst] <= limit:
                break
            v = residual[worst] - basis.T @ (basis @ residual[worst])  # once more, for rounding
            basis = np.vstack([basis, v / np.linalg.norm(v)])
            residual = offset - per_price(per_price(offset, basis), basis.T)
        return cls(
            np.column_stack([np.ones(len(q)), per_price(offset, basis)]),
            np.vstack([origin, basis]),
        )


@dataclass
class Affine:
    """The bounds of every column, then every row, along a replayed trace: at each price, its
    coordinates times a row of ``lo``/``hi``, or infinite where flagged."""

    lo: np.ndarray  # (entries, rank)
    hi: np.ndarray
    lo_inf: np.ndarray
    hi_inf: np.ndarray

    @property
    def rank(self) -> int:
        return int(self.lo.shape[1])

    @classmethod
    def of(cls, lo: np.ndarray, hi: np.ndarray, rank: int) -> Affine:
        n = len(lo)
        out = cls(np.zeros((n, rank)), np.zeros((n, rank)), np.zeros(n, bool), np.zeros(n, bool))
        out.fix(np.arange(n), lo, hi)
        return out

    def fix(self, entries: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray) -> None:
        """Bounds that are the same at every price (on the first coordinate, which is 1)."""
        for coef, flag, bound in ((self.lo, self.lo_inf, lo), (self.hi, self.hi_inf, hi)):
            infinite = np.isinf(bound)
            coef[entries] = 0.0
            coef[entries, 0] = np.where(infinite, 0.0, bound)
            flag[entries] = infinite

    def vary(self, entries: np.ndarray, coef: np.ndarray, upper: bool) -> None:
        """One side of ``entries`` given by its coefficients."""
        if upper:
            self.hi[entries], self.hi_inf[entries] = coef, False
        else:
            self.lo[entries], self.lo_inf[entries] = coef, False

    def copy(self) -> Affine:
        return Affine(self.lo.copy(), self.hi.copy(), self.lo_inf.copy(), self.hi_inf.copy())

    def at(self, c: np.ndarray, n_cols: int) -> Bounds:
        """The bounds at one price (its coordinates ``c``)."""
        lo = np.where(self.lo_inf, -INF, self.lo @ c)
        hi = np.where(self.hi_inf, INF, self.hi @ c)
        return Bounds(lo[:n_cols], hi[:n_cols], lo[n_cols:], hi[n_cols:])

    def widen(self) -> None:
        """One more coordinate, on which no bound depends yet."""
        self.lo, self.hi = (np.pad(a, ((0, 0), (0, 1))) for a in (self.lo, self.hi))


@dataclass
class ReplayState:
    """What a replay carries from stage to stage: the live prices' coordinates, the bounds,
    and the revenue's coefficients (the tolerances depend on it)."""

    c: np.ndarray
    bounds: Affine
    revenue: np.ndarray

    @property
    def rank(self) -> int:
        return int(self.c.shape[1])

    def add(self, column: np.ndarray) -> np.ndarray:
        """Append a coordinate (a quantity not spanned by the others); returns its
        coefficients."""
        self.c = np.column_stack([self.c, column])
        self.bounds.widen()
        self.revenue = self.pad(self.revenue)
        return unit(1.0, self.rank, at=self.rank - 1)

    def pad(self, coef: np.ndarray) -> np.ndarray:
        """Coefficients from before a coordinate was added, on every coordinate."""
        return np.pad(coef, [(0, 0)] * (coef.ndim - 1) + [(0, self.rank - coef.shape[-1])])


def per_price(c: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Quantities at each price (a row of ``c``) from their coefficients (a row of ``coef``
    each). By einsum, not BLAS: these products are thin, and a threaded BLAS on cores that
    other processes (a sweep's own workers) keep busy takes ten to a hundred times longer."""
    return np.einsum("nr,mr->nm", c, coef)


def unit(value: float | np.ndarray, rank: int, at: int = 0) -> np.ndarray:
    """Coefficients of a constant (on the first coordinate, which is 1), or of coordinate
    ``at``: shape (rank,), or (len(value), rank) for an array of constants."""
    value = np.asarray(value, dtype=float)
    out = np.zeros((*value.shape, rank))
    out[..., at] = value
    return out
