"""Infeasible structures: minimal conflicting rules and the cheapest concession, checked three ways
(docs/design.md#explaining-infeasibility): the conflict is infeasible alone, dropping any member makes it feasible, and
the concession makes the whole structure solve."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import revshare
from revshare.analyses.explain import feasible_labels
from revshare.data.structures import PRESETS, apply_overrides

DATA = Path(__file__).resolve().parent.parent / "data"


def territory() -> revshare.Territory:
    """R1 holds all the oil and 60% of the people; R2 (bloc A) and R3 (bloc C) 20% each."""
    fields = pd.DataFrame({"field": ["F"], "region": ["R1"], "annual_revenue_usd": [1e9]})
    pop = pd.DataFrame(
        {
            "region": ["R1", "R2", "R3"],
            "faction": ["X", "Y", "Z"],
            "population": [600_000, 200_000, 200_000],
        }
    )
    regions = pd.DataFrame({"region": ["R1", "R2", "R3"], "bloc": ["B", "A", "C"]})
    return revshare.territory_from_frames(fields, pop, regions)


BASE = ["central_share=0", "derivation=0"]
CASES = {
    "floors above what the budget allows": [*BASE, "per_capita_floor=1", "derivation=0.9"],
    "caps below a guaranteed share": [*BASE, "per_capita_cap=1", "bloc_share.A=0.9"],
    "per-head floor against a bloc share": [*BASE, "per_capita_floor=1", "bloc_share.A=0.5"],
    "secession against a centre share": [
        "central_share=0.1",
        "derivation=0",
        "secession_proof=true",
    ],
    "two independent conflicts": [
        "per_capita_cap=1",
        "bloc_share.A=0.9",
        "central_share=0.6",
        "derivation=0.5",
    ],
    "bloc retention against a faction share": [*BASE, "bloc_retention=0.9", "faction_share.Y=0.5"],
    "damage allotment against caps": [*BASE, "per_capita_cap=1", "bloc_share.C=0.5"],
    "non-unique concession": [*BASE, "per_capita_floor=1", "faction_share.Z=0.4"],
}


def explained(t: revshare.Territory, overrides: list[str]) -> revshare.InfeasibleError:
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(t, "federation", price=0, overrides=overrides)
    return err.value


@pytest.mark.parametrize("case", sorted(CASES))
def test_conflicts_are_minimal_and_the_concession_works(case):
    t = territory()
    overrides = CASES[case]
    s = apply_overrides(PRESETS["federation"], overrides)
    error = explained(t, overrides)
    e = error.explanation
    assert e.conflict_labels and all(e.conflict_labels)
    for conflict in e.conflict_labels:
        assert not feasible_labels(t, s, 0, conflict)  # (a) infeasible on its own
        for member in conflict:  # (b) irreducible
            assert feasible_labels(t, s, 0, [c for c in conflict if c != member]), member
    assert e.verified and error.overrides  # (c) the concession solves
    fixed = revshare.optimize(t, "federation", price=0, overrides=[*overrides, *error.overrides])
    assert fixed.verification.ok
    assert error.conflict[0].startswith("budget:")


def test_two_independent_conflicts_are_both_reported():
    e = explained(territory(), CASES["two independent conflicts"]).explanation
    assert len(e.conflict_labels) >= 2
    assert not set(e.conflict_labels[0]) & set(e.conflict_labels[1])


def test_a_tie_between_concessions_says_one_of_several():
    error = explained(territory(), CASES["non-unique concession"])
    assert not error.explanation.unique
    assert "one of several" in error.concession and "alternative" in error.concession


def test_conflict_lines_cite_where_each_rule_was_set():
    error = explained(territory(), CASES["per-head floor against a bloc share"])
    text = "\n".join(error.conflict)
    assert "bloc_share[A]" in text and "(overrides)" in text
    assert "floor[" in text


def test_rules_from_a_toml_file_cite_file_and_line(tmp_path):
    path = tmp_path / "deal.toml"
    path.write_text(
        'extends = "federation"\ncentral_share = 0\nderivation = 0\n'
        "per_capita_floor = 1\nbloc_share = { A = 0.5 }\n",
        encoding="utf-8",
    )
    error = explained_file(territory(), path)
    text = "\n".join(error.conflict)
    assert f"{path}:5" in text and f"{path}:4" in text


def explained_file(t, path):
    with pytest.raises(revshare.InfeasibleError) as err:
        revshare.optimize(t, str(path), price=0)
    return err.value


def test_floor_above_cap_is_caught_before_solving():
    with pytest.raises(revshare.InputError) as err:
        revshare.optimize(
            territory(),
            "federation",
            price=0,
            overrides=["per_capita_floor=0.9", "per_capita_cap=0.8"],
        )
    assert "E-FLOOR-ABOVE-CAP" in err.value.codes


def test_shares_above_one_hundred_percent_are_caught_before_solving():
    with pytest.raises(revshare.InputError) as err:
        revshare.optimize(
            territory(), "federation", price=0, overrides=["bloc_share.A=0.6", "bloc_share.C=0.6"]
        )
    assert err.value.codes == ["E-SHARE-SUM"]


def test_iraq_kurdistan_17_percent_with_every_bloc_secession_proof():
    iraq = revshare.load_dataset(DATA / "iraq")
    overrides = ["bloc_share.Kurdistan Region=0.17", "secession_proof=true"]
    try:
        a = revshare.optimize(iraq, "federation", overrides=overrides)
    except revshare.InfeasibleError as error:
        text = "\n".join(error.conflict)
        assert "secession[" in text
        assert any(ch.isdigit() for ch in error.concession)
        fixed = revshare.optimize(iraq, "federation", overrides=[*overrides, *error.overrides])
        assert fixed.verification.ok
    else:
        assert a.metrics["secession_proof"]
