"""Reports are safe to open (docs/design.md#safe-reports) and written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pandas as pd
import pytest

import revshare
from revshare.atomic import write_bundle
from revshare.reports import allocation_csv, report_md, summary_json, terminal_table, write_reports
from revshare.reports.safe import csv_bytes, md_cell, neutralise

CSV_PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    'a";=1+2',
    '=1+2";=1+2',
]


def territory_named(names: list[str]) -> revshare.Territory:
    fields = pd.DataFrame(
        {
            "field": [f"F{i}" for i in range(len(names))],
            "region": names,
            "annual_revenue_usd": [1e6 * (i + 1) for i in range(len(names))],
        }
    )
    pop = pd.DataFrame(
        {
            "region": names,
            "faction": names[::-1],
            "population": [1000 + i for i in range(len(names))],
        }
    )
    return revshare.territory_from_frames(fields, pop)


@pytest.fixture(scope="module")
def hostile() -> revshare.Allocation:
    names = [
        *CSV_PAYLOADS,
        "<script>alert(1)</script>",
        "x|y",
        "<img src=x onerror=alert(1)>",
        "بغداد",
    ]
    return revshare.optimize(territory_named(names), "federation", price=0)


@pytest.mark.parametrize("payload", CSV_PAYLOADS)
def test_csv_cells_never_start_with_a_formula_trigger(hostile, payload):
    rows = list(csv.reader(io.StringIO(allocation_csv(hostile).decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    expected = "'" + payload if payload.startswith(("=", "+", "-", "@", "\t", "\r")) else payload
    assert expected in cells
    usd = [float(r[4]) for r in rows[1:]]
    assert sum(usd) == round(hostile.revenue_usd)


def test_csv_numbers_stay_numbers():
    data = csv_bytes(["name", "value"], [["-5", -5.0]]).decode("utf-8")
    assert data.splitlines()[1] == "'-5,-5.0"


def test_neutralise_leaves_plain_text_alone():
    assert neutralise("Basra") == "Basra"
    assert neutralise("=1") == "'=1"


def test_markdown_keeps_columns_and_has_no_raw_tags(hostile):
    md = report_md(hostile)
    assert "<script>" not in md and "<img" not in md
    table = [line for line in md.splitlines() if line.startswith("| ") and "x\\|y" in line]
    assert table, "the x|y region is in the regions table"
    unescaped_pipes = table[0].replace("\\|", "").count("|")
    header = next(line for line in md.splitlines() if line.startswith("| region"))
    assert unescaped_pipes == header.count("|")


def test_md_cell_isolates_and_flattens():
    assert md_cell("a\nb") == "\u2068a b\u2069"
    assert "\\|" in md_cell("x|y")


def test_json_is_strict_and_round_trips_money(hostile):
    raw = summary_json(hostile).decode()
    doc = json.loads(raw, parse_constant=lambda c: pytest.fail(f"non-finite {c}"))
    assert doc["schema_version"] == "1.0"
    assert sum(c["usd_rounded"] for c in doc["cells"]) + doc["centre_usd_rounded"] == round(
        hostile.revenue_usd
    )
    assert {c["region"] for c in doc["cells"]} >= {"<script>alert(1)</script>", "بغداد"}


def test_write_reports_is_atomic_with_a_manifest_last(tmp_path, hostile):
    out = write_reports(hostile, tmp_path / "r")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "accounts.csv",
        "allocation.csv",
        "manifest.json",
        "payments.csv",
        "report.html",
        "report.md",
        "report.xlsx",
        "summary.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    import hashlib

    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_existing_report_needs_force_and_stays_untouched(tmp_path, hostile):
    out = write_reports(hostile, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(revshare.InputError) as err:
        write_reports(hostile, out)
    assert "E-OUTPUT-EXISTS" in err.value.codes
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    write_reports(hostile, out, force=True)


def test_symlink_at_report_path_is_refused(tmp_path, hostile):
    out = tmp_path / "r"
    out.mkdir()
    (tmp_path / "elsewhere").write_text("keep")
    os.symlink(tmp_path / "elsewhere", out / "summary.json")
    with pytest.raises(revshare.InputError) as err:
        write_reports(hostile, out, force=True)
    assert "E-OUTPUT-SYMLINK" in err.value.codes
    assert (tmp_path / "elsewhere").read_text() == "keep"


def test_failure_mid_write_leaves_previous_report_and_no_temp_files(tmp_path, monkeypatch, hostile):
    out = write_reports(hostile, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = {"n": 0}
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        write_bundle(out, {"allocation.csv": b"new", "summary.json": b"{}"}, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.fixture(scope="module")
def cpa() -> revshare.Allocation:
    sudan = revshare.load_dataset(
        os.path.join(os.path.dirname(__file__), "..", "data", "sudan-2005")
    )
    return revshare.optimize(sudan, "sudan-cpa-2005")


def _rendered(kind: str, a: revshare.Allocation) -> str:
    if kind == "terminal":
        return terminal_table(a)
    if kind == "markdown":
        return report_md(a)
    from revshare.reports.html import allocation_html

    return allocation_html(a)


@pytest.mark.parametrize("kind", ["terminal", "markdown", "html"])
def test_a_deal_names_its_centre_and_shows_direct_beside_served_money(cpa, kind):
    """Under sudan-cpa-2005 the north bloc's own money is small; its served money, with the
    National Government's slice a head, is not: every format shows both and says why."""
    text = _rendered(kind, cpa)
    assert "National Government" in text and "centre" in text
    north = cpa.blocs.set_index("bloc").loc["north"]
    assert north["usd_per_head_served"] > 50 * north["usd_per_head"]
    assert f"{north['usd_per_head']:,.2f}" in text
    assert f"{north['usd_per_head_served']:,.2f}" in text
    assert "direct" in text and "served" in text


@pytest.mark.parametrize("structure", ["federation", "unified", "partition"])
@pytest.mark.parametrize("kind", ["terminal", "markdown", "html"])
def test_reports_use_plain_words_not_solver_jargon(kind, structure):
    t = revshare.load_dataset(os.path.join(os.path.dirname(__file__), "..", "data", "iraq"))
    text = _rendered(kind, revshare.optimize(t, structure))
    # the figures, not the audit trail at the end (a verifier's residual of 1.5e-05 USD is exact)
    text = re.split(r"## Provenance|>Verification<|verified \(", text)[0]
    assert "Objective proportional:" not in text and "objective change per USD" not in text
    assert "Binding rules" not in text
    assert not re.search(r"\de[+-]\d\d", text)  # no number in scientific notation
    assert not re.search(r"(?<![\d,.\w])-0(?![\d.,])", text)  # no negative zero
