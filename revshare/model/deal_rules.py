"""The rule kinds of a deal, one registry entry each (docs: data/README.md, "Deals").

Every rule pays each of its recipients an amount ``c * P + d`` (exactly, at least or at most):
``P`` is the money of the rule's pool and ``c`` and ``d`` come from the data at the price. A kind
is its :class:`RuleKind` entry: the keys it takes, its ``terms`` (the ``c`` and ``d`` of each
recipient, from the data alone), the sentence that explains it, and a citation of a real deal
that uses it. :mod:`revshare.model.lp` turns terms into named rows; :mod:`revshare.solve.verify`
recomputes them in USD from the data and the reported payments. Adding a kind is one entry here.

Pools. ``P`` of a pool is its base (all revenue, or the revenue of named fields, regions or blocs)
less what the rules it comes ``after`` paid out of that base (:meth:`DealData.drawn`): a payment
to a producing region comes out of that region's own fields, as derivation does; any other
payment out of its pool's fields in proportion to their revenue, so that a pool over a part of
the country bears that part's share of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..data.dataset import DAYS_PER_YEAR, Territory
from ..data.deals import REGION_TEMPLATE, REVENUE, Account, Pool, Rule, all_pools
from ..data.structures import Structure
from ..errors import Problem


class Recipient(NamedTuple):
    """Where money goes: ``centre``, an ``account``, a ``region``'s cells or a ``bloc``'s."""

    kind: str
    name: str


class Term(NamedTuple):
    """A rule's due to one recipient: ``share * P + usd`` (USD, at the price)."""

    recipient: Recipient
    share: float
    usd: float


class DealData:
    """The data a deal reads at one price, in USD: fields rows, regions, blocs, accounts."""

    def __init__(self, t: Territory, s: Structure, price: float) -> None:
        self.territory, self.structure, self.price = t, s, price
        f = t.fields
        self.row_revenue = t.field_revenue(price).to_numpy(dtype=float)
        days = DAYS_PER_YEAR * f["share"].to_numpy(dtype=float)
        self.row_barrels = f["production_bpd"].to_numpy(dtype=float) * days
        self.row_region = f["region"].astype(str).to_numpy()
        self.row_field = f["field"].astype(str).to_numpy()
        self.region_bloc = t.regions["bloc"].astype(str)
        self.row_bloc = self.region_bloc.reindex(self.row_region).to_numpy()
        self.accounts = expand_accounts(s, t)
        self.pools = all_pools(s.deal)

    def pool_mask(self, pool: Pool) -> np.ndarray:
        """The fields rows whose revenue forms ``pool``'s base."""
        names = set(pool.of_names)
        if pool.of_kind == "fields":
            return np.isin(self.row_field, list(names))
        if pool.of_kind == "regions":
            return np.isin(self.row_region, list(names))
        if pool.of_kind == "blocs":
            return np.isin(self.row_bloc, list(names))
        return np.ones(len(self.row_revenue), dtype=bool)

    def base(self, pool: Pool) -> float:
        return float(self.row_revenue[self.pool_mask(pool)].sum())

    def drawn(self, pool: Pool, earlier: Rule, recipient: Recipient) -> float:
        """The part of ``earlier``'s payment to ``recipient`` that came out of ``pool``'s base.

        A payment to a region (or to a government serving one) that produces inside
        ``earlier``'s pool is drawn from that region's own fields, as derivation is; any other
        payment from all of ``earlier``'s pool in proportion to its fields' revenue.
        """
        theirs = self.pool_mask(self.pools[earlier.pool])
        ours = self.pool_mask(pool)
        region = self.region_of(recipient)
        if region is not None:
            own = theirs & (self.row_region == region)
            total = self.row_revenue[own].sum()
            if total > 0:
                return float(self.row_revenue[own & ours].sum() / total)
        total = self.row_revenue[theirs].sum()
        if not total > 0:
            return 0.0
        return float(self.row_revenue[theirs & ours].sum() / total)

    def population(self, recipient: Recipient) -> float | None:
        """The population a recipient serves (None for funds and bodies)."""
        t = self.territory
        if recipient.kind == "centre":
            return t.population
        if recipient.kind == "region":
            return float(t.regions.loc[recipient.name, "population"])
        if recipient.kind == "bloc":
            return float(t.regions.loc[self.region_bloc == recipient.name, "population"].sum())
        serves = self.accounts[recipient.name].serves
        if serves == "all":
            return t.population
        if serves in t.regions.index:
            return float(t.regions.loc[serves, "population"])
        if serves in t.blocs:
            return float(t.regions.loc[self.region_bloc == serves, "population"].sum())
        return None

    def region_of(self, recipient: Recipient) -> str | None:
        if recipient.kind == "region":
            return recipient.name
        if recipient.kind == "account":
            serves = self.accounts[recipient.name].serves
            return serves if serves in self.territory.regions.index else None
        return None


def expand_accounts(s: Structure, t: Territory) -> dict[str, Account]:
    """The structure's accounts, with each ``{region}`` account made one per region."""
    out: dict[str, Account] = {}
    for name, a in s.deal.accounts.items():
        if REGION_TEMPLATE in name:
            for r in t.regions.index:
                out[name.replace(REGION_TEMPLATE, str(r))] = Account(
                    name.replace(REGION_TEMPLATE, str(r)), a.kind, str(r), a.citation
                )
        else:
            out[name] = a
    return out


def resolve(data: DealData, name: str) -> Recipient | None:
    """The recipient a name in a rule means, or None when the dataset has no such name."""
    s, t = data.structure, data.territory
    if name in (s.centre, "centre"):
        return Recipient("centre", s.centre)
    if name in data.accounts:
        return Recipient("account", name)
    if name in t.regions.index:
        return Recipient("region", name)
    if name in t.blocs:
        return Recipient("bloc", name)
    return None


def among(data: DealData, rule: Rule, pool: Pool) -> list[Recipient] | str:
    """The recipients of a rule that pays many (``among``), or the reason it cannot."""
    spec = rule.get("among", "producing regions")
    t = data.territory
    excluded = set(rule.get("except_blocs", []))
    if spec in ("regions", "producing regions"):
        regions = [str(r) for r in t.regions.index]
        if spec == "producing regions":
            mask = data.pool_mask(pool)
            producing = pd.Series(data.row_revenue[mask]).groupby(data.row_region[mask]).sum()
            regions = [r for r in regions if producing.get(r, 0.0) > 0]
        out = [Recipient("region", r) for r in regions if data.region_bloc[r] not in excluded]
    elif spec == "blocs":
        out = [Recipient("bloc", str(b)) for b in t.blocs if b not in excluded]
    elif isinstance(spec, str) and REGION_TEMPLATE in spec:
        if spec not in data.structure.deal.accounts:
            return f"no account {spec!r} is declared"
        out = [
            Recipient("account", spec.replace(REGION_TEMPLATE, str(r)))
            for r in t.regions.index
            if data.region_bloc[r] not in excluded
        ]
    elif isinstance(spec, list | tuple) and spec and all(isinstance(n, str) for n in spec):
        found = [resolve(data, n) for n in spec]
        missing = [n for n, r in zip(spec, found, strict=True) if r is None]
        if missing:
            return f"names {', '.join(map(repr, missing))}, which is no recipient of this dataset"
        out = [r for r in found if r is not None]
    else:
        return f"among = {spec!r} is not a list of recipients, 'regions', 'producing regions', 'blocs' or an account named with {REGION_TEMPLATE}"
    return out or "pays nobody here (no recipient is left)"


INDICATORS = {"population": "population", "area": "area_km2", "need": "need_index"}


def weights(
    data: DealData, rule: Rule, pool: Pool, recipients: list[Recipient]
) -> np.ndarray | str:
    """The split weights of ``recipients`` (summing to 1), or the reason they cannot be had."""
    by = rule.get("by", "population")
    n = len(recipients)
    if isinstance(by, Mapping) and set(by) <= {"equality", *INDICATORS}:
        total = sum(float(w) for w in by.values())
        if not total > 0:
            return "its weights sum to 0"
        mix = np.zeros(n)
        for indicator, w in by.items():
            one = weights(
                data, Rule(rule.name, rule.kind, params={"by": indicator}), pool, recipients
            )
            if isinstance(one, str):
                return one
            mix += float(w) / total * one
        return mix
    if isinstance(by, Mapping):
        names = [r.name for r in recipients]
        missing = sorted(set(names) - set(by))
        if missing:
            return f"its weights name no weight for {', '.join(missing)}"
        w = np.array([float(by[n]) for n in names])
    elif by == "equality":
        w = np.ones(n)
    elif by == "output":
        mask = data.pool_mask(pool)
        out = pd.Series(data.row_revenue[mask]).groupby(data.row_region[mask]).sum()
        regions = [data.region_of(r) for r in recipients]
        if None in regions:
            return "by = 'output' needs recipients that are regions or serve one"
        w = np.array([float(out.get(r, 0.0)) for r in regions])
    elif by == "population":
        pops = [data.population(r) for r in recipients]
        if any(p is None for p in pops):
            return "by = 'population' needs recipients that serve a population"
        w = np.array(pops, dtype=float)
    elif by in INDICATORS:
        regions = [data.region_of(r) for r in recipients]
        if None in regions:
            return f"by = {by!r} needs recipients that are regions or serve one"
        column = data.territory.regions[INDICATORS[str(by)]].astype(float)
        w = column.reindex(regions).to_numpy(dtype=float)
        if not np.all(np.isfinite(w) & (w > 0)):
            return f"by = {by!r} needs {INDICATORS[str(by)]} > 0 in regions.csv for every recipient"
    else:
        return f"by = {by!r} is not an indicator ({', '.join(['equality', 'output', *INDICATORS])}), a table of them, or a table of recipient weights"
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        return "its weights are not finite and non-negative with a positive sum"
    return w / w.sum()


Terms = list[Term] | str


def _share(data: DealData, rule: Rule, pool: Pool) -> Terms:
    to = resolve(data, str(rule.get("to", "")))
    if to is None:
        return f"pays {rule.get('to')!r}, which is no recipient of this dataset"
    return [Term(to, float(rule.get("share")), 0.0)]


def _split(data: DealData, rule: Rule, pool: Pool) -> Terms:
    recipients = among(data, rule, pool)
    if isinstance(recipients, str):
        return recipients
    w = weights(data, rule, pool, recipients)
    if isinstance(w, str):
        return w
    share = float(rule.get("share", 1.0))
    return [Term(r, share * float(wi), 0.0) for r, wi in zip(recipients, w, strict=True)]


def _per_unit(data: DealData, rule: Rule, pool: Pool) -> Terms:
    recipients = among(data, rule, pool)
    if isinstance(recipients, str):
        return recipients
    mask = data.pool_mask(pool)
    if not np.all(np.isfinite(data.row_barrels[mask])):
        return "pays per barrel, but some fields give revenue in USD, not barrels"
    rate = float(rule.get("usd_per_barrel"))
    # never more than the barrel earns: each fields row pays at most its own revenue
    paid = np.minimum(rate * data.row_barrels, data.row_revenue) * mask
    by_region = pd.Series(paid).groupby(data.row_region).sum()
    out = []
    for r in recipients:
        region = data.region_of(r)
        if region is None:
            return "pays per barrel to recipients that are regions or serve one"
        out.append(Term(r, 0.0, float(by_region.get(region, 0.0))))
    return out


def _fixed(data: DealData, rule: Rule, pool: Pool) -> Terms:
    to = resolve(data, str(rule.get("to", "")))
    if to is None:
        return f"pays {rule.get('to')!r}, which is no recipient of this dataset"
    return [Term(to, 0.0, float(rule.get("usd")))]


class RuleKind(NamedTuple):
    """One rule kind: the keys it needs and may take, its terms, its sentence, a real use."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    terms: Callable[[DealData, Rule, Pool], Terms]
    says: str  # "{to}" and "{pool}" are filled in
    citation: str


RULE_KINDS: dict[str, RuleKind] = {
    k.name: k
    for k in (
        RuleKind(
            "share",
            ("share", "to"),
            (),
            _share,
            "{to} receives {relation} {share:.6g} of {pool}",
            "Iraq, Federal Budget Law 13 of 2023: the Kurdistan Region 12.67% of the budget after "
            "sovereign expenses",
        ),
        RuleKind(
            "split",
            (),
            ("share", "among", "by", "except_blocs"),
            _split,
            "{among} receive {relation} {share:.6g} of {pool}, split by {by}",
            "Nigeria, the horizontal formula of the Federation Account (equality 40, population "
            "30, landmass 10, social development 10, internal revenue effort 10)",
        ),
        RuleKind(
            "per_unit",
            ("usd_per_barrel",),
            ("among", "except_blocs"),
            _per_unit,
            "{among} receive {relation} {usd_per_barrel:g} USD a barrel produced (never more "
            "than the barrel earns), from {pool}",
            "Iraq, Law 21 of 2008 as amended in 2013: USD 5 a barrel produced to the producing "
            "governorate (the 'petrodollar')",
        ),
        RuleKind(
            "fixed",
            ("usd", "to"),
            (),
            _fixed,
            "{to} receives {relation} {usd:,.0f} USD a year from {pool}",
            "South Sudan and Sudan, Agreement on Oil and Related Economic Matters (2012): the "
            "Transitional Financial Arrangement, USD 3.028 billion",
        ),
    )
}


class Due(NamedTuple):
    """One rule's dues at a price: its pool, its terms, or the problem that stops it."""

    rule: Rule
    pool: Pool
    terms: tuple[Term, ...]


def dues(data: DealData) -> tuple[list[Due], list[Problem]]:
    """Every rule's terms at the data's price, and every problem at once."""
    s = data.structure
    out, problems = [], []
    for rule in s.deal.rules:
        due = _due(data, rule)
        if isinstance(due, Due):
            out.append(due)
            continue
        where, _, line = rule.origin.rpartition(":")
        file, number = (where, int(line)) if line.isdigit() else (rule.origin or s.source, None)
        message, remedy, code = due
        problems.append(
            Problem(file, number, rule.name, code, f"rule {rule.name!r} {message}", remedy)
        )
    known = {"all", *map(str, data.territory.regions.index), *map(str, data.territory.blocs)}
    for name, a in data.accounts.items():
        if a.serves and a.serves not in known:
            problems.append(
                Problem(
                    s.source,
                    None,
                    f"accounts.{name}.serves",
                    "E-UNKNOWN-NAME",
                    f"account {name!r} serves {a.serves!r}, which is no region or bloc here",
                    'name a region or a bloc, or "all"',
                )
            )
    return out, problems


def _due(data: DealData, rule: Rule) -> Due | tuple[str, str, str]:
    """One rule's terms, or (message, remedy, code) saying why it cannot apply."""
    kind = RULE_KINDS.get(rule.kind)
    if kind is None:
        return (
            f"has unknown kind {rule.kind!r}",
            f"use one of {', '.join(RULE_KINDS)}",
            "E-UNKNOWN-NAME",
        )
    missing = [k for k in kind.required if k not in rule.params]
    extra = sorted(set(rule.params) - set(kind.required) - set(kind.optional))
    if missing or extra:
        return (
            f"of kind {kind.name!r} "
            + (f"needs {', '.join(missing)}" if missing else f"takes no {', '.join(extra)}"),
            f"a {kind.name} rule takes {', '.join(kind.required + kind.optional)}",
            "E-DEAL",
        )
    pool = data.pools[rule.pool]
    unknown = [n for n in pool.of_names if n not in _known(data, pool.of_kind)]
    if unknown:
        return (
            f"draws on pool {pool.name!r}, whose {pool.of_kind} "
            f"{', '.join(map(repr, unknown))} this dataset does not have",
            f"name {pool.of_kind} of the dataset",
            "E-UNKNOWN-NAME",
        )
    terms = kind.terms(data, rule, pool)
    if isinstance(terms, str):
        return terms, "fix the rule or the data it reads", "E-DEAL"
    return Due(rule, pool, tuple(terms))


def _known(data: DealData, kind: str) -> set[str]:
    if kind == "fields":
        return set(data.row_field)
    if kind == "regions":
        return set(map(str, data.territory.regions.index))
    return set(map(str, data.territory.blocs))


def sentence(due: Due, term: Term | None = None) -> str:
    """What a rule says, in words, with where it was written."""
    rule = due.rule
    kind = RULE_KINDS[rule.kind]
    pool = "all revenue" if due.pool.name == REVENUE else f"pool {due.pool.name!r}"
    among = term.recipient.name if term is not None else rule.get("among", "producing regions")
    values = {
        "to": rule.get("to"),
        "pool": pool,
        "relation": rule.relation,
        "share": float(rule.get("share", 1.0)),
        "among": among,
        "by": rule.get("by", "population"),
        "usd": float(rule.get("usd", 0.0)),
        "usd_per_barrel": float(rule.get("usd_per_barrel", 0.0)),
    }
    text = kind.says.format(**values)
    if term is not None and rule.kind == "split":  # one recipient's part of the split
        text = (
            f"{term.recipient.name} receives {rule.relation} {term.share:.6g} of {pool} (its part "
            f"of a split of {values['share']:.6g} by {values['by']})"
        )
    return f"rule {rule.name!r} ({rule.origin or 'structure'}): {text}"
