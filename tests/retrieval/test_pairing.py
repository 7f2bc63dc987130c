"""Pairing facts: the workspace's own co-purchase statistics first, then category and embedding similarity."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import FactKind
from copyloom.domain.brief import Brief
from copyloom.retrieval import pairing
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.pairing import co_purchase_pairings
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed


@pytest.fixture(autouse=True)
def _fresh_stats() -> None:
    pairing._CACHE.clear()  # statistics are cached per process; every test writes its own orders


def _shop(db: Session) -> None:
    seed.workspace(db, "w")
    for sku, name, cat in [
        ("LAMP", "White metal lantern", "lighting"),
        ("HOLDER", "Heart t-light holder", "lighting"),
        ("CANDLE", "Vanilla candle set", "lighting"),
        ("MUG", "Union Jack mug", "kitchen"),
        ("BAG", "Jumbo shopper bag", "bags"),
    ]:
        seed.product(db, "w", sku, name, category=cat, description=f"{name} for the home")


def test_co_purchase_statistics_pick_the_product_bought_with_it_more_than_chance(db: Session) -> None:
    _shop(db)
    shopper = seed.customer(db, "w", "c1")
    others = [seed.customer(db, "w", f"o{i}") for i in range(8)]
    # 10 completed orders: LAMP in 4 (3 of them with HOLDER); HOLDER in 4; BAG in 9 (everywhere: lift < 1.5)
    baskets = [
        ["LAMP", "HOLDER", "BAG"],
        ["LAMP", "HOLDER", "BAG"],
        ["LAMP", "HOLDER", "BAG"],
        ["LAMP", "BAG"],
        ["HOLDER", "BAG"],
        ["MUG", "BAG"],
        ["MUG", "BAG"],
        ["MUG", "BAG"],
        ["MUG", "BAG"],
        ["CANDLE"],
    ]
    for i, basket in enumerate(baskets):
        seed.order(db, "w", others[i % 8], f"O{i}", [(s, 1, "1.00") for s in basket])
    seed.order(db, "w", shopper, "X1", [("LAMP", 1, "1.00")], status="cancelled")  # never counted

    pairs = co_purchase_pairings(db, "w", ["LAMP", "MUG", "CANDLE"], exclude=set())
    lamp = pairs["LAMP"]
    assert (lamp.sku, lamp.method, lamp.together, lamp.orders_with_bought, lamp.orders) == (
        "HOLDER",
        "co_purchase",
        3,
        4,
        10,
    )
    assert lamp.support == pytest.approx(0.3) and lamp.confidence == pytest.approx(0.75)
    assert lamp.lift == pytest.approx(0.75 / 0.4)
    assert "MUG" not in pairs  # bought only with BAG, which is in nearly every order (lift 10/9)
    assert "CANDLE" not in pairs  # bought alone
    assert "LAMP" not in co_purchase_pairings(db, "w", ["LAMP"], exclude={"HOLDER"})  # owned: not suggested


def test_the_bundle_carries_the_pairing_and_the_paired_product(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _shop(db)
    shopper = seed.customer(db, "w", "c1")
    seed.order(db, "w", shopper, "S1", [("LAMP", 1, "3.39")], days_ago=5)
    other = seed.customer(db, "w", "c2")
    for i in range(3):
        seed.order(db, "w", other, f"P{i}", [("LAMP", 1, "3.39"), ("HOLDER", 1, "2.55")])
    for i in range(5):  # 9 orders in all: the holder is in a third of them, and in 3 of the 4 with the lantern
        seed.order(db, "w", other, f"M{i}", [("MUG", 1, "2.00")])
    index_workspace(db, vector_store, fake_embedder, "w")
    bundle = build_bundle(
        db,
        vector_store,
        fake_embedder,
        workspace_id="w",
        customer_external_id="c1",
        brief=Brief(goal=Goal.CROSS_SELL),
        channel="email",
        now=seed.NOW,
    )
    fact = bundle.fact("pairing:LAMP:HOLDER")
    assert fact is not None and fact.kind is FactKind.PAIRING
    assert fact.values.sku == "HOLDER" and fact.values.related_sku == "LAMP"
    assert "in 3 of the 4 orders with Item LAMP" in fact.text and "lift" in fact.text
    product = bundle.fact("product:HOLDER")
    assert product is not None and product.values.category == "lighting"


def test_without_enough_orders_the_same_category_and_nearest_description_decide(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _shop(db)
    shopper = seed.customer(db, "w", "c1")
    seed.order(db, "w", shopper, "S1", [("LAMP", 1, "3.39")], days_ago=5)
    index_workspace(db, vector_store, fake_embedder, "w")
    bundle = build_bundle(
        db,
        vector_store,
        fake_embedder,
        workspace_id="w",
        customer_external_id="c1",
        brief=Brief(goal=Goal.CROSS_SELL),
        channel="email",
        now=seed.NOW,
    )
    pairs = [f for f in bundle.facts if f.kind is FactKind.PAIRING]
    assert len(pairs) == 1 and pairs[0].source.table == "products"
    assert pairs[0].values.sku in {"HOLDER", "CANDLE"}  # lighting, like the lantern; never the mug or the bag
    assert "same category (lighting)" in pairs[0].text


def test_no_personalization_no_pairing(db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder) -> None:
    _shop(db)
    shopper = seed.customer(db, "w", "c1", personalization=None)
    seed.order(db, "w", shopper, "S1", [("LAMP", 1, "3.39")], days_ago=5)
    index_workspace(db, vector_store, fake_embedder, "w")
    bundle = build_bundle(
        db,
        vector_store,
        fake_embedder,
        workspace_id="w",
        customer_external_id="c1",
        brief=Brief(goal=Goal.CROSS_SELL),
        channel="email",
        now=seed.NOW,
    )
    assert not [f for f in bundle.facts if f.kind is FactKind.PAIRING]
