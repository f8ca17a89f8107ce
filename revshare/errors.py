"""The exception hierarchy: one class per exit code (docs/concepts.md#exit-codes-and-errors).

Every exception carries what the command line prints; the command line only formats it.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Problem(NamedTuple):
    """One input problem: where it is, what is wrong, what to do, and a stable code.

    ``line`` is the 1-based physical line of the file (the header is line 1); ``column`` is the
    header name. Both are ``None`` for problems that concern the whole file. Immutable and
    ordered field by field; ``problem._replace(file=...)`` is a copy with other fields.
    """

    file: str
    line: int | None
    column: str | None
    code: str
    message: str
    remedy: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        elif self.column is not None:
            where += f": {self.column}"
        return f"{where}: {self.message}; {self.remedy} [{self.code}]"


class RevshareError(Exception):
    """Base of every error revshare raises on purpose."""

    exit_code = 1

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (a sweep's worker hands its error to the parent) would call ``__init__`` with
        # ``args``, which is the message, not what the subclass's ``__init__`` takes; rebuild
        # without ``__init__`` instead, from the message and every attribute.
        return (_restore, (type(self), self.args), dict(self.__dict__))


class InputError(RevshareError):
    """The input data, structure or options are wrong; nothing was solved (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = sorted([problems] if isinstance(problems, Problem) else problems, key=_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def _restore(cls: type[RevshareError], args: tuple[Any, ...]) -> RevshareError:
    """An exception of ``cls`` with ``args``; pickle then restores its attributes."""
    return cls.__new__(cls, *args)


def _key(p: Problem) -> tuple[str, int, str]:
    return (p.file, p.line or 0, p.column or "")


class InfeasibleError(RevshareError):
    """The structure's rules cannot all hold on this dataset (exit 3)."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        conflict: list[str] | None = None,
        concession: str = "",
        overrides: list[str] | None = None,
        explanation: Any = None,
    ) -> None:
        self.conflict = conflict or []
        self.concession = concession
        self.overrides = overrides or []
        self.explanation = explanation
        super().__init__(message)


class NotOptimalError(RevshareError):
    """The solver did not prove optimality, verification failed, or solvers disagree (exit 4)."""

    exit_code = 4


class NumericalTroubleError(NotOptimalError):
    """A stage after the first, which keeps a feasible optimum, was declared infeasible: the
    solver's numerics, not the rules (exit 4 if a second attempt fails too)."""


class SolverUnavailableError(RevshareError):
    """The solver is missing or crashed (exit 5)."""

    exit_code = 5


def wrong_type(where: str, expected: str, value: object, remedy: str) -> InputError:
    """An argument of the wrong type, as an InputError naming its parameter ``where``
    (``E-TYPE``): a user's plain mistake is never an AttributeError from deep inside."""
    shown = repr(value)
    got = type(value).__name__ + (f" {shown}" if len(shown) <= 40 else "")
    return InputError(
        Problem(where, None, None, "E-TYPE", f"expected {expected}, got {got}", remedy)
    )
