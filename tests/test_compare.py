"""``revshare.analyses.compare``: every structure side by side, preferences, acceptance and the reports."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import revshare
from revshare.analyses.compare import ACCEPT_RELATIVE, INDIFFERENCE_USD_PER_HEAD, compare
from revshare.reports.comparison import (
    COMPARISON_FILES,
    comparison_csv,
    comparison_json,
    comparison_md,
    comparison_table,
    write_comparison,
)
from revshare.reports.workbook import parse_csv

DATA = Path(__file__).resolve().parent.parent / "data"
# On data/iraq the Kurds cannot get half the money while everyone gets 90% of the mean per head.
IMPOSSIBLE = dataclasses.replace(
    revshare.PRESETS["federation"],
    name="impossible",
    faction_share={"Kurd": 0.5},
    per_capita_floor=0.9,
    source="test",
)


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def everything(iraq) -> revshare.analyses.compare.Comparison:
    return compare(iraq, "all")


@pytest.fixture(scope="module")
def with_infeasible(iraq) -> revshare.analyses.compare.Comparison:
    return compare(iraq, ["federation", IMPOSSIBLE, "partition", "unified"])


def test_all_structures_on_iraq_run_and_write(iraq, tmp_path):
    """Every preset and dataset structure, in order; the time is measured by
    benchmarks/optimize.py, never asserted here."""
    c = compare(iraq, "all")
    write_comparison(c, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [*COMPARISON_FILES, "manifest.json", "report.xlsx"]
    )
    expected = [*revshare.PRESETS, *iraq.structures]
    assert list(c.structures) == expected


def test_a_preset_that_does_not_fit_is_listed_as_not_applicable(everything):
    assert set(everything.not_applicable) == {"sudan-cpa-2005"}
    assert "'south'" in everything.not_applicable["sudan-cpa-2005"]
    row = everything.metrics.set_index("structure").loc["sudan-cpa-2005"]
    assert (row["status"], bool(row["feasible"])) == ("not applicable", False)
    assert everything.allocations["sudan-cpa-2005"] is None
    assert "sudan-cpa-2005" not in set(everything.pairwise[["a", "b"]].to_numpy().ravel())


def test_a_structure_named_alone_must_fit(iraq):
    with pytest.raises(revshare.InputError) as err:
        compare(iraq, ["sudan-cpa-2005"])
    assert err.value.codes == ["E-UNKNOWN-NAME"]


def test_a_structure_that_cannot_apply_among_several_is_a_row_with_its_reason(iraq):
    c = compare(iraq, ["federation", "sudan-cpa-2005"])
    assert c.status == {"federation": "optimal", "sudan-cpa-2005": "not applicable"}
    assert "'south'" in c.not_applicable["sudan-cpa-2005"]


@pytest.mark.parametrize(
    ("structures", "overrides", "code"),
    [
        (["federation", "nonesuch"], None, "E-UNKNOWN-STRUCTURE"),
        (["federation", "federation"], None, "E-USAGE"),
        ([], None, "E-USAGE"),
        ("all", ["central_share=2"], "E-RANGE"),
        ("all", ["bloc_share.south=0.5"], "E-UNKNOWN-NAME"),
    ],
)
def test_bad_input_fails_the_whole_run(iraq, structures, overrides, code):
    with pytest.raises(revshare.InputError) as err:
        compare(iraq, structures, overrides=overrides)
    assert code in err.value.codes


def test_an_infeasible_structure_stays_with_its_reason(with_infeasible):
    c = with_infeasible
    assert c.status["impossible"] == "infeasible"
    assert c.allocations["impossible"] is None
    reason = c.infeasible["impossible"]
    assert "'impossible'" in reason and "faction_share[Kurd]" in reason and "\n" not in reason
    assert c.feasible == ("federation", "partition", "unified")
    assert "impossible" not in set(c.factions["structure"]) | set(c.rankings["structure"])
    row = c.metrics.set_index("structure").loc["impossible"]
    assert row["reason"] == reason and np.isnan(row["gini"])
    accept = c.acceptable.set_index("structure").loc["impossible"]
    assert (bool(accept["feasible"]), bool(accept["all_accept"])) == (False, False)


def test_the_infeasible_structure_is_in_every_report(with_infeasible):
    c = with_infeasible
    rows = list(csv.DictReader(io.StringIO(comparison_csv(c).decode("utf-8-sig"))))
    mine = [r for r in rows if r["structure"] == "impossible"]
    assert len(mine) == 1 and mine[0]["status"] == "infeasible"
    assert mine[0]["reason"] == c.infeasible["impossible"]
    doc = json.loads(comparison_json(c))
    entry = next(s for s in doc["structures"] if s["structure"] == "impossible")
    assert entry["status"] == "infeasible" and entry["gini"] is None
    assert "impossible" in comparison_md(c)
    assert "impossible: infeasible:" in comparison_table(c)


def test_only_infeasible_structures_still_give_a_comparison(iraq, tmp_path):
    c = compare(iraq, [IMPOSSIBLE])
    assert c.feasible == ()
    assert (c.condorcet.winner, c.condorcet.smith_set) == (None, ())
    assert c.pairwise.empty and c.rankings.empty and c.factions.empty
    write_comparison(c, tmp_path / "none")
    assert "No structure has a feasible" in (tmp_path / "none" / "report.md").read_text()


def test_two_views_of_money_per_head(everything, iraq):
    P = iraq.population
    for name in everything.feasible:
        a = everything.allocations[name]
        deal = len(a.accounts) > 1  # a deal's accounts hold money too (data/iraq's 2023 budget)
        for table in (everything.factions, everything.blocs):
            rows = table[table["structure"] == name]
            gap = rows["usd_per_head_with_centre"] - rows["usd_per_head_direct"]
            if not deal:
                assert np.allclose(gap, a.centre_usd / P, rtol=0, atol=1e-9)
                assert rows["usd"].sum() + a.centre_usd == pytest.approx(a.revenue_usd, rel=1e-12)
            else:  # the governments serving a group add their money a head to the centre's
                assert (gap >= a.centre_usd / P - 1e-9).all()
                held = a.accounts["usd"].sum()  # the centre's and every account's
                assert rows["usd"].sum() + held == pytest.approx(a.revenue_usd, rel=1e-12)
            assert rows["population"].sum() == P


def test_pairwise_majority_counts_people_by_cell(everything, iraq):
    c = everything
    total = iraq.population
    assert np.allclose(c.pairwise[["prefer_a", "prefer_b", "indifferent"]].sum(axis=1), total)
    cells = c.cells.pivot_table(
        index=["region", "faction"], columns="structure", values="usd_per_head_with_centre"
    )
    population = c.cells.groupby(["region", "faction"])["population"].first()
    for row in c.pairwise.itertuples():
        diff = cells[row.a] - cells[row.b]
        assert population[diff > INDIFFERENCE_USD_PER_HEAD].sum() == row.prefer_a
        assert population[diff < -INDIFFERENCE_USD_PER_HEAD].sum() == row.prefer_b
    n = len(c.feasible)
    assert len(c.pairwise) == n * (n - 1) // 2


def test_condorcet_outcome_is_consistent_with_the_pairwise_table(everything):
    c = everything
    wins = {n: 0 for n in c.feasible}
    for row in c.pairwise.itertuples():
        if row.winner is not None:
            wins[row.winner] += 1
    n = len(c.feasible)
    unbeaten = [s for s, k in wins.items() if k == n - 1]
    assert c.condorcet.winner == (unbeaten[0] if unbeaten else None)
    if c.condorcet.winner is not None:
        assert c.condorcet.smith_set == (c.condorcet.winner,)


def test_rankings_order_each_group_by_its_money_per_head(everything):
    r = everything.rankings
    assert set(r["level"]) == {"faction", "bloc"}
    for (_, _), g in r.groupby(["level", "group"]):
        assert sorted(g["structure"]) == sorted(everything.feasible)
        assert g["rank"].min() == 1
        best = g.loc[g["rank"] == 1, "usd_per_head"].min()
        assert best >= g["usd_per_head"].max() - INDIFFERENCE_USD_PER_HEAD


def test_acceptance_is_the_allocations_secession_proof_metric(everything):
    accept = everything.acceptable.set_index("structure")
    for name in everything.feasible:
        a = everything.allocations[name]
        assert bool(accept.loc[name, "all_accept"]) == a.metrics["secession_proof"]
        surplus = a.blocs.set_index("bloc")["surplus_over_secession_usd"]
        refuse = tuple(b for b, v in surplus.items() if v < -ACCEPT_RELATIVE * a.revenue_usd)
        assert accept.loc[name, "refused_by"] == refuse
    assert bool(accept.loc["partition", "all_accept"])


def test_overrides_apply_to_every_structure(iraq):
    c = compare(iraq, ["federation", "iraq-2005"], overrides=["central_share=0"])
    assert (c.metrics["centre_usd"] == 0).all()
    assert all(c.definitions[n].central_share == (0.0, 0.0) for n in c.structures)


def test_reports_are_written_atomically_and_refuse_to_overwrite(everything, tmp_path):
    out = write_comparison(everything, tmp_path / "r")
    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    with pytest.raises(revshare.InputError) as err:
        write_comparison(everything, out)
    assert "E-OUTPUT-EXISTS" in err.value.codes
    write_comparison(everything, out, force=True)


def test_json_is_strict_and_versioned(everything):
    doc = json.loads(
        comparison_json(everything),
        parse_constant=lambda c: pytest.fail(f"non-finite {c}"),
    )
    assert doc["schema_version"] == "1.0" and doc["kind"] == "comparison"
    assert doc["preference_view"] == "usd_per_head_with_centre"
    assert [s["structure"] for s in doc["structures"]] == list(everything.structures)
    assert doc["condorcet"]["winner"] == everything.condorcet.winner


def test_terminal_table_shows_both_views_and_the_verdict(everything):
    text = comparison_table(everything)
    assert "direct allocation only" in text
    assert "direct plus the centre's slice per head" in text
    assert "sudan-cpa-2005: not applicable" in text
    assert all(name in text for name in everything.structures)
    assert max(len(line) for line in text.splitlines() if "sudan" not in line) <= 120


HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "@SUM(A1)",
    'a";=1+2',
    "x|y",
    "<img src=x onerror=alert(1)>",
    "بغداد",
]


def test_hostile_names_are_neutralised_in_csv_and_markdown():
    fields = pd.DataFrame(
        {"field": ["F1", "F2"], "region": HOSTILE[:2], "annual_revenue_usd": [5e8, 3e8]}
    )
    pop = pd.DataFrame(
        {"region": HOSTILE, "faction": HOSTILE[::-1], "population": [1000 + i for i in range(7)]}
    )
    c = compare(revshare.territory_from_frames(fields, pop), ["federation", "partition"], price=0)
    text = comparison_csv(c).decode("utf-8-sig")
    rows = parse_csv(text)  # typed as report.xlsx reads it: text, numbers, booleans
    cells = [v for row in rows for v in row if isinstance(v, str)]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)
    assert '\'=HYPERLINK("http://x","y")' in cells and "بغداد" in cells
    md = comparison_md(c)
    assert "<img" not in md
    header = next(line for line in md.splitlines() if line.startswith("| structure | ⁨"))
    row = next(line for line in md.splitlines() if line.startswith("| ⁨federation"))
    assert row.replace("\\|", "").count("|") == header.replace("\\|", "").count("|")
