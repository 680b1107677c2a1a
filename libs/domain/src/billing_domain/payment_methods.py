"""Payment methods and invoices as the tenant sees them (customer self-service).

Rules only: when a card is "expiring soon", which method becomes the default when the
default goes, when a method may not be removed, and what "something is due" means
for an invoice. No I/O; the subscriptions service keeps the projections.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from billing_domain.errors import Conflict

EXPIRING_SOON_DAYS = 20
"""A card is expiring soon within this many days of the end of its expiry month (the same
horizon as the card-expiring email of the notifications service)."""

PAYABLE_STATUSES = frozenset({"open"})
"""An invoice one can pay now: finalized and not settled (Stripe's ``open``)."""

INVOICE_STATUS_RANK = {"draft": 0, "open": 1, "paid": 2, "uncollectible": 2, "void": 2}
"""How far along an invoice's life a status is: of two events of the same second, the
one further along wins (``invoice.finalized`` and ``invoice.paid`` often share a second)."""


@dataclass(frozen=True, kw_only=True)
class CardOnFile:
    """A customer's card as we show it: never more of the card than this."""

    payment_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    created: datetime | None = None

    def expires_at(self) -> datetime | None:
        """The card's last valid instant: the end of its expiry month (UTC)."""
        if self.exp_month is None or self.exp_year is None:
            return None
        if not 1 <= self.exp_month <= 12 or not 1 <= self.exp_year <= 9998:
            return None
        last_day = calendar.monthrange(self.exp_year, self.exp_month)[1]
        return datetime(self.exp_year, self.exp_month, last_day, tzinfo=UTC) + timedelta(days=1)

    def expiring_soon(self, now: datetime) -> bool:
        """Within ``EXPIRING_SOON_DAYS`` of its month's end (an expired card is too)."""
        end = self.expires_at()
        return end is not None and end - now <= timedelta(days=EXPIRING_SOON_DAYS)

    def expired(self, now: datetime) -> bool:
        end = self.expires_at()
        return end is not None and end <= now


def replacement_default(
    removed: str, methods: Sequence[CardOnFile], now: datetime
) -> CardOnFile | None:
    """The method that becomes the default when ``removed`` (the default) goes: the card
    that expires last among the unexpired others, the newest on a tie; ``None`` when no
    other usable card is on file."""
    usable = [m for m in methods if m.payment_method_id != removed and not m.expired(now)]
    if not usable:
        return None
    floor = datetime.min.replace(tzinfo=UTC)
    return max(usable, key=lambda m: (m.expires_at() or floor, m.created or floor))


def refuse_removing_last_method(
    removed: str, methods: Sequence[CardOnFile], *, paid_subscription: bool
) -> None:
    """409 when ``removed`` is the only method of a tenant that pays for a subscription:
    its renewals would have nothing to charge."""
    others = [m for m in methods if m.payment_method_id != removed]
    if paid_subscription and not others:
        raise Conflict(
            "this is the only payment method of a paid subscription; add another card first",
            code="last_payment_method",
        )


def refuse_unless_payable(status: str | None, amount_remaining: int) -> None:
    """409 when nothing is due on the invoice (paid, void, draft, or nothing left to pay)."""
    if status not in PAYABLE_STATUSES or amount_remaining <= 0:
        raise Conflict(
            f"nothing is due on this invoice (status {status or 'unknown'})",
            code="nothing_due",
        )


def further_along(current: str | None, incoming: str | None) -> bool:
    """True when ``incoming`` is at least as far along the invoice's life as ``current``."""
    return INVOICE_STATUS_RANK.get(incoming or "", -1) >= INVOICE_STATUS_RANK.get(current or "", -1)
