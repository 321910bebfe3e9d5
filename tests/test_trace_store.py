"""The reference's file trace store (trace-store spec §1, §2, §5, §6).

The committed sample tree (``tests/data/trace-samples``, a copy of the spec's) and the
example lines of §5.11 (``tests/data/trace-examples.ndjson``) are read, listed, pinned,
pruned and written back byte for byte; §6's expected results are tests here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

from awaken_eval import (
    ChatResponseEvent,
    Expectation,
    Fixture,
    InvalidInput,
    InvalidRequest,
    NotFound,
    RunOptions,
    StopReason,
    TokenUsage,
    ToolCallEvent,
    from_json,
    run_eval,
)
from awaken_eval._wire.trace_lines import (
    decode_index,
    decode_trace_line,
    encode_index,
    encode_trace_line,
    f32_text,
)
from awaken_eval.curate import CurateError, stitch_dialogue
from awaken_eval.errors import InvalidRunId
from awaken_eval.events import InferenceSpan, SpanRecorded, ToolSpan
from awaken_eval.protocols import TraceFinisher, TraceStore
from awaken_eval.sinks import (
    FileTraceStore,
    JsonlTraceSink,
    OpaqueMetricsEvent,
    PinKind,
    TraceFilter,
    TraceSummary,
)
from awaken_eval.sinks._store import month_folder
from awaken_eval.sinks._summary import derive_run_summary
from awaken_eval.testing import CapturingSink

pytestmark = pytest.mark.anyio

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = DATA / "trace-samples"
EXAMPLES = DATA / "trace-examples.ndjson"
A = "019c0e2f-3991-7abf-9f59-08c909c7e609"
B = "019c1f39-db38-7056-8fbf-3bafc5e8d47e"
FEB_1 = 1_769_904_000  # 2026-02-01T00:00:00Z
MAR_1 = 1_772_323_200  # 2026-03-01T00:00:00Z
JAN = 1_769_764_502.0


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A copy of the sample tree (tests may change it)."""
    root = tmp_path / "samples"
    shutil.copytree(SAMPLES, root)
    return root


def ids(rows: list[TraceSummary]) -> list[str]:
    return [row.run_id for row in rows]


# -- §6: reading the sample tree ---------------------------------------------------------------


async def test_the_store_is_a_trace_store_and_the_sink_a_trace_finisher(tmp_path: Path) -> None:
    assert isinstance(FileTraceStore(tmp_path), TraceStore)
    assert isinstance(JsonlTraceSink(tmp_path), TraceFinisher)


async def test_reading_the_sample_runs(samples: Path) -> None:
    store = FileTraceStore(samples)
    read = await store.read_trace(A)
    assert ["inference", "tool", "inference"] == [
        "inference" if isinstance(e, InferenceSpan) else "tool" for e in read.events
    ]
    assert () == read.damaged
    assert 1 == len((await store.read_trace(B)).events)
    with pytest.raises(NotFound, match="trace not found: x"):
        await store.read_trace("x")
    with pytest.raises(InvalidRunId):
        await store.read_trace("..")


@pytest.mark.parametrize("run_id", ["", ".", "..", "../x", "a/b", "a\\b", "nul\0"])
async def test_run_ids_that_cannot_name_a_file_are_rejected_by_every_operation(
    tmp_path: Path, run_id: str
) -> None:
    # §1.3: empty, '/', '\', NUL, '.' and '..' are rejected by read, pin and index writes.
    store = FileTraceStore(tmp_path)
    with pytest.raises(InvalidRunId):
        await store.read_trace(run_id)
    with pytest.raises(InvalidRunId):
        await store.pin(run_id, PinKind.OPERATOR)
    with pytest.raises(InvalidRunId):
        await store.append(run_id, ToolSpan(name="t"))
    with pytest.raises(InvalidRunId):
        await store.write_index(TraceSummary(run_id=run_id, agent_id="", started_at_secs=0))
    assert [] == list(tmp_path.iterdir())  # noqa: ASYNC240


@pytest.mark.parametrize("run_id", [" spaced ", ".hidden", "a:b", "new\nline", "ünïcode"])
async def test_other_run_ids_are_accepted(tmp_path: Path, run_id: str) -> None:
    store = FileTraceStore(tmp_path, clock=lambda: JAN)
    await store.append(run_id, ToolSpan(name="t", run_id=run_id, call_id="c"))
    assert 1 == len((await store.read_trace(run_id)).events)
    assert [run_id] == await store.list_runs()


# -- §6: listing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trace_filter", "expected"),
    [
        (TraceFilter(), [B, A]),
        (TraceFilter(agent_id="weather"), [B, A]),
        (TraceFilter(agent_id="other"), []),
        (TraceFilter(since_secs=FEB_1), [B]),
        (TraceFilter(limit=1), [B]),
        (TraceFilter(prompt_id="64586b9fcbb4"), [B, A]),
        (TraceFilter(prompt_id="000000000000"), []),
        (TraceFilter(experiment_id="x"), []),
        (TraceFilter(variant_name="x"), []),
        (TraceFilter(limit=0), []),
        (TraceFilter(newest_first=False), [A, B]),
        (TraceFilter(newest_first=False, limit=1), [A]),
    ],
)
async def test_listing_the_sample_tree(
    samples: Path, trace_filter: TraceFilter, expected: list[str]
) -> None:
    assert expected == ids(await FileTraceStore(samples).list_traces(trace_filter))


async def test_a_listed_row_is_the_index(samples: Path) -> None:
    (row,) = await FileTraceStore(samples).list_traces(TraceFilter(limit=1))
    expected = TraceSummary(
        run_id=B,
        agent_id="weather",
        started_at_secs=1770050411,
        ended_at_secs=1770050412,
        prompt_ids=("64586b9fcbb4",),
        final_status="ok",
    )
    assert expected == row


async def test_listing_skips_corrupt_indexes_root_files_and_a_missing_root(
    samples: Path, tmp_path: Path
) -> None:
    assert [] == await FileTraceStore(tmp_path / "missing").list_traces()
    (samples / "2026-02" / f"{B}.idx.json").write_text("{torn")
    shutil.copy(samples / "2026-01" / f"{A}.idx.json", samples / f"{A}.idx.json")
    assert [A] == ids(await FileTraceStore(samples).list_traces())


async def test_experiment_and_variant_filters_match_exactly(tmp_path: Path) -> None:
    store = FileTraceStore(tmp_path)
    for run_id, experiment, variant in (("r1", "exp", "a"), ("r2", "exp", "b"), ("r3", None, None)):
        summary = TraceSummary(
            run_id=run_id,
            agent_id="x",
            started_at_secs=100 + int(run_id[1]),
            experiment_id=experiment,
            variant_name=variant,
        )
        await store.write_index(summary)
    assert ["r2", "r1"] == ids(await store.list_traces(TraceFilter(experiment_id="exp")))
    assert ["r2"] == ids(await store.list_traces(TraceFilter(variant_name="b")))


async def test_a_negative_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="limit must be >= 0"):
        await FileTraceStore(tmp_path).list_traces(TraceFilter(limit=-1))


# -- §6: pruning, pins ---------------------------------------------------------------------------


async def test_prune_keeps_the_pinned_and_the_newer_run(samples: Path) -> None:
    assert 0 == await FileTraceStore(samples).prune(FEB_1)


async def test_prune_removes_the_old_unpinned_run_with_its_index(samples: Path) -> None:
    store = FileTraceStore(samples)
    assert 1 == await store.prune(MAR_1)
    assert [] == sorted(p.name for p in (samples / "2026-02").iterdir())
    assert [A] == await store.list_runs()
    assert (samples / "2026-02").is_dir()  # month folders are never removed
    with pytest.raises(NotFound):
        await store.read_trace(B)


async def test_prune_keeps_the_runs_it_is_told_to_keep(samples: Path) -> None:
    assert 0 == await FileTraceStore(samples).prune(MAR_1, except_run_ids=frozenset({B}))


async def test_prune_counts_only_the_runs_it_really_removed(
    samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # §8.7: the reference counts a run whose deletion failed.
    real_unlink = os.unlink

    def refuse_the_events_file(path: str, *, dir_fd: int | None = None) -> None:
        if str(path).endswith(".ndjson"):
            raise PermissionError(13, "Permission denied", path)
        real_unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", refuse_the_events_file)
    assert 0 == await FileTraceStore(samples).prune(MAR_1)
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert (samples / "2026-02" / f"{B}.idx.json").exists()


async def test_prune_ages_a_run_without_a_readable_index_by_its_file_time(samples: Path) -> None:
    # §2.7 step 3 / file_test prune_falls_back_to_mtime_on_corrupt_index.
    (samples / "2026-02" / f"{B}.idx.json").write_text("not json")
    events = samples / "2026-02" / f"{B}.ndjson"
    os.utime(events, (FEB_1 + 10, FEB_1 + 10))
    store = FileTraceStore(samples)
    assert 0 == await store.prune(FEB_1)
    assert 1 == await store.prune(FEB_1 + 11)


async def test_pins_append_a_kind_letter_per_call(samples: Path) -> None:
    store = FileTraceStore(samples)
    await store.pin(B, PinKind.DATASET)
    await store.pin(B, PinKind.OPERATOR)
    await store.pin(B, PinKind.EXPERIMENT_EVIDENCE)
    assert b"D\nP\nE\n" == (samples / "2026-02" / f"{B}.ref").read_bytes()
    assert 0 == await store.prune(MAR_1)
    with pytest.raises(NotFound):
        await store.pin("missing", PinKind.OPERATOR)


async def test_unpin_removes_the_pin_so_prune_may_remove_the_run(samples: Path) -> None:
    store = FileTraceStore(samples)
    assert await store.unpin(A)
    assert not (samples / "2026-01" / f"{A}.ref").exists()
    assert not await store.unpin(A)  # nothing left to remove
    assert 2 == await store.prune(MAR_1)
    with pytest.raises(NotFound):
        await store.unpin(A)


# -- §1.2: month folders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secs", "folder"),
    [(1767225600, "2026-01"), (1709164800, "2024-02"), (0, "1970-01"), (-5, "1970-01")],
)
def test_month_folders_are_utc_months(secs: int, folder: str) -> None:
    assert folder == month_folder(secs)


async def test_a_run_stays_in_the_month_of_its_first_append(tmp_path: Path) -> None:
    now = [JAN]
    store = FileTraceStore(tmp_path, clock=lambda: now[0])
    await store.append("r", ToolSpan(name="a", run_id="r", call_id="1"))
    now[0] = MAR_1 + 5.0
    await store.append("r", ToolSpan(name="b", run_id="r", call_id="2"))
    # a new store object finds the folder by scanning, not by the clock
    await FileTraceStore(tmp_path, clock=lambda: MAR_1).append(
        "r", ToolSpan(name="c", run_id="r", call_id="3")
    )
    await store.append("s", ToolSpan(name="d", run_id="s", call_id="4"))
    assert ["2026-01", "2026-03"] == sorted(p.name for p in tmp_path.iterdir())  # noqa: ASYNC240
    assert 3 == len((await store.read_trace("r")).events)


async def test_an_index_lands_beside_the_events_whatever_its_start(tmp_path: Path) -> None:
    # file_test shard_dir_pinned_across_started_at_mismatch
    store = FileTraceStore(tmp_path, clock=lambda: JAN)
    await store.append("r", ToolSpan(name="a", run_id="r", call_id="1"))
    await FileTraceStore(tmp_path).write_index(
        TraceSummary(run_id="r", agent_id="x", started_at_secs=1262304000)  # 2010
    )
    assert (tmp_path / "2026-01" / "r.idx.json").is_file()
    await store.write_index(TraceSummary(run_id="only-index", agent_id="", started_at_secs=0))
    assert (tmp_path / "1970-01" / "only-index.idx.json").is_file()


async def test_the_index_is_written_atomically_and_replaced(tmp_path: Path) -> None:
    store = FileTraceStore(tmp_path)
    summary = TraceSummary(run_id="r", agent_id="x", started_at_secs=JAN.__int__())
    await store.write_index(summary)
    await store.write_index(attrs.evolve(summary, final_status="error"))
    folder = tmp_path / "2026-01"
    assert ["r.idx.json"] == [p.name for p in folder.iterdir()]
    assert encode_index(attrs.evolve(summary, final_status="error")) == (
        (folder / "r.idx.json").read_bytes()
    )


# -- §5: every line and index writes back byte for byte --------------------------------------


def sample_lines() -> list[bytes]:
    return [
        line
        for path in sorted(SAMPLES.glob("*/*.ndjson"))
        for line in path.read_bytes().splitlines(keepends=True)
    ]


def example_lines() -> list[bytes]:
    return EXAMPLES.read_bytes().splitlines(keepends=True)


DUPLICATE = [line for line in example_lines() if line.count(b'"parent_run_id"') == 2]


@pytest.mark.parametrize(
    "line", [line for line in sample_lines() + example_lines() if line not in DUPLICATE]
)
def test_every_sample_and_example_line_writes_back_byte_for_byte(line: bytes) -> None:
    assert line == encode_trace_line(decode_trace_line(line))


def test_every_event_type_of_the_examples_is_read() -> None:
    kinds = {
        event.type if isinstance(event, OpaqueMetricsEvent) else type(event).__name__
        for line in example_lines()
        if line not in DUPLICATE
        for event in (decode_trace_line(line),)
    }
    expected = {
        "InferenceSpan",
        "ToolSpan",
        "suspension",
        "handoff",
        "delegation",
        "evaluation_result",
        "background_task",
    }
    assert expected == kinds


async def test_a_delegation_line_repeating_a_key_is_a_damaged_line_naming_it(
    tmp_path: Path,
) -> None:
    # §5.6 / §8.1: the reference cannot read it back either; here the rest stays readable.
    (duplicate,) = DUPLICATE
    folder = tmp_path / "2026-01"
    folder.mkdir()
    (folder / "r.ndjson").write_bytes(sample_lines()[0] + duplicate + sample_lines()[1])
    read = await FileTraceStore(tmp_path).read_trace("r")
    assert 2 == len(read.events)
    (damaged,) = read.damaged
    assert 2 == damaged.line
    assert "$.parent_run_id: repeated key" in damaged.error


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*/*.idx.json")), ids=lambda p: p.name)
def test_the_sample_indexes_write_back_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    assert data == encode_index(decode_index(data))
    assert not data.endswith(b"\n")


def test_the_sample_bytes() -> None:
    for path in SAMPLES.glob("*/*.ndjson"):
        assert path.read_bytes().endswith(b"\n")
    assert "°".encode() in (SAMPLES / "2026-01" / f"{A}.ndjson").read_bytes()
    assert b"\xc2\xb0" in (SAMPLES / "2026-01" / f"{A}.ndjson").read_bytes()


def test_opaque_payloads_are_written_with_sorted_keys() -> None:
    span = ToolSpan(
        name="t", call_id="c", call_arguments={"b": 1, "a": {"z": 1, "y": [{"d": 0, "c": 0}]}}
    )
    assert b'"call_arguments":{"a":{"y":[{"c":0,"d":0}],"z":1},"b":1}' in encode_trace_line(span)


def test_judge_scores_are_written_as_32_bit_floats() -> None:
    assert "0.3" == f32_text(0.3)
    assert "0.3" == f32_text(0.30000001192092896)
    assert "1.0" == f32_text(1.0)
    summary = TraceSummary(run_id="r", agent_id="", started_at_secs=0, judge_score=0.3)
    assert b'"judge_score": 0.3\n}' in encode_index(summary)


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match='unknown type "run_end"'):
        decode_trace_line(b'{"type":"run_end","session_duration_ms":1}')


# -- §3.4: the index of a run ---------------------------------------------------------------------


def opaque(kind: str, **payload: object) -> OpaqueMetricsEvent:
    return OpaqueMetricsEvent(kind, payload)


def test_the_index_of_the_sample_run_is_derived_from_its_events() -> None:
    data = (SAMPLES / "2026-01" / f"{A}.ndjson").read_bytes()
    events = [decode_trace_line(line) for line in data.splitlines()]
    index = (SAMPLES / "2026-01" / f"{A}.idx.json").read_bytes()
    assert index == encode_index(derive_run_summary(A, events))


def test_the_index_brackets_every_event_kind() -> None:
    events = [
        opaque("delegation", agent_id="", timestamp_ms=1_700_000_001_000, duration_ms=5_000),
        opaque("handoff", agent_id="triage", prompt_id="p2", timestamp_ms=1_700_000_000_500),
        opaque("evaluation_result", prompt_id="p1", experiment_id="e", timestamp_ms=0),
        opaque("background_task", agent_id="bg", created_at_ms=1_699_999_999_000),
    ]
    summary = derive_run_summary("r", events)
    assert ("triage", 1_699_999_999, 1_700_000_006) == (
        summary.agent_id,
        summary.started_at_secs,
        summary.ended_at_secs,
    )
    assert (("p1", "p2"), "e", "ok") == (
        summary.prompt_ids,
        summary.experiment_id,
        summary.final_status,
    )


@pytest.mark.parametrize(
    "event",
    [
        ToolSpan(name="t", error_type="tool_error"),
        InferenceSpan(error_type="rate_limit"),
        opaque("delegation", success=False, timestamp_ms=1),
        opaque("background_task", status="failed", created_at_ms=1),
        opaque("background_task", status="running", error_message="x", created_at_ms=1),
        opaque("evaluation_result", name="n", error_type="judge", timestamp_ms=1),
    ],
)
def test_errors_of_every_kind_make_the_run_status_error(event: object) -> None:
    assert "error" == derive_run_summary("r", [event]).final_status  # type: ignore[list-item]


def test_suspensions_handoffs_and_cancelled_tasks_are_not_errors() -> None:
    events = [
        opaque("suspension", action="suspended", timestamp_ms=1),
        opaque("background_task", status="cancelled", created_at_ms=1),
    ]
    summary = derive_run_summary("r", events)
    assert ("ok", 0, None) == (summary.final_status, summary.started_at_secs, None)


def test_the_judge_score_is_the_lowest_evaluation_score() -> None:
    events = [
        opaque("evaluation_result", name="a", score_value=0.8, timestamp_ms=1000),
        opaque("evaluation_result", name="b", score_value=0.3, timestamp_ms=2000),
    ]
    summary = derive_run_summary("r", events)
    assert "0.3" == f32_text(summary.judge_score or 0.0)
    assert (1, 2) == (summary.started_at_secs, summary.ended_at_secs)


# -- the sink: index at the end of a replay, verified links ---------------------------------------


async def test_finishing_a_trace_writes_its_index_and_makes_it_listed(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path, clock=lambda: JAN)
    span = InferenceSpan(
        run_id="r", agent_id="a", prompt_id="p", duration_ms=5, started_at_ms=1_769_764_502_118
    )
    await sink.emit(SpanRecorded(span=span))
    assert [] == await sink.store.list_traces()  # a run in progress is not listed
    assert await sink.finish_trace("r")
    (row,) = await sink.store.list_traces()
    assert ("r", "a", ("p",), 1_769_764_502) == (
        row.run_id,
        row.agent_id,
        row.prompt_ids,
        row.started_at_secs,
    )
    assert not await sink.finish_trace("never-written")


def fixtures() -> list[Fixture]:
    return [Fixture(f"f{i}", "q", provider_script=(ChatResponseEvent(f"a{i}"),)) for i in range(2)]


async def test_run_eval_links_items_to_traces_it_can_read_back(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    run = await run_eval(fixtures(), RunOptions(), sink=sink)
    linked = [item.trace_run_id for item in run.items]
    assert None not in linked
    listed = ids(await sink.store.list_traces(TraceFilter(newest_first=False)))
    assert sorted(listed) == sorted(linked)  # type: ignore[type-var]


@pytest.mark.parametrize("mode", ["file-as-root", "file-as-month"])
async def test_a_sink_that_could_not_write_gives_no_link(tmp_path: Path, mode: str) -> None:
    # behaviour.md §1 / trace-store §4.4: the link is kept only for a readable trace.
    root = tmp_path / "traces"
    if mode == "file-as-root":
        root.write_text("a file where the trace root should be")
    else:
        root.mkdir()
        (root / month_folder(JAN)).write_text("not a folder")
    sink = JsonlTraceSink(root, clock=lambda: JAN)
    run = await run_eval(fixtures(), RunOptions(), sink=sink)
    assert [None, None] == [item.trace_run_id for item in run.items]
    assert 2 == len(run.items)


class PlainSink:
    """A sink without ``finish_trace``: it cannot confirm a trace, so nothing is linked."""

    def __init__(self) -> None:
        self.events: list[object] = []

    async def emit(self, event: object) -> None:
        self.events.append(event)


async def test_a_sink_that_cannot_confirm_a_trace_gives_no_link() -> None:
    sink = PlainSink()
    run = await run_eval(fixtures(), RunOptions(), sink=sink)
    assert [None, None] == [item.trace_run_id for item in run.items]
    assert any(isinstance(event, SpanRecorded) for event in sink.events)


async def test_the_capturing_sink_confirms_what_it_captured_unless_it_fails() -> None:
    run = await run_eval(fixtures(), RunOptions(), sink=CapturingSink())
    assert None not in [item.trace_run_id for item in run.items]
    failing = await run_eval(fixtures(), RunOptions(), sink=CapturingSink(fail=True))
    assert [None, None] == [item.trace_run_id for item in failing.items]


# -- acceptance: the sample tree curates through the CLI into fixtures that replay -------------


def test_the_sample_runs_curate_into_fixtures_that_validate_and_replay(
    cli: Any, samples: Path, tmp_path: Path
) -> None:
    # trace-store §6 "Curating A" / "Curating B", end to end through the CLI.
    out = tmp_path / "evals" / "fixtures"
    for run_id, contains in ((A, "Lisbon"), (B, "weather")):
        result = cli(
            "curate",
            "--trace-root",
            str(samples),
            "--run-id",
            run_id,
            "--out",
            str(out / f"{run_id}.json"),
            "--expect-final-contains",
            contains,
        )
        assert 0 == result.code, result.err
    curated_a = from_json(Fixture, (out / f"{A}.json").read_text("utf-8"))
    assert "What's the weather in Lisbon right now?" == curated_a.user_input
    assert "gpt-4o-mini" == curated_a.source_model_id
    tool_call, answer = curated_a.provider_script
    assert isinstance(tool_call, ToolCallEvent)
    assert ("call_Xk3P9qLmV2tR8sYwB1nD4eFh", "get_weather", {"city": "Lisbon"}) == (
        tool_call.id,
        tool_call.name,
        tool_call.arguments,
    )
    assert TokenUsage(prompt_tokens=212, completion_tokens=18, total_tokens=230) == tool_call.tokens
    assert isinstance(answer, ChatResponseEvent)
    expected_text = "It's clear in Lisbon right now, about 17 °C with a light breeze (11 km/h)."
    assert (expected_text, StopReason.END_TURN) == (answer.content, answer.finish_reason)
    assert TokenUsage(prompt_tokens=268, completion_tokens=17, total_tokens=285) == answer.tokens
    curated_b = from_json(Fixture, (out / f"{B}.json").read_text("utf-8"))
    assert "What can you help me with?" == curated_b.user_input
    assert ["chat_response"] == [event.kind for event in curated_b.provider_script]

    assert 0 == cli("validate", str(out)).code
    report = tmp_path / "report.ndjson"
    replayed = cli("replay", "--fixtures", str(out), "--report", str(report))
    assert 0 == replayed.code, replayed.out + replayed.err
    lines = report.read_text("utf-8").splitlines()
    assert 2 == len(lines)
    assert all('"passed":true' in line for line in lines)


async def test_the_sample_runs_stitch_only_when_they_share_a_thread(samples: Path) -> None:
    store = FileTraceStore(samples)
    run_a = (await store.read_trace(A)).events
    run_b = (await store.read_trace(B)).events
    expectation = Expectation(final_answer_contains=("weather",))
    with pytest.raises(CurateError, match="must share a thread"):
        stitch_dialogue([(A, run_a), (B, run_b)], expectation=expectation)
    first = run_a[0]
    assert isinstance(first, InferenceSpan)
    (only,) = run_b
    assert isinstance(only, InferenceSpan)
    same_thread = [attrs.evolve(only, thread_id=first.thread_id)]
    stitched = stitch_dialogue([(A, run_a), (B, same_thread)], expectation=expectation)
    assert "What's the weather in Lisbon right now?" == stitched.user_input
    assert ["What can you help me with?"] == [t.user_input for t in stitched.continued_turns]
