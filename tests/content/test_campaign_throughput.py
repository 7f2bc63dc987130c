"""A worker's drain keeps leasing while it drafts (no stall at a chunk's end), stores every target once, bounds
the customers it drafts and holds, and still honours pause, cancel and stop in the middle of a chunk.

The generator here is the offline one behind a wrapper that counts calls in flight and lets a test act at a given
call (pause the campaign, hold one customer back): every assertion is on the database or on those counts, none on
time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.campaigns.schemas import CampaignCreate
from copyloom.content.campaigns.service import (
    _ChunkRun,
    cancel_campaign,
    create_campaign,
    customers_in_flight,
    pause_campaign,
    resume_campaign,
    run_campaign,
)
from copyloom.content.engine import ContentEngine
from copyloom.db import read, write
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest
from copyloom.models import Campaign, CampaignTarget, Consent, Customer, Draft, utcnow

CHANNELS = ["email", "sms"]


class CountingGenerator:
    """The offline generator, with its calls in flight counted and a hook run (on the loop thread) at each call."""

    def __init__(self, inner: Generator, hook: Callable[[int, GenerationRequest], Any] | None = None) -> None:
        self.inner = inner
        self.hook = hook
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.customers: list[str] = []

    @property
    def kind(self) -> str:
        return self.inner.kind

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.customers.append(request.bundle.customer.external_id)
        try:
            if self.hook is not None:
                waited = self.hook(self.calls, request)
                if asyncio.iscoroutine(waited):
                    await waited
            await asyncio.sleep(0.005)  # a model takes time: let the other customers' calls overlap
            return await self.inner.generate(request)
        finally:
            self.in_flight -= 1

    async def refine(self, request: RefineRequest) -> GenerationResult:
        return await self.inner.refine(request)


def _seed(factory: sessionmaker[Session], n: int) -> None:
    with write(factory) as s:
        for i in range(n):
            c = Customer(
                workspace_id="acme",
                external_id=f"T{i:04d}",
                name=f"Robin Lee{i}",
                locale="en",
                time_zone="UTC",
                country="US",
                attributes={"wave": "throughput"},
            )
            s.add(c)
            s.flush()
            for purpose in ("marketing", "personalization"):
                for channel in CHANNELS:
                    s.add(
                        Consent(
                            workspace_id="acme",
                            customer_id=c.id,
                            purpose=purpose,
                            channel=channel,
                            status="granted",
                            recorded_at=c.created_at,
                            source="test",
                        )
                    )


def _campaign(factory: sessionmaker[Session], engine: ContentEngine) -> str:
    body = CampaignCreate.model_validate(
        {
            "name": "throughput",
            "brief": {"goal": "cross_sell", "instructions": "spring hiking"},
            "channels": CHANNELS,
            "variants": 1,
            "audience": {"filter": {"attributes": {"wave": "throughput"}}},
            "approval": {"mode": "all"},
        }
    )
    with write(factory) as s:
        return create_campaign(s, engine, "acme", body).id


def _by_status(factory: sessionmaker[Session], campaign_id: str) -> dict[str, int]:
    with read(factory) as s:
        rows = s.execute(
            select(CampaignTarget.status, func.count())
            .where(CampaignTarget.campaign_id == campaign_id)
            .group_by(CampaignTarget.status)
        )
        return {str(k): int(v) for k, v in rows.tuples().all()}


def _drafts_per_target(factory: sessionmaker[Session], campaign_id: str) -> dict[tuple[int, str], int]:
    with read(factory) as s:
        rows = s.execute(
            select(Draft.customer_id, Draft.channel, func.count())
            .where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))
            .group_by(Draft.customer_id, Draft.channel)
        )
        return {(int(c), str(ch)): int(n) for c, ch, n in rows.tuples().all()}


def _done_targets(factory: sessionmaker[Session], campaign_id: str) -> set[tuple[int, str]]:
    with read(factory) as s:
        rows = s.execute(
            select(CampaignTarget.customer_id, CampaignTarget.channel).where(
                CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "done"
            )
        )
        return {(int(c), str(ch)) for c, ch in rows.tuples().all()}


def _leased(factory: sessionmaker[Session], campaign_id: str) -> int:
    with read(factory) as s:
        return int(
            s.scalar(
                select(func.count()).where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "leased")
            )
            or 0
        )


def _configure(engine: ContentEngine, generator: CountingGenerator, *, chunk: int, concurrency: int) -> None:
    engine.settings = engine.settings.model_copy(
        update={"campaign_chunk_size": chunk, "model_concurrency": concurrency}
    )
    engine.generator = generator


def test_every_target_is_stored_once_and_the_drafting_is_bounded(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    chunk, concurrency, customers = 5, 4, 40
    window = customers_in_flight(concurrency, len(CHANNELS))
    peak_leased = 0
    campaign_id = ""

    def watch(call: int, request: GenerationRequest) -> None:
        nonlocal peak_leased
        if call % 3 == 0:
            peak_leased = max(peak_leased, _leased(session_factory, campaign_id))

    generator = CountingGenerator(content_engine.generator, watch)
    _configure(content_engine, generator, chunk=chunk, concurrency=concurrency)
    _seed(session_factory, customers)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id)

    assert _by_status(session_factory, campaign_id) == {"done": customers * len(CHANNELS)}
    drafts = _drafts_per_target(session_factory, campaign_id)
    assert set(drafts) == _done_targets(session_factory, campaign_id)
    assert set(drafts.values()) == {1}  # one variant per target, never a second copy
    assert generator.calls >= customers * len(CHANNELS)
    # At most `window` customers are drafted at once, each with its channels' calls ...
    assert 1 < generator.max_in_flight <= window * len(CHANNELS)
    # ... and a worker holds at most the window plus one and a half chunks of customers.
    assert 0 < peak_leased <= (window + chunk + chunk // 2) * len(CHANNELS)
    with read(session_factory) as s:
        assert s.get(Campaign, campaign_id).status == "completed"  # type: ignore[union-attr]


def test_the_next_chunk_is_drafted_while_a_slow_customer_of_the_last_one_is_still_out(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    """One customer of the first chunk takes until customers of three later chunks have been drafted. A drain that
    waits for a chunk's slowest customer before leasing the next never gets there (the hold gives up after 30 s and
    the test fails)."""
    chunk, customers = 4, 24
    released = asyncio.Event()
    held: list[str] = []
    later: set[str] = set()

    async def hold_first(call: int, request: GenerationRequest) -> None:
        who = request.bundle.customer.external_id
        if call == 1:  # whichever customer's call comes first is the slow one
            held.append(who)
            try:
                await asyncio.wait_for(released.wait(), timeout=30)
            except TimeoutError:
                held.append("gave up")
            return
        # Customers are leased in order: three chunks past the held one were leased after its chunk.
        if int(who[1:]) >= int(held[0][1:]) + 3 * chunk:
            later.add(who)
            if len(later) >= chunk:
                released.set()

    generator = CountingGenerator(content_engine.generator, hold_first)
    _configure(content_engine, generator, chunk=chunk, concurrency=8)
    _seed(session_factory, customers)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id)

    assert len(held) == 1  # released by later customers, not by giving up
    assert _by_status(session_factory, campaign_id) == {"done": customers * len(CHANNELS)}
    assert set(_drafts_per_target(session_factory, campaign_id).values()) == {1}


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_pause_and_cancel_in_the_middle_of_a_drain(
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
) -> None:
    monkeypatch.setattr(_ChunkRun, "status_ttl_s", 0.0)  # each customer reads the status as it starts
    chunk, concurrency, customers = 6, 4, 60
    window = customers_in_flight(concurrency, len(CHANNELS))
    campaign_id = ""
    acted_at_call = 0

    def act(call: int, request: GenerationRequest) -> None:
        nonlocal acted_at_call
        if call == 20:
            with write(session_factory) as s:
                (pause_campaign if action == "pause" else cancel_campaign)(s, "acme", campaign_id)
            acted_at_call = call

    generator = CountingGenerator(content_engine.generator, act)
    _configure(content_engine, generator, chunk=chunk, concurrency=concurrency)
    _seed(session_factory, customers)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id)

    assert acted_at_call == 20
    statuses = _by_status(session_factory, campaign_id)
    assert "leased" not in statuses, statuses  # nothing is left held by the worker that stopped
    done = statuses.get("done", 0)
    # Customers being drafted when the campaign stopped finish; no other starts (each waiting one sees the status
    # when it gets a place, and gives its rows back).
    assert 0 < done < customers * len(CHANNELS) // 2
    started_after = set(generator.customers[acted_at_call:]) - set(generator.customers[:acted_at_call])
    assert len(started_after) <= window
    drafts = _drafts_per_target(session_factory, campaign_id)
    assert set(drafts) == _done_targets(session_factory, campaign_id)
    assert set(drafts.values()) == {1}
    if action == "cancel":
        assert statuses.get("pending", 0) == 0
        assert done + statuses.get("cancelled", 0) == customers * len(CHANNELS)
        return
    assert statuses.get("pending", 0) + done == customers * len(CHANNELS)
    with write(session_factory) as s:
        assert resume_campaign(s, "acme", campaign_id)
    run_campaign(content_engine, session_factory, campaign_id)
    assert _by_status(session_factory, campaign_id) == {"done": customers * len(CHANNELS)}
    drafts = _drafts_per_target(session_factory, campaign_id)
    assert len(drafts) == customers * len(CHANNELS) and set(drafts.values()) == {1}


def test_stop_gives_the_leased_customers_back(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    """Ctrl-C of ``copyloom campaigns run`` (``stop``): customers being drafted are stored, the others it leased
    go back to pending at once (not after their lease expires), and another run finishes the campaign."""
    stop = threading.Event()
    campaign_id = ""

    def interrupt(call: int, request: GenerationRequest) -> None:
        if call == 10:
            stop.set()

    generator = CountingGenerator(content_engine.generator, interrupt)
    _configure(content_engine, generator, chunk=8, concurrency=4)
    _seed(session_factory, 40)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id, stop=stop)

    statuses = _by_status(session_factory, campaign_id)
    assert "leased" not in statuses and statuses.get("pending", 0) > 0 and statuses.get("done", 0) > 0, statuses
    generator.hook = None
    run_campaign(content_engine, session_factory, campaign_id)
    assert _by_status(session_factory, campaign_id) == {"done": 80}
    assert set(_drafts_per_target(session_factory, campaign_id).values()) == {1}


def _target_rows(s: Session, campaign_id: str) -> list[Any]:
    """(customer's external id, target status, reason code) of each of the campaign's targets."""
    return list(
        s.execute(
            select(Customer.external_id, CampaignTarget.status, CampaignTarget.reason_code)
            .join(Customer, Customer.id == CampaignTarget.customer_id)
            .where(CampaignTarget.campaign_id == campaign_id)
        ).all()
    )


def test_a_group_store_keeps_each_customer_whole_whatever_the_others_do(
    content_engine: ContentEngine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finished customers are stored in one transaction per group, each in its own savepoint: a customer whose
    lease another worker took stores nothing, one whose store fails half-way leaves nothing behind, and the
    others of the group are stored."""
    from copyloom.content.campaigns import service

    _seed(session_factory, 4)
    campaign_id = _campaign(session_factory, content_engine)
    with write(session_factory) as s:
        s.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="running"))
    campaign = service._load_campaign(session_factory, campaign_id)
    leased = service.lease_chunk(session_factory, campaign, "me", 4, 60.0)
    kept, stolen, broken, last = leased
    with write(session_factory) as s:  # another worker took this customer after this lease expired
        s.execute(
            update(CampaignTarget)
            .where(CampaignTarget.id.in_(list(stolen.targets.values())))
            .values(lease_owner="other")
        )
    real = service._store_customer

    def store(session: Session, campaign: Any, customer: Any, *args: Any) -> Any:
        stored = real(session, campaign, customer, *args)  # its rows are moved to their final status …
        if customer is broken:
            raise RuntimeError("the database went away")  # … and then the store fails
        return stored

    monkeypatch.setattr(service, "_store_customer", store)
    run = _ChunkRun(content_engine, session_factory, campaign, "me", None, None)
    loop = asyncio.new_event_loop()
    try:
        group = [
            service._Finished(
                c,
                {ch: service._Final("failed", "model_error", "no answer") for ch in c.targets},
                None,
                [],
                utcnow(),
                loop.create_future(),
            )
            for c in leased
        ]
        results = run._store_group(group)
    finally:
        loop.close()

    assert results[0] == results[3] == ["failed", "failed"]
    assert results[1] is None
    assert isinstance(results[2], RuntimeError)
    with read(session_factory) as s:
        rows = s.execute(
            select(CampaignTarget.customer_id, CampaignTarget.status, CampaignTarget.lease_owner).where(
                CampaignTarget.campaign_id == campaign_id
            )
        ).all()
    by_customer: dict[int, set[tuple[str, str | None]]] = {}
    for pk, status, owner in rows:
        by_customer.setdefault(int(pk), set()).add((str(status), owner))
    assert by_customer[kept.customer_pk] == by_customer[last.customer_pk] == {("failed", None)}
    assert by_customer[stolen.customer_pk] == {("leased", "other")}
    assert by_customer[broken.customer_pk] == {("leased", "me")}  # rolled back whole: still this worker's lease


def test_drafts_that_break_the_group_flush_fail_only_their_customer(
    content_engine: ContentEngine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's drafts are written in one flush after the customers' savepoints. When one customer's drafts break
    it, the group is stored again with each customer's drafts in a savepoint of its own: that customer fails,
    every other one keeps its drafts, and nothing of the broken one is left behind."""
    from copyloom.content.campaigns import service

    generator = CountingGenerator(content_engine.generator)
    _configure(content_engine, generator, chunk=8, concurrency=8)
    _seed(session_factory, 12)
    campaign_id = _campaign(session_factory, content_engine)
    real = service.persist_generated
    broken_calls = 0

    def persist(session: Session, workspace_id: str, prepared: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal broken_calls
        if prepared.customer_external_id == "T0003":
            broken_calls += 1
            session.add(Draft(workspace_id=workspace_id))  # no customer, channel, …: the flush that writes it fails
        return real(session, workspace_id, prepared, *args, **kwargs)

    monkeypatch.setattr(service, "persist_generated", persist)

    run_campaign(content_engine, session_factory, campaign_id)

    assert broken_calls >= 1
    with read(session_factory) as s:
        rows = _target_rows(s, campaign_id)
        broken_drafts = s.scalar(
            select(func.count())
            .select_from(Draft)
            .join(Customer, Customer.id == Draft.customer_id)
            .where(Draft.campaign_id == campaign_id, Customer.external_id == "T0003")
        )
    assert {(status, reason) for ext, status, reason in rows if ext == "T0003"} == {("failed", "internal_error")}
    assert {status for ext, status, _ in rows if ext != "T0003"} == {"done"}
    assert broken_drafts == 0
    drafts = _drafts_per_target(session_factory, campaign_id)
    assert set(drafts) == _done_targets(session_factory, campaign_id)
    assert set(drafts.values()) == {1}


def test_a_consent_withdrawn_while_the_draft_is_written_stores_it_suppressed(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    """The gate runs with the customers' batch before generation; the store re-checks consent for its whole group
    under the customers' row locks: a withdrawal recorded during the model call keeps that draft out (issue 13)."""
    from copyloom.domain.consents import ConsentIn, record_consent

    withdrawn = "T0003"

    def withdraw(call: int, request: GenerationRequest) -> None:
        if request.bundle.customer.external_id == withdrawn and request.channel == "email":
            with write(session_factory) as s:
                record_consent(
                    s,
                    "acme",
                    ConsentIn(customer_id=withdrawn, purpose="marketing", channel="email", status="withdrawn"),
                )

    generator = CountingGenerator(content_engine.generator, withdraw)
    _configure(content_engine, generator, chunk=4, concurrency=4)
    _seed(session_factory, 8)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id)

    with read(session_factory) as s:
        pk = s.scalars(select(Customer.id).where(Customer.external_id == withdrawn)).one()
        rows = s.execute(
            select(
                CampaignTarget.customer_id, CampaignTarget.channel, CampaignTarget.status, CampaignTarget.reason_code
            ).where(CampaignTarget.campaign_id == campaign_id)
        ).all()
    statuses = {(int(c), str(ch)): (str(st), rc) for c, ch, st, rc in rows}
    assert statuses.pop((pk, "email")) == ("suppressed", "no_consent")
    assert {st for st, _ in statuses.values()} == {"done"}
    drafts = _drafts_per_target(session_factory, campaign_id)
    assert (pk, "email") not in drafts
    assert set(drafts) == _done_targets(session_factory, campaign_id)


def test_a_customer_that_breaks_its_prepare_batch_fails_alone(
    content_engine: ContentEngine, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customers starting together are gated and given their facts in one batch (``prepare_many``); a customer
    whose preparation raises (a bug, a broken row) is prepared again alone and fails alone."""
    from copyloom.content.campaigns import service

    broken = "T0001"
    real = service.prepare_many
    batches: list[int] = []

    def prepare_many(session: Session, engine: Any, workspace_id: str, reqs: Any, now: Any) -> Any:
        batches.append(len(reqs))
        if any(r.customer_id == broken for r in reqs):
            raise RuntimeError("a broken row")
        return real(session, engine, workspace_id, reqs, now)

    monkeypatch.setattr(service, "prepare_many", prepare_many)
    _configure(content_engine, CountingGenerator(content_engine.generator), chunk=4, concurrency=4)
    _seed(session_factory, 6)
    campaign_id = _campaign(session_factory, content_engine)

    run_campaign(content_engine, session_factory, campaign_id)

    assert max(batches) > 1  # customers were prepared together
    with read(session_factory) as s:
        rows = _target_rows(s, campaign_id)
    assert {(ext, st, rc) for ext, st, rc in rows if ext == broken} == {(broken, "failed", "internal_error")}
    assert {st for ext, st, _ in rows if ext != broken} == {"done"}


@pytest.mark.parametrize(("group", "expected"), [(32, [4]), (2, [2, 2])])
def test_customers_that_finish_one_by_one_are_stored_together(
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    group: int,
    expected: list[int],
) -> None:
    """With a slow model, customers finish one by one: the store writer waits (up to STORE_LINGER_S after the
    first) for a full group, or for every customer being drafted to have finished, instead of writing a
    transaction per customer. Here the four customers finish 80 ms apart and the linger is long: one group of
    four (or two full groups of two), and no wait for the linger at the end."""
    from copyloom.content.campaigns import service

    monkeypatch.setattr(service, "STORE_LINGER_S", 60.0)
    monkeypatch.setattr(service, "STORE_GROUP", group)
    sizes: list[int] = []
    real = _ChunkRun._store_group

    def store_group(self: _ChunkRun, finished: list[Any]) -> Any:
        sizes.append(len(finished))
        return real(self, finished)

    monkeypatch.setattr(_ChunkRun, "_store_group", store_group)

    def stagger(call: int, request: GenerationRequest) -> Any:
        return asyncio.sleep(0.08 * int(request.bundle.customer.external_id[1:]))  # T0000 first, T0003 last

    generator = CountingGenerator(content_engine.generator, stagger)
    _configure(content_engine, generator, chunk=4, concurrency=8)  # all four drafted at once
    _seed(session_factory, 4)
    campaign_id = _campaign(session_factory, content_engine)

    started = time.monotonic()
    run_campaign(content_engine, session_factory, campaign_id)

    assert time.monotonic() - started < 30  # the last group did not wait for the linger
    assert sizes == expected
    assert _by_status(session_factory, campaign_id) == {"done": 8}
    assert set(_drafts_per_target(session_factory, campaign_id).values()) == {1}


def test_a_store_group_writes_its_audit_entries_in_one_insert(
    content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> None:
    """Every stored draft gets its trail's first three entries (generated, checked, routed), in that order, and a
    group writes them in one INSERT: as ORM objects, SQLite wrote one INSERT per entry (to read each id back)."""
    from sqlalchemy import event

    from copyloom.models import DraftEvent

    inserts = {"drafts": 0, "draft_events": 0}

    def watch(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        for table in inserts:
            if statement.lstrip().startswith(f"INSERT INTO {table} "):
                inserts[table] += 1

    generator = CountingGenerator(content_engine.generator)
    _configure(content_engine, generator, chunk=8, concurrency=8)
    _seed(session_factory, 12)
    campaign_id = _campaign(session_factory, content_engine)
    engine = session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", watch)
    try:
        run_campaign(content_engine, session_factory, campaign_id)
    finally:
        event.remove(engine, "before_cursor_execute", watch)

    assert _by_status(session_factory, campaign_id) == {"done": 24}
    with read(session_factory) as s:
        trails: dict[str, list[str]] = {}
        for draft_id, kind in s.execute(
            select(DraftEvent.draft_id, DraftEvent.kind)
            .join(Draft, Draft.id == DraftEvent.draft_id)
            .where(Draft.campaign_id == campaign_id)
            .order_by(DraftEvent.id)
        ):
            trails.setdefault(draft_id, []).append(kind)
    assert len(trails) == 24
    assert {tuple(kinds[:2]) for kinds in trails.values()} == {("generated", "checked")}
    assert {kinds[2] for kinds in trails.values()} <= {"queued", "blocked", "auto_approved"}
    assert {len(kinds) for kinds in trails.values()} == {3}
    assert 1 <= inserts["draft_events"] == inserts["drafts"]  # one per store group, never one per entry
