"""Reading ingestion bodies: one JSON object, a JSON array, or NDJSON (``Content-Type: application/x-ndjson``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from copyloom.domain.tabular import parse_json_batch, parse_ndjson

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines")


@dataclass(frozen=True)
class RowsBody:
    """The rows of a request and whether the caller sent one object (single-record semantics) or a batch."""

    rows: list[object]
    single: bool


async def read_rows_body(request: Request) -> RowsBody:
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in NDJSON_TYPES:
        return RowsBody(list(parse_ndjson(body.splitlines())), single=False)
    rows = parse_json_batch(body)
    return RowsBody(rows, single=body.lstrip()[:1] == b"{")


Rows = Annotated[RowsBody, Depends(read_rows_body)]
