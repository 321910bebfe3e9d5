"""Diff records: how each item of a new run compares with its baseline (tagged by ``kind``).

Every entry names the fixture and, for item-keyed diffs, the cell and sample index.
:attr:`blocking` entries fail CI: regressions, drift, items missing from the new run and
newly added items that fail.
"""

from __future__ import annotations

from typing import ClassVar, Union

import attrs

from awaken_eval._types import U32
from awaken_eval.runs import MatrixCell

__all__ = [
    "DiffEntry",
    "DiffSummary",
    "Drift",
    "Fixed",
    "MissingFromNew",
    "NewlyAdded",
    "Regression",
    "StillFailing",
    "Unchanged",
]


@attrs.frozen(kw_only=True)
class Unchanged:
    """Both sides passed and no compared observable differs.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "unchanged"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


@attrs.frozen(kw_only=True)
class Regression:
    """The baseline passed and the new item failed (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        new_failures: Failure kinds of the new report, in order, duplicates kept.
    """

    kind: ClassVar[str] = "regression"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None
    new_failures: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """Always blocking."""
        return True


@attrs.frozen(kw_only=True)
class Fixed:
    """The baseline failed and the new item passed.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "fixed"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None

    @property
    def blocking(self) -> bool:
        """Never blocking."""
        return False


@attrs.frozen(kw_only=True)
class StillFailing:
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
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None
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
class Drift:
    """Both sides passed but compared observables differ (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        fields: Names of the differing observables, in the spec's fixed order.
    """

    kind: ClassVar[str] = "drift"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None
    fields: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """Always blocking."""
        return True


@attrs.frozen(kw_only=True)
class MissingFromNew:
    """The baseline has the item, the new run does not (blocking).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
    """

    kind: ClassVar[str] = "missing_from_new"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None

    @property
    def blocking(self) -> bool:
        """Always blocking."""
        return True


@attrs.frozen(kw_only=True)
class NewlyAdded:
    """The new run has an item the baseline lacks (blocking only when it fails).

    Attributes:
        fixture_id: The fixture.
        cell: The cell (absent for the default cell).
        sample_index: The sample index, when the items had one.
        passed: Whether the new report passed.
    """

    kind: ClassVar[str] = "newly_added"
    fixture_id: str
    cell: MatrixCell | None = None
    sample_index: U32 | None = None
    passed: bool

    @property
    def blocking(self) -> bool:
        """Blocking when the new item failed."""
        return not self.passed


DiffEntry = Union[  # noqa: UP007
    Unchanged, Regression, Fixed, StillFailing, Drift, MissingFromNew, NewlyAdded
]
"""How one item compares with the baseline; JSON tagged by ``kind``."""


@attrs.frozen
class DiffSummary:
    """Every diff entry, sorted by item key.

    Attributes:
        entries: The entries.
    """

    entries: tuple[DiffEntry, ...] = ()

    @property
    def is_clean(self) -> bool:
        """Whether no entry blocks."""
        return not any(entry.blocking for entry in self.entries)

    def _count(self, kind: str) -> int:
        return sum(1 for entry in self.entries if entry.kind == kind)

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

    def blocking(self) -> tuple[DiffEntry, ...]:
        """The entries that block CI."""
        return tuple(entry for entry in self.entries if entry.blocking)
