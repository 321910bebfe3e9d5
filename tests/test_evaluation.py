"""Behaviour tests for the evaluation vocabulary (seed 002, DESIGN §5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from awaken_eval import InvalidInput, from_json, to_builtins, to_json
from awaken_eval.evaluation import (
    MAX_REDACTED_SUMMARY_CHARS,
    CustomScope,
    EntityRef,
    Evaluation,
    EvaluationCriterion,
    EvaluationScope,
    EvaluationSubject,
    EvaluationSubjectRole,
    ExpectedOutcome,
    RunId,
    RunScope,
    SessionId,
    SessionScope,
    TurnId,
    TurnScope,
)

_REF = EntityRef("run", "run-1")

# -- builders --------------------------------------------------------------------------


def test_subject_with_redacted_summary_returns_new_record() -> None:
    subject = EvaluationSubject.primary(_REF)

    summarised = subject.with_redacted_summary("the answer the user saw")

    assert subject.redacted_summary is None
    assert "the answer the user saw" == summarised.redacted_summary
    assert subject == EvaluationSubject.primary(_REF)


def test_criterion_with_weight_returns_new_record() -> None:
    criterion = EvaluationCriterion("criterion.cited", "cites a source")

    weighted = criterion.with_weight("2")

    assert criterion.weight is None
    assert "2" == weighted.weight
    assert criterion == EvaluationCriterion("criterion.cited", "cites a source")


def test_expected_outcome_with_outcome_ref_returns_new_record() -> None:
    outcome = ExpectedOutcome("summary")
    ref = EntityRef("message", "m-9")

    with_ref = outcome.with_outcome_ref(ref)

    assert outcome.outcome_ref is None
    assert ref == with_ref.outcome_ref


def test_expected_outcome_with_criterion_appends_to_a_new_record() -> None:
    first = EvaluationCriterion("c1", "first")
    second = EvaluationCriterion("c2", "second")
    outcome = ExpectedOutcome("summary").with_criterion(first)

    extended = outcome.with_criterion(second)

    assert (first,) == outcome.criteria
    assert (first, second) == extended.criteria


def test_builders_validate_their_values() -> None:
    with pytest.raises(InvalidInput):
        EvaluationSubject.primary(_REF).with_redacted_summary(
            "x" * (MAX_REDACTED_SUMMARY_CHARS + 1)
        )
    with pytest.raises(InvalidInput):
        EvaluationCriterion("c", "s").with_weight("heavy")


def test_expected_outcome_completed_content() -> None:
    expected = ExpectedOutcome(
        "agent completed the requested task",
        criteria=(EvaluationCriterion("criterion.completed", "run completed"),),
    )

    assert expected == ExpectedOutcome.completed()
    assert ExpectedOutcome.completed().outcome_ref is None
    assert ExpectedOutcome.completed().criteria[0].weight is None


def test_evaluation_subject_primary() -> None:
    subject = EvaluationSubject.primary(_REF)

    assert EvaluationSubject(_REF, EvaluationSubjectRole.PRIMARY) == subject
    assert subject.redacted_summary is None


# -- wire format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "wire"),
    [
        (RunScope(RunId("run-1")), {"scope": "run", "run_id": "run-1"}),
        (
            TurnScope(turn_id=TurnId("turn-3")),
            {"scope": "turn", "session_id": None, "turn_id": "turn-3"},
        ),
        (
            TurnScope(turn_id=TurnId("turn-3"), session_id=SessionId("sess-1")),
            {"scope": "turn", "session_id": "sess-1", "turn_id": "turn-3"},
        ),
        (SessionScope(SessionId("sess-1")), {"scope": "session", "session_id": "sess-1"}),
        (
            CustomScope(EntityRef("ticket", "T-42")),
            {"scope": "custom", "scope_ref": {"kind": "ticket", "id": "T-42"}},
        ),
    ],
    ids=["run", "turn", "turn_with_session", "session", "custom"],
)
def test_scope_json_is_tagged_by_scope(scope: EvaluationScope, wire: dict[str, Any]) -> None:
    parsed: EvaluationScope = from_json(EvaluationScope, json.dumps(wire))

    assert wire == to_builtins(scope)
    assert scope == parsed


def test_turn_scope_reads_without_session_id() -> None:
    scope: EvaluationScope = from_json(EvaluationScope, '{"scope": "turn", "turn_id": "t"}')

    assert TurnScope(turn_id=TurnId("t")) == scope


def test_scope_with_unknown_tag_is_rejected() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(EvaluationScope, '{"scope": "thread", "thread_id": "t"}')

    assert ["$.scope"] == [problem.path for problem in caught.value.problems]


@pytest.mark.parametrize("role", list(EvaluationSubjectRole))
def test_subject_roles_are_snake_case_on_the_wire(role: EvaluationSubjectRole) -> None:
    subject = EvaluationSubject(_REF, role, redacted_summary="s")

    wire = {
        "subject_ref": {"kind": "run", "id": "run-1"},
        "role": role.value,
        "redacted_summary": "s",
    }
    assert wire == to_builtins(subject)
    assert subject == from_json(EvaluationSubject, to_json(subject))


def test_subject_role_values() -> None:
    expected = ["primary", "candidate_evidence", "baseline", "comparator", "constraint"]

    assert expected == [role.value for role in EvaluationSubjectRole]


def test_evaluation_round_trips() -> None:
    evaluation = Evaluation(
        TurnScope(turn_id=TurnId("turn-1"), session_id=SessionId("sess")),
        subjects=(
            EvaluationSubject.primary(_REF).with_redacted_summary("final answer"),
            EvaluationSubject(EntityRef("run", "run-0"), EvaluationSubjectRole.BASELINE),
        ),
        expected=ExpectedOutcome.completed()
        .with_outcome_ref(EntityRef("message", "m-1"))
        .with_criterion(EvaluationCriterion("criterion.polite", "is polite").with_weight("0.5")),
    )

    assert evaluation == from_json(Evaluation, to_json(evaluation))


def test_expected_outcome_wire_form() -> None:
    expected = {
        "outcome_ref": None,
        "criteria": [
            {
                "criterion_id": "criterion.completed",
                "redacted_summary": "run completed",
                "weight": None,
            }
        ],
        "redacted_summary": "agent completed the requested task",
    }

    assert expected == to_builtins(ExpectedOutcome.completed())


# -- bounded summaries -----------------------------------------------------------------

_SUMMARY_BUILDERS: list[tuple[str, Callable[[str], str | None]]] = [
    (
        "subject",
        lambda text: EvaluationSubject.primary(_REF).with_redacted_summary(text).redacted_summary,
    ),
    ("criterion", lambda text: EvaluationCriterion("c", text).redacted_summary),
    ("expected_outcome", lambda text: ExpectedOutcome(text).redacted_summary),
]


@pytest.mark.parametrize(
    "build", [build for _, build in _SUMMARY_BUILDERS], ids=[name for name, _ in _SUMMARY_BUILDERS]
)
def test_redacted_summary_of_exactly_max_chars_is_accepted(
    build: Callable[[str], str | None],
) -> None:
    ascii_text = "x" * MAX_REDACTED_SUMMARY_CHARS
    accented = "é" * MAX_REDACTED_SUMMARY_CHARS  # bounded in code points, not UTF-8 bytes

    assert ascii_text == build(ascii_text)
    assert accented == build(accented)


@pytest.mark.parametrize(
    "build", [build for _, build in _SUMMARY_BUILDERS], ids=[name for name, _ in _SUMMARY_BUILDERS]
)
def test_redacted_summary_over_max_chars_is_rejected_naming_the_field(
    build: Callable[[str], str | None],
) -> None:
    with pytest.raises(InvalidInput) as caught:
        build("x" * (MAX_REDACTED_SUMMARY_CHARS + 1))

    assert ["$.redacted_summary"] == [problem.path for problem in caught.value.problems]
    assert "redacted_summary" in str(caught.value)


def test_redacted_summary_over_max_chars_from_json_reports_its_path() -> None:
    document = {
        "scope": {"scope": "session", "session_id": "s"},
        "subjects": [],
        "expected": {"criteria": [], "redacted_summary": "x" * (MAX_REDACTED_SUMMARY_CHARS + 1)},
    }

    with pytest.raises(InvalidInput) as caught:
        from_json(Evaluation, json.dumps(document))

    assert ["$.expected.redacted_summary"] == [problem.path for problem in caught.value.problems]


def test_subject_summary_over_max_chars_from_json_reports_its_index() -> None:
    document = {
        "scope": {"scope": "run", "run_id": "r"},
        "subjects": [
            {"subject_ref": {"kind": "run", "id": "r"}, "role": "primary"},
            {
                "subject_ref": {"kind": "run", "id": "b"},
                "role": "baseline",
                "redacted_summary": "x" * (MAX_REDACTED_SUMMARY_CHARS + 1),
            },
        ],
        "expected": {"criteria": [], "redacted_summary": "ok"},
    }

    with pytest.raises(InvalidInput) as caught:
        from_json(Evaluation, json.dumps(document))

    assert ["$.subjects[1].redacted_summary"] == [problem.path for problem in caught.value.problems]


# -- weights ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "numeric"),
    [("1", 1.0), ("0.5", 0.5), ("2e3", 2000.0), ("+3", 3.0), ("0", 0.0), (".25", 0.25)],
)
def test_numeric_weight_strings_are_accepted(weight: str, numeric: float) -> None:
    criterion = EvaluationCriterion("c", "s", weight=weight)

    assert numeric == criterion.numeric_weight
    assert weight == criterion.weight


@pytest.mark.parametrize(
    "weight", ["-1", "abc", "nan", "NaN", "inf", "Infinity", "1e999", "", "1,5", "0x10"]
)
def test_non_numeric_or_negative_or_non_finite_weight_is_rejected(weight: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        EvaluationCriterion("c", "s", weight=weight)

    assert ["$.weight"] == [problem.path for problem in caught.value.problems]


def test_bad_weight_from_json_reports_its_path() -> None:
    document = {
        "criteria": [
            {"criterion_id": "a", "redacted_summary": "ok", "weight": "1"},
            {"criterion_id": "b", "redacted_summary": "bad", "weight": "heavy"},
        ],
        "redacted_summary": "s",
    }

    with pytest.raises(InvalidInput) as caught:
        from_json(ExpectedOutcome, json.dumps(document))

    assert ["$.criteria[1].weight"] == [problem.path for problem in caught.value.problems]


def test_numeric_weight_defaults_to_one() -> None:
    assert 1.0 == EvaluationCriterion("c", "s").numeric_weight
