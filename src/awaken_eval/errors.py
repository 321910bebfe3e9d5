"""The exceptions of awaken-eval: one root, structured fields, plain-text messages.

Every error the library raises on purpose derives from :class:`AwakenEvalError`, so a
host can catch the whole family in one ``except``. Messages are built from the
structured fields of each exception and never carry terminal markup::

    AwakenEvalError
    ├── InvalidInput              bad data: every problem with its JSON path (and file/line)
    │   ├── InvalidExecutionShape EvalRun execution_mode disagrees with its items' cells
    │   └── DuplicateFixtureId    two fixtures of one directory or dataset share an id
    ├── InvalidRunId              a run id that is empty, "." / "..", or has / \\ NUL
    ├── InputUnreadable           a file or directory that could not be read at all
    ├── OutputUnwritable          a file that could not be written (the old one is intact)
    └── ServiceError              a request a host should answer with ``status``
        ├── InvalidRequest        400: the request (or data it names) breaks a rule
        │   ├── DuplicateItemKeys two items (or reports) share one key
        │   ├── RequestTimeout    408: the request body did not arrive in time
        │   ├── PayloadTooLarge   413: the request body is over the host's limit
        │   └── UnsupportedMediaType 415: the request body is not application/json
        ├── NotFound              404: a dataset, run, model, agent or judge is unknown
        ├── Conflict              409: a write conflicts with stored state
        │   └── AlreadyExists     a run with this id exists (run ids are write-once)
        ├── StoreFailure          500: a store failed or holds corrupt data
        ├── RunIncomplete         500: a run stopped with units not run (left open)
        └── NotConfigured         503: the host has no store for this operation

A host maps every service error to its HTTP status in one line::

    except ServiceError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import ClassVar

import attrs

__all__ = [
    "AlreadyExists",
    "AwakenEvalError",
    "Conflict",
    "DuplicateFixtureId",
    "DuplicateItemKeys",
    "InferenceError",
    "InferenceErrorKind",
    "InputUnreadable",
    "InvalidExecutionShape",
    "InvalidInput",
    "InvalidRequest",
    "InvalidRunId",
    "JudgeError",
    "JudgeErrorKind",
    "NotConfigured",
    "NotFound",
    "OutputUnwritable",
    "PayloadTooLarge",
    "Problem",
    "RequestTimeout",
    "RunIncomplete",
    "ServiceError",
    "StoreFailure",
    "UnsupportedMediaType",
]


class AwakenEvalError(Exception):
    """Root of every exception raised on purpose by awaken-eval."""


@attrs.frozen
class Problem:
    """One problem found in input data.

    Attributes:
        path: JSON path of the offending value, e.g. ``$.expect.max_tokens_total``.
        message: What is wrong with it, e.g. ``expected an integer, got "ten"``.
    """

    path: str
    message: str

    def __str__(self) -> str:
        """Render as ``<path>: <message>``."""
        return f"{self.path}: {self.message}"


def _render(problems: tuple[Problem, ...], source: str | None, line: int | None) -> str:
    where = ""
    if source is not None:
        where = source if line is None else f"{source}:{line}"
    elif line is not None:
        where = f"line {line}"
    prefix = f"{where}: " if where else ""
    if len(problems) == 1:
        return f"{prefix}{problems[0]}"
    body = "\n".join(f"  {p}" for p in problems)
    return f"{prefix}{len(problems)} problems:\n{body}"


class InvalidInput(AwakenEvalError, ValueError):
    """Input data that does not match the wire format or a record's rules.

    Every problem is listed at once, each with the JSON path of the offending value.

    Attributes:
        problems: The problems found, in document order.
        source: The file the data came from, when it came from a file.
        line: The 1-based line number, when the data was one line of an NDJSON file.
    """

    def __init__(
        self,
        problems: Iterable[Problem],
        *,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        """Create the error from its problems and optional origin."""
        self.problems: tuple[Problem, ...] = tuple(problems) or (Problem("$", "invalid input"),)
        self.source = source
        self.line = line
        super().__init__(_render(self.problems, source, line))

    @classmethod
    def single(cls, path: str, message: str) -> InvalidInput:
        """Build the error for one problem at ``path``."""
        return cls([Problem(path, message)])

    def located(self, *, source: str | None, line: int | None = None) -> InvalidInput:
        """Record the file (and line) the bad data came from and return this error."""
        self.source = source
        self.line = line
        self.args = (_render(self.problems, source, line),)
        return self

    def __str__(self) -> str:
        """Render every problem, prefixed with the file and line when known."""
        return _render(self.problems, self.source, self.line)


class InvalidExecutionShape(InvalidInput):
    """An EvalRun whose ``execution_mode`` disagrees with the presence of item cells.

    Live runs need a cell on every item, scripted runs on none; a legacy document
    without ``execution_mode`` must not mix the two.
    """


class DuplicateFixtureId(InvalidInput):
    """Two fixtures loaded together share one id.

    Attributes:
        fixture_id: The repeated id.
    """

    def __init__(self, fixture_id: str, *, source: str | None = None) -> None:
        """Create the error for the repeated ``fixture_id``."""
        self.fixture_id = fixture_id
        super().__init__([Problem("$.id", f"duplicate id {fixture_id!r}")], source=source)


class InvalidRunId(AwakenEvalError, ValueError):
    """A run id that cannot name a run (spec: empty, ``.``/``..``, or contains / \\ NUL).

    Attributes:
        run_id: The rejected id.
        reason: Why it was rejected.
    """

    def __init__(self, run_id: str, reason: str) -> None:
        """Create the error for ``run_id`` rejected for ``reason``."""
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"invalid run id {run_id!r}: {reason}")


class InputUnreadable(AwakenEvalError, OSError):
    """A file or directory that could not be read at all.

    Attributes:
        path: The path that could not be read.
        reason: The operating system's explanation.
    """

    def __init__(self, path: str, reason: str) -> None:
        """Create the error for ``path`` that failed with ``reason``."""
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot read: {reason}")


class OutputUnwritable(AwakenEvalError, OSError):
    """A file that could not be written (a full disk, no permission, a bad path).

    Files are written atomically: the previous file at ``path``, if any, is intact.

    Attributes:
        path: The path that could not be written.
        reason: The operating system's explanation.
    """

    def __init__(self, path: str, reason: str) -> None:
        """Create the error for ``path`` that failed with ``reason``."""
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot write: {reason}")


class ServiceError(AwakenEvalError):
    """An error a host answers with an HTTP-like ``status`` and the plain-text message.

    Attributes:
        status: The status a host should answer with (400, 404, 409 or 500).
        message: What went wrong, in plain text.
    """

    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        """Create the error with its plain-text ``message``."""
        self.message = message
        super().__init__(message)


class InvalidRequest(ServiceError, ValueError):
    """The request, or data it names, breaks a rule (status 400)."""

    status: ClassVar[int] = 400


class DuplicateItemKeys(InvalidRequest):
    """Two run items (or two reports) share one key (status 400)."""


class RequestTimeout(InvalidRequest):
    """The request body did not arrive within the host's read timeout (status 408).

    Attributes:
        timeout_secs: The timeout that ran out.
    """

    status: ClassVar[int] = 408

    def __init__(self, timeout_secs: float) -> None:
        """Create the error for a body not read within ``timeout_secs``."""
        self.timeout_secs = timeout_secs
        super().__init__(f"request body not received within {timeout_secs:g} seconds")


class PayloadTooLarge(InvalidRequest):
    """The request body is larger than the host accepts (status 413).

    Attributes:
        limit_bytes: The largest body accepted.
    """

    status: ClassVar[int] = 413

    def __init__(self, limit_bytes: int) -> None:
        """Create the error for a body over ``limit_bytes``."""
        self.limit_bytes = limit_bytes
        super().__init__(f"request body is larger than the limit of {limit_bytes} bytes")


class UnsupportedMediaType(InvalidRequest):
    """The request body is not ``application/json`` in UTF-8 (status 415).

    Attributes:
        content_type: The ``Content-Type`` the request gave (``None`` without one),
            shortened to 100 characters.
    """

    status: ClassVar[int] = 415

    def __init__(self, content_type: str | None) -> None:
        """Create the error for a body of ``content_type``."""
        shown = None if content_type is None else content_type[:100]
        self.content_type = shown
        given = "no Content-Type" if shown is None else f"Content-Type {shown!r}"
        super().__init__(f"expected Content-Type application/json (UTF-8), got {given}")


class NotFound(ServiceError, LookupError):
    """A dataset, run, model, agent or judge is unknown (status 404)."""

    status: ClassVar[int] = 404


class Conflict(ServiceError):
    """A write conflicts with existing state: run id taken, revision stale (status 409)."""

    status: ClassVar[int] = 409


class AlreadyExists(Conflict):
    """A run with this id is already stored; run ids are write-once (status 409).

    Attributes:
        run_id: The taken id.
    """

    def __init__(self, run_id: str) -> None:
        """Create the error for the taken ``run_id``."""
        self.run_id = run_id
        super().__init__(f"eval run already exists: {run_id}")


class StoreFailure(ServiceError):
    """A store failed or holds corrupt data (status 500)."""

    status: ClassVar[int] = 500


class NotConfigured(ServiceError):
    """The host has no store for this operation, e.g. no trace store (status 503).

    Its message names only what is missing, so a host may answer it as is.
    """

    status: ClassVar[int] = 503


class RunIncomplete(ServiceError):
    """A run's workers stopped with units neither run nor skipped (status 500).

    The run is not finished: a streaming store keeps it open, and resuming it runs the
    missing units. It is never saved as a finished, shorter run.

    Attributes:
        run_id: The run.
        missing: How many units were not run.
        total: How many units the run has.
    """

    def __init__(self, run_id: str, *, missing: int, total: int) -> None:
        """Create the error for ``run_id``, ``missing`` of ``total`` units not run."""
        self.run_id = run_id
        self.missing = missing
        self.total = total
        super().__init__(
            f"eval run {run_id} stopped with {missing} of {total} units not run; "
            "it was not finished (resume it to run them)"
        )


class InferenceErrorKind(Enum):
    """Structured kind of an inference failure (the ``error_type`` of live outcomes)."""

    RATE_LIMITED = "rate_limited"
    """The provider throttled the request."""
    OVERLOADED = "overloaded"
    """The provider is overloaded."""
    TIMEOUT = "timeout"
    """The provider did not answer in time."""
    CONTEXT_OVERFLOW = "context_overflow"
    """The conversation does not fit the model's context."""
    INVALID_REQUEST = "invalid_request"
    """The request was malformed (also: a scripted executor out of events)."""
    UNAUTHORIZED = "unauthorized"
    """Credentials were missing or rejected."""
    MODEL_NOT_FOUND = "model_not_found"
    """The provider does not know the model."""
    CONTENT_FILTERED = "content_filtered"
    """The provider's content filter blocked the answer."""
    PROVIDER = "provider"
    """Any other provider failure."""


_RETRYABLE = frozenset(
    {InferenceErrorKind.RATE_LIMITED, InferenceErrorKind.OVERLOADED, InferenceErrorKind.TIMEOUT}
)


class InferenceError(AwakenEvalError):
    """An inference failed; raised by :meth:`LlmExecutor.execute`.

    Attributes:
        kind: The structured kind.
        message: The provider's message.
        error_type: The type the outcome reports; defaults to ``kind.value`` (a
            scripted executor passes the fixture-authored type, e.g. ``rate_limit``).
        status: The provider's HTTP status, when the failure was an HTTP answer.
        request_id: The provider's request id, when it gave one.
        attempts: HTTP attempts made before giving up (``None``: not counted).
    """

    def __init__(
        self,
        kind: InferenceErrorKind,
        message: str,
        *,
        error_type: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        attempts: int | None = None,
    ) -> None:
        """Create the error of ``kind`` with the provider's ``message``."""
        self.kind = kind
        self.message = message
        self.error_type = error_type if error_type is not None else kind.value
        self.status = status
        self.request_id = request_id
        self.attempts = attempts
        super().__init__(f"{kind.value}: {message}" if message else kind.value)

    @property
    def retryable(self) -> bool:
        """Whether retrying may help (rate limits, overload, timeouts)."""
        return self.kind in _RETRYABLE


class JudgeErrorKind(Enum):
    """Why a judge could not grade."""

    TRANSPORT = "transport"
    """The judge could not be reached."""
    STATUS = "status"
    """The judge answered with an error status."""
    EXECUTOR = "executor"
    """The judge's model executor failed."""
    PARSE = "parse"
    """The judge's answer held no parseable score."""
    NON_FINITE_SCORE = "non_finite_score"
    """The judge's score was not a finite number."""
    OUT_OF_RANGE_SCORE = "out_of_range_score"
    """A judge returned a score outside [0, 1] (or something that is not a result)."""


class JudgeError(AwakenEvalError):
    """A judge could not grade; raised by :meth:`Judge.grade`.

    Attributes:
        kind: Why.
        message: Details (the unparseable body, the executor's error, ...).
    """

    def __init__(self, kind: JudgeErrorKind, message: str) -> None:
        """Create the error of ``kind`` with details in ``message``."""
        self.kind = kind
        self.message = message
        super().__init__(f"judge {kind.value} error: {message}")
