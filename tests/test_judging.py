"""Judging: score parsing, ExecutorJudge, score_with_judge and the revise loop.

Spec §2.14 (parse_score_payload, revise tuple), §3.1.3 step 6, §3.2, §7.5 and §8.1 items
11, 19, 21. The TensorZero HTTP judge of the reference is not part of this library, so
the §7.5 items about its config, URLs, payload and ``first_choice_content`` have no
counterpart here; their executor-backed equivalents are tested instead.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awaken_eval import (
    DialogueTurn,
    ExecutorJudge,
    Expectation,
    Fixture,
    InferenceError,
    InferenceErrorKind,
    Judge,
    JudgeError,
    JudgeRequest,
    JudgeResult,
)
from awaken_eval._engine.judging import (
    NO_REASONING_PLACEHOLDER,
    grading_messages,
    judge_request_for,
    revise_config_for,
    revision_message,
)
from awaken_eval.engine import (
    DEFAULT_GRADER_PROMPT,
    ParsedScore,
    ReviseOutcome,
    RevisionAnswer,
    parse_score_payload,
    revise_until_passing,
    score_with_judge,
)
from awaken_eval.errors import JudgeErrorKind
from awaken_eval.evaluation import EvaluationCriterion, ExpectedOutcome
from awaken_eval.failures import (
    AnswerMissingPhrase,
    JudgeBelowThreshold,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
)
from awaken_eval.records import CriterionVerdict, JudgeAttempt, MessageRole, ReviseConfig
from awaken_eval.testing import (
    CannedTextExecutor,
    EmptyResultExecutor,
    ExplodingJudge,
    FailingExecutor,
    ScriptedJudge,
)
from builders import fixture
from builders import outcome as make_outcome
from strategies import finite_floats

# -- parse_score_payload ------------------------------------------------------------------


def test_parse_score_accepts_bare_json_object() -> None:
    assert parse_score_payload('{"score": 0.8, "reasoning": "good"}') == ParsedScore(
        score=0.8, reasoning="good"
    )


@pytest.mark.parametrize("fence", ["```json", "```"])
def test_parse_score_accepts_code_fenced_object(fence: str) -> None:
    content = f'{fence}\n{{"score": 0.6, "reasoning": "fine"}}\n```'
    assert parse_score_payload(content) == ParsedScore(score=0.6, reasoning="fine")


def test_parse_score_accepts_unfenced_with_surrounding_whitespace() -> None:
    assert parse_score_payload('  \n\t{"score": 0.25}\n  ') == ParsedScore(score=0.25)


@pytest.mark.parametrize(
    "content", ["", "garbage", "score: 0.9", "{not json}", "```json\nnope\n```", "[0.9]", "0.9"]
)
def test_parse_score_returns_none_for_garbage(content: str) -> None:
    assert parse_score_payload(content) is None


def test_parse_score_returns_none_when_score_field_missing() -> None:
    assert parse_score_payload('{"reasoning": "no score"}') is None


@pytest.mark.parametrize(
    "content",
    [
        'Here is my grade: {"score": 0.7, "reasoning": "ok"} Hope that helps.',
        'Sure!\n```json\n{"score": 0.7, "reasoning": "ok"}\n```\nDone.',
        'Thinking {about it} first... then {"score": 0.7, "reasoning": "ok"}',
        '{"note": "a first object without score"} and {"score": 0.7, "reasoning": "ok"}',
    ],
)
def test_parse_score_finds_an_object_embedded_in_prose(content: str) -> None:
    assert parse_score_payload(content) == ParsedScore(score=0.7, reasoning="ok")


def test_parse_score_takes_the_first_scored_object_in_prose() -> None:
    content = 'first {"score": 0.1} then {"score": 0.9}'
    assert parse_score_payload(content) == ParsedScore(score=0.1)


def test_parse_score_never_takes_a_nested_score_for_the_overall_score() -> None:
    content = '{"criteria": [{"criterion_id": "a", "score": 1.0}]}'
    assert parse_score_payload(content) is None


@pytest.mark.parametrize("value", ["true", "false", '"0.9"', "null", "[0.9]", '{"v": 1}'])
def test_parse_score_rejects_non_numeric_scores(value: str) -> None:
    assert parse_score_payload(f'{{"score": {value}}}') is None


def test_parse_score_accepts_integer_scores_as_floats() -> None:
    parsed = parse_score_payload('{"score": 1}')
    assert parsed == ParsedScore(score=1.0)
    assert parsed is not None
    assert isinstance(parsed.score, float)


def test_parse_score_ignores_extra_keys_and_non_string_reasoning() -> None:
    assert parse_score_payload('{"score": 0.5, "reasoning": 3, "extra": [1, 2]}') == ParsedScore(
        score=0.5
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"score": 1e999}', math.inf),
        ('{"score": -1e999}', -math.inf),
        ('{"score": Infinity}', math.inf),
        ('{"score": ' + "9" * 400 + "}", math.inf),
        ('{"score": -' + "9" * 400 + "}", -math.inf),
    ],
)
def test_parse_score_reports_non_finite_scores(content: str, expected: float) -> None:
    parsed = parse_score_payload(content)
    assert parsed is not None
    assert parsed.score == expected
    assert not parsed.is_finite


def test_parse_score_reports_nan_scores() -> None:
    parsed = parse_score_payload('{"score": NaN}')
    assert parsed is not None
    assert math.isnan(parsed.score)
    assert not parsed.is_finite


def test_parse_score_parses_criteria() -> None:
    content = json.dumps(
        {
            "score": 0.5,
            "reasoning": "mixed",
            "criteria": [
                {"criterion_id": "a", "score": 1, "reasoning": "done"},
                {"criterion_id": "b", "score": 0.2},
                {"criterion_id": "a", "score": 0.0},  # duplicate: first one wins
                {"criterion_id": "c"},  # no score: skipped
                {"score": 0.3},  # no id: skipped
                {"criterion_id": "d", "score": True},  # bool: skipped
                "not an object",
            ],
        }
    )
    assert parse_score_payload(content) == ParsedScore(
        score=0.5,
        reasoning="mixed",
        criteria=(
            CriterionVerdict(criterion_id="a", score=1.0, reasoning="done"),
            CriterionVerdict(criterion_id="b", score=0.2),
        ),
    )


def test_parse_score_ignores_criteria_that_are_not_a_list() -> None:
    assert parse_score_payload('{"score": 0.5, "criteria": {"a": 1}}') == ParsedScore(score=0.5)


def test_parse_score_non_finite_criterion_is_reported() -> None:
    parsed = parse_score_payload(
        '{"score": 0.5, "criteria": [{"criterion_id": "a", "score": 1e999}]}'
    )
    assert parsed is not None
    assert not parsed.is_finite


@pytest.mark.parametrize("content", ["{" * 100_000, "[" * 100_000, '{"score":' * 50_000])
def test_parse_score_survives_pathological_input(content: str) -> None:
    assert parse_score_payload(content) is None


@given(st.text())
def test_parse_score_never_raises(content: str) -> None:
    parsed = parse_score_payload(content)
    assert parsed is None or isinstance(parsed, ParsedScore)


@given(
    finite_floats(),
    st.none() | st.text(),
    st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20),
)
def test_parse_score_round_trips_a_json_object_in_prose(
    value: float, reasoning: str | None, prose: str
) -> None:
    payload: dict[str, object] = {"score": value}
    if reasoning is not None:
        payload["reasoning"] = reasoning
    content = f"{prose} {json.dumps(payload)} {prose}"
    assert parse_score_payload(content) == ParsedScore(score=value, reasoning=reasoning)


# -- grading conversation -----------------------------------------------------------------


def _request(**fields: object) -> JudgeRequest:
    values: dict[str, object] = {
        "fixture_id": "fx",
        "user_prompt": "What is 2+2?",
        "answer": "4",
    }
    values.update(fields)
    return JudgeRequest(**values)  # type: ignore[arg-type]


def test_grading_messages_without_rubric() -> None:
    system, messages = grading_messages(_request(), system_prompt=DEFAULT_GRADER_PROMPT)
    assert system == DEFAULT_GRADER_PROMPT
    assert [message.role for message in messages] == [
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.USER,
    ]
    assert messages[0].content == "What is 2+2?"
    assert messages[1].content == "4"
    instruction = messages[2].content
    assert "original user request" in instruction
    assert instruction.endswith("Answer with the JSON object only.")
    assert "rubric" not in instruction
    assert "criteria" not in instruction


def test_grading_messages_with_rubric_puts_the_rubric_on_the_following_line() -> None:
    _, messages = grading_messages(
        _request(rubric="Must say four."), system_prompt=DEFAULT_GRADER_PROMPT
    )
    lines = messages[2].content.splitlines()
    assert "rubric" in lines[0]
    assert lines[1] == "Must say four."
    assert lines[-1] == "Answer with the JSON object only."


def test_grading_messages_use_the_given_system_prompt() -> None:
    system, _ = grading_messages(_request(), system_prompt="Be strict.")
    assert system == "Be strict."


def test_default_grader_prompt_asks_for_a_json_score_and_reasoning() -> None:
    assert "grader" in DEFAULT_GRADER_PROMPT
    assert '"score"' in DEFAULT_GRADER_PROMPT
    assert "0.0" in DEFAULT_GRADER_PROMPT
    assert "1.0" in DEFAULT_GRADER_PROMPT
    assert '"reasoning"' in DEFAULT_GRADER_PROMPT
    assert "single JSON object" in DEFAULT_GRADER_PROMPT


def _expected() -> ExpectedOutcome:
    return (
        ExpectedOutcome("the sum is stated")
        .with_criterion(EvaluationCriterion("criterion.correct", "says four").with_weight("2"))
        .with_criterion(EvaluationCriterion("criterion.brief", "one line").with_weight("1"))
    )


def test_grading_messages_list_the_criteria_of_an_expected_outcome() -> None:
    _, messages = grading_messages(
        _request(expected_outcome=_expected()), system_prompt=DEFAULT_GRADER_PROMPT
    )
    instruction = messages[2].content
    assert "Expected outcome: the sum is stated" in instruction
    assert "- criterion.correct: says four" in instruction
    assert "- criterion.brief: one line" in instruction
    assert '"criteria"' in instruction
    assert '"criterion_id"' in instruction
    assert instruction.endswith("Answer with the JSON object only.")


# -- ExecutorJudge ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_llm_executor_judge_returns_parsed_score() -> None:
    executor = CannedTextExecutor(['{"score": 0.8, "reasoning": "right"}'])
    judge = ExecutorJudge(executor, model="grader-model")
    result = await judge.grade(_request())
    assert result == JudgeResult(score=0.8, reasoning="right")
    assert result.inference_id is None
    assert isinstance(judge, Judge)


@pytest.mark.anyio
async def test_llm_executor_judge_sends_one_grading_request_without_tools() -> None:
    executor = CannedTextExecutor(['{"score": 0.8}'])
    await ExecutorJudge(executor, model="grader-model").grade(_request(rubric="Be exact."))
    (request,) = executor.requests
    assert request.model == "grader-model"
    assert request.system == DEFAULT_GRADER_PROMPT
    assert request.tools == ()
    _, messages = grading_messages(
        _request(rubric="Be exact."), system_prompt=DEFAULT_GRADER_PROMPT
    )
    assert request.messages == messages
    assert "Be exact." in request.messages[-1].content


@pytest.mark.anyio
async def test_llm_executor_judge_uses_custom_system_prompt_when_set() -> None:
    executor = CannedTextExecutor(['{"score": 0.8}'])
    await ExecutorJudge(executor, model="m", system_prompt="Grade harshly.").grade(_request())
    assert executor.requests[0].system == "Grade harshly."


@pytest.mark.anyio
async def test_llm_executor_judge_parses_code_fenced_score() -> None:
    executor = CannedTextExecutor(['```json\n{"score": 0.4, "reasoning": "meh"}\n```'])
    result = await ExecutorJudge(executor, model="m").grade(_request())
    assert result == JudgeResult(score=0.4, reasoning="meh")


@pytest.mark.anyio
@pytest.mark.parametrize(("raw", "clamped"), [("1.5", 1.0), ("-0.2", 0.0), ("1", 1.0)])
async def test_llm_executor_judge_clamps_score_to_unit_interval(raw: str, clamped: float) -> None:
    executor = CannedTextExecutor([f'{{"score": {raw}}}'])
    result = await ExecutorJudge(executor, model="m").grade(_request())
    assert result.score == clamped


@pytest.mark.anyio
async def test_llm_executor_judge_garbage_returns_parse_error() -> None:
    executor = CannedTextExecutor(["I cannot grade this."])
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(executor, model="m").grade(_request())
    assert caught.value.kind is JudgeErrorKind.PARSE
    assert caught.value.message == "I cannot grade this."


@pytest.mark.anyio
async def test_llm_executor_judge_empty_result_is_a_parse_error() -> None:
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(EmptyResultExecutor(), model="m").grade(_request())
    assert caught.value.kind is JudgeErrorKind.PARSE


@pytest.mark.anyio
async def test_llm_executor_judge_executor_error_is_an_executor_error_not_a_parse_error() -> None:
    executor = FailingExecutor(InferenceErrorKind.RATE_LIMITED, message="slow down")
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(executor, model="m").grade(_request())
    error = caught.value
    assert error.kind is JudgeErrorKind.EXECUTOR
    assert "rate_limited" in error.message
    assert "slow down" in error.message
    assert "JSON" not in error.message
    assert isinstance(error.__cause__, InferenceError)


@pytest.mark.anyio
@pytest.mark.parametrize("raw", ["1e999", "-1e999", "NaN", "Infinity"])
async def test_llm_executor_judge_rejects_non_finite_scores(raw: str) -> None:
    executor = CannedTextExecutor([f'{{"score": {raw}}}'])
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(executor, model="m").grade(_request())
    assert caught.value.kind is JudgeErrorKind.NON_FINITE_SCORE


def _criteria_reply(*verdicts: tuple[str, object], score: float = 0.5) -> str:
    return json.dumps(
        {
            "score": score,
            "reasoning": "overall",
            "criteria": [
                {"criterion_id": criterion_id, "score": value, "reasoning": f"on {criterion_id}"}
                for criterion_id, value in verdicts
            ],
        }
    )


@pytest.mark.anyio
async def test_llm_executor_judge_scores_criteria_with_a_weighted_mean() -> None:
    reply = _criteria_reply(
        ("criterion.brief", 0.4), ("unknown", 0.0), ("criterion.correct", 1.0), score=0.1
    )
    executor = CannedTextExecutor([reply])
    result = await ExecutorJudge(executor, model="m").grade(_request(expected_outcome=_expected()))
    assert result.score == pytest.approx((2 * 1.0 + 1 * 0.4) / 3)
    assert result.reasoning == "overall"
    assert result.verdicts == (
        CriterionVerdict(
            criterion_id="criterion.correct", score=1.0, reasoning="on criterion.correct"
        ),
        CriterionVerdict(criterion_id="criterion.brief", score=0.4, reasoning="on criterion.brief"),
    )
    assert "criterion.correct" in executor.requests[0].messages[-1].content


@pytest.mark.anyio
async def test_llm_executor_judge_clamps_criterion_scores() -> None:
    reply = _criteria_reply(("criterion.correct", 1.5), ("criterion.brief", -1))
    result = await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
        _request(expected_outcome=_expected())
    )
    assert [verdict.score for verdict in result.verdicts] == [1.0, 0.0]
    assert result.score == pytest.approx(2 / 3)


@pytest.mark.anyio
async def test_llm_executor_judge_uses_the_plain_mean_when_every_weight_is_zero() -> None:
    expected = (
        ExpectedOutcome("x")
        .with_criterion(EvaluationCriterion("a", "first").with_weight("0"))
        .with_criterion(EvaluationCriterion("b", "second").with_weight("0"))
    )
    reply = _criteria_reply(("a", 1.0), ("b", 0.5))
    result = await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
        _request(expected_outcome=expected)
    )
    assert result.score == pytest.approx(0.75)


@pytest.mark.anyio
async def test_llm_executor_judge_weights_default_to_one() -> None:
    expected = (
        ExpectedOutcome("x")
        .with_criterion(EvaluationCriterion("a", "first"))
        .with_criterion(EvaluationCriterion("b", "second").with_weight("0"))
        .with_criterion(EvaluationCriterion("c", "third"))
    )
    reply = _criteria_reply(("a", 1.0), ("b", 1.0), ("c", 0.0))
    result = await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
        _request(expected_outcome=expected)
    )
    assert result.score == pytest.approx(0.5)


@pytest.mark.anyio
async def test_llm_executor_judge_missing_criterion_verdicts_are_a_parse_error() -> None:
    reply = _criteria_reply(("criterion.correct", 1.0))
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
            _request(expected_outcome=_expected())
        )
    assert caught.value.kind is JudgeErrorKind.PARSE
    assert "'criterion.brief'" in caught.value.message
    assert "'criterion.correct'" not in caught.value.message.split(" in judge response")[0]


@pytest.mark.anyio
async def test_llm_executor_judge_non_finite_criterion_score_is_rejected() -> None:
    reply = (
        '{"score": 0.5, "criteria": [{"criterion_id": "criterion.correct", "score": 1e999},'
        ' {"criterion_id": "criterion.brief", "score": 1}]}'
    )
    with pytest.raises(JudgeError) as caught:
        await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
            _request(expected_outcome=_expected())
        )
    assert caught.value.kind is JudgeErrorKind.NON_FINITE_SCORE
    assert "criterion.correct" in caught.value.message


@pytest.mark.anyio
async def test_llm_executor_judge_ignores_a_non_finite_unknown_criterion() -> None:
    reply = (
        '{"score": 0.5, "criteria": [{"criterion_id": "criterion.correct", "score": 1},'
        ' {"criterion_id": "criterion.brief", "score": 1}, {"criterion_id": "x", "score": 1e999}]}'
    )
    result = await ExecutorJudge(CannedTextExecutor([reply]), model="m").grade(
        _request(expected_outcome=_expected())
    )
    assert result.score == 1.0


@pytest.mark.anyio
async def test_llm_executor_judge_outcome_without_criteria_uses_the_overall_score() -> None:
    executor = CannedTextExecutor(['{"score": 0.3}'])
    result = await ExecutorJudge(executor, model="m").grade(
        _request(expected_outcome=ExpectedOutcome("just do it"))
    )
    assert result == JudgeResult(score=0.3)
    instruction = executor.requests[0].messages[-1].content
    assert "Expected outcome: just do it" in instruction
    assert '"criteria"' not in instruction


# -- score_with_judge ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_score_with_judge_serves_cached_score_and_reasoning() -> None:
    outcome = make_outcome(judge_score=0.9, judge_reasoning="cached", final_text="the answer is 4")
    failures, result = await score_with_judge(
        outcome,
        Expectation(min_judge_score=0.7),
        user_prompt="q",
        rubric=None,
        judge=ExplodingJudge(),
    )
    assert failures == []
    assert result == JudgeResult(score=0.9, reasoning="cached")
    assert result.inference_id is None


@pytest.mark.anyio
async def test_score_with_judge_cached_score_below_threshold_fails_without_calling() -> None:
    failures, result = await score_with_judge(
        make_outcome(judge_score=0.2, final_text="the answer is 4"),
        Expectation(min_judge_score=0.7),
        user_prompt="q",
        rubric=None,
        judge=ExplodingJudge(),
    )
    assert failures == [JudgeBelowThreshold(0.7, 0.2)]
    assert result == JudgeResult(score=0.2)


@pytest.mark.anyio
async def test_score_with_judge_skips_judge_when_threshold_unset() -> None:
    failures, result = await score_with_judge(
        make_outcome(final_text="the answer is 4"),
        Expectation(final_answer_contains=("5",)),
        user_prompt="q",
        rubric=None,
        judge=ExplodingJudge(),
    )
    assert failures == [AnswerMissingPhrase("5")]
    assert result is None


@pytest.mark.anyio
async def test_score_with_judge_passes_when_score_meets_threshold() -> None:
    judge = ScriptedJudge([0.7])
    failures, result = await score_with_judge(
        make_outcome(fixture_id="fx", final_text="the answer is 4"),
        Expectation(min_judge_score=0.7),
        user_prompt="What is 2+2?",
        rubric="exact",
        judge=judge,
        expected_outcome=_expected(),
    )
    assert failures == []
    assert result == JudgeResult(score=0.7, reasoning="scripted")
    assert judge.requests == [
        JudgeRequest(
            fixture_id="fx",
            user_prompt="What is 2+2?",
            answer="the answer is 4",
            rubric="exact",
            expected_outcome=_expected(),
        )
    ]


@pytest.mark.anyio
async def test_score_with_judge_fails_when_score_below_threshold() -> None:
    failures, result = await score_with_judge(
        make_outcome(final_text="the answer is 4"),
        Expectation(min_judge_score=0.7),
        user_prompt="q",
        rubric=None,
        judge=ScriptedJudge([0.5]),
    )
    assert failures == [JudgeBelowThreshold(0.7, 0.5)]
    assert result == JudgeResult(score=0.5, reasoning="scripted")


@pytest.mark.anyio
async def test_score_with_judge_combines_pure_failures_with_judge_failure() -> None:
    failures, _ = await score_with_judge(
        make_outcome(final_text="the answer is 4"),
        Expectation(final_answer_contains=("five",), min_judge_score=0.7),
        user_prompt="q",
        rubric=None,
        judge=ScriptedJudge([0.1]),
    )
    assert failures == [AnswerMissingPhrase("five"), JudgeBelowThreshold(0.7, 0.1)]


@pytest.mark.anyio
async def test_score_with_judge_orders_the_judge_failure_before_the_runtime_failure() -> None:
    runtime = ReplayRuntimeError("boom")
    failures, _ = await score_with_judge(
        make_outcome(runtime_failure=runtime, final_text="the answer is 4"),
        Expectation(final_answer_contains=("five",), min_judge_score=0.7),
        user_prompt="q",
        rubric=None,
        judge=ScriptedJudge([0.1]),
    )
    assert failures == [
        AnswerMissingPhrase("five"),
        JudgeBelowThreshold(0.7, 0.1),
        ReplayRuntimeFailed(runtime),
    ]


@pytest.mark.anyio
async def test_score_with_judge_propagates_a_judge_error() -> None:
    error = JudgeError(JudgeErrorKind.PARSE, "nope")
    with pytest.raises(JudgeError) as caught:
        await score_with_judge(
            make_outcome(final_text="the answer is 4"),
            Expectation(min_judge_score=0.7),
            user_prompt="q",
            rubric=None,
            judge=ScriptedJudge([error]),
        )
    assert caught.value is error


@pytest.mark.anyio
async def test_score_with_judge_over_an_executor_judge() -> None:
    judge = ExecutorJudge(CannedTextExecutor(['```json\n{"score": 2}\n```']), model="m")
    failures, result = await score_with_judge(
        make_outcome(final_text="the answer is 4"),
        Expectation(min_judge_score=1.0),
        user_prompt="q",
        judge=judge,
    )
    assert failures == []
    assert result == JudgeResult(score=1.0)


# -- revise loop --------------------------------------------------------------------------


class Reviser:
    """Answers revision requests from a queue and records the messages."""

    def __init__(self, *answers: RevisionAnswer) -> None:
        self.answers = list(answers)
        self.messages: list[str] = []

    async def __call__(self, message: str) -> RevisionAnswer:
        self.messages.append(message)
        return self.answers.pop(0)


def _request_for(answer: str) -> JudgeRequest:
    return JudgeRequest(fixture_id="fx", user_prompt="q", answer=answer)


async def _revise(
    judge: ScriptedJudge, reviser: Reviser, *, threshold: float = 0.8, max_retries: int = 2
) -> ReviseOutcome:
    config = ReviseConfig(judge=judge, threshold=threshold, max_retries=max_retries)
    return await revise_until_passing(
        first_answer="v0", request_for=_request_for, revise=config, ask_revision=reviser
    )


@pytest.mark.anyio
async def test_revise_loop_recovers_on_first_retry() -> None:
    judge = ScriptedJudge([0.3, 0.9])
    reviser = Reviser(RevisionAnswer.answered("v1"))
    outcome = await _revise(judge, reviser)
    assert outcome == ReviseOutcome(
        final_text="v1",
        revision_count=1,
        judge_score=0.9,
        judge_reasoning="scripted",
        attempts=(
            JudgeAttempt(revision=0, score=0.3, reasoning="scripted"),
            JudgeAttempt(revision=1, score=0.9, reasoning="scripted"),
        ),
    )
    assert [request.answer for request in judge.requests] == ["v0", "v1"]
    assert len(reviser.messages) == 1


@pytest.mark.anyio
async def test_revise_loop_is_skipped_when_the_first_answer_clears_the_threshold() -> None:
    judge = ScriptedJudge([0.95])
    reviser = Reviser()
    outcome = await _revise(judge, reviser)
    assert outcome == ReviseOutcome(
        final_text="v0",
        judge_score=0.95,
        judge_reasoning="scripted",
        attempts=(JudgeAttempt(revision=0, score=0.95, reasoning="scripted"),),
    )
    assert judge.calls == 1
    assert reviser.messages == []


@pytest.mark.anyio
async def test_revise_loop_passes_at_exactly_the_threshold() -> None:
    outcome = await _revise(ScriptedJudge([0.8]), Reviser())
    assert outcome.revision_count == 0
    assert outcome.judge_score == 0.8


@pytest.mark.anyio
async def test_revise_loop_exhausts_retries_and_keeps_the_last_score() -> None:
    judge = ScriptedJudge([0.1, 0.2, 0.4])
    reviser = Reviser(RevisionAnswer.answered("v1"), RevisionAnswer.answered("v2"))
    outcome = await _revise(judge, reviser, max_retries=2)
    assert outcome.final_text == "v2"
    assert outcome.revision_count == 2
    assert outcome.judge_score == 0.4
    assert judge.calls == 3
    assert [attempt.score for attempt in outcome.attempts] == [0.1, 0.2, 0.4]
    assert [attempt.revision for attempt in outcome.attempts] == [0, 1, 2]


@pytest.mark.anyio
@pytest.mark.parametrize("max_retries", [0, 1, 3])
async def test_revise_loop_calls_the_judge_at_most_max_retries_plus_one_times(
    max_retries: int,
) -> None:
    judge = ScriptedJudge([0.0] * 10)
    reviser = Reviser(*(RevisionAnswer.answered(f"v{n}") for n in range(1, 10)))
    outcome = await _revise(judge, reviser, max_retries=max_retries)
    assert judge.calls == max_retries + 1
    assert outcome.revision_count == max_retries
    assert len(reviser.messages) == max_retries
    assert outcome.final_text == f"v{max_retries}"
    assert outcome.judge_score == 0.0


@pytest.mark.anyio
async def test_revise_loop_clears_the_stale_score_when_a_follow_up_judge_errors() -> None:
    judge = ScriptedJudge([0.3, JudgeError(JudgeErrorKind.TRANSPORT, "down")])
    reviser = Reviser(RevisionAnswer.answered("v1"))
    outcome = await _revise(judge, reviser)
    assert outcome.final_text == "v1"
    assert outcome.revision_count == 1
    assert outcome.judge_score is None
    assert outcome.judge_reasoning is None
    assert outcome.judge_error == "judge transport error: down"
    assert outcome.attempts == (JudgeAttempt(revision=0, score=0.3, reasoning="scripted"),)
    assert judge.calls == 2


@pytest.mark.anyio
async def test_revise_loop_first_judge_error_keeps_the_first_answer() -> None:
    reviser = Reviser()
    outcome = await _revise(ScriptedJudge([JudgeError(JudgeErrorKind.PARSE, "x")]), reviser)
    assert outcome == ReviseOutcome(final_text="v0", judge_error="judge parse error: x")
    assert reviser.messages == []


@pytest.mark.anyio
async def test_revise_loop_revision_error_stops_with_empty_text() -> None:
    judge = ScriptedJudge([0.3, 0.9])
    reviser = Reviser(RevisionAnswer.failed("rate_limited: slow", error_type="rate_limited"))
    outcome = await _revise(judge, reviser)
    assert outcome == ReviseOutcome(
        final_text="",
        revision_count=1,
        error="rate_limited: slow",
        error_type="rate_limited",
        attempts=(JudgeAttempt(revision=0, score=0.3, reasoning="scripted"),),
    )
    assert judge.calls == 1


@pytest.mark.anyio
async def test_revise_loop_revision_message_content() -> None:
    judge = ScriptedJudge(
        [
            JudgeResult(score=0.3, reasoning="misses the unit"),
            JudgeResult(score=0.456),
            0.9,
        ]
    )
    reviser = Reviser(RevisionAnswer.answered("v1\nsecond line"), RevisionAnswer.answered("v2"))
    await _revise(judge, reviser, threshold=0.75)
    first, second = reviser.messages
    assert "0.30" in first
    assert "0.75" in first
    assert "> v0" in first
    assert "misses the unit" in first
    assert NO_REASONING_PLACEHOLDER not in first
    assert "revise" in first
    assert "0.46" in second
    assert "> v1\n> second line" in second
    assert NO_REASONING_PLACEHOLDER in second
    assert first == revision_message("v0", score=0.3, threshold=0.75, reasoning="misses the unit")


def test_revision_message_formats_two_decimals_and_placeholder() -> None:
    message = revision_message("", score=0.1234, threshold=1, reasoning="")
    assert "graded 0.12, below the required 1.00" in message
    assert "(no reasoning given)" in message
    assert "\n>\n" in message


@pytest.mark.anyio
async def test_revise_loop_over_executor_judge_and_canned_executor() -> None:
    grader = CannedTextExecutor(['{"score": 0.2, "reasoning": "wrong"}', '{"score": 0.9}'])
    config = ReviseConfig(
        judge=ExecutorJudge(grader, model="m"), threshold=0.5, max_retries=3, rubric="exact"
    )
    fixture = Fixture("fx", "What is 2+2?", expected_outcome=None)
    reviser = Reviser(RevisionAnswer.answered("4"))
    outcome = await revise_until_passing(
        first_answer="5",
        request_for=lambda answer: judge_request_for(fixture, answer, rubric=config.rubric),
        revise=config,
        ask_revision=reviser,
    )
    assert outcome.final_text == "4"
    assert outcome.revision_count == 1
    assert outcome.judge_score == 0.9
    assert len(outcome.attempts) == 2
    assert [request.messages[1].content for request in grader.requests] == ["5", "4"]
    assert "exact" in grader.requests[0].messages[2].content


# -- helpers ------------------------------------------------------------------------------


def test_judge_request_for_uses_the_fixture_judge_prompt_and_criteria() -> None:
    fixture = Fixture(
        "fx",
        "hello",
        continued_turns=(DialogueTurn("and then?"),),
        expected_outcome=_expected(),
    )
    assert judge_request_for(fixture, "answer", rubric="r") == JudgeRequest(
        fixture_id="fx",
        user_prompt=fixture.judge_prompt(),
        answer="answer",
        rubric="r",
        expected_outcome=_expected(),
    )


def test_revise_config_for_enabled() -> None:
    judge = ScriptedJudge()
    assert revise_config_for(
        fixture(expect=Expectation(min_judge_score=0.7)),
        judge=judge,
        rubric="r",
        revise_max_retries=2,
    ) == ReviseConfig(judge=judge, threshold=0.7, max_retries=2, rubric="r")


@pytest.mark.parametrize("retries", [0, None, -1])
def test_revise_config_for_zero_retries_is_disabled(retries: int | None) -> None:
    assert (
        revise_config_for(
            fixture(expect=Expectation(min_judge_score=0.7)),
            judge=ScriptedJudge(),
            rubric=None,
            revise_max_retries=retries,
        )
        is None
    )


def test_revise_config_for_needs_a_judge() -> None:
    assert (
        revise_config_for(
            fixture(expect=Expectation(min_judge_score=0.7)),
            judge=None,
            rubric=None,
            revise_max_retries=2,
        )
        is None
    )


def test_revise_config_for_needs_min_judge_score() -> None:
    assert (
        revise_config_for(
            fixture(expect=Expectation(min_judge_score=None)),
            judge=ScriptedJudge(),
            rubric=None,
            revise_max_retries=2,
        )
        is None
    )


def test_parse_score_skips_braces_that_cannot_start_an_object() -> None:
    content = "{" * 10_000 + ' {"score": 0.5}'
    assert parse_score_payload(content) == ParsedScore(score=0.5)
