"""Request and response models of the checkout API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

PlanName = Literal["free", "solo", "team", "enterprise"]

SESSION_ID_PATTERN = r"^cs_[A-Za-z0-9_]{1,250}$"


class CheckoutBody(BaseModel):
    plan: StrictStr = Field(
        min_length=1,
        max_length=64,
        description="The paid plan to subscribe to: solo, team or enterprise "
        "(unknown plans and free answer 422).",
        examples=["team"],
    )
    trial: StrictBool = Field(
        default=False,
        description="Start with the plan's trial (only plans that offer one; team).",
    )
    interval: Literal["month", "year"] = Field(
        default="month", description="Which of the plan's prices: billed by the month or year."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"plan": "team", "trial": True}]})


class CheckoutSessionOut(BaseModel):
    session_id: str = Field(examples=["cs_test_a1b2c3"])
    url: str = Field(description="Stripe's hosted checkout page: send the browser there.")


class PortalOut(BaseModel):
    url: str = Field(description="A Customer Portal session; it returns to /settings/billing.")


class VerifyBody(BaseModel):
    session_id: StrictStr = Field(
        max_length=255,
        pattern=SESSION_ID_PATTERN,
        description="The {CHECKOUT_SESSION_ID} of the success URL.",
        examples=["cs_test_a1b2c3"],
    )


class VerifyOut(BaseModel):
    verified: bool = Field(
        description='True only when Stripe says status "complete" and payment_status '
        '"paid" or "no_payment_required".'
    )
    status: str | None = Field(description="Stripe's session status: open, complete, expired.")
    payment_status: str | None = Field(
        description="Stripe's payment status: paid, unpaid, no_payment_required."
    )
    plan: PlanName | None = Field(description="The plan bought; null unless verified.")
    trial: bool = Field(description="True when verified and the subscription starts on a trial.")
    mode: str | None = Field(
        default=None,
        description="subscription (a plan bought) or setup (a card saved by "
        "POST /api/billing/payment-methods/setup; plan null).",
    )
    payment_method: SavedCardOut | None = Field(
        default=None, description="setup mode: the card saved; null otherwise."
    )
    made_default: bool = Field(
        default=False,
        description="setup mode, the owner's return: the saved card is now the default of "
        "the customer and of its live subscriptions (the next retry of a failed invoice "
        "charges it). Done once per session.",
    )


class SavedCardOut(BaseModel):
    id: str = Field(description="The payment method (pm_...).")
    brand: str | None = Field(default=None, examples=["mastercard"])
    last4: str | None = Field(default=None, examples=["4444"])


class SetupOut(BaseModel):
    url: str = Field(description="Stripe's hosted page to save a card: send the browser there.")


class PriceOut(BaseModel):
    amount: int = Field(description="Minor units per interval.", examples=[29000])
    currency: str = Field(examples=["usd"])


class ComparisonRowOut(BaseModel):
    key: str = Field(examples=["seats"])
    label: str = Field(examples=["Seats"])
    kind: str = Field(description="limit (a number, null unlimited), feature (bool), support")


class PlanOut(BaseModel):
    plan: PlanName
    name: str = Field(description="Display name (the Stripe product's name).", examples=["Team"])
    amount: int = Field(description="Monthly price in minor units (cents).", examples=[2900])
    currency: str = Field(description="ISO 4217, lower case.", examples=["usd"])
    interval: str = Field(description="Billing interval of ``amount``: month.")
    interval_count: int = Field(description="Intervals between two invoices.", examples=[1])
    trial_days: int = Field(description="Trial length offered at checkout; 0 for none.")
    prices: dict[str, PriceOut | None] = Field(
        description="Both intervals' prices: {'month': ..., 'year': ...}; null when not offered."
    )
    yearly_saving_percent: int | None = Field(
        description="How much a year saves against twelve months, in whole percent."
    )
    summary: str
    features: dict[str, str | bool] = Field(
        examples=[{"support": "priority", "sso": False, "audit_log": True}]
    )
    limits: dict[str, int | None] = Field(description="null is unlimited")


class PlansOut(BaseModel):
    plans: list[PlanOut]
    comparison: list[ComparisonRowOut] = Field(
        description="The rows of the comparison table, in order (features and limits)."
    )


ERROR_DESCRIPTIONS = {
    400: "The body cannot be read as JSON text (bytes that are not UTF-8).",
    409: "Conflict: the tenant is already on this plan (or subscribed to another).",
    422: "Invalid input (bad JSON, unknown or free plan, malformed id).",
    429: "Over this tenant's share of Stripe (sessions or calls); see Retry-After.",
    503: "Stripe or the database is unreachable; retry later (Retry-After).",
}
"""Checkout's sharper words for the platform's error statuses (``error_responses``)."""


class TrialOut(BaseModel):
    trial_available: bool = Field(
        description="false once the tenant (or its Stripe customer) has had a trial"
    )
