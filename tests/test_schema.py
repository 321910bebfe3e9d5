"""JSON Schema generation: valid draft 2020-12, in step with the converter's wire rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]

import strategies
from awaken_eval import (
    ChatResponseEvent,
    DatasetSpec,
    ErrorEvent,
    EvalRun,
    Expectation,
    Fixture,
    InvalidInput,
    ReplayReport,
    TokenUsage,
    ToolCallEvent,
    ToolCallMatcher,
    from_builtins,
    to_builtins,
)
from awaken_eval._records.types import U32_MAX, U64_MAX
from awaken_eval.events import SpanRecorded
from awaken_eval.schema import SCHEMA_DIALECT, SCHEMA_KINDS, json_schema, json_schema_for

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_FILES = sorted(
    [
        *(ROOT / "tests" / "data" / "bundled").glob("*.json"),
        *(ROOT / "examples" / "quickstart" / "fixtures").glob("*.json"),
        *(ROOT / "examples" / "quickstart" / "regression" / "fixtures").glob("*.json"),
    ]
)
BASELINES = [
    ROOT / "tests" / "data" / "bundled" / "baseline.ndjson",
    ROOT / "examples" / "quickstart" / "baseline.ndjson",
]
VALIDATORS = {kind: Draft202012Validator(json_schema(kind)) for kind in SCHEMA_KINDS}
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# A small valid document of each kind; the rejection cases below break one thing in it.
FIXTURE: dict[str, Any] = {
    "id": "weather",
    "user_input": "Weather in Paris?",
    "provider_script": [
        {
            "kind": "tool_call",
            "id": "c1",
            "name": "get_weather",
            "arguments": {"city": "Paris"},
            "result": {"temperature_c": 18},
        },
        {"kind": "chat_response", "content": "18 °C", "finish_reason": "EndTurn"},
    ],
    "expect": {
        "final_answer_contains": ["18"],
        "required_tool_calls": [{"name": "get_weather", "count": {"op": "exactly", "n": 1}}],
        "max_tokens_total": 100,
    },
}
REPORT: dict[str, Any] = {
    "fixture_id": "weather",
    "passed": True,
    "failures": [],
    "final_text": "18 °C",
    "inference_count": 2,
    "tool_count": 1,
    "tool_failures": 0,
    "total_input_tokens": 10,
    "total_output_tokens": 2,
    "total_tokens": 12,
    "session_duration_ms": 0,
}
RUN: dict[str, Any] = {
    "id": "01JQ8Z6R3M4N5P6Q7R8S9T0V1W",
    "dataset_id": "quickstart",
    "dataset_revision": 0,
    "execution_mode": "scripted",
    "items": [{"fixture_id": "weather", "report": REPORT}],
    "started_at_secs": 1,
    "ended_at_secs": 2,
}
DATASET: dict[str, Any] = {"description": "one fixture", "fixtures": [FIXTURE]}
DOCUMENTS = {"fixture": FIXTURE, "report": REPORT, "run": RUN, "dataset": DATASET}


def errors(kind: str, document: Any) -> list[str]:
    return [error.message for error in VALIDATORS[kind].iter_errors(document)]


def edited(kind: str, edit: Any) -> Any:
    document = copy.deepcopy(DOCUMENTS[kind])
    edit(document)
    return document


def record_fields(cls: type) -> list[str]:
    return [field.name for field in attrs.fields(cls)]


# -- the schemas themselves ------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SCHEMA_KINDS))
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = json_schema(kind)

    Draft202012Validator.check_schema(schema)
    assert SCHEMA_DIALECT == schema["$schema"]
    assert SCHEMA_KINDS[kind].__name__ == schema["title"]


def test_kinds() -> None:
    assert {
        "dataset": DatasetSpec,
        "fixture": Fixture,
        "report": ReplayReport,
        "run": EvalRun,
    } == dict(SCHEMA_KINDS)


@pytest.mark.parametrize("kind", sorted(SCHEMA_KINDS))
def test_schema_is_json_and_deterministic(kind: str) -> None:
    assert json.dumps(json_schema(kind), sort_keys=True) == json.dumps(
        json.loads(json.dumps(json_schema(kind))), sort_keys=True
    )


def test_each_call_returns_a_fresh_schema() -> None:
    schema = json_schema("fixture")
    schema["properties"].clear()
    schema["$defs"]["Expectation"]["properties"].clear()

    assert json_schema("fixture")["properties"]
    assert json_schema("fixture")["$defs"]["Expectation"]["properties"]


def test_unknown_kind_is_rejected_naming_the_kinds() -> None:
    with pytest.raises(InvalidInput) as caught:
        json_schema("fixtures")

    assert isinstance(caught.value, ValueError)
    assert "unknown schema kind 'fixtures'; expected one of: dataset, fixture, report, run" in (
        str(caught.value)
    )


def test_a_class_that_is_not_a_record_is_rejected() -> None:
    with pytest.raises(TypeError, match="not an attrs record class"):
        json_schema_for(dict)


# -- generated from the records ----------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [Fixture, Expectation, ToolCallMatcher, TokenUsage, ReplayReport, EvalRun, DatasetSpec]
)
def test_properties_are_the_record_fields_in_order(cls: type) -> None:
    schema = json_schema_for(cls)
    required = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING]

    assert record_fields(cls) == list(schema["properties"])
    assert required == schema.get("required", [])
    assert schema["additionalProperties"] is False


def test_every_definition_rejects_unknown_keys() -> None:
    for kind in SCHEMA_KINDS:
        for name, definition in json_schema(kind)["$defs"].items():
            assert (kind, name, False) == (kind, name, definition["additionalProperties"])


def test_descriptions_come_from_the_docstrings() -> None:
    fixture = json_schema("fixture")
    report = json_schema("report")

    assert (
        "A replayable scenario: user prompt, provider script and expectations."
        == (fixture["description"])
    )
    assert "The first user message." == fixture["properties"]["user_input"]["description"]
    assert (
        "`exact` (default) or `ordered_subseq`."
        == (fixture["$defs"]["Expectation"]["properties"]["tool_sequence_mode"]["description"])
    )
    # A continuation line of the Attributes section is joined to its entry.
    assert (
        "Phrases that must each be a case-sensitive substring of the final text."
        == fixture["$defs"]["Expectation"]["properties"]["final_answer_contains"]["description"]
    )
    assert report["properties"]["elapsed_ms"]["description"].endswith(
        "Accepted on read, never written."
    )


def test_defaults_are_the_wire_form_of_the_field_defaults() -> None:
    fixture = json_schema("fixture")
    expectation = fixture["$defs"]["Expectation"]["properties"]

    assert {"kind": "text", "text": ""} == fixture["properties"]["mock_response"]["default"]
    assert {} == fixture["properties"]["expect"]["default"]
    assert "exact" == expectation["tool_sequence_mode"]["default"]
    assert [] == expectation["final_answer_contains"]["default"]
    assert "default" not in fixture["properties"]["id"]


def test_unsigned_integers_have_their_range() -> None:
    expectation = json_schema_for(Expectation)["properties"]

    assert {"type": ["integer", "null"], "minimum": 0, "maximum": U32_MAX} == {
        key: expectation["max_tokens_total"][key] for key in ("type", "minimum", "maximum")
    }
    assert U64_MAX == expectation["max_duration_ms"]["maximum"]
    assert ["number", "null"] == json_schema_for(ReplayReport)["properties"]["cost_usd"]["type"]
    assert "minimum" not in json_schema_for(ReplayReport)["properties"]["cost_usd"]


def test_enums_list_their_wire_values() -> None:
    chat = json_schema("fixture")["$defs"]["ChatResponseEvent"]["properties"]

    assert ["EndTurn", "MaxTokens", "ToolUse", "StopSequence"] == chat["finish_reason"]["enum"]
    assert ["scripted", "live"] == json_schema("run")["properties"]["execution_mode"]["enum"]


def test_tagged_unions_are_one_of_with_the_tag_as_const() -> None:
    schema = json_schema("fixture")
    members = schema["properties"]["provider_script"]["items"]["oneOf"]
    expected: list[type[ChatResponseEvent | ToolCallEvent | ErrorEvent]]
    expected = [ChatResponseEvent, ToolCallEvent, ErrorEvent]

    assert [{"$ref": f"#/$defs/{cls.__name__}"} for cls in expected] == members
    for cls in expected:
        definition = schema["$defs"][cls.__name__]
        assert {"const": cls.kind} == definition["properties"]["kind"]
        assert "kind" in definition["required"]


def test_untagged_unions_are_any_of() -> None:
    span = json_schema_for(SpanRecorded)["properties"]["span"]

    assert [{"$ref": "#/$defs/InferenceSpan"}, {"$ref": "#/$defs/ToolSpan"}] == span["anyOf"]


def test_optional_records_accept_null() -> None:
    cell = json_schema("run")["$defs"]["EvalRunItem"]["properties"]["cell"]

    assert [{"$ref": "#/$defs/MatrixCell"}, {"type": "null"}] == cell["anyOf"]


@attrs.frozen
class Node:
    """A recursive record.

    Attributes:
        label: The node's label.
        children: Its child nodes.
    """

    label: str
    children: tuple[Node, ...] = ()


@attrs.frozen
class Holder:
    """Refers to the recursive record twice.

    Attributes:
        first: A tree.
        second: Another tree.
    """

    first: Node
    second: Node | None = None


@attrs.frozen
class Unsupported:
    """A field type the wire format does not define.

    Attributes:
        tags: A set.
    """

    tags: frozenset[str]


def test_recursive_records_refer_to_themselves() -> None:
    root = json_schema_for(Node)
    holder = json_schema_for(Holder)

    assert {"$ref": "#"} == root["properties"]["children"]["items"]
    assert {"$ref": "#/$defs/Node"} == holder["$defs"]["Node"]["properties"]["children"]["items"]
    assert ["Node"] == list(holder["$defs"])
    assert not list(Draft202012Validator(holder).iter_errors({"first": {"label": "a"}}))
    nested = {"first": {"label": "a", "children": [{"label": "b", "children": [{"label": 3}]}]}}
    assert list(Draft202012Validator(holder).iter_errors(nested))


def test_a_field_type_without_wire_format_is_an_error() -> None:
    with pytest.raises(TypeError, match="no JSON Schema for the type"):
        json_schema_for(Unsupported)


# -- documents that validate -----------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_bundled_and_example_fixtures_validate(path: Path) -> None:
    assert [] == errors("fixture", json.loads(path.read_text(encoding="utf-8")))


def test_there_are_fixture_files_to_validate() -> None:
    assert len(FIXTURE_FILES) >= 5 + 12 + 12


@pytest.mark.parametrize("path", BASELINES, ids=lambda p: p.parent.name)
def test_baseline_reports_validate(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()

    assert lines
    assert [[] for _ in lines] == [errors("report", json.loads(line)) for line in lines]


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_sample_documents_validate_and_load(kind: str) -> None:
    from_builtins(SCHEMA_KINDS[kind], DOCUMENTS[kind])

    assert [] == errors(kind, DOCUMENTS[kind])


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        pytest.param("fixture", lambda d: d.update(description=None), id="null-optional"),
        pytest.param(
            "fixture", lambda d: d["expect"].update(max_duration_ms=U64_MAX), id="u64-max"
        ),
        pytest.param("run", lambda d: d.pop("execution_mode"), id="legacy-run"),
        pytest.param("report", lambda d: d.update(elapsed_ms=12), id="never-written-field"),
        pytest.param(
            "fixture",
            lambda d: d["provider_script"][0].update(arguments=[1, "x", None]),
            id="any-json-arguments",
        ),
    ],
)
def test_documents_the_converter_accepts_validate(kind: str, edit: Any) -> None:
    document = edited(kind, edit)
    from_builtins(SCHEMA_KINDS[kind], document)

    assert [] == errors(kind, document)


@PROPERTY_SETTINGS
@given(strategies.fixtures())
def test_any_fixture_validates(fixture: Fixture) -> None:
    assert [] == errors("fixture", to_builtins(fixture))


@PROPERTY_SETTINGS
@given(strategies.dataset_specs())
def test_any_dataset_validates(dataset: DatasetSpec) -> None:
    assert [] == errors("dataset", to_builtins(dataset))


@PROPERTY_SETTINGS
@given(strategies.eval_runs())
def test_any_run_validates(run: EvalRun) -> None:
    assert [] == errors("run", to_builtins(run))


@PROPERTY_SETTINGS
@given(strategies.replay_reports())
def test_any_report_validates(report: ReplayReport) -> None:
    assert [] == errors("report", to_builtins(report))


# -- documents that do not ---------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(document: Any) -> None:
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _drop(path: tuple[Any, ...]) -> Any:
    def edit(document: Any) -> None:
        target = document
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


REJECTED = [
    pytest.param("fixture", _set(("expct",), {}), id="unknown-root-key"),
    pytest.param(
        "fixture", _set(("expect", "final_answer_contain"), ["x"]), id="unknown-nested-key"
    ),
    pytest.param(
        "fixture", _set(("provider_script", 1, "text"), "x"), id="unknown-key-in-union-member"
    ),
    pytest.param("fixture", _set(("expect", "max_tokens_total"), "ten"), id="string-for-int"),
    pytest.param("fixture", _set(("user_input",), 5), id="int-for-string"),
    pytest.param("fixture", _set(("user_input",), None), id="null-for-required-string"),
    pytest.param("fixture", _set(("expect", "final_answer_contains"), "18"), id="string-for-list"),
    pytest.param("fixture", _set(("allow_unused_provider_script",), 1), id="int-for-bool"),
    pytest.param("fixture", _set(("expect", "max_tokens_total"), -1), id="negative-u32"),
    pytest.param("fixture", _set(("expect", "max_tokens_total"), U32_MAX + 1), id="u32-overflow"),
    pytest.param(
        "fixture",
        _set(("expect", "required_tool_calls", 0, "count", "n"), -1),
        id="negative-count",
    ),
    pytest.param(
        "fixture", _set(("provider_script", 0, "tokens"), {"input": 5}), id="unknown-token-key"
    ),
    pytest.param("fixture", _drop(("user_input",)), id="missing-required"),
    pytest.param("fixture", _set(("provider_script", 1, "kind"), "bogus"), id="unknown-tag"),
    pytest.param("fixture", _drop(("provider_script", 1, "kind")), id="missing-tag"),
    pytest.param(
        "fixture", _set(("provider_script", 1, "finish_reason"), "end_turn"), id="wrong-enum"
    ),
    pytest.param("fixture", _set(("expect", "tool_sequence_mode"), "subsequence"), id="wrong-mode"),
    pytest.param("report", _set(("total_tokens",), -3), id="negative-report-count"),
    pytest.param("report", _set(("failures",), [{"kind": "nope"}]), id="unknown-failure"),
    pytest.param("run", _set(("dataset_revision",), -1), id="negative-u64"),
    pytest.param("run", _set(("execution_mode",), "batch"), id="unknown-mode"),
    pytest.param("run", _set(("items", 0, "report", "passed"), "yes"), id="nested-report"),
    pytest.param("run", _set(("fixture_digests",), {"weather": 1}), id="mapping-value"),
    pytest.param("dataset", _set(("fixtures", 0, "expect", "bogus"), 1), id="dataset-fixture"),
]


@pytest.mark.parametrize(("kind", "edit"), REJECTED)
def test_documents_the_converter_rejects_fail_validation(kind: str, edit: Any) -> None:
    document = edited(kind, edit)

    with pytest.raises(InvalidInput):
        from_builtins(SCHEMA_KINDS[kind], document)
    assert errors(kind, document)
