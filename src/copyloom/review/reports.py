"""Learning from reviewers: approval rate, reject reasons and the phrases they edit, per prompt version and channel."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from copyloom.contracts.enums import REVIEW_DECISIONS, DraftEventKind
from copyloom.domain.drafts import review_events
from copyloom.review.schemas import PhraseCount, ReasonCount, ReviewGroup, ReviewReport, ReviewStats

TOP = 10


@dataclass
class _Tally:
    approved: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    phrases: Counter[str] = field(default_factory=Counter)
    replacements: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, draft_id: str, kind: str, data: dict[str, Any]) -> None:
        if kind == DraftEventKind.APPROVED:
            self.approved.add(draft_id)
        elif kind == DraftEventKind.REJECTED:
            self.rejected.add(draft_id)
            self.reasons[str(data.get("reason_code") or "other")] += 1
        elif kind == DraftEventKind.EDITED:
            self.edited.add(draft_id)
            for item in data.get("diff", []):
                for change in item.get("changes", []):
                    phrase = change.get("before") or ""
                    if phrase:  # pure insertions say what was missing, not what was wrong
                        self.phrases[phrase] += 1
                        self.replacements[phrase][change.get("after") or ""] += 1

    def stats(self) -> dict[str, Any]:
        reviewed = len(self.approved | self.rejected)
        return {
            "reviewed": reviewed,
            "approved": len(self.approved),
            "rejected": len(self.rejected),
            "edited": len(self.edited),
            "approval_rate": round(len(self.approved) / reviewed, 4) if reviewed else None,
            "top_reject_reasons": [ReasonCount(reason_code=r, count=n) for r, n in self.reasons.most_common(TOP)],
            "top_edited_phrases": [
                PhraseCount(phrase=p, count=n, replacements=[r for r, _ in self.replacements[p].most_common(3)])
                for p, n in self.phrases.most_common(TOP)
            ],
        }


def prompt_label(generator: dict[str, Any]) -> str:
    name = generator.get("prompt_name") or generator.get("kind") or "unknown"
    version = generator.get("prompt_version")
    return f"{name}.v{version}" if version is not None else str(name)


def review_report(
    session: Session,
    workspace_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
) -> ReviewReport:
    """Human decisions only (auto-approvals are not reviews), counted once per draft and kind."""
    overall = _Tally()
    groups: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for draft_id, kind, actor, data, draft_channel, generator in review_events(
        session, workspace_id, REVIEW_DECISIONS, since=since, until=until, channel=channel
    ):
        if actor == "system":
            continue
        overall.add(draft_id, kind, data or {})
        groups[(prompt_label(generator or {}), draft_channel)].add(draft_id, kind, data or {})
    return ReviewReport(
        since=since,
        until=until,
        overall=ReviewStats(**overall.stats()),
        groups=[ReviewGroup(prompt=p, channel=c, **t.stats()) for (p, c), t in sorted(groups.items())],
    )
