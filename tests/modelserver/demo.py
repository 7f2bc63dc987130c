"""Facts bundles of the demo brand, built by copyloom's own retrieval, for the copy-quality tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.contracts.enums import Channel, Goal
from copyloom.contracts.facts import FactsBundle
from copyloom.db import write
from copyloom.domain.brief import Brief
from copyloom.domain.demo_data import CUSTOMERS, PRODUCTS
from copyloom.guardrails.context import CheckContext
from copyloom.models import utcnow
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore, make_chroma_client
from tests.fakes import WordHashEmbedder

CATALOGUE = tuple(p[1] for p in PRODUCTS)


@dataclass(frozen=True)
class Case:
    customer: str
    goal: Goal
    channel: Channel
    locale: str
    bundle: FactsBundle
    brief: Brief

    def context(self) -> CheckContext:
        return CheckContext(
            bundle=self.bundle, channel=self.channel.value, send_at=utcnow(), brief=self.brief, catalogue=CATALOGUE
        )

    def __str__(self) -> str:
        return f"{self.customer}/{self.goal.value}/{self.channel.value}/{self.locale}"


def demo_cases(
    session_factory: sessionmaker[Session], workspace: str, data_dir: Path, goals: Sequence[Goal] = tuple(Goal)
) -> Iterator[Case]:
    """Every demo customer in their own language (English customers in ``en``, Chinese ones in ``zh-CN``) x
    ``goals`` x every channel."""
    embedder = WordHashEmbedder()
    client = make_chroma_client(Settings(data_dir=data_dir))
    try:
        yield from _cases(session_factory, workspace, VectorStore(client, embedder), embedder, goals)
    finally:
        client.close()  # an open local client keeps about four descriptors for the rest of the run


def _cases(
    session_factory: sessionmaker[Session],
    workspace: str,
    store: VectorStore,
    embedder: WordHashEmbedder,
    goals: Sequence[Goal],
) -> Iterator[Case]:
    with write(session_factory) as s:
        index_workspace(s, store, embedder, workspace)
    now = utcnow()
    with write(session_factory) as session:
        for customer in CUSTOMERS:
            locale = customer.get("locale", "en")
            for goal in goals:
                brief = Brief(goal=goal)
                for channel in Channel:
                    bundle = build_bundle(
                        session,
                        store,
                        embedder,
                        workspace_id=workspace,
                        customer_external_id=customer["id"],
                        brief=brief,
                        channel=channel.value,
                        locale=locale,
                        now=now,
                    )
                    yield Case(customer["id"], goal, channel, locale, bundle, brief)
