"""The worker's Celery app, built from the environment on first use, for Celery's own tools::

    celery -A copyloom.worker.main flower      # watch workers and tasks (pip install 'copyloom[flower]')
    celery -A copyloom.worker.main inspect active

``copyloom worker`` starts workers with this very app.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from copyloom.config import get_settings
from copyloom.worker.celery_app import create_celery_app

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["worker_app"]


@lru_cache(maxsize=1)
def worker_app() -> Celery:
    """Built once per process; raises when COPYLOOM_BROKER_URL is unset."""
    return create_celery_app(get_settings(), worker=True)


def __getattr__(name: str) -> Any:
    # `celery -A copyloom.worker.main` looks for a module attribute named `app`; building it at import would
    # need a broker setting in every process that imports this module.
    if name == "app":
        return worker_app()
    raise AttributeError(name)
