"""Angles: what one variant is about, as sentences built from the prompt's facts, each with the fact ids it uses.

A plan holds candidates from rich to minimal; ``writer`` lays them out in the channel's fields within limits.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import TypeVar

from tests.modelserver.phrases import CTAS, HOOKS, THANKS
from tests.modelserver.prompt import Offer, Product, PromptInfo

__all__ = ["Piece", "Plan", "plan_variants"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    ids: tuple[str, ...] = ()


@dataclass(slots=True)
class Plan:
    angle: str
    titles: list[Piece]  # short headlines, richest first
    main: Piece  # the variant's point: always kept when anything is
    hook: Piece  # the goal sentence
    extras: list[Piece]  # dropped first when space is short
    cta: str
    short: Piece  # the angle's own short title (no name), a filler for a preheader
    planted: Piece | None = None  # a planted error, kept before everything else
    plant_record: dict[str, str] = field(default_factory=dict)


def _cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _named(name: str, zh: bool) -> str:
    """A Latin name inside Chinese text stands between spaces, as Chinese typesetting does (and so that it
    reads as a whole word)."""
    return f" {name} " if zh and not _cjk(name) else name


def _offer_pieces(o: Offer, zh: bool) -> tuple[Piece, Piece] | None:
    """(sentence, short title) for an offer, or None when it cannot be said in this language."""
    ids = (o.fact_id,)
    pct = o.discount.split(" ", 1)[0] if o.discount and o.discount.split(" ", 1)[0].endswith("%") else None
    if zh:
        what = (
            o.title if _cjk(o.title) else (f"享{pct}优惠" if pct else (f"立减{o.discount[:-4]}" if o.discount else ""))
        )
        if o.code:
            text = f"{what}，使用优惠码{o.code}" if what else f"使用优惠码{o.code}"
            title = f"{what}，优惠码{o.code}" if what and len(what) <= 8 else f"优惠码{o.code}"
        elif o.free_shipping:
            text, title = (o.title if _cjk(o.title) else "订单可享免运费"), "免运费"
        else:
            return None
        until = f"，有效期至{o.until}" if o.until else ""
        return Piece(f"{text}{until}。", ids), Piece(title, ids)
    if _cjk(o.title) and not o.code:
        return None
    title_says = not _cjk(o.title) and o.discount is not None and o.discount.split(" ", 1)[0] in o.title
    what = o.title if title_says or (not o.discount and not _cjk(o.title)) else (o.discount or "")
    if o.code:
        text = f"Use code {o.code} for {what}" if what else f"Use code {o.code} at checkout"
        short = f"{o.discount} with code {o.code}" if o.discount else f"Use code {o.code}"
    else:
        text, short = what, ("Free shipping for you" if o.free_shipping else what)
    until = f", valid until {o.until}" if o.until else ""
    return Piece(f"{text}{until}.", ids), Piece(short, ids)


def _product_pieces(p: Product, zh: bool) -> tuple[Piece, Piece]:
    ids = (p.fact_id,)
    if zh:
        name = _named(p.name, zh)
        text = f"{name}，售价{p.price}。" if p.price else f"推荐你看看{name}。"
        return Piece(text, ids), Piece(f"推荐：{name}" if _cjk(p.name) else "为你推荐新装备", ids)
    text = f"The {p.name} is {p.price}." if p.price else f"Take a look at the {p.name}."
    return Piece(text, ids), Piece(f"Meet the {p.name}", ids)


def _bought_pieces(p: Product, zh: bool) -> tuple[Piece, Piece]:
    ids = (p.fact_id,)
    if zh:
        name = _named(p.name, zh)
        return Piece(f"你的{name}用得还好吗？", ids), Piece(f"你的{name}" if _cjk(p.name) else "你的装备还好吗", ids)
    return Piece(f"How is your {p.name} holding up?", ids), Piece(f"For your {p.name}", ids)


def _shuffled(items: list[_T], rng: random.Random) -> list[_T]:
    rng.shuffle(items)
    return items


def _has_code(pieces: tuple[Piece, Piece]) -> bool:
    return "code" in pieces[0].text or "优惠码" in pieces[0].text


_PREFERENCES = {
    "win_back": ["your gear", "offer", "product pick", "thank-you", "brand story", "another pick"],
    "cross_sell": ["product pick", "another pick", "offer", "your gear", "brand story", "thank-you"],
    "replenish": ["your gear", "product pick", "offer", "thank-you", "brand story", "another pick"],
    "loyalty": ["thank-you", "offer", "your gear", "product pick", "brand story", "another pick"],
    "event_invite": ["brand story", "offer", "product pick", "thank-you", "your gear", "another pick"],
}
_DEFAULT_PREFERENCE = ["offer", "product pick", "thank-you", "your gear", "brand story", "another pick"]


def plan_variants(info: PromptInfo, rng: random.Random) -> list[Plan]:
    """``info.n`` plans with different angles, the goal's favourite first and the rest in a random order."""
    zh = info.language == "zh"
    lang = "zh" if zh else "en"
    hooks = HOOKS[lang].get(info.goal) or HOOKS[lang]["offer_announcement"]
    ctas = CTAS[lang]
    # English copy names only products with Latin names; Chinese copy prefers Chinese names.
    own = _shuffled([p for p in info.products if _cjk(p.name) == zh], rng)
    fits = own + (_shuffled([p for p in info.products if not _cjk(p.name)], rng) if zh else [])
    catalogue = [p for p in fits if not p.bought]
    bought = [p for p in fits if p.bought] if info.personalization else []
    offers = [pieces for o in info.offers if (pieces := _offer_pieces(o, zh)) is not None]
    with_code = [pc for pc in offers if _has_code(pc)] or offers  # an offer with a code is the stronger point
    stories = _shuffled([Piece(text, (fid,)) for fid, text in info.knowledge if _cjk(text) == zh], rng)

    available: dict[str, tuple[Piece, Piece, list[Piece]]] = {}
    offer_extra = [rng.choice(with_code)[0]] if offers else []
    if offers:
        sentence, title = rng.choice(with_code)
        extra = [_product_pieces(catalogue[0], zh)[0]] if catalogue else []
        available["offer"] = (sentence, title, extra)
    if catalogue:
        sentence, title = _product_pieces(catalogue[0], zh)
        available["product pick"] = (sentence, title, offer_extra)
    if len(catalogue) > 1:
        sentence, title = _product_pieces(catalogue[1], zh)
        available["another pick"] = (sentence, title, offer_extra)
    if bought:
        sentence, title = _bought_pieces(bought[0], zh)
        more = [_product_pieces(catalogue[-1], zh)[0]] if catalogue else []
        available["your gear"] = (sentence, title, more + offer_extra)
    thanks_title, thanks_text = THANKS[lang]
    available["thank-you"] = (Piece(thanks_text), Piece(thanks_title), offer_extra)
    if stories:
        available["brand story"] = (stories[0], Piece(hooks[0][0]), offer_extra)

    preference = list(_PREFERENCES.get(info.goal, _DEFAULT_PREFERENCE))
    rest = preference[1:]
    rng.shuffle(rest)
    order = [a for a in [preference[0], *rest] if a in available]
    plans: list[Plan] = []
    start = rng.randrange(len(hooks))
    for i in range(info.n):
        hook_title, hook_text = hooks[(start + i) % len(hooks)]
        if i < len(order):
            angle = order[i]
            main, title, extras = available[angle]
        else:
            angle, main, title, extras = f"brand note {i + 1}", Piece(hook_text), Piece(hook_title), []
        titles = [title, Piece(hook_title)]
        if info.name:
            named = f"{info.name}，{hook_title}" if zh else f"{info.name}, {hook_title[0].lower()}{hook_title[1:]}"
            titles = [
                Piece(named),
                Piece(f"{info.name}：{title.text}" if zh else f"{info.name}: {title.text}", title.ids),
            ]
            titles += [title, Piece(hook_title)]
        cta = ctas[(start + i) % len(ctas)]
        plans.append(Plan(angle, titles, main, Piece(hook_text), list(extras), cta, title))
    return plans
