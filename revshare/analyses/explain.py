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
   answer says "one of several" and names an alternative. Each change is then moved back towards
   its old value as far as feasibility allows (:func:`revshare.analyses.concession.tighten`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from ..data.dataset import Territory
from ..data.structures import Structure, locate
from ..errors import InfeasibleError
from ..model.lp import Model, build_model
from ..model.parameters import PARAMETER_RULES, damage_weights
from ..solve.lp import open_lp
from ..solve.solver import SolverConfig, Status
from .concession import Change, Rows, negotiable, overrides, round_down, round_up, tighten, works

MAX_CONFLICTS = 4


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
    return Rows(m, config or SolverConfig()).feasible([by_label[label] for label in labels])


def conflict_set(m: Model, candidates: list[str], rows: Rows) -> list[str]:
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
        for k, name in enumerate(negotiable(m)):
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
        self.lp = open_lp(m, config, prob)

    def solve(self, forbidden: str | None = None) -> tuple[float, dict[str, float]] | None:
        """The least total slack and each rule's slack, with the rule ``forbidden`` (if any)
        held exactly; ``None`` if even that fails."""
        held = [self.slacks[forbidden]] if forbidden is not None else []
        self.lp.bound(held, 0.0, 0.0)
        try:
            # cold: a warm start from the last optimum is faster but can end at another vertex
            # of a degenerate optimum and name another alternative concession
            status = self.lp.optimise(self.prob.objective, pulp.LpMinimize, cold=True)
        finally:  # through PuLP the bounds are the model's variables'
            self.lp.bound(held, 0.0, np.inf)
        if status is not Status.OPTIMAL:
            return None
        variables = self.prob.variables()
        for v, x in zip(variables, self.lp.values(variables), strict=True):
            v.varValue = float(x)  # the model's values, which the changes are read from
        return float(pulp.value(self.prob.objective)), {
            n: float(s.value() or 0.0) for n, s in self.slacks.items()
        }


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
                    new = round_down(g) if bound == "lower" else round_up(g)
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
                new = round_down(money(column, subject) / D)
                out.append(
                    Change(
                        f"{rule}.{subject}",
                        old,
                        new,
                        f"lower the {subject} {column} share from {old:.2%} to {new:.2%}",
                    )
                )
        elif rule == "floor":
            new = round_down(min(z[k] / D for k in subjects))
            out.append(
                Change(
                    "per_capita_floor",
                    s.per_capita_floor or 0.0,
                    new,
                    f"lower the per-head floor from {s.per_capita_floor:.4g} to {new:.4g} times the mean",
                )
            )
        elif rule == "cap":
            new = round_up(max(z[k] / D for k in subjects))
            out.append(
                Change(
                    "per_capita_cap",
                    s.per_capita_cap or 0.0,
                    new,
                    f"raise the per-head cap from {s.per_capita_cap:.4g} to {new:.4g} times the mean",
                )
            )
        elif rule == "derivation":
            new = round_down(
                min(money("region", r) / (m.region_revenue[r] / m.scale) for r in subjects)
            )
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
                new = round_down(money("bloc", b) / (m.bloc_revenue[b] / m.scale))
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
            new = round_down(min(money("region", r) / (w[r] * pool) for r in subjects))
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
            new = round_up(1 - keep)
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


def explain(t: Territory, s: Structure, price: float, config: SolverConfig) -> InfeasibleError:
    """The conflicting rules and the cheapest verified concession, as an InfeasibleError."""
    m = build_model(t, s, price)
    remaining = negotiable(m)
    conflicts: list[list[str]] = []
    labels: list[list[str]] = []
    rows = Rows(m, config)
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
        changes = tighten(t, s, price, _changes(m, relaxed), config)
        cost = cost_model * m.scale
        verified = works(t, s, price, changes, config)
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
        overrides=overrides(s, changes, t.blocs) if verified else [],
        explanation=explanation,
    )
