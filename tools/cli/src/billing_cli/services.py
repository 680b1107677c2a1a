"""The services this command can run, migrate and wire together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import analytics.main
import analytics.schema
import checkout.main
import checkout.schema
import notifications.main
import notifications.schema
import subscriptions.main
import subscriptions.schema
import webhooks.main
import webhooks.schema
from billing_platform.messaging.message import MessageBus
from billing_platform.migrations import MigrationSource
from billing_platform.settings import BillingSettings
from fastapi import FastAPI


class AppFactory(Protocol):
    def __call__(self, settings: BillingSettings, *, bus: MessageBus | None = None) -> FastAPI: ...


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    create_app: AppFactory
    migrations: MigrationSource
    default_port: int
    # Path prefixes the gateway sends to this service (as deploy/gateway/nginx.conf does).
    routes: tuple[str, ...]


SERVICES: dict[str, ServiceSpec] = {
    "checkout": ServiceSpec(
        name="checkout",
        create_app=checkout.main.create_app,
        migrations=checkout.schema.MIGRATIONS,
        default_port=checkout.schema.DEFAULT_PORT,
        routes=(
            "/api/billing/checkout",
            "/api/billing/verify-session",
            "/api/billing/plans",
            "/api/billing/payment-methods/setup",
        ),
    ),
    "subscriptions": ServiceSpec(
        name="subscriptions",
        create_app=subscriptions.main.create_app,
        migrations=subscriptions.schema.MIGRATIONS,
        default_port=subscriptions.schema.DEFAULT_PORT,
        routes=(
            "/api/billing/subscription",
            "/api/billing/proration",
            "/api/billing/payment-methods",
            "/api/billing/invoices",
            "/api/billing/admin/",
            "/api/billing/entitlements",
        ),
    ),
    "webhooks": ServiceSpec(
        name="webhooks",
        create_app=webhooks.main.create_app,
        migrations=webhooks.schema.MIGRATIONS,
        default_port=webhooks.schema.DEFAULT_PORT,
        routes=("/api/webhooks/",),
    ),
    "analytics": ServiceSpec(
        name="analytics",
        create_app=analytics.main.create_app,
        migrations=analytics.schema.MIGRATIONS,
        default_port=analytics.schema.DEFAULT_PORT,
        routes=("/api/billing/admin/metrics",),
    ),
    "notifications": ServiceSpec(
        name="notifications",
        create_app=notifications.main.create_app,
        migrations=notifications.schema.MIGRATIONS,
        default_port=notifications.schema.DEFAULT_PORT,
        routes=("/api/notifications/",),
    ),
}
