"""Interrupted and open runs, read-only stores and empty datasets on the command line.

Issue 12, items 15 to 18, as a new user meets them: Ctrl-C (a real SIGINT to a real
``awaken-eval run`` process) prints the run id and the exact command that resumes it;
``runs list`` shows open runs with their state and item count and ``runs show`` shows
one; ``--resume`` of an unknown or finished id is an error naming it; ``runs list`` and
``runs show`` read a store they cannot write; a dataset directory without fixtures is
an input error for ``run`` and ``validate``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import awaken_eval
from awaken_eval import EvalRunItem, ReplayOutcome, ReplayReport, open_run_store
from awaken_eval.stores import SqliteRunStore
from builders import header as make_header

SOURCE = Path(awaken_eval.__file__).resolve().parent.parent
"""Where the awaken_eval under test lives: the child processes import the same one."""
BUNDLED = Path(__file__).parent / "data" / "bundled"
OPEN_ID = "01JOPEN0000000000000000000"
WAIT_SECS = 120.0  # a generous bound for a loaded machine; only reached on a failure


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store/runs.sqlite3"


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Work in tmp_path/work; the CLI's sys.path change and imported modules are undone."""
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield directory
    for name in set(sys.modules) - before:
        if name.startswith("cli_stall_"):
            del sys.modules[name]


def stored_item(fixture_id: str) -> EvalRunItem:
    return EvalRunItem(
        fixture_id, report=ReplayReport.from_outcome(ReplayOutcome(fixture_id=fixture_id), [])
    )


def leave_open(url: str, run_id: str = OPEN_ID, *, items: int = 2) -> None:
    """What an interrupted ``run`` leaves: an open run of the bundled dataset."""

    async def interrupt() -> None:
        sqlite = open_run_store(url)
        assert isinstance(sqlite, SqliteRunStore)
        header = make_header(run_id=run_id, dataset_id="bundled", started_at_secs=1_700_000_000)
        await sqlite.begin(header)
        fixture_ids = sorted(path.stem for path in BUNDLED.glob("*.json"))[:items]
        await sqlite.append(run_id, tuple(stored_item(one) for one in fixture_ids))
        await sqlite.aclose()

    anyio.run(interrupt)


# -- Ctrl-C (item 15) -------------------------------------------------------------------------


STALLING_REPLAYER = """
    from pathlib import Path

    import anyio

    from awaken_eval import ReplayOutcome

    class Stall:
        calls = 0

        async def replay(self, fixture, context):
            Stall.calls += 1
            if Stall.calls == 3 and Path("stall").exists():
                Path("stalled").write_text(fixture.id)
                await anyio.sleep_forever()
            return ReplayOutcome(fixture_id=fixture.id, final_text="4")

    def make():
        return Stall()
"""


def write_dataset(directory: Path, count: int) -> None:
    directory.mkdir()
    for number in range(count):
        fixture = {"id": f"f{number}", "user_input": "2 + 2?"}
        fixture["expect"] = {"final_answer_contains": ["4"]}  # type: ignore[assignment]
        (directory / f"f{number}.json").write_text(repr(fixture).replace("'", '"'))


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_SECS
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended before stalling: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the run never reached its stalling replay")
        time.sleep(0.02)  # polling a condition, not a barrier


def test_ctrl_c_prints_the_run_id_and_the_command_that_resumes_it(
    cli: Any, work: Path, store: str
) -> None:
    module = f"cli_stall_{uuid.uuid4().hex}"
    (work / f"{module}.py").write_text(textwrap.dedent(STALLING_REPLAYER), encoding="utf-8")
    write_dataset(work / "suite", 5)
    (work / "stall").touch()
    args = ["run", "suite", "--store", store, "--replayer", f"{module}:make"]
    args += ["--concurrency", "1"]
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "awaken_eval.cli", *args],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(work / "stalled", process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=WAIT_SECS)
    finally:
        if process.poll() is None:
            process.kill()
    assert 130 == process.returncode, err
    lines = err.splitlines()
    assert 2 == len(lines), err
    listed = cli("runs", "list", "--store", store, "--json").json()
    [summary] = listed
    run_id = summary["id"]
    assert ("open", "suite") == (summary["state"], summary["dataset_id"])
    stored = summary["item_count"]
    assert stored <= 2  # the stalled third replay never finished
    assert (
        f"awaken-eval: interrupted; run {run_id} is open in {store} with {stored} stored item(s)"
        == lines[0]
    )
    command = shlex.join(["awaken-eval", *args[:2], "--replayer", f"{module}:make"])
    command += f" --concurrency 1 --store {shlex.quote(store)} --resume {run_id}"
    assert f"awaken-eval: resume it with: {command}" == lines[1]
    # The printed command, run as printed (without the stall), finishes the run.
    (work / "stall").unlink()
    resumed = cli(*shlex.split(command)[1:])
    assert (0, run_id, "5") == (resumed.code, resumed.totals()["id"], resumed.totals()["items"])
    [finished] = cli("runs", "list", "--store", store, "--json").json()
    assert (run_id, "finished", 5) == (finished["id"], finished["state"], finished["item_count"])


# -- runs list / runs show on open runs (item 15) -----------------------------------------------


def test_runs_list_shows_open_runs_with_state_and_item_count(cli: Any, store: str) -> None:
    finished = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    leave_open(store)
    listed = cli("runs", "list", "--store", store)
    assert (0, "") == (listed.code, listed.err)
    lines = listed.out.splitlines()
    assert ["run", "dataset", "rev", "mode", "started", "(UTC)", "state"] == lines[0].split()[:7]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert ["open", "2", "2", "0"] == rows[OPEN_ID][-4:]
    assert ["finished", "5", "5", "0"] == rows[finished][-4:]
    document = cli("runs", "list", "--store", store, "--json").json()
    assert [(finished, "finished", 5), (OPEN_ID, "open", 2)] == [
        (entry["id"], entry["state"], entry["item_count"]) for entry in document
    ]
    only_open = cli("runs", "list", "--store", store, "--json", "--limit", "1").json()
    assert [finished] == [entry["id"] for entry in only_open]  # newest first, then the limit
    other = cli("runs", "list", "--store", store, "--json", "--dataset", "other").json()
    assert [] == other


def test_runs_show_shows_an_open_run(cli: Any, store: str) -> None:
    leave_open(store)
    shown = cli("runs", "show", OPEN_ID, "--store", store)
    assert 0 == shown.code
    assert (OPEN_ID, "2") == (shown.totals()["id"], shown.totals()["items"])
    assert f"awaken-eval: run {OPEN_ID} is open (interrupted, or still running)" in shown.err
    assert f"--resume {OPEN_ID}" in shown.err
    document = cli("runs", "show", OPEN_ID, "--store", store, "--json").json()
    assert (OPEN_ID, 2) == (document["run"]["id"], len(document["run"]["items"]))
    missing = cli("runs", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--store", store)
    assert 2 == missing.code
    assert "eval run not found: 01ARZ3NDEKTSV4RRFFQ69G5FAV (neither finished nor open)" in (
        missing.err
    )


# -- --resume (item 16) -------------------------------------------------------------------------


def test_resume_of_an_unknown_id_names_it_and_starts_nothing(cli: Any, store: str) -> None:
    cli("run", str(BUNDLED), "--store", store)
    result = cli("run", str(BUNDLED), "--store", store, "--resume", "typo-id")
    assert (2, "") == (result.code, result.out)
    assert f"awaken-eval: --resume typo-id: no open run typo-id in {store}" in result.err
    document = cli("runs", "list", "--store", store, "--json").json()
    assert "typo-id" not in [entry["id"] for entry in document]
    assert 1 == len(document)


def test_resume_of_an_unknown_id_in_a_file_store_is_refused_too(cli: Any, tmp_path: Path) -> None:
    url = f"file://{tmp_path}/runs"
    result = cli("run", str(BUNDLED), "--store", url, "--resume", "typo-id")
    assert 2 == result.code
    assert "--resume typo-id: no open run typo-id" in result.err


def test_resume_of_an_open_run_still_works(cli: Any, store: str) -> None:
    leave_open(store)
    resumed = cli("run", str(BUNDLED), "--store", store, "--resume", OPEN_ID)
    assert (0, OPEN_ID, "5") == (resumed.code, resumed.totals()["id"], resumed.totals()["items"])


def test_resume_of_a_finished_run_says_it_is_finished(cli: Any, store: str) -> None:
    finished = cli("run", str(BUNDLED), "--store", store).totals()["id"]
    result = cli("run", str(BUNDLED), "--store", store, "--resume", finished)
    assert 2 == result.code
    expected = f"run {finished} is finished in {store}; there is nothing left to resume"
    assert f"awaken-eval: --resume {finished}: {expected}\n" == result.err


# -- a store that cannot be written (item 17) ------------------------------------------------


DROP_OVERRIDES = ["--bounding-set=-dac_override,-dac_read_search,-fowner"]
"""setpriv options that take from root the capabilities that ignore file permissions."""


def as_reader(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI bound by file permissions: as root, without the override capabilities."""
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = [setpriv, *DROP_OVERRIDES]
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [*prefix, sys.executable, "-m", "awaken_eval.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=WAIT_SECS,
    )


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory made read-only by the test; writable again afterwards for cleanup."""
    directory = tmp_path / "store"
    directory.mkdir()
    yield directory
    for path in (directory, *directory.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_runs_list_and_show_read_a_store_they_cannot_write(cli: Any, read_only_dir: Path) -> None:
    """A real permission check: the database file and its directory are read-only.

    The CLI runs in a child process that file permissions bind (as root: without the
    capabilities that override them). Opened as before (read-write), SQLite fails there
    with "attempt to write a readonly database"; the test checks the reads work and
    that nothing in the directory changed.
    """
    url = f"sqlite:///{read_only_dir}/runs.sqlite3"
    finished = cli("run", str(BUNDLED), "--store", url).totals()["id"]
    leave_open(url)
    database = read_only_dir / "runs.sqlite3"
    before = database.read_bytes()
    database.chmod(0o444)
    read_only_dir.chmod(0o555)
    listed = as_reader(["runs", "list", "--store", url, "--json"])
    assert (0, "") == (listed.returncode, listed.stderr)
    assert {finished, OPEN_ID} == {entry["id"] for entry in json.loads(listed.stdout)}
    for run_id in (finished, OPEN_ID):
        shown = as_reader(["runs", "show", run_id, "--store", url])
        assert 0 == shown.returncode, shown.stderr
        assert f"awaken-eval: run {run_id} (bundled, scripted)" in shown.stdout
    assert before == database.read_bytes()
    assert ["runs.sqlite3"] == [path.name for path in read_only_dir.iterdir()]


def test_the_child_process_cannot_write_the_read_only_store(read_only_dir: Path) -> None:
    """What makes the test above meaningful: its child really cannot write there."""
    (read_only_dir / "runs.sqlite3").write_bytes(b"")
    (read_only_dir / "runs.sqlite3").chmod(0o444)
    read_only_dir.chmod(0o555)
    url = f"sqlite:///{read_only_dir}/runs.sqlite3"
    # `run` opens the store read-write: refused by the operating system in the child.
    result = as_reader(["run", str(BUNDLED), "--store", url])
    assert 2 == result.returncode
    assert "readonly database" in result.stderr or "unable to open" in result.stderr


# -- empty datasets (item 18) ---------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["plain", "fixtures-dir"])
def test_validate_of_a_directory_without_fixtures_fails_naming_it(
    cli: Any, tmp_path: Path, nested: bool
) -> None:
    dataset = tmp_path / "suite"
    source = dataset / "fixtures" if nested else dataset
    source.mkdir(parents=True)
    (source / "README.md").write_text("no fixtures here")
    result = cli("validate", str(dataset))
    assert 2 == result.code
    message = f"awaken-eval: no fixtures in {source}: no file matches {source}/*.json\n"
    assert message == result.err
    ran = cli("run", str(dataset), "--store", f"sqlite:///{tmp_path}/runs.sqlite3")
    assert (2, message) == (ran.code, ran.err)
    assert not (tmp_path / "runs.sqlite3").exists()


def test_validate_of_a_directory_with_fixtures_still_passes(cli: Any) -> None:
    assert 0 == cli("validate", str(BUNDLED)).code
