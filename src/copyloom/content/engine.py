"""The content engine: the heavy collaborators (vector store, embedder, generator, token counter) built once per
process, plus short-lived per-workspace lookups that every draft's checks need (catalogue names, other
customers' identifiers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.config import Settings
from copyloom.domain.brand import BrandKitSpec
from copyloom.genai.tokens import TokenCounter
from copyloom.genai.types import Generator
from copyloom.guardrails.identifiers import IdentifierIndex
from copyloom.models import Customer, Product
from copyloom.retrieval.bundle import load_brand_spec
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.store import VectorStore

LOOKUP_TTL_S = 60.0


@dataclass(frozen=True)
class WorkspaceLookups:
    """What grounding and leakage checks compare a draft against, for one workspace."""

    catalogue: tuple[str, ...]
    # Hosts the brand's own links live on (from catalogue URLs): a link elsewhere is not grounded.
    domains: tuple[str, ...]
    # Every customer's identifiers (full name, email, phone), indexed for the leakage check.
    index: IdentifierIndex
    brand: BrandKitSpec


@dataclass
class ContentEngine:
    """Built once (app lifespan or CLI) and shared by every request."""

    settings: Settings
    store: VectorStore
    embedder: Embedder
    generator: Generator
    token_counter: TokenCounter
    _lookups: dict[str, tuple[float, WorkspaceLookups]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookups(self, session: Session, workspace_id: str) -> WorkspaceLookups:
        """Cached for a minute: the same campaign asks thousands of times, and a minute-old catalogue or brand kit
        is fine (consents, contact history and events are always read fresh)."""
        now = time.monotonic()
        with self._lock:
            hit = self._lookups.get(workspace_id)
            if hit is not None and now - hit[0] < LOOKUP_TTL_S:
                return hit[1]
        products = session.execute(select(Product.name, Product.url).where(Product.workspace_id == workspace_id)).all()
        catalogue = tuple(name for name, _ in products)
        domains = tuple(sorted({urlsplit(url).hostname or "" for _, url in products if url} - {""}))
        identifiers: dict[int, tuple[str, ...]] = {}
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.email, Customer.phone).where(
                Customer.workspace_id == workspace_id
            )
        )
        for pk, name, email, phone in rows:
            ids = tuple(v for v in (name, email, phone) if v and len(v) >= 4)
            if ids:
                identifiers[pk] = ids
        value = WorkspaceLookups(
            catalogue=catalogue,
            domains=domains,
            index=IdentifierIndex(identifiers),
            brand=load_brand_spec(session, workspace_id),
        )
        with self._lock:
            self._lookups[workspace_id] = (now, value)
        return value


def build_content_engine(settings: Settings) -> ContentEngine:
    """Embedder (cached by content hash), vector store, generator and token counter, from settings."""
    from copyloom.genai.factory import build_generator
    from copyloom.genai.tokens import get_token_counter
    from copyloom.retrieval.services import build_retrieval

    retrieval = build_retrieval(settings)
    model_name = settings.llm_model.split(":", 1)[-1] if settings.llm_model else None
    return ContentEngine(
        settings=settings,
        store=retrieval.store,
        embedder=retrieval.embedder,
        generator=build_generator(settings),
        token_counter=get_token_counter(model_name),
    )


def readiness_probes(engine: ContentEngine) -> dict[str, Callable[[], object]]:
    """Callables that raise when the vector store or the model endpoint cannot be reached."""

    def chroma() -> object:
        return engine.store.client.heartbeat()

    def model() -> object:
        settings = engine.settings
        if engine.generator.kind != "llm":
            return "offline generator"
        base = (settings.llm_base_url or "https://api.openai.com/v1").rstrip("/")
        headers = {}
        if settings.llm_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
        # Listing models costs nothing and proves the endpoint and the key work.
        response = httpx.get(f"{base}/models", headers=headers, timeout=2.0)
        response.raise_for_status()
        return response.status_code

    return {"chroma": chroma, "model": model}
