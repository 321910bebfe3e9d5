"""Terminal output: tables and progress, with rich on a terminal and plain text elsewhere.

rich (the ``cli`` extra) is imported lazily and only when the stream is a terminal, so
the CLI works without it and CI logs stay plain: aligned columns, no colours, no
progress bar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import attrs


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False


def _rich() -> Any | None:
    """The ``rich`` package, or ``None`` when it is not installed."""
    try:
        import rich  # noqa: PLC0415 - optional dependency, imported on use
    except ImportError:
        return None
    return rich


@attrs.frozen
class Column:
    """A table column.

    Attributes:
        header: The header text.
        right: Right-align the cells (numbers).
    """

    header: str
    right: bool = False


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Print ``rows`` under ``columns``: a rich table on a terminal, else aligned text."""
    out = stream if stream is not None else sys.stdout
    if is_terminal(out) and _rich() is not None:
        _print_rich_table(columns, rows, title=title, stream=out)
        return
    if title is not None:
        out.write(f"{title}\n")
    widths = [
        max([len(column.header), *(len(row[index]) for row in rows)])
        for index, column in enumerate(columns)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if column.right else cell.ljust(width)
            for cell, width, column in zip(cells, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip() + "\n"

    out.write(line([column.header for column in columns]))
    for row in rows:
        out.write(line(row))


def _print_rich_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, title: str | None, stream: IO[str]
) -> None:
    from rich.console import Console  # noqa: PLC0415 - optional dependency
    from rich.table import Table  # noqa: PLC0415 - optional dependency

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column.header, justify="right" if column.right else "left")
    for row in rows:
        table.add_row(*(_styled(cell) for cell in row))
    Console(file=stream, highlight=False).print(table)


def _styled(cell: str) -> str:
    from rich.markup import escape  # noqa: PLC0415 - optional dependency

    if cell == "pass":
        return "[green]pass[/green]"
    if cell == "FAIL":
        return "[bold red]FAIL[/bold red]"
    return str(escape(cell))


ProgressCallback = Callable[[int, int], object]


@contextmanager
def progress(total: int, *, stream: IO[str] | None = None) -> Iterator[ProgressCallback | None]:
    """A progress callback for :func:`~awaken_eval.run_eval`, or ``None``.

    On a terminal: a rich progress bar (cleared when done), or a self-overwriting
    ``done/total`` line without rich. Not on a terminal: no progress at all, so CI logs
    hold only the results.
    """
    out = stream if stream is not None else sys.stderr
    if total == 0 or not is_terminal(out):
        yield None
        return
    if _rich() is None:
        yield from _plain_progress(out)
        return
    from rich.console import Console  # noqa: PLC0415 - optional dependency
    from rich.progress import (  # noqa: PLC0415 - optional dependency
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("running"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=out),
        transient=True,
    )
    task = bar.add_task("run", total=total)

    def update(done: int, _total: int) -> None:
        bar.update(task, completed=done)

    with bar:
        yield update


def _plain_progress(out: IO[str]) -> Iterator[ProgressCallback]:
    def update(done: int, total: int) -> None:
        out.write(f"\rrunning {done}/{total}")
        out.flush()

    try:
        yield update
    finally:
        out.write("\n")
        out.flush()
