"""A sweep's output folder: ``sweep.json`` says which sweep it holds, ``chunks/`` what it solved.

Each finished chunk is one file, ``chunks/NNNNNN.json``, holding the chunk's raw answers (see
:class:`Solution`), and beside it ``NNNNNN.json.sha256`` (the format of ``sha256sum``), written
atomically after the chunk. A chunk is read back only when its digest matches, it names this
sweep and this chunk, and its table has the expected shape; :mod:`revshare.analyses.sweep` then checks its
scenarios and re-verifies its money against the data, as for a fresh solve. Anything else is
:class:`Damaged`, and the sweep solves that chunk again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import check_outputs, plain, write_atomic
from ..errors import InputError, Problem

FORMAT = 2  # of sweep.json and the chunk files
CHUNKS = "chunks"  # the folder of chunk files inside a sweep's output folder
REPORT_FILES = (
    "scenarios.csv",
    "summary.csv",
    "risk.csv",
    "structures.csv",
    "summary.json",
    "report.md",
    "report.html",
    "manifest.json",
)
FIXED_COLUMNS = ("scenario", "period", "price", "status", "lp_solves", "centre_usd")
STATUSES = ("optimal", "infeasible", "no revenue", "not applicable", "not optimal", "not verified")


@dataclass(frozen=True)
class Solution:
    """One chunk's raw answers, one entry per scenario in the chunk's order.

    Every other column of the results (money per head, surpluses, Gini, retention, the
    verification) is derived from these and the data, so a resumed chunk is checked like a
    fresh one. ``centre_usd`` and ``cells_usd`` are NaN unless the status is ``optimal``.
    """

    task: int
    scenario: tuple[str, ...]
    period: np.ndarray
    price: np.ndarray
    status: np.ndarray  # of str
    lp_solves: np.ndarray  # of int
    centre_usd: np.ndarray
    cells_usd: np.ndarray  # scenarios x cells


class Damaged(Exception):
    """A chunk file that cannot be trusted; ``str()`` says why."""


class SweepFolder:
    """The output folder of one sweep: ``sweep.json`` (what the sweep is) and its chunks."""

    def __init__(
        self,
        folder: Path,
        digest: str,
        spec: Mapping[str, Any],
        cells: int,
        resume: bool,
        force: bool,
    ):
        self.folder, self.digest, self.cells = folder, digest, cells
        self.chunks = folder / CHUNKS
        meta = folder / "sweep.json"
        if folder.exists() and not folder.is_dir():
            raise _output(folder, "exists and is not a directory", "choose another `out`")
        if self.chunks.is_symlink():
            raise _output(
                self.chunks,
                "is a symbolic link; revshare does not write through links",
                "remove it",
            )
        existing = _read_json(meta)
        if resume:
            if existing is None:
                raise _output(meta, "there is no sweep to resume here", "run without `resume=True`")
            if existing.get("digest") != digest:
                raise _output(
                    meta,
                    "this folder holds a different sweep (other data, structures, scenarios, "
                    "parameters, chunk size or revshare version)",
                    "resume with the same inputs, pass `force=True` to start over, or choose another `out`",
                )
        elif (existing is not None or self.chunks.exists()) and not force:
            raise _output(
                meta,
                "a sweep is already here",
                "pass `resume=True` to continue it, `force=True` to start over, or choose another `out`",
            )
        elif force and self.chunks.exists():
            shutil.rmtree(self.chunks)
        if not resume:  # another command's reports are never replaced without --force
            problems = check_outputs(folder, REPORT_FILES, force)
            if problems:
                raise InputError(problems)
        self.chunks.mkdir(parents=True, exist_ok=True)
        if not resume:
            write_atomic(meta, _json({"format": FORMAT, "digest": digest, "spec": spec}))

    def path(self, index: int) -> Path:
        return self.chunks / f"{index:06d}.json"

    def save(self, solution: Solution) -> None:
        """Write the chunk, then its digest: a chunk without its digest is solved again."""
        path = self.path(solution.task)
        columns = [*FIXED_COLUMNS, *(f"cell:{j}" for j in range(self.cells))]
        rows = [
            [
                solution.scenario[i],
                plain(solution.period[i]),
                plain(solution.price[i]),
                str(solution.status[i]),
                int(solution.lp_solves[i]),
                plain(solution.centre_usd[i]),
                *(plain(v) for v in solution.cells_usd[i]),
            ]
            for i in range(len(solution.scenario))
        ]
        doc = {
            "format": FORMAT,
            "digest": self.digest,
            "task": solution.task,
            "columns": columns,
            "rows": rows,
        }
        data = _json(doc)
        write_atomic(path, data)
        write_atomic(_digest_path(path), _digest_line(path, data))

    def load(self, index: int) -> Solution | None:
        """Chunk ``index`` as written by this sweep, or ``None`` when it was not written.

        Raises
        ------
        Damaged
            when the file cannot be trusted (changed since it was written, without its digest,
            unreadable, of another sweep or chunk, or of the wrong shape).
        """
        path = self.path(index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Damaged(f"cannot be read ({exc.strerror})") from None
        try:
            recorded = _digest_path(path).read_bytes()
        except OSError:
            raise Damaged("has no recorded SHA-256 digest (it was never completed)") from None
        if recorded != _digest_line(path, data):
            raise Damaged("has changed since it was written (its SHA-256 digest differs)")
        return self._decode(index, data)

    def strays(self, indices: Iterable[int]) -> list[Path]:
        """Chunk files whose name is no chunk of this sweep (they are never read)."""
        wanted = {self.path(i).name for i in indices}
        return sorted(p for p in self.chunks.glob("*.json") if p.name not in wanted)

    def _decode(self, index: int, data: bytes) -> Solution:
        try:
            doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError):
            raise Damaged("is not valid JSON (truncated or damaged)") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise Damaged("is not a chunk file of this revshare version")
        if doc.get("digest") != self.digest:
            raise Damaged("belongs to another sweep")
        if doc.get("task") != index:
            raise Damaged(f"holds chunk {doc.get('task')!r}, not chunk {index}")
        columns = [*FIXED_COLUMNS, *(f"cell:{j}" for j in range(self.cells))]
        rows = doc.get("rows")
        if doc.get("columns") != columns or not isinstance(rows, list):
            raise Damaged("does not have the columns of this sweep's chunks")
        if not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
            raise Damaged("has a row of the wrong length")
        try:
            scenario = tuple(_text(r[0]) for r in rows)
            status = np.array([_status(r[3]) for r in rows], dtype=object)
            solves = np.array([_count(r[4]) for r in rows], dtype=np.int64)
            numbers = np.array(
                [[_number(v) for v in (r[1], r[2], *r[5:])] for r in rows], dtype=float
            ).reshape(len(rows), len(columns) - 3)
        except (TypeError, ValueError) as exc:
            raise Damaged(f"has a cell of the wrong kind ({exc})") from None
        return Solution(
            index,
            scenario,
            numbers[:, 0],
            numbers[:, 1],
            status,
            solves,
            numbers[:, 2],
            numbers[:, 3:],
        )


def remove_chunks(folder: str | Path) -> None:
    """Delete ``chunks/`` of the sweep folder ``folder`` (once its reports hold everything the
    chunks had)."""
    shutil.rmtree(Path(folder) / CHUNKS, ignore_errors=True)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"scenario {value!r} is not text")
    return value


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"unknown status {value!r}")
    return str(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"LP solve count {value!r} is not a count")
    return value


def _number(value: Any) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not strict JSON")


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _digest_line(path: Path, data: bytes) -> bytes:
    """What ``sha256sum`` prints for the file (so ``sha256sum -c`` can check it too)."""
    return f"{hashlib.sha256(data).hexdigest()}  {path.name}\n".encode()


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
