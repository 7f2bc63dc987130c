"""ORM tables, one module per table."""

from copyloom.models.api_key import ApiKey
from copyloom.models.base import Base, new_id, utcnow
from copyloom.models.brand_kit import BrandKit
from copyloom.models.consent import Consent
from copyloom.models.contact import ContactRecord
from copyloom.models.customer import Customer
from copyloom.models.event import Event
from copyloom.models.index_entry import IndexEntry
from copyloom.models.knowledge_item import KnowledgeItem
from copyloom.models.note import Note
from copyloom.models.offer import Offer
from copyloom.models.order import Order
from copyloom.models.order_line import OrderLine
from copyloom.models.product import Product
from copyloom.models.workspace import Workspace

__all__ = [
    "ApiKey",
    "Base",
    "BrandKit",
    "Consent",
    "ContactRecord",
    "Customer",
    "Event",
    "IndexEntry",
    "KnowledgeItem",
    "Note",
    "Offer",
    "Order",
    "OrderLine",
    "Product",
    "Workspace",
    "new_id",
    "utcnow",
]
