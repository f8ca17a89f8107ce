"""Sweeps: many prices (and parameter values) for many structures, fast, resumable, in parallel.

A sweep is split into *chunks*: for each structure and parameter point, its scenarios sorted by
price and cut every ``chunk_size``. A chunk is solved by one :class:`revshare.engine.Engine`
(built once per process and structure) and verified in one batch
(:func:`revshare.verify.verify_batch`), so its numbers depend only on the chunk: the same on one
worker, many, or a Dask cluster.

With an output folder each finished chunk is written at once (atomically) under ``chunks/``, and
``sweep.json`` records what the sweep is; ``resume=True`` re-runs only the missing chunks of the
same sweep, so an interrupted sweep loses nothing and repeats nothing.

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
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .compare import select
from .dataset import Money, Territory, indicator_matrix
from .engine import Engine
from .errors import InfeasibleError, InputError, NotOptimalError, Problem
from .metrics import gini_rows
from .model import build_model, check_names
from .optimize import VERIFY_RELATIVE, conserve_many, optimize
from .reports.safe import check_outputs, plain, write_atomic
from .scenarios import overrides_of, parameter_grid
from .solve import SolverConfig, Status
from .structures import Structure, apply_overrides
from .verify import verify_batch

CHUNK_SIZE = 1000
SWEEP_FILES = (
    "scenarios.csv",
    "summary.csv",
    "risk.csv",
    "structures.csv",
    "summary.json",
    "report.md",
    "report.html",
    "manifest.json",
)
FORMAT = 1  # of sweep.json and the chunk files
STATUS_TEXT = {
    Status.OPTIMAL: "optimal",
    Status.INFEASIBLE: "infeasible",
}
BAD_STATUSES = ("not optimal", "not verified")


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


@dataclass(frozen=True)
class SweepResult:
    """All scenarios' results and their summaries (see :mod:`revshare.sweep`)."""

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
    cache: dict[tuple[str, str, float, float | None], Engine] = _LOCAL.__dict__.setdefault(
        "engines", {}
    )
    key = (task.territory_key, repr(task.structure), task.support_price, task.time_limit)
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        config = SolverConfig("highs", task.time_limit)
        cache[key] = Engine(territory, task.structure, task.support_price, config)
    return cache[key]


def solve_chunk(territory: Territory, task: Task) -> pd.DataFrame:
    """Solve and verify one chunk; returns its rows of the results table."""
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
    elif task.structure.objective == "nash":
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
    violation = np.full(n, np.nan)
    if ok.any():
        checked = verify_batch(
            territory,
            task.structure,
            _rows(money, np.flatnonzero(ok)),
            x[ok],
            centre[ok],
            VERIFY_RELATIVE["highs"],
        )
        violation[ok] = checked.max_violation_usd
        status[np.flatnonzero(ok)[~checked.ok]] = "not verified"
    ok = status == "optimal"
    x[~ok], centre[~ok] = np.nan, np.nan
    return _table(territory, task, money, status, x, centre, solves, violation)


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
                territory, task.structure, price=float(task.price[i]), time_limit=task.time_limit
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
    by_region = indicator_matrix(cells["region"], regions)
    by_faction = indicator_matrix(cells["faction"], t.factions)
    by_bloc = indicator_matrix(cells["region"].map(t.regions["bloc"]), t.blocs)
    x_region, x_bloc = x @ by_region, x @ by_bloc
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
    for kind, names, matrix in (
        ("region", regions, by_region),
        ("faction", t.factions, by_faction),
        ("bloc", t.blocs, by_bloc),
    ):
        heads = pop @ matrix
        values = (x @ matrix) / heads
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
    scenarios: pd.DataFrame,
    params: Sequence[str] = (),
    *,
    chunk_size: int = CHUNK_SIZE,
    time_limit: float | None = None,
) -> tuple[list[Task], dict[str, Any]]:
    """The chunks of a sweep and the JSON spec that identifies it (for ``--resume``)."""
    if chunk_size < 1:
        raise InputError(
            Problem("--chunk-size", None, None, "E-USAGE", "must be >= 1", "pass 1 or more")
        )
    if scenarios.empty:
        raise InputError(Problem("--prices", None, None, "E-USAGE", "no scenarios", "give prices"))
    points = parameter_grid(list(params)) if params else [{}]
    chosen = select(territory, structures)
    order = np.lexsort((np.arange(len(scenarios)), scenarios["price"].to_numpy()))
    scen = scenarios.iloc[order].reset_index(drop=True)
    support = float(scen["price"].max())
    key = fingerprint(territory)
    tasks: list[Task] = []
    described = []
    for base, lenient in chosen:
        misfit = check_names(territory, base) if lenient else []
        for point in points:
            structure = apply_overrides(base, overrides_of(point))
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
    }
    return tasks, spec


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
    scenarios: pd.DataFrame,
    *,
    params: Sequence[str] = (),
    workers: int | None = None,
    scheduler: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    chunk_size: int = CHUNK_SIZE,
    time_limit: float | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Solve every structure at every scenario (and parameter point).

    Parameters
    ----------
    scenarios : a table with ``scenario``, ``period`` and ``price`` (:mod:`revshare.scenarios`).
    params : ``PARAM=START:STOP:STEP`` grids; several make their product.
    workers : local processes (default: every core); 1 solves in this process.
    scheduler : a Dask scheduler address or ``distributed.Client``; replaces ``workers``.
    out : a folder: chunks are streamed there as they finish, then the reports are written.
    resume : continue the sweep in ``out``, solving only its missing chunks.
    progress : called with (scenarios done, scenarios in all) as chunks finish.

    Raises
    ------
    InputError
        for bad scenarios, parameters or structures, an output folder holding another sweep, or
        an unknown scheduler.
    """
    started = time.perf_counter()
    if resume and out is None:
        raise InputError(
            Problem(
                "--resume",
                None,
                None,
                "E-USAGE",
                "there is nothing to resume without --out",
                "pass --out DIR",
            )
        )
    tasks, spec = plan(
        territory, structures, scenarios, params, chunk_size=chunk_size, time_limit=time_limit
    )
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    store = _Store(Path(out), digest, spec, resume, force) if out is not None else None
    done: dict[int, pd.DataFrame] = store.load() if store else {}
    total = sum(len(t.price) for t in tasks)
    count = sum(len(f) for f in done.values())
    if progress:
        progress(count, total)
    todo = [t for t in tasks if t.index not in done]
    workers = workers or os.cpu_count() or 1
    executor = "inline"
    if scheduler is not None:
        executor = "dask"
    elif workers > 1 and len(todo) > 1:
        executor = f"{min(workers, len(todo))} processes"
    for frame in _execute(territory, todo, workers, scheduler):
        index = int(frame["_task"].iloc[0])
        done[index] = frame
        if store:
            store.save(index, frame)
        count += len(frame)
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
        },
    )
    if store and not result.failed:  # reports hold proven, verified optima only
        from .reports.sweep import write_sweep_reports

        write_sweep_reports(result, store.folder)
    return result


def _execute(
    territory: Territory, tasks: list[Task], workers: int, scheduler: Any
) -> Iterator[pd.DataFrame]:
    """Each chunk's results as it finishes, by the chosen executor."""
    if not tasks:
        return
    if scheduler is not None:
        yield from _execute_dask(territory, tasks, scheduler)
    elif workers <= 1 or len(tasks) == 1:
        for task in tasks:
            yield solve_chunk(territory, task)
    else:
        context = multiprocessing.get_context("spawn")  # HiGHS threads do not survive a fork
        pool = ProcessPoolExecutor(
            min(workers, len(tasks)),
            mp_context=context,
            initializer=_set_territory,
            initargs=(territory,),
        )
        try:
            futures = [pool.submit(_solve_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


_TERRITORY: Territory | None = None


def _set_territory(territory: Territory) -> None:
    global _TERRITORY
    _TERRITORY = territory


def _solve_in_worker(task: Task) -> pd.DataFrame:
    assert _TERRITORY is not None
    return solve_chunk(_TERRITORY, task)


def _execute_dask(
    territory: Territory, tasks: list[Task], scheduler: Any
) -> Iterator[pd.DataFrame]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            Problem(
                "--scheduler",
                None,
                None,
                "E-USAGE",
                "Dask distributed is not installed",
                "pip install 'revshare[dask]', or drop --scheduler to use local cores",
            )
        ) from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout="10s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise InputError(
            Problem(
                "--scheduler",
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


# -- storage ----------------------------------------------------------------------------------


class _Store:
    """``sweep.json`` and one JSON file per finished chunk, each written atomically."""

    def __init__(
        self, folder: Path, digest: str, spec: Mapping[str, Any], resume: bool, force: bool
    ):
        self.folder, self.digest = folder, digest
        self.chunks = folder / "chunks"
        meta = folder / "sweep.json"
        if folder.exists() and not folder.is_dir():
            raise _output(folder, "exists and is not a directory", "choose another --out")
        existing = _read_json(meta)
        if resume:
            if existing is None:
                raise _output(meta, "there is no sweep to resume here", "run without --resume")
            if existing.get("digest") != digest:
                raise _output(
                    meta,
                    "this folder holds a different sweep (other data, structures, scenarios, "
                    "parameters or chunk size)",
                    "resume with the same inputs, pass --force to start over, or choose another --out",
                )
        elif (existing is not None or self.chunks.exists()) and not force:
            raise _output(
                meta,
                "a sweep is already here",
                "pass --resume to continue it, --force to start over, or choose another --out",
            )
        elif force and self.chunks.exists():
            for old in [*self.chunks.glob("*.json"), *self.chunks.glob(".tmp-*")]:
                old.unlink()
        if not resume:  # another command's reports are never replaced without --force
            problems = check_outputs(folder, SWEEP_FILES, force)
            if problems:
                raise InputError(problems)
        self.chunks.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_atomic(meta, _json({"format": FORMAT, "digest": digest, "spec": spec}))

    def load(self) -> dict[int, pd.DataFrame]:
        """The chunks already finished by this sweep; a damaged file is solved again."""
        out = {}
        for path in sorted(self.chunks.glob("*.json")):
            doc = _read_json(path)
            if not doc or doc.get("digest") != self.digest:
                continue
            try:
                frame = pd.DataFrame(doc["rows"], columns=doc["columns"])
                frame = frame.astype({c: float for c in doc["float_columns"]})
                out[int(doc["task"])] = frame
            except (KeyError, TypeError, ValueError):
                continue  # damaged: solved again
        return out

    def save(self, index: int, frame: pd.DataFrame) -> None:
        floats = [c for c in frame.columns if frame[c].dtype.kind == "f"]
        rows = frame.astype(object).where(frame.notna(), None).values.tolist()
        doc = {
            "digest": self.digest,
            "task": index,
            "columns": list(frame.columns),
            "float_columns": floats,
            "rows": rows,
        }
        write_atomic(self.chunks / f"{index:06d}.json", _json(doc))


def _json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, allow_nan=False, ensure_ascii=False, default=plain).encode()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _output(path: Path, message: str, remedy: str) -> InputError:
    return InputError(Problem(str(path), None, None, "E-OUTPUT", message, remedy))


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
