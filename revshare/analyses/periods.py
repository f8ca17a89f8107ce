"""Periods and a stabilisation fund: a sharing deal as a promise over years.

A price path gives each period ``t`` a price ``p_t`` and a length ``y_t`` in years; the period's
oil revenue is ``V_t = V(p_t) y_t`` (production as in fields.csv). The structure's rules hold in
every period, on the money the period shares out.

**The fund** (optional; Sudan's Oil Revenue Stabilization Account, Ghana's Stabilisation Fund):

- the *benchmark price* ``b_t`` is fixed, or the moving average of the previous ``window``
  periods' prices (``b_0 = p_0``: no history, no deposit);
- the revenue above the benchmark is *deposited*: ``d_t = max(V_t - V(b_t) y_t, 0)``;
- the balance earns ``interest`` a year: ``I_t = F_{t-1} ((1 + i)^{y_t} - 1)``;
- the *target* is ``V(b_t) y_t`` (the revenue at the benchmark), or a fixed ``target_usd`` a year;
  the fund *withdraws* what keeps the distributable revenue at the target, as far as it can:
  ``w_t = min(max(target_t - (V_t - d_t), 0), cap_t)``;
- ``cap_t`` is the balance before the period's deposit (with its interest), or with a *fiscal
  rule* ``spend_rule`` (Norway spends about 3% of its fund a year) ``spend_rule`` times it: a
  period never draws on its own deposit;
- ``F_t = F_{t-1} + I_t + d_t - w_t`` never falls below zero, and the period shares out
  ``R_t = V_t - d_t + w_t``.

Each period's revenue quantities (V, V_r, V_b and the outside options) are scaled by
``R_t / V_t``: the fund takes the same share of every field's revenue, and a bloc that left would
run the same fund. A period's allocation is then exactly the single-period model at those
quantities, solved by :class:`revshare.solve.engine.Engine` (built once, re-solved in place per
period), so every rule holds in every period. With a flat price path and no deposits the result
is T copies of the single-period allocation.

**Smoothing** (``smooth=True``): the fund keeps its deposits and its limits (balance, fiscal rule)
but chooses its withdrawals to smooth each cell's money per head a year over time, in three
stages each keeping the last: (1) maximise the lowest ratio, over cells and periods, of a cell's
money per head a year to its average over the path *without the fund*; (2) minimise the largest
period-to-period drop of that ratio; (3) keep as much as possible in the fund (the largest sum of
balances). The reference is fixed (the allocation with all of each period's revenue shared out:
solved when smoothing, else each period's allocation scaled back by ``V_t / R_t``, the same
wherever the allocation scales with the revenue), so the smoothing measures reported for any
run, with or without ``smooth``, are comparable. The fund LP reads each
cell's money as proportional to ``R_t`` (exact when the structure's allocation scales with the
revenue, which every rule does; a non-oil baseline in a max-min or leximin objective makes it an
approximation), and the reported allocation is solved exactly per period afterwards.

**Scale.** The per-period models are independent once the fund's flows are known, so there is no
coupling column across periods: T small solves of a model with one variable per region (where a
region spends equally per head), not one model with a variable per cell and period.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from ..data.dataset import Money, Territory, check_prices
from ..data.structures import Structure, apply_overrides, resolve
from ..errors import InfeasibleError, InputError, NotOptimalError, Problem, wrong_type
from ..model.lp import choose_scale
from ..model.metrics import gini, gini_rows, group_sums
from ..solve.engine import Engine
from ..solve.solver import SolverConfig, Status, run
from ..solve.verify import non_finite, require_finite, verify_batch
from .optimize import VERIFY_RELATIVE, conserve_many, versions

FUND_RELATIVE = 1e-9  # of the path's revenue: the fund's books must balance to this


MAX_FUND_USD = 1e15  # any amount of the fund: opening balance, target a year, balance reached
MAX_BENCHMARK_PRICE = 10_000.0  # USD a barrel
MAX_WINDOW = 10_000  # periods
INTEREST_RANGE = (-0.99, 1.0)  # a year


@dataclass(frozen=True)
class Fund:
    """A stabilisation fund's rules (module docstring).

    Every setting has a finite range; :meth:`problems` names the setting (as the parameter
    ``fund_<name>`` of the command line's options) of any value outside it:

    ============================  =====================================  ==================
    attribute                     range                                  parameter
    ============================  =====================================  ==================
    ``benchmark_price``           None, or 0 to 10,000 USD a barrel       ``fund_benchmark``
    ``window``                    an integer, 1 to 10,000 periods         ``fund_benchmark``
    ``target_usd``                None, or 0 to 1e15 USD a year           ``fund_target``
    ``spend_rule``                None, or 0 to 1 (a share of balance)    ``fund_spend_rule``
    ``interest``                  -0.99 to 1 a year                       ``fund_interest``
    ``initial_usd``               0 to 1e15 USD                           ``fund_initial``
    ============================  =====================================  ==================

    The balance the fund would reach on a path if it never withdrew (its opening balance and
    every deposit, with interest) must stay within 1e15 USD too; :func:`optimize_periods`
    rejects a path on which it would not (``E-RANGE`` on ``fund_interest``). Within these ranges
    every quantity of the fund's books is a finite number.
    """

    benchmark_price: float | None = None
    window: int = 12
    target_usd: float | None = None
    spend_rule: float | None = None
    interest: float = 0.0
    initial_usd: float = 0.0

    def problems(self) -> list[Problem]:
        """Every setting outside its range (class docstring), as E-RANGE problems."""
        out = []

        def check(
            name: str, value: Any, low: float, high: float, what: str, integer: bool = False
        ) -> None:
            kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
            if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
                ok = False
            else:
                ok = bool(math.isfinite(value) and low <= value <= high)
            if not ok:
                out.append(
                    Problem(
                        name,
                        None,
                        None,
                        "E-RANGE",
                        f"{what} must be between {low:g} and {high:g}, got {value!r}",
                        f"give {name} a value in that range",
                    )
                )

        if self.benchmark_price is not None:
            check("fund_benchmark", self.benchmark_price, 0, MAX_BENCHMARK_PRICE, "the price")
        check("fund_benchmark", self.window, 1, MAX_WINDOW, "the moving average's periods", True)
        if self.target_usd is not None:
            check("fund_target", self.target_usd, 0, MAX_FUND_USD, "the target (USD a year)")
        if self.spend_rule is not None:
            check("fund_spend_rule", self.spend_rule, 0, 1, "the share of the balance")
        check("fund_interest", self.interest, *INTEREST_RANGE, "the interest rate a year")
        check("fund_initial", self.initial_usd, 0, MAX_FUND_USD, "the opening balance (USD)")
        return out


@dataclass(frozen=True)
class PeriodAllocation:
    """Verified allocations of every period, the fund's flows and the smoothing measures.

    ``flows``: one row per period (price, years, revenue, benchmark, deposit, interest,
    withdrawal, balance, distributable, centre). ``cells``: one row per period and cell
    (``usd`` in the period, ``usd_per_head_a_year``). ``periods``: per period the
    money per head a year of every bloc and faction, and the Gini index.
    """

    structure: Structure
    flows: pd.DataFrame
    cells: pd.DataFrame
    periods: pd.DataFrame
    smoothing: Mapping[str, float]
    verification: Mapping[str, Any]
    provenance: Mapping[str, Any] = field(default_factory=dict)


def benchmark_prices(prices: np.ndarray, fund: Fund) -> np.ndarray:
    """``b_t``: the fixed benchmark, or the mean of the previous ``window`` prices."""
    if fund.benchmark_price is not None:
        return np.full(len(prices), float(fund.benchmark_price))
    out = np.empty(len(prices))
    for t in range(len(prices)):
        past = prices[max(0, t - fund.window) : t]
        out[t] = past.mean() if len(past) else prices[t]
    return out


def _base_flows(t: Territory, path: pd.DataFrame, fund: Fund | None) -> pd.DataFrame:
    prices = path["price"].to_numpy(dtype=float)
    years = path["years"].to_numpy(dtype=float)
    revenue = t.money(prices).revenue * years
    flows = pd.DataFrame(
        {
            "period": path["period"].to_numpy(),
            "price": prices,
            "years": years,
            "revenue_usd": revenue,
        }
    )
    if fund is None:
        return flows
    bench = benchmark_prices(prices, fund)
    bench_revenue = t.money(bench).revenue * years
    flows["benchmark_price"] = bench
    flows["benchmark_revenue_usd"] = bench_revenue
    flows["deposit_usd"] = np.maximum(revenue - bench_revenue, 0.0)
    flows["target_usd"] = bench_revenue if fund.target_usd is None else fund.target_usd * years
    with np.errstate(over="ignore"):  # an overflow is caught by _fund_range as too large
        flows["growth"] = (1.0 + fund.interest) ** years
    return flows


def mechanical_flows(t: Territory, path: pd.DataFrame, fund: Fund | None) -> pd.DataFrame:
    """The fund's flows by its rules (module docstring); without a fund, R_t = V_t."""
    flows = _base_flows(t, path, fund)
    if fund is None:
        flows["distributable_usd"] = flows["revenue_usd"]
        return flows
    balance = fund.initial_usd
    interest, withdrawal, balances = [], [], []
    for r in flows.itertuples():
        grown = balance * r.growth
        cap = grown if fund.spend_rule is None else fund.spend_rule * grown
        w = min(max(r.target_usd - (r.revenue_usd - r.deposit_usd), 0.0), cap)
        interest.append(grown - balance)
        withdrawal.append(w)
        balance = grown + r.deposit_usd - w
        balances.append(balance)
    flows["interest_usd"] = interest
    flows["withdrawal_usd"] = withdrawal
    flows["balance_usd"] = balances
    return _finish(flows)


def _finish(flows: pd.DataFrame) -> pd.DataFrame:
    flows["distributable_usd"] = (
        flows["revenue_usd"] - flows["deposit_usd"] + flows["withdrawal_usd"]
    )
    return flows.drop(columns=["growth"])


def smoothed_flows(
    t: Territory,
    path: pd.DataFrame,
    fund: Fund,
    response: np.ndarray,
    config: SolverConfig,
) -> pd.DataFrame:
    """The fund's withdrawals chosen to smooth each cell's money (module docstring).

    ``response`` is each cell's money in each period with the whole revenue shared out (T, C).
    """
    flows = _base_flows(t, path, fund)
    T = len(flows)
    V = flows["revenue_usd"].to_numpy()
    d = flows["deposit_usd"].to_numpy()
    growth = flows["growth"].to_numpy()
    years = flows["years"].to_numpy()
    scale = choose_scale(float(V.mean()))
    pop = t.cells["population"].to_numpy(dtype=float)
    rate = response / pop / years[:, None]  # per head a year, with R_t = V_t
    mean = rate.mean(axis=0)
    keep = mean > 0
    u = rate[:, keep] / mean[keep]  # each cell's rate relative to its average
    prob = pulp.LpProblem("fund", pulp.LpMaximize)
    w = [prob.add_variable(f"w_{k}", lowBound=0) for k in range(T)]
    F = [prob.add_variable(f"F_{k}", lowBound=0) for k in range(T)]
    low = prob.add_variable("lowest")
    drop = prob.add_variable("drop", lowBound=0)
    start = fund.initial_usd / scale
    for k in range(T):
        before = F[k - 1] if k else start
        prob.addConstraint(F[k] == growth[k] * before + d[k] / scale - w[k], f"balance_{k}")
        share = 1.0 if fund.spend_rule is None else fund.spend_rule
        prob.addConstraint(w[k] <= share * growth[k] * before, f"spend_{k}")
    phi = [(V[k] - d[k]) / V[k] + (scale / V[k]) * w[k] for k in range(T)]
    for k in range(T):
        prob.addConstraint(low <= float(u[k].min()) * phi[k], f"lowest_{k}")
    for k in range(1, T):
        for a, b in _pareto(u[k - 1], u[k]):
            prob.addConstraint(drop >= a * phi[k - 1] - b * phi[k], f"drop_{k}_{a:.17g}")
    stages = [
        (pulp.lpSum([low]), pulp.LpMaximize),
        (pulp.lpSum([drop]), pulp.LpMinimize),
        (pulp.lpSum(F), pulp.LpMaximize),
    ]
    for i, (expr, sense) in enumerate(stages):
        prob.setObjective(expr)
        prob.sense = sense
        status = run(prob, config)
        if status is not Status.OPTIMAL:
            raise NotOptimalError(f"the fund's smoothing stage {i + 1} ended '{status.value}'")
        value = float(pulp.value(expr))
        tol = config.precision * (abs(value) + 1.0) + 1e-9
        bound = expr <= value + tol if sense == pulp.LpMinimize else expr >= value - tol
        prob.addConstraint(bound, f"keep_{i}")
    withdrawal = np.array([wk.value() or 0.0 for wk in w]) * scale
    # The balances follow from the withdrawals exactly (the LP's are within its tolerance).
    balance, before, interest = [], fund.initial_usd, []
    for k in range(T):
        cap = before * growth[k] * (1.0 if fund.spend_rule is None else fund.spend_rule)
        withdrawal[k] = min(max(withdrawal[k], 0.0), cap)
        interest.append(before * (growth[k] - 1))
        before = before * growth[k] + d[k] - withdrawal[k]
        balance.append(max(before, 0.0))
    flows["interest_usd"] = interest
    flows["withdrawal_usd"] = withdrawal
    flows["balance_usd"] = balance
    return _finish(flows)


def _pareto(a: np.ndarray, b: np.ndarray) -> list[tuple[float, float]]:
    """The pairs (a_c, b_c) that can give ``max_c a_c x - b_c y`` for some x, y >= 0: those no
    other pair beats with a larger ``a`` and a smaller ``b``."""
    order = np.lexsort((b, -a))
    out, best_b = [], math.inf
    for i in order:
        if b[i] < best_b:
            out.append((float(a[i]), float(b[i])))
            best_b = b[i]
    return out


def _scaled(money: Money, factor: np.ndarray) -> Money:
    f = factor[:, None]
    return Money(
        money.prices, money.revenue * factor, money.region * f, money.bloc * f, money.outside * f
    )


def optimize_periods(
    territory: Territory,
    structure: Structure | str,
    path: pd.DataFrame,
    *,
    fund: Fund | None = None,
    smooth: bool = False,
    overrides: list[str] | None = None,
    time_limit: float | None = None,
) -> PeriodAllocation:
    """Allocate every period of ``path`` (``period, price, years``) under ``structure``, with an
    optional stabilisation fund (module docstring).

    Raises
    ------
    InputError, InfeasibleError (naming the periods), NotOptimalError
    """
    if not isinstance(path, pd.DataFrame):
        raise wrong_type(
            "path", "a price path table", path, "read one with revshare.read_periods(file)"
        )
    started = time.perf_counter()
    if isinstance(structure, str):
        structure = resolve(structure, territory.structures)
    structure = apply_overrides(structure, overrides or [])
    problems = fund.problems() if fund is not None else []
    if smooth and fund is None:
        problems.append(
            Problem("smooth", None, None, "E-USAGE", "smoothing needs a fund", "add fund_benchmark")
        )
    if structure.objective == "nash":
        problems.append(
            Problem(
                "structure",
                None,
                None,
                "E-USAGE",
                "periods do not support the nash objective yet",
                "choose another objective",
            )
        )
    prices = path["price"].to_numpy(dtype=float)
    lines = path["_line"] if "_line" in path else [None] * len(path)
    try:  # each price in range, the path's revenue within range, and a price that matters
        check_prices(
            prices,
            territory,
            parameter="periods",
            years=path["years"],
            lines=[int(v) for v in path["_line"]] if "_line" in path else None,
        )
    except InputError as exc:
        problems += exc.problems
    money = territory.money(prices)
    years = path["years"].to_numpy(dtype=float)
    for line, period, price, year, v in zip(
        lines, path["period"], prices, years, money.revenue, strict=True
    ):
        where = None if line is None else int(line)
        if not (math.isfinite(price) and math.isfinite(year) and year > 0 and math.isfinite(v)):
            problems.append(
                Problem(
                    "periods",
                    where,
                    "price" if math.isfinite(year) and year > 0 else "years",
                    "E-RANGE",
                    f"period {period}: price {price!r} and years {year!r} do not give a finite "
                    "revenue over a positive length of time",
                    "give a finite price and a positive number of years",
                )
            )
        elif not v > 0:
            problems.append(
                Problem(
                    "periods",
                    where,
                    "price",
                    "E-ZERO-REVENUE",
                    f"period {period}: revenue at {price:g} USD a barrel is 0",
                    "raise the price above the fields' costs",
                )
            )
    if fund is not None and not problems:
        bench = benchmark_prices(prices, fund)
        if np.any(territory.money(bench).revenue <= 0):
            problems.append(
                Problem(
                    "fund_benchmark",
                    None,
                    None,
                    "E-RANGE",
                    "at the benchmark price no field earns anything, so the fund would take all "
                    "the revenue and share out nothing",
                    "set a benchmark above the fields' costs",
                )
            )
        else:
            problems += _fund_range(_base_flows(territory, path, fund), fund)
    if problems:
        raise InputError(problems)
    config = SolverConfig("highs", time_limit)
    engine = Engine(territory, structure, float(prices.max()), config)
    built = time.perf_counter()
    solves = 0
    full = None  # each cell's money with all of each period's revenue shared out
    if smooth:
        assert fund is not None
        full, _, solves = _solve(engine, _scaled(money, years), path)
        flows = smoothed_flows(territory, path, fund, full, config)
    else:
        flows = mechanical_flows(territory, path, fund)
    fund_problems = check_fund(territory, path, fund, flows, smooth)
    if fund_problems:  # before any period is solved on them
        raise NotOptimalError("verification failed: " + "; ".join(fund_problems) + ". Not reported")
    factor = flows["distributable_usd"].to_numpy() / money.revenue
    period_money = _scaled(money, factor)
    x, centre, more = _solve(engine, period_money, path)
    solves += more
    solved = time.perf_counter()
    checked = verify_batch(territory, structure, period_money, x, centre, VERIFY_RELATIVE["highs"])
    if not checked.ok.all():
        bad = np.flatnonzero(~checked.ok)
        worst = [f"period {flows['period'].iloc[i]}: {checked.worst[i]}" for i in bad[:3]]
        raise NotOptimalError("verification failed: " + "; ".join(worst) + ". Not reported")
    flows["centre_usd"] = centre
    if full is None:  # scaled back to the whole revenue: exact where the allocation scales
        full = x * (money.revenue * years / flows["distributable_usd"].to_numpy())[:, None]
    result = _tables(territory, structure, flows, x, centre, full)
    require_finite({"flows": flows, "cells": result[0], "periods": result[1]}, "periods")
    require_finite(result[2], "smoothing")
    verification = {
        "periods": len(flows),
        "checks_per_period": checked.checks,
        "max_violation_usd": float(checked.max_violation_usd.max()),
        "tolerance_usd": float(checked.tolerance_usd.max()),
        "fund_checks": "balance never negative; books balance each period" if fund else "no fund",
    }
    provenance = {
        "dataset": territory.name,
        "inputs": dict(territory.provenance.get("inputs", {})),
        "versions": versions(),
        "solver": "highs (re-solved in place per period)",
        "fund": None if fund is None else fund.__dict__,
        "smooth": smooth,
        "lp_solves": solves,
        "seconds": {
            "build": built - started,
            "solve": solved - built,
            "verify": time.perf_counter() - solved,
        },
    }
    return PeriodAllocation(structure, flows, *result, verification, provenance)


def _solve(engine: Engine, money: Money, path: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Every period's allocation (money per cell, centre) and the LP solves it took."""
    solved = engine.solve(money)
    status = np.array([s.value for s in solved.status])
    if (status == "infeasible").any():
        which = path["period"].to_numpy()[status == "infeasible"]
        shown = ", ".join(map(str, which[:10])) + (" ..." if len(which) > 10 else "")
        raise InfeasibleError(
            f"structure {engine.structure.name!r} is infeasible in {len(which)} period(s): "
            f"{shown}; its rules cannot all hold on those periods' revenue (optimize one "
            "of them at its `price` to see which rules conflict)"
        )
    if (status != "optimal").any():
        raise NotOptimalError("a period could not be solved to proven optimality")
    x, centre = conserve_many(solved.cells_usd, solved.centre_usd, money.revenue)
    return x, centre, int(solved.stages.sum())


def _fund_range(flows: pd.DataFrame, fund: Fund) -> list[Problem]:
    """The balance the fund would reach if it never withdrew (its opening balance and every
    deposit, with interest) must stay within MAX_FUND_USD: no balance, interest or withdrawal
    on the path can then exceed it, whatever the withdrawals (by rule or smoothed)."""
    ceiling = fund.initial_usd
    for period, growth, deposit in zip(
        flows["period"], flows["growth"], flows["deposit_usd"], strict=True
    ):
        ceiling = ceiling * growth + deposit
        if not ceiling <= MAX_FUND_USD:  # NaN and infinity too
            return [
                Problem(
                    "fund",
                    None,
                    None,
                    "E-RANGE",
                    f"with interest {fund.interest:g} a year and opening balance "
                    f"{fund.initial_usd:g} USD the fund could hold {ceiling:.3g} USD by period "
                    f"{period}, above the supported {MAX_FUND_USD:g} USD",
                    "lower fund_interest or fund_initial, raise fund_benchmark, or use a "
                    "shorter path",
                )
            ]
    return []


def check_fund(
    t: Territory, path: pd.DataFrame, fund: Fund | None, flows: pd.DataFrame, smooth: bool
) -> list[str]:
    """The fund's books recomputed from the data: revenue, deposits, balance never negative,
    each period's balance from the last, withdrawals within the rules, and R_t."""
    V = t.money(path["price"].to_numpy(dtype=float)).revenue * path["years"].to_numpy(dtype=float)
    books = ["distributable_usd"]
    if fund is not None:
        books += ["deposit_usd", "withdrawal_usd", "balance_usd", "interest_usd"]
    missing = [c for c in books if c not in flows]
    if missing:
        return [f"the fund's books lack {', '.join(missing)}"]
    bad = non_finite({"revenue": V, **{c: flows[c] for c in flows if flows[c].dtype.kind in "fc"}})
    if bad:  # a comparison with NaN is false: never let one through as "within tolerance"
        return [f"{', '.join(bad[:3])} in the fund's books is not a finite number"]
    out = []
    R = flows["distributable_usd"].to_numpy()
    largest = max(float(V.sum()), float(np.abs(flows[books].to_numpy()).max()))
    if fund is not None:
        largest = max(largest, fund.initial_usd)
    tol = FUND_RELATIVE * largest + 1e-6  # of the largest amount in the books

    def off(a: np.ndarray, b: np.ndarray) -> bool:  # NaN is off, whatever the tolerance
        return not bool(np.all(np.abs(a - b) <= tol))

    if fund is None:
        return ["distributable differs from revenue"] if off(R, V) else []
    expected = _base_flows(t, path, fund)
    d = flows["deposit_usd"].to_numpy()
    if off(d, expected["deposit_usd"].to_numpy()):
        out.append("a deposit differs from the revenue above the benchmark")
    w = flows["withdrawal_usd"].to_numpy()
    balance = flows["balance_usd"].to_numpy()
    growth = expected["growth"].to_numpy()
    before = np.append(fund.initial_usd, balance[:-1])
    if not (np.all(balance >= -tol) and np.all(w >= -tol)):
        out.append("the fund went below zero")
    if off(balance, before * growth + d - w):
        out.append("a balance does not follow from the last one")
    if off(flows["interest_usd"].to_numpy(), before * (growth - 1)):
        out.append("an interest payment differs from the balance times the interest rate")
    cap = before * growth * (1.0 if fund.spend_rule is None else fund.spend_rule)
    if not np.all(w <= cap + tol):
        out.append("a withdrawal exceeds what the fund rules allow")
    if off(R, V - d + w):
        out.append("distributable revenue differs from revenue - deposit + withdrawal")
    if not smooth:
        target = expected["target_usd"].to_numpy()
        rule = np.minimum(np.maximum(target - (V - d), 0.0), cap)
        if off(w, rule):
            out.append("a withdrawal differs from the fund's rule")
    return out


def _tables(
    t: Territory,
    s: Structure,
    flows: pd.DataFrame,
    x: np.ndarray,
    centre: np.ndarray,
    reference: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """The long and per-period tables, and the smoothing measures relative to each cell's
    average money per head a year in ``reference`` (the path without a fund)."""
    cells = t.cells
    T, C = x.shape
    pop = cells["population"].to_numpy(dtype=float)
    years = flows["years"].to_numpy()
    per_head_year = x / pop / years[:, None]
    long = pd.DataFrame(
        {
            "period": np.repeat(flows["period"].to_numpy(), C),
            "region": np.tile(cells["region"].to_numpy(), T),
            "faction": np.tile(cells["faction"].to_numpy(), T),
            "population": np.tile(pop, T),
            "usd": x.reshape(-1),
            "usd_per_head_a_year": per_head_year.reshape(-1),
        }
    )
    summary: dict[str, Any] = {"period": flows["period"].to_numpy(), "centre_usd": centre}
    for kind, names, labels in (
        ("faction", t.factions, cells["faction"]),
        ("bloc", t.blocs, cells["region"].map(t.regions["bloc"])),
    ):
        rate = group_sums(x, labels, names) / group_sums(pop, labels, names) / years[:, None]
        summary.update({f"{kind}:{n}": rate[:, j] for j, n in enumerate(names)})
    summary["gini"] = gini_rows(per_head_year, pop)
    mean = (reference / pop / years[:, None]).mean(axis=0)
    keep = mean > 0
    relative = per_head_year[:, keep] / mean[keep]
    drops = relative[:-1] - relative[1:] if T > 1 else np.zeros((1, int(keep.sum())))
    smoothing = {
        "lowest_relative_to_average": float(relative.min()) if keep.any() else 1.0,
        "largest_drop_relative_to_average": float(max(drops.max(), 0.0)) if keep.any() else 0.0,
        "gini_of_total_over_path": gini(x.sum(axis=0) / pop, pop),
    }
    return long, pd.DataFrame(summary), smoothing


def fund_from_options(
    benchmark: str | None,
    *,
    target_usd: float | None = None,
    spend_rule: float | None = None,
    interest: float = 0.0,
    initial_usd: float = 0.0,
) -> Fund | None:
    """A Fund from command-line words: ``benchmark`` is a price (``70``), or ``ma`` / ``ma:N``
    for the moving average of the previous N periods' prices (12 by default); None means no
    fund, and then the other settings must be unset."""
    if benchmark is None:
        given = [
            f
            for f, v in (("fund_target", target_usd), ("fund_spend_rule", spend_rule))
            if v is not None
        ]
        given += [f for f, v in (("fund_interest", interest), ("fund_initial", initial_usd)) if v]
        if given:
            raise InputError(
                Problem(
                    given[0],
                    None,
                    None,
                    "E-USAGE",
                    "fund settings need a fund",
                    "give fund_benchmark a price or ma:N",
                )
            )
        return None
    text = benchmark.strip().lower()
    try:
        if text == "ma" or text.startswith("ma:"):
            _, _, n = text.partition(":")
            fund = Fund(window=int(n) if n else 12)
        else:
            fund = Fund(benchmark_price=float(text))
    except ValueError:
        raise InputError(
            Problem(
                "fund_benchmark",
                None,
                None,
                "E-USAGE",
                f"cannot read {benchmark!r}",
                "write a price (70) or ma:N (ma:12)",
            )
        ) from None
    fund = Fund(fund.benchmark_price, fund.window, target_usd, spend_rule, interest, initial_usd)
    if fund.problems():
        raise InputError(fund.problems())
    return fund
