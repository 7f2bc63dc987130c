"""The campaign control: non-personalized copy a brand approves once and serves when nothing better may go.

It is checked like any draft, against a bundle with no customer in it: the brand, offers open to everyone, and
the catalogue products the copy names (so a price or code it quotes must match the brand's own data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.facts import CustomerSnapshot, Fact, FactsBundle
from copyloom.domain.brief import Brief
from copyloom.models import Offer, Product
from copyloom.retrieval.bundle import brand_fact
from copyloom.retrieval.sections import offer_fact, offer_is_live, product_fact

CONTROL_CUSTOMER = "__control__"


def control_bundle(
    session: Session,
    workspace_id: str,
    brand: BrandKitSpec,
    brief: Brief,
    channel: str,
    locale: str,
    text: str,
    now: datetime,
) -> FactsBundle:
    facts: list[Fact] = [brand_fact(brand, workspace_id)]
    named = set(brief.offer_ids)
    for offer in session.scalars(select(Offer).where(Offer.workspace_id == workspace_id)):
        if offer_is_live(offer, now) and (not offer.eligibility or offer.external_id in named):
            facts.append(offer_fact(offer, 1.0, required=offer.external_id in named))
    lowered = text.casefold()
    products = session.scalars(select(Product).where(Product.workspace_id == workspace_id, Product.active.is_(True)))
    for product in products:
        if product.sku in brief.skus or product.name.casefold() in lowered:
            facts.append(product_fact(product, 1.0, required=product.sku in brief.skus))
    return FactsBundle(
        workspace_id=workspace_id,
        customer=CustomerSnapshot(external_id=CONTROL_CUSTOMER, locale=locale),
        goal=brief.goal.value,
        channel=channel,
        locale=locale,
        personalization_allowed=False,
        brand=brand,
        facts=facts,
        built_at=now,
        notes=["control: no customer data"],
    )
