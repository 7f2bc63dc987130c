"""The offline generator: grounded variants from Jinja2 copy blocks, no model involved.

It is the default when no language model is configured, and every result says ``kind="offline"``,
``model=None`` and, in ``generator.notes``, "offline template, no model". It only quotes values of facts in the
bundle (see ``facts.py``: offers only on what they cover, pairs only with a pairing fact, invitations only to an
event fact), writes in the customer's locale (``en``, ``zh-CN``; others fall back to English with a note) in the
brand kit's register and what a template can follow of its voice text (``brief.read_voice``; the notes say what), follows what a template can of the brief (``brief.py``), gives each variant a different angle
and different facts where the bundle has them, and reads guardrail feedback to shorten, drop exclamation marks or
emoji, avoid quoted phrases and leave out facts named by id.

What it cannot do it refuses with 422 ``not_supported_offline`` instead of returning the same copy: a tone change
or a translation of an existing draft, an invitation without an event, a refinement that changes nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Literal

from copyloom.contracts.enums import Channel, Goal
from copyloom.contracts.facts import FactKind, FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief
from copyloom.errors import InvalidInput
from copyloom.genai.offline.brief import Directives, Register, read_brief
from copyloom.genai.offline.compose import Copy, Style, compose, has_banned, parse_copy
from copyloom.genai.offline.facts import Picked, copy_context, event_facts, pick_facts, quoted
from copyloom.genai.types import (
    GenerationRequest,
    GenerationResult,
    GeneratorInfo,
    RefineOperation,
    RefineRequest,
)
from copyloom.prompts import get_prompt

__all__ = ["OFFLINE_LOCALES", "OFFLINE_NOTE", "FeedbackHints", "OfflineGenerator", "not_supported"]

OFFLINE_NOTE = "offline template, no model"
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


def not_supported(message: str, field: str) -> InvalidInput:
    """422 ``not_supported_offline``: what only a model can do (configure ``COPYLOOM_LLM_MODEL``)."""
    return InvalidInput(
        f"{message}; the offline generator has no model (set COPYLOOM_LLM_MODEL)",
        code="not_supported_offline",
        field=field,
    )


def _register(bundle: FactsBundle, directives: Directives) -> Register:
    return directives.register or bundle.brand.formality


def _pairing_note(picked: Picked) -> list[str]:
    if picked.pairing is None or picked.product is None or picked.purchase is None:
        return []
    return [
        f"pairs {picked.product.values.product_name} with the customer's {picked.purchase.values.product_name}: "
        f"{picked.pairing.text} [{picked.pairing.id}]"
    ]


class OfflineGenerator:
    """Writes variants without a model. See the module docstring for what it guarantees."""

    @property
    def kind(self) -> Literal["offline", "llm"]:
        return "offline"

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        bundle, brief = request.bundle, request.brief
        locale, note = _offline_locale(bundle.locale)
        if brief.goal is Goal.EVENT_INVITE and not event_facts(bundle, locale):
            raise not_supported(
                f"an invitation needs an event: add brand knowledge of kind 'event' in {locale} "
                "(its title, date and place)",
                "brief.goal",
            )
        hints = FeedbackHints.parse(request.feedback, bundle)
        directives = read_brief(brief, bundle)
        variants = []
        for i in range(request.n_variants):
            picked = pick_facts(
                bundle, i, set(hints.excluded_facts), goal=brief.goal.value, directives=directives, locale=locale
            )
            variants.append(
                self._variant(
                    bundle,
                    brief,
                    request.channel,
                    picked,
                    angle=i % N_ANGLES,
                    locale=locale,
                    hints=hints,
                    directives=directives,
                    register=_register(bundle, directives),
                    template_only=request.whatsapp_template_only,
                )
            )
        notes = [*([note] if note else []), *directives.notes]
        return self._result(variants, locale, notes, started)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        """Shorter or another angle, from the parent's own facts. Tone and translation need a model: 422."""
        started = time.perf_counter()
        op = request.operation
        if op in (RefineOperation.MORE_FORMAL, RefineOperation.MORE_CASUAL):
            raise not_supported(f"{op.value} rewrites the tone of the copy (edit the draft instead)", "operation")
        if op is RefineOperation.TRANSLATE:
            raise not_supported(
                "translate rewrites the copy in another language (to get offline copy in en or zh-CN, ask for a new "
                "draft with that locale)",
                "operation",
            )
        locale, note = _offline_locale(request.bundle.locale)
        hints = FeedbackHints.parse(request.feedback, request.bundle)
        directives = read_brief(request.brief, request.bundle)
        angle = self._angle_index(request.brief, request.bundle, request.parent.angle, locale)
        if op is RefineOperation.REPHRASE:
            angle = (angle + 1) % N_ANGLES
        only = set(request.parent.fact_ids) & request.bundle.ids()
        # the parent's pairing (if any) is kept: it is cited only through the products it pairs
        only |= {f.id for f in request.bundle.facts if f.kind is FactKind.PAIRING}
        picked = pick_facts(
            request.bundle,
            0,
            set(hints.excluded_facts),
            goal=request.brief.goal.value,
            directives=directives,
            only=only,
            locale=locale,
        )
        parent_text = request.parent.content.text_fields()
        parent_len = sum(len(v) for v in parent_text.values())
        for shorten in range(hints.shorten, 8) if op is RefineOperation.SHORTEN else (hints.shorten,):
            variant = self._variant(
                request.bundle,
                request.brief,
                request.channel,
                picked,
                angle=angle,
                locale=locale,
                hints=FeedbackHints(shorten, hints.no_exclamations, hints.no_emoji, hints.avoid_phrases),
                directives=directives,
                register=_register(request.bundle, directives),
                template_only=request.whatsapp_template_only,
            )
            text = variant.content.text_fields()
            if op is RefineOperation.SHORTEN and sum(len(v) for v in text.values()) < parent_len:
                break
            if op is RefineOperation.REPHRASE and text != parent_text:
                break
        else:
            raise not_supported(
                f"{op.value} found no {'shorter' if op is RefineOperation.SHORTEN else 'other'} "
                "wording of this draft's facts",
                "operation",
            )
        return self._result([variant], locale, [note] if note else [], started)

    def _angle_index(self, brief: Brief, bundle: FactsBundle, angle: str, locale: str) -> int:
        ctx = copy_context(bundle.brand.name, Picked(), first_name=None, register="neutral", locale=locale)
        for i in range(N_ANGLES):
            copy = self._copy(brief, i, locale, ctx)
            if copy and copy.get("angle") == angle:
                return i
        return 0

    @staticmethod
    def _copy(brief: Brief, angle: int, locale: str, ctx: dict[str, object], lead: tuple[str, ...] = ()) -> Copy | None:
        rendered = get_prompt(f"offline.{locale}").render(goal=brief.goal.value, angle=angle, c=ctx)
        return parse_copy(rendered, lead)

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
        directives: Directives,
        register: Register,
        template_only: bool,
    ) -> Variant:
        brand = bundle.brand
        first_name = bundle.customer.first_name if bundle.personalization_allowed else None
        ctx = copy_context(
            brand.name,
            picked,
            first_name=first_name,
            register=register,
            locale=locale,
            prices_on_offers=channel is not Channel.SMS,
        )
        emoji_ok = brand.emoji_policy == "allowed" or (brand.emoji_policy == "sparingly" and register == "casual")
        style = Style(
            locale=locale,
            brand=brand.name,
            goal=brief.goal.value,
            shorten=max(hints.shorten, directives.shorten),
            max_exclamations=0 if hints.no_exclamations or directives.no_exclamations else brand.max_exclamations,
            emoji=emoji_ok and not hints.no_emoji and not directives.no_emoji,
            banned=tuple(brand.banned_phrases) + tuple(brand.competitor_names) + hints.avoid_phrases,
            max_sms_segments=brand.policies.sms_max_segments,
        )
        # An angle whose every wording hits a banned phrase gives way to the next angle.
        wanted = {f.id for f in bundle.facts if f.required} | directives.named
        lead = tuple(
            key
            for key, fact in (("offer", picked.offer), ("pairing", picked.product), ("product", picked.product))
            if fact is not None and fact.id in wanted
        )
        copy: Copy | None = None
        for step in range(N_ANGLES):
            copy = self._copy(brief, (angle + step) % N_ANGLES, locale, ctx, lead)
            if copy is None:  # every goal defines angles 0-4; this guards a template edit gone wrong
                raise LookupError(f"offline copy {locale} has no angle {angle} for goal {brief.goal.value}")
            content = compose(channel, copy, style, whatsapp_template_only=template_only)
            if not has_banned("\n".join(content.text_fields().values()), style):
                break
        assert copy is not None
        text = "\n".join(content.text_fields().values())
        cited = [
            f.id
            for f in picked.facts()
            if f.kind is not FactKind.PAIRING and any(q and q in text for q in quoted(f, ctx))
        ]
        notes: list[str] = []
        if (
            picked.pairing is not None
            and picked.product
            and picked.purchase
            and {picked.product.id, picked.purchase.id} <= set(cited)
        ):
            cited.append(picked.pairing.id)
            notes = _pairing_note(picked)
        if first_name and picked.profile and first_name in text:
            cited.append(picked.profile.id)
        return Variant(angle=copy.get("angle"), fact_ids=cited, content=content, notes=notes)

    @staticmethod
    def _result(variants: list[Variant], locale: str, notes: list[str], started: float) -> GenerationResult:
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
                notes=[OFFLINE_NOTE, *notes],
            ),
            attempts=1,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
