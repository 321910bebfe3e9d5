"""Bad input is rejected with an InvalidInput naming every problem and its JSON path."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    AwakenEvalError,
    EvalRun,
    EvalRunItem,
    Failure,
    Fixture,
    InvalidInput,
    MatrixCell,
    ReplayReport,
    TokenUsage,
    from_builtins,
    from_json,
    load_fixture,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import DiffEntry, DiffSummary
from awaken_eval.errors import InputUnreadable, InvalidExecutionShape, Problem
from awaken_eval.evaluation import EvaluationScope
from awaken_eval.failures import ReplayRuntimeFailure
from awaken_eval.wire import read_ndjson
from builders import report as make_report

FIXTURE_HEAD = '{"id":"x","user_input":"y"'


def fixture_json(extra: str) -> str:
    """A fixture document with ``extra`` (``"key":value`` pairs) after the required keys."""
    return FIXTURE_HEAD + ("," + extra if extra else "") + "}"


def problems_of(wire_type: Any, text: str) -> list[tuple[str, str]]:
    """Parse ``text``, expect an InvalidInput, return its (path, message) pairs."""
    with pytest.raises(InvalidInput) as caught:
        from_json(wire_type, text)
    return [(problem.path, problem.message) for problem in caught.value.problems]


# -- the acceptance case and the documented example ------------------------------------------


def test_typo_in_an_expectation_key_is_rejected_with_its_path() -> None:
    text = '{"id":"x","user_input":"y","expect":{"final_answer_contain":["a"]}}'
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, text)
    suggestion = 'unknown key (did you mean "final_answer_contains"?)'
    assert [Problem("$.expect.final_answer_contain", suggestion)] == list(caught.value.problems)
    assert f"$.expect.final_answer_contain: {suggestion}" == str(caught.value)


def test_wrong_type_message_names_path_and_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, fixture_json('"expect":{"max_tokens_total":"ten"}'))
    assert '$.expect.max_tokens_total: expected an integer, got "ten"' == str(caught.value)


# -- wrong types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ('"description":5', "$.description", "expected a string, got 5"),
        (
            '"allow_unused_provider_script":1',
            "$.allow_unused_provider_script",
            "expected a boolean, got 1",
        ),
        (
            '"allow_unused_provider_script":"true"',
            "$.allow_unused_provider_script",
            'expected a boolean, got "true"',
        ),
        (
            '"expect":{"max_tokens_total":true}',
            "$.expect.max_tokens_total",
            "expected an integer, got true",
        ),
        (
            '"expect":{"max_duration_ms":false}',
            "$.expect.max_duration_ms",
            "expected an integer, got false",
        ),
        (
            '"expect":{"max_tokens_total":10.0}',
            "$.expect.max_tokens_total",
            "expected an integer, got 10.0",
        ),
        (
            '"expect":{"max_tokens_total":"5"}',
            "$.expect.max_tokens_total",
            'expected an integer, got "5"',
        ),
        (
            '"expect":{"min_judge_score":"0.5"}',
            "$.expect.min_judge_score",
            'expected a number, got "0.5"',
        ),
        (
            '"expect":{"min_judge_score":true}',
            "$.expect.min_judge_score",
            "expected a number, got true",
        ),
        (
            '"expect":{"expected_error_type":1}',
            "$.expect.expected_error_type",
            "expected a string, got 1",
        ),
        ('"expect":[]', "$.expect", "expected a JSON object, got an array"),
        ('"expect":"none"', "$.expect", 'expected a JSON object, got "none"'),
        (
            '"expect":{"tool_sequence_mode":"subseq"}',
            "$.expect.tool_sequence_mode",
            'expected one of "exact", "ordered_subseq", got "subseq"',
        ),
        (
            '"provider_script":[{"kind":"chat_response","content":"a","finish_reason":"end_turn"}]',
            "$.provider_script[0].finish_reason",
            'expected one of "EndTurn", "MaxTokens", "ToolUse", "StopSequence", got "end_turn"',
        ),
        (
            '"provider_script":[{"kind":"chat_response","content":["a"]}]',
            "$.provider_script[0].content",
            "expected a string, got an array",
        ),
        (
            '"mock_response":"hello"',
            "$.mock_response",
            'expected a JSON object, got "hello"',
        ),
        (
            '"expect":{"final_answer_contains":["a",1]}',
            "$.expect.final_answer_contains[1]",
            "expected a string, got 1",
        ),
    ],
)
def test_wrong_types_are_reported_with_path(extra: str, path: str, message: str) -> None:
    assert [(path, message)] == problems_of(Fixture, fixture_json(extra))


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ('{"id":null,"user_input":"y"}', "$.id", "expected a string, got null"),
        ('{"id":"x","user_input":{}}', "$.user_input", "expected a string, got an object"),
    ],
)
def test_null_and_objects_are_not_strings(text: str, path: str, message: str) -> None:
    assert [(path, message)] == problems_of(Fixture, text)


def test_optional_keys_accept_null_as_absent() -> None:
    text = '{"id":"x","user_input":"y","description":null,"expect":{"max_tokens_total":null}}'
    assert Fixture(id="x", user_input="y") == from_json(Fixture, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected a JSON object, got an array"),
        ('"fixture"', 'expected a JSON object, got "fixture"'),
        ("null", "expected a JSON object, got null"),
        ("42", "expected a JSON object, got 42"),
    ],
)
def test_top_level_must_be_an_object(text: str, message: str) -> None:
    assert [("$", message)] == problems_of(Fixture, text)


# -- strings where arrays are expected -----------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path", "got"),
    [
        ('"expect":{"final_answer_contains":"a"}', "$.expect.final_answer_contains", '"a"'),
        (
            '"expect":{"final_answer_excludes":"secret"}',
            "$.expect.final_answer_excludes",
            '"secret"',
        ),
        ('"expect":{"tool_sequence":"search"}', "$.expect.tool_sequence", '"search"'),
        ('"expect":{"forbidden_tools":"rm"}', "$.expect.forbidden_tools", '"rm"'),
        ('"provider_script":"chat"', "$.provider_script", '"chat"'),
        ('"continued_turns":"more"', "$.continued_turns", '"more"'),
    ],
)
def test_a_string_is_not_an_array(extra: str, path: str, got: str) -> None:
    assert [(path, f"expected an array, got {got}")] == problems_of(Fixture, fixture_json(extra))


def test_an_object_is_not_an_array() -> None:
    assert [("$.provider_script", "expected an array, got an object")] == problems_of(
        Fixture, fixture_json('"provider_script":{"kind":"error","error_type":"e"}')
    )


# -- unsigned ranges ---------------------------------------------------------------------------

U32_RANGE = "expected an unsigned 32-bit integer (0..4294967295)"
U64_RANGE = "expected an unsigned 64-bit integer (0..18446744073709551615)"


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ('"expect":{"max_tokens_total":-1}', "$.expect.max_tokens_total", f"{U32_RANGE}, got -1"),
        (
            '"expect":{"max_tokens_total":4294967296}',
            "$.expect.max_tokens_total",
            f"{U32_RANGE}, got 4294967296",
        ),
        ('"expect":{"max_duration_ms":-5}', "$.expect.max_duration_ms", f"{U64_RANGE}, got -5"),
        (
            '"expect":{"max_duration_ms":18446744073709551616}',
            "$.expect.max_duration_ms",
            f"{U64_RANGE}, got 18446744073709551616",
        ),
        (
            '"expect":{"required_tool_calls":[{"name":"t","count":{"op":"at_most","n":-1}}]}',
            "$.expect.required_tool_calls[0].count.n",
            f"{U32_RANGE}, got -1",
        ),
        (
            '"provider_script":[{"kind":"chat_response","content":"","tokens":{"prompt_tokens":-3}}]',
            "$.provider_script[0].tokens.prompt_tokens",
            f"{U64_RANGE}, got -3",
        ),
    ],
)
def test_negative_and_too_large_numbers_for_unsigned_fields(
    extra: str, path: str, message: str
) -> None:
    assert [(path, message)] == problems_of(Fixture, fixture_json(extra))


def test_unsigned_bounds_are_inclusive() -> None:
    upper = fixture_json(
        '"expect":{"max_tokens_total":4294967295,"max_duration_ms":18446744073709551615}'
    )
    fixture: Fixture = from_json(Fixture, upper)
    expect = fixture.expect
    assert (4294967295, 18446744073709551615) == (expect.max_tokens_total, expect.max_duration_ms)
    lower: Fixture = from_json(
        Fixture, fixture_json('"expect":{"max_tokens_total":0,"max_duration_ms":0}')
    )
    assert (0, 0) == (lower.expect.max_tokens_total, lower.expect.max_duration_ms)


def test_negative_unsigned_deep_in_a_report() -> None:
    report = json.loads(to_json(make_report()))
    report["failures"] = [
        {
            "kind": "replay_runtime_failure",
            "failure": {"kind": "script_exhausted", "extra_calls": -2},
        }
    ]
    report["session_duration_ms"] = -1
    with pytest.raises(InvalidInput) as caught:
        from_builtins(ReplayReport, report)
    assert [
        ("$.failures[0].failure.extra_calls", f"{U32_RANGE}, got -2"),
        ("$.session_duration_ms", f"{U64_RANGE}, got -1"),
    ] == [(p.path, p.message) for p in caught.value.problems]


def test_sample_index_must_be_unsigned() -> None:
    item = {"fixture_id": "a", "report": json.loads(to_json(make_report())), "sample_index": -1}
    with pytest.raises(InvalidInput) as caught:
        from_builtins(EvalRunItem, item)
    assert [("$.sample_index", f"{U32_RANGE}, got -1")] == [
        (p.path, p.message) for p in caught.value.problems
    ]


# -- unknown keys at several depths ------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ('"bogus":1', "$.bogus"),
        ('"expect":{"final_answer_contain":["a"]}', "$.expect.final_answer_contain"),
        (
            '"expect":{"required_tool_calls":[{"name":"t","args":{}}]}',
            "$.expect.required_tool_calls[0].args",
        ),
        (
            '"expect":{"required_tool_calls":[{"name":"t","count":{"op":"exactly","n":1,"max":2}}]}',
            "$.expect.required_tool_calls[0].count.max",
        ),
        (
            (
                '"provider_script":[{"kind":"chat_response","content":"a"},'
                '{"kind":"chat_response","content":"b","tokens":{"input":5}}]'
            ),
            "$.provider_script[1].tokens.input",
        ),
        (
            '"provider_script":[{"kind":"error","error_type":"e","code":429}]',
            "$.provider_script[0].code",
        ),
        ('"mock_response":{"kind":"text","text":"a","delay":1}', "$.mock_response.delay"),
        (
            '"continued_turns":[{"user_input":"a","expect":{}}]',
            "$.continued_turns[0].expect",
        ),
        (
            (
                '"continued_turns":[{"user_input":"a","provider_script":[{"kind":"tool_call",'
                '"id":"1","name":"n","arguments":{},"tokens":{"prompt":1}}]}]'
            ),
            "$.continued_turns[0].provider_script[0].tokens.prompt",
        ),
        (
            (
                '"expected_outcome":{"redacted_summary":"s","criteria":[{"criterion_id":"c",'
                '"redacted_summary":"s","wieght":"2"}]}'
            ),
            "$.expected_outcome.criteria[0].wieght",
        ),
    ],
)
def test_unknown_keys_are_rejected_at_every_depth(extra: str, path: str) -> None:
    ((found, message),) = problems_of(Fixture, fixture_json(extra))
    assert (path, True) == (found, message.startswith("unknown key"))


def test_an_unknown_key_suggests_the_closest_known_key() -> None:
    assert [
        ("$.expect.final_answer_contain", 'unknown key (did you mean "final_answer_contains"?)')
    ] == problems_of(Fixture, fixture_json('"expect":{"final_answer_contain":["a"]}'))
    assert [("$.zzz", "unknown key")] == problems_of(Fixture, fixture_json('"zzz":1'))


def test_unknown_key_deep_in_a_run() -> None:
    report = json.loads(to_json(make_report()))
    report["failures"] = [
        {
            "kind": "replay_runtime_failure",
            "failure": {"kind": "runtime_error", "message": "m", "code": 1},
        }
    ]
    report["passed"] = False
    run = {
        "id": "r",
        "dataset_id": "d",
        "dataset_revision": 0,
        "items": [{"fixture_id": "f", "report": report, "cell": {"model": "m"}}],
        "started_at_secs": 0,
        "ended_at_secs": 0,
    }
    with pytest.raises(InvalidInput) as caught:
        from_builtins(EvalRun, run)
    assert [
        ("$.items[0].cell.model", 'unknown key (did you mean "model_id"?)'),
        ("$.items[0].report.failures[0].failure.code", "unknown key"),
    ] == sorted((p.path, p.message) for p in caught.value.problems)


def test_token_usage_with_foreign_keys_is_not_silently_empty() -> None:
    assert [("$.input", "unknown key")] == problems_of(TokenUsage, '{"input":5}')


# -- missing required keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire_type", "text", "paths"),
    [
        (Fixture, '{"user_input":"y"}', ["$.id"]),
        (Fixture, '{"id":"x"}', ["$.user_input"]),
        (Fixture, "{}", ["$.id", "$.user_input"]),
        (
            Fixture,
            fixture_json('"provider_script":[{"kind":"chat_response"}]'),
            ["$.provider_script[0].content"],
        ),
        (
            Fixture,
            fixture_json('"provider_script":[{"kind":"tool_call","id":"1","name":"n"}]'),
            ["$.provider_script[0].arguments"],
        ),
        (
            Fixture,
            fixture_json('"mock_response":{"kind":"error","error_type":"e"}'),
            ["$.mock_response.message"],
        ),
        (Fixture, fixture_json('"continued_turns":[{}]'), ["$.continued_turns[0].user_input"]),
        (
            Fixture,
            fixture_json('"expect":{"required_tool_calls":[{"count":{"op":"exactly"}}]}'),
            ["$.expect.required_tool_calls[0].name", "$.expect.required_tool_calls[0].count.n"],
        ),
        (Failure, '{"kind":"token_budget_exceeded","budget":1}', ["$.actual"]),
        (ReplayRuntimeFailure, '{"kind":"runtime_error"}', ["$.message"]),
        (DiffEntry, '{"kind":"newly_added","fixture_id":"a"}', ["$.passed"]),
        (MatrixCell, "{}", []),
        (EvalRunItem, '{"fixture_id":"a"}', ["$.report"]),
        (EvaluationScope, '{"scope":"custom"}', ["$.scope_ref"]),
        (
            ReplayReport,
            (
                '{"fixture_id":"a","passed":true,"failures":[],"final_text":"","inference_count":0,'
                '"tool_count":0,"tool_failures":0,"total_input_tokens":0,"total_output_tokens":0}'
            ),
            ["$.session_duration_ms"],
        ),
    ],
)
def test_missing_required_keys(wire_type: Any, text: str, paths: list[str]) -> None:
    if not paths:
        assert MatrixCell() == from_json(wire_type, text)
        return
    assert [(path, "required key is missing") for path in paths] == problems_of(wire_type, text)


# -- tags -----------------------------------------------------------------------------------------

SCRIPT_KINDS = '"chat_response", "tool_call", "error"'


@pytest.mark.parametrize(
    ("wire_type", "text", "path", "message"),
    [
        (
            Fixture,
            fixture_json('"provider_script":[{"kind":"chat"}]'),
            "$.provider_script[0].kind",
            f'unknown kind "chat"; expected one of {SCRIPT_KINDS}',
        ),
        (
            Fixture,
            fixture_json('"provider_script":[{"content":"a"}]'),
            "$.provider_script[0].kind",
            f"missing; expected one of {SCRIPT_KINDS}",
        ),
        (
            Fixture,
            fixture_json('"provider_script":[{"kind":null,"content":"a"}]'),
            "$.provider_script[0].kind",
            f"missing; expected one of {SCRIPT_KINDS}",
        ),
        (
            Fixture,
            fixture_json('"mock_response":{"kind":"json","text":"a"}'),
            "$.mock_response.kind",
            'unknown kind "json"; expected one of "text", "error"',
        ),
        (
            ReplayRuntimeFailure,
            '{"kind":"crashed"}',
            "$.kind",
            (
                'unknown kind "crashed"; expected one of "script_exhausted", '
                '"provider_script_unused", "runtime_error"'
            ),
        ),
        (
            DiffEntry,
            '{"kind":"regressed","fixture_id":"a"}',
            "$.kind",
            (
                'unknown kind "regressed"; expected one of "unchanged", "regression", "fixed", '
                '"still_failing", "drift", "missing_from_new", "newly_added"'
            ),
        ),
        (
            EvaluationScope,
            '{"scope":"planet"}',
            "$.scope",
            'unknown scope "planet"; expected one of "run", "turn", "session", "custom"',
        ),
        (
            EvaluationScope,
            '{"kind":"run","run_id":"r"}',
            "$.scope",
            'missing; expected one of "run", "turn", "session", "custom"',
        ),
    ],
)
def test_unknown_and_missing_tags(wire_type: Any, text: str, path: str, message: str) -> None:
    assert [(path, message)] == problems_of(wire_type, text)


def test_non_string_tag_is_an_unknown_tag() -> None:
    [(path, message)] = problems_of(Failure, '{"kind":1}')
    assert "$.kind" == path
    assert message.startswith('unknown kind 1; expected one of "answer_missing_phrase", ')


def test_a_variant_with_another_variants_fields_is_rejected() -> None:
    assert [("$.phrase", "unknown key"), ("$.tool", "required key is missing")] == problems_of(
        Failure, '{"kind":"forbidden_tool_used","phrase":"p"}'
    )


# -- invalid JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"id":"x","user_input":', "invalid JSON: Expecting value (line 1, column 24)"),
        ('{"id":"x"', "invalid JSON: Expecting ',' delimiter (line 1, column 10)"),
        ("", "invalid JSON: Expecting value (line 1, column 1)"),
        ("not json", "invalid JSON: Expecting value (line 1, column 1)"),
        ('{"id":"x","user_input":"y"} {}', "invalid JSON: Extra data (line 1, column 29)"),
        (
            "{'id':'x'}",
            "invalid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
    ],
)
def test_truncated_and_malformed_json(text: str, message: str) -> None:
    assert [("$", message)] == problems_of(Fixture, text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_rejected(literal: str) -> None:
    text = fixture_json(f'"expect":{{"min_judge_score":{literal}}}')
    assert [("$", f"invalid JSON: {literal} is not valid JSON")] == problems_of(Fixture, text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_nan_is_rejected_even_inside_free_form_json(literal: str) -> None:
    text = fixture_json(
        f'"provider_script":[{{"kind":"tool_call","id":"1","name":"n","arguments":{{"x":{literal}}}}}]'
    )
    assert [("$", f"invalid JSON: {literal} is not valid JSON")] == problems_of(Fixture, text)


def test_bytes_that_are_not_utf8_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, b'{"id":"\xff","user_input":"y"}')
    assert ["$"] == [problem.path for problem in caught.value.problems]
    assert caught.value.problems[0].message.startswith("invalid JSON: ")


# -- several problems at once ------------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    text = (
        '{"id":1,"user_input":2,"bogus":3,'
        '"expect":{"max_tokens_total":"ten","typo":1,"final_answer_contains":"a"},'
        '"provider_script":[{"kind":"chat_response","content":"ok"},{"kind":"nope"},'
        '{"kind":"error"}]}'
    )
    expected = [
        ("$.bogus", "unknown key"),
        ("$.id", "expected a string, got 1"),
        ("$.user_input", "expected a string, got 2"),
        ("$.provider_script[1].kind", f'unknown kind "nope"; expected one of {SCRIPT_KINDS}'),
        ("$.provider_script[2].error_type", "required key is missing"),
        ("$.expect.typo", "unknown key"),
        ("$.expect.final_answer_contains", 'expected an array, got "a"'),
        ("$.expect.max_tokens_total", 'expected an integer, got "ten"'),
    ]
    assert expected == problems_of(Fixture, text)


def test_message_of_several_problems_lists_one_per_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, '{"id":1,"user_input":2}')
    expected = (
        "2 problems:\n  $.id: expected a string, got 1\n  $.user_input: expected a string, got 2"
    )
    assert expected == str(caught.value)


def test_problems_of_several_list_elements() -> None:
    text = (
        '{"entries":[{"kind":"unchanged"},{"kind":"newly_added","fixture_id":"b","passed":"yes"},'
        '{"kind":"fixed","fixture_id":"c"}]}'
    )
    assert [
        ("$.entries[0].fixture_id", "required key is missing"),
        ("$.entries[1].passed", 'expected a boolean, got "yes"'),
    ] == problems_of(DiffSummary, text)


# -- record rules checked while reading ---------------------------------------------------------------


@pytest.mark.parametrize("weight", ["heavy", "-1", "1e999", "", "nan", "inf", "0x10"])
def test_non_numeric_criterion_weight_is_rejected(weight: str) -> None:
    text = fixture_json(
        '"expected_outcome":{"redacted_summary":"s","criteria":'
        f'[{{"criterion_id":"c","redacted_summary":"s","weight":{json.dumps(weight)}}}]}}'
    )
    [(path, message)] = problems_of(Fixture, text)
    assert "$.expected_outcome.criteria[0].weight" == path
    assert message.startswith("weight must be a finite non-negative number, got ")


def test_overlong_redacted_summary_is_rejected() -> None:
    text = fixture_json('"expected_outcome":{"redacted_summary":"' + "a" * 2049 + '"}')
    assert [
        (
            "$.expected_outcome.redacted_summary",
            "redacted summary is 2049 characters long; the maximum is 2048",
        )
    ] == problems_of(Fixture, text)


def test_execution_shape_error_is_an_invalid_input() -> None:
    run = {
        "id": "r",
        "dataset_id": "d",
        "dataset_revision": 0,
        "execution_mode": "live",
        "items": [{"fixture_id": "f", "report": json.loads(to_json(make_report()))}],
        "started_at_secs": 0,
        "ended_at_secs": 0,
    }
    with pytest.raises(InvalidExecutionShape) as caught:
        from_builtins(EvalRun, run)
    assert isinstance(caught.value, InvalidInput)
    assert ["$.items[0].cell"] == [problem.path for problem in caught.value.problems]


# -- error classes -----------------------------------------------------------------------------------

BAD_DOCUMENTS: list[tuple[Any, str]] = [
    (Fixture, '{"id":"x","user_input":"y","expect":{"final_answer_contain":["a"]}}'),
    (Fixture, "{"),
    (Fixture, "NaN"),
    (Fixture, "[1,2]"),
    (Fixture, '{"id":"x","user_input":"y","provider_script":[{"kind":1}]}'),
    (ReplayReport, "{}"),
    (EvalRun, '{"items":"none"}'),
    (
        EvalRun,
        '{"id":"r","dataset_id":"d","dataset_revision":0,"started_at_secs":0,"ended_at_secs":0,"execution_mode":"fast"}',
    ),
    (Failure, "null"),
    (tuple[Fixture, ...], '[{"id":"a"}]'),
    (tuple[Fixture, ...], '{"id":"a"}'),
]


@pytest.mark.parametrize(("wire_type", "text"), BAD_DOCUMENTS)
def test_every_error_is_an_invalid_input(wire_type: Any, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(wire_type, text)
    error = caught.value
    assert (True, True, True) == (
        isinstance(error, AwakenEvalError),
        isinstance(error, ValueError),
        type(error).__module__ == "awaken_eval.errors",
    )
    assert all(problem.path.startswith("$") for problem in error.problems)
    assert error.__cause__ is None


def test_sequence_of_records_reports_element_paths() -> None:
    assert [("$[1].user_input", "required key is missing")] == problems_of(
        tuple[Fixture, ...], '[{"id":"a","user_input":"b"},{"id":"c"}]'
    )


def _load(wire_type: Any, data: Any) -> tuple[Any, tuple[Problem, ...]]:
    """Load ``data`` and return (record, ()) or (None, problems); anything else escapes."""
    try:
        return from_builtins(wire_type, data), ()
    except InvalidInput as error:
        return None, error.problems


def _check_loaded_or_explained(wire_type: Any, record: Any, problems: tuple[Problem, ...]) -> None:
    if problems:
        assert [] == [p for p in problems if not p.path.startswith("$") or not p.message]
    else:
        # whatever is accepted can be written and read back unchanged
        assert record == from_json(wire_type, to_json(record))


ARBITRARY_TARGETS = [Fixture, ReplayReport, EvalRun, Failure, DiffEntry, EvaluationScope]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ARBITRARY_TARGETS), s.json_values(max_leaves=10))
def test_arbitrary_json_never_raises_anything_but_invalid_input(wire_type: Any, data: Any) -> None:
    record, problems = _load(wire_type, data)
    _check_loaded_or_explained(wire_type, record, problems)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_never_raises_anything_but_invalid_input(text: str) -> None:
    try:
        from_json(Fixture, text)
    except InvalidInput as error:
        problems = error.problems
    else:
        problems = ()
    assert [] == [p for p in problems if not p.path.startswith("$") or not p.message]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            paths.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            paths.extend(_paths(inner, (*prefix, index)))
    return paths


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], tuple(rest), new)}
    copy = list(value)
    copy[head] = _replace(copy[head], tuple(rest), new)
    return copy


@st.composite
def _mutated_fixture_documents(draw: st.DrawFn) -> Any:
    document = to_builtins(draw(s.fixtures()))
    path = draw(st.sampled_from(_paths(document)))
    return _replace(document, path, draw(s.json_values(max_leaves=3)))


@settings(max_examples=100, deadline=None)
@given(_mutated_fixture_documents())
def test_mutated_documents_load_or_raise_invalid_input(document: Any) -> None:
    record, problems = _load(Fixture, document)
    _check_loaded_or_explained(Fixture, record, problems)


# -- NDJSON files -------------------------------------------------------------------------------------


def test_read_ndjson_names_the_file_and_the_one_based_line(tmp_path: Path) -> None:
    good = to_json(make_report())
    bad = good.replace('"passed":true', '"passed":1')
    path = tmp_path / "report.ndjson"
    path.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_ndjson(path, ReplayReport)
    error = caught.value
    assert (str(path), 3) == (error.source, error.line)
    assert f"{path}:3: $.passed: expected a boolean, got 1" == str(error)


def test_read_ndjson_reports_invalid_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "report.ndjson"
    path.write_text(to_json(make_report()) + "\ngarbage\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_ndjson(path, ReplayReport)
    assert f"{path}:2: $: invalid JSON: Expecting value (line 1, column 1)" == str(caught.value)


def test_read_ndjson_lists_every_problem_of_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "report.ndjson"
    path.write_text('{"fixture_id":1,"passed":"no"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_ndjson(path, ReplayReport)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: 10 problems:\n  $.fixture_id: expected a string, got 1\n")
    assert '\n  $.passed: expected a boolean, got "no"\n' in message


def test_read_ndjson_skips_blank_and_whitespace_only_lines(tmp_path: Path) -> None:
    line = to_json(make_report())
    path = tmp_path / "report.ndjson"
    path.write_text(f"\n   \n{line}\n\t\n\n{line}\n\n", encoding="utf-8")
    assert [make_report(), make_report()] == read_ndjson(path, ReplayReport)


def test_read_ndjson_accepts_crlf_line_endings(tmp_path: Path) -> None:
    line = to_json(make_report())
    path = tmp_path / "report.ndjson"
    path.write_bytes(f"{line}\r\n\r\n{line}\r\n".encode())
    assert [make_report(), make_report()] == read_ndjson(path, ReplayReport)


def test_read_ndjson_of_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.ndjson"
    path.write_text("", encoding="utf-8")
    assert [] == read_ndjson(path, ReplayReport)


def test_read_ndjson_of_a_missing_file_is_input_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "missing.ndjson"
    with pytest.raises(InputUnreadable) as caught:
        read_ndjson(path, ReplayReport)
    assert str(path) == caught.value.path
    assert isinstance(caught.value, AwakenEvalError)


def test_load_fixture_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "01.json"
    path.write_text(
        '{"id":"x","user_input":"y","expect":{"final_answer_contain":["a"]}}', encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as caught:
        load_fixture(path)
    assert (
        f'{path}: $.expect.final_answer_contain: unknown key (did you mean "final_answer_contains"?)'
    ) == str(caught.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(s.replay_reports(), min_size=1, max_size=3), st.data())
def test_read_ndjson_points_at_the_corrupted_line(
    reports: list[ReplayReport], data: st.DataObject
) -> None:
    lines = [to_json(report) for report in reports]
    bad_index = data.draw(st.integers(0, len(lines)))
    lines.insert(bad_index, '{"fixture_id":"broken"}')
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "r.ndjson"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as caught:
            read_ndjson(path, ReplayReport)
    assert (str(path), bad_index + 1) == (caught.value.source, caught.value.line)
