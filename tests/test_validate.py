"""Issue 11, class 22: ``revshare validate`` runs every check the solving commands run before they
solve, for every structure the dataset defines, and says which presets cannot apply and why.

The promise, tested on every fixture and shipped dataset: when ``validate`` exits 0, ``optimize``
on the default structure and on each of the dataset's own structures never exits 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import revshare

ROOT = Path(__file__).resolve().parent.parent
DATASETS = sorted(
    [p for p in (ROOT / "tests" / "fixtures").glob("*/*") if p.is_dir()]
    + [p for p in (ROOT / "data").iterdir() if (p / "population.csv").exists()]
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _with_structures(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "d"
    shutil.copytree(ROOT / "data" / "iraq", folder)
    (folder / "structures.toml").write_text("default_price = 80\n" + toml, encoding="utf-8")
    return folder


def test_iraq_is_valid_and_sudans_preset_is_listed_as_not_applicable():
    v = revshare.validate(revshare.load_dataset(ROOT / "data" / "iraq"))
    assert v.ok and v.price == 82.49
    assert list(v.presets_not_applicable) == ["sudan-cpa-2005"]
    assert "'south'" in v.presets_not_applicable["sudan-cpa-2005"]
    code, out, _ = run("validate", str(ROOT / "data" / "iraq"))
    assert code == 0
    assert "preset sudan-cpa-2005 cannot apply" in out


@pytest.mark.parametrize(
    ("toml", "code"),
    [
        (
            '[structures.s]\nextends = "federation"\nbloc_share = { nowhere = 0.1 }\n',
            "E-UNKNOWN-NAME",
        ),
        ("[structures.s]\nfaction_share = { Martians = 0.1 }\n", "E-UNKNOWN-NAME"),
        ("[structures.s]\nbloc_retention = { nowhere = 0.5 }\n", "E-UNKNOWN-NAME"),
    ],
)
def test_a_dataset_structure_that_cannot_apply_fails_validate(tmp_path, toml, code):
    folder = _with_structures(tmp_path, toml)
    exit_code, _, err = run("validate", str(folder))
    assert exit_code == 2
    assert f"[{code}]" in err and "structures.toml" in err
    assert run("optimize", str(folder), "--structure", "s")[0] == 2  # as the solving command says


def test_a_dataset_structure_needing_a_missing_indicator_fails_validate(tmp_path):
    folder = _with_structures(tmp_path, '[structures.s]\nobjective = "formula"\n')
    regions = (folder / "regions.csv").read_text(encoding="utf-8").splitlines()
    kept = [",".join(r.split(",")[:2]) for r in regions]  # region, bloc: no area, no need
    (folder / "regions.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    code, _, err = run("validate", str(folder))
    assert code == 2 and "[E-MISSING-INDICATOR]" in err
    assert run("optimize", str(folder), "--structure", "s")[0] == 2


def test_a_dataset_without_a_price_needs_one_given(tmp_path):
    folder = _with_structures(tmp_path, "")
    (folder / "structures.toml").write_text("", encoding="utf-8")
    assert run("validate", str(folder))[0] == 2
    assert run("validate", str(folder), "--price", "70")[0] == 0


@pytest.mark.parametrize("folder", DATASETS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_when_validate_passes_optimize_never_stops_on_bad_input(folder):
    code, _, err = run("validate", str(folder))
    assert code in (0, 2), err
    if code != 0:
        return
    t = revshare.load_dataset(folder)
    for structure in [None, *t.structures]:
        args = ["optimize", str(folder)] + (["--structure", structure] if structure else [])
        exit_code, _, stderr = run(*args)
        assert exit_code != 2, f"validate passed but {' '.join(args)} says: {stderr}"
