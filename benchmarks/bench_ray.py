"""Benchmark: a run through ``RayDispatcher`` against the local worker pool.

Two measurements, on a local Ray started here (``ray.init(num_cpus=2)``):

(a) **per-unit overhead** — ``--units`` scripted one-answer fixtures (the default agent
    loop, scripted executor, scoring) run locally and through 2 Ray actors for each batch
    size of ``--batch-sizes``: wall-clock µs per unit of each, the driver's CPU µs per unit
    (what bounds a driver feeding many actors), and the Ray run's overhead over the local
    one per unit. The actors' start-up (a fixed cost per run, measured on its own as a
    two-unit run) is reported apart and subtracted.
(b) **I/O bound** — ``--io-units`` live units whose executor sleeps ``--io-delay``
    seconds, over 2 actors of ``--io-concurrency`` units each: wall-clock time against
    the ideal ``ceil(units / (2 * concurrency)) * delay``, with and without the actors'
    start-up. Target: ≤ 1.2x the ideal (start-up excluded).

The script always exits 0.

Usage::

    python benchmarks/bench_ray.py            # 10,000 units, 2,000 x 50 ms
    python benchmarks/bench_ray.py --smoke    # a few seconds after Ray's start
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Sequence

import anyio
import attrs

from awaken_eval import (
    ChatResponseEvent,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InferenceRequest,
    InferenceResult,
    ResolvedModel,
    RunOptions,
    TokenUsage,
    run_eval_sync,
)
from awaken_eval.engine import UnitSpec
from awaken_eval.protocols import UnitDispatcher
from awaken_eval.ray import RayDispatcher

IO_TARGET = 1.2


def one_answer_fixtures(count: int) -> list[Fixture]:
    """Scripted fixtures answered by one chat response, checked for a phrase."""
    usage = TokenUsage(prompt_tokens=3, completion_tokens=1, total_tokens=4)
    return [
        Fixture(
            f"answer-{index:06d}",
            "ping",
            provider_script=(ChatResponseEvent("pong", tokens=usage),),
            expect=Expectation(final_answer_contains=("pong",)),
        )
        for index in range(count)
    ]


class SleepingExecutor:
    """Answers ``pong`` after ``delay`` seconds (an I/O-bound model call)."""

    def __init__(self, delay: float) -> None:
        """Keep the delay."""
        self.delay = delay

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Sleep, then answer."""
        del request
        await anyio.sleep(self.delay)
        return InferenceResult(text="pong")


class SleepingExecutors:
    """A picklable ``factory(model_id)`` of :class:`SleepingExecutor`."""

    def __init__(self, delay: float) -> None:
        """Keep the delay."""
        self.delay = delay

    def __call__(self, model_id: str) -> SleepingExecutor:
        """The executor of ``model_id``."""
        del model_id
        return SleepingExecutor(self.delay)


class Timing:
    """Wall-clock marks of one run: its start, its first recorded item, its end.

    The time to the first item is the run's start-up (shipping the payload, starting
    the actors, building their parts), a fixed cost per run; the rest is the
    per-unit cost.
    """

    def __init__(self) -> None:
        """Start the clocks."""
        self.start = time.perf_counter()
        self.cpu = time.process_time()
        self.first = math.nan
        self.end = math.nan
        self.cpu_used = math.nan

    def progress(self, done: int, total: int) -> None:
        """The run's progress callback: mark the first item."""
        del total
        if done == 1:
            self.first = time.perf_counter()

    def stop(self) -> None:
        """Mark the end."""
        self.end = time.perf_counter()
        self.cpu_used = time.process_time() - self.cpu

    @property
    def startup(self) -> float:
        """Seconds until the first item."""
        return self.first - self.start

    @property
    def steady(self) -> float:
        """Seconds from the first item to the end."""
        return self.end - self.first


def scripted(fixtures: list[Fixture], dispatcher: UnitDispatcher | None) -> Timing:
    """Run ``fixtures`` scripted (8 units at once per process) and time it."""
    timing = Timing()
    run = run_eval_sync(
        fixtures, RunOptions(max_concurrency=8), dispatcher=dispatcher, progress=timing.progress
    )
    timing.stop()
    assert run.passed_count() == len(fixtures)
    return timing


def overhead(units: int, batch_sizes: Sequence[int]) -> None:
    """(a): µs per unit, local against Ray for each batch size."""
    fixtures = one_answer_fixtures(units)
    print(f"(a) per-unit overhead: {units:,} scripted units, 2 actors, 8 units at once each")
    print("    (µs/unit: wall clock from the first item to the last; start-up apart)")
    local = scripted(fixtures, None)
    local_us = local.steady / (units - 1) * 1e6
    print(
        f"    local pool                 {local_us:7.1f} µs/unit wall, "
        f"{local.cpu_used / units * 1e6:6.1f} µs/unit CPU"
    )
    for size in batch_sizes:
        timing = scripted(fixtures, RayDispatcher(actors=2, batch_size=size))
        ray_us = timing.steady / (units - 1) * 1e6
        print(
            f"    Ray, batch {size:>5}           {ray_us:7.1f} µs/unit wall, "
            f"{timing.cpu_used / units * 1e6:6.1f} µs/unit driver CPU, "
            f"overhead {ray_us - local_us:+6.1f} µs/unit (ratio {ray_us / local_us:.2f}), "
            f"start-up {timing.startup:.2f} s"
        )


def io_bound(units: int, delay: float, concurrency: int) -> None:
    """(b): ``units`` sleeping units over 2 actors against the ideal."""
    fixtures = [
        Fixture(f"io-{index:06d}", "ping", expect=Expectation(final_answer_contains=("pong",)))
        for index in range(units)
    ]
    options = RunOptions(
        mode=EvalRunExecutionMode.LIVE, models=("sleepy",), max_concurrency=concurrency
    )
    factory = SleepingExecutors(delay)
    models = [ResolvedModel(model_id="sleepy", executor=factory("sleepy"), upstream_model="s")]
    dispatcher = RayDispatcher(spec=UnitSpec(executor=factory), actors=2, batch_size=concurrency)
    timing = Timing()
    run = run_eval_sync(
        fixtures, options, models=models, dispatcher=dispatcher, progress=timing.progress
    )
    timing.stop()
    assert run.passed_count() == units
    ideal = math.ceil(units / (2 * concurrency)) * delay
    startup = timing.startup - delay  # the first item took one delay itself
    wall = timing.end - timing.start
    ratio = (wall - startup) / ideal
    print(
        f"\n(b) I/O bound: {units:,} live units sleeping {delay * 1000:g} ms, "
        f"2 actors x {concurrency} at once, batches of {concurrency}"
    )
    print(f"    ideal                                   {ideal:8.3f} s")
    print(f"    Ray run                                 {wall:8.3f} s (wall clock)")
    print(f"    of which start-up (until the 1st item)  {startup:8.3f} s")
    verdict = "PASS" if ratio <= IO_TARGET else "MISS"
    print(f"    ratio (run - start-up) / ideal {ratio:.3f} (target <= {IO_TARGET}): {verdict}")
    print(f"    ratio run / ideal {wall / ideal:.3f} (information: start-up included)")
    local_options = attrs.evolve(options, max_concurrency=2 * concurrency)
    began = time.perf_counter()
    local = run_eval_sync(fixtures, local_options, models=models)
    local_wall = time.perf_counter() - began
    assert local.passed_count() == units
    print(
        f"    local pool, {2 * concurrency} at once (reference)   {local_wall:8.3f} s, "
        f"ratio / ideal {local_wall / ideal:.3f}"
    )


def main() -> None:
    """Parse the sizes, start Ray, run (a) and (b)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--batch-sizes", default="64,256,1024,2500")
    parser.add_argument("--io-units", type=int, default=2_000)
    parser.add_argument("--io-delay", type=float, default=0.05)
    parser.add_argument("--io-concurrency", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    args = parser.parse_args()
    if args.smoke:
        args.units, args.batch_sizes = 1_000, "256"
        args.io_units, args.io_delay, args.io_concurrency = 200, 0.02, 50
    import ray  # noqa: PLC0415 - the [ray] extra

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"bench_ray: Ray {ray.__version__}, started in {time.perf_counter() - started:.1f} s\n")
    try:
        sizes = [int(size) for size in args.batch_sizes.split(",")]
        overhead(args.units, sizes)
        io_bound(args.io_units, args.io_delay, args.io_concurrency)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
