"""Pairwise majority, Condorcet winner, Smith set and rankings on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from revshare.analyses.preferences import (
    beats,
    condorcet,
    condorcet_winner,
    find_cycle,
    pairwise_majority,
    preference_counts,
    rankings,
    smith_set,
)

RPS = ["rock", "paper", "scissors"]
# Three equal groups with cyclic tastes: rock > paper > scissors, paper > scissors > rock,
# scissors > rock > paper (money per head, groups x structures).
RPS_MONEY = np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [2.0, 1.0, 3.0]])


def outcome(money, weights, names, tol=0.0):
    return condorcet(preference_counts(money, weights, tol), names)


def test_rock_paper_scissors_is_a_cycle_with_no_winner():
    c = outcome(RPS_MONEY, [1, 1, 1], RPS)
    assert c.winner is None
    assert c.smith_set == ("rock", "paper", "scissors")
    assert c.cycle == ("rock", "paper", "scissors")
    table = pairwise_majority(RPS_MONEY, [1, 1, 1], RPS).set_index(["a", "b"])
    assert table.loc[("rock", "paper"), "winner"] == "rock"
    assert table.loc[("paper", "scissors"), "winner"] == "paper"
    assert table.loc[("rock", "scissors"), "winner"] == "scissors"
    assert (table["prefer_a"] + table["prefer_b"] + table["indifferent"] == 3).all()


def test_cycle_is_named_from_the_first_structure_given():
    order = ["scissors", "rock", "paper"]
    money = RPS_MONEY[:, [2, 0, 1]]
    assert outcome(money, [1, 1, 1], order).cycle == ("scissors", "rock", "paper")


def test_population_weights_break_the_cycle_into_a_tie():
    # Weights 3, 1, 2: rock beats paper 5 to 1, paper beats scissors 4 to 2, and rock and
    # scissors tie 3 to 3. No strict cycle is left, yet nobody beats everyone, and the Smith
    # set keeps all three (no smaller set beats everything outside it).
    counts = preference_counts(RPS_MONEY, [3, 1, 2])
    assert (counts[0, 1], counts[1, 0]) == (5, 1)
    assert (counts[1, 2], counts[2, 1]) == (4, 2)
    assert (counts[0, 2], counts[2, 0]) == (3, 3)
    c = outcome(RPS_MONEY, [3, 1, 2], RPS)
    assert c.winner is None
    assert c.smith_set == ("rock", "paper", "scissors")
    assert c.cycle is None


def test_condorcet_winner_need_not_be_anyones_first_choice_by_plurality():
    names = ["A", "B", "C"]
    money = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]])
    weights = [4, 3, 2]  # A has the most first places (4), yet B beats A 5 to 4 and C 6 to 3
    c = outcome(money, weights, names)
    assert c.winner == "B"
    assert c.smith_set == ("B",)
    assert c.cycle is None


def test_top_cycle_leaves_out_a_structure_that_loses_to_all():
    names = ["rock", "paper", "scissors", "loser"]
    money = np.column_stack([RPS_MONEY, np.zeros(3)])
    c = outcome(money, [1, 1, 1], names)
    assert c.winner is None
    assert c.smith_set == ("rock", "paper", "scissors")
    assert "loser" not in c.cycle


def test_differences_within_tolerance_are_indifference():
    names = ["a", "b"]
    money = np.array([[100.004, 100.0], [50.0, 60.0]])
    table = pairwise_majority(money, [10, 3], names, tol=0.01)
    row = table.iloc[0]
    assert (row.prefer_a, row.prefer_b, row.indifferent) == (0.0, 3.0, 10.0)
    assert row.winner == "b"
    assert condorcet_winner(preference_counts(money, [10, 3], tol=0.01), names) == "b"
    # without the tolerance the large group's 0.004 USD decides
    assert condorcet_winner(preference_counts(money, [10, 3]), names) == "a"


def test_an_exact_tie_has_no_winner_and_both_in_the_smith_set():
    table = pairwise_majority([[2.0, 1.0], [1.0, 2.0]], [5, 5], ["a", "b"])
    assert table.iloc[0].winner is None
    c = outcome([[2.0, 1.0], [1.0, 2.0]], [5, 5], ["a", "b"])
    assert (c.winner, c.smith_set, c.cycle) == (None, ("a", "b"), None)


def test_one_structure_wins_by_default_and_none_gives_an_empty_outcome():
    assert outcome([[1.0], [2.0]], [1, 1], ["only"]).winner == "only"
    empty = outcome(np.zeros((2, 0)), [1, 1], [])
    assert (empty.winner, empty.smith_set, empty.cycle) == (None, (), None)
    assert pairwise_majority(np.zeros((2, 0)), [1, 1], []).empty


def test_rankings_use_competition_ranks_and_keep_the_given_order_on_ties():
    r = rankings([[5.0, 7.0, 7.0, 1.0]], ["g"], ["w", "x", "y", "z"])
    assert r["structure"].tolist() == ["x", "y", "w", "z"]
    assert r["rank"].tolist() == [1, 1, 3, 4]
    near = rankings([[5.0, 5.004]], ["g"], ["a", "b"], tol=0.01)
    assert near["rank"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("money", "weights", "names", "message"),
    [
        ([1.0, 2.0], [1], ["a", "b"], "2-D"),
        ([[1.0, 2.0]], [1, 2], ["a", "b"], "one entry per group"),
        ([[1.0, np.nan]], [1], ["a", "b"], "finite"),
        ([[1.0, 2.0]], [-1], ["a", "b"], ">= 0"),
        ([[1.0, 2.0]], [1], ["a"], "one entry per structure"),
        ([[1.0, 2.0]], [1], ["a", "a"], "distinct"),
    ],
)
def test_bad_input_is_refused_with_the_reason(money, weights, names, message):
    with pytest.raises(ValueError, match=message):
        pairwise_majority(money, weights, names)


def test_counts_must_be_square():
    with pytest.raises(ValueError, match="square"):
        beats(np.zeros((2, 3)))


profiles = st.integers(1, 5).flatmap(
    lambda s: st.tuples(
        arrays(float, st.tuples(st.integers(1, 6), st.just(s)), elements=st.integers(0, 4)),
        st.just(s),
    )
)


@given(profiles, st.data())
def test_smith_set_dominates_and_the_winner_is_alone(profile, data):
    money, s = profile
    weights = data.draw(arrays(float, money.shape[0], elements=st.integers(1, 9)))
    names = [f"s{i}" for i in range(s)]
    counts = preference_counts(money, weights)
    b = beats(counts)
    top = smith_set(counts, names)
    inside = [names.index(n) for n in top]
    outside = [i for i in range(s) if i not in inside]
    assert top, "the Smith set is never empty"
    assert all(b[i, j] for i in inside for j in outside)
    winner = condorcet_winner(counts, names)
    if winner is not None:
        assert top == (winner,)
    cycle = find_cycle(counts, names, top)
    if cycle is not None:
        idx = [names.index(n) for n in cycle]
        assert all(b[idx[k], idx[(k + 1) % len(idx)]] for k in range(len(idx)))
    perm = data.draw(st.permutations(range(s)))
    shuffled = condorcet(preference_counts(money[:, perm], weights), [names[p] for p in perm])
    assert shuffled.winner == winner
    assert set(shuffled.smith_set) == set(top)
