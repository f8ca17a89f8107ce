"""Deals as written: accounts, pools and the rule kinds (issue 13).

Every rule kind has a golden case computed by hand, a verifier mutation test (a perturbed payment
or account is caught) and an infeasibility test whose explanation names the rule and its TOML
line. The tiny country: regions A and B (bloc N) and C (bloc S), one field in A and one in C,
no costs, full government take, so that revenue is barrels x 365 x price.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest

import revshare
from revshare.errors import InfeasibleError, InputError
from revshare.model.deal_rules import RULE_KINDS
from revshare.solve.deal_check import DealMoney, deal_residuals
from revshare.solve.verify import tolerance

PRICE = 10.0
V_A = 1000 * 365 * PRICE  # 3.65e6
V_C = 3000 * 365 * PRICE  # 10.95e6
V = V_A + V_C

HEADER = f"""
default_price = {PRICE}

[structures.deal]
description = "a deal with one rule of every kind"
centre = "National Government"
objective = "centre-residual"
central_share = [0, 1]

[structures.deal.accounts."Fund"]
kind = "fund"

[structures.deal.accounts."Community"]
kind = "body"

[structures.deal.accounts."Government of S"]
kind = "government"
serves = "S"

[structures.deal.pools]
south = {{ of = {{ blocs = ["S"] }}, after = ["fund", "derivation"] }}
"""

RULES = """
[[structures.deal.rules]]
name = "fund"
kind = "share"
share = 0.1
to = "Fund"

[[structures.deal.rules]]
name = "derivation"
kind = "split"
share = 0.02
among = "producing regions"
by = "output"

[[structures.deal.rules]]
name = "south"
kind = "share"
pool = "south"
share = 0.5
to = "Government of S"

[[structures.deal.rules]]
name = "per barrel"
kind = "per_unit"
usd_per_barrel = 1
except_blocs = ["S"]

[[structures.deal.rules]]
name = "community"
kind = "fixed"
usd = 100000
to = "Community"
"""


def write_dataset(folder: Path, toml: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fields.csv").write_text(
        "field,region,production_bpd,cost_usd_per_bbl\nfA,A,1000,0\nfC,C,3000,0\n"
    )
    (folder / "population.csv").write_text("region,faction,population\nA,a,100\nB,a,300\nC,c,600\n")
    (folder / "regions.csv").write_text("region,bloc\nA,N\nB,N\nC,S\n")
    (folder / "structures.toml").write_text(textwrap.dedent(toml))
    return folder


@pytest.fixture(scope="module")
def deal(tmp_path_factory: pytest.TempPathFactory) -> revshare.Territory:
    return revshare.load_dataset(write_dataset(tmp_path_factory.mktemp("deal"), HEADER + RULES))


@pytest.fixture(scope="module")
def solved(deal: revshare.Territory) -> revshare.Allocation:
    return revshare.optimize(deal, "deal")


def test_every_rule_kind_pays_what_was_computed_by_hand(solved: revshare.Allocation) -> None:
    fund = 0.1 * V
    derivation = {"A": 0.02 * V_A, "C": 0.02 * V_C}
    # the south pool: bloc S's revenue less its share of what the fund and derivation drew
    south = V_C - (V_C / V) * fund - (V_C / V) * sum(derivation.values())
    per_barrel = {"A": 1000 * 365 * 1.0}
    community = 100_000.0
    pay = {(r.rule, r.recipient): r.usd for r in solved.payments.itertuples()}
    assert pay == pytest.approx(
        {
            ("fund", "Fund"): fund,
            ("derivation", "A"): derivation["A"],
            ("derivation", "C"): derivation["C"],
            ("south", "Government of S"): 0.5 * south,
            ("per barrel", "A"): per_barrel["A"],
            ("community", "Community"): community,
        },
        rel=1e-9,
    )
    accounts = solved.accounts.set_index("account")["usd"]
    assert accounts["Fund"] == pytest.approx(fund, rel=1e-9)
    assert accounts["Government of S"] == pytest.approx(0.5 * south, rel=1e-9)
    assert accounts["Community"] == pytest.approx(community, rel=1e-9)
    # centre-residual: the regions get exactly what the rules pay them, the centre the rest
    regions = solved.regions.set_index("region")["usd"]
    assert regions["A"] == pytest.approx(derivation["A"] + per_barrel["A"], rel=1e-9)
    assert regions["B"] == pytest.approx(0.0, abs=1e-3)
    assert regions["C"] == pytest.approx(derivation["C"], rel=1e-9)
    rest = V - fund - sum(derivation.values()) - 0.5 * south - per_barrel["A"] - community
    assert accounts["National Government"] == pytest.approx(rest, rel=1e-9)
    assert solved.centre_usd == pytest.approx(rest, rel=1e-9)
    # money is conserved to the dollar, accounts included
    assert int(solved.cells["usd_rounded"].sum() + solved.accounts["usd_rounded"].sum()) == round(V)


def test_accounts_table_has_the_documented_columns(solved: revshare.Allocation) -> None:
    a = solved.accounts.set_index("account")
    assert list(solved.accounts.columns) == [
        "account",
        "kind",
        "serves",
        "usd",
        "usd_rounded",
        "share_of_revenue",
        "population",
        "usd_per_head",
    ]
    assert a.loc["Government of S", "population"] == 600
    assert a.loc["Government of S", "usd_per_head"] == pytest.approx(
        a.loc["Government of S", "usd"] / 600
    )
    assert a.loc["Fund", "population"] is None and a.loc["Fund", "usd_per_head"] is None
    assert a["share_of_revenue"].sum() + solved.regions["usd"].sum() / V == pytest.approx(1.0)


def _money(a: revshare.Allocation) -> DealMoney:
    accounts = {
        r.account: r.usd for r in a.accounts.itertuples() if r.account != "National Government"
    }
    payments = {(r.rule, r.recipient): r.usd for r in a.payments.itertuples()}
    return DealMoney(accounts, payments)


def _worst(t: revshare.Territory, a: revshare.Allocation, money: DealMoney) -> float:
    res = deal_residuals(t, a.structure, PRICE, a.cells["usd"].to_numpy(), a.centre_usd, money)
    return max(v for _, v in res)


def test_the_reported_money_passes_the_independent_check(deal, solved) -> None:
    assert _worst(deal, solved, _money(solved)) <= tolerance(V)


@pytest.mark.parametrize("delta", [-0.01, 0.01])
def test_the_check_catches_every_perturbed_payment(deal, solved, delta) -> None:
    money = _money(solved)
    for key, usd in money.payments.items():
        changed = dataclasses.replace(money, payments={**money.payments, key: usd * (1 + delta)})
        assert _worst(deal, solved, changed) > tolerance(V), key


def test_the_check_catches_every_perturbed_account(deal, solved) -> None:
    money = _money(solved)
    for name, usd in money.accounts.items():
        changed = dataclasses.replace(money, accounts={**money.accounts, name: usd + 1000.0})
        assert _worst(deal, solved, changed) > tolerance(V), name


def test_the_check_catches_a_missing_payment(deal, solved) -> None:
    money = _money(solved)
    key = next(iter(money.payments))
    less = {k: v for k, v in money.payments.items() if k != key}
    assert _worst(deal, solved, dataclasses.replace(money, payments=less)) == np.inf


# Each kind, made to pay more than there is: the explanation names the rule and its line.
OVERDRAWN = {
    "share": 'kind = "share"\nshare = 0.95\nto = "Fund"',
    "split": 'kind = "split"\nshare = 0.95\namong = "regions"\nby = "population"',
    "per_unit": 'kind = "per_unit"\nusd_per_barrel = 10\namong = "producing regions"',
    "fixed": f'kind = "fixed"\nusd = {0.95 * V}\nto = "Community"',
}


def test_every_rule_kind_has_an_infeasibility_case() -> None:
    assert set(OVERDRAWN) == set(RULE_KINDS)


@pytest.mark.parametrize("kind", sorted(OVERDRAWN))
def test_an_infeasible_deal_names_the_rule_and_its_toml_line(tmp_path, kind) -> None:
    rules = (
        '\n[[structures.deal.rules]]\nname = "first"\nkind = "share"\nshare = 0.5\nto = "Fund"\n'
        f'\n[[structures.deal.rules]]\nname = "greedy"\n{OVERDRAWN[kind]}\n'
    )
    t = revshare.load_dataset(
        write_dataset(
            tmp_path / "d", HEADER.replace('after = ["fund", "derivation"]', "after = []") + rules
        )
    )
    with pytest.raises(InfeasibleError) as info:
        revshare.optimize(t, "deal")
    text = str(info.value) + "\n".join(getattr(info.value, "conflicts", []) or [])
    text += repr(info.value.explanation)
    line = (tmp_path / "d" / "structures.toml").read_text().splitlines().index(
        "[[structures.deal.rules]]", len(HEADER.splitlines()) + 3
    ) + 1
    assert "'greedy'" in text
    assert f"structures.toml:{line}" in text


def test_at_most_and_the_rest_reproduce_a_budget_ceiling(tmp_path) -> None:
    """Ghana's pattern: at most 70% to the budget (the centre), the rest 70/30 to two funds."""
    toml = (
        HEADER
        + """
[[structures.deal.rules]]
name = "budget"
kind = "share"
relation = "at most"
share = 0.7
to = "National Government"

[[structures.deal.rules]]
name = "funds"
kind = "split"
pool = { after = ["budget"] }
among = ["Fund", "Community"]
by = { Fund = 70, Community = 30 }
"""
    )
    t = revshare.load_dataset(write_dataset(tmp_path / "g", toml))
    a = revshare.optimize(t, "deal")
    acc = a.accounts.set_index("account")["usd"]
    assert acc["National Government"] == pytest.approx(0.7 * V, rel=1e-9)
    assert acc["Fund"] == pytest.approx(0.7 * 0.3 * V, rel=1e-9)
    assert acc["Community"] == pytest.approx(0.3 * 0.3 * V, rel=1e-9)


BAD = [
    ('kind = "gift"\nto = "Fund"', "E-UNKNOWN-NAME", "unknown kind 'gift'"),
    ('kind = "share"\nto = "Fund"', "E-DEAL", "needs share"),
    ('kind = "share"\nshare = 0.1\nto = "Nobody"', "E-DEAL", "'Nobody'"),
    ('kind = "share"\nshare = 1.5\nto = "Fund"', "E-RANGE", "share"),
    ('kind = "share"\nshare = 0.1\nto = "Fund"\npool = "nowhere"', "E-UNKNOWN-NAME", "'nowhere'"),
    ('kind = "split"\nby = "wealth"', "E-DEAL", "'wealth'"),
    ('kind = "fixed"\nusd = -5\nto = "Fund"', "E-RANGE", "usd"),
    ('kind = "share"\nshare = 0.1\nto = "Fund"\nrelation = "roughly"', "E-STRUCTURE", "relation"),
]


@pytest.mark.parametrize(("rule", "code", "words"), BAD)
def test_a_bad_rule_is_an_input_error_on_its_line(tmp_path, rule, code, words) -> None:
    toml = HEADER.replace('after = ["fund", "derivation"]', "after = []") + (
        f'\n[[structures.deal.rules]]\nname = "bad"\n{rule}\n'
    )
    folder = write_dataset(tmp_path / "b", toml)
    line = len(textwrap.dedent(toml).splitlines()) - rule.count("\n") - 2
    with pytest.raises(InputError) as info:
        t = revshare.load_dataset(folder)
        revshare.optimize(t, "deal")
    problem = next(p for p in info.value.problems if p.code == code)
    assert words in problem.message + str(problem.column)
    assert problem.line == line, str(info.value)


def test_a_pool_cannot_wait_for_a_later_rule(tmp_path) -> None:
    toml = (
        HEADER.replace('after = ["fund", "derivation"]', 'after = ["later"]')
        + """
[[structures.deal.rules]]
name = "early"
kind = "share"
pool = "south"
share = 0.1
to = "Fund"

[[structures.deal.rules]]
name = "later"
kind = "share"
share = 0.1
to = "Fund"
"""
    )
    with pytest.raises(InputError) as info:
        revshare.load_dataset(write_dataset(tmp_path / "o", toml))
    assert "E-ORDER" in info.value.codes


def test_per_head_bounds_of_regions_csv_raise_the_lowest_up_to_each_ceiling(tmp_path) -> None:
    """Equalization with ceilings: a pool raises the poorest regions towards a common level,
    none beyond its own ceiling (max_usd_per_capita). By hand: 3 regions of 100 people each,
    revenue 3.65e6 + 10.95e6 = 14.6e6 USD; A's ceiling 20,000 a head (2.0e6), B's 30,000
    (3.0e6); leximin gives C the rest: 14.6e6 - 5.0e6 = 9.6e6."""
    folder = write_dataset(tmp_path / "e", "default_price = 10\n")
    (folder / "population.csv").write_text("region,faction,population\nA,a,100\nB,a,100\nC,c,100\n")
    (folder / "regions.csv").write_text(
        "region,bloc,max_usd_per_capita\nA,N,20000\nB,N,30000\nC,S,\n"
    )
    t = revshare.load_dataset(folder)
    a = revshare.optimize(
        t, "federation", overrides=["central_share=0", "derivation=0", "objective=leximin"]
    )
    got = a.regions.set_index("region")["usd"]
    assert got.to_dict() == pytest.approx({"A": 2.0e6, "B": 3.0e6, "C": 9.6e6}, rel=1e-9)


def test_a_floor_above_what_there_is_names_the_column(tmp_path) -> None:
    folder = write_dataset(tmp_path / "f", "default_price = 10\n")
    (folder / "regions.csv").write_text("region,bloc,min_usd_per_capita\nA,N,1e6\nB,N,\nC,S,\n")
    t = revshare.load_dataset(folder)
    with pytest.raises(InfeasibleError) as info:
        revshare.optimize(t, "federation")
    assert "min_usd_per_capita in regions.csv" in str(info.value) + repr(info.value.explanation)


def test_sweeps_refuse_a_deal_rather_than_drop_its_rules(deal) -> None:
    with pytest.raises(InputError) as info:
        revshare.sweep(deal, ["deal"], revshare.price_grid("10,20"))
    assert "E-UNSUPPORTED" in info.value.codes


def test_presets_have_no_accounts_but_the_centre(solved, deal) -> None:
    a = revshare.optimize(deal, "federation")
    assert list(a.accounts["account"]) == ["centre"]
    assert a.accounts["usd"].iloc[0] == pytest.approx(a.centre_usd)
    assert a.payments.empty


def test_equalization_raises_the_lowest_up_to_each_ceiling_from_revenue_in_usd(tmp_path) -> None:
    """Canada's pattern, revenue given in USD: each province keeps its own revenue, and a federal
    pool raises the poorest towards the others, none beyond its ceiling. By hand (100 people
    each; own revenue a head A 10,000, B 2,000, C 5,000, D 0; federal pool 1.2e6): D rises to
    2,000 (0.2e6), D and B to 4,000 (0.4e6; D's ceiling), B to 5,000 (0.1e6), B and C to 6,000
    (0.2e6; B's ceiling), C takes the last 0.3e6 to 9,000, below A's 10,000."""
    folder = tmp_path / "ca"
    folder.mkdir()
    (folder / "fields.csv").write_text(
        "field,region,annual_revenue_usd\n"
        "A own,A,1000000\nB own,B,200000\nC own,C,500000\nfederal royalties,D,1200000\n"
    )
    (folder / "population.csv").write_text(
        "region,faction,population\nA,a,100\nB,b,100\nC,c,100\nD,d,100\n"
    )
    (folder / "regions.csv").write_text(
        "region,bloc,max_usd_per_capita\nA,A,\nB,B,6000\nC,C,\nD,D,4000\n"
    )
    (folder / "structures.toml").write_text(
        textwrap.dedent(
            """
            [structures.equalization]
            objective = "leximin"

            [[structures.equalization.rules]]
            name = "own revenue"
            kind = "split"
            pool = { of = { fields = ["A own", "B own", "C own"] } }
            among = "producing regions"
            by = "output"
            """
        )
    )
    a = revshare.optimize(revshare.load_dataset(folder), "equalization")
    per_head = a.regions.set_index("region")["usd_per_head"].to_dict()
    assert per_head == pytest.approx({"A": 10_000, "B": 6_000, "C": 9_000, "D": 4_000}, rel=1e-9)
