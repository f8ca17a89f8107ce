"""Guarantees under a hostile centre, exposure and the capture matrix (issue 14, item 1)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import revshare
from revshare.analyses.guarantees import entrenched_part, guarantees
from revshare.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
PRICE = 10.0
V = 4000 * 365 * PRICE  # one field, no cost, full take


def tiny(folder: Path, toml: str) -> revshare.Territory:
    """Regions A (faction major, 900 people) and B (faction minor, 100 people), one field in A."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fields.csv").write_text("field,region,production_bpd\nf,A,4000\n")
    (folder / "population.csv").write_text("region,faction,population\nA,major,900\nB,minor,100\n")
    (folder / "regions.csv").write_text("region,bloc\nA,North\nB,South\n")
    (folder / "structures.toml").write_text(f"default_price = {PRICE}\n" + textwrap.dedent(toml))
    return revshare.load_dataset(folder)


FLOOR = """
[structures.s]
central_share = 0.25
per_capita_floor = 0.5
objective = "proportional"
entrenched = {entrenched}
"""


def _row(g, level: str, group: str):
    t = g.table
    return t[(t["level"] == level) & (t["group"] == group)].iloc[0]


def test_an_entrenched_floor_guarantees_the_minority_a_positive_amount(tmp_path) -> None:
    """By hand: the centre's 25% is entrenched, so D = 0.75 V; the floor gives every cell at
    least 0.5 x the mean a head of D: the minority (100 of 1,000 people) 0.5 x 0.75 V x 0.1.
    Its fair money: proportional shares of D plus the centre's slice a head, 0.1 V."""
    t = tiny(tmp_path / "t", FLOOR.format(entrenched='["central_share", "per_capita_floor"]'))
    row = _row(guarantees(t, "s", capture=False), "faction", "minor")
    assert row["guaranteed_usd"] == pytest.approx(0.5 * 0.75 * V * 0.1, rel=1e-9)
    assert row["fair_usd"] == pytest.approx(0.1 * V, rel=1e-9)
    assert row["exposure_usd"] == pytest.approx(0.1 * V - 0.5 * 0.75 * V * 0.1, rel=1e-9)
    assert row["exposure_usd_per_head"] == pytest.approx(row["exposure_usd"] / 100)


def test_a_floor_of_a_slice_the_centre_may_take_whole_guarantees_nothing(tmp_path) -> None:
    """The floor is a share of what the centre leaves; with its slice not entrenched, a hostile
    centre takes everything and the floor guarantees 0."""
    t = tiny(tmp_path / "t", FLOOR.format(entrenched='["per_capita_floor"]'))
    g = guarantees(t, "s", capture=False)
    row = _row(g, "faction", "minor")
    assert row["guaranteed_usd"] == pytest.approx(0.0, abs=1e-6)
    assert row["exposure_share"] == pytest.approx(1.0)
    assert g.entrenched["s"][0] == ("per_capita_floor",)


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def iraq_guarantees(iraq):
    return guarantees(iraq, ["unified", "partition", "federation", "iraq-2005"], capture=False)


def test_partition_leaves_no_bloc_exposed(iraq_guarantees) -> None:
    t = iraq_guarantees.table
    blocs = t[(t["structure"] == "partition") & (t["level"] == "bloc")]
    assert len(blocs) == 3
    assert (blocs["exposure_usd"] == 0).all()
    slack = 1e-9 * blocs["fair_usd"].sum()  # the verifier's tolerance
    assert blocs["guaranteed_usd"].to_list() == pytest.approx(
        blocs["fair_usd"].to_list(), abs=slack
    )


def test_unified_exposes_every_faction(iraq_guarantees) -> None:
    t = iraq_guarantees.table
    factions = t[(t["structure"] == "unified") & (t["level"] == "faction")]
    assert len(factions) == 5
    assert (factions["guaranteed_usd"] == 0).all()
    assert (factions["exposure_usd"] > 0).all()


def test_guaranteed_never_exceeds_fair(iraq_guarantees) -> None:
    t = iraq_guarantees.table
    assert (t["guaranteed_usd"] <= t["fair_usd"] + 1.0).all()
    assert (t["guaranteed_usd"] >= 0).all()


def test_the_kurdistan_share_is_guaranteed_when_entrenched(iraq, iraq_guarantees) -> None:
    """iraq-2005 entrenches every rule it writes: the region's 12.67% of what the centre's
    entrenched 25% leaves, at least."""
    t = iraq_guarantees.table
    krg = t[(t["structure"] == "iraq-2005") & (t["group"] == "Kurdistan Region")].iloc[0]
    V_iraq = revshare.optimize(iraq, "iraq-2005").revenue_usd
    assert krg["guaranteed_usd"] >= 0.1267 * 0.75 * V_iraq * (1 - 1e-9)


def test_capture_never_leaves_a_victim_below_its_guarantee(iraq) -> None:
    """The controller's own optimum is one more constraint: a victim's least can only rise."""
    g = guarantees(iraq, "federation")
    plain = g.table.set_index(["level", "group"])["guaranteed_usd"]
    for r in g.capture.itertuples():
        assert r.guaranteed_usd >= plain[(r.level, r.victim)] - 1.0
    controllers = {c.split(" ", 1)[1] for c in g.capture["controller"]}
    assert controllers == set(iraq.factions) | set(iraq.blocs)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(floor=st.floats(0.05, 1.0), centre=st.floats(0.0, 0.6))
def test_adding_an_entrenched_floor_never_lowers_a_guarantee(tmp_path, floor, centre) -> None:
    base = f"""
[structures.s]
central_share = {centre}
objective = "proportional"
entrenched = ["central_share"]

[structures.f]
central_share = {centre}
per_capita_floor = {floor}
objective = "proportional"
entrenched = ["central_share", "per_capita_floor"]
"""
    t = tiny(tmp_path / f"p{floor}-{centre}", base)
    g = guarantees(t, ["s", "f"], capture=False).table.set_index(["structure", "level", "group"])
    for (structure, level, group), row in g.iterrows():
        if structure == "f":
            assert row["guaranteed_usd"] >= g.loc[("s", level, group), "guaranteed_usd"] - 1e-6


def test_a_pool_waiting_for_a_rule_that_is_not_entrenched_is_refused() -> None:
    t = revshare.load_dataset(DATA / "nigeria")
    faac = t.structures["faac"]
    partial = faac.with_overrides({"entrenched": ["Federal Government"]}, source="test")
    with pytest.raises(InputError) as info:
        entrenched_part(partial)
    assert info.value.codes == ["E-ENTRENCHED"]


def test_every_structure_says_what_it_entrenches(iraq_guarantees) -> None:
    for name, (rules, because) in iraq_guarantees.entrenched.items():
        assert isinstance(rules, tuple)
        if name in revshare.PRESETS:
            assert because, name


def test_compare_shows_guarantees_beside_the_fair_view(iraq, iraq_guarantees) -> None:
    c = revshare.compare(iraq, ["unified", "partition"], guarantees=True)
    plain = iraq_guarantees.table.set_index(["structure", "level", "group"])
    for level, table in (("faction", c.factions), ("bloc", c.blocs)):
        for r in table.itertuples():
            assert r.guaranteed_usd == pytest.approx(
                plain.loc[(r.structure, level, r.group), "guaranteed_usd"], abs=1.0
            )
    assert "guaranteed_usd" not in revshare.compare(iraq, ["unified"]).blocs
