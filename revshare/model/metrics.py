"""Pure functions on an allocation: per-head money, inequality and disproportionality indices."""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_money(amounts: np.ndarray, order: list[str], total: int | None = None) -> np.ndarray:
    """Whole dollars that sum exactly to ``total`` (default: the rounded sum), by largest
    remainder (Hamilton's rule).

    Every amount moves by less than one dollar. Dollars left over after flooring go to the largest
    remainders; equal remainders go in ``order`` (the sorted keys), so the rule is deterministic.
    """
    a = np.maximum(np.asarray(amounts, dtype=float), 0.0)
    if total is None:
        total = int(np.floor(a.sum() + 0.5))
    floors = np.floor(a)
    remainder = a - floors
    short = total - int(floors.sum())
    if not 0 <= short <= len(a):
        raise ValueError(f"cannot round {len(a)} amounts to a total of {total}")
    rank = sorted(range(len(a)), key=lambda i: (-remainder[i], order[i]))
    out = floors.astype(np.int64)
    out[rank[:short]] += 1
    return out


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Population-weighted Gini coefficient of per-head values (0 equal, towards 1 unequal):
    ``sum_ij w_i w_j |v_i - v_j| / (2 W^2 mean)``, in O(n log n) time and O(n) memory
    (:func:`gini_rows` on one row)."""
    v, w = np.asarray(values, float).reshape(-1), np.asarray(weights, float).reshape(-1)
    if len(v) == 0:
        return 0.0
    return float(gini_rows(v[None, :], w)[0])


def gini_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The population-weighted Gini index of each row of ``values`` (as :func:`gini`).

    After sorting a row, ``sum_ij w_i w_j |v_i - v_j| = 2 sum_i w_i (v_i W_i - S_i)`` where
    ``W_i`` and ``S_i`` are the sums of ``w_j`` and ``w_j v_j`` over the cells before ``i``: one
    sort and two cumulative sums, never a cells x cells array. Each term ``v_i W_i - S_i`` is a
    sum of non-negative gaps, so rounding cannot make the index negative. A row whose mean is
    not positive, or whose values are all equal, has index 0.
    """
    values = np.atleast_2d(np.asarray(values, float))
    weights = np.asarray(weights, float).reshape(-1)
    n, cells = values.shape
    total = weights.sum()
    if cells == 0 or not total > 0:
        return np.zeros(n)
    order = np.argsort(values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, axis=1)
    w = weights[order]
    wv = w * v
    before_w = np.cumsum(w, axis=1) - w
    before_wv = np.cumsum(wv, axis=1) - wv
    spread = np.sum(w * np.maximum(v * before_w - before_wv, 0.0), axis=1)
    mean_times_w = wv.sum(axis=1)
    equal = v[:, 0] == v[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = spread / (total * mean_times_w)
    return np.where((mean_times_w > 0) & ~equal, g, 0.0)


def group_sums(
    x: np.ndarray, labels: pd.Series | np.ndarray, categories: pd.Index | list[str]
) -> np.ndarray:
    """The sum of each row of ``x`` (n, cells) over the cells of each category: ``x`` times the
    0/1 indicator matrix of ``labels`` (cells outside ``categories`` count nowhere), in O(n cells)
    time and memory instead of a cells x categories matrix."""
    x = np.atleast_2d(np.asarray(x, float))
    cats = pd.Index(categories)
    pos = cats.get_indexer(np.asarray(labels))
    keep = pos >= 0
    n, k = x.shape[0], len(cats)
    flat = (np.arange(n)[:, None] * k + pos[keep][None, :]).reshape(-1)
    sums = np.bincount(flat, weights=x[:, keep].reshape(-1), minlength=n * k)
    return sums.reshape(n, k)


def loosemore_hanby(money: np.ndarray, population: np.ndarray) -> float:
    """Half the L1 distance between money shares and population shares (0 to 1)."""
    m, p = np.asarray(money, float), np.asarray(population, float)
    if m.sum() <= 0:
        return 0.0
    return float(0.5 * np.abs(m / m.sum() - p / p.sum()).sum())


def summarise(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    """Money and money per head grouped ``by`` region, faction or bloc."""
    out = cells.groupby(by, sort=True).agg(
        population=("population", "sum"), usd=("usd", "sum"), usd_rounded=("usd_rounded", "sum")
    )
    out["usd_per_head"] = out["usd"] / out["population"]
    out["share_of_distributed"] = out["usd"] / cells["usd"].sum() if cells["usd"].sum() > 0 else 0.0
    out["share_of_population"] = out["population"] / cells["population"].sum()
    return out.reset_index()


def metrics(
    cells: pd.DataFrame,
    blocs: pd.DataFrame,
    revenue: float,
    centre: float,
    region_revenue: pd.Series,
    regions: pd.DataFrame,
) -> dict[str, float | bool | dict[str, float]]:
    """The headline metrics (docs/concepts.md#metrics)."""
    per_head = (cells["usd"] / cells["population"]).to_numpy()
    positive = per_head[per_head > 0]
    producing = region_revenue[region_revenue > 0]
    retained = {str(r): float(regions.loc[r, "usd"] / v) for r, v in producing.items()}
    return {
        "gini": gini(per_head, cells["population"].to_numpy()),
        "min_max_per_head_ratio": float(per_head.min() / per_head.max())
        if per_head.max() > 0
        else 1.0,
        "lowest_per_head_usd": float(per_head.min()),
        "highest_per_head_usd": float(per_head.max()) if len(positive) else 0.0,
        "loosemore_hanby": loosemore_hanby(cells["usd"].to_numpy(), cells["population"].to_numpy()),
        "centre_share": centre / revenue,
        "producing_regions_retention": retained,
        "secession_proof": bool((blocs["surplus_over_secession_usd"] >= -1e-6 * revenue).all()),
    }
