"""The core, least core and nucleolus: hand-computed games, textbook values, brute force."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence, Set
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from revshare.analyses import games as gm
from revshare.errors import InputError
from revshare.solve.solver import SolverConfig

Coalition = frozenset[int]
TOL = 1e-6


def game_of(n: int, worth: Callable[[Coalition], float], grand: float, **kw: object) -> gm.Game:
    return gm.Game(n, worth, grand, **kw)  # type: ignore[arg-type]


def pairs_game(v12: float, v13: float, v23: float, grand: float = 100.0) -> gm.Game:
    table = {frozenset([0, 1]): v12, frozenset([0, 2]): v13, frozenset([1, 2]): v23}
    return game_of(3, lambda s: table.get(s, 0.0), grand)


def bankruptcy(estate: float, claims: Sequence[float], **kw: object) -> gm.Game:
    """v(S) = what is left for S once everyone outside is paid in full (O'Neill 1982)."""
    total = sum(claims)
    return game_of(
        len(claims), lambda s: max(0.0, estate - (total - sum(claims[i] for i in s))), estate, **kw
    )


def glove(left: int, right: int) -> gm.Game:
    """Players 0..left-1 hold a left glove, the others a right one; a pair is worth 1."""
    return game_of(
        left + right,
        lambda s: float(min(sum(i < left for i in s), sum(i >= left for i in s))),
        float(min(left, right)),
    )


# (name, game, least core epsilon, nucleolus), each worked by hand in the comment
HAND = [
    # any two of three share 1: the three pair rows sum to 2 x(N) = 2 >= 3 + 3 eps, so
    # eps = -1/3; by symmetry the nucleolus is the equal split
    ("majority of three", game_of(3, lambda s: float(len(s) >= 2), 1.0), -1 / 3, [1 / 3] * 3),
    # pairs worth 1/2: at the equal split singles get 1/3 and pairs 2/3 - 1/2 = 1/6 = eps > 0
    ("pairs worth 1/2", game_of(3, lambda s: 0.5 * (len(s) == 2), 1.0), 1 / 6, [1 / 3] * 3),
    # v12 = 60, v13 = 80: x2 and 20 - x2 (pair 13) cap the least excess at 10 (x2 = 10); then x3
    # and 40 - x3 (pair 12) meet at x3 = 20, level 20; x1 = 70. The core is not empty.
    ("v12=60 v13=80", pairs_game(60, 80, 0), 10.0, [70.0, 10.0, 20.0]),
    # v12 + v13 + v23 = 210 > 2 v(N): empty core. The pair rows sum: 200 >= 210 + 3 eps,
    # eps = -10/3; all three tight fix x_i = 100 - (v_jk - 10/3)
    ("empty core", pairs_game(80, 70, 60), -10 / 3, [130 / 3, 100 / 3, 70 / 3]),
    # one left glove, two right ones: the core is the single point (1, 0, 0)
    ("glove 1 left 2 right", glove(1, 2), 0.0, [1.0, 0.0, 0.0]),
    # two and two: the core is (a, a, 1 - a, 1 - a); symmetry picks a = 1/2
    ("glove 2 left 2 right", glove(2, 2), 0.0, [0.5] * 4),
    # Aumann and Maschler, J. Econ. Theory 36, 1985, 195-213: the Talmud's estates 100, 200, 300
    # for claims 100, 200, 300 are the nucleolus of the bankruptcy game
    ("Talmud estate 100", bankruptcy(100, [100, 200, 300]), 100 / 3, [100 / 3] * 3),
    ("Talmud estate 200", bankruptcy(200, [100, 200, 300]), 50.0, [50.0, 75.0, 75.0]),
    ("Talmud estate 300", bankruptcy(300, [100, 200, 300]), 50.0, [50.0, 100.0, 150.0]),
]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize(("name", "game", "epsilon", "nucleolus"), HAND, ids=[h[0] for h in HAND])
def test_hand_computed(
    name: str, game: gm.Game, epsilon: float, nucleolus: list[float], solver: str
) -> None:
    config = SolverConfig(solver)
    lc = gm.least_core(game, config)
    assert lc.epsilon == pytest.approx(epsilon, abs=TOL)
    assert lc.core_empty == (epsilon < 0)
    assert min(gm.excesses(game, lc.allocation).values()) == pytest.approx(epsilon, abs=TOL)
    nu = gm.nucleolus(game, config)
    # CBC's values carry 8 significant digits (docs/design.md#cbcs-eight-digits)
    assert nu.allocation == pytest.approx(nucleolus, rel=1e-7, abs=TOL)
    assert nu.levels[0] == pytest.approx(epsilon, abs=TOL)
    assert nu.method == "enumeration"
    assert gm.core_check(game, nu.allocation).in_core == (epsilon >= 0)


@pytest.mark.parametrize(
    ("x", "in_core", "coalition", "excess"),
    [
        ((70.0, 10.0, 20.0), True, {1}, 10.0),
        ((90.0, 5.0, 5.0), True, {1}, 5.0),
        ((40.0, 30.0, 30.0), False, {0, 2}, -10.0),  # 40 + 30 - 80
        ((70.0, 10.0, 21.0), False, {1}, 10.0),  # pays out 101 of 100
        ((80.0, -1.0, 21.0), False, {1}, -1.0),
    ],
)
def test_core_check(
    x: tuple[float, ...], in_core: bool, coalition: set[int], excess: float
) -> None:
    got = gm.core_check(pairs_game(60, 80, 0), x)
    assert (got.in_core, set(got.coalition)) == (in_core, coalition)
    assert got.excess == pytest.approx(excess)
    assert got.efficiency_gap == pytest.approx(sum(x) - 100)


def talmud(estate: float, claims: Sequence[float]) -> list[float]:
    """The Talmud rule by bisection (Aumann and Maschler 1985): constrained equal awards of the
    half-claims up to half the claims, constrained equal losses beyond."""
    half = [c / 2 for c in claims]

    def awards(level: float) -> list[float]:
        if estate <= sum(half):
            return [min(h, level) for h in half]
        return [c - min(h, level) for c, h in zip(claims, half, strict=True)]

    lo, hi = 0.0, max(claims)
    for _ in range(200):
        mid = (lo + hi) / 2
        paid = sum(awards(mid))
        grows = estate <= sum(half)
        if (paid < estate) == grows:
            lo = mid
        else:
            hi = mid
    return awards((lo + hi) / 2)


claims_st = st.lists(st.integers(1, 50), min_size=2, max_size=6)


@given(claims_st, st.floats(0.05, 0.95))
def test_bankruptcy_nucleolus_is_the_talmud_rule(claims: list[int], share: float) -> None:
    estate = round(share * sum(claims), 3)
    got = gm.nucleolus(bankruptcy(estate, claims))
    assert got.allocation == pytest.approx(talmud(estate, claims), abs=1e-6 * sum(claims))


def lex_not_below(a: list[float], b: list[float], tol: float) -> bool:
    """Whether sorted vector ``a`` is lexicographically at least ``b`` (up to ``tol``)."""
    for u, w in zip(sorted(a), sorted(b), strict=True):
        if u > w + tol:
            return True
        if u < w - tol:
            return False
    return True


small_games = st.integers(2, 4).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.integers(0, 20), min_size=2**n - 2, max_size=2**n - 2),
        st.integers(0, 30),
    )
)


def table_game(n: int, worths: list[int], grand: int) -> gm.Game:
    coalitions = [frozenset(c) for r in range(1, n) for c in itertools.combinations(range(n), r)]
    return gm.Game(n, dict(zip(coalitions, map(float, worths), strict=True)), float(grand))


def has_imputations(game: gm.Game) -> bool:
    return sum(game.v(frozenset([i])) for i in range(game.n)) <= game.grand


@pytest.mark.parametrize("imputations", [True, False])
@given(spec=small_games, rng=st.randoms(use_true_random=False))
def test_nucleolus_beats_random_and_nearby_allocations(
    spec: tuple[int, list[int], int], rng: random.Random, imputations: bool
) -> None:
    """Brute force: no imputation (efficient allocation, for the prenucleolus) has a
    lexicographically larger sorted excess vector."""
    n, worths, grand = spec
    game = table_game(n, worths, grand)
    assume(has_imputations(game) or not imputations)
    nu = list(gm.nucleolus(game, imputations=imputations).allocation)
    best = list(gm.excesses(game, nu).values())
    own = [game.v(frozenset([i])) for i in range(n)]
    for k in range(60):
        if k % 2:  # a point near the nucleolus, still efficient
            step = [rng.uniform(-1, 1) for _ in range(n)]
            mean = sum(step) / n
            x = [a + 0.01 * (s - mean) for a, s in zip(nu, step, strict=True)]
        elif imputations:  # own worths plus a random split of the rest
            cuts = sorted(rng.uniform(0, grand - sum(own)) for _ in range(n - 1))
            x = [o + d for o, d in zip(own, np.diff([0.0, *cuts, grand - sum(own)]), strict=True)]
        else:  # anywhere, efficient
            x = [rng.uniform(-20, 40) for _ in range(n - 1)]
            x.append(grand - sum(x))
        if imputations and any(xi < o for xi, o in zip(x, own, strict=True)):
            continue
        assert lex_not_below(best, list(gm.excesses(game, x).values()), 1e-7)


def test_nucleolus_and_prenucleolus_differ_off_the_imputations() -> None:
    """v({0}) = 1/2, v({1, 2}) = 1 = v(N). Over all efficient x the excesses x0 - 1/2 and
    x1 + x2 - 1 = -x0 meet at x0 = 1/4: the prenucleolus (1/4, 3/8, 3/8) pays player 0 below
    its own worth. Over imputations x0 >= 1/2, so -x0 is best at x0 = 1/2, and the rest is
    split evenly: the nucleolus (1/2, 1/4, 1/4)."""
    table = {frozenset([0]): 0.5, frozenset([1, 2]): 1.0}
    game = game_of(3, lambda s: table.get(s, 0.0), 1.0)
    assert gm.nucleolus(game).allocation == pytest.approx([0.5, 0.25, 0.25], abs=TOL)
    pre = gm.nucleolus(game, imputations=False)
    assert pre.allocation == pytest.approx([0.25, 0.375, 0.375], abs=TOL)
    assert pre.levels[0] == pytest.approx(gm.least_core(game).epsilon, abs=TOL)


def bondareva_shapley_3(game: gm.Game) -> bool:
    """A 3-player core is non-empty iff every minimal balanced collection is covered by v(N)
    (Bondareva 1963, Shapley 1967): the partitions and the three pairs with weights 1/2."""
    v = game.v
    one = [v(frozenset([i])) for i in range(3)]
    pair = {k: v(frozenset({0, 1, 2} - {k})) for k in range(3)}
    return (
        sum(one) <= game.grand + 1e-9
        and all(one[k] + pair[k] <= game.grand + 1e-9 for k in range(3))
        and sum(pair.values()) <= 2 * game.grand + 1e-9
    )


@given(st.lists(st.integers(-5, 20), min_size=6, max_size=6), st.integers(0, 30))
def test_least_core_epsilon_is_nonnegative_iff_the_core_is_not_empty(
    worths: list[int], grand: int
) -> None:
    game = table_game(3, worths, grand)
    lc = gm.least_core(game)
    assert (lc.epsilon >= -TOL) == bondareva_shapley_3(game)
    if lc.epsilon >= -TOL:
        # core allocations have no negative excess
        for x in (lc.allocation, gm.nucleolus(game).allocation):
            assert min(gm.excesses(game, x).values()) >= -TOL
            assert gm.core_check(game, x).in_core


def shapley_value(game: gm.Game) -> list[float]:
    n = game.n
    out = [0.0] * n
    for order in itertools.permutations(range(n)):
        before: frozenset[int] = frozenset()
        for i in order:
            after = before | {i}
            worth = game.grand if len(after) == n else game.v(after)
            out[i] += worth - (game.v(before) if before else 0.0)
            before = after
    return [o / math.factorial(n) for o in out]


@given(claims_st.filter(lambda c: len(c) <= 5), st.floats(0.05, 0.95))
def test_convex_games_have_their_shapley_value_in_the_core(claims: list[int], share: float) -> None:
    """Bankruptcy games are convex, so their Shapley value is a core point (Shapley 1971): an
    allocation found without any LP."""
    game = bankruptcy(share * sum(claims), claims)
    x = shapley_value(game)
    assert gm.core_check(game, x).in_core
    assert min(gm.excesses(game, x).values()) >= -TOL
    assert not gm.least_core(game).core_empty


@given(small_games)
def test_symmetric_players_get_the_same_nucleolus(spec: tuple[int, list[int], int]) -> None:
    """Make players 0 and 1 symmetric (swapping them maps each coalition's worth onto itself)."""
    n, worths, grand = spec
    base = table_game(n, worths, grand)
    swap = {0: 1, 1: 0}

    def worth(s: Coalition) -> float:
        mirrored = frozenset(swap.get(i, i) for i in s)
        return max(base.v(s), base.v(mirrored))

    game = game_of(n, worth, float(grand))
    for imputations in (True, False)[not has_imputations(game) :]:
        nu = gm.nucleolus(game, imputations=imputations).allocation
        assert nu[0] == pytest.approx(nu[1], abs=TOL)


def brute_oracle(n: int, v: Callable[[Coalition], float]) -> gm.Separation:
    """A separation oracle by enumeration, honouring ``exclude``: what a real oracle (a small
    integer program over the blocs) returns."""
    masks = np.arange(1, (1 << n) - 1)
    rows = ((masks[:, None] >> np.arange(n)) & 1).astype(float)
    members = [frozenset(np.flatnonzero(r).tolist()) for r in rows]
    worth = np.array([v(s) for s in members])

    def separate(x: Sequence[float], exclude: Set[Coalition]) -> Coalition | None:
        e = rows @ np.asarray(x) - worth
        for s in exclude:
            e[sum(1 << i for i in s) - 1] = np.inf
        k = int(np.argmin(e))
        return None if np.isinf(e[k]) else members[k]

    return separate


@given(small_games)
def test_separation_oracle_agrees_with_enumeration(spec: tuple[int, list[int], int]) -> None:
    exact = table_game(*spec)
    oracle = gm.Game(exact.n, exact.value, exact.grand, separation=brute_oracle(exact.n, exact.v))
    a, b = gm.least_core(exact), gm.least_core(oracle)
    assert (a.method, b.method) == ("enumeration", "separation oracle")
    assert b.epsilon == pytest.approx(a.epsilon, abs=TOL)
    for imputations in (True, False)[not has_imputations(exact) :]:
        assert gm.nucleolus(oracle, imputations=imputations).allocation == pytest.approx(
            gm.nucleolus(exact, imputations=imputations).allocation, abs=TOL
        )
    for x in (a.allocation, [exact.grand / exact.n] * exact.n):
        by_oracle, by_enumeration = gm.core_check(oracle, x), gm.core_check(exact, x)
        assert by_oracle.in_core == by_enumeration.in_core
        assert by_oracle.excess == pytest.approx(by_enumeration.excess)


@pytest.mark.parametrize("n", [8, pytest.param(18, marks=pytest.mark.slow)])
def test_bankruptcy_beyond_enumeration(n: int) -> None:
    """18 players are past :data:`EXACT_PLAYERS`: constraint generation with an oracle gives
    the Talmud rule (8 players: the same path, forced by giving an oracle)."""
    claims = [10 + 7 * i for i in range(n)]
    estate = 0.4 * sum(claims)
    total = sum(claims)

    def worth(s: Coalition) -> float:
        return max(0.0, estate - (total - sum(claims[i] for i in s)))

    game = game_of(n, worth, estate, separation=brute_oracle(n, worth))
    got = gm.nucleolus(game)
    assert got.method == "separation oracle"
    assert got.allocation == pytest.approx(talmud(estate, claims), abs=1e-6 * estate)


def test_mapping_and_callable_agree() -> None:
    worths = {
        frozenset(s): float(len(s) ** 2)
        for r in (1, 2)
        for s in itertools.combinations(range(3), r)
    }
    a = gm.nucleolus(gm.Game(3, worths, 10.0))
    b = gm.nucleolus(game_of(3, lambda s: float(len(s) ** 2), 10.0))
    assert a.allocation == pytest.approx(b.allocation)
    assert a.allocation == pytest.approx([10 / 3] * 3)


def test_scale_does_not_change_the_answer() -> None:
    """USD-sized worths (1e10) are solved in units of the largest worth."""
    small = gm.nucleolus(pairs_game(60, 80, 0))
    big = gm.nucleolus(pairs_game(60e8, 80e8, 0, grand=100e8))
    assert [v / 1e8 for v in big.allocation] == pytest.approx(small.allocation, abs=TOL)


def test_fractions_as_worths() -> None:
    game = game_of(3, lambda s: Fraction(len(s) >= 2), 1.0)  # type: ignore[arg-type,return-value]
    assert gm.least_core(game).epsilon == pytest.approx(-1 / 3)


def _bad_oracle(x: Sequence[float], exclude: Set[Coalition]) -> Coalition | None:
    return frozenset(range(3))


BAD = [
    (lambda: gm.nucleolus(game_of(3, lambda s: 1.0, 2.0)), "E-RANGE"),  # no imputation
    (lambda: game_of(1, lambda s: 0.0, 1.0), "E-RANGE"),
    (lambda: game_of(17, lambda s: 0.0, 1.0), "E-USAGE"),
    (lambda: game_of(3, lambda s: 0.0, math.inf), "E-NON-FINITE"),
    (lambda: game_of(3, lambda s: 0.0, "1"), "E-NOT-A-NUMBER"),  # type: ignore[arg-type]
    (lambda: gm.least_core(game_of(3, lambda s: "1", 1.0)), "E-NOT-A-NUMBER"),  # type: ignore[arg-type,return-value]
    (lambda: gm.least_core(gm.Game(3, {frozenset([0]): 1.0}, 1.0)), "E-MISSING-VALUE"),
    (lambda: gm.least_core(game_of(3, lambda s: math.nan, 1.0)), "E-NON-FINITE"),
    (lambda: gm.core_check(game_of(3, lambda s: 0.0, 1.0), [1.0, 0.0]), "E-USAGE"),
    (lambda: gm.core_check(game_of(3, lambda s: 0.0, 1.0), [1.0, 0.0, math.nan]), "E-USAGE"),
    (lambda: gm.least_core(game_of(3, lambda s: 0.0, 1.0, separation=_bad_oracle)), "E-RANGE"),
    (
        lambda: gm.excesses(game_of(17, lambda s: 0.0, 1.0, separation=_bad_oracle), [0] * 17),
        "E-RANGE",
    ),
]


@pytest.mark.parametrize(("make", "code"), BAD)
def test_bad_input_is_an_input_error(make: Callable[[], object], code: str) -> None:
    with pytest.raises(InputError) as err:
        make()
    assert err.value.codes == [code]


@pytest.mark.parametrize(("name", "game", "epsilon", "nucleolus"), HAND, ids=[h[0] for h in HAND])
def test_check_lps_fix_the_same_coalitions_as_duals(
    name: str,
    game: gm.Game,
    epsilon: float,
    nucleolus: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every dual hidden, the check LPs (one per candidate coalition) decide what to fix."""
    monkeypatch.setattr(gm, "DUAL_EPSILON", math.inf)
    got = gm.nucleolus(game)
    assert got.allocation == pytest.approx(nucleolus, abs=TOL)
    assert got.solves > len(got.levels)  # the check LPs ran
