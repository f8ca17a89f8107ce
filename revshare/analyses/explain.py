"""Infeasible structures explained in policy terms (docs/design.md#explaining-infeasibility).

Two answers, both verified:

1. **The conflicting rules**: an irreducible infeasible subset (IIS) found by a deletion filter,
   first over whole rules (every floor at once), then over single constraints. The budget is
   always in it: it is never negotiable. After one conflict is found, its members are set aside
   and the search repeats, so independent conflicts are all reported.
2. **The cheapest concession**: a weighted elastic relaxation. Every negotiable constraint gets a
   slack in dollars at equal weight (a dollar of concession costs the same whoever makes it);
   the budget gets none. The relaxed constraints are turned back into parameter values
   (``bloc_share.Kurdistan Region`` from 0.17 to 0.141) and the structure is solved again with
   them to prove that the concession works. When another set of concessions costs the same, the
   answer says "one of several" and names an alternative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from ..data.dataset import Territory
from ..data.structures import Structure, apply_overrides, locate, parse_override
from ..errors import InfeasibleError
from ..model.lp import Model, build_model
from ..model.parameters import PARAMETER_RULES, damage_weights
from ..solve import cuts
from ..solve.cuts import InPlaceCuts
from ..solve.instance import Instance, highs_options
from ..solve.program import Affine, affine
from ..solve.solver import SolverConfig, Status, run

NEVER_RELAXED = ("budget",)
MAX_CONFLICTS = 4


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


@dataclass(frozen=True)
class Explanation:
    """Conflicts as sentences and as constraint labels (``floor[Kirkuk]``), and the concession."""

    conflicts: list[list[str]]
    conflict_labels: list[list[str]]
    changes: list[Change]
    cost_usd: float
    unique: bool
    alternative: list[str]
    verified: bool

    def concession_text(self) -> str:
        """The concession in words; empty unless re-solving with it proved that it works."""
        if not self.changes or not self.verified:
            return ""
        text = "; ".join(c.sentence for c in self.changes)
        text += f" (the least total shortfall across the rules is {self.cost_usd:,.0f} USD a year"
        text += ")" if self.unique else "; one of several)"
        if not self.unique and self.alternative:
            text += f"; alternative: relax {', '.join(self.alternative)}"
        return text


def _rule(label: str) -> str:
    return label.split("[", 1)[0]


def _subject(label: str) -> str:
    return label.split("[", 1)[1].rstrip("]") if "[" in label else ""


class _Rows:
    """The model's rows in one in-place HiGHS LP (:class:`revshare.solve.cuts.InPlaceCuts`): a
    feasibility question switches on the budget and the named rows by their bounds, and every
    other row off, so that the many questions of a deletion filter share one instance and warm
    starts."""

    def __init__(self, m: Model, config: SolverConfig, inst: Instance | None = None) -> None:
        # HiGHS decides feasibility whichever solver found the conflict (CBC's options are not
        # HiGHS's); the answer itself is never taken from here
        highs = config if config.name == "highs" else SolverConfig("highs", config.time_limit)
        inst = Instance(m.prob, highs_options(highs)) if inst is None else inst
        self.lp = InPlaceCuts(inst, m, highs)
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
        status = self.lp.status(self.centre, pulp.LpMinimize)
        if status not in (Status.OPTIMAL, Status.INFEASIBLE):
            raise InfeasibleError(f"could not decide feasibility while explaining ({status.value})")
        return status is Status.OPTIMAL


def feasible_labels(
    t: Territory,
    s: Structure,
    price: float,
    labels: Iterable[str],
    config: SolverConfig | None = None,
) -> bool:
    """Whether the budget and the named rules (``floor[Kirkuk]``) can hold together."""
    m = build_model(t, s, price)
    by_label = {label: name for name, label in m.labels.items()}
    return _Rows(m, config or SolverConfig()).feasible([by_label[label] for label in labels])


def conflict_set(m: Model, candidates: list[str], rows: _Rows) -> list[str]:
    """An irreducible infeasible subset of ``candidates`` (plus the budget), by deletion."""
    keep = list(candidates)
    for rule in sorted({_rule(m.labels[n]) for n in keep}):
        trial = [n for n in keep if _rule(m.labels[n]) != rule]
        if not rows.feasible(trial):
            keep = trial
    for name in list(keep):
        trial = [n for n in keep if n != name]
        if not rows.feasible(trial):
            keep = trial
    return keep


def _negotiable(m: Model) -> list[str]:
    return [n for n in m.labels if m.labels[n] not in NEVER_RELAXED]


def _describe(m: Model, name: str) -> str:
    """A conflicting constraint in the user's words, with where its parameter was set."""
    label = m.labels[name]
    if label == "budget":
        n = len(m.territory.fields)
        return f"budget: everything allocated adds up to the revenue, {m.revenue:,.0f} USD a year ({n} field rows)"
    if label in m.sentences:  # a deal's rule, or a bound of regions.csv: it says where it is from
        return f"{label}: {m.sentences[label]}"
    parameter = PARAMETER.get(_rule(label), _rule(label))
    origin = m.structure.origin(parameter)
    if origin.endswith(".toml") and Path(origin).is_file():
        table = (
            None if m.structure.source == origin and not _in_tables(origin) else m.structure.name
        )
        line = locate(Path(origin).read_text(encoding="utf-8"), table, parameter)
        origin = f"{origin}:{line}" if line else origin
    value = _parameter_value(m.structure, parameter, _subject(label))
    return (
        f"{label}: {SENTENCE[_rule(label)].format(subject=_subject(label), value=value)} ({origin})"
    )


def _in_tables(path: str) -> bool:
    return "[structures." in Path(path).read_text(encoding="utf-8")


PARAMETER = {r.name: r.parameter for r in PARAMETER_RULES.values()}
SENTENCE = {r.name: r.says for r in PARAMETER_RULES.values()}


def _parameter_value(s: Structure, parameter: str, subject: str) -> str:
    if parameter == "central_share":
        lo, hi = s.central_share
        return f"{lo if subject == 'lower' else hi:.4g}"
    if parameter in ("bloc_share", "faction_share"):
        return f"{getattr(s, parameter).get(subject, 0.0):.4g}"
    if parameter == "bloc_retention":
        return f"{s.bloc_retention_for(subject):.4g}"
    value = getattr(s, parameter)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class _Elastic:
    """The weighted elastic relaxation: minimum total slack (model money) making every rule
    hold, the budget never relaxed. Built once in PuLP (the rows and names); under HiGHS it is
    passed to one HiGHS instance once, and the re-solves that forbid one slack at a time (is the
    concession unique?) only move that slack's bound; under CBC through PuLP. A solve leaves its
    values in the model's variables, where :func:`_changes` reads them."""

    def __init__(self, m: Model, config: SolverConfig) -> None:
        prob = pulp.LpProblem("elastic", pulp.LpMinimize)
        prob.addConstraint(m.prob.get_constraint_by_name("budget"), "budget")
        self.slacks: dict[str, pulp.LpVariable] = {}
        weight = {}
        pi = dict(zip(m.groups["label"], m.groups["pi"], strict=True))
        for k, name in enumerate(_negotiable(m)):
            c = m.prob.get_constraint_by_name(name)
            s = m.prob.add_variable(f"elastic_{k}", lowBound=0)
            # canonical form "terms + constant (sense) 0"; c.expr may or may not carry the constant
            lhs = pulp.LpAffineExpression(list(c.items()), constant=c.constant)
            shifted = lhs + s if c.sense == pulp.LpConstraintGE else lhs - s
            prob.addConstraint(pulp.LpConstraint(shifted, sense=c.sense, rhs=0), name)
            self.slacks[name] = s
            # floors and caps are per head (z units); weigh their slack by population share = money
            rule, subject = _rule(m.labels[name]), _subject(m.labels[name])
            weight[name] = pi[subject] if rule in ("floor", "cap") else 1.0
        prob.setObjective(pulp.lpSum(weight[n] * s for n, s in self.slacks.items()))
        self.prob, self.config = prob, config
        self.lp = (
            InPlaceCuts(Instance(prob, highs_options(config)), m, config)
            if config.name == "highs" and cuts.IN_PLACE
            else None
        )

    def solve(self, forbidden: str | None = None) -> tuple[float, dict[str, float]] | None:
        """The least total slack and each rule's slack, with the rule ``forbidden`` (if any)
        held exactly; ``None`` if even that fails."""
        held = [self.slacks[forbidden]] if forbidden is not None else []
        if self.lp is not None:
            solved = self._in_place(self.lp, held)
        else:
            for v in held:
                v.upBound = 0
            try:
                solved = run(self.prob, self.config) is Status.OPTIMAL
            finally:
                for v in held:
                    v.upBound = None
        if not solved:
            return None
        return float(pulp.value(self.prob.objective)), {
            n: float(s.value() or 0.0) for n, s in self.slacks.items()
        }

    def _in_place(self, lp: InPlaceCuts, held: list[pulp.LpVariable]) -> bool:
        lp.bound(held, 0.0, 0.0)
        # cold, as the PuLP path was: a warm start from the last optimum is faster but can end
        # at another vertex of a degenerate optimum and name another alternative concession
        status = lp.status(self.prob.objective, pulp.LpMinimize, cold=True)
        lp.bound(held, 0.0, np.inf)
        if status is not Status.OPTIMAL:
            return False
        variables = self.prob.variables()
        for v, x in zip(variables, lp.values(variables), strict=True):
            v.varValue = float(x)
        return True


def _changes(m: Model, relaxed: list[str]) -> list[Change]:
    """Parameter values that the elastic solution satisfies, rounded towards feasibility."""
    s = m.structure
    D = m.v - float(m.g.value())
    pool = D - s.derivation * m.v
    by_rule: dict[str, list[str]] = {}
    for name in relaxed:
        by_rule.setdefault(_rule(m.labels[name]), []).append(_subject(m.labels[name]))
    out = []

    def money(column: str, value: str) -> float:
        return float(pulp.value(m.cells_of(column, value)))

    z = {label: float(m.z[k].value()) for k, label in enumerate(m.groups["label"])}
    for rule, subjects in sorted(by_rule.items()):
        if rule == "central_share":
            g = float(m.g.value()) / m.v
            for bound, old in zip(("lower", "upper"), s.central_share, strict=True):
                if bound in subjects:
                    new = _down(g) if bound == "lower" else _up(g)
                    verb = "lower" if bound == "lower" else "raise"
                    out.append(
                        Change(
                            f"central_share.{bound}",
                            old,
                            new,
                            f"{verb} the centre's {bound} bound from {old:.2%} to {new:.2%} of revenue",
                        )
                    )
        elif rule in ("bloc_share", "faction_share"):
            column = rule.split("_")[0]
            for subject in subjects:
                old = getattr(s, rule)[subject]
                new = _down(money(column, subject) / D)
                out.append(
                    Change(
                        f"{rule}.{subject}",
                        old,
                        new,
                        f"lower the {subject} {column} share from {old:.2%} to {new:.2%}",
                    )
                )
        elif rule == "floor":
            new = _down(min(z[k] / D for k in subjects))
            out.append(
                Change(
                    "per_capita_floor",
                    s.per_capita_floor or 0.0,
                    new,
                    f"lower the per-head floor from {s.per_capita_floor:.4g} to {new:.4g} times the mean",
                )
            )
        elif rule == "cap":
            new = _up(max(z[k] / D for k in subjects))
            out.append(
                Change(
                    "per_capita_cap",
                    s.per_capita_cap or 0.0,
                    new,
                    f"raise the per-head cap from {s.per_capita_cap:.4g} to {new:.4g} times the mean",
                )
            )
        elif rule == "derivation":
            new = _down(min(money("region", r) / (m.region_revenue[r] / m.scale) for r in subjects))
            out.append(
                Change(
                    "derivation",
                    s.derivation,
                    new,
                    f"lower derivation from {s.derivation:.2%} to {new:.2%}",
                )
            )
        elif rule == "bloc_retention":
            table = {str(b): s.bloc_retention_for(str(b)) for b in m.territory.blocs}
            for b in subjects:
                new = _down(money("bloc", b) / (m.bloc_revenue[b] / m.scale))
                out.append(
                    Change(
                        f"bloc_retention.{b}",
                        table[b],
                        new,
                        f"lower {b}'s retention from {table[b]:.2%} to {new:.2%}",
                    )
                )
        elif rule == "damage":
            w = damage_weights(m)
            new = _down(min(money("region", r) / (w[r] * pool) for r in subjects))
            out.append(
                Change(
                    "damage_allotment",
                    s.damage_allotment,
                    new,
                    f"lower the damage allotment from {s.damage_allotment:.2%} to {new:.2%}",
                )
            )
        elif rule == "secession":
            keep = min(money("bloc", b) / (m.outside_option[b] / m.scale) for b in subjects)
            new = _up(1 - keep)
            out.append(
                Change(
                    "secession_cost",
                    s.secession_cost,
                    new,
                    f"raise the cost of secession from {s.secession_cost:.2%} to {new:.2%} "
                    f"(blocs {', '.join(subjects)} accept less than their outside option)",
                )
            )
    return out


def _down(x: float) -> float:
    return math.floor(max(x, 0.0) * 1e6) / 1e6


def _up(x: float) -> float:
    return math.ceil(max(x, 0.0) * 1e6) / 1e6


def _overrides(s: Structure, changes: list[Change], blocs: list[str]) -> list[str]:
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


def explain(t: Territory, s: Structure, price: float, config: SolverConfig) -> InfeasibleError:
    """The conflicting rules and the cheapest verified concession, as an InfeasibleError."""
    m = build_model(t, s, price)
    remaining = _negotiable(m)
    conflicts: list[list[str]] = []
    labels: list[list[str]] = []
    rows = _Rows(m, config)
    while len(conflicts) < MAX_CONFLICTS and not rows.feasible(remaining):
        found = conflict_set(m, remaining, rows)
        conflicts.append([_describe(m, n) for n in ["budget", *found]])
        labels.append([m.labels[n] for n in found])
        if not found:
            break
        remaining = [n for n in remaining if n not in found]
    relaxation = _Elastic(m, config)
    elastic = relaxation.solve()
    changes: list[Change] = []
    cost, unique, alternative, verified = 0.0, True, [], False
    if elastic is not None:
        cost_model, slack = elastic
        relaxed = [n for n, v in slack.items() if v > 1e-9 * m.v]
        changes = _tighten(t, s, price, _changes(m, relaxed), config)
        cost = cost_model * m.scale
        verified = _works(t, s, price, changes, config)
        for name in relaxed:
            other = relaxation.solve(forbidden=name)
            if other is not None and other[0] <= cost_model * (1 + 1e-7) + 1e-9:
                unique = False
                alternative = [m.labels[n] for n, v in other[1].items() if v > 1e-9 * m.v]
                break
    explanation = Explanation(conflicts, labels, changes, cost, unique, alternative, verified)
    lines = [line for conflict in conflicts for line in [*conflict, ""]][:-1]
    return InfeasibleError(
        f"structure {s.name!r} cannot hold on this dataset at {price:g} USD a barrel; "
        f"{len(conflicts)} conflicting set(s) of rules, each minimal:",
        conflict=lines,
        concession=explanation.concession_text(),
        overrides=_overrides(s, changes, t.blocs) if verified else [],
        explanation=explanation,
    )


def _tighten(
    t: Territory, s: Structure, price: float, changes: list[Change], config: SolverConfig
) -> list[Change]:
    """Move each change back towards its old value as far as feasibility allows (bisection),
    holding the others: per-subject slacks become the least change of each rule's parameter."""
    if not _works(t, s, price, changes, config):
        return changes
    out = list(changes)
    for c in list(out):
        without = [other for other in out if other is not c]
        if without and _works(t, s, price, without, config):
            out = without
    for i, c in enumerate(out):
        works = _bisection(t, s, price, out, i, config)
        good, bad = 1.0, 0.0
        for _ in range(BISECTION_STEPS):
            mid = (good + bad) / 2
            if works(mid):
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
    can, else by building the model for each fraction (:func:`_works`)."""

    def rebuilt(fraction: float) -> bool:
        return _works(t, s, price, [*out[:i], _at(out[i], fraction), *out[i + 1 :]], config)

    if config.name != "highs" or not cuts.IN_PLACE:
        return rebuilt
    moving = _Moving.build(t, s, price, out, i, config)
    return rebuilt if moving is None else moving.works(rebuilt)


class _Moving:
    """One change's bisection in one warm-started HiGHS LP. The model is built at the two
    extreme values the bisection can try and once between to check that it moves affinely
    with the parameter (:class:`revshare.solve.program.Affine`); each fraction then moves the
    matrix entries and bounds that differ, instead of building the model again. A rule exists
    only where its parameter is positive, so an extreme at 0 is built at the smallest positive
    value the rounding gives (:func:`_down`), and a fraction at 0 is built."""

    def __init__(
        self,
        t: Territory,
        s: Structure,
        parameter: str,
        trial: Callable[[float], list[Change]],
        ends: tuple[float, float],
        move: Affine,
        rows: _Rows,
    ) -> None:
        self.t, self.s, self.parameter, self.trial = t, s, parameter, trial
        self.ends, self.move, self.rows = ends, move, rows
        self.names = _negotiable(rows.lp.m)

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
        build fails (as :func:`_works` counts any failure as "does not hold"), the builds have
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
        except Exception:  # as _works counts it; the bisection then rebuilds
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
        rows = _Rows(built[values[0]], config, inst[0])
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
    return apply_overrides(s, _overrides(s, changes, t.blocs))


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
    value = _up(value) if c.new > c.old else _down(value)
    # Only the figure after " to " is the new value: replacing every occurrence of its text
    # would also rewrite the old value where one contains the other ("from 0.5 to 0").
    head, sep, tail = c.sentence.rpartition(f" to {_fmt(c.parameter, c.new)}")
    sentence = f"{head} to {_fmt(c.parameter, value)}{tail}" if sep else c.sentence
    return Change(c.parameter, c.old, value, sentence)


def _fmt(parameter: str, value: float) -> str:
    return f"{value:.4g}" if parameter in ("per_capita_floor", "per_capita_cap") else f"{value:.2%}"


def _works(
    t: Territory, s: Structure, price: float, changes: list[Change], config: SolverConfig
) -> bool:
    try:
        relaxed = apply_overrides(s, _overrides(s, changes, t.blocs))
        m = build_model(t, relaxed, price)
    except Exception:
        return False
    return _Rows(m, config).feasible(_negotiable(m))
