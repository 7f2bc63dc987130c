"""Reading import files: NDJSON, a JSON array, or CSV with a header row (optionally gzip-compressed).

CSV conventions (what ``copyloom import --help`` documents): one column per field; an empty cell means "not
sent"; list fields (``eligible_skus``, ``eligible_categories``) are separated by ``|``; object fields
(``attributes``, ``properties``, ``eligibility``) hold JSON, and columns named ``attributes.<key>`` or
``properties.<key>`` add one text entry each.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from copyloom.domain import safe_json
from copyloom.domain.imports import BadRow
from copyloom.errors import InvalidInput

LIST_FIELDS = frozenset({"eligible_skus", "eligible_categories"})
OBJECT_FIELDS = frozenset({"attributes", "properties", "eligibility"})


def parse_ndjson(lines: Iterable[str | bytes]) -> Iterator[object]:
    """One value per non-blank line; a line that is not JSON becomes a BadRow (skipped, the rest go on)."""
    for line in lines:
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            yield safe_json.loads(text)
        except InvalidInput as exc:
            yield BadRow(exc.code, exc.message.replace("the body", "the line", 1))


def parse_json_batch(body: bytes) -> list[object]:
    """A JSON array of rows (or one object, taken as a batch of one); malformed JSON raises InvalidInput."""
    value = safe_json.loads(body)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise InvalidInput("expected a JSON array of objects", code="invalid_input", field="body")
    return value


def csv_row_to_payload(row: dict[str, str]) -> object:
    """A CSV record as the dict the schemas validate; broken JSON in an object column becomes a BadRow."""
    payload: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None or cell == "":
            continue
        column = column.strip()
        prefix, dot, key = column.partition(".")
        if dot and prefix in OBJECT_FIELDS:
            payload.setdefault(prefix, {})[key] = cell
        elif column in LIST_FIELDS:
            payload[column] = [part.strip() for part in cell.split("|") if part.strip()]
        elif column in OBJECT_FIELDS:
            try:
                payload[column] = {**safe_json.loads(cell), **payload.get(column, {})}
            except (InvalidInput, TypeError):
                return BadRow("invalid_json", f"{column}: expected a JSON object")
        else:
            payload[column] = cell
    return payload


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def read_rows(path: Path) -> Iterator[object]:
    """The rows of an import file, by extension: .csv, .ndjson/.jsonl, .json (array); each may end in .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    kind = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else (suffixes or [""])[-1]
    if kind not in {".csv", ".ndjson", ".jsonl", ".json"}:
        raise InvalidInput(f"{path.name}: use a .csv, .ndjson, .jsonl or .json file", field="file")
    with _open_text(path) as handle:
        if kind == ".csv":
            for record in csv.DictReader(handle):
                yield csv_row_to_payload(record)
        elif kind == ".json":
            yield from parse_json_batch(handle.read().encode("utf-8"))
        else:
            yield from parse_ndjson(handle)


def read_ids(path: Path) -> list[str]:
    """Customer ids from a file: one a line (.txt or no extension; blank lines and ``#`` comments ignored), or
    the ``customer_id`` (else ``id``) of each row of a CSV/NDJSON/JSON file. Duplicates are dropped, order kept."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if not suffixes or suffixes[-1] == ".txt":
        with _open_text(path) as handle:
            ids = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    else:
        ids = []
        for number, row in enumerate(read_rows(path), start=1):
            value = row.get("customer_id", row.get("id")) if isinstance(row, dict) else None
            if value is None or not str(value).strip():
                raise InvalidInput(f"{path.name}: row {number} has no customer_id or id", field="customers")
            ids.append(str(value).strip())
    return list(dict.fromkeys(ids))
