"""Who can block what: voting power under the ratification rules and in the convention (issue 14).

Each ratification rule of :func:`revshare.ratify` becomes a voting game in which every region (or
bloc) votes as one block, weighted by its population (:mod:`revshare.analyses.power` computes the
indices exactly):

- ``majority``: a majority of all voters, ``[P/2+; populations]``;
- ``double-majority``: that and a majority of the regions (a count quota);
- ``iraq-2005``: a majority of all voters, and no three governorates against (two thirds against
  in a governorate voting as one block is all of it): a count quota of ``n - 2``;
- ``bloc-veto``: every bloc must approve, so among blocs only unanimity wins.

A convention's seats (:func:`revshare.apportion_territory`) are a weighted game on seats with a
majority quota. Block voting is the assumption to state beside every figure: a governorate's
voters split in a real referendum.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from ..data.dataset import Territory, require_territory
from ..errors import InputError, Problem, wrong_type
from .convention import Apportionment
from .power import Power, VotingGame, double_majority, power, quota_for, weighted_game
from .referendum import RULES

VOTERS = ("region", "bloc")
"""Who votes as one block in :func:`rule_power`."""
POWER_COLUMNS = ["player", "weight", "banzhaf", "banzhaf_absolute", "shapley_shubik"]


def _weights(t: Territory, by: str) -> pd.Series:
    pop = t.regions["population"].astype(float)
    if by == "bloc":
        pop = pop.groupby(t.regions["bloc"].astype(str)).sum()
    rounded = pop.round()
    if not (rounded == pop).all():  # populations are whole in the readers; a frame may not be
        raise InputError(
            Problem(
                "population",
                None,
                "population",
                "E-NOT-INTEGER",
                "voting weights must be whole people",
                "round them",
            )
        )
    return rounded.astype("int64")


def rule_game(t: Territory, rule: str, by: str = "region") -> tuple[list[str], VotingGame]:
    """The voting game of a ratification rule, its players (regions or blocs) in order."""
    if rule not in RULES:
        raise InputError(
            Problem(
                "rule",
                None,
                None,
                "E-USAGE",
                f"unknown rule {rule!r}",
                f"use one of {', '.join(RULES)}",
            )
        )
    if by not in VOTERS:
        raise InputError(
            Problem(
                "by", None, None, "E-USAGE", f"by must be 'region' or 'bloc', got {by!r}", "fix it"
            )
        )
    w = _weights(t, by)
    players, weights = [str(p) for p in w.index], [int(v) for v in w]
    total, n = sum(weights), len(weights)
    majority = quota_for(total, Fraction(1, 2))
    if rule == "majority":
        return players, weighted_game(majority, weights)
    if rule == "double-majority":
        return players, double_majority(majority, weights, quota_for(n, Fraction(1, 2)))
    if rule == "iraq-2005":
        return players, double_majority(majority, weights, max(n - 2, 0))
    return players, weighted_game(total, weights)  # bloc-veto: every player must approve


def _table(players: list[str], weights: list[int], p: Power) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "player": players,
            "weight": weights,
            "banzhaf": [float(v) for v in p.banzhaf],
            "banzhaf_absolute": [float(v) for v in p.banzhaf_absolute],
            "shapley_shubik": [float(v) for v in p.shapley_shubik],
        },
        columns=POWER_COLUMNS,
    )


def rule_power(t: Territory, rule: str, by: str = "region") -> pd.DataFrame:
    """Each region's (or bloc's) power under a ratification rule, block voting assumed."""
    require_territory(t, "t")
    players, game = rule_game(t, rule, by)
    return _table(players, [int(v) for v in _weights(t, by)], power(game))


def seat_power(a: Apportionment, share: Fraction = Fraction(1, 2)) -> pd.DataFrame:
    """Each locality's power in a convention that decides by more than ``share`` of its seats."""
    if not isinstance(a, Apportionment):
        raise wrong_type("a", "an Apportionment", a, "make one with revshare.apportion_territory")
    players = sorted(a.seats)
    seats = [int(a.seats[p]) for p in players]
    game = weighted_game(quota_for(sum(seats), share), seats)
    return _table(players, seats, power(game))
