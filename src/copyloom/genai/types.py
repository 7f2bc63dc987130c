"""The generator seam: requests, results and the ``Generator`` protocol every implementation satisfies."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.enums import Channel
from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief

__all__ = [
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "GeneratorInfo",
    "RefineOperation",
    "RefineRequest",
    "Usage",
]


class GenerationRequest(BaseModel):
    """N variants of one channel's message for one customer, written from ``bundle`` only."""

    model_config = ConfigDict(frozen=True)

    bundle: FactsBundle
    brief: Brief
    channel: Channel
    n_variants: int = Field(default=3, ge=1, le=5)
    feedback: list[str] = Field(
        default_factory=list, max_length=50, description="Repair messages from guardrails for a re-ask."
    )
    whatsapp_template_only: bool = False


class RefineOperation(StrEnum):
    SHORTEN = "shorten"
    REPHRASE = "rephrase"
    MORE_FORMAL = "more_formal"
    MORE_CASUAL = "more_casual"
    TRANSLATE = "translate"


class RefineRequest(BaseModel):
    """Rewrite one existing variant (the parent) with the same schema and the same facts bundle."""

    model_config = ConfigDict(frozen=True)

    bundle: FactsBundle
    brief: Brief
    parent: Variant
    operation: RefineOperation
    target_locale: str | None = Field(default=None, description="Required for translate.")
    feedback: list[str] = Field(default_factory=list, max_length=50)
    whatsapp_template_only: bool = False

    @property
    def channel(self) -> Channel:
        return Channel(self.parent.content.channel)


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal("0")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class GeneratorInfo(BaseModel):
    """Which generator wrote a draft and from which prompt: part of every draft's provenance."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["offline", "llm"]
    model: str | None
    prompt_name: str
    prompt_version: int
    prompt_sha256: str
    prompt_parts: list[str] = Field(default_factory=list)
    locale: str = "en"
    notes: list[str] = Field(default_factory=list, description="e.g. a locale fallback or an unpriced model.")


class GenerationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    variants: list[Variant]
    generator: GeneratorInfo
    usage: Usage = Field(default_factory=Usage)
    attempts: int = 1
    latency_ms: float = 0.0


@runtime_checkable
class Generator(Protocol):
    """Writes variants from a facts bundle. Implementations: ``OfflineGenerator``, ``LlmGenerator``."""

    @property
    def kind(self) -> Literal["offline", "llm"]: ...

    async def generate(self, request: GenerationRequest) -> GenerationResult: ...

    async def refine(self, request: RefineRequest) -> GenerationResult: ...
