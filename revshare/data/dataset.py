"""The Territory: regions, factions, cells, fields and blocs, built from validated tables.

Everything downstream sees sorted, clean tables; the order of rows in the input never matters.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, wrong_type
from .schema import (
    MAX_PATH_USD,
    MAX_PRICE,
    MAX_REVENUE_USD,
    SCHEMAS,
    FileSchema,
    num,
)
from .structures import Structure, locate, place_rules, structures_from_toml, with_lines

DAYS_PER_YEAR = 365


# eq=False: a generated __eq__ would compare data frames (whose truth value raises) and its
# __hash__ hash them (unhashable), so neither could answer; 2 methods less compiled at start.
@dataclass(frozen=True, eq=False)
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
    def price_dependent(self) -> bool:
        """Whether revenue depends on the oil price: some fields row gives production, not
        ``annual_revenue_usd``. When False, every price gives the same revenue, so no price is
        needed, a given one is not used, and a price sweep or path is refused
        (:func:`check_prices`)."""
        return bool((~np.isfinite(self.fields["annual_revenue_usd"].to_numpy(dtype=float))).any())

    def price_notice(self, price: float | None) -> str | None:
        """The notice for a ``price`` that this territory does not use, or None."""
        if price is None or self.price_dependent:
            return None
        return (
            f"notice: price: {price:g} USD a barrel is not used: every field of the dataset "
            "gives its revenue in USD (annual_revenue_usd)"
        )

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
        c = self._layout
        p = np.asarray(prices, dtype=float).reshape(-1, 1)
        margin = np.maximum(p - c.cost, 0.0)
        from_production = c.production * DAYS_PER_YEAR * margin
        v = np.where(np.isfinite(c.fixed), c.fixed, from_production)
        return np.nan_to_num(v * c.take) * c.share

    def money(self, prices: np.ndarray) -> Money:
        """Every price-dependent quantity the rules read, at many prices at once (vectorised:
        a sweep of 10,000 prices costs one pass)."""
        prices = np.asarray(prices, dtype=float).reshape(-1)
        c = self._layout
        fields = self.field_revenue_at(prices)
        region = fields @ c.region_of_field
        bloc = region @ c.bloc_of_region
        fee = np.minimum(c.fee_per_year, fields[:, c.crosses])
        outside = bloc - fee @ c.fee_payer + fee @ c.fee_payee
        return Money(prices, fields.sum(axis=1), region, bloc, outside)

    @functools.cached_property
    def _layout(self) -> _Layout:
        """The price-independent arrays :meth:`money` reads, built on first use: a command
        reads the money at one price several times (model, verification, tables)."""
        f = self.fields
        blocs = pd.Index(self.blocs)
        payer = f["region"].map(self.regions["bloc"])
        crosses = (
            (f["export_via"] != "")
            & (f["export_via"] != payer)
            & (f["transit_fee_usd_per_bbl"] > 0)
        ).to_numpy()
        barrels = f["production_bpd"].fillna(0.0) * DAYS_PER_YEAR * f["share"]
        per_year = (barrels * f["transit_fee_usd_per_bbl"]).to_numpy(dtype=float)
        return _Layout(
            cost=f["cost_usd_per_bbl"].to_numpy(dtype=float),
            production=f["production_bpd"].to_numpy(dtype=float),
            fixed=f["annual_revenue_usd"].to_numpy(dtype=float),
            take=f["government_take"].to_numpy(dtype=float),
            share=f["share"].to_numpy(dtype=float),
            region_of_field=indicator_matrix(f["region"], self.regions.index),
            bloc_of_region=indicator_matrix(self.regions["bloc"], blocs),
            crosses=crosses,
            fee_per_year=per_year[crosses],
            fee_payer=indicator_matrix(payer[crosses], blocs),
            fee_payee=indicator_matrix(f["export_via"][crosses], blocs),
            payer=payer[crosses],
            payee=f["export_via"][crosses],
        )

    def field_revenue(self, price: float | None) -> pd.Series:
        """Annual government revenue of each fields row at one price, in USD."""
        v = self.field_revenue_at(np.array([price or 0.0]))[0]
        return pd.Series(v, index=self.fields.index, name="revenue_usd")

    def region_revenue(self, price: float | None) -> pd.Series:
        """``V_r``: the revenue of each region's fields, 0 for regions without oil."""
        return pd.Series(self.money(np.array([price or 0.0])).region[0], index=self.regions.index)

    def bloc_revenue(self, price: float | None) -> pd.Series:
        return pd.Series(self.money(np.array([price or 0.0])).bloc[0], index=self.blocs)

    def transit_fees(self, price: float | None) -> pd.DataFrame:
        """Fees each exporting bloc pays under partition: one row per fields row that crosses
        another bloc, ``payer, payee, fee_usd``."""
        c = self._layout
        fee = np.minimum(
            c.fee_per_year, self.field_revenue_at(np.array([price or 0.0]))[0, c.crosses]
        )
        return pd.DataFrame(
            {"payer": c.payer, "payee": c.payee, "fee_usd": fee}, index=c.payer.index
        )

    def coalition_options(self, price: float | None, members: np.ndarray) -> np.ndarray:
        """``O_S`` before the cost of statehood, for each coalition (a row of the 0/1 matrix
        ``members``, one column per bloc in the order of ``blocs``): its blocs' own revenue, fees
        between its members netted, fees to and from outsiders kept (docs/concepts.md#leaving)."""
        c = self._layout
        fields = self.field_revenue_at(np.array([price or 0.0]))
        bloc = (fields @ c.region_of_field @ c.bloc_of_region)[0]
        fee = np.minimum(c.fee_per_year, fields[0, c.crosses])
        pays = members @ c.fee_payer.T  # 1 where the coalition holds the paying bloc
        gets = members @ c.fee_payee.T
        out = (pays * (1 - gets)) @ fee
        into = (gets * (1 - pays)) @ fee
        return np.asarray(members @ bloc - out + into, dtype=float)

    def outside_options(self, price: float | None) -> pd.Series:
        """``O_b``: what each bloc would have by leaving: its own fields' revenue, minus the transit
        fees it pays, plus the fees it receives (docs/concepts.md#leaving)."""
        return pd.Series(self.money(np.array([price or 0.0])).outside[0], index=self.blocs)


class _Layout(NamedTuple):
    """What :meth:`Territory.money` needs that does not depend on the price: the fields rows'
    columns, the 0/1 matrices from fields rows to regions and from regions to blocs, and the
    rows whose exports cross another bloc (a fee never exceeds what the row earns: a field that
    cannot cover its fee would be shut in) with their fee a year and their payer and payee."""

    cost: np.ndarray
    production: np.ndarray
    fixed: np.ndarray
    take: np.ndarray
    share: np.ndarray
    region_of_field: np.ndarray
    bloc_of_region: np.ndarray
    crosses: np.ndarray
    fee_per_year: np.ndarray
    fee_payer: np.ndarray
    fee_payee: np.ndarray
    payer: pd.Series
    payee: pd.Series


class Money(NamedTuple):
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


PRICE_RANGE = f"0 <= price <= {num(MAX_PRICE)} USD a barrel"


def check_price(
    price: object, territory: Territory | None = None, *, parameter: str = "price"
) -> float:
    """Check one oil price, given by the user or a dataset's default, before anything is solved.

    The price lies in ``0 <= price <= MAX_PRICE`` and, given ``territory``, the territory's
    revenue at that price stays within ``MAX_REVENUE_USD`` a year, so that every total stays
    exact in whole dollars. A price that ``territory`` does not use (its revenue is all given in
    USD) passes: :meth:`Territory.price_notice` says it is not used.

    Parameters
    ----------
    price : float
        USD a barrel.
    territory : Territory, optional
        Whose revenue the price must keep within range.
    parameter : str
        The parameter's name for messages (``price``, ``default_price``, ``fund_benchmark``...).

    Returns
    -------
    float

    Raises
    ------
    InputError
        ``E-RANGE`` naming ``parameter``.
    """
    problems = price_problems([price], territory, parameter, None, None)
    if problems:
        raise InputError(problems)
    return float(price)  # type: ignore[arg-type]


def check_prices(
    prices: Any,
    territory: Territory | None = None,
    *,
    parameter: str = "prices",
    years: Any = None,
    lines: list[int] | None = None,
) -> np.ndarray:
    """Check the prices of a sweep or a price path: each as :func:`check_price`, all at once.

    A territory whose revenue does not depend on the price refuses them (``E-PRICE-UNUSED``):
    every price would give the same result. With ``years`` (a path), the revenue summed over the
    path, ``sum(revenue_t * years_t)``, stays within ``MAX_PATH_USD``.

    Parameters
    ----------
    prices : array-like of float
    territory : Territory, optional
    parameter : str
        The parameter or file named in messages.
    years : array-like of float, optional
        Each period's length, for a price path.
    lines : list of int, optional
        The line of each price in ``parameter`` (a file), for messages.

    Returns
    -------
    numpy.ndarray
        The prices as floats.

    Raises
    ------
    InputError
        Every problem at once.
    """
    values = list(np.asarray(prices, dtype=object).reshape(-1))
    problems = price_problems(values, territory, parameter, None, lines)
    if territory is not None and not territory.price_dependent:
        problems.append(
            Problem(
                parameter,
                None,
                None,
                "E-PRICE-UNUSED",
                "every field of the dataset gives its revenue in USD (annual_revenue_usd), so "
                "the revenue, and the allocation, is the same at every price: a price sweep or "
                "path has nothing to vary",
                "allocate once without a price, or give production_bpd (and costs) for the "
                "fields whose revenue follows the price",
            )
        )
    if not problems and territory is not None and years is not None:
        length = np.asarray(years, dtype=float).reshape(-1)
        total = float((territory.money(np.asarray(values, dtype=float)).revenue * length).sum())
        if not total <= MAX_PATH_USD:
            problems.append(
                Problem(
                    parameter,
                    None,
                    "years",
                    "E-RANGE",
                    f"the revenue summed over the path is {total:.4g} USD, above the "
                    f"documented limit of {num(MAX_PATH_USD)} USD",
                    "shorten the path or its periods; whole-dollar totals would not be exact",
                )
            )
    if problems:
        from .readers import cap_problems

        raise InputError(cap_problems(problems))
    return np.asarray(values, dtype=float)


def price_problems(
    prices: list[Any],
    territory: Territory | None,
    file: str,
    column: str | None,
    lines: list[int] | None,
) -> list[Problem]:
    """The problems of each price: not a number, outside :data:`PRICE_RANGE`, or giving
    ``territory`` more than ``MAX_REVENUE_USD`` a year."""
    problems: list[Problem] = []
    valid: list[tuple[int, float]] = []
    for i, price in enumerate(prices):
        line = lines[i] if lines is not None else None
        number = isinstance(price, int | float | np.integer | np.floating)
        if isinstance(price, bool | np.bool_) or not number:
            message = f"{file} {price!r} is not a number"
        elif not (math.isfinite(price) and 0 <= price <= MAX_PRICE):
            message = f"{file} {float(price):g} is outside {PRICE_RANGE}"
        else:
            valid.append((i, float(price)))
            continue
        problems.append(
            Problem(file, line, column, "E-RANGE", message, f"give a price with {PRICE_RANGE}")
        )
    if territory is not None and valid:
        revenue = territory.money(np.array([p for _, p in valid])).revenue
        for (i, price), total in zip(valid, revenue, strict=True):
            if not total <= MAX_REVENUE_USD:
                problems.append(
                    Problem(
                        file,
                        lines[i] if lines is not None else None,
                        column,
                        "E-RANGE",
                        f"at {price:g} USD a barrel the dataset's revenue would be {total:.4g} "
                        f"USD a year, above the documented limit of {num(MAX_REVENUE_USD)}",
                        "check the price and the fields' production; whole-dollar totals "
                        "would not be exact",
                    )
                )
    return problems


REGION_DEFAULTS: dict[str, Any] = {
    "bloc": "",
    "area_km2": np.nan,
    "need_index": np.nan,
    "damage": 0.0,
    "baseline_usd_per_capita": 0.0,
    "min_usd_per_capita": np.nan,
    "max_usd_per_capita": np.nan,
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

    Frames built in memory get the checks of files read by
    :func:`revshare.data.readers.read_dataset`: the ranges (data/README.md), the fields rows'
    choice between production and revenue, the region/bloc name rule and the dataset totals
    (population, production, revenue given in USD, baseline money), each within its documented
    limit.
    """
    for parameter, frame in (("fields", fields), ("population", population), ("regions", regions)):
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise wrong_type(parameter, "a pandas DataFrame", frame, "pass e.g. pd.read_csv(file)")
    return _territory(
        fields,
        population,
        regions,
        default_price=default_price,
        structures=structures,
        provenance=provenance,
        name=name,
        validated=False,
    )


def _territory(
    fields: pd.DataFrame,
    population: pd.DataFrame,
    regions: pd.DataFrame | None,
    *,
    default_price: float | None,
    structures: Mapping[str, Structure] | None,
    provenance: Mapping[str, Any] | None,
    name: str,
    validated: bool,
) -> Territory:
    """:func:`territory_from_frames`; ``validated`` frames (from :func:`read_dataset`, which
    checked every cell, row and total) skip the checks that read_dataset made already."""
    paths = dict((provenance or {}).get("paths", {}))
    where = {role: paths.get(role, role) for role in SCHEMAS}
    problems = [] if validated else _frame_problems(fields, population, regions, where)
    pop = population[["region", "faction", "population"]].copy()
    pop["population"] = pop["population"].astype(float)
    if pop.empty:
        problems.append(
            Problem(
                where["population"],
                None,
                "population",
                "E-NO-ROWS",
                "there must be at least one (region, faction) cell",
                "add the population table's rows",
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
    if not problems and not validated:
        from .readers import total_problems

        problems = total_problems(fields, population, regions, where)
    if problems:
        from .readers import cap_problems

        raise InputError(cap_problems(problems))
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


def _frame_problems(
    fields: pd.DataFrame,
    population: pd.DataFrame,
    regions: pd.DataFrame | None,
    where: dict[str, str],
) -> list[Problem]:
    """Range, production-or-revenue and name-clash problems of frames (read or built in memory)."""
    from .csvparse import Log
    from .readers import name_clashes

    problems: list[Problem] = []
    frames = {"fields": fields, "population": population, "regions": regions}
    for role, frame in frames.items():
        if frame is not None:
            problems += _range_problems(frame, SCHEMAS[role], where[role])
    log = Log()
    prod = _column(fields, "production_bpd")
    revenue = _column(fields, "annual_revenue_usd")
    lines = _lines(fields)
    for i in np.flatnonzero(np.isfinite(prod) == np.isfinite(revenue)):
        both = bool(np.isfinite(prod[i]))
        log.error(
            where["fields"],
            lines[i],
            "annual_revenue_usd" if both else "production_bpd",
            "E-CONFLICT" if both else "E-MISSING-VALUE",
            "the row gives both production_bpd and annual_revenue_usd; which one is meant?"
            if both
            else "the row has neither production_bpd nor annual_revenue_usd",
            "give exactly one of them",
        )
    if regions is not None and not regions.empty and "bloc" in regions.columns:
        rows = [
            {"region": str(r), "bloc": b if isinstance(b, str) else "", "_line": line}
            for r, b, line in zip(regions["region"], regions["bloc"], _lines(regions), strict=True)
        ]
        name_clashes(where["regions"], rows, log, strict=False)
    return problems + log.problems


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _lines(frame: pd.DataFrame) -> list[int | None]:
    if "_line" not in frame.columns:
        return [None] * len(frame)
    return [int(v) for v in frame["_line"]]


def _range_problems(frame: pd.DataFrame, schema: FileSchema, file: str) -> list[Problem]:
    """Each number of ``frame`` outside its column's documented range (an absent value is fine
    where the column has no value by default; a number that is not finite never is)."""
    problems: list[Problem] = []
    lines = _lines(frame)
    for col in schema.columns:
        if col.kind != "number" or col.name not in frame.columns:
            continue
        raw = pd.to_numeric(frame[col.name], errors="coerce").to_numpy(dtype=float)
        optional = not col.required or bool(col.required_unless)
        for i in np.flatnonzero(
            ~np.isfinite(raw) | ~np.array([col.in_range(v) for v in raw], dtype=bool)
        ):
            if math.isnan(raw[i]) and optional:
                continue
            problems.append(
                Problem(
                    file,
                    lines[i],
                    col.name,
                    "E-RANGE",
                    f"{col.name} {frame[col.name].iloc[i]!r} is outside {col.range_text()}",
                    f"give a value with {col.range_text()}",
                )
            )
    return problems


def _on_line(problems: list[Problem], text: str) -> list[Problem]:
    """Place problems of ``default_price`` on its line of structures.toml (``text``)."""
    from .workbook import toml_cells  # the workbook reader, only for a problem to place

    line = locate(text, None, "default_price")
    return toml_cells([p._replace(line=line) for p in problems])


def load_dataset(
    folder: str | Path | None = None,
    *,
    fields: str | Path | None = None,
    population: str | Path | None = None,
    regions: str | Path | None = None,
    structures: str | Path | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Territory:
    """Read and validate a dataset folder (or explicit files) into a Territory.

    Raises
    ------
    InputError
        listing every problem in every file, each with file, line, column, code and remedy.
    """
    if folder is not None and not isinstance(folder, str | os.PathLike):
        raise wrong_type(
            "folder", "a dataset folder's or workbook's path", folder, "pass e.g. 'data/iraq'"
        )
    from .readers import read_dataset

    raw = read_dataset(
        folder,
        fields=fields,
        population=population,
        regions=regions,
        structures=structures,
        encoding=encoding,
        delimiter=delimiter,
    )
    toml_source = raw.paths.get("structures", "structures.toml")
    try:
        declared = structures_from_toml(raw.structures, toml_source) if raw.structures else {}
        if any(s.deal.rules for s in declared.values()):
            declared = place_rules(declared, raw.structures_text, toml_source)
    except InputError as exc:
        from .workbook import toml_cells

        raise InputError(toml_cells(with_lines(exc, raw.structures_text).problems)) from None
    price = raw.structures.get("default_price")
    bad = price_problems([price], None, toml_source, "default_price", None)
    if price is not None and bad:
        raise InputError(_on_line(bad, raw.structures_text))
    name = (
        Path(folder).resolve().name
        if folder is not None
        else Path(str(raw.paths.get("fields"))).stem
    )
    notices = list(raw.notices)
    territory = _territory(
        raw.fields,
        raw.population,
        raw.regions,
        default_price=None if price is None else float(price),
        structures=declared,
        provenance={"inputs": dict(raw.hashes), "paths": dict(raw.paths), "notices": notices},
        name=name,
        validated=True,
    )
    if price is not None:
        too_much = price_problems([price], territory, toml_source, "default_price", None)
        if too_much:
            raise InputError(_on_line(too_much, raw.structures_text))
        if not territory.price_dependent:
            notices.append(
                f"notice: {toml_source}: default_price is not used: every field gives its "
                "revenue in USD (annual_revenue_usd)"
            )
    return territory


def require_territory(value: object, parameter: str = "territory") -> None:
    """Raise an InputError naming ``parameter`` unless ``value`` is a :class:`Territory` (a
    dataset's path passed where its loaded territory belongs is the usual mistake)."""
    if not isinstance(value, Territory):
        raise wrong_type(
            parameter,
            "a Territory",
            value,
            "load one with revshare.load_dataset(folder) or territory_from_frames",
        )
