"""``EvalService``: the reference server's eval-run handlers, without a web framework.

A host (a web app, a worker, a CLI) builds one :class:`EvalService` from explicit
dependencies and calls its async methods; every refusal is a
:class:`~awaken_eval.ServiceError` carrying the HTTP-like ``status`` to answer with::

    try:
        response = await service.start_run(parse_request(StartRunRequest, body))
    except ServiceError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    return JSONResponse(to_builtins(response))

The rules of each method run in the reference's order (spec §4.4, §4.5, §4.9), so the
same bad request gets the same error here as there, with these improvements
(spec §8.1 items 13 to 17):

* everything a run needs (judge, agent, every model) is resolved before the run starts,
  so a 404 never leaves a started run behind, and every started run ends with exactly
  one terminal event (completed or failed);
* a judge that no fixture uses is neither resolved nor invoked; the response carries a
  warning saying so;
* an online run whose persistence fails is still returned, with ``persisted: false`` and
  the error, so spent work is never thrown away;
* duplicate item keys are a 400 on every diff path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from awaken_eval._analysis.baseline import (
    BaselineCheck,
    NewRunMeta,
    validate_baseline,
)
from awaken_eval._analysis.diff import diff_runs
from awaken_eval._analysis.stats import aggregate_samples
from awaken_eval._engine.agent_loop import AgentLoopReplayer
from awaken_eval._engine.emit import emit_safely
from awaken_eval._engine.judging import ExecutorJudge
from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.orchestrate import ComparedRun, run_against_baseline
from awaken_eval._engine.run_ids import mint_run_id
from awaken_eval._records.comparison import DiffSummary
from awaken_eval._records.evaluation import Evaluation
from awaken_eval._records.events import EvaluationResult, RunEventMode
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.fixtures import DatasetSpec, Fixture
from awaken_eval._records.grading import JudgeRequest
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.rules import (
    live_run_sample_count,
    validate_judge_required_for_expectation,
    validate_unique_models,
)
from awaken_eval._records.runs import (
    ADHOC_DATASET_ID,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunFilter,
    EvalRunSummary,
)
from awaken_eval._wire.digests import fixture_digests
from awaken_eval.errors import (
    AwakenEvalError,
    InvalidRequest,
    InvalidRunId,
    NotFound,
    ServiceError,
    StoreFailure,
)
from awaken_eval.protocols import (
    AgentResolver,
    DatasetStore,
    EvalRunStore,
    Judge,
    ModelResolver,
    Replayer,
    TraceSink,
)
from awaken_eval.service._checks import (
    check_revisions,
    check_samples,
    check_start_shape,
    check_walltime,
)
from awaken_eval.service._held_sink import HeldTerminalSink
from awaken_eval.service._requests import (
    AgentSpecPatch,
    EvalLimits,
    JudgeRequestSpec,
    OnlineEvalRequest,
    StartRunRequest,
)
from awaken_eval.service._responses import EvalRunResponse, GetRunResponse, OnlineEvalResponse
from awaken_eval.service._store_reads import load_dataset, read_baseline, read_run

if TYPE_CHECKING:
    from awaken_eval.report._transcripts import TraceReader

__all__ = ["EvalService"]

_DIGEST_CACHE_SIZE = 32


@attrs.define
class _Preflight:
    """What the checks of a dataset run resolved, before anything is spent."""

    fixtures: list[Fixture]
    revision: int
    digests: dict[str, str]
    baseline: EvalRun | None
    baseline_check: BaselineCheck | None


class EvalService:
    """The eval-run handlers of the reference server, for any host.

    Args:
        datasets: Where datasets are read from.
        runs: Where runs are persisted and read back.
        models: Resolves model ids (live runs, judges); without one every model id
            is unknown.
        agents: Resolves agent ids; without one every agent id is unknown.
        replayer_factory: Builds the replayer of a run (default: the built-in
            :class:`~awaken_eval.AgentLoopReplayer`).
        sink: Receives spans and run events.
        limits: Caps and defaults.
        clock: Wall clock in epoch seconds.
        id_factory: Mints run ids (default: ULIDs).
    """

    def __init__(
        self,
        *,
        datasets: DatasetStore,
        runs: EvalRunStore,
        models: ModelResolver | None = None,
        agents: AgentResolver | None = None,
        replayer_factory: Callable[[], Replayer] = AgentLoopReplayer,
        sink: TraceSink | None = None,
        limits: EvalLimits | None = None,
        clock: Callable[[], float] = time.time,
        id_factory: Callable[[], str] = mint_run_id,
    ) -> None:
        """Create the service from its dependencies."""
        self.datasets = datasets
        self.runs = runs
        self.models = models
        self.agents = agents
        self.replayer_factory = replayer_factory
        self.sink = sink
        self.limits = limits if limits is not None else EvalLimits()
        self.clock = clock
        self.id_factory = id_factory
        self._digest_cache: dict[tuple[str, int], tuple[DatasetSpec, dict[str, str]]] = {}

    # -- dataset runs (spec §4.4) -----------------------------------------------------

    async def start_run(self, request: StartRunRequest) -> EvalRunResponse:
        """Run a stored dataset, persist the run and diff it against a baseline.

        The rules run in the order of spec §4.4; the first broken one raises. Nothing is
        spent (no model call, no event, no write) before every check passed and every
        judge, agent and model resolved.

        Args:
            request: What to run.

        Returns:
            The persisted run, and the diff when ``baseline_run_id`` was given.

        Raises:
            InvalidRequest: a request rule, an invalid dataset, an incomparable
                baseline, no fixtures, a fixture needing a judge, or too many units.
            NotFound: unknown dataset, baseline, judge model, agent or model.
            Conflict: the minted run id is taken.
            StoreFailure: the run could not be persisted.
        """
        samples = check_start_shape(request, self.limits)
        live = request.live
        mode = EvalRunExecutionMode.LIVE if live else EvalRunExecutionMode.SCRIPTED
        pre = await self._preflight(request, mode=mode, samples=samples if live else None)
        judge_spec = request.judge
        rubric = judge_spec.rubric if judge_spec is not None else None
        for fixture in pre.fixtures:
            validate_judge_required_for_expectation(
                fixture.expect,
                f"fixture {fixture.id}",
                live=live,
                has_judge=judge_spec is not None,
                rubric=rubric,
            )
        model_ids = request.models or ()
        units = len(pre.fixtures) * max(1, len(model_ids)) * samples
        cap = self.limits.max_cells_per_sync_run
        if units > cap:
            msg = (
                f"dataset {request.dataset_id} expands to {units} units "
                f"(fixtures x cells x samples), above the cap of {cap} per synchronous "
                "run; split the dataset, use fewer models or drop samples"
            )
            raise InvalidRequest(msg)
        judge, warnings = await self._judge_if_used(
            judge_spec, [fixture.expect for fixture in pre.fixtures]
        )
        agent = await self._resolve_agent(request.agent_id, request.agent_overrides)
        models = [await self._resolve_model(model_id) for model_id in model_ids]
        options = self._run_options(
            request,
            live=live,
            samples=samples,
            judge=judge_spec if judge is not None else None,
            dataset_id=request.dataset_id,
            dataset_revision=pre.revision,
            concurrency=self.limits.max_concurrent_matrix_cells,
            event_mode=None,
        )
        compared = await self._execute(
            pre.fixtures,
            options,
            models=models,
            agent=agent,
            judge=judge,
            store=self.runs,
            sink=self.sink,
            digests=pre.digests,
            baseline=pre.baseline,
            baseline_check=pre.baseline_check,
        )
        return EvalRunResponse(
            run=compared.run,
            diff=compared.diff,
            baseline_check=compared.baseline_check,
            warnings=warnings,
        )

    async def _preflight(
        self, request: StartRunRequest, *, mode: EvalRunExecutionMode, samples: int | None
    ) -> _Preflight:
        """Rules 12 to 15 of spec §4.4: dataset, its validation, baseline, fixtures."""
        spec, revision = await load_dataset(self.datasets, request.dataset_id)
        fixtures = list(spec.fixtures)
        digests = self._digests(request.dataset_id, revision, spec)
        baseline: EvalRun | None = None
        check: BaselineCheck | None = None
        if request.baseline_run_id is not None:
            baseline = await read_baseline(self.runs, request.baseline_run_id)
            meta = NewRunMeta(
                request.dataset_id, revision, mode, samples=samples, fixture_digests=digests
            )
            check = validate_baseline(baseline, meta)
        if not fixtures:
            msg = f"dataset {request.dataset_id} has no fixtures to replay"
            raise InvalidRequest(msg)
        return _Preflight(fixtures, revision, digests, baseline, check)

    def _digests(self, dataset_id: str, revision: int, spec: DatasetSpec) -> dict[str, str]:
        """Fixture digests, computed once per stored dataset revision.

        A revision names one content (writes are compare-and-swap), so the digests of
        a revision are cached; the spec is compared too, for stores that do not bump
        revisions.
        """
        key = (dataset_id, revision)
        cached = self._digest_cache.get(key)
        if cached is not None and cached[0] == spec:
            return cached[1]
        digests = fixture_digests(spec.fixtures)
        if len(self._digest_cache) >= _DIGEST_CACHE_SIZE:
            self._digest_cache.pop(next(iter(self._digest_cache)))
        self._digest_cache[key] = (spec, digests)
        return digests

    # -- resolution -------------------------------------------------------------------

    async def _resolve_model(self, model_id: str) -> ResolvedModel:
        if self.models is None:
            msg = f"model not found: models/{model_id} (no model resolver is configured)"
            raise NotFound(msg)
        return await self.models.resolve_model(model_id)

    async def _judge_if_used(
        self, spec: JudgeRequestSpec | None, expectations: Sequence[Expectation]
    ) -> tuple[Judge | None, tuple[str, ...]]:
        """The judge, resolved only when an expectation needs it; else a warning."""
        if spec is None:
            return None, ()
        if any(expect.min_judge_score is not None for expect in expectations):
            return await self._resolve_judge(spec), ()
        warning = (
            f"judge model {spec.model_id!r} was not resolved or invoked: "
            "no expectation sets min_judge_score"
        )
        return None, (warning,)

    async def _resolve_judge(self, spec: JudgeRequestSpec) -> Judge:
        resolved = await self._resolve_model(spec.model_id)
        return ExecutorJudge(resolved.executor, model=resolved.upstream_model)

    async def _resolve_agent(
        self, agent_id: str | None, overrides: AgentSpecPatch | None
    ) -> AgentSpec | None:
        base: AgentSpec | None = None
        if agent_id is not None:
            if self.agents is None:
                msg = f"agent not found: agents/{agent_id} (no agent resolver is configured)"
                raise NotFound(msg)
            base = await self.agents.resolve_agent(agent_id)
        if overrides is None:
            return base
        return overrides.apply(base if base is not None else AgentSpec())

    # -- execution ----------------------------------------------------------------------

    def _run_options(
        self,
        request: StartRunRequest | OnlineEvalRequest,
        *,
        live: bool,
        samples: int,
        judge: JudgeRequestSpec | None,
        dataset_id: str,
        dataset_revision: int,
        concurrency: int,
        event_mode: RunEventMode | None,
    ) -> RunOptions:
        """The :class:`~awaken_eval.RunOptions` of a checked request, with a new run id.

        Live runs get the limits' default deadline and token budget when the request
        gives none; ``judge`` is the request's judge when it will grade, else ``None``.

        Raises:
            InvalidRequest: the minted run id is not a valid run id.
        """
        limits = self.limits
        walltime = request.max_walltime_secs or limits.default_max_walltime_secs
        tokens = request.max_total_tokens
        try:
            return RunOptions(
                mode=EvalRunExecutionMode.LIVE if live else EvalRunExecutionMode.SCRIPTED,
                models=request.models or (),
                samples=samples,
                rubric=judge.rubric if judge is not None else None,
                revise_max_retries=judge.revise_max_retries if judge is not None else None,
                max_concurrency=concurrency,
                max_walltime_secs=walltime if live else None,
                max_total_tokens=(
                    (limits.default_max_total_tokens if tokens is None else tokens)
                    if live
                    else None
                ),
                run_id=self.id_factory(),
                dataset_id=dataset_id,
                dataset_revision=dataset_revision,
                event_mode=event_mode,
            )
        except InvalidRunId as exc:
            raise InvalidRequest(str(exc)) from exc

    async def _execute(
        self,
        fixtures: Sequence[Fixture],
        options: RunOptions,
        *,
        models: Sequence[ResolvedModel],
        agent: AgentSpec | None,
        judge: Judge | None,
        store: EvalRunStore | None,
        sink: TraceSink | None,
        digests: dict[str, str] | None = None,
        baseline: EvalRun | None = None,
        baseline_check: BaselineCheck | None = None,
    ) -> ComparedRun[DiffSummary]:
        """Run (and diff against ``baseline``), with the service's error mapping."""
        try:
            return await run_against_baseline(
                fixtures,
                options,
                baseline=baseline,
                baseline_check=baseline_check,
                diff=diff_runs,
                models=models,
                replayer=self.replayer_factory(),
                agent=agent,
                judge=judge,
                store=store,
                sink=sink,
                digests=digests,
                clock=self.clock,
            )
        except ServiceError:
            raise
        except InvalidRunId as exc:
            raise InvalidRequest(str(exc)) from exc
        except AwakenEvalError as exc:
            msg = f"eval run failed: {exc}"
            raise StoreFailure(msg) from exc
        except OSError as exc:
            msg = f"could not persist eval run: {exc}"
            raise StoreFailure(msg) from exc

    # -- online runs (spec §4.5) ------------------------------------------------------

    async def online_eval(self, request: OnlineEvalRequest) -> OnlineEvalResponse:
        """Run one ad-hoc prompt against live models (spec §4.5).

        Unlike the reference, a run whose persistence fails is still returned, with
        ``persisted=False`` and the error in ``persist_error``.

        Args:
            request: The prompt, models and options.

        Returns:
            The run (dataset ``_adhoc``, revision 0, live) and whether it was persisted.

        Raises:
            InvalidRequest: a request rule or too many units.
            NotFound: unknown agent, model or judge model.
        """
        limits = self.limits
        if not request.models:
            msg = "`models` must be a non-empty list of model ids"
            raise InvalidRequest(msg)
        validate_unique_models(request.models)
        check_walltime(request.max_walltime_secs, limits)
        samples = check_samples(request.samples, limits)
        units = len(request.models) * samples
        cap = limits.max_cells_per_sync_online
        if units > cap:
            msg = (
                f"{units} units (cells x samples) exceed sync online cap {cap}; "
                "use fewer models or samples"
            )
            raise InvalidRequest(msg)
        judge_spec = request.judge
        validate_judge_required_for_expectation(
            request.expectations,
            "online expectations",
            live=True,
            has_judge=judge_spec is not None,
            rubric=judge_spec.rubric if judge_spec is not None else None,
        )
        check_revisions(judge_spec, limits)
        agent = await self._resolve_agent(request.agent_id, request.agent_overrides)
        models = [await self._resolve_model(model_id) for model_id in request.models]
        judge, warnings = await self._judge_if_used(judge_spec, [request.expectations])
        fixture = Fixture(
            id=ADHOC_DATASET_ID, user_input=request.user_input, expect=request.expectations
        )
        held = HeldTerminalSink(self.sink)
        options = self._run_options(
            request,
            live=True,
            samples=samples,
            judge=judge_spec if judge is not None else None,
            dataset_id=ADHOC_DATASET_ID,
            dataset_revision=0,
            concurrency=limits.max_concurrent_online_cells,
            event_mode=RunEventMode.ONLINE_LIVE_MATRIX,
        )
        compared = await self._execute(
            [fixture], options, models=models, agent=agent, judge=judge, store=None, sink=held
        )
        run = compared.run
        persisted = False
        error: str | None = None
        if request.persist:
            try:
                await self.runs.write(run)
                persisted = True
            except Exception as exc:  # noqa: BLE001 - reported, the run is still returned
                error = f"{type(exc).__name__}: {exc}"
        await held.release(persisted=persisted)
        return OnlineEvalResponse(
            run=run, persisted=persisted, persist_error=error, warnings=warnings
        )

    # -- reading runs (spec §4.9) -------------------------------------------------------

    async def get_run(
        self, run_id: str, *, baseline: str | None = None, aggregate: str | None = None
    ) -> GetRunResponse:
        """Read a stored run, optionally diffed against a baseline and rolled up.

        Args:
            run_id: The run to read.
            baseline: A stored run to diff it against (spec §4.7, §4.8).
            aggregate: ``"samples"`` for the per-(fixture, cell) roll-up with pass@k and
                pass^k; any other value is refused.

        Returns:
            The run, with ``diff`` and ``aggregates`` only when asked for.

        Raises:
            InvalidRequest: an unknown ``aggregate``, an invalid run id, a run or
                baseline that cannot be diffed.
            NotFound: unknown run or baseline.
            StoreFailure: the stored run is corrupt (or, without a baseline, has
                duplicate item keys).
        """
        if aggregate is not None and aggregate != "samples":
            msg = f'unknown aggregate {aggregate!r}: the only aggregate is "samples"'
            raise InvalidRequest(msg)
        run = await read_run(
            self.runs, run_id, role="current", keys_status_400=baseline is not None
        )
        diff: DiffSummary | None = None
        check: BaselineCheck | None = None
        if baseline is not None:
            samples = live_run_sample_count(run)
            baseline_run = await read_baseline(self.runs, baseline)
            meta = NewRunMeta(
                run.dataset_id,
                run.dataset_revision,
                run.execution_mode,
                samples=samples,
                fixture_digests=run.fixture_digests,
            )
            check = validate_baseline(baseline_run, meta)
            diff = diff_runs(baseline_run, run)
        aggregates = tuple(aggregate_samples(run)) if aggregate is not None else None
        return GetRunResponse(run=run, diff=diff, baseline_check=check, aggregates=aggregates)

    async def get_report(
        self, run_id: str, *, baseline: str | None = None, traces: TraceReader | None = None
    ) -> str:
        """A stored run as one self-contained HTML page (see :mod:`awaken_eval.report`).

        Serve it with the media type :data:`awaken_eval.report.REPORT_MEDIA_TYPE`.

        Args:
            run_id: The run to show.
            baseline: A stored run to diff it against; it must be comparable (same
                dataset, revision, mode and sample count).
            traces: A trace store holding the items' transcripts (e.g. a
                :class:`~awaken_eval.sinks.FileTraceStore`); without one the report
                shows no transcript.

        Raises:
            InvalidRequest: an invalid run id, or a baseline that cannot be diffed.
            NotFound: unknown run or baseline.
            StoreFailure: the stored run is corrupt.
        """
        from awaken_eval.report import read_transcripts, render_report  # noqa: PLC0415

        run = await read_run(
            self.runs, run_id, role="current", keys_status_400=baseline is not None
        )
        baseline_run = None if baseline is None else await read_baseline(self.runs, baseline)
        transcripts = None if traces is None else await read_transcripts(traces, run)
        return render_report(run, baseline_run, transcripts=transcripts)

    async def list_runs(self, run_filter: EvalRunFilter | None = None) -> list[EvalRunSummary]:
        """Summaries of the stored runs, newest first (spec §4.9).

        Args:
            run_filter: Dataset, time window and limit (default: every run).

        Raises:
            StoreFailure: the store could not list its runs.
        """
        try:
            return await self.runs.list(run_filter if run_filter is not None else EvalRunFilter())
        except ServiceError:
            raise
        except Exception as exc:
            msg = f"could not list eval runs: {exc}"
            raise StoreFailure(msg) from exc

    # -- online evaluation of production runs -----------------------------------------

    async def evaluate(
        self,
        evaluation: Evaluation,
        answer: str,
        *,
        judge: JudgeRequestSpec | Judge,
        user_prompt: str = "",
        min_score: float | None = None,
    ) -> EvaluationResult:
        """Grade an existing production run, turn or session, without replaying it.

        The judge grades ``answer`` against the evaluation's expected outcome (one
        verdict per criterion; the score is their weighted mean). The result is emitted
        to the trace sink as an ``evaluation_result`` event and returned.

        Args:
            evaluation: What is graded: scope, subjects, expected outcome.
            answer: The answer given in production.
            judge: The judge, or the model id and rubric to build one from.
            user_prompt: The user side of the conversation, when known.
            min_score: The score needed to pass (absent: ``passed`` is absent).

        Raises:
            NotFound: the judge model is unknown.
            InvalidRequest: ``min_score`` outside [0, 1].
            JudgeError: the judge could not grade.
        """
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            msg = f"min_score must be within [0.0, 1.0], got {min_score}"
            raise InvalidRequest(msg)
        rubric: str | None = None
        if isinstance(judge, JudgeRequestSpec):
            rubric = judge.rubric
            grader = await self._resolve_judge(judge)
        else:
            grader = judge
        request = JudgeRequest(
            fixture_id=_scope_label(evaluation),
            user_prompt=user_prompt,
            answer=answer,
            rubric=rubric,
            expected_outcome=evaluation.expected,
        )
        result = await grader.grade(request)
        event = EvaluationResult(
            evaluation=evaluation,
            score=result.score,
            reasoning=result.reasoning,
            verdicts=result.verdicts,
            passed=None if min_score is None else result.score >= min_score,
        )
        await emit_safely(self.sink, event)
        return event


def _scope_label(evaluation: Evaluation) -> str:
    scope = evaluation.scope
    for name in ("run_id", "turn_id", "session_id", "scope_ref"):
        value = getattr(scope, name, None)
        if value is not None:
            return f"{type(scope).kind}:{value}"
    return type(scope).kind
