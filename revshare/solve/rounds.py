"""The plan's leximin rounds (:mod:`revshare.solve.plan`, stage 3), written once.

Each round maximises the lowest level ``t`` among the groups not yet fixed (their *level rows*
``t <= z_k + offset_k`` on). A group whose level row has a non-zero dual cannot rise above ``t``
in any optimum (complementary slackness), so it is fixed at ``t`` less the plan's tolerance; the
duals of the level rows sum to one, so a round fixes at least one group unless rounding hides
every dual, and then each group at ``t`` is probed. A group the round's duals *pin* (its money
moves by at most the pin share over every point within the tolerance of the round's optimum,
:func:`revshare.solve.plan.stage_ranges`) keeps its own money from then on: every later round's
optimum, with ``t`` set to the level less the tolerance, is such a point. The leximin vector is
unique, so the answer does not depend on names or the order of the rows.

:func:`leximin` is the loop; an executor supplies the LP through :class:`Rounds`: the in-place
HiGHS :class:`revshare.solve.instance.Instance`, PuLP with CBC
(:mod:`revshare.solve.pulp_executor`), and the sweep engine (:mod:`revshare.solve.engine`), which
also records each round's basis to replay it at other prices and may stop early when a round's
allocation is the same in every optimum.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import numpy as np

from ..errors import NotOptimalError
from .solver import DUAL_EPSILON, Status

_PIN: contextvars.ContextVar[bool] = contextvars.ContextVar("pin", default=True)


class Rounds(Protocol):
    """What :func:`leximin` asks of the LP it works on. Groups are indexed as ``Model.z``."""

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        """Maximise ``t`` with the level rows of the ``free`` groups on; an executor raises
        (:func:`revshare.solve.plan.require_optimal`) where it cannot go on."""

    def level(self) -> float:
        """``t`` at the optimum just found."""

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        """The duals of the ``free`` groups' level rows at that optimum."""

    def levels(self, groups: np.ndarray) -> np.ndarray:
        """The ``groups``' ``z`` at that optimum."""

    def pinned(self, tol: float) -> np.ndarray:
        """Which groups the round's duals pin within ``tol`` of its optimum (a mask over every
        group; none where the executor does not prove it)."""

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        """Called after each round with its decisions; True ends the rounds (the round's
        allocation is proven the same in every optimum)."""

    def probe(self, free: np.ndarray, level: float, tol: float) -> tuple[np.ndarray, int] | None:
        """The ``free`` groups that cannot rise above ``level`` (by one LP each), and the LP
        solves; None where the executor does not probe."""

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        """Hold ``z_k >= floor_k`` for the ``groups`` from now on, and drop their level rows."""


class Outcome(NamedTuple):
    """How the rounds ended: ``status`` (not optimal where a round was not, or where every dual
    was hidden and the executor does not probe), the first round's level (NaN if none was
    solved) and the LP solves, probes included."""

    status: Status
    first_level: float
    solves: int


def hold(
    rounds: Rounds,
    groups: np.ndarray,
    z: np.ndarray,
    tol: Callable[[Any], Any],
    least: np.ndarray | None = None,
) -> None:
    """Fix ``groups`` pinned by the stages before the rounds at their money ``z`` (less the
    tolerance of each, or the group's ``least`` slack where that is larger:
    :func:`revshare.solve.plan.tiny_group_slack`)."""
    if len(groups):
        rounds.fix(groups, z - _slack(tol(z), least, groups))


def _slack(tol: Any, least: np.ndarray | None, groups: np.ndarray) -> Any:
    return tol if least is None else np.maximum(tol, least[groups])


def leximin(
    rounds: Rounds,
    free: np.ndarray,
    offsets: np.ndarray,
    tol: Callable[[Any], Any],
    first: bool,
    least: np.ndarray | None = None,
) -> Outcome:
    """Run the rounds over the ``free`` groups (the others are fixed already). ``offsets`` are
    the groups' baselines (a level is ``z_k + offset_k``), ``tol`` the plan's tolerance for a
    round's level, and ``first`` says the first round is the plan's first stage (its
    ``objective``); ``least`` is each group's least fix-row slack, if any (:func:`hold`)."""
    solves, first_level = 0, float("nan")
    while len(free):
        status = rounds.maximise(free, "objective" if first and not solves else "leximin tie-break")
        solves += 1
        if status is not Status.OPTIMAL:
            return Outcome(status, first_level, solves)
        level = rounds.level()
        if solves == 1:
            first_level = level
        blocked = free[np.abs(rounds.level_duals(free)) > DUAL_EPSILON]
        slack = float(tol(level))
        held = np.setdiff1d(free[rounds.pinned(slack)[free]], blocked)
        if rounds.settled(blocked, held):
            break
        if not len(blocked) and not len(held):
            probed = rounds.probe(free, level, slack)
            if probed is None:
                return Outcome(Status.ERROR, first_level, solves)
            blocked, probes = probed
            solves += probes
        rounds.fix(blocked, level - offsets[blocked] - _slack(slack, least, blocked))
        rounds.fix(held, rounds.levels(held) - _slack(slack, least, held))
        free = np.setdiff1d(free, np.union1d(blocked, held))
    return Outcome(Status.OPTIMAL, first_level, solves)


def unstable(blocked: list[int]) -> np.ndarray:
    """The groups probing found blocked; none means the LP is numerically unstable."""
    if not blocked:
        raise NotOptimalError(
            "the leximin tie-break could not find a group to fix; the model is "
            "numerically unstable at this scale"
        )
    return np.array(blocked, dtype=np.int64)


@contextlib.contextmanager
def without_pinning() -> Iterator[None]:
    """Solves inside leave every group to the leximin rounds (the plan's retry after numerical
    trouble: a pinned group's row is one more row that can make a round infeasible)."""
    token = _PIN.set(False)
    try:
        yield
    finally:
        _PIN.reset(token)


def pin_allowed() -> bool:
    """False inside :func:`without_pinning`."""
    return _PIN.get()
