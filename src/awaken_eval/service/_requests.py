"""The requests a host hands to :class:`~awaken_eval.EvalService`, and its limits.

The records mirror the JSON bodies of the reference's ``POST /v1/eval/runs`` and
``POST /v1/eval/online`` (spec §4.4, §4.5). They are plain frozen records: build them
in Python, or parse a JSON body with :func:`~awaken_eval.parse_request`, which rejects
unknown keys and wrong types with the JSON path of every problem.

Which fields are *present* matters: a :class:`StartRunRequest` with ``models`` set (even
to an empty tuple) asks for a live run, and most rules check presence, not value. Absent
optional fields are ``None``.
"""

from __future__ import annotations

from enum import Enum

import attrs

from awaken_eval._records.expectations import Expectation
from awaken_eval._records.inference import AgentSpec, SamplingParams
from awaken_eval._records.types import U32, U64
from awaken_eval.errors import InvalidInput

__all__ = [
    "AgentSpecPatch",
    "EvalLimits",
    "JudgeRequestSpec",
    "OnlineEvalRequest",
    "RequestedMode",
    "SamplingPatch",
    "StartRunRequest",
]


class RequestedMode(Enum):
    """The ``mode`` of a start-run request."""

    SCRIPTED = "scripted"
    """Replay every fixture from its recorded provider script."""
    LIVE = "live"
    """Run every fixture against live models."""


@attrs.frozen(kw_only=True)
class JudgeRequestSpec:
    """The ``judge`` of a request: which model grades, with which rubric.

    Attributes:
        model_id: The judge's model, resolved like the matrix models.
        rubric: Grading instructions (required by fixtures with ``min_judge_score``).
        revise_max_retries: Revise-and-retry loop limit (absent or 0: no loop; the
            judge still grades).
    """

    model_id: str
    rubric: str | None = None
    revise_max_retries: U32 | None = None


@attrs.frozen(kw_only=True)
class SamplingPatch:
    """Sampling overrides; each present value replaces the base agent's.

    Attributes:
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        max_tokens: Output token limit.
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: U32 | None = None

    def apply(self, base: SamplingParams) -> SamplingParams:
        """Return ``base`` with every present value of this patch replacing its own."""
        return SamplingParams(
            temperature=base.temperature if self.temperature is None else self.temperature,
            top_p=base.top_p if self.top_p is None else self.top_p,
            max_tokens=base.max_tokens if self.max_tokens is None else self.max_tokens,
        )


@attrs.frozen(kw_only=True)
class AgentSpecPatch:
    """Overrides of a live run's agent (``agent_overrides``); absent fields keep the base.

    Attributes:
        system_prompt: Replaces the system prompt.
        allowed_tools: Replaces the names of the tools the agent may use.
        sampling: Replaces sampling values one by one.
        max_rounds: Replaces the most inference rounds per turn.
    """

    system_prompt: str | None = None
    allowed_tools: tuple[str, ...] | None = None
    sampling: SamplingPatch | None = None
    max_rounds: U32 | None = None

    def apply(self, base: AgentSpec) -> AgentSpec:
        """Return ``base`` with this patch applied (the id is kept)."""
        return AgentSpec(
            id=base.id,
            system_prompt=base.system_prompt if self.system_prompt is None else self.system_prompt,
            allowed_tools=base.allowed_tools if self.allowed_tools is None else self.allowed_tools,
            sampling=base.sampling if self.sampling is None else self.sampling.apply(base.sampling),
            max_rounds=base.max_rounds if self.max_rounds is None else self.max_rounds,
        )


@attrs.frozen(kw_only=True)
class StartRunRequest:
    """Run a stored dataset (``POST /v1/eval/runs``, spec §4.4).

    Attributes:
        dataset_id: The dataset to run.
        baseline_run_id: A stored run to diff the new run against.
        mode: Scripted or live; absent: live when ``models`` is present, else scripted.
        models: Live mode: the model ids of the matrix, one cell each.
        agent_id: Live mode: the agent to run (default: the built-in agent).
        agent_overrides: Live mode: overrides applied to that agent.
        samples: Live mode: samples per (fixture, model).
        judge: Live mode: the judge for fixtures with ``min_judge_score``.
        max_walltime_secs: Live mode: deadline of one cell (default from the limits).
        max_total_tokens: Live mode: token budget of one cell (default from the limits).
    """

    dataset_id: str
    baseline_run_id: str | None = None
    mode: RequestedMode | None = None
    models: tuple[str, ...] | None = None
    agent_id: str | None = None
    agent_overrides: AgentSpecPatch | None = None
    samples: U32 | None = None
    judge: JudgeRequestSpec | None = None
    max_walltime_secs: U64 | None = None
    max_total_tokens: U64 | None = None

    @property
    def live(self) -> bool:
        """Whether the run is live: the explicit mode, else whether ``models`` is present."""
        if self.mode is not None:
            return self.mode is RequestedMode.LIVE
        return self.models is not None


@attrs.frozen(kw_only=True)
class OnlineEvalRequest:
    """Run one ad-hoc prompt against live models (``POST /v1/eval/online``, spec §4.5).

    Attributes:
        user_input: The user prompt.
        models: The model ids of the matrix (required, non-empty, unique).
        agent_id: The agent to run (default: the built-in agent).
        agent_overrides: Overrides applied to that agent.
        expectations: What the answers must satisfy (default: nothing).
        persist: Whether the run is written to the run store.
        max_walltime_secs: Deadline of one cell (default from the limits).
        max_total_tokens: Token budget of one cell (default from the limits).
        samples: Samples per model.
        judge: The judge for a ``min_judge_score`` expectation.
    """

    user_input: str
    models: tuple[str, ...]
    agent_id: str | None = None
    agent_overrides: AgentSpecPatch | None = None
    expectations: Expectation = attrs.field(factory=Expectation)
    persist: bool = True
    max_walltime_secs: U64 | None = None
    max_total_tokens: U64 | None = None
    samples: U32 | None = None
    judge: JudgeRequestSpec | None = None


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        msg = f"{attribute.name} must be > 0, got {value}"
        raise InvalidInput.single(f"$.{attribute.name}", msg)


@attrs.frozen(kw_only=True)
class EvalLimits:
    """Caps and defaults of the service (the reference's ``eval_limits``, spec §4.1).

    Every value must be > 0; a zero is refused at construction with a message naming
    the field (``max_concurrent_matrix_cells must be > 0``).

    Attributes:
        max_cells_per_sync_run: Most units (fixtures x cells x samples) of a dataset run.
        max_concurrent_matrix_cells: Units of a dataset run executed at once.
        max_cells_per_sync_online: Most units (models x samples) of an online run.
        max_concurrent_online_cells: Units of an online run executed at once.
        max_samples_per_cell: Most ``samples`` of any request.
        max_judge_revisions: Most ``judge.revise_max_retries`` of any request.
        default_import_traces_max: Default number of traces one import curates.
        default_max_walltime_secs: Deadline of one live cell when a request gives none.
        default_max_total_tokens: Token budget of one live cell when a request gives none.
        max_walltime_secs: The longest deadline of one live cell a request may ask for
            (an hour by default; must be at least ``default_max_walltime_secs``).
    """

    max_cells_per_sync_run: int = attrs.field(default=100, validator=_positive)
    max_concurrent_matrix_cells: int = attrs.field(default=5, validator=_positive)
    max_cells_per_sync_online: int = attrs.field(default=10, validator=_positive)
    max_concurrent_online_cells: int = attrs.field(default=5, validator=_positive)
    max_samples_per_cell: int = attrs.field(default=20, validator=_positive)
    max_judge_revisions: int = attrs.field(default=3, validator=_positive)
    default_import_traces_max: int = attrs.field(default=50, validator=_positive)
    default_max_walltime_secs: int = attrs.field(default=60, validator=_positive)
    default_max_total_tokens: int = attrs.field(default=10_000, validator=_positive)
    max_walltime_secs: int = attrs.field(default=3600, validator=_positive)

    def __attrs_post_init__(self) -> None:
        """Check that the default deadline is within the cap."""
        if self.default_max_walltime_secs > self.max_walltime_secs:
            msg = (
                f"default_max_walltime_secs={self.default_max_walltime_secs} exceeds "
                f"max_walltime_secs={self.max_walltime_secs}"
            )
            raise ValueError(msg)
