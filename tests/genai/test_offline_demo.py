"""Offline generator × the demo brand: every customer × channel × goal × locale, bundles built by retrieval; the
checks include that no field of a variant names the same product twice (``checks.repeated_product_names``)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Channel, Goal
from copyloom.db import write
from copyloom.domain.brief import Brief
from copyloom.domain.demo_data import CUSTOMERS
from copyloom.genai import GenerationRequest, OfflineGenerator
from copyloom.models import utcnow
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore
from tests.fakes import WordHashEmbedder
from tests.genai.checks import problems


def test_every_demo_customer_channel_goal_and_locale(
    session_factory: sessionmaker[Session], demo_workspace: str, local_chroma: Any
) -> None:
    embedder = WordHashEmbedder()
    store = VectorStore(local_chroma, embedder)
    with write(session_factory) as s:
        index_workspace(s, store, embedder, demo_workspace)
    generator = OfflineGenerator()
    now = utcnow()
    failures: list[str] = []
    checked = cited = 0
    with write(session_factory) as session:
        for customer in (c["id"] for c in CUSTOMERS):
            for goal in Goal:
                brief = Brief(goal=goal)
                for channel in Channel:
                    for locale in ("en", "zh-CN"):
                        bundle = build_bundle(
                            session,
                            store,
                            embedder,
                            workspace_id=demo_workspace,
                            customer_external_id=customer,
                            brief=brief,
                            channel=channel.value,
                            locale=locale,
                            now=now,
                        )
                        request = GenerationRequest(bundle=bundle, brief=brief, channel=channel, n_variants=3)
                        result = asyncio.run(generator.generate(request))
                        assert result.generator.kind == "offline" and result.generator.locale == locale
                        for v in result.variants:
                            checked += 1
                            cited += bool(v.fact_ids)
                            failures += [
                                f"{customer}/{goal.value}/{channel.value}/{locale}: {p}"
                                for p in problems(v, bundle, channel, locale)
                            ]
    assert checked == len(CUSTOMERS) * len(Goal) * len(Channel) * 2 * 3
    assert not failures, "\n".join(failures[:40])
    assert cited > checked * 0.9, "nearly every variant should quote something from its bundle"
