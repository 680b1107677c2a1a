"""What each plan includes: features and limits, the one source for the pricing page's
comparison table, ``GET /api/billing/plans`` and the entitlements granted to tenants.

Prices are not here (they live in Stripe, read through the one reader); what a plan
grants is a product decision, so it lives in the domain beside the plan ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus


class SupportLevel(StrEnum):
    COMMUNITY = "community"
    EMAIL = "email"
    PRIORITY = "priority"
    DEDICATED = "dedicated"


@dataclass(frozen=True, kw_only=True)
class PlanLimits:
    """Quantities a plan allows; ``None`` is unlimited."""

    seats: int | None
    projects: int | None
    api_calls_per_month: int | None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "seats": self.seats,
            "projects": self.projects,
            "api_calls_per_month": self.api_calls_per_month,
        }


@dataclass(frozen=True, kw_only=True)
class PlanFeatures:
    """What a plan switches on."""

    support: SupportLevel
    sso: bool
    audit_log: bool

    def as_dict(self) -> dict[str, str | bool]:
        return {"support": self.support.value, "sso": self.sso, "audit_log": self.audit_log}


@dataclass(frozen=True, kw_only=True)
class PlanDefinition:
    plan: PlanType
    name: str
    summary: str
    features: PlanFeatures
    limits: PlanLimits


@dataclass(frozen=True, kw_only=True)
class ComparisonRow:
    """A row of the pricing page's comparison table: a feature or limit, in order."""

    key: str
    label: str
    kind: str
    """``limit`` (a number, null = unlimited), ``feature`` (a bool) or ``support``."""


PLAN_DEFINITIONS: dict[PlanType, PlanDefinition] = {
    PlanType.FREE: PlanDefinition(
        plan=PlanType.FREE,
        name="Free",
        summary="For trying things out on your own.",
        features=PlanFeatures(support=SupportLevel.COMMUNITY, sso=False, audit_log=False),
        limits=PlanLimits(seats=1, projects=1, api_calls_per_month=1_000),
    ),
    PlanType.SOLO: PlanDefinition(
        plan=PlanType.SOLO,
        name="Solo",
        summary="For one person shipping real work.",
        features=PlanFeatures(support=SupportLevel.EMAIL, sso=False, audit_log=False),
        limits=PlanLimits(seats=1, projects=10, api_calls_per_month=50_000),
    ),
    PlanType.TEAM: PlanDefinition(
        plan=PlanType.TEAM,
        name="Team",
        summary="For teams that work together.",
        features=PlanFeatures(support=SupportLevel.PRIORITY, sso=False, audit_log=True),
        limits=PlanLimits(seats=20, projects=100, api_calls_per_month=1_000_000),
    ),
    PlanType.ENTERPRISE: PlanDefinition(
        plan=PlanType.ENTERPRISE,
        name="Enterprise",
        summary="For organisations with security and compliance needs.",
        features=PlanFeatures(support=SupportLevel.DEDICATED, sso=True, audit_log=True),
        limits=PlanLimits(seats=None, projects=None, api_calls_per_month=None),
    ),
}

COMPARISON_ROWS: tuple[ComparisonRow, ...] = (
    ComparisonRow(key="seats", label="Seats", kind="limit"),
    ComparisonRow(key="projects", label="Projects", kind="limit"),
    ComparisonRow(key="api_calls_per_month", label="API calls a month", kind="limit"),
    ComparisonRow(key="support", label="Support", kind="support"),
    ComparisonRow(key="sso", label="Single sign-on (SSO)", kind="feature"),
    ComparisonRow(key="audit_log", label="Audit log", kind="feature"),
)


def plan_definition(plan: PlanType) -> PlanDefinition:
    return PLAN_DEFINITIONS[plan]


def granted_plan(plan: PlanType, status: SubscriptionStatus) -> PlanType:
    """The plan whose features a tenant gets: its paid plan while the subscription grants
    access (trialing, active, past due), else free (paused, unpaid, incomplete, ended)."""
    return plan if plan.is_paid and status.has_paid_access else PlanType.FREE


def yearly_saving_percent(monthly_amount: int, yearly_amount: int) -> int:
    """How much cheaper a year is than twelve months, in whole percent (never negative)."""
    twelve = 12 * monthly_amount
    if twelve <= 0 or yearly_amount >= twelve:
        return 0
    return round((twelve - yearly_amount) * 100 / twelve)
