"""revshare: who gets the oil money under each way of governing a divided country.

The public API; see README.md for a tour.
"""

__version__ = "0.1.0"

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
from .scenarios import PriceModel, monte_carlo, parameter_grid, price_grid
from .structures import PRESETS, Structure
from .sweep import SweepResult, sweep
from .validate import Validation, validate

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
