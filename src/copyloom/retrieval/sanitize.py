"""What may enter a facts bundle from free text and customer attributes.

Two rules from DOMAIN.md:

* Customer-written text (notes, names, attribute values) is data, never instructions: invisible characters
  (Unicode categories Cf format, Co private use, Cn unassigned, including the tag block U+E0000-U+E007F used to
  smuggle hidden prompts) are removed and the length is capped. Fencing happens where prompts are rendered.
* Special-category and children's data never enters (GDPR Art. 9, PIPL Art. 28): any attribute or event property
  whose key mentions a term of ``SENSITIVE_KEY_TERMS`` is skipped, as are direct identifiers (email, phone,
  birth date, addresses) that copy never needs.
"""

from __future__ import annotations

import re
from typing import Any

from copyloom.contracts.untrusted import sanitize_untrusted

__all__ = ["SENSITIVE_CJK_TERMS", "SENSITIVE_KEY_TERMS", "clean_text", "is_sensitive_key", "safe_scalar"]

# Word prefixes of attribute keys that mark data copyloom must not use. Keys are split into words ("kidsAges",
# "date_of_birth" → kids, ages / date, of, birth) and a key is sensitive if any word starts with a term: "children"
# matches "child" while "season" does not match "son".
SENSITIVE_KEY_TERMS: tuple[str, ...] = (
    # special categories (GDPR Art. 9)
    "health",
    "medic",
    "diagnos",
    "illness",
    "disease",
    "condition",
    "allerg",
    "disab",
    "pregnan",
    "fertil",
    "mental",
    "therapy",
    "prescription",
    "religio",
    "faith",
    "belief",
    "church",
    "ethnic",
    "race",
    "racial",
    "sexual",
    "orientation",
    "gender",
    "transgender",
    "political",
    "union",
    "biometric",
    "genetic",
    "dna",
    "criminal",
    "conviction",
    # children's data (PIPL Art. 28: under 14) and age, which can reveal minors
    "child",
    "kid",
    "minor",
    "baby",
    "babies",
    "infant",
    "son",
    "daughter",
    "age",
    "birth",
    "dob",
    # financial accounts and location tracking (PIPL sensitive personal information)
    "bank",
    "iban",
    "card",
    "account",
    "credit",
    "income",
    "salary",
    "debt",
    "ssn",
    "passport",
    "national",
    "tax",
    "gps",
    "lat",
    "lng",
    "longitude",
    "geo",
    "location",
    "address",
    "street",
    "postcode",
    "zip",
    # direct identifiers that copy never needs
    "email",
    "phone",
    "mobile",
    "password",
    "token",
    "secret",
    "ip",
)
# Chinese keys are matched as substrings: 健康 health, 病 illness, 宗教/信仰 religion, 民族 ethnicity, 孩子/儿童/子女
# children, 怀孕 pregnancy, 银行 bank, 身份证 id card, 位置/地址 location/address, 年龄/生日 age/birthday, 性取向.
SENSITIVE_CJK_TERMS: tuple[str, ...] = (
    "健康",
    "病",
    "宗教",
    "信仰",
    "民族",
    "孩子",
    "儿童",
    "子女",
    "怀孕",
    "银行",
    "身份证",
    "位置",
    "地址",
    "年龄",
    "生日",
    "性取向",
    "政治",
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_MAX_SCALAR = 120


def is_sensitive_key(key: str) -> bool:
    if any(term in key for term in SENSITIVE_CJK_TERMS):
        return True
    words = [w.lower() for w in _WORDS.findall(key)]
    return any(w.startswith(term) for w in words for term in SENSITIVE_KEY_TERMS)


def clean_text(text: str, max_chars: int) -> str:
    """Drop invisible and unassigned characters, collapse whitespace, cap the length (with an ellipsis)."""
    out = re.sub(r"\s+", " ", sanitize_untrusted(text, len(text))).strip()
    if len(out) > max_chars:
        out = out[: max(max_chars - 1, 0)].rstrip() + "…"
    return out


def safe_scalar(value: Any) -> str | None:
    """A short printable form of an attribute value, or ``None`` for nested or empty values."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | str):
        text = clean_text(str(value), _MAX_SCALAR)
        return text or None
    return None
