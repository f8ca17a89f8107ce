"""Would a coalition rather leave? The core, the least core and the nucleolus of a TU game.

A game has players ``0 .. n-1``, a worth ``v(S)`` for every proper coalition (what ``S`` can get
on its own: here, the blocs' outside option as one new state) and ``v(N)``, the money to share.
The *excess* of ``S`` at an allocation ``x`` is its surplus ``e(S, x) = x(S) - v(S)``: negative
when ``S`` would rather leave (the negative of D. Schmeidler's 1969 excess ``v(S) - x(S)``).

- ``x`` is in the *core* when ``x(N) = v(N)`` and every excess is ``>= 0`` (D. B. Gillies,
  *Contributions to the Theory of Games IV*, 1959);
- the *least core* is the largest ``eps`` with ``e(S, x) >= eps`` for every proper ``S`` and some
  efficient ``x``; ``eps < 0`` exactly when the core is empty (M. Maschler, B. Peleg and L. S.
  Shapley, *Math. Oper. Res.* 4(4), 1979, 303-338);
- the *nucleolus* maximises the sorted vector of excesses lexicographically (D. Schmeidler, *SIAM
  J. Appl. Math.* 17(6), 1969, 1163-1170). It is computed by sequential LPs (E. Kohlberg, *SIAM
  J. Appl. Math.* 20, 1971; Maschler, Peleg and Shapley 1979): each stage maximises the least
  excess ``t`` of the coalitions not yet fixed, then fixes those tight in *every* optimum (a
  positive dual proves it; else a check LP per candidate), and drops coalitions whose excess the
  fixed ones determine (their vectors are in the span). Fixing coalitions merely tight at the
  solver's point is the classic error (M. Guajardo and K. Jornsten, *Eur. J. Oper. Res.* 241(3),
  2015, 931-935). The rank of the fixed coalitions grows every stage: at most ``n - 1`` stages.
  The nucleolus ranges over imputations (``x_i >= v({i})``); over every efficient ``x`` it is
  the *prenucleolus* (A. I. Sobolev, 1975), defined even when the singles' worths exceed
  ``v(N)``. The two coincide when the core is not empty.

Coalitions are handled by constraint generation: each LP holds a working set of coalitions, and a
separation step finds the coalition of least excess. Up to :data:`EXACT_PLAYERS` players that step
is exact enumeration of all ``2**n - 2`` coalitions; beyond, the game must bring its own
``separation`` oracle. Every result is checked again in plain Python (all excesses, or the oracle)
and a failed check is a NotOptimalError. LPs run in units of the game's largest worth, solved by
:func:`revshare.solve.solver.run` (HiGHS unless the config says otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pulp

from ..errors import InputError, NotOptimalError, Problem
from ..solve.solver import DUAL_EPSILON, SolverConfig, Status, run

Coalition = frozenset[int]
Values = Mapping[Coalition, float] | Callable[[Coalition], float]
Separation = Callable[[Sequence[float], Set[Coalition]], Coalition | None]
"""``separation(x, exclude)``: a proper non-empty coalition of least excess ``x(S) - v(S)`` among
those not in ``exclude``, or ``None`` when every coalition is excluded."""

EXACT_PLAYERS = 16
"""Enumeration holds every proper coalition: 65,534 rows of 16 at 16 players."""
TOLERANCE = 1e-7
"""Checks accept this error in units of the largest worth (HiGHS meets rows to 1e-9), or 50
times the solver's precision if larger (CBC's values carry 8 digits: 1e-6)."""
_MAX_ROUNDS = 100_000


def _bad(where: str, code: str, message: str, remedy: str) -> InputError:
    return InputError(Problem(where, None, None, code, message, remedy))


@dataclass(frozen=True)
class Game:
    """A transferable-utility game.

    Parameters
    ----------
    n : the number of players, at least 2.
    value : ``v(S)`` for every proper non-empty coalition, as a mapping from frozensets of player
        indices (every coalition must be present; a missing one is not taken as 0) or a callable.
    grand : ``v(N)``, the money shared.
    separation : the oracle that replaces enumeration above :data:`EXACT_PLAYERS` players.
    """

    n: int
    value: Values
    grand: float
    separation: Separation | None = None

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 2:
            raise _bad("n", "E-RANGE", f"must be a whole number >= 2, got {self.n!r}", "fix it")
        if isinstance(self.grand, bool) or not isinstance(self.grand, Real):
            raise _bad("grand", "E-NOT-A-NUMBER", f"must be a number, got {self.grand!r}", "fix it")
        if not math.isfinite(self.grand):
            raise _bad("grand", "E-NON-FINITE", f"must be finite, got {self.grand!r}", "fix it")
        if self.n > EXACT_PLAYERS and self.separation is None:
            raise _bad(
                "separation",
                "E-USAGE",
                f"{self.n} players exceed the {EXACT_PLAYERS} whose coalitions are enumerated",
                "give a separation oracle that returns the coalition of least excess",
            )

    def v(self, coalition: Coalition) -> float:
        """The worth of ``coalition``; an InputError if the mapping lacks it or it is not finite."""
        if isinstance(self.value, Mapping):
            if coalition not in self.value:
                raise _bad(
                    "value",
                    "E-MISSING-VALUE",
                    f"no worth for coalition {sorted(coalition)}",
                    "give every proper non-empty coalition a worth",
                )
            worth = self.value[coalition]
        else:
            worth = self.value(coalition)
        if isinstance(worth, bool) or not isinstance(worth, Real):
            raise _bad(
                "value", "E-NOT-A-NUMBER", f"v({sorted(coalition)}) = {worth!r}", "give a number"
            )
        if not math.isfinite(worth):
            raise _bad("value", "E-NON-FINITE", f"v({sorted(coalition)}) = {worth!r}", "fix it")
        return float(worth)


@dataclass(frozen=True)
class CoreCheck:
    """Whether ``x`` is in the core; the most dissatisfied coalition and its excess (negative:
    it would rather leave); ``efficiency_gap`` is ``x(N) - v(N)``."""

    in_core: bool
    coalition: Coalition
    excess: float
    efficiency_gap: float


@dataclass(frozen=True)
class LeastCore:
    """``epsilon``: the largest least excess over efficient allocations (``< 0``: empty core);
    ``allocation`` one allocation attaining it; ``binding`` the coalitions with a positive dual."""

    epsilon: float
    allocation: tuple[float, ...]
    binding: tuple[Coalition, ...]
    solves: int
    method: str

    @property
    def core_empty(self) -> bool:
        return self.epsilon < 0


@dataclass(frozen=True)
class Nucleolus:
    """The nucleolus; ``levels[k]`` is stage ``k``'s least excess among the coalitions still
    free, ``fixed[k]`` the coalitions fixed at it. ``levels[0]`` is the least core's epsilon
    (over imputations for the nucleolus: the same unless a player's own worth binds). A
    coalition whose excess the fixed ones determine is dropped, not listed, so the levels are
    not the whole sorted excess vector: :func:`excesses` gives that."""

    allocation: tuple[float, ...]
    levels: tuple[float, ...]
    fixed: tuple[tuple[Coalition, ...], ...]
    solves: int
    method: str


def _mask(coalition: Coalition) -> int:
    return sum(1 << i for i in coalition)


class _Context:
    """The game in units of its largest worth, and its separation step."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.n = game.n
        self.exact = game.separation is None
        # coalitions as 0/1 rows (bit i of the mask is player i): all of them when exact, else
        # the singletons, which bound the first LP and set the scale
        masks = np.arange(1, (1 << self.n) - 1) if self.exact else 1 << np.arange(self.n)
        self.rows = ((masks[:, None] >> np.arange(self.n)) & 1).astype(float)
        self.coalitions = [_members(int(m)) for m in masks]
        raw = np.array([game.v(s) for s in self.coalitions])
        self.scale = max(abs(game.grand), float(np.max(np.abs(raw)))) or 1.0
        self.worth = raw / self.scale
        self.grand = game.grand / self.scale
        # one reading of each worth, so that every LP and separation step sees the same game
        self._cache = dict(zip(self.coalitions, self.worth.tolist(), strict=True))
        self._outside: tuple[int, np.ndarray] = (0, np.ones(0, dtype=bool))  # per span rank

    def v(self, s: Coalition) -> float:
        if s not in self._cache:
            self._cache[s] = self.game.v(s) / self.scale
        return self._cache[s]

    def excess(self, x: Sequence[float] | np.ndarray, s: Coalition) -> float:
        return sum(x[i] for i in s) - self.v(s)

    def least(self, x: np.ndarray, span: _Span) -> tuple[Coalition, float] | None:
        """The coalition of least excess at ``x`` among those outside ``span``."""
        if self.exact:
            e = self.rows @ x - self.worth
            if self._outside[0] != span.rank:
                self._outside = (span.rank, ~span.holds_rows(self.rows))
            keep = self._outside[1]
            if not keep.any():
                return None
            k = int(np.flatnonzero(keep)[np.argmin(e[keep])])
            return self.coalitions[k], float(e[k])
        assert self.game.separation is not None
        exclude: set[Coalition] = set()
        for _ in range(_MAX_ROUNDS):
            s = self.game.separation([xi * self.scale for xi in x], exclude)
            if s is None:
                return None
            s = frozenset(int(i) for i in s)
            if not s or len(s) >= self.n or not s <= frozenset(range(self.n)):
                raise _bad(
                    "separation", "E-RANGE", f"returned {sorted(s)}", "return a proper coalition"
                )
            if not span.holds_rows(_vector(self.n, s)[None, :])[0]:
                return s, self.excess(x, s)
            exclude.add(s)
        raise NotOptimalError("the separation oracle kept returning excluded coalitions")


def _members(mask: int) -> Coalition:
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def _vector(n: int, s: Coalition) -> np.ndarray:
    a = np.zeros(n)
    a[sorted(s)] = 1.0
    return a


class _Span:
    """The span of the fixed coalitions' vectors and of ``N``: excesses it holds are determined."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.basis = np.ones((n, 1)) / math.sqrt(n)

    def holds_rows(self, rows: np.ndarray) -> np.ndarray:
        """Which rows (coalition vectors) lie in the span."""
        residual = rows - (rows @ self.basis) @ self.basis.T
        return np.asarray(np.linalg.norm(residual, axis=1) < 1e-9)

    def add(self, s: Coalition) -> None:
        a = _vector(self.n, s)
        r = a - self.basis @ (self.basis.T @ a)
        if np.linalg.norm(r) >= 1e-9:
            self.basis = np.hstack([self.basis, (r / np.linalg.norm(r))[:, None]])

    @property
    def rank(self) -> int:
        return int(self.basis.shape[1])

    @property
    def full(self) -> bool:
        return self.rank >= self.n


class _Stages:
    """The sequential LPs of Maschler, Peleg and Shapley (1979), with constraint generation."""

    def __init__(self, game: Game, config: SolverConfig, imputations: bool = False) -> None:
        self.ctx = _Context(game)
        self.imputations = imputations
        self.config = config
        self.n = game.n
        self.span = _Span(self.n)
        self.fixed: dict[Coalition, float] = {}
        self.work: set[Coalition] = {frozenset([i]) for i in range(self.n)}
        self.solves = 0
        # how far the solver's rows and values may miss, in units of the largest worth: a
        # coalition enters the working set, or a fixed level is relaxed, by this much
        self.tol = max(1e-9, 5 * config.precision)
        self.check = max(TOLERANCE, 50 * config.precision)

    def _lp(
        self, objective: Coalition | None, t_floor: float | None = None
    ) -> tuple[pulp.LpProblem, list[pulp.LpVariable], pulp.LpVariable]:
        """Maximise ``t`` (or ``x(objective)``) over efficient ``x`` meeting the fixed levels
        and ``e(S, x) >= t`` for the working set."""
        prob = pulp.LpProblem("least_excess", pulp.LpMaximize)
        xs = [prob.add_variable(f"x_{i}") for i in range(self.n)]
        t = prob.add_variable("t", lowBound=t_floor)
        prob += t if objective is None else pulp.lpSum(xs[i] for i in objective)
        prob.addConstraint(pulp.lpSum(xs) == self.ctx.grand, "efficiency")
        for i in range(self.n) if self.imputations else ():
            prob.addConstraint(xs[i] >= self.ctx.v(frozenset([i])), f"imputation_{i}")
        for s, level in self.fixed.items():
            # a fixed level is an optimum already reached: relax it by the solver's tolerance
            expr = pulp.lpSum(xs[i] for i in s)
            prob.addConstraint(expr >= self.ctx.v(s) + level - self.tol, f"fixed_{_mask(s)}")
        for s in self.work:
            expr = pulp.lpSum(xs[i] for i in s) - t
            prob.addConstraint(expr >= self.ctx.v(s), f"free_{_mask(s)}")
        status = run(prob, self.config)
        self.solves += 1
        if status is not Status.OPTIMAL:
            raise NotOptimalError(f"a least-excess LP ended {status.value} ({self.config.name})")
        return prob, xs, t

    def stage(self) -> tuple[float, np.ndarray, list[Coalition]]:
        """The least excess ``t`` of the free coalitions, an optimum ``x``, and the working
        coalitions tight in every optimum."""
        for _ in range(_MAX_ROUNDS):
            prob, xs, t = self._lp(None)
            level = float(t.value())
            x = np.array([float(v.value()) for v in xs])
            found = self.ctx.least(x, self.span)
            if found is None or found[1] >= level - self.tol:
                break
            if found[0] in self.work:
                raise NotOptimalError(
                    f"coalition {sorted(found[0])} violates the LP that holds it: numerical trouble"
                )
            self.work.add(found[0])
        else:
            raise NotOptimalError("constraint generation did not converge")
        tight = [
            s
            for s in self.work
            if abs(prob.get_constraint_by_name(f"free_{_mask(s)}").pi or 0.0) > DUAL_EPSILON
        ]
        return level, x, tight or self._probe(level, x)

    def _probe(self, level: float, x: np.ndarray) -> list[Coalition]:
        """Rounding hid every dual: a coalition is tight in every optimum when even maximising
        its own excess at ``t >= level`` cannot raise it."""
        tight = []
        for s in self.work:
            if self.ctx.excess(x, s) <= level + self.tol:
                _, xs, _ = self._lp(s, t_floor=level - self.tol)
                best = sum(float(xs[i].value()) for i in s) - self.ctx.v(s)
                if best <= level + 10 * self.tol:
                    tight.append(s)
        if not tight:
            raise NotOptimalError("no coalition is tight in every optimum: numerical trouble")
        return tight

    def fix(self, level: float, tight: list[Coalition]) -> None:
        for s in tight:
            self.fixed[s] = level
            self.span.add(s)
        self.work = {s for s in self.work if not self.span.holds_rows(_vector(self.n, s)[None])[0]}

    def solve_fixed(self) -> np.ndarray:
        """The one point where every fixed coalition sits at its level (their rank is ``n``):
        solved directly rather than read from the last LP, whose rows hold only to 1e-9."""
        rows = [_vector(self.n, s) for s in self.fixed] + [np.ones(self.n)]
        rhs = [self.ctx.v(s) + lv for s, lv in self.fixed.items()] + [self.ctx.grand]
        return np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]

    @property
    def method(self) -> str:
        return "enumeration" if self.ctx.exact else "separation oracle"


def least_core(game: Game, config: SolverConfig | None = None) -> LeastCore:
    """The least core's epsilon (in the game's units) and one allocation attaining it.

    The core is non-empty exactly when ``epsilon >= 0`` (up to :data:`TOLERANCE` times the
    largest worth). The allocation is one of possibly many; :func:`nucleolus` is the canonical
    one. Checked independently: efficient, and no coalition's excess below epsilon.
    """
    stages = _Stages(game, config or SolverConfig())
    level, x, tight = stages.stage()
    scale = stages.ctx.scale
    result = LeastCore(
        epsilon=level * scale + 0.0,
        allocation=tuple(float(v) * scale + 0.0 for v in x),  # + 0.0: no -0.0
        binding=tuple(sorted(tight, key=_mask)),
        solves=stages.solves,
        method=stages.method,
    )
    _check(game, result.allocation, result.epsilon, {}, scale, stages.check)
    return result


def nucleolus(
    game: Game, config: SolverConfig | None = None, imputations: bool = True
) -> Nucleolus:
    """The nucleolus (over imputations), or with ``imputations=False`` the prenucleolus, by at
    most ``n - 1`` stages (see the module). Checked independently: efficient, individually
    rational (the nucleolus), every fixed coalition at its level, no excess below the first.

    An InputError (``E-RANGE``) if the nucleolus is asked of a game without imputations.
    """
    stages = _Stages(game, config or SolverConfig(), imputations)
    singles = sum(stages.ctx.v(frozenset([i])) for i in range(game.n))
    if imputations and singles > stages.ctx.grand + stages.check:
        raise _bad(
            "imputations",
            "E-RANGE",
            f"the players' own worths sum to {singles * stages.ctx.scale:.6g}, above v(N) = "
            f"{game.grand:.6g}: no allocation gives each player its own worth",
            "ask for the prenucleolus (imputations=False), defined on every game",
        )
    levels: list[float] = []
    fixed: list[tuple[Coalition, ...]] = []
    while not stages.span.full:
        level, _, tight = stages.stage()
        stages.fix(level, tight)
        levels.append(level)
        fixed.append(tuple(sorted(tight, key=_mask)))
    scale = stages.ctx.scale
    result = Nucleolus(
        allocation=tuple(float(v) * scale + 0.0 for v in stages.solve_fixed()),
        levels=tuple(v * scale for v in levels),
        fixed=tuple(fixed),
        solves=stages.solves,
        method=stages.method,
    )
    levels_of = {s: lv * scale for lv, group in zip(levels, fixed, strict=True) for s in group}
    _check(game, result.allocation, result.levels[0], levels_of, scale, stages.check)
    if imputations:
        low = [
            i
            for i in range(game.n)
            if result.allocation[i] < game.v(frozenset([i])) - scale * stages.check
        ]
        if low:
            raise NotOptimalError(f"the nucleolus pays players {low} below their own worth")
    return result


def _check(
    game: Game,
    x: Sequence[float],
    epsilon: float,
    levels: dict[Coalition, float],
    scale: float,
    tolerance: float,
) -> None:
    """Plain-Python check of a solver's answer: the game's own worths, in its own units."""
    tol = tolerance * scale
    where = core_check(game, x, tolerance=tolerance)
    problems = []
    if abs(where.efficiency_gap) > tol:
        problems.append(f"x(N) - v(N) = {where.efficiency_gap:.3g}")
    if where.excess < epsilon - tol:
        problems.append(
            f"coalition {sorted(where.coalition)} has excess {where.excess:.6g} < {epsilon:.6g}"
        )
    if game.separation is None and where.excess > epsilon + tol:
        problems.append(f"the least excess {where.excess:.6g} is above epsilon {epsilon:.6g}")
    for s, level in levels.items():
        e = sum(x[i] for i in s) - game.v(s)
        if abs(e - level) > tol:
            problems.append(f"fixed coalition {sorted(s)} has excess {e:.6g}, not {level:.6g}")
    if problems:
        raise NotOptimalError("the LP's answer failed its check: " + "; ".join(problems))


def excesses(game: Game, x: Sequence[float]) -> dict[Coalition, float]:
    """``x(S) - v(S)`` for every proper non-empty coalition, in plain Python (at most
    :data:`EXACT_PLAYERS` players)."""
    return {s: e for s, e, _ in _each(game, x)}


def _each(game: Game, x: Sequence[float]) -> list[tuple[Coalition, float, float]]:
    """Every proper coalition with its excess and worth."""
    if game.n > EXACT_PLAYERS:
        raise _bad("n", "E-RANGE", f"{game.n} players: too many to enumerate", "use core_check")
    _allocation(game, x)
    out = []
    for mask in range(1, (1 << game.n) - 1):
        s = _members(mask)
        worth = game.v(s)
        out.append((s, sum(x[i] for i in s) - worth, worth))
    return out


def _allocation(game: Game, x: Sequence[float]) -> None:
    if len(x) != game.n or not all(math.isfinite(v) for v in x):
        raise _bad("x", "E-USAGE", f"must be {game.n} finite numbers, got {list(x)!r}", "fix it")


def core_check(game: Game, x: Sequence[float], tolerance: float = TOLERANCE) -> CoreCheck:
    """Whether ``x`` is in the core, and its most dissatisfied coalition (exact enumeration, or
    the game's separation oracle). ``tolerance`` is relative to the largest worth seen."""
    _allocation(game, x)
    if game.separation is None:
        every = _each(game, x)
        worst, excess, _ = min(every, key=lambda row: (row[1], _mask(row[0])))
        scale = max(abs(game.grand), *(abs(w) for _, _, w in every))
    else:
        found = game.separation(list(x), set())
        if found is None:
            raise _bad("separation", "E-USAGE", "returned no coalition", "return one")
        worst = frozenset(found)
        excess = sum(x[i] for i in worst) - game.v(worst)
        singles = [abs(game.v(frozenset([i]))) for i in range(game.n)]
        scale = max(abs(game.grand), abs(game.v(worst)), *singles)
    gap = sum(x) - game.grand
    tol = tolerance * (scale or 1.0)
    return CoreCheck(abs(gap) <= tol and excess >= -tol, worst, excess, gap)
