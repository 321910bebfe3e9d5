"""``RunOptions``: one record describing a run, validated once when it is built."""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from awaken_eval._records.events import RunEventMode
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.rules import validate_unique_models
from awaken_eval._records.runs import ADHOC_DATASET_ID, EvalRunExecutionMode
from awaken_eval.errors import InvalidRequest

__all__ = [
    "DEFAULT_MAX_WALLTIME_SECS",
    "DEFAULT_SCRIPTED_WALLTIME_SECS",
    "DEFAULT_SINK_TIMEOUT_SECS",
    "RunOptions",
]

DEFAULT_MAX_WALLTIME_SECS = 60.0
"""Wall-clock deadline of one live cell when none is given."""

DEFAULT_SCRIPTED_WALLTIME_SECS = 60.0
"""Wall-clock deadline of one scripted unit when none is given."""

DEFAULT_SINK_TIMEOUT_SECS = 10.0
"""Longest a trace sink's ``emit`` may take before its event is dropped."""


def _model_ids(models: Iterable[str]) -> tuple[str, ...]:
    return tuple(models)


def _fail(message: str) -> None:
    raise InvalidRequest(message)


@attrs.frozen(kw_only=True)
class RunOptions:
    """Everything that describes a run, apart from the objects that execute it.

    A plain, serialisable record (``to_builtins(options)`` gives JSON): a host can log
    it, and the same value drives :func:`~awaken_eval.run_eval`, the service, the
    command line and the pytest plugin. The objects a run calls (replayer, executors,
    judge, store, sink) are arguments of :func:`~awaken_eval.run_eval`.

    Every rule is checked when the record is built, so an invalid run never starts.

    Raises:
        InvalidRequest: naming the first broken rule (for example
            ``samples must be >= 1, got 0`` or ``mode="live" requires a non-empty
            list of models``).
    """

    mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED
    """Scripted replay of each fixture's provider script, or live models."""
    models: tuple[str, ...] = attrs.field(default=(), converter=_model_ids)
    """Live mode: the model ids of the matrix, one cell each, in order."""
    samples: int = 1
    """Live mode: samples per (fixture, cell); items carry ``sample_index`` only when
    there are two or more."""
    rubric: str | None = None
    """The judge's grading instructions (required when a fixture needs a judge)."""
    revise_max_retries: int | None = None
    """Live mode: the revise-and-retry loop's limit (``None`` or 0: no loop)."""
    max_concurrency: int = 5
    """Units running at once."""
    max_walltime_secs: float | None = DEFAULT_MAX_WALLTIME_SECS
    """Live mode: the deadline of one cell, shared by replay and judging (``None``: no
    deadline). A cell past it fails with ``cell walltime exceeded``, even when the code
    under test ignored the cancellation and returned late."""
    scripted_walltime_secs: float = DEFAULT_SCRIPTED_WALLTIME_SECS
    """Scripted mode: the deadline of one unit (replay and scoring), from its start. A
    unit past it, hung or merely late (a replayer blocking the event loop), fails with
    ``cell walltime exceeded``; the run goes on."""
    sink_timeout_secs: float = DEFAULT_SINK_TIMEOUT_SECS
    """Longest one ``emit`` of the trace sink may take. A late event is dropped with a
    logged warning and the run goes on; after three late events in a row the sink is
    disconnected for the rest of the run."""
    max_total_tokens: int | None = None
    """Live mode: the token budget of one cell, checked between rounds."""
    run_token_budget: int | None = None
    """Tokens the whole run may spend; once spent, no further unit is scheduled and the
    unscheduled ones become skipped items."""
    run_id: str | None = None
    """The id of the new run (default: a fresh ULID)."""
    resume: str | None = None
    """The id of an interrupted run to continue (needs a streaming store): only the
    units it is missing are executed."""
    dataset_id: str = ADHOC_DATASET_ID
    """The dataset the fixtures come from."""
    dataset_revision: int = 0
    """The dataset's revision."""
    event_mode: RunEventMode | None = None
    """The mode reported in run events (default: from ``mode``)."""

    def __attrs_post_init__(self) -> None:
        """Check every rule, in the order the service reports them."""
        _check_limits(self)
        _check_matrix(self)
        _check_ids(self)

    @property
    def is_live(self) -> bool:
        """Whether the run calls live models."""
        return self.mode is EvalRunExecutionMode.LIVE

    @property
    def reported_event_mode(self) -> RunEventMode:
        """The mode run events report: ``event_mode``, or the one ``mode`` implies."""
        if self.event_mode is not None:
            return self.event_mode
        if self.is_live:
            return RunEventMode.DATASET_LIVE_MATRIX
        return RunEventMode.DATASET_SCRIPTED


def _check_limits(options: RunOptions) -> None:
    if options.samples < 1:
        _fail(f"samples must be >= 1, got {options.samples}")
    if options.max_concurrency < 1:
        _fail(f"max_concurrency must be >= 1, got {options.max_concurrency}")
    if options.max_walltime_secs is not None and not options.max_walltime_secs > 0:
        _fail(f"max_walltime_secs must be > 0, got {options.max_walltime_secs}")
    for name in ("scripted_walltime_secs", "sink_timeout_secs"):
        seconds = getattr(options, name)
        if not 0 < seconds < math.inf:
            _fail(f"{name} must be a finite number > 0, got {seconds}")
    for name in ("max_total_tokens", "run_token_budget", "revise_max_retries"):
        value = getattr(options, name)
        if value is not None and value < 0:
            _fail(f"{name} must be >= 0, got {value}")


def _check_matrix(options: RunOptions) -> None:
    if options.is_live:
        if not options.models:
            _fail('mode="live" requires a non-empty list of models')
        validate_unique_models(options.models)
        return
    if options.models:
        _fail('`models` is only valid with mode="live"')
    if options.samples != 1:
        _fail('samples requires mode="live": scripted replays are deterministic')


def _check_ids(options: RunOptions) -> None:
    if options.resume is not None:
        validate_run_id(options.resume)
        if options.run_id is not None and options.run_id != options.resume:
            _fail(f"resume={options.resume!r} conflicts with run_id={options.run_id!r}")
    if options.run_id is not None:
        validate_run_id(options.run_id)
