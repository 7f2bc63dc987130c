"""The content engine: the heavy collaborators (vector store, embedder, generator, token counter) built once per
process, plus short-lived per-workspace lookups that every draft's checks need (catalogue names, other
customers' identifiers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from copyloom.config import Settings
from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.cache import TTLCache
from copyloom.contracts.tokens import TokenCounter
from copyloom.domain.brand import load_brand_spec
from copyloom.domain.campaigns import CampaignTerms, load_campaign_terms
from copyloom.genai.types import Generator
from copyloom.guardrails.identifiers import IdentifierIndex
from copyloom.models import Customer, Product
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.store import VectorStore

LOOKUP_TTL_S = 60.0
CACHE_MAX_KEYS = 4096


@dataclass(frozen=True)
class WorkspaceLookups:
    """What grounding and leakage checks compare a draft against, for one workspace."""

    catalogue: tuple[str, ...]
    # Hosts the brand's own links live on (from catalogue URLs): a link elsewhere is not grounded.
    domains: tuple[str, ...]
    # Every customer's identifiers (full name, email, phone), indexed for the leakage check.
    index: IdentifierIndex


@dataclass
class ContentEngine:
    """Built once (app lifespan or CLI) and shared by every request."""

    settings: Settings
    store: VectorStore
    embedder: Embedder
    generator: Generator
    token_counter: TokenCounter
    _lookups: TTLCache[str, WorkspaceLookups] = field(default_factory=lambda: TTLCache(LOOKUP_TTL_S, CACHE_MAX_KEYS))
    _brands: TTLCache[str, BrandKitSpec] = field(default_factory=lambda: TTLCache(LOOKUP_TTL_S, CACHE_MAX_KEYS))
    # A long-running process meets many campaigns: the cache keeps the live ones.
    _campaigns: TTLCache[str, CampaignTerms] = field(default_factory=lambda: TTLCache(LOOKUP_TTL_S, CACHE_MAX_KEYS))

    def close(self) -> None:
        """Close the generator's HTTP sessions (each on its own loop: call this from a thread that runs none), the
        Chroma client (a local one keeps its SQLite files and its runtime's descriptors open until then), the
        embedding cache's connection and the embedder's worker processes."""
        from copyloom.genai.factory import close_generator
        from copyloom.retrieval.embedding_cache import CachedEmbedder
        from copyloom.retrieval.services import Retrieval

        close_generator(self.generator)
        if isinstance(self.embedder, CachedEmbedder):
            Retrieval(embedder=self.embedder, store=self.store).close()
        else:
            self.store.client.close()

    def invalidate(self, workspace_id: str) -> None:
        """Forget the cached brand kit and lookups (after a write in this process; other processes catch up
        within LOOKUP_TTL_S)."""
        self._brands.invalidate(workspace_id)
        self._lookups.invalidate(workspace_id)

    def brand(self, db: Session | Connection, workspace_id: str) -> BrandKitSpec:
        """The brand kit, at most a minute old: one row, read on every draft and decision."""

        def load() -> BrandKitSpec:
            if isinstance(db, Session):
                return load_brand_spec(db, workspace_id)
            with Session(bind=db) as session:
                return load_brand_spec(session, workspace_id)

        brand = self._brands.get_or_build(workspace_id, load)
        assert brand is not None  # load_brand_spec always answers (a bare kit when none was uploaded)
        return brand

    def campaign(self, conn: Connection, campaign_id: str) -> CampaignTerms | None:
        """A campaign's fixed terms, read once per minute at most: every decision names its campaign. An unknown
        id is not remembered (the campaign may be created a moment later)."""

        return self._campaigns.get_or_build(campaign_id, lambda: load_campaign_terms(conn, campaign_id))

    def lookups(self, session: Session, workspace_id: str) -> WorkspaceLookups:
        """Catalogue names and every customer's identifiers, at most a minute old: what the checks of a draft need
        (decisions do not, so they never pay for building this)."""
        lookups = self._lookups.get_or_build(workspace_id, lambda: _build_lookups(session, workspace_id))
        assert lookups is not None
        return lookups


def _build_lookups(session: Session, workspace_id: str) -> WorkspaceLookups:
    products = session.execute(select(Product.name, Product.url).where(Product.workspace_id == workspace_id)).all()
    identifiers: dict[int, tuple[str, ...]] = {}
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.email, Customer.phone).where(Customer.workspace_id == workspace_id)
    )
    for pk, name, email, phone in rows:
        ids = tuple(v for v in (name, email, phone) if v and len(v) >= 4)
        if ids:
            identifiers[pk] = ids
    return WorkspaceLookups(
        catalogue=tuple(name for name, _ in products),
        domains=tuple(sorted({urlsplit(url).hostname or "" for _, url in products if url} - {""})),
        index=IdentifierIndex(identifiers),
    )


def build_content_engine(settings: Settings) -> ContentEngine:
    """Embedder (cached by content hash), vector store, generator and token counter, from settings."""
    from copyloom.contracts.tokens import get_token_counter
    from copyloom.genai.factory import build_generator
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
