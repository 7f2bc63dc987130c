"""LLM generator logic with a scripted chat model (no HTTP): limits re-asked, refine, the prompt it sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from copyloom.config import Settings
from copyloom.contracts.enums import Channel, Goal
from copyloom.domain.brief import Brief
from copyloom.errors import ModelError
from copyloom.genai import LlmGenerator, RefineOperation, RefineRequest
from tests.fakes import ScriptedChatModel, tool_call_message
from tests.genai.bundles import make_bundle, make_request


def sms(text: str, angle: str = "offer") -> dict[str, Any]:
    return {"variants": [{"angle": angle, "fact_ids": ["offer:SPRING20"], "content": {"text": text}}]}


def make(script: list[Any], **settings: Any) -> tuple[LlmGenerator, ScriptedChatModel]:
    chat = ScriptedChatModel(script)
    return LlmGenerator(chat, model_name="openai:local-model", settings=Settings(**settings)), chat


def test_too_long_sms_and_missing_opt_out_are_reasked() -> None:
    good = "Northwind Outfitters: code TRAIL20 gets 20% off. Reply STOP to opt out"
    gen, chat = make(
        [
            tool_call_message("SubmitSmsVariants", sms("Northwind Outfitters: " + "x" * 400)),
            tool_call_message("SubmitSmsVariants", sms(good)),
        ]
    )
    result = asyncio.run(gen.generate(make_request(Channel.SMS, 1)))
    assert result.variants[0].content.text_fields()["text"] == good
    reask = chat.calls[1][-1].content
    assert "at most 2 allowed" in reask and "opt-out" in reask
    assert result.generator.notes == ["no price configured for model 'local-model': cost recorded as 0"]
    assert result.usage.cost_usd == 0 and result.usage.total_tokens == 300


def test_repeated_angles_are_invalid() -> None:
    twice = {"variants": sms("Northwind Outfitters: hi. Reply STOP to opt out")["variants"] * 2}
    gen, _ = make([tool_call_message("SubmitSmsVariants", twice)], llm_max_reasks=0)
    with pytest.raises(ModelError) as caught:
        asyncio.run(gen.generate(make_request(Channel.SMS, 2)))
    assert "repeats" in caught.value.details["problems"][0]


def test_refine_sends_the_parent_and_the_task_and_returns_one_variant() -> None:
    text = "Northwind Outfitters: TRAIL20 = 20% off. Reply STOP to opt out"
    zh = "【Northwind Outfitters】使用优惠码 TRAIL20 立享 20% 优惠。回T退订"
    # the English text is invalid for zh-CN (no 回T退订) and is re-asked; the Chinese one passes
    gen, chat = make(
        [
            tool_call_message("SubmitSmsVariants", sms(text, "short")),
            tool_call_message("SubmitSmsVariants", sms(zh, "short")),
        ]
    )
    parent = asyncio.run(
        make([tool_call_message("SubmitSmsVariants", sms(text + " "))])[0].generate(make_request(Channel.SMS, 1))
    ).variants[0]
    request = RefineRequest(
        bundle=make_bundle(),
        brief=Brief(goal=Goal.WIN_BACK),
        parent=parent,
        operation=RefineOperation.TRANSLATE,
        target_locale="zh-CN",
    )
    result = asyncio.run(gen.refine(request))
    prompt = chat.calls[0][-1].content
    assert "Simplified Chinese" in prompt and "TRAIL20" in prompt and "Reply STOP" in prompt
    assert result.generator.prompt_name == "refine" and len(result.variants) == 1 and result.attempts == 2
    assert "回T退订" in chat.calls[1][-1].content
    assert chat.bound_tools[0][0]["function"]["parameters"]["properties"]["variants"]["maxItems"] == 1
