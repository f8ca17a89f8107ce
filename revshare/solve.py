"""Solving: solver choice, the one table of real statuses, staged objectives and the tie-break.

PuLP reports "Optimal" for runs stopped by a time or iteration limit (RELIABILITY.md, finding 1),
so the real status is read from the solver itself and mapped once, in :data:`HIGHS_STATUS` and
:func:`_cbc_status`, into a small :class:`Status`. Only ``Status.OPTIMAL`` is ever read further.

Ties. A linear program can have many optimal allocations and a solver picks one by the order of
its columns, which would make the answer depend on names (finding 5). revshare therefore solves
in stages, each keeping the previous optimum (to the solver's relative ``PRECISION``):

1. the structure's objective;
2. for ``maxmin`` and ``centre-residual``, the closest allocation to population-proportional
   shares (L1);
3. leximin over per-head levels: raise the poorest groups as far as possible, fix those that
   cannot rise further (a positive dual proves it), repeat. The leximin vector is unique, so the
   final allocation is the same whatever the names or the order of the rows.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pulp

from .cbc import TimedCbc, check_option
from .errors import (
    InfeasibleError,
    InputError,
    NotOptimalError,
    NumericalTroubleError,
    Problem,
    SolverUnavailableError,
)
from .model import Model
from .nash import keep_bloc_money, solve_nash
from .objectives import (
    NEEDS_PROPORTIONAL_TIE_BREAK,
    OBJECTIVES,
    l1_to_targets,
    level_offsets,
    population_shares,
)

SOLVERS = ("highs", "cbc")
# Relative precision each solver's values can be trusted to: HiGHS in-process returns doubles; CBC
# is read back from a solution file printed with 8 significant digits (RELIABILITY.md, finding 3).
PRECISION = {"highs": 1e-11, "cbc": 2e-8}
DUAL_EPSILON = 1e-9
# Both solvers meet every row to this absolute tolerance (model money units).
FEASIBILITY = 1e-9
CBC_DEFAULTS = {"primalTolerance": FEASIBILITY, "dualTolerance": FEASIBILITY}


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
def _stdout_to_stderr() -> Iterator[None]:
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
            opts = {
                "primal_feasibility_tolerance": FEASIBILITY,
                "dual_feasibility_tolerance": FEASIBILITY,
                "small_matrix_value": 1e-12,
                **self.options,
            }
            return pulp.HiGHS(msg=False, timeLimit=self.time_limit, **opts)
        if self.name == "cbc":
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
        f"CBC is not available (looked for {path or 'cbc on PATH'}); use --solver highs, "
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
    routed = _stdout_to_stderr() if config.logs else contextlib.nullcontext()
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


@dataclass(frozen=True)
class Solution:
    """The solved model: levels ``z`` and centre ``g`` in model units, and what the solve found."""

    z: np.ndarray
    g: float
    objective_value: float | None
    binding: list[dict[str, Any]]
    solver: str
    stages: int
    seconds: float
    nash_gap: float | None = None


def _other(solver: str) -> str:
    return "highs" if solver == "cbc" else "cbc"


def _require_optimal(status: Status, stage: str, m: Model, solver: str = "highs") -> None:
    if status is Status.OPTIMAL:
        return
    if status is Status.INFEASIBLE and stage == "objective":
        raise InfeasibleError(
            f"structure {m.structure.name!r} is infeasible on this dataset at "
            f"{m.price:g} USD a barrel: its rules cannot all hold together"
        )
    if status is Status.LIMIT:
        raise NotOptimalError(
            f"{solver} stopped at a time or iteration limit during the {stage} stage before "
            "proving optimality; the result would be unreliable. Re-run with a larger time limit "
            f"(time_limit), or try solver {_other(solver)!r}"
        )
    if status in (Status.INFEASIBLE, Status.DIFFICULTIES):
        raise NumericalTroubleError(
            f"{solver} ended the {stage} stage with status '{status.value}'"
        )
    raise NotOptimalError(
        f"{solver} ended the {stage} stage with status '{status.value}'; try solver "
        f"{_other(solver)!r}"
    )


def _optimise(
    m: Model,
    prob: pulp.LpProblem,
    expr: pulp.LpAffineExpression,
    sense: int,
    config: SolverConfig,
    stage: str,
) -> float:
    prob.setObjective(expr)
    prob.sense = sense
    _require_optimal(run(prob, config), stage, m, config.name)
    return float(pulp.value(expr))


def stage_tolerance(m: Model, value: float, config: SolverConfig) -> float:
    """How far a later stage may move a previous stage's optimum, in model units."""
    return config.precision * (m.v + abs(value)) + 1e-9


def _keep(
    m: Model,
    expr: pulp.LpAffineExpression,
    sense: int,
    value: float,
    stage: str,
    config: SolverConfig,
) -> None:
    tol = stage_tolerance(m, value, config)
    if sense == pulp.LpMinimize:
        m.add(expr <= value + tol, "keep_optimum", stage)
    else:
        m.add(expr >= value - tol, "keep_optimum", stage)


def _binding(m: Model, prob: pulp.LpProblem) -> list[dict[str, Any]]:
    """Rules with a non-zero dual: what holds the objective back, per USD of the rule's bound."""
    rows = []
    for c in prob.constraints():
        label = m.labels.get(c.name)
        if label is None or label.startswith(("objective_", "keep_optimum", "tiebreak")):
            continue
        if c.pi is not None and abs(c.pi) > DUAL_EPSILON:
            rows.append({"constraint": label, "dual": float(c.pi), "slack": float(c.slack or 0.0)})
    return rows


def solve_model(m: Model, config: SolverConfig | None = None) -> Solution:
    """Run the stages of the module docstring and return the unique tie-broken optimum."""
    config = config or SolverConfig()
    started = time.perf_counter()
    objective = OBJECTIVES[m.structure.objective](m)
    stages = 0
    value: float | None = None
    binding: list[dict[str, Any]] = []
    gap: float | None = None
    if m.structure.objective == "nash":
        result = solve_nash(
            m,
            lambda prob, expr, sense, stage: _optimise(m, prob, expr, sense, config, stage),
            precision=5 * config.precision,  # the gap a solver can close: 1e-7 with CBC
        )
        keep_bloc_money(m, result, stage_tolerance(m, m.v, config))
        value, gap, stages = result.value, result.gap, result.rounds
    elif objective.expression is not None:
        value = _optimise(m, m.prob, objective.expression, objective.sense, config, "objective")
        binding = _binding(m, m.prob)
        _keep(m, objective.expression, objective.sense, value, "objective", config)
        stages += 1
    if m.structure.objective in NEEDS_PROPORTIONAL_TIE_BREAK:
        expr = l1_to_targets(m, population_shares(m), tag="tie")
        tie = _optimise(m, m.prob, expr, pulp.LpMinimize, config, "proportional tie-break")
        _keep(m, expr, pulp.LpMinimize, tie, "proportional", config)
        stages += 1
    first = objective.expression is None and gap is None
    levels, lex_binding, rounds = _leximin(m, config, first_stage=first)
    if first:
        binding = lex_binding
        value = float(np.min(levels))
    return Solution(
        z=np.array([z.value() or 0.0 for z in m.z]),
        g=float(m.g.value() or 0.0),
        objective_value=value,
        binding=binding,
        solver=config.name,
        stages=stages + rounds,
        seconds=time.perf_counter() - started,
        nash_gap=gap,
    )


def _leximin(
    m: Model, config: SolverConfig, first_stage: bool
) -> tuple[np.ndarray, list[dict[str, Any]], int]:
    """Lexicographic max-min of the groups' per-head levels ``z_k + baseline_k``.

    Each round maximises the lowest level ``t`` among the groups not yet fixed. A group whose
    level row has a non-zero dual cannot rise above ``t`` in any optimum (complementary
    slackness), so it is fixed at ``t``; the duals of the level rows sum to one, so every round
    fixes at least one group. If rounding hides every dual, each group at ``t`` is probed.
    """
    offsets = level_offsets(m)
    free = list(range(len(m.z)))
    levels = np.zeros(len(m.z))
    binding: list[dict[str, Any]] = []
    t = m.prob.add_variable("tiebreak_level")
    rounds = 0
    while free:
        prob = m.prob.copy()
        rows = {}
        for k in free:
            name = f"tiebreak_level_{k}"
            prob.addConstraint(t <= m.z[k] + offsets[k], name)
            rows[k] = name
        stage = "objective" if first_stage and rounds == 0 else "leximin tie-break"
        level = _optimise(m, prob, pulp.lpSum([t]), pulp.LpMaximize, config, stage)
        if rounds == 0 and first_stage:
            binding = _binding(m, prob)
        rounds += 1
        blocked = [
            k for k in free if abs(prob.get_constraint_by_name(rows[k]).pi or 0.0) > DUAL_EPSILON
        ]
        if not blocked:
            blocked = _probe_blocked(m, prob, t, level, free, offsets, config)
        tol = stage_tolerance(m, level, config)
        for k in blocked:
            m.add(m.z[k] + offsets[k] >= level - tol, "tiebreak_fix", m.groups["label"][k])
            levels[k] = level
        free = [k for k in free if k not in blocked]
    return levels, binding, rounds


def _probe_blocked(
    m: Model,
    prob: pulp.LpProblem,
    t: pulp.LpVariable,
    level: float,
    free: list[int],
    offsets: np.ndarray,
    config: SolverConfig,
) -> list[int]:
    tol = stage_tolerance(m, level, config)
    probe = prob.copy()
    probe.addConstraint(t >= level - tol, "tiebreak_probe_floor")
    blocked = []
    for k in free:
        best = _optimise(m, probe, m.z[k] + offsets[k], pulp.LpMaximize, config, "leximin probe")
        if best <= level + 2 * tol:
            blocked.append(k)
    if not blocked:
        raise NotOptimalError(
            "the leximin tie-break could not find a group to fix; the model is "
            "numerically unstable at this scale"
        )
    return blocked
