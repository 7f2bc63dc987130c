"""Prometheus exposition.

Under ``copyloom serve --workers N`` every worker records into files of a shared folder
(``PROMETHEUS_MULTIPROC_DIR``, set by the supervisor) and ``/metrics`` sums them, so whichever worker answers the
scrape reports the whole server, not itself alone."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from copyloom.content.metrics import REGISTRY

router = APIRouter(tags=["operations"])


@router.get("/metrics", summary="Prometheus metrics (of all worker processes)", response_class=Response)
def metrics() -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
