"""What every post-generation check receives, and the ``Check`` protocol the pipeline runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief
from copyloom.guardrails.facts_index import FactsIndex, build_facts_index
from copyloom.guardrails.identifiers import IdentifierIndex
from copyloom.guardrails.types import CheckResult


class ChannelLimits(BaseModel):
    """Platform and soft limits per channel (DOMAIN.md defaults; a deployment may override them)."""

    model_config = ConfigDict(frozen=True)

    push_title_max: int = Field(default=50, ge=1)
    push_body_max: int = Field(default=160, ge=1)
    push_payload_max_bytes: int = Field(default=4096, ge=256)
    email_subject_max: int = Field(default=50, ge=1)
    email_subject_mobile: int = Field(default=35, ge=1)
    email_preheader_min: int = Field(default=30, ge=0)
    email_preheader_max: int = Field(default=100, ge=1)
    email_cta_max: int = Field(default=25, ge=1)
    whatsapp_free_form_max: int = Field(default=4096, ge=1)
    whatsapp_header_max: int = Field(default=60, ge=1)
    whatsapp_body_max: int = Field(default=1024, ge=1)
    whatsapp_footer_max: int = Field(default=60, ge=1)
    whatsapp_buttons_max: int = Field(default=10, ge=0)
    whatsapp_button_text_max: int = Field(default=25, ge=1)
    slot_title_max: int = Field(default=40, ge=1)
    slot_body_max: int = Field(default=140, ge=1)
    slot_cta_max: int = Field(default=20, ge=1)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything a check may consult besides the draft itself.

    ``other_customers`` are identifiers (full names, emails, phone numbers) of customers other than the
    recipient, for the leakage check; large workspaces pass ``customer_index`` instead, which finds the few
    identifiers a text may contain without scanning every customer. ``catalogue`` holds every product name of the workspace, so that a
    product the bundle did not contain is caught. ``brand_domains`` are hosts links may point at besides
    the exact URLs in the bundle. ``facts`` is the bundle's index (its prices, codes, dates, names…), built here
    once and read by every check of every variant.
    """

    bundle: FactsBundle
    channel: str
    send_at: datetime
    brief: Brief | None = None
    other_customers: tuple[str, ...] = ()
    # The workspace's index of every customer's identifiers; the recipient's own (``recipient_pk``) are skipped.
    customer_index: IdentifierIndex | None = None
    recipient_pk: int | None = None
    catalogue: tuple[str, ...] = ()
    brand_domains: tuple[str, ...] = ()
    whatsapp_template_only: bool = False
    limits: ChannelLimits = field(default_factory=ChannelLimits)
    facts: FactsIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", build_facts_index(self.bundle))


class Check(Protocol):
    """A pure function over one variant: never raises on bad copy, returns a verdict with evidence."""

    def __call__(self, variant: Variant, ctx: CheckContext) -> CheckResult: ...
