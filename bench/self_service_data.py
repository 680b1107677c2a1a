"""The self-service projections of the read benchmark (issue 21): cards, the default
method and invoices of every paid tenant, written with COPY."""

from __future__ import annotations

from collections.abc import Sequence

CARDS_PER_TENANT, INVOICES_PER_TENANT = 2, 12


async def seed_self_service(conn: object, paid: Sequence[str]) -> None:
    """Two cards (one default) and a year of monthly invoices per paid tenant."""
    import datetime

    import asyncpg

    assert isinstance(conn, asyncpg.Connection)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cards, defaults, invoices = [], [], []
    for tenant in paid:
        for n in range(CARDS_PER_TENANT):
            cards.append(
                (tenant, f"pm_{tenant}_{n}", f"cus_{tenant}", "visa", f"42{n:02d}", 12, 2030 + n)
            )
        defaults.append((tenant, f"cus_{tenant}", f"pm_{tenant}_0"))
        for month in range(INVOICES_PER_TENANT):
            at = start + datetime.timedelta(days=30 * month)
            invoices.append(
                (
                    tenant,
                    f"in_{tenant}_{month}",
                    f"cus_{tenant}",
                    f"N-{month:04d}",
                    "paid",
                    2900,
                    2900,
                    "usd",
                    at,
                    at + datetime.timedelta(days=30),
                    at,
                    f"https://invoice.stripe.test/{tenant}/{month}",
                    None,
                )
            )
    await conn.copy_records_to_table(
        "payment_methods",
        schema_name="subscriptions",
        records=cards,
        columns=[
            "tenant_id",
            "payment_method_id",
            "stripe_customer_id",
            "brand",
            "last4",
            "exp_month",
            "exp_year",
        ],
    )
    await conn.copy_records_to_table(
        "payment_method_defaults",
        schema_name="subscriptions",
        records=defaults,
        columns=["tenant_id", "stripe_customer_id", "default_payment_method_id"],
    )
    await conn.copy_records_to_table(
        "invoices",
        schema_name="subscriptions",
        records=invoices,
        columns=[
            "tenant_id",
            "invoice_id",
            "stripe_customer_id",
            "number",
            "status",
            "total",
            "amount_due",
            "currency",
            "period_start",
            "period_end",
            "invoice_created",
            "hosted_invoice_url",
            "invoice_pdf",
        ],
    )
    for table in ("payment_methods", "payment_method_defaults", "invoices"):
        await conn.execute(f"ANALYZE subscriptions.{table}")
