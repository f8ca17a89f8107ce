"""Referendums: would the voters ratify a proposal, judged by what it does to their money?

Each cell's voters compare their money per head under the proposal with the status quo:
``level_per_head`` (the oil money a head gets plus the region's non-oil baseline) plus the centre's
slice spread equally over every person (and, under a deal, each government's money over the people
it serves), the view :mod:`revshare.analyses.compare` ranks structures by, so that national
spending counts for every voter. Votes are
counted as whole numbers and every rule is decided by integer comparisons, so a threshold such as
"two thirds" is met or missed exactly.

Vote models
-----------
``deterministic``
    All of a cell's voters vote yes when ``proposal - status_quo >= margin`` (USD a head, to within
    :data:`DIFFERENCE_TOLERANCE_USD`, half a cent, since the solver's per-head amounts are exact to
    far less than that but not to the last bit); otherwise all vote no.
``logistic``
    Each voter votes yes independently with probability
    ``1 / (1 + exp(-(proposal - status_quo - margin) / logistic_scale_usd))``: even odds at the
    margin, and a gain of one scale unit above it raises the odds e-fold. A cell's yes votes are
    one binomial draw from ``numpy.random.default_rng(seed)``, cells in sorted (region, faction)
    order, so a seed reproduces a result whatever the input row order. A random-utility (logit)
    model of voting on self-interest (D. McFadden, in *Frontiers in Econometrics*, 1974); the
    scale is a free parameter to vary, not an estimate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import Territory, require_territory
from ..data.structures import Structure, apply_overrides, resolve
from ..errors import InputError, Problem
from .optimize import Allocation, optimize

DIFFERENCE_TOLERANCE_USD = 0.005
LOGISTIC_SCALE_USD = 100.0
MAX_USD_PER_HEAD = 1e9
"""The range of the margin and the logistic scale, USD a head: far beyond any money per head (a
dataset's whole revenue is at most 1e15 USD a year), so that every difference stays exact."""
VOTE_MODELS = ("deterministic", "logistic")


@dataclass(frozen=True)
class Tally:
    """Whole-number votes by region (indexed, with ``bloc``) and by bloc, as the rules see them."""

    regions: pd.DataFrame
    blocs: pd.DataFrame

    @property
    def yes(self) -> int:
        return int(self.regions["yes"].sum())

    @property
    def voters(self) -> int:
        return int(self.regions["voters"].sum())


Decision = tuple[bool, str, list[str]]


@dataclass(frozen=True)
class Rule:
    """A ratification rule: ``decide`` returns the verdict, the reason and who decided it."""

    name: str
    description: str
    citation: str
    decide: Callable[[Tally], Decision]


def _majority_of(yes: int, voters: int) -> bool:
    return 2 * yes > voters


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _regions_with_majority(t: Tally, yes: bool) -> list[str]:
    r = t.regions
    return [
        str(n)
        for n, y, v in zip(r.index, r["yes"], r["voters"], strict=True)
        if _majority_of(int(y), int(v)) == yes
    ]


def _majority(t: Tally) -> Decision:
    """More than half of all votes cast are yes (Swiss Federal Constitution, art. 142(1)).

    Deciding: the regions whose own majority sided with the result."""
    ok = _majority_of(t.yes, t.voters)
    reason = (
        f"{'ratified' if ok else 'rejected'}: {_pct(t.yes, t.voters)} of {t.voters:,} "
        "voters voted yes; more than half is needed"
    )
    return ok, reason, _regions_with_majority(t, ok)


def _double_majority(t: Tally) -> Decision:
    """A majority of all votes and a yes majority in a majority of regions (Swiss Federal
    Constitution, art. 142(2)-(3), people and cantons; Australian Constitution, s. 128).

    Deciding: the regions with a yes majority when it passes, the others when it fails."""
    carried = _regions_with_majority(t, True)
    n = len(t.regions)
    overall = _majority_of(t.yes, t.voters)
    regional = 2 * len(carried) > n
    ok = overall and regional
    reason = (
        f"{'ratified' if ok else 'rejected'}: {_pct(t.yes, t.voters)} yes overall "
        f"({'a majority' if overall else 'no majority'}) and a yes majority in "
        f"{len(carried)} of {n} regions ({n // 2 + 1} needed)"
    )
    return ok, reason, carried if ok else _regions_with_majority(t, False)


def _iraq_2005(t: Tally) -> Decision:
    """Ratified when a majority of voters approve and two thirds of the voters in three or more
    governorates do not reject it: Law of Administration for the State of Iraq for the
    Transitional Period (2004), art. 61(C); Constitution of Iraq (2005), art. 142(4).

    "Voters" are votes cast (the 5 October 2005 reading); two thirds means ``3 * no >= 2 * votes``.
    When it is rejected, the deciding governorates are those with two thirds voting no (or, without
    three of them, those with no yes majority); when it passes, they are the three nearest to a veto
    (highest no share, then smallest gain per head), with every governorate tied for third place.
    """
    r = t.regions
    no_share = {
        str(n): Fraction(int(no), int(v))
        for n, no, v in zip(r.index, r["no"], r["voters"], strict=True)
    }
    veto = sorted(n for n, s in no_share.items() if s >= Fraction(2, 3))
    listed = ", ".join(f"{n} {float(no_share[n]):.1%} no" for n in veto)
    if len(veto) >= 3:
        return (
            False,
            (
                f"rejected: two thirds or more voted no in {len(veto)} governorates "
                f"({listed}); three are enough to reject"
            ),
            veto,
        )
    if not _majority_of(t.yes, t.voters):
        return (
            False,
            (
                f"rejected: {_pct(t.yes, t.voters)} yes overall, no majority"
                f"{f'; two-thirds no in {listed}' if veto else ''}"
            ),
            _regions_with_majority(t, False),
        )
    gain = r["difference_per_head"].round(2).to_dict()

    def key(n: str) -> tuple[Fraction, float]:
        return -no_share[n], float(gain[n])

    ranked = sorted(no_share, key=lambda n: (key(n), n))
    third = key(ranked[min(2, len(ranked) - 1)])
    nearest = [n for n in ranked if key(n) <= third]
    near = ", ".join(
        f"{n} ({float(no_share[n]):.1%} no, {gain[n]:+,.2f} USD a head)" for n in nearest
    )
    vetoes = (
        f"two thirds voted no only in {listed}" if veto else "no governorate voted two thirds no"
    )
    return (
        True,
        (
            f"ratified: {_pct(t.yes, t.voters)} yes overall and {vetoes} (three reject); "
            f"nearest to a veto: {near}"
        ),
        nearest,
    )


def _bloc_veto(t: Tally) -> Decision:
    """Every bloc's voters approve by a majority: a mutual veto for each segment (A. Lijphart,
    *Democracy in Plural Societies*, Yale, 1977, ch. 2; the "parallel consent" of the Belfast
    Agreement, 1998, Strand One, para. 5(d)). Deciding: the vetoing blocs, or every bloc."""
    b = t.blocs
    failing = [
        str(n)
        for n, y, v in zip(b.index, b["yes"], b["voters"], strict=True)
        if not _majority_of(int(y), int(v))
    ]
    shares = ", ".join(
        f"{n} {_pct(int(y), int(v))} yes"
        for n, y, v in zip(b.index, b["yes"], b["voters"], strict=True)
    )
    if failing:
        return False, f"rejected: vetoed by {', '.join(failing)} ({shares})", failing
    return True, f"ratified: every bloc approved by a majority ({shares})", list(map(str, b.index))


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "majority",
            "more than half of all votes cast",
            "Swiss Federal Constitution art. 142(1)",
            _majority,
        ),
        Rule(
            "double-majority",
            "a majority of votes and a yes majority in a majority of regions",
            "Swiss Federal Constitution art. 142(2)-(3); Australian Constitution s. 128",
            _double_majority,
        ),
        Rule(
            "iraq-2005",
            "a majority of votes, unless two thirds vote no in three or more governorates",
            "Iraq TAL (2004) art. 61(C); Constitution of Iraq (2005) art. 142(4)",
            _iraq_2005,
        ),
        Rule(
            "bloc-veto",
            "a majority of votes in every bloc",
            "Lijphart (1977); Belfast Agreement (1998) Strand One para. 5(d)",
            _bloc_veto,
        ),
    )
}


@dataclass(frozen=True)
class Referendum:
    """The votes by cell, region, faction and bloc, and the verdict under ``rule``.

    ``deciding`` names who decided the verdict: regions (governorates) for ``majority``,
    ``double-majority`` and ``iraq-2005``, blocs for ``bloc-veto``; see each rule's docstring.
    """

    proposal: str
    status_quo: str
    rule: str
    verdict: bool
    reason: str
    deciding: list[str]
    cells: pd.DataFrame
    regions: pd.DataFrame
    factions: pd.DataFrame
    blocs: pd.DataFrame
    overall: Mapping[str, float | int]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        return RULES[self.rule].citation


def _option(option: str, code: str, message: str, remedy: str) -> Problem:
    return Problem(option, None, None, code, message, remedy)


def _turnouts(
    territory: Territory, turnout: float | Mapping[str, float]
) -> tuple[dict[str, float], list[Problem]]:
    regions = [str(r) for r in territory.regions.index]
    given = dict(turnout) if isinstance(turnout, Mapping) else dict.fromkeys(regions, turnout)
    problems = []
    unknown = sorted(set(given) - set(regions))
    missing = sorted(set(regions) - set(given))
    if unknown:
        problems.append(
            _option(
                "turnout",
                "E-UNKNOWN-REGION",
                f"turnout for regions not in the dataset: {', '.join(unknown)}",
                "check the region names",
            )
        )
    if missing:
        problems.append(
            _option(
                "turnout",
                "E-MISSING-REGION",
                f"no turnout for {', '.join(missing)}",
                "give a turnout for every region",
            )
        )
    for name, t in sorted(given.items()):
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 1:
            problems.append(
                _option(
                    "turnout",
                    "E-RANGE",
                    f"turnout of {name} must be a number in (0, 1], got {t!r}",
                    "give the share of people who vote",
                )
            )
    return given, problems


def _check(
    territory: Territory, rule: str, margin: float, vote_model: str, scale: float, seed: int
) -> list[Problem]:
    problems = []
    if rule not in RULES:
        problems.append(
            _option(
                "rule",
                "E-UNKNOWN-RULE",
                f"unknown rule {rule!r}",
                f"use one of {', '.join(RULES)}",
            )
        )
    if (
        isinstance(margin, bool)
        or not isinstance(margin, int | float)
        or not (math.isfinite(margin) and abs(margin) <= MAX_USD_PER_HEAD)
    ):
        problems.append(
            _option(
                "margin",
                "E-RANGE",
                f"margin must be a number of USD a head from {-MAX_USD_PER_HEAD:g} to "
                f"{MAX_USD_PER_HEAD:g}, got {margin!r}",
                "pass e.g. `margin=50`",
            )
        )
    if vote_model not in VOTE_MODELS:
        problems.append(
            _option(
                "vote_model",
                "E-OPTION",
                f"unknown vote model {vote_model!r}",
                f"use one of {', '.join(VOTE_MODELS)}",
            )
        )
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not (math.isfinite(scale) and 0 < scale <= MAX_USD_PER_HEAD)
    ):
        problems.append(
            _option(
                "logistic_scale_usd",
                "E-RANGE",
                f"the logistic scale must be a number of USD a head above 0 and at most "
                f"{MAX_USD_PER_HEAD:g}, got {scale!r}",
                "pass e.g. 100",
            )
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(
            _option(
                "seed",
                "E-RANGE",
                f"seed must be a whole number >= 0, got {seed!r}",
                "pass e.g. `seed=0`",
            )
        )
    return problems


def _structure(
    s: Structure | str | Allocation, overrides: list[str] | None, option: str, territory: Territory
) -> Structure | Allocation:
    if isinstance(s, Allocation):
        if overrides:
            raise InputError(
                _option(
                    option,
                    "E-USAGE",
                    "overrides need a structure, not a solved allocation",
                    "pass the structure instead",
                )
            )
        return s
    # each side's problems name its own parameters: the structure's, and its overrides'
    own = {
        "structure": option,
        "overrides": "status_quo_overrides" if option == "status_quo" else "overrides",
    }
    try:
        found = resolve(s, territory.structures) if isinstance(s, str) else s
        return apply_overrides(found, overrides or [])
    except InputError as exc:
        raise InputError([p._replace(file=own.get(p.file, p.file)) for p in exc.problems]) from None


def _levels(a: Allocation, cells: pd.DataFrame, option: str) -> np.ndarray:
    """Each cell's money a head as voters see it: the non-oil baseline plus the served view
    (its own money, and a head that of every government serving it, the centre's included; for
    a structure without a deal's accounts, direct plus the centre's slice a head)."""
    c = a.cells.set_index(["region", "faction"])
    level = c["level_per_head"] - c["usd_per_head"] + c["usd_per_head_served"]
    keys = pd.MultiIndex.from_frame(cells[["region", "faction"]])
    if len(level) != len(keys) or not keys.isin(level.index).all():
        raise InputError(
            _option(
                option,
                "E-USAGE",
                "the allocation is for other cells than the territory's",
                "solve it on the same territory",
            )
        )
    return level.reindex(keys).to_numpy(dtype=float)


def _probability_yes(diff: np.ndarray, margin: float, vote_model: str, scale: float) -> np.ndarray:
    if vote_model == "deterministic":
        return (diff >= margin - DIFFERENCE_TOLERANCE_USD).astype(float)
    z = (diff - margin) / scale
    e = np.exp(-np.abs(z))  # never overflows: the logistic written for both signs of z
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _group(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    c = cells.assign(
        _p=cells["population"] * cells["proposal_per_head"],
        _q=cells["population"] * cells["status_quo_per_head"],
    )
    g = c.groupby(by, sort=True).agg(
        population=("population", "sum"),
        voters=("voters", "sum"),
        yes=("yes", "sum"),
        no=("no", "sum"),
        _p=("_p", "sum"),
        _q=("_q", "sum"),
    )
    g["proposal_per_head"] = g.pop("_p") / g["population"]
    g["status_quo_per_head"] = g.pop("_q") / g["population"]
    g["difference_per_head"] = g["proposal_per_head"] - g["status_quo_per_head"]
    g["yes_share"] = g["yes"] / g["voters"]
    g["no_share"] = g["no"] / g["voters"]
    return g


def ratify(
    territory: Territory,
    proposal: Structure | str | Allocation,
    status_quo: Structure | str | Allocation,
    rule: str = "majority",
    *,
    margin: float = 0.0,
    price: float | None = None,
    overrides: list[str] | None = None,
    status_quo_overrides: list[str] | None = None,
    turnout: float | Mapping[str, float] = 1.0,
    vote_model: str = "deterministic",
    logistic_scale_usd: float = LOGISTIC_SCALE_USD,
    seed: int = 0,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> Referendum:
    """Put ``proposal`` to a referendum against ``status_quo`` and decide it under ``rule``.

    Parameters
    ----------
    proposal, status_quo : structures (names, :class:`Structure`, ``.toml`` paths) solved with
        :func:`revshare.analyses.optimize` at ``price``, or already solved :class:`Allocation` objects.
    rule : ``majority``, ``double-majority``, ``iraq-2005`` or ``bloc-veto`` (:data:`RULES`).
    margin : USD a head by which the proposal must beat the status quo to win a voter.
    overrides, status_quo_overrides : ``PARAM=VALUE`` overrides of each structure.
    turnout : share of each cell's people who vote, one number or one per region; voters are
        ``round(population * turnout)``, half to even.
    vote_model, logistic_scale_usd, seed : see the module docstring.
    solver, time_limit, solver_options, cross_check : as :func:`revshare.optimize` takes them,
        for solving each side.

    Raises
    ------
    InputError
        every bad option at once (E-UNKNOWN-RULE, E-RANGE, E-OPTION, E-UNKNOWN-REGION,
        E-MISSING-REGION, E-UNKNOWN-STRUCTURE, ...) before anything is solved.
    InfeasibleError, NotOptimalError, SolverUnavailableError
        from solving either structure.
    """
    require_territory(territory)
    started = time.perf_counter()
    problems = _check(territory, rule, margin, vote_model, logistic_scale_usd, seed)
    turnouts, turnout_problems = _turnouts(territory, turnout)
    problems += turnout_problems
    sides: list[Structure | Allocation] = []
    for s, ov, option in (
        (proposal, overrides, "proposal"),
        (status_quo, status_quo_overrides, "status_quo"),
    ):
        try:
            sides.append(_structure(s, ov, option, territory))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    if price is None:
        price = next((x.price for x in sides if isinstance(x, Allocation)), None)
    solving: dict[str, Any] = {
        "solver": solver,
        "time_limit": time_limit,
        "solver_options": solver_options,
        "cross_check": cross_check,
    }
    solved = [
        x if isinstance(x, Allocation) else optimize(territory, x, price=price, **solving)
        for x in sides
    ]
    cells = territory.cells[["region", "faction", "population"]].copy()
    cells.insert(2, "bloc", cells["region"].map(territory.regions["bloc"]))
    cells["proposal_per_head"] = _levels(solved[0], cells, "proposal")
    cells["status_quo_per_head"] = _levels(solved[1], cells, "status_quo")
    cells["difference_per_head"] = cells["proposal_per_head"] - cells["status_quo_per_head"]
    t = cells["region"].map(turnouts).to_numpy(dtype=float)
    cells["voters"] = np.rint(cells["population"].to_numpy(dtype=float) * t).astype(np.int64)
    p = _probability_yes(
        cells["difference_per_head"].to_numpy(),
        float(margin),
        vote_model,
        float(logistic_scale_usd),
    )
    cells["probability_yes"] = p
    if vote_model == "deterministic":
        cells["yes"] = np.where(p > 0, cells["voters"], 0).astype(np.int64)
    else:
        rng = np.random.default_rng(seed)
        cells["yes"] = rng.binomial(cells["voters"].to_numpy(), p).astype(np.int64)
    cells["no"] = cells["voters"] - cells["yes"]
    regions = _group(cells, "region")
    empty = sorted(str(r) for r in regions.index[regions["voters"] == 0])
    if empty:
        raise InputError(
            _option(
                "turnout",
                "E-RANGE",
                f"no voters in {', '.join(empty)} at this turnout",
                "raise the turnout",
            )
        )
    regions.insert(0, "bloc", regions.index.map(territory.regions["bloc"]))
    blocs = _group(cells, "bloc")
    verdict, reason, deciding = RULES[rule].decide(Tally(regions, blocs))
    cells["yes_share"] = (cells["yes"] / cells["voters"]).where(cells["voters"] > 0)
    cells["no_share"] = (cells["no"] / cells["voters"]).where(cells["voters"] > 0)
    yes, voters = int(cells["yes"].sum()), int(cells["voters"].sum())
    names = [x.structure.name if isinstance(x, Allocation) else x.name for x in sides]
    return Referendum(
        proposal=names[0],
        status_quo=names[1],
        rule=rule,
        verdict=verdict,
        reason=reason,
        deciding=deciding,
        cells=cells,
        regions=regions.reset_index(),
        factions=_group(cells, "faction").reset_index(),
        blocs=blocs.reset_index(),
        overall={
            "population": float(cells["population"].sum()),
            "voters": voters,
            "yes": yes,
            "no": voters - yes,
            "yes_share": yes / voters,
            "no_share": 1 - yes / voters,
        },
        parameters={
            "margin_usd_per_head": float(margin),
            "price_usd_per_bbl": solved[0].price,
            "turnout": dict(sorted(turnouts.items())),
            "vote_model": vote_model,
            "logistic_scale_usd": float(logistic_scale_usd),
            "seed": seed,
            "difference_tolerance_usd": DIFFERENCE_TOLERANCE_USD,
        },
        provenance={
            "dataset": territory.name,
            "inputs": dict(territory.provenance.get("inputs", {})),
            "versions": dict(solved[0].provenance.get("versions", {})),
            "rule_citation": RULES[rule].citation,
            "seconds": time.perf_counter() - started,
        },
    )
