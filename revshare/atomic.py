"""Writing files and folders atomically, so that a crash or kill leaves the old content or the new,
complete (docs/design.md#safe-reports).

Low in the layers (beside the data layer) so that anything that writes files, the sweep's chunk
streaming, generated datasets and the reports, can use it without importing the reports.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import json
import math
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, Problem


def plain(value: Any) -> Any:
    """A table cell as a strict-JSON value: numpy scalars as Python ones, NaN as None."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


def check_outputs(outdir: Path, names: Iterable[str], force: bool) -> list[Problem]:
    """Problems with writing ``names`` as a report into ``outdir``: an existing report needs
    ``force``, a symbolic link at a report's path is never followed, and the folder must be
    one that can be replaced as a whole (:func:`write_bundle`): not a mount point, not the
    current directory or one holding it, with a parent where a folder can be created.

    A report left half-swapped by a crash is first put back (:func:`recover_bundle`), so the
    check sees the complete report that is there.
    """
    outdir = Path(outdir)
    recover_bundle(outdir)
    problems = []
    if outdir.exists() and not outdir.is_dir():
        problems.append(
            Problem(
                str(outdir),
                None,
                None,
                "E-OUTPUT",
                "exists and is not a directory",
                "choose another `out`",
            )
        )
        return problems
    problems += _swap_problems(outdir)
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
                    "remove the link or choose another `out`",
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
                    "pass `force=True` to replace it",
                )
            )
    return problems


def _swap_problems(outdir: Path) -> list[Problem]:
    """Why ``outdir`` cannot be replaced by a folder built beside it, if it cannot."""
    target = Path(os.path.realpath(outdir))
    why = ""
    if target.exists() and os.path.ismount(target):
        why = "is a mount point (or the root)"
    elif target == Path.cwd().resolve() or target in Path.cwd().resolve().parents:
        why = "is the current directory, or holds it"
    else:
        existing = target.parent
        while not existing.exists():
            existing = existing.parent
        if not os.access(existing, os.W_OK | os.X_OK):
            why = f"lies in {existing}, where revshare cannot create a folder"
    if not why:
        return []
    return [
        Problem(
            str(outdir),
            None,
            None,
            "E-OUTPUT",
            f"{why}; a report folder is built beside its place and swapped in whole",
            "choose a folder of its own for the report, e.g. one inside it",
        )
    ]


MANIFEST = "manifest.json"


def _manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as the reports write JSON: indented, UTF-8, one final newline."""
    return (json.dumps(manifest, allow_nan=False, ensure_ascii=False, indent=2) + "\n").encode()


def write_bundle(
    outdir: str | Path,
    files: Mapping[str, bytes],
    *,
    force: bool = False,
    head: Mapping[str, Any] | None = None,
) -> Path:
    """Replace the report folder ``outdir`` as a whole by one holding ``files`` and
    ``manifest.json`` (their SHA-256, after the fields of ``head``: a report's envelope).

    The new folder is built beside the old one (a hidden folder in the same parent): every file
    is written and fsynced, entries of the old folder that belong to no report (not in its
    manifest; e.g. a sweep's ``sweep.json`` and ``chunks/``) are carried over as hard links (or
    copies), the manifest is written last, and the folder is fsynced. It is then swapped in:
    with one atomic exchange of the two names where the system has it (Linux
    ``renameat2(RENAME_EXCHANGE)``), else by renaming the old folder aside and the new one in.
    The old folder is then removed. A failure at any step removes what was built and leaves
    the old folder as it was; a crash or kill at any moment leaves the old report or the new
    one, complete: if it struck between the two renames, :func:`recover_bundle` (run by the
    next write or check of the folder) puts the old report back, and it removes the hidden
    leftovers. One writer at a time per folder.
    """
    out = Path(outdir)
    problems = check_outputs(out, [*files, MANIFEST], force)
    if problems:
        raise InputError(problems)
    target = Path(os.path.realpath(out))
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=_stray_prefix(target, "new"), dir=target.parent))
    swapped = False
    try:
        for name, data in files.items():
            _write_file(new / name, data)
            _step(f"file:{name}")
        if target.is_dir():
            _carry_over(target, new, set(files))
            _step("carried")
        digests = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}
        manifest = {**(head or {}), "files": digests}
        _write_file(new / MANIFEST, _manifest_bytes(manifest))
        _step("manifest")
        mode = stat.S_IMODE(target.stat().st_mode) if target.is_dir() else 0o777 & ~_umask()
        os.chmod(new, mode)
        _fsync_dir(new)
        _step("built")
        old = _swap_in(new, target)
        swapped = True
        _fsync_dir(target.parent)
        _step("swapped")
        if old is not None:
            shutil.rmtree(old)
            _step("removed")
    finally:
        if not swapped:
            shutil.rmtree(new, ignore_errors=True)
    return out


def _swap_in(new: Path, target: Path) -> Path | None:
    """Put the folder ``new`` at ``target``; return where the old folder now is, if any. On an
    exception the old folder is at ``target`` again (or aside, for :func:`recover_bundle`)."""
    if not os.path.lexists(target):
        os.rename(new, target)  # atomic: target did not exist
        return None
    if _exchange(new, target):
        return new  # the two names swapped: ``new`` now holds the old folder
    aside = target.parent / (_stray_prefix(target, "old") + secrets.token_hex(6))
    os.rename(target, aside)
    try:
        _step("aside")
        os.rename(new, target)
    except BaseException:
        with contextlib.suppress(OSError):  # else recover_bundle puts it back next time
            os.rename(aside, target)
        raise
    return aside


def recover_bundle(outdir: str | Path) -> None:
    """Finish what a crash or kill left of a :func:`write_bundle` of ``outdir``: when the folder
    is missing but its old copy was renamed aside, put the old copy back; then remove every
    hidden leftover (half-built new folders, old copies) beside it."""
    target = Path(os.path.realpath(outdir))
    parent = target.parent
    if not parent.is_dir():
        return
    strays = {
        kind: sorted(parent.glob(glob.escape(_stray_prefix(target, kind)) + "*"))
        for kind in ("old", "new")
    }
    if not os.path.lexists(target) and strays["old"]:
        os.rename(strays["old"].pop(), target)
        _fsync_dir(parent)
    for path in strays["old"] + strays["new"]:
        shutil.rmtree(path, ignore_errors=True)


def _stray_prefix(target: Path, kind: str) -> str:
    """The hidden name of a new or old copy of ``target`` beside it: a digest of the name, so
    that any folder name fits and leftovers are found again."""
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:16]
    return f".revshare-{digest}-{kind}-"


def _carry_over(old: Path, new: Path, report: set[str]) -> None:
    """Link into ``new`` every entry of ``old`` that belongs to no report: not named by its
    manifest nor by the new report, nor a temporary file of an older revshare."""
    previous = _read_manifest(old)
    for entry in os.scandir(old):
        name = entry.name
        if name in report or name in previous or name == MANIFEST or name.startswith(".tmp-"):
            continue
        _link_tree(Path(entry.path), new / name)


def _read_manifest(folder: Path) -> set[str]:
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(n) for n in doc["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _link_tree(src: Path, dst: Path) -> None:
    """A hard link of a file or link (a copy where links are impossible), folders recreated."""
    if src.is_dir() and not src.is_symlink():
        dst.mkdir(mode=stat.S_IMODE(src.stat().st_mode) | stat.S_IRWXU)
        for entry in os.scandir(src):
            _link_tree(Path(entry.path), dst / entry.name)
        return
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange the names ``a`` and ``b`` (both exist); False where the system
    cannot (no ``renameat2``, or a file system without RENAME_EXCHANGE)."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
_RENAMEAT2 = _renameat2() if sys.platform.startswith("linux") else None


def _step(label: str) -> None:
    """A named step of :func:`write_bundle`; nothing happens here. Tests replace it to fail or
    to kill the process at each step."""


def _write_file(path: Path, data: bytes) -> None:
    """A new file (exclusive create) with ``data``, flushed and fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the folder's entries durable (where the system lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
