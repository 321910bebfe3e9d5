"""The garbage collector around bulk (de)serialization: paused, then restored as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from awaken_eval import (
    EvalRun,
    InvalidInput,
    from_json,
    to_json,
)
from awaken_eval.records import AgentToolStats
from builders import item, report, run


def _run(items: int) -> EvalRun:
    """A live run of ``items`` items with every usual report field set."""
    stats = (
        AgentToolStats(
            agent_id="", tool="search", call_count=1, failure_count=0, total_duration_ms=5
        ),
    )
    return run(
        run_id="01JBENCH0000000000000000RN",
        dataset_revision=1,
        items=(
            item(
                report=report(
                    fixture_id=f"fx_{index}",
                    final_text="ok",
                    inference_count=1,
                    tool_count=1,
                    total_input_tokens=10,
                    total_output_tokens=5,
                    session_duration_ms=7,
                    tool_calls_by_agent=stats,
                ),
                model="m",
                sample_index=index % 3,
            )
            for index in range(items)
        ),
        started_at_secs=1,
        ended_at_secs=2,
    )


@pytest.fixture(scope="module")
def large_text() -> str:
    return to_json(_run(5_000))


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the collector enabled and unfrozen, whatever a test did."""
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.usefixtures("collector")
def test_load_restores_the_collector_and_leaves_no_young_objects(large_text: str) -> None:
    gc.collect()

    run = from_json(EvalRun, large_text)

    assert gc.isenabled()
    assert 0 == gc.get_freeze_count()
    assert gc.get_count()[0] < 1_000  # promoted, not left for two young collections
    assert 5_000 == len(run.items)


@pytest.mark.usefixtures("collector")
def test_dump_restores_the_collector(large_text: str) -> None:
    run = from_json(EvalRun, large_text)

    assert large_text == to_json(run)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_collector_disabled_by_the_application_stays_disabled(large_text: str) -> None:
    gc.disable()

    from_json(EvalRun, large_text)
    to_json(_run(2))

    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_objects_frozen_by_the_application_stay_frozen(large_text: str) -> None:
    gc.collect()
    kept: list[list[int]] = [[] for _ in range(10)]
    gc.freeze()
    frozen = gc.get_freeze_count()

    from_json(EvalRun, large_text)

    assert frozen == gc.get_freeze_count()
    assert gc.isenabled()
    assert kept


@pytest.mark.usefixtures("collector")
def test_collector_restored_after_a_bad_document(large_text: str) -> None:
    bad = large_text.replace('"passed":true', '"passed":1', 1)

    with pytest.raises(InvalidInput) as caught:
        from_json(EvalRun, bad)

    assert "$.items[0].report.passed: expected a boolean, got 1" == str(caught.value)
    assert gc.isenabled()
