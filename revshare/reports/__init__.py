"""Report writers: CSV, JSON and Markdown, safe to open and written atomically."""

from __future__ import annotations

from pathlib import Path

from ..analyses.optimize import Allocation
from .allocation import (
    accounts_csv,
    allocation_csv,
    payments_csv,
    report_md,
    summary,
    summary_json,
    terminal_table,
)

REPORT_FILES = (
    "allocation.csv",
    "accounts.csv",
    "payments.csv",
    "summary.json",
    "report.md",
    "report.html",
)


def write_reports(
    a: Allocation, outdir: str | Path, *, force: bool = False, lp_text: str | None = None
) -> Path:
    """Write ``allocation.csv``, ``accounts.csv``, ``payments.csv``, ``summary.json``, ``report.md``, ``report.html`` (and ``model.lp``)
    and ``manifest.json`` as the report folder ``outdir``, replaced as a whole
    (:func:`~revshare.atomic.write_bundle`)."""
    from .html import allocation_html  # matplotlib is imported only when a report is written
    from .workbook import write_report_bundle

    files = {
        "allocation.csv": allocation_csv(a),
        "accounts.csv": accounts_csv(a),
        "payments.csv": payments_csv(a),
        "summary.json": summary_json(a),
        "report.md": report_md(a).encode("utf-8"),
        "report.html": allocation_html(a).encode("utf-8"),
    }
    if lp_text is not None:
        files["model.lp"] = lp_text.encode("utf-8")
    return write_report_bundle(outdir, files, force=force)


__all__ = [
    "REPORT_FILES",
    "accounts_csv",
    "allocation_csv",
    "payments_csv",
    "report_md",
    "summary",
    "summary_json",
    "terminal_table",
    "write_reports",
]
