"""The facts bundle for one (customer, brief, channel, locale): SQL for what is exact, Chroma for what is meant.

Two Chroma calls per bundle: one ``get`` by id (the brief's knowledge items, the customer's notes and the vectors
of products they bought, scored in memory) and one unfiltered ``query`` for products near the brief (blended with
the customer's taste when personalization is allowed). Every hit is re-read from SQL within the workspace, so a
stale or foreign vector can never surface as a fact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import CustomerSnapshot, DroppedFact, Fact, FactKind, FactsBundle, FactSource
from copyloom.contracts.tokens import TokenCounter, get_token_counter
from copyloom.domain.brand import load_brand_spec
from copyloom.domain.brief import Brief
from copyloom.domain.catalogue import sellable_products
from copyloom.domain.customers import get_customer
from copyloom.models import Customer, KnowledgeItem, Offer, Product, utcnow
from copyloom.retrieval.budget import DEFAULT_TOKEN_BUDGET, fit_to_budget
from copyloom.retrieval.customer_data import (
    CustomerData,
    load_personal_datas,
    personalization_allowed,
)
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.notes import note_facts
from copyloom.retrieval.pairing import pairing_facts
from copyloom.retrieval.sections import (
    attribute_facts,
    contact_facts,
    eligibility_profile,
    event_facts,
    first_name,
    knowledge_fact,
    offer_fact,
    offer_is_eligible,
    offer_is_live,
    product_fact,
    profile_facts,
    purchase_facts,
)
from copyloom.retrieval.store import VectorStore

__all__ = ["Prefetched", "build_bundle", "build_bundles", "prefetch"]

PRODUCTS = 6
KNOWLEDGE = 4
MAX_KNOWLEDGE_ITEMS = 200
LOCALE_BONUS = 0.5  # in standard deviations: prefer products named in the message language
TASTE_WEIGHT = 0.5  # how much the customer's purchases pull the product search away from the brief alone
Vector = npt.NDArray[np.float32]


def _unit(v: Vector) -> Vector:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _rescale(sims: Sequence[float], lo: float = 0.4, hi: float = 0.9) -> list[float]:
    """Cosine similarities → [lo, hi] within the list, so scores compare across sections and embedders."""
    if not sims:
        return []
    smin, smax = min(sims), max(sims)
    if smax - smin < 1e-9:
        return [hi for _ in sims]
    return [lo + (hi - lo) * (s - smin) / (smax - smin) for s in sims]


def brand_fact(brand: BrandKitSpec, workspace_id: str) -> Fact:
    parts = [f"Brand: {brand.name}"]
    if brand.sender_identity:
        parts.append(f"sender: {brand.sender_identity}")
    if brand.postal_address:
        parts.append(f"postal address: {brand.postal_address}")
    return Fact(
        id="brand:identity",
        kind=FactKind.KNOWLEDGE,
        text="; ".join(parts),
        source=FactSource(table="brand_kits", row_id=workspace_id, workspace_id=workspace_id),
        score=0.85,
    )


@dataclass(frozen=True)
class Prefetched:
    """The SQL reads of the bundles of many customers of one workspace, made once for all of them: the
    workspace's offers and knowledge items, and the personal data of the customers whose bundles may be personal;
    the products the bundles name are read as they are met, once each (``sellable_products``). A single bundle is a batch of one (``build_bundles`` prefetches for its customer)."""

    offers: Sequence[Offer]
    knowledge: Sequence[KnowledgeItem]
    personal: Mapping[int, CustomerData]
    products: dict[str, Product | None] = field(default_factory=dict)  # sellable products looked up so far, by sku


def prefetch(session: Session, workspace_id: str, personal_for: Sequence[Customer]) -> Prefetched:
    """Everything ``build_bundles`` reads from SQL besides products, for a chunk of customers: nine queries."""
    offers = session.scalars(select(Offer).where(Offer.workspace_id == workspace_id)).all()
    knowledge = session.scalars(
        select(KnowledgeItem).where(KnowledgeItem.workspace_id == workspace_id).limit(MAX_KNOWLEDGE_ITEMS)
    ).all()
    return Prefetched(offers, knowledge, load_personal_datas(session, personal_for))


def _offers(
    rows: Sequence[Offer], customer: Customer, brief: Brief, allowed: bool, now: datetime
) -> tuple[list[Fact], list[DroppedFact]]:
    """Live offers the customer is eligible for; when personalization is off, only offers open to everyone
    (eligibility is a business rule and is checked regardless). Offers the brief names are required, or
    recorded as dropped with the reason they cannot be used."""
    by_id = {o.external_id: o for o in rows}
    named = set(brief.offer_ids)
    facts: list[Fact] = []
    dropped = [
        DroppedFact(id=f"offer:{o}", kind=FactKind.OFFER, reason="unknown_offer")
        for o in brief.offer_ids
        if o not in by_id
    ]
    for o in rows:
        is_named = o.external_id in named
        if not offer_is_live(o, now):
            if is_named:
                dropped.append(DroppedFact(id=f"offer:{o.external_id}", kind=FactKind.OFFER, reason="not_live"))
            continue
        if not offer_is_eligible(o, eligibility_profile(customer)):
            if is_named:
                dropped.append(DroppedFact(id=f"offer:{o.external_id}", kind=FactKind.OFFER, reason="not_eligible"))
            continue
        if not allowed and o.eligibility and not is_named:
            continue
        facts.append(offer_fact(o, 1.0 if is_named else 0.75, required=is_named))
    return facts, dropped


def _calibrated(hits: list[tuple[str, float, str]], locale_script: str) -> list[tuple[str, float]]:
    """Rank hits by similarity standardized within their script group.

    Multilingual e5 ranks every same-language document above every cross-language one (a Chinese brief put all 7
    Chinese-named demo products above the English tents), so raw scores cannot mix a bilingual catalogue. Within
    each group (>= 3 hits) scores become z-scores; the message's own script gets a small bonus. A one-language
    catalogue keeps its raw order.
    """
    groups: dict[str, list[float]] = {}
    for _, sim, script in hits:
        groups.setdefault(script, []).append(sim)
    if len(groups) < 2:
        return [(sku, sim) for sku, sim, _ in hits]
    stats = {g: (float(np.mean(v)), float(np.std(v)) or 1.0) for g, v in groups.items() if len(v) >= 3}
    overall = (float(np.mean([h[1] for h in hits])), float(np.std([h[1] for h in hits])) or 1.0)
    scored = []
    for sku, sim, script in hits:
        mean, std = stats.get(script, overall)
        scored.append((sku, (sim - mean) / std + (LOCALE_BONUS if script == locale_script else 0.0)))
    scored.sort(key=lambda x: -x[1])
    return scored


def _products(
    session: Session,
    store: VectorStore,
    workspace_id: str,
    query_vec: Vector,
    brief: Brief,
    owned: set[str],
    locale_script: str,
    seen: dict[str, Product | None],
) -> list[Fact]:
    exclude_owned = brief.goal != Goal.REPLENISH
    hits = store.query(
        workspace_id, query_vec.tolist(), n_results=4 * PRODUCTS + (min(len(owned), 16) if exclude_owned else 0)
    )
    kept: list[tuple[str, float, str]] = []
    for h in hits:
        sku = h.metadata.get("sku")
        if h.metadata.get("kind") != "product" or h.metadata.get("workspace") != workspace_id or not sku:
            continue
        if exclude_owned and sku in owned:
            continue
        kept.append((str(sku), h.score, str(h.metadata.get("script", "latin"))))
    ranked = _calibrated(kept, locale_script)[:PRODUCTS]
    wanted = {s for s, _ in ranked} | set(brief.skus)
    if not wanted:
        return []
    by_sku = sellable_products(session, workspace_id, wanted, seen)
    facts = [product_fact(by_sku[s], 1.0, required=True) for s in brief.skus if s in by_sku]
    scores = _rescale([sim for s, sim in ranked if s in by_sku])
    alive = [s for s, _ in ranked if s in by_sku and s not in brief.skus]
    facts += [product_fact(by_sku[s], sc) for s, sc in zip(alive, scores, strict=False)]
    return facts


def build_bundle(
    session: Session,
    store: VectorStore,
    embedder: Embedder,
    *,
    workspace_id: str,
    customer_external_id: str,
    brief: Brief,
    channel: str,
    locale: str | None = None,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    token_counter: TokenCounter | None = None,
    now: datetime | None = None,
) -> FactsBundle:
    """Everything a draft for this customer and brief may say, each fact with an id and its source row.

    Raises ``NotFound`` for a customer that is not in the workspace.
    """
    bundles = build_bundles(
        session,
        store,
        embedder,
        workspace_id=workspace_id,
        customer_external_id=customer_external_id,
        brief=brief,
        channels=[channel],
        locale=locale,
        token_budget=token_budget,
        token_counter=token_counter,
        now=now,
    )
    return bundles[channel]


def build_bundles(
    session: Session,
    store: VectorStore,
    embedder: Embedder,
    *,
    workspace_id: str,
    customer_external_id: str,
    brief: Brief,
    channels: Sequence[str],
    locale: str | None = None,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    token_counter: TokenCounter | None = None,
    now: datetime | None = None,
    personalization: Mapping[str, bool] | None = None,
    customer: Customer | None = None,
    brand: BrandKitSpec | None = None,
    prefetched: Prefetched | None = None,
) -> dict[str, FactsBundle]:
    """``build_bundle`` for several channels of one request. A bundle depends on the channel only through the
    customer's personalization consent for it, so at most two are built (with and without) and shared.

    ``personalization`` is the gate's answer per channel (``GateDecision.personalization_allowed``): a caller that
    ran the gate passes it, and the bundle follows it instead of deciding again; without it, the same domain rule
    is applied here (the facts endpoint, the CLI). A caller that has already read the customer's row in this
    session passes it (``customer``), and may pass the brand kit it read (``brand``) and the reads it made for a
    chunk of customers this one is part of (``prefetched``, with this customer's personal data when a channel
    allows personalization)."""
    now = now or utcnow()
    counter = token_counter or get_token_counter(None)
    if customer is None or customer.external_id != customer_external_id or customer.workspace_id != workspace_id:
        customer = get_customer(session, workspace_id, customer_external_id)
    if personalization is None:
        allowed_by_channel = personalization_allowed(session, customer, channels, now)
    else:
        allowed_by_channel = {ch: personalization[ch] for ch in channels}
    if prefetched is None:
        prefetched = prefetch(session, workspace_id, [customer] if any(allowed_by_channel.values()) else [])
    built = {
        allowed: _build(
            session, store, embedder, customer, brief, allowed, locale, token_budget, counter, now, prefetched, brand
        )
        for allowed in set(allowed_by_channel.values())
    }
    return {ch: built[allowed].model_copy(update={"channel": ch}) for ch, allowed in allowed_by_channel.items()}


def _build(
    session: Session,
    store: VectorStore,
    embedder: Embedder,
    customer: Customer,
    brief: Brief,
    allowed: bool,
    locale: str | None,
    token_budget: int,
    counter: TokenCounter,
    now: datetime,
    prefetched: Prefetched,
    brand: BrandKitSpec | None = None,
) -> FactsBundle:
    workspace_id = customer.workspace_id
    data = prefetched.personal[customer.id] if allowed else CustomerData()
    brand = brand or load_brand_spec(session, workspace_id)
    out_locale = locale or customer.locale
    notes: list[str] = [counter.note] if counter.note else []
    if not allowed:
        notes.append("no personalization consent for this channel: only non-personal facts")

    facts: list[Fact] = [brand_fact(brand, workspace_id)]
    if allowed:
        facts += profile_facts(customer, data.summary, now) + attribute_facts(customer)
        facts += purchase_facts(data.recent_lines, data.top_skus, customer, now)
        facts += event_facts(data.events, customer, now) + contact_facts(data.contacts, customer, now)
    offers, dropped = _offers(prefetched.offers, customer, brief, allowed, now)
    facts += offers

    brief_vec = np.asarray(embedder.embed_query(brief.query_text()), dtype=np.float32)
    knowledge = prefetched.knowledge
    owned = {line.sku for line in data.recent_lines} | {s for s, _ in data.top_skus}
    taste_ids = [f"product:{s}" for s, _ in data.top_skus]
    ids = [f"knowledge:{k.external_id}" for k in knowledge] + [f"note:{n.external_id}" for n in data.notes]
    vectors = store.get_embeddings(workspace_id, ids + taste_ids)

    scored = [
        (k, float(vectors[f"knowledge:{k.external_id}"] @ brief_vec))
        for k in knowledge
        if f"knowledge:{k.external_id}" in vectors
    ]
    # prefer items in the message's language (zh-CN brief → zh-CN guidelines) without hiding the others
    scored = [(k, s + (0.05 if k.locale.split("-")[0] == out_locale.split("-")[0] else 0.0)) for k, s in scored]
    if brief.goal == Goal.EVENT_INVITE:  # an invitation is written from the brand's events: they come first
        scored = [(k, s + (1.0 if k.kind == "event" else 0.0)) for k, s in scored]
    scored.sort(key=lambda ks: -ks[1])
    top = scored[:KNOWLEDGE]
    facts += [knowledge_fact(k, sc) for (k, _), sc in zip(top, _rescale([s for _, s in top], 0.3, 0.8), strict=True)]
    if len(scored) < len(knowledge):
        notes.append(f"{len(knowledge) - len(scored)} knowledge items are not indexed yet (run 'copyloom index')")

    if allowed:
        note_list, note_dropped = note_facts(data.notes, vectors, brief_vec, customer)
        facts += note_list
        dropped += note_dropped

    query_vec = brief_vec
    taste = [vectors[i] for i in taste_ids if i in vectors]
    if taste:
        query_vec = _unit(brief_vec + TASTE_WEIGHT * _unit(np.mean(np.stack(taste), axis=0)))
    script = "cjk" if out_locale.split("-")[0] in {"zh", "ja", "ko"} else "latin"
    products = _products(session, store, workspace_id, query_vec, brief, owned, script, prefetched.products)
    bought = [(line.sku, line.name or line.sku) for line in data.recent_lines]
    pairs = pairing_facts(session, store, workspace_id, bought, owned, prefetched.products) if bought else []
    seen = {f.id for f in products}
    facts += products + [f for f in pairs if f.id not in seen]

    fitted = fit_to_budget(facts, token_budget, counter)
    snapshot = CustomerSnapshot(
        external_id=customer.external_id,
        first_name=first_name(customer) if allowed else None,
        locale=customer.locale,
        time_zone=customer.time_zone,
        country=customer.country,
    )
    return FactsBundle(
        workspace_id=workspace_id,
        customer=snapshot,
        goal=brief.goal.value,
        channel="",  # set per channel by build_bundles
        locale=out_locale,
        personalization_allowed=allowed,
        brand=brand,
        facts=fitted.facts,
        dropped=dropped + fitted.dropped,
        token_count=fitted.token_count,
        token_budget=token_budget,
        encoding=counter.encoding_name,
        notes=notes + fitted.notes,
        built_at=now,
    )
