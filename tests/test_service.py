"""EvalService: the start-run, online, get/list and evaluate handlers (spec §4, §7.13-7.14)."""

from __future__ import annotations

import concurrent.futures
import functools
import json
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from awaken_eval import (
    AgentSpec,
    AlreadyExists,
    ChatResponseEvent,
    Conflict,
    DatasetSpec,
    EvalRun,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InvalidInput,
    InvalidRequest,
    NotFound,
    ResolvedModel,
    SamplingParams,
    StoreFailure,
    TokenUsage,
    to_builtins,
)
from awaken_eval._records.rules import validate_unique_item_keys
from awaken_eval.errors import DuplicateItemKeys, InvalidRunId, ServiceError
from awaken_eval.evaluation import Evaluation, EvaluationCriterion, ExpectedOutcome, RunId, RunScope
from awaken_eval.events import (
    EvaluationResult,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    SpanRecorded,
)
from awaken_eval.records import DatasetRecord, EvalRunFilter
from awaken_eval.service import (
    AgentSpecPatch,
    EvalLimits,
    EvalService,
    JudgeRequestSpec,
    OnlineEvalRequest,
    RequestedMode,
    SamplingPatch,
    StartRunRequest,
    StaticAgentResolver,
    StaticModelResolver,
    http_status,
    parse_request,
)
from awaken_eval.stores import FileDatasetStore, InMemoryDatasetStore, InMemoryRunStore
from awaken_eval.testing import CannedTextExecutor, CapturingSink, ScriptedJudge
from builders import item as make_item
from builders import run as make_run

# -- builders -----------------------------------------------------------------------------


def _fixture(fixture_id: str, answer: str = "4", **expect: Any) -> Fixture:
    return Fixture(
        id=fixture_id,
        user_input="What is 2+2?",
        provider_script=(
            ChatResponseEvent(answer, tokens=TokenUsage(prompt_tokens=3, completion_tokens=1)),
        ),
        expect=Expectation(final_answer_contains=(answer,), **expect),
    )


def _judged(fixture_id: str, score: float = 0.5) -> Fixture:
    return _fixture(fixture_id, min_judge_score=score)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@attrs.define
class World:
    """A service over in-memory stores with one model per id in ``model_ids``."""

    service: EvalService
    datasets: InMemoryDatasetStore
    runs: InMemoryRunStore
    sink: CapturingSink
    executors: dict[str, CannedTextExecutor]


def _world(
    *,
    fixtures: Sequence[Fixture] = (),
    model_ids: Sequence[str] = ("m1", "m2"),
    agents: Sequence[AgentSpec] = (),
    limits: EvalLimits | None = None,
    datasets: Any = None,
    runs: Any = None,
    judge_text: str = '{"score": 0.9, "reasoning": "thorough"}',
) -> World:
    executors = {model_id: CannedTextExecutor(["4"]) for model_id in model_ids}
    executors["judge"] = CannedTextExecutor([judge_text])
    resolver = StaticModelResolver(
        ResolvedModel(model_id=model_id, executor=executor, upstream_model=f"up-{model_id}")
        for model_id, executor in executors.items()
    )
    sink = CapturingSink()
    run_store = runs if runs is not None else InMemoryRunStore()
    dataset_store = datasets if datasets is not None else InMemoryDatasetStore()
    service = EvalService(
        datasets=dataset_store,
        runs=run_store,
        models=resolver,
        agents=StaticAgentResolver(agents),
        sink=sink,
        limits=limits,
        clock=_Clock(),
    )
    world = World(service, dataset_store, run_store, sink, executors)
    if fixtures and datasets is None:
        dataset_store._records["ds"] = DatasetRecord(DatasetSpec(fixtures=tuple(fixtures)), 1)
    return world


def _request(**fields: Any) -> StartRunRequest:
    fields.setdefault("dataset_id", "ds")
    return StartRunRequest(**fields)


async def _refused(
    call: Awaitable[Any], error: type[ServiceError], *fragments: str
) -> ServiceError:
    with pytest.raises(error) as info:
        await call
    for fragment in fragments:
        assert fragment in info.value.message
    return info.value


# -- requests and limits ------------------------------------------------------------------


def test_limits_defaults_follow_the_spec() -> None:
    limits = EvalLimits()
    assert (100, 5, 10, 5, 20, 3, 50, 60, 10_000) == (
        limits.max_cells_per_sync_run,
        limits.max_concurrent_matrix_cells,
        limits.max_cells_per_sync_online,
        limits.max_concurrent_online_cells,
        limits.max_samples_per_cell,
        limits.max_judge_revisions,
        limits.default_import_traces_max,
        limits.default_max_walltime_secs,
        limits.default_max_total_tokens,
    )


@pytest.mark.parametrize("field", [f.name for f in attrs.fields(EvalLimits)])
def test_limits_reject_zero_naming_the_field(field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        EvalLimits(**{field: 0})
    assert f"{field} must be > 0" in str(info.value)
    assert f"$.{field}" == info.value.problems[0].path


def test_parse_request_rejects_unknown_keys_with_their_paths() -> None:
    body = {"dataset_id": "d", "judge": {"model_id": "j", "rubrik": "x"}, "sample": 2}
    with pytest.raises(InvalidRequest) as info:
        parse_request(StartRunRequest, body)
    message = info.value.message
    assert "$.judge.rubrik: unknown key" in message
    assert "$.sample: unknown key" in message
    assert 400 == http_status(info.value)


def test_parse_request_accepts_json_text_and_rejects_bad_types() -> None:
    request = parse_request(StartRunRequest, '{"dataset_id": "d", "models": []}')
    assert () == request.models
    assert request.live
    with pytest.raises(InvalidRequest, match=r"\$\.samples"):
        parse_request(StartRunRequest, {"dataset_id": "d", "samples": -1})
    with pytest.raises(InvalidRequest, match=r"\$\.agent_overrides\.temperature: unknown key"):
        parse_request(StartRunRequest, {"dataset_id": "d", "agent_overrides": {"temperature": 1}})


def test_mode_inference_from_models_presence() -> None:
    assert not StartRunRequest(dataset_id="d").live
    assert StartRunRequest(dataset_id="d", models=()).live
    assert not StartRunRequest(dataset_id="d", mode=RequestedMode.SCRIPTED, models=("m",)).live
    assert StartRunRequest(dataset_id="d", mode=RequestedMode.LIVE).live


def test_agent_patch_replaces_only_present_values() -> None:
    base = AgentSpec(
        id="support",
        system_prompt="base",
        allowed_tools=("search",),
        sampling=SamplingParams(temperature=0.2, top_p=0.9),
        max_rounds=4,
    )
    patch = AgentSpecPatch(system_prompt="patched", sampling=SamplingPatch(temperature=0.7))
    expected = AgentSpec(
        id="support",
        system_prompt="patched",
        allowed_tools=("search",),
        sampling=SamplingParams(temperature=0.7, top_p=0.9),
        max_rounds=4,
    )
    assert expected == patch.apply(base)
    assert base == AgentSpecPatch().apply(base)


def test_http_status_maps_every_error_family() -> None:
    assert 400 == http_status(InvalidRequest("x"))
    assert 404 == http_status(NotFound("x"))
    assert 409 == http_status(AlreadyExists("r"))
    assert 500 == http_status(StoreFailure("x"))
    assert 400 == http_status(InvalidInput.single("$", "bad"))
    assert 400 == http_status(InvalidRunId("a/b", "contains /"))
    assert 500 == http_status(RuntimeError("boom"))


# -- start_run: validation in the spec's order -----------------------------------------------

_SHAPE_RULES: list[tuple[str, dict[str, Any], str]] = [
    (
        "scripted_with_models",
        {"mode": RequestedMode.SCRIPTED, "models": ("m1",)},
        '`models` is only valid with mode="live"',
    ),
    ("live_empty_models", {"models": ()}, "non-empty"),
    ("duplicate_models", {"models": ("m1", "m1")}, "duplicate model"),
    ("live_without_models", {"mode": RequestedMode.LIVE}, 'mode="live" requires'),
    ("scripted_walltime", {"max_walltime_secs": 5}, 'max_walltime_secs requires mode="live"'),
    ("scripted_token_budget", {"max_total_tokens": 5}, 'max_total_tokens requires mode="live"'),
    (
        "live_zero_walltime",
        {"models": ("m1",), "max_walltime_secs": 0},
        "max_walltime_secs must be >= 1",
    ),
    ("scripted_agent_id", {"agent_id": "a"}, 'agent_id requires mode="live"'),
    (
        "scripted_agent_overrides",
        {"agent_overrides": AgentSpecPatch()},
        'agent_overrides requires mode="live"',
    ),
    ("zero_samples", {"samples": 0}, "samples must be >= 1"),
    ("scripted_samples", {"samples": 2}, 'samples requires mode="live"'),
    ("samples_above_cap", {"models": ("m1",), "samples": 21}, "samples=21 exceeds cap 20"),
    ("scripted_judge", {"judge": JudgeRequestSpec(model_id="judge")}, 'judge requires mode="live"'),
    (
        "revise_above_cap",
        {"models": ("m1",), "judge": JudgeRequestSpec(model_id="judge", revise_max_retries=4)},
        "revise_max_retries=4 exceeds cap 3",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "fields", "fragment"), _SHAPE_RULES, ids=[r[0] for r in _SHAPE_RULES]
)
async def test_start_run_shape_rules(name: str, fields: dict[str, Any], fragment: str) -> None:
    world = _world(fixtures=[_fixture("a")])
    await _refused(world.service.start_run(_request(**fields)), InvalidRequest, fragment)
    assert [] == world.sink.events
    assert [] == await world.runs.list(EvalRunFilter())


# Each pair breaks two rules; the earlier rule of spec §4.4 must win.
_ORDER_PAIRS: list[tuple[dict[str, Any], str]] = [
    (
        {"mode": RequestedMode.SCRIPTED, "models": ("m1",), "max_walltime_secs": 5},
        "`models` is only valid",
    ),
    ({"max_walltime_secs": 5, "max_total_tokens": 5}, "max_walltime_secs requires"),
    ({"max_total_tokens": 5, "agent_id": "a"}, "max_total_tokens requires"),
    ({"models": ("m1",), "max_walltime_secs": 0, "samples": 0}, "max_walltime_secs must be >= 1"),
    ({"agent_id": "a", "agent_overrides": AgentSpecPatch()}, "agent_id requires"),
    ({"agent_overrides": AgentSpecPatch(), "samples": 0}, "agent_overrides requires"),
    ({"samples": 0, "judge": JudgeRequestSpec(model_id="judge")}, "samples must be >= 1"),
    ({"samples": 30, "judge": JudgeRequestSpec(model_id="judge")}, 'samples requires mode="live"'),
    (
        {
            "models": ("m1",),
            "samples": 30,
            "judge": JudgeRequestSpec(model_id="j", revise_max_retries=9),
        },
        "samples=30 exceeds cap",
    ),
    (
        {"models": ("m1", "m1"), "mode": RequestedMode.LIVE, "max_walltime_secs": 0},
        "duplicate model",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("fields", "fragment"), _ORDER_PAIRS)
async def test_start_run_earlier_rule_wins(fields: dict[str, Any], fragment: str) -> None:
    world = _world(fixtures=[_fixture("a")])
    await _refused(world.service.start_run(_request(**fields)), InvalidRequest, fragment)


@pytest.mark.anyio
async def test_shape_errors_surface_before_the_dataset_and_baseline_are_read() -> None:
    world = _world()  # no dataset at all, no baseline
    request = _request(dataset_id="missing", baseline_run_id="nope", samples=0)
    await _refused(world.service.start_run(request), InvalidRequest, "samples")


@pytest.mark.anyio
async def test_unknown_dataset_is_404() -> None:
    world = _world()
    await _refused(
        world.service.start_run(_request(dataset_id="nope")),
        NotFound,
        "dataset not found: nope",
    )


class _FixedDatasets:
    """A dataset store holding whatever record it is given, valid or not."""

    def __init__(self, record: DatasetRecord) -> None:
        self.record = record

    async def get(self, dataset_id: str) -> DatasetRecord:
        return self.record

    async def put(self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int) -> int:
        raise NotImplementedError


@pytest.mark.anyio
async def test_historical_duplicate_fixture_ids_are_rejected_before_model_lookup() -> None:
    spec = DatasetSpec(fixtures=(_fixture("a"), _fixture("a")))
    world = _world(datasets=_FixedDatasets(DatasetRecord(spec, 3)))
    request = _request(models=("unknown-model",))
    await _refused(
        world.service.start_run(request),
        InvalidRequest,
        "invalid dataset",
        "duplicate fixture id",
    )


@pytest.mark.anyio
async def test_historical_invalid_min_judge_score_is_400() -> None:
    spec = DatasetSpec(fixtures=(_judged("a", 1.5),))
    world = _world(datasets=_FixedDatasets(DatasetRecord(spec, 3)))
    await _refused(
        world.service.start_run(_request(models=("m1",))),
        InvalidRequest,
        "invalid dataset",
        "[0.0, 1.0]",
    )


class _BrokenDatasets(_FixedDatasets):
    async def get(self, dataset_id: str) -> DatasetRecord:
        raise OSError("disk on fire")


@pytest.mark.anyio
async def test_dataset_store_crash_is_a_store_failure() -> None:
    world = _world(datasets=_BrokenDatasets(DatasetRecord(DatasetSpec(), 0)))
    await _refused(world.service.start_run(_request()), StoreFailure, "disk on fire")


@pytest.mark.anyio
async def test_empty_dataset_is_400() -> None:
    world = _world(datasets=_FixedDatasets(DatasetRecord(DatasetSpec(), 0)))
    await _refused(
        world.service.start_run(_request()),
        InvalidRequest,
        "dataset ds has no fixtures to replay",
    )


# -- baseline preflight -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_baseline_is_validated_before_replay() -> None:
    world = _world(fixtures=[_fixture("a")])
    await _refused(
        world.service.start_run(_request(baseline_run_id="gone")),
        NotFound,
        "baseline eval run not found: gone",
    )
    assert [] == world.sink.events
    assert [] == await world.runs.list(EvalRunFilter())


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("baseline", "fragment"),
    [
        (
            make_run(run_id="b", dataset_id="other", dataset_revision=1),
            "cannot diff across datasets",
        ),
        (make_run(run_id="b", dataset_revision=7), "cannot diff across dataset revisions"),
        (
            make_run(run_id="b", mode=EvalRunExecutionMode.LIVE, dataset_revision=1),
            "cannot diff across execution modes: baseline=live new=scripted",
        ),
        (make_run(run_id="b", dataset_id="_adhoc", dataset_revision=0), "ad-hoc"),
    ],
)
async def test_incomparable_baselines_are_rejected_before_replay(
    baseline: EvalRun, fragment: str
) -> None:
    world = _world(fixtures=[_fixture("a")])
    await world.runs.write(baseline)
    await _refused(world.service.start_run(_request(baseline_run_id="b")), InvalidRequest, fragment)
    assert [] == world.sink.events


class _DirtyRuns(InMemoryRunStore):
    """A run store that hands back stored runs without validating them (historical data)."""

    def __init__(self, dirty: EvalRun) -> None:
        super().__init__()
        self.dirty = dirty

    async def read(self, run_id: str) -> EvalRun:
        if run_id == self.dirty.id:
            validate_unique_item_keys(self.dirty.items)
        return await super().read(run_id)


@pytest.mark.anyio
async def test_baseline_with_duplicate_item_keys_is_rejected_before_replay() -> None:
    item = make_item(fixture_id="a", model="m1")
    dirty = make_run(
        run_id="b", mode=EvalRunExecutionMode.LIVE, items=[item, item], dataset_revision=1
    )
    world = _world(fixtures=[_fixture("a")], runs=_DirtyRuns(dirty))
    await _refused(
        world.service.start_run(_request(models=("m1",), baseline_run_id="b")),
        DuplicateItemKeys,
        "baseline run b:",
        "duplicate eval-run item key",
    )


@pytest.mark.anyio
async def test_baseline_sample_count_mismatch_is_rejected_before_replay() -> None:
    items = [make_item(fixture_id="a", model="m1", sample_index=sample) for sample in range(3)]
    world = _world(fixtures=[_fixture("a")])
    await world.runs.write(
        make_run(run_id="b", mode=EvalRunExecutionMode.LIVE, items=items, dataset_revision=1)
    )
    request = _request(models=("m1",), samples=2, baseline_run_id="b")
    await _refused(world.service.start_run(request), InvalidRequest, "different sample counts")
    assert [] == world.executors["m1"].requests


# -- judge, units, resolution ----------------------------------------------------------------


@pytest.mark.anyio
async def test_min_judge_score_needs_live_mode_then_a_judge_then_a_rubric() -> None:
    world = _world(fixtures=[_judged("a")])
    await _refused(world.service.start_run(_request()), InvalidRequest, 'mode="live"', "fixture a")
    await _refused(
        world.service.start_run(_request(models=("m1",))), InvalidRequest, "provide `judge`"
    )
    for rubric in (None, "   "):
        judge = JudgeRequestSpec(model_id="judge", rubric=rubric)
        await _refused(
            world.service.start_run(_request(models=("m1",), judge=judge)),
            InvalidRequest,
            "judge.rubric",
        )


@pytest.mark.anyio
async def test_units_cap_counts_fixtures_cells_and_samples() -> None:
    fixtures = [_fixture(f"f{n}") for n in range(25)]
    world = _world(fixtures=fixtures)
    request = _request(models=("m1", "m2"), samples=3)
    await _refused(world.service.start_run(request), InvalidRequest, "expands to 150 units", "100")


@pytest.mark.anyio
async def test_unknown_judge_model_is_404_when_a_fixture_needs_it() -> None:
    world = _world(fixtures=[_judged("a")])
    judge = JudgeRequestSpec(model_id="no-such-judge", rubric="grade it")
    await _refused(
        world.service.start_run(_request(models=("m1",), judge=judge)),
        NotFound,
        "model not found: models/no-such-judge",
    )
    assert [] == world.sink.events


@pytest.mark.anyio
async def test_unused_judge_is_not_resolved_and_warned_about() -> None:
    world = _world(fixtures=[_fixture("a")])
    judge = JudgeRequestSpec(model_id="no-such-judge", rubric="grade it")
    response = await world.service.start_run(_request(models=("m1",), judge=judge))
    assert 1 == len(response.warnings)
    assert "no-such-judge" in response.warnings[0]
    assert "min_judge_score" in response.warnings[0]
    assert [] == world.executors["judge"].requests


@pytest.mark.anyio
async def test_unknown_agent_is_404() -> None:
    world = _world(fixtures=[_fixture("a")])
    await _refused(
        world.service.start_run(_request(models=("m1",), agent_id="ghost")),
        NotFound,
        "agent not found: agents/ghost",
    )


@pytest.mark.anyio
async def test_unknown_model_is_404_before_any_event_or_call() -> None:
    world = _world(fixtures=[_fixture("a")])
    await _refused(
        world.service.start_run(_request(models=("m1", "ghost"))),
        NotFound,
        "model not found: models/ghost",
    )
    assert [] == world.sink.events  # improvement: no started event without a terminal one
    assert [] == world.executors["m1"].requests


@pytest.mark.anyio
async def test_service_without_resolvers_reports_unknown_models_and_agents() -> None:
    datasets = InMemoryDatasetStore()
    await datasets.put("ds", DatasetSpec(fixtures=(_fixture("a"),)), expected_revision=None)
    service = EvalService(datasets=datasets, runs=InMemoryRunStore())
    await _refused(service.start_run(_request(models=("m",))), NotFound, "models/m")
    await _refused(service.start_run(_request(models=("m",), agent_id="x")), NotFound, "agents/x")


# -- start_run: execution ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_scripted_run_is_persisted_with_one_started_and_one_completed_event() -> None:
    world = _world(fixtures=[_fixture("a"), _fixture("b")])
    response = await world.service.start_run(_request())
    run = response.run
    assert EvalRunExecutionMode.SCRIPTED == run.execution_mode
    assert ["a", "b"] == [item.fixture_id for item in run.items]
    assert all(item.cell is None and item.sample_index is None for item in run.items)
    assert run == await world.runs.read(run.id)
    assert response.diff is None
    started = [e for e in world.sink.events if isinstance(e, RunStarted)]
    completed = [e for e in world.sink.events if isinstance(e, RunCompleted)]
    assert 1 == len(started)
    assert RunEventMode.DATASET_SCRIPTED == started[0].mode
    assert 2 == started[0].planned_item_count
    assert 1 == started[0].dataset_revision
    assert 1 == len(completed)
    assert completed[0].persisted
    assert 2 == completed[0].passed_count
    assert "run" in to_builtins(response)
    assert "diff" not in to_builtins(response)


@pytest.mark.anyio
async def test_service_items_link_to_the_traces_their_sink_confirms() -> None:
    # behaviour.md §3.4 / trace-store §4.4: the service's sink wrapper passes the check on.
    world = _world(fixtures=[_fixture("a"), _fixture("b")])
    run = (await world.service.start_run(_request())).run
    spans = {e.span.run_id for e in world.sink.events if isinstance(e, SpanRecorded)}
    assert spans == {item.trace_run_id for item in run.items}
    world.sink.fail = True
    failed = (await world.service.start_run(_request())).run
    assert [None, None] == [item.trace_run_id for item in failed.items]


@pytest.mark.anyio
async def test_explicit_scripted_mode_runs_without_cells() -> None:
    world = _world(fixtures=[_fixture("a")])
    response = await world.service.start_run(_request(mode=RequestedMode.SCRIPTED))
    assert None is response.run.items[0].cell


@pytest.mark.anyio
async def test_live_only_fixture_fails_closed_in_a_scripted_run() -> None:
    live_only = Fixture(id="lo", user_input="hi", provider_script_error="parallel tool calls")
    world = _world(fixtures=[live_only])
    response = await world.service.start_run(_request())
    report = response.run.items[0].report
    assert not report.passed
    assert "no replayable provider_script" in to_builtins(report)["runtime_failure"]["message"]


@pytest.mark.anyio
async def test_live_matrix_run_with_samples_agent_and_judge() -> None:
    agent = AgentSpec(id="support", system_prompt="Be brief.")
    world = _world(fixtures=[_judged("a", 0.5), _fixture("b")], agents=[agent])
    judge = JudgeRequestSpec(model_id="judge", rubric="correct arithmetic")
    request = _request(
        models=("m1", "m2"),
        samples=2,
        agent_id="support",
        agent_overrides=AgentSpecPatch(system_prompt="Be very brief."),
        judge=judge,
    )
    response = await world.service.start_run(request)
    run = response.run
    assert EvalRunExecutionMode.LIVE == run.execution_mode
    keys = [(i.fixture_id, i.cell.model_id if i.cell else None, i.sample_index) for i in run.items]
    assert [(f, m, s) for f in ("a", "b") for m in ("m1", "m2") for s in (0, 1)] == keys
    judged = [item.report for item in run.items if item.fixture_id == "a"]
    assert all(report.judge_score == pytest.approx(0.9) for report in judged)
    assert all(item.report.passed for item in run.items)
    request_seen = world.executors["m1"].requests[0]
    assert "Be very brief." in str(request_seen)
    assert "up-m1" == request_seen.model
    started = next(e for e in world.sink.events if isinstance(e, RunStarted))
    assert RunEventMode.DATASET_LIVE_MATRIX == started.mode
    assert 8 == started.planned_item_count


@pytest.mark.anyio
async def test_start_run_with_baseline_returns_the_diff() -> None:
    world = _world(fixtures=[_fixture("a"), _fixture("b")])
    first = await world.service.start_run(_request())
    second = await world.service.start_run(_request(baseline_run_id=first.run.id))
    assert second.diff is not None
    assert ["unchanged", "unchanged"] == [type(e).kind for e in second.diff.entries]
    assert second.baseline_check is not None
    assert not second.baseline_check.fixtures_changed


@pytest.mark.anyio
async def test_changed_fixture_is_named_by_the_baseline_check() -> None:
    world = _world(fixtures=[_fixture("a")])
    first = await world.service.start_run(_request())
    await world.datasets.put("ds", DatasetSpec(fixtures=(_fixture("a", "5"),)), expected_revision=1)
    world.datasets._records["ds"] = attrs.evolve(world.datasets._records["ds"], revision=1)
    second = await world.service.start_run(_request(baseline_run_id=first.run.id))
    assert second.baseline_check is not None
    assert ("a",) == second.baseline_check.changed_fixtures


class _FailingWrites(InMemoryRunStore):
    async def write(self, run: EvalRun) -> None:
        raise OSError("read-only file system")

    async def finish(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("read-only file system")


@pytest.mark.anyio
async def test_persist_failure_is_a_store_failure_with_a_terminal_failed_event() -> None:
    world = _world(fixtures=[_fixture("a")], runs=_FailingWrites())
    await _refused(world.service.start_run(_request()), StoreFailure, "read-only")
    kinds = [
        type(e) for e in world.sink.events if isinstance(e, RunStarted | RunCompleted | RunFailed)
    ]
    assert [RunStarted, RunFailed] == kinds


@pytest.mark.anyio
async def test_taken_run_id_is_a_conflict() -> None:
    world = _world(fixtures=[_fixture("a")])
    world.service.id_factory = functools.partial(str, "fixed")
    await world.service.start_run(_request())
    await _refused(world.service.start_run(_request()), Conflict, "fixed")


# -- online_eval ----------------------------------------------------------------------------


def _online(**fields: Any) -> OnlineEvalRequest:
    fields.setdefault("user_input", "What is 2+2?")
    fields.setdefault("models", ("m1",))
    return OnlineEvalRequest(**fields)


_ONLINE_RULES: list[tuple[dict[str, Any], type[ServiceError], str]] = [
    ({"models": ()}, InvalidRequest, "`models`"),
    ({"models": ("m1", "m1")}, InvalidRequest, "duplicate model"),
    ({"max_walltime_secs": 0}, InvalidRequest, "max_walltime_secs"),
    ({"samples": 0}, InvalidRequest, "samples"),
    ({"samples": 21}, InvalidRequest, "samples=21 exceeds cap 20"),
    (
        {"models": tuple(f"m{n}" for n in range(11))},
        InvalidRequest,
        "11 units (cells x samples) exceed sync online cap 10",
    ),
    ({"models": ("m1", "m2"), "samples": 6}, InvalidRequest, "12 units"),
    ({"expectations": Expectation(min_judge_score=0.5)}, InvalidRequest, "provide `judge`"),
    ({"expectations": Expectation(min_judge_score=2.0)}, InvalidRequest, "[0.0, 1.0]"),
    (
        {"judge": JudgeRequestSpec(model_id="judge", revise_max_retries=4)},
        InvalidRequest,
        "revise_max_retries=4 exceeds cap 3",
    ),
    ({"agent_id": "ghost"}, NotFound, "agent not found: agents/ghost"),
    ({"models": ("m1", "ghost")}, NotFound, "model not found: models/ghost"),
    (
        {
            "expectations": Expectation(min_judge_score=0.5),
            "judge": JudgeRequestSpec(model_id="ghost-judge", rubric="r"),
        },
        NotFound,
        "models/ghost-judge",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("fields", "error", "fragment"), _ONLINE_RULES)
async def test_online_rules(
    fields: dict[str, Any], error: type[ServiceError], fragment: str
) -> None:
    world = _world(model_ids=[f"m{n}" for n in range(1, 12)])
    await _refused(world.service.online_eval(_online(**fields)), error, fragment)
    assert [] == world.sink.events


@pytest.mark.anyio
async def test_online_duplicate_models_beat_zero_walltime() -> None:
    world = _world()
    request = _online(models=("m1", "m1"), max_walltime_secs=0)
    await _refused(world.service.online_eval(request), InvalidRequest, "duplicate model")


@pytest.mark.anyio
async def test_online_run_is_adhoc_and_persisted() -> None:
    world = _world()
    request = _online(
        models=("m1", "m2"), samples=2, expectations=Expectation(final_answer_contains=("4",))
    )
    response = await world.service.online_eval(request)
    run = response.run
    assert response.persisted
    assert response.persist_error is None
    assert ("_adhoc", 0, EvalRunExecutionMode.LIVE) == (
        run.dataset_id,
        run.dataset_revision,
        run.execution_mode,
    )
    assert {"_adhoc"} == {item.fixture_id for item in run.items}
    assert 4 == len(run.items)
    assert run == await world.runs.read(run.id)
    started = next(e for e in world.sink.events if isinstance(e, RunStarted))
    completed = [e for e in world.sink.events if isinstance(e, RunCompleted)]
    assert RunEventMode.ONLINE_LIVE_MATRIX == started.mode
    assert 1 == len(completed)
    assert completed[0].persisted


@pytest.mark.anyio
async def test_online_run_without_persist_is_not_stored() -> None:
    world = _world()
    response = await world.service.online_eval(_online(persist=False))
    assert not response.persisted
    assert [] == await world.runs.list(EvalRunFilter())
    completed = [e for e in world.sink.events if isinstance(e, RunCompleted)]
    assert [False] == [e.persisted for e in completed]


@pytest.mark.anyio
async def test_online_persist_failure_still_returns_the_run() -> None:
    world = _world(runs=_FailingWrites())
    response = await world.service.online_eval(_online())
    assert not response.persisted
    assert response.persist_error is not None
    assert "read-only file system" in response.persist_error
    assert 1 == len(response.run.items)
    completed = [e for e in world.sink.events if isinstance(e, RunCompleted | RunFailed)]
    assert 1 == len(completed)
    assert isinstance(completed[0], RunCompleted)
    assert not completed[0].persisted


@pytest.mark.anyio
async def test_online_token_budget_applies_per_cell() -> None:
    world = _world()
    response = await world.service.online_eval(_online(max_total_tokens=1))
    report = response.run.items[0].report
    assert not report.passed
    assert "token budget" in str(to_builtins(report))


# -- get_run and list_runs ------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_run_not_found_invalid_id_and_unknown_aggregate() -> None:
    world = _world()
    await _refused(world.service.get_run("nope"), NotFound, "eval run not found: nope")
    await _refused(world.service.get_run("a/b"), InvalidRequest, "a/b")
    await _refused(world.service.get_run("x", aggregate="latency"), InvalidRequest, "samples")


@pytest.mark.anyio
async def test_get_run_default_omits_diff_and_aggregates() -> None:
    world = _world(fixtures=[_fixture("a")])
    run = (await world.service.start_run(_request())).run
    response = await world.service.get_run(run.id)
    assert run == response.run
    assert {"run"} == set(to_builtins(response))


@pytest.mark.anyio
async def test_get_run_with_aggregate_samples_returns_pass_at_k() -> None:
    world = _world(fixtures=[_fixture("a")])
    world.executors["m1"] = CannedTextExecutor(["4", "nope", "4"])
    world.service.models = StaticModelResolver(
        [ResolvedModel(model_id="m1", executor=world.executors["m1"], upstream_model="up")]
    )
    run = (await world.service.start_run(_request(models=("m1",), samples=3))).run
    world.service.limits = EvalLimits(max_concurrent_matrix_cells=1)
    response = await world.service.get_run(run.id, aggregate="samples")
    assert response.aggregates is not None
    (aggregate,) = response.aggregates
    assert (3, 2) == (aggregate.samples, aggregate.passed)
    assert aggregate.pass_at_k
    assert not aggregate.pass_pow_k


@pytest.mark.anyio
async def test_get_run_with_baseline_diffs_item_keyed_samples() -> None:
    world = _world(fixtures=[_fixture("a")])
    base = (await world.service.start_run(_request(models=("m1",), samples=2))).run
    current = (await world.service.start_run(_request(models=("m1",), samples=2))).run
    response = await world.service.get_run(current.id, baseline=base.id)
    assert response.diff is not None
    assert [0, 1] == [entry.sample_index for entry in response.diff.entries]


@pytest.mark.anyio
async def test_get_run_baseline_rules() -> None:
    world = _world(fixtures=[_fixture("a")])
    current = (await world.service.start_run(_request())).run
    await world.runs.write(make_run(run_id="other-ds", dataset_id="x", dataset_revision=1))
    await world.runs.write(make_run(run_id="other-rev", dataset_revision=9))
    online = (await world.service.online_eval(_online())).run
    await _refused(
        world.service.get_run(current.id, baseline="gone"),
        NotFound,
        "baseline eval run not found",
    )
    await _refused(
        world.service.get_run(current.id, baseline="other-ds"),
        InvalidRequest,
        "cannot diff across datasets",
    )
    await _refused(
        world.service.get_run(current.id, baseline="other-rev"), InvalidRequest, "revisions"
    )
    await _refused(world.service.get_run(online.id, baseline=current.id), InvalidRequest, "ad-hoc")


@pytest.mark.anyio
async def test_get_run_sample_count_mismatch() -> None:
    world = _world(fixtures=[_fixture("a")])
    base = (await world.service.start_run(_request(models=("m1",), samples=3))).run
    current = (await world.service.start_run(_request(models=("m1",), samples=2))).run
    await _refused(
        world.service.get_run(current.id, baseline=base.id),
        InvalidRequest,
        "different sample counts",
    )


@pytest.mark.anyio
async def test_dirty_current_run_is_500_without_diff_and_400_with_one() -> None:
    item = make_item(fixture_id="a", model="m1")
    dirty = make_run(
        run_id="dirty", mode=EvalRunExecutionMode.LIVE, items=[item, item], dataset_revision=1
    )
    runs = _DirtyRuns(dirty)
    runs._runs["dirty"] = dirty
    await runs.write(
        make_run(run_id="base", mode=EvalRunExecutionMode.LIVE, items=[item], dataset_revision=1)
    )
    world = _world(runs=runs)
    error = await _refused(
        world.service.get_run("dirty"), StoreFailure, "duplicate eval-run item key"
    )
    assert 500 == error.status
    error = await _refused(
        world.service.get_run("dirty", baseline="base"),
        DuplicateItemKeys,
        "current run dirty:",
    )
    assert 400 == error.status


@pytest.mark.anyio
async def test_list_runs_newest_first_with_filter() -> None:
    world = _world(fixtures=[_fixture("a")])
    first = (await world.service.start_run(_request())).run
    second = (await world.service.start_run(_request())).run
    await world.service.online_eval(_online())
    summaries = await world.service.list_runs(EvalRunFilter(dataset_id="ds"))
    assert [second.id, first.id] == [summary.id for summary in summaries]
    assert 3 == len(await world.service.list_runs())


# -- evaluate --------------------------------------------------------------------------------


def _evaluation() -> Evaluation:
    expected = ExpectedOutcome(
        criteria=(
            EvaluationCriterion("correct", "the sum is right", weight="3"),
            EvaluationCriterion("polite", "the tone is polite", weight="1"),
        ),
        redacted_summary="a correct, polite answer",
    )
    return Evaluation(scope=RunScope(RunId("run-42")), expected=expected)


@pytest.mark.anyio
async def test_evaluate_grades_per_criterion_and_emits_the_result() -> None:
    reply = '{"score": 0.1, "reasoning": "ok", "criteria": [{"criterion_id": "correct", "score": 1.0}, {"criterion_id": "polite", "score": 0.0}]}'
    world = _world(judge_text=reply)
    result = await world.service.evaluate(
        _evaluation(),
        "2+2 is 4.",
        judge=JudgeRequestSpec(model_id="judge", rubric="be strict"),
        min_score=0.7,
    )
    assert pytest.approx(0.75) == result.score
    assert result.passed
    assert ["correct", "polite"] == [verdict.criterion_id for verdict in result.verdicts]
    assert [result] == [e for e in world.sink.events if isinstance(e, EvaluationResult)]
    prompt = str(world.executors["judge"].requests[0])
    assert "be strict" in prompt
    assert "2+2 is 4." in prompt


@pytest.mark.anyio
async def test_evaluate_with_a_judge_object_and_failing_threshold() -> None:
    world = _world()
    result = await world.service.evaluate(
        attrs.evolve(_evaluation(), expected=ExpectedOutcome(redacted_summary="x")),
        "answer",
        judge=ScriptedJudge([0.4]),
        min_score=0.5,
    )
    assert 0.4 == result.score
    assert result.passed is False


@pytest.mark.anyio
async def test_evaluate_refuses_bad_threshold_and_unknown_judge() -> None:
    world = _world()
    await _refused(
        world.service.evaluate(_evaluation(), "a", judge=ScriptedJudge([]), min_score=1.5),
        InvalidRequest,
        "min_score",
    )
    await _refused(
        world.service.evaluate(_evaluation(), "a", judge=JudgeRequestSpec(model_id="ghost")),
        NotFound,
        "models/ghost",
    )


# -- dataset stores ---------------------------------------------------------------------------


def _dataset_stores(tmp_path: Path) -> list[Any]:
    return [InMemoryDatasetStore(), FileDatasetStore(tmp_path / "datasets")]


@pytest.mark.anyio
async def test_file_dataset_store_uses_the_record_envelope_and_survives_reopen(
    tmp_path: Path,
) -> None:
    store = FileDatasetStore(tmp_path)
    spec = DatasetSpec(fixtures=(_fixture("a"),))
    await store.put("ds", spec, expected_revision=None)
    document = json.loads((tmp_path / "ds.json").read_text())
    assert {"spec", "meta"} == set(document)
    assert {"revision": 0} == document["meta"]
    assert DatasetRecord(spec, 0) == await FileDatasetStore(tmp_path).get("ds")
    assert [] == [p.name async for p in anyio.Path(tmp_path).iterdir() if p.name.endswith(".tmp")]


@pytest.mark.anyio
async def test_file_dataset_store_rejects_user_overrides_and_names_the_file(tmp_path: Path) -> None:
    await anyio.Path(tmp_path / "ds.json").write_text(
        '{"spec": {}, "meta": {"revision": 2}, "user_overrides": {}}'
    )
    with pytest.raises(InvalidInput) as info:
        await FileDatasetStore(tmp_path).get("ds")
    assert "ds.json" in str(info.value)
    assert "$.user_overrides: unknown key" in str(info.value)
    service = EvalService(datasets=FileDatasetStore(tmp_path), runs=InMemoryRunStore())
    await _refused(service.start_run(_request()), InvalidRequest, "invalid dataset")


def test_file_dataset_store_concurrent_writers_one_wins(tmp_path: Path) -> None:
    def attempt(n: int) -> str:
        async def go() -> str:
            store = FileDatasetStore(tmp_path)
            try:
                await store.put("ds", DatasetSpec(description=str(n)), expected_revision=None)
            except Conflict:
                return "conflict"
            return "won"

        return anyio.run(go)

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(attempt, range(6)))
    assert ["conflict"] * 5 + ["won"] == outcomes
