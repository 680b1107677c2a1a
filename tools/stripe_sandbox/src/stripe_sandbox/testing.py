"""Helpers for driving the sandbox from tests: a checkout journey, the clock, cards.

Used by this package's tests and by end-to-end tests elsewhere; nothing in the
sandbox itself imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import stripe
import uvicorn
from fastapi import FastAPI, Request, Response

from stripe_sandbox.cards import CARD_DECLINED, CARD_OK, CARD_REQUIRES_ACTION

API_KEY = "sk_test_sandbox"
DAY = 86_400

__all__ = [
    "API_KEY",
    "CARD_DECLINED",
    "CARD_OK",
    "CARD_REQUIRES_ACTION",
    "DAY",
    "Journey",
    "Receiver",
    "expanded",
    "present",
    "serve_app",
    "serve_receiver",
    "stripe_id",
]

T = TypeVar("T")


def expanded(value: str | T | None, kind: type[T]) -> T:
    """An expandable field the request expanded: the ``kind`` object, not its id or null.

    The SDK types such a field ``str | Object | None``; this is the one place a test
    narrows it, and a field that came back unexpanded fails here by name.
    """
    if not isinstance(value, kind):
        raise AssertionError(f"expected an expanded {kind.__name__}, got {value!r}")
    return value


def present(value: T | None) -> T:
    """A field Stripe may leave null that this step of the journey must have filled."""
    if value is None:
        raise AssertionError("expected a value, got None")
    return value


def stripe_id(value: str | stripe.StripeObject | None) -> str:
    """The id of an expandable field, expanded or not."""
    if isinstance(value, str):
        return value
    found = getattr(value, "id", None)
    if not isinstance(found, str):
        raise AssertionError(f"expected an id or an object with one, got {value!r}")
    return found


class Journey:
    """Steps a user or an operator takes, through the SDK and the hosted pages."""

    def __init__(self, client: stripe.StripeClient, http: httpx.AsyncClient) -> None:
        self.client = client
        self.http = http

    async def price(self, lookup_key: str) -> Any:
        prices = await self.client.v1.prices.list_async(params={"lookup_keys": [lookup_key]})
        return prices.data[0]

    async def checkout(
        self, lookup_key: str, *, trial_days: int | None = None, **extra: Any
    ) -> Any:
        price = await self.price(lookup_key)
        customer = await self.client.v1.customers.create_async(
            params={"email": "owner@example.com", "metadata": {"tenant_id": "t-1"}}
        )
        params: Any = {
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.example/billing",
            "client_reference_id": "t-1",
            "metadata": {"tenant_id": "t-1"},
            "subscription_data": {"metadata": {"tenant_id": "t-1"}},
            **extra,
        }
        if trial_days:
            params["subscription_data"]["trial_period_days"] = trial_days
        return await self.client.v1.checkout.sessions.create_async(params=params)

    async def pay(self, session: Any, card: str = CARD_OK) -> httpx.Response:
        """Submit the hosted checkout page; 3155 answers 303 to the authentication step."""
        return await self.http.post(f"/checkout/{session.id}/pay", data={"card": card})

    async def authenticate(self, session: Any, result: str = "complete") -> httpx.Response:
        """Complete (or ``fail``) the 3D Secure step a card such as 3155 asks for."""
        return await self.http.post(f"/checkout/{session.id}/authenticate", data={"result": result})

    async def subscribe(
        self, lookup_key: str, *, trial_days: int | None = None, card: str = CARD_OK
    ) -> Any:
        session = await self.checkout(lookup_key, trial_days=trial_days)
        response = await self.pay(session, card)
        assert response.status_code == 303, response.text
        if response.headers["location"].endswith("/authenticate"):
            response = await self.authenticate(session)
            assert response.status_code == 303, response.text
        done = await self.client.v1.checkout.sessions.retrieve_async(session.id)
        assert isinstance(done.subscription, str)
        return await self.client.v1.subscriptions.retrieve_async(done.subscription)

    async def trial_without_card(
        self, lookup_key: str, *, trial_days: int, end_behavior: str = "pause"
    ) -> Any:
        """A trial checkout that collects no card (``payment_method_collection=if_required``,
        ``trial_settings.end_behavior.missing_payment_method``), completed without one;
        the subscription it made."""
        session = await self.checkout(
            lookup_key,
            payment_method_collection="if_required",
            subscription_data={
                "metadata": {"tenant_id": "t-1"},
                "trial_period_days": trial_days,
                "trial_settings": {"end_behavior": {"missing_payment_method": end_behavior}},
            },
        )
        response = await self.http.post(f"/checkout/{session.id}/pay", data={"card": ""})
        assert response.status_code == 303, response.text
        done = await self.client.v1.checkout.sessions.retrieve_async(session.id)
        assert isinstance(done.subscription, str)
        return await self.client.v1.subscriptions.retrieve_async(done.subscription)

    async def advance(self, seconds: int) -> dict[str, Any]:
        response = await self.http.post("/_sandbox/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def advance_to(self, when: int) -> dict[str, Any]:
        response = await self.http.post("/_sandbox/clock/advance", json={"to": when})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def event_types(self, **params: Any) -> list[str]:
        query: Any = {"limit": 100, **params}
        events = await self.client.v1.events.list_async(params=query)
        return [e.type for e in reversed(events.data)]


@dataclass
class Receiver:
    """Collects webhook deliveries; ``fail_next`` answers 500 to that many requests."""

    url: str = ""
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_next: int = 0
    delay: float = 0.0
    received: asyncio.Event = field(default_factory=asyncio.Event)  # set on each delivery

    def reset(self) -> None:
        self.deliveries.clear()
        self.fail_next = 0
        self.delay = 0.0
        self.received.clear()


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def serve_receiver() -> AsyncIterator[Receiver]:
    """A webhook endpoint on a free port that records what it receives."""
    rec = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        if rec.delay:
            await asyncio.sleep(rec.delay)
        if rec.fail_next > 0:
            rec.fail_next -= 1
            return Response(status_code=500)
        rec.deliveries.append((dict(request.headers), await request.body()))
        rec.received.set()
        return Response(status_code=200)

    async with serve_app(app) as url:
        rec.url = f"{url}/hook"
        yield rec
