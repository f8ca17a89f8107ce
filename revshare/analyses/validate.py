"""Check a dataset and its structures without solving anything.

:func:`validate` runs, for every structure the dataset defines and every built-in preset, the
checks that the solving commands run before they solve: the price, the structure's parameters
against the dataset's names and indicators, and the building of its model. The
promise it keeps (tested on every fixture): when it finds no problem, ``optimize`` on the
dataset's default structure or on any of its own structures never stops on bad input.

A built-in preset that cannot apply to the dataset (``sudan-cpa-2005`` needs a bloc ``south``)
is not a problem of the dataset: it is listed with its reason, as ``compare`` lists it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..data.dataset import Territory, require_territory
from ..data.scaffold import next_steps
from ..data.structures import PRESETS, Structure, apply_overrides
from ..errors import InputError, Problem
from ..model.lp import build_model
from .optimize import resolve_price


@dataclass(frozen=True)
class StructureCheck:
    """One structure's fitness for the dataset: ``problems`` is empty when it can be solved."""

    name: str
    source: str
    preset: bool
    problems: tuple[Problem, ...]

    @property
    def applicable(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        """The problems in one line, as a table row holds them."""
        return "; ".join(p.message for p in self.problems)


@dataclass(frozen=True)
class Validation:
    """What :func:`validate` found.

    ``problems`` are the dataset's own: its price and its own structures (exit 2 on the command
    line). ``structures`` has one check for each dataset structure and each preset.
    ``next_steps`` are the edits left while the dataset still holds the placeholders of
    ``revshare init`` (:func:`revshare.data.scaffold.next_steps`), in order; they are no problem.
    """

    territory: Territory
    price: float | None
    problems: tuple[Problem, ...]
    structures: tuple[StructureCheck, ...]
    next_steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def presets_not_applicable(self) -> dict[str, str]:
        return {c.name: c.reason for c in self.structures if c.preset and not c.applicable}


def check_price(territory: Territory, price: float | None) -> tuple[float | None, list[Problem]]:
    """The price the solving commands would use, or the problem that stops them."""
    try:
        return resolve_price(territory, price), []
    except InputError as exc:
        return None, list(exc.problems)


def structure_problems(territory: Territory, structure: Structure, price: float) -> list[Problem]:
    """Every problem that stops ``structure`` on ``territory`` at ``price`` before any solve: the
    model is built exactly as ``optimize`` builds it (its checks, ``check_applicable`` among them,
    are the only input checks between the price and the solve)."""
    try:
        build_model(territory, structure, price)
    except InputError as exc:
        return list(exc.problems)
    return []


def _nominal_price(territory: Territory) -> float:
    """A price at which every field earns, to check structures when the dataset has none."""
    costs = territory.fields["cost_usd_per_bbl"].astype(float)
    return float(costs.max()) + 50.0 if len(costs) else 50.0


def validate(
    territory: Territory,
    *,
    price: float | None = None,
    overrides: Sequence[str] = (),
) -> Validation:
    """Check ``territory`` and every structure that could run on it; solve nothing.

    Parameters
    ----------
    territory : from :func:`revshare.load_dataset` (reading it already checked every file).
    price : USD a barrel; default the dataset's ``default_price``.
    overrides : ``PARAM=VALUE`` strings applied to every structure, as for ``optimize``.

    Examples
    --------
    >>> import revshare
    >>> v = revshare.analyses.validate(revshare.load_dataset("data/iraq"))
    >>> v.ok, sorted(v.presets_not_applicable)
    (True, ['sudan-cpa-2005'])
    """
    require_territory(territory)
    used, problems = check_price(territory, price)
    at = used if used is not None else _nominal_price(territory)
    checks = []
    for name, structure in {**PRESETS, **territory.structures}.items():
        preset = name not in territory.structures
        try:
            changed = apply_overrides(structure, list(overrides))
        except InputError as exc:
            found = list(exc.problems)
        else:
            found = structure_problems(territory, changed, at)
        checks.append(StructureCheck(name, structure.source, preset, tuple(found)))
        if not preset:
            problems += found
    return Validation(
        territory, used, tuple(sorted(set(problems))), tuple(checks), next_steps(territory)
    )
