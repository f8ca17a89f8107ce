"""Independent verification of an allocation, in original units, from the data alone.

Nothing here reads the solver's rows, slacks or duals: every rule of the structure is recomputed
from the Territory and the money per cell, so a solver that stopped early, dropped a coefficient
or rounded its output (RELIABILITY.md, findings 1, 3 and 4) is caught before anything is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .dataset import Territory
from .errors import NotOptimalError
from .structures import Structure

RELATIVE_TOLERANCE = 1e-9  # of total revenue, in USD, for a solver that returns doubles
ABSOLUTE_TOLERANCE = 1e-6  # USD


@dataclass(frozen=True)
class Verification:
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


def residuals(
    t: Territory, s: Structure, price: float, cells_usd: np.ndarray, centre_usd: float
) -> list[tuple[str, float]]:
    """Each rule's shortfall in USD (positive means violated), one entry per rule and subject."""
    x = np.asarray(cells_usd, dtype=float)
    cells = t.cells
    if x.shape != (len(cells),) or not np.all(np.isfinite(x)) or not np.isfinite(centre_usd):
        return [("finite[every cell has a finite amount]", float("inf"))]
    V = float(t.field_revenue(price).sum())
    g = float(centre_usd)
    D = V - g
    P = float(cells["population"].sum())
    p = cells["population"].to_numpy(dtype=float)
    bloc_of_cell = cells["region"].map(t.regions["bloc"])
    X_r = pd.Series(x).groupby(cells["region"].to_numpy()).sum()
    X_b = pd.Series(x).groupby(bloc_of_cell.to_numpy()).sum()
    X_f = pd.Series(x).groupby(cells["faction"].to_numpy()).sum()
    out: list[tuple[str, float]] = [("budget", abs(x.sum() + g - V))]
    out += [
        (f"nonnegative[{r}/{f}]", -v)
        for r, f, v in zip(cells["region"], cells["faction"], x, strict=True)
    ]
    lo, hi = s.central_share
    out += [
        ("central_share[lower]", lo * V - g),
        ("central_share[upper]", g - hi * V),
        ("centre[nonnegative]", -g),
    ]
    V_r = t.region_revenue(price)
    if s.derivation > 0:
        out += [
            (f"derivation[{r}]", s.derivation * v - X_r.get(r, 0.0))
            for r, v in V_r.items()
            if v > 0
        ]
    for b, v in t.bloc_revenue(price).items():
        rho = s.bloc_retention_for(str(b))
        if rho > 0:
            out.append((f"bloc_retention[{b}]", rho * v - X_b.get(b, 0.0)))
    out += [(f"bloc_share[{b}]", sh * D - X_b.get(b, 0.0)) for b, sh in s.bloc_share.items()]
    out += [(f"faction_share[{f}]", sh * D - X_f.get(f, 0.0)) for f, sh in s.faction_share.items()]
    labels = [f"{r}/{f}" for r, f in zip(cells["region"], cells["faction"], strict=True)]
    if s.per_capita_floor:
        need = s.per_capita_floor * p * D / P
        out += [(f"floor[{lab}]", n - v) for lab, n, v in zip(labels, need, x, strict=True)]
    if s.per_capita_cap is not None:
        cap = s.per_capita_cap * p * D / P
        out += [(f"cap[{lab}]", v - c) for lab, c, v in zip(labels, cap, x, strict=True)]
    w = t.regions["damage"].astype(float)
    if s.damage_allotment > 0 and w.sum() > 0:
        pool = D - s.derivation * V
        out += [
            (f"damage[{r}]", s.damage_allotment * wr / w.sum() * pool - X_r.get(r, 0.0))
            for r, wr in w.items()
            if wr > 0
        ]
    if s.secession_proof:
        keep = 1 - s.secession_cost
        out += [
            (f"secession[{b}]", keep * o - X_b.get(b, 0.0))
            for b, o in t.outside_options(price).items()
            if o > 0
        ]
    if s.within_region == "equal":
        per_head = X_r / t.regions["population"]
        level = cells["region"].map(per_head).to_numpy()
        out += [
            (f"within_region[{lab}]", abs(v - pc * lv))
            for lab, v, pc, lv in zip(labels, x, p, level, strict=True)
        ]
    return out


def verify(
    t: Territory,
    s: Structure,
    price: float,
    cells_usd: np.ndarray,
    centre_usd: float,
    relative_tolerance: float = RELATIVE_TOLERANCE,
) -> Verification:
    """Check every rule; never raises, see :func:`require_verified`."""
    res = residuals(t, s, price, cells_usd, centre_usd)
    V = float(t.field_revenue(price).sum())
    tol = tolerance(V, relative_tolerance)
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
            "not trustworthy; try --solver cbc or check the data's magnitudes"
        )
