"""Property-based tests of the money invariants (docs/design.md#invariants-the-tests-prove), for both solvers.

Every property builds territories in memory from generated data (1 to 8 regions, 1 to 3 factions,
populations 1 to 1e8 a cell, revenue 1e3 to 1e13 USD a year through ``annual_revenue_usd``, names
in Latin and Arabic script) and checks the solved allocation against an oracle written here from
docs/concepts.md#the-deal, never against the library's own verifier. Tolerances are the allocation's
``verification.tolerance_usd`` unless a property says otherwise.

A structure whose rules cannot all hold may raise ``InfeasibleError`` (then the other solver must
agree); any other failure to return a verified optimum, ``NotOptimalError`` above all, fails.
"""

from __future__ import annotations

import dataclasses
import math
import string
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, example, given, note
from hypothesis import strategies as st

import revshare
from revshare.data.structures import OBJECTIVES

# HiGHS runs in CI (about 70 s); CBC's runs take longer (a subprocess per LP stage) and go to the
# slow set (`pytest -m slow`). The earlier "slowdown after the compare tests" was Hypothesis
# shrinking a real counterexample (see the floor property), which other test files happened to let
# it generate; with the property stated correctly the module passes in any order.
SOLVERS = ("highs", pytest.param("cbc", marks=pytest.mark.slow))
PRICE = 1.0  # revenue comes from annual_revenue_usd, so the oil price plays no part
MIN_GROUP_SHARE = 1e-9  # below this share of the population the library refuses (E-NUMERICS)

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإةى"
NAME_ALPHABET = string.ascii_letters + string.digits + ARABIC + "éüç"
names = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=8)
arabic_names = st.text(alphabet=ARABIC, min_size=1, max_size=8)
populations = st.one_of(st.integers(1, 100), st.integers(1, 10**8))


@dataclass(frozen=True)
class Case:
    """A generated territory, as plain data (so that it can be relabelled, reordered, scaled)."""

    regions: tuple[str, ...]
    blocs: tuple[str, ...]  # the bloc of each region
    cells: tuple[tuple[str, str, int], ...]  # region, faction, population
    fields: tuple[tuple[str, str, float], ...]  # field, region, annual revenue in USD
    need: tuple[float, ...]
    area: tuple[float, ...]
    damage: tuple[float, ...]
    baseline: tuple[float, ...]  # USD a head of non-oil money

    @property
    def revenue(self) -> float:
        return math.fsum(v for _, _, v in self.fields)

    @property
    def population(self) -> float:
        return float(sum(p for _, _, p in self.cells))

    def bloc_of(self) -> dict[str, str]:
        return dict(zip(self.regions, self.blocs, strict=True))

    def region_revenue(self) -> dict[str, float]:
        out = dict.fromkeys(self.regions, 0.0)
        for _, r, v in self.fields:
            out[r] += v
        return out

    def bloc_revenue(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for r, v in self.region_revenue().items():
            out[self.bloc_of()[r]] += v
        return dict(out)

    def region_population(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for r, _, p in self.cells:
            out[r] += p
        return dict(out)

    def relabel(self, new_name: Mapping[str, str]) -> Case:
        return dataclasses.replace(
            self,
            regions=tuple(new_name[r] for r in self.regions),
            cells=tuple((new_name[r], f, p) for r, f, p in self.cells),
            fields=tuple((k, new_name[r], v) for k, r, v in self.fields),
        )

    def scaled(self, k: float) -> Case:
        """Every amount of money times ``k``: field revenues and non-oil baselines."""
        return dataclasses.replace(
            self,
            fields=tuple((f, r, v * k) for f, r, v in self.fields),
            baseline=tuple(b * k for b in self.baseline),
        )

    def frames(self, order: Order | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        order = order or Order.identity(self)
        fields = pd.DataFrame(
            {
                "field": [self.fields[i][0] for i in order.fields],
                "region": [self.fields[i][1] for i in order.fields],
                "production_bpd": np.nan,
                "annual_revenue_usd": [self.fields[i][2] for i in order.fields],
            }
        )
        population = pd.DataFrame(
            {
                "region": [self.cells[i][0] for i in order.cells],
                "faction": [self.cells[i][1] for i in order.cells],
                "population": [self.cells[i][2] for i in order.cells],
            }
        )
        regions = pd.DataFrame(
            {
                "region": [self.regions[i] for i in order.regions],
                "bloc": [self.blocs[i] for i in order.regions],
                "area_km2": [self.area[i] for i in order.regions],
                "need_index": [self.need[i] for i in order.regions],
                "damage": [self.damage[i] for i in order.regions],
                "baseline_usd_per_capita": [self.baseline[i] for i in order.regions],
                "coastal": [False for _ in order.regions],
            }
        )
        return fields, population, regions

    def territory(self, order: Order | None = None) -> revshare.Territory:
        return revshare.territory_from_frames(*self.frames(order))


@dataclass(frozen=True)
class Order:
    """The row order of each input frame."""

    fields: tuple[int, ...]
    cells: tuple[int, ...]
    regions: tuple[int, ...]

    @staticmethod
    def identity(case: Case) -> Order:
        return Order(
            tuple(range(len(case.fields))),
            tuple(range(len(case.cells))),
            tuple(range(len(case.regions))),
        )

    @staticmethod
    def reversed(case: Case) -> Order:
        i = Order.identity(case)
        return Order(i.fields[::-1], i.cells[::-1], i.regions[::-1])


def make_case(
    regions: list[str],
    pops: list[dict[str, int]],
    revenue: list[float],
    blocs: list[str] | None = None,
    baseline: list[float] | None = None,
    damage: list[float] | None = None,
) -> Case:
    """A hand-written case: ``pops[i]`` maps faction to population in region i, ``revenue[i]`` is
    region i's oil (one field each, none when 0)."""
    n = len(regions)
    return Case(
        regions=tuple(regions),
        blocs=tuple(blocs or regions),
        cells=tuple(
            (r, f, p) for r, cell in zip(regions, pops, strict=True) for f, p in cell.items()
        ),
        fields=tuple(
            (f"field {i}", r, v)
            for i, (r, v) in enumerate(zip(regions, revenue, strict=True))
            if v > 0
        ),
        need=tuple(1.0 + 0.25 * i for i in range(n)),
        area=tuple(1000.0 * (i + 1) for i in range(n)),
        damage=tuple(damage or [0.0] * n),
        baseline=tuple(baseline or [0.0] * n),
    )


@st.composite
def cases(
    draw,
    region_names=names,
    min_revenue: float = 1e3,
    max_revenue: float = 1e13,
    max_regions: int = 8,
    min_field: float = 1.0,
) -> Case:
    n = draw(st.integers(1, max_regions))
    regions = draw(st.lists(region_names, min_size=n, max_size=n, unique=True))
    factions = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    bloc_names = draw(st.lists(names, min_size=1, max_size=min(3, n), unique=True))
    blocs = tuple(draw(st.sampled_from(bloc_names)) for _ in regions)
    cells = []
    for r in regions:
        present = draw(
            st.lists(st.sampled_from(factions), min_size=1, max_size=len(factions), unique=True)
        )
        cells += [(r, f, draw(populations)) for f in present]
    exponent = draw(st.floats(math.log10(min_revenue), math.log10(max_revenue)))
    revenue = min(max(10.0**exponent, min_revenue), max_revenue)
    n_fields = draw(st.integers(1, 2 * n))
    at = [draw(st.sampled_from(regions)) for _ in range(n_fields)]
    weights = [draw(st.integers(0, 1000)) for _ in range(n_fields)]
    weights[0] = max(weights[0], 1)
    # a field that earns earns at least min_field USD a year (the readers' range starts at 1)
    fields = tuple(
        (f"field {i}", r, max(revenue * w / sum(weights), min_field) if w else 0.0)
        for i, (r, w) in enumerate(zip(at, weights, strict=True))
    )
    mean_per_head = revenue / sum(p for _, _, p in cells)
    unit = st.floats(0.0, 2.0, allow_subnormal=False)
    return Case(
        regions=tuple(regions),
        blocs=blocs,
        cells=tuple(cells),
        fields=fields,
        need=tuple(draw(st.floats(0.1, 10.0)) for _ in regions),
        area=tuple(draw(st.floats(1.0, 1e6)) for _ in regions),
        damage=tuple(draw(st.sampled_from([0.0, 0.0, 1.0, 3.0])) for _ in regions),
        baseline=tuple(draw(st.one_of(st.just(0.0), unit)) * mean_per_head for _ in regions),
    )


fraction = st.floats(0.0, 1.0, allow_subnormal=False)


@st.composite
def structures(draw, case: Case, floor: bool = True, mild: bool = False) -> revshare.Structure:
    """A random valid structure over the case's blocs and factions (every rule may appear).

    ``mild`` keeps the rules looser (guaranteed shares a quarter as large, floors up to 0.8, caps
    from 3 and never with a producer's guarantee, retention 0.1, a cost to secession), so that
    most structures are feasible: an infeasible structure costs
    about ten solves, for the explanation of the conflict, which the invariance properties,
    solving everything twice, cannot afford often.
    """
    blocs = sorted(set(case.blocs))
    factions = sorted({f for _, f, _ in case.cells})
    share = fraction.map(lambda s: s / 4) if mild else fraction
    lo = draw(st.sampled_from([0.0, 0.0, 0.1, 0.3]))
    hi = draw(st.sampled_from([lo, lo, min(1.0, lo + 0.2)]))
    bloc_share = {
        b: draw(share) / len(blocs)
        for b in draw(st.lists(st.sampled_from(blocs), max_size=len(blocs), unique=True))
    }
    faction_share = {
        f: draw(share) / len(factions)
        for f in draw(st.lists(st.sampled_from(factions), max_size=len(factions), unique=True))
    }
    floors = st.floats(0.0, 0.8) if mild else fraction
    caps = st.floats(3.0, 10.0) if mild else st.floats(1.0, 5.0)
    derivation = draw(st.sampled_from([0.0, 0.0, 0.02, 0.13] + ([] if mild else [0.3])))
    retention = draw(st.sampled_from([0.0, 0.0, 0.1 if mild else 0.3]))
    secession = draw(st.booleans())
    cap = draw(st.one_of(st.none(), caps))
    if mild and (derivation or retention or secession):
        cap = None  # a small producing region's guarantee is usually far above any cap
    structure = revshare.Structure(
        name="random",
        central_share=(lo, hi),
        derivation=derivation,
        bloc_retention=retention,
        bloc_share=bloc_share,
        faction_share=faction_share,
        per_capita_floor=draw(st.one_of(st.none(), floors)) if floor else None,
        per_capita_cap=cap,
        # an earmark needs a recipient: with no damaged region it is an input error
        damage_allotment=draw(st.sampled_from([0.0, 0.0, 0.05, 0.3])) if any(case.damage) else 0.0,
        within_region=draw(st.sampled_from(["equal", "free"])),
        secession_proof=secession,
        secession_cost=draw(st.sampled_from([0.2, 0.5] if mild else [0.0, 0.2, 0.5])),
        # nash has its own tests (tests/test_nash.py): its money is exact only to about
        # sqrt(gap), coarser than the tolerances these properties compare at
        objective=draw(st.sampled_from([o for o in OBJECTIVES if o != "nash"])),
    )
    return structure.with_overrides({})  # validated as a TOML table would be


@st.composite
def scenarios(
    draw, floor: bool = True, mild: bool = False, **case_options
) -> tuple[Case, revshare.Structure]:
    case = draw(cases(**case_options))
    return case, draw(structures(case, floor=floor, mild=mild))


def refused_for_numerics(case: Case, structure: revshare.Structure) -> bool:
    """Whether some spending group is too small a share of the population for the solvers."""
    if structure.within_region == "equal":
        sizes = list(case.region_population().values())
    else:
        sizes = [p for _, _, p in case.cells]
    return min(sizes) / case.population < MIN_GROUP_SHARE


NUMERICS, INFEASIBLE, KNOWN_BUG = "refused for numerics", "infeasible", "known bug"
Outcome = revshare.Allocation | str  # an allocation, or one of the three legitimate refusals


OUTCOMES: Counter[tuple[str, str]] = Counter()  # (solver, outcome) of every solve in the session


def solve(
    case: Case, structure: revshare.Structure, solver: str, order: Order | None = None
) -> Outcome:
    """The allocation, or why there is none; each refusal is checked to be legitimate, and any
    other failure (a NotOptimalError above all) fails the test."""
    t = case.territory(order)
    if refused_for_numerics(case, structure):
        with pytest.raises(revshare.InputError) as exc:
            revshare.optimize(t, structure, price=PRICE, solver=solver)
        assert exc.value.codes == ["E-NUMERICS"]
        event("refused: a group below 1e-9 of the population")
        OUTCOMES[(solver, NUMERICS)] += 1
        return NUMERICS
    try:
        a = revshare.optimize(t, structure, price=PRICE, solver=solver)
    except (revshare.InfeasibleError, revshare.NotOptimalError) as exc:
        if false_infeasibility(t, structure, solver, exc):
            event(f"known bug: {solver} calls a feasible structure infeasible")
            OUTCOMES[(solver, KNOWN_BUG)] += 1
            return KNOWN_BUG
        if isinstance(exc, revshare.NotOptimalError):
            raise
        event("infeasible structure")
        OUTCOMES[(solver, INFEASIBLE)] += 1
        return INFEASIBLE
    event("solved")
    OUTCOMES[(solver, "solved")] += 1
    return a


def comparable(*outcomes: Outcome) -> bool:
    """Whether every outcome is an allocation; refusals must agree, except the known bug, which
    depends on floating-point noise and so may strike one run and not another."""
    kinds = [o if isinstance(o, str) else "solved" for o in outcomes]
    if KNOWN_BUG in kinds:
        return False
    assert len(set(kinds)) == 1, f"the outcomes differ: {kinds}"
    return kinds[0] == "solved"


def false_infeasibility(
    t: revshare.Territory, structure: revshare.Structure, solver: str, exc: revshare.RevshareError
) -> bool:
    """The known bug pinned by the strict xfail tests ``test_*_feasible_*`` in
    test_solve_status.py: a solver reports the objective or a tie-break stage infeasible although
    the other solver solves and verifies the same structure. Only that signature is excused;
    remove this excuse when those tests pass."""
    signatures = (
        "status 'infeasible'",
        "reported the structure infeasible",
        "stopped at a time or iteration limit",
    )  # no limit is ever set here
    if isinstance(exc, revshare.NotOptimalError) and not any(m in str(exc) for m in signatures):
        return False
    try:
        revshare.optimize(t, structure, price=PRICE, solver="cbc" if solver == "highs" else "highs")
    except revshare.RevshareError:
        return False
    return True


def cell_money(a: revshare.Allocation) -> dict[tuple[str, str], float]:
    return {
        (r, f): float(x)
        for r, f, x in zip(a.cells["region"], a.cells["faction"], a.cells["usd"], strict=True)
    }


def rule_violations(case: Case, s: revshare.Structure, a: revshare.Allocation) -> list[str]:
    """Every rule of docs/concepts.md#the-deal recomputed from the case's own data."""
    tol = a.verification.tolerance_usd
    x = cell_money(a)
    assert set(x) == {(r, f) for r, f, _ in case.cells}
    pop = {(r, f): float(p) for r, f, p in case.cells}
    V, g, P = case.revenue, a.centre_usd, case.population
    D = V - g
    bloc_of = case.bloc_of()
    X_r: dict[str, float] = defaultdict(float)
    X_b: dict[str, float] = defaultdict(float)
    X_f: dict[str, float] = defaultdict(float)
    for (r, f), v in x.items():
        X_r[r] += v
        X_b[bloc_of[r]] += v
        X_f[f] += v
    out: list[str] = []

    def at_least(rule: str, lhs: float, rhs: float) -> None:
        if not lhs >= rhs - tol:
            out.append(f"{rule}: {lhs!r} < {rhs!r}")

    at_least("budget", -abs(sum(x.values()) + g - V), 0.0)
    for key, v in x.items():
        at_least(f"nonnegative{key}", v, 0.0)
    lo, hi = s.central_share
    at_least("centre >= lo", g, lo * V)
    at_least("centre <= hi", hi * V, g)
    V_r, V_b = case.region_revenue(), case.bloc_revenue()
    for r, v in V_r.items():
        at_least(f"derivation[{r}]", X_r[r], s.derivation * v)
    for b, v in V_b.items():
        at_least(f"bloc_retention[{b}]", X_b[b], s.bloc_retention_for(b) * v)
        if s.secession_proof:
            at_least(f"secession[{b}]", X_b[b], (1 - s.secession_cost) * v)
    for b, share in s.bloc_share.items():
        at_least(f"bloc_share[{b}]", X_b[b], share * D)
    for f, share in s.faction_share.items():
        at_least(f"faction_share[{f}]", X_f[f], share * D)
    for key, p in pop.items():
        if s.per_capita_floor:
            at_least(f"floor{key}", x[key], s.per_capita_floor * p * D / P)
        if s.per_capita_cap is not None:
            at_least(f"cap{key}", s.per_capita_cap * p * D / P, x[key])
    damage = dict(zip(case.regions, case.damage, strict=True))
    if s.damage_allotment > 0 and sum(damage.values()) > 0:
        pool = D - s.derivation * V  # the damage allotment is of the pool after derivation
        for r, w in damage.items():
            at_least(f"damage[{r}]", X_r[r], s.damage_allotment * w / sum(damage.values()) * pool)
    if s.within_region == "equal":
        region_pop = case.region_population()
        for (r, f), v in x.items():
            at_least(f"within_region[{r}/{f}]", -abs(v - pop[(r, f)] * X_r[r] / region_pop[r]), 0.0)
    return out


# Explicit extremes: one region, the smallest and largest revenue, Arabic names.
ONE_REGION_SMALL = make_case(["بغداد"], [{"شيعة": 5_000_000, "سنة": 3_000_000}], [1e3])
EIGHT_REGIONS_LARGE = make_case(
    [f"R{i}" for i in range(8)],
    [{"a": 10**8, "b": 1 + i, "c": 7 * 10**6} for i in range(8)],
    [1e13 / 3, 0.0, 1e13 / 3, 0.0, 0.0, 1e13 / 3, 0.0, 0.0],
    blocs=["n"] * 4 + ["s"] * 4,
)
ARABIC_LARGE = make_case(
    ["البصرة", "نينوى", "أربيل"],
    [{"عرب": 3_000_000}, {"عرب": 3_000_000, "كرد": 500_000}, {"كرد": 2_000_000}],
    [9e12, 0.0, 1e12],
    blocs=["الجنوب", "الوسط", "إقليم كردستان"],
    damage=[1.0, 2.0, 0.0],
)
FLOORED = revshare.Structure(
    name="floored",
    central_share=(0.1, 0.3),
    derivation=0.13,
    per_capita_floor=0.8,
    per_capita_cap=2.0,
    within_region="free",
    objective="maxmin",
)
KURDISTAN = revshare.Structure(
    name="kurdistan",
    central_share=(0.2, 0.2),
    bloc_share={"إقليم كردستان": 0.17},
    damage_allotment=0.05,
    faction_share={"كرد": 0.2},
    objective="proportional",
)
PLAIN = revshare.Structure(name="plain")
EXTREMES = [
    (ONE_REGION_SMALL, PLAIN),
    (ONE_REGION_SMALL, FLOORED),
    (EIGHT_REGIONS_LARGE, FLOORED),
    (ARABIC_LARGE, KURDISTAN),
]


def with_extremes(test):
    for scenario in EXTREMES:
        test = example(scenario=scenario)(test)
    return test


@pytest.mark.parametrize("solver", SOLVERS)
@with_extremes
@given(scenario=scenarios())
def test_money_is_conserved_nothing_is_negative_and_every_rule_holds(solver, scenario):
    case, structure = scenario
    note(f"structure: {structure}")
    a = solve(case, structure, solver)
    if isinstance(a, str):
        return
    tol = a.verification.tolerance_usd
    V = case.revenue
    assert a.revenue_usd == pytest.approx(V, rel=1e-12)
    assert abs(float(a.cells["usd"].sum()) + a.centre_usd - V) <= tol
    assert int(a.cells["usd_rounded"].sum()) + a.centre_usd_rounded == round(V)
    assert (a.cells["usd"] >= -tol).all() and a.centre_usd >= -tol
    assert (a.cells["usd_rounded"] >= 0).all() and a.centre_usd_rounded >= 0
    assert (np.abs(a.cells["usd_rounded"] - a.cells["usd"]) <= 1.0).all()
    assert abs(a.centre_usd_rounded - a.centre_usd) <= 1.0
    for table, key in ((a.regions, "region"), (a.factions, "faction"), (a.blocs, "bloc")):
        by_key = a.cells.groupby(key)
        assert (
            dict(zip(table[key], table["usd_rounded"], strict=True))
            == by_key["usd_rounded"].sum().to_dict()
        )
    assert rule_violations(case, structure, a) == []


@st.composite
def relabellings(draw) -> tuple[tuple[Case, revshare.Structure], dict[str, str], Order]:
    scenario = draw(scenarios(mild=True))
    case = scenario[0]
    fresh = draw(st.sampled_from([names, arabic_names]))
    new = draw(st.lists(fresh, min_size=len(case.regions), max_size=len(case.regions), unique=True))
    order = Order(
        tuple(draw(st.permutations(range(len(case.fields))))),
        tuple(draw(st.permutations(range(len(case.cells))))),
        tuple(draw(st.permutations(range(len(case.regions))))),
    )
    return scenario, dict(zip(case.regions, new, strict=True)), order


def _arabic_relabelling(case: Case) -> dict[str, str]:
    return dict(zip(case.regions, ["ي" * (i + 1) for i in range(len(case.regions))], strict=True))


@pytest.mark.parametrize("solver", SOLVERS)
@example(
    relabelling=(
        EXTREMES[1],
        _arabic_relabelling(ONE_REGION_SMALL),
        Order.reversed(ONE_REGION_SMALL),
    )
)
@example(
    relabelling=(
        EXTREMES[2],
        _arabic_relabelling(EIGHT_REGIONS_LARGE),
        Order.reversed(EIGHT_REGIONS_LARGE),
    )
)
@example(
    relabelling=(
        EXTREMES[3],
        {"البصرة": "Basra", "نينوى": "Nineveh", "أربيل": "Erbil"},
        Order.reversed(ARABIC_LARGE),
    )
)
@given(relabelling=relabellings())
def test_relabelling_and_reordering_change_nobodys_money(solver, relabelling):
    (case, structure), new_name, order = relabelling
    original = solve(case, structure, solver)
    renamed = solve(case.relabel(new_name), structure, solver, order)
    if not comparable(original, renamed):
        return
    tol = max(original.verification.tolerance_usd, renamed.verification.tolerance_usd)
    before, after = cell_money(original), cell_money(renamed)
    for (r, f), v in before.items():
        assert abs(after[(new_name[r], f)] - v) <= tol, (r, f)
    assert abs(renamed.centre_usd - original.centre_usd) <= tol


SCALES = (0.001, 7.3, 1000.0)


@st.composite
def scalings(draw) -> tuple[tuple[Case, revshare.Structure], float]:
    k = draw(st.sampled_from(SCALES))
    return draw(
        scenarios(
            mild=True,
            min_revenue=max(1e3, 1e3 / k),
            max_revenue=min(1e13, 1e13 / k),
            min_field=max(1.0, 1.0 / k),  # every field stays in range once scaled
        )
    ), k


@pytest.mark.parametrize("solver", SOLVERS)
@example(scaling=(EXTREMES[0], 0.001))
@example(scaling=(EXTREMES[1], 1000.0))
@example(scaling=(EXTREMES[3], 0.001))
@given(scaling=scalings())
def test_scaling_all_money_by_k_scales_every_allocation_by_k(solver, scaling):
    (case, structure), k = scaling
    base = solve(case, structure, solver)
    scaled = solve(case.scaled(k), structure, solver)
    if not comparable(base, scaled):
        return
    noise = scaled.verification.tolerance_usd + k * base.verification.tolerance_usd
    before, after = cell_money(base), cell_money(scaled)
    for key, v in before.items():
        assert abs(after[key] - k * v) <= 1e-7 * abs(k * v) + noise, key
    assert abs(scaled.centre_usd - k * base.centre_usd) <= 1e-7 * k * base.centre_usd + noise


PROPORTIONAL = revshare.Structure(name="proportional only", objective="proportional")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("within_region", ["equal", "free"])
@example(case=ONE_REGION_SMALL)
@example(case=EIGHT_REGIONS_LARGE)
@example(case=ARABIC_LARGE)
@given(case=cases())
def test_proportional_alone_gives_everybody_the_same_per_head(solver, within_region, case):
    structure = dataclasses.replace(PROPORTIONAL, within_region=within_region)
    a = solve(case, structure, solver)
    if isinstance(a, str):
        assert a in (NUMERICS, KNOWN_BUG), "proportional alone is always feasible"
        return
    tol = a.verification.tolerance_usd
    V, P = case.revenue, case.population
    assert abs(a.centre_usd) <= tol
    x = cell_money(a)
    for r, f, p in case.cells:
        assert abs(x[(r, f)] - p * V / P) <= tol, (r, f)
    money = a.regions.set_index("region")["usd"]
    people = a.regions.set_index("region")["population"]
    for r in money.index:
        for s in money.index:
            if people[r] > people[s]:
                assert money[r] >= money[s] - tol, (r, s)


@st.composite
def floor_additions(draw) -> tuple[tuple[Case, revshare.Structure], float]:
    return draw(scenarios(floor=False, mild=True)), draw(st.floats(0.05, 1.0))


@pytest.mark.parametrize("solver", SOLVERS)
@example(addition=((ONE_REGION_SMALL, PLAIN), 1.0))
@example(addition=((EIGHT_REGIONS_LARGE, dataclasses.replace(FLOORED, per_capita_floor=None)), 0.9))
@example(addition=((ARABIC_LARGE, KURDISTAN), 0.7))
@given(addition=floor_additions())
def test_adding_a_floor_never_lowers_the_poorest_per_head(solver, addition):
    """With the centre's share fixed. Where it may vary, the property is false: the L1
    objectives (proportional, needs, formula) measure deviations in USD, so when a floor makes a
    deviation unavoidable they shrink it by letting the centre take more of the revenue (found by
    hypothesis: eight one-person regions, `needs`, central share 0-20%, floor 0.5 lowers the
    poorest from 58.8 to 50.0 USD a head)."""
    (case, structure), floor = addition
    fixed = structure.central_share[1]
    structure = dataclasses.replace(structure, central_share=(fixed, fixed))
    floored = dataclasses.replace(structure, per_capita_floor=floor)
    without = solve(case, structure, solver)
    with_floor = solve(case, floored, solver)
    if KNOWN_BUG in (without, with_floor):
        return
    if isinstance(without, str):
        assert with_floor == without, "a floor made an infeasible structure feasible"
        return
    if isinstance(with_floor, str):
        assert with_floor == INFEASIBLE  # the floor conflicts with another rule: allowed
        return
    slack = without.verification.tolerance_usd + with_floor.verification.tolerance_usd
    smallest = min(p for _, _, p in case.cells)
    assert (
        with_floor.cells["usd_per_head"].min()
        >= without.cells["usd_per_head"].min() - slack / smallest
    )


@st.composite
def twins(draw) -> tuple[tuple[Case, revshare.Structure], str]:
    case, structure = draw(scenarios(mild=True))
    i = draw(st.integers(0, len(case.regions) - 1))
    return (with_twin(case, i), structure), case.regions[i]


def with_twin(case: Case, i: int) -> Case:
    """The case plus a copy of region ``i`` (same bloc, factions, people, attributes and fields)."""
    r = case.regions[i]
    twin = r + "·twin"
    assert twin not in case.regions
    return Case(
        regions=(*case.regions, twin),
        blocs=(*case.blocs, case.blocs[i]),
        cells=case.cells + tuple((twin, f, p) for q, f, p in case.cells if q == r),
        fields=case.fields + tuple((k + "·twin", twin, v) for k, q, v in case.fields if q == r),
        need=(*case.need, case.need[i]),
        area=(*case.area, case.area[i]),
        damage=(*case.damage, case.damage[i]),
        baseline=(*case.baseline, case.baseline[i]),
    )


@pytest.mark.parametrize("solver", SOLVERS)
@example(pair=((with_twin(ONE_REGION_SMALL, 0), PLAIN), "بغداد"))
@example(pair=((with_twin(EIGHT_REGIONS_LARGE, 3), FLOORED), "R3"))
@example(pair=((with_twin(ARABIC_LARGE, 1), KURDISTAN), "نينوى"))
@given(pair=twins())
def test_equal_treatment_of_equals(solver, pair):
    (case, structure), region = pair
    a = solve(case, structure, solver)
    if isinstance(a, str):
        return
    tol = a.verification.tolerance_usd
    x = cell_money(a)
    for q, f, _ in case.cells:
        if q == region:
            assert abs(x[(region, f)] - x[(region + "·twin", f)]) <= tol, f


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_properties_above_mostly_solved_and_rarely_needed_an_excuse(solver):
    """Guards against vacuous passes: the properties return early on refusals and on the known
    bug, so most generated structures must solve and the known bug must stay rare."""
    total = sum(n for (s, _), n in OUTCOMES.items() if s == solver)
    if total < 100:
        pytest.skip("needs the property tests above in the same session")
    assert OUTCOMES[(solver, "solved")] >= 0.6 * total, dict(OUTCOMES)
    assert OUTCOMES[(solver, KNOWN_BUG)] <= 0.1 * total, dict(OUTCOMES)
