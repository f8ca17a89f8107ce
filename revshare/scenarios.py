"""Price scenarios and parameter grids for sweeps.

Three sources of prices, each a table with ``scenario``, ``period`` and ``price``:

- :func:`price_grid`: evenly spaced prices, ``"30:130:5"`` (both ends included) or a list
  ``"40,60,80"``;
- :func:`monte_carlo`: prices drawn from a stochastic model at a horizon (below);
- :func:`revshare.readers.read_prices`: a CSV of named scenarios, optionally price paths with a
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

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .structures import parse_override

PRICE_MODELS = ("gbm", "mean-reverting")
MAX_GRID = 1_000_000


def _usage(where: str, message: str, remedy: str) -> InputError:
    return InputError(Problem(where, None, None, "E-USAGE", message, remedy))


def parse_range(text: str, where: str) -> np.ndarray:
    """``START:STOP:STEP`` with both ends included, or ``a,b,c``; numbers only."""
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not step > 0 or stop < start or not all(map(math.isfinite, parts)):
                raise _usage(
                    where,
                    f"{text!r} needs START <= STOP and STEP > 0",
                    "write e.g. 30:130:5",
                )
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_GRID:
                raise _usage(where, f"{text!r} has {count:,} points", "use a larger step")
            # 12 significant digits: 0.1 * 3 is the 0.3 the user wrote, not 0.30000000000000004
            return np.array([float(f"{v:.12g}") for v in start + step * np.arange(count)])
        values = np.array([float(p) for p in text.split(",")])
    except ValueError:
        raise _usage(
            where, f"cannot read {text!r}", "write START:STOP:STEP (30:130:5) or a list (40,60,80)"
        ) from None
    if not np.all(np.isfinite(values)):
        raise _usage(where, f"{text!r} has a value that is not finite", "use finite numbers")
    return values


def price_grid(text: str) -> pd.DataFrame:
    """Scenarios at evenly spaced prices; see :func:`parse_range`."""
    prices = parse_range(text, "--prices")
    if np.any(prices < 0):
        raise _usage("--prices", f"{text!r} includes a negative price", "prices are >= 0")
    names = [f"{p:.12g}" for p in prices]
    if len(set(names)) < len(names):
        names = [repr(float(p)) for p in prices]
    return _table(names, prices)


@dataclass(frozen=True)
class PriceModel:
    """A price model of the module docstring; ``mean`` defaults to ``start``."""

    kind: str = "gbm"
    start: float = 80.0
    volatility: float = 0.30
    drift: float = 0.0
    mean: float | None = None
    reversion: float = 0.5
    horizon: float = 1.0

    def check(self) -> None:
        problems: list[tuple[str, str, tuple[str, ...]]] = []
        if self.kind not in PRICE_MODELS:
            problems.append(("--price-model", f"unknown model {self.kind!r}", PRICE_MODELS))
        for name, value in (
            ("--price-start", self.start),
            ("--volatility", self.volatility),
            ("--horizon", self.horizon),
            ("--reversion", self.reversion),
        ):
            if not (math.isfinite(value) and value > 0):
                problems.append((name, f"must be a number > 0, got {value}", ()))
        mean = self.mean
        if (
            self.kind == "mean-reverting"
            and mean is not None
            and not (math.isfinite(mean) and mean > 0)
        ):
            problems.append(("--mean-price", f"must be a number > 0, got {mean}", ()))
        if not math.isfinite(self.drift):
            problems.append(("--drift", f"must be finite, got {self.drift}", ()))
        if problems:
            raise InputError(
                [
                    Problem(
                        w, None, None, "E-USAGE", m, f"use one of {', '.join(c)}" if c else "fix it"
                    )
                    for w, m, c in problems
                ]
            )


def monte_carlo(n: int, model: PriceModel, seed: int) -> pd.DataFrame:
    """``n`` prices drawn from ``model`` with ``seed`` (module docstring)."""
    problems = []
    if n < 1:
        problems.append(
            Problem(
                "--scenarios", None, None, "E-USAGE", f"needs at least 1, got {n}", "pass N >= 1"
            )
        )
    try:
        model.check()
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    z = np.random.default_rng(seed).standard_normal(n)
    sigma, T = model.volatility, model.horizon
    if model.kind == "gbm":
        log_price = (
            math.log(model.start) + (model.drift - sigma**2 / 2) * T + sigma * math.sqrt(T) * z
        )
    else:
        k = model.reversion
        theta = math.log(model.mean if model.mean is not None else model.start) - sigma**2 / (2 * k)
        decay = math.exp(-k * T)
        spread = sigma * math.sqrt((1 - math.exp(-2 * k * T)) / (2 * k))
        log_price = decay * math.log(model.start) + (1 - decay) * theta + spread * z
    return _table([f"mc-{i}" for i in range(n)], np.exp(log_price))


def _table(names: list[str], prices: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"scenario": names, "period": 0.0, "price": np.asarray(prices, float)})


def parameter_grid(specs: list[str]) -> list[dict[str, float]]:
    """Every combination of ``PARAM=START:STOP:STEP`` (or ``PARAM=a,b,c``) specs, in order."""
    axes: list[tuple[str, np.ndarray]] = []
    for spec in specs:
        key, sep, values = spec.partition("=")
        if not sep or not key.strip():
            raise _usage(
                "--param",
                f"expected PARAM=START:STOP:STEP, got {spec!r}",
                "e.g. --param derivation=0:0.5:0.05",
            )
        parse_override(f"{key.strip()}=0")  # the same key rules as --set
        axes.append((key.strip(), parse_range(values.strip(), f"--param {key.strip()}")))
    names = [k for k, _ in axes]
    if len(set(names)) != len(names):
        raise _usage("--param", "a parameter is given twice", "give each --param once")
    total = math.prod(len(v) for _, v in axes) if axes else 1
    if total > MAX_GRID:
        raise _usage("--param", f"the grid has {total:,} points", "use larger steps")
    return [
        dict(zip(names, (float(v) for v in combo), strict=True))
        for combo in itertools.product(*(v for _, v in axes))
    ]


def overrides_of(point: dict[str, float]) -> list[str]:
    """``--set`` strings for a grid point (``repr`` keeps every digit)."""
    return [f"{k}={v!r}" for k, v in point.items()]
