"""What the notifications routes hand to the use cases: built by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.clock import Clock

from notifications.config import NotificationsConfig
from notifications.ports import UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class NotificationsContext:
    """Installed by ``bootstrap.lifespan_for``; routes read it with ``context_of``."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    config: NotificationsConfig
