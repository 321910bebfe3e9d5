"""Baseline comparability: may a new run be diffed against a stored baseline run?

:func:`validate_baseline` applies the reference's rules (spec §4.7 steps 2 to 7) in
order: neither run is ad hoc, same dataset, same dataset revision, same execution mode,
same sample count, and a baseline whose item keys are unique.

It goes further than the reference with *content digests*. A run records the digest of
every fixture it executed (:attr:`~awaken_eval.EvalRun.fixture_digests`, a stable hash
of the fixture's canonical JSON, see :func:`fixture_digest`). When both runs carry
digests, the returned :class:`BaselineCheck` lists the fixtures whose content changed
between the runs, and those added or removed, so that a caller never silently diffs a
changed case as if it were the same one (e.g. a fixture edited in place without a
dataset revision bump, or a dataset restored from another source).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from awaken_eval._records.rules import validate_baseline_sample_count, validate_unique_item_keys
from awaken_eval._records.runs import ADHOC_DATASET_ID, EvalRun, EvalRunExecutionMode
from awaken_eval._records.types import U64
from awaken_eval.errors import DuplicateItemKeys, InvalidRequest

__all__ = [
    "BaselineCheck",
    "NewRunMeta",
    "validate_baseline",
]


@attrs.frozen
class NewRunMeta:
    """What :func:`validate_baseline` needs to know about the new run.

    Attributes:
        dataset_id: The dataset the new run executes (``_adhoc`` for online runs).
        dataset_revision: The dataset revision it executes.
        execution_mode: Scripted or live.
        samples: Samples per (fixture, cell) of a live run, when known.
        fixture_digests: The digests of the fixtures it executes (see
            :func:`fixture_digests`); empty when unknown.
    """

    dataset_id: str
    dataset_revision: U64
    execution_mode: EvalRunExecutionMode
    samples: int | None = attrs.field(default=None, kw_only=True)
    fixture_digests: Mapping[str, str] = attrs.field(factory=dict, kw_only=True, hash=False)


@attrs.frozen(kw_only=True)
class BaselineCheck:
    """The outcome of a successful :func:`validate_baseline`: how the fixtures moved.

    The three lists are filled only when both runs carry fixture digests
    (``digests_compared``); otherwise the comparison falls back to the reference's
    rules (same dataset and revision) and all three are empty. A caller diffing the
    runs should report ``changed_fixtures`` rather than treat those items as the same
    cases.

    Attributes:
        baseline_run_id: The baseline run that was checked.
        digests_compared: Whether both runs carried fixture digests.
        changed_fixtures: Ids present in both runs whose content digest differs, sorted.
        added_fixtures: Ids only the new run executes, sorted.
        removed_fixtures: Ids only the baseline executed, sorted.
    """

    baseline_run_id: str
    digests_compared: bool = False
    changed_fixtures: tuple[str, ...] = ()
    added_fixtures: tuple[str, ...] = ()
    removed_fixtures: tuple[str, ...] = ()

    @property
    def fixtures_changed(self) -> bool:
        """Whether any fixture changed, appeared or disappeared between the runs."""
        return bool(self.changed_fixtures or self.added_fixtures or self.removed_fixtures)


def validate_baseline(baseline_run: EvalRun, new_run: NewRunMeta) -> BaselineCheck:
    """Check that ``new_run`` can be diffed against ``baseline_run`` (spec §4.7, 2 to 7).

    The rules run in this order, and the first one broken raises:

    2. neither run is ad hoc (dataset ``_adhoc``): persist the fixtures as a dataset
       first;
    3. both runs executed the same dataset;
    4. ... at the same dataset revision;
    5. ... in the same execution mode;
    6. a live baseline ran as many samples per (fixture, cell) as the new run will
       (:func:`~awaken_eval.validation.validate_baseline_sample_count`);
    7. the baseline's item keys are unique.

    Then, when both runs carry fixture digests, the fixtures are compared by content:
    the result names every fixture that changed, appeared or disappeared, so a changed
    case is never silently diffed as if it were the same one.

    Args:
        baseline_run: The stored baseline run.
        new_run: The new run's dataset, revision, mode, samples and digests.

    Returns:
        The digest comparison (empty lists when either side has no digests).

    Raises:
        InvalidRequest: ``ad-hoc``, ``cannot diff across datasets: ...``,
            ``cannot diff across dataset revisions: ...``,
            ``cannot diff across execution modes: baseline=<m> new=<m>``,
            ``different sample counts`` or a sample-layout error of the baseline.
        DuplicateItemKeys: ``baseline run <id>: duplicate eval-run item key: ...``.
    """
    baseline_id = baseline_run.id
    if ADHOC_DATASET_ID in (baseline_run.dataset_id, new_run.dataset_id):
        msg = (
            f"cannot diff ad-hoc runs (dataset {ADHOC_DATASET_ID}) against a baseline: "
            f"baseline run {baseline_id} dataset={baseline_run.dataset_id} "
            f"new dataset={new_run.dataset_id}; persist the fixtures as a dataset first"
        )
        raise InvalidRequest(msg)
    if baseline_run.dataset_id != new_run.dataset_id:
        msg = (
            f"cannot diff across datasets: baseline run {baseline_id} "
            f"dataset={baseline_run.dataset_id} new dataset={new_run.dataset_id}"
        )
        raise InvalidRequest(msg)
    if baseline_run.dataset_revision != new_run.dataset_revision:
        msg = (
            f"cannot diff across dataset revisions: baseline run {baseline_id} "
            f"revision={baseline_run.dataset_revision} new revision={new_run.dataset_revision}"
        )
        raise InvalidRequest(msg)
    if baseline_run.execution_mode is not new_run.execution_mode:
        msg = (
            "cannot diff across execution modes: "
            f"baseline={baseline_run.execution_mode.value} new={new_run.execution_mode.value}"
        )
        raise InvalidRequest(msg)
    validate_baseline_sample_count(baseline_run, new_run.samples)
    try:
        validate_unique_item_keys(baseline_run.items)
    except DuplicateItemKeys as exc:
        msg = f"baseline run {baseline_id}: {exc.message}"
        raise DuplicateItemKeys(msg) from exc
    return _compare_digests(baseline_id, baseline_run.fixture_digests, new_run.fixture_digests)


def _compare_digests(
    baseline_id: str, baseline: Mapping[str, str], new: Mapping[str, str]
) -> BaselineCheck:
    if not baseline or not new:
        return BaselineCheck(baseline_run_id=baseline_id)
    changed = sorted(
        fixture_id
        for fixture_id, digest in new.items()
        if fixture_id in baseline and baseline[fixture_id] != digest
    )
    return BaselineCheck(
        baseline_run_id=baseline_id,
        digests_compared=True,
        changed_fixtures=tuple(changed),
        added_fixtures=tuple(sorted(new.keys() - baseline.keys())),
        removed_fixtures=tuple(sorted(baseline.keys() - new.keys())),
    )
