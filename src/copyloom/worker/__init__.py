"""Background work at scale: the Celery app that runs copyloom's tasks in worker processes, and the choice of
runner (Celery with a broker, threads of the API process without one).

Importing this package does not import Celery: ``build_runner`` loads it only when a broker is configured.
"""

from copyloom.worker.runner import BrokerUnavailable, CeleryRunner, Runner, build_runner

__all__ = ["BrokerUnavailable", "CeleryRunner", "Runner", "build_runner"]
