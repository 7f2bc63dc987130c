"""The facts bundle: everything a draft may say about one customer, each fact with a stable id.

Generators cite fact ids; guardrails check every price, code, date, product name and URL in a draft against
``FactValues`` of the facts in the bundle the draft was written from.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.brand import BrandKitSpec


class FactKind(StrEnum):
    PROFILE = "profile"
    PURCHASE = "purchase"
    EVENT = "event"
    PRODUCT = "product"
    OFFER = "offer"
    KNOWLEDGE = "knowledge"
    CONTACT = "contact"
    NOTE = "note"
    PAIRING = "pairing"  # why one product goes with another the customer bought (see retrieval.pairing)


class FactValues(BaseModel):
    """Structured values a draft may quote verbatim. Every field is optional; set what the fact carries."""

    model_config = ConfigDict(frozen=True)

    price: Decimal | None = None
    currency: str | None = None
    discount_percent: Decimal | None = None
    discount_amount: Decimal | None = None
    code: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    date: datetime | None = None
    sku: str | None = None
    product_name: str | None = None
    url: str | None = None
    quantity: int | None = None
    # What a product is and what an offer covers, so a check can tell whether an offer applies to a product
    # (empty: the offer covers everything) and to this customer (``eligibility``, e.g. {"country": ["US"]}).
    category: str | None = None
    discount_type: str | None = None
    eligible_skus: tuple[str, ...] = ()
    eligible_categories: tuple[str, ...] = ()
    eligibility: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    related_sku: str | None = None  # a pairing: the product the customer bought (``sku`` is the one paired with it)


class FactSource(BaseModel):
    """Where a fact came from, so a brand can answer "what did you use about me?"."""

    model_config = ConfigDict(frozen=True)

    table: str
    row_id: str
    workspace_id: str
    customer_id: str | None = None  # external id; None for facts that are not about one customer


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id, e.g. 'offer:SPRING20', 'product:85123A', 'purchase:536365:1'.")
    kind: FactKind
    text: str = Field(description="One line a model can read.")
    values: FactValues = Field(default_factory=FactValues)
    source: FactSource
    score: float = 0.0
    required: bool = False
    untrusted: bool = False  # customer-written text: enters prompts only inside data fences


class DroppedFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: FactKind
    reason: str


class CustomerSnapshot(BaseModel):
    """What prompts and checks may know about the recipient (only what consent allows)."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    first_name: str | None = None
    locale: str = "en"
    time_zone: str = "UTC"
    country: str | None = None


class FactsBundle(BaseModel):
    model_config = ConfigDict(frozen=True)

    workspace_id: str
    customer: CustomerSnapshot
    goal: str
    channel: str
    locale: str
    personalization_allowed: bool
    brand: BrandKitSpec
    facts: list[Fact] = Field(default_factory=list)
    dropped: list[DroppedFact] = Field(default_factory=list)
    token_count: int = 0
    token_budget: int = 0
    encoding: str = "cl100k_base"
    notes: list[str] = Field(default_factory=list, description="Operational notes, e.g. tokenizer fallbacks.")
    built_at: datetime | None = None

    def fact(self, fact_id: str) -> Fact | None:
        for f in self.facts:
            if f.id == fact_id:
                return f
        return None

    def ids(self) -> set[str]:
        return {f.id for f in self.facts}
