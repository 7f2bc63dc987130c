"""The offline generator on hand-built bundles: limits, grounding, locales, policies, feedback and refine."""

from __future__ import annotations

import asyncio

import pytest

from copyloom.config import Settings
from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.enums import Channel, Goal
from copyloom.contracts.facts import FactsBundle
from copyloom.domain.brief import Brief
from copyloom.errors import InvalidInput
from copyloom.genai import OfflineGenerator, build_generator
from copyloom.genai.types import GenerationRequest, GenerationResult, RefineOperation, RefineRequest
from tests.genai.bundles import make_bundle, make_facts, make_request
from tests.genai.checks import problems

gen = OfflineGenerator()


def generate(request: GenerationRequest) -> GenerationResult:
    return asyncio.run(gen.generate(request))


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("goal", list(Goal))
@pytest.mark.parametrize("channel", list(Channel))
def test_every_goal_and_channel_fits_and_is_grounded(channel: Channel, goal: Goal, locale: str) -> None:
    bundle = make_bundle(locale)
    result = generate(make_request(channel, 5, goal, bundle))
    assert result.generator.kind == "offline" and result.generator.model is None
    assert result.generator.locale == locale and result.usage.total_tokens == 0
    assert len(result.variants) == 5
    assert len({v.angle for v in result.variants}) == 5
    for v in result.variants:
        assert problems(v, bundle, channel, locale) == []
        assert v.fact_ids, "every variant quotes at least one fact of a bundle that has some"


def test_default_factory_is_offline_and_says_so() -> None:
    generator = build_generator(Settings())
    assert isinstance(generator, OfflineGenerator) and generator.kind == "offline"


def test_chinese_copy_is_chinese_and_english_is_not() -> None:
    zh = generate(make_request(Channel.PUSH, 1, bundle=make_bundle("zh-CN"))).variants[0]
    en = generate(make_request(Channel.PUSH, 1, bundle=make_bundle("en"))).variants[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.content.text_fields()["title"])
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(en.content.text_fields().values()))


def test_unknown_locale_falls_back_to_english_with_a_note() -> None:
    result = generate(make_request(Channel.EMAIL, 1, bundle=make_bundle("de-DE")))
    assert result.generator.locale == "en"
    assert result.generator.notes[0] == "offline template, no model"
    assert any("de-DE" in n for n in result.generator.notes)


def test_variants_quote_different_facts_where_the_bundle_has_them() -> None:
    result = generate(make_request(Channel.PUSH, 3, Goal.CROSS_SELL))
    assert len({tuple(v.fact_ids) for v in result.variants}) >= 2


def test_without_personalization_no_name_and_no_purchase_history() -> None:
    bundle = make_bundle(personalization=False)
    for channel in Channel:
        for v in generate(make_request(channel, 5, bundle=bundle)).variants:
            text = " ".join(v.content.text_fields().values())
            assert "Emma" not in text and "Trailhead" not in text
            assert "purchase:O1:1" not in v.fact_ids


def test_customer_notes_are_never_quoted() -> None:
    for channel in Channel:
        for v in generate(make_request(channel, 5)).variants:
            text = " ".join(v.content.text_fields().values())
            assert "FREE100" not in text and "note:N1" not in v.fact_ids


def test_no_facts_still_writes_a_fact_free_message() -> None:
    bundle = make_bundle(facts=[])
    for channel in Channel:
        for v in generate(make_request(channel, 3, bundle=bundle)).variants:
            assert v.fact_ids == [] and problems(v, bundle, channel, "en") == []


def test_exclamation_and_emoji_policy() -> None:
    loud = BrandKitSpec(name="Northwind Outfitters", formality="casual", emoji_policy="allowed", max_exclamations=0)
    bundle = make_bundle(brand=loud)
    push = generate(make_request(Channel.PUSH, 3, bundle=bundle)).variants
    assert all("👋" in v.content.text_fields()["title"] for v in push)
    never = make_bundle(brand=BrandKitSpec(name="Northwind Outfitters", formality="casual", emoji_policy="never"))
    for v in generate(make_request(Channel.PUSH, 3, bundle=never)).variants:
        assert all(ord(ch) < 0x2000 or "\u4e00" <= ch <= "\u9fff" for ch in v.content.text_fields()["title"])
    feedback = generate(make_request(Channel.PUSH, 3, bundle=bundle, feedback=["remove the emoji"])).variants
    assert not any("👋" in v.content.text_fields()["title"] for v in feedback)


def test_shorten_feedback_makes_the_message_shorter_but_never_empty_of_facts() -> None:
    bundle = _gsm_bundle()  # two segments hold more than the shortest message with a fact
    feedback = ["SMS is 2 segments: too long, shorten it"]
    plain = generate(make_request(Channel.SMS, 1, bundle=bundle)).variants[0]
    short = generate(make_request(Channel.SMS, 1, bundle=bundle, feedback=feedback)).variants[0]
    assert len(short.content.text_fields()["text"]) < len(plain.content.text_fields()["text"])
    assert short.fact_ids
    # already the shortest message that quotes a fact (UCS-2, one fact): shortening keeps the fact
    minimal = generate(make_request(Channel.SMS, 1)).variants[0]
    again = generate(make_request(Channel.SMS, 1, feedback=feedback)).variants[0]
    assert again.fact_ids == minimal.fact_ids != []


def test_feedback_naming_a_fact_leaves_it_out_and_quoted_phrases_are_avoided() -> None:
    result = generate(make_request(Channel.EMAIL, 3, feedback=["offer:SPRING20 is not valid at send time"]))
    assert all("offer:SPRING20" not in v.fact_ids and "TRAIL20" not in v.content.body for v in result.variants)
    avoided = generate(make_request(Channel.EMAIL, 1, feedback=['banned phrase "We miss you"'])).variants[0]
    assert "we miss you" not in avoided.content.subject.lower()


def test_banned_phrases_of_the_brand_are_never_written() -> None:
    brand = BrandKitSpec(name="Northwind Outfitters", banned_phrases=["We miss you", "Ready for the next trip"])
    bundle = make_bundle(brand=brand)
    for v in generate(make_request(Channel.PUSH, 2, bundle=bundle)).variants:
        title = v.content.text_fields()["title"].lower()
        assert "we miss you" not in title and "ready for the next trip" not in title


def _gsm_bundle() -> FactsBundle:
    """The usual facts less the one with "°", which makes any SMS that quotes it UCS-2 (70 characters a segment)."""
    return make_bundle(facts=[f for f in make_facts() if "°" not in f.text + (f.values.product_name or "")])


def _parent(channel: Channel = Channel.EMAIL, bundle: FactsBundle | None = None) -> RefineRequest:
    bundle = bundle or make_bundle()
    parent = generate(make_request(channel, 1, bundle=bundle)).variants[0]
    return RefineRequest(
        bundle=bundle, brief=Brief(goal=Goal.WIN_BACK), parent=parent, operation=RefineOperation.SHORTEN
    )


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.PUSH])
def test_refine_shorten_is_shorter_and_keeps_only_parent_facts(channel: Channel) -> None:
    req = _parent(channel, _gsm_bundle())
    out = asyncio.run(gen.refine(req)).variants[0]
    size = lambda v: sum(len(t) for t in v.content.text_fields().values())  # noqa: E731
    assert size(out) < size(req.parent)
    assert out.fact_ids and set(out.fact_ids) <= set(req.parent.fact_ids)
    assert problems(out, req.bundle, channel, "en") == []


def test_refine_shorten_of_a_one_sentence_sms_is_refused_not_emptied() -> None:
    """Shorter than its one fact sentence (an offer on a product) is a message without it: 422, not "We miss you.
    Reply STOP to opt out"."""
    req = _parent(Channel.SMS)
    assert req.parent.content.text_fields()["text"].count(". ") == 1
    with pytest.raises(InvalidInput) as err:
        asyncio.run(gen.refine(req))
    assert err.value.code == "not_supported_offline"


def test_refine_rephrase_writes_another_angle() -> None:
    req = _parent()
    other = asyncio.run(gen.refine(req.model_copy(update={"operation": RefineOperation.REPHRASE}))).variants[0]
    assert other.angle != req.parent.angle and other.content.subject != req.parent.content.subject
    assert set(other.fact_ids) <= set(req.parent.fact_ids)


def test_facts_are_quoted_exactly() -> None:
    v = generate(make_request(Channel.EMAIL, 1)).variants[0]
    assert "TRAIL20" in v.content.body and "20%" in v.content.body and "2026-12-14" in v.content.body
    facts = {f.id: f for f in make_facts()}
    assert facts["product:NW-BAG-0C"].values.product_name in v.content.body
    assert "$219.00" in v.content.body
