"""The checkout service's view of its configuration, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from billing_domain.errors import RuleViolated
from billing_domain.plans import PAID_PLANS, BillingInterval, PlanType
from billing_platform.settings import BillingSettings

DOUBLE_CLICK_WINDOW_S = 10
"""Without an ``Idempotency-Key``, the same checkout within this many seconds is a replay."""
PLAN_CACHE_TTL_S = 300.0
SETUP_CURRENCY = "usd"
"""Stripe requires a currency for a setup-mode session (it picks the payment methods
offered); the plans' prices are in it."""


@dataclass(frozen=True, kw_only=True)
class CheckoutConfig:
    prices: dict[PlanType, str]
    """Stripe price id of each paid plan that is offered (``STRIPE_PRICE_*``), monthly."""
    yearly_prices: dict[PlanType, str] = field(default_factory=dict)
    """The yearly price of each paid plan (``STRIPE_PRICE_<PLAN>_YEARLY``)."""
    trial_days: int
    """Length of a trial, for plans that allow one (``TEAM_TRIAL_DAYS``); 0 = no trials."""
    app_base_url: str
    trial_requires_card: bool = False
    """``TRIAL_REQUIRES_CARD``: false lets a trial start without a card."""
    trial_end_without_card: str = "pause"
    """``TRIAL_END_WITHOUT_CARD``: pause | cancel, at the end of a trial without a card."""
    double_click_window_s: int = DOUBLE_CLICK_WINDOW_S

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> CheckoutConfig:
        return cls(
            prices={PlanType(plan): price for plan, price in settings.price_ids().items()},
            yearly_prices={
                PlanType(plan): price for plan, price in settings.yearly_price_ids().items()
            },
            trial_days=settings.team_trial_days,
            app_base_url=settings.app_base_url.rstrip("/"),
            trial_requires_card=settings.trial_requires_card,
            trial_end_without_card=settings.trial_end_without_card,
        )

    def price_for(self, plan: PlanType, interval: BillingInterval = BillingInterval.MONTH) -> str:
        prices = self.yearly_prices if interval is BillingInterval.YEAR else self.prices
        price = prices.get(plan)
        if price is None:
            raise RuleViolated(
                f"the {plan.value} plan is not offered by the {interval.value}",
                code="plan_unavailable",
            )
        return price

    def trial_days_for(self, plan: PlanType) -> int:
        return self.trial_days if plan.allows_trial else 0

    @property
    def offered(self) -> tuple[PlanType, ...]:
        return tuple(plan for plan in PAID_PLANS if plan in self.prices)

    def success_url(self, *, trial: bool) -> str:
        url = f"{self.app_base_url}/settings?success=true&session_id={{CHECKOUT_SESSION_ID}}"
        return url + "&trial=true" if trial else url

    @property
    def cancel_url(self) -> str:
        return f"{self.app_base_url}/settings?canceled=true"

    @property
    def setup_success_url(self) -> str:
        """Where a saved card comes back: the billing settings page verifies the session."""
        query = "setup=complete&session_id={CHECKOUT_SESSION_ID}"
        return f"{self.app_base_url}/settings/billing?{query}"

    @property
    def setup_cancel_url(self) -> str:
        return f"{self.app_base_url}/settings/billing?setup=canceled"

    @property
    def portal_return_url(self) -> str:
        return f"{self.app_base_url}/settings/billing"


@dataclass(frozen=True, kw_only=True)
class CheckoutLimits:
    """Edge limits; ``create_app(..., limits=...)`` overrides them (tests, operators).
    Each tenant's share of Stripe is configured in the settings (``STRIPE_TENANT_*``,
    ``CHECKOUT_SESSIONS_PER_MINUTE``)."""

    plan_cache_ttl_s: float = PLAN_CACHE_TTL_S
