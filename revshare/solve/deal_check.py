"""Independent check of a deal's payments, in USD, from the data and the reported money.

The solver reports what each rule paid each recipient and what each account holds. Here every
pool is recomputed from the fields' revenue and the payments of the rules it comes after, every
due from the rule kind's terms (:mod:`revshare.model.deal_rules`), and every recipient's money
against what it was paid; nothing is read from the model's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data.dataset import Territory
from ..data.structures import Structure
from ..model.deal_rules import DealData, Due, Recipient, dues


@dataclass(frozen=True)
class DealMoney:
    """A deal's reported money in USD: each account's, and each (rule, recipient) payment."""

    accounts: Mapping[str, float] = field(default_factory=dict)
    payments: Mapping[tuple[str, str], float] = field(default_factory=dict)


def pool_amounts(
    data: DealData, found: list[Due], payments: Mapping[tuple[str, str], float]
) -> dict[str, float]:
    """Each pool's money in USD: its base from the fields' revenue, less its part of what the
    rules it comes after paid (``payments``, as reported)."""
    out: dict[str, float] = {}
    rules = {r.name: r for r in data.structure.deal.rules}
    terms = {due.rule.name: due.terms for due in found}
    for due in found:
        if due.pool.name in out:
            continue
        out[due.pool.name] = data.base(due.pool) - sum(
            data.drawn(due.pool, rules[e], term.recipient)
            * float(payments.get((e, term.recipient.name), np.nan))
            for e in due.pool.after
            for term in terms.get(e, ())
        )
    return out


def deal_residuals(
    t: Territory,
    s: Structure,
    price: float,
    cells_usd: np.ndarray,
    centre_usd: float,
    money: DealMoney,
) -> list[tuple[str, float]]:
    """Each deal rule's shortfall in USD (positive means violated), one entry per rule and
    recipient, then each account, recipient and pool."""
    if not s.deal:
        return []
    data = DealData(t, s, price)
    found, problems = dues(data)
    if problems:  # the structure cannot apply here: nothing it reports can be trusted
        return [(f"deal[{p.column}]", float("inf")) for p in problems]
    out: list[tuple[str, float]] = []
    drawn: dict[str, float] = {}
    pools = pool_amounts(data, found, money.payments)
    inflow: dict[Recipient, float] = {}
    for due in found:
        pool = pools[due.pool.name]
        total = 0.0
        for term in due.terms:
            name = f"{due.rule.name}[{term.recipient.name}]"
            got = float(money.payments.get((due.rule.name, term.recipient.name), np.nan))
            owed = term.share * pool + term.usd
            shortfall = {
                "exactly": abs(got - owed),
                "at least": owed - got,
                "at most": got - owed,
            }[due.rule.relation]
            out.append((name, shortfall if np.isfinite(got) else float("inf")))
            out.append((f"paid[{name}]", -got if np.isfinite(got) else float("inf")))
            total += got
            inflow[term.recipient] = inflow.get(term.recipient, 0.0) + got
        drawn[due.pool.name] = drawn.get(due.pool.name, 0.0) + total
    out += [(f"pool[{name}]", drawn[name] - pools[name]) for name in drawn]
    for name in data.accounts:
        held = float(money.accounts.get(name, np.nan))
        owed = inflow.get(Recipient("account", name), 0.0)
        out.append((f"account[{name}]", abs(held - owed) if np.isfinite(held) else float("inf")))
    centre = inflow.get(Recipient("centre", s.centre))
    if centre is not None:
        out.append((f"receives[{s.centre}]", centre - centre_usd))
    cells = t.cells
    x_region = (
        np.bincount(
            t.regions.index.get_indexer(cells["region"]),
            weights=cells_usd,
            minlength=len(t.regions),
        )
        if len(cells)
        else np.zeros(len(t.regions))
    )
    by_region = dict(zip(map(str, t.regions.index), x_region, strict=True))
    blocs = t.regions["bloc"].astype(str)
    for recipient, amount in inflow.items():
        if recipient.kind == "region":
            out.append((f"receives[{recipient.name}]", amount - by_region[recipient.name]))
        elif recipient.kind == "bloc":
            members = [str(r) for r in blocs.index[blocs == recipient.name]]
            into = amount + sum(inflow.get(Recipient("region", r), 0.0) for r in members)
            out.append((f"receives[{recipient.name}]", into - sum(by_region[r] for r in members)))
    return out
