"""Postgres adapters: the billing_accounts projection, the unit of work, the reader."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg
from billing_domain.ended_subscription import EndedReason, EndedSubscription
from billing_domain.envelope import IntegrationEvent
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark
from billing_domain.payment_failure import AttemptOutcome, PaymentAttempt, PaymentFailure
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange
from billing_domain.timestamps import parse_rfc3339, to_rfc3339
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.inbox import PgMessageInbox
from billing_platform.messaging.outbox import AfterCommit, OutboxWriter
from billing_platform.sql_names import (
    column_list,
    excluded_assignments,
    in_column_order,
    insert_sql,
    table_name,
)

from subscriptions.adapters.operator_actions import PgLastEmails, PgOperatorActionLog
from subscriptions.adapters.proration_quotes import PgProrationQuotes
from subscriptions.adapters.self_service_postgres import PgSelfServiceRepository
from subscriptions.adapters.trial_extensions import PgTrialExtensions
from subscriptions.ports import LinkedAccount, ListedAccount, StoredGrant
from subscriptions.schema import SCHEMA

PgPool = asyncpg.Pool
TABLE = table_name(SCHEMA, "billing_accounts")
ACCOUNT_COLUMNS = (
    "tenant_id",
    "stripe_customer_id",
    "stripe_subscription_id",
    "plan",
    "status",
    "cancel_at_period_end",
    "current_period_end",
    "trial_end",
    "failed_amount_due",
    "failed_currency",
    "failed_hosted_invoice_url",
    "failed_next_attempt",
    "failed_invoice_id",
    "pending_plan",
    "pending_plan_effective_at",
    "last_applied",
    "failed_since",
    "has_payment_method",
    "failed_attempt_count",
    "billing_interval",
    "pending_interval",
    "failed_action_required",
    "ended_reason",
    "ended_plan",
    "failed_attempts",
)
COLUMNS = column_list(ACCOUNT_COLUMNS)
SELECT_GRANT = f"SELECT plan, status, updated_at FROM {TABLE} WHERE tenant_id = $1"  # noqa: S608 (identifiers from sql_names, values are parameters)
SELECT_PAGE = (
    f"SELECT {COLUMNS}, updated_at FROM {TABLE} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE ($1::text IS NULL OR tenant_id > $1) ORDER BY tenant_id LIMIT $2"
)
SELECT_ONE = f"SELECT {COLUMNS} FROM {TABLE} WHERE tenant_id = $1"  # noqa: S608 (identifiers from sql_names, values are parameters)
LOCK_ONE = (
    f"INSERT INTO {TABLE} (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) "  # noqa: S608 (identifiers from sql_names, values are parameters)
    f"DO UPDATE SET tenant_id = EXCLUDED.tenant_id RETURNING {COLUMNS}"
)
UPSERT = (
    f"{insert_sql(TABLE, ACCOUNT_COLUMNS)} ON CONFLICT (tenant_id) DO UPDATE SET "
    f"{excluded_assignments(ACCOUNT_COLUMNS[1:])}, updated_at = now()"
)


def account_from_row(row: asyncpg.Record | Mapping[str, Any]) -> BillingAccount:
    failure = None
    if row["failed_amount_due"] is not None:
        failure = PaymentFailure(
            amount_due=Money(amount=int(row["failed_amount_due"]), currency=row["failed_currency"]),
            hosted_invoice_url=row["failed_hosted_invoice_url"],
            next_payment_attempt=row["failed_next_attempt"],
            invoice_id=row["failed_invoice_id"],
            since=row["failed_since"],
            attempt_count=row["failed_attempt_count"] or 1,
            action_required=bool(row["failed_action_required"]),
            attempts=attempts_from_json(row["failed_attempts"]),
        )
    pending = None
    if row["pending_plan"] is not None and row["pending_plan_effective_at"] is not None:
        pending = PendingPlanChange(
            plan=PlanType(row["pending_plan"]),
            effective_at=row["pending_plan_effective_at"],
            interval=BillingInterval(row["pending_interval"] or "month"),
        )
    return BillingAccount(
        tenant_id=row["tenant_id"],
        stripe_customer_id=row["stripe_customer_id"],
        stripe_subscription_id=row["stripe_subscription_id"],
        plan=PlanType(row["plan"]),
        status=SubscriptionStatus(row["status"]),
        cancel_at_period_end=row["cancel_at_period_end"],
        current_period_end=row["current_period_end"],
        trial_end=row["trial_end"],
        payment_failure=failure,
        pending_plan=pending,
        has_payment_method=bool(row["has_payment_method"]),
        interval=BillingInterval(row["billing_interval"]),
        ended=None
        if row["ended_reason"] is None
        else EndedSubscription(
            reason=EndedReason(row["ended_reason"]), plan=PlanType(row["ended_plan"])
        ),
        last_applied={
            key: AppliedMark(created=parse_rfc3339(mark["created"]), event_id=mark["event_id"])
            for key, mark in _marks(row["last_applied"]).items()
        },
    )


def _marks(value: str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, str):
        decoded: dict[str, Any] = json.loads(value)
        return decoded
    return value or {}


def row_values(account: BillingAccount) -> dict[str, Any]:
    failure = account.payment_failure
    pending = account.pending_plan
    return {
        "tenant_id": account.tenant_id,
        "stripe_customer_id": account.stripe_customer_id,
        "stripe_subscription_id": account.stripe_subscription_id,
        "plan": account.plan.value,
        "status": account.status.value,
        "cancel_at_period_end": account.cancel_at_period_end,
        "current_period_end": account.current_period_end,
        "trial_end": account.trial_end,
        "failed_amount_due": None if failure is None else failure.amount_due.amount,
        "failed_currency": None if failure is None else failure.amount_due.currency,
        "failed_hosted_invoice_url": None if failure is None else failure.hosted_invoice_url,
        "failed_next_attempt": None if failure is None else failure.next_payment_attempt,
        "failed_invoice_id": None if failure is None else failure.invoice_id,
        "pending_plan": None if pending is None else pending.plan.value,
        "pending_plan_effective_at": None if pending is None else pending.effective_at,
        "last_applied": {
            key: {"created": to_rfc3339(mark.created), "event_id": mark.event_id}
            for key, mark in account.last_applied.items()
        },
        "failed_since": None if failure is None else failure.since,
        "has_payment_method": account.has_payment_method,
        "failed_attempt_count": None if failure is None else failure.attempt_count,
        "billing_interval": account.interval.value,
        "pending_interval": None if pending is None else pending.interval.value,
        "failed_action_required": failure is not None and failure.action_required,
        "ended_reason": None if account.ended is None else account.ended.reason.value,
        "ended_plan": None if account.ended is None else account.ended.plan.value,
        "failed_attempts": [] if failure is None else attempts_to_json(failure.attempts),
    }


def attempts_to_json(attempts: tuple[PaymentAttempt, ...]) -> list[dict[str, Any]]:
    return [
        {
            "number": attempt.number,
            "at": None if attempt.at is None else to_rfc3339(attempt.at),
            "outcome": attempt.outcome.value,
            "decline_code": attempt.decline_code,
            "card_brand": attempt.card_brand,
            "card_last4": attempt.card_last4,
        }
        for attempt in attempts
    ]


def attempts_from_json(value: str | list[Any] | None) -> tuple[PaymentAttempt, ...]:
    rows: list[Any] = json.loads(value) if isinstance(value, str) else value or []
    return tuple(
        PaymentAttempt(
            number=int(row["number"]),
            at=None if row.get("at") is None else parse_rfc3339(row["at"]),
            outcome=AttemptOutcome(row["outcome"]),
            decline_code=row.get("decline_code"),
            card_brand=row.get("card_brand"),
            card_last4=row.get("card_last4"),
        )
        for row in rows
    )


class PgBillingAccountRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def get_for_update(self, tenant_id: str) -> BillingAccount:
        # One round trip: create the row if it is new, lock it, and return it as stored.
        # The no-op update takes the row lock even when the tenant is new, so two
        # writers of a new tenant queue up too.
        row = await self._conn.fetchrow(LOCK_ONE, tenant_id)
        assert row is not None
        return account_from_row(row)

    async def save(self, account: BillingAccount) -> None:
        await self._conn.execute(UPSERT, *in_column_order(row_values(account), ACCOUNT_COLUMNS))


class PgEventOutbox:
    def __init__(
        self, connection: asyncpg.Connection, after_commit: AfterCommit | None = None
    ) -> None:
        self._writer = OutboxWriter(connection, SCHEMA, after_commit=after_commit)

    async def add_all(self, events: Iterable[IntegrationEvent]) -> None:
        await self._writer.add_all(list(events))


class PgSubscriptionsUnitOfWork(PgUnitOfWork):
    accounts: PgBillingAccountRepository
    quotes: PgProrationQuotes
    outbox: PgEventOutbox
    inbox: PgMessageInbox
    self_service: PgSelfServiceRepository
    trial_extensions: PgTrialExtensions
    actions: PgOperatorActionLog
    last_emails: PgLastEmails

    def _on_enter(self) -> None:
        self.accounts = PgBillingAccountRepository(self.connection)
        self.trial_extensions = PgTrialExtensions(self.connection)
        self.quotes = PgProrationQuotes(self.connection)
        self.outbox = PgEventOutbox(self.connection, self.after_commit)
        self.inbox = PgMessageInbox(self.connection, SCHEMA)
        self.self_service = PgSelfServiceRepository(self.connection)
        self.actions = PgOperatorActionLog(self.connection)
        self.last_emails = PgLastEmails(self.connection)


class PgAccountReader:
    """One primary-key select per read, straight from a pool (no transaction)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find(self, tenant_id: str) -> BillingAccount | None:
        row = await self._pool.fetchrow(SELECT_ONE, tenant_id)
        return None if row is None else account_from_row(row)

    async def grant(self, tenant_id: str) -> StoredGrant | None:
        row = await self._pool.fetchrow(SELECT_GRANT, tenant_id)
        if row is None:
            return None
        return StoredGrant(
            plan=PlanType(row["plan"]),
            status=SubscriptionStatus(row["status"]),
            as_of=row["updated_at"],
        )

    async def linked_accounts(
        self, *, tenant_id: str | None, after: str | None, limit: int
    ) -> list[LinkedAccount]:
        rows = await self._pool.fetch(
            f"SELECT tenant_id, stripe_customer_id, stripe_subscription_id FROM {TABLE} "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "WHERE (stripe_customer_id IS NOT NULL OR stripe_subscription_id IS NOT NULL) "
            "AND ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR tenant_id > $2) "
            "ORDER BY tenant_id LIMIT $3",
            tenant_id,
            after,
            limit,
        )
        return [
            LinkedAccount(
                tenant_id=row["tenant_id"],
                stripe_customer_id=row["stripe_customer_id"],
                stripe_subscription_id=row["stripe_subscription_id"],
            )
            for row in rows
        ]

    async def accounts_page(self, *, after: str | None, limit: int) -> list[ListedAccount]:
        rows = await self._pool.fetch(SELECT_PAGE, after, limit)
        return [
            ListedAccount(account=account_from_row(row), updated_at=row["updated_at"])
            for row in rows
        ]
