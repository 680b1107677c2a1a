"""The billing account aggregate: one per tenant, the projection of its subscription.

It is mutable and records what happened in ``self.events`` (domain events from
``billing_domain.account_events``), which the use case reads after the change.

Two kinds of input change it:

- user commands (``schedule_cancel``, ``resume``, ``request_plan_change``),
  checked against the rules and the caller's role, applied optimistically
  before the use case calls Stripe (nothing is committed if Stripe fails);
- what Stripe says (``apply_stripe_snapshot``, ``record_payment_failed``,
  ``record_invoice_paid``, ``record_invoice_closed_unpaid``), guarded per Stripe
  object by ``last_applied`` so an older event never overwrites newer state (see
  ``billing_domain.ordering``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billing_domain.account_changes import AccountState, describe_changes, entitlement_change
from billing_domain.account_events import (
    AccountEvent,
    InvoiceClosedUnpaid,
    InvoicePaid,
    PaymentFailed,
    PendingPlanChangeDropped,
    SubscriptionCancelScheduled,
    SubscriptionPlanChanged,
    SubscriptionResumed,
)
from billing_domain.auth import Action, Principal, authorize
from billing_domain.ended_subscription import EndedSubscription
from billing_domain.errors import Conflict, RuleViolated
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark, ApplyOutcome, judge, later_mark
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plan_catalogue import granted_plan
from billing_domain.plan_change import PlanChangeDecision, decide_plan_change
from billing_domain.plans import BillingInterval, PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.timestamps import ensure_utc
from billing_domain.trials import days_left, require_trialing, stripe_now


@dataclass(kw_only=True)
class BillingAccount:
    tenant_id: str
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    plan: PlanType = PlanType.FREE
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None
    trial_end: datetime | None = None
    payment_failure: PaymentFailure | None = None
    pending_plan: PendingPlanChange | None = None
    has_payment_method: bool = False
    interval: BillingInterval = BillingInterval.MONTH
    ended: EndedSubscription | None = None
    """Why the tenant's last subscription ended (kept until a new one starts)."""
    last_applied: dict[str, AppliedMark] = field(default_factory=dict)
    events: list[AccountEvent] = field(default_factory=list, init=False, compare=False, repr=False)

    @classmethod
    def free(cls, tenant_id: str) -> BillingAccount:
        """A tenant never seen before: the free plan, active."""
        return cls(tenant_id=tenant_id)

    @property
    def has_paid_access(self) -> bool:
        return self.plan.is_paid and self.status.has_paid_access

    @property
    def granted_plan(self) -> PlanType:
        """The plan whose features and limits the tenant gets now (its entitlements)."""
        return granted_plan(self.plan, self.status)

    @property
    def state(self) -> AccountState:
        return AccountState(
            subscription_id=self.stripe_subscription_id,
            plan=self.plan,
            status=self.status,
            cancel_at_period_end=self.cancel_at_period_end,
            current_period_end=self.current_period_end,
            trial_end=self.trial_end,
            pending_plan=self.pending_plan,
            interval=self.interval,
        )

    def snapshot(self) -> SubscriptionSnapshot | None:
        """The subscription as the account holds it; ``None`` when there is none."""
        if self.stripe_subscription_id is None:
            return None
        return SubscriptionSnapshot(
            subscription_id=self.stripe_subscription_id,
            customer_id=self.stripe_customer_id or "",
            plan=self.plan,
            status=self.status,
            cancel_at_period_end=self.cancel_at_period_end,
            current_period_end=self.current_period_end,
            trial_end=self.trial_end,
            pending_plan=self.pending_plan,
            has_payment_method=self.has_payment_method,
            interval=self.interval,
        )

    def pull_events(self) -> list[AccountEvent]:
        """Hand over the recorded events and forget them."""
        events, self.events = self.events, []
        return events

    # -- user commands ------------------------------------------------------

    def link_customer(self, customer_id: str) -> None:
        """Remember the tenant's Stripe customer; a tenant has exactly one."""
        if self.stripe_customer_id not in (None, customer_id):
            raise Conflict(
                "this tenant already has another Stripe customer", code="customer_mismatch"
            )
        self.stripe_customer_id = customer_id

    def schedule_cancel(self, principal: Principal, now: datetime) -> None:
        """Cancel at the end of the paid period. A pending downgrade is dropped too."""
        authorize(principal, Action.MANAGE_BILLING, tenant_id=self.tenant_id)
        subscription_id = self._require_live_paid_subscription()
        if self.cancel_at_period_end:
            raise Conflict("a cancellation is already scheduled", code="already_scheduled")
        self._drop_pending_plan(subscription_id)
        self.cancel_at_period_end = True
        cancel_at = self.current_period_end or ensure_utc(now, name="now")
        self.events.append(
            SubscriptionCancelScheduled(
                tenant_id=self.tenant_id, subscription_id=subscription_id, cancel_at=cancel_at
            )
        )

    def resume(self, principal: Principal) -> None:
        """Undo a scheduled cancellation."""
        authorize(principal, Action.MANAGE_BILLING, tenant_id=self.tenant_id)
        if self.status.is_ended:
            raise Conflict("the subscription has already ended", code="subscription_canceled")
        if not self.cancel_at_period_end or self.stripe_subscription_id is None:
            raise Conflict("no cancellation is scheduled", code="not_scheduled")
        self.cancel_at_period_end = False
        self.events.append(
            SubscriptionResumed(
                tenant_id=self.tenant_id, subscription_id=self.stripe_subscription_id
            )
        )

    def request_plan_change(
        self,
        principal: Principal,
        target: PlanType,
        now: datetime,
        *,
        interval: BillingInterval | None = None,
        when: PlanChangeEffective | None = None,
    ) -> PlanChangeDecision:
        """Move to ``target`` at ``interval`` (default: the current one), ``when`` asked
        (default: upgrades now, prorated; downgrades at the end of the period).

        A change now drops a pending change. Going to free is a cancellation
        (``RuleViolated``); from free it is a checkout (``Conflict``).
        """
        authorize(principal, Action.MANAGE_BILLING, tenant_id=self.tenant_id)
        subscription_id = self._require_live_paid_subscription()
        decision = decide_plan_change(self.state, target, now, interval=interval, when=when)
        before = self.state
        if decision.effective is PlanChangeEffective.NOW:
            self.plan = target
            self.interval = decision.to_interval
            self.pending_plan = None
        else:
            self.pending_plan = PendingPlanChange(
                plan=target, effective_at=decision.effective_at, interval=decision.to_interval
            )
        self.events.append(
            SubscriptionPlanChanged(
                tenant_id=self.tenant_id,
                subscription_id=subscription_id,
                from_plan=decision.from_plan,
                to_plan=target,
                effective=decision.effective,
                effective_at=decision.effective_at,
                from_interval=decision.from_interval,
                to_interval=decision.to_interval,
            )
        )
        self.events.extend(entitlement_change(self.tenant_id, before, self.state))
        return decision

    def end_trial_now(self, principal: Principal) -> str:
        """Convert now (``trial_end=now``): the owner of a trialing subscription with a
        payment method; 409 ``not_trialing`` / ``payment_method_required`` otherwise."""
        authorize(principal, Action.MANAGE_BILLING, tenant_id=self.tenant_id)
        require_trialing(self.status)
        if not self.has_payment_method:
            raise Conflict(
                "add a payment method before ending the trial", code="payment_method_required"
            )
        assert self.stripe_subscription_id is not None  # trialing: Stripe told us its id
        return self.stripe_subscription_id

    def trial_ends_in_days(self, now: datetime) -> int | None:
        """Days left in the trial on the subscription's clock (see ``trials.stripe_now``)."""
        clock = stripe_now(now, (mark.created for mark in self.last_applied.values()))
        return days_left(status=self.status, trial_end=self.trial_end, now=clock)

    def withdraw_pending_change(self, principal: Principal) -> PendingPlanChange:
        """Undo a scheduled change (a downgrade, or yearly -> monthly): the tenant stays
        on its plan and price. ``Conflict(no_pending_change)`` when none is scheduled."""
        authorize(principal, Action.MANAGE_BILLING, tenant_id=self.tenant_id)
        subscription_id = self._require_live_paid_subscription()
        pending = self.pending_plan
        if pending is None:
            raise Conflict("no plan change is scheduled", code="no_pending_change")
        self._drop_pending_plan(subscription_id)
        return pending

    # -- what Stripe says ---------------------------------------------------

    def apply_stripe_snapshot(
        self, snapshot: SubscriptionSnapshot, mark: AppliedMark, object_id: str | None = None
    ) -> ApplyOutcome:
        """Apply a subscription state carried by a Stripe event, if it is the newest.

        ``object_id`` defaults to the subscription id. On ``TIE`` nothing is
        applied: re-read the subscription from Stripe and ``apply_authoritative``.
        """
        key = object_id or snapshot.subscription_id
        outcome = judge(self.last_applied.get(key), mark)
        if outcome is not ApplyOutcome.APPLIED:
            return outcome
        self.last_applied[key] = mark
        if self._is_superseded_by_current(snapshot):
            return ApplyOutcome.SUPERSEDED
        self._take(snapshot)
        return ApplyOutcome.APPLIED

    def apply_authoritative(
        self,
        snapshot: SubscriptionSnapshot,
        *,
        mark: AppliedMark | None = None,
        object_id: str | None = None,
    ) -> ApplyOutcome:
        """Apply a fresh read from Stripe: it wins over any event-carried state.

        Given the ``mark`` of the event that caused the re-read, the watermark
        moves forward to it (never back). Only a snapshot of a subscription
        that is no longer the tenant's current one is refused (``SUPERSEDED``).
        """
        if mark is not None:
            key = object_id or snapshot.subscription_id
            self.last_applied[key] = later_mark(self.last_applied.get(key), mark)
        if self._is_superseded_by_current(snapshot):
            return ApplyOutcome.SUPERSEDED
        self._take(snapshot)
        return ApplyOutcome.APPLIED

    def record_payment_failed(
        self,
        failure: PaymentFailure,
        *,
        mark: AppliedMark | None = None,
        object_id: str | None = None,
    ) -> ApplyOutcome:
        """An invoice payment failed (``invoice.payment_failed``).

        With a ``mark``, the event is ordered against others for the same
        invoice (``object_id`` defaults to ``failure.invoice_id``).
        """
        # In the same second as the invoice's last event: another attempt of a
        # failure still open applies; after its payment or closing it does not.
        key = object_id or failure.invoice_id
        still_failing = self.payment_failure is not None and self.payment_failure.invoice_id == key
        outcome = self._admit(mark, key, wins_a_tie=still_failing)
        if outcome is ApplyOutcome.STALE and still_failing and self.payment_failure is not None:
            # an older attempt of the failure shown: history for its timeline, nothing more
            self.payment_failure = self.payment_failure.with_past_attempts(failure.attempts)
            return outcome
        if outcome is not ApplyOutcome.APPLIED:
            return outcome
        failure = failure.continuing(self.payment_failure, None if mark is None else mark.created)
        if failure == self.payment_failure:
            return outcome
        self.payment_failure = failure
        self.events.append(
            PaymentFailed(
                tenant_id=self.tenant_id,
                invoice_id=failure.invoice_id,
                amount_due=failure.amount_due,
                hosted_invoice_url=failure.hosted_invoice_url,
                next_payment_attempt=failure.next_payment_attempt,
            )
        )
        return outcome

    def record_payment_action_required(
        self, failure: PaymentFailure, *, at: datetime | None = None
    ) -> ApplyOutcome:
        """Stripe waits for the customer to confirm an invoice's payment
        (``invoice.payment_action_required``, sent beside ``invoice.payment_failed``).

        The failure of that invoice is marked; when this event comes first, the failure
        is recorded from it (its ``invoice.payment_failed``, arriving next, keeps the
        mark for the same attempt). Not ordered by the invoice's watermark: it only
        adds to the failure, and a paid invoice clears it whatever the order.
        """
        current = self.payment_failure
        if current is not None and current.invoice_id == failure.invoice_id:
            if current.action_required or current.attempt_count > failure.attempt_count:
                return ApplyOutcome.DUPLICATE
            self.payment_failure = current.needing_action(failure)
            return ApplyOutcome.APPLIED
        # an event of that invoice was applied and left no failure: paid or closed
        if self.status.is_ended or failure.invoice_id in self.last_applied:
            return ApplyOutcome.DUPLICATE
        self.payment_failure = failure.continuing(current, at)
        return ApplyOutcome.APPLIED

    def record_invoice_paid(
        self,
        *,
        invoice_id: str,
        amount_paid: Money,
        mark: AppliedMark | None = None,
        object_id: str | None = None,
    ) -> ApplyOutcome:
        """An invoice was paid (``invoice.paid``): clears a failure of that invoice.
        Paid is final: it wins a tie with the invoice's failure."""
        outcome = self._admit(mark, object_id or invoice_id, wins_a_tie=True)
        if outcome is not ApplyOutcome.APPLIED:
            return outcome
        cleared = self._clear_failure_of(invoice_id)
        self.events.append(
            InvoicePaid(
                tenant_id=self.tenant_id,
                invoice_id=invoice_id,
                amount_paid=amount_paid,
                cleared_payment_failure=cleared is not None,
                failed_since=None if cleared is None else cleared.since,
                paid_at=None if mark is None else mark.created,
            )
        )
        return outcome

    def record_invoice_closed_unpaid(
        self,
        *,
        invoice_id: str,
        uncollectible: bool,
        mark: AppliedMark | None = None,
    ) -> ApplyOutcome:
        """An invoice was voided (``invoice.voided``) or written off
        (``invoice.marked_uncollectible``): a failure of that invoice is over, so the
        tenant's payment-failure banner clears (whatever the subscription's status).
        Closing is final: it wins a tie with the invoice's failure."""
        outcome = self._admit(mark, invoice_id, wins_a_tie=True)
        if outcome is not ApplyOutcome.APPLIED:
            return outcome
        self.events.append(
            InvoiceClosedUnpaid(
                tenant_id=self.tenant_id,
                invoice_id=invoice_id,
                uncollectible=uncollectible,
                cleared_payment_failure=self._clear_failure_of(invoice_id) is not None,
            )
        )
        return outcome

    # -- internals ----------------------------------------------------------

    def _require_live_paid_subscription(self) -> str:
        if self.status.is_ended:
            raise Conflict("the subscription has already ended", code="subscription_canceled")
        if not self.plan.is_paid or self.stripe_subscription_id is None:
            raise Conflict("the tenant is on the free plan", code="free_plan")
        return self.stripe_subscription_id

    def _drop_pending_plan(self, subscription_id: str) -> None:
        if self.pending_plan is None:
            return
        dropped, self.pending_plan = self.pending_plan, None
        self.events.append(
            PendingPlanChangeDropped(
                tenant_id=self.tenant_id, subscription_id=subscription_id, plan=dropped.plan
            )
        )

    def _clear_failure_of(self, invoice_id: str) -> PaymentFailure | None:
        """Clear the payment failure this invoice ends; the cleared one, if any."""
        failure = self.payment_failure
        if failure is None or not failure.is_cleared_by(invoice_id):
            return None
        self.payment_failure = None
        return failure

    def _admit(
        self, mark: AppliedMark | None, key: str | None, *, wins_a_tie: bool = False
    ) -> ApplyOutcome:
        """``wins_a_tie``: an invoice event that needs no re-read when it shares its
        second with the last one applied (Stripe's ``created`` has one-second
        resolution, and a test clock stamps a whole cycle with its frozen time)."""
        if mark is None:
            return ApplyOutcome.APPLIED
        if key is None:
            raise RuleViolated("an ordered update needs an object id", code="missing_object_id")
        outcome = judge(self.last_applied.get(key), mark)
        if outcome is ApplyOutcome.TIE and wins_a_tie:
            outcome = ApplyOutcome.APPLIED
        if outcome is ApplyOutcome.APPLIED:
            self.last_applied[key] = mark
        return outcome

    def _is_superseded_by_current(self, snapshot: SubscriptionSnapshot) -> bool:
        """A snapshot of another subscription replaces the current one only when
        the current one has ended or the other one grants paid access."""
        current = self.stripe_subscription_id
        if current is None or current == snapshot.subscription_id or self.status.is_ended:
            return False
        return not snapshot.status.has_paid_access

    def _take(self, snapshot: SubscriptionSnapshot) -> None:
        before = self.state
        before_status, before_plan = self.status, self.plan
        before_cancel = self.cancel_at_period_end
        ended = snapshot.status.is_ended
        if snapshot.has_payment_method is not None:
            self.has_payment_method = snapshot.has_payment_method
        elif snapshot.subscription_id != self.stripe_subscription_id:
            self.has_payment_method = False  # another subscription: what we knew was not its
        self.stripe_customer_id = snapshot.customer_id
        self.stripe_subscription_id = snapshot.subscription_id
        self.status = snapshot.status
        self.plan = PlanType.FREE if ended else snapshot.plan
        self.interval = snapshot.interval
        self.cancel_at_period_end = snapshot.cancel_at_period_end and not ended
        self.current_period_end = snapshot.current_period_end
        self.trial_end = snapshot.trial_end
        pending = snapshot.pending_plan
        self.pending_plan = (
            None
            if ended
            or pending is None
            or (pending.plan, pending.interval) == (self.plan, self.interval)
            else pending
        )
        if ended and not before_status.is_ended:
            self.ended = EndedSubscription.of(
                plan=before_plan,
                status=before_status,
                failure=self.payment_failure,
                cancel_scheduled=before_cancel,
            )
        elif not ended:
            self.ended = None
        if ended:
            self.payment_failure = None
        self.events.extend(describe_changes(self.tenant_id, before, self.state))
