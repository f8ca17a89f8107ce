"""Making report files safe to open, and writing them atomically (RELIABILITY.md section 4)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, Problem

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte-order mark (so Excel reads Arabic); text cells
    neutralised and quoted, numbers written plain."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def frame_csv(frame: Any) -> bytes:
    """A pandas DataFrame as :func:`csv_bytes` (header, then rows; index left out)."""
    return csv_bytes(list(frame.columns), frame.itertuples(index=False, name=None))


def plain(value: Any) -> Any:
    """A table cell as a strict-JSON value: numpy scalars as Python ones, NaN as None."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Strict JSON: NaN and infinities are an error, never written."""
    return (json.dumps(document, allow_nan=False, ensure_ascii=False, indent=2) + "\n").encode()


_MD_SPECIAL = str.maketrans({**{c: "\\" + c for c in "\\|`*_[]#"}, "<": "&lt;", ">": "&gt;"})


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: specials escaped, HTML escaped, newlines removed,
    and isolated so that right-to-left names do not reorder neighbouring numbers."""
    flat = " ".join(str(text).split())
    escaped = flat.replace("&", "&amp;").translate(_MD_SPECIAL)
    return f"{FSI}{escaped}{PDI}" if escaped else escaped


def check_outputs(outdir: Path, names: Iterable[str], force: bool) -> list[Problem]:
    """Problems with writing ``names`` into ``outdir``: an existing report needs --force, and a
    symbolic link at a report's path is never followed."""
    problems = []
    if outdir.exists() and not outdir.is_dir():
        problems.append(
            Problem(
                str(outdir),
                None,
                None,
                "E-OUTPUT",
                "exists and is not a directory",
                "choose another --out",
            )
        )
        return problems
    for name in names:
        target = outdir / name
        if target.is_symlink():
            problems.append(
                Problem(
                    str(target),
                    None,
                    None,
                    "E-OUTPUT-SYMLINK",
                    "is a symbolic link; revshare does not write through links",
                    "remove the link or choose another --out",
                )
            )
        elif target.exists() and not force:
            problems.append(
                Problem(
                    str(target),
                    None,
                    None,
                    "E-OUTPUT-EXISTS",
                    "a report is already there",
                    "pass --force to replace it",
                )
            )
    return problems


def write_bundle(outdir: str | Path, files: Mapping[str, bytes], *, force: bool = False) -> Path:
    """Write every file atomically, then ``manifest.json`` with their SHA-256, last.

    Each file goes to a temporary file in ``outdir`` first (``mkstemp``: exclusive create), is
    flushed and fsynced, then renamed over its name. A reader that finds no manifest, or a
    manifest whose hashes do not match, holds an incomplete report.
    """
    out = Path(outdir)
    problems = check_outputs(out, [*files, "manifest.json"], force)
    if problems:
        raise InputError(problems)
    out.mkdir(parents=True, exist_ok=True)
    temps: dict[str, str] = {}
    try:
        for name, data in files.items():
            temps[name] = _write_temp(out, data)
        for name, tmp in temps.items():
            os.replace(tmp, out / name)
        manifest = {"files": {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}}
        os.replace(_write_temp(out, json_bytes(manifest)), out / "manifest.json")
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return out


def write_atomic(path: Path, data: bytes) -> None:
    """One file written atomically: a temporary file beside it, fsynced, renamed over it."""
    tmp = _write_temp(path.parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_temp(out: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=out)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp
