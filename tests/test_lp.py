"""Issue 12: the nash cuts and explain's elastic LP run in place in one HiGHS instance under the
HiGHS executor (:mod:`revshare.solve.lp`), with the answers of the PuLP path they replaced."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pulp
import pytest

import revshare
from revshare.data.structures import PRESETS
from revshare.model.lp import build_model
from revshare.solve import lp as one_lp
from revshare.solve.instance import Instance, highs_options
from revshare.solve.lp import InPlaceLp, PulpLp
from revshare.solve.nash import GAP
from revshare.solve.solver import SolverConfig, Status

ROOT = Path(__file__).resolve().parent.parent
NASH = ["objective=nash", "central_share=0", "derivation=0", "secession_cost=0.2"]


def blocs_territory(revenue: list[float], population: list[float]) -> revshare.Territory:
    """One region a bloc, its own field and faction (as in tests/test_nash.py)."""
    names = [f"B{i}" for i in range(len(revenue))]
    regions = [f"R-{n}" for n in names]
    fields = pd.DataFrame(
        {"field": [f"F-{n}" for n in names], "region": regions, "annual_revenue_usd": revenue}
    )
    pop = pd.DataFrame({"region": regions, "faction": "X", "population": population})
    return revshare.territory_from_frames(
        fields, pop, pd.DataFrame({"region": regions, "bloc": names})
    )


def territory() -> revshare.Territory:
    """R1 holds all the oil and 60% of the people; R2 (bloc A) and R3 (bloc C) 20% each (as in
    tests/test_explain.py)."""
    fields = pd.DataFrame({"field": ["F"], "region": ["R1"], "annual_revenue_usd": [1e9]})
    pop = pd.DataFrame(
        {"region": ["R1", "R2", "R3"], "faction": ["X", "Y", "Z"], "population": [6e5, 2e5, 2e5]}
    )
    regions = pd.DataFrame({"region": ["R1", "R2", "R3"], "bloc": ["B", "A", "C"]})
    return revshare.territory_from_frames(fields, pop, regions)


BASE = ["central_share=0", "derivation=0"]
CASES = {  # a sample of tests/test_explain.py's, a unique and a non-unique concession among them
    "floors above what the budget allows": [*BASE, "per_capita_floor=1", "derivation=0.9"],
    "caps below a guaranteed share": [*BASE, "per_capita_cap=1", "bloc_share.A=0.9"],
    "two independent conflicts": [
        "per_capita_cap=1",
        "bloc_share.A=0.9",
        "central_share=0.6",
        "derivation=0.5",
    ],
    "non-unique concession": [*BASE, "per_capita_floor=1", "faction_share.Z=0.4"],
}


def _no_pulp_solves(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an LP went through PuLP under the HiGHS executor")

    monkeypatch.setattr(pulp.LpProblem, "solve", refuse)


def _both(monkeypatch: pytest.MonkeyPatch, call):  # type: ignore[no-untyped-def]
    """``call()`` through PuLP, then in place with every PuLP solve refused; answers or errors."""
    out = []
    for in_place in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(one_lp, "IN_PLACE", in_place)
            if in_place:
                _no_pulp_solves(patch)
            try:
                out.append(call())
            except revshare.InfeasibleError as exc:
                out.append(exc)
    return out


TERRITORIES = {
    "two blocs": lambda: blocs_territory([6e9, 4e9], [1e6, 3e6]),
    "three blocs, one without oil": lambda: blocs_territory([1e8, 0.0, 5e9], [5e5, 5e5, 1e6]),
    "iraq": lambda: revshare.load_dataset(ROOT / "data" / "iraq"),
    "nigeria": lambda: revshare.load_dataset(ROOT / "data" / "nigeria"),
}


@pytest.mark.parametrize("extra", [[], ["per_capita_floor=0.5", "secession_proof=true"]])
@pytest.mark.parametrize("name", sorted(TERRITORIES))
def test_nash_in_place_gives_the_pulp_paths_bargain(monkeypatch, name, extra):
    t = TERRITORIES[name]()
    old, new = _both(
        monkeypatch, lambda: revshare.optimize(t, "federation", overrides=[*NASH, *extra])
    )
    if isinstance(old, Exception) or isinstance(new, Exception):
        assert type(old) is type(new) and str(old) == str(new)
        return
    assert new.verification.ok
    assert 0 <= new.provenance["nash_gap"] <= GAP
    assert new.objective_value == pytest.approx(old.objective_value, abs=GAP * 10)
    # the loop fixes money only to about sqrt(GAP) of each surplus (tests/test_nash.py)
    got, want = (a.blocs.sort_values("bloc")["usd"].to_numpy() for a in (new, old))
    assert np.allclose(got, want, rtol=0, atol=10 * np.sqrt(GAP) * new.revenue_usd)


@pytest.mark.parametrize("dataset", ["iraq", "sudan-2005"])
@pytest.mark.parametrize("cost", [0.0, 0.1])
def test_no_surplus_advice_is_the_same_in_place(monkeypatch, dataset, cost):
    """The error path (least_cost, _best_floor) solves in place too and says the same."""
    t = revshare.load_dataset(ROOT / "data" / dataset)
    sets = ["objective=nash", f"secession_cost={cost}"]
    old, new = _both(monkeypatch, lambda: revshare.optimize(t, "federation", overrides=sets))
    assert isinstance(old, revshare.InfeasibleError), "the case must exercise the error path"
    assert str(new) == str(old) and new.overrides == old.overrides


@pytest.mark.parametrize("case", sorted(CASES))
def test_explanation_is_the_same_in_place(monkeypatch, case):
    t = territory()
    old, new = _both(
        monkeypatch, lambda: revshare.optimize(t, "federation", price=0, overrides=CASES[case])
    )
    e_old, e_new = old.explanation, new.explanation
    assert e_new.conflict_labels == e_old.conflict_labels
    assert new.overrides == old.overrides and e_new.unique == e_old.unique
    assert e_new.alternative == e_old.alternative and e_new.verified == e_old.verified
    assert e_new.cost_usd == pytest.approx(e_old.cost_usd, rel=0, abs=1e-9 * 1e9)


@pytest.mark.parametrize("seed", range(8))
def test_in_place_cuts_match_pulp_cuts_row_by_row(seed):
    """The two :class:`Lp` on one model: random rows over the model's columns and new ones,
    added a few at a time, give the same optimum after every batch."""
    rng = np.random.default_rng(seed)
    t = blocs_territory(list(rng.uniform(1e8, 1e10, 3)), list(rng.uniform(1e5, 1e7, 3)))
    m = build_model(t, PRESETS["federation"], 0.0)
    config = SolverConfig()
    pulp_lp = PulpLp(m.prob, m, config)
    place = InPlaceLp(Instance(m.prob, highs_options(config)), m, config)
    money = [m.cells_of("bloc", b) for b in t.blocs]
    extra = m.prob.add_variable(f"test_extra_{seed}", lowBound=0, upBound=m.v)
    objective = (
        pulp.lpSum(w * x for w, x in zip(rng.uniform(0.1, 1, 3), money, strict=True)) - extra
    )
    for batch in range(4):
        for k, x in enumerate(money):
            # every bloc may keep at least 0.4 of the revenue: the rows stay feasible together
            bound, slope = float(rng.uniform(0.4, 0.9)) * m.v, float(rng.uniform(0, 0.1))
            for lp in (pulp_lp, place):
                lp.add(x + slope * extra <= bound, f"t_{batch}_{k}")
        sense = pulp.LpMaximize if batch % 2 == 0 else pulp.LpMinimize
        best = [lp.optimum(objective, sense, "objective") for lp in (pulp_lp, place)]
        assert best[1] == pytest.approx(best[0], rel=1e-9, abs=1e-9 * m.v)
        assert place.value(objective) == pytest.approx(best[1], rel=1e-12, abs=1e-12 * m.v)


@pytest.mark.parametrize("seed", range(6))
def test_held_rows_and_values_match_between_the_two_lps(seed):
    """What the fear analyses use of the two :class:`Lp`: a row held
    (capture: one bloc kept at a share of its best) and released, and the values read back,
    give the same optima in place as through PuLP."""
    rng = np.random.default_rng(seed)
    t = blocs_territory(list(rng.uniform(1e8, 1e10, 3)), list(rng.uniform(1e5, 1e7, 3)))
    m = build_model(t, PRESETS["federation"], 0.0)
    config = SolverConfig()
    lps = [PulpLp(m.prob, m, config), InPlaceLp(Instance(m.prob, highs_options(config)), m, config)]
    money = [m.cells_of("bloc", b) for b in t.blocs]
    own, victim = (money[k] for k in rng.permutation(3)[:2])
    best = [lp.optimum(own, pulp.LpMaximize, "objective") for lp in lps]
    assert best[1] == pytest.approx(best[0], rel=1e-9, abs=1e-9 * m.v)
    share = float(rng.uniform(0.2, 0.9))
    held = [lp.hold(own, share * best[0]) for lp in lps]
    low = [lp.optimum(victim, pulp.LpMinimize, "victim") for lp in lps]
    assert low[1] == pytest.approx(low[0], rel=1e-9, abs=1e-9 * m.v)
    for lp, h in zip(lps, held, strict=True):
        assert lp.value(own) >= share * best[0] - 1e-9 * m.v
        assert lp.values([m.g])[0] == pytest.approx(lp.value(m.g + 0.0), abs=1e-12 * m.v)
        lp.release(h)
    freed = [lp.optimum(victim, pulp.LpMinimize, "victim") for lp in lps]
    assert freed[1] == pytest.approx(freed[0], rel=1e-9, abs=1e-9 * m.v)
    assert freed[0] <= low[0] + 1e-9 * m.v


@pytest.mark.parametrize("seed", range(6))
def test_moved_bounds_give_the_same_status_and_optimum_in_both_lps(seed):
    """What explain's elastic LP uses of the two :class:`Lp`: a column's bounds moved (the
    centre's money fixed at a level) and moved back, each solve cold and its status read as it
    is: the same status in place as through PuLP, and the same optimum (the centre's least and a
    random level within its reach are feasible, twice the revenue is not)."""
    rng = np.random.default_rng(seed)
    t = blocs_territory(list(rng.uniform(1e8, 1e10, 3)), list(rng.uniform(1e5, 1e7, 3)))
    # the centre's share free to move between the two, so a level within its reach is a choice
    s = dataclasses.replace(PRESETS["federation"], central_share=(0.05, 0.5))
    m = build_model(t, s, 0.0)
    config = SolverConfig()
    lps = [PulpLp(m.prob, m, config), InPlaceLp(Instance(m.prob, highs_options(config)), m, config)]
    # one bloc's money and the centre's, weighted: either sense pulls the centre to a bound
    own = m.cells_of("bloc", t.blocs[int(rng.integers(3))]) + float(rng.uniform(0.5, 2)) * m.g
    low = -np.inf if m.g.lowBound is None else m.g.lowBound
    up = np.inf if m.g.upBound is None else m.g.upBound
    least, most = (
        lps[0].optimum(m.g + 0.0, sense, "centre") for sense in (pulp.LpMinimize, pulp.LpMaximize)
    )
    free = [lp.optimum(own, pulp.LpMaximize, "free") for lp in lps]
    seen = set()
    levels = (least, least + float(rng.uniform()) * (most - least), 2 * m.v)
    for level, sense in itertools.product(levels, (pulp.LpMaximize, pulp.LpMinimize)):
        statuses = []
        for lp in lps:
            lp.bound([m.g], level, level)
            statuses.append(lp.optimise(own, sense, cold=True))
        assert statuses[0] is statuses[1], level
        seen.add(statuses[0])
        if statuses[0] is Status.OPTIMAL:
            got = [lp.value(own) for lp in lps]
            assert got[1] == pytest.approx(got[0], rel=1e-9, abs=1e-9 * m.v)
            assert got[0] <= free[0] + 1e-9 * m.v
            for lp in lps:
                assert lp.value(m.g + 0.0) == pytest.approx(level, rel=1e-9, abs=1e-9 * m.v)
    assert seen == {Status.OPTIMAL, Status.INFEASIBLE}
    for lp in lps:
        lp.bound([m.g], low, up)
    again = [lp.optimum(own, pulp.LpMaximize, "freed") for lp in lps]
    assert again == pytest.approx(free, rel=1e-9, abs=1e-9 * m.v)
