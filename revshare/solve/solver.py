"""Solving: solver choice, its options, and the one table of real statuses.

PuLP reports "Optimal" for runs stopped by a time or iteration limit (docs/design.md#a-solvers-optimal-is-not-a-proof),
so the real status is read from the solver itself and mapped once, in :data:`HIGHS_STATUS` and
:func:`_cbc_status`, into a small :class:`Status`. Only ``Status.OPTIMAL`` is ever read further.

The staged solve itself (stages, tolerances, retries) is :mod:`revshare.solve.plan`.
"""

from __future__ import annotations

import contextlib
import enum
import numbers
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pulp

from ..errors import (
    InputError,
    Problem,
    SolverUnavailableError,
    wrong_type,
)

SOLVERS = ("highs", "cbc")
# Relative precision each solver's values can be trusted to: HiGHS in-process returns doubles; CBC
# is read back from a solution file printed with 8 significant digits (docs/design.md#cbcs-eight-digits).
PRECISION = {"highs": 1e-11, "cbc": 2e-8}
DUAL_EPSILON = 1e-9
# Both solvers meet every row to this absolute tolerance (model money units).
FEASIBILITY = 1e-9
CBC_DEFAULTS = {"primalTolerance": FEASIBILITY, "dualTolerance": FEASIBILITY}
HIGHS_DEFAULTS = {
    "primal_feasibility_tolerance": FEASIBILITY,
    "dual_feasibility_tolerance": FEASIBILITY,
    "small_matrix_value": 1e-12,
}


class Status(enum.Enum):
    """The only statuses revshare distinguishes."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible or unbounded"
    LIMIT = "stopped by a limit before proving optimality"
    DIFFICULTIES = "stopped on numerical difficulties"
    ERROR = "solver error"


def _highs_status_table() -> dict[Any, Status]:
    import highspy

    s = highspy.HighsModelStatus
    table = {
        s.kOptimal: Status.OPTIMAL,
        s.kInfeasible: Status.INFEASIBLE,
        s.kUnbounded: Status.UNBOUNDED,
        s.kUnboundedOrInfeasible: Status.INFEASIBLE_OR_UNBOUNDED,
    }
    for limit in (
        "kTimeLimit",
        "kIterationLimit",
        "kInterrupt",
        "kObjectiveBound",
        "kObjectiveTarget",
        "kSolutionLimit",
    ):
        if hasattr(s, limit):
            table[getattr(s, limit)] = Status.LIMIT
    return table


HIGHS_STATUS = _highs_status_table()


def _cbc_status(prob: pulp.LpProblem, status_line: str = "") -> Status:
    if status_line.startswith("Stopped on difficulties"):
        return Status.DIFFICULTIES
    if prob.status == pulp.LpStatusOptimal:
        return Status.OPTIMAL if prob.sol_status == pulp.LpSolutionOptimal else Status.LIMIT
    return {
        pulp.LpStatusInfeasible: Status.INFEASIBLE,
        pulp.LpStatusUnbounded: Status.UNBOUNDED,
        pulp.LpStatusNotSolved: Status.LIMIT,
    }.get(prob.status, Status.ERROR)


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """HiGHS prints a banner to file descriptor 1 when its first instance is made; reports written
    to stdout must not carry it."""
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


with _stdout_silenced():
    import highspy

    highspy.Highs()


def cbc_path() -> str | None:
    """CBC through ``COIN_CMD`` (which PuLP 4 keeps): ``REVSHARE_CBC`` if set, else the binary
    bundled with PuLP 3.x, else ``cbc`` on the PATH."""
    from pulp.apis import coin_api

    if os.environ.get("REVSHARE_CBC"):
        return os.environ["REVSHARE_CBC"]
    bundled = getattr(coin_api, "pulp_cbc_path", None)
    if bundled and os.path.isfile(bundled):
        return str(bundled)
    return shutil.which("cbc")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what the solver prints to file descriptor 1 (HiGHS's log with ``output_flag``, a
    solution written to the console) to standard error: standard output may carry a report."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# Options revshare sets for its own runs; they are not the user's and need no routing.
_INTERNAL = frozenset({"presolve"})


@dataclass(frozen=True)
class SolverConfig:
    """Which solver and how: ``options`` go to the solver (HiGHS option names, or CBC
    command-line words without the dash). They are checked when the config is made: an unknown
    name or a value of the wrong type or range is an InputError naming the option."""

    name: str = "highs"
    time_limit: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    # how many times the solver's PRECISION a later stage may move an earlier optimum: raised
    # for the one retry after numerical trouble (CBC's 8-digit values can miss by 5e-8)
    slack: float = 1.0

    def __post_init__(self) -> None:
        limit = self.time_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Real)):
            raise wrong_type("time_limit", "seconds as a number", limit, "pass e.g. 60")
        if not isinstance(self.options, Mapping):
            raise wrong_type(
                "solver_options",
                "a mapping of option names to values",
                self.options,
                "pass e.g. {'presolve': 'on'}",
            )
        object.__setattr__(self, "options", check_options(self.name, dict(self.options)))

    @property
    def precision(self) -> float:
        return PRECISION.get(self.name, 1e-7) * self.slack

    @property
    def logs(self) -> bool:
        """Whether user options may make the solver print (then it prints to stderr)."""
        return bool(set(self.options) - _INTERNAL)

    def make(self) -> pulp.LpSolver:
        if self.name == "highs":
            opts = {**HIGHS_DEFAULTS, **self.options}
            return pulp.HiGHS(msg=False, timeLimit=self.time_limit, **opts)
        if self.name == "cbc":
            from .cbc import TimedCbc  # only a CBC solve needs it

            path = cbc_path()
            solver = TimedCbc(
                path=path,
                msg=False,
                timeLimit=self.time_limit,
                options=[f"{k} {v}" for k, v in {**CBC_DEFAULTS, **self.options}.items()],
                log_to_stderr=self.logs,
            )
            if not path or not solver.available():
                raise SolverUnavailableError(_cbc_missing(path))
            return solver
        raise SolverUnavailableError(
            f"unknown solver {self.name!r}; use one of {', '.join(SOLVERS)}"
        )


def _cbc_missing(path: str | None) -> str:
    return (
        f"CBC is not available (looked for {path or 'cbc on PATH'}); use `solver='highs'`, "
        "or install CBC (Debian: apt-get install coinor-cbc; PuLP 4: pip install pulp[cbc])"
    )


def _option_error(solver: str, name: str, value: Any, why: str) -> InputError:
    return InputError(
        Problem(
            "solver_options",
            None,
            None,
            "E-USAGE",
            f"{solver} option {name}={value!r} is not accepted: {why}",
            f"check the option's name and value in the {solver} documentation, or leave it out",
        )
    )


_HIGHS_TYPES: dict[Any, tuple[tuple[type, ...], str]] = {
    highspy.HighsOptionType.kBool: ((bool,), "true or false"),
    highspy.HighsOptionType.kInt: ((int,), "an integer"),
    highspy.HighsOptionType.kDouble: ((int, float), "a number"),
    highspy.HighsOptionType.kString: ((str,), "a word"),
}


def check_options(solver: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options as the solver takes them (HiGHS doubles as float, CBC values as words), or an
    InputError naming the first bad one. Unknown solvers are left to :meth:`SolverConfig.make`."""
    out: dict[str, Any] = {}
    if not options:
        return options
    if solver == "highs":
        scratch = highspy.Highs()
        scratch.setOptionValue("output_flag", False)
        for name, value in options.items():
            status, kind = scratch.getOptionType(str(name))
            if status != highspy.HighsStatus.kOk:
                raise _option_error("highs", name, value, "HiGHS has no option of that name")
            types, wanted = _HIGHS_TYPES.get(kind, ((), "a value"))
            if isinstance(value, bool) and kind != highspy.HighsOptionType.kBool:
                types = ()
            if not isinstance(value, types):
                raise _option_error("highs", name, value, f"it takes {wanted}")
            if kind == highspy.HighsOptionType.kDouble and isinstance(value, int | float):
                value = float(value)
            if scratch.setOptionValue(str(name), value) != highspy.HighsStatus.kOk:
                raise _option_error("highs", name, value, "the value is out of its range")
            out[str(name)] = value
        return out
    if solver == "cbc":
        from .cbc import check_option

        path = cbc_path()
        for name, value in options.items():
            word = _cbc_word(value)
            why = check_option(path, str(name), word) if path else None
            if why:
                raise _option_error("cbc", name, value, why)
            out[str(name)] = word
        return out
    return options


def _cbc_word(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def run(prob: pulp.LpProblem, config: SolverConfig) -> Status:
    """Solve ``prob`` once and return its real status; a crash is SolverUnavailableError."""
    solver = config.make()
    routed = stdout_to_stderr() if config.logs else contextlib.nullcontext()
    try:
        with routed:
            prob.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverUnavailableError(f"{config.name} failed: {exc}") from None
    except (IndexError, ValueError, OSError) as exc:
        raise SolverUnavailableError(
            f"{config.name} crashed or wrote no usable solution: {exc}"
        ) from None
    if config.name == "highs":
        status = HIGHS_STATUS.get(prob.solverModel.getModelStatus(), Status.ERROR)
        if status is Status.INFEASIBLE_OR_UNBOUNDED and config.options.get("presolve") != "off":
            return run(prob, replace(config, options={**config.options, "presolve": "off"}))
        return status
    return _cbc_status(prob, getattr(solver, "status_line", ""))
