"""Eval runs: one dataset execution, its items, summaries, filters and sample roll-ups."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, NamedTuple, Self

import attrs

from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.types import U32, U64
from awaken_eval.errors import InvalidExecutionShape, Problem

__all__ = [
    "ADHOC_DATASET_ID",
    "ErrorPolicy",
    "EvalRun",
    "EvalRunExecutionMode",
    "EvalRunFilter",
    "EvalRunItem",
    "EvalRunSummary",
    "ItemKey",
    "MatrixCell",
    "RunSummaryFields",
    "SampleAggregate",
    "first_shape_problem",
]

ADHOC_DATASET_ID = "_adhoc"
"""The dataset id of online (ad-hoc) runs, which have no stored dataset to diff against."""


class EvalRunExecutionMode(Enum):
    """How a run's items were produced."""

    SCRIPTED = "scripted"
    """Deterministic replay of each fixture's provider script; items have no cell."""
    LIVE = "live"
    """Real models: a matrix of models x samples; every item has a cell."""


@attrs.frozen
class MatrixCell:
    """One cell of the live model matrix.

    Attributes:
        model_id: The model of this cell; absent for the default cell (wire: ``{}``).
    """

    model_id: str | None = None

    def sort_key(self) -> tuple[bool, str]:
        """Ordering key: the default cell first, then models by string order."""
        return (self.model_id is not None, self.model_id or "")


class ItemKey(NamedTuple):
    """Identity of a run item: fixture, model (``None`` = default cell), sample index.

    Tuples of this type sort in the spec's diff order: fixture id, then default cell
    before models (by string order), then absent sample index before indexes.
    """

    fixture_id: str
    model_id: str | None
    sample_index: int | None

    def sort_key(self) -> tuple[str, bool, str, bool, int]:
        """A key that orders items as the spec's diff entries are ordered."""
        return (
            self.fixture_id,
            self.model_id is not None,
            self.model_id or "",
            self.sample_index is not None,
            self.sample_index or 0,
        )

    def describe(self) -> str:
        """Plain-text description used in error messages."""
        cell = "default cell" if self.model_id is None else f"model {self.model_id!r}"
        sample = "no sample index" if self.sample_index is None else f"sample {self.sample_index}"
        return f"fixture {self.fixture_id!r}, {cell}, {sample}"


@attrs.frozen
class EvalRunItem:
    """One replay of one fixture within a run.

    Attributes:
        fixture_id: The replayed fixture.
        report: The scored report.
        cell: The matrix cell (live items always have one, scripted items none).
        trace_run_id: The verified trace this replay can be inspected in.
        sample_index: 0-based sample number, present only when the run used samples >= 2.
    """

    fixture_id: str
    cell: MatrixCell | None = attrs.field(default=None, kw_only=True)
    report: ReplayReport
    trace_run_id: str | None = attrs.field(default=None, kw_only=True)
    sample_index: U32 | None = attrs.field(default=None, kw_only=True)

    @property
    def key(self) -> ItemKey:
        """The item key: an absent cell and a cell without model are the same key."""
        model = None if self.cell is None else self.cell.model_id
        return ItemKey(self.fixture_id, model, self.sample_index)


def first_shape_problem(
    mode: EvalRunExecutionMode, items: Iterable[EvalRunItem]
) -> tuple[int, str] | None:
    """The first item whose cell breaks ``mode`` (its index and why), or ``None``.

    Live runs need a cell on every item, scripted runs on none. Stores use it to check
    items appended to an open run, before any run record exists.
    """
    live = mode is EvalRunExecutionMode.LIVE
    for index, item in enumerate(items):
        if live and item.cell is None:
            return (
                index,
                f"execution_mode=live requires a cell on every item; item {index} has none",
            )
        if not live and item.cell is not None:
            return index, f"execution_mode=scripted forbids cells; item {index} has one"
    return None


def _check_shape(run: EvalRun, _: attrs.Attribute[Any], items: tuple[EvalRunItem, ...]) -> None:
    found = first_shape_problem(run.execution_mode, items)
    if found is not None:
        index, msg = found
        raise InvalidExecutionShape([Problem(f"$.items[{index}].cell", msg)])


@attrs.frozen(kw_only=True)
class EvalRun:
    """One execution of a dataset: every item, with the run's identity and timing.

    The execution mode must agree with the items: a live run has a cell on every item,
    a scripted run on none (checked at construction and on every read).

    Attributes:
        id: The run id (a ULID minted at run start).
        dataset_id: The dataset executed (``_adhoc`` for online runs).
        dataset_revision: The dataset revision when the run started.
        execution_mode: Scripted or live.
        items: The items, in (fixture, cell, sample) order.
        started_at_secs: Epoch seconds before execution.
        ended_at_secs: Epoch seconds after execution.
        fixture_digests: Content digest of each executed fixture, by fixture id (see
            :func:`awaken_eval.wire.fixture_digest`), so a baseline comparison can
            tell a changed case from the same one. Additive field: omitted on the wire
            when empty, and documents without it load with an empty map. Not part of
            the run's hash.
    """

    id: str
    dataset_id: str
    dataset_revision: U64
    execution_mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED
    items: tuple[EvalRunItem, ...] = attrs.field(default=(), validator=_check_shape)
    started_at_secs: U64
    ended_at_secs: U64
    fixture_digests: dict[str, str] = attrs.field(factory=dict, hash=False)

    def passed_count(self) -> int:
        """Number of items whose report passed."""
        return sum(1 for item in self.items if item.report.passed)


@attrs.frozen(kw_only=True)
class RunSummaryFields:
    """The fields of a row of a run listing, and how a run fills them.

    The base of :class:`EvalRunSummary` (finished runs) and ``OpenRunSummary`` (open
    runs), which document the fields; never on the wire itself.
    """

    id: str
    dataset_id: str
    dataset_revision: U64
    execution_mode: EvalRunExecutionMode
    started_at_secs: U64
    item_count: U32
    passed_count: U32
    failed_count: U32

    @classmethod
    def from_run(cls, run: EvalRun) -> Self:
        """Summarise ``run``: its identity and the counts of its items (stored so far)."""
        passed = run.passed_count()
        return cls(
            id=run.id,
            dataset_id=run.dataset_id,
            dataset_revision=run.dataset_revision,
            execution_mode=run.execution_mode,
            started_at_secs=run.started_at_secs,
            item_count=len(run.items),
            passed_count=passed,
            failed_count=len(run.items) - passed,
        )


@attrs.frozen(kw_only=True)
class EvalRunSummary(RunSummaryFields):
    """A row of a run listing.

    Attributes:
        id: The run id.
        dataset_id: The dataset executed.
        dataset_revision: The dataset revision.
        execution_mode: Scripted or live.
        started_at_secs: Epoch seconds at start.
        item_count: Number of items.
        passed_count: Items whose report passed.
        failed_count: Items whose report did not pass.
    """


@attrs.frozen(kw_only=True)
class EvalRunFilter:
    """Which runs a listing returns.

    Attributes:
        dataset_id: Only runs of this dataset.
        since_secs: Only runs started at or after this time (inclusive).
        until_secs: Only runs started before this time (exclusive).
        limit: At most this many runs, newest first (absent: no limit).
    """

    dataset_id: str | None = None
    since_secs: U64 | None = None
    until_secs: U64 | None = None
    limit: U32 | None = None

    def matches(self, dataset_id: str, started_at_secs: int) -> bool:
        """Whether a run of ``dataset_id`` started at ``started_at_secs`` is selected."""
        if self.dataset_id is not None and dataset_id != self.dataset_id:
            return False
        if self.since_secs is not None and started_at_secs < self.since_secs:
            return False
        return self.until_secs is None or started_at_secs < self.until_secs


class ErrorPolicy(Enum):
    """What the statistics do with an errored sample (a report with a runtime failure).

    An errored sample says nothing about the agent's answer: the replay itself broke
    (timeout, exhausted script, provider failure). The policy decides whether such a
    sample still counts towards the estimators and intervals.
    """

    COUNT_AS_FAILURE = "count_as_failure"
    """The sample stays in n and counts as a failure (the default, conservative)."""
    EXCLUDE = "exclude"
    """The sample is dropped: n shrinks by one and it is neither a pass nor a failure."""


@attrs.frozen(kw_only=True)
class SampleAggregate:
    """Pass statistics of one (fixture, cell) group of a sampled run.

    The first seven fields are the reference's, computed exactly as it does over every
    item of the group whatever the error policy (``pass_at_k``/``pass_pow_k`` are its
    empirical booleans). The rest are additive (omitted on the wire when default, so
    reference documents load unchanged): the errored-sample policy and the unbiased
    estimators over the *scored* samples, i.e. the samples left after the policy, with
    errored samples never counted as passes.

    Attributes:
        fixture_id: The fixture.
        cell: The cell (omitted on the wire for the default cell).
        samples: Items in the group.
        passed: Items whose report passed.
        pass_rate: passed / samples (0.0 for an empty group).
        pass_at_k: At least one sample passed (empirical, k = samples).
        pass_pow_k: Every sample passed and there was at least one.
        errored: Items whose report has a runtime failure.
        error_policy: How errored items were treated by the fields below.
        scored_samples: n, the items the estimators use (``samples`` under
            ``count_as_failure``, ``samples - errored`` under ``exclude``); absent in a
            reference document.
        scored_passed: c, the scored items that passed (an errored item never counts
            as a pass); absent in a reference document.
        pass_at: Unbiased pass@k (Chen et al. 2021) for k = 1..n; index k - 1.
        pass_hat: pass^k (Yao et al. 2024, τ-bench) for k = 1..n; index k - 1.
        pass_rate_low: Lower bound of the Wilson score interval of c / n.
        pass_rate_high: Upper bound of the Wilson score interval of c / n.
    """

    fixture_id: str
    cell: MatrixCell | None = None
    samples: U32
    passed: U32
    pass_rate: float
    pass_at_k: bool
    pass_pow_k: bool
    errored: U32 = 0
    error_policy: ErrorPolicy = ErrorPolicy.COUNT_AS_FAILURE
    scored_samples: U32 | None = None
    scored_passed: U32 | None = None
    pass_at: tuple[float, ...] = ()
    pass_hat: tuple[float, ...] = ()
    pass_rate_low: float | None = None
    pass_rate_high: float | None = None
