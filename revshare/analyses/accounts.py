"""The recipients that are not cells: the centre and a deal's accounts, and what each rule paid.

``accounts`` has one row per recipient that is not a (region, faction) cell: the centre (the
national government's account, named by the structure's ``centre``) and each account of a deal,
with its money, its share of revenue and, where it serves a population, its money a head.
``payments`` has one row per rule and recipient: where every dollar of a deal went, pool by pool.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.dataset import Territory
from ..data.deals import REVENUE
from ..data.structures import Structure
from ..model.deal_rules import DealData, Recipient
from ..model.lp import Model
from ..solve.deal_check import DealMoney, pool_amounts

ACCOUNT_COLUMNS = [
    "account",
    "kind",
    "serves",
    "usd",
    "usd_rounded",
    "share_of_revenue",
    "population",
    "usd_per_head",
]
PAYMENT_COLUMNS = [
    "rule",
    "kind",
    "relation",
    "pool",
    "pool_usd",
    "recipient",
    "usd",
    "share_of_revenue",
]


def deal_money(m: Model, extra: np.ndarray, scale: float) -> DealMoney:
    """The deal's accounts and payments in USD from a solution's ``extra`` values (model units,
    in the order of ``Model.extra``), each times ``scale``."""
    values = np.asarray(extra, dtype=float) * scale
    n = len(m.accounts)
    accounts = dict(zip(m.accounts, values[:n], strict=True))
    payments = {
        (due.rule.name, term.recipient.name): float(v)
        for (due, term, _), v in zip(m.payments, values[n:], strict=True)
    }
    return DealMoney(accounts, payments)


def accounts_table(
    t: Territory,
    s: Structure,
    price: float,
    revenue: float,
    centre_usd: float,
    centre_rounded: int,
    money: DealMoney,
    rounded: dict[str, int],
) -> pd.DataFrame:
    """One row per recipient that is not a cell: the centre, then the accounts by name."""
    rows = [
        {
            "account": s.centre,
            "kind": "government",
            "serves": "all",
            "usd": centre_usd,
            "usd_rounded": centre_rounded,
            "population": t.population,
        }
    ]
    # the deal's data (a pass over the fields) is read only when the deal has accounts
    data = DealData(t, s, price) if money.accounts else None
    for name in sorted(money.accounts):
        assert data is not None
        account = data.accounts[name]
        rows.append(
            {
                "account": name,
                "kind": account.kind,
                "serves": account.serves,
                "usd": money.accounts[name],
                "usd_rounded": rounded[name],
                "population": data.population(Recipient("account", name)),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in ACCOUNT_COLUMNS if c in rows[0]])
    out["share_of_revenue"] = out["usd"] / revenue if revenue > 0 else 0.0
    # people are whole; empty, not NaN, where an account serves nobody (a fund or a body has
    # no population and no money a head)
    heads = [None if p is None or pd.isna(p) else int(p) for p in out["population"]]
    out["population"] = pd.Series(heads, dtype=object)
    out["usd_per_head"] = pd.Series(
        [None if p is None else u / p for p, u in zip(heads, out["usd"], strict=True)],
        dtype=object,
    )
    return out[ACCOUNT_COLUMNS]


def payments_table(m: Model, money: DealMoney, revenue: float) -> pd.DataFrame:
    """One row per rule and recipient, in the order the rules pay, with the money of the pool
    it was drawn from (``pool_usd``)."""
    found = list({due.rule.name: due for due, _, _ in m.payments}.values())
    pools = (  # without rules that paid, no pool and no pass over the fields for the deal's data
        pool_amounts(DealData(m.territory, m.structure, m.price), found, money.payments)
        if found
        else {}
    )
    rows = [
        {
            "rule": due.rule.name,
            "kind": due.rule.kind,
            "relation": due.rule.relation,
            "pool": "all revenue" if due.pool.name == REVENUE else due.pool.name,
            "pool_usd": pools[due.pool.name],
            "recipient": term.recipient.name,
            "usd": money.payments[(due.rule.name, term.recipient.name)],
        }
        for due, term, _ in m.payments
    ]
    out = pd.DataFrame(rows, columns=PAYMENT_COLUMNS[:-1])
    out["share_of_revenue"] = out["usd"] / revenue if revenue > 0 else 0.0
    return out


def served_per_head(t: Territory, accounts: pd.DataFrame) -> pd.Series:
    """Per region: the money a head of every government that serves its people (the centre,
    its bloc's government, its own and its local governments, by ``serves``), spread over the
    population each serves. Added to a cell's own money a head, it gives the *served* view."""
    out = pd.Series(0.0, index=t.regions.index)
    blocs = t.regions["bloc"].astype(str)
    for row in accounts.itertuples():
        if row.kind != "government" or row.usd_per_head is None:
            continue
        if row.serves == "all":
            out += row.usd_per_head
        elif row.serves in out.index:
            out[row.serves] += row.usd_per_head
        else:
            out[blocs == row.serves] += row.usd_per_head
    return out
