"""Benchmark: JSON (de)serialization of a large EvalRun against the stdlib json floor.

Builds a realistic live-mode run (models x fixtures x samples, a mix of passing and
failing reports) and times, best of ``--repeat`` runs:

* ours dump   ``to_json(run)``
* ours load   ``from_json(EvalRun, text)``
* floor dump  ``json.dumps`` of the equivalent builtins (``to_builtins(run)``, computed
  beforehand) with the same options as ours
* floor load  ``json.loads(text)``

The targets are ours/floor <= 1.5 for both directions. The script reports PASS/MISS per
target and always exits 0 (CI runs it as a smoke test with a small ``--items``).

Usage::

    python benchmarks/bench_serde.py                 # 100,000 items, best of 5
    python benchmarks/bench_serde.py --items 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable

from awaken_eval import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    Failure,
    MatrixCell,
    ReplayReport,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.failures import (
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ProviderScriptUnused,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
    ReplayRuntimeFailure,
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    ToolSequenceMode,
)
from awaken_eval.records import AgentToolStats

TARGET_RATIO = 1.5

MODELS = ("gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-70b-instruct")
SAMPLES = 3
TOOLS = ("search_docs", "get_weather", "lookup_order", "send_email", "calculator", "fetch_url")
AGENTS = ("", "planner", "researcher")
ERROR_TYPES = ("rate_limited", "timeout", "overloaded", "provider", "content_filtered")
WORDS = (
    "the order",
    "has shipped",
    "and should arrive",
    "within three business days",
    "according to the tracking service",
    "the forecast for Zürich",
    "shows light rain",
    "with temperatures around 14 °C",
    "I could not find",
    "a matching document",
    "please confirm",
    "the account number",
    "the total is",
    "42.17 EUR",
    "including VAT",
    "the refund was issued",
)
REASONS = (
    "The answer states the shipping status and the delivery window as required.",
    "Mentions the forecast but omits the temperature unit asked for in the rubric.",
    "Correct total, clearly explained; the VAT breakdown is slightly terse.",
    "Refuses politely but does not offer the escalation path the rubric expects.",
)


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return (" ".join(words) + ".").capitalize()


def _runtime_failure(rng: random.Random) -> ReplayRuntimeFailure:
    roll = rng.random()
    if roll < 0.6:
        seconds = rng.choice((30, 60, 120))
        return ReplayRuntimeError(f"cell walltime exceeded: max {seconds}s")
    if roll < 0.8:
        return ScriptExhausted(rng.randint(1, 3))
    return ProviderScriptUnused(rng.randint(1, 4))


def _failure(rng: random.Random, tools: list[str], total_tokens: int) -> Failure:
    kind = rng.randrange(10)
    if kind == 0:
        return AnswerMissingPhrase(rng.choice(WORDS))
    if kind == 1:
        return AnswerContainsExcludedPhrase(rng.choice(WORDS))
    if kind == 2:
        sequence = tuple(rng.sample(TOOLS, rng.randint(1, 3)))
        mode = rng.choice((ToolSequenceMode.EXACT, ToolSequenceMode.ORDERED_SUBSEQ))
        return ToolSequenceMismatch(sequence, tuple(tools), mode=mode)
    if kind == 3:
        return ForbiddenToolUsed(rng.choice(TOOLS))
    if kind == 4:
        count = rng.choice((None, CountConstraint.at_least(2), CountConstraint.exactly(1)))
        return RequiredToolCallNotSatisfied(
            rng.choice(TOOLS),
            expected_count=count,
            actual_matches=rng.randint(0, 3),
            args_filter_set=rng.random() < 0.5,
        )
    if kind == 5:
        return TokenBudgetExceeded(budget=4000, actual=max(total_tokens, 4001))
    if kind == 6:
        return DurationExceeded(budget_ms=20_000, actual_ms=rng.randint(20_001, 90_000))
    if kind == 7:
        return JudgeBelowThreshold(threshold=0.7, actual=round(rng.uniform(0.0, 0.69), 3))
    if kind == 8:
        expected = rng.choice(ERROR_TYPES)
        return ErrorTypeMismatch(expected, rng.choice([e for e in ERROR_TYPES if e != expected]))
    return ExpectedErrorMissing(rng.choice(ERROR_TYPES))


def _report(rng: random.Random, fixture_id: str) -> ReplayReport:
    tools = [rng.choice(TOOLS) for _ in range(rng.randint(0, 5))]
    stats: dict[tuple[str, str], list[int]] = {}
    for name in tools:
        bucket = stats.setdefault((rng.choice(AGENTS), name), [0, 0, 0])
        bucket[0] += 1
        bucket[1] += rng.random() < 0.1
        bucket[2] += rng.randint(5, 900)
    by_agent = tuple(
        AgentToolStats(
            agent_id=agent,
            tool=name,
            call_count=calls,
            failure_count=failed,
            total_duration_ms=duration,
        )
        for (agent, name), (calls, failed, duration) in sorted(stats.items())
    )
    inferences = rng.randint(1, 6)
    input_tokens = rng.randint(200, 3000) * inferences
    output_tokens = rng.randint(20, 600) * inferences
    runtime_failure = _runtime_failure(rng) if rng.random() < 0.05 else None
    error_type = rng.choice(ERROR_TYPES) if rng.random() < 0.08 else None
    failures: list[Failure] = []
    if runtime_failure is not None:
        failures.append(ReplayRuntimeFailed(runtime_failure))
    if rng.random() < 0.3:
        failures.extend(
            _failure(rng, tools, input_tokens + output_tokens) for _ in range(rng.randint(1, 3))
        )
    judged = rng.random() < 0.8
    return ReplayReport(
        fixture_id=fixture_id,
        passed=not failures,
        failures=tuple(failures),
        final_text="" if error_type else _sentence(rng, 4, 16),
        inference_count=inferences,
        tool_count=len(tools),
        tool_failures=sum(stat.failure_count for stat in by_agent),
        total_input_tokens=input_tokens,
        total_output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        session_duration_ms=rng.randint(300, 60_000),
        tool_calls_by_agent=by_agent,
        error_type=error_type,
        inference_error_count=1 if error_type else 0,
        runtime_failure=runtime_failure,
        cost_usd=round(input_tokens * 1.5e-7 + output_tokens * 6e-7, 6),
        revision_count=rng.choice((0, 0, 0, 1, 2)),
        judge_score=round(rng.random(), 3) if judged else None,
        judge_reasoning=rng.choice(REASONS) if judged else None,
    )


def build_run(items: int, seed: int = 20240501) -> EvalRun:
    """A deterministic live run of ``items`` items: fixtures x models x samples."""
    rng = random.Random(seed)
    records: list[EvalRunItem] = []
    fixture = 0
    while len(records) < items:
        fixture_id = f"fx_{fixture:05d}_{rng.choice(TOOLS)}"
        for model in MODELS:
            for sample in range(SAMPLES):
                if len(records) == items:
                    break
                records.append(
                    EvalRunItem(
                        fixture_id,
                        _report(rng, fixture_id),
                        cell=MatrixCell(model),
                        trace_run_id=f"01J{rng.getrandbits(100):023X}"[:26],
                        sample_index=sample,
                    )
                )
        fixture += 1
    return EvalRun(
        id="01JBENCH0000000000000000RN",
        dataset_id="support-agent-regression",
        dataset_revision=17,
        execution_mode=EvalRunExecutionMode.LIVE,
        items=tuple(records),
        started_at_secs=1_714_521_600,
        ended_at_secs=1_714_525_200,
    )


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


def timed(clock: Callable[[], float], function: Callable[[], object]) -> float:
    """Seconds taken by ``function()`` and by the young-generation collections it leaves.

    The collector is emptied first; ``gc.collect(1)`` runs inside the timed region, so
    a call that merely postpones collector work (by pausing the collector) is charged
    for it.
    """
    gc.collect()
    start = clock()
    result = function()
    gc.collect(1)
    elapsed = clock() - start
    del result
    return elapsed


def best_of(
    repeat: int, clock: Callable[[], float], functions: dict[str, Callable[[], object]]
) -> dict[str, float]:
    """Best time of each function over ``repeat`` rounds, the functions interleaved."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            best[name] = min(best[name], timed(clock, function))
    return best


def _paused(function: Callable[[], object]) -> Callable[[], object]:
    def call() -> object:
        gc.disable()
        try:
            return function()
        finally:
            gc.enable()

    return call


def measure_dumps(
    items: int, repeat: int, clock: Callable[[], float]
) -> tuple[str, int, dict[str, float]]:
    """Build the run, check it, time both dumps; return the JSON text too."""
    run = build_run(items)
    text = to_json(run)
    plain = to_builtins(run)
    if json.dumps(plain, ensure_ascii=False, separators=(",", ":")) != text:
        msg = "to_json must equal json.dumps(to_builtins(run))"
        raise AssertionError(msg)
    loaded: EvalRun = from_json(EvalRun, text)
    if loaded != run:
        msg = "the run must round-trip"
        raise AssertionError(msg)
    failing = sum(1 for item in run.items if not item.report.passed)
    timings = best_of(
        repeat,
        clock,
        {
            "ours dump": lambda: to_json(run),
            "floor dump": lambda: json.dumps(plain, ensure_ascii=False, separators=(",", ":")),
        },
    )
    return text, failing, timings


def measure_loads(text: str, repeat: int, clock: Callable[[], float]) -> dict[str, float]:
    """Time both loads (only the text is alive: the floor's collector walks nothing else)."""
    return best_of(
        repeat,
        clock,
        {
            "ours load": lambda: from_json(EvalRun, text),
            "floor load": lambda: json.loads(text),
            "floor load, gc paused": _paused(lambda: json.loads(text)),
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=100_000, help="items in the run")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds; the best is kept")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: process time (robust on a shared machine, the default); wall: perf_counter",
    )
    args = parser.parse_args(argv)
    items: int = max(1, args.items)
    repeat: int = max(1, args.repeat)
    clock = CLOCKS[args.clock]

    text, failing, timings = measure_dumps(items, repeat, clock)
    timings |= measure_loads(text, repeat, clock)

    print(
        f"EvalRun: {items} items ({failing} failing), {len(text) / 1e6:.1f} MB of JSON, "
        f"{len(text) / items:.0f} bytes/item; best of {repeat}, {args.clock} time; "
        f"Python {sys.version.split()[0]}"
    )
    for name in ("ours dump", "floor dump", "ours load", "floor load", "floor load, gc paused"):
        seconds = timings[name]
        print(f"  {name:<22} {seconds * 1e6 / items:8.2f} µs/item  ({seconds:.3f} s)")
    for direction in ("dump", "load"):
        ratio = timings[f"ours {direction}"] / timings[f"floor {direction}"]
        verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
        print(f"  {direction} ratio ours/floor  {ratio:5.2f}  (target <= {TARGET_RATIO}) {verdict}")
    paused_ratio = timings["ours load"] / timings["floor load, gc paused"]
    print(f"  (load ratio against the gc-paused floor: {paused_ratio:.2f}; not a target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
