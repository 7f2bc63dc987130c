"""A content engine on the demo workspace: local Chroma, a fast deterministic embedder, the offline generator."""

from __future__ import annotations

import asyncio

from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest


class SlowGenerator:
    """Wraps a generator and waits first: a model slower than the journey's deadline."""

    def __init__(self, inner: Generator, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.calls = 0

    @property
    def kind(self) -> str:
        return self.inner.kind

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return await self.inner.generate(request)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        return await self.inner.refine(request)
