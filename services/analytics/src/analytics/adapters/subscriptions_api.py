"""The subscriptions service's operators' listing over HTTP
(``GET /api/billing/admin/subscriptions``, ``billing:admin``): how the backfill reads the
projection without touching its tables."""

from __future__ import annotations

from typing import Any

import httpx
from billing_domain.errors import GatewayUnavailable, RuleViolated
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.timestamps import parse_rfc3339

from analytics.ports import ListedPage, ListedSubscription

LISTING = "/api/billing/admin/subscriptions"
PAGE_SIZE = 200


def _listed(row: dict[str, Any]) -> ListedSubscription:
    return ListedSubscription(
        tenant_id=str(row["tenant_id"]),
        subscription_id=row.get("stripe_subscription_id"),
        plan=PlanType(row["plan"]),
        interval=str(row.get("interval") or "month"),
        status=SubscriptionStatus(row["status"]),
        cancel_at_period_end=bool(row.get("cancel_at_period_end")),
        updated_at=parse_rfc3339(row["updated_at"]),
    )


class HttpSubscriptionDirectory:
    """``client``'s base URL is the gateway's (or the subscriptions service's)."""

    def __init__(self, client: httpx.AsyncClient, token: str, *, page_size: int = PAGE_SIZE):
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}
        self._page_size = page_size

    async def page(self, cursor: str | None) -> ListedPage:
        params: dict[str, str | int] = {"limit": self._page_size}
        if cursor is not None:
            params["cursor"] = cursor
        try:
            answer = await self._client.get(LISTING, params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(
                f"subscriptions listing unreachable: {type(exc).__name__}",
                code="subscriptions_unavailable",
            ) from exc
        if answer.status_code in (401, 403):
            raise RuleViolated(
                f"the subscriptions listing refused the token ({answer.status_code}): "
                "it needs the billing:admin scope",
                code="token_refused",
            )
        if answer.status_code != 200:
            raise GatewayUnavailable(
                f"subscriptions listing answered {answer.status_code}",
                code="subscriptions_unavailable",
            )
        body = answer.json()
        return ListedPage(
            subscriptions=[_listed(row) for row in body["subscriptions"]],
            next_cursor=body.get("next_cursor"),
        )
