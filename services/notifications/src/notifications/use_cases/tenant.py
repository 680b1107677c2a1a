"""A tenant's email preferences and the one-click unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.auth import Action, Principal, authorize
from billing_domain.clock import Clock
from billing_domain.errors import Conflict, RuleViolated

from notifications.kinds import OPTIONAL_KINDS, MailKind, kind_named
from notifications.ports import UnitOfWorkFactory
from notifications.unsubscribe_tokens import UnsubscribeClaim


@dataclass(frozen=True, kw_only=True)
class Preferences:
    tenant_id: str
    enabled: dict[MailKind, bool]


async def read_preferences(principal: Principal, uow_factory: UnitOfWorkFactory) -> Preferences:
    authorize(principal, Action.READ_NOTIFICATIONS, tenant_id=principal.tenant_id)
    async with uow_factory() as uow:
        disabled = await uow.preferences.disabled(principal.tenant_id)
    return Preferences(
        tenant_id=principal.tenant_id,
        enabled={kind: kind not in disabled for kind in sorted(OPTIONAL_KINDS)},
    )


async def change_preferences(
    principal: Principal, changes: dict[str, bool], uow_factory: UnitOfWorkFactory, clock: Clock
) -> Preferences:
    authorize(principal, Action.MANAGE_NOTIFICATIONS, tenant_id=principal.tenant_id)
    parsed: dict[MailKind, bool] = {}
    for name, enabled in changes.items():
        kind = kind_named(name)
        if kind is None:
            raise RuleViolated(f"unknown kind of email: {name[:64]!r}", code="unknown_kind")
        if kind not in OPTIONAL_KINDS:
            raise RuleViolated(f"{kind.value} emails cannot be switched off", code="critical_kind")
        parsed[kind] = enabled
    async with uow_factory() as uow:
        for kind, enabled in parsed.items():
            await uow.preferences.set(
                principal.tenant_id, kind, enabled=enabled, by=principal.user_id, now=clock.now()
            )
        await uow.commit()
    return await read_preferences(principal, uow_factory)


async def unsubscribe(
    claim: UnsubscribeClaim, uow_factory: UnitOfWorkFactory, clock: Clock
) -> None:
    """Switch the claim's kind off for its tenant; a token works once (``Conflict`` after)."""
    now = clock.now()
    async with uow_factory() as uow:
        if not await uow.unsubscribes.use(claim.token_id, tenant_id=claim.tenant_id, now=now):
            raise Conflict("this unsubscribe link was used already", code="token_used")
        await uow.preferences.set(
            claim.tenant_id, claim.kind, enabled=False, by="unsubscribe-link", now=now
        )
        await uow.commit()
