"""What analytics' routes hand to the use cases: the ports, built by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.clock import Clock

from analytics.ports import MetricsReader, UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class AnalyticsContext:
    """Installed by ``bootstrap.lifespan_for``; routes read it with ``context_of``."""

    uow_factory: UnitOfWorkFactory
    reader: MetricsReader
    clock: Clock
