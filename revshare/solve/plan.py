"""The staged plan, defined once; :mod:`revshare.solve.highs_executor` and :mod:`revshare.solve.pulp_executor`
carry it out, and the sweep engine (:mod:`revshare.solve.engine`) follows it at many prices.

Ties. A linear program can have many optimal allocations and a solver picks one by the order of
its columns, which would make the answer depend on names (RELIABILITY.md, finding 5). revshare
therefore solves in stages, each keeping the previous optimum to :func:`tolerance`:

1. the structure's objective (or, for ``nash``, its tangent cuts; then each bloc's money is kept);
2. for the objectives in ``NEEDS_PROPORTIONAL_TIE_BREAK``, the closest allocation to
   population-proportional shares (L1);
3. leximin over per-head levels: raise the poorest groups as far as possible, fix those that
   cannot rise further (a non-zero dual of their level row proves it), repeat. The leximin vector
   is unique, so the final allocation is the same whatever the names or the order of the rows.

The sweep engine may stop early when it proves that the allocation is the same in every optimum
of the stage it has just solved: the later stages then cannot move it.

Only the first stage can prove the rules infeasible: every later stage keeps a feasible optimum,
so "infeasible" there is numerical trouble (:func:`require_optimal`). Numerical trouble is retried
once, with presolve the other way and ``RETRY_SLACK`` times the tolerance (:func:`retry_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pulp

from ..errors import InfeasibleError, NotOptimalError, NumericalTroubleError
from ..model.lp import Model
from ..model.objectives import NEEDS_PROPORTIONAL_TIE_BREAK, l1_to_targets, population_shares
from .solver import SolverConfig, Status

RETRY_SLACK = 5.0


@dataclass(frozen=True)
class Solution:
    """The solved model: levels ``z``, centre ``g`` and a deal's accounts and payments
    ``extra`` (in the order of ``Model.extra``) in model units, and what the solve found.
    ``stages`` counts the LP solves."""

    z: np.ndarray
    g: float
    objective_value: float | None
    binding: list[dict[str, Any]]
    solver: str
    stages: int
    seconds: float
    nash_gap: float | None = None
    extra: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class Stage:
    """A money stage before the leximin rounds: optimise ``expression`` in ``sense``, then keep it."""

    expression: pulp.LpAffineExpression
    sense: int
    name: str


def money_stages(m: Model, objective: pulp.LpAffineExpression | None, sense: int) -> list[Stage]:
    """The stages before leximin: the objective (when it has an expression) and the proportional
    step for objectives that leave ties. Builds the proportional step's rows into ``m``."""
    stages = []
    if objective is not None:
        stages.append(Stage(objective, sense, "objective"))
    if m.structure.objective in NEEDS_PROPORTIONAL_TIE_BREAK:
        expr = l1_to_targets(m, population_shares(m), tag="tie")
        stages.append(Stage(expr, pulp.LpMinimize, "proportional tie-break"))
    return stages


def tolerance(precision: float, v: Any, value: Any) -> Any:
    """How far a later stage may move a previous stage's optimum ``value``, in model units, when
    the revenue is ``v`` (scalars or arrays)."""
    return precision * (v + np.abs(value)) + 1e-9


def stage_tolerance(m: Model, value: float, config: SolverConfig) -> float:
    """:func:`tolerance` for one model solved with ``config``."""
    return float(tolerance(config.precision, m.v, value))


def retry_config(config: SolverConfig) -> SolverConfig:
    """The one retry after numerical trouble: presolve the other way, a wider tolerance."""
    other = "on" if config.options.get("presolve") == "off" else "off"
    return replace(config, options={**config.options, "presolve": other}, slack=RETRY_SLACK)


def _other(solver: str) -> str:
    return "highs" if solver == "cbc" else "cbc"


def require_optimal(status: Status, stage: str, m: Model, solver: str = "highs") -> None:
    """Raise unless ``status`` is optimal. Only the ``objective`` stage can prove infeasibility."""
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


def later_status(status: Status, first: bool) -> Status:
    """A stage after the first keeps a feasible optimum, so "infeasible" there is numerical."""
    return Status.DIFFICULTIES if not first and status is Status.INFEASIBLE else status


BINDING_SKIP = ("objective_", "keep_optimum", "tiebreak")  # the plan's own rows, not rules


def binding_label(labels: dict[str, str], name: str) -> str | None:
    """The rule's label for a row named ``name``, or None for the plan's own rows."""
    label = labels.get(name)
    if label is None or label.startswith(BINDING_SKIP):
        return None
    return label
