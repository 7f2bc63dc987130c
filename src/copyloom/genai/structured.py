"""Per-channel structured-output models for one call returning N variants, and their validation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from copyloom.contracts.enums import Channel
from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import CONTENT_MODELS, Variant
from copyloom.genai.limits import content_problems

__all__ = ["check_variants", "variants_model"]


@lru_cache(maxsize=64)
def variants_model(channel: Channel, n: int) -> type[BaseModel]:
    """``{variants: [ {angle, fact_ids, content: <channel content>} × n ]}``, named for the tool call."""
    content_model = CONTENT_MODELS[channel]
    title = channel.value.title().replace("_", "")
    variant_model = create_model(
        f"{title}Variant",
        __config__=ConfigDict(extra="forbid"),
        __doc__=Variant.__doc__,
        angle=(str, Field(description=Variant.model_fields["angle"].description)),
        fact_ids=(list[str], Field(description=Variant.model_fields["fact_ids"].description)),
        content=(content_model, Field(description=f"The {channel.value} message itself.")),
    )
    wrapper: type[BaseModel] = create_model(
        f"Submit{title}Variants",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"Submit {n} {channel.value} variant(s), each with a different angle.",
        variants=(list[variant_model], Field(min_length=n, max_length=n)),
    )
    return wrapper


def to_variants(parsed: BaseModel) -> list[Variant]:
    out: list[Variant] = []
    for item in parsed.variants:  # type: ignore[attr-defined]
        out.append(Variant(angle=item.angle, fact_ids=list(item.fact_ids), content=item.content))
    return out


def check_variants(
    variants: list[Variant],
    bundle: FactsBundle,
    *,
    locale: str,
    whatsapp_template_only: bool = False,
) -> list[str]:
    """Problems that make a model's answer invalid: unknown fact ids, limit overruns, duplicate angles."""
    problems: list[str] = []
    known = bundle.ids()
    angles: set[str] = set()
    for i, v in enumerate(variants, start=1):
        unknown = [fid for fid in v.fact_ids if fid not in known]
        if unknown:
            problems.append(f"variant {i}: fact_ids not in the facts given: {', '.join(unknown)}")
        for p in content_problems(
            v.content,
            brand_name=bundle.brand.name,
            locale=locale,
            max_sms_segments=bundle.brand.policies.sms_max_segments,
        ):
            problems.append(f"variant {i}: {p}")
        if whatsapp_template_only and v.content.channel == "whatsapp" and v.content.text:
            problems.append(f"variant {i}: outside the service window only a template may be sent; leave text empty")
        key = v.angle.strip().lower()
        if key in angles:
            problems.append(f"variant {i}: angle {v.angle!r} repeats another variant's; use a different angle")
        angles.add(key)
    return problems


def describe_parse_error(error: Any) -> str:
    """A compact message for the re-ask (pydantic errors listed one per line)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            lines = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors()]
            return "; ".join(lines[:20])
        except (TypeError, KeyError):
            pass
    return str(error)[:1000]
