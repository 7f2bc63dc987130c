"""The semantic support check: a model reads each sentence of a draft next to the facts and says whether the
facts support it. It sees what patterns cannot (an invented history, a sensitive inference, "as requested,
everything is free"); the rule-based checks stay the gate, the judge adds flags with the sentence as evidence.

One structured call per draft (a call of the ``JudgeAnswer`` tool), bounded by the chat model's own timeout and
retries, its answer read as the generator's is (``genai/answers.py``): an answer without a valid call raises
``MalformedAnswer`` (``model_invalid_output``), never an empty verdict. Its usage, cost and latency are returned
so the caller records and budgets them. Customer-written facts enter the prompt
only inside a data fence.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

import aiohttp
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from copyloom.config import ModelPrice, Settings
from copyloom.contracts.facts import FactsBundle
from copyloom.genai.answers import require_tool_answer, tool_for
from copyloom.genai.chat import price_for, priced_usage
from copyloom.genai.direct import DirectChatModel
from copyloom.genai.loop import PerLoop
from copyloom.genai.types import Usage
from copyloom.prompts import DataFence, get_prompt, render_chat

__all__ = ["JudgeAnswer", "JudgeOutcome", "LoopJudges", "SentenceVerdict", "SupportJudge", "split_sentences"]

_SENTENCE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|$)")


class SentenceVerdict(BaseModel):
    """The verdict on one numbered sentence of the draft."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="The sentence's number, as listed (1-based).")
    label: Literal["supported", "unsupported", "no_claim"] = Field(
        description="supported: every claim follows from the facts; unsupported: something does not; "
        "no_claim: a greeting or invitation that states no fact."
    )
    fact_ids: list[str] = Field(default_factory=list, description="Ids of the facts that support the sentence.")
    reason: str = Field(default="", description="For unsupported: what is not supported, in a short phrase.")


class JudgeAnswer(BaseModel):
    """One verdict per numbered sentence."""

    model_config = ConfigDict(extra="forbid")

    sentences: list[SentenceVerdict]


class JudgeOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    sentences: list[str]
    verdicts: list[SentenceVerdict]
    usage: Usage
    latency_ms: float
    model: str
    prompt_sha256: str

    def unsupported(self) -> list[tuple[str, SentenceVerdict]]:
        """(sentence, verdict) of each sentence the judge found unsupported, or citing no known fact."""
        out = []
        for v in self.verdicts:
            if v.label == "unsupported" and 1 <= v.index <= len(self.sentences):
                out.append((self.sentences[v.index - 1], v))
        return out


def split_sentences(fields: dict[str, str]) -> list[str]:
    return [m.group(0).strip() for text in fields.values() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


class SupportJudge:
    """Asks ``chat_model`` whether the facts support each sentence of a draft."""

    def __init__(
        self, chat_model: BaseChatModel | DirectChatModel, *, model_name: str, price: ModelPrice | None = None
    ) -> None:
        tool = tool_for(JudgeAnswer)
        self._runnable: Any = chat_model.bind_tools(
            [tool], tool_choice=tool["function"]["name"], parallel_tool_calls=False
        )
        self._model = model_name
        self._price = price

    async def judge(self, fields: dict[str, str], bundle: FactsBundle, *, send_at: str) -> JudgeOutcome:
        """One call; a model error propagates (the caller records the judge as failed, never the draft)."""
        sentences = split_sentences(fields)
        fence = DataFence()
        prompt = render_chat(
            get_prompt("judge.system"),
            get_prompt("judge"),
            {
                "brand": bundle.brand.name,
                "fence": fence,
                "facts": [{"id": f.id, "text": f.text} for f in bundle.facts if not f.untrusted],
                "untrusted": [{"id": f.id, "text": fence.clean(f.text)} for f in bundle.facts if f.untrusted],
                "sentences": sentences,
                "send_at": send_at,
                "locale": bundle.customer.locale,
                "personalization_allowed": bundle.personalization_allowed,
            },
        )
        messages: list[BaseMessage] = [
            SystemMessage(m.content) if m.role == "system" else HumanMessage(m.content) for m in prompt.messages
        ]
        started = time.perf_counter()
        raw = await self._runnable.ainvoke(messages)
        latency = (time.perf_counter() - started) * 1000
        parsed = require_tool_answer(raw, JudgeAnswer)
        meta = raw.usage_metadata
        usage = priced_usage(self._price, meta["input_tokens"], meta["output_tokens"]) if meta else Usage()
        known = bundle.ids()
        verdicts = []
        for v in parsed.sentences:
            cited = [f for f in v.fact_ids if f in known]
            # "Supported" by nothing in the bundle is not supported.
            if v.label == "supported" and not cited:
                v = v.model_copy(update={"label": "unsupported", "reason": v.reason or "cites no fact of the bundle"})
            verdicts.append(v.model_copy(update={"fact_ids": cited}))
        return JudgeOutcome(
            sentences=sentences,
            verdicts=verdicts,
            usage=usage,
            latency_ms=latency,
            model=self._model,
            prompt_sha256=prompt.sha256,
        )


class LoopJudges(PerLoop[dict[str, tuple[SupportJudge, aiohttp.ClientSession]]]):
    """One judge per event loop and judge model, each a :class:`~copyloom.genai.direct.DirectChatModel` over an
    ``aiohttp`` session of its own, as the generator's: the same pooled client, the same reading of the answer
    (``genai/answers.py``) and the same stepping down of a ``tool_choice`` the endpoint rejects. The sessions are
    closed on their own loop when it ends, or by ``close()`` / ``aclose()`` (see :class:`~copyloom.genai.loop.PerLoop`)."""

    def __init__(self) -> None:
        super().__init__(dict, _close_sessions)

    def for_model(self, settings: Settings, model: str) -> SupportJudge:
        """The running loop's judge for ``model`` (built with ``settings`` on first use on this loop)."""
        judges = self.get()
        hit = judges.get(model)
        if hit is None:
            session = DirectChatModel.open_session(settings)
            chat = DirectChatModel(settings.model_copy(update={"llm_model": model}), session, temperature=0.0)
            hit = judges[model] = (SupportJudge(chat, model_name=model, price=price_for(settings, model)), session)
        return hit[0]


async def _close_sessions(judges: dict[str, tuple[SupportJudge, aiohttp.ClientSession]]) -> None:
    for _, session in judges.values():
        await session.close()
