"""The library's main entry: solve one structure on one territory and return a verified result."""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pulp

from .._version import __version__
from ..data.dataset import Territory, check_price, require_territory
from ..data.structures import Structure, apply_overrides, resolve
from ..errors import (
    InfeasibleError,
    InputError,
    NotOptimalError,
    NumericalTroubleError,
    Problem,
    wrong_type,
)
from ..model.lp import Model, build_model, choose_scale
from ..model.metrics import metrics, round_money, summarise
from ..model.objectives import NEEDS_PROPORTIONAL_TIE_BREAK
from ..solve import highs_executor
from ..solve.deal_check import DealMoney
from ..solve.plan import Solution, retry_config
from ..solve.solver import SolverConfig
from ..solve.verify import (
    RELATIVE_TOLERANCE,
    Verification,
    require_finite,
    require_verified,
    verify,
)
from .accounts import accounts_table, deal_money, payments_table, served_per_head

CROSS_CHECK_RELATIVE = 1e-7


# eq=False: the generated __eq__ compares data frames (bool of a frame raises) and __hash__
# hashes the metrics dict (unhashable), so neither could answer; not generating them is 2 of
# the 6 methods written and compiled at every start.
@dataclass(frozen=True, eq=False)
class Allocation:
    """A proven, verified optimum with its tables, metrics and provenance.

    ``cells``, ``regions``, ``factions`` and ``blocs`` are tidy tables with ``usd`` (exact),
    ``usd_rounded`` (whole dollars summing exactly to the rounded total) and ``usd_per_head``.
    """

    structure: Structure
    price: float
    revenue_usd: float
    centre_usd: float
    centre_usd_rounded: int
    cells: pd.DataFrame
    regions: pd.DataFrame
    factions: pd.DataFrame
    blocs: pd.DataFrame
    objective_value: float | None
    metrics: Mapping[str, Any]
    binding: pd.DataFrame
    verification: Verification
    provenance: Mapping[str, Any] = field(default_factory=dict)
    optimal: bool = True
    # the recipients that are not cells (the centre first, then a deal's accounts) and what
    # each rule of a deal paid each recipient (revshare.analyses.accounts)
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    payments: pd.DataFrame = field(default_factory=pd.DataFrame)


def versions() -> dict[str, str]:
    """The versions of revshare, Python and the libraries that computed a result, as each
    library reports its own: they are loaded by then, and reading the installed packages'
    metadata instead (importlib.metadata) cost a command more than its own bookkeeping."""
    return {
        "revshare": __version__,
        "python": platform.python_version(),
        "pulp": pulp.__version__,
        "highspy": highspy.Highs().version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }


def _cells_usd(
    territory: Territory,
    structure: Structure,
    sol: Solution,
    model_scale: float,
    groups: pd.DataFrame,
) -> np.ndarray:
    cells = territory.cells
    P = territory.population
    if structure.within_region == "equal":
        z_of_region = dict(zip(groups["region"], sol.z, strict=True))
        z = cells["region"].map(z_of_region).to_numpy()
    else:
        z = sol.z
    return cells["population"].to_numpy() / P * z * model_scale


# Verification tolerance relative to total revenue: 10 USD in 1e11 with HiGHS; CBC's 8-digit
# solution file cannot promise better than 1e-7.
VERIFY_RELATIVE = {"highs": 1e-10, "cbc": 1e-7}


def conserve(x: np.ndarray, centre: float, revenue: float) -> tuple[np.ndarray, float]:
    """Rescale the solver's amounts so that they add up to the revenue exactly.

    CBC's values come back with 8 significant digits, so their sum can miss the budget by a
    relative 1e-8; a common factor keeps every ratio (equal money per head stays equal). The
    verifier then checks every rule on the rescaled amounts; a solver whose sum is off by more
    than its tolerance is rejected there, not hidden here.
    """
    many, centres = conserve_many(np.asarray(x)[None, :], np.array([centre]), np.array([revenue]))
    return many[0], float(centres[0])


def conserve_many(
    x: np.ndarray, centre: np.ndarray, revenue: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`conserve` for many allocations at once: ``x`` (n, cells), ``centre`` and
    ``revenue`` (n,); an allocation whose sum is not positive, or off by more than a relative
    1e-6, is left as it is (the verifier then judges it)."""
    total = x.sum(axis=1) + centre
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = revenue / total
    factor = np.where((total > 0) & np.isfinite(factor) & (np.abs(factor - 1) <= 1e-6), factor, 1.0)
    return x * factor[:, None], centre * factor


def verify_tolerance(config: SolverConfig) -> float:
    return VERIFY_RELATIVE.get(config.name, RELATIVE_TOLERANCE)


def resolve_price(territory: Territory, price: float | None) -> float:
    """The price to solve at, checked (:func:`revshare.data.dataset.check_price`). None is needed when
    every field gives its revenue in USD: a given one is then not used
    (:meth:`Territory.price_notice`) and 0 stands for it."""
    if not territory.price_dependent:
        return 0.0 if price is None else check_price(price, territory)
    if price is None:
        price = territory.default_price
    if price is None:
        raise InputError(
            Problem(
                "price",
                None,
                None,
                "E-USAGE",
                "no oil price given and the dataset has no default_price",
                "give a price (USD a barrel) or add default_price to structures.toml",
            )
        )
    return check_price(price, territory)


def optimize(
    territory: Territory,
    structure: Structure | str = "federation",
    *,
    price: float | None = None,
    overrides: list[str] | None = None,
    solver: str = "highs",
    cross_check: bool = False,
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
) -> Allocation:
    """Allocate the territory's oil revenue under ``structure`` at ``price`` USD a barrel.

    Parameters
    ----------
    territory : from :func:`revshare.load_dataset` or :func:`revshare.territory_from_frames`.
    structure : a :class:`Structure`, a preset or dataset structure name, or a ``.toml`` path.
    overrides : ``PARAM=VALUE`` strings, each overriding one parameter of the structure.
    cross_check : also solve with the other solver and fail when the two disagree.

    Raises
    ------
    InputError, InfeasibleError, NotOptimalError, SolverUnavailableError

    Examples
    --------
    >>> import revshare
    >>> t = revshare.load_dataset("data/iraq")
    >>> a = revshare.analyses.optimize(t, "federation", overrides=["central_share=0", "derivation=0"])
    >>> int(a.cells["usd_rounded"].sum()) == round(a.revenue_usd)
    True
    """
    require_territory(territory)
    if not isinstance(structure, str | Structure):
        raise wrong_type(
            "structure", "a Structure or a structure's name", structure, "pass e.g. 'federation'"
        )
    started = time.perf_counter()
    if isinstance(structure, str):
        structure = resolve(structure, territory.structures)
    structure = apply_overrides(structure, overrides or [])
    price = resolve_price(territory, price)
    config = SolverConfig(solver, time_limit, solver_options or {})
    built = time.perf_counter()
    model = build_model(territory, structure, price)
    build_seconds = time.perf_counter() - built
    try:
        model, sol = _solve_with_retry(territory, structure, price, model, config)
    except InfeasibleError as exc:
        if exc.explanation is not None or (structure.objective == "nash" and exc.conflict):
            raise
        from .explain import explain  # only an infeasible structure needs the explanation

        explained = explain(territory, structure, price, config)
        if not explained.conflict:
            raise NotOptimalError(
                "the solver reported the structure infeasible, but every rule holds together when "
                "checked one conflict at a time: numerical trouble; try `solver='cbc'` or rescale "
                "the data"
            ) from None
        raise explained from None
    x, centre, deal = money_of(territory, structure, model, sol)
    checked = time.perf_counter()
    verification = verify(territory, structure, price, x, centre, verify_tolerance(config), deal)
    require_verified(verification)
    verify_seconds = time.perf_counter() - checked
    if cross_check:
        _cross_check(territory, structure, price, config, sol, x, model.scale)
    alloc = assemble(
        territory,
        structure,
        price,
        model.revenue,
        x,
        centre,
        sol,
        verification,
        model.outside_option,
        model.region_revenue,
        deal,
    )
    alloc = dataclasses.replace(alloc, payments=payments_table(model, deal, model.revenue))
    provenance = {
        "dataset": territory.name,
        "price_used": territory.price_dependent,
        "inputs": dict(territory.provenance.get("inputs", {})),
        "notices": list(territory.provenance.get("notices", [])),
        "versions": versions(),
        "solver": solver,
        "cross_checked_with": ("cbc" if solver == "highs" else "highs") if cross_check else None,
        "status": "optimal",
        "model_scale_usd": model.scale,
        "tolerances": {
            "stage_relative": config.precision,
            "verification_usd": verification.tolerance_usd,
        },
        "tie_break": "leximin over per-head levels after the objective"
        + (
            " and a proportional step"
            if structure.objective in NEEDS_PROPORTIONAL_TIE_BREAK
            else ""
        ),
        "nash_gap": sol.nash_gap,
        "rounding": "whole dollars, largest remainder, ties by sorted key; totals exact",
        "seconds": {
            "build": build_seconds,
            "solve": sol.seconds,
            "verify": verify_seconds,
            "total": time.perf_counter() - started,
        },
        "solver_stages": sol.stages,
        "structure_hash": hashlib.sha256(repr(structure).encode()).hexdigest(),
    }
    result = Allocation(**{**alloc.__dict__, "provenance": provenance})
    require_finite(result, "allocation")
    return result


def money_of(
    territory: Territory, structure: Structure, model: Model, sol: Solution
) -> tuple[np.ndarray, float, DealMoney]:
    """Money per cell, the centre's and a deal's in USD, rescaled together so that they add up
    to the revenue exactly (:func:`conserve`)."""
    x = _cells_usd(territory, structure, sol, model.scale, model.groups)
    deal = deal_money(model, sol.extra, model.scale)
    held = np.array(list(deal.accounts.values()), dtype=float)
    both, centre = conserve(np.concatenate([x, held]), sol.g * model.scale, model.revenue)
    given = x.sum() + held.sum()  # conserve applied one factor to every amount
    factor = both.sum() / given if given > 0 else 1.0
    rescaled = DealMoney(
        dict(zip(deal.accounts, both[len(x) :], strict=True)),
        {k: v * factor for k, v in deal.payments.items()},
    )
    return both[: len(x)], centre, rescaled


def solve_model(model: Model, config: SolverConfig) -> Solution:
    """The staged plan on ``model``: in place in HiGHS, or through PuLP for CBC."""
    if config.name == "highs":
        return highs_executor.solve(model, config)
    from ..solve import pulp_executor  # only CBC solves through PuLP

    return pulp_executor.solve(model, config)


def _solve_with_retry(
    territory: Territory, structure: Structure, price: float, model: Model, config: SolverConfig
) -> tuple[Model, Solution]:
    """The staged solve, and the plan's one retry after numerical trouble (a later stage declared
    infeasible: e.g. HiGHS with presolve on for sudan-2005 federation at 25 USD and off for
    iraq-2005 at 114.79 USD; CBC, whose 8-digit values can overshoot an optimum by 5e-8 of it, on
    iraq federation) on a fresh model (:func:`revshare.solve.plan.retry_config`). A second failure
    names the solver and what to try."""
    try:
        return model, solve_model(model, config)
    except NumericalTroubleError as first:
        retry = retry_config(config)
        fresh = build_model(territory, structure, price)
        try:  # the retry also leaves every group to the rounds: no pinned group's row
            with highs_executor.without_pinning():
                return fresh, solve_model(fresh, retry)
        except NumericalTroubleError:
            alternative = "cbc" if config.name == "highs" else "highs"
            raise NumericalTroubleError(
                f"{first} although an earlier stage found the rules feasible, "
                f"and again with presolve {retry.options['presolve']}: numerical trouble in the "
                f"solver, not a conflict in the rules. Try solver {alternative!r}, or rescale the "
                "data (e.g. drop tiny population cells)"
            ) from None


def _cross_check(
    territory: Territory,
    structure: Structure,
    price: float,
    config: SolverConfig,
    sol: Solution,
    x: np.ndarray,
    scale: float,
) -> None:
    other = SolverConfig("cbc" if config.name == "highs" else "highs", config.time_limit, {})
    model, sol2 = _solve_with_retry(
        territory, structure, price, build_model(territory, structure, price), other
    )
    x2, centre2, deal2 = money_of(territory, structure, model, sol2)
    require_verified(
        verify(territory, structure, price, x2, centre2, verify_tolerance(other), deal2)
    )
    a, b = sol.objective_value or 0.0, sol2.objective_value or 0.0
    rel = abs(a - b) / max(1.0, abs(a), abs(b), model.v)
    gap = float(np.max(np.abs(x - x2))) if len(x) else 0.0
    total = float(territory.field_revenue(price).sum())
    if rel > CROSS_CHECK_RELATIVE or gap > 1e-6 * total:
        raise NotOptimalError(
            f"solvers disagree: {config.name} objective {a:.10g}, {other.name} {b:.10g} (relative "
            f"{rel:.2g}); largest difference in one cell {gap:,.2f} USD"
        )


def assemble(
    territory: Territory,
    structure: Structure,
    price: float,
    revenue: float,
    x: np.ndarray,
    centre: float,
    sol: Solution,
    verification: Verification,
    outside: pd.Series,
    region_revenue: pd.Series,
    deal: DealMoney | None = None,
) -> Allocation:
    """Tables, rounding and metrics from verified money per cell, the centre's and a deal's."""
    deal = deal or DealMoney()
    cells = territory.cells.copy()
    cells["bloc"] = cells["region"].map(territory.regions["bloc"])
    cells["usd"] = x
    cells["usd_rounded"], top = _round_hierarchically(
        cells["region"], x, {structure.centre: centre, **deal.accounts}, revenue
    )
    centre_rounded = top.pop(structure.centre)
    cells["usd_per_head"] = cells["usd"] / cells["population"]
    baseline = cells["region"].map(territory.regions["baseline_usd_per_capita"]).fillna(0.0)
    cells["level_per_head"] = cells["usd_per_head"] + baseline
    cells = cells[
        [
            "region",
            "faction",
            "bloc",
            "population",
            "usd",
            "usd_rounded",
            "usd_per_head",
            "level_per_head",
        ]
    ]
    accounts = accounts_table(
        territory, structure, price, revenue, centre, centre_rounded, deal, top
    )
    # the served view: a cell's own money a head plus that of every government serving it
    served = cells["region"].map(served_per_head(territory, accounts)).to_numpy(dtype=float)
    cells["usd_per_head_served"] = cells["usd_per_head"] + served
    regions = summarise(cells, "region")
    regions["own_revenue_usd"] = regions["region"].map(region_revenue).fillna(0.0)
    factions = summarise(cells, "faction")
    blocs = summarise(cells, "bloc")
    heads = cells["population"] * cells["usd_per_head_served"]
    for table, by in ((regions, "region"), (factions, "faction"), (blocs, "bloc")):
        table["usd_per_head_served"] = (
            table[by].map(heads.groupby(cells[by]).sum()) / table["population"]
        )
    blocs["own_revenue_usd"] = blocs["bloc"].map(territory.bloc_revenue(price)).fillna(0.0)
    blocs["outside_option_usd"] = blocs["bloc"].map(outside).fillna(0.0)
    blocs["surplus_over_secession_usd"] = blocs["usd"] - blocs["outside_option_usd"]
    scale = choose_scale(revenue)  # the model's money unit, as build_model chose it
    scale_obj = 1.0
    objective = sol.objective_value
    if objective is not None and structure.objective != "nash":
        per_head = structure.objective in ("maxmin", "leximin")
        scale_obj = scale / (territory.population if per_head else 1.0)
        objective *= scale_obj
    binding = pd.DataFrame(sol.binding, columns=["constraint", "dual", "slack"])
    binding["objective_change_per_usd"] = binding["dual"] * scale_obj / scale
    binding = (
        binding.drop(columns=["dual", "slack"]).sort_values("constraint").reset_index(drop=True)
    )
    return Allocation(
        structure=structure,
        price=price,
        revenue_usd=revenue,
        centre_usd=centre,
        centre_usd_rounded=centre_rounded,
        cells=cells,
        regions=regions,
        factions=factions,
        blocs=blocs,
        objective_value=objective,
        metrics=metrics(cells, blocs, revenue, centre, region_revenue, regions.set_index("region")),
        binding=binding,
        verification=verification,
        accounts=accounts,
    )


def _round_hierarchically(
    region: pd.Series, x: np.ndarray, others: Mapping[str, float], revenue: float
) -> tuple[np.ndarray, dict[str, int]]:
    """Whole dollars: regions, the centre and a deal's accounts (``others``) first, summing to
    the revenue rounded half to even, each within a dollar of its exact amount; then each
    region's cells, summing to the region's dollars."""
    by_region = pd.Series(x).groupby(region.to_numpy()).sum()
    names = [str(r) for r in by_region.index]
    # the recipients that are not cells sort after every region, in their own order
    keys = [*names, *(f"\uffff{i:09d}" for i in range(len(others)))]
    top = round_money(
        np.append(by_region.to_numpy(), list(others.values())), keys, total=round(revenue)
    )
    out = np.zeros(len(x), dtype=np.int64)
    # each region's cells in row order, found in one pass (not one scan of every cell a region)
    codes = by_region.index.get_indexer(region.to_numpy())
    ends = np.cumsum(np.bincount(codes, minlength=len(by_region)))
    for i, idx in enumerate(np.split(np.argsort(codes, kind="stable"), ends[:-1])):
        out[idx] = round_money(x[idx], [str(k) for k in idx], total=int(top[i]))
    return out, {k: int(v) for k, v in zip(others, top[len(names) :], strict=True)}


def model_lp(
    territory: Territory,
    structure: Structure | str,
    *,
    price: float | None = None,
    overrides: list[str] | None = None,
) -> str:
    """The structure's model with its objective, in LP format, for inspection."""
    import os
    import tempfile

    from ..model.objectives import OBJECTIVES

    if isinstance(structure, str):
        structure = resolve(structure, territory.structures)
    structure = apply_overrides(structure, overrides or [])
    model = build_model(territory, structure, resolve_price(territory, price))
    objective = OBJECTIVES[structure.objective](model)
    if objective.expression is not None:
        model.prob.setObjective(objective.expression)
        model.prob.sense = objective.sense
    fd, path = tempfile.mkstemp(suffix=".lp")
    os.close(fd)
    try:
        model.prob.writeLP(path)
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    finally:
        os.unlink(path)
