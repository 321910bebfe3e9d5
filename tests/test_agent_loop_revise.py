"""The live agent loop's revise-and-retry loop and tool-result recording edge cases."""

from __future__ import annotations

import pytest

from awaken_eval import (
    AgentLoopReplayer,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InferenceError,
    InferenceErrorKind,
    InferenceRequest,
    InferenceResult,
    JudgeError,
    ReplayContext,
    ToolCall,
)
from awaken_eval._engine.judging import revise_config_for
from awaken_eval.errors import JudgeErrorKind
from awaken_eval.records import JudgeAttempt, MessageRole
from awaken_eval.testing import CannedTextExecutor, ScriptedJudge

pytestmark = pytest.mark.anyio


def judged_fixture(threshold: float = 0.8) -> Fixture:
    return Fixture("q", "Explain X.", expect=Expectation(min_judge_score=threshold))


def live_context(executor: object, judge: ScriptedJudge, retries: int) -> ReplayContext:
    revise = revise_config_for(
        judged_fixture(), judge=judge, rubric="be right", revise_max_retries=retries
    )
    return ReplayContext(
        mode=EvalRunExecutionMode.LIVE,
        executor=executor,  # type: ignore[arg-type]
        upstream_model="m",
        revise=revise,
    )


async def test_revise_loop_recovers_on_first_retry() -> None:
    executor = CannedTextExecutor(["v1", "v2"])
    judge = ScriptedJudge([0.3, 0.9])
    outcome = await AgentLoopReplayer().replay(judged_fixture(), live_context(executor, judge, 2))
    assert "v2" == outcome.final_text
    assert 1 == outcome.revision_count
    assert 0.9 == outcome.judge_score
    assert (
        JudgeAttempt(revision=0, score=0.3, reasoning="scripted"),
        JudgeAttempt(revision=1, score=0.9, reasoning="scripted"),
    ) == outcome.judge_attempts
    assert 2 == judge.calls
    # the revision was sent on the same thread: the second request carries the history
    second = executor.requests[1]
    assert [MessageRole.USER, MessageRole.ASSISTANT, MessageRole.USER] == [
        message.role for message in second.messages
    ]
    assert "0.30" in second.messages[-1].content
    assert "0.80" in second.messages[-1].content


async def test_revise_loop_skipped_when_first_answer_clears_threshold() -> None:
    executor = CannedTextExecutor(["v1"])
    judge = ScriptedJudge([0.95])
    outcome = await AgentLoopReplayer().replay(judged_fixture(), live_context(executor, judge, 2))
    assert (0, 1, 1) == (outcome.revision_count, judge.calls, len(outcome.judge_attempts))
    assert "v1" == outcome.final_text


async def test_revise_loop_exhausts_retries_keeping_last_score() -> None:
    executor = CannedTextExecutor(["v0", "v1", "v2"])
    judge = ScriptedJudge([0.1, 0.2, 0.4])
    outcome = await AgentLoopReplayer().replay(judged_fixture(), live_context(executor, judge, 2))
    assert ("v2", 2, 0.4, 3) == (
        outcome.final_text,
        outcome.revision_count,
        outcome.judge_score,
        judge.calls,
    )


async def test_revise_loop_judge_error_after_revision_clears_stale_score() -> None:
    executor = CannedTextExecutor(["v0", "v1"])
    judge = ScriptedJudge([0.1, JudgeError(JudgeErrorKind.PARSE, "garbage")])
    outcome = await AgentLoopReplayer().replay(judged_fixture(), live_context(executor, judge, 2))
    assert ("v1", 1, None, None) == (
        outcome.final_text,
        outcome.revision_count,
        outcome.judge_score,
        outcome.judge_reasoning,
    )


class FailSecondCall:
    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.calls += 1
        if self.calls == 2:
            raise InferenceError(InferenceErrorKind.OVERLOADED, "busy")
        return InferenceResult(text="v0")


async def test_failed_revision_empties_text_and_keeps_the_error() -> None:
    judge = ScriptedJudge([0.1])
    outcome = await AgentLoopReplayer().replay(
        judged_fixture(), live_context(FailSecondCall(), judge, 2)
    )
    assert "" == outcome.final_text
    assert "overloaded" == outcome.error_type
    assert outcome.runtime_failure is not None
    assert "busy" in str(outcome.runtime_failure)


async def test_revise_loop_not_run_without_revise_config() -> None:
    executor = CannedTextExecutor(["v1"])
    context = ReplayContext(mode=EvalRunExecutionMode.LIVE, executor=executor, upstream_model="m")
    outcome = await AgentLoopReplayer().replay(judged_fixture(), context)
    assert (None, (), 0) == (outcome.judge_score, outcome.judge_attempts, outcome.revision_count)


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class ToolThenAnswer:
    def __init__(self) -> None:
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.requests.append(request)
        if len(self.requests) == 1:
            return InferenceResult(tool_calls=(ToolCall("c1", "make", {}),))
        return InferenceResult(text="done")


async def test_non_json_tool_result_is_recorded_as_its_repr() -> None:
    def make() -> Opaque:
        return Opaque()

    executor = ToolThenAnswer()
    context = ReplayContext(mode=EvalRunExecutionMode.LIVE, executor=executor, upstream_model="m")
    outcome = await AgentLoopReplayer(tools=[make]).replay(Fixture("t", "go"), context)
    assert "<opaque>" == outcome.metrics.tools[0].call_result
    assert "<opaque>" == executor.requests[1].messages[-1].content
