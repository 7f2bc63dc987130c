"""FastAPI dependencies as ``Annotated`` aliases: settings, services, one DB transaction per request, auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import anyio
from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.orm import Session

from copyloom.api.services import Services
from copyloom.content.engine import ContentEngine
from copyloom.content.indexing import INDEX_TASK
from copyloom.contracts.enums import Role
from copyloom.db import after_commit, read, write
from copyloom.domain.workspaces import Principal, authenticate_cached, cached_principal
from copyloom.errors import Forbidden, Unauthenticated


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]


async def get_content_engine(services: AppServices) -> ContentEngine:
    return services.content_engine()


Content = Annotated[ContentEngine, Depends(get_content_engine)]


def get_db(request: Request, services: AppServices) -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back on any error. Routes never
    commit; work that needs the commit (a task for the workers) is registered with :func:`after_commit`.

    GET and HEAD only read (HTTP says they are safe): a read-only transaction, which on SQLite waits for no
    writer and blocks none."""
    unit = read if request.method in ("GET", "HEAD") else write
    with unit(services.session_factory) as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the data is stored (the default "request"
# scope would commit after the client already has its answer, and a failed commit would go unnoticed).
DbSession = Annotated[Session, Depends(get_db, scope="function")]


# Every dependency that authenticates a key -> the roles it lets through (None: any valid key). The OpenAPI
# document reads it to list each operation's roles and its 401/403; the role test compares it with the README.
ROLE_GATES: dict[Callable[..., Any], frozenset[Role] | None] = {}


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <key>'", code="missing_key")
    return token.strip()


async def get_principal(request: Request, services: AppServices) -> Principal:
    token = _bearer(request)
    principal = cached_principal(token)  # the hot path: no thread hop, no query
    if principal is not None:
        return principal
    return await anyio.to_thread.run_sync(authenticate_cached, services.session_factory, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
ROLE_GATES[get_principal] = None


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 for any other valid key)."""
    allowed = frozenset(roles)

    async def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"this needs a key with role {names}; yours is {principal.role.value}")
        return principal

    ROLE_GATES[_check] = allowed
    return _check


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
MarketerPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MARKETER))]
JourneyPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.JOURNEY))]
ReviewerPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.REVIEWER))]


def submit_after_commit(db: Session, services: Services, task: str, payload: dict[str, Any]) -> None:
    """Enqueue a background task once the request's unit of work has committed (so the worker finds its rows)."""
    after_commit(db, lambda: services.task_runner().submit(task, payload))


def schedule_reindex(background: BackgroundTasks, services: Services, workspace_id: str) -> None:
    """After the response (and the commit), index what this request changed, in the background."""
    forget_cached(background, services, workspace_id)  # the catalogue the checks compare against changed
    background.add_task(services.task_runner().submit, INDEX_TASK, {"workspace_id": workspace_id})


def forget_cached(background: BackgroundTasks, services: Services, workspace_id: str) -> None:
    """After the response (so after the commit: earlier, a concurrent request could cache the old rows again),
    drop this process's cached brand kit and catalogue for the workspace."""
    background.add_task(services.content_engine().invalidate, workspace_id)
