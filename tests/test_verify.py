"""Mutation tests of the independent verifier (docs/design.md#verification).

Each test solves a small structure with HiGHS, checks that the verifier accepts the answer as it
is, then feeds it a mutated copy of the money per cell and checks that the mutation, and only the
rule it breaks, is rejected: by :func:`revshare.solve.verify.verify`, by
:func:`revshare.solve.verify.residuals` (the size of the breach) and by
:func:`revshare.solve.verify.require_verified` (``NotOptimalError``, exit 4).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.solve.verify import RELATIVE_TOLERANCE, require_verified, residuals, tolerance, verify

PRICE = 1.0
HIGHS_RELATIVE = 1e-10  # the relative tolerance optimize() verifies HiGHS answers with
CBC_RELATIVE = 1e-7  # the one for CBC answers


def territory(
    pops: dict[str, float], oil: dict[str, float], baseline: dict[str, float] | None = None
) -> revshare.Territory:
    """One faction ``x`` a region, its own bloc; ``oil`` is each producing region's revenue."""
    regions = list(pops)
    return revshare.territory_from_frames(
        pd.DataFrame(
            {
                "field": [f"field in {r}" for r in oil],
                "region": list(oil),
                "production_bpd": np.nan,
                "annual_revenue_usd": list(oil.values()),
            }
        ),
        pd.DataFrame({"region": regions, "faction": "x", "population": list(pops.values())}),
        pd.DataFrame(
            {
                "region": regions,
                "bloc": regions,
                "baseline_usd_per_capita": [(baseline or {}).get(r, 0.0) for r in regions],
            }
        ),
    )


def solved(t: revshare.Territory, s: revshare.Structure) -> tuple[np.ndarray, float]:
    a = revshare.optimize(t, s, price=PRICE, solver="highs")
    assert list(zip(a.cells["region"], a.cells["faction"], strict=True)) == list(
        zip(t.cells["region"], t.cells["faction"], strict=True)
    )
    return a.cells["usd"].to_numpy(dtype=float).copy(), float(a.centre_usd)


def violated(t, s, x, g, relative=RELATIVE_TOLERANCE) -> set[str]:
    return {name for name, _ in verify(t, s, PRICE, x, g, relative).violations}


def residual(t, s, x, g, name: str) -> float:
    return dict(residuals(t, s, PRICE, x, g))[name]


def assert_rejected(t, s, x, g, relative=RELATIVE_TOLERANCE) -> None:
    v = verify(t, s, PRICE, x, g, relative)
    assert not v.ok
    assert v.max_violation_usd > v.tolerance_usd
    with pytest.raises(revshare.NotOptimalError, match="verification failed"):
        require_verified(v)


def assert_accepted(t, s, x, g, relative=RELATIVE_TOLERANCE) -> None:
    v = verify(t, s, PRICE, x, g, relative)
    assert v.ok, v.violations
    assert v.max_violation_usd <= v.tolerance_usd
    require_verified(v)


MILLION = territory({"A": 100_000, "B": 100_000, "C": 200_000}, {"A": 1_000_000.0})
UNIFIED = revshare.Structure(name="unified-like", central_share=(0.5, 0.5))
CAPPED = revshare.Structure(name="capped", derivation=0.25, per_capita_cap=1.2)
# Max-min with baselines A 0, B 2, C 50 USD a head: C sits exactly at its floor of 0.5 x the mean.
SMALL = territory({"A": 10, "B": 20, "C": 30}, {"A": 1_000.0}, baseline={"C": 50.0, "B": 2.0})
FLOORED = revshare.Structure(name="floored", per_capita_floor=0.5, objective="maxmin")
BANDED = revshare.Structure(name="banded", per_capita_floor=0.9, per_capita_cap=1.1)
FOUR = territory({"A": 1_000, "B": 3_000, "C": 7_000, "D": 20_000}, {"B": 5_000_000.0})
R11_REVENUE = 12_345_678_912.345
HALVES = territory({"A": 1, "B": 1}, {"A": R11_REVENUE})
PLAIN = revshare.Structure(name="plain")
# docs/design.md#cbcs-eight-digits: A is held at a cap of 1,234,567,891.2345 (a tenth of the revenue).
R11 = territory({"A": 1, "B": 19}, {"A": R11_REVENUE})
R11_CAP = revshare.Structure(name="r11", derivation=0.06, per_capita_cap=2.0)

BASES = {
    "million-unified": (MILLION, UNIFIED),
    "million-capped": (MILLION, CAPPED),
    "small-floored": (SMALL, FLOORED),
    "four-banded": (FOUR, BANDED),
    "r11-halves": (HALVES, PLAIN),
    "r11-cap": (R11, R11_CAP),
}


@pytest.mark.parametrize("relative", [HIGHS_RELATIVE, RELATIVE_TOLERANCE, CBC_RELATIVE])
@pytest.mark.parametrize("base", sorted(BASES))
def test_the_unmutated_allocation_is_accepted(base, relative):
    t, s = BASES[base]
    x, g = solved(t, s)
    assert_accepted(t, s, x, g, relative)
    assert residual(t, s, x, g, "budget") <= tolerance(t.field_revenue(PRICE).sum(), relative)


@pytest.mark.parametrize("relative", [HIGHS_RELATIVE, RELATIVE_TOLERANCE, CBC_RELATIVE])
def test_budget_short_by_one_dollar_is_rejected(relative):
    x, g = solved(MILLION, UNIFIED)
    assert g == pytest.approx(500_000.0)
    x[0] -= 1.0
    assert_rejected(MILLION, UNIFIED, x, g, relative)
    assert violated(MILLION, UNIFIED, x, g, relative) == {"budget"}
    assert residual(MILLION, UNIFIED, x, g, "budget") == pytest.approx(1.0, abs=1e-6)


def test_a_cap_exceeded_by_a_relative_millionth_is_rejected():
    x, g = solved(MILLION, CAPPED)
    cap = 1.2 * 100_000 * 1_000_000 / 400_000  # 300,000 USD for A
    assert x[0] == pytest.approx(cap, abs=1e-3)  # the cap binds: A would otherwise get 437,500
    raised = cap * (1 + 1e-6)
    x[2] -= raised - x[0]  # C pays for it: the budget still balances
    x[0] = raised
    assert violated(MILLION, CAPPED, x, g) == {"cap[A/x]"}
    assert residual(MILLION, CAPPED, x, g, "cap[A/x]") == pytest.approx(0.3, rel=1e-6)
    assert_rejected(MILLION, CAPPED, x, g)


def test_a_negative_amount_is_rejected():
    x, g = solved(MILLION, UNIFIED)
    x[1] += x[0] + 1.0
    x[0] = -1.0
    assert violated(MILLION, UNIFIED, x, g) == {"nonnegative[A/x]"}
    assert residual(MILLION, UNIFIED, x, g, "nonnegative[A/x]") == 1.0
    assert_rejected(MILLION, UNIFIED, x, g)


def test_a_negative_centre_is_rejected():
    s = revshare.Structure(name="free centre", central_share=(0.0, 0.5))
    x, g = solved(MILLION, s)
    x[0] += g + 1.0
    assert "centre[nonnegative]" in violated(MILLION, s, x, -1.0)
    assert_rejected(MILLION, s, x, -1.0)


def test_a_floor_missed_by_one_cent_is_rejected_on_a_small_revenue():
    x, g = solved(SMALL, FLOORED)
    floor_c = 0.5 * 30 * 1_000 / 60  # 250 USD: half the mean of 16.67 a head, for 30 people
    assert x[2] == pytest.approx(floor_c, abs=1e-6)
    x[2] -= 0.01
    x[0] += 0.01
    assert violated(SMALL, FLOORED, x, g) == {"floor[C/x]"}
    assert residual(SMALL, FLOORED, x, g, "floor[C/x]") == pytest.approx(0.01, abs=1e-6)
    assert_rejected(SMALL, FLOORED, x, g)


@pytest.mark.parametrize("where", ["cell", "centre"])
def test_a_nan_is_rejected(where):
    x, g = solved(MILLION, UNIFIED)
    if where == "cell":
        x[1] = math.nan
    else:
        g = math.nan
    v = verify(MILLION, UNIFIED, PRICE, x, g)
    assert not v.ok and math.isinf(v.max_violation_usd)
    assert [n for n, _ in v.violations] == ["finite[every cell has a finite amount]"]
    assert_rejected(MILLION, UNIFIED, x, g)


@pytest.mark.parametrize("length", ["one missing", "one extra", "none"])
def test_a_wrong_number_of_amounts_is_rejected(length):
    x, g = solved(MILLION, UNIFIED)
    x = {"one missing": x[:-1], "one extra": np.append(x, 0.0), "none": x[:0]}[length]
    assert violated(MILLION, UNIFIED, x, g) == {"finite[every cell has a finite amount]"}
    assert_rejected(MILLION, UNIFIED, x, g)


def test_a_shuffled_assignment_is_rejected():
    x, g = solved(FOUR, BANDED)
    shuffled = np.roll(x, 1)  # every cell gets another cell's money; the total is unchanged
    assert residual(FOUR, BANDED, shuffled, g, "budget") <= 1e-6
    bad = violated(FOUR, BANDED, shuffled, g)
    assert bad and "budget" not in bad
    assert {name.split("[")[0] for name in bad} <= {"floor", "cap"}
    assert_rejected(FOUR, BANDED, shuffled, g)


def eight_digits(values: np.ndarray) -> np.ndarray:
    """What PuLP reads back from CBC's solution file: ``%15.8g``."""
    return np.array([float(f"{v:.8g}") for v in values])


def test_cbc_style_eight_digit_values_are_rejected():
    x, g = solved(HALVES, PLAIN)
    assert x == pytest.approx([R11_REVENUE / 2] * 2, rel=1e-15)
    x8, g8 = eight_digits(x), float(f"{g:.8g}")
    budget_error = abs(x8.sum() + g8 - R11_REVENUE)
    assert budget_error > tolerance(R11_REVENUE)  # 87.65 USD: the mutation matters
    for relative in (HIGHS_RELATIVE, RELATIVE_TOLERANCE):
        assert violated(HALVES, PLAIN, x8, g8, relative) == {"budget"}
        assert residual(HALVES, PLAIN, x8, g8, "budget") == pytest.approx(budget_error)
        assert_rejected(HALVES, PLAIN, x8, g8, relative)


def test_r11_eight_digit_values_break_the_cap_at_the_highs_tolerance():
    x, g = solved(R11, R11_CAP)
    assert x[0] == pytest.approx(R11_REVENUE / 10, abs=1e-3)  # A at its cap
    x8, g8 = eight_digits(x), float(f"{g:.8g}")
    assert x8[0] == 1_234_567_900.0  # 8.7655 USD above the cap (docs/design.md#cbcs-eight-digits)
    assert residual(R11, R11_CAP, x8, g8, "cap[A/x]") == pytest.approx(8.7655, abs=1e-3)
    assert violated(R11, R11_CAP, x8, g8, HIGHS_RELATIVE) == {"budget", "cap[A/x]"}
    assert_rejected(R11, R11_CAP, x8, g8, HIGHS_RELATIVE)


def _non_finite_by_column(value: object, name: str = "result") -> list[str]:
    """:func:`non_finite` as written before it checked a frame's float columns in one array and
    skipped text before a call: every column taken out and every object cell searched."""
    from dataclasses import fields, is_dataclass

    if value is None or isinstance(value, str | bytes | bool | np.bool_ | int | np.integer):
        return []
    if isinstance(value, float | np.floating):
        return [] if math.isfinite(value) else [name]
    if isinstance(value, pd.DataFrame):
        return [n for c in value.columns for n in _non_finite_by_column(value[c], f"{name}[{c}]")]
    if isinstance(value, pd.Series | np.ndarray):
        a = np.asarray(value)
        if a.dtype.kind in "fc":
            return [] if np.isfinite(a).all() else [name]
        if a.dtype.kind == "O":
            return next(([name] for v in a.reshape(-1) if _non_finite_by_column(v, name)), [])
        return []
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _non_finite_by_column(v, f"{name}[{k}]")]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return [
            n
            for f in value._fields
            for n in _non_finite_by_column(getattr(value, f), f"{name}.{f}")
        ]
    if isinstance(value, list | tuple):
        return [n for i, v in enumerate(value) for n in _non_finite_by_column(v, f"{name}[{i}]")]
    if is_dataclass(value) and not isinstance(value, type):
        return [
            n
            for f in fields(value)
            for n in _non_finite_by_column(getattr(value, f.name), f"{name}.{f.name}")
        ]
    return []


def _mixed_frame(seed: int) -> pd.DataFrame:
    """A frame of every kind of column a result holds (float, complex, integer, boolean, text,
    pandas strings, object cells with numbers, a float32 and a nullable column), some cells
    replaced by NaN or an infinity."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    makers = {
        "f": lambda: rng.normal(size=n),
        "f32": lambda: rng.normal(size=n).astype(np.float32),
        "c": lambda: rng.normal(size=n) + 1j * rng.normal(size=n),
        "i": lambda: rng.integers(0, 9, n),
        "b": lambda: rng.random(n) > 0.5,
        "s": lambda: pd.array([f"r{k}" for k in range(n)], dtype="string"),
        "o": lambda: np.array([f"x{k}" if k % 2 else float(k) for k in range(n)], dtype=object),
        "nullable": lambda: pd.array(rng.normal(size=n), dtype="Float64"),
    }
    kinds = rng.choice(list(makers), size=int(rng.integers(0, 9)))
    columns = [f"{k}_{j}" for j, k in enumerate(kinds)]
    frame = pd.DataFrame({})
    for column, kind in zip(columns, kinds, strict=True):
        values = makers[str(kind)]()
        if kind in ("f", "f32", "c", "o") and rng.random() < 0.4:
            values = values.copy()
            values[int(rng.integers(0, n))] = rng.choice([np.nan, np.inf, -np.inf])
        frame.insert(len(frame.columns), column, values, allow_duplicates=True)
    return frame


@pytest.mark.parametrize("seed", range(60))
def test_non_finite_names_the_columns_it_named_column_by_column(seed: int) -> None:
    """The float columns checked in one array name the same cells, in the same order, as the
    column-by-column search, in a frame, in a record of frames and in a NamedTuple."""
    from typing import NamedTuple

    from revshare.solve.verify import non_finite

    class Record(NamedTuple):
        frame: pd.DataFrame
        value: float

    frame = _mixed_frame(seed)
    record = Record(frame, [1.0, np.nan, np.inf][seed % 3])
    for value in (frame, {"a": frame, "b": [frame]}, record):
        assert non_finite(value) == _non_finite_by_column(value)
    assert non_finite(frame) == [] or seed  # some seeds have no non-finite cell at all


def test_the_mixed_frames_hold_non_finite_cells_of_every_kind() -> None:
    """The family above meets NaN and infinities in float, float32, complex and object columns."""
    from revshare.solve.verify import non_finite

    named = {
        n.split("[")[1].split("_")[0]
        for s in range(60)
        for n in non_finite(_mixed_frame(s))
    }
    assert {"f", "f32", "c", "o"} <= named
