"""Structures side by side: who gets what under each, who prefers which, and who would accept it.

:func:`compare` solves every structure as :func:`revshare.analyses.optimize` does (proven optimum, verified
in the original units) and returns tidy tables. Choices that shape the answer, stated once:

- **Two views of money per head.** ``usd_per_head_direct`` is what a group receives directly.
  ``usd_per_head_with_centre`` adds the centre's slice spread equally over every person in the
  country (``centre_usd / population``): the centre's spending is counted as a public good that
  benefits everyone alike; under a deal, each government's money (a bloc's, a state's local
  governments') is spread the same way over the people it serves. Both are reported.
- **Preferences use the second view** (:data:`PREFERENCE_VIEW`). Judged on direct money alone,
  every structure with a large central slice would look poor to everyone, which is not how a
  delegation weighs a state that pays salaries and builds roads.
- **Who votes.** The pairwise majority is over the cells (one region's people of one faction),
  each weighted by its population: a cell prefers the structure giving it more money per head.
  Differences of at most :data:`INDIFFERENCE_USD_PER_HEAD` are indifference. Factions and blocs
  rank the structures by their own money per head in the same view.
- **Acceptance.** A bloc accepts a structure when its direct money is at least its outside option
  (what it would have by seceding, docs/concepts.md#leaving), within the same tolerance as the
  ``secession_proof`` metric of :func:`revshare.analyses.optimize`; the centre's slice is not counted,
  since a bloc that secedes would have to pay for its own state. "Every bloc accepts" is then
  exactly the allocation's ``secession_proof``.
- **Infeasible structures stay.** A structure whose rules cannot all hold (``InfeasibleError``),
  or whose optimum could not be proven and verified (``NotOptimalError``), is kept in the tables
  with its one-line reason and takes no part in the preferences. Bad input (``InputError``) and
  a missing solver still fail the whole run.
- **Structures that do not fit.** ``structures="all"`` is every preset plus the dataset's own
  structures (a dataset structure replaces a preset of the same name). When several structures
  run, one that cannot apply to the dataset (``sudan-cpa-2005`` needs a bloc ``south``; a
  preset needs ``area_km2``; a dataset structure names a bloc that does not exist) is listed as
  *not applicable* with the reason, and the others are compared. A structure named alone gets
  no such leniency: if it does not fit, that is an input error, as in ``optimize``.
- **Exit rule (shared with sweeps).** *infeasible* and *not applicable* are answers and are
  reported; *not optimal* (no proven, verified optimum) is a failure: :attr:`Comparison.unproven`
  names those structures, and the command line then writes no report and exits 4.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data.dataset import Territory, require_territory
from ..data.structures import PRESETS, Structure, apply_overrides, require_structures, resolve
from ..errors import InfeasibleError, InputError, NotOptimalError, Problem
from ..model.lp import check_applicable, check_names
from ..solve.solver import SolverConfig
from . import preferences
from .guarantees import guarantees as guarantee_table
from .optimize import Allocation, optimize, resolve_price, versions

PREFERENCE_VIEW = "usd_per_head_with_centre"
"""The column preferences are computed from: direct money plus the centre's slice per head."""

INDIFFERENCE_USD_PER_HEAD = 0.01
"""Differences of at most a cent a head a year are indifference (solver noise is far smaller)."""

ACCEPT_RELATIVE = 1e-6
"""A bloc accepts when its surplus over secession is at least ``-ACCEPT_RELATIVE * revenue``;
the same tolerance as the ``secession_proof`` metric."""

Status = Literal["optimal", "infeasible", "not optimal", "not applicable"]

GROUP_COLUMNS = [
    "structure",
    "group",
    "population",
    "usd",
    "usd_rounded",
    "usd_per_head_direct",
    "usd_per_head_with_centre",
]
METRIC_COLUMNS = [
    "gini",
    "min_max_per_head_ratio",
    "loosemore_hanby",
    "centre_share",
    "lowest_per_head_usd",
    "highest_per_head_usd",
    "secession_proof",
]


@dataclass(frozen=True)
class Comparison:
    """Every structure's allocation, metrics and standing with the people, side by side.

    Attributes
    ----------
    structures : the structures' names, in the order compared.
    definitions : name -> the :class:`Structure` compared, overrides applied.
    allocations : name -> verified :class:`Allocation`, or ``None`` when there is none.
    status : name -> ``optimal``, ``infeasible``, ``not optimal`` or ``not applicable``.
    infeasible : name -> one-line reason, for structures without a verified optimum.
    not_applicable : name -> one-line reason, for structures that cannot apply to the dataset.
    cells, factions, blocs : long tables, one row per feasible structure and group: ``structure,
        group, population, usd, usd_rounded, usd_per_head_direct, usd_per_head_with_centre``;
        ``cells`` adds ``region, faction, bloc``; ``blocs`` adds ``outside_option_usd,
        surplus_over_secession_usd, accepts``.
    metrics : one row per structure: ``structure, source, objective, status, feasible, reason,
        centre_usd, centre_per_head_usd`` and the metrics of docs/concepts.md#metrics (NaN when
        infeasible).
    rankings : ``level`` (``faction`` or ``bloc``), ``group, structure, usd_per_head, rank``.
    pairwise : ``a, b, prefer_a, prefer_b, indifferent, winner`` (population; ``None``: tie).
    condorcet : the Condorcet winner, or the Smith set and a majority cycle.
    acceptable : one row per structure: ``structure, feasible, accepted_by, refused_by,
        all_accept``.
    """

    dataset: str
    price: float
    revenue_usd: float
    population: float
    structures: tuple[str, ...]
    definitions: Mapping[str, Structure]
    allocations: Mapping[str, Allocation | None]
    status: Mapping[str, Status]
    infeasible: Mapping[str, str]
    not_applicable: Mapping[str, str]
    cells: pd.DataFrame
    factions: pd.DataFrame
    blocs: pd.DataFrame
    metrics: pd.DataFrame
    rankings: pd.DataFrame
    pairwise: pd.DataFrame
    condorcet: preferences.Condorcet
    acceptable: pd.DataFrame
    provenance: Mapping[str, Any]
    preference_view: str = PREFERENCE_VIEW

    @property
    def unproven(self) -> tuple[str, ...]:
        """The structures whose optimum could not be proven and verified."""
        return tuple(n for n in self.structures if self.status[n] == "not optimal")

    @property
    def feasible(self) -> tuple[str, ...]:
        """The structures with a verified allocation, in order."""
        return tuple(n for n in self.structures if self.allocations.get(n) is not None)


def timestamp() -> str:
    """UTC time of the run in ISO 8601, from ``SOURCE_DATE_EPOCH`` when set (reproducible
    builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def select(
    territory: Territory, structures: Sequence[str | Structure] | str
) -> list[tuple[Structure, bool]]:
    """The structures to compare, each with whether a misfit is tolerated (when several run)."""
    if isinstance(structures, str) and structures == "all":
        merged = {**PRESETS, **territory.structures}
        return [(s, len(merged) > 1) for s in merged.values()]
    items = [structures] if isinstance(structures, str) else list(structures)
    try:
        chosen = [resolve(s, territory.structures) if isinstance(s, str) else s for s in items]
    except InputError as exc:  # the parameter here is ``structures``, not ``structure``
        raise InputError(
            [p._replace(file="structures") if p.file == "structure" else p for p in exc.problems]
        ) from None
    names = [s.name for s in chosen]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if not chosen or repeated:
        message = (
            f"structure names must be distinct, got {', '.join(map(repr, repeated))} more than once"
            if repeated
            else "no structure to compare"
        )
        raise InputError(
            Problem(
                "structures",
                None,
                None,
                "E-USAGE",
                message,
                "list each structure once, or pass 'all'",
            )
        )
    return [(s, len(chosen) > 1) for s in chosen]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _solve(
    territory: Territory,
    structure: Structure,
    lenient: bool,
    price: float,
    solving: Mapping[str, Any],
) -> tuple[Status, Allocation | None, str]:
    """Solve ``structure`` (the overrides applied); with ``lenient``, a
    structure that cannot apply to the dataset (it names blocs or factions the dataset lacks, or
    needs an indicator it does not have) is "not applicable" rather than an error."""
    if lenient:
        misfits = check_applicable(structure, territory)
        if misfits:
            return "not applicable", None, _one_line("; ".join(p.message for p in misfits))
    try:
        alloc = optimize(territory, structure, price=price, **solving)
    except InfeasibleError as exc:
        # The rules in conflict by label only (the full wording is in optimize's error), so that
        # the reason stays one line a table can hold.
        rules = [c.split(": ", 1)[0] for c in exc.conflict]
        reason = str(exc).rstrip(":; ") + (f" ({', '.join(rules)})" if rules else "")
        if exc.concession:
            reason += f"; smallest fix: {exc.concession}"
        return "infeasible", None, _one_line(reason)
    except NotOptimalError as exc:
        return "not optimal", None, _one_line(str(exc))
    return "optimal", alloc, ""


def _groups(alloc: Allocation, table: pd.DataFrame, key: str, population: float) -> pd.DataFrame:
    out = table.rename(columns={key: "group", "usd_per_head": "usd_per_head_direct"})
    out.insert(0, "structure", alloc.structure.name)
    # the served view: the centre's slice over everyone, and a deal's governments over the people
    # each serves (for a structure without accounts, direct plus the centre's slice a head)
    out["usd_per_head_with_centre"] = out.pop("usd_per_head_served")
    return out


def _long(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _matrix(
    table: pd.DataFrame, keys: list[str], names: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    if table.empty:
        return pd.DataFrame(index=pd.Index([], name=keys[0])), np.zeros(0)
    wide = table.pivot_table(
        index=keys, columns="structure", values=PREFERENCE_VIEW, aggfunc="first", sort=True
    )
    population = table.groupby(keys, sort=True)["population"].first().reindex(wide.index)
    return wide[names], population.to_numpy(dtype=float)


def _metrics_row(
    name: str,
    structure: Structure,
    status: Status,
    reason: str,
    alloc: Allocation | None,
    population: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "structure": name,
        "source": structure.source,
        "objective": structure.objective,
        "status": status,
        "feasible": alloc is not None,
        "reason": reason,
    }
    if alloc is None:
        return {
            **row,
            "centre_usd": np.nan,
            "centre_per_head_usd": np.nan,
            **dict.fromkeys(METRIC_COLUMNS, np.nan),
        }
    return {
        **row,
        "centre_usd": alloc.centre_usd,
        "centre_per_head_usd": alloc.centre_usd / population,
        **{k: alloc.metrics[k] for k in METRIC_COLUMNS},
    }


def _preferences(
    cells: pd.DataFrame, factions: pd.DataFrame, blocs: pd.DataFrame, feasible: list[str]
) -> tuple[pd.DataFrame, preferences.Condorcet, pd.DataFrame]:
    """Pairwise majorities over cells, the Condorcet outcome, and faction and bloc rankings."""
    wide, weights = _matrix(cells, ["region", "faction"], feasible)
    tol = INDIFFERENCE_USD_PER_HEAD
    counts = preferences.preference_counts(wide.to_numpy(), weights, tol)
    pairwise = preferences.pairwise_majority(wide.to_numpy(), weights, feasible, tol)
    ranks = []
    for level, table in (("faction", factions), ("bloc", blocs)):
        w, _ = _matrix(table, ["group"], feasible)
        r = preferences.rankings(w.to_numpy(), list(w.index), feasible, tol)
        r.insert(0, "level", level)
        ranks.append(r)
    condorcet = preferences.condorcet(counts, feasible)
    return pairwise, condorcet, pd.concat(ranks, ignore_index=True)


def _acceptance(blocs: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """For each structure, the blocs that accept it and those that refuse it."""
    by_structure = dict(tuple(blocs.groupby("structure", sort=False)))
    rows = []
    for n in names:
        g = by_structure.get(n)
        yes = tuple(g.loc[g["accepts"], "group"]) if g is not None else ()
        no = tuple(g.loc[~g["accepts"], "group"]) if g is not None else ()
        rows.append(
            {
                "structure": n,
                "feasible": g is not None,
                "accepted_by": yes,
                "refused_by": no,
                "all_accept": g is not None and not no,
            }
        )
    return pd.DataFrame(rows)


def compare(
    territory: Territory,
    structures: Sequence[str | Structure] | str = "all",
    *,
    price: float | None = None,
    overrides: list[str] | None = None,
    solver: str = "highs",
    guarantees: bool = False,
    time_limit: float | None = None,
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> Comparison:
    """Solve every structure on ``territory`` and compare them.

    Parameters
    ----------
    territory : from :func:`revshare.load_dataset`.
    structures : ``"all"`` (every preset and dataset structure), or a list of names, ``.toml``
        paths or :class:`Structure` objects; a single name is a list of one.
    price : USD a barrel; default the dataset's ``default_price``.
    overrides : ``PARAM=VALUE`` strings applied to every structure.
    solver : ``"highs"`` or ``"cbc"``.
    guarantees : also each faction's and bloc's guaranteed money under a hostile centre and its
        exposure (:func:`revshare.guarantees`), as ``guaranteed_usd`` and ``exposure_usd``
        columns of ``factions`` and ``blocs``.
    time_limit, solver_options, cross_check : as :func:`revshare.optimize` takes them, for each
        structure's solve.

    Raises
    ------
    InputError
        bad input, an unknown structure, a named structure that does not fit the dataset, or a
        bad override. Infeasible structures do not raise: see the module docstring.
    SolverUnavailableError

    Examples
    --------
    >>> import revshare
    >>> c = compare(revshare.load_dataset("data/iraq"), ["federation", "partition"])
    >>> c.feasible
    ('federation', 'partition')
    >>> bool(c.acceptable.set_index("structure").loc["partition", "all_accept"])
    True
    """
    require_territory(territory)
    require_structures(structures)
    started = time.perf_counter()
    chosen = select(territory, structures)
    price = resolve_price(territory, price)
    overrides = list(overrides or [])
    definitions = {s.name: apply_overrides(s, overrides) for s, _ in chosen}
    # An override is the caller's input for every structure: a name it gets wrong fails the run.
    misnamed = check_names(territory, apply_overrides(Structure(name="overrides"), overrides))
    if misnamed:
        raise InputError(misnamed)
    options = dict(solver_options or {})
    SolverConfig(solver, time_limit, options)  # a bad solver option fails once, before any solve
    solving: dict[str, Any] = {
        "solver": solver,
        "time_limit": time_limit,
        "solver_options": options,
        "cross_check": cross_check,
    }
    population = territory.population
    revenue = float(territory.field_revenue(price).sum())
    names = [s.name for s, _ in chosen]
    status: dict[str, Status] = {}
    allocs: dict[str, Allocation | None] = {}
    reasons: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for structure, lenient in chosen:
        t0 = time.perf_counter()
        status[structure.name], allocs[structure.name], reasons[structure.name] = _solve(
            territory, definitions[structure.name], lenient, price, solving
        )
        seconds[structure.name] = time.perf_counter() - t0
    feasible = [n for n in names if allocs[n] is not None]
    solved = [a for a in (allocs[n] for n in feasible) if a is not None]
    cells, factions, blocs = [], [], []
    for a in solved:
        cells.append(
            _groups(
                a,
                a.cells.assign(group=a.cells["region"] + " / " + a.cells["faction"]),
                "group",
                population,
            )
        )
        factions.append(_groups(a, a.factions, "faction", population))
        b = _groups(a, a.blocs, "bloc", population)
        b["accepts"] = b["surplus_over_secession_usd"] >= -ACCEPT_RELATIVE * a.revenue_usd
        blocs.append(b)
    if guarantees and solved:
        hostile = guarantee_table(
            territory,
            [definitions[n] for n in feasible],
            price=price,
            capture=False,
            fair={s.structure.name: s for s in solved},
            **solving,
        ).table.set_index(["structure", "level", "group"])
        for level, frames in (("faction", factions), ("bloc", blocs)):
            for frame in frames:
                keys = [
                    (s, level, g) for s, g in zip(frame["structure"], frame["group"], strict=True)
                ]
                frame["guaranteed_usd"] = hostile.loc[keys, "guaranteed_usd"].to_numpy()
                frame["exposure_usd"] = hostile.loc[keys, "exposure_usd"].to_numpy()
    cell_table = _long(cells, [*GROUP_COLUMNS[:2], "region", "faction", "bloc", *GROUP_COLUMNS[2:]])
    extra = ["guaranteed_usd", "exposure_usd"] if guarantees and solved else []
    faction_table = _long(factions, [*GROUP_COLUMNS, *extra])
    bloc_table = _long(
        blocs,
        [*GROUP_COLUMNS, "outside_option_usd", "surplus_over_secession_usd", "accepts", *extra],
    )

    pairwise, condorcet, ranks = _preferences(cell_table, faction_table, bloc_table, feasible)
    return Comparison(
        dataset=territory.name,
        price=price,
        revenue_usd=revenue,
        population=population,
        structures=tuple(names),
        definitions=definitions,
        allocations=allocs,
        status=status,
        infeasible={n: reasons[n] for n in names if status[n] in ("infeasible", "not optimal")},
        not_applicable={n: reasons[n] for n in names if status[n] == "not applicable"},
        cells=cell_table,
        factions=faction_table,
        blocs=bloc_table,
        metrics=pd.DataFrame(
            [
                _metrics_row(n, definitions[n], status[n], reasons[n], allocs[n], population)
                for n in names
            ]
        ),
        rankings=ranks,
        pairwise=pairwise,
        condorcet=condorcet,
        acceptable=_acceptance(bloc_table, names),
        provenance={
            "dataset": territory.name,
            "inputs": dict(territory.provenance.get("inputs", {})),
            "notices": list(territory.provenance.get("notices", [])),
            "versions": versions(),
            "solver": solver,
            "price_used": territory.price_dependent,
            "overrides": overrides,
            "preference_view": PREFERENCE_VIEW,
            "indifference_usd_per_head": INDIFFERENCE_USD_PER_HEAD,
            "acceptance": "bloc's direct money >= its outside option, within "
            f"{ACCEPT_RELATIVE:g} of revenue",
            "generated_at": timestamp(),
            "seconds": {"structures": seconds, "total": time.perf_counter() - started},
        },
    )
