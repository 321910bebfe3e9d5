"""The provider executors against a local server speaking both providers' wire formats.

(a) Overhead per request of each executor over the raw SDK call (sequential requests to
    a server that answers at once): target executor/raw <= 1.1.
(b) 2,000 requests at concurrency 100 against a server answering after 50 ms: the ideal
    is 2000 / 100 x 50 ms = 1.0 s; target <= 1.1x. The raw SDK at the same concurrency
    is measured too: it is the floor any executor over the SDK can reach.

The server (tests/fake_provider.py under uvicorn) runs in a child process, so its CPU
time does not share the client's interpreter. Prints numbers, ratios and PASS/MISS;
always exits 0.

    python benchmarks/bench_providers.py            # full run
    python benchmarks/bench_providers.py --smoke    # a few seconds
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from awaken_eval import ChatMessage, InferenceRequest
from awaken_eval.providers import ProviderOptions, executor_for
from awaken_eval.records import MessageRole


def _serve(conn: Connection) -> None:
    from fake_provider import serve  # noqa: PLC0415

    with serve() as provider:
        conn.send(provider.base_url)
        conn.recv()  # until the parent says stop


def _raw_call(provider: str, client: Any, model: str) -> Callable[[str], Awaitable[Any]]:
    if provider == "openai":

        async def openai_call(text: str) -> Any:
            return await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": text}]
            )

        return openai_call

    async def anthropic_call(text: str) -> Any:
        return await client.messages.create(
            model=model, max_tokens=4096, messages=[{"role": "user", "content": text}]
        )

    return anthropic_call


def _raw_client(provider: str, url: str, connections: int) -> Any:
    import httpx2  # noqa: PLC0415 - the SDKs' HTTP client

    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    if provider == "openai":
        import openai  # noqa: PLC0415

        return openai.AsyncOpenAI(
            api_key="k",
            base_url=f"{url}/v1",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits),
        )
    import anthropic  # noqa: PLC0415

    return anthropic.AsyncAnthropic(
        api_key="k",
        base_url=url,
        max_retries=0,
        http_client=anthropic.DefaultAsyncHttpxClient(limits=limits),
    )


def _executor(provider: str, url: str, connections: int) -> Any:
    base = f"{url}/v1" if provider == "openai" else url
    options = ProviderOptions(
        base_url=base, api_key="k", max_retries=0, max_connections=connections
    )
    return executor_for(f"{provider}:bench", options=options)


def _request(model: str, text: str) -> InferenceRequest:
    return InferenceRequest(model=model, messages=(ChatMessage(MessageRole.USER, text),))


async def _gather(call: Callable[[str], Awaitable[Any]], total: int, concurrency: int) -> float:
    """Seconds to make ``total`` calls with ``concurrency`` workers."""
    counter = iter(range(total))

    async def worker() -> None:
        for index in counter:
            await call(f"req {index}")

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    return time.perf_counter() - started


async def _overhead(provider: str, url: str, requests: int, repeat: int) -> tuple[float, float]:
    """Best µs per request: (raw SDK, executor), sequential, interleaved rounds."""
    model = "plain"
    raw_client = _raw_client(provider, url, 10)
    raw = _raw_call(provider, raw_client, model)
    executor = _executor(provider, url, 10)

    async def ours(text: str) -> Any:
        return await executor.execute(_request(model, text))

    await _gather(raw, 20, 1)  # warm both connection pools
    await _gather(ours, 20, 1)
    best_raw = best_ours = float("inf")
    for _ in range(repeat):
        best_raw = min(best_raw, await _gather(raw, requests, 1))
        best_ours = min(best_ours, await _gather(ours, requests, 1))
    await raw_client.close()
    await executor.aclose()
    return best_raw / requests * 1e6, best_ours / requests * 1e6


async def _throughput(
    provider: str, url: str, total: int, concurrency: int, repeat: int
) -> tuple[float, float]:
    """Best seconds for ``total`` requests at ``concurrency``: (raw SDK, executor)."""
    model = "delay-50"
    raw_client = _raw_client(provider, url, concurrency)
    raw = _raw_call(provider, raw_client, model)
    executor = _executor(provider, url, concurrency)

    async def ours(text: str) -> Any:
        return await executor.execute(_request(model, text))

    await _gather(raw, concurrency, concurrency)  # open the connections
    await _gather(ours, concurrency, concurrency)
    best_raw = best_ours = float("inf")
    for _ in range(repeat):
        best_raw = min(best_raw, await _gather(raw, total, concurrency))
        best_ours = min(best_ours, await _gather(ours, total, concurrency))
    await raw_client.close()
    await executor.aclose()
    return best_raw, best_ours


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests (a)")
    parser.add_argument("--total", type=int, default=2000, help="requests of (b)")
    parser.add_argument("--concurrency", type=int, default=100, help="workers of (b)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the best is kept")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.total, args.concurrency, args.repeat = 10, 100, 20, 1

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
    server.start()
    url = parent.recv()
    try:
        print(f"server: {url} (child process); python {sys.version.split()[0]}")
        print(f"(a) overhead, {args.requests} sequential requests, best of {args.repeat}")
        for provider in ("openai", "anthropic"):
            raw_us, ours_us = anyio.run(_overhead, provider, url, args.requests, args.repeat)
            ratio = ours_us / raw_us
            print(
                f"  {provider:<9} raw SDK {raw_us:8.0f} µs/req   executor {ours_us:8.0f} µs/req"
                f"   ratio {ratio:.3f}  (target <= 1.10) {_verdict(ratio <= 1.1)}"
            )
        ideal = args.total / args.concurrency * 0.05
        print(
            f"(b) {args.total} requests at concurrency {args.concurrency}, server 50 ms "
            f"(ideal {ideal:.2f} s), best of {args.repeat}"
        )
        for provider in ("openai", "anthropic"):
            raw_s, ours_s = anyio.run(
                _throughput, provider, url, args.total, args.concurrency, args.repeat
            )
            print(
                f"  {provider:<9} raw SDK {raw_s:6.2f} s ({raw_s / ideal:.2f}x ideal)   "
                f"executor {ours_s:6.2f} s ({ours_s / ideal:.2f}x ideal, "
                f"{ours_s / raw_s:.2f}x raw)  (target <= 1.10x ideal) "
                f"{_verdict(ours_s / ideal <= 1.1)}"
            )
    finally:
        parent.send("stop")
        server.join()


if __name__ == "__main__":
    main()
