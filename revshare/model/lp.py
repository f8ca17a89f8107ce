"""Build the named PuLP model of a Structure on a Territory (DESIGN.md section 4).

Units. The model never sees raw dollars. Money is divided by ``scale``, a power of ten chosen so
that total revenue ``v = V / scale`` lies in [100, 1000). The decision variable of a spending group
(a region when it spends equally per head, else a cell) is ``z_k``: what the whole country would
receive if everybody got group k's money per head, so ``x_k = pi_k * z_k`` with ``pi_k`` the group's
population share. Per-head floors and caps then have coefficient 1, and the only small
coefficients are the population shares in sums, which :func:`build_model` checks against the
solvers' tolerances (RELIABILITY.md, finding 4).

Each rule is a small function that adds its constraints, each named after the rule and its subject
(``floor[Kirkuk]``), so that binding and conflicting rules can be named in the user's words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from ..data.dataset import Territory
from ..data.deals import Pool
from ..data.structures import Structure
from ..errors import InputError, Problem
from .deal_rules import DealData, Due, Recipient, Term, dues, expand_accounts, sentence


@dataclass
class Model:
    """A built model: the PuLP problem, its variables, and the data in model units."""

    territory: Territory
    structure: Structure
    price: float
    prob: pulp.LpProblem
    groups: pd.DataFrame  # one row per spending group: region, faction, bloc, population, pi, base
    z: list[pulp.LpVariable]
    g: pulp.LpVariable
    scale: float
    revenue: float  # V in USD
    region_revenue: pd.Series  # V_r in USD
    bloc_revenue: pd.Series  # V_b in USD
    outside_option: pd.Series  # O_b in USD
    labels: dict[str, str] = field(default_factory=dict)  # PuLP name -> "rule[subject]"
    # Parametric models (the sweep engine's): each price-dependent quantity is a column fixed by
    # its bounds, keyed by (kind, name); changing those bounds moves the model to another price.
    data: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    # quantities() once: objectives read one entry per region, and building the dict each time
    # made a 2,000-region model quadratic (about 20 s of its build)
    _quantities: dict[tuple[str, str], float] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # A deal's accounts and payments (revshare.model.deal_rules): each account's money, and
    # each (rule, recipient) payment, in model units; ``extra`` lists them for the executors.
    accounts: dict[str, pulp.LpVariable] = field(default_factory=dict)
    payments: list[tuple[Due, Term, pulp.LpVariable]] = field(default_factory=list)
    sentences: dict[str, str] = field(default_factory=dict)  # label -> what the rule says

    @property
    def extra(self) -> list[pulp.LpVariable]:
        return [*self.accounts.values(), *(f for _, _, f in self.payments)]

    @property
    def v(self) -> float:
        return self.revenue / self.scale

    def quantity(self, kind: str, name: str = "") -> float | pulp.LpVariable:
        """A price-dependent quantity in model units: ``revenue`` (V), ``region`` (V_r), ``bloc``
        (V_b) or ``outside`` (O_b); a fixed data column when the model is parametric."""
        if self.data:
            return self.data[(kind, name)]
        return self.quantities()[(kind, name)]

    def quantities(self) -> dict[tuple[str, str], float]:
        """Every price-dependent quantity at the model's price, in model units."""
        if self._quantities is None:
            out = {("revenue", ""): self.v}
            for kind, series in (
                ("region", self.region_revenue),
                ("bloc", self.bloc_revenue),
                ("outside", self.outside_option),
            ):
                out.update({(kind, str(k)): float(v) / self.scale for k, v in series.items()})
            self._quantities = out
        return self._quantities

    def x(self, mask: np.ndarray) -> pulp.LpAffineExpression:
        """The money, in model units, of the groups selected by ``mask``."""
        pi = self.groups["pi"].to_numpy()
        return pulp.lpSum(pi[k] * self.z[k] for k in np.flatnonzero(mask))

    def cells_of(self, column: str, value: str) -> pulp.LpAffineExpression:
        """Money of the cells whose ``column`` (region, bloc or faction) equals ``value``."""
        if column == "faction" and self.structure.within_region == "equal":
            cells = self.territory.cells
            sel = cells[cells["faction"] == value]
            region_pos = {r: k for k, r in enumerate(self.groups["region"])}
            P = self.territory.population
            return pulp.lpSum(
                (p / P) * self.z[region_pos[r]]
                for r, p in zip(sel["region"], sel["population"], strict=True)
            )
        return self.x((self.groups[column] == value).to_numpy())

    def add(self, constraint: pulp.LpConstraint, rule: str, subject: str = "") -> None:
        label = f"{rule}[{subject}]" if subject else rule
        safe = re.sub(r"[^A-Za-z0-9_]", "_", label)
        name = safe if safe not in self.labels else f"{safe}_{len(self.labels)}"
        self.prob.addConstraint(constraint, name)
        self.labels[name] = label


def _spending_groups(t: Territory, structure: Structure) -> pd.DataFrame:
    if structure.within_region == "equal":
        groups = pd.DataFrame(
            {
                "region": t.regions.index,
                "faction": "",
                "population": t.regions["population"].to_numpy(),
            }
        )
    else:
        groups = t.cells[["region", "faction", "population"]].copy()
    groups = groups.reset_index(drop=True)
    groups["bloc"] = groups["region"].map(t.regions["bloc"])
    groups["pi"] = groups["population"] / t.population
    groups["baseline"] = groups["region"].map(t.regions["baseline_usd_per_capita"]).fillna(0.0)
    groups["label"] = [
        r if not f else f"{r}/{f}" for r, f in zip(groups["region"], groups["faction"], strict=True)
    ]
    return groups


def choose_scale(revenue: float) -> float:
    """The power of ten that brings ``revenue`` into [100, 1000) model units."""
    return 10.0 ** (math.floor(math.log10(revenue)) - 2)


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
                "fields",
                None,
                None,
                "E-ZERO-REVENUE",
                f"total revenue at {price:g} USD a barrel is 0",
                "raise --price above the fields' costs or check production",
            )
        )
    problems = check_applicable(structure, t)
    if problems:
        raise InputError(problems)
    groups = _spending_groups(t, structure)
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
        if structure.deal:
            raise InputError(
                Problem(
                    structure.source,
                    None,
                    structure.name,
                    "E-UNSUPPORTED",
                    f"structure {structure.name!r} is a deal with accounts or rules, which "
                    "sweeps and price paths do not handle yet",
                    "optimize or compare it at each price instead",
                )
            )
        for i, (key, value) in enumerate(m.quantities().items()):
            m.data[key] = prob.add_variable(f"data_{i}", lowBound=value, upBound=value)
    for name in expand_accounts(structure, t):
        m.accounts[name] = prob.add_variable(f"account_{len(m.accounts)}", lowBound=0)
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
    paid: dict[str, pulp.LpAffineExpression] = {}
    drawn: dict[str, list[pulp.LpAffineExpression]] = {}
    pools: dict[str, pulp.LpAffineExpression] = {}
    inflow: dict[Recipient, list[pulp.LpVariable]] = {}

    def amount(pool: Pool) -> pulp.LpAffineExpression:
        out = pulp.LpAffineExpression(constant=data.base(pool) / m.scale)
        for earlier in pool.after:
            rule = next(r for r in m.structure.deal.rules if r.name == earlier)
            out -= data.attribution(pool, rule) * paid[earlier]
        return out

    for due in dues(data)[0]:
        pool = pools.setdefault(due.pool.name, amount(due.pool))
        flows = []
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
            flows.append(f)
        paid[due.rule.name] = pulp.lpSum(flows)
        drawn.setdefault(due.pool.name, []).append(paid[due.rule.name])
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


def _usd_per_head_bounds(m: Model) -> None:
    """``min_usd_per_capita`` and ``max_usd_per_capita`` of regions.csv: each region's money a
    head (what its cells receive) within its own bounds, under every structure."""
    regions = m.territory.regions
    for column, rule in (
        ("min_usd_per_capita", "min_usd_per_capita"),
        ("max_usd_per_capita", "max_usd_per_capita"),
    ):
        if column not in regions.columns:
            continue
        for region, bound in regions[column].astype(float).items():
            if not np.isfinite(bound):
                continue
            money = m.cells_of("region", str(region))
            usd = bound * float(regions.loc[region, "population"]) / m.scale
            m.add(money >= usd if rule.startswith("min") else money <= usd, rule, str(region))
            m.sentences[f"{rule}[{region}]"] = (
                f"{region} receives {'at least' if rule.startswith('min') else 'at most'} "
                f"{bound:,.2f} USD a head ({column} in regions.csv)"
            )


def _central_share(m: Model) -> None:
    lo, hi = m.structure.central_share
    if lo > 0:
        m.add(m.g >= lo * m.quantity("revenue"), "central_share", "lower")
    m.add(m.g <= hi * m.quantity("revenue"), "central_share", "upper")


def _distributable(m: Model) -> pulp.LpAffineExpression:
    return m.quantity("revenue") - m.g


def _derivation(m: Model) -> None:
    d = m.structure.derivation
    if d <= 0:
        return
    for region, v_r in m.region_revenue.items():
        if v_r > 0:
            money = m.cells_of("region", str(region))
            m.add(money >= d * m.quantity("region", str(region)), "derivation", str(region))


def _bloc_retention(m: Model) -> None:
    for bloc, v_b in m.bloc_revenue.items():
        rho = m.structure.bloc_retention_for(str(bloc))
        if rho > 0 and v_b > 0:
            money = m.cells_of("bloc", str(bloc))
            m.add(money >= rho * m.quantity("bloc", str(bloc)), "bloc_retention", str(bloc))


def _guaranteed_shares(m: Model) -> None:
    for column, table in (("bloc", m.structure.bloc_share), ("faction", m.structure.faction_share)):
        for name, share in sorted(table.items()):
            if share > 0:
                m.add(
                    m.cells_of(column, name) >= share * _distributable(m), f"{column}_share", name
                )


def _per_capita(m: Model) -> None:
    floor, cap = m.structure.per_capita_floor, m.structure.per_capita_cap
    for k, label in enumerate(m.groups["label"]):
        if floor:
            m.add(m.z[k] >= floor * _distributable(m), "floor", label)
        if cap is not None:
            m.add(m.z[k] <= cap * _distributable(m), "cap", label)


def sharing_pool(m: Model) -> pulp.LpAffineExpression:
    """What is shared after derivation: ``D - derivation * V``."""
    return _distributable(m) - m.structure.derivation * m.quantity("revenue")


def damage_weights(m: Model) -> pd.Series:
    w = m.territory.regions["damage"].astype(float)
    return w / w.sum() if w.sum() > 0 else w * 0.0


def _damage(m: Model) -> None:
    alpha = m.structure.damage_allotment
    if alpha <= 0:
        return
    for region, w in damage_weights(m).items():
        if w > 0:
            m.add(
                m.cells_of("region", str(region)) >= alpha * w * sharing_pool(m),
                "damage",
                str(region),
            )


def _secession(m: Model) -> None:
    if not m.structure.secession_proof:
        return
    keep = 1.0 - m.structure.secession_cost
    for bloc, o_b in m.outside_option.items():
        if o_b > 0:
            money = m.cells_of("bloc", str(bloc))
            m.add(money >= keep * m.quantity("outside", str(bloc)), "secession", str(bloc))


RULES: tuple[Callable[[Model], None], ...] = (
    _budget,
    _deal,
    _usd_per_head_bounds,
    _central_share,
    _derivation,
    _bloc_retention,
    _guaranteed_shares,
    _per_capita,
    _damage,
    _secession,
)
