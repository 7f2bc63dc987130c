"""Turn a generation or refine request into a rendered, fenced chat prompt."""

from __future__ import annotations

import json
from typing import Any

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.enums import Channel
from copyloom.contracts.facts import FactsBundle
from copyloom.domain.brief import Brief
from copyloom.genai.limits import FIELD_LIMITS, PREHEADER_MIN, SMS_MAX_SEGMENTS, WIDTH_FIELDS, opt_out_text
from copyloom.genai.types import GenerationRequest, RefineOperation, RefineRequest
from copyloom.prompts import DataFence, RenderedPrompt, get_prompt, render_chat

__all__ = ["channel_rules", "render_generation_prompt", "render_refine_prompt"]

SYSTEM_PROMPT = "system"
REFINE_PROMPT = "refine"

_LANGUAGES = {"en": "English", "zh": "Simplified Chinese"}


def _limit_vars(channel: Channel, brand: BrandKitSpec, locale: str, goal: str) -> dict[str, Any]:
    if channel is Channel.SMS:
        unicode_text = locale.lower().startswith("zh")
        return {
            "segments": min(brand.policies.sms_max_segments, SMS_MAX_SEGMENTS),
            "chars_hint": "about 130 characters in Chinese" if unicode_text else "about 300 plain-ASCII characters",
            "opt_out": opt_out_text(locale),
        }
    limits: dict[str, Any] = {
        name: _in_characters(channel, name, limit, locale) for name, limit in FIELD_LIMITS[channel].items()
    }
    if channel is Channel.EMAIL:
        limits["cta"] = limits["cta_text"]
        limits["preheader_min"] = PREHEADER_MIN
    elif channel in (Channel.IN_APP, Channel.WEB):
        limits["cta"] = limits["cta_text"]
    elif channel is Channel.WHATSAPP:
        limits["opt_out"] = opt_out_text(locale)
        limits["template_name"] = f"{goal}_{locale.lower().replace('-', '_')}"
    return limits


def channel_rules(channel: Channel, brand: BrandKitSpec, locale: str, whatsapp_template_only: bool) -> list[str]:
    """The channel's limits as short sentences (the refine prompt, which serves every channel, lists them)."""
    if channel is Channel.SMS:
        lv = _limit_vars(channel, brand, locale, "")
        return [
            f"at most {lv['segments']} SMS segments",
            f"contains the brand name {brand.name!r} and ends with {lv['opt_out']!r}",
        ]
    if channel is Channel.WHATSAPP:
        if whatsapp_template_only:
            return ["template only: text empty, template_name and template_variables set"]
        return [f"text at most {FIELD_LIMITS[channel]['text']} characters, ends with {opt_out_text(locale)!r}"]
    return [
        f"{name} at most {_in_characters(channel, name, limit, locale)} characters"
        for name, limit in FIELD_LIMITS[channel].items()
    ]


def _in_characters(channel: Channel, name: str, limit: int, locale: str) -> int:
    """A limit as the prompt states it, in characters: a screen slot's columns hold half as many Chinese ones."""
    return limit // 2 if locale.lower().startswith("zh") and name in WIDTH_FIELDS.get(channel, ()) else limit


def _variables(
    bundle: FactsBundle,
    brief: Brief,
    channel: Channel,
    *,
    n: int,
    feedback: list[str],
    whatsapp_template_only: bool,
    fence: DataFence,
    locale: str,
) -> dict[str, Any]:
    trusted = [{"id": f.id, "text": f.text} for f in bundle.facts if not f.untrusted]
    untrusted = [{"id": f.id, "text": fence.clean(f.text)} for f in bundle.facts if f.untrusted]
    name = bundle.customer.first_name if bundle.personalization_allowed else None
    return {
        "brand": bundle.brand,
        "goal": str(brief.goal.value),
        "instructions": brief.instructions,
        "facts": trusted,
        "untrusted": untrusted,
        "fence": fence,
        "recipient_name": fence.clean(name) if name else None,
        "personalization_allowed": bundle.personalization_allowed,
        "feedback": list(feedback),
        "n": n,
        "channel": channel.value,
        "locale": locale,
        "language": _LANGUAGES.get(locale.split("-")[0].lower(), locale),
        "limits": _limit_vars(channel, bundle.brand, locale, brief.goal.value),
        "whatsapp_template_only": whatsapp_template_only,
    }


def render_generation_prompt(
    request: GenerationRequest, fence: DataFence | None = None, *, version: int | None = None
) -> RenderedPrompt:
    """System prompt + the channel's instruction template, for all ``n_variants`` at once."""
    fence = fence or DataFence()
    variables = _variables(
        request.bundle,
        request.brief,
        request.channel,
        n=request.n_variants,
        feedback=request.feedback,
        whatsapp_template_only=request.whatsapp_template_only,
        fence=fence,
        locale=request.bundle.locale,
    )
    return render_chat(get_prompt(SYSTEM_PROMPT), get_prompt(f"generate.{request.channel.value}", version), variables)


_TASKS = {
    RefineOperation.SHORTEN: "Make it noticeably shorter (about two thirds of the length) without losing the main offer.",
    RefineOperation.REPHRASE: "Say the same thing with different words and a fresh opening.",
    RefineOperation.MORE_FORMAL: "Make the tone more formal and polite.",
    RefineOperation.MORE_CASUAL: "Make the tone more casual and friendly, still on brand.",
}


def render_refine_prompt(request: RefineRequest, fence: DataFence | None = None) -> RenderedPrompt:
    fence = fence or DataFence()
    locale = request.target_locale or request.bundle.locale
    variables = _variables(
        request.bundle,
        request.brief,
        request.channel,
        n=1,
        feedback=request.feedback,
        whatsapp_template_only=request.whatsapp_template_only,
        fence=fence,
        locale=locale,
    )
    if request.operation is RefineOperation.TRANSLATE:
        task = f"Translate it into {variables['language']} (locale {locale}), natural rather than literal."
    else:
        task = _TASKS[request.operation]
    variables["task"] = task
    variables["parent_json"] = json.dumps(request.parent.content.model_dump(mode="json"), ensure_ascii=False)
    variables["rules"] = channel_rules(request.channel, request.bundle.brand, locale, request.whatsapp_template_only)
    return render_chat(get_prompt(SYSTEM_PROMPT), get_prompt(REFINE_PROMPT), variables)
