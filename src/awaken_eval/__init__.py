"""awaken-eval: embeddable, async-first evaluation of AI agents.

The names users build, run and read are importable from this package (``__all__``
lists them); the rest lives in namespaces imported on purpose:
:mod:`awaken_eval.analysis`, :mod:`~awaken_eval.engine`, :mod:`~awaken_eval.errors`,
:mod:`~awaken_eval.evaluation`, :mod:`~awaken_eval.events`, :mod:`~awaken_eval.failures`,
:mod:`~awaken_eval.records`, :mod:`~awaken_eval.protocols`, :mod:`~awaken_eval.wire`,
:mod:`~awaken_eval.stores`, :mod:`~awaken_eval.sinks`, :mod:`~awaken_eval.service`,
:mod:`~awaken_eval.testing`, :mod:`~awaken_eval.curate` and :mod:`~awaken_eval.schema`.
Modules whose name starts with ``_`` are private.

Names are loaded on first use (:pep:`562`) from the table below, so ``import
awaken_eval`` (done by the pytest plugin in every pytest session) costs almost nothing
until a name is used. Type checkers read the same names from ``__init__.pyi``.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (most of this cost)

if TYPE_CHECKING:
    from typing import Any

_EXPORTS: dict[str, str] = {
    "Fixture": "awaken_eval._records.fixtures",
    "DatasetSpec": "awaken_eval._records.fixtures",
    "DialogueTurn": "awaken_eval._records.fixtures",
    "ProviderScriptEvent": "awaken_eval._records.fixtures",
    "ChatResponseEvent": "awaken_eval._records.fixtures",
    "ToolCallEvent": "awaken_eval._records.fixtures",
    "ErrorEvent": "awaken_eval._records.fixtures",
    "TokenUsage": "awaken_eval._records.fixtures",
    "StopReason": "awaken_eval._records.fixtures",
    "Expectation": "awaken_eval._records.expectations",
    "ToolCallMatcher": "awaken_eval._records.expectations",
    "ReplayOutcome": "awaken_eval._records.outcomes",
    "ReplayReport": "awaken_eval._records.outcomes",
    "Failure": "awaken_eval._records.failures",
    "EvalRun": "awaken_eval._records.runs",
    "EvalRunItem": "awaken_eval._records.runs",
    "EvalRunSummary": "awaken_eval._records.runs",
    "EvalRunExecutionMode": "awaken_eval._records.runs",
    "ItemKey": "awaken_eval._records.runs",
    "MatrixCell": "awaken_eval._records.runs",
    "InferenceRequest": "awaken_eval._records.inference",
    "InferenceResult": "awaken_eval._records.inference",
    "ChatMessage": "awaken_eval._records.inference",
    "ToolCall": "awaken_eval._records.inference",
    "ToolDescriptor": "awaken_eval._records.inference",
    "SamplingParams": "awaken_eval._records.inference",
    "AgentSpec": "awaken_eval._records.inference",
    "ResolvedModel": "awaken_eval._records.inference",
    "ModelPricing": "awaken_eval._records.inference",
    "JudgeRequest": "awaken_eval._records.grading",
    "JudgeResult": "awaken_eval._records.grading",
    "ReplayContext": "awaken_eval._records.replay",
    "LlmExecutor": "awaken_eval.protocols",
    "Replayer": "awaken_eval.protocols",
    "Judge": "awaken_eval.protocols",
    "TraceSink": "awaken_eval.protocols",
    "EvalRunStore": "awaken_eval.protocols",
    "RunOptions": "awaken_eval._engine.options",
    "run_eval": "awaken_eval._engine.runner",
    "run_eval_sync": "awaken_eval._engine.runner",
    "AgentLoopReplayer": "awaken_eval._engine.agent_loop",
    "Tool": "awaken_eval._engine.agent_loop",
    "ScriptedExecutor": "awaken_eval._engine.scripted",
    "ExecutorJudge": "awaken_eval._engine.judging",
    "score": "awaken_eval._scoring.score",
    "diff_runs": "awaken_eval._analysis.diff",
    "load_fixture": "awaken_eval._io.files",
    "load_directory": "awaken_eval._io.files",
    "to_json": "awaken_eval._wire.converter",
    "from_json": "awaken_eval._wire.converter",
    "to_builtins": "awaken_eval._wire.converter",
    "from_builtins": "awaken_eval._wire.converter",
    "AwakenEvalError": "awaken_eval.errors",
    "InvalidInput": "awaken_eval.errors",
    "InvalidRequest": "awaken_eval.errors",
    "NotFound": "awaken_eval.errors",
    "Conflict": "awaken_eval.errors",
    "AlreadyExists": "awaken_eval.errors",
    "StoreFailure": "awaken_eval.errors",
    "InferenceError": "awaken_eval.errors",
    "InferenceErrorKind": "awaken_eval.errors",
    "JudgeError": "awaken_eval.errors",
    "open_run_store": "awaken_eval.stores._url",
    "AwakenEval": "awaken_eval._plugin.evaluator",
}
"""Every top-level name and the private module that defines it."""

__version__ = "0.1.0.dev0"
"""The installed version of awaken-eval."""

__all__ = [*_EXPORTS, "__version__"]  # noqa: PLE0604 - the table is the one list of names


def __getattr__(name: str) -> Any:
    """Load a top-level name from its module on first use, then cache it."""
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'awaken_eval' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The package's attributes, including the names not loaded yet."""
    return sorted({*globals(), *_EXPORTS})
