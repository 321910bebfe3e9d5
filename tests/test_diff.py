"""Diff against a baseline: spec §2.4, §2.5, §4.8, §7.8 and the improvements of §8.1
(items 8, 9, 10 and 17): wall-clock values never drift, configurable drift fields,
the still-failing delta, duplicate keys always a 400.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    EvalRunExecutionMode,
    EvalRunItem,
    InvalidInput,
    ItemKey,
    MatrixCell,
    ReplayReport,
    diff_runs,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import (
    DRIFT_FIELDS,
    LIVE_DRIFT_FIELDS,
    DiffEntry,
    DiffSummary,
    Drift,
    DriftPolicy,
    Fixed,
    MissingFromNew,
    NewlyAdded,
    Regression,
    StillFailing,
    Unchanged,
    diff_against_baseline,
    diff_against_baseline_checked,
    diff_eval_items,
    diff_eval_items_checked,
)
from awaken_eval.errors import DuplicateItemKeys
from awaken_eval.failures import (
    AnswerMissingPhrase,
    DurationExceeded,
    ForbiddenToolUsed,
    ScriptExhausted,
    TokenBudgetExceeded,
)
from awaken_eval.records import AgentToolStats
from builders import item, report, run

# -- builders ----------------------------------------------------------------------------


SEARCHED = (
    AgentToolStats(agent_id="", tool="search", call_count=1, failure_count=0, total_duration_ms=30),
)
MISSING = AnswerMissingPhrase("shipped")
FORBIDDEN = ForbiddenToolUsed("send_email")
BUDGET = TokenBudgetExceeded(budget=100, actual=120)
SLOW = DurationExceeded(budget_ms=10, actual_ms=450)


def read_json(cls: Any, text: str) -> Any:
    # serde.from_json is typed ``(type[T] | Any, ...) -> T``, which mypy solves as Never
    # for a class argument; going through Any keeps the asserts reachable.
    return from_json(cls, text)


def only(summary: DiffSummary) -> DiffEntry:
    assert len(summary.entries) == 1
    return summary.entries[0]


def wire(entry: DiffEntry) -> dict[str, Any]:
    data: dict[str, Any] = to_builtins(entry)
    return data


# -- classification (§2.4, §7.8) ---------------------------------------------------------


def test_diff_unchanged_when_both_pass() -> None:
    summary = diff_against_baseline([report(fixture_id="a")], [report(fixture_id="a")])

    assert summary == DiffSummary((Unchanged(fixture_id="a"),))
    assert summary.is_clean


def test_diff_regression_when_baseline_passed_new_failed_lists_new_failure_kinds() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a")], [report(fixture_id="a", failures=(MISSING, FORBIDDEN, MISSING))]
    )

    expected = Regression(
        fixture_id="a",
        new_failures=("answer_missing_phrase", "forbidden_tool_used", "answer_missing_phrase"),
    )
    assert only(summary) == expected
    assert not summary.is_clean
    assert summary.regressions() == 1


def test_diff_fixed_when_baseline_failed_new_passed() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING,))], [report(fixture_id="a")]
    )

    assert only(summary) == Fixed(fixture_id="a")
    assert summary.is_clean


def test_diff_still_failing_with_the_same_failures_does_not_block_ci() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING,))], [report(fixture_id="a", failures=(MISSING,))]
    )

    assert only(summary) == StillFailing(fixture_id="a", new_failures=("answer_missing_phrase",))
    assert summary.is_clean


def test_diff_missing_blocks_ci() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a"), report(fixture_id="b")], [report(fixture_id="a")]
    )

    assert summary.entries[1] == MissingFromNew(fixture_id="b")
    assert not summary.is_clean
    assert summary.missing() == 1


def test_diff_newly_added_passing_does_not_block_ci() -> None:
    summary = diff_against_baseline([], [report(fixture_id="a")])

    assert only(summary) == NewlyAdded(fixture_id="a", passed=True)
    assert summary.is_clean
    assert summary.added() == 1


def test_diff_newly_added_failing_blocks_check() -> None:
    summary = diff_against_baseline([], [report(fixture_id="a", failures=(MISSING,))])

    assert only(summary) == NewlyAdded(fixture_id="a", passed=False)
    assert not summary.is_clean


def test_diff_entries_sorted_by_id() -> None:
    reports = [report(fixture_id=fixture_id) for fixture_id in ("c", "a", "é", "B", "b")]

    summary = diff_against_baseline(reports[:3], reports[2:])

    assert [entry.fixture_id for entry in summary.entries] == ["B", "a", "b", "c", "é"]
    assert all(entry.cell is None and entry.sample_index is None for entry in summary.entries)


def test_diff_entry_is_blocking_for_regression_missing_and_drift() -> None:
    baseline = [
        report(fixture_id="drift"),
        report(fixture_id="fixed", failures=(MISSING,)),
        report(fixture_id="missing"),
        report(fixture_id="regr"),
    ]
    baseline += [report(fixture_id="same"), report(fixture_id="still", failures=(MISSING,))]
    new = [
        report(fixture_id="added"),
        report(fixture_id="drift", final_text="other"),
        report(fixture_id="fixed"),
    ]
    new += [
        report(fixture_id="regr", failures=(MISSING,)),
        report(fixture_id="same"),
        report(fixture_id="still", failures=(MISSING,)),
    ]

    summary = diff_against_baseline(baseline, new)

    blocking = {entry.fixture_id: entry.blocking for entry in summary.entries}
    assert blocking == {
        "added": False,
        "drift": True,
        "fixed": False,
        "missing": True,
        "regr": True,
        "same": False,
        "still": False,
    }
    assert summary.blocking() == tuple(entry for entry in summary.entries if entry.blocking)
    assert (summary.regressions(), summary.missing(), summary.added(), summary.drift()) == (
        1,
        1,
        1,
        1,
    )


def test_diff_uses_the_passed_flags_not_the_failure_lists() -> None:
    flagged_failed = attrs.evolve(report(fixture_id="a"), passed=False)

    summary = diff_against_baseline([report(fixture_id="a")], [flagged_failed])

    assert only(summary) == Regression(fixture_id="a", new_failures=())


def test_diff_later_duplicate_report_overwrites_earlier() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING,)), report(fixture_id="a")],
        [report(fixture_id="a"), report(fixture_id="a", failures=(FORBIDDEN,))],
    )

    assert only(summary) == Regression(fixture_id="a", new_failures=("forbidden_tool_used",))


def test_diff_accepts_any_iterable() -> None:
    summary = diff_against_baseline(
        iter([report(fixture_id="a")]), (r for r in [report(fixture_id="b")])
    )

    assert summary == DiffSummary(
        (MissingFromNew(fixture_id="a"), NewlyAdded(fixture_id="b", passed=True))
    )


# -- drift (§2.4, §7.8) ------------------------------------------------------------------


def test_passing_pair_with_matching_metrics_is_unchanged() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", cost_usd=0.25)], [report(fixture_id="a", cost_usd=0.25)]
    )

    assert only(summary) == Unchanged(fixture_id="a")


def test_passing_pair_with_drifted_final_text_is_drift_and_blocks() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a")], [report(fixture_id="a", final_text="It shipped.")]
    )

    assert only(summary) == Drift(fixture_id="a", fields=("final_text",))
    assert not summary.is_clean
    assert summary.drift() == 1


def test_passing_pair_with_drifted_inference_count_is_drift() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a")], [report(fixture_id="a", inference_count=3)]
    )

    assert only(summary) == Drift(fixture_id="a", fields=("inference_count",))


def test_passing_pair_with_drifted_total_tokens_only_is_drift() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a")], [report(fixture_id="a", total_tokens=121)]
    )

    assert only(summary) == Drift(fixture_id="a", fields=("total_tokens",))


def test_passing_pair_lists_every_drifted_field_in_the_fixed_order() -> None:
    new = report(
        fixture_id="a", error_type="rate_limited", total_output_tokens=21, total_input_tokens=99
    )

    summary = diff_against_baseline([report(fixture_id="a")], [new])

    assert only(summary) == Drift(
        fixture_id="a", fields=("total_input_tokens", "total_output_tokens", "error_type")
    )


def test_passing_pair_with_drifted_cost_usd_is_drift() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", cost_usd=0.1)], [report(fixture_id="a", cost_usd=0.1001)]
    )

    assert only(summary) == Drift(fixture_id="a", fields=("cost_usd",))


def test_every_observable_can_drift_and_is_listed_in_the_spec_order() -> None:
    changed: dict[str, Any] = {
        "final_text": "x",
        "inference_count": 9,
        "tool_count": 9,
        "tool_failures": 9,
        "total_input_tokens": 9,
        "total_output_tokens": 9,
        "total_tokens": 9,
        "error_type": "timeout",
        "inference_error_count": 9,
        "runtime_failure": ScriptExhausted(extra_calls=1),
        "tool_calls_by_agent": (),
        "cost_usd": 9.0,
        "revision_count": 9,
        "judge_score": 0.5,
    }

    baseline = report(fixture_id="a", tool_calls_by_agent=SEARCHED)

    summary = diff_against_baseline([baseline], [report(fixture_id="a", **changed)])

    assert only(summary) == Drift(fixture_id="a", fields=DRIFT_FIELDS)
    assert tuple(changed) == DRIFT_FIELDS


def test_runtime_failure_is_compared_as_a_whole_record() -> None:
    baseline = report(fixture_id="a", runtime_failure=ScriptExhausted(extra_calls=1))

    same = diff_against_baseline(
        [baseline], [report(fixture_id="a", runtime_failure=ScriptExhausted(extra_calls=1))]
    )
    other = diff_against_baseline(
        [baseline], [report(fixture_id="a", runtime_failure=ScriptExhausted(extra_calls=2))]
    )

    assert only(same) == Unchanged(fixture_id="a")
    assert only(other) == Drift(fixture_id="a", fields=("runtime_failure",))


def test_wall_clock_and_judge_reasoning_are_never_compared() -> None:
    new = report(
        fixture_id="a", session_duration_ms=99_999, elapsed_ms=12_345, judge_reasoning="other"
    )

    summary = diff_against_baseline([report(fixture_id="a", judge_reasoning="good")], [new])

    assert only(summary) == Unchanged(fixture_id="a")


def _tools(*stats: tuple[str, str, int, int, int]) -> tuple[AgentToolStats, ...]:
    return tuple(
        AgentToolStats(
            agent_id=agent, tool=tool, call_count=calls, failure_count=failed, total_duration_ms=ms
        )
        for agent, tool, calls, failed, ms in stats
    )


def test_tool_duration_differences_never_drift() -> None:
    baseline = report(
        fixture_id="a",
        tool_calls_by_agent=_tools(("", "search", 2, 0, 31), ("p", "fetch", 1, 1, 7)),
    )
    new = report(
        fixture_id="a",
        tool_calls_by_agent=_tools(("", "search", 2, 0, 980), ("p", "fetch", 1, 1, 0)),
    )

    for policy in (DriftPolicy.scripted(), DriftPolicy.live()):
        assert only(diff_against_baseline([baseline], [new], policy=policy)) == Unchanged(
            fixture_id="a"
        )


@pytest.mark.parametrize(
    "stats",
    [
        _tools(("", "search", 3, 0, 31), ("p", "fetch", 1, 1, 7)),  # call count
        _tools(("", "search", 2, 1, 31), ("p", "fetch", 1, 1, 7)),  # failure count
        _tools(("", "search", 2, 0, 31), ("q", "fetch", 1, 1, 7)),  # agent
        _tools(("", "search", 2, 0, 31), ("p", "fetch2", 1, 1, 7)),  # tool
        _tools(("", "search", 2, 0, 31)),  # one pair fewer
    ],
)
def test_tool_statistics_other_than_duration_drift(stats: tuple[AgentToolStats, ...]) -> None:
    baseline = report(
        fixture_id="a",
        tool_calls_by_agent=_tools(("", "search", 2, 0, 31), ("p", "fetch", 1, 1, 7)),
    )

    summary = diff_against_baseline([baseline], [report(fixture_id="a", tool_calls_by_agent=stats)])

    assert only(summary) == Drift(fixture_id="a", fields=("tool_calls_by_agent",))


def test_floats_are_compared_by_exact_equality() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", judge_score=0.1 + 0.2)], [report(fixture_id="a", judge_score=0.3)]
    )

    assert only(summary) == Drift(fixture_id="a", fields=("judge_score",))


# -- drift policy (§8.1 item 9) ----------------------------------------------------------


def test_drift_policy_presets() -> None:
    assert DriftPolicy.scripted().fields == DRIFT_FIELDS
    assert DriftPolicy() == DriftPolicy.scripted()
    assert DriftPolicy.live().fields == LIVE_DRIFT_FIELDS
    assert LIVE_DRIFT_FIELDS == (
        "inference_count",
        "tool_count",
        "tool_failures",
        "error_type",
        "inference_error_count",
        "runtime_failure",
        "tool_calls_by_agent",
        "revision_count",
    )
    assert DriftPolicy.live().worsened_still_failing_blocks
    assert not DriftPolicy.live(worsened_still_failing_blocks=False).worsened_still_failing_blocks
    assert not DriftPolicy.scripted(
        worsened_still_failing_blocks=False
    ).worsened_still_failing_blocks


def test_drift_policy_keeps_fields_in_the_fixed_order_without_duplicates() -> None:
    policy = DriftPolicy(fields=["judge_score", "final_text", "judge_score", "tool_count"])

    assert policy.fields == ("final_text", "tool_count", "judge_score")
    assert policy.compares("final_text")
    assert not policy.compares("cost_usd")


def test_drift_policy_rejects_unknown_fields_naming_each() -> None:
    with pytest.raises(InvalidInput) as caught:
        DriftPolicy(fields=("final_text", "session_duration_ms", "elapsed_ms"))

    paths = [problem.path for problem in caught.value.problems]
    assert paths == ["$.fields[1]", "$.fields[2]"]
    message = str(caught.value)
    assert "unknown drift field 'session_duration_ms'" in message
    assert "unknown drift field 'elapsed_ms'" in message
    assert "final_text, inference_count" in message


def test_drift_policy_rejects_a_bare_string() -> None:
    with pytest.raises(InvalidInput, match="got the string 'final_text'"):
        DriftPolicy(fields="final_text")


def test_live_policy_ignores_final_text_tokens_cost_and_judge_score() -> None:
    new = report(
        fixture_id="a",
        final_text="Shipped!",
        total_input_tokens=1,
        total_output_tokens=2,
        total_tokens=3,
        cost_usd=1.0,
        judge_score=0.7,
    )

    summary = diff_against_baseline(
        [report(fixture_id="a", judge_score=0.9)], [new], policy=DriftPolicy.live()
    )

    assert only(summary) == Unchanged(fixture_id="a")


def test_live_policy_compares_structural_counts() -> None:
    new = report(fixture_id="a", final_text="Shipped!", inference_count=3, revision_count=1)

    summary = diff_against_baseline([report(fixture_id="a")], [new], policy=DriftPolicy.live())

    assert only(summary) == Drift(fixture_id="a", fields=("inference_count", "revision_count"))


def test_empty_policy_compares_pass_fail_only() -> None:
    new = report(fixture_id="a", final_text="x", inference_count=7, tool_calls_by_agent=())

    summary = diff_against_baseline([report(fixture_id="a")], [new], policy=DriftPolicy(fields=()))

    assert only(summary) == Unchanged(fixture_id="a")


def test_single_field_policy() -> None:
    policy = DriftPolicy(fields=("tool_calls_by_agent",))

    drifted = diff_against_baseline(
        [report(fixture_id="a", tool_calls_by_agent=SEARCHED)],
        [report(fixture_id="a", tool_calls_by_agent=())],
        policy=policy,
    )
    same = diff_against_baseline(
        [report(fixture_id="a")], [report(fixture_id="a", final_text="x")], policy=policy
    )

    assert only(drifted) == Drift(fixture_id="a", fields=("tool_calls_by_agent",))
    assert only(same) == Unchanged(fixture_id="a")


def test_item_diff_defaults_to_the_live_policy_when_an_item_has_a_cell() -> None:
    with_cells = diff_eval_items(
        [item(fixture_id="a", model="m")],
        [item(fixture_id="a", report=report(fixture_id="a", final_text="x"), model="m")],
    )
    default_cell = diff_eval_items(
        [item(fixture_id="a", cell=MatrixCell())],
        [item(fixture_id="a", report=report(fixture_id="a", final_text="x"))],
    )
    without_cells = diff_eval_items(
        [item(fixture_id="a")],
        [item(fixture_id="a", report=report(fixture_id="a", final_text="x"))],
    )

    assert only(with_cells) == Unchanged(fixture_id="a", cell=MatrixCell("m"))
    assert only(default_cell) == Unchanged(fixture_id="a")
    assert only(without_cells) == Drift(fixture_id="a", fields=("final_text",))


def test_explicit_policy_overrides_the_default() -> None:
    summary = diff_eval_items(
        [item(fixture_id="a", model="m")],
        [item(fixture_id="a", report=report(fixture_id="a", final_text="x"), model="m")],
        policy=DriftPolicy.scripted(),
    )

    assert only(summary) == Drift(fixture_id="a", cell=MatrixCell("m"), fields=("final_text",))


# -- still failing (§8.1 item 10) --------------------------------------------------------


def test_still_failing_carries_the_failure_delta_and_worsened_blocks_by_default() -> None:
    baseline = report(fixture_id="a", failures=(MISSING, FORBIDDEN, MISSING, SLOW))
    new = report(fixture_id="a", failures=(BUDGET, MISSING, BUDGET, FORBIDDEN, FORBIDDEN))

    summary = diff_against_baseline([baseline], [new])

    assert only(summary) == StillFailing(
        fixture_id="a",
        new_failures=(
            "token_budget_exceeded",
            "answer_missing_phrase",
            "token_budget_exceeded",
            "forbidden_tool_used",
            "forbidden_tool_used",
        ),
        failures_added=("token_budget_exceeded", "token_budget_exceeded", "forbidden_tool_used"),
        failures_removed=("answer_missing_phrase", "duration_exceeded"),
        worsened=True,
        blocks=True,
    )
    assert not summary.is_clean


def test_worsened_still_failing_does_not_block_when_the_policy_says_so() -> None:
    policy = DriftPolicy.scripted(worsened_still_failing_blocks=False)

    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING,))],
        [report(fixture_id="a", failures=(MISSING, BUDGET))],
        policy=policy,
    )

    assert only(summary) == StillFailing(
        fixture_id="a",
        new_failures=("answer_missing_phrase", "token_budget_exceeded"),
        failures_added=("token_budget_exceeded",),
        worsened=True,
        blocks=False,
    )
    assert summary.is_clean


def test_still_failing_with_failures_only_removed_is_not_worsened() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING, BUDGET))],
        [report(fixture_id="a", failures=(BUDGET,))],
    )

    assert only(summary) == StillFailing(
        fixture_id="a",
        new_failures=("token_budget_exceeded",),
        failures_removed=("answer_missing_phrase",),
    )
    assert summary.is_clean


def test_still_failing_with_reordered_failures_has_no_delta() -> None:
    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING, BUDGET))],
        [report(fixture_id="a", failures=(BUDGET, MISSING))],
    )

    assert only(summary) == StillFailing(
        fixture_id="a", new_failures=("token_budget_exceeded", "answer_missing_phrase")
    )


def test_still_failing_compares_kinds_not_failure_details() -> None:
    other_phrase = AnswerMissingPhrase("arrived")

    summary = diff_against_baseline(
        [report(fixture_id="a", failures=(MISSING,))],
        [report(fixture_id="a", failures=(other_phrase,))],
    )

    assert only(summary) == StillFailing(fixture_id="a", new_failures=("answer_missing_phrase",))


def test_still_failing_json_stays_readable_by_the_reference() -> None:
    plain = StillFailing(fixture_id="a", new_failures=("answer_missing_phrase",))
    worse = StillFailing(
        fixture_id="a",
        new_failures=("answer_missing_phrase",),
        failures_added=("answer_missing_phrase",),
        worsened=True,
        blocks=True,
    )

    assert json.loads(to_json(plain)) == {
        "kind": "still_failing",
        "fixture_id": "a",
        "new_failures": ["answer_missing_phrase"],
    }
    data = json.loads(to_json(worse))
    # The reference's keys come first and keep their meaning; the delta is additive.
    assert list(data)[:3] == ["kind", "fixture_id", "new_failures"]
    assert data["failures_added"] == ["answer_missing_phrase"]
    assert data["worsened"] is True
    assert data["blocks"] is True


def test_still_failing_against_a_baseline_flagged_failed_without_failures() -> None:
    flagged_failed = attrs.evolve(report(fixture_id="a"), passed=False)

    summary = diff_against_baseline(
        [flagged_failed], [report(fixture_id="a", failures=(BUDGET, MISSING, BUDGET))]
    )

    assert only(summary) == StillFailing(
        fixture_id="a",
        new_failures=("token_budget_exceeded", "answer_missing_phrase", "token_budget_exceeded"),
        failures_added=("token_budget_exceeded", "token_budget_exceeded", "answer_missing_phrase"),
        worsened=True,
        blocks=True,
    )


# -- serde (§7.8) ------------------------------------------------------------------------


def _every_kind() -> DiffSummary:
    baseline = [
        item(fixture_id="a"),
        item(fixture_id="b", failures=(MISSING,), model="m"),
        item(fixture_id="c", sample_index=1),
        item(
            fixture_id="d",
            failures=(MISSING,),
            model="m",
            sample_index=0,
        ),
        item(fixture_id="e", model="m2", sample_index=2),
        item(fixture_id="f", failures=(MISSING,)),
    ]
    new = [
        item(fixture_id="a"),
        item(fixture_id="b", model="m"),
        item(fixture_id="c", failures=(FORBIDDEN,), sample_index=1),
        item(
            fixture_id="d",
            failures=(MISSING, BUDGET),
            model="m",
            sample_index=0,
        ),
        item(
            fixture_id="e",
            report=report(fixture_id="e", final_text="other"),
            model="m2",
            sample_index=2,
        ),
        item(fixture_id="g", failures=(SLOW,), cell=MatrixCell()),
    ]
    return diff_eval_items(baseline, new, policy=DriftPolicy.scripted())


def test_diff_summary_serde_round_trip() -> None:
    summary = _every_kind()
    kinds = {entry.kind for entry in summary.entries}
    assert kinds == {
        "unchanged",
        "fixed",
        "regression",
        "still_failing",
        "drift",
        "missing_from_new",
        "newly_added",
    }

    text = to_json(summary)

    assert summary == read_json(DiffSummary, text)
    assert summary == read_json(DiffSummary, to_json(summary, pretty=True))
    assert json.loads(text)["entries"][0] == {"kind": "unchanged", "fixture_id": "a"}


def test_diff_entry_serde_round_trips_cell_field() -> None:
    entry = Regression(fixture_id="a", cell=MatrixCell("m"), sample_index=2, new_failures=("x",))

    data = json.loads(to_json(entry))

    assert data == {
        "kind": "regression",
        "fixture_id": "a",
        "cell": {"model_id": "m"},
        "sample_index": 2,
        "new_failures": ["x"],
    }
    assert entry == read_json(DiffEntry, to_json(entry))


def test_diff_entry_serde_omits_cell_when_none() -> None:
    entry = only(
        diff_eval_items(
            [item(fixture_id="a", cell=MatrixCell())], [item(fixture_id="a", model=None)]
        )
    )

    assert entry == Unchanged(fixture_id="a")
    assert wire(entry) == {"kind": "unchanged", "fixture_id": "a"}


# -- item-keyed diff (§2.5, §7.8) --------------------------------------------------------


def test_diff_eval_items_matches_diff_against_baseline_when_no_cells() -> None:
    baseline = [
        item(fixture_id="b", failures=(MISSING,)),
        item(fixture_id="a"),
        item(fixture_id="c"),
        item(fixture_id="d", failures=(SLOW,)),
    ]
    new = [
        item(fixture_id="d", failures=(SLOW, BUDGET)),
        item(fixture_id="a", report=report(fixture_id="a", tool_count=3)),
        item(fixture_id="b"),
        item(fixture_id="e"),
    ]

    by_items = diff_eval_items(baseline, new)
    by_reports = diff_against_baseline([i.report for i in baseline], [i.report for i in new])

    assert by_items == by_reports
    assert [entry.kind for entry in by_items.entries] == [
        "drift",
        "fixed",
        "missing_from_new",
        "still_failing",
        "newly_added",
    ]


def test_diff_eval_items_pairs_by_fixture_id_and_cell() -> None:
    baseline = [item(fixture_id="a", model="m1"), item(fixture_id="a", model="m2")]
    new = [
        item(fixture_id="a", failures=(MISSING,), model="m2"),
        item(fixture_id="a", model="m1"),
    ]

    summary = diff_eval_items(baseline, new)

    assert summary == DiffSummary(
        (
            Unchanged(fixture_id="a", cell=MatrixCell("m1")),
            Regression(
                fixture_id="a", cell=MatrixCell("m2"), new_failures=("answer_missing_phrase",)
            ),
        )
    )


def test_diff_eval_items_keys_by_sample_index_so_samples_dont_collide() -> None:
    baseline = [item(fixture_id="a", model="m", sample_index=i) for i in range(3)]
    new = [
        item(fixture_id="a", model="m", sample_index=0),
        item(
            fixture_id="a",
            failures=(MISSING,),
            model="m",
            sample_index=1,
        ),
        item(fixture_id="a", model="m", sample_index=2),
    ]

    summary = diff_eval_items(baseline, new)

    assert [entry.kind for entry in summary.entries] == ["unchanged", "regression", "unchanged"]
    assert [entry.sample_index for entry in summary.entries] == [0, 1, 2]


def test_diff_eval_items_different_samples_count_as_added_missing() -> None:
    baseline = [item(fixture_id="a", model="m")]
    new = [
        item(fixture_id="a", model="m", sample_index=0),
        item(fixture_id="a", model="m", sample_index=1),
    ]

    summary = diff_eval_items(baseline, new)

    cell = MatrixCell("m")
    assert summary == DiffSummary(
        (
            MissingFromNew(fixture_id="a", cell=cell),
            NewlyAdded(fixture_id="a", cell=cell, sample_index=0, passed=True),
            NewlyAdded(fixture_id="a", cell=cell, sample_index=1, passed=True),
        )
    )
    assert (summary.missing(), summary.added()) == (1, 2)


def test_diff_eval_items_different_models_count_as_added_missing() -> None:
    summary = diff_eval_items(
        [item(fixture_id="a", model="m1")], [item(fixture_id="a", model="m2")]
    )

    assert summary == DiffSummary(
        (
            MissingFromNew(fixture_id="a", cell=MatrixCell("m1")),
            NewlyAdded(fixture_id="a", cell=MatrixCell("m2"), passed=True),
        )
    )


def test_diff_eval_items_sorts_by_fixture_then_cell_then_sample() -> None:
    keys = [
        ("b", None, None),
        ("a", "z", 0),
        ("a", "", 1),
        ("a", None, 2),
        ("a", None, None),
        ("a", "m", None),
        ("a", "m", 10),
        ("a", "m", 9),
        ("a", None, 0),
    ]
    items = [item(fixture_id=f, model=m, sample_index=i) for f, m, i in keys]

    summary = diff_eval_items(items[:5], items[4:])

    assert [(e.fixture_id, e.cell, e.sample_index) for e in summary.entries] == [
        ("a", None, None),
        ("a", None, 0),
        ("a", None, 2),
        ("a", MatrixCell(""), 1),
        ("a", MatrixCell("m"), None),
        ("a", MatrixCell("m"), 9),
        ("a", MatrixCell("m"), 10),
        ("a", MatrixCell("z"), 0),
        ("b", None, None),
    ]


def test_diff_eval_items_absent_cell_and_cell_without_model_are_one_key() -> None:
    summary = diff_eval_items(
        [item(fixture_id="a", cell=MatrixCell(), sample_index=0)],
        [item(fixture_id="a", sample_index=0)],
    )

    assert only(summary) == Unchanged(fixture_id="a", sample_index=0)


def test_diff_eval_items_absent_sample_index_is_not_sample_zero() -> None:
    summary = diff_eval_items([item(fixture_id="a")], [item(fixture_id="a", sample_index=0)])

    assert summary == DiffSummary(
        (MissingFromNew(fixture_id="a"), NewlyAdded(fixture_id="a", sample_index=0, passed=True))
    )


def test_diff_eval_items_later_duplicate_overwrites_earlier() -> None:
    summary = diff_eval_items(
        [
            item(fixture_id="a", model="m"),
            item(
                fixture_id="a",
                failures=(MISSING,),
                cell=MatrixCell("m"),
            ),
        ],
        [item(fixture_id="a", model="m")],
    )

    assert only(summary) == Fixed(fixture_id="a", cell=MatrixCell("m"))


# -- duplicate keys (§2.7, §4.8, §8.1 item 17) -------------------------------------------


def test_checked_report_diff_rejects_duplicates_baseline_first() -> None:
    duplicated = [report(fixture_id="a"), report(fixture_id="b"), report(fixture_id="a")]

    with pytest.raises(DuplicateItemKeys) as in_both:
        diff_against_baseline_checked(duplicated, duplicated)
    with pytest.raises(DuplicateItemKeys) as in_new:
        diff_against_baseline_checked([report(fixture_id="a")], iter(duplicated))

    assert str(in_both.value) == "baseline: duplicate report fixture_id: a"
    assert str(in_new.value) == "new: duplicate report fixture_id: a"
    assert in_new.value.status == 400


def test_checked_report_diff_equals_the_plain_diff_without_duplicates() -> None:
    baseline, new = (
        [report(fixture_id="a"), report(fixture_id="b", failures=(MISSING,))],
        [report(fixture_id="b"), report(fixture_id="c")],
    )

    assert diff_against_baseline_checked(baseline, new) == diff_against_baseline(baseline, new)


def test_checked_item_diff_rejects_duplicates_baseline_first() -> None:
    duplicated = [
        item(fixture_id="a", model="m", sample_index=0),
        item(fixture_id="a", cell=MatrixCell("m"), sample_index=0),
    ]
    default_cells = [item(fixture_id="a", cell=MatrixCell()), item(fixture_id="a")]

    with pytest.raises(DuplicateItemKeys) as in_both:
        diff_eval_items_checked(duplicated, duplicated)
    with pytest.raises(DuplicateItemKeys) as in_new:
        diff_eval_items_checked([], default_cells)

    assert str(in_both.value) == (
        "baseline: duplicate eval-run item key: fixture 'a', model 'm', sample 0"
    )
    assert str(in_new.value) == (
        "new: duplicate eval-run item key: fixture 'a', default cell, no sample index"
    )
    assert in_both.value.status == 400


def test_checked_item_diff_equals_the_plain_diff_without_duplicates() -> None:
    summary = _every_kind()
    baseline = [
        item(fixture_id="a", model="m", sample_index=0),
        item(fixture_id="a", model="m", sample_index=1),
    ]
    new = [item(fixture_id="a", model="m", sample_index=1), item(fixture_id="b")]

    assert diff_eval_items_checked(baseline, iter(new)) == diff_eval_items(baseline, new)
    assert summary == _every_kind()


def test_diff_runs_rejects_duplicate_keys_in_the_current_run_first() -> None:
    live = EvalRunExecutionMode.LIVE
    duplicated = [item(fixture_id="a", model="m", sample_index=0)] * 2

    with pytest.raises(DuplicateItemKeys) as in_both:
        diff_runs(
            run(run_id="base", items=duplicated, mode=live),
            run(run_id="cur", items=duplicated, mode=live),
        )
    with pytest.raises(DuplicateItemKeys) as in_baseline:
        diff_runs(
            run(run_id="base", items=duplicated, mode=live),
            run(run_id="cur", items=duplicated[:1], mode=live),
        )

    assert str(in_both.value) == (
        "current run cur: duplicate eval-run item key: fixture 'a', model 'm', sample 0"
    )
    assert str(in_baseline.value).startswith("baseline run base: duplicate eval-run item key")
    assert in_baseline.value.status == 400


def test_diff_runs_rejects_duplicate_keys_on_the_report_path_with_a_400() -> None:
    twice = [item(fixture_id="a"), item(fixture_id="a")]
    # Distinct item keys whose reports share a fixture id: only the report path sees it.
    renamed = [item(fixture_id="a"), EvalRunItem("b", report=report(fixture_id="a"))]

    with pytest.raises(DuplicateItemKeys) as scripted_items:
        diff_runs(run(run_id="base", items=[]), run(run_id="cur", items=twice))
    with pytest.raises(DuplicateItemKeys) as current_reports:
        diff_runs(run(run_id="base", items=renamed), run(run_id="cur", items=renamed))
    with pytest.raises(DuplicateItemKeys) as baseline_reports:
        diff_runs(
            run(run_id="base", items=renamed), run(run_id="cur", items=[item(fixture_id="a")])
        )

    assert str(scripted_items.value) == (
        "current run cur: duplicate eval-run item key: fixture 'a', default cell, no sample index"
    )
    assert str(current_reports.value) == "current run cur: duplicate report fixture_id: a"
    assert str(baseline_reports.value) == "baseline run base: duplicate report fixture_id: a"
    assert baseline_reports.value.status == 400


def test_diff_runs_of_scripted_runs_diffs_reports() -> None:
    baseline = run(
        run_id="base",
        items=[
            item(fixture_id="a"),
            item(fixture_id="b", failures=(MISSING,)),
        ],
    )
    current = run(
        run_id="cur",
        items=[
            item(fixture_id="b"),
            item(fixture_id="a", report=report(fixture_id="a", final_text="changed")),
        ],
    )

    summary = diff_runs(baseline, current)

    assert summary == DiffSummary(
        (Drift(fixture_id="a", fields=("final_text",)), Fixed(fixture_id="b"))
    )
    assert summary == diff_against_baseline(
        [i.report for i in baseline.items], [i.report for i in current.items]
    )


def test_diff_runs_diffs_items_when_either_side_has_a_sample_index() -> None:
    baseline = run(
        run_id="base",
        items=[item(fixture_id="a", sample_index=0), item(fixture_id="a", sample_index=1)],
    )
    current = run(run_id="cur", items=[item(fixture_id="a")])

    summary = diff_runs(baseline, current)

    assert summary == DiffSummary(
        (
            NewlyAdded(fixture_id="a", passed=True),
            MissingFromNew(fixture_id="a", sample_index=0),
            MissingFromNew(fixture_id="a", sample_index=1),
        )
    )


def test_diff_runs_of_live_runs_uses_the_live_policy_by_default() -> None:
    live = EvalRunExecutionMode.LIVE
    baseline = run(
        run_id="base", items=[item(fixture_id="a", model="m", sample_index=0)], mode=live
    )
    current = run(
        run_id="cur",
        items=[
            item(
                fixture_id="a",
                report=report(fixture_id="a", final_text="other"),
                model="m",
                sample_index=0,
            )
        ],
        mode=live,
    )

    assert only(diff_runs(baseline, current)) == Unchanged(
        fixture_id="a", cell=MatrixCell("m"), sample_index=0
    )
    assert only(diff_runs(baseline, current, policy=DriftPolicy.scripted())) == Drift(
        fixture_id="a", cell=MatrixCell("m"), sample_index=0, fields=("final_text",)
    )


def test_diff_runs_of_empty_runs_is_empty() -> None:
    assert diff_runs(run(run_id="base", items=[]), run(run_id="cur", items=[])) == DiffSummary(())


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_state_is_restored(enabled: bool) -> None:
    was_enabled = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        diff_eval_items([item(fixture_id="a")], [item(fixture_id="a")])
        assert gc.isenabled() == enabled
        with pytest.raises(DuplicateItemKeys):
            diff_eval_items_checked([item(fixture_id="a"), item(fixture_id="a")], [])
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was_enabled else gc.disable()


# -- properties ----------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)
POLICIES = st.sampled_from(
    (
        DriftPolicy.scripted(),
        DriftPolicy.live(),
        DriftPolicy.scripted(worsened_still_failing_blocks=False),
        DriftPolicy(fields=()),
    )
)


def _item_lists(*, max_size: int = 6) -> st.SearchStrategy[list[EvalRunItem]]:
    return st.lists(s.eval_run_items(), max_size=max_size, unique_by=lambda i: i.key)


def _wall_clock_only(the_report: ReplayReport) -> ReplayReport:
    """The same report with every value drift must ignore changed."""
    return attrs.evolve(
        the_report,
        session_duration_ms=the_report.session_duration_ms // 2 + 1,
        elapsed_ms=7,
        judge_reasoning="changed",
        tool_calls_by_agent=tuple(
            attrs.evolve(stats, total_duration_ms=stats.total_duration_ms // 3 + 5)
            for stats in the_report.tool_calls_by_agent
        ),
    )


@st.composite
def _related(draw: st.DrawFn) -> tuple[list[EvalRunItem], list[EvalRunItem]]:
    """A baseline and a new run sharing many keys, with every kind of change."""
    baseline = draw(_item_lists())
    new: list[EvalRunItem] = []
    for base in baseline:
        change = draw(
            st.sampled_from(("same", "wall_clock", "drift", "fail", "pass", "redraw", "drop"))
        )
        the_report = base.report
        if change == "drop":
            continue
        if change == "wall_clock":
            the_report = _wall_clock_only(the_report)
        elif change == "drift":
            field = draw(
                st.sampled_from(("final_text", "inference_count", "judge_score", "cost_usd"))
            )
            value: dict[str, Any] = {
                "final_text": "changed",
                "inference_count": 7,
                "judge_score": 0.25,
                "cost_usd": 2.5,
            }
            the_report = attrs.evolve(the_report, **{field: value[field]})
        elif change == "fail":
            failures = tuple(draw(st.lists(s.failures(), min_size=1, max_size=3)))
            the_report = attrs.evolve(the_report, passed=False, failures=failures)
        elif change == "pass":
            the_report = attrs.evolve(the_report, passed=True, failures=())
        elif change == "redraw":
            the_report = draw(s.replay_reports(fixture_id=st.just(base.fixture_id)))
        new.append(attrs.evolve(base, report=the_report))
    extra = draw(_item_lists(max_size=3))
    keys = {i.key for i in new}
    new.extend(i for i in extra if i.key not in keys)
    return baseline, draw(st.permutations(new))


def _entry_key(entry: DiffEntry) -> ItemKey:
    return ItemKey(
        entry.fixture_id, None if entry.cell is None else entry.cell.model_id, entry.sample_index
    )


MIRROR = {
    "unchanged": "unchanged",
    "drift": "drift",
    "regression": "fixed",
    "fixed": "regression",
    "still_failing": "still_failing",
    "missing_from_new": "newly_added",
    "newly_added": "missing_from_new",
}


@PROPERTY_SETTINGS
@given(_item_lists(), POLICIES)
def test_property_diff_of_a_run_with_itself_is_unchanged(
    items: list[EvalRunItem], policy: DriftPolicy
) -> None:
    copies = [attrs.evolve(i, report=_wall_clock_only(i.report)) for i in items]

    def cell(i: EvalRunItem) -> MatrixCell | None:
        return None if i.cell is None or i.cell.model_id is None else i.cell

    expected = [
        Unchanged(fixture_id=i.fixture_id, cell=cell(i), sample_index=i.sample_index)
        if i.report.passed
        else StillFailing(
            fixture_id=i.fixture_id,
            cell=cell(i),
            sample_index=i.sample_index,
            new_failures=tuple(f.kind for f in i.report.failures),
        )
        for i in sorted(items, key=lambda i: i.key.sort_key())
    ]
    for new in (items, copies):
        summary = diff_eval_items(items, new, policy=policy)
        assert list(summary.entries) == expected
        assert summary.is_clean


@PROPERTY_SETTINGS
@given(_related(), POLICIES)
def test_property_diff_mirrors_the_reverse_diff(
    runs: tuple[list[EvalRunItem], list[EvalRunItem]], policy: DriftPolicy
) -> None:
    baseline, new = runs

    forward = diff_eval_items(baseline, new, policy=policy).entries
    backward = diff_eval_items(new, baseline, policy=policy).entries

    assert [_entry_key(e) for e in forward] == [_entry_key(e) for e in backward]
    for ahead, behind in zip(forward, backward, strict=True):
        assert ahead.cell == behind.cell
        assert MIRROR[ahead.kind] == behind.kind
        if isinstance(ahead, Drift):
            assert isinstance(behind, Drift)
            assert ahead.fields == behind.fields
        elif isinstance(ahead, StillFailing):
            assert isinstance(behind, StillFailing)
            assert Counter(ahead.failures_added) == Counter(behind.failures_removed)
            assert Counter(ahead.failures_removed) == Counter(behind.failures_added)
            assert behind.worsened == bool(ahead.failures_removed)
            assert behind.blocks == (behind.worsened and policy.worsened_still_failing_blocks)


@PROPERTY_SETTINGS
@given(_related(), POLICIES)
def test_property_entries_are_sorted_and_cover_every_key_once(
    runs: tuple[list[EvalRunItem], list[EvalRunItem]], policy: DriftPolicy
) -> None:
    baseline, new = runs
    reports_before = {i.key: i.report for i in baseline}
    reports_after = {i.key: i.report for i in new}

    summary = diff_eval_items(baseline, new, policy=policy)

    keys = [_entry_key(entry) for entry in summary.entries]
    assert keys == sorted(reports_before.keys() | reports_after.keys(), key=ItemKey.sort_key)
    for key, entry in zip(keys, summary.entries, strict=True):
        assert entry.cell is None or entry.cell.model_id is not None
        before, after = reports_before.get(key), reports_after.get(key)
        if isinstance(entry, StillFailing):
            assert entry.worsened == bool(entry.failures_added)
            assert entry.blocks == (entry.worsened and policy.worsened_still_failing_blocks)
            assert after is not None
            assert entry.new_failures == tuple(f.kind for f in after.failures)
        if isinstance(entry, Drift):
            assert entry.fields
            assert set(entry.fields) <= set(policy.fields)
        if isinstance(entry, NewlyAdded):
            assert before is None
            assert after is not None
            assert entry.passed == after.passed


@PROPERTY_SETTINGS
@given(_related())
def test_property_item_and_report_diffs_agree_without_cells(
    runs: tuple[list[EvalRunItem], list[EvalRunItem]],
) -> None:
    def plain(items: list[EvalRunItem]) -> list[EvalRunItem]:
        return [attrs.evolve(i, cell=None, sample_index=None) for i in items]

    baseline, new = plain(runs[0]), plain(runs[1])

    assert diff_eval_items(baseline, new) == diff_against_baseline(
        [i.report for i in baseline], [i.report for i in new]
    )


@PROPERTY_SETTINGS
@given(_related(), st.data())
def test_property_duplicates_behave_as_the_last_occurrence(
    runs: tuple[list[EvalRunItem], list[EvalRunItem]], data: st.DataObject
) -> None:
    baseline, new = runs
    earlier = data.draw(st.lists(st.sampled_from(baseline), max_size=3)) if baseline else []
    shadowed = [attrs.evolve(i, report=data.draw(s.replay_reports())) for i in earlier]

    assert diff_eval_items(shadowed + baseline, new) == diff_eval_items(baseline, new)
    if shadowed:
        with pytest.raises(DuplicateItemKeys, match=r"^baseline: duplicate eval-run item key"):
            diff_eval_items_checked(shadowed + baseline, new)


@PROPERTY_SETTINGS
@given(s.diff_summaries())
def test_property_diff_summaries_round_trip(summary: DiffSummary) -> None:
    assert summary == read_json(DiffSummary, to_json(summary))
