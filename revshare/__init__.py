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
from .referendum import Referendum, ratify
from .structures import PRESETS, Structure

__all__ = [
    "PRESETS",
    "Allocation",
    "Apportionment",
    "Comparison",
    "InfeasibleError",
    "InputError",
    "NotOptimalError",
    "Problem",
    "Referendum",
    "RevshareError",
    "SolverUnavailableError",
    "Structure",
    "Territory",
    "__version__",
    "apportion",
    "apportion_territory",
    "compare",
    "load_dataset",
    "optimize",
    "ratify",
    "territory_from_frames",
]
