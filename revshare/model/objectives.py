"""Objectives (docs/concepts.md#the-deal), one function each, registered by name.

An objective only adds its auxiliary variables and constraints to the model it is handed and returns
the expression to optimise; :mod:`revshare.solve.solver` owns solving and tie-breaking. Money objectives
are in model money units; :class:`Objective` says how to turn them into report units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pulp

from .core import Model
from .parameters import damage_weights, sharing_pool


class Objective(NamedTuple):
    """What to optimise: ``expression`` with ``sense``; ``None`` means feasibility only."""

    expression: pulp.LpAffineExpression | None
    sense: int  # pulp.LpMinimize or pulp.LpMaximize
    unit: str  # "usd" or "usd_per_head"


def region_targets(m: Model, base_share: pd.Series) -> pd.Series:
    """Each region's target money, as model-unit expressions linear in the centre's slice.

    ``T_r = derivation * V_r + pool * (alpha * w_r + (1 - alpha) * s_r)``: derivation is paid off
    the top (as in Nigeria's s. 162(2)), the damage allotment is earmarked, and the rest of the
    pool follows ``base_share`` (population, need or formula shares).
    """
    s = m.structure
    pool = sharing_pool(m)
    w = damage_weights(m)
    out = {}
    for region, share in base_share.items():
        weight = s.damage_allotment * w.get(region, 0.0) + (1 - s.damage_allotment) * share
        out[region] = s.derivation * m.quantity("region", str(region)) + weight * pool
    return pd.Series(out)


def l1_to_targets(m: Model, base_share: pd.Series, tag: str = "dev") -> pulp.LpAffineExpression:
    """Add ``|x_k - T_k|`` deviations, targets spread within a region by population."""
    targets = region_targets(m, base_share)
    region_pop = m.territory.regions["population"]
    devs = []
    for k, row in enumerate(m.groups.itertuples()):
        target = targets[row.region] * (row.population / region_pop[row.region])
        d = m.prob.add_variable(f"{tag}_{k}", lowBound=0)
        money = row.pi * m.z[k]
        m.add(d >= money - target, f"objective_{tag}_over", row.label)
        m.add(d >= target - money, f"objective_{tag}_under", row.label)
        devs.append(d)
    return pulp.lpSum(devs)


def population_shares(m: Model) -> pd.Series:
    r = m.territory.regions
    return r["population"] / r["population"].sum()


def _indicator(m: Model, column: str) -> pd.Series:
    """A ``regions.csv`` indicator, > 0 for every region: :func:`build_model` checked it
    (:func:`revshare.data.structures.needed_indicators`)."""
    return m.territory.regions[column].astype(float)


def need_shares(m: Model) -> pd.Series:
    weighted = m.territory.regions["population"] * _indicator(m, "need_index")
    return weighted / weighted.sum()


def formula_shares(m: Model) -> pd.Series:
    """Nigeria-style horizontal formula: weighted indicator shares, weights renormalised."""
    r = m.territory.regions
    weights = {k: v for k, v in m.structure.formula_weights.items() if v > 0}
    indicators = {
        "equality": lambda: pd.Series(1.0 / len(r), index=r.index),
        "population": lambda: population_shares(m),
        "area": lambda: (a := _indicator(m, "area_km2")) / a.sum(),
        "need": lambda: need_shares(m),
    }
    total = sum(weights.values())
    parts = [(w / total) * indicators[k]() for k, w in weights.items()]
    return pd.concat(parts, axis=1).sum(axis=1)


def proportional(m: Model) -> Objective:
    """Minimise the L1 distance from population-proportional shares (plus earmarks).

    Half of it, over distributable revenue, is the Loosemore-Hanby index (Loosemore and Hanby,
    1971, *British Journal of Political Science* 1(4)).
    """
    return Objective(l1_to_targets(m, population_shares(m)), pulp.LpMinimize, "usd")


def needs(m: Model) -> Objective:
    """Minimise the L1 distance from shares proportional to ``population * need_index``."""
    return Objective(l1_to_targets(m, need_shares(m)), pulp.LpMinimize, "usd")


def formula(m: Model) -> Objective:
    """Minimise the L1 distance from indicator-formula shares (Nigeria's RMAFC horizontal formula:
    equality, population, landmass, social development)."""
    return Objective(l1_to_targets(m, formula_shares(m)), pulp.LpMinimize, "usd")


def level_offsets(m: Model) -> np.ndarray:
    """Baseline non-oil money per head of each group, in the model's level units."""
    return m.groups["baseline"].to_numpy() * m.territory.population / m.scale


def maxmin(m: Model) -> Objective:
    """Maximise the lowest per-head resource ``x_c / p_c + baseline`` (Rawls' difference
    principle; the egalitarian rule of the fair-division literature)."""
    t = m.prob.add_variable("minlevel")
    for k, (z, b) in enumerate(zip(m.z, level_offsets(m), strict=True)):
        m.add(t <= z + b, "objective_minlevel", m.groups["label"][k])
    return Objective(pulp.lpSum([t]), pulp.LpMaximize, "usd_per_head")


def leximin(m: Model) -> Objective:
    """Lexicographic max-min of per-head levels (Rawls; Moulin, *Fair Division and Collective
    Welfare*, 2003): raise the poorest, then the next poorest, ... The result is unique; the
    driver's tie-break stage computes it."""
    return Objective(None, pulp.LpMinimize, "usd_per_head")


def centre_residual(m: Model) -> Objective:
    """Maximise the centre's slice: regions get exactly what the rules guarantee them and the
    national government keeps the rest (the residual claim of the Sudan CPA's national
    government)."""
    return Objective(pulp.lpSum([m.g]), pulp.LpMaximize, "usd")


def nash(m: Model) -> Objective:
    """Population-weighted Nash bargaining with secession as the disagreement point; solved by
    :mod:`revshare.solve.nash` (the expression is not linear, so none is returned here)."""
    return Objective(None, pulp.LpMaximize, "log_usd")


OBJECTIVES: dict[str, Callable[[Model], Objective]] = {
    "proportional": proportional,
    "needs": needs,
    "formula": formula,
    "maxmin": maxmin,
    "leximin": leximin,
    "centre-residual": centre_residual,
    "nash": nash,
}

# Objectives whose optimum leaves whole regions' money free get a proportional step before leximin.
NEEDS_PROPORTIONAL_TIE_BREAK = frozenset({"maxmin", "centre-residual", "nash"})
