"""What handling an event will read from Stripe, read BEFORE its transaction opens.

No database transaction (and so no row lock) is held across a Stripe call: the
worker reads ahead what ``processing._handle`` will ask for, into a
``StripeSnapshot``, and the handling, inside the finishing transaction, reads
only the snapshot. The reads follow the handling's own decisions: nothing for an
event that is ignored, deleted or names its tenant without needing the customer;
the customer only when the customer map does not know it (a short read of its
own); the subscription and schedule a translation looks up.

A read the snapshot lacks (the customer map changed in between, a rare race) is
``ReadAheadMissed``, a transient failure: the next attempt reads ahead again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from billing_domain.errors import NotFound
from billing_platform.stripe_reading import customer_tenant

from webhooks import translate
from webhooks.ports import StoredEvent

if TYPE_CHECKING:
    from webhooks.use_cases.processing import ProcessingDeps


class ReadAheadMissed(Exception):  # noqa: N818 - named for what happened
    """Handling needed a Stripe object nobody read ahead; retry (the next attempt will)."""

    retryable = True  # billing_platform.failures: transient


class StripeSnapshot:
    """A ``StripeReader`` answering from what was read ahead (a ``NotFound`` included)."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str], Mapping[str, Any] | NotFound] = {}

    def keep(self, kind: str, object_id: str, found: Mapping[str, Any] | NotFound) -> None:
        self._objects[(kind, object_id)] = found

    async def customer(self, customer_id: str) -> Mapping[str, Any]:
        return self._get("customer", customer_id)

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]:
        return self._get("subscription", subscription_id)

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]:
        return self._get("schedule", schedule_id)

    async def invoice_payments(self, invoice_id: str) -> Mapping[str, Any]:
        return self._get("invoice_payments", invoice_id)

    def _get(self, kind: str, object_id: str) -> Mapping[str, Any]:
        try:
            found = self._objects[(kind, object_id)]
        except KeyError:
            raise ReadAheadMissed(f"{kind} {object_id} was not read ahead") from None
        if isinstance(found, NotFound):
            raise found
        return found


async def read_ahead_batch(
    claimed: Sequence[StoredEvent], deps: ProcessingDeps
) -> list[StripeSnapshot | Exception | None]:
    """Each event's snapshot, or the exception its reads raised; one event after
    another (a tenant's Stripe budget refuses bursts). Past half the lease the rest
    are not read (``None``): they are put back, due at once, no attempt counted."""
    started = time.monotonic()
    budget = deps.lease.total_seconds() / 2
    reads: list[StripeSnapshot | Exception | None] = []
    for stored in claimed:
        if time.monotonic() - started > budget:
            reads.append(None)
            continue
        try:
            reads.append(await read_ahead(stored, deps))
        except Exception as exc:
            reads.append(exc)
    return reads


async def read_ahead(stored: StoredEvent, deps: ProcessingDeps) -> StripeSnapshot:
    """Everything ``_handle`` will read from Stripe for this event (see the module doc).
    A subscription or schedule Stripe does not have fails the attempt, as in handling."""
    body, snapshot, stripe = stored.payload, StripeSnapshot(), deps.stripe
    kind = body.get("type")
    if (
        deps.trust.refusal(body) is not None
        or kind not in translate.HANDLED_TYPES
        or kind == translate.CUSTOMER_DELETED
    ):
        return snapshot
    customer = translate.customer_id(body)
    if translate.tenant_hint(body) is None:
        if customer is None:
            return snapshot  # parked
        if await _mapped_tenant(customer, deps) is None:
            try:
                found = await stripe.customer(customer)
            except NotFound as missing:
                snapshot.keep("customer", customer, missing)
                return snapshot  # parked
            snapshot.keep("customer", customer, found)
            if customer_tenant(found) is None:
                return snapshot  # parked
    if kind in translate.CUSTOMER_TYPES:
        return snapshot
    needs = translate.lookups(body)
    subscription = None
    if needs.subscription_id is not None:
        subscription = await stripe.subscription(needs.subscription_id)
        snapshot.keep("subscription", needs.subscription_id, subscription)
    schedule_id = needs.schedule_id
    if needs.schedule_of_subscription and subscription is not None:
        schedule_id = translate.schedule_id_of(subscription)
    if schedule_id is not None:
        snapshot.keep("schedule", schedule_id, await stripe.subscription_schedule(schedule_id))
    if needs.invoice_payments_of is not None:
        invoice = needs.invoice_payments_of
        snapshot.keep("invoice_payments", invoice, await stripe.invoice_payments(invoice))
    return snapshot


async def _mapped_tenant(customer: str, deps: ProcessingDeps) -> str | None:
    uow = deps.uow_factory()
    async with uow:
        return await uow.customers.tenant_of(customer)
