"""Incremental indexing: only new or changed documents are embedded; deleted or inactive ones leave Chroma."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.models import IndexEntry, Product
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed


def _setup(db: Session) -> None:
    seed.workspace(db, "w1")
    c = seed.customer(db, "w1", "c1")
    seed.product(db, "w1", "SKU1", "Trail tent")
    seed.product(db, "w1", "SKU2", "Camp stove")
    seed.product(db, "w1", "SKU3", "No price yet", price=None)
    seed.knowledge(db, "w1", "k1", "Returns", "60 days to return unused items")
    seed.note(db, "w1", c, "n1", "Loves long hikes")


def test_first_run_embeds_everything_indexable(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _setup(db)
    report = index_workspace(db, vector_store, fake_embedder, "w1")
    assert report.embedded == report.total == 4  # the product without a price is not searchable
    assert report.by_kind == {"product": 2, "knowledge": 1, "note": 1}
    assert vector_store.count("w1") == 4
    assert set(vector_store.get_embeddings("w1", ["product:SKU1", "note:n1", "product:SKU3"])) == {
        "product:SKU1",
        "note:n1",
    }


def test_second_run_embeds_only_what_changed(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _setup(db)
    index_workspace(db, vector_store, fake_embedder, "w1")
    unchanged = index_workspace(db, vector_store, fake_embedder, "w1")
    assert unchanged.embedded == 0 and unchanged.unchanged == 4
    p = db.scalars(select(Product).where(Product.sku == "SKU2")).one()
    p.name = "Camp stove, two burners"
    fake_embedder.texts.clear()
    changed = index_workspace(db, vector_store, fake_embedder, "w1")
    assert changed.embedded == 1
    assert fake_embedder.texts == ["Camp stove, two burners"]


def test_inactive_and_deleted_rows_leave_the_index(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder
) -> None:
    _setup(db)
    index_workspace(db, vector_store, fake_embedder, "w1")
    db.scalars(select(Product).where(Product.sku == "SKU1")).one().active = False
    db.delete(db.scalars(select(Product).where(Product.sku == "SKU2")).one())
    db.flush()
    report = index_workspace(db, vector_store, fake_embedder, "w1")
    assert report.deleted == 2
    assert vector_store.count("w1") == 2
    assert vector_store.get_embeddings("w1", ["product:SKU1", "product:SKU2"]) == {}
    entries = set(db.scalars(select(IndexEntry.doc_id).where(IndexEntry.workspace_id == "w1")))
    assert entries == {"knowledge:k1", "note:n1"}


def test_a_wiped_collection_is_rebuilt(db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder) -> None:
    _setup(db)
    index_workspace(db, vector_store, fake_embedder, "w1")
    vector_store.drop_workspace("w1")
    report = index_workspace(db, vector_store, fake_embedder, "w1")
    assert report.embedded == 4
    assert vector_store.count("w1") == 4
