"""Commands: what a caller asks this service to do (frozen, keyword-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.auth import Principal
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.billing_events import ConsumedEvent

from subscriptions.ports import QueuePosition


@dataclass(frozen=True, kw_only=True)
class GetSubscription:
    principal: Principal
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class CancelSubscription:
    principal: Principal
    tenant_id: str
    request_key: str
    """Makes the Stripe call idempotent: the caller's ``Idempotency-Key`` or a fresh id."""
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class ResumeSubscription:
    principal: Principal
    tenant_id: str
    request_key: str
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class GetEntitlements:
    principal: Principal
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class PreviewProration:
    principal: Principal
    tenant_id: str
    plan: str
    interval: str | None = None
    """``month`` | ``year``; None: the subscription's current interval."""
    when: str | None = None
    """``now`` | ``period_end``; None: upgrades now, downgrades at the period end."""


@dataclass(frozen=True, kw_only=True)
class WithdrawPendingChange:
    principal: Principal
    tenant_id: str
    request_key: str
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class ChangePlan:
    principal: Principal
    tenant_id: str
    plan: str
    interval: str | None = None
    when: str | None = None
    proration_date: datetime | None
    """The preview's ``proration_date``, so the invoice matches what was shown."""
    request_key: str
    causation_id: str


ProjectBillingEvent = ConsumedEvent
"""One message of ``billing.events`` to fold into the projection (the platform's type)."""


# -- operators: the failed-payment queue ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ListPastDue:
    principal: Principal
    statuses: tuple[SubscriptionStatus, ...]
    currency: str | None
    after: QueuePosition | None
    limit: int
    tenant_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OperatorTenantAction:
    """``retry-payment`` or ``remind`` on one tenant, by an operator."""

    principal: Principal
    tenant_id: str
    request_key: str
    """Makes the Stripe call idempotent: the caller's ``Idempotency-Key`` or a fresh id."""
    causation_id: str
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ListActions:
    principal: Principal
    tenant_id: str
    before: int | None
    limit: int


@dataclass(frozen=True, kw_only=True)
class ListAccounts:
    """Operators: every tenant's subscription as the projection holds it, by tenant id."""

    principal: Principal
    after: str | None
    limit: int
