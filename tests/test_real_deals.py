"""Real deals shipped as data (issue 13): each recomputed here from the data files alone.

Amounts are compared to 1e-9 of revenue, the verifier's promise for every rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare

DATA = Path(__file__).resolve().parents[1] / "data"


def own_revenue(folder: Path, price: float) -> pd.Series:
    """Each region's revenue a year from fields.csv, by the documented formula."""
    f = pd.read_csv(folder / "fields.csv")
    for column, default in (("share", 1.0), ("government_take", 1.0), ("cost_usd_per_bbl", 0.0)):
        f[column] = f[column].fillna(default) if column in f else default
    margin = np.maximum(price - f["cost_usd_per_bbl"], 0.0)
    v = f["production_bpd"] * 365 * margin * f["government_take"] * f["share"]
    return v.groupby(f["region"]).sum()


@pytest.fixture(scope="module")
def faac() -> revshare.Allocation:
    return revshare.optimize(revshare.load_dataset(DATA / "nigeria"), "faac")


def test_faac_pays_the_federal_government_exactly_5268_of_the_rest(faac) -> None:
    revenue = own_revenue(DATA / "nigeria", faac.price)
    V = revenue.sum()
    assert faac.revenue_usd == pytest.approx(V, rel=1e-12)
    pay = faac.payments
    derivation = pay[pay["rule"] == "derivation"].set_index("recipient")["usd"]
    rest = V - derivation.sum()
    fg = faac.accounts.set_index("account").loc["Federal Government", "usd"]
    assert fg == pytest.approx(0.5268 * rest, abs=1e-9 * V)
    assert faac.centre_usd == pytest.approx(fg)


def test_faac_every_producing_state_keeps_at_least_13_percent(faac) -> None:
    revenue = own_revenue(DATA / "nigeria", faac.price)
    producing = revenue[revenue > 0]
    regions = faac.regions.set_index("region")
    pay = faac.payments
    derivation = pay[pay["rule"] == "derivation"].set_index("recipient")["usd"]
    assert set(derivation.index) == set(producing.index)
    slack = 1e-9 * revenue.sum()  # the verifier's promise: every rule to 1e-9 of revenue
    for state, v in producing.items():
        assert derivation[state] >= 0.13 * v - slack
        assert regions.loc[state, "usd"] >= 0.13 * v - slack


def test_faac_states_and_local_governments_follow_the_horizontal_formula(faac) -> None:
    regions = pd.read_csv(DATA / "nigeria" / "regions.csv").set_index("region")
    people = pd.read_csv(DATA / "nigeria" / "population.csv").groupby("region")["population"].sum()
    n = len(regions)
    weights = (
        0.40 * (1 / n)
        + 0.30 * people / people.sum()
        + 0.10 * regions["area_km2"] / regions["area_km2"].sum()
        + 0.10 * regions["need_index"] / regions["need_index"].sum()
    ) / 0.90
    V = own_revenue(DATA / "nigeria", faac.price).sum()
    pay = faac.payments
    rest = V - pay.loc[pay["rule"] == "derivation", "usd"].sum()
    states = pay[pay["rule"] == "states"].set_index("recipient")["usd"]
    local = pay[pay["rule"] == "local governments"].set_index("recipient")["usd"]
    for state, w in weights.items():
        assert states[state] == pytest.approx(0.2672 * rest * w, abs=1e-9 * V)
        assert local[f"{state} local governments"] == pytest.approx(0.2060 * rest * w, abs=1e-9 * V)
    accounts = faac.accounts.set_index("account")
    assert accounts.loc["Lagos local governments", "serves"] == "Lagos"
    assert accounts.loc["Lagos local governments", "population"] == people["Lagos"]


def test_faac_states_receive_derivation_and_their_formula_share_and_nothing_else(faac) -> None:
    regions = faac.regions.set_index("region")["usd"]
    pay = faac.payments
    to_states = pay[pay["rule"].isin(["derivation", "states"])].groupby("recipient")["usd"].sum()
    expected = to_states.reindex(regions.index).to_dict()
    assert regions.to_dict() == pytest.approx(expected, abs=1e-9 * faac.revenue_usd)


def _bloc_of(folder: Path) -> pd.Series:
    return pd.read_csv(folder / "regions.csv").set_index("region")["bloc"]


def test_sudan_cpa_pays_every_recipient_what_the_agreement_says() -> None:
    """WSA 5.5-5.6 and the Abyei Protocol s. 3.1, recomputed from the files (and, at the default
    price, equal to the figures computed by hand in data/sudan-2005/SOURCES.md's notes)."""
    folder = DATA / "sudan-2005"
    a = revshare.optimize(revshare.load_dataset(folder), "sudan-cpa-2005")
    revenue = own_revenue(folder, a.price)
    V = revenue.sum()
    bloc = _bloc_of(folder)
    producing = ["Unity", "Upper Nile", "South Kordofan"]
    pay = a.payments.groupby(["rule", "recipient"])["usd"].sum()
    slack = 1e-9 * V
    for state in producing:  # exactly 2% by output (at least, and the centre takes the rest)
        assert pay[("producing states", state)] == pytest.approx(0.02 * revenue[state], abs=slack)
    south = revenue[bloc.reindex(revenue.index) == "south"].sum()
    southern_net = 0.98 * south  # the southern wells' revenue less their 2%
    abyei = revenue["Abyei"]
    accounts = a.accounts.set_index("account")["usd"]
    goss = accounts["Government of Southern Sudan"]
    assert goss == pytest.approx(0.5 * southern_net + 0.42 * abyei, abs=slack)
    assert goss == pytest.approx(2_447_574_455.235, abs=1.0)  # by hand, /work notes (issue 13)
    for beneficiary in ("Warrap", "South Kordofan", "Ngok Dinka", "Misseriya"):
        assert pay[("Abyei local shares", beneficiary)] == pytest.approx(0.02 * abyei, abs=slack)
    assert accounts["National Government"] == pytest.approx(
        V - goss - 4 * 0.02 * abyei - 0.02 * revenue[producing].sum(), abs=slack
    )


def test_iraq_2023_budget_pays_the_region_and_the_petrodollar_on_top() -> None:
    folder = DATA / "iraq"
    a = revshare.optimize(revshare.load_dataset(folder), "iraq-2023-budget")
    revenue = own_revenue(folder, a.price)
    V = revenue.sum()
    slack = 1e-9 * V
    accounts = a.accounts.set_index("account")["usd"]
    sovereign = 0.3454 * V
    assert accounts["Kurdistan Regional Government"] == pytest.approx(
        0.1267 * (V - sovereign), abs=slack
    )
    f = pd.read_csv(folder / "fields.csv")
    bloc = _bloc_of(folder)
    barrels = (f["production_bpd"] * f["share"].fillna(1.0) * 365).groupby(f["region"]).sum()
    outside = barrels[bloc.reindex(barrels.index) != "Kurdistan Region"]
    petrodollar = 5 * outside  # never more than the barrel earns: 5 USD is far below the margin
    people = pd.read_csv(folder / "population.csv").groupby("region")["population"].sum()
    governorates = people[bloc.reindex(people.index) != "Kurdistan Region"]
    rest = V - sovereign - accounts["Kurdistan Regional Government"] - petrodollar.sum()
    regions = a.regions.set_index("region")["usd"]
    for g, heads in governorates.items():
        expected = rest * heads / governorates.sum() + petrodollar.get(g, 0.0)
        assert regions[g] == pytest.approx(expected, abs=slack), g
    assert regions["Basra"] == pytest.approx(11_697_239_061.64, abs=1.0)  # by hand (issue 13)


def test_ghana_prma_budget_at_its_ceiling_and_the_funds_70_30() -> None:
    folder = DATA / "ghana"
    a = revshare.optimize(revshare.load_dataset(folder), "prma")
    V = own_revenue(folder, a.price).sum()
    accounts = a.accounts.set_index("account")["usd"]
    slack = 1e-9 * V
    assert accounts["Ghana National Petroleum Corporation"] == pytest.approx(0.3 * V, abs=slack)
    assert accounts["Government of Ghana (budget)"] == pytest.approx(0.7 * 0.7 * V, abs=slack)
    assert accounts["Ghana Stabilisation Fund"] == pytest.approx(0.7 * 0.3 * 0.7 * V, abs=slack)
    assert accounts["Ghana Heritage Fund"] == pytest.approx(0.3 * 0.3 * 0.7 * V, abs=slack)
    assert a.regions["usd"].abs().max() <= slack  # the budget is spent by the national government
