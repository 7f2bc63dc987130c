"""Offers reach only the customers they cover: tier from the attributes, market from the profile's country."""

from __future__ import annotations

from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.domain.brief import Brief
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed


def _offer_ids(db: Session, store: VectorStore, emb: HashEmbedder, customer: str) -> set[str]:
    bundle = build_bundle(
        db,
        store,
        emb,
        workspace_id="w",
        customer_external_id=customer,
        brief=Brief(goal=Goal.OFFER_ANNOUNCEMENT),
        channel="email",
        now=seed.NOW,
    )
    return {f.id for f in bundle.facts if f.kind.value == "offer"}


def test_market_and_tier_offers_go_only_to_customers_they_cover(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    seed.workspace(db, "w")
    uk = seed.customer(db, "w", "uk", attributes={"loyalty_tier": "gold"})
    uk.country = "GB"
    us = seed.customer(db, "w", "us", attributes={"loyalty_tier": "silver"})
    us.country = "US"
    seed.offer(db, "w", "UKONLY", eligibility={"country": ["GB"]})
    seed.offer(db, "w", "MARKETUS", eligibility={"market": ["US"]})
    seed.offer(db, "w", "GOLD", eligibility={"loyalty_tier": ["gold"]})
    seed.offer(db, "w", "ALL")
    db.flush()
    assert _offer_ids(db, vector_store, fake_embedder, "uk") == {"offer:UKONLY", "offer:GOLD", "offer:ALL"}
    assert _offer_ids(db, vector_store, fake_embedder, "us") == {"offer:MARKETUS", "offer:ALL"}
