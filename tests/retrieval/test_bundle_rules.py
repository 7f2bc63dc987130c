"""Bundle rules with the fake embedder: consent, offers, sensitive attributes, untrusted notes, stable ids."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import FactKind, FactsBundle
from copyloom.domain.brief import Brief
from copyloom.models import Consent, Customer
from copyloom.retrieval.bundle import build_bundle, build_bundles
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed


def _world(db: Session, consent: str | None) -> None:
    seed.workspace(db, "w")
    c = seed.customer(
        db,
        "w",
        "c1",
        name="Ann Lee",
        personalization=consent,
        attributes={"loyalty_tier": "gold", "health_condition": "asthma", "kids_ages": [4, 7]},
    )
    seed.product(db, "w", "TENT", "Trail tent")
    seed.order(db, "w", c, "o-ok", [("TENT", 1, "199.00")], days_ago=20)
    seed.order(db, "w", c, "o-cancel", [("TENT", 2, "199.00")], days_ago=5, status="cancelled")
    seed.offer(db, "w", "ALL10")
    seed.offer(db, "w", "GOLD15", eligibility={"loyalty_tier": ["gold"]})
    seed.offer(db, "w", "SILVER5", eligibility={"loyalty_tier": ["silver"]})
    seed.offer(db, "w", "OLD", days_left=-1)
    seed.note(db, "w", c, "n1", "Loves\u200b hiking\U000e0041 " + "x" * 2000)
    seed.event(db, "w", c, "e1", "Product Viewed", {"sku": "TENT", "religion": "x"})
    seed.contact(db, "w", c, "Spring sale announcement")


def _build(db: Session, store: VectorStore, emb: HashEmbedder, brief: Brief, budget: int = 1500) -> FactsBundle:
    index_workspace(db, store, emb, "w")
    return build_bundle(
        db,
        store,
        emb,
        workspace_id="w",
        customer_external_id="c1",
        brief=brief,
        channel="email",
        token_budget=budget,
        now=seed.NOW,
    )


def test_consented_bundle_has_stable_ids_and_values(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.REPLENISH, instructions="tent"))
    ids = b.ids()
    assert {
        "profile:first_name",
        "profile:loyalty_tier",
        "purchase:o-ok:TENT",
        "offer:ALL10",
        "offer:GOLD15",
        "note:n1",
        "brand:identity",
    } <= ids
    assert not any(i.startswith("purchase:o-cancel") for i in ids)
    assert "offer:SILVER5" not in ids and "offer:OLD" not in ids
    purchase = b.fact("purchase:o-ok:TENT")
    assert purchase is not None and str(purchase.values.price) == "199.00" and purchase.values.currency == "USD"
    offer = b.fact("offer:GOLD15")
    assert offer is not None and offer.values.code == "GOLD15" and offer.values.valid_to is not None


def test_sensitive_attributes_and_properties_never_enter(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.CROSS_SELL))
    text = " ".join(f.text for f in b.facts).lower()
    assert "asthma" not in text and "health" not in text and "kids" not in text and "religion" not in text


def test_notes_are_untrusted_cleaned_and_capped(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.CROSS_SELL, instructions="hiking"))
    note = b.fact("note:n1")
    assert note is not None and note.untrusted
    assert "\u200b" not in note.text and "\U000e0041" not in note.text
    assert "Loves hiking" in note.text and len(note.text) < 400


def test_withdrawn_consent_keeps_only_non_personal_facts(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "withdrawn")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.CROSS_SELL, offer_ids=["GOLD15"]))
    assert not b.personalization_allowed
    assert {f.kind for f in b.facts} <= {FactKind.PRODUCT, FactKind.OFFER, FactKind.KNOWLEDGE}
    ids = b.ids()
    assert "offer:ALL10" in ids
    # a restricted offer only when the brief names it (eligibility is a business rule, still checked)
    assert "offer:GOLD15" in ids and b.fact("offer:GOLD15").required  # type: ignore[union-attr]


def test_no_consent_record_at_all_means_no_personalization(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, None)
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.WIN_BACK))
    assert not b.personalization_allowed and b.customer.first_name is None


def test_named_offer_that_cannot_be_used_is_recorded(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.CROSS_SELL, offer_ids=["OLD", "SILVER5", "NOPE"]))
    reasons = {d.id: d.reason for d in b.dropped}
    assert reasons["offer:OLD"] == "not_live"
    assert reasons["offer:SILVER5"] == "not_eligible"
    assert reasons["offer:NOPE"] == "unknown_offer"


def test_tight_budget_keeps_required_facts_and_records_drops(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")
    b = _build(db, vector_store, fake_embedder, Brief(goal=Goal.CROSS_SELL, offer_ids=["ALL10"]), budget=40)
    ids = b.ids()
    assert {"profile:first_name", "offer:ALL10"} <= ids
    assert any(d.reason.startswith("token_budget") for d in b.dropped)
    assert b.token_budget == 40


def test_bundles_for_several_channels_follow_each_channels_consent(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _world(db, "granted")  # personalization granted on email
    customer = db.scalars(select(Customer).where(Customer.external_id == "c1")).one()
    db.add(
        Consent(
            workspace_id="w",
            customer_id=customer.id,
            purpose="personalization",
            channel="sms",
            status="withdrawn",
            recorded_at=seed.NOW - timedelta(days=1),
        )
    )
    db.flush()
    index_workspace(db, vector_store, fake_embedder, "w")
    brief = Brief(goal=Goal.REPLENISH, instructions="tent")
    many = build_bundles(
        db,
        vector_store,
        fake_embedder,
        workspace_id="w",
        customer_external_id="c1",
        brief=brief,
        channels=["email", "sms"],
        now=seed.NOW,
    )
    assert {ch: (b.channel, b.personalization_allowed) for ch, b in many.items()} == {
        "email": ("email", True),
        "sms": ("sms", False),
    }
    for channel, bundle in many.items():  # the same facts as one bundle built for that channel alone
        alone = build_bundle(
            db,
            vector_store,
            fake_embedder,
            workspace_id="w",
            customer_external_id="c1",
            brief=brief,
            channel=channel,
            now=seed.NOW,
        )
        assert bundle == alone
