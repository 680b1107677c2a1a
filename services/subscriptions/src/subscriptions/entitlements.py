"""``GET /api/billing/entitlements``: what a tenant may use, from the projection alone.

The granted plan is the tenant's paid plan while its subscription grants access, else
free (``billing_domain.plan_catalogue.granted_plan``); its features and limits are the
plan catalogue's. One primary-key read, never a Stripe call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import NotFound
from billing_domain.plan_catalogue import granted_plan, plan_definition
from billing_domain.plans import PlanType
from billing_domain.timestamps import to_rfc3339

from subscriptions.commands import GetEntitlements
from subscriptions.ports import AccountReader


@dataclass(frozen=True, kw_only=True)
class Entitlements:
    tenant_id: str
    plan: PlanType
    as_of: datetime

    def body(self) -> dict[str, object]:
        definition = plan_definition(self.plan)
        return {
            "tenant_id": self.tenant_id,
            "plan": self.plan.value,
            "features": definition.features.as_dict(),
            "limits": definition.limits.as_dict(),
            "as_of": to_rfc3339(self.as_of),
        }


async def get_entitlements(
    cmd: GetEntitlements, reader: AccountReader, clock: Clock
) -> Entitlements:
    """A member reads its own tenant's; a service token (``billing:read``) any tenant's.
    A tenant the projection never saw is on the free plan when it is the caller's own,
    and unknown (404) when a service asks for it by id."""
    authorize(cmd.principal, Action.READ_ENTITLEMENTS, tenant_id=cmd.tenant_id)
    stored = await reader.grant(cmd.tenant_id)
    if stored is None:
        if cmd.tenant_id != cmd.principal.tenant_id:
            raise NotFound("no such tenant", code="unknown_tenant")
        return Entitlements(tenant_id=cmd.tenant_id, plan=PlanType.FREE, as_of=clock.now())
    return Entitlements(
        tenant_id=cmd.tenant_id,
        plan=granted_plan(stored.plan, stored.status),
        as_of=stored.as_of,
    )
