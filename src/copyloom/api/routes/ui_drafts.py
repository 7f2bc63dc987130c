"""The draft page and its three actions (approve, reject, edit), shared by the /ui routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from copyloom.api.routes.ui_render import CHANNEL_LABELS, clean_filters, page, query, redirect, to_signin
from copyloom.api.routes.ui_session import UiSession, check_csrf, current_session
from copyloom.api.services import Services
from copyloom.contracts.enums import DraftStatus
from copyloom.db import read
from copyloom.domain.draft_queue import QueueFilter, campaign_name, neighbours
from copyloom.domain.drafts import draft_history, load_draft
from copyloom.errors import CopyloomError, NotFound
from copyloom.models import Customer, Draft
from copyloom.review import actions
from copyloom.review.actors import actor_names
from copyloom.review.schemas import ApproveBody, EditBody, RejectBody, RejectReason
from copyloom.review.views import draft_view, event_summary


def render_draft(
    request: Request,
    services: Services,
    ui: UiSession,
    draft_id: str,
    filters: dict[str, str],
    *,
    status_code: int = 200,
    error: str | None = None,
    refused: list[dict[str, Any]] | None = None,
    attempted: dict[str, str] | None = None,
    notice: str | None = None,
    confirmation: dict[str, Any] | None = None,
) -> Response:
    ws = ui.principal.workspace_id
    flt = QueueFilter("pending", filters.get("campaign_id"), filters.get("channel"))
    with read(services.session_factory) as session:
        try:
            draft = load_draft(session, ws, draft_id)
        except NotFound:
            return page(request, "error.html", ui, 404, message="No such draft in your workspace.")
        customer = session.get(Customer, draft.customer_id) if draft.customer_id is not None else None
        prev_id, next_id = neighbours(session, draft, flt)
        rows = draft_history(session, ws, draft_id)
        events = [(e, event_summary(e.kind, e.data)) for e in rows]
        actors = actor_names(session, ws, (e.actor for e in rows))
        campaign = campaign_name(session, ws, draft.campaign_id)
    view = draft_view(draft)
    form_values = attempted or view.raw
    return page(
        request,
        "draft.html",
        ui,
        status_code,
        draft=draft,
        view=view,
        customer=customer,
        prev_id=prev_id,
        next_id=next_id,
        events=events,
        filters=filters,
        query=query,
        reasons=[r.value for r in RejectReason],
        form_values=form_values,
        error=error,
        refused=refused or [],
        notice=notice,
        actors=actors,
        campaign_name=campaign,
        confirmation=confirmation,
    )


def confirmation(
    services: Services, ui: UiSession, decided: str | None, done: str | None, *, next_shown: bool
) -> dict[str, Any] | None:
    """What the reviewer just did, said back with a link to it (approve/reject never jump on silently)."""
    verb = {"approved": "Approved", "rejected": "Rejected"}.get(done or "")
    if verb is None or not decided:
        return None
    ws = ui.principal.workspace_id
    with read(services.session_factory) as session:
        try:
            draft = load_draft(session, ws, decided)
        except NotFound:
            return None
        customer = session.get(Customer, draft.customer_id) if draft.customer_id is not None else None
    who = f"{customer.name or customer.external_id} ({customer.external_id})" if customer else "the control group"
    channel = CHANNEL_LABELS.get(draft.channel, draft.channel)
    return {"text": f"{verb}: the {channel} draft for {who}.", "id": draft.id, "next": next_shown}


def _edited_content(form: FormData, draft: Draft) -> tuple[dict[str, Any], dict[str, str]]:
    """Rebuild the content object from the edit form's ``f:<field>`` inputs (nested: ``f:<field>.<key>``)."""
    content: dict[str, Any] = {"channel": draft.channel}
    raw: dict[str, str] = {}
    for name, value in form.multi_items():
        if not name.startswith("f:") or not isinstance(value, str):
            continue
        field = name[2:]
        value = value.replace("\r\n", "\n")
        raw[field] = value
        outer, _, inner = field.partition(".")
        if inner:
            content.setdefault(outer, {})[inner] = value
        elif draft.content.get(outer) is None and value == "":
            content[outer] = None  # an optional field left empty stays unset
        else:
            content[outer] = value
    return content, raw


async def decide(request: Request, services: Services, draft_id: str, action: str) -> Response:
    """Read the form on the event loop; do the database and guardrail work in a worker thread."""
    form = await request.form()
    return await run_in_threadpool(_decide, request, services, draft_id, action, form)


def _decide(request: Request, services: Services, draft_id: str, action: str, form: FormData) -> Response:
    ui = current_session(request, services)
    if ui is None:
        return to_signin(request)
    check_csrf(ui, form.get("csrf"))
    filters = clean_filters(
        str(form.get("status") or ""), str(form.get("channel") or ""), str(form.get("campaign_id") or "")
    )
    ws, actor = ui.principal.workspace_id, f"key:{ui.principal.key_id}"
    version_raw = str(form.get("version") or "")
    version = int(version_raw) if version_raw.isdigit() and int(version_raw) > 0 else None
    comment = str(form.get("comment") or "").strip()[:2000] or None
    attempted: dict[str, str] | None = None
    try:
        if action == "approve":
            acks = [str(v) for v in form.getlist("ack")]
            body = ApproveBody(acknowledged_flags=acks, comment=comment, expected_version=version)
            draft = actions.approve(services.session_factory, ws, draft_id, body, actor=actor)
        elif action == "reject":
            reason = str(form.get("reason_code") or "")
            if reason not in {r.value for r in RejectReason}:
                return render_draft(request, services, ui, draft_id, filters, status_code=422, error="Choose a reason.")
            rbody = RejectBody(reason_code=RejectReason(reason), comment=comment, expected_version=version)
            draft = actions.reject(services.session_factory, ws, draft_id, rbody, actor=actor)
        else:
            with read(services.session_factory) as session:
                current = load_draft(session, ws, draft_id)
            content, attempted = _edited_content(form, current)
            ebody = EditBody(content=content, comment=comment, expected_version=version)
            engine = services.content_engine()
            draft = actions.edit(engine, services.session_factory, ws, draft_id, ebody, actor=actor)
    except actions.EditRefused as exc:
        refused = [r.model_dump(mode="json") for r in exc.report.blocking]
        return render_draft(
            request,
            services,
            ui,
            draft_id,
            filters,
            status_code=422,
            error=exc.message,
            refused=refused,
            attempted=attempted,
        )
    except NotFound:
        return page(request, "error.html", ui, 404, message="No such draft in your workspace.")
    except CopyloomError as exc:
        return render_draft(
            request, services, ui, draft_id, filters, status_code=exc.status, error=exc.message, attempted=attempted
        )
    if draft.status == DraftStatus.PENDING_REVIEW:  # an edit that a check still flags: stay on the draft
        return redirect(f"/ui/drafts/{draft_id}?{query(filters, done='flagged')}")
    flt = QueueFilter("pending", filters.get("campaign_id"), filters.get("channel"))
    with read(services.session_factory) as session:
        _, next_id = neighbours(session, draft, flt)
    done = {"approve": "approved", "reject": "rejected", "edit": "approved"}[action]
    if next_id:
        return redirect(f"/ui/drafts/{next_id}?{query(filters, done=done, decided=draft_id)}")
    return redirect(f"/ui/?{query(filters, done=done, decided=draft_id)}")
