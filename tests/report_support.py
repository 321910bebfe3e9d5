"""Synthetic runs for the HTML report: its tests, its benchmark and the docs' screenshots.

A run looks like a live run of a few models with samples: most items pass, some fail
with each failure kind (so every explanation shows up), a few errored, judge scores
with criterion verdicts and revise attempts, and a captured transcript for every item
with a trace. Everything comes from ``random.Random(seed)``: the same arguments give
the same run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from awaken_eval import EvalRun, EvalRunExecutionMode, EvalRunItem, MatrixCell, ReplayReport
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.failures import (
    AnswerMissingPhrase,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
)
from awaken_eval.records import CriterionVerdict, JudgeAttempt

T0 = 1_700_006_400
MODELS = ("gpt-4.1-mini", "claude-haiku-4-5", "local-llama")
CITIES = ("Paris", "Berlin", "Madrid", "Rome", "Vienna", "Lisbon", "Prague", "Oslo")


def _report(rng: random.Random, fixture_id: str, quality: float, index: int) -> ReplayReport:
    city = CITIES[index % len(CITIES)]
    tokens_in = rng.randint(80, 900)
    tokens_out = rng.randint(10, 300)
    roll = rng.random()
    failures: list[object] = []
    runtime = None
    answer = f"The capital is {city}."
    judge_score = round(min(1.0, max(0.0, rng.gauss(quality, 0.15))), 3)
    if roll > quality:
        kind = rng.randrange(6)
        if kind == 0:
            answer = f"I think it is {CITIES[(index + 1) % len(CITIES)]}."
            failures.append(AnswerMissingPhrase(city))
        elif kind == 1:
            failures.append(ToolSequenceMismatch(("search", "answer"), ("answer",)))
        elif kind == 2:
            failures.append(ForbiddenToolUsed("delete_file"))
        elif kind == 3:
            failures.append(TokenBudgetExceeded(500, tokens_in + tokens_out))
        elif kind == 4:
            judge_score = round(rng.uniform(0.1, 0.6), 3)
            failures.append(JudgeBelowThreshold(0.7, judge_score))
        else:
            runtime = ReplayRuntimeError("cell deadline of 60s exceeded")
            failures.append(ReplayRuntimeFailed(runtime))
            answer = ""
    verdicts = (
        CriterionVerdict(criterion_id="names_city", score=1.0 if city in answer else 0.0),
        CriterionVerdict(criterion_id="concise", score=judge_score, reasoning="one sentence"),
    )
    attempts = (JudgeAttempt(revision=0, score=judge_score, reasoning="first answer"),)
    return ReplayReport(
        fixture_id=fixture_id,
        passed=not failures,
        failures=tuple(failures),  # type: ignore[arg-type]
        final_text=answer,
        inference_count=2,
        tool_count=1,
        tool_failures=0,
        total_input_tokens=tokens_in,
        total_output_tokens=tokens_out,
        total_tokens=tokens_in + tokens_out,
        session_duration_ms=int(rng.lognormvariate(7, 0.5)),
        runtime_failure=runtime,
        cost_usd=round((tokens_in * 0.4 + tokens_out * 1.6) / 1_000_000, 8),
        judge_score=judge_score,
        judge_reasoning=f"The answer {'names' if city in answer else 'does not name'} {city}.",
        judge_verdicts=verdicts,
        judge_attempts=attempts,
    )


def synthetic_run(
    items: int,
    *,
    seed: int = 0,
    run_id: str = "01JREPORTRUN0000000000000",
    models: Sequence[str] = MODELS,
    samples: int = 3,
    quality: Sequence[float] = (0.9, 0.8, 0.6),
) -> EvalRun:
    """A live run of about ``items`` items over ``models`` x ``samples`` per fixture."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    per_fixture = len(models) * samples
    fixtures = max(1, items // per_fixture)
    run_items = [
        EvalRunItem(
            f"capital-{index:05d}",
            cell=MatrixCell(model),
            report=_report(rng, f"capital-{index:05d}", level, index),
            sample_index=sample if samples > 1 else None,
            trace_run_id=f"trace-{index}-{model}-{sample}",
        )
        for index in range(fixtures)
        for model, level in zip(models, quality, strict=False)
        for sample in range(samples)
    ]
    return EvalRun(
        id=run_id,
        dataset_id="capitals",
        dataset_revision=3,
        execution_mode=EvalRunExecutionMode.LIVE,
        items=tuple(run_items),
        started_at_secs=T0,
        ended_at_secs=T0 + 754,
    )


def transcripts_of(run: EvalRun) -> dict[str, list[InferenceSpan | ToolSpan]]:
    """A captured two-call conversation with one tool call for every traced item."""
    found: dict[str, list[InferenceSpan | ToolSpan]] = {}
    for item in run.items:
        if item.trace_run_id is None:
            continue
        question = f"What is the capital of the country of {item.fixture_id}?"
        found[item.trace_run_id] = [
            InferenceSpan(
                run_id=item.trace_run_id,
                model=item.cell.model_id or "" if item.cell else "",
                request_messages=[{"role": "user", "content": question}],
                response_tool_calls=[
                    {"id": "c1", "name": "search", "arguments": {"q": item.fixture_id}}
                ],
                input_tokens=40,
                output_tokens=12,
            ),
            ToolSpan(
                name="search",
                run_id=item.trace_run_id,
                call_id="c1",
                call_arguments={"q": item.fixture_id},
                call_result={"hits": [item.report.final_text or "nothing"]},
                duration_ms=12,
            ),
            InferenceSpan(
                run_id=item.trace_run_id,
                model=item.cell.model_id or "" if item.cell else "",
                response_content=[{"type": "text", "text": item.report.final_text}],
                input_tokens=80,
                output_tokens=20,
            ),
        ]
    return found


def regressed(
    run: EvalRun, *, fixture_id: str, run_id: str = "01JREPORTRUN0000000000001"
) -> EvalRun:
    """``run`` with every item of ``fixture_id`` failing (a copy under another id)."""
    changed = []
    for original in run.items:
        item = original
        if item.fixture_id == fixture_id:
            report = item.report
            failure = AnswerMissingPhrase("Paris")
            report = ReplayReport(
                fixture_id=report.fixture_id,
                passed=False,
                failures=(failure,),
                final_text="It is Lyon.",
                inference_count=report.inference_count,
                tool_count=report.tool_count,
                tool_failures=report.tool_failures,
                total_input_tokens=report.total_input_tokens,
                total_output_tokens=report.total_output_tokens,
                total_tokens=report.total_tokens,
                session_duration_ms=report.session_duration_ms,
            )
            item = EvalRunItem(
                item.fixture_id,
                cell=item.cell,
                report=report,
                sample_index=item.sample_index,
                trace_run_id=item.trace_run_id,
            )
        changed.append(item)
    return EvalRun(
        id=run_id,
        dataset_id=run.dataset_id,
        dataset_revision=run.dataset_revision,
        execution_mode=run.execution_mode,
        items=tuple(changed),
        started_at_secs=run.started_at_secs + 3600,
        ended_at_secs=run.ended_at_secs + 3600,
    )
