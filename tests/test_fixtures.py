"""Behaviour tests for fixtures, their wire format and directory loading (spec §1.1, §7.1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awaken_eval import (
    ChatResponseEvent,
    DatasetSpec,
    DialogueTurn,
    ErrorEvent,
    Expectation,
    Fixture,
    InvalidInput,
    ProviderScriptEvent,
    StopReason,
    TokenUsage,
    ToolCallEvent,
    ToolCallMatcher,
    from_builtins,
    from_json,
    load_directory,
    load_fixture,
    to_builtins,
    to_json,
)
from awaken_eval.errors import DuplicateFixtureId, InputUnreadable
from awaken_eval.failures import CountConstraint, ToolSequenceMode
from awaken_eval.records import MockErrorResponse, MockResponse, MockTextResponse


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _fixture_json(fixture_id: str, user_input: str = "hello") -> dict[str, Any]:
    return {"id": fixture_id, "user_input": user_input}


# -- judge prompt ----------------------------------------------------------------------


def test_judge_prompt_returns_user_input_when_no_continued_turns() -> None:
    fixture = Fixture("single", "What is the weather in Paris?\nAnswer briefly.")

    assert "What is the weather in Paris?\nAnswer briefly." == fixture.judge_prompt()


def test_judge_prompt_includes_continued_turn_user_inputs() -> None:
    fixture = Fixture(
        "dialogue",
        "book a flight",
        provider_script=(ChatResponseEvent("to where?"),),
        continued_turns=(
            DialogueTurn("to Oslo", provider_script=(ChatResponseEvent("which day?"),)),
            DialogueTurn("on Friday"),
        ),
    )

    expected = "Turn 1 (user): book a flight\n\nTurn 2 (user): to Oslo\n\nTurn 3 (user): on Friday"
    assert expected == fixture.judge_prompt()


# -- scripted replay error -------------------------------------------------------------


def test_scripted_replay_error_surfaces_live_only_marker() -> None:
    fixture = Fixture(
        "live-only-fixture", "hi", provider_script_error="tool output was not captured"
    )

    message = fixture.scripted_replay_error()

    assert message is not None
    assert "live-only-fixture" in message
    assert "tool output was not captured" in message
    assert "no replayable provider_script" in message


def test_scripted_replay_error_names_first_continued_turn_with_marker() -> None:
    fixture = Fixture(
        "dialogue",
        "hi",
        continued_turns=(
            DialogueTurn("fine turn"),
            DialogueTurn("second", provider_script_error="reason-two"),
            DialogueTurn("third", provider_script_error="reason-three"),
        ),
    )

    message = fixture.scripted_replay_error()

    assert message is not None
    assert "dialogue" in message
    assert "continued_turn 2" in message
    assert "reason-two" in message
    assert "no replayable provider_script" in message
    assert "reason-three" not in message


def test_scripted_replay_error_prefers_fixture_marker_over_continued_turn_marker() -> None:
    fixture = Fixture(
        "both",
        "hi",
        provider_script_error="first-turn-reason",
        continued_turns=(DialogueTurn("later", provider_script_error="later-reason"),),
    )

    message = fixture.scripted_replay_error()

    assert message is not None
    assert "first-turn-reason" in message
    assert "continued_turn" not in message


def test_scripted_replay_error_is_none_for_replayable_fixture() -> None:
    fixture = Fixture("ok", "hi", continued_turns=(DialogueTurn("more"),))

    assert fixture.scripted_replay_error() is None


# -- mock response ---------------------------------------------------------------------


def test_mock_response_default_is_empty_text() -> None:
    fixture = Fixture("f", "hi")

    assert MockTextResponse("") == fixture.mock_response
    assert {"kind": "text", "text": ""} == to_builtins(fixture)["mock_response"]


def test_mock_response_text_serde_roundtrip() -> None:
    response = MockTextResponse("hello there")

    assert {"kind": "text", "text": "hello there"} == to_builtins(response)
    parsed: MockResponse = from_json(MockResponse, to_json(response))
    assert response == parsed


def test_mock_response_error_serde_roundtrip() -> None:
    response = MockErrorResponse("rate_limit", "slow down")

    assert {"kind": "error", "error_type": "rate_limit", "message": "slow down"} == to_builtins(
        response
    )
    parsed: MockResponse = from_json(MockResponse, to_json(response))
    assert response == parsed


def test_mock_response_error_requires_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_builtins(MockResponse, {"kind": "error", "error_type": "rate_limit"})

    assert ["$.message"] == [problem.path for problem in caught.value.problems]


# -- parsing ---------------------------------------------------------------------------


def test_fixture_from_json_minimal_succeeds() -> None:
    fixture: Fixture = from_json(Fixture, '{"id": "minimal", "user_input": "hi"}')

    assert Fixture("minimal", "hi") == fixture
    assert () == fixture.provider_script
    assert () == fixture.continued_turns
    assert MockTextResponse("") == fixture.mock_response
    assert Expectation() == fixture.expect
    assert fixture.allow_unused_provider_script is False
    assert fixture.source_run_id is None
    assert fixture.source_model_id is None


def test_fixture_from_json_full_succeeds() -> None:
    document = {
        "id": "full",
        "description": "every expectation key",
        "user_input": "find the docs",
        "expect": {
            "final_answer_contains": ["docs", "found"],
            "final_answer_excludes": ["sorry"],
            "tool_sequence": ["search", "read"],
            "tool_sequence_mode": "ordered_subseq",
            "forbidden_tools": ["delete"],
            "required_tool_calls": [
                {"name": "search", "args_subset": {"q": "docs"}, "count": {"op": "exactly", "n": 1}}
            ],
            "max_tokens_total": 500,
            "max_duration_ms": 2000,
            "min_judge_score": 0.75,
            "expected_error_type": "rate_limit",
        },
    }

    fixture: Fixture = from_json(Fixture, json.dumps(document))

    expected = Expectation(
        final_answer_contains=("docs", "found"),
        final_answer_excludes=("sorry",),
        tool_sequence=("search", "read"),
        tool_sequence_mode=ToolSequenceMode.ORDERED_SUBSEQ,
        forbidden_tools=("delete",),
        required_tool_calls=(
            ToolCallMatcher("search", args_subset={"q": "docs"}, count=CountConstraint.exactly(1)),
        ),
        max_tokens_total=500,
        max_duration_ms=2000,
        min_judge_score=0.75,
        expected_error_type="rate_limit",
    )
    assert expected == fixture.expect
    assert "every expectation key" == fixture.description


def test_fixture_from_json_rejects_garbage() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, "this is { not json")

    assert ["$"] == [problem.path for problem in caught.value.problems]
    assert "invalid JSON" in str(caught.value)


def test_fixture_from_json_rejects_missing_id() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, '{"user_input": "hi"}')

    assert ["$.id"] == [problem.path for problem in caught.value.problems]


def test_fixture_from_json_rejects_missing_user_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, '{"id": "f"}')

    assert ["$.user_input"] == [problem.path for problem in caught.value.problems]


def test_fixture_minimal_wire_form_always_writes_mock_response_and_expect() -> None:
    expected = {
        "id": "f",
        "user_input": "hi",
        "mock_response": {"kind": "text", "text": ""},
        "expect": {},
    }

    assert expected == to_builtins(Fixture("f", "hi"))


def test_provider_script_events_default_tokens_finish_reason_and_message() -> None:
    events: tuple[ProviderScriptEvent, ...] = from_json(
        tuple[ProviderScriptEvent, ...],
        '[{"kind": "chat_response", "content": "x"}, {"kind": "error", "error_type": "e"}]',
    )

    assert (ChatResponseEvent("x"), ErrorEvent("e")) == events
    assert TokenUsage() == ChatResponseEvent("x").tokens
    assert StopReason.END_TURN == ChatResponseEvent("x").finish_reason
    assert [
        {"kind": "chat_response", "content": "x", "tokens": {}, "finish_reason": "EndTurn"},
        {"kind": "error", "error_type": "e", "message": ""},
    ] == to_builtins(events)


# -- loading files ---------------------------------------------------------------------


def test_fixture_load_returns_io_error_for_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"

    with pytest.raises(InputUnreadable) as caught:
        load_fixture(missing)

    assert str(missing) == caught.value.path
    assert str(missing) in str(caught.value)


def test_fixture_load_round_trips_through_disk(tmp_path: Path) -> None:
    fixture = Fixture(
        "disk",
        "héllo",
        description="written then read",
        provider_script=(
            ToolCallEvent("call-1", "search", {"q": ["a", 1, None]}),
            ChatResponseEvent("done", tokens=TokenUsage(prompt_tokens=3, completion_tokens=1)),
        ),
        expect=Expectation(final_answer_contains=("done",)),
    )
    path = tmp_path / "disk.json"
    path.write_text(to_json(fixture, pretty=True), encoding="utf-8")

    assert fixture == load_fixture(path)


def test_load_directory_returns_sorted_fixtures(tmp_path: Path) -> None:
    _write(tmp_path / "a.json", _fixture_json("zeta"))
    _write(tmp_path / "b.json", _fixture_json("alpha"))
    _write(tmp_path / "c.json", _fixture_json("mid"))

    assert ["alpha", "mid", "zeta"] == [fixture.id for fixture in load_directory(tmp_path)]


def test_load_directory_ignores_non_json(tmp_path: Path) -> None:
    _write(tmp_path / "kept.json", _fixture_json("kept"))
    _write(tmp_path / "notes.txt", _fixture_json("txt"))
    _write(tmp_path / "upper.JSON", _fixture_json("upper"))
    _write(tmp_path / "backup.json.bak", _fixture_json("bak"))
    _write(tmp_path / "lines.jsonl", _fixture_json("jsonl"))
    _write(tmp_path / ".hidden.json", _fixture_json("hidden"))
    (tmp_path / "README").write_text("not a fixture", encoding="utf-8")

    assert ["kept"] == [fixture.id for fixture in load_directory(tmp_path)]


def test_load_directory_ignores_subdirectories(tmp_path: Path) -> None:
    _write(tmp_path / "top.json", _fixture_json("top"))
    nested = tmp_path / "nested"
    nested.mkdir()
    _write(nested / "inner.json", _fixture_json("inner"))
    (tmp_path / "looks-like.json").mkdir()

    assert ["top"] == [fixture.id for fixture in load_directory(tmp_path)]


def test_load_directory_detects_duplicate_ids(tmp_path: Path) -> None:
    _write(tmp_path / "one.json", _fixture_json("same-id"))
    _write(tmp_path / "two.json", _fixture_json("same-id"))

    with pytest.raises(DuplicateFixtureId) as caught:
        load_directory(tmp_path)

    assert "same-id" == caught.value.fixture_id
    assert "same-id" in str(caught.value)


def test_load_directory_returns_empty_for_empty_dir(tmp_path: Path) -> None:
    assert [] == load_directory(tmp_path)


def test_load_directory_propagates_parse_errors(tmp_path: Path) -> None:
    _write(tmp_path / "good.json", _fixture_json("good"))
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")

    with pytest.raises(InvalidInput) as caught:
        load_directory(tmp_path)

    assert str(bad) == caught.value.source
    assert str(bad) in str(caught.value)


def test_load_directory_propagates_schema_errors_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "good.json", _fixture_json("good"))
    bad = _write(tmp_path / "missing-id.json", {"user_input": "hi"})

    with pytest.raises(InvalidInput) as caught:
        load_directory(tmp_path)

    assert f"{bad}: $.id: required key is missing" == str(caught.value)


def test_load_directory_of_missing_directory_is_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "absent"

    with pytest.raises(InputUnreadable) as caught:
        load_directory(missing)

    assert str(missing) == caught.value.path


# -- effective and combined scripts ----------------------------------------------------

_EXPLICIT_SCRIPT: tuple[ProviderScriptEvent, ...] = (
    ToolCallEvent("call-1", "search", {"q": "x"}, tokens=TokenUsage(total_tokens=7)),
    ErrorEvent("overloaded", message="busy"),
    ChatResponseEvent("answer", finish_reason=StopReason.MAX_TOKENS),
)


def test_effective_script_uses_provider_script_when_present() -> None:
    fixture = Fixture(
        "f",
        "hi",
        provider_script=_EXPLICIT_SCRIPT,
        mock_response=MockErrorResponse("ignored", "the script wins"),
    )

    assert _EXPLICIT_SCRIPT == fixture.effective_script()


def test_effective_script_shims_legacy_text_mock_response() -> None:
    fixture = Fixture("f", "abcdefghi", mock_response=MockTextResponse("hello"))

    expected = (
        ChatResponseEvent(
            "hello",
            tokens=TokenUsage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
            finish_reason=StopReason.END_TURN,
        ),
    )
    assert expected == fixture.effective_script()


def test_effective_script_legacy_text_seeds_non_zero_token_estimate() -> None:
    fixture = Fixture("f", "What is 2+2?", mock_response=MockTextResponse("four"))

    (event,) = fixture.effective_script()

    assert isinstance(event, ChatResponseEvent)
    assert TokenUsage(prompt_tokens=3, completion_tokens=1, total_tokens=4) == event.tokens


def test_effective_script_token_estimate_counts_code_points() -> None:
    # 7 code points (21 UTF-8 bytes) and 5 code points (20 UTF-8 bytes, 10 UTF-16 units).
    fixture = Fixture("f", "日本語テキスト", mock_response=MockTextResponse("👍👍👍👍👍"))

    expected = (
        ChatResponseEvent(
            "👍👍👍👍👍",
            tokens=TokenUsage(prompt_tokens=2, completion_tokens=2, total_tokens=4),
        ),
    )
    assert expected == fixture.effective_script()


@given(user_input=st.text(), text=st.text())
def test_effective_script_token_estimate_is_ceil_of_code_points_over_four(
    user_input: str, text: str
) -> None:
    fixture = Fixture("f", user_input, mock_response=MockTextResponse(text))
    prompt = (len(user_input) + 3) // 4
    completion = (len(text) + 3) // 4

    expected = (
        ChatResponseEvent(
            text,
            tokens=TokenUsage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            ),
        ),
    )
    assert expected == fixture.effective_script()


def test_effective_script_shims_legacy_error_mock_response() -> None:
    fixture = Fixture("f", "hi", mock_response=MockErrorResponse("rate_limit", "slow down"))

    assert (ErrorEvent("rate_limit", message="slow down"),) == fixture.effective_script()


def test_effective_script_shims_empty_default_mock_response() -> None:
    fixture = Fixture("f", "12345")

    expected = (
        ChatResponseEvent(
            "", tokens=TokenUsage(prompt_tokens=2, completion_tokens=0, total_tokens=2)
        ),
    )
    assert expected == fixture.effective_script()


def test_combined_script_appends_continued_turn_scripts_in_order() -> None:
    second = (ChatResponseEvent("turn two"),)
    third = (ToolCallEvent("c", "lookup", {}), ChatResponseEvent("turn three"))
    fixture = Fixture(
        "f",
        "hi",
        provider_script=_EXPLICIT_SCRIPT,
        continued_turns=(
            DialogueTurn("next", provider_script=second),
            DialogueTurn("last", provider_script=third),
        ),
    )

    assert _EXPLICIT_SCRIPT + second + third == fixture.combined_script()


def test_combined_script_shims_turn_zero_but_never_continued_turns() -> None:
    fixture = Fixture(
        "f",
        "abcd",
        mock_response=MockTextResponse("legacy"),
        continued_turns=(
            DialogueTurn("empty turn"),
            DialogueTurn("scripted", provider_script=(ErrorEvent("boom"),)),
            DialogueTurn("another empty turn"),
        ),
    )

    expected = (
        ChatResponseEvent(
            "legacy", tokens=TokenUsage(prompt_tokens=1, completion_tokens=2, total_tokens=3)
        ),
        ErrorEvent("boom"),
    )
    assert expected == fixture.combined_script()


# -- round trips -----------------------------------------------------------------------


def test_fixture_round_trips_provider_script_and_source_metadata() -> None:
    fixture = Fixture(
        "curated",
        "summarise the report",
        description="curated from a trace",
        provider_script=_EXPLICIT_SCRIPT,
        source_run_id="run-123",
        source_model_id="gpt-test",
        allow_unused_provider_script=True,
        continued_turns=(DialogueTurn("and again", provider_script_error="not captured"),),
    )

    data = to_builtins(fixture)

    assert "run-123" == data["source_run_id"]
    assert "gpt-test" == data["source_model_id"]
    assert data["allow_unused_provider_script"] is True
    assert fixture == from_json(Fixture, to_json(fixture))


def test_fixture_with_live_only_marker_round_trips() -> None:
    fixture = Fixture("live", "hi", provider_script_error="no capture")

    assert "no capture" == to_builtins(fixture)["provider_script_error"]
    assert fixture == from_json(Fixture, to_json(fixture))


# -- dataset spec ----------------------------------------------------------------------


def test_dataset_spec_defaults_are_empty_and_omitted() -> None:
    spec = DatasetSpec()

    assert "" == spec.description
    assert () == spec.fixtures
    assert {} == to_builtins(spec)
    assert spec == from_json(DatasetSpec, "{}")


def test_dataset_spec_round_trips_description_and_fixtures() -> None:
    spec = DatasetSpec(
        description="smoke tests", fixtures=(Fixture("a", "one"), Fixture("b", "two"))
    )

    data = to_builtins(spec)

    assert "smoke tests" == data["description"]
    assert ["a", "b"] == [entry["id"] for entry in data["fixtures"]]
    assert spec == from_json(DatasetSpec, to_json(spec))
