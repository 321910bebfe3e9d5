"""Benchmark: the engine (``run_eval``) against same-run floors and peer frameworks.

Four measurements, each printed with its same-run reference, the ratio and PASS/MISS:

(a) **engine overhead** — ``--overhead-units`` scripted units through a no-op replayer
    (it returns one constant :class:`~awaken_eval.ReplayOutcome`) with an empty
    expectation, no store, no sink: CPU µs per unit of ``run_eval`` against a *bare anyio
    worker-pool floor* (the same number of workers pulling indexes from a shared
    iterator, awaiting the same no-op and scoring it with ``score``). Target: ratio ≤ 3.
    The engine's cost is broken down into the parts it cannot skip: the fixture digests
    recorded on the run (:func:`~awaken_eval.wire.fixture_digests`) and the report
    and item built per unit (``ReplayReport.from_outcome`` + ``EvalRunItem``), measured
    on their own in the same run; the rest is the engine's scheduling.
(b) **scripted throughput** — ``--scripted-fixtures`` fixtures (chat, a tool call with a
    recorded result, a scripted provider error, a two-turn dialogue) through the
    default :class:`~awaken_eval.AgentLoopReplayer` + ``ScriptedExecutor`` with full
    scoring. Target: ≥ 10,000 units/s (CPU time).
(c) **I/O bound** — ``--io-units`` live units whose executor sleeps ``--io-delay``
    seconds, ``--io-concurrency`` workers: wall-clock time against the ideal
    ``ceil(units / concurrency) * delay``. Target: ≤ 1.05x the ideal.
(d) **peers** — the no-op workload of (a) through pydantic-evals (``Dataset.evaluate``,
    progress off, ``repeat=1``) and inspect-ai (the ``mockllm`` model, no display, logs
    in a temporary directory), when importable (``pip install -e '.[bench]'``); else a
    notice is printed. Our µs/unit is measured again at the peer's size. Target: at
    least 10x less overhead than pydantic-evals. inspect-ai has a fixed start-up cost of
    seconds, so its per-unit cost is the *marginal* cost between two sizes.

(e) **records floor** — within (a): the floor that builds the same
    :class:`~awaken_eval.ReplayReport` and :class:`~awaken_eval.EvalRunItem` records
    directly (the record constructors with the values a no-op outcome gives) on top of
    the bare pool. Target: no-op ``run_eval`` ≤ 1.5x that floor.
(f) **default path vs pydantic-evals** — within (d): ``run_eval_sync(fixtures)`` over
    scripted one-answer fixtures (the default agent loop, scripted executor, scoring,
    report, digests) against a no-op pydantic-evals case. Timed twice: on the same
    fixture objects every round (digests computed once per fixture, as for a dataset
    evaluated repeatedly) and on fresh fixture objects every round (digests computed in
    the run). Target: at least 10x cheaper per unit than pydantic-evals.
(g) **peak memory** — ``run_eval_sync`` over ``--memory-units`` one-answer fixtures in a
    fresh subprocess, the peak resident set (``VmHWM``; fixtures, run and interpreter
    included). Target: ≤ 100 MB at 50,000 units.

Targets of (b) and (c): ≥ 20,000 units/s, and ``run_eval`` within 1.03x of the bare
pool's wall-clock time.

CPU-bound parts are timed with process CPU time (the machine may be shared) and the
competitors of one comparison are timed in turn within each repetition, best of
``--repeat``; the I/O part is wall-clock. The script always exits 0.

Usage::

    python benchmarks/bench_engine.py                 # full sizes, best of 5
    python benchmarks/bench_engine.py --smoke         # tiny sizes, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from awaken_eval import (
    ChatResponseEvent,
    DialogueTurn,
    ErrorEvent,
    EvalRunExecutionMode,
    EvalRunItem,
    Expectation,
    Fixture,
    InferenceRequest,
    InferenceResult,
    ReplayContext,
    ReplayOutcome,
    ReplayReport,
    ResolvedModel,
    RunOptions,
    StopReason,
    TokenUsage,
    ToolCallEvent,
    ToolCallMatcher,
    run_eval,
    run_eval_sync,
    score,
)
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.wire import fixture_digests

RECORDS_FLOOR_TARGET = 1.5
THROUGHPUT_TARGET = 20_000.0
IO_TARGET = 1.05
IO_POOL_TARGET = 1.03
PEER_TARGET = 10.0
MEMORY_TARGET_MB = 100.0
MEMORY_TARGET_UNITS = 50_000

NOOP_OUTCOME = ReplayOutcome(fixture_id="noop")


class NoopReplayer:
    """Returns the same outcome for every unit, without yielding."""

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:  # noqa: ARG002
        return NOOP_OUTCOME


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def best_cpu(repeat: int, functions: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best process CPU time of each function over ``repeat`` rounds, timed in turn."""
    best = dict.fromkeys(functions, math.inf)
    for _ in range(repeat):
        for name, function in functions.items():
            gc.collect()
            started = time.process_time()
            function()
            best[name] = min(best[name], time.process_time() - started)
    return best


def noop_fixtures(count: int) -> list[Fixture]:
    return [Fixture(f"unit-{index:06d}", "ping") for index in range(count)]


# -- (a) engine overhead -------------------------------------------------------------------


async def floor_pool(fixtures: list[Fixture], replayer: NoopReplayer, workers: int) -> None:
    """The bare anyio worker pool: shared iterator, the same no-op, a trivial scorer."""
    results: list[object] = [None] * len(fixtures)
    todo = iter(range(len(fixtures)))
    context = ReplayContext()

    async def worker() -> None:
        for index in todo:
            fixture = fixtures[index]
            outcome = await replayer.replay(fixture, context)
            results[index] = score(outcome, fixture.expect)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


async def artefact_pool(fixtures: list[Fixture], replayer: NoopReplayer, workers: int) -> None:
    """The floor plus the report and item every unit must produce."""
    results: list[object] = [None] * len(fixtures)
    todo = iter(range(len(fixtures)))
    context = ReplayContext()

    async def worker() -> None:
        for index in todo:
            fixture = fixtures[index]
            outcome = await replayer.replay(fixture, context)
            report = ReplayReport.from_outcome(outcome, score(outcome, fixture.expect))
            results[index] = EvalRunItem(fixture.id, report=report)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


async def records_pool(fixtures: list[Fixture], replayer: NoopReplayer, workers: int) -> None:
    """The floor of (e): the bare pool plus the report and item built directly."""
    results: list[object] = [None] * len(fixtures)
    todo = iter(range(len(fixtures)))
    context = ReplayContext()

    async def worker() -> None:
        for index in todo:
            fixture = fixtures[index]
            outcome = await replayer.replay(fixture, context)
            failures = score(outcome, fixture.expect)
            report = ReplayReport(
                fixture_id=outcome.fixture_id,
                passed=not failures,
                failures=tuple(failures),
                final_text=outcome.final_text,
                inference_count=0,
                tool_count=0,
                tool_failures=0,
                total_input_tokens=0,
                total_output_tokens=0,
                total_tokens=0,
                session_duration_ms=0,
                elapsed_ms=0,
                tool_calls_by_agent=(),
                error_type=None,
                inference_error_count=0,
                runtime_failure=None,
                revision_count=0,
                judge_score=None,
                judge_reasoning=None,
                judge_verdicts=(),
                judge_attempts=(),
            )
            results[index] = EvalRunItem(fixture.id, report=report, trace_run_id=None)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


def engine_call(
    fixtures: list[Fixture], workers: int, *, streaming: bool = False
) -> Callable[[], object]:
    replayer = NoopReplayer()

    def run() -> object:
        async def main() -> None:
            store = InMemoryRunStore() if streaming else None
            run = await run_eval(
                fixtures, RunOptions(max_concurrency=workers), replayer=replayer, store=store
            )
            assert len(run.items) == len(fixtures)

        return anyio.run(main)

    return run


def bench_overhead(units: int, workers: int, repeat: int) -> float:
    print(f"\n(a) engine overhead: {units:,} scripted no-op units, {workers} workers")
    fixtures = noop_fixtures(units)
    replayer = NoopReplayer()
    best = best_cpu(
        repeat,
        {
            "floor": lambda: anyio.run(floor_pool, fixtures, replayer, workers),
            "engine": engine_call(fixtures, workers),
            "digests": lambda: fixture_digests(fixtures),
            "artefacts": lambda: anyio.run(artefact_pool, fixtures, replayer, workers),
            "streaming": engine_call(fixtures, workers, streaming=True),
            "records": lambda: anyio.run(records_pool, fixtures, replayer, workers),
        },
    )
    per_unit = {name: seconds / units * 1e6 for name, seconds in best.items()}
    report_and_item = per_unit["artefacts"] - per_unit["floor"]
    scheduling = per_unit["engine"] - per_unit["digests"] - per_unit["artefacts"]
    ratio = per_unit["engine"] / per_unit["floor"]
    print(f"    floor (bare anyio pool + no-op + score)  {per_unit['floor']:8.2f} µs/unit")
    print(f"    run_eval                                 {per_unit['engine']:8.2f} µs/unit")
    print(f"      of which fixture digests               {per_unit['digests']:8.2f} µs/unit")
    print(f"      of which report + item                 {report_and_item:8.2f} µs/unit")
    print(f"      of which scheduling, ordering, run     {scheduling:8.2f} µs/unit")
    print(
        f"    ratio run_eval / bare-pool floor {ratio:.2f} (information: the report and item "
        "alone cost more than the pool; the overhead target is (e) below)"
    )
    records = per_unit["engine"] / per_unit["records"]
    print(
        f"    (e) floor building the same report + item directly {per_unit['records']:8.2f} µs/unit"
    )
    print(
        f"    ratio run_eval / records floor {records:.2f} (target <= {RECORDS_FLOOR_TARGET:g}): "
        f"{_verdict(records <= RECORDS_FLOOR_TARGET)}"
    )
    print(
        f"    run_eval streaming into InMemoryRunStore {per_unit['streaming']:8.2f} µs/unit "
        "(for reference)"
    )
    return per_unit["engine"]


# -- (b) scripted throughput ---------------------------------------------------------------


def _usage(prompt: int, completion: int) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def mixed_fixture(index: int) -> Fixture:
    """One of four realistic scripted fixtures, by ``index % 4``."""
    fixture_id = f"mixed-{index:06d}"
    kind = index % 4
    if kind == 0:  # chat
        return Fixture(
            fixture_id,
            "What is 2 + 2?",
            provider_script=(ChatResponseEvent("The answer is 4.", tokens=_usage(12, 6)),),
            expect=Expectation(final_answer_contains=("4",), max_tokens_total=100),
        )
    if kind == 1:  # tool call with a recorded result, then the answer
        return Fixture(
            fixture_id,
            "Where is order A-1001?",
            provider_script=(
                ToolCallEvent(
                    "call_1",
                    "lookup_order",
                    {"order_id": "A-1001"},
                    tokens=_usage(40, 12),
                    result={"status": "shipped", "eta_days": 3},
                ),
                ChatResponseEvent("Your order has shipped.", tokens=_usage(70, 8)),
            ),
            expect=Expectation(
                final_answer_contains=("shipped",),
                tool_sequence=("lookup_order",),
                required_tool_calls=(
                    ToolCallMatcher(
                        "lookup_order",
                        args_subset={"order_id": "A-1001"},
                        result_subset={"status": "shipped"},
                    ),
                ),
            ),
        )
    if kind == 2:  # a scripted provider error
        return Fixture(
            fixture_id,
            "Summarise the report.",
            provider_script=(ErrorEvent("rate_limit", message="slow down"),),
            expect=Expectation(expected_error_type="rate_limit"),
        )
    return Fixture(  # a two-turn dialogue
        fixture_id,
        "What is 2 + 2?",
        provider_script=(ChatResponseEvent("4", tokens=_usage(10, 1)),),
        continued_turns=(
            DialogueTurn(
                "And 3 + 3?", provider_script=(ChatResponseEvent("It is 6.", tokens=_usage(20, 4)),)
            ),
        ),
        expect=Expectation(final_answer_contains=("6",), final_answer_excludes=("error",)),
    )


def bench_scripted(count: int, workers: int, repeat: int) -> None:
    print(
        f"\n(b) scripted throughput: {count:,} mixed fixtures, AgentLoopReplayer, {workers} workers"
    )
    fixtures = [mixed_fixture(index) for index in range(count)]
    passed: list[int] = []

    async def main() -> None:
        run = await run_eval(fixtures, RunOptions(max_concurrency=workers))
        passed.append(run.passed_count())

    best = best_cpu(repeat, {"engine": lambda: anyio.run(main)})["engine"]
    if passed[-1] != count:
        print(f"    WARNING: only {passed[-1]:,} of {count:,} fixtures passed")
    rate = count / best
    print(f"    {rate:,.0f} units/s ({best / count * 1e6:.1f} µs/unit CPU)")
    print(f"    target >= {THROUGHPUT_TARGET:,.0f} units/s: {_verdict(rate >= THROUGHPUT_TARGET)}")
    print(f"    (throughput / target: {rate / THROUGHPUT_TARGET:.2f})")


# -- (c) I/O bound -------------------------------------------------------------------------


class SleepingExecutor:
    """A live executor that answers after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        await anyio.sleep(self.delay)
        return InferenceResult(
            text="pong", usage=_usage(5, 2), stop_reason=StopReason.END_TURN, model=request.model
        )


async def sleep_pool(units: int, delay: float, concurrency: int) -> None:
    """The floor of (c): the same sleeps through a bare anyio worker pool."""
    todo = iter(range(units))

    async def worker() -> None:
        for _ in todo:
            await anyio.sleep(delay)

    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)


def bench_io(units: int, delay: float, concurrency: int, repeat: int, backend: str) -> None:
    print(
        f"\n(c) I/O bound: {units:,} live units sleeping {delay * 1000:g} ms, "
        f"concurrency {concurrency}, {backend}"
    )
    fixtures = [
        Fixture(f"io-{index:05d}", "ping", expect=Expectation(final_answer_contains=("pong",)))
        for index in range(units)
    ]
    model = ResolvedModel(
        model_id="sleepy", executor=SleepingExecutor(delay), upstream_model="sleepy-1"
    )
    passed: list[int] = []

    async def engine() -> None:
        options = RunOptions(
            mode=EvalRunExecutionMode.LIVE, models=["sleepy"], max_concurrency=concurrency
        )
        run = await run_eval(fixtures, options, models=[model])
        passed.append(run.passed_count())

    ideal = math.ceil(units / concurrency) * delay
    calls: dict[str, Callable[[], object]] = {
        "floor": lambda: anyio.run(sleep_pool, units, delay, concurrency, backend=backend),
        "engine": lambda: anyio.run(engine, backend=backend),
    }
    best = dict.fromkeys(calls, math.inf)
    for _ in range(repeat):
        for name, call in calls.items():
            gc.collect()
            started = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - started)
    if min(passed) != units:
        print(f"    WARNING: only {min(passed):,} of {units:,} units passed")
    ratio = best["engine"] / ideal
    print(f"    ideal                                    {ideal:8.3f} s")
    print(f"    floor (bare anyio pool, same sleeps)     {best['floor']:8.3f} s (wall clock)")
    print(f"    run_eval                                 {best['engine']:8.3f} s (wall clock)")
    print(
        f"    ratio run_eval / ideal {ratio:.3f} (target <= {IO_TARGET:g}): "
        f"{_verdict(ratio <= IO_TARGET)}"
    )
    pool_ratio = best["engine"] / best["floor"]
    print(
        f"    ratio run_eval / bare pool {pool_ratio:.3f} (target <= {IO_POOL_TARGET:g}): "
        f"{_verdict(pool_ratio <= IO_POOL_TARGET)}"
    )


# -- (d) peers -----------------------------------------------------------------------------


def _import(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def pydantic_evals_call(module: Any, units: int, workers: int) -> Callable[[], object]:
    dataset = module.Dataset(
        name="bench",
        cases=[module.Case(name=f"case-{index}", inputs=index) for index in range(units)],
    )

    async def task(inputs: int) -> int:
        return inputs

    def run() -> object:
        async def main() -> None:
            report = await dataset.evaluate(task, progress=False, max_concurrency=workers, repeat=1)
            assert len(report.cases) == units

        return anyio.run(main)

    return run


def bench_pydantic_evals(units: int, workers: int, repeat: int) -> None:
    module = _import("pydantic_evals")
    if module is None:
        print("\n(d) pydantic-evals: not installed (pip install -e '.[bench]'); skipped")
        return
    print(
        f"\n(d) pydantic-evals {_version('pydantic-evals')}: {units:,} no-op cases, {workers} workers"
    )
    best = best_cpu(
        repeat,
        {
            "engine": engine_call(noop_fixtures(units), workers),
            "pydantic-evals": pydantic_evals_call(module, units, workers),
        },
    )
    ours = best["engine"] / units * 1e6
    theirs = best["pydantic-evals"] / units * 1e6
    ratio = theirs / ours
    print(f"    run_eval, no-op replayer           {ours:10.2f} µs/unit")
    print(f"    pydantic-evals, no-op case         {theirs:10.2f} µs/unit")
    print(f"    pydantic-evals / run_eval no-op {ratio:.1f}x")
    default_path = best_cpu(
        repeat,
        {
            "warm": default_path_call(one_answer_fixtures(units)),
            "cold": default_path_call(None, units=units, rounds=repeat),
            "pydantic-evals": pydantic_evals_call(module, units, workers),
        },
    )
    theirs = min(theirs, default_path["pydantic-evals"] / units * 1e6)
    for name, label in (
        ("warm", "digests known (same fixtures)"),
        ("cold", "digests computed (new fixtures)"),
    ):
        ours = default_path[name] / units * 1e6
        ratio = theirs / ours
        print(f"    (f) run_eval_sync default path, {label} {ours:8.2f} µs/unit")
        print(
            f"        pydantic-evals / default path {ratio:.1f}x (target >= {PEER_TARGET:g}x): "
            f"{_verdict(ratio >= PEER_TARGET)}"
        )


def one_answer_fixtures(count: int, prefix: str = "answer") -> list[Fixture]:
    """Scripted fixtures answered by one chat response, checked for a phrase."""
    return [
        Fixture(
            f"{prefix}-{index:06d}",
            "ping",
            provider_script=(ChatResponseEvent("pong", tokens=_usage(3, 1)),),
            expect=Expectation(final_answer_contains=("pong",)),
        )
        for index in range(count)
    ]


def default_path_call(
    fixtures: list[Fixture] | None, *, units: int = 0, rounds: int = 0
) -> Callable[[], object]:
    """``run_eval_sync(fixtures)``; with ``None``, fresh fixtures on each of ``rounds`` calls.

    The fresh batches are built before timing and kept alive after their call, so a
    call is charged neither for building its fixtures nor for freeing the last ones.
    """
    fresh = [one_answer_fixtures(units, prefix=f"fresh{round_}") for round_ in range(rounds)]
    used: list[list[Fixture]] = []

    def run() -> object:
        batch = fixtures if fixtures is not None else fresh.pop()
        run = run_eval_sync(batch)
        assert run.passed_count() == len(batch)
        used.append(batch)
        return run

    return run


# -- (g) peak memory -----------------------------------------------------------------------

MEMORY_CHILD = """
import sys
sys.path.insert(0, {here!r})
from bench_engine import one_answer_fixtures
from awaken_eval import run_eval_sync
run = run_eval_sync(one_answer_fixtures({units}))
assert run.passed_count() == {units}
with open("/proc/self/status", encoding="ascii") as status:
    peak = [line for line in status if line.startswith("VmHWM:")]
print(int(peak[0].split()[1]) if peak else -1)
"""


def bench_memory(units: int) -> None:
    print(f"\n(g) peak memory: run_eval_sync over {units:,} one-answer fixtures, fresh process")
    here = str(Path(__file__).resolve().parent)
    completed = subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
        [sys.executable, "-c", MEMORY_CHILD.format(here=here, units=units)],
        check=True,
        capture_output=True,
        text=True,
    )
    peak_kb = int(completed.stdout.strip().splitlines()[-1])
    if peak_kb < 0:
        print("    VmHWM unavailable (not Linux); skipped")
        return
    peak_mb = peak_kb / 1024
    scaled = peak_mb if units >= MEMORY_TARGET_UNITS else math.nan
    print(f"    peak resident set {peak_mb:8.1f} MB")
    if units >= MEMORY_TARGET_UNITS:
        print(
            f"    target <= {MEMORY_TARGET_MB:g} MB at {MEMORY_TARGET_UNITS:,} units: "
            f"{_verdict(scaled <= MEMORY_TARGET_MB)}"
        )
    else:
        print(f"    (the target is stated at {MEMORY_TARGET_UNITS:,} units; not judged here)")


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def _inspect_seconds(units: int) -> float:
    inspect_ai = importlib.import_module("inspect_ai")
    dataset = importlib.import_module("inspect_ai.dataset")
    model_module = importlib.import_module("inspect_ai.model")
    solver = importlib.import_module("inspect_ai.solver")
    scorer = importlib.import_module("inspect_ai.scorer")

    def outputs(*_: object) -> Any:
        # Usage given up front: otherwise the mock model counts tokens with tiktoken,
        # which downloads its encoding.
        output = model_module.ModelOutput.from_content(model="mockllm", content="pong")
        output.usage = model_module.ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return output

    model = model_module.get_model("mockllm/model", custom_outputs=outputs)
    task = inspect_ai.Task(
        dataset=[dataset.Sample(input="ping", target="pong") for _ in range(units)],
        solver=solver.generate(),
        scorer=scorer.match(),
    )
    log_dir = tempfile.mkdtemp(prefix="awaken-bench-inspect-")
    try:
        started = time.process_time()
        logs = inspect_ai.eval(
            task, model=model, display="none", log_dir=log_dir, log_level="error", max_samples=8
        )
        elapsed = time.process_time() - started
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    if logs[0].status != "success":
        print(f"    WARNING: inspect-ai run status {logs[0].status}")
    return elapsed


def bench_inspect(units: int, workers: int, repeat: int) -> None:
    if _import("inspect_ai") is None:
        print("\n(d) inspect-ai: not installed (pip install -e '.[bench]'); skipped")
        return
    print(
        f"\n(d) inspect-ai {_version('inspect-ai')}: mockllm, {units:,} and {2 * units:,} "
        "samples (marginal cost per sample)"
    )
    small = min(_inspect_seconds(units) for _ in range(repeat))
    large = min(_inspect_seconds(2 * units) for _ in range(repeat))
    theirs = max(large - small, 0.0) / units * 1e6
    ours = best_cpu(repeat, {"engine": engine_call(noop_fixtures(units), workers)})["engine"]
    ours = ours / units * 1e6
    print(f"    run_eval        {ours:10.2f} µs/unit")
    print(f"    inspect-ai      {theirs:10.2f} µs/unit (marginal)")
    print(f"    inspect-ai / run_eval {theirs / ours:.0f}x")


# -- driver --------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--overhead-units", type=int, default=50_000)
    parser.add_argument("--scripted-fixtures", type=int, default=10_000)
    parser.add_argument("--io-units", type=int, default=2_000)
    parser.add_argument("--io-delay", type=float, default=0.05, help="seconds")
    parser.add_argument("--io-concurrency", type=int, default=100)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--workers", type=int, default=8, help="workers of CPU-bound runs")
    parser.add_argument("--peer-units", type=int, default=10_000, help="pydantic-evals cases")
    parser.add_argument("--inspect-units", type=int, default=100, help="inspect-ai samples")
    parser.add_argument("--memory-units", type=int, default=MEMORY_TARGET_UNITS)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument(
        "--only-peers",
        action="store_true",
        help="only the peers' section (d) with (f): the default path against pydantic-evals",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (a few seconds), inspect-ai skipped"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.overhead_units = min(args.overhead_units, 2_000)
        args.scripted_fixtures = min(args.scripted_fixtures, 400)
        args.io_units = min(args.io_units, 200)
        args.io_delay = min(args.io_delay, 0.02)
        args.peer_units = min(args.peer_units, 300)
        args.memory_units = min(args.memory_units, 2_000)
        args.repeat = min(args.repeat, 2)
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    print(f"bench_engine: Python {sys.version.split()[0]}, anyio {_version('anyio')}")
    if not args.only_peers:
        bench_overhead(args.overhead_units, args.workers, args.repeat)
        bench_scripted(args.scripted_fixtures, args.workers, args.repeat)
        bench_io(
            args.io_units, args.io_delay, args.io_concurrency, min(args.repeat, 3), args.backend
        )
        bench_memory(args.memory_units)
    if args.skip_peers:
        print("\n(d) peers: skipped (--skip-peers)")
        return 0
    bench_pydantic_evals(args.peer_units, args.workers, min(args.repeat, 3))
    if args.smoke:
        print("\n(d) inspect-ai: skipped in --smoke (seconds of start-up per run)")
    else:
        bench_inspect(args.inspect_units, args.workers, min(args.repeat, 2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
