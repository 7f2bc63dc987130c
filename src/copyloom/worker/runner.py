"""Which runner background tasks go to: Celery workers when a broker is configured, else threads of this process.

This is the one place that choice is made; the API (and anything else that submits work) calls ``build_runner``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from copyloom.config import Settings
from copyloom.content.tasks import InProcessRunner, TaskContext
from copyloom.errors import CopyloomError

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["BrokerUnavailable", "CeleryRunner", "Runner", "build_runner"]

log = logging.getLogger("copyloom.worker")


class BrokerUnavailable(CopyloomError):
    """The broker did not take the task; the work it stands for stays queued in the database (campaigns are
    submitted again when the API starts)."""

    status = 503
    default_code = "broker_unavailable"


class CeleryRunner:
    """Sends ``copyloom.run_task(name, payload)`` to the broker; a ``copyloom worker`` runs it."""

    def __init__(self, settings: Settings, app: Celery | None = None) -> None:
        from copyloom.worker.celery_app import create_celery_app

        self.settings = settings
        self.app = app or create_celery_app(settings)

    def submit(self, name: str, payload: dict[str, Any]) -> None:
        from kombu.exceptions import OperationalError

        from copyloom.worker.celery_app import TASK_NAME

        try:
            self.app.send_task(TASK_NAME, args=(name, payload), queue=self.settings.broker_queue)
        except OperationalError as exc:
            log.error("worker.submit.failed", extra={"task": name, "error": repr(exc)})
            raise BrokerUnavailable(f"the broker did not accept task {name!r}: {exc}") from exc
        log.debug("worker.submitted", extra={"task": name})

    def shutdown(self) -> None:
        self.app.close()


Runner = InProcessRunner | CeleryRunner


def build_runner(settings: Settings, context: Callable[[], TaskContext]) -> Runner:
    """``CeleryRunner`` when ``COPYLOOM_BROKER_URL`` is set, else an ``InProcessRunner`` on ``context()`` (which
    is only built then: a process that sends work to workers needs no content engine for it)."""
    if settings.broker_url is not None:
        return CeleryRunner(settings)
    return InProcessRunner(context())
