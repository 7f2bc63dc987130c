"""What a draft stores of its facts bundle: exactly the bundle's JSON, whichever channels share its facts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from copyloom.content.drafts.flow import _bundle_json
from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.facts import (
    CustomerSnapshot,
    DroppedFact,
    Fact,
    FactKind,
    FactsBundle,
    FactSource,
    FactValues,
)


def _bundle() -> FactsBundle:
    src = FactSource(table="products", row_id="1", workspace_id="acme")
    return FactsBundle(
        workspace_id="acme",
        customer=CustomerSnapshot(external_id="C1", first_name="Ana", locale="en"),
        goal="cross_sell",
        channel="email",
        locale="en",
        personalization_allowed=True,
        brand=BrandKitSpec(name="Northwind", sender_identity="Northwind Outfitters"),
        facts=[
            Fact(
                id="product:P1",
                kind=FactKind.PRODUCT,
                text="Tent, $129.00",
                values=FactValues(sku="P1", price=Decimal("129.00")),
                source=src,
                score=0.9,
            ),
            Fact(id="offer:SPRING", kind=FactKind.OFFER, text="10% off", source=src, required=True),
        ],
        dropped=[DroppedFact(id="offer:OLD", kind=FactKind.OFFER, reason="not_live")],
        token_count=42,
        notes=["a note"],
        built_at=datetime(2026, 12, 2, tzinfo=UTC),
    )


def test_the_stored_bundle_is_the_bundles_json_for_every_channel_sharing_its_facts() -> None:
    email = _bundle()
    sms = email.model_copy(update={"channel": "sms"})  # as build_bundles makes one per channel
    shared: dict[int, tuple[object, object]] = {}
    stored = [_bundle_json(email, shared), _bundle_json(sms, shared)]
    assert stored == [email.model_dump(mode="json"), sms.model_dump(mode="json")]
    assert list(stored[0]) == list(email.model_dump(mode="json"))  # the same keys in the same order
    assert stored[1]["channel"] == "sms" and stored[0]["channel"] == "email"
    other = _bundle().model_copy(update={"channel": "push"})  # equal facts in other objects: dumped on their own
    assert _bundle_json(other, shared) == other.model_dump(mode="json")
