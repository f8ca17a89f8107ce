"""The Territory: regions, factions, cells, fields and blocs, built from validated tables.

Everything downstream sees sorted, clean tables; the order of rows in the input never matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .structures import Structure, structures_from_toml, with_lines

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Territory:
    """A divided country's people and oil.

    Attributes
    ----------
    regions : DataFrame indexed by region: ``bloc, area_km2, need_index, damage,
        baseline_usd_per_capita, coastal, population``.
    cells : DataFrame with ``region, faction, population`` (population > 0), sorted.
    fields : DataFrame with one row per (field, region): ``field, region, share, production_bpd,
        cost_usd_per_bbl, government_take, transit_fee_usd_per_bbl, export_via,
        annual_revenue_usd``, and ``_line`` when read from a file.
    """

    regions: pd.DataFrame
    cells: pd.DataFrame
    fields: pd.DataFrame
    default_price: float | None = None
    structures: Mapping[str, Structure] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    name: str = "dataset"

    @property
    def blocs(self) -> list[str]:
        """Bloc names, sorted; regions without a bloc are each their own bloc."""
        return sorted(self.regions["bloc"].unique())

    @property
    def factions(self) -> list[str]:
        return sorted(self.cells["faction"].unique())

    @property
    def population(self) -> float:
        return float(self.cells["population"].sum())

    def field_revenue_at(self, prices: np.ndarray) -> np.ndarray:
        """Annual government revenue of each fields row at each of ``prices``: an array with a row
        per price and a column per fields row, in USD.

        ``V_k = production_bpd * 365 * max(price - cost, 0) * take * share``; a row with
        ``annual_revenue_usd`` uses it instead of production times margin.
        """
        f = self.fields
        p = np.asarray(prices, dtype=float).reshape(-1, 1)
        margin = np.maximum(p - f["cost_usd_per_bbl"].to_numpy(dtype=float), 0.0)
        from_production = f["production_bpd"].to_numpy(dtype=float) * DAYS_PER_YEAR * margin
        fixed = f["annual_revenue_usd"].to_numpy(dtype=float)
        v = np.where(np.isfinite(fixed), fixed, from_production)
        return np.nan_to_num(v * f["government_take"].to_numpy(dtype=float)) * f["share"].to_numpy(
            dtype=float
        )

    def money(self, prices: np.ndarray) -> Money:
        """Every price-dependent quantity the rules read, at many prices at once (vectorised:
        a sweep of 10,000 prices costs one pass)."""
        prices = np.asarray(prices, dtype=float).reshape(-1)
        fields = self.field_revenue_at(prices)
        region_of_field = indicator_matrix(self.fields["region"], self.regions.index)
        bloc_of_region = indicator_matrix(self.regions["bloc"], self.blocs)
        region = fields @ region_of_field
        bloc = region @ bloc_of_region
        fee, payer, payee = self._fees(fields)
        blocs = pd.Index(self.blocs)
        outside = bloc - fee @ indicator_matrix(payer, blocs) + fee @ indicator_matrix(payee, blocs)
        return Money(prices, fields.sum(axis=1), region, bloc, outside)

    def field_revenue(self, price: float | None) -> pd.Series:
        """Annual government revenue of each fields row at one price, in USD."""
        v = self.field_revenue_at(np.array([price or 0.0]))[0]
        return pd.Series(v, index=self.fields.index, name="revenue_usd")

    def region_revenue(self, price: float | None) -> pd.Series:
        """``V_r``: the revenue of each region's fields, 0 for regions without oil."""
        return pd.Series(self.money(np.array([price or 0.0])).region[0], index=self.regions.index)

    def bloc_revenue(self, price: float | None) -> pd.Series:
        return pd.Series(self.money(np.array([price or 0.0])).bloc[0], index=self.blocs)

    def _fees(self, field_revenue: np.ndarray) -> tuple[np.ndarray, pd.Series, pd.Series]:
        """Transit fees of the fields rows that export across another bloc, at each price row of
        ``field_revenue``; a fee never exceeds what the row earns (a field that cannot cover its
        fee would be shut in). Returns the fees and each crossing row's payer and payee bloc."""
        f = self.fields
        payer = f["region"].map(self.regions["bloc"])
        crosses = (
            (f["export_via"] != "")
            & (f["export_via"] != payer)
            & (f["transit_fee_usd_per_bbl"] > 0)
        ).to_numpy()
        barrels = f["production_bpd"].fillna(0.0) * DAYS_PER_YEAR * f["share"]
        per_year = (barrels * f["transit_fee_usd_per_bbl"]).to_numpy(dtype=float)
        fee = np.minimum(per_year[crosses], field_revenue[:, crosses])
        return fee, payer[crosses], f["export_via"][crosses]

    def transit_fees(self, price: float | None) -> pd.DataFrame:
        """Fees each exporting bloc pays under partition: one row per fields row that crosses
        another bloc, ``payer, payee, fee_usd``."""
        fee, payer, payee = self._fees(self.field_revenue_at(np.array([price or 0.0])))
        return pd.DataFrame({"payer": payer, "payee": payee, "fee_usd": fee[0]}, index=payer.index)

    def outside_options(self, price: float | None) -> pd.Series:
        """``O_b``: what each bloc would have by leaving: its own fields' revenue, minus the transit
        fees it pays, plus the fees it receives (DESIGN.md section 4)."""
        return pd.Series(self.money(np.array([price or 0.0])).outside[0], index=self.blocs)


@dataclass(frozen=True)
class Money:
    """The price-dependent quantities at ``n`` prices: ``revenue`` (n,), and ``region`` (n, R),
    ``bloc`` and ``outside`` (n, B) with columns in the order of ``Territory.regions.index`` and
    ``Territory.blocs``; all in USD a year."""

    prices: np.ndarray
    revenue: np.ndarray
    region: np.ndarray
    bloc: np.ndarray
    outside: np.ndarray


def indicator_matrix(labels: pd.Series, categories: pd.Index | list[str]) -> np.ndarray:
    """A 0/1 matrix with a row per label and a column per category (labels outside are 0)."""
    cats = pd.Index(categories)
    out = np.zeros((len(labels), len(cats)))
    pos = cats.get_indexer(labels.to_numpy())
    rows = np.flatnonzero(pos >= 0)
    out[rows, pos[rows]] = 1.0
    return out


REGION_DEFAULTS: dict[str, Any] = {
    "bloc": "",
    "area_km2": np.nan,
    "need_index": np.nan,
    "damage": 0.0,
    "baseline_usd_per_capita": 0.0,
    "coastal": False,
}
FIELD_DEFAULTS: dict[str, Any] = {
    "share": 1.0,
    "production_bpd": np.nan,
    "cost_usd_per_bbl": 0.0,
    "government_take": 1.0,
    "transit_fee_usd_per_bbl": 0.0,
    "export_via": "",
    "annual_revenue_usd": np.nan,
}


def territory_from_frames(
    fields: pd.DataFrame,
    population: pd.DataFrame,
    regions: pd.DataFrame | None = None,
    *,
    default_price: float | None = None,
    structures: Mapping[str, Structure] | None = None,
    provenance: Mapping[str, Any] | None = None,
    name: str = "dataset",
) -> Territory:
    """Build a Territory from tidy frames (the library entry for data already in memory).

    Frames read by :func:`revshare.readers.read_dataset` are already validated; frames built in
    memory get the structural checks that the model relies on.
    """
    problems: list[Problem] = []
    pop = population[["region", "faction", "population"]].copy()
    pop["population"] = pop["population"].astype(float)
    if (pop["population"] <= 0).any() or pop.empty:
        problems.append(
            Problem(
                "population",
                None,
                "population",
                "E-RANGE",
                "every population must be > 0 and there must be at least one row",
                "drop empty cells",
            )
        )
    f = fields.copy()
    for col, default in FIELD_DEFAULTS.items():
        if col not in f.columns:
            f[col] = default
        f[col] = (
            f[col].fillna(default)
            if col not in ("production_bpd", "annual_revenue_usd")
            else f[col]
        )
    f["export_via"] = f["export_via"].astype(str)
    reg = pd.DataFrame({"region": sorted(pop["region"].unique())})
    if regions is not None and not regions.empty:
        reg = reg.merge(regions.drop(columns=["_line"], errors="ignore"), on="region", how="left")
    for col, default in REGION_DEFAULTS.items():
        if col not in reg.columns:
            reg[col] = default
        elif col in ("bloc", "damage", "baseline_usd_per_capita"):
            reg[col] = reg[col].fillna(default)
    reg["bloc"] = [
        b if b else r for r, b in zip(reg["region"], reg["bloc"].astype(str), strict=True)
    ]
    reg = reg.set_index("region").sort_index()
    reg["population"] = pop.groupby("region")["population"].sum().reindex(reg.index)
    unknown = sorted(set(f["region"]) - set(reg.index))
    if unknown:
        problems.append(
            Problem(
                "fields",
                None,
                "region",
                "E-UNKNOWN-REGION",
                f"regions with fields but no population: {', '.join(unknown)}",
                "add them to the population table",
            )
        )
    if problems:
        raise InputError(problems)
    cells = pop.sort_values(["region", "faction"]).reset_index(drop=True)
    f = f.sort_values(["field", "region"]).reset_index(drop=True)
    return Territory(
        regions=reg,
        cells=cells,
        fields=f,
        default_price=default_price,
        structures=dict(structures or {}),
        provenance=dict(provenance or {}),
        name=name,
    )


def load_dataset(
    folder: str | Path | None = None,
    *,
    fields: str | Path | None = None,
    population: str | Path | None = None,
    regions: str | Path | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Territory:
    """Read and validate a dataset folder (or explicit files) into a Territory.

    Raises
    ------
    InputError
        listing every problem in every file, each with file, line, column, code and remedy.
    """
    from .readers import read_dataset

    raw = read_dataset(
        folder,
        fields=fields,
        population=population,
        regions=regions,
        encoding=encoding,
        delimiter=delimiter,
    )
    toml_source = raw.paths.get("structures", "structures.toml")
    try:
        structures = structures_from_toml(raw.structures, toml_source) if raw.structures else {}
    except InputError as exc:
        raise with_lines(exc, Path(toml_source).read_text(encoding="utf-8")) from None
    price = raw.structures.get("default_price")
    if price is not None and (
        isinstance(price, bool) or not isinstance(price, int | float) or price < 0
    ):
        raise InputError(
            Problem(
                toml_source,
                None,
                "default_price",
                "E-RANGE",
                f"default_price must be a number >= 0, got {price!r}",
                "fix it",
            )
        )
    name = Path(folder).name if folder is not None else Path(str(raw.paths.get("fields"))).stem
    return territory_from_frames(
        raw.fields,
        raw.population,
        raw.regions,
        default_price=None if price is None else float(price),
        structures=structures,
        provenance={
            "inputs": dict(raw.hashes),
            "paths": dict(raw.paths),
            "notices": list(raw.notices),
        },
        name=name,
    )
