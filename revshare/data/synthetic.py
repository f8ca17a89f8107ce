"""Synthetic datasets of any size, for scale tests and benchmarks (never for findings).

The shapes follow the real datasets in ``data/``, not any one country:

- **Regions** sit along a line and are cut into ``blocs`` contiguous blocs. Populations are
  log-normal (median about 160,000, from a few thousand to a few million: districts).
- **Factions**: each bloc has a dominant faction; a region's faction shares are drawn around its
  bloc's profile (Dirichlet), so minorities are spread unevenly. Cells under 0.5% of their region
  are merged into the region's largest faction.
- **Oil** is concentrated: about one region in six holds fields, mostly in the first bloc (as in
  Iraq's south and Sudan's south). Production is log-normal (median 15,000 barrels a day), costs
  8 to 35 USD a barrel, government take 0.6 to 0.9; one field in ten straddles two neighbouring
  regions; fields of the last bloc export through the first, paying 1 to 3 USD a barrel.
- **Indicators**: area log-normal, need index around 1, one region in ten war-damaged.
- **Prices**: a monthly mean-reverting path (:mod:`revshare.data.scenarios`) around 80 USD.

Everything comes from ``numpy.random.default_rng(seed)``: a seed gives the same dataset anywhere.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_bundle
from ..errors import InputError, Problem
from .dataset import Territory, territory_from_frames
from .schema import FIELDS, POPULATION, REGIONS, FileSchema

MIN_CELL_SHARE = 0.005


def generate(
    regions: int = 774,
    factions: int = 5,
    fields: int | None = None,
    blocs: int = 3,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(fields, population, regions)`` frames of a synthetic country (module docstring)."""
    problems = [
        Problem(
            f"--{name}", None, None, "E-USAGE", f"must be at least {low}, got {value}", "raise it"
        )
        for name, value, low in (
            ("regions", regions, 2),
            ("factions", factions, 1),
            ("blocs", blocs, 1),
        )
        if value < low
    ]
    if blocs > regions:
        problems.append(
            Problem("blocs", None, None, "E-USAGE", "more blocs than regions", "lower it")
        )
    if problems:
        raise InputError(problems)
    rng = np.random.default_rng(seed)
    width = len(str(regions))
    names = [f"R{i + 1:0{width}d}" for i in range(regions)]
    bloc_of = np.minimum(np.arange(regions) * blocs // regions, blocs - 1)
    bloc_names = [f"B{b + 1}" for b in range(blocs)]
    population = np.maximum(rng.lognormal(math.log(160_000), 0.9, regions), 5_000).round()
    faction_names = [f"F{f + 1}" for f in range(factions)]
    profiles = np.full((blocs, factions), 0.5)
    profiles[np.arange(blocs), np.arange(blocs) % factions] = 6.0  # each bloc's dominant faction
    rows = []
    for r, name in enumerate(names):
        shares = rng.dirichlet(profiles[bloc_of[r]] * 3)
        small = shares < MIN_CELL_SHARE
        shares[np.argmax(shares)] += shares[small].sum()
        shares[small] = 0.0
        counts = np.floor(shares * population[r])
        counts[np.argmax(shares)] += population[r] - counts.sum()
        rows += [
            {"region": name, "faction": faction_names[f], "population": int(c)}
            for f, c in enumerate(counts)
            if c > 0
        ]
    pop = pd.DataFrame(rows)
    reg = pd.DataFrame(
        {
            "region": names,
            "bloc": [bloc_names[b] for b in bloc_of],
            "area_km2": rng.lognormal(math.log(2_500), 0.8, regions).round(1),
            "need_index": np.clip(rng.normal(1.0, 0.2, regions), 0.3, 2.0).round(3),
            "damage": np.where(
                rng.random(regions) < 0.1, rng.uniform(0.2, 1.0, regions), 0.0
            ).round(3),
            "baseline_usd_per_capita": 0.0,
            "coastal": bloc_of == 0,
        }
    )
    count = fields if fields is not None else max(1, regions // 4)
    weight = np.where(bloc_of == 0, 3.0, 1.0) * (rng.random(regions) < 1 / 6 + 1 / regions)
    weight = weight if weight.sum() > 0 else np.ones(regions)
    home = rng.choice(regions, size=count, p=weight / weight.sum())
    field_rows = []
    for k, r in enumerate(home):
        base = {
            "field": f"Field {k + 1}",
            "production_bpd": float(round(max(rng.lognormal(math.log(15_000), 1.0), 200.0))),
            "cost_usd_per_bbl": round(float(rng.uniform(8, 35)), 2),
            "government_take": round(float(rng.uniform(0.6, 0.9)), 3),
            "export_via": bloc_names[0] if bloc_of[r] == blocs - 1 and blocs > 1 else "",
            "transit_fee_usd_per_bbl": round(float(rng.uniform(1, 3)), 2)
            if bloc_of[r] == blocs - 1 and blocs > 1
            else 0.0,
        }
        if rng.random() < 0.1 and r + 1 < regions:
            split = round(float(rng.uniform(0.2, 0.8)), 3)
            field_rows += [
                {**base, "region": names[r], "share": split},
                {**base, "region": names[r + 1], "share": round(1 - split, 3)},
            ]
        else:
            field_rows.append({**base, "region": names[r], "share": 1.0})
    return pd.DataFrame(field_rows), pop, reg


def synthetic_territory(**kwargs: int) -> Territory:
    """:func:`generate` as a Territory (default price 80 USD)."""
    f, p, r = generate(**kwargs)
    name = "synthetic-{}x{}".format(kwargs.get("regions", 774), kwargs.get("factions", 5))
    return territory_from_frames(f, p, r, default_price=80.0, name=name)


def price_path(
    periods: int, seed: int = 0, *, start: float = 80.0, years: float = 1 / 12
) -> pd.DataFrame:
    """A mean-reverting monthly price path (``period, price, years``): log price pulled towards
    ln 80 at 0.5 a year with volatility 0.30 a year, sampled exactly at each step."""
    rng = np.random.default_rng(seed)
    k, sigma, mean = 0.5, 0.30, math.log(80.0) - 0.30**2 / (2 * 0.5)
    decay = math.exp(-k * years)
    spread = sigma * math.sqrt((1 - math.exp(-2 * k * years)) / (2 * k))
    log_p = np.empty(periods)
    log_p[0] = math.log(start)
    for t in range(1, periods):
        log_p[t] = decay * log_p[t - 1] + (1 - decay) * mean + spread * rng.standard_normal()
    return pd.DataFrame(
        {"period": np.arange(periods), "price": np.exp(log_p).round(4), "years": years}
    )


def _csv(frame: pd.DataFrame, schema: FileSchema) -> bytes:
    """``frame`` as its file reads it back: columns in the documented order, counts as integers
    and true/false as the schema writes them (so the reader has no notice to give)."""
    order = [c for c in schema.names if c in frame] + [c for c in frame if c not in schema.names]
    out = frame[order].copy()
    for column in out:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "true", False: "false"})
    return out.to_csv(index=False).encode()


def write_dataset(
    folder: str | Path,
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    path: pd.DataFrame | None,
    seed: int,
    *,
    force: bool = False,
) -> Path:
    """Write a generated dataset as a dataset folder revshare reads back (with periods.csv)."""
    f, p, r = frames
    files = {
        "fields.csv": _csv(f, FIELDS),
        "population.csv": _csv(p, POPULATION),
        "regions.csv": _csv(r, REGIONS),
        "structures.toml": b"# Synthetic dataset: no real country.\ndefault_price = 80.0\n",
        "SOURCES.md": (
            "# Sources\n\nNone: this dataset is SYNTHETIC, generated by `revshare generate` "
            f"(seed {seed}) as described in revshare/data/synthetic.py. Every figure is invented; "
            "use it for scale tests and benchmarks, never for findings.\n"
        ).encode(),
    }
    if path is not None:
        files["periods.csv"] = path.to_csv(index=False).encode()
    return write_bundle(folder, files, force=force)
