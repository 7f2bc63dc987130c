"""The HTTP application: ``create_app()`` builds it; the lifespan builds the heavy objects once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from copyloom import __version__
from copyloom.api.docs import install_docs
from copyloom.api.errors import install_error_handlers
from copyloom.api.middleware import BodyLimitMiddleware, InputEdgeMiddleware, RequestIdMiddleware
from copyloom.api.routes import (
    campaigns,
    decisions,
    drafts,
    facts,
    health,
    ingest,
    ingest_activity,
    ingest_segment,
    lists,
    metrics,
    reviews,
    ui,
)
from copyloom.api.services import Services
from copyloom.config import Settings, get_settings
from copyloom.content.campaigns.service import resume_unfinished
from copyloom.content.engine import readiness_probes
from copyloom.db import make_engine, make_session_factory, upgrade
from copyloom.guardrails.profanity import warm_up

DESCRIPTION = """Copyloom writes personalized marketing messages from a brand's own first-party data and
checks them before they leave. Authenticate every `/v1` call with `Authorization: Bearer <key>` (the
**Authorize** button); each operation names the roles that may call it.

Every error is `{"error": {"code": "…", "message": "…", "field": "…"}}`: `code` is stable, `field` names the
offending input (`body` with the line and column for malformed JSON). Lists are newest first, one page at a time:
pass a page's `next_cursor` as `cursor` for the next."""


def build_services(settings: Settings) -> Services:
    """Engine (migrated), session factory and the libraries' heavy objects."""
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    services = Services(settings=settings, engine=engine, session_factory=make_session_factory(engine))
    services.readiness_probes.update(readiness_probes(services.content_engine()))
    warm_up()  # the profanity model loads in ~1.5 s: pay it at start, not on the first draft
    return services


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or build_services(settings)
        if owned:
            with app.state.services.session_factory() as session:
                resume_unfinished(session, app.state.services.task_runner())
        try:
            yield
        finally:
            if owned:
                # Off the server's loop: closing waits for each loop to close its model sessions, this one included.
                await anyio.to_thread.run_sync(app.state.services.close)
                app.state.services.engine.dispose()

    app = FastAPI(
        title="copyloom",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets by install_docs, not from a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    # Inside the size limit (it reads whole bodies), which counts what arrives; it limits what it inflates.
    app.add_middleware(InputEdgeMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(drafts.router)
    app.include_router(campaigns.router)
    app.include_router(decisions.router)
    app.include_router(ingest.router)
    app.include_router(ingest_activity.router)
    app.include_router(ingest_segment.router)
    app.include_router(lists.router)
    app.include_router(facts.router)
    app.include_router(reviews.router)
    app.include_router(ui.router)
    return app
