"""Why a tenant's subscription ended, for the pages' plain explanation (issue 18):
"canceled after failed payments" reads differently from "ended as you asked"."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing_domain.payment_failure import PaymentFailure
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus

_OWING = frozenset({SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID})


class EndedReason(StrEnum):
    PAYMENT_FAILED = "payment_failed"
    """Stripe gave up collecting an invoice and canceled (its dunning's last step)."""
    CANCELLATION_REQUESTED = "cancellation_requested"
    """The tenant scheduled the cancellation (ours, or the portal's)."""
    CANCELED = "canceled"
    """Canceled some other way (an operator in Stripe's dashboard, canceled at once)."""


@dataclass(frozen=True, kw_only=True)
class EndedSubscription:
    reason: EndedReason
    plan: PlanType
    """The plan the tenant had before it ended."""

    @classmethod
    def of(
        cls,
        *,
        plan: PlanType,
        status: SubscriptionStatus,
        failure: PaymentFailure | None,
        cancel_scheduled: bool,
    ) -> EndedSubscription:
        """What ended it, judged from the account just before: still owing (a failing
        invoice, past due or unpaid; Stripe marks the invoice uncollectible just before it
        cancels) means Stripe's dunning ended it, a scheduled cancel means the tenant did."""
        if failure is not None or status in _OWING:
            reason = EndedReason.PAYMENT_FAILED
        elif cancel_scheduled:
            reason = EndedReason.CANCELLATION_REQUESTED
        else:
            reason = EndedReason.CANCELED
        return cls(reason=reason, plan=plan)
