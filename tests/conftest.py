"""Shared test configuration: hypothesis profiles and a small in-memory territory.

Profiles (select with the ``HYPOTHESIS_PROFILE`` environment variable):

- ``ci`` (default): 50 examples per property and solver, derandomized so that CI is reproducible;
- ``nightly``: 500 examples, randomized, for the scheduled long run;
- ``dev``: 200 randomized examples without shrinking, to hunt for bugs quickly.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, settings

import revshare

# On a failure hypothesis writes a suggested @example with libcst, whose import warns
# (DeprecationWarning from mypy_extensions); with warnings as errors that would turn the report of
# a real failure into an INTERNALERROR. Import it once here, quietly.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import libcst.metadata  # noqa: F401

settings.register_profile(
    "ci",
    max_examples=50,
    derandomize=True,
    database=None,  # CI is a fresh clone: the same examples every run, none replayed
    # no "explain" phase: its line tracer (sys.settrace) slows every example many times over
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _small_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three regions in two blocs, two factions, 1e9 USD a year from two fields.

    ``Basra`` (south) holds 600 million USD of oil, ``Kirkuk`` (north) 400 million; ``Erbil``
    (north) has none. Kirkuk is mixed: 600,000 Turkmen and 400,000 Kurds.
    """
    fields = pd.DataFrame(
        {
            "field": ["Rumaila", "Kirkuk field"],
            "region": ["Basra", "Kirkuk"],
            "production_bpd": [np.nan, np.nan],
            "annual_revenue_usd": [600_000_000.0, 400_000_000.0],
        }
    )
    population = pd.DataFrame(
        {
            "region": ["Basra", "Kirkuk", "Kirkuk", "Erbil"],
            "faction": ["Arab", "Turkmen", "Kurd", "Kurd"],
            "population": [3_000_000, 600_000, 400_000, 2_000_000],
        }
    )
    regions = pd.DataFrame(
        {
            "region": ["Basra", "Kirkuk", "Erbil"],
            "bloc": ["south", "north", "north"],
            "area_km2": [19_070.0, 9_679.0, 15_074.0],
            "need_index": [1.2, 1.0, 0.8],
            "damage": [1.0, 0.0, 0.0],
            "baseline_usd_per_capita": [0.0, 0.0, 0.0],
            "coastal": [True, False, False],
        }
    )
    return fields, population, regions


@pytest.fixture
def small_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fresh copies of the small territory's fields, population and regions frames."""
    return _small_frames()


@pytest.fixture(scope="session")
def small_territory() -> revshare.Territory:
    """The small territory of :func:`_small_frames`, shared read-only by every test."""
    return revshare.territory_from_frames(*_small_frames())


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print how the fuzzer's runs ended (issue 11 asks for the count)."""
    import sys

    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and fuzz.FUZZ_OUTCOMES:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(fuzz.FUZZ_OUTCOMES.items()))
        terminalreporter.write_line(f"fuzzer: {counts}")
