"""The HTTP API on real Postgres, through the app and its consumer (in-memory bus), with
hostile callers: other tenants, wrong roles, forged and expired tokens, unknown names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.mail_catcher import MailCatcher
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.settings import BillingSettings
from fastapi import FastAPI
from notifications.i18n import languages
from notifications.kinds import MailKind
from notifications.main import create_app
from notifications.sender import MailSender
from notifications.testing import Events
from notifications.unsubscribe_tokens import issue

pytestmark = pytest.mark.integration

JWT_SECRET = "notifications-tests-secret-0123456789"
UNSUBSCRIBE_SECRET = "unsubscribe-secret-for-tests"


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    bus: InMemoryBus

    @property
    def sender(self) -> MailSender:
        sender: MailSender = self.app.state.mail_sender
        return sender


@pytest.fixture
async def api(migrated_url: str, catcher: MailCatcher) -> AsyncIterator[Api]:
    settings = BillingSettings(
        database_url=migrated_url,
        jwt_secret=JWT_SECRET,
        smtp_url=catcher.url,
        notifications_unsubscribe_secret=UNSUBSCRIBE_SECRET,
        app_base_url="https://app.example",
    )
    bus = InMemoryBus()
    app = create_app(settings, bus=bus, run_sender=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://n") as client:
            yield Api(app, client, bus)
    await bus.close()


def auth(tenant: str, role: str = "owner", *, operator: bool = False) -> dict[str, str]:
    scopes = ("billing:admin",) if operator else ()
    token = mint_token(JWT_SECRET, tenant_id=tenant, role=role, scopes=scopes)
    return {"Authorization": f"Bearer {token}"}


def token_for(tenant: str, kind: MailKind, *, expires_in: float = 3600) -> str:
    return issue(
        tenant_id=tenant,
        kind=kind,
        secret=UNSUBSCRIBE_SECRET.encode(),
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
    )


async def test_preferences_members_read_owners_change_critical_kinds_stay_on(
    api: Api, new_tenant: Callable[[], str]
) -> None:
    a, b = new_tenant(), new_tenant()
    got = await api.client.get("/api/notifications/preferences", headers=auth(a, "member"))
    assert got.status_code == 200
    assert got.json()["preferences"] == {"card_expiring": True, "upcoming_renewal": True}
    assert "payment_failed" in got.json()["critical"]
    body = {"preferences": {"card_expiring": False}}
    member = await api.client.put(
        "/api/notifications/preferences", json=body, headers=auth(a, "member")
    )
    assert member.status_code == 403
    owner = await api.client.put("/api/notifications/preferences", json=body, headers=auth(a))
    assert owner.status_code == 200
    assert owner.json()["preferences"]["card_expiring"] is False
    other = await api.client.get("/api/notifications/preferences", headers=auth(b))
    assert other.json()["preferences"]["card_expiring"] is True  # tenant b untouched
    for bad, code in (
        ({"preferences": {"payment_failed": False}}, "critical_kind"),
        ({"preferences": {"spam": False}}, "unknown_kind"),
    ):
        refused = await api.client.put("/api/notifications/preferences", json=bad, headers=auth(a))
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, code)
    bad_bodies: list[object] = [{"preferences": {"card_expiring": "no"}}, {"x": 1}, []]
    for bad_body in bad_bodies:
        refused = await api.client.put(
            "/api/notifications/preferences", json=bad_body, headers=auth(a)
        )
        assert refused.status_code == 422
    assert (await api.client.get("/api/notifications/preferences")).status_code == 401


async def test_log_and_preview_are_for_operators(api: Api, new_tenant: Callable[[], str]) -> None:
    tenant = new_tenant()
    for path in ("/api/notifications/log", "/api/notifications/preview/payment_failed"):
        assert (await api.client.get(path, headers=auth(tenant))).status_code == 403
        assert (await api.client.get(path)).status_code == 401
    ops = auth("ops", "member", operator=True)
    log = await api.client.get(f"/api/notifications/log?tenant_id={tenant}", headers=ops)
    assert (log.status_code, log.json()) == (200, {"entries": []})
    bad_kind = await api.client.get("/api/notifications/log?kind=spam", headers=ops)
    assert bad_kind.status_code == 422
    for kind in MailKind:
        for locale in languages():
            shown = await api.client.get(
                f"/api/notifications/preview/{kind.value}?locale={locale}", headers=ops
            )
            assert shown.status_code == 200, (kind, locale)
            assert shown.json()["html"].startswith("<!DOCTYPE html>")
            assert shown.json()["text"]
    unknown = await api.client.get("/api/notifications/preview/spam", headers=ops)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_kind")
    no_lang = await api.client.get(
        "/api/notifications/preview/payment_failed?locale=xx", headers=ops
    )
    assert (no_lang.status_code, no_lang.json()["error"]["code"]) == (422, "unknown_locale")


async def test_the_unsubscribe_link_works_once_and_refuses_forged_or_expired_tokens(
    api: Api, new_tenant: Callable[[], str]
) -> None:
    tenant, other = new_tenant(), new_tenant()
    token = token_for(tenant, MailKind.UPCOMING_RENEWAL)
    page = await api.client.get(f"/api/notifications/unsubscribe?token={token}")
    assert page.status_code == 200
    assert "<form method='post'>" in page.text
    one_click = await api.client.post(
        f"/api/notifications/unsubscribe?token={token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    again = await api.client.post(f"/api/notifications/unsubscribe?token={token}")
    assert again.status_code == 409
    prefs = (await api.client.get("/api/notifications/preferences", headers=auth(tenant))).json()
    assert prefs["preferences"]["upcoming_renewal"] is False
    untouched = await api.client.get("/api/notifications/preferences", headers=auth(other))
    assert untouched.json()["preferences"]["upcoming_renewal"] is True

    fresh = token_for(other, MailKind.CARD_EXPIRING)
    payload, signature = fresh.split(".")
    forged_for_tenant = token_for(tenant, MailKind.CARD_EXPIRING).split(".")[0] + "." + signature
    critical = issue(
        tenant_id=other,
        kind=MailKind.PAYMENT_FAILED,
        secret=UNSUBSCRIBE_SECRET.encode(),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    wrong_key = issue(
        tenant_id=other,
        kind=MailKind.CARD_EXPIRING,
        secret=b"not-our-secret",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    non_ascii = f"{payload}.{signature[:-1]}é"  # a 500 before (compare_digest's TypeError)
    for bad in (
        forged_for_tenant,
        critical,
        wrong_key,
        "garbage",
        payload,
        f"{payload}.x",
        non_ascii,
    ):
        refused = await api.client.post("/api/notifications/unsubscribe", params={"token": bad})
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_token")
        page = await api.client.get("/api/notifications/unsubscribe", params={"token": bad})
        assert page.status_code == 400, bad
    expired = token_for(other, MailKind.CARD_EXPIRING, expires_in=-5)
    gone = await api.client.post(f"/api/notifications/unsubscribe?token={expired}")
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "token_expired")
    assert (await api.client.post("/api/notifications/unsubscribe")).status_code == 422
    still = await api.client.get("/api/notifications/preferences", headers=auth(other))
    assert still.json()["preferences"] == {"card_expiring": True, "upcoming_renewal": True}


async def test_a_billing_event_on_the_bus_becomes_one_mail_in_the_log(
    api: Api, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    failed = events.payment_failed(tenant, "in_bus")
    for event in (events.customer(tenant, address), failed, failed):  # the copy is dropped
        await api.bus.publish(OutgoingMessage.from_event(event))
    await api.bus.drain()
    sent = await api.sender.drain()
    assert [outcome.status for outcome in sent if outcome.tenant_id == tenant] == ["sent"]
    assert [m.kind for m in catcher.messages if m.to == address] == ["payment_failed"]
    ops = auth("ops", "member", operator=True)
    log = await api.client.get(
        f"/api/notifications/log?tenant_id={tenant}&kind=payment_failed", headers=ops
    )
    [entry] = log.json()["entries"]
    assert (entry["status"], entry["to"], entry["subject_id"]) == ("sent", address, "in_bus")


async def test_the_log_shows_an_operator_the_failures_alone(
    api: Api, events: Events, catcher: MailCatcher, new_tenant: Callable[[], str]
) -> None:
    refused, fine = new_tenant(), new_tenant()
    catcher.refuse[f"{refused}@example.com"] = (550, "5.1.1 no such mailbox")
    for tenant in (refused, fine):
        for event in (
            events.customer(tenant, f"{tenant}@example.com"),
            events.payment_failed(tenant, f"in_{tenant}"),
        ):
            await api.bus.publish(OutgoingMessage.from_event(event))
    await api.bus.drain()
    await api.sender.drain()
    ops = auth("ops", "member", operator=True)

    async def listed(query: str) -> list[tuple[str, str]]:
        answer = await api.client.get(f"/api/notifications/log?{query}", headers=ops)
        assert answer.status_code == 200, answer.text
        return [(e["tenant_id"], e["status"]) for e in answer.json()["entries"]]

    failed = await listed("status=failed&limit=500")
    assert (refused, "failed") in failed
    assert all(status == "failed" for _, status in failed)
    assert (fine, "sent") not in failed
    assert await listed(f"status=sent&tenant_id={refused}") == []
    assert await listed(f"status=sent&tenant_id={fine}") == [(fine, "sent")]
    [entry] = (
        await api.client.get(f"/api/notifications/log?tenant_id={refused}", headers=ops)
    ).json()["entries"]
    assert "550" in (entry["last_error"] or "")
    for bad in ("bogus", "SENT", "failed%00", ""):
        answer = await api.client.get(f"/api/notifications/log?status={bad}", headers=ops)
        assert answer.status_code == 422, bad
    owner = await api.client.get("/api/notifications/log?status=failed", headers=auth(refused))
    assert owner.status_code == 403  # a tenant does not read the log, not even its own
