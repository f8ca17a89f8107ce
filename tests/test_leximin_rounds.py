"""Issue 12: far fewer LP solves, same answers.

A stage's duals bound every column over all the points within the stage's tolerance of its
optimum (:func:`revshare.solve.plan.stage_ranges`); groups those bounds pin skip the leximin
rounds. The bounds must hold (checked against each column's exact range, found by LP, on random
and deliberately degenerate LPs), and the plan must give the money every round gives.
"""

from __future__ import annotations

import numpy as np
import pulp
import pytest
import scipy.sparse as sp

import revshare
from revshare.data.synthetic import synthetic_territory
from revshare.solve import highs_executor
from revshare.solve.instance import INF, Instance, column_ranges
from revshare.solve.plan import propagate


def _random_lp(seed: int) -> tuple[pulp.LpProblem, pulp.LpAffineExpression, int]:
    """A bounded LP with ties: a budget row, random rows, an equality written as two rows (a
    degenerate basis), and costs drawn from few values (several optima)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    prob = pulp.LpProblem("random")
    x = [prob.add_variable(f"x{j}", 0, float(rng.integers(1, 5))) for j in range(n)]
    prob += pulp.lpSum(x) <= float(rng.integers(2, 3 * n)), "budget"
    for i in range(int(rng.integers(1, 5))):
        coefs = rng.integers(-2, 3, n).astype(float)
        prob += pulp.lpSum(c * v for c, v in zip(coefs, x, strict=True)) <= float(n), f"row{i}"
    pair = pulp.lpSum(x[:2])
    prob += pair >= 1.0, "pair_lower"
    prob += pair <= 1.0, "pair_upper"
    cost = rng.choice([0.0, 1.0, 2.0], n)
    sense = pulp.LpMinimize if seed % 2 else pulp.LpMaximize
    return prob, pulp.lpSum(c * v for c, v in zip(cost, x, strict=True)), sense


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("slack", [0.0, 1e-6, 0.3])
def test_stage_ranges_hold_every_point_near_the_optimum(seed, slack):
    prob, expr, sense = _random_lp(seed)
    inst = Instance(prob, {"presolve": "off"})
    cols = np.array([inst.col[v.name] for v, _ in expr.items()] or [0], dtype=np.int32)
    coef = np.array([c for _, c in expr.items()] or [0.0])
    assert inst.optimise(cols, coef, sense, None).value == "optimal"
    best = float(coef @ inst.x()[cols])
    lower, upper = column_ranges(inst, sense, slack)
    keep = (-INF, best + slack) if sense == pulp.LpMinimize else (best - slack, INF)
    inst.add_rows(np.array([keep[0]]), np.array([keep[1]]), [cols], [coef])
    for j in range(inst.n_cols):
        for direction in (pulp.LpMinimize, pulp.LpMaximize):
            status = inst.optimise(np.array([j], dtype=np.int32), np.ones(1), direction, None)
            assert status.value == "optimal"
            reached = float(inst.x()[j])
            assert lower[j] - 1e-7 <= reached <= upper[j] + 1e-7, (j, reached, lower[j], upper[j])


@pytest.mark.parametrize(
    ("row", "col_lower", "col_upper", "row_lower", "row_upper", "lower", "upper"),
    [
        # x + y = 1 with y in [0, 0.25]: x in [0.75, 1]
        ([1, 1], [-INF, 0.0], [INF, 0.25], [1.0], [1.0], [0.75, 0.0], [1.0, 0.25]),
        # x - y <= 0, y <= 2, x >= 1: x in [1, 2], y in [1, 2]
        ([1, -1], [1.0, -INF], [INF, 2.0], [-INF], [0.0], [1.0, 1.0], [2.0, 2.0]),
        # -2x + y >= 0 with y in [0, 4], x >= -1: x in [-1, 2]
        ([-2, 1], [-1.0, 0.0], [INF, 4.0], [0.0], [INF], [-1.0, 0.0], [2.0, 4.0]),
        # nothing bounds x + y from either side: nothing learnt
        ([1, 1], [-INF, 0.0], [INF, 1.0], [-INF], [INF], [-INF, 0.0], [INF, 1.0]),
    ],
)
def test_propagation_through_rows(row, col_lower, col_upper, row_lower, row_upper, lower, upper):
    lo, hi = propagate(
        sp.csc_matrix(np.array([row], dtype=float)),
        np.array(col_lower),
        np.array(col_upper),
        np.array(row_lower),
        np.array(row_upper),
    )
    assert lo == pytest.approx(lower) and hi == pytest.approx(upper)


TERRITORIES = {n: synthetic_territory(regions=n, factions=5, seed=s) for n, s in [(40, 1), (90, 2)]}
CASES = [
    (n, structure, overrides)
    for n in TERRITORIES
    for structure, overrides in [
        ("federation", []),
        ("federation", ["objective=needs"]),
        ("federation", ["objective=formula"]),
        ("federation", ["objective=maxmin"]),
        ("federation", ["objective=leximin"]),
        ("confederation", []),
        ("partition", []),
    ]
]


@pytest.mark.parametrize(("regions", "structure", "overrides"), CASES)
def test_pinned_groups_skip_rounds_and_keep_the_money(monkeypatch, regions, structure, overrides):
    t = TERRITORIES[regions]
    try:
        proven = revshare.optimize(t, structure, overrides=overrides)
    except (revshare.InputError, revshare.InfeasibleError):
        pytest.skip("not a feasible case")
    monkeypatch.setattr(highs_executor, "PROVE_PINNED", False)
    rounds = revshare.optimize(t, structure, overrides=overrides)
    assert proven.verification.ok and rounds.verification.ok
    assert proven.provenance["solver_stages"] <= rounds.provenance["solver_stages"]
    gap = np.max(np.abs(proven.cells["usd"].to_numpy() - rounds.cells["usd"].to_numpy()))
    assert max(gap, abs(proven.centre_usd - rounds.centre_usd)) <= 1e-9 * rounds.revenue_usd


@pytest.mark.parametrize("overrides", [[], ["objective=needs"], ["objective=leximin"]])
def test_default_structure_needs_one_lp(overrides):
    """Every group's money is pinned by the first LP or, for the few whose range is wider than
    ``PIN_SHARE`` (4e-11 of revenue, so that names and row order move nobody's money by 1e-10),
    one leximin round (the issue's 288 LPs at 2,000 regions)."""
    a = revshare.optimize(TERRITORIES[90], "federation", overrides=overrides)
    assert a.provenance["solver_stages"] <= 2
