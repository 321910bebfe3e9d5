"""Variance-aware diff of sampled runs: Fisher's exact test and the group classification."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awaken_eval import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    InvalidRequest,
    MatrixCell,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import (
    GroupPassRate,
    SampledDiffEntry,
    SampledDiffSummary,
    SampledFlaky,
    SampledImproved,
    SampledMissingFromNew,
    SampledNewlyAdded,
    SampledRegression,
    SampledUnchanged,
    diff_sampled,
    fisher_one_sided,
    wilson_interval,
)
from awaken_eval.failures import ReplayRuntimeError
from awaken_eval.records import ErrorPolicy
from builders import item, report, run

# -- helpers -------------------------------------------------------------------------------


PASS = report(passed=True)
FAIL = report(passed=False)
ERRORED = report(passed=False, runtime_failure=ReplayRuntimeError("timeout"))


def _group(
    fixture_id: str, passed: int, failed: int, *, model: str | None = None, errored: int = 0
) -> list[EvalRunItem]:
    reports = [PASS] * passed + [FAIL] * failed + [ERRORED] * errored
    return [
        item(fixture_id=fixture_id, report=one, live=True, model=model, sample_index=index)
        for index, one in enumerate(reports)
    ]


def _run(*groups: list[EvalRunItem]) -> EvalRun:
    """A live run of the sample groups."""
    return run(mode=EvalRunExecutionMode.LIVE, items=itertools.chain.from_iterable(groups))


def _only(summary: SampledDiffSummary) -> SampledDiffEntry:
    (entry,) = summary.entries
    return entry


@st.composite
def _sampled_runs(draw: st.DrawFn) -> EvalRun:
    groups = []
    for fixture_id, model in itertools.product(("a", "b"), (None, "m")):
        if draw(st.booleans()):
            groups.append(
                _group(
                    fixture_id,
                    draw(st.integers(0, 8)),
                    draw(st.integers(0, 8)),
                    model=model,
                    errored=draw(st.integers(0, 2)),
                )
            )
    return _run(*groups)


# -- Fisher's exact test -------------------------------------------------------------------------


def _brute_force_tails(total: int, passes: int) -> dict[tuple[int, int], tuple[Fraction, Fraction]]:
    """Every placement of ``passes`` among ``total`` labelled samples, enumerated.

    The last ``new_samples`` positions are the new run. Returns, per
    ``(new_samples, new_passed)``, the exact probabilities of at most / at least that
    many passes landing in the new run.
    """
    tallies: dict[int, Counter[int]] = {n2: Counter() for n2 in range(total + 1)}
    placements = 0
    for chosen in itertools.combinations(range(total), passes):
        placements += 1
        for n2 in range(total + 1):
            tallies[n2][sum(1 for position in chosen if position >= total - n2)] += 1
    tails = {}
    for n2, tally in tallies.items():
        for x in range(min(passes, n2) + 1):
            at_most = sum(count for value, count in tally.items() if value <= x)
            at_least = sum(count for value, count in tally.items() if value >= x)
            tails[n2, x] = (Fraction(at_most, placements), Fraction(at_least, placements))
    return tails


def test_fisher_p_values_match_brute_force_enumeration_up_to_twelve_samples() -> None:
    checked = 0
    for total in range(13):
        for passes in range(total + 1):
            tails = _brute_force_tails(total, passes)
            for n2 in range(total + 1):
                n1 = total - n2
                for c2 in range(max(0, passes - n1), min(passes, n2) + 1):
                    p_drop, p_rise = tails[n2, c2]
                    # Both sides are correctly rounded, so they agree exactly.
                    assert (float(p_drop), float(p_rise)) == fisher_one_sided(
                        passes - c2, n1, c2, n2
                    )
                    checked += 1
    assert checked > 1000


def test_fisher_known_value_ten_of_ten_to_five_of_ten() -> None:
    result = fisher_one_sided(10, 10, 5, 10)

    assert 3003 / 184756 == result.p_drop
    assert 1.0 == result.p_rise


@given(st.integers(0, 40), st.integers(0, 40), st.data())
def test_fisher_tails_overlap_in_exactly_the_observed_table(
    n1: int, n2: int, data: st.DataObject
) -> None:
    c1 = data.draw(st.integers(0, n1))
    c2 = data.draw(st.integers(0, n2))
    total, passes = n1 + n2, c1 + c2
    point = Fraction(math.comb(passes, c2) * math.comb(total - passes, n2 - c2)) / math.comb(
        total, n2
    )

    p_drop, p_rise = fisher_one_sided(c1, n1, c2, n2)

    assert 1 + float(point) == pytest.approx(p_drop + p_rise, abs=1e-12)


@given(st.integers(0, 30), st.integers(0, 30), st.data())
def test_swapping_the_sides_swaps_the_tails(n1: int, n2: int, data: st.DataObject) -> None:
    c1 = data.draw(st.integers(0, n1))
    c2 = data.draw(st.integers(0, n2))

    forward = fisher_one_sided(c1, n1, c2, n2)
    backward = fisher_one_sided(c2, n2, c1, n1)

    assert (forward.p_drop, forward.p_rise) == (backward.p_rise, backward.p_drop)


def test_fisher_rejects_impossible_counts() -> None:
    with pytest.raises(InvalidRequest, match=r"fisher test \(new\): need 0 <= c <= n"):
        fisher_one_sided(1, 2, 5, 4)


# -- classification ------------------------------------------------------------------------------


def test_a_significant_drop_is_a_regression() -> None:
    summary = diff_sampled(_run(_group("f", 10, 0)), _run(_group("f", 5, 5)))

    entry = _only(summary)
    assert isinstance(entry, SampledRegression)
    assert 3003 / 184756 == entry.p_value
    assert (1, 0, False) == (summary.regressions(), summary.improved(), summary.is_clean)
    assert (entry,) == summary.blocking()


def test_a_significant_rise_is_an_improvement() -> None:
    summary = diff_sampled(_run(_group("f", 5, 5)), _run(_group("f", 10, 0)))

    entry = _only(summary)
    assert isinstance(entry, SampledImproved)
    assert 3003 / 184756 == entry.p_value
    assert (0, 1, True) == (summary.regressions(), summary.improved(), summary.is_clean)


def test_an_insignificant_change_of_a_mixed_group_is_flaky() -> None:
    summary = diff_sampled(_run(_group("f", 6, 4)), _run(_group("f", 4, 6)))

    entry = _only(summary)
    assert isinstance(entry, SampledFlaky)
    assert fisher_one_sided(6, 10, 4, 10).p_drop == entry.p_value
    assert entry.p_value >= 0.05
    assert (1, True) == (summary.flaky(), summary.is_clean)


def test_identical_mixed_groups_are_flaky_not_unchanged() -> None:
    entry = _only(diff_sampled(_run(_group("f", 3, 2)), _run(_group("f", 3, 2))))

    assert isinstance(entry, SampledFlaky)


@pytest.mark.parametrize(("passed", "failed"), [(5, 0), (0, 5)])
def test_all_pass_or_all_fail_on_both_sides_is_unchanged(passed: int, failed: int) -> None:
    summary = diff_sampled(_run(_group("f", passed, failed)), _run(_group("f", passed, failed)))

    entry = _only(summary)
    assert isinstance(entry, SampledUnchanged)
    assert 1.0 == entry.p_value
    assert (1, True) == (summary.unchanged(), summary.is_clean)


def test_a_single_sample_flip_is_not_significant_and_not_unchanged() -> None:
    # One sample per side cannot show a significant change (p = 0.5), but the outcome
    # did change: it is reported as flaky, never as unchanged.
    entry = _only(diff_sampled(_run(_group("f", 1, 0)), _run(_group("f", 0, 1))))

    assert isinstance(entry, SampledFlaky)
    assert 0.5 == entry.p_value


def test_the_threshold_is_strict_and_configurable() -> None:
    # 3/3 -> 0/3: p_drop = 1/20 = 0.05 exactly.
    baseline, new = _run(_group("f", 3, 0)), _run(_group("f", 0, 3))

    assert isinstance(_only(diff_sampled(baseline, new)), SampledFlaky)
    assert isinstance(_only(diff_sampled(baseline, new, alpha=0.051)), SampledRegression)


@pytest.mark.parametrize("alpha", [0.0, -0.1, 0.51, 1.0])
def test_alpha_outside_the_one_sided_range_is_rejected(alpha: float) -> None:
    with pytest.raises(InvalidRequest, match=r"alpha must be in \(0, 0.5\]"):
        diff_sampled(_run(), _run(), alpha=alpha)


def test_confidence_outside_the_open_interval_is_rejected() -> None:
    with pytest.raises(InvalidRequest, match="confidence must be strictly between 0 and 1"):
        diff_sampled(_run(), _run(), confidence=1.0)


def test_entries_carry_both_rates_and_wilson_intervals() -> None:
    entry = _only(diff_sampled(_run(_group("f", 8, 2)), _run(_group("f", 3, 7))))

    assert isinstance(entry, SampledRegression)
    low, high = wilson_interval(8, 10)
    assert GroupPassRate(
        passed=8, samples=10, pass_rate=0.8, pass_rate_low=low, pass_rate_high=high
    ) == (entry.baseline)
    low, high = wilson_interval(3, 10)
    assert GroupPassRate(
        passed=3, samples=10, pass_rate=0.3, pass_rate_low=low, pass_rate_high=high
    ) == (entry.new)


def test_groups_only_on_one_side_are_missing_or_added() -> None:
    baseline = _run(_group("gone", 2, 0), _group("kept", 2, 0))
    new = _run(_group("kept", 2, 0), _group("new", 0, 2))

    summary = diff_sampled(baseline, new)

    gone, kept, added = summary.entries
    assert isinstance(gone, SampledMissingFromNew)
    assert (2, None) == (gone.baseline.samples, gone.new)
    assert isinstance(kept, SampledUnchanged)
    assert isinstance(added, SampledNewlyAdded)
    assert (None, 0) == (added.baseline, added.new.passed)
    assert (1, 1, False) == (summary.missing(), summary.added(), summary.is_clean)
    assert (gone,) == summary.blocking()


def test_entries_are_ordered_by_fixture_then_cell() -> None:
    run = _run(
        _group("b", 1, 0, model="z"),
        _group("b", 1, 0),
        _group("a", 1, 0, model="m"),
        _group("b", 1, 0, model="a"),
    )

    summary = diff_sampled(run, run)

    assert [
        ("a", MatrixCell("m")),
        ("b", None),
        ("b", MatrixCell("a")),
        ("b", MatrixCell("z")),
    ] == [(entry.fixture_id, entry.cell) for entry in summary.entries]


# -- errored samples -------------------------------------------------------------------------------


def test_errored_samples_count_as_failures_by_default() -> None:
    summary = diff_sampled(_run(_group("f", 10, 0)), _run(_group("f", 5, 0, errored=5)))

    entry = _only(summary)
    assert isinstance(entry, SampledRegression)
    assert (5, 10, 5) == (entry.new.passed, entry.new.samples, entry.new.errored)
    assert ErrorPolicy.COUNT_AS_FAILURE == summary.error_policy


def test_excluded_errored_samples_do_not_count() -> None:
    summary = diff_sampled(
        _run(_group("f", 10, 0)),
        _run(_group("f", 5, 0, errored=5)),
        error_policy=ErrorPolicy.EXCLUDE,
    )

    entry = _only(summary)
    assert isinstance(entry, SampledUnchanged)
    assert (5, 5, 5) == (entry.new.passed, entry.new.samples, entry.new.errored)
    assert ErrorPolicy.EXCLUDE == summary.error_policy


def test_a_group_whose_samples_all_errored_is_missing_when_excluded() -> None:
    summary = diff_sampled(
        _run(_group("f", 3, 0)),
        _run(_group("f", 0, 0, errored=3)),
        error_policy=ErrorPolicy.EXCLUDE,
    )

    entry = _only(summary)
    assert isinstance(entry, SampledMissingFromNew)
    assert entry.new is not None
    assert (0, 3, 0.0, 1.0) == (
        entry.new.samples,
        entry.new.errored,
        entry.new.pass_rate_low,
        entry.new.pass_rate_high,
    )
    assert summary.is_clean is False


def test_a_baseline_group_whose_samples_all_errored_makes_the_new_one_added() -> None:
    entry = _only(
        diff_sampled(
            _run(_group("f", 0, 0, errored=2)),
            _run(_group("f", 2, 0)),
            error_policy=ErrorPolicy.EXCLUDE,
        )
    )

    assert isinstance(entry, SampledNewlyAdded)
    assert entry.baseline is not None
    assert (0, 2) == (entry.baseline.samples, entry.baseline.errored)


# -- wire format -----------------------------------------------------------------------------------


def test_entries_are_tagged_by_kind_and_omit_the_default_cell() -> None:
    summary = diff_sampled(_run(_group("f", 10, 0)), _run(_group("f", 5, 5)))

    data = to_builtins(summary)

    (entry,) = data["entries"]
    assert ["kind", "fixture_id", "baseline", "new", "p_value"] == list(entry)
    assert "regression" == entry["kind"]
    assert {"passed": 10, "samples": 10, "pass_rate": 1.0} == {
        key: entry["baseline"][key] for key in ("passed", "samples", "pass_rate")
    }
    assert "errored" not in entry["baseline"]
    assert "alpha" not in data


def test_a_model_cell_is_written() -> None:
    run = _run(_group("f", 1, 0, model="m"))

    (entry,) = to_builtins(diff_sampled(run, run))["entries"]

    assert {"model_id": "m"} == entry["cell"]


@given(_sampled_runs(), _sampled_runs(), st.sampled_from(ErrorPolicy))
def test_summaries_round_trip_through_json(
    baseline: EvalRun, new: EvalRun, policy: ErrorPolicy
) -> None:
    summary = diff_sampled(baseline, new, error_policy=policy, alpha=0.1, confidence=0.9)

    assert summary == from_json(SampledDiffSummary, to_json(summary))


# -- properties ------------------------------------------------------------------------------------


@given(_sampled_runs(), st.sampled_from(ErrorPolicy))
def test_a_run_against_itself_has_no_significant_change(run: EvalRun, policy: ErrorPolicy) -> None:
    summary = diff_sampled(run, run, error_policy=policy)

    assert (0, 0, 0) == (summary.regressions(), summary.improved(), summary.added())
    assert [] == [
        entry
        for entry in summary.entries
        if not isinstance(entry, (SampledUnchanged, SampledFlaky))
        and not (isinstance(entry, SampledMissingFromNew) and entry.baseline.samples == 0)
    ]


_MIRROR: dict[type, type] = {
    SampledRegression: SampledImproved,
    SampledImproved: SampledRegression,
    SampledFlaky: SampledFlaky,
    SampledUnchanged: SampledUnchanged,
    SampledMissingFromNew: SampledNewlyAdded,
    SampledNewlyAdded: SampledMissingFromNew,
}


@given(_sampled_runs(), _sampled_runs(), st.sampled_from([0.05, 0.2]))
def test_swapping_the_runs_mirrors_every_entry(
    baseline: EvalRun, new: EvalRun, alpha: float
) -> None:
    # Under count_as_failure every present group has scored samples, so the mirror is
    # exact: regression <-> improved, missing_from_new <-> newly_added.
    forward = diff_sampled(baseline, new, alpha=alpha)
    backward = diff_sampled(new, baseline, alpha=alpha)

    assert [(_MIRROR[type(e)], e.fixture_id, e.cell) for e in forward.entries] == [
        (type(e), e.fixture_id, e.cell) for e in backward.entries
    ]
    assert [(e.baseline, e.new) for e in forward.entries] == [
        (e.new, e.baseline) for e in backward.entries
    ]
    assert [getattr(e, "p_value", None) for e in forward.entries] == [
        getattr(e, "p_value", None) for e in backward.entries
    ]
    assert (forward.regressions(), forward.missing()) == (backward.improved(), backward.added())
