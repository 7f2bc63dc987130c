"""Every log line written while serving a request carries that request's id."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter
from fastapi.testclient import TestClient

from copyloom.logs import JsonFormatter


def test_log_lines_inside_a_request_carry_its_id(client: TestClient) -> None:
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(JsonFormatter().format(record))

    router = APIRouter()

    @router.get("/_log_probe")
    def probe() -> dict[str, bool]:  # a sync route: runs on a worker thread
        logging.getLogger("copyloom.test").warning("test.probe", extra={"detail": 1})
        return {"ok": True}

    client.app.include_router(router)  # type: ignore[attr-defined]
    logger = logging.getLogger("copyloom.test")
    handler = Capture()
    logger.addHandler(handler)
    try:
        r = client.get("/_log_probe", headers={"X-Request-ID": "req-42"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(records[-1])
    assert r.headers["x-request-id"] == "req-42"
    assert line["event"] == "test.probe" and line["request_id"] == "req-42" and line["detail"] == 1
