"""Independent verification of an allocation, in original units, from the data alone.

Nothing here reads the solver's rows, slacks or duals: every rule of the structure is recomputed
from the Territory and the money per cell, so a solver that stopped early, dropped a coefficient
or rounded its output (docs/design.md#reliability-rules) is caught before anything is reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..data.dataset import Money, Territory
from ..data.structures import Structure
from ..errors import NotOptimalError
from ..model.metrics import group_sums
from ..model.parameters import PARAMETER_RULES, Books, own_governments
from .deal_check import DealMoney, deal_residuals

RELATIVE_TOLERANCE = 1e-9  # of total revenue, in USD, for a solver that returns doubles
ABSOLUTE_TOLERANCE = 1e-6  # USD


class Verification(NamedTuple):
    """Residuals of every rule; ``violations`` lists those beyond ``tolerance_usd``."""

    max_violation_usd: float
    worst: str
    budget_error_usd: float
    tolerance_usd: float
    checks: int
    violations: tuple[tuple[str, float], ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def tolerance(revenue: float, relative: float = RELATIVE_TOLERANCE) -> float:
    return relative * revenue + ABSOLUTE_TOLERANCE


Block = tuple[list[str], np.ndarray]  # rule names and their residuals, one row per scenario


def residual_blocks(
    t: Territory,
    s: Structure,
    money: Money,
    cells_usd: np.ndarray,
    centre_usd: np.ndarray,
    accounts_usd: np.ndarray | None = None,
    own_governments_usd: np.ndarray | None = None,
) -> list[Block]:
    """Each rule's shortfall in USD (positive means violated) for ``n`` allocations at once.

    ``money`` holds the quantities at the n prices (:meth:`Territory.money`), ``cells_usd`` is
    (n, cells) in the order of ``t.cells``, ``centre_usd`` is (n,) and ``accounts_usd`` (n,) the
    money of a deal's accounts, which the budget counts. A block pairs rule names
    with an (n, len(names)) array; a rule that exists only where a quantity is positive is kept
    when it is positive at any of the n prices (elsewhere it reads ``-X <= 0``).

    The first block, ``finite``, is violated (``+inf``) in every scenario whose allocation or
    whose quantities (revenue, region, bloc and outside money) hold a NaN or an infinity: a
    non-finite number never passes. Time and memory are linear in ``n`` x cells (rules per
    cell, sums per region, bloc and faction by grouping, no cells x regions matrix).
    """
    x = np.atleast_2d(np.asarray(cells_usd, dtype=float))
    g = np.asarray(centre_usd, dtype=float).reshape(-1)
    n = len(g)
    cells = t.cells
    if x.shape != (n, len(cells)) or len(money.revenue) != n:
        return [(["finite[every cell has a finite amount]"], np.full((max(n, 1), 1), np.inf))]
    finite = np.isfinite(x).all(axis=1) & np.isfinite(g) & _finite_money(money, n)
    out: list[Block] = [
        (["finite[every cell has a finite amount]"], np.where(finite, -np.inf, np.inf)[:, None])
    ]
    x = np.where(finite[:, None], x, 0.0)
    g = np.where(finite, g, 0.0)
    if not finite.all():  # those scenarios already fail; zeros keep the rest free of warnings
        money = Money(
            money.prices,
            *(_zeroed(q) for q in (money.revenue, money.region, money.bloc, money.outside)),
        )
    V = money.revenue
    p = cells["population"].to_numpy(dtype=float)
    regions = t.regions.index
    X_r = group_sums(x, cells["region"], regions)
    X_b = group_sums(x, cells["region"].map(t.regions["bloc"]), t.blocs)
    X_f = group_sums(x, cells["faction"], t.factions)
    labels = [f"{r}/{f}" for r, f in zip(cells["region"], cells["faction"], strict=True)]
    held = np.zeros(n) if accounts_usd is None else np.asarray(accounts_usd, dtype=float)
    col = {"budget": np.abs(x.sum(axis=1) + g + np.nan_to_num(held, nan=np.inf) - V)}
    out.append((["budget"], col["budget"][:, None]))
    out.append(([f"nonnegative[{lab}]" for lab in labels], -x))
    books = Books(t, s, money, x, g, X_r, X_b, X_f, own_governments_usd)
    for rule in PARAMETER_RULES.values():
        out += rule.residual(books)
    if s.within_region == "equal":
        per_head = X_r / t.regions["population"].to_numpy(dtype=float)
        level = per_head[:, regions.get_indexer(cells["region"].to_numpy())]
        out.append(([f"within_region[{lab}]" for lab in labels], np.abs(x - p * level)))
    return out


def _finite_money(money: Money, n: int) -> np.ndarray:
    """Per scenario: are the revenue and every region, bloc and outside amount finite?"""
    ok = np.isfinite(np.asarray(money.revenue, dtype=float)).reshape(-1)
    if len(ok) != n:
        return np.zeros(n, dtype=bool)
    for part in (money.region, money.bloc, money.outside):
        a = np.asarray(part, dtype=float)
        ok &= np.isfinite(a.reshape(n, -1)).all(axis=1) if a.size else True
    return ok


def _zeroed(a: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)


def residuals(
    t: Territory,
    s: Structure,
    price: float,
    cells_usd: np.ndarray,
    centre_usd: float,
    deal: DealMoney | None = None,
) -> list[tuple[str, float]]:
    """Each rule's shortfall in USD (positive means violated), one entry per rule and subject;
    a deal's payments and accounts (``deal``) are checked too (:mod:`revshare.solve.deal_check`)."""
    x = np.asarray(cells_usd, dtype=float)
    deal = deal or DealMoney()
    held = np.array(list(deal.accounts.values()), dtype=float)
    if (
        x.shape != (len(t.cells),)
        or not np.all(np.isfinite(x))
        or not np.isfinite(centre_usd)
        or not np.all(np.isfinite(held))
    ):
        return [("finite[every cell has a finite amount]", float("inf"))]
    blocks = residual_blocks(
        t,
        s,
        t.money(np.array([price])),
        x[None, :],
        np.array([centre_usd]),
        np.array([held.sum()]),
        own_governments(t, deal.accounts, s)[None, :] if deal.accounts else None,
    )
    if blocks[0][1][0, 0] > 0:  # the quantities at this price are not finite
        return [(blocks[0][0][0], float("inf"))]
    return [
        (n, float(v)) for names, values in blocks[1:] for n, v in zip(names, values[0], strict=True)
    ] + deal_residuals(t, s, price, x, centre_usd, deal)


class BatchVerification(NamedTuple):
    """Verification of n allocations: ``ok``, ``max_violation_usd`` and ``worst`` per scenario."""

    ok: np.ndarray
    max_violation_usd: np.ndarray
    worst: list[str]
    tolerance_usd: np.ndarray
    checks: int


def verify_batch(
    t: Territory,
    s: Structure,
    money: Money,
    cells_usd: np.ndarray,
    centre_usd: np.ndarray,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> BatchVerification:
    """:func:`verify` for n allocations at once, in a few array operations."""
    blocks = residual_blocks(t, s, money, cells_usd, centre_usd)
    names = [n for names, _ in blocks for n in names]
    values = np.concatenate([v for _, v in blocks], axis=1)
    values = np.where(np.isnan(values), np.inf, values)  # NaN counts as a violation
    revenue = np.where(np.isfinite(money.revenue), money.revenue, 0.0)  # never an infinite slack
    tol = relative_tolerance * revenue + ABSOLUTE_TOLERANCE
    worst = np.argmax(values, axis=1)
    top = values[np.arange(len(values)), worst]
    return BatchVerification(
        ok=top <= tol,
        max_violation_usd=np.maximum(top, 0.0),
        worst=[names[i] for i in worst],
        tolerance_usd=tol,
        checks=len(names) - 1,
    )


def verify(
    t: Territory,
    s: Structure,
    price: float,
    cells_usd: np.ndarray,
    centre_usd: float,
    relative_tolerance: float = RELATIVE_TOLERANCE,
    deal: DealMoney | None = None,
) -> Verification:
    """Check every rule; never raises, see :func:`require_verified`."""
    res = residuals(t, s, price, cells_usd, centre_usd, deal)
    V = float(t.field_revenue(price).sum())
    tol = tolerance(V if math.isfinite(V) else 0.0, relative_tolerance)
    worst_name, worst = max(res, key=lambda r: r[1] if np.isfinite(r[1]) else np.inf)
    bad = tuple((n, float(v)) for n, v in res if not v <= tol)  # NaN counts as a violation
    budget = next(v for n, v in res if n == "budget") if res[0][0] == "budget" else float("inf")
    return Verification(
        max_violation_usd=float(max(worst, 0.0)),
        worst=worst_name,
        budget_error_usd=float(budget),
        tolerance_usd=tol,
        checks=len(res),
        violations=bad,
    )


def require_verified(v: Verification) -> None:
    """Raise NotOptimalError naming the worst violation when verification failed."""
    if not v.ok:
        name, amount = max(v.violations, key=lambda r: r[1] if np.isfinite(r[1]) else np.inf)
        raise NotOptimalError(
            f"verification failed: {len(v.violations)} rule(s) violated beyond the tolerance of "
            f"{v.tolerance_usd:.6g} USD; worst {name} by {amount:.6g} USD. The solver's answer is "
            "not trustworthy; try `solver='cbc'` or check the data's magnitudes"
        )


def non_finite(value: Any, name: str = "result") -> list[str]:
    """The names of every NaN or infinity in ``value``: a number, an array, a DataFrame or
    Series (by column), a mapping (by key), a list or tuple, or a dataclass or NamedTuple (by
    field), searched recursively. Text, None and booleans are skipped.
    """
    if value is None or isinstance(value, str | bytes | bool | np.bool_):
        return []
    if isinstance(value, int | np.integer):
        return []
    if isinstance(value, float | np.floating):
        return [] if math.isfinite(value) else [name]
    if isinstance(value, pd.DataFrame):
        return _non_finite_columns(value, name)
    if isinstance(value, pd.Series | np.ndarray):
        a = np.asarray(value)
        if a.dtype.kind in "fc":
            return [] if np.isfinite(a).all() else [name]
        if a.dtype.kind == "O":  # text is skipped before a call: most object cells are names
            items = (v for v in a.reshape(-1) if not isinstance(v, str))
            return next(([name] for v in items if non_finite(v, name)), [])
        return []
    if isinstance(value, Mapping):
        return [n for k, v in value.items() for n in non_finite(v, f"{name}[{k}]")]
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple, by field
        return [n for f in value._fields for n in non_finite(getattr(value, f), f"{name}.{f}")]
    if isinstance(value, list | tuple):
        return [n for i, v in enumerate(value) for n in non_finite(v, f"{name}[{i}]")]
    if is_dataclass(value) and not isinstance(value, type):
        return [
            n for f in fields(value) for n in non_finite(getattr(value, f.name), f"{name}.{f.name}")
        ]
    return []


def _non_finite_columns(frame: pd.DataFrame, name: str) -> list[str]:
    """:func:`non_finite` of each column of ``frame``, in order, taken out by place (names may
    repeat) in one pass over the frame, which costs less than looking each name up."""
    return [n for column, values in frame.items() for n in non_finite(values, f"{name}[{column}]")]


def require_finite(value: Any, name: str = "result") -> None:
    """Raise NotOptimalError (exit 4) when ``value`` holds a NaN or an infinity anywhere
    (:func:`non_finite`): such a result is never reported as verified."""
    bad = non_finite(value, name)
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise NotOptimalError(
            f"verification failed: {shown} is not a finite number. Not reported; check the "
            "magnitudes of the inputs"
        )
