"""billing_domain: the billing rules, standard library only.

Integration events live in ``billing_domain.events`` and the aggregate's
domain events in ``billing_domain.account_events``; both use the same names
(``SubscriptionCanceled`` ...), so import those modules rather than the names.
"""

from billing_domain.auth import ADMIN_SCOPE, Action, Principal, Role, authorize
from billing_domain.clock import Clock
from billing_domain.envelope import IntegrationEvent, new_event
from billing_domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    GatewayUnavailable,
    NotFound,
    RuleViolated,
)
from billing_domain.events import EVENT_TYPES, event_from_envelope
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark, ApplyOutcome
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plan_change import PlanChangeDecision
from billing_domain.plans import (
    ChangeDirection,
    PlanChangeEffective,
    PlanType,
    change_direction,
    parse_plan,
)
from billing_domain.status import SubscriptionStatus, parse_status
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.webhook_log import RetryPolicy, WebhookEventRecord, WebhookEventStatus

__all__ = [
    "ADMIN_SCOPE",
    "EVENT_TYPES",
    "Action",
    "AppliedMark",
    "ApplyOutcome",
    "BillingAccount",
    "ChangeDirection",
    "Clock",
    "Conflict",
    "DomainError",
    "Forbidden",
    "GatewayUnavailable",
    "IntegrationEvent",
    "Money",
    "NotFound",
    "PaymentFailure",
    "PendingPlanChange",
    "PlanChangeDecision",
    "PlanChangeEffective",
    "PlanType",
    "Principal",
    "RetryPolicy",
    "Role",
    "RuleViolated",
    "SubscriptionSnapshot",
    "SubscriptionStatus",
    "WebhookEventRecord",
    "WebhookEventStatus",
    "authorize",
    "change_direction",
    "event_from_envelope",
    "new_event",
    "parse_plan",
    "parse_status",
]
