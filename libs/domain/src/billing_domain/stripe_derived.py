"""The base of billing events derived from a Stripe event (source ``webhooks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.envelope import IntegrationEvent
from billing_domain.ordering import AppliedMark


@dataclass(frozen=True, kw_only=True)
class StripeDerivedEvent(IntegrationEvent):
    stripe_created: datetime | None = None

    def applied_mark(self) -> AppliedMark | None:
        """The ordering mark of the Stripe event behind this message, when known."""
        if self.stripe_created is None:
            return None
        return AppliedMark(created=self.stripe_created, event_id=self.causation_id)
