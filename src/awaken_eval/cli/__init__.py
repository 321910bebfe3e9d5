"""The ``awaken-eval`` command line.

Reference commands, with the reference CLI's flags, output lines and exit codes
(spec §5): ``replay``, ``check`` and ``curate``. Commands over datasets and stored runs:
``run``, ``runs list``, ``runs show``, ``diff``; and ``validate``, ``schema``.

Global rules: no arguments, or ``--help``/``-h`` anywhere in argv (even as a flag's
value), prints help on standard output and exits 0. Every error is printed on standard
error as ``awaken-eval: <message>`` and exits 2; exit 1 means failing fixtures or a
blocking diff. A flag takes the next argument as its value; repeating a single-valued
flag keeps the last value.

Use it as the ``awaken-eval`` console script, as ``python -m awaken_eval`` (or
``python -m awaken_eval.cli``), or call :func:`main` with an argument list.
``awaken-eval --version`` prints the version.

Parsing the arguments and printing help import only the standard library and the
command specs (``awaken_eval.cli._commands``); a command's handler module, and the
library behind it, is imported when that command runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from awaken_eval.cli._args import HELP_FLAGS, parse
from awaken_eval.cli._commands import find_command, help_text

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _reported() -> tuple[type[Exception], ...]:
    """The exceptions printed as ``awaken-eval: <message>`` with exit status 2.

    Called by an ``except`` clause, so only once an exception is raised:
    :mod:`awaken_eval.errors` is not imported by a run that raises none.
    """
    from awaken_eval.errors import AwakenEvalError  # noqa: PLC0415 - on failure only

    return (AwakenEvalError, OSError)


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
    if args == ["--version"]:
        from awaken_eval import __version__  # noqa: PLC0415 - a constant, nothing else loads

        sys.stdout.write(f"awaken-eval {__version__}\n")
        return 0
    if not args or any(arg in HELP_FLAGS for arg in args):
        sys.stdout.write(help_text(args))
        return 0
    try:
        command, rest = find_command(args)
        parsed = parse(command, rest)
        return command.load_handler()(parsed)
    except KeyboardInterrupt:
        sys.stderr.write("awaken-eval: interrupted\n")
        return 130
    except _reported() as exc:
        sys.stderr.write(f"awaken-eval: {exc}\n")
        return 2
