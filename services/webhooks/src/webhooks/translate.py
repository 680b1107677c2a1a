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
from billing_domain import payment_events as pay
from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.stripe_rules import is_trial
from billing_domain.timestamps import from_unix
from billing_platform.stripe_reading import (
    CheckoutSessionReading,
    PaymentAttemptReading,
    PriceCatalog,
    read_checkout_session,
    read_customer,
    read_invoice,
    read_latest_payment_attempt,
    read_payment_method,
    read_subscription,
    read_upcoming_invoice,
    tenant_named_by,
)
from billing_platform.stripe_reading.fields import id_of, metadata, text
from billing_platform.stripe_reading.subscription import status_of

SOURCE = "webhooks"
MESSAGE_NAMESPACE = uuid.UUID("6f1c2a64-3f0e-4a43-9b8e-3d2f0f6b9a11")

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
        # the invoice as a document (number, totals, period, links): invoice history
        "invoice.created",
        "invoice.finalized",
        "invoice.updated",
    }
)
# An attempt to pay an invoice failed or waits for 3-D Secure: the invoice's payments say
# why and on which card (``read_latest_payment_attempt``).
ATTEMPT_TYPES = frozenset({"invoice.payment_failed", "invoice.payment_action_required"})
PAYMENT_METHOD_TYPES = frozenset(
    {
        "payment_method.attached",
        "payment_method.updated",
        "payment_method.automatically_updated",
        "payment_method.detached",
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
# Some days before a renewal: the next invoice as it will be (no id yet), with the
# subscription read for its interval (renewal reminders go to some intervals only).
INVOICE_UPCOMING = "invoice.upcoming"
HANDLED_TYPES = (
    SUBSCRIPTION_TYPES
    | CHECKOUT_TYPES
    | INVOICE_TYPES
    | CUSTOMER_TYPES
    | SCHEDULE_TYPES
    | PAYMENT_METHOD_TYPES
    | {CUSTOMER_DELETED, INVOICE_UPCOMING}
)


@dataclass(frozen=True, kw_only=True)
class Lookups:
    """What the worker must read through the Stripe port before translating."""

    schedule_id: str | None = None
    subscription_id: str | None = None
    # read the subscription's current schedule too (after reading the subscription)
    schedule_of_subscription: bool = False
    # the invoice whose payments to read: why its latest attempt failed, on which card
    invoice_payments_of: str | None = None


def data_object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    obj = body["data"]["object"]
    assert isinstance(obj, Mapping)
    return obj


def tenant_hint(body: Mapping[str, Any]) -> str | None:
    """The tenant the object itself names (metadata, client reference, invoice parent)."""
    return tenant_named_by(data_object(body))


def customer_id(body: Mapping[str, Any]) -> str | None:
    obj = data_object(body)
    if body["type"] in CUSTOMER_TYPES or body["type"] == CUSTOMER_DELETED:
        return text(obj, "id")
    if body["type"] in PAYMENT_METHOD_TYPES:
        return payment_method_customer(body)
    return id_of(obj.get("customer"))


def payment_method_customer(body: Mapping[str, Any]) -> str | None:
    """A detached payment method no longer names its customer: Stripe puts the one it
    left in ``data.previous_attributes.customer``."""
    found = id_of(data_object(body).get("customer"))
    if found is None:
        previous = body["data"].get("previous_attributes")
        if isinstance(previous, Mapping):
            found = id_of(previous.get("customer"))
    return found


def lookups(body: Mapping[str, Any]) -> Lookups:
    obj = data_object(body)
    event_type = body["type"]
    if event_type in SUBSCRIPTION_TYPES and event_type != "customer.subscription.deleted":
        return Lookups(schedule_id=id_of(obj.get("schedule")))
    if event_type in CHECKOUT_TYPES and not text(metadata(obj), "plan"):
        return Lookups(subscription_id=id_of(obj.get("subscription")))
    if event_type == INVOICE_UPCOMING:
        return Lookups(subscription_id=read_upcoming_invoice(obj).subscription_id)
    if event_type in SCHEDULE_TYPES:
        subscription = id_of(obj.get("subscription")) or id_of(obj.get("released_subscription"))
        return Lookups(subscription_id=subscription, schedule_of_subscription=True)
    if event_type in ATTEMPT_TYPES:
        return Lookups(invoice_payments_of=text(obj, "id"))
    return Lookups()


def schedule_id_of(subscription: Mapping[str, Any]) -> str | None:
    return id_of(subscription.get("schedule"))


def translate(
    body: Mapping[str, Any],
    *,
    tenant_id: str,
    plans: PriceCatalog,
    now: datetime,
    schedule: Mapping[str, Any] | None = None,
    subscription: Mapping[str, Any] | None = None,
    invoice_payments: Mapping[str, Any] | None = None,
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
        attempt = read_latest_payment_attempt(invoice_payments) if invoice_payments else None
        return [_invoice(event_type, obj, header, attempt)]
    if event_type in PAYMENT_METHOD_TYPES:
        return _payment_method(event_type, body, header)
    if event_type in CUSTOMER_TYPES:
        return [_customer(obj, header)]
    if event_type == INVOICE_UPCOMING:
        return [_upcoming(obj, header, plans, subscription)]
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
    plans: PriceCatalog,
    schedule: Mapping[str, Any] | None,
) -> list[ev.IntegrationEvent]:
    reading = read_subscription(sub, plans, schedule=schedule)
    data: dict[str, Any] = ev.snapshot_data(reading.snapshot)
    data["amount"] = reading.amount
    data["currency"] = reading.currency
    if event_type == "customer.subscription.trial_will_end":
        cls: type[ev.SubscriptionEvent] = ev.SubscriptionTrialWillEnd
    else:
        cls = ev.SubscriptionUpdated
    return [cls(**header.fields(cls.type), **data)]


def _checkout(
    event_type: str,
    obj: Mapping[str, Any],
    header: _Header,
    plans: PriceCatalog,
    subscription: Mapping[str, Any] | None,
) -> list[ev.IntegrationEvent]:
    session = read_checkout_session(obj)
    if session.mode == "setup":
        return []  # a card saved (setup mode): its payment_method.attached is what counts
    plan = _session_plan(session, plans, subscription)
    if event_type == "checkout.session.expired":
        expired = ev.CheckoutSessionExpired
        return [
            expired(
                **header.fields(expired.type), checkout_session_id=session.session_id, plan=plan
            )
        ]
    if event_type == "checkout.session.async_payment_failed":
        failed = ev.CheckoutAsyncPaymentFailed
        return [
            failed(
                **header.fields(failed.type),
                checkout_session_id=session.session_id,
                stripe_customer_id=session.customer_id,
                plan=plan,
            )
        ]
    if not session.provisions:
        return []  # complete but unpaid: wait for checkout.session.async_payment_succeeded
    if session.customer_id is None or plan is None:
        raise RuleViolated("a paid session without customer or plan", code="malformed_session")
    completed = ev.CheckoutCompleted
    return [
        completed(
            **header.fields(completed.type),
            checkout_session_id=session.session_id,
            stripe_customer_id=session.customer_id,
            stripe_subscription_id=session.subscription_id,
            plan=plan,
            trial=is_trial(
                trial_requested=session.trial_requested,
                status=status_of(subscription) if subscription else None,
            ),
            payment_status=session.payment_status or "",
            amount=session.amount_total,
            currency=session.currency,
            interval=_session_interval(session, plans, subscription),
        )
    ]


def _session_interval(
    session: CheckoutSessionReading,
    plans: PriceCatalog,
    subscription: Mapping[str, Any] | None,
) -> BillingInterval:
    """The interval bought: checkout's ``metadata.interval``, else the subscription's."""
    if session.interval_named is not None:
        return session.interval_named
    if subscription:
        return read_subscription(subscription, plans).snapshot.interval
    return BillingInterval.MONTH


def _session_plan(
    session: CheckoutSessionReading,
    plans: PriceCatalog,
    subscription: Mapping[str, Any] | None,
) -> PlanType | None:
    if session.plan_named is not None:
        return session.plan_named
    if subscription:
        return read_subscription(subscription, plans).snapshot.plan
    return None


def _payment_method(
    event_type: str, body: Mapping[str, Any], header: _Header
) -> list[ev.IntegrationEvent]:
    card = read_payment_method(data_object(body))
    customer = payment_method_customer(body)
    if customer is None:
        raise RuleViolated("a payment method event without customer", code="malformed_event")
    data = card.event_data(customer)
    if event_type == "payment_method.attached":
        return [pay.PaymentMethodAttached(**header.fields("payment_method.attached"), **data)]
    if event_type == "payment_method.detached":
        return [pay.PaymentMethodDetached(**header.fields("payment_method.detached"), **data)]
    automatic = event_type == "payment_method.automatically_updated"
    updated = pay.PaymentMethodUpdated
    return [updated(**header.fields(updated.type), **data, automatic=automatic)]


_DOCUMENT_EVENTS: dict[str, type[pay.InvoiceDocumentEvent]] = {
    "invoice.created": pay.InvoiceCreated,
    "invoice.finalized": pay.InvoiceFinalized,
    "invoice.updated": pay.InvoiceUpdated,
}


def _upcoming(
    obj: Mapping[str, Any],
    header: _Header,
    plans: PriceCatalog,
    subscription: Mapping[str, Any] | None,
) -> ev.IntegrationEvent:
    upcoming = read_upcoming_invoice(obj)
    read = read_subscription(subscription, plans) if subscription else None
    period_end = read.snapshot.current_period_end if read else None
    return ev.InvoiceUpcoming(
        **header.fields(ev.InvoiceUpcoming.type),
        stripe_customer_id=upcoming.customer_id,
        stripe_subscription_id=upcoming.subscription_id,
        amount_due=upcoming.amount_due,
        currency=upcoming.currency,
        interval=read.interval if read else None,
        renews_at=upcoming.next_payment_attempt or period_end or upcoming.period_end,
    )


def _customer(obj: Mapping[str, Any], header: _Header) -> ev.IntegrationEvent:
    """Stripe ``customer.created`` and ``customer.updated`` both give the customer as it
    now stands (billing email, locales, default payment method): one billing event,
    ``customer.updated`` (checkout publishes ``customer.created`` when it makes one)."""
    updated = ev.CustomerUpdated
    return updated(**header.fields(updated.type), **read_customer(obj).event_data())


def _invoice(
    event_type: str,
    obj: Mapping[str, Any],
    header: _Header,
    attempt: PaymentAttemptReading | None = None,
) -> ev.IntegrationEvent:
    invoice = read_invoice(obj)
    common = invoice.event_data()
    document = _DOCUMENT_EVENTS.get(event_type)
    if document is not None:
        return document(**header.fields(document.type), **common, amount_due=invoice.amount_due)
    if event_type == "invoice.paid":
        return ev.InvoicePaid(
            **header.fields(ev.InvoicePaid.type), **common, amount_paid=invoice.amount_paid
        )
    if event_type == "invoice.payment_failed":
        return ev.InvoicePaymentFailed(
            **header.fields(ev.InvoicePaymentFailed.type),
            **common,
            amount_due=invoice.amount_due,
            next_payment_attempt=invoice.next_payment_attempt,
            attempt_count=max(invoice.attempt_count, 1),
            **(attempt.event_data() if attempt else {}),
        )
    if event_type == "invoice.voided":
        return ev.InvoiceVoided(**header.fields(ev.InvoiceVoided.type), **common)
    if event_type == "invoice.marked_uncollectible":
        return ev.InvoiceMarkedUncollectible(
            **header.fields(ev.InvoiceMarkedUncollectible.type),
            **common,
            amount_due=invoice.amount_due,
        )
    return ev.InvoicePaymentActionRequired(
        **header.fields(ev.InvoicePaymentActionRequired.type),
        **common,
        amount_due=invoice.amount_due,
        attempt_count=max(invoice.attempt_count, 1),
        card_brand=attempt.card_brand if attempt else None,
        card_last4=attempt.card_last4 if attempt else None,
    )
