"""Who the draft greets: a name in the salutation slot ("Hi Emily,", "Dear Sophie", "王丽，您好", "Carla, winter is
here") must be the recipient's own first name. A draft written for another customer, or a name the model made up,
is blocked as ``wrong_customer_name``.

English: a name after a greeting word, or at the head of a field when it is another customer's first name.
Chinese: a name before 您好 / after 亲爱的, or a two- or three-character word at the head of a field that begins
with a common surname and is no dictionary word (jieba's dictionary knows 黄金周 and 周末, not 李明)."""

from __future__ import annotations

import re
from functools import lru_cache

from copyloom.contracts.words import word_frequency
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.types import Evidence

_GREETING = re.compile(
    r"\b(?i:hi|hello|hey|hiya|howdy|dear|greetings|good (?:morning|afternoon|evening)|welcome back|welcome)"
    r",?\s+(?P<name>[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)(?=\s*(?:[,!.:;—–-]|$))",
)
_HEAD = re.compile(r"^(?:[A-Z][\w&' -]{0,30}:\s+)?(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?),\s")
_NOT_A_NAME = frozenset(
    {"there", "all", "everyone", "everybody", "friend", "friends", "folks", "team", "again", "you", "back", "neighbour"}
    | {"neighbor", "valued", "customer", "customers", "member", "members", "explorer", "explorers", "reader"}
    | {"readers", "shopper", "shoppers", "guest", "guests", "traveller", "traveler", "lovers", "fans", "new", "home"}
)
_ZH_HONORIFIC = ("女士", "先生", "小姐", "老师", "同学", "会员", "顾客", "客户", "朋友")
_ZH_GREETED = re.compile(
    r"(?:亲爱的|尊敬的)(?P<a>[\u4e00-\u9fff]{2,4}?)(?=[，,：:！!、 ]|您好|你好)"
    r"|(?:^|[】\]\s，。！])(?P<b>[\u4e00-\u9fff]{2,3}?)[，,]?\s*(?:您好|你好)"
)
_ZH_HEAD = re.compile(r"^(?:【[^】]{1,20}】)?\s*(?P<name>[\u4e00-\u9fff]{2,3})[，,]")
_ZH_NOT_A_NAME = frozenset({"大家", "各位", "朋友", "会员", "顾客", "客户", "亲", "您", "你"})
# Common Chinese surnames (single character), for a name at the head of a field without a greeting.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)


def _own(ctx: CheckContext) -> str:
    return (ctx.bundle.customer.first_name or "").strip()


def _other_first_names(ctx: CheckContext, text: str) -> set[str]:
    idents = list(ctx.other_customers)
    if ctx.customer_index is not None:
        idents += ctx.customer_index.candidates(text, ctx.recipient_pk)
    return {i.split()[0].lower() for i in idents if i.strip() and "@" not in i and not i.strip()[0].isdigit()}


def _is_own_en(name: str, own: str) -> bool:
    first = own.split()[0].lower() if own else ""
    return bool(first) and name.lower() == first


def _is_own_zh(name: str, own: str) -> bool:
    """李娜 is greeted as 李娜, 娜, 李女士 or 李娜女士."""
    if not own:
        return False
    if name == own or own.startswith(name) or name.startswith(own):
        return True
    if own.endswith(name) and len(name) >= 1:
        return True
    return name[0] == own[0] and name[1:] in _ZH_HONORIFIC


@lru_cache(maxsize=4096)
def _looks_like_zh_name(word: str) -> bool:
    return word[0] in _SURNAMES and not word_frequency(word)


def _ev(field: str, m: re.Match[str], group: str, own: str) -> Evidence:
    return Evidence(
        field=field,
        start=m.start(group),
        end=m.end(group),
        text=m.group(group),
        reason_code="wrong_customer_name",
        expected=f"the customer's first name {own!r}" if own else "no name (the facts name none)",
    )


def wrong_names(ctx: CheckContext, field: str, text: str) -> list[Evidence]:
    """Names in the salutation slot that are not the recipient's."""
    own = _own(ctx)
    brand_words = {w.lower() for w in re.findall(r"\w+", f"{ctx.bundle.brand.name} {ctx.bundle.brand.sender_identity}")}
    out: list[Evidence] = []
    for m in _GREETING.finditer(text):
        name = m.group("name")
        if name.lower() in _NOT_A_NAME or name.lower() in brand_words or _is_own_en(name, own):
            continue
        out.append(_ev(field, m, "name", own))
    head = _HEAD.match(text)
    if head and not any(e.start == head.start("name") for e in out):
        name = head.group("name")
        if not _is_own_en(name, own) and name.lower() in _other_first_names(ctx, text):
            out.append(_ev(field, head, "name", own))
    for m in _ZH_GREETED.finditer(text):
        group = "a" if m.group("a") else "b"
        name = m.group(group)
        if name in _ZH_NOT_A_NAME or name.endswith(_ZH_HONORIFIC[5:]) or _is_own_zh(name, own):
            continue
        if group == "b" and not _looks_like_zh_name(name):
            continue  # "春天您好": a name before 您好 is a person's
        out.append(_ev(field, m, group, own))
    zh_head = _ZH_HEAD.match(text)
    if zh_head and not any(e.start == zh_head.start("name") for e in out):
        name = zh_head.group("name")
        if not _is_own_zh(name, own) and _looks_like_zh_name(name):
            out.append(_ev(field, zh_head, "name", own))
    return out
