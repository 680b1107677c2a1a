"""The one reading of Stripe objects into our terms (architecture section 8.1).

Plain dicts in (a webhook's ``data.object``, or an SDK object's ``to_dict()`` at the
adapter edge), domain values out; no I/O. The rules it applies (provisioning, trial,
plan of a price, pending change) are ``billing_domain.stripe_rules``.
"""

from billing_platform.stripe_reading.checkout_session import (
    CheckoutSessionReading,
    read_checkout_session,
)
from billing_platform.stripe_reading.customer import CustomerReading, read_customer
from billing_platform.stripe_reading.fields import customer_tenant, id_of
from billing_platform.stripe_reading.invoice import (
    InvoiceReading,
    UpcomingInvoiceReading,
    read_invoice,
    read_upcoming_invoice,
    tenant_named_by,
)
from billing_platform.stripe_reading.payment_attempt import (
    PaymentAttemptReading,
    read_latest_payment_attempt,
)
from billing_platform.stripe_reading.payment_method import CardSummary, read_payment_method
from billing_platform.stripe_reading.price import PriceCatalog, PriceReading, read_price
from billing_platform.stripe_reading.subscription import (
    SubscriptionReading,
    read_snapshot,
    read_subscription,
)

__all__ = [
    "CardSummary",
    "CheckoutSessionReading",
    "CustomerReading",
    "InvoiceReading",
    "PaymentAttemptReading",
    "PriceCatalog",
    "PriceReading",
    "SubscriptionReading",
    "UpcomingInvoiceReading",
    "customer_tenant",
    "id_of",
    "read_checkout_session",
    "read_customer",
    "read_invoice",
    "read_latest_payment_attempt",
    "read_payment_method",
    "read_price",
    "read_snapshot",
    "read_subscription",
    "read_upcoming_invoice",
    "tenant_named_by",
]
