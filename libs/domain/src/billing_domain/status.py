"""Subscription status: every status Stripe knows, with the label users see."""

from __future__ import annotations

from enum import StrEnum

from billing_domain.errors import RuleViolated


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"

    @property
    def label(self) -> str:
        """The human label shown in the UI (``status_label`` in the API)."""
        return _LABELS[self]

    @property
    def has_paid_access(self) -> bool:
        """Whether the tenant gets the features of its paid plan in this status.

        ``past_due`` keeps access while Stripe retries the payment (dunning).
        """
        return self in _PAID_ACCESS

    @property
    def is_ended(self) -> bool:
        """The subscription is over for good: the tenant is back on the free plan."""
        return self in _ENDED


_LABELS: dict[SubscriptionStatus, str] = {
    SubscriptionStatus.TRIALING: "Trial",
    SubscriptionStatus.ACTIVE: "Active",
    SubscriptionStatus.PAST_DUE: "Past Due",
    SubscriptionStatus.CANCELED: "Canceled",
    SubscriptionStatus.UNPAID: "Unpaid",
    SubscriptionStatus.INCOMPLETE: "Incomplete",
    SubscriptionStatus.INCOMPLETE_EXPIRED: "Expired",
    SubscriptionStatus.PAUSED: "Paused",
}
_PAID_ACCESS = frozenset(
    {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE}
)
_ENDED = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


def parse_status(value: str) -> SubscriptionStatus:
    """Read a status from outside; tolerates whitespace and upper case.

    Raises ``RuleViolated(code="unknown_status")`` for anything else.
    """
    try:
        return SubscriptionStatus(value.strip().lower())
    except (ValueError, AttributeError):
        names = ", ".join(s.value for s in SubscriptionStatus)
        raise RuleViolated(
            f"unknown subscription status {value!r}; expected one of: {names}",
            code="unknown_status",
        ) from None
