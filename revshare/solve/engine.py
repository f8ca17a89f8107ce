"""The sweep engine: each structure's model is built once and re-solved in place for every price.

:func:`revshare.analyses.optimize` builds a PuLP model per call, which costs more than solving it. A sweep
instead builds the *parametric* model (:func:`revshare.model.lp.build_model` with
``parametric=True``: every price-dependent quantity is a column fixed by its bounds) once, at the
sweep's highest price, hands it to one in-process HiGHS instance, and for each price changes only
those bounds and re-solves from the previous basis (a warm start).

The stages are those of the plan (:mod:`revshare.solve.plan`), on the same rows: the objective, a
row that keeps its optimum (to the plan's tolerance), the proportional step where the objective
leaves ties, then the leximin rounds over per-head levels, each fixing the groups whose level row
has a non-zero dual. The model lives in a :class:`revshare.solve.instance.Instance`, as in
``optimize``; the rows the stages need are built once with the model and switched on and off by
their bounds. The plan's early stop keeps a sweep fast without changing any answer: when a
stage's allocation is the same in every optimum
(:func:`revshare.solve.instance.allocation_fixed`), the later stages are skipped. Where the
engine does not replay bases (models past ``REPLAY_MAX_COLUMNS``: districts, periods), it also
runs the plan's pinned-group proof as ``optimize`` does
(:func:`revshare.solve.highs_executor.pinned_columns`): groups a stage's duals pin keep their
money and skip the leximin rounds, so 774 regions take about three LPs a price, not one round per
distinct level (about a hundred). A replaying engine does not: the proof reads one price's values
as well as its duals, and its ranges (bound propagation, minima and maxima of bounds) are not
affine in a price's coordinates, so a replayed basis cannot carry its decision to another price;
the replay would have to run the proof (bound propagation over the whole matrix) price by price,
which is the per-price work replaying avoids.

One price is solved by HiGHS in :mod:`revshare.solve.pricing` (the stages, then the rounds, by
the loop every executor runs: :func:`revshare.solve.stages.carry_out`), and replayed at the
others in :mod:`revshare.solve.replay`.

Most prices are never given to HiGHS (:meth:`Engine.solve`): the bases one price's stages end
on are *replayed* at every other price at once. Along a trace of bases every bound is affine in
a price's few coordinates (the data is a constant plus the price times fixed quantities; each
stage's optimum and tolerance are affine in the data), so a step solves its basis matrix once
for coefficients and only the feasibility test is worked out price by price, mostly cleared for
all prices at once by a box test. A price that leaves a trace at some step starts HiGHS at that
step, with the bounds the earlier steps give it; every step HiGHS runs starts from the last
optimal basis of the same step (same stage, same groups fixed) at another price, which is still
dual feasible there, so takes a few pivots.

Every stage's status is read from HiGHS through :data:`revshare.solve.solver.HIGHS_STATUS`; a stage that
is not proven optimal is retried once from a cold start with the plan's retry options
(:func:`revshare.solve.plan.retry_config`), and a scenario that still fails is reported as such, never
as money. The caller verifies every allocation independently
(:func:`revshare.solve.verify.verify_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from ..data.dataset import Money, Territory
from ..data.structures import Structure
from ..model.lp import build_model
from ..model.objectives import (
    OBJECTIVES,
    level_offsets,
)
from .instance import Instance
from .plan import allocation_money, money_stages, retry_config, tolerance
from .pricing import Pricing
from .replay import Affine, Bounds, Coordinates, Replaying, Resume, Row, Step
from .rounds import without_pinning
from .solver import HIGHS_DEFAULTS, SolverConfig, Status

INF = highspy.kHighsInf
REPLAY_MAX_COLUMNS = 400  # beyond, a dense basis solve costs more than HiGHS's warm start


@dataclass(frozen=True)
class Solved:
    """The engine's answers for n prices: ``cells_usd`` (n, cells) and ``centre_usd`` (n,) are
    NaN where ``status`` is not optimal."""

    status: list[Status]
    cells_usd: np.ndarray
    centre_usd: np.ndarray
    stages: np.ndarray  # LP solves per scenario


class Engine(Pricing, Replaying):
    """One structure's parametric model in a HiGHS instance, re-solved in place per price."""

    def __init__(
        self,
        territory: Territory,
        structure: Structure,
        support_price: float,
        config: SolverConfig | None = None,
    ) -> None:
        self.config = config or SolverConfig()
        if self.config.name != "highs":
            raise ValueError("the sweep engine re-solves in place with HiGHS only")
        if structure.objective == "nash":
            raise ValueError("nash is solved by tangent cuts per scenario; sweep it with optimize")
        self.territory = territory
        self.structure = structure
        m = build_model(territory, structure, support_price, parametric=True)
        self.model = m
        objective = OBJECTIVES[structure.objective](m)
        money = money_stages(m, objective.expression, objective.sense)
        level = m.prob.add_variable("tiebreak_level")
        self.offsets = level_offsets(m)
        for k, z in enumerate(m.z):
            m.prob.addConstraint(level - z <= 0, f"engine_level_{k}")
            m.prob.addConstraint(z >= 0, f"engine_fix_{k}")
        options = {**HIGHS_DEFAULTS, "presolve": "off", **self.config.options}
        self.inst = Instance(m.prob, options)  # presolve off: tiny models re-solved from a basis
        self.h, self.col, self.row = self.inst.h, self.inst.col, self.inst.row
        self.n_cols = self.inst.n_cols
        col = self.col
        used = {key: v for key, v in m.data.items() if v.name in col}  # quantities rules read
        self.data_cols = np.array([col[v.name] for v in used.values()], dtype=np.int32)
        self.data_keys = list(used)
        self.z_cols = np.array([col[z.name] for z in m.z], dtype=np.int32)
        self.g_col = col[m.g.name]
        self.watched = np.append(self.z_cols, self.g_col)  # the allocation
        self.level_col = col[level.name]
        self.level_rows = np.array(
            [self.row[f"engine_level_{k}"] for k in range(len(m.z))], dtype=np.int32
        )
        self.fix_rows = np.array(
            [self.row[f"engine_fix_{k}"] for k in range(len(m.z))], dtype=np.int32
        )
        self.stages: list[tuple[Row, int, str]] = [
            (self._expr(st.expression), st.sense, st.name) for st in money
        ]
        self.keep_rows = [
            int(self.inst.add_rows(np.full(1, -INF), np.full(1, INF), [e.index], [e.value])[0])
            for e, _, _ in self.stages
        ]
        self.switched = np.concatenate(
            [self.level_rows, self.fix_rows, np.array(self.keep_rows, dtype=np.int32)]
        ).astype(np.int32)
        self.precision = self.config.precision
        # the last optimal basis of each step (stage, groups fixed), to start the same step at
        # another price from: a stage index and b"", or -1 and the fixed groups' mask
        self.known: dict[tuple[int, bytes], highspy.HighsBasis] = {}
        self.revenue_col = self.data_keys.index(("revenue", ""))
        # The matrix never changes: a dense copy replays a basis at many prices at once, where
        # the model is small enough for that to pay.
        # The plan's tolerance is affine in the revenue and the size of the optimum it keeps:
        # a replay carries it as coefficients, read here from the rule itself.
        self.tol_affine = tuple(
            float(self._tol(v, s)) - (float(self._tol(0.0, 0.0)) if v or s else 0.0)
            for v, s in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))
        )
        base, per_revenue, per_size = self.tol_affine
        affine = abs(float(self._tol(3.0, 5.0)) - (base + 3 * per_revenue + 5 * per_size))
        self.replays = self.n_cols <= REPLAY_MAX_COLUMNS and affine <= 1e-12
        # The plan's pinned-group proof (revshare.solve.plan.stage_ranges) decides from one
        # price's values as well as its duals, so a replayed basis could not carry its decisions
        # to other prices: it runs where the engine does not replay, on models large enough
        # for the leximin rounds (about one per distinct level) to cost more than replays save.
        self.proves = not self.replays
        self.money = allocation_money(m)
        self.A = self.inst.matrix().toarray() if self.replays else np.empty((0, 0))
        self.entries = np.vstack([np.eye(self.n_cols), self.A]) if self.replays else self.A
        lp = self.h.getLp()
        self.base = Bounds(
            *(np.array(a) for a in (lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_))
        )
        self.base.col_lower[self.level_col] = self.base.col_upper[self.level_col] = 0.0
        self.base.row_lower[self.switched] = -INF
        self.base.row_upper[self.switched] = INF

    # -- building -------------------------------------------------------------------------------

    def _expr(self, expr: pulp.LpAffineExpression) -> Row:
        terms = list(expr.items())
        index = np.array([self.col[v.name] for v, _ in terms], dtype=np.int32)
        value = np.array([coef for _, coef in terms], dtype=float)
        return Row(index, value, float(expr.constant))

    # -- solving --------------------------------------------------------------------------------

    def quantities(self, money: Money) -> np.ndarray:
        """The data columns' values (model units) at each price of ``money``: (n, data)."""
        t = self.territory
        regions = {str(r): i for i, r in enumerate(t.regions.index)}
        blocs = {b: i for i, b in enumerate(t.blocs)}
        source = {"region": (money.region, regions), "bloc": (money.bloc, blocs)}
        source["outside"] = (money.outside, blocs)
        out = np.empty((len(money.prices), len(self.data_keys)))
        for j, (kind, name) in enumerate(self.data_keys):
            if kind == "revenue":
                out[:, j] = money.revenue
            else:
                table, pos = source[kind]
                out[:, j] = table[:, pos[name]]
        return out / self.model.scale

    def solve(self, money: Money) -> Solved:
        """Solve at every price of ``money``; the answers depend only on the prices and their
        order (the instance starts cold), so a sweep split into fixed chunks gives the same
        numbers on any number of workers.

        The first unsolved price is solved by HiGHS, stage by stage (from the step where it
        left an earlier trace, if it did). Its bases are then replayed at every other unsolved
        price at once: where each stage's basis is still primal feasible it is still optimal
        (its reduced costs do not depend on the prices), so the stage's optimum, its duals and
        the decisions read from them are the same as HiGHS would reach from that basis without
        a pivot. The rest go round again. The bases kept for warm starts are this call's own,
        so the answers do not depend on earlier calls.
        """
        self.h.clearSolver()
        self.known = {}  # this call's own: see above
        q = self.quantities(money)
        n = len(q)
        x = np.full((n, self.n_cols), np.nan)
        statuses = [Status.ERROR] * n
        solves = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        at = Coordinates.of(q) if self.replays else None
        # where each unsolved price left a replayed trace, the deepest step: (event, step)
        left = np.full(n, -1)
        depth = np.full(n, -1)
        slot = np.full(n, -1)  # the price's row among the event's coordinates
        events: list[tuple[list[Step], Affine, np.ndarray]] = []
        while len(todo):
            i, rest = todo[0], todo[1:]
            start = None
            if left[i] >= 0:
                trace, bounds, c = events[left[i]]
                start = Resume(trace, int(depth[i]), bounds.at(c[slot[i]], self.n_cols))
            status, x_i, solves[i], trace = self._solve_one(q[i], start)
            if status is not Status.OPTIMAL and start is not None:
                status, x_i, more, trace = self._solve_one(q[i])
                solves[i] += more
            if status is not Status.OPTIMAL:
                status, x_i, more, trace = self._retry(q[i])
                solves[i] += more
            statuses[i] = status
            if status is Status.OPTIMAL:
                x[i] = x_i
            if trace is not None and len(rest) and at is not None:
                ok, x_rest, drops = self._replay(trace, at[rest])
                x[rest[ok]] = x_rest[ok]
                for j in rest[ok]:
                    statuses[j] = Status.OPTIMAL
                for rows, step, bounds, c in drops:
                    better = np.flatnonzero(step > depth[rest[rows]])
                    deeper = rest[rows[better]]
                    left[deeper], depth[deeper], slot[deeper] = len(events), step, better
                    events.append((trace, bounds, c))
                rest = rest[~ok]
            todo = rest
        optimal = np.array([s is Status.OPTIMAL for s in statuses])
        x[~optimal] = np.nan
        scale = self.model.scale
        return Solved(
            statuses,
            self._cells(x[:, self.z_cols]) * scale,
            x[:, self.g_col] * scale,
            solves,
        )

    def _cells(self, z: np.ndarray) -> np.ndarray:
        """Money per cell (model units) from the groups' levels, as ``optimize`` does."""
        t, m = self.territory, self.model
        cells = t.cells
        share = cells["population"].to_numpy(dtype=float) / t.population
        if self.structure.within_region == "equal":
            pos = {r: k for k, r in enumerate(m.groups["region"])}
            group_of_cell = cells["region"].map(pos).to_numpy()
        else:
            group_of_cell = np.arange(len(cells))
        return z[:, group_of_cell] * share

    def _retry(self, q: np.ndarray) -> tuple[Status, np.ndarray, int, list[Step] | None]:
        """Solve once more from a cleared solver with presolve on: dual simplex without
        presolve can declare a tightly fixed leximin round infeasible when it is not (seen on
        data/iraq at one price in 10,000). Only the objective stage can prove a structure
        infeasible. Each step still starts from the same step's basis at another price where
        there is one: without it, iraq-2005 at 124.89 USD fails even the retry."""
        retry = retry_config(self.config)
        self.h.clearSolver()
        self.h.setOptionValue("presolve", retry.options["presolve"])
        try:
            with without_pinning():  # the plan's retry: every group through the rounds
                return self._solve_one(q)
        finally:
            self.h.setOptionValue("presolve", self.inst.presolve)
            self.h.clearSolver()

    def _tol(self, v: float | np.ndarray, value: float | np.ndarray) -> float | np.ndarray:
        """The plan's stage tolerance (:func:`revshare.solve.plan.tolerance`)."""
        return tolerance(self.precision, v, value)
