"""The foundation issue's acceptance checks on the shipped datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import revshare

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def sudan() -> revshare.Territory:
    return revshare.load_dataset(DATA / "sudan-2005")


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_federation_without_centre_or_derivation_is_exactly_proportional(iraq, solver):
    a = revshare.optimize(
        iraq, "federation", overrides=["central_share=0", "derivation=0"], solver=solver
    )
    V = a.revenue_usd
    P = iraq.population
    expected = a.regions["population"] / P * V
    tol = 1.0 if solver == "highs" else a.verification.tolerance_usd
    assert np.max(np.abs(a.regions["usd"] - expected)) < tol
    # whole dollars: within one dollar of the exact share, and the total is exact
    assert np.max(np.abs(a.regions["usd_rounded"] - expected)) <= (
        1.0 if solver == "highs" else tol + 1
    )
    assert int(a.cells["usd_rounded"].sum()) + a.centre_usd_rounded == round(V)
    krg = a.blocs.set_index("bloc").loc["Kurdistan Region"]
    assert krg["usd"] / V == pytest.approx(
        krg["population"] / P, rel=1e-9 if solver == "highs" else 1e-6
    )


def test_sudan_cpa_2005_pays_two_percent_and_halves_the_southern_net(sudan):
    # the built-in preset: data/sudan-2005 writes the agreement as a deal under the same name
    a = revshare.optimize(sudan, revshare.PRESETS["sudan-cpa-2005"])
    own = a.regions.set_index("region")
    bloc_of = sudan.regions["bloc"]
    producing = own[own["own_revenue_usd"] > 0]
    assert len(producing) >= 2
    for region, row in producing.iterrows():
        two_percent = 0.02 * row["own_revenue_usd"]
        if bloc_of[region] == "north":
            # the national government keeps the rest: a northern producer gets exactly its 2%
            assert row["usd"] == pytest.approx(two_percent, abs=1.0)
        else:
            assert row["usd"] >= two_percent - 1.0
    south_revenue = sudan.bloc_revenue(a.price)["south"]
    derivation_south = 0.02 * south_revenue
    half_net = 0.5 * (south_revenue - derivation_south)
    south = a.blocs.set_index("bloc").loc["south", "usd"]
    assert south == pytest.approx(derivation_south + half_net, abs=1.0)
    north_revenue = sudan.bloc_revenue(a.price)["north"]
    assert a.centre_usd == pytest.approx(half_net + 0.98 * north_revenue, abs=1.0)


@pytest.mark.parametrize("name", [*sorted(revshare.PRESETS), "iraq-2005", "iraq-2005-krg17"])
def test_every_structure_solves_and_verifies_on_iraq(iraq, name):
    if name == "sudan-cpa-2005":
        with pytest.raises(revshare.InputError) as err:
            revshare.optimize(iraq, name)
        assert err.value.codes == ["E-UNKNOWN-NAME"]
        return
    a = revshare.optimize(iraq, name)
    assert a.verification.ok
    assert int(a.cells["usd_rounded"].sum()) + a.centre_usd_rounded == round(a.revenue_usd)
    assert (a.cells["usd"] >= -a.verification.tolerance_usd).all()


def test_iraq_2005_guarantees_the_kurdistan_share(iraq):
    a = revshare.optimize(iraq, "iraq-2005")
    distributable = a.revenue_usd - a.centre_usd
    krg = a.blocs.set_index("bloc").loc["Kurdistan Region", "usd"]
    assert krg >= 0.1267 * distributable - a.verification.tolerance_usd
