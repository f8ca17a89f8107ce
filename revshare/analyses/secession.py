"""The secession referendum after N years (Sudan 2005's clause; docs/design.md#guarantees-coalitions-and-power).

Each bloc (or each region) judges the deal by what it delivered during the interim period: the
periods of the price path that start before the vote, ``vote_after`` years in. Its money over
those periods under the structure (from :func:`optimize_periods`, each period verified) is set
against its outside option over the same periods: what it would have had as a state of its own at
each period's price, less ``secession_cost`` and ``secession_fixed_cost_usd`` (for a region alone,
its own fields' revenue: fees are agreed between blocs). Both are discounted at ``discount_rate``
a year to the start of the path. The difference a head a year is the voters' *gain from staying*.

Vote models, as :func:`ratify`'s: ``deterministic`` (everyone leaves when the gain is below
``margin`` USD a head a year) and ``logistic`` (each voter leaves with probability
``1 / (1 + exp((gain - margin) / logistic_scale_usd))``, votes drawn as one binomial per group
with ``numpy.random.default_rng(seed)`` in sorted order). A group leaves when more than half of its
people vote to leave, decided in whole numbers.

With Monte Carlo price paths (:func:`secession_odds`), the probability that each group votes to
leave is the share of the paths in which it does.

Every period's allocation is solved as :func:`optimize` solves it, with the ``solver``,
``time_limit``, ``solver_options`` and ``cross_check`` given (with a fund, the path is one HiGHS
model: only ``time_limit`` applies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import Territory
from ..data.scenarios import PriceModel, price_paths
from ..data.structures import Structure, apply_overrides, resolve
from ..errors import InputError, Problem, wrong_type
from ..solve.program import solver_config
from .optimize import optimize
from .periods import Fund, optimize_periods
from .referendum import LOGISTIC_SCALE_USD, MAX_USD_PER_HEAD, VOTE_MODELS

VOTERS = ("bloc", "region")
"""Who votes on leaving."""
MAX_RATE = 1.0
"""The largest discount rate a year (100%)."""
VOTE_COLUMNS = [
    "group",
    "population",
    "money_usd",
    "option_usd",
    "gain_usd_per_head_a_year",
    "leave_votes",
    "leaves",
]


@dataclass(frozen=True)
class SecessionVote:
    """One referendum: ``votes`` has a row per group (:data:`VOTE_COLUMNS`)."""

    structure: str
    by: str
    vote_after: float
    discount_rate: float
    vote_model: str
    votes: pd.DataFrame

    @property
    def leaving(self) -> list[str]:
        return [str(g) for g in self.votes.loc[self.votes["leaves"], "group"]]


def _check(
    vote_after: float, discount_rate: float, by: str, vote_model: str, margin: float, scale: float
) -> None:
    problems = []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(name, None, None, "E-RANGE", message, "fix it"))

    if not (isinstance(vote_after, int | float) and 0 < vote_after <= 50):
        bad("vote_after", f"must be a number of years in (0, 50], got {vote_after!r}")
    if not (isinstance(discount_rate, int | float) and 0 <= discount_rate <= MAX_RATE):
        bad("discount_rate", f"must be in [0, {MAX_RATE:g}] a year, got {discount_rate!r}")
    if by not in VOTERS:
        bad("by", f"must be 'bloc' or 'region', got {by!r}")
    if vote_model not in VOTE_MODELS:
        bad("vote_model", f"must be one of {', '.join(VOTE_MODELS)}, got {vote_model!r}")
    if not (isinstance(margin, int | float) and abs(margin) <= MAX_USD_PER_HEAD):
        bad("margin", f"must be within +-{MAX_USD_PER_HEAD:g} USD a head, got {margin!r}")
    if not (isinstance(scale, int | float) and 0 < scale <= MAX_USD_PER_HEAD):
        bad("logistic_scale_usd", f"must be in (0, {MAX_USD_PER_HEAD:g}], got {scale!r}")
    if problems:
        raise InputError(problems)


def _served_money(
    t: Territory,
    s: Structure,
    path: pd.DataFrame,
    by: str,
    fund: Fund | None,
    solving: Mapping[str, Any],
) -> np.ndarray:
    """Each group's money a year in each period, in the served view (its own money, and a head
    that of every government serving it, the centre's included): (groups, periods).

    Without a fund each period is its own verified :func:`optimize` at its price, so that deals
    are voted on too; with a fund the path is :func:`optimize_periods`' (which has no deals)."""
    names = list(t.blocs) if by == "bloc" else [str(r) for r in t.regions.index]
    if fund is None:
        columns = []
        for price in path["price"].to_numpy(dtype=float):
            a = optimize(t, s, price=price, **solving)
            table = a.blocs if by == "bloc" else a.regions
            served = (table["usd_per_head_served"] * table["population"]).to_numpy(dtype=float)
            columns.append(pd.Series(served, index=table[by].map(str)).reindex(names).to_numpy())
        return np.column_stack(columns)
    _highs_only(solving)
    p = optimize_periods(
        t, s, path.reset_index(drop=True), fund=fund, time_limit=solving["time_limit"]
    )
    per_head = p.periods[[f"bloc:{n}" for n in names]] if by == "bloc" else None
    if per_head is None:
        raise InputError(
            Problem(
                "by",
                None,
                None,
                "E-USAGE",
                "a vote by region with a fund is not supported",
                "vote by bloc",
            )
        )
    heads = t.regions["population"].astype(float).groupby(t.regions["bloc"].astype(str)).sum()
    centre = p.periods["centre_usd"].to_numpy(dtype=float) / path["years"].to_numpy(dtype=float)
    share = heads.reindex(names).to_numpy() / t.population
    return (per_head.to_numpy() * heads.reindex(names).to_numpy()).T + np.outer(share, centre)


def _highs_only(solving: Mapping[str, Any]) -> None:
    """A path with a fund is one HiGHS model (:func:`optimize_periods`): refuse another solver,
    its options or a cross-check rather than ignore them."""
    given = [
        name
        for name, on in (
            ("solver", solving["solver"] != "highs"),
            ("solver_options", bool(solving["solver_options"])),
            ("cross_check", solving["cross_check"]),
        )
        if on
    ]
    if given:
        raise InputError(
            Problem(
                given[0],
                None,
                None,
                "E-USAGE",
                "a vote with a fund solves the whole path as one HiGHS model",
                f"drop {', '.join(given)}, or the fund",
            )
        )


def secession_vote(
    territory: Territory,
    structure: Structure | str,
    path: pd.DataFrame,
    *,
    vote_after: float,
    discount_rate: float = 0.0,
    by: str = "bloc",
    vote_model: str = "deterministic",
    margin: float = 0.0,
    logistic_scale_usd: float = LOGISTIC_SCALE_USD,
    seed: int = 0,
    fund: Fund | None = None,
    overrides: list[str] | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> SecessionVote:
    """The referendum ``vote_after`` years into ``path`` (``period, price, years``).

    ``solver``, ``time_limit``, ``solver_options`` and ``cross_check`` are as
    :func:`revshare.optimize` takes them, for every period's allocation (with a ``fund``, only
    ``time_limit``: another solver, its options or a cross-check is an InputError).

    Raises
    ------
    InputError
        a bad parameter or solver option, before anything is solved.
    InfeasibleError, NotOptimalError, SolverUnavailableError
        as :func:`optimize` does, for any period.
    """
    if not isinstance(path, pd.DataFrame):
        raise wrong_type(
            "path", "a price path table", path, "read one with revshare.read_periods(file)"
        )
    _check(vote_after, discount_rate, by, vote_model, margin, logistic_scale_usd)
    config = solver_config(solver, time_limit, solver_options)  # a bad option fails first
    solving: dict[str, Any] = {
        "solver": solver,
        "time_limit": time_limit,
        "solver_options": dict(config.options),
        "cross_check": cross_check,
    }
    s = structure if isinstance(structure, Structure) else resolve(structure, territory.structures)
    s = apply_overrides(s, overrides or [])
    years = path["years"].to_numpy(dtype=float)
    start = np.concatenate([[0.0], np.cumsum(years)[:-1]])
    interim = start < vote_after
    if not interim.any():
        raise InputError(
            Problem(
                "vote_after", None, None, "E-RANGE", "no period starts before the vote", "fix it"
            )
        )
    weight = (1 + discount_rate) ** -start[interim] * years[interim]  # discounted years
    bloc = territory.regions["bloc"].astype(str)
    money = _served_money(territory, s, path.loc[interim], by, fund, solving) @ weight
    prices = path.loc[interim, "price"].to_numpy(dtype=float)
    m = territory.money(prices)
    own = m.outside if by == "bloc" else m.region  # USD a year at each period's price
    names = list(territory.blocs) if by == "bloc" else [str(r) for r in territory.regions.index]
    option = ((1 - s.secession_cost) * own - s.secession_fixed_cost_usd).T @ weight
    pop = territory.regions["population"].astype(float)
    heads = pop.groupby(bloc).sum() if by == "bloc" else pop
    heads.index = heads.index.map(str)
    rows = []
    rng = np.random.default_rng(seed)
    for name, o, got in zip(names, option, money, strict=True):
        population = float(heads.get(name, 0.0))
        gain = (got - o) / population / weight.sum() if population > 0 else 0.0
        voters = round(population)
        if vote_model == "deterministic":
            leave = voters if gain < margin else 0
        else:
            z = np.clip((gain - margin) / logistic_scale_usd, -700, 700)
            leave = int(rng.binomial(voters, 1.0 / (1.0 + np.exp(z))))
        rows.append(
            {
                "group": name,
                "population": population,
                "money_usd": got,
                "option_usd": float(o),
                "gain_usd_per_head_a_year": gain,
                "leave_votes": leave,
                "leaves": 2 * leave > voters,
            }
        )
    return SecessionVote(
        s.name,
        by,
        float(vote_after),
        float(discount_rate),
        vote_model,
        pd.DataFrame(rows, columns=VOTE_COLUMNS),
    )


def secession_odds(
    territory: Territory,
    structure: Structure | str,
    model: PriceModel,
    *,
    paths: int,
    vote_after: int,
    seed: int = 0,
    **options: object,
) -> pd.DataFrame:
    """The probability that each group votes to leave, over ``paths`` Monte Carlo annual price
    paths of ``vote_after`` years from ``model`` (:func:`revshare.data.scenarios.price_paths`).
    ``options`` are :func:`secession_vote`'s, ``solver``, ``time_limit``, ``solver_options`` and
    ``cross_check`` included."""
    table = price_paths(paths, vote_after, model, seed)
    leaves: dict[str, int] = {}
    for _, path in table.groupby("scenario", sort=False):
        vote = secession_vote(
            territory,
            structure,
            path[["period", "price", "years"]].reset_index(drop=True),
            vote_after=vote_after,
            seed=seed,
            **options,  # type: ignore[arg-type]
        )
        for group, left in zip(vote.votes["group"], vote.votes["leaves"], strict=True):
            leaves[group] = leaves.get(group, 0) + int(left)
    return pd.DataFrame(
        {"group": list(leaves), "probability_of_leaving": [v / paths for v in leaves.values()]}
    )
