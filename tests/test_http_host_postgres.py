"""Two processes of the web host example on one PostgreSQL database.

Each host is ``python examples/http_host/app.py --store postgresql://…`` served by
uvicorn on 127.0.0.1 (a port of its own, a dataset directory of its own): a run
started through one host is read and listed through the other, as two replicas
behind a load balancer would serve it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import postgres_support

ROOT = Path(__file__).resolve().parent.parent
APP_PATH = ROOT / "examples" / "http_host" / "app.py"
TOKEN = "two-hosts-token"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(base: str, host: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the host until it answers (or fail with its log when it died)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if host.poll() is not None:
            pytest.fail(f"the host exited with {host.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{base}/v1/eval/runs", headers=AUTH, timeout=5)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        return
    pytest.fail(f"the host at {base} never answered:\n{log.read_text()}")


@pytest.fixture
def two_hosts(tmp_path: Path) -> Iterator[tuple[str, str]]:
    url = postgres_support.fresh_url()
    hosts: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for index in range(2):
            port = free_port()
            log = tmp_path / f"host-{index}.log"
            environment = {
                **os.environ,
                "AWAKEN_EVAL_ADMIN_TOKEN": TOKEN,
                "AWAKEN_EVAL_DATA_DIR": str(tmp_path / f"datasets-{index}"),
            }
            with log.open("wb") as output:
                host = subprocess.Popen(  # noqa: S603 - this interpreter, the example
                    [sys.executable, str(APP_PATH), "--port", str(port), "--store", url],
                    cwd=ROOT,
                    env=environment,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            hosts.append(host)
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(base, host, log)
            bases.append(base)
        yield bases[0], bases[1]
    finally:
        for host in hosts:
            host.terminate()
        for host in hosts:
            try:
                host.wait(timeout=30)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()


def test_a_run_started_through_one_host_is_read_and_listed_through_the_other(
    two_hosts: tuple[str, str],
) -> None:
    first, second = two_hosts
    with httpx.Client(headers=AUTH, timeout=60) as http:
        assert [] == http.get(f"{second}/v1/eval/runs").json()["runs"]
        started = http.post(f"{first}/v1/eval/runs", json={"dataset_id": "quickstart"})
        assert 200 == started.status_code, started.text
        run = started.json()["run"]
        read = http.get(f"{second}/v1/eval/runs/{run['id']}")
        assert 200 == read.status_code, read.text
        assert run == read.json()["run"]
        listed = http.get(f"{second}/v1/eval/runs", params={"dataset_id": "quickstart"})
        assert [run["id"]] == [one["id"] for one in listed.json()["runs"]]
        # And back: a run started through the second is listed by the first, newest first.
        again = http.post(f"{second}/v1/eval/runs", json={"dataset_id": "quickstart"}).json()
        listed_ids = [one["id"] for one in http.get(f"{first}/v1/eval/runs").json()["runs"]]
        assert {run["id"], again["run"]["id"]} == set(listed_ids)
