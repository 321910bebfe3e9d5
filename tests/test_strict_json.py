"""Strict JSON at every loader: depth, non-finite numbers, surrogates, repeated keys, BOM.

Each loader (``from_json``, ``read_ndjson``, fixture and dataset files, ``parse_request``,
the dataset store, trace files, the run stores) refuses the same inputs with the same
documented error (:class:`InvalidInput`, or the loader's own error wrapping it) and a
JSON path, never a ``RecursionError``, ``ValueError`` or ``UnicodeEncodeError``.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from awaken_eval import (
    DatasetSpec,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InvalidInput,
    InvalidRequest,
    JudgeError,
    JudgeResult,
    ResolvedModel,
    RunOptions,
    StoreFailure,
    ToolCallMatcher,
    from_json,
    load_fixture,
    open_run_store,
    run_eval,
    to_json,
)
from awaken_eval.errors import InvalidRunId, JudgeErrorKind
from awaken_eval.failures import ReplayRuntimeError
from awaken_eval.service import StartRunRequest, parse_request
from awaken_eval.sinks import FileTraceStore
from awaken_eval.stores import FileDatasetStore, FileEvalRunStore, SqliteRunStore
from awaken_eval.testing import CannedTextExecutor, ScriptedJudge
from awaken_eval.wire import MAX_DEPTH, fixture_digest, read_ndjson
from builders import header
from builders import item as make_item
from builders import run as make_run

pytestmark = pytest.mark.anyio

DEEP = '{"id": "f", "user_input": "q", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def fixture_text(**more: Any) -> str:
    return json.dumps({"id": "f", "user_input": "q", **more})


def problem(exc: InvalidInput) -> tuple[str, str]:
    (first,) = exc.problems
    return first.path, first.message


# -- depth -----------------------------------------------------------------------------


def test_the_depth_limit_is_documented_and_exact() -> None:
    assert 128 == MAX_DEPTH
    assert [] == from_json(list[Any], nested(1))
    from_json(Any, nested(MAX_DEPTH))
    with pytest.raises(InvalidInput) as caught:
        from_json(Any, nested(MAX_DEPTH + 1))
    path, message = problem(caught.value)
    assert "$" + "[0]" * MAX_DEPTH == path
    assert "nested deeper than 128 levels" in message


def test_a_document_nested_100000_deep_is_refused_with_a_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, DEEP)
    path, message = problem(caught.value)
    assert path.startswith("$.x[0][0]")
    assert "MAX_DEPTH" in message


def test_a_deep_free_form_value_is_refused_even_when_the_text_is_shallow_elsewhere() -> None:
    deep_args = {"tool": nested(2)}
    text = json.dumps({"a": [1] * 500, "b": deep_args}).replace(
        json.dumps(nested(2)), nested(MAX_DEPTH)
    )
    with pytest.raises(InvalidInput) as caught:
        from_json(dict[str, Any], text)
    assert caught.value.problems[0].path.startswith("$.b.tool[0]")


def test_read_ndjson_and_load_fixture_refuse_deep_documents(tmp_path: Path) -> None:
    lines = tmp_path / "reports.ndjson"
    lines.write_text("\n" + DEEP + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_ndjson(lines, Fixture)
    assert (str(lines), 2) == (caught.value.source, caught.value.line)
    single = tmp_path / "f.json"
    single.write_text(DEEP, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_fixture(single)
    assert str(single) == caught.value.source


def test_parse_request_refuses_deep_bodies_as_text_and_as_builtins() -> None:
    body = '{"dataset_id": "d", "models": ' + nested(100_000) + "}"
    with pytest.raises(InvalidRequest, match="nested deeper"):
        parse_request(StartRunRequest, body.encode())
    deep: Any = []
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(InvalidRequest, match="nested deeper"):
        parse_request(StartRunRequest, {"dataset_id": "d", "models": deep})


async def test_the_dataset_store_refuses_a_deep_file(tmp_path: Path) -> None:
    store = FileDatasetStore(tmp_path)
    store.path_of("d").write_text('{"spec": ' + nested(100_000) + "}", encoding="utf-8")
    with pytest.raises(InvalidInput, match="nested deeper"):
        await store.get("d")


# -- non-finite numbers ------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1" + "0" * 400])
def test_a_number_out_of_range_is_refused_in_a_number_field(number: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Expectation, f'{{"min_judge_score": {number}}}')
    assert "$.min_judge_score" == caught.value.problems[0].path


def test_a_number_out_of_range_is_refused_in_a_free_form_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(dict[str, Any], '{"args": {"x": [0, 1e999]}}')
    assert ("$.args.x[1]", "number out of range (not a finite double)") == problem(caught.value)


def test_parse_request_refuses_an_infinite_temperature() -> None:
    body = '{"dataset_id": "d", "agent_overrides": {"sampling": {"temperature": 1e999}}}'
    with pytest.raises(InvalidRequest, match=r"\$\.agent_overrides\.sampling\.temperature"):
        parse_request(StartRunRequest, body)


def test_to_json_of_a_record_holding_infinity_is_the_documented_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        to_json(Expectation(min_judge_score=math.inf))
    assert "$.min_judge_score" == caught.value.problems[0].path


@pytest.mark.parametrize(
    ("grade", "kind"),
    [
        (math.nan, JudgeErrorKind.NON_FINITE_SCORE),
        (math.inf, JudgeErrorKind.NON_FINITE_SCORE),
        (5.0, JudgeErrorKind.OUT_OF_RANGE_SCORE),
        (-0.5, JudgeErrorKind.OUT_OF_RANGE_SCORE),
    ],
)
async def test_a_judge_returning_a_bad_score_is_a_judge_failure_on_its_item(
    grade: float, kind: JudgeErrorKind
) -> None:
    fixtures = [
        Fixture("bad", user_input="q", expect=Expectation(min_judge_score=0.5)),
        Fixture("next", user_input="q", expect=Expectation(min_judge_score=0.5)),
    ]
    run = await run_eval(
        fixtures,
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=["m"], rubric="grade it"),
        models=[
            ResolvedModel(model_id="m", executor=CannedTextExecutor(["ok"]), upstream_model="m")
        ],
        judge=ScriptedJudge([JudgeResult(score=grade), 1.0]),
    )
    first, second = run.items
    assert not first.report.passed
    runtime = first.report.runtime_failure
    assert isinstance(runtime, ReplayRuntimeError)
    assert kind.value in runtime.message
    assert second.report.passed
    assert run == from_json(type(run), to_json(run))  # the run can be stored


async def test_checked_result_refuses_a_non_result() -> None:
    from awaken_eval._engine.judging import checked_result  # noqa: PLC0415

    with pytest.raises(JudgeError) as caught:
        checked_result(None)
    assert JudgeErrorKind.OUT_OF_RANGE_SCORE is caught.value.kind


# -- lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (fixture_text(user_input="a\\ud800b"), "$.user_input"),
        ('{"id": "f", "user_input": "q", "x": {"\\udfff": 1}}', "$.x"),
        ('{"id": "\\udbff"}', "$.id"),
    ],
)
def test_a_lone_surrogate_is_refused_at_load_time(text: str, path: str) -> None:
    text = text.replace("\\\\u", "\\u")
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, text)
    assert path == caught.value.problems[0].path
    assert "lone surrogate" in str(caught.value)
    str(caught.value).encode()  # the message itself can be written as UTF-8


def test_a_surrogate_pair_is_one_character_and_loads() -> None:
    fixture = from_json(Fixture, '{"id": "f", "user_input": "\\ud83d\\ude00"}')
    assert "\U0001f600" == fixture.user_input


def test_a_lone_surrogate_given_as_a_str_character_is_refused() -> None:
    with pytest.raises(InvalidInput, match="lone surrogate"):
        from_json(Fixture, '{"id": "f", "user_input": "\ud800"}')


def test_to_json_of_a_record_holding_a_lone_surrogate_is_the_documented_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        to_json(Fixture("f", user_input="\udc00"))
    assert "$.user_input" == caught.value.problems[0].path


# -- repeated keys -----------------------------------------------------------------------


def test_a_repeated_record_key_is_refused_naming_the_key_and_its_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        from_json(Expectation, '{"min_judge_score": 0.5, "min_judge_score": 0.9}')
    assert ("$.min_judge_score", "repeated key in one object") == problem(caught.value)


def test_a_repeated_key_deep_in_a_document_is_located() -> None:
    text = '{"id": "f", "user_input": "q", "expect": {"tool_sequence": [], "tool_sequence": ["a"]}}'
    with pytest.raises(InvalidInput) as caught:
        from_json(Fixture, text)
    assert "$.expect.tool_sequence" == caught.value.problems[0].path


# -- byte order mark and encodings -------------------------------------------------------


@pytest.mark.parametrize(
    "data", ["\ufeff" + fixture_text(), b"\xef\xbb\xbf" + fixture_text().encode()]
)
def test_a_bom_is_refused_in_str_and_in_bytes_alike(data: str | bytes) -> None:
    with pytest.raises(InvalidInput, match="byte order mark"):
        from_json(Fixture, data)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_bytes_must_be_utf8(encoding: str) -> None:
    with pytest.raises(InvalidInput, match="invalid JSON"):
        from_json(Fixture, fixture_text().encode(encoding))


def test_a_valid_document_still_loads_from_str_and_bytes() -> None:
    text = fixture_text(user_input="café ☕")
    assert from_json(Fixture, text) == from_json(Fixture, text.encode())


def staging_left(root: Path) -> list[str]:
    return sorted(path.name for path in root.rglob("*") if ".staging" in path.parts)


@pytest.mark.parametrize("make", ["file", "sqlite"])
async def test_a_run_id_with_a_lone_surrogate_is_an_invalid_run_id(
    tmp_path: Path, make: str
) -> None:
    store = FileEvalRunStore(tmp_path) if make == "file" else SqliteRunStore(tmp_path / "r.db")
    with pytest.raises(InvalidRunId, match="lone surrogate"):
        await store.write(make_run(run_id="a\ud800"))
    with pytest.raises(InvalidRunId, match="lone surrogate"):
        await store.begin(header(run_id="b\udfff"))
    with pytest.raises(InvalidRunId, match="lone surrogate"):
        await store.read("c\ud800")
    assert [] == staging_left(tmp_path)


async def test_dataset_and_trace_ids_with_a_lone_surrogate_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        await FileDatasetStore(tmp_path / "d").put("x\ud800", DatasetSpec(), expected_revision=0)
    with pytest.raises(InvalidRunId, match="lone surrogate"):
        await FileTraceStore(tmp_path / "t").read_trace("x\ud800")


@pytest.mark.parametrize("url", ["\ud800", "file:\ud800", "sqlite:///\ud800.db"])
def test_a_store_url_with_a_lone_surrogate_is_an_invalid_request(url: str) -> None:
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        open_run_store(url)


@pytest.mark.parametrize(
    "document",
    [
        "'[' || replace(hex(zeroblob(50000)), '00', '[') || ']'",
        '\'{"fixture_id": "a", "fixture_id": "a"}\'',
        '\'{"fixture_id": "a\\ud800"}\'',
    ],
)
async def test_a_damaged_sqlite_row_is_a_store_failure(tmp_path: Path, document: str) -> None:
    db = tmp_path / "runs.db"
    async with SqliteRunStore(db) as store:
        await store.write(make_run(run_id="bad", items=(make_item(fixture_id="a"),)))
    with contextlib.closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("UPDATE items SET document = ?", (document,))
    async with SqliteRunStore(db) as store:
        with pytest.raises(StoreFailure, match="eval run bad is corrupt"):
            await store.read("bad")


def test_the_cli_reports_a_deep_fixture_with_exit_2(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP, encoding="utf-8")
    for command in ("validate", "run"):
        result = cli(command, str(tmp_path))
        assert 2 == result.code, (command, result.err)
        assert "nested deeper than 128 levels" in result.out + result.err
        assert "Traceback" not in result.out + result.err


async def test_a_fixture_built_in_code_too_deep_to_digest_is_invalid_input() -> None:
    deep: Any = []
    for _ in range(3_000):
        deep = [deep]
    matcher = ToolCallMatcher("t", args_subset=deep)
    fixture = Fixture("f", "q", expect=Expectation(required_tool_calls=(matcher,)))
    with pytest.raises(InvalidInput, match=r"fixture f: .*nested deeper than 128 levels"):
        fixture_digest(fixture)
    with pytest.raises(InvalidInput, match="nested deeper"):
        await run_eval([fixture])
