"""Authorization policy: who may do what to which tenant's billing.

- Owner-only: everything that changes billing or spends money
  (checkout, portal, cancel, resume, plan change, proration preview).
- Any member of the tenant (owner, admin, member): reads, and verifying a
  checkout session of their tenant.
- Operator endpoints (webhook event log, replay): the ``billing:admin`` scope,
  whatever the role and tenant.
- A principal never touches another tenant's objects (``other_tenant``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from billing_domain.errors import Forbidden

ADMIN_SCOPE = "billing:admin"
READ_SCOPE = "billing:read"
"""Another service's token: reads a tenant's entitlements (``?tenant_id=``), any tenant."""


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Action(StrEnum):
    READ_SUBSCRIPTION = "read_subscription"
    READ_PLANS = "read_plans"
    VERIFY_SESSION = "verify_session"
    MANAGE_BILLING = "manage_billing"
    """Checkout, portal, cancel, resume, change plan, proration preview."""
    OPERATE_WEBHOOKS = "operate_webhooks"
    OPERATE_TRIALS = "operate_trials"
    """Extend a tenant's trial, read the extensions' audit (issue 20)."""
    OPERATE_PAYMENTS = "operate_payments"
    """The failed-payment queue: list it, retry a payment, ask for a reminder."""
    READ_REVENUE_METRICS = "read_revenue_metrics"
    """The operators' revenue metrics (analytics)."""
    READ_NOTIFICATIONS = "read_notifications"
    """A tenant's email preferences."""
    MANAGE_NOTIFICATIONS = "manage_notifications"
    """Switching a tenant's non-critical emails on or off."""
    OPERATE_NOTIFICATIONS = "operate_notifications"
    """The send log and template previews."""
    READ_ENTITLEMENTS = "read_entitlements"
    """Any member of the tenant, or a service token with ``billing:read`` for any tenant."""
    LIST_SUBSCRIPTIONS = "list_subscriptions"
    """Every tenant's subscription as the projection holds it (the analytics backfill)."""


OWNER_ACTIONS = frozenset({Action.MANAGE_BILLING, Action.MANAGE_NOTIFICATIONS})
MEMBER_ACTIONS = frozenset(
    {
        Action.READ_SUBSCRIPTION,
        Action.READ_PLANS,
        Action.VERIFY_SESSION,
        Action.READ_NOTIFICATIONS,
        Action.READ_ENTITLEMENTS,
    }
)
SERVICE_READ_ACTIONS = frozenset({Action.READ_ENTITLEMENTS})
OPERATOR_ACTIONS = frozenset(
    {
        Action.OPERATE_WEBHOOKS,
        Action.OPERATE_TRIALS,
        Action.OPERATE_PAYMENTS,
        Action.READ_REVENUE_METRICS,
        Action.OPERATE_NOTIFICATIONS,
        Action.LIST_SUBSCRIPTIONS,
    }
)


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller, from the JWT (``sub``, ``tenant_id``, ``role``, ``scope``)."""

    user_id: str
    tenant_id: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def is_operator(self) -> bool:
        return ADMIN_SCOPE in self.scopes

    @property
    def reads_any_tenant(self) -> bool:
        """A service token (``billing:read``): reads entitlements of any tenant."""
        return READ_SCOPE in self.scopes


def authorize(principal: Principal, action: Action, *, tenant_id: str | None = None) -> None:
    """Raise ``Forbidden`` unless ``principal`` may perform ``action``.

    ``tenant_id`` is the tenant owning the object acted on, when there is one;
    it is ignored for operator actions.
    """
    if action in OPERATOR_ACTIONS:
        if not principal.is_operator:
            raise Forbidden(f"{action.value} needs the {ADMIN_SCOPE} scope", code="missing_scope")
        return
    if action in SERVICE_READ_ACTIONS and principal.reads_any_tenant:
        return
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise Forbidden("this belongs to another tenant", code="other_tenant")
    if action in OWNER_ACTIONS and not principal.is_owner:
        raise Forbidden(f"only the tenant owner may {action.value}", code="owner_only")
