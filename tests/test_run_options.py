"""``RunOptions``: its rules, its wire round-trip, and how ``run_eval`` takes models.

Every rule of the record is one row of a table (the rule, the options breaking it, the
exception and its message). The round-trip through ``to_builtins``/``from_builtins`` is
a property over every valid record. ``run_eval`` takes the models of
``options.models`` either resolved (checked against the ids) or as a resolver, and
``run_eval_sync`` takes exactly the keywords of ``run_eval``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import (
    AgentLoopReplayer,
    AgentSpec,
    ChatResponseEvent,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InvalidRequest,
    NotFound,
    ResolvedModel,
    RunOptions,
    from_builtins,
    run_eval,
    run_eval_sync,
    to_builtins,
)
from awaken_eval.errors import InvalidRunId
from awaken_eval.events import RunEventMode
from awaken_eval.service import StaticModelResolver
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import CannedTextExecutor, CapturingSink, ScriptedJudge
from awaken_eval.wire import fixture_digests
from strategies import fixture_ids, model_ids, texts, u64s

LIVE = EvalRunExecutionMode.LIVE

pytestmark = pytest.mark.anyio

# -- the rules ----------------------------------------------------------------------------

RULES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("samples >= 1", {"samples": 0}, InvalidRequest, "samples must be >= 1, got 0"),
    (
        "max_concurrency >= 1",
        {"max_concurrency": 0},
        InvalidRequest,
        "max_concurrency must be >= 1, got 0",
    ),
    (
        "max_walltime_secs > 0",
        {"max_walltime_secs": 0},
        InvalidRequest,
        "max_walltime_secs must be > 0, got 0",
    ),
    (
        "max_walltime_secs not negative",
        {"max_walltime_secs": -1.5},
        InvalidRequest,
        "max_walltime_secs must be > 0, got -1.5",
    ),
    (
        "max_walltime_secs not NaN",
        {"max_walltime_secs": math.nan},
        InvalidRequest,
        "max_walltime_secs must be > 0, got nan",
    ),
    *(
        (
            f"{name} finite and > 0 ({value})",
            {name: value},
            InvalidRequest,
            f"{name} must be a finite number > 0, got {value}",
        )
        for name in ("scripted_walltime_secs", "sink_timeout_secs")
        for value in (0, -1.0, math.inf, math.nan)
    ),
    (
        "max_total_tokens >= 0",
        {"max_total_tokens": -1},
        InvalidRequest,
        "max_total_tokens must be >= 0, got -1",
    ),
    (
        "run_token_budget >= 0",
        {"run_token_budget": -2},
        InvalidRequest,
        "run_token_budget must be >= 0, got -2",
    ),
    (
        "revise_max_retries >= 0",
        {"revise_max_retries": -3},
        InvalidRequest,
        "revise_max_retries must be >= 0, got -3",
    ),
    (
        "live needs models",
        {"mode": LIVE},
        InvalidRequest,
        'mode="live" requires a non-empty list of models',
    ),
    (
        "live models are unique",
        {"mode": LIVE, "models": ["m1", "m2", "m1"]},
        InvalidRequest,
        "duplicate model id in models axis: m1",
    ),
    (
        "scripted takes no models",
        {"models": ["m1"]},
        InvalidRequest,
        '`models` is only valid with mode="live"',
    ),
    (
        "scripted takes one sample",
        {"samples": 2},
        InvalidRequest,
        'samples requires mode="live": scripted replays are deterministic',
    ),
    (
        "resume names a valid run id",
        {"resume": "a/b"},
        InvalidRunId,
        "invalid run id 'a/b': must not contain '/'",
    ),
    (
        "resume agrees with run_id",
        {"resume": "01J0RUNIDXYZ", "run_id": "01J0OTHERXYZ"},
        InvalidRequest,
        "resume='01J0RUNIDXYZ' conflicts with run_id='01J0OTHERXYZ'",
    ),
    (
        "run_id is a valid run id",
        {"run_id": ".."},
        InvalidRunId,
        "invalid run id '..': must not be '.' or '..'",
    ),
]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [pytest.param(fields, error, message, id=rule) for rule, fields, error, message in RULES],
)
def test_each_rule_is_checked_when_the_options_are_built(
    fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        RunOptions(**fields)
    assert message == str(raised.value)


def test_the_defaults_describe_a_scripted_run() -> None:
    options = RunOptions()
    assert (EvalRunExecutionMode.SCRIPTED, (), 1, False) == (
        options.mode,
        options.models,
        options.samples,
        options.is_live,
    )
    assert RunEventMode.DATASET_SCRIPTED == options.reported_event_mode
    assert {} == to_builtins(options)


# -- the wire round-trip ------------------------------------------------------------------


def run_ids() -> st.SearchStrategy[str]:
    return st.text(
        st.characters(blacklist_characters="/\\\0", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=12,
    ).filter(lambda text: text not in {".", ".."})


@st.composite
def run_options(draw: st.DrawFn) -> RunOptions:
    """Every valid ``RunOptions``: scripted or live, ids consistent, limits in range."""
    live = draw(st.booleans())
    models = draw(st.lists(model_ids(), min_size=1, max_size=3, unique=True)) if live else []
    run_id = draw(st.none() | run_ids())
    resume = draw(st.none() | (st.just(run_id) if run_id is not None else run_ids()))
    limits = st.none() | st.integers(min_value=0, max_value=2**40)
    return RunOptions(
        mode=LIVE if live else EvalRunExecutionMode.SCRIPTED,
        models=models,
        samples=draw(st.integers(min_value=1, max_value=50)) if live else 1,
        rubric=draw(st.none() | texts()),
        revise_max_retries=draw(st.none() | st.integers(min_value=0, max_value=10)),
        max_concurrency=draw(st.integers(min_value=1, max_value=1000)),
        max_walltime_secs=draw(
            st.none()
            | st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
        ),
        scripted_walltime_secs=draw(st.floats(min_value=1e-3, max_value=1e6)),
        sink_timeout_secs=draw(st.floats(min_value=1e-3, max_value=1e6)),
        max_total_tokens=draw(limits),
        run_token_budget=draw(limits),
        run_id=run_id,
        resume=resume,
        dataset_id=draw(fixture_ids()),
        dataset_revision=draw(u64s()),
        event_mode=draw(st.none() | st.sampled_from(RunEventMode)),
    )


@given(run_options())
@settings(max_examples=60, deadline=None)
def test_options_round_trip_through_builtins(options: RunOptions) -> None:
    assert options == from_builtins(RunOptions, to_builtins(options))


def test_builtins_breaking_a_rule_are_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match="samples must be >= 1, got 0"):
        from_builtins(RunOptions, {"samples": 0})
    with pytest.raises(ValueError, match=r"\$\.sample: unknown key"):
        from_builtins(RunOptions, {"sample": 2})


# -- models: resolved, or a resolver ------------------------------------------------------


def question(fixture_id: str) -> Fixture:
    return Fixture(fixture_id, f"question {fixture_id}", expect=Expectation())


def resolved(model_id: str) -> ResolvedModel:
    return ResolvedModel(
        model_id=model_id,
        executor=CannedTextExecutor([f"answer of {model_id}"]),
        upstream_model=f"upstream-{model_id}",
    )


MATRIX = RunOptions(mode=LIVE, models=["m2", "m1"], samples=2, run_id="01J0MATRIXXY")


async def test_a_resolver_and_the_resolved_models_give_the_same_run() -> None:
    fixtures = [question("a"), question("b")]
    # Both clocks frozen: durations read from a real clock differ between two runs.
    frozen = AgentLoopReplayer(clock=lambda: 1.0)
    given_models = await run_eval(
        fixtures,
        MATRIX,
        models=[resolved("m2"), resolved("m1")],
        replayer=frozen,
        clock=lambda: 7.0,
    )
    resolver = StaticModelResolver([resolved("m1"), resolved("m2"), resolved("unused")])
    from_resolver = await run_eval(
        fixtures, MATRIX, models=resolver, replayer=frozen, clock=lambda: 7.0
    )
    assert given_models == from_resolver
    assert [("a", "m2"), ("a", "m2"), ("a", "m1"), ("a", "m1")] == [
        (item.fixture_id, item.cell.model_id if item.cell else None)
        for item in from_resolver.items[:4]
    ]
    assert ["answer of m2", "answer of m2", "answer of m1", "answer of m1"] == [
        item.report.final_text for item in from_resolver.items[:4]
    ]


async def test_a_resolver_that_does_not_know_a_model_fails_before_any_work() -> None:
    sink = CapturingSink()
    store = InMemoryRunStore()
    with pytest.raises(NotFound, match="model not found: models/m1"):
        await run_eval(
            [question("a")],
            MATRIX,
            models=StaticModelResolver([resolved("m2")]),
            sink=sink,
            store=store,
        )
    assert [] == sink.events
    assert frozenset() == await store.present_keys("01J0MATRIXXY")


@pytest.mark.parametrize(
    ("given_ids", "shown"),
    [
        (["m1", "m2"], "['m1', 'm2']"),
        (["m2"], "['m2']"),
        ([], "[]"),
        (["m2", "m1", "m3"], "['m2', 'm1', 'm3']"),
    ],
)
async def test_resolved_models_must_be_those_of_the_options_in_order(
    given_ids: list[str], shown: str
) -> None:
    sink = CapturingSink()
    with pytest.raises(InvalidRequest) as raised:
        await run_eval([question("a")], MATRIX, models=[resolved(i) for i in given_ids], sink=sink)
    expected = (
        f"models {shown} do not match options.models ['m2', 'm1']: give the resolved model "
        "of each id of options.models, in order, or a ModelResolver"
    )
    assert expected == raised.value.message
    assert [] == sink.events


# -- run_eval_sync takes the keywords of run_eval --------------------------------------------


def test_run_eval_sync_has_the_signature_of_run_eval_plus_a_backend() -> None:
    ours = inspect.signature(run_eval_sync).parameters
    theirs = inspect.signature(run_eval).parameters
    assert list(theirs.values()) == [ours[name] for name in theirs]
    assert ["backend"] == [name for name in ours if name not in theirs]


def test_run_eval_sync_takes_every_keyword_of_run_eval() -> None:
    fixtures = [question("a")]
    sink = CapturingSink()
    store = InMemoryRunStore()
    seen: list[tuple[int, int]] = []
    run = run_eval_sync(
        fixtures,
        RunOptions(mode=LIVE, models=["m1"], rubric="be fair", run_id="01J0SYNCRUNX"),
        models=[resolved("m1")],
        replayer=None,
        agent=AgentSpec(system_prompt="Answer briefly."),
        judge=ScriptedJudge(),
        store=store,
        sink=sink,
        progress=lambda done, total: seen.append((done, total)),
        digests=fixture_digests(fixtures),
        clock=lambda: 1_700_000_000.0,
        backend="trio",
    )
    assert ("01J0SYNCRUNX", 1_700_000_000, [(1, 1)]) == (run.id, run.started_at_secs, seen)
    assert ["answer of m1"] == [item.report.final_text for item in run.items]
    assert "eval_run_completed" == sink.kinds[-1]


def test_run_eval_sync_defaults_to_a_scripted_run() -> None:
    scripted = Fixture(
        "a",
        "say hi",
        provider_script=(ChatResponseEvent("hi"),),
        expect=Expectation(final_answer_contains=("hi",)),
    )
    run = run_eval_sync([scripted])
    assert [True] == [item.report.passed for item in run.items]
    assert (EvalRunExecutionMode.SCRIPTED, "_adhoc") == (run.execution_mode, run.dataset_id)
    assert fixture_digests([scripted]) == run.fixture_digests
