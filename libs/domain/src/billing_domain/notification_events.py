"""Billing events of the notifications service (source ``notifications``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.envelope import IntegrationEvent


@dataclass(frozen=True, kw_only=True)
class NotificationSent(IntegrationEvent):
    """The outcome of one email's sending: ``sent``, or ``failed`` (refused for good, or
    given up after its retries). ``to`` is the address it went (or was meant) to."""

    type = "notification.sent"
    kind: str
    subject_id: str
    to: str
    status: str
    sent_at: datetime


NOTIFICATION_CATALOGUE: tuple[type[IntegrationEvent], ...] = (NotificationSent,)
