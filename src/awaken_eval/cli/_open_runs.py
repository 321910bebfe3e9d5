"""Open runs on the command line: finding an interrupted run and resuming it.

A run interrupted (Ctrl-C) stays open in its store. ``run`` then prints the run id and
the exact command that resumes it; ``runs list`` lists open runs next to finished ones
(with a ``state`` column, and a ``state`` key in ``--json``); ``runs show`` shows what an
open run holds so far; ``run --resume`` refuses an id that is unknown or finished.
Stores that cannot list open runs (no
:class:`~awaken_eval.protocols.OpenRunReader`) list finished runs only.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from awaken_eval._records.runs import EvalRun, EvalRunFilter, EvalRunSummary
from awaken_eval._records.store import OpenRunSummary
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._output import Column, print_table
from awaken_eval.cli._render import started
from awaken_eval.errors import NotFound
from awaken_eval.protocols import EvalRunStore, OpenRunReader

__all__ = [
    "FINISHED",
    "OPEN",
    "check_resumable",
    "listing",
    "print_listing",
    "read_any",
    "resume_command",
]

FINISHED = "finished"
"""The state of a run that was finished (or written whole)."""
OPEN = "open"
"""The state of a streamed run that has not finished: interrupted, or still running."""

Summary = EvalRunSummary | OpenRunSummary


def state_of(summary: Summary) -> str:
    """``open`` or ``finished``."""
    return OPEN if isinstance(summary, OpenRunSummary) else FINISHED


async def listing(store: EvalRunStore, run_filter: EvalRunFilter) -> list[Summary]:
    """Finished and open runs of the filter's dataset, newest first, at most its limit."""
    summaries: list[Summary] = list(await store.list(run_filter))
    if isinstance(store, OpenRunReader):
        summaries.extend(
            summary
            for summary in await store.list_open()
            if run_filter.matches(summary.dataset_id, summary.started_at_secs)
        )
    summaries.sort(key=lambda summary: (summary.started_at_secs, summary.id), reverse=True)
    return summaries if run_filter.limit is None else summaries[: run_filter.limit]


def listing_json(summaries: Sequence[Summary]) -> list[dict[str, Any]]:
    """The ``--json`` document of ``runs list``: each summary with its ``state``."""
    from awaken_eval._wire.converter import to_builtins  # noqa: PLC0415

    return [{**to_builtins(summary), "state": state_of(summary)} for summary in summaries]


def print_listing(summaries: Sequence[Summary]) -> None:
    """The table of ``runs list``, newest first, with each run's state."""
    columns = [
        Column("run"),
        Column("dataset"),
        Column("rev", right=True),
        Column("mode"),
        Column("started (UTC)"),
        Column("state"),
        Column("items", right=True),
        Column("passed", right=True),
        Column("failed", right=True),
    ]
    rows = [
        [
            summary.id,
            summary.dataset_id,
            str(summary.dataset_revision),
            summary.execution_mode.value,
            started(summary.started_at_secs),
            state_of(summary),
            str(summary.item_count),
            str(summary.passed_count),
            str(summary.failed_count),
        ]
        for summary in summaries
    ]
    print_table(columns, rows)


async def read_any(store: EvalRunStore, run_id: str) -> tuple[EvalRun, str]:
    """The run ``run_id`` and its state: finished, else open (its items so far).

    Raises:
        NotFound: when the store holds neither.
    """
    try:
        return await store.read(run_id), FINISHED
    except NotFound:
        if not isinstance(store, OpenRunReader):
            raise
    try:
        return await store.read_open(run_id), OPEN
    except NotFound:
        msg = f"eval run not found: {run_id} (neither finished nor open)"
        raise NotFound(msg) from None


async def check_resumable(store: EvalRunStore, run_id: str, store_url: str) -> None:
    """Refuse ``--resume run_id`` unless the store holds it open.

    Raises:
        CliError: naming the id, when the run is finished or unknown.
    """
    if isinstance(store, OpenRunReader) and any(
        summary.id == run_id for summary in await store.list_open()
    ):
        return
    try:
        await store.read(run_id)
    except NotFound:
        if not isinstance(store, OpenRunReader):
            return  # the store cannot tell; the runner opens or resumes it
        msg = (
            f"--resume {run_id}: no open run {run_id} in {store_url} "
            f"(`awaken-eval runs list --store {shlex.quote(store_url)}` lists open runs)"
        )
        raise CliError(msg) from None
    msg = (
        f"--resume {run_id}: run {run_id} is finished in {store_url}; there is nothing "
        "left to resume"
    )
    raise CliError(msg)


def resume_command(parsed: Parsed, run_id: str, store_url: str) -> str:
    """The ``awaken-eval run`` command line that resumes ``run_id`` with the same options."""
    args = ["awaken-eval", "run", *parsed.positionals]
    for flag, value in parsed.values.items():
        if flag not in ("--resume", "--store"):
            args += [flag, str(value)]
    for flag, values in parsed.lists.items():
        for value in values:
            args += [flag, str(value)]
    args += sorted(parsed.switches)
    args += ["--store", store_url, "--resume", run_id]
    return shlex.join(args)
