"""Issue 11, class 7: inside the documented ranges, whole-dollar totals are exact; outside them,
the input is refused before anything is solved.

The revenue limit (``MAX_REVENUE_USD``, 1e15 USD a year) keeps every amount far below 2**53, where
consecutive doubles are more than a dollar apart. These tests take revenues up to the limit, with
fractional dollars and uneven splits, through every preset that fits, and check the rounded
allocation adds up to the rounded revenue to the dollar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revshare
from revshare.data.schema import MAX_REVENUE_USD


def _territory(revenue: list[float], pops: list[int]) -> revshare.Territory:
    regions = [f"R{i}" for i in range(len(pops))]
    fields = pd.DataFrame(
        {
            "field": [f"F{i}" for i in range(len(revenue))],
            "region": [regions[i % len(regions)] for i in range(len(revenue))],
            "production_bpd": np.nan,
            "annual_revenue_usd": revenue,
        }
    )
    population = pd.DataFrame(
        {"region": regions, "faction": ["a"] * len(regions), "population": pops}
    )
    frame = pd.DataFrame(
        {
            "region": regions,
            "bloc": ["north" if i % 2 else "south" for i in range(len(regions))],
            "area_km2": [1000.0 + i for i in range(len(regions))],
            "need_index": [1.0 + 0.1 * i for i in range(len(regions))],
        }
    )
    return revshare.territory_from_frames(fields, population, frame)


def _exact(a: revshare.Allocation) -> None:
    total = int(a.cells["usd_rounded"].sum()) + a.centre_usd_rounded
    assert total == round(a.revenue_usd)
    assert (a.cells["usd_rounded"] >= 0).all() and a.centre_usd_rounded >= 0


# confederation's per-head floor conflicts with its retention on these lopsided fields
PRESETS_THAT_FIT = ["unified", "federation", "partition", "nigeria-derivation"]


@pytest.mark.parametrize("structure", PRESETS_THAT_FIT)
@pytest.mark.parametrize(
    "revenue",
    [
        [MAX_REVENUE_USD * 0.6 + 0.5, MAX_REVENUE_USD * 0.4 - 0.5],  # at the limit, odd halves
        [123_456_789_012_345.67, 7.89],  # 14 orders of magnitude apart
        [999_999_999_999.99, 1e12 / 3, 2e12 / 7],
    ],
    ids=["at-limit", "wide", "thirds"],
)
def test_rounded_totals_are_exact_up_to_the_revenue_limit(structure, revenue):
    t = _territory(revenue, [3_000_007, 1_999_993, 11, 9_000_000])
    _exact(revshare.optimize(t, structure, price=1.0))


@settings(max_examples=25)
@given(
    share=st.floats(0.01, 0.99),
    exponent=st.floats(3.0, 15.0),
    pops=st.lists(st.integers(1, 10**8), min_size=2, max_size=6),
)
def test_any_revenue_in_range_rounds_exactly(share, exponent, pops):
    revenue = min(10.0**exponent, MAX_REVENUE_USD)
    t = _territory([revenue * share, revenue * (1 - share)], pops)
    _exact(revshare.optimize(t, "federation", price=1.0))


@pytest.mark.parametrize("revenue", [MAX_REVENUE_USD * 1.01, 9e15, 1e300])
def test_revenue_beyond_the_limit_is_refused_before_solving(revenue):
    with pytest.raises(revshare.InputError) as err:
        _territory([revenue, 1.0], [1000, 2000])
    assert "E-RANGE" in err.value.codes
