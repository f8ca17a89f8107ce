"""Every error in one form, Click's own included (README, "Exit codes"):

    revshare: error: WHERE: what is wrong; what to do [CODE]

WHERE is a file (``FILE:LINE:COLUMN``) or the option exactly as the user typed it (``-s`` if they
typed ``-s``, ``--structures`` if they typed that). The library names its parameters
(``structures``, ``fund_interest``); :func:`as_typed` shows each as the flag of this command, in
WHERE and in any parameter the message or remedy names in backticks (```force=True``` is
``--force``, ```encoding='cp1256'``` is ``--encoding cp1256``).

Click's usage errors get these codes: ``E-UNKNOWN-COMMAND``, ``E-UNKNOWN-OPTION``, ``E-MISSING``
(a required argument or option), ``E-CHOICE`` (a value not in an option's list), ``E-RANGE`` (a
number outside an option's range), ``E-BAD-VALUE`` (a value of the wrong type) and ``E-USAGE``
(anything else, such as an option given without its value).
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any, NoReturn

import click

from revshare.errors import InfeasibleError, InputError, Problem, RevshareError

TYPED: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("typed", default=())
"""The words of the command line being run, to tell which of an option's names was typed."""

# A library parameter and the option that sets it, where their names differ (otherwise the
# parameter is the option's own name).
LIBRARY_PARAMETERS = {
    "prices": "grid",
    "kind": "price_model",
    "start": "price_start",
    "mean": "mean_price",
    "n": "scenarios",
    "periods": "periods_file",
    "structures": "names",
    "out": "outdir",
    "format": "fmt",
    "logistic_scale_usd": "logistic_scale",
}
# Per command: parameters that another option of that command sets.
COMMAND_PARAMETERS = {
    "compare": {"structure": "names"},
    "sweep": {"structure": "names"},
    "ratify": {"proposal": "structure"},
    "power": {"by": "power_by"},
    "secession": {"by": "vote_by"},
}
QUOTES = "'\""  # around a value written as Python (``encoding='cp1256'``)
_BACKTICKED = re.compile(r"`([a-z][a-z0-9_]*)(?:=([^`]*))?`")


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(message, err=True)
    sys.exit(code)


def typed_flag(param: click.Parameter, words: Sequence[str] | None = None) -> str:
    """The name of ``param`` the user typed last (``-s`` or ``--structures``), else its longest."""
    if isinstance(param, click.Argument):
        return param.human_readable_name
    names = [*param.opts, *param.secondary_opts]
    typed = ""
    for word in TYPED.get() if words is None else words:
        for name in names:
            long_with_value = name.startswith("--") and word.startswith(name + "=")
            short_with_value = len(name) == 2 and not word.startswith("--") and word[:2] == name
            if word == name or long_with_value or short_with_value:
                typed = name
    return typed or max(param.opts, key=len)


def _option_for(ctx: click.Context, parameter: str) -> click.Parameter | None:
    """The option of ``ctx``'s command that sets the library's ``parameter``, if any."""
    name = parameter.removeprefix("--").replace("-", "_")
    options = {p.name: p for p in ctx.command.params if isinstance(p, click.Option)}
    aliases = COMMAND_PARAMETERS.get(ctx.info_name or "", {})
    for candidate in (aliases.get(name), LIBRARY_PARAMETERS.get(name), name):
        if candidate in options:
            return options[candidate]
    return None


def _flags_in(text: str, ctx: click.Context) -> str:
    """``text`` with each backticked parameter (```force=True```) written as its typed flag."""

    def flag(match: re.Match[str]) -> str:
        option = _option_for(ctx, match[1])
        if option is None:
            return match[0]
        value = match[2]
        if value is None or value == "True":
            return typed_flag(option)
        import shlex  # only a message that names a value quotes it

        return f"{typed_flag(option)} {shlex.quote(value.strip(QUOTES))}"

    return _BACKTICKED.sub(flag, text)


def as_typed(problem: Problem) -> Problem:
    """``problem`` with the library's parameters in it shown as the flags of this command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return problem
    option = _option_for(ctx, problem.file) if problem.line is None else None
    return problem._replace(
        file=typed_flag(option) if option is not None else problem.file,
        message=_flags_in(problem.message, ctx),
        remedy=_flags_in(problem.remedy, ctx),
    )


# Click 8.2 and later raise this for a group run without arguments (8.1 printed the help itself).
_HELP_FOR_NO_ARGUMENTS: type[click.ClickException] = getattr(
    click.exceptions, "NoArgsIsHelpError", type("_Never", (click.ClickException,), {})
)


class UnknownCommand(click.UsageError):
    """A command name that is not one of revshare's."""


def _usage_problem(exc: click.ClickException, group: click.Group) -> Problem:
    """Click's usage error ``exc`` as a :class:`Problem` naming what the user typed."""
    ctx = getattr(exc, "ctx", None)
    command = next((w for w in TYPED.get() if w in group.commands), None)
    path = ctx.command_path if ctx is not None else " ".join(filter(None, ["revshare", command]))
    helping = f"see '{path} --help'"
    param = getattr(exc, "param", None)
    text = exc.message.rstrip(".")
    if isinstance(exc, UnknownCommand):
        import difflib  # only a mistyped command needs a suggestion

        close = difflib.get_close_matches(text, sorted(group.commands), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return Problem(text, None, None, "E-UNKNOWN-COMMAND", "no such command", hint + helping)
    if isinstance(exc, click.NoSuchOption):
        close = sorted(exc.possibilities or [])
        remedy = f"did you mean {' or '.join(close)}? {helping}" if close else helping
        return Problem(exc.option_name, None, None, "E-UNKNOWN-OPTION", "no such option", remedy)
    if isinstance(exc, click.MissingParameter) and param is not None:
        kind = "argument" if isinstance(param, click.Argument) else "option"
        return Problem(typed_flag(param), None, None, "E-MISSING", f"missing {kind}", helping)
    if isinstance(exc, click.BadParameter) and param is not None:
        if isinstance(param.type, click.Choice):
            code, remedy = "E-CHOICE", f"use one of {', '.join(map(str, param.type.choices))}"
            text = f"{text.split(' is not ')[0]} is not one of its choices"
        elif isinstance(param.type, click.IntRange | click.FloatRange):
            code, remedy = "E-RANGE", helping
        else:
            code, remedy = "E-BAD-VALUE", helping
        return Problem(typed_flag(param), None, None, code, text, remedy)
    if isinstance(exc, click.BadOptionUsage):
        message = re.sub(r"^Option '[^']*' ", "", text)
        return Problem(exc.option_name, None, None, "E-USAGE", message, helping)
    return Problem(path, None, None, "E-USAGE", text[:1].lower() + text[1:], helping)


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each imported from its module on first use.

    Iterating, counting and ``in`` read the names only, so a command line runs the module of its
    own command and no other (``revshare optimize`` never imports the modules of ``core`` or
    ``init``); looking a name up imports its module once.

    Parameters
    ----------
    homes : mapping
        Each lazily loaded command's name and where it lives, ``"module:attribute"``.
    """

    def __init__(self, homes: Mapping[str, str]) -> None:
        self._homes = dict(homes)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attribute = self._homes[name].partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attribute)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._homes.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._homes.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._homes), **dict.fromkeys(self._loaded)})

    def __len__(self) -> int:
        return len(self._homes.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._homes or name in self._loaded


class Group(click.Group):
    """The command group, printing Click's usage errors in revshare's one form."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise UnknownCommand(name, ctx)
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        words = tuple(sys.argv[1:] if args is None else args)
        token = TYPED.set(words)
        try:
            result = super().main(words, prog_name or "revshare", complete_var, False, **extra)
        except _HELP_FOR_NO_ARGUMENTS as exc:  # ``revshare`` alone: the help, as Click shows it
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            if not standalone_mode:
                raise
            problem = _usage_problem(exc, self)
            fail(f"revshare: error: {problem}", exc.exit_code)
        except click.Abort:
            if not standalone_mode:
                raise
            fail("revshare: interrupted; nothing written", 130)
        finally:
            TYPED.reset(token)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library exceptions into the exit-code contract; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            fail("\n".join(f"revshare: error: {as_typed(p)}" for p in exc.problems), 2)
        except InfeasibleError as exc:
            lines = [f"revshare: infeasible: {exc}"] + [f"  {c}" if c else "" for c in exc.conflict]
            if exc.concession:
                lines.append(f"cheapest concession: {exc.concession}")
            if exc.overrides:
                import shlex  # only an infeasible structure's concession quotes its words

                lines.append(
                    "apply it with: " + shlex.join(a for o in exc.overrides for a in ("--set", o))
                )
            fail("\n".join(lines), 3)
        except RevshareError as exc:
            label = {4: "not optimal", 5: "solver unavailable"}.get(exc.exit_code, "error")
            fail(
                f"revshare: {label}: {_flags_in(str(exc), click.get_current_context())}",
                exc.exit_code,
            )
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            fail("revshare: interrupted; nothing written", 130)
        except Exception as exc:
            if debug:
                traceback.print_exc()
            fail(
                f"revshare: internal error: {type(exc).__name__}: {exc} (run with --debug for "
                "the traceback and report it)",
                1,
            )

    return wrapper


def usage(parameter: str, message: str, remedy: str) -> InputError:
    """A usage problem about the library ``parameter`` (shown as the option typed), exit 2."""
    return InputError(Problem(parameter, None, None, "E-USAGE", message, remedy))


def solver_options_of(values: Sequence[str]) -> dict[str, Any]:
    """``--solver-option NAME=VALUE`` words as the library's ``solver_options``."""
    return pairs(values, "solver_options", "presolve=off")


def pairs(values: Sequence[str], parameter: str, example: str) -> dict[str, Any]:
    """``NAME=VALUE`` words read as ``--set`` reads them; problems name ``parameter``."""
    from revshare.data.structures import parse_override

    out: dict[str, Any] = {}
    problems = []
    for text in values:
        try:
            key, value = parse_override(text)
        except InputError as exc:
            problems += [
                p._replace(file=parameter, remedy=f"write e.g. {example}") for p in exc.problems
            ]
        else:
            out[key] = value
    if problems:
        raise InputError(problems)
    return out
