"""Referendums: each rule on hand-made tallies and territories, the logistic vote model, turnout,
the error contract, reports, and the Iraq 2005 rule on data/iraq."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.analyses.referendum import RULES, Tally, ratify
from revshare.errors import InputError
from revshare.reports.convention import (
    referendum_csv,
    referendum_json,
    referendum_md,
    referendum_text,
    write_referendum,
)

ROOT = Path(__file__).resolve().parent.parent


def tally(votes: dict[str, tuple[str, int, int]]) -> Tally:
    """A tally from ``region: (bloc, yes, no)``."""
    regions = pd.DataFrame(
        [
            {"region": r, "bloc": b, "yes": y, "no": n, "voters": y + n, "difference_per_head": 0.0}
            for r, (b, y, n) in votes.items()
        ]
    )
    regions = regions.set_index("region")
    blocs = regions.groupby("bloc")[["yes", "no", "voters"]].sum()
    return Tally(regions, blocs)


# --- the rules on hand tallies: thresholds met or missed exactly ---------------------------------


def test_majority_needs_more_than_half():
    decide = RULES["majority"].decide
    assert decide(tally({"A": ("x", 501, 0), "B": ("x", 0, 500)}))[0] is True
    verdict, reason, deciding = decide(tally({"A": ("x", 500, 0), "B": ("x", 0, 500)}))
    assert verdict is False and deciding == ["B"] and "50.0%" in reason


def test_double_majority_needs_a_majority_of_regions_too():
    decide = RULES["double-majority"].decide
    # 70% yes overall, but only 2 of 5 regions carried: rejected by the regions without a majority.
    votes = {
        "A": ("x", 5000, 0),
        "B": ("x", 2000, 0),
        "C": ("x", 0, 1000),
        "D": ("x", 0, 1000),
        "E": ("x", 0, 1000),
    }
    verdict, _, deciding = decide(tally(votes))
    assert verdict is False and deciding == ["C", "D", "E"]
    votes["C"] = ("x", 501, 499)
    verdict, _, deciding = decide(tally(votes))
    assert verdict is True and deciding == ["A", "B", "C"]


def test_iraq_2005_two_thirds_is_exact():
    decide = RULES["iraq-2005"].decide
    # Exactly two thirds no in three governorates rejects, whatever the national majority.
    votes = {
        "Anbar": ("s", 1, 2),
        "Salah ad-Din": ("s", 100, 200),
        "Nineveh": ("s", 1000, 2000),
        "Baghdad": ("c", 10**6, 0),
    }
    verdict, reason, deciding = decide(tally(votes))
    assert verdict is False and deciding == ["Anbar", "Nineveh", "Salah ad-Din"]
    assert "3 governorates" in reason
    # One vote short of two thirds in Nineveh (1999 of 3000 no): ratified, as in October 2005 when
    # two governorates reached two thirds and Nineveh did not.
    votes["Nineveh"] = ("s", 1001, 1999)
    verdict, reason, deciding = decide(tally(votes))
    assert verdict is True
    assert deciding == ["Anbar", "Salah ad-Din", "Nineveh"]
    assert "only in Anbar" in reason


def test_iraq_2005_also_needs_a_national_majority():
    verdict, reason, deciding = RULES["iraq-2005"].decide(
        tally({"A": ("x", 40, 60), "B": ("x", 45, 55), "C": ("x", 60, 40)})
    )
    assert verdict is False and deciding == ["A", "B"] and "no majority" in reason


def test_bloc_veto_needs_every_bloc():
    decide = RULES["bloc-veto"].decide
    votes = {"A": ("north", 51, 49), "B": ("south", 900, 100), "C": ("south", 0, 100)}
    assert decide(tally(votes))[0] is True
    votes["A"] = ("north", 50, 50)
    verdict, _, deciding = decide(tally(votes))
    assert verdict is False and deciding == ["north"]


def test_every_rule_cites_its_source():
    assert set(RULES) == {"majority", "double-majority", "iraq-2005", "bloc-veto"}
    assert all(r.citation and r.decide.__doc__ for r in RULES.values())


# --- hand-made territory: north (oil-rich), south (none), west (a little oil) --------------------
#
# Revenue 660 million USD a year: 600 million from N1's field, 60 million from W1's. 6,000 people.
#   partition: the north keeps 600M over 2,000 people = 300,000 USD a head; the west 60M / 2,000
#     = 30,000; the south 0.
#   unified: the centre keeps half, the other 330M go equally to all: 55,000 USD a head, and the
#     centre's 330M spread over everyone is another 55,000: 110,000 a head in the voters' view.
# So "unified" against "partition": north -190,000 a head (votes no), west +80,000 (yes), south
# +110,000 (yes); 4,000 of 6,000 vote yes. With a margin of 90,000 the west votes no too.


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    fields = pd.DataFrame(
        {"field": ["Nf", "Wf"], "region": ["N1", "W1"], "annual_revenue_usd": [6e8, 6e7]}
    )
    pop = pd.DataFrame(
        {
            "region": ["N1", "N1", "N2", "S1", "W1", "W2"],
            "faction": ["Kurd", "Arab", "Kurd", "Arab", "Sunni", "Sunni"],
            "population": [600, 400, 1000, 2000, 1000, 1000],
        }
    )
    regions = pd.DataFrame(
        {
            "region": ["N1", "N2", "S1", "W1", "W2"],
            "bloc": ["north", "north", "south", "west", "west"],
        }
    )
    return fields, pop, regions


@pytest.fixture(scope="module")
def land() -> revshare.Territory:
    return revshare.territory_from_frames(*frames())


@pytest.fixture(scope="module")
def solved(land) -> dict[str, revshare.Allocation]:
    return {s: revshare.optimize(land, s, price=0) for s in ("unified", "partition")}


@pytest.mark.parametrize(
    ("rule", "margin", "verdict", "deciding"),
    [
        ("majority", 0, True, ["S1", "W1", "W2"]),
        ("majority", 90_000, False, ["N1", "N2", "W1", "W2"]),
        ("double-majority", 0, True, ["S1", "W1", "W2"]),
        ("double-majority", 90_000, False, ["N1", "N2", "W1", "W2"]),
        ("iraq-2005", 0, True, ["N1", "N2", "W1", "W2"]),
        ("iraq-2005", 90_000, False, ["N1", "N2", "W1", "W2"]),
        ("bloc-veto", 0, False, ["north"]),
        ("bloc-veto", 90_000, False, ["north", "west"]),
    ],
)
def test_each_rule_on_a_hand_made_territory(solved, land, rule, margin, verdict, deciding):
    r = ratify(land, solved["unified"], solved["partition"], rule, margin=margin)
    assert (r.verdict, r.deciding) == (verdict, deciding)
    assert r.proposal == "unified" and r.status_quo == "partition"
    regions = r.regions.set_index("region")
    assert regions["difference_per_head"].round(2).to_dict() == pytest.approx(
        {"N1": -190_000, "N2": -190_000, "S1": 110_000, "W1": 80_000, "W2": 80_000}
    )
    yes = 4000 if margin == 0 else 2000
    assert (r.overall["yes"], r.overall["no"], r.overall["voters"]) == (yes, 6000 - yes, 6000)
    assert r.blocs.set_index("bloc")["yes_share"].to_dict() == {
        "north": 0.0,
        "south": 1.0,
        "west": 1.0 if margin == 0 else 0.0,
    }


def test_a_margin_equal_to_the_gain_wins_the_vote(solved, land):
    # The solver's per-head amounts differ from 80,000 in the last bits; half a cent is tolerated.
    r = ratify(land, solved["unified"], solved["partition"], "majority", margin=80_000)
    assert r.regions.set_index("region").loc[["W1", "W2"], "yes_share"].tolist() == [1.0, 1.0]
    r = ratify(land, solved["unified"], solved["partition"], "majority", margin=80_000.01)
    assert r.regions.set_index("region").loc[["W1", "W2"], "yes_share"].tolist() == [0.0, 0.0]


def test_structures_by_name_and_overrides(land, solved):
    by_name = ratify(land, "unified", "partition", "majority", price=0)
    by_allocation = ratify(land, solved["unified"], solved["partition"], "majority")
    pd.testing.assert_frame_equal(by_name.regions, by_allocation.regions)
    # A centre that keeps less is better for everybody: every bloc approves.
    r = ratify(
        land,
        "unified",
        "unified",
        "bloc-veto",
        price=0,
        overrides=["central_share=0.4"],
        status_quo_overrides=["central_share=0.6"],
    )
    assert r.verdict is True and r.deciding == ["north", "south", "west"]


def test_same_structure_passes_at_zero_margin(land):
    r = ratify(land, "federation", "federation", "majority", price=0)
    assert r.verdict is True and r.overall["yes"] == 6000


# --- turnout and the logistic model --------------------------------------------------------------


def test_turnout_per_region_rounds_half_to_even(land, solved):
    # W1: 1000 * 0.0025 = 2.5 -> 2; W2: 1000 * 0.0015 = 1.5 -> 2 (both products are exact).
    turnout = {"N1": 0.5, "N2": 0.5, "S1": 0.25, "W1": 0.0025, "W2": 0.0015}
    r = ratify(land, solved["unified"], solved["partition"], "majority", turnout=turnout)
    cells = r.cells.set_index(["region", "faction"])["voters"].to_dict()
    assert cells == {
        ("N1", "Arab"): 200,
        ("N1", "Kurd"): 300,
        ("N2", "Kurd"): 500,
        ("S1", "Arab"): 500,
        ("W1", "Sunni"): 2,
        ("W2", "Sunni"): 2,
    }
    assert r.overall["voters"] == 1504
    with pytest.raises(InputError, match="E-RANGE"):
        ratify(land, solved["unified"], solved["partition"], "majority", turnout=0.0001)


def test_logistic_votes_are_reproducible_with_a_seed(land, solved):
    def run(seed: int, territory: revshare.Territory = land) -> pd.DataFrame:
        return ratify(
            territory,
            solved["unified"],
            solved["partition"],
            "iraq-2005",
            vote_model="logistic",
            logistic_scale_usd=50_000,
            seed=seed,
        ).cells

    first, again = run(7), run(7)
    pd.testing.assert_frame_equal(first, again)
    assert not first["yes"].equals(run(8)["yes"])
    p = first.set_index("region")["probability_yes"]
    assert p["S1"] == pytest.approx(1 / (1 + np.exp(-110_000 / 50_000)))
    assert p["N1"].min() == pytest.approx(1 / (1 + np.exp(190_000 / 50_000)))
    assert ((first["yes"] >= 0) & (first["yes"] <= first["voters"])).all()
    shuffled = revshare.territory_from_frames(*(f.iloc[::-1] for f in frames()))
    pd.testing.assert_frame_equal(run(7, shuffled), first)


def test_logistic_model_has_no_overflow_at_extreme_differences(land, solved):
    r = ratify(
        land,
        solved["unified"],
        solved["partition"],
        "majority",
        vote_model="logistic",
        logistic_scale_usd=1e-3,
    )
    assert set(r.cells["probability_yes"]) <= {0.0, 1.0}


# --- errors --------------------------------------------------------------------------------------


def test_every_bad_option_is_reported_before_solving(land):
    with pytest.raises(InputError) as err:
        ratify(
            land,
            "utopia",
            "partition",
            "unanimity",
            margin=float("nan"),
            turnout={"N1": 1.5, "Atlantis": 0.5},
            vote_model="coin",
            logistic_scale_usd=0,
            seed=-1,
        )
    assert sorted(err.value.codes) == sorted(
        [
            "E-UNKNOWN-RULE",
            "E-RANGE",
            "E-OPTION",
            "E-RANGE",
            "E-RANGE",
            "E-UNKNOWN-REGION",
            "E-MISSING-REGION",
            "E-RANGE",
            "E-UNKNOWN-STRUCTURE",
        ]
    )
    assert err.value.exit_code == 2


def test_an_unknown_status_quo_is_named_as_such(land):
    with pytest.raises(InputError) as err:
        ratify(land, "unified", "anarchy", "majority", price=0)
    assert [(p.file, p.code) for p in err.value.problems] == [("status_quo", "E-UNKNOWN-STRUCTURE")]


def test_overrides_need_a_structure(land, solved):
    with pytest.raises(InputError, match="E-USAGE"):
        ratify(land, solved["unified"], "partition", "majority", overrides=["central_share=0"])


# --- reports -------------------------------------------------------------------------------------


def test_reports(land, solved, tmp_path):
    r = ratify(land, solved["unified"], solved["partition"], "iraq-2005")
    rows = list(csv.DictReader(referendum_csv(r).decode("utf-8-sig").splitlines()))
    levels = [x["level"] for x in rows]
    assert levels.count("overall") == 1 and levels.count("bloc") == 3
    assert levels.count("region") == 5 and levels.count("cell") == 6
    region = {x["region"]: x for x in rows if x["level"] == "region"}
    assert region["N1"]["no"] == "1000" and region["N1"]["bloc"] == "north"
    doc = json.loads(referendum_json(r))
    assert doc["verdict"] == "ratified" and doc["deciding"] == ["N1", "N2", "W1", "W2"]
    assert doc["rule"]["citation"].startswith("Iraq TAL")
    assert "RATIFIED" in referendum_md(r) and "deciding: N1, N2, W1, W2" in referendum_text(r)
    out = write_referendum(r, tmp_path / "vote")
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "referendum.csv",
        "report.html",
        "report.md",
        "report.xlsx",
        "summary.json",
    ]


def test_report_names_are_neutralised_and_escaped(tmp_path):
    fields = pd.DataFrame(
        {"field": ["F"], "region": ["=cmd|' /C calc'!A0"], "annual_revenue_usd": [1e6]}
    )
    pop = pd.DataFrame(
        {
            "region": ["=cmd|' /C calc'!A0", "<script>x</script>"],
            "faction": ["a|b", "a|b"],
            "population": [10, 20],
        }
    )
    t = revshare.territory_from_frames(fields, pop)
    r = ratify(t, "partition", "unified", "bloc-veto", price=0)
    text = referendum_csv(r).decode("utf-8-sig")
    assert ",'=cmd" in text and "\n=" not in text and ",=" not in text
    md = referendum_md(r)
    assert "<script>" not in md and "a\\|b" in md


# --- the acceptance case: data/iraq, confederation against unified, Iraq 2005 rule ---------------


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(ROOT / "data" / "iraq")


def test_iraq_confederation_against_unified(iraq):
    r = ratify(iraq, "confederation", "unified", "iraq-2005")
    # Counting the centre's spending, the Kurdistan and Sunni regions' eight governorates lose
    # about 1,077 USD a head under confederation and vote no: a veto by eight governorates.
    assert r.verdict is False and r.reason.startswith("rejected")
    assert r.deciding == [
        "Anbar",
        "Diyala",
        "Duhok",
        "Erbil",
        "Kirkuk",
        "Nineveh",
        "Salah ad-Din",
        "Sulaymaniyah",
    ]
    assert "8 governorates" in r.reason
    assert set(r.regions["region"]) == set(iraq.regions.index) and len(r.regions) == 18
    assert r.overall["voters"] == int(iraq.cells["population"].sum())
    # Voters who accept a loss of up to 1,100 USD a head ratify it.
    strict = ratify(iraq, "confederation", "unified", "iraq-2005", margin=-1100)
    assert strict.verdict is True and strict.reason.startswith("ratified")
    assert RULES["iraq-2005"].citation in referendum_text(strict)
