"""What a judge is asked and answers, and the revise-and-retry configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from awaken_eval._records.evaluation import ExpectedOutcome
from awaken_eval._records.outcomes import CriterionVerdict

if TYPE_CHECKING:
    from awaken_eval.protocols import Judge

__all__ = ["JudgeRequest", "JudgeResult", "ReviseConfig"]


@attrs.frozen(kw_only=True)
class JudgeRequest:
    """What a judge grades.

    Attributes:
        fixture_id: The fixture (or ``_adhoc``) being graded.
        user_prompt: The user side of the conversation (``Fixture.judge_prompt()``).
        answer: The answer to grade.
        rubric: Grading instructions, when given.
        expected_outcome: Criteria to grade one by one, when the fixture carries them.
    """

    fixture_id: str
    user_prompt: str
    answer: str
    rubric: str | None = None
    expected_outcome: ExpectedOutcome | None = None


@attrs.frozen(kw_only=True)
class JudgeResult:
    """A judge's grade.

    Attributes:
        score: The score in [0, 1] (the weighted mean of the verdicts when there are any).
        reasoning: Why, in one sentence.
        verdicts: Per-criterion verdicts, when criteria were graded.
        inference_id: The grading inference's id, when the judge has one.
    """

    score: float
    reasoning: str | None = None
    verdicts: tuple[CriterionVerdict, ...] = ()
    inference_id: str | None = None


@attrs.frozen(kw_only=True)
class ReviseConfig:
    """The revise-and-retry loop of a live replay (spec §3.1.3 step 6).

    Attributes:
        judge: Grades each attempt.
        threshold: Score an answer needs to stop revising.
        max_retries: Most revisions after the first attempt.
        rubric: Grading instructions.
    """

    judge: Judge
    threshold: float
    max_retries: int
    rubric: str | None = None
