"""The bundle on the demo brand with the real offline embedder: languages, consent, notes, products."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import FactKind, FactsBundle
from copyloom.db import write
from copyloom.domain.brief import Brief
from copyloom.models import Customer, utcnow
from copyloom.retrieval.bundle import build_bundle, build_bundles, prefetch
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore


@pytest.fixture
def indexed_demo(
    session_factory: sessionmaker[Session], demo_workspace: str, nano_store: VectorStore, nano_embedder: Embedder
) -> str:
    with write(session_factory) as s:
        index_workspace(s, nano_store, nano_embedder, demo_workspace)
    return demo_workspace


def _bundle(
    db: Session, store: VectorStore, embedder: Embedder, customer: str, brief: Brief, channel: str = "email"
) -> FactsBundle:
    return build_bundle(
        db,
        store,
        embedder,
        workspace_id="acme",
        customer_external_id=customer,
        brief=brief,
        channel=channel,
        now=utcnow(),
    )


def test_chinese_brief_retrieves_chinese_and_english_named_products(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    brief = Brief(goal=Goal.CROSS_SELL, instructions="推荐适合周末露营的帐篷")
    bundle = _bundle(db, nano_store, nano_embedder, "C2002", brief, channel="push")
    products = [f for f in bundle.facts if f.kind == FactKind.PRODUCT]
    names = [f.values.product_name or "" for f in products]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) and "帐篷" in n for n in names), names
    assert any(n.isascii() and "tent" in n.lower() for n in names), names


def test_english_brief_finds_tents(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    brief = Brief(goal=Goal.CROSS_SELL, instructions="a lightweight tent for backpacking trips")
    bundle = _bundle(db, nano_store, nano_embedder, "C1003", brief)
    top = [f for f in bundle.facts if f.kind == FactKind.PRODUCT]
    assert any(
        "tent" in (f.values.product_name or "").lower() or "帐篷" in (f.values.product_name or "") for f in top[:3]
    )


def test_withdrawn_personalization_gives_no_personal_facts(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    bundle = _bundle(db, nano_store, nano_embedder, "C1003", Brief(goal=Goal.WIN_BACK))
    assert not bundle.personalization_allowed
    kinds = {f.kind for f in bundle.facts}
    assert not kinds & {FactKind.PROFILE, FactKind.PURCHASE, FactKind.EVENT, FactKind.NOTE, FactKind.CONTACT}
    assert bundle.customer.first_name is None
    assert FactKind.PRODUCT in kinds and FactKind.OFFER in kinds
    assert all(not f.source.customer_id for f in bundle.facts)


def test_consented_customer_gets_name_purchases_and_fenced_notes(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    bundle = _bundle(db, nano_store, nano_embedder, "C1001", Brief(goal=Goal.CROSS_SELL, instructions="stoves"))
    assert bundle.personalization_allowed
    name = bundle.fact("profile:first_name")
    assert name is not None and name.required and "Emma" in name.text
    purchases = [f for f in bundle.facts if f.kind == FactKind.PURCHASE]
    assert purchases and all(f.values.price is not None and f.values.currency for f in purchases)
    note = bundle.fact("note:n-1")
    assert note is not None and note.untrusted
    # products the customer already owns are not recommended for cross-sell
    owned = {f.values.sku for f in purchases}
    assert not owned & {f.values.sku for f in bundle.facts if f.kind == FactKind.PRODUCT}


def test_cancelled_orders_never_become_purchases(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    bundle = _bundle(db, nano_store, nano_embedder, "C1002", Brief(goal=Goal.WIN_BACK))
    ids = bundle.ids()
    assert "purchase:NW-10004:NW-TENT-4P" in ids
    assert not any(i.startswith("purchase:NW-10005") for i in ids)
    # "kids were disappointed": a note about children never enters
    assert "note:n-2" not in ids
    assert any(d.id == "note:n-2" and d.reason == "sensitive_content" for d in bundle.dropped)


def test_the_bundles_of_a_batch_read_each_product_once_and_equal_their_own(
    db: Session, indexed_demo: str, nano_store: VectorStore, nano_embedder: Embedder
) -> None:
    """A campaign batch builds its customers' bundles on one ``prefetch``: a product the bundles name again is not
    read again, and every bundle is the one the customer gets alone."""
    brief = Brief(goal=Goal.CROSS_SELL, instructions="gear for a spring hiking weekend")
    now = utcnow()
    customers = list(db.scalars(select(Customer).where(Customer.workspace_id == "acme").order_by(Customer.id)))
    assert len(customers) >= 4

    def build(customer: Customer, prefetched: Any) -> FactsBundle:
        return build_bundles(
            db,
            nano_store,
            nano_embedder,
            workspace_id="acme",
            customer_external_id=customer.external_id,
            brief=brief,
            channels=["email"],
            now=now,
            customer=customer,
            prefetched=prefetched,
        )["email"]

    alone = {c.external_id: build(c, None) for c in customers}
    looked_up: list[object] = []

    def watch(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().startswith("SELECT products.id"):  # whole product rows, as facts are made of
            looked_up.extend(p for p in params if p != "acme" and isinstance(p, str))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", watch)
    try:
        batch = prefetch(db, "acme", customers)
        together = {c.external_id: build(c, batch) for c in customers}
    finally:
        event.remove(engine, "before_cursor_execute", watch)

    assert together == alone
    named = {f.values.sku for b in together.values() for f in b.facts if f.kind == FactKind.PRODUCT}
    assert named and named <= set(looked_up)
    assert sorted(looked_up) == sorted(set(looked_up))  # no sku read twice
