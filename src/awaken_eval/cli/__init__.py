"""The ``awaken-eval`` command line.

Reference commands, with the reference CLI's flags, output lines and exit codes
(spec §5): ``replay``, ``check`` and ``curate``. Commands over datasets and stored runs:
``run``, ``runs list``, ``runs show``, ``diff``; and ``validate``, ``schema``.

Global rules: no arguments, or ``--help``/``-h`` anywhere in argv (even as a flag's
value), prints help on standard output and exits 0. Every error is printed on standard
error as ``awaken-eval: <message>`` and exits 2; exit 1 means failing fixtures or a
blocking diff. A flag takes the next argument as its value; repeating a single-valued
flag keeps the last value.

Use it as the ``awaken-eval`` console script, as ``python -m awaken_eval.cli``, or call
:func:`main` with an argument list.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from awaken_eval.cli._args import HELP_FLAGS, CliError, Command, Parsed, parse, quoted
from awaken_eval.cli._offline import CHECK, CURATE, REPLAY, check, curate, replay
from awaken_eval.cli._runs import DIFF, RUN, RUNS_LIST, RUNS_SHOW, diff, run, runs_list, runs_show
from awaken_eval.cli._validate import SCHEMA, VALIDATE, schema, validate
from awaken_eval.errors import AwakenEvalError

__all__ = ["main"]

_Handler = Callable[[Parsed], int]

_COMMANDS: dict[str, tuple[Command, _Handler]] = {
    "replay": (REPLAY, replay),
    "check": (CHECK, check),
    "curate": (CURATE, curate),
    "run": (RUN, run),
    "runs list": (RUNS_LIST, runs_list),
    "runs show": (RUNS_SHOW, runs_show),
    "diff": (DIFF, diff),
    "validate": (VALIDATE, validate),
    "schema": (SCHEMA, schema),
}

_OVERVIEW = """\
awaken-eval — evaluate AI agents from fixtures: replay, score, store, diff

usage: awaken-eval <command> [options]    (awaken-eval <command> --help for details)

Offline, file-based (the reference CLI's commands):
{offline}

Datasets and stored runs:
{stored}

Exit status: 0 success, 1 failing fixtures or a blocking diff, 2 usage or input error.
"""


def _overview() -> str:
    def rows(names: Sequence[str]) -> str:
        return "\n".join(f"  {name:<11} {_COMMANDS[name][0].summary}" for name in names)

    return _OVERVIEW.format(
        offline=rows(["replay", "check", "curate"]),
        stored=rows(["run", "runs list", "runs show", "diff", "validate", "schema"]),
    )


def _help(args: Sequence[str]) -> str:
    """Help for the command ``args`` starts with, else the overview."""
    if not args:
        return _overview()
    if args[0] == "runs":
        return "\n".join(_COMMANDS[name][0].help() for name in ("runs list", "runs show"))
    found = _COMMANDS.get(args[0])
    return found[0].help() if found is not None else _overview()


def _command(args: Sequence[str]) -> tuple[Command, _Handler, Sequence[str]]:
    name = args[0]
    if name == "runs":
        sub = args[1] if len(args) > 1 else None
        if sub not in ("list", "show"):
            shown = "none" if sub is None else quoted(sub)
            msg = f"runs: expected a subcommand, list or show (got {shown})"
            raise CliError(msg)
        command, handler = _COMMANDS[f"runs {sub}"]
        return command, handler, args[2:]
    found = _COMMANDS.get(name) if " " not in name else None
    if found is None:
        msg = f"unknown subcommand {quoted(name)} (try `awaken-eval --help`)"
        raise CliError(msg)
    return found[0], found[1], args[1:]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: The arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 1 when fixtures failed or a diff has a blocking entry, 2 for a
        usage, I/O, parse or validation error (printed on standard error as
        ``awaken-eval: <message>``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or any(arg in HELP_FLAGS for arg in args):
        sys.stdout.write(_help(args))
        return 0
    try:
        command, handler, rest = _command(args)
        return handler(parse(command, rest))
    except (AwakenEvalError, OSError) as exc:
        sys.stderr.write(f"awaken-eval: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("awaken-eval: interrupted\n")
        return 130
