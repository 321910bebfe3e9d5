"""Variance-aware diff of two sampled runs: per (fixture, cell) group, not per item.

With several samples per group, an item-by-item diff calls every flip of a
non-deterministic case a regression. :func:`diff_sampled` instead compares the pass
counts of each group with a one-sided Fisher exact test and classifies it:

========================  ================================================================
``regression``            the new pass rate is significantly lower (``p_drop < alpha``)
``improved``              the new pass rate is significantly higher (``p_rise < alpha``)
``flaky``                 no significant change, and the pooled samples hold passes *and*
                          failures (a side neither all-pass nor all-fail, or one side
                          all-pass and the other all-fail with too few samples to tell)
``unchanged``             no significant change; both sides all-pass or both all-fail
``missing_from_new``      the baseline has the group, the new run has no scored sample
``newly_added``           the new run has the group, the baseline has no scored sample
========================  ================================================================

A group whose samples were all excluded as errored (``ErrorPolicy.EXCLUDE``) carries no
evidence: it counts as absent on that side, with its counts still reported. Regressions
and missing groups block (:attr:`SampledDiffSummary.is_clean`). Entries are ordered by
fixture id, then cell (default first, then models by name), so the result is
deterministic. Entries are JSON tagged by ``kind``.
"""

from __future__ import annotations

from awaken_eval._analysis.stats import (
    FisherPValues,
    GroupCounts,
    fisher_one_sided,
    group_counts,
    group_sort_key,
    wilson_interval,
)
from awaken_eval._records.comparison import (
    GroupPassRate,
    SampledDiffEntry,
    SampledDiffSummary,
    SampledFlaky,
    SampledImproved,
    SampledMissingFromNew,
    SampledNewlyAdded,
    SampledRegression,
    SampledUnchanged,
)
from awaken_eval._records.runs import ErrorPolicy, EvalRun, MatrixCell
from awaken_eval.errors import InvalidRequest

__all__ = [
    "diff_sampled",
]


class _Sides:
    """Per-call caches: groups share (n, c) pairs, so each test runs once per pair."""

    def __init__(self, policy: ErrorPolicy, confidence: float) -> None:
        self.policy = policy
        self.confidence = confidence
        self.rates: dict[tuple[int, int, int], GroupPassRate] = {}
        self.tests: dict[tuple[int, int, int, int], FisherPValues] = {}

    def rate(self, counts: GroupCounts) -> GroupPassRate:
        n, c = counts.scored(self.policy)
        key = (n, c, counts.errored)
        found = self.rates.get(key)
        if found is None:
            low, high = wilson_interval(c, n, confidence=self.confidence)
            found = self.rates[key] = GroupPassRate(
                passed=c,
                samples=n,
                errored=counts.errored,
                pass_rate=c / n if n else 0.0,
                pass_rate_low=low,
                pass_rate_high=high,
            )
        return found

    def test(self, baseline: GroupPassRate, new: GroupPassRate) -> FisherPValues:
        key = (baseline.passed, baseline.samples, new.passed, new.samples)
        found = self.tests.get(key)
        if found is None:
            found = self.tests[key] = fisher_one_sided(*key)
        return found


def _compare(
    fixture_id: str,
    cell: MatrixCell | None,
    old: GroupPassRate,
    new: GroupPassRate,
    test: FisherPValues,
    *,
    alpha: float,
) -> SampledDiffEntry:
    kind: type[SampledRegression | SampledImproved | SampledFlaky | SampledUnchanged]
    if test.p_drop < alpha:
        kind, p_value = SampledRegression, test.p_drop
    elif test.p_rise < alpha:
        kind, p_value = SampledImproved, test.p_rise
    else:
        passes = old.passed + new.passed
        mixed = 0 < passes < old.samples + new.samples
        kind = SampledFlaky if mixed else SampledUnchanged
        p_value = min(test.p_drop, test.p_rise)
    return kind(fixture_id=fixture_id, cell=cell, baseline=old, new=new, p_value=p_value)


def diff_sampled(
    baseline_run: EvalRun,
    new_run: EvalRun,
    *,
    alpha: float = 0.05,
    error_policy: ErrorPolicy = ErrorPolicy.COUNT_AS_FAILURE,
    confidence: float = 0.95,
) -> SampledDiffSummary:
    """Compare two sampled runs group by group with a one-sided Fisher exact test.

    Items are grouped by (fixture id, cell) (sample indexes ignored; an absent cell and
    a cell without model are one group). For each group present on both sides with
    scored samples, ``p_drop`` is the probability, under equal pass rates and the
    observed margins, of the new run passing at most as often as it did, and ``p_rise``
    at least as often. Swapping the runs swaps ``p_drop`` and ``p_rise``, hence
    ``regression`` and ``improved``.

    Args:
        baseline_run: The reference run.
        new_run: The run under test.
        alpha: Significance level of each one-sided test, in (0, 0.5].
        error_policy: Count errored samples as failures (default) or exclude them.
        confidence: Confidence level of the Wilson intervals on the entries.

    Returns:
        The summary, entries sorted by fixture id then cell.

    Raises:
        InvalidRequest: when ``alpha`` is outside (0, 0.5] or ``confidence`` outside
            (0, 1).
    """
    if not 0.0 < alpha <= 0.5:
        msg = f"alpha must be in (0, 0.5] for a one-sided test, got {alpha!r}"
        raise InvalidRequest(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be strictly between 0 and 1, got {confidence!r}"
        raise InvalidRequest(msg)
    sides = _Sides(error_policy, confidence)
    baseline_groups = group_counts(baseline_run.items)
    new_groups = group_counts(new_run.items)
    entries: list[SampledDiffEntry] = []
    for key in sorted(baseline_groups.keys() | new_groups.keys(), key=group_sort_key):
        fixture_id, model_id = key
        cell = None if model_id is None else MatrixCell(model_id)
        old_counts = baseline_groups.get(key)
        new_counts = new_groups.get(key)
        old = None if old_counts is None else sides.rate(old_counts)
        new = None if new_counts is None else sides.rate(new_counts)
        if old is not None and (new is None or new.samples == 0):
            entries.append(
                SampledMissingFromNew(fixture_id=fixture_id, cell=cell, baseline=old, new=new)
            )
        elif new is not None and (old is None or old.samples == 0):
            entries.append(
                SampledNewlyAdded(fixture_id=fixture_id, cell=cell, baseline=old, new=new)
            )
        elif old is not None and new is not None:
            entries.append(_compare(fixture_id, cell, old, new, sides.test(old, new), alpha=alpha))
    return SampledDiffSummary(
        entries=tuple(entries), alpha=alpha, error_policy=error_policy, confidence=confidence
    )
