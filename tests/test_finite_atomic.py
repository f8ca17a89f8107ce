"""Issue 11, classes 6, 11 and 16: no non-finite number in a verified result, report folders
replaced as a whole, and metrics in O(n log n) time and linear memory.

- Class 6: the Fund's settings have finite ranges (E-RANGE naming the parameter); hypothesis over
  settings at and beyond them: every run is an InputError or a result whose every number is
  finite and whose books ``check_fund`` and the verifier pass. The verifier and ``check_fund``
  fail on a NaN or an infinity anywhere; strict JSON never writes one.
- Class 11: :func:`revshare.atomic.write_bundle` is failed at every step (an exception)
  and killed at every step (SIGKILL in a subprocess), with and without the atomic exchange:
  the folder holds the old report or the new one, complete, never a mix.
- Class 16: the Gini index equals the all-pairs formula (hypothesis) and every metric and the
  verifier handle 200,000 cells within a bounded memory peak.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import revshare
from cli import main
from revshare import atomic
from revshare.analyses import periods
from revshare.analyses.periods import (
    INTEREST_RANGE,
    MAX_BENCHMARK_PRICE,
    MAX_FUND_USD,
    MAX_WINDOW,
    Fund,
    check_fund,
    optimize_periods,
)
from revshare.data.dataset import Money, indicator_matrix
from revshare.data.structures import resolve
from revshare.errors import InputError, NotOptimalError
from revshare.model import metrics
from revshare.reports import safe
from revshare.reports.periods import periods_json
from revshare.solve.verify import non_finite, require_finite, residual_blocks, verify, verify_batch

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


def _path(prices: list[float], years: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"period": np.arange(len(prices)), "price": prices, "years": years})


# -- class 6 (a): every Fund setting has a finite range ------------------------------------------

# (attribute, parameter named in the error, values inside the range, values outside it)
RANGES = [
    ("benchmark_price", "fund_benchmark", [0.0, 60.0, MAX_BENCHMARK_PRICE], [-1e-9, 1e4 + 1]),
    ("window", "fund_benchmark", [1, 12, MAX_WINDOW], [0, -3, MAX_WINDOW + 1, 2.0, True]),
    ("target_usd", "fund_target", [0.0, 1e9, MAX_FUND_USD], [-1.0, MAX_FUND_USD * 1.001]),
    ("spend_rule", "fund_spend_rule", [0.0, 0.03, 1.0], [-0.01, 1.01]),
    ("interest", "fund_interest", [*INTEREST_RANGE, 0.0], [-1.0, 1.0001, 1e300]),
    ("initial_usd", "fund_initial", [0.0, 1e9, MAX_FUND_USD], [-1.0, MAX_FUND_USD * 1.001]),
]
CASES = [
    pytest.param(attr, name, value, ok, id=f"{attr}={value!r}")
    for attr, name, good, bad in RANGES
    for value, ok in [*((v, True) for v in good), *((v, False) for v in [*bad, *NON_FINITE])]
]


@pytest.mark.parametrize(("attr", "name", "value", "ok"), CASES)
def test_fund_settings_have_finite_ranges_and_errors_name_the_parameter(attr, name, value, ok):
    problems = Fund(**{attr: value}).problems()
    if ok:
        assert problems == []
    else:
        assert [(p.file, p.code) for p in problems] == [(name, "E-RANGE")]
        assert not problems[0].file.startswith("-")  # a parameter, never a command-line flag
        assert repr(value) in problems[0].message


def test_fund_docstring_documents_every_range():
    doc = Fund.__doc__ or ""
    for attr, name, *_ in RANGES:
        assert f"``{attr}``" in doc and f"``{name}``" in doc


@pytest.mark.parametrize(
    ("fund", "periods_count", "years"),
    [
        (Fund(window=2, interest=1.0, initial_usd=MAX_FUND_USD), 2, 1.0),  # doubles past 1e15
        (Fund(window=2, interest=1.0, initial_usd=1e9), 40, 1.0),  # 2**40 times
        (Fund(benchmark_price=60, interest=0.5), 30, 5.0),  # deposits compounding
    ],
)
def test_a_fund_that_could_outgrow_the_range_on_the_path_is_an_input_error(
    iraq, fund, periods_count, years
):
    assert fund.problems() == []
    prices = [80.0 + 10 * (k % 3) for k in range(periods_count)]
    with pytest.raises(InputError) as info:
        optimize_periods(iraq, "federation", _path(prices, years), fund=fund)
    assert [(p.file, p.code) for p in info.value.problems] == [("fund", "E-RANGE")]
    assert "fund_interest" in info.value.problems[0].remedy


def test_cli_fund_interest_1e300_is_exit_2_naming_the_parameter(tmp_path):
    out = tmp_path / "rep"
    result = CliRunner().invoke(
        main,
        [
            "optimize", str(DATA / "iraq"), "--periods", str(DATA / "iraq" / "brent-2005-2024.csv"),
            "--fund-benchmark", "ma:3", "--fund-interest", "1e300", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "fund_interest" in result.stderr and "E-RANGE" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


# -- class 6 (c): hypothesis over the Fund's settings, at and beyond their ranges ------------------


def _inside(low: float, high: float, typical: tuple[float, float]) -> st.SearchStrategy[float]:
    """Values in [low, high]: its edges, typical values, and any value in between."""
    return st.one_of(st.sampled_from([low, high]), st.floats(*typical), st.floats(low, high))


def _beyond(low: float, high: float) -> st.SearchStrategy[float]:
    """Values just beyond [low, high], far beyond, and non-finite."""
    return st.sampled_from(
        [
            math.nextafter(low, -math.inf),
            math.nextafter(high, math.inf),
            low - 1,
            high * 10 if high > 0 else high + 10,
            1e300,
            -1e300,
            *NON_FINITE,
        ]
    )


# per setting: values inside its range, and values beyond it
SETTINGS = {
    "benchmark_price": (
        st.one_of(st.none(), _inside(0.0, MAX_BENCHMARK_PRICE, (20.0, 120.0))),
        _beyond(0.0, MAX_BENCHMARK_PRICE),
    ),
    "window": (
        st.one_of(st.sampled_from([1, MAX_WINDOW]), st.integers(1, 8)),
        st.sampled_from([0, -1, MAX_WINDOW + 1, 2.5]),
    ),
    "target_usd": (
        st.one_of(st.none(), _inside(0.0, MAX_FUND_USD, (0.0, 2e11))),
        _beyond(0.0, MAX_FUND_USD),
    ),
    "spend_rule": (st.one_of(st.none(), _inside(0.0, 1.0, (0.0, 1.0))), _beyond(0.0, 1.0)),
    "interest": (_inside(*INTEREST_RANGE, (-0.1, 0.2)), _beyond(*INTEREST_RANGE)),
    "initial_usd": (_inside(0.0, MAX_FUND_USD, (0.0, 1e11)), _beyond(0.0, MAX_FUND_USD)),
}


@st.composite
def fund_settings(draw: st.DrawFn) -> dict[str, object]:
    """Every setting inside its range (edges included), and about half the time one of them
    beyond it."""
    out = {name: draw(inside) for name, (inside, _) in SETTINGS.items()}
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(SETTINGS)))
        out[name] = draw(SETTINGS[name][1])
    return out


FUND_SETTINGS = fund_settings()


@given(
    setting=FUND_SETTINGS,
    prices=st.lists(st.floats(25.0, 150.0), min_size=1, max_size=8),
    years=st.sampled_from([1.0, 0.25, 1 / 12, 5.0]),
    smooth=st.booleans(),
    structure=st.sampled_from(["federation", "iraq-2005"]),
)
def test_every_fund_run_is_an_input_error_or_a_finite_verified_result(
    iraq, setting, prices, years, smooth, structure
):
    _input_error_or_verified(iraq, Fund(**setting), _path(prices, years), smooth, structure)


EDGES = [
    Fund(window=MAX_WINDOW, interest=INTEREST_RANGE[0], spend_rule=0.0),
    Fund(window=1, interest=INTEREST_RANGE[1], initial_usd=MAX_FUND_USD / 16, spend_rule=1.0),
    Fund(benchmark_price=MAX_BENCHMARK_PRICE, target_usd=MAX_FUND_USD, initial_usd=1e11),
    Fund(benchmark_price=60.0, target_usd=0.0, interest=0.05, initial_usd=0.0),
]


@pytest.mark.parametrize("fund", EDGES, ids=["low-edges", "high-interest", "high-target", "zero"])
@pytest.mark.parametrize("smooth", [False, True], ids=["rule", "smooth"])
def test_settings_at_the_edges_of_their_ranges_give_finite_verified_results(iraq, fund, smooth):
    """The property above is not vacuous: settings at their edges solve and verify."""
    result = _input_error_or_verified(iraq, fund, _path([80.0, 45.0, 120.0]), smooth, "iraq-2005")
    assert result is not None


def _input_error_or_verified(
    iraq: revshare.Territory, fund: Fund, path: pd.DataFrame, smooth: bool, structure: str
) -> revshare.PeriodAllocation | None:
    """An InputError naming a fund parameter (None), or a result whose every number is finite,
    whose books check_fund passes and whose every period verifies again from the data."""
    try:
        result = optimize_periods(iraq, structure, path, fund=fund, smooth=smooth)
    except InputError as err:
        files = {p.file for p in err.problems}
        assert files <= {
            "fund",
            "fund_benchmark",
            "fund_target",
            "fund_spend_rule",
            "fund_interest",
            "fund_initial",
        }, err
        return None
    assert fund.problems() == []  # a setting out of its range never gets through
    assert non_finite(result) == []
    assert check_fund(iraq, path, fund, result.flows, smooth) == []
    m = iraq.money(path["price"].to_numpy(dtype=float))
    f = result.flows["distributable_usd"].to_numpy() / m.revenue
    money = Money(m.prices, m.revenue * f, *(q * f[:, None] for q in (m.region, m.bloc, m.outside)))
    x = result.cells["usd"].to_numpy().reshape(len(path), -1)
    checked = verify_batch(
        iraq, result.structure, money, x, result.flows["centre_usd"].to_numpy(), 1e-7
    )
    assert checked.ok.all(), checked.worst
    json.loads(periods_json(result), parse_constant=lambda c: pytest.fail(f"non-finite {c}"))
    return result


# -- class 6 (b): the verifier and check_fund fail on any NaN or infinity --------------------------


@pytest.fixture(scope="module")
def books(iraq) -> tuple[pd.DataFrame, Fund, pd.DataFrame]:
    fund = Fund(benchmark_price=60, spend_rule=0.5, interest=0.03, initial_usd=5e9)
    path = _path([80.0, 50.0, 40.0, 90.0])
    result = optimize_periods(iraq, "iraq-2005", path, fund=fund)
    assert check_fund(iraq, path, fund, result.flows, False) == []
    return path, fund, result.flows


BOOK_COLUMNS = [
    "price",
    "revenue_usd",
    "deposit_usd",
    "interest_usd",
    "withdrawal_usd",
    "balance_usd",
    "distributable_usd",
    "target_usd",
    "benchmark_revenue_usd",
]


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("column", BOOK_COLUMNS)
@pytest.mark.parametrize("row", [0, 3])
def test_check_fund_fails_on_a_non_finite_number_anywhere_in_the_books(
    iraq, books, column, value, row
):
    path, fund, flows = books
    bad = flows.copy()
    bad.loc[row, column] = value
    problems = check_fund(iraq, path, fund, bad, False)
    assert problems and "not a finite number" in problems[0]
    assert check_fund(iraq, path, fund, bad, True)  # smoothed books too


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("column", ["balance_usd", "withdrawal_usd", "distributable_usd"])
def test_a_non_finite_flow_from_the_fund_is_never_reported_as_verified(
    iraq, monkeypatch, column, value
):
    real = periods.mechanical_flows

    def broken(*args, **kwargs):
        flows = real(*args, **kwargs)
        flows.loc[1, column] = value
        return flows

    monkeypatch.setattr(periods, "mechanical_flows", broken)
    with pytest.raises(NotOptimalError, match="verification failed"):
        optimize_periods(iraq, "federation", _path([80.0, 50.0, 90.0]), fund=Fund(window=1))


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    "field", ["cells", "centre", "revenue", "region", "bloc", "outside", "prices-only"]
)
def test_verify_batch_fails_every_scenario_with_a_non_finite_number(iraq, field, value):
    a = revshare.optimize(iraq, "iraq-2005", price=82.49)
    s = resolve("iraq-2005", iraq.structures)
    m = iraq.money(np.array([82.49, 82.49]))
    x = np.vstack([a.cells["usd"].to_numpy()] * 2)
    g = np.array([a.centre_usd] * 2)
    assert verify_batch(iraq, s, m, x, g).ok.all()
    parts = {
        "revenue": m.revenue.copy(),
        "region": m.region.copy(),
        "bloc": m.bloc.copy(),
        "outside": m.outside.copy(),
    }
    if field == "cells":
        x[1, 3] = value
    elif field == "centre":
        g[1] = value
    elif field in parts:
        parts[field].reshape(2, -1)[1, 0] = value
    m2 = Money(m.prices, parts["revenue"], parts["region"], parts["bloc"], parts["outside"])
    checked = verify_batch(iraq, s, m2, x, g)
    if field == "prices-only":  # the price itself is not a quantity the rules read
        assert checked.ok.all()
        return
    assert checked.ok.tolist() == [True, False]
    assert checked.worst[1].startswith("finite[")


def test_verify_fails_where_the_revenue_overflows(iraq):
    a = revshare.optimize(iraq, "iraq-2005", price=82.49)
    s = resolve("iraq-2005", iraq.structures)
    assert verify(iraq, s, 82.49, a.cells["usd"].to_numpy(), a.centre_usd).ok
    with np.errstate(over="ignore", invalid="ignore"):
        v = verify(iraq, s, 1e308, a.cells["usd"].to_numpy(), a.centre_usd)
    assert not v.ok and v.violations[0][0].startswith("finite[")


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        {"a": [1.0, {"b": math.inf}]},
        np.array([1.0, -math.inf]),
        pd.DataFrame({"x": [1.0, math.nan]}),
        (1, np.float64("inf")),
    ],
    ids=["nan", "nested", "array", "frame", "tuple"],
)
def test_require_finite_finds_a_nan_or_infinity_anywhere(value):
    assert non_finite(value)
    with pytest.raises(NotOptimalError, match="not a finite number"):
        require_finite(value)
    assert (
        non_finite({"a": [1.0, "x", None, True, np.int64(3)], "f": pd.DataFrame({"s": ["y"]})})
        == []
    )


# -- JSON writers never write NaN or Infinity ------------------------------------------------------


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("wrap", ["top", "list", "numpy", "deep"])
def test_json_writer_refuses_non_finite_numbers(value, wrap):
    doc = {
        "top": {"v": value},
        "list": {"v": [1.0, value]},
        "numpy": {"v": np.float64(value)},
        "deep": {"a": [{"b": {"c": value}}]},
    }[wrap]
    with pytest.raises(safe.NonFiniteJSONError, match="document"):
        safe.json_bytes(doc)
    assert json.loads(safe.json_bytes({"v": [1.5, None, "x"]})) == {"v": [1.5, None, "x"]}


def test_a_periods_report_with_a_non_finite_number_is_never_written_as_json(iraq):
    result = optimize_periods(iraq, "federation", _path([80.0, 60.0]), fund=Fund(window=1))
    assert json.loads(periods_json(result))
    broken = revshare.PeriodAllocation(
        result.structure,
        result.flows,
        result.cells,
        result.periods,
        {**result.smoothing, "lowest_relative_to_average": math.inf},
        result.verification,
        result.provenance,
    )
    with pytest.raises(safe.NonFiniteJSONError):
        periods_json(broken)


# -- class 16: metrics in O(n log n) time and linear memory ----------------------------------------


def _gini_pairs(v: np.ndarray, w: np.ndarray) -> float:
    """The definition, over all pairs: sum_ij w_i w_j |v_i - v_j| / (2 W^2 mean)."""
    mean = float(np.average(v, weights=w))
    if mean <= 0:
        return 0.0
    pairs = (w[:, None] * w[None, :] * np.abs(v[:, None] - v[None, :])).sum()
    return float(pairs / (2 * w.sum() ** 2 * mean))


CELLS = st.lists(
    st.tuples(
        st.one_of(st.floats(0, 1e6), st.sampled_from([0.0, 1.0, 7.5])),
        st.floats(1e-3, 1e7),
    ),
    min_size=1,
    max_size=40,
)


@given(cells=CELLS)
def test_gini_by_sorting_equals_the_all_pairs_definition(cells):
    v = np.array([c[0] for c in cells])
    w = np.array([c[1] for c in cells])
    expected = _gini_pairs(v, w)
    assert metrics.gini(v, w) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert 0.0 <= metrics.gini(v, w) <= 1.0
    rows = np.vstack([v, v[::-1] * 2.0, np.full_like(v, 3.0)])
    got = metrics.gini_rows(rows, w)
    assert got[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert got[1] == pytest.approx(_gini_pairs(rows[1], w), rel=1e-9, abs=1e-12)
    assert got[2] == 0.0


@given(
    labels=st.lists(st.sampled_from(["a", "b", "c", "zz"]), min_size=1, max_size=30),
    n=st.integers(1, 3),
)
def test_group_sums_equal_the_indicator_matrix_product(labels, n):
    x = np.arange(n * len(labels), dtype=float).reshape(n, -1) * 1.5
    cats = ["c", "a", "b"]  # "zz" belongs to none
    expected = x @ indicator_matrix(pd.Series(labels), cats)
    assert np.allclose(metrics.group_sums(x, pd.Series(labels), cats), expected, rtol=1e-15)


BIG = 200_000
PEAK_BYTES = 200e6


@pytest.fixture(scope="module")
def big() -> revshare.Territory:
    """A territory of 200,000 cells: 40,000 regions in 400 blocs, 5 factions each."""
    regions = [f"R{i}" for i in range(BIG // 5)]
    population = pd.DataFrame(
        {
            "region": np.repeat(regions, 5),
            "faction": np.tile([f"F{k}" for k in range(5)], len(regions)),
            "population": np.random.default_rng(0).integers(100, 40_000, BIG).astype(float),
        }
    )
    frame = pd.DataFrame({"region": regions, "bloc": [f"B{i % 400}" for i in range(len(regions))]})
    fields = pd.DataFrame(
        {"field": ["F1", "F2"], "region": regions[:2], "annual_revenue_usd": [6e10, 4e10]}
    )
    t = revshare.territory_from_frames(fields, population, frame)
    assert len(t.cells) == BIG
    return t


def test_metrics_and_verifier_run_on_200000_cells_in_bounded_memory(big):
    pop = big.cells["population"].to_numpy(dtype=float)
    revenue = 1e11
    x = revenue * 0.75 * pop / pop.sum()  # equal money per head; the centre keeps a quarter
    x[::7] *= 1.1  # a little inequality
    x *= revenue * 0.75 / x.sum()
    s = resolve("federation", big.structures)
    money = big.money(np.array([80.0]))
    tracemalloc.start()
    try:
        g = metrics.gini(x / pop, pop)
        rows = metrics.gini_rows(np.vstack([x / pop] * 3), pop)
        lh = metrics.loosemore_hanby(x, pop)
        cells = big.cells.assign(usd=x, usd_rounded=np.round(x))
        by = metrics.summarise(cells, "region")
        blocks = residual_blocks(big, s, money, x[None, :], np.array([revenue * 0.25]))
        checked = verify_batch(big, s, money, x[None, :], np.array([revenue * 0.25]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 1e6:.0f} MB"
    assert 0 < g < 0.1 and rows[0] == pytest.approx(g) and 0 < lh < 0.1
    assert len(by) == BIG // 5 and len(blocks) > 3
    assert checked.max_violation_usd.shape == (1,)


# -- class 11: a report folder is replaced as a whole ----------------------------------------------

OLD = {"a.csv": b"old a", "b.json": b'{"old": 1}', "gone.md": b"only in the old report"}
NEW = {"a.csv": b"new a", "b.json": b'{"new": 2}', "c.html": b"<p>new</p>", "d.txt": b"new d"}
FOREIGN = {"sweep.json": b"{}", "chunks/000001.json": b"[1]", "notes.txt": b"mine"}


def _state(folder: Path) -> dict[str, bytes] | None:
    """The report in ``folder`` if it is complete (every file its manifest names, with that
    SHA-256, and no other report file), else None; foreign entries are left out."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())["files"]
    except (OSError, ValueError, KeyError):
        return None
    files = {}
    for name, digest in manifest.items():
        data = (folder / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            return None
        files[name] = data
    report_names = {p.name for p in folder.iterdir()} - {"manifest.json", "sweep.json", "chunks"}
    report_names -= {"notes.txt"}
    return files if report_names == set(manifest) else None


def _foreign_intact(folder: Path) -> bool:
    return all((folder / n).read_bytes() == d for n, d in FOREIGN.items())


def _strays(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(".revshare-"))


def _old_report(tmp_path: Path) -> Path:
    out = tmp_path / "report"
    atomic.write_bundle(out, OLD)
    for name, data in FOREIGN.items():
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes(data)
    assert _state(out) == OLD
    return out


@pytest.fixture(params=["exchange", "rename-aside"])
def mode(request, monkeypatch) -> str:
    """Both ways to swap: the atomic exchange (Linux), and renaming the old folder aside."""
    if request.param == "exchange":
        if atomic._RENAMEAT2 is None:
            pytest.skip("no renameat2 on this system")
    else:
        monkeypatch.setattr(atomic, "_RENAMEAT2", None)
    return str(request.param)


def _steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The named steps of one forced replacement, recorded."""
    out = _old_report(tmp_path / "probe")
    seen: list[str] = []
    monkeypatch.setattr(atomic, "_step", seen.append)
    atomic.write_bundle(out, NEW, force=True)
    monkeypatch.setattr(atomic, "_step", lambda label: None)
    assert _state(out) == NEW and _foreign_intact(out)
    return seen


def test_a_forced_replacement_swaps_the_whole_folder_and_keeps_foreign_entries(tmp_path, mode):
    out = _old_report(tmp_path)
    atomic.write_bundle(out, NEW, force=True)
    assert _state(out) == NEW  # "gone.md" went with the old report: no mix of the two
    assert not (out / "gone.md").exists()
    assert _foreign_intact(out)  # a sweep's chunks and the user's notes stay
    assert _strays(out) == []


def test_a_new_report_folder_and_its_parents_are_created(tmp_path, mode):
    out = tmp_path / "a" / "b" / "report"
    atomic.write_bundle(out, NEW)
    assert _state(out) == NEW and _strays(out) == []


def test_a_symlinked_report_folder_is_replaced_where_it_points(tmp_path, mode):
    real = _old_report(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    atomic.write_bundle(link, NEW, force=True)
    assert link.is_symlink() and _state(real) == NEW


def test_every_step_failing_leaves_the_old_or_the_new_report_complete(tmp_path, monkeypatch, mode):
    steps = _steps(tmp_path, monkeypatch)
    assert steps[: len(NEW)] == [f"file:{n}" for n in NEW]
    assert "swapped" in steps and ("aside" in steps) == (mode == "rename-aside")
    for k, at in enumerate(steps):
        out = _old_report(tmp_path / f"fail{k}")

        def fail(label: str, at: str = at) -> None:
            if label == at:
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(atomic, "_step", fail)
        with pytest.raises(OSError):
            atomic.write_bundle(out, NEW, force=True)
        monkeypatch.setattr(atomic, "_step", lambda label: None)
        after_swap = k >= steps.index("swapped")
        assert _state(out) == (NEW if after_swap else OLD), at
        assert _foreign_intact(out), at
        if not after_swap:
            assert _strays(out) == [], at  # a failure cleans up what it built
        atomic.recover_bundle(out)  # the next run (or a reader) removes what is left
        assert _strays(out) == [] and _state(out) == (NEW if after_swap else OLD), at


@pytest.mark.parametrize("k", range(len(NEW) + 1))
def test_a_file_that_cannot_be_written_leaves_the_old_report(tmp_path, monkeypatch, k):
    """The issue's case: one file (or the manifest, k = len(NEW)) cannot be written."""
    out = _old_report(tmp_path)
    real = atomic._write_file
    calls = []

    def write(path: Path, data: bytes) -> None:
        calls.append(path.name)
        if len(calls) == k + 1:
            real(path, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(atomic, "_write_file", write)
    with pytest.raises(OSError):
        atomic.write_bundle(out, NEW, force=True)
    assert _state(out) == OLD and _foreign_intact(out) and _strays(out) == []


@pytest.mark.parametrize("k", range(8))
def test_a_rename_that_fails_leaves_the_old_or_the_new_report(tmp_path, monkeypatch, mode, k):
    """The k-th rename or replace of the write fails (a file or folder that cannot be put in
    place): the folder holds one complete report, and the next run leaves nothing behind."""
    out = _old_report(tmp_path)
    real = {"rename": os.rename, "replace": os.replace}
    calls = []

    def failing(kind: str):
        def move(a, b, **kwargs):
            calls.append(kind)
            if len(calls) == k + 1:
                raise OSError(13, "Permission denied")
            return real[kind](a, b, **kwargs)

        return move

    monkeypatch.setattr(os, "rename", failing("rename"))
    monkeypatch.setattr(os, "replace", failing("replace"))
    try:
        atomic.write_bundle(out, NEW, force=True)
        failed = False
    except OSError:
        failed = True
    monkeypatch.setattr(os, "rename", real["rename"])
    monkeypatch.setattr(os, "replace", real["replace"])
    assert _state(out) in (OLD, NEW) and _foreign_intact(out)
    assert failed or _state(out) == NEW
    atomic.recover_bundle(out)
    assert _state(out) in (OLD, NEW) and _strays(out) == []


def test_a_failed_rename_in_puts_the_old_folder_back(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_RENAMEAT2", None)
    out = _old_report(tmp_path)
    real = os.rename
    calls = []

    def rename(a, b):
        calls.append((a, b))
        if len(calls) == 2:  # the first put the old folder aside, the second brings the new in
            raise OSError(5, "Input/output error")
        real(a, b)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError):
        atomic.write_bundle(out, NEW, force=True)
    monkeypatch.setattr(os, "rename", real)
    assert _state(out) == OLD and _foreign_intact(out) and _strays(out) == []


KILLER = """
import json, os, signal, sys
import revshare.atomic as atomic

spec = json.loads(sys.argv[1])
if not spec["exchange"]:
    atomic._RENAMEAT2 = None
new = {n: v.encode() for n, v in spec["new"].items()}
killed = []
for folder, at in spec["cases"]:
    pid = os.fork()  # one import, then a child per step, killed at that step
    if pid == 0:
        def step(label, at=at):
            if label == at:
                os.kill(os.getpid(), signal.SIGKILL)
        atomic._step = step
        atomic.write_bundle(folder, new, force=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    killed.append(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL)
print(json.dumps(killed))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_kill_at_every_step_leaves_the_old_or_the_new_report_complete(
    tmp_path, monkeypatch, mode
):
    steps = _steps(tmp_path, monkeypatch)
    cases = [(str(_old_report(tmp_path / f"kill{k}")), at) for k, at in enumerate(steps)]
    spec = {
        "exchange": mode == "exchange",
        "new": {n: d.decode() for n, d in NEW.items()},
        "cases": cases,
    }
    run = subprocess.run(
        [sys.executable, "-c", KILLER, json.dumps(spec)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [True] * len(steps)  # each child died at its step
    for k, (folder, at) in enumerate(cases):
        out = Path(folder)
        after_swap = k >= steps.index("swapped")
        seen = _state(out)
        if at == "aside":  # between the two renames the name is briefly free ...
            assert seen is None and not out.exists()
        else:  # ... everywhere else a reader finds a complete report
            assert seen == (NEW if after_swap else OLD), at
        atomic.recover_bundle(out)  # ... and the next run or a reader puts the old one back
        assert _state(out) == (NEW if after_swap else OLD), at
        assert _foreign_intact(out) and _strays(out) == [], at


def test_the_next_write_recovers_a_folder_left_aside_by_a_kill(tmp_path):
    out = _old_report(tmp_path)

    aside = tmp_path / (atomic._stray_prefix(out.resolve(), "old") + "x")
    os.rename(out, aside)  # as a kill between the two renames leaves it
    assert not out.exists()
    with pytest.raises(InputError) as info:  # the old report is back, so it needs force
        atomic.write_bundle(out, NEW)
    assert "E-OUTPUT-EXISTS" in info.value.codes and _state(out) == OLD
    atomic.write_bundle(out, NEW, force=True)
    assert _state(out) == NEW and _strays(out) == []


def test_the_current_directory_is_never_swapped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for where in (".", str(tmp_path), str(tmp_path.parent)):
        with pytest.raises(InputError) as info:
            atomic.write_bundle(where, NEW, force=True)
        assert info.value.codes == ["E-OUTPUT"]
    assert list(tmp_path.iterdir()) == []
