"""Local worker processes for sweeps, which leave nothing behind however the sweep ends.

- An error raised in a worker reaches the caller as it was raised (same type, code, message and
  exit status; :mod:`revshare.errors` makes every error picklable).
- Ctrl-C is the parent's: workers start with SIGINT held and then ignore it, so no worker prints
  a traceback; the parent stops them and lets ``KeyboardInterrupt`` through.
- A worker whose parent dies (killed, even by SIGKILL) exits at once instead of living on.
- Workers are *spawned* (HiGHS threads do not survive a fork), and a spawned process imports
  the caller's main script again: a script that starts a sweep at its top level, without
  ``if __name__ == "__main__":``, is told so before any worker starts.
"""

from __future__ import annotations

import ast
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import tokenize
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from ..errors import InputError, Problem, SolverUnavailableError

Item = TypeVar("Item")
Result = TypeVar("Result")

_SHARED: Any = None  # what every call in this worker shares (the territory), set once


def run(
    fn: Callable[[Any, Item], Result], shared: Any, items: Sequence[Item], workers: int
) -> Iterator[Result]:
    """``fn(shared, item)`` for every item in up to ``workers`` processes, as each finishes.

    ``fn`` must be a module-level function and ``shared`` picklable; ``shared`` is sent once to
    each worker. The first error stops every worker and is raised here as it was raised there.

    Raises
    ------
    InputError
        ``E-MAIN-GUARD`` when the caller's main script would start the sweep again in every
        worker.
    SolverUnavailableError
        when a worker process died (killed, out of memory) or its answer could not be read.
    """
    guard = unguarded_call()
    if guard is not None:
        raise InputError(
            Problem(
                guard[0],
                guard[1],
                None,
                "E-MAIN-GUARD",
                "a sweep with worker processes is started at the top level of the main script, "
                "which every worker process runs again when it starts",
                'move the call under if __name__ == "__main__": or pass workers=1 to solve in '
                "this process",
            )
        )
    context = multiprocessing.get_context("spawn")  # HiGHS threads do not survive a fork
    pool = ProcessPoolExecutor(
        min(workers, len(items)), mp_context=context, initializer=_start, initargs=(shared,)
    )
    finished = False
    try:
        with _sigint_held():  # workers are started as the tasks are submitted
            futures = [pool.submit(_call, fn, item) for item in items]
        for future in as_completed(futures):
            yield future.result()
        finished = True
    except BrokenProcessPool as exc:
        raise SolverUnavailableError(
            f"a worker process failed ({exc}): it was killed, ran out of memory, or sent back "
            "what cannot be read. "
            "Finished chunks are kept when the sweep has an output folder (resume it); pass "
            "fewer workers, or workers=1 to solve in this process"
        ) from None
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # an error, Ctrl-C or a caller that stopped early: nobody wants the other chunks
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor (before Python 3.14) can cancel only the chunks not yet started; the
    # running ones would run to the end, so their processes are terminated.
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.terminate()
    for p in processes:
        p.join(timeout=10)


def _call(fn: Callable[[Any, Item], Result], item: Item) -> Result:
    return fn(_SHARED, item)


def _start(shared: Any) -> None:
    """Each worker's initializer (in its main thread)."""
    global _SHARED
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a Ctrl-C held since the start
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _watch_parent()
    _SHARED = shared


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold SIGINT while workers start: they inherit the signal mask, so a Ctrl-C cannot reach
    one before it ignores SIGINT; the parent receives a held Ctrl-C when this block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no Ctrl-C in spawned consoles anyway
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _watch_parent() -> None:
    """Exit this worker as soon as its parent is gone: the parent's sentinel becomes ready."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # nobody is left to take the result

    threading.Thread(target=watch, name="revshare-parent-watch", daemon=True).start()


# -- the main-script guard ------------------------------------------------------------------------


def unguarded_call() -> tuple[str, int] | None:
    """The main script's file and line when the current call runs in its top-level code outside
    ``if __name__ == "__main__":`` (spawned workers would run it again), else ``None``.

    Interactive sessions and ``python -c`` are never re-run by workers; a script whose source
    cannot be read is given the benefit of the doubt.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str):
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals is vars(main):
            break
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        with tokenize.open(path) as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _names_dunder_name(node.test):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return None
    return path, line


def _names_dunder_name(test: ast.expr) -> bool:
    """Whether an ``if`` condition looks at ``__name__`` (the usual guard, in any spelling)."""
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(test))
