"""The server's copy for the less common requests: WhatsApp templates, refine and translate, five variants,
no personalization, and plain chat without a tool."""

from __future__ import annotations

import re
from collections.abc import Iterator

import openai
import pytest

from copyloom.contracts.enums import Channel, Goal
from copyloom.genai import GenerationRequest
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.structured import check_variants
from copyloom.genai.types import GenerationResult, RefineOperation, RefineRequest
from tests.genai.bundles import make_bundle, make_request
from tests.modelserver import ModelServer, start_model_server
from tests.modelserver.generators import with_generator

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with start_model_server(seed=3) as s:
        yield s


def generate(server: ModelServer, request: GenerationRequest) -> GenerationResult:
    async def work(generator: LlmGenerator) -> GenerationResult:
        return await generator.generate(request)

    return checked(with_generator(server.base_url, work))


def checked(result: GenerationResult) -> GenerationResult:
    assert result.attempts == 1
    return result


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_whatsapp_outside_the_window_gets_a_template(server: ModelServer, locale: str) -> None:
    bundle = make_bundle(locale)
    request = make_request(channel=Channel.WHATSAPP, n=2, bundle=bundle, whatsapp_template_only=True)
    result = generate(server, request)
    for v in result.variants:
        content = v.content
        assert content.channel == "whatsapp"
        assert content.text == "" and content.template_name == f"win_back_{locale.lower().replace('-', '_')}"
        assert content.template_variables and all(len(x) <= 60 for x in content.template_variables.values())


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_five_variants_have_five_angles(server: ModelServer, locale: str) -> None:
    bundle = make_bundle(locale)
    result = generate(server, make_request(channel=Channel.PUSH, n=5, bundle=bundle, goal=Goal.CROSS_SELL))
    assert len({v.angle for v in result.variants}) == 5
    assert not check_variants(result.variants, bundle, locale=locale)


def test_without_personalization_no_name_and_no_purchase(server: ModelServer) -> None:
    bundle = make_bundle(personalization=False)
    result = generate(server, make_request(channel=Channel.EMAIL, n=3, bundle=bundle))
    for v in result.variants:
        assert "Emma" not in str(v.content.model_dump())
        assert not [f for f in v.fact_ids if f.startswith(("purchase:", "profile:"))]


def test_refine_translates_into_chinese(server: ModelServer) -> None:
    bundle = make_bundle("en")

    async def work(generator: LlmGenerator) -> tuple[GenerationResult, GenerationResult]:
        parent = await generator.generate(make_request(channel=Channel.SMS, n=1, bundle=bundle))
        translate = RefineOperation.TRANSLATE
        request = RefineRequest(
            bundle=bundle,
            brief=make_request().brief,
            parent=parent.variants[0],
            operation=translate,
            target_locale="zh-CN",
        )
        return parent, await generator.refine(request)

    parent, child = with_generator(server.base_url, work)
    text = checked(child).variants[0].content.text  # type: ignore[union-attr]
    assert CJK.search(text) and text.endswith("回T退订") and not CJK.search(parent.variants[0].content.text)  # type: ignore[union-attr]
    assert not check_variants(child.variants, bundle, locale="zh-CN")


def test_plain_chat_without_a_tool_gets_text(server: ModelServer) -> None:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as client:
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Say something about tents."}]
        )
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content
