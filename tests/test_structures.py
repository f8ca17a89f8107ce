"""Structures: presets, TOML loading, validation with lines, overrides (catalogue group H)."""

from __future__ import annotations

import pytest

import revshare
from revshare.data.structures import (
    PRESETS,
    apply_overrides,
    load_structure_file,
    parse_override,
    resolve,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_a_rationale_and_a_citation(name):
    s = PRESETS[name]
    assert s.description and len(s.citation) > 40
    assert s.source == "built-in"


def write(tmp_path, text):
    path = tmp_path / "deal.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        (
            "per_capita_floor = 0.9\nper_capita_cap = 1.0\nper_capita_floor = 0.5\n",
            "E-TOML",
            3,
            None,
        ),
        (
            "per_capita_floor = 0.9\nper_capita_cap = 0.8\n",
            "E-FLOOR-ABOVE-CAP",
            1,
            "per_capita_floor",
        ),
        ("bloc_share = { A = 0.6, B = 0.5 }\n", "E-SHARE-SUM", 1, "bloc_share"),
        ("faction_share = { X = 0.7, Y = 0.7 }\n", "E-SHARE-SUM", 1, "faction_share"),
        ("derivation = -0.1\n", "E-RANGE", 1, "derivation"),
        ("central_share = [0.4, 0.2]\n", "E-RANGE", 1, "central_share"),
        ("central_share = 1.5\n", "E-RANGE", 1, "central_share"),
        ('objective = "fairest"\n', "E-UNKNOWN-OBJECTIVE", 1, "objective"),
        ("secesion_proof = true\n", "E-UNKNOWN-PARAMETER", 1, "secesion_proof"),
        ('extends = "empire"\n', "E-STRUCTURE", 1, "extends"),
        ('within_region = "some"\n', "E-STRUCTURE", 1, "within_region"),
        ('derivation = "lots"\n', "E-STRUCTURE", 1, "derivation"),
        ("per_capita_cap = 0.5\n", "E-RANGE", 1, "per_capita_cap"),
        ("formula_weights = { wealth = 0.5 }\n", "E-STRUCTURE", 1, "formula_weights.wealth"),
    ],
)
def test_bad_structure_files_name_line_and_parameter(tmp_path, text, code, line, column):
    path = write(tmp_path, text)
    with pytest.raises(revshare.InputError) as err:
        load_structure_file(path)
    problem = next(p for p in err.value.problems if p.code == code)
    assert problem.file == str(path)
    assert problem.line == line
    if column is not None:
        assert problem.column == column


def test_all_problems_of_a_structure_are_reported_at_once(tmp_path):
    path = write(tmp_path, 'derivation = 2\nobjective = "x"\nbloc_retention = -1\n')
    with pytest.raises(revshare.InputError) as err:
        load_structure_file(path)
    assert sorted(err.value.codes) == ["E-RANGE", "E-RANGE", "E-UNKNOWN-OBJECTIVE"]


def test_extends_inherits_and_overrides(tmp_path):
    path = write(tmp_path, 'extends = "confederation"\nper_capita_floor = 0.7\n')
    s = next(iter(load_structure_file(path).values()))
    assert s.per_capita_floor == 0.7
    assert s.bloc_retention == PRESETS["confederation"].bloc_retention
    assert s.name == "deal"


def test_dataset_structure_problems_point_at_their_line(tmp_path):
    import shutil
    from pathlib import Path

    data = tmp_path / "iraq"
    shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "iraq", data)
    text = (data / "structures.toml").read_text(encoding="utf-8")
    text += '\n[structures.broken]\nextends = "federation"\nderivation = 3\n'
    (data / "structures.toml").write_text(text, encoding="utf-8")
    with pytest.raises(revshare.InputError) as err:
        revshare.load_dataset(data)
    (problem,) = err.value.problems
    assert problem.code == "E-RANGE" and problem.column == "derivation"
    assert problem.line == len(text.splitlines())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("central_share=0.2", ("central_share", 0.2)),
        ("central_share=[0, 0.3]", ("central_share", [0, 0.3])),
        ("secession_proof=true", ("secession_proof", True)),
        ("within_region=free", ("within_region", "free")),
        ("bloc_share.Kurdistan Region=0.17", ("bloc_share.Kurdistan Region", 0.17)),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


def test_overrides_merge_tables_and_validate():
    s = apply_overrides(
        PRESETS["federation"], ["bloc_share.A=0.1", "bloc_share.B=0.2", "derivation=0"]
    )
    assert dict(s.bloc_share) == {"A": 0.1, "B": 0.2} and s.derivation == 0
    with pytest.raises(revshare.InputError) as err:
        apply_overrides(PRESETS["federation"], ["bloc_share.A=0.8", "bloc_share.B=0.8"])
    assert err.value.codes == ["E-SHARE-SUM"]
    with pytest.raises(revshare.InputError):
        apply_overrides(PRESETS["federation"], ["nonsense"])


def test_unknown_structure_suggests_a_close_name():
    with pytest.raises(revshare.InputError) as err:
        resolve("partiton")
    assert "partition" in str(err.value)
