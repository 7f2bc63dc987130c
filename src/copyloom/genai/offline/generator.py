"""The offline generator: grounded variants from Jinja2 copy blocks, no model involved.

It is the default when no language model is configured, and every result says ``kind="offline"`` and
``model=None``. It only quotes values of facts in the bundle (see ``facts.py``), writes in the customer's
locale (``en``, ``zh-CN``; others fall back to English with a note), gives each variant a different angle and
different facts where the bundle has them, and reads guardrail feedback to shorten, drop exclamation marks or
emoji, avoid quoted phrases and leave out facts named by id.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Literal

from copyloom.domain.brief import Brief
from copyloom.domain.enums import Channel
from copyloom.genai.offline.compose import Copy, Style, compose, has_banned, parse_copy
from copyloom.genai.offline.facts import Picked, copy_context, pick_facts, quoted
from copyloom.genai.schemas import Variant
from copyloom.genai.types import (
    GenerationRequest,
    GenerationResult,
    GeneratorInfo,
    RefineOperation,
    RefineRequest,
)
from copyloom.prompts import get_prompt
from copyloom.retrieval.facts import FactsBundle

__all__ = ["OFFLINE_LOCALES", "FeedbackHints", "OfflineGenerator"]

OFFLINE_LOCALES = {"en": "en", "zh": "zh-CN"}
N_ANGLES = 5
_QUOTED = re.compile(r"[\"'“‘「](.{2,60}?)[\"'”’」]")
_SHORTEN_WORDS = ("too long", "shorten", "shorter", "segment", "characters", "length", "过长", "太长")


@dataclass(frozen=True)
class FeedbackHints:
    """What the offline generator can act on in guardrail feedback."""

    shorten: int = 0
    no_exclamations: bool = False
    no_emoji: bool = False
    avoid_phrases: tuple[str, ...] = ()
    excluded_facts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, feedback: list[str], bundle: FactsBundle) -> FeedbackHints:
        text = " ".join(feedback).lower()
        phrases = tuple(m.group(1) for item in feedback for m in _QUOTED.finditer(item))
        ids = bundle.ids()
        excluded = frozenset(i for i in ids if any(i in item for item in feedback))
        return cls(
            shorten=2 if any(w in text for w in _SHORTEN_WORDS) else 0,
            no_exclamations="exclamation" in text or "感叹号" in text,
            no_emoji="emoji" in text,
            avoid_phrases=tuple(p for p in phrases if p not in ids),
            excluded_facts=excluded,
        )


def _offline_locale(locale: str) -> tuple[str, str | None]:
    base = locale.split("-")[0].lower()
    if base in OFFLINE_LOCALES:
        return OFFLINE_LOCALES[base], None
    return "en", f"the offline generator has no {locale!r} copy; wrote English"


class OfflineGenerator:
    """Writes variants without a model. See the module docstring for what it guarantees."""

    @property
    def kind(self) -> Literal["offline", "llm"]:
        return "offline"

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        locale, note = _offline_locale(request.bundle.locale)
        hints = FeedbackHints.parse(request.feedback, request.bundle)
        brand = request.bundle.brand
        variants = []
        for i in range(request.n_variants):
            picked = pick_facts(request.bundle, i, set(hints.excluded_facts))
            variants.append(
                self._variant(
                    request.bundle,
                    request.brief,
                    request.channel,
                    picked,
                    angle=i % N_ANGLES,
                    locale=locale,
                    hints=hints,
                    formal=brand.formality == "formal",
                    casual=brand.formality == "casual",
                    template_only=request.whatsapp_template_only,
                )
            )
        return self._result(variants, locale, note, request.channel, started)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        started = time.perf_counter()
        op = request.operation
        target = request.target_locale if op is RefineOperation.TRANSLATE and request.target_locale else None
        locale, note = _offline_locale(target or request.bundle.locale)
        hints = FeedbackHints.parse(request.feedback, request.bundle)
        parent_locale, _ = _offline_locale(request.bundle.locale)
        angle = self._angle_index(request.brief, request.bundle, request.parent.angle, parent_locale)
        if op is RefineOperation.REPHRASE:
            angle = (angle + 1) % N_ANGLES
        brand = request.bundle.brand
        formal = op is RefineOperation.MORE_FORMAL or (
            brand.formality == "formal" and op is not RefineOperation.MORE_CASUAL
        )
        casual = op is RefineOperation.MORE_CASUAL
        only = set(request.parent.fact_ids) & request.bundle.ids()
        picked = pick_facts(request.bundle, 0, set(hints.excluded_facts), only=only)
        parent_len = sum(len(v) for v in request.parent.content.text_fields().values())
        variant = None
        for shorten in range(hints.shorten, 8) if op is RefineOperation.SHORTEN else (hints.shorten,):
            variant = self._variant(
                request.bundle,
                request.brief,
                request.channel,
                picked,
                angle=angle,
                locale=locale,
                hints=FeedbackHints(shorten, hints.no_exclamations, hints.no_emoji, hints.avoid_phrases),
                formal=formal,
                casual=casual,
                template_only=request.whatsapp_template_only,
            )
            if sum(len(v) for v in variant.content.text_fields().values()) < parent_len:
                break
        assert variant is not None
        return self._result([variant], locale, note, request.channel, started)

    def _angle_index(self, brief: Brief, bundle: FactsBundle, angle: str, locale: str) -> int:
        for i in range(N_ANGLES):
            copy = self._copy(
                brief,
                i,
                locale,
                {
                    "brand": bundle.brand.name,
                    "name": None,
                    "formal": False,
                    "casual": False,
                    "personal": False,
                    "offer": None,
                    "product": None,
                    "purchase": None,
                    "event": None,
                },
            )
            if copy and copy.get("angle") == angle:
                return i
        return 0

    @staticmethod
    def _copy(brief: Brief, angle: int, locale: str, ctx: dict[str, object]) -> Copy | None:
        rendered = get_prompt(f"offline.{locale}").render(goal=brief.goal.value, angle=angle, c=ctx)
        return parse_copy(rendered)

    def _variant(
        self,
        bundle: FactsBundle,
        brief: Brief,
        channel: Channel,
        picked: Picked,
        *,
        angle: int,
        locale: str,
        hints: FeedbackHints,
        formal: bool,
        casual: bool,
        template_only: bool,
    ) -> Variant:
        brand = bundle.brand
        first_name = bundle.customer.first_name if bundle.personalization_allowed else None
        ctx = copy_context(brand, picked, first_name=first_name, formal=formal, casual=casual)
        emoji_ok = brand.emoji_policy == "allowed" or (brand.emoji_policy == "sparingly" and casual)
        style = Style(
            locale=locale,
            brand=brand.name,
            goal=brief.goal.value,
            shorten=hints.shorten,
            max_exclamations=0 if hints.no_exclamations else brand.max_exclamations,
            emoji=emoji_ok and not hints.no_emoji,
            banned=tuple(brand.banned_phrases) + tuple(brand.competitor_names) + hints.avoid_phrases,
            max_sms_segments=brand.policies.sms_max_segments,
        )
        # An angle whose every wording hits a banned phrase gives way to the next angle.
        copy: Copy | None = None
        for step in range(N_ANGLES):
            copy = self._copy(brief, (angle + step) % N_ANGLES, locale, ctx)
            if copy is None:  # every goal defines angles 0-4; this guards a template edit gone wrong
                raise LookupError(f"offline copy {locale} has no angle {angle} for goal {brief.goal.value}")
            content = compose(channel, copy, style, whatsapp_template_only=template_only)
            if not has_banned("\n".join(content.text_fields().values()), style):
                break
        assert copy is not None
        text = "\n".join(content.text_fields().values())
        cited = [f.id for f in picked.facts() if any(q and q in text for q in quoted(f, ctx))]
        if first_name and picked.profile and first_name in text:
            cited.append(picked.profile.id)
        return Variant(angle=copy.get("angle"), fact_ids=cited, content=content)

    @staticmethod
    def _result(
        variants: list[Variant], locale: str, note: str | None, channel: Channel, started: float
    ) -> GenerationResult:
        template = get_prompt(f"offline.{locale}")
        source = (template.ref + "\n" + "\n".join(v.model_dump_json() for v in variants)).encode()
        return GenerationResult(
            variants=variants,
            generator=GeneratorInfo(
                kind="offline",
                model=None,
                prompt_name=template.name,
                prompt_version=template.version,
                prompt_sha256=hashlib.sha256(source).hexdigest(),
                prompt_parts=[template.ref],
                locale=locale,
                notes=[note] if note else [],
            ),
            attempts=1,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
