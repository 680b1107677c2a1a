"""Stripe events -> billing integration events: the only place that knows their shapes.

Pure functions of the stored payload plus what the worker looked up (the
tenant, and a subscription schedule or subscription when the event lacks
them). The mapping is documented in ``docs/events.md``. Message ids are
derived from the Stripe event id, so translating the same event twice yields
the same messages (the outbox and every inbox drop the copy).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_domain import events as ev
from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType, parse_plan
from billing_domain.status import SubscriptionStatus, parse_status
from billing_domain.subscription_snapshot import PendingPlanChange
from billing_domain.timestamps import from_unix

from webhooks.stripe_reading import (
    PlanCatalog,
    integer,
    invoice_subscription,
    metadata,
    period_end,
    ref_id,
    text,
    timestamp,
)

SOURCE = "webhooks"
MESSAGE_NAMESPACE = uuid.UUID("6f1c2a64-3f0e-4a43-9b8e-3d2f0f6b9a11")
PROVISIONING_PAYMENT_STATUSES = frozenset({"paid", "no_payment_required"})

SUBSCRIPTION_TYPES = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        # a pause (trial ended without a payment method, or paused by us) and its end:
        # the subscription as it now stands, status ``paused`` / back to ``active``
        "customer.subscription.paused",
        "customer.subscription.resumed",
    }
)
CHECKOUT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
INVOICE_TYPES = frozenset(
    {
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)
CUSTOMER_TYPES = frozenset({"customer.created", "customer.updated"})
# The customer is gone: its customer -> tenant entry is retired (never resolves again).
CUSTOMER_DELETED = "customer.deleted"
# A schedule's phases are the pending plan change (downgrade at period end); changing
# them emits only subscription_schedule.*, never customer.subscription.updated.
SCHEDULE_TYPES = frozenset(
    {
        "subscription_schedule.created",
        "subscription_schedule.updated",
        "subscription_schedule.released",
        "subscription_schedule.canceled",
        "subscription_schedule.completed",
        "subscription_schedule.aborted",
    }
)
HANDLED_TYPES = (
    SUBSCRIPTION_TYPES
    | CHECKOUT_TYPES
    | INVOICE_TYPES
    | CUSTOMER_TYPES
    | SCHEDULE_TYPES
    | {CUSTOMER_DELETED}
)


@dataclass(frozen=True, kw_only=True)
class Lookups:
    """What the worker must read through the Stripe port before translating."""

    schedule_id: str | None = None
    subscription_id: str | None = None
    # read the subscription's current schedule too (after reading the subscription)
    schedule_of_subscription: bool = False


def data_object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    obj = body["data"]["object"]
    assert isinstance(obj, Mapping)
    return obj


def tenant_hint(body: Mapping[str, Any]) -> str | None:
    """The tenant the object itself names (metadata, client reference, invoice parent)."""
    obj = data_object(body)
    named = text(metadata(obj), "tenant_id") or text(obj, "client_reference_id")
    if named:
        return named
    if body["type"] in INVOICE_TYPES:
        return text(invoice_subscription(obj)[1], "tenant_id")
    return None


def customer_id(body: Mapping[str, Any]) -> str | None:
    obj = data_object(body)
    if body["type"] in CUSTOMER_TYPES or body["type"] == CUSTOMER_DELETED:
        return text(obj, "id")
    return ref_id(obj.get("customer"))


def lookups(body: Mapping[str, Any]) -> Lookups:
    obj = data_object(body)
    event_type = body["type"]
    if event_type in SUBSCRIPTION_TYPES and event_type != "customer.subscription.deleted":
        return Lookups(schedule_id=ref_id(obj.get("schedule")))
    if event_type in CHECKOUT_TYPES and not text(metadata(obj), "plan"):
        return Lookups(subscription_id=ref_id(obj.get("subscription")))
    if event_type in SCHEDULE_TYPES:
        subscription = ref_id(obj.get("subscription")) or ref_id(obj.get("released_subscription"))
        return Lookups(subscription_id=subscription, schedule_of_subscription=True)
    return Lookups()


def schedule_id_of(subscription: Mapping[str, Any]) -> str | None:
    return ref_id(subscription.get("schedule"))


def translate(
    body: Mapping[str, Any],
    *,
    tenant_id: str,
    plans: PlanCatalog,
    now: datetime,
    schedule: Mapping[str, Any] | None = None,
    subscription: Mapping[str, Any] | None = None,
) -> list[ev.IntegrationEvent]:
    """The billing events one Stripe event stands for (possibly none)."""
    event_type = body["type"]
    header = _Header(body, tenant_id, now)
    obj = data_object(body)
    if event_type in SUBSCRIPTION_TYPES:
        return _subscription(event_type, obj, header, plans, schedule)
    if event_type in CHECKOUT_TYPES:
        return _checkout(event_type, obj, header, plans, subscription)
    if event_type in INVOICE_TYPES:
        return [_invoice(event_type, obj, header)]
    if event_type in SCHEDULE_TYPES and subscription is not None:
        # the subscription as it stands now, with its current schedule (both read fresh)
        return _subscription(event_type, subscription, header, plans, schedule)
    return []


class _Header:
    def __init__(self, body: Mapping[str, Any], tenant_id: str, now: datetime) -> None:
        self.stripe_event_id: str = body["id"]
        self.stripe_created = from_unix(body["created"])
        self.tenant_id = tenant_id
        self.now = now

    def fields(self, event_type: str) -> dict[str, Any]:
        return {
            "id": uuid.uuid5(MESSAGE_NAMESPACE, f"{self.stripe_event_id}/{event_type}"),
            "occurred_at": self.now,
            "tenant_id": self.tenant_id,
            "source": SOURCE,
            "causation_id": self.stripe_event_id,
            "stripe_created": self.stripe_created,
        }


def _subscription(
    event_type: str,
    sub: Mapping[str, Any],
    header: _Header,
    plans: PlanCatalog,
    schedule: Mapping[str, Any] | None,
) -> list[ev.IntegrationEvent]:
    customer = ref_id(sub.get("customer"))
    subscription_id = text(sub, "id")
    if not customer or not subscription_id:
        raise RuleViolated("subscription without id or customer", code="malformed_subscription")
    plan = plans.plan_of_subscription(sub)
    end = period_end(sub)
    cancel_at = timestamp(sub, "cancel_at")
    pending = _pending_plan(schedule, plan, plans)
    data: dict[str, Any] = {
        "stripe_subscription_id": subscription_id,
        "stripe_customer_id": customer,
        "plan": plan,
        "status": _status(sub),
        "cancel_at_period_end": sub.get("cancel_at_period_end") is True
        or (cancel_at is not None and end is not None and cancel_at <= end),
        "current_period_end": end,
        "trial_end": timestamp(sub, "trial_end"),
        "pending_plan": pending.plan if pending else None,
        "pending_plan_effective_at": pending.effective_at if pending else None,
    }
    if event_type == "customer.subscription.trial_will_end":
        cls: type[ev.SubscriptionEvent] = ev.SubscriptionTrialWillEnd
    else:
        cls = ev.SubscriptionUpdated
    return [cls(**header.fields(cls.type), **data)]


def _status(sub: Mapping[str, Any]) -> SubscriptionStatus:
    raw = text(sub, "status")
    if raw is None:
        raise RuleViolated("subscription without status", code="malformed_subscription")
    return parse_status(raw)


def _pending_plan(
    schedule: Mapping[str, Any] | None, current: PlanType, plans: PlanCatalog
) -> PendingPlanChange | None:
    """The next phase of an active schedule that changes the plan (a downgrade at period end)."""
    if not schedule or text(schedule, "status") not in {"not_started", "active"}:
        return None
    current_phase = schedule.get("current_phase")
    current_end = integer(current_phase, "end_date") if isinstance(current_phase, Mapping) else 0
    phases = schedule.get("phases")
    for phase in phases if isinstance(phases, list) else []:
        if not isinstance(phase, Mapping) or integer(phase, "start_date") < current_end:
            continue
        items = phase.get("items")
        if not isinstance(items, list) or not items or not isinstance(items[0], Mapping):
            continue
        plan = plans.plan_of_price(items[0].get("price"))
        if plan is not current:
            return PendingPlanChange(
                plan=plan, effective_at=from_unix(integer(phase, "start_date"))
            )
    return None


def _checkout(
    event_type: str,
    session: Mapping[str, Any],
    header: _Header,
    plans: PlanCatalog,
    subscription: Mapping[str, Any] | None,
) -> list[ev.IntegrationEvent]:
    session_id = text(session, "id")
    if session_id is None:
        raise RuleViolated("checkout session without id", code="malformed_session")
    plan = _session_plan(session, plans, subscription)
    customer = ref_id(session.get("customer"))
    if event_type == "checkout.session.expired":
        cls_expired = ev.CheckoutSessionExpired
        return [
            cls_expired(
                **header.fields(cls_expired.type), checkout_session_id=session_id, plan=plan
            )
        ]
    if event_type == "checkout.session.async_payment_failed":
        failed = ev.CheckoutAsyncPaymentFailed
        return [
            failed(
                **header.fields(failed.type),
                checkout_session_id=session_id,
                stripe_customer_id=customer,
                plan=plan,
            )
        ]
    if not provisions(session):
        return []  # complete but unpaid: wait for checkout.session.async_payment_succeeded
    if customer is None or plan is None:
        raise RuleViolated("a paid session without customer or plan", code="malformed_session")
    completed = ev.CheckoutCompleted
    return [
        completed(
            **header.fields(completed.type),
            checkout_session_id=session_id,
            stripe_customer_id=customer,
            stripe_subscription_id=ref_id(session.get("subscription")),
            plan=plan,
            trial=_is_trial(session),
            payment_status=text(session, "payment_status") or "",
            amount=integer(session, "amount_total"),
            currency=text(session, "currency") or "usd",
        )
    ]


def provisions(session: Mapping[str, Any]) -> bool:
    """The provisioning rule: complete AND (paid OR no payment required)."""
    return (
        session.get("status") == "complete"
        and session.get("payment_status") in PROVISIONING_PAYMENT_STATUSES
    )


def _session_plan(
    session: Mapping[str, Any], plans: PlanCatalog, subscription: Mapping[str, Any] | None
) -> PlanType | None:
    named = text(metadata(session), "plan")
    if named:
        return parse_plan(named)
    if subscription:
        return plans.plan_of_subscription(subscription)
    return None


def _is_trial(session: Mapping[str, Any]) -> bool:
    flag = text(metadata(session), "trial")
    if flag is not None:
        return flag.lower() == "true"
    return session.get("payment_status") == "no_payment_required"


def _invoice(event_type: str, invoice: Mapping[str, Any], header: _Header) -> ev.IntegrationEvent:
    invoice_id = text(invoice, "id")
    customer = ref_id(invoice.get("customer"))
    if invoice_id is None or customer is None:
        raise RuleViolated("invoice without id or customer", code="malformed_invoice")
    common: dict[str, Any] = {
        "stripe_invoice_id": invoice_id,
        "stripe_customer_id": customer,
        "stripe_subscription_id": invoice_subscription(invoice)[0],
        "currency": text(invoice, "currency") or "usd",
        "hosted_invoice_url": text(invoice, "hosted_invoice_url"),
    }
    if event_type == "invoice.paid":
        return ev.InvoicePaid(
            **header.fields(ev.InvoicePaid.type),
            **common,
            amount_paid=integer(invoice, "amount_paid"),
        )
    if event_type == "invoice.payment_failed":
        return ev.InvoicePaymentFailed(
            **header.fields(ev.InvoicePaymentFailed.type),
            **common,
            amount_due=integer(invoice, "amount_due"),
            next_payment_attempt=timestamp(invoice, "next_payment_attempt"),
            attempt_count=max(integer(invoice, "attempt_count", 1), 1),
        )
    if event_type == "invoice.voided":
        return ev.InvoiceVoided(**header.fields(ev.InvoiceVoided.type), **common)
    if event_type == "invoice.marked_uncollectible":
        return ev.InvoiceMarkedUncollectible(
            **header.fields(ev.InvoiceMarkedUncollectible.type),
            **common,
            amount_due=integer(invoice, "amount_due"),
        )
    return ev.InvoicePaymentActionRequired(
        **header.fields(ev.InvoicePaymentActionRequired.type),
        **common,
        amount_due=integer(invoice, "amount_due"),
    )
