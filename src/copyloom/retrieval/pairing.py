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

from copyloom.domain.enums import OrderStatus
from copyloom.models import Order, OrderLine, Product
from copyloom.retrieval.facts import Fact, FactKind, FactSource, FactValues
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
CANDIDATES = 20  # products bought with A that are scored (the most frequent ones)
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
                f"{name} is bought together with {bought_name} in {self.together} of {self.orders_with_bought} orders "
                f"with {bought_name} (support {self.support:.2%}, confidence {self.confidence:.0%}, "
                f"lift {self.lift:.1f}; {self.orders} orders in all)"
            )
        return (
            f"{name} is in the same category ({self.category}) as {bought_name} and the nearest to it by "
            f"description (cosine {self.similarity:.2f}); no co-purchase data for {bought_name}"
        )


def _completed(workspace_id: str) -> list[object]:
    return [Order.workspace_id == workspace_id, Order.status == OrderStatus.COMPLETED.value]


def co_purchase_pairings(
    session: Session, workspace_id: str, bought: list[str], exclude: set[str]
) -> dict[str, Pairing]:
    """The best co-purchased product for each bought sku (where the orders support one), skipping ``exclude``."""
    if not bought:
        return {}
    where = _completed(workspace_id)
    total = session.scalar(select(func.count(Order.id)).where(*where)) or 0  # type: ignore[arg-type]
    if total < MIN_TOGETHER:
        return {}
    a, b = aliased(OrderLine), aliased(OrderLine)
    out: dict[str, Pairing] = {}
    for sku in bought:
        n_a = session.scalar(
            select(func.count(func.distinct(a.order_id)))
            .join(Order, Order.id == a.order_id)
            .where(*where, a.sku == sku)  # type: ignore[arg-type]
        )
        if not n_a or n_a < MIN_TOGETHER:
            continue
        together = session.execute(
            select(b.sku, func.count(func.distinct(b.order_id)).label("n"))
            .join(a, (a.order_id == b.order_id) & (a.sku == sku))
            .join(Order, Order.id == b.order_id)
            .where(*where, b.sku != sku)  # type: ignore[arg-type]
            .group_by(b.sku)
            .having(func.count(func.distinct(b.order_id)) >= MIN_TOGETHER)
            .order_by(func.count(func.distinct(b.order_id)).desc(), b.sku)
            .limit(CANDIDATES + len(exclude))
        ).all()
        counts = {str(s): int(n) for s, n in together if str(s) not in exclude}
        if not counts:
            continue
        n_b = dict(
            session.execute(
                select(b.sku, func.count(func.distinct(b.order_id)))
                .join(Order, Order.id == b.order_id)
                .where(*where, b.sku.in_(counts))  # type: ignore[arg-type]
                .group_by(b.sku)
            )
            .tuples()
            .all()
        )
        best: Pairing | None = None
        for other, n_ab in counts.items():
            confidence = n_ab / n_a
            lift = confidence / (n_b.get(other, n_ab) / total)
            if lift < MIN_LIFT:
                continue
            candidate = Pairing(
                bought_sku=sku,
                sku=other,
                method="co_purchase",
                together=n_ab,
                orders_with_bought=n_a,
                orders=total,
                support=n_ab / total,
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
    session: Session, store: VectorStore, workspace_id: str, bought: list[tuple[str, str]], owned: set[str]
) -> list[Fact]:
    """Pairing facts for the customer's most recent distinct products (``bought``: sku and name, newest first),
    each with the product fact of the paired product (so its name and price are in the bundle too)."""
    names = dict(bought)
    skus = list(names)[:BOUGHT]
    pairs = co_purchase_pairings(session, workspace_id, skus, owned)
    rest = [s for s in skus if s not in pairs]
    if rest:
        pairs |= similar_in_category(session, store, workspace_id, rest, owned)
    if not pairs:
        return []
    rows = session.scalars(
        select(Product).where(
            Product.workspace_id == workspace_id,
            Product.sku.in_({p.sku for p in pairs.values()}),
            Product.active.is_(True),
            Product.price.is_not(None),
        )
    ).all()
    products = {p.sku: p for p in rows}
    facts: list[Fact] = []
    for rank, sku in enumerate(skus):
        pairing = pairs.get(sku)
        product = products.get(pairing.sku) if pairing else None
        if pairing is None or product is None:
            continue
        score = 0.95 - 0.05 * rank
        facts += [pairing_fact(pairing, names[sku], product, score), product_fact(product, score)]
    return facts
