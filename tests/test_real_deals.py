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
