"""Fear of domination: what each group is guaranteed if others capture the centre (docs/concepts.md#guarantees-the-fear-of-domination).

A structure's *entrenched* rules bind any government; the rest (and its objective) describe what a
fair centre does. A group's **guarantee** is the least money it can receive under the entrenched
rules alone when whoever holds the centre uses every freedom they leave against it: one linear
program per group, minimising its money. Its **fair** money is what it gets from :func:`optimize`
with the centre's slice spread equally over everyone (the served view). **Exposure** is fair minus
guaranteed, in USD, per head and as a share of fair.

A group's money counts its cells' money and its share (by the people each serves) of every
government account that serves it, except the centre's: that is the slice a captured centre turns
against it. The **capture matrix** names a controller (a faction or a bloc) that holds the centre:
it first takes the most it can for itself (its own money plus the centre's slice), and then each
other group gets the least the entrenched rules allow beside that.

Every minimum is a proven optimum (:func:`revshare.solve.lp.open_lp`: HiGHS run in place, warm-started from one
objective to the next, or CBC through PuLP, the PuLP model being the one source of rows either
way), and the minimising allocation is checked by the verifier against the entrenched rules in USD
from the data, as every reported allocation is. With ``cross_check`` every figure is computed again
with the other solver, and a difference beyond the verifier's tolerance is a NotOptimalError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pulp

from ..data.dataset import Territory, require_territory
from ..data.deals import Deal
from ..data.structures import Structure, apply_overrides, require_structures, resolve
from ..errors import InputError, NotOptimalError, Problem
from ..model.core import Model
from ..model.deal_rules import DealData, Recipient
from ..model.lp import build_model
from ..solve.lp import open_lp
from ..solve.plan import Solution, require_optimal, stage_tolerance
from ..solve.program import disagree, other_solver, solver_config, solving_arguments
from ..solve.solver import SolverConfig
from ..solve.verify import require_verified, verify
from .optimize import Allocation, money_of, optimize, resolve_price, verify_tolerance

LEVELS = ("faction", "bloc", "region", "account")
NEUTRAL: dict[str, Any] = {
    "central_share": (0.0, 1.0),
    "derivation": 0.0,
    "bloc_retention": 0.0,
    "bloc_share": {},
    "faction_share": {},
    "per_capita_floor": None,
    "per_capita_cap": None,
    "damage_allotment": 0.0,
    "secession_proof": False,
}
"""What each parameter becomes when it is not entrenched: no constraint at all."""

GUARANTEE_COLUMNS = [
    "structure",
    "level",
    "group",
    "population",
    "fair_usd",
    "guaranteed_usd",
    "exposure_usd",
    "exposure_usd_per_head",
    "exposure_share",
]
CAPTURE_COLUMNS = ["structure", "controller", "victim", "level", "fair_usd", "guaranteed_usd"]


def entrenched_part(s: Structure) -> Structure:
    """``s`` with only its entrenched rules: every other parameter neutral, every other deal
    rule dropped, the objective irrelevant (a captured centre has its own)."""
    changes = {k: v for k, v in NEUTRAL.items() if not s.is_entrenched(k)}
    kept = tuple(r for r in s.deal.rules if s.is_entrenched(r.name))
    dropped = {r.name for r in s.deal.rules} - {r.name for r in kept}
    waiting = sorted(
        f"{p.name} (after {', '.join(sorted(dropped & set(p.after)))})"
        for p in s.deal.pools.values()
        if dropped & set(p.after)
    )
    if waiting:
        raise InputError(
            Problem(
                s.source,
                None,
                f"{s.name}.entrenched",
                "E-ENTRENCHED",
                f"pools {', '.join(waiting)} wait for rules that are not entrenched",
                "entrench those rules too, or the rules that draw on these pools",
            )
        )
    deal = Deal(s.deal.accounts, s.deal.pools, kept)
    return dataclasses.replace(s, deal=deal, objective="proportional", **changes)


@dataclass(frozen=True)
class Group:
    level: str
    name: str
    population: float | None
    money: pulp.LpAffineExpression  # model units, without the centre's slice


def groups(m: Model) -> list[Group]:
    """Every faction, bloc, region and account (not the centre), with its money."""
    t = m.territory
    data = DealData(t, m.structure, m.price)
    cells = t.cells
    bloc = t.regions["bloc"].astype(str)
    out = []
    # each government account's money, shared among the cells it serves by population
    share: dict[tuple[str, str], list[tuple[pulp.LpVariable, float]]] = {}
    for name, var in m.accounts.items():
        account = data.accounts[name]
        if account.kind != "government" or not account.serves:
            continue
        served = (
            cells
            if account.serves == "all"
            else cells[
                (cells["region"] == account.serves) | (cells["region"].map(bloc) == account.serves)
            ]
        )
        heads = float(served["population"].sum())
        for level, column in (("faction", "faction"), ("region", "region")):
            for key, p in served.groupby(column)["population"].sum().items():
                share.setdefault((level, str(key)), []).append((var, float(p) / heads))
        for key, p in served.groupby(served["region"].map(bloc))["population"].sum().items():
            share.setdefault(("bloc", str(key)), []).append((var, float(p) / heads))

    def money(
        level: str, name: str, cells_money: pulp.LpAffineExpression
    ) -> pulp.LpAffineExpression:
        return cells_money + pulp.lpSum(w * v for v, w in share.get((level, name), []))

    for f in t.factions:
        pop = float(cells.loc[cells["faction"] == f, "population"].sum())
        out.append(Group("faction", f, pop, money("faction", f, m.cells_of("faction", f))))
    for b in t.blocs:
        pop = float(t.regions.loc[bloc == b, "population"].sum())
        out.append(Group("bloc", b, pop, money("bloc", b, m.cells_of("bloc", b))))
    for r in t.regions.index:
        pop = float(t.regions.loc[r, "population"])
        out.append(
            Group("region", str(r), pop, money("region", str(r), m.cells_of("region", str(r))))
        )
    for name, var in m.accounts.items():
        out.append(
            Group("account", name, data.population(Recipient("account", name)), pulp.lpSum([var]))
        )
    return out


def fair_money(a: Allocation, level: str, name: str) -> float:
    """A group's money from a fair centre: its served view (the centre's slice over everyone)."""
    if level == "account":
        return float(a.accounts.set_index("account").loc[name, "usd"])
    cells = a.cells
    served = cells["usd_per_head_served"] * cells["population"]
    column = "region" if level == "region" else level
    return float(served[cells[column] == name].sum())


@dataclass(frozen=True)
class Guarantees:
    """``table``: one row per structure and group (:data:`GUARANTEE_COLUMNS`); ``capture``: the
    controller x victim matrix (:data:`CAPTURE_COLUMNS`); ``entrenched``: per structure, the
    rules that bind any government and why."""

    dataset: str
    price: float
    table: pd.DataFrame
    capture: pd.DataFrame
    entrenched: dict[str, tuple[tuple[str, ...], str]]


class _Solver:
    """The entrenched model of one structure: minimise or maximise a group's money, each
    optimum proven and verified in USD."""

    def __init__(self, t: Territory, s: Structure, price: float, config: SolverConfig) -> None:
        self.t, self.s, self.price, self.config = t, s, price, config
        self.m = build_model(t, s, price)
        self.lp = open_lp(self.m, config)

    def optimise(self, expr: pulp.LpAffineExpression, sense: int, stage: str) -> float:
        """The optimum of ``expr`` in USD, after the verifier accepts the allocation."""
        m, lp = self.m, self.lp
        require_optimal(lp.optimise(expr, sense), stage, m, self.config.name)
        sol = Solution(
            z=lp.values(m.z),
            g=float(lp.values([m.g])[0]),
            objective_value=None,
            binding=[],
            solver=self.config.name,
            stages=1,
            seconds=0.0,
            extra=lp.values(m.extra),
        )
        cells, centre, deal = money_of(self.t, self.s, m, sol)
        require_verified(
            verify(self.t, self.s, self.price, cells, centre, verify_tolerance(self.config), deal)
        )
        return lp.value(expr) * m.scale


def guarantees(
    territory: Territory,
    structures: Sequence[str | Structure] | str,
    *,
    price: float | None = None,
    overrides: list[str] | None = None,
    capture: bool = True,
    fair: Mapping[str, Allocation] | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> Guarantees:
    """Fair money, guaranteed money and exposure of every group under each structure, and the
    capture matrix (``capture=False`` skips it). ``fair`` holds allocations already solved at
    ``price`` (by structure name), which are not solved again.

    ``solver``, ``time_limit``, ``solver_options`` and ``cross_check`` are as
    :func:`revshare.optimize` takes them, for the fair allocations and every hostile-centre LP
    alike; with ``cross_check`` each guarantee and capture figure is computed again with the
    other solver.

    Raises
    ------
    InputError, InfeasibleError, NotOptimalError, SolverUnavailableError
        as :func:`optimize` does (a bad solver option before anything is solved; solvers that
        disagree beyond the verifier's tolerance are a NotOptimalError); the entrenched rules
        alone are always feasible when the whole structure is, so a structure that cannot hold
        is reported by ``optimize``.
    """
    require_territory(territory)
    names = require_structures(structures)
    price = resolve_price(territory, price)
    config = solver_config(solver, time_limit, solver_options)
    solving = solving_arguments(config, cross_check)
    rows: list[dict[str, object]] = []
    matrix: list[dict[str, object]] = []
    entrenched: dict[str, tuple[tuple[str, ...], str]] = {}
    for item in names:
        s = item if isinstance(item, Structure) else resolve(item, territory.structures)
        s = apply_overrides(s, overrides or [])
        known = (fair or {}).get(s.name)
        a = known if known is not None else optimize(territory, s, price=price, **solving)
        written = (*NEUTRAL, *(r.name for r in s.deal.rules))
        entrenched[s.name] = (
            tuple(r for r in written if s.is_entrenched(r) and _written(s, r)),
            s.entrenched_because,
        )
        got = _hostile(territory, s, price, a, capture, config)
        if cross_check:
            other = other_solver(config)
            again = _hostile(territory, s, price, a, capture, other, got.floors)
            _agree(got, again, a, config)
        rows += got.rows
        matrix += got.capture
    result = Guarantees(
        territory.name,
        price,
        pd.DataFrame(rows, columns=GUARANTEE_COLUMNS),
        pd.DataFrame(matrix, columns=CAPTURE_COLUMNS),
        entrenched,
    )
    require_consistent(result)
    return result


@dataclass(frozen=True)
class _Hostile:
    """One structure's hostile-centre figures with one solver: guarantee rows, capture rows,
    each controller's most (USD) and the row that held it there (model units)."""

    rows: list[dict[str, object]]
    capture: list[dict[str, object]]
    best: list[float]
    floors: list[float]


def _hostile(
    t: Territory,
    s: Structure,
    price: float,
    a: Allocation,
    capture: bool,
    config: SolverConfig,
    floors: list[float] | None = None,
) -> _Hostile:
    """One structure's guarantee rows and (with ``capture``) capture rows, solved with
    ``config``; ``floors`` (a cross-check's) hold each controller where the first solver did."""
    solver = _Solver(t, entrenched_part(s), price, config)
    everyone = groups(solver.m)
    rows = []
    for g in everyone:
        low = solver.optimise(g.money, pulp.LpMinimize, f"guarantee of {g.name}")
        rows.append(
            _row(s.name, g, fair_money(a, g.level, g.name), low, a.verification.tolerance_usd)
        )
    if not capture:
        return _Hostile(rows, [], [], [])
    return _Hostile(rows, *_capture(s.name, solver, everyone, a, floors))


def _agree(first: _Hostile, second: _Hostile, a: Allocation, config: SolverConfig) -> None:
    """The cross-check: every figure the same with both solvers, to the looser of their
    verification tolerances (USD, relative to the revenue). The second solver held each
    controller at the first's floor, so that the victims' minima are of the same LP."""
    other = other_solver(config)
    tol = max(verify_tolerance(config), verify_tolerance(other)) * max(a.revenue_usd, 1.0)
    pairs = [*zip(first.rows, second.rows, strict=True)]
    pairs += zip(first.capture, second.capture, strict=True)
    for mine, theirs in pairs:
        what = f"the guarantee of {mine.get('group', mine.get('victim'))}"
        if "controller" in mine:
            what += f" under {mine['controller']}"
        a_usd, b_usd = (float(str(x["guaranteed_usd"])) for x in (mine, theirs))
        disagree(f"{what} ({mine['structure']})", config, a_usd, b_usd, tol, "USD")
    for best, again in zip(first.best, second.best, strict=True):
        disagree(f"a controller's most ({a.structure.name})", config, best, again, tol, "USD")


def _written(s: Structure, rule: str) -> bool:
    """Whether the structure writes ``rule`` at all (a parameter away from its neutral value)."""
    if rule not in NEUTRAL:
        return True
    value = getattr(s, rule)
    return bool(value) and value != NEUTRAL[rule]


def _row(structure: str, g: Group, fair: float, low: float, tol: float) -> dict[str, object]:
    """One group's figures; differences within the verifier's tolerance are none."""
    low = max(low, 0.0)
    exposure = fair - low if abs(fair - low) > tol else 0.0
    return {
        "structure": structure,
        "level": g.level,
        "group": g.name,
        "population": g.population,
        "fair_usd": fair,
        "guaranteed_usd": low,
        "exposure_usd": exposure,
        "exposure_usd_per_head": exposure / g.population if g.population else None,
        "exposure_share": exposure / fair if fair > 0 else 0.0,
    }


def _capture(
    structure: str,
    solver: _Solver,
    everyone: list[Group],
    fair: Allocation,
    floors: list[float] | None = None,
) -> tuple[list[dict[str, object]], list[float], list[float]]:
    """Each faction or bloc holding the centre: it takes the most for itself, then each other
    group of its level and of the other level gets its least. Returns the rows, each
    controller's most (USD) and the floor it was held at (model units: its most less the stage
    tolerance, or ``floors``' when given)."""
    out = []
    m = solver.m
    controllers = [g for g in everyone if g.level in ("faction", "bloc")]
    bests, held_at = [], []
    for i, c in enumerate(controllers):
        own = c.money + m.g  # the captured centre's slice is the controller's to spend
        best = solver.optimise(own, pulp.LpMaximize, f"capture by {c.name}")
        at_least = best / m.scale
        floor = floors[i] if floors else at_least - stage_tolerance(m, at_least, solver.config)
        bests.append(best)
        held_at.append(floor)
        held = solver.lp.hold(own, floor)
        for v in controllers:
            if v is c:
                continue
            low = solver.optimise(v.money, pulp.LpMinimize, f"{v.name} under {c.name}")
            out.append(
                {
                    "structure": structure,
                    "controller": f"{c.level} {c.name}",
                    "victim": v.name,
                    "level": v.level,
                    "fair_usd": fair_money(fair, v.level, v.name),
                    "guaranteed_usd": max(low, 0.0),
                }
            )
        solver.lp.release(held)
    return out, bests, held_at


def require_consistent(g: Guarantees) -> None:
    """Guaranteed never above fair (beyond the verifier's tolerance): the fair allocation obeys
    every entrenched rule, so a larger minimum means a wrong answer."""
    t = g.table
    over = t[t["guaranteed_usd"] > t["fair_usd"] + 1e-6 * t["fair_usd"].abs().max() + 1.0]
    if len(over):
        first = over.iloc[0]
        raise NotOptimalError(
            f"guarantee of {first['group']} under {first['structure']} "
            f"({first['guaranteed_usd']:,.0f} USD) is above its fair money "
            f"({first['fair_usd']:,.0f} USD): not reported"
        )
