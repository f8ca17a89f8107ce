"""Issue 12: explain's bisection moves one parameter's matrix entries and bounds in one HiGHS LP
(:class:`revshare.solve.program.Affine`) instead of building the model for every step, with the
rebuild path's explanations; and the in-place moves leave the LP the model built there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.analyses import concession
from revshare.data.structures import PRESETS, apply_overrides
from revshare.model.lp import build_model
from revshare.solve.instance import Instance
from revshare.solve.program import affine

DATA = Path(__file__).resolve().parent.parent / "data"
CASES = {  # each relaxes a different parameter family, some down to 0 (where rows vanish)
    "floor and derivation": ["per_capita_floor=1", "derivation=0.9"],
    "retention and floor": ["bloc_retention=0.95", "per_capita_floor=0.8"],
    "secession against a centre share": ["secession_proof=true", "central_share=[0.6, 0.7]"],
    "cap against a centre share": ["per_capita_cap=1.05", "central_share=[0.5, 0.6]"],
    "damage against a cap": ["damage_allotment=0.5", "per_capita_cap=1.01"],
}


def explained(t: revshare.Territory, overrides: list[str]) -> object:
    """Everything the explanation says, or the error text when it is not an explanation."""
    try:
        revshare.optimize(t, "federation", overrides=overrides)
    except revshare.InfeasibleError as exc:
        e = exc.explanation
        return (str(exc), exc.overrides, e.conflict_labels, e.changes, e.cost_usd, e.unique,
                e.alternative, e.verified)  # fmt: skip
    except revshare.InputError as exc:
        return str(exc)
    return "feasible"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dataset", ["iraq", "nigeria", "sudan-2005"])
def test_the_in_place_bisection_gives_the_rebuilds_explanation(monkeypatch, dataset, case):
    t = revshare.load_dataset(DATA / dataset)
    built: list[object] = []
    real = concession._Moving.build

    def counted(*args: object) -> object:
        built.append(real(*args))  # type: ignore[arg-type]
        return built[-1]

    with monkeypatch.context() as patch:
        patch.setattr(concession._Moving, "build", counted)
        new = explained(t, CASES[case])
    with monkeypatch.context() as patch:
        patch.setattr(concession._Moving, "build", lambda *args: None)
        old = explained(t, CASES[case])
    assert new == old
    # the case tightened a concession in place, unless there is no verified one to tighten
    tightened = isinstance(new, tuple) and bool(new[3]) and new[7]
    assert any(b is not None for b in built) or not tightened


def territory() -> revshare.Territory:
    """As in tests/test_explain.py: R1 holds the oil and 60% of the people."""
    fields = pd.DataFrame({"field": ["F"], "region": ["R1"], "annual_revenue_usd": [1e9]})
    pop = pd.DataFrame(
        {"region": ["R1", "R2", "R3"], "faction": ["X", "Y", "Z"], "population": [6e5, 2e5, 2e5]}
    )
    regions = pd.DataFrame({"region": ["R1", "R2", "R3"], "bloc": ["B", "A", "C"]})
    return revshare.territory_from_frames(fields, pop, regions)


PARAMETERS = {  # parameter -> override text for a value, on a base that keeps every row
    "per_capita_floor": lambda v: [f"per_capita_floor={v!r}"],
    "per_capita_cap": lambda v: [f"per_capita_cap={1 + v!r}"],
    "derivation": lambda v: [f"derivation={v!r}"],
    "bloc_share.A": lambda v: [f"bloc_share.A={v!r}"],
    "central_share.lower": lambda v: [f"central_share=[{v!r}, 0.9]"],
    "secession_cost": lambda v: ["secession_proof=true", f"secession_cost={v!r}"],
}


def instance(t: revshare.Territory, name: str, value: float) -> Instance:
    s = apply_overrides(PRESETS["federation"], PARAMETERS[name](value))
    return Instance(build_model(t, s, 0).prob, {})


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_the_lp_moved_in_place_is_the_lp_built_there(name, seed):
    """Three builds at random values a, b, c of one parameter: the model is affine in it
    (:meth:`Affine.follows`), a wrong weight is caught, and moving the build at ``a`` in place
    to ``c`` gives ``c``'s matrix (:meth:`Instance.coo`) and bounds."""
    rng = np.random.default_rng(seed)
    a, b, c = (float(v) for v in rng.uniform(0.05, 0.3, 3))
    t = territory()
    ia, ib, ic = (instance(t, name, v) for v in (a, b, c))
    move = affine(ia, ib)
    assert move is not None and len(move.rows) + len(move.row) > 0
    w = (c - a) / (b - a)
    assert move.follows(ic, w, ia)
    assert not move.follows(ic, w + 0.1, ia)
    coef, row_lower, row_upper, col_lower, col_upper = move.at(w)
    ia.set_coefs(move.rows, move.cols, coef)
    ia.set_rows(move.row, row_lower, row_upper)
    ia.set_cols(move.col, col_lower, col_upper)
    x, y = ia.coo(), ic.coo()
    ox, oy = np.lexsort((x.col, x.row)), np.lexsort((y.col, y.row))
    assert np.array_equal(x.row[ox], y.row[oy]) and np.array_equal(x.col[ox], y.col[oy])
    assert np.allclose(x.data[ox], y.data[oy], rtol=1e-12, atol=0)
    for got, want in (
        (ia.row_lower, ic.row_lower),
        (ia.row_upper, ic.row_upper),
        (ia.col_lower, ic.col_lower),
        (ia.col_upper, ic.col_upper),
    ):
        assert np.allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["per_capita_floor", "central_share.lower", "derivation"])
def test_rows_that_vanish_at_zero_are_not_moved(name):
    """A rule exists only where its parameter is positive: a build at 0 has other rows, and no
    :class:`Affine` joins it to a positive one (explain builds those values instead)."""
    t = territory()
    assert affine(instance(t, name, 0.0), instance(t, name, 0.2)) is None
    assert affine(instance(t, name, 1e-6), instance(t, name, 0.2)) is not None
