"""HiGHS and CBC give the same money on ill-conditioned models (issue 12: "both executors give
the same money").

The family. A few single people beside 11.8 million, whose objective target (needs, or a
population and need formula) lies a fraction ``gap`` below the per-capita floor that holds them:
each tiny group's L1 distance from its target grows with the distributable money ``V - g``, so
the objective prefers the largest centre, but only by a slope of about ``gap * 4e-7`` per unit
of the centre's model money. Before the fix, the keep-optimum row let the leximin rounds spend
the stage's tolerance on the centre, ``tolerance / slope`` model units of it: up to 40% of the
revenue with CBC (tolerance 2e-8 of revenue) and a few percent with HiGHS (1e-11), and both
answers verified. With the executors holding each stage's optimal face
(:func:`revshare.solve.plan.face_bounds`), the cases whose slope is above the solvers' dual
tolerance agree. Those below it (the gap of 1e-3) the face holds do not settle: the direction
is flat to the solvers, and the keep row stopped the rounds at ``tolerance / slope``, 0.06 of
the revenue with HiGHS, while CBC's wider tolerance let the centre reach its bound. HiGHS now
sees the keep row bind a round with a dual beyond ``1 / DUAL_EPSILON``
(:func:`revshare.solve.stages.flat`) and solves again with keep rows wide enough for the flat
direction (:func:`revshare.solve.stages.keep_room`): every case agrees.

The bound. Each answer is verified to its solver's share of the revenue (``VERIFY_RELATIVE``:
1e-10 for HiGHS's doubles, 1e-7 for CBC's 8 printed digits, whose stage tolerance is
``2e-8 * (v + |value|)``, up to 4e-8 of revenue per kept stage). Two answers that are the same
point to each solver's precision therefore differ by at most the sum of the two, for every
recipient: each cell and the centre. That is the bound here (1.001e-7 of revenue, 100 USD at a
revenue of 1e9); what they differed by before was up to 0.4 of the revenue.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_properties import Case, cell_money, make_case

import revshare
from revshare.analyses.optimize import VERIFY_RELATIVE
from revshare.errors import InputError
from revshare.solve import highs_executor, pulp_executor
from revshare.solve.plan import face_bounds
from revshare.solve.solver import DUAL_EPSILON
from revshare.solve.stages import flat

AGREEMENT = VERIFY_RELATIVE["highs"] + VERIFY_RELATIVE["cbc"]  # of revenue, per recipient
BIG = 11_800_000  # people beside the single ones (the fuzzed case)
FLOOR = {"needs": 0.5, "formula": 0.8}  # per-capita floor, as a share of the mean per head
WEIGHTS = {"population": 0.5, "need": 0.5}  # the formula's: a target of (1 + ratio) / 2 a head
GAPS = (1e-1, 1e-2, 1e-3, 1e-4)  # how far below the floor the tiny groups' target is
REVENUES = (1e3, 1e9, 1e12)
CENTRES = ((0.0, 0.3), (0.1, 0.5))


def tiny_beside_big(objective: str, gap: float, revenue: float) -> Case:
    """Two single people (one in another faction) beside ``BIG``, all the oil with the big
    region, the tiny groups' need set so that their target per head is ``gap`` below the
    floor."""
    target = FLOOR[objective] - gap  # the tiny groups' target, over the mean per head
    ratio = target if objective == "needs" else 2 * target - 1  # their need over the big one's
    case = make_case(["A", "B", "C"], [{"x": BIG}, {"x": 1}, {"y": 1}], [revenue, 0.0, 0.0])
    return dataclasses.replace(case, need=(1.0, ratio, ratio))


def structure(objective: str, centre: tuple[float, float], within: str) -> revshare.Structure:
    extra = {"formula_weights": WEIGHTS} if objective == "formula" else {}
    return revshare.Structure(
        name="ill-conditioned",
        objective=objective,
        per_capita_floor=FLOOR[objective],
        central_share=centre,
        within_region=within,
        **extra,
    ).with_overrides({})


def recipients(a: revshare.Allocation) -> dict[tuple[str, str], float]:
    """Every recipient's money: each cell, and the centre."""
    return {**cell_money(a), ("centre", ""): float(a.centre_usd)}


def disagreement(case: Case, s: revshare.Structure) -> float:
    """The largest difference in any recipient's money between HiGHS and CBC, over the
    revenue; both answers must verify."""
    t = case.territory()
    h, c = (revshare.optimize(t, s, price=1.0, solver=name) for name in ("highs", "cbc"))
    assert h.verification.ok and c.verification.ok
    x, y = recipients(h), recipients(c)
    assert set(x) == set(y)
    return max(abs(x[k] - y[k]) for k in x) / case.revenue


# Before the executors held the stage's face (main 09b8f2f), every case with a gap of 1e-3 or
# more disagreed, by 0.24 to 0.40 of the revenue (72 of 96; `python3 tests/test_solver_agreement.py`
# prints the table); below it the objective is flat to the solvers and both gave the same money.
# The face holds settled the gaps of 1e-2 and more (24 of 96 left, up to 0.34 of the revenue);
# HiGHS's second attempt with flat room (revshare.solve.stages.flat) settles the gap of 1e-3:
# 0 of 96 disagree, the worst by 2.2e-8 of the revenue.

CASES = [
    pytest.param(
        objective, gap, revenue, centre, within, id=name,
        marks=[pytest.mark.slow] * (revenue == 1e12 or (within == "free" and gap < 1e-2)),
    )
    for objective, gap, revenue, centre, within in itertools.product(
        FLOOR, GAPS, REVENUES, CENTRES, ("equal", "free")
    )
    for name in [f"{objective}-gap{gap:g}-V{revenue:g}-centre{centre[0]:g}-{within}"]
]  # fmt: skip


@pytest.mark.parametrize(("objective", "gap", "revenue", "centre", "within"), CASES)
def test_highs_and_cbc_give_every_recipient_the_same_money(objective, gap, revenue, centre, within):
    case = tiny_beside_big(objective, gap, revenue)
    assert disagreement(case, structure(objective, centre, within)) <= AGREEMENT


@pytest.mark.parametrize("objective", list(FLOOR))
def test_the_family_is_ill_conditioned(objective):
    """The tiny groups' target is below the floor (so the floor binds and the objective depends
    on the centre) by the gap the family names: the case is what its name says."""
    case = tiny_beside_big(objective, 1e-3, 1e9)
    s = structure(objective, (0.0, 0.3), "equal")
    a = revshare.optimize(case.territory(), s, price=1.0)
    mean = (case.revenue - a.centre_usd) / case.population
    tiny = [usd for (region, _), usd in cell_money(a).items() if region != "A"]
    assert tiny == pytest.approx([FLOOR[objective] * mean] * 2, rel=1e-6)


@pytest.mark.parametrize("objective", list(FLOOR))
@pytest.mark.parametrize("gap", GAPS)
def test_highs_solves_again_exactly_where_a_round_ran_along_a_flat_direction(
    objective, gap, monkeypatch
):
    """The second attempt (flat room in the keep rows) happens on the gap of 1e-3 only: a
    healthy model is solved once, as before."""
    opened = []
    stages = highs_executor._InstanceStages
    monkeypatch.setattr(
        highs_executor, "_InstanceStages", lambda *a: opened.append(1) or stages(*a)
    )
    case = tiny_beside_big(objective, gap, 1e9)
    a = revshare.optimize(case.territory(), structure(objective, (0.0, 0.3), "equal"), price=1.0)
    assert a.verification.ok
    assert len(opened) == (2 if gap == 1e-3 else 1)


@pytest.mark.parametrize(("steepest", "raises"), [(0.0, False), (0.5, False), (2.0, True)])
@pytest.mark.parametrize("objective", list(FLOOR))
def test_cbc_reports_a_flat_round_it_cannot_solve_again(steepest, raises, objective, monkeypatch):
    """PuLP's model holds the first attempt's rows, so CBC cannot solve again: a flat round
    (a kept row's dual beyond ``1 / DUAL_EPSILON``) is an E-NUMERICS error, never an answer the
    solver's tolerance set."""
    monkeypatch.setattr(pulp_executor._PulpStages, "steepest", lambda self: steepest / DUAL_EPSILON)
    case = tiny_beside_big(objective, 1e-1, 1e9)
    s = structure(objective, (0.0, 0.3), "equal")
    if not raises:
        assert revshare.optimize(case.territory(), s, price=1.0, solver="cbc").verification.ok
        return
    with pytest.raises(InputError) as caught:
        revshare.optimize(case.territory(), s, price=1.0, solver="cbc")
    assert caught.value.codes == ["E-NUMERICS"]


@pytest.mark.parametrize(
    ("dual", "expected"),
    [(0.0, False), (60.0, False), (0.999e9, False), (1.001e9, True), (3e9, True)],
)
def test_flat_means_a_slope_below_the_dual_tolerance(dual, expected):
    assert flat(dual) is expected
    assert flat(-dual) is False  # the executors pass |dual|


finite = st.floats(-1e3, 1e3, allow_nan=False)
entries = st.tuples(
    finite,  # lower
    st.floats(0.0, 1e3),  # upper - lower
    st.floats(-1e-9, 1.0 + 1e-9),  # where the value lies, as a share of the width (a little out)
    st.sampled_from([0.0, 1e-12, 1e-9, 2e-9, 1e-7, 0.5, 3.0, 1e4]),  # |worsen|
    st.sampled_from([-1.0, 1.0]),
    st.booleans(),  # an infinite bound on the locked side
)


@given(
    rows=st.lists(entries, min_size=1, max_size=20),
    slack=st.floats(1e-12, 1e-3),
    widen=st.sampled_from([1.0, 2.0, 1e3, 1e6]),  # the keep row's room over the slack
)
def test_face_bounds_hold_only_locked_loose_entries_and_keep_the_stage_point(rows, slack, widen):
    lower = np.array([lo for lo, *_ in rows])
    upper = lower + np.array([w for _, w, *_ in rows])
    value = lower + (upper - lower) * np.array([at for _, _, at, *_ in rows])
    worsen = np.array([size * sign for *_, size, sign, _ in rows])
    infinite = np.array([inf for *_, inf in rows])
    lower[infinite & (worsen > 0)], upper[infinite & (worsen < 0)] = -np.inf, np.inf
    lo, hi = face_bounds(lower, upper, value, worsen, slack, slack * widen)
    assert np.all(lo >= lower) and np.all(hi <= upper)  # never wider
    held = (lo != lower) | (hi != upper)
    locked = (np.abs(worsen) > DUAL_EPSILON) & ~infinite
    loose = locked & (np.abs(worsen) < widen)  # the keep row alone lets it move beyond slack
    assert not np.any(held & ~loose)
    inside = (value >= lower) & (value <= upper)
    assert np.all((lo[inside] <= value[inside]) & (value[inside] <= hi[inside]))
    # a loose entry may move at most slack beyond the stage's point, away from its bound
    up, down = loose & (worsen > 0), loose & (worsen < 0)
    assert np.all(hi[up] <= np.maximum(value[up], lower[up]) + slack)
    assert np.all(lo[down] >= np.minimum(value[down], upper[down]) - slack)


def measure() -> None:
    """Print each case's disagreement (share of revenue and USD); the numbers of the report."""
    worst = 0.0
    bad = []
    for p in CASES:
        objective, gap, revenue, centre, within = p.values
        case = tiny_beside_big(objective, gap, revenue)
        d = disagreement(case, structure(objective, centre, within))
        worst = max(worst, d)
        if d > AGREEMENT:
            bad.append(p.id)
        print(f"{p.id:48} {d:9.2e} of revenue {d * revenue:12.4g} USD")
    print(f"{len(bad)} of {len(CASES)} disagree beyond {AGREEMENT:g}; worst {worst:.3g}")
    print(sorted(bad))


if __name__ == "__main__":
    measure()
