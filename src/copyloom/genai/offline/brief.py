"""What the offline generator can take from a brief and from the brand kit's voice text.

Without a model, free-text instructions are only read for what a template can honour: products and offers
named by name, sku, code or id; shorter copy; a more formal or casual register; no emoji; no discount. The brand
kit's ``voice`` is read for register, no emoji and no exclamation marks (or pushiness); the brief wins where the
two differ. The result says what was followed and that anything else in the instructions or
the voice was not (``notes``), so nobody mistakes a template for a copywriter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from copyloom.contracts.facts import FactKind, FactsBundle
from copyloom.domain.brief import Brief

__all__ = ["Directives", "Register", "read_brief", "read_voice"]

Register = Literal["formal", "neutral", "casual"]

_SHORT = ("short", "brief", "concise", "succinct", "简短", "简洁", "短一点")
_NO_OFFER = (
    "no discount",
    "no offer",
    "no promo",
    "without discount",
    "without a discount",
    "without an offer",
    "without offer",
    "don't mention discount",
    "do not mention discount",
    "不要优惠",
    "不提优惠",
    "不要折扣",
    "无折扣",
)
_FORMAL = ("formal", "正式", "庄重")
_CASUAL = ("casual", "friendly", "relaxed", "informal", "轻松", "亲切", "随意")
_NO_EMOJI = ("no emoji", "without emoji", "不要表情", "不用表情")
_CALM = ("no exclamation", "pushy", "hard sell", "understated", "calm", "不要感叹号", "不强推")


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", text) for w in words)


@dataclass(frozen=True)
class Directives:
    """The brief as the offline generator follows it."""

    named: frozenset[str] = field(default_factory=frozenset)  # fact ids the instructions name
    shorten: int = 0
    no_offers: bool = False
    register: Register | None = None
    no_emoji: bool = False
    no_exclamations: bool = False
    notes: tuple[str, ...] = ()


def _plain(low: str) -> tuple[int, Register | None, bool, list[str]]:
    """(shorten, register, no emoji, what was understood) from lower-cased free text."""
    shorten = 1 if _has(low, _SHORT) else 0
    register: Register | None = "formal" if _has(low, _FORMAL) else ("casual" if _has(low, _CASUAL) else None)
    no_emoji = _has(low, _NO_EMOJI)
    understood = ["shorter copy"] * shorten + ["no emoji"] * no_emoji + [f"{register} register"] * bool(register)
    return shorten, register, no_emoji, understood


def read_voice(voice: str) -> Directives:
    """What a template can follow of the brand kit's voice text; the notes say what, and that the rest needs a
    model (or that the kit has no voice, so the copy is plain and neutral)."""
    low = voice.strip().lower()
    if not low:
        return Directives(notes=("the brand kit has no voice text: the offline copy is plain and neutral",))
    # "short sentences" in a voice is about rhythm, not a shorter message: length stays the brief's to set
    _, register, no_emoji, understood = _plain(low)
    understood = [u for u in understood if u != "shorter copy"]
    calm = _has(low, _CALM)
    understood += ["no exclamation marks"] * calm
    notes = [f"brand voice followed offline: {', '.join(understood)}"] if understood else []
    notes.append(
        "the offline template follows the brand voice only for register, emoji and exclamation marks; the rest "
        "of it (word choice, rhythm, personality) needs a model"
    )
    return Directives(register=register, no_emoji=no_emoji, no_exclamations=calm, notes=tuple(notes))


def read_brief(brief: Brief, bundle: FactsBundle) -> Directives:
    """Directions from ``brief.instructions`` over those of the brand voice; offers and skus the brief lists are
    already required facts."""
    voice = read_voice(bundle.brand.voice)
    text = (brief.instructions or "").strip()
    if not text:
        return voice
    low = text.lower()
    named: set[str] = set()
    followed: list[str] = []
    for f in bundle.facts:
        if f.untrusted:
            continue
        v = f.values
        if f.kind is FactKind.PRODUCT and v.product_name:
            sku_named = v.sku is not None and re.search(r"(?<![\w-])" + re.escape(v.sku.lower()) + r"(?![\w-])", low)
            if v.product_name.lower() in low or sku_named:
                named.add(f.id)
                followed.append(f"features {v.product_name}")
        elif f.kind is FactKind.OFFER:
            key = f.id.split(":", 1)[1].lower()
            if (v.code and v.code.lower() in low) or re.search(r"(?<![\w-])" + re.escape(key) + r"(?![\w-])", low):
                named.add(f.id)
                followed.append(f"features offer {f.id.split(':', 1)[1]}")
    shorten, register, no_emoji, understood = _plain(low)
    no_offers = _has(low, _NO_OFFER)
    followed += understood + ["no discount"] * no_offers
    notes = [f"brief instructions followed offline: {', '.join(followed)}"] if followed else []
    notes.append(
        "the offline template reads instructions only for named products and offers, length, register, emoji "
        "and discounts; anything else in them needs a model"
    )
    return Directives(
        frozenset(named),
        shorten,
        no_offers,
        register or voice.register,
        no_emoji or voice.no_emoji,
        voice.no_exclamations,
        (*voice.notes, *notes),
    )
