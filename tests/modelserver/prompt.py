"""Read a chat-completions request the way a model reads it: the tool's JSON schema and the prompt's text.

Nothing here imports copyloom: the server knows only what goes over the wire (the facts block as the
templates in ``copyloom/prompts/templates`` render it, and the limits as the prompt and the schema state them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Field", "Offer", "Product", "PromptInfo", "parse_request"]

_BRAND = re.compile(r"messages for the brand (.+?)\. You write")
_LANGUAGE = re.compile(r"Write in (.+?) \(locale ([\w-]+)\)")
_EXCLAIM = re.compile(r"Exclamation marks: at most (\d+)")
_BANNED = re.compile(r"Never use these phrases: (.+)\.\s*$", re.MULTILINE)
_FENCE = re.compile(r"<data-([0-9a-f]+)>")
_GOAL = re.compile(r"^Goal: (.+?)\.\s*$", re.MULTILINE)
_FACT = re.compile(r"^- ([a-z_]+:[^\s]+?): (.+)$")
_LIMIT = re.compile(r"^- (\w+): at most (\d+) characters")
_RANGE = re.compile(r"^- (\w+): (\d+)-(\d+) characters")
_SEGMENTS = re.compile(r"at most (\d+) segments \(about (\d+)")
_OPT_OUT = re.compile(r'(?:end with the opt-out text|ending with) "(.+?)"')
_TEMPLATE = re.compile(r'set template_name to "(.+?)".*?at most (\d+) characters each')
_FREE_FORM = re.compile(r"free-form message of at most (\d+) characters")
_COLUMNS = re.compile(r"at most (\d+) columns", re.IGNORECASE)
_TOOL_N = re.compile(r"Submit (\d+) ")
_PRICE = re.compile(r"(?:[A-Z]{3} ?\d[\d,]*(?:\.\d{2})?|\d[\d,]*(?:\.\d{2})? ?[A-Z]{3}\b|[$€£¥]\d[\d,]*(?:\.\d{2})?)")
_PERCENT = re.compile(r"\d+(?:\.\d+)?% off")
_AMOUNT_OFF = re.compile(r"\(([^()]*? off)\)")
_CODE = re.compile(r"\bcode ([A-Z0-9][A-Z0-9-]{2,})")
_UNTIL = re.compile(r"(?:valid )?until (\d{4}-\d{2}-\d{2})")
_BOUGHT = re.compile(r"^Bought (?:\d+ x )?(.+?)(?: \(sku [^)]*\))?(?: at (.+?))?(?: on \d{4}-\d{2}-\d{2}.*)?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(slots=True)
class Product:
    fact_id: str
    name: str
    price: str | None  # exactly as the fact writes it, e.g. "329.00 USD"
    bought: bool  # from the customer's own purchases

    @property
    def cjk(self) -> bool:
        return bool(_CJK.search(self.name))


@dataclass(slots=True)
class Offer:
    fact_id: str
    title: str
    discount: str | None  # "20% off", "15.00 USD off", None for free shipping
    code: str | None
    until: str | None
    free_shipping: bool


@dataclass(slots=True)
class Field:
    """One string field of the channel's content, with the limits the prompt or the schema gives it."""

    name: str
    max_chars: int | None  # as the prompt states it, in characters
    min_chars: int = 0
    width: bool = False  # a screen slot: the schema measures it in columns (a Chinese character takes two)


@dataclass(slots=True)
class PromptInfo:
    tool: str | None
    n: int
    channel: str | None
    fields: list[Field]
    brand: str = "our brand"
    language: str = "en"  # "en" or "zh"
    locale: str = "en"
    goal: str = "offer_announcement"
    name: str | None = None
    personalization: bool = True
    fact_ids: list[str] = field(default_factory=list)
    untrusted_ids: set[str] = field(default_factory=set)
    products: list[Product] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    knowledge: list[tuple[str, str]] = field(default_factory=list)  # (fact id, sentence)
    max_exclamations: int = 1
    banned: list[str] = field(default_factory=list)
    sms_chars: int | None = None
    opt_out: str | None = None
    template_name: str | None = None
    template_var_max: int = 60
    text: str = ""  # the whole prompt, for fault rules
    schema_in_prompt: bool = False  # no tools sent: the tool came as a JSON schema in the system message


def _content_schema(tool: dict[str, Any]) -> tuple[str | None, int, dict[str, Any]]:
    fn = tool.get("function") or {}
    params = fn.get("parameters") or {}
    variants = (params.get("properties") or {}).get("variants") or {}
    n = variants.get("minItems") or variants.get("maxItems")
    if n is None:
        m = _TOOL_N.search(fn.get("description") or "")
        n = int(m.group(1)) if m else 1
    item = variants.get("items") or {}
    if "$ref" in item:  # not dereferenced: look it up in $defs
        item = (params.get("$defs") or {}).get(item["$ref"].rsplit("/", 1)[-1], {})
    content = (item.get("properties") or {}).get("content") or {}
    if "$ref" in content:
        content = (params.get("$defs") or {}).get(content["$ref"].rsplit("/", 1)[-1], {})
    return fn.get("name"), int(n), content.get("properties") or {}


def _product(fact_id: str, text: str) -> Product:
    name = re.split(r" \[| \(sku |, (?=[A-Z]{3} ?\d|\d[\d,.]* ?[A-Z]{3}|[$€£¥])", text, maxsplit=1)[0].strip()
    price = _PRICE.search(text)
    return Product(fact_id, name, price.group(0) if price else None, bought=False)


def _offer(fact_id: str, text: str) -> Offer:
    title = text.split(": ", 1)[1] if text.startswith("Offer ") and ": " in text else text
    title = re.split(r" \(|; | with code | until ", title, maxsplit=1)[0].strip()
    amount = _AMOUNT_OFF.search(text)
    pct = _PERCENT.search(text)
    discount = amount.group(1) if amount else (pct.group(0) if pct else None)
    code = _CODE.search(text)
    until = _UNTIL.search(text)
    return Offer(
        fact_id,
        title,
        discount,
        code.group(1) if code else None,
        until.group(1) if until else None,
        "free shipping" in text.lower(),
    )


def _facts(info: PromptInfo, user_text: str) -> None:
    section = ""
    for line in user_text.splitlines():
        if line.startswith("Facts (id: text)"):
            section = "facts"
            continue
        if line.startswith("Customer-written notes"):
            section = "notes"
            continue
        if not line.startswith("- "):
            if line.strip():
                section = ""  # any other text ends the block
            continue
        m = _FACT.match(line) if section else None
        if m is None:
            continue
        fid, text = m.group(1), m.group(2)
        if section == "notes":
            info.untrusted_ids.add(fid)
            continue
        info.fact_ids.append(fid)
        kind = fid.split(":", 1)[0]
        if kind == "product":
            info.products.append(_product(fid, text))
        elif kind == "purchase":
            b = _BOUGHT.match(text)
            if b:
                info.products.append(Product(fid, b.group(1).strip(), b.group(2), bought=True))
        elif kind == "offer":
            info.offers.append(_offer(fid, text))
        elif kind == "knowledge":
            sentence = text.split(": ", 1)[1] if ": " in text else text
            info.knowledge.append((fid, sentence.strip()))


def _limits(info: PromptInfo, properties: dict[str, Any], user_text: str) -> None:
    stated: dict[str, tuple[int, int | None]] = {}
    for line in user_text.splitlines():
        if m := _LIMIT.match(line):
            stated[m.group(1)] = (0, int(m.group(2)))
        elif m := _RANGE.match(line):
            stated[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    if m := _SEGMENTS.search(user_text):
        info.sms_chars = int(m.group(2))
    if m := _FREE_FORM.search(user_text):
        stated.setdefault("text", (0, int(m.group(1))))
    if m := _OPT_OUT.search(user_text):
        info.opt_out = m.group(1)
    if m := _TEMPLATE.search(user_text):
        info.template_name, info.template_var_max = m.group(1), int(m.group(2))
    for name, spec in properties.items():
        if name == "channel" or "string" not in str(spec.get("type", spec.get("anyOf", ""))):
            continue
        low, high = stated.get(name, (0, None))
        if high is None:
            high = spec.get("maxLength")
        description = spec.get("description") or ""
        if high is None and (m := _COLUMNS.search(description)):
            high = int(m.group(1)) // (2 if info.language == "zh" else 1)
        info.fields.append(Field(name, high, low, width="columns" in description))


_SCHEMA_BLOCK = re.compile(r"```json\s*(\{.*?\})\s*```", re.S)


def _tool_in_prompt(system: str) -> dict[str, Any] | None:
    """A function tool given as a JSON schema in a ```json block of the system message (a client asking a model
    without tool support to answer in JSON), as a model reads it."""
    for m in _SCHEMA_BLOCK.finditer(system):
        try:
            value = json.loads(m.group(1))
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("function"), dict):
            return value
    return None


def parse_request(body: dict[str, Any]) -> PromptInfo:
    """What the request asks for. Tolerant: a field it cannot read keeps its default."""
    messages = body.get("messages") or []
    messages = [m for m in messages if isinstance(m, dict)]
    texts = [c if isinstance(c := m.get("content"), str) else "" for m in messages]
    system = next((t for m, t in zip(messages, texts, strict=False) if m.get("role") == "system"), "")
    user = next((t for m, t in zip(messages, texts, strict=False) if m.get("role") == "user"), "")
    tools = body.get("tools") or []
    in_prompt = _tool_in_prompt(system) if not tools else None
    if in_prompt is not None:
        tools = [in_prompt]
    tool, n, properties = _content_schema(tools[0]) if tools and isinstance(tools[0], dict) else (None, 1, {})
    channel_spec = properties.get("channel") or {}
    channel = channel_spec.get("const") or channel_spec.get("default")
    info = PromptInfo(tool=tool, n=max(1, min(n, 10)), channel=channel, fields=[], text="\n".join(texts))
    info.schema_in_prompt = in_prompt is not None
    if tool:
        info.text = f"{tool}\n{info.text}"
    if m := _BRAND.search(system):
        info.brand = m.group(1)
    if m := _LANGUAGE.search(system):
        info.locale = m.group(2)
        info.language = "zh" if info.locale.lower().startswith("zh") else "en"
    if m := _EXCLAIM.search(system):
        info.max_exclamations = int(m.group(1))
    if m := _BANNED.search(system):
        info.banned = [p.strip() for p in m.group(1).split(";") if p.strip()]
    if m := _GOAL.search(user):
        info.goal = m.group(1).strip().lower().replace(" ", "_")
    fence = _FENCE.search(system)
    if fence:
        token = fence.group(1)
        if m := re.search(rf"Recipient's first name \(data\): <data-{token}>(.+?)</data-{token}>", user):
            info.name = m.group(1).strip()
    info.personalization = "Personalization is not allowed" not in user
    if not info.personalization:
        info.name = None
    _facts(info, user)
    _limits(info, properties, user)
    if not tools:
        info.fields = [Field("text", None)]  # a plain chat answer
    return info
