"""Build the named PuLP model of a Structure on a Territory (docs/concepts.md#the-deal).

Units. The model never sees raw dollars. Money is divided by ``scale``, a power of ten chosen so
that total revenue ``v = V / scale`` lies in [100, 1000). The decision variable of a spending group
(a region when it spends equally per head, else a cell) is ``z_k``: what the whole country would
receive if everybody got group k's money per head, so ``x_k = pi_k * z_k`` with ``pi_k`` the group's
population share. Per-head floors and caps then have coefficient 1, and the only small
coefficients are the population shares in sums, which :func:`build_model` checks against the
solvers' tolerances (docs/design.md#tiny-coefficients-and-scaling).

Each rule is a small function that adds its constraints, each named after the rule and its subject
(``floor[Kirkuk]``), so that binding and conflicting rules can be named in the user's words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pulp

from ..data.dataset import Territory
from ..data.deals import Pool
from ..data.structures import MAX_COALITION_BLOCS, Structure
from ..errors import InputError, Problem
from .core import Model, choose_scale, spending_groups
from .deal_rules import DealData, Recipient, dues, expand_accounts, sentence
from .parameters import PARAMETER_RULES


def build_model(
    t: Territory, structure: Structure, price: float, *, parametric: bool = False
) -> Model:
    """Build the PuLP model of ``structure`` on ``t`` at ``price`` USD a barrel, without objective.

    ``parametric=True`` puts every price-dependent quantity in a column fixed by its bounds, so
    that the model moves to another price by changing bounds only (:mod:`revshare.solve.engine`).
    Rules that exist only where a quantity is positive are built for the quantities positive at
    ``price``; revenue and outside options never fall as the price rises, so a model built at the
    highest price of a sweep has every row any lower price needs.

    Raises
    ------
    InputError
        when there is nothing to allocate at ``price``, or the structure cannot apply to ``t``
        (:func:`check_applicable`).
    """
    revenue = float(t.field_revenue(price).sum())
    if not revenue > 0:
        raise InputError(
            Problem(
                "price",
                None,
                None,
                "E-ZERO-REVENUE",
                f"total revenue at {price:g} USD a barrel is 0",
                "raise `price` above the fields' costs or check production",
            )
        )
    problems = check_applicable(structure, t)
    if problems:
        raise InputError(problems)
    groups = spending_groups(t, structure)
    scale = choose_scale(revenue)
    prob = pulp.LpProblem("revshare", pulp.LpMinimize)
    z_dict = prob.add_variable_dicts("z", range(len(groups)), lowBound=0)
    g = prob.add_variable("g", lowBound=0)
    m = Model(
        territory=t,
        structure=structure,
        price=price,
        prob=prob,
        groups=groups,
        z=[z_dict[k] for k in range(len(groups))],
        g=g,
        scale=scale,
        revenue=revenue,
        region_revenue=t.region_revenue(price),
        bloc_revenue=t.bloc_revenue(price),
        outside_option=t.outside_options(price),
    )
    if parametric:
        if structure.deal or structure.coalition_proof:
            raise InputError(
                Problem(
                    structure.source,
                    None,
                    structure.name,
                    "E-UNSUPPORTED",
                    f"structure {structure.name!r} has a deal's accounts or rules, or "
                    "coalition_proof, which sweeps and price paths do not handle yet",
                    "optimize or compare it at each price instead",
                )
            )
        for i, (key, value) in enumerate(m.quantities().items()):
            m.data[key] = prob.add_variable(f"data_{i}", lowBound=value, upBound=value)
    blocs = t.regions["bloc"].astype(str)
    for name, account in expand_accounts(structure, t).items():
        m.accounts[name] = prob.add_variable(f"account_{len(m.accounts)}", lowBound=0)
        if account.kind == "government" and account.serves in t.regions.index:
            m.governments.setdefault(str(blocs[account.serves]), []).append(name)
        elif account.kind == "government" and account.serves in t.blocs:
            m.governments.setdefault(account.serves, []).append(name)
    for rule in RULES:
        rule(m)
    return m


MIN_POPULATION_SHARE = 1e-9
"""Smallest population share of a spending group that the solvers resolve reliably."""


def check_names(t: Territory, s: Structure) -> list[Problem]:
    """Blocs and factions that ``s`` names in its tables but ``t`` lacks."""
    problems = []
    tables: list[tuple[str, set[str], object]] = [
        ("bloc_share", set(t.blocs), s.bloc_share),
        ("faction_share", set(t.factions), s.faction_share),
        ("bloc_retention", set(t.blocs), s.bloc_retention),
    ]
    for key, known, table in tables:
        if not isinstance(table, Mapping):
            continue
        for name in sorted(set(table) - known):
            problems.append(
                Problem(
                    s.origin(key),
                    None,
                    f"{s.name}.{key}.{name}",
                    "E-UNKNOWN-NAME",
                    f"structure {s.name!r} names {name!r}, which this dataset "
                    f"does not have (it has {', '.join(sorted(known))})",
                    "rename it to match the dataset or remove it",
                )
            )
    return problems


def needed_indicators(s: Structure) -> dict[str, str]:
    """The ``regions.csv`` columns that ``s``'s objective reads, each with the parameter that
    needs it: every region must have a finite value > 0."""
    out = {}
    if s.objective == "needs":
        out["need_index"] = "objective"
    if s.objective == "formula":
        for indicator, column in (("area", "area_km2"), ("need", "need_index")):
            if s.formula_weights.get(indicator, 0.0) > 0:
                out[column] = f"formula_weights.{indicator}"
    return out


def check_applicable(s: Structure, t: Territory) -> list[Problem]:
    """Every problem that stops ``s`` on ``t`` whatever the price, without building a model.

    Unknown blocs and factions in the tables (``E-UNKNOWN-NAME``), indicators the objective
    needs but ``regions.csv`` lacks (``E-MISSING-INDICATOR``), earmarks with no recipient
    (``E-NO-RECIPIENT``: a ``damage_allotment`` when no region has damage) and spending groups
    too small for the solvers (``E-NUMERICS``); first, the parameters' own checks, for a
    Structure made in Python. :func:`build_model` raises these; ``validate`` can run this for
    every structure. Rules whose subject has nothing (retention of a bloc with no revenue,
    derivation of a region without oil) are no-ops, not errors.
    """
    try:  # a Structure made in Python skipped the checks of a TOML table or an override
        s.with_overrides({}, source=s.source)
    except InputError as exc:
        return list(exc.problems)
    problems = check_names(t, s)
    if s.deal:
        problems += dues(DealData(t, s, t.default_price or 0.0))[1]
    if s.coalition_proof and len(t.blocs) > MAX_COALITION_BLOCS:
        problems.append(
            Problem(
                s.origin("coalition_proof"),
                None,
                f"{s.name}.coalition_proof",
                "E-RANGE",
                f"coalition_proof writes a row for each of the 2^B - 2 coalitions of blocs; this "
                f"dataset has {len(t.blocs)} blocs, above the {MAX_COALITION_BLOCS} it handles",
                "group regions into fewer blocs, or use secession_proof",
            )
        )
    regions = t.regions
    for column, parameter in needed_indicators(s).items():
        values = regions[column].astype(float)  # absent columns are NaN (REGION_DEFAULTS)
        bad = list(values.index[~(np.isfinite(values) & (values > 0))])
        if bad:
            problems.append(
                Problem(
                    "regions.csv",
                    None,
                    column,
                    "E-MISSING-INDICATOR",
                    f"structure {s.name!r} ({parameter} {_value(s, parameter)!r}, from "
                    f"{s.origin(parameter.partition('.')[0])}) needs {column} > 0 for every "
                    f"region; missing for {', '.join(map(str, bad))}",
                    f"add {column} to regions.csv",
                )
            )
    if s.damage_allotment > 0 and not (regions["damage"].astype(float) > 0).any():
        problems.append(
            Problem(
                s.origin("damage_allotment"),
                None,
                f"{s.name}.damage_allotment",
                "E-NO-RECIPIENT",
                f"structure {s.name!r} earmarks damage_allotment = {s.damage_allotment:g} of the "
                "sharing pool for damaged regions, but no region has damage > 0 in regions.csv "
                "(the column is absent or all zero)",
                "add damage to regions.csv or set damage_allotment = 0",
            )
        )
    groups = regions if s.within_region == "equal" else t.cells.set_index(["region", "faction"])
    shares = groups["population"].astype(float) / t.population
    if len(shares) and shares.min() < MIN_POPULATION_SHARE:
        smallest = shares.idxmin()
        label = "/".join(smallest) if isinstance(smallest, tuple) else str(smallest)
        problems.append(
            Problem(
                "population",
                None,
                "population",
                "E-NUMERICS",
                f"{label} holds {shares.min():.2g} of the population, below "
                f"the {MIN_POPULATION_SHARE:g} that solvers resolve reliably",
                "merge tiny cells into a neighbour or drop them",
            )
        )
    return problems


def _value(s: Structure, parameter: str) -> Any:
    head, _, entry = parameter.partition(".")
    value = getattr(s, head)
    return value.get(entry) if entry else value


def _budget(m: Model) -> None:
    accounts = pulp.lpSum(m.accounts.values())
    m.add(m.x(np.ones(len(m.groups), bool)) + m.g + accounts == m.quantity("revenue"), "budget")


def _deal(m: Model) -> None:
    """A deal's rules in order: each payment is a column, tied by its rule to its pool; each
    account receives exactly its payments, the centre, a region or a bloc at least theirs; no
    pool pays out more than it holds."""
    if not m.structure.deal:
        return
    data = DealData(m.territory, m.structure, m.price)
    paid: dict[str, list[tuple[Recipient, pulp.LpVariable]]] = {}
    drawn: dict[str, list[pulp.LpVariable]] = {}
    pools: dict[str, pulp.LpAffineExpression] = {}
    inflow: dict[Recipient, list[pulp.LpVariable]] = {}
    rules = {r.name: r for r in m.structure.deal.rules}

    def amount(pool: Pool) -> pulp.LpAffineExpression:
        out = pulp.LpAffineExpression(constant=data.base(pool) / m.scale)
        for earlier in pool.after:
            for recipient, f in paid[earlier]:
                out -= data.drawn(pool, rules[earlier], recipient) * f
        return out

    for due in dues(data)[0]:
        pool = pools.setdefault(due.pool.name, amount(due.pool))
        flows: list[tuple[Recipient, pulp.LpVariable]] = []
        for term in due.terms:
            f = m.prob.add_variable(f"pay_{len(m.payments)}", lowBound=0)
            m.payments.append((due, term, f))
            due_amount = term.share * pool + term.usd / m.scale
            row = {"exactly": f == due_amount, "at least": f >= due_amount}.get(
                due.rule.relation, f <= due_amount
            )
            m.add(row, due.rule.name, term.recipient.name)
            m.sentences[f"{due.rule.name}[{term.recipient.name}]"] = sentence(due, term)
            inflow.setdefault(term.recipient, []).append(f)
            flows.append((term.recipient, f))
        paid[due.rule.name] = flows
        drawn.setdefault(due.pool.name, []).extend(f for _, f in flows)
    where = m.structure.source
    for name, payments in drawn.items():
        m.add(pulp.lpSum(payments) <= pools[name], "pool", name)
        m.sentences[f"pool[{name}]"] = (
            f"the rules drawing on {'all revenue' if name == 'revenue' else f'pool {name!r}'} "
            f"pay out no more than it holds ({where})"
        )
    for name, var in m.accounts.items():
        m.add(var == pulp.lpSum(inflow.get(Recipient("account", name), [])), "account", name)
        m.sentences[f"account[{name}]"] = (
            f"account {name!r} holds exactly what the rules pay it ({where})"
        )
    receives = [(Recipient("centre", m.structure.centre), m.g)]
    receives += [
        (Recipient("region", str(r)), m.cells_of("region", str(r)))
        for r in m.territory.regions.index
    ]
    receives += [(Recipient("bloc", str(b)), m.cells_of("bloc", str(b))) for b in m.territory.blocs]
    blocs = m.territory.regions["bloc"].astype(str)
    for recipient, money in receives:
        into = inflow.get(recipient, [])
        if not into:
            continue
        if recipient.kind == "bloc":  # its regions' payments are part of the bloc's money too
            into = into + [
                f
                for r in blocs.index[blocs == recipient.name]
                for f in inflow.get(Recipient("region", str(r)), [])
            ]
        m.add(money >= pulp.lpSum(into), "receives", recipient.name)
        m.sentences[f"receives[{recipient.name}]"] = (
            f"{recipient.name} receives at least what the rules pay it ({where})"
        )


RULES: tuple[Callable[[Model], None], ...] = (
    _budget,
    _deal,
    *(rule.build for rule in PARAMETER_RULES.values()),
)
"""Every row builder, in order: the budget, a deal's payments, then today's parameters."""
