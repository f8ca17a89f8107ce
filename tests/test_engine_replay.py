"""The sweep engine's replay: coordinates, resumed and warm-started traces change no answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revshare
from revshare.data.scenarios import PriceModel, monte_carlo
from revshare.data.structures import resolve
from revshare.solve import engine as engine_module
from revshare.solve.engine import Engine
from revshare.solve.plan import tolerance
from revshare.solve.replay import COORDINATE_RTOL
from revshare.solve.replay import Affine as _Affine
from revshare.solve.replay import Coordinates as _Coordinates
from revshare.solve.replay import ReplayState as _Replay

DATA = Path(__file__).resolve().parent.parent / "data"
IRAQ_STRUCTURES = [
    "unified",
    "federation",
    "confederation",
    "partition",
    "nigeria-derivation",
    "iraq-2005",
    "iraq-2005-krg17",
]


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


def _variants() -> list[revshare.Structure]:
    r = dataclasses.replace
    base = revshare.PRESETS["federation"]
    return [
        r(base, name="floor-cap", per_capita_floor=0.5, per_capita_cap=1.6),
        r(base, name="cells", within_region="free", objective="leximin"),
        r(base, name="maxmin", objective="maxmin", derivation=0.1),
        r(base, name="centre", objective="centre-residual", central_share=(0.1, 0.6)),
        r(base, name="proof", secession_proof=True, secession_cost=0.4),
    ]


def _prices(n: int, seed: int) -> np.ndarray:
    return monte_carlo(n, PriceModel(start=80.0), seed=seed)["price"].to_numpy()


def _batch_against_one_by_one(
    t: revshare.Territory, s: revshare.Structure, prices: np.ndarray
) -> tuple[float, int, int, int]:
    """The largest gap (share of revenue) between the engine on every price at once and on
    each price alone (HiGHS stage by stage, nothing replayed), the LP solves of each way, and
    how many prices the batch started from where they left a replayed trace."""
    engine = Engine(t, s, float(prices.max()))
    resumed = 0
    solve_one = engine._solve_one

    def spy(q, start=None):  # type: ignore[no-untyped-def]
        nonlocal resumed
        resumed += start is not None
        return solve_one(q, start)

    engine._solve_one = spy  # type: ignore[method-assign]
    money = t.money(prices)
    batch = engine.solve(money)
    engine._solve_one = solve_one  # type: ignore[method-assign]
    assert all(status.value == "optimal" for status in batch.status), s.name
    worst, alone_solves, compared = 0.0, 0, 0
    for i, price in enumerate(prices):
        one = engine.solve(t.money(np.array([price])))
        alone_solves += int(one.stages[0])
        if one.status[0].value != "optimal":
            continue  # numerical trouble alone (a sweep then asks optimize): nothing to compare
        compared += 1
        revenue = float(money.revenue[i])
        gap = np.max(np.abs(batch.cells_usd[i] - one.cells_usd[0]))
        worst = max(worst, gap / revenue, abs(batch.centre_usd[i] - one.centre_usd[0]) / revenue)
    assert compared >= 0.9 * len(prices), s.name
    return worst, int(batch.stages.sum()), alone_solves, resumed


@pytest.mark.parametrize("name", IRAQ_STRUCTURES)
def test_replayed_resumed_and_warm_started_prices_equal_each_price_alone(iraq, name):
    prices = _prices(40, seed=IRAQ_STRUCTURES.index(name))
    worst, batch, alone, _ = _batch_against_one_by_one(iraq, resolve(name, iraq.structures), prices)
    assert worst < 1e-9
    assert batch < alone / 4  # most prices replayed, not solved


@pytest.mark.parametrize("index", range(5))
def test_every_rule_and_objective_replays_to_the_same_money(iraq, index):
    worst, batch, alone, _ = _batch_against_one_by_one(iraq, _variants()[index], _prices(24, 3))
    assert worst < 1e-9
    assert batch <= alone


@pytest.mark.parametrize(
    ("dataset", "name"),
    [
        ("nigeria", "partition"),  # a stage optimum changes sign: |value| is a coordinate
        ("nigeria", "nigeria-faac-approx"),
        ("sudan-2005", "partition"),
        ("sudan-2005", "sudan-cpa-2005"),  # the built-in preset (the dataset's own is a deal)
    ],
)
def test_other_datasets_replay_to_the_same_money(dataset, name):
    """Prices from 15 to 400 USD (log-uniform); with these, a sudan-2005 partition price
    resumes where the replay had added a coordinate. (Much lower prices in one sweep leave
    the engine's model units, set at the highest price, too coarse: see the report.)"""
    t = revshare.load_dataset(DATA / dataset)
    prices = np.exp(np.random.default_rng(6).uniform(np.log(15.0), np.log(400.0), 60))
    prices = prices[t.money(prices).revenue > 0]  # a sweep solves only these
    s = revshare.PRESETS[name] if name in revshare.PRESETS else resolve(name, t.structures)
    worst, batch, alone, _ = _batch_against_one_by_one(t, s, prices)
    assert worst < 1e-9
    assert batch < alone / 2


@pytest.mark.parametrize("name", ["nigeria-derivation", "iraq-2005"])
def test_prices_that_leave_a_trace_resume_there_with_fewer_solves(iraq, name):
    """Where a price leaves a trace part way, HiGHS starts at that step: the new trace costs
    fewer LP solves than the stages it holds, and the money is unchanged."""
    prices = np.linspace(25.0, 250.0, 50)
    worst, batch, alone, resumed = _batch_against_one_by_one(
        iraq, resolve(name, iraq.structures), prices
    )
    assert worst < 1e-9
    assert resumed > 0
    full = alone / len(prices)  # LP solves of one price from the start
    assert batch < full * (1 + resumed)  # the resumed ones cost less than a full trace


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    d=st.integers(1, 12),
    rank=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
    magnitude=st.floats(1e-3, 1e9),
)
def test_coordinates_rebuild_the_data_with_no_more_directions_than_it_has(
    n, d, rank, seed, magnitude
):
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(rank, d)) * magnitude
    q = rng.normal(size=d) * magnitude + rng.normal(size=(n, rank)) @ directions
    at = _Coordinates.of(q)
    assert np.all(at.c[:, 0] == 1.0)
    assert at.rank <= min(rank, d, n) + 1
    rebuilt = at.c @ at.data
    assert np.abs(rebuilt - q).max() <= 4 * COORDINATE_RTOL * np.abs(q).max()


def test_money_at_many_prices_is_affine_in_the_price(iraq):
    """Each price's data is a constant plus the price times fixed quantities: two
    coordinates, so a replay's work per price does not grow with the number of regions."""
    engine = Engine(iraq, revshare.PRESETS["federation"], 250.0)
    q = engine.quantities(iraq.money(_prices(500, 11)))
    assert _Coordinates.of(q).rank == 2


@pytest.mark.parametrize("signs", ["positive", "negative", "mixed"])
def test_replayed_tolerance_is_the_plans_rule_at_every_price(iraq, signs):
    engine = Engine(iraq, revshare.PRESETS["federation"], 250.0)
    t = np.linspace(-1.0, 1.0, 41)
    c = np.column_stack([np.ones_like(t), t])
    revenue = np.array([50.0, 20.0])  # revenue 30 .. 70 across the prices
    value = {"positive": [3.0, 2.0], "negative": [-3.0, 2.0], "mixed": [0.5, 4.0]}[signs]
    value = np.array(value)
    state = _Replay(c, _Affine.of(np.zeros(3), np.ones(3), 2), revenue)
    tol = engine._replay_tol(state, value)
    assert state.rank == (3 if signs == "mixed" else 2)
    want = tolerance(engine.precision, c @ revenue, c @ value)
    np.testing.assert_allclose(state.c @ tol, want, rtol=1e-12, atol=1e-15)


def test_an_engine_does_not_replay_if_the_tolerance_rule_is_not_affine(iraq, monkeypatch):
    monkeypatch.setattr(
        engine_module, "tolerance", lambda p, v, value: p * (v + np.abs(value)) ** 2 + 1e-9
    )
    engine = Engine(iraq, revshare.PRESETS["federation"], 250.0)
    assert not engine.replays
    solved = engine.solve(iraq.money(np.array([40.0, 41.0, 42.0])))
    assert solved.stages.min() > 0  # every price solved by HiGHS
