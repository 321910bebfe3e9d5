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

from typing import ClassVar, Union

import attrs

from awaken_eval._types import U32
from awaken_eval.errors import InvalidRequest
from awaken_eval.runs import ErrorPolicy, EvalRun, MatrixCell
from awaken_eval.stats import (
    FisherPValues,
    GroupCounts,
    fisher_one_sided,
    group_counts,
    group_sort_key,
    wilson_interval,
)

__all__ = [
    "GroupPassRate",
    "SampledDiffEntry",
    "SampledDiffSummary",
    "SampledFlaky",
    "SampledImproved",
    "SampledMissingFromNew",
    "SampledNewlyAdded",
    "SampledRegression",
    "SampledUnchanged",
    "diff_sampled",
]


@attrs.frozen(kw_only=True)
class GroupPassRate:
    """The scored pass counts of one group on one side, with the Wilson interval.

    Attributes:
        passed: Scored samples that passed (an errored sample never passes).
        samples: Scored samples, after the error policy.
        errored: Samples with a runtime failure (included in ``samples`` under
            ``count_as_failure``, not under ``exclude``).
        pass_rate: ``passed / samples`` (0.0 without scored samples).
        pass_rate_low: Lower bound of the Wilson interval (0.0 without scored samples).
        pass_rate_high: Upper bound of the Wilson interval (1.0 without scored samples).
    """

    passed: U32
    samples: U32
    errored: U32 = 0
    pass_rate: float
    pass_rate_low: float
    pass_rate_high: float


@attrs.frozen(kw_only=True)
class SampledRegression:
    """The new pass rate is significantly lower than the baseline's (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The one-sided p-value of the drop (below ``alpha``).
    """

    kind: ClassVar[str] = "regression"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate
    new: GroupPassRate
    p_value: float

    @property
    def blocking(self) -> bool:
        """Always blocking."""
        return True


@attrs.frozen(kw_only=True)
class SampledImproved:
    """The new pass rate is significantly higher than the baseline's.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The one-sided p-value of the rise (below ``alpha``).
    """

    kind: ClassVar[str] = "improved"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate
    new: GroupPassRate
    p_value: float

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


@attrs.frozen(kw_only=True)
class SampledFlaky:
    """No significant change, but the group's samples both pass and fail.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The smaller of the two one-sided p-values (at least ``alpha``).
    """

    kind: ClassVar[str] = "flaky"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate
    new: GroupPassRate
    p_value: float

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


@attrs.frozen(kw_only=True)
class SampledUnchanged:
    """Both sides all-pass, or both all-fail.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The smaller of the two one-sided p-values (1.0 here).
    """

    kind: ClassVar[str] = "unchanged"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate
    new: GroupPassRate
    p_value: float

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


@attrs.frozen(kw_only=True)
class SampledMissingFromNew:
    """The baseline has the group; the new run has no scored sample of it (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts when it has the group but every sample was excluded
            as errored; absent when the group is not in the new run at all.
    """

    kind: ClassVar[str] = "missing_from_new"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate
    new: GroupPassRate | None = None

    @property
    def blocking(self) -> bool:
        """Always blocking."""
        return True


@attrs.frozen(kw_only=True)
class SampledNewlyAdded:
    """The new run has the group; the baseline has no scored sample of it.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts when it has the group but every sample was
            excluded as errored; absent when the group is not in the baseline at all.
        new: The new run's counts.
    """

    kind: ClassVar[str] = "newly_added"
    fixture_id: str
    cell: MatrixCell | None = None
    baseline: GroupPassRate | None = None
    new: GroupPassRate

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


SampledDiffEntry = Union[  # noqa: UP007
    SampledRegression,
    SampledImproved,
    SampledFlaky,
    SampledUnchanged,
    SampledMissingFromNew,
    SampledNewlyAdded,
]
"""How one (fixture, cell) group of a sampled run compares; JSON tagged by ``kind``."""


@attrs.frozen(kw_only=True)
class SampledDiffSummary:
    """Every group's entry, sorted by (fixture id, cell), and the test's settings.

    Attributes:
        entries: The entries.
        alpha: Significance level of the one-sided tests.
        error_policy: How errored samples were treated.
        confidence: Confidence level of the Wilson intervals.
    """

    entries: tuple[SampledDiffEntry, ...] = ()
    alpha: float = 0.05
    error_policy: ErrorPolicy = ErrorPolicy.COUNT_AS_FAILURE
    confidence: float = 0.95

    @property
    def is_clean(self) -> bool:
        """Whether no group regressed and none is missing from the new run."""
        return not any(entry.blocking for entry in self.entries)

    def _count(self, kind: str) -> int:
        return sum(1 for entry in self.entries if entry.kind == kind)

    def regressions(self) -> int:
        """Number of regression entries."""
        return self._count(SampledRegression.kind)

    def improved(self) -> int:
        """Number of improved entries."""
        return self._count(SampledImproved.kind)

    def flaky(self) -> int:
        """Number of flaky entries."""
        return self._count(SampledFlaky.kind)

    def unchanged(self) -> int:
        """Number of unchanged entries."""
        return self._count(SampledUnchanged.kind)

    def missing(self) -> int:
        """Number of missing-from-new entries."""
        return self._count(SampledMissingFromNew.kind)

    def added(self) -> int:
        """Number of newly-added entries."""
        return self._count(SampledNewlyAdded.kind)

    def blocking(self) -> tuple[SampledDiffEntry, ...]:
        """The entries that block CI: regressions and missing groups."""
        return tuple(entry for entry in self.entries if entry.blocking)


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
