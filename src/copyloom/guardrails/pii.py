"""PII and leakage: contact details, card/account numbers, other customers' identifiers, sensitive inferences.

Regex recognizers in the manner of Presidio's (email, phone via libphonenumber, Luhn-checked cards, mod-97
IBANs, account numbers), offline and in microseconds.
"""

from __future__ import annotations

import re

import phonenumbers

from copyloom.contracts.text import copy_fields, phrase_pattern
from copyloom.contracts.variants import Variant
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.lexicon import sensitive_patterns, sensitive_terms
from copyloom.guardrails.results import passed, result
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "pii"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<![0-9A-Za-z.])\+?\(?\d[\d\s().-]{5,18}\d(?![0-9A-Za-z])")
CARD_RE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
ACCOUNT_RE = re.compile(
    r"(?:account|acct|a/c|routing|sort code|账号|账户|卡号)\s*(?:number|no\.?|#)?\s*[:：]?\s*(\d[\d -]{5,}\d)",
    re.IGNORECASE,
)
SSN_RE = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
# Dates are not phone numbers: 2025-12-31, 31.12.2025, 12/31/2025.
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{4}|\d{4}[./]\d{1,2}[./]\d{1,2}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(raw: str) -> bool:
    s = raw.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _is_phone(candidate: str, regions: tuple[str, ...]) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or _ISO_DATE.fullmatch(candidate.strip()):
        return False
    for region in regions:
        try:
            num = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return True
    return False


def _contact_details(ctx: CheckContext, field: str, text: str, allowed: str) -> list[Evidence]:
    out: list[Evidence] = []
    hosts = ctx.facts.hosts | {d.lower() for d in ctx.brand_domains}
    for m in EMAIL_RE.finditer(text):
        domain = m.group(0).rsplit("@", 1)[1].lower()
        if not any(domain == h or domain.endswith("." + h) for h in hosts):
            out.append(Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code="pii_email"))
    for m in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and digits not in allowed:
            out.append(Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code="pii_card"))
    for m in IBAN_RE.finditer(text):
        if iban_ok(m.group(0)):
            out.append(Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code="pii_iban"))
    for pattern, code in ((ACCOUNT_RE, "pii_account"), (SSN_RE, "pii_national_id")):
        out += [
            Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code=code)
            for m in pattern.finditer(text)
        ]
    if sum(c.isdigit() for c in text) >= 7:
        regions = tuple(dict.fromkeys(r for r in (ctx.bundle.customer.country, "US", "CN", "GB") if r))
        for m in PHONE_RE.finditer(text):
            if any(e.start is not None and e.start <= m.start() < (e.end or 0) for e in out):
                continue
            if re.sub(r"\D", "", m.group(0)) not in allowed and _is_phone(m.group(0), regions):
                out.append(
                    Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code="pii_phone")
                )
    return out


def _others(ctx: CheckContext, field: str, text: str) -> list[Evidence]:
    own = (ctx.bundle.customer.first_name or "").strip().lower()
    digits = re.sub(r"\D", "", text)
    out: list[Evidence] = []
    idents = list(ctx.other_customers)
    if ctx.customer_index is not None:
        idents += ctx.customer_index.candidates(text, ctx.recipient_pk)
    # The index's candidates are a superset (every "Sam …" for a draft that says "Sam"): an ASCII name or email
    # absent from an ASCII text, case aside, cannot match, so most are dropped before a pattern is compiled. (Not
    # in other text: ignoring case, the pattern's "k" also matches the Kelvin sign, its "s" the long s.)
    lowered = text.lower() if text.isascii() else None
    for ident in idents:
        ident = ident.strip()
        low = ident.lower()
        if not ident or low == own:
            continue
        if lowered is not None and low not in lowered and ident.isascii() and low != ident.upper():
            continue  # a name or an email (it has letters, so it is no phone number) that the text does not hold
        ident_digits = re.sub(r"\D", "", ident)
        if "@" not in ident and len(ident_digits) >= 7 and sum(c.isalpha() for c in ident) == 0:
            if ident_digits in digits:
                out.append(Evidence(field=field, text=ident, reason_code="other_customer_data"))
            continue
        if lowered is not None and ident.isascii() and low not in lowered:
            continue
        # Word-bounded for Latin names, plain substring for CJK ones.
        out += [
            Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code="other_customer_data")
            for m in phrase_pattern(ident).finditer(text)
        ]
    return out


def check_pii(variant: Variant, ctx: CheckContext) -> CheckResult:
    """Block contact details, financial identifiers, other customers' data and special-category inferences."""
    # Digits quoted by the bundle (SKUs, order numbers) are not someone's phone or card.
    allowed = " ".join(re.sub(r"\D", "", f.text) + " " + (f.values.sku or "") for f in ctx.bundle.facts)
    evidence: list[Evidence] = []
    for field, text in copy_fields(variant).items():
        evidence += _contact_details(ctx, field, text, allowed)
        evidence += _others(ctx, field, text)
        evidence += [
            Evidence(
                field=field, start=h.start, end=h.end, text=h.text, reason_code="sensitive_inference", expected=h.label
            )
            for h in sensitive_terms().finditer(text)
        ]
        evidence += [
            Evidence(
                field=field,
                start=m.start(),
                end=m.end(),
                text=m.group(0),
                reason_code="sensitive_inference",
                expected=category,
            )
            for category, pattern in sensitive_patterns()
            for m in pattern.finditer(text)
            if not any(e.start is not None and e.start <= m.start() < (e.end or 0) for e in evidence)
        ]
    if not evidence:
        return passed(NAME, "No personal data or sensitive inference.")
    listing = "; ".join(f"{e.reason_code}: '{e.text}'" for e in evidence[:5])
    return result(
        NAME, Verdict.BLOCK, evidence[0].reason_code or "pii", f"Personal data in the draft: {listing}.", evidence
    )
