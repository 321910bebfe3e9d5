"""``RayDispatcher``: a run's units on a pool of Ray actors, recorded by the driver.

The driver keeps everything but execution: it pulls units from the runner in batches,
hands each batch to an actor, and records the items as the actor streams them back
(so the store, the events, the progress and the run token budget stay where they are
for a local run). Each actor holds ``inflight`` batches at once, so it never idles
between two of them.

A batch whose actor dies (its process or node lost) is not lost: the units of it that
have not come back go to the next batch of a fresh actor, at most ``max_retries``
times each, then become failed items (:data:`ACTOR_LOST_PREFIX`). A unit's item is
recorded once: only units still outstanding in a batch are accepted from it.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from awaken_eval._engine.dispatch import UnitRecorder, UnitSpec, UnitWork
from awaken_eval._engine.units import failed_item
from awaken_eval.errors import InvalidRequest
from awaken_eval.ray._worker import Chunk, UnitActor, payload_for

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["ACTOR_LOST_PREFIX", "RayDispatcher"]

ACTOR_LOST_PREFIX = "unit lost: its Ray actor died"
"""Start of the runtime-error message of a unit whose actor died more than
``max_retries`` times while it ran."""


def _import_ray() -> ModuleType:
    try:
        import ray  # noqa: PLC0415 - the [ray] extra is optional
    except ImportError:
        msg = "RayDispatcher needs Ray: pip install 'awaken-eval[ray]'"
        raise InvalidRequest(msg) from None
    return ray


def _require_asyncio() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        msg = "RayDispatcher needs the asyncio backend (Ray's references are awaited there)"
        raise InvalidRequest(msg) from None


def _check_address(address: str | None) -> None:
    if address in {None, "local", "auto"}:
        return
    assert address is not None  # noqa: S101 - narrowed by the check above
    if not address.startswith("ray://") or address == "ray://":
        msg = f"Ray address {address!r}: expected 'local', 'auto' or ray://HOST:PORT"
        raise InvalidRequest(msg)


def _positive(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: int | None) -> None:
        if value is not None and value < 1:
            msg = f"RayDispatcher {name} must be >= 1, got {value}"
            raise InvalidRequest(msg)

    return check


def _not_negative(_instance: object, _attribute: object, value: int) -> None:
    if value < 0:
        msg = f"RayDispatcher max_retries must be >= 0, got {value}"
        raise InvalidRequest(msg)


@attrs.frozen(kw_only=True)
class RayDispatcher:
    """Run units on a pool of Ray actors (pass it as ``dispatcher=`` of a run).

    Needs the asyncio backend (the default of :func:`~awaken_eval.run_eval_sync`).
    If Ray is not initialised in this process, it is initialised with ``address``
    and ``runtime_env``; an already initialised Ray is used as it is.

    Attributes:
        spec: How each actor builds the replayer, executors and judge (import strings
            or picklable factories); without it the driver's own objects are pickled.
        address: ``"local"`` (start a Ray on this machine), ``"auto"`` (the running
            cluster) or ``"ray://HOST:PORT"`` (Ray Client).
        actors: Actors in the pool (default: the cluster's CPU count).
        batch_size: Units per batch handed to an actor.
        inflight: Batches each actor holds at once (2: it never waits for the driver).
        runtime_env: Ray's ``runtime_env`` (pip packages, working directory, env vars)
            of the actors.
        max_retries: Times a unit whose actor died is run again before it is recorded
            as a failure.
        num_cpus: CPUs each actor reserves.
    """

    spec: UnitSpec = attrs.field(factory=UnitSpec)
    address: str | None = attrs.field(default="local", validator=lambda *a: _check_address(a[2]))
    actors: int | None = attrs.field(default=None, validator=_positive("actors"))
    batch_size: int = attrs.field(default=256, validator=_positive("batch_size"))
    inflight: int = attrs.field(default=2, validator=_positive("inflight"))
    runtime_env: Mapping[str, Any] | None = None
    max_retries: int = attrs.field(default=2, validator=_not_negative)
    num_cpus: float = 1.0

    async def dispatch(self, work: UnitWork, units: Iterator[int], record: UnitRecorder) -> None:
        """Run ``units`` on the actor pool; record every item in the driver.

        Raises:
            InvalidRequest: Ray missing, the actors unable to build the parts (the
                factory's message), or the driver's objects not picklable.
            Exception: what ``record`` raises (the store's error).
        """
        head = list(itertools.islice(units, 1))
        if not head:  # a resumed run that holds every unit: no actor to start
            return
        units = itertools.chain(head, units)
        _require_asyncio()
        ray = _import_ray()
        if not ray.is_initialized():
            address = None if self.address == "local" else self.address
            ray.init(address=address, runtime_env=self.runtime_env, log_to_driver=False)
        size = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        try:
            payload = ray.put(payload_for(work, self.spec))
        except Exception as exc:  # noqa: BLE001 - pickling user objects: say which fix
            msg = (
                f"cannot send the run's parts to Ray workers ({type(exc).__name__}: {exc}); "
                "name them in RayDispatcher(spec=UnitSpec(...)) by import strings"
            )
            raise InvalidRequest(msg) from None
        pool = _Pool(self, ray, payload, work=work, units=units, record=record, size=size)
        try:
            await pool.start()
            async with anyio.create_task_group() as group:
                for slot in range(size):
                    for _ in range(self.inflight):
                        group.start_soon(pool.lane, slot)
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            raise first from (group_error if len(group_error.exceptions) > 1 else None)
        finally:
            pool.kill_all()


class _Pool:
    """The actors of one dispatch and the units they share (retries first)."""

    def __init__(
        self,
        dispatcher: RayDispatcher,
        ray: ModuleType,
        payload: Any,
        *,
        work: UnitWork,
        units: Iterator[int],
        record: UnitRecorder,
        size: int,
    ) -> None:
        self.dispatcher = dispatcher
        self.ray = ray
        self.payload = payload
        self.work = work
        self.units = units
        self.record = record
        self.remote = ray.remote(UnitActor)
        self.actors = [self.spawn() for _ in range(size)]
        self.retry: collections.deque[int] = collections.deque()
        self.attempts: dict[int, int] = {}
        self.stopped = False
        unavailable = getattr(ray.exceptions, "ActorUnavailableError", ray.exceptions.RayActorError)
        self.lost_errors = (ray.exceptions.RayActorError, unavailable)

    def spawn(self) -> Any:
        options: dict[str, Any] = {"num_cpus": self.dispatcher.num_cpus}
        if self.dispatcher.runtime_env is not None:
            options["runtime_env"] = dict(self.dispatcher.runtime_env)
        return self.remote.options(**options).remote(self.payload)

    async def start(self) -> None:
        """Wait for every actor to build its parts; a build error fails the run."""
        for actor in self.actors:
            _pid, error = await actor.ready.remote()
            if error is not None:
                msg = f"Ray worker could not build the run's parts: {error}"
                raise InvalidRequest(msg)

    def kill_all(self) -> None:
        """Kill every actor: cancels remote work still running (Ctrl-C, errors)."""
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)

    def take(self) -> list[int]:
        """The next batch: units to retry first, then new units unless stopped."""
        size = self.dispatcher.batch_size
        batch = [self.retry.popleft() for _ in range(min(size, len(self.retry)))]
        if not self.stopped and len(batch) < size:
            batch.extend(itertools.islice(self.units, size - len(batch)))
        return batch

    async def lane(self, slot: int) -> None:
        """Hand batches to the actor of ``slot`` until no unit is left."""
        while batch := self.take():
            actor = self.actors[slot]
            outstanding = set(batch)
            try:
                stream = actor.run_batch.options(num_returns="streaming").remote(batch)
                async for ref in stream:
                    chunk: Chunk = await ref
                    await self.accept(chunk, outstanding)
            except self.lost_errors as exc:
                if self.actors[slot] is actor:
                    self.ray.kill(actor, no_restart=True)
                    self.actors[slot] = self.spawn()
                await self.lost(outstanding, exc)

    async def accept(self, chunk: Chunk, outstanding: set[int]) -> None:
        for index, item in chunk:
            if index in outstanding:
                outstanding.discard(index)
                if not await self.record(index, item):
                    self.stopped = True

    async def lost(self, outstanding: set[int], exc: BaseException) -> None:
        """Retry the units of a dead actor's batch, or record them as failures."""
        limit = self.dispatcher.max_retries
        for index in sorted(outstanding):
            attempts = self.attempts.get(index, 0) + 1
            self.attempts[index] = attempts
            if attempts <= limit:
                self.retry.append(index)
                continue
            fixture, cell, sample_index = self.work.plan.unit_at(index)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            message = f"{ACTOR_LOST_PREFIX} ({attempts} attempts): {reason}"
            await self.record(index, failed_item(fixture, cell, sample_index, message))
