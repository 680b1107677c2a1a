"""From the aggregate's domain events to the integration events of the contract.

A use case that changed a ``BillingAccount`` (or described a change with
``account_changes.describe_changes``) turns what was recorded into messages
for its outbox::

    for message in to_integration_events(
        account.pull_events(), state=account.snapshot(), source="subscriptions",
        causation_id=stripe_event_id, clock=clock, stripe_created=mark.created,
    ):
        outbox.add(message)

``state`` is the subscription as it stands after the change; subscription
messages carry it whole. Domain events about a subscription are skipped when
there is no ``state`` to describe it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from billing_domain import account_events as domain
from billing_domain import events as integration
from billing_domain.clock import Clock
from billing_domain.entitlement_events import EntitlementsChanged
from billing_domain.envelope import IntegrationEvent, new_event
from billing_domain.subscription_snapshot import SubscriptionSnapshot


def to_integration_events(
    recorded: Iterable[domain.AccountEvent],
    *,
    state: SubscriptionSnapshot | None,
    source: str,
    causation_id: str,
    clock: Clock,
    stripe_created: datetime | None = None,
) -> list[IntegrationEvent]:
    messages: list[IntegrationEvent] = []
    for event in recorded:
        header: dict[str, Any] = {
            "tenant_id": event.tenant_id,
            "source": source,
            "causation_id": causation_id,
            "clock": clock,
            "stripe_created": stripe_created,
        }
        message = _invoice_message(event, header, state) or _entitlement_message(event, header)
        if message is None and state is not None:
            message = _subscription_message(event, header, state)
        if message is not None:
            messages.append(message)
    return messages


def _subscription_message(
    event: domain.AccountEvent, header: dict[str, Any], state: SubscriptionSnapshot
) -> IntegrationEvent | None:
    data = header | integration.snapshot_data(state)
    match event:
        case domain.SubscriptionActivated():
            return new_event(integration.SubscriptionActivated, **data)
        case domain.SubscriptionPlanChanged():
            return new_event(
                integration.SubscriptionPlanChanged,
                **data,
                from_plan=event.from_plan,
                to_plan=event.to_plan,
                effective=event.effective,
                effective_at=event.effective_at,
                from_interval=event.from_interval,
                to_interval=event.to_interval,
            )
        case domain.SubscriptionCancelScheduled():
            return new_event(integration.SubscriptionCancelScheduled, **data)
        case domain.SubscriptionResumed():
            return new_event(integration.SubscriptionResumed, **data)
        case domain.SubscriptionCanceled():
            data["plan"] = event.previous_plan
            return new_event(integration.SubscriptionCanceled, **data)
        case domain.SubscriptionUpdated() | domain.PendingPlanChangeDropped():
            return new_event(integration.SubscriptionUpdated, **data)
    return None


def _entitlement_message(
    event: domain.AccountEvent, header: dict[str, Any]
) -> IntegrationEvent | None:
    if not isinstance(event, domain.EntitlementsChanged):
        return None
    fields = {key: value for key, value in header.items() if key != "stripe_created"}
    return new_event(
        EntitlementsChanged,
        **fields,
        plan=event.to_plan,
        previous_plan=event.from_plan,
        stripe_subscription_id=event.subscription_id,
    )


def _invoice_message(
    event: domain.AccountEvent, header: dict[str, Any], state: SubscriptionSnapshot | None
) -> IntegrationEvent | None:
    ids: dict[str, Any] = {
        "stripe_customer_id": state.customer_id if state else "",
        "stripe_subscription_id": state.subscription_id if state else None,
    }
    match event:
        case domain.PaymentFailed():
            return new_event(
                integration.InvoicePaymentFailed,
                **header,
                **ids,
                stripe_invoice_id=event.invoice_id or "",
                amount_due=event.amount_due.amount,
                currency=event.amount_due.currency,
                hosted_invoice_url=event.hosted_invoice_url,
                next_payment_attempt=event.next_payment_attempt,
            )
        case domain.InvoicePaid():
            return new_event(
                integration.InvoicePaid,
                **header,
                **ids,
                stripe_invoice_id=event.invoice_id,
                amount_paid=event.amount_paid.amount,
                currency=event.amount_paid.currency,
            )
    return None
