"""Price scenarios and parameter grids for sweeps.

Three sources of prices, each a table with ``scenario``, ``period`` and ``price``:

- :func:`price_grid`: evenly spaced prices, ``"30:130:5"`` (both ends included) or a list
  ``"40,60,80"``;
- :func:`monte_carlo`: prices drawn from a stochastic model at a horizon (below);
- :func:`revshare.data.readers.read_prices`: a CSV of named scenarios, optionally price paths with a
  ``period`` column.

Price models (the annual average price ``horizon`` years ahead, from today's ``start``):

- ``gbm``, geometric Brownian motion: ``P_T = P_0 exp((mu - sigma^2/2) T + sigma sqrt(T) Z)``.
  Its median drifts at ``mu`` and its spread grows without bound with T.
- ``mean-reverting``: the log price is an Ornstein-Uhlenbeck process pulled towards the log of
  ``mean`` at speed ``kappa`` (Schwartz, "The Stochastic Behavior of Commodity Prices", *Journal
  of Finance* 52(3), 1997, one-factor model), sampled exactly:
  ``ln P_T = e^{-kT} ln P_0 + (1 - e^{-kT}) theta + sigma sqrt((1 - e^{-2kT}) / 2k) Z`` with
  ``theta = ln(mean) - sigma^2 / 2k``, so that the long-run distribution has median ``mean``
  times ``exp(-sigma^2/2k)``.

Defaults: volatility 0.30 a year (Brent's annualised volatility has mostly run between 25% and
40% since 2000), drift 0, reversion speed 0.5 a year (a half-life of ln 2 / 0.5 = 1.4 years),
horizon one year. All draws come from ``numpy.random.default_rng(seed)``, so a seed gives the
same scenarios on every machine and any number of workers.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .structures import printable, quote_entry, split_override

PRICE_MODELS = ("gbm", "mean-reverting")
MAX_GRID = 1_000_000
"""Most points in one price grid or parameter grid."""
MAX_SCENARIOS = 10_000_000
"""Most Monte Carlo draws in one call."""
MAX_PRICE = 10_000.0
"""Highest price in a price grid and highest model ``start`` or ``mean``, USD a barrel (about
seventy times the highest annual average ever seen)."""
DIGITS = 12
"""Significant digits that tell two grid values apart (``0.1 * 3`` is the ``0.3`` written)."""


def _usage(where: str, message: str, remedy: str, column: str | None = None) -> InputError:
    return InputError(Problem(where, None, column, "E-USAGE", message, remedy))


def parse_range(text: str, where: str, column: str | None = None) -> np.ndarray:
    """``START:STOP:STEP`` with both ends included, or ``a,b,c``; finite numbers only, none
    repeated (values equal to :data:`DIGITS` significant digits are the same value).

    ``where`` (and ``column``) name the parameter in the problems raised.
    """
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            span = (stop - start) / step if step > 0 else math.nan
            if not step > 0 or stop < start or not all(map(math.isfinite, [*parts, span])):
                raise _usage(
                    where,
                    f"{text!r} needs finite START <= STOP and STEP > 0",
                    "write e.g. 30:130:5",
                    column,
                )
            count = math.floor(span + 1e-9) + 1
            if count > MAX_GRID:
                raise _usage(where, f"{text!r} has {count:,} points", "use a larger step", column)
            # 12 significant digits: 0.1 * 3 is the 0.3 the user wrote, not 0.30000000000000004
            values = np.array([float(f"{v:.{DIGITS}g}") for v in start + step * np.arange(count)])
        else:
            values = np.array([float(p) for p in text.split(",")])
    except ValueError:
        raise _usage(
            where,
            f"cannot read {text!r}",
            "write START:STOP:STEP (30:130:5) or a list (40,60,80)",
            column,
        ) from None
    return _distinct_finite(values, repr(text), where, column)


def _distinct_finite(
    values: np.ndarray, shown: str, where: str, column: str | None = None
) -> np.ndarray:
    """``values`` when each is finite and none repeats to :data:`DIGITS` digits; ``shown`` is
    how the problems quote what the user gave."""
    if not np.all(np.isfinite(values)):
        raise _usage(where, f"{shown} has a value that is not finite", "use finite numbers", column)
    if len(values) > MAX_GRID:
        raise _usage(where, f"{shown} has {len(values):,} values", "give fewer", column)
    seen: dict[str, float] = {}
    for v in values:
        key = f"{v:.{DIGITS}g}"
        if key in seen:
            raise InputError(
                Problem(
                    where,
                    None,
                    column,
                    "E-DUPLICATE",
                    f"{shown} gives the value {key} twice"
                    + (f" ({seen[key]!r} and {float(v)!r})" if seen[key] != v else ""),
                    "give each value once (values equal to 12 significant digits are one value)",
                )
            )
        seen[key] = float(v)
    return values


def _numbers(value: object, where: str) -> np.ndarray:
    """A plain number or a sequence of plain numbers (a list, tuple, array or Series) as floats;
    anything else, text and booleans included, is an InputError naming ``where``."""
    items = list(value) if isinstance(value, list | tuple | np.ndarray | pd.Series) else [value]
    for item in items:
        if isinstance(item, bool | np.bool_) or not isinstance(item, int | float | np.number):
            raise InputError(
                Problem(
                    where,
                    None,
                    None,
                    "E-TYPE",
                    f"expected prices in USD a barrel (a number, a list of numbers or text "
                    f"such as '30:130:5'), got {_kind(item)}",
                    "pass e.g. [40, 60, 80], '30:130:5', or a table from "
                    "price_grid, monte_carlo or read_prices",
                )
            )
    if not items:
        raise _usage(where, "no prices", "give at least one price")
    return np.asarray(items, dtype=float)


def _kind(value: object) -> str:
    """A short description of ``value`` for a message: its type, and the value when short."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__


def price_grid(text: str | float | Sequence[float] | np.ndarray) -> pd.DataFrame:
    """Scenarios at prices each in [0, :data:`MAX_PRICE`]: text as :func:`parse_range` reads it
    (``"30:130:5"``, ``"40,60,80"``), or the prices themselves (a number or a sequence of
    numbers), none repeated. Problems name the parameter ``prices``."""
    if isinstance(text, str):
        prices, shown = parse_range(text, "prices"), repr(text)
    else:
        prices = _numbers(text, "prices")
        shown = _kind([float(p) for p in prices] if len(prices) > 1 else float(prices[0]))
        _distinct_finite(prices, shown, "prices")
    if np.any(prices < 0) or np.any(prices > MAX_PRICE):
        raise _usage(
            "prices",
            f"{shown} includes a price outside [0, {MAX_PRICE:g}] USD a barrel",
            f"use prices between 0 and {MAX_PRICE:g}",
        )
    return _table([f"{p:.{DIGITS}g}" for p in prices], prices)


# Each PriceModel parameter's range: (low, high, low included).
MODEL_RANGES: dict[str, tuple[float, float, bool]] = {
    "start": (0.01, MAX_PRICE, True),
    "mean": (0.01, MAX_PRICE, True),
    "volatility": (0.0, 2.0, False),
    "drift": (-1.0, 1.0, True),
    "reversion": (1e-6, 50.0, True),
    "horizon": (0.0, 50.0, False),
}


@dataclass(frozen=True)
class PriceModel:
    """A price model of the module docstring; ``mean`` defaults to ``start``.

    Ranges (each finite; anything else is an InputError naming the parameter):

    - ``kind``: ``"gbm"`` or ``"mean-reverting"``;
    - ``start``, ``mean``: USD a barrel in [0.01, 10,000];
    - ``volatility``: a year, in (0, 2];
    - ``drift``: a year, in [-1, 1];
    - ``reversion``: a year, in [1e-6, 50] (a half-life from 0.014 years to 690,000);
    - ``horizon``: years, in (0, 50].

    Inside these ranges the log price stays within about 160 + 14 |Z| of ln 80, so every draw
    (|Z| below 38, which a normal draw never reaches) is a finite price > 0.
    """

    kind: str = "gbm"
    start: float = 80.0
    volatility: float = 0.30
    drift: float = 0.0
    mean: float | None = None
    reversion: float = 0.5
    horizon: float = 1.0

    def check(self) -> None:
        """Raise an InputError listing every parameter outside its range."""
        problems: list[Problem] = []
        if self.kind not in PRICE_MODELS:
            problems.append(
                Problem(
                    "kind",
                    None,
                    None,
                    "E-USAGE",
                    f"unknown price model {self.kind!r}",
                    f"use one of {', '.join(PRICE_MODELS)}",
                )
            )
        for name, (lo, hi, closed) in MODEL_RANGES.items():
            value = getattr(self, name)
            if name == "mean" and (value is None or self.kind != "mean-reverting"):
                continue
            if name == "reversion" and self.kind != "mean-reverting":
                continue
            number = (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else math.nan
            )
            if not ((lo <= number if closed else lo < number) and number <= hi):
                problems.append(
                    Problem(
                        name,
                        None,
                        None,
                        "E-USAGE",
                        f"{name} must be a number in {'[' if closed else '('}{lo:g}, {hi:g}], "
                        f"got {value!r}",
                        "see the ranges of revshare.data.scenarios.PriceModel",
                    )
                )
        if problems:
            raise InputError(problems)

    def log_prices(self, z: np.ndarray) -> np.ndarray:
        """The log prices at the horizon for standard normal draws ``z`` (module docstring)."""
        sigma, T = self.volatility, self.horizon
        if self.kind == "gbm":
            return math.log(self.start) + (self.drift - sigma**2 / 2) * T + sigma * math.sqrt(T) * z
        k = self.reversion
        mean = self.mean if self.mean is not None else self.start
        # 1 - e^{-kT} and (1 - e^{-2kT}) / 2k through expm1, exact for slow reversion too
        pulled = -math.expm1(-k * T)
        spread = sigma * math.sqrt(-math.expm1(-2 * k * T) / (2 * k))
        return (
            (1 - pulled) * math.log(self.start)
            + pulled * math.log(mean)
            - sigma**2 / 2 * (pulled / k)
            + spread * z
        )


def monte_carlo(n: int, model: PriceModel, seed: int) -> pd.DataFrame:
    """``n`` prices drawn from ``model`` with ``seed`` (module docstring).

    ``n`` is an integer in [1, :data:`MAX_SCENARIOS`] and ``seed`` an integer >= 0; problems
    name the parameters ``n``, ``seed`` and those of :class:`PriceModel`.
    """
    problems = []
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_SCENARIOS:
        problems.append(
            Problem(
                "n",
                None,
                None,
                "E-USAGE",
                f"the number of scenarios must be an integer in [1, {MAX_SCENARIOS:,}], got {n!r}",
                "pass a number of scenarios in that range",
            )
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(
            Problem(
                "seed", None, None, "E-USAGE", f"must be an integer >= 0, got {seed!r}", "fix it"
            )
        )
    problems += model_problems(model)
    if problems:
        raise InputError(problems)
    z = np.random.default_rng(seed).standard_normal(int(n))
    return _table([f"mc-{i}" for i in range(n)], np.exp(model.log_prices(z)))


def model_problems(model: object, where: str = "model") -> list[Problem]:
    """What is wrong with ``model``: not a :class:`PriceModel` (``where`` names the parameter),
    or a PriceModel out of its ranges."""
    if not isinstance(model, PriceModel):
        return [
            Problem(
                where,
                None,
                None,
                "E-TYPE",
                f"expected a PriceModel, got {_kind(model)}",
                "pass e.g. PriceModel('gbm', start=80)",
            )
        ]
    try:
        model.check()
    except InputError as exc:
        return list(exc.problems)
    return []


def _table(names: list[str], prices: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"scenario": names, "period": 0.0, "price": np.asarray(prices, float)})


SCENARIO_COLUMNS = ("scenario", "period", "price")


def as_scenarios(value: object, where: str = "scenarios") -> pd.DataFrame:
    """The scenarios table of a sweep: a DataFrame with :data:`SCENARIO_COLUMNS` (from
    :func:`price_grid`, :func:`monte_carlo` or :func:`revshare.data.readers.read_prices`) as it
    is, or prices as :func:`price_grid` takes them. Anything else is an InputError naming
    ``where``, never an AttributeError deep inside the sweep."""
    if isinstance(value, pd.DataFrame):
        missing = [c for c in SCENARIO_COLUMNS if c not in value.columns]
        if missing:
            raise InputError(
                Problem(
                    where,
                    None,
                    None,
                    "E-USAGE",
                    f"the scenarios table lacks the column(s) {', '.join(missing)} "
                    f"(it has {', '.join(map(str, value.columns)) or 'none'})",
                    "build it with price_grid, monte_carlo or read_prices, or pass the prices",
                )
            )
        return value
    try:
        return price_grid(value)  # type: ignore[arg-type]  # _numbers refuses other types
    except InputError as exc:
        raise InputError([p._replace(file=where) for p in exc.problems]) from None


def parameter_grid(specs: Sequence[str] | str) -> list[dict[str, float]]:
    """Every combination of ``PARAM=START:STOP:STEP`` (or ``PARAM=a,b,c``) specs, in order; a
    single string is one spec.

    PARAM is read as in :func:`revshare.data.structures.parse_override` (``bloc_share.A`` is one
    entry of a table). Problems name the parameter ``params``, with PARAM as their column.
    """
    if isinstance(specs, str):  # one spec, not its characters
        specs = [specs]
    axes: list[tuple[str, np.ndarray]] = []
    for spec in specs if isinstance(specs, Sequence) else [specs]:
        if not isinstance(spec, str):
            raise InputError(
                Problem(
                    "params",
                    None,
                    None,
                    "E-TYPE",
                    f"expected PARAM=START:STOP:STEP text, got {_kind(spec)}",
                    "write e.g. ['derivation=0:0.5:0.05']",
                )
            )
        key, values = split_override(spec)
        if key is None:
            raise _usage(
                "params",
                f"expected PARAM=START:STOP:STEP, got {spec!r}",
                "write e.g. derivation=0:0.5:0.05",
            )
        axes.append((key, parse_range(values.strip(" \t"), "params", printable(key))))
    names = [k for k, _ in axes]
    repeated = sorted({k for k in names if names.count(k) > 1})
    if repeated:
        raise _usage(
            "params",
            f"{', '.join(repr(k) for k in repeated)} is given twice",
            "give each parameter once, with all its values",
            printable(repeated[0]),
        )
    total = math.prod(len(v) for _, v in axes) if axes else 1
    if total > MAX_GRID:
        raise _usage("params", f"the grid has {total:,} points", "use larger steps")
    return [
        dict(zip(names, (float(v) for v in combo), strict=True))
        for combo in itertools.product(*(v for _, v in axes))
    ]


def overrides_of(point: dict[str, float]) -> list[str]:
    """``PARAM=VALUE`` override strings for a grid point (``repr`` keeps every digit; a table entry that holds
    ``=`` is quoted)."""
    out = []
    for key, value in point.items():
        head, dot, entry = key.partition(".")
        out.append(f"{head}{dot}{quote_entry(entry) if dot else ''}={value!r}")
    return out


MAX_PATH_YEARS = 50
"""The longest price path, in years (the horizon of :class:`PriceModel`)."""


def price_paths(n: int, years: int, model: PriceModel, seed: int) -> pd.DataFrame:
    """``n`` annual price paths of ``years`` years from ``model`` with ``seed``: one row per
    path (``scenario``) and year (``period`` 0, 1, ...), with ``years`` = 1.

    Each year is the model's exact one-year step from the year before (both models are Markov
    in the log price), so year T's prices have the distribution :func:`monte_carlo` gives at
    ``horizon = T``. Problems name ``n``, ``years`` and ``seed``.
    """
    problems = []
    if isinstance(years, bool) or not isinstance(years, int | np.integer):
        problems.append(
            Problem(
                "years", None, None, "E-USAGE", f"must be a whole number, got {years!r}", "fix it"
            )
        )
    elif not 1 <= years <= MAX_PATH_YEARS:
        problems.append(
            Problem(
                "years",
                None,
                None,
                "E-RANGE",
                f"must be in [1, {MAX_PATH_YEARS}], got {years}",
                "fix it",
            )
        )
    if not isinstance(model, PriceModel):
        problems += model_problems(model)
    if problems:
        raise InputError(problems)
    first = monte_carlo(n, dataclasses.replace(model, horizon=1.0), seed)  # checks n, seed, model
    rng = np.random.default_rng([seed, 1])  # the later years' draws, apart from the first's
    log_p = np.log(first["price"].to_numpy(dtype=float))
    rows = [log_p]
    for _ in range(1, years):
        z = rng.standard_normal(n)
        log_p = np.array(
            [
                dataclasses.replace(model, start=math.exp(lp), horizon=1.0).log_prices(zi)
                for lp, zi in zip(log_p, z, strict=True)
            ],
            dtype=float,
        )
        rows.append(log_p)
    prices = np.exp(np.vstack(rows))  # (years, n)
    return pd.DataFrame(
        {
            "scenario": np.tile([f"path-{i}" for i in range(n)], years),
            "period": np.repeat(np.arange(years), n),
            "price": prices.reshape(-1),
            "years": 1.0,
        }
    )
