"""revshare: who gets the oil money under each way of governing a divided country.

The public API; see README.md for a tour. Each name is imported on first use (PEP 562), so that
``import revshare`` is cheap and a command loads only the modules it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .analyses.blocking import rule_power, seat_power
    from .analyses.compare import Comparison, compare
    from .analyses.convention import Apportionment, apportion, apportion_territory
    from .analyses.core import Core, core
    from .analyses.guarantees import Guarantees, guarantees
    from .analyses.optimize import Allocation, optimize
    from .analyses.periods import Fund, PeriodAllocation, optimize_periods
    from .analyses.referendum import Referendum, ratify
    from .analyses.secession import SecessionVote, secession_odds, secession_vote
    from .analyses.sweep import SweepResult
    from .analyses.validate import Validation, validate
    from .data.dataset import Territory, load_dataset, territory_from_frames
    from .data.readers import read_periods, read_prices
    from .data.scenarios import PriceModel, monte_carlo, parameter_grid, price_grid
    from .data.structures import PRESETS, Structure
    from .errors import (
        InfeasibleError,
        InputError,
        NotOptimalError,
        Problem,
        RevshareError,
        SolverUnavailableError,
    )
    from .reports.sweep import sweep

# Each public name and the module that defines it. ``sweep`` is the analysis followed by its
# reports (the analysis itself, revshare.analyses.sweep.sweep, writes none).
_HOMES = {
    "Comparison": "analyses.compare",
    "compare": "analyses.compare",
    "Apportionment": "analyses.convention",
    "apportion": "analyses.convention",
    "apportion_territory": "analyses.convention",
    "Territory": "data.dataset",
    "load_dataset": "data.dataset",
    "territory_from_frames": "data.dataset",
    "InfeasibleError": "errors",
    "InputError": "errors",
    "NotOptimalError": "errors",
    "Problem": "errors",
    "RevshareError": "errors",
    "SolverUnavailableError": "errors",
    "rule_power": "analyses.blocking",
    "seat_power": "analyses.blocking",
    "Core": "analyses.core",
    "core": "analyses.core",
    "Guarantees": "analyses.guarantees",
    "guarantees": "analyses.guarantees",
    "Allocation": "analyses.optimize",
    "optimize": "analyses.optimize",
    "Fund": "analyses.periods",
    "PeriodAllocation": "analyses.periods",
    "optimize_periods": "analyses.periods",
    "read_periods": "data.readers",
    "read_prices": "data.readers",
    "Referendum": "analyses.referendum",
    "SecessionVote": "analyses.secession",
    "secession_odds": "analyses.secession",
    "secession_vote": "analyses.secession",
    "ratify": "analyses.referendum",
    "sweep": "reports.sweep",
    "PriceModel": "data.scenarios",
    "monte_carlo": "data.scenarios",
    "parameter_grid": "data.scenarios",
    "price_grid": "data.scenarios",
    "PRESETS": "data.structures",
    "Structure": "data.structures",
    "SweepResult": "analyses.sweep",
    "Validation": "analyses.validate",
    "validate": "analyses.validate",
}


def _load(name: str) -> Any:
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _load(name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "PRESETS",
    "Allocation",
    "Apportionment",
    "Comparison",
    "Core",
    "Fund",
    "Guarantees",
    "InfeasibleError",
    "InputError",
    "NotOptimalError",
    "PeriodAllocation",
    "PriceModel",
    "Problem",
    "Referendum",
    "RevshareError",
    "SecessionVote",
    "SolverUnavailableError",
    "Structure",
    "SweepResult",
    "Territory",
    "Validation",
    "__version__",
    "apportion",
    "apportion_territory",
    "compare",
    "core",
    "guarantees",
    "load_dataset",
    "monte_carlo",
    "optimize",
    "optimize_periods",
    "parameter_grid",
    "price_grid",
    "ratify",
    "read_periods",
    "read_prices",
    "rule_power",
    "seat_power",
    "secession_odds",
    "secession_vote",
    "sweep",
    "territory_from_frames",
    "validate",
]
