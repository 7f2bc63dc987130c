"""Heavy objects built once per process in the app lifespan and injected into routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Filled by the libraries' factories (retrieval: embedder + vector store; genai: generator).
    extras: dict[str, Any] = field(default_factory=dict)
    # name -> a callable that raises when that backend is unreachable (used by /readyz).
    readiness_probes: dict[str, Callable[[], object]] = field(default_factory=dict)
