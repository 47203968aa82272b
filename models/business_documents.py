"""Business documents: a customer's quotes, orders, invoices and credit notes.

An external system (the ERP) pushes them by its own ID (``source`` + ``external_id``,
unique per source); staff may also create them by hand (no external ID). Amounts are
exact decimals (``Decimal``, never floating point) in ``currency`` (an ISO 4217 code).
The document's PDF is content in the blob storage (``pdf_key``, the SHA-256 of it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models._base import TimestampedModel

if TYPE_CHECKING:
    from models.customers import Customer
    from models.projects import Project
    from models.users import User


class BusinessDocumentKind(StrEnum):
    QUOTE = "QUOTE"
    ORDER = "ORDER"
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"


class BusinessDocumentStatus(StrEnum):
    """The statuses of every kind; :data:`STATUSES_BY_KIND` says which belong to which."""

    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    CONFIRMED = "CONFIRMED"
    DELIVERED = "DELIVERED"
    OPEN = "OPEN"
    PAID = "PAID"
    OVERDUE = "OVERDUE"
    ISSUED = "ISSUED"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"


_S = BusinessDocumentStatus
_K = BusinessDocumentKind
STATUSES_BY_KIND: dict[BusinessDocumentKind, tuple[BusinessDocumentStatus, ...]] = {
    _K.QUOTE: (_S.SENT, _S.ACCEPTED, _S.DECLINED, _S.EXPIRED, _S.CANCELLED),
    _K.ORDER: (_S.CONFIRMED, _S.DELIVERED, _S.CANCELLED),
    _K.INVOICE: (_S.OPEN, _S.PAID, _S.OVERDUE, _S.CANCELLED),
    _K.CREDIT_NOTE: (_S.ISSUED, _S.SETTLED, _S.CANCELLED),
}
"""The statuses a document of each kind may have; the first is a new document's default."""


CURRENCIES = frozenset(
    {
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    }
)
"""The ISO 4217 codes of the currencies in circulation (funds, metals and test codes are
not business documents' currencies)."""


class BusinessDocument(TimestampedModel):
    """One document of a customer (optionally of one of its projects), numbered by the
    system that issued it (``number``, unique per customer and kind).

    ``net_amount`` and ``gross_amount`` are decimals with up to 2 fractional digits, in
    ``currency``; ``due_date`` is the day payment (an invoice) or a decision (a quote) is
    due. A quote's decision is recorded in ``decided_by``/``decided_at``/``decision_note``.
    """

    id = fields.IntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="business_documents", on_delete=fields.CASCADE
    )
    customer_id: int
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="business_documents", null=True, on_delete=fields.SET_NULL
    )
    project_id: int | None
    kind = fields.CharEnumField(BusinessDocumentKind, max_length=16)
    number = fields.CharField(max_length=64)
    title = fields.CharField(max_length=200)
    issue_date = fields.DateField()
    due_date = fields.DateField(null=True)
    net_amount = fields.DecimalField(max_digits=14, decimal_places=2)
    gross_amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    status = fields.CharEnumField(BusinessDocumentStatus, max_length=16)
    pdf_key = fields.CharField(max_length=64, null=True, description="SHA-256 of the PDF")
    pdf_size = fields.BigIntField(null=True)
    pdf_name = fields.CharField(max_length=200, null=True)
    source = fields.CharField(max_length=64, null=True)
    external_id = fields.CharField(max_length=200, null=True)
    published_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    published_by_id: int
    """Who pushed or created it (the actor of the product's own changes to it, such as an
    invoice becoming overdue)."""
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    decision_note = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "business_documents"
        unique_together = (("customer", "kind", "number"), ("source", "external_id"))
        indexes = (("customer_id", "issue_date"),)
