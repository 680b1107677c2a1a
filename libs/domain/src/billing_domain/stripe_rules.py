"""The rules by which Stripe's facts become ours: provisioning, trial, plan of a price,
pending plan change. One definition each; ``billing_platform.stripe_reading`` reads the
Stripe objects and applies these, every service and tool goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType, parse_plan
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import PendingPlanChange

PROVISIONING_PAYMENT_STATUSES = frozenset({"paid", "no_payment_required"})


def provisions(*, status: str | None, payment_status: str | None) -> bool:
    """A Checkout session grants its plan when it is ``complete`` AND its payment is
    ``paid`` or ``no_payment_required`` (a trial without a card, a 100 % coupon).

    ``complete`` + ``unpaid`` is a delayed payment method still settling: provisioning
    waits for ``checkout.session.async_payment_succeeded``.
    """
    return status == "complete" and payment_status in PROVISIONING_PAYMENT_STATUSES


def is_trial(
    *, status: SubscriptionStatus | None = None, trial_requested: bool | None = None
) -> bool:
    """Whether a subscription (or the Checkout session that starts one) is a trial.

    A subscription is a trial when Stripe says ``status == "trialing"``, and only then.
    ``trial_end`` is not the test: it stays set after a trial ends early (``trial_end=now``)
    or the subscription is canceled during it, and comparing it with a clock would let a
    late event and a fresh read disagree. A Checkout session has no status of its own: it
    is a trial when we asked for one (the ``trial`` metadata checkout writes when it opens
    the session), else when its subscription, read, is trialing. ``payment_status ==
    "no_payment_required"`` is NOT a trial: a 100 % coupon gives it too.
    """
    if trial_requested is not None:
        return trial_requested
    return status is SubscriptionStatus.TRIALING


def can_charge(*, subscription_default: bool, customer_default: bool | None) -> bool | None:
    """Whether Stripe has a payment method to charge the subscription with: the
    subscription's ``default_payment_method`` (or ``default_source``), else the
    customer's ``invoice_settings.default_payment_method`` (or ``default_source``).

    ``None`` when the subscription names none and the customer was not read (a webhook's
    ``data.object`` holds the customer's id only): unknown, not "no card".
    """
    if subscription_default:
        return True
    return customer_default


def collection_paused(pause_collection: object) -> bool:
    """``pause_collection`` set (``behavior`` keep_as_draft | mark_uncollectible | void):
    Stripe stops collecting invoices but the subscription keeps its status (``active``),
    so access does not change. Not to be confused with status ``paused`` (a trial ended
    without a payment method, or a paused subscription): no invoices and no access."""
    return isinstance(pause_collection, Mapping) and bool(pause_collection.get("behavior"))


def plan_from_price(
    *,
    price_id: str | None,
    lookup_key: str | None,
    metadata_plan: str | None,
    configured: Mapping[str, PlanType],
) -> PlanType:
    """The plan a Stripe price stands for. Precedence, first answer wins:

    1. our configured price ids (``STRIPE_PRICE_<PLAN>``): what this deployment sells;
    2. the lookup key ``<plan>_monthly`` / ``<plan>_yearly``: what the sandbox seeds, what
       configuration and the checkout name, and unique per account by Stripe's own rule;
    3. the price's ``metadata.plan``: free text anyone with dashboard access can edit, so
       it only decides when nothing above does.

    A price that names no paid plan raises ``RuleViolated(code="unknown_price")``: there is
    no Stripe price for ``free``.
    """
    if price_id is not None and price_id in configured:
        return configured[price_id]
    named = lookup_key.split("_", 1)[0] if lookup_key else None
    for candidate in (named, metadata_plan):
        plan = _paid_plan(candidate)
        if plan is not None:
            return plan
    raise RuleViolated(f"price {price_id!r} is not one of our plans", code="unknown_price")


def interval_from_price(
    *, recurring_interval: str | None, interval_count: int = 1, lookup_key: str | None
) -> BillingInterval:
    """The billing interval a Stripe price stands for.

    Stripe's ``recurring.interval`` decides (``month`` or ``year``, every 1 of them);
    without it (a bare id learned by lookup key) the key's suffix ``_monthly`` /
    ``_yearly``; else a month, what every price was before yearly prices existed. A
    price billed by the day or week, or every N months, is none of our plans:
    ``RuleViolated(code="unknown_price")``.
    """
    if recurring_interval:
        try:
            interval = BillingInterval(recurring_interval)
        except ValueError:
            interval = None
        if interval is None or interval_count != 1:
            raise RuleViolated(
                f"a price billed every {interval_count} {recurring_interval} is not one of "
                "our plans",
                code="unknown_price",
            )
        return interval
    if lookup_key and lookup_key.endswith("_" + BillingInterval.YEAR.lookup_suffix):
        return BillingInterval.YEAR
    return BillingInterval.MONTH


def _paid_plan(name: str | None) -> PlanType | None:
    if not name:
        return None
    try:
        plan = parse_plan(name)
    except RuleViolated:
        return None
    return plan if plan.is_paid else None


def pending_change(
    current: PlanType,
    upcoming: Iterable[tuple[PlanType, datetime]]
    | Iterable[tuple[PlanType, datetime, BillingInterval]],
    *,
    interval: BillingInterval = BillingInterval.MONTH,
) -> PendingPlanChange | None:
    """The next plan the tenant will be on, and when: the first upcoming schedule phase
    (in order, after the current one) whose plan differs from ``current``.

    A phase on the same plan is not a change (it renews, maybe at another price or
    quantity), so it is skipped and the search goes on: team -> team -> solo has the
    pending plan solo, effective at the start of the third phase. With intervals (a
    phase given as ``(plan, starts_at, interval)``), a phase on the same plan at another
    interval (team yearly -> team monthly at renewal) is a pending change too.
    """
    for phase in upcoming:
        plan, starts_at = phase[0], phase[1]
        phase_interval = phase[2] if len(phase) > 2 else interval
        if plan is not current or phase_interval is not interval:
            return PendingPlanChange(plan=plan, effective_at=starts_at, interval=phase_interval)
    return None
