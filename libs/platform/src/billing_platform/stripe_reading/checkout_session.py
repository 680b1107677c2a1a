"""A Stripe Checkout session -> the provisioning decision and what it names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType, parse_interval, parse_plan
from billing_domain.stripe_rules import provisions

from billing_platform.stripe_reading.fields import id_of, integer, metadata, text
from billing_platform.stripe_reading.payment_method import CardSummary, read_payment_method


@dataclass(frozen=True, kw_only=True)
class CheckoutSessionReading:
    session_id: str
    status: str | None
    payment_status: str | None
    provisions: bool
    """The provisioning rule (``billing_domain.stripe_rules.provisions``)."""
    customer_id: str | None
    subscription_id: str | None
    client_reference_id: str | None
    metadata_tenant: str | None
    plan_named: PlanType | None
    """``metadata.plan`` (checkout writes it); ``None`` when absent."""
    trial_requested: bool | None
    """``metadata.trial`` (checkout writes it); ``None`` when absent."""
    interval_named: BillingInterval | None
    """``metadata.interval`` (checkout writes it); ``None`` when absent or unknown."""
    amount_total: int
    currency: str
    metadata: dict[str, str]
    mode: str | None = None
    """``subscription``, ``setup`` (saving a card: never provisions) or ``payment``."""
    setup_intent_id: str | None = None
    setup_succeeded: bool = False
    """A setup-mode session's SetupIntent (when expanded) says ``succeeded``."""
    setup_card: CardSummary | None = None
    """The card it saved (``setup_intent.payment_method`` expanded), else ``None``."""

    @property
    def tenant_hint(self) -> str | None:
        """The tenant the session itself names: our metadata, else the client reference."""
        return self.metadata_tenant or self.client_reference_id


def read_checkout_session(session: Mapping[str, Any]) -> CheckoutSessionReading:
    session_id = text(session, "id")
    if session_id is None:
        raise RuleViolated("checkout session without id", code="malformed_session")
    named = metadata(session)
    plan = text(named, "plan")
    trial = text(named, "trial")
    status, payment_status = text(session, "status"), text(session, "payment_status")
    mode = text(session, "mode")
    return CheckoutSessionReading(
        session_id=session_id,
        status=status,
        payment_status=payment_status,
        provisions=mode != "setup" and provisions(status=status, payment_status=payment_status),
        customer_id=id_of(session.get("customer")),
        subscription_id=id_of(session.get("subscription")),
        client_reference_id=text(session, "client_reference_id"),
        metadata_tenant=text(named, "tenant_id"),
        plan_named=parse_plan(plan) if plan else None,
        trial_requested=None if trial is None else trial.lower() == "true",
        interval_named=_interval(text(named, "interval")),
        amount_total=integer(session, "amount_total"),
        currency=text(session, "currency") or "usd",
        metadata={str(k): str(v) for k, v in named.items() if v is not None},
        mode=mode,
        setup_intent_id=id_of(session.get("setup_intent")),
        setup_succeeded=text(_setup_intent(session), "status") == "succeeded",
        setup_card=_setup_card(session),
    )


def _setup_intent(session: Mapping[str, Any]) -> Mapping[str, Any]:
    intent = session.get("setup_intent")
    return intent if isinstance(intent, Mapping) else {}


def _setup_card(session: Mapping[str, Any]) -> CardSummary | None:
    method = _setup_intent(session).get("payment_method")
    if not isinstance(method, Mapping) or text(method, "id") is None:
        return None
    return read_payment_method(method)


def _interval(value: str | None) -> BillingInterval | None:
    try:
        return parse_interval(value) if value else None
    except RuleViolated:
        return None
