"""The plan catalogue: which plans exist, how they rank, which are paid.

Prices and trial lengths live in Stripe and configuration (``TEAM_TRIAL_DAYS``);
the domain only knows the order of the plans, so "upgrade or downgrade?" is a
domain decision and not a price comparison.
"""

from __future__ import annotations

from enum import StrEnum

from billing_domain.errors import RuleViolated


class PlanType(StrEnum):
    FREE = "free"
    SOLO = "solo"
    TEAM = "team"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        """Position in the plan ladder: free 0 < solo 1 < team 2 < enterprise 3."""
        return _RANKS[self]

    @property
    def is_paid(self) -> bool:
        return self is not PlanType.FREE

    @property
    def allows_trial(self) -> bool:
        """Whether checkout may start this plan with a trial (its length is config)."""
        return self in _TRIAL_PLANS


_RANKS: dict[PlanType, int] = {
    PlanType.FREE: 0,
    PlanType.SOLO: 1,
    PlanType.TEAM: 2,
    PlanType.ENTERPRISE: 3,
}
_TRIAL_PLANS = frozenset({PlanType.TEAM})

PAID_PLANS: tuple[PlanType, ...] = tuple(p for p in PlanType if p.is_paid)


def parse_plan(value: str) -> PlanType:
    """Read a plan name from outside (request body, Stripe metadata, a row).

    Tolerates surrounding whitespace and upper case; anything else raises
    ``RuleViolated(code="unknown_plan")``.
    """
    try:
        return PlanType(value.strip().lower())
    except (ValueError, AttributeError):
        names = ", ".join(p.value for p in PlanType)
        raise RuleViolated(
            f"unknown plan {value!r}; expected one of: {names}", code="unknown_plan"
        ) from None


class ChangeDirection(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    SAME = "same"


def change_direction(current: PlanType, target: PlanType) -> ChangeDirection:
    if target.rank > current.rank:
        return ChangeDirection.UPGRADE
    if target.rank < current.rank:
        return ChangeDirection.DOWNGRADE
    return ChangeDirection.SAME


class BillingInterval(StrEnum):
    """How often a paid plan is billed: each plan has a monthly and a yearly price."""

    MONTH = "month"
    YEAR = "year"

    @property
    def lookup_suffix(self) -> str:
        """The suffix of the price's lookup key: ``<plan>_monthly`` / ``<plan>_yearly``."""
        return "monthly" if self is BillingInterval.MONTH else "yearly"

    @property
    def rank(self) -> int:
        """month 0 < year 1: a longer commitment is an upgrade of the same plan."""
        return 0 if self is BillingInterval.MONTH else 1


INTERVALS: tuple[BillingInterval, ...] = (BillingInterval.MONTH, BillingInterval.YEAR)


def parse_interval(value: str) -> BillingInterval:
    """Read an interval from outside (``month`` / ``year``); else
    ``RuleViolated(code="unknown_interval")``."""
    try:
        return BillingInterval(value.strip().lower())
    except (ValueError, AttributeError):
        raise RuleViolated(
            f"unknown interval {value!r}; expected month or year", code="unknown_interval"
        ) from None


def lookup_key(plan: PlanType, interval: BillingInterval) -> str:
    """The lookup key of a plan's price for an interval (``team_yearly``)."""
    return f"{plan.value}_{interval.lookup_suffix}"


def price_change_direction(
    current: PlanType,
    current_interval: BillingInterval,
    target: PlanType,
    target_interval: BillingInterval,
) -> ChangeDirection:
    """A higher plan is an upgrade whatever the interval; on the same plan, month -> year
    is an upgrade (charged now, prorated) and year -> month a downgrade (at renewal).
    A lower plan is a downgrade even when yearly."""
    by_plan = change_direction(current, target)
    if by_plan is not ChangeDirection.SAME:
        return by_plan
    if target_interval.rank > current_interval.rank:
        return ChangeDirection.UPGRADE
    if target_interval.rank < current_interval.rank:
        return ChangeDirection.DOWNGRADE
    return ChangeDirection.SAME


class PlanChangeEffective(StrEnum):
    """When a plan change takes effect (the ``effective`` field of the HTTP contract)."""

    NOW = "now"
    PERIOD_END = "period_end"
