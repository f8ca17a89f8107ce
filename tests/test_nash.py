"""The nash objective: closed forms, scipy's nonlinear solver, relabelling, and the reported gap."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import revshare
from revshare.reports import summary_json
from revshare.solve.nash import GAP


def blocs_territory(revenue: list[float], population: list[float], names: list[str] | None = None):
    names = names or [f"B{i}" for i in range(len(revenue))]
    regions = [f"R-{n}" for n in names]
    fields = pd.DataFrame(
        {"field": [f"F-{n}" for n in names], "region": regions, "annual_revenue_usd": revenue}
    )
    pop = pd.DataFrame({"region": regions, "faction": "X", "population": population})
    reg = pd.DataFrame({"region": regions, "bloc": names})
    return revshare.territory_from_frames(fields, pop, reg)


NASH = ["objective=nash", "central_share=0", "derivation=0", "secession_cost=0.2"]


def surplus_tolerance(total: float) -> float:
    # the objective gap bounds the money's error by about sqrt(GAP) of the surplus
    return 10 * np.sqrt(GAP) * total


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize(
    ("revenue", "population"),
    [
        ([6e9, 4e9], [1e6, 3e6]),
        ([6e9, 3e9, 1e9], [1e6, 2e6, 3e6]),
        ([1e8, 0.0, 5e9], [5e5, 5e5, 1e6]),
    ],
)
def test_matches_the_closed_form(solver, revenue, population):
    """With only the budget binding, bloc b gets d_b + w_b * (V - sum d): the surplus is split in
    proportion to population (Kalai's asymmetric Nash solution)."""
    t = blocs_territory(revenue, population)
    a = revshare.optimize(t, "federation", price=0, overrides=NASH, solver=solver)
    d = 0.8 * np.array(revenue)
    w = np.array(population) / sum(population)
    expected = d + w * (sum(revenue) - d.sum())
    got = a.blocs.set_index("bloc").loc[[f"B{i}" for i in range(len(revenue))], "usd"].to_numpy()
    assert np.allclose(got, expected, rtol=0, atol=surplus_tolerance(sum(revenue) - d.sum()))
    gap = max(GAP, 1e-7 if solver == "cbc" else 0.0)
    assert a.provenance["nash_gap"] <= gap
    optimum = float(np.sum(w * np.log(expected - d)))
    assert a.objective_value == pytest.approx(optimum, abs=10 * gap * abs(optimum))


def scipy_nash(revenue, population, floors):
    """Reference: maximise sum w log(X - d) s.t. sum X = V, X_b >= floor_b, by SLSQP."""
    V = sum(revenue)
    d = 0.8 * np.array(revenue)
    w = np.array(population) / sum(population)
    x0 = np.maximum(d + w * (V - d.sum()), np.array(floors) + 1e-6 * V)
    x0 = x0 * V / x0.sum()
    # scipy works on money as a fraction of V: SLSQP is unreliable on values near 1e10
    dn, fn = d / V, np.array(floors) / V
    res = minimize(
        lambda y: -np.sum(w * np.log(np.maximum(y - dn, 1e-300))),
        x0 / V,
        constraints=[{"type": "eq", "fun": lambda y: y.sum() - 1.0}],
        bounds=[(max(f, di) + 1e-12, 1.0) for f, di in zip(fn, dn, strict=True)],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    assert res.success
    x = res.x * V
    return x, float(np.sum(w * np.log(x - d)))


@pytest.mark.parametrize("seed", range(6))
def test_matches_scipy_with_binding_bloc_shares(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    revenue = list(rng.uniform(1e8, 1e10, k))
    population = list(rng.uniform(1e5, 1e7, k))
    d = 0.8 * np.array(revenue)
    lo, hi = d[0] / sum(revenue), 1 - d[1:].sum() / sum(revenue)
    share = float(lo + rng.uniform(0.3, 0.9) * (hi - lo))
    t = blocs_territory(revenue, population)
    a = revshare.optimize(t, "federation", price=0, overrides=[*NASH, f"bloc_share.B0={share}"])
    floors = [share * sum(revenue)] + [0.0] * (k - 1)
    x, optimum = scipy_nash(revenue, population, floors)
    got = a.blocs.set_index("bloc").loc[[f"B{i}" for i in range(k)], "usd"].to_numpy()
    assert a.objective_value == pytest.approx(optimum, abs=1e-6)
    assert np.allclose(got, x, rtol=1e-4)
    assert got[0] >= floors[0] - a.verification.tolerance_usd


def test_relabelling_changes_nobodys_money():
    revenue, population = [6e9, 3e9, 1e9], [1e6, 2e6, 3e6]
    a = revshare.optimize(
        blocs_territory(revenue, population, ["north", "south", "east"]),
        "federation",
        price=0,
        overrides=NASH,
    )
    b = revshare.optimize(
        blocs_territory(revenue, population, ["شمال", "جنوب", "Zz"]),
        "federation",
        price=0,
        overrides=NASH,
    )
    tol = surplus_tolerance(sum(revenue))
    assert np.allclose(
        a.blocs.set_index("bloc").loc[["north", "south", "east"], "usd"],
        b.blocs.set_index("bloc").loc[["شمال", "جنوب", "Zz"], "usd"],
        atol=tol,
    )


def test_without_a_cost_of_secession_there_is_nothing_to_bargain_over():
    t = blocs_territory([6e9, 4e9], [1e6, 3e6])
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(t, "federation", price=0, overrides=[*NASH[:-1], "secession_cost=0"])
    assert "secession_cost" in str(err.value)


def test_gap_is_reported_in_the_summary_and_rules_hold():
    t = blocs_territory([6e9, 3e9, 1e9], [1e6, 2e6, 3e6])
    a = revshare.optimize(
        t, "federation", price=0, overrides=[*NASH, "per_capita_floor=0.5", "secession_proof=true"]
    )
    doc = json.loads(summary_json(a))
    assert 0 <= doc["provenance"]["nash_gap"] <= GAP
    assert a.verification.ok
    blocs = a.blocs.set_index("bloc")
    keep = 0.8 * blocs["outside_option_usd"]
    assert (blocs["usd"] >= keep - a.verification.tolerance_usd).all()
