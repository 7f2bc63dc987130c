"""A realistic request body for every operation that takes one, shown in ``/docs`` (and tested: each is accepted
by the API on the demo workspace, Northwind Outfitters)."""

from __future__ import annotations

from typing import Any

_CUSTOMER = {
    "name": "Emma Carter",
    "email": "emma.carter@example.com",
    "phone": "+1 503 555 0101",
    "country": "US",
    "locale": "en",
    "time_zone": "America/Los_Angeles",
    "birth_date": "1988-04-12",
    "attributes": {"loyalty_tier": "gold", "interests": ["hiking", "camping"]},
}
_PRODUCT = {
    "name": "Trailhead 2-Person Tent",
    "category": "Tents",
    "price": "249.00",
    "currency": "USD",
    "description": "Freestanding three-season tent, 1.9 kg, two doors.",
    "url": "https://northwind.example/tents/trailhead-2p",
}
_OFFER = {
    "title": "20% off tents and sleeping bags",
    "discount_type": "percent",
    "discount_value": "20",
    "code": "SPRING20",
    "valid_from": "2026-03-01T00:00:00Z",
    "valid_to": "2026-05-31T23:59:59Z",
    "eligible_categories": ["Tents", "Sleeping bags"],
}
_CONSENT = {
    "customer_id": "C1001",
    "purpose": "marketing",
    "channel": "email",
    "status": "granted",
    "recorded_at": "2026-02-01T09:30:00Z",
    "source": "checkout-form",
    "wording_version": "2026-01",
}
_EVENT = {
    "customer_id": "C1001",
    "name": "Product Viewed",
    "properties": {"sku": "NW-TENT-2P", "url": "https://northwind.example/tents/trailhead-2p"},
    "timestamp": "2026-03-10T18:04:00Z",
    "message_id": "web-7f3a9c",
}
_ORDER = {
    "id": "NW-20417",
    "customer_id": "C1001",
    "placed_at": "2026-03-12T16:20:00Z",
    "currency": "USD",
    "lines": [
        {"sku": "NW-TENT-2P", "name": "Trailhead 2-Person Tent", "quantity": 1, "unit_price": "249.00"},
        {"sku": "NW-SOCK-3", "quantity": 2, "unit_price": "18.00"},
    ],
}
_SEGMENT: dict[str, Any] = {
    "batch": [
        {
            "type": "identify",
            "userId": "C1001",
            "traits": {"email": "emma.carter@example.com", "firstName": "Emma", "lastName": "Carter"},
            "timestamp": "2026-03-12T16:00:00Z",
            "messageId": "seg-1",
        },
        {
            "type": "track",
            "userId": "C1001",
            "event": "Order Completed",
            "properties": {
                "order_id": "NW-20418",
                "currency": "USD",
                "total": 36,
                "products": [{"sku": "NW-SOCK-3", "name": "Merino socks, 3 pairs", "price": 18, "quantity": 2}],
            },
            "timestamp": "2026-03-12T16:20:00Z",
            "messageId": "seg-2",
        },
    ]
}
_BRIEF = {"goal": "cross_sell", "instructions": "New rain gear for spring hikes", "skus": ["NW-TENT-2P"]}

REQUEST_EXAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/drafts"): {"customer_id": "C1001", "channels": ["email", "sms"], "brief": _BRIEF, "variants": 2},
    ("POST", "/v1/drafts/{draft_id}/refine"): {"operation": "shorten"},
    ("POST", "/v1/campaigns"): {
        "name": "Spring camping",
        "brief": {"goal": "offer_announcement", "offer_ids": ["SPRING20"]},
        "channels": ["email", "push"],
        "audience": {"customer_ids": ["C1001", "C1002", "C1004"]},
        "variants": 2,
        "control": {"push": {"title": "Spring camping sale", "body": "20% off tents and sleeping bags."}},
        "approval": {"mode": "sample", "sample_rate": 0.1},
    },
    ("POST", "/v1/decisions"): {
        "campaign_id": "0f3c9a1e5b7d4c2a",
        "customer_id": "C1001",
        "channel": "push",
        "deadline_ms": 200,
        "idempotency_key": "journey-42:C1001:push",
    },
    ("POST", "/v1/decisions/batch"): {
        "items": [
            {"campaign_id": "0f3c9a1e5b7d4c2a", "customer_id": c, "channel": "email", "idempotency_key": f"j-7:{c}"}
            for c in ("C1001", "C1002")
        ]
    },
    ("POST", "/v1/outcomes"): {
        "draft_id": "9b2e4f7a1c3d5e6f",
        "event": "clicked",
        "occurred_at": "2026-03-13T08:00:00Z",
    },
    ("PUT", "/v1/customers/{customer_id}"): _CUSTOMER,
    ("POST", "/v1/customers/import"): [{"id": "C3001", **_CUSTOMER, "email": "li.na@example.com", "name": "Li Na"}],
    ("PUT", "/v1/customers/{customer_id}/notes/{note_id}"): {
        "kind": "support",
        "text": "Asked whether the Trailhead tent fits two adults and a dog; prefers lighter gear.",
    },
    ("POST", "/v1/notes"): [
        {"id": "n-88", "customer_id": "C1001", "kind": "review", "text": "Loved the merino socks on a 3-day trek."}
    ],
    ("PUT", "/v1/products/{sku}"): _PRODUCT,
    ("POST", "/v1/products/import"): [{"sku": "NW-TENT-3P", **_PRODUCT, "name": "Trailhead 3-Person Tent"}],
    ("PUT", "/v1/offers/{offer_id}"): _OFFER,
    ("POST", "/v1/offers/import"): [{"id": "SPRING20", **_OFFER}],
    ("PUT", "/v1/knowledge/{item_id}"): {
        "kind": "faq",
        "title": "Returns",
        "text": "Unused gear can be returned within 60 days for a full refund.",
        "locale": "en",
    },
    ("PUT", "/v1/brand"): {
        "name": "Northwind Outfitters",
        "voice": "Warm, practical and outdoorsy; short sentences; never pushy.",
        "formality": "neutral",
        "emoji_policy": "sparingly",
        "max_exclamations": 1,
        "banned_phrases": ["act now", "last chance"],
        "competitor_names": ["Summit Gear Co"],
        "required_footer": "Northwind Outfitters, 100 Pine St, Portland, OR",
        "sender_identity": "Northwind Outfitters",
        "postal_address": "100 Pine St, Portland, OR 97204, USA",
        "locales": ["en", "zh-CN"],
    },
    ("POST", "/v1/consents"): _CONSENT,
    ("POST", "/v1/events"): _EVENT,
    ("POST", "/v1/orders"): _ORDER,
    ("POST", "/v1/batch"): _SEGMENT,
    ("POST", "/v1/import"): _SEGMENT,
    ("POST", "/v1/reviews/{draft_id}/approve"): {"acknowledged_flags": ["tone"], "comment": "Fine for spring."},
    ("POST", "/v1/reviews/{draft_id}/reject"): {"reason_code": "off_brand", "comment": "Too pushy for our voice."},
    ("POST", "/v1/reviews/{draft_id}/edit"): {
        "content": {"channel": "sms", "text": "Northwind: spring rain gear is in. Reply STOP to opt out"},
        "comment": "Shorter.",
    },
}

NDJSON_EXAMPLES: dict[str, str] = {
    "/v1/consents": "\n".join(
        [
            '{"customer_id": "C1001", "purpose": "marketing", "channel": "email", "status": "granted"}',
            '{"customer_id": "C1002", "purpose": "marketing", "channel": "sms", "status": "withdrawn"}',
        ]
    ),
    "/v1/events": '{"customer_id": "C1001", "name": "App Opened", "timestamp": "2026-03-10T07:00:00Z"}',
    "/v1/orders": '{"id": "NW-20419", "customer_id": "C1002", "placed_at": "2026-03-11T10:00:00Z", "lines": []}',
    "/v1/customers/import": '{"id": "C3002", "name": "Sam Reyes", "email": "sam@example.com", "locale": "en"}',
    "/v1/products/import": '{"sku": "NW-MUG-01", "name": "Enamel camp mug", "price": "14.00"}',
    "/v1/offers/import": '{"id": "FREESHIP", "title": "Free shipping", "discount_type": "free_shipping"}',
    "/v1/notes": '{"id": "n-89", "customer_id": "C1002", "kind": "survey", "text": "Prefers email on weekends."}',
}
