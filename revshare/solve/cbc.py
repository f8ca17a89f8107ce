"""CBC as a process that cannot outlive its time limit, and CBC options checked before solving.

PuLP's ``COIN_CMD`` waits for CBC without a timeout, and CBC checks its ``-sec`` limit only
between phases (and counts CPU time by default), so a CBC that ignores its limit would run for
ever. :class:`TimedCbc` runs the same command line in its own process group, asks CBC for a
wall-clock limit, and kills the whole group when it outlives the limit by :func:`grace` seconds.

CBC takes options as command words (``primalTolerance 1e-9``) and answers a bad one with a line
on its own output, not an exit status. :func:`check_option` therefore asks the binary itself
(``cbc -NAME VALUE -quit``) and accepts only an option that CBC reports as set.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pulp

from ..errors import NotOptimalError

# Options revshare sets itself: changing them would break reading the solution or the limit.
RESERVED = frozenset({"seconds", "timeMode", "printingOptions", "solution"})
# Lines with which CBC accepts a setting; any other line (``No match for``, ``is illegal``,
# ``valid range is``, ``Possible options``, ``Current model not valid``) is a refusal.
_ACCEPTED = (" was changed from ", "Option for ")


def grace(limit: float) -> float:
    """Seconds CBC may run past its limit (writing its solution) before it is killed."""
    return 2.0 + 0.25 * limit


class TimedCbc(pulp.COIN_CMD):
    """``COIN_CMD`` whose process is killed after ``timeLimit`` + :func:`grace` seconds.

    ``log_to_stderr`` sends CBC's own output to standard error (never to standard output, which
    may carry a report); otherwise it is discarded. ``status_line`` keeps the first line of the
    solution file (``Stopped on difficulties - objective value ...``), which PuLP folds into
    "not solved".
    """

    def __init__(self, *args: Any, log_to_stderr: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_to_stderr = log_to_stderr
        self.status_line = ""

    def solve_CBC(self, lp: pulp.LpProblem, use_mps: bool = True) -> int:
        if not self.executable(self.path):
            raise pulp.PulpSolverError(f"cannot execute {self.path}")
        tmp_mps, tmp_sol = self.create_tmp_files(lp.name, "mps", "sol")
        try:
            vs, variables, constraints, _ = lp.writeMPS(tmp_mps, rename=1)
            args = [self.path, tmp_mps]
            if lp.sense == pulp.LpMaximize:
                args.append("-max")
            if self.timeLimit is not None:
                args += ["-sec", repr(float(self.timeLimit)), "-timeMode", "elapsed"]
            for option in self.options:
                args += [f"-{word}" if i == 0 else word for i, word in enumerate(option.split())]
            args += ["-solve" if self.mip else "-initialSolve", "-printingOptions", "all"]
            args += ["-solution", tmp_sol]
            self._run(args)
            if not os.path.exists(tmp_sol):
                raise pulp.PulpSolverError(f"{self.path} wrote no solution file")
            with open(tmp_sol, encoding="utf-8", errors="replace") as fh:
                self.status_line = fh.readline().strip()
            status, values, costs, prices, slacks, sol_status = self.readsol_MPS(
                tmp_sol, lp, vs, variables, constraints
            )
        finally:
            self.delete_tmp_files(tmp_mps, tmp_sol)
        lp.assignVarsVals(values)
        lp.assignVarsDj(costs)
        lp.assignConsPi(prices)
        lp.assignConsSlack(slacks, activity=True)
        lp.assignStatus(status, sol_status)
        return int(status)

    def _run(self, args: list[str]) -> None:
        out: Any = subprocess.DEVNULL
        if self.log_to_stderr:
            sys.stderr.flush()
            out = 2  # the process's standard error, even when sys.stderr is replaced
        started = time.monotonic()
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
        deadline = None if self.timeLimit is None else self.timeLimit + grace(self.timeLimit)
        try:
            code = proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise NotOptimalError(
                f"cbc did not stop at its time limit of {self.timeLimit:g} s and was stopped "
                f"after {time.monotonic() - started:.1f} s; nothing was proven optimal. Re-run "
                "with a larger time limit (time_limit), or try solver 'highs'"
            ) from None
        finally:
            # also on Ctrl-C or any error while waiting: never leave CBC running
            if proc.poll() is None:
                _kill_group(proc)
        if code != 0:
            raise pulp.PulpSolverError(f"{self.path} exited with status {code}")


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    """Kill CBC and anything it started (its own session), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


@functools.lru_cache(maxsize=256)
def check_option(path: str, name: str, value: str) -> str | None:
    """``None`` when CBC at ``path`` accepts ``-name value``; else why not (CBC's own words)."""
    if not name or any(c.isspace() for c in name) or name.startswith("-"):
        return "an option name is one word without a leading '-'"
    if not value or any(c.isspace() for c in value):
        return "an option value is one word"
    try:
        done = subprocess.run(
            [path, f"-{name}", value, "-quit"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"CBC could not be asked ({exc})"
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    lines = [
        line
        for line in lines
        if not line.startswith(("Welcome to the CBC", "Version:", "Build Date:", "command line"))
        and not line.startswith("Total time")
    ]
    if not lines:
        return None  # set to the value it already had: CBC says nothing
    for line in lines:
        if not any(marker in line for marker in _ACCEPTED):
            return line
        full = line.split(" was changed from ")[0].removeprefix("Option for ").split()[0]
        if full in RESERVED:
            return f"revshare sets {full} itself"
    return None
