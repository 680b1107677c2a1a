"""Customer self-service reads on Postgres: the projections folded from billing events
(the real consumer path, one inbox), the list endpoints (never Stripe), hostile input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from billing_domain import events as ev
from billing_domain import payment_events as pay
from billing_domain.customer_events import CustomerUpdated
from billing_domain.envelope import IntegrationEvent
from billing_platform.testing.clock import FakeClock
from prometheus_client import REGISTRY
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import project_billing_event
from subscriptions.testing import AppClient, Builders, World

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(cls: type[IntegrationEvent], tenant: str, at: datetime, **data: Any) -> Any:
    return ev.new_event(
        cls,
        tenant_id=tenant,
        source="webhooks",
        causation_id=f"evt_{uuid.uuid4().hex[:16]}",
        clock=FakeClock(at),
        stripe_created=at,
        **data,
    )


def card(
    tenant: str, pm: str, at: datetime, cls: Any = pay.PaymentMethodAttached, **extra: Any
) -> Any:
    fields = {
        "stripe_payment_method_id": pm,
        "stripe_customer_id": f"cus_{tenant}",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2034,
        "payment_method_created": at,
        **extra,
    }
    return _event(cls, tenant, at, **fields)


def invoice(tenant: str, invoice_id: str, at: datetime, cls: Any, **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "stripe_invoice_id": invoice_id,
        "stripe_customer_id": f"cus_{tenant}",
        "stripe_subscription_id": "sub_1",
        "currency": "usd",
        "hosted_invoice_url": f"https://invoice.stripe.test/{invoice_id}",
        "invoice_pdf": f"https://invoice.stripe.test/{invoice_id}/pdf",
        "number": f"N-{invoice_id}",
        "total": 2900,
        "period_start": at,
        "period_end": at + timedelta(days=30),
        "invoice_created": at,
        **extra,
    }
    if cls is not ev.InvoicePaid and cls is not ev.InvoiceVoided:
        fields.setdefault("amount_due", 2900)
    if cls is ev.InvoicePaid:
        fields.setdefault("amount_paid", 2900)
    return _event(cls, tenant, at, **fields)


async def project(pool: asyncpg.Pool, world: World, event: IntegrationEvent) -> None:
    cmd = ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
    await project_billing_event(cmd, PgSubscriptionsUnitOfWork(pool), world.gateway, world.clock)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def set_default(pool: asyncpg.Pool, tenant: str, pm: str | None) -> None:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.self_service.set_default(tenant, f"cus_{tenant}", pm)
        await uow.commit()


async def test_cards_attached_updated_detached_and_the_default(
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    app_client: AppClient,
    token: Callable[..., str],
) -> None:
    tenant = build.tenant()
    await project(pool, world, card(tenant, "pm_old", T0, exp_month=12, exp_year=2026))
    await project(pool, world, card(tenant, "pm_new", T0 + timedelta(seconds=5)))
    await project(pool, world, card(tenant, "pm_gone", T0 + timedelta(seconds=6)))
    detached = card(tenant, "pm_gone", T0 + timedelta(seconds=9), pay.PaymentMethodDetached)
    await project(pool, world, detached)
    # an attach older than the detach, delivered late, never brings the card back
    await project(pool, world, card(tenant, "pm_gone", T0 + timedelta(seconds=7)))
    # the card updater renews pm_new; an older manual update arriving late changes nothing
    renewed = card(
        tenant, "pm_new", T0 + timedelta(seconds=20), pay.PaymentMethodUpdated, exp_year=2036
    )
    await project(pool, world, renewed)
    stale = card(
        tenant, "pm_new", T0 + timedelta(seconds=10), pay.PaymentMethodUpdated, exp_year=2030
    )
    await project(pool, world, stale)
    await set_default(pool, tenant, "pm_old")
    other = build.tenant()
    await project(pool, world, card(other, "pm_other", T0))

    clock = FakeClock(datetime(2026, 12, 15, tzinfo=UTC))  # pm_old ends 2026-12-31: 17 days
    async with app_client(gateway=world.gateway, clock=clock) as (client, _):
        response = await client.get(
            "/api/billing/payment-methods", headers=bearer(token(tenant, "member"))
        )
        assert response.status_code == 200, response.text
        assert response.json() == [
            {
                "id": "pm_old",
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2026,
                "default": True,
                "expiring_soon": True,
                "expired": False,
            },
            {
                "id": "pm_new",
                "brand": "visa",
                "last4": "4242",
                "exp_month": 12,
                "exp_year": 2036,
                "default": False,
                "expiring_soon": False,
                "expired": False,
            },
        ]
        # a default that was detached does not linger
        await set_default(pool, tenant, "pm_gone")
        response = await client.get(
            "/api/billing/payment-methods", headers=bearer(token(tenant, "member"))
        )
        assert [m["default"] for m in response.json()] == [False, False]
        # another tenant's token sees its own card only; naming this tenant is a 403
        theirs = await client.get("/api/billing/payment-methods", headers=bearer(token(other)))
        assert [m["id"] for m in theirs.json()] == ["pm_other"]
        spying = await client.get(
            f"/api/billing/payment-methods?tenant_id={tenant}", headers=bearer(token(other))
        )
        assert spying.status_code == 403
        assert (await client.get("/api/billing/payment-methods")).status_code == 401

    # past its month: Expired, not "Expires soon" (the page showed that for an expired card)
    later = FakeClock(datetime(2027, 1, 2, tzinfo=UTC))
    async with app_client(gateway=world.gateway, clock=later) as (client, _):
        await set_default(pool, tenant, "pm_old")
        response = await client.get(
            "/api/billing/payment-methods", headers=bearer(token(tenant, "member"))
        )
        flags = {m["id"]: (m["expired"], m["expiring_soon"]) for m in response.json()}
        assert flags == {"pm_old": (True, True), "pm_new": (False, False)}
        # ... and the API will not make it the default either (the page offers no button)
        await set_default(pool, tenant, "pm_new")
        refused = await client.post(
            "/api/billing/payment-methods/pm_old/default", headers=bearer(token(tenant))
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "card_expired"
        after = await client.get("/api/billing/payment-methods", headers=bearer(token(tenant)))
        assert [m["id"] for m in after.json() if m["default"]] == ["pm_new"]


async def test_invoice_history_is_newest_first_paged_and_ordered(
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    app_client: AppClient,
    token: Callable[..., str],
) -> None:
    tenant = build.tenant()
    for day in range(5):
        at = T0 + timedelta(days=30 * day)
        await project(
            pool, world, invoice(tenant, f"in_{day}", at, pay.InvoiceFinalized, status="open")
        )
        paid = invoice(tenant, f"in_{day}", at, ev.InvoicePaid, status="paid")
        await project(pool, world, paid)  # the same second as finalized: paid wins
    # a late invoice.updated from before the payment does not reopen in_4
    late = invoice(tenant, "in_4", T0 + timedelta(days=119), pay.InvoiceUpdated, status="open")
    await project(pool, world, late)
    # a failed renewal: open, with what is due
    failed_at = T0 + timedelta(days=150)
    await project(
        pool, world, invoice(tenant, "in_5", failed_at, pay.InvoiceCreated, status="draft")
    )
    await project(
        pool,
        world,
        invoice(
            tenant,
            "in_5",
            failed_at + timedelta(hours=1),
            ev.InvoicePaymentFailed,
            status="open",
            invoice_created=failed_at,
            period_start=failed_at,
            period_end=failed_at + timedelta(days=30),
        ),
    )
    other = build.tenant()
    await project(pool, world, invoice(other, "in_x", T0, pay.InvoiceFinalized, status="open"))

    async with app_client(gateway=world.gateway) as (client, _):
        member = bearer(token(tenant, "member"))
        first = await client.get("/api/billing/invoices?limit=4", headers=member)
        assert first.status_code == 200, first.text
        body = first.json()
        assert [i["id"] for i in body["invoices"]] == ["in_5", "in_4", "in_3", "in_2"]
        assert [i["status"] for i in body["invoices"]] == ["open", "paid", "paid", "paid"]
        assert body["invoices"][0] == {
            "id": "in_5",
            "number": "N-in_5",
            "status": "open",
            "total": 2900,
            "amount_due": 2900,
            "currency": "usd",
            "period_start": "2027-04-30T12:00:00Z",
            "period_end": "2027-05-30T12:00:00Z",
            "created": "2027-04-30T12:00:00Z",
            "hosted_invoice_url": "https://invoice.stripe.test/in_5",
            "invoice_pdf": "https://invoice.stripe.test/in_5/pdf",
        }
        second = await client.get(
            f"/api/billing/invoices?limit=4&cursor={body['next_cursor']}", headers=member
        )
        assert [i["id"] for i in second.json()["invoices"]] == ["in_1", "in_0"]
        assert second.json()["next_cursor"] is None
        theirs = await client.get("/api/billing/invoices", headers=bearer(token(other)))
        assert [i["id"] for i in theirs.json()["invoices"]] == ["in_x"]
        for bad in ("cursor=%%%", "cursor=bm9wZQ", "limit=0", "limit=101", "limit=x"):
            refused = await client.get(f"/api/billing/invoices?{bad}", headers=member)
            assert refused.status_code == 422, (bad, refused.text)


async def test_reads_never_call_stripe(
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    app_client: AppClient,
    token: Callable[..., str],
) -> None:
    tenant = build.tenant()
    await project(pool, world, card(tenant, "pm_1", T0))
    async with app_client(gateway=world.gateway, stripe_api_key=None) as (client, _):
        for path in ("/api/billing/payment-methods", "/api/billing/invoices"):
            response = await client.get(path, headers=bearer(token(tenant, "member")))
            assert response.status_code == 200
    assert world.gateway.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/billing/payment-methods/pm_1/default"),
        ("DELETE", "/api/billing/payment-methods/pm_1"),
        ("POST", "/api/billing/invoices/in_1/pay"),
    ],
)
async def test_changes_member_403_other_tenant_and_bad_ids_404(
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    app_client: AppClient,
    token: Callable[..., str],
    method: str,
    path: str,
) -> None:
    tenant = build.tenant()
    await project(pool, world, card(tenant, "pm_1", T0))
    await project(pool, world, invoice(tenant, "in_1", T0, pay.InvoiceFinalized, status="open"))
    other = build.tenant()
    async with app_client(gateway=world.gateway) as (client, _):
        member = await client.request(method, path, headers=bearer(token(tenant, "member")))
        assert member.status_code == 403
        # another tenant's owner: the id names nothing of theirs -> 404, nothing called
        stranger = await client.request(method, path, headers=bearer(token(other)))
        assert stranger.status_code == 404, stranger.text
        naming = await client.request(
            method, f"{path}?tenant_id={tenant}", headers=bearer(token(other))
        )
        assert naming.status_code == 403
        for bad in ("x%20y", "%00", "a" * 300, "..%2F..%2Fadmin"):
            response = await client.request(
                method,
                path.replace("pm_1", bad).replace("in_1", bad),
                headers=bearer(token(tenant)),
            )
            assert response.status_code == 404, (bad, response.text)
    assert world.gateway.calls == []
    action = {"default": "make_default", "pay": "pay_invoice"}.get(path.rsplit("/", 1)[1], "remove")
    counted = REGISTRY.get_sample_value(
        "billing_self_service_actions_total",
        {"action": action, "outcome": "payment_method_not_found"}
        if action != "pay_invoice"
        else {"action": action, "outcome": "invoice_not_found"},
    )
    assert counted is not None
    assert counted >= 1  # the stranger's 404 (malformed ids are refused before)
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        stored = await uow.self_service.card_for_update(tenant, "pm_1")
    assert stored is not None
    assert not stored.detached


def customer_updated(tenant: str, at: datetime, default: str | None) -> Any:
    return _event(
        CustomerUpdated,
        tenant,
        at,
        stripe_customer_id=f"cus_{tenant}",
        default_payment_method_id=default,
    )


async def test_the_default_comes_from_customer_updated_newest_first(
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    app_client: AppClient,
    token: Callable[..., str],
) -> None:
    tenant = build.tenant()
    await project(pool, world, card(tenant, "pm_a", T0))
    await project(pool, world, card(tenant, "pm_b", T0 + timedelta(seconds=1)))
    await project(pool, world, customer_updated(tenant, T0 + timedelta(seconds=10), "pm_b"))
    await project(pool, world, customer_updated(tenant, T0 + timedelta(seconds=5), "pm_a"))  # late
    async with app_client(gateway=world.gateway) as (client, _):
        member = bearer(token(tenant, "member"))
        listed = (await client.get("/api/billing/payment-methods", headers=member)).json()
        assert {m["id"]: m["default"] for m in listed} == {"pm_a": False, "pm_b": True}
        await project(pool, world, customer_updated(tenant, T0 + timedelta(seconds=11), None))
        listed = (await client.get("/api/billing/payment-methods", headers=member)).json()
        assert [m["default"] for m in listed] == [False, False]
