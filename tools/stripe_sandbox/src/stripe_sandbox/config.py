"""Sandbox settings: where it listens, what it seeds, how it delivers webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import stripe

# The one API version the sandbox speaks: the pinned SDK's (its params TypedDicts and
# resource classes are the definition the sandbox validates against). A request with
# another ``Stripe-Version`` is refused.
API_VERSION: str = stripe.api_version


@dataclass(frozen=True, kw_only=True)
class SeedPrice:
    """A recurring price (and its product) created at start and on reset."""

    lookup_key: str
    product_name: str
    unit_amount: int
    currency: str = "usd"
    interval: str = "month"
    trial_period_days: int | None = None


DEFAULT_SEED_PRICES: tuple[SeedPrice, ...] = (
    SeedPrice(lookup_key="solo_monthly", product_name="Solo", unit_amount=900),
    SeedPrice(lookup_key="team_monthly", product_name="Team", unit_amount=2900),
    SeedPrice(lookup_key="enterprise_monthly", product_name="Enterprise", unit_amount=9900),
    # yearly: two months free (ten months' price)
    SeedPrice(lookup_key="solo_yearly", product_name="Solo", unit_amount=9000, interval="year"),
    SeedPrice(lookup_key="team_yearly", product_name="Team", unit_amount=29000, interval="year"),
    SeedPrice(
        lookup_key="enterprise_yearly",
        product_name="Enterprise",
        unit_amount=99000,
        interval="year",
    ),
)
# Which seeded price stands for which paid plan (what STRIPE_PRICE_* are wired to).
PLAN_LOOKUP_KEYS: dict[str, str] = {
    "solo": "solo_monthly",
    "team": "team_monthly",
    "enterprise": "enterprise_monthly",
}
# The yearly price of each paid plan (what STRIPE_PRICE_<PLAN>_YEARLY are wired to).
PLAN_YEARLY_LOOKUP_KEYS: dict[str, str] = {
    "solo": "solo_yearly",
    "team": "team_yearly",
    "enterprise": "enterprise_yearly",
}


@dataclass(frozen=True, kw_only=True)
class WebhookTarget:
    """An endpoint registered at start (``billing dev`` points it at the webhooks service)."""

    url: str
    secret: str
    events: tuple[str, ...] = ("*",)


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 12111
    # Base of the URLs the sandbox hands out (checkout, portal, invoice pages).
    # Defaults to http://{host}:{port}.
    public_url: str | None = None
    state_file: Path | None = None
    seed_prices: tuple[SeedPrice, ...] = DEFAULT_SEED_PRICES
    webhooks: tuple[WebhookTarget, ...] = ()
    # Seconds to wait before each retry of a failed delivery (Stripe's real schedule
    # spans three days; this one is compressed). One attempt plus len() retries.
    webhook_retry_schedule: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    webhook_timeout: float = 5.0
    # Test knobs: deliver every event N times; shuffle deliveries in batches of N.
    duplicate_deliveries: int = 1
    shuffle_window: int = 0
    shuffle_seed: int | None = None
    # Failed renewal payments are retried this many days after the previous attempt;
    # after the last one the subscription is canceled (Stripe's default) or left unpaid.
    payment_retry_days: tuple[int, ...] = (3, 5, 7)
    dunning_final_action: str = "cancel"
    trial_will_end_days: int = 3
    upcoming_invoice_days: int = 7
    api_version: str = API_VERSION

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
