"""Judging: an LLM judge over any executor, score parsing, ``score_with_judge`` and revising.

* :class:`ExecutorJudge` grades an answer with any :class:`~awaken_eval.LlmExecutor`
  through the grading conversation of :func:`grading_messages` and parses the reply
  with :func:`parse_score_payload`.
* :func:`score_with_judge` merges the deterministic failures of
  :func:`~awaken_eval.score` with a judge's verdict on ``min_judge_score``
  (a cached score on the outcome is reused and the judge is not called).
* :func:`revise_until_passing` is the revise-and-retry loop of a live replay: judge the
  answer, and while it scores below the threshold ask the agent to revise it, at most
  ``max_retries`` times. Every judged attempt is recorded as a :class:`JudgeAttempt`.

Improvements over the reference implementation:

* a JSON object embedded in prose is found (the reference accepted only a bare object
  or a fenced block), and an out-of-range score such as ``1e999`` is reported as
  :attr:`~awaken_eval.JudgeErrorKind.NON_FINITE_SCORE` instead of being unreachable;
* an executor failure is a :attr:`~awaken_eval.JudgeErrorKind.EXECUTOR` error, not a
  parse error (spec §8.1 item 19);
* a judge failure is placed *before* the replay's runtime failure (spec §8.1 item 11);
* per-criterion verdicts when the fixture carries an
  :class:`~awaken_eval.ExpectedOutcome`: the item's score is the weighted mean of the
  criterion scores.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence

import attrs

from awaken_eval._records.evaluation import ExpectedOutcome
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.failures import Failure
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.grading import JudgeRequest, JudgeResult, ReviseConfig
from awaken_eval._records.inference import (
    ChatMessage,
    InferenceRequest,
    MessageRole,
    SamplingParams,
)
from awaken_eval._records.outcomes import CriterionVerdict, JudgeAttempt, ReplayOutcome
from awaken_eval._scoring.score import add_judge_failure, judge_failure_for, score
from awaken_eval.errors import InferenceError, JudgeError, JudgeErrorKind
from awaken_eval.protocols import Judge, LlmExecutor

__all__ = [
    "DEFAULT_GRADER_PROMPT",
    "NO_REASONING_PLACEHOLDER",
    "ExecutorJudge",
    "ParsedScore",
    "ReviseOutcome",
    "RevisionAnswer",
    "checked_result",
    "grading_messages",
    "judge_request_for",
    "parse_score_payload",
    "revise_config_for",
    "revise_until_passing",
    "revision_message",
    "score_with_judge",
]

DEFAULT_GRADER_PROMPT = (
    "You are an evaluation grader. You are shown a user's request and an assistant's "
    "answer to it. Score how well the assistant's answer satisfies the user's request. "
    'Reply with a single JSON object of the form {"score": <float between 0.0 and 1.0>, '
    '"reasoning": "<one sentence>"}, where 1.0 means the request is fully satisfied and '
    "0.0 means it is not satisfied at all. Reply with the JSON object only."
)
"""The system prompt of :class:`ExecutorJudge` when none is given."""

NO_REASONING_PLACEHOLDER = "(no reasoning given)"
"""Stands in for the judge's reasoning in a revision message when it gave none."""


# -- score parsing ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ParsedScore:
    """A grade parsed from a judge's reply, before any clamping.

    Attributes:
        score: The ``score`` as given; may lie outside [0, 1] and may be infinite or NaN
            (see :attr:`is_finite`).
        reasoning: The ``reasoning``, when it was a string.
        criteria: Per-criterion verdicts from a ``criteria`` array, in reply order, raw
            (unclamped) scores; well-formed entries only, first entry per id.
    """

    score: float
    reasoning: str | None = None
    criteria: tuple[CriterionVerdict, ...] = ()

    @property
    def is_finite(self) -> bool:
        """Whether the score and every criterion score are finite numbers."""
        return math.isfinite(self.score) and all(
            math.isfinite(verdict.score) for verdict in self.criteria
        )


def _number(value: object) -> float | None:
    """A JSON number as a float (``bool`` is not a number); huge integers become inf."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return None


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _criteria(value: object) -> tuple[CriterionVerdict, ...]:
    if not isinstance(value, list):
        return ()
    verdicts: dict[str, CriterionVerdict] = {}
    for entry in value:
        if not isinstance(entry, dict):
            continue
        criterion_id = entry.get("criterion_id")
        criterion_score = _number(entry.get("score"))
        if not isinstance(criterion_id, str) or criterion_score is None:
            continue
        verdicts.setdefault(
            criterion_id,
            CriterionVerdict(
                criterion_id=criterion_id,
                score=criterion_score,
                reasoning=_optional_text(entry.get("reasoning")),
            ),
        )
    return tuple(verdicts.values())


def _from_object(value: object) -> ParsedScore | None:
    if not isinstance(value, dict):
        return None
    parsed_score = _number(value.get("score"))
    if parsed_score is None:
        return None
    return ParsedScore(
        score=parsed_score,
        reasoning=_optional_text(value.get("reasoning")),
        criteria=_criteria(value.get("criteria")),
    )


def _loads(text: str) -> ParsedScore | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return _from_object(value)


_OBJECT_START = re.compile(r'\{\s*"')
_MAX_EMBEDDED_CANDIDATES = 64


def _embedded_objects(text: str) -> Iterator[object]:
    """JSON objects embedded in ``text``, outermost first, in text order.

    Only a ``{`` followed by a key can start an object with a score, so other braces
    are never decoded. A decoded object is skipped as a whole (its nested objects are
    not candidates), so the per-criterion scores of a reply are never mistaken for its
    overall score. At most :data:`_MAX_EMBEDDED_CANDIDATES` positions are decoded,
    which bounds the work on pathological replies.
    """
    decoder = json.JSONDecoder()
    position = 0
    for _ in range(_MAX_EMBEDDED_CANDIDATES):
        match = _OBJECT_START.search(text, position)
        if match is None:
            return
        start = match.start()
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            position = start + 1
            continue
        yield value
        position = end


def parse_score_payload(content: str) -> ParsedScore | None:
    """Parse a judge's reply into a score, robustly.

    Tried in order, the first success wins:

    1. the trimmed content as one JSON object;
    2. the content without a leading ````json`` or ```````` fence and trailing
       backticks, trimmed;
    3. every JSON object embedded in the text (prose around it, a fence in the middle
       of an explanation), outermost objects only, in text order: the first one with a
       numeric ``score`` wins (the first 64 candidate positions are tried).

    The object needs a numeric ``score`` (``true``/``false`` are not numbers, nor is a
    string such as ``"0.8"``). ``reasoning`` is kept when it is a string; extra keys are
    ignored. An optional ``criteria`` array of ``{"criterion_id", "score",
    "reasoning"?}`` objects becomes :attr:`ParsedScore.criteria` (malformed entries are
    skipped). A score that is not a finite number (``1e999`` parses as infinity, ``NaN``
    is accepted by Python's JSON reader) is returned as is: check
    :attr:`ParsedScore.is_finite`.

    Args:
        content: The judge's reply text.

    Returns:
        The parsed grade, or ``None`` when no object with a numeric score was found.

    Examples:
        >>> parse_score_payload('```json\\n{"score": 0.8, "reasoning": "ok"}\\n```')
        ParsedScore(score=0.8, reasoning='ok', criteria=())
        >>> parse_score_payload('I would say {"score": 1} overall.').score
        1.0
        >>> parse_score_payload("no score here") is None
        True
    """
    trimmed = content.strip()
    parsed = _loads(trimmed)
    if parsed is not None:
        return parsed
    unfenced = trimmed.removeprefix("```json").removeprefix("```").rstrip("`").strip()
    if unfenced != trimmed:
        parsed = _loads(unfenced)
        if parsed is not None:
            return parsed
    for candidate in _embedded_objects(trimmed):
        parsed = _from_object(candidate)
        if parsed is not None:
            return parsed
    return None


# -- the grading conversation -------------------------------------------------------------


def _instruction(request: JudgeRequest) -> str:
    if request.rubric is not None:
        lines = [
            "Grade the assistant's answer above by applying this rubric:",
            request.rubric,
        ]
    else:
        lines = ["Score the assistant's answer above against the original user request."]
    expected = request.expected_outcome
    if expected is not None:
        lines.append("")
        lines.append(f"Expected outcome: {expected.redacted_summary}")
        if expected.criteria:
            lines.append("Grade each of these criteria separately (id: what to check):")
            lines.extend(
                f"- {criterion.criterion_id}: {criterion.redacted_summary}"
                for criterion in expected.criteria
            )
            lines.append(
                'Besides "score" and "reasoning", include a "criteria" array in the JSON '
                "object with exactly one entry per criterion id above, each of the form "
                '{"criterion_id": "<id>", "score": <float between 0.0 and 1.0>, '
                '"reasoning": "<one sentence>"}.'
            )
    lines.append("Answer with the JSON object only.")
    return "\n".join(lines)


def grading_messages(
    request: JudgeRequest, *, system_prompt: str = DEFAULT_GRADER_PROMPT
) -> tuple[str, tuple[ChatMessage, ...]]:
    """Build the grading conversation of spec §3.2 for ``request``.

    The conversation is: the user prompt (user), the answer being graded (assistant),
    then a grading instruction (user). With a rubric the instruction asks to apply it
    (the rubric text on the following line); without, to score the answer against the
    original request. When the request carries an expected outcome, the instruction
    also lists each criterion (id and redacted summary) and asks for a ``criteria``
    array with one score per criterion id. Every variant ends by asking for the JSON
    object only.

    Args:
        request: What to grade.
        system_prompt: The grader's system prompt.

    Returns:
        The system prompt and the three messages, in order.
    """
    messages = (
        ChatMessage(MessageRole.USER, request.user_prompt),
        ChatMessage(MessageRole.ASSISTANT, request.answer),
        ChatMessage(MessageRole.USER, _instruction(request)),
    )
    return system_prompt, messages


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _weighted_mean(expected: ExpectedOutcome, verdicts: Sequence[CriterionVerdict]) -> float:
    weights = [criterion.numeric_weight for criterion in expected.criteria]
    total_weight = sum(weights)
    if total_weight <= 0:
        return sum(verdict.score for verdict in verdicts) / len(verdicts)
    weighted = sum(
        weight * verdict.score for weight, verdict in zip(weights, verdicts, strict=True)
    )
    return _clamp(weighted / total_weight)


def _criterion_verdicts(
    expected: ExpectedOutcome, parsed: ParsedScore, content: str
) -> tuple[CriterionVerdict, ...]:
    given = {verdict.criterion_id: verdict for verdict in parsed.criteria}
    missing = [c.criterion_id for c in expected.criteria if c.criterion_id not in given]
    if missing:
        names = ", ".join(repr(criterion_id) for criterion_id in missing)
        msg = f"no verdict for criteria {names} in judge response: {content}"
        raise JudgeError(JudgeErrorKind.PARSE, msg)
    return tuple(
        attrs.evolve(
            given[criterion.criterion_id], score=_clamp(given[criterion.criterion_id].score)
        )
        for criterion in expected.criteria
    )


@attrs.frozen
class ExecutorJudge:
    """A :class:`~awaken_eval.Judge` that grades with any :class:`~awaken_eval.LlmExecutor`.

    One inference per grade: the conversation of :func:`grading_messages`, no tools. The
    reply text is parsed by :func:`parse_score_payload` and the score clamped to
    [0, 1].

    When the request carries an :class:`~awaken_eval.ExpectedOutcome` with criteria,
    the reply must hold a verdict for every criterion (unknown ids are ignored), each
    verdict is clamped to [0, 1], and the result's score is the weighted mean of the
    verdict scores with :attr:`~awaken_eval.EvaluationCriterion.numeric_weight` (absent
    weight: 1). When every weight is 0 the plain mean is used. The reply's own overall
    ``score`` is then not used (it is still required, as in every reply).

    Attributes:
        executor: Runs the grading inference.
        model: The upstream model name sent to the executor.
        system_prompt: The grader's system prompt.
        sampling: Sampling overrides for the grading inference (none by default).

    Examples:
        >>> from awaken_eval.testing import CannedTextExecutor
        >>> judge = ExecutorJudge(CannedTextExecutor(['{"score": 0.9}']), model="grader")
    """

    executor: LlmExecutor
    model: str = attrs.field(kw_only=True)
    system_prompt: str = attrs.field(default=DEFAULT_GRADER_PROMPT, kw_only=True)
    sampling: SamplingParams = attrs.field(factory=SamplingParams, kw_only=True)

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        """Grade ``request.answer``.

        Args:
            request: What to grade.

        Returns:
            The clamped score, the reasoning and (with criteria) the verdicts; no
            inference id.

        Raises:
            JudgeError: ``EXECUTOR`` when the executor raised an
                :class:`~awaken_eval.InferenceError`; ``PARSE`` when the reply holds no
                score or misses a criterion verdict; ``NON_FINITE_SCORE`` when a score
                is not a finite number.
        """
        system, messages = grading_messages(request, system_prompt=self.system_prompt)
        inference = InferenceRequest(
            model=self.model, messages=messages, system=system, sampling=self.sampling
        )
        try:
            result = await self.executor.execute(inference)
        except InferenceError as exc:
            msg = f"grading inference failed ({exc.kind.value}): {exc.message}"
            raise JudgeError(JudgeErrorKind.EXECUTOR, msg) from exc
        content = result.text
        parsed = parse_score_payload(content)
        if parsed is None:
            raise JudgeError(JudgeErrorKind.PARSE, content)
        if not math.isfinite(parsed.score):
            raise JudgeError(JudgeErrorKind.NON_FINITE_SCORE, str(parsed.score))
        expected = request.expected_outcome
        if expected is None or not expected.criteria:
            return JudgeResult(score=_clamp(parsed.score), reasoning=parsed.reasoning)
        wanted = {criterion.criterion_id for criterion in expected.criteria}
        for verdict in parsed.criteria:
            if verdict.criterion_id in wanted and not math.isfinite(verdict.score):
                msg = f"criterion {verdict.criterion_id!r}: {verdict.score}"
                raise JudgeError(JudgeErrorKind.NON_FINITE_SCORE, msg)
        verdicts = _criterion_verdicts(expected, parsed, content)
        return JudgeResult(
            score=_weighted_mean(expected, verdicts),
            reasoning=parsed.reasoning,
            verdicts=verdicts,
        )


# -- score_with_judge ---------------------------------------------------------------------


async def score_with_judge(
    outcome: ReplayOutcome,
    expectation: Expectation,
    *,
    user_prompt: str,
    rubric: str | None = None,
    judge: Judge,
    expected_outcome: ExpectedOutcome | None = None,
) -> tuple[list[Failure], JudgeResult | None]:
    """Score ``outcome`` and, when ``min_judge_score`` is set, judge it (spec §3.2).

    1. ``failures`` = :func:`~awaken_eval.score` of the outcome.
    2. Without ``min_judge_score`` the judge is not called: ``(failures, None)``.
    3. When the outcome already carries a ``judge_score`` (the revise loop graded the
       final answer) that grade is reused with its reasoning, and the judge is not
       called.
    4. Otherwise the judge grades ``outcome.final_text``.
    5. A score below the threshold adds a :class:`~awaken_eval.JudgeBelowThreshold`,
       placed before any trailing runtime failure (the runtime failure stays last).

    Args:
        outcome: What the replay produced.
        expectation: What it had to satisfy.
        user_prompt: The user side of the conversation (``Fixture.judge_prompt()``).
        rubric: Grading instructions for the judge.
        judge: Grades the answer when needed.
        expected_outcome: Criteria for the judge to grade one by one.

    Returns:
        The failures and the judge's result (``None`` when no judge was needed).

    Raises:
        JudgeError: when the judge could not grade (no failures are returned then).
    """
    failures = score(outcome, expectation)
    threshold = expectation.min_judge_score
    if threshold is None:
        return failures, None
    if outcome.judge_score is not None:
        result = JudgeResult(
            score=outcome.judge_score,
            reasoning=outcome.judge_reasoning,
            verdicts=outcome.judge_verdicts,
        )
    else:
        result = checked_result(
            await judge.grade(
                JudgeRequest(
                    fixture_id=outcome.fixture_id,
                    user_prompt=user_prompt,
                    answer=outcome.final_text,
                    rubric=rubric,
                    expected_outcome=expected_outcome,
                )
            )
        )
    failure = judge_failure_for(threshold, result.score)
    if failure is not None:
        failures = add_judge_failure(failures, failure)
    return failures, result


def checked_result(result: object) -> JudgeResult:
    """A judge's result, checked: a score and verdict scores that are finite, in [0, 1].

    A judge is user code: what it returns is checked like input, so that a bad score
    becomes a judge failure on its item, never a run that fails when it is stored.

    Raises:
        JudgeError: of kind ``non_finite_score`` or ``out_of_range_score``.
    """
    if not isinstance(result, JudgeResult):
        msg = f"the judge returned {type(result).__name__}, not a JudgeResult"
        raise JudgeError(JudgeErrorKind.OUT_OF_RANGE_SCORE, msg)
    scores = [("score", result.score)]
    scores += [(f"criterion {v.criterion_id!r}", v.score) for v in result.verdicts]
    for name, value in scores:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            msg = f"{name}: {type(value).__name__} is not a number"
            raise JudgeError(JudgeErrorKind.OUT_OF_RANGE_SCORE, msg)
        if not math.isfinite(value):
            raise JudgeError(JudgeErrorKind.NON_FINITE_SCORE, f"{name}: {value}")
        if not 0.0 <= value <= 1.0:
            msg = f"{name}: {value} is outside [0, 1]"
            raise JudgeError(JudgeErrorKind.OUT_OF_RANGE_SCORE, msg)
    return result


# -- the revise loop ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RevisionAnswer:
    """What the agent answered to a revision request.

    Attributes:
        text: The revised answer (``""`` when the run failed).
        error: The failed run's error message, when it failed.
        error_type: The failed run's short machine-readable error type, when known.
    """

    text: str = ""
    error: str | None = None
    error_type: str | None = None

    @classmethod
    def answered(cls, text: str) -> RevisionAnswer:
        """The agent revised its answer to ``text``."""
        return cls(text=text)

    @classmethod
    def failed(cls, error: str, *, error_type: str | None = None) -> RevisionAnswer:
        """The revision run failed with ``error``."""
        return cls(error=error, error_type=error_type)


@attrs.frozen(kw_only=True)
class ReviseOutcome:
    """How a revise loop ended.

    Attributes:
        final_text: The last answer (``""`` when a revision failed).
        revision_count: Revisions requested after the first answer.
        judge_score: The grade of ``final_text``; absent when the judge failed on it or
            a revision failed.
        judge_reasoning: The judge's reasoning for that grade.
        judge_verdicts: The per-criterion verdicts of that grade.
        error: The error message of a failed revision run.
        error_type: The error type of a failed revision run, when known.
        judge_error: The message of the judge error that stopped the loop, if any.
        attempts: Every judged answer in order; a pass after revising has more than one
            attempt, a first-time pass exactly one.
    """

    final_text: str
    revision_count: int = 0
    judge_score: float | None = None
    judge_reasoning: str | None = None
    judge_verdicts: tuple[CriterionVerdict, ...] = ()
    error: str | None = None
    error_type: str | None = None
    judge_error: str | None = None
    attempts: tuple[JudgeAttempt, ...] = ()


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in (text.splitlines() or [""]))


def revision_message(
    previous_answer: str, *, score: float, threshold: float, reasoning: str | None
) -> str:
    """The user message asking the agent to revise an answer that scored too low.

    It quotes the previous answer, gives the score and the threshold with two decimals,
    the judge's reasoning (or :data:`NO_REASONING_PLACEHOLDER`) and asks for a revision.

    Args:
        previous_answer: The answer that was judged.
        score: Its score.
        threshold: The score it needed.
        reasoning: The judge's reasoning.

    Returns:
        The message text.

    Examples:
        >>> print(revision_message("4", score=0.3, threshold=0.8, reasoning=None))
        Your previous answer was graded 0.30, below the required 0.80.
        <BLANKLINE>
        Your previous answer:
        > 4
        <BLANKLINE>
        Grader feedback: (no reasoning given)
        <BLANKLINE>
        Please revise your answer to address this feedback and fully satisfy the original request. Reply with the complete revised answer.
    """  # noqa: E501
    feedback = reasoning or NO_REASONING_PLACEHOLDER
    return (
        f"Your previous answer was graded {score:.2f}, below the required {threshold:.2f}.\n"
        "\n"
        "Your previous answer:\n"
        f"{_quoted(previous_answer)}\n"
        "\n"
        f"Grader feedback: {feedback}\n"
        "\n"
        "Please revise your answer to address this feedback and fully satisfy the "
        "original request. Reply with the complete revised answer."
    )


async def revise_until_passing(
    *,
    first_answer: str,
    request_for: Callable[[str], JudgeRequest],
    revise: ReviseConfig,
    ask_revision: Callable[[str], Awaitable[RevisionAnswer]],
) -> ReviseOutcome:
    """Judge an answer and ask for revisions until it passes (spec §3.1.3 step 6).

    Repeats at most ``max_retries + 1`` times:

    1. judge the current answer (``request_for(answer)``); a
       :class:`~awaken_eval.JudgeError` stops the loop with the state as it is (no
       judge fields when it happened after a revision);
    2. record the grade; a score ≥ threshold stops the loop (pass);
    3. after ``max_retries`` revisions, stop (the last grade is kept);
    4. otherwise send :func:`revision_message` through ``ask_revision`` and clear the
       grade, which belonged to the previous answer. A failed revision stops the loop
       with ``final_text`` ``""`` and its error kept.

    So the final answer is always judged unless the judge or the revision failed, the
    judge is called at most ``max_retries + 1`` times, and ``revision_count`` never
    exceeds ``max_retries``. Exceptions other than ``JudgeError`` (from the judge or
    ``ask_revision``) propagate.

    Args:
        first_answer: The agent's first answer (all its turns succeeded).
        request_for: Builds the judge request for an answer (fixture id, judge
            prompt, rubric, expected outcome), e.g. with :func:`judge_request_for`.
        revise: Judge, threshold, retries and rubric.
        ask_revision: Sends a revision user message on the same thread and returns
            the new answer or the error.

    Returns:
        The final state and every judged attempt.
    """
    text = first_answer
    revisions = 0
    judge_score: float | None = None
    judge_reasoning: str | None = None
    judge_verdicts: tuple[CriterionVerdict, ...] = ()
    attempts: list[JudgeAttempt] = []
    judge_error: str | None = None
    error: str | None = None
    error_type: str | None = None
    while True:
        try:
            result = checked_result(await revise.judge.grade(request_for(text)))
        except JudgeError as exc:
            judge_error = str(exc)
            break
        judge_score, judge_reasoning = result.score, result.reasoning
        judge_verdicts = result.verdicts
        attempts.append(
            JudgeAttempt(revision=revisions, score=result.score, reasoning=result.reasoning)
        )
        if result.score >= revise.threshold or revisions >= revise.max_retries:
            break
        message = revision_message(
            text, score=result.score, threshold=revise.threshold, reasoning=result.reasoning
        )
        revisions += 1
        answer = await ask_revision(message)
        judge_score = judge_reasoning = None
        judge_verdicts = ()
        if answer.error is not None:
            text, error, error_type = "", answer.error, answer.error_type
            break
        text = answer.text
    return ReviseOutcome(
        final_text=text,
        revision_count=revisions,
        judge_score=judge_score,
        judge_reasoning=judge_reasoning,
        judge_verdicts=judge_verdicts,
        error=error,
        error_type=error_type,
        judge_error=judge_error,
        attempts=tuple(attempts),
    )


def judge_request_for(fixture: Fixture, answer: str, *, rubric: str | None = None) -> JudgeRequest:
    """The judge request grading ``answer`` to ``fixture``.

    Args:
        fixture: The fixture replayed (its id, judge prompt and expected outcome are used).
        answer: The answer to grade.
        rubric: Grading instructions.

    Returns:
        The request.
    """
    return JudgeRequest(
        fixture_id=fixture.id,
        user_prompt=fixture.judge_prompt(),
        answer=answer,
        rubric=rubric,
        expected_outcome=fixture.expected_outcome,
    )


def revise_config_for(
    fixture: Fixture,
    *,
    judge: Judge | None,
    rubric: str | None = None,
    revise_max_retries: int | None,
) -> ReviseConfig | None:
    """The revise loop for one fixture, or ``None`` when it is off (spec §2.14).

    The loop runs only with a judge, ``revise_max_retries`` > 0 and a fixture whose
    expectation has ``min_judge_score`` (the threshold). ``revise_max_retries=0`` means
    "no revise loop"; the judge still grades at scoring time.

    Args:
        fixture: The fixture to replay.
        judge: The run's judge, if any.
        rubric: The run's rubric.
        revise_max_retries: Most revisions per answer.

    Returns:
        The loop configuration, or ``None``.
    """
    threshold = fixture.expect.min_judge_score
    if judge is None or threshold is None:
        return None
    if revise_max_retries is None or revise_max_retries <= 0:
        return None
    return ReviseConfig(
        judge=judge, threshold=threshold, max_retries=revise_max_retries, rubric=rubric
    )
