"""The evaluation vocabulary: what is evaluated, in which role, against which outcome.

These records say *what a judge grades*: an :class:`Evaluation` names a scope (a run,
turn, session or host-defined entity), the subjects taking part and the
:class:`ExpectedOutcome` with its criteria. A :class:`~awaken_eval.Fixture` may carry an
expected outcome so its criteria become the judge's checklist.

Summaries are *redacted* (safe for logs, prompts and telemetry) and bounded: a summary
longer than :data:`MAX_REDACTED_SUMMARY_CHARS` characters is rejected at construction.
Criterion weights are strings on the wire (the vocabulary stays metric-neutral) but must
parse as a finite, non-negative number when present.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any, ClassVar, Union

import attrs

from awaken_eval._records.ids import EntityRef, RunId, SessionId, TurnId
from awaken_eval.errors import InvalidInput

__all__ = [
    "MAX_REDACTED_SUMMARY_CHARS",
    "CustomScope",
    "Evaluation",
    "EvaluationCriterion",
    "EvaluationScope",
    "EvaluationSubject",
    "EvaluationSubjectRole",
    "ExpectedOutcome",
    "RunScope",
    "SessionScope",
    "TurnScope",
]

MAX_REDACTED_SUMMARY_CHARS = 2048
"""Longest redacted summary accepted, in Unicode code points."""

_WEIGHT_PATTERN = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _bounded_summary(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and len(value) > MAX_REDACTED_SUMMARY_CHARS:
        msg = (
            f"redacted summary is {len(value)} characters long; "
            f"the maximum is {MAX_REDACTED_SUMMARY_CHARS}"
        )
        raise InvalidInput.single(f"$.{attribute.name}", msg)


def _numeric_weight(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    if _WEIGHT_PATTERN.fullmatch(value.strip()) is None or not math.isfinite(float(value)):
        msg = f"weight must be a finite non-negative number, got {value!r}"
        raise InvalidInput.single(f"$.{attribute.name}", msg)


@attrs.frozen
class RunScope:
    """Evaluate one run.

    Attributes:
        run_id: The run being evaluated.
    """

    kind: ClassVar[str] = "run"
    run_id: RunId


@attrs.frozen
class TurnScope:
    """Evaluate one turn, optionally grouped by session.

    Attributes:
        turn_id: The turn being evaluated.
        session_id: The session the turn belongs to, when the host groups turns.
    """

    kind: ClassVar[str] = "turn"
    session_id: SessionId | None = attrs.field(default=None, kw_only=True)
    turn_id: TurnId


@attrs.frozen
class SessionScope:
    """Evaluate one session timeline.

    Attributes:
        session_id: The session being evaluated.
    """

    kind: ClassVar[str] = "session"
    session_id: SessionId


@attrs.frozen
class CustomScope:
    """Evaluate a host-defined scope represented by an entity reference.

    Attributes:
        scope_ref: The host-owned entity that bounds the evaluation.
    """

    kind: ClassVar[str] = "custom"
    scope_ref: EntityRef


EvaluationScope = Union[RunScope, TurnScope, SessionScope, CustomScope]  # noqa: UP007
"""The durable boundary an evaluation is about; JSON tagged by ``scope``."""


class EvaluationSubjectRole(Enum):
    """Role a subject plays in an evaluation."""

    PRIMARY = "primary"
    """The main thing being evaluated."""
    CANDIDATE_EVIDENCE = "candidate_evidence"
    """Evidence that may have helped the outcome."""
    BASELINE = "baseline"
    """A baseline subject used for comparison."""
    COMPARATOR = "comparator"
    """A comparator used in paired or ablation evaluations."""
    CONSTRAINT = "constraint"
    """A constraint that shaped the expected result."""


@attrs.frozen
class EvaluationSubject:
    """One entity being evaluated or compared.

    Attributes:
        subject_ref: The entity.
        role: The part it plays in the evaluation.
        redacted_summary: A bounded summary safe for logs, events and telemetry.
    """

    subject_ref: EntityRef
    role: EvaluationSubjectRole
    redacted_summary: str | None = attrs.field(
        default=None, kw_only=True, validator=_bounded_summary
    )

    @classmethod
    def primary(cls, subject_ref: EntityRef) -> EvaluationSubject:
        """Create the primary subject of an evaluation."""
        return cls(subject_ref, EvaluationSubjectRole.PRIMARY)

    def with_redacted_summary(self, redacted_summary: str) -> EvaluationSubject:
        """Return a copy of this subject with a safe summary attached."""
        return attrs.evolve(self, redacted_summary=redacted_summary)


@attrs.frozen
class EvaluationCriterion:
    """One criterion of an expected outcome.

    Attributes:
        criterion_id: Stable id owned by the host or fixture, e.g. ``criterion.completed``.
        redacted_summary: Bounded summary of the condition to check.
        weight: Optional weight as a string (``"2"``, ``"0.5"``); must parse as a finite
            non-negative number. Absent means weight 1.
    """

    criterion_id: str
    redacted_summary: str = attrs.field(validator=_bounded_summary)
    weight: str | None = attrs.field(default=None, kw_only=True, validator=_numeric_weight)

    def with_weight(self, weight: str) -> EvaluationCriterion:
        """Return a copy of this criterion with a weight attached."""
        return attrs.evolve(self, weight=weight)

    @property
    def numeric_weight(self) -> float:
        """The weight as a number (1.0 when absent)."""
        return 1.0 if self.weight is None else float(self.weight)


@attrs.frozen
class ExpectedOutcome:
    """The result a test, host, reviewer or fixture expects.

    Attributes:
        redacted_summary: Bounded summary safe for provider prompts and test output.
        criteria: The criteria a judge grades, in order.
        outcome_ref: The outcome entity being checked, when there is one.
    """

    outcome_ref: EntityRef | None = attrs.field(default=None, kw_only=True)
    criteria: tuple[EvaluationCriterion, ...] = attrs.field(default=(), kw_only=True)
    redacted_summary: str = attrs.field(validator=_bounded_summary)

    @classmethod
    def completed(cls) -> ExpectedOutcome:
        """The common expectation that the agent completed the requested task."""
        return cls("agent completed the requested task").with_criterion(
            EvaluationCriterion("criterion.completed", "run completed")
        )

    def with_outcome_ref(self, outcome_ref: EntityRef) -> ExpectedOutcome:
        """Return a copy with an outcome reference attached."""
        return attrs.evolve(self, outcome_ref=outcome_ref)

    def with_criterion(self, criterion: EvaluationCriterion) -> ExpectedOutcome:
        """Return a copy with one criterion appended."""
        return attrs.evolve(self, criteria=(*self.criteria, criterion))


@attrs.frozen
class Evaluation:
    """What a judge grades: a scope, the subjects taking part and the expected outcome.

    Attributes:
        scope: The run, turn, session or custom boundary being evaluated.
        expected: The expected outcome and its criteria.
        subjects: The entities evaluated or compared, in order.
    """

    scope: EvaluationScope
    subjects: tuple[EvaluationSubject, ...] = attrs.field(default=(), kw_only=True)
    expected: ExpectedOutcome
