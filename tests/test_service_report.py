"""``EvalService.get_report``: a stored run as the HTML page a host serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from awaken_eval import InvalidRequest, NotFound
from awaken_eval.events import InferenceSpan, SpanRecorded
from awaken_eval.failures import ForbiddenToolUsed
from awaken_eval.service import EvalService
from awaken_eval.sinks import FileTraceStore, JsonlTraceSink
from awaken_eval.stores import InMemoryDatasetStore, InMemoryRunStore
from builders import item, report, run


def document_of(page: str) -> Any:
    found = re.search(r'id="report-data">(.*?)</script>', page, re.DOTALL)
    assert found is not None
    return json.loads(found.group(1))


async def service_with(*runs: Any) -> EvalService:
    store = InMemoryRunStore()
    for one in runs:
        await store.write(one)
    return EvalService(datasets=InMemoryDatasetStore(), runs=store)


BASE = run(run_id="01J00000000000000000000BAS", items=[item(fixture_id="a")])
NEW = run(
    run_id="01J00000000000000000000NEW",
    items=[
        item(report=report(fixture_id="a", failures=[ForbiddenToolUsed("rm")]), trace_run_id="t1")
    ],
)


@pytest.mark.anyio
async def test_get_report_renders_the_stored_run_and_its_diff() -> None:
    service = await service_with(BASE, NEW)
    page = await service.get_report(NEW.id, baseline=BASE.id)
    assert page.startswith("<!DOCTYPE html>")
    document = document_of(page)
    assert NEW.id == document["header"]["run_id"]
    assert ["regression", "a"] == document["diff"]["entries"][0][:2]
    assert {} == document["transcripts"]


@pytest.mark.anyio
async def test_get_report_reads_transcripts_from_the_trace_store(tmp_path: Path) -> None:
    await JsonlTraceSink(tmp_path).emit(SpanRecorded(span=InferenceSpan(run_id="t1", model="m")))
    service = await service_with(NEW)
    page = await service.get_report(NEW.id, traces=FileTraceStore(tmp_path))
    assert ["t1"] == list(document_of(page)["transcripts"])


@pytest.mark.anyio
async def test_get_report_refuses_unknown_runs_and_incomparable_baselines() -> None:
    other = run(run_id="01J0000000000000000000OTHR", dataset_id="other")
    service = await service_with(NEW, other)
    with pytest.raises(NotFound, match="eval run not found: nope"):
        await service.get_report("nope")
    with pytest.raises(NotFound, match="baseline eval run not found: gone"):
        await service.get_report(NEW.id, baseline="gone")
    with pytest.raises(InvalidRequest, match="cannot diff across datasets"):
        await service.get_report(NEW.id, baseline=other.id)
