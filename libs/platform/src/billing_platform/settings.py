"""Settings: the environment variables of the contract (docs/architecture.md section 8).

pydantic-settings reads and validates them; ``load_settings()`` turns a
validation failure into one readable ``SettingsError`` naming every bad
variable, instead of a pydantic traceback at start-up.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_EXCHANGE = "billing.events"


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


class BillingSettings(BaseSettings):
    """Everything a service reads from its environment; built once, passed in."""

    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", env_ignore_empty=True
    )

    database_url: str | None = None
    amqp_url: str | None = None
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: Annotated[list[str], NoDecode] = Field(default_factory=list)
    stripe_price_solo: str | None = None
    stripe_price_team: str | None = None
    stripe_price_enterprise: str | None = None
    # The yearly price of each paid plan (STRIPE_PRICE_<PLAN>_YEARLY); the ones above
    # are the monthly prices.
    stripe_price_solo_yearly: str | None = None
    stripe_price_team_yearly: str | None = None
    stripe_price_enterprise_yearly: str | None = None
    team_trial_days: int = Field(default=14, ge=0, le=730)
    # Trials (issue 20): a trial starts without a card unless TRIAL_REQUIRES_CARD; what
    # Stripe does at its end with no card (pause | cancel); operators' extension cap.
    trial_requires_card: bool = False
    trial_end_without_card: Literal["pause", "cancel"] = "pause"
    trial_max_extension_days: int = Field(default=30, ge=0, le=730)
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # Key rotation: more HS256 keys by kid ("kid=secret,kid2=secret2"), RS256 keys as a
    # JWKS (file or URL); billing_platform.http.jwt_keys.
    jwt_secrets: str | None = None
    jwt_jwks_file: str | None = None
    jwt_jwks_url: str | None = None
    # `billing serve` refuses to start without JWT_AUDIENCE / JWT_ISSUER unless these
    # are false (an identity provider that sets no aud / iss).
    jwt_require_audience: bool = True
    jwt_require_issuer: bool = True
    # exp - iat beyond this is a 401 (and iat is required); 0: no limit.
    jwt_max_lifetime_seconds: int = Field(default=86_400, ge=0, le=31 * 86_400)
    # Connect accounts (acct_...) whose webhook events we act on; none by default.
    stripe_connect_accounts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    app_base_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Not in the contract's table but useful to operators and tests: the topic
    # exchange's name (tests isolate runs by giving each its own exchange).
    billing_exchange: str = DEFAULT_EXCHANGE
    webhook_max_attempts: int = Field(default=3, ge=1, le=20)
    # The slow lane of transient webhook failures (after the fast 2, 4, 8 s): the
    # longest wait between attempts, and how long after receipt they go on.
    webhook_slow_retry_max_seconds: float = Field(default=3600, ge=2, le=86_400)
    webhook_retry_horizon_hours: float = Field(default=72, ge=0, le=24 * 30)
    # How long a worker's claim on an event holds before another may take it over.
    webhook_lease_seconds: float = Field(default=60, ge=1, le=3600)
    stripe_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # Webhook processing tasks inside a webhooks process; 0 makes it an ingest-only
    # replica (run others with the default as the workers).
    webhook_worker_concurrency: int = Field(default=2, ge=0, le=32)
    # Each tenant's share of Stripe (billing_platform.stripe_budget), per service.
    stripe_tenant_burst: int = Field(default=20, ge=1, le=10_000)
    stripe_tenant_per_minute: float = Field(default=60.0, gt=0, le=100_000)
    stripe_tenant_concurrency: int = Field(default=2, ge=1, le=100)
    stripe_tenant_queue: int = Field(default=8, ge=0, le=10_000)
    checkout_sessions_per_minute: float = Field(default=10.0, gt=0, le=100_000)
    # Notifications (docs/architecture.md section 8.5): the SMTP server
    # (smtp://user:pass@host:587?starttls=true; smtps:// for implicit TLS), the From and
    # Reply-To addresses, the plan intervals that get an upcoming-renewal email
    # (comma-separated), and the key of the signed one-click unsubscribe links.
    smtp_url: str | None = None
    mail_from: str = "Billing <billing@localhost>"
    mail_reply_to: str | None = None
    renewal_reminder_intervals: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["year"]
    )
    notifications_unsubscribe_secret: str | None = None

    @field_validator(
        "stripe_webhook_secret",
        "stripe_connect_accounts",
        "renewal_reminder_intervals",
        mode="before",
    )
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("amqp_url")
    @classmethod
    def _amqp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must be an amqp:// or amqps:// URL")
        return value

    @field_validator("stripe_api_key")
    @classmethod
    def _stripe_key(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sk_", "rk_")):
            raise ValueError("must be a Stripe secret or restricted key (sk_... or rk_...)")
        return value

    def price_ids(self) -> dict[str, str]:
        """Configured Stripe price id per paid plan name."""
        prices = {
            "solo": self.stripe_price_solo,
            "team": self.stripe_price_team,
            "enterprise": self.stripe_price_enterprise,
        }
        return {plan: price for plan, price in prices.items() if price}

    def yearly_price_ids(self) -> dict[str, str]:
        """Configured yearly Stripe price id per paid plan name (``STRIPE_PRICE_<PLAN>_YEARLY``)."""
        prices = {
            "solo": self.stripe_price_solo_yearly,
            "team": self.stripe_price_team_yearly,
            "enterprise": self.stripe_price_enterprise_yearly,
        }
        return {plan: price for plan, price in prices.items() if price}

    def require(self, *names: str) -> None:
        """Fail with one clear message when a service needs unset variables."""
        missing = [name.upper() for name in names if not getattr(self, name)]
        if missing:
            raise SettingsError("missing required environment variables: " + ", ".join(missing))


def load_settings(**overrides: object) -> BillingSettings:
    """Read the environment (plus explicit overrides) or raise SettingsError."""
    try:
        return BillingSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            problems.append(f"{where}: {error['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
