"""Issue 15, item 1: guarantees, the core and the secession vote take the shared solving
parameters (``solver``, ``time_limit``, ``solver_options``, ``cross_check``) as
:func:`revshare.compare` does, and pass one solver config through every LP they solve, the
hostile-centre and least-core LPs included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import revshare
from revshare.analyses import core as core_module
from revshare.analyses import guarantees as guarantees_module
from revshare.analyses import optimize as optimize_module
from revshare.analyses import secession as secession_module
from revshare.analyses.core import core, least_core, max_centre_share
from revshare.analyses.guarantees import guarantees
from revshare.analyses.optimize import VERIFY_RELATIVE
from revshare.analyses.periods import Fund
from revshare.analyses.secession import secession_vote
from revshare.data.structures import resolve
from revshare.errors import InputError, NotOptimalError
from revshare.solve.lp import InPlaceLp, PulpLp

ROOT = Path(__file__).resolve().parents[1]
PERIODS = ROOT / "data" / "iraq" / "brent-2005-2024.csv"
CASES = [
    ("iraq", "federation"),
    ("iraq", "partition"),
    ("sudan-2005", "sudan-cpa-2005"),
    ("ghana", "federation"),
]
# CBC's values come back with 8 significant digits: the verifier's tolerance for it
CBC = VERIFY_RELATIVE["cbc"]
# A capture row holds the controller at its most less each solver's own stage tolerance (2e-8
# of revenue for CBC, 1e-11 for HiGHS); the victims' minima move with that floor, so the two
# solvers' capture matrices agree to a looser bound than the plain minima.
CAPTURE = 1e-5


def territory(name: str) -> revshare.Territory:
    return revshare.load_dataset(ROOT / "data" / name)


@pytest.fixture(scope="module")
def datasets() -> dict[str, revshare.Territory]:
    return {name: territory(name) for name in {d for d, _ in CASES}}


def revenue(t: revshare.Territory, price: float) -> float:
    return float(t.field_revenue(price).sum())


@pytest.mark.parametrize(("dataset", "structure"), CASES)
def test_cbc_gives_the_guarantees_highs_gives(datasets, dataset, structure) -> None:
    t = datasets[dataset]
    capture = dataset == "ghana"  # the smallest matrix; iraq's is checked by the cross-check
    highs = guarantees(t, structure, capture=capture)
    cbc = guarantees(t, structure, capture=capture, solver="cbc")
    tol = CBC * revenue(t, highs.price)
    pd.testing.assert_frame_equal(
        highs.table.drop(columns=["guaranteed_usd", "exposure_usd", "exposure_usd_per_head"]),
        cbc.table.drop(columns=["guaranteed_usd", "exposure_usd", "exposure_usd_per_head"]),
        check_exact=False,
        atol=1e-6,
    )
    gap = (highs.table["guaranteed_usd"] - cbc.table["guaranteed_usd"]).abs()
    assert gap.max() <= tol, gap.max()
    if capture:
        assert len(highs.capture) == len(cbc.capture) > 0
        drift = (highs.capture["guaranteed_usd"] - cbc.capture["guaranteed_usd"]).abs()
        assert drift.max() <= CAPTURE * revenue(t, highs.price)


@pytest.mark.parametrize(("dataset", "structure"), CASES)
def test_cbc_gives_the_least_core_highs_gives(datasets, dataset, structure) -> None:
    t = datasets[dataset]
    s = resolve(structure, t.structures)
    price = t.default_price or 0.0
    tol = CBC * revenue(t, price)
    a, b = least_core(t, s, price), least_core(t, s, price, solver="cbc")
    assert (a is None) == (b is None)
    assert a is None or abs(a - b) <= tol
    x, y = max_centre_share(t, s, price), max_centre_share(t, s, price, solver="cbc")
    assert (x is None) == (y is None)
    assert x is None or abs(x - y) <= CBC


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_the_cross_check_passes_on_agreeing_solvers(datasets, solver) -> None:
    t = datasets["iraq"]
    checked = guarantees(t, "federation", solver=solver, cross_check=True)
    plain = guarantees(t, "federation", solver=solver)
    # the cross-check changes nothing it reports
    pd.testing.assert_frame_equal(checked.table, plain.table)
    pd.testing.assert_frame_equal(checked.capture, plain.capture)
    both = core(t, ["federation", "partition"], solver=solver, cross_check=True)
    assert both.table["least_core_usd"].notna().all()


@pytest.fixture
def skewed(monkeypatch: pytest.MonkeyPatch):
    """CBC's every optimum reported ``offset`` model units away (its allocation, which the
    verifier checks, left as it is): a solver that disagrees."""

    def install(offset: float) -> None:
        real = PulpLp.value

        def value(self: PulpLp, expr: Any) -> float:
            got = real(self, expr)
            return got + offset if self.config.name == "cbc" else got

        monkeypatch.setattr(PulpLp, "value", value)

    return install


@pytest.mark.parametrize(
    "analysis",
    [
        lambda t: guarantees(t, "partition", capture=False, cross_check=True),
        lambda t: least_core(t, resolve("federation", t.structures), 82.49, cross_check=True),
    ],
    ids=["guarantees", "least_core"],
)
def test_a_disagreement_beyond_the_tolerance_fails(datasets, skewed, analysis) -> None:
    """The same error type the other commands use for solvers that disagree."""
    skewed(1e-3)  # a thousandth of the model's unit: far beyond the verifier's tolerance
    with pytest.raises(NotOptimalError, match="solvers disagree"):
        analysis(datasets["iraq"])


def test_a_disagreement_within_the_tolerance_passes(datasets, skewed) -> None:
    skewed(1e-13)
    t = datasets["iraq"]
    least_core(t, resolve("federation", t.structures), 82.49, cross_check=True)


BAD_OPTIONS = [
    ("highs", {"no_such_option": 1}, "no_such_option"),
    ("highs", {"time_limit": "soon"}, "time_limit"),
    ("cbc", {"nosuchword": "1"}, "nosuchword"),
]


def _analyses(t: revshare.Territory) -> dict[str, Any]:
    path = revshare.read_periods(PERIODS)
    return {
        "guarantees": lambda **kw: guarantees(t, "federation", **kw),
        "core": lambda **kw: core(t, "federation", **kw),
        "least_core": lambda **kw: least_core(t, resolve("federation", t.structures), 80, **kw),
        "secession_vote": lambda **kw: secession_vote(t, "federation", path, vote_after=3, **kw),
    }


@pytest.mark.parametrize("analysis", ["guarantees", "core", "least_core", "secession_vote"])
@pytest.mark.parametrize(("solver", "options", "named"), BAD_OPTIONS)
def test_a_bad_solver_option_fails_naming_it_before_any_solve(
    datasets, monkeypatch, analysis, solver, options, named
) -> None:
    def no_solve(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("solved before the options were checked")

    for module in (guarantees_module, core_module, secession_module):
        monkeypatch.setattr(module, "optimize", no_solve)
    for lp in (InPlaceLp, PulpLp):
        monkeypatch.setattr(lp, "optimise", no_solve)
    with pytest.raises(InputError) as info:
        _analyses(datasets["iraq"])[analysis](solver=solver, solver_options=options)
    (problem,) = info.value.problems
    assert (problem.file, problem.code) == ("solver_options", "E-USAGE")
    assert named in problem.message and solver in problem.message


@pytest.mark.parametrize("analysis", ["guarantees", "core", "least_core", "secession_vote"])
def test_every_lp_gets_the_one_config(datasets, monkeypatch, analysis) -> None:
    """The solver, its options and the time limit reach every LP: the fair allocations (through
    ``optimize``) and the hostile-centre and least-core LPs (through :func:`revshare.solve.lp.open_lp`)."""
    seen: list[tuple[str, float | None, dict[str, Any]]] = []

    def recording(lp: type) -> None:
        real = lp.__init__

        def record(self: Any, source: Any, m: Any, config: Any) -> None:
            seen.append((config.name, config.time_limit, dict(config.options)))
            real(self, source, m, config)

        monkeypatch.setattr(lp, "__init__", record)

    for lp in (InPlaceLp, PulpLp):
        recording(lp)
    called: list[dict[str, Any]] = []
    real_optimize = optimize_module.optimize

    def optimize(*args: Any, **kwargs: Any) -> Any:
        called.append(kwargs)
        return real_optimize(*args, **kwargs)

    for module in (guarantees_module, core_module, secession_module):
        monkeypatch.setattr(module, "optimize", optimize)
    options = {"simplex_strategy": 1}
    _analyses(datasets["iraq"])[analysis](time_limit=60.0, solver_options=options)
    assert seen or called
    assert all(s == ("highs", 60.0, options) for s in seen), seen
    assert all(
        (k["solver"], k["time_limit"], k["solver_options"]) == ("highs", 60.0, options)
        for k in called
    )
    if analysis != "secession_vote":
        assert seen, "the hostile-centre or least-core LP did not get the config"


def test_the_secession_vote_is_the_same_with_cbc(datasets) -> None:
    t = territory("sudan-2005")
    path = revshare.read_periods(PERIODS)
    kw = {"vote_after": 6, "discount_rate": 0.05}
    highs = secession_vote(t, "sudan-cpa-2005", path, **kw)
    cbc = secession_vote(t, "sudan-cpa-2005", path, solver="cbc", **kw)
    assert highs.leaving == cbc.leaving
    tol = CBC * revenue(t, float(path["price"].max())) * len(path)
    gap = (highs.votes["money_usd"] - cbc.votes["money_usd"]).abs().max()
    assert gap <= tol


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"solver": "cbc"}, "solver"),
        ({"solver_options": {"presolve": "off"}}, "solver_options"),
        ({"cross_check": True}, "cross_check"),
    ],
)
def test_a_vote_with_a_fund_refuses_what_it_cannot_use(given, named) -> None:
    t = territory("ghana")
    path = revshare.read_periods(PERIODS)
    fund = Fund(benchmark_price=60.0)
    with pytest.raises(InputError) as info:
        secession_vote(t, "federation", path, vote_after=3, fund=fund, **given)
    (problem,) = info.value.problems
    assert (problem.file, problem.code) == (named, "E-USAGE")
