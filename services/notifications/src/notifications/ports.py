"""Ports of the notifications service and the plain values that cross them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from billing_domain.envelope import IntegrationEvent
from billing_platform.messaging.inbox import MessageInbox
from billing_platform.messaging.outbox import AfterCommit
from billing_platform.uow import TransactionalUnitOfWork

from notifications.kinds import MailKind

Facts = Mapping[str, Any]
"""What a mail says (amounts, dates, links): JSON-able, kept in the send log."""


@dataclass(frozen=True, kw_only=True)
class Recipient:
    """The tenant's billing contact: the Stripe customer (``customer.updated``)."""

    tenant_id: str
    customer_id: str
    email: str | None
    name: str | None
    locales: tuple[str, ...] = ()
    default_payment_method_id: str | None = None
    as_of: datetime


@dataclass(frozen=True, kw_only=True)
class TenantState:
    """The least state needed to check, right before sending, that a mail still holds."""

    tenant_id: str
    status: str | None = None
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    open_invoice_id: str | None = None
    """The invoice whose payment failed and is not settled yet."""
    open_failure: Facts | None = None
    """The facts of that failure (amount, attempt ...), for an operator's reminder."""
    subscription_as_of: datetime | None = None
    invoice_as_of: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CardRecord:
    tenant_id: str
    payment_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True, kw_only=True)
class QueuedMail:
    kind: MailKind
    tenant_id: str
    subject_id: str
    day: date
    facts: Facts = field(default_factory=dict)
    created_at: datetime

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind.value}|{self.tenant_id}|{self.subject_id}|{self.day.isoformat()}"


@dataclass(frozen=True, kw_only=True)
class ClaimedMail:
    id: int
    kind: MailKind
    tenant_id: str
    subject_id: str
    facts: Facts
    attempts: int
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class SendLogEntry:
    id: int
    kind: MailKind
    tenant_id: str
    subject_id: str
    day: date
    status: str
    to: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class OutgoingMail:
    """A rendered mail, ready for the transport."""

    to: str
    subject: str
    text: str
    html: str
    kind: MailKind
    headers: Mapping[str, str] = field(default_factory=dict)


class MailDeferred(Exception):  # noqa: N818 - an outcome, named as the mail's state
    """The server could not take it now (4xx, connection lost, timeout): retry later."""


class MailRejected(Exception):  # noqa: N818
    """The server refused it for good (5xx): the mail is ``failed``."""


class MailTransport(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


class RecipientRepository(Protocol):
    async def get(self, tenant_id: str) -> Recipient | None: ...

    async def save(self, recipient: Recipient) -> bool:
        """Store unless a newer reading is stored (ordering guard); True when stored."""
        ...


class StateRepository(Protocol):
    async def get(self, tenant_id: str) -> TenantState | None: ...

    async def save(self, state: TenantState) -> None: ...


class CardRepository(Protocol):
    async def save(self, card: CardRecord) -> None: ...

    async def remove(self, tenant_id: str, payment_method_id: str) -> None: ...

    async def default_cards(self) -> Sequence[CardRecord]:
        """Every tenant's default card (the one its renewals are charged to)."""
        ...


class SendLog(Protocol):
    async def enqueue(self, mail: QueuedMail) -> bool:
        """Queue once per dedupe key; False when that mail was queued before."""
        ...

    async def ever_queued(self, kind: MailKind, tenant_id: str, subject_id: str) -> bool: ...

    async def claim_due(self, now: datetime, lease_until: datetime) -> ClaimedMail | None: ...

    async def finish(
        self, mail_id: int, *, status: str, to: str | None, error: str | None, now: datetime
    ) -> None:
        """``sent``, ``failed`` or ``skipped``: the mail is done."""
        ...

    async def retry_at(self, mail_id: int, *, error: str, at: datetime) -> None: ...

    async def entries(
        self,
        *,
        tenant_id: str | None,
        kind: MailKind | None,
        limit: int,
        status: str | None = None,
    ) -> Sequence[SendLogEntry]: ...


class PreferenceRepository(Protocol):
    async def disabled(self, tenant_id: str) -> frozenset[MailKind]: ...

    async def set(
        self, tenant_id: str, kind: MailKind, *, enabled: bool, by: str, now: datetime
    ) -> None: ...


class UnsubscribeLedger(Protocol):
    async def use(self, token_id: str, *, tenant_id: str, now: datetime) -> bool:
        """Record a token's use; False when it was used before."""
        ...


class EventOutbox(Protocol):
    async def add(self, *events: IntegrationEvent) -> None: ...


class UnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def recipients(self) -> RecipientRepository: ...

    @property
    def states(self) -> StateRepository: ...

    @property
    def cards(self) -> CardRepository: ...

    @property
    def sends(self) -> SendLog: ...

    @property
    def preferences(self) -> PreferenceRepository: ...

    @property
    def unsubscribes(self) -> UnsubscribeLedger: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def inbox(self) -> MessageInbox: ...

    @property
    def after_commit(self) -> AfterCommit: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
