"""Sweeps: many prices (and parameter values) for many structures, fast, resumable, in parallel.

A sweep is split into *chunks*: for each structure and parameter point, its scenarios sorted by
price and cut every ``chunk_size``. A chunk is solved by one :class:`revshare.solve.engine.Engine`
(built once per process and structure) and verified in one batch
(:func:`revshare.solve.verify.verify_batch`), so its numbers depend only on the chunk: the same in this
process, on many local workers (:mod:`revshare.analyses.pool`), or on a Dask cluster.

With an output folder each finished chunk is written at once (atomically, with its digest) under
``chunks/`` and ``sweep.json`` records what the sweep is (:mod:`revshare.analyses.chunks`);
``resume=True`` re-runs only the missing chunks of the same sweep, so an interrupted sweep loses
nothing and repeats nothing. A resumed chunk is trusted no more than a fresh one: its digest,
its scenarios and its money are checked again against the data, and a chunk that fails is
solved again (with a notice). The analysis returns the results and writes no report: the
caller does (:func:`revshare.reports.sweep.sweep` writes them and then removes ``chunks/``).

Per scenario the results hold the status, the money per head of every region, faction and bloc,
each bloc's surplus over its outside option, the centre's slice, the Gini index of money per
head and the producing regions' retention (autonomy). Statuses: ``optimal``; ``infeasible``;
``no revenue`` (every field's cost is above the price); ``not applicable`` (a preset that names
blocs or factions the dataset does not have, under ``"all"``); ``not optimal`` and
``not verified`` (never reported as money; :func:`sweep` counts them).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..data.dataset import Money, Territory, check_prices, require_territory
from ..data.scenarios import as_scenarios, overrides_of, parameter_grid
from ..data.structures import Structure, apply_overrides, require_structures
from ..errors import InfeasibleError, InputError, NotOptimalError, Problem, wrong_type
from ..model.lp import build_model, check_applicable
from ..model.metrics import gini_rows, group_sums
from ..solve.engine import Engine
from ..solve.solver import SolverConfig, Status
from ..solve.verify import verify_batch
from . import pool
from .chunks import FORMAT, REPORT_FILES, Damaged, Solution, SweepFolder
from .compare import select
from .optimize import VERIFY_RELATIVE, conserve_many, optimize

CHUNK_SIZE = 1000
SWEEP_FILES = REPORT_FILES
STATUS_TEXT = {
    Status.OPTIMAL: "optimal",
    Status.INFEASIBLE: "infeasible",
}
BAD_STATUSES = ("not optimal", "not verified")
SOLVED_STATUSES = ("optimal", "infeasible", *BAD_STATUSES)


@dataclass(frozen=True)
class Task:
    """One chunk: scenarios of one structure at one parameter point, sorted by price."""

    index: int
    structure: Structure
    point: Mapping[str, float]
    scenario: tuple[str, ...]
    period: np.ndarray
    price: np.ndarray
    support_price: float
    territory_key: str
    time_limit: float | None
    applicable: str  # "" or why the structure does not fit the dataset
    solver: str = "highs"
    solver_options: tuple[tuple[str, Any], ...] = ()
    cross_check: bool = False

    @property
    def config(self) -> SolverConfig:
        return SolverConfig(self.solver, self.time_limit, dict(self.solver_options))


@dataclass(frozen=True)
class SweepResult:
    """All scenarios' results and their summaries (see :mod:`revshare.analyses.sweep`)."""

    results: pd.DataFrame
    summary: pd.DataFrame  # percentiles of money per head, per structure, point and group
    risk: pd.DataFrame  # probability that each bloc falls below its outside option
    structures: pd.DataFrame  # share of scenarios in each status
    parameters: list[str]
    spec: Mapping[str, Any]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Scenarios that were not proven optimal and verified (never reported as money)."""
        return int(self.results["status"].isin(BAD_STATUSES).sum())


# -- solving one chunk (runs in workers) ------------------------------------------------------

_LOCAL = threading.local()  # engines per thread: a HiGHS instance is never shared


def _engine(territory: Territory, task: Task) -> Engine:
    cache: dict[tuple[Any, ...], Engine] = _LOCAL.__dict__.setdefault("engines", {})
    key = (
        task.territory_key,
        repr(task.structure),
        task.support_price,
        task.time_limit,
        task.solver_options,
    )
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = Engine(territory, task.structure, task.support_price, task.config)
    return cache[key]


@dataclass(frozen=True)
class Chunk:
    """A solved chunk: its raw answers (what is stored) and its rows of the results table."""

    solution: Solution
    table: pd.DataFrame


def solve_chunk(territory: Territory, task: Task) -> Chunk:
    """Solve and verify one chunk."""
    money = territory.money(task.price)
    n = len(task.price)
    status = np.full(n, "optimal", dtype=object)
    x = np.full((n, len(territory.cells)), np.nan)
    centre = np.full(n, np.nan)
    solves = np.zeros(n, dtype=np.int64)
    has_revenue = money.revenue > 0
    status[~has_revenue] = "no revenue"
    todo = np.flatnonzero(has_revenue)
    if task.applicable:
        status[:] = "not applicable"
        todo = todo[:0]
    elif task.structure.objective == "nash" or task.solver != "highs" or task.cross_check:
        # the engine is HiGHS alone; another solver, or a second one to agree, is optimize's
        _solve_by_optimize(territory, task, todo, status, x, centre, solves)
    elif len(todo):
        solved = _engine(territory, task).solve(_rows(money, todo))
        x[todo], centre[todo], solves[todo] = solved.cells_usd, solved.centre_usd, solved.stages
        status[todo] = [STATUS_TEXT.get(s, "not optimal") for s in solved.status]
        stuck = todo[status[todo] == "not optimal"]
        if len(stuck):  # numerical trouble in place: solve those afresh, as optimize does
            _solve_by_optimize(territory, task, stuck, status, x, centre, solves)
    ok = status == "optimal"
    x[ok], centre[ok] = conserve_many(x[ok], centre[ok], money.revenue[ok])
    passed, violation, _ = _verify(territory, task, money, status, x, centre)
    status[ok & ~passed] = "not verified"
    ok = status == "optimal"
    x[~ok], centre[~ok] = np.nan, np.nan
    solution = Solution(
        task.index, task.scenario, task.period, task.price, status, solves, centre, x
    )
    return Chunk(solution, _table(territory, task, money, status, x, centre, solves, violation))


def _verify(
    territory: Territory,
    task: Task,
    money: Money,
    status: np.ndarray,
    x: np.ndarray,
    centre: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The independent verification of the optimal rows, in one batch: whether each row passed
    (True where not optimal), its largest violation in USD (NaN where not optimal) and, for each
    row that failed, which rule and by how much."""
    ok = status == "optimal"
    passed = np.ones(len(status), dtype=bool)
    violation = np.full(len(status), np.nan)
    failures: list[str] = []
    if ok.any():
        rows = np.flatnonzero(ok)
        checked = verify_batch(
            territory,
            task.structure,
            _rows(money, rows),
            x[ok],
            centre[ok],
            VERIFY_RELATIVE[task.solver],
        )
        violation[ok] = checked.max_violation_usd
        passed[rows] = checked.ok
        failures = [
            f"scenario {task.scenario[r]!r} breaks {checked.worst[k]} by "
            f"{checked.max_violation_usd[k]:.6g} USD"
            for k, r in enumerate(rows)
            if not checked.ok[k]
        ]
    return passed, violation, failures


def resumed_chunk(territory: Territory, task: Task, solution: Solution) -> pd.DataFrame:
    """The rows of a chunk read back from disk, after the checks a fresh chunk passes.

    Its scenarios must be the task's, in order; each status must be possible (``no revenue``
    exactly where there is none, ``not applicable`` exactly where the structure does not fit);
    money only where optimal; and the money must pass the same verification as a fresh solve.

    Raises
    ------
    Damaged
        naming the first check that failed.
    """
    n = len(task.price)
    if len(solution.scenario) != n:
        raise Damaged(f"holds {len(solution.scenario)} scenario(s); the chunk has {n}")
    if (
        solution.scenario != task.scenario
        or not np.array_equal(solution.price, task.price)
        or not np.array_equal(solution.period, task.period, equal_nan=True)
    ):
        raise Damaged("does not hold this chunk's scenarios, periods and prices in order")
    money = territory.money(task.price)
    status = solution.status
    if task.applicable:
        expected = np.full(n, "not applicable", dtype=object)
        possible = status == expected
    else:
        none = money.revenue <= 0
        possible = np.where(none, status == "no revenue", np.isin(status, SOLVED_STATUSES))
    if not possible.all():
        i = int(np.flatnonzero(~possible)[0])
        raise Damaged(f"gives scenario {task.scenario[i]!r} the impossible status {status[i]!r}")
    ok = status == "optimal"
    x, centre = solution.cells_usd, solution.centre_usd
    finite = np.isfinite(x).all(axis=1) & np.isfinite(centre)
    blank = np.isnan(x).all(axis=1) & np.isnan(centre)
    if not np.where(ok, finite, blank).all():
        i = int(np.flatnonzero(~np.where(ok, finite, blank))[0])
        raise Damaged(f"has money that does not fit the status of scenario {task.scenario[i]!r}")
    passed, violation, failures = _verify(territory, task, money, status, x, centre)
    if not passed.all():
        raise Damaged(f"fails verification: {failures[0]}")
    return _table(territory, task, money, status, x, centre, solution.lp_solves, violation)


def _rows(money: Money, index: np.ndarray) -> Money:
    return Money(
        money.prices[index],
        money.revenue[index],
        money.region[index],
        money.bloc[index],
        money.outside[index],
    )


def _solve_by_optimize(
    territory: Territory,
    task: Task,
    todo: np.ndarray,
    status: np.ndarray,
    x: np.ndarray,
    centre: np.ndarray,
    solves: np.ndarray,
) -> None:
    """Scenarios solved by a fresh :func:`optimize` each: nash bargaining (its tangent cuts
    differ by price; about 30 times slower than the engine) and the rare scenario the engine
    could not prove optimal in place."""
    for i in todo:
        try:
            a = optimize(
                territory,
                task.structure,
                price=float(task.price[i]),
                solver=task.solver,
                cross_check=task.cross_check,
                time_limit=task.time_limit,
                solver_options=dict(task.solver_options),
            )
        except InfeasibleError:
            status[i] = "infeasible"
            continue
        except NotOptimalError:
            status[i] = "not optimal"
            continue
        x[i], centre[i] = a.cells["usd"].to_numpy(), a.centre_usd
        solves[i] += int(a.provenance["solver_stages"])
        status[i] = "optimal"


def _table(
    t: Territory,
    task: Task,
    money: Money,
    status: np.ndarray,
    x: np.ndarray,
    centre: np.ndarray,
    solves: np.ndarray,
    violation: np.ndarray,
) -> pd.DataFrame:
    cells = t.cells
    pop = cells["population"].to_numpy(dtype=float)
    regions = list(t.regions.index)
    labels = {
        "region": (cells["region"], regions),
        "faction": (cells["faction"], t.factions),
        "bloc": (cells["region"].map(t.regions["bloc"]), t.blocs),
    }
    x_region, x_bloc = (group_sums(x, *labels[k]) for k in ("region", "bloc"))
    producing = (money.region > 0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        retention = np.sum(x_region * producing, axis=1) / np.sum(money.region * producing, axis=1)
        per_head = x / pop
    columns: dict[str, Any] = {
        "structure": task.structure.name,
        **{k: v for k, v in task.point.items()},
        "scenario": list(task.scenario),
        "period": task.period,
        "price": task.price,
        "status": status,
        "lp_solves": solves,
        "revenue_usd": money.revenue,
        "centre_usd": centre,
        "gini": np.where(np.isfinite(centre), gini_rows(np.nan_to_num(per_head), pop), np.nan),
        "producing_retention": retention,
        "max_violation_usd": violation,
    }
    for kind, (label, names) in labels.items():
        heads = group_sums(pop, label, names)[0]
        values = group_sums(x, label, names) / heads
        columns.update({f"{kind}:{n}": values[:, j] for j, n in enumerate(names)})
    surplus = x_bloc - money.outside
    columns.update({f"surplus:{b}": surplus[:, j] for j, b in enumerate(t.blocs)})
    frame = pd.DataFrame(columns)
    frame.insert(0, "_task", task.index)
    return frame


# -- planning ---------------------------------------------------------------------------------


def fingerprint(territory: Territory) -> str:
    """A hash of the territory's tables: the same data gives the same sweep."""
    h = hashlib.sha256()
    for frame in (
        territory.regions,
        territory.cells,
        territory.fields.drop(columns="_line", errors="ignore"),
    ):
        h.update(frame.to_csv().encode())
    return h.hexdigest()


def plan(
    territory: Territory,
    structures: Sequence[str | Structure] | str,
    scenarios: pd.DataFrame | Sequence[float] | str,
    params: Sequence[str] | str = (),
    *,
    chunk_size: int = CHUNK_SIZE,
    time_limit: float | None = None,
    overrides: Sequence[str] | str = (),
    solver: str = "highs",
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
) -> tuple[list[Task], dict[str, Any]]:
    """The chunks of a sweep and the JSON spec that identifies it (for ``resume``).

    ``scenarios`` is a table (:func:`revshare.data.scenarios.as_scenarios`) or the prices
    themselves; a single string in ``params`` or ``overrides`` is one entry, not its letters."""
    scenarios = as_scenarios(scenarios)
    params, overrides = _entries(params, "params"), _entries(overrides, "overrides")
    _check_arguments(territory, structures, chunk_size, time_limit, solver_options)
    if scenarios.empty:
        raise InputError(Problem("scenarios", None, None, "E-USAGE", "no scenarios", "give prices"))
    check_prices(scenarios["price"].to_numpy(), territory, parameter="prices")
    options = tuple(
        sorted(SolverConfig(solver, time_limit, dict(solver_options or {})).options.items())
    )
    points = parameter_grid(list(params)) if params else [{}]
    chosen = [
        (apply_overrides(s, list(overrides)), lenient)
        for s, lenient in select(territory, structures)
    ]
    order = np.lexsort((np.arange(len(scenarios)), scenarios["price"].to_numpy()))
    scen = scenarios.iloc[order].reset_index(drop=True)
    support = float(scen["price"].max())
    key = fingerprint(territory)
    tasks: list[Task] = []
    described = []
    for base, lenient in chosen:
        for point in points:
            try:
                structure = apply_overrides(base, overrides_of(point))
            except InputError as exc:  # a grid point's value: the grid's parameter is at fault
                raise InputError([p._replace(file="params") for p in exc.problems]) from None
            misfit = check_applicable(structure, territory) if lenient else []
            reason = "; ".join(p.message for p in misfit)
            if not reason:
                reason = _fits(territory, structure, support, lenient)
            described.append(
                {"structure": repr(structure), "point": point, "not_applicable": reason}
            )
            for start in range(0, len(scen), chunk_size):
                part = scen.iloc[start : start + chunk_size]
                tasks.append(
                    Task(
                        len(tasks),
                        structure,
                        point,
                        tuple(part["scenario"].astype(str)),
                        part["period"].to_numpy(dtype=float),
                        part["price"].to_numpy(dtype=float),
                        support,
                        key,
                        time_limit,
                        reason,
                        solver,
                        options,
                        cross_check,
                    )
                )
    spec = {
        "format": FORMAT,
        "revshare": __version__,
        "territory": key,
        "structures": described,
        "parameters": sorted({k for p in points for k in p}),
        "scenarios": hashlib.sha256(scen.to_csv(index=False).encode()).hexdigest(),
        "scenario_count": len(scen),
        "chunk_size": chunk_size,
        "time_limit": time_limit,
        "solver": solver,
        "solver_options": dict(options),
        "cross_check": cross_check,
    }
    return tasks, spec


def _entries(value: Sequence[str] | str, where: str) -> list[str]:
    """``params`` or ``overrides`` as a list of strings (a single string is one entry)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
        raise wrong_type(
            where, "a list of PARAM=... strings", value, "pass e.g. ['derivation=0.1']"
        )
    return list(items)


def _check_arguments(
    territory: object,
    structures: object,
    chunk_size: object,
    time_limit: object,
    solver_options: object,
) -> None:
    """Each argument of the wrong type, as an InputError naming its parameter, before any of
    them is used (a user's plain mistake is never an AttributeError from deep inside)."""
    require_territory(territory)
    require_structures(structures)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise wrong_type("chunk_size", "a whole number", chunk_size, "pass 1 or more")
    if chunk_size < 1:
        raise InputError(
            Problem("chunk_size", None, None, "E-USAGE", "must be >= 1", "pass 1 or more")
        )
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, int | float | np.number)
    ):
        raise wrong_type("time_limit", "seconds as a number", time_limit, "pass e.g. 60")
    if solver_options is not None and not isinstance(solver_options, Mapping):
        raise wrong_type(
            "solver_options",
            "a mapping of option names to values",
            solver_options,
            "pass e.g. {'presolve': 'on'}",
        )


def _fits(territory: Territory, structure: Structure, price: float, lenient: bool) -> str:
    """Build the model once in the parent, so that bad data or a misfit is reported before any
    worker starts; under "all" a misfit becomes "not applicable"."""
    if float(territory.field_revenue(price).sum()) <= 0:
        return ""  # every scenario has no revenue; each is marked so
    try:
        build_model(territory, structure, price, parametric=True)
    except InputError as exc:
        if lenient:
            return "; ".join(p.message for p in exc.problems)
        raise
    return ""


# -- running ----------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def sweep(
    territory: Territory,
    structures: Sequence[str | Structure] | str,
    scenarios: pd.DataFrame | Sequence[float] | str,
    *,
    params: Sequence[str] | str = (),
    workers: int | None = None,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    chunk_size: int = CHUNK_SIZE,
    time_limit: float | None = None,
    overrides: Sequence[str] | str = (),
    solver: str = "highs",
    solver_options: Mapping[str, Any] | None = None,
    cross_check: bool = False,
    progress: Progress | None = None,
    notice: Callable[[str], None] | None = None,
) -> SweepResult:
    """Solve every structure at every scenario (and parameter point).

    Parameters
    ----------
    scenarios : a table with ``scenario``, ``period`` and ``price`` (:mod:`revshare.data.scenarios`),
        or the prices themselves as :func:`revshare.price_grid` takes them (``[60, 80]``,
        ``"30:130:5"``).
    params : ``PARAM=START:STOP:STEP`` grids; several make their product.
    workers : local processes; by default (and with 1) the sweep runs in this process, which
        works anywhere. More than 1 starts worker processes, which import the main script
        again: call ``sweep`` from a script under ``if __name__ == "__main__":``.
    scheduler : a Dask scheduler address or ``distributed.Client``; replaces ``workers``.
    out : a folder: chunks are streamed there as they finish (no report is written here).
    resume : continue the sweep in ``out``, solving only its missing chunks; every chunk read
        back is checked as a fresh one is, and one that fails is solved again.
    overrides : ``PARAM=VALUE`` strings applied to every structure before ``params``.
    solver, time_limit, solver_options, cross_check : as :func:`revshare.optimize` takes them;
        HiGHS alone solves in place by price (fast), another solver or a cross-check solves each
        scenario with :func:`revshare.optimize`.
    progress : called with (scenarios done, scenarios in all) as chunks finish.
    notice : called with one line for each chunk that ``resume`` found damaged and solves
        again; the lines are also in ``provenance["notices"]``.

    Raises
    ------
    InputError
        for bad scenarios, parameters or structures, an argument of the wrong type
        (``E-TYPE``, naming the parameter), an output folder holding another sweep, an
        unknown scheduler, ``workers`` below 1, or worker processes started from the top level
        of a script (``E-MAIN-GUARD``).
    """
    started = time.perf_counter()
    if resume and out is None:
        raise InputError(
            Problem(
                "resume",
                None,
                None,
                "E-USAGE",
                "there is nothing to resume without `out`",
                "pass `out=DIR`",
            )
        )
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1
    ):
        raise InputError(
            Problem(
                "workers",
                None,
                None,
                "E-USAGE",
                f"must be a whole number, 1 or more; got {workers!r}",
                "pass 1 to solve in this process, or the number of worker processes",
            )
        )
    tasks, spec = plan(
        territory,
        structures,
        scenarios,
        params,
        chunk_size=chunk_size,
        time_limit=time_limit,
        overrides=overrides,
        solver=solver,
        solver_options=solver_options,
        cross_check=cross_check,
    )
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    folder = None
    if out is not None:
        folder = SweepFolder(Path(out), digest, spec, len(territory.cells), resume, force)
    notices: list[str] = []

    def tell(line: str) -> None:
        notices.append(line)
        if notice:
            notice(line)

    done = _resume(territory, tasks, folder, tell) if folder and resume else {}
    total = sum(len(t.price) for t in tasks)
    count = sum(len(f) for f in done.values())
    if progress:
        progress(count, total)
    todo = [t for t in tasks if t.index not in done]
    workers = workers or 1
    executor = "inline"
    if scheduler is not None:
        executor = "dask"
    elif workers > 1 and len(todo) > 1:
        executor = f"{min(workers, len(todo))} processes"
    for chunk in _execute(territory, todo, workers, scheduler):
        index = chunk.solution.task
        done[index] = chunk.table
        if folder:
            folder.save(chunk.solution)
        count += len(chunk.table)
        if progress:
            progress(count, total)
    results = pd.concat([done[t.index] for t in tasks], ignore_index=True).drop(columns="_task")
    parameters = list(spec["parameters"])
    seconds = time.perf_counter() - started
    result = summarise(
        results,
        territory,
        parameters,
        spec,
        {
            "executor": executor,
            "seconds": seconds,
            "scenarios_solved_now": sum(len(t.price) for t in todo),
            "resumed_chunks": len(tasks) - len(todo),
            "chunks": len(tasks),
            "lp_solves": int(results["lp_solves"].sum()),
            "dataset": territory.name,
            "inputs": dict(territory.provenance.get("inputs", {})),
            "notices": notices,
        },
    )
    return result


def _resume(
    territory: Territory,
    tasks: list[Task],
    folder: SweepFolder,
    tell: Callable[[str], None],
) -> dict[int, pd.DataFrame]:
    """The rows of every chunk already in ``folder`` that passes every check; each chunk file
    that fails one is reported through ``tell`` and left to be solved again."""
    done = {}
    for task in tasks:
        path = folder.path(task.index)
        try:
            solution = folder.load(task.index)
            if solution is None:
                continue
            done[task.index] = resumed_chunk(territory, task, solution)
        except Damaged as why:
            tell(f"notice: {path}: {why}; solving this chunk again")
    for path in folder.strays(t.index for t in tasks):
        tell(f"notice: {path}: is not a chunk of this sweep; ignored")
    return done


def _execute(
    territory: Territory, tasks: list[Task], workers: int, scheduler: Any
) -> Iterator[Chunk]:
    """Each chunk as it finishes, by the chosen executor."""
    if not tasks:
        return
    if scheduler is not None:
        yield from _execute_dask(territory, tasks, scheduler)
    elif workers <= 1 or len(tasks) == 1:
        for task in tasks:
            yield solve_chunk(territory, task)
    else:
        yield from pool.run(solve_chunk, territory, tasks, workers)


def _execute_dask(territory: Territory, tasks: list[Task], scheduler: Any) -> Iterator[Chunk]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            Problem(
                "scheduler",
                None,
                None,
                "E-USAGE",
                "Dask distributed is not installed",
                "pip install 'revshare[dask]', or drop `scheduler` to use local cores",
            )
        ) from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout="10s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise InputError(
            Problem(
                "scheduler",
                None,
                None,
                "E-SCHEDULER",
                f"cannot reach the Dask scheduler at {scheduler!r}: {exc}",
                "check the address (tcp://HOST:8786) and that the scheduler runs",
            )
        ) from None
    try:
        shared = client.scatter(territory, broadcast=True)
        futures = [client.submit(solve_chunk, shared, task, pure=False) for task in tasks]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
    finally:
        if own:
            client.close()


# -- summaries --------------------------------------------------------------------------------

PERCENTILES = (5, 25, 50, 75, 95)


def summarise(
    results: pd.DataFrame,
    territory: Territory,
    parameters: list[str],
    spec: Mapping[str, Any],
    provenance: Mapping[str, Any],
) -> SweepResult:
    """Percentiles of money per head, the risk of falling below the outside option, and the
    share of scenarios in each status, per structure and parameter point."""
    keys = ["structure", *parameters]
    ok = results[results["status"] == "optimal"]
    rows = []
    for kind, names in (("faction", territory.factions), ("bloc", territory.blocs)):
        for name in names:
            column = f"{kind}:{name}"
            for key, part in ok.groupby(keys, sort=False)[column]:
                values = part.to_numpy()
                q = np.percentile(values, PERCENTILES)
                rows.append(
                    {
                        **dict(zip(keys, _tuple(key), strict=True)),
                        "group_kind": kind,
                        "group": name,
                        "scenarios": len(values),
                        "mean": float(values.mean()),
                        **{f"p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)},
                    }
                )
    columns = [*keys, "group_kind", "group", "scenarios", "mean", *(f"p{p}" for p in PERCENTILES)]
    summary = pd.DataFrame(rows, columns=columns)
    tol = 1e-6 * results["revenue_usd"].abs()
    risk_rows = []
    for key, part in results.groupby(keys, sort=False):
        solved = part["status"] == "optimal"
        for b in territory.blocs:
            below = (part[f"surplus:{b}"] < -tol[part.index]) & solved
            risk_rows.append(
                {
                    **dict(zip(keys, _tuple(key), strict=True)),
                    "bloc": b,
                    "scenarios": int(solved.sum()),
                    "p_below_outside_option": float(below.sum() / solved.sum())
                    if solved.any()
                    else float("nan"),
                }
            )
    risk = pd.DataFrame(risk_rows)
    statuses = ["optimal", "infeasible", "no revenue", "not applicable", *BAD_STATUSES]
    share = (
        results.groupby(keys, sort=False)["status"]
        .value_counts(normalize=True)
        .unstack(fill_value=0.0)
        .reindex(columns=statuses, fill_value=0.0)
    )
    share.columns = [f"share_{s.replace(' ', '_')}" for s in share.columns]
    counts = results.groupby(keys, sort=False).size().rename("scenarios")
    structures = pd.concat([counts, share], axis=1).reset_index()
    return SweepResult(results, summary, risk, structures, parameters, spec, dict(provenance))


def _tuple(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)
