"""Domain errors: the only exceptions use cases raise on purpose.

Each maps to one HTTP status in ``billing_platform.errors`` (one place):
NotFound 404, Conflict 409, Forbidden 403, RuleViolated 422,
GatewayUnavailable 503, RateLimited 429 (with ``Retry-After``). ``code``
is the stable, machine-readable string of the JSON error body; ``message``
is for humans.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain and the use cases raise on purpose."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class RuleViolated(DomainError):
    code = "rule_violated"


class GatewayUnavailable(DomainError):
    """An upstream (Stripe, the broker) is down or rate limiting: retryable."""

    code = "gateway_unavailable"
    retryable = True


class RateLimited(DomainError):
    """Over a budget (a tenant's share of Stripe): retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
