"""Leasing a campaign's chunks from many workers at once, checked on the database: no target is ever leased by
two workers, a lease never holds more than the chunk size, and a customer's channels stay in one lease.

Run once on SQLite and once on PostgreSQL (``FOR UPDATE SKIP LOCKED``), from threads and from processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.content.campaigns.schemas import CampaignCreate
from copyloom.content.campaigns.service import (
    LeasedCustomer,
    _release,
    _start,
    create_campaign,
    lease_chunk,
    new_worker_id,
    run_chunk,
)
from copyloom.content.engine import ContentEngine
from copyloom.db import make_engine, make_session_factory, read, write
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest
from copyloom.models import Campaign, CampaignTarget, Customer, utcnow

pytestmark = pytest.mark.store

CHANNELS = ["email", "sms"]
CHUNK = 7
Lease = tuple[str, list[tuple[int, int]]]  # (worker id, [(customer pk, target id), ...])


def _campaign(factory: sessionmaker[Session], customers: int) -> str:
    from copyloom.domain.workspaces import create_workspace

    with write(factory) as s:
        create_workspace(s, "acme", "Acme Outdoor")
    with write(factory) as s:
        campaign = Campaign(
            workspace_id="acme",
            name="leases",
            brief={"goal": "cross_sell"},
            channels=CHANNELS,
            audience={},
            status="running",
        )
        s.add(campaign)
        pks = []
        for i in range(customers):
            customer = Customer(workspace_id="acme", external_id=f"L{i:04d}", name=f"Lee {i}")
            s.add(customer)
            s.flush()
            pks.append(customer.id)
        s.flush()
        s.add_all(
            CampaignTarget(campaign_id=campaign.id, customer_id=pk, channel=ch, status="pending")
            for pk in pks
            for ch in CHANNELS
        )
        return campaign.id


def _load(factory: sessionmaker[Session], campaign_id: str) -> Campaign:
    with read(factory) as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign


def _flat(leased: list[LeasedCustomer]) -> list[tuple[int, int]]:
    return [(c.customer_pk, t) for c in leased for t in c.targets.values()]


def _lease_until_empty(
    factory: sessionmaker[Session], campaign_id: str, start: threading.Barrier | None
) -> list[Lease]:
    """One worker leasing chunks until none is left (holding every lease: nothing is released or stored)."""
    campaign = _load(factory, campaign_id)
    worker = new_worker_id()
    out: list[Lease] = []
    if start is not None:
        start.wait(timeout=60)
    while leased := lease_chunk(factory, campaign, worker, CHUNK, lease_s=600):
        out.append((worker, _flat(leased)))
    return out


def _lease_in_process(url: str, campaign_id: str) -> list[Lease]:
    engine = make_engine(url)
    try:
        return _lease_until_empty(make_session_factory(engine), campaign_id, None)
    finally:
        engine.dispose()


def _check(factory: sessionmaker[Session], campaign_id: str, leases: list[Lease], customers: int) -> None:
    for _, rows in leases:
        assert len({pk for pk, _ in rows}) <= CHUNK, f"a lease of {len(rows)} rows for a chunk of {CHUNK}"
        assert len(rows) <= CHUNK * len(CHANNELS)
    taken = Counter(t for _, rows in leases for _, t in rows)
    twice = {t: n for t, n in taken.items() if n > 1}
    assert not twice, f"targets leased more than once: {twice}"
    # A customer's channels are leased together (one gate and one facts bundle per customer).
    lease_of_customer: dict[int, set[int]] = {}
    for i, (_, rows) in enumerate(leases):
        for pk, _ in rows:
            lease_of_customer.setdefault(pk, set()).add(i)
    assert all(len(v) == 1 for v in lease_of_customer.values())
    with read(factory) as s:
        db = {
            r.id: (r.status, r.lease_owner)
            for r in s.execute(select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)).scalars()
        }
    assert len(db) == customers * len(CHANNELS)
    owner_of = {t: worker for worker, rows in leases for _, t in rows}
    assert set(owner_of) == set(db), "every target leased exactly once"
    assert all(db[t] == ("leased", owner) for t, owner in owner_of.items())


def test_threads_leasing_at_once_never_share_a_target(session_factory: sessionmaker[Session]) -> None:
    customers = 120
    campaign_id = _campaign(session_factory, customers)
    start = threading.Barrier(8)
    results: list[list[Lease]] = [[] for _ in range(8)]

    def work(i: int) -> None:
        results[i] = _lease_until_empty(session_factory, campaign_id, start)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    leases = [lease for r in results for lease in r]
    _check(session_factory, campaign_id, leases, customers)
    assert len({w for w, _ in leases}) > 1  # they did lease side by side


def test_processes_leasing_at_once_never_share_a_target(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    customers = 150
    campaign_id = _campaign(session_factory, customers)
    url = settings.effective_database_url
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_lease_in_process, url, campaign_id) for _ in range(3)]
        leases = [lease for f in futures for lease in f.result(timeout=300)]
    _check(session_factory, campaign_id, leases, customers)


def test_a_lease_takes_expired_rows_and_leaves_live_ones(session_factory: sessionmaker[Session]) -> None:
    campaign_id = _campaign(session_factory, 10)
    campaign = _load(session_factory, campaign_id)
    first = lease_chunk(session_factory, campaign, "a", 4, lease_s=600)
    second = lease_chunk(session_factory, campaign, "b", 4, lease_s=600)
    assert len(first) == len(second) == 4
    with write(session_factory) as s:  # worker a died: its lease ran out
        s.execute(
            update(CampaignTarget)
            .where(CampaignTarget.lease_owner == "a")
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    third = lease_chunk(session_factory, campaign, "c", 10, lease_s=600)
    with read(session_factory) as s:
        everyone = set(s.scalars(select(Customer.id)))
    taken_by_b = {c.customer_pk for c in second}
    assert {c.customer_pk for c in third} == everyone - taken_by_b  # a's expired rows and the untouched ones
    assert not {c.customer_pk for c in third} & {c.customer_pk for c in second}
    _release(session_factory, [t for c in second for t in c.targets.values()], "not-b")  # not b's to give back
    with read(session_factory) as s:
        owners = set(s.scalars(select(CampaignTarget.lease_owner).where(CampaignTarget.campaign_id == campaign_id)))
    assert owners == {"b", "c"}


class _LoopHog:
    """A generator that holds the event loop (CPU-bound work on it, as parsing and checking answers is) before
    answering: a heartbeat that needs the loop misses its renewals."""

    def __init__(self, inner: Generator, hold_s: float) -> None:
        self.inner = inner
        self.hold_s = hold_s

    @property
    def kind(self) -> str:
        return self.inner.kind

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        time.sleep(self.hold_s)  # blocks the loop on purpose
        return await self.inner.generate(request)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        return await self.inner.refine(request)


def test_leases_are_renewed_while_the_loop_is_busy_so_no_customer_is_taken_mid_draft(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    lease_s = 2.0
    content_engine.settings = content_engine.settings.model_copy(
        update={"campaign_lease_s": lease_s, "campaign_chunk_size": 3}
    )
    content_engine.generator = _LoopHog(content_engine.generator, hold_s=1.2)  # a customer: 2.4 s, over a lease
    with read(session_factory) as s:
        customers = list(s.scalars(select(Customer.external_id).where(Customer.workspace_id == "acme").limit(3)))
    body = CampaignCreate.model_validate(
        {
            "name": "busy",
            "brief": {"goal": "cross_sell"},
            "channels": CHANNELS,
            "audience": {"customer_ids": customers},
            "approval": {"mode": "all"},
        }
    )
    with write(session_factory) as s:
        campaign_id = create_campaign(s, content_engine, "acme", body).id
    assert _start(session_factory, campaign_id)
    campaign = _load(session_factory, campaign_id)
    stolen: list[LeasedCustomer] = []
    finished = threading.Event()

    def thief() -> None:  # another worker, leasing whatever has expired
        while not finished.wait(0.1):
            stolen.extend(lease_chunk(session_factory, campaign, "thief", 10, lease_s=600))

    other = threading.Thread(target=thief)
    other.start()
    try:
        report = run_chunk(content_engine, session_factory, campaign_id, worker_id="busy")
    finally:
        finished.set()
        other.join(timeout=60)
    assert report is not None and report.customers == len(customers)
    assert stolen == [] and report.lost == 0
    with read(session_factory) as s:
        statuses = Counter(s.scalars(select(CampaignTarget.status).where(CampaignTarget.campaign_id == campaign_id)))
    assert sum(statuses.values()) == len(customers) * len(CHANNELS)
    assert statuses["leased"] == statuses["pending"] == 0


@pytest.mark.parametrize("status", ["paused", "cancelled", "completed"])
def test_no_lease_once_the_campaign_is_no_longer_running(session_factory: sessionmaker[Session], status: str) -> None:
    """A worker holding the campaign as it was (its status check is cached) leases nothing after a pause: a suite
    run saw 12 targets drafted a second after the pause had returned with no lease held."""
    campaign_id = _campaign(session_factory, 4)
    stale = _load(session_factory, campaign_id)  # read while running
    with write(session_factory) as s:
        s.execute(update(Campaign).where(Campaign.id == campaign_id).values(status=status))
    assert lease_chunk(session_factory, stale, "w", 4, lease_s=600) == []
    with read(session_factory) as s:
        statuses = set(s.scalars(select(CampaignTarget.status).where(CampaignTarget.campaign_id == campaign_id)))
    assert statuses == {"pending"}
