"""The agent loop's rounds: the round cap, the shared history, executors returning junk.

- Every agent run has at most ``MAX_AGENT_ROUNDS`` rounds (scripted fast path, general
  path and live mode); reaching it is a runtime error naming the limit.
- The conversation handed to the executor is a :class:`ChatHistory`: extending it costs
  the same at every round (a scripted run is linear in the length of its script), and it
  behaves as the tuple of its messages.
- An executor returning ``None`` or anything but an ``InferenceResult`` is a recorded
  runtime failure naming the type.

Every async test runs on asyncio and trio.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import (
    AgentLoopReplayer,
    AgentSpec,
    ChatMessage,
    ChatResponseEvent,
    EvalRunExecutionMode,
    Fixture,
    InferenceRequest,
    InferenceResult,
    ReplayContext,
    ToolCall,
    ToolCallEvent,
    run_eval,
)
from awaken_eval._engine import agent_loop
from awaken_eval._records.history import ChatHistory
from awaken_eval.engine import MAX_AGENT_ROUNDS
from awaken_eval.failures import ReplayRuntimeError, ReplayRuntimeFailed
from awaken_eval.records import MessageRole
from awaken_eval.testing import CapturingSink
from strategies import chat_messages

LIVE = EvalRunExecutionMode.LIVE


def tool_script(calls: int) -> Fixture:
    """A fixture whose script calls a tool ``calls`` times (recorded results), then answers."""
    events = tuple(
        ToolCallEvent(f"call-{index}", "lookup", {"q": index}, result="ok")
        for index in range(calls)
    )
    return Fixture("long", "go", provider_script=(*events, ChatResponseEvent("done")))


# -- the round cap --------------------------------------------------------------------------


def test_the_cap_is_the_documented_one() -> None:
    assert 100_000 == MAX_AGENT_ROUNDS


@pytest.mark.anyio
@pytest.mark.parametrize("observed", [False, True], ids=["fast-path", "general-path"])
async def test_a_script_longer_than_the_cap_ends_in_a_clear_runtime_error(
    observed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_loop, "MAX_AGENT_ROUNDS", 50)
    sink = CapturingSink() if observed else None
    context = ReplayContext(sink=sink)
    outcome = await AgentLoopReplayer().replay(tool_script(60), context)
    assert (
        ReplayRuntimeError(
            "agent run stopped after max_rounds=50 rounds without a final answer "
            "(MAX_AGENT_ROUNDS=50 is the limit of any agent run)"
        ),
        50,
        "",
    ) == (outcome.runtime_failure, len(outcome.metrics.tools), outcome.final_text)


@pytest.mark.anyio
async def test_a_script_within_the_cap_still_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_loop, "MAX_AGENT_ROUNDS", 50)
    outcome = await AgentLoopReplayer().replay(tool_script(49), ReplayContext())
    assert (None, "done", 50) == (
        outcome.runtime_failure,
        outcome.final_text,
        len(outcome.metrics.inferences),
    )


@pytest.mark.anyio
async def test_the_cap_bounds_an_agent_spec_and_a_floor_asking_for_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agent_loop, "MAX_AGENT_ROUNDS", 5)
    executor = ToolForever()
    context = ReplayContext(mode=LIVE, executor=executor, agent=AgentSpec(max_rounds=1000))
    replayer = AgentLoopReplayer(max_rounds_floor=500)
    outcome = await replayer.replay(Fixture("live", "go"), context)
    assert 5 == executor.calls
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert "MAX_AGENT_ROUNDS=5" in outcome.runtime_failure.message


@pytest.mark.anyio
async def test_a_real_script_one_call_past_the_real_cap_fails() -> None:
    outcome = await AgentLoopReplayer().replay(tool_script(MAX_AGENT_ROUNDS), ReplayContext())
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert outcome.runtime_failure.message.startswith(
        f"agent run stopped after max_rounds={MAX_AGENT_ROUNDS} rounds"
    )


class ToolForever:
    """A live executor that asks for a tool call at every round."""

    def __init__(self) -> None:
        self.calls = 0

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.calls += 1
        return InferenceResult(tool_calls=(ToolCall(f"c{self.calls}", "missing", {}),))


# -- the shared history -------------------------------------------------------------------


class HistoryLengths:
    """A live executor recording the length of every request's history, then answering."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.requests.append(request)
        if len(self.requests) < self.rounds:
            call = ToolCall(f"c{len(self.requests)}", "missing", {})
            return InferenceResult(tool_calls=(call,))
        return InferenceResult(text="done")


@pytest.mark.anyio
async def test_every_request_keeps_the_history_it_was_sent_with() -> None:
    executor = HistoryLengths(rounds=4)
    context = ReplayContext(mode=LIVE, executor=executor)
    outcome = await AgentLoopReplayer().replay(Fixture("f", "hello"), context)
    assert "done" == outcome.final_text
    # user; +assistant, tool; ... : each request saw only the messages before it
    assert [1, 3, 5, 7] == [len(request.messages) for request in executor.requests]
    first = executor.requests[0].messages
    assert (ChatMessage(MessageRole.USER, "hello"),) == first
    assert first == tuple(executor.requests[3].messages[:1])


def test_a_request_built_from_a_list_holds_a_tuple() -> None:
    message = ChatMessage(MessageRole.USER, "hi")
    request = InferenceRequest(model="m", messages=[message])
    assert (message,) == request.messages
    assert isinstance(request.messages, tuple)


@settings(max_examples=60, deadline=None)
@given(st.lists(chat_messages(), max_size=8), st.lists(chat_messages(), max_size=4))
def test_a_history_behaves_as_the_tuple_of_its_messages(
    first: Sequence[ChatMessage], branch: Sequence[ChatMessage]
) -> None:
    history = ChatHistory()
    prefixes = [history]
    for message in first:
        history = history.appended(message)
        prefixes.append(history)
    # Extending an older prefix never changes a longer one, nor the other way round.
    middle = prefixes[len(prefixes) // 2]
    branched = middle
    for message in branch:
        branched = branched.appended(message)
    expected = tuple(first)
    assert (expected, len(expected), repr(expected)) == (
        tuple(history),
        len(history),
        repr(history),
    )
    assert history == expected
    assert expected == history
    assert tuple(first[: len(prefixes) // 2]) + tuple(branch) == branched
    for length, prefix in enumerate(prefixes):
        assert tuple(first[:length]) == prefix
        assert tuple(first[:length][::-1]) == prefix[::-1]
        if length:
            assert (first[length - 1], first[0]) == (prefix[-1], prefix[0])
    with pytest.raises(IndexError):
        history[len(expected)]
    assert history != list(expected)


def test_a_history_hashes_as_the_tuple_of_its_messages() -> None:
    messages = (ChatMessage(MessageRole.USER, "hi"), ChatMessage(MessageRole.ASSISTANT, "yo"))
    history = ChatHistory(messages[:1]).appended(messages[1])
    assert hash(messages) == hash(history)
    assert {messages: 1}[history] == 1  # type: ignore[index]


# -- executors returning something else ----------------------------------------------------


class Returning:
    """A live executor returning ``value`` instead of an ``InferenceResult``."""

    def __init__(self, value: object) -> None:
        self.value = value

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        return self.value  # type: ignore[return-value]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "NoneType"), ("an answer", "str"), ({"text": "hi"}, "dict")],
)
async def test_an_executor_returning_junk_is_a_runtime_failure_naming_the_type(
    value: object, shown: str
) -> None:
    from awaken_eval import ResolvedModel, RunOptions  # noqa: PLC0415

    run = await run_eval(
        [Fixture("f", "hi")],
        RunOptions(mode=LIVE, models=["m"]),
        models=[ResolvedModel(model_id="m", executor=Returning(value), upstream_model="u")],
    )
    (report,) = (item.report for item in run.items)
    error = ReplayRuntimeError(f"executor returned {shown}, not an InferenceResult")
    assert (False, error, (ReplayRuntimeFailed(error),)) == (
        report.passed,
        report.runtime_failure,
        report.failures,
    )
