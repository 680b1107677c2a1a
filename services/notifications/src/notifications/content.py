"""What each kind of mail says, in the tenant's language: subject, lines and buttons.

Built from the facts the send log keeps (amounts in minor units, ISO dates) and the
links of the billing page; ``rendering`` lays it out as HTML and plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifications.i18n import Translator
from notifications.kinds import MailKind
from notifications.ports import Facts

BILLING_PAGE = "/settings/billing"


@dataclass(frozen=True, kw_only=True)
class Button:
    label: str
    url: str


@dataclass(frozen=True, kw_only=True)
class MailContent:
    kind: MailKind
    language: str
    subject: str
    heading: str
    paragraphs: tuple[str, ...]
    buttons: tuple[Button, ...] = ()
    unsubscribe_url: str | None = None
    footer: str = ""
    greeting: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Links:
    base_url: str

    def page(self, anchor: str = "") -> str:
        return f"{self.base_url}{BILLING_PAGE}{anchor}"


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _plan(value: object) -> str:
    return str(value or "").capitalize()


Body = tuple[str, str, tuple[str, ...], tuple[Button, ...]]
Composer = Callable[[Facts, Translator, Links], Body]


def _payment_failed(f: Facts, _: Translator, links: Links) -> Body:
    amount = _.money(int(f.get("amount", 0)), str(f.get("currency", "usd")))
    lines = [_("We could not take your payment of %(amount)s.", amount=amount)]
    lines.append(_("This was attempt %(attempt)s.", attempt=f.get("attempt", 1)))
    nxt = _when(f.get("next_attempt"))
    if nxt is not None:
        lines.append(_("We will try again on %(date)s.", date=_.date(nxt)))
    else:
        lines.append(_("We will not try again on our own: please pay now to keep your plan."))
    pay_url = str(f.get("hosted_invoice_url") or links.page("?pay=now"))
    buttons = (
        Button(label=_("Pay now"), url=pay_url),
        Button(label=_("Update card"), url=links.page("#payment-methods")),
    )
    return (
        _("Your payment of %(amount)s failed", amount=amount),
        _("Your payment failed"),
        tuple(lines),
        buttons,
    )


def _payment_recovered(f: Facts, _: Translator, links: Links) -> Body:
    amount = _.money(int(f.get("amount", 0)), str(f.get("currency", "usd")))
    return (
        _("Your payment of %(amount)s went through", amount=amount),
        _("Thank you, your payment went through"),
        (
            _(
                "We received your payment of %(amount)s. Your plan carries on as before.",
                amount=amount,
            ),
        ),
        (Button(label=_("View billing"), url=links.page()),),
    )


def _cancellation_scheduled(f: Facts, _: Translator, links: Links) -> Body:
    ends = _.date(_when(f.get("ends_at")))
    return (
        _("Your %(plan)s plan ends on %(date)s", plan=_plan(f.get("plan")), date=ends),
        _("Your subscription is set to end"),
        (
            _(
                "Your %(plan)s plan stays active until %(date)s, then it ends.",
                plan=_plan(f.get("plan")),
                date=ends,
            ),
            _("Changed your mind? You can resume it any time before then."),
        ),
        (Button(label=_("Resume subscription"), url=links.page("#resume")),),
    )


def _subscription_ended(f: Facts, _: Translator, links: Links) -> Body:
    return (
        _("Your %(plan)s plan has ended", plan=_plan(f.get("plan"))),
        _("Your subscription has ended"),
        (
            _(
                "Your %(plan)s plan ended on %(date)s. You are now on the free plan.",
                plan=_plan(f.get("plan")),
                date=_.date(_when(f.get("ended_at"))),
            ),
        ),
        (Button(label=_("Choose a plan"), url=f"{links.base_url}/pricing"),),
    )


def _trial_ending(f: Facts, _: Translator, links: Links) -> Body:
    ends = _.date(_when(f.get("trial_end")))
    lines = [_("Your %(plan)s trial ends on %(date)s.", plan=_plan(f.get("plan")), date=ends)]
    if f.get("has_card"):
        lines.append(_("Your card on file will be charged then; nothing to do."))
        buttons = (Button(label=_("View billing"), url=links.page()),)
    else:
        lines.append(_("Add a card to keep your plan when the trial ends."))
        buttons = (Button(label=_("Add a card"), url=links.page("#payment-methods")),)
    return (
        _("Your trial ends on %(date)s", date=ends),
        _("Your trial is ending soon"),
        tuple(lines),
        buttons,
    )


def _trial_extended(f: Facts, _: Translator, links: Links) -> Body:
    ends = _.date(_when(f.get("trial_end")))
    return (
        _("Your trial now ends on %(date)s", date=ends),
        _("Your trial was extended"),
        (_("Good news: your trial was extended until %(date)s.", date=ends),),
        (Button(label=_("View billing"), url=links.page()),),
    )


def _plan_changed(f: Facts, _: Translator, links: Links) -> Body:
    old, new = _plan(f.get("from_plan")), _plan(f.get("to_plan"))
    if f.get("effective") == "now":
        line = _("You are now on the %(new)s plan (was %(old)s).", new=new, old=old)
    else:
        when = _.date(_when(f.get("effective_at")))
        line = _("You move from %(old)s to %(new)s on %(date)s.", old=old, new=new, date=when)
    return (
        _("Your plan changes to %(plan)s", plan=new),
        _("Your plan changed"),
        (line,),
        (Button(label=_("View billing"), url=links.page()),),
    )


def _upcoming_renewal(f: Facts, _: Translator, links: Links) -> Body:
    amount = _.money(int(f.get("amount", 0)), str(f.get("currency", "usd")))
    when = _.date(_when(f.get("renews_at")))
    if f.get("interval") == "month":
        line = _(
            "On %(date)s we will charge %(amount)s for the next month.", date=when, amount=amount
        )
    else:
        line = _(
            "On %(date)s we will charge %(amount)s for the next year.", date=when, amount=amount
        )
    return (
        _("Your subscription renews on %(date)s", date=when),
        _("Your subscription renews soon"),
        (line,),
        (Button(label=_("Review billing"), url=links.page()),),
    )


def _card_expiring(f: Facts, _: Translator, links: Links) -> Body:
    card = f"{str(f.get('brand') or '').capitalize()} •••• {f.get('last4') or ''}".strip()
    expiry = f"{int(f.get('exp_month') or 0):02d}/{f.get('exp_year') or ''}"
    return (
        _("Your card ending %(last4)s expires soon", last4=f.get("last4") or ""),
        _("Your card expires soon"),
        (
            _(
                "Your %(card)s expires at the end of %(expiry)s. "
                "Update it to avoid a failed payment.",
                card=card,
                expiry=expiry,
            ),
        ),
        (Button(label=_("Update card"), url=links.page("#payment-methods")),),
    )


COMPOSERS: dict[MailKind, Composer] = {
    MailKind.PAYMENT_FAILED: _payment_failed,
    MailKind.PAYMENT_RECOVERED: _payment_recovered,
    MailKind.CANCELLATION_SCHEDULED: _cancellation_scheduled,
    MailKind.SUBSCRIPTION_ENDED: _subscription_ended,
    MailKind.TRIAL_ENDING: _trial_ending,
    MailKind.TRIAL_EXTENDED: _trial_extended,
    MailKind.PLAN_CHANGED: _plan_changed,
    MailKind.UPCOMING_RENEWAL: _upcoming_renewal,
    MailKind.CARD_EXPIRING: _card_expiring,
}


def compose(
    kind: MailKind,
    facts: Facts,
    translator: Translator,
    links: Links,
    *,
    name: str | None = None,
    unsubscribe_url: str | None = None,
) -> MailContent:
    _ = translator
    subject, heading, paragraphs, buttons = COMPOSERS[kind](facts, translator, links)
    return MailContent(
        kind=kind,
        language=translator.language,
        subject=subject,
        heading=heading,
        paragraphs=paragraphs,
        buttons=buttons,
        unsubscribe_url=unsubscribe_url,
        greeting=_("Hello %(name)s,", name=name) if name else _("Hello,"),
        footer=(
            _("You can switch these emails off.")
            if unsubscribe_url
            else _("This email is about your billing and cannot be switched off.")
        ),
    )
