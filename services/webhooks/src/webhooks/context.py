"""What the HTTP layer of the webhooks service is handed by ``bootstrap``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from webhooks.ports import Clock, StripeEventStore, UnitOfWork


@dataclass(frozen=True, kw_only=True)
class WebhooksContext:
    uow_factory: Callable[[], UnitOfWork]
    store: StripeEventStore
    clock: Clock
    webhook_secrets: Sequence[str]
