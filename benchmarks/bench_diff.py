"""Benchmark: ``diff_eval_items`` of two large live runs against a pure-Python floor.

Builds a baseline and a new live run of ``--n`` items each (fixtures x 3 models x 3
samples, in run order: fixture order, models in request order, samples ascending) and
times, best of ``--repeat`` runs:

* ours   ``diff_eval_items(baseline_items, new_items)`` (default policy: live, because
  the items have cells)
* floor  the minimal loop doing the same pairing and comparisons over plain dicts and
  tuples: key each item, union and sort the keys, classify each pair, compare the same
  eight structural fields (tool statistics without durations), build one tuple per
  entry

Items are built cheaply: each side draws its reports from a pool of distinct report
objects (the two sides never share a report object, and their tool durations always
differ, as the wall clock makes them). The new run differs from the baseline by a few
per cent of regressions, fixes, still-failing items (half of them worsened), structural
drift, missing and added items.

The target is <= 3 s for 1,000,000 vs 1,000,000 items. The script reports PASS/MISS and
always exits 0 (CI runs it as a smoke test with a small ``--n``).

Usage::

    python benchmarks/bench_diff.py                  # 1,000,000 vs 1,000,000, best of 3
    python benchmarks/bench_diff.py --n 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import Counter
from collections.abc import Callable
from itertools import filterfalse
from typing import Any

import attrs

from awaken_eval import EvalRunItem, MatrixCell, ReplayReport
from awaken_eval.analysis import LIVE_DRIFT_FIELDS, diff_eval_items
from awaken_eval.failures import (
    AnswerMissingPhrase,
    ErrorTypeMismatch,
    ForbiddenToolUsed,
    TokenBudgetExceeded,
)
from awaken_eval.records import AgentToolStats

TARGET_SECONDS = 3.0
TARGET_N = 1_000_000
MODELS = ("gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-70b-instruct")
SAMPLES = 3
POOL = 64


def _report(index: int, *, failing: int, duration: int, text: str) -> ReplayReport:
    """Pool report ``index``: ``failing`` failures (0 = passing), tool durations ``duration``."""
    failures = (
        AnswerMissingPhrase("order shipped"),
        TokenBudgetExceeded(budget=4000, actual=5123),
        ForbiddenToolUsed("send_email"),
        ErrorTypeMismatch(expected="rate_limited", actual="timeout"),
    )[:failing]
    tools = (
        AgentToolStats(
            agent_id="",
            tool="search_docs",
            call_count=1 + index % 3,
            failure_count=0,
            total_duration_ms=duration + index,
        ),
        AgentToolStats(
            agent_id="planner",
            tool="lookup_order",
            call_count=1,
            failure_count=index % 2,
            total_duration_ms=2 * duration + index,
        ),
    )[: index % 3]
    return ReplayReport(
        fixture_id="pooled",
        passed=not failures,
        failures=failures,
        final_text=f"{text} answer {index}",
        inference_count=2 + index % 4,
        tool_count=sum(stats.call_count for stats in tools),
        tool_failures=sum(stats.failure_count for stats in tools),
        total_input_tokens=900 + 7 * index,
        total_output_tokens=120 + index,
        total_tokens=1020 + 8 * index,
        session_duration_ms=duration * 10 + index,
        tool_calls_by_agent=tools,
        cost_usd=0.0001 * (index + 1),
        judge_score=0.5 + index / (4 * POOL),
    )


@attrs.frozen
class Pools:
    """Report pools of one side: passing, failing once, failing twice, drifted."""

    passing: tuple[ReplayReport, ...]
    failing: tuple[ReplayReport, ...]
    worse: tuple[ReplayReport, ...]
    drifted: tuple[ReplayReport, ...]

    @classmethod
    def build(cls, *, duration: int, text: str) -> Pools:
        passing = tuple(_report(i, failing=0, duration=duration, text=text) for i in range(POOL))
        return cls(
            passing=passing,
            failing=tuple(_report(i, failing=1, duration=duration, text=text) for i in range(POOL)),
            worse=tuple(_report(i, failing=2, duration=duration, text=text) for i in range(POOL)),
            drifted=tuple(attrs.evolve(r, inference_count=r.inference_count + 1) for r in passing),
        )


def build_runs(n: int) -> tuple[list[EvalRunItem], list[EvalRunItem]]:
    """Baseline and new items, ``n`` each (before missing/added items), in run order."""
    # Different wall-clock durations and distinct (equal) strings on each side.
    base_pools = Pools.build(duration=40, text="The order has shipped.")
    new_pools = Pools.build(duration=55, text="The order has shipped.")
    cells = tuple(MatrixCell(model) for model in MODELS)
    per_fixture = len(MODELS) * SAMPLES
    baseline: list[EvalRunItem] = []
    new: list[EvalRunItem] = []
    for index in range(n):
        fixture_index, rest = divmod(index, per_fixture)
        model, sample = divmod(rest, SAMPLES)
        fixture_id = f"fx_{fixture_index:07d}"
        slot = index % POOL
        bucket = (index * 7919) % 1000  # spread the differences over the run
        old_report = base_pools.passing[slot]
        new_report = new_pools.passing[slot]
        if bucket < 20:  # 2 % regressions
            new_report = new_pools.failing[slot]
        elif bucket < 40:  # 2 % fixed
            old_report = base_pools.failing[slot]
        elif bucket < 55:  # 1.5 % still failing, same failures
            old_report = base_pools.failing[slot]
            new_report = new_pools.failing[slot]
        elif bucket < 70:  # 1.5 % still failing, worsened
            old_report = base_pools.failing[slot]
            new_report = new_pools.worse[slot]
        elif bucket < 80:  # 1 % structural drift
            new_report = new_pools.drifted[slot]
        cell = cells[model]
        if bucket != 990:  # 0.1 % missing from new
            baseline.append(
                EvalRunItem(fixture_id, cell=cell, report=old_report, sample_index=sample)
            )
        if bucket == 995:  # 0.1 % newly added (an extra sample)
            new.append(
                EvalRunItem(fixture_id, cell=cell, report=new_report, sample_index=sample + 9)
            )
        elif bucket != 998:  # 0.1 % missing from new
            new.append(EvalRunItem(fixture_id, cell=cell, report=new_report, sample_index=sample))
    return baseline, new


# -- the floor: same pairing and comparisons over plain dicts and tuples ----------------


def _plain_report(report: ReplayReport) -> dict[str, Any]:
    return {
        "passed": report.passed,
        "failures": [{"kind": failure.kind} for failure in report.failures],
        "final_text": report.final_text,
        "inference_count": report.inference_count,
        "tool_count": report.tool_count,
        "tool_failures": report.tool_failures,
        "error_type": report.error_type,
        "inference_error_count": report.inference_error_count,
        "runtime_failure": report.runtime_failure,
        "tool_calls_by_agent": [
            {
                "agent_id": s.agent_id,
                "tool": s.tool,
                "call_count": s.call_count,
                "failure_count": s.failure_count,
                "total_duration_ms": s.total_duration_ms,
            }
            for s in report.tool_calls_by_agent
        ],
        "revision_count": report.revision_count,
    }


def plain_items(items: list[EvalRunItem]) -> list[dict[str, Any]]:
    """The items as plain dicts (reports converted once per pooled object)."""
    converted: dict[int, dict[str, Any]] = {}
    out = []
    for item in items:
        report = converted.get(id(item.report))
        if report is None:
            report = converted[id(item.report)] = _plain_report(item.report)
        cell = None if item.cell is None else {"model_id": item.cell.model_id}
        out.append(
            {
                "fixture_id": item.fixture_id,
                "cell": cell,
                "sample_index": item.sample_index,
                "report": report,
            }
        )
    return out


def _plain_key(item: dict[str, Any]) -> tuple[str, str, int]:
    cell = item["cell"]
    model = None if cell is None else cell["model_id"]
    index = item["sample_index"]
    return (
        item["fixture_id"],
        "" if model is None else "\x00" + model,
        -1 if index is None else index,
    )


def _tools(report: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [
        (s["agent_id"], s["tool"], s["call_count"], s["failure_count"])
        for s in report["tool_calls_by_agent"]
    ]


def _structure(report: dict[str, Any]) -> tuple[Any, ...]:
    return (
        report["inference_count"],
        report["tool_count"],
        report["tool_failures"],
        report["error_type"],
        report["inference_error_count"],
        report["runtime_failure"],
        report["revision_count"],
    )


def floor(baseline: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The minimal item-keyed diff over plain dicts (live fields)."""
    old_by_key = {_plain_key(item): item["report"] for item in baseline}
    new_by_key = {_plain_key(item): item["report"] for item in new}
    keys = list(old_by_key)
    keys.extend(filterfalse(old_by_key.__contains__, new_by_key))
    keys.sort()
    out: list[tuple[Any, ...]] = []
    append = out.append
    for key in keys:
        old = old_by_key.get(key)
        now = new_by_key.get(key)
        if old is None:
            append(("newly_added", key, now["passed"]))  # type: ignore[index]
        elif now is None:
            append(("missing_from_new", key))
        elif old["passed"]:
            if not now["passed"]:
                append(("regression", key, [f["kind"] for f in now["failures"]]))
            elif _structure(old) != _structure(now) or _tools(old) != _tools(now):
                append(("drift", key))
            else:
                append(("unchanged", key))
        elif now["passed"]:
            append(("fixed", key))
        else:
            kinds = [f["kind"] for f in now["failures"]]
            before = [f["kind"] for f in old["failures"]]
            added = list((Counter(kinds) - Counter(before)).elements())
            removed = list((Counter(before) - Counter(kinds)).elements())
            append(("still_failing", key, kinds, added, removed, bool(added)))
    return out


def best_of(repeat: int, action: Callable[[], object]) -> tuple[float, float]:
    """Best wall-clock and best process CPU time of ``repeat`` runs of ``action``.

    The result of each run is dropped outside the timed region.
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        result = action()
        wall = min(wall, time.perf_counter() - start_wall)
        cpu = min(cpu, time.process_time() - start_cpu)
        del result
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the timings, the ratio and PASS/MISS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=TARGET_N, help="items per side")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    n: int = max(1, args.n)
    repeat: int = max(1, args.repeat)

    baseline, new = build_runs(n)
    plain_baseline, plain_new = plain_items(baseline), plain_items(new)
    summary = diff_eval_items(baseline, new)
    plain = floor(plain_baseline, plain_new)
    assert [entry.kind for entry in summary.entries] == [row[0] for row in plain]
    gc.collect()

    def floor_paused() -> object:
        gc.disable()
        try:
            return floor(plain_baseline, plain_new)
        finally:
            gc.enable()

    ours = best_of(repeat, lambda: diff_eval_items(baseline, new))
    floor_seconds = best_of(repeat, lambda: floor(plain_baseline, plain_new))
    floor_paused_seconds = best_of(repeat, floor_paused)

    kinds = Counter(entry.kind for entry in summary.entries)
    entries = max(len(summary.entries), 1)
    print(
        f"diff_eval_items: {len(baseline)} vs {len(new)} items "
        f"({len(MODELS)} models x {SAMPLES} samples), {len(summary.entries)} entries, "
        f"live fields {len(LIVE_DRIFT_FIELDS)}; best of {repeat}; Python {sys.version.split()[0]}"
    )
    print("  entries: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    print(f"  {'':<18} {'wall':>9} {'cpu':>9} {'cpu µs/entry':>13}")
    for name, (wall, cpu) in (
        ("ours", ours),
        ("floor", floor_seconds),
        ("floor, gc paused", floor_paused_seconds),
    ):
        print(f"  {name:<18} {wall:7.3f} s {cpu:7.3f} s {cpu * 1e6 / entries:13.2f}")
    print(
        f"  ratio ours/floor   {ours[0] / floor_seconds[0]:7.2f}   {ours[1] / floor_seconds[1]:7.2f}"
        f"   (against the gc-paused floor: cpu {ours[1] / floor_paused_seconds[1]:.2f})"
    )
    # CPU time is the work done; wall time also counts waiting for a shared core.
    scaled = ours[1] * TARGET_N / n
    verdict = "PASS" if scaled <= TARGET_SECONDS else "MISS"
    note = "" if n == TARGET_N else f" (scaled linearly from n={n}: {scaled:.2f} s)"
    print(
        f"  target <= {TARGET_SECONDS:.0f} s cpu for {TARGET_N:,} vs {TARGET_N:,}: {verdict}{note}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
