"""The plan's money stages (:mod:`revshare.solve.plan`), written once, then its leximin rounds.

:func:`carry_out` is the loop every executor runs: optimise each money stage, read its value,
end the plan where the stage's allocation is proven the same in every optimum, prove which
groups the stage's duals pin (and stop when every group and the centre are pinned), keep the
optimum to the plan's tolerance, then hold the pinned groups and run the leximin rounds
(:func:`revshare.solve.rounds.leximin`) over the others. An executor supplies the LP through
:class:`StageLP`: the in-place HiGHS :class:`revshare.solve.instance.Instance`
(:mod:`revshare.solve.highs_executor`), PuLP with CBC (:mod:`revshare.solve.pulp_executor`), and
one price of the sweep engine (:mod:`revshare.solve.pricing`), which records each step's basis
to replay at other prices and may resume a price part-way through the plan.

:func:`solve` is the whole plan for one model: the nash prelude (its tangent cuts, then each
bloc's money kept), the money stages, the rounds, and the :class:`Solution`. Where a round ran
along a direction flat to the solvers (:func:`flat`), the keep row's tolerance set the answer,
so the plan runs once more with keep rows wide enough for that direction (:func:`keep_room`),
or, where the executor cannot open the model again (CBC), stops with E-NUMERICS.

The objective's value and what binds it. They are read where the structure's objective is
optimised: the stage named ``objective``, or, for an objective with no expression of its own
(``leximin``), the first leximin round, whose level is the lowest per-head level, whatever
stage runs before the rounds. For ``nash`` the value is the cutting-plane optimum, and nothing
binds a linear objective (``binding`` is empty).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..errors import InputError, Problem
from ..model.lp import Model
from ..model.objectives import OBJECTIVES
from .plan import (
    Solution,
    Stage,
    money_stages,
    require_optimal,
    stage_tolerance,
    tiny_group_slack,
)
from .rounds import Rounds, hold, leximin
from .solver import DUAL_EPSILON, SolverConfig, Status

if TYPE_CHECKING:  # only the nash objective opens its LP
    from .lp import Lp

Binding = list[dict[str, Any]]


class ObjectiveRounds(Rounds, Protocol):
    """:class:`Rounds` that also keep what binds the round named ``objective``."""

    offsets: np.ndarray  # the groups' baselines: a level is z_k + offset_k
    binding: Binding


class StageLP(Protocol):
    """What :func:`carry_out` asks of the LP it works on. Stages are indexed as passed to it;
    groups as ``Model.z``, then the centre, in the masks."""

    def optimise(self, s: int) -> Status:
        """Optimise stage ``s``; an executor raises
        (:func:`revshare.solve.plan.require_optimal`) where it cannot go on."""

    def value(self, s: int) -> float:
        """Stage ``s``'s objective at the optimum just found (its constant included)."""

    def tolerance(self, value: Any) -> Any:
        """The plan's tolerance for an optimum ``value`` (scalars or arrays)."""

    def binding(self) -> Binding:
        """The rules that hold back the optimum just found."""

    def settled(self, s: int) -> bool:
        """True ends the plan: stage ``s``'s allocation is proven the same in every optimum."""

    def pinned(self, sense: int, tol: float) -> np.ndarray:
        """Which groups and the centre the stage's duals pin within ``tol`` of its optimum
        (none where the executor does not prove it)."""

    def keep(self, s: int, value: float, tol: float, room: float | None = None) -> None:
        """Keep stage ``s``'s optimum ``value`` to within ``room`` (``tol`` if None) from now
        on, the directions its duals lock within ``tol``
        (:func:`revshare.solve.plan.face_bounds`)."""

    def levels(self, groups: np.ndarray) -> np.ndarray:
        """The ``groups``' ``z`` at the last stage's optimum."""

    def rounds(self) -> tuple[ObjectiveRounds, np.ndarray]:
        """Start the leximin rounds: their LP, and the groups not fixed yet."""


@dataclass(frozen=True)
class Ran:
    """How the plan ended: ``status``, the objective's ``value`` and ``binding`` where it was
    solved here (see the module), the LP solves, and whether the rounds ran (else the answer is
    the last stage's optimum)."""

    status: Status
    value: float | None
    binding: Binding
    solves: int
    rounds: bool


def carry_out(
    lp: StageLP,
    stages: Sequence[tuple[int, str]],
    objective_in_rounds: bool,
    start: int = 0,
    least: np.ndarray | None = None,
    room: Callable[[float], float] | None = None,
) -> Ran:
    """Run the money ``stages`` (each its sense and name) from ``start``, then the rounds.
    ``objective_in_rounds``: the first round is the objective's own (``leximin``), so the plan
    goes on to the rounds even where the stages pin everyone; ``least`` is each group's least
    fix-row slack (:func:`revshare.solve.plan.tiny_group_slack`); ``room`` each kept stage's
    keep-row tolerance for its value (else the plan's tolerance)."""
    value: float | None = None
    binding: Binding = []
    solves = 0
    pinned: np.ndarray | None = None
    for s in range(start, len(stages)):
        sense, name = stages[s]
        status = lp.optimise(s)
        solves += 1
        if status is not Status.OPTIMAL:
            return Ran(status, value, binding, solves, False)
        got = lp.value(s)
        if name == "objective":
            value, binding = got, lp.binding()
        if lp.settled(s):
            return Ran(Status.OPTIMAL, value, binding, solves, False)
        tol = float(lp.tolerance(got))
        kept = None if room is None else room(got)  # the pins hold over the whole kept room
        stage_pins = lp.pinned(sense, tol if kept is None else kept)
        pinned = stage_pins if pinned is None else pinned | stage_pins
        if pinned.all() and not objective_in_rounds:  # no later stage or round can move
            return Ran(Status.OPTIMAL, value, binding, solves, False)  # anyone's money further
        if kept is None:
            lp.keep(s, got, tol)
        else:
            lp.keep(s, got, tol, kept)
    rounds, free = lp.rounds()
    if pinned is not None:
        groups = np.intersect1d(free, np.flatnonzero(pinned[:-1]))  # at their money there
        hold(rounds, groups, lp.levels(groups), lp.tolerance, least)
        free = np.setdiff1d(free, groups)
    outcome = leximin(rounds, free, rounds.offsets, lp.tolerance, objective_in_rounds, least)
    if objective_in_rounds:
        value, binding = outcome.first_level, rounds.binding
        if not outcome.solves:  # every group held: the lowest level is theirs, and no row binds
            every = np.arange(len(rounds.offsets))
            value, binding = float(np.min(lp.levels(every) + rounds.offsets)), []
    return Ran(outcome.status, value, binding, solves + outcome.solves, True)


FLAT_ROOM = 4.0  # the keep row's room where a direction is flat: in DUAL_EPSILON * (v + |value|)


def flat(steepest: float) -> bool:
    """Whether the leximin rounds moved along a direction flat to the solvers: a kept stage's
    row bound a round with a dual ``steepest`` beyond ``1 / DUAL_EPSILON``, so the stage's
    objective changes by less than the dual tolerance per unit of the round's level.

    Such a round stops where the keep row binds, at ``tolerance / slope``: a point set by each
    solver's tolerance, not by the rules (HiGHS's and CBC's answers differed by up to 0.34 of
    the revenue, both verified; tests/test_solver_agreement.py). On healthy models a kept
    row's dual in the rounds is at most about 60 (the shipped datasets and the test suite)."""
    return steepest * DUAL_EPSILON > 1.0


def keep_room(m: Model, value: float, config: SolverConfig) -> float:
    """The keep row's tolerance once :func:`flat` found a flat direction: the stage's own
    (:func:`stage_tolerance`), and at least ``FLAT_ROOM * DUAL_EPSILON * (v + |value|)``.

    Moving along a flat direction costs the stage's objective at most ``DUAL_EPSILON`` per
    unit, so this room lets the rounds take it as the tie it is, as far as the other rules
    let them (a point the rules set, the same with every solver), while the directions the
    stage's duals lock stay held at the stage's own tolerance (:func:`face_bounds`)."""
    return max(stage_tolerance(m, value, config), FLAT_ROOM * DUAL_EPSILON * (m.v + abs(value)))


def flat_error(m: Model) -> InputError:
    """E-NUMERICS where an executor cannot solve again with :func:`keep_room` (CBC: PuLP's
    model holds the first attempt's rows) after :func:`flat`."""
    s = m.structure
    return InputError(
        [
            Problem(
                s.origin("objective"),
                None,
                f"{s.name}.objective",
                "E-NUMERICS",
                f"structure {s.name!r}: the objective {s.objective!r} depends on some money by "
                f"less than the solvers' dual tolerance ({DUAL_EPSILON:g}) per unit, so where "
                "that money goes would be set by the solver's tolerance, not by the rules",
                "solve with the highs solver, or give the small groups a target further from "
                "the per-capita floor",
            )
        ]
    )


class Executor(StageLP, Protocol):
    """An executor's LP over a whole model: :class:`StageLP`, and the answer it ends on.
    ``reopens``: the model can be opened again for a second attempt (its LP is a copy)."""

    reopens: bool

    def steepest(self) -> float:
        """The largest ``|dual|`` of a kept stage's row at the rounds' optima: :func:`flat`."""

    def allocation(self, rounds: bool) -> tuple[np.ndarray, float, np.ndarray]:
        """The answer's ``z``, ``g`` and ``extra`` (``rounds``: whether the rounds ran, else
        it is the last stage's optimum)."""


def solve(
    m: Model,
    config: SolverConfig,
    open_lp: Callable[[list[Stage]], Executor],
    open_prelude: Callable[[], Lp],
) -> Solution:
    """The whole plan on ``m``: the nash prelude in an LP from ``open_prelude`` (where the
    objective is ``nash``), then :func:`carry_out` on the executor ``open_lp`` gives for the
    money stages (opened once the prelude's rows are in the model)."""
    started = time.perf_counter()
    objective = OBJECTIVES[m.structure.objective](m)
    value: float | None = None
    gap: float | None = None
    solves = 0
    if m.structure.objective == "nash":
        from .nash import keep_bloc_money, solve_nash  # only the nash objective needs these

        # the gap a solver can close: 1e-7 with CBC
        result = solve_nash(m, open_prelude, precision=5 * config.precision)
        keep_bloc_money(m, result, stage_tolerance(m, m.v, config))
        value, gap, solves = result.value, result.gap, result.rounds
    stages = money_stages(m, objective.expression, objective.sense)
    lp = open_lp(stages)
    in_rounds = objective.expression is None and gap is None
    least = tiny_group_slack(m, config)
    senses = [(st.sense, st.name) for st in stages]
    ran = carry_out(lp, senses, in_rounds, least=least)
    if ran.status is Status.OPTIMAL and ran.rounds and flat(lp.steepest()):
        # the tolerance set the answer: solve again, the flat direction left to the rounds
        if not lp.reopens:
            raise flat_error(m)
        lp = open_lp(stages)
        first = ran.solves
        ran = carry_out(lp, senses, in_rounds, least=least, room=lambda v: keep_room(m, v, config))
        ran = replace(ran, solves=first + ran.solves)
    require_optimal(ran.status, "leximin tie-break", m, config.name)
    if ran.value is not None:  # else nash's, or none where the plan stopped before leximin
        value = ran.value
    z, g, extra = lp.allocation(ran.rounds)
    return Solution(
        z=z,
        g=g,
        extra=extra,
        objective_value=value,
        binding=ran.binding,
        solver=config.name,
        stages=solves + ran.solves,
        seconds=time.perf_counter() - started,
        nash_gap=gap,
    )
