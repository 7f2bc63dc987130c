"""Rows to response models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from copyloom.content.drafts.schemas import DraftOut, GeneratorOut
from copyloom.contracts.enums import Channel
from copyloom.models import Draft


def draft_out(draft: Draft | Row[Any], customer_external_id: str | None) -> DraftOut:
    """A draft as the API shows it, from the ORM object or a row of its columns (the decision hot path)."""
    gen = draft.generator
    return DraftOut(
        id=draft.id,
        customer_id=customer_external_id,
        campaign_id=draft.campaign_id,
        parent_id=draft.parent_id,
        channel=Channel(draft.channel),
        locale=draft.locale,
        variant_index=draft.variant_index,
        angle=draft.angle,
        is_control=draft.is_control,
        content=draft.content,
        status=draft.status,
        verdict=draft.verdict,
        guardrail_report=draft.guardrail_report,
        cited_fact_ids=draft.cited_fact_ids,
        generator=GeneratorOut(
            kind=gen.get("kind", "offline"),
            model=gen.get("model"),
            prompt_name=gen.get("prompt_name"),
            prompt_version=gen.get("prompt_version"),
            prompt_sha256=gen.get("prompt_sha256"),
            notes=gen.get("notes", []),
        ),
        usage=draft.usage,
        latency_ms=draft.latency_ms,
        review_reason=draft.review_reason,
        send_at=draft.send_at,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )
