"""Purchase facts name the product as the catalogue does when the order line carries only a sku, and carry the
catalogue's category (so a draft may say "your Trail tent", and an offer on tents can be matched to it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.domain.brief import Brief
from copyloom.models import OrderLine
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed


def test_a_line_without_a_name_takes_the_catalogue_name_and_category(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    seed.workspace(db, "w")
    c = seed.customer(db, "w", "c1", name="Ann Lee", personalization="granted")
    seed.product(db, "w", "TENT", "Trail tent", category="Tents")
    seed.product(db, "w", "MUG", "Camp mug", category="Kitchen")
    seed.order(db, "w", c, "o1", [("TENT", 1, "199.00"), ("MUG", 2, "9.00")], days_ago=20)
    db.flush()
    for line in db.scalars(select(OrderLine).where(OrderLine.sku == "TENT")):
        line.name = None
    db.flush()
    index_workspace(db, vector_store, fake_embedder, "w")
    b = build_bundle(
        db,
        vector_store,
        fake_embedder,
        workspace_id="w",
        customer_external_id="c1",
        brief=Brief(goal=Goal.CROSS_SELL),
        channel="email",
        now=seed.NOW,
    )
    tent = b.fact("purchase:o1:TENT")
    assert tent is not None
    assert (tent.values.product_name, tent.values.category) == ("Trail tent", "Tents")
    assert "Trail tent [Tents] (sku TENT)" in tent.text
    mug = b.fact("purchase:o1:MUG")
    assert mug is not None
    assert (mug.values.product_name, mug.values.category) == ("Item MUG", "Kitchen")  # the line's own name stays
