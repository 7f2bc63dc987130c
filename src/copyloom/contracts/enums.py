"""Fixed vocabularies shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"
    WHATSAPP = "whatsapp"
    WEB = "web"


class Purpose(StrEnum):
    MARKETING = "marketing"
    PERSONALIZATION = "personalization"
    TRANSACTIONAL = "transactional"


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    JOURNEY = "journey"
    REVIEWER = "reviewer"


class Goal(StrEnum):
    WIN_BACK = "win_back"
    CROSS_SELL = "cross_sell"
    REPLENISH = "replenish"
    LOYALTY = "loyalty"
    EVENT_INVITE = "event_invite"
    OFFER_ANNOUNCEMENT = "offer_announcement"


class OrderStatus(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# States stored as strings in the database (the values are what is stored: never change one without a migration).


class DraftStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    BLOCKED = "blocked"
    REJECTED = "rejected"


class DraftEventKind(StrEnum):
    """Entries of a draft's audit trail. A reviewer's decisions are APPROVED, REJECTED and EDITED."""

    GENERATED = "generated"
    REFINED = "refined"
    CHECKED = "checked"
    QUEUED = "queued"
    APPROVED = "approved"
    AUTO_APPROVED = "auto_approved"
    BLOCKED = "blocked"
    REJECTED = "rejected"
    EDITED = "edited"


REVIEW_DECISIONS = (DraftEventKind.APPROVED, DraftEventKind.REJECTED, DraftEventKind.EDITED)


class CampaignStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


class TargetStatus(StrEnum):
    """A campaign target's state: pending -> leased -> done | suppressed | failed; or cancelled."""

    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DecisionKind(StrEnum):
    """A journey decision's answer."""

    SEND = "send"
    SUPPRESS = "suppress"


class ContactKind(StrEnum):
    SENT = "sent"
    SUPPRESSED = "suppressed"
