"""revshare: who gets the oil money under each way of governing a divided country.

The public API; see README.md for a tour. Each name is imported on first use (PEP 562), so that
``import revshare`` is cheap and a command loads only the modules it needs.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .compare import Comparison, compare
    from .convention import Apportionment, apportion, apportion_territory
    from .dataset import Territory, load_dataset, territory_from_frames
    from .errors import (
        InfeasibleError,
        InputError,
        NotOptimalError,
        Problem,
        RevshareError,
        SolverUnavailableError,
    )
    from .optimize import Allocation, optimize
    from .periods import Fund, PeriodAllocation, optimize_periods
    from .readers import read_periods, read_prices
    from .referendum import Referendum, ratify
    from .reports.sweep import sweep
    from .scenarios import PriceModel, monte_carlo, parameter_grid, price_grid
    from .structures import PRESETS, Structure
    from .sweep import SweepResult
    from .validate import Validation, validate

# Each public name and the module that defines it. ``sweep`` is the analysis followed by its
# reports (the analysis itself, revshare.sweep.sweep, writes none).
_HOMES = {
    "Comparison": "compare",
    "compare": "compare",
    "Apportionment": "convention",
    "apportion": "convention",
    "apportion_territory": "convention",
    "Territory": "dataset",
    "load_dataset": "dataset",
    "territory_from_frames": "dataset",
    "InfeasibleError": "errors",
    "InputError": "errors",
    "NotOptimalError": "errors",
    "Problem": "errors",
    "RevshareError": "errors",
    "SolverUnavailableError": "errors",
    "Allocation": "optimize",
    "optimize": "optimize",
    "Fund": "periods",
    "PeriodAllocation": "periods",
    "optimize_periods": "periods",
    "read_periods": "readers",
    "read_prices": "readers",
    "Referendum": "referendum",
    "ratify": "referendum",
    "sweep": "reports.sweep",
    "PriceModel": "scenarios",
    "monte_carlo": "scenarios",
    "parameter_grid": "scenarios",
    "price_grid": "scenarios",
    "PRESETS": "structures",
    "Structure": "structures",
    "SweepResult": "sweep",
    "Validation": "validate",
    "validate": "validate",
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


class _Shadowed:
    """A public function named like a submodule (``optimize``, ``compare``, ``sweep``,
    ``validate``): importing that submodule binds its name on the package, which would hide the
    function; this descriptor on the package's class keeps the function, as the eager imports
    did."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, face: object, owner: type | None = None) -> Any:
        return vars(face)[self.name] if self.name in vars(face) else _load(self.name)

    def __set__(self, face: object, value: object) -> None:
        if not isinstance(value, types.ModuleType):  # a module is the import system's binding
            vars(face)[self.name] = value


class _Face(types.ModuleType):
    compare = _Shadowed()
    optimize = _Shadowed()
    sweep = _Shadowed()
    validate = _Shadowed()


sys.modules[__name__].__class__ = _Face

__all__ = [
    "PRESETS",
    "Allocation",
    "Apportionment",
    "Comparison",
    "Fund",
    "InfeasibleError",
    "InputError",
    "NotOptimalError",
    "PeriodAllocation",
    "PriceModel",
    "Problem",
    "Referendum",
    "RevshareError",
    "SolverUnavailableError",
    "Structure",
    "SweepResult",
    "Territory",
    "Validation",
    "__version__",
    "apportion",
    "apportion_territory",
    "compare",
    "load_dataset",
    "monte_carlo",
    "optimize",
    "optimize_periods",
    "parameter_grid",
    "price_grid",
    "ratify",
    "read_periods",
    "read_prices",
    "sweep",
    "territory_from_frames",
    "validate",
]
