"""Diff records: how each item of a new run compares with its baseline (tagged by ``kind``).

Every entry names the fixture and, for item-keyed diffs, the cell and sample index.
:attr:`blocking` entries fail CI: regressions, drift, items missing from the new run and
newly added items that fail.
"""

from __future__ import annotations

from typing import ClassVar, Generic, Protocol, TypeVar, Union

import attrs

from awaken_eval._records.runs import ErrorPolicy, MatrixCell
from awaken_eval._records.types import U32

__all__ = [
    "DiffEntry",
    "DiffSummary",
    "Drift",
    "Fixed",
    "GroupPassRate",
    "MissingFromNew",
    "NewlyAdded",
    "Regression",
    "SampledDiffEntry",
    "SampledDiffSummary",
    "SampledFlaky",
    "SampledImproved",
    "SampledMissingFromNew",
    "SampledNewlyAdded",
    "SampledRegression",
    "SampledUnchanged",
    "StillFailing",
    "Unchanged",
]


@attrs.frozen(kw_only=True)
class _Keyed:
    """What every entry shares: the tag, the fixture and the cell, and whether it blocks.

    A kind's entries block always or never (``blocks_always``), unless the kind says
    otherwise by its own :attr:`blocking`.
    """

    kind: ClassVar[str]
    blocks_always: ClassVar[bool] = False
    fixture_id: str
    cell: MatrixCell | None = None

    @property
    def blocking(self) -> bool:
        """Whether the entry fails CI: always for a kind marked "(blocking)", else never."""
        return self.blocks_always


@attrs.frozen(kw_only=True)
class _ItemEntry(_Keyed):
    """An item-keyed diff entry: the fixture, the cell and the sample index."""

    sample_index: U32 | None = None


@attrs.frozen(kw_only=True)
class _SampledGroup(_Keyed):
    """A sampled diff entry: one (fixture, cell) group."""


@attrs.frozen(kw_only=True)
class Unchanged(_ItemEntry):
    """Both sides passed and no compared observable differs.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "unchanged"


@attrs.frozen(kw_only=True)
class Regression(_ItemEntry):
    """The baseline passed and the new item failed (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        new_failures: Failure kinds of the new report, in order, duplicates kept.
    """

    kind: ClassVar[str] = "regression"
    new_failures: tuple[str, ...] = ()
    blocks_always: ClassVar[bool] = True


@attrs.frozen(kw_only=True)
class Fixed(_ItemEntry):
    """The baseline failed and the new item passed.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "fixed"


@attrs.frozen(kw_only=True)
class StillFailing(_ItemEntry):
    """Both sides failed.

    The failure delta (additive fields, omitted when empty) says whether it got worse.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        new_failures: Failure kinds of the new report, in order, duplicates kept.
        failures_added: Failure kinds the new report has and the baseline had not.
        failures_removed: Failure kinds the baseline had and the new report has not.
        worsened: Whether failures were added.
        blocks: Whether this entry blocks (a worsened entry blocks unless configured
            otherwise; a reference-written entry never does).
    """

    kind: ClassVar[str] = "still_failing"
    new_failures: tuple[str, ...] = ()
    failures_added: tuple[str, ...] = ()
    failures_removed: tuple[str, ...] = ()
    worsened: bool = False
    blocks: bool = False

    @property
    def blocking(self) -> bool:
        """Blocking only when marked so (a worsened entry under the default policy)."""
        return self.blocks


@attrs.frozen(kw_only=True)
class Drift(_ItemEntry):
    """Both sides passed but compared observables differ (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        fields: Names of the differing observables, in the spec's fixed order.
    """

    kind: ClassVar[str] = "drift"
    fields: tuple[str, ...] = ()
    blocks_always: ClassVar[bool] = True


@attrs.frozen(kw_only=True)
class MissingFromNew(_ItemEntry):
    """The baseline has the item, the new run does not (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "missing_from_new"
    blocks_always: ClassVar[bool] = True


@attrs.frozen(kw_only=True)
class NewlyAdded(_ItemEntry):
    """The new run has an item the baseline lacks (blocking only when it fails).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        passed: Whether the new report passed.
    """

    kind: ClassVar[str] = "newly_added"
    passed: bool

    @property
    def blocking(self) -> bool:
        """Blocking when the new item failed."""
        return not self.passed


DiffEntry = Union[  # noqa: UP007
    Unchanged, Regression, Fixed, StillFailing, Drift, MissingFromNew, NewlyAdded
]
"""How one item compares with the baseline; JSON tagged by ``kind``."""


class _Entry(Protocol):
    """What a summary reads of its entries."""

    @property
    def kind(self) -> str:
        """The entry's tag."""
        ...

    @property
    def blocking(self) -> bool:
        """Whether the entry fails CI."""
        ...


_EntryT = TypeVar("_EntryT", bound=_Entry)


class _EntrySummary(Generic[_EntryT]):
    """What the plain and the sampled diff summaries share: their entries and counts.

    A mixin without fields, so the records' wire format is theirs alone.
    """

    __slots__ = ()

    entries: tuple[_EntryT, ...]

    @property
    def is_clean(self) -> bool:
        """Whether no entry blocks."""
        return not any(entry.blocking for entry in self.entries)

    def _count(self, kind: str) -> int:
        return sum(1 for entry in self.entries if entry.kind == kind)

    def blocking(self) -> tuple[_EntryT, ...]:
        """The entries that block CI."""
        return tuple(entry for entry in self.entries if entry.blocking)


@attrs.frozen
class DiffSummary(_EntrySummary[DiffEntry]):
    """Every diff entry, sorted by item key.

    Attributes:
        entries: The entries.
    """

    entries: tuple[DiffEntry, ...] = ()

    def regressions(self) -> int:
        """Number of regression entries."""
        return self._count(Regression.kind)

    def missing(self) -> int:
        """Number of missing-from-new entries."""
        return self._count(MissingFromNew.kind)

    def added(self) -> int:
        """Number of newly-added entries."""
        return self._count(NewlyAdded.kind)

    def drift(self) -> int:
        """Number of drift entries."""
        return self._count(Drift.kind)


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
class _SampledTest(_SampledGroup):
    """A sampled entry of a group both sides have: the counts and the test's p-value."""

    baseline: GroupPassRate
    new: GroupPassRate
    p_value: float


@attrs.frozen(kw_only=True)
class SampledRegression(_SampledTest):
    """The new pass rate is significantly lower than the baseline's (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The one-sided p-value of the drop (below ``alpha``).
    """

    kind: ClassVar[str] = "regression"
    blocks_always: ClassVar[bool] = True


@attrs.frozen(kw_only=True)
class SampledImproved(_SampledTest):
    """The new pass rate is significantly higher than the baseline's.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The one-sided p-value of the rise (below ``alpha``).
    """

    kind: ClassVar[str] = "improved"


@attrs.frozen(kw_only=True)
class SampledFlaky(_SampledTest):
    """No significant change, but the group's samples both pass and fail.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The smaller of the two one-sided p-values (at least ``alpha``).
    """

    kind: ClassVar[str] = "flaky"


@attrs.frozen(kw_only=True)
class SampledUnchanged(_SampledTest):
    """Both sides all-pass, or both all-fail.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts.
        p_value: The smaller of the two one-sided p-values (1.0 here).
    """

    kind: ClassVar[str] = "unchanged"


@attrs.frozen(kw_only=True)
class SampledMissingFromNew(_SampledGroup):
    """The baseline has the group; the new run has no scored sample of it (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts.
        new: The new run's counts when it has the group but every sample was excluded
            as errored; absent when the group is not in the new run at all.
    """

    kind: ClassVar[str] = "missing_from_new"
    baseline: GroupPassRate
    new: GroupPassRate | None = None
    blocks_always: ClassVar[bool] = True


@attrs.frozen(kw_only=True)
class SampledNewlyAdded(_SampledGroup):
    """The new run has the group; the baseline has no scored sample of it.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        baseline: The baseline's counts when it has the group but every sample was
            excluded as errored; absent when the group is not in the baseline at all.
        new: The new run's counts.
    """

    kind: ClassVar[str] = "newly_added"
    baseline: GroupPassRate | None = None
    new: GroupPassRate


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
class SampledDiffSummary(_EntrySummary[SampledDiffEntry]):
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
