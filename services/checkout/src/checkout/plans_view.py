"""The body of ``GET /api/billing/plans`` (public) and its HTTP caching.

Prices come from Stripe through the caching price catalogue (one Stripe read per TTL,
never one per request); what each plan includes comes from the domain's plan catalogue,
so the pricing page, this API and the entitlements tell the same story.
"""

from __future__ import annotations

import hashlib
import json

from billing_domain.plan_catalogue import COMPARISON_ROWS, plan_definition, yearly_saving_percent

from checkout.commands import PlanOffer

CACHE_CONTROL = "public, max-age=300"


def plans_body(offers: list[PlanOffer]) -> dict[str, object]:
    return {
        "plans": [_plan(offer) for offer in offers],
        "comparison": [
            {"key": row.key, "label": row.label, "kind": row.kind} for row in COMPARISON_ROWS
        ],
    }


def _plan(offer: PlanOffer) -> dict[str, object]:
    definition = plan_definition(offer.plan)
    monthly = {"amount": offer.amount, "currency": offer.currency}
    yearly = (
        None
        if offer.yearly_amount is None
        else {"amount": offer.yearly_amount, "currency": offer.currency}
    )
    if not offer.plan.is_paid:
        yearly = {"amount": 0, "currency": offer.currency}
    saving = (
        yearly_saving_percent(offer.amount, offer.yearly_amount)
        if offer.yearly_amount is not None and offer.plan.is_paid
        else None
    )
    return {
        "plan": offer.plan.value,
        "name": offer.name,
        "amount": offer.amount,
        "currency": offer.currency,
        "interval": offer.interval,
        "interval_count": offer.interval_count,
        "trial_days": offer.trial_days,
        "prices": {"month": monthly, "year": yearly},
        "yearly_saving_percent": saving,
        "summary": definition.summary,
        "features": definition.features.as_dict(),
        "limits": definition.limits.as_dict(),
    }


def etag_of(body: dict[str, object]) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional GET's ``If-None-Match`` names this ETag (or ``*``)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags
