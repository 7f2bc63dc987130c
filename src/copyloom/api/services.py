"""Heavy objects built once per process in the app lifespan and injected into routes."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.content.engine import ContentEngine, build_content_engine
from copyloom.content.tasks import InProcessRunner, TaskContext


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Vector store, embedder, generator: built by the lifespan (or on first use, for apps built in tests).
    content: ContentEngine | None = None
    # name -> a callable that raises when that backend is unreachable (used by /readyz).
    readiness_probes: dict[str, Callable[[], object]] = field(default_factory=dict)
    runner: InProcessRunner | None = None
    # Thompson sampling draws; tests give it a seed.
    rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def content_engine(self) -> ContentEngine:
        with self._lock:
            if self.content is None:
                self.content = build_content_engine(self.settings)
            return self.content

    def task_runner(self) -> InProcessRunner:
        engine = self.content_engine()
        with self._lock:
            if self.runner is None:
                self.runner = InProcessRunner(TaskContext(engine, self.session_factory))
            return self.runner
