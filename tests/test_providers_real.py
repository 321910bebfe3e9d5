"""Opt-in smoke test against the real OpenAI and Anthropic APIs (never run in CI).

Runs only with ``AWAKEN_EVAL_REAL_PROVIDERS=1`` and the provider's key in the
environment; the models can be chosen with ``AWAKEN_EVAL_REAL_OPENAI_MODEL`` and
``AWAKEN_EVAL_REAL_ANTHROPIC_MODEL``.
"""

from __future__ import annotations

import os

import pytest

from awaken_eval.providers import check_model

REAL = os.environ.get("AWAKEN_EVAL_REAL_PROVIDERS") == "1"
MODELS = {
    "openai": ("OPENAI_API_KEY", os.environ.get("AWAKEN_EVAL_REAL_OPENAI_MODEL", "gpt-4.1-nano")),
    "anthropic": (
        "ANTHROPIC_API_KEY",
        os.environ.get("AWAKEN_EVAL_REAL_ANTHROPIC_MODEL", "claude-haiku-4-5"),
    ),
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.skipif(not REAL, reason="set AWAKEN_EVAL_REAL_PROVIDERS=1 to call the real APIs")
@pytest.mark.parametrize("provider", sorted(MODELS))
async def test_a_real_model_answers_with_usage(provider: str) -> None:
    key, model = MODELS[provider]
    if not os.environ.get(key):
        pytest.skip(f"{key} is not set")

    check = await check_model(f"{provider}:{model}")

    assert check.text
    assert (check.usage.prompt_tokens or 0) > 0
    assert check.request_id
