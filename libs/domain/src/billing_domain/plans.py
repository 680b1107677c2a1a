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


class PlanChangeEffective(StrEnum):
    """When a plan change takes effect (the ``effective`` field of the HTTP contract)."""

    NOW = "now"
    PERIOD_END = "period_end"
