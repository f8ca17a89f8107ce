"""Golden scenarios computed by hand (docs/design.md#invariants-the-tests-prove).

Each folder under ``tests/golden/`` holds ``fields.csv``, ``population.csv`` and ``regions.csv``,
and ``expected.toml`` with the structure, the price, and for the centre and each region (and some
cells) the exact amount as a fraction and the whole-dollar amount, the hand computation written
in its comments. Every case is solved with both solvers:

- HiGHS must match every whole-dollar amount exactly and every exact amount within the
  verification tolerance;
- CBC (8 significant digits) must match the exact amounts within its verification tolerance and
  the rounded total exactly.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.toml").is_file())
SOLVERS = ("highs", "cbc")
NUMERIC = {
    "production_bpd",
    "share",
    "cost_usd_per_bbl",
    "government_take",
    "transit_fee_usd_per_bbl",
    "annual_revenue_usd",
    "population",
    "area_km2",
    "need_index",
    "damage",
    "baseline_usd_per_capita",
}


def read_csv(path: Path) -> pd.DataFrame:
    """A golden CSV as text, then its numeric columns as numbers (empty means missing)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in frame.columns:
        if column in NUMERIC:
            frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
        elif column == "coastal":
            frame[column] = frame[column].str.lower() == "true"
    return frame


def load(case: str) -> tuple[revshare.Territory, dict]:
    folder = GOLDEN / case
    territory = revshare.territory_from_frames(
        read_csv(folder / "fields.csv"),
        read_csv(folder / "population.csv"),
        read_csv(folder / "regions.csv"),
    )
    return territory, tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8"))


def amounts(expected: dict) -> list[tuple[str, Fraction, int]]:
    """Every (what, exact, dollars) in the file: the centre, the regions and the cells."""
    out = [("centre", Fraction(expected["centre"]["exact"]), expected["centre"]["dollars"])]
    out += [
        (f"region {r}", Fraction(v["exact"]), v["dollars"]) for r, v in expected["regions"].items()
    ]
    out += [
        (f"cell {c}", Fraction(v["exact"]), v["dollars"])
        for c, v in expected.get("cells", {}).items()
    ]
    return out


def test_there_are_enough_golden_cases():
    assert len(CASES) >= 5
    assert {
        "three_regions_proportional",
        "maxmin_binding_floor",
        "cross_boundary_field_60_40",
        "arabic_names",
        "single_region",
        "sudan_cpa_2005",
        "partition_transit_fee",
    } <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_the_hand_computation_is_consistent(case):
    """The file itself: exact amounts add up to the revenue, whole dollars to its rounding, and
    each whole-dollar amount is within a dollar of its exact amount."""
    _, expected = load(case)
    revenue = Fraction(expected["revenue"])
    top = [(w, e, d) for w, e, d in amounts(expected) if not w.startswith("cell")]
    assert sum(e for _, e, _ in top) == revenue
    assert sum(d for _, _, d in top) == round(revenue)
    for what, exact, dollars in amounts(expected):
        assert abs(exact - dollars) < 1, what
    for region, cells in _cells_by_region(expected).items():  # a file lists all or none of them
        assert sum(d for _, d in cells) == expected["regions"][region]["dollars"], region


def _cells_by_region(expected: dict) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for key, v in expected.get("cells", {}).items():
        region, _, faction = key.partition("/")
        out.setdefault(region, []).append((faction, v["dollars"]))
    return out


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_golden_allocation(case, solver):
    territory, expected = load(case)
    a = revshare.optimize(
        territory,
        expected["structure"],
        price=expected["price"],
        overrides=expected["overrides"],
        solver=solver,
    )
    tol = a.verification.tolerance_usd
    revenue = Fraction(expected["revenue"])
    assert a.revenue_usd == pytest.approx(float(revenue), rel=1e-12, abs=1e-6)
    regions = a.regions.set_index("region")
    cells = a.cells.set_index(["region", "faction"])
    assert set(regions.index) == set(expected["regions"])

    def got(what: str) -> tuple[float, int]:
        kind, _, key = what.partition(" ")
        if kind == "centre":
            return a.centre_usd, a.centre_usd_rounded
        if kind == "region":
            return float(regions.loc[key, "usd"]), int(regions.loc[key, "usd_rounded"])
        region, _, faction = key.partition("/")
        row = cells.loc[(region, faction)]
        return float(row["usd"]), int(row["usd_rounded"])

    for what, exact, dollars in amounts(expected):
        usd, rounded = got(what)
        assert abs(usd - float(exact)) <= tol, f"{what}: {usd!r} vs {float(exact)!r} (tol {tol:g})"
        if solver == "highs":
            assert rounded == dollars, what
        else:
            assert abs(rounded - dollars) <= tol + 1, what
    total = int(a.cells["usd_rounded"].sum()) + a.centre_usd_rounded
    assert (
        total
        == round(revenue)
        == sum(d for w, _, d in amounts(expected) if not w.startswith("cell"))
    )
    for bloc, values in expected.get("blocs", {}).items():
        row = a.blocs.set_index("bloc").loc[bloc]
        assert float(row["outside_option_usd"]) == pytest.approx(
            float(Fraction(values["outside_option"])), rel=1e-12
        )
