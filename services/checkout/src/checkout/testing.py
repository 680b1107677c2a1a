"""Fakes of checkout's ports, for its tests (and any test that drives checkout's use cases).

Imported by tests only: an import-linter contract forbids every production module of
checkout to import this one. The fake unit of work stands on the platform's
``billing_platform.testing.fakes.FakeUnitOfWork`` (staged writes, commit, rollback).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypedDict, Unpack

import httpx
from billing_domain.auth import Principal, Role
from billing_domain.envelope import IntegrationEvent
from billing_domain.errors import GatewayUnavailable, NotFound
from billing_domain.plans import BillingInterval, PlanType
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.fakes import FakeMessageInbox, FakeUnitOfWork
from fastapi import FastAPI

from checkout.commands import (
    CheckoutStarted,
    OpenPortal,
    StartCheckout,
    Verification,
    VerifySession,
)
from checkout.config import CheckoutConfig
from checkout.ports import (
    CheckoutSessionRecord,
    NewCheckoutSession,
    NewSetupSession,
    OpenedSession,
    PriceInfo,
    SavedCard,
    StripeSessionView,
    TenantPlan,
)
from checkout.use_cases import open_portal, start_checkout, verify_session


class CheckoutOptions(TypedDict, total=False):
    """``StartCheckout``'s optional fields, as ``World.checkout`` passes them on."""

    trial: bool
    idempotency_key: str | None
    interval: str


class FakePaymentGateway:
    """Stripe as dicts, honouring idempotency keys; ``down`` makes every call fail."""

    def __init__(self) -> None:
        self.customers: dict[str, str] = {}  # customer id -> tenant id
        self.sessions: dict[str, StripeSessionView] = {}
        self.requests: list[NewCheckoutSession] = []
        self.setup_requests: list[NewSetupSession] = []
        self.by_key: dict[str, str] = {}  # idempotency key -> object id
        self.portal_calls: list[tuple[str, str]] = []
        self.price_table: dict[str, PriceInfo] = {}
        self.down: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.defaults: dict[str, str] = {}  # customer id -> default payment method
        self.default_calls: list[tuple[str, str, str]] = []  # customer, method, key

    def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        if operation in self.down or "*" in self.down:
            raise GatewayUnavailable(f"Stripe is unavailable ({operation})")

    async def create_customer(self, *, tenant_id: str, idempotency_key: str) -> str:
        self._call("customers.create")
        await asyncio.sleep(0)  # let concurrent callers interleave
        if idempotency_key not in self.by_key:
            customer_id = f"cus_{len(self.customers) + 1}"
            self.customers[customer_id] = tenant_id
            self.by_key[idempotency_key] = customer_id
        return self.by_key[idempotency_key]

    async def create_checkout_session(self, request: NewCheckoutSession) -> OpenedSession:
        self._call("checkout.sessions.create")
        session_id = self.by_key.get(request.idempotency_key)
        if session_id is None:
            session_id = f"cs_test_{len(self.sessions) + 1}"
            self.by_key[request.idempotency_key] = session_id
            self.requests.append(request)
            self.sessions[session_id] = StripeSessionView(
                session_id=session_id,
                status="open",
                payment_status="unpaid",
                customer_id=request.customer_id,
                client_reference_id=request.tenant_id,
                metadata={
                    "tenant_id": request.tenant_id,
                    "plan": request.plan.value,
                    "trial": "true" if request.trial_days else "false",
                },
            )
        return OpenedSession(session_id=session_id, url=f"https://pay.test/{session_id}")

    async def create_setup_session(self, request: NewSetupSession) -> OpenedSession:
        self._call("checkout.sessions.create")
        session_id = self.by_key.get(request.idempotency_key)
        if session_id is None:
            session_id = f"cs_test_setup_{len(self.sessions) + 1}"
            self.by_key[request.idempotency_key] = session_id
            self.setup_requests.append(request)
            self.sessions[session_id] = StripeSessionView(
                session_id=session_id,
                status="open",
                payment_status="no_payment_required",
                customer_id=request.customer_id,
                client_reference_id=request.tenant_id,
                metadata={"tenant_id": request.tenant_id, "purpose": "card_setup"},
                mode="setup",
            )
        return OpenedSession(session_id=session_id, url=f"https://pay.test/{session_id}")

    def save_card(self, session_id: str, payment_method_id: str, last4: str = "4444") -> None:
        """The setup session's hosted page saved a card (its SetupIntent succeeded)."""
        self.sessions[session_id] = replace(
            self.sessions[session_id],
            status="complete",
            payment_status="no_payment_required",
            saved_card=SavedCard(
                payment_method_id=payment_method_id, brand="mastercard", last4=last4
            ),
        )

    async def make_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        self._call("customers.update")
        self.default_calls.append((customer_id, payment_method_id, idempotency_key))
        self.defaults[customer_id] = payment_method_id

    def complete(self, session_id: str, payment_status: str = "paid") -> None:
        self.sessions[session_id] = replace(
            self.sessions[session_id], status="complete", payment_status=payment_status
        )

    async def retrieve_checkout_session(self, session_id: str) -> StripeSessionView:
        self._call("checkout.sessions.retrieve")
        if session_id not in self.sessions:
            raise NotFound("Stripe has no such object", code="stripe_not_found")
        return self.sessions[session_id]

    async def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        self._call("billing_portal.sessions.create")
        self.portal_calls.append((customer_id, return_url))
        return f"https://portal.test/{customer_id}"

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]:
        self._call("prices.retrieve")
        return {pid: self.price_table[pid] for pid in price_ids if pid in self.price_table}


@dataclass
class FakeTables:
    customers: dict[str, str] = field(default_factory=dict)  # tenant -> customer id
    sessions: dict[str, CheckoutSessionRecord] = field(default_factory=dict)
    tenant_plans: dict[str, TenantPlan] = field(default_factory=dict)
    trials: dict[str, str | None] = field(default_factory=dict)  # tenant -> customer id
    card_setups: dict[str, str] = field(default_factory=dict)  # session id -> payment method
    outbox: list[IntegrationEvent] = field(default_factory=list)
    inbox: set[str] = field(default_factory=set)  # message ids

    def merge(self, changes: FakeTables) -> None:
        self.customers.update(changes.customers)
        self.sessions.update(changes.sessions)
        self.tenant_plans.update(changes.tenant_plans)
        for tenant, customer in changes.trials.items():
            self.trials.setdefault(tenant, customer)
        for session, method in changes.card_setups.items():
            self.card_setups.setdefault(session, method)
        self.outbox.extend(changes.outbox)
        self.inbox.update(changes.inbox)


class FakeDatabase:
    """Committed tables. A unit of work stages its writes and merges them on commit;
    its reads see the committed rows plus its own writes (Postgres' read committed)."""

    def __init__(self) -> None:
        self.tables = FakeTables()
        self.locks: dict[str, asyncio.Lock] = {}
        self.commits = 0

    def uow(self) -> FakeCheckoutUnitOfWork:
        return FakeCheckoutUnitOfWork(self)


class FakeCustomers:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    def _rows(self) -> dict[str, str]:
        return {**self._uow.db.tables.customers, **self._uow.staged.customers}

    async def lock(self, tenant_id: str) -> None:
        await self._uow.hold(self._uow.db.locks.setdefault(tenant_id, asyncio.Lock()))

    async def get(self, tenant_id: str) -> str | None:
        return self._rows().get(tenant_id)

    async def tenant_of(self, customer_id: str) -> str | None:
        found = [t for t, c in self._rows().items() if c == customer_id]
        return found[0] if found else None

    async def add(self, *, tenant_id: str, customer_id: str, created_at: datetime) -> None:
        rows = self._rows()
        if tenant_id in rows or customer_id in rows.values():
            raise AssertionError("unique violation on billing_customers")
        self._uow.staged.customers[tenant_id] = customer_id


class FakeSessions:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    def _rows(self) -> dict[str, CheckoutSessionRecord]:
        return {**self._uow.db.tables.sessions, **self._uow.staged.sessions}

    async def add(self, record: CheckoutSessionRecord) -> bool:
        if record.session_id in self._rows():
            return False
        self._uow.staged.sessions[record.session_id] = record
        return True

    async def get(self, session_id: str) -> CheckoutSessionRecord | None:
        return self._rows().get(session_id)

    async def by_idempotency_key(
        self, tenant_id: str, idempotency_key: str
    ) -> CheckoutSessionRecord | None:
        found = [
            s
            for s in self._rows().values()
            if (s.tenant_id, s.idempotency_key) == (tenant_id, idempotency_key)
        ]
        return found[0] if found else None

    async def latest_open(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        trial: bool,
        since: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> CheckoutSessionRecord | None:
        found = [
            s
            for s in self._rows().values()
            if (s.tenant_id, s.plan, s.trial, s.status, s.interval)
            == (tenant_id, plan, trial, "open", interval)
            and s.created_at >= since
            and s.idempotency_key is None
        ]
        return max(found, key=lambda s: s.created_at) if found else None

    async def latest_open_trial(
        self, *, tenant_id: str, since: datetime
    ) -> CheckoutSessionRecord | None:
        found = [
            s
            for s in self._rows().values()
            if (s.tenant_id, s.trial, s.status) == (tenant_id, True, "open")
            and s.created_at >= since
        ]
        return max(found, key=lambda s: s.created_at) if found else None

    async def mark_completed(
        self, session_id: str, *, payment_status: str, completed_at: datetime
    ) -> bool:
        record = self._rows().get(session_id)
        if record is None:
            return False
        self._uow.staged.sessions[session_id] = replace(record, status="complete")
        return True


class FakeTenantPlans:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    async def get(self, tenant_id: str) -> TenantPlan | None:
        return self._uow.staged.tenant_plans.get(
            tenant_id, self._uow.db.tables.tenant_plans.get(tenant_id)
        )

    async def save(self, plan: TenantPlan) -> bool:
        stored = await self.get(plan.tenant_id)
        if stored is not None and stored.as_of > plan.as_of:
            return False
        self._uow.staged.tenant_plans[plan.tenant_id] = plan
        return True


class FakeTrials:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    async def used(self, *, tenant_id: str, customer_id: str | None) -> bool:
        rows = {**self._uow.staged.trials, **self._uow.db.tables.trials}
        return tenant_id in rows or (customer_id is not None and customer_id in rows.values())

    async def lock(self, tenant_id: str) -> None:
        await self._uow.hold(self._uow.db.locks.setdefault(f"trial:{tenant_id}", asyncio.Lock()))

    async def record(
        self, *, tenant_id: str, customer_id: str | None, evidence: str, used_at: datetime
    ) -> None:
        self._uow.staged.trials.setdefault(tenant_id, customer_id)


class FakeCardSetups:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    async def adopted(self, session_id: str) -> bool:
        return session_id in {**self._uow.db.tables.card_setups, **self._uow.staged.card_setups}

    async def record(
        self, *, session_id: str, tenant_id: str, payment_method_id: str, adopted_at: datetime
    ) -> None:
        self._uow.staged.card_setups.setdefault(session_id, payment_method_id)


class FakeOutbox:
    def __init__(self, uow: FakeCheckoutUnitOfWork) -> None:
        self._uow = uow

    async def add(self, *events: IntegrationEvent) -> None:
        self._uow.staged.outbox.extend(events)


class FakeCheckoutUnitOfWork(FakeUnitOfWork[FakeTables]):
    """One transaction on a ``FakeDatabase``: its writes are staged until ``commit``."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        super().__init__()
        self.customers = FakeCustomers(self)
        self.sessions = FakeSessions(self)
        self.tenant_plans = FakeTenantPlans(self)
        self.trials = FakeTrials(self)
        self.card_setups = FakeCardSetups(self)
        self.outbox = FakeOutbox(self)
        self.inbox = FakeMessageInbox(db.tables.inbox, lambda: self.staged.inbox)

    def _new_stage(self) -> FakeTables:
        return FakeTables()

    def _apply(self, staged: FakeTables) -> None:
        self.db.tables.merge(staged)
        self.db.commits += 1


@dataclass
class World:
    """The use cases' ports, faked, for one test."""

    db: FakeDatabase
    gateway: FakePaymentGateway
    clock: FakeClock
    config: CheckoutConfig

    def principal(self, tenant_id: str = "t-1", role: str = "owner") -> Principal:
        return Principal(user_id="u-1", tenant_id=tenant_id, role=Role(role))

    async def checkout(
        self,
        plan: str = "solo",
        *,
        tenant_id: str = "t-1",
        role: str = "owner",
        **kw: Unpack[CheckoutOptions],
    ) -> CheckoutStarted:
        return await start_checkout(
            StartCheckout(
                principal=self.principal(tenant_id, role), plan=plan, causation_id="req-1", **kw
            ),
            uow_factory=self.db.uow,
            gateway=self.gateway,
            config=self.config,
            clock=self.clock,
        )

    async def verify(
        self, session_id: str, *, tenant_id: str = "t-1", role: str = "member"
    ) -> Verification:
        return await verify_session(
            VerifySession(principal=self.principal(tenant_id, role), session_id=session_id),
            uow_factory=self.db.uow,
            gateway=self.gateway,
            clock=self.clock,
        )

    async def portal(self, *, tenant_id: str = "t-1", role: str = "owner") -> str:
        return await open_portal(
            OpenPortal(principal=self.principal(tenant_id, role), causation_id="req-portal"),
            uow_factory=self.db.uow,
            gateway=self.gateway,
            config=self.config,
            clock=self.clock,
        )


@dataclass
class Running:
    """The app inside its lifespan, on the in-memory bus, and an HTTP client to it."""

    app: FastAPI
    client: httpx.AsyncClient
    bus: InMemoryBus


def new_world() -> World:
    """Every fake, wired, with two offered plans and a 14-day trial."""
    return World(
        db=FakeDatabase(),
        gateway=FakePaymentGateway(),
        clock=FakeClock(),
        config=CheckoutConfig(
            prices={PlanType.SOLO: "price_solo", PlanType.TEAM: "price_team"},
            yearly_prices={PlanType.SOLO: "price_solo_yearly"},
            trial_days=14,
            app_base_url="https://app.example",
        ),
    )
