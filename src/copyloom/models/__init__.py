"""ORM tables, one module per table."""

from copyloom.models.api_key import ApiKey
from copyloom.models.base import Base, new_id, utcnow
from copyloom.models.brand_kit import BrandKit
from copyloom.models.campaign import Campaign
from copyloom.models.campaign_target import CampaignTarget
from copyloom.models.consent import Consent
from copyloom.models.contact import ContactRecord
from copyloom.models.customer import Customer
from copyloom.models.decision import Decision
from copyloom.models.draft import Draft
from copyloom.models.draft_event import DraftEvent
from copyloom.models.event import Event
from copyloom.models.index_entry import IndexEntry
from copyloom.models.knowledge_item import KnowledgeItem
from copyloom.models.note import Note
from copyloom.models.offer import Offer
from copyloom.models.order import Order
from copyloom.models.order_line import OrderLine
from copyloom.models.outcome import Outcome
from copyloom.models.product import Product
from copyloom.models.reviewer_session import ReviewerSession
from copyloom.models.usage import UsageRecord
from copyloom.models.workspace import Workspace

__all__ = [
    "ApiKey",
    "Base",
    "BrandKit",
    "Campaign",
    "CampaignTarget",
    "Consent",
    "ContactRecord",
    "Customer",
    "Decision",
    "Draft",
    "DraftEvent",
    "Event",
    "IndexEntry",
    "KnowledgeItem",
    "Note",
    "Offer",
    "Order",
    "OrderLine",
    "Outcome",
    "Product",
    "ReviewerSession",
    "UsageRecord",
    "Workspace",
    "new_id",
    "utcnow",
]
