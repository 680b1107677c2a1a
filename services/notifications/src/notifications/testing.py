"""Fakes of the notifications ports (tests only; an import-linter contract keeps
production code off this module) and a ``World`` wiring them for the use cases."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from billing_domain import events as ev
from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.billing_events import ConsumedEvent
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.fakes import FakeMessageInbox, FakeUnitOfWork

from notifications.config import NotificationsConfig
from notifications.kinds import MailKind
from notifications.ports import (
    CardRecord,
    ClaimedMail,
    MailDeferred,
    MailRejected,
    OutgoingMail,
    QueuedMail,
    Recipient,
    SendLogEntry,
    TenantState,
)
from notifications.use_cases.sending import SenderDeps


@dataclass
class SendRow:
    id: int
    mail: QueuedMail
    status: str = "pending"
    to: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    finished_at: datetime | None = None


@dataclass
class Tables:
    recipients: dict[str, Recipient] = field(default_factory=dict)
    states: dict[str, TenantState] = field(default_factory=dict)
    cards: dict[tuple[str, str], CardRecord] = field(default_factory=dict)
    sends: dict[str, SendRow] = field(default_factory=dict)
    preferences: dict[tuple[str, MailKind], bool] = field(default_factory=dict)
    used_tokens: set[str] = field(default_factory=set)
    inbox: set[str] = field(default_factory=set)
    outbox: list[IntegrationEvent] = field(default_factory=list)


class _Recipients:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def get(self, tenant_id: str) -> Recipient | None:
        return self._uow.staged.recipients.get(tenant_id)

    async def save(self, recipient: Recipient) -> bool:
        found = self._uow.staged.recipients.get(recipient.tenant_id)
        if found is not None and found.as_of > recipient.as_of:
            return False
        self._uow.staged.recipients[recipient.tenant_id] = recipient
        return True


class _States:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def get(self, tenant_id: str) -> TenantState | None:
        return self._uow.staged.states.get(tenant_id)

    async def save(self, state: TenantState) -> None:
        self._uow.staged.states[state.tenant_id] = state


class _Cards:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def save(self, card: CardRecord) -> None:
        self._uow.staged.cards[(card.tenant_id, card.payment_method_id)] = card

    async def remove(self, tenant_id: str, payment_method_id: str) -> None:
        self._uow.staged.cards.pop((tenant_id, payment_method_id), None)

    async def default_cards(self) -> Sequence[CardRecord]:
        tables = self._uow.staged
        return [
            card
            for (tenant, method), card in sorted(tables.cards.items())
            if (r := tables.recipients.get(tenant)) and r.default_payment_method_id == method
        ]


class _Sends:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    @property
    def _rows(self) -> dict[str, SendRow]:
        return self._uow.staged.sends

    async def enqueue(self, mail: QueuedMail) -> bool:
        if mail.dedupe_key in self._rows:
            return False
        self._rows[mail.dedupe_key] = SendRow(
            id=len(self._rows) + 1, mail=mail, next_attempt_at=mail.created_at
        )
        return True

    async def ever_queued(self, kind: MailKind, tenant_id: str, subject_id: str) -> bool:
        return any(
            (r.mail.kind, r.mail.tenant_id, r.mail.subject_id) == (kind, tenant_id, subject_id)
            for r in self._rows.values()
        )

    async def claim_due(self, now: datetime, lease_until: datetime) -> ClaimedMail | None:
        due = [
            r
            for r in self._rows.values()
            if r.status == "pending" and r.next_attempt_at is not None and r.next_attempt_at <= now
        ]
        if not due:
            return None
        row = min(due, key=lambda r: (r.next_attempt_at or now, r.id))
        row.attempts += 1
        row.next_attempt_at = lease_until
        return ClaimedMail(
            id=row.id,
            kind=row.mail.kind,
            tenant_id=row.mail.tenant_id,
            subject_id=row.mail.subject_id,
            facts=dict(row.mail.facts),
            attempts=row.attempts,
            created_at=row.mail.created_at,
        )

    def _by_id(self, mail_id: int) -> SendRow:
        (row,) = (r for r in self._rows.values() if r.id == mail_id)
        return row

    async def finish(
        self, mail_id: int, *, status: str, to: str | None, error: str | None, now: datetime
    ) -> None:
        row = self._by_id(mail_id)
        row.status, row.to = status, to or row.to
        row.last_error, row.finished_at = error or row.last_error, now

    async def retry_at(self, mail_id: int, *, error: str, at: datetime) -> None:
        row = self._by_id(mail_id)
        row.last_error, row.next_attempt_at = error, at

    async def entries(
        self,
        *,
        tenant_id: str | None,
        kind: MailKind | None,
        limit: int,
        status: str | None = None,
    ) -> Sequence[SendLogEntry]:
        rows = sorted(self._rows.values(), key=lambda r: -r.id)
        return [
            SendLogEntry(
                id=r.id,
                kind=r.mail.kind,
                tenant_id=r.mail.tenant_id,
                subject_id=r.mail.subject_id,
                day=r.mail.day,
                status=r.status,
                to=r.to,
                attempts=r.attempts,
                last_error=r.last_error,
                created_at=r.mail.created_at,
                sent_at=r.finished_at if r.status == "sent" else None,
            )
            for r in rows
            if tenant_id in (None, r.mail.tenant_id)
            and kind in (None, r.mail.kind)
            and status in (None, r.status)
        ][:limit]


class _Preferences:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def disabled(self, tenant_id: str) -> frozenset[MailKind]:
        prefs = self._uow.staged.preferences
        return frozenset(k for (t, k), on in prefs.items() if t == tenant_id and not on)

    async def set(
        self, tenant_id: str, kind: MailKind, *, enabled: bool, by: str, now: datetime
    ) -> None:
        self._uow.staged.preferences[(tenant_id, kind)] = enabled


class _Unsubscribes:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def use(self, token_id: str, *, tenant_id: str, now: datetime) -> bool:
        used = self._uow.staged.used_tokens
        if token_id in used:
            return False
        used.add(token_id)
        return True


class _Outbox:
    def __init__(self, uow: FakeNotificationsUnitOfWork) -> None:
        self._uow = uow

    async def add(self, *events: IntegrationEvent) -> None:
        self._uow.staged.outbox.extend(events)


class FakeNotificationsUnitOfWork(FakeUnitOfWork[Tables]):
    """A transaction over a copy of the world's tables; a commit makes the copy the world's."""

    def __init__(self, world: World) -> None:
        self.world = world
        super().__init__()
        self.recipients = _Recipients(self)
        self.states = _States(self)
        self.cards = _Cards(self)
        self.sends = _Sends(self)
        self.preferences = _Preferences(self)
        self.unsubscribes = _Unsubscribes(self)
        self.outbox = _Outbox(self)
        self.inbox = FakeMessageInbox(set(), lambda: self.staged.inbox)

    def _new_stage(self) -> Tables:
        return copy.deepcopy(self.world.db)

    def _apply(self, staged: Tables) -> None:
        self.world.db = staged


class FakeMailTransport:
    """Records what it is given; ``defer`` / ``reject`` make the next sends fail so."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.defer = 0
        self.reject = 0

    async def send(self, mail: OutgoingMail) -> None:
        if self.defer:
            self.defer -= 1
            raise MailDeferred("421 try again later")
        if self.reject:
            self.reject -= 1
            raise MailRejected("550 no such mailbox")
        self.sent.append(mail)


def test_config(**changes: Any) -> NotificationsConfig:
    config = NotificationsConfig(
        app_base_url="https://app.example",
        mail_from="Billing <billing@example.com>",
        mail_reply_to="support@example.com",
        renewal_intervals=frozenset({"year"}),
        unsubscribe_secret=b"test-unsubscribe-secret",
        smtp=None,
    )
    return replace(config, **changes)


class World:
    """The fakes wired together: ``uow()``, ``deps()``, the clock and the transport."""

    def __init__(self, now: datetime | None = None) -> None:
        self.db = Tables()
        self.clock = FakeClock(now or datetime(2026, 11, 30, 12, tzinfo=UTC))
        self.transport = FakeMailTransport()
        self.config = test_config()

    def uow(self) -> FakeNotificationsUnitOfWork:
        return FakeNotificationsUnitOfWork(self)

    def deps(self) -> SenderDeps:
        return SenderDeps(
            uow_factory=self.uow, transport=self.transport, clock=self.clock, config=self.config
        )

    def consumed(self, event: IntegrationEvent, message_id: str | None = None) -> ConsumedEvent:
        return ConsumedEvent(
            message_id=message_id or str(event.id),
            routing_key=event.routing_key,
            event=event,
        )


def new_message_id() -> str:
    return str(uuid.uuid4())


class Events:
    """Billing events as their publishers send them (the ``data`` of the contract)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def _header(self, source: str, causation: str | None = None) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "occurred_at": self.clock.now(),
            "source": source,
            "causation_id": causation or f"evt_{uuid.uuid4().hex[:12]}",
        }

    def customer(
        self,
        tenant: str,
        email: str | None = "billing@tenant.example",
        *,
        locales: tuple[str, ...] = (),
        name: str | None = "Ada",
        default_method: str | None = None,
    ) -> ev.CustomerUpdated:
        return ev.CustomerUpdated(
            **self._header("webhooks"),
            tenant_id=tenant,
            stripe_customer_id=f"cus_{tenant}",
            email=email,
            name=name,
            preferred_locales=locales,
            default_payment_method_id=default_method,
            stripe_created=self.clock.now(),
        )

    def payment_failed(
        self, tenant: str, invoice: str = "in_1", *, amount: int = 4900, currency: str = "usd"
    ) -> ev.InvoicePaymentFailed:
        return ev.InvoicePaymentFailed(
            **self._header("webhooks"),
            tenant_id=tenant,
            stripe_invoice_id=invoice,
            stripe_customer_id=f"cus_{tenant}",
            stripe_subscription_id=f"sub_{tenant}",
            currency=currency,
            hosted_invoice_url=f"https://invoice.stripe.test/{invoice}",
            amount_due=amount,
            attempt_count=1,
            next_payment_attempt=self.clock.now() + timedelta(days=3),
            stripe_created=self.clock.now(),
        )

    def paid(self, tenant: str, invoice: str = "in_1", *, amount: int = 4900) -> ev.InvoicePaid:
        return ev.InvoicePaid(
            **self._header("webhooks"),
            tenant_id=tenant,
            stripe_invoice_id=invoice,
            stripe_customer_id=f"cus_{tenant}",
            currency="usd",
            amount_paid=amount,
            stripe_created=self.clock.now(),
        )

    def subscription(
        self,
        cls: type[ev.SubscriptionEvent],
        tenant: str,
        *,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
        source: str = "webhooks",
        **extra: Any,
    ) -> ev.SubscriptionEvent:
        return cls(
            **self._header(source),
            tenant_id=tenant,
            stripe_subscription_id=f"sub_{tenant}",
            stripe_customer_id=f"cus_{tenant}",
            plan=PlanType.TEAM,
            status=status,
            current_period_end=self.clock.now() + timedelta(days=20),
            trial_end=extra.pop("trial_end", None),
            stripe_created=self.clock.now(),
            **extra,
        )
