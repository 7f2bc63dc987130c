"""Which product goes with one the customer bought, and why: the workspace's own orders first, then the catalogue.

1. **Co-purchase statistics** over the workspace's completed orders: for a bought product A and another product B,
   support = orders with both / all orders, confidence = orders with both / orders with A, lift = confidence /
   (orders with B / all orders). A pair needs at least ``MIN_TOGETHER`` orders together and a lift of at least
   ``MIN_LIFT`` (bought together more often than chance), and the best confidence wins.
2. Otherwise, **category and embedding similarity**: an active product of the same catalogue category, the one whose
   indexed description is nearest to the bought product's.

No reason, no pairing: a generator that says "goes well with your …" cites the pairing fact these build.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from copyloom.contracts.cache import TTLCache
from copyloom.contracts.enums import OrderStatus
from copyloom.contracts.facts import Fact, FactKind, FactSource, FactValues
from copyloom.domain.catalogue import sellable_products
from copyloom.models import Order, OrderLine, Product
from copyloom.retrieval.sanitize import clean_text
from copyloom.retrieval.sections import product_fact
from copyloom.retrieval.store import VectorStore

__all__ = [
    "MIN_LIFT",
    "MIN_TOGETHER",
    "Pairing",
    "co_purchase_pairings",
    "pairing_fact",
    "pairing_facts",
    "similar_in_category",
]

MIN_TOGETHER = 2
MIN_LIFT = 1.5
BOUGHT = 3  # the customer's most recent distinct products that are paired
CANDIDATES = 60  # products bought with A that are scored (the most frequent ones)
SAME_CATEGORY = 50  # catalogue products of A's category compared by embedding


@dataclass(frozen=True)
class Pairing:
    """Product ``sku`` recommended for a customer who bought ``bought_sku``, with the evidence."""

    bought_sku: str
    sku: str
    method: str  # "co_purchase" | "category_similarity"
    together: int = 0
    orders_with_bought: int = 0
    orders: int = 0
    support: float = 0.0
    confidence: float = 0.0
    lift: float = 0.0
    category: str | None = None
    similarity: float = 0.0

    def reason(self, bought_name: str, name: str) -> str:
        if self.method == "co_purchase":
            return (
                f"{name}: in {self.together} of the {self.orders_with_bought} orders with {bought_name} "
                f"(support {self.support:.2%}, confidence {self.confidence:.0%}, lift {self.lift:.1f})"
            )
        return (
            f"{name}: same category ({self.category}) as {bought_name}, nearest by description "
            f"(cosine {self.similarity:.2f}); too few orders for co-purchase statistics"
        )


def _completed(workspace_id: str) -> list[object]:
    return [Order.workspace_id == workspace_id, Order.status == OrderStatus.COMPLETED.value]


@dataclass(frozen=True)
class _Stats:
    """Order counts around one product: all orders, orders with it, and its most frequent companions."""

    orders: int
    with_it: int
    companions: tuple[tuple[str, int, int], ...]  # (sku, orders with both, orders with that sku)


# (workspace, sku) -> (monotonic time, stats). The statistics move slowly; recomputing them per draft would cost
# ~0.3 s per product on the 540k-line Online Retail history.
STATS_TTL_S = 600.0
_CACHE: TTLCache[tuple[str, str], _Stats] = TTLCache(STATS_TTL_S, max_keys=20_000)


def _stats(session: Session, workspace_id: str, sku: str) -> _Stats:
    stats = _CACHE.get_or_build((workspace_id, sku), lambda: _compute_stats(session, workspace_id, sku))
    assert stats is not None  # _compute_stats always answers
    return stats


def _compute_stats(session: Session, workspace_id: str, sku: str) -> _Stats:
    where = _completed(workspace_id)
    a, b = aliased(OrderLine), aliased(OrderLine)
    total = session.scalar(select(func.count(Order.id)).where(*where)) or 0  # type: ignore[arg-type]
    orders_a = select(a.order_id).join(Order, Order.id == a.order_id).where(*where, a.sku == sku)  # type: ignore[arg-type]
    sub = orders_a.subquery()
    with_it = session.scalar(select(func.count(func.distinct(sub.c.order_id)))) or 0
    n_ab = func.count(func.distinct(b.order_id))
    together = session.execute(
        select(b.sku, n_ab)
        .where(b.order_id.in_(orders_a), b.sku != sku)
        .group_by(b.sku)
        .having(n_ab >= MIN_TOGETHER)
        .order_by(n_ab.desc(), b.sku)
        .limit(CANDIDATES)
    ).all()
    counts = {str(s): int(n) for s, n in together}
    n_b: dict[str, int] = {}
    if counts:
        n_b = {
            str(s): int(n)
            for s, n in session.execute(
                select(b.sku, func.count(func.distinct(b.order_id)))
                .join(Order, Order.id == b.order_id)
                .where(*where, b.sku.in_(counts))  # type: ignore[arg-type]
                .group_by(b.sku)
            )
        }
    return _Stats(int(total), int(with_it), tuple((s, n, n_b.get(s, n)) for s, n in counts.items()))


def co_purchase_pairings(
    session: Session, workspace_id: str, bought: list[str], exclude: set[str]
) -> dict[str, Pairing]:
    """The best co-purchased product for each bought sku (where the orders support one), skipping ``exclude``."""
    out: dict[str, Pairing] = {}
    for sku in bought:
        st = _stats(session, workspace_id, sku)
        if st.orders < MIN_TOGETHER or st.with_it < MIN_TOGETHER:
            continue
        best: Pairing | None = None
        for other, together, with_other in st.companions:
            if other in exclude:
                continue
            confidence = together / st.with_it
            lift = confidence / (with_other / st.orders)
            if lift < MIN_LIFT:
                continue
            candidate = Pairing(
                bought_sku=sku,
                sku=other,
                method="co_purchase",
                together=together,
                orders_with_bought=st.with_it,
                orders=st.orders,
                support=together / st.orders,
                confidence=confidence,
                lift=lift,
            )
            if best is None or (confidence, lift) > (best.confidence, best.lift):
                best = candidate
        if best is not None:
            out[sku] = best
    return out


def similar_in_category(
    session: Session, store: VectorStore, workspace_id: str, bought: list[str], exclude: set[str]
) -> dict[str, Pairing]:
    """For each bought sku with a catalogue category and a vector: the nearest active product of that category."""
    rows = session.execute(
        select(Product.sku, Product.category).where(
            Product.workspace_id == workspace_id, Product.sku.in_(bought), Product.category.is_not(None)
        )
    ).all()
    categories = {str(s): str(c) for s, c in rows if c}
    out: dict[str, Pairing] = {}
    for sku, category in categories.items():
        peers = list(
            session.scalars(
                select(Product.sku)
                .where(
                    Product.workspace_id == workspace_id,
                    Product.category == category,
                    Product.active.is_(True),
                    Product.price.is_not(None),
                    Product.sku != sku,
                )
                .order_by(Product.sku)
                .limit(SAME_CATEGORY + len(exclude))
            )
        )
        peers = [p for p in peers if p not in exclude]
        if not peers:
            continue
        vectors = store.get_embeddings(workspace_id, [f"product:{sku}", *(f"product:{p}" for p in peers)])
        mine = vectors.get(f"product:{sku}")
        if mine is None:
            continue
        scored = [
            (float(v @ mine / ((np.linalg.norm(v) * np.linalg.norm(mine)) or 1.0)), p)
            for p in peers
            if (v := vectors.get(f"product:{p}")) is not None
        ]
        if not scored:
            continue
        similarity, best = max(scored, key=lambda t: (t[0], t[1]))
        out[sku] = Pairing(
            bought_sku=sku, sku=best, method="category_similarity", category=category, similarity=similarity
        )
    return out


def pairing_fact(pairing: Pairing, bought_name: str, product: Product, score: float) -> Fact:
    """The reason as a fact of the bundle: generators cite it when they pair the two products."""
    name = clean_text(product.name, 200)
    bought = clean_text(bought_name, 200)
    return Fact(
        id=f"pairing:{pairing.bought_sku}:{pairing.sku}",
        kind=FactKind.PAIRING,
        text=pairing.reason(bought, name),
        values=FactValues(sku=pairing.sku, related_sku=pairing.bought_sku),
        source=FactSource(
            table="orders" if pairing.method == "co_purchase" else "products",
            row_id=f"{pairing.method}:{pairing.bought_sku}:{pairing.sku}",
            workspace_id=product.workspace_id,
        ),
        score=score,
    )


def pairing_facts(
    session: Session,
    store: VectorStore,
    workspace_id: str,
    bought: list[tuple[str, str]],
    owned: set[str],
    seen: dict[str, Product | None] | None = None,
) -> list[Fact]:
    """Pairing facts for the customer's most recent distinct products (``bought``: sku and name, newest first),
    each with the product fact of the paired product (so its name and price are in the bundle too). ``seen``: as
    for ``sellable_products``."""
    names = dict(bought)
    skus = list(names)[:BOUGHT]
    pairs = co_purchase_pairings(session, workspace_id, skus, owned)
    rest = [s for s in skus if s not in pairs]
    if rest:
        pairs |= similar_in_category(session, store, workspace_id, rest, owned)
    if not pairs:
        return []
    products = sellable_products(session, workspace_id, {p.sku for p in pairs.values()}, seen)
    facts: list[Fact] = []
    shown: set[str] = set()
    for rank, sku in enumerate(skus):
        pairing = pairs.get(sku)
        product = products.get(pairing.sku) if pairing else None
        if pairing is None or product is None:
            continue
        score = 0.95 - 0.05 * rank
        facts.append(pairing_fact(pairing, names[sku], product, score))
        if product.sku not in shown:  # two bought products may pair with the same one
            shown.add(product.sku)
            facts.append(product_fact(product, score))
    return facts
