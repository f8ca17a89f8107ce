"""The core of the secession game, the least core and coalition_proof (issue 14, item 2).

The hand-computed game: three blocs A, B, C of 100 people, each with a field of 1e6 USD a year,
no fees; a coalition's option is its revenue less the fixed cost F = 0.4e6 of a new state. With
the centre taking c of revenue the blocs share 3e6 (1 - c). The pair constraints sum to
2 (x_A + x_B + x_C) >= 3 (2e6 - F), so the core is non-empty iff c <= F / 2e6 = 0.2.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

import revshare
from revshare.analyses.core import core, excesses
from revshare.errors import InfeasibleError

F = 400_000.0
DATA = Path(__file__).resolve().parents[1] / "data"


def three_blocs(folder: Path, c: float, coalition_proof: bool = False) -> revshare.Territory:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fields.csv").write_text(
        "field,region,annual_revenue_usd\nfa,A,1000000\nfb,B,1000000\nfc,C,1000000\n"
    )
    (folder / "population.csv").write_text("region,faction,population\nA,a,100\nB,b,100\nC,c,100\n")
    (folder / "regions.csv").write_text("region,bloc\nA,A\nB,B\nC,C\n")
    (folder / "structures.toml").write_text(
        textwrap.dedent(
            f"""
            [structures.s]
            central_share = {c}
            secession_fixed_cost_usd = {F}
            coalition_proof = {str(coalition_proof).lower()}
            objective = "proportional"
            """
        )
    )
    return revshare.load_dataset(folder)


def test_a_non_empty_core_by_hand(tmp_path) -> None:
    """c = 0.1: each bloc 0.9e6; a pair's excess 1.8e6 - (2e6 - F) = 0.2e6, a single's
    0.9e6 - (1e6 - F) = 0.3e6; the least core 0.2e6 (the symmetric allocation is best); the
    largest slice with a non-empty core F / 2e6 = 0.2."""
    t = three_blocs(tmp_path / "t", 0.1)
    row = core(t, "s").table.iloc[0]
    assert row["in_core"]
    assert row["worst_excess_usd"] == pytest.approx(0.2e6, rel=1e-9)
    assert len(row["worst_coalition"].split("+")) == 2
    assert row["least_core_usd"] == pytest.approx(0.2e6, rel=1e-9)
    assert row["max_centre_share"] == pytest.approx(F / 2e6, rel=1e-9)


def test_an_empty_core_by_hand(tmp_path) -> None:
    """c = 0.3 > 0.2: each bloc 0.7e6, a pair 1.4e6 against its 1.6e6: short by 0.2e6, which
    is also the least core (no split of 2.1e6 does better than the symmetric one)."""
    t = three_blocs(tmp_path / "t", 0.3)
    row = core(t, "s").table.iloc[0]
    assert not row["in_core"]
    assert row["worst_excess_usd"] == pytest.approx(-0.2e6, rel=1e-9)
    assert row["least_core_usd"] == pytest.approx(-0.2e6, rel=1e-9)
    with pytest.raises(InfeasibleError):
        revshare.optimize(three_blocs(tmp_path / "p", 0.3, coalition_proof=True), "s")


def test_coalition_proof_gives_an_allocation_in_the_core(tmp_path) -> None:
    t = three_blocs(tmp_path / "t", 0.15, coalition_proof=True)
    a = revshare.optimize(t, "s")
    ex = excesses(t, a.structure, a.price, a.blocs.set_index("bloc")["usd"])
    assert ex["excess_usd"].min() >= -a.verification.tolerance_usd


def brute_force_options(t: revshare.Territory, price: float, fixed: float) -> dict:
    """Every proper coalition's option, from the bloc revenue and the fees by enumeration."""
    revenue = t.bloc_revenue(price)
    fees = t.transit_fees(price)
    blocs = list(t.blocs)
    out = {}
    for k in range(1, len(blocs)):
        for members in itertools.combinations(blocs, k):
            inside = set(members)
            paid = fees[fees["payer"].isin(inside) & ~fees["payee"].isin(inside)]["fee_usd"].sum()
            got = fees[fees["payee"].isin(inside) & ~fees["payer"].isin(inside)]["fee_usd"].sum()
            out[members] = sum(revenue[b] for b in members) - paid + got - fixed
    return out


@pytest.mark.parametrize("fixed", [2e9, 6e9])
@pytest.mark.parametrize("dataset", ["iraq", "sudan-2005"])
def test_every_coalition_proof_allocation_passes_an_independent_check(dataset, fixed) -> None:
    t = revshare.load_dataset(DATA / dataset)
    over = ["central_share=0.02", "derivation=0", "coalition_proof=true"]
    a = revshare.optimize(t, "federation", overrides=[*over, f"secession_fixed_cost_usd={fixed}"])
    money = a.blocs.set_index("bloc")["usd"]
    tol = a.verification.tolerance_usd
    for members, option in brute_force_options(t, a.price, fixed).items():
        assert money[list(members)].sum() >= option - tol, members
    # coalition_proof implies secession_proof: every single bloc is a coalition
    outside = t.outside_options(a.price)
    for bloc in t.blocs:
        assert money[bloc] >= outside[bloc] - fixed - tol


def test_without_fees_or_a_fixed_cost_coalitions_add_nothing_beyond_single_blocs() -> None:
    """The issue's observation on Iraq: with only a proportional cost and no fees between its
    blocs, a coalition's excess is the sum of its members'."""
    t = revshare.load_dataset(DATA / "iraq")
    s = revshare.PRESETS["federation"].with_overrides({"secession_cost": 0.1})
    price = float(t.default_price or 0.0)
    ex = excesses(t, s, price, t.outside_options(price))
    singles = ex[ex["size"] == 1].set_index("coalition")["excess_usd"]
    for row in ex[ex["size"] > 1].itertuples():
        parts = sum(singles[b] for b in row.coalition.split("+"))
        assert row.excess_usd == pytest.approx(parts, rel=1e-9, abs=1.0)


def test_more_blocs_than_enumerated_is_an_input_error(tmp_path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    regions = [f"R{chr(65 + i)}" for i in range(13)]
    (folder / "fields.csv").write_text(f"field,region,annual_revenue_usd\nf,{regions[0]},1000\n")
    (folder / "population.csv").write_text(
        "region,faction,population\n" + "".join(f"{r},x,10\n" for r in regions)
    )
    t = revshare.load_dataset(folder)
    with pytest.raises(revshare.InputError) as info:
        core(t, "federation")
    assert info.value.codes == ["E-RANGE"]
