"""Copyloom's LLM generator against a model server, on one event loop with its own HTTP client.

langchain-openai shares one default async HTTP client per base URL across ChatOpenAI instances; a pooled
connection then belongs to the first event loop that used it (issue 11). Each call here builds the client
inside its loop and closes it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from langchain_openai import ChatOpenAI

from copyloom.config import Settings
from copyloom.genai.llm import LlmGenerator

T = TypeVar("T")
MODEL = "openai:gpt-4o-mini"


def with_generator(base_url: str, work: Callable[[LlmGenerator], Awaitable[T]], *, max_retries: int = 0) -> T:
    """``asyncio.run(work(generator))`` with a generator of no re-asks, a 30 s timeout and ``max_retries``."""

    async def main() -> T:
        async with httpx.AsyncClient(timeout=30) as http:
            chat = ChatOpenAI(
                model="gpt-4o-mini",
                base_url=base_url,
                api_key="sk-test",
                timeout=30,
                max_retries=max_retries,
                http_async_client=http,
            )
            settings = Settings(llm_model=MODEL, llm_base_url=base_url, llm_max_reasks=0, llm_max_retries=max_retries)
            return await work(LlmGenerator(chat, model_name=MODEL, settings=settings))

    return asyncio.run(main())
