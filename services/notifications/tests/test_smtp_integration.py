"""Against real Postgres and a real SMTP server (aiosmtpd, started here): once per
event however it arrives, an outage delays then sends, 550 fails and is counted,
preferences hold for the optional kinds only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import asyncpg
import pytest
from billing_cli.mail_catcher import MailCatcher
from billing_domain import events as ev
from billing_platform.testing.tcp_proxy import TcpProxy
from notifications.adapters.postgres import PgNotificationsUnitOfWork
from notifications.adapters.smtp import SmtpMailTransport
from notifications.config import SmtpConfig
from notifications.kinds import MailKind
from notifications.metrics import MAILS
from notifications.projection import apply_event, project_billing_event
from notifications.testing import Events, World
from notifications.use_cases.sending import SenderDeps, send_next_due
from notifications.use_cases.sweep import sweep_expiring_cards

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, pool: asyncpg.Pool, world: World, smtp_url: str) -> None:
        self.world = world
        self.uow = partial(PgNotificationsUnitOfWork, pool)
        transport = SmtpMailTransport(
            SmtpConfig.from_url(smtp_url), sender="Billing <billing@example.com>", reply_to=None
        )
        self.deps = SenderDeps(
            uow_factory=self.uow, transport=transport, clock=world.clock, config=world.config
        )

    async def consume(self, event: ev.IntegrationEvent, message_id: str | None = None) -> bool:
        cmd = self.world.consumed(event, message_id)
        return await project_billing_event(cmd, self.uow(), self.world.clock, frozenset({"year"}))

    async def drain(self) -> list[str]:
        statuses = []
        while (outcome := await send_next_due(self.deps)) is not None:
            statuses.append(outcome.status)
        return statuses


@pytest.fixture
async def stack(pool: asyncpg.Pool, world: World, catcher: MailCatcher) -> Stack:
    """The sender sends whatever is due in the database: other files' tests leave mails
    pending there (no address known), due once this test's clock moves on, so each test
    starts with none left (they made these drains count other tenants' deferrals)."""
    await pool.execute("DELETE FROM notifications.sends WHERE status = 'pending'")
    return Stack(pool, world, catcher.url)


async def test_each_kind_once_however_its_event_arrives(
    stack: Stack, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    await stack.consume(events.customer(tenant, f"{tenant}@example.com", locales=("de", "fr")))
    failed = events.payment_failed(tenant, "in_once", amount=1200, currency="jpy")
    assert await stack.consume(failed)
    assert not await stack.consume(failed)  # redelivered (same message id)
    await stack.consume(events.payment_failed(tenant, "in_once", amount=1200, currency="jpy"))
    async with stack.uow() as uow:  # replayed straight into the projection
        await apply_event(uow, failed, stack.world.clock, frozenset())
        await uow.commit()
    assert await stack.drain() == ["sent"]
    assert await stack.drain() == []
    [mail] = [m for m in catcher.messages if m.to == f"{tenant}@example.com"]
    assert mail.kind == "payment_failed"
    assert "1\u202f200\xa0JPY" in mail.subject  # French, and no decimals for the yen
    assert "Payer maintenant" in mail.html
    assert "https://invoice.stripe.test/in_once" in mail.text
    assert "List-Unsubscribe" not in mail.headers


async def test_an_smtp_outage_of_a_minute_delays_then_sends(
    pool: asyncpg.Pool,
    world: World,
    events: Events,
    catcher: MailCatcher,
    new_tenant: Callable[[], str],
) -> None:
    proxy = TcpProxy("127.0.0.1", catcher.port)
    port = await proxy.start()
    stack = Stack(pool, world, f"smtp://127.0.0.1:{port}?timeout=2")
    tenant = new_tenant()
    await stack.consume(events.customer(tenant, f"{tenant}@example.com"))
    await stack.consume(events.payment_failed(tenant, "in_outage"))
    await proxy.cut()
    waited = 0
    while waited < 60:  # a minute of outage on the fake clock: retried with backoff
        assert set(await stack.drain()) <= {"deferred"}
        world.clock.advance(10)
        waited += 10
    assert not [m for m in catcher.messages if m.to == f"{tenant}@example.com"]
    await proxy.restore()
    world.clock.advance(300)
    assert await stack.drain() == ["sent"]
    assert [m.kind for m in catcher.messages if m.to == f"{tenant}@example.com"] == [
        "payment_failed"
    ]
    await proxy.close()


async def test_a_550_marks_the_mail_failed_and_counts_it(
    stack: Stack, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    catcher.refuse[address] = (550, "5.1.1 no such mailbox")
    before = MAILS.labels("payment_failed", "failed")._value.get()
    await stack.consume(events.customer(tenant, address))
    await stack.consume(events.payment_failed(tenant, "in_550"))
    assert await stack.drain() == ["failed"]
    assert MAILS.labels("payment_failed", "failed")._value.get() == before + 1
    async with stack.uow() as uow:
        [entry] = await uow.sends.entries(tenant_id=tenant, kind=None, limit=5)
    assert (entry.status, entry.to) == ("failed", address)
    assert "550" in (entry.last_error or "")
    world_clock = stack.world.clock
    world_clock.advance(3600)
    assert await stack.drain() == []  # failed for good: never retried


async def test_switched_off_optional_kind_is_not_sent_but_critical_ones_are(
    stack: Stack, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    now = stack.world.clock.now()
    await stack.consume(events.customer(tenant, address, default_method="pm_exp"))
    await stack.consume(_card(events, tenant, now.month, now.year))
    async with stack.uow() as uow:
        await uow.preferences.set(tenant, MailKind.CARD_EXPIRING, enabled=False, by="t", now=now)
        await uow.commit()
    assert await sweep_expiring_cards(stack.uow, stack.world.clock) >= 1
    await stack.consume(events.payment_failed(tenant, "in_pref"))
    assert sorted(await stack.drain()) == ["sent", "skipped"]
    assert [m.kind for m in catcher.messages if m.to == address] == ["payment_failed"]


def _card(events: Events, tenant: str, month: int, year: int) -> ev.IntegrationEvent:
    from billing_domain.payment_events import PaymentMethodAttached

    header = events.customer(tenant)
    return PaymentMethodAttached(
        id=header.id,
        occurred_at=header.occurred_at,
        tenant_id=tenant,
        source="webhooks",
        causation_id=header.causation_id,
        stripe_payment_method_id="pm_exp",
        stripe_customer_id=f"cus_{tenant}",
        brand="visa",
        last4="4242",
        exp_month=month,
        exp_year=year,
    )


async def test_the_card_sweep_sends_once_with_an_unsubscribe_link(
    stack: Stack, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    now = stack.world.clock.now()
    await stack.consume(events.customer(tenant, address, default_method="pm_exp"))
    await stack.consume(_card(events, tenant, now.month, now.year))
    assert await sweep_expiring_cards(stack.uow, stack.world.clock) >= 1
    stack.world.clock.advance(86400)
    await sweep_expiring_cards(stack.uow, stack.world.clock)  # the next day: not again
    assert await stack.drain() == ["sent"]
    [mail] = [m for m in catcher.messages if m.to == address]
    assert mail.kind == "card_expiring"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.headers["List-Unsubscribe"].startswith(
        "<https://app.example/api/notifications/unsubscribe?token="
    )
