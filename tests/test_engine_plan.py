"""Issue 12: the sweep engine follows the one staged plan, pinned-group proof included.

Where the engine does not replay bases (models past ``REPLAY_MAX_COLUMNS``: districts, periods),
a stage's duals pin groups as in :mod:`revshare.solve.highs_executor`, and the pinned groups skip
the leximin rounds. The money must be the same as every round gives, and as ``optimize`` gives,
to 1e-9 of revenue, with no more LP solves.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import revshare
from revshare.data.synthetic import synthetic_territory
from revshare.solve import highs_executor
from revshare.solve.engine import Engine

TERRITORY = synthetic_territory(regions=150, factions=5, seed=1)  # past the replay limit
PRICES = np.array([38.0, 75.5, 140.0])
r = dataclasses.replace
BASE = revshare.PRESETS["federation"]
STRUCTURES = [
    BASE,
    r(BASE, name="cells", within_region="free", objective="leximin"),
    r(BASE, name="needs", objective="needs"),
    r(BASE, name="maxmin", objective="maxmin", derivation=0.1),
    r(BASE, name="formula", objective="formula"),
    r(BASE, name="centre", objective="centre-residual", central_share=(0.1, 0.6)),
]


def _engine(s: revshare.Structure) -> Engine:
    engine = Engine(TERRITORY, s, float(PRICES.max()))
    assert engine.proves and not engine.replays  # else this file tests nothing
    return engine


def _gap(a_cells: np.ndarray, a_centre: float, b_cells: np.ndarray, b_centre: float) -> float:
    return max(float(np.max(np.abs(a_cells - b_cells))), abs(a_centre - b_centre))


@pytest.mark.parametrize("index", range(len(STRUCTURES)))
def test_pinned_groups_skip_the_engines_rounds_and_keep_the_money(monkeypatch, index):
    s = STRUCTURES[index]
    money = TERRITORY.money(PRICES)
    proven = _engine(s).solve(money)
    monkeypatch.setattr(highs_executor, "PROVE_PINNED", False)
    rounds = _engine(s).solve(money)
    for solved in (proven, rounds):
        assert all(st.value == "optimal" for st in solved.status), s.name
    assert np.all(proven.stages <= rounds.stages)
    for i in range(len(PRICES)):
        gap = _gap(
            proven.cells_usd[i], proven.centre_usd[i], rounds.cells_usd[i], rounds.centre_usd[i]
        )
        assert gap <= 1e-9 * money.revenue[i], (s.name, PRICES[i], gap / money.revenue[i])


@pytest.mark.parametrize("index", range(len(STRUCTURES)))
def test_a_proving_engine_equals_optimize(index):
    s = STRUCTURES[index]
    solved = _engine(s).solve(TERRITORY.money(PRICES))
    for i, price in enumerate(PRICES):
        a = revshare.optimize(TERRITORY, s, price=float(price))
        gap = _gap(
            a.cells["usd"].to_numpy(), a.centre_usd, solved.cells_usd[i], solved.centre_usd[i]
        )
        assert gap <= 1e-9 * a.revenue_usd, (s.name, price, gap / a.revenue_usd)


def test_the_default_structure_needs_a_few_lps_a_price_not_a_round_a_level(monkeypatch):
    money = TERRITORY.money(PRICES)
    proven = _engine(BASE).solve(money)
    monkeypatch.setattr(highs_executor, "PROVE_PINNED", False)
    rounds = _engine(BASE).solve(money)
    assert proven.stages.max() <= 3
    assert proven.stages.sum() * 5 < rounds.stages.sum()


def test_the_engines_retry_leaves_every_group_to_the_rounds(monkeypatch):
    """The plan's retry after numerical trouble runs without pinning, as optimize's does."""
    engine = _engine(BASE)
    seen: list[bool] = []
    solve_one = engine._solve_one

    def spy(q, start=None):  # type: ignore[no-untyped-def]
        seen.append(highs_executor.pinning())
        return solve_one(q, start)

    monkeypatch.setattr(engine, "_solve_one", spy)
    status, _, solves, _ = engine._retry(engine.quantities(TERRITORY.money(PRICES[:1]))[0])
    assert status.value == "optimal" and seen == [False] and solves > 3
