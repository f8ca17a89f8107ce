"""Today's structure parameters as rule kinds, one registry entry each (docs/design.md#the-model).

Each :class:`ParameterRule` holds everything one parameter means: its named rows in the model
(``build``), its residual in USD recomputed from the data and the money per cell for the
verifier (``residual``, for n allocations at once, never reading the model), the sentence that
explains a conflicting row, and a citation of a real arrangement that uses it. A deal's payment
rules are the other family (:mod:`revshare.model.deal_rules`); both are the same language of
rules over pools and recipients: a parameter is a floor or a ceiling on a recipient's money, a
deal rule a payment out of a pool.

Adding a parameter is one entry here, plus its range in :class:`revshare.data.structures.Structure`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
import pulp

from ..data.dataset import Money, Territory
from ..data.structures import Structure
from .core import Model
from .deal_rules import expand_accounts

Block = tuple[list[str], np.ndarray]
"""Rule names and their residuals in USD (positive means violated), one row per allocation."""


class Books(NamedTuple):
    """n allocations in USD, and the sums every residual reads: revenue ``V``, distributable
    ``D = V - g``, money by region, bloc and faction (each (n, k)), cells ``x`` (n, cells)."""

    t: Territory
    s: Structure
    money: Money
    x: np.ndarray
    g: np.ndarray
    X_r: np.ndarray
    X_b: np.ndarray
    X_f: np.ndarray
    G_b: np.ndarray | None = None  # (n, blocs): each bloc's own governments' accounts (a deal's)

    @property
    def bloc_money(self) -> np.ndarray:
        """What each bloc has in the secession game: its cells' and its own governments'."""
        return self.X_b if self.G_b is None else self.X_b + self.G_b

    @property
    def V(self) -> np.ndarray:
        return np.asarray(self.money.revenue, dtype=float)

    @property
    def D(self) -> np.ndarray:
        return self.V - self.g

    @property
    def labels(self) -> list[str]:
        c = self.t.cells
        return [f"{r}/{f}" for r, f in zip(c["region"], c["faction"], strict=True)]


def positive(
    names: list[str] | pd.Index, quantity: np.ndarray, rule: str, res: np.ndarray
) -> list[Block]:
    """A rule that exists only where a quantity is positive: kept where it is positive at any
    of the n prices (elsewhere it reads ``-X <= 0``), as the model builds it at the highest."""
    keep = (quantity > 0).any(axis=0)
    if not keep.any():
        return []
    return [([f"{rule}[{k}]" for k in np.asarray(names)[keep]], res[:, keep])]


class ParameterRule(NamedTuple):
    """One parameter: its rows, its residual, the sentence of its row (``{subject}`` and
    ``{value}`` are filled in), and where it comes from."""

    name: str  # the rows' rule name: floor[Kirkuk] is rule "floor"
    parameter: str  # the Structure field it reads
    build: Callable[[Model], None]
    residual: Callable[[Books], list[Block]]
    says: str
    citation: str


def distributable(m: Model) -> pulp.LpAffineExpression:
    return m.quantity("revenue") - m.g


def sharing_pool(m: Model) -> pulp.LpAffineExpression:
    """What is shared after derivation: ``D - derivation * V``."""
    return distributable(m) - m.structure.derivation * m.quantity("revenue")


def damage_weights(m: Model) -> pd.Series:
    return _damage_weights(m.territory)


def _damage_weights(t: Territory) -> pd.Series:
    w = t.regions["damage"].astype(float)
    return w / w.sum() if w.sum() > 0 else w * 0.0


# central_share ---------------------------------------------------------------------------


def _central_share(m: Model) -> None:
    lo, hi = m.structure.central_share
    if lo > 0:
        m.add(m.g >= lo * m.quantity("revenue"), "central_share", "lower")
    m.add(m.g <= hi * m.quantity("revenue"), "central_share", "upper")


def _central_share_residual(b: Books) -> list[Block]:
    lo, hi = b.s.central_share
    names = ["central_share[lower]", "central_share[upper]", "centre[nonnegative]"]
    return [(names, np.column_stack([lo * b.V - b.g, b.g - hi * b.V, -b.g]))]


# derivation ------------------------------------------------------------------------------


def _derivation(m: Model) -> None:
    d = m.structure.derivation
    if d <= 0:
        return
    for region, v_r in m.region_revenue.items():
        if v_r > 0:
            money = m.cells_of("region", str(region))
            m.add(money >= d * m.quantity("region", str(region)), "derivation", str(region))


def _derivation_residual(b: Books) -> list[Block]:
    d = b.s.derivation
    if d <= 0:
        return []
    return positive(b.t.regions.index, b.money.region, "derivation", d * b.money.region - b.X_r)


# bloc_retention --------------------------------------------------------------------------


def _bloc_retention(m: Model) -> None:
    for bloc, v_b in m.bloc_revenue.items():
        rho = m.structure.bloc_retention_for(str(bloc))
        if rho > 0 and v_b > 0:
            money = m.cells_of("bloc", str(bloc))
            m.add(money >= rho * m.quantity("bloc", str(bloc)), "bloc_retention", str(bloc))


def _bloc_retention_residual(b: Books) -> list[Block]:
    rho = np.array([b.s.bloc_retention_for(str(k)) for k in b.t.blocs])
    on = rho > 0
    if not on.any():
        return []
    quantity = b.money.bloc[:, on]
    res = rho[on] * quantity - b.X_b[:, on]
    return positive(np.asarray(b.t.blocs)[on], quantity, "bloc_retention", res)


# bloc_share and faction_share --------------------------------------------------------------


def _shares(column: str) -> Callable[[Model], None]:
    def build(m: Model) -> None:
        for name, share in sorted(getattr(m.structure, f"{column}_share").items()):
            if share > 0:
                m.add(m.cells_of(column, name) >= share * distributable(m), f"{column}_share", name)

    return build


def _shares_residual(column: str) -> Callable[[Books], list[Block]]:
    def residual(b: Books) -> list[Block]:
        table = getattr(b.s, f"{column}_share")
        names = b.t.blocs if column == "bloc" else b.t.factions
        X = b.X_b if column == "bloc" else b.X_f
        idx = [names.index(k) for k in table]  # names were checked when the model was built
        if not idx:
            return []
        share = np.array(list(table.values()))
        return [([f"{column}_share[{k}]" for k in table], share * b.D[:, None] - X[:, idx])]

    return residual


# per_capita_floor and per_capita_cap --------------------------------------------------------


def _floor(m: Model) -> None:
    floor = m.structure.per_capita_floor
    if floor:
        for k, label in enumerate(m.groups["label"]):
            m.add(m.z[k] >= floor * distributable(m), "floor", label)


def _cap(m: Model) -> None:
    cap = m.structure.per_capita_cap
    if cap is not None:
        for k, label in enumerate(m.groups["label"]):
            m.add(m.z[k] <= cap * distributable(m), "cap", label)


def _mean_share(b: Books) -> np.ndarray:
    p = b.t.cells["population"].to_numpy(dtype=float)
    return b.D[:, None] * p / p.sum()


def _floor_residual(b: Books) -> list[Block]:
    if not b.s.per_capita_floor:
        return []
    return [([f"floor[{k}]" for k in b.labels], b.s.per_capita_floor * _mean_share(b) - b.x)]


def _cap_residual(b: Books) -> list[Block]:
    if b.s.per_capita_cap is None:
        return []
    return [([f"cap[{k}]" for k in b.labels], b.x - b.s.per_capita_cap * _mean_share(b))]


# damage_allotment ------------------------------------------------------------------------


def _damage(m: Model) -> None:
    alpha = m.structure.damage_allotment
    if alpha <= 0:
        return
    for region, w in damage_weights(m).items():
        if w > 0:
            m.add(
                m.cells_of("region", str(region)) >= alpha * w * sharing_pool(m),
                "damage",
                str(region),
            )


def _damage_residual(b: Books) -> list[Block]:
    w = _damage_weights(b.t).to_numpy()
    if b.s.damage_allotment <= 0 or not (w > 0).any():
        return []
    pool = b.D - b.s.derivation * b.V
    hit = w > 0
    return [
        (
            [f"damage[{r}]" for r in b.t.regions.index[hit]],
            b.s.damage_allotment * w[hit] * pool[:, None] - b.X_r[:, hit],
        )
    ]


# secession_proof -------------------------------------------------------------------------


def _secession(m: Model) -> None:
    if not m.structure.secession_proof:
        return
    keep = 1.0 - m.structure.secession_cost
    fixed = m.structure.secession_fixed_cost_usd / m.scale
    for bloc, o_b in m.outside_option.items():
        if o_b > 0:
            money = m.bloc_money(str(bloc))
            need = keep * m.quantity("outside", str(bloc)) - fixed
            m.add(money >= need, "secession", str(bloc))


def _secession_residual(b: Books) -> list[Block]:
    if not b.s.secession_proof:
        return []
    keep = 1 - b.s.secession_cost
    need = keep * b.money.outside - b.s.secession_fixed_cost_usd
    return positive(b.t.blocs, b.money.outside, "secession", need - b.bloc_money)


# coalition_proof ---------------------------------------------------------------------------


def own_governments(t: Territory, accounts: Mapping[str, float], s: Structure) -> np.ndarray:
    """Each bloc's own governments' money (USD): a deal's government accounts that serve the
    bloc or one of its regions; a row per bloc in the order of ``t.blocs``."""
    blocs = t.regions["bloc"].astype(str)
    out = pd.Series(0.0, index=list(t.blocs))
    for name, account in expand_accounts(s, t).items():
        if account.kind != "government" or name not in accounts:
            continue
        bloc = blocs.get(account.serves) if account.serves in t.regions.index else account.serves
        if bloc in out.index:
            out[bloc] += float(accounts[name])
    return out.to_numpy()


def coalitions(blocs: list[str]) -> tuple[list[str], np.ndarray]:
    """Every proper coalition of blocs (single blocs included) as a name ``A+B`` and a row of a
    0/1 matrix with a column per bloc: 2^B - 2 of them."""
    n = len(blocs)
    codes = np.arange(1, 2**n - 1)
    members = ((codes[:, None] >> np.arange(n)) & 1).astype(float)
    names = ["+".join(b for b, on in zip(blocs, row, strict=True) if on) for row in members]
    return names, members


def coalition_need(
    t: Territory, s: Structure, price: float
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each proper coalition's name, membership and outside option as one new state in USD:
    ``(1 - secession_cost) * O_S - secession_fixed_cost_usd``."""
    names, members = coalitions(list(t.blocs))
    o = t.coalition_options(price, members)
    return names, members, (1 - s.secession_cost) * o - s.secession_fixed_cost_usd


def _coalition(m: Model) -> None:
    s = m.structure
    if not s.coalition_proof:
        return
    names, members, need = coalition_need(m.territory, s, m.price)
    blocs = m.territory.blocs
    for name, row, usd in zip(names, members, need, strict=True):
        if usd > 0:
            money = pulp.lpSum(
                m.cells_of("bloc", b) for b, on in zip(blocs, row, strict=True) if on
            )
            m.add(money >= usd / m.scale, "coalition", name)


def _coalition_residual(b: Books) -> list[Block]:
    if not b.s.coalition_proof:
        return []
    names, members = coalitions(list(b.t.blocs))
    need = np.vstack(
        [coalition_need(b.t, b.s, float(p))[2] for p in np.asarray(b.money.prices, dtype=float)]
    )
    keep = (need > 0).any(axis=0)  # as built: rows only where the option is worth anything
    res = need - b.bloc_money @ members.T
    return [([f"coalition[{n}]" for n in np.asarray(names)[keep]], res[:, keep])]


# min_usd_per_capita and max_usd_per_capita (regions.csv) -------------------------------------


def _usd_per_head(column: str) -> Callable[[Model], None]:
    at_least = column.startswith("min")

    def build(m: Model) -> None:
        regions = m.territory.regions
        for region, bound in regions[column].astype(float).items():
            if not np.isfinite(bound):
                continue
            money = m.cells_of("region", str(region))
            usd = bound * float(regions.loc[region, "population"]) / m.scale
            m.add(money >= usd if at_least else money <= usd, column, str(region))
            m.sentences[f"{column}[{region}]"] = (
                f"{region} receives {'at least' if at_least else 'at most'} "
                f"{bound:,.2f} USD a head ({column} in regions.csv)"
            )

    return build


def _usd_per_head_residual(column: str) -> Callable[[Books], list[Block]]:
    sign = 1.0 if column.startswith("min") else -1.0

    def residual(b: Books) -> list[Block]:
        bound = b.t.regions[column].astype(float).to_numpy()
        has = np.isfinite(bound)
        if not has.any():
            return []
        heads = b.t.regions["population"].to_numpy(dtype=float)
        res = sign * (bound * heads - b.X_r)
        return [([f"{column}[{r}]" for r in b.t.regions.index[has]], res[:, has])]

    return residual


PARAMETER_RULES: dict[str, ParameterRule] = {
    r.name: r
    for r in (
        ParameterRule(
            "min_usd_per_capita",
            "min_usd_per_capita",
            _usd_per_head("min_usd_per_capita"),
            _usd_per_head_residual("min_usd_per_capita"),
            "{subject} receives at least {value} USD a head",
            "a guaranteed minimum transfer a head, written in law",
        ),
        ParameterRule(
            "max_usd_per_capita",
            "max_usd_per_capita",
            _usd_per_head("max_usd_per_capita"),
            _usd_per_head_residual("max_usd_per_capita"),
            "{subject} receives at most {value} USD a head",
            "Canada, equalization: no province raised beyond its fiscal capacity cap",
        ),
        ParameterRule(
            "central_share",
            "central_share",
            _central_share,
            _central_share_residual,
            "the centre's slice ({subject} bound) is {value} of revenue",
            "Nigeria, RMAFC vertical formula: the Federal Government 52.68% of the Federation "
            "Account",
        ),
        ParameterRule(
            "derivation",
            "derivation",
            _derivation,
            _derivation_residual,
            "{subject} keeps at least {value} of its own fields' revenue",
            "Nigeria, Constitution (1999) s. 162(2): not less than 13% to the states of derivation",
        ),
        ParameterRule(
            "bloc_retention",
            "bloc_retention",
            _bloc_retention,
            _bloc_retention_residual,
            "bloc {subject} keeps at least {value} of its territory's revenue",
            "Sudan, Wealth Sharing Agreement (2004) art. 5.6: 50% of the net revenue from "
            "southern wells to the south",
        ),
        ParameterRule(
            "bloc_share",
            "bloc_share",
            _shares("bloc"),
            _shares_residual("bloc"),
            "bloc {subject} gets at least {value} of distributable revenue",
            "Iraq, federal budget laws: the Kurdistan Region's 17%, later 12.67%",
        ),
        ParameterRule(
            "faction_share",
            "faction_share",
            _shares("faction"),
            _shares_residual("faction"),
            "faction {subject} gets at least {value} of distributable revenue",
            "a negotiated guaranteed share for a group, as bloc_share for a bloc",
        ),
        ParameterRule(
            "floor",
            "per_capita_floor",
            _floor,
            _floor_residual,
            "{subject} gets at least {value} times the national mean per head",
            "a minimum transfer a head relative to the national mean",
        ),
        ParameterRule(
            "cap",
            "per_capita_cap",
            _cap,
            _cap_residual,
            "{subject} gets at most {value} times the national mean per head",
            "Canada, equalization: a ceiling on what any province may receive",
        ),
        ParameterRule(
            "damage",
            "damage_allotment",
            _damage,
            _damage_residual,
            "{subject} gets its damage allotment ({value} of the pool by damage weight)",
            "Iraq, Constitution (2005) art. 112(1): an allotment for regions damaged by the former "
            "regime",
        ),
        ParameterRule(
            "coalition",
            "coalition_proof",
            _coalition,
            _coalition_residual,
            "the coalition {subject} gets at least what it would have as one new state",
            "the core of the secession game (docs/concepts.md#leaving); Sudan's north-south talks, "
            "Iraq's regions",
        ),
        ParameterRule(
            "secession",
            "secession_cost",
            _secession,
            _secession_residual,
            "bloc {subject} gets at least its outside option less a secession cost of {value}",
            "the outside option of partition (docs/concepts.md#leaving); Sudan's 2011 referendum",
        ),
    )
}
"""Today's parameters, in the order their rows are built."""
