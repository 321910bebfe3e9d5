"""Behaviour tests for the exception hierarchy and message rendering (DESIGN §4, §10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awaken_eval import (
    AwakenEvalError,
    Conflict,
    Fixture,
    InvalidInput,
    InvalidRequest,
    NotFound,
    ReplayReport,
    StoreFailure,
    from_json,
)
from awaken_eval.errors import (
    DuplicateFixtureId,
    DuplicateItemKeys,
    InputUnreadable,
    InvalidExecutionShape,
    InvalidRunId,
    Problem,
    ServiceError,
)
from awaken_eval.records import validate_run_id
from awaken_eval.wire import read_ndjson

# -- hierarchy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "bases"),
    [
        (InvalidInput, (AwakenEvalError, ValueError)),
        (InvalidExecutionShape, (InvalidInput, AwakenEvalError, ValueError)),
        (DuplicateFixtureId, (InvalidInput, AwakenEvalError, ValueError)),
        (InvalidRunId, (AwakenEvalError, ValueError)),
        (InputUnreadable, (AwakenEvalError, OSError)),
        (ServiceError, (AwakenEvalError,)),
        (InvalidRequest, (ServiceError, AwakenEvalError, ValueError)),
        (DuplicateItemKeys, (InvalidRequest, ServiceError, AwakenEvalError)),
        (NotFound, (ServiceError, AwakenEvalError, LookupError)),
        (Conflict, (ServiceError, AwakenEvalError)),
        (StoreFailure, (ServiceError, AwakenEvalError)),
    ],
)
def test_every_error_derives_from_awaken_eval_error(
    error_class: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    assert [True] * len(bases) == [issubclass(error_class, base) for base in bases]


def test_awaken_eval_error_is_an_exception() -> None:
    assert issubclass(AwakenEvalError, Exception)


@pytest.mark.parametrize(
    ("error_class", "status"),
    [
        (InvalidRequest, 400),
        (DuplicateItemKeys, 400),
        (NotFound, 404),
        (Conflict, 409),
        (StoreFailure, 500),
    ],
)
def test_service_error_statuses(error_class: type[ServiceError], status: int) -> None:
    error = error_class("what went wrong")

    assert status == error.status
    assert "what went wrong" == error.message
    assert "what went wrong" == str(error)


def test_service_errors_are_caught_as_one_family() -> None:
    caught: list[int] = []
    for error in (InvalidRequest("a"), NotFound("b"), Conflict("c"), StoreFailure("d")):
        try:
            raise error
        except ServiceError as exc:
            caught.append(exc.status)

    assert [400, 404, 409, 500] == caught


# -- message rendering -----------------------------------------------------------------


def test_single_problem_renders_as_path_colon_message() -> None:
    error = InvalidInput.single("$.expect.max_tokens_total", 'expected an integer, got "ten"')

    assert '$.expect.max_tokens_total: expected an integer, got "ten"' == str(error)
    assert (Problem("$.expect.max_tokens_total", 'expected an integer, got "ten"'),) == (
        error.problems
    )


def test_multiple_problems_are_listed_one_per_line() -> None:
    error = InvalidInput(
        [Problem("$.id", "required key is missing"), Problem("$.typo", "unknown key")]
    )

    expected_lines = ["2 problems:", "  $.id: required key is missing", "  $.typo: unknown key"]
    assert expected_lines == str(error).splitlines()


def test_located_prefixes_file_and_line() -> None:
    error = InvalidInput.single("$.passed", "expected a boolean, got 1")

    returned = error.located(source="reports.ndjson", line=7)

    assert returned is error
    assert "reports.ndjson:7: $.passed: expected a boolean, got 1" == str(error)
    assert str(error) == error.args[0]


def test_located_without_line_prefixes_file_only() -> None:
    error = InvalidInput.single("$.id", "required key is missing").located(source="f.json")

    assert "f.json: $.id: required key is missing" == str(error)


def test_located_multiple_problems_prefix_the_header() -> None:
    error = InvalidInput([Problem("$.a", "x"), Problem("$.b", "y")]).located(
        source="f.json", line=2
    )

    assert ["f.json:2: 2 problems:", "  $.a: x", "  $.b: y"] == str(error).splitlines()


def test_invalid_input_without_problems_still_has_one() -> None:
    error = InvalidInput([])

    assert (Problem("$", "invalid input"),) == error.problems
    assert "$: invalid input" == str(error)


def test_read_ndjson_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reports.ndjson"
    path.write_text('\n{"fixture_id": 5}\n', encoding="utf-8")

    with pytest.raises(InvalidInput) as caught:
        read_ndjson(path, ReplayReport)

    assert str(path) == caught.value.source
    assert 2 == caught.value.line
    assert str(caught.value).startswith(f"{path}:2: ")


def test_input_unreadable_names_path_and_reason() -> None:
    error = InputUnreadable("/data/fixtures", "permission denied")

    assert "/data/fixtures" == error.path
    assert "permission denied" == error.reason
    assert "/data/fixtures: cannot read: permission denied" == str(error)


def test_duplicate_fixture_id_names_id_and_file() -> None:
    error = DuplicateFixtureId("greeting", source="b.json")

    assert "greeting" == error.fixture_id
    assert "b.json: $.id: duplicate id 'greeting'" == str(error)


# -- no terminal markup ----------------------------------------------------------------

_ESC = "\x1b"
_RED = "\x1b[31m"


def _messages_from_hostile_input() -> list[str]:
    messages: list[str] = []
    documents = [
        {"id": "a", "user_input": "b", f"{_RED}typo": 1},
        {"id": "a", "user_input": 5, "expect": {f"{_RED}x": 1, "max_tokens_total": _RED}},
        {"id": "a", "user_input": "b", "mock_response": {"kind": _RED}},
        {"id": "a", "user_input": "b", "expect": {"tool_sequence_mode": _RED}},
    ]
    for document in documents:
        try:
            from_json(Fixture, json.dumps(document))
        except InvalidInput as exc:
            messages.append(str(exc))
    try:
        validate_run_id(f"{_RED}/run")
    except InvalidRunId as exc:
        messages.append(str(exc))
    messages.append(str(DuplicateFixtureId(_RED)))
    return messages


def test_messages_contain_no_terminal_escape_codes() -> None:
    messages = _messages_from_hostile_input()

    assert 6 == len(messages)
    assert [] == [message for message in messages if _ESC in message]


def test_library_messages_are_plain_text() -> None:
    errors: list[Exception] = [
        InvalidInput([Problem("$.a", "x"), Problem("$.b", "y")]).located(source="f", line=1),
        InvalidRunId("", "must not be empty"),
        InputUnreadable("p", "r"),
        NotFound("run 'x' not found"),
    ]

    assert [] == [str(error) for error in errors if _ESC in str(error)]


def test_unknown_key_with_control_characters_is_quoted_in_its_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, json.dumps({"id": "a", "user_input": "b", f"{_RED}typo": 1}))

    assert ['$["\\u001b[31mtypo"]'] == [problem.path for problem in caught.value.problems]
