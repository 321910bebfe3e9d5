"""The runner: ``run_eval`` / ``run_eval_sync`` (spec §1.5, §2.14, §4.2, §4.3, §7.13, §8.1).

Scripted and live runs, validation before any work, result order, sample indexes,
cost, judging and the revise loop, the per-cell deadline shared by replay and judging
(no phantom failures on timeout), per-cell and run-wide token budgets, user-code
exceptions as data, run events, progress, plain and streaming stores, crash-and-resume
and cancellation. Every async test runs on asyncio and trio.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest
import sniffio

from awaken_eval import (
    AgentSpec,
    AlreadyExists,
    ChatResponseEvent,
    Conflict,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunSummary,
    Expectation,
    Fixture,
    InferenceRequest,
    InferenceResult,
    InvalidRequest,
    ItemKey,
    JudgeError,
    JudgeRequest,
    JudgeResult,
    MatrixCell,
    ModelPricing,
    NotFound,
    ReplayContext,
    ReplayOutcome,
    ReplayReport,
    ResolvedModel,
    RunOptions,
    StoreFailure,
    TokenUsage,
    run_eval,
    run_eval_sync,
)
from awaken_eval._engine.units import cell_error_outcome, timeout_outcome
from awaken_eval.analysis import ADHOC_DATASET_ID
from awaken_eval.engine import SKIPPED_PREFIX
from awaken_eval.errors import DuplicateItemKeys, JudgeErrorKind
from awaken_eval.events import (
    InferenceSpan,
    ItemCompleted,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    SpanRecorded,
    TraceEvent,
)
from awaken_eval.failures import (
    AnswerMissingPhrase,
    JudgeBelowThreshold,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
)
from awaken_eval.records import (
    AgentMetrics,
    CriterionVerdict,
    EvalRunFilter,
    JudgeAttempt,
    ReviseConfig,
)
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import (
    CannedTextExecutor,
    CapturingSink,
    EmptyResultExecutor,
    ExplodingJudge,
    HangingExecutor,
    ScriptedJudge,
)
from awaken_eval.wire import fixture_digests
from builders import header, item
from engine_support import live, model

pytestmark = pytest.mark.anyio

LIVE = EvalRunExecutionMode.LIVE
RUBRIC = "Grade how well the answer satisfies the request."
TERMINAL_KINDS = ("eval_run_completed", "eval_run_failed")

# -- helpers ------------------------------------------------------------------------------


def usage(total: int, *, prompt: int | None = None, completion: int | None = None) -> TokenUsage:
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def scripted(fixture_id: str, text: str = "hello there", **expect: Any) -> Fixture:
    """A fixture whose script answers ``text`` once (2 tokens)."""
    return Fixture(
        fixture_id,
        user_input=f"question {fixture_id}",
        provider_script=(ChatResponseEvent(text, tokens=usage(2, prompt=1, completion=1)),),
        expect=Expectation(**expect),
    )


def model_ids(models: Sequence[ResolvedModel]) -> list[str]:
    return [resolved.model_id for resolved in models]


def unit_key(fixture: Fixture, context: ReplayContext) -> ItemKey:
    model_id = context.cell.model_id if context.cell is not None else None
    return ItemKey(fixture.id, model_id, context.sample_index)


def keys(run: EvalRun) -> list[ItemKey]:
    return [item.key for item in run.items]


def messages(run: EvalRun) -> list[str | None]:
    return [
        item.report.runtime_failure.message
        if isinstance(item.report.runtime_failure, ReplayRuntimeError)
        else None
        for item in run.items
    ]


def run_events(sink: CapturingSink) -> list[TraceEvent]:
    return [event for event in sink.events if not isinstance(event, SpanRecorded)]


def terminal_kinds(sink: CapturingSink) -> list[str]:
    return [kind for kind in sink.kinds if kind in TERMINAL_KINDS]


class RecordingReplayer:
    """Returns a passing outcome per unit; records the units started and completed.

    ``delay`` gives the seconds a unit sleeps (a checkpoint when 0); ``yields=False``
    makes a replay that never yields to the event loop.
    """

    def __init__(
        self,
        *,
        delay: Callable[[ItemKey], float] = lambda _key: 0.0,
        yields: bool = True,
        tokens: int = 0,
    ) -> None:
        self.delay = delay
        self.yields = yields
        self.tokens = tokens
        self.started: list[ItemKey] = []
        self.completed: list[ItemKey] = []
        self.contexts: list[ReplayContext] = []

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        key = unit_key(fixture, context)
        self.started.append(key)
        self.contexts.append(context)
        if self.yields:
            await anyio.sleep(self.delay(key))
        self.completed.append(key)
        spans = (InferenceSpan(run_id=f"run-{fixture.id}", total_tokens=self.tokens),)
        return ReplayOutcome(
            fixture_id=fixture.id,
            final_text=f"answer {fixture.id}",
            metrics=AgentMetrics(inferences=spans if self.tokens else ()),
        )


class ReverseOrderReplayer(RecordingReplayer):
    """Completes the units strictly in reverse of ``order``, whatever the timing:
    each unit waits until the unit after it in ``order`` has completed."""

    def __init__(self, order: list[ItemKey]) -> None:
        super().__init__()
        self.order = order
        self.done = {key: anyio.Event() for key in order}

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        key = unit_key(fixture, context)
        position = self.order.index(key)
        if position + 1 < len(self.order):
            await self.done[self.order[position + 1]].wait()
        outcome = await super().replay(fixture, context)
        self.done[key].set()
        return outcome


class RaisingReplayer:
    """Raises ``ValueError`` for the fixtures named in ``bad``; otherwise passes."""

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        if fixture.id in self.bad:
            msg = f"cannot replay {fixture.id}"
            raise ValueError(msg)
        return ReplayOutcome(fixture_id=fixture.id, final_text="fine")


class CrashingExecutor:
    """An executor raising an exception that is not an ``InferenceError``."""

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        msg = "connection pool exploded"
        raise RuntimeError(msg)


class CrashingJudge:
    """A judge raising a plain exception."""

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        msg = "judge process died"
        raise RuntimeError(msg)


class WriteOnlyStore:
    """A run store without streaming: ``write`` / ``read`` / ``list`` only."""

    def __init__(self, *, fail: bool = False) -> None:
        self.inner = InMemoryRunStore()
        self.fail = fail
        self.writes = 0

    async def write(self, run: EvalRun) -> None:
        self.writes += 1
        if self.fail:
            msg = "disk full"
            raise StoreFailure(msg)
        await self.inner.write(run)

    async def read(self, run_id: str) -> EvalRun:
        return await self.inner.read(run_id)

    async def list(self, run_filter: EvalRunFilter) -> list[EvalRunSummary]:
        return await self.inner.list(run_filter)


class RecordingStore(InMemoryRunStore):
    """An in-memory streaming store recording each append (and optionally failing it)."""

    def __init__(self, *, fail_append: bool = False) -> None:
        super().__init__()
        self.fail_append = fail_append
        self.appends: list[tuple[ItemKey, ...]] = []

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        if self.fail_append:
            msg = "append failed"
            raise StoreFailure(msg)
        self.appends.append(tuple(item.key for item in items))
        await super().append(run_id, items)


# -- scripted runs ------------------------------------------------------------------------


async def test_scripted_run_items_follow_fixture_order_without_cells_or_samples() -> None:
    fixtures = [
        scripted("zeta", "the sky is blue", final_answer_contains=("blue",)),
        scripted("alpha", "the sky is grey", final_answer_contains=("blue",)),
        scripted("mid"),
    ]
    run = await run_eval(fixtures, clock=lambda: 1_700_000_000.75)
    assert [("zeta", None, None), ("alpha", None, None), ("mid", None, None)] == [
        (item.fixture_id, item.cell, item.sample_index) for item in run.items
    ]
    assert [True, False, True] == [item.report.passed for item in run.items]
    assert [(), (AnswerMissingPhrase("blue"),), ()] == [item.report.failures for item in run.items]
    assert ["the sky is blue", "the sky is grey", "hello there"] == [
        item.report.final_text for item in run.items
    ]
    assert [2, 2, 2] == [item.report.total_tokens for item in run.items]
    assert [None, None, None] == [item.report.cost_usd for item in run.items]
    assert EvalRunExecutionMode.SCRIPTED == run.execution_mode
    assert ADHOC_DATASET_ID == run.dataset_id
    assert (1_700_000_000, 1_700_000_000) == (run.started_at_secs, run.ended_at_secs)
    assert fixture_digests(fixtures) == run.fixture_digests


async def test_scripted_run_passes_no_deadline_budget_or_cell_to_the_replayer() -> None:
    replayer = RecordingReplayer()
    await run_eval(
        [scripted("a")], RunOptions(max_walltime_secs=5.0, max_total_tokens=1), replayer=replayer
    )
    assert [ReplayContext()] == replayer.contexts


async def test_scripted_run_of_a_live_only_fixture_is_a_failed_item() -> None:
    live_only = attrs.evolve(scripted("curated"), provider_script_error="trace had no spans")
    run = await run_eval([scripted("first"), live_only, scripted("last")])
    assert ["first", "curated", "last"] == [item.fixture_id for item in run.items]
    assert [True, False, True] == [item.report.passed for item in run.items]
    message = messages(run)[1]
    assert message is not None
    assert "no replayable provider_script" in message


async def test_scripted_run_rejects_min_judge_score() -> None:
    with pytest.raises(InvalidRequest, match="offline awaken-eval"):
        await run_eval([scripted("graded", min_judge_score=0.5)], judge=ScriptedJudge())


async def test_dataset_identity_is_recorded() -> None:
    run = await run_eval(
        [scripted("a")], RunOptions(dataset_id="support", dataset_revision=7, run_id="01J0RUNIDXYZ")
    )
    assert ("01J0RUNIDXYZ", "support", 7) == (run.id, run.dataset_id, run.dataset_revision)


# -- validation before any work -----------------------------------------------------------


def _invalid_case(name: str) -> tuple[list[Fixture], RunOptions, dict[str, Any], str]:
    """Rules the runner checks (the rules of ``RunOptions`` alone: test_run_options)."""
    one = [live("a")]
    on_m1 = RunOptions(mode=LIVE, models=["m1"])
    models = [model("m1")]
    judged = [live("a", min_judge_score=0.5)]
    cases: dict[str, tuple[list[Fixture], RunOptions, dict[str, Any], str]] = {
        "scripted with models": ([scripted("a")], RunOptions(), {"models": models}, "models"),
        "models other than options.models": (
            one,
            RunOptions(mode=LIVE, models=["m1", "m2"]),
            {"models": [model("m2"), model("m1")]},
            "do not match options.models",
        ),
        "duplicate fixtures": (
            [scripted("a"), scripted("b"), scripted("a")],
            RunOptions(),
            {},
            "duplicate fixture id: a",
        ),
        "judge score without judge": (
            judged,
            attrs.evolve(on_m1, rubric=RUBRIC),
            {"models": models},
            "provide `judge`",
        ),
        "judge score with blank rubric": (
            judged,
            attrs.evolve(on_m1, rubric="  "),
            {"models": models, "judge": ScriptedJudge()},
            "judge.rubric",
        ),
        "judge score without rubric": (
            judged,
            on_m1,
            {"models": models, "judge": ScriptedJudge()},
            "judge.rubric",
        ),
        "resume without a store": (
            [scripted("a")],
            RunOptions(resume="01J0RUNIDXYZ"),
            {},
            "resume",
        ),
        "resume without streaming": (
            [scripted("a")],
            RunOptions(resume="01J0RUNIDXYZ"),
            {"store": WriteOnlyStore()},
            "streaming",
        ),
    }
    return cases[name]


@pytest.mark.parametrize(
    "name",
    [
        "scripted with models",
        "models other than options.models",
        "duplicate fixtures",
        "judge score without judge",
        "judge score with blank rubric",
        "judge score without rubric",
        "resume without a store",
        "resume without streaming",
    ],
)
async def test_invalid_requests_are_rejected_before_any_work(name: str) -> None:
    fixtures, options, objects, match = _invalid_case(name)
    replayer = RecordingReplayer()
    sink = CapturingSink()
    progress: list[tuple[int, int]] = []
    with pytest.raises(InvalidRequest, match=match):
        await run_eval(
            fixtures,
            options,
            replayer=replayer,
            sink=sink,
            progress=lambda done, total: progress.append((done, total)),
            **objects,
        )
    assert ([], [], []) == (replayer.started, sink.events, progress)


# -- live matrix --------------------------------------------------------------------------


async def test_live_items_come_back_in_fixture_cell_sample_order_whatever_the_completion() -> None:
    fixtures = [live("b"), live("a")]
    models = [model("m2"), model("m1")]
    order = [
        ItemKey(fixture, model_id, sample)
        for fixture in ("b", "a")
        for model_id in ("m2", "m1")
        for sample in range(3)
    ]
    replayer = ReverseOrderReplayer(order)
    run = await run_eval(
        fixtures,
        RunOptions(mode=LIVE, models=model_ids(models), samples=3, max_concurrency=len(order)),
        models=models,
        replayer=replayer,
    )
    assert list(reversed(order)) == replayer.completed
    assert order == keys(run)
    assert [MatrixCell(key.model_id) for key in order] == [item.cell for item in run.items]
    assert EvalRunExecutionMode.LIVE == run.execution_mode


async def test_live_order_holds_with_executors_of_different_speeds() -> None:
    slow = HangingExecutor(delay=0.1, text="slow answer")
    fast = CannedTextExecutor(["fast answer"])
    run = await run_eval(
        [live("a"), live("b")],
        RunOptions(mode=LIVE, models=["slow", "fast"], samples=2, max_concurrency=8),
        models=[model("slow", slow), model("fast", fast)],
    )
    assert [
        ItemKey(fixture_id, model_id, sample)
        for fixture_id in ("a", "b")
        for model_id in ("slow", "fast")
        for sample in (0, 1)
    ] == keys(run)
    assert ["slow answer"] * 2 + ["fast answer"] * 2 + ["slow answer"] * 2 + [
        "fast answer"
    ] * 2 == [item.report.final_text for item in run.items]
    assert (4, 4) == (slow.completed, len(fast.requests))


async def test_live_replay_context_carries_cell_model_agent_budget_and_deadline() -> None:
    executor = CannedTextExecutor(["ok"])
    agent = AgentSpec(id="support-bot", system_prompt="Be brief.")
    replayer = RecordingReplayer()
    before = anyio.current_time()
    await run_eval(
        [live("a")],
        RunOptions(
            mode=LIVE,
            models=["m1"],
            samples=2,
            max_walltime_secs=30.0,
            max_total_tokens=123,
            max_concurrency=1,
        ),
        models=[model("m1", executor)],
        replayer=replayer,
        agent=agent,
    )
    after = anyio.current_time()
    expected_without_deadline = [
        ReplayContext(
            mode=LIVE,
            executor=executor,
            upstream_model="upstream-m1",
            cell=MatrixCell("m1"),
            sample_index=sample,
            agent=agent,
            token_budget=123,
        )
        for sample in (0, 1)
    ]
    assert expected_without_deadline == [
        attrs.evolve(context, deadline=None) for context in replayer.contexts
    ]
    for context in replayer.contexts:
        assert context.deadline is not None
        assert before + 30.0 <= context.deadline <= after + 30.0


async def test_live_run_through_the_agent_loop_uses_each_models_executor() -> None:
    first = CannedTextExecutor(["from m1"])
    second = CannedTextExecutor(["from m2"])
    run = await run_eval(
        [live("a", final_answer_contains=("from",))],
        RunOptions(mode=LIVE, models=["m1", "m2"]),
        models=[model("m1", first), model("m2", second)],
    )
    assert [ItemKey("a", "m1", None), ItemKey("a", "m2", None)] == keys(run)
    assert ["from m1", "from m2"] == [item.report.final_text for item in run.items]
    assert [True, True] == [item.report.passed for item in run.items]
    assert (["upstream-m1"], ["upstream-m2"]) == (
        [request.model for request in first.requests],
        [request.model for request in second.requests],
    )


@pytest.mark.parametrize(("samples", "indexes"), [(1, [None]), (2, [0, 1]), (3, [0, 1, 2])])
async def test_sample_index_is_set_only_with_two_or_more_samples(
    samples: int, indexes: list[int | None]
) -> None:
    run = await run_eval(
        [live("a")], RunOptions(mode=LIVE, models=["m1"], samples=samples), models=[model("m1")]
    )
    assert indexes == [item.sample_index for item in run.items]
    assert [MatrixCell("m1")] * samples == [item.cell for item in run.items]


async def test_cost_comes_from_the_models_pricing() -> None:
    priced_usage = TokenUsage(
        prompt_tokens=2_000_000, completion_tokens=1_000_000, total_tokens=3_000_000
    )
    pricing = ModelPricing(input_per_million_usd=0.5, output_per_million_usd=2.0)
    sink = CapturingSink()
    run = await run_eval(
        [live("a")],
        RunOptions(mode=LIVE, models=["priced", "unpriced", "no-tokens"]),
        models=[
            model("priced", CannedTextExecutor(["x"], usage=priced_usage), pricing=pricing),
            model("unpriced", CannedTextExecutor(["x"], usage=priced_usage)),
            model("no-tokens", EmptyResultExecutor(), pricing=pricing),
        ],
        sink=sink,
    )
    assert [3.0, None, None] == [item.report.cost_usd for item in run.items]
    completed = sink.events[-1]
    assert isinstance(completed, RunCompleted)
    assert 3.0 == completed.total_cost_usd


async def test_judge_grade_is_stamped_on_the_report() -> None:
    verdicts = (CriterionVerdict(criterion_id="correct", score=0.91, reasoning="right"),)
    judge = ScriptedJudge([JudgeResult(score=0.91, reasoning="thorough", verdicts=verdicts), 0.2])
    run = await run_eval(
        [live("good", min_judge_score=0.8), live("poor", min_judge_score=0.8)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, max_concurrency=1),
        models=[model("m1", CannedTextExecutor(["the answer"]))],
        judge=judge,
    )
    good, poor = (item.report for item in run.items)
    assert (0.91, "thorough", verdicts, True, ()) == (
        good.judge_score,
        good.judge_reasoning,
        good.judge_verdicts,
        good.passed,
        good.failures,
    )
    assert (0.2, "scripted", (JudgeBelowThreshold(threshold=0.8, actual=0.2),)) == (
        poor.judge_score,
        poor.judge_reasoning,
        poor.failures,
    )
    assert [
        JudgeRequest(
            fixture_id=fixture_id,
            user_prompt=f"question {fixture_id}",
            answer="the answer",
            rubric=RUBRIC,
        )
        for fixture_id in ("good", "poor")
    ] == judge.requests


async def test_judge_is_not_called_without_min_judge_score() -> None:
    run = await run_eval(
        [live("a")],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC),
        models=[model("m1")],
        judge=ExplodingJudge(),
    )
    assert [(True, None)] == [(item.report.passed, item.report.judge_score) for item in run.items]


async def test_revise_loop_end_to_end_reuses_the_cached_grade() -> None:
    executor = CannedTextExecutor(["draft answer", "revised answer"])
    judge = ScriptedJudge([0.3, 0.9])
    run = await run_eval(
        [live("a", min_judge_score=0.8)],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC, revise_max_retries=2),
        models=[model("m1", executor)],
        judge=judge,
    )
    (report,) = (item.report for item in run.items)
    assert (True, "revised answer", 1, 0.9) == (
        report.passed,
        report.final_text,
        report.revision_count,
        report.judge_score,
    )
    assert (
        JudgeAttempt(revision=0, score=0.3, reasoning="scripted"),
        JudgeAttempt(revision=1, score=0.9, reasoning="scripted"),
    ) == report.judge_attempts
    assert 2 == judge.calls  # the final grade was reused at scoring, not asked again
    assert 2 == len(executor.requests)


async def test_revise_loop_is_passed_only_to_judged_fixtures() -> None:
    judge = ScriptedJudge()
    replayer = RecordingReplayer()
    await run_eval(
        [live("judged", min_judge_score=0.7), live("plain")],
        RunOptions(
            mode=LIVE, models=["m1"], rubric=RUBRIC, revise_max_retries=3, max_concurrency=1
        ),
        models=[model("m1")],
        replayer=replayer,
        judge=judge,
    )
    assert [
        ReviseConfig(judge=judge, threshold=0.7, max_retries=3, rubric=RUBRIC),
        None,
    ] == [context.revise for context in replayer.contexts]


async def test_live_run_without_walltime_has_no_deadline() -> None:
    replayer = RecordingReplayer()
    run = await run_eval(
        [live("a")],
        RunOptions(mode=LIVE, models=["m1"], max_walltime_secs=None),
        models=[model("m1")],
        replayer=replayer,
    )
    assert [None] == [context.deadline for context in replayer.contexts]
    assert [True] == [item.report.passed for item in run.items]


# -- the deadline: tests/test_deadlines.py (on virtual time) ---------------------------------


async def test_judge_error_becomes_a_scoring_failure() -> None:
    judge = ScriptedJudge([JudgeError(JudgeErrorKind.PARSE, "no JSON here")])
    run = await run_eval(
        [live("a", min_judge_score=0.5, final_answer_contains=("missing",))],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC),
        models=[model("m1", CannedTextExecutor(["an answer"]))],
        judge=judge,
    )
    (report,) = (item.report for item in run.items)
    error = ReplayRuntimeError(
        "scoring failed: judge invocation failed: judge parse error: no JSON here"
    )
    assert (error, (AnswerMissingPhrase("missing"), ReplayRuntimeFailed(error))) == (
        report.runtime_failure,
        report.failures,
    )
    assert ("an answer", None) == (report.final_text, report.judge_score)


def test_timeout_outcome_is_the_synthetic_outcome_of_spec_1_5() -> None:
    outcome = timeout_outcome("slow", 1.0)
    assert (
        ReplayOutcome(
            fixture_id="slow",
            elapsed_seconds=1.0,
            runtime_failure=ReplayRuntimeError("cell walltime exceeded: max 1s"),
        )
        == outcome
    )
    timeout = ReplayRuntimeError("cell walltime exceeded: max 1s")
    report = ReplayReport.from_outcome(outcome, [ReplayRuntimeFailed(timeout)])
    assert (False, 1000) == (report.passed, report.elapsed_ms)


def _replayed() -> ReplayOutcome:
    span = InferenceSpan(run_id="run-7", input_tokens=4, output_tokens=3)
    return ReplayOutcome(
        fixture_id="a",
        final_text="real text",
        metrics=AgentMetrics(inferences=(span,), session_duration_ms=42),
        elapsed_seconds=1.5,
        revision_count=2,
    )


def test_cell_error_outcome_sets_the_runtime_failure_and_reports_failed() -> None:
    outcome, failures = cell_error_outcome(_replayed(), Expectation(), "scoring failed: boom")
    error = ReplayRuntimeError("scoring failed: boom")
    assert [ReplayRuntimeFailed(error)] == failures
    assert attrs.evolve(_replayed(), runtime_failure=error) == outcome
    assert False is ReplayReport.from_outcome(outcome, failures).passed


def test_cell_error_outcome_preserves_the_real_outcome_data() -> None:
    outcome, _ = cell_error_outcome(_replayed(), Expectation(), "scoring failed: boom")
    assert ("real text", 7, 42, 1.5, 2, "run-7") == (
        outcome.final_text,
        outcome.total_tokens(),
        outcome.metrics.session_duration_ms,
        outcome.elapsed_seconds,
        outcome.revision_count,
        outcome.trace_run_id(),
    )


def test_cell_error_outcome_keeps_an_existing_runtime_failure_and_appends_its_own() -> None:
    budget = ReplayRuntimeError("token budget exceeded: 5 > max 1")
    replayed = attrs.evolve(_replayed(), runtime_failure=budget)
    outcome, failures = cell_error_outcome(
        replayed, Expectation(final_answer_contains=("absent",)), "scoring timed out"
    )
    assert replayed == outcome
    assert [
        AnswerMissingPhrase("absent"),
        ReplayRuntimeFailed(budget),
        ReplayRuntimeFailed(ReplayRuntimeError("scoring timed out")),
    ] == failures


# -- token budgets ------------------------------------------------------------------------


async def test_per_cell_token_budget_is_enforced() -> None:
    run = await run_eval(
        [live("a")],
        RunOptions(mode=LIVE, models=["m1"], max_total_tokens=1),
        models=[model("m1", CannedTextExecutor(["x"], usage=usage(5, prompt=3, completion=2)))],
    )
    assert ["token budget exceeded: 5 > max 1"] == messages(run)
    assert [False] == [item.report.passed for item in run.items]


@pytest.mark.parametrize("store", [None, "streaming"])
async def test_run_token_budget_stops_scheduling_and_skips_the_rest(store: str | None) -> None:
    ids = [f"f{index}" for index in range(10)]
    executor = CannedTextExecutor(["ok"], usage=usage(10))
    run = await run_eval(
        [live(fixture_id) for fixture_id in ids],
        RunOptions(mode=LIVE, models=["m1"], max_concurrency=1, run_token_budget=25),
        models=[model("m1", executor)],
        store=InMemoryRunStore() if store else None,
    )
    assert 3 == len(executor.requests)
    assert ids == [item.fixture_id for item in run.items]
    assert [True] * 3 + [False] * 7 == [item.report.passed for item in run.items]
    skipped = messages(run)[3:]
    assert [True] * 7 == [
        message is not None and message.startswith(SKIPPED_PREFIX) for message in skipped
    ]
    assert [None, None, None] == messages(run)[:3]
    assert [0] * 7 == [item.report.total_tokens for item in run.items[3:]]


async def test_run_token_budget_with_concurrency_keeps_every_unit() -> None:
    ids = [f"f{index:02d}" for index in range(20)]
    replayer = RecordingReplayer(tokens=10)
    run = await run_eval(
        [scripted(fixture_id) for fixture_id in ids],
        RunOptions(max_concurrency=4, run_token_budget=25),
        replayer=replayer,
    )
    assert ids == [item.fixture_id for item in run.items]
    ran = len(replayer.completed)
    assert [None] * ran == messages(run)[:ran]
    assert [True] * (len(ids) - ran) == [
        message is not None and message.startswith(SKIPPED_PREFIX)
        for message in messages(run)[ran:]
    ]
    assert 3 <= ran < len(ids)


async def test_unspent_run_token_budget_skips_nothing() -> None:
    run = await run_eval(
        [scripted(f"f{index}") for index in range(5)],
        RunOptions(max_concurrency=2, run_token_budget=10),
    )
    assert [True] * 5 == [item.report.passed for item in run.items]


# -- user code failures are data ----------------------------------------------------------


async def test_a_raising_replayer_fails_only_its_item() -> None:
    run = await run_eval(
        [scripted("a"), scripted("b", final_answer_contains=("fine",)), scripted("c")],
        replayer=RaisingReplayer({"b"}),
    )
    raised = ReplayRuntimeError("replayer raised ValueError: cannot replay b")
    assert [None, raised.message, None] == messages(run)
    assert [True, False, True] == [item.report.passed for item in run.items]
    assert (ReplayRuntimeFailed(raised),) == run.items[1].report.failures  # no phantom failures


class MalformedReplayer:
    """Returns ``None`` for fixture ``none`` and an outcome with a non-text answer otherwise."""

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        if fixture.id == "none":
            return None  # type: ignore[return-value]
        text: Any = 42
        return ReplayOutcome(fixture_id=fixture.id, final_text=text)


@pytest.mark.parametrize("mode", [EvalRunExecutionMode.SCRIPTED, LIVE])
async def test_a_malformed_outcome_fails_only_its_item(mode: EvalRunExecutionMode) -> None:
    models = [model("m1")] if mode is LIVE else []
    run = await run_eval(
        [
            scripted("none"),
            scripted("bad", final_answer_contains=("x",)),
            scripted("fine"),
        ],
        RunOptions(mode=mode, models=model_ids(models)),
        models=models,
        replayer=MalformedReplayer(),
    )
    assert [
        "replayer returned NoneType, not a ReplayOutcome",
        "scoring failed: TypeError: argument of type 'int' is not iterable",
        None,
    ] == messages(run)


async def test_an_executor_raising_a_non_inference_error_fails_only_its_item() -> None:
    run = await run_eval(
        [live("a", final_answer_contains=("ok",), min_judge_score=0.5)],
        RunOptions(mode=LIVE, models=["broken", "fine"], rubric=RUBRIC),
        models=[model("broken", CrashingExecutor()), model("fine")],
        judge=ScriptedJudge(),
    )
    raised = ReplayRuntimeError("replayer raised RuntimeError: connection pool exploded")
    assert [raised.message, None] == messages(run)
    assert (ReplayRuntimeFailed(raised),) == run.items[0].report.failures  # no phantom failures
    assert [None, 1.0] == [item.report.judge_score for item in run.items]


async def test_a_judge_raising_a_plain_exception_fails_only_its_item() -> None:
    run = await run_eval(
        [live("a", min_judge_score=0.5), live("b")],
        RunOptions(mode=LIVE, models=["m1"], rubric=RUBRIC),
        models=[model("m1")],
        judge=CrashingJudge(),
    )
    assert [
        "scoring failed: judge invocation failed: RuntimeError: judge process died",
        None,
    ] == messages(run)


async def test_a_failing_sink_never_fails_the_run() -> None:
    sink = CapturingSink(fail=True)
    run = await run_eval([scripted("a"), scripted("b")], sink=sink)
    assert [True, True] == [item.report.passed for item in run.items]
    assert [
        "eval_run_started",
        "eval_item_completed",
        "eval_item_completed",
        "eval_run_completed",
    ] == [event.kind for event in run_events(sink)]
    assert 2 == sink.kinds.count("span")


async def test_a_raising_progress_callback_never_fails_the_run() -> None:
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        msg = "progress bar crashed"
        raise RuntimeError(msg)

    run = await run_eval([scripted("a"), scripted("b"), scripted("c")], progress=progress)
    assert 3 == len(run.items)
    assert [1, 2, 3] == calls


# -- events and progress ------------------------------------------------------------------


@pytest.mark.parametrize("persisted", [False, True])
async def test_run_events_started_items_and_one_completed(persisted: bool) -> None:
    sink = CapturingSink()
    store = WriteOnlyStore() if persisted else None
    run = await run_eval(
        [scripted("a"), scripted("b", final_answer_contains=("nope",))],
        RunOptions(run_id="01J0RUNIDXYZ", dataset_id="ds", dataset_revision=3),
        sink=sink,
        store=store,
        clock=lambda: 100.0,
    )
    assert [
        RunStarted(
            eval_run_id="01J0RUNIDXYZ",
            dataset_id="ds",
            dataset_revision=3,
            mode=RunEventMode.DATASET_SCRIPTED,
            planned_item_count=2,
            started_at_secs=100,
        ),
        ItemCompleted(eval_run_id="01J0RUNIDXYZ", item=run.items[0], done=1, total=2),
        ItemCompleted(eval_run_id="01J0RUNIDXYZ", item=run.items[1], done=2, total=2),
        RunCompleted(
            eval_run_id="01J0RUNIDXYZ",
            dataset_id="ds",
            dataset_revision=3,
            mode=RunEventMode.DATASET_SCRIPTED,
            item_count=2,
            passed_count=1,
            failed_count=1,
            total_cost_usd=0.0,
            started_at_secs=100,
            ended_at_secs=100,
            persisted=persisted,
        ),
    ] == run_events(sink)


async def test_live_run_events_use_the_live_mode_and_link_traces() -> None:
    sink = CapturingSink()
    run = await run_eval(
        [live("a")], RunOptions(mode=LIVE, models=["m1"]), models=[model("m1")], sink=sink
    )
    started = sink.events[0]
    assert isinstance(started, RunStarted)
    assert RunEventMode.DATASET_LIVE_MATRIX == started.mode
    spans = [event.span for event in sink.events if isinstance(event, SpanRecorded)]
    assert [spans[0].run_id] == [item.trace_run_id for item in run.items]
    assert "" != spans[0].run_id


async def test_event_mode_can_be_overridden() -> None:
    sink = CapturingSink()
    await run_eval(
        [live("a")],
        RunOptions(mode=LIVE, models=["m1"], event_mode=RunEventMode.ONLINE_LIVE_MATRIX),
        models=[model("m1")],
        sink=sink,
    )
    modes = [
        event.mode
        for event in sink.events
        if isinstance(event, RunStarted | RunCompleted | RunFailed)
    ]
    assert [RunEventMode.ONLINE_LIVE_MATRIX] * 2 == modes


async def test_no_trace_link_without_a_sink() -> None:
    run = await run_eval([live("a")], RunOptions(mode=LIVE, models=["m1"]), models=[model("m1")])
    assert [None] == [item.trace_run_id for item in run.items]


async def test_progress_reports_done_and_total_monotonically() -> None:
    progress: list[tuple[int, int]] = []
    replayer = RecordingReplayer(delay=lambda key: 0.001 * (int(key.fixture_id[1:]) % 3))
    await run_eval(
        [scripted(f"f{index}") for index in range(12)],
        RunOptions(max_concurrency=3),
        replayer=replayer,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert [(done, 12) for done in range(1, 13)] == progress


async def test_cancelled_run_emits_exactly_one_run_failed() -> None:
    sink = CapturingSink()
    with anyio.CancelScope() as scope:

        def cancel_after_two(done: int, total: int) -> None:
            if done == 2:
                scope.cancel()

        await run_eval(
            [scripted(f"f{index}") for index in range(6)],
            RunOptions(max_concurrency=1, run_id="01J0RUNIDXYZ"),
            replayer=RecordingReplayer(),
            sink=sink,
            progress=cancel_after_two,
        )
    assert scope.cancelled_caught
    assert ["eval_run_failed"] == terminal_kinds(sink)
    failed = sink.events[-1]
    assert isinstance(failed, RunFailed)
    assert ("01J0RUNIDXYZ", "run cancelled") == (failed.eval_run_id, failed.error)


async def test_store_write_failure_emits_run_failed_and_raises() -> None:
    sink = CapturingSink()
    store = WriteOnlyStore(fail=True)
    with pytest.raises(StoreFailure, match="disk full"):
        await run_eval([scripted("a")], sink=sink, store=store)
    assert ["eval_run_failed"] == terminal_kinds(sink)
    failed = sink.events[-1]
    assert isinstance(failed, RunFailed)
    assert "StoreFailure: disk full" == failed.error


async def test_streaming_append_failure_emits_run_failed_and_raises_the_store_error() -> None:
    sink = CapturingSink()
    store = RecordingStore(fail_append=True)
    with pytest.raises(StoreFailure, match="append failed"):
        await run_eval([scripted(f"f{index}") for index in range(100)], sink=sink, store=store)
    assert ["eval_run_failed"] == terminal_kinds(sink)
    failed = sink.events[-1]
    assert isinstance(failed, RunFailed)
    assert "StoreFailure: append failed" == failed.error


# -- stores -------------------------------------------------------------------------------


async def test_a_plain_store_receives_the_whole_run_once_at_the_end() -> None:
    store = WriteOnlyStore()
    writes_seen: list[int] = []
    run = await run_eval(
        [scripted("a"), scripted("b")],
        store=store,
        progress=lambda done, total: writes_seen.append(store.writes),
    )
    assert [0, 0] == writes_seen
    assert 1 == store.writes
    assert run == await store.read(run.id)


async def test_a_large_streaming_run_is_appended_in_batches_in_order() -> None:
    store = RecordingStore()
    ids = [f"f{index:03d}" for index in range(150)]
    run = await run_eval([scripted(fixture_id) for fixture_id in ids], store=store)
    assert 2 <= len(store.appends)
    assert 150 == sum(len(batch) for batch in store.appends)
    assert ids == [item.fixture_id for item in run.items]
    assert run == await store.read(run.id)


async def test_streaming_store_rejects_duplicate_item_keys_and_keeps_its_items() -> None:
    store = InMemoryRunStore()
    assert frozenset() == await store.begin(header(run_id="01J0RUNIDXYZ", started_at_secs=0))
    await store.append("01J0RUNIDXYZ", (item(fixture_id="a"),))
    with pytest.raises(DuplicateItemKeys, match="fixture 'a'"):
        await store.append("01J0RUNIDXYZ", (item(fixture_id="b"), item(fixture_id="a")))
    with pytest.raises(DuplicateItemKeys, match="fixture 'b'"):
        await store.append("01J0RUNIDXYZ", (item(fixture_id="b"), item(fixture_id="b")))
    assert frozenset({ItemKey("a", None, None)}) == await store.present_keys("01J0RUNIDXYZ")
    await store.append("01J0RUNIDXYZ", (item(fixture_id="b"),))
    summary = await store.finish("01J0RUNIDXYZ", ended_at_secs=1)
    assert (2, 2) == (summary.item_count, summary.passed_count)
    run = await store.read("01J0RUNIDXYZ")
    assert ["a", "b"] == [item.fixture_id for item in run.items]


def _matrix() -> tuple[list[Fixture], list[ResolvedModel], int]:
    return [live("f1"), live("f2"), live("f3")], [model("m1"), model("m2")], 2


async def _uninterrupted_keys() -> list[ItemKey]:
    fixtures, models, samples = _matrix()
    run = await run_eval(
        fixtures,
        RunOptions(mode=LIVE, models=model_ids(models), samples=samples),
        models=models,
        replayer=RecordingReplayer(),
        store=InMemoryRunStore(),
    )
    return keys(run)


async def test_crash_and_resume_runs_only_the_missing_units() -> None:
    fixtures, models, samples = _matrix()
    store = InMemoryRunStore()
    replayer = RecordingReplayer(delay=lambda key: 0.001 * (key.sample_index or 0))
    sink = CapturingSink()
    options = RunOptions(mode=LIVE, models=model_ids(models), samples=samples, max_concurrency=3)
    with anyio.CancelScope() as scope:

        def crash_after_five(done: int, total: int) -> None:
            if done == 5:
                scope.cancel()

        await run_eval(
            fixtures,
            attrs.evolve(options, run_id="01J0RESUMEXY"),
            models=models,
            replayer=replayer,
            store=store,
            sink=sink,
            progress=crash_after_five,
        )
    assert scope.cancelled_caught
    present = await store.present_keys("01J0RESUMEXY")
    assert set(replayer.completed) == set(present)
    assert 5 <= len(present) < 12
    with pytest.raises(NotFound):
        await store.read("01J0RESUMEXY")

    first_completed = list(replayer.completed)
    replayer.completed.clear()
    progress: list[int] = []
    run = await run_eval(
        fixtures,
        attrs.evolve(options, resume="01J0RESUMEXY"),
        models=models,
        replayer=replayer,
        store=store,
        sink=sink,
        progress=lambda done, total: progress.append(done),
    )
    expected = await _uninterrupted_keys()
    assert expected == keys(run)
    assert set(expected) - set(present) == set(replayer.completed)
    assert dict.fromkeys(expected, 1) == Counter(first_completed + replayer.completed)
    assert list(range(len(present), 13)) == progress
    assert "01J0RESUMEXY" == run.id
    assert run == await store.read("01J0RESUMEXY")
    assert ["eval_run_failed", "eval_run_completed"] == terminal_kinds(sink)


async def test_cancellation_during_a_batch_append_loses_no_finished_item() -> None:
    # A replay that never yields: the cancellation is delivered at the store append.
    store = InMemoryRunStore()
    replayer = RecordingReplayer(yields=False)
    fixtures = [scripted(f"f{index:03d}") for index in range(100)]
    with anyio.CancelScope() as scope:

        def cancel(done: int, total: int) -> None:
            if done == 63:
                scope.cancel()

        await run_eval(
            fixtures,
            RunOptions(run_id="01J0RESUMEXY", max_concurrency=1),
            replayer=replayer,
            store=store,
            progress=cancel,
        )
    assert scope.cancelled_caught
    assert set(replayer.completed) == set(await store.present_keys("01J0RESUMEXY"))
    run = await run_eval(
        fixtures, RunOptions(resume="01J0RESUMEXY"), replayer=replayer, store=store
    )
    assert [f"f{index:03d}" for index in range(100)] == [item.fixture_id for item in run.items]
    assert [1] * 100 == list(Counter(replayer.completed).values())


async def test_resume_of_a_run_that_never_started_runs_everything() -> None:
    store = InMemoryRunStore()
    replayer = RecordingReplayer()
    run = await run_eval(
        [scripted("a"), scripted("b")],
        RunOptions(resume="01J0RESUMEXY"),
        replayer=replayer,
        store=store,
    )
    assert (["a", "b"], "01J0RESUMEXY") == ([item.fixture_id for item in run.items], run.id)
    assert 2 == len(replayer.completed)


async def _interrupted(store: InMemoryRunStore, fixtures: list[Fixture]) -> None:
    with anyio.CancelScope() as scope:

        def cancel(done: int, total: int) -> None:
            if done == 1:
                scope.cancel()

        await run_eval(
            fixtures,
            RunOptions(run_id="01J0RESUMEXY", max_concurrency=1),
            replayer=RecordingReplayer(),
            store=store,
            progress=cancel,
        )
    assert scope.cancelled_caught


async def test_an_interrupted_run_is_only_continued_with_resume() -> None:
    store = InMemoryRunStore()
    fixtures = [scripted("a"), scripted("b"), scripted("c")]
    await _interrupted(store, fixtures)
    replayer = RecordingReplayer()
    with pytest.raises(Conflict, match="already open"):
        await run_eval(fixtures, RunOptions(run_id="01J0RESUMEXY"), replayer=replayer, store=store)
    with pytest.raises(Conflict, match="another dataset"):
        await run_eval(
            fixtures,
            RunOptions(resume="01J0RESUMEXY", dataset_id="other"),
            replayer=replayer,
            store=store,
        )
    assert [] == replayer.started
    run = await run_eval(
        fixtures, RunOptions(resume="01J0RESUMEXY"), replayer=replayer, store=store
    )
    assert ["a", "b", "c"] == [item.fixture_id for item in run.items]


async def test_a_finished_run_cannot_be_resumed() -> None:
    store = InMemoryRunStore()
    await run_eval([scripted("a")], RunOptions(run_id="01J0RESUMEXY"), store=store)
    replayer = RecordingReplayer()
    sink = CapturingSink()
    with pytest.raises(AlreadyExists):
        await run_eval(
            [scripted("a")],
            RunOptions(resume="01J0RESUMEXY"),
            replayer=replayer,
            sink=sink,
            store=store,
        )
    assert ([], []) == (replayer.started, sink.events)


async def test_run_ids_are_fresh_and_valid_by_default() -> None:
    first = await run_eval([scripted("a")])
    second = await run_eval([scripted("a")])
    assert 26 == len(first.id)
    assert first.id != second.id


async def test_an_empty_run_completes() -> None:
    sink = CapturingSink()
    run = await run_eval([], sink=sink)
    assert () == run.items
    assert ["eval_run_started", "eval_run_completed"] == sink.kinds


# -- the sync facade ----------------------------------------------------------------------


class BackendRecordingReplayer:
    def __init__(self) -> None:
        self.backends: list[str] = []

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        self.backends.append(sniffio.current_async_library())
        await anyio.lowlevel.checkpoint()
        return ReplayOutcome(fixture_id=fixture.id, final_text="sync ok")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_run_eval_sync_runs_on_the_requested_backend(backend: str) -> None:
    replayer = BackendRecordingReplayer()
    run = run_eval_sync(
        [scripted("a"), scripted("b")],
        RunOptions(max_concurrency=2),
        backend=backend,
        replayer=replayer,
    )
    assert [("a", "sync ok"), ("b", "sync ok")] == [
        (item.fixture_id, item.report.final_text) for item in run.items
    ]
    assert [backend, backend] == replayer.backends


def test_run_eval_sync_with_the_default_replayer() -> None:
    run = run_eval_sync([scripted("a")], backend="trio")
    assert [True] == [item.report.passed for item in run.items]


def test_run_eval_sync_validates_like_run_eval() -> None:
    with pytest.raises(InvalidRequest, match="duplicate fixture id: a"):
        run_eval_sync([scripted("a"), scripted("a")])


# -- a sequence of fixtures is enough -----------------------------------------------------


async def test_fixtures_may_be_any_sequence() -> None:
    fixtures: Sequence[Fixture] = (scripted("a"), scripted("b"))
    run = await run_eval(fixtures)
    assert ["a", "b"] == [item.fixture_id for item in run.items]


@pytest.mark.anyio
async def test_precomputed_digests_are_recorded_as_given() -> None:
    fixtures = [scripted("a"), scripted("b")]
    computed = await run_eval(fixtures)
    assert fixture_digests(fixtures) == computed.fixture_digests
    given = {"a": "digest-a", "b": "digest-b"}
    run = await run_eval(fixtures, digests=given)
    assert given == run.fixture_digests


def test_run_eval_sync_never_builds_the_repr_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # asyncio's runner formats a task's return value on shutdown; for a million-item run
    # that repr alone takes about a gigabyte.
    calls: list[str] = []

    def counting_repr(self: EvalRun) -> str:
        calls.append(self.id)
        return "EvalRun(...)"

    monkeypatch.setattr(EvalRun, "__repr__", counting_repr)
    for backend in ("asyncio", "trio"):
        run_eval_sync([scripted("a")], backend=backend)
    assert [] == calls


@pytest.mark.anyio
async def test_memory_store_puts_unlisted_items_after_every_listed_one() -> None:
    # A key listed twice takes its last position; unlisted items still come last.
    store = InMemoryRunStore()
    run_id = "01J0ORDER00000000000000000"
    await store.begin(header(run_id=run_id, started_at_secs=0))
    await store.append(run_id, (item(fixture_id="c"), item(fixture_id="a"), item(fixture_id="b")))
    order = [ItemKey("a", None, None), ItemKey("a", None, None), ItemKey("b", None, None)]
    await store.finish(run_id, ended_at_secs=1, item_order=order)
    run = await store.read(run_id)
    assert ["a", "b", "c"] == [item.fixture_id for item in run.items]
