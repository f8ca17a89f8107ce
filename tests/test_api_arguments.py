"""Wrong-typed arguments to the public API end in an InputError naming the parameter.

Every function in ``revshare.__all__`` is called here with the mistakes a user is likely to make
(a path where a Territory belongs, a dict where a Structure or a PriceModel belongs, text where a
number belongs, a plain list where a table belongs). Each must raise :class:`revshare.InputError`
whose problems name the parameter, never an AttributeError, KeyError or TypeError from deep inside.
Plain prices are accepted where a sweep takes a scenarios table (issue 12's robustness findings).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.data.scenarios import as_scenarios

GBM = revshare.PriceModel("gbm", start=80.0)


# (id, call on the small territory t, the parameter the InputError must name, marks)
CALLS: list[tuple[str, Callable[[revshare.Territory], Any], str, tuple[Any, ...]]] = [
    ("sweep: a path as territory", lambda t: revshare.sweep("data/iraq", "federation", [60.0]), "territory", ()),
    ("sweep: an int as structures", lambda t: revshare.sweep(t, 5, [60.0]), "structures", ()),
    ("sweep: a dict as scenarios", lambda t: revshare.sweep(t, "federation", {"price": 60}), "scenarios", ()),
    ("sweep: text prices in a list", lambda t: revshare.sweep(t, "federation", ["60"]), "scenarios", ()),
    ("sweep: a table without price", lambda t: revshare.sweep(t, "federation", pd.DataFrame({"p": [1.0]})), "scenarios", ()),
    ("sweep: no prices", lambda t: revshare.sweep(t, "federation", []), "scenarios", ()),
    ("sweep: a dict as params", lambda t: revshare.sweep(t, "federation", [60.0], params={"derivation": 0.1}), "params", ()),
    ("sweep: a number in overrides", lambda t: revshare.sweep(t, "federation", [60.0], overrides=[0.1]), "overrides", ()),
    ("sweep: a list as solver_options", lambda t: revshare.sweep(t, "federation", [60.0], solver_options=["presolve=on"]), "solver_options", ()),
    ("sweep: text as time_limit", lambda t: revshare.sweep(t, "federation", [60.0], time_limit="10"), "time_limit", ()),
    ("sweep: text as chunk_size", lambda t: revshare.sweep(t, "federation", [60.0], chunk_size="5"), "chunk_size", ()),
    ("sweep: text as workers", lambda t: revshare.sweep(t, "federation", [60.0], workers="2"), "workers", ()),
    ("price_grid: text in a list", lambda t: revshare.price_grid(["60", "80"]), "prices", ()),
    ("price_grid: a dict", lambda t: revshare.price_grid({"a": 60}), "prices", ()),
    ("price_grid: booleans", lambda t: revshare.price_grid([True]), "prices", ()),
    ("price_grid: a repeated price", lambda t: revshare.price_grid([60, 60.0]), "prices", ()),
    ("price_grid: a negative price", lambda t: revshare.price_grid([-1.0]), "prices", ()),
    ("price_grid: not finite", lambda t: revshare.price_grid(np.array([np.nan])), "prices", ()),
    ("parameter_grid: a dict", lambda t: revshare.parameter_grid({"derivation": [0, 0.1]}), "params", ()),
    ("parameter_grid: a number", lambda t: revshare.parameter_grid([0.1]), "params", ()),
    ("monte_carlo: a dict as model", lambda t: revshare.monte_carlo(10, {"kind": "gbm"}, 1), "model", ()),
    ("monte_carlo: text as n", lambda t: revshare.monte_carlo("10", GBM, 1), "n", ()),
    ("optimize: a path as territory", lambda t: revshare.optimize("data/iraq"), "territory", ()),
    ("optimize: a dict as structure", lambda t: revshare.optimize(t, {"name": "x"}), "structure", ()),
    ("optimize: text as price", lambda t: revshare.optimize(t, price="60"), "price", ()),
    ("optimize: a list as solver_options", lambda t: revshare.optimize(t, solver_options=["presolve=on"]), "solver_options", ()),
    ("optimize: text as time_limit", lambda t: revshare.optimize(t, time_limit="10"), "time_limit", ()),
    ("compare: a path as territory", lambda t: revshare.compare("data/iraq"), "territory", ()),
    ("compare: an int as structures", lambda t: revshare.compare(t, 3), "structures", ()),
    ("core: an int as structures", lambda t: revshare.core(t, 3), "structures", ()),
    ("guarantees: an int as structures", lambda t: revshare.guarantees(t, 3), "structures", ()),
    ("core: a path as territory", lambda t: revshare.core("data/iraq", "federation"), "territory", ()),
    ("guarantees: a path as territory", lambda t: revshare.guarantees("data/iraq", "federation"), "territory", ()),
    ("validate: a path as territory", lambda t: revshare.validate("data/iraq"), "territory", ()),
    ("ratify: a path as territory", lambda t: revshare.ratify("data/iraq", "federation", "federation"), "territory", ()),
    ("optimize_periods: a list as path", lambda t: revshare.optimize_periods(t, "federation", [60, 70]), "path", ()),
    ("secession_vote: a list as path", lambda t: revshare.secession_vote(t, "federation", [60, 70], vote_after=1), "path", ()),
    ("secession_odds: a dict as model", lambda t: revshare.secession_odds(t, "federation", {"kind": "gbm"}, paths=3, vote_after=1), "model", ()),
    ("apportion: a list as populations", lambda t: revshare.apportion([1, 2], 3, "hamilton"), "populations", ()),
    ("apportion: text as seats", lambda t: revshare.apportion({"a": 1, "b": 2}, "3", "hamilton"), "seats", ()),
    ("apportion_territory: a path", lambda t: revshare.apportion_territory("data/iraq", 10, "hamilton"), "territory", ()),
    ("rule_power: a path as territory", lambda t: revshare.rule_power("data/iraq", "majority"), "t", ()),
    ("seat_power: a dict", lambda t: revshare.seat_power({"a": 1}), "a", ()),
    ("load_dataset: a number", lambda t: revshare.load_dataset(5), "folder", ()),
    ("territory_from_frames: dicts", lambda t: revshare.territory_from_frames({"a": [1]}, {"b": [2]}), "fields", ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "parameter"),
    [pytest.param(call, parameter, id=name, marks=marks) for name, call, parameter, marks in CALLS],
)
def test_a_wrong_argument_is_an_input_error_naming_its_parameter(small_territory, call, parameter):
    with pytest.raises(revshare.InputError) as exc:
        call(small_territory)
    assert parameter in {p.file for p in exc.value.problems}, exc.value.problems


def test_every_public_function_is_called_with_a_wrong_argument_above():
    """A public function added later gets its row in CALLS (the audit stays complete)."""
    functions = {n for n in revshare.__all__ if inspect.isfunction(getattr(revshare, n))}
    called = {name.partition(":")[0] for name, *_ in CALLS}
    assert functions - called <= {"read_prices", "read_periods"}  # paths: E-NOT-FOUND covers them


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    """A dataset whose revenue follows the price (the small territory's is given in USD)."""
    return revshare.load_dataset("data/iraq")


@pytest.mark.parametrize(
    "prices",
    [[60, 80], (60.0, 80.0), np.array([60.0, 80.0]), pd.Series([60, 80]), "60,80", "60:80:20"],
    ids=["list", "tuple", "array", "series", "text list", "text range"],
)
def test_a_sweep_takes_plain_prices_as_a_price_grid(iraq, prices):
    grid = revshare.price_grid("60,80")
    pd.testing.assert_frame_equal(as_scenarios(prices), grid)
    plain = revshare.sweep(iraq, ["federation"], prices)
    table = revshare.sweep(iraq, ["federation"], grid)
    assert list(plain.results["price"]) == [60.0, 80.0]
    pd.testing.assert_frame_equal(
        plain.results.drop(columns=["seconds"], errors="ignore"),
        table.results.drop(columns=["seconds"], errors="ignore"),
    )


def test_one_price_and_one_spec_are_one_entry_not_their_characters(iraq):
    assert list(as_scenarios(60)["price"]) == [60.0]
    assert revshare.parameter_grid("derivation=0,0.1") == [{"derivation": 0.0}, {"derivation": 0.1}]
    one = revshare.sweep(iraq, "federation", 60, overrides="derivation=0.1")
    assert len(one.results) == 1 and one.results["status"].iloc[0] == "optimal"
