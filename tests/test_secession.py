"""The secession referendum after N years and its odds over Monte Carlo paths (issue 14, item 4).

The hand-computed case: blocs N (region A) and S (region B), 100 people each; A's field 1,000
b/d and B's 3,000 b/d at no cost; ``unified`` keeps half for the centre and shares the rest by
population. At prices 10 and 20 for a year each, revenue is 14.6e6 and 29.2e6: each bloc's served
money (its quarter plus half the centre's slice) is half of it, 21.9e6 over the two years; N's
option is 1,000 x 365 x 30 = 10.95e6, S's 32.85e6.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import revshare
from revshare.analyses.secession import secession_odds, secession_vote
from revshare.data.scenarios import PriceModel, price_paths
from revshare.errors import InputError

PATH = pd.DataFrame({"period": [0, 1], "price": [10.0, 20.0], "years": [1.0, 1.0]})


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> revshare.Territory:
    folder = tmp_path_factory.mktemp("two")
    (folder / "fields.csv").write_text("field,region,production_bpd\nfa,A,1000\nfb,B,3000\n")
    (folder / "population.csv").write_text("region,faction,population\nA,a,100\nB,b,100\n")
    (folder / "regions.csv").write_text("region,bloc\nA,N\nB,S\n")
    return revshare.load_dataset(folder)


def test_the_vote_by_hand(two) -> None:
    v = secession_vote(two, "unified", PATH, vote_after=2)
    rows = v.votes.set_index("group")
    assert rows.loc["N", "money_usd"] == pytest.approx(21.9e6, rel=1e-9)
    assert rows.loc["N", "option_usd"] == pytest.approx(10.95e6, rel=1e-9)
    assert rows.loc["N", "gain_usd_per_head_a_year"] == pytest.approx(10.95e6 / 100 / 2)
    assert rows.loc["S", "gain_usd_per_head_a_year"] == pytest.approx(-10.95e6 / 100 / 2)
    assert v.leaving == ["S"]
    assert rows.loc["S", "leave_votes"] == 100 and rows.loc["N", "leave_votes"] == 0


def test_discounting_and_the_vote_date(two) -> None:
    """At 10% a year the second year weighs 1/1.1; a vote after one year sees the first only."""
    v = secession_vote(two, "unified", PATH, vote_after=2, discount_rate=0.1)
    w = [1.0, 1 / 1.1]
    money = 0.5 * (14.6e6 * w[0] + 29.2e6 * w[1])
    option = 365e3 * (10 * w[0] + 20 * w[1])
    n = v.votes.set_index("group").loc["N"]
    assert n["money_usd"] == pytest.approx(money, rel=1e-9)
    assert n["option_usd"] == pytest.approx(option, rel=1e-9)
    first = secession_vote(two, "unified", PATH, vote_after=1).votes.set_index("group")
    assert first.loc["N", "money_usd"] == pytest.approx(0.5 * 14.6e6, rel=1e-9)


def test_a_fixed_cost_of_statehood_keeps_a_bloc_in(two) -> None:
    """S's loss from staying is 5.475e6 a year; a new state costing more than that stays."""
    stays = secession_vote(
        two, "unified", PATH, vote_after=2, overrides=["secession_fixed_cost_usd=6e6"]
    )
    assert stays.leaving == []
    leaves = secession_vote(
        two, "unified", PATH, vote_after=2, overrides=["secession_fixed_cost_usd=5e6"]
    )
    assert leaves.leaving == ["S"]


def test_logistic_votes_are_seeded_and_even_at_the_margin(two) -> None:
    gain = 10.95e6 / 100 / 2
    v = secession_vote(
        two, "unified", PATH, vote_after=2, vote_model="logistic", margin=gain, seed=7
    )
    again = secession_vote(
        two, "unified", PATH, vote_after=2, vote_model="logistic", margin=gain, seed=7
    )
    assert v.votes.equals(again.votes)
    n = v.votes.set_index("group").loc["N", "leave_votes"]
    assert 20 <= n <= 80  # a binomial(100, 1/2) draw
    assert v.votes.set_index("group").loc["S", "leave_votes"] == 100  # far below the margin


@pytest.mark.parametrize(
    ("option", "value"),
    [("vote_after", 0), ("discount_rate", -0.1), ("by", "faction"), ("vote_model", "coin")],
)
def test_bad_options_are_input_errors(two, option, value) -> None:
    kwargs = {"vote_after": 2, option: value}
    with pytest.raises(InputError) as info:
        secession_vote(two, "unified", PATH, **kwargs)
    assert info.value.problems[0].file == option


def test_odds_over_monte_carlo_paths_are_reproducible_shares(two) -> None:
    model = PriceModel(start=15.0, volatility=0.3)
    odds = secession_odds(two, "unified", model, paths=6, vote_after=2, seed=4)
    assert set(odds["group"]) == {"N", "S"}
    assert odds.set_index("group").loc["S", "probability_of_leaving"] == 1.0
    assert odds.set_index("group").loc["N", "probability_of_leaving"] == 0.0
    again = secession_odds(two, "unified", model, paths=6, vote_after=2, seed=4)
    assert odds.equals(again)


def test_price_paths_step_year_by_year_from_the_model() -> None:
    paths = price_paths(4, 3, PriceModel(start=80.0), seed=1)
    assert list(paths.columns) == ["scenario", "period", "price", "years"]
    assert len(paths) == 12 and (paths["price"] > 0).all()
    first = paths[paths["period"] == 0]["price"].to_numpy()
    year_one = revshare.monte_carlo(4, PriceModel(start=80.0, horizon=1.0), seed=1)["price"]
    assert first == pytest.approx(year_one.to_numpy())


def test_sudan_votes_on_the_2005_2010_prices() -> None:
    """Under the agreement as written, at the Brent prices of the interim period, the south is
    better off alone (it voted 98.8% to leave in January 2011); under partition nobody gains."""
    data = Path(__file__).resolve().parents[1] / "data"
    t = revshare.load_dataset(data / "sudan-2005")
    path = revshare.read_periods(data / "iraq" / "brent-2005-2024.csv")
    cpa = secession_vote(t, "sudan-cpa-2005", path, vote_after=6, discount_rate=0.05)
    assert cpa.leaving == ["south"]
    assert secession_vote(t, "partition", path, vote_after=6).leaving == []
