"""Sweeps that cannot be fooled or left half-dead (issue 11, classes 5, 18 and 19; issue 15).

- A resumed chunk is trusted no more than a fresh one: every way of damaging a chunk file is
  caught (by its digest, and where the edit is checkable, by the checks a fresh chunk passes even
  when the digest was forged), and the chunk is solved again with a notice.
- Every error crosses a process boundary whole; Ctrl-C prints no traceback and exits 130; a
  killed parent leaves no worker behind.
- ``revshare.sweep`` works from a plain script, and says at once what to do when worker
  processes would re-run it.
- A complete sweep removes its ``chunks/`` unless asked to keep them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import revshare
from cli import main
from revshare.analyses import pool
from revshare.analyses.explain import Explanation
from revshare.analyses.sweep import plan, solve_chunk
from revshare.data.scenarios import price_grid
from revshare.errors import (
    InfeasibleError,
    InputError,
    Problem,
    RevshareError,
    SolverUnavailableError,
)
from revshare.reports.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
NAMES = ["federation", "partition"]
GRID = "30:130:10"  # 11 prices: chunks of 4, 4 and 3 for each of the two structures
CHUNK = 4
CHUNKS = 6


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def fresh(iraq) -> pd.DataFrame:
    return sweep(iraq, NAMES, price_grid(GRID), chunk_size=CHUNK).results


def _without_reports(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(...)`` with the sweep's reports (slow charts) not written: chunks are what counts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("revshare.reports.sweep.write_sweep_reports", lambda result, folder: None)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def pristine(iraq, tmp_path_factory) -> Path:
    """A complete sweep's folder with every chunk kept."""
    out = tmp_path_factory.mktemp("pristine") / "sweep"
    _without_reports(
        sweep, iraq, NAMES, price_grid(GRID), chunk_size=CHUNK, out=out, keep_chunks=True
    )
    assert len(list((out / "chunks").glob("*.json"))) == CHUNKS
    return out


@pytest.fixture(scope="module")
def other_sweep(iraq, tmp_path_factory) -> Path:
    """The same structures and chunk size over other prices: another sweep's chunks."""
    out = tmp_path_factory.mktemp("other") / "sweep"
    grid = price_grid("35:135:10")
    _without_reports(sweep, iraq, NAMES, grid, chunk_size=CHUNK, out=out, keep_chunks=True)
    return out


def _resume(
    t: revshare.Territory, out: Path, reports: bool = False
) -> tuple[revshare.SweepResult, list[str]]:
    """Resume the sweep in ``out``; its reports (slow charts) only when asked for."""
    notices: list[str] = []
    r = (sweep if reports else partial(_without_reports, sweep))(
        t,
        NAMES,
        price_grid(GRID),
        chunk_size=CHUNK,
        out=out,
        resume=True,
        keep_chunks=True,
        notice=notices.append,
    )
    return r, notices


# -- class 5: resumed chunks ---------------------------------------------------------------------


def _row(doc: dict[str, Any], i: int, column: str, change: Callable[[Any], Any]) -> dict[str, Any]:
    j = doc["columns"].index(column)
    doc["rows"][i][j] = change(doc["rows"][i][j])
    return doc


def _swap_rows(doc: dict[str, Any]) -> dict[str, Any]:
    doc["rows"][0], doc["rows"][1] = doc["rows"][1], doc["rows"][0]
    return doc


def _move_money(doc: dict[str, Any]) -> dict[str, Any]:
    """Move 1,000 USD between two cells: the budget still adds up."""
    _row(doc, 0, "cell:0", lambda v: v - 1000.0)
    return _row(doc, 0, "cell:1", lambda v: v + 1000.0)


def _drop_money(doc: dict[str, Any]) -> dict[str, Any]:
    """An optimal row made infeasible, its money removed: only the digest can tell."""
    _row(doc, 0, "status", lambda v: "infeasible")
    _row(doc, 0, "centre_usd", lambda v: None)
    for j in range(len(doc["columns"]) - 6):
        _row(doc, 0, f"cell:{j}", lambda v: None)
    return doc


# name: (the edit; whether it edits the file's bytes rather than its parsed document; whether the
# checks a fresh chunk passes catch it even when the digest was forged to match)
EDITS: dict[str, tuple[Callable[[Any], Any], bool, bool]] = {
    "the centre's money halved": (lambda d: _row(d, 0, "centre_usd", lambda v: v / 2), False, True),
    "a cell's money doubled": (lambda d: _row(d, 1, "cell:3", lambda v: 2 * v + 1e6), False, True),
    "money moved between cells": (_move_money, False, False),
    "a status: optimal to no revenue": (
        lambda d: _row(d, 0, "status", lambda v: "no revenue"),
        False,
        True,
    ),
    "a status: optimal to infeasible, money kept": (
        lambda d: _row(d, 0, "status", lambda v: "infeasible"),
        False,
        True,
    ),
    "a status: optimal to infeasible, money removed": (_drop_money, False, False),
    "a status unknown": (lambda d: _row(d, 0, "status", lambda v: "fine"), False, True),
    "a row deleted": (lambda d: {**d, "rows": d["rows"][1:]}, False, True),
    "a row added": (lambda d: {**d, "rows": [*d["rows"], d["rows"][-1]]}, False, True),
    "rows reordered": (_swap_rows, False, True),
    "a scenario renamed": (lambda d: _row(d, 0, "scenario", lambda v: v + "x"), False, True),
    "a price changed": (lambda d: _row(d, 2, "price", lambda v: v + 0.5), False, True),
    "a period changed": (lambda d: _row(d, 2, "period", lambda v: 7.0), False, True),
    "a solve count negative": (lambda d: _row(d, 0, "lp_solves", lambda v: -1), False, True),
    "a number as text": (lambda d: _row(d, 0, "cell:2", lambda v: str(v)), False, True),
    "a column renamed": (lambda d: {**d, "columns": ["name", *d["columns"][1:]]}, False, True),
    "another chunk's number": (lambda d: {**d, "task": 3}, False, True),
    "another sweep's digest": (lambda d: {**d, "digest": "0" * 64}, False, True),
    "an older format": (lambda d: {**d, "format": 1}, False, True),
    "NaN written for a number": (  # json.dumps writes NaN, which strict JSON has not
        lambda d: _row(d, 0, "centre_usd", lambda v: float("nan")),
        False,
        True,
    ),
    "truncated": (lambda b: b[: len(b) // 2], True, True),
    "emptied": (lambda b: b"", True, True),
    "not UTF-8": (lambda b: b"\xff\xfe" + b, True, True),
    "not an object": (lambda b: b"[1, 2, 3]", True, True),
}
CASES = [
    pytest.param(name, forged, id=f"{name}{' (digest forged)' if forged else ''}")
    for name, (_, _, caught) in EDITS.items()
    for forged in ([False, True] if caught else [False])
]


def _digest_line(path: Path) -> bytes:
    return f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n".encode()


@pytest.mark.parametrize(("name", "forged"), CASES)
def test_a_damaged_chunk_is_solved_again_with_a_notice(
    iraq, fresh, pristine, tmp_path, name, forged
):
    """Every edit of a chunk file is caught; with a forged digest, every edit the data can
    disprove still is. The resumed sweep then equals a fresh one exactly."""
    out = tmp_path / "sweep"
    shutil.copytree(pristine, out)
    target = out / "chunks" / "000000.json"
    edit, raw, _ = EDITS[name]
    data = target.read_bytes()
    changed = edit(data) if raw else json.dumps(edit(json.loads(data))).encode()
    assert changed != data
    target.write_bytes(changed)
    if forged:
        (out / "chunks" / "000000.json.sha256").write_bytes(_digest_line(target))
    r, notices = _resume(iraq, out, reports=name == "the centre's money halved")
    assert [n for n in notices if "000000.json" in n], notices
    assert all("solving this chunk again" in n for n in notices)
    assert r.provenance["resumed_chunks"] == CHUNKS - 1
    pd.testing.assert_frame_equal(r.results, fresh, check_exact=True)
    if name == "the centre's money halved":
        on_disk = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig")
        assert on_disk["centre_usd"].tolist() == pytest.approx(fresh["centre_usd"].tolist())


@pytest.mark.parametrize("forged", [False, True])
def test_a_chunk_of_another_sweep_or_another_chunk_is_solved_again(
    iraq, fresh, pristine, other_sweep, tmp_path, forged
):
    """Copied with its own digest file, or with a digest made for its new place."""
    for source in (other_sweep / "chunks" / "000000.json", pristine / "chunks" / "000001.json"):
        out = tmp_path / f"sweep-{source.parent.parent.parent.name}"
        shutil.copytree(pristine, out)
        target = out / "chunks" / "000000.json"
        shutil.copyfile(source, target)
        if forged:
            (out / "chunks" / "000000.json.sha256").write_bytes(_digest_line(target))
        else:
            shutil.copyfile(source.with_name(source.name + ".sha256"), str(target) + ".sha256")
        r, notices = _resume(iraq, out)
        assert len(notices) == 1 and "000000.json" in notices[0], notices
        assert r.provenance["resumed_chunks"] == CHUNKS - 1
        pd.testing.assert_frame_equal(r.results, fresh, check_exact=True)


def test_a_chunk_without_its_digest_is_solved_again(iraq, fresh, pristine, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(pristine, out)
    (out / "chunks" / "000002.json.sha256").unlink()
    r, notices = _resume(iraq, out)
    assert len(notices) == 1 and "000002.json" in notices[0] and "digest" in notices[0]
    assert r.provenance["resumed_chunks"] == CHUNKS - 1
    pd.testing.assert_frame_equal(r.results, fresh, check_exact=True)


def test_untouched_chunks_are_resumed_silently_and_strays_are_ignored(
    iraq, fresh, pristine, tmp_path
):
    out = tmp_path / "sweep"
    shutil.copytree(pristine, out)
    shutil.copyfile(out / "chunks" / "000001.json", out / "chunks" / "000099.json")
    r, notices = _resume(iraq, out)
    assert len(notices) == 1 and "000099.json" in notices[0] and "ignored" in notices[0]
    assert r.provenance["resumed_chunks"] == CHUNKS
    assert r.provenance["scenarios_solved_now"] == 0
    assert r.provenance["notices"] == notices
    pd.testing.assert_frame_equal(r.results, fresh, check_exact=True)


@settings(max_examples=15, deadline=None)
@given(
    chunk=st.integers(0, CHUNKS - 1),
    where=st.floats(0.0, 1.0, exclude_max=True),
    how=st.sampled_from(["flip", "delete", "insert"]),
    byte=st.integers(0, 255),
)
def test_any_byte_changed_in_any_chunk_never_changes_the_results(
    iraq, fresh, pristine, tmp_path_factory, chunk, where, how, byte
):
    """Property: whatever byte of whatever chunk file changes, the resumed sweep equals a fresh
    one, and a chunk whose bytes changed is reported."""
    out = tmp_path_factory.mktemp("bytes") / "sweep"
    shutil.copytree(pristine, out)
    target = out / "chunks" / f"{chunk:06d}.json"
    data = bytearray(target.read_bytes())
    at = int(where * len(data))
    if how == "flip":
        data[at] ^= byte or 1
    elif how == "delete":
        del data[at]
    else:
        data.insert(at, byte)
    target.write_bytes(bytes(data))
    r, notices = _resume(iraq, out)
    assert len(notices) == 1 and target.name in notices[0]
    pd.testing.assert_frame_equal(r.results, fresh, check_exact=True)


def test_cli_resume_of_a_chunk_with_the_centres_money_halved_reports_the_true_optimum(
    iraq, fresh, tmp_path
):
    """The issue's example, with the digest forged as well: exit 0 and the verified optimum."""
    out = tmp_path / "sweep"
    calls: list[int] = []

    def stop(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(iraq, NAMES, price_grid(GRID), chunk_size=CHUNK, out=out, progress=stop)
    target = out / "chunks" / "000000.json"
    doc = json.loads(target.read_text())
    target.write_text(json.dumps(_row(doc, 0, "centre_usd", lambda v: v / 2)))
    (out / "chunks" / "000000.json.sha256").write_bytes(_digest_line(target))
    args = ["sweep", str(DATA / "iraq"), "--structures", ",".join(NAMES), "--prices", GRID]
    args += ["--chunk-size", str(CHUNK), "--workers", "1", "--out", str(out), "--resume"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig")
    assert written["centre_usd"].tolist() == pytest.approx(fresh["centre_usd"].tolist(), rel=1e-12)
    report = (out / "report.md").read_text()
    assert "## Notices" in report and "000000.json" in report and "fails verification" in report


# -- class 18: errors from workers, Ctrl-C and killed parents -----------------------------------

EXPLANATION = Explanation([["budget", "floor"]], [["floor[Basra]"]], [], 12.5, False, ["x"], True)


def _instances(cls: type[RevshareError]) -> RevshareError:
    """An instance of ``cls`` with every attribute it can carry set."""
    if issubclass(cls, InputError):
        return cls(
            [
                Problem("regions.csv", 4, "area_km2", "E-RANGE", "must be > 0, got -1", "fix it"),
                Problem("--set", None, None, "E-USAGE", "unknown 'x'", "see the list"),
            ]
        )
    if issubclass(cls, InfeasibleError):
        return cls(
            "structure 'f' cannot hold",
            conflict=["floor[Basra]", "", "cap[Erbil]"],
            concession="lower the floor to 0.8",
            overrides=["per_capita_floor=0.8", "bloc_share.Kurdistan Region=0.17"],
            explanation=EXPLANATION,
        )
    return cls(f"{cls.__name__}: the message")


def _all_error_classes() -> list[type[RevshareError]]:
    found: list[type[RevshareError]] = []
    todo: list[type[RevshareError]] = [RevshareError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__name__)


def _same_error(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b) and a.args == b.args
    assert getattr(a, "exit_code", None) == getattr(b, "exit_code", None)
    assert vars(a) == vars(b)


def test_every_error_class_is_known_to_these_tests():
    """A new error class must be added to :func:`_instances` if it takes new arguments."""
    names = {c.__name__ for c in _all_error_classes()}
    assert names >= {
        "RevshareError",
        "InputError",
        "InfeasibleError",
        "NotOptimalError",
        "NumericalTroubleError",
        "SolverUnavailableError",
    }


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_survives_pickling_with_its_payload(cls):
    exc = _instances(cls)
    exc.add_note("raised in a worker")
    back = pickle.loads(pickle.dumps(exc))
    _same_error(exc, back)
    assert back.__notes__ == ["raised in a worker"]
    if isinstance(exc, InputError):
        assert back.codes == exc.codes == ["E-USAGE", "E-RANGE"]
    if isinstance(exc, InfeasibleError):
        assert back.explanation.concession_text() == EXPLANATION.concession_text()


# The worker runs ``exec(shared, item)``: a built-in, so that workers need not import this module.


@pytest.mark.parametrize("cls", [InputError, InfeasibleError], ids=lambda c: c.__name__)
def test_an_error_raised_in_a_worker_reaches_the_caller_whole(cls):
    """The two classes with a payload beyond the message; every class pickles (above)."""
    exc = _instances(cls)
    with pytest.raises(cls) as info:
        list(pool.run(exec, "raise error", [{"error": exc}, {"error": exc}], 2))
    _same_error(exc, info.value)


def test_a_worker_that_dies_is_a_solver_failure_not_an_internal_error():
    with pytest.raises(SolverUnavailableError) as info:
        list(pool.run(exec, "import os; os._exit(3)", [{}, {}], 2))
    assert info.value.exit_code == 5 and "worker process" in str(info.value)


@pytest.fixture(scope="module")
def without_area(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("noarea") / "iraq"
    shutil.copytree(DATA / "iraq", folder)
    regions = pd.read_csv(folder / "regions.csv", dtype=str, keep_default_na=False)
    regions.drop(columns="area_km2").to_csv(folder / "regions.csv", index=False)
    return folder


def test_an_input_error_in_a_sweep_worker_equals_the_one_in_process(without_area):
    """An error raised while a worker builds its engine (issue 11's example: the objective
    needs an indicator the data lacks) reaches the caller whole. ``plan`` now finds this one in
    the parent, so the tasks are planned where the indicator exists and solved where it does
    not, as a worker would meet it."""
    t = revshare.load_dataset(without_area)
    formula = dataclasses.replace(revshare.PRESETS["federation"], name="f", objective="formula")
    tasks, _ = plan(revshare.load_dataset(ROOT / "data" / "iraq"), [formula], price_grid("60,70,80,90"), chunk_size=1)
    with pytest.raises(InputError) as here:
        solve_chunk(t, tasks[0])
    with pytest.raises(InputError) as there:
        list(pool.run(solve_chunk, t, tasks, 2))
    assert here.value.codes == ["E-MISSING-INDICATOR"]
    _same_error(here.value, there.value)
    with pytest.raises(InputError) as swept:  # and the whole sweep says the same, before solving
        sweep(t, [formula], price_grid("60,70,80,90"), chunk_size=1, workers=2)
    _same_error(here.value, swept.value)


def test_cli_sweep_exit_and_message_are_the_same_with_one_or_two_workers(without_area, tmp_path):
    outputs = []
    for workers in ("1", "2"):
        args = ["sweep", str(without_area), "--prices", "80,90", "--structures", "all"]
        result = CliRunner().invoke(main, [*args, "--chunk-size", "1", "--workers", workers])
        assert result.exit_code in (0, 2, 3, 4), result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
        outputs.append((result.exit_code, result.output))
    assert outputs[0] == outputs[1]


def test_workers_below_one_are_an_input_error(iraq):
    with pytest.raises(InputError) as info:
        sweep(iraq, ["unified"], price_grid("50"), workers=0)
    assert info.value.problems[0].file == "workers"


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the process name may hold spaces and parentheses


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(stat[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited; init reaps it later


def _start_long_sweep(out: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """A CLI sweep on two workers, in its own session, once both workers are solving."""
    args = ["sweep", str(DATA / "iraq"), "--structures", "federation", "--prices", "20:150:0.001"]
    args += ["--chunk-size", "50", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        children = _descendants(proc.pid)
        workers = [c for c in children if b"spawn_main" in _cmdline(c)]
        if len(workers) >= 2 and len(list((out / "chunks").glob("*.json"))) >= 2:
            return proc, children
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the sweep did not start two workers: {proc.communicate()[1].decode()[-2000:]}")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _gone(pids: set[int], seconds: float) -> set[int]:
    """The processes of ``pids`` still alive after waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_parent_leaves_no_worker_behind(tmp_path, how):
    proc, children = _start_long_sweep(tmp_path / "out")
    try:
        os.kill(proc.pid, getattr(signal, how))
        proc.wait(timeout=30)
        assert not _gone(children, 15), "workers outlived their parent"
    finally:
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_exits_130_without_a_traceback_and_stops_every_worker(tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole foreground group, workers included."""
    out = tmp_path / "out"
    proc, children = _start_long_sweep(out)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        text = err.decode()
        assert proc.returncode == 130, text
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
        assert "interrupted" in text and "--resume" in text
        assert not _gone(children, 15), "workers outlived the interrupted sweep"
        assert len(list((out / "chunks").glob("*.json"))) >= 2  # finished chunks are kept
    finally:
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()


# -- class 19: plain scripts ----------------------------------------------------------------------

PLAIN = """\
import sys
import revshare

t = revshare.load_dataset(sys.argv[1])
options = {{}} if sys.argv[2] == "default" else {{"workers": int(sys.argv[2])}}
r = revshare.sweep(t, ["federation", "unified"], revshare.price_grid("50,60,70"),
                   chunk_size=1, **options)
print("solved", len(r.results), r.provenance["executor"])
"""
GUARDED = """\
import sys
import revshare


def main():
    t = revshare.load_dataset(sys.argv[1])
    r = revshare.sweep(t, ["federation", "unified"], revshare.price_grid("50,60,70"),
                       chunk_size=1, workers=int(sys.argv[2]))
    print("solved", len(r.results), r.provenance["executor"])


if __name__ == "__main__":
    main()
"""


def _script(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.py"
    path.write_text(text.format())
    return subprocess.run(
        [sys.executable, str(path), str(DATA / "iraq"), *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("workers", ["default", "1"])
def test_a_plain_script_without_a_main_guard_sweeps_in_its_own_process(tmp_path, workers):
    done = _script(tmp_path, PLAIN, workers)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "solved 6 inline"


def test_a_plain_script_asking_for_workers_is_told_at_once_what_to_do(tmp_path):
    done = _script(tmp_path, PLAIN, "2")
    assert done.returncode == 1 and done.stdout == ""
    assert "E-MAIN-GUARD" in done.stderr and 'if __name__ == "__main__":' in done.stderr
    assert f"{tmp_path / 'script.py'}:6:" in done.stderr  # the line of the call
    assert "BrokenProcessPool" not in done.stderr and "bootstrapping" not in done.stderr


def test_a_guarded_script_sweeps_on_workers(tmp_path):
    done = _script(tmp_path, GUARDED, "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "solved 6 2 processes"


# -- issue 15: chunks are removed after a complete sweep -------------------------------------------


def test_a_complete_sweep_removes_its_chunks_unless_asked_to_keep_them(iraq, fresh, tmp_path):
    gone = tmp_path / "gone"
    sweep(iraq, NAMES, price_grid(GRID), chunk_size=CHUNK, out=gone)
    assert not (gone / "chunks").exists()
    assert (gone / "manifest.json").exists() and (gone / "sweep.json").exists()
    kept = tmp_path / "kept"
    _without_reports(
        sweep, iraq, NAMES, price_grid(GRID), chunk_size=CHUNK, out=kept, keep_chunks=True
    )
    assert len(list((kept / "chunks").glob("*.json"))) == CHUNKS
    assert len(list((kept / "chunks").glob("*.json.sha256"))) == CHUNKS
    again, notices = _resume(iraq, gone)  # nothing left to resume: solved again, quietly
    assert notices == [] and again.provenance["resumed_chunks"] == 0
    pd.testing.assert_frame_equal(again.results, fresh, check_exact=True)


def test_a_sweep_that_failed_keeps_its_chunks(iraq, tmp_path, monkeypatch):
    from revshare.solve.engine import Engine

    real = Engine.solve

    def broken(self, money):
        out = real(self, money)
        return dataclasses.replace(out, centre_usd=out.centre_usd * 1.01)

    monkeypatch.setattr(Engine, "solve", broken)
    out = tmp_path / "s"
    r = sweep(iraq, ["unified"], price_grid("50,60"), out=out)
    assert r.failed == 2
    assert len(list((out / "chunks").glob("*.json"))) == 1
    assert not (out / "manifest.json").exists()
    assert np.isnan(r.results["centre_usd"]).all()


def test_a_symbolic_link_at_chunks_is_refused(iraq, tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "chunks").symlink_to(elsewhere)
    with pytest.raises(InputError) as info:
        sweep(iraq, ["unified"], price_grid("50"), out=out, force=True)
    assert info.value.codes == ["E-OUTPUT"] and "symbolic link" in str(info.value)
    assert list(elsewhere.iterdir()) == []
