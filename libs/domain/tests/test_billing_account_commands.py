from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing_domain import account_events as ev
from billing_domain.auth import Principal, Role
from billing_domain.errors import Conflict, Forbidden, RuleViolated
from billing_domain.plans import BillingInterval, ChangeDirection, PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PERIOD_END = NOW + timedelta(days=20)
OWNER = Principal(user_id="u-owner", tenant_id="t1", role=Role.OWNER)
MEMBER = Principal(user_id="u-member", tenant_id="t1", role=Role.MEMBER)
OTHER_OWNER = Principal(user_id="u-x", tenant_id="t2", role=Role.OWNER)


def paid_account(**overrides: Any) -> BillingAccount:
    fields: dict[str, Any] = {
        "tenant_id": "t1",
        "stripe_customer_id": "cus_1",
        "stripe_subscription_id": "sub_1",
        "plan": PlanType.TEAM,
        "status": SubscriptionStatus.ACTIVE,
        "current_period_end": PERIOD_END,
    }
    fields.update(overrides)
    return BillingAccount(**fields)


def test_a_tenant_never_seen_is_free_and_active() -> None:
    account = BillingAccount.free("t9")
    assert account.plan is PlanType.FREE
    assert account.status is SubscriptionStatus.ACTIVE
    assert not account.has_paid_access
    assert account.events == []
    assert account.last_applied == {}


# -- cancel -------------------------------------------------------------------


def test_owner_schedules_cancel_at_period_end() -> None:
    account = paid_account()
    account.schedule_cancel(OWNER, NOW)
    assert account.cancel_at_period_end
    assert account.plan is PlanType.TEAM  # still paid until the period ends
    assert account.events == [
        ev.SubscriptionCancelScheduled(
            tenant_id="t1", subscription_id="sub_1", cancel_at=PERIOD_END
        )
    ]


@pytest.mark.parametrize(("who", "code"), [(MEMBER, "owner_only"), (OTHER_OWNER, "other_tenant")])
def test_only_the_tenants_owner_cancels(who: Principal, code: str) -> None:
    account = paid_account()
    with pytest.raises(Forbidden) as caught:
        account.schedule_cancel(who, NOW)
    assert caught.value.code == code
    assert not account.cancel_at_period_end
    assert account.events == []


def test_free_plan_cannot_be_canceled() -> None:
    with pytest.raises(Conflict) as caught:
        BillingAccount.free("t1").schedule_cancel(OWNER, NOW)
    assert caught.value.code == "free_plan"


def test_cancel_twice_conflicts() -> None:
    account = paid_account(cancel_at_period_end=True)
    with pytest.raises(Conflict) as caught:
        account.schedule_cancel(OWNER, NOW)
    assert caught.value.code == "already_scheduled"


def test_ended_subscription_cannot_be_canceled() -> None:
    account = paid_account(status=SubscriptionStatus.CANCELED, plan=PlanType.FREE)
    with pytest.raises(Conflict) as caught:
        account.schedule_cancel(OWNER, NOW)
    assert caught.value.code == "subscription_canceled"


def test_cancel_drops_a_pending_downgrade() -> None:
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END)
    account = paid_account(pending_plan=pending)
    account.schedule_cancel(OWNER, NOW)
    assert account.pending_plan is None
    assert [type(e) for e in account.events] == [
        ev.PendingPlanChangeDropped,
        ev.SubscriptionCancelScheduled,
    ]


# -- resume -------------------------------------------------------------------


def test_resume_undoes_a_scheduled_cancel() -> None:
    account = paid_account(cancel_at_period_end=True)
    account.resume(OWNER)
    assert not account.cancel_at_period_end
    assert account.pull_events() == [
        ev.SubscriptionResumed(tenant_id="t1", subscription_id="sub_1")
    ]
    assert account.events == []


def test_resume_without_scheduled_cancel_conflicts() -> None:
    with pytest.raises(Conflict) as caught:
        paid_account().resume(OWNER)
    assert caught.value.code == "not_scheduled"


def test_resume_is_owner_only() -> None:
    with pytest.raises(Forbidden):
        paid_account(cancel_at_period_end=True).resume(MEMBER)


def test_resume_after_the_end_conflicts() -> None:
    account = paid_account(
        status=SubscriptionStatus.CANCELED, plan=PlanType.FREE, cancel_at_period_end=True
    )
    with pytest.raises(Conflict) as caught:
        account.resume(OWNER)
    assert caught.value.code == "subscription_canceled"


# -- plan change ----------------------------------------------------------------


def test_upgrade_is_effective_now_and_drops_a_pending_downgrade() -> None:
    account = paid_account(
        plan=PlanType.TEAM,
        pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END),
    )
    decision = account.request_plan_change(OWNER, PlanType.ENTERPRISE, NOW)
    assert decision.direction is ChangeDirection.UPGRADE
    assert decision.effective is PlanChangeEffective.NOW
    assert decision.effective_at == NOW
    assert (decision.from_plan, decision.to_plan) == (PlanType.TEAM, PlanType.ENTERPRISE)
    assert account.plan is PlanType.ENTERPRISE
    assert account.pending_plan is None
    assert account.events == [
        ev.SubscriptionPlanChanged(
            tenant_id="t1",
            subscription_id="sub_1",
            from_plan=PlanType.TEAM,
            to_plan=PlanType.ENTERPRISE,
            effective=PlanChangeEffective.NOW,
            effective_at=NOW,
            from_interval=BillingInterval.MONTH,
            to_interval=BillingInterval.MONTH,
        ),
        ev.EntitlementsChanged(
            tenant_id="t1",
            subscription_id="sub_1",
            from_plan=PlanType.TEAM,
            to_plan=PlanType.ENTERPRISE,
        ),
    ]


def test_downgrade_waits_for_the_period_end() -> None:
    account = paid_account(plan=PlanType.ENTERPRISE)
    decision = account.request_plan_change(OWNER, PlanType.SOLO, NOW)
    assert decision.direction is ChangeDirection.DOWNGRADE
    assert decision.effective is PlanChangeEffective.PERIOD_END
    assert decision.effective_at == PERIOD_END
    assert account.plan is PlanType.ENTERPRISE
    assert account.pending_plan == PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END)
    (event,) = account.events
    assert isinstance(event, ev.SubscriptionPlanChanged)
    assert event.effective is PlanChangeEffective.PERIOD_END


@pytest.mark.parametrize(
    ("account", "target", "error", "code"),
    [
        (paid_account(), PlanType.TEAM, Conflict, "same_plan"),
        (paid_account(), PlanType.FREE, RuleViolated, "use_cancel"),
        (BillingAccount.free("t1"), PlanType.TEAM, Conflict, "free_plan"),
        (paid_account(cancel_at_period_end=True), PlanType.SOLO, Conflict, "cancel_scheduled"),
        (
            paid_account(status=SubscriptionStatus.UNPAID),
            PlanType.SOLO,
            Conflict,
            "subscription_inactive",
        ),
        (paid_account(current_period_end=None), PlanType.SOLO, Conflict, "period_unknown"),
        (
            paid_account(
                pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END)
            ),
            PlanType.SOLO,
            Conflict,
            "already_pending",
        ),
    ],
)
def test_plan_change_rules(
    account: BillingAccount, target: PlanType, error: type[Exception], code: str
) -> None:
    before = (account.plan, account.pending_plan)
    with pytest.raises(error) as caught:
        account.request_plan_change(OWNER, target, NOW)
    assert getattr(caught.value, "code", None) == code
    assert (account.plan, account.pending_plan) == before
    assert account.events == []


def test_plan_change_is_owner_only() -> None:
    with pytest.raises(Forbidden):
        paid_account().request_plan_change(MEMBER, PlanType.ENTERPRISE, NOW)


def test_plan_change_allowed_during_trial_and_dunning() -> None:
    for status in (SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE):
        account = paid_account(status=status, plan=PlanType.SOLO)
        assert account.request_plan_change(OWNER, PlanType.TEAM, NOW).to_plan is PlanType.TEAM


# -- customer -----------------------------------------------------------------


def test_one_stripe_customer_per_tenant() -> None:
    account = BillingAccount.free("t1")
    account.link_customer("cus_1")
    account.link_customer("cus_1")
    assert account.stripe_customer_id == "cus_1"
    with pytest.raises(Conflict) as caught:
        account.link_customer("cus_2")
    assert caught.value.code == "customer_mismatch"
