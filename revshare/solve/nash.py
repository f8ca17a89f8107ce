"""The Nash bargaining objective, solved exactly by tangent cuts (Kelley's cutting-plane method).

Maximise ``sum_b P_b * log(X_b - d_b)`` over the structure's rules, where ``d_b = (1 - sigma) * O_b``
is bloc b's disagreement point: what it would keep by seceding, net of the cost of secession
``sigma`` (``secession_cost``). This is the population-weighted (asymmetric) Nash bargaining
solution (Nash, "The Bargaining Problem", *Econometrica* 18, 1950; Kalai, "Nonsymmetric Nash
solutions", *Int. J. Game Theory* 6, 1977).

``log`` is concave, so each tangent ``log(s0) + (s - s0) / s0`` lies above it: the LP with the
tangents gathered so far bounds the optimum from above, and the log of its solution bounds it from
below. New tangents at the solution are added until the two bounds meet within ``GAP`` (relative),
and the gap is reported. The loop is written against :class:`revshare.solve.lp.Lp`: the HiGHS
executor runs it in one warm-started HiGHS instance, the CBC executor through PuLP.

Without a cost of secession the blocs' outside options add up to all the revenue, so no union
leaves every bloc better off: the objective then has no finite optimum and revshare says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pulp

from ..errors import InfeasibleError, NotOptimalError
from ..model.lp import Model
from .lp import Lp

GAP = 1e-9  # relative; money is then accurate to about sqrt(GAP) of each bloc's surplus
POSITIVE = 1e-9  # relative to revenue: a smallest surplus at or below this is no surplus
MAX_ROUNDS = 500


@dataclass(frozen=True)
class NashResult:
    """Bloc money (model units) at the optimum, the objective in USD terms, and the final gap."""

    bloc_money: dict[str, float]
    value: float
    gap: float
    rounds: int


def disagreement(m: Model) -> dict[str, float]:
    """Each bloc's disagreement point ``(1 - secession_cost) * O_b`` in model units."""
    keep = 1.0 - m.structure.secession_cost
    return {str(b): keep * o / m.scale for b, o in m.outside_option.items()}


def weights(m: Model) -> dict[str, float]:
    pop = m.territory.regions.groupby("bloc")["population"].sum()
    return {str(b): float(p / pop.sum()) for b, p in pop.items()}


Open = Callable[[], Lp]  # a fresh LP over the model's rows, none of the loop's yet


def solve_nash(m: Model, open_lp: Open, precision: float = 0.0) -> NashResult:
    """Run the cutting-plane loop in one LP from ``open_lp``, whose solves raise on any
    non-optimal status. The loop stops at a relative gap of ``GAP``, or of the solver's
    ``precision`` when that is coarser (CBC's 8-digit solutions cannot close 1e-9)."""
    target = max(GAP, precision)
    blocs = m.territory.blocs
    d = disagreement(m)
    w = weights(m)
    money = {b: m.cells_of("bloc", b) for b in blocs}
    lp = open_lp()
    floor = m.prob.add_variable("nash_min_surplus")
    for k, b in enumerate(blocs):
        lp.add(money[b] - d[b] >= floor, f"nash_surplus_{k}")
    best_floor = lp.optimum(pulp.lpSum([floor]), pulp.LpMaximize, "objective")
    if best_floor <= POSITIVE * m.v:
        poorest = min(blocs, key=lambda b: lp.value(money[b]) - d[b])
        raise no_surplus(m, open_lp, poorest, best_floor)
    surplus = {b: lp.value(money[b]) - d[b] for b in blocs}
    u = {b: m.prob.add_variable(f"nash_u_{k}") for k, b in enumerate(blocs)}
    objective = pulp.lpSum(w[b] * u[b] for b in blocs)
    cuts = 0
    smallest = dict.fromkeys(blocs, math.inf)

    def cut(b: str, s0: float) -> None:
        nonlocal cuts
        lp.add(u[b] <= math.log(s0) + (money[b] - d[b] - s0) / s0, f"nash_cut_{cuts}")
        smallest[b] = min(smallest[b], s0)
        cuts += 1

    # start from tangents on a geometric grid between the max-min surplus and the whole revenue
    for b in blocs:
        for s0 in np.geomspace(best_floor / 10, m.v, 8):
            cut(b, float(s0))
        cut(b, surplus[b])
    gap = math.inf
    for rounds in range(1, MAX_ROUNDS + 1):
        upper = lp.optimum(objective, pulp.LpMaximize, "nash")
        surplus = {b: lp.value(money[b]) - d[b] for b in blocs}
        if min(surplus.values()) <= 0:
            for b in blocs:
                if surplus[b] <= 0:
                    cut(b, smallest[b] / 10)
            continue
        lower = sum(w[b] * math.log(surplus[b]) for b in blocs)
        gap = (upper - lower) / max(1.0, abs(lower))
        if gap <= target:
            value = lower + math.log(m.scale) * sum(w.values())
            return NashResult({b: surplus[b] + d[b] for b in blocs}, value, max(gap, 0.0), rounds)
        for b in blocs:
            if lp.value(pulp.lpSum([u[b]])) - math.log(surplus[b]) > target * 1e-2:
                cut(b, surplus[b])
    raise NotOptimalError(
        f"the nash cutting planes did not close the gap ({gap:.2g}) in {MAX_ROUNDS} rounds"
    )


def _best_floor(m: Model, open_lp: Open, cost: float) -> float:
    """The largest smallest surplus over the blocs, in model units, at secession cost ``cost``."""
    lp = open_lp()
    floor = m.prob.add_variable("nash_min_surplus")
    for k, (b, o) in enumerate(m.outside_option.items()):
        keep = (1.0 - cost) * float(o) / m.scale
        lp.add(m.cells_of("bloc", str(b)) - keep >= floor, f"nash_surplus_{k}")
    return lp.optimum(pulp.lpSum([floor]), pulp.LpMaximize, "objective")


def least_cost(m: Model, open_lp: Open) -> float | None:
    """The secession cost above which some allocation leaves every bloc better off than by
    seceding, or ``None`` when no cost below 1 does (a bloc without an outside option that the
    rules hold at nothing). Every bloc keeps at least ``r`` of its outside option, ``r`` as large
    as the rules allow; any cost above ``1 - r`` then leaves each bloc a positive surplus."""
    options = {str(b): float(o) / m.scale for b, o in m.outside_option.items()}
    if not any(o > 0 for o in options.values()):
        return None
    lp = open_lp()
    r = m.prob.add_variable("nash_kept_ratio")
    for k, (b, o) in enumerate(options.items()):
        if o > 0:
            lp.add(m.cells_of("bloc", b) >= r * o, f"nash_ratio_{k}")
    ratio = lp.optimum(pulp.lpSum([r]), pulp.LpMaximize, "objective")
    cost = max(1.0 - ratio, 0.0)
    return cost if cost < 1.0 else None


def no_surplus(m: Model, open_lp: Open, poorest: str, best_floor: float) -> InfeasibleError:
    """The error for rules under which no allocation leaves every bloc better off than by
    seceding, with a secession cost that is checked (by solving again) to make one exist."""
    cost = m.structure.secession_cost
    usd = abs(best_floor) * m.scale
    if best_floor < 0:
        fact = f"the best leaves {poorest} {usd:,.0f} USD short of it"
    else:
        fact = f"the best leaves {poorest} at most {usd:,.0f} USD above it"
    threshold = least_cost(m, open_lp)
    overrides: list[str] = []
    concession = ""
    if threshold is not None:
        new = max(math.ceil(threshold * 1e4 + 1) / 1e4, cost + 1e-4)
        if new < 1.0 and _best_floor(m, open_lp, new) > POSITIVE * m.v:
            overrides = [f"secession_cost={new:g}"]
            concession = (
                f"raise secession_cost from {cost:.4g} to {new:.4g}: every bloc then gains "
                "from union (checked by solving again)"
            )
    advice = (
        f"Set secession_cost above {threshold:.4g} (it is {cost:.4g}) or relax the rules"
        if overrides and threshold is not None
        else "No secession cost below 1 helps: relax the rules"
    )
    return InfeasibleError(
        "the nash objective needs an allocation that gives every bloc more than its outside "
        f"option less the cost of secession ({cost:.4g}); under these rules {fact}. {advice}",
        conflict=[f"secession surplus[{b}] > 0" for b in m.territory.blocs],
        concession=concession,
        overrides=overrides,
    )


def keep_bloc_money(m: Model, result: NashResult, tolerance: float) -> None:
    """Hold each bloc at its Nash money (unique: the objective is strictly concave in it)."""
    for b, x in result.bloc_money.items():
        m.add(m.cells_of("bloc", b) >= x - tolerance, "keep_optimum", f"nash/{b}/lower")
        m.add(m.cells_of("bloc", b) <= x + tolerance, "keep_optimum", f"nash/{b}/upper")


__all__ = ["GAP", "NashResult", "keep_bloc_money", "solve_nash"]
