"""Shared parts of the dataset service and dataset route tests: span builders, stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from awaken_eval import DatasetSpec, Expectation, Fixture
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.records import DatasetRecord
from awaken_eval.stores import FileDatasetStore, InMemoryDatasetStore

DATASET_KINDS = ["memory", "files"]

T0_MS = 1_769_764_502_000  # 2026-01-30, the trace-store spec's sample run


def open_datasets(kind: str, root: Path) -> InMemoryDatasetStore | FileDatasetStore:
    return InMemoryDatasetStore() if kind == "memory" else FileDatasetStore(root / "datasets")


def messages(question: str | None) -> Any:
    if question is None:
        return None
    return [
        {"role": "system", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": [{"type": "text", "text": question}]},
    ]


def answer(
    run_id: str,
    text: str = "It is sunny.",
    *,
    question: str | None = "What is the weather?",
    thread_id: str = "thread-1",
    model: str = "gpt-test",
    agent_id: str = "weather",
    step: int = 0,
    started_at_ms: int = T0_MS,
) -> InferenceSpan:
    """A captured chat inference answering ``text`` (asked ``question``)."""
    return InferenceSpan(
        run_id=run_id,
        thread_id=thread_id,
        agent_id=agent_id,
        step_index=step,
        model=model,
        finish_reasons=("end_turn",),
        input_tokens=10,
        output_tokens=5,
        started_at_ms=started_at_ms,
        response_content=[{"type": "text", "text": text}],
        request_messages=messages(question),
    )


def parallel_tools(
    run_id: str, *, started_at_ms: int = T0_MS, thread_id: str = "thread-1"
) -> list[Any]:
    """A run whose first inference asked for two tool calls at once (no script)."""
    calls: list[dict[str, Any]] = [
        {"id": "c1", "name": "get_weather", "arguments": {"city": "Lisbon"}},
        {"id": "c2", "name": "get_weather", "arguments": {"city": "Porto"}},
    ]
    first = InferenceSpan(
        run_id=run_id,
        thread_id=thread_id,
        agent_id="weather",
        step_index=0,
        model="gpt-test",
        finish_reasons=("tool_use",),
        started_at_ms=started_at_ms,
        response_tool_calls=calls,
        request_messages=messages("Weather in Lisbon and Porto?"),
    )
    tools = [
        ToolSpan(name="get_weather", run_id=run_id, call_id=call["id"], call_result={"ok": True})
        for call in calls
    ]
    last = answer(run_id, "Both sunny.", question=None, step=1, started_at_ms=started_at_ms)
    return [first, *tools, last]


def weather_fixture(fixture_id: str, score: float | None = None) -> Fixture:
    return Fixture(
        fixture_id,
        "What is the weather?",
        expect=Expectation(final_answer_contains=("sunny",), min_judge_score=score),
    )


class RacingDatasets:
    """A dataset store where another writer wins the race just before every ``put``.

    The competing write bumps the dataset's revision, so the caller's compare-and-swap
    fails exactly as it would against a concurrent editor.
    """

    def __init__(self, inner: InMemoryDatasetStore | FileDatasetStore) -> None:
        self.inner = inner

    async def get(self, dataset_id: str) -> DatasetRecord:
        return await self.inner.get(dataset_id)

    async def put(
        self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
    ) -> int:
        current = await self.inner.get(dataset_id)
        rival = DatasetSpec(description="the rival's edit", fixtures=current.spec.fixtures)
        await self.inner.put(dataset_id, rival, expected_revision=current.revision)
        return await self.inner.put(dataset_id, spec, expected_revision=expected_revision)

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        await self.inner.delete(dataset_id, expected_revision=expected_revision)
