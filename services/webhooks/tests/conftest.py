"""Shared fixtures of the webhooks tests: Stripe events built from the official
fixtures, signing, fakes of the ports, and the migrated database."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from billing_platform.migrations import upgrade_async
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.stripe_fixtures import stripe_fixture
from webhooks.schema import MIGRATIONS
from webhooks.signature import sign

PRICES = {"solo": "price_solo", "team": "price_team", "enterprise": "price_enterprise"}
SECRET = "whsec_test_secret_current"
OLD_SECRET = "whsec_test_secret_previous"
_ids = itertools.count(1)


class FakeStripeReader:
    """Stripe as far as the worker reads it: objects by id; records every read."""

    def __init__(self) -> None:
        self.objects: dict[str, Mapping[str, Any]] = {}
        self.reads: list[str] = []
        self.fail_with: Exception | None = None

    async def _get(self, object_id: str) -> Mapping[str, Any]:
        from billing_domain.errors import NotFound

        self.reads.append(object_id)
        if self.fail_with is not None:
            raise self.fail_with
        if object_id not in self.objects:
            raise NotFound(f"no {object_id}", code="stripe_not_found")
        return self.objects[object_id]

    async def customer(self, customer_id: str) -> Mapping[str, Any]:
        return await self._get(customer_id)

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]:
        return await self._get(subscription_id)

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]:
        return await self._get(schedule_id)


def customer_of(tenant: str | None) -> str:
    """Each tenant its own Stripe customer (``cus_a`` for ``tenant_a``): metadata never
    moves a mapped customer to another tenant."""
    return "cus_a" if tenant in (None, "tenant_a") else f"cus_{tenant}"


def _subscription(
    *,
    tenant: str | None = "tenant_a",
    customer: str | None = "",  # "": the tenant's own (customer_of)
    plan: str = "team",
    status: str = "active",
    period_end: int = 1_800_000_000,
    **extra: Any,
) -> dict[str, Any]:
    sub = stripe_fixture("subscription")
    item = sub["items"]["data"][0]
    item["price"]["id"] = PRICES[plan]
    item["current_period_end"] = period_end
    item["current_period_start"] = period_end - 30 * 86400
    sub.update(
        id=f"sub_{next(_ids)}",
        customer=customer_of(tenant) if customer == "" else customer,
        status=status,
        metadata={"tenant_id": tenant} if tenant else {},
        cancel_at_period_end=False,
        cancel_at=None,
        schedule=None,
        trial_end=None,
    )
    sub.update(extra)
    return sub


def _session(
    *,
    tenant: str | None = "tenant_a",
    status: str = "complete",
    payment_status: str = "paid",
    plan: str | None = "team",
    **extra: Any,
) -> dict[str, Any]:
    session = stripe_fixture("checkout.session")
    session.update(
        id=f"cs_test_{next(_ids)}",
        mode="subscription",
        status=status,
        payment_status=payment_status,
        customer=customer_of(tenant),
        subscription="sub_checkout",
        client_reference_id=tenant,
        metadata={"tenant_id": tenant, "plan": plan} if tenant and plan else {},
        amount_total=2900,
        currency="usd",
    )
    session.update(extra)
    return session


def _invoice(
    *, customer: str | None = "", tenant: str | None = None, **extra: Any
) -> dict[str, Any]:
    invoice = stripe_fixture("invoice")
    invoice.update(
        id=f"in_{next(_ids)}",
        customer=customer_of(tenant) if customer == "" else customer,
        currency="usd",
        amount_due=2900,
        amount_paid=0,
        attempt_count=1,
        hosted_invoice_url="https://invoice.stripe.test/i/1",
        next_payment_attempt=1_800_000_000,
        metadata={},
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": "sub_1",
                "metadata": {"tenant_id": tenant} if tenant else {},
            },
        },
    )
    invoice.update(extra)
    return invoice


def _event(
    event_type: str, obj: Mapping[str, Any], *, created: int | None = None, **extra: Any
) -> dict[str, Any]:
    event = stripe_fixture("event")
    event.update(
        id=f"evt_test_{next(_ids):06d}",
        type=event_type,
        created=created or int(time.time()),
        api_version=STRIPE_API_VERSION,
        data={"object": dict(obj)},
    )
    event.update(extra)
    return event


def _new_stripe_event(event: Mapping[str, Any]) -> Any:
    """What the ingest endpoint hands the store for ``event`` (a verified Stripe event)."""
    from webhooks.ports import NewStripeEvent

    return NewStripeEvent(
        event_id=event["id"],
        event_type=event["type"],
        tenant_id=None,
        api_version=event.get("api_version"),
        livemode=False,
        stripe_created_at=datetime.fromtimestamp(event["created"], UTC),
        payload=json.dumps(event).encode(),
    )


class Builders:
    subscription = staticmethod(_subscription)
    session = staticmethod(_session)
    invoice = staticmethod(_invoice)
    event = staticmethod(_event)
    new_stripe_event = staticmethod(_new_stripe_event)

    @staticmethod
    def customer(customer_id: str = "cus_a", tenant: str | None = "tenant_a") -> dict[str, Any]:
        customer = stripe_fixture("customer")
        customer.update(id=customer_id, metadata={"tenant_id": tenant} if tenant else {})
        return customer


@pytest.fixture
def build() -> type[Builders]:
    return Builders


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # signatures are checked against the wall clock


@pytest.fixture
def fake_stripe() -> FakeStripeReader:
    return FakeStripeReader()


def signed_headers(
    body: bytes, *, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    return {
        "Stripe-Signature": f"t={t},v1={sign(body, secret, t)}",
        "Content-Type": "application/json",
    }


@pytest.fixture
def signer() -> Callable[..., dict[str, str]]:
    return signed_headers


@pytest.fixture
def encode() -> Callable[[Mapping[str, Any]], bytes]:
    return lambda event: json.dumps(event).encode()


@pytest.fixture(scope="session")
async def webhooks_database(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


class FakeEventLog:
    """The event log in memory, with the same once-only and due-order semantics."""

    def __init__(self) -> None:
        from webhooks.ports import StoredEvent

        self.rows: dict[str, StoredEvent] = {}
        self.replays: list[tuple[str, str, Any]] = []

    async def add(self, event: Any, now: datetime) -> bool:
        from billing_domain.webhook_log import WebhookEventRecord
        from webhooks.ports import StoredEvent

        if event.event_id in self.rows:
            return False
        self.rows[event.event_id] = StoredEvent(
            record=WebhookEventRecord.received(
                event_id=event.event_id, event_type=event.event_type, now=now
            ),
            tenant_id=event.tenant_id,
            stripe_created_at=event.stripe_created_at,
            payload=json.loads(event.payload),
        )
        return True

    async def claim(self, now: datetime, limit: int, *, lease: Any, worker: str) -> Any:
        """Leases as in Postgres: the row moves to the lease's end, the worker gets a copy
        with a fresh token (its writes reach the row only through ``save``)."""
        import copy
        import uuid

        due = [s for s in self.rows.values() if s.record.is_due(now)]
        claimed = []
        for row in sorted(due, key=lambda s: s.record.next_attempt_at or now)[:limit]:
            row.claim_token = uuid.uuid4().hex
            row.record.next_attempt_at = now + lease
            claimed.append(copy.deepcopy(row))
        return claimed

    async def get_for_update(self, event_id: str) -> Any:
        return self.rows.get(event_id)

    async def save(self, event: Any, *, tenant_id: str | None = None) -> bool:
        import copy

        row = self.rows.get(event.record.event_id)
        if event.claim_token is not None and (row is None or row.claim_token != event.claim_token):
            return False
        saved = copy.deepcopy(event)
        saved.claim_token = None
        if tenant_id is not None:
            saved.tenant_id = tenant_id
        self.rows[event.record.event_id] = saved
        return True

    async def record_replay(self, event_id: str, *, actor: str, previous_status: Any) -> None:
        self.replays.append((event_id, actor, previous_status))

    async def list(self, query: Any) -> Any:
        raise NotImplementedError

    async def replayable_ids(self, status: Any, limit: int) -> list[str]:
        return [k for k, s in self.rows.items() if s.record.status is status][:limit]


class FakeUnitOfWork:
    """Shares the fakes' state across units of work; undoes outbox writes on rollback."""

    def __init__(self, log: FakeEventLog, customers: dict[str, str], published: list[Any]) -> None:
        self.events = log
        self.customers = FakeCustomers(customers)
        self.outbox = FakeOutbox()
        self._published = published
        self.committed = False

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.outbox.pending.clear()

    async def commit(self) -> None:
        self._published.extend(self.outbox.pending)
        self.outbox.pending.clear()
        self.committed = True

    def savepoint(self) -> Any:
        import contextlib

        outbox = self.outbox

        @contextlib.asynccontextmanager
        async def savepoint() -> Any:
            mark = len(outbox.pending)
            try:
                yield
            except BaseException:
                del outbox.pending[mark:]
                raise

        return savepoint()


class FakeCustomers:
    def __init__(self, links: dict[str, str]) -> None:
        self.links = links

    async def tenant_of(self, customer_id: str) -> str | None:
        return self.links.get(customer_id) or None

    async def link(self, customer_id: str, tenant_id: str) -> str:
        return self.links.setdefault(customer_id, tenant_id) or tenant_id  # "": retired

    async def retire(self, customer_id: str, tenant_id: str | None) -> None:
        self.links[customer_id] = ""


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[Any] = []

    async def add_all(self, events: Any) -> None:
        self.pending.extend(events)


class FakeWorld:
    """Everything the use cases touch, in memory."""

    def __init__(self, clock: FakeClock, stripe: FakeStripeReader) -> None:
        self.log = FakeEventLog()
        self.customers: dict[str, str] = {}
        self.published: list[Any] = []
        self.clock = clock
        self.stripe = stripe

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.log, self.customers, self.published)

    def deps(self) -> Any:
        """What the processing use cases are handed, all fakes."""
        from billing_domain.webhook_log import RetryPolicy
        from billing_platform.stripe_reading import PriceCatalog
        from webhooks.use_cases.processing import ProcessingDeps

        return ProcessingDeps(
            uow_factory=self.uow,
            claims=self.log,
            stripe=self.stripe,
            plans=PriceCatalog(PRICES),
            clock=self.clock,
            policy=RetryPolicy(max_attempts=3),
        )

    async def ingest(self, event: Mapping[str, Any]) -> bool:
        """Store a Stripe event as the ingest endpoint does; True for a duplicate."""
        from webhooks.use_cases.ingest import record_stripe_event

        return await record_stripe_event(_new_stripe_event(event), self.log, self.clock)


@pytest.fixture
def world(fake_clock: FakeClock, fake_stripe: FakeStripeReader) -> FakeWorld:
    return FakeWorld(fake_clock, fake_stripe)


class RunningWebhooks:
    """The webhooks app running (lifespan, worker, relay) and a client to it."""

    def __init__(self, app: Any, client: Any, pool_url: str) -> None:
        self.app, self.client, self.database_url = app, client, pool_url

    async def post_event(self, event: Mapping[str, Any], **sign_kwargs: Any) -> Any:
        body = json.dumps(event).encode()
        return await self.client.post(
            "/api/webhooks/stripe", content=body, headers=signed_headers(body, **sign_kwargs)
        )

    async def rows(self) -> int:
        import asyncpg

        conn = await asyncpg.connect(self.database_url)
        try:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM webhooks.stripe_webhook_events_log"
            )
            return count
        finally:
            await conn.close()

    async def row(self, event_id: str) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetchrow(
                "SELECT * FROM webhooks.stripe_webhook_events_log WHERE event_id = $1", event_id
            )
        finally:
            await conn.close()


async def _truncate(database_url: str) -> None:
    """Tests share one database: each starts from an empty log."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "TRUNCATE webhooks.stripe_webhook_events_log, webhooks.customer_tenants, "
            "webhooks.outbox, webhooks.inbox"
        )
    finally:
        await conn.close()


@pytest.fixture
def start_webhooks(
    webhooks_database: str, amqp_url: str, exchange_name: str, fake_stripe: FakeStripeReader
) -> Any:
    """``async with start_webhooks(**overrides) as running:`` (settings and create_app kwargs)."""
    import contextlib

    import httpx
    from asgi_lifespan import LifespanManager
    from billing_platform.settings import BillingSettings
    from webhooks.main import create_app

    @contextlib.asynccontextmanager
    async def start(
        *,
        database_url: str | None = None,
        amqp: str | None = None,
        clock: Any = None,
        worker_concurrency: int = 2,
        truncate: bool = True,
    ) -> Any:
        settings = BillingSettings(
            database_url=database_url or webhooks_database,
            amqp_url=amqp or amqp_url,
            billing_exchange=exchange_name,
            stripe_webhook_secret=[SECRET, OLD_SECRET],
            stripe_price_solo=PRICES["solo"],
            stripe_price_team=PRICES["team"],
            stripe_price_enterprise=PRICES["enterprise"],
            jwt_secret="j" * 32,
            webhook_worker_concurrency=worker_concurrency,
        )
        if truncate:
            await _truncate(webhooks_database)
        app = create_app(settings, clock=clock, stripe=fake_stripe)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as client:
                yield RunningWebhooks(app, client, webhooks_database)

    return start
