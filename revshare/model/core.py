"""The built model's data: the PuLP problem, its variables and the data in model units.

Units (docs/design.md#the-model). The model never sees raw dollars. Money is divided by ``scale``, a
power of ten chosen so that total revenue ``v = V / scale`` lies in [100, 1000). The decision
variable of a spending group (a region when it spends equally per head, else a cell) is ``z_k``:
what the whole country would receive if everybody got group k's money per head, so
``x_k = pi_k * z_k`` with ``pi_k`` the group's population share.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from ..data.dataset import Territory
from ..data.structures import Structure
from .deal_rules import Due, Term


# eq=False: two models are never compared (a generated __eq__ would compare their data
# frames, whose truth value raises), and it is one method less compiled at every start.
@dataclass(eq=False)
class Model:
    """A built model: the PuLP problem, its variables, and the data in model units."""

    territory: Territory
    structure: Structure
    price: float
    prob: pulp.LpProblem
    groups: pd.DataFrame  # one row per spending group: region, faction, bloc, population, pi, base
    z: list[pulp.LpVariable]
    g: pulp.LpVariable
    scale: float
    revenue: float  # V in USD
    region_revenue: pd.Series  # V_r in USD
    bloc_revenue: pd.Series  # V_b in USD
    outside_option: pd.Series  # O_b in USD
    labels: dict[str, str] = field(default_factory=dict)  # PuLP name -> "rule[subject]"
    # Parametric models (the sweep engine's): each price-dependent quantity is a column fixed by
    # its bounds, keyed by (kind, name); changing those bounds moves the model to another price.
    data: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    # quantities() once: objectives read one entry per region, and building the dict each time
    # made a 2,000-region model quadratic (about 20 s of its build)
    _quantities: dict[tuple[str, str], float] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # A deal's accounts and payments (revshare.model.deal_rules): each account's money, and
    # each (rule, recipient) payment, in model units; ``extra`` lists them for the executors.
    accounts: dict[str, pulp.LpVariable] = field(default_factory=dict)
    payments: list[tuple[Due, Term, pulp.LpVariable]] = field(default_factory=list)
    sentences: dict[str, str] = field(default_factory=dict)  # label -> what the rule says
    # bloc -> the deal's government accounts that serve it or one of its regions: a bloc's own
    # governments, whose money is the bloc's when it weighs leaving
    governments: dict[str, list[str]] = field(default_factory=dict)

    @property
    def extra(self) -> list[pulp.LpVariable]:
        return [*self.accounts.values(), *(f for _, _, f in self.payments)]

    @property
    def v(self) -> float:
        return self.revenue / self.scale

    def quantity(self, kind: str, name: str = "") -> float | pulp.LpVariable:
        """A price-dependent quantity in model units: ``revenue`` (V), ``region`` (V_r), ``bloc``
        (V_b) or ``outside`` (O_b); a fixed data column when the model is parametric."""
        if self.data:
            return self.data[(kind, name)]
        return self.quantities()[(kind, name)]

    def quantities(self) -> dict[tuple[str, str], float]:
        """Every price-dependent quantity at the model's price, in model units."""
        if self._quantities is None:
            out = {("revenue", ""): self.v}
            for kind, series in (
                ("region", self.region_revenue),
                ("bloc", self.bloc_revenue),
                ("outside", self.outside_option),
            ):
                out.update({(kind, str(k)): float(v) / self.scale for k, v in series.items()})
            self._quantities = out
        return self._quantities

    def x(self, mask: np.ndarray) -> pulp.LpAffineExpression:
        """The money, in model units, of the groups selected by ``mask``."""
        pi = self.groups["pi"].to_numpy()
        return pulp.lpSum(pi[k] * self.z[k] for k in np.flatnonzero(mask))

    def cells_of(self, column: str, value: str) -> pulp.LpAffineExpression:
        """Money of the cells whose ``column`` (region, bloc or faction) equals ``value``."""
        if column == "faction" and self.structure.within_region == "equal":
            cells = self.territory.cells
            sel = cells[cells["faction"] == value]
            region_pos = {r: k for k, r in enumerate(self.groups["region"])}
            P = self.territory.population
            return pulp.lpSum(
                (p / P) * self.z[region_pos[r]]
                for r, p in zip(sel["region"], sel["population"], strict=True)
            )
        return self.x((self.groups[column] == value).to_numpy())

    def bloc_money(self, bloc: str) -> pulp.LpAffineExpression:
        """What a bloc has in the secession game: its cells' money and that of its own
        governments (a deal's accounts serving it or its regions), not the centre's."""
        own = [self.accounts[a] for a in self.governments.get(bloc, [])]
        return self.cells_of("bloc", bloc) + pulp.lpSum(own)

    def add(self, constraint: pulp.LpConstraint, rule: str, subject: str = "") -> None:
        label = f"{rule}[{subject}]" if subject else rule
        safe = re.sub(r"[^A-Za-z0-9_]", "_", label)
        name = safe if safe not in self.labels else f"{safe}_{len(self.labels)}"
        self.prob.addConstraint(constraint, name)
        self.labels[name] = label


def spending_groups(t: Territory, structure: Structure) -> pd.DataFrame:
    if structure.within_region == "equal":
        groups = pd.DataFrame(
            {
                "region": t.regions.index,
                "faction": "",
                "population": t.regions["population"].to_numpy(),
            }
        )
    else:
        groups = t.cells[["region", "faction", "population"]].copy()
    groups = groups.reset_index(drop=True)
    groups["bloc"] = groups["region"].map(t.regions["bloc"])
    groups["pi"] = groups["population"] / t.population
    groups["baseline"] = groups["region"].map(t.regions["baseline_usd_per_capita"]).fillna(0.0)
    groups["label"] = [
        r if not f else f"{r}/{f}" for r, f in zip(groups["region"], groups["faction"], strict=True)
    ]
    return groups


def choose_scale(revenue: float) -> float:
    """The power of ten that brings ``revenue`` into [100, 1000) model units."""
    return 10.0 ** (math.floor(math.log10(revenue)) - 2)
