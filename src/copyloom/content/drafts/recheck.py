"""Re-checking a stored draft: its variant and the check context rebuilt from what the draft was written from.

Refinement and reviewer edits both judge new copy against the draft's own stored facts bundle and brief, never
against today's data, so that a check answers "is this grounded in what the writer was given?".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copyloom.content.engine import WorkspaceLookups
from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief
from copyloom.guardrails.context import CheckContext
from copyloom.models import Draft


def stored_variant(draft: Draft, content: dict[str, Any] | None = None) -> Variant:
    """The draft as a ``Variant`` (optionally with other ``content``); raises pydantic's ValidationError."""
    return Variant.model_validate(
        {"angle": draft.angle or "", "fact_ids": draft.cited_fact_ids, "content": content or draft.content}
    )


def stored_check_context(draft: Draft, lookups: WorkspaceLookups, now: datetime) -> CheckContext:
    """The context the draft's checks ran with: its bundle, brief, channel and send time."""
    return CheckContext(
        bundle=FactsBundle.model_validate(draft.bundle),
        channel=draft.channel,
        send_at=draft.send_at or now,
        brief=Brief.model_validate(draft.brief),
        customer_index=lookups.index,
        recipient_pk=draft.customer_id,
        catalogue=lookups.catalogue,
        brand_domains=lookups.domains,
        # The gate's template-only decision is not stored; a template draft must stay a template.
        whatsapp_template_only=draft.channel == "whatsapp" and bool(draft.content.get("template_name")),
    )
