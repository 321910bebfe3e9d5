"""``run --ray``: the :class:`~awaken_eval.ray.RayDispatcher` the flags describe.

The actors build the user's parts from the same import strings as the driver
(``--replayer``, ``--executor``, the judge's model), with the working directory on
their ``PYTHONPATH``, so a module next to the dataset can be named.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from awaken_eval._engine.dispatch import UnitSpec
from awaken_eval._io.imports import load_factory
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._errors import CliError
from awaken_eval.errors import InvalidRequest
from awaken_eval.protocols import Judge, LlmExecutor, UnitDispatcher

__all__ = ["executor_judge", "ray_dispatcher"]


def executor_judge(executor_spec: str, model_id: str) -> Judge:
    """The judge of ``--judge MODEL``, built on a Ray worker from ``--executor``."""
    from awaken_eval._engine.judging import ExecutorJudge  # noqa: PLC0415

    executor = load_factory(executor_spec, what="--executor")(model_id)
    if not isinstance(executor, LlmExecutor):
        msg = f"--executor {executor_spec!r}: factory({model_id!r}) is not an LlmExecutor"
        raise InvalidRequest(msg)
    return ExecutorJudge(executor, model=model_id)


def ray_dispatcher(parsed: Parsed) -> UnitDispatcher | None:
    """The Ray dispatcher of ``--ray``/``--ray-actors``; ``None`` without ``--ray``.

    Raises:
        CliError: ``--ray-actors`` without ``--ray``, or an address that is not
            ``local``, ``auto`` or ``ray://HOST:PORT``.
    """
    address: str | None = parsed.get("--ray")
    actors: int | None = parsed.get("--ray-actors")
    if address is None:
        if actors is not None:
            msg = "--ray-actors needs --ray local|auto|ray://HOST:PORT"
            raise CliError(msg)
        return None
    from awaken_eval.ray._dispatcher import RayDispatcher  # noqa: PLC0415

    executor: str | None = parsed.get("--executor")
    judge_model: str | None = parsed.get("--judge")
    judge = (
        functools.partial(executor_judge, executor, judge_model)
        if executor is not None and judge_model is not None
        else None
    )
    spec = UnitSpec(replayer=parsed.get("--replayer"), executor=executor, judge=judge)
    paths = [str(Path.cwd()), os.environ.get("PYTHONPATH", "")]
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(path for path in paths if path)}}
    try:
        return RayDispatcher(spec=spec, address=address, actors=actors, runtime_env=runtime_env)
    except InvalidRequest as exc:
        msg = f"--ray {address!r}: {exc.message}"
        raise CliError(msg) from None
