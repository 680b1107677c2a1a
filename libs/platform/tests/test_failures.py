"""The one classification of processing failures: transient or permanent."""

from __future__ import annotations

import socket

import asyncpg
import pytest
from billing_domain.errors import (
    Conflict,
    GatewayUnavailable,
    NotFound,
    RateLimited,
    RuleViolated,
)
from billing_platform.failures import failure_class, is_transient
from billing_platform.messaging.message import PoisonMessage
from billing_platform.messaging.retry_lane import delay_for, transient_attempts

TRANSIENT = [
    GatewayUnavailable("Stripe is down"),
    RateLimited("over budget", retry_after=1.0),
    asyncpg.exceptions.ConnectionDoesNotExistError("gone"),
    asyncpg.exceptions.CannotConnectNowError("starting up"),
    asyncpg.exceptions.AdminShutdownError("shutting down"),
    asyncpg.exceptions.TooManyConnectionsError("too many"),
    asyncpg.exceptions.LockNotAvailableError("lock timeout"),
    asyncpg.exceptions.QueryCanceledError("statement timeout"),
    asyncpg.exceptions.SerializationError("could not serialize"),
    asyncpg.exceptions.DeadlockDetectedError("deadlock"),
    asyncpg.InterfaceError("connection is closed"),
    ConnectionRefusedError(),
    ConnectionResetError(),
    OSError("network unreachable"),
    socket.gaierror(-3, "Temporary failure in name resolution"),
    TimeoutError(),
]

PERMANENT = [
    PoisonMessage("not JSON"),
    RuleViolated("unknown price"),
    NotFound("no such subscription"),
    Conflict("idempotency clash"),
    KeyError("plan"),
    ValueError("bad"),
    RuntimeError("bug"),
    asyncpg.exceptions.UniqueViolationError("duplicate key"),
    asyncpg.exceptions.UndefinedColumnError("no such column"),
    FileNotFoundError("/etc/billing/key.pem"),
    PermissionError("/etc/billing/key.pem"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_outages_and_contention_are_transient(exc: Exception) -> None:
    assert is_transient(exc)
    assert failure_class(exc) == "transient"


@pytest.mark.parametrize("exc", PERMANENT, ids=lambda e: type(e).__name__)
def test_everything_else_is_permanent(exc: Exception) -> None:
    assert not is_transient(exc)
    assert failure_class(exc) == "permanent"


def test_an_error_can_declare_itself_retryable() -> None:
    class StripeHiccupError(Exception):
        retryable = True

    class NotReallyError(Exception):
        retryable = "yes"  # only True counts

    assert is_transient(StripeHiccupError())
    assert not is_transient(NotReallyError())


def test_backoff_grows_then_stays_at_its_cap_forever() -> None:
    assert [delay_for(n) for n in range(1, 8)] == [1, 3, 10, 30, 60, 60, 60]
    assert delay_for(10**9) == 60
    assert delay_for(0) == delay_for(-3) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(None, 0), ({}, 0), ({"x-billing-transient-attempts": 4}, 4)]
    + [({"x-billing-transient-attempts": bad}, 0) for bad in (-1, "3", 2.5, None, [1])],
)
def test_a_hostile_attempts_header_counts_as_none(headers: object, expected: int) -> None:
    assert transient_attempts(headers) == expected  # type: ignore[arg-type]
