"""Power indices against published values, the definitions (brute force) and their properties."""

from __future__ import annotations

import math
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revshare.analyses import power as pw
from revshare.errors import InputError

ENGINES = ["generating function", "enumeration"]

# (name, game, normalised Banzhaf, Shapley-Shubik), each from the literature
PUBLISHED = [
    (
        # EEC Council of Ministers 1958-1972: France, Germany, Italy 4; Belgium, Netherlands 2;
        # Luxembourg 1; quota 12 (Felsenthal and Machover, The Measurement of Voting Power,
        # 1998, table 3.3.2 and section 4.3): Luxembourg is a dummy
        "EEC 1958",
        pw.weighted_game(12, [4, 4, 4, 2, 2, 1]),
        [F(5, 21)] * 3 + [F(1, 7)] * 2 + [F(0)],
        [F(7, 30)] * 3 + [F(3, 20)] * 2 + [F(0)],
    ),
    (
        # UN Security Council since 1965: 5 permanent members with a veto, 10 elected, 9 votes
        # needed: [39; 7 x 5, 1 x 10] (Shapley-Shubik 421/2145 = 0.1963 and 4/2145 = 0.001865,
        # Felsenthal and Machover 1998, section 4.3; Banzhaf swings 848 and 84, normalised 0.1669
        # and 0.0165)
        "UN Security Council",
        pw.weighted_game(39, [7] * 5 + [1] * 10),
        [F(848, 5080)] * 5 + [F(84, 5080)] * 10,
        [F(421, 2145)] * 5 + [F(4, 2145)] * 10,
    ),
    (
        # the same Council as written: all five permanent members and nine votes
        "UN Security Council as a double rule",
        pw.VotingGame(((1,) * 5 + (0,) * 10,), (5,), count_quota=9),
        [F(848, 5080)] * 5 + [F(84, 5080)] * 10,
        [F(421, 2145)] * 5 + [F(4, 2145)] * 10,
    ),
    (
        # Nassau County Board 1958 (Banzhaf, Rutgers Law Review 1965): three of six supervisors
        # hold no power at all
        "Nassau County 1958",
        pw.weighted_game(16, [9, 9, 7, 3, 1, 1]),
        [F(1, 3)] * 3 + [F(0)] * 3,
        [F(1, 3)] * 3 + [F(0)] * 3,
    ),
    (
        # a textbook game [3; 2, 1, 1] (Straffin, Game Theory and Strategy, 1993, ch. 9)
        "[3; 2, 1, 1]",
        pw.weighted_game(3, [2, 1, 1]),
        [F(3, 5), F(1, 5), F(1, 5)],
        [F(2, 3), F(1, 6), F(1, 6)],
    ),
    (
        # [51; 49, 48, 3]: any two of three win, so the 3-vote party equals the 49-vote one
        "[51; 49, 48, 3]",
        pw.weighted_game(51, [49, 48, 3]),
        [F(1, 3)] * 3,
        [F(1, 3)] * 3,
    ),
    (
        # unanimity of four (a count quota alone): everyone is pivotal last, 1/4 each
        "unanimity of 4",
        pw.VotingGame((), (), count_quota=4),
        [F(1, 4)] * 4,
        [F(1, 4)] * 4,
    ),
]


@pytest.mark.parametrize("method", ENGINES)
@pytest.mark.parametrize(
    ("name", "game", "banzhaf", "shapley"), PUBLISHED, ids=[p[0] for p in PUBLISHED]
)
def test_published_values(
    name: str, game: pw.VotingGame, banzhaf: list[F], shapley: list[F], method: str
) -> None:
    got = pw.power(game, method)
    assert list(got.banzhaf) == banzhaf
    assert list(got.shapley_shubik) == shapley
    assert got.method == method


def test_security_council_absolute_banzhaf() -> None:
    """Penrose/Banzhaf absolute power 848/2**14 = 0.0518 and 84/2**14 = 0.00513."""
    got = pw.power(pw.weighted_game(39, [7] * 5 + [1] * 10))
    assert got.swings == (848,) * 5 + (84,) * 10
    assert got.banzhaf_absolute[0] == F(848, 2**14)
    assert round(float(got.banzhaf_absolute[5]), 5) == 0.00513


SMALL = [p for p in PUBLISHED if p[1].n <= 9]  # brute force orders the voters: n! orders


@pytest.mark.parametrize(("name", "game", "banzhaf", "shapley"), SMALL, ids=[p[0] for p in SMALL])
def test_brute_force_meets_published(
    name: str, game: pw.VotingGame, banzhaf: list[F], shapley: list[F]
) -> None:
    got = pw.brute_force(game)
    assert (list(got.banzhaf), list(got.shapley_shubik)) == (banzhaf, shapley)


@st.composite
def games(draw: st.DrawFn, max_n: int = 7, rules: int = 1) -> pw.VotingGame:
    n = draw(st.integers(1, max_n))
    weights, quotas = [], []
    for _ in range(rules):
        row = draw(
            st.lists(st.integers(0, 12), min_size=n, max_size=n).filter(lambda r: sum(r) > 0)
        )
        weights.append(tuple(row))
        quotas.append(draw(st.integers(1, sum(row))))
    return pw.VotingGame(tuple(weights), tuple(quotas), draw(st.integers(0, n)))


@given(games())
def test_engines_equal_the_definition(game: pw.VotingGame) -> None:
    truth = pw.brute_force(game)
    for method in ENGINES:
        got = pw.power(game, method)
        assert (got.swings, got.shapley_shubik) == (truth.swings, truth.shapley_shubik)


@given(games(max_n=6, rules=2))
def test_enumeration_of_several_rules_equals_the_definition(game: pw.VotingGame) -> None:
    truth = pw.brute_force(game)
    got = pw.power(game)
    assert got.method == "enumeration"
    assert (got.swings, got.shapley_shubik) == (truth.swings, truth.shapley_shubik)


@given(games(max_n=12))
def test_indices_sum_to_one_and_respect_symmetry_and_dummies(game: pw.VotingGame) -> None:
    got = pw.power(game)
    assert sum(got.shapley_shubik) == 1
    assert sum(got.banzhaf) == 1
    assert all(
        b == F(s, 2 ** (game.n - 1)) for b, s in zip(got.banzhaf_absolute, got.swings, strict=True)
    )
    w = game.weights[0]
    for i in range(game.n):
        for j in range(game.n):
            if w[i] == w[j]:  # the same weight in the only rule: symmetric players
                assert got.shapley_shubik[i] == got.shapley_shubik[j]
                assert got.swings[i] == got.swings[j]
        if w[i] == 0 and game.count_quota == 0:  # a dummy never turns a loser into a winner
            assert got.swings[i] == 0 and got.shapley_shubik[i] == 0


@given(games(max_n=12))
def test_more_weight_never_means_less_power(game: pw.VotingGame) -> None:
    """Local monotonicity of weighted games (Felsenthal and Machover 1998, 7.6)."""
    got = pw.power(game)
    w = game.weights[0]
    for i in range(game.n):
        for j in range(game.n):
            if w[i] >= w[j]:
                assert got.swings[i] >= got.swings[j]
                assert got.shapley_shubik[i] >= got.shapley_shubik[j]


@pytest.mark.parametrize("n", [61, 70])
def test_many_players_symmetric_majority(n: int) -> None:
    """Above 60 players the counts leave int64: a simple majority of equals, known in closed
    form (swings C(n-1, n//2) for odd n, 1/n each)."""
    quota = n // 2 + 1
    got = pw.power(pw.weighted_game(quota, [1] * n))
    assert got.swings == (math.comb(n - 1, quota - 1),) * n
    assert got.shapley_shubik == (F(1, n),) * n


@given(games(max_n=12))
def test_python_integers_agree_with_int64(game: pw.VotingGame) -> None:
    fast = pw.power(game, "generating function")
    saved = pw._INT64_PLAYERS
    pw._INT64_PLAYERS = 0
    try:
        slow = pw.power(game, "generating function")
    finally:
        pw._INT64_PLAYERS = saved
    assert (fast.swings, fast.shapley_shubik) == (slow.swings, slow.shapley_shubik)


def test_auto_picks_the_engine_that_fits() -> None:
    assert pw.power(pw.weighted_game(3, [2, 1, 1])).method == "generating function"
    big = pw.weighted_game(10**9, [10**9 - 1, 1, 1])  # quota far above MAX_CELLS
    assert pw.power(big).method == "enumeration"
    assert pw.power(big).shapley_shubik == pw.brute_force(big).shapley_shubik


@pytest.mark.parametrize(
    ("share", "total", "strict", "quota"),
    [
        (F(1, 2), 10, True, 6),
        (F(1, 2), 10, False, 5),
        (F(1, 2), 11, True, 6),
        (F(2, 3), 9, False, 6),
        (F(2, 3), 9, True, 7),
        (F(13, 20), 100, False, 65),
    ],
)
def test_quota_for(share: F, total: int, strict: bool, quota: int) -> None:
    assert pw.quota_for(total, share, strict) == quota


BAD = [
    (lambda: pw.weighted_game(3, [1.5, 2]), "E-NOT-INTEGER"),
    (lambda: pw.weighted_game(3, [float("nan"), 2]), "E-NOT-INTEGER"),
    (lambda: pw.weighted_game(3, [True, 2]), "E-NOT-A-NUMBER"),
    (lambda: pw.weighted_game(3, ["2", 2]), "E-NOT-A-NUMBER"),
    (lambda: pw.weighted_game(2, [-1, 3]), "E-RANGE"),
    (lambda: pw.weighted_game(0, [1, 2]), "E-RANGE"),
    (lambda: pw.weighted_game(4, [1, 2]), "E-RANGE"),
    (lambda: pw.weighted_game(1, [0, 0]), "E-RANGE"),
    (lambda: pw.weighted_game(2.5, [1, 2]), "E-NOT-INTEGER"),
    (lambda: pw.weighted_game(1, []), "E-USAGE"),
    (lambda: pw.double_majority(2, [1, 2], 3), "E-RANGE"),
    (lambda: pw.double_majority(2, [1, 2], -1), "E-RANGE"),
    (lambda: pw.VotingGame(((1, 2), (1,)), (1, 1)), "E-USAGE"),
    (lambda: pw.VotingGame(((1, 2),), ()), "E-USAGE"),
    (lambda: pw.VotingGame((), ()), "E-USAGE"),
    (lambda: pw.weighted_game(2**62, [2**62, 1]), "E-RANGE"),
    (lambda: pw.power(pw.weighted_game(2, [1, 2]), "bogus"), "E-USAGE"),
    (lambda: pw.power(pw.weighted_game(10**8, [10**8] * 3), "generating function"), "E-RANGE"),
    (lambda: pw.power(pw.VotingGame(((1, 1), (1, 1)), (1, 1)), "generating function"), "E-RANGE"),
    (lambda: pw.power(pw.weighted_game(2, [1] * 23), "enumeration"), "E-RANGE"),
    (lambda: pw.brute_force(pw.weighted_game(2, [1] * 10)), "E-RANGE"),
]


@pytest.mark.parametrize(("make", "code"), BAD)
def test_bad_input_is_an_input_error(make: object, code: str) -> None:
    with pytest.raises(InputError) as err:
        make()  # type: ignore[operator]
    assert err.value.codes == [code]


def test_whole_floats_are_accepted_as_integers() -> None:
    game = pw.weighted_game(12.0, [4.0, 4, 4, 2, 2, 1])  # type: ignore[arg-type]
    assert game.weights == ((4, 4, 4, 2, 2, 1),) and isinstance(game.quotas[0], int)
