"""``awaken-eval report``: one stored run as a self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.runs import EvalRun, EvalRunFilter
from awaken_eval.cli._args import Parsed, quoted
from awaken_eval.cli._commands import DEFAULT_STORE
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._render import note, say
from awaken_eval.errors import NotFound
from awaken_eval.protocols import EvalRunStore

__all__ = ["default_output", "report"]

LATEST = "latest"


def default_output(run_id: str) -> Path:
    """Where the report goes without ``-o``: ``report-<RUN_ID>.html`` here."""
    return Path(f"report-{run_id}.html")


async def _latest(store: EvalRunStore, store_url: str) -> EvalRun:
    summaries = await store.list(EvalRunFilter(limit=1))
    if not summaries:
        msg = f"no runs in {store_url}: nothing to report"
        raise CliError(msg)
    return await store.read(summaries[0].id)


async def _baseline_of(
    store: EvalRunStore, spec: str | None, run: EvalRun, store_url: str
) -> EvalRun | None:
    if spec is None:
        return None
    if spec != LATEST:
        return await store.read(spec)
    summaries = await store.list(EvalRunFilter(dataset_id=run.dataset_id))
    earlier = (
        summary
        for summary in summaries
        if summary.id != run.id
        and summary.execution_mode is run.execution_mode
        and summary.started_at_secs <= run.started_at_secs
    )
    found = next(earlier, None)
    if found is None:
        note(
            f"no earlier {run.execution_mode.value} run of dataset {run.dataset_id} in "
            f"{store_url}; the report has no diff"
        )
        return None
    return await store.read(found.id)


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} kB"


def report(parsed: Parsed) -> int:
    """``report RUN_ID|latest [--baseline RUN_ID|latest] [-o FILE] [--trace-root DIR]``."""
    import anyio  # noqa: PLC0415

    from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415
    from awaken_eval.cli._runs import close_store  # noqa: PLC0415
    from awaken_eval.report import read_transcripts, render_report  # noqa: PLC0415
    from awaken_eval.sinks import FileTraceStore  # noqa: PLC0415
    from awaken_eval.stores._url import open_run_store  # noqa: PLC0415

    url: str = parsed.get("--store") or DEFAULT_STORE
    wanted = parsed.positionals[0]
    trace_root: str | None = parsed.get("--trace-root")
    if trace_root is not None and not Path(trace_root).is_dir():
        msg = f"--trace-root {quoted(trace_root)} is not a directory"
        raise CliError(msg)
    try:
        store = open_run_store(url, create=False)
    except NotFound:
        msg = f"no run store at {url}: run `awaken-eval run` first, or pass --store"
        raise CliError(msg) from None

    async def gather() -> tuple[EvalRun, EvalRun | None, dict[str, list[InferenceSpan | ToolSpan]]]:
        run = await (_latest(store, url) if wanted == LATEST else store.read(wanted))
        baseline = await _baseline_of(store, parsed.get("--baseline"), run, url)
        transcripts: dict[str, list[InferenceSpan | ToolSpan]] = {}
        if trace_root is not None:
            transcripts = await read_transcripts(FileTraceStore(trace_root), run)
        return run, baseline, transcripts

    try:
        run, baseline, transcripts = anyio.run(gather)
    finally:
        close_store(store)
    html = render_report(run, baseline, transcripts=transcripts)
    out = Path(parsed.get("-o") or default_output(run.id))
    write_text_atomic(out, html)
    against = f" against baseline {baseline.id}" if baseline is not None else ""
    captured = f", {len(transcripts)} transcripts" if trace_root is not None else ""
    say(
        f"wrote the report of run {run.id}{against} ({len(run.items)} items{captured}) "
        f"to {out} ({_size(len(html.encode()))})"
    )
    return 0
