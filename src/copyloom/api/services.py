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
from copyloom.content.tasks import TaskContext
from copyloom.worker import Runner, build_runner


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Vector store, embedder, generator: built by the lifespan (or on first use, for apps built in tests).
    content: ContentEngine | None = None
    # name -> a callable that raises when that backend is unreachable (used by /readyz).
    readiness_probes: dict[str, Callable[[], object]] = field(default_factory=dict)
    runner: Runner | None = None
    # Thompson sampling draws; tests give it a seed.
    rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def content_engine(self) -> ContentEngine:
        with self._lock:
            if self.content is None:
                self.content = build_content_engine(self.settings)
            return self.content

    def task_runner(self) -> Runner:
        """Celery when a broker is configured, else threads of this process (see ``copyloom.worker.runner``)."""
        with self._lock:
            if self.runner is not None:
                return self.runner
        # Built outside the lock: the in-process runner's context needs content_engine(), which takes it too.
        built = build_runner(self.settings, lambda: TaskContext(self.content_engine(), self.session_factory))
        with self._lock:
            if self.runner is None:
                self.runner = built
            elif built is not self.runner:
                built.shutdown()  # another thread built one first
            return self.runner

    def close(self) -> None:
        """Stop the task runner and close the content engine (``ContentEngine.close``). The database engine
        belongs to whoever built it."""
        with self._lock:
            runner, self.runner = self.runner, None
            content, self.content = self.content, None
        if runner is not None:
            runner.shutdown()
        if content is not None:
            content.close()
