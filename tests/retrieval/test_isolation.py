"""Isolation (property-based): no bundle holds a fact of another customer or another workspace.

Random workspaces share product names, note texts and skus on purpose, so that semantic search and notes
have every chance to leak across the boundary.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.domain.brief import Brief
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed

WORDS = ["tent", "stove", "boots", "jacket", "mug", "lamp", "帐篷", "茶杯", "hike", "camp"]
_run = itertools.count()

world = st.lists(  # workspaces → customers → (notes, bought skus); products per workspace
    st.tuples(
        st.lists(
            st.tuples(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), st.booleans()), min_size=1, max_size=3
        ),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=5, unique=True),
    ),
    min_size=2,
    max_size=3,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=world, brief_words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
def test_no_bundle_contains_another_customers_or_workspaces_fact(
    db: Session, vector_store: VectorStore, fake_embedder: HashEmbedder, spec: list, brief_words: list[str]
) -> None:
    run = next(_run)
    owners: dict[str, tuple[str, str | None]] = {}  # fact id → (workspace, customer) it belongs to
    customers: list[tuple[str, str]] = []
    for wi, (custs, product_words) in enumerate(spec):
        ws = seed.workspace(db, f"r{run}-w{wi}")
        for pi, word in enumerate(product_words):
            # the same sku in every workspace: only the workspace boundary tells them apart
            seed.product(db, ws, f"SKU{pi}", f"{word} deluxe", description=" ".join(WORDS[: pi + 1]))
        for ci, (note_words, consent) in enumerate(custs):
            c = seed.customer(db, ws, f"c{ci}", personalization="granted" if consent else "withdrawn")
            seed.note(db, ws, c, f"{ws}-c{ci}-n", " ".join(note_words) + f" from {ws}/c{ci}")
            owners[f"note:{ws}-c{ci}-n"] = (ws, c.external_id)
            seed.order(db, ws, c, f"{ws}-o{ci}", [("SKU0", 1, "5.00")])
            owners[f"purchase:{ws}-o{ci}:SKU0"] = (ws, c.external_id)
            customers.append((ws, c.external_id))
        index_workspace(db, vector_store, fake_embedder, ws)
    brief = Brief(goal=Goal.CROSS_SELL, instructions=" ".join(brief_words))
    for ws, cid in customers:
        bundle = build_bundle(
            db,
            vector_store,
            fake_embedder,
            workspace_id=ws,
            customer_external_id=cid,
            brief=brief,
            channel="email",
            now=seed.NOW,
        )
        for fact in bundle.facts:
            assert fact.source.workspace_id == ws, fact
            assert fact.source.customer_id in (None, cid), fact
            if fact.id in owners:
                assert owners[fact.id] == (ws, cid), fact
        for fact in bundle.facts:
            if fact.kind == "product":
                assert fact.values.product_name and fact.values.product_name.endswith("deluxe")
