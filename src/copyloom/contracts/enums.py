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
