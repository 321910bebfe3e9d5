"""User parts the Ray tests name by import string: loaded inside Ray worker processes.

The Ray tests put this directory on the workers' ``PYTHONPATH``. Each part writes what
it did to files, since it runs in another process than the test.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio

from awaken_eval import (
    Fixture,
    InferenceRequest,
    InferenceResult,
    ReplayContext,
    ReplayOutcome,
)


class PidExecutor:
    """Answers with the pid of the process it runs in."""

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """The pid, as the answer's text."""
        del request
        return InferenceResult(text=str(os.getpid()))


def pid_executor(model_id: str) -> PidExecutor:
    """The executor factory of ``UnitSpec(executor="_ray_parts:pid_executor")``."""
    del model_id
    return PidExecutor()


class LoggingReplayer:
    """Replays instantly, appending the fixture id to ``log`` once the replay is done.

    Args:
        log: One line per finished replay (appended, flushed: shared by processes).
        kill_on: The worker process kills itself (SIGKILL) on this fixture, the first
            time only (``marker`` records that it did).
        block_prefix: Fixtures whose id starts with this never finish (until cancelled).
    """

    def __init__(
        self, log: Path, *, kill_on: str | None = None, block_prefix: str | None = None
    ) -> None:
        """Keep the settings (see the class)."""
        self.log = log
        self.kill_on = kill_on
        self.block_prefix = block_prefix

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        """Block, die or log, as configured."""
        del context
        if self.block_prefix is not None and fixture.id.startswith(self.block_prefix):
            await anyio.sleep_forever()
        if fixture.id == self.kill_on:
            marker = self.log.with_suffix(".killed")
            try:
                marker.touch(exist_ok=False)
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(fixture.id + "\n")
        return ReplayOutcome(fixture_id=fixture.id, final_text="ok")
