"""Campaigns: one brief and an audience, drafted per customer by workers that lease chunks of it.

``create_campaign`` stores one target row per (customer, channel), ``pending``. The ``campaign.run`` task submits
one ``campaign.chunk`` task per chunk, to threads of the API process or, with a broker, to Celery workers on any
machine. A chunk task leases up to ``campaign_chunk_size`` customers with all their channels (``leased``, its worker
id, an expiry renewed by a heartbeat; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one atomic write on SQLite) and
drafts them concurrently on the process's background loop: one consent gate and one facts bundle per customer, the
channels' model calls concurrent, the model throttle bounding the requests in flight. Each customer is stored as it
finishes, with the others that finished while the previous group was written: one transaction per group, each
customer in a savepoint that takes its row lock, checks consent again and moves exactly the rows this worker still
holds from ``leased`` to ``done`` / ``suppressed`` / ``failed`` (or, the lease lost, stores nothing of it). A worker
that dies leaves its lease to expire and another takes it; a result whose lease was lost is thrown away, so nothing
is stored twice. One failed target never fails the campaign.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.campaigns.control import control_bundle
from copyloom.content.campaigns.schemas import CampaignCreate, CampaignOut, CampaignProgress
from copyloom.content.drafts.flow import (
    Failed,
    Generated,
    Prepared,
    add_draft,
    generate_all,
    persist_generated,
    prepare_many,
)
from copyloom.content.drafts.routing import route
from copyloom.content.drafts.schemas import DraftRequest
from copyloom.content.engine import ContentEngine
from copyloom.content.tasks import TaskContext, TaskRunner, task
from copyloom.contracts.brand import BrandPolicies
from copyloom.contracts.enums import CampaignStatus, Channel, Purpose
from copyloom.contracts.variants import CONTENT_MODELS, Variant
from copyloom.db import read, write
from copyloom.domain.brief import Brief
from copyloom.domain.campaigns import ACTIVE, UNFINISHED, Approval, external_ids, finish_targets, lease_targets
from copyloom.domain.contacts import lock_customer_rows
from copyloom.domain.customers import find_customer_pks
from copyloom.domain.drafts import NewDrafts, new_drafts
from copyloom.errors import Conflict, InvalidInput, NotFound
from copyloom.genai.loop import background_loop
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.gate import GateInput, evaluate_gate
from copyloom.guardrails.gate_loader import GATE_COLUMNS, load_gate_inputs
from copyloom.guardrails.pipeline import run_checks
from copyloom.models import Campaign, CampaignTarget, Customer, Draft, new_id, utcnow

log = logging.getLogger("copyloom.campaigns")
T = TypeVar("T")
FINISHED = ("done", "suppressed", "failed", "cancelled")
# Database work of chunks (gate, facts bundle, storing) runs here; it is CPU work under the GIL, so a few threads
# keep the loop fed without fighting over it.
_DB_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="copyloom-campaign-db")
_RATE_WINDOW_S = 60.0


def _audience(session: Session, workspace_id: str, body: CampaignCreate) -> list[int]:
    aud = body.audience
    if aud.customer_ids is not None:
        wanted = list(dict.fromkeys(aud.customer_ids))
        found = find_customer_pks(session, workspace_id, wanted)
        missing = [c for c in wanted if c not in found]
        if missing:
            raise InvalidInput(
                f"unknown customers: {', '.join(missing[:20])}" + (" …" if len(missing) > 20 else ""),
                code="unknown_customers",
                field="audience.customer_ids",
            )
        return [found[c] for c in wanted]
    assert aud.filter is not None
    query = select(Customer.id, Customer.attributes).where(Customer.workspace_id == workspace_id)
    if aud.filter.locale:
        query = query.where(Customer.locale == aud.filter.locale)
    if aud.filter.country:
        query = query.where(Customer.country == aud.filter.country.upper())
    wanted_attrs = aud.filter.attributes
    out = []
    for pk, attrs in session.execute(query.order_by(Customer.id)):
        attrs = attrs or {}
        if all(
            attrs.get(k) == v or (isinstance(attrs.get(k), list) and v in attrs[k]) for k, v in wanted_attrs.items()
        ):
            out.append(pk)
    return out


def _control_drafts(
    session: Session, engine: ContentEngine, campaign: Campaign, body: CampaignCreate, now: datetime
) -> dict[str, str]:
    """Check each channel's control like any draft and queue it for review (a control is never auto-approved)."""
    ids: dict[str, str] = {}
    brand = engine.brand(session, campaign.workspace_id)
    locale = (brand.locales or ["en"])[0]
    lookups = engine.lookups(session, campaign.workspace_id)
    with new_drafts(session) as batch:
        for channel, raw in body.control.items():
            if channel not in body.channels:
                raise InvalidInput(
                    f"control for {channel} but the campaign does not use it", field=f"control.{channel}"
                )
            try:
                content = CONTENT_MODELS[channel].model_validate({**raw, "channel": channel.value})
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise InvalidInput(
                    f"control.{channel}.{where}: {first['msg']}", field=f"control.{channel}.{where}"
                ) from exc
            text = " ".join(content.text_fields().values())
            bundle = control_bundle(session, campaign.workspace_id, brand, body.brief, channel.value, locale, text, now)
            variant = Variant(angle="control", fact_ids=[f.id for f in bundle.facts], content=content.model_dump())
            ctx = CheckContext(
                bundle=bundle,
                channel=channel.value,
                send_at=now,
                brief=body.brief,
                customer_index=lookups.index,
                catalogue=lookups.catalogue,
                brand_domains=lookups.domains,
            )
            report = run_checks(variant, ctx)
            routing = route(report, brand.policies.review, generator_kind="control", campaign_mode="all")
            draft = add_draft(
                batch,
                variant=variant,
                report=report,
                routing=routing,
                actor="system",
                workspace_id=campaign.workspace_id,
                customer_id=None,
                campaign_id=campaign.id,
                request_id=campaign.id,
                channel=channel.value,
                locale=locale,
                variant_index=0,
                goal=body.brief.goal.value,
                brief=body.brief.model_dump(mode="json"),
                is_control=True,
                bundle=bundle.model_dump(mode="json"),
                generator={"kind": "control", "model": None},
                usage={},
            )
            ids[channel.value] = draft.id
    return ids


def create_campaign(
    session: Session, engine: ContentEngine, workspace_id: str, body: CampaignCreate, now: datetime | None = None
) -> Campaign:
    """Store the campaign, its targets and its control drafts (one transaction, owned by the caller)."""
    now = now or utcnow()
    customers = _audience(session, workspace_id, body)
    if not customers:
        raise InvalidInput("the audience matches no customer", code="empty_audience", field="audience")
    campaign = Campaign(
        id=new_id(),
        workspace_id=workspace_id,
        name=body.name,
        brief=body.brief.model_dump(mode="json"),
        channels=[c.value for c in body.channels],
        audience=body.audience.model_dump(mode="json"),
        variants=body.variants,
        approval=body.approval.model_dump(mode="json"),
        status="queued",
    )
    session.add(campaign)
    session.flush()
    campaign.control = _control_drafts(session, engine, campaign, body, now)
    rows = [
        {"campaign_id": campaign.id, "customer_id": pk, "channel": ch.value, "status": "pending"}
        for pk in customers
        for ch in body.channels
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(CampaignTarget), rows[start : start + 1000])
    return campaign


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeasedCustomer:
    customer_pk: int
    external_id: str
    targets: dict[Channel, int]  # channel -> target row id


def lease_chunk(
    factory: sessionmaker[Session],
    campaign: Campaign,
    worker_id: str,
    size: int,
    lease_s: float,
    now: datetime | None = None,
) -> list[LeasedCustomer]:
    """Lease up to ``size`` whole customers' pending (or expired) targets for ``worker_id``, in one transaction.

    A lease takes every leasable row of a customer or none of them (one gate and one facts bundle per customer).
    On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``, so concurrent workers get disjoint chunks without
    waiting on each other; a customer one of whose rows another worker has locked (it is leasing that customer
    right now), or whose rows the ``LIMIT`` cut, is left out: taking the rest would split it across two leases
    (measured before: a 14-row lease of 8 customers for a chunk of 7). On SQLite the transaction runs under the
    database's single write lock. If every customer locked was partial, the lease is tried again: an empty answer
    means there is nothing left to lease (or the campaign is no longer queued or running), never that another
    worker was busy.
    """
    now = now or utcnow()
    attempts = 20
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(0.01 * attempt, 0.1))  # the other worker's lease commits in a moment
        leased = _lease_once(factory, campaign, worker_id, size, lease_s, now, last_try=attempt == attempts - 1)
        if leased is not None:
            return leased
    return []


def _lease_once(
    factory: sessionmaker[Session],
    campaign: Campaign,
    worker_id: str,
    size: int,
    lease_s: float,
    now: datetime,
    *,
    last_try: bool,
) -> list[LeasedCustomer] | None:
    """One attempt of ``lease_chunk`` in its own transaction (``lease_targets``): the customers leased, ``[]`` when
    there is nothing to lease, or None to try again."""
    with write(factory) as session:
        rows = lease_targets(
            session,
            campaign.id,
            worker_id,
            size,
            max(1, len(campaign.channels)),
            now + timedelta(seconds=lease_s),
            now,
            last_try=last_try,
        )
        if not rows:
            return rows if rows is None else []
        externals = external_ids(session, sorted({pk for _, pk, _ in rows}))
    by_customer: dict[int, dict[Channel, int]] = {}
    for target_id, pk, channel in rows:
        by_customer.setdefault(pk, {})[Channel(channel)] = target_id
    order = {ch: i for i, ch in enumerate(campaign.channels)}
    return [
        LeasedCustomer(pk, externals[pk], dict(sorted(targets.items(), key=lambda kv: order.get(kv[0].value, 99))))
        for pk, targets in sorted(by_customer.items())
    ]


def _release(factory: sessionmaker[Session], target_ids: list[int], worker_id: str, status: str = "pending") -> None:
    """Give leased rows back (``pending``), or end them (``cancelled``), if this worker still holds them."""
    if not target_ids:
        return
    with write(factory) as session:
        session.execute(
            update(CampaignTarget)
            .where(
                CampaignTarget.id.in_(target_ids),
                CampaignTarget.status == "leased",
                CampaignTarget.lease_owner == worker_id,
            )
            .values(
                status=status,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=utcnow() if status == "cancelled" else None,
            )
        )


def _renew(factory: sessionmaker[Session], campaign_id: str, worker_id: str, lease_s: float) -> int:
    with write(factory) as session:
        result = session.execute(
            update(CampaignTarget)
            .where(
                CampaignTarget.campaign_id == campaign_id,
                CampaignTarget.status == "leased",
                CampaignTarget.lease_owner == worker_id,
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class _Heartbeat:
    """Renews a worker's leases every third of the lease, on a thread of its own: on the background loop (or the
    database threads) a busy chunk delayed its renewals past the expiry, and other workers took customers that
    were still being drafted (their drafts then thrown away, the model calls paid twice)."""

    def __init__(self, factory: sessionmaker[Session], campaign_id: str, worker_id: str, lease_s: float) -> None:
        self._args = (factory, campaign_id, worker_id, lease_s)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="copyloom-lease-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        factory, campaign_id, worker_id, lease_s = self._args
        while not self._stopped.wait(lease_s / 3):
            try:
                _renew(factory, campaign_id, worker_id, lease_s)
            except Exception:  # a missed heartbeat only risks the lease; the store's compare-and-set stays safe
                log.warning("campaigns.heartbeat_failed", exc_info=True, extra={"campaign_id": campaign_id})

    def stop(self) -> None:
        """No renewal starts after this (one under way finishes: it can only renew this worker's own leases).
        Does not wait, so that the loop it is called on never blocks on the database."""
        self._stopped.set()


@dataclass
class _Final:
    status: str
    reason: str | None = None
    message: str | None = None
    model_calls: int = 0
    tokens: int = 0
    cost: Decimal = Decimal("0")


def _usage_of(outcome: Generated | Failed | None) -> tuple[int, int, Decimal]:
    if isinstance(outcome, Generated):
        usage = outcome.result.usage
        calls = outcome.result.attempts if outcome.result.generator.kind == "llm" else 0
        return calls, usage.total_tokens, Decimal(str(usage.cost_usd))
    if isinstance(outcome, Failed):
        details = outcome.error.details or {}
        spent: dict[str, Any] = details.get("usage") or {}
        tokens = int(spent.get("total_tokens") or 0)
        return int(details.get("attempts") or 1), tokens, Decimal(str(spent.get("cost_usd") or "0"))
    return 0, 0, Decimal("0")


def _store_customer(
    session: Session,
    campaign: Campaign,
    leased: LeasedCustomer,
    worker_id: str,
    finals: dict[Channel, _Final],
    now: datetime,
    gate_input: GateInput,
) -> set[Channel] | None:
    """Re-check consent (``gate_input``: read under the customer's row lock, see ``_lock_for_store``), then move
    this worker's rows to their final status: the channels whose drafts may be stored, or None (and nothing
    changed) when the lease was lost."""
    allowed: set[Channel] = set()
    for channel, final in finals.items():
        if final.status != "done":
            continue
        decision = evaluate_gate(gate_input, channel=channel, purpose=Purpose.MARKETING, now=now, realtime=False)
        if decision.allowed:
            allowed.add(channel)
        else:  # consent withdrawn (or the customer suppressed) while the draft was being written
            final.status, final.reason, final.message = "suppressed", str(decision.reason_code), decision.message
    rows = [
        {
            "target_id": leased.targets[channel],
            "owner": worker_id,
            "final_status": final.status,
            "reason": final.reason,
            "final_message": (final.message or "")[:500] or None,
            "now": now,
            "calls": final.model_calls,
            "spent_tokens": final.tokens,
            "cost": final.cost,
        }
        for channel, final in finals.items()
    ]
    if finish_targets(session, rows) != len(rows):
        return None  # the lease expired and another worker has this customer: its result will count
    return allowed


def _lock_for_store(
    session: Session, customer_pks: list[int], now: datetime, policies: BrandPolicies
) -> dict[int, GateInput]:
    """Lock a store group's customers (by primary key: every writer takes them in one order, so two never
    deadlock; a consent withdrawal takes the same lock) and read their gate snapshots under the locks, for the
    store-time re-check: three queries for the group. A withdrawal committed before the lock is seen; a later one
    waits for the store to commit."""
    rows = lock_customer_rows(session, customer_pks, GATE_COLUMNS)
    return load_gate_inputs(session, rows, now, policies)


STORE_GROUP = 32  # finished customers stored in one transaction at most
# How long the first finished customer of a group may wait for others before the group is written: with a slow
# model, customers finish one by one and each would be a transaction of its own (a lock, the re-check's reads, a
# flush and a commit, for two drafts); waiting this long lets a group gather. Not waited when every customer being
# drafted has finished (the end of a campaign, a small one), nor once the group is full.
STORE_LINGER_S = 0.3
PREPARE_BATCH = 64  # customers whose gate and facts are read in one transaction at most


@dataclass
class _Finished:
    """A drafted customer waiting to be stored, and the future its drafting task waits on."""

    leased: LeasedCustomer
    finals: dict[Channel, _Final]
    prepared: Any
    generated: list[Generated]
    now: datetime
    done: asyncio.Future[list[str] | None]
    queued: float = field(default_factory=time.monotonic)  # when it joined the store queue


@dataclass
class ChunkReport:
    customers: int = 0
    stored: dict[str, int] = field(default_factory=Counter)
    lost: int = 0
    released: int = 0


def customers_in_flight(model_concurrency: int, channels: int) -> int:
    """Customers a worker drafts at once: enough that ``model_concurrency`` requests stay in flight while some of
    them are in their database work (gate and facts before the model, storing after it)."""
    return max(1, math.ceil(1.5 * model_concurrency / max(1, channels)))


class _ChunkRun:
    """A worker's leased customers, drafted concurrently on the background loop.

    ``pipeline`` keeps leasing: at most ``window`` customers are being drafted at once (gate, facts bundle, model
    calls, store), and the next chunk is leased while fewer than half a chunk of leased customers wait for a place,
    so the model never waits for a chunk's slowest customer and a worker holds at most ``window`` plus one and a
    half chunks of customers (memory and leases bounded). ``run`` drafts one chunk already leased."""

    status_ttl_s = 0.25  # how stale the campaign's status (pause, cancel) may be when a customer starts

    def __init__(
        self,
        engine: ContentEngine,
        factory: sessionmaker[Session],
        campaign: Campaign,
        worker_id: str,
        rng: random.Random | None,
        stop: threading.Event | None,
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.campaign = campaign
        self.worker_id = worker_id
        self.rng = rng
        self.stop = stop
        self.approval = Approval.model_validate(campaign.approval)
        self.brief = Brief.model_validate(campaign.brief)
        self.report = ChunkReport()
        self.window = customers_in_flight(engine.settings.model_concurrency, len(campaign.channels))
        self._status = ("running", 0.0)
        self._status_lock = asyncio.Lock()
        self._pace_lock = asyncio.Lock()
        self._next_start = 0.0
        self._places = asyncio.Semaphore(self.window)
        self._held = 0  # customers leased here and not yet stored or released
        self._drafting = 0  # customers holding a place (being prepared, drafted or stored)
        self._finished = asyncio.Event()  # set whenever one of them is
        self._to_store: list[_Finished] = []  # finished customers waiting for the store writer
        self._store_more = asyncio.Event()  # set when the store queue may be ready to write
        self._writer: asyncio.Task[None] | None = None
        self._to_prepare: list[tuple[DraftRequest, asyncio.Future[Prepared | Exception]]] = []
        self._preparer: asyncio.Task[None] | None = None  # reads the gate and facts of customers as they start

    async def _db(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(_DB_POOL, fn)

    async def _still_running(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return False
        if time.monotonic() - self._status[1] >= self.status_ttl_s:
            async with self._status_lock:  # one read per TTL, however many customers ask
                if time.monotonic() - self._status[1] >= self.status_ttl_s:
                    status = await self._db(self._read_status)
                    self._status = (status, time.monotonic())
        return self._status[0] == "running"

    def _read_status(self) -> str:
        with read(self.factory) as session:
            return session.scalar(select(Campaign.status).where(Campaign.id == self.campaign.id)) or "missing"

    async def _pace(self) -> None:
        rate = self.engine.settings.campaign_max_targets_per_s
        if not rate:
            return
        async with self._pace_lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + 1.0 / rate
        if wait > 0:
            await asyncio.sleep(wait)

    async def run(self, customers: list[LeasedCustomer]) -> ChunkReport:
        heartbeat = _Heartbeat(self.factory, self.campaign.id, self.worker_id, self.engine.settings.campaign_lease_s)
        self._held += len(customers)
        try:
            await self._chunk(customers, self.report)
        finally:
            heartbeat.stop()
        return self.report

    async def pipeline(self, max_chunks: int | None, on_chunk: Callable[[ChunkReport], None] | None) -> int:
        """Lease and draft chunks until none is left to lease (at most ``max_chunks``), the campaign stops running
        or ``stop`` is set, and every customer leased here is stored or released; returns the chunks leased."""
        settings = self.engine.settings
        size = settings.campaign_chunk_size
        refill = self.window + max(1, size // 2)
        heartbeat = _Heartbeat(self.factory, self.campaign.id, self.worker_id, settings.campaign_lease_s)
        chunks: set[asyncio.Task[None]] = set()  # the chunks still being drafted
        leased = 0
        leasing = True
        try:
            while True:
                self._finished.clear()
                if leasing and max_chunks is not None and leased >= max_chunks:
                    leasing = False
                if leasing and self._held < refill:
                    if not await self._still_running():
                        leasing = False  # the customers already leased release themselves
                        continue
                    customers = await self._db(
                        lambda: lease_chunk(
                            self.factory, self.campaign, self.worker_id, size, settings.campaign_lease_s
                        )
                    )
                    if not customers:
                        leasing = False  # nothing pending: finish what is held, then the caller looks again
                        continue
                    self._held += len(customers)
                    leased += 1
                    chunk = asyncio.create_task(self._chunk(customers, ChunkReport(), on_chunk))
                    chunks.add(chunk)
                    chunk.add_done_callback(chunks.discard)
                    continue
                if self._held == 0:
                    break
                # a customer finished, or look at stop and the campaign's status again
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), timeout=0.5)
            await asyncio.gather(*chunks)
        finally:
            heartbeat.stop()
            for task in list(chunks):
                task.cancel()
        return leased

    async def _chunk(
        self,
        customers: list[LeasedCustomer],
        report: ChunkReport,
        on_chunk: Callable[[ChunkReport], None] | None = None,
    ) -> None:
        await asyncio.gather(*(self._customer(c, report) for c in customers))
        log.info(
            "campaigns.chunk_done",
            extra={
                "campaign_id": self.campaign.id,
                "worker": self.worker_id,
                "customers": report.customers,
                "stored": dict(report.stored),
                "lost": report.lost,
            },
        )
        if on_chunk is not None:
            on_chunk(report)

    def _request(self, leased: LeasedCustomer) -> DraftRequest:
        return DraftRequest(
            customer_id=leased.external_id,
            channels=list(leased.targets),
            brief=self.brief,
            variants=self.campaign.variants,
        )

    async def _prepare(self, req: DraftRequest) -> Prepared:
        """Queue the customer for the next ``prepare_many`` and wait for its answer: the customers that start while
        one batch is read are read together in the next (one read transaction, a few queries for all of them)."""
        done: asyncio.Future[Prepared | Exception] = asyncio.get_running_loop().create_future()
        self._to_prepare.append((req, done))
        if self._preparer is None or self._preparer.done():
            self._preparer = asyncio.create_task(self._prepare_batches())
        prepared = await done
        if isinstance(prepared, Exception):
            raise prepared
        return prepared

    async def _prepare_batches(self) -> None:
        while self._to_prepare:
            batch, self._to_prepare = self._to_prepare[:PREPARE_BATCH], self._to_prepare[PREPARE_BATCH:]
            reqs = [req for req, _ in batch]
            try:
                results = await self._db(functools.partial(self._prepare_in, reqs, utcnow()))
            except Exception as exc:  # the read of a lone customer failed, or the executor did: every waiter hears
                results = [exc] * len(batch)
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)

    def _prepare_in(self, reqs: list[DraftRequest], now: datetime) -> list[Prepared | Exception]:
        try:
            with read(self.factory) as session:  # gate and bundle only read: no write lock meanwhile
                return list(prepare_many(session, self.engine, self.campaign.workspace_id, reqs, now))
        except Exception:
            if len(reqs) == 1:
                raise
            # One customer broke the batch (or the read failed): each prepares alone, so only its own fails.
            log.warning("campaigns.batch_prepare_retried", extra={"campaign_id": self.campaign.id, "batch": len(reqs)})
        return [self._prepare_alone(req, now) for req in reqs]

    def _prepare_alone(self, req: DraftRequest, now: datetime) -> Prepared | Exception:
        try:
            return self._prepare_in([req], now)[0]
        except Exception as exc:
            return exc

    async def _customer(self, leased: LeasedCustomer, report: ChunkReport) -> None:
        try:
            async with self._places:
                self._drafting += 1
                try:
                    await self._one(leased, report)
                finally:
                    self._drafting -= 1
                    self._store_more.set()  # one fewer customer the store queue could wait for
        finally:
            self._held -= 1
            self._finished.set()

    async def _one(self, leased: LeasedCustomer, report: ChunkReport) -> None:
        await self._pace()
        if not await self._still_running():
            status = "cancelled" if self._status[0] == "cancelled" else "pending"
            ids = list(leased.targets.values())
            await self._db(lambda: _release(self.factory, ids, self.worker_id, status))
            report.released += 1
            return
        try:
            outcome = await self._draft(leased)
        except Exception as exc:  # a bug or a database error for one customer must not end the chunk
            log.exception("campaigns.customer_failed", extra={"campaign_id": self.campaign.id})
            error = f"{type(exc).__name__}: {exc}"[:500]
            finals = {ch: _Final("failed", "internal_error", error) for ch in leased.targets}
            outcome = await self._store(leased, finals, None, [])
        report.customers += 1
        if outcome is None:
            report.lost += 1
        else:
            for status in outcome:
                report.stored[status] += 1

    async def _draft(self, leased: LeasedCustomer) -> list[str] | None:
        req = self._request(leased)
        prepared = await self._prepare(req)
        finals: dict[Channel, _Final] = {}
        for s in prepared.suppressed:
            finals[s.channel] = _Final("suppressed", s.reason_code, s.message)
        outcomes = await generate_all(self.engine, prepared, req) if prepared.plans else []
        generated: list[Generated] = []
        for o in outcomes:
            calls, tokens, cost = _usage_of(o)
            if isinstance(o, Generated):
                generated.append(o)
                finals[o.plan.channel] = _Final("done", None, None, calls, tokens, cost)
            else:
                finals[o.channel] = _Final("failed", o.error.code, o.error.message, calls, tokens, cost)
        return await self._store(leased, finals, prepared, generated)

    async def _store(
        self, leased: LeasedCustomer, finals: dict[Channel, _Final], prepared: Any, generated: list[Generated]
    ) -> list[str] | None:
        """Queue the finished customer for the store writer and wait for its answer: the final statuses, or None
        when the lease was lost (nothing stored)."""
        done: asyncio.Future[list[str] | None] = asyncio.get_running_loop().create_future()
        self._to_store.append(_Finished(leased, finals, prepared, generated, utcnow(), done))
        if self._group_ready():
            self._store_more.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_stores())
        return await done

    async def _write_stores(self) -> None:
        """Store what has finished, in groups: one transaction per group (one write lock, one commit), each
        customer in a savepoint of its own. A group is whatever finished while the previous one was written, or
        within ``STORE_LINGER_S`` of its first customer."""
        while self._to_store:
            await self._gather_group()
            group, self._to_store = self._to_store[:STORE_GROUP], self._to_store[STORE_GROUP:]
            try:
                results = await self._db(functools.partial(self._store_group, group))
            except Exception as exc:  # the transaction itself failed (commit, connection): nothing of it stored
                results = [exc] * len(group)
            for item, res in zip(group, results, strict=True):
                if item.done.done():
                    continue
                if isinstance(res, Exception):
                    item.done.set_exception(res)
                else:
                    item.done.set_result(res)

    def _group_ready(self) -> bool:
        """Whether the store queue is worth writing now: a full group, or every customer being drafted is in it."""
        return len(self._to_store) >= min(STORE_GROUP, self._drafting)

    async def _gather_group(self) -> None:
        """Wait, at most ``STORE_LINGER_S`` after the first queued customer, for the store queue to be ready."""
        while not self._group_ready():
            left = self._to_store[0].queued + STORE_LINGER_S - time.monotonic()
            if left <= 0:
                return
            self._store_more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._store_more.wait(), timeout=left)

    def _store_group(self, group: list[_Finished]) -> list[list[str] | Exception | None]:
        try:
            with write(self.factory) as session:
                return self._store_in(session, group, flush_each=False)
        except Exception:
            if len(group) == 1:
                raise
            # One customer's drafts broke the group's single flush (or the commit failed): the transaction rolled
            # back whole, so store the group again with each customer's drafts flushed in its own savepoint.
            log.warning("campaigns.group_store_retried", extra={"campaign_id": self.campaign.id, "group": len(group)})
        with write(self.factory) as session:
            return self._store_in(session, group, flush_each=True)

    def _store_in(
        self, session: Session, group: list[_Finished], *, flush_each: bool
    ) -> list[list[str] | Exception | None]:
        """Each customer in a savepoint of its own: the consent re-check and the targets' final status, and (with
        ``flush_each``) its drafts. Without it the drafts of every stored customer are added after the savepoints
        and written in one flush for the group (one INSERT per table instead of one per customer)."""
        out: list[list[str] | Exception | None] = [None] * len(group)
        stored: list[tuple[_Finished, set[Channel]]] = []
        policies = self.engine.brand(session, self.campaign.workspace_id).policies  # cached: not per customer
        snapshots = _lock_for_store(session, [item.leased.customer_pk for item in group], utcnow(), policies)
        for i in sorted(range(len(group)), key=lambda k: group[k].leased.customer_pk):
            item = group[i]
            savepoint = session.begin_nested()
            try:
                gate_input = snapshots[item.leased.customer_pk]
                allowed = _store_customer(
                    session, self.campaign, item.leased, self.worker_id, item.finals, item.now, gate_input
                )
                if allowed is not None and flush_each:
                    with new_drafts(session) as batch:
                        self._store_drafts(session, item, allowed, batch)
            except Exception as exc:  # this customer only: the others of the group are kept
                savepoint.rollback()
                out[i] = exc
                continue
            if allowed is None:  # the lease was lost: nothing of this customer is stored
                savepoint.rollback()
                continue
            savepoint.commit()
            out[i] = [f.status for f in item.finals.values()]
            stored.append((item, allowed))
        if not flush_each:
            with new_drafts(session) as batch:  # one flush, and one INSERT per table, for the whole group
                for item, allowed in stored:
                    self._store_drafts(session, item, allowed, batch)
        return out

    def _store_drafts(self, session: Session, item: _Finished, allowed: set[Channel], batch: NewDrafts) -> None:
        """Add the drafts of the channels still allowed to ``batch``."""
        keep = [g for g in item.generated if g.plan.channel in allowed]
        if not keep:
            return
        campaign = self.campaign
        policy = item.prepared.review_policy.model_copy(update={"sample_rate": self.approval.sample_rate})
        req = DraftRequest(
            customer_id=item.leased.external_id,
            channels=[g.plan.channel for g in keep],
            brief=self.brief,
            variants=campaign.variants,
        )
        persist_generated(
            session,
            campaign.workspace_id,
            replace(item.prepared, review_policy=policy),
            keep,
            req,
            request_id=campaign.id,
            actor="system",
            campaign_id=campaign.id,
            campaign_mode=self.approval.mode,
            rng=self.rng,
            batch=batch,
        )


def _load_campaign(factory: sessionmaker[Session], campaign_id: str) -> Campaign:
    with read(factory) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found", field="campaign_id")
        return campaign


def _start(factory: sessionmaker[Session], campaign_id: str) -> bool:
    """queued -> running (with its start time); True while the campaign is running."""
    with write(factory) as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == "queued")
            .values(status="running", started_at=utcnow())
        )
        return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == "running"


def run_chunk(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    campaign_id: str,
    *,
    worker_id: str | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> ChunkReport | None:
    """Lease one chunk and draft it; None when there was nothing to lease (or the campaign is not running)."""
    campaign = _load_campaign(factory, campaign_id)
    if campaign.status != "running":
        return None
    worker_id = worker_id or new_worker_id()
    settings = engine.settings
    customers = lease_chunk(factory, campaign, worker_id, settings.campaign_chunk_size, settings.campaign_lease_s)
    if not customers:
        return None
    chunk = _ChunkRun(engine, factory, campaign, worker_id, rng, stop)
    return background_loop().run(chunk.run(customers))


def _remaining(factory: sessionmaker[Session], campaign_id: str) -> tuple[int, int, datetime | None]:
    """(pending, leased, the earliest lease expiry)."""
    with read(factory) as session:
        pending = session.scalar(
            select(func.count()).where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "pending")
        )
        leased, earliest = session.execute(
            select(func.count(), func.min(CampaignTarget.lease_expires_at)).where(
                CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "leased"
            )
        ).one()
    return int(pending or 0), int(leased or 0), earliest


def _finish_if_done(factory: sessionmaker[Session], campaign_id: str) -> bool:
    """Mark the campaign completed once no target is pending or leased; True if it has none left."""
    with write(factory) as session:
        left = session.scalar(
            select(func.count()).where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status.in_(UNFINISHED))
        )
        if left:
            return False
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status.in_(ACTIVE))
            .values(status="completed", finished_at=utcnow())
        )
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == "cancelled", Campaign.finished_at.is_(None))
            .values(finished_at=utcnow())
        )
        return True


def drain(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    campaign_id: str,
    *,
    worker_id: str | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
    max_chunks: int | None = None,
    on_chunk: Callable[[ChunkReport], None] | None = None,
) -> None:
    """Lease and draft chunks until none is left (at most ``max_chunks``), leasing the next while the last are
    still being drafted (``_ChunkRun.pipeline``); then wait for the chunks other workers hold to finish, or to
    expire and be taken here, and mark the campaign completed."""
    worker_id = worker_id or new_worker_id()
    done = 0
    while not (stop and stop.is_set()):
        if max_chunks is not None and done >= max_chunks:
            return
        campaign = _load_campaign(factory, campaign_id)
        if campaign.status == "running":
            run = _ChunkRun(engine, factory, campaign, worker_id, rng, stop)
            chunks = background_loop().run(run.pipeline(None if max_chunks is None else max_chunks - done, on_chunk))
            if chunks:
                done += chunks
                continue
            campaign = _load_campaign(factory, campaign_id)
        if campaign.status != "running":
            _finish_if_done(factory, campaign_id)
            return
        pending, leased, earliest = _remaining(factory, campaign_id)
        if pending:
            continue  # released by a paused/stopped worker a moment ago
        if not leased:
            _finish_if_done(factory, campaign_id)
            return
        # Others hold the last chunks: wait for them, or for a dead worker's lease to expire (then lease it here).
        wait = (earliest - utcnow()).total_seconds() if earliest is not None else 1.0
        time.sleep(min(max(wait, 0.05), 1.0))


def run_campaign(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    campaign_id: str,
    *,
    stop: threading.Event | None = None,
    rng: random.Random | None = None,
    on_chunk: Callable[[ChunkReport], None] | None = None,
) -> None:
    """Work through the campaign in this process until it is finished (the foreground worker of
    ``copyloom campaigns run``); safe beside other workers, and again after a crash."""
    _load_campaign(factory, campaign_id)  # 404 first
    if not _start(factory, campaign_id):
        return
    drain(engine, factory, campaign_id, worker_id=new_worker_id(), rng=rng, stop=stop, on_chunk=on_chunk)


def submit_chunks(factory: sessionmaker[Session], runner: TaskRunner, campaign_id: str, chunk_size: int) -> int:
    """One ``campaign.chunk`` task per chunk of unfinished customers; returns how many were submitted."""
    with read(factory) as session:
        customers = session.scalar(
            select(func.count(func.distinct(CampaignTarget.customer_id))).where(
                CampaignTarget.campaign_id == campaign_id, CampaignTarget.status.in_(UNFINISHED)
            )
        )
    chunks = max(1, math.ceil(int(customers or 0) / chunk_size))
    for i in range(chunks):
        runner.submit("campaign.chunk", {"campaign_id": campaign_id, "chunk": i})
    return chunks


@task("campaign.run")
def _run_campaign_task(ctx: TaskContext, payload: dict[str, object]) -> None:
    campaign_id = str(payload["campaign_id"])
    if not _start(ctx.session_factory, campaign_id):
        return
    if ctx.runner is None:
        drain(ctx.engine, ctx.session_factory, campaign_id, worker_id=new_worker_id(), stop=ctx.stop)
        return
    submit_chunks(ctx.session_factory, ctx.runner, campaign_id, ctx.engine.settings.campaign_chunk_size)


@task("campaign.chunk")
def _run_chunk_task(ctx: TaskContext, payload: dict[str, object]) -> None:
    """Draft one chunk; the task that finds nothing left to lease sees the campaign to its end."""
    campaign_id = str(payload["campaign_id"])
    drain(ctx.engine, ctx.session_factory, campaign_id, worker_id=new_worker_id(), max_chunks=1, stop=ctx.stop)
    pending, _, _ = _remaining(ctx.session_factory, campaign_id)
    if not pending and not (ctx.stop and ctx.stop.is_set()):
        drain(ctx.engine, ctx.session_factory, campaign_id, worker_id=new_worker_id(), stop=ctx.stop)


def resume_unfinished(session: Session, runner: TaskRunner) -> list[str]:
    """Re-submit every campaign a previous process left queued or running."""
    ids = list(session.scalars(select(Campaign.id).where(Campaign.status.in_(ACTIVE))))
    for campaign_id in ids:
        runner.submit("campaign.run", {"campaign_id": campaign_id})
    return ids


def _campaign_for_update(session: Session, workspace_id: str, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found", field="campaign_id")
    return campaign


def _refuse(campaign: Campaign, action: str) -> Conflict:
    return Conflict(
        f"campaign {campaign.id} is {campaign.status}: it cannot be {action}",
        code="campaign_state",
        field="status",
        details={"status": campaign.status},
    )


def pause_campaign(session: Session, workspace_id: str, campaign_id: str) -> bool:
    """Stop leasing new chunks; customers being drafted finish. Idempotent."""
    campaign = _campaign_for_update(session, workspace_id, campaign_id)
    if campaign.status == "paused":
        return False
    if campaign.status not in ACTIVE:
        raise _refuse(campaign, "paused")
    campaign.status = CampaignStatus.PAUSED
    return True


def resume_campaign(session: Session, workspace_id: str, campaign_id: str) -> bool:
    """paused -> running; the caller submits ``campaign.run`` after the commit."""
    campaign = _campaign_for_update(session, workspace_id, campaign_id)
    if campaign.status in ACTIVE:
        return False
    if campaign.status != "paused":
        raise _refuse(campaign, "resumed")
    campaign.status = CampaignStatus.RUNNING
    return True


def cancel_campaign(session: Session, workspace_id: str, campaign_id: str) -> int:
    """End the campaign: its pending targets become ``cancelled`` (leased ones when their worker notices);
    drafts already made stay. Returns the targets cancelled now."""
    campaign = _campaign_for_update(session, workspace_id, campaign_id)
    if campaign.status == "cancelled":
        return 0
    if campaign.status == "completed":
        raise _refuse(campaign, "cancelled")
    campaign.status = CampaignStatus.CANCELLED
    result = session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "pending")
        .values(status="cancelled", finished_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_failed(session: Session, workspace_id: str, campaign_id: str) -> int:
    """Failed targets back to pending and the campaign running again; the caller submits ``campaign.run``."""
    campaign = _campaign_for_update(session, workspace_id, campaign_id)
    if campaign.status == "cancelled":
        raise _refuse(campaign, "retried")
    result = session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "failed")
        .values(status="pending", reason_code=None, message=None, finished_at=None)
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count and campaign.status in ("completed", "failed", "queued"):
        campaign.status = CampaignStatus.RUNNING
        campaign.finished_at = None
    return count


def campaign_out(session: Session, workspace_id: str, campaign_id: str) -> CampaignOut:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found", field="campaign_id")
    by_status: dict[str, int] = dict(
        session.execute(
            select(CampaignTarget.status, func.count())
            .where(CampaignTarget.campaign_id == campaign_id)
            .group_by(CampaignTarget.status)
        )
        .tuples()
        .all()
    )
    reasons: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for status, reason, count in session.execute(
        select(CampaignTarget.status, CampaignTarget.reason_code, func.count())
        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status.in_(("suppressed", "failed")))
        .group_by(CampaignTarget.status, CampaignTarget.reason_code)
    ):
        (reasons if status == "suppressed" else failures)[str(reason)] += int(count)
    calls, tokens, cost = session.execute(
        select(
            func.coalesce(func.sum(CampaignTarget.model_calls), 0),
            func.coalesce(func.sum(CampaignTarget.tokens), 0),
            func.coalesce(func.sum(CampaignTarget.cost_usd), 0),
        ).where(CampaignTarget.campaign_id == campaign_id)
    ).one()
    now = utcnow()
    window_start = now - timedelta(seconds=_RATE_WINDOW_S)
    if campaign.started_at is not None and campaign.started_at > window_start:
        window_start = campaign.started_at
    recent = session.scalar(
        select(func.count()).where(
            CampaignTarget.campaign_id == campaign_id, CampaignTarget.finished_at >= window_start
        )
    )
    elapsed = (now - window_start).total_seconds()
    drafts = dict(
        session.execute(
            select(Draft.status, func.count())
            .where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))
            .group_by(Draft.status)
        )
        .tuples()
        .all()
    )
    total = sum(by_status.values())
    finished = sum(by_status.get(s, 0) for s in FINISHED)
    unfinished = total - finished
    rate = (int(recent or 0) / elapsed) if campaign.started_at is not None and elapsed >= 1.0 else None
    progress = CampaignProgress(
        total=total,
        pending=by_status.get("pending", 0),
        leased=by_status.get("leased", 0),
        done=by_status.get("done", 0),
        suppressed=by_status.get("suppressed", 0),
        failed=by_status.get("failed", 0),
        cancelled=by_status.get("cancelled", 0),
        percent=round(100.0 * finished / total, 1) if total else 100.0,
        drafts_by_status={str(k): int(v) for k, v in drafts.items()},
        suppressed_by_reason=dict(reasons),
        failed_by_reason=dict(failures),
        targets_per_s=round(rate, 2) if rate is not None else None,
        eta_s=round(unfinished / rate, 1) if rate and unfinished and campaign.status in ACTIVE else None,
        model_calls=int(calls),
        tokens=int(tokens),
        cost_usd=Decimal(str(cost)),
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
    )
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        channels=[Channel(c) for c in campaign.channels],
        variants=campaign.variants,
        approval=Approval.model_validate(campaign.approval),
        brief=Brief.model_validate(campaign.brief),
        control_draft_ids=campaign.control,
        progress=progress,
        error=campaign.error,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )
