"""The cheapest concession made exact (:mod:`revshare.analyses.explain` finds it): which rules hold
together (:class:`Rows`, a feasibility question in one in-place HiGHS LP), the concession's
parameter changes (:class:`Change`) as ``PARAM=VALUE`` overrides (:func:`overrides`), and
:func:`tighten`, which moves each change back towards its old value as far as feasibility allows
(a bisection in one warm-started LP that moves with the parameter, :class:`_Moving`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pulp

from ..data.dataset import Territory
from ..data.structures import Structure, apply_overrides, parse_override
from ..errors import InfeasibleError
from ..model.lp import Model, build_model
from ..solve import lp
from ..solve.instance import Instance, highs_options
from ..solve.lp import InPlaceLp
from ..solve.program import Affine, affine
from ..solve.solver import SolverConfig, Status

NEVER_RELAXED = ("budget",)


@dataclass(frozen=True)
class Change:
    """One parameter's concession: ``PARAM=VALUE`` override text and a sentence."""

    parameter: str
    old: float
    new: float
    sentence: str

    @property
    def override(self) -> str:
        return f"{self.parameter}={self.new:.6g}"


class Rows:
    """The model's rows in one in-place HiGHS LP (:class:`revshare.solve.lp.InPlaceLp`): a
    feasibility question switches on the budget and the named rows by their bounds, and every
    other row off, so that the many questions of a deletion filter share one instance and warm
    starts."""

    def __init__(self, m: Model, config: SolverConfig, inst: Instance | None = None) -> None:
        # HiGHS decides feasibility whichever solver found the conflict (CBC's options are not
        # HiGHS's); the answer itself is never taken from here
        highs = config if config.name == "highs" else SolverConfig("highs", config.time_limit)
        inst = Instance(m.prob, highs_options(highs)) if inst is None else inst
        self.lp = InPlaceLp(inst, m, highs)
        self.row = inst.row
        self.lower, self.upper = inst.row_lower.copy(), inst.row_upper.copy()
        self.rows = np.arange(len(self.lower), dtype=np.int32)
        self.centre = pulp.lpSum([m.g])

    def feasible(self, names: Iterable[str]) -> bool:
        on = np.zeros(len(self.rows), dtype=bool)
        on[[self.row[n] for n in [*NEVER_RELAXED, *names]]] = True
        self.lp.bound_rows(
            self.rows, np.where(on, self.lower, -np.inf), np.where(on, self.upper, np.inf)
        )
        status = self.lp.optimise(self.centre, pulp.LpMinimize)
        if status not in (Status.OPTIMAL, Status.INFEASIBLE):
            raise InfeasibleError(f"could not decide feasibility while explaining ({status.value})")
        return status is Status.OPTIMAL


def negotiable(m: Model) -> list[str]:
    return [n for n in m.labels if m.labels[n] not in NEVER_RELAXED]


def round_down(x: float) -> float:
    return math.floor(max(x, 0.0) * 1e6) / 1e6


def round_up(x: float) -> float:
    return math.ceil(max(x, 0.0) * 1e6) / 1e6


def overrides(s: Structure, changes: list[Change], blocs: list[str]) -> list[str]:
    """``PARAM=VALUE`` texts that apply ``changes`` to ``s``: one table entry by a dotted key
    when that text reads back as the same key and value (:func:`parse_override`), else the
    whole table, so that any name (quotes, ``=``, dots, spaces) is carried exactly."""
    out = []
    lo, hi = s.central_share
    tables: dict[str, dict[str, float]] = {}
    for c in changes:
        if c.parameter == "central_share.lower":
            lo = c.new
        elif c.parameter == "central_share.upper":
            hi = c.new
        elif c.parameter.partition(".")[0] in _TABLES:
            head, _, name = c.parameter.partition(".")
            tables.setdefault(head, {})[name] = c.new
        else:
            out.append(c.override)
    if (lo, hi) != s.central_share:
        out.append(f"central_share=[{lo!r}, {hi!r}]")
    for head, entries in tables.items():
        current = getattr(s, head)
        dotted = [f"{head}.{name}={value!r}" for name, value in entries.items()]
        if isinstance(current, Mapping) and all(
            parse_override(text) == (f"{head}.{name}", value)
            for text, (name, value) in zip(dotted, entries.items(), strict=True)
        ):
            out.extend(dotted)
            continue
        if head == "bloc_retention":
            full = {b: s.bloc_retention_for(b) for b in blocs}
        else:
            full = {str(k): float(v) for k, v in current.items()}
        full.update(entries)
        table = ", ".join(f"{toml_string(k)} = {v!r}" for k, v in full.items())
        out.append(f"{head}={{ {table} }}")
    return out


_TABLES = ("bloc_retention", "bloc_share", "faction_share")


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and every control character
    escaped, anything else as it is."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def tighten(
    t: Territory, s: Structure, price: float, changes: list[Change], config: SolverConfig
) -> list[Change]:
    """Move each change back towards its old value as far as feasibility allows (bisection),
    holding the others: per-subject slacks become the least change of each rule's parameter."""
    if not works(t, s, price, changes, config):
        return changes
    out = list(changes)
    for c in list(out):
        without = [other for other in out if other is not c]
        if without and works(t, s, price, without, config):
            out = without
    for i, c in enumerate(out):
        holds = _bisection(t, s, price, out, i, config)
        good, bad = 1.0, 0.0
        for _ in range(BISECTION_STEPS):
            mid = (good + bad) / 2
            if holds(mid):
                good = mid
            else:
                bad = mid
        out[i] = _at(c, good)
    return out


BISECTION_STEPS = 20


def _bisection(
    t: Territory, s: Structure, price: float, out: list[Change], i: int, config: SolverConfig
) -> Callable[[float], bool]:
    """Whether the changes ``out`` hold with the ``i``-th moved a given fraction of its way
    (:func:`_at`): in one HiGHS LP that moves with the parameter (:class:`_Moving`) where it
    can, else by building the model for each fraction (:func:`works`)."""

    def rebuilt(fraction: float) -> bool:
        return works(t, s, price, [*out[:i], _at(out[i], fraction), *out[i + 1 :]], config)

    if config.name != "highs" or not lp.IN_PLACE:
        return rebuilt
    moving = _Moving.build(t, s, price, out, i, config)
    return rebuilt if moving is None else moving.works(rebuilt)


class _Moving:
    """One change's bisection in one warm-started HiGHS LP. The model is built at the two
    extreme values the bisection can try and once between to check that it moves affinely
    with the parameter (:class:`revshare.solve.program.Affine`); each fraction then moves the
    matrix entries and bounds that differ, instead of building the model again. A rule exists
    only where its parameter is positive, so an extreme at 0 is built at the smallest positive
    value the rounding gives (:func:`round_down`), and a fraction at 0 is built."""

    def __init__(
        self,
        t: Territory,
        s: Structure,
        parameter: str,
        trial: Callable[[float], list[Change]],
        ends: tuple[float, float],
        move: Affine,
        rows: Rows,
    ) -> None:
        self.t, self.s, self.parameter, self.trial = t, s, parameter, trial
        self.ends, self.move, self.rows = ends, move, rows
        self.names = negotiable(rows.lp.m)

    @classmethod
    def build(
        cls,
        t: Territory,
        s: Structure,
        price: float,
        out: list[Change],
        i: int,
        config: SolverConfig,
    ) -> _Moving | None:
        """The LP for the ``i``-th of ``out``, or ``None`` where it cannot move in place: a
        build fails (as :func:`works` counts any failure as "does not hold"), the builds have
        other rows or columns, or the third is not where the other two put it."""
        c = out[i]

        def trial(fraction: float, value: float | None = None) -> list[Change]:
            moved = _at(c, fraction) if value is None else Change(c.parameter, c.old, value, "")
            return [*out[:i], moved, *out[i + 1 :]]

        step = 2.0**-BISECTION_STEPS
        try:
            built = {}
            for fraction in (step, 1 - step, 0.5):
                changes = trial(fraction)
                value = _value(_relaxed(t, s, changes), c.parameter)
                if value == 0:
                    value = 1e-6
                    changes = trial(0.0, value)
                if value not in built:
                    built[value] = build_model(t, _relaxed(t, s, changes), price)
        except Exception:  # as works counts it; the bisection then rebuilds
            return None
        values = list(built)
        if len(values) == 2:  # rounding left no third value to check the other two against
            return None
        opts = highs_options(config)
        inst = [Instance(built[v].prob, opts) for v in values]
        ends = (values[0], values[-1 if len(values) == 1 else 1])
        move = affine(inst[0], inst[-1 if len(values) == 1 else 1])
        if move is None or (
            len(values) == 3 and not move.follows(inst[2], _weight(values[2], ends), inst[0])
        ):
            return None
        rows = Rows(built[values[0]], config, inst[0])
        return cls(t, s, c.parameter, trial, ends, move, rows)

    def works(self, rebuilt: Callable[[float], bool]) -> Callable[[float], bool]:
        """The bisection's test: in place for a value between the ends, else ``rebuilt``."""

        def test(fraction: float) -> bool:
            try:
                value = _value(_relaxed(self.t, self.s, self.trial(fraction)), self.parameter)
            except Exception:
                return False
            lo, hi = sorted(self.ends)
            if not lo <= value <= hi:
                return rebuilt(fraction)
            coef, row_lower, row_upper, col_lower, col_upper = self.move.at(
                _weight(value, self.ends)
            )
            rows, move = self.rows, self.move
            rows.lp.set_coefs(move.rows, move.cols, coef)
            rows.lower[move.row], rows.upper[move.row] = row_lower, row_upper
            rows.lp.bound_cols(move.col, col_lower, col_upper)
            return rows.feasible(self.names)

        return test


def _weight(value: float, ends: tuple[float, float]) -> float:
    a, b = ends
    return 0.0 if a == b else (value - a) / (b - a)


def _relaxed(t: Territory, s: Structure, changes: list[Change]) -> Structure:
    return apply_overrides(s, overrides(s, changes, t.blocs))


def _value(s: Structure, parameter: str) -> float:
    """The value of ``parameter`` (``bloc_share.Kurdistan Region``) in ``s``."""
    head, _, name = parameter.partition(".")
    if head == "central_share":
        return float(s.central_share[0 if name == "lower" else 1])
    if head == "bloc_retention":
        return float(s.bloc_retention_for(name))
    if name:
        return float(getattr(s, head)[name])
    return float(getattr(s, head) or 0.0)


def _at(c: Change, fraction: float) -> Change:
    """``c`` with its new value a ``fraction`` of the way from old to new, rounded outward."""
    value = c.old + fraction * (c.new - c.old)
    value = round_up(value) if c.new > c.old else round_down(value)
    # Only the figure after " to " is the new value: replacing every occurrence of its text
    # would also rewrite the old value where one contains the other ("from 0.5 to 0").
    head, sep, tail = c.sentence.rpartition(f" to {_fmt(c.parameter, c.new)}")
    sentence = f"{head} to {_fmt(c.parameter, value)}{tail}" if sep else c.sentence
    return Change(c.parameter, c.old, value, sentence)


def _fmt(parameter: str, value: float) -> str:
    return f"{value:.4g}" if parameter in ("per_capita_floor", "per_capita_cap") else f"{value:.2%}"


def works(
    t: Territory, s: Structure, price: float, changes: list[Change], config: SolverConfig
) -> bool:
    try:
        relaxed = apply_overrides(s, overrides(s, changes, t.blocs))
        m = build_model(t, relaxed, price)
    except Exception:
        return False
    return Rows(m, config).feasible(negotiable(m))
