"""Diff a new run (or report list) against a baseline (spec §2.4, §2.5, §4.8).

Every item key present on either side becomes one :data:`~awaken_eval.DiffEntry`,
classified from the two reports' ``passed`` flags:

=================  =================  =============================================
baseline           new                entry
=================  =================  =============================================
present            absent             :class:`~awaken_eval.MissingFromNew` (blocks)
absent             present            :class:`~awaken_eval.NewlyAdded` (blocks when
                                      the new report failed)
passed             passed             :class:`~awaken_eval.Unchanged`, or
                                      :class:`~awaken_eval.Drift` (blocks) when an
                                      observable compared by the policy differs
passed             failed             :class:`~awaken_eval.Regression` (blocks)
failed             passed             :class:`~awaken_eval.Fixed`
failed             failed             :class:`~awaken_eval.StillFailing` with the
                                      failure delta (blocks when it got worse, by
                                      default)
=================  =================  =============================================

Improvements over the reference (spec §8.1 items 8, 9, 10 and 17):

* drift never compares wall-clock-derived values: ``session_duration_ms``,
  ``elapsed_ms`` and the per-tool ``total_duration_ms`` of ``tool_calls_by_agent``;
* which observables are compared is a :class:`DriftPolicy`; live runs compare pass/fail
  and structural counts only, never free text, token counts, cost or judge floats;
* :class:`~awaken_eval.StillFailing` carries the failure kinds added and removed and a
  ``worsened`` flag, and a worsened entry blocks unless the policy says otherwise;
* duplicate keys are always a :class:`~awaken_eval.DuplicateItemKeys` (status 400).

Everything here is pure: no I/O, no clock, no logging. The cyclic garbage collector is
paused while a diff runs (it only builds acyclic records), which is restored on exit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import filterfalse
from operator import attrgetter
from typing import Any, TypeVar

import attrs

from awaken_eval._records.comparison import (
    DiffEntry,
    DiffSummary,
    Drift,
    Fixed,
    MissingFromNew,
    NewlyAdded,
    Regression,
    StillFailing,
    Unchanged,
)
from awaken_eval._records.outcomes import AgentToolStats, ReplayReport
from awaken_eval._records.rules import validate_unique_item_keys, validate_unique_report_keys
from awaken_eval._records.runs import EvalRun, EvalRunExecutionMode, EvalRunItem, MatrixCell
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import DuplicateItemKeys, InvalidInput, Problem

__all__ = [
    "DRIFT_FIELDS",
    "LIVE_DRIFT_FIELDS",
    "DriftPolicy",
    "diff_against_baseline",
    "diff_against_baseline_checked",
    "diff_eval_items",
    "diff_eval_items_checked",
    "diff_runs",
]

DRIFT_FIELDS: tuple[str, ...] = (
    "final_text",
    "inference_count",
    "tool_count",
    "tool_failures",
    "total_input_tokens",
    "total_output_tokens",
    "total_tokens",
    "error_type",
    "inference_error_count",
    "runtime_failure",
    "tool_calls_by_agent",
    "cost_usd",
    "revision_count",
    "judge_score",
)
"""Every observable a drift check can compare, in the spec's fixed order (§2.4).

A :class:`~awaken_eval.Drift` entry lists its fields in this order. Never comparable:
``session_duration_ms``, ``elapsed_ms`` (wall-clock), ``judge_reasoning`` (free text
of the judge) and ``failures`` (both sides passed, so both are empty).
"""

LIVE_DRIFT_FIELDS: tuple[str, ...] = (
    "inference_count",
    "tool_count",
    "tool_failures",
    "error_type",
    "inference_error_count",
    "runtime_failure",
    "tool_calls_by_agent",
    "revision_count",
)
"""The structural observables :meth:`DriftPolicy.live` compares (spec §8.1 item 9).

Real models word their answers, spend tokens and get graded differently on every run;
comparing ``final_text``, token counts, ``cost_usd`` or ``judge_score`` would make
nearly every live diff blocking.
"""

T = TypeVar("T")

_FIELD_RANK: Mapping[str, int] = {name: rank for rank, name in enumerate(DRIFT_FIELDS)}
_TOOLS_FIELD = "tool_calls_by_agent"


def _drift_fields(names: Iterable[str]) -> tuple[str, ...]:
    """Check drift field names and put them in the spec's fixed order (no duplicates)."""
    if isinstance(names, str):
        msg = f"expected a sequence of drift field names, got the string {names!r}"
        raise InvalidInput.single("$.fields", msg)
    given = tuple(names)
    problems = [
        Problem(
            f"$.fields[{index}]",
            f"unknown drift field {name!r}; expected one of: {', '.join(DRIFT_FIELDS)}",
        )
        for index, name in enumerate(given)
        if not isinstance(name, str) or name not in _FIELD_RANK
    ]
    if problems:
        raise InvalidInput(problems)
    return tuple(sorted(set(given), key=_FIELD_RANK.__getitem__))


@attrs.frozen(kw_only=True)
class DriftPolicy:
    """Which observables a diff compares when both sides passed, and what blocks.

    Drift never compares wall-clock-derived values: ``tool_calls_by_agent`` is compared
    on agent, tool, call count and failure count only (never ``total_duration_ms``),
    and ``session_duration_ms`` / ``elapsed_ms`` cannot be named at all.
    ``runtime_failure`` compares the whole runtime-failure record. Floats
    (``cost_usd``, ``judge_score``) are compared by exact equality.

    Attributes:
        fields: The compared observables, a subset of :data:`DRIFT_FIELDS`. Any
            iterable of names is accepted and stored in the spec's fixed order without
            duplicates; an empty tuple compares pass/fail only.
        worsened_still_failing_blocks: Whether a :class:`~awaken_eval.StillFailing`
            entry whose new report has failure kinds the baseline lacked blocks.

    Raises:
        InvalidInput: at construction, naming every unknown field with its position.
    """

    fields: tuple[str, ...] = attrs.field(default=DRIFT_FIELDS, converter=_drift_fields)
    worsened_still_failing_blocks: bool = True

    @classmethod
    def scripted(cls, *, worsened_still_failing_blocks: bool = True) -> DriftPolicy:
        """Every observable of :data:`DRIFT_FIELDS` (the reference's comparison).

        The default for report diffs and for item diffs without cells: a scripted replay
        is deterministic, so any difference is a real change.

        Args:
            worsened_still_failing_blocks: Whether a worsened still-failing entry blocks.
        """
        return cls(fields=DRIFT_FIELDS, worsened_still_failing_blocks=worsened_still_failing_blocks)

    @classmethod
    def live(cls, *, worsened_still_failing_blocks: bool = True) -> DriftPolicy:
        """Pass/fail and the structural counts of :data:`LIVE_DRIFT_FIELDS` only.

        The default for item diffs with cells (live runs): no free text, no token
        counts, no cost and no judge floats.

        Args:
            worsened_still_failing_blocks: Whether a worsened still-failing entry blocks.
        """
        return cls(
            fields=LIVE_DRIFT_FIELDS,
            worsened_still_failing_blocks=worsened_still_failing_blocks,
        )

    def compares(self, field: str) -> bool:
        """Whether drift on ``field`` is checked under this policy."""
        return field in self.fields


# -- comparing two passing reports ---------------------------------------------------

_TOOL_SHAPE = attrgetter("agent_id", "tool", "call_count", "failure_count")


def _same_tools(left: Sequence[AgentToolStats], right: Sequence[AgentToolStats]) -> bool:
    """Equal tool statistics, ignoring the wall-clock ``total_duration_ms``."""
    return left is right or (
        len(left) == len(right) and list(map(_TOOL_SHAPE, left)) == list(map(_TOOL_SHAPE, right))
    )


def _same(field: str, left: ReplayReport, right: ReplayReport) -> bool:
    a = getattr(left, field)
    b = getattr(right, field)
    if field == _TOOLS_FIELD:
        return _same_tools(a, b)
    return a is b or bool(a == b)


def _no_values(_: ReplayReport) -> tuple[()]:
    return ()


_KIND = attrgetter("kind")


def _failure_kinds(report: ReplayReport) -> tuple[str, ...]:
    return tuple(map(_KIND, report.failures))


def _multiset_minus(left: tuple[str, ...], right: tuple[str, ...]) -> tuple[str, ...]:
    """``left`` minus ``right`` as multisets, kinds in order of first appearance in ``left``.

    A kind appearing ``n`` times more often in ``left`` than in ``right`` is listed ``n``
    times, its copies together.
    """
    return tuple((Counter(left) - Counter(right)).elements())


def _unchanged(fixture_id: str, cell: MatrixCell | None, sample_index: int | None) -> Unchanged:
    return Unchanged(fixture_id=fixture_id, cell=cell, sample_index=sample_index)


# -- keys and the classification loop ---------------------------------------------------

_Key = tuple[str, str, int]
"""A key of either diff that sorts as the spec orders entries: (fixture id, model, sample).

The model is ``""`` for the default cell and ``"\\x00" + model_id`` otherwise (so the
default cell sorts before every model, and models by string order); an absent sample
index is ``-1`` (sample indexes are unsigned, so absent sorts first). Report diffs use
``(fixture_id, "", -1)``.
"""


class _Cells:
    """Model key codes (see :data:`_Key`), and the entry cell of each code."""

    def __init__(self) -> None:
        self.codes: dict[str | None, str] = {None: ""}
        self.cells: dict[str, MatrixCell | None] = {"": None}

    def add(self, cell: MatrixCell) -> str:
        """The code of a model not seen before (``cell.model_id`` is set)."""
        code = self.codes[cell.model_id] = "\x00" + str(cell.model_id)
        self.cells[code] = cell
        return code


_NO_CELLS = _Cells()
"""For report diffs: only the default cell."""


@attrs.define
class _Index:
    """Reports of one side by key, and what the scan saw."""

    reports: dict[_Key, ReplayReport]
    count: int
    any_cell: bool = False
    any_sample_index: bool = False

    @property
    def has_duplicates(self) -> bool:
        return len(self.reports) != self.count


def _index_reports(reports: Sequence[ReplayReport]) -> _Index:
    """Reports by fixture id; a later duplicate overwrites an earlier one."""
    return _Index({(report.fixture_id, "", -1): report for report in reports}, len(reports))


def _index_items(items: Sequence[EvalRunItem], cells: _Cells) -> _Index:
    """Item reports by item key; a later duplicate overwrites an earlier one."""
    reports: dict[_Key, ReplayReport] = {}
    codes = cells.codes.get
    any_cell = False
    any_sample_index = False
    for item in items:
        cell = item.cell
        code = ""
        if cell is not None:
            any_cell = True
            found = codes(cell.model_id)
            code = cells.add(cell) if found is None else found
        sample_index = item.sample_index
        if sample_index is None:
            sample_index = -1
        else:
            any_sample_index = True
        reports[(item.fixture_id, code, sample_index)] = item.report
    return _Index(reports, len(items), any_cell, any_sample_index)


def _diff(baseline: _Index, new: _Index, cells: _Cells, policy: DriftPolicy) -> DiffSummary:
    """One entry per key of either side, sorted by key."""
    old_reports = baseline.reports
    new_reports = new.reports
    keys = list(old_reports)
    keys.extend(filterfalse(old_reports.__contains__, new_reports))
    keys.sort()

    fields = policy.fields
    tools = _TOOLS_FIELD in fields
    plain = tuple(name for name in fields if name != _TOOLS_FIELD)
    values: Callable[[ReplayReport], Any] = attrgetter(*plain) if plain else _no_values
    worse_blocks = policy.worsened_still_failing_blocks
    unchanged = _unchanged
    cell_of = cells.cells
    old_get = old_reports.get
    new_get = new_reports.get
    entries: list[DiffEntry] = []
    append = entries.append
    for key in keys:
        fixture_id, code, index = key
        cell = cell_of[code]
        sample_index = None if index < 0 else index
        old = old_get(key)
        now = new_get(key)
        if now is None:
            append(MissingFromNew(fixture_id=fixture_id, cell=cell, sample_index=sample_index))
        elif old is None:
            append(
                NewlyAdded(
                    fixture_id=fixture_id, cell=cell, sample_index=sample_index, passed=now.passed
                )
            )
        elif old.passed:
            if not now.passed:
                append(
                    Regression(
                        fixture_id=fixture_id,
                        cell=cell,
                        sample_index=sample_index,
                        new_failures=_failure_kinds(now),
                    )
                )
            # Fast path: one C-level tuple comparison settles the usual "nothing changed".
            elif old is now or (
                values(old) == values(now)
                and (not tools or _same_tools(old.tool_calls_by_agent, now.tool_calls_by_agent))
            ):
                append(unchanged(fixture_id, cell, sample_index))
            else:
                append(
                    Drift(
                        fixture_id=fixture_id,
                        cell=cell,
                        sample_index=sample_index,
                        fields=tuple(name for name in fields if not _same(name, old, now)),
                    )
                )
        elif now.passed:
            append(Fixed(fixture_id=fixture_id, cell=cell, sample_index=sample_index))
        else:
            kinds = _failure_kinds(now)
            before = _failure_kinds(old)
            if kinds == before:
                append(
                    StillFailing(
                        fixture_id=fixture_id,
                        cell=cell,
                        sample_index=sample_index,
                        new_failures=kinds,
                    )
                )
                continue
            added = _multiset_minus(kinds, before)
            worsened = bool(added)
            append(
                StillFailing(
                    fixture_id=fixture_id,
                    cell=cell,
                    sample_index=sample_index,
                    new_failures=kinds,
                    failures_added=added,
                    failures_removed=_multiset_minus(before, kinds),
                    worsened=worsened,
                    blocks=worsened and worse_blocks,
                )
            )
    return DiffSummary(tuple(entries))


def _raise_duplicate(prefix: str, check: Callable[[Any], None], values: Sequence[Any]) -> None:
    """Re-run the spec's validator on ``values`` (known to hold a duplicate), prefixed."""
    try:
        check(values)
    except DuplicateItemKeys as exc:
        msg = f"{prefix}{exc.message}"
        raise DuplicateItemKeys(msg) from None


def _report_side(reports: Iterable[ReplayReport], prefix: str | None) -> _Index:
    """:func:`_index_reports`; with a ``prefix``, raising the spec's error on a duplicate id."""
    values = _as_sequence(reports)
    index = _index_reports(values)
    if prefix is not None and index.has_duplicates:
        _raise_duplicate(prefix, validate_unique_report_keys, values)
    return index


def _item_side(items: Iterable[EvalRunItem], cells: _Cells, prefix: str | None) -> _Index:
    """:func:`_index_items`; with a ``prefix``, raising the spec's error on a duplicate key."""
    values = _as_sequence(items)
    index = _index_items(values, cells)
    if prefix is not None and index.has_duplicates:
        _raise_duplicate(prefix, validate_unique_item_keys, values)
    return index


def _diff_reports(
    baseline_reports: Iterable[ReplayReport],
    new_reports: Iterable[ReplayReport],
    policy: DriftPolicy | None,
    *,
    checked: bool,
) -> DiffSummary:
    """The report-keyed diff; ``checked``: the baseline's ids first, then the new ones."""
    with gc_paused():
        baseline = _report_side(baseline_reports, "baseline: " if checked else None)
        new = _report_side(new_reports, "new: " if checked else None)
        return _diff(baseline, new, _NO_CELLS, policy or DriftPolicy.scripted())


def _diff_items(
    baseline_items: Iterable[EvalRunItem],
    new_items: Iterable[EvalRunItem],
    policy: DriftPolicy | None,
    *,
    checked: bool,
) -> DiffSummary:
    """The item-keyed diff; ``checked``: the baseline's keys first, then the new ones."""
    cells = _Cells()
    with gc_paused():
        baseline = _item_side(baseline_items, cells, "baseline: " if checked else None)
        new = _item_side(new_items, cells, "new: " if checked else None)
        live = baseline.any_cell or new.any_cell
        return _diff(baseline, new, cells, policy or _default_policy(live=live))


def _as_sequence(values: Iterable[T]) -> Sequence[T]:
    return values if isinstance(values, Sequence) else tuple(values)


def _default_policy(*, live: bool) -> DriftPolicy:
    return DriftPolicy.live() if live else DriftPolicy.scripted()


# -- report-keyed diff (§2.4) ----------------------------------------------------------


def diff_against_baseline(
    baseline_reports: Iterable[ReplayReport],
    new_reports: Iterable[ReplayReport],
    *,
    policy: DriftPolicy | None = None,
) -> DiffSummary:
    """Diff report lists keyed by fixture id (spec §2.4).

    Reports pair by ``fixture_id`` only; duplicates are not detected, a later report
    overwrites an earlier one with the same id (use :func:`diff_against_baseline_checked`
    to reject them). Entries are sorted by fixture id and carry no cell and no sample
    index.

    Args:
        baseline_reports: The baseline's reports.
        new_reports: The new reports.
        policy: What drift compares and whether a worsened still-failing entry blocks;
            default :meth:`DriftPolicy.scripted`.

    Returns:
        One entry per fixture id of either side.
    """
    return _diff_reports(baseline_reports, new_reports, policy, checked=False)


def diff_against_baseline_checked(
    baseline_reports: Iterable[ReplayReport],
    new_reports: Iterable[ReplayReport],
    *,
    policy: DriftPolicy | None = None,
) -> DiffSummary:
    """Like :func:`diff_against_baseline`, after checking both sides for duplicate ids.

    Args:
        baseline_reports: The baseline's reports.
        new_reports: The new reports.
        policy: As for :func:`diff_against_baseline`.

    Returns:
        One entry per fixture id of either side.

    Raises:
        DuplicateItemKeys: the baseline (checked first; message prefixed ``"baseline: "``)
            or the new side (prefixed ``"new: "``) repeats a fixture id.
    """
    return _diff_reports(baseline_reports, new_reports, policy, checked=True)


# -- item-keyed diff (§2.5) ------------------------------------------------------------


def diff_eval_items(
    baseline_items: Iterable[EvalRunItem],
    new_items: Iterable[EvalRunItem],
    *,
    policy: DriftPolicy | None = None,
) -> DiffSummary:
    """Diff run items keyed by (fixture id, cell, sample index) (spec §2.5).

    An absent cell and a cell without model are the same key component; an absent
    sample index is its own key component (not sample 0). Different models of one
    fixture are independent entries, and so are different sample indexes. Duplicates
    are not detected: a later item overwrites an earlier one with the same key (use
    :func:`diff_eval_items_checked` to reject them).

    Entries are sorted by fixture id, then cell (default first, then models by string
    order), then sample index (absent first). Each carries the key's cell (``None``
    for the default cell) and sample index. With no cells and no sample indexes the
    result equals :func:`diff_against_baseline` of the items' reports.

    Args:
        baseline_items: The baseline's items.
        new_items: The new items.
        policy: What drift compares and whether a worsened still-failing entry blocks.
            Default: :meth:`DriftPolicy.live` when any item of either side has a cell
            (even one without a model), else :meth:`DriftPolicy.scripted`.

    Returns:
        One entry per item key of either side.
    """
    return _diff_items(baseline_items, new_items, policy, checked=False)


def diff_eval_items_checked(
    baseline_items: Iterable[EvalRunItem],
    new_items: Iterable[EvalRunItem],
    *,
    policy: DriftPolicy | None = None,
) -> DiffSummary:
    """Like :func:`diff_eval_items`, after checking both sides for duplicate item keys.

    Args:
        baseline_items: The baseline's items.
        new_items: The new items.
        policy: As for :func:`diff_eval_items`.

    Returns:
        One entry per item key of either side.

    Raises:
        DuplicateItemKeys: the baseline (checked first; message prefixed ``"baseline: "``)
            or the new side (prefixed ``"new: "``) repeats an item key.
    """
    return _diff_items(baseline_items, new_items, policy, checked=True)


# -- run against run (§4.8) ------------------------------------------------------------


def diff_runs(
    baseline_run: EvalRun, current_run: EvalRun, *, policy: DriftPolicy | None = None
) -> DiffSummary:
    """Diff a current run against its baseline run (spec §4.8).

    Steps:

    1. The current run's item keys must be unique, then the baseline's.
    2. When any item of either run has a cell or a sample index, the runs are diffed
       item by item (:func:`diff_eval_items`).
    3. Otherwise the items' reports are diffed by fixture id
       (:func:`diff_against_baseline`), after checking that the reports' fixture ids
       are unique on both sides (current first).

    Unlike the reference, a duplicate is a :class:`~awaken_eval.DuplicateItemKeys`
    (status 400) on both paths (spec §8.1 item 17). Comparability of the two runs
    (dataset, revision, mode, sample count) is checked by the baseline validation
    before, not here.

    Args:
        baseline_run: The baseline.
        current_run: The run being checked.
        policy: What drift compares and whether a worsened still-failing entry blocks.
            Default: :meth:`DriftPolicy.live` when either run is a live run, else
            :meth:`DriftPolicy.scripted`.

    Returns:
        One entry per item key (or fixture id) of either run.

    Raises:
        DuplicateItemKeys: with the message prefixed ``"current run <id>: "`` or
            ``"baseline run <id>: "``.
    """
    if policy is None:
        live = EvalRunExecutionMode.LIVE in (
            baseline_run.execution_mode,
            current_run.execution_mode,
        )
        policy = _default_policy(live=live)
    current_prefix = f"current run {current_run.id}: "
    baseline_prefix = f"baseline run {baseline_run.id}: "
    cells = _Cells()
    with gc_paused():
        current = _item_side(current_run.items, cells, current_prefix)
        baseline = _item_side(baseline_run.items, cells, baseline_prefix)
        if (
            current.any_cell
            or current.any_sample_index
            or baseline.any_cell
            or baseline.any_sample_index
        ):
            return _diff(baseline, current, cells, policy)
        current_reports = tuple(item.report for item in current_run.items)
        baseline_reports = tuple(item.report for item in baseline_run.items)
        current = _report_side(current_reports, current_prefix)
        baseline = _report_side(baseline_reports, baseline_prefix)
        return _diff(baseline, current, _NO_CELLS, policy)
