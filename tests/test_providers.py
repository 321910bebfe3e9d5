"""The provider executors: the real SDKs over real HTTP against ``fake_provider``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from awaken_eval import (
    AgentLoopReplayer,
    ChatMessage,
    EvalRunExecutionMode,
    Expectation,
    InferenceError,
    InferenceErrorKind,
    InferenceRequest,
    InferenceResult,
    InvalidRequest,
    ModelPricing,
    RunOptions,
    SamplingParams,
    StopReason,
    Tool,
    ToolCall,
    ToolDescriptor,
    run_eval,
)
from awaken_eval.events import SpanRecorded, ToolSpan
from awaken_eval.providers import (
    DEFAULT_MAX_CONNECTIONS,
    LimiterPool,
    ProviderModelResolver,
    ProviderOptions,
    check_model,
    executor_for,
    resolve_model,
)
from awaken_eval.records import MessageRole
from awaken_eval.testing import CapturingSink
from builders import fixture
from fake_provider import ANSWER, FakeProvider, serve

PROVIDERS = ["openai", "anthropic"]


@pytest.fixture
def anyio_backend() -> str:
    """The SDKs run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with serve() as provider:
        yield provider


def options_for(fake: FakeProvider, provider: str, **more: Any) -> ProviderOptions:
    url = fake.openai_url if provider == "openai" else fake.anthropic_url
    return ProviderOptions(base_url=url, api_key=more.pop("api_key", "test-key"), **more)


async def execute(
    fake: FakeProvider, model_id: str, request: InferenceRequest | None = None, **more: Any
) -> InferenceResult:
    provider, model = model_id.split(":", 1)
    executor = executor_for(model_id, options=options_for(fake, provider, **more))
    try:
        return await executor.execute(ask(model=model) if request is None else request)
    finally:
        await executor.aclose()  # type: ignore[attr-defined]


def ask(text: str = "hi", *, model: str = "", **more: Any) -> InferenceRequest:
    return InferenceRequest(model=model, messages=(ChatMessage(MessageRole.USER, text),), **more)


# -- replies ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_plain_answer_maps_text_usage_stop_reason_model_and_ids(
    fake: FakeProvider, provider: str
) -> None:
    result = await execute(fake, f"{provider}:plain")

    assert ANSWER == result.text
    assert () == result.tool_calls
    assert (20, 5, 25) == (
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
        result.usage.total_tokens,
    )
    assert StopReason.END_TURN == result.stop_reason
    assert result.model.startswith("plain-")
    assert result.request_id is not None
    assert result.request_id.startswith("req_")
    assert result.response_id is not None
    assert 1 == result.attempts


@pytest.mark.anyio
async def test_cached_and_reasoning_tokens_are_kept_openai(fake: FakeProvider) -> None:
    usage = (await execute(fake, "openai:cached")).usage

    assert (20, 12, 3) == (usage.prompt_tokens, usage.cache_read_tokens, usage.thinking_tokens)


@pytest.mark.anyio
async def test_cached_tokens_are_kept_and_counted_as_input_anthropic(fake: FakeProvider) -> None:
    usage = (await execute(fake, "anthropic:cached")).usage

    # 20 fresh + 12 read + 4 written: every input token, as OpenAI counts them
    assert (36, 12, 4, 41) == (
        usage.prompt_tokens,
        usage.cache_read_tokens,
        usage.cache_creation_tokens,
        usage.total_tokens,
    )


# -- the request --------------------------------------------------------------------------

HISTORY = (
    ChatMessage(MessageRole.USER, "add 1 and 2"),
    ChatMessage(MessageRole.ASSISTANT, "", tool_calls=(ToolCall("c1", "add", {"a": 1, "b": 2}),)),
    ChatMessage(MessageRole.TOOL, "3", tool_call_id="c1"),
)
TOOLS = (
    ToolDescriptor("add", "adds", {"type": "object", "properties": {"a": {"type": "integer"}}}),
)


@pytest.mark.anyio
async def test_the_openai_request_carries_system_history_tools_and_sampling(
    fake: FakeProvider,
) -> None:
    request = InferenceRequest(
        model="plain",
        messages=HISTORY,
        system="be brief",
        tools=TOOLS,
        sampling=SamplingParams(temperature=0.5, top_p=0.9, max_tokens=64),
        run_id="map-openai",
    )
    await execute(fake, "openai:plain", request)
    body = fake.bodies("plain")[-1]

    assert [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "add 1 and 2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "3"},
    ] == body["messages"]
    assert [
        {
            "type": "function",
            "function": {"name": "add", "description": "adds", "parameters": TOOLS[0].parameters},
        }
    ] == body["tools"]
    assert (0.5, 0.9, 64) == (body["temperature"], body["top_p"], body["max_tokens"])


@pytest.mark.anyio
async def test_the_anthropic_request_carries_system_history_tools_and_sampling(
    fake: FakeProvider,
) -> None:
    request = InferenceRequest(
        model="plain",
        messages=(*HISTORY, ChatMessage(MessageRole.USER, "thanks")),
        system="be brief",
        tools=TOOLS,
        sampling=SamplingParams(temperature=0.5, top_p=0.9),
    )
    await execute(fake, "anthropic:plain", request, max_tokens=99)
    body = fake.bodies("plain")[-1]

    assert "be brief" == body["system"]
    assert [
        {"role": "user", "content": [{"type": "text", "text": "add 1 and 2"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "c1", "name": "add", "input": {"a": 1, "b": 2}}],
        },
        {
            "role": "user",  # the tool result and the next user message share one turn
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "3"},
                {"type": "text", "text": "thanks"},
            ],
        },
    ] == body["messages"]
    assert [{"name": "add", "description": "adds", "input_schema": TOOLS[0].parameters}] == body[
        "tools"
    ]
    assert (0.5, 0.9, 99) == (body["temperature"], body["top_p"], body["max_tokens"])


# -- errors -------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("model", "kind", "status"),
    [
        ("always-429", InferenceErrorKind.RATE_LIMITED, 429),
        ("always-500", InferenceErrorKind.PROVIDER, 500),
        ("overloaded", InferenceErrorKind.OVERLOADED, None),
        ("context", InferenceErrorKind.CONTEXT_OVERFLOW, 400),
        ("filter", InferenceErrorKind.CONTENT_FILTERED, None),
        ("no-such-model", InferenceErrorKind.MODEL_NOT_FOUND, 404),
    ],
)
async def test_failures_map_onto_kinds_keeping_message_status_and_request_id(
    fake: FakeProvider, provider: str, model: str, kind: InferenceErrorKind, status: int | None
) -> None:
    with pytest.raises(InferenceError) as raised:
        await execute(fake, f"{provider}:{model}", max_retries=1)

    error = raised.value
    assert kind == error.kind
    if status is not None:
        assert status == error.status
    if error.status is not None:  # an HTTP failure: its message and request id are kept
        assert error.request_id is not None
        assert error.request_id in error.message
        assert str(error.status) in error.message
    if kind in (
        InferenceErrorKind.RATE_LIMITED,
        InferenceErrorKind.PROVIDER,
        InferenceErrorKind.OVERLOADED,
    ):
        assert 2 == error.attempts  # the SDK retried once


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_overload_is_529_on_anthropic_and_503_on_openai(
    fake: FakeProvider, provider: str
) -> None:
    with pytest.raises(InferenceError) as raised:
        await execute(fake, f"{provider}:overloaded", max_retries=0)

    assert {"openai": 503, "anthropic": 529}[provider] == raised.value.status


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_rejected_key_is_unauthorized(fake: FakeProvider, provider: str) -> None:
    with pytest.raises(InferenceError) as raised:
        await execute(fake, f"{provider}:plain", api_key="bad-key")

    assert InferenceErrorKind.UNAUTHORIZED == raised.value.kind
    assert 401 == raised.value.status


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_slow_answer_past_the_timeout_is_a_timeout(
    fake: FakeProvider, provider: str
) -> None:
    with pytest.raises(InferenceError) as raised:
        await execute(fake, f"{provider}:slow", timeout_secs=0.2, max_retries=0)

    assert InferenceErrorKind.TIMEOUT == raised.value.kind


@pytest.mark.anyio
async def test_a_missing_key_is_unauthorized_naming_the_variable(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    executor = executor_for("openai:plain", options=ProviderOptions(base_url=fake.openai_url))

    with pytest.raises(InferenceError) as raised:
        await executor.execute(ask(model="plain"))

    assert InferenceErrorKind.UNAUTHORIZED == raised.value.kind
    assert "OPENAI_API_KEY" in raised.value.message


# -- retries ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_429_with_retry_after_is_retried_and_counted(
    fake: FakeProvider, provider: str
) -> None:
    result = await execute(
        fake, f"{provider}:flaky", request=ask(f"retry {provider}", model="flaky")
    )

    assert ANSWER == result.text
    assert 2 == result.attempts
    assert result.retry_wait_secs is not None
    assert result.retry_wait_secs > 0


@pytest.mark.anyio
async def test_max_retries_zero_gives_up_at_once(fake: FakeProvider) -> None:
    with pytest.raises(InferenceError) as raised:
        await execute(fake, "openai:flaky", request=ask("no retry", model="flaky"), max_retries=0)

    assert (InferenceErrorKind.RATE_LIMITED, 1) == (raised.value.kind, raised.value.attempts)


# -- the agent loop over a provider --------------------------------------------------------


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_tool_calls_over_several_rounds_run_the_tools(
    fake: FakeProvider, provider: str
) -> None:
    model = resolve_model(f"{provider}:tools", options=options_for(fake, provider))
    run = await run_eval(
        [
            fixture(
                fixture_id="sum",
                expect=Expectation(
                    tool_sequence=("add", "add"), final_answer_contains=("done: 2",)
                ),
            )
        ],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=(model.model_id,)),
        models=[model],
        replayer=AgentLoopReplayer(tools=[Tool("add", add, parameters={"type": "object"})]),
    )
    await model.executor.aclose()  # type: ignore[attr-defined]

    report = run.items[0].report
    assert report.passed, report.failures
    assert (3, 2, 0) == (report.inference_count, report.tool_count, report.tool_failures)


@pytest.mark.anyio
async def test_arguments_that_are_not_json_fail_that_call_not_the_run(fake: FakeProvider) -> None:
    executor = executor_for("openai:bad-args", options=options_for(fake, "openai"))
    result = await executor.execute(ask(model="bad-args"))
    await executor.aclose()  # type: ignore[attr-defined]
    call = result.tool_calls[0]
    assert ('{"a": 1,', "add") == (call.arguments, call.name)
    assert call.arguments_error is not None
    assert "not JSON" in call.arguments_error

    model = resolve_model("openai:bad-args", options=options_for(fake, "openai"))
    sink = CapturingSink()
    run = await run_eval(
        [fixture(fixture_id="bad", expect=Expectation(final_answer_contains=("42",)))],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=(model.model_id,)),
        models=[model],
        replayer=AgentLoopReplayer(tools=[add]),
        sink=sink,
    )
    await model.executor.aclose()  # type: ignore[attr-defined]
    report = run.items[0].report
    assert report.passed, report.failures  # the model got the error back and answered
    assert (1, 1) == (report.tool_count, report.tool_failures)
    tool_spans = [
        event.span
        for event in sink.events
        if isinstance(event, SpanRecorded) and isinstance(event.span, ToolSpan)
    ]
    assert [("add", "invalid_arguments", '{"a": 1,')] == [
        (span.name, span.error_type, span.call_arguments) for span in tool_spans
    ]
    answer = fake.bodies("bad-args")[-1]["messages"][-1]
    assert "tool" == answer["role"]
    assert answer["content"].startswith("error: invalid arguments for add: not JSON")


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_live_run_over_a_provider_stores_usage_cost_and_retries(
    fake: FakeProvider, provider: str
) -> None:
    from awaken_eval.providers import PriceTable  # noqa: PLC0415

    prices = PriceTable(
        models={
            f"{provider}:flaky": ModelPricing(input_per_million_usd=1.0, output_per_million_usd=2.0)
        }
    )
    resolver = ProviderModelResolver(options=options_for(fake, provider), prices=prices)
    run = await run_eval(
        [
            fixture(
                fixture_id=f"cost-{provider}",
                user_input=f"cost {provider}",
                expect=Expectation(final_answer_contains=("42",)),
            )
        ],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=(f"{provider}:flaky",), samples=3),
        models=resolver,
    )
    await resolver.aclose()

    assert 3 == len(run.items)
    assert all(item.report.passed for item in run.items)
    first = run.items[0].report
    assert (20, 5) == (first.total_input_tokens, first.total_output_tokens)
    assert pytest.approx(30 / 1_000_000) == first.cost_usd
    # the first sample met the 429; the others found the conversation already seen
    assert 1 == sum(item.report.inference_retries for item in run.items)
    assert sum(item.report.retry_wait_ms for item in run.items) >= 1  # retry-after-ms: 5


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_model_that_always_fails_gives_provider_runtime_failures(
    fake: FakeProvider, provider: str
) -> None:
    model = resolve_model(
        f"{provider}:always-500", options=options_for(fake, provider, max_retries=1)
    )
    run = await run_eval(
        [fixture(fixture_id="boom", expect=Expectation(final_answer_contains=("42",)))],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=(model.model_id,)),
        models=[model],
    )
    await model.executor.aclose()  # type: ignore[attr-defined]

    report = run.items[0].report
    assert not report.passed
    assert "provider" == report.error_type
    assert report.runtime_failure is not None
    assert "HTTP 500" in report.runtime_failure.message  # type: ignore[union-attr]


# -- limits -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_per_model_connection_limit_holds_across_executors(fake: FakeProvider) -> None:
    import anyio  # noqa: PLC0415

    pool = LimiterPool()
    options = options_for(fake, "openai", max_connections=3)
    executors = [executor_for("openai:delay-20", options=options, limiters=pool) for _ in range(4)]

    async with anyio.create_task_group() as group:
        for index in range(24):
            group.start_soon(executors[index % 4].execute, ask(f"n{index}", model="delay-20"))
    for executor in executors:
        await executor.aclose()  # type: ignore[attr-defined]

    assert 3 == fake.peak["delay-20"]


def test_the_default_connection_limit_is_ten() -> None:
    assert 10 == DEFAULT_MAX_CONNECTIONS == ProviderOptions().max_connections


@pytest.mark.anyio
async def test_adaptive_limits_halve_on_429_and_grow_back_slowly() -> None:
    from awaken_eval.providers._limits import ModelLimiter  # noqa: PLC0415

    limiter = ModelLimiter(8, adaptive=True)
    limiter.observe(throttled=1)
    assert 4 == limiter.current
    limiter.observe(throttled=1)
    assert 2 == limiter.current
    for _ in range(7):
        limiter.observe(throttled=0)
    assert 2 == limiter.current  # not yet: growth needs `ceiling` successes in a row
    limiter.observe(throttled=0)
    assert 3 == limiter.current
    for _ in range(8 * 10):
        limiter.observe(throttled=0)
    assert 8 == limiter.current  # never above the ceiling


@pytest.mark.anyio
async def test_fixed_limits_ignore_429() -> None:
    from awaken_eval.providers._limits import ModelLimiter  # noqa: PLC0415

    limiter = ModelLimiter(8)
    limiter.observe(throttled=3)
    assert 8 == limiter.current


# -- resolution ---------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", ["gpt-4.1", "azure-ish:gpt", "openai:", "openai: "])
def test_an_id_without_a_known_provider_is_refused_naming_the_form(model_id: str) -> None:
    with pytest.raises(
        InvalidRequest, match="expected PROVIDER:MODEL with PROVIDER one of openai, anthropic"
    ):
        executor_for(model_id)


@pytest.mark.parametrize(("provider", "module"), [("openai", "openai"), ("anthropic", "anthropic")])
def test_a_missing_extra_names_the_pip_install(
    provider: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail

    with pytest.raises(InvalidRequest, match=rf"pip install 'awaken-eval\[{provider}\]'"):
        executor_for(f"{provider}:m")


def test_resolve_model_prices_the_model_and_sends_its_bare_name() -> None:
    resolved = resolve_model("anthropic:claude-sonnet-4-5-20250929")

    assert "claude-sonnet-4-5-20250929" == resolved.upstream_model
    assert resolved.pricing is not None
    assert 3.0 == resolved.pricing.input_per_million_usd


@pytest.mark.anyio
async def test_the_resolver_shares_one_executor_per_model() -> None:
    resolver = ProviderModelResolver()

    first = await resolver.resolve_model("openai:gpt-4.1-mini")
    again = await resolver.resolve_model("openai:gpt-4.1-mini")

    assert first is again


# -- models check -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_check_model_reports_latency_tokens_and_cost(
    fake: FakeProvider, provider: str
) -> None:
    from awaken_eval.providers import PriceTable  # noqa: PLC0415

    prices = PriceTable(
        models={
            f"{provider}:plain": ModelPricing(input_per_million_usd=1.0, output_per_million_usd=1.0)
        }
    )
    ticks = iter([10.0, 10.25])
    check = await check_model(
        f"{provider}:plain",
        options=options_for(fake, provider),
        prices=prices,
        clock=lambda: next(ticks),
    )

    assert ANSWER == check.text
    assert 0.25 == check.latency_secs
    assert 25 == (check.usage.prompt_tokens or 0) + (check.usage.completion_tokens or 0)
    assert pytest.approx(25 / 1_000_000) == check.cost_usd
    body = fake.bodies("plain")[-1]
    assert body["max_tokens"] == 16


@pytest.mark.anyio
async def test_check_model_raises_the_providers_message(fake: FakeProvider) -> None:
    with pytest.raises(InferenceError, match="does not exist"):
        await check_model("openai:gpt-nope", options=options_for(fake, "openai"))


# -- import cost --------------------------------------------------------------------------


def test_neither_the_package_nor_the_providers_namespace_imports_an_sdk() -> None:
    import subprocess  # noqa: PLC0415

    code = (
        "import sys, awaken_eval, awaken_eval.providers\n"
        "from awaken_eval.providers import executor_for, bundled_prices\n"
        "bundled_prices()\n"
        "print(sorted(m for m in ('openai', 'anthropic', 'httpx2') if m in sys.modules))\n"
        "executor_for('openai:m')\n"
        "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))\n"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")

    assert ["[]", "['openai']"] == out[:2]


# -- the service --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_service_runs_provider_models_through_the_provider_resolver(
    fake: FakeProvider,
) -> None:
    from awaken_eval import DatasetSpec  # noqa: PLC0415
    from awaken_eval.service import EvalService, RequestedMode, StartRunRequest  # noqa: PLC0415
    from awaken_eval.stores import InMemoryDatasetStore, InMemoryRunStore  # noqa: PLC0415

    datasets = InMemoryDatasetStore()
    spec = DatasetSpec(
        fixtures=(fixture(fixture_id="svc", expect=Expectation(final_answer_contains=("42",))),)
    )
    await datasets.put("ds", spec, expected_revision=None)
    async with ProviderModelResolver(options=options_for(fake, "openai")) as resolver:
        service = EvalService(datasets=datasets, runs=InMemoryRunStore(), models=resolver)
        response = await service.start_run(
            StartRunRequest(dataset_id="ds", mode=RequestedMode.LIVE, models=("openai:plain",))
        )

    assert [True] == [item.report.passed for item in response.run.items]
    assert response.run.items[0].report.cost_usd is None  # openai:plain has no price
