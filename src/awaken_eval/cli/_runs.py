"""The handlers of the commands over datasets and stored runs.

``run``, ``runs list``, ``runs show`` and ``diff``; their flags are in
:mod:`awaken_eval.cli._commands`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from awaken_eval._engine.run_ids import mint_run_id
from awaken_eval._records.comparison import DiffSummary, SampledDiffSummary
from awaken_eval._records.inference import InferenceRequest, InferenceResult
from awaken_eval._records.model_ids import is_provider_model
from awaken_eval._records.runs import EvalRun, EvalRunExecutionMode, EvalRunFilter
from awaken_eval.cli._args import Parsed, quoted
from awaken_eval.cli._commands import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LIST_LIMIT,
    DEFAULT_STORE,
    PROVIDER_FLAGS,
)
from awaken_eval.cli._dataset import no_fixtures
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._models import (
    LiveModels,
    live_models,
    print_costs,
    recording,
)
from awaken_eval.cli._open_runs import check_resumable, resume_command
from awaken_eval.cli._output import progress
from awaken_eval.cli._render import (
    json_document,
    note,
    print_aggregates,
    print_diff,
    print_failing,
    print_items,
    print_json,
    run_totals,
    say,
)
from awaken_eval.errors import (
    AwakenEvalError,
    InferenceError,
    InferenceErrorKind,
    InvalidRequest,
    NotFound,
)
from awaken_eval.protocols import EvalRunStore, LlmExecutor, OpenRunReader, Replayer

if TYPE_CHECKING:
    from awaken_eval._analysis.baseline import BaselineCheck
    from awaken_eval._engine.options import RunOptions

# -- import strings --------------------------------------------------------------------


def load_callable(flag: str, spec: str) -> Callable[..., Any]:
    """Import the callable ``module:attribute`` named by ``flag``.

    The working directory is put on ``sys.path`` first, so a module next to the
    dataset can be named.

    Raises:
        CliError: the loader's message (naming the flag, the string and what failed).
    """
    from awaken_eval._io.imports import load_factory  # noqa: PLC0415

    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return load_factory(spec, what=flag)
    except InvalidRequest as exc:
        raise CliError(exc.message) from None


def _call(flag: str, spec: str, factory: Callable[..., Any], *args: object) -> Any:
    try:
        return factory(*args)
    except Exception as exc:  # noqa: BLE001 - the factory is user code
        shown = ", ".join(repr(arg) for arg in args)
        msg = f"{flag} {spec!r}: factory({shown}) raised {type(exc).__name__}: {exc}"
        raise CliError(msg) from None


def make_executor(spec: str, factory: Callable[..., Any], model_id: str) -> LlmExecutor:
    """``factory(model_id)``, checked to be an :class:`~awaken_eval.LlmExecutor`."""
    executor = _call("--executor", spec, factory, model_id)
    if not isinstance(executor, LlmExecutor):
        msg = (
            f"--executor {spec!r}: factory({model_id!r}) returned "
            f"{type(executor).__name__}, not an LlmExecutor (async execute(request))"
        )
        raise CliError(msg)
    return executor


def make_replayer(spec: str) -> Replayer:
    """``factory()`` of ``--replayer``, checked to be a :class:`~awaken_eval.Replayer`."""
    replayer = _call("--replayer", spec, load_callable("--replayer", spec))
    if not isinstance(replayer, Replayer):
        msg = (
            f"--replayer {spec!r}: factory() returned {type(replayer).__name__}, "
            "not a Replayer (async replay(fixture, context))"
        )
        raise CliError(msg)
    return replayer


class _NoExecutor:
    """The executor of live cells when only ``--replayer`` was given.

    A replayer that brings its own model access never calls it; one that does gets an
    ``invalid_request`` inference error saying what is missing.
    """

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Refuse: no ``--executor`` was given."""
        del request
        msg = "no executor configured: pass --executor MODULE:FACTORY"
        raise InferenceError(InferenceErrorKind.INVALID_REQUEST, msg)


# -- run -------------------------------------------------------------------------------


def _model_ids(raw: str) -> list[str]:
    models = [model.strip() for model in raw.split(",")]
    if not all(models):
        msg = f"--models {quoted(raw)}: empty model id (expected A,B,...)"
        raise CliError(msg)
    return models


_LIVE_FLAG_NEEDS = (
    ("--judge", "--rubric", "TEXT (the judge's grading instructions)"),
    ("--rubric", "--judge", "MODEL"),
    ("--revise-max-retries", "--judge", "MODEL (the judge decides what to revise)"),
)
"""Live flags that need another flag: (flag, the flag it needs, what that one takes)."""


def _check_run_flags(parsed: Parsed, *, live: bool) -> None:
    """Reject flag combinations that cannot work, before anything is loaded."""
    given = set(parsed.values)
    if not live:
        live_only = ["--models", "--judge", "--rubric", "--executor", "--revise-max-retries"]
        live_only += ["--max-walltime-secs", "--max-total-tokens", *PROVIDER_FLAGS]
        if parsed.get("--samples") not in (None, 1):
            live_only.append("--samples")
        for flag in live_only:
            if flag in given:
                msg = f"{flag} requires --mode live (scripted replays call no model)"
                raise CliError(msg)
        return
    if "--models" not in given:
        msg = "--mode live needs --models MODEL[,MODEL...]"
        raise CliError(msg)
    custom = "--executor" in given or "--replayer" in given
    models = [model.strip() for model in parsed.get("--models").split(",")]
    if not custom and not all(is_provider_model(model) for model in models):
        msg = (
            "--mode live needs provider models (openai:MODEL, anthropic:MODEL), or "
            "--executor MODULE:FACTORY (factory(model_id) returns the LlmExecutor of "
            "that model) or --replayer MODULE:FACTORY (factory() returns your Replayer)"
        )
        raise CliError(msg)
    judge = parsed.get("--judge")
    if judge is not None and "--executor" not in given and not is_provider_model(judge):
        msg = (
            "--judge needs a provider model (openai:MODEL, anthropic:MODEL) or --executor "
            "MODULE:FACTORY (the judge runs on factory(MODEL))"
        )
        raise CliError(msg)
    for flag, needed, what in _LIVE_FLAG_NEEDS:
        if flag in given and needed not in given:
            msg = f"{flag} needs {needed} {what}"
            raise CliError(msg)


def _new_run_meta(run: EvalRun) -> Any:
    from awaken_eval._analysis.baseline import NewRunMeta  # noqa: PLC0415
    from awaken_eval._records.rules import live_run_sample_count  # noqa: PLC0415

    return NewRunMeta(
        run.dataset_id,
        run.dataset_revision,
        run.execution_mode,
        samples=live_run_sample_count(run),
        fixture_digests=run.fixture_digests,
    )


def _sampled(*runs: EvalRun) -> bool:
    return any(item.sample_index is not None for run in runs for item in run.items)


def diff_of(baseline: EvalRun, run: EvalRun) -> DiffSummary | SampledDiffSummary:
    """The variance-aware diff for sampled runs, else the item-keyed diff."""
    if _sampled(baseline, run):
        from awaken_eval._analysis.sampled import diff_sampled  # noqa: PLC0415

        return diff_sampled(baseline, run)
    from awaken_eval._analysis.diff import diff_runs  # noqa: PLC0415

    return diff_runs(baseline, run)


def _note_changed_fixtures(check: Any) -> None:
    if not check.fixtures_changed:
        return
    parts = []
    for label, ids in (
        ("changed", check.changed_fixtures),
        ("added", check.added_fixtures),
        ("removed", check.removed_fixtures),
    ):
        if ids:
            parts.append(f"{label}: {', '.join(ids)}")
    note(f"fixtures differ from baseline run {check.baseline_run_id} ({'; '.join(parts)})")


async def _baseline(
    store: EvalRunStore,
    spec: str | None,
    dataset_id: str,
    mode: EvalRunExecutionMode,
    store_url: str,
) -> EvalRun | None:
    """The ``--baseline`` run: an id, or ``latest`` of the dataset and mode (or none)."""
    if spec is None:
        return None
    if spec != "latest":
        return await store.read(spec)
    summaries = await store.list(EvalRunFilter(dataset_id=dataset_id))
    found = next((summary for summary in summaries if summary.execution_mode is mode), None)
    if found is None:
        note(
            f"no earlier {mode.value} run of dataset {dataset_id} in {store_url}; "
            "nothing to diff against"
        )
        return None
    return await store.read(found.id)


def _show(
    parsed: Parsed,
    shown: EvalRun,
    *,
    store_url: str,
    check: BaselineCheck | None,
    diff: DiffSummary | SampledDiffSummary | None,
    aggregates: Sequence[Any] | None,
) -> None:
    """Print a run (tables, or the ``--json`` document) with its baseline check and diff."""
    if check is not None:
        _note_changed_fixtures(check)
    if "--json" in parsed.switches:
        document = json_document(
            shown, store=store_url, diff=diff, baseline=check, aggregates=aggregates
        )
        print_json(document)
        return
    print_items(shown)
    print_failing(shown.items)
    print_costs(shown)
    say(run_totals(shown, store_url))
    if diff is not None and check is not None:
        print_diff(diff, check.baseline_run_id, shown.id, show_unchanged=False)
    if aggregates is not None:
        print_aggregates(aggregates)


def _live_models(parsed: Parsed, model_ids: Sequence[str]) -> LiveModels:
    """The models of a live run and its judge: provider ids (``openai:X``) through the
    providers, others as ``ResolvedModel(id, factory(id), upstream=id)`` of ``--executor``.
    """  # noqa: D205
    spec: str | None = parsed.get("--executor")
    factory = load_callable("--executor", spec) if spec is not None else None
    custom = None
    if spec is not None and factory is not None:
        custom = functools.partial(make_executor, spec, factory)
    return live_models(parsed, model_ids, custom, _NoExecutor)


def _run_options(parsed: Parsed, dataset_id: str, *, live: bool) -> RunOptions:
    """The :class:`~awaken_eval.RunOptions` the flags of ``run`` describe."""
    from awaken_eval._engine.options import RunOptions  # noqa: PLC0415

    walltime: float | None = parsed.get("--max-walltime-secs")
    options = RunOptions(
        mode=EvalRunExecutionMode.LIVE if live else EvalRunExecutionMode.SCRIPTED,
        models=_model_ids(parsed.get("--models")) if live else (),
        samples=parsed.get("--samples") or 1,
        rubric=parsed.get("--rubric"),
        revise_max_retries=parsed.get("--revise-max-retries"),
        max_concurrency=parsed.get("--concurrency") or DEFAULT_CONCURRENCY,
        max_total_tokens=parsed.get("--max-total-tokens"),
        resume=parsed.get("--resume"),
        dataset_id=dataset_id,
    )
    return options if walltime is None else attrs.evolve(options, max_walltime_secs=walltime)


def run(parsed: Parsed) -> int:  # noqa: PLR0915 - one linear script of the command
    """``run DATASET_DIR [options]``: run, store, diff, aggregate.

    A thin front of the service's path: the flags become a
    :class:`~awaken_eval.RunOptions`, the dataset directory the fixtures, and
    ``run_against_baseline`` checks the baseline, runs, stores and diffs.
    """
    import anyio  # noqa: PLC0415

    from awaken_eval._analysis.stats import aggregate_samples  # noqa: PLC0415
    from awaken_eval._engine.orchestrate import ComparedRun, run_against_baseline  # noqa: PLC0415
    from awaken_eval._wire.digests import fixture_digests  # noqa: PLC0415
    from awaken_eval.cli._dataset import load_dataset  # noqa: PLC0415
    from awaken_eval.cli._ray import ray_dispatcher  # noqa: PLC0415
    from awaken_eval.stores._url import open_run_store  # noqa: PLC0415

    live = parsed.get("--mode") == "live"
    _check_run_flags(parsed, live=live)
    directory = Path(parsed.positionals[0])
    try:
        dataset = load_dataset(directory)
    except AwakenEvalError as exc:
        from awaken_eval.cli._validate import located_message  # noqa: PLC0415

        msg = f"loading fixtures: {located_message(exc)}"
        raise CliError(msg) from None
    if not dataset.fixtures:
        raise CliError(no_fixtures(dataset.fixtures_dir))
    options = _run_options(parsed, dataset.id, live=live)
    if options.resume is None:  # known up front, so an interrupted run can be named
        options = attrs.evolve(options, run_id=mint_run_id())
    run_id = options.resume or options.run_id or ""
    dispatcher = ray_dispatcher(parsed)

    resolved = _live_models(parsed, options.models) if live else LiveModels([], None)
    models, judge = resolved.models, resolved.judge
    replayer_spec = parsed.get("--replayer")
    recorder, replayer = recording(
        parsed, make_replayer(replayer_spec) if replayer_spec is not None else None
    )

    store_url: str = parsed.get("--store") or DEFAULT_STORE
    store = open_run_store(store_url)
    baseline_spec: str | None = parsed.get("--baseline")
    digests = fixture_digests(dataset.fixtures)
    total = len(dataset.fixtures) * max(1, len(options.models)) * options.samples
    outcome: list[ComparedRun[DiffSummary | SampledDiffSummary]] = []

    async def execute(report: Callable[[int, int], object] | None) -> None:
        if options.resume is not None:
            await check_resumable(store, options.resume, store_url)
        baseline = await _baseline(store, baseline_spec, dataset.id, options.mode, store_url)
        try:
            compared = await run_against_baseline(
                dataset.fixtures,
                options,
                baseline=baseline,
                diff=diff_of,
                models=models,
                replayer=replayer,
                judge=judge,
                store=store,
                sink=recorder,
                progress=report,
                digests=digests,
                dispatcher=dispatcher,
            )
        finally:
            await resolved.aclose()
        # Handed back through a list: asyncio formats a task's return value on shutdown,
        # which for a big run costs about a kilobyte per item.
        outcome.append(compared)

    try:
        with progress(total) as report:
            anyio.run(execute, report)
    except KeyboardInterrupt:
        return _interrupted(parsed, store, run_id, store_url)
    finally:
        close_store(store)
    compared = outcome[0]
    new_run = compared.run
    if recorder is not None:
        recorder.write(new_run, dataset.fixtures)
    aggregates = aggregate_samples(new_run) if options.samples >= 2 else None
    _show(
        parsed,
        new_run,
        store_url=store_url,
        check=compared.baseline_check,
        diff=compared.diff,
        aggregates=aggregates,
    )
    from awaken_eval.cli._ci import report_run  # noqa: PLC0415

    report_run(new_run, junit_path=parsed.get("--junit-xml"), diff=compared.diff)
    failed = new_run.passed_count() < len(new_run.items)
    blocking = compared.diff is not None and not compared.diff.is_clean
    return 1 if failed or blocking else 0


def _interrupted(parsed: Parsed, store: EvalRunStore, run_id: str, store_url: str) -> int:
    """After Ctrl-C: say where the run is and how to resume it; exit status 130."""
    import anyio  # noqa: PLC0415

    from awaken_eval.stores._memory import InMemoryRunStore  # noqa: PLC0415

    found: list[Any] = []
    if isinstance(store, OpenRunReader) and not isinstance(store, InMemoryRunStore):
        try:
            found = [s for s in anyio.run(store.list_open) if s.id == run_id]
        except AwakenEvalError as exc:
            note(f"interrupted; cannot tell what run {run_id} stored: {exc}")
            return 130
    if not found:
        kept = "nothing of it was stored"
        if isinstance(store, InMemoryRunStore):
            kept = f"it was kept in memory only ({store_url}) and cannot be resumed"
        note(f"interrupted; run {run_id}: {kept}")
        return 130
    stored = found[0].item_count
    note(f"interrupted; run {run_id} is open in {store_url} with {stored} stored item(s)")
    note(f"resume it with: {resume_command(parsed, run_id, store_url)}")
    return 130


# -- stored runs -----------------------------------------------------------------------


def close_store(store: EvalRunStore) -> None:
    """Close a store that holds a connection (the SQLite store); others need nothing."""
    close = getattr(store, "close", None)
    if callable(close):
        close()


def _open(url: str) -> EvalRunStore:
    """Open the store at ``url`` to read it: read-only, so it may be non-writable."""
    from awaken_eval.stores._url import open_run_store  # noqa: PLC0415

    return open_run_store(url, read_only=True)


def runs_list(parsed: Parsed) -> int:
    """``runs list [--dataset D] [--limit N] [--store URL] [--json]``."""
    import anyio  # noqa: PLC0415

    from awaken_eval.cli._open_runs import listing, listing_json, print_listing  # noqa: PLC0415

    url: str = parsed.get("--store") or DEFAULT_STORE
    run_filter = EvalRunFilter(
        dataset_id=parsed.get("--dataset"), limit=parsed.get("--limit") or DEFAULT_LIST_LIMIT
    )
    try:
        store = _open(url)
    except NotFound:
        summaries = []
    else:
        try:
            summaries = anyio.run(listing, store, run_filter)
        finally:
            close_store(store)
    if "--json" in parsed.switches:
        print_json(listing_json(summaries))
    elif not summaries:
        say(f"awaken-eval: no runs in {url}")
    else:
        print_listing(summaries)
    return 0


def _read_runs(url: str, run_ids: Sequence[str]) -> list[EvalRun]:
    import anyio  # noqa: PLC0415

    store = _open(url)

    async def read_all() -> list[EvalRun]:
        return [await store.read(run_id) for run_id in run_ids]

    try:
        return anyio.run(read_all)
    finally:
        close_store(store)


def runs_show(parsed: Parsed) -> int:
    """``runs show RUN_ID [--baseline RUN_ID] [--aggregate samples] [--store URL] [--json]``."""
    import anyio  # noqa: PLC0415

    from awaken_eval._analysis.baseline import validate_baseline  # noqa: PLC0415
    from awaken_eval._analysis.stats import aggregate_samples  # noqa: PLC0415
    from awaken_eval.cli._open_runs import OPEN, read_any  # noqa: PLC0415

    url: str = parsed.get("--store") or DEFAULT_STORE
    baseline_id: str | None = parsed.get("--baseline")
    store = _open(url)

    async def read_both() -> tuple[EvalRun, str, EvalRun | None]:
        shown, state = await read_any(store, parsed.positionals[0])
        baseline = await store.read(baseline_id) if baseline_id is not None else None
        return shown, state, baseline

    try:
        shown, state, baseline = anyio.run(read_both)
    finally:
        close_store(store)
    if state == OPEN:
        note(
            f"run {shown.id} is open (interrupted, or still running): "
            f"{len(shown.items)} item(s) stored so far; resume it with "
            f"`awaken-eval run DATASET_DIR --store {url} --resume {shown.id}`"
        )
    check = validate_baseline(baseline, _new_run_meta(shown)) if baseline is not None else None
    shown_diff = diff_of(baseline, shown) if baseline is not None else None
    aggregates = aggregate_samples(shown) if parsed.get("--aggregate") == "samples" else None
    _show(parsed, shown, store_url=url, check=check, diff=shown_diff, aggregates=aggregates)
    return 0


def diff(parsed: Parsed) -> int:
    """``diff RUN_A RUN_B [--store URL] [--json]``: RUN_B against baseline RUN_A."""
    from awaken_eval._analysis.baseline import validate_baseline  # noqa: PLC0415
    from awaken_eval._wire.converter import to_builtins  # noqa: PLC0415

    url: str = parsed.get("--store") or DEFAULT_STORE
    baseline, new_run = _read_runs(url, parsed.positionals[:2])
    check = validate_baseline(baseline, _new_run_meta(new_run))
    _note_changed_fixtures(check)
    summary = diff_of(baseline, new_run)
    if "--json" in parsed.switches:
        print_json(
            {
                "baseline_run_id": baseline.id,
                "run_id": new_run.id,
                "baseline": to_builtins(check),
                "diff": to_builtins(summary),
            }
        )
    else:
        print_diff(summary, baseline.id, new_run.id, show_unchanged=True, new=new_run.items)
    return 0 if summary.is_clean else 1
