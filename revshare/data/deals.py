"""Deals as written: accounts, pools and rules of a structure (docs: data/README.md, "Deals").

A structure's ``accounts`` are recipients that are not (region, faction) cells: governments at
every level, funds and named bodies. Its ``pools`` name money: total revenue, the revenue of named
fields, regions or blocs, and what is left of one after earlier rules. Its ``rules`` pay a pool's
money to recipients, each ``exactly``, ``at least`` or ``at most`` what it says, in the order
written (a waterfall).

This module reads and checks their shape (names, numbers and ranges, references between them);
what each rule kind means (its rows in the model, its independent check, its sentence) is its
entry in :mod:`revshare.model.deal_rules`, which also checks the names against a dataset.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

ACCOUNT_KINDS = ("government", "fund", "body")
"""A government may serve a population (``serves``), a fund or a body serves nobody."""
RELATIONS = ("exactly", "at least", "at most")
REVENUE = "revenue"
"""The pool of all oil revenue, always defined."""
REGION_TEMPLATE = "{region}"
"""An account named with this placeholder is one account per region, serving that region."""
MAX_USD = 1e15
"""Largest fixed amount or rate in USD (the dataset's revenue limit, data/README.md)."""
MAX_USD_PER_BARREL = 10_000.0
"""Largest per-barrel payment: the highest price a dataset accepts."""


class Account(NamedTuple):
    """A recipient that is not a cell. ``serves`` is ``"all"``, a bloc or a region (a
    government's population, for per-head figures), or empty."""

    name: str
    kind: str
    serves: str = ""
    citation: str = ""


class Pool(NamedTuple):
    """Money a rule draws on: ``of`` (``revenue``, or the revenue of named ``fields``,
    ``regions`` or ``blocs``), less what the rules named in ``after`` paid out of it."""

    name: str
    of_kind: str = REVENUE  # revenue | fields | regions | blocs
    of_names: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


class Rule(NamedTuple):
    """One rule of a deal: its ``kind`` (a key of the rule registry) and its parameters
    (``params``, never changed in place: a rule without them shares the empty default)."""

    name: str
    kind: str
    pool: str = REVENUE
    relation: str = "exactly"
    params: Mapping[str, Any] = {}  # read only (see above)
    citation: str = ""
    origin: str = ""  # where it was written: "FILE:LINE" once placed
    inline_pool: Pool | None = None  # a pool written in the rule itself, named after the rule

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


class Deal(NamedTuple):
    """The accounts, pools and rules of a structure; empty for today's parameter structures.
    Read only: a deal without accounts or pools shares the empty defaults."""

    accounts: Mapping[str, Account] = {}
    pools: Mapping[str, Pool] = {}
    rules: tuple[Rule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.accounts or self.rules)


Bad = Callable[..., None]
RULE_KEYS = frozenset(
    {
        "name",
        "kind",
        "pool",
        "relation",
        "citation",
        "share",
        "to",
        "among",
        "by",
        "except_blocs",
        "usd",
        "usd_per_barrel",
    }
)
"""Every key a rule may have; which of them a kind needs is its registry entry's schema."""


def parse_deal(table: Mapping[str, Any], bad: Bad) -> Deal:
    """The deal parts of a structure table (``accounts``, ``pools``, ``rules``), shape-checked;
    ``bad(key, message, remedy, code)`` collects every problem."""
    accounts = _accounts(table.get("accounts", {}), bad)
    rules = _rules(table.get("rules", ()), bad)
    pools = _pools(table.get("pools", {}), bad)
    deal = Deal(accounts, pools, rules)
    _check_references(deal, bad)
    return deal


def _accounts(value: Any, bad: Bad) -> dict[str, Account]:
    if isinstance(value, Mapping) and all(isinstance(a, Account) for a in value.values()):
        return dict(value)
    if not isinstance(value, Mapping):
        bad("accounts", "must be a table of account tables", 'write [structures.X.accounts."Name"]')
        return {}
    out = {}
    for name, spec in value.items():
        key = f"accounts.{name}"
        if not isinstance(spec, Mapping):
            bad(key, "must be a table", 'write e.g. { kind = "fund" }')
            continue
        unknown = sorted(set(spec) - {"kind", "serves", "citation"})
        if unknown:
            bad(key, f"unknown key(s) {', '.join(unknown)}", "use kind, serves and citation")
        kind = spec.get("kind")
        if kind not in ACCOUNT_KINDS:
            bad(
                f"{key}.kind",
                f"kind must be one of {', '.join(ACCOUNT_KINDS)}, got {kind!r}",
                "set kind",
                "E-UNKNOWN-NAME",
            )
            continue
        serves = spec.get("serves", "")
        if REGION_TEMPLATE in name:
            serves = serves or REGION_TEMPLATE
        if not isinstance(serves, str) or (serves and kind != "government"):
            bad(
                f"{key}.serves",
                f"only a government serves a population (this is a {kind})",
                "remove serves, or make the account a government",
            )
            continue
        out[name] = Account(name, kind, serves, str(spec.get("citation", "")))
    return out


def _pools(value: Any, bad: Bad) -> dict[str, Pool]:
    if isinstance(value, Mapping) and all(isinstance(p, Pool) for p in value.values()):
        return dict(value)
    if not isinstance(value, Mapping):
        bad("pools", "must be a table of pools", 'write pools.south = { blocs = ["south"] }')
        return {}
    out = {}
    for name, spec in value.items():
        if name == REVENUE:
            bad(
                f"pools.{name}", "'revenue' is always all revenue", "use another name", "E-RESERVED"
            )
            continue
        pool = pool_from_table(name, spec, bad)
        if pool is not None:
            out[name] = pool
    return out


def pool_from_table(name: str, spec: Any, bad: Bad) -> Pool | None:
    """A pool from ``{ of = "revenue" | { regions = [...] } ..., after = [rule names] }``."""
    key = f"pools.{name}"
    if not isinstance(spec, Mapping):
        bad(key, "must be a table", 'write e.g. { of = { blocs = ["south"] } }')
        return None
    unknown = sorted(set(spec) - {"of", "after"})
    if unknown:
        bad(key, f"unknown key(s) {', '.join(unknown)}", "use of and after")
    of = spec.get("of", REVENUE)
    of_kind, of_names = REVENUE, ()
    if isinstance(of, Mapping) and len(of) == 1:
        of_kind, names = next(iter(of.items()))
        if of_kind not in ("fields", "regions", "blocs") or not _names(names):
            bad(f"{key}.of", f"cannot read {of!r}", 'write of = { regions = ["A", "B"] }')
            return None
        of_names = tuple(names)
    elif of != REVENUE:
        bad(f"{key}.of", f"cannot read {of!r}", 'write "revenue" or { blocs = ["B"] }')
        return None
    after = spec.get("after", [])
    if not _names(after, empty=True):
        bad(f"{key}.after", f"must be a list of rule names, got {after!r}", 'write ["rule"]')
        return None
    return Pool(name, of_kind, of_names, tuple(after))


def _names(value: Any, empty: bool = False) -> bool:
    return (
        isinstance(value, list | tuple)
        and (empty or bool(value))
        and all(isinstance(v, str) and v for v in value)
    )


def _rules(value: Any, bad: Bad) -> tuple[Rule, ...]:
    if isinstance(value, list | tuple) and all(isinstance(r, Rule) for r in value):
        return tuple(value)
    if not isinstance(value, list | tuple):
        bad("rules", "must be an array of tables", "write [[structures.X.rules]]")
        return ()
    out: list[Rule] = []
    for i, spec in enumerate(value, start=1):
        key = f"rules[{i}]"
        if not isinstance(spec, Mapping):
            bad(key, "must be a table", "write [[structures.X.rules]] with name and kind")
            continue
        name, kind = spec.get("name"), spec.get("kind")
        if not isinstance(name, str) or not name:
            bad(key, "a rule needs a name", 'add name = "..." (later pools refer to it)')
            continue
        unknown = sorted(set(spec) - RULE_KEYS)
        if unknown:
            bad(f"{key}.{unknown[0]}", f"unknown key(s) {', '.join(unknown)}", "remove them")
        relation = spec.get("relation", "exactly")
        if relation not in RELATIONS:
            bad(f"{key}.relation", f"must be one of {', '.join(RELATIONS)}", "fix it")
        numbers = {k: spec[k] for k in ("share", "usd", "usd_per_barrel") if k in spec}
        limits = {"share": 1.0, "usd": MAX_USD, "usd_per_barrel": MAX_USD_PER_BARREL}
        for k, v in numbers.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                bad(f"{key}.{k}", f"must be a number, got {v!r}", "write a number")
            elif not 0 <= v <= limits[k]:
                bad(f"{key}.{k}", f"must be in [0, {limits[k]:g}], got {v!r}", "fix it", "E-RANGE")
        pool = spec.get("pool", REVENUE)
        if isinstance(pool, Mapping):  # an inline pool is named after its rule
            inline = pool_from_table(f"{name} (pool)", pool, bad)
            pool = inline if inline is not None else REVENUE
        elif not isinstance(pool, str):
            bad(f"{key}.pool", f"must be a pool's name or a table, got {pool!r}", "fix it")
            pool = REVENUE
        skip = ("name", "kind", "pool", "relation", "citation")
        out.append(
            Rule(
                name,
                str(kind),
                pool if isinstance(pool, str) else pool.name,
                str(relation),
                {k: v for k, v in spec.items() if k not in skip},
                str(spec.get("citation", "")),
                inline_pool=pool if isinstance(pool, Pool) else None,
            )
        )
    seen: set[str] = set()
    for r in out:
        if r.name in seen:
            bad("rules", f"two rules are named {r.name!r}", "rename one", "E-DUPLICATE")
        seen.add(r.name)
    return tuple(out)


def _check_references(deal: Deal, bad: Bad) -> None:
    """Every pool names rules written before the first rule that draws on it (a waterfall pays
    in order, so a pool cannot wait for a later rule)."""
    order = {r.name: i for i, r in enumerate(deal.rules)}
    pools = dict(deal.pools)
    pools.update({r.pool: r.inline_pool for r in deal.rules if r.inline_pool is not None})
    for i, r in enumerate(deal.rules):
        if r.pool != REVENUE and r.pool not in pools:
            bad(
                f"rules[{i + 1}].pool",
                f"rule {r.name!r} draws on pool {r.pool!r}, which is not defined",
                f"define pools.{r.pool} or use one of {', '.join([REVENUE, *pools])}",
                "E-UNKNOWN-NAME",
            )
            continue
        for earlier in pools.get(r.pool, Pool(REVENUE)).after:
            if earlier not in order:
                bad(
                    f"rules[{i + 1}].pool",
                    f"pool {r.pool!r} is what is left after rule {earlier!r}, which is not defined",
                    "name a rule of this structure",
                    "E-UNKNOWN-NAME",
                )
            elif order[earlier] >= i:
                bad(
                    f"rules[{i + 1}].pool",
                    f"rule {r.name!r} draws on what is left after {earlier!r}, which comes "
                    "later in the list",
                    "move the rule below the rules it waits for",
                    "E-ORDER",
                )


def all_pools(deal: Deal) -> dict[str, Pool]:
    """The named pools, the inline ones, and ``revenue``."""
    out = {REVENUE: Pool(REVENUE), **deal.pools}
    out.update({r.pool: r.inline_pool for r in deal.rules if r.inline_pool is not None})
    return out
