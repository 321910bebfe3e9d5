"""Benchmark: a scripted replay is linear in the length of its tool-call script.

One fixture whose provider script calls a tool N times (each call with a recorded
result) and then answers, replayed by ``run_eval`` through the default
:class:`~awaken_eval.AgentLoopReplayer` on two paths:

- **general**: with a trace sink (a no-op one), so every request goes through the
  executor protocol with the whole conversation so far (the path that was quadratic:
  the history was copied into a new tuple at every round);
- **fast**: without a sink, the script served in place.

For each size (``--calls``, default 10,000, 20,000 and 40,000) it prints the CPU time,
the µs per tool call, and the ratio of the per-call time at the largest size to the one
at the smallest. Linear: the ratio stays near 1 (target ≤ 1.5; a quadratic loop
doubles it with every doubling of the script). Best of ``--repeat`` (CPU time, the
machine may be shared). The script always exits 0.

Usage::

    python benchmarks/bench_rounds.py                            # 10k, 20k, 40k; best of 3
    python benchmarks/bench_rounds.py --calls 2000 4000 --repeat 1   # smoke run
"""

from __future__ import annotations

import argparse
import gc
import math
import time

from awaken_eval import ChatResponseEvent, Fixture, ToolCallEvent, run_eval_sync
from awaken_eval.events import TraceEvent

LINEAR_TARGET = 1.5


class NullSink:
    """A trace sink that keeps nothing (it only routes replays through the general path)."""

    async def emit(self, event: TraceEvent) -> None:
        """Drop ``event``."""


def tool_script(calls: int) -> Fixture:
    events = tuple(
        ToolCallEvent(f"call-{index}", "lookup", {"q": index}, result="ok")
        for index in range(calls)
    )
    return Fixture("long", "go", provider_script=(*events, ChatResponseEvent("done")))


def best_cpu(repeat: int, fixture: Fixture, *, sink: NullSink | None) -> float:
    best = math.inf
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        run = run_eval_sync([fixture], sink=sink)
        best = min(best, time.process_time() - started)
        assert run.items[0].report.passed, run.items[0].report.failures
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[10_000, 20_000, 40_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes: list[int] = sorted(args.calls)
    print(f"bench_rounds: scripted tool-call scripts of {', '.join(f'{n:,}' for n in sizes)}")
    for path, sink in (("general (trace sink)", NullSink()), ("fast (no sink)", None)):
        print(f"\n{path}")
        per_call: list[float] = []
        for calls in sizes:
            seconds = best_cpu(args.repeat, tool_script(calls), sink=sink)
            per_call.append(seconds / calls * 1e6)
            print(f"    {calls:>9,} calls  {seconds:8.3f} s  {per_call[-1]:7.2f} µs/call")
        ratio = per_call[-1] / per_call[0]
        verdict = "PASS" if ratio <= LINEAR_TARGET else "MISS"
        print(
            f"    µs/call at {sizes[-1]:,} / at {sizes[0]:,}: {ratio:.2f} "
            f"(linear: target <= {LINEAR_TARGET}): {verdict}"
        )


if __name__ == "__main__":
    main()
