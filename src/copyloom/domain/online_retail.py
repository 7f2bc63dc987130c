"""Reading the UCI "Online Retail" file (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country) into customers, products and orders. Writing them is ``online_retail_store``.

What the file holds and what is done with it, deliberately:

- Exact duplicate rows (5,268 in the full file) are dropped: the same line twice is a data-entry echo.
- InvoiceNo starting with "C" is a cancellation: an order with status ``cancelled`` whose lines carry the
  cancelled quantities as positive numbers (the file writes them negative) and whose total is positive.
- Rows without CustomerID (guest or internal) cannot belong to a customer: they add no order, but their sales
  still teach the catalogue (names and prices). Negative quantities outside cancellations all belong to such rows
  (stock adjustments: "damaged", "lost", …); they are counted and otherwise ignored.
- Fee and non-product codes (postage, carriage, discounts, manual entries, bank charges, Amazon fees, samples,
  gift vouchers, …) never become products or order lines; they do count in the invoice total paid.
- A product's name is its most frequent description among priced rows (descriptions vary per StockCode and
  zero-price rows carry notes like "check" or "damaged"); its price is the most frequent positive unit price of
  its sales, ties going to the most recent. Zero-price lines stay in orders at price 0 but never set a price.
  A StockCode never sold at a positive price is not learned as a product.
- Prices are pounds sterling (GBP). InvoiceDate is UK local time, converted to UTC.
- The customer's external id is CustomerID as an integer string ("12346"); the country is the most frequent of
  their rows, as ISO alpha-2 where one exists (the raw name is kept in ``attributes.country_name`` otherwise).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, cast
from zoneinfo import ZoneInfo

from copyloom.errors import InvalidInput

CURRENCY = "GBP"
HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
FEE_CODES = frozenset({"POST", "DOT", "M", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"})
FEE_PREFIXES = ("gift_0001",)  # gift vouchers: money, not merchandise
UK = ZoneInfo("Europe/London")

# Country names used by the file → (ISO 3166-1 alpha-2, time zone when the country has only one).
COUNTRIES: dict[str, tuple[str | None, str | None]] = {
    "Australia": ("AU", None), "Austria": ("AT", "Europe/Vienna"), "Bahrain": ("BH", "Asia/Bahrain"),
    "Belgium": ("BE", "Europe/Brussels"), "Brazil": ("BR", None), "Canada": ("CA", None),
    "Channel Islands": (None, "Europe/London"), "Cyprus": ("CY", "Asia/Nicosia"),
    "Czech Republic": ("CZ", "Europe/Prague"), "Denmark": ("DK", "Europe/Copenhagen"),
    "EIRE": ("IE", "Europe/Dublin"), "European Community": (None, None), "Finland": ("FI", "Europe/Helsinki"),
    "France": ("FR", "Europe/Paris"), "Germany": ("DE", "Europe/Berlin"), "Greece": ("GR", "Europe/Athens"),
    "Hong Kong": ("HK", "Asia/Hong_Kong"), "Iceland": ("IS", "Atlantic/Reykjavik"),
    "Israel": ("IL", "Asia/Jerusalem"), "Italy": ("IT", "Europe/Rome"), "Japan": ("JP", "Asia/Tokyo"),
    "Lebanon": ("LB", "Asia/Beirut"), "Lithuania": ("LT", "Europe/Vilnius"), "Malta": ("MT", "Europe/Malta"),
    "Netherlands": ("NL", "Europe/Amsterdam"), "Norway": ("NO", "Europe/Oslo"), "Poland": ("PL", "Europe/Warsaw"),
    "Portugal": ("PT", "Europe/Lisbon"), "RSA": ("ZA", "Africa/Johannesburg"),
    "Saudi Arabia": ("SA", "Asia/Riyadh"), "Singapore": ("SG", "Asia/Singapore"), "Spain": ("ES", "Europe/Madrid"),
    "Sweden": ("SE", "Europe/Stockholm"), "Switzerland": ("CH", "Europe/Zurich"), "USA": ("US", None),
    "United Arab Emirates": ("AE", "Asia/Dubai"), "United Kingdom": ("GB", "Europe/London"),
    "Unspecified": (None, None),
}  # fmt: skip

Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total): called now and then so that a CLI can draw a bar."""


@dataclass
class ParsedInvoice:
    customer: str
    placed_at: datetime
    cancelled: bool
    total: Decimal = Decimal("0")
    lines: list[tuple[str, str | None, int, Decimal]] = field(default_factory=list)


@dataclass
class ParsedProduct:
    descriptions: Counter[str] = field(default_factory=Counter)
    prices: Counter[Decimal] = field(default_factory=Counter)
    last_seen: dict[Decimal, datetime] = field(default_factory=dict)

    def name(self) -> str | None:
        return self.descriptions.most_common(1)[0][0] if self.descriptions else None

    def price(self) -> Decimal | None:
        if not self.prices:
            return None
        return max(self.prices, key=lambda p: (self.prices[p], self.last_seen[p]))


@dataclass
class ParseCounts:
    """What the reader saw, row by row."""

    rows: int = 0
    duplicate_rows: int = 0
    malformed_rows: int = 0
    rows_without_customer: int = 0
    fee_rows: int = 0
    stock_adjustment_rows: int = 0
    zero_price_rows: int = 0
    rows_without_description: int = 0
    stock_codes: int = 0
    fee_codes: int = 0
    malformed_examples: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    counts: ParseCounts = field(default_factory=ParseCounts)
    invoices: dict[str, ParsedInvoice] = field(default_factory=dict)
    products: dict[str, ParsedProduct] = field(default_factory=dict)
    countries: dict[str, Counter[str]] = field(default_factory=dict)


def is_fee_code(code: str) -> bool:
    return code.upper() in FEE_CODES or code.startswith(FEE_PREFIXES)


def customer_external_id(raw: str) -> str:
    """CustomerID as an integer string: "12346", also from exports that wrote "12346.0"."""
    return str(int(float(raw)))


class _Dates:
    """InvoiceDate parsing with a cache: 541,909 rows share about 23,000 distinct timestamps."""

    def __init__(self) -> None:
        self._cache: dict[str, datetime] = {}

    def __call__(self, raw: str) -> datetime:
        got = self._cache.get(raw)
        if got is None:
            local = datetime.strptime(raw.strip()[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UK)
            got = self._cache[raw] = local.astimezone(UTC)
        return got


def _open(path: Path) -> tuple[IO[bytes], IO[str]]:
    raw = path.open("rb")
    stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if path.suffix == ".gz" else raw
    return raw, io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _rows(path: Path, progress: Progress | None) -> Iterator[list[str]]:
    size = path.stat().st_size
    raw, text = _open(path)
    with raw, text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != HEADER:
            raise InvalidInput(f"{path.name}: expected the columns {', '.join(HEADER)}", field="file")
        for n, row in enumerate(reader, start=1):
            if progress is not None and n % 20_000 == 0:
                progress("read", raw.tell(), size)
            yield row
        if progress is not None:
            progress("read", size, size)


def parse_online_retail(path: Path, progress: Progress | None = None) -> ParsedFile:
    """Read the whole file into invoices, products and customers' countries (no database work)."""
    parsed = ParsedFile()
    counts = parsed.counts
    seen: set[int] = set()
    codes: set[str] = set()
    dates = _Dates()
    for row in _rows(path, progress):
        counts.rows += 1
        key = hash(tuple(row))
        if key in seen:
            counts.duplicate_rows += 1
            continue
        seen.add(key)
        try:
            invoice, code, description, qty_raw, date_raw, price_raw, customer_raw, country = row
            quantity = int(qty_raw)
            price = Decimal(price_raw)
            placed_at = dates(date_raw)
            customer = customer_external_id(customer_raw) if customer_raw.strip() else None
        except (ValueError, InvalidOperation) as exc:
            counts.malformed_rows += 1
            if len(counts.malformed_examples) < 20:
                counts.malformed_examples.append(f"row {counts.rows}: {exc}")
            continue
        codes.add(code.strip())
        _learn(parsed, invoice.strip(), code.strip(), description.strip(), quantity, price, placed_at, customer)
        if customer is not None:
            parsed.countries.setdefault(customer, Counter())[country.strip()] += 1
    counts.stock_codes = len(codes)
    counts.fee_codes = sum(map(is_fee_code, codes))
    return parsed


def _learn(
    parsed: ParsedFile,
    invoice: str,
    code: str,
    description: str,
    quantity: int,
    price: Decimal,
    placed_at: datetime,
    customer: str | None,
) -> None:
    counts = parsed.counts
    cancelled = invoice.upper().startswith("C")
    fee = is_fee_code(code)
    counts.fee_rows += fee
    counts.zero_price_rows += price == 0
    counts.rows_without_description += not description
    if not fee and price > 0:
        product = parsed.products.get(code)
        if product is None:
            product = parsed.products[code] = ParsedProduct()
        if description:
            product.descriptions[description] += 1
        if quantity > 0 and not cancelled:
            product.prices[price] += 1
            last = product.last_seen.get(price)
            if last is None or placed_at > last:
                product.last_seen[price] = placed_at
    if quantity < 0 and not cancelled:
        counts.stock_adjustment_rows += 1
        return
    if customer is None:
        counts.rows_without_customer += 1
        return
    order = parsed.invoices.get(invoice)
    if order is None:
        order = parsed.invoices[invoice] = ParsedInvoice(customer=customer, placed_at=placed_at, cancelled=cancelled)
    order.total += abs(quantity) * price if cancelled else quantity * price
    if not fee:
        order.lines.append((code, description or None, abs(quantity), price))
