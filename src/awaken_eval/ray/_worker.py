"""The Ray side: what the driver ships to each actor, and the actor that runs batches.

An actor builds the user's parts once (:func:`build_worker_runner`) and runs each batch
of unit indexes on its own event loop, under one concurrency limit shared by the
batches it holds, yielding finished items back to the driver in chunks as they finish.
Nothing here imports ``ray``: the driver wraps :class:`UnitActor` with ``ray.remote``.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator, Callable, Sequence

import anyio
import attrs

from awaken_eval._engine.agent_loop import AgentLoopReplayer
from awaken_eval._engine.dispatch import UnitSpec, UnitWork, build_unit_runner
from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.plan import RunPlan
from awaken_eval._engine.units import UnitRunner
from awaken_eval._io.imports import load_factory
from awaken_eval._records.inference import (
    AgentSpec,
    InferenceRequest,
    InferenceResult,
    ResolvedModel,
)
from awaken_eval._records.runs import EvalRunItem
from awaken_eval.errors import InvalidRequest
from awaken_eval.protocols import Judge, LlmExecutor, Replayer

__all__ = ["Chunk", "UnitActor", "WorkerPayload", "build_worker_runner", "payload_for"]

Chunk = list[tuple[int, EvalRunItem]]
"""Finished units of a batch: (unit index, item) pairs, in completion order."""


class _BuiltOnWorker:
    """Stands for an executor the worker builds from ``UnitSpec.executor``."""

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Never called: replaced on the worker before any unit runs."""
        del request
        msg = "executor placeholder called: UnitSpec.executor was not applied"
        raise RuntimeError(msg)


@attrs.frozen(kw_only=True)
class WorkerPayload:
    """What every actor receives once: the plan, the options and how to build parts.

    Attributes:
        plan: The run's units.
        options: The run's options.
        models: The cells' models (executors replaced by placeholders when
            ``spec.executor`` builds them on the worker).
        replayer: The driver's replayer, or ``None`` when ``spec.replayer`` builds it.
        agent: The agent spec.
        judge: The driver's judge, or ``None`` when there is none or ``spec.judge``
            builds it.
        spec: How the worker builds its parts.
    """

    plan: RunPlan
    options: RunOptions
    models: tuple[ResolvedModel, ...]
    replayer: Replayer | None
    agent: AgentSpec | None
    judge: Judge | None
    spec: UnitSpec


def payload_for(work: UnitWork, spec: UnitSpec) -> WorkerPayload:
    """The payload of ``work``: the driver's parts, minus those ``spec`` builds remotely."""
    models = tuple(work.models)
    if spec.executor is not None:
        models = tuple(attrs.evolve(model, executor=_BuiltOnWorker()) for model in models)
    return WorkerPayload(
        plan=work.plan,
        options=work.options,
        models=models,
        replayer=None if spec.replayer is not None else work.replayer,
        agent=work.agent,
        judge=None if spec.judge is not None else work.judge,
        spec=spec,
    )


def _factory(part: str | Callable[..., object], what: str) -> Callable[..., object]:
    return load_factory(part, what=what) if isinstance(part, str) else part


def _built(part: str | Callable[..., object], what: str, *args: object) -> object:
    factory = _factory(part, what)
    try:
        return factory(*args)
    except Exception as exc:  # noqa: BLE001 - the factory is user code: name it
        shown = ", ".join(repr(arg) for arg in args)
        msg = f"{what} {part!r}: factory({shown}) raised {type(exc).__name__}: {exc}"
        raise InvalidRequest(msg) from None


def _checked(value: object, kind: type, what: str, part: object) -> None:
    if not isinstance(value, kind):
        msg = f"{what} {part!r} returned {type(value).__name__}, not a {kind.__name__}"
        raise InvalidRequest(msg)


def build_worker_runner(payload: WorkerPayload) -> UnitRunner:
    """Build the parts ``payload.spec`` names and the unit runner over them.

    Raises:
        InvalidRequest: an import string that does not load, a factory that raises or
            returns the wrong kind of object (named: ``UnitSpec.replayer '...': ...``).
    """
    spec = payload.spec
    replayer = payload.replayer
    if spec.replayer is not None:
        built = _built(spec.replayer, "UnitSpec.replayer")
        _checked(built, Replayer, "UnitSpec.replayer", spec.replayer)
        replayer = built  # type: ignore[assignment]
    models: Sequence[ResolvedModel] = payload.models
    if spec.executor is not None:
        rebuilt = []
        for model in payload.models:
            executor = _built(spec.executor, "UnitSpec.executor", model.model_id)
            _checked(executor, LlmExecutor, "UnitSpec.executor", spec.executor)
            rebuilt.append(attrs.evolve(model, executor=executor))  # type: ignore[arg-type]
        models = rebuilt
    judge = payload.judge
    if spec.judge is not None:
        built_judge = _built(spec.judge, "UnitSpec.judge")
        _checked(built_judge, Judge, "UnitSpec.judge", spec.judge)
        judge = built_judge  # type: ignore[assignment]
    return build_unit_runner(
        payload.plan,
        payload.options,
        models,
        replayer=replayer if replayer is not None else AgentLoopReplayer(),
        agent=payload.agent,
        judge=judge,
        sink=None,
    )


class UnitActor:
    """A Ray actor (async): builds the parts once, then runs batches of units.

    The build error, if any, is kept and reported by :meth:`ready`, so that a bad
    import string fails the run with its message instead of killing actors in a loop.
    """

    def __init__(self, payload: WorkerPayload) -> None:
        """Build the unit runner of ``payload`` (errors are kept for :meth:`ready`)."""
        self._concurrency = payload.options.max_concurrency
        self._limiter: anyio.CapacityLimiter | None = None
        self._run_unit: UnitRunner | None = None
        self._error: str | None = None
        try:
            self._run_unit = build_worker_runner(payload)
        except InvalidRequest as exc:
            self._error = exc.message
        except Exception as exc:  # noqa: BLE001 - reported to the driver by ready()
            self._error = f"building the unit parts raised {type(exc).__name__}: {exc}"

    async def ready(self) -> tuple[int, str | None]:
        """This worker's pid, and why its parts could not be built (``None``: built)."""
        return os.getpid(), self._error

    async def run_batch(self, indexes: list[int]) -> AsyncIterator[Chunk]:
        """Run the units ``indexes``; yield their items in chunks as they finish."""
        run_unit = self._run_unit
        if run_unit is None:
            msg = self._error or "unit parts not built"
            raise InvalidRequest(msg)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        limiter = self._limiter
        send, receive = anyio.create_memory_object_stream[tuple[int, EvalRunItem]](math.inf)
        pending = iter(indexes)

        async def worker() -> None:
            for index in pending:
                async with limiter:
                    item = await run_unit(index)
                send.send_nowait((index, item))

        async def produce() -> None:
            async with send, anyio.create_task_group() as group:
                for _ in range(min(self._concurrency, len(indexes))):
                    group.start_soon(worker)

        task = asyncio.ensure_future(produce())
        try:
            async with receive:
                async for first in receive:
                    chunk: Chunk = [first]
                    while True:
                        try:
                            chunk.append(receive.receive_nowait())
                        except (anyio.WouldBlock, anyio.EndOfStream):
                            break
                    yield chunk
            await task
        finally:
            task.cancel()
