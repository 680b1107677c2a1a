"""The kinds of email this service sends, and which ones a tenant may switch off."""

from __future__ import annotations

from enum import StrEnum


class MailKind(StrEnum):
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_RECOVERED = "payment_recovered"
    CANCELLATION_SCHEDULED = "cancellation_scheduled"
    SUBSCRIPTION_ENDED = "subscription_ended"
    TRIAL_ENDING = "trial_ending"
    TRIAL_EXTENDED = "trial_extended"
    PLAN_CHANGED = "plan_changed"
    UPCOMING_RENEWAL = "upcoming_renewal"
    CARD_EXPIRING = "card_expiring"


OPTIONAL_KINDS = frozenset({MailKind.UPCOMING_RENEWAL, MailKind.CARD_EXPIRING})
"""Non-critical: a per-tenant preference and a one-click unsubscribe link."""

CRITICAL_KINDS = frozenset(MailKind) - OPTIONAL_KINDS
"""Always sent: they are about money owed or access lost."""


def kind_named(name: str) -> MailKind | None:
    try:
        return MailKind(name)
    except ValueError:
        return None
