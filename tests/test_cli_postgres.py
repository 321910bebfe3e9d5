"""The CLI's ``--store postgresql://…``: run into PostgreSQL, list and show from it."""

from __future__ import annotations

import json
from pathlib import Path

import postgres_support
from cli_support import Cli

QUICKSTART = str(Path(__file__).resolve().parent.parent / "examples" / "quickstart")


def test_run_stores_into_postgresql_and_runs_list_reads_it_back(cli: Cli) -> None:
    url = postgres_support.fresh_url()
    ran = cli("run", QUICKSTART, "--store", url)
    assert 0 == ran.code, ran.err
    listed = cli("runs", "list", "--store", url, "--json")
    assert 0 == listed.code, listed.err
    (summary,) = json.loads(listed.out)
    assert "quickstart" == summary["dataset_id"]
    assert summary["id"] in ran.out + ran.err


def test_a_read_only_command_on_a_schema_never_created_fails_clearly(cli: Cli) -> None:
    result = cli("runs", "list", "--store", postgres_support.fresh_url())
    assert 0 != result.code
    assert "has no awaken-eval tables" in result.err
