"""Validated field types shared by the input schemas: ids, capped text, countries, locales, time zones, phones."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from copyloom.domain.imports import as_utc, money

# A brand's own id: anything printable up to 128 characters except '/', which would break the URL path.
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^\s/][^/\x00-\x1f\x7f]{0,127}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^/\s]+$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://\S+$")]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2), AfterValidator(money)]
# Every time the API accepts: naive means UTC; outside years 1-9999 once in UTC is a 422 on the field (as_utc).
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
AwareUtcDateTime = Annotated[AwareDatetime, AfterValidator(as_utc)]

_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{4})?(-([A-Z]{2}|\d{3}))?$")


def _check_country(value: str) -> str:
    code = value.strip().upper()
    # phonenumbers knows every ISO 3166-1 alpha-2 region that has a telephone numbering plan (245 of 249).
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("expected an ISO 3166-1 alpha-2 country code such as 'GB' or 'CN'")
    return code


def _check_locale(value: str) -> str:
    value = value.strip().replace("_", "-")
    if not _LOCALE.match(value):
        raise ValueError("expected a BCP 47 language tag such as 'en', 'en-GB' or 'zh-CN'")
    return value


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_time_zone(value: str) -> str:
    value = value.strip()
    if value not in _time_zones():
        raise ValueError("expected an IANA time zone such as 'Europe/London' or 'Asia/Shanghai'")
    return value


Country = Annotated[str, AfterValidator(_check_country)]
Locale = Annotated[str, StringConstraints(max_length=16), AfterValidator(_check_locale)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_check_time_zone)]


def normalize_phone(raw: str, country: str | None) -> str:
    """E.164 form of ``raw``, read in ``country``'s numbering plan when it has no +prefix; ValueError if invalid."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number (international numbers need a +country prefix or a country)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
