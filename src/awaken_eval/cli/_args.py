"""A small argument parser with the reference CLI's rules (spec §5).

argparse cannot express them: a ``--help`` anywhere in argv (even as a flag's value)
prints help, every usage error exits 2 with ``awaken-eval: <message>``, and messages
name the flag the way the reference does (``--fixtures requires a value``,
``unknown argument "--x"``, ``--fixtures <DIR> is required``).

Parsing arguments and printing help must start fast, so this module imports only the
standard library: its records are named tuples and plain classes rather than attrs
classes, and the :class:`~awaken_eval.cli._errors.CliError` of a usage error is imported
when one is raised (see :func:`cli_error`).
"""

from __future__ import annotations

import difflib
import importlib
import textwrap
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from awaken_eval.cli._errors import CliError

HELP_FLAGS = frozenset({"--help", "-h"})

HELP_WIDTH = 79
"""Help text is wrapped to this many columns."""

_FLAG_COLUMN = 30
"""Widest flag column of a command's help; a longer flag has its help on the next line."""


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean --mode?)`` for the closest of ``choices``, or ``""`` (difflib)."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _wrapped(text: str, *, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=HELP_WIDTH,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def cli_error(message: str) -> CliError:
    """A :class:`~awaken_eval.cli._errors.CliError` to raise (its module loaded now)."""
    from awaken_eval.cli._errors import CliError  # noqa: PLC0415 - on failure only

    return CliError(message)


def quoted(text: str) -> str:
    """``text`` in double quotes, escaped as JSON (the reference's debug quoting)."""
    import json  # noqa: PLC0415 - error messages only: help does not need it

    return json.dumps(text, ensure_ascii=False)


class Flag(NamedTuple):
    """One ``--flag`` of a command.

    Attributes:
        name: The flag, e.g. ``--fixtures``.
        metavar: What its value is, e.g. ``DIR``; ``None`` for a switch without value.
        help: One line of help.
        repeat: Values accumulate in order instead of the last one winning.
        required: The command cannot run without it (shown without brackets in usage).
        convert: Turns the value into what the command uses, as soon as it is read;
            raises :class:`~awaken_eval.cli._errors.CliError` for a bad value.
    """

    name: str
    metavar: str | None
    help: str
    repeat: bool = False
    required: bool = False
    convert: Callable[[str], Any] | None = None

    def usage(self) -> str:
        """``--name <METAVAR>`` (or ``--name`` for a switch)."""
        return self.name if self.metavar is None else f"{self.name} <{self.metavar}>"


class Command(NamedTuple):
    """A command: its flags, positional arguments and where its handler is.

    Attributes:
        name: The command as typed, e.g. ``runs show``.
        summary: One line shown in the global help.
        handler: The function running the command, as ``module:function``; its module
            is imported only when the command runs.
        flags: The flags it accepts.
        positionals: Names of its positional arguments, in order.
        required_positionals: How many of them are required.
        variadic: The last positional takes every remaining argument.
        details: Further help text shown under the flags.
    """

    name: str
    summary: str
    handler: str
    flags: tuple[Flag, ...] = ()
    positionals: tuple[str, ...] = ()
    required_positionals: int = 0
    variadic: bool = False
    details: str = ""

    def flag(self, name: str) -> Flag | None:
        """The flag called ``name``, if this command has one."""
        return next((flag for flag in self.flags if flag.name == name), None)

    def _usage_parts(self) -> list[str]:
        parts = [f"awaken-eval {self.name}"]
        for index, name in enumerate(self.positionals):
            shown = f"{name}..." if self.variadic and index == len(self.positionals) - 1 else name
            parts.append(shown if index < self.required_positionals else f"[{shown}]")
        parts.extend(flag.usage() if flag.required else f"[{flag.usage()}]" for flag in self.flags)
        return parts

    def usage(self) -> str:
        """The usage line of the command (one line)."""
        return " ".join(self._usage_parts())

    def _usage_lines(self) -> list[str]:
        """The usage, wrapped: continuation lines start under the first argument."""
        first, *rest = self._usage_parts()
        indent = " " * len(f"usage: {first} ")
        lines = [f"usage: {first}"]
        for part in rest:
            if len(lines[-1]) + 1 + len(part) > HELP_WIDTH and lines[-1].strip() != first:
                lines.append(indent + part)
            else:
                lines[-1] += " " + part
        return lines

    def help(self) -> str:
        """The full help text of the command, wrapped to :data:`HELP_WIDTH` columns."""
        lines = [*self._usage_lines(), "", *_wrapped(self.summary, indent="")]
        if self.flags:
            width = min(max(len(flag.usage()) for flag in self.flags), _FLAG_COLUMN)
            indent = " " * (width + 4)
            lines.extend(["", "options:"])
            for flag in self.flags:
                shown = flag.usage()
                if len(shown) > width:
                    lines.append(f"  {shown}")
                    lines.extend(_wrapped(indent + flag.help, indent=indent))
                else:
                    lines.extend(_wrapped(f"  {shown:<{width}}  {flag.help}", indent=indent))
        if self.details:
            lines.append("")
            for line in self.details.rstrip("\n").split("\n"):
                lines.extend(_wrapped(line, indent="") or [""])
        return "\n".join(lines) + "\n"

    def load_handler(self) -> Callable[[Parsed], int]:
        """Import the handler's module and return the handler."""
        module, _, function = self.handler.partition(":")
        found: Callable[[Parsed], int] = getattr(importlib.import_module(module), function)
        return found


class Parsed:
    """The parsed arguments of one command.

    Attributes:
        values: Value of each given single-valued flag (the last one given wins),
            converted when the flag has a converter.
        lists: Values of each given repeatable flag, in order.
        switches: The switches given.
        positionals: The positional arguments, in order.
    """

    __slots__ = ("lists", "positionals", "switches", "values")

    def __init__(self) -> None:
        """Nothing parsed yet."""
        self.values: dict[str, Any] = {}
        self.lists: dict[str, list[Any]] = {}
        self.switches: set[str] = set()
        self.positionals: list[str] = []

    def __repr__(self) -> str:
        """Show what was parsed."""
        return (
            f"Parsed(values={self.values!r}, lists={self.lists!r}, "
            f"switches={self.switches!r}, positionals={self.positionals!r})"
        )

    def get(self, name: str) -> Any:
        """The value of flag ``name``, or ``None`` when it was not given."""
        return self.values.get(name)

    def require(self, command: Command, name: str) -> Any:
        """The value of flag ``name``; a ``CliError`` when it was not given."""
        if name not in self.values:
            flag = command.flag(name)
            shown = flag.usage() if flag is not None else name
            msg = f"{shown} is required"
            raise cli_error(msg)
        return self.values[name]


def parse(command: Command, args: Sequence[str]) -> Parsed:
    """Parse ``args`` (what follows the command name) for ``command``.

    Raises:
        CliError: for an unknown flag, a flag without its value, a bad value, a
            missing or surplus positional argument.
    """
    parsed = Parsed()
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg.startswith("-") and arg != "-":
            flag = command.flag(arg)
            if flag is None:
                names = [known.name for known in command.flags]
                msg = f"unknown argument {quoted(arg)}{did_you_mean(arg, names)}"
                raise cli_error(msg)
            if flag.metavar is None:
                parsed.switches.add(flag.name)
                continue
            if index >= len(args):
                msg = f"{flag.name} requires a value"
                raise cli_error(msg)
            raw = args[index]
            index += 1
            value = flag.convert(raw) if flag.convert is not None else raw
            if flag.repeat:
                parsed.lists.setdefault(flag.name, []).append(value)
            else:
                parsed.values[flag.name] = value
            continue
        if len(parsed.positionals) >= len(command.positionals) and not command.variadic:
            msg = f"unexpected argument {quoted(arg)}"
            raise cli_error(msg)
        parsed.positionals.append(arg)
    if len(parsed.positionals) < command.required_positionals:
        missing = command.positionals[len(parsed.positionals)]
        msg = f"{missing} is required (usage: {command.usage()})"
        raise cli_error(msg)
    return parsed


def integer(name: str, *, minimum: int) -> Callable[[str], int]:
    """A converter for an integer flag value of at least ``minimum``."""

    def convert(raw: str) -> int:
        try:
            value = int(raw, 10)
        except ValueError:
            msg = f"{name} expects an integer, got {quoted(raw)}"
            raise cli_error(msg) from None
        if value < minimum:
            msg = f"{name} must be at least {minimum}, got {value}"
            raise cli_error(msg)
        return value

    return convert


def positive_number(name: str) -> Callable[[str], float]:
    """A converter for a finite number flag value greater than zero."""

    def convert(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            msg = f"{name} expects a number, got {quoted(raw)}"
            raise cli_error(msg) from None
        if not 0 < value < float("inf"):
            msg = f"{name} must be a finite number greater than 0, got {quoted(raw)}"
            raise cli_error(msg)
        return value

    return convert


def choice(name: str, choices: Sequence[str]) -> Callable[[str], str]:
    """A converter accepting one of ``choices``."""

    def convert(raw: str) -> str:
        if raw not in choices:
            msg = f"{name} must be one of {', '.join(choices)}, got {quoted(raw)}"
            raise cli_error(msg)
        return raw

    return convert
