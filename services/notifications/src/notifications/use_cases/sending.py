"""Sending one due mail: claim it, re-check it still holds, render, send, record.

The claim commits before the SMTP call (a lease keeps other senders off it), so no
transaction is open while the server talks; the outcome is recorded in a second
transaction with its ``notification.sent`` event. A crash between the two sends the
mail again once the lease ends (at least once; the lease is long).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from billing_domain.clock import Clock
from billing_domain.envelope import new_event
from billing_domain.notification_events import NotificationSent

from notifications import metrics
from notifications.config import NotificationsConfig
from notifications.content import Links, compose
from notifications.i18n import Translator, language_for
from notifications.kinds import OPTIONAL_KINDS, MailKind
from notifications.ports import (
    ClaimedMail,
    MailDeferred,
    MailRejected,
    MailTransport,
    OutgoingMail,
    Recipient,
    TenantState,
    UnitOfWorkFactory,
)
from notifications.rendering import render
from notifications.unsubscribe_tokens import issue

log = structlog.get_logger("notifications.sender")

SOURCE = "notifications"
UNSUBSCRIBE_PATH = "/api/notifications/unsubscribe"


@dataclass(frozen=True, kw_only=True)
class SenderDeps:
    uow_factory: UnitOfWorkFactory
    transport: MailTransport
    clock: Clock
    config: NotificationsConfig


@dataclass(frozen=True, kw_only=True)
class SendOutcome:
    mail_id: int
    kind: MailKind
    tenant_id: str
    status: str
    """``sent``, ``failed``, ``skipped`` (no longer true, or switched off), ``deferred``."""
    reason: str | None = None


def stale_reason(
    mail: ClaimedMail, state: TenantState | None, recipient: Recipient | None
) -> str | None:
    """Why the mail no longer holds, checked right before sending; None when it does."""
    facts = mail.facts
    if mail.kind is MailKind.PAYMENT_FAILED:
        if state is None or state.open_invoice_id != facts.get("invoice_id"):
            return "the invoice is no longer unpaid"
    elif mail.kind is MailKind.TRIAL_ENDING:
        if state is not None and state.status not in (None, "trialing"):
            return f"the subscription is {state.status}, no longer trialing"
    elif mail.kind is MailKind.CANCELLATION_SCHEDULED:
        if state is not None and not state.cancel_at_period_end:
            return "the cancellation was withdrawn"
    elif mail.kind is MailKind.CARD_EXPIRING and recipient is not None:
        default = recipient.default_payment_method_id
        if default not in (None, facts.get("payment_method_id")):
            return "the card is no longer the default"
    return None


def backoff(attempts: int, config: NotificationsConfig) -> float:
    return float(min(config.max_backoff_s, 5 * 2 ** max(attempts - 1, 0)))


def unsubscribe_url(
    tenant_id: str, kind: MailKind, config: NotificationsConfig, now: datetime
) -> str:
    token = issue(
        tenant_id=tenant_id,
        kind=kind,
        secret=config.unsubscribe_secret,
        expires_at=now + timedelta(seconds=config.unsubscribe_ttl_s),
    )
    return f"{config.app_base_url}{UNSUBSCRIBE_PATH}?token={token}"


def build_mail(
    mail: ClaimedMail,
    recipient: Recipient,
    state: TenantState | None,
    config: NotificationsConfig,
    now: datetime,
) -> OutgoingMail:
    assert recipient.email is not None
    translator = Translator(language_for(recipient.locales))
    facts = dict(mail.facts)
    if mail.kind is MailKind.TRIAL_ENDING:
        facts["has_card"] = recipient.default_payment_method_id is not None
    unsubscribe = (
        unsubscribe_url(mail.tenant_id, mail.kind, config, now)
        if mail.kind in OPTIONAL_KINDS
        else None
    )
    content = compose(
        mail.kind,
        facts,
        translator,
        Links(base_url=config.app_base_url),
        name=recipient.name,
        unsubscribe_url=unsubscribe,
    )
    rendered = render(content, translator)
    headers = {"X-Billing-Notification": mail.kind.value, "Auto-Submitted": "auto-generated"}
    if unsubscribe is not None:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return OutgoingMail(
        to=recipient.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=mail.kind,
        headers=headers,
    )


async def send_next_due(deps: SenderDeps) -> SendOutcome | None:
    """Send the next due mail, if any; its outcome."""
    now = deps.clock.now()
    async with deps.uow_factory() as uow:
        mail = await uow.sends.claim_due(now, now + timedelta(seconds=deps.config.lease_s))
        if mail is None:
            return None
        recipient = await uow.recipients.get(mail.tenant_id)
        state = await uow.states.get(mail.tenant_id)
        switched_off = mail.kind in await uow.preferences.disabled(mail.tenant_id)
        reason = "switched off by the tenant" if switched_off else None
        reason = reason or stale_reason(mail, state, recipient)
        if reason is not None:
            await uow.sends.finish(mail.id, status="skipped", to=None, error=reason, now=now)
        await uow.commit()
    bound = log.bind(tenant_id=mail.tenant_id, kind=mail.kind.value, mail_id=mail.id)
    if reason is not None:
        bound.info("notifications.mail.skipped", reason=reason)
        return _outcome(mail, "skipped", reason)
    if recipient is None or recipient.email is None:
        return await _retry_or_fail(deps, mail, None, "no billing email known for the tenant")
    outgoing = build_mail(mail, recipient, state, deps.config, now)
    started = time.monotonic()
    try:
        await deps.transport.send(outgoing)
    except MailDeferred as exc:
        return await _retry_or_fail(deps, mail, outgoing.to, f"deferred: {exc}"[:500])
    except MailRejected as exc:
        return await _finish(deps, mail, outgoing.to, "failed", f"rejected: {exc}"[:500])
    finally:
        metrics.SEND_SECONDS.observe(time.monotonic() - started)
    return await _finish(deps, mail, outgoing.to, "sent", None)


def _outcome(mail: ClaimedMail, status: str, reason: str | None) -> SendOutcome:
    metrics.MAILS.labels(mail.kind.value, status).inc()
    return SendOutcome(
        mail_id=mail.id, kind=mail.kind, tenant_id=mail.tenant_id, status=status, reason=reason
    )


async def _retry_or_fail(
    deps: SenderDeps, mail: ClaimedMail, to: str | None, error: str
) -> SendOutcome:
    now = deps.clock.now()
    if (now - mail.created_at).total_seconds() >= deps.config.retry_horizon_s:
        return await _finish(deps, mail, to, "failed", f"gave up: {error}"[:500])
    at = now + timedelta(seconds=backoff(mail.attempts, deps.config))
    async with deps.uow_factory() as uow:
        await uow.sends.retry_at(mail.id, error=error, at=at)
        await uow.commit()
    log.warning(
        "notifications.mail.deferred",
        tenant_id=mail.tenant_id,
        kind=mail.kind.value,
        mail_id=mail.id,
        attempts=mail.attempts,
        next_attempt_at=at,
        error=error,
    )
    return _outcome(mail, "deferred", error)


async def _finish(
    deps: SenderDeps, mail: ClaimedMail, to: str | None, status: str, error: str | None
) -> SendOutcome:
    now = deps.clock.now()
    async with deps.uow_factory() as uow:
        await uow.sends.finish(mail.id, status=status, to=to, error=error, now=now)
        await uow.outbox.add(
            new_event(
                NotificationSent,
                tenant_id=mail.tenant_id,
                source=SOURCE,
                causation_id=f"notification:{mail.id}",
                clock=deps.clock,
                kind=mail.kind.value,
                subject_id=mail.subject_id,
                to=to or "",
                status=status,
                sent_at=now,
            )
        )
        await uow.commit()
    (log.info if status == "sent" else log.error)(
        f"notifications.mail.{status}",
        tenant_id=mail.tenant_id,
        kind=mail.kind.value,
        mail_id=mail.id,
        attempts=mail.attempts,
        error=error,
    )
    return _outcome(mail, status, error)
