"""Issue 16, item 3: ``revshare init DIR`` writes a dataset to fill in, which ``validate`` accepts
as written and then guides through filling in, and ``compare`` solves.

The scaffold is generated from the schemas and held here to the model's registries: every
column is explained, every kind of rule has an example that solves, every figure is marked a
placeholder in SOURCES.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import revshare
from revshare.data import scaffold
from revshare.data.readers import read_dataset
from revshare.data.schema import SCHEMAS
from revshare.data.structures import PRESETS, Structure
from revshare.model.deal_rules import RULE_KINDS
from revshare.model.parameters import PARAMETER_RULES

ROOT = Path(__file__).resolve().parent.parent
FILES = (
    "fields.csv",
    "population.csv",
    "regions.csv",
    "structures.toml",
    "README.md",
    "SOURCES.md",
)
# The rules that regions.csv holds, not a structure.
REGION_COLUMNS = ("min_usd_per_capita", "max_usd_per_capita")
STEP_FILES = tuple(name for name, _ in scaffold.STEPS)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("init") / "country"
    code, stdout, stderr = run("init", str(out))
    assert (code, stderr) == (0, "")
    assert f"revshare validate {out}" in stdout and f"revshare compare {out}" in stdout
    return out


@pytest.fixture(scope="module")
def territory(folder: Path) -> revshare.Territory:
    return revshare.load_dataset(folder)


def _steps(stdout: str) -> list[str]:
    """The files named by the numbered next steps that ``validate`` printed, in order."""
    return [
        line.split(". ", 1)[1].split(":")[0] for line in stdout.splitlines() if line[:1].isdigit()
    ]


def test_init_then_validate_then_compare_succeed_on_the_scaffold(folder, tmp_path):
    code, stdout, stderr = run("validate", str(folder))
    assert code == 0 and stderr == ""
    assert stdout.startswith("ok: 4 regions, 2 factions, 7 cells, 3 fields, 2 blocs, ")
    n = len(PRESETS) + len(scaffold.EXAMPLES)
    assert f"{n} of {n} structures can run" in stdout  # every preset applies too
    assert "Next steps" in stdout and _steps(stdout) == list(STEP_FILES)
    code, stdout, stderr = run("compare", str(folder), "--out", str(tmp_path / "report"))
    assert code == 0, stderr
    assert f"{n} of {n} structures feasible" in stdout
    assert (tmp_path / "report" / "comparison.csv").is_file()


def test_the_command_writes_the_library_scaffold_byte_for_byte(folder):
    files = scaffold.scaffold_files()
    assert tuple(sorted(files)) == tuple(sorted(FILES))
    for name, data in files.items():
        assert (folder / name).read_bytes() == data
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    assert scaffold.scaffold_files() == files  # deterministic


def test_every_column_of_every_file_is_in_the_header_and_explained(folder):
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for schema in SCHEMAS.values():
        with (folder / schema.filename).open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert tuple(header) == schema.names
        for column in schema.columns:
            assert f"| `{column.name}` |" in readme and column.description in readme
    raw = read_dataset(folder)
    assert raw.notices == []  # written as the readers like it: nothing to normalise


def test_the_csvs_hold_no_comment_rows_and_every_row_is_data(folder):
    for schema in SCHEMAS.values():
        rows = list(csv.reader(io.StringIO((folder / schema.filename).read_text("utf-8"))))
        assert not any(r and r[0].startswith("#") for r in rows)
        assert len(rows) - 1 == len(scaffold.ROWS[schema.role])


def _sets(structure: Structure, parameter: str) -> bool:
    """Whether ``structure`` sets ``parameter`` away from a plain structure's value."""
    return getattr(structure, parameter) != getattr(Structure(name="plain"), parameter)


def test_every_kind_of_rule_has_an_example_that_sets_it(territory):
    examples = {e.name: e for e in scaffold.EXAMPLES}
    assert set(examples) == {n for n in territory.structures if n.startswith("example-")}
    parameters = {r.parameter for r in PARAMETER_RULES.values()} - set(REGION_COLUMNS)
    shown = {e.rule for e in scaffold.EXAMPLES}
    assert shown == parameters | set(RULE_KINDS) == set(scaffold.MEANINGS)
    for name, example in examples.items():
        structure = territory.structures[name]
        if example.rule in RULE_KINDS:
            assert [r.kind for r in structure.deal.rules] == [example.rule], name
        else:
            assert _sets(structure, example.rule), name
        assert structure.description == example.description
    for column in REGION_COLUMNS:  # the two rules of regions.csv hold a value in some region
        assert territory.regions[column].notna().any(), column


def test_every_structure_solves_on_the_scaffold(territory):
    result = revshare.compare(territory, "all")
    assert set(result.feasible) == set(result.structures) == {*PRESETS, *territory.structures}
    assert not result.unproven and not result.not_applicable


def test_sources_marks_every_figure_a_placeholder(folder):
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    for role, schema in SCHEMAS.items():
        section = sources.split(f"## {schema.filename}\n", 1)[1].split("\n## ", 1)[0]
        for name in schema.names:
            if any(row.get(name) for row in scaffold.ROWS[role]):
                assert f"| `{name}` | **{scaffold.PLACEHOLDER}** |" in section, name
    for figure in ("default_price", *(e.name for e in scaffold.EXAMPLES)):
        assert f"| `{figure}` | **{scaffold.PLACEHOLDER}** |" in sources
    toml = tomllib.loads((folder / "structures.toml").read_text(encoding="utf-8"))
    for table in toml["structures"].values():
        assert table["citation"].startswith(scaffold.PLACEHOLDER)


@pytest.mark.parametrize(
    "contents",
    [
        {"notes.txt": "mine"},
        {".hidden": ""},
        {"sub/inner.csv": "a,b\n"},
        {"fields.csv": "field,region\n"},
    ],
    ids=["a file", "a hidden file", "a subfolder", "a dataset file"],
)
def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path, contents):
    out = tmp_path / "d"
    for name, text in contents.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, stdout, stderr = run("init", str(out))
    assert code == 2 and stdout == ""
    assert "[E-OUTPUT-EXISTS]" in stderr and "--force" in stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    code, _, stderr = run("init", str(out), "--force")
    assert code == 0, stderr
    for name, data in scaffold.scaffold_files().items():
        assert (out / name).read_bytes() == data
    for path, data in before.items():  # the user's other files are kept
        if path.name not in FILES:
            assert path.read_bytes() == data
    assert run("validate", str(out))[0] == 0


def test_an_empty_or_new_folder_is_written_and_a_file_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    assert run("init", str(tmp_path / "empty"))[0] == 0
    assert run("init", str(tmp_path / "new" / "deeper"))[0] == 0
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, stderr = run("init", str(tmp_path / "file"))
    assert code == 2 and "[E-OUTPUT]" in stderr and "not a folder" in stderr
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def _rename(pairs: dict[str, str], files: tuple[str, ...]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for name in files:
            text = (folder / name).read_text(encoding="utf-8")
            for old, new in pairs.items():
                text = text.replace(old, new)
            (folder / name).write_text(text, encoding="utf-8")

    return edit


def _plain_structures(folder: Path) -> None:
    (folder / "structures.toml").write_text("default_price = 70\n", encoding="utf-8")


def _sourced(folder: Path) -> None:
    _rename({scaffold.PLACEHOLDER: "E"}, ("SOURCES.md",))(folder)


CSVS = ("population.csv", "regions.csv", "fields.csv")
REGIONS = {r: f"Province {i}" for i, r in enumerate(scaffold.REGIONS)}
FACTIONS = {f: f"People {i}" for i, f in enumerate(scaffold.FACTIONS)}
FIELDS = {f: f"Block {i}" for i, f in enumerate(scaffold.FIELDS)}


@pytest.mark.parametrize(
    ("edits", "left"),
    [
        ((), STEP_FILES),
        ((_sourced,), STEP_FILES[:-1]),
        ((_plain_structures,), ("population.csv", "regions.csv", "fields.csv", "SOURCES.md")),
        ((_rename(FIELDS, CSVS),), ("population.csv", "regions.csv", "structures.toml", "SOURCES.md")),
        ((_rename(REGIONS, CSVS),), ("population.csv", "fields.csv", "structures.toml", "SOURCES.md")),
        (
            (_rename(REGIONS | FACTIONS, CSVS), _plain_structures),
            ("fields.csv", "SOURCES.md"),
        ),
        ((_rename(REGIONS | FACTIONS | FIELDS, CSVS), _plain_structures, _sourced), ()),
    ],
    ids=["as written", "sourced", "own structures", "own fields", "own regions",
         "own names", "all done"],
)  # fmt: skip
def test_validate_lists_the_steps_left_in_order_and_exits_0(tmp_path, edits, left):
    out = tmp_path / "d"
    scaffold.write_scaffold(out)
    for edit in edits:
        edit(out)
    code, stdout, stderr = run("validate", str(out))
    assert code == 0, stderr
    assert _steps(stdout) == list(left)
    assert ("Next steps" in stdout) == bool(left)
    assert revshare.validate(revshare.load_dataset(out)).next_steps == tuple(
        f"{name}: {what}" for name, what in scaffold.STEPS if name in left
    )


@pytest.mark.parametrize(
    "dataset", sorted(p.name for p in (ROOT / "data").iterdir() if (p / "SOURCES.md").exists())
)
def test_a_real_dataset_gets_no_next_steps(dataset):
    code, stdout, _ = run("validate", str(ROOT / "data" / dataset))
    assert code == 0 and "Next steps" not in stdout


def test_a_scaffold_with_a_problem_exits_2_without_next_steps(tmp_path):
    out = tmp_path / "d"
    scaffold.write_scaffold(out)
    _rename({"south = 0.45": "nowhere = 0.45"}, ("structures.toml",))(out)  # an unknown bloc
    code, stdout, stderr = run("validate", str(out))
    assert code == 2 and "Next steps" not in stdout and "[E-" in stderr


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_list_the_files_written(tmp_path, fmt):
    code, stdout, _ = run("init", str(tmp_path / "d"), "--format", fmt)
    assert code == 0
    if fmt == "json":
        listed = {f["file"]: (f["bytes"], f["sha256"]) for f in json.loads(stdout)["files"]}
    else:
        rows = list(csv.DictReader(io.StringIO(stdout)))
        listed = {r["file"]: (int(r["bytes"]), r["sha256"]) for r in rows}
    assert listed == {
        name: (len((tmp_path / "d" / name).read_bytes()), hashlib.sha256(data).hexdigest())
        for name, data in scaffold.scaffold_files().items()
    }


def test_init_xlsx_writes_one_workbook_that_validates_and_solves_as_the_csvs(folder, tmp_path):
    """``--xlsx``: the tables are one workbook named after the folder, structures.toml beside it;
    validate guides by sheet, and every structure gives the CSV scaffold's money."""
    book = tmp_path / "wb"
    code, _, stderr = run("init", str(book), "--xlsx")
    assert (code, stderr) == (0, "")
    assert sorted(p.name for p in book.iterdir()) == sorted(
        ["wb.xlsx", "structures.toml", "README.md", "SOURCES.md", "manifest.json"]
    )
    code, stdout, _ = run("validate", str(book))
    assert code == 0
    assert "1. the population sheet of wb.xlsx:" in stdout
    assert "population.csv:" not in stdout.split("Next steps", 1)[1].splitlines()[1]
    from_csv, from_xlsx = revshare.load_dataset(folder), revshare.load_dataset(book)
    assert set(from_csv.structures) == set(from_xlsx.structures)
    for name in sorted(from_csv.structures)[:4]:
        a = revshare.optimize(from_csv, name).regions["usd"]
        b = revshare.optimize(from_xlsx, name).regions["usd"]
        assert a.equals(b), name  # the same doubles: the workbook holds every digit
