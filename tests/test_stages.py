"""Issue 12: the money stages are one loop (:func:`revshare.solve.stages.carry_out`).

The loop is run here on a scripted LP (each stage's value, which groups its duals pin, whether
its allocation is unique, its status) over every shape hypothesis draws, and what it asks of the
LP is checked against the plan (:mod:`revshare.solve.plan`): every stage before the end is kept,
the plan ends where every group and the centre are pinned or a stage's allocation is unique,
the pinned groups are held at their money and skip the rounds, a stage that is not optimal ends
it with its status, and the objective's value and binding are read where the objective is
optimised: its own stage, or the first leximin round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from revshare.solve.solver import Status
from revshare.solve.stages import carry_out

ROUND_LEVEL = 7.0
OFFSET = 0.5


@dataclass
class Script:
    """What the scripted LP's stages give: per stage its name, value, pinned mask (groups, then
    the centre), whether its allocation is unique, and its status."""

    names: list[str]
    values: list[float]
    pins: list[np.ndarray]
    unique: list[bool]
    status: list[Status]


@dataclass
class FakeRounds:
    """One round fixes every free group at the round's level (every level row binds)."""

    n: int
    offsets: np.ndarray = field(init=False)
    binding: list[dict[str, Any]] = field(default_factory=list)
    fixed: dict[int, float] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.offsets = np.full(self.n, OFFSET)

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        self.stages.append(stage)
        if stage == "objective":
            self.binding = [{"constraint": "round", "dual": 1.0, "slack": 0.0}]
        return Status.OPTIMAL

    def level(self) -> float:
        return ROUND_LEVEL

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        return np.full(len(free), 1.0 / len(free))

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return np.full(len(groups), ROUND_LEVEL - OFFSET)

    def pinned(self, tol: float) -> np.ndarray:
        return np.zeros(self.n, dtype=bool)

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        return False

    def probe(self, free: np.ndarray, level: float, tol: float) -> None:
        return None

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        for k, floor in zip(groups, floors, strict=True):
            assert int(k) not in self.fixed, "a group fixed twice"
            self.fixed[int(k)] = float(floor)


class FakeLP:
    """:class:`revshare.solve.stages.StageLP` following a :class:`Script`, recording calls."""

    def __init__(self, script: Script, n: int) -> None:
        self.script, self.n = script, n
        self.solved: list[int] = []
        self.kept: list[int] = []
        self.lex: FakeRounds | None = None

    def optimise(self, s: int) -> Status:
        self.solved.append(s)
        return self.script.status[s]

    def value(self, s: int) -> float:
        return self.script.values[s]

    def tolerance(self, value: Any) -> Any:
        return 1e-9 + 0.0 * np.asarray(value)

    def binding(self) -> list[dict[str, Any]]:
        return [{"constraint": f"stage {self.solved[-1]}", "dual": 1.0, "slack": 0.0}]

    def settled(self, s: int) -> bool:
        return self.script.unique[s]

    def pinned(self, sense: int, tol: float) -> np.ndarray:
        return self.script.pins[self.solved[-1]].copy()

    def keep(self, s: int, value: float, tol: float) -> None:
        assert value == self.script.values[s]
        self.kept.append(s)

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return np.asarray(groups, dtype=float)  # group k's money is k at every stage

    def rounds(self) -> tuple[FakeRounds, np.ndarray]:
        self.lex = FakeRounds(self.n)
        return self.lex, np.arange(self.n)


@st.composite
def scripts(draw: st.DrawFn) -> tuple[Script, int, bool]:
    n = draw(st.integers(1, 5))
    k = draw(st.integers(0, 3))
    has_objective = draw(st.booleans()) and k > 0
    names = ["objective" if has_objective and s == 0 else f"tie-break {s}" for s in range(k)]
    mask = st.lists(st.booleans(), min_size=n + 1, max_size=n + 1).map(np.array)
    script = Script(
        names,
        draw(st.lists(st.floats(-1e3, 1e3), min_size=k, max_size=k)),
        draw(st.lists(mask, min_size=k, max_size=k)),
        draw(st.lists(st.booleans(), min_size=k, max_size=k)),
        draw(
            st.lists(
                st.sampled_from([Status.OPTIMAL] * 4 + [Status.INFEASIBLE, Status.LIMIT]),
                min_size=k,
                max_size=k,
            )
        ),
    )
    return script, n, not has_objective and draw(st.booleans())


@given(scripts())
def test_the_stage_loop_follows_the_plan(drawn: tuple[Script, int, bool]) -> None:
    script, n, in_rounds = drawn
    lp = FakeLP(script, n)
    stages = [(pulp.LpMinimize, name) for name in script.names]
    ran = carry_out(lp, stages, in_rounds)
    # walk the plan by hand: where it ends, what it pins
    pinned = np.zeros(n + 1, dtype=bool)
    end, ended = len(stages), "rounds"
    for s in range(len(stages)):
        if script.status[s] is not Status.OPTIMAL:
            end, ended = s, "failed"
            break
        pinned |= script.pins[s]
        if script.unique[s] or (pinned.all() and not in_rounds):
            end, ended = s, "stopped"
            break
    assert lp.solved == list(range(min(end + 1, len(stages))))
    assert lp.kept == list(range(end if ended != "rounds" else len(stages)))
    assert ran.rounds == (ended == "rounds") and (lp.lex is not None) == ran.rounds
    if ended == "failed":
        assert ran.status is script.status[end]
    else:
        assert ran.status is Status.OPTIMAL
    objective = "objective" in script.names[: end + 1] and ended != "failed"
    if objective:
        assert ran.value == script.values[0]
        assert ran.binding == [{"constraint": "stage 0", "dual": 1.0, "slack": 0.0}]
    elif in_rounds and ran.rounds and pinned[:-1].all():  # held: the lowest level, group 0's
        assert ran.value == OFFSET and ran.binding == []
    elif in_rounds and ran.rounds:
        assert lp.lex is not None
        assert ran.value == ROUND_LEVEL and ran.binding == lp.lex.binding != []
    else:
        assert ran.value is None and ran.binding == []
    if ran.rounds:
        lex = lp.lex
        assert lex is not None
        held = np.flatnonzero(pinned[:-1])
        assert sorted(lex.fixed) == list(range(n))  # every group, once
        for k in range(n):  # a pinned group at its own money, the others at the round's level
            want = float(k) if k in held else ROUND_LEVEL - OFFSET
            assert abs(lex.fixed[k] - (want - 1e-9)) <= 1e-12
        rounds = 1 if len(held) < n else 0
        assert ran.solves == len(lp.solved) + rounds
        assert lex.stages == (["objective" if in_rounds else "leximin tie-break"] if rounds else [])
    else:
        assert ran.solves == len(lp.solved)


@pytest.mark.parametrize("in_rounds", [False, True])
def test_every_group_pinned_by_a_stage_before_leximin(in_rounds: bool) -> None:
    """Everyone pinned by a stage: the plan stops there, unless the objective is leximin's
    first round, which is then the answer's lowest level (nothing binds: no round is solved)."""
    n = 3
    script = Script(["tie-break"], [1.0], [np.ones(n + 1, dtype=bool)], [False], [Status.OPTIMAL])
    lp = FakeLP(script, n)
    ran = carry_out(lp, [(pulp.LpMinimize, "tie-break")], in_rounds)
    assert ran.solves == 1 and ran.rounds == in_rounds
    if in_rounds:
        assert lp.lex is not None and lp.lex.stages == [] and sorted(lp.lex.fixed) == [0, 1, 2]
        assert ran.value == OFFSET and ran.binding == []
    else:
        assert lp.lex is None and ran.value is None
