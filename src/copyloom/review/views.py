"""What the reviewer page shows for one draft: copy split into highlighted segments, checks, cited facts.

Nothing here produces HTML: templates render these values with autoescaping, so copy, names and notes are
always shown as text, whatever characters they hold.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from copyloom.contracts.enums import DraftEventKind
from copyloom.contracts.sms import SegmentInfo, count_segments
from copyloom.models import Draft
from copyloom.review.diff import content_diff, text_fields


@dataclass(frozen=True)
class Segment:
    text: str
    checks: tuple[str, ...] = ()  # the checks whose evidence covers this stretch; empty = plain text
    severity: str = ""  # "flag" or "block" (the worst covering verdict)


@dataclass(frozen=True)
class EvidenceView:
    field: str | None
    text: str | None
    reason_code: str | None
    expected: str | None
    fact_id: str | None
    located: bool  # whether the span was found in the copy (and is highlighted there)


@dataclass(frozen=True)
class CheckView:
    check: str
    verdict: str
    reason_code: str
    message: str
    evidence: list[EvidenceView]


@dataclass(frozen=True)
class FactView:
    id: str
    kind: str
    text: str
    source: str
    untrusted: bool


@dataclass
class DraftView:
    fields: dict[str, list[Segment]]
    raw: dict[str, str]
    checks: list[CheckView]
    flags: list[str]
    cited: list[FactView]
    other_facts: list[FactView]
    sms: SegmentInfo | None = None
    customer_first_name: str | None = None
    brand_name: str = ""
    notes: list[str] = field(default_factory=list)


def _locate(text: str, ev: dict[str, Any]) -> tuple[int, int] | None:
    start, end, quoted = ev.get("start"), ev.get("end"), ev.get("text")
    if (
        isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(text)
        and (not quoted or text[start:end] == quoted)
    ):
        return start, end
    if quoted and quoted in text:  # offsets from another normalization of the text: fall back to the quote
        at = text.index(quoted)
        return at, at + len(quoted)
    return None


def highlight(text: str, spans: list[tuple[int, int, str, str]]) -> list[Segment]:
    """Split ``text`` at every span boundary; each piece carries the checks covering it (spans may overlap)."""
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out: list[Segment] = []
    for a, b in itertools.pairwise(cuts):
        if a == b:
            continue
        covering = [(c, v) for s, e, c, v in spans if s <= a and b <= e]
        checks = tuple(dict.fromkeys(c for c, _ in covering))
        severity = "block" if any(v == "block" for _, v in covering) else ("flag" if covering else "")
        out.append(Segment(text[a:b], checks, severity))
    return out


def _fact(f: dict[str, Any]) -> FactView:
    src = f.get("source") or {}
    return FactView(
        id=str(f.get("id", "")),
        kind=str(f.get("kind", "")),
        text=str(f.get("text", "")),
        source=f"{src.get('table', '?')}:{src.get('row_id', '?')}",
        untrusted=bool(f.get("untrusted")),
    )


def draft_view(draft: Draft) -> DraftView:
    raw = text_fields(draft.content)
    spans: dict[str, list[tuple[int, int, str, str]]] = {name: [] for name in raw}
    checks: list[CheckView] = []
    for r in draft.guardrail_report.get("results", []):
        evidence: list[EvidenceView] = []
        for ev in r.get("evidence", []):
            name = ev.get("field")
            where = _locate(raw[name], ev) if name in raw else None
            if where is not None and r.get("verdict") in ("flag", "block"):
                spans[name].append((where[0], where[1], str(r["check"]), str(r["verdict"])))
            evidence.append(
                EvidenceView(
                    field=name,
                    text=ev.get("text"),
                    reason_code=ev.get("reason_code"),
                    expected=ev.get("expected"),
                    fact_id=ev.get("fact_id"),
                    located=where is not None,
                )
            )
        checks.append(
            CheckView(
                check=str(r.get("check")),
                verdict=str(r.get("verdict")),
                reason_code=str(r.get("reason_code", "")),
                message=str(r.get("message", "")),
                evidence=evidence,
            )
        )
    bundle = draft.bundle or {}
    facts = bundle.get("facts", [])
    cited_ids = set(draft.cited_fact_ids)
    customer = bundle.get("customer") or {}
    return DraftView(
        fields={name: highlight(text, spans[name]) for name, text in raw.items()},
        raw=raw,
        checks=sorted(checks, key=lambda c: ({"block": 0, "flag": 1}.get(c.verdict, 2), c.check)),
        flags=[c.check for c in checks if c.verdict == "flag"],
        cited=[_fact(f) for f in facts if f.get("id") in cited_ids],
        other_facts=[_fact(f) for f in facts if f.get("id") not in cited_ids],
        sms=count_segments(raw.get("text", "")) if draft.channel == "sms" else None,
        customer_first_name=customer.get("first_name"),
        brand_name=str((bundle.get("brand") or {}).get("name") or ""),
        notes=[str(n) for n in bundle.get("notes", [])],
    )


def event_summary(kind: str, data: dict[str, Any]) -> str:
    """One line for the history list on the page."""
    if kind == DraftEventKind.REJECTED:
        return f"reason {data.get('reason_code')}" + (f": {data['comment']}" if data.get("comment") else "")
    if kind == DraftEventKind.APPROVED:
        acks = data.get("acknowledged_flags") or []
        return ("acknowledged " + ", ".join(acks) if acks else "") + (
            f" {data['comment']}" if data.get("comment") else ""
        )
    if kind == DraftEventKind.EDITED:
        pairs = [
            f"{d['field']}: “{c['before']}” → “{c['after']}”"
            for d in data.get("diff", [])
            for c in d.get("changes", [])
        ]
        return "; ".join(pairs[:6])
    if kind == DraftEventKind.CHECKED:
        return str(data.get("verdict", ""))
    return str(data.get("reason") or "")


__all__ = ["DraftView", "Segment", "content_diff", "draft_view", "event_summary", "highlight"]
