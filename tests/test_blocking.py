"""Voting power under the ratification rules and the convention's seats, block voting (issue 14)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

import revshare
from revshare.analyses.blocking import rule_game, rule_power, seat_power
from revshare.analyses.power import brute_force, power
from revshare.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.mark.parametrize("rule", ["majority", "double-majority", "iraq-2005", "bloc-veto"])
@pytest.mark.parametrize("by", ["region", "bloc"])
def test_every_rule_gives_indices_that_sum_to_one(iraq, rule, by) -> None:
    table = rule_power(iraq, rule, by)
    assert table["banzhaf"].sum() == pytest.approx(1.0)
    assert table["shapley_shubik"].sum() == pytest.approx(1.0)
    assert (table["banzhaf"] >= 0).all()


def test_a_bloc_with_a_majority_of_the_people_holds_all_the_power(iraq) -> None:
    table = rule_power(iraq, "majority", "bloc").set_index("player")
    assert table.loc["Shia Region", "shapley_shubik"] == 1.0
    assert table.loc["Kurdistan Region", "banzhaf"] == 0.0


def test_a_bloc_veto_makes_every_bloc_equal(iraq) -> None:
    table = rule_power(iraq, "bloc-veto", "bloc")
    assert table["shapley_shubik"].tolist() == pytest.approx([1 / 3] * 3)


def test_iraq_2005_as_block_votes_gives_every_governorate_the_same_power(iraq) -> None:
    """Any 16 of the 18 governorates hold a majority of the people, so the count quota decides."""
    table = rule_power(iraq, "iraq-2005")
    assert table["shapley_shubik"].tolist() == pytest.approx([1 / 18] * 18)


def test_the_double_majority_cuts_baghdads_power(iraq) -> None:
    majority = rule_power(iraq, "majority").set_index("player")
    double = rule_power(iraq, "double-majority").set_index("player")
    assert double.loc["Baghdad", "shapley_shubik"] < majority.loc["Baghdad", "shapley_shubik"]


def test_the_rule_games_equal_brute_force_on_a_small_country(tmp_path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "fields.csv").write_text("field,region,annual_revenue_usd\nf,A,1000\n")
    (folder / "population.csv").write_text(
        "region,faction,population\nA,x,40\nB,x,25\nC,x,20\nD,x,10\nE,x,5\n"
    )
    t = revshare.load_dataset(folder)
    for rule in ("majority", "double-majority", "iraq-2005"):
        _, game = rule_game(t, rule)
        assert power(game).shapley_shubik == brute_force(game).shapley_shubik


def test_convention_seats(iraq) -> None:
    a = revshare.apportion_territory(iraq, 329, "webster", by="bloc")
    table = seat_power(a).set_index("player")
    assert table["weight"].sum() == 329
    assert table.loc["Shia Region", "banzhaf"] == 1.0  # 195 of 329 seats: a majority alone
    two_thirds = seat_power(a, Fraction(2, 3)).set_index("player")
    assert two_thirds.loc["Shia Region", "banzhaf"] < 1.0


def test_an_unknown_rule_is_an_input_error(iraq) -> None:
    with pytest.raises(InputError):
        rule_power(iraq, "acclamation")
