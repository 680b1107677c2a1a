"""Operators' views: the send log and a preview of each kind in each language."""

from __future__ import annotations

from collections.abc import Sequence

from billing_domain.auth import Action, Principal, authorize
from billing_domain.errors import NotFound, RuleViolated

from notifications.content import Links, compose
from notifications.i18n import Translator, languages
from notifications.kinds import OPTIONAL_KINDS, MailKind, kind_named
from notifications.ports import Facts, SendLogEntry, UnitOfWorkFactory
from notifications.rendering import RenderedMail, render

SAMPLE_FACTS: dict[MailKind, Facts] = {
    MailKind.PAYMENT_FAILED: {
        "invoice_id": "in_sample",
        "amount": 4900,
        "currency": "usd",
        "attempt": 2,
        "next_attempt": "2026-12-05T10:00:00+00:00",
        "hosted_invoice_url": None,
    },
    MailKind.PAYMENT_RECOVERED: {"invoice_id": "in_sample", "amount": 4900, "currency": "usd"},
    MailKind.CANCELLATION_SCHEDULED: {"plan": "team", "ends_at": "2026-12-31T00:00:00+00:00"},
    MailKind.SUBSCRIPTION_ENDED: {"plan": "team", "ended_at": "2026-12-31T00:00:00+00:00"},
    MailKind.TRIAL_ENDING: {"plan": "team", "trial_end": "2026-12-14T00:00:00+00:00"},
    MailKind.TRIAL_EXTENDED: {"trial_end": "2026-12-28T00:00:00+00:00"},
    MailKind.PLAN_CHANGED: {
        "from_plan": "team",
        "to_plan": "solo",
        "effective": "period_end",
        "effective_at": "2026-12-31T00:00:00+00:00",
    },
    MailKind.UPCOMING_RENEWAL: {
        "amount": 49000,
        "currency": "usd",
        "renews_at": "2027-01-15T00:00:00+00:00",
    },
    MailKind.CARD_EXPIRING: {
        "payment_method_id": "pm_sample",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2026,
    },
}


async def send_log(
    principal: Principal,
    uow_factory: UnitOfWorkFactory,
    *,
    tenant_id: str | None,
    kind: str | None,
    limit: int,
    status: str | None = None,
) -> Sequence[SendLogEntry]:
    authorize(principal, Action.OPERATE_NOTIFICATIONS)
    wanted = None
    if kind is not None:
        wanted = kind_named(kind)
        if wanted is None:
            raise RuleViolated(f"unknown kind of email: {kind[:64]!r}", code="unknown_kind")
    async with uow_factory() as uow:
        return await uow.sends.entries(tenant_id=tenant_id, kind=wanted, limit=limit, status=status)


def preview(principal: Principal, kind: str, language: str, base_url: str) -> RenderedMail:
    authorize(principal, Action.OPERATE_NOTIFICATIONS)
    found = kind_named(kind)
    if found is None:
        raise NotFound(f"no kind of email named {kind[:64]!r}", code="unknown_kind")
    if language not in languages():
        raise RuleViolated(
            f"no catalogue for {language[:16]!r}; languages: {', '.join(languages())}",
            code="unknown_locale",
        )
    translator = Translator(language)
    unsubscribe = (
        f"{base_url}/api/notifications/unsubscribe?token=preview"
        if found in OPTIONAL_KINDS
        else None
    )
    content = compose(
        found,
        SAMPLE_FACTS[found],
        translator,
        Links(base_url=base_url),
        name="Ada Lovelace",
        unsubscribe_url=unsubscribe,
    )
    return render(content, translator)
