"""The records the tests build by hand, with one set of defaults for the whole suite.

Every builder is keyword-only and fills what a test does not care about with a plain,
documented value (zero, empty, ``"f"``, ``"ds"``); a test that depends on a value passes
it at the call site, so the call says what the test relies on. Hypothesis strategies for
the same records live in ``strategies.py``.

A test module whose tests name a local ``run``, ``item``, ``report`` or ``header`` imports
the builder under a ``make_`` alias (``from builders import run as make_run``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from awaken_eval import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    Expectation,
    Failure,
    Fixture,
    MatrixCell,
    ProviderScriptEvent,
    ReplayOutcome,
    ReplayReport,
)
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.records import AgentMetrics, RunHeader

T0 = 1_700_006_400
"""2023-11-15T00:00:00Z, when built runs and headers start: a store keeps it as given
(``started_at_secs=0`` tells a store to stamp the time it stores the run)."""


def report(
    *,
    fixture_id: str = "f",
    passed: bool | None = None,
    failures: Sequence[Failure] = (),
    final_text: str = "",
    inference_count: int = 0,
    tool_count: int = 0,
    tool_failures: int = 0,
    total_input_tokens: int = 0,
    total_output_tokens: int = 0,
    total_tokens: int = 0,
    session_duration_ms: int = 0,
    **more: Any,
) -> ReplayReport:
    """A :class:`ReplayReport` with zero counts, no text and no failures.

    Args:
        fixture_id: The replayed fixture (``"f"``).
        passed: Whether it passed; ``None`` (the default) means ``not failures``.
        failures: Why it failed (none).
        final_text: The final text (empty).
        inference_count: Inference spans (0).
        tool_count: Tool spans (0).
        tool_failures: Failed tool spans (0).
        total_input_tokens: Input tokens (0).
        total_output_tokens: Output tokens (0).
        total_tokens: Total tokens (0).
        session_duration_ms: Session duration (0).
        **more: Any other :class:`ReplayReport` field (``runtime_failure``, ``cost_usd``,
            ``tool_calls_by_agent``, ``judge_score``, ...), left at the record's default
            when not given.
    """
    return ReplayReport(
        fixture_id=fixture_id,
        passed=not failures if passed is None else passed,
        failures=tuple(failures),
        final_text=final_text,
        inference_count=inference_count,
        tool_count=tool_count,
        tool_failures=tool_failures,
        total_input_tokens=total_input_tokens,
        total_output_tokens=total_output_tokens,
        total_tokens=total_tokens,
        session_duration_ms=session_duration_ms,
        **more,
    )


_default_report = report  # ``item`` takes a ``report`` argument, which hides the builder


def item(
    *,
    fixture_id: str | None = None,
    report: ReplayReport | None = None,
    passed: bool | None = None,
    failures: Sequence[Failure] = (),
    model: str | None = None,
    live: bool = False,
    cell: MatrixCell | None = None,
    sample_index: int | None = None,
    trace_run_id: str | None = None,
) -> EvalRunItem:
    """An :class:`EvalRunItem`: scripted (no cell) unless a model, ``live`` or a cell is given.

    Args:
        fixture_id: The replayed fixture: by default the report's, or ``"f"`` without one.
        report: Its report; by default ``report(fixture_id=fixture_id, passed=passed,
            failures=failures)`` (zero counts).
        passed: Whether the default report passed; ``None`` (the default) means
            ``not failures``. Ignored with ``report``.
        failures: The default report's failures (none). Ignored with ``report``.
        model: Gives the item the cell ``MatrixCell(model)`` (none).
        live: Gives the item a cell even without a model (``False``).
        cell: The item's cell, given directly (wins over ``model`` and ``live``).
        sample_index: The sample number (none: an unsampled run).
        trace_run_id: The trace the replay can be inspected in (none).
    """
    if fixture_id is None:
        fixture_id = "f" if report is None else report.fixture_id
    if cell is None and (live or model is not None):
        cell = MatrixCell(model)
    return EvalRunItem(
        fixture_id,
        cell=cell,
        report=_default_report(fixture_id=fixture_id, passed=passed, failures=failures)
        if report is None
        else report,
        sample_index=sample_index,
        trace_run_id=trace_run_id,
    )


def run(
    *,
    run_id: str = "run",
    dataset_id: str = "ds",
    dataset_revision: int = 0,
    mode: EvalRunExecutionMode | None = None,
    items: Iterable[EvalRunItem] = (),
    started_at_secs: int = T0,
    ended_at_secs: int | None = None,
    fixture_digests: Mapping[str, str] | None = None,
) -> EvalRun:
    """An :class:`EvalRun` of ``items``.

    Args:
        run_id: The run id (``"run"``).
        dataset_id: The dataset (``"ds"``).
        dataset_revision: The dataset revision (0).
        mode: The execution mode; ``None`` (the default) means live when any item has a
            cell, scripted otherwise.
        items: The items (none).
        started_at_secs: Start time (:data:`T0`).
        ended_at_secs: End time; ``None`` (the default) means ``started_at_secs``.
        fixture_digests: Digests by fixture id (none).
    """
    items = tuple(items)
    if mode is None:
        live = any(one.cell is not None for one in items)
        mode = EvalRunExecutionMode.LIVE if live else EvalRunExecutionMode.SCRIPTED
    return EvalRun(
        id=run_id,
        dataset_id=dataset_id,
        dataset_revision=dataset_revision,
        execution_mode=mode,
        items=items,
        started_at_secs=started_at_secs,
        ended_at_secs=started_at_secs if ended_at_secs is None else ended_at_secs,
        fixture_digests=dict(fixture_digests or {}),
    )


def header(
    *,
    run_id: str = "run",
    dataset_id: str = "ds",
    dataset_revision: int = 0,
    mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED,
    started_at_secs: int = T0,
    fixture_digests: Mapping[str, str] | None = None,
) -> RunHeader:
    """A :class:`RunHeader`, what a streamed run is opened with.

    Args:
        run_id: The run id (``"run"``).
        dataset_id: The dataset (``"ds"``).
        dataset_revision: The dataset revision (0).
        mode: The execution mode (scripted).
        started_at_secs: Start time (:data:`T0`).
        fixture_digests: Digests by fixture id (none).
    """
    return RunHeader(
        id=run_id,
        dataset_id=dataset_id,
        dataset_revision=dataset_revision,
        execution_mode=mode,
        started_at_secs=started_at_secs,
        fixture_digests=dict(fixture_digests or {}),
    )


def outcome(
    *,
    fixture_id: str = "f",
    final_text: str = "",
    inferences: Sequence[InferenceSpan] = (),
    tools: Sequence[ToolSpan] = (),
    session_duration_ms: int = 0,
    **more: Any,
) -> ReplayOutcome:
    """A :class:`ReplayOutcome` whose metrics hold the given spans.

    Args:
        fixture_id: The replayed fixture (``"f"``).
        final_text: The final text (empty).
        inferences: Inference spans (none).
        tools: Tool spans (none).
        session_duration_ms: Session duration (0).
        **more: Any other :class:`ReplayOutcome` field (``error_type``,
            ``runtime_failure``, ``judge_score``, ...), left at the record's default when
            not given.
    """
    metrics = AgentMetrics(
        inferences=tuple(inferences), tools=tuple(tools), session_duration_ms=session_duration_ms
    )
    return ReplayOutcome(fixture_id=fixture_id, final_text=final_text, metrics=metrics, **more)


def fixture(
    *,
    fixture_id: str = "f",
    user_input: str = "q",
    provider_script: Sequence[ProviderScriptEvent] = (),
    expect: Expectation | None = None,
    **more: Any,
) -> Fixture:
    """A :class:`Fixture`.

    Args:
        fixture_id: The fixture id (``"f"``).
        user_input: The user's message (``"q"``).
        provider_script: The scripted provider events (none).
        expect: What the replay must satisfy (an empty :class:`Expectation`).
        **more: Any other :class:`Fixture` field, left at the record's default when not
            given.
    """
    return Fixture(
        fixture_id,
        user_input=user_input,
        provider_script=tuple(provider_script),
        expect=Expectation() if expect is None else expect,
        **more,
    )
