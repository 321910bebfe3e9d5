"""Pure validation rules shared by the CLI, the service and the stores (spec §1.16, §2.7-2.13).

Every function returns normally when its rule holds and raises an
:class:`~awaken_eval.InvalidRequest` (status 400) whose message contains the
substrings the reference's tests pin.
"""

from __future__ import annotations

from collections.abc import Iterable

from awaken_eval._records.expectations import Expectation
from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRun, EvalRunExecutionMode, EvalRunItem, ItemKey
from awaken_eval.errors import DuplicateItemKeys, InvalidRequest

__all__ = [
    "live_run_sample_count",
    "validate_baseline_sample_count",
    "validate_dataset_for_write",
    "validate_judge_required_for_expectation",
    "validate_min_judge_score",
    "validate_offline_expectation",
    "validate_unique_item_keys",
    "validate_unique_models",
    "validate_unique_report_keys",
]


def validate_unique_report_keys(reports: Iterable[ReplayReport]) -> None:
    """Check that no two reports share a ``fixture_id``.

    Raises:
        DuplicateItemKeys: naming the first repeated id (``duplicate report fixture_id: <id>``).
    """
    seen: set[str] = set()
    for report in reports:
        if report.fixture_id in seen:
            msg = f"duplicate report fixture_id: {report.fixture_id}"
            raise DuplicateItemKeys(msg)
        seen.add(report.fixture_id)


def validate_unique_item_keys(items: Iterable[EvalRunItem]) -> None:
    """Check that no two items share an item key (fixture, cell, sample index).

    An absent cell and a cell without model are the same key component.

    Raises:
        DuplicateItemKeys: describing the first repeated key
            (``duplicate eval-run item key: fixture 'a', model 'm', sample 0``).
    """
    seen: set[ItemKey] = set()
    for item in items:
        key = item.key
        if key in seen:
            msg = f"duplicate eval-run item key: {key.describe()}"
            raise DuplicateItemKeys(msg)
        seen.add(key)


def validate_min_judge_score(expectation: Expectation, label: str) -> None:
    """Check that ``min_judge_score``, when present, is finite and in [0.0, 1.0].

    Both bounds are inclusive; NaN and infinities are rejected.

    Args:
        expectation: The expectation to check.
        label: Names the expectation in the message (e.g. ``fixture greet``).

    Raises:
        InvalidRequest: naming the label, ``min_judge_score``, the value and
            ``[0.0, 1.0]``.
    """
    value = expectation.min_judge_score
    if value is None or 0.0 <= value <= 1.0:  # NaN fails every comparison, inf the bounds
        return
    msg = f"{label}: min_judge_score must be a finite number in [0.0, 1.0], got {value}"
    raise InvalidRequest(msg)


def validate_offline_expectation(expectation: Expectation, label: str) -> None:
    """Check that an expectation can be graded offline (without an LLM judge).

    The range check of :func:`validate_min_judge_score` runs first (its error wins);
    then any ``min_judge_score`` at all is rejected, since offline replay and curation
    cannot run a judge.

    Args:
        expectation: The expectation to check.
        label: Names the expectation in the message.

    Raises:
        InvalidRequest: for an out-of-range score, or ``offline awaken-eval`` cannot
            check ``min_judge_score``.
    """
    validate_min_judge_score(expectation, label)
    if expectation.min_judge_score is not None:
        msg = (
            f"{label}: min_judge_score needs an LLM judge, which offline awaken-eval "
            "cannot run; run a live eval with a judge (judge.rubric) or remove the "
            "criterion"
        )
        raise InvalidRequest(msg)


def validate_judge_required_for_expectation(
    expectation: Expectation,
    label: str,
    *,
    live: bool,
    has_judge: bool,
    rubric: str | None,
) -> None:
    """Check that a run can grade an expectation's ``min_judge_score``.

    In order: no ``min_judge_score`` is fine; the score must be in range
    (:func:`validate_min_judge_score`); the run must be live; a judge must be given;
    the judge's rubric must be non-blank.

    Args:
        expectation: The expectation to check.
        label: Names the expectation in the message.
        live: Whether the run is in live mode.
        has_judge: Whether the request provides a judge.
        rubric: The judge's rubric, if any.

    Raises:
        InvalidRequest: for the first rule broken: the range message, ``mode="live"``,
            ``provide `judge```, or ``judge.rubric``.
    """
    if expectation.min_judge_score is None:
        return
    validate_min_judge_score(expectation, label)
    if not live:
        msg = f'{label}: min_judge_score needs LLM grading: run with mode="live" and a judge'
        raise InvalidRequest(msg)
    if not has_judge:
        msg = f"{label}: min_judge_score needs an LLM judge: provide `judge` in the request"
        raise InvalidRequest(msg)
    if rubric is None or not rubric.strip():
        msg = f"{label}: min_judge_score needs a non-empty judge.rubric"
        raise InvalidRequest(msg)


def validate_unique_models(models: Iterable[str]) -> None:
    """Check that the models axis of a live run names each model once.

    Args:
        models: The model ids, in request order.

    Raises:
        InvalidRequest: naming the first repeated id
            (``duplicate model id in models axis: <id>``).
    """
    seen: set[str] = set()
    for model_id in models:
        if model_id in seen:
            msg = f"duplicate model id in models axis: {model_id}"
            raise InvalidRequest(msg)
        seen.add(model_id)


def _describe_group(fixture_id: str, model_id: str | None) -> str:
    cell = "default cell" if model_id is None else f"model {model_id!r}"
    return f"fixture {fixture_id!r}, {cell}"


def live_run_sample_count(run: EvalRun) -> int | None:
    """The number of samples every (fixture, cell) group of a live run holds.

    Items are grouped by fixture and cell (an absent cell and a cell without model are
    one group). A group's sample indexes must be exactly ``0..n-1``; a group whose
    items carry no sample index is a one-sample group. Improvement over the reference
    (spec §8.1 item 18): an absent index is *not* index 0, so a group mixing items with
    and without an index is rejected instead of silently collapsing. Repeated indexes
    are not this rule's concern (see :func:`validate_unique_item_keys`).

    Args:
        run: The run to inspect.

    Returns:
        The common sample count, or ``None`` for a scripted or empty run.

    Raises:
        InvalidRequest: ``non-contiguous samples`` (naming the run, fixture, cell and
            indexes) or ``inconsistent sample counts across live cells``.
    """
    if run.execution_mode is not EvalRunExecutionMode.LIVE or not run.items:
        return None
    indexed: dict[tuple[str, str | None], set[int]] = {}
    unindexed: set[tuple[str, str | None]] = set()
    for item in run.items:
        group = (item.fixture_id, None if item.cell is None else item.cell.model_id)
        indexes = indexed.setdefault(group, set())
        if item.sample_index is None:
            unindexed.add(group)
        else:
            indexes.add(item.sample_index)
    count: int | None = None
    first = ""
    for (fixture_id, model_id), indexes in indexed.items():
        described = _describe_group(fixture_id, model_id)
        ordered = sorted(indexes)
        if not ordered:
            size = 1  # only unindexed items: a one-sample group
        elif (fixture_id, model_id) in unindexed:
            msg = (
                f"live run {run.id}: non-contiguous samples for {described}: items "
                f"without a sample index mixed with indexes {ordered}"
            )
            raise InvalidRequest(msg)
        elif ordered[-1] != len(ordered) - 1:  # a set of n indexes is 0..n-1 iff max == n-1
            msg = (
                f"live run {run.id}: non-contiguous samples for {described}: indexes "
                f"{ordered}, expected 0..{len(ordered) - 1}"
            )
            raise InvalidRequest(msg)
        else:
            size = len(ordered)
        if count is None:
            count, first = size, described
        elif size != count:
            msg = (
                f"live run {run.id}: inconsistent sample counts across live cells: "
                f"{first} has {count}, {described} has {size}"
            )
            raise InvalidRequest(msg)
    return count


def validate_baseline_sample_count(baseline_run: EvalRun, new_run_samples: int | None) -> None:
    """Check that a live baseline ran as many samples per cell as the new run will.

    Nothing is checked when the new run's sample count is unknown, or when the baseline
    is not live or has no items.

    Args:
        baseline_run: The baseline run.
        new_run_samples: The new run's samples per (fixture, cell), if known.

    Raises:
        InvalidRequest: ``different sample counts`` (naming the baseline id and both
            counts), or any error of :func:`live_run_sample_count` on the baseline.
    """
    if new_run_samples is None:
        return
    baseline_samples = live_run_sample_count(baseline_run)
    if baseline_samples is None or baseline_samples == new_run_samples:
        return
    msg = (
        f"baseline run {baseline_run.id} and the new run have different sample counts: "
        f"baseline={baseline_samples} new={new_run_samples}"
    )
    raise InvalidRequest(msg)


def validate_dataset_for_write(spec: DatasetSpec) -> None:
    """Check a dataset before it is stored (spec §1.16), rules in order.

    1. Fixture ids are unique.
    2. Each fixture's ``min_judge_score`` is in range (label ``fixture <id>``).

    Args:
        spec: The dataset to store.

    Raises:
        DuplicateItemKeys: ``duplicate fixture id in dataset: <id>`` (first repeat).
        InvalidRequest: the range message of :func:`validate_min_judge_score`.
    """
    seen: set[str] = set()
    for fixture in spec.fixtures:
        if fixture.id in seen:
            msg = f"duplicate fixture id in dataset: {fixture.id}"
            raise DuplicateItemKeys(msg)
        seen.add(fixture.id)
    for fixture in spec.fixtures:
        validate_min_judge_score(fixture.expect, f"fixture {fixture.id}")
