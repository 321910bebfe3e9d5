"""A local server speaking the OpenAI Chat Completions and Anthropic Messages wire formats.

The real SDKs talk to it over real HTTP on 127.0.0.1. What it answers is chosen by the
requested model name (bodies and error shapes as the providers' API references give
them):

* ``plain`` — one text answer (``The answer is 42.``);
* ``tools`` — a tool call ``add`` on each of two rounds, then a text answer quoting the
  last tool result;
* ``bad-args`` — a tool call whose arguments are not JSON, then a text answer;
* ``flaky`` — 429 with ``retry-after-ms`` the first time each conversation is seen,
  then the plain answer;
* ``always-429`` / ``always-500`` / ``overloaded`` (529 Anthropic, 503 OpenAI);
* ``context`` — 400 context length exceeded; ``filter`` — content filter (OpenAI:
  ``finish_reason`` ``content_filter``; Anthropic: 400 naming the filter);
* ``cached`` — the plain answer with cached and reasoning tokens in the usage;
* ``judge`` — a grade (``{"score": 0.9, ...}``) as a judge answers;
* ``slow`` — answers after 5 s; ``delay-N`` — the plain answer after N ms;
* any other model: 404 model not found. The key ``bad-key`` gets 401.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ANSWER = "The answer is 42."
RETRY_AFTER_MS = "5"
KNOWN = {
    "plain",
    "tools",
    "bad-args",
    "flaky",
    "always-429",
    "always-500",
    "overloaded",
    "context",
    "filter",
    "cached",
    "slow",
    "judge",
}
JUDGE_REPLY = '{"score": 0.9, "reasoning": "fine"}'


class FakeProvider:
    """The server's state: what it received, and the conversations it has seen."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.seen: Counter[str] = Counter()
        self.base_url = ""
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    @property
    def openai_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.base_url

    def bodies(self, model: str) -> list[dict[str, Any]]:
        return [body for _, body in self.requests if body.get("model") == model]

    # -- helpers -----------------------------------------------------------------------

    def _first_time(self, body: dict[str, Any]) -> bool:
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        self.seen[key] += 1
        return self.seen[key] == 1

    async def _delay(self, model: str) -> None:
        self.active[model] += 1  # one event loop: no lock needed
        self.peak[model] = max(self.peak[model], self.active[model])
        try:
            if model == "slow":
                await asyncio.sleep(5)
            elif model.startswith("delay-"):
                await asyncio.sleep(int(model.removeprefix("delay-")) / 1000)
        finally:
            self.active[model] -= 1

    # -- OpenAI --------------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> JSONResponse:  # noqa: C901, PLR0912 - one branch per scenario
        body = await request.json()
        if not (model := body.get("model", "")).startswith("delay-"):
            self.requests.append(("openai", body))
        headers = {"x-request-id": f"req_oa_{len(self.requests)}"}

        def error(status: int, message: str, kind: str, code: str | None) -> JSONResponse:
            payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
            extra = {"retry-after-ms": RETRY_AFTER_MS} if status == 429 or status >= 500 else {}
            return JSONResponse(payload, status_code=status, headers=headers | extra)

        if request.headers.get("authorization") == "Bearer bad-key":
            return error(
                401,
                "Incorrect API key provided: bad-key.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if model not in KNOWN and not model.startswith("delay-"):
            return error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        await self._delay(model)
        if model == "always-429" or (model == "flaky" and self._first_time(body)):
            return error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded")
        if model == "always-500":
            return error(
                500, "The server had an error while processing your request.", "server_error", None
            )
        if model == "overloaded":
            return error(
                503,
                "The engine is currently overloaded, please try again later.",
                "server_error",
                None,
            )
        if model == "context":
            return error(
                400,
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
                "invalid_request_error",
                "context_length_exceeded",
            )
        tool_results = [m for m in body["messages"] if m["role"] == "tool"]
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
        finish = "stop"
        if model == "filter":
            message, finish = {"role": "assistant", "content": None}, "content_filter"
        elif model == "judge":
            message = {"role": "assistant", "content": JUDGE_REPLY}
        elif model == "tools" and len(tool_results) < 2:
            n = len(tool_results)
            arguments = json.dumps({"a": n, "b": 1})
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{n}",
                        "type": "function",
                        "function": {"name": "add", "arguments": arguments},
                    }
                ],
            }
            finish = "tool_calls"
        elif model == "tools":
            message = {"role": "assistant", "content": f"done: {tool_results[-1]['content']}"}
        elif model == "bad-args" and not tool_results:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_bad",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 1,'},
                    }
                ],
            }
            finish = "tool_calls"
        usage: dict[str, Any] = {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}
        if model == "cached":
            usage |= {
                "prompt_tokens_details": {"cached_tokens": 12},
                "completion_tokens_details": {"reasoning_tokens": 3},
            }
        payload = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1700000000,
            "model": f"{model}-2025-01-01",
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": usage,
        }
        return JSONResponse(payload, headers=headers)

    # -- Anthropic -----------------------------------------------------------------------

    async def messages(self, request: Request) -> JSONResponse:  # noqa: C901 - one branch per scenario
        body = await request.json()
        if not (model := body.get("model", "")).startswith("delay-"):
            self.requests.append(("anthropic", body))
        headers = {"request-id": f"req_an_{len(self.requests)}"}

        def error(status: int, kind: str, message: str) -> JSONResponse:
            payload = {"type": "error", "error": {"type": kind, "message": message}}
            extra = {"retry-after-ms": RETRY_AFTER_MS} if status == 429 or status >= 500 else {}
            return JSONResponse(payload, status_code=status, headers=headers | extra)

        if "bad-key" in (
            request.headers.get("x-api-key"),
            request.headers.get("authorization", "").removeprefix("Bearer "),
        ):
            return error(401, "authentication_error", "invalid x-api-key")
        if model not in KNOWN and not model.startswith("delay-"):
            return error(404, "not_found_error", f"model: {model}")
        await self._delay(model)
        if model == "always-429" or (model == "flaky" and self._first_time(body)):
            return error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            )
        if model == "always-500":
            return error(500, "api_error", "Internal server error")
        if model == "overloaded":
            return error(529, "overloaded_error", "Overloaded")
        if model == "context":
            return error(
                400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            )
        if model == "filter":
            return error(400, "invalid_request_error", "Output blocked by content filtering policy")
        results = [
            block
            for message in body["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "tool_result"
        ]
        content: list[dict[str, Any]] = [{"type": "text", "text": ANSWER}]
        stop = "end_turn"
        if model == "judge":
            content = [{"type": "text", "text": JUDGE_REPLY}]
        elif model == "tools" and len(results) < 2:
            n = len(results)
            content = [
                {"type": "tool_use", "id": f"toolu_{n}", "name": "add", "input": {"a": n, "b": 1}}
            ]
            stop = "tool_use"
        elif model == "tools":
            content = [{"type": "text", "text": f"done: {results[-1]['content']}"}]
        usage: dict[str, Any] = {"input_tokens": 20, "output_tokens": 5}
        if model == "cached":
            usage |= {"cache_read_input_tokens": 12, "cache_creation_input_tokens": 4}
        payload = {
            "id": f"msg_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": f"{model}-20250101",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        return JSONResponse(payload, headers=headers)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
                Route("/v1/messages", self.messages, methods=["POST"]),
            ]
        )


@contextmanager
def serve() -> Iterator[FakeProvider]:
    """Serve a :class:`FakeProvider` on 127.0.0.1 (a free port) until the block ends.

    The socket is bound and listening before the server thread starts, so clients can
    connect at once (the backlog holds them until uvicorn accepts).
    """
    provider = FakeProvider()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    provider.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        provider.app(),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        backlog=1024,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
