"""``DatasetService``: dataset CRUD (spec §4.10) and curation (spec §6.3), test list §7.14.

Every test runs with the in-memory and the file dataset store, on asyncio and trio,
against the :class:`~awaken_eval.testing.InMemoryTraceStore`. Tests named as in §7.14
pin the reference's behaviour; the others pin the rules this port decided (damaged
traces, pin failures after a write: trace-store spec §8.9).
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

from awaken_eval import (
    ChatResponseEvent,
    Conflict,
    DatasetSpec,
    Expectation,
    InvalidRequest,
    NotFound,
    StoreFailure,
)
from awaken_eval.curate import CurationMode
from awaken_eval.errors import NotConfigured, ServiceError
from awaken_eval.records import DatasetSummary
from awaken_eval.service import (
    AppendFixtureRequest,
    CreateDatasetRequest,
    CurateItemRequest,
    DatasetService,
    ImportDialogueRequest,
    ImportTracesRequest,
    ReplaceDatasetRequest,
    http_status,
    parse_request,
)
from awaken_eval.sinks import DamagedLine, PinKind, TraceSummary
from awaken_eval.stores import FileDatasetStore, InMemoryDatasetStore
from awaken_eval.testing import InMemoryTraceStore
from dataset_support import (
    DATASET_KINDS,
    T0_MS,
    RacingDatasets,
    answer,
    open_datasets,
    parallel_tools,
    weather_fixture,
)

pytestmark = pytest.mark.anyio

SUNNY = Expectation(final_answer_contains=("sunny",))
RUN_A = "run-a"
RUN_B = "run-b"
RUN_C = "run-c"


@pytest.fixture(params=DATASET_KINDS)
def datasets(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return open_datasets(request.param, tmp_path)


@pytest.fixture
def traces() -> InMemoryTraceStore:
    store = InMemoryTraceStore()
    store.add(RUN_A, [answer(RUN_A, started_at_ms=T0_MS)])
    store.add(RUN_B, [answer(RUN_B, "Sunny again.", started_at_ms=T0_MS + 60_000)])
    return store


@pytest.fixture
def service(datasets: Any, traces: InMemoryTraceStore) -> DatasetService:
    return DatasetService(datasets=datasets, traces=traces)


async def refused(
    call: Awaitable[object], error: type[ServiceError], status: int, text: str
) -> str:
    with pytest.raises(error) as info:
        await call
    assert status == http_status(info.value)
    assert text in info.value.message, info.value.message
    return info.value.message


async def empty_dataset(service: DatasetService, dataset_id: str = "ds") -> None:
    await service.create(CreateDatasetRequest(spec=DatasetSpec()), dataset_id=dataset_id)


# -- CRUD (§4.10, §7.14 "Datasets") -------------------------------------------------------


async def test_dataset_create_get_list_delete_round_trip(service: DatasetService) -> None:
    spec = DatasetSpec(description="weather", fixtures=(weather_fixture("a"),))
    created = await service.create(CreateDatasetRequest(id="ds", spec=spec))
    assert (spec, 0) == (created.spec, created.meta.revision)
    got = await service.get("ds")
    assert (spec, 0) == (got.spec, got.meta.revision)
    await service.create(CreateDatasetRequest(id="body", spec=DatasetSpec()), dataset_id="aa")
    listed = await service.list()
    assert (
        DatasetSummary(id="aa", description="", fixture_count=0, revision=0),
        DatasetSummary(id="ds", description="weather", fixture_count=1, revision=0),
    ) == listed.datasets
    assert ("ds",) == tuple(row.id for row in (await service.list(offset=1, limit=5)).datasets)
    await service.delete("ds")
    await service.delete("ds")  # idempotent
    await refused(service.get("ds"), NotFound, 404, "dataset not found: ds")


async def test_dataset_create_400s_without_an_id(service: DatasetService) -> None:
    await refused(
        service.create(CreateDatasetRequest(spec=DatasetSpec())), InvalidRequest, 400, "id"
    )


async def test_delete_dataset_guarded_by_expected_revision(service: DatasetService) -> None:
    await empty_dataset(service)
    await service.replace("ds", ReplaceDatasetRequest(expected_revision=0, spec=DatasetSpec()))
    await refused(service.delete("ds", expected_revision=0), Conflict, 409, "revision conflict")
    await service.get("ds")
    await service.delete("ds", expected_revision=1)
    await refused(service.get("ds"), NotFound, 404, "ds")


async def test_dataset_create_400s_on_duplicate_fixture_id(service: DatasetService) -> None:
    spec = DatasetSpec(fixtures=(weather_fixture("a", 2.0), weather_fixture("a")))
    create = service.create(CreateDatasetRequest(id="ds", spec=spec))
    await refused(create, InvalidRequest, 400, "duplicate fixture id in dataset: a")
    await refused(service.get("ds"), NotFound, 404, "ds")


async def test_dataset_create_400s_on_invalid_min_judge_score(service: DatasetService) -> None:
    spec = DatasetSpec(fixtures=(weather_fixture("a", 1.5),))
    create = service.create(CreateDatasetRequest(id="ds", spec=spec))
    await refused(create, InvalidRequest, 400, "fixture a: min_judge_score")


async def test_dataset_put_400s_on_duplicate_fixture_id(service: DatasetService) -> None:
    await empty_dataset(service)
    spec = DatasetSpec(fixtures=(weather_fixture("a"), weather_fixture("a")))
    put = service.replace("ds", ReplaceDatasetRequest(expected_revision=0, spec=spec))
    await refused(put, InvalidRequest, 400, "duplicate fixture id in dataset: a")
    assert 0 == (await service.get("ds")).meta.revision


async def test_dataset_create_conflicts_on_duplicate_id(service: DatasetService) -> None:
    await empty_dataset(service)
    again = service.create(CreateDatasetRequest(id="ds", spec=DatasetSpec()))
    await refused(again, Conflict, 409, "already exists")


async def test_dataset_put_with_stale_revision_returns_409(service: DatasetService) -> None:
    await empty_dataset(service)
    first = await service.replace(
        "ds", ReplaceDatasetRequest(expected_revision=0, spec=DatasetSpec())
    )
    assert 1 == first.meta.revision
    stale = service.replace("ds", ReplaceDatasetRequest(expected_revision=0, spec=DatasetSpec()))
    await refused(stale, Conflict, 409, "revision conflict: expected 0, actual 1")


async def test_dataset_put_creates_a_missing_dataset_only_from_revision_zero(
    service: DatasetService,
) -> None:
    missing = service.replace("new", ReplaceDatasetRequest(expected_revision=2, spec=DatasetSpec()))
    await refused(missing, NotFound, 404, "dataset not found: new")
    made = await service.replace(
        "new", ReplaceDatasetRequest(expected_revision=0, spec=DatasetSpec())
    )
    assert 1 == made.meta.revision


async def test_dataset_get_returns_404_for_unknown_id(service: DatasetService) -> None:
    await refused(service.get("nope"), NotFound, 404, "dataset not found: nope")


async def test_append_fixture_adds_to_existing_dataset_and_bumps_revision(
    service: DatasetService,
) -> None:
    await empty_dataset(service)
    appended = await service.append_fixture(
        "ds", AppendFixtureRequest(fixture=weather_fixture("a"), expected_revision=0)
    )
    assert 1 == appended.meta.revision
    assert ("a",) == tuple(f.id for f in (await service.get("ds")).spec.fixtures)


async def test_append_fixture_409s_on_stale_revision(service: DatasetService) -> None:
    await empty_dataset(service)
    request = AppendFixtureRequest(fixture=weather_fixture("a"), expected_revision=3)
    await refused(service.append_fixture("ds", request), Conflict, 409, "revision conflict")


async def test_append_fixture_409s_on_duplicate_id(service: DatasetService) -> None:
    await empty_dataset(service)
    request = AppendFixtureRequest(fixture=weather_fixture("a"), expected_revision=0)
    await service.append_fixture("ds", request)
    again = AppendFixtureRequest(fixture=weather_fixture("a"), expected_revision=1)
    await refused(service.append_fixture("ds", again), Conflict, 409, "already has fixture")


async def test_append_fixture_checks_the_judge_range_before_the_dataset(
    service: DatasetService,
) -> None:
    request = AppendFixtureRequest(fixture=weather_fixture("a", -1.0), expected_revision=0)
    await refused(service.append_fixture("nope", request), InvalidRequest, 400, "fixture a")
    fine = AppendFixtureRequest(fixture=weather_fixture("a"), expected_revision=0)
    await refused(service.append_fixture("nope", fine), NotFound, 404, "dataset not found")


async def test_a_malformed_dataset_fails_the_whole_list(tmp_path: Path) -> None:
    store = FileDatasetStore(tmp_path)
    service = DatasetService(datasets=store)
    await empty_dataset(service, "good")
    (tmp_path / "bad.json").write_text('{"spec": {"fixtures": 3}, "meta": {"revision": 0}}')
    with pytest.raises(StoreFailure):
        await service.list()


# -- curate one trace (§6.3 items, §7.14 "Curation") ------------------------------------


def curate(run_id: str = RUN_A, **fields: Any) -> CurateItemRequest:
    fields.setdefault("expected", SUNNY)
    return CurateItemRequest(from_run_id=run_id, **fields)


async def test_curate_items_appends_fixture_recovered_from_trace(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    response = await service.curate_item("ds", curate())
    assert (1, ()) == (response.meta.revision, response.unpinned)
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert (RUN_A, "What is the weather?", "Curated from trace run-a") == (
        fixture.id,
        fixture.user_input,
        fixture.description,
    )
    assert (RUN_A, "gpt-test", None) == (
        fixture.source_run_id,
        fixture.source_model_id,
        fixture.provider_script_error,
    )
    assert [ChatResponseEvent] == [type(event) for event in fixture.provider_script]
    assert [(RUN_A, PinKind.DATASET)] == traces.pins


async def test_curate_items_503s_without_a_trace_store(datasets: Any) -> None:
    service = DatasetService(datasets=datasets)
    await empty_dataset(service)
    await refused(service.curate_item("ds", curate()), NotConfigured, 503, "trace store")
    imports = ImportTracesRequest(expected_revision=0, expected=SUNNY)
    await refused(service.import_traces("ds", imports), NotConfigured, 503, "trace store")
    dialogue = ImportDialogueRequest(expected_revision=0, run_ids=(RUN_A,), expected=SUNNY)
    await refused(service.import_dialogue("ds", dialogue), NotConfigured, 503, "trace store")


async def test_curate_items_400s_on_empty_expected(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    empty = CurateItemRequest(from_run_id=RUN_A)
    await refused(service.curate_item("ds", empty), InvalidRequest, 400, "at least one expectation")
    # before the trace is read: an unknown trace is not what is reported
    ghost = CurateItemRequest(from_run_id="ghost", expected=Expectation())
    await refused(service.curate_item("ds", ghost), InvalidRequest, 400, "at least one expectation")
    assert [] == traces.pins


async def test_curate_items_404s_on_unknown_trace_and_400s_on_invalid_run_id(
    service: DatasetService,
) -> None:
    await empty_dataset(service)
    await refused(
        service.curate_item("ds", curate("ghost")), NotFound, 404, "trace not found: ghost"
    )
    await refused(service.curate_item("ds", curate("../x")), InvalidRequest, 400, "run id")


async def test_curate_items_reads_the_trace_before_the_dataset(service: DatasetService) -> None:
    await refused(service.curate_item("nope", curate("ghost")), NotFound, 404, "trace not found")
    await refused(service.curate_item("nope", curate()), NotFound, 404, "dataset not found: nope")


async def test_parallel_tool_trace_curates_live_only_in_optional_mode(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("par", parallel_tools("par"))
    await empty_dataset(service)
    await service.curate_item("ds", curate("par"))
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert () == fixture.provider_script
    assert fixture.provider_script_error is not None
    assert "one tool call per turn" in fixture.provider_script_error


async def test_curate_items_require_mode_rejects_unsupported_provider_script(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("par", parallel_tools("par"))
    await empty_dataset(service)
    request = curate("par", provider_script_mode=CurationMode.REQUIRE)
    message = await refused(
        service.curate_item("ds", request), InvalidRequest, 400, "curating trace: "
    )
    assert "one tool call per turn" in message
    assert 0 == (await service.get("ds")).meta.revision
    assert [] == traces.pins


async def test_curate_items_skip_mode_never_converts(service: DatasetService) -> None:
    await empty_dataset(service)
    await service.curate_item("ds", curate(provider_script_mode=CurationMode.SKIP))
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert ((), "conversion skipped by request") == (
        fixture.provider_script,
        fixture.provider_script_error,
    )


async def test_curate_items_400s_when_trace_lacks_user_and_body_lacks_input(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("mute", [answer("mute", question=None)])
    await empty_dataset(service)
    await refused(service.curate_item("ds", curate("mute")), InvalidRequest, 400, "user_input")
    given = curate("mute", user_input="Is it sunny?", fixture_id="f", description="d")
    await service.curate_item("ds", given)
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert ("f", "Is it sunny?", "d", "mute") == (
        fixture.id,
        fixture.user_input,
        fixture.description,
        fixture.source_run_id,
    )


async def test_curate_items_checks_the_fixture_id_before_the_user_input(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("mute", [answer("mute", question=None)])
    await empty_dataset(service)
    await service.curate_item("ds", curate("mute", user_input="hi"))
    again = curate("mute")  # no user input either: the duplicate id is reported
    await refused(service.curate_item("ds", again), Conflict, 409, "already has fixture mute")


async def test_curate_items_cas_failure_does_not_pin_trace(
    datasets: Any, traces: InMemoryTraceStore
) -> None:
    await datasets.put("ds", DatasetSpec(), expected_revision=None)
    service = DatasetService(datasets=RacingDatasets(datasets), traces=traces)
    await refused(service.curate_item("ds", curate()), Conflict, 409, "revision conflict")
    assert [] == traces.pins
    assert () == (await datasets.get("ds")).spec.fixtures


async def test_curate_items_pin_failure_after_the_write_is_reported_not_raised(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    traces.fail_pin(RUN_A)
    response = await service.curate_item("ds", curate())
    assert (1, (RUN_A,)) == (response.meta.revision, response.unpinned)
    assert 1 == len((await service.get("ds")).spec.fixtures)


async def test_a_torn_last_line_is_curated_from_the_intact_lines(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("torn", [answer("torn")], damaged=[DamagedLine(2, "$: unterminated string")])
    await empty_dataset(service)
    await service.curate_item("ds", curate("torn"))
    assert ("torn",) == tuple(f.id for f in (await service.get("ds")).spec.fixtures)


async def test_damage_before_the_last_line_is_refused_naming_the_line(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    damaged = [DamagedLine(1, "$.type: unknown event")]
    traces.add("holed", [answer("holed"), answer("holed", step=1)], damaged=damaged)
    await empty_dataset(service)
    request = curate("holed")
    await refused(service.curate_item("ds", request), InvalidRequest, 400, "damaged at line 1")


async def test_the_expectation_alias_expect_is_accepted_but_not_with_expected(
    service: DatasetService,
) -> None:
    await empty_dataset(service)
    body = {"from_run_id": RUN_A, "expect": {"final_answer_contains": ["sunny"]}}
    await service.curate_item("ds", parse_request(CurateItemRequest, body))
    both = curate(RUN_B, expect=SUNNY)
    await refused(service.curate_item("ds", both), InvalidRequest, 400, "not both")


async def test_curate_requests_are_strict(service: DatasetService) -> None:
    body = {"from_run_id": RUN_A, "expected": {}, "provider_script_mod": "skip"}
    with pytest.raises(InvalidRequest, match=r"\$\.provider_script_mod: unknown key"):
        parse_request(CurateItemRequest, body)
    with pytest.raises(InvalidRequest, match=r"\$\.provider_script_mode"):
        parse_request(CurateItemRequest, {"from_run_id": RUN_A, "provider_script_mode": "maybe"})


# -- import traces (§6.3 import-traces) -------------------------------------------------------


def imports(revision: int = 0, **fields: Any) -> ImportTracesRequest:
    fields.setdefault("expected", SUNNY)
    return ImportTracesRequest(expected_revision=revision, **fields)


async def test_import_traces_appends_curatable_traces_and_skips_existing(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    first = await service.import_traces("ds", imports())
    assert (2, 0, 1) == (first.imported_count, first.skipped_count, first.dataset_revision)
    spec = (await service.get("ds")).spec
    assert [RUN_B, RUN_A] == [f.id for f in spec.fixtures]  # newest first
    assert "Imported from trace run-b" == spec.fixtures[0].description
    assert {RUN_A, RUN_B} == {run for run, _ in traces.pins}
    second = await service.import_traces("ds", imports(1))
    assert (0, 2, 1) == (second.imported_count, second.skipped_count, second.dataset_revision)
    assert 1 == (await service.get("ds")).meta.revision  # nothing imported: no write


async def test_import_traces_filters_by_agent_since_and_count(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add(RUN_C, [answer(RUN_C, agent_id="other", started_at_ms=T0_MS + 120_000)])
    await empty_dataset(service)
    only_b = await service.import_traces("ds", imports(agent_id="weather", max_count=1))
    assert 1 == only_b.imported_count
    since = (T0_MS + 30_000) // 1000
    later = await service.import_traces("ds", imports(1, since_secs=since))
    assert (1, 1) == (later.imported_count, later.skipped_count)  # run-c new, run-b present
    assert [RUN_B, RUN_C] == [f.id for f in (await service.get("ds")).spec.fixtures]


async def test_import_traces_cuts_the_listing_before_skipping_present_ids(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    await service.curate_item("ds", curate(RUN_B))
    response = await service.import_traces("ds", imports(1, max_count=1))
    assert (0, 1, 1) == (response.imported_count, response.skipped_count, response.dataset_revision)


async def test_import_traces_skips_runs_seen_earlier_in_the_call(datasets: Any) -> None:
    traces = InMemoryTraceStore()
    row = TraceSummary(run_id=RUN_A, agent_id="weather", started_at_secs=1)
    traces.add(RUN_A, [answer(RUN_A)], summary=row)

    class Twice(InMemoryTraceStore):
        async def list_traces(self, trace_filter: Any) -> list[TraceSummary]:
            return [row, row]

    twice = Twice()
    twice.add(RUN_A, [answer(RUN_A)])
    service = DatasetService(datasets=datasets, traces=twice)
    await empty_dataset(service)
    response = await service.import_traces("ds", imports())
    assert (1, 1) == (response.imported_count, response.skipped_count)


async def test_import_traces_imports_live_only_fixture_when_provider_script_is_unsupported(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("par", parallel_tools("par", started_at_ms=T0_MS + 300_000))
    await empty_dataset(service)
    response = await service.import_traces("ds", imports(max_count=1))
    assert 1 == response.imported_count
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert ("par", ()) == (fixture.id, fixture.provider_script)
    assert fixture.provider_script_error is not None


async def test_import_traces_require_mode_fails_or_skips_uncuratable(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("par", parallel_tools("par", started_at_ms=T0_MS + 300_000))
    await empty_dataset(service)
    strict = imports(provider_script_mode=CurationMode.REQUIRE)
    await refused(service.import_traces("ds", strict), InvalidRequest, 400, "curating trace par: ")
    assert 0 == (await service.get("ds")).meta.revision
    lenient = imports(provider_script_mode=CurationMode.REQUIRE, skip_uncuratable=True)
    response = await service.import_traces("ds", lenient)
    assert (2, 1, 1) == (response.imported_count, response.skipped_count, response.dataset_revision)


async def test_import_traces_409s_on_stale_revision(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    await refused(service.import_traces("ds", imports(4)), Conflict, 409, "revision conflict")
    assert [] == traces.pins


async def test_import_traces_400s_on_empty_expected(service: DatasetService) -> None:
    await empty_dataset(service)
    empty = ImportTracesRequest(expected_revision=0)
    await refused(
        service.import_traces("ds", empty), InvalidRequest, 400, "at least one expectation"
    )


async def test_import_traces_cas_failure_does_not_pin_trace(
    datasets: Any, traces: InMemoryTraceStore
) -> None:
    await datasets.put("ds", DatasetSpec(), expected_revision=None)
    service = DatasetService(datasets=RacingDatasets(datasets), traces=traces)
    await refused(service.import_traces("ds", imports()), Conflict, 409, "revision conflict")
    assert [] == traces.pins


async def test_import_traces_400s_when_trace_lacks_user_and_skip_disabled(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    traces.add("mute", [answer("mute", question=None, started_at_ms=T0_MS + 300_000)])
    await empty_dataset(service)
    await refused(service.import_traces("ds", imports()), InvalidRequest, 400, "request_messages")
    skipping = await service.import_traces("ds", imports(skip_uncuratable=True))
    assert (2, 1) == (skipping.imported_count, skipping.skipped_count)


async def test_import_traces_pins_the_rest_when_one_pin_fails(
    service: DatasetService, traces: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    traces.fail_pin(RUN_B)  # the newest: the reference stopped pinning at the first failure
    response = await service.import_traces("ds", imports())
    assert (2, 1, (RUN_B,)) == (
        response.imported_count,
        response.dataset_revision,
        response.unpinned,
    )
    assert [(RUN_A, PinKind.DATASET)] == traces.pins


# -- import a dialogue (§6.3 import-dialogue) ---------------------------------------------


def dialogue(*run_ids: str, revision: int = 0, **fields: Any) -> ImportDialogueRequest:
    fields.setdefault("expected", SUNNY)
    return ImportDialogueRequest(expected_revision=revision, run_ids=run_ids, **fields)


@pytest.fixture
def thread(traces: InMemoryTraceStore) -> InMemoryTraceStore:
    traces.add("t1", [answer("t1", "Sunny.", question="Weather?", thread_id="th")])
    traces.add("t2", [answer("t2", "Still sunny.", question="And later?", thread_id="th")])
    return traces


async def test_import_dialogue_stitches_runs_into_multiturn_fixture(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    response = await service.import_dialogue("ds", dialogue("t1", "t2"))
    assert ("t1", 1, ()) == (response.fixture_id, response.dataset_revision, response.unpinned)
    (fixture,) = (await service.get("ds")).spec.fixtures
    assert ("Weather?", "t1", "Stitched dialogue from 2 runs") == (
        fixture.user_input,
        fixture.source_run_id,
        fixture.description,
    )
    assert ["And later?"] == [turn.user_input for turn in fixture.continued_turns]
    (event,) = fixture.continued_turns[0].provider_script
    assert isinstance(event, ChatResponseEvent)
    assert "Still sunny." == event.content
    assert [("t1", PinKind.DATASET), ("t2", PinKind.DATASET)] == thread.pins


async def test_import_dialogue_400s_on_thread_id_mismatch(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    await refused(
        service.import_dialogue("ds", dialogue("t1", RUN_A)), InvalidRequest, 400, "thread_id="
    )
    assert [] == thread.pins


async def test_import_dialogue_400s_on_model_change(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    thread.add("t4", [answer("t4", thread_id="th", model="other-model")])
    await empty_dataset(service)
    await refused(service.import_dialogue("ds", dialogue("t1", "t4")), InvalidRequest, 400, "model")


async def test_import_dialogue_continued_turn_keeps_its_own_script_error(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    thread.add("t5", parallel_tools("t5", thread_id="th")[:1])
    await empty_dataset(service)
    await service.import_dialogue("ds", dialogue("t1", "t5"))
    (fixture,) = (await service.get("ds")).spec.fixtures
    (turn,) = fixture.continued_turns
    assert turn.provider_script_error is not None
    assert "one tool call per turn" in turn.provider_script_error


async def test_import_dialogue_400s_on_empty_run_ids(service: DatasetService) -> None:
    await refused(service.import_dialogue("nope", dialogue()), InvalidRequest, 400, "non-empty")


async def test_import_dialogue_409s_on_duplicate_fixture_id(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    await service.import_dialogue("ds", dialogue("t1", "t2"))
    again = dialogue("t1", "t2", revision=1)
    await refused(service.import_dialogue("ds", again), Conflict, 409, "already has fixture t1")
    renamed = await service.import_dialogue("ds", dialogue("t1", "t2", revision=1, fixture_id="x"))
    assert ("x", 2) == (renamed.fixture_id, renamed.dataset_revision)


async def test_import_dialogue_409s_on_stale_revision_and_404s_on_unknown_run(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    stale = dialogue("t1", revision=2)
    await refused(service.import_dialogue("ds", stale), Conflict, 409, "revision conflict")
    ghost = dialogue("t1", "ghost")
    await refused(service.import_dialogue("ds", ghost), NotFound, 404, "trace not found: ghost")
    assert [] == thread.pins


async def test_import_dialogue_cas_failure_does_not_pin_trace(
    datasets: Any, thread: InMemoryTraceStore
) -> None:
    await datasets.put("ds", DatasetSpec(), expected_revision=None)
    service = DatasetService(datasets=RacingDatasets(datasets), traces=thread)
    await refused(
        service.import_dialogue("ds", dialogue("t1", "t2")), Conflict, 409, "revision conflict"
    )
    assert [] == thread.pins


async def test_import_dialogue_pin_failure_is_reported_and_the_rest_pinned(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    thread.fail_pin("t1")
    response = await service.import_dialogue("ds", dialogue("t1", "t2"))
    assert (1, ("t1",)) == (response.dataset_revision, response.unpinned)
    assert [("t2", PinKind.DATASET)] == thread.pins


async def test_the_memory_and_file_stores_answer_alike(tmp_path: Path) -> None:
    answers = []
    for store in (InMemoryDatasetStore(), FileDatasetStore(tmp_path)):
        traces = InMemoryTraceStore()
        traces.add(RUN_A, [answer(RUN_A)])
        service = DatasetService(datasets=store, traces=traces)
        await empty_dataset(service)
        await service.import_traces("ds", imports())
        answers.append(await service.get("ds"))
    assert answers[0] == answers[1]


async def test_import_dialogue_checks_runs_in_order(
    service: DatasetService, thread: InMemoryTraceStore
) -> None:
    await empty_dataset(service)
    # run-a is on another thread: that is reported before the unknown run after it
    mixed = dialogue("t1", RUN_A, "ghost")
    await refused(service.import_dialogue("ds", mixed), InvalidRequest, 400, "thread_id=")
    ghost_first = dialogue("t1", "ghost", RUN_A)
    await refused(service.import_dialogue("ds", ghost_first), NotFound, 404, "ghost")
