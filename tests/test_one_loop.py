"""Issue 12: the leximin rounds are one loop (:func:`revshare.solve.rounds.leximin`) for every
executor, and CBC runs the plan's pinned-group proof as HiGHS does.

The loop is checked on a toy LP whose leximin answer is known (each group rises alone to its own
cap), with the duals shown or hidden (then each group is probed); CBC with the proof must give
the money CBC gives through every round, to CBC's verified precision, in no more LP solves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revshare
from revshare.data.synthetic import synthetic_territory
from revshare.solve.rounds import leximin, without_pinning
from revshare.solve.solver import Status

ROOT = Path(__file__).resolve().parent.parent


class _Caps:
    """Groups that each rise alone to ``cap_k`` (``z_k <= cap_k``, offsets zero): the lowest
    free cap is each round's level, and its groups' level rows share a dual of one."""

    def __init__(self, caps: np.ndarray, hide_duals: bool, probes: bool) -> None:
        self.caps, self.hide, self.probes = caps, hide_duals, probes
        self.floors = np.full(len(caps), -np.inf)
        self.free = np.arange(len(caps))
        self.fixed: list[np.ndarray] = []

    def maximise(self, free: np.ndarray, stage: str) -> Status:
        assert np.all(self.floors[free] == -np.inf)  # a fixed group's level row is off
        self.free = free
        return Status.OPTIMAL

    def level(self) -> float:
        return float(self.caps[self.free].min())

    def level_duals(self, free: np.ndarray) -> np.ndarray:
        at = self.caps[free] == self.level()
        return np.zeros(len(free)) if self.hide else at / at.sum()

    def levels(self, groups: np.ndarray) -> np.ndarray:
        return self.caps[groups]

    def pinned(self, tol: float) -> np.ndarray:
        return np.zeros(len(self.caps), dtype=bool)

    def settled(self, blocked: np.ndarray, held: np.ndarray) -> bool:
        return False

    def probe(self, free: np.ndarray, level: float, tol: float) -> tuple[np.ndarray, int] | None:
        if not self.probes:
            return None
        return free[self.caps[free] <= level + 2 * tol], len(free)

    def fix(self, groups: np.ndarray, floors: np.ndarray) -> None:
        self.floors[groups] = floors
        if len(groups):
            self.fixed.append(groups)


@settings(max_examples=60, deadline=None)
@given(
    caps=st.lists(st.integers(0, 6), min_size=1, max_size=12),
    hide_duals=st.booleans(),
)
def test_the_loop_fixes_each_group_at_its_leximin_level(caps, hide_duals):
    lp = _Caps(np.array(caps, float), hide_duals, probes=True)
    outcome = leximin(lp, np.arange(len(caps)), np.zeros(len(caps)), lambda v: 1e-9, first=True)
    distinct = len(set(caps))
    assert outcome.status is Status.OPTIMAL
    assert outcome.first_level == min(caps)
    assert np.allclose(lp.floors, lp.caps - 1e-9)  # every group at its own cap, less the tolerance
    assert len(lp.fixed) == distinct  # one round per distinct level
    if hide_duals:  # each round probes every free group
        expected = sum(1 + sum(c >= level for c in caps) for level in set(caps))
        assert outcome.solves == expected
    else:
        assert outcome.solves == distinct


def test_the_loop_stops_where_every_dual_is_hidden_and_nobody_probes():
    lp = _Caps(np.array([1.0, 2.0]), hide_duals=True, probes=False)
    outcome = leximin(lp, np.arange(2), np.zeros(2), lambda v: 1e-9, first=False)
    assert outcome.status is Status.ERROR
    assert outcome.solves == 1 and not lp.fixed


def _territories() -> dict[str, revshare.Territory]:
    return {
        "iraq": revshare.load_dataset(ROOT / "data" / "iraq"),
        "sudan-2005": revshare.load_dataset(ROOT / "data" / "sudan-2005"),
        "synthetic-40": synthetic_territory(regions=40, factions=5, seed=1),
    }


TERRITORIES = _territories()
CASES = [
    *((d, s, []) for d in TERRITORIES for s in revshare.PRESETS),
    *((d, "federation", [f"objective={o}"]) for d in TERRITORIES for o in ("leximin", "needs")),
]


@pytest.mark.parametrize(("dataset", "structure", "overrides"), CASES)
def test_cbc_pins_groups_and_keeps_the_money_of_every_round(dataset, structure, overrides):
    t = TERRITORIES[dataset]
    try:
        proven = revshare.optimize(t, structure, overrides=overrides, solver="cbc")
    except (revshare.InputError, revshare.InfeasibleError):
        pytest.skip("not a feasible case")
    with without_pinning():
        rounds = revshare.optimize(t, structure, overrides=overrides, solver="cbc")
    assert proven.verification.ok and rounds.verification.ok
    assert proven.provenance["solver_stages"] <= rounds.provenance["solver_stages"]
    gap = np.max(np.abs(proven.cells["usd"].to_numpy() - rounds.cells["usd"].to_numpy()))
    tol = rounds.verification.tolerance_usd
    assert max(gap, abs(proven.centre_usd - rounds.centre_usd)) <= tol
