"""The core of the secession game: would any coalition of blocs rather leave together?

A coalition S of blocs has an outside option as one new state (:func:`revshare.model.parameters.
coalition_need`): its fields' revenue, fees between its members netted, fees with outsiders kept,
less the proportional ``secession_cost`` and the fixed ``secession_fixed_cost_usd`` of being a
state. Its **excess** under an allocation is its money less that option; the allocation is in the
**core** when no proper coalition has a negative excess.

For each structure this module reports, from the structure's own (verified) allocation, whether it
is in the core and the most dissatisfied coalition; and, by linear programs over the structure's
rules, the **least core** (the largest ``eps`` such that every proper coalition can get ``eps``
more than its option at once: negative when the core is empty, by how much the best allocation
falls short) and the **largest centre slice** that leaves the core non-empty. Coalitions are
enumerated exactly, all 2^B - 2 of them, up to :data:`MAX_COALITION_BLOCS` blocs.

Every LP (the structure's allocation, the least core, the largest slice) is solved with one
solver config (:func:`revshare.solve.program.solver_config`), HiGHS in place or CBC through
PuLP; with ``cross_check`` each figure is computed again with the other solver, and a difference
beyond the verifier's tolerance is a NotOptimalError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pulp

from ..data.dataset import Territory, require_territory
from ..data.structures import (
    MAX_COALITION_BLOCS,
    Structure,
    apply_overrides,
    require_structures,
    resolve,
)
from ..errors import InfeasibleError, InputError, NotOptimalError, Problem
from ..model.core import Model
from ..model.lp import build_model
from ..model.parameters import coalition_need, own_governments
from ..solve.lp import open_lp
from ..solve.plan import require_optimal
from ..solve.program import disagree, other_solver, solver_config, solving_arguments
from ..solve.solver import SolverConfig, Status
from .optimize import Allocation, optimize, resolve_price, verify_tolerance

CORE_COLUMNS = [
    "structure",
    "in_core",
    "worst_coalition",
    "worst_excess_usd",
    "least_core_usd",
    "max_centre_share",
]
EXCESS_COLUMNS = ["structure", "coalition", "size", "option_usd", "money_usd", "excess_usd"]


@dataclass(frozen=True)
class Core:
    """``table``: one row per structure (:data:`CORE_COLUMNS`); ``excesses``: every coalition's
    option, money and excess under each structure's allocation (:data:`EXCESS_COLUMNS`)."""

    dataset: str
    price: float
    table: pd.DataFrame
    excesses: pd.DataFrame


def excesses(t: Territory, s: Structure, price: float, bloc_usd: pd.Series) -> pd.DataFrame:
    """Every proper coalition's option, money and excess, in USD, from the data alone."""
    names, members, need = coalition_need(t, s, price)
    money = members @ bloc_usd.reindex(t.blocs).to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "coalition": names,
            "size": members.sum(axis=1).astype(int),
            "option_usd": need,
            "money_usd": money,
            "excess_usd": money - need,
        }
    )


def bloc_money(t: Territory, s: Structure, a: Allocation) -> pd.Series:
    """Each bloc's money in the secession game: its cells' and its own governments' (a deal's
    accounts serving it or its regions), not the centre's."""
    accounts = {r.account: r.usd for r in a.accounts.itertuples() if r.account != s.centre}
    own = own_governments(t, accounts, s)
    return a.blocs.set_index("bloc")["usd"].reindex(t.blocs) + own


def least_core(
    t: Territory,
    s: Structure,
    price: float,
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> float | None:
    """The largest ``eps`` (USD) such that, under every other rule of ``s``, each proper coalition
    can get ``eps`` more than its option at once; None when the other rules cannot hold.
    ``solver``, ``time_limit``, ``solver_options`` and ``cross_check`` as :func:`core` takes
    them."""
    config = solver_config(solver, time_limit, solver_options)
    return _checked(_least_core, t, s, price, config, cross_check, "the least core", "USD")


def max_centre_share(
    t: Territory,
    s: Structure,
    price: float,
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> float | None:
    """The largest centre slice (a share of revenue) under ``s``'s other rules with every proper
    coalition at its option; None when no slice leaves the core non-empty."""
    config = solver_config(solver, time_limit, solver_options)
    return _checked(
        _max_centre_share,
        t,
        s,
        price,
        config,
        cross_check,
        "the largest centre slice",
        "of revenue",
    )


def _least_core(t: Territory, s: Structure, price: float, config: SolverConfig) -> float | None:
    m = build_model(t, dataclasses.replace(s, coalition_proof=False), price)
    eps = m.prob.add_variable("least_core_eps")  # free: negative when the core is empty
    names, members, need = coalition_need(t, s, price)
    for name, row, usd in zip(names, members, need, strict=True):
        money = pulp.lpSum(m.bloc_money(b) for b, on in zip(t.blocs, row, strict=True) if on)
        m.add(money - eps >= usd / m.scale, "least_core", name)
    # bounded: no coalition gets more than all revenue
    m.add(eps <= m.v, "least_core_bound")
    value = _optimise(m, eps, pulp.LpMaximize, "least core", config)
    return None if value is None else value * m.scale


def _max_centre_share(
    t: Territory, s: Structure, price: float, config: SolverConfig
) -> float | None:
    lo = s.central_share[0]
    free = dataclasses.replace(s, coalition_proof=True, central_share=(lo, 1.0))
    m = build_model(t, free, price)
    value = _optimise(m, m.g, pulp.LpMaximize, "largest centre slice", config)
    return None if value is None else value / m.v


def _checked(
    compute: Callable[[Territory, Structure, float, SolverConfig], float | None],
    t: Territory,
    s: Structure,
    price: float,
    config: SolverConfig,
    cross_check: bool,
    what: str,
    unit: str,
) -> float | None:
    """``compute`` with ``config`` and, with ``cross_check``, again with the other solver: both
    must find the rules infeasible, or both the same value to the looser verification tolerance
    (relative to the revenue for USD, absolute for a share)."""
    value = compute(t, s, price, config)
    if not cross_check:
        return value
    other = other_solver(config)
    second = compute(t, s, price, other)
    if (value is None) != (second is None):
        raise NotOptimalError(
            f"solvers disagree on {what} under {s.name}: {config.name} "
            f"{'finds the rules infeasible' if value is None else f'{value:,.6g}'}, {other.name} "
            f"{'finds them infeasible' if second is None else f'{second:,.6g}'}"
        )
    if value is None or second is None:
        return None
    scale = float(t.field_revenue(price).sum()) if unit == "USD" else 1.0
    tol = max(verify_tolerance(config), verify_tolerance(other)) * max(scale, 1.0)
    disagree(f"{what} under {s.name}", config, value, second, tol, unit)
    return value


def _optimise(
    m: Model, var: pulp.LpVariable, sense: int, stage: str, config: SolverConfig
) -> float | None:
    """One solve of a single variable; None when the rules cannot hold."""
    lp, objective = open_lp(m, config), var + 0.0
    status = lp.optimise(objective, sense)
    if status is Status.INFEASIBLE:
        return None
    require_optimal(status, stage, m, config.name)
    return lp.value(objective)


def core(
    territory: Territory,
    structures: Sequence[str | Structure] | str,
    *,
    price: float | None = None,
    overrides: list[str] | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> Core:
    """The core report of each structure (see the module's docstring). ``solver``,
    ``time_limit``, ``solver_options`` and ``cross_check`` are as :func:`revshare.optimize`
    takes them, for every LP: each structure's allocation, its least core and its largest
    centre slice.

    Raises
    ------
    InputError
        with more than :data:`MAX_COALITION_BLOCS` blocs (``E-RANGE``), a bad solver option
        (before anything is solved), and as ``optimize`` does.
    NotOptimalError, SolverUnavailableError
        as ``optimize`` does; solvers that disagree beyond the verifier's tolerance.
    """
    require_territory(territory)
    if len(territory.blocs) > MAX_COALITION_BLOCS:
        raise InputError(
            Problem(
                "regions.csv",
                None,
                "bloc",
                "E-RANGE",
                f"the core enumerates the 2^B - 2 coalitions of blocs; this dataset has "
                f"{len(territory.blocs)} blocs, above the {MAX_COALITION_BLOCS} it handles",
                "group regions into fewer blocs",
            )
        )
    names = require_structures(structures)
    price = resolve_price(territory, price)
    config = solver_config(solver, time_limit, solver_options)
    solving = solving_arguments(config, cross_check)
    rows, tables = [], []
    for item in names:
        s = item if isinstance(item, Structure) else resolve(item, territory.structures)
        s = apply_overrides(s, overrides or [])
        try:
            a = optimize(territory, s, price=price, **solving)
        except InfeasibleError:
            a = None
        if a is not None:
            ex = excesses(territory, s, price, bloc_money(territory, s, a))
            tables.append(ex.assign(structure=s.name)[EXCESS_COLUMNS])
            worst = ex.loc[ex["excess_usd"].idxmin()]
            tol = a.verification.tolerance_usd
        rows.append(
            {
                "structure": s.name,
                "in_core": None if a is None else bool(worst["excess_usd"] >= -tol),
                "worst_coalition": None if a is None else worst["coalition"],
                "worst_excess_usd": None if a is None else float(worst["excess_usd"]),
                "least_core_usd": least_core(territory, s, price, **solving),
                "max_centre_share": max_centre_share(territory, s, price, **solving),
            }
        )
    excess = (
        pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=EXCESS_COLUMNS)
    )
    return Core(territory.name, price, pd.DataFrame(rows, columns=CORE_COLUMNS), excess)
