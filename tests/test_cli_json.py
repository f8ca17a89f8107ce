"""Issue 15, item 1: every command prints JSON in one envelope (``schema_version``, ``kind``,
``dataset``), and each kind matches the JSON Schema shipped in the package
(``revshare/reports/schemas/<kind>.schema.json``)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import cli
from revshare.reports.documents import REPORT_ONLY_KINDS

ROOT = Path(__file__).resolve().parent.parent
IRAQ = str(ROOT / "data" / "iraq")
PATH = str(ROOT / "data" / "iraq" / "brent-2005-2024.csv")

# Each command, small runs on data/iraq, and the kind of JSON it prints.
RUNS = {
    "optimize": (["optimize", IRAQ], "allocation"),
    "periods": (["periods", IRAQ, "--periods", PATH], "periods"),
    "compare": (["compare", IRAQ, "-s", "federation,unified"], "comparison"),
    "sweep": (["sweep", IRAQ, "-s", "federation", "--prices", "50,80", "--workers", "1"], "sweep"),
    "convention": (["convention", IRAQ, "--seats", "50"], "apportionment"),
    "ratify": (
        ["ratify", IRAQ, "--structure", "federation", "--status-quo", "unified"],
        "referendum",
    ),
    "validate": (["validate", IRAQ], "validation"),
    "structures": (["structures", IRAQ], "structures"),
    "generate": (["generate", "{tmp}/gen", "--regions", "8", "--periods", "3"], "generated"),
    "init": (["init", "{tmp}/new"], "init"),
    "guarantees": (["guarantees", IRAQ, "-s", "federation,unified"], "guarantees"),
    "core": (["core", IRAQ, "-s", "federation"], "core"),
    "power": (["power", IRAQ], "power"),
    "secession": (
        ["secession", IRAQ, "--structure", "federation", "--periods", PATH, "--vote-after", "3"],
        "secession",
    ),
}


def schema(kind: str) -> dict:
    text = resources.files("revshare.reports").joinpath(f"schemas/{kind}.schema.json").read_text()
    return json.loads(text)


def test_every_command_has_a_json_run_here():
    assert set(RUNS) == set(cli.main.commands)


def test_every_kind_has_one_valid_schema_and_every_schema_a_kind():
    shipped = {
        p.name.removesuffix(".schema.json")
        for p in resources.files("revshare.reports").joinpath("schemas").iterdir()
        if p.name.endswith(".schema.json")
    }
    assert shipped == {kind for _, kind in RUNS.values()} | set(REPORT_ONLY_KINDS)
    for kind in shipped:
        jsonschema.Draft202012Validator.check_schema(schema(kind))
        assert schema(kind)["properties"]["kind"] == {"const": kind}


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("json")
    out = {}
    for command, (args, _) in RUNS.items():
        result = CliRunner().invoke(
            cli.main, [a.format(tmp=tmp) for a in args] + ["--format", "json"]
        )
        assert result.exit_code == 0, (command, result.stderr)
        out[command] = json.loads(result.stdout)
    return out


@pytest.mark.parametrize("command", sorted(RUNS))
def test_the_json_of_every_command_matches_its_schema(printed, command):
    document, kind = printed[command], RUNS[command][1]
    assert list(document)[:3] == ["schema_version", "kind", "dataset"]
    assert document["kind"] == kind
    assert document["dataset"] == {"generate": "gen", "init": "new"}.get(command, "iraq")
    jsonschema.validate(document, schema(kind))


def _populations(value, key=""):
    """Every (key, value) in a JSON document whose key names a population."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _populations(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _populations(v, key)
    elif "population" in key and isinstance(value, int | float) and not isinstance(value, bool):
        yield key, value


@pytest.mark.parametrize("command", sorted(RUNS))
def test_a_population_of_whole_people_is_an_integer(printed, command):
    """Issue 15: data/iraq's populations are whole numbers, so JSON writes them without ".0"
    (shares of population stay fractions)."""
    floats = [
        (k, v)
        for k, v in _populations(printed[command])
        if isinstance(v, float) and not k.startswith("share") and v.is_integer()
    ]
    assert floats == []


@pytest.mark.parametrize("command", sorted(RUNS))
@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("dataset"),
        lambda d: d.update(kind="other"),
        lambda d: d.update(schema_version=1),
        lambda d: d.pop(list(d)[3]),  # the first field after the envelope
        lambda d: d.update({list(d)[3]: ["x"] if isinstance(d[list(d)[3]], dict) else {"x": 1}}),
    ],
    ids=["no-dataset", "wrong-kind", "version-not-text", "field-missing", "field-wrong-type"],
)
def test_a_damaged_document_fails_its_schema(printed, command, damage):
    document = json.loads(json.dumps(printed[command]))
    damage(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema(RUNS[command][1]))
