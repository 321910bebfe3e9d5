"""A contender process for the PostgreSQL race tests (run as a script).

``python tests/_postgres_worker.py URL TASK RUN_ID WRITER``: opens a
:class:`~awaken_eval.stores.PostgresRunStore` on ``URL`` (connected and migrated),
prints ``{"ready": WRITER}``, waits for a line on stdin (the parent releases every
contender at once), then, for ``TASK`` ``"write"``, writes its own run under
``RUN_ID`` (:func:`_store_worker.contender_run`) or, for ``"begin"``, begins it; and
prints ``{"writer": WRITER, "result": "ok" | "exists" | "conflict"}``.
"""

from __future__ import annotations

import json
import sys

import anyio

from _store_worker import contender_run, stream_header
from awaken_eval import AlreadyExists, Conflict
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import PostgresRunStore


async def contend(url: str, task: str, run_id: str, writer: int) -> str:
    """Race for ``run_id``; return how it went."""
    async with PostgresRunStore(url) as store:
        await store.list(EvalRunFilter(limit=1))  # a pooled connection, ready
        print(  # noqa: T201 - the protocol with the parent
            json.dumps({"ready": writer}), flush=True
        )
        sys.stdin.readline()
        try:
            if task == "write":
                await store.write(contender_run(run_id, writer))
            else:
                await store.begin(stream_header(run_id))
        except AlreadyExists:
            return "exists"
        except Conflict:
            return "conflict"
        return "ok"


def main() -> None:
    """Run one contender from the command line."""
    url, task, run_id, writer = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    result = anyio.run(contend, url, task, run_id, writer)
    print(json.dumps({"writer": writer, "result": result}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
