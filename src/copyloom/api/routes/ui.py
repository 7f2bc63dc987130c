"""The reviewer web pages at /ui/: sign in, the queue, one draft with its evidence and actions, the report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from copyloom.api.deps import AppServices
from copyloom.api.routes.ui_drafts import confirmation, decide, render_draft
from copyloom.api.routes.ui_render import (
    CHANNELS,
    STATIC_DIR,
    clean_filters,
    page,
    query,
    redirect,
    to_signin,
)
from copyloom.api.routes.ui_session import (
    SIGNIN_COOKIE,
    check_csrf,
    clear_session_cookie,
    current_session,
    new_signin_token,
    safe_next,
    set_session_cookie,
    set_signin_cookie,
    sign_in,
    sign_out,
)
from copyloom.db import read
from copyloom.domain.draft_queue import QueueFilter, campaigns_with_drafts
from copyloom.domain.drafts import customer_labels
from copyloom.errors import CopyloomError, NotFound, Unauthenticated
from copyloom.review.queue import flagged_checks, list_queue, preview, queue_counts
from copyloom.review.reports import review_report

router = APIRouter(include_in_schema=False)
# Vendored files only (no CDN, nothing fetched at run time).
STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "htmx.LICENSE": "text/plain",
    "ui.js": "text/javascript",
    "ui.css": "text/css",
}
PAGE_SIZE = 50


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound(f"no static file {name!r}")
    return FileResponse(
        STATIC_DIR / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/ui")
def ui_root() -> RedirectResponse:
    return redirect("/ui/")


@router.get("/ui/signin")
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:
    token = new_signin_token()
    response = page(request, "signin.html", None, signin_token=token, next=safe_next(next))
    set_signin_cookie(response, request, token)
    return response


@router.post("/ui/signin", response_model=None)
def signin(
    request: Request,
    services: AppServices,
    key: Annotated[str, Form(max_length=200)],
    signin_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/ui/",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not expected or expected != signin_token:
        token = new_signin_token()
        resp = page(
            request,
            "signin.html",
            None,
            403,
            signin_token=token,
            next=safe_next(next),
            error="The sign-in form expired; please try again.",
        )
        set_signin_cookie(resp, request, token)
        return resp
    try:
        session_token = sign_in(services, key)
    except (Unauthenticated, CopyloomError) as exc:
        token = new_signin_token()
        message = "Unknown or revoked key." if isinstance(exc, Unauthenticated) else exc.message
        resp = page(request, "signin.html", None, 401, signin_token=token, next=safe_next(next), error=message)
        set_signin_cookie(resp, request, token)
        return resp
    response = redirect(safe_next(next))
    set_session_cookie(response, request, session_token)
    return response


@router.post("/ui/signout")
async def signout(request: Request, services: AppServices) -> Response:
    form = await request.form()

    def _end() -> None:  # database work off the event loop
        ui = current_session(request, services)
        if ui is not None:
            check_csrf(ui, form.get("csrf"))
            sign_out(request, services)

    await run_in_threadpool(_end)
    response = redirect("/ui/signin")
    clear_session_cookie(response)
    return response


@router.get("/ui/", response_model=None)
def queue_page(
    request: Request,
    services: AppServices,
    status: str | None = None,
    channel: str | None = None,
    campaign_id: str | None = None,
    cursor: str | None = None,
    done: str | None = None,
    decided: str | None = None,
) -> Response:
    ui = current_session(request, services)
    if ui is None:
        return to_signin(request)
    filters = clean_filters(status, channel, campaign_id)
    flt = QueueFilter(filters["status"], filters.get("campaign_id"), filters.get("channel"))
    ws = ui.principal.workspace_id
    with read(services.session_factory) as session:
        try:
            drafts, next_cursor = list_queue(session, ws, flt, limit=PAGE_SIZE, cursor=cursor)
        except CopyloomError:
            drafts, next_cursor = list_queue(session, ws, flt, limit=PAGE_SIZE)
        labels = customer_labels(session, drafts)
        counts = queue_counts(session, ws, flt)
        campaigns = campaigns_with_drafts(session, ws)
    rows = [
        {
            "draft": d,
            "customer": labels.get(d.customer_id) if d.customer_id is not None else None,
            "flags": flagged_checks(d.guardrail_report),
            "preview": preview(d.channel, d.content),
        }
        for d in drafts
    ]
    confirmed = confirmation(services, ui, decided, done, next_shown=False)
    notice = None if confirmed else {"edited": "Edit saved."}.get(done or "")
    return page(
        request,
        "queue.html",
        ui,
        rows=rows,
        counts=counts,
        filters=filters,
        campaigns=campaigns,
        channels=CHANNELS,
        next_cursor=next_cursor,
        query=query,
        notice=notice,
        confirmation=confirmed,
    )


@router.get("/ui/drafts/{draft_id}", response_model=None)
def show_draft(
    draft_id: str,
    request: Request,
    services: AppServices,
    status: str | None = None,
    channel: str | None = None,
    campaign_id: str | None = None,
    done: str | None = None,
    decided: str | None = None,
) -> Response:
    ui = current_session(request, services)
    if ui is None:
        return to_signin(request)
    notice = {"flagged": "Edit saved, but a check still flags it: acknowledge and approve, or edit again."}.get(
        done or ""
    )
    confirmed = confirmation(services, ui, decided, done, next_shown=decided != draft_id)
    filters = clean_filters(status, channel, campaign_id)
    return render_draft(request, services, ui, draft_id, filters, notice=notice, confirmation=confirmed)


@router.post("/ui/drafts/{draft_id}/approve")
async def approve(draft_id: str, request: Request, services: AppServices) -> Response:
    return await decide(request, services, draft_id, "approve")


@router.post("/ui/drafts/{draft_id}/reject")
async def reject(draft_id: str, request: Request, services: AppServices) -> Response:
    return await decide(request, services, draft_id, "reject")


@router.post("/ui/drafts/{draft_id}/edit")
async def edit(draft_id: str, request: Request, services: AppServices) -> Response:
    return await decide(request, services, draft_id, "edit")


@router.get("/ui/reports", response_model=None)
def reports_page(request: Request, services: AppServices, channel: str | None = None) -> Response:
    ui = current_session(request, services)
    if ui is None:
        return to_signin(request)
    chosen = channel if channel in CHANNELS else None
    with read(services.session_factory) as session:
        report = review_report(session, ui.principal.workspace_id, channel=chosen)
    return page(request, "reports.html", ui, report=report, channels=CHANNELS, chosen=chosen)
