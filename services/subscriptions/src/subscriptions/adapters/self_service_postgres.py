"""Postgres adapters of customer self-service: the payment methods, the default method
and the invoice history of each tenant (schema ``subscriptions``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from billing_domain.invoice_history import InvoiceDocument
from billing_domain.ordering import AppliedMark
from billing_domain.payment_methods import CardOnFile
from billing_platform.sql_names import (
    column_list,
    excluded_assignments,
    in_column_order,
    insert_sql,
    table_name,
)

from subscriptions.schema import SCHEMA
from subscriptions.self_service.ports import CardList, InvoiceCursor, StoredCard

Row = asyncpg.Record | Mapping[str, Any]
CARDS = table_name(SCHEMA, "payment_methods")
DEFAULTS = table_name(SCHEMA, "payment_method_defaults")
INVOICES = table_name(SCHEMA, "invoices")
CARD_COLUMNS = (
    "tenant_id",
    "payment_method_id",
    "stripe_customer_id",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "method_created",
    "detached",
    "last_applied_at",
    "last_event_id",
)
INVOICE_COLUMNS = (
    "tenant_id",
    "invoice_id",
    "stripe_customer_id",
    "stripe_subscription_id",
    "number",
    "status",
    "total",
    "amount_due",
    "currency",
    "period_start",
    "period_end",
    "invoice_created",
    "hosted_invoice_url",
    "invoice_pdf",
    "payment_method_id",
    "last_applied_at",
    "last_event_id",
)
UPSERT_CARD = (
    f"{insert_sql(CARDS, CARD_COLUMNS)} ON CONFLICT (tenant_id, payment_method_id) "
    f"DO UPDATE SET {excluded_assignments(CARD_COLUMNS[2:])}, updated_at = now()"
)
UPSERT_INVOICE = (
    f"{insert_sql(INVOICES, INVOICE_COLUMNS)} ON CONFLICT (tenant_id, invoice_id) "
    f"DO UPDATE SET {excluded_assignments(INVOICE_COLUMNS[2:])}, updated_at = now()"
)
# A customer.updated (with its mark) sets the default unless a newer one already did; an
# owner's change (no mark) always does (Stripe's customer.updated for it follows).
UPSERT_DEFAULT = (
    f"INSERT INTO {DEFAULTS} AS d (tenant_id, stripe_customer_id, default_payment_method_id, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "last_applied_at, last_event_id) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (tenant_id) DO UPDATE SET "
    "stripe_customer_id = COALESCE(EXCLUDED.stripe_customer_id, d.stripe_customer_id), "
    "default_payment_method_id = EXCLUDED.default_payment_method_id, "
    "last_applied_at = COALESCE(EXCLUDED.last_applied_at, d.last_applied_at), "
    "last_event_id = COALESCE(EXCLUDED.last_event_id, d.last_event_id), updated_at = now() "
    "WHERE $4::timestamptz IS NULL OR d.last_applied_at IS NULL OR d.last_applied_at <= $4"
)
SELECT_CARD = (
    f"SELECT {column_list(CARD_COLUMNS)} FROM {CARDS} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE tenant_id = $1 AND payment_method_id = $2"
)
SELECT_CARDS = (
    f"SELECT {column_list(CARD_COLUMNS)} FROM {CARDS} WHERE tenant_id = $1 "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "ORDER BY method_created NULLS FIRST, payment_method_id"
)
# The list read: one statement, the tenant's attached cards and its default (if attached).
LIST_CARDS = (
    f"SELECT c.payment_method_id, c.brand, c.last4, c.exp_month, c.exp_year, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    f"c.method_created, d.default_payment_method_id FROM {DEFAULTS} d "
    f"RIGHT JOIN {CARDS} c ON d.tenant_id = c.tenant_id "
    "WHERE c.tenant_id = $1 AND NOT c.detached "
    "ORDER BY c.method_created NULLS FIRST, c.payment_method_id"
)
SELECT_INVOICE = (
    f"SELECT {column_list(INVOICE_COLUMNS)} FROM {INVOICES} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE tenant_id = $1 AND invoice_id = $2"
)
# Keyset pagination on the index (tenant_id, invoice_created DESC NULLS LAST, invoice_id DESC).
LIST_INVOICES = (
    f"SELECT {column_list(INVOICE_COLUMNS)} FROM {INVOICES} WHERE tenant_id = $1 "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "AND ($2::timestamptz IS NULL OR (invoice_created, invoice_id) < ($2, $3)) "
    "ORDER BY invoice_created DESC NULLS LAST, invoice_id DESC LIMIT $4"
)


def _mark(row: Row) -> AppliedMark | None:
    if row["last_applied_at"] is None or row["last_event_id"] is None:
        return None
    return AppliedMark(created=row["last_applied_at"], event_id=row["last_event_id"])


def card_from_row(row: Row) -> CardOnFile:
    return CardOnFile(
        payment_method_id=row["payment_method_id"],
        brand=row["brand"],
        last4=row["last4"],
        exp_month=row["exp_month"],
        exp_year=row["exp_year"],
        created=row["method_created"],
    )


def stored_card_from_row(row: Row) -> StoredCard:
    return StoredCard(
        tenant_id=row["tenant_id"],
        stripe_customer_id=row["stripe_customer_id"],
        card=card_from_row(row),
        detached=row["detached"],
        last_applied=_mark(row),
    )


def invoice_from_row(row: Row) -> InvoiceDocument:
    return InvoiceDocument(
        invoice_id=row["invoice_id"],
        tenant_id=row["tenant_id"],
        stripe_customer_id=row["stripe_customer_id"],
        stripe_subscription_id=row["stripe_subscription_id"],
        number=row["number"],
        status=row["status"],
        total=row["total"],
        amount_due=row["amount_due"],
        currency=row["currency"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        created=row["invoice_created"],
        hosted_invoice_url=row["hosted_invoice_url"],
        invoice_pdf=row["invoice_pdf"],
        payment_method_id=row["payment_method_id"],
        last_applied=_mark(row),
    )


def _card_values(stored: StoredCard) -> dict[str, Any]:
    card, mark = stored.card, stored.last_applied
    return {
        "tenant_id": stored.tenant_id,
        "payment_method_id": card.payment_method_id,
        "stripe_customer_id": stored.stripe_customer_id,
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "method_created": card.created,
        "detached": stored.detached,
        "last_applied_at": None if mark is None else mark.created,
        "last_event_id": None if mark is None else mark.event_id,
    }


def _invoice_values(invoice: InvoiceDocument) -> dict[str, Any]:
    mark = invoice.last_applied
    return {
        "tenant_id": invoice.tenant_id,
        "invoice_id": invoice.invoice_id,
        "stripe_customer_id": invoice.stripe_customer_id,
        "stripe_subscription_id": invoice.stripe_subscription_id,
        "number": invoice.number,
        "status": invoice.status,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "currency": invoice.currency,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "invoice_created": invoice.created,
        "hosted_invoice_url": invoice.hosted_invoice_url,
        "invoice_pdf": invoice.invoice_pdf,
        "payment_method_id": invoice.payment_method_id,
        "last_applied_at": None if mark is None else mark.created,
        "last_event_id": None if mark is None else mark.event_id,
    }


class PgSelfServiceRepository:
    """On the unit of work's connection: reads lock the rows they return."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def card_for_update(self, tenant_id: str, payment_method_id: str) -> StoredCard | None:
        row = await self._conn.fetchrow(f"{SELECT_CARD} FOR UPDATE", tenant_id, payment_method_id)
        return None if row is None else stored_card_from_row(row)

    async def save_card(self, card: StoredCard) -> None:
        await self._conn.execute(UPSERT_CARD, *in_column_order(_card_values(card), CARD_COLUMNS))

    async def cards_of(self, tenant_id: str) -> list[StoredCard]:
        rows = await self._conn.fetch(f"{SELECT_CARDS} FOR UPDATE", tenant_id)
        return [stored_card_from_row(row) for row in rows]

    async def set_default(
        self,
        tenant_id: str,
        customer_id: str | None,
        payment_method_id: str | None,
        mark: AppliedMark | None = None,
    ) -> None:
        await self._conn.execute(
            UPSERT_DEFAULT,
            tenant_id,
            customer_id,
            payment_method_id,
            None if mark is None else mark.created,
            None if mark is None else mark.event_id,
        )

    async def invoice_for_update(self, tenant_id: str, invoice_id: str) -> InvoiceDocument | None:
        row = await self._conn.fetchrow(f"{SELECT_INVOICE} FOR UPDATE", tenant_id, invoice_id)
        return None if row is None else invoice_from_row(row)

    async def save_invoice(self, invoice: InvoiceDocument) -> None:
        await self._conn.execute(
            UPSERT_INVOICE, *in_column_order(_invoice_values(invoice), INVOICE_COLUMNS)
        )


class PgSelfServiceReader:
    """One statement per read, straight from the pool (no transaction, never Stripe)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def cards(self, tenant_id: str) -> CardList:
        rows = await self._pool.fetch(LIST_CARDS, tenant_id)
        cards = [card_from_row(row) for row in rows]
        default = rows[0]["default_payment_method_id"] if rows else None
        attached = {card.payment_method_id for card in cards}
        return CardList(
            cards=cards, default_payment_method_id=default if default in attached else None
        )

    async def card(self, tenant_id: str, payment_method_id: str) -> StoredCard | None:
        row = await self._pool.fetchrow(SELECT_CARD, tenant_id, payment_method_id)
        if row is None or row["detached"]:
            return None
        return stored_card_from_row(row)

    async def invoices(
        self, tenant_id: str, *, after: InvoiceCursor | None, limit: int
    ) -> list[InvoiceDocument]:
        rows = await self._pool.fetch(
            LIST_INVOICES,
            tenant_id,
            None if after is None else after.created,
            None if after is None else after.invoice_id,
            limit,
        )
        return [invoice_from_row(row) for row in rows]

    async def invoice(self, tenant_id: str, invoice_id: str) -> InvoiceDocument | None:
        row = await self._pool.fetchrow(SELECT_INVOICE, tenant_id, invoice_id)
        return None if row is None else invoice_from_row(row)
