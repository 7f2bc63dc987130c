"""Template rendering for the reviewer pages: one Jinja2 environment, autoescaping on, strict about names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from copyloom.api.routes.ui_session import SECURITY_HEADERS, UiSession
from copyloom.review.schemas import STATUS_COLUMN

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
CHANNELS = ("email", "sms", "push", "in_app", "whatsapp", "web")
CHANNEL_LABELS = {
    "email": "Email",
    "sms": "SMS",
    "push": "Push",
    "in_app": "In-app",
    "whatsapp": "WhatsApp",
    "web": "Web",
}


def _age(value: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,  # every page: copy, names and notes are data, never markup
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["age"] = _age
_env.filters["when"] = _when
_env.globals["channel_labels"] = CHANNEL_LABELS
templates = Jinja2Templates(env=_env)


def page(request: Request, name: str, ui: UiSession | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    ctx = {"ui": ui, "csrf": ui.csrf if ui else "", "notice": None, "error": None, "confirmation": None, **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=SECURITY_HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def to_signin(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/ui/signin?" + urlencode({"next": target}))


def clean_filters(status: str | None, channel: str | None, campaign_id: str | None) -> dict[str, str]:
    """Query-string filters the pages understand; anything else is dropped."""
    out = {"status": status if status in STATUS_COLUMN else "pending"}
    if channel in CHANNELS:
        out["channel"] = channel
    if campaign_id and len(campaign_id) <= 32:
        out["campaign_id"] = campaign_id
    return out


def query(filters: dict[str, str], **extra: str | None) -> str:
    merged = {**filters, **{k: v for k, v in extra.items() if v}}
    return urlencode(merged)
